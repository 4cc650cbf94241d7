/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Several hosts: the scenario's optional "hosts" list, each node's "host",
 * the "underlay" that joins the hosts, and the MTU arithmetic of NSH inside
 * VXLAN. Without "hosts" everything is local, as before (n == 0).
 *
 *   "hosts": [ { "name": "h1", "uri": "qemu:///system", "address": "192.168.77.1" },
 *              { "name": "h2", "uri": "qemu+ssh://root@h2/system", "address": "192.168.77.2",
 *                "delay_us": 200 } ],
 *   "underlay": { "mtu": 1650 },
 *   "nodes": [ { "name": "sf1", "role": "sf", "host": "h2" }, ... ]
 *
 * A node without "host" lives on the first host listed. A host's "delay_us"
 * is the one-way delay of its link to the underlay (emulated hosts only): a
 * frame from host a to host b is held delay(a) + delay(b). Included by
 * scenario.h after its limits (SC_MAX_NODES, SC_NAME_MAX).
 */
#ifndef CADEIA_HOSTS_H
#define CADEIA_HOSTS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define SC_MAX_HOSTS 8
#define SC_URI_MAX 256
#define SC_VXLAN_PORT 4789 /* IANA */

/*
 * The MTU arithmetic, once (docs/architecture.md, "Several hosts"):
 *   inner IP packet                          1500 (src and dest links)
 *   + inner Ethernet 14 + NSH 8 (MD2, no TLVs) or 24 (MD1)
 *   = the overlay MTU needed: network.mtu must be at least this
 *   + Ethernet 14 of the overlay frame (carried whole) + VXLAN 8 + UDP 8 + IPv4 20
 *   = the underlay MTU needed: underlay.mtu must be at least network.mtu + 50
 * On the underlay wire a frame is underlay.mtu + 14 bytes of Ethernet.
 */
#define HOSTS_INNER_IP 1500
#define HOSTS_ETH 14
#define HOSTS_NSH_MD2 8
#define HOSTS_NSH_MD1 24
#define HOSTS_VXLAN_OVERHEAD (HOSTS_ETH + 8 + 8 + 20)
/* With any host delay the underlay is the delay line (traffic/delayline.h),
 * a user-space hop: it holds every frame this much on top of the hosts'
 * delays, so that its own wake-up time is inside a known hold instead of
 * adding a variable amount. Part of every crossing's configured delay. */
#define HOSTS_DELAY_BASE_US 100

struct sc_host {
	char name[SC_NAME_MAX];
	char uri[SC_URI_MAX];
	uint32_t addr;            /* underlay IPv4, network order */
	unsigned delay_us;        /* one way, this host's link to the underlay */
};

struct sc_hosts {
	int n;                    /* 0: no "hosts", everything local */
	struct sc_host host[SC_MAX_HOSTS];
	int node_host[SC_MAX_NODES]; /* scenario nodes (from the file) -> host index */
	int n_file_nodes;         /* nodes the file names (arch_expand adds more) */
	unsigned underlay_mtu;    /* IP MTU of the underlay links */
	bool any_delay;           /* some host has a delay: the delay line */
	unsigned nsh_bytes;       /* the largest NSH header a chain uses */
};

struct scenario;
struct jpos;
struct sc_err;

/*
 * Parses "hosts", "underlay" and every node's "host" of root into
 * sc->hosts; run after nodes, chains and network are parsed. Errors as
 * every other scenario error: "file:line:col: path: what", -EINVAL.
 */
int sc_hosts_parse(const char *file, const struct jpos *pos, json_t *root, struct scenario *sc,
		   struct sc_err *err);

/* The host of node i (0 without hosts). Generated nodes: a proxy follows its
 * SF, the star's SFF lives on the first host. */
int sc_node_host(const struct scenario *sc, int i);
/* Underlay crossings of one probe's round trip on chain c at length L: the
 * request src -> SFs -> dest and the reply dest -> src (plain IP). delay_us
 * (may be NULL): the configured delay those crossings add, in total. */
int sc_hosts_crossings(const struct scenario *sc, int c, int length, unsigned long *delay_us);
/* The MTU arithmetic above as JSON (for meta.json). */
json_t *sc_hosts_mtu_json(const struct scenario *sc);

#endif
