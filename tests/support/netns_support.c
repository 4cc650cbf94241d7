/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading a netns's sysctls back, for the tests of what the testbed sets. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "sys/errmsg.h"
#include "sys/netns.h"

struct sysctl_read {
	const char *key;
	char *buf;
	size_t len;
};

static int read_cb(void *arg)
{
	struct sysctl_read *r = arg;
	char path[512];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", r->key);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	got = read(fd, r->buf, r->len - 1);
	close(fd);
	if (got < 0)
		return -errno;
	r->buf[got] = '\0';
	if (got && r->buf[got - 1] == '\n')
		r->buf[got - 1] = '\0';
	return 0;
}

int netns_sysctl_read(const char *name, const char *key, char *buf, size_t len, char *err,
		      size_t errlen)
{
	struct sysctl_read r = { .key = key, .buf = buf, .len = len };
	int ret;

	if (!key || !*key || key[0] == '/' || strstr(key, "..") || !len) {
		set_err(err, errlen, "sysctl \"%s\" in netns %s: invalid key", key ? key : "(null)",
			name ? name : "(current)");
		return -EINVAL;
	}
	if (err && errlen)
		err[0] = '\0';
	ret = netns_run(name, read_cb, &r, err, errlen);
	if (ret < 0 && err && !*err)
		set_err(err, errlen, "reading sysctl %s in netns %s: %s", key,
			name ? name : "(current)", strerror(-ret));
	return ret;
}
