/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Guests on several hosts: backend/lv_hosts.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "backend/backend.h"
#include "backend/hosts.h"
#include "backend/lv_hosts.h"
#include "backend/remote.h"
#include "model/arch.h"
#include "sys/nl.h"
#include "sys/ownmark.h"
#include "virt/image_upload.h"
#include "virt/virt.h"

/* Per host: the volumes its guests boot from, and whether they were sent. */
static char kernel_vol[SC_MAX_HOSTS][512], initrd_vol[SC_MAX_HOSTS][512];
static json_t *images;

static bool is_remote(const char *uri)
{
	return strstr(uri, "+ssh://") != NULL;
}

static char agent_br[SC_MAX_HOSTS][16];

/* Host k's bridge and VXLAN device, by the agent on k: every MAC not on k
 * goes to the VTEP of its node's host. */
static int agent_up(struct testbed *tb, int k, const struct remote_target *t, char *err,
		    size_t errlen)
{
	const struct scenario *sc = tb->sc;
	static char macs[SC_MAX_NODES][48];
	const char *args[SC_MAX_NODES + 10];
	char mtu[16], vni[16], local[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = sc->hosts.host[k].addr };
	int n = 0;

	if (!ownmark()) {
		snprintf(err, errlen, "host %s: no ownership mark to give the agent", sc->hosts.host[k].name);
		return -EINVAL;
	}
	hosts_agent_bridge(tb, k, agent_br[k], sizeof(agent_br[k]));
	snprintf(mtu, sizeof(mtu), "%u", sc->mtu);
	snprintf(vni, sizeof(vni), "%u", hosts_vni(tb->rs->id));
	inet_ntop(AF_INET, &a, local, sizeof(local));
	args[n++] = "hostnet";
	args[n++] = "up";
	args[n++] = ownmark();
	args[n++] = agent_br[k];
	args[n++] = mtu;
	args[n++] = vni;
	args[n++] = local;
	for (int i = 0; i < sc->n_nodes; i++) {
		int home = sc_node_host(sc, i);
		struct in_addr v = { .s_addr = sc->hosts.host[home].addr };
		char m[18], ip[INET_ADDRSTRLEN];

		if (home == k || arch_behind_proxy(&sc->nodes[i]))
			continue;
		cs_mac_format(sc->nodes[i].mac, m);
		inet_ntop(AF_INET, &v, ip, sizeof(ip));
		snprintf(macs[i], sizeof(macs[i]), "%s@%s", m, ip);
		args[n++] = macs[i];
	}
	args[n] = NULL;
	return remote_bench(t, args, NULL, 0, err, errlen);
}

