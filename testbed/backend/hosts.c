/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Emulated hosts joined by VXLAN: backend/hosts.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/hosts.h"
#include "model/arch.h"
#include "sys/netns.h"
#include "sys/nl.h"
#include "backend/remote.h"
#include "traffic/delayline.h"

static char host_ns[SC_MAX_HOSTS][NETNS_NAME_MAX];
static struct sv_child delay_line;

void hosts_ns_name(const struct testbed *tb, int k, char *out, size_t len)
{
	char suffix[SC_NAME_MAX + 8];

	/* '.' is in no node name, so no node's namespace can take this one. */
	snprintf(suffix, sizeof(suffix), "host.%s", tb->sc->hosts.host[k].name);
	rs_name(tb->rs, suffix, out, len);
}

const char *hosts_node_ns(const struct testbed *tb, int i)
{
	if (!tb->sc->hosts.n)
		return NULL;
	hosts_ns_name(tb, sc_node_host(tb->sc, i), host_ns[sc_node_host(tb->sc, i)],
		      sizeof(host_ns[0]));
	return host_ns[sc_node_host(tb->sc, i)];
}

uint32_t hosts_vni(const char *run_id)
{
	/* "cb" + 4 hex digits: 1..65536, inside VXLAN's 24 bits. */
	return (uint32_t)strtoul(run_id + 2, NULL, 16) + 1;
}

void hosts_vtep_mac(int k, uint8_t mac[6])
{
	/* Nodes are 02:cb:00:00:hi:lo; VTEPs 02:cb:01:00:00:k+1. */
	const uint8_t m[6] = { 0x02, 0xcb, 0x01, 0x00, 0x00, (uint8_t)(k + 1) };

	memcpy(mac, m, 6);
}

bool hosts_by_agent(const struct testbed *tb, int k)
{
	return tb->ops == &libvirt_backend && strstr(tb->sc->hosts.host[k].uri, "+ssh://");
}

void hosts_agent_bridge(const struct testbed *tb, int k, char *out, size_t len)
{
	char suffix[16];

	snprintf(suffix, sizeof(suffix), ".b%d", k);
	rs_name(tb->rs, suffix, out, len);
}

/* A host reached over ssh that is this machine (127.0.0.1, localhost). */
static bool loopback(const char *uri)
{
	struct remote_target t;

	return remote_target_parse(uri, &t, NULL, 0) == 0 &&
	       (!strcmp(t.host, "127.0.0.1") || !strcmp(t.host, "localhost") || !strcmp(t.host, "::1"));
}

/* The longest prefix all VTEP addresses share (at most /24): one on-link
 * subnet, so no routes are needed; neighbours are static. */
static unsigned underlay_prefix(const struct sc_hosts *h)
{
	unsigned p = 24;

	for (int k = 1; k < h->n; k++)
		while (p && (ntohl(h->host[k].addr) >> (32 - p)) != (ntohl(h->host[0].addr) >> (32 - p)))
			p--;
	return p;
}

static int empty_ns(const char *ns, char *err, size_t errlen)
{
	int ret;

	if ((ret = netns_add(ns, err, errlen)) < 0 ||
	    (ret = netns_sysctl_write(ns, "net/ipv6/conf/all/disable_ipv6", "1", err, errlen)) < 0 ||
	    (ret = netns_sysctl_write(ns, "net/ipv6/conf/default/disable_ipv6", "1", err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ns, "lo", true, err, errlen)) < 0)
		return ret;
	return 0;
}

