/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the run loop (run.c) and its report (report.c) share. The
 * experiments (exp/) see none of it: they get callbacks. */
#ifndef CADEIA_RUN_PRIV_H
#define CADEIA_RUN_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "run/results.h"
#include "run/run.h"
#include "run/runstate.h"
#include "run/cpuplace.h"
#include "analysis/stats.h"

/* Measurements of one (chain, length) point. */
struct point {
	bool measured;
	int sfs; /* effective chain length: the x of figure 6 */
	size_t n;
	int64_t *rtt_ns;
	unsigned *round;
	struct stats_length st;
	unsigned kernel_ts, user_ts;
	double achieved_pps;
};

struct run {
	const struct scenario *sc0; /* as loaded */
	const struct scenario *sc;  /* sc0 expanded for the architecture being run: &scx[ai] */
	struct scenario scx[SC_ARCH__COUNT];
	int ai;                     /* index into sc0->archs: the architecture being run */
	const struct run_opts *o;
	/*
	 * All architectures' testbeds are up at once, so that one round can
	 * visit each of them. Each has its own run id (its names would
	 * collide otherwise): rs is the run's own, and the testbed of
	 * architecture 0; sub_rs[ai] (ai >= 1) carries "parent": rs.id.
	 */
	struct runstate rs;
	struct runstate sub_rs[SC_ARCH__COUNT];
	struct testbed tbs[SC_ARCH__COUNT];
	bool built[SC_ARCH__COUNT]; /* tbs[ai] was built (and must be stopped) */
	struct testbed *tb;         /* &tbs[ai] */
	struct results res;
	struct point pt[SC_ARCH__COUNT][SC_MAX_CHAINS][SC_MAX_LENGTHS];
	char started[40];
	json_t *faults; /* fault experiment results, all architectures */
	json_t *ndr, *latency; /* load experiment results, all architectures */
	json_t *throughput;    /* TCP goodput rows, all architectures (run/throughput.h) */
	uint64_t sched_seed;                /* the visit order's seed (run/schedule.h) */
	struct cpuplace pl;                /* where the prober and functions ran (run/cpuplace.h) */
	int64_t sweep_ns[SC_ARCH__COUNT];   /* wall time of each architecture's visits */
	/* progress */
	int li, c, round;
	double sum_rtt_us;
	unsigned n_rtt;
};

/* Progress line on a terminal; nothing otherwise. */
void run_note(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Installs one chain length's tables and proves they are in effect. */
int run_set_length(void *arg, int length, char *err, size_t errlen);

/* summary.csv, summary.json, meta.json and the plots of the run. */
int report_write(struct run *r, const char *status, const char *reason, json_t **summary_out,
		 char *err, size_t errlen);
/* The human-readable tables printed at the end of `run`. */
void report_print(const struct run *r, json_t *summary);

#endif
