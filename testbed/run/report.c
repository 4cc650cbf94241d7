/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The run's report: summary.csv, summary.json, meta.json, the plots, and
 * the tables printed at the end. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"
#include "run/run_priv.h"
#include "run/schedule.h"
#include "run/slope_ci.h"
#include "run/crossings.h"
#include "run/fnreport.h"
#include "run/throughput.h"

static double nan_or(double v) { return isfinite(v) ? v : NAN; }

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Fits mean (the paper's figure) and median (robust here) against SFs. */
static void fit_chain(struct run *r, int ai, int c, struct stats_fit *mean_fit, struct stats_fit *med_fit,
		      bool *ok_mean, bool *ok_med)
{
	double x[SC_MAX_LENGTHS], ym[SC_MAX_LENGTHS], yd[SC_MAX_LENGTHS];
	size_t n = 0;
	char err[256];

	for (int li = 0; li < r->sc0->n_lengths; li++) {
		struct point *p = &r->pt[ai][c][li];

		if (!p->measured || p->st.received == 0)
			continue;
		x[n] = p->sfs;
		ym[n] = p->st.mean_us;
		yd[n] = p->st.median_us;
		n++;
	}
	*ok_mean = stats_linfit(x, ym, n, mean_fit, err, sizeof(err)) == 0;
	*ok_med = stats_linfit(x, yd, n, med_fit, err, sizeof(err)) == 0;
}

static json_t *fit_json(bool ok, const struct stats_fit *f, const char *of)
{
	if (!ok)
		return json_null();
	return json_pack("{s:f, s:f, s:f, s:s}", "slope_us", f->slope, "intercept_us",
			 f->intercept, "r2", f->r2, "of", of);
}

/* One (architecture, chain) series: CSV rows, JSON points, plot points. */
/* The TCP columns of a summary.csv row (empty when that point had no iperf3). */
static void tput_csv(const struct run *r, const char *arch, const char *chain, int length,
		     FILE *csv)
{
	json_t *t;

	if (!r->sc0->throughput.enabled)
		return;
	t = tput_find(r->throughput, arch, chain, length);
	if (!t) {
		fputs(",,,", csv);
		return;
	}
	fprintf(csv, ",%.1f,%lld,%.3f", json_number_value(json_object_get(t, "goodput_mbps")),
		(long long)json_integer_value(json_object_get(t, "retransmits")),
		json_number_value(json_object_get(t, "cpu_s_per_gb")));
}

/* plots/throughput.png: goodput against chain length, a line per architecture (and chain). */
static int tput_plot(struct run *r, const char *status, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc0;
	size_t n = json_array_size(r->throughput), i;
	struct plot_tput_point *tp = calloc(n ? n : 1, sizeof(*tp));
	char outdir[1300], title[256];
	struct plot_opts po = { .outdir = outdir, .name = "throughput", .title = title };
	json_t *e;
	int ret;

	if (!tp)
		return -ENOMEM;
	json_array_foreach(r->throughput, i, e) {
		const char *a = json_string_value(json_object_get(e, "architecture"));
		const char *ch = json_string_value(json_object_get(e, "chain"));

		snprintf(tp[i].series, sizeof(tp[i].series), "%s%s%s", a ? a : "?",
			 sc->n_chains > 1 ? " chain " : "", sc->n_chains > 1 && ch ? ch : "");
		tp[i].length = (double)json_integer_value(json_object_get(e, "chain_length"));
		tp[i].goodput_mbps = json_number_value(json_object_get(e, "goodput_mbps"));
	}
	res_path(&r->res, "plots", outdir, sizeof(outdir));
	snprintf(title, sizeof(title), "%s: TCP goodput (iperf3) against chain length%s", sc->name,
		 strcmp(status, "complete") ? " (incomplete)" : "");
	ret = plot_throughput(&po, tp, n, err, errlen);
	free(tp);
	return ret;
}

static json_t *series_out(struct run *r, int ai, int c, FILE *csv, struct plot_series *s,
			  struct plot_point *pts, double *slope_out)
{
	const struct scenario *sc = r->sc0;
	const char *arch = sc_arch_name(sc->archs[ai]);
	struct stats_fit mf = { 0 }, df = { 0 };
	json_t *pts_json = json_array(), *out;
	struct stats_slope_ci cim, cid;
	bool okm, okd, okci;

	memset(s, 0, sizeof(*s));
	for (int li = 0; li < sc->n_lengths; li++) {
		struct point *p = &r->pt[ai][c][li];
		struct stats_length *st = &p->st;

		if (!p->measured)
			continue;
		fprintf(csv, "%s,%s,%d,%u,%u,%u,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f", arch,
			sc->chains[c].name, p->sfs, st->probes, st->received, st->lost, st->loss_pct,
			st->mean_us, st->sem_us, st->median_us, st->p99_us, st->min_us, st->max_us);
		tput_csv(r, arch, sc->chains[c].name, p->sfs, csv);
		fputc('\n', csv);
		json_array_append_new(pts_json,
			json_pack("{s:i, s:i, s:i, s:i, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:f}",
				  "chain_length", p->sfs, "probes", st->probes, "received",
				  st->received, "lost", st->lost, "loss_pct", st->loss_pct, "mean_us",
				  num(st->mean_us), "sem_us", num(st->sem_us), "median_us",
				  num(st->median_us), "p99_us", num(st->p99_us), "min_us",
				  num(st->min_us), "max_us", num(st->max_us), "kernel_timestamps",
				  p->kernel_ts, "user_timestamps", p->user_ts, "achieved_pps",
				  p->achieved_pps));
		pts[s->n] = (struct plot_point){ .length = p->sfs, .mean_us = nan_or(st->mean_us),
						 .sem_us = nan_or(st->sem_us),
						 .median_us = nan_or(st->median_us) };
		s->n++;
	}
	fit_chain(r, ai, c, &mf, &df, &okm, &okd);
	*slope_out = okm ? mf.slope : NAN;
	snprintf(s->label, sizeof(s->label), "%s%s%s%s%s", sc->n_archs > 1 ? arch : sc->name,
		 sc->n_chains > 1 ? " chain " : "", sc->n_chains > 1 ? sc->chains[c].name : "",
		 "", "");
	snprintf(s->backend, sizeof(s->backend), "%s", sc_backend_name(sc->backend));
	snprintf(s->accel, sizeof(s->accel), "%s", r->tbs[0].accel);
	snprintf(s->scenario, sizeof(s->scenario), "%s", sc->name);
	s->pts = pts;
	s->slope_us = okm ? mf.slope : NAN;
	s->intercept_us = okm ? mf.intercept : NAN;
	s->r2 = okm ? mf.r2 : NAN;
	/* The slope's 95 % interval, bootstrap over rounds (slope_ci.h): a band on the figure. */
	okci = slope_ci_series(r, ai, c, &cim, &cid) == 0;
	s->slope_lo_us = okci && okm ? cim.lo : NAN;
	s->slope_hi_us = okci && okm ? cim.hi : NAN;
	out = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o}", "architecture", arch, "chain",
			sc->chains[c].name, "spi", sc->chains[c].spi, "points", pts_json, "fit",
			fit_json(okm, &mf, "mean"), "fit_median", fit_json(okd, &df, "median"));
	if (okci) {
		slope_ci_annotate(json_object_get(out, "fit"), &cim);
		slope_ci_annotate(json_object_get(out, "fit_median"), &cid);
	}
	return out;
}

