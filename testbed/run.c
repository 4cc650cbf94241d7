/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "control.h"
#include "plot.h"
#include "probe.h"
#include "results.h"
#include "run.h"
#include "runstate.h"
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
	const struct scenario *sc;
	const struct run_opts *o;
	struct runstate rs;
	struct testbed tb;
	struct results res;
	struct point pt[SC_MAX_CHAINS][SC_MAX_LENGTHS];
	char started[40];
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
		"\r\033[K%s: length %d (%d/%d) chain %s round %d/%u probe %u/%u  last %.3f ms  mean %.3f ms",
		sc->name, sc->lengths[r->li], r->li + 1, sc->n_lengths, sc->chains[r->c].name,
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
 * chain must cross exactly the SFs of the active chains, each as often as it
 * appears, and no other SF.
 */
static int verify_path(struct run *r, int length, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	unsigned long long before[SC_MAX_NODES], after[SC_MAX_NODES];
	unsigned want[SC_MAX_NODES] = { 0 };
	const unsigned probes = 3;
	int ret;

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
		int L = cp_chain_length(sc, c, length);

		for (int k = 0; k < L; k++)
			want[ch->sfs[k]] += probes;
		if ((ret = r->tb.ops->probe(&r->tb, ch->src, &po, s, &rep, err, errlen)) < 0)
			return ret;
		if (rep.interrupted)
			return -EINTR;
		if (rep.received != probes) {
			snprintf(err, errlen,
				 "length %d, chain %s: only %u of %u check probes from %s reached %s and came back",
				 length, ch->name, rep.received, probes, sc->nodes[ch->src].name,
				 sc->nodes[ch->dest].name);
			return -EHOSTUNREACH;
		}
	}
	if ((ret = r->tb.ops->sf_counts(&r->tb, after, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes; i++) {
		if (sc->nodes[i].role != SC_ROLE_SF)
			continue;
		if (after[i] - before[i] != want[i]) {
			snprintf(err, errlen,
				 "length %d: SF %s forwarded %llu check frames, expected %u: the installed rules are not in effect",
				 length, sc->nodes[i].name, after[i] - before[i], want[i]);
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
	struct point *p = &r->pt[c][li];
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
			fprintf(r->res.raw, "%s,%d,%u,%u,%lld,", ch->name, p->sfs, rd, s[k].seq,
				(long long)s[k].tx_ns);
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
static void fit_chain(struct run *r, int c, struct stats_fit *mean_fit, struct stats_fit *med_fit,
		      bool *ok_mean, bool *ok_med)
{
	double x[SC_MAX_LENGTHS], ym[SC_MAX_LENGTHS], yd[SC_MAX_LENGTHS];
	size_t n = 0;
	char err[256];

	for (int li = 0; li < r->sc->n_lengths; li++) {
		struct point *p = &r->pt[c][li];

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

static int write_outputs(struct run *r, const char *status, const char *reason,
			 json_t **summary_out, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	struct plot_series series[SC_MAX_CHAINS];
	struct plot_point pts[SC_MAX_CHAINS][SC_MAX_LENGTHS];
	json_t *summary, *chains, *meta;
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
	fprintf(f, "chain,chain_length,probes,received,lost,loss_pct,mean_us,sem_us,median_us,p99_us,min_us,max_us\n");
	chains = json_array();
	for (int c = 0; c < sc->n_chains; c++) {
		struct stats_fit mf = { 0 }, df = { 0 };
		bool okm, okd;
		json_t *pts_json = json_array();
		struct plot_series *s = &series[ns];

		memset(s, 0, sizeof(*s));
		for (int li = 0; li < sc->n_lengths; li++) {
			struct point *p = &r->pt[c][li];
			struct stats_length *st = &p->st;

			if (!p->measured)
				continue;
			fprintf(f, "%s,%d,%u,%u,%u,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
				sc->chains[c].name, p->sfs, st->probes, st->received, st->lost,
				st->loss_pct, st->mean_us, st->sem_us, st->median_us, st->p99_us,
				st->min_us, st->max_us);
			json_array_append_new(pts_json,
				json_pack("{s:i, s:i, s:i, s:i, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:f}",
					  "chain_length", p->sfs, "probes", st->probes,
					  "received", st->received, "lost", st->lost,
					  "loss_pct", st->loss_pct, "mean_us", num(st->mean_us),
					  "sem_us", num(st->sem_us), "median_us", num(st->median_us),
					  "p99_us", num(st->p99_us), "min_us", num(st->min_us),
					  "max_us", num(st->max_us), "kernel_timestamps", p->kernel_ts,
					  "user_timestamps", p->user_ts, "achieved_pps",
					  p->achieved_pps));
			pts[ns][s->n] = (struct plot_point){ .length = p->sfs,
							     .mean_us = nan_or(st->mean_us),
							     .sem_us = nan_or(st->sem_us),
							     .median_us = nan_or(st->median_us) };
			s->n++;
		}
		fit_chain(r, c, &mf, &df, &okm, &okd);
		json_array_append_new(chains,
			json_pack("{s:s, s:i, s:o, s:o, s:o}", "chain", sc->chains[c].name, "spi",
				  sc->chains[c].spi, "points", pts_json, "fit",
				  okm ? json_pack("{s:f, s:f, s:f, s:s}", "slope_us", mf.slope,
						  "intercept_us", mf.intercept, "r2", mf.r2, "of", "mean")
				      : json_null(),
				  "fit_median",
				  okd ? json_pack("{s:f, s:f, s:f, s:s}", "slope_us", df.slope,
						  "intercept_us", df.intercept, "r2", df.r2, "of",
						  "median")
				      : json_null()));
		if (s->n == 0)
			continue;
		snprintf(s->label, sizeof(s->label), "%s%s%s", sc->name, sc->n_chains > 1 ? " chain " : "",
			 sc->n_chains > 1 ? sc->chains[c].name : "");
		snprintf(s->backend, sizeof(s->backend), "%s", sc_backend_name(sc->backend));
		snprintf(s->accel, sizeof(s->accel), "%s", r->tb.accel);
		snprintf(s->scenario, sizeof(s->scenario), "%s", sc->name);
		s->pts = pts[ns];
		s->slope_us = okm ? mf.slope : NAN;
		s->intercept_us = okm ? mf.intercept : NAN;
		s->r2 = okm ? mf.r2 : NAN;
		ns++;
	}
	fclose(f);

	summary = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "scenario", sc->name,
			    "backend", sc_backend_name(sc->backend), "architecture",
			    sc_arch_name(sc->arch), "accelerator", r->tb.accel, "status", status,
			    "chains", chains, "fit",
			    json_deep_copy(json_object_get(json_array_get(chains, 0), "fit")));
	meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "scenario_file",
			 sc->path, "run_id", r->rs.id, "status", status, "incomplete_reason",
			 reason ? reason : "", "backend", sc_backend_name(sc->backend), "accelerator",
			 r->tb.accel, "start", r->started, "end", ended, "environment",
			 res_environment(), "scenario", json_deep_copy(sc->json));
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
	const struct scenario *sc = r->sc;

	for (int c = 0; c < sc->n_chains; c++) {
		json_t *fit = json_object_get(json_array_get(json_object_get(summary, "chains"), c), "fit");

		printf("chain %s (SPI %u)\n", sc->chains[c].name, sc->chains[c].spi);
		printf("  %3s %7s %5s %10s %9s %10s %10s\n", "SFs", "probes", "lost", "mean ms",
		       "sem ms", "median ms", "p99 ms");
		for (int li = 0; li < sc->n_lengths; li++) {
			const struct point *p = &r->pt[c][li];

			if (!p->measured)
				continue;
			printf("  %3d %7u %5u %10.4f %9.4f %10.4f %10.4f\n", p->sfs, p->st.probes,
			       p->st.lost, p->st.mean_us / 1000, p->st.sem_us / 1000,
			       p->st.median_us / 1000, p->st.p99_us / 1000);
		}
		if (json_is_object(fit))
			printf("  fit of the means: %+.4f ms per SF, intercept %.4f ms, R^2 %.3f\n",
			       json_real_value(json_object_get(fit, "slope_us")) / 1000,
			       json_real_value(json_object_get(fit, "intercept_us")) / 1000,
			       json_real_value(json_object_get(fit, "r2")));
	}
}

static void log_teardown(const char *what, void *arg)
{
	(void)what;
	(void)arg;
}

int run_scenario(const struct scenario *sc, const struct run_opts *o)
{
	static struct run r;
	char err[1024] = "", fnlogs[1300];
	const char *status = "complete";
	char reason[1100] = "";
	json_t *summary = NULL;
	int ret, rc = 0;

	memset(&r, 0, sizeof(r));
	r.sc = sc;
	r.o = o;
	res_utc_now(r.started, sizeof(r.started));
	r.tb.ops = backend_for(sc->backend);
	if (!r.tb.ops) {
		fprintf(stderr, "%s: backend '%s' is not available yet; use \"backend\": \"netns\"\n",
			sc->path, sc_backend_name(sc->backend));
		return 2;
	}
	if ((ret = rs_create(&r.rs, sc->path, o->up_only ? "up" : "run", err, sizeof(err))) < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		return 1;
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
	note(&r, "run %s: building the %s testbed for %s (%d nodes)", r.rs.id,
	     sc_backend_name(sc->backend), sc->name, sc->n_nodes);
	ret = tb_build(&r.tb, sc, &r.rs, err, sizeof(err));
	if (ret < 0)
		goto fail;
	if (o->up_only) {
		static struct cp_tables t;
		int len = o->length >= 0 ? o->length : sc_max_length(sc);

		if ((ret = cp_compute(sc, len, &t, err, sizeof(err))) < 0 ||
		    (ret = r.tb.ops->install(&r.tb, &t, err, sizeof(err))) < 0 ||
		    (ret = verify_path(&r, len, err, sizeof(err))) < 0)
			goto fail;
		rs_set(&r.rs, "pid", json_integer(0)); /* owned by `down` now */
		printf("%s\n", r.rs.id);
		note(&r, "run %s is up with chain length %d; `cadeia-bench down %s` removes it",
		     r.rs.id, len, r.rs.id);
		rs_close(&r.rs);
		return 0;
	}
	for (int li = 0; li < sc->n_lengths && !run_stop; li++) {
		static struct cp_tables t;

		if ((ret = cp_compute(sc, sc->lengths[li], &t, err, sizeof(err))) < 0 ||
		    (ret = r.tb.ops->install(&r.tb, &t, err, sizeof(err))) < 0 ||
		    (ret = verify_path(&r, sc->lengths[li], err, sizeof(err))) < 0)
			break;
		for (int c = 0; c < sc->n_chains && !run_stop; c++) {
			if ((ret = measure_point(&r, li, c, err, sizeof(err))) < 0)
				break;
			if (r.pt[c][li].measured)
				note(&r, "length %d chain %s: mean %.4f ms, median %.4f ms, lost %u",
				     r.pt[c][li].sfs, sc->chains[c].name, r.pt[c][li].st.mean_us / 1000,
				     r.pt[c][li].st.median_us / 1000, r.pt[c][li].st.lost);
		}
		if (ret < 0)
			break;
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
		if (res_finish(&r.res, *reason ? reason : NULL, werr, sizeof(werr)) < 0)
			fprintf(stderr, "cadeia-bench: %s\n", werr);
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
		}
	}
	json_decref(summary);
	for (int c = 0; c < SC_MAX_CHAINS; c++)
		for (int li = 0; li < SC_MAX_LENGTHS; li++) {
			free(r.pt[c][li].rtt_ns);
			free(r.pt[c][li].round);
		}
	return rc;
}
