// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* testbed/analysis/stats.c against numbers worked out by hand (arithmetic in comments). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/stats.h"
#include "tap.h"

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void test_length(void)
{
	/*
	 * Three rounds of three probes, in µs (one lost in round 1):
	 *   round 0: 100 200 300   mean 200
	 *   round 1: 150 250 lost  mean 200
	 *   round 2: 400 500 600   mean 500
	 * Round means 200 200 500: mean 300, deviations -100 -100 200,
	 * SS = 10000 + 10000 + 40000 = 60000, SD = sqrt(60000 / 2) = sqrt(30000),
	 * SEM = sqrt(30000) / sqrt(3) = sqrt(10000) = 100.
	 * All replies: 100 150 200 250 300 400 500 600 (n = 8), sum 2500, mean 312.5.
	 * Median: h = 7 * 0.5 = 3.5 -> 250 + 0.5 * (300 - 250) = 275.
	 * p99:    h = 7 * 0.99 = 6.93 -> 500 + 0.93 * (600 - 500) = 593.
	 * Loss: 1 of 9 = 11.111...%.
	 */
	int64_t rtt[9] = { 100000, 200000, 300000, 150000, 250000, -1,
			   400000, 500000, 600000 };
	unsigned round[9] = { 0, 0, 0, 1, 1, 1, 2, 2, 2 };
	struct stats_length s;
	char err[256];
	int r;

	r = stats_length_compute(rtt, round, 9, &s, err, sizeof(err));
	CHECK(r == 0, "length stats: computes (%d)", r);
	CHECK(s.probes == 9 && s.received == 8 && s.lost == 1,
	      "length stats: 9 probes, 8 received, 1 lost (%u/%u/%u)", s.probes, s.received, s.lost);
	CHECK(near(s.loss_pct, 100.0 / 9.0, 1e-9), "length stats: loss 11.11%% (%.4f)", s.loss_pct);
	CHECK(near(s.mean_us, 312.5, 1e-9), "length stats: mean 312.5 us (%.6f)", s.mean_us);
	CHECK(s.rounds == 3 && s.sem_over_rounds, "length stats: SEM over 3 rounds (%u)", s.rounds);
	CHECK(near(s.sem_us, 100.0, 1e-9), "length stats: SEM of round means 100 us (%.6f)", s.sem_us);
	CHECK(near(s.median_us, 275.0, 1e-9), "length stats: median 275 us (%.6f)", s.median_us);
	CHECK(near(s.p99_us, 593.0, 1e-9), "length stats: p99 593 us (%.6f)", s.p99_us);
	CHECK(s.min_us == 100.0 && s.max_us == 600.0, "length stats: min 100 max 600 (%g %g)",
	      s.min_us, s.max_us);

	/* Round labels need not be 0..n-1 nor sorted: 7 and 3 swap roles, same SEM. */
	{
		unsigned odd[9] = { 7, 7, 7, 3, 3, 3, 42, 42, 42 };

		r = stats_length_compute(rtt, odd, 9, &s, err, sizeof(err));
		CHECK(r == 0 && s.rounds == 3 && near(s.sem_us, 100.0, 1e-9),
		      "length stats: arbitrary round labels give the same SEM (%.6f)", s.sem_us);
	}

	/*
	 * One round (round = NULL): 10 20 30 us, mean 20, SD = sqrt((100 + 0 + 100) / 2) = 10,
	 * SEM falls back to 10 / sqrt(3) = 5.773502...
	 */
	{
		int64_t one[3] = { 10000, 20000, 30000 };

		r = stats_length_compute(one, NULL, 3, &s, err, sizeof(err));
		CHECK(r == 0 && s.rounds == 1 && !s.sem_over_rounds,
		      "one round: SEM falls back to per-probe SEM");
		CHECK(near(s.sem_us, 10.0 / sqrt(3.0), 1e-9), "one round: SEM 5.7735 us (%.6f)", s.sem_us);
	}

	/* A round whose probes were all lost does not count as a round. */
	{
		int64_t two[4] = { 10000, 30000, -1, -1 };
		unsigned rr[4] = { 0, 0, 1, 1 };

		r = stats_length_compute(two, rr, 4, &s, err, sizeof(err));
		CHECK(r == 0 && s.rounds == 1 && s.lost == 2 && near(s.loss_pct, 50.0, 1e-12),
		      "lost round: 1 round with data, 50%% loss (%u, %.1f)", s.rounds, s.loss_pct);
	}

	/* All lost: counts filled, latencies NaN, not an error. */
	{
		int64_t lost[4] = { -1, -1, -1, -1 };

		r = stats_length_compute(lost, NULL, 4, &s, err, sizeof(err));
		CHECK(r == 0 && s.received == 0 && s.lost == 4 && s.loss_pct == 100.0,
		      "all lost: 100%% loss");
		CHECK(isnan(s.mean_us) && isnan(s.median_us) && isnan(s.sem_us),
		      "all lost: latencies are NaN");
	}

	err[0] = '\0';
	r = stats_length_compute(rtt, round, 0, &s, err, sizeof(err));
	CHECK(r == -EINVAL && err[0], "no probes: -EINVAL with message \"%s\"", err);
}

