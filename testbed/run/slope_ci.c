// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The slope intervals of a run's series; see slope_ci.h. */
#include <math.h>
#include <string.h>

#include "run/run_priv.h"
#include "run/slope_ci.h"

static const struct stats_boot_opts boot_opts = {
	.resamples = STATS_BOOT_RESAMPLES, .seed = STATS_BOOT_SEED,
};

/* The measured lengths of one series, as the bootstrap takes them. */
static size_t series_lens(const struct run *r, int ai, int c, struct stats_series_len *len)
{
	size_t n = 0;

	for (int li = 0; li < r->sc0->n_lengths; li++) {
		const struct point *p = &r->pt[ai][c][li];

		if (!p->measured || p->st.received == 0)
			continue;
		len[n++] = (struct stats_series_len){ .x = p->sfs, .rtt_ns = p->rtt_ns,
						      .round = p->round, .n = p->n };
	}
	return n;
}

int slope_ci_series(const struct run *r, int ai, int c, struct stats_slope_ci *mean,
		    struct stats_slope_ci *median)
{
	struct stats_series_len len[SC_MAX_LENGTHS];
	size_t n = series_lens(r, ai, c, len);

	return stats_slope_boot(len, n, &boot_opts, mean, median, NULL, 0);
}

int slope_ci_ratio(const struct run *r, int ai, int base, int c, int use_median,
		   struct stats_ratio_ci *out)
{
	struct stats_series_len a[SC_MAX_LENGTHS], b[SC_MAX_LENGTHS];
	size_t na = series_lens(r, ai, c, a), nb = series_lens(r, base, c, b);

	return stats_ratio_boot(a, na, b, nb, use_median, &boot_opts, out, NULL, 0);
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

void slope_ci_annotate(json_t *fit, const struct stats_slope_ci *ci)
{
	if (!json_is_object(fit) || !isfinite(ci->lo) || !isfinite(ci->hi))
		return;
	json_object_set_new(fit, "slope_ci95_us", json_pack("[f, f]", ci->lo, ci->hi));
	json_object_set_new(fit, "bootstrap_rounds", json_integer(ci->rounds));
}

void slope_ci_annotate_ratio(json_t *obj, const char *prefix, const struct stats_ratio_ci *q)
{
	char key[96];

	snprintf(key, sizeof(key), "%s_ci95", prefix);
	json_object_set_new(obj, key, json_pack("[o, o]", num_or_null(q->lo), num_or_null(q->hi)));
	snprintf(key, sizeof(key), "%s_significant", prefix);
	json_object_set_new(obj, key, q->resamples ? json_boolean(q->significant) : json_null());
}

json_t *slope_ci_method(void)
{
	return json_pack("{s:s, s:i, s:I, s:f, s:s}", "method",
			 "percentile bootstrap over rounds (a drawn round brings every chain length of that round)",
			 "resamples", STATS_BOOT_RESAMPLES, "seed", (json_int_t)STATS_BOOT_SEED,
			 "level_pct", STATS_BOOT_LEVEL, "generator", "splitmix64");
}

const char *slope_ci_text(json_t *fit)
{
	static char buf[96];
	json_t *ci = json_object_get(fit, "slope_ci95_us");

	buf[0] = '\0';
	if (json_array_size(ci) == 2 && json_is_number(json_array_get(ci, 0)))
		snprintf(buf, sizeof(buf), " [95%% CI %+.4f, %+.4f]",
			 json_number_value(json_array_get(ci, 0)) / 1000,
			 json_number_value(json_array_get(ci, 1)) / 1000);
	return buf;
}

/* " [95% CI lo, hi], significant/not significant" for one ratio; "" without an interval. */
static int ratio_ci_text(char *buf, size_t len, json_t *ci, json_t *sig)
{
	if (json_array_size(ci) != 2 || !json_is_number(json_array_get(ci, 0)) ||
	    !json_is_number(json_array_get(ci, 1)))
		return snprintf(buf, len, "%s", "");
	return snprintf(buf, len, " [95%% CI %.2f, %.2f], %s", json_number_value(json_array_get(ci, 0)),
			json_number_value(json_array_get(ci, 1)),
			json_is_true(sig) ? "significant (the interval excludes 1)"
					  : "not significant (the interval holds 1)");
}

const char *slope_ratio_text(json_t *cmp)
{
	static char buf[320];
	json_t *mr = json_object_get(cmp, "median_slope_ratio");
	int n;

	n = ratio_ci_text(buf, sizeof(buf), json_object_get(cmp, "slope_ratio_ci95"),
			  json_object_get(cmp, "slope_ratio_significant"));
	/* The means' ratio falls apart when a mean slope is lost in the tail; the medians' holds. */
	if (json_is_number(mr) && n >= 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, "; medians x%.2f", json_number_value(mr));
	if (json_is_number(mr) && n >= 0 && (size_t)n < sizeof(buf))
		ratio_ci_text(buf + n, sizeof(buf) - n, json_object_get(cmp, "median_slope_ratio_ci95"),
			      json_object_get(cmp, "median_slope_ratio_significant"));
	return buf;
}

json_t *slope_ci_chain_difference(const struct run *r, int ai, int c)
{
	struct stats_series_len a[SC_MAX_LENGTHS], b[SC_MAX_LENGTHS];
	size_t na = series_lens(r, ai, c, a), nb = series_lens(r, ai, 0, b);
	struct stats_diff_ci dm, dd;

	if (stats_diff_boot(a, na, b, nb, 0, &boot_opts, &dm, NULL, 0) < 0 ||
	    stats_diff_boot(a, na, b, nb, 1, &boot_opts, &dd, NULL, 0) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:f, s:[f, f], s:f, s:[f, f]}", "architecture",
			 sc_arch_name(r->sc0->archs[ai]), "chain", r->sc0->chains[c].name,
			 "minus_chain", r->sc0->chains[0].name, "slope_difference_us", dm.diff,
			 "slope_difference_ci95_us", dm.lo, dm.hi, "median_slope_difference_us",
			 dd.diff, "median_slope_difference_ci95_us", dd.lo, dd.hi);
}

