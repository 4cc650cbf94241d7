/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cadeia_stage.h"
#include "sys/netns.h"
#include "sys/nl.h"
#include "run/runstate.h"

void rs_name(const struct runstate *rs, const char *suffix, char *out, size_t len)
{
	snprintf(out, len, "%s-%s", rs->id, suffix);
}

static int write_doc(struct runstate *rs)
{
	char tmp[300];

	/* Atomic replace: a crash never leaves a half-written state file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", rs->path);
	if (json_dump_file(rs->doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) < 0)
		return -EIO;
	if (rename(tmp, rs->path) < 0)
		return -errno;
	return 0;
}

static bool id_in_use(const char *id)
{
	char path[256], prefix[16], err[256], **names = NULL;
	struct nl_link *links = NULL;
	size_t n = 0;
	bool used = false;
	DIR *d;

	snprintf(path, sizeof(path), RS_DIR "/%s.json", id);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(prefix, sizeof(prefix), "%s-", id);
	if (netns_list(prefix, &names, &n, err, sizeof(err)) == 0) {
		used = n > 0;
		netns_names_free(names, n);
	}
	if (!used && nl_link_list(NULL, prefix, &links, &n, err, sizeof(err)) == 0) {
		used = n > 0;
		free(links);
	}
	if (!used && (d = opendir(CADEIA_PIN_ROOT))) {
		struct dirent *de;

		while ((de = readdir(d)))
			if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
				used = true;
		closedir(d);
	}
	return used;
}

int rs_create(struct runstate *rs, const char *scenario_path, const char *command, char *err,
	      size_t errlen)
{
	char started[32];
	time_t now = time(NULL);
	int ret = -1;

	memset(rs, 0, sizeof(*rs));
	if (mkdir(RS_DIR, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", RS_DIR, strerror(errno));
		return ret;
	}
	for (int tries = 0;; tries++) {
		uint16_t r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint16_t)(getpid() ^ now);
		snprintf(rs->id, sizeof(rs->id), "cb%04x", r);
		if (!id_in_use(rs->id))
			break;
		if (tries > 100) {
			snprintf(err, errlen, "no free run id: %s holds too many runs", RS_DIR);
			return -EBUSY;
		}
	}
	snprintf(rs->path, sizeof(rs->path), RS_DIR "/%s.json", rs->id);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	rs->doc = json_pack("{s:s, s:i, s:s, s:s, s:s, s:[], s:[]}", "id", rs->id, "pid",
			    (int)getpid(), "scenario", scenario_path, "command", command,
			    "started", started, "nodes", "functions");
	if (!rs->doc) {
		snprintf(err, errlen, "run %s: out of memory", rs->id);
		return -ENOMEM;
	}
	if ((ret = write_doc(rs)) < 0) {
		snprintf(err, errlen, "writing %s: %s", rs->path, strerror(-ret));
		json_decref(rs->doc);
		rs->doc = NULL;
		return ret;
	}
	return 0;
}

int rs_open(struct runstate *rs, const char *id, char *err, size_t errlen)
{
	json_error_t jerr;

	memset(rs, 0, sizeof(*rs));
	if (strlen(id) != RS_ID_LEN || strncmp(id, "cb", 2) != 0 ||
	    strspn(id + 2, "0123456789abcdef") != 4) {
		snprintf(err, errlen, "'%s' is not a run id (cb followed by 4 hex digits)", id);
		return -EINVAL;
	}
	snprintf(rs->id, sizeof(rs->id), "%s", id);
	snprintf(rs->path, sizeof(rs->path), RS_DIR "/%s.json", id);
	rs->doc = json_load_file(rs->path, 0, &jerr);
	if (!rs->doc) {
		/* A run killed before its first write still owns its prefix. */
		rs->doc = json_pack("{s:s, s:i, s:[], s:[]}", "id", id, "pid", 0, "nodes",
				    "functions");
		if (access(rs->path, F_OK) == 0 || errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", rs->path, jerr.text);
			json_decref(rs->doc);
			rs->doc = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

void rs_close(struct runstate *rs)
{
	json_decref(rs->doc);
	rs->doc = NULL;
}

int rs_set(struct runstate *rs, const char *key, json_t *value)
{
	if (json_object_set_new(rs->doc, key, value) < 0)
		return -ENOMEM;
	return write_doc(rs);
}

static unsigned long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		/* Field 22 (starttime); p points at field 2's end. */
		int field = 2;

		for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
			if (++field == 22) {
				st = strtoull(tok, NULL, 10);
				break;
			}
	}
	fclose(f);
	return st;
}

