// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * testbed/analysis/plot.c: saved runs (summary.csv + summary.json) in a temp dir are
 * read back and drawn; the PNG, SVG and gnuplot script are checked on disk.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/plot.h"
#include "support/support.h"
#include "tap.h"

static char tmp[64];

static void teardown(void)
{
	char cmd[128];

	if (!tmp[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "removing %s failed\n", tmp);
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mkdir(dir, 0755);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/* Whole file into a NUL-terminated buffer (caller frees); NULL on error. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[256], *buf = NULL;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n + 1);
		if (buf && fread(buf, 1, n, f) == (size_t)n) {
			buf[n] = '\0';
			if (len)
				*len = n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/*
 * Run 1: means 500 + 200 L us (+/-10 noise) for L = 0..8, an unknown
 * "series" column in the middle and columns in a different order than the
 * writer uses; the JSON carries the fit (slope 200 us/SF = 0.200 ms/SF).
 */
static const char run1_csv[] =
	"chain_length,series,probes,received,lost,loss_pct,median_us,mean_us,sem_us,p99_us,min_us,max_us\n"
	"0,bridge,1500,1500,0,0,495,510,4,700,400,900\n"
	"1,bridge,1500,1500,0,0,690,690,5,900,600,1100\n"
	"2,bridge,1500,1500,0,0,905,900,6,1100,800,1300\n"
	"3,bridge,1500,1500,0,0,1100,1110,5,1300,1000,1500\n"
	"4,bridge,1500,1500,0,0,1290,1290,7,1500,1200,1700\n"
	"5,bridge,1500,1500,0,0,1500,1500,6,1700,1400,1900\n"
	"6,bridge,1500,1500,0,0,1705,1710,8,1900,1600,2100\n"
	"7,bridge,1500,1500,0,0,1890,1890,9,2100,1800,2300\n"
	"8,bridge,1500,1500,0,0,2100,2100,9,2300,2000,2500\n";
static const char run1_json[] =
	"{ \"scenario\": \"chain8\", \"backend\": \"netns\", \"accelerator\": \"xdp\",\n"
	"  \"fit\": { \"slope_us\": 200.0, \"intercept_us\": 500.0, \"r2\": 0.9991 } }\n";

/*
 * Run 2, no fit in the JSON, an exact line 300 + 50 L at L = 0, 2, 4 and one
 * all-lost row (mean nan) that the fit must skip: slope 50, intercept 300.
 */
static const char run2_csv[] =
	"chain_length,probes,received,lost,loss_pct,mean_us,sem_us,median_us,p99_us,min_us,max_us\n"
	"0,100,100,0,0,300,2,300,310,290,320\n"
	"2,100,100,0,0,400,2,400,410,390,420\n"
	"4,100,100,0,0,500,2,500,510,490,520\n"
	"6,100,0,100,100,nan,nan,nan,nan,nan,nan\n";
static const char run2_json[] =
	"{ \"scenario\": \"chain6\", \"backend\": \"libvirt-tcg\", \"accelerator\": \"tc\" }\n";

/*
 * Run 3, two chains in one run, rows of the chains interleaved. Chain a:
 * means 50 + 10 L, but summary.json gives it slope 7 (the JSON wins). Chain
 * b: means exactly 100 + 20 L and a null fit in the JSON (computed). The
 * JSON lists b before a, so fits must be matched by name, not position.
 */
static const char run3_csv[] =
	"chain,chain_length,probes,received,lost,loss_pct,mean_us,sem_us,median_us,p99_us,min_us,max_us\n"
	"a,0,100,100,0,0,50,1,49,60,40,70\n"
	"b,0,100,100,0,0,100,2,99,110,90,120\n"
	"a,1,100,100,0,0,60,1,59,70,50,80\n"
	"b,1,100,100,0,0,120,2,119,130,110,140\n"
	"a,2,100,100,0,0,70,1,69,80,60,90\n"
	"b,2,100,100,0,0,140,2,139,150,130,160\n"
	"b,3,100,100,0,0,160,2,159,170,150,180\n";
static const char run3_json[] =
	"{ \"scenario\": \"two-chains\", \"backend\": \"netns\", \"accelerator\": \"none (no VM)\",\n"
	"  \"fit\": { \"slope_us\": 7.0, \"intercept_us\": 51.0, \"r2\": 0.5 },\n"
	"  \"chains\": [ { \"chain\": \"b\", \"spi\": 20, \"points\": [], \"fit\": null },\n"
	"              { \"chain\": \"a\", \"spi\": 10, \"points\": [],\n"
	"                \"fit\": { \"slope_us\": 7.0, \"intercept_us\": 51.0, \"r2\": 0.5 } } ] }\n";

static void test_multi(const char *d1, const char *d3, const char *outdir)
{
	struct plot_opts o = { .outdir = outdir };
	struct plot_series *v = NULL, one;
	char err[512] = "", *gp, *svg, missing[160];
	size_t n = 0;
	int r;

	r = plot_load_run_all(d1, &v, &n, err, sizeof(err));
	CHECK(r == 0 && n == 1 && v[0].n == 9 && !v[0].chain[0],
	      "all: a run without a chain column is one series (%d n=%zu %s)", r, n, err);
	r = plot_load_run_all(d3, &v, &n, err, sizeof(err));
	CHECK(r == 0 && n == 3, "all: a two-chain run appends two series (%d n=%zu %s)", r, n, err);
	if (n != 3) {
		plot_series_free_all(v, n);
		return;
	}
	CHECK(v[0].n == 9 && v[0].slope_us == 200, "all: the first run's series is intact");
	CHECK(!strcmp(v[1].chain, "a") && v[1].n == 3 && v[1].pts[2].length == 2 &&
	      v[1].pts[2].mean_us == 70 && v[1].pts[2].median_us == 69,
	      "all: chain a has its own 3 rows only (chain %s, n=%zu)", v[1].chain, v[1].n);
	CHECK(!strcmp(v[2].chain, "b") && v[2].n == 4 && v[2].pts[3].length == 3 &&
	      v[2].pts[3].mean_us == 160, "all: chain b has its own 4 rows only (chain %s, n=%zu)",
	      v[2].chain, v[2].n);
	CHECK(!strcmp(v[1].label, "two-chains a (run3)") && !strcmp(v[2].label, "two-chains b (run3)"),
	      "all: labels are \"<scenario> <chain> (<dir>)\" (%s | %s)", v[1].label, v[2].label);
	CHECK(v[1].slope_us == 7 && v[1].intercept_us == 51 && v[1].r2 == 0.5,
	      "all: chain a takes its own fit from chains[], matched by name (%g)", v[1].slope_us);
	CHECK(fabs(v[2].slope_us - 20) < 1e-9 && fabs(v[2].intercept_us - 100) < 1e-9,
	      "all: chain b's null fit is computed from b's means only (%g %g)", v[2].slope_us,
	      v[2].intercept_us);
	CHECK(!strcmp(v[2].backend, "netns") && !strcmp(v[2].scenario, "two-chains"),
	      "all: every chain's series carries the run's backend and scenario");

	snprintf(missing, sizeof(missing), "%s/nothing-here", tmp);
	r = plot_load_run_all(missing, &v, &n, err, sizeof(err));
	CHECK(r == -ENOENT && n == 3 && v[2].n == 4,
	      "all: a failing run appends nothing and keeps the vector (%d n=%zu)", r, n);

	r = plot_fig6(&o, v, n, err, sizeof(err));
	CHECK(r == 0, "all: three series from two runs are drawn (%d %s)", r, err);
	gp = slurp(outdir, "fig6.gp", NULL);
	CHECK(gp && strstr(gp, "index 2 using 1:2:3 with yerrorbars") && strstr(gp, "b1 = 0.007 ") &&
	      strstr(gp, "b2 = 0.02 "), "all: script has one block and one fit per chain");
	svg = slurp(outdir, "fig6.svg", NULL);
	CHECK(svg && strstr(svg, "two-chains a (run3)") && strstr(svg, "two-chains b (run3)") &&
	      strstr(svg, "0.020 ms/SF (20.0 µs/SF)"), "all: SVG legend names each chain and its slope");
	free(gp);
	free(svg);
	plot_series_free_all(v, n);

	r = plot_load_run(d3, &one, err, sizeof(err));
	CHECK(r == 0 && one.n == 3 && !strcmp(one.chain, "a") && one.slope_us == 7,
	      "one: plot_load_run keeps the first chain only, with its fit (n=%zu %s)", one.n,
	      one.chain);
	if (r == 0)
		plot_series_free(&one);
}

/*
 * Run 4, the multi-architecture format: an architecture column, one chain c1
 * under two architectures. The JSON fits differ per architecture (5 and 9
 * us/SF) for the same chain name, so they must be matched on both.
 */
static const char run4_csv[] =
	"architecture,chain,chain_length,probes,received,lost,loss_pct,mean_us,sem_us,median_us,p99_us,min_us,max_us\n"
	"cadeia-aberta,c1,0,100,100,0,0,10,1,10,12,8,14\n"
	"cadeia-aberta,c1,2,100,100,0,0,20,1,20,22,18,24\n"
	"phantomsfc,c1,0,100,100,0,0,11,1,11,12,8,14\n"
	"phantomsfc,c1,2,100,100,0,0,29,1,29,32,28,34\n"
	"phantomsfc,c1,4,100,100,0,0,47,1,47,52,48,54\n";
static const char run4_json[] =
	"{ \"scenario\": \"archs\", \"backend\": \"netns\", \"accelerator\": \"none (no VM)\",\n"
	"  \"fit\": { \"slope_us\": 5.0, \"intercept_us\": 10.0, \"r2\": 1 },\n"
	"  \"chains\": [ { \"architecture\": \"cadeia-aberta\", \"chain\": \"c1\",\n"
	"                \"fit\": { \"slope_us\": 5.0, \"intercept_us\": 10.0, \"r2\": 1 } },\n"
	"              { \"architecture\": \"phantomsfc\", \"chain\": \"c1\",\n"
	"                \"fit\": { \"slope_us\": 9.0, \"intercept_us\": 11.0, \"r2\": 1 } } ] }\n";

static void test_archs(const char *d4)
{
	struct plot_series *v = NULL;
	char err[512] = "";
	size_t n = 0;
	int r;

	r = plot_load_run_all(d4, &v, &n, err, sizeof(err));
	CHECK(r == 0 && n == 2, "archs: one series per architecture (%d n=%zu %s)", r, n, err);
	if (n == 2) {
		CHECK(!strcmp(v[0].architecture, "cadeia-aberta") && v[0].n == 2 &&
		      !strcmp(v[1].architecture, "phantomsfc") && v[1].n == 3 &&
		      v[1].pts[2].mean_us == 47, "archs: rows split by architecture (%zu, %zu)",
		      v[0].n, v[1].n);
		CHECK(!strcmp(v[0].label, "archs cadeia-aberta (run4)") &&
		      !strcmp(v[1].label, "archs phantomsfc (run4)"),
		      "archs: labels name the architecture, not the lone chain (%s | %s)",
		      v[0].label, v[1].label);
		CHECK(v[0].slope_us == 5 && v[1].slope_us == 9,
		      "archs: fits matched on architecture and chain (%g, %g)", v[0].slope_us,
		      v[1].slope_us);
	}
	plot_series_free_all(v, n);
}

static void test_load(struct plot_series *s1, struct plot_series *s2, const char *d1,
		      const char *d2)
{
	char err[512] = "";
	int r;

	r = plot_load_run(d1, s1, err, sizeof(err));
	CHECK(r == 0, "run 1 loads (%d %s)", r, err);
	CHECK(s1->n == 9 && s1->pts[3].length == 3 && s1->pts[3].mean_us == 1110 &&
	      s1->pts[3].sem_us == 5 && s1->pts[3].median_us == 1100,
	      "run 1: columns found by name, unknown column ignored (n=%zu)", s1->n);
	CHECK(s1->slope_us == 200 && s1->intercept_us == 500 && s1->r2 == 0.9991,
	      "run 1: fit taken from summary.json");
	CHECK(!strcmp(s1->backend, "netns") && !strcmp(s1->accel, "xdp") &&
	      strstr(s1->label, "chain8") && strstr(s1->label, "run1"),
	      "run 1: backend, accelerator and label (%s)", s1->label);

	r = plot_load_run(d2, s2, err, sizeof(err));
	CHECK(r == 0 && s2->n == 4 && isnan(s2->pts[3].mean_us), "run 2 loads, nan row kept (%d %s)",
	      r, err);
	CHECK(fabs(s2->slope_us - 50) < 1e-9 && fabs(s2->intercept_us - 300) < 1e-9 &&
	      fabs(s2->r2 - 1) < 1e-12, "run 2: fit computed from the means (%g %g %g)",
	      s2->slope_us, s2->intercept_us, s2->r2);
}

static void check_images(const char *dir, const char *what)
{
	static const unsigned char magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t len = 0;
	char *png, *svg;

	png = slurp(dir, "fig6.png", &len);
	CHECK(png && len > 1000 && !memcmp(png, magic, 8), "%s: PNG exists with PNG magic (%zu bytes)",
	      what, len);
	svg = slurp(dir, "fig6.svg", NULL);
	CHECK(svg && strstr(svg, "<svg") && strstr(svg, "</svg>"), "%s: SVG exists and is complete",
	      what);
	CHECK(svg && strstr(svg, "0.200 ms/SF (200.0 µs/SF)"),
	      "%s: SVG legend has run 1's slope in ms and us", what);
	CHECK(svg && strstr(svg, "backend"), "%s: SVG names the backend", what);
	free(png);
	free(svg);
}

static void test_plot(struct plot_series *s, const char *outdir)
{
	struct plot_opts o = { .outdir = outdir };
	char err[512] = "", *gp, *dat;
	int r;

	r = plot_fig6(&o, s, 1, err, sizeof(err));
	CHECK(r == 0, "one series: plot_fig6 runs (%d %s)", r, err);
	check_images(outdir, "one series");
	gp = slurp(outdir, "fig6.gp", NULL);
	CHECK(gp && strstr(gp, "a0 = 0.5; b0 = 0.2 ") &&
	      strstr(gp, "f0(x) = a0 + b0 * x") && strstr(gp, "f0(x) with lines"),
	      "one series: script defines and draws the fit line");
	CHECK(gp && strstr(gp, "backend: netns, accelerator: xdp"),
	      "one series: subtitle with backend and accelerator");
	dat = slurp(outdir, "fig6.dat", NULL);
	CHECK(dat && strstr(dat, "\n3 1.11 0.005 1.1\n"), "one series: data file in ms");
	free(gp);
	free(dat);
}

static void test_two(struct plot_series *s, const char *outdir)
{
	struct plot_opts o = { .outdir = outdir, .title = "two runs" };
	char err[512] = "", *gp, *svg;
	int r;

	r = plot_fig6(&o, s, 2, err, sizeof(err));
	CHECK(r == 0, "two series: plot_fig6 runs (%d %s)", r, err);
	check_images(outdir, "two series");
	gp = slurp(outdir, "fig6.gp", NULL);
	CHECK(gp && strstr(gp, "f1(x) = a1 + b1 * x") && strstr(gp, "b1 = 0.05 ") &&
	      strstr(gp, "index 1 using 1:2:3 with yerrorbars"),
	      "two series: second series has its own points, bars and line");
	svg = slurp(outdir, "fig6.svg", NULL);
	CHECK(svg && strstr(svg, "0.050 ms/SF (50.0 µs/SF)") && strstr(svg, "libvirt-tcg"),
	      "two series: SVG legend has both slopes and per-series backends");
	free(gp);
	free(svg);
}

static void test_errors(void)
{
	struct plot_series s;
	char dir[128], err[512] = "";
	int r;

	snprintf(dir, sizeof(dir), "%s/missing", tmp);
	r = plot_load_run(dir, &s, err, sizeof(err));
	CHECK(r == -ENOENT && strstr(err, "summary.csv"), "missing run: -ENOENT naming the file (%s)",
	      err);

	snprintf(dir, sizeof(dir), "%s/bad", tmp);
	write_file(dir, "summary.csv", "chain_length,probes,median_us\n0,1,2\n");
	r = plot_load_run(dir, &s, err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "mean_us"), "header without mean_us: -EINVAL (%s)", err);

	write_file(dir, "summary.csv", run2_csv);
	write_file(dir, "summary.json", "{ \"fit\": ");
	r = plot_load_run(dir, &s, err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "summary.json"), "broken JSON: -EINVAL (%s)", err);
}

