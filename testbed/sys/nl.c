// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Raw rtnetlink for the testbed, in the manner of iproute2's libnetlink:
 * fixed request structs, rtattr helpers, one socket per call opened inside
 * the target netns, every request acknowledged and the kernel's extended ack
 * text reported when it gives one. See nl.h.
 */
#include "cadeia_stage.h"
#include "sys/errmsg.h"
#include "sys/nl.h"
#include "sys/nl_priv.h"
#include "sys/ownmark.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>

#include "sys/netns.h"

/* Link dumps carry stats and per-VF data; 64 KiB holds any one skb. */
#define NL_RCVBUF (64 * 1024)

/* " in netns <name>", or "" for the current netns. */
const char *nl_in_ns(const char *netns, char *buf, size_t len)
{
	if (!netns)
		return "";
	snprintf(buf, len, " in netns %s", netns);
	return buf;
}

int nl_check_ifname(const char *what, const char *name, char *err, size_t errlen)
{
	if (!name || !*name) {
		set_err(err, errlen, "%s: empty interface name", what);
		return -EINVAL;
	}
	if (strlen(name) >= IF_NAMESIZE) {
		set_err(err, errlen, "%s: name %s too long (%zu > %d characters)",
			what, name, strlen(name), IF_NAMESIZE - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* ---- attribute helpers ---------------------------------------------------- */

static int addattr_l(struct nlmsghdr *n, size_t maxlen, unsigned short type,
		     const void *data, size_t alen)
{
	size_t len = RTA_LENGTH(alen);
	struct rtattr *rta;

	if (NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(len) > maxlen)
		return -EMSGSIZE;
	rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = len;
	if (alen)
		memcpy(RTA_DATA(rta), data, alen);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(len);
	return 0;
}

static int addattr8(struct nlmsghdr *n, size_t maxlen, unsigned short type, uint8_t v)
{
	return addattr_l(n, maxlen, type, &v, sizeof(v));
}

static int addattr32(struct nlmsghdr *n, size_t maxlen, unsigned short type, uint32_t v)
{
	return addattr_l(n, maxlen, type, &v, sizeof(v));
}

static int addattr_str(struct nlmsghdr *n, size_t maxlen, unsigned short type,
		       const char *s)
{
	return addattr_l(n, maxlen, type, s, strlen(s) + 1);
}

static struct rtattr *addattr_nest(struct nlmsghdr *n, size_t maxlen,
				   unsigned short type)
{
	struct rtattr *nest = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	if (addattr_l(n, maxlen, type, NULL, 0))
		return NULL;
	return nest;
}

static void addattr_nest_end(struct nlmsghdr *n, struct rtattr *nest)
{
	nest->rta_len = (char *)n + NLMSG_ALIGN(n->nlmsg_len) - (char *)nest;
}

void nl_parse_rtattr(struct rtattr *tb[], int max, struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		unsigned short type = rta->rta_type & NLA_TYPE_MASK;

		if (type <= max && !tb[type])
			tb[type] = rta;
	}
}

/* ---- socket ----------------------------------------------------------------- */

static int open_route_socket(void *arg)
{
	int *fd = arg;

	/* The socket's netns is fixed here, at creation. */
	*fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	return *fd < 0 ? -errno : 0;
}

void nl_close(struct nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	s->fd = -1;
	s->buf = NULL;
}

int nl_open(const char *netns, struct nl_sock *s, const char *what,
		   char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, ret;
	char tmp[256] = "";

	s->fd = -1;
	s->seq = 0;
	s->buf = NULL;
	ret = netns_run(netns, open_route_socket, &s->fd, tmp, sizeof(tmp));
	if (ret) {
		if (tmp[0])
			set_err(err, errlen, "%s: %s", what, tmp);
		else
			set_err(err, errlen, "%s: netlink socket: %s", what, strerror(-ret));
		return ret;
	}
	/* Best effort: older kernels simply give no extended ack. */
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: binding netlink socket: %s", what,
			strerror(-ret));
		goto fail;
	}
	s->buf = malloc(NL_RCVBUF);
	if (!s->buf) {
		ret = -ENOMEM;
		set_err(err, errlen, "%s: %s", what, strerror(ENOMEM));
		goto fail;
	}
	return 0;
fail:
	nl_close(s);
	return ret;
}

