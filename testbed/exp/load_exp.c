/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/load_exp.h"
#include "exp/load_trial.h"
#include "traffic/loadgen.h"
#include "exp/ndr.h"
#include "analysis/stats.h"

#define NDR_TRIALS_MAX 40

static void trial_progress(void *arg, unsigned idx, const struct ndr_trial *t)
{
	const char *what = arg;

	fprintf(stderr, "\r\033[K%s: trial %u at %.0f pps: loss %.3f %%%s", what, idx + 1,
		t->rate_pps, t->loss_pct, t->gen_limited ? " (generator-limited)" : "");
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static int ndr_point(const struct load_exp_ctx *x, struct loadgen_sink *sink, int length,
		     unsigned size, double *ndr_out, json_t *out, char *err, size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	const struct sc_load *l = &sc->load;
	const struct sc_chain *ch = &sc->chains[0];
	struct ndr_trial trials[NDR_TRIALS_MAX];
	struct loadgen_trial_ctx tc = {
		.gen = { .netns = x->tb->name[ch->src], .src = sc->nodes[ch->src].ip,
			 .dst = sc->nodes[ch->dest].ip, .frame_size = size, .flows = l->flows,
			 .warmup_ms = 50, .stop = x->stop, .pin = l->cpu >= 0, .cpu = l->cpu },
		.sink = sink,
	};
	char what[128];
	struct ndr_opts no = {
		.lo_pps = l->lo_pps, .hi_pps = l->hi_pps, .loss_threshold_pct = l->loss_pct,
		.resolution_pct = l->resolution_pct, .duration_s = l->trial_s, .drain_s = 0.3,
		.gen_tolerance_pct = 1, .max_trials = NDR_TRIALS_MAX,
		.trial = loadgen_ndr_trial, .trial_arg = &tc,
		.progress = x->progress ? trial_progress : NULL, .progress_arg = what,
		.stop = x->stop,
	};
	struct ndr_result res;
	json_t *tj = json_array();
	int ret;

	snprintf(what, sizeof(what), "%s: no-drop rate, length %d, %u-byte frames",
		 sc_arch_name(sc->arch), length, size);
	ret = ndr_search(&no, trials, NDR_TRIALS_MAX, &res, err, errlen);
	if (ret < 0) {
		json_decref(tj);
		return ret;
	}
	for (unsigned i = 0; i < res.ntrials; i++)
		json_array_append_new(tj, json_pack("{s:f, s:f, s:I, s:I, s:f, s:b, s:b}", "rate_pps",
						    trials[i].rate_pps, "achieved_pps",
						    trials[i].achieved_pps, "sent",
						    (json_int_t)trials[i].sent, "received",
						    (json_int_t)trials[i].received, "loss_pct",
						    trials[i].loss_pct, "generator_limited",
						    trials[i].gen_limited, "pass", trials[i].pass));
	json_array_append_new(out,
		json_pack("{s:s, s:s, s:i, s:i, s:f, s:f, s:b, s:b, s:b, s:o}", "architecture",
			  sc_arch_name(sc->arch), "chain", ch->name, "chain_length", length,
			  "frame_size", size, "ndr_pps", res.ndr_pps, "loss_threshold_pct",
			  l->loss_pct, "at_least", res.hi_passed, "generator_limited",
			  res.gen_limited, "converged", res.converged, "trials", tj));
	*ndr_out = res.ndr_pps;
	if (x->progress)
		fprintf(stderr, "\r\033[K%s: %.0f pps\n", what, res.ndr_pps);
	return res.interrupted ? -EINTR : 0;
}

/* RTT from the prober while the generator offers rate_pps (0 = idle). */
static int latency_point(const struct load_exp_ctx *x, struct loadgen_sink *sink, double level,
			 double rate_pps, json_t *out, char *err, size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	const struct sc_load *l = &sc->load;
	const struct sc_chain *ch = &sc->chains[0];
	unsigned n = l->latency_probes;
	struct probe_sample *s = calloc(n, sizeof(*s));
	int64_t *rtt = calloc(n, sizeof(*rtt));
	struct loadgen_opts go = {
		.netns = x->tb->name[ch->src], .src = sc->nodes[ch->src].ip,
		.dst = sc->nodes[ch->dest].ip, .frame_size = l->sizes[0], .flows = l->flows,
		.rate_pps = rate_pps, .run_id = 0xB0AD,
		/* Longer than the probes need: stopped as soon as they are done. */
		.duration_s = n / sc->measure.rate_pps + 5, .stop = x->stop,
		.pin = l->cpu >= 0, .cpu = l->cpu, /* resolved by run/cpuplace.h */
	};
	struct probe_opts po = {
		.src = sc->nodes[ch->src].ip, .dst = sc->nodes[ch->dest].ip,
		.icmp_size = sc->measure.icmp_size, .rate_pps = sc->measure.rate_pps, .count = n,
		.warmup = 10, .grace_ms = sc->measure.grace_ms, .stop = x->stop,
	};
	struct loadgen_report grep = { 0 };
	struct loadgen_sink_report srep = { 0 };
	struct probe_report rep;
	struct stats_length st;
	struct loadgen *lg = NULL;
	char serr[256];
	int ret;

	if (!s || !rtt) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory for %u probes", n);
		goto cleanup;
	}
	if (rate_pps > 0) {
		loadgen_sink_reset(sink, go.run_id);
		if ((ret = loadgen_start(&go, &lg, err, errlen)) < 0)
			goto cleanup;
	}
	ret = tb_probe(x->tb, ch->src, &po, s, &rep, err, errlen);
	if (lg) {
		loadgen_stop(lg);
		if (loadgen_join(lg, &grep, serr, sizeof(serr)) < 0 && ret == 0) {
			snprintf(err, errlen, "%s", serr);
			ret = -EIO;
		}
		loadgen_sink_read(sink, &srep, NULL, 0);
	}
	if (ret < 0)
		goto cleanup;
	for (unsigned i = 0; i < rep.sent; i++)
		rtt[i] = s[i].rtt_ns;
	if (stats_length_compute(rtt, NULL, rep.sent, &st, serr, sizeof(serr)) < 0) {
		snprintf(err, errlen, "load %.0f %%: %s", level, serr);
		ret = -EINVAL;
		goto cleanup;
	}
	json_array_append_new(out,
		json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:I, s:I, s:i, s:i, s:o, s:o, s:o, s:o}",
			  "architecture", sc_arch_name(sc->arch), "chain", ch->name, "chain_length",
			  x->tb->length, "level_pct", level, "offered_pps", rate_pps, "achieved_pps",
			  grep.achieved_pps, "load_sent", (json_int_t)grep.sent, "load_delivered",
			  (json_int_t)srep.delivered, "probes", st.probes, "probes_lost", st.lost,
			  "p50_us", num_or_null(st.median_us), "p99_us", num_or_null(st.p99_us),
			  "mean_us", num_or_null(st.mean_us), "max_us", num_or_null(st.max_us)));
	/* Where the generator ran (none at 0 %): meta.json's cpu_placement says why. */
	json_object_set_new(json_array_get(out, json_array_size(out) - 1), "generator_cpu",
			    rate_pps > 0 ? json_integer(grep.cpu) : json_null());
	if (x->progress)
		fprintf(stderr, "\r\033[K%s: load %.0f %% (%.0f pps): RTT p50 %.1f us, p99 %.1f us\n",
			sc_arch_name(sc->arch), level, rate_pps, st.median_us, st.p99_us);
	ret = rep.interrupted ? -EINTR : 0;
