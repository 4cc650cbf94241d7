/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Teardown by ownership; why it lives here: owner.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/owner.h"
#include "backend/sff_ovs.h"
#include "cadeia_stage.h"
#include "sys/netns.h"
#include "sys/nl.h"
#include "virt/virt.h"

#define LIBVIRT_LOG_DIR "/var/log/libvirt/qemu"

void owner_say(owner_log_fn log, void *arg, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log(buf, arg);
}

static bool is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

bool owner_id_valid(const char *id)
{
	return id && strncmp(id, "cb", 2) == 0 && is_hex(id + 2, OWNER_ID_LEN - 2);
}

int owner_init(struct owner *o, const char *id, const char *nonce)
{
	memset(o, 0, sizeof(*o));
	if (!owner_id_valid(id) || !nonce || !is_hex(nonce, 32))
		return -EINVAL;
	snprintf(o->id, sizeof(o->id), "%s", id);
	snprintf(o->prefix, sizeof(o->prefix), "%s-", id);
	snprintf(o->mark, sizeof(o->mark), "cadeia-bench:%s:%s", id, nonce);
	snprintf(o->dir, sizeof(o->dir), OWNER_RUN_DIR "/%s", id);
	return 0;
}

int owner_nonce(char nonce[33])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -EIO;
	for (int i = 0; i < 16; i++)
		snprintf(nonce + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static bool dir_has_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d && !found && (de = readdir(d)))
		found = strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return found;
}

static bool domains_with_prefix(const char *prefix)
{
	virConnectPtr conn = NULL;
	char **names = NULL, msg[512];
	int n;

	if (!virt_daemon_answers() || virt_connect(&conn, msg, sizeof(msg)) < 0)
		return false;
	n = virt_domain_list(conn, prefix, &names, msg, sizeof(msg));
	virt_names_free(names, n > 0 ? n : 0);
	virt_disconnect(conn);
	return n != 0; /* a failed listing counts as in use */
}

bool owner_id_in_use(const char *id)
{
	char path[128], prefix[16];
	struct nl_link *links = NULL;
	size_t n = 0;

	snprintf(prefix, sizeof(prefix), "%s-", id);
	snprintf(path, sizeof(path), OWNER_RUN_DIR "/%s.json", id);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), OWNER_RUN_DIR "/%s", id);
	if (access(path, F_OK) == 0)
		return true;
	if (dir_has_prefix(NETNS_RUN_DIR, prefix) || dir_has_prefix(CADEIA_PIN_ROOT, prefix) ||
	    dir_has_prefix(LIBVIRT_LOG_DIR, prefix))
		return true;
	if (nl_link_list(NULL, prefix, &links, &n, NULL, 0) < 0)
		return true;
	free(links);
	return n > 0 || domains_with_prefix(prefix);
}

int owner_claim_dir(const struct owner *o, char *err, size_t errlen)
{
	char path[128], line[OWNMARK_MAX + 1];
	int fd, len, ret = 0;

	if (mkdir(o->dir, 0755) < 0) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", o->dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/owner", o->dir);
	len = snprintf(line, sizeof(line), "%s\n", o->mark);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, len) != len)
		ret = errno ? -errno : -EIO;
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = -errno;
	if (ret < 0) {
		snprintf(err, errlen, "writing %s: %s", path, strerror(-ret));
		unlink(path);
		rmdir(o->dir);
	}
	return ret;
}

/* The run's directory is ours only with our mark in its "owner" file. */
static bool dir_ours(const struct owner *o)
{
	char buf[OWNMARK_MAX + 8] = "";
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/owner", o->dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, o->mark) == 0;
}

/* ---- libvirt domains ------------------------------------------------------- */

bool owner_domain_ours(virDomainPtr dom, const struct owner *o)
{
	char *md = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, OWNMARK_URI, 0);
	char want[OWNMARK_MAX + 4];
	bool ours;

	snprintf(want, sizeof(want), ">%s<", o->mark);
	ours = md && strstr(md, want);
	free(md);
	return ours;
}

static void remove_domain_log(const char *name, owner_log_fn log, void *arg)
{
	char path[512];

	snprintf(path, sizeof(path), LIBVIRT_LOG_DIR "/%s.log", name);
	if (unlink(path) == 0)
		owner_say(log, arg, "removed %s", path);
}

/* One domain named with our prefix: destroyed if it is ours. */
static int domain_teardown(virDomainPtr dom, const struct owner *o, owner_log_fn log, void *arg)
{
	const char *name = virDomainGetName(dom);
	char msg[512];
	int r;

	if (virDomainIsPersistent(dom) != 0) {
		owner_say(log, arg, "left domain %s alone: it is persistent (runs only start transient ones)",
			  name);
		return 0;
	}
	if (!owner_domain_ours(dom, o)) {
		owner_say(log, arg, "left domain %s alone: it does not carry run %s's mark", name, o->id);
		return 0;
	}
	if (virDomainDestroy(dom) < 0 && virDomainIsActive(dom) == 1) {
		r = virt_domain_destroy(virDomainGetConnect(dom), name, msg, sizeof(msg));
		if (r < 0 && r != -ENOENT) {
			owner_say(log, arg, "%s", msg);
			return 1;
		}
	}
	owner_say(log, arg, "destroyed domain %s", name);
	remove_domain_log(name, log, arg);
	return 0;
}

/* Logs of domains the run's directory records ("domain-<name>") and that are
 * gone: created by this run, so their logs are its too. */