/* The kernel's extended ack text, if any, of an NLMSG_ERROR or NLMSG_DONE. */
static const char *extack_msg(const struct nlmsghdr *h)
{
	struct rtattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (h->nlmsg_type == NLMSG_DONE) {
		off = NLMSG_ALIGN(sizeof(int));
	} else {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		off = sizeof(*e);
		if (!(h->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		off = NLMSG_ALIGN(off);
	}
	if (NLMSG_HDRLEN + off >= h->nlmsg_len)
		return NULL;
	nl_parse_rtattr(tb, NLMSGERR_ATTR_MAX,
		     (struct rtattr *)((char *)NLMSG_DATA(h) + off),
		     h->nlmsg_len - NLMSG_HDRLEN - off);
	if (!tb[NLMSGERR_ATTR_MSG] || !RTA_PAYLOAD(tb[NLMSGERR_ATTR_MSG]))
		return NULL;
	/* The kernel NUL-terminates it; make sure before using it as a string. */
	if (((char *)RTA_DATA(tb[NLMSGERR_ATTR_MSG]))[RTA_PAYLOAD(tb[NLMSGERR_ATTR_MSG]) - 1])
		return NULL;
	return RTA_DATA(tb[NLMSGERR_ATTR_MSG]);
}

static void kernel_err(char *err, size_t errlen, const char *what, int e,
		       const char *kmsg)
{
	if (kmsg && *kmsg)
		set_err(err, errlen, "%s: %s (kernel: %s)", what, strerror(-e), kmsg);
	else
		set_err(err, errlen, "%s: %s", what, strerror(-e));
}

/*
 * Sends req and reads until its ACK, error or end of dump. Other messages of
 * this sequence go to cb; the first error cb returns is kept and returned
 * once the reply is drained, so the socket stays usable.
 */
int nl_talk(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb,
		   void *arg, const char *what, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iovec iov = { .iov_base = req, .iov_len = req->nlmsg_len };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	int cb_ret = 0;

	req->nlmsg_seq = ++s->seq;
	req->nlmsg_flags |= NLM_F_REQUEST;
	/* A dump ends with NLMSG_DONE; anything else is acknowledged. */
	/* NLM_F_DUMP shares bits with NLM_F_REPLACE and NLM_F_EXCL. */
	if ((req->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		req->nlmsg_flags |= NLM_F_ACK;

	if (sendmsg(s->fd, &msg, 0) < 0) {
		int e = -errno;

		set_err(err, errlen, "%s: sending netlink request: %s", what,
			strerror(-e));
		return e;
	}

	for (;;) {
		struct nlmsghdr *h;
		int len;

		iov.iov_base = s->buf;
		iov.iov_len = NL_RCVBUF;
		msg.msg_flags = 0;
		len = recvmsg(s->fd, &msg, 0);
		if (len < 0) {
			int e = -errno;

			if (e == -EINTR)
				continue;
			set_err(err, errlen, "%s: receiving netlink reply: %s",
				what, strerror(-e));
			return e;
		}
		if (len == 0 || (msg.msg_flags & MSG_TRUNC)) {
			set_err(err, errlen, "%s: netlink reply %s", what,
				len ? "truncated" : "empty");
			return -EMSGSIZE;
		}
		for (h = (struct nlmsghdr *)s->buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					set_err(err, errlen, "%s: short netlink error", what);
					return -EBADMSG;
				}
				if (e->error) {
					kernel_err(err, errlen, what, e->error,
						   extack_msg(h));
					return e->error;
				}
				goto done;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if (e < 0) {
					kernel_err(err, errlen, what, e, extack_msg(h));
					return e;
				}
				goto done;
			}
			if (cb && !cb_ret)
				cb_ret = cb(h, arg);
		}
	}
done:
	if (cb_ret)
		set_err(err, errlen, "%s: %s", what, strerror(-cb_ret));
	return cb_ret;
}

/* ---- links ------------------------------------------------------------------ */

/* Sends one request in netns and waits for its ack: a socket for just that. */
static int nl_send(const char *netns, struct nlmsghdr *req, const char *what, char *err,
		   size_t errlen)
{
	struct nl_sock s;
	int ret;

	ret = nl_open(netns, &s, what, err, errlen);
	if (ret)
		return ret;
	ret = nl_talk(&s, req, NULL, NULL, what, err, errlen);
	nl_close(&s);
	return ret;
}

static void link_from_msg(struct nlmsghdr *h, struct nl_link *l)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *tb[IFLA_MAX + 1];

	memset(l, 0, sizeof(*l));
	nl_parse_rtattr(tb, IFLA_MAX, IFLA_RTA(ifi), IFLA_PAYLOAD(h));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", (char *)RTA_DATA(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		l->mtu = nl_rta_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		l->master = nl_rta_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) == sizeof(l->mac))
		memcpy(l->mac, RTA_DATA(tb[IFLA_ADDRESS]), sizeof(l->mac));
	if (tb[IFLA_IFALIAS])
		snprintf(l->alias, sizeof(l->alias), "%.*s", (int)RTA_PAYLOAD(tb[IFLA_IFALIAS]),
			 (char *)RTA_DATA(tb[IFLA_IFALIAS]));
	if (tb[IFLA_LINKINFO]) {
		struct rtattr *li[IFLA_INFO_MAX + 1];

		nl_parse_rtattr_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO]);
		if (li[IFLA_INFO_KIND])
			snprintf(l->kind, sizeof(l->kind), "%.*s",
				 (int)RTA_PAYLOAD(li[IFLA_INFO_KIND]),
				 (char *)RTA_DATA(li[IFLA_INFO_KIND]));
	}
}

