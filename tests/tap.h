/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Minimal TAP checks for C tests: a plan "1..N" first (tap_plan), then
 * "ok - ..." / "not ok - ..." lines, which tests/run.sh counts against the
 * plan. Exit status is non-zero if any check failed or the count is not N. */
#ifndef CADEIA_TAP_H
#define CADEIA_TAP_H
#include <stdio.h>
#include <stdarg.h>

static int tap_failed, tap_passed, tap_planned = -1;

/* Declares how many checks the test runs on every path; call it before the
 * first check. A path that stops early then fails for running fewer. */
static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
	tap_planned = n;
}

static inline int tap_check(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!cond)
		printf("   # at %s:%d", file, line);
	printf("\n");
	fflush(stdout);
	if (cond)
		tap_passed++;
	else
		tap_failed++;
	return cond;
}
#define CHECK(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* Prints a diagnostic line that run.sh ignores. */
#define DIAG(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); fflush(stdout); } while (0)
/* Number of elements of an array (fixture tables make plans). */
#define TAP_N(a) ((int)(sizeof(a) / sizeof((a)[0])))
static inline int tap_done(void)
{
	int ran = tap_passed + tap_failed;

	printf("# %d passed, %d failed\n", tap_passed, tap_failed);
	if (tap_planned < 0)
		printf("# no plan: call tap_plan() before the first check\n");
	else if (ran != tap_planned)
		printf("# planned %d checks, ran %d\n", tap_planned, ran);
	fflush(stdout);
	return tap_failed || ran != tap_planned ? 1 : 0;
}
#endif
