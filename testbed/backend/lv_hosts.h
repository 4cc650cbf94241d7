/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Guests on several hosts (libvirt backend, model/hosts.h). Each host gets
 * its own libvirt connection, opened from its URI; a host reached over ssh
 * (qemu+ssh://...) first answers the project's version (backend/remote.h)
 * and receives the guest image through the storage API
 * (virt/image_upload.h), skipped when it holds the same digest. The guests
 * On a host reached over ssh the agent makes the run's bridge and VXLAN
 * device (static FDB: every other node's MAC to its host's VTEP) before the
 * guests boot onto that bridge, and quiets their ports after. On the local
 * host (qemu:///system) the network is emulated (backend/hosts.c): guests
 * boot on the staging bridge, then each tap moves into its host's namespace
 * onto that host's bridge. When a "remote" host is this machine
 * (qemu+ssh://root@127.0.0.1/...), only its NIC on the underlay is emulated.
 */
#ifndef CADEIA_LV_HOSTS_H
#define CADEIA_LV_HOSTS_H

#include <stddef.h>
#include <libvirt/libvirt.h>

struct testbed;
struct virt_domain_spec;

/* Boots every node on its host's connection (local: conn) at most
 * max_booting at a time. specs' kernel and initrd are replaced by the
 * uploaded volumes on remote hosts. */
int lv_hosts_boot(struct testbed *tb, virConnectPtr conn, struct virt_domain_spec *specs,
		  int max_booting, int timeout_ms, virDomainPtr *doms, double *boot_s, char *err,
		  size_t errlen);
/* After the boots: the hosts' network, and each tap onto its host's bridge. */
int lv_hosts_network(struct testbed *tb, char *err, size_t errlen);
/* Each agent's host: `hostnet down` for the run (best effort). */
void lv_hosts_stop(struct testbed *tb);

#endif
