// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Figure 6 plots through gnuplot, and the reader for saved runs; see plot.h. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/errmsg.h"
#include "analysis/plot.h"
#include "analysis/stats.h"

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t i, len = strlen(dir);

	if (len >= sizeof(path)) {
		set_err(err, errlen, "plot directory %s: %s", dir, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int r = -errno;

			set_err(err, errlen, "plot directory %s: mkdir %s: %s", dir, path,
				strerror(-r));
			return r;
		}
		path[i] = dir[i];
	}
	return 0;
}

/*
 * The only way text from outside (a run's scenario name, its directory's
 * name, a title, a file name) reaches a gnuplot script: as a single-quoted
 * string, where gnuplot expands neither `backquotes`, @macros nor
 * backslashes, '' is the only escape, and control characters (a newline
 * would end the command) are dropped. Never print such text in a comment.
 */
static void gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", f);
		else if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void gp_fmt(FILE *f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gp_str(f, buf);
}

/* Text for a comment of a data file: control characters dropped. */
static void put_clean(FILE *f, const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			fputc(*s, f);
}

/* An output name becomes file names inside the script: no '/', no control characters. */
static int bad_name(const char *name)
{
	for (const char *c = name; *c; c++)
		if (*c == '/' || (unsigned char)*c < 0x20 || *c == 0x7f)
			return 1;
	return !*name;
}

static int same_context(const struct plot_series *s, size_t ns)
{
	size_t i;

	for (i = 1; i < ns; i++)
		if (strcmp(s[i].backend, s[0].backend) || strcmp(s[i].accel, s[0].accel))
			return 0;
	return 1;
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "unknown";
}

static int write_data(const char *path, const struct plot_series *s, size_t ns,
		      char *err, size_t errlen)
{
	FILE *f;
	size_t i, j;
	int ret = -1;

	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		set_err(err, errlen, "plot data %s: %s", path, strerror(-ret));
		return ret;
	}
	fprintf(f, "# cadeia-bench figure 6 data: one block per series (gnuplot index).\n"
		   "# chain_length mean_ms sem_ms median_ms\n");
	for (i = 0; i < ns; i++) {
		fprintf(f, "%s# series %zu: ", i ? "\n\n" : "", i);
		put_clean(f, s[i].label);
		fputc('\n', f);
		for (j = 0; j < s[i].n; j++) {
			const struct plot_point *p = &s[i].pts[j];

			fprintf(f, "%g %.9g %.9g %.9g\n", p->length, p->mean_us / 1000.0,
				isfinite(p->sem_us) ? p->sem_us / 1000.0 : 0.0,
				p->median_us / 1000.0);
		}
	}
	if (ferror(f) | fclose(f)) {
		ret = -EIO;
		set_err(err, errlen, "plot data %s: write failed", path);
		return ret;
	}
	return 0;
}

/* A slope interval to draw (see plot.h). */
static int has_band(const struct plot_series *s)
{
	return isfinite(s->slope_us) && isfinite(s->slope_lo_us) && isfinite(s->slope_hi_us) &&
	       s->slope_hi_us > s->slope_lo_us;
}

