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
#include <stdint.h>
#include <jansson.h>

#include "model/control.h"
#include "traffic/probe.h"
#include "run/runstate.h"
#include "model/scenario.h"
#include "sys/supervise.h"

struct backend_ops;
struct sff_ovs;

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
	struct cp_tables *installed; /* the tables written and read back (tb_install); malloc'd */
	bool paused[SC_MAX_NODES];   /* node i is paused (tb_pause) */
	json_t *info;          /* backend facts for meta.json (boot times, memory) */
	void *priv;            /* the backend's own state */
};

/* One attachment: these stages on dev, pinned under the name pin. */
struct node_attach {
	const char *pin;
	const char *dev;
	unsigned stages;        /* enum cs_stage_bit mask */
	unsigned kwire_mode;    /* KWIRE_MODE_* */
	const char *kwire_peer; /* NULL = kwire reflects on dev */
};

/* A static neighbour entry: IPv4 (network order) and its MAC. */
struct node_neigh {
	uint32_t ip;
	uint8_t mac[6];
};

/*
 * What a backend does on one node i, in this process (netns) or through
 * the node's guest agent (libvirt). backend/common.c builds everything the
 * run loop needs from these, once for both backends: attach, neighbour
 * priming, the two-pass install and its read-back, fwd counters, the OVS
 * SFF, a node's link going down. Errors: negative errno, err names the node.
 */
struct node_ops {
	/* Optional: before node i's stages are attached (NIC settings). */
	int (*prepare)(struct testbed *tb, int i, char *err, size_t errlen);
	int (*attach)(struct testbed *tb, int i, const struct node_attach *a, char *err,
		      size_t errlen);
	/* Static neighbours on node i's main interface. */
	int (*neigh)(struct testbed *tb, int i, const struct node_neigh *nb, size_t n, char *err,
		     size_t errlen);
	/* Replaces node i's classifier and/or fwd table with nt's. */
	int (*tables_write)(struct testbed *tb, int i, const struct cp_node_tables *nt, bool cls,
			    bool fwd, char *err, size_t errlen);
	/* Node i's attached tables as `cadeia-stage show --json` prints them. */
	int (*tables_read)(struct testbed *tb, int i, json_t **show, char *err, size_t errlen);
	/* One stage's counters (*n in: capacity, out: count). */
	int (*counters)(struct testbed *tb, int i, unsigned stage, struct cs_counter *c, size_t *n,
			char *err, size_t errlen);
	/* The ovs-nsh SFF (descriptor from backend_ovs_sff). ovs_start NULL:
	 * it starts with its node. */
	int (*ovs_start)(struct testbed *tb, int i, const struct sff_ovs *o, char *err,
			 size_t errlen);
	int (*ovs_write)(struct testbed *tb, int i, const struct sff_ovs *o,
			 const struct cs_fwd_rule *r, size_t n, char *err, size_t errlen);
	int (*ovs_read)(struct testbed *tb, int i, const struct sff_ovs *o, struct cs_fwd_rule *r,
			size_t *n, char *err, size_t errlen);
	int (*ovs_forwarded)(struct testbed *tb, int i, const struct sff_ovs *o,
			     unsigned long long *count, char *err, size_t errlen);
	/* Optional: node i still forwards correctly once its tables are in. */
	int (*healthy)(struct testbed *tb, int i, char *err, size_t errlen);
	/* Starts SF i's user-space function; NULL: it starts with its node. */
	int (*start_fn)(struct testbed *tb, int i, char *err, size_t errlen);
	/* Runs the prober at node src; po->netns is set by the backend. */
	int (*probe)(struct testbed *tb, int src, struct probe_opts *po, struct probe_sample *out,
		     struct probe_report *rep, char *err, size_t errlen);
	/* Optional: runs argv in node i (a guest); *out its stdout, malloc'd.
	 * NULL: the node is a namespace of this host (run/throughput.c forks). */
	int (*exec)(struct testbed *tb, int i, const char *const argv[], char **out,
		    int timeout_ms, char *err, size_t errlen);
	/* Optional: pauses (true) or resumes node i as a whole (a guest's
	 * vCPUs); NULL: nodes cannot be paused (namespaces cost nothing idle). */
	int (*pause)(struct testbed *tb, int i, bool paused, char *err, size_t errlen);
	/* Sets one of node i's interfaces up or down. */
	int (*link)(struct testbed *tb, int i, const char *ifname, bool up, char *err,
		    size_t errlen);
};

struct backend_ops {
	const char *name;
	/* Can this backend run the scenario at all? Asked before anything is
	 * created; NULL = yes. */
	int (*supports)(const struct scenario *sc, char *err, size_t errlen);
	/* Makes every node and link exist, then calls tb_bring_up. All or
	 * nothing: on failure the caller tears down by prefix. */
	int (*build)(struct testbed *tb, char *err, size_t errlen);
	/* Every node and function still alive; names the dead one. */
	int (*check)(struct testbed *tb, char *err, size_t errlen);
	/* Stops what this process supervises (before the run's teardown, which
	 * backend/owner.h does for every backend: by ownership mark). */
	void (*stop)(struct testbed *tb);
	const struct node_ops *node;
};

/* ---- backend/common.c: the same on every backend ---- */

/* Node i is the ovs-nsh SFF; fills o (may be NULL) for it. */
bool backend_ovs_sff(const struct testbed *tb, int i, struct sff_ovs *o);
/* Once nodes and links exist: static neighbours, stages, the OVS SFF,
 * the functions. */
int tb_bring_up(struct testbed *tb, char *err, size_t errlen);
/* Installs one sweep point's tables (fwd before classifier) and reads them
 * back. */
int tb_install(struct testbed *tb, const struct cp_tables *t, char *err, size_t errlen);
/* Per node: fwd verdicts (forwarded + end_of_chain + redirected). */
int tb_sf_counts(struct testbed *tb, unsigned long long *counts, char *err, size_t errlen);
/* Runs the prober at node src (index into the scenario's nodes). */
int tb_probe(struct testbed *tb, int src, struct probe_opts *po, struct probe_sample *out,
	     struct probe_report *rep, char *err, size_t errlen);
/* Takes a node's link(s) down or up: the fault experiment's failure. */
int tb_node_link(struct testbed *tb, int node, bool up, char *err, size_t errlen);
/* Whether this backend can pause a node (node_ops.pause). */
bool tb_can_pause(const struct testbed *tb);
/* Pauses or resumes node i; nothing when it already is so, or the backend
 * cannot. A paused node forwards nothing: tb_sf_counts counts it 0 and
 * tb_install resumes it before writing its tables. */
int tb_pause(struct testbed *tb, int i, bool paused, char *err, size_t errlen);
/* Every paused node resumed; the first error, after trying them all. */
int tb_resume_all(struct testbed *tb, char *err, size_t errlen);

extern const struct backend_ops netns_backend;
extern const struct backend_ops libvirt_backend;

const struct backend_ops *backend_for(enum sc_backend b);

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