static void recorded_domain_logs(virConnectPtr conn, const struct owner *o, owner_log_fn log,
				 void *arg)
{
	DIR *d = opendir(o->dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *name = de->d_name + strlen("domain-");
		virDomainPtr dom;

		if (strncmp(de->d_name, "domain-", 7) || strncmp(name, o->prefix, strlen(o->prefix)))
			continue;
		dom = conn ? virDomainLookupByName(conn, name) : NULL;
		if (dom) {
			virDomainFree(dom); /* alive and not ours (or it would be gone) */
			continue;
		}
		remove_domain_log(name, log, arg);
	}
	if (d)
		closedir(d);
}

static int domains_teardown(const struct owner *o, bool dir_is_ours, owner_log_fn log, void *arg)
{
	virConnectPtr conn = NULL;
	virDomainPtr *doms = NULL;
	char msg[512];
	int n = 0, failures = 0;

	if (virt_daemon_answers()) {
		if (virt_connect(&conn, msg, sizeof(msg)) < 0) {
			owner_say(log, arg, "run %s: %s", o->id, msg);
			return 1;
		}
		n = virConnectListAllDomains(conn, &doms, 0);
		if (n < 0) {
			owner_say(log, arg, "run %s: listing libvirt domains failed", o->id);
			failures++;
		}
	}
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);

		if (name && strncmp(name, o->prefix, strlen(o->prefix)) == 0)
			failures += domain_teardown(doms[i], o, log, arg);
		virDomainFree(doms[i]);
	}
	free(doms);
	if (dir_is_ours)
		recorded_domain_logs(conn, o, log, arg);
	if (conn)
		virt_disconnect(conn);
	return failures;
}

/* ---- pins, namespaces, links --------------------------------------------------- */

static int pins_teardown(char *const *pins, size_t npins, owner_log_fn log, void *arg)
{
	int failures = 0;

	for (size_t i = 0; i < npins; i++) {
		struct cs_err cerr;

		if (!cs_node_exists(pins[i]))
			continue;
		if (cs_detach(pins[i], &cerr) < 0) {
			owner_say(log, arg, "detaching stages of %s: %s", pins[i], cerr.msg);
			failures++;
		} else {
			owner_say(log, arg, "detached stages and removed pins of %s", pins[i]);
		}
	}
	return failures;
}

static bool netns_ours(const struct owner *o, const char *name)
{
	char rec[64], now[64], path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	if (ownmark_file_read(o->dir, "netns", name, rec, sizeof(rec)) < 0 || stat(path, &st) < 0)
		return false;
	snprintf(now, sizeof(now), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	return strcmp(rec, now) == 0;
}

static int netns_teardown(const struct owner *o, owner_log_fn log, void *arg)
{
	char err[512], path[256], **names = NULL;
	int failures = 0;
	size_t n = 0;

	if (netns_list(o->prefix, &names, &n, err, sizeof(err)) < 0) {
		owner_say(log, arg, "%s", err);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!netns_ours(o, names[i])) {
			owner_say(log, arg, "left netns %s alone: run %s did not create it", names[i], o->id);
			continue;
		}
		if (netns_del(names[i], err, sizeof(err)) < 0) {
			owner_say(log, arg, "%s", err);
			failures++;
			continue;
		}
		owner_say(log, arg, "deleted netns %s", names[i]);
		snprintf(path, sizeof(path), "%s/netns-%s", o->dir, names[i]);
		unlink(path);
	}
	netns_names_free(names, n);
	return failures;
}

int owner_link_del(const char *name, const char *what, owner_log_fn log, void *arg)
{
	char err[512];

	if (nl_link_del(NULL, name, err, sizeof(err)) < 0 &&
	    nl_link_get(NULL, name, &(struct nl_link){ 0 }, NULL, 0) == 0) {
		owner_say(log, arg, "%s", err);
		return 1;
	}
	owner_say(log, arg, "deleted %s %s", what, name);
	return 0;
}

/* Host links: bridges, host ends of veths (their peers went with their
 * namespaces), taps libvirt left behind. */
static int links_teardown(const struct owner *o, owner_log_fn log, void *arg)
{
	struct nl_link *links = NULL;
	char err[512];
	int failures = 0;
	size_t n = 0;

	if (nl_link_list(NULL, o->prefix, &links, &n, err, sizeof(err)) < 0) {
		owner_say(log, arg, "%s", err);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(links[i].alias, o->mark) != 0) {
			owner_say(log, arg, "left link %s alone: it does not carry run %s's mark",
				  links[i].name, o->id);
			continue;
		}
		failures += owner_link_del(links[i].name, "link", log, arg);
	}
	free(links);
	return failures;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

int owner_teardown(const struct owner *o, char *const *pins, size_t npins, bool keep_dir,
		   owner_log_fn log, void *arg)
{
	bool ours = dir_ours(o);
	int failures = 0;

	if (!owner_id_valid(o->id) || !*o->mark) {
		owner_say(log, arg, "teardown: refusing run id \"%s\"", o->id);
		return 1;
	}
	/* VMs before the links they use; OVS daemons before their namespaces. */
	failures += domains_teardown(o, ours, log, arg);
	if (ours)
		failures += sff_ovs_teardown(o->prefix, log, arg);
	/* Stage pins first: cs_detach also removes XDP/tc from live interfaces. */
	failures += pins_teardown(pins, npins, log, arg);
	failures += netns_teardown(o, log, arg);
	failures += links_teardown(o, log, arg);
	if (keep_dir || !ours)
		return failures;
	/* The run's own directory: logs of `up`'s functions, OVS state, marks. */
	if (nftw(o->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		owner_say(log, arg, "removing %s: %s", o->dir, strerror(errno));
		failures++;
	}
	return failures;
}
