// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Latency statistics and the least-squares fit; see stats.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/errmsg.h"
#include "analysis/stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

double stats_percentile_sorted(const double *sorted, size_t n, double p)
{
	double h, lo;
	size_t i;

	if (!n || p < 0 || p > 100)
		return NAN;
	h = (double)(n - 1) * p / 100.0;
	lo = floor(h);
	i = (size_t)lo;
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (h - lo) * (sorted[i + 1] - sorted[i]);
}

/* Sample standard deviation (n - 1 in the denominator); 0 for n < 2. */
static double sample_sd(const double *v, size_t n)
{
	double mean = 0, ss = 0;
	size_t i;

	if (n < 2)
		return 0;
	for (i = 0; i < n; i++)
		mean += v[i];
	mean /= (double)n;
	for (i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	return sqrt(ss / (double)(n - 1));
}

/*
 * Mean of each round that has replies, into means[]; returns how many. The
 * round labels are sorted so any labelling works.
 */
static size_t round_means(const int64_t *rtt_ns, const unsigned *round, size_t n,
			  unsigned *labels, double *means)
{
	size_t i, nr = 0, k;

	for (i = 0; i < n; i++)
		if (rtt_ns[i] >= 0)
			labels[nr++] = round ? round[i] : 0;
	qsort(labels, nr, sizeof(*labels), cmp_unsigned);
	/* unique labels */
	for (i = 0, k = 0; i < nr; i++)
		if (!k || labels[k - 1] != labels[i])
			labels[k++] = labels[i];
	nr = k;

	for (k = 0; k < nr; k++) {
		double sum = 0;
		size_t cnt = 0;

		for (i = 0; i < n; i++) {
			if (rtt_ns[i] < 0 || (round ? round[i] : 0) != labels[k])
				continue;
			sum += (double)rtt_ns[i] / 1000.0;
			cnt++;
		}
		means[k] = sum / (double)cnt;
	}
	return nr;
}

int stats_length_compute(const int64_t *rtt_ns, const unsigned *round, size_t n,
			 struct stats_length *out, char *err, size_t errlen)
{
	double *v = NULL, *means = NULL;
	unsigned *labels = NULL;
	double sum = 0;
	size_t i, nv = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!n) {
		set_err(err, errlen, "statistics: no probes given");
		return -EINVAL;
	}
	v = calloc(n, sizeof(*v));
	means = calloc(n, sizeof(*means));
	labels = calloc(n, sizeof(*labels));
	if (!v || !means || !labels) {
		set_err(err, errlen, "statistics: %zu probes: %s", n, strerror(ENOMEM));
		ret = -ENOMEM;
		goto cleanup;
	}

	for (i = 0; i < n; i++) {
		if (rtt_ns[i] < 0)
			continue;
		v[nv] = (double)rtt_ns[i] / 1000.0;
		sum += v[nv];
		nv++;
	}
	out->probes = n;
	out->received = nv;
	out->lost = n - nv;
	out->loss_pct = 100.0 * (double)out->lost / (double)n;

	if (!nv) {
		out->mean_us = out->sem_us = out->median_us = NAN;
		out->p99_us = out->min_us = out->max_us = NAN;
		ret = 0;
		goto cleanup;
	}

	qsort(v, nv, sizeof(*v), cmp_double);
	out->mean_us = sum / (double)nv;
	out->median_us = stats_percentile_sorted(v, nv, 50);
	out->p99_us = stats_percentile_sorted(v, nv, 99);
	out->min_us = v[0];
	out->max_us = v[nv - 1];

	out->rounds = round_means(rtt_ns, round, n, labels, means);
	if (out->rounds >= 2) {
		out->sem_us = sample_sd(means, out->rounds) / sqrt(out->rounds);
		out->sem_over_rounds = 1;
	} else {
		out->sem_us = sample_sd(v, nv) / sqrt((double)nv);
		out->sem_over_rounds = 0;
	}
	ret = 0;

cleanup:
	free(v);
	free(means);
	free(labels);
	return ret;
}

int stats_linfit(const double *x, const double *y, size_t n,
		 struct stats_fit *fit, char *err, size_t errlen)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0, ssres = 0;
	size_t i;

	memset(fit, 0, sizeof(*fit));
	if (n < 2) {
		set_err(err, errlen, "linear fit: need at least 2 points, got %zu", n);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i])) {
			set_err(err, errlen, "linear fit: point %zu (%g, %g) is not finite",
				i, x[i], y[i]);
			return -EINVAL;
		}
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (sxx == 0) {
		set_err(err, errlen,
			"linear fit: all %zu x values equal %g (zero variance, no slope)",
			n, x[0]);
		return -EINVAL;
	}
	fit->n = n;
	fit->slope = sxy / sxx;
	fit->intercept = my - fit->slope * mx;
	for (i = 0; i < n; i++) {
		double r = y[i] - (fit->intercept + fit->slope * x[i]);

		ssres += r * r;
	}
	/* Constant y: the flat line explains everything there is. */
	fit->r2 = syy == 0 ? 1.0 : 1.0 - ssres / syy;
	return 0;
}
