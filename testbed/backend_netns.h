/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The embedded default backend: each node a network namespace with a veth to
 * one Linux bridge in the root namespace, stages attached in process through
 * libcadeia_stage, functions supervised as child processes.
 */
#ifndef CADEIA_BACKEND_NETNS_H
#define CADEIA_BACKEND_NETNS_H

#include <stdbool.h>

#include "control.h"
#include "runstate.h"
#include "scenario.h"
#include "supervise.h"

struct testbed {
	const struct scenario *sc;
	struct runstate *rs;
	char bridge[16];
	char netns[SC_MAX_NODES][64]; /* also the node's pin name */
	char hostif[SC_MAX_NODES][16];
	struct sv_child fn[SC_MAX_NODES];
	bool detach_functions; /* `up`: functions outlive this process */
	const char *log_dir;   /* functions' logs; NULL = inherit stderr */
	int length;            /* currently installed; -1 = none */
};

/* Builds the whole testbed for the scenario (largest chain). All or
 * nothing: on failure the caller tears down by prefix (rs_teardown). */
int tb_build(struct testbed *tb, const struct scenario *sc, struct runstate *rs,
	     char *err, size_t errlen);

/* Installs the tables for one sweep point and reads them back. */
int tb_install(struct testbed *tb, const struct cp_tables *t, char *err, size_t errlen);

/* Sum of fwd verdicts (forwarded + end_of_chain + redirected) per node; the
 * proof that a frame crossed an SF. */
int tb_sf_counts(struct testbed *tb, unsigned long long *counts, char *err, size_t errlen);

/* Checks every function process is alive; names the dead one. */
int tb_check_functions(struct testbed *tb, char *err, size_t errlen);

/* Stops the function processes this process supervises. */
void tb_stop_functions(struct testbed *tb);

#endif