static void plot_cmd(FILE *f, const char *dat, const struct plot_series *s, size_t ns,
		     int shared)
{
	size_t i;

	fputs("plot \\\n", f);
	for (i = 0; i < ns; i++) {
		char label[256];

		if (shared)
			snprintf(label, sizeof(label), "%s", s[i].label);
		else
			snprintf(label, sizeof(label), "%s [%s, %s]", s[i].label,
				 or_unknown(s[i].backend), or_unknown(s[i].accel));
		fputs("  ", f);
		gp_str(f, dat);
		fprintf(f, " index %zu using 1:2:3 with yerrorbars lt %zu pt 7 ps 1.1 title ", i, i + 1);
		gp_fmt(f, "%s: mean ± SE", label);
		fputs(", \\\n  ", f);
		gp_str(f, dat);
		fprintf(f, " index %zu using 1:4 with points lt %zu pt 6 ps 0.9 title ", i, i + 1);
		gp_fmt(f, "%s: median", label);
		if (has_band(&s[i]))
			fprintf(f, ", \\\n  '+' using 1:(lo%zu($1)):(hi%zu($1)) with filledcurves lt %zu fs transparent solid 0.15 noborder notitle",
				i, i, i + 1);
		if (has_band(&s[i]) && isfinite(s[i].intercept_us)) {
			fprintf(f, ", \\\n  f%zu(x) with lines lt %zu dt 2 lw 1.5 title ", i, i + 1);
			gp_fmt(f, "fit: %.3f ms/SF (%.1f µs/SF, 95%% CI %.1f to %.1f), R² = %.3f",
			       s[i].slope_us / 1000.0, s[i].slope_us, s[i].slope_lo_us,
			       s[i].slope_hi_us, s[i].r2);
		} else if (isfinite(s[i].slope_us) && isfinite(s[i].intercept_us)) {
			fprintf(f, ", \\\n  f%zu(x) with lines lt %zu dt 2 lw 1.5 title ", i, i + 1);
			gp_fmt(f, "fit: %.3f ms/SF (%.1f µs/SF), R² = %.3f",
			       s[i].slope_us / 1000.0, s[i].slope_us, s[i].r2);
		}
		fputs(i + 1 < ns ? ", \\\n" : "\n", f);
	}
}

/* a<i>, b<i>, f<i>(x): each series' fit line, and lo<i>/hi<i> for its slope interval. */
static void write_fits(FILE *f, const struct plot_series *s, size_t ns)
{
	size_t i, j;

	for (i = 0; i < ns; i++) {
		if (!isfinite(s[i].slope_us) || !isfinite(s[i].intercept_us))
			continue;
		fprintf(f, "a%zu = %.9g; b%zu = %.9g  # series %zu, R² = %.4f\n", i,
			s[i].intercept_us / 1000.0, i, s[i].slope_us / 1000.0, i, s[i].r2);
		fprintf(f, "f%zu(x) = a%zu + b%zu * x\n", i, i, i);
		if (has_band(&s[i])) {
			double cx = 0;
			size_t nx = 0;

			/* The fit goes through the centroid: slopes lo and hi pivot there. */
			for (j = 0; j < s[i].n; j++)
				if (isfinite(s[i].pts[j].mean_us)) {
					cx += s[i].pts[j].length;
					nx++;
				}
			cx = nx ? cx / (double)nx : 0;
			fprintf(f, "# 95 %% interval of the slope: lines through (%g, f%zu(%g))\n"
				   "lo%zu(x) = f%zu(%g) + %.9g * (x - %g)\n"
				   "hi%zu(x) = f%zu(%g) + %.9g * (x - %g)\n",
				cx, i, cx, i, i, cx, s[i].slope_lo_us / 1000.0, cx, i, i, cx,
				s[i].slope_hi_us / 1000.0, cx);
		}
	}
}