static int link_get_cb(struct nlmsghdr *h, void *arg)
{
	if (h->nlmsg_type != RTM_NEWLINK ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	link_from_msg(h, arg);
	return 0;
}

/* A request about one link (RTM_*LINK): the header, the ifinfomsg, room for attributes. */
struct link_req {
	struct nlmsghdr n;
	struct ifinfomsg i;
	char buf[512];
};
/* The first field of every struct link_req initialiser: the message without attributes yet. */
#define LINK_REQ_LEN .n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg))

/* RTM_GETLINK by name on an open socket. */
static int link_get(struct nl_sock *s, const char *ifname, struct nl_link *l,
		    const char *what, char *err, size_t errlen)
{
	struct link_req req = {
		LINK_REQ_LEN,
		.n.nlmsg_type = RTM_GETLINK,
		.i.ifi_family = AF_UNSPEC,
	};
	int ret;

	ret = nl_check_ifname(what, ifname, err, errlen);
	if (ret)
		return ret;
	addattr_str(NLH(req), sizeof(req), IFLA_IFNAME, ifname);
	addattr32(NLH(req), sizeof(req), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	memset(l, 0, sizeof(*l));
	ret = nl_talk(s, NLH(req), link_get_cb, l, what, err, errlen);
	if (!ret && !l->ifindex) {
		set_err(err, errlen, "%s: %s", what, strerror(ENODEV));
		ret = -ENODEV;
	}
	return ret;
}

int nl_link_get(const char *netns, const char *ifname, struct nl_link *link,
		char *err, size_t errlen)
{
	struct nl_sock s;
	char what[NL_WHAT_LEN], nsb[96];
	int ret;

	snprintf(what, sizeof(what), "looking up link %s%s", ifname ? ifname : "(null)",
		 nl_in_ns(netns, nsb, sizeof(nsb)));
	ret = nl_open(netns, &s, what, err, errlen);
	if (ret)
		return ret;
	ret = link_get(&s, ifname, link, what, err, errlen);
	nl_close(&s);
	return ret;
}

struct link_list {
	const char *prefix;
	struct nl_link *v;
	size_t n, cap;
};

static int link_list_cb(struct nlmsghdr *h, void *arg)
{
	struct link_list *ll = arg;
	struct nl_link l;

	if (h->nlmsg_type != RTM_NEWLINK ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	link_from_msg(h, &l);
	if (ll->prefix && strncmp(l.name, ll->prefix, strlen(ll->prefix)))
		return 0;
	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 16;
		struct nl_link *v = realloc(ll->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ll->v = v;
		ll->cap = cap;
	}
	ll->v[ll->n++] = l;
	return 0;
}

static int cmp_ifindex(const void *a, const void *b)
{
	const struct nl_link *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int nl_link_list(const char *netns, const char *prefix, struct nl_link **links,
		 size_t *n, char *err, size_t errlen)
{
	struct link_req req = {
		LINK_REQ_LEN,
		.n.nlmsg_type = RTM_GETLINK,
		.n.nlmsg_flags = NLM_F_DUMP,
		.i.ifi_family = AF_UNSPEC,
	};
	struct link_list ll = { .prefix = prefix && *prefix ? prefix : NULL };
	struct nl_sock s;
	char what[NL_WHAT_LEN], nsb[96];
	int ret;

	*links = NULL;
	*n = 0;
	snprintf(what, sizeof(what), "listing links%s", nl_in_ns(netns, nsb, sizeof(nsb)));
	ret = nl_open(netns, &s, what, err, errlen);
	if (ret)
		return ret;
	addattr32(NLH(req), sizeof(req), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nl_talk(&s, NLH(req), link_list_cb, &ll, what, err, errlen);
	nl_close(&s);
	if (ret) {
		free(ll.v);
		return ret;
	}
	if (ll.n)
		qsort(ll.v, ll.n, sizeof(*ll.v), cmp_ifindex);
	*links = ll.v;
	*n = ll.n;
	return 0;
}

static int link_set(const char *netns, const char *ifname, const char *what,
		    unsigned int flags, unsigned int change, unsigned short type,
		    const void *data, size_t len, char *err, size_t errlen);

/*
 * The ownership mark on a link just created (and its veth peer): teardown
 * removes only links that carry it. A link that cannot be marked goes again,
 * or it would be left behind as nobody's.
 */
static int mark_new_link(const char *netns, const char *name, const char *peer_netns,
			 const char *peer, const char *what, char *err, size_t errlen)
{
	const char *m = ownmark();
	char how[64] = "setting its ownership alias";
	int ret;

	if (!m)
		return 0;
	ret = link_set(netns, name, how, 0, 0, IFLA_IFALIAS, m, strlen(m), NULL, 0);
	if (ret == 0 && peer)
		ret = link_set(peer_netns, peer, how, 0, 0, IFLA_IFALIAS, m, strlen(m), NULL, 0);
	if (ret < 0) {
		set_err(err, errlen, "%s: %s: %s", what, how, strerror(-ret));
		nl_link_del(netns, name, NULL, 0);
	}
	return ret;
}

/* The request's IFLA_IFNAME, then IFLA_LINKINFO with the kind and an open
 * IFLA_INFO_DATA nest for the kind's attributes. */
static void newlink_begin(struct link_req *req, const char *name, const char *kind,
			  struct rtattr **linkinfo, struct rtattr **data)
{
	*req = (struct link_req){
		LINK_REQ_LEN,
		.n.nlmsg_type = RTM_NEWLINK,
		.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL,
		.i.ifi_family = AF_UNSPEC,
	};
	addattr_str(NLH(*req), sizeof(*req), IFLA_IFNAME, name);
	*linkinfo = addattr_nest(NLH(*req), sizeof(*req), IFLA_LINKINFO);
	addattr_str(NLH(*req), sizeof(*req), IFLA_INFO_KIND, kind);
	*data = addattr_nest(NLH(*req), sizeof(*req), IFLA_INFO_DATA);
}

/* Closes the nests, sends the request and marks the new link (and its peer). */
static int newlink_send(const char *netns, struct link_req *req, struct rtattr *linkinfo,
			struct rtattr *data, const char *name, const char *peer_netns,
			const char *peer, const char *what, char *err, size_t errlen)
{
	int ret;

	addattr_nest_end(NLH(*req), data);
	addattr_nest_end(NLH(*req), linkinfo);
	ret = nl_send(netns, NLH(*req), what, err, errlen);
	if (ret == 0)
		ret = mark_new_link(netns, name, peer_netns, peer, what, err, errlen);
	return ret;
}

int nl_veth_add(const char *netns, const char *name, const char *peer,
		const char *peer_netns, char *err, size_t errlen)
{
	struct ifinfomsg peer_ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *linkinfo, *data, *peer_nest;
	char what[NL_WHAT_LEN], nsb[96], pnsb[96];
	struct link_req req;
	int peer_fd = -1;
	int ret = -1;

	snprintf(what, sizeof(what), "creating veth %s%s (peer %s%s)",
		 name ? name : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)),
		 peer ? peer : "(null)", nl_in_ns(peer_netns, pnsb, sizeof(pnsb)));
	if ((ret = nl_check_ifname(what, name, err, errlen)) ||
	    (ret = nl_check_ifname(what, peer, err, errlen)))
		return ret;

	if (peer_netns) {
		char tmp[256] = "";

		peer_fd = netns_open(peer_netns, tmp, sizeof(tmp));
		if (peer_fd < 0) {
			ret = peer_fd;
			set_err(err, errlen, "%s: %s", what, tmp);
			goto cleanup;
		}
	}

	newlink_begin(&req, name, "veth", &linkinfo, &data);
	/* VETH_INFO_PEER holds a whole ifinfomsg, then the peer's attributes. */
	peer_nest = addattr_nest(NLH(req), sizeof(req), VETH_INFO_PEER);
	req.n.nlmsg_len += sizeof(peer_ifi);
	memcpy(RTA_DATA(peer_nest), &peer_ifi, sizeof(peer_ifi));
	addattr_str(NLH(req), sizeof(req), IFLA_IFNAME, peer);
	if (peer_fd >= 0)
		addattr32(NLH(req), sizeof(req), IFLA_NET_NS_FD, peer_fd);
	addattr_nest_end(NLH(req), peer_nest);
	ret = newlink_send(netns, &req, linkinfo, data, name, peer_netns ? peer_netns : netns,
			   peer, what, err, errlen);

cleanup:
	if (peer_fd >= 0)
		close(peer_fd);
	return ret;
}

int nl_bridge_add(const char *netns, const char *name,
		  const struct nl_bridge_opts *opts, char *err, size_t errlen)
{
	static const struct nl_bridge_opts defaults = {
		.ageing_time_cs = 30000,
	};
	struct rtattr *linkinfo, *data;
	char what[NL_WHAT_LEN], nsb[96];
	struct link_req req;
	int ret;

	if (!opts)
		opts = &defaults;
	snprintf(what, sizeof(what), "creating bridge %s%s", name ? name : "(null)",
		 nl_in_ns(netns, nsb, sizeof(nsb)));
	ret = nl_check_ifname(what, name, err, errlen);
	if (ret)
		return ret;

	newlink_begin(&req, name, "bridge", &linkinfo, &data);
	/* The kernel applies forward delay before STP state; with STP off it
	 * accepts any delay, including 0. */
	addattr32(NLH(req), sizeof(req), IFLA_BR_FORWARD_DELAY, opts->forward_delay_cs);
	addattr32(NLH(req), sizeof(req), IFLA_BR_AGEING_TIME, opts->ageing_time_cs);
	addattr32(NLH(req), sizeof(req), IFLA_BR_STP_STATE, opts->stp ? 1 : 0);
	/* Off is the default; asking for it anyway fails with EOPNOTSUPP on
	 * kernels built without CONFIG_BRIDGE_VLAN_FILTERING (this host). */
	if (opts->vlan_filtering)
		addattr8(NLH(req), sizeof(req), IFLA_BR_VLAN_FILTERING, 1);
	return newlink_send(netns, &req, linkinfo, data, name, NULL, NULL, what, err, errlen);
}

/*
 * RTM_SETLINK on ifname, with one attribute (or none: flags only). The link
 * is named by IFLA_IFNAME, so a missing one gives ENODEV from the kernel.
 */
static int link_set(const char *netns, const char *ifname, const char *what,
		    unsigned int flags, unsigned int change, unsigned short type,
		    const void *data, size_t len, char *err, size_t errlen)
{
	struct link_req req = {
		LINK_REQ_LEN,
		.n.nlmsg_type = RTM_SETLINK,
		.i.ifi_family = AF_UNSPEC,
		.i.ifi_flags = flags,
		.i.ifi_change = change,
	};
	int ret;

	ret = nl_check_ifname(what, ifname, err, errlen);
	if (ret)
		return ret;
	addattr_str(NLH(req), sizeof(req), IFLA_IFNAME, ifname);
	if (type)
		addattr_l(NLH(req), sizeof(req), type, data, len);
	ret = nl_send(netns, NLH(req), what, err, errlen);
	return ret;
}

int nl_link_set_master(const char *netns, const char *ifname,
		       const char *master, char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];
	struct nl_link m;
	struct nl_sock s;
	uint32_t idx = 0;
	int ret;

	if (master)
		snprintf(what, sizeof(what), "adding %s to %s%s",
			 ifname ? ifname : "(null)", master, nl_in_ns(netns, nsb, sizeof(nsb)));
	else
		snprintf(what, sizeof(what), "releasing %s from its master%s",
			 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	if (master) {
		/* IFLA_MASTER wants an ifindex, and only this netns knows it. */
		ret = nl_open(netns, &s, what, err, errlen);
		if (ret)
			return ret;
		ret = link_get(&s, master, &m, what, err, errlen);
		nl_close(&s);
		if (ret)
			return ret;
		idx = m.ifindex;
	}
	return link_set(netns, ifname, what, 0, 0, IFLA_MASTER, &idx, sizeof(idx),
			err, errlen);
}

int nl_link_set_up(const char *netns, const char *ifname, bool up,
		   char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];

	snprintf(what, sizeof(what), "setting %s %s%s", ifname ? ifname : "(null)",
		 up ? "up" : "down", nl_in_ns(netns, nsb, sizeof(nsb)));
	return link_set(netns, ifname, what, up ? IFF_UP : 0, IFF_UP, 0, NULL, 0,
			err, errlen);
}

int nl_link_set_mtu(const char *netns, const char *ifname, unsigned int mtu,
		    char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];
	uint32_t v = mtu;

	snprintf(what, sizeof(what), "setting MTU %u on %s%s", mtu,
		 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	return link_set(netns, ifname, what, 0, 0, IFLA_MTU, &v, sizeof(v),
			err, errlen);
}

int nl_link_set_mac(const char *netns, const char *ifname,
		    const uint8_t mac[6], char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96], m[18];

	cs_mac_format(mac, m);
	snprintf(what, sizeof(what), "setting MAC %s on %s%s", m,
		 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	return link_set(netns, ifname, what, 0, 0, IFLA_ADDRESS, mac, 6,
			err, errlen);
}

int nl_link_set_alias(const char *netns, const char *ifname, const char *alias,
		      char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];

	snprintf(what, sizeof(what), "setting the alias of %s%s", ifname ? ifname : "(null)",
		 nl_in_ns(netns, nsb, sizeof(nsb)));
	return link_set(netns, ifname, what, 0, 0, IFLA_IFALIAS, alias, strlen(alias), err,
			errlen);
}

int nl_link_del(const char *netns, const char *ifname, char *err, size_t errlen)
{
	struct link_req req = {
		LINK_REQ_LEN,
		.n.nlmsg_type = RTM_DELLINK,
		.i.ifi_family = AF_UNSPEC,
	};
	char what[NL_WHAT_LEN], nsb[96];
	int ret;

	snprintf(what, sizeof(what), "deleting link %s%s", ifname ? ifname : "(null)",
		 nl_in_ns(netns, nsb, sizeof(nsb)));
	ret = nl_check_ifname(what, ifname, err, errlen);
	if (ret)
		return ret;
	addattr_str(NLH(req), sizeof(req), IFLA_IFNAME, ifname);
	ret = nl_send(netns, NLH(req), what, err, errlen);
	return ret;
}

/* ---- IPv4 addresses ------------------------------------------------------- */

/* Opens a socket in netns and resolves ifname there (ifname NULL: index 0). */
int nl_open_and_resolve(const char *netns, const char *ifname, struct nl_sock *s,
			    int *ifindex, const char *what, char *err, size_t errlen)
{
	struct nl_link l;
	int ret;

	*ifindex = 0;
	ret = nl_open(netns, s, what, err, errlen);
	if (ret || !ifname)
		return ret;
	ret = link_get(s, ifname, &l, what, err, errlen);
	if (ret) {
		nl_close(s);
		return ret;
	}
	*ifindex = l.ifindex;
	return 0;
}

int nl_addr4_add(const char *netns, const char *ifname, struct in_addr addr,
		 unsigned int prefixlen, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr n;
		struct ifaddrmsg a;
		char buf[128];
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
		.n.nlmsg_type = RTM_NEWADDR,
		.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL,
		.a.ifa_family = AF_INET,
		.a.ifa_prefixlen = prefixlen,
		.a.ifa_scope = RT_SCOPE_UNIVERSE,
	};
	char what[NL_WHAT_LEN], nsb[96], a[INET_ADDRSTRLEN];
	struct nl_sock s;
	int ifindex, ret;

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(what, sizeof(what), "adding address %s/%u to %s%s", a, prefixlen,
		 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	if (prefixlen > 32) {
		set_err(err, errlen, "%s: prefix length over 32", what);
		return -EINVAL;
	}
	if (!ifname)
		return nl_check_ifname(what, ifname, err, errlen);
	ret = nl_open_and_resolve(netns, ifname, &s, &ifindex, what, err, errlen);
	if (ret)
		return ret;
	req.a.ifa_index = ifindex;
	addattr_l(NLH(req), sizeof(req), IFA_LOCAL, &addr, sizeof(addr));
	addattr_l(NLH(req), sizeof(req), IFA_ADDRESS, &addr, sizeof(addr));
	if (prefixlen < 31) {
		uint32_t host = prefixlen ? 0xffffffffu >> prefixlen : 0xffffffffu;
		struct in_addr brd = { .s_addr = addr.s_addr | htonl(host) };

		addattr_l(NLH(req), sizeof(req), IFA_BROADCAST, &brd, sizeof(brd));
	}
	ret = nl_talk(&s, NLH(req), NULL, NULL, what, err, errlen);
	nl_close(&s);
	return ret;
}

/* ---- neighbours and FDB (both RTM_*NEIGH) ------------------------------------ */

struct neigh_req {
	struct nlmsghdr n;
	struct ndmsg nd;
	char buf[128];
};

int nl_neigh4_set(const char *netns, const char *ifname, struct in_addr dst,
		  const uint8_t mac[6], char *err, size_t errlen)
{
	struct neigh_req req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.n.nlmsg_type = RTM_NEWNEIGH,
		.n.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE,
		.nd.ndm_family = AF_INET,
		.nd.ndm_state = NUD_PERMANENT,
	};
	char what[NL_WHAT_LEN], nsb[96], a[INET_ADDRSTRLEN], m[18];
	struct nl_sock s;
	int ifindex, ret;

	inet_ntop(AF_INET, &dst, a, sizeof(a));
	cs_mac_format(mac, m);
	snprintf(what, sizeof(what), "adding neighbour %s lladdr %s on %s%s", a, m,
		 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	if (!ifname)
		return nl_check_ifname(what, ifname, err, errlen);
	ret = nl_open_and_resolve(netns, ifname, &s, &ifindex, what, err, errlen);
	if (ret)
		return ret;
	req.nd.ndm_ifindex = ifindex;
	addattr_l(NLH(req), sizeof(req), NDA_DST, &dst, sizeof(dst));
	addattr_l(NLH(req), sizeof(req), NDA_LLADDR, mac, 6);
	ret = nl_talk(&s, NLH(req), NULL, NULL, what, err, errlen);
	nl_close(&s);
	return ret;
}

int nl_fdb_modify(const char *netns, const char *port, const uint8_t mac[6],
		      bool add, char *err, size_t errlen)
{
	/* What "bridge fdb replace MAC dev PORT master static" sends. */
	struct neigh_req req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.n.nlmsg_type = add ? RTM_NEWNEIGH : RTM_DELNEIGH,
		.n.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_REPLACE : 0,
		.nd.ndm_family = AF_BRIDGE,
		.nd.ndm_flags = NTF_MASTER,
		/* NOARP = static. NUD_PERMANENT would make a "local" entry: frames
		 * to mac would be taken by the bridge itself, not sent to port. */
		.nd.ndm_state = NUD_NOARP | NUD_REACHABLE,
	};
	char what[NL_WHAT_LEN], nsb[96], m[18];
	struct nl_sock s;
	int ifindex, ret;

	cs_mac_format(mac, m);
	snprintf(what, sizeof(what), "%s static FDB entry %s on port %s%s",
		 add ? "adding" : "deleting", m, port ? port : "(null)",
		 nl_in_ns(netns, nsb, sizeof(nsb)));
	if (!port)
		return nl_check_ifname(what, port, err, errlen);
	ret = nl_open_and_resolve(netns, port, &s, &ifindex, what, err, errlen);
	if (ret)
		return ret;
	req.nd.ndm_ifindex = ifindex;
	addattr_l(NLH(req), sizeof(req), NDA_LLADDR, mac, 6);
	ret = nl_talk(&s, NLH(req), NULL, NULL, what, err, errlen);
	nl_close(&s);
	return ret;
}

