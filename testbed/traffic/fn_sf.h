/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Service functions that do something to the traffic (issue 12), run like
 * the wire (fn.h) as supervised processes on an SF node:
 *
 *   cadeia-bench fn firewall|nat|lb|monitor --netns NS --dev IF --config FILE
 *                [--node NAME] [--cpu N] [--ready-fd FD]
 *
 * FILE is JSON written by the orchestrator (backend/fn_conf.c):
 *   firewall  "nft": path of an nft script that creates table netdev
 *             cadeia_fw with the scenario's rules in an ingress chain on IF
 *   nat       "nat_address", "hosts": [{"ip","mac"}] (where replies go)
 *   lb        "backends": [{"name","ip","mac"}], "vip", "spread": CSV path
 *   monitor   "flows": CSV path
 *   all       "mac" (the node's own), "label" (architecture, first CSV column)
 *
 * Placement (docs/architecture.md, "Functions"):
 * - firewall, lb and monitor are NSH-unaware: dec and enc strip and restore
 *   NSH around them, they see the plain inner frame and never change its
 *   5-tuple (enc finds the saved NSH by it). Their AF_PACKET socket is bound
 *   to ETH_P_IP, not ETH_P_ALL: protocol handlers run after the netfilter
 *   netdev ingress hook, so what the firewall's nftables drops never reaches
 *   the socket, and what it accepts is reflected back out.
 * - nat changes the 5-tuple, so it is NSH-aware: only fwd is attached, it
 *   keeps the frame's NSH itself (SI - 1, as fn nsh-aware), and rewrites the
 *   inner IPv4 source to nat_address. Replies are plain IPv4 to nat_address
 *   (static neighbour: the NAT's MAC): it restores them and sends them to the
 *   original source directly, as replies of any chained flow travel.
 *
 * SIGTERM ends the function: files are written, counters printed, the
 * firewall's table deleted.
 */
#ifndef CADEIA_FN_SF_H
#define CADEIA_FN_SF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "firewall", "nat", "lb" or "monitor". */
bool fnx_is_kind(const char *kind);
/* argv as fn_main gets it ("fn" may lead). Returns the exit status. */
int fnx_main(int argc, char **argv);

/* ---- exposed for the tests ---- */

struct fnx_tuple {
	uint8_t proto;
	uint32_t saddr, daddr; /* network order */
	uint16_t sport, dport; /* host order; ICMP echo: id, 0 */
};

/* Offset of the inner IPv4 header in an Ethernet frame (VLAN tags skipped),
 * or -1 when it carries none. */
long fnx_ipv4_offset(const uint8_t *frame, size_t len);
/* The IPv4 packet at ip (len bytes): its 5-tuple. -1 if too short. */
int fnx_tuple(const uint8_t *ip, size_t len, struct fnx_tuple *t);
/* Rewrites the source (src=true) or destination address and port/ICMP id
 * and makes the IPv4 and L4 checksums right again. 0 or -1. */
int fnx_rewrite(uint8_t *ip, size_t len, bool src, uint32_t addr, uint16_t port);
/* FNV-1a of the 5-tuple: the load balancer's choice. */
uint32_t fnx_hash(const struct fnx_tuple *t);

#endif
