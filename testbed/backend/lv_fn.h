/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The functions that act on the traffic (traffic/fn_sf.h) in guests: the
 * host pushes their settings to /run/fn.json (and the firewall's script)
 * through the guest agent, starts `cadeia-guest fn KIND --config` with the
 * same ready handshake the guest's init uses, and at stop ends them and
 * brings their files (flows.csv, lb-<node>.csv) back into the run directory.
 */
#ifndef CADEIA_LV_FN_H
#define CADEIA_LV_FN_H

#include <libvirt/libvirt.h>

#include "backend/backend.h"

typedef virDomainPtr (*lvfn_dom_fn)(struct testbed *tb, int i);

/* Node i's function, if it is one of these kinds (0 otherwise). */
int lvfn_start(struct testbed *tb, int i, lvfn_dom_fn dom, char *err, size_t errlen);
/* Ends every such function and copies its files into tb->log_dir. */
void lvfn_stop(struct testbed *tb, lvfn_dom_fn dom);
/* Runs argv in node i's guest; *out its stdout (malloc'd) when out is set. */
int lvfn_exec(struct testbed *tb, int i, lvfn_dom_fn dom, const char *const argv[], char **out,
	      int timeout_ms, char *err, size_t errlen);

#endif