cleanup:
	free(s);
	free(rtt);
	return ret;
}

int load_exp_run(const struct load_exp_ctx *x, json_t *ndr, json_t *latency, char *err,
		 size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	const struct sc_load *l = &sc->load;
	const struct sc_chain *ch = &sc->chains[0];
	struct loadgen_sink_opts so = { .netns = x->tb->name[ch->dest], .addr = sc->nodes[ch->dest].ip };
	struct loadgen_sink *sink = NULL;
	double ndr_at_latency = NAN;
	int ret;

	if ((ret = loadgen_sink_start(&so, &sink, err, errlen)) < 0)
		return ret;
	for (int li = 0; li < l->n_lengths && !*x->stop; li++) {
		if ((ret = x->set_length(x->arg, l->lengths[li], err, errlen)) < 0)
			goto cleanup;
		for (int k = 0; k < l->n_sizes && !*x->stop; k++) {
			double v;

			if ((ret = ndr_point(x, sink, l->lengths[li], l->sizes[k], &v, ndr, err,
					     errlen)) < 0)
				goto cleanup;
			if (k == 0 && l->lengths[li] == l->latency_length)
				ndr_at_latency = v;
		}
	}
	if (*x->stop) {
		ret = -EINTR;
		goto cleanup;
	}
	if ((ret = x->set_length(x->arg, l->latency_length, err, errlen)) < 0)
		goto cleanup;
	if (!isfinite(ndr_at_latency)) {
		double v;

		if ((ret = ndr_point(x, sink, l->latency_length, l->sizes[0], &v, ndr, err, errlen)) < 0)
			goto cleanup;
		ndr_at_latency = v;
	}
	for (int i = 0; i < l->n_levels && !*x->stop; i++) {
		ret = latency_point(x, sink, l->levels_pct[i], ndr_at_latency * l->levels_pct[i] / 100,
				    latency, err, errlen);
		if (ret < 0)
			goto cleanup;
	}
	ret = *x->stop ? -EINTR : 0;
cleanup:
	loadgen_sink_stop(sink);
	return ret;
}