static void test_percentiles(void)
{
	double one[1] = { 7 };
	double two[2] = { 10, 20 };
	double hundred[100], hundred1[101];
	int i;

	for (i = 0; i < 100; i++)
		hundred[i] = i + 1;
	for (i = 0; i < 101; i++)
		hundred1[i] = i + 1;

	/* n = 1: every percentile is the value. */
	CHECK(stats_percentile_sorted(one, 1, 50) == 7 && stats_percentile_sorted(one, 1, 99) == 7,
	      "n=1: median and p99 are the only value");
	/* n = 2: median h = 0.5 -> 15; p99 h = 0.99 -> 10 + 0.99 * 10 = 19.9. */
	CHECK(near(stats_percentile_sorted(two, 2, 50), 15, 1e-12), "n=2: median 15");
	CHECK(near(stats_percentile_sorted(two, 2, 99), 19.9, 1e-12), "n=2: p99 19.9 (%.6f)",
	      stats_percentile_sorted(two, 2, 99));
	/* n = 100 (1..100): median h = 49.5 -> 50.5; p99 h = 98.01 -> 99 + 0.01 = 99.01. */
	CHECK(near(stats_percentile_sorted(hundred, 100, 50), 50.5, 1e-12), "n=100: median 50.5");
	CHECK(near(stats_percentile_sorted(hundred, 100, 99), 99.01, 1e-9), "n=100: p99 99.01 (%.6f)",
	      stats_percentile_sorted(hundred, 100, 99));
	/* n = 101 (1..101): median h = 50 -> 51; p99 h = 99 -> 100 exactly. */
	CHECK(stats_percentile_sorted(hundred1, 101, 50) == 51, "n=101: median 51");
	CHECK(near(stats_percentile_sorted(hundred1, 101, 99), 100, 1e-9), "n=101: p99 100 (%.6f)",
	      stats_percentile_sorted(hundred1, 101, 99));
	CHECK(stats_percentile_sorted(hundred1, 101, 0) == 1 &&
	      stats_percentile_sorted(hundred1, 101, 100) == 101, "n=101: p0 = min, p100 = max");
	CHECK(isnan(stats_percentile_sorted(two, 0, 50)), "n=0: NaN");
}

