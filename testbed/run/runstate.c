/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/owner.h"
#include "run/runstate.h"
#include "backend/owner_remote.h"
#include "sys/ownmark.h"

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

/* The next id to try: those of RS_IDS_ENV first (tests), then random ones. */
static void next_id(char id[RS_ID_LEN + 1], int attempt)
{
	const char *list = getenv(RS_IDS_ENV);
	uint16_t r;

	for (int i = 0; list && *list; i++) {
		size_t len = strcspn(list, ",");

		if (i == attempt && len == RS_ID_LEN) {
			snprintf(id, RS_ID_LEN + 1, "%.*s", (int)len, list);
			if (owner_id_valid(id))
				return;
		}
		list += len + (list[len] == ',');
	}
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint16_t)(getpid() ^ time(NULL) ^ attempt);
	snprintf(id, RS_ID_LEN + 1, "cb%04x", r);
}

/*
 * One attempt at claiming id: the state file with O_EXCL, then the directory
 * with mkdir; either existing means another run (or a look-alike) has it.
 * 0 claimed, -EEXIST try another, other -errno fail.
 */
static int claim(struct runstate *rs, const char *nonce, char *err, size_t errlen)
{
	int fd, ret;

	if (owner_id_in_use(rs->id) || owner_init(&rs->owner, rs->id, nonce) < 0)
		return -EEXIST;
	snprintf(rs->path, sizeof(rs->path), RS_DIR "/%s.json", rs->id);
	fd = open(rs->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		if (ret != -EEXIST)
			snprintf(err, errlen, "creating %s: %s", rs->path, strerror(-ret));
		return ret;
	}
	close(fd);
	ret = owner_claim_dir(&rs->owner, err, errlen);
	if (ret < 0)
		unlink(rs->path);
	return ret;
}

static int claim_id(struct runstate *rs, const char *nonce, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 200; attempt++) {
		int ret;

		next_id(rs->id, attempt);
		ret = claim(rs, nonce, err, errlen);
		if (ret != -EEXIST)
			return ret;
	}
	snprintf(err, errlen, "no free run id: 200 tried, each in use (%s, namespaces, links, pins or domains)",
		 RS_DIR);
	return -EBUSY;
}

