/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Guest-agent shorthands and cleanup by name for the VM tests. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "backend/owner.h"
#include "sys/nl.h"
#include "virt/virt_priv.h"

int virt_agent_sh(virDomainPtr dom, const char *script, int timeout_ms,
		  struct virt_exec_result *res, char *err, size_t errlen)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };

	return virt_agent_exec(dom, argv, timeout_ms, res, err, errlen);
}

int virt_wait_ready(virDomainPtr dom, const char *console_log, int timeout_ms,
		    char *err, size_t errlen)
{
	long long deadline = virt_now_ms() + (timeout_ms > 0 ? timeout_ms : 60000);
	char tail[1536];
	int ret;

	for (;;) {
		ret = virt_ready_check(dom, console_log, err, errlen);
		if (ret != 0)
			return ret < 0 ? ret : 0;
		if (virt_now_ms() > deadline)
			break;
		virt_sleep_ms(200);
	}
	virt_console_tail(console_log, 12, tail, sizeof(tail));
	set_err(err, errlen, "domain %s: not ready after %d ms; console: %s", virt_dom_name(dom),
		timeout_ms, tail[0] ? tail : "(empty)");
	return -ETIMEDOUT;
}

int virt_teardown_prefix(const char *prefix, void (*log)(const char *what, void *arg),
			 void *arg)
{
	virConnectPtr conn = NULL;
	struct nl_link *links = NULL;
	char **names = NULL;
	char msg[512];
	int n, failures = 0;
	size_t nl = 0;

	/* An empty prefix would name every domain on the host. */
	if (!prefix || strlen(prefix) < 2) {
		owner_say(log, arg, "virt teardown: refusing prefix \"%s\"", prefix ? prefix : "");
		return 1;
	}
	virt_init();
	if (virt_sock_answers(VIRT_SOCK)) {
		if (virt_connect(&conn, msg, sizeof(msg)) < 0) {
			owner_say(log, arg, "virt teardown %s: %s", prefix, msg);
			failures++;
		}
	}
	if (conn) {
		n = virt_domain_list(conn, prefix, &names, msg, sizeof(msg));
		if (n < 0) {
			owner_say(log, arg, "virt teardown %s: %s", prefix, msg);
			failures++;
		}
		for (int i = 0; i < n; i++) {
			int r = virt_domain_destroy(conn, names[i], msg, sizeof(msg));

			if (r < 0 && r != -ENOENT) {
				owner_say(log, arg, "%s", msg);
				failures++;
			} else {
				owner_say(log, arg, "destroyed domain %s", names[i]);
			}
		}
		virt_names_free(names, n > 0 ? n : 0);
		virt_disconnect(conn);
	}
	/* libvirt deletes its taps with the domain; these are leftovers of a
	 * daemon that died. Only tuntap links: veths are the netns backend's. */
	if (nl_link_list(NULL, prefix, &links, &nl, msg, sizeof(msg)) < 0) {
		owner_say(log, arg, "virt teardown %s: %s", prefix, msg);
		return failures + 1;
	}
	for (size_t i = 0; i < nl; i++) {
		if (strcmp(links[i].kind, "tun"))
			continue;
		failures += owner_link_del(links[i].name, "tap", log, arg);
	}
	free(links);
	/* libvirt's own per-domain logs carry the prefix too: ours to remove. */
	{
		DIR *d = opendir("/var/log/libvirt/qemu");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char path[512];

			if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
				continue;
			snprintf(path, sizeof(path), "/var/log/libvirt/qemu/%s", de->d_name);
			if (unlink(path) == 0)
				owner_say(log, arg, "removed %s", path);
		}
		if (d)
			closedir(d);
	}
	return failures;
}