int nl_fdb_add(const char *netns, const char *port, const uint8_t mac[6],
	       char *err, size_t errlen)
{
	return nl_fdb_modify(netns, port, mac, true, err, errlen);
}

int nl_brport_set_flags(const char *netns, const char *ifname,
			const struct nl_brport_flags *f, char *err, size_t errlen)
{
	struct link_req req = {
		LINK_REQ_LEN,
		.n.nlmsg_type = RTM_SETLINK,
		.i.ifi_family = AF_BRIDGE,
	};
	char what[NL_WHAT_LEN], nsb[96];
	struct rtattr *protinfo;
	struct nl_sock s;
	int ifindex, ret;

	snprintf(what, sizeof(what),
		 "setting bridge port %s%s learning %s flood %s mcast_flood %s bcast_flood %s",
		 ifname ? ifname : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)),
		 f->learning ? "on" : "off", f->unicast_flood ? "on" : "off",
		 f->mcast_flood ? "on" : "off", f->bcast_flood ? "on" : "off");
	if (!ifname)
		return nl_check_ifname(what, ifname, err, errlen);
	/* The bridge's setlink finds the port by index only. */
	ret = nl_open_and_resolve(netns, ifname, &s, &ifindex, what, err, errlen);
	if (ret)
		return ret;
	req.i.ifi_index = ifindex;
	/* Nested: a flat IFLA_PROTINFO would set the STP port state instead. */
	protinfo = addattr_nest(NLH(req), sizeof(req), IFLA_PROTINFO | NLA_F_NESTED);
	addattr8(NLH(req), sizeof(req), IFLA_BRPORT_LEARNING, f->learning);
	addattr8(NLH(req), sizeof(req), IFLA_BRPORT_UNICAST_FLOOD, f->unicast_flood);
	addattr8(NLH(req), sizeof(req), IFLA_BRPORT_MCAST_FLOOD, f->mcast_flood);
	addattr8(NLH(req), sizeof(req), IFLA_BRPORT_BCAST_FLOOD, f->bcast_flood);
	addattr_nest_end(NLH(req), protinfo);
	ret = nl_talk(&s, NLH(req), NULL, NULL, what, err, errlen);
	nl_close(&s);
	return ret;
}

