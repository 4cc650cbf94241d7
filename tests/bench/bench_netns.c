// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-SF cost of each function kind on the netns backend, end to end: ping
 * RTT through chains of user-space wires (unpinned, pinned, pinned with busy
 * poll), the in-kernel wire and the NSH-aware function.
 *
 * One scenario holds one chain per kind, each to its own destination, so a
 * single `cadeia-bench run` measures every kind at every chain length one
 * after the other (A B C D E at length 0, then at length 1, ...): other
 * tenants' noise then hits all kinds alike instead of one whole sweep. The
 * run is repeated (BENCH_NETNS_REPEATS, default 2) and each figure is the
 * median over repetitions.
 *
 * Figures per kind: slope of the mean-based and of the median-based fit
 * (us per SF), chain-0 RTT, slope over chain-0 RTT, and the cost of the
 * first SF (median RTT at 1 minus at 0), which is where busy polling shows:
 * spinners that share one CPU wait for each other's time slices in longer
 * chains. Per run: wall time of the whole run (build, checks, probes,
 * teardown) against the time the probes alone need (count / rate).
 *
 * Writes results/bench-netns.json (the previous one becomes
 * results/bench-netns.prev.json and the two are compared); run directories
 * go to results/bench-runs/. No thresholds: this prints figures.
 *
 * Environment: BUILD (default build), BENCH_NETNS_SCENARIO (default
 * tests/bench/scenarios/netns-kinds.json), BENCH_NETNS_REPEATS (1..9).
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

#define MAX_REPEATS 9
#define MAX_KINDS 16
#define RESULTS "results"
#define RUNS_DIR RESULTS "/bench-runs"
#define OUT_FILE RESULTS "/bench-netns.json"
#define PREV_FILE RESULTS "/bench-netns.prev.json"

struct kind_run {
	double slope_mean, slope_med; /* us per SF */
	double r2_mean, r2_med;
	double c0_mean, c0_med;       /* chain-0 RTT, us */
	double first_med;             /* median RTT(1) - RTT(0), us */
	unsigned lost, probes;
};

struct kind {
	char name[64];
	char desc[128];
	struct kind_run run[MAX_REPEATS];
};

struct run_info {
	char dir[1024];
	double wall_s, probe_s;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of the finite values; NaN when there are none. */
static double median(const double *v, size_t n)
{
	double t[MAX_REPEATS];
	size_t i, m = 0;

	for (i = 0; i < n && m < MAX_REPEATS; i++)
		if (isfinite(v[i]))
			t[m++] = v[i];
	if (!m)
		return NAN;
	qsort(t, m, sizeof(*t), cmp_dbl);
	return m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
}

static double num_or_nan(json_t *j)
{
	return json_is_number(j) ? json_number_value(j) : NAN;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/*
 * Runs `cadeia-bench run --json` on the scenario; *summary gets the JSON it
 * prints (with "results", the run directory).
 */
static int run_once(const char *bench, const char *scenario, json_t **summary, double *wall_s)
{
	json_error_t jerr;
	int pfd[2], status, ret = -1;
	double t0;
	FILE *f = NULL;
	pid_t pid;

	*summary = NULL;
	if (pipe(pfd) < 0) {
		fprintf(stderr, "bench_netns: pipe: %s\n", strerror(errno));
		return -1;
	}
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_netns: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (!pid) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execl(bench, bench, "run", "--json", "--quiet", "--results", RUNS_DIR, scenario,
		      (char *)NULL);
		fprintf(stderr, "bench_netns: exec %s: %s\n", bench, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f) {
		fprintf(stderr, "bench_netns: fdopen: %s\n", strerror(errno));
		close(pfd[0]);
	} else {
		*summary = json_loadf(f, JSON_DISABLE_EOF_CHECK, &jerr);
		/* Drain so the child never blocks on a full pipe. */
		while (fgetc(f) != EOF)
			;
		fclose(f);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench_netns: waitpid: %s\n", strerror(errno));
			goto cleanup;
		}
	}
	*wall_s = now_s() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench_netns: %s run %s failed (status %d)\n", bench, scenario,
			status);
		goto cleanup;
	}
	if (!*summary) {
		fprintf(stderr, "bench_netns: %s run %s: no JSON on stdout: %s\n", bench, scenario,
			jerr.text);
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (ret < 0) {
		json_decref(*summary);
		*summary = NULL;
	}
	return ret;
}