void slope_ci_print_chain_differences(json_t *summary)
{
	json_t *d = json_object_get(summary, "chain_differences"), *e;
	size_t i;

	if (!json_array_size(d))
		return;
	printf("per-SF slope of each chain minus the first's (rounds paired, 95%% CI):\n");
	json_array_foreach(d, i, e) {
		json_t *cm = json_object_get(e, "slope_difference_ci95_us");
		json_t *cd = json_object_get(e, "median_slope_difference_ci95_us");

		printf("  %-14s %s - %s: means %+.1f us/SF [%+.1f, %+.1f], medians %+.1f us/SF [%+.1f, %+.1f]\n",
		       json_string_value(json_object_get(e, "architecture")),
		       json_string_value(json_object_get(e, "chain")),
		       json_string_value(json_object_get(e, "minus_chain")),
		       json_number_value(json_object_get(e, "slope_difference_us")),
		       json_number_value(json_array_get(cm, 0)), json_number_value(json_array_get(cm, 1)),
		       json_number_value(json_object_get(e, "median_slope_difference_us")),
		       json_number_value(json_array_get(cd, 0)), json_number_value(json_array_get(cd, 1)));
	}
}

int slope_ci_chain_diff(const struct run *r, int ai, int c, int base, int use_median,
			struct stats_diff_ci *out)
{
	struct stats_series_len a[SC_MAX_LENGTHS], b[SC_MAX_LENGTHS];
	size_t na = series_lens(r, ai, c, a), nb = series_lens(r, ai, base, b);

	return stats_diff_boot(a, na, b, nb, use_median, &boot_opts, out, NULL, 0);
}