static int open_inet_socket(void *arg)
{
	int *fd = arg;

	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return *fd < 0 ? -errno : 0;
}

/* SIOCETHTOOL acts on the netns of the socket it is issued on. */
int nl_ethtool_value(const char *netns, const char *ifname, uint32_t cmd,
			 uint32_t *data, const char *what, char *err, size_t errlen)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *data };
	struct ifreq ifr = { 0 };
	char tmp[256] = "";
	int fd = -1, ret;

	ret = nl_check_ifname(what, ifname, err, errlen);
	if (ret)
		return ret;
	ret = netns_run(netns, open_inet_socket, &fd, tmp, sizeof(tmp));
	if (ret) {
		set_err(err, errlen, "%s: %s", what, tmp[0] ? tmp : strerror(-ret));
		return ret;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", what, strerror(-ret));
	} else {
		*data = ev.data;
	}
	close(fd);
	return ret;
}

int nl_link_set_tx_csum(const char *netns, const char *ifname, bool on,
			char *err, size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96];
	uint32_t v = on;

	snprintf(what, sizeof(what), "turning tx checksum offload %s on %s%s",
		 on ? "on" : "off", ifname ? ifname : "(null)",
		 nl_in_ns(netns, nsb, sizeof(nsb)));
	return nl_ethtool_value(netns, ifname, ETHTOOL_STXCSUM, &v, what, err, errlen);
}