/*
 * The visit order and its seed (run/schedule.h), and each sweep's wall time
 * against the time its probes alone take at the scenario's rate.
 */
static json_t *schedule_meta(const struct run *r)
{
	const struct scenario *sc = r->sc0;
	const struct sc_measure *m = &sc->measure;
	json_t *o = sched_json(m->order == SC_ORDER_SEQUENTIAL ? SCHED_SEQUENTIAL : SCHED_INTERLEAVED,
			       r->sched_seed, m->seed_set);
	json_t *sweeps = json_array();
	double probing_s = (double)sc->n_lengths * sc->n_chains * m->rounds * m->per_round /
			   m->rate_pps;

	for (int ai = 0; ai < sc->n_archs; ai++)
		if (r->sweep_ns[ai] > 0)
			json_array_append_new(sweeps, json_pack("{s:s, s:f, s:f, s:f}", "architecture",
				sc_arch_name(sc->archs[ai]), "sweep_s", r->sweep_ns[ai] / 1e9,
				"probing_s", probing_s, "ratio", r->sweep_ns[ai] / 1e9 / probing_s));
	json_object_set_new(o, "sweeps", sweeps);
	/* Guests outside the measured chain: paused or left running (run.c, park). */
	json_object_set_new(o, "idle_guests",
			    json_string(!tb_can_pause(&r->tbs[0]) ? "none (no guests)" :
					m->idle_run ? "running" : "paused"));
	return o;
}

