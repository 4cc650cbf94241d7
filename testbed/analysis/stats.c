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

/* ---- Bootstrap over rounds (see stats.h) ---- */

/* splitmix64: one 64-bit state, full period, good enough for drawing labels. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, k): the high half of a 64x64 product (bias below 2^-40 for our k). */
static size_t rng_below(uint64_t *s, size_t k)
{
	return (size_t)(((unsigned __int128)rng_next(s) * k) >> 64);
}

/*
 * One series laid out for resampling: the replies of length l and round
 * index k (into the shared label list) are vals[off[l * (K + 1) + k] ..
 * off[l * (K + 1) + k + 1]), their sum in sum[l * K + k].
 */
struct boot_series {
	size_t n_len, K;
	double *x;
	size_t *off;
	double *vals;
	double *sum;
	double *pool;   /* scratch for the median: the largest resample of a length */
	size_t pool_cap;
	double *fx, *fy; /* scratch for the fit */
};

static void boot_series_free(struct boot_series *b)
{
	free(b->x);
	free(b->off);
	free(b->vals);
	free(b->sum);
	free(b->pool);
	free(b->fx);
	free(b->fy);
	memset(b, 0, sizeof(*b));
}

static size_t label_index(const unsigned *labels, size_t K, unsigned v)
{
	const unsigned *p = bsearch(&v, labels, K, sizeof(*labels), cmp_unsigned);

	return (size_t)(p - labels);
}

/* Appends the round labels of the replies of a series to labels[*n]. */
static void collect_labels(const struct stats_series_len *len, size_t n_len,
			   unsigned *labels, size_t *n)
{
	for (size_t l = 0; l < n_len; l++)
		for (size_t i = 0; i < len[l].n; i++)
			if (len[l].rtt_ns[i] >= 0)
				labels[(*n)++] = len[l].round ? len[l].round[i] : 0;
}

/* Sorts and de-duplicates labels[0..n); returns the count left. */
static size_t unique_labels(unsigned *labels, size_t n)
{
	size_t i, k = 0;

	qsort(labels, n, sizeof(*labels), cmp_unsigned);
	for (i = 0; i < n; i++)
		if (!k || labels[k - 1] != labels[i])
			labels[k++] = labels[i];
	return k;
}

static int boot_series_init(struct boot_series *b, const struct stats_series_len *len,
			    size_t n_len, const unsigned *labels, size_t K)
{
	size_t total = 0, l, i, k, *fill = NULL;

	memset(b, 0, sizeof(*b));
	b->n_len = n_len;
	b->K = K;
	for (l = 0; l < n_len; l++)
		total += len[l].n;
	b->x = calloc(n_len ? n_len : 1, sizeof(*b->x));
	b->off = calloc(n_len * (K + 1) + 1, sizeof(*b->off));
	b->vals = calloc(total ? total : 1, sizeof(*b->vals));
	b->sum = calloc(n_len * K + 1, sizeof(*b->sum));
	b->fx = calloc(n_len ? n_len : 1, sizeof(*b->fx));
	b->fy = calloc(n_len ? n_len : 1, sizeof(*b->fy));
	fill = calloc(K + 1, sizeof(*fill));
	if (!b->x || !b->off || !b->vals || !b->sum || !b->fx || !b->fy || !fill)
		goto nomem;

	for (l = 0, total = 0; l < n_len; l++) {
		size_t *off = b->off + l * (K + 1), cnt_l = 0;

		b->x[l] = len[l].x;
		memset(fill, 0, (K + 1) * sizeof(*fill));
		for (i = 0; i < len[l].n; i++)
			if (len[l].rtt_ns[i] >= 0)
				fill[label_index(labels, K, len[l].round ? len[l].round[i] : 0)]++;
		/* Offsets are absolute into vals: blocks of length l follow those of l - 1. */
		off[0] = total;
		for (k = 0; k < K; k++) {
			off[k + 1] = off[k] + fill[k];
			cnt_l += fill[k];
			fill[k] = off[k];
		}
		for (i = 0; i < len[l].n; i++) {
			if (len[l].rtt_ns[i] < 0)
				continue;
			k = label_index(labels, K, len[l].round ? len[l].round[i] : 0);
			b->vals[fill[k]] = (double)len[l].rtt_ns[i] / 1000.0;
			b->sum[l * K + k] += b->vals[fill[k]];
			fill[k]++;
		}
		total += cnt_l;
		/* A resample may draw this length's biggest round K times. */
		for (k = 0; k < K; k++)
			if ((off[k + 1] - off[k]) * K > b->pool_cap)
				b->pool_cap = (off[k + 1] - off[k]) * K;
		if (cnt_l > b->pool_cap)
			b->pool_cap = cnt_l;
	}
	b->pool = calloc(b->pool_cap ? b->pool_cap : 1, sizeof(*b->pool));
	if (!b->pool)
		goto nomem;
	free(fill);
	return 0;
nomem:
	free(fill);
	boot_series_free(b);
	return -ENOMEM;
}