static void test_fit(void)
{
	double x[9], y[9];
	struct stats_fit f;
	char err[256];
	int i, r;

	/* Perfect line y = 500 + 200 x over lengths 0..8: slope 200, intercept 500, R² = 1. */
	for (i = 0; i < 9; i++) {
		x[i] = i;
		y[i] = 500 + 200 * i;
	}
	r = stats_linfit(x, y, 9, &f, err, sizeof(err));
	CHECK(r == 0 && near(f.slope, 200, 1e-9) && near(f.intercept, 500, 1e-9) &&
	      near(f.r2, 1, 1e-12), "perfect line: b=200 a=500 R2=1 (%g %g %g)",
	      f.slope, f.intercept, f.r2);

	/*
	 * Noisy: x = 0 1 2 3, y = 1 3 2 5. mean x 1.5, mean y 2.75.
	 * Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5
	 * Sxy = (-1.5)(-1.75) + (-0.5)(0.25) + (0.5)(-0.75) + (1.5)(2.25)
	 *     = 2.625 - 0.125 - 0.375 + 3.375 = 5.5  -> b = 1.1, a = 2.75 - 1.65 = 1.1
	 * Syy = 3.0625 + 0.0625 + 0.5625 + 5.0625 = 8.75
	 * residuals: 1-1.1, 3-2.2, 2-3.3, 5-4.4 = -0.1 0.8 -1.3 0.6, SSres = 2.7
	 * R² = 1 - 2.7 / 8.75 = 0.691428571...
	 */
	{
		double nx[4] = { 0, 1, 2, 3 }, ny[4] = { 1, 3, 2, 5 };

		r = stats_linfit(nx, ny, 4, &f, err, sizeof(err));
		CHECK(r == 0 && near(f.slope, 1.1, 1e-12) && near(f.intercept, 1.1, 1e-12),
		      "noisy: b=1.1 a=1.1 (%.12g %.12g)", f.slope, f.intercept);
		CHECK(near(f.r2, 1 - 2.7 / 8.75, 1e-12), "noisy: R2=0.691429 (%.9f)", f.r2);
	}

	/* Constant y: flat line through all points. */
	{
		double cy[3] = { 4, 4, 4 };

		r = stats_linfit(x, cy, 3, &f, err, sizeof(err));
		CHECK(r == 0 && f.slope == 0 && f.intercept == 4 && f.r2 == 1,
		      "constant y: b=0 a=4 R2=1");
	}

	err[0] = '\0';
	r = stats_linfit(x, y, 1, &f, err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "at least 2"), "n=1: -EINVAL \"%s\"", err);
	r = stats_linfit(x, y, 0, &f, err, sizeof(err));
	CHECK(r == -EINVAL, "n=0: -EINVAL");
	{
		double sx[3] = { 3, 3, 3 }, sy[3] = { 1, 2, 3 };

		err[0] = '\0';
		r = stats_linfit(sx, sy, 3, &f, err, sizeof(err));
		CHECK(r == -EINVAL && strstr(err, "zero variance"), "equal x: -EINVAL \"%s\"", err);
	}
	{
		double ny[3] = { 1, NAN, 3 };

		r = stats_linfit(x, ny, 3, &f, err, sizeof(err));
		CHECK(r == -EINVAL, "NaN point: -EINVAL \"%s\"", err);
	}
}

