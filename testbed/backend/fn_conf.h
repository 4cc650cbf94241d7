/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the functions that act on the traffic (traffic/fn_sf.h) need from
 * the orchestrator before they start: their settings as a JSON file (and
 * the firewall's nft script) next to their log, a static neighbour for a
 * NAT's address on every node, and an lb's VIP on each backend's loopback.
 */
#ifndef CADEIA_FN_CONF_H
#define CADEIA_FN_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

/* firewall, nat, lb, monitor: started with --config. */
bool fnc_has_config(enum sc_fn fn);
/* Node i's settings, with the files it writes (and the firewall's script)
 * under dir as the node sees it: *nft is that script (malloc'd) or NULL. */
int fnc_config(struct testbed *tb, int i, const char *dir, json_t **cfg, char **nft, char *err,
	       size_t errlen);
/* Writes node i's settings; path gets the file to pass as --config. */
int fnc_write(struct testbed *tb, int i, char *path, size_t len, char *err, size_t errlen);
/* The network around node i's function: NAT neighbours on every node (any
 * backend), and on netns the lb's VIP on the other backends' loopback. */
int fnc_prepare(struct testbed *tb, int i, char *err, size_t errlen);
/* The nft script of a firewall node into buf: table netdev cadeia_fw with
 * the scenario's rules in an ingress chain on dev. */
int fnc_nft_script(const struct sc_node *n, char *buf, size_t len, char *err, size_t errlen);

#endif