/* The first element of arr whose fields match; NULL if none. */
static json_t *find_obj(json_t *arr, const char *k1, const char *v1, const char *k2, double v2,
			const char *k3, double v3)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		if (strcmp(json_string_value(json_object_get(e, k1)) ?: "", v1) != 0)
			continue;
		if (k2 && json_number_value(json_object_get(e, k2)) != v2)
			continue;
		if (k3 && json_number_value(json_object_get(e, k3)) != v3)
			continue;
		return e;
	}
	return NULL;
}

/*
 * The comparison in one line per architecture: slope and R² of the first
 * chain, p99 at 90 % load, and the 64-byte no-drop rate at the longest
 * chain length the load experiment measured.
 */
static json_t *per_arch_summary(struct run *r, json_t *chains)
{
	const struct scenario *sc = r->sc0;
	json_t *out = json_array();

	for (int ai = 0; ai < sc->n_archs; ai++) {
		const char *arch = sc_arch_name(sc->archs[ai]);
		json_t *ch = find_obj(chains, "architecture", arch, NULL, 0, NULL, 0);
		json_t *fit = json_object_get(ch, "fit");
		json_t *p99 = NULL, *ndr = NULL, *e;

		if (r->latency && (e = find_obj(r->latency, "architecture", arch, "level_pct", 90,
						NULL, 0)))
			p99 = json_object_get(e, "p99_us");
		if (r->ndr && sc->load.n_sizes > 0 &&
		    (e = find_obj(r->ndr, "architecture", arch, "chain_length",
				  sc->load.lengths[sc->load.n_lengths - 1], "frame_size",
				  sc->load.sizes[0])))
			ndr = json_object_get(e, "ndr_pps");
		json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:O, s:i, s:O}", "architecture",
						     arch, "slope_us",
						     json_object_get(fit, "slope_us") ?: json_null(),
						     "r2", json_object_get(fit, "r2") ?: json_null(),
						     "p99_us_at_90pct_load", p99 ?: json_null(),
						     "ndr_chain_length",
						     sc->load.n_sizes ? sc->load.lengths[sc->load.n_lengths - 1] : -1,
						     "ndr_pps_64B", ndr ?: json_null()));
	}
	return out;
}

/* What report_write gathers from the rounds for the plots: a series per chain with points. */
struct report_acc {
	struct plot_series series[SC_ARCH__COUNT * SC_MAX_CHAINS];
	struct plot_point pts[SC_ARCH__COUNT * SC_MAX_CHAINS][SC_MAX_LENGTHS];
	double slope[SC_ARCH__COUNT][SC_MAX_CHAINS];
	size_t ns;
};

