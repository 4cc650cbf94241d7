/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A testbed backend builds the scenario's nodes somewhere (network
 * namespaces, libvirt VMs), attaches their stages, installs the control
 * plane's tables, and runs the prober at the source. The run loop only talks
 * to this interface.
 */
#ifndef CADEIA_BACKEND_H
#define CADEIA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "model/control.h"
#include "traffic/probe.h"
#include "run/runstate.h"
#include "model/scenario.h"
#include "sys/supervise.h"

struct backend_ops;

struct testbed {
	const struct backend_ops *ops;
	const struct scenario *sc;
	struct runstate *rs;
	char bridge[16];
	char name[SC_MAX_NODES][64];   /* "<id>-<node>": netns, domain and pin name */
	char hostif[SC_MAX_NODES][16]; /* host end of the node's link (veth or tap) */
	struct sv_child fn[SC_MAX_NODES];
	bool detach_functions; /* `up`: functions outlive this process */
	const char *log_dir;   /* function and console logs; NULL = none */
	char accel[64];        /* "none (no VM)", "kvm", "tcg" */
	int length;            /* currently installed; -1 = none */
	json_t *info;          /* backend facts for meta.json (boot times, memory) */
	void *priv;            /* the backend's own state */
};

struct backend_ops {
	const char *name;
	/* Can this backend run the scenario at all? Asked before anything is
	 * created; NULL = yes. */
	int (*supports)(const struct scenario *sc, char *err, size_t errlen);
	/* Builds every node with the longest chain's stages. All or nothing:
	 * on failure the caller tears down by prefix. */
	int (*build)(struct testbed *tb, char *err, size_t errlen);
	/* Installs one sweep point's tables and reads them back. */
	int (*install)(struct testbed *tb, const struct cp_tables *t, char *err, size_t errlen);
	/* Per node: fwd verdicts (forwarded + end_of_chain + redirected). */
	int (*sf_counts)(struct testbed *tb, unsigned long long *counts, char *err, size_t errlen);
	/* Every function still alive; names the dead one. */
	int (*check)(struct testbed *tb, char *err, size_t errlen);
	/* Runs the prober at node po->src's node (index src); po->netns is set
	 * by the backend. */
	int (*probe)(struct testbed *tb, int src, struct probe_opts *po, struct probe_sample *out,
		     struct probe_report *rep, char *err, size_t errlen);
	/* Takes a node's link(s) down or up: the fault experiment's failure. */
	int (*node_link)(struct testbed *tb, int node, bool up, char *err, size_t errlen);
	/* Stops what this process supervises (before teardown by prefix). */
	void (*stop)(struct testbed *tb);
	/* Removes this backend's resources named "<prefix>..." (domains, taps,
	 * files); used by rs_teardown, so it must work without a testbed.
	 * Returns the number of failures. NULL: nothing beyond netns/links. */
	int (*teardown)(const char *prefix, void (*log)(const char *what, void *arg), void *arg);
};

extern const struct backend_ops netns_backend;
extern const struct backend_ops libvirt_backend;

const struct backend_ops *backend_for(enum sc_backend b);
/* Every backend's teardown for one run prefix; number of failures. */
int backend_teardown_prefix(const char *prefix, void (*log)(const char *what, void *arg),
			    void *arg);

static inline int tb_build(struct testbed *tb, const struct scenario *sc, struct runstate *rs,
			   char *err, size_t errlen)
{
	tb->sc = sc;
	tb->rs = rs;
	tb->length = -1;
	rs_name(rs, "br", tb->bridge, sizeof(tb->bridge));
	for (int i = 0; i < sc->n_nodes; i++) {
		rs_name(rs, sc->nodes[i].name, tb->name[i], sizeof(tb->name[i]));
		rs_name(rs, sc->nodes[i].name, tb->hostif[i], sizeof(tb->hostif[i]));
	}
	return tb->ops->build(tb, err, errlen);
}

#endif
