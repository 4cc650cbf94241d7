/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/num.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int num_parse_ll(const char *s, long long lo, long long hi, long long *out)
{
	const char *d = s && *s == '-' && lo < 0 ? s + 1 : s;
	long long v;
	char *end;

	/* strtoll alone skips blanks and takes a sign: check the first byte. */
	if (!d || !is_digit(*d))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

int num_parse_int(const char *s, int lo, int hi, int *out)
{
	long long v;
	int ret = num_parse_ll(s, lo, hi, &v);

	if (ret == 0)
		*out = (int)v;
	return ret;
}

int num_parse_double(const char *s, double lo, double hi, double *out)
{
	const char *d = s && *s == '-' ? s + 1 : s;
	double v;
	char *end;

	/* Only digits, '.', an exponent: no "inf", "nan", "0x1p3" or blanks. */
	if (!d || !(is_digit(*d) || (*d == '.' && is_digit(d[1]))) ||
	    strspn(d, "0123456789.eE+-") != strlen(d))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v) || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}