int nl_vxlan_add(const char *netns, const char *name, const struct nl_vxlan_opts *o,
		 char *err, size_t errlen)
{
	struct rtattr *linkinfo, *data;
	char what[NL_WHAT_LEN], nsb[96], local[INET_ADDRSTRLEN];
	struct link_req req;
	int ret;

	inet_ntop(AF_INET, &o->local, local, sizeof(local));
	snprintf(what, sizeof(what), "creating vxlan %s (VNI %u, local %s, port %u)%s",
		 name ? name : "(null)", o->vni, local, o->port, nl_in_ns(netns, nsb, sizeof(nsb)));
	ret = nl_check_ifname(what, name, err, errlen);
	if (ret)
		return ret;
	newlink_begin(&req, name, "vxlan", &linkinfo, &data);
	addattr32(NLH(req), sizeof(req), IFLA_VXLAN_ID, o->vni);
	addattr_l(NLH(req), sizeof(req), IFLA_VXLAN_LOCAL, &o->local, 4);
	{
		uint16_t port = htons(o->port);

		addattr_l(NLH(req), sizeof(req), IFLA_VXLAN_PORT, &port, 2);
	}
	/* No learning: the control plane's static FDB says where each MAC is. */
	addattr8(NLH(req), sizeof(req), IFLA_VXLAN_LEARNING, o->learning ? 1 : 0);
	/* Outer UDP checksum 0 (allowed over IPv4): no CHECKSUM_PARTIAL frame
	 * for a user-space hop on the underlay to forward half-done. */
	addattr8(NLH(req), sizeof(req), IFLA_VXLAN_UDP_CSUM, o->udp_csum ? 1 : 0);
	if (o->ttl)
		addattr8(NLH(req), sizeof(req), IFLA_VXLAN_TTL, o->ttl);
	return newlink_send(netns, &req, linkinfo, data, name, NULL, NULL, what, err, errlen);
}