int rs_add_function(struct runstate *rs, const char *node, pid_t pid)
{
	json_t *fns = json_object_get(rs->doc, "functions");

	json_array_append_new(fns, json_pack("{s:s, s:i, s:I}", "node", node, "pid", (int)pid,
					     "start_time", (json_int_t)proc_start_time(pid)));
	return write_doc(rs);
}

pid_t rs_owner(const struct runstate *rs)
{
	return (pid_t)json_integer_value(json_object_get(rs->doc, "pid"));
}

bool rs_pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static void logf_(void (*log)(const char *, void *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(void (*log)(const char *, void *), void *arg, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log(buf, arg);
}

/* Only a process that is still the one we started: same pid and start time. */
static void kill_function(json_t *fn, void (*log)(const char *, void *), void *arg)
{
	pid_t pid = json_integer_value(json_object_get(fn, "pid"));
	unsigned long long st = json_integer_value(json_object_get(fn, "start_time"));

	if (pid <= 0 || !rs_pid_alive(pid) || proc_start_time(pid) != st)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 50 && rs_pid_alive(pid); i++) {
		waitpid(pid, NULL, WNOHANG);
		usleep(10000);
	}
	if (rs_pid_alive(pid) && proc_start_time(pid) == st)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, WNOHANG);
	logf_(log, arg, "stopped function %s (pid %d)",
	      json_string_value(json_object_get(fn, "node")), (int)pid);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int teardown(struct runstate *rs, bool keep_state, void (*log)(const char *what, void *arg),
		    void *arg)
{
	char prefix[16], err[512], path[512];
	struct nl_link *links = NULL;
	char **names = NULL;
	size_t n = 0, i;
	json_t *fn;
	int failures = 0;
	DIR *d;

	json_array_foreach(json_object_get(rs->doc, "functions"), i, fn)
		kill_function(fn, log, arg);

	snprintf(prefix, sizeof(prefix), "%s-", rs->id);
	/* VMs and their files before the links they use. */
	failures += backend_teardown_prefix(prefix, log, arg);
	/* Stage pins first: cs_detach also removes XDP/tc from live interfaces. */
	d = opendir(CADEIA_PIN_ROOT);
	if (d) {
		struct dirent *de;

		while ((de = readdir(d))) {
			struct cs_err cerr;

			if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
				continue;
			if (cs_detach(de->d_name, &cerr) < 0) {
				logf_(log, arg, "detaching stages of %s: %s", de->d_name, cerr.msg);
				failures++;
			} else {
				logf_(log, arg, "detached stages and removed pins of %s", de->d_name);
			}
		}
		closedir(d);
	}
	if (netns_list(prefix, &names, &n, err, sizeof(err)) == 0) {
		for (i = 0; i < n; i++) {
			if (netns_del(names[i], err, sizeof(err)) < 0) {
				logf_(log, arg, "%s", err);
				failures++;
			} else {
				logf_(log, arg, "deleted netns %s", names[i]);
			}
		}
		netns_names_free(names, n);
	}
	/* Host ends of veths go with their peers; the bridge and strays remain. */
	if (nl_link_list(NULL, prefix, &links, &n, err, sizeof(err)) == 0) {
		for (i = 0; i < n; i++) {
			if (nl_link_del(NULL, links[i].name, err, sizeof(err)) < 0 &&
			    !strstr(err, "No such device")) {
				logf_(log, arg, "%s", err);
				failures++;
			} else {
				logf_(log, arg, "deleted link %s", links[i].name);
			}
		}
		free(links);
	}
	if (keep_state) {
		json_object_set_new(rs->doc, "functions", json_array());
		json_object_set_new(rs->doc, "nodes", json_array());
		if (write_doc(rs) < 0)
			failures++;
		return failures;
	}
	/* The run's own directory: logs of `up`'s functions, OVS state. */
	snprintf(path, sizeof(path), RS_DIR "/%s", rs->id);
	if (nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		logf_(log, arg, "removing %s: %s", path, strerror(errno));
		failures++;
	}
	snprintf(path, sizeof(path), "%s", rs->path);
	if (failures == 0 && unlink(path) < 0 && errno != ENOENT)
		failures++;
	return failures;
}

int rs_teardown(struct runstate *rs, void (*log)(const char *what, void *arg), void *arg)
{
	return teardown(rs, false, log, arg);
}

int rs_clear(struct runstate *rs, void (*log)(const char *what, void *arg), void *arg)
{
	return teardown(rs, true, log, arg);
}

int rs_list(char ***ids, size_t *n)
{
	DIR *d = opendir(RS_DIR);
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **nv;

		if (len != RS_ID_LEN + 5 || strcmp(de->d_name + RS_ID_LEN, ".json") != 0)
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[cnt++] = strndup(de->d_name, RS_ID_LEN);
	}
	closedir(d);
	*ids = v;
	*n = cnt;
	return 0;
}

void rs_list_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}
