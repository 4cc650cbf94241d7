/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Readers of what nl.c writes (addresses, neighbours, FDB, bridge port
 * flags, tx checksum), and FDB removal: the tests check the testbed's
 * netlink work with them; the product never reads these back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>

#include "support.h"
#include "sys/errmsg.h"
#include "sys/nl.h"
#include "sys/nl_priv.h"

struct addr_list {
	int ifindex;
	struct nl_addr4 *v;
	size_t n, cap;
};

static int addr_list_cb(struct nlmsghdr *h, void *arg)
{
	struct addr_list *al = arg;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct rtattr *tb[IFA_MAX + 1];
	struct rtattr *a;

	if (h->nlmsg_type != RTM_NEWADDR ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) || ifa->ifa_family != AF_INET)
		return 0;
	if (al->ifindex && (int)ifa->ifa_index != al->ifindex)
		return 0;
	nl_parse_rtattr(tb, IFA_MAX, IFA_RTA(ifa), IFA_PAYLOAD(h));
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || RTA_PAYLOAD(a) != sizeof(struct in_addr))
		return 0;
	if (al->n == al->cap) {
		size_t cap = al->cap ? al->cap * 2 : 8;
		struct nl_addr4 *v = realloc(al->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		al->v = v;
		al->cap = cap;
	}
	al->v[al->n].ifindex = ifa->ifa_index;
	al->v[al->n].prefixlen = ifa->ifa_prefixlen;
	memcpy(&al->v[al->n].addr, RTA_DATA(a), sizeof(struct in_addr));
	al->n++;
	return 0;
}

int nl_addr4_list(const char *netns, const char *ifname,
		  struct nl_addr4 **addrs, size_t *n, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr n;
		struct ifaddrmsg a;
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
		.n.nlmsg_type = RTM_GETADDR,
		.n.nlmsg_flags = NLM_F_DUMP,
		.a.ifa_family = AF_INET,
	};
	struct addr_list al = { 0 };
	char what[NL_WHAT_LEN], nsb[96];
	struct nl_sock s;
	int ret;

	*addrs = NULL;
	*n = 0;
	snprintf(what, sizeof(what), "listing IPv4 addresses%s%s%s",
		 ifname ? " on " : "", ifname ? ifname : "", nl_in_ns(netns, nsb, sizeof(nsb)));
	ret = nl_open_and_resolve(netns, ifname, &s, &al.ifindex, what, err, errlen);
	if (ret)
		return ret;
	ret = nl_talk(&s, NLH(req), addr_list_cb, &al, what, err, errlen);
	nl_close(&s);
	if (ret) {
		free(al.v);
		return ret;
	}
	*addrs = al.v;
	*n = al.n;
	return 0;
}

struct neigh_list {
	int ifindex;
	int family;
	void *v;       /* struct nl_neigh4[] or struct nl_fdb[] */
	size_t n, cap, size;
};

static void *neigh_list_slot(struct neigh_list *nl)
{
	if (nl->n == nl->cap) {
		size_t cap = nl->cap ? nl->cap * 2 : 16;
		void *v = realloc(nl->v, cap * nl->size);

		if (!v)
			return NULL;
		nl->v = v;
		nl->cap = cap;
	}
	return (char *)nl->v + nl->n++ * nl->size;
}

static int neigh_list_cb(struct nlmsghdr *h, void *arg)
{
	struct neigh_list *nl = arg;
	struct ndmsg *nd = NLMSG_DATA(h);
	struct rtattr *tb[NDA_MAX + 1];

	if (h->nlmsg_type != RTM_NEWNEIGH ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*nd)) || nd->ndm_family != nl->family)
		return 0;
	if (nl->ifindex && nd->ndm_ifindex != nl->ifindex)
		return 0;
	nl_parse_rtattr(tb, NDA_MAX, (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))),
		     h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));

	if (nl->family == AF_INET) {
		struct nl_neigh4 *e;

		if (!tb[NDA_DST] || RTA_PAYLOAD(tb[NDA_DST]) != sizeof(struct in_addr))
			return 0;
		e = neigh_list_slot(nl);
		if (!e)
			return -ENOMEM;
		memset(e, 0, sizeof(*e));
		e->ifindex = nd->ndm_ifindex;
		e->state = nd->ndm_state;
		memcpy(&e->dst, RTA_DATA(tb[NDA_DST]), sizeof(e->dst));
		if (tb[NDA_LLADDR] && RTA_PAYLOAD(tb[NDA_LLADDR]) == 6)
			memcpy(e->mac, RTA_DATA(tb[NDA_LLADDR]), 6);
	} else {
		struct nl_fdb *e;

		if (!tb[NDA_LLADDR] || RTA_PAYLOAD(tb[NDA_LLADDR]) != 6)
			return 0;
		e = neigh_list_slot(nl);
		if (!e)
			return -ENOMEM;
		memset(e, 0, sizeof(*e));
		e->ifindex = nd->ndm_ifindex;
		e->state = nd->ndm_state;
		e->flags = nd->ndm_flags;
		memcpy(e->mac, RTA_DATA(tb[NDA_LLADDR]), 6);
		if (tb[NDA_MASTER])
			e->master = nl_rta_u32(tb[NDA_MASTER]);
		if (tb[NDA_VLAN])
			e->vlan = nl_rta_u16(tb[NDA_VLAN]);
	}
	return 0;
}

