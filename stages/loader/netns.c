// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Running code inside a named network namespace, and interface lookups. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <net/if_arp.h>

#include "cs_priv.h"

int cs_in_netns(const char *netns, int (*fn)(void *arg), void *arg,
		struct cs_err *err)
{
	char path[PATH_MAX];
	int self = -1, target = -1;
	int ret = -1;

	if (!netns || !*netns)
		return fn(arg);

	if (strchr(netns, '/') || snprintf(path, sizeof(path), "/run/netns/%s",
					   netns) >= (int)sizeof(path))
		return cs_errf(err, -EINVAL, "netns \"%s\": invalid name", netns);

	/* thread-self: setns() below only moves this thread */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		ret = -errno;
		cs_errf(err, ret, "netns: cannot open /proc/thread-self/ns/net: %s",
			strerror(-ret));
		goto cleanup;
	}
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		ret = -errno;
		cs_errf(err, ret, "netns %s: cannot open %s: %s", netns, path,
			strerror(-ret));
		goto cleanup;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		ret = -errno;
		cs_errf(err, ret, "netns %s: setns: %s", netns, strerror(-ret));
		goto cleanup;
	}

	ret = fn(arg);

	if (setns(self, CLONE_NEWNET) < 0) {
		/* Staying in the wrong netns would silently misdirect every
		 * later call: there is no sane way to continue. */
		fprintf(stderr, "netns %s: cannot return to the original netns: %s\n",
			netns, strerror(errno));
		abort();
	}

cleanup:
	if (target >= 0)
		close(target);
	if (self >= 0)
		close(self);
	return ret;
}

int cs_if_lookup(void *arg)
{
	struct cs_ifinfo *ifi = arg;
	struct ifreq ifr = {};
	int fd, ret = -1;

	ifi->ifindex = (int)if_nametoindex(ifi->ifname);
	if (!ifi->ifindex)
		return -errno;
	/* ioctl, not /sys/class/net: sysfs shows the netns it was mounted in */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifi->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		ret = -errno;
		goto cleanup;
	}
	memcpy(ifi->mac, ifr.ifr_hwaddr.sa_data, 6);
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

int cs_if_resolve(const char *netns, const char *ifname, struct cs_ifinfo *ifi,
		  struct cs_err *err)
{
	struct cs_err local;
	int ret;

	if (!err)
		err = &local;
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return cs_errf(err, -EINVAL, "interface \"%s\": invalid name",
			       ifname ? ifname : "");
	memset(ifi, 0, sizeof(*ifi));
	ifi->ifname = ifname;
	err->msg[0] = '\0';
	ret = cs_in_netns(netns, cs_if_lookup, ifi, err);
	if (ret < 0 && !err->msg[0]) {
		if (ret == -ENODEV)
			return cs_errf(err, ret, "interface \"%s\" not found in netns %s",
				       ifname, netns ? netns : "(current)");
		return cs_errf(err, ret, "interface %s (netns %s): %s", ifname,
			       netns ? netns : "(current)", strerror(-ret));
	}
	return ret;
}