/* After the boot: each of k's guests' taps quiet on the agent's bridge. */
static int agent_ports(struct testbed *tb, int k, const struct remote_target *t, char *err,
		       size_t errlen)
{
	const struct scenario *sc = tb->sc;
	int ret;

	for (int i = 0; i < sc->n_nodes; i++) {
		char m[18];
		const char *args[] = { "hostnet", "port", ownmark(), tb->hostif[i], m, NULL };

		if (sc_node_host(sc, i) != k || arch_behind_proxy(&sc->nodes[i]))
			continue;
		cs_mac_format(sc->nodes[i].mac, m);
		if ((ret = remote_bench(t, args, NULL, 0, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/* A remote host: the agent's version, then the image through the storage API. */
static int prepare_remote(struct testbed *tb, int k, virConnectPtr conn,
			  const struct virt_domain_spec *any, char *err, size_t errlen)
{
	const struct sc_host *h = &tb->sc->hosts.host[k];
	struct remote_target t;
	bool up_k = false, up_i = false;
	int ret;

	if ((ret = remote_target_parse(h->uri, &t, err, errlen)) < 0 ||
	    (ret = remote_check_version(&t, err, errlen)) < 0 ||
	    (ret = agent_up(tb, k, &t, err, errlen)) < 0 ||
	    (ret = image_upload(conn, any->kernel, kernel_vol[k], sizeof(kernel_vol[k]), &up_k, err,
				errlen)) < 0 ||
	    (ret = image_upload(conn, any->initrd, initrd_vol[k], sizeof(initrd_vol[k]), &up_i, err,
				errlen)) < 0) {
		char tmp[1024];

		snprintf(tmp, sizeof(tmp), "host %s (%s): %s", h->name, h->uri, err);
		snprintf(err, errlen, "%s", tmp);
		return ret;
	}
	json_object_set_new(images, h->name,
			    json_pack("{s:s, s:s, s:b, s:b}", "kernel", kernel_vol[k], "initrd",
				      initrd_vol[k], "kernel_uploaded", up_k, "initrd_uploaded",
				      up_i));
	return 0;
}

int lv_hosts_boot(struct testbed *tb, virConnectPtr conn, struct virt_domain_spec *specs,
		  int max_booting, int timeout_ms, virDomainPtr *doms, double *boot_s, char *err,
		  size_t errlen)
{
	const struct scenario *sc = tb->sc;
	int ret = 0;

	json_decref(images);
	images = json_object();
	{
		/* Before the first contact: teardown must reach them even after a
		 * crash (backend/owner_remote.h). */
		json_t *remote = json_array();

		for (int k = 0; k < sc->hosts.n; k++)
			if (is_remote(sc->hosts.host[k].uri))
				json_array_append_new(remote, json_string(sc->hosts.host[k].uri));
		if ((ret = rs_set(tb->rs, "remote_hosts", remote)) < 0) {
			snprintf(err, errlen, "writing %s: %s", tb->rs->path, strerror(-ret));
			return ret;
		}
	}
	for (int k = 0; k < sc->hosts.n && ret == 0; k++) {
		const struct sc_host *h = &sc->hosts.host[k];
		struct virt_domain_spec sub[SC_MAX_NODES];
		virDomainPtr d[SC_MAX_NODES] = { 0 };
		double bs[SC_MAX_NODES] = { 0 };
		int idx[SC_MAX_NODES], n = 0;
		virConnectPtr hc = conn;

		for (int i = 0; i < sc->n_nodes; i++)
			if (sc_node_host(sc, i) == k) {
				idx[n] = i;
				sub[n++] = specs[i];
			}
		if (!n)
			continue;
		/* Its own connection, from its URI: the guests are that host's. */
		if (strcmp(h->uri, "qemu:///system") != 0 && !(hc = virConnectOpen(h->uri))) {
			const char *m = virGetLastErrorMessage();

			snprintf(err, errlen, "host %s: connecting to %s: %s", h->name, h->uri,
				 m ? m : "unknown libvirt error");
			return -ECONNREFUSED;
		}
		if (is_remote(h->uri) && (ret = prepare_remote(tb, k, hc, &sub[0], err, errlen)) == 0)
			for (int j = 0; j < n; j++) {
				/* Booted from the uploaded image, on the agent's bridge,
				 * whose ports the agent quiets (below). */
				sub[j].kernel = kernel_vol[k];
				sub[j].initrd = initrd_vol[k];
				sub[j].bridge = agent_br[k];
				sub[j].keep_port_flags = true;
			}
		if (ret == 0)
			ret = virt_boot_many(hc, sub, n, max_booting, timeout_ms, d, bs, err, errlen);
		if (ret == 0 && is_remote(h->uri)) {
			struct remote_target t;

			if ((ret = remote_target_parse(h->uri, &t, err, errlen)) == 0)
				ret = agent_ports(tb, k, &t, err, errlen);
		}
		for (int j = 0; j < n; j++) {
			doms[idx[j]] = d[j];
			boot_s[idx[j]] = bs[j];
		}
		/* The domains hold the connection open as long as they need it. */
		if (hc != conn)
			virConnectClose(hc);
	}
	return ret;
}

int lv_hosts_network(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	struct nl_brport_flags quiet = { 0 };
	int ret;

	if ((ret = hosts_build(tb, err, errlen)) < 0)
		return ret;
	if (tb->info && images)
		json_object_set(json_object_get(tb->info, "hosts"), "images", images);
	for (int i = 0; i < sc->n_nodes; i++) {
		const char *ns = hosts_node_ns(tb, i), *tap = tb->hostif[i];

		/* An agent's host: the tap is on the agent's bridge there already. */
		if (arch_behind_proxy(&sc->nodes[i]) || hosts_by_agent(tb, sc_node_host(sc, i)))
			continue;
		/* Learning and flooding off, a static FDB entry: as on the staging
		 * bridge, whose settings stay behind when the tap moves. */
		if ((ret = nl_link_set_netns(NULL, tap, ns, err, errlen)) < 0 ||
		    (ret = nl_link_set_mtu(ns, tap, sc->mtu, err, errlen)) < 0 ||
		    (ret = nl_link_set_master(ns, tap, tb->bridge, err, errlen)) < 0 ||
		    (ret = nl_brport_set_flags(ns, tap, &quiet, err, errlen)) < 0 ||
		    (ret = nl_fdb_add(ns, tap, sc->nodes[i].mac, err, errlen)) < 0 ||
		    (ret = nl_link_set_up(ns, tap, true, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

void lv_hosts_stop(struct testbed *tb)
{
	const struct scenario *sc = tb->sc;

	for (int k = 0; k < sc->hosts.n; k++) {
		struct remote_target t;
		char err[512];
		const char *args[] = { "hostnet", "down", ownmark(), NULL };

		/* Best effort: teardown by prefix and mark follows on this machine. */
		if (hosts_by_agent(tb, k) && ownmark() &&
		    remote_target_parse(sc->hosts.host[k].uri, &t, err, sizeof(err)) == 0 &&
		    remote_bench(&t, args, NULL, 0, err, sizeof(err)) < 0)
			fprintf(stderr, "cadeia-bench: %s\n", err);
	}
}
