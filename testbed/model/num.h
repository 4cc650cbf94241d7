/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Strict numbers for everything a user types or a file holds. strtol and
 * atoi take " 24", "+24", "24garbage" and wrap 4294967320 to 24; these take
 * only the digits themselves: an optional '-' (when lo < 0), then decimal
 * digits, nothing before, nothing after, and a value within lo..hi.
 * Returns 0, -EINVAL (not a number) or -ERANGE (outside lo..hi, overflow
 * included); *out is written only on success.
 */
#ifndef CADEIA_NUM_H
#define CADEIA_NUM_H

int num_parse_ll(const char *s, long long lo, long long hi, long long *out);
/* Same for ints, a common case of option values. */
int num_parse_int(const char *s, int lo, int hi, int *out);
/* A finite decimal number ("12", "0.5", "1e6"); no blanks, no '+' in front,
 * no hex, inf or nan. */
int num_parse_double(const char *s, double lo, double hi, double *out);

#endif