/* What "bridge fdb replace MAC dev VXLAN dst IP self permanent" sends. */
int nl_vxlan_fdb_add(const char *netns, const char *dev, const uint8_t mac[6],
		     struct in_addr dst, char *err, size_t errlen)
{
	struct neigh_req req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.n.nlmsg_type = RTM_NEWNEIGH,
		.n.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE,
		.nd.ndm_family = AF_BRIDGE,
		.nd.ndm_flags = NTF_SELF,
		.nd.ndm_state = NUD_PERMANENT,
	};
	char what[NL_WHAT_LEN], nsb[96], m[18], ip[INET_ADDRSTRLEN];
	struct nl_sock s;
	int ifindex, ret;

	cs_mac_format(mac, m);
	inet_ntop(AF_INET, &dst, ip, sizeof(ip));
	snprintf(what, sizeof(what), "adding VXLAN FDB entry %s -> VTEP %s on %s%s", m, ip,
		 dev ? dev : "(null)", nl_in_ns(netns, nsb, sizeof(nsb)));
	if (!dev)
		return nl_check_ifname(what, dev, err, errlen);
	ret = nl_open_and_resolve(netns, dev, &s, &ifindex, what, err, errlen);
	if (ret)
		return ret;
	req.nd.ndm_ifindex = ifindex;
	addattr_l(NLH(req), sizeof(req), NDA_LLADDR, mac, 6);
	addattr_l(NLH(req), sizeof(req), NDA_DST, &dst, 4);
	ret = nl_talk(&s, NLH(req), NULL, NULL, what, err, errlen);
	nl_close(&s);
	return ret;
}

/* A link into another namespace; its alias (the ownership mark) goes with
 * it. Emulated hosts take their guests' taps this way. */
int nl_link_set_netns(const char *netns, const char *ifname, const char *to_netns, char *err,
		      size_t errlen)
{
	char what[NL_WHAT_LEN], nsb[96], tmp[256] = "";
	int fd, ret;
	uint32_t v;

	snprintf(what, sizeof(what), "moving %s%s into netns %s", ifname ? ifname : "(null)",
		 nl_in_ns(netns, nsb, sizeof(nsb)), to_netns ? to_netns : "(null)");
	fd = netns_open(to_netns, tmp, sizeof(tmp));
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", what, tmp);
		return fd;
	}
	v = fd;
	ret = link_set(netns, ifname, what, 0, 0, IFLA_NET_NS_FD, &v, sizeof(v), err, errlen);
	close(fd);
	return ret;
}