/*
 * A label from a saved run is outside text: with a newline it used to end a
 * comment of the script and gnuplot ran what followed. It must reach gnuplot
 * only inside a single-quoted string, whatever it holds.
 */
static void test_hostile(const char *outdir)
{
	struct plot_point pts[] = { { 0, 300, 2, 300 }, { 2, 400, 2, 400 } };
	struct plot_series h = { .pts = pts, .n = 2, .slope_us = 50, .intercept_us = 300,
				 .r2 = 1, .slope_lo_us = NAN, .slope_hi_us = NAN };
	struct plot_opts o = { .outdir = outdir };
	char err[512] = "", marker[160], *gp, *line;
	int r, escaped = 0;

	snprintf(marker, sizeof(marker), "%s/../marker", outdir);
	snprintf(h.label, sizeof(h.label), "a\nsystem(\"touch %s\")\n#`touch %s`'$x@y\\", marker, marker);
	snprintf(h.backend, sizeof(h.backend), "netns\nsystem(\"touch %s\")", marker);
	r = plot_fig6(&o, &h, 1, err, sizeof(err));
	CHECK(r == 0 && access(marker, F_OK) < 0, "hostile label: plotted, and gnuplot ran nothing (%d %s)",
	      r, err);
	gp = slurp(outdir, "fig6.gp", NULL);
	/* Every line holding the label's text has it inside quotes, '' doubled. */
	for (line = gp ? strtok(gp, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "system", 6) == 0 || strncmp(line, "#`", 2) == 0)
			escaped = -1;
		if (escaped >= 0 && strstr(line, "'asystem(\"touch ") && strstr(line, "`''$x@y\\"))
			escaped++;
	}
	CHECK(gp && escaped == 2, "hostile label: only in single-quoted titles, newlines dropped (%d)",
	      escaped);
	free(gp);
	o.name = "fig\n6";
	r = plot_fig6(&o, &h, 1, err, sizeof(err));
	CHECK(r == -EINVAL, "an output name with a newline is refused (%d)", r);
}

