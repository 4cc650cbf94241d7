/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/arch.h"
#include "backend/backend.h"
#include "sys/netns.h"
#include "sys/nl.h"
#include "backend/sff_ovs.h" /* ovs-nsh */

/* ovs-nsh: the SFF is Open vSwitch (sff_ovs.h), with no eBPF stages. */
static bool ovs_sff(const struct testbed *tb, int i, struct sff_ovs *o)
{
	const struct sc_node *n = &tb->sc->nodes[i];

	if (!arch_ovs_sff(tb->sc, i))
		return false;
	if (o)
		sff_ovs_init(o, tb->rs->id, n->name, tb->name[i], n->ifname, n->mac, tb->log_dir);
	return true;
}

static int build_node_links(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	const char *ns = tb->name[i], *host = tb->hostif[i];
	/* Whoever receives outer Ethernet + NSH gets room for it; src and dest
	 * only see plain frames and keep 1500 so inner frames fit the chain. */
	unsigned mtu = n->role == SC_ROLE_SRC || n->role == SC_ROLE_DEST ? 1500 : tb->sc->mtu;
	struct nl_brport_flags quiet = { 0 };
	struct in_addr a = { .s_addr = n->ip };
	int ret;

	if ((ret = netns_add(ns, err, errlen)) < 0)
		return ret;
	/* No IPv6: router solicitations and ND would be stray frames on the wire. */
	if ((ret = netns_sysctl_write(ns, "net/ipv6/conf/all/disable_ipv6", "1", err, errlen)) < 0 ||
	    (ret = netns_sysctl_write(ns, "net/ipv6/conf/default/disable_ipv6", "1", err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ns, "lo", true, err, errlen)) < 0)
		return ret;
	/* Its proxy creates the point-to-point link when its turn comes. */
	if (arch_behind_proxy(n))
		return 0;
	if ((ret = nl_veth_add(NULL, host, n->ifname, ns, err, errlen)) < 0 ||
	    (ret = netns_if_no_ipv6(NULL, host, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(NULL, host, tb->sc->mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_master(NULL, host, tb->bridge, err, errlen)) < 0 ||
	    /* Reflected frames keep the sender's source MAC: learning would move
	     * that MAC to the SF's port, and flooding between reflecting SFs
	     * storms. Static FDB entries do the switching instead. */
	    (ret = nl_brport_set_flags(NULL, host, &quiet, err, errlen)) < 0 ||
	    (ret = nl_fdb_add(NULL, host, n->mac, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(NULL, host, true, err, errlen)) < 0)
		return ret;
	if ((ret = nl_link_set_mac(ns, n->ifname, n->mac, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(ns, n->ifname, mtu, err, errlen)) < 0 ||
	    (ret = nl_addr4_add(ns, n->ifname, a, tb->sc->prefix_len, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(ns, n->ifname, true, err, errlen)) < 0)
		return ret;
	/* A user-space wire forwards CHECKSUM_PARTIAL frames as they are. */
	if ((n->role == SC_ROLE_SRC || n->role == SC_ROLE_DEST) &&
	    (ret = nl_link_set_tx_csum(ns, n->ifname, false, err, errlen)) < 0)
		return ret;
	if (n->role == SC_ROLE_PROXY) {
		const struct sc_node *sf = &tb->sc->nodes[n->peer];
		const char *sfns = tb->name[n->peer];

		if ((ret = nl_veth_add(ns, n->peer_ifname, sf->ifname, sfns, err, errlen)) < 0 ||
		    (ret = nl_link_set_mtu(ns, n->peer_ifname, tb->sc->mtu, err, errlen)) < 0 ||
		    (ret = nl_link_set_up(ns, n->peer_ifname, true, err, errlen)) < 0 ||
		    (ret = nl_link_set_mac(sfns, sf->ifname, sf->mac, err, errlen)) < 0 ||
		    (ret = nl_link_set_mtu(sfns, sf->ifname, tb->sc->mtu, err, errlen)) < 0 ||
		    (ret = nl_link_set_up(sfns, sf->ifname, true, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/* Static neighbours: ARP never lands in a measured RTT. */
static int prime_neighbours(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	int ret;

	for (int i = 0; i < sc->n_nodes; i++) {
		if (arch_behind_proxy(&sc->nodes[i]))
			continue;
		for (int j = 0; j < sc->n_nodes; j++) {
			struct in_addr a = { .s_addr = sc->nodes[j].ip };

			if (i == j || arch_behind_proxy(&sc->nodes[j]))
				continue;
			ret = nl_neigh4_set(tb->name[i], sc->nodes[i].ifname, a, sc->nodes[j].mac,
					    err, errlen);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int attach_node(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	struct cs_attach_opts ao = {
		.node = tb->name[i],
		.netns = tb->name[i],
		.ifname = n->ifname,
	};
	struct cs_err cerr;
	char pin[80];
	int ret;

	ao.stages = arch_node_stages(tb->sc, i, &ao.kwire_mode, &ao.kwire_peer);
	if (!ao.stages || ovs_sff(tb, i, NULL))
		return 0;
	if ((ret = cs_attach(&ao, &cerr)) < 0)
		goto fail;
	if (n->role != SC_ROLE_PROXY)
		return 0;
	/* The way back from the SF: straight to eth0's egress (enc, fwd). */
	snprintf(pin, sizeof(pin), "%s_%s", tb->name[i], n->peer_ifname);
	ao.node = pin;
	ao.ifname = n->peer_ifname;
	ao.stages = CS_STAGE_KWIRE;
	ao.kwire_mode = KWIRE_MODE_OTHERHOST;
	ao.kwire_peer = n->ifname;
	if ((ret = cs_attach(&ao, &cerr)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "node %s: %s", n->name, cerr.msg);
	return ret;
}

static int record_nodes(struct testbed *tb)
{
	json_t *nodes = json_array();

	for (int i = 0; i < tb->sc->n_nodes; i++) {
		const struct sc_node *n = &tb->sc->nodes[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "name", n->name, "netns", tb->name[i],
				      "pins", tb->name[i]);

		/* An SF behind a proxy has no host link: its link is the proxy's. */
		if (!arch_behind_proxy(n))
			json_object_set_new(o, "link", json_string(tb->hostif[i]));
		if (n->role == SC_ROLE_PROXY)
			json_object_set_new(o, "peer_link",
					    json_pack("{s:s, s:s, s:s}", "ifname", n->peer_ifname,
						      "peer_netns", tb->name[n->peer], "peer_ifname",
						      tb->sc->nodes[n->peer].ifname));
		json_array_append_new(nodes, o);
	}
	return rs_set(tb->rs, "nodes", nodes);
}

static int start_function(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	char log[512];
	struct cs_err cerr;
	struct sv_spawn_opts o = {
		.node = n->name,
		.kind = sc_fn_name(n->fn),
		.netns = tb->name[i],
		.dev = n->ifname,
		.cpu = n->cpu,
		.busy_poll_us = n->busy_poll_us,
		.detach = tb->detach_functions,
	};
	int ret;

	if (tb->log_dir) {
		snprintf(log, sizeof(log), "%s/fn-%s.log", tb->log_dir, n->name);
		o.log_path = log;
	}
	ret = sv_spawn(&tb->fn[i], &o, &cerr);
	if (ret < 0) {
		snprintf(err, errlen, "%s", cerr.msg);
		return ret;
	}
	return rs_add_function(tb->rs, n->name, tb->fn[i].pid);
}

static int netns_supports(const struct scenario *sc, char *err, size_t errlen)
{
	for (int i = 0; i < sc->n_nodes; i++) {
		if (sc->nodes[i].fn == SC_FN_OVS) {
			snprintf(err, errlen,
				 "%s: node %s: function ovs needs the openvswitch kernel module, which this host lacks; run it with --backend libvirt, or use wire or kwire",
				 sc->path, sc->nodes[i].name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int netns_build(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	struct nl_bridge_opts bo = { .vlan_filtering = false, .stp = false,
				     .forward_delay_cs = 0, .ageing_time_cs = 30000 };
	int ret;

	snprintf(tb->accel, sizeof(tb->accel), "none (no VM)");
	/* ovs-nsh: refused before anything is created if OVS cannot do it. */
	if (sc->arch == SC_ARCH_OVS_NSH && (ret = sff_ovs_available(tb->rs->id, err, errlen)) < 0)
		return ret;
	if ((ret = record_nodes(tb)) < 0) {
		snprintf(err, errlen, "writing %s: %s", tb->rs->path, strerror(-ret));
		return ret;
	}
	if ((ret = nl_bridge_add(NULL, tb->bridge, &bo, err, errlen)) < 0 ||
	    (ret = netns_if_no_ipv6(NULL, tb->bridge, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(NULL, tb->bridge, sc->mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(NULL, tb->bridge, true, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes; i++)
		if ((ret = build_node_links(tb, i, err, errlen)) < 0)
			return ret;
	if ((ret = prime_neighbours(tb, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes; i++)
		if ((ret = attach_node(tb, i, err, errlen)) < 0)
			return ret;
	for (int i = 0; i < sc->n_nodes; i++) {
		struct sff_ovs o;

		if (ovs_sff(tb, i, &o) && (ret = sff_ovs_start(&o, err, errlen)) < 0)
			return ret;
	}
	for (int i = 0; i < sc->n_nodes; i++) {
		const struct sc_node *n = &sc->nodes[i];

		/* kwire is a stage; an external function is the user's to start. */
		if (n->role != SC_ROLE_SF || n->fn == SC_FN_KWIRE || n->fn == SC_FN_EXTERNAL)
			continue;
		if ((ret = start_function(tb, i, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

static bool has_fwd(const struct testbed *tb, int i)
{
	return arch_node_stages(tb->sc, i, NULL, NULL) & CS_STAGE_FWD;
}

static int same_cls(const struct cls_rule *a, size_t na, const struct cls_rule *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (memcmp(&a[i], &b[i], sizeof(*a)) != 0)
			return 0;
	return 1;
}

static int same_fwd(const struct cs_fwd_rule *want, size_t nw, const struct cs_fwd_rule *got,
		    size_t ng)
{
	if (nw != ng)
		return 0;
	for (size_t i = 0; i < nw; i++) {
		size_t j;

		for (j = 0; j < ng; j++)
			if (memcmp(&want[i], &got[j], sizeof(want[i])) == 0)
				break;
		if (j == ng)
			return 0;
	}
	return 1;
}

static int netns_install(struct testbed *tb, const struct cp_tables *t, char *err, size_t errlen)
{
	static struct cp_node_tables back;
	const struct scenario *sc = tb->sc;
	struct cs_err cerr;
	int ret;

	/* Fwd tables first: a classified frame must never meet an old table. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < sc->n_nodes; i++) {
			const struct sc_node *n = &sc->nodes[i];
			const struct cp_node_tables *nt = &t->node[i];
			struct sff_ovs o;

			if (pass == 0 && ovs_sff(tb, i, &o)) {
				if ((ret = sff_ovs_install(&o, nt->fwd, nt->n_fwd, err, errlen)) < 0)
					return ret;
				continue;
			} else if (pass == 0 && has_fwd(tb, i))
				ret = cs_fwd_replace(tb->name[i], nt->fwd, nt->n_fwd, &cerr);
			else if (pass == 1 && n->role == SC_ROLE_SRC)
				ret = cs_cls_replace(tb->name[i], nt->cls, nt->n_cls, &cerr);
			else
				continue;
			if (ret < 0) {
				snprintf(err, errlen, "node %s: %s", n->name, cerr.msg);
				return ret;
			}
		}
	}
	/* Read every table back: what the kernel holds is what we measure. */
	for (int i = 0; i < sc->n_nodes; i++) {
		const struct sc_node *n = &sc->nodes[i];
		const struct cp_node_tables *nt = &t->node[i];
		struct sff_ovs o;

		if (ovs_sff(tb, i, &o)) {
			back.n_fwd = CP_MAX_FWD;
			if ((ret = sff_ovs_read(&o, back.fwd, &back.n_fwd, err, errlen)) < 0)
				return ret;
			if (!same_fwd(nt->fwd, nt->n_fwd, back.fwd, back.n_fwd))
				ret = -EIO;
		} else if (has_fwd(tb, i)) {
			back.n_fwd = CP_MAX_FWD;
			ret = cs_fwd_read(tb->name[i], back.fwd, &back.n_fwd, &cerr);
			if (ret == 0 && !same_fwd(nt->fwd, nt->n_fwd, back.fwd, back.n_fwd))
				ret = -EIO;
		} else if (n->role == SC_ROLE_SRC) {
			back.n_cls = CLS_MAX_RULES;
			ret = cs_cls_read(tb->name[i], back.cls, &back.n_cls, &cerr);
			if (ret == 0 && !same_cls(nt->cls, nt->n_cls, back.cls, back.n_cls))
				ret = -EIO;
		} else {
			continue;
		}
		if (ret == -EIO) {
			snprintf(err, errlen, "node %s: the tables read back differ from those installed for length %d",
				 n->name, t->length);
			return ret;
		}
		if (ret < 0) {
			snprintf(err, errlen, "node %s: %s", n->name, cerr.msg);
			return ret;
		}
	}
	tb->length = t->length;
	return 0;
}

static int netns_sf_counts(struct testbed *tb, unsigned long long *counts, char *err, size_t errlen)
{
	static const char *const fields[] = { "forwarded", "end_of_chain", "redirected" };

	for (int i = 0; i < tb->sc->n_nodes; i++) {
		struct cs_counter c[32];
		struct cs_err cerr;
		size_t n = 32;
		struct sff_ovs o;
		int ret;

		counts[i] = 0;
		if (ovs_sff(tb, i, &o)) {
			if ((ret = sff_ovs_forwarded(&o, &counts[i], err, errlen)) < 0)
				return ret;
			continue;
		}
		if (!has_fwd(tb, i))
			continue;
		ret = cs_stats_read(tb->name[i], CS_STAGE_FWD, c, &n, &cerr);
		if (ret < 0) {
			snprintf(err, errlen, "node %s: %s", tb->sc->nodes[i].name, cerr.msg);
			return ret;
		}
		for (size_t k = 0; k < n; k++)
			for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
				if (strcmp(c[k].name, fields[f]) == 0)
					counts[i] += c[k].value;
	}
	return 0;
}

static int netns_check(struct testbed *tb, char *err, size_t errlen)
{
	for (int i = 0; i < tb->sc->n_nodes; i++) {
		struct cs_err cerr;

		if (tb->fn[i].pid <= 0)
			continue;
		if (sv_check(&tb->fn[i], &cerr) < 0) {
			snprintf(err, errlen, "%s", cerr.msg);
			return -ESRCH;
		}
	}
	return 0;
}

static void netns_stop(struct testbed *tb)
{
	struct cs_err cerr;

	sv_stop_all(tb->fn, tb->sc->n_nodes, SV_STOP_GRACE_MS, &cerr);
	for (int i = 0; i < tb->sc->n_nodes; i++) {
		struct sff_ovs o;

		if (ovs_sff(tb, i, &o))
			sff_ovs_stop(&o);
	}
}

static int netns_probe(struct testbed *tb, int src, struct probe_opts *po,
		       struct probe_sample *out, struct probe_report *rep, char *err, size_t errlen)
{
	po->netns = tb->name[src];
	return probe_run(po, out, rep, err, errlen);
}

/* A failed element: its interface (and a proxy's SF-side one) goes down. */
static int netns_node_link(struct testbed *tb, int i, bool up, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	int ret;

	if ((ret = nl_link_set_up(tb->name[i], n->ifname, up, err, errlen)) < 0)
		return ret;
	if (n->role == SC_ROLE_PROXY)
		ret = nl_link_set_up(tb->name[i], n->peer_ifname, up, err, errlen);
	return ret;
}

const struct backend_ops netns_backend = {
	.name = "netns",
	.supports = netns_supports,
	.build = netns_build,
	.install = netns_install,
	.sf_counts = netns_sf_counts,
	.check = netns_check,
	.probe = netns_probe,
	.node_link = netns_node_link,
	.stop = netns_stop,
	.teardown = sff_ovs_teardown, /* ovs-nsh's daemons and directories */
};