/* The k-th smallest of v[0..n) (k < n), reordering v: quickselect with a three-way partition. */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		double p = v[lo + (hi - lo) / 2], t;
		size_t lt = lo, i = lo, gt = hi;

		/* v[lo..lt) < p, v[lt..i) == p, v(gt..hi] > p; p itself never leaves [lt, gt]. */
		while (i <= gt) {
			if (v[i] < p) {
				t = v[lt]; v[lt] = v[i]; v[i] = t;
				lt++;
				i++;
			} else if (v[i] > p) {
				t = v[gt]; v[gt] = v[i]; v[i] = t;
				gt--;
			} else {
				i++;
			}
		}
		if (k < lt)
			hi = lt - 1;
		else if (k > gt)
			lo = gt + 1;
		else
			return p;
	}
	return v[k];
}

/* Median of v[0..n) as stats_percentile_sorted(…, 50), without sorting everything. */
static double median_unsorted(double *v, size_t n)
{
	double h = (double)(n - 1) * 0.5, lo = floor(h), a, b;
	size_t i = (size_t)lo;

	a = select_kth(v, n, i);
	if (i + 1 >= n || h == lo)
		return a;
	/* After selection, everything past i is >= a: its minimum is the next rank. */
	b = v[i + 1];
	for (size_t j = i + 2; j < n; j++)
		if (v[j] < b)
			b = v[j];
	return a + (h - lo) * (b - a);
}

/*
 * Fits one resample: cnt[k] is how often round index k was drawn. Lengths
 * left without replies drop out of the fit. 0 with *slope, or -1 when
 * fewer than two lengths are left.
 */
static int boot_fit(struct boot_series *b, const unsigned *cnt, int use_median, double *slope)
{
	struct stats_fit f;
	size_t n = 0, K = b->K;

	for (size_t l = 0; l < b->n_len; l++) {
		const size_t *off = b->off + l * (K + 1);
		double sum = 0;
		size_t tot = 0;

		for (size_t k = 0; k < K; k++) {
			size_t nk = off[k + 1] - off[k];

			if (!cnt[k] || !nk)
				continue;
			tot += cnt[k] * nk;
			sum += cnt[k] * b->sum[l * K + k];
			if (use_median)
				for (unsigned c = 0; c < cnt[k]; c++)
					memcpy(b->pool + tot - (cnt[k] - c) * nk, b->vals + off[k],
					       nk * sizeof(double));
		}
		if (!tot)
			continue;
		b->fx[n] = b->x[l];
		b->fy[n] = use_median ? median_unsorted(b->pool, tot) : sum / (double)tot;
		n++;
	}
	if (stats_linfit(b->fx, b->fy, n, &f, NULL, 0) < 0)
		return -1;
	*slope = f.slope;
	return 0;
}