int main(void)
{
	struct plot_series s[2];
	char d1[128], d2[128], d3[128], d4[128], out1[128], out2[128], out3[128];

	tap_plan(46);
	snprintf(tmp, sizeof(tmp), "/tmp/cbtD-plot.XXXXXX");
	if (!CHECK(mkdtemp(tmp), "temp dir %s", tmp)) {
		tmp[0] = '\0';
		return tap_done();
	}
	atexit(teardown);
	snprintf(d1, sizeof(d1), "%s/run1", tmp);
	snprintf(d2, sizeof(d2), "%s/run2/", tmp); /* trailing slash on purpose */
	snprintf(out1, sizeof(out1), "%s/run1/plots", tmp);
	snprintf(out2, sizeof(out2), "%s/both/plots", tmp);
	snprintf(d3, sizeof(d3), "%s/run3", tmp);
	snprintf(d4, sizeof(d4), "%s/run4", tmp);
	snprintf(out3, sizeof(out3), "%s/multi/plots", tmp);
	write_file(d1, "summary.csv", run1_csv);
	write_file(d1, "summary.json", run1_json);
	write_file(d2, "summary.csv", run2_csv);
	write_file(d2, "summary.json", run2_json);
	write_file(d3, "summary.csv", run3_csv);
	write_file(d3, "summary.json", run3_json);
	write_file(d4, "summary.csv", run4_csv);
	write_file(d4, "summary.json", run4_json);

	test_load(&s[0], &s[1], d1, d2);
	if (s[0].n && s[1].n) {
		test_plot(&s[0], out1);
		test_two(s, out2);
	}
	test_multi(d1, d3, out3);
	test_archs(d4);
	test_errors();
	snprintf(out1, sizeof(out1), "%s/hostile/plots", tmp);
	test_hostile(out1);
	plot_series_free(&s[0]);
	plot_series_free(&s[1]);
	return tap_done();
}
