// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * make bench: how much of a hop is ours. One `cadeia-bench run` of
 * tests/bench/scenarios/netns-floor.json measures, in the same interleaved
 * rounds, a chain of each function kind (user-space wire, floor, kwire,
 * NSH-aware, delay). Rows:
 *
 *  - each kind's per-SF slope (median fit) with its 95 % interval, and that
 *    slope over the floor's: the floor is the veth and bridge path plus one
 *    lookup in the kernel, so "over floor" is what the kind costs on top of
 *    what any in-kernel hop on this topology costs;
 *  - calibration: the delay chain (the wire holding each frame 200 us) minus
 *    the wire chain, with the paired interval of that difference, against
 *    the configured delay. The harness is accurate when the delay lies in it.
 *
 * Repeats with BENCH_FLOOR_REPEATS (default 1, at most 9); each repetition
 * is its own rows. Writes results/bench-floor.json; run directories go to
 * results/bench-runs/. No thresholds: this prints figures.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#define RUNS_DIR "results/bench-runs"
#define OUT_FILE "results/bench-floor.json"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double num(json_t *j)
{
	return json_is_number(j) ? json_number_value(j) : NAN;
}

/* `cadeia-bench run --json --quiet`: the summary it prints, or NULL. */
static json_t *run_json(const char *bench, const char *scenario)
{
	json_error_t jerr;
	json_t *summary = NULL;
	int pfd[2], status;
	FILE *f;
	pid_t pid;

	if (pipe(pfd) < 0) {
		fprintf(stderr, "bench_floor: pipe: %s\n", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_floor: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return NULL;
	}
	if (!pid) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execl(bench, bench, "run", "--json", "--quiet", "--results", RUNS_DIR, scenario,
		      (char *)NULL);
		fprintf(stderr, "bench_floor: exec %s: %s\n", bench, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (f) {
		summary = json_loadf(f, 0, &jerr);
		if (!summary)
			fprintf(stderr, "bench_floor: %s run %s: no JSON summary (%s)\n", bench,
				scenario, jerr.text);
		fclose(f);
	} else {
		close(pfd[0]);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_floor: %s run %s failed (status %d)\n", bench, scenario,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		json_decref(summary);
		return NULL;
	}
	return summary;
}

static json_t *chain_named(json_t *summary, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(summary, "chains"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "chain")) ?: "", name))
			return c;
	return NULL;
}

static json_t *difference(json_t *summary, const char *chain, const char *minus)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(summary, "chain_differences"), i, d)
		if (!strcmp(json_string_value(json_object_get(d, "chain")) ?: "", chain) &&
		    !strcmp(json_string_value(json_object_get(d, "minus_chain")) ?: "", minus))
			return d;
	return NULL;
}

