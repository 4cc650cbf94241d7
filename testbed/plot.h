/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Figure 6 of the paper with gnuplot: mean RTT (ms) against chain length,
 * standard-error bars, one least-squares line per series, slope per SF in
 * the legend. Writes <name>.gp and <name>.dat into the output directory (so
 * users can edit and rerun "gnuplot <name>.gp" there) and runs gnuplot for
 * <name>.png and <name>.svg.
 *
 * Errors: 0 or a negative errno, with a one-line message naming the file.
 */
#ifndef CADEIA_PLOT_H
#define CADEIA_PLOT_H

#include <stddef.h>

#define PLOT_NAME_DEFAULT "fig6"

struct plot_point {
	double length;     /* chain length (SFs) */
	double mean_us;    /* NaN: no data (all lost), not drawn */
	double sem_us;
	double median_us;  /* NaN: not drawn */
};

struct plot_series {
	char label[128];
	char backend[64];
	char accel[64];
	char scenario[128];
	struct plot_point *pts; /* malloc'd by plot_load_run */
	size_t n;
	double slope_us;        /* per SF; NaN: no fit line */
	double intercept_us;
	double r2;
};

struct plot_opts {
	const char *outdir; /* created if missing */
	const char *name;   /* file stem; NULL = PLOT_NAME_DEFAULT */
	const char *title;  /* NULL = a default naming figure 6 */
};

int plot_fig6(const struct plot_opts *o, const struct plot_series *s, size_t ns,
	      char *err, size_t errlen);

/*
 * Loads one run directory: <dir>/summary.csv (columns found by header name;
 * chain_length, mean_us and sem_us required, median_us optional, others
 * ignored) and <dir>/summary.json (fit.slope_us, fit.intercept_us, fit.r2,
 * backend, accelerator, scenario; all optional). Without a fit in the JSON
 * the line is fitted to the means. Label: "<scenario> (<dir's name>)".
 * Release with plot_series_free.
 */
int plot_load_run(const char *dir, struct plot_series *s, char *err, size_t errlen);
void plot_series_free(struct plot_series *s);

#endif /* CADEIA_PLOT_H */
