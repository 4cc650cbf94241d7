/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "backend.h"
#include "load_exp.h"
#include "control.h"
#include "plot.h"
#include "probe.h"
#include "results.h"
#include "run.h"
#include "runstate.h"
#include "sff_ovs.h"
#include "stats.h"

volatile sig_atomic_t run_stop;

static void on_signal(int sig)
{
	(void)sig;
	run_stop = 1;
}

void run_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

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
	const struct scenario *sc;  /* sc0 expanded for the architecture being run */
	struct scenario scx;
	int ai;                     /* index into sc0->archs */
	const struct run_opts *o;
	struct runstate rs;
	struct testbed tb;
	struct results res;
	struct point pt[SC_ARCH__COUNT][SC_MAX_CHAINS][SC_MAX_LENGTHS];
	char started[40];
	json_t *faults; /* fault experiment results, all architectures */
	json_t *ndr, *latency; /* load experiment results, all architectures */
	/* progress */
	int li, c, round;
	double sum_rtt_us;
	unsigned n_rtt;
};

static void progress(void *arg, unsigned sent, unsigned recv, double last_rtt_us)
{
	struct run *r = arg;
	const struct scenario *sc = r->sc;

	if (last_rtt_us > 0) {
		r->sum_rtt_us += last_rtt_us;
		r->n_rtt++;
	}
	fprintf(stderr,
		"\r\033[K%s %s: length %d (%d/%d) chain %s round %d/%u probe %u/%u  last %.3f ms  mean %.3f ms",
		sc->name, sc_arch_name(sc->arch), sc->lengths[r->li], r->li + 1, sc->n_lengths,
		sc->chains[r->c].name,
		r->round + 1, sc->measure.rounds, sent, sc->measure.per_round,
		last_rtt_us / 1000.0, r->n_rtt ? r->sum_rtt_us / r->n_rtt / 1000.0 : 0.0);
}