static int write_script(const char *path, const char *name, const char *title,
			const struct plot_series *s, size_t ns, char *err, size_t errlen)
{
	double xmin = INFINITY, xmax = -INFINITY;
	int shared = same_context(s, ns);
	char dat[PATH_MAX];
	size_t i, j;
	FILE *f;

	snprintf(dat, sizeof(dat), "%s.dat", name);
	for (i = 0; i < ns; i++)
		for (j = 0; j < s[i].n; j++) {
			xmin = fmin(xmin, s[i].pts[j].length);
			xmax = fmax(xmax, s[i].pts[j].length);
		}
	if (!isfinite(xmin)) {
		xmin = 0;
		xmax = 1;
	}

	f = fopen(path, "w");
	if (!f) {
		int r = -errno;

		set_err(err, errlen, "plot script %s: %s", path, strerror(-r));
		return r;
	}
	fprintf(f, "# Figure 6 (Cadeia-Aberta, SBRC 2019): mean RTT against chain length.\n"
		   "# Written by cadeia-bench; edit and rerun gnuplot on it in this directory.\n"
		   "# Data: the .dat beside it, one block per series (its comments name them):\n"
		   "# chain_length mean_ms sem_ms median_ms\n"
		   "set encoding utf8\n\n"
		   "# Least-squares fit per series, in ms: f<i>(x) = a<i> + b<i> * x\n");
	write_fits(f, s, ns);
	fputs("\nset title ", f);
	gp_str(f, title);
	fputs(".\"\\n\".", f);
	if (shared)
		gp_fmt(f, "backend: %s, accelerator: %s", or_unknown(s[0].backend),
		       or_unknown(s[0].accel));
	else
		gp_str(f, "backend and accelerator per series");
	fputs("\n", f);
	fprintf(f, "set xlabel 'Chain length (SFs)'\n"
		   "set ylabel 'Mean RTT (ms)'\n"
		   "set xrange [%g:%g]\n"
		   "set xtics 1\n"
		   "set yrange [0:*]\n"
		   "set grid\n"
		   "set key top left box opaque\n"
		   "set bars 2\n\n",
		xmin - 0.5, xmax + 0.5);

	fprintf(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
		   "  set terminal pngcairo size 1024,720 noenhanced font 'Sans,11'\n"
		   "} else {\n"
		   "  set terminal png size 1024,720 noenhanced\n"
		   "}\n"
		   "set output ");
	gp_fmt(f, "%s.png", name);
	fputs("\n", f);
	plot_cmd(f, dat, s, ns, shared);
	fprintf(f, "unset output\n\n"
		   "set terminal svg size 1024,720 dynamic noenhanced font 'Sans,11'\n"
		   "set output ");
	gp_fmt(f, "%s.svg", name);
	fputs("\nreplot\nunset output\n", f);

	if (ferror(f) | fclose(f)) {
		set_err(err, errlen, "plot script %s: write failed", path);
		return -EIO;
	}
	return 0;
}

/* Runs "gnuplot <name>.gp" inside outdir, stderr into <name>.log. */
static int run_gnuplot(const char *outdir, const char *name, char *err, size_t errlen)
{
	char script[PATH_MAX], log[PATH_MAX];
	int status, ret = -1;
	pid_t pid;

	snprintf(script, sizeof(script), "%s.gp", name);
	snprintf(log, sizeof(log), "%s.log", name);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		set_err(err, errlen, "gnuplot for %s/%s: fork: %s", outdir, script, strerror(-ret));
		return ret;
	}
	if (!pid) {
		int fd;

		if (chdir(outdir) < 0)
			_exit(126);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			set_err(err, errlen, "gnuplot for %s/%s: waitpid: %s", outdir, script,
				strerror(-ret));
			return ret;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		set_err(err, errlen, "gnuplot for %s/%s: gnuplot not found (install gnuplot-nox)",
			outdir, script);
		return -ENOENT;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		set_err(err, errlen, "gnuplot %s/%s failed (status %d): see %s/%s", outdir,
			script, status, outdir, log);
		return -EIO;
	}
	return 0;
}

static int check_output(const char *outdir, const char *name, const char *ext,
			char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.%s", outdir, name, ext);
	if (stat(path, &st) < 0 || !st.st_size) {
		set_err(err, errlen, "plot %s: gnuplot wrote nothing: see %s/%s.log", path,
			outdir, name);
		return -EIO;
	}
	return 0;
}

/* Writes script and data, runs gnuplot, checks both images exist. */
static int render(const char *outdir, const char *name, char *err, size_t errlen)
{
	const char *ext[] = { "png", "svg" };
	char path[PATH_MAX];
	int r;

	/* Stale images would hide a failed run. */
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", outdir, name, ext[i]);
		unlink(path);
	}
	if ((r = run_gnuplot(outdir, name, err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < 2; i++)
		if ((r = check_output(outdir, name, ext[i], err, errlen)) < 0)
			return r;
	return 0;
}

int plot_fig6(const struct plot_opts *o, const struct plot_series *s, size_t ns,
	      char *err, size_t errlen)
{
	const char *name = o->name ? o->name : PLOT_NAME_DEFAULT;
	const char *title = o->title ? o->title :
		"Cadeia-Aberta figure 6: RTT against SFC length";
	char path[PATH_MAX];
	int r;

	if (!ns || !o->outdir || bad_name(name)) {
		set_err(err, errlen, "plot %s: need an output directory, a plain file name and "
			"at least one series (%zu given)", name, ns);
		return -EINVAL;
	}
	r = mkdir_p(o->outdir, err, errlen);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "%s/%s.dat", o->outdir, name);
	r = write_data(path, s, ns, err, errlen);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s.gp", o->outdir, name);
	r = write_script(path, name, title, s, ns, err, errlen);
	if (r < 0)
		return r;
	return render(o->outdir, name, err, errlen);
	return 0;
}