static unsigned boot_resamples(const struct stats_boot_opts *o)
{
	return o && o->resamples ? o->resamples : STATS_BOOT_RESAMPLES;
}

/* Percentile interval of v[0..n) (sorted here); NaN when n == 0. */
static void boot_interval(double *v, size_t n, double *lo, double *hi)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*lo = stats_percentile_sorted(v, n, (100.0 - STATS_BOOT_LEVEL) / 2);
	*hi = stats_percentile_sorted(v, n, 100.0 - (100.0 - STATS_BOOT_LEVEL) / 2);
}

/* Draws K labels with replacement into cnt[0..K). */
static void boot_draw(uint64_t *rng, unsigned *cnt, size_t K)
{
	memset(cnt, 0, K * sizeof(*cnt));
	for (size_t j = 0; j < K; j++)
		cnt[rng_below(rng, K)]++;
}

int stats_slope_boot(const struct stats_series_len *len, size_t n_len,
		     const struct stats_boot_opts *o, struct stats_slope_ci *mean_ci,
		     struct stats_slope_ci *median_ci, char *err, size_t errlen)
{
	struct boot_series b = { 0 };
	unsigned B = boot_resamples(o), *labels = NULL, *cnt = NULL;
	double *sm = NULL, *sd = NULL, pm, pd;
	size_t total = 0, K = 0, nm = 0, nd = 0;
	uint64_t rng = o ? o->seed : STATS_BOOT_SEED;
	int ret = -ENOMEM;

	memset(mean_ci, 0, sizeof(*mean_ci));
	memset(median_ci, 0, sizeof(*median_ci));
	mean_ci->slope = mean_ci->lo = mean_ci->hi = NAN;
	median_ci->slope = median_ci->lo = median_ci->hi = NAN;
	for (size_t l = 0; l < n_len; l++)
		total += len[l].n;
	labels = calloc(total ? total : 1, sizeof(*labels));
	sm = calloc(B, sizeof(*sm));
	sd = calloc(B, sizeof(*sd));
	if (!labels || !sm || !sd)
		goto nomem;
	collect_labels(len, n_len, labels, &K);
	K = unique_labels(labels, K);
	cnt = calloc(K ? K : 1, sizeof(*cnt));
	if (!cnt || boot_series_init(&b, len, n_len, labels, K) < 0)
		goto nomem;

	for (size_t k = 0; k < K; k++)
		cnt[k] = 1;
	if (boot_fit(&b, cnt, 0, &pm) < 0 || boot_fit(&b, cnt, 1, &pd) < 0) {
		set_err(err, errlen,
			"slope interval: fewer than 2 of %zu chain lengths have replies: no line to fit",
			n_len);
		ret = -EINVAL;
		goto cleanup;
	}
	for (unsigned i = 0; i < B; i++) {
		boot_draw(&rng, cnt, K);
		if (boot_fit(&b, cnt, 0, &sm[nm]) == 0)
			nm++;
		if (boot_fit(&b, cnt, 1, &sd[nd]) == 0)
			nd++;
	}
	mean_ci->slope = pm;
	median_ci->slope = pd;
	mean_ci->rounds = median_ci->rounds = K;
	mean_ci->resamples = nm;
	median_ci->resamples = nd;
	boot_interval(sm, nm, &mean_ci->lo, &mean_ci->hi);
	boot_interval(sd, nd, &median_ci->lo, &median_ci->hi);
	ret = 0;
	goto cleanup;
nomem:
	set_err(err, errlen, "slope interval: %zu probes: %s", total, strerror(ENOMEM));
cleanup:
	boot_series_free(&b);
	free(labels);
	free(cnt);
	free(sm);
	free(sd);
	return ret;
}

/*
 * Slopes of a and b under the same draws; diff: a - b, else a / b. The
 * statistic on all rounds in *point, the interval in *lo, *hi.
 */