static void note(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	/* Quiet when not on a terminal: logs get the final table only. */
	if (r->o->json || !r->o->progress)
		return;
	fprintf(stderr, "\r\033[K");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Proves the installed tables are the ones in effect: a few probes per
 * chain must make every node give exactly the fwd verdicts the control
 * plane expects (each SF as often as it appears, the SFF once per hop), and
 * no other node any.
 */
static int verify_path(struct run *r, const struct cp_tables *t, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	unsigned long long before[SC_MAX_NODES], after[SC_MAX_NODES];
	const unsigned probes = 3;
	int ret;

	/* A function the user starts (labs) may not run yet: the read-back of
	 * the tables is all that can be checked. */
	for (int c = 0; c < sc->n_chains; c++)
		for (int k = 0; k < cp_chain_length(sc, c, t->length); k++)
			if (sc->nodes[sc->chains[c].sfs[k]].fn == SC_FN_EXTERNAL)
				return 0;
	if ((ret = r->tb.ops->sf_counts(&r->tb, before, err, errlen)) < 0)
		return ret;
	for (int c = 0; c < sc->n_chains; c++) {
		const struct sc_chain *ch = &sc->chains[c];
		struct probe_sample s[3];
		struct probe_report rep;
		struct probe_opts po = {
			.src = sc->nodes[ch->src].ip,
			.dst = sc->nodes[ch->dest].ip, .icmp_size = sc->measure.icmp_size,
			.rate_pps = 100, .count = probes, .grace_ms = 500, .stop = &run_stop,
		};

		if ((ret = r->tb.ops->probe(&r->tb, ch->src, &po, s, &rep, err, errlen)) < 0)
			return ret;
		if (rep.interrupted)
			return -EINTR;
		if (rep.received != probes) {
			snprintf(err, errlen,
				 "%s, length %d, chain %s: only %u of %u check probes from %s reached %s and came back",
				 sc_arch_name(sc->arch), t->length, ch->name, rep.received, probes,
				 sc->nodes[ch->src].name, sc->nodes[ch->dest].name);
			return -EHOSTUNREACH;
		}
	}
	if ((ret = r->tb.ops->sf_counts(&r->tb, after, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes; i++) {
		if (after[i] - before[i] != (unsigned long long)t->expect[i] * probes) {
			snprintf(err, errlen,
				 "%s, length %d: node %s forwarded %llu check frames, expected %u: the installed rules are not in effect",
				 sc_arch_name(sc->arch), t->length, sc->nodes[i].name,
				 after[i] - before[i], t->expect[i] * probes);
			return -EIO;
		}
	}
	return 0;
}

static int measure_point(struct run *r, int li, int c, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	const struct sc_chain *ch = &sc->chains[c];
	const struct sc_measure *m = &sc->measure;
	struct point *p = &r->pt[r->ai][c][li];
	size_t total = (size_t)m->rounds * m->per_round;
	struct probe_sample *s;
	int ret = 0;

	p->sfs = cp_chain_length(sc, c, sc->lengths[li]);
	p->rtt_ns = calloc(total, sizeof(*p->rtt_ns));
	p->round = calloc(total, sizeof(*p->round));
	s = calloc(m->per_round, sizeof(*s));
	if (!p->rtt_ns || !p->round || !s) {
		free(s);
		snprintf(err, errlen, "out of memory for %zu probes", total);
		return -ENOMEM;
	}
	r->li = li;
	r->c = c;
	r->sum_rtt_us = 0;
	r->n_rtt = 0;
	for (unsigned rd = 0; rd < m->rounds && !run_stop; rd++) {
		struct probe_report rep;
		struct probe_opts po = {
			.src = sc->nodes[ch->src].ip,
			.dst = sc->nodes[ch->dest].ip, .icmp_size = m->icmp_size,
			.rate_pps = m->rate_pps, .count = m->per_round,
			.warmup = rd == 0 ? m->warmup : 0, .grace_ms = m->grace_ms,
			.stop = &run_stop,
			.progress = r->o->progress ? progress : NULL, .progress_arg = r,
		};

		r->round = rd;
		if ((ret = r->tb.ops->check(&r->tb, err, errlen)) < 0)
			break;
		if ((ret = r->tb.ops->probe(&r->tb, ch->src, &po, s, &rep, err, errlen)) < 0)
			break;
		for (unsigned k = 0; k < rep.sent; k++) {
			p->rtt_ns[p->n] = s[k].rtt_ns;
			p->round[p->n] = rd;
			p->n++;
			fprintf(r->res.raw, "%s,%s,%d,%u,%u,%lld,", sc_arch_name(sc->arch), ch->name,
				p->sfs, rd, s[k].seq, (long long)s[k].tx_ns);
			if (s[k].rtt_ns >= 0)
				fprintf(r->res.raw, "%.3f,0,%s\n", s[k].rtt_ns / 1000.0,
					s[k].ts_kernel ? "kernel" : "user");
			else
				fprintf(r->res.raw, ",1,\n");
		}
		fflush(r->res.raw);
		p->kernel_ts += rep.kernel_ts;
		p->user_ts += rep.user_ts;
		p->achieved_pps = rep.achieved_pps;
		if (rep.interrupted)
			break;
	}
	free(s);
	if (p->n > 0) {
		char serr[256];

		if (stats_length_compute(p->rtt_ns, p->round, p->n, &p->st, serr, sizeof(serr)) == 0)
			p->measured = true;
	}
	return ret;
}

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
static json_t *series_out(struct run *r, int ai, int c, FILE *csv, struct plot_series *s,
			  struct plot_point *pts, double *slope_out)
{
	const struct scenario *sc = r->sc0;
	const char *arch = sc_arch_name(sc->archs[ai]);
	struct stats_fit mf = { 0 }, df = { 0 };
	json_t *pts_json = json_array();
	bool okm, okd;

	memset(s, 0, sizeof(*s));
	for (int li = 0; li < sc->n_lengths; li++) {
		struct point *p = &r->pt[ai][c][li];
		struct stats_length *st = &p->st;

		if (!p->measured)
			continue;
		fprintf(csv, "%s,%s,%d,%u,%u,%u,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", arch,
			sc->chains[c].name, p->sfs, st->probes, st->received, st->lost, st->loss_pct,
			st->mean_us, st->sem_us, st->median_us, st->p99_us, st->min_us, st->max_us);
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
	snprintf(s->accel, sizeof(s->accel), "%s", r->tb.accel);
	snprintf(s->scenario, sizeof(s->scenario), "%s", sc->name);
	s->pts = pts;
	s->slope_us = okm ? mf.slope : NAN;
	s->intercept_us = okm ? mf.intercept : NAN;
	s->r2 = okm ? mf.r2 : NAN;
	return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o}", "architecture", arch, "chain",
			 sc->chains[c].name, "spi", sc->chains[c].spi, "points", pts_json, "fit",
			 fit_json(okm, &mf, "mean"), "fit_median", fit_json(okd, &df, "median"));
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

static int write_outputs(struct run *r, const char *status, const char *reason,
			 json_t **summary_out, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc0;
	static struct plot_series series[SC_ARCH__COUNT * SC_MAX_CHAINS];
	static struct plot_point pts[SC_ARCH__COUNT * SC_MAX_CHAINS][SC_MAX_LENGTHS];
	double slope[SC_ARCH__COUNT][SC_MAX_CHAINS];
	json_t *summary, *chains, *meta, *archs, *cmp;
	char path[1300], ended[40];
	size_t ns = 0;
	FILE *f;
	int ret;

	res_utc_now(ended, sizeof(ended));
	res_path(&r->res, "summary.csv", path, sizeof(path));
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "architecture,chain,chain_length,probes,received,lost,loss_pct,mean_us,sem_us,median_us,p99_us,min_us,max_us\n");
	chains = json_array();
	archs = json_array();
	for (int ai = 0; ai < sc->n_archs; ai++) {
		json_array_append_new(archs, json_string(sc_arch_name(sc->archs[ai])));
		for (int c = 0; c < sc->n_chains; c++) {
			json_array_append_new(chains, series_out(r, ai, c, f, &series[ns], pts[ns],
								 &slope[ai][c]));
			if (series[ns].n > 0)
				ns++;
		}
	}
	fclose(f);
	/* The paper's claim in one number: per-SF slope against Cadeia-Aberta's. */
	cmp = json_array();
	for (int ai = 0; ai < sc->n_archs; ai++) {
		int base = -1;

		for (int k = 0; k < sc->n_archs; k++)
			if (sc->archs[k] == SC_ARCH_CADEIA_ABERTA)
				base = k;
		for (int c = 0; c < sc->n_chains && base >= 0; c++)
			json_array_append_new(cmp, json_pack("{s:s, s:s, s:o, s:o}", "architecture",
							     sc_arch_name(sc->archs[ai]), "chain",
							     sc->chains[c].name, "slope_us",
							     num(slope[ai][c]), "slope_ratio_to_cadeia_aberta",
							     num(slope[ai][c] / slope[base][c])));
	}
	summary = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "scenario", sc->name,
			    "backend", sc_backend_name(sc->backend), "architecture",
			    sc_arch_name(sc->archs[0]), "architectures", archs, "accelerator",
			    r->tb.accel, "status", status, "chains", chains, "fit",
			    json_deep_copy(json_object_get(json_array_get(chains, 0), "fit")),
			    "comparison", cmp);
	if (r->faults)
		json_object_set(summary, "fault", r->faults);
	if (r->ndr)
		json_object_set_new(summary, "load", json_pack("{s:O, s:O}", "ndr", r->ndr,
							       "latency_under_load", r->latency));
	json_object_set_new(summary, "per_architecture", per_arch_summary(r, chains));
	meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "scenario_file",
			 sc->path, "run_id", r->rs.id, "status", status, "incomplete_reason",
			 reason ? reason : "", "backend", sc_backend_name(sc->backend), "accelerator",
			 r->tb.accel, "start", r->started, "end", ended, "environment",
			 res_environment(), "scenario", json_deep_copy(sc->json));
	if (r->tb.info)
		json_object_set(meta, "testbed", r->tb.info);
	if ((ret = res_write_json(&r->res, "summary.json", summary, err, errlen)) < 0 ||
	    (ret = res_write_json(&r->res, "meta.json", meta, err, errlen)) < 0)
		goto cleanup;
	if (ns > 0) {
		char outdir[1300], title[256];
		struct plot_opts po = { .outdir = outdir, .title = title };

		res_path(&r->res, "plots", outdir, sizeof(outdir));
		snprintf(title, sizeof(title), "%s: ping RTT against chain length%s", sc->name,
			 strcmp(status, "complete") ? " (incomplete)" : "");
		if ((ret = plot_fig6(&po, series, ns, err, errlen)) < 0)
			goto cleanup;
	}
	if (r->latency && json_array_size(r->latency) > 0) {
		size_t n = json_array_size(r->latency), i;
		struct plot_load_point *lp = calloc(n, sizeof(*lp));
		char outdir[1300], title[256];
		struct plot_opts po = { .outdir = outdir, .name = "load", .title = title };
		json_t *e;

		if (!lp) {
			ret = -ENOMEM;
			goto cleanup;
		}
		json_array_foreach(r->latency, i, e) {
			snprintf(lp[i].series, sizeof(lp[i].series), "%s",
				 json_string_value(json_object_get(e, "architecture")));
			lp[i].level_pct = json_number_value(json_object_get(e, "level_pct"));
			lp[i].p50_us = json_number_value(json_object_get(e, "p50_us"));
			lp[i].p99_us = json_number_value(json_object_get(e, "p99_us"));
		}
		res_path(&r->res, "plots", outdir, sizeof(outdir));
		snprintf(title, sizeof(title), "%s: RTT under background load (chain length %d)",
			 sc->name, sc->load.latency_length);
		ret = plot_load(&po, lp, n, err, errlen);
		free(lp);
		if (ret < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	if (ret == 0 && summary_out)
		*summary_out = json_incref(summary);
	json_decref(summary);
	json_decref(meta);
	return ret;
}

static void print_table(const struct run *r, json_t *summary)
{
	const struct scenario *sc = r->sc0;
	size_t k = 0;

	for (int ai = 0; ai < sc->n_archs; ai++) {
		for (int c = 0; c < sc->n_chains; c++, k++) {
			json_t *ch = json_array_get(json_object_get(summary, "chains"), k);
			json_t *fit = json_object_get(ch, "fit"), *fitm = json_object_get(ch, "fit_median");

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
			if (json_is_object(fit))
				printf("  fit of the means:   %+.4f ms per SF, intercept %.4f ms, R^2 %.3f\n",
				       json_real_value(json_object_get(fit, "slope_us")) / 1000,
				       json_real_value(json_object_get(fit, "intercept_us")) / 1000,
				       json_real_value(json_object_get(fit, "r2")));
			if (json_is_object(fitm))
				printf("  fit of the medians: %+.4f ms per SF, intercept %.4f ms, R^2 %.3f\n",
				       json_real_value(json_object_get(fitm, "slope_us")) / 1000,
				       json_real_value(json_object_get(fitm, "intercept_us")) / 1000,
				       json_real_value(json_object_get(fitm, "r2")));
		}
	}
	if (sc->n_archs > 1 || json_object_get(summary, "load")) {
		json_t *e;
		size_t i;

		printf("per architecture: slope (first chain), R^2, p99 at 90 %% load, 64-byte no-drop rate\n");
		json_array_foreach(json_object_get(summary, "per_architecture"), i, e) {
			json_t *v;

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
	if (json_object_get(summary, "load")) {
		json_t *load = json_object_get(summary, "load"), *e;
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
	if (json_object_get(summary, "fault")) {
		json_t *e, *ch;
		size_t i, j;

		printf("fault: each element's link down in turn, every chain probed:\n");
		json_array_foreach(json_object_get(summary, "fault"), i, e) {
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
	if (sc->n_archs > 1) {
		json_t *e;
		size_t i;

		printf("per-SF slope against cadeia-aberta:\n");
		json_array_foreach(json_object_get(summary, "comparison"), i, e) {
			json_t *slope = json_object_get(e, "slope_us");
			json_t *ratio = json_object_get(e, "slope_ratio_to_cadeia_aberta");

			printf("  %-14s chain %-8s ", json_string_value(json_object_get(e, "architecture")),
			       json_string_value(json_object_get(e, "chain")));
			if (json_is_number(slope) && json_is_number(ratio))
				printf("%8.2f us/SF  x%.2f\n", json_number_value(slope),
				       json_number_value(ratio));
			else
				printf("     n/a (not measured)\n");
		}
	}
}

static void log_teardown(const char *what, void *arg)
{
	(void)what;
	(void)arg;
}

/* Probes every chain once; received[c] gets the replies. */
static int probe_chains(struct run *r, unsigned probes, unsigned *received, char *err,
			size_t errlen)
{
	const struct scenario *sc = r->sc;
	struct probe_sample *s = calloc(probes, sizeof(*s));
	int ret = 0;

	if (!s)
		return -ENOMEM;
	for (int c = 0; c < sc->n_chains && ret == 0; c++) {
		struct probe_report rep;
		struct probe_opts po = {
			.src = sc->nodes[sc->chains[c].src].ip, .dst = sc->nodes[sc->chains[c].dest].ip,
			.icmp_size = sc->measure.icmp_size, .rate_pps = sc->measure.rate_pps,
			.count = probes, .grace_ms = 300, .stop = &run_stop,
		};

		ret = r->tb.ops->probe(&r->tb, sc->chains[c].src, &po, s, &rep, err, errlen);
		received[c] = rep.received;
		if (ret == 0 && rep.interrupted)
			ret = -EINTR;
	}
	free(s);
	return ret;
}

static bool chain_uses(const struct scenario *sc, int c, int length, int node)
{
	int L = cp_chain_length(sc, c, length);

	if (sc->nodes[node].role == SC_ROLE_SFF)
		return L > 0;
	for (int k = 0; k < L; k++)
		if (sc->chains[c].sfs[k] == node || sc->nodes[sc->chains[c].sfs[k]].peer == node)
			return true;
	return false;
}

/*
 * The resilience argument, measured: each listed element loses its link
 * while every chain is probed. Only chains through it should suffer.
 */
static int run_faults(struct run *r, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	const struct sc_fault *f = &sc->fault;
	int length = f->length >= 0 ? f->length : sc_max_length(sc);
	static struct cp_tables t;
	int ret;

	if (!r->faults)
		r->faults = json_array();
	if ((ret = cp_compute(sc, length, &t, err, errlen)) < 0 ||
	    (ret = r->tb.ops->install(&r->tb, &t, err, errlen)) < 0 ||
	    (ret = verify_path(r, &t, err, errlen)) < 0)
		return ret;
	for (int k = 0; k < f->n && !run_stop; k++) {
		int node = f->nodes[k] == SC_FAULT_SFF ? arch_sff(sc) : f->nodes[k];
		unsigned before[SC_MAX_CHAINS], during[SC_MAX_CHAINS];
		json_t *chains;
		char uerr[512];

		if (node < 0) {
			json_array_append_new(r->faults,
				json_pack("{s:s, s:s, s:s}", "architecture", sc_arch_name(sc->arch),
					  "failed", "sff", "skipped", "this architecture has no central forwarder"));
			continue;
		}
		if ((ret = probe_chains(r, f->probes, before, err, errlen)) < 0)
			return ret;
		if ((ret = r->tb.ops->node_link(&r->tb, node, false, err, errlen)) < 0)
			return ret;
		ret = probe_chains(r, f->probes, during, err, errlen);
		/* Restore even after an error: later steps need the element. */
		if (r->tb.ops->node_link(&r->tb, node, true, uerr, sizeof(uerr)) < 0 && ret == 0) {
			snprintf(err, errlen, "%s", uerr);
			ret = -EIO;
		}
		if (ret < 0)
			return ret;
		chains = json_array();
		for (int c = 0; c < sc->n_chains; c++) {
			bool uses = chain_uses(sc, c, length, node);
			double loss = 100.0 * (f->probes - during[c]) / f->probes;

			json_array_append_new(chains,
				json_pack("{s:s, s:b, s:i, s:i, s:f, s:b}", "chain", sc->chains[c].name,
					  "through_failed", uses, "received_before", before[c],
					  "received_during", during[c], "loss_pct_during", loss,
					  /* Others may lose a probe to noise, not to the fault. */
					  "as_expected", uses ? during[c] < f->probes / 2
							      : during[c] * 10 >= before[c] * 9));
			note(r, "%s: %s down: chain %s %s, %u/%u probes answered", sc_arch_name(sc->arch),
			     sc->nodes[node].name, sc->chains[c].name,
			     uses ? "goes through it" : "does not use it", during[c], f->probes);
		}
		json_array_append_new(r->faults,
			json_pack("{s:s, s:s, s:i, s:i, s:o}", "architecture", sc_arch_name(sc->arch),
				  "failed", sc->nodes[node].name, "chain_length", length, "probes",
				  f->probes, "chains", chains));
	}
	return 0;
}

static int set_length(void *arg, int length, char *err, size_t errlen)
{
	struct run *r = arg;
	static struct cp_tables t;
	int ret;

	if ((ret = cp_compute(r->sc, length, &t, err, errlen)) < 0 ||
	    (ret = r->tb.ops->install(&r->tb, &t, err, errlen)) < 0 ||
	    (ret = verify_path(r, &t, err, errlen)) < 0)
		return ret;
	return 0;
}

static int run_load(struct run *r, char *err, size_t errlen)
{
	struct load_exp_ctx x = { .tb = &r->tb, .stop = &run_stop, .progress = r->o->progress,
				  .set_length = set_length, .arg = r };

	if (!r->ndr) {
		r->ndr = json_array();
		r->latency = json_array();
	}
	return load_exp_run(&x, r->ndr, r->latency, err, errlen);
}

/* Builds one architecture's testbed and sweeps it. */
static int run_arch(struct run *r, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	int ret;

	note(r, "run %s: building the %s testbed for %s, %s (%d nodes)", r->rs.id,
	     sc_backend_name(sc->backend), sc->name, sc_arch_name(sc->arch), sc->n_nodes);
	if ((ret = tb_build(&r->tb, sc, &r->rs, err, errlen)) < 0)
		return ret;
	if (r->o->up_only) {
		static struct cp_tables t;
		int len = r->o->length >= 0 ? r->o->length : sc_max_length(sc);

		if ((ret = cp_compute(sc, len, &t, err, errlen)) < 0 ||
		    (ret = r->tb.ops->install(&r->tb, &t, err, errlen)) < 0 ||
		    (ret = verify_path(r, &t, err, errlen)) < 0)
			return ret;
		return 0;
	}
	for (int li = 0; li < sc->n_lengths && !run_stop; li++) {
		static struct cp_tables t;

		if ((ret = cp_compute(sc, sc->lengths[li], &t, err, errlen)) < 0 ||
		    (ret = r->tb.ops->install(&r->tb, &t, err, errlen)) < 0 ||
		    (ret = verify_path(r, &t, err, errlen)) < 0)
			return ret;
		for (int c = 0; c < sc->n_chains && !run_stop; c++) {
			struct point *p = &r->pt[r->ai][c][li];

			if ((ret = measure_point(r, li, c, err, errlen)) < 0)
				return ret;
			if (p->measured)
				note(r, "%s length %d chain %s: mean %.4f ms, median %.4f ms, lost %u",
				     sc_arch_name(sc->arch), p->sfs, sc->chains[c].name,
				     p->st.mean_us / 1000, p->st.median_us / 1000, p->st.lost);
		}
	}
	if (sc->load.n_sizes > 0 && !run_stop && (ret = run_load(r, err, errlen)) < 0)
		return ret;
	if (sc->fault.n > 0 && !run_stop)
		return run_faults(r, err, errlen);
	return 0;
}

int run_scenario(const struct scenario *sc, const struct run_opts *o)
{
	static struct run r;
	char err[1024] = "", fnlogs[1300];
	const char *status = "complete";
	char reason[1100] = "";
	json_t *summary = NULL;
	int ret = 0, rc = 0;

	memset(&r, 0, sizeof(r));
	r.sc0 = sc;
	r.o = o;
	res_utc_now(r.started, sizeof(r.started));
	r.tb.ops = backend_for(sc->backend);
	if (sc->load.n_sizes > 0 && sc->backend != SC_BACKEND_NETNS) {
		fprintf(stderr, "%s: the load experiment runs on the netns backend only\n", sc->path);
		return 2;
	}
	if (!r.tb.ops) {
		fprintf(stderr, "%s: backend '%s' is not available yet; use \"backend\": \"netns\"\n",
			sc->path, sc_backend_name(sc->backend));
		return 2;
	}
	if (r.tb.ops->supports && r.tb.ops->supports(sc, err, sizeof(err)) < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		return 2;
	}
	if ((ret = rs_create(&r.rs, sc->path, o->up_only ? "up" : "run", err, sizeof(err))) < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		return 1;
	}
	/* Refuse an unavailable architecture before measuring any other. */
	for (int k = 0; k < sc->n_archs; k++) {
		if (sc->archs[k] == SC_ARCH_OVS_NSH && sc->backend == SC_BACKEND_NETNS &&
		    sff_ovs_available(r.rs.id, err, sizeof(err)) < 0) {
			fprintf(stderr, "cadeia-bench: %s\n", err);
			rs_teardown(&r.rs, NULL, NULL);
			rs_close(&r.rs);
			return 2;
		}
	}
	if (!o->up_only) {
		if ((ret = res_open(&r.res, o->results_root, sc->name, r.rs.id, err, sizeof(err))) < 0) {
			fprintf(stderr, "cadeia-bench: %s\n", err);
			rs_teardown(&r.rs, NULL, NULL);
			rs_close(&r.rs);
			return 1;
		}
		rs_set(&r.rs, "results", json_string(r.res.stage));
		res_path(&r.res, ".", fnlogs, sizeof(fnlogs));
		r.tb.log_dir = fnlogs;
	}
	r.tb.detach_functions = o->up_only;
	if (o->up_only) {
		/* Detached functions must not hold the caller's stdout open (a
		 * shell's $(cadeia-bench up ...) would wait for them forever). */
		snprintf(fnlogs, sizeof(fnlogs), RS_DIR "/%s", r.rs.id);
		mkdir(fnlogs, 0755);
		r.tb.log_dir = fnlogs;
	}
	/* `up` builds the first architecture only. */
	for (r.ai = 0; r.ai < (o->up_only ? 1 : sc->n_archs) && !run_stop; r.ai++) {
		const struct backend_ops *ops = r.tb.ops;
		const char *log_dir = r.tb.log_dir;
		bool detach = r.tb.detach_functions;

		if (r.ai > 0) {
			ops->stop(&r.tb);
			rs_clear(&r.rs, log_teardown, NULL);
		}
		memset(&r.tb, 0, sizeof(r.tb));
		r.tb.ops = ops;
		r.tb.log_dir = log_dir;
		r.tb.detach_functions = detach;
		r.scx = *sc;
		if ((ret = arch_expand(&r.scx, sc->archs[r.ai], err, sizeof(err))) < 0)
			break;
		r.sc = &r.scx;
		if ((ret = run_arch(&r, err, sizeof(err))) < 0)
			break;
	}
	if (ret == 0 && o->up_only) {
		rs_set(&r.rs, "pid", json_integer(0)); /* owned by `down` now */
		printf("%s\n", r.rs.id);
		note(&r, "run %s is up; `cadeia-bench down %s` removes it", r.rs.id, r.rs.id);
		rs_close(&r.rs);
		return 0;
	}
	if (ret == -EINTR)
		ret = 0;
	if (ret < 0)
		goto fail;
	if (run_stop) {
		status = "incomplete";
		snprintf(reason, sizeof(reason), "interrupted by a signal");
		rc = 3;
	}
	goto finish;
fail:
	status = run_stop ? "incomplete" : "failed";
	snprintf(reason, sizeof(reason), "%s", run_stop ? "interrupted by a signal" : err);
	fprintf(stderr, "\ncadeia-bench: %s\n", err);
	rc = run_stop ? 3 : 1;
finish:
	if (!o->up_only) {
		char werr[1024];

		r.tb.ops->stop(&r.tb);
		if (write_outputs(&r, status, *reason ? reason : NULL, &summary, werr, sizeof(werr)) < 0)
			fprintf(stderr, "cadeia-bench: %s\n", werr);
		if (res_finish(&r.res, *reason ? reason : NULL, werr, sizeof(werr)) < 0) {
			/* The measurements stay in the staging directory. */
			fprintf(stderr, "cadeia-bench: %s\n", werr);
			if (!rc)
				rc = 1;
		}
	}
	if (rs_teardown(&r.rs, log_teardown, NULL) > 0) {
		fprintf(stderr, "cadeia-bench: teardown of run %s left something behind; `cadeia-bench down %s` retries\n",
			r.rs.id, r.rs.id);
		if (!rc)
			rc = 1;
	}
	rs_close(&r.rs);
	if (!o->up_only) {
		if (o->json && summary) {
			json_object_set_new(summary, "results", json_string(r.res.final));
			json_dumpf(summary, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("\n");
		} else if (summary) {
			print_table(&r, summary);
			printf("results: %s%s\n", r.res.final, rc ? " (incomplete)" : "");
			printf("plot:    %s/plots/fig6.png\n", r.res.final);
			if (r.latency)
				printf("load:    %s/plots/load.png\n", r.res.final);
		}
	}
	json_decref(summary);
	json_decref(r.faults);
	json_decref(r.tb.info);
	json_decref(r.ndr);
	json_decref(r.latency);
	for (int ai = 0; ai < SC_ARCH__COUNT; ai++)
		for (int c = 0; c < SC_MAX_CHAINS; c++)
			for (int li = 0; li < SC_MAX_LENGTHS; li++) {
				free(r.pt[ai][c][li].rtt_ns);
				free(r.pt[ai][c][li].round);
			}
	return rc;
}