/* The load and throughput figures' PNG terminal: cairo's when gnuplot has it. */
#define GP_PNG_TERMINAL                                                       \
	"if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"                   \
	"  set terminal pngcairo size 1024,720 noenhanced font 'Sans,11'\n"    \
	"} else {\n  set terminal png size 1024,720 noenhanced\n}\n"

/* Opens the script and writes it up to "plot ": what it draws, the title,
 * the axes (gnuplot "set" lines) and the PNG output <name>.png. */
static int gp_begin(const char *path, FILE **f, const char *what, const char *title,
		    const char *axes, const char *name, char *err, size_t errlen)
{
	int r;

	if (!(*f = fopen(path, "w"))) {
		r = -errno;
		set_err(err, errlen, "plot script %s: %s", path, strerror(-r));
		return r;
	}
	fprintf(*f, "# %s, written by cadeia-bench.\nset encoding utf8\nset title ", what);
	gp_str(*f, title);
	fprintf(*f, "\n%s" GP_PNG_TERMINAL "set output ", axes);
	gp_fmt(*f, "%s.png", name);
	fputs("\nplot ", *f);
	return 0;
}

/* The same plot again as <name>.svg, and the script closed; -EIO if it was not written. */
static int gp_svg_close(FILE *f, const char *name, const char *path, char *err, size_t errlen)
{
	fputs("\nunset output\nset terminal svg size 1024,720 dynamic noenhanced font 'Sans,11'\n"
	      "set output ", f);
	gp_fmt(f, "%s.svg", name);
	fputs("\nreplot\nunset output\n", f);
	if (ferror(f) | fclose(f)) {
		set_err(err, errlen, "plot script %s: write failed", path);
		return -EIO;
	}
	return 0;
}

/* The script of the load figure: p50 and p99 lines per series. */
static int write_load_script(const char *path, const struct plot_opts *o, const char *name,
			     const char *const *series, size_t ns, char *err, size_t errlen)
{
	FILE *f;
	int r;

	r = gp_begin(path, &f, "RTT under background load (p50 solid, p99 dashed)",
		     o->title ? o->title : "RTT under background load",
		     "set xlabel 'Background load (% of the 64-byte no-drop rate)'\n"
		     "set ylabel 'RTT (µs)'\nset xrange [-5:105]\nset yrange [0:*]\nset grid\n"
		     "set key top left box opaque\n", name, err, errlen);
	if (r < 0)
		return r;
	for (size_t k = 0; k < ns; k++) {
		fputs(k ? ", \\\n     " : "", f);
		gp_fmt(f, "%s.dat", name);
		fprintf(f, " index %zu using 1:2 with linespoints lc %zu lw 2 title ", k, k + 1);
		gp_fmt(f, "%s p50", series[k]);
		fputs(", \\\n     ", f);
		gp_fmt(f, "%s.dat", name);
		fprintf(f, " index %zu using 1:3 with linespoints lc %zu dt 2 title ", k, k + 1);
		gp_fmt(f, "%s p99", series[k]);
	}
	return gp_svg_close(f, name, path, err, errlen);
}

/*
 * The series figures (load, throughput): points carry their series' name
 * first; <outdir>/<name>.dat gets a block per series, its rows written by row.
 */
struct series_dat {
	const char *name, *header;
	const void *pts; /* n points of size stride, each starting with char series[] */
	size_t n, stride;
	void (*row)(FILE *f, const void *pt);
	const char *series[16];
	size_t ns;
};

_Static_assert(offsetof(struct plot_load_point, series) == 0, "series first");
_Static_assert(offsetof(struct plot_tput_point, series) == 0, "series first");

static const char *pt_series(const struct series_dat *d, size_t i)
{
	return (const char *)d->pts + i * d->stride;
}