/* summary.csv, a row per measured point; the chains and architectures for summary.json. */
static int summary_csv(struct run *r, struct report_acc *acc, json_t **chains_out,
		       json_t **archs_out, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc0;
	json_t *chains, *archs;
	char path[1300];
	FILE *f;
	int ret;

	res_path(&r->res, "summary.csv", path, sizeof(path));
	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", path, strerror(-ret));
		res_failed(&r->res, -ret, err);
		return ret;
	}
	fprintf(f, "architecture,chain,chain_length,probes,received,lost,loss_pct,mean_us,sem_us,median_us,p99_us,min_us,max_us%s\n",
		sc->throughput.enabled ? ",goodput_mbps,retransmits,cpu_s_per_gb" : "");
	chains = json_array();
	archs = json_array();
	for (int ai = 0; ai < sc->n_archs; ai++) {
		json_array_append_new(archs, json_string(sc_arch_name(sc->archs[ai])));
		for (int c = 0; c < sc->n_chains; c++) {
			json_array_append_new(chains, series_out(r, ai, c, f, &acc->series[acc->ns],
								 acc->pts[acc->ns], &acc->slope[ai][c]));
			if (acc->series[acc->ns].n > 0)
				acc->ns++;
		}
	}
	if ((ret = res_close_file(&r->res, f, path, err, errlen)) < 0) {
		json_decref(chains);
		json_decref(archs);
		return ret;
	}
	*chains_out = chains;
	*archs_out = archs;
	return 0;
}

/* The paper's claim in one number: per-SF slope against Cadeia-Aberta's. */
static json_t *comparison(struct run *r, const struct report_acc *acc)
{
	const struct scenario *sc = r->sc0;
	json_t *cmp = json_array();

	for (int ai = 0; ai < sc->n_archs; ai++) {
		int base = -1;

		for (int k = 0; k < sc->n_archs; k++)
			if (sc->archs[k] == SC_ARCH_CADEIA_ABERTA)
				base = k;
		for (int c = 0; c < sc->n_chains && base >= 0; c++) {
			json_t *e = json_pack("{s:s, s:s, s:o, s:o}", "architecture",
					      sc_arch_name(sc->archs[ai]), "chain", sc->chains[c].name,
					      "slope_us", num(acc->slope[ai][c]),
					      "slope_ratio_to_cadeia_aberta",
					      num(acc->slope[ai][c] / acc->slope[base][c]));
			struct stats_ratio_ci q;

			/* Rounds paired by number; "significant": the interval excludes 1. */
			if (ai != base && slope_ci_ratio(r, ai, base, c, 0, &q) == 0)
				slope_ci_annotate_ratio(e, "slope_ratio", &q);
			if (ai != base && slope_ci_ratio(r, ai, base, c, 1, &q) == 0) {
				json_object_set_new(e, "median_slope_ratio", num(q.ratio));
				slope_ci_annotate_ratio(e, "median_slope_ratio", &q);
			}
			json_array_append_new(cmp, e);
		}
	}
	return cmp;
}

/* summary.json's object; takes the references to chains, archs and cmp. */
static json_t *summary_json(struct run *r, const char *status, json_t *chains, json_t *archs,
			    json_t *cmp)
{
	const struct scenario *sc = r->sc0;
	json_t *summary;

	summary = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "scenario", sc->name,
			    "backend", sc_backend_name(sc->backend), "architecture",
			    sc_arch_name(sc->archs[0]), "architectures", archs, "accelerator",
			    r->tbs[0].accel, "status", status, "chains", chains, "fit",
			    json_deep_copy(json_object_get(json_array_get(chains, 0), "fit")),
			    "comparison", cmp);
	if (r->faults)
		json_object_set(summary, "fault", r->faults);
	if (r->ndr)
		json_object_set_new(summary, "load", json_pack("{s:O, s:O}", "ndr", r->ndr,
							       "latency_under_load", r->latency));
	json_object_set_new(summary, "per_architecture", per_arch_summary(r, chains));
	if (r->throughput)
		json_object_set(summary, "throughput", r->throughput);
	{
		/* The monitor's and load balancers' files (run/fnreport.h). */
		char dir[1300];
		json_t *fn;

		res_path(&r->res, ".", dir, sizeof(dir));
		if ((fn = fnr_collect(dir)))
			json_object_set_new(summary, "functions", fn);
	}
	json_object_set_new(summary, "slope_interval", slope_ci_method());
	/* Several chains: each one's slope over the first's, rounds paired (calibration). */
	if (sc->n_chains > 1) {
		json_t *d = json_array(), *e;

		for (int ai = 0; ai < sc->n_archs; ai++)
			for (int c = 1; c < sc->n_chains; c++)
				if ((e = slope_ci_chain_difference(r, ai, c)))
					json_array_append_new(d, e);
		json_object_set_new(summary, "chain_differences", d);
	}
	/* Several hosts: each pair of chains against the underlay's configured delay. */
	if (sc->hosts.n)
		json_object_set_new(summary, "host_placement", crossings_summary(r));
	return summary;
}

