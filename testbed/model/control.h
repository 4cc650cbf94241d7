/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control plane: from a scenario and a chain length, every node's
 * classifier and forwarding tables. Pure computation; installing them is the
 * backend's job.
 */
#ifndef CADEIA_CONTROL_H
#define CADEIA_CONTROL_H

#include "cadeia_stage.h"
#include "model/scenario.h"

#define CP_MAX_FWD 256 /* per node: chains x appearances */

struct cp_node_tables {
	size_t n_cls;
	struct cls_rule cls[CLS_MAX_RULES];
	size_t n_fwd;
	struct cs_fwd_rule fwd[CP_MAX_FWD];
};

struct cp_tables {
	int length; /* the sweep point these tables implement */
	struct cp_node_tables node[SC_MAX_NODES];
	/* fwd verdicts each node gives one probe of every active chain: how
	 * the run checks the tables are in effect before measuring. */
	unsigned expect[SC_MAX_NODES];
};

/* Chain c runs through its first min(length, n_sfs) SFs. */
int cp_chain_length(const struct scenario *sc, int c, int length);

/*
 * Chain c of length L, SPI s, starting SI i.
 * Cadeia-Aberta: src classifies with (s, i) to sfs[0]; sfs[k-1]'s enc leaves
 * SI i-k, and its fwd maps (s, i-k) to sfs[k]'s MAC, or, for k = L, to the end
 * of the chain (dest's MAC).
 * Star (PhantomSFC, OVS): src classifies to the SFF; the SFF maps (s, i-k+1)
 * to hop k (the SF's proxy, or an NSH-aware SF) and (s, i-L) to the end; hop k
 * maps (s, i-k) back to the SFF without touching TTL (only SFFs decrement it).
 */
int cp_compute(const struct scenario *sc, int length, struct cp_tables *t,
	       char *err, size_t errlen);

#endif
