/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Raw rtnetlink for the testbed: links (veth, bridge), addresses, neighbours,
 * bridge ports and FDB, plus the one ethtool setting the testbed needs.
 *
 * Every call takes the name of a netns under /run/netns (NULL = the calling
 * thread's current netns); the netlink socket is opened inside it, so the
 * objects named are looked up there.
 *
 * Errors: every int function returns 0 on success or a negative errno, and
 * writes a one-line message naming the object into err[errlen] (err may be
 * NULL), e.g. "creating veth cb12ab-sf1 (peer eth0 in netns cb12ab-sf1): File
 * exists". When the kernel explains itself (extended ack), its text follows
 * in parentheses: "...: Invalid argument (kernel: MTU too large)".
 */
#ifndef CADEIA_NL_H
#define CADEIA_NL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- links ---------------------------------------------------------------- */

struct nl_link {
	char name[IF_NAMESIZE];
	char kind[16];       /* IFLA_INFO_KIND ("veth", "bridge"), "" if none */
	int ifindex;
	int master;          /* ifindex of the master (bridge), 0 if none */
	unsigned int flags;  /* IFF_* */
	unsigned int mtu;
	uint8_t mac[6];
	char alias[128];     /* IFLA_IFALIAS, "" if none (the ownership mark) */
};

/*
 * Links created by nl_veth_add and nl_bridge_add carry the process's
 * ownership mark as alias when one is set (sys/ownmark.h): both ends of a
 * veth. A link whose mark cannot be set is deleted again and the creation
 * fails.
 */

/* Creates veth <name> in netns, with its peer named <peer> created directly
 * in peer_netns (NULL = same netns as <name>). Both ends start down. */
int nl_veth_add(const char *netns, const char *name, const char *peer,
		const char *peer_netns, char *err, size_t errlen);

struct nl_bridge_opts {
	bool vlan_filtering; /* true fails (EOPNOTSUPP) on kernels without
			      * CONFIG_BRIDGE_VLAN_FILTERING, like this host's */
	bool stp;
	unsigned int forward_delay_cs; /* centiseconds */
	unsigned int ageing_time_cs;   /* centiseconds; kernel default 30000 */
};
/* Creates a bridge. opts NULL = vlan filtering off, STP off, forward delay
 * 0, ageing 300 s. */
int nl_bridge_add(const char *netns, const char *name,
		  const struct nl_bridge_opts *opts, char *err, size_t errlen);

/* Enslaves ifname to master (a bridge in the same netns); NULL = release. */
int nl_link_set_master(const char *netns, const char *ifname,
		       const char *master, char *err, size_t errlen);
int nl_link_set_up(const char *netns, const char *ifname, bool up,
		   char *err, size_t errlen);
int nl_link_set_mtu(const char *netns, const char *ifname, unsigned int mtu,
		    char *err, size_t errlen);
int nl_link_set_mac(const char *netns, const char *ifname,
		    const uint8_t mac[6], char *err, size_t errlen);
/* Sets (or with "" clears) the link's alias, IFLA_IFALIAS. */
int nl_link_set_alias(const char *netns, const char *ifname, const char *alias,
		      char *err, size_t errlen);
/* Deleting one end of a veth deletes both. -ENODEV if there is no link. */
int nl_link_del(const char *netns, const char *ifname, char *err, size_t errlen);

/* Looks a link up by name. -ENODEV if absent. */
int nl_link_get(const char *netns, const char *ifname, struct nl_link *link,
		char *err, size_t errlen);
/* Links whose name starts with prefix (NULL or "" = all), in ifindex order.
 * *links is malloc'd (NULL if none); free() it. */
int nl_link_list(const char *netns, const char *prefix, struct nl_link **links,
		 size_t *n, char *err, size_t errlen);

/* The tests read these back (tests/support/support.h). */

/* ---- IPv4 addresses and neighbours --------------------------------------- */

struct nl_addr4 {
	int ifindex;
	struct in_addr addr;
	unsigned int prefixlen;
};
/* Adds addr/prefixlen to ifname. -EEXIST if already there. */
int nl_addr4_add(const char *netns, const char *ifname, struct in_addr addr,
		 unsigned int prefixlen, char *err, size_t errlen);

struct nl_neigh4 {
	int ifindex;
	struct in_addr dst;
	uint8_t mac[6];
	uint16_t state;      /* NUD_* */
};
/* Adds or replaces a permanent neighbour entry dst -> mac on ifname. */
int nl_neigh4_set(const char *netns, const char *ifname, struct in_addr dst,
		  const uint8_t mac[6], char *err, size_t errlen);

/* ---- bridge ports and FDB ------------------------------------------------- */

struct nl_brport_flags {
	bool learning;
	bool unicast_flood;
	bool mcast_flood;
	bool bcast_flood;
};
/* Sets all four flags on bridge port ifname. Ports of reflecting functions
 * want them all off (see the facts file, "Linux bridge"). */
int nl_brport_set_flags(const char *netns, const char *ifname,
			const struct nl_brport_flags *f, char *err, size_t errlen);

struct nl_fdb {
	int ifindex;         /* port */
	int master;          /* bridge ifindex, 0 if not given */
	uint8_t mac[6];
	uint16_t state;      /* NUD_NOARP = static, NUD_PERMANENT = local */
	uint8_t flags;       /* NTF_* as dumped (the bridge reports NTF_MASTER
	                      * through master, not here) */
	uint16_t vlan;       /* 0 if none */
};
/*
 * Adds a static FDB entry "mac is behind port" on the port's bridge, as
 * "bridge fdb replace <mac> dev <port> master static" does: never ages, is
 * forwarded to the port (not delivered locally, unlike "permanent").
 */
int nl_fdb_add(const char *netns, const char *port, const uint8_t mac[6],
	       char *err, size_t errlen);

/* ---- ethtool -------------------------------------------------------------- */

/* Turns transmit checksum offload on or off (ethtool -K <if> tx off): frames
 * then leave with complete checksums, which user-space functions that
 * forward frames as they are need. */
int nl_link_set_tx_csum(const char *netns, const char *ifname, bool on,
			char *err, size_t errlen);

/* ---- VXLAN (several hosts, model/hosts.h) --------------------------------- */

struct nl_vxlan_opts {
	uint32_t vni;
	struct in_addr local; /* this host's VTEP address on the underlay */
	uint16_t port;        /* UDP destination port, host order (4789) */
	bool learning;        /* false: only the static FDB below */
	bool udp_csum;        /* outer UDP checksum; false = 0 */
	uint8_t ttl;          /* 0 = kernel default */
};
/* Creates a VXLAN device without a default remote (unknown MACs are
 * dropped, never flooded); carries the ownership mark like every link. */
int nl_vxlan_add(const char *netns, const char *name, const struct nl_vxlan_opts *o,
		 char *err, size_t errlen);
/* Moves ifname from netns into to_netns (by name under /run/netns). */
int nl_link_set_netns(const char *netns, const char *ifname, const char *to_netns, char *err,
		      size_t errlen);
/* Static VXLAN FDB entry on the device itself: frames to mac go to the VTEP
 * dst ("bridge fdb replace MAC dev DEV dst DST self permanent"). */
int nl_vxlan_fdb_add(const char *netns, const char *dev, const uint8_t mac[6],
		     struct in_addr dst, char *err, size_t errlen);

/* MACs in text: cs_mac_parse() and cs_mac_format() (cadeia_stage.h). */

#endif /* CADEIA_NL_H */
