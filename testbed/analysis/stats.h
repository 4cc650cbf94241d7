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

#endif /* CADEIA_STATS_H */