/* Deterministic N(0, 1) for the synthetic rounds: an LCG and Box-Muller. */
static double test_normal(uint64_t *s)
{
	double u1, u2;

	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	u1 = ((double)(*s >> 11) + 1.0) / 9007199254740993.0;
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	u2 = (double)(*s >> 11) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

#define BL 9  /* lengths 0..8, as chain8 */
#define BR 20 /* rounds */
#define BP 5  /* probes per round */

struct bseries {
	int64_t rtt[BL][BR * BP];
	unsigned round[BL][BR * BP];
	struct stats_series_len len[BL];
};

/*
 * RTT (µs) of probe j of round r at length l: a + b l + drift[r] + noise
 * sd * N(0,1) drawn once per (round, length) + a fixed within-round spread
 * of j (0..4 µs) that is the same everywhere.
 */
static void bseries_fill(struct bseries *s, double a, double b, const double *drift,
			 double sd, uint64_t seed)
{
	for (int l = 0; l < BL; l++) {
		for (int r = 0; r < BR; r++) {
			double e = sd ? sd * test_normal(&seed) : 0;

			for (int j = 0; j < BP; j++) {
				double us = a + b * l + (drift ? drift[r] : 0) + e + j;

				s->rtt[l][r * BP + j] = (int64_t)llround(us * 1000.0);
				s->round[l][r * BP + j] = r;
			}
		}
		s->len[l] = (struct stats_series_len){ .x = l, .rtt_ns = s->rtt[l],
						       .round = s->round[l], .n = BR * BP };
	}
}

static void test_boot(void)
{
	static struct bseries s, t;
	struct stats_boot_opts o = { .resamples = 2000, .seed = 42 };
	struct stats_slope_ci m, d, m2, d2;
	struct stats_ratio_ci q;
	double drift[BR];
	char err[256];
	int r;

	/*
	 * Perfectly linear rounds: every round at length l holds the same five
	 * values 100 + 10 l + 0..4, so any draw pools copies of one set: mean and
	 * median 102 + 10 l, slope 10 in every resample, interval [10, 10].
	 */
	bseries_fill(&s, 100, 10, NULL, 0, 1);
	r = stats_slope_boot(s.len, BL, &o, &m, &d, err, sizeof(err));
	CHECK(r == 0, "boot linear: computes (%d %s)", r, r ? err : "");
	CHECK(near(m.slope, 10, 1e-9) && near(m.lo, 10, 1e-9) && near(m.hi, 10, 1e-9),
	      "boot linear: means slope 10, zero-width interval [%.9f, %.9f]", m.lo, m.hi);
	CHECK(near(d.slope, 10, 1e-9) && near(d.lo, 10, 1e-9) && near(d.hi, 10, 1e-9),
	      "boot linear: medians slope 10, zero-width interval [%.9f, %.9f]", d.lo, d.hi);
	CHECK(m.rounds == BR && m.resamples == 2000 && d.resamples == 2000,
	      "boot linear: %u rounds, 2000 resamples (%u %u)", m.rounds, m.resamples, d.resamples);

	/*
	 * A drift shared by every length of a round (round r is 50 r µs slower:
	 * another tenant arriving) moves the whole line, not its slope: the draw
	 * keeps round r of every length together, so the interval stays [10, 10].
	 */
	for (int i = 0; i < BR; i++)
		drift[i] = 50.0 * i;
	bseries_fill(&s, 100, 10, drift, 0, 1);
	r = stats_slope_boot(s.len, BL, &o, &m, &d, err, sizeof(err));
	CHECK(r == 0 && near(m.lo, 10, 1e-6) && near(m.hi, 10, 1e-6) && near(d.lo, 10, 1e-6) &&
	      near(d.hi, 10, 1e-6),
	      "boot drift: paired rounds cancel a per-round drift [%.6f, %.6f] [%.6f, %.6f]",
	      m.lo, m.hi, d.lo, d.hi);

	/*
	 * Noisy rounds: each (round, length) is off by sd 20 µs. The mean at
	 * length l averages 20 rounds: sd 20 / sqrt(20); OLS over x = 0..8
	 * (Sxx = 60) gives SE(b) = 20 / sqrt(20 * 60) = 0.577 µs, so a 95 %
	 * interval about 2 * 1.96 * 0.577 = 2.26 µs wide. Check it holds the
	 * true 10 and is within a factor 2 of that width.
	 */
	bseries_fill(&s, 100, 10, NULL, 20, 7);
	r = stats_slope_boot(s.len, BL, &o, &m, &d, err, sizeof(err));
	CHECK(r == 0 && m.lo < 10 && 10 < m.hi, "boot noisy: means interval [%.3f, %.3f] holds 10 (slope %.3f)",
	      m.lo, m.hi, m.slope);
	CHECK(m.hi - m.lo > 2.26 / 2 && m.hi - m.lo < 2.26 * 2,
	      "boot noisy: means interval width %.3f within 2x of 2.26", m.hi - m.lo);
	CHECK(d.lo < 10 && 10 < d.hi && d.lo <= d.slope && d.slope <= d.hi,
	      "boot noisy: medians interval [%.3f, %.3f] holds 10 and its slope %.3f", d.lo, d.hi,
	      d.slope);
	CHECK(d.hi - d.lo > 2.26 / 4 && d.hi - d.lo < 2.26 * 4,
	      "boot noisy: medians interval width %.3f within 4x of 2.26", d.hi - d.lo);

	/* The point slopes are the plain fits of the pooled means and medians. */
	{
		double x[BL], ym[BL], yd[BL];
		struct stats_length st;
		struct stats_fit fm, fd;

		for (int l = 0; l < BL; l++) {
			stats_length_compute(s.rtt[l], s.round[l], BR * BP, &st, NULL, 0);
			x[l] = l;
			ym[l] = st.mean_us;
			yd[l] = st.median_us;
		}
		stats_linfit(x, ym, BL, &fm, NULL, 0);
		stats_linfit(x, yd, BL, &fd, NULL, 0);
		CHECK(near(m.slope, fm.slope, 1e-9) && near(d.slope, fd.slope, 1e-9),
		      "boot: point slopes equal the fits of means %.6f and medians %.6f", fm.slope,
		      fd.slope);
	}

	/* Same seed, same interval; another seed, a slightly different one. */
	r = stats_slope_boot(s.len, BL, &o, &m2, &d2, err, sizeof(err));
	CHECK(r == 0 && m2.lo == m.lo && m2.hi == m.hi && d2.lo == d.lo && d2.hi == d.hi,
	      "boot: seed 42 twice gives the same intervals");
	o.seed = 43;
	r = stats_slope_boot(s.len, BL, &o, &m2, &d2, err, sizeof(err));
	CHECK(r == 0 && (m2.lo != m.lo || m2.hi != m.hi) && fabs(m2.lo - m.lo) < 0.5,
	      "boot: seed 43 moves the ends a little ([%.3f, %.3f])", m2.lo, m2.hi);
	o.seed = 42;

	/* One round: nothing to resample, the interval is the point. */
	{
		struct stats_series_len one[BL];

		for (int l = 0; l < BL; l++)
			one[l] = (struct stats_series_len){ .x = l, .rtt_ns = s.rtt[l], .n = BP };
		r = stats_slope_boot(one, BL, &o, &m2, &d2, err, sizeof(err));
		CHECK(r == 0 && m2.rounds == 1 && m2.lo == m2.slope && m2.hi == m2.slope,
		      "boot one round: rounds 1, interval [%.3f, %.3f] is the slope", m2.lo, m2.hi);
	}

	/* One length: no line. */
	err[0] = '\0';
	r = stats_slope_boot(s.len, 1, &o, &m2, &d2, err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "fewer than 2"), "boot one length: -EINVAL \"%s\"", err);

	/*
	 * Ratio: t has slope 20 with its own noise (sd 20), s slope 10: the ratio
	 * is about 2 (SE about 0.6 / 10 relative on each), the interval holds 2
	 * and excludes 1: significant.
	 */
	bseries_fill(&t, 100, 20, NULL, 20, 99);
	r = stats_ratio_boot(t.len, BL, s.len, BL, 0, &o, &q, err, sizeof(err));
	CHECK(r == 0 && q.lo < 2 && 2 < q.hi && q.significant && q.resamples == 2000,
	      "ratio 20/10: %.3f in [%.3f, %.3f], significant", q.ratio, q.lo, q.hi);
	r = stats_ratio_boot(t.len, BL, s.len, BL, 1, &o, &q, err, sizeof(err));
	CHECK(r == 0 && q.lo < 2 && 2 < q.hi && q.significant,
	      "ratio 20/10 of medians: %.3f in [%.3f, %.3f], significant", q.ratio, q.lo, q.hi);
	/* Same true slope, different noise: the interval holds 1, not significant. */
	bseries_fill(&t, 100, 10, NULL, 20, 123);
	r = stats_ratio_boot(t.len, BL, s.len, BL, 0, &o, &q, err, sizeof(err));
	CHECK(r == 0 && q.lo < 1 && 1 < q.hi && !q.significant,
	      "ratio 10/10: %.3f in [%.3f, %.3f], not significant", q.ratio, q.lo, q.hi);
	/*
	 * Difference: t has slope 10 + 200 (a 200 µs delay per SF) with the same
	 * round noise as s (seed 7): every round's noise cancels in the paired
	 * difference, which is then exactly 200 with a zero-width interval; with
	 * t's own noise (seed 99) it holds 200 and excludes 0.
	 */
	{
		struct stats_diff_ci dq;

		bseries_fill(&t, 100, 210, NULL, 20, 7);
		r = stats_diff_boot(t.len, BL, s.len, BL, 0, &o, &dq, err, sizeof(err));
		CHECK(r == 0 && near(dq.diff, 200, 1e-6) && near(dq.lo, 200, 1e-6) &&
		      near(dq.hi, 200, 1e-6) && dq.significant,
		      "diff, shared noise: %.6f in [%.6f, %.6f]", dq.diff, dq.lo, dq.hi);
		bseries_fill(&t, 100, 210, NULL, 20, 99);
		r = stats_diff_boot(t.len, BL, s.len, BL, 1, &o, &dq, err, sizeof(err));
		CHECK(r == 0 && dq.lo < 200 && 200 < dq.hi && dq.significant && dq.hi - dq.lo < 10,
		      "diff of medians, own noise: %.3f in [%.3f, %.3f], excludes 0", dq.diff, dq.lo,
		      dq.hi);
		bseries_fill(&t, 100, 0, NULL, 0, 1);
		r = stats_diff_boot(s.len, BL, t.len, BL, 0, &o, &dq, err, sizeof(err));
		CHECK(r == 0 && dq.significant, "diff over a flat slope is fine: %.3f", dq.diff);
	}
	/* A flat reference: no ratio. */
	bseries_fill(&t, 100, 0, NULL, 0, 1);
	err[0] = '\0';
	r = stats_ratio_boot(s.len, BL, t.len, BL, 0, &o, &q, err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "slope is 0"), "ratio over a flat slope: -EINVAL \"%s\"", err);
}

/* The TAP plan: every CHECK above, counted. */
#define STATS_PLAN 54

int main(void)
{
	tap_plan(STATS_PLAN); /* tap_done() fails a count other than the plan */
	test_length();
	test_percentiles();
	test_fit();
	test_boot();
	return tap_done();
}