static int neigh_dump(const char *netns, const char *ifname, int family,
		      size_t size, void **v, size_t *n, const char *what,
		      char *err, size_t errlen)
{
	struct {
		struct nlmsghdr n;
		struct ndmsg nd;
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.n.nlmsg_type = RTM_GETNEIGH,
		.n.nlmsg_flags = NLM_F_DUMP,
		.nd.ndm_family = family,
	};
	struct neigh_list nl = { .family = family, .size = size };
	struct nl_sock s;
	int ret;

	*v = NULL;
	*n = 0;
	ret = nl_open_and_resolve(netns, ifname, &s, &nl.ifindex, what, err, errlen);
	if (ret)
		return ret;
	ret = nl_talk(&s, NLH(req), neigh_list_cb, &nl, what, err, errlen);
	nl_close(&s);
	if (ret) {
		free(nl.v);
		return ret;
	}
	*v = nl.v;
	*n = nl.n;
	return 0;
}

int nl_neigh4_list(const char *netns, const char *ifname,
		   struct nl_neigh4 **neighs, size_t *n, char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];

	snprintf(what, sizeof(what), "listing IPv4 neighbours%s%s%s",
		 ifname ? " on " : "", ifname ? ifname : "", nl_in_ns(netns, nsb, sizeof(nsb)));
	return neigh_dump(netns, ifname, AF_INET, sizeof(**neighs), (void **)neighs,
			  n, what, err, errlen);
}

int nl_fdb_del(const char *netns, const char *port, const uint8_t mac[6],
	       char *err, size_t errlen)
{
	return nl_fdb_modify(netns, port, mac, false, err, errlen);
}

int nl_fdb_list(const char *netns, const char *port, struct nl_fdb **fdb,
		size_t *n, char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];

	snprintf(what, sizeof(what), "listing FDB entries%s%s%s",
		 port ? " on " : "", port ? port : "", nl_in_ns(netns, nsb, sizeof(nsb)));
	return neigh_dump(netns, port, AF_BRIDGE, sizeof(**fdb), (void **)fdb, n,
			  what, err, errlen);
}

/* ---- bridge port flags ---------------------------------------------------- */

struct brport_get {
	int ifindex;
	bool found;
	struct nl_brport_flags *f;
};

static int brport_get_cb(struct nlmsghdr *h, void *arg)
{
	struct brport_get *g = arg;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *tb[IFLA_MAX + 1], *pi[IFLA_BRPORT_MAX + 1];

	if (h->nlmsg_type != RTM_NEWLINK ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_index != g->ifindex)
		return 0;
	nl_parse_rtattr(tb, IFLA_MAX, IFLA_RTA(ifi), IFLA_PAYLOAD(h));
	if (!tb[IFLA_PROTINFO] || !(tb[IFLA_PROTINFO]->rta_type & NLA_F_NESTED))
		return 0;
	nl_parse_rtattr_nested(pi, IFLA_BRPORT_MAX, tb[IFLA_PROTINFO]);
	if (!pi[IFLA_BRPORT_LEARNING] || !pi[IFLA_BRPORT_UNICAST_FLOOD] ||
	    !pi[IFLA_BRPORT_MCAST_FLOOD] || !pi[IFLA_BRPORT_BCAST_FLOOD])
		return -EPROTO;
	g->f->learning = nl_rta_u8(pi[IFLA_BRPORT_LEARNING]);
	g->f->unicast_flood = nl_rta_u8(pi[IFLA_BRPORT_UNICAST_FLOOD]);
	g->f->mcast_flood = nl_rta_u8(pi[IFLA_BRPORT_MCAST_FLOOD]);
	g->f->bcast_flood = nl_rta_u8(pi[IFLA_BRPORT_BCAST_FLOOD]);
	g->found = true;
	return 0;
}

int nl_brport_get_flags(const char *netns, const char *ifname,
			struct nl_brport_flags *f, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.n.nlmsg_type = RTM_GETLINK,
		.n.nlmsg_flags = NLM_F_DUMP,
		.i.ifi_family = AF_BRIDGE,
	};
	struct brport_get g = { .f = f };
	char what[NL_WHAT_LEN], nsb[96];
	struct nl_sock s;
	int ret;

	snprintf(what, sizeof(what), "reading bridge port flags of %s%s",
		 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	if (!ifname)
		return nl_check_ifname(what, ifname, err, errlen);
	ret = nl_open_and_resolve(netns, ifname, &s, &g.ifindex, what, err, errlen);
	if (ret)
		return ret;
	ret = nl_talk(&s, NLH(req), brport_get_cb, &g, what, err, errlen);
	nl_close(&s);
	if (!ret && !g.found) {
		set_err(err, errlen, "%s: not a bridge port", what);
		ret = -ENOENT;
	}
	return ret;
}

/* ---- ethtool ------------------------------------------------------------------ */

int nl_link_get_tx_csum(const char *netns, const char *ifname, bool *on,
			char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];
	uint32_t v = 0;
	int ret;

	snprintf(what, sizeof(what), "reading tx checksum offload of %s%s",
		 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	ret = nl_ethtool_value(netns, ifname, ETHTOOL_GTXCSUM, &v, what, err, errlen);
	if (!ret)
		*on = v != 0;
	return ret;
}

/* ---- VXLAN ----------------------------------------------------------------- */