static int pair_boot(const struct stats_series_len *a, size_t na,
		     const struct stats_series_len *b, size_t nb, int use_median, int diff,
		     const struct stats_boot_opts *o, double *point, double *lo, double *hi,
		     unsigned *resamples, char *err, size_t errlen)
{
	const char *what = diff ? "slope difference" : "slope ratio";
	struct boot_series ba = { 0 }, bb = { 0 };
	unsigned B = boot_resamples(o), *labels = NULL, *cnt = NULL;
	double *rv = NULL, sa, sb, pa, pb;
	size_t total = 0, K = 0, nr = 0;
	uint64_t rng = o ? o->seed : STATS_BOOT_SEED;
	int ret = -ENOMEM;

	*point = *lo = *hi = NAN;
	*resamples = 0;
	for (size_t l = 0; l < na; l++)
		total += a[l].n;
	for (size_t l = 0; l < nb; l++)
		total += b[l].n;
	labels = calloc(total ? total : 1, sizeof(*labels));
	rv = calloc(B, sizeof(*rv));
	if (!labels || !rv)
		goto nomem;
	collect_labels(a, na, labels, &K);
	collect_labels(b, nb, labels, &K);
	K = unique_labels(labels, K);
	cnt = calloc(K ? K : 1, sizeof(*cnt));
	if (!cnt || boot_series_init(&ba, a, na, labels, K) < 0 ||
	    boot_series_init(&bb, b, nb, labels, K) < 0)
		goto nomem;

	for (size_t k = 0; k < K; k++)
		cnt[k] = 1;
	if (boot_fit(&ba, cnt, use_median, &pa) < 0 || boot_fit(&bb, cnt, use_median, &pb) < 0) {
		set_err(err, errlen,
			"%s: a series has fewer than 2 chain lengths with replies: no line to fit", what);
		ret = -EINVAL;
		goto cleanup;
	}
	if (!diff && pb == 0) {
		set_err(err, errlen, "slope ratio: the reference slope is 0: no ratio");
		ret = -EINVAL;
		goto cleanup;
	}
	for (unsigned i = 0; i < B; i++) {
		boot_draw(&rng, cnt, K);
		/* The same draw for both: round r of a stays with round r of b. */
		if (boot_fit(&ba, cnt, use_median, &sa) == 0 &&
		    boot_fit(&bb, cnt, use_median, &sb) == 0 && (diff || sb != 0))
			rv[nr++] = diff ? sa - sb : sa / sb;
	}
	*point = diff ? pa - pb : pa / pb;
	*resamples = nr;
	boot_interval(rv, nr, lo, hi);
	ret = 0;
	goto cleanup;
nomem:
	set_err(err, errlen, "%s: %zu probes: %s", what, total, strerror(ENOMEM));
cleanup:
	boot_series_free(&ba);
	boot_series_free(&bb);
	free(labels);
	free(cnt);
	free(rv);
	return ret;
}

int stats_ratio_boot(const struct stats_series_len *a, size_t na,
		     const struct stats_series_len *b, size_t nb, int use_median,
		     const struct stats_boot_opts *o, struct stats_ratio_ci *out,
		     char *err, size_t errlen)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = pair_boot(a, na, b, nb, use_median, 0, o, &out->ratio, &out->lo, &out->hi,
			&out->resamples, err, errlen);
	out->significant = ret == 0 && out->resamples > 0 && (out->lo > 1.0 || out->hi < 1.0);
	return ret;
}

int stats_diff_boot(const struct stats_series_len *a, size_t na,
		    const struct stats_series_len *b, size_t nb, int use_median,
		    const struct stats_boot_opts *o, struct stats_diff_ci *out,
		    char *err, size_t errlen)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = pair_boot(a, na, b, nb, use_median, 1, o, &out->diff, &out->lo, &out->hi,
			&out->resamples, err, errlen);
	out->significant = ret == 0 && out->resamples > 0 && (out->lo > 0 || out->hi < 0);
	return ret;
}
