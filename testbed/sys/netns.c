// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Named network namespaces, the "ip netns" way. See netns.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/errmsg.h"
#include "sys/netns.h"
#include "sys/ownmark.h"

/* Our own thread's netns: /proc/self would name the thread-group leader's. */
#define SELF_NETNS "/proc/thread-self/ns/net"

static int check_name(const char *what, const char *name, char *err, size_t errlen)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..")) {
		set_err(err, errlen, "%s netns \"%s\": invalid name", what,
			name ? name : "(null)");
		return -EINVAL;
	}
	if (strlen(name) > NETNS_NAME_MAX) {
		set_err(err, errlen, "%s netns %s: name too long (%zu > %d characters)",
			what, name, strlen(name), NETNS_NAME_MAX);
		return -ENAMETOOLONG;
	}
	return 0;
}

static void netns_path(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", NETNS_RUN_DIR, name);
}

/*
 * Mounts that ip netns exec makes in its private mount namespace must not
 * hide our pins, and pins made by a process in another mount namespace must
 * show up here: hence /run/netns is a shared mount point of its own.
 */
static int run_dir_make_shared(const char *name, char *err, size_t errlen)
{
	bool bound = false;

	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST) {
		int e = errno;

		set_err(err, errlen, "creating netns %s: mkdir %s: %s", name,
			NETNS_RUN_DIR, strerror(e));
		return -e;
	}
	for (;;) {
		if (!mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
			return 0;
		/* EINVAL: not a mount point yet; make it one and retry once. */
		if (errno != EINVAL || bound)
			break;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL))
			break;
		bound = true;
	}
	int e = errno;

	set_err(err, errlen, "creating netns %s: making %s a shared mount: %s",
		name, NETNS_RUN_DIR, strerror(e));
	return -e;
}

/*
 * The ownership mark of a new netns (sys/ownmark.h): its nsfs device and
 * inode, which no other namespace has while this one lives, in a file of the
 * run's directory. A namespace of the same name made by anyone else has
 * another inode, and teardown leaves it alone. Called inside the new netns
 * (path: SELF_NETNS) before it is pinned: a kill -9 in between leaves no
 * pinned namespace without its record.
 */
static int mark_netns(const char *name, const char *path, char *err, size_t errlen)
{
	char id[64];
	struct stat st;
	int ret;

	if (!ownmark_dir())
		return 0;
	if (stat(path, &st) < 0) {
		ret = -errno;
		set_err(err, errlen, "creating netns %s: %s: %s", name, path, strerror(-ret));
		return ret;
	}
	snprintf(id, sizeof(id), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	ret = ownmark_file_write("netns", name, id);
	if (ret < 0)
		set_err(err, errlen, "creating netns %s: recording it in %s: %s", name,
			ownmark_dir(), strerror(-ret));
	return ret;
}

/* Back to the netns this thread came from; carrying on in the wrong one
 * could touch foreign links, so failing to is fatal. */
static void netns_return(int self, const char *name)
{
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "netns %s: returning to the original netns: %s\n",
			name, strerror(errno));
		abort();
	}
}

int netns_add(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int self = -1, fd = -1;
	bool created = false;
	int ret;

	ret = check_name("creating", name, err, errlen);
	if (ret)
		return ret;
	ret = run_dir_make_shared(name, err, errlen);
	if (ret)
		return ret;
	ret = -1;

	netns_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "creating netns %s: %s", name, strerror(-ret));
		goto cleanup;
	}
	created = true;

	self = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		ret = -errno;
		set_err(err, errlen, "creating netns %s: opening %s: %s", name,
			SELF_NETNS, strerror(-ret));
		goto cleanup;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		ret = -errno;
		set_err(err, errlen, "creating netns %s: unshare: %s", name,
			strerror(-ret));
		goto cleanup;
	}
	/* Unmarked, it is never pinned: it goes when this thread leaves it. */
	ret = mark_netns(name, SELF_NETNS, err, errlen);
	if (ret == 0 && mount(SELF_NETNS, path, "none", MS_BIND, NULL) < 0) {
		ret = -errno;
		set_err(err, errlen, "creating netns %s: bind mount on %s: %s",
			name, path, strerror(-ret));
	}
	netns_return(self, name);

cleanup:
	if (self >= 0)
		close(self);
	if (fd >= 0)
		close(fd);
	if (ret && created)
		unlink(path);
	return ret;
}