int rs_create(struct runstate *rs, const char *scenario_path, const char *command, char *err,
	      size_t errlen)
{
	char started[32], nonce[33];
	time_t now = time(NULL);
	int ret;

	memset(rs, 0, sizeof(*rs));
	if (mkdir(RS_DIR, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", RS_DIR, strerror(errno));
		return ret;
	}
	if ((ret = owner_nonce(nonce)) < 0) {
		snprintf(err, errlen, "run id: no random nonce: %s", strerror(-ret));
		return ret;
	}
	if ((ret = claim_id(rs, nonce, err, errlen)) < 0)
		return ret;
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	rs->doc = json_pack("{s:s, s:s, s:i, s:I, s:i, s:s, s:s, s:s, s:[], s:[]}", "id", rs->id,
			    "nonce", nonce, "pid", (int)getpid(), "pid_start",
			    (json_int_t)proc_start_time(getpid()), "uid", (int)getuid(), "scenario",
			    scenario_path, "command", command, "started", started, "nodes",
			    "functions");
	if (!rs->doc) {
		snprintf(err, errlen, "run %s: out of memory", rs->id);
		ret = -ENOMEM;
	} else if ((ret = write_doc(rs)) < 0) {
		snprintf(err, errlen, "writing %s: %s", rs->path, strerror(-ret));
	}
	if (ret < 0) {
		owner_teardown(&rs->owner, NULL, 0, false, NULL, NULL);
		unlink(rs->path);
		json_decref(rs->doc);
		rs->doc = NULL;
		return ret;
	}
	/* From here on, whatever this process creates is the run's. */
	ownmark_set(rs->owner.mark, rs->owner.dir);
	return 0;
}

void rs_make_current(const struct runstate *rs)
{
	ownmark_set(rs->owner.mark, rs->owner.dir);
}

int rs_open(struct runstate *rs, const char *id, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *nonce;

	memset(rs, 0, sizeof(*rs));
	if (!owner_id_valid(id)) {
		snprintf(err, errlen, "'%s' is not a run id (cb followed by 4 hex digits)", id);
		return -EINVAL;
	}
	snprintf(rs->id, sizeof(rs->id), "%s", id);
	snprintf(rs->path, sizeof(rs->path), RS_DIR "/%s.json", id);
	if (access(rs->path, F_OK) < 0 && errno == ENOENT) {
		snprintf(err, errlen,
			 "no run %s: no state file %s, so nothing named %s-* can be told to be its own; nothing removed",
			 id, rs->path, id);
		return -ENOENT;
	}
	rs->doc = json_load_file(rs->path, 0, &jerr);
	if (!json_is_object(rs->doc)) {
		snprintf(err, errlen, "%s: %s", rs->path, rs->doc ? "not an object" : jerr.text);
		json_decref(rs->doc);
		rs->doc = NULL;
		return -EINVAL;
	}
	/* A state of an older version has no nonce: none of it is provably ours. */
	nonce = json_string_value(json_object_get(rs->doc, "nonce"));
	if (nonce && owner_init(&rs->owner, id, nonce) < 0)
		memset(&rs->owner, 0, sizeof(rs->owner));
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

bool rs_owner_alive(const struct runstate *rs)
{
	pid_t pid = rs_owner(rs);
	json_t *st = json_object_get(rs->doc, "pid_start");

	if (!rs_pid_alive(pid))
		return false;
	/* An older state without the start time: the pid is all there is. */
	return !json_is_integer(st) ||
	       proc_start_time(pid) == (unsigned long long)json_integer_value(st);
}

const char *rs_state_name(const struct runstate *rs)
{
	if (rs_owner(rs) == 0)
		return "up";
	return rs_owner_alive(rs) ? "running" : "orphaned";
}

bool rs_down_allowed(const struct runstate *rs, bool named, bool force, char *why,
		     size_t whylen)
{
	json_t *uid = json_object_get(rs->doc, "uid");
	pid_t owner = rs_owner(rs);

	if (owner != 0 && owner != getpid() && rs_owner_alive(rs)) {
		if (named && force)
			return true;
		if (named)
			snprintf(why, whylen,
				 "run %s is still owned by live process %d; stop it (Ctrl-C) or use --force",
				 rs->id, (int)owner);
		else
			snprintf(why, whylen, "its owner (pid %d) is running", (int)owner);
		return false;
	}
	if (named || owner != 0)
		return true;
	/* A bare `down` takes the caller's own `up` runs only. */
	if (json_is_integer(uid) && json_integer_value(uid) == (json_int_t)getuid())
		return true;
	if (json_is_integer(uid))
		snprintf(why, whylen, "an `up` run of uid %d; name it to remove it",
			 (int)json_integer_value(uid));
	else
		snprintf(why, whylen, "an `up` run of an unknown user; name it to remove it");
	return false;
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
	owner_say(log, arg, "stopped function %s (pid %d)",
		  json_string_value(json_object_get(fn, "node")), (int)pid);
}

/* The pin directories the state names: a node's, and a proxy's way back
 * ("<pins>_<peer ifname>"). */
static size_t recorded_pins(const struct runstate *rs, char pins[][96], size_t max)
{
	size_t i, n = 0;
	json_t *node;

	json_array_foreach(json_object_get(rs->doc, "nodes"), i, node) {
		const char *pin = json_string_value(json_object_get(node, "pins"));
		const char *peer = json_string_value(
			json_object_get(json_object_get(node, "peer_link"), "ifname"));

		/* Only names of this run: a state edited by hand names nothing else. */
		if (!pin || strncmp(pin, rs->owner.prefix, strlen(rs->owner.prefix)) ||
		    strchr(pin, '/') || n + 2 > max)
			continue;
		snprintf(pins[n++], sizeof(pins[0]), "%s", pin);
		if (peer && !strchr(peer, '/'))
			snprintf(pins[n++], sizeof(pins[0]), "%.40s_%.40s", pin, peer);
	}
	return n;
}

static int teardown(struct runstate *rs, bool keep_state, void (*log)(const char *what, void *arg),
		    void *arg)
{
	char pins[64][96], *pinv[64];
	size_t i, npins;
	json_t *fn;
	int failures = 0;

	json_array_foreach(json_object_get(rs->doc, "functions"), i, fn)
		kill_function(fn, log, arg);
	if (*rs->owner.mark) {
		npins = recorded_pins(rs, pins, 64);
		for (i = 0; i < npins; i++)
			pinv[i] = pins[i];
		failures += owner_teardown(&rs->owner, pinv, npins, keep_state, log, arg);
		/* Hosts reached over ssh: their domains and the agent's links. */
		failures += owner_remote_teardown(&rs->owner, json_object_get(rs->doc, "remote_hosts"),
						  log, arg);
	} else {
		owner_say(log, arg, "run %s: its state has no ownership mark (an older version); only its functions were stopped",
			  rs->id);
	}
	if (keep_state) {
		json_object_set_new(rs->doc, "functions", json_array());
		json_object_set_new(rs->doc, "nodes", json_array());
		if (write_doc(rs) < 0)
			failures++;
		return failures;
	}
	if (failures == 0 && unlink(rs->path) < 0 && errno != ENOENT)
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
