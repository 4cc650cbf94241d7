/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lab 5's checker: evaluate. The student's answers against the summary and
 * meta files `cadeia-bench run` wrote.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab_priv.h"

static json_t *load_run_file(struct lab_ctx *c, const char *dir, const char *file, const char *key)
{
	char path[1200];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	j = json_load_file(path, 0, &jerr);
	if (!j)
		lab_problem(c, "%s (\"%s\" in answers.json): %s", path, key, jerr.text);
	return j;
}

static json_t *series(json_t *summary, const char *arch)
{
	json_t *ch;
	size_t i;

	json_array_foreach(json_object_get(summary, "chains"), i, ch) {
		const char *a = json_string_value(json_object_get(ch, "architecture"));

		if (!arch || (a && strcmp(a, arch) == 0))
			return ch;
	}
	return NULL;
}

/* The slope of one series in the fit the student chose. */
static bool slope_of(json_t *ser, const char *fit, double *slope)
{
	json_t *f = json_object_get(ser, strcmp(fit, "median") == 0 ? "fit_median" : "fit");

	if (!json_is_number(json_object_get(f, "slope_us")))
		return false;
	*slope = json_number_value(json_object_get(f, "slope_us"));
	return true;
}

static bool close_enough(double a, double b)
{
	return fabs(a - b) <= fmax(0.05, 0.01 * fabs(b));
}

static bool check_answer(struct lab_ctx *c, json_t *ans, const char *key, double file_slope,
			 const char *where)
{
	json_t *v = json_object_get(ans, key);

	if (!json_is_number(v)) {
		lab_problem(c, "\"%s\" is not filled in yet: read it from %s", key, where);
		return false;
	}
	if (!close_enough(json_number_value(v), file_slope)) {
		lab_problem(c, "\"%s\" is %g, which is not the slope in %s (read it again; the tolerance is 1 %%)",
			    key, json_number_value(v), where);
		return false;
	}
	lab_ok(c, "%s %.2f us/SF matches %s", key, json_number_value(v), where);
	return true;
}

int lab_check5(struct lab_ctx *c)
{
	json_t *ans, *qsum = NULL, *qmeta = NULL, *csum = NULL, *cmeta = NULL, *ca, *ph;
	const char *qdir, *cdir, *fit, *expl;
	double s_quick, s_ca, s_ph;
	char where[1200];
	bool have_ca = false, have_ph = false;

	ans = lab_load_json(c, "answers.json");
	if (!ans)
		return -1;
	fit = json_string_value(json_object_get(ans, "fit")) ?: "mean";
	if (strcmp(fit, "mean") && strcmp(fit, "median")) {
		lab_problem(c, "\"fit\" must be \"mean\" or \"median\", not \"%s\"", fit);
		goto cleanup;
	}
	qdir = json_string_value(json_object_get(ans, "quick_results"));
	cdir = json_string_value(json_object_get(ans, "compare_results"));
	if (!qdir || !*qdir)
		lab_problem(c, "\"quick_results\" is not filled in yet: the directory `cadeia-bench run scenarios/quick.json` printed");
	if (!cdir || !*cdir)
		lab_problem(c, "\"compare_results\" is not filled in yet: the directory `cadeia-bench run docs/labs/scenarios/lab5-compare.json` printed");

	if (qdir && *qdir && (qsum = load_run_file(c, qdir, "summary.json", "quick_results")) &&
	    (qmeta = load_run_file(c, qdir, "meta.json", "quick_results"))) {
		json_t *ser = series(qsum, NULL);
		const char *st = json_string_value(json_object_get(qmeta, "status"));

		if (strcmp(json_string_value(json_object_get(qsum, "scenario")) ?: "", "quick") != 0)
			lab_problem(c, "%s is a run of scenario \"%s\", not of scenarios/quick.json", qdir,
				    json_string_value(json_object_get(qsum, "scenario")) ?: "?");
		else if (!st || strcmp(st, "complete") != 0)
			lab_problem(c, "%s is marked \"%s\": run quick.json again to the end", qdir,
				    st ?: "?");
		else if (json_array_size(json_object_get(ser, "points")) < 5)
			lab_problem(c, "%s has %zu chain lengths; figure 6 of quick.json has 5 (0..4)",
				    qdir, json_array_size(json_object_get(ser, "points")));
		else if (!slope_of(ser, fit, &s_quick))
			lab_problem(c, "%s has no %s fit", qdir, fit);
		else {
			lab_ok(c, "%s: a complete figure-6 run of quick.json", qdir);
			snprintf(where, sizeof(where), "%s/summary.json (%s fit)", qdir, fit);
			check_answer(c, ans, "slope_quick_us", s_quick, where);
		}
	}
	if (cdir && *cdir && (csum = load_run_file(c, cdir, "summary.json", "compare_results")) &&
	    (cmeta = load_run_file(c, cdir, "meta.json", "compare_results"))) {
		const char *st = json_string_value(json_object_get(cmeta, "status"));

		ca = series(csum, "cadeia-aberta");
		ph = series(csum, "phantomsfc");
		snprintf(where, sizeof(where), "%s/summary.json (%s fit)", cdir, fit);
		if (!st || strcmp(st, "complete") != 0) {
			lab_problem(c, "%s is marked \"%s\": run the comparison again to the end", cdir,
				    st ?: "?");
		} else if (!ca || !ph) {
			lab_problem(c, "%s does not compare cadeia-aberta with phantomsfc: run docs/labs/scenarios/lab5-compare.json",
				    cdir);
		} else {
			lab_ok(c, "%s: a complete run of both architectures", cdir);
			if ((have_ca = slope_of(ca, fit, &s_ca)))
				check_answer(c, ans, "slope_cadeia_aberta_us", s_ca, where);
			if ((have_ph = slope_of(ph, fit, &s_ph)))
				check_answer(c, ans, "slope_phantomsfc_us", s_ph, where);
		}
	}
	if (have_ca && have_ph) {
		if (s_ph > s_ca)
			lab_ok(c, "in your comparison the forwarder-based phantomsfc adds more per SF (%.2f us) than cadeia-aberta (%.2f us)",
			       s_ph, s_ca);
		else
			lab_problem(c, "in your comparison phantomsfc's slope (%.2f us/SF) is not larger than cadeia-aberta's (%.2f us/SF), unlike every undisturbed run: the machine was probably busy (see \"Noise\" in the sheet); run the comparison again, or use \"fit\": \"median\"",
				    s_ph, s_ca);
	}
	expl = json_string_value(json_object_get(ans, "explanation"));
	if (!expl || strlen(expl) < 40)
		lab_problem(c, "\"explanation\" is %s: explain in a few sentences what each slope is made of and why they differ (question 4 of the sheet)",
			    expl ? "too short" : "not filled in yet");
	else
		lab_ok(c, "an explanation is given (%zu characters; your instructor reads it)", strlen(expl));
cleanup:
	json_decref(qsum);
	json_decref(qmeta);
	json_decref(csum);
	json_decref(cmeta);
	json_decref(ans);
	return 0;
}