int netns_del(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	ret = check_name("deleting", name, err, errlen);
	if (ret)
		return ret;
	netns_path(name, path, sizeof(path));
	/* EINVAL: a stale file that is no longer a mount; still remove it. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL) {
		ret = -errno;
		set_err(err, errlen, "deleting netns %s: %s", name, strerror(-ret));
		return ret;
	}
	if (unlink(path) < 0) {
		ret = -errno;
		set_err(err, errlen, "deleting netns %s: %s", name, strerror(-ret));
		return ret;
	}
	return 0;
}

bool netns_exists(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (check_name("checking", name, NULL, 0))
		return false;
	netns_path(name, path, sizeof(path));
	return stat(path, &st) == 0;
}

int netns_open(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, ret;

	if (name) {
		ret = check_name("opening", name, err, errlen);
		if (ret)
			return ret;
		netns_path(name, path, sizeof(path));
	} else {
		snprintf(path, sizeof(path), "%s", SELF_NETNS);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "opening netns %s: %s",
			name ? name : "(current)", strerror(-ret));
		return ret;
	}
	return fd;
}

int netns_run(const char *name, int (*fn)(void *arg), void *arg,
	      char *err, size_t errlen)
{
	int target = -1, self = -1;
	int ret;

	if (!name)
		return fn(arg);

	target = netns_open(name, err, errlen);
	if (target < 0)
		return target;
	self = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		ret = -errno;
		set_err(err, errlen, "entering netns %s: opening %s: %s", name,
			SELF_NETNS, strerror(-ret));
		goto cleanup;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		ret = -errno;
		set_err(err, errlen, "entering netns %s: %s", name, strerror(-ret));
		goto cleanup;
	}

	ret = fn(arg);

	netns_return(self, name);

cleanup:
	if (self >= 0)
		close(self);
	close(target);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void netns_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int netns_list(const char *prefix, char ***names, size_t *n,
	       char *err, size_t errlen)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int ret = -1;

	*names = NULL;
	*n = 0;
	dir = opendir(NETNS_RUN_DIR);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		set_err(err, errlen, "listing netns in %s: %s", NETNS_RUN_DIR,
			strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (plen && strncmp(de->d_name, prefix, plen))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **nv = realloc(v, ncap * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
			cap = ncap;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt])
			goto nomem;
		cnt++;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	ret = 0;
	goto cleanup;

nomem:
	ret = -ENOMEM;
	set_err(err, errlen, "listing netns in %s: %s", NETNS_RUN_DIR,
		strerror(ENOMEM));
cleanup:
	netns_names_free(v, cnt);
	closedir(dir);
	return ret;
}

struct sysctl_req {
	const char *netns;
	const char *key;
	const char *value;
	char *err;
	size_t errlen;
};

static const char *ns_label(const char *netns)
{
	return netns ? netns : "(current)";
}

static int sysctl_path(const struct sysctl_req *r, char *path, size_t len)
{
	if (!r->key || !*r->key || r->key[0] == '/' || strstr(r->key, "..")) {
		set_err(r->err, r->errlen, "sysctl \"%s\" in netns %s: invalid key",
			r->key ? r->key : "(null)", ns_label(r->netns));
		return -EINVAL;
	}
	snprintf(path, len, "/proc/sys/%s", r->key);
	return 0;
}

static int sysctl_write_cb(void *arg)
{
	struct sysctl_req *r = arg;
	char path[PATH_MAX];
	size_t vlen = strlen(r->value);
	ssize_t w;
	int fd, ret;

	ret = sysctl_path(r, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	w = write(fd, r->value, vlen);
	ret = w < 0 ? -errno : (size_t)w != vlen ? -EIO : 0;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret)
		return 0;
fail:
	set_err(r->err, r->errlen, "setting sysctl %s=%s in netns %s: %s",
		r->key, r->value, ns_label(r->netns), strerror(-ret));
	return ret;
}

int netns_sysctl_write(const char *name, const char *key, const char *value,
		       char *err, size_t errlen)
{
	struct sysctl_req r = {
		.netns = name, .key = key, .value = value ? value : "",
		.err = err, .errlen = errlen,
	};

	return netns_run(name, sysctl_write_cb, &r, err, errlen);
}

int netns_if_no_ipv6(const char *name, const char *ifname, char *err, size_t errlen)
{
	char key[64];
	int ret;

	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", ifname);
	ret = netns_sysctl_write(name, key, "1", err, errlen);
	return ret == -ENOENT ? 0 : ret;
}
