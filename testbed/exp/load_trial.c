/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "exp/load_trial.h"

/* The drain time, whole even across signals. */
static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)llround((s - (double)(time_t)s) * 1e9) };

	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int loadgen_ndr_trial(void *arg, struct ndr_trial *t, char *err, size_t errlen)
{
	struct loadgen_trial_ctx *ctx = arg;
	struct loadgen_opts g = ctx->gen;
	int r;

	if (++ctx->next_run_id == LOADGEN_RUN_ANY)
		ctx->next_run_id++;
	g.run_id = ctx->next_run_id;
	g.rate_pps = t->rate_pps;
	g.duration_s = t->duration_s;
	loadgen_sink_reset(ctx->sink, g.run_id);
	r = loadgen_run(&g, &ctx->last_gen, err, errlen);
	if (r < 0)
		return r;
	if (t->drain_s > 0)
		sleep_s(t->drain_s);
	loadgen_sink_read(ctx->sink, &ctx->last_sink, NULL, 0);
	t->sent = ctx->last_gen.sent;
	t->received = ctx->last_sink.delivered;
	t->achieved_pps = ctx->last_gen.achieved_pps;
	return 0;
}