static json_t *meta_json(struct run *r, const char *status, const char *reason)
{
	const struct scenario *sc = r->sc0;
	char ended[40];
	json_t *meta;

	res_utc_now(ended, sizeof(ended));
	meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "scenario_file",
			 sc->path, "run_id", r->rs.id, "status", status, "incomplete_reason",
			 reason ? reason : "", "backend", sc_backend_name(sc->backend), "accelerator",
			 r->tbs[0].accel, "start", r->started, "end", ended, "environment",
			 res_environment(), "scenario", json_deep_copy(sc->json));
	if (r->tbs[0].info)
		json_object_set(meta, "testbed", r->tbs[0].info);
	/* Several architectures: each testbed's facts, by architecture. */
	if (r->sc0->n_archs > 1) {
		json_t *tbs = json_object();

		for (int ai = 0; ai < r->sc0->n_archs; ai++)
			if (r->tbs[ai].info)
				json_object_set(tbs, sc_arch_name(r->sc0->archs[ai]), r->tbs[ai].info);
		json_object_set_new(meta, "testbeds", tbs);
	}
	/* Each architecture's testbed has a run id of its own (run_priv.h). */
	{
		json_t *ids = json_object();

		for (int ai = 0; ai < r->sc0->n_archs; ai++) {
			const char *id = ai == 0 ? r->rs.id : r->sub_rs[ai].id;

			if (r->built[ai])
				json_object_set_new(ids, sc_arch_name(r->sc0->archs[ai]), json_string(id));
		}
		json_object_set_new(meta, "testbed_run_ids", ids);
	}
	json_object_set_new(meta, "schedule", schedule_meta(r));
	json_object_set_new(meta, "cpu_placement", cpuplace_json(&r->pl));
	return meta;
}

/* plots/load.png: p50 and p99 RTT against the background load's level. */
static int load_plot(struct run *r, char *err, size_t errlen)
{
	size_t n = json_array_size(r->latency), i;
	struct plot_load_point *lp = calloc(n, sizeof(*lp));
	char outdir[1300], title[256];
	struct plot_opts po = { .outdir = outdir, .name = "load", .title = title };
	json_t *e;
	int ret;

	if (!lp)
		return -ENOMEM;
	json_array_foreach(r->latency, i, e) {
		snprintf(lp[i].series, sizeof(lp[i].series), "%s",
			 json_string_value(json_object_get(e, "architecture")));
		lp[i].level_pct = json_number_value(json_object_get(e, "level_pct"));
		lp[i].p50_us = json_number_value(json_object_get(e, "p50_us"));
		lp[i].p99_us = json_number_value(json_object_get(e, "p99_us"));
	}
	res_path(&r->res, "plots", outdir, sizeof(outdir));
	snprintf(title, sizeof(title), "%s: RTT under background load (chain length %d)",
		 r->sc0->name, r->sc0->load.latency_length);
	ret = plot_load(&po, lp, n, err, errlen);
	free(lp);
	return ret;
}

static int report_plots(struct run *r, const char *status, struct report_acc *acc, char *err,
			size_t errlen)
{
	int ret;

	if (acc->ns > 0) {
		char outdir[1300], title[256];
		struct plot_opts po = { .outdir = outdir, .title = title };

		res_path(&r->res, "plots", outdir, sizeof(outdir));
		snprintf(title, sizeof(title), "%s: ping RTT against chain length%s", r->sc0->name,
			 strcmp(status, "complete") ? " (incomplete)" : "");
		if ((ret = plot_fig6(&po, acc->series, acc->ns, err, errlen)) < 0)
			return ret;
	}
	if (r->latency && json_array_size(r->latency) > 0 &&
	    (ret = load_plot(r, err, errlen)) < 0)
		return ret;
	if (r->throughput && json_array_size(r->throughput) > 0 &&
	    (ret = tput_plot(r, status, err, errlen)) < 0)
		return ret;
	return 0;
}

