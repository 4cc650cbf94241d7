/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Emulated hosts for the netns backend (model/hosts.h): each host is a
 * network namespace "<id>-host.<name>" holding that host's bridge and its
 * VXLAN device "vx"; nodes attach to their host's bridge. The hosts' "ul"
 * links meet in "<id>-.underlay": a bridge, or, with underlay.delay_us, the
 * delay line (traffic/delayline.h; this kernel has no netem). One VNI per
 * run, learning off, and a static FDB from the control plane: each node's
 * MAC -> its host's VTEP, so nothing floods. Everything lives in namespaces
 * the run marks as its own, so teardown (after kill -9 too) deletes them.
 *
 * The same code path as real hosts: the VTEP is an address on the host's
 * underlay link, the VXLAN device, its FDB and the bridge are what the
 * project's binary would create on a remote host.
 */
#ifndef CADEIA_BACKEND_HOSTS_H
#define CADEIA_BACKEND_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct testbed;
struct scenario;

#define HOSTS_VXLAN_DEV "vx"
#define HOSTS_UL_DEV "ul"

/* Namespace holding node i's host end and bridge; NULL without hosts. */
const char *hosts_node_ns(const struct testbed *tb, int i);
/* Host k's namespace name, "<id>-host.<name>". */
void hosts_ns_name(const struct testbed *tb, int k, char *out, size_t len);
/* The run's VNI (from its id, so two runs never share one). */
uint32_t hosts_vni(const char *run_id);
/* Host k's VTEP MAC on its underlay link. */
void hosts_vtep_mac(int k, uint8_t mac[6]);

/* Host k's bridge and VXLAN device are made on it by the project's agent
 * over ssh (libvirt backend, a qemu+ssh URI), not in a namespace here. */
bool hosts_by_agent(const struct testbed *tb, int k);
/* The agent's bridge on host k, "<id>-.b<k>". */
void hosts_agent_bridge(const struct testbed *tb, int k, char *out, size_t len);

/* Before the nodes: hosts, bridges, VXLAN, underlay, static FDB, delay line;
 * records the layout and the MTU arithmetic under "hosts" in tb->info. */
int hosts_build(struct testbed *tb, char *err, size_t errlen);
/* Stops the delay line (teardown would also, by its recorded pid). */
void hosts_stop(struct testbed *tb);

#endif