static int write_series_dat(const struct plot_opts *o, struct series_dat *d, char *err,
			    size_t errlen)
{
	char path[PATH_MAX];
	FILE *f;
	int r;

	if (!d->n || !o->outdir || bad_name(d->name)) {
		set_err(err, errlen, "plot %s: need an output directory, a plain file name and points",
			d->name);
		return -EINVAL;
	}
	if ((r = mkdir_p(o->outdir, err, errlen)) < 0)
		return r;
	d->ns = 0;
	for (size_t i = 0; i < d->n; i++) {
		size_t k;

		for (k = 0; k < d->ns && strcmp(d->series[k], pt_series(d, i)); k++)
			;
		if (k == d->ns && d->ns < 16)
			d->series[d->ns++] = pt_series(d, i);
	}
	snprintf(path, sizeof(path), "%s/%s.dat", o->outdir, d->name);
	if (!(f = fopen(path, "w"))) {
		r = -errno;
		set_err(err, errlen, "plot data %s: %s", path, strerror(-r));
		return r;
	}
	fprintf(f, "%s\n", d->header);
	for (size_t k = 0; k < d->ns; k++) {
		fputs("# ", f);
		put_clean(f, d->series[k]);
		fputs("\n", f);
		for (size_t i = 0; i < d->n; i++)
			if (!strcmp(pt_series(d, i), d->series[k]))
				d->row(f, (const char *)d->pts + i * d->stride);
		fprintf(f, "\n\n");
	}
	if (ferror(f) | fclose(f)) {
		set_err(err, errlen, "plot data %s: write failed", path);
		return -EIO;
	}
	return 0;
}

