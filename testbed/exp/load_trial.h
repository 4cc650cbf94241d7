/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One NDR trial (exp/ndr.h) run for real: the load generator and its sink
 * (traffic/loadgen.h) at the trial's rate. The adapter lives here, with the
 * search, so traffic/ knows nothing of experiments.
 */
#ifndef CADEIA_LOAD_TRIAL_H
#define CADEIA_LOAD_TRIAL_H

#include <stdint.h>

#include "exp/ndr.h"
#include "traffic/loadgen.h"

/* Trial context for ndr_search: each trial takes a fresh run id, resets the
 * sink, runs gen at the trial's rate and duration, waits the drain time and
 * compares sent with the sink's delivered count. */
struct loadgen_trial_ctx {
	struct loadgen_opts gen; /* rate_pps, duration_s and run_id are set per trial */
	struct loadgen_sink *sink;
	uint32_t next_run_id;    /* incremented per trial; 0 = start at 1 */
	struct loadgen_sink_report last_sink; /* of the latest trial */
	struct loadgen_report last_gen;
};
int loadgen_ndr_trial(void *ctx, struct ndr_trial *t, char *err, size_t errlen);

#endif