int report_write(struct run *r, const char *status, const char *reason,
			 json_t **summary_out, char *err, size_t errlen)
{
	static struct report_acc acc;
	json_t *summary, *chains, *meta, *archs;
	int ret;

	acc.ns = 0;
	if ((ret = summary_csv(r, &acc, &chains, &archs, err, errlen)) < 0)
		return ret;
	summary = summary_json(r, status, chains, archs, comparison(r, &acc));
	meta = meta_json(r, status, reason);
	if ((ret = res_write_json(&r->res, "summary.json", summary, err, errlen)) < 0 ||
	    (ret = res_write_json(&r->res, "meta.json", meta, err, errlen)) < 0)
		goto cleanup;
	ret = report_plots(r, status, &acc, err, errlen);
cleanup:
	/* Whatever failed, the run directory lacks a file it should have. */
	if (ret < 0)
		res_failed(&r->res, -ret, err);
	if (ret == 0 && summary_out)
		*summary_out = json_incref(summary);
	json_decref(summary);
	json_decref(meta);
	return ret;
}

static void print_fit(const char *what, json_t *fit)
{
	if (!json_is_object(fit))
		return;
	printf("  fit of the %s %+.4f ms per SF%s, intercept %.4f ms, R^2 %.3f\n", what,
	       json_real_value(json_object_get(fit, "slope_us")) / 1000, slope_ci_text(fit),
	       json_real_value(json_object_get(fit, "intercept_us")) / 1000,
	       json_real_value(json_object_get(fit, "r2")));
}

/* One table per (architecture, chain): a row per chain length, then the fits. */
static void print_chains(const struct run *r, json_t *summary)
{
	const struct scenario *sc = r->sc0;
	size_t k = 0;

	for (int ai = 0; ai < sc->n_archs; ai++) {
		for (int c = 0; c < sc->n_chains; c++, k++) {
			json_t *ch = json_array_get(json_object_get(summary, "chains"), k);

			printf("%s, chain %s (SPI %u)\n", sc_arch_name(sc->archs[ai]), sc->chains[c].name,
			       sc->chains[c].spi);
			printf("  %3s %7s %5s %10s %9s %10s %10s\n", "SFs", "probes", "lost", "mean ms",
			       "sem ms", "median ms", "p99 ms");
			for (int li = 0; li < sc->n_lengths; li++) {
				const struct point *p = &r->pt[ai][c][li];

				if (!p->measured)
					continue;
				printf("  %3d %7u %5u %10.4f %9.4f %10.4f %10.4f\n", p->sfs,
				       p->st.probes, p->st.lost, p->st.mean_us / 1000,
				       p->st.sem_us / 1000, p->st.median_us / 1000,
				       p->st.p99_us / 1000);
			}
			print_fit("means:  ", json_object_get(ch, "fit"));
			print_fit("medians:", json_object_get(ch, "fit_median"));
		}
	}
}

static void print_per_arch(json_t *summary)
{
	json_t *e, *v;
	size_t i;

	printf("per architecture: slope (first chain), R^2, p99 at 90 %% load, 64-byte no-drop rate\n");
	json_array_foreach(json_object_get(summary, "per_architecture"), i, e) {
		printf("  %-14s", json_string_value(json_object_get(e, "architecture")));
		v = json_object_get(e, "slope_us");
		if (json_is_number(v))
			printf("  %8.2f us/SF", json_number_value(v));
		else
			printf("  %8s us/SF", "n/a");
		v = json_object_get(e, "r2");
		if (json_is_number(v))
			printf("  R^2 %5.3f", json_number_value(v));
		else
			printf("  R^2 %5s", "n/a");
		v = json_object_get(e, "p99_us_at_90pct_load");
		if (json_is_number(v))
			printf("  p99 %8.1f us", json_number_value(v));
		v = json_object_get(e, "ndr_pps_64B");
		if (json_is_number(v))
			printf("  NDR(length %d) %9.0f pps",
			       (int)json_integer_value(json_object_get(e, "ndr_chain_length")),
			       json_number_value(v));
		printf("\n");
	}
}

