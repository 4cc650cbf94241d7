/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Latency statistics for one chain length, and the least-squares line across
 * chain lengths (figure 6 of the paper). Pure functions: no I/O, no globals.
 *
 * Errors: 0 on success or a negative errno, with a one-line message in the
 * caller's buffer (err may be NULL).
 */
#ifndef CADEIA_STATS_H
#define CADEIA_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats_length {
	unsigned probes;   /* entries given, lost ones included */
	unsigned received; /* entries with rtt >= 0 */
	unsigned lost;
	double loss_pct;   /* 100 * lost / probes */
	unsigned rounds;   /* distinct rounds that have at least one reply */
	/*
	 * Everything below is in microseconds and NaN when nothing was received.
	 * sem_us is the paper's measure: sample SD of the round means divided by
	 * sqrt(rounds). With fewer than two rounds it falls back to the SEM of the
	 * individual probes (sample SD / sqrt(received)), and sem_over_rounds
	 * says 0. With a single reply it is 0.
	 */
	double mean_us;    /* over all replies, not the mean of round means */
	double sem_us;
	int sem_over_rounds;
	double median_us;
	double p99_us;
	double min_us;
	double max_us;
};

/*
 * rtt_ns[i] is probe i's RTT in ns, or negative if lost; round[i] its round
 * number (any unsigned labels; need not be contiguous). round may be NULL:
 * everything is one round. n may be 0 (then -EINVAL: no probes).
 */
int stats_length_compute(const int64_t *rtt_ns, const unsigned *round, size_t n,
			 struct stats_length *out, char *err, size_t errlen);

/*
 * p-th percentile (0 <= p <= 100) of sorted[0..n-1] by linear interpolation
 * between closest ranks (Hyndman & Fan type 7, numpy's default):
 *   h = (n - 1) * p / 100,  x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h]).
 * p = 50 gives the usual median. NaN for n == 0.
 */
double stats_percentile_sorted(const double *sorted, size_t n, double p);

struct stats_fit {
	double slope;     /* b in y = a + b x */
	double intercept; /* a */
	double r2;        /* 1 - SS_res / SS_tot; 1 when every point is on the line */
	size_t n;
};

/*
 * Ordinary least squares y = a + b x. -EINVAL when n < 2, when every x is
 * equal (zero variance: no slope), or when a value is not finite.
 */
int stats_linfit(const double *x, const double *y, size_t n,
		 struct stats_fit *fit, char *err, size_t errlen);

/*
 * Bootstrap over rounds: how sure is the per-SF slope?
 *
 * A round is the unit that resampling draws, because probes within a round
 * share whatever the machine was doing at the time (another tenant, a
 * compiler): they are not independent, rounds are closer to it. Each
 * resample draws as many round labels as there are, with replacement, from
 * the labels found in the series; every length then pools the replies of
 * the drawn rounds (a round drawn twice counts twice), the mean and the
 * median of each length are refitted against x, and the slopes of all
 * resamples give the 95 % percentile interval (2.5th and 97.5th percentile,
 * type 7 as stats_percentile_sorted).
 *
 * The same draw serves every length of the series: round r of length 0 and
 * round r of length 8 stay together, so a drift common to one round (the
 * interleaved design visits every length in each round) moves the whole
 * line, not single points.
 *
 * The generator is a fixed-seed splitmix64, so the same data and seed give
 * the same interval on every machine; callers record the seed.
 */
#define STATS_BOOT_RESAMPLES 2000       /* enough for a stable 2.5 % tail */
#define STATS_BOOT_SEED 0x63616465696aULL /* "cadeij": the default seed */
#define STATS_BOOT_LEVEL 95.0

/* One length of one series: the probes measured there, as stats_length_compute. */
struct stats_series_len {
	double x;               /* SFs */
	const int64_t *rtt_ns;  /* negative: lost */
	const unsigned *round;  /* round label of each probe; NULL: all one round */
	size_t n;
};

struct stats_boot_opts {
	unsigned resamples;     /* 0: STATS_BOOT_RESAMPLES */
	uint64_t seed;          /* used as given (0 is a valid seed) */
};

struct stats_slope_ci {
	double slope;           /* on all rounds, as stats_linfit of the pooled means/medians */
	double lo, hi;          /* 95 % percentile interval; NaN when not computable */
	unsigned rounds;        /* distinct round labels resampled */
	unsigned resamples;     /* resamples whose fit succeeded (used for lo, hi) */
};

/*
 * Slope of the means and of the medians with their intervals. -EINVAL when
 * the series has fewer than two lengths with replies (no line), -ENOMEM.
 * With a single round the interval is [slope, slope] and rounds says 1:
 * nothing to resample, the caller should say so rather than trust it.
 */
int stats_slope_boot(const struct stats_series_len *len, size_t n_len,
		     const struct stats_boot_opts *o, struct stats_slope_ci *mean_ci,
		     struct stats_slope_ci *median_ci, char *err, size_t errlen);

struct stats_ratio_ci {
	double ratio;           /* slope(a) / slope(b) on all rounds */
	double lo, hi;          /* 95 % percentile interval of the resampled ratio */
	int significant;        /* 1 when [lo, hi] excludes 1 */
	unsigned resamples;
};

/*
 * Ratio of per-SF slopes of series a over series b (median fit when
 * use_median, mean fit otherwise), both resampled with the same draw of
 * round labels so that round r of a stays paired with round r of b. Labels
 * are the union of both series'; a label missing from one side simply
 * contributes nothing there. -EINVAL as stats_slope_boot, or when b's slope
 * on all rounds is 0.
 */
int stats_ratio_boot(const struct stats_series_len *a, size_t na,
		     const struct stats_series_len *b, size_t nb, int use_median,
		     const struct stats_boot_opts *o, struct stats_ratio_ci *out,
		     char *err, size_t errlen);

struct stats_diff_ci {
	double diff;            /* slope(a) - slope(b) on all rounds, µs per SF */
	double lo, hi;          /* 95 % percentile interval of the resampled difference */
	int significant;        /* 1 when [lo, hi] excludes 0 */
	unsigned resamples;
};

/*
 * Difference of per-SF slopes a - b, paired draws as stats_ratio_boot: what
 * one kind of function costs over another measured in the same rounds (the
 * calibration check: delay minus wire against the configured delay).
 */
int stats_diff_boot(const struct stats_series_len *a, size_t na,
		    const struct stats_series_len *b, size_t nb, int use_median,
		    const struct stats_boot_opts *o, struct stats_diff_ci *out,
		    char *err, size_t errlen);

#endif /* CADEIA_STATS_H */