/* "wire, cpu 1, busy poll 10000 us" for the chain's first SF, from meta.json. */
static void describe_chain(json_t *sc, const char *chain, char *out, size_t len)
{
	json_t *defs = json_object_get(sc, "defaults"), *c, *node, *sf0 = NULL;
	const char *fn;
	json_int_t cpu = -1, bp = 0;
	size_t i;

	snprintf(out, len, "?");
	json_array_foreach(json_object_get(sc, "chains"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")) ?: "", chain))
			sf0 = json_array_get(json_object_get(c, "sfs"), 0);
	if (!json_is_string(sf0))
		return;
	json_array_foreach(json_object_get(sc, "nodes"), i, node) {
		if (strcmp(json_string_value(json_object_get(node, "name")) ?: "",
			   json_string_value(sf0)))
			continue;
		fn = json_string_value(json_object_get(node, "function")) ?:
		     json_string_value(json_object_get(defs, "function")) ?: "wire";
		if (json_is_integer(json_object_get(defs, "cpu")))
			cpu = json_integer_value(json_object_get(defs, "cpu"));
		if (json_is_integer(json_object_get(node, "cpu")))
			cpu = json_integer_value(json_object_get(node, "cpu"));
		if (json_is_integer(json_object_get(defs, "busy_poll_us")))
			bp = json_integer_value(json_object_get(defs, "busy_poll_us"));
		if (json_is_integer(json_object_get(node, "busy_poll_us")))
			bp = json_integer_value(json_object_get(node, "busy_poll_us"));
		if (!strcmp(fn, "kwire"))
			snprintf(out, len, "%s, in the kernel", fn);
		else if (cpu < 0)
			snprintf(out, len, "%s, unpinned%s", fn, bp ? ", busy poll" : "");
		else if (bp)
			snprintf(out, len, "%s, cpu %lld, busy poll %lld us", fn, (long long)cpu,
				 (long long)bp);
		else
			snprintf(out, len, "%s, cpu %lld", fn, (long long)cpu);
		return;
	}
}

/* Seconds the probes alone take: (sent + warm-up) / rate, summed over points. */
static double probe_seconds(json_t *summary, json_t *measure)
{
	double rate = num_or_nan(json_object_get(measure, "rate_pps"));
	double warm = num_or_nan(json_object_get(measure, "warmup"));
	json_t *c, *p;
	size_t i, j;
	double n = 0;

	if (!isfinite(rate) || rate <= 0)
		return NAN;
	if (!isfinite(warm))
		warm = 10; /* the scenario default */
	json_array_foreach(json_object_get(summary, "chains"), i, c)
		json_array_foreach(json_object_get(c, "points"), j, p)
			n += num_or_nan(json_object_get(p, "probes")) + warm;
	return n / rate;
}

static struct kind *kind_get(struct kind *k, size_t *nk, const char *name)
{
	size_t i;

	for (i = 0; i < *nk; i++)
		if (!strcmp(k[i].name, name))
			return &k[i];
	if (*nk == MAX_KINDS)
		return NULL;
	k = &k[(*nk)++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	for (i = 0; i < MAX_REPEATS; i++)
		k->run[i] = (struct kind_run){ NAN, NAN, NAN, NAN, NAN, NAN, NAN, 0, 0 };
	return k;
}

static void take_chain(struct kind_run *kr, json_t *c)
{
	json_t *fit = json_object_get(c, "fit"), *fmed = json_object_get(c, "fit_median"), *p;
	double m1 = NAN;
	size_t i;

	kr->slope_mean = num_or_nan(json_object_get(fit, "slope_us"));
	kr->r2_mean = num_or_nan(json_object_get(fit, "r2"));
	kr->slope_med = num_or_nan(json_object_get(fmed, "slope_us"));
	kr->r2_med = num_or_nan(json_object_get(fmed, "r2"));
	json_array_foreach(json_object_get(c, "points"), i, p) {
		json_int_t len = json_integer_value(json_object_get(p, "chain_length"));

		kr->probes += json_integer_value(json_object_get(p, "probes"));
		kr->lost += json_integer_value(json_object_get(p, "lost"));
		if (len == 0) {
			kr->c0_mean = num_or_nan(json_object_get(p, "mean_us"));
			kr->c0_med = num_or_nan(json_object_get(p, "median_us"));
		} else if (len == 1) {
			m1 = num_or_nan(json_object_get(p, "median_us"));
		}
	}
	kr->first_med = m1 - kr->c0_med;
}

#define FIELD_MEDIAN(k, nr, field)                                  \
	({                                                          \
		double _v[MAX_REPEATS];                             \
		for (int _i = 0; _i < (nr); _i++)                   \
			_v[_i] = (k)->run[_i].field;                \
		median(_v, (nr));                                   \
	})

static double prev_num(json_t *prev, const char *kind, const char *field)
{
	if (!kind)
		return num_or_nan(json_object_get(prev, field));
	return num_or_nan(json_object_get(json_object_get(json_object_get(prev, "kinds"), kind),
					  field));
}

static void print_change(const char *what, double before, double now, const char *unit)
{
	if (!isfinite(before) || !isfinite(now)) {
		printf("  %-34s %10s -> %10.2f %s\n", what, "-", now, unit);
		return;
	}
	printf("  %-34s %10.2f -> %10.2f %s (%+.0f%%)\n", what, before, now, unit,
	       before ? (now - before) / fabs(before) * 100 : 0.0);
}

int main(void)
{
	const char *build = getenv("BUILD") ?: "build";
	const char *scenario = getenv("BENCH_NETNS_SCENARIO") ?:
			       "tests/bench/scenarios/netns-kinds.json";
	struct kind kinds[MAX_KINDS];
	struct run_info runs[MAX_REPEATS];
	json_t *root = NULL, *jk, *jruns, *prev = NULL;
	double wall = 0, probe = 0;
	char bench[512];
	size_t nk = 0, i;
	int repeats = 2, nr, ret = 1;

	if (getenv("BENCH_NETNS_REPEATS"))
		repeats = atoi(getenv("BENCH_NETNS_REPEATS"));
	if (repeats < 1 || repeats > MAX_REPEATS) {
		fprintf(stderr, "bench_netns: BENCH_NETNS_REPEATS must be 1..%d\n", MAX_REPEATS);
		return 1;
	}
	snprintf(bench, sizeof(bench), "%s/cadeia-bench", build);
	if (access(bench, X_OK) < 0) {
		fprintf(stderr, "bench_netns: %s: %s (run make first)\n", bench, strerror(errno));
		return 1;
	}

	for (nr = 0; nr < repeats; nr++) {
		json_t *summary, *meta, *c;
		char path[1100];
		const char *dir;
		size_t j;

		printf("run %d/%d: %s run %s ...\n", nr + 1, repeats, bench, scenario);
		fflush(stdout);
		if (run_once(bench, scenario, &summary, &runs[nr].wall_s) < 0)
			goto cleanup;
		dir = json_string_value(json_object_get(summary, "results")) ?: "?";
		snprintf(runs[nr].dir, sizeof(runs[nr].dir), "%s", dir);
		snprintf(path, sizeof(path), "%s/meta.json", dir);
		meta = json_load_file(path, 0, NULL);
		if (!meta)
			fprintf(stderr, "bench_netns: %s: cannot read it; kinds left undescribed\n",
				path);
		runs[nr].probe_s = probe_seconds(summary, json_object_get(
			json_object_get(meta, "scenario"), "measure"));
		json_array_foreach(json_object_get(summary, "chains"), j, c) {
			const char *chain = json_string_value(json_object_get(c, "chain")) ?: "?";
			const char *arch = json_string_value(json_object_get(c, "architecture"));
			char name[64];
			struct kind *k;

			/* A kind is a chain; with several architectures, per architecture. */
			if (arch && json_array_size(json_object_get(summary, "architectures")) > 1)
				snprintf(name, sizeof(name), "%s:%s", arch, chain);
			else
				snprintf(name, sizeof(name), "%s", chain);
			k = kind_get(kinds, &nk, name);
			if (!k)
				continue;
			if (nr == 0)
				describe_chain(json_object_get(meta, "scenario"), chain, k->desc,
					       sizeof(k->desc));
			take_chain(&k->run[nr], c);
		}
		printf("  %s: %.1f s wall, %.1f s of probes\n", dir, runs[nr].wall_s,
		       runs[nr].probe_s);
		wall += runs[nr].wall_s;
		probe += runs[nr].probe_s;
		json_decref(meta);
		json_decref(summary);
	}

	if (access(OUT_FILE, F_OK) == 0 && rename(OUT_FILE, PREV_FILE) < 0) {
		fprintf(stderr, "bench_netns: rename %s to %s: %s\n", OUT_FILE, PREV_FILE,
			strerror(errno));
		goto cleanup;
	}
	prev = json_load_file(PREV_FILE, 0, NULL);

	root = json_pack("{s:s, s:s, s:i, s:I, s:s}", "backend", "netns", "scenario", scenario,
			 "repeats", repeats, "timestamp_unix", (json_int_t)time(NULL), "method",
			 "cadeia-bench run per repetition, one chain per kind measured in turn "
			 "at each length; each figure is the median over repetitions");
	jk = json_object();
	jruns = json_array();
	json_object_set_new(root, "kinds", jk);
	json_object_set_new(root, "runs", jruns);
	for (i = 0; i < (size_t)nr; i++)
		json_array_append_new(jruns, json_pack("{s:s, s:o, s:o, s:o}", "dir", runs[i].dir,
						       "wall_s", jnum(runs[i].wall_s), "probe_s",
						       jnum(runs[i].probe_s), "wall_over_probe",
						       jnum(runs[i].wall_s / runs[i].probe_s)));
	json_object_set_new(root, "wall_s", jnum(wall));
	json_object_set_new(root, "probe_s", jnum(probe));
	json_object_set_new(root, "wall_over_probe", jnum(wall / probe));

	printf("\nnetns backend, per-SF cost by function kind (us; median over %d run%s)\n", nr,
	       nr == 1 ? "" : "s");
	printf("%-14s %-30s %9s %9s %6s %8s %8s %9s %9s %8s %6s\n", "kind", "function",
	       "slope", "slope", "R2", "chain0", "chain0", "slope/c0", "slope/c0", "1st SF",
	       "lost");
	printf("%-14s %-30s %9s %9s %6s %8s %8s %9s %9s %8s %6s\n", "", "", "mean", "median",
	       "median", "mean", "median", "mean", "median", "median", "");
	for (i = 0; i < nk; i++) {
		struct kind *k = &kinds[i];
		double sm = FIELD_MEDIAN(k, nr, slope_mean), sd = FIELD_MEDIAN(k, nr, slope_med);
		double r2m = FIELD_MEDIAN(k, nr, r2_mean), r2d = FIELD_MEDIAN(k, nr, r2_med);
		double cm = FIELD_MEDIAN(k, nr, c0_mean), cd = FIELD_MEDIAN(k, nr, c0_med);
		double first = FIELD_MEDIAN(k, nr, first_med);
		unsigned lost = 0, probes = 0;
		json_t *per = json_array(), *o;

		for (int r = 0; r < nr; r++) {
			lost += k->run[r].lost;
			probes += k->run[r].probes;
			json_array_append_new(per, json_pack("{s:o, s:o, s:o, s:o, s:o}",
				"slope_mean_us", jnum(k->run[r].slope_mean), "slope_median_us",
				jnum(k->run[r].slope_med), "chain0_mean_us", jnum(k->run[r].c0_mean),
				"chain0_median_us", jnum(k->run[r].c0_med), "first_sf_median_us",
				jnum(k->run[r].first_med)));
		}
		printf("%-14s %-30s %9.1f %9.1f %6.3f %8.1f %8.1f %9.2f %9.2f %8.1f %6u\n",
		       k->name, k->desc, sm, sd, r2d, cm, cd, sm / cm, sd / cd, first, lost);
		o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:o}",
			      "function", k->desc, "slope_mean_us", jnum(sm), "slope_median_us",
			      jnum(sd), "r2_mean", jnum(r2m), "r2_median", jnum(r2d),
			      "chain0_mean_us", jnum(cm), "chain0_median_us", jnum(cd),
			      "ratio_slope_chain0_mean", jnum(sm / cm),
			      "ratio_slope_chain0_median", jnum(sd / cd), "first_sf_median_us",
			      jnum(first), "probes", probes, "lost", lost, "per_run", per);
		json_object_set_new(jk, k->name, o);
	}
	printf("slope = least-squares us per SF of the mean (and of the median) RTT against length;\n"
	       "chain0 = RTT with no SF; slope/c0 = slope over chain-0 RTT; 1st SF = median RTT at\n"
	       "length 1 minus at 0. Busy-polling SFs pinned to one CPU take turns on it, so past\n"
	       "the first SF each frame waits for the other spinners' time slices: compare 1st SF.\n");
	printf("\nsweep wall time %.1f s for %.1f s of probes (count / rate): ratio %.2f\n", wall,
	       probe, wall / probe);
	for (i = 0; i < (size_t)nr; i++)
		printf("  run %zu: %.1f s / %.1f s = %.2f  %s\n", i + 1, runs[i].wall_s,
		       runs[i].probe_s, runs[i].wall_s / runs[i].probe_s, runs[i].dir);

	if (prev) {
		printf("\nchange against the previous run (%s):\n", PREV_FILE);
		for (i = 0; i < nk; i++) {
			char what[128];
			json_t *o = json_object_get(jk, kinds[i].name);

			snprintf(what, sizeof(what), "%s slope mean", kinds[i].name);
			print_change(what, prev_num(prev, kinds[i].name, "slope_mean_us"),
				     num_or_nan(json_object_get(o, "slope_mean_us")), "us/SF");
			snprintf(what, sizeof(what), "%s slope median", kinds[i].name);
			print_change(what, prev_num(prev, kinds[i].name, "slope_median_us"),
				     num_or_nan(json_object_get(o, "slope_median_us")), "us/SF");
			snprintf(what, sizeof(what), "%s chain0 median", kinds[i].name);
			print_change(what, prev_num(prev, kinds[i].name, "chain0_median_us"),
				     num_or_nan(json_object_get(o, "chain0_median_us")), "us");
		}
		print_change("wall / probe time", prev_num(prev, NULL, "wall_over_probe"),
			     wall / probe, "");
	} else {
		printf("\nno previous run (%s): nothing to compare\n", PREV_FILE);
	}

	if (json_dump_file(root, OUT_FILE, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
		fprintf(stderr, "bench_netns: write %s: %s\n", OUT_FILE, strerror(errno));
		goto cleanup;
	}
	printf("wrote %s\n", OUT_FILE);
	ret = 0;
cleanup:
	json_decref(root);
	json_decref(prev);
	return ret;
}
