/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nl.c's request machinery, for the readers the tests use
 * (tests/support/nl_support.c); the product calls nl.h only.
 */
#ifndef CADEIA_NL_PRIV_H
#define CADEIA_NL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define NL_WHAT_LEN 256

struct nl_sock {
	int fd;
	uint32_t seq;
	char *buf;
};

/* The whole request, not its header member, so the compiler sees the room
 * behind the header that attributes go into. */
#define NLH(r) ((struct nlmsghdr *)&(r))

typedef int (*nl_msg_cb)(struct nlmsghdr *h, void *arg);

/* " in netns <name>", or "" for the current netns. */
const char *nl_in_ns(const char *netns, char *buf, size_t len);
/* An interface name the kernel takes, or an error naming what. */
int nl_check_ifname(const char *what, const char *name, char *err, size_t errlen);
void nl_parse_rtattr(struct rtattr *tb[], int max, struct rtattr *rta, int len);
#define nl_parse_rtattr_nested(tb, max, rta) \
	nl_parse_rtattr(tb, max, RTA_DATA(rta), RTA_PAYLOAD(rta))
static inline uint8_t nl_rta_u8(const struct rtattr *rta)
{
	return *(const uint8_t *)RTA_DATA(rta);
}

static inline uint16_t nl_rta_u16(const struct rtattr *rta)
{
	uint16_t v;

	memcpy(&v, RTA_DATA(rta), sizeof(v));
	return v;
}

static inline uint32_t nl_rta_u32(const struct rtattr *rta)
{
	uint32_t v;

	memcpy(&v, RTA_DATA(rta), sizeof(v));
	return v;
}

int nl_open(const char *netns, struct nl_sock *s, const char *what, char *err, size_t errlen);
void nl_close(struct nl_sock *s);
/* Sends req, hands every answer to cb (NULL: none expected) until the
 * kernel's ack or NLMSG_DONE; what names the request in err. */
int nl_talk(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg, const char *what,
	    char *err, size_t errlen);
/* Opens a socket in netns and resolves ifname there (ifname NULL: index 0). */
int nl_open_and_resolve(const char *netns, const char *ifname, struct nl_sock *s, int *ifindex,
			const char *what, char *err, size_t errlen);
/* Adds (add) or deletes a static FDB entry for mac on bridge port port. */
int nl_fdb_modify(const char *netns, const char *port, const uint8_t mac[6], bool add, char *err,
		  size_t errlen);
/* One ETHTOOL_* value get or set on ifname in netns. */
int nl_ethtool_value(const char *netns, const char *ifname, uint32_t cmd, uint32_t *data,
		     const char *what, char *err, size_t errlen);

#endif