static void print_load(json_t *load)
{
	json_t *e;
	size_t i;

	printf("no-drop rate (loss <= threshold), first chain:\n");
	json_array_foreach(json_object_get(load, "ndr"), i, e)
		printf("  %-14s length %2d  %4d B  %10.0f pps%s%s\n",
		       json_string_value(json_object_get(e, "architecture")),
		       (int)json_integer_value(json_object_get(e, "chain_length")),
		       (int)json_integer_value(json_object_get(e, "frame_size")),
		       json_number_value(json_object_get(e, "ndr_pps")),
		       json_is_true(json_object_get(e, "at_least")) ? " (at least: the upper bound passed)" : "",
		       json_is_true(json_object_get(e, "generator_limited")) ? " (generator-limited trials)" : "");
	printf("RTT under background load:\n");
	json_array_foreach(json_object_get(load, "latency_under_load"), i, e)
		printf("  %-14s length %2d  load %3.0f %% (%8.0f pps)  p50 %8.1f us  p99 %8.1f us\n",
		       json_string_value(json_object_get(e, "architecture")),
		       (int)json_integer_value(json_object_get(e, "chain_length")),
		       json_number_value(json_object_get(e, "level_pct")),
		       json_number_value(json_object_get(e, "offered_pps")),
		       json_number_value(json_object_get(e, "p50_us")),
		       json_number_value(json_object_get(e, "p99_us")));
}

static void print_fault(json_t *fault)
{
	json_t *e, *ch;
	size_t i, j;

	printf("fault: each element's link down in turn, every chain probed:\n");
	json_array_foreach(fault, i, e) {
		if (json_object_get(e, "skipped")) {
			printf("  %-14s %-6s skipped: %s\n",
			       json_string_value(json_object_get(e, "architecture")),
			       json_string_value(json_object_get(e, "failed")),
			       json_string_value(json_object_get(e, "skipped")));
			continue;
		}
		json_array_foreach(json_object_get(e, "chains"), j, ch)
			printf("  %-14s %-6s down: chain %-6s %-18s loss %5.1f %%%s\n",
			       json_string_value(json_object_get(e, "architecture")),
			       json_string_value(json_object_get(e, "failed")),
			       json_string_value(json_object_get(ch, "chain")),
			       json_is_true(json_object_get(ch, "through_failed")) ? "(through it)"
										    : "(not through it)",
			       json_number_value(json_object_get(ch, "loss_pct_during")),
			       json_is_true(json_object_get(ch, "as_expected")) ? "" : "  UNEXPECTED");
	}
}

static void print_comparison(json_t *summary)
{
	json_t *e;
	size_t i;

	printf("per-SF slope against cadeia-aberta:\n");
	json_array_foreach(json_object_get(summary, "comparison"), i, e) {
		json_t *slope = json_object_get(e, "slope_us");
		json_t *ratio = json_object_get(e, "slope_ratio_to_cadeia_aberta");

		printf("  %-14s chain %-8s ", json_string_value(json_object_get(e, "architecture")),
		       json_string_value(json_object_get(e, "chain")));
		if (json_is_number(slope) && json_is_number(ratio))
			printf("%8.2f us/SF  x%.2f%s\n", json_number_value(slope), json_number_value(ratio),
			       slope_ratio_text(e));
		else
			printf("     n/a (not measured)\n");
	}
}

void report_print(const struct run *r, json_t *summary)
{
	const struct scenario *sc = r->sc0;

	print_chains(r, summary);
	if (sc->n_archs > 1 || json_object_get(summary, "load"))
		print_per_arch(summary);
	if (json_object_get(summary, "load"))
		print_load(json_object_get(summary, "load"));
	if (json_object_get(summary, "fault"))
		print_fault(json_object_get(summary, "fault"));
	if (sc->n_archs > 1)
		print_comparison(summary);
	slope_ci_print_chain_differences(summary);
	crossings_print(summary);
	fnr_print(summary);
}
