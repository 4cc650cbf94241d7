/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One run's first series, for the plot tests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

int plot_load_run(const char *dir, struct plot_series *s, char *err, size_t errlen)
{
	struct plot_series *v = NULL;
	size_t n = 0, i;
	int ret;

	memset(s, 0, sizeof(*s));
	s->slope_us = s->intercept_us = s->r2 = NAN;
	ret = plot_load_run_all(dir, &v, &n, err, errlen);
	if (ret == 0) {
		*s = v[0];
		for (i = 1; i < n; i++)
			plot_series_free(&v[i]);
	}
	free(v);
	return ret;
}