/* Rows of one run; appends its JSON to out. 0, or -1 when the run lacks a kind. */
static int rows(json_t *summary, double delay_us, json_t *out)
{
	json_t *floor = chain_named(summary, "floor"), *c, *kinds = json_object(), *cal;
	double fs = num(json_object_get(json_object_get(floor, "fit_median"), "slope_us"));
	json_t *d = difference(summary, "delay", "wire");
	double dd, lo, hi;
	size_t i;

	if (!floor || !isfinite(fs) || !d) {
		fprintf(stderr, "bench_floor: the run has no floor fit or no delay - wire difference\n");
		json_decref(kinds);
		return -1;
	}
	printf("\nper-SF slope by function kind, median fit (us/SF, 95%% CI), over the floor's\n");
	printf("  %-10s %9s %19s %10s\n", "kind", "slope", "95% CI", "over floor");
	json_array_foreach(json_object_get(summary, "chains"), i, c) {
		json_t *f = json_object_get(c, "fit_median"), *ci = json_object_get(f, "slope_ci95_us");
		const char *name = json_string_value(json_object_get(c, "chain")) ?: "?";
		double s = num(json_object_get(f, "slope_us"));
		double l = num(json_array_get(ci, 0)), h = num(json_array_get(ci, 1));

		printf("  %-10s %9.1f   [%6.1f, %6.1f] %9.2fx\n", name, s, l, h, s / fs);
		json_object_set_new(kinds, name, json_pack("{s:f, s:[f, f], s:f}", "slope_median_us", s,
							   "slope_ci95_us", l, h, "over_floor", s / fs));
	}
	dd = num(json_object_get(d, "median_slope_difference_us"));
	lo = num(json_array_get(json_object_get(d, "median_slope_difference_ci95_us"), 0));
	hi = num(json_array_get(json_object_get(d, "median_slope_difference_ci95_us"), 1));
	printf("calibration: delay - wire = %.1f us/SF, 95%% CI [%.1f, %.1f], configured %.0f us: %s\n",
	       dd, lo, hi, delay_us, lo <= delay_us && delay_us <= hi ? "inside the interval"
								     : "OUTSIDE the interval");
	cal = json_pack("{s:f, s:[f, f], s:f, s:b}", "delay_minus_wire_us", dd, "ci95_us", lo, hi,
			"configured_us", delay_us, "inside", lo <= delay_us && delay_us <= hi);
	json_array_append_new(out, json_pack("{s:s, s:o, s:o}", "results",
					     json_string_value(json_object_get(summary, "results")) ?: "",
					     "kinds", kinds, "calibration", cal));
	return 0;
}

int main(void)
{
	const char *build = getenv("BUILD") ?: "build";
	const char *scenario = getenv("BENCH_FLOOR_SCENARIO") ?:
			       "tests/bench/scenarios/netns-floor.json";
	json_t *sc, *out = json_array(), *root = NULL, *n;
	int repeats = 1, ret = 1;
	double delay_us = 200;
	char bench[512];
	size_t i;

	if (getenv("BENCH_FLOOR_REPEATS"))
		repeats = atoi(getenv("BENCH_FLOOR_REPEATS"));
	if (repeats < 1 || repeats > 9) {
		fprintf(stderr, "bench_floor: BENCH_FLOOR_REPEATS must be 1..9\n");
		goto cleanup;
	}
	snprintf(bench, sizeof(bench), "%s/cadeia-bench", build);
	if (access(bench, X_OK) < 0) {
		fprintf(stderr, "bench_floor: %s: %s (run make first)\n", bench, strerror(errno));
		goto cleanup;
	}
	/* The configured delay, from the scenario's delay nodes. */
	sc = json_load_file(scenario, 0, NULL);
	json_array_foreach(json_object_get(sc, "nodes"), i, n)
		if (json_is_integer(json_object_get(n, "delay_us")))
			delay_us = json_integer_value(json_object_get(n, "delay_us"));
	json_decref(sc);
	for (int r = 0; r < repeats; r++) {
		double t0 = now_s();
		json_t *summary;

		printf("run %d/%d: %s run %s ...\n", r + 1, repeats, bench, scenario);
		fflush(stdout);
		summary = run_json(bench, scenario);
		if (!summary)
			goto cleanup;
		printf("  %s: %.1f s wall\n", json_string_value(json_object_get(summary, "results")) ?: "?",
		       now_s() - t0);
		if (rows(summary, delay_us, out) < 0) {
			json_decref(summary);
			goto cleanup;
		}
		json_decref(summary);
	}
	root = json_pack("{s:s, s:I, s:O}", "scenario", scenario, "timestamp_unix",
			 (json_int_t)time(NULL), "runs", out);
	if (json_dump_file(root, OUT_FILE, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
		fprintf(stderr, "bench_floor: write %s: %s\n", OUT_FILE, strerror(errno));
		goto cleanup;
	}
	printf("wrote %s\n", OUT_FILE);
	ret = 0;
cleanup:
	json_decref(root);
	json_decref(out);
	return ret;
}
