/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers only the tests and benches use: readers of state the product only
 * writes, and shorthands. They live in libtestsupport.a, linked into
 * tests and benches only, so the product library carries none of them.
 */
#ifndef CADEIA_TEST_SUPPORT_H
#define CADEIA_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/plot.h"
#include "sys/nl.h"
#include "virt/virt.h"

/* ---- nl_support.c: what sys/nl.c writes, read back ---- */

/* IPv4 addresses on ifname (NULL = every link). *addrs is malloc'd. */
int nl_addr4_list(const char *netns, const char *ifname, struct nl_addr4 **addrs, size_t *n,
		  char *err, size_t errlen);
/* IPv4 neighbour entries on ifname (NULL = every link). *neighs is malloc'd. */
int nl_neigh4_list(const char *netns, const char *ifname, struct nl_neigh4 **neighs, size_t *n,
		   char *err, size_t errlen);
int nl_brport_get_flags(const char *netns, const char *ifname, struct nl_brport_flags *f,
			char *err, size_t errlen);
int nl_fdb_del(const char *netns, const char *port, const uint8_t mac[6], char *err,
	       size_t errlen);
/* FDB entries on port (NULL = all). *fdb is malloc'd. */
int nl_fdb_list(const char *netns, const char *port, struct nl_fdb **fdb, size_t *n, char *err,
		size_t errlen);
int nl_link_get_tx_csum(const char *netns, const char *ifname, bool *on, char *err,
			size_t errlen);

/* ---- virt_support.c ---- */

/* virt_agent_exec with "/bin/sh -c script". */
int virt_agent_sh(virDomainPtr dom, const char *script, int timeout_ms,
		  struct virt_exec_result *res, char *err, size_t errlen);
/* Waits for the agent to answer and VIRT_READY_FILE to say "ready".
 * -ETIMEDOUT with the console log's tail in the message. */
int virt_wait_ready(virDomainPtr dom, const char *console_log, int timeout_ms,
		    char *err, size_t errlen);

/* Tests' own cleanup only: it goes by name alone (a run's teardown is
 * backend/owner.h, which destroys only transient domains carrying the run's
 * mark). Destroys every domain whose name starts with prefix and removes
 * any tap left with that prefix; never touches anything else. Connects by
 * itself (no daemon = no domain to destroy). log (may be NULL) hears each
 * object removed and each failure. Returns the number of failures. */
int virt_teardown_prefix(const char *prefix, void (*log)(const char *what, void *arg),
			 void *arg);

/* ---- plot_support.c ---- */

/* plot_load_run_all's first series only (the chain the top-level "fit"
 * describes); release it with plot_series_free. */
int plot_load_run(const char *dir, struct plot_series *s, char *err, size_t errlen);

/* ---- netns_support.c ---- */

/* A sysctl of netns name (NULL = current) read back, without the trailing
 * newline, into buf[len]; key as netns_sysctl_write takes it. */
int netns_sysctl_read(const char *name, const char *key, char *buf, size_t len,
		      char *err, size_t errlen);

#endif
