/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/arch.h"
#include "backend/backend.h"
#include "backend/floor.h"
#include "backend/fn_conf.h"
#include "sys/netns.h"
#include "sys/nl.h"
#include "backend/sff_ovs.h" /* ovs-nsh */
#include "backend/hosts.h" /* several hosts */

static int build_node_links(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	const char *ns = tb->name[i], *host = tb->hostif[i];
	/* The host end lives with the node's host (backend/hosts.h), or here. */
	const char *hns = hosts_node_ns(tb, i);
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
	if ((ret = nl_veth_add(hns, host, n->ifname, ns, err, errlen)) < 0 ||
	    (ret = netns_if_no_ipv6(hns, host, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(hns, host, tb->sc->mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_master(hns, host, tb->bridge, err, errlen)) < 0 ||
	    /* Reflected frames keep the sender's source MAC: learning would move
	     * that MAC to the SF's port, and flooding between reflecting SFs
	     * storms. Static FDB entries do the switching instead. */
	    (ret = nl_brport_set_flags(hns, host, &quiet, err, errlen)) < 0 ||
	    (ret = nl_fdb_add(hns, host, n->mac, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(hns, host, true, err, errlen)) < 0)
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

static int nn_neigh(struct testbed *tb, int i, const struct node_neigh *nb, size_t n, char *err,
		    size_t errlen)
{
	int ret;

	for (size_t k = 0; k < n; k++) {
		struct in_addr a = { .s_addr = nb[k].ip };

		ret = nl_neigh4_set(tb->name[i], tb->sc->nodes[i].ifname, a, nb[k].mac, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int nn_attach(struct testbed *tb, int i, const struct node_attach *a, char *err,
		     size_t errlen)
{
	struct cs_attach_opts ao = {
		.node = a->pin, .netns = tb->name[i], .ifname = a->dev, .stages = a->stages,
		.kwire_mode = a->kwire_mode, .kwire_peer = a->kwire_peer,
	};
	struct cs_err cerr;
	int ret;

	if ((ret = cs_attach(&ao, &cerr)) < 0)
		snprintf(err, errlen, "node %s: %s", tb->sc->nodes[i].name, cerr.msg);
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

static int nn_start_fn(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	char log[512], conf[1100];
	struct cs_err cerr;
	struct sv_spawn_opts o = {
		.node = n->name,
		.kind = sc_fn_name(n->fn),
		.netns = tb->name[i],
		.dev = n->ifname,
		.cpu = n->cpu,
		.busy_poll_us = n->busy_poll_us,
		.delay_us = n->fn == SC_FN_DELAY ? n->delay_us : 0,
		.detach = tb->detach_functions,
	};
	int ret;

	if (tb->log_dir) {
		/* Several architectures' testbeds are up at once: one log each. */
		if (tb->sc->n_archs > 1)
			snprintf(log, sizeof(log), "%s/fn-%s-%s.log", tb->log_dir,
				 sc_arch_name(tb->sc->arch), n->name);
		else
			snprintf(log, sizeof(log), "%s/fn-%s.log", tb->log_dir, n->name);
		o.log_path = log;
	}
	/* firewall, nat, lb, monitor: settings file and the network around them */
	if (fnc_has_config(n->fn) &&
	    ((ret = fnc_prepare(tb, i, err, errlen)) < 0 ||
	     (ret = fnc_write(tb, i, conf, sizeof(conf), err, errlen)) < 0))
		return ret;
	if (fnc_has_config(n->fn))
		o.config = conf;
	ret = sv_spawn(&tb->fn[i], &o, &cerr);
	if (ret < 0) {
		snprintf(err, errlen, "%s", cerr.msg);
		return ret;
	}
	return rs_add_function(tb->rs, n->name, tb->fn[i].pid);
}

static int netns_supports(const struct scenario *sc, char *err, size_t errlen)
{
	int ret;

	if ((ret = floor_check(sc, err, errlen)) < 0)
		return ret;
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
	/* Several hosts: a bridge in each host's namespace, joined by VXLAN. */
	if (sc->hosts.n && (ret = hosts_build(tb, err, errlen)) < 0)
		return ret;
	if (!sc->hosts.n &&
	    ((ret = nl_bridge_add(NULL, tb->bridge, &bo, err, errlen)) < 0 ||
	     (ret = netns_if_no_ipv6(NULL, tb->bridge, err, errlen)) < 0 ||
	     (ret = nl_link_set_mtu(NULL, tb->bridge, sc->mtu, err, errlen)) < 0 ||
	     (ret = nl_link_set_up(NULL, tb->bridge, true, err, errlen)) < 0))
		return ret;
	for (int i = 0; i < sc->n_nodes; i++)
		if ((ret = build_node_links(tb, i, err, errlen)) < 0)
			return ret;
	return tb_bring_up(tb, err, errlen);
}

static int nn_tables_write(struct testbed *tb, int i, const struct cp_node_tables *nt, bool cls,
			   bool fwd, char *err, size_t errlen)
{
	struct cs_err cerr;
	int ret = 0;

	if (fwd)
		ret = cs_fwd_replace(tb->name[i], nt->fwd, nt->n_fwd, &cerr);
	if (ret == 0 && cls)
		ret = cs_cls_replace(tb->name[i], nt->cls, nt->n_cls, &cerr);
	if (ret < 0)
		snprintf(err, errlen, "node %s: %s", tb->sc->nodes[i].name, cerr.msg);
	return ret;
}

/* The attached tables as `cadeia-stage show --json` has them. */
static int nn_tables_read(struct testbed *tb, int i, json_t **show, char *err, size_t errlen)
{
	static struct cp_node_tables back;
	unsigned mask = arch_node_stages(tb->sc, i, NULL, NULL);
	json_t *cls = json_array(), *fwd = json_array();
	struct cs_err cerr;
	int ret = 0;

	back.n_cls = CLS_MAX_RULES;
	back.n_fwd = CP_MAX_FWD;
	if (mask & CS_STAGE_CLASSIFIER)
		ret = cs_cls_read(tb->name[i], back.cls, &back.n_cls, &cerr);
	else
		back.n_cls = 0;
	if (ret == 0 && (mask & CS_STAGE_FWD))
		ret = cs_fwd_read(tb->name[i], back.fwd, &back.n_fwd, &cerr);
	else
		back.n_fwd = 0;
	for (size_t k = 0; ret == 0 && k < back.n_cls; k++)
		json_array_append_new(cls, cs_cls_rule_json(&back.cls[k]));
	for (size_t k = 0; ret == 0 && k < back.n_fwd; k++)
		json_array_append_new(fwd, cs_fwd_rule_json(&back.fwd[k]));
	*show = json_pack("{s:o, s:o}", "classifier", cls, "forwarding", fwd);
	if (ret < 0)
		snprintf(err, errlen, "node %s: %s", tb->sc->nodes[i].name, cerr.msg);
	return ret;
}

static int nn_counters(struct testbed *tb, int i, unsigned stage, struct cs_counter *c, size_t *n,
		       char *err, size_t errlen)
{
	struct cs_err cerr;
	int ret = cs_stats_read(tb->name[i], stage, c, n, &cerr);

	if (ret < 0)
		snprintf(err, errlen, "node %s: %s", tb->sc->nodes[i].name, cerr.msg);
	return ret;
}

/* ovs-nsh: the SFF is Open vSwitch in the SFF's netns (sff_ovs.h). */
static int nn_ovs_start(struct testbed *tb, int i, const struct sff_ovs *o, char *err,
			size_t errlen)
{
	return sff_ovs_start(o, err, errlen);
}

static int nn_ovs_write(struct testbed *tb, int i, const struct sff_ovs *o,
			const struct cs_fwd_rule *r, size_t n, char *err, size_t errlen)
{
	return sff_ovs_install(o, r, n, err, errlen);
}

static int nn_ovs_read(struct testbed *tb, int i, const struct sff_ovs *o, struct cs_fwd_rule *r,
		       size_t *n, char *err, size_t errlen)
{
	return sff_ovs_read(o, r, n, err, errlen);
}

static int nn_ovs_forwarded(struct testbed *tb, int i, const struct sff_ovs *o,
			    unsigned long long *count, char *err, size_t errlen)
{
	return sff_ovs_forwarded(o, count, err, errlen);
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
	hosts_stop(tb); /* the underlay's delay line */
	for (int i = 0; i < tb->sc->n_nodes; i++) {
		struct sff_ovs o;

		if (backend_ovs_sff(tb, i, &o))
			sff_ovs_stop(&o);
	}
}

static int nn_probe(struct testbed *tb, int src, struct probe_opts *po, struct probe_sample *out,
		    struct probe_report *rep, char *err, size_t errlen)
{
	po->netns = tb->name[src];
	return probe_run(po, out, rep, err, errlen);
}

static int nn_link(struct testbed *tb, int i, const char *ifname, bool up, char *err,
		   size_t errlen)
{
	return nl_link_set_up(tb->name[i], ifname, up, err, errlen);
}

/* In this process: libcadeia_stage on the node's pins, netlink in its netns. */
static const struct node_ops netns_node = {
	.attach = nn_attach, .tables_write = nn_tables_write, .tables_read = nn_tables_read,
	.counters = nn_counters,
	/* ovs-nsh: the SFF's own daemons in its netns */
	.ovs_start = nn_ovs_start, .ovs_write = nn_ovs_write,
	.ovs_read = nn_ovs_read, .ovs_forwarded = nn_ovs_forwarded,
	/* functions are supervised children of this process */
	.start_fn = nn_start_fn, .neigh = nn_neigh, .probe = nn_probe, .link = nn_link,
};

const struct backend_ops netns_backend = {
	.name = "netns", .supports = netns_supports, .build = netns_build, .check = netns_check,
	.stop = netns_stop, .node = &netns_node,
};
