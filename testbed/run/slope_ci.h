/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How sure the per-SF slope of a run is: the bootstrap of analysis/stats.h
 * applied to a run's measured points, and its JSON form for summary.json.
 * The seed and resample count are fixed (STATS_BOOT_SEED,
 * STATS_BOOT_RESAMPLES) so a run's summary can be recomputed from raw.csv.
 */
#ifndef CADEIA_SLOPE_CI_H
#define CADEIA_SLOPE_CI_H

#include <jansson.h>

#include "analysis/stats.h"

struct run;

/* Intervals of the slope of the means and of the medians of one series. */
int slope_ci_series(const struct run *r, int ai, int c, struct stats_slope_ci *mean,
		    struct stats_slope_ci *median);
/* Slope of architecture ai over architecture base, chain c, rounds paired by number. */
int slope_ci_ratio(const struct run *r, int ai, int base, int c, int use_median,
		   struct stats_ratio_ci *out);
/*
 * Slope of chain c minus that of chain 0 in architecture ai, rounds paired:
 * {"architecture", "chain", "minus_chain", "slope_difference_us",
 * "slope_difference_ci95_us", "median_..."}; NULL when not computable.
 */
json_t *slope_ci_chain_difference(const struct run *r, int ai, int c);
/* Slope of chain c minus that of chain base (any pair), rounds paired: the
 * placement check (run/placement.h). */
int slope_ci_chain_diff(const struct run *r, int ai, int c, int base, int use_median,
			struct stats_diff_ci *out);
/* Prints summary.json's "chain_differences", if any. */
void slope_ci_print_chain_differences(json_t *summary);
/* Adds "slope_ci95_us": [lo, hi] and "bootstrap_rounds" to a fit object (no-op on null). */
void slope_ci_annotate(json_t *fit, const struct stats_slope_ci *ci);
/* Adds "<prefix>_ci95": [lo, hi] and "<prefix>_significant" to a comparison entry. */
void slope_ci_annotate_ratio(json_t *obj, const char *prefix, const struct stats_ratio_ci *q);
/*
 * For the printed tables: " [95% CI +0.0041, +0.0060]" (ms) from a fit
 * object of summary.json, and " [95% CI 1.12, 1.30], significant" from a
 * comparison entry; "" when there is no interval. A static buffer: use the
 * result before the next call.
 */
const char *slope_ci_text(json_t *fit);
const char *slope_ratio_text(json_t *cmp);
/* The method, for summary.json: resamples, seed, level, what is resampled. */
json_t *slope_ci_method(void);

#endif
