// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the virt/ files share: libvirt errors, clocks, directories. */
#include "cadeia_stage.h"
#include "virt/virt.h"
#include "virt/virt_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "sys/netns.h"
#include "sys/nl.h"
#include "sys/ownmark.h"

const char *virt_msg(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown libvirt error";
}

/* libvirt's error, as a negative errno the caller can act on. */
int virt_errno(void)
{
	virErrorPtr e = virGetLastError();

	if (!e)
		return -EIO;
	switch (e->code) {
	case VIR_ERR_NO_DOMAIN:
		return -ENOENT;
	case VIR_ERR_AGENT_UNRESPONSIVE:
		return -EAGAIN;
	case VIR_ERR_OPERATION_INVALID:
		return -ESRCH;
	case VIR_ERR_OPERATION_TIMEOUT:
		return -ETIMEDOUT;
	case VIR_ERR_NO_CONNECT:
	case VIR_ERR_SYSTEM_ERROR:
		if (e->int1 > 0)
			return -e->int1;
		return -ECONNREFUSED;
	default:
		if (e->message && strstr(e->message, "No such file"))
			return -ENOENT;
		return -EIO;
	}
}

static void virt_silent(void *opaque, virErrorPtr e)
{
}

void virt_init(void)
{
	static bool done;

	if (done)
		return;
	virInitialize();
	/* Callers report errors themselves, with context. */
	virSetErrorFunc(NULL, virt_silent);
	done = true;
}

long long virt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void virt_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int virt_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

const char *virt_dom_name(virDomainPtr dom)
{
	const char *n = dom ? virDomainGetName(dom) : NULL;

	return n ? n : "?";
}
