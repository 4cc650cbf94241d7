/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Guests on several hosts: backend/lv_hosts.h. */
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
#include "virt/image_upload.h"
#include "virt/virt.h"

/* Per host: the volumes its guests boot from, and whether they were sent. */
static char kernel_vol[SC_MAX_HOSTS][512], initrd_vol[SC_MAX_HOSTS][512];
static json_t *images;

static bool is_remote(const char *uri)
{
	return strstr(uri, "+ssh://") != NULL;
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
				sub[j].kernel = kernel_vol[k];
				sub[j].initrd = initrd_vol[k];
			}
		if (ret == 0)
			ret = virt_boot_many(hc, sub, n, max_booting, timeout_ms, d, bs, err, errlen);
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

		if (arch_behind_proxy(&sc->nodes[i]))
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