/* <name>.dat, the script <name>.gp that script writes, and the figures rendered from it. */
static int series_figure(const struct plot_opts *o, struct series_dat *d,
			 int (*script)(const char *path, const struct plot_opts *o, const char *name,
				       const char *const *series, size_t ns, char *err,
				       size_t errlen),
			 char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r;

	if ((r = write_series_dat(o, d, err, errlen)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s.gp", o->outdir, d->name);
	if ((r = script(path, o, d->name, d->series, d->ns, err, errlen)) < 0)
		return r;
	return render(o->outdir, d->name, err, errlen);
}

static void load_row(FILE *f, const void *pt)
{
	const struct plot_load_point *p = pt;

	fprintf(f, "%g %.3f %.3f\n", p->level_pct, p->p50_us, p->p99_us);
}

int plot_load(const struct plot_opts *o, const struct plot_load_point *p, size_t n, char *err,
	      size_t errlen)
{
	struct series_dat d = { .name = o->name ? o->name : "load",
				.header = "# level_pct p50_us p99_us, one block per series",
				.pts = p, .n = n, .stride = sizeof(*p), .row = load_row };

	return series_figure(o, &d, write_load_script, err, errlen);
}

/* ---- TCP goodput against chain length -------------------------------------- */

static int write_tput_script(const char *path, const struct plot_opts *o, const char *name,
			     const char *const *series, size_t ns, char *err, size_t errlen)
{
	FILE *f;
	int r;

	r = gp_begin(path, &f, "TCP goodput against chain length",
		     o->title ? o->title : "TCP goodput against chain length",
		     "set xlabel 'Chain length (SFs)'\nset ylabel 'Goodput (Mbit/s)'\n"
		     "set xtics 1\nset yrange [0:*]\nset grid\nset key top right box opaque\n",
		     name, err, errlen);
	if (r < 0)
		return r;
	for (size_t k = 0; k < ns; k++) {
		fputs(k ? ", \\\n     " : "", f);
		gp_fmt(f, "%s.dat", name);
		fprintf(f, " index %zu using 1:2 with linespoints lc %zu lw 2 pt 7 title ", k, k + 1);
		gp_str(f, series[k]);
	}
	return gp_svg_close(f, name, path, err, errlen);
}

static void tput_row(FILE *f, const void *pt)
{
	const struct plot_tput_point *p = pt;

	fprintf(f, "%g %.3f\n", p->length, p->goodput_mbps);
}

int plot_throughput(const struct plot_opts *o, const struct plot_tput_point *p, size_t n,
		    char *err, size_t errlen)
{
	struct series_dat d = { .name = o->name ? o->name : "throughput",
				.header = "# chain_length goodput_mbps, one block per series",
				.pts = p, .n = n, .stride = sizeof(*p), .row = tput_row };

	return series_figure(o, &d, write_tput_script, err, errlen);
}

/* ---- reading a saved run -------------------------------------------------- */

/* Splits a CSV line in place (plain fields, optional double quotes). */
static size_t csv_split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		if (*p == '"') {
			char *q = strchr(++p, '"');

			f[n++] = p;
			if (!q)
				break;
			*q = '\0';
			p = q + 1;
			p = strchr(p, ',');
			if (!p)
				break;
			p++;
			continue;
		}
		f[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

static double field_num(char **f, size_t nf, int col)
{
	char *end;
	double v;

	if (col < 0 || (size_t)col >= nf || !*f[col])
		return NAN;
	v = strtod(f[col], &end);
	return end == f[col] ? NAN : v;
}

#define CSV_MAX_COLS 64

/* One summary.csv row; arch and chain are "" without their columns. */
struct csv_row {
	char arch[32];
	char chain[64];
	struct plot_point p;
};

static int same_group(const struct csv_row *a, const struct csv_row *b)
{
	return !strcmp(a->arch, b->arch) && !strcmp(a->chain, b->chain);
}

static int load_csv(const char *path, struct csv_row **rows, size_t *nrows,
		    char *err, size_t errlen)
{
	int c_arch = -1, c_chain = -1, c_len = -1, c_mean = -1, c_sem = -1, c_med = -1;
	char *line = NULL, *f[CSV_MAX_COLS];
	size_t cap = 0, nf, i, lineno = 1;
	struct csv_row *v = NULL;
	size_t n = 0;
	FILE *fp;
	int ret = -1;

	fp = fopen(path, "r");
	if (!fp) {
		ret = -errno;
		set_err(err, errlen, "run summary %s: %s", path, strerror(-ret));
		return ret;
	}
	if (getline(&line, &cap, fp) < 0) {
		set_err(err, errlen, "run summary %s: empty file", path);
		ret = -EINVAL;
		goto cleanup;
	}
	nf = csv_split(line, f, CSV_MAX_COLS);
	for (i = 0; i < nf; i++) {
		if (!strcmp(f[i], "architecture"))
			c_arch = i;
		else if (!strcmp(f[i], "chain"))
			c_chain = i;
		else if (!strcmp(f[i], "chain_length"))
			c_len = i;
		else if (!strcmp(f[i], "mean_us"))
			c_mean = i;
		else if (!strcmp(f[i], "sem_us"))
			c_sem = i;
		else if (!strcmp(f[i], "median_us"))
			c_med = i;
	}
	if (c_len < 0 || c_mean < 0 || c_sem < 0) {
		set_err(err, errlen, "run summary %s: header lacks %s", path,
			c_len < 0 ? "chain_length" : c_mean < 0 ? "mean_us" : "sem_us");
		ret = -EINVAL;
		goto cleanup;
	}

	while (getline(&line, &cap, fp) >= 0) {
		struct csv_row *nv, r = { .arch = "", .chain = "" };

		lineno++;
		if (!line[strspn(line, " \t\r\n")])
			continue;
		nf = csv_split(line, f, CSV_MAX_COLS);
		r.p.length = field_num(f, nf, c_len);
		r.p.mean_us = field_num(f, nf, c_mean);
		r.p.sem_us = field_num(f, nf, c_sem);
		r.p.median_us = field_num(f, nf, c_med);
		if (c_arch >= 0 && (size_t)c_arch < nf)
			snprintf(r.arch, sizeof(r.arch), "%s", f[c_arch]);
		if (c_chain >= 0 && (size_t)c_chain < nf)
			snprintf(r.chain, sizeof(r.chain), "%s", f[c_chain]);
		if (!isfinite(r.p.length)) {
			set_err(err, errlen, "run summary %s:%zu: chain_length is not a number",
				path, lineno);
			ret = -EINVAL;
			goto cleanup;
		}
		nv = realloc(v, (n + 1) * sizeof(*nv));
		if (!nv) {
			set_err(err, errlen, "run summary %s: %s", path, strerror(ENOMEM));
			ret = -ENOMEM;
			goto cleanup;
		}
		v = nv;
		v[n++] = r;
	}
	if (!n) {
		set_err(err, errlen, "run summary %s: no rows", path);
		ret = -EINVAL;
		goto cleanup;
	}
	*rows = v;
	*nrows = n;
	v = NULL;
	ret = 0;

cleanup:
	free(v);
	free(line);
	fclose(fp);
	return ret;
}

static void copy_str(char *dst, size_t len, json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	if (v)
		snprintf(dst, len, "%s", v);
}

/* summary.json is optional: *root stays NULL when the file does not exist. */
static int load_json(const char *path, json_t **root, char *err, size_t errlen)
{
	json_error_t jerr;

	*root = json_load_file(path, 0, &jerr);
	if (*root)
		return 0;
	if (access(path, F_OK) < 0)
		return 0;
	set_err(err, errlen, "run summary %s:%d: %s", path, jerr.line, jerr.text);
	return -EINVAL;
}

static int take_fit(struct plot_series *s, json_t *fit)
{
	json_t *slope = json_object_get(fit, "slope_us");
	json_t *icpt = json_object_get(fit, "intercept_us");
	json_t *r2 = json_object_get(fit, "r2"), *ci;

	if (!json_is_number(slope) || !json_is_number(icpt))
		return 0;
	s->slope_us = json_number_value(slope);
	s->intercept_us = json_number_value(icpt);
	s->r2 = json_is_number(r2) ? json_number_value(r2) : NAN;
	ci = json_object_get(fit, "slope_ci95_us");
	if (json_array_size(ci) == 2) {
		s->slope_lo_us = json_number_value(json_array_get(ci, 0));
		s->slope_hi_us = json_number_value(json_array_get(ci, 1));
	}
	return 1;
}

/* The fit summary.json has for this series, if any. */
static int json_fit(struct plot_series *s, json_t *root, int multi)
{
	json_t *chains = json_object_get(root, "chains"), *c;
	size_t i;

	if (!multi)
		return take_fit(s, json_object_get(root, "fit"));
	json_array_foreach(chains, i, c) {
		const char *name = json_string_value(json_object_get(c, "chain"));
		const char *arch = json_string_value(json_object_get(c, "architecture"));

		/* Runs before multi-architecture support have no "architecture". */
		if (name && !strcmp(name, s->chain) && (!arch || !strcmp(arch, s->architecture)))
			return take_fit(s, json_object_get(c, "fit"));
	}
	return 0;
}

/* Least squares through the means; too few points is not fatal (no line). */
static int fit_means(struct plot_series *s, const char *dir, char *err, size_t errlen)
{
	struct stats_fit fit;
	double *x, *y;
	size_t i, n = 0;

	x = calloc(s->n, sizeof(*x));
	y = calloc(s->n, sizeof(*y));
	if (!x || !y) {
		free(x);
		free(y);
		set_err(err, errlen, "run %s: %s", dir, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++) {
		if (!isfinite(s->pts[i].mean_us))
			continue;
		x[n] = s->pts[i].length;
		y[n++] = s->pts[i].mean_us;
	}
	if (!stats_linfit(x, y, n, &fit, NULL, 0)) {
		s->slope_us = fit.slope;
		s->intercept_us = fit.intercept;
		s->r2 = fit.r2;
	}
	free(x);
	free(y);
	return 0;
}

static void dir_base(const char *dir, char *base, size_t len)
{
	char tmp[PATH_MAX], *b;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	while (strlen(tmp) > 1 && tmp[strlen(tmp) - 1] == '/')
		tmp[strlen(tmp) - 1] = '\0';
	b = strrchr(tmp, '/');
	b = b && b[1] ? b + 1 : tmp;
	snprintf(base, len, "%s", b);
}

/* How one run's series are named: which of architecture and chain vary. */
struct run_shape {
	int archs, chains; /* distinct values in summary.csv */
};

/* Fills s with the rows of group g (all rows when g is NULL). */
static int build_series(struct plot_series *s, const char *dir, const char *base,
			const struct csv_row *rows, size_t nrows, const struct csv_row *g,
			const struct run_shape *shape, json_t *root, char *err, size_t errlen)
{
	int multi = shape->archs > 1 || shape->chains > 1;
	char what[128] = "";
	size_t i;

	memset(s, 0, sizeof(*s));
	s->slope_us = s->intercept_us = s->r2 = NAN;
	snprintf(s->architecture, sizeof(s->architecture), "%s", g ? g->arch : rows[0].arch);
	snprintf(s->chain, sizeof(s->chain), "%s", g ? g->chain : rows[0].chain);
	s->pts = calloc(nrows, sizeof(*s->pts));
	if (!s->pts) {
		set_err(err, errlen, "run %s: %s", dir, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0; i < nrows; i++)
		if (!g || same_group(&rows[i], g))
			s->pts[s->n++] = rows[i].p;

	copy_str(s->backend, sizeof(s->backend), root, "backend");
	copy_str(s->accel, sizeof(s->accel), root, "accelerator");
	copy_str(s->scenario, sizeof(s->scenario), root, "scenario");
	if (shape->archs > 1)
		snprintf(what, sizeof(what), " %.31s", s->architecture);
	if (shape->chains > 1)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " %.31s", s->chain);
	if (s->scenario[0] || multi)
		snprintf(s->label, sizeof(s->label), "%.50s%s (%.40s)", s->scenario,
			 s->scenario[0] ? what : what + 1, base);
	else
		snprintf(s->label, sizeof(s->label), "%.120s", base);

	if (json_fit(s, root, multi))
		return 0;
	return fit_means(s, dir, err, errlen);
}

void plot_series_free_all(struct plot_series *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		plot_series_free(&v[i]);
	free(v);
}

int plot_load_run_all(const char *dir, struct plot_series **v, size_t *n,
		      char *err, size_t errlen)
{
	char path[PATH_MAX], base[PATH_MAX];
	const struct csv_row **groups = NULL;
	struct run_shape shape = { 0, 0 };
	struct plot_series *nv;
	struct csv_row *rows = NULL;
	size_t nrows = 0, ng = 0, added = 0, i, j;
	json_t *root = NULL;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	if ((ret = load_csv(path, &rows, &nrows, err, errlen)) < 0)
		goto cleanup;
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	if ((ret = load_json(path, &root, err, errlen)) < 0)
		goto cleanup;
	dir_base(dir, base, sizeof(base));

	/* Distinct (architecture, chain) groups, in order of first appearance. */
	groups = calloc(nrows, sizeof(*groups));
	if (!groups) {
		set_err(err, errlen, "run %s: %s", dir, strerror(ENOMEM));
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < nrows; i++) {
		int new_arch = 1, new_chain = 1;

		for (j = 0; j < ng && !same_group(groups[j], &rows[i]); j++)
			;
		if (j < ng)
			continue;
		for (j = 0; j < ng; j++) {
			new_arch &= !!strcmp(groups[j]->arch, rows[i].arch);
			new_chain &= !!strcmp(groups[j]->chain, rows[i].chain);
		}
		shape.archs += new_arch;
		shape.chains += new_chain;
		groups[ng++] = &rows[i];
	}

	nv = realloc(*v, (*n + ng) * sizeof(*nv));
	if (!nv) {
		set_err(err, errlen, "run %s: %s", dir, strerror(ENOMEM));
		ret = -ENOMEM;
		goto cleanup;
	}
	*v = nv;
	for (added = 0; added < ng; added++) {
		ret = build_series(&nv[*n + added], dir, base, rows, nrows,
				   ng > 1 ? groups[added] : NULL, &shape, root, err, errlen);
		if (ret < 0) {
			plot_series_free(&nv[*n + added]);
			goto cleanup;
		}
	}
	*n += added;
	added = 0;
	ret = 0;

cleanup:
	for (i = 0; i < added; i++)
		plot_series_free(&(*v)[*n + i]);
	free(groups);
	free(rows);
	json_decref(root);
	return ret;
}

void plot_series_free(struct plot_series *s)
{
	free(s->pts);
	s->pts = NULL;
	s->n = 0;
}
