/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Open vSwitch as the central SFF of the ovs-nsh architecture, on OVS's
 * userspace datapath (datapath_type=netdev: the host kernel has no
 * openvswitch module). Each run starts its own ovsdb-server and ovs-vswitchd
 * inside the SFF's netns, with every socket, pidfile, database and log under
 * RS_DIR/<run id>/ovs-<node>/; nothing else about OVS on the machine is
 * touched. OVS has no C library in Debian, so this drives ovs-vsctl,
 * ovs-ofctl and ovs-appctl.
 *
 * The SFF's forwarding table becomes OpenFlow rules on bridge br0 (one
 * port, eth0; fail-mode secure, so anything unmatched is dropped):
 *   FWD_NEXT_HOP  dl_dst=SFF,nsh_spi=S,nsh_si=I
 *                 -> dec_nsh_ttl, eth_src=SFF, eth_dst=MAC, out in_port
 *   FWD_END       same match, per next protocol: Ethernet inside ->
 *                 decap(), decap(), out in_port (the inner frame as it is);
 *                 IPv4 inside -> decap(), decap(), encap(ethernet),
 *                 eth_src=SFF, eth_dst=MAC, out in_port
 *   NSH TTL 0 or 1 is dropped by higher-priority rules, so the forwarding
 *   rules' packet counters count forwarded frames only.
 *
 * Errors: 0 on success or a negative errno, with a one-line message naming
 * the object in err.
 */
#ifndef CADEIA_SFF_OVS_H
#define CADEIA_SFF_OVS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cadeia_stage.h"

struct sff_ovs {
	char dir[128];     /* RS_DIR/<run id>/ovs-<node> */
	char netns[64];
	char ifname[16];
	uint8_t mac[6];    /* the SFF's: match and new source of every frame */
	char log_dir[256]; /* daemons' logs; "" = in dir */
};

void sff_ovs_init(struct sff_ovs *o, const char *run_id, const char *node, const char *netns,
		  const char *ifname, const uint8_t mac[6], const char *log_dir);

/*
 * Whether OVS's userspace datapath forwards NSH on this machine: OVS must
 * be installed, and a throw-away OVS in netns "<run id>-ovsprobe" must
 * forward and end a test NSH frame as described above. The answer is cached
 * per boot in RS_DIR/ovs-nsh-probe (keyed by the OVS version). 0 = usable;
 * -EOPNOTSUPP with the reason in err otherwise.
 */
int sff_ovs_available(const char *run_id, char *err, size_t errlen);

/* Starts the daemons and br0 on o->ifname in o->netns; no rules yet, so
 * every frame is dropped. On failure the caller tears down by prefix. */
int sff_ovs_start(const struct sff_ovs *o, char *err, size_t errlen);

/* Replaces every rule of br0 with those of this table, atomically
 * (ovs-ofctl replace-flows). Rules with an ifindex or FWD_F_KEEP_TTL have no
 * OVS equivalent here: -EOPNOTSUPP. */
int sff_ovs_install(const struct sff_ovs *o, const struct cs_fwd_rule *rules, size_t n,
		    char *err, size_t errlen);

/* Reads br0's rules back as a table (in: capacity of rules, out: count);
 * -EIO if a rule is not one sff_ovs_install writes. */
int sff_ovs_read(const struct sff_ovs *o, struct cs_fwd_rule *rules, size_t *n, char *err,
		 size_t errlen);

/* Frames forwarded or delivered at the end of a chain so far: the sum of
 * the forwarding rules' packet counters, after the datapath's pending
 * statistics are pushed. */
int sff_ovs_forwarded(const struct sff_ovs *o, unsigned long long *count, char *err,
		      size_t errlen);

/*
 * The pieces above without a local OVS, for an SFF elsewhere (the OVS in
 * an SFF guest of the libvirt backend): only o->mac and o->netns (a name
 * for messages) are used.
 *   sff_ovs_write_flows: the rules of this table as ovs-ofctl flow lines,
 *     the file replace-flows takes (errors as sff_ovs_install).
 *   sff_ovs_parse_flows: a `ovs-ofctl --no-stats dump-flows` text (modified
 *     in place) back into a table, as sff_ovs_read.
 *   sff_ovs_count_forwarded: the sum of the forwarding rules' n_packets in
 *     a `dump-flows` text with statistics (modified in place).
 */
int sff_ovs_write_flows(const struct sff_ovs *o, FILE *f, const struct cs_fwd_rule *rules,
			size_t n, char *err, size_t errlen);
int sff_ovs_parse_flows(const struct sff_ovs *o, char *dump, struct cs_fwd_rule *rules, size_t *n,
			char *err, size_t errlen);
unsigned long long sff_ovs_count_forwarded(char *dump);

/* Stops this SFF's daemons and removes its directory. */
void sff_ovs_stop(const struct sff_ovs *o);

/* Stops the daemons of every SFF under RS_DIR/<id>/ (prefix "<id>-") and
 * removes their directories; only processes whose command line names that
 * directory are signalled. Returns the number of failures. */
int sff_ovs_teardown(const char *prefix, void (*log)(const char *what, void *arg), void *arg);

#endif
