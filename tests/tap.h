/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Minimal TAP-style checks for C tests: "ok - ..." / "not ok - ..." lines,
 * which tests/run.sh counts. Exit status is non-zero if any check failed. */
#ifndef CADEIA_TAP_H
#define CADEIA_TAP_H
#include <stdio.h>
#include <stdarg.h>

static int tap_failed, tap_passed;

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
#define DIAG(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)
static inline int tap_done(void)
{
	printf("# %d passed, %d failed\n", tap_passed, tap_failed);
	return tap_failed ? 1 : 0;
}
#endif
