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
	char architecture[32];  /* "" when the run has no architecture column */
	char chain[64];         /* "" when the run has no chain column */
	struct plot_point *pts; /* malloc'd by plot_load_run_all */
	size_t n;
	double slope_us;        /* per SF; NaN: no fit line */
	double intercept_us;
	double r2;
	/* 95 % interval of slope_us (bootstrap over rounds): drawn as a band of
	 * lines through the centroid when both are finite and hi > lo. */
	double slope_lo_us, slope_hi_us;
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
 * chain_length, mean_us and sem_us required, architecture, chain and
 * median_us optional, others ignored) and <dir>/summary.json (backend,
 * accelerator, scenario, the first series' fit.{slope_us,intercept_us,r2}
 * and the per-series chains[].{architecture,chain,fit}; all optional).
 *
 * plot_load_run_all appends one series per (architecture, chain), in the
 * order they first appear in summary.csv, to the malloc'd vector *v of *n
 * entries (both may start as NULL/0; realloc'd). A run with one such pair
 * gives one series labelled "<scenario> (<dir's name>)" with the top-level
 * fit; a run with several gives "<scenario> <chain> (<dir's name>)" each
 * (the architecture named too when the run has several), with its own fit
 * from "chains". Without a fit in the JSON the line is fitted to the means.
 * On error nothing is appended and *v, *n stay valid.
 *
 * Release series with plot_series_free, or a whole vector with
 * plot_series_free_all (which also frees the vector).
 */
int plot_load_run_all(const char *dir, struct plot_series **v, size_t *n,
		      char *err, size_t errlen);
void plot_series_free(struct plot_series *s);
void plot_series_free_all(struct plot_series *v, size_t n);

/* One point of the latency-under-load figure. */
struct plot_load_point {
	char series[64];   /* architecture (and chain) */
	double level_pct;  /* background load, % of the no-drop rate */
	double p50_us;
	double p99_us;
};

/*
 * p50 and p99 RTT against background load, one pair of lines per series,
 * as FD.io CSIT shows latency at 0/10/50/90 % of the no-drop rate. Writes
 * <name>.dat, .gp, .png and .svg into o->outdir (name default "load").
 */
int plot_load(const struct plot_opts *o, const struct plot_load_point *p, size_t n,
	      char *err, size_t errlen);

/* One point of the throughput figure. */
struct plot_tput_point {
	char series[64];     /* architecture (and chain) */
	double length;       /* chain length (SFs) */
	double goodput_mbps; /* iperf3: bytes received over the receiver's time */
};

/*
 * TCP goodput (Mbit/s) against chain length, one line per series. Writes
 * <name>.dat, .gp, .png and .svg into o->outdir (name default "throughput").
 */
int plot_throughput(const struct plot_opts *o, const struct plot_tput_point *p, size_t n,
		    char *err, size_t errlen);

#endif /* CADEIA_PLOT_H */