/* The NIC of host k (an agent's host that is this machine) on the underlay. */
static int agent_nic(struct testbed *tb, int k, const char *ulns, unsigned prefix, char *err,
		     size_t errlen)
{
	const struct sc_hosts *h = &tb->sc->hosts;
	struct in_addr a = { .s_addr = h->host[k].addr };
	char nic[16], port[16], suffix[16];
	uint8_t mac[6];
	int ret;

	snprintf(suffix, sizeof(suffix), ".u%d", k);
	rs_name(tb->rs, suffix, nic, sizeof(nic));
	snprintf(port, sizeof(port), "h%d", k);
	hosts_vtep_mac(k, mac);
	if ((ret = nl_veth_add(NULL, nic, port, ulns, err, errlen)) < 0 ||
	    (ret = netns_if_no_ipv6(NULL, nic, err, errlen)) < 0 ||
	    (ret = nl_link_set_mac(NULL, nic, mac, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(NULL, nic, h->underlay_mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(ulns, port, h->underlay_mtu, err, errlen)) < 0 ||
	    (ret = nl_addr4_add(NULL, nic, a, prefix, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(NULL, nic, true, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ulns, port, true, err, errlen)) < 0)
		return ret;
	if (!h->any_delay && (ret = nl_link_set_master(ulns, port, HOSTS_UL_DEV, err, errlen)) < 0)
		return ret;
	for (int j = 0; j < h->n; j++) {
		struct in_addr b = { .s_addr = h->host[j].addr };

		hosts_vtep_mac(j, mac);
		if (j != k && (ret = nl_neigh4_set(NULL, nic, b, mac, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/* Host k: its namespace, bridge, underlay link (with the VTEP address) and
 * VXLAN device on the bridge. */
static int build_host(struct testbed *tb, int k, const char *ulns, unsigned prefix, char *err,
		      size_t errlen)
{
	const struct scenario *sc = tb->sc;
	const struct sc_hosts *h = &sc->hosts;
	struct nl_bridge_opts bo = { .ageing_time_cs = 30000 };
	struct nl_brport_flags quiet = { 0 };
	struct nl_vxlan_opts vo = { .vni = hosts_vni(tb->rs->id), .port = SC_VXLAN_PORT };
	struct in_addr a = { .s_addr = h->host[k].addr };
	char ns[NETNS_NAME_MAX], port[16];
	uint8_t mac[6];
	int ret;

	hosts_ns_name(tb, k, ns, sizeof(ns));
	snprintf(port, sizeof(port), "h%d", k);
	hosts_vtep_mac(k, mac);
	vo.local = a;
	/* Its bridge and VXLAN device are the agent's, on that host (lv_hosts.c).
	 * When that host is this machine, only its NIC on the underlay is
	 * emulated here: a link from the root namespace with its address. */
	if (hosts_by_agent(tb, k))
		return loopback(h->host[k].uri) ? agent_nic(tb, k, ulns, prefix, err, errlen) : 0;
	if ((ret = empty_ns(ns, err, errlen)) < 0 ||
	    (ret = nl_bridge_add(ns, tb->bridge, &bo, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(ns, tb->bridge, sc->mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ns, tb->bridge, true, err, errlen)) < 0)
		return ret;
	if ((ret = nl_veth_add(ns, HOSTS_UL_DEV, port, ulns, err, errlen)) < 0 ||
	    (ret = nl_link_set_mac(ns, HOSTS_UL_DEV, mac, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(ns, HOSTS_UL_DEV, h->underlay_mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(ulns, port, h->underlay_mtu, err, errlen)) < 0 ||
	    (ret = nl_addr4_add(ns, HOSTS_UL_DEV, a, prefix, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ns, HOSTS_UL_DEV, true, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ulns, port, true, err, errlen)) < 0)
		return ret;
	if (!h->any_delay && (ret = nl_link_set_master(ulns, port, HOSTS_UL_DEV, err, errlen)) < 0)
		return ret;
	/* The overlay frame is network.mtu + 14 bytes; VXLAN adds 36 more
	 * (model/hosts.h), which the underlay MTU was checked to carry. */
	if ((ret = nl_vxlan_add(ns, HOSTS_VXLAN_DEV, &vo, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(ns, HOSTS_VXLAN_DEV, sc->mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_master(ns, HOSTS_VXLAN_DEV, tb->bridge, err, errlen)) < 0 ||
	    /* Nothing floods into the tunnel, and nothing is learnt from it. */
	    (ret = nl_brport_set_flags(ns, HOSTS_VXLAN_DEV, &quiet, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ns, HOSTS_VXLAN_DEV, true, err, errlen)) < 0)
		return ret;
	/* The other VTEPs: static neighbours, no ARP on the underlay. */
	for (int j = 0; j < h->n; j++) {
		struct in_addr b = { .s_addr = h->host[j].addr };

		hosts_vtep_mac(j, mac);
		if (j != k && (ret = nl_neigh4_set(ns, HOSTS_UL_DEV, b, mac, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/* The control plane's FDB: on every other host, node i's MAC goes into the
 * tunnel (bridge) and to the VTEP of node i's host (VXLAN). */
static int fdb_node(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	const struct sc_node *n = &sc->nodes[i];
	int home = sc_node_host(sc, i), ret;
	struct in_addr vtep = { .s_addr = sc->hosts.host[home].addr };

	/* An SF behind its proxy has no port on any bridge. */
	if (arch_behind_proxy(n))
		return 0;
	for (int k = 0; k < sc->hosts.n; k++) {
		char ns[NETNS_NAME_MAX];

		/* An agent's host gets its FDB from the agent (hostnet up). */
		if (k == home || hosts_by_agent(tb, k))
			continue;
		hosts_ns_name(tb, k, ns, sizeof(ns));
		if ((ret = nl_fdb_add(ns, HOSTS_VXLAN_DEV, n->mac, err, errlen)) < 0 ||
		    (ret = nl_vxlan_fdb_add(ns, HOSTS_VXLAN_DEV, n->mac, vtep, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

static int start_delay_line(struct testbed *tb, const char *ulns, char *err, size_t errlen)
{
	const struct sc_hosts *h = &tb->sc->hosts;
	struct dl_opts o = { .netns = ulns, .n = h->n, .mtu = h->underlay_mtu, .cpu = -1,
			     .base_us = HOSTS_DELAY_BASE_US };
	char log[512];
	int ret;

	for (int k = 0; k < h->n; k++) {
		snprintf(o.ifname[k], sizeof(o.ifname[k]), "h%d", k);
		hosts_vtep_mac(k, o.mac[k]);
		o.delay_us[k] = h->host[k].delay_us;
	}
	if (tb->log_dir)
		snprintf(log, sizeof(log), "%s/underlay.log", tb->log_dir);
	memset(&delay_line, 0, sizeof(delay_line));
	snprintf(delay_line.node, sizeof(delay_line.node), "underlay");
	snprintf(delay_line.kind, sizeof(delay_line.kind), "delayline");
	ret = dl_spawn(&o, tb->detach_functions, tb->log_dir ? log : NULL, &delay_line.pid, err,
		       errlen);
	if (ret < 0)
		return ret;
	/* Recorded like a function: teardown stops it by pid and start time. */
	return rs_add_function(tb->rs, "underlay", delay_line.pid);
}

/* A link just set up forwards only once the kernel's link watcher has seen
 * its carrier (the bridge enables a port then); that watcher is shared by
 * every namespace and may lag a second behind. */
static int wait_running(struct testbed *tb, const char *ulns, char *err, size_t errlen)
{
	const struct sc_hosts *h = &tb->sc->hosts;

	for (int tries = 0; tries < 300; tries++) {
		bool all = true;

		for (int k = 0; k < h->n && all; k++) {
			char ns[NETNS_NAME_MAX], port[16];

			if (hosts_by_agent(tb, k))
				continue;
			const char *dev[3][2] = { { ns, HOSTS_UL_DEV }, { ns, HOSTS_VXLAN_DEV },
						  { ulns, port } };

			hosts_ns_name(tb, k, ns, sizeof(ns));
			snprintf(port, sizeof(port), "h%d", k);
			for (int d = 0; d < 3 && all; d++) {
				struct nl_link l;
				int ret = nl_link_get(dev[d][0], dev[d][1], &l, err, errlen);

				if (ret < 0)
					return ret;
				all = l.flags & IFF_RUNNING;
			}
		}
		if (all)
			return 0;
		usleep(10000);
	}
	snprintf(err, errlen, "underlay of run %s: links not running after 3 s", tb->rs->id);
	return -ETIMEDOUT;
}

static void record(struct testbed *tb, const char *ulns, unsigned prefix)
{
	const struct scenario *sc = tb->sc;
	json_t *hosts = json_array(), *nodes = json_object(), *o;

	for (int k = 0; k < sc->hosts.n; k++) {
		char ns[NETNS_NAME_MAX], a[INET_ADDRSTRLEN];
		bool agent = hosts_by_agent(tb, k);
		struct in_addr ad = { .s_addr = sc->hosts.host[k].addr };

		hosts_ns_name(tb, k, ns, sizeof(ns));
		inet_ntop(AF_INET, &ad, a, sizeof(a));
		json_array_append_new(hosts, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "name",
						       sc->hosts.host[k].name, "uri",
						       sc->hosts.host[k].uri, "address", a, "netns",
						       agent ? "" : ns, "network",
						       agent ? "hostnet agent over ssh" : "emulated (netns)",
						       "delay_us",
						       (int)sc->hosts.host[k].delay_us));
	}
	for (int i = 0; i < sc->n_nodes; i++)
		json_object_set_new(nodes, sc->nodes[i].name,
				    json_string(sc->hosts.host[sc_node_host(sc, i)].name));
	o = json_pack("{s:o, s:o, s:i, s:i, s:s, s:i, s:s, s:o}", "hosts", hosts, "node_host",
		      nodes, "vni", (int)hosts_vni(tb->rs->id), "vxlan_port", SC_VXLAN_PORT,
		      "underlay_netns", ulns, "underlay_prefix", (int)prefix, "underlay",
		      sc->hosts.any_delay ? "delay line (this kernel has no netem)" : "bridge",
		      "mtu", sc_hosts_mtu_json(sc));
	if (!tb->info)
		tb->info = json_object();
	json_object_set_new(tb->info, "hosts", o);
}

int hosts_build(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	unsigned prefix = underlay_prefix(&sc->hosts);
	char ulns[NETNS_NAME_MAX];
	int ret;

	rs_name(tb->rs, ".underlay", ulns, sizeof(ulns));
	record(tb, ulns, prefix);
	if ((ret = empty_ns(ulns, err, errlen)) < 0)
		return ret;
	if (!sc->hosts.any_delay &&
	    ((ret = nl_bridge_add(ulns, HOSTS_UL_DEV, NULL, err, errlen)) < 0 ||
	     (ret = nl_link_set_mtu(ulns, HOSTS_UL_DEV, sc->hosts.underlay_mtu, err, errlen)) < 0 ||
	     (ret = nl_link_set_up(ulns, HOSTS_UL_DEV, true, err, errlen)) < 0))
		return ret;
	for (int k = 0; k < sc->hosts.n; k++)
		if ((ret = build_host(tb, k, ulns, prefix, err, errlen)) < 0)
			return ret;
	for (int i = 0; i < sc->n_nodes; i++)
		if ((ret = fdb_node(tb, i, err, errlen)) < 0)
			return ret;
	if ((ret = wait_running(tb, ulns, err, errlen)) < 0)
		return ret;
	if (sc->hosts.any_delay && sc->hosts.n > 1)
		return start_delay_line(tb, ulns, err, errlen);
	return 0;
}

void hosts_stop(struct testbed *tb)
{
	struct cs_err cerr;

	if (!tb->sc->hosts.n || delay_line.pid <= 0)
		return;
	sv_stop(&delay_line, SV_STOP_GRACE_MS, &cerr);
	delay_line.pid = 0;
}
