/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the model's parsers (scenario.c, hosts.c) share to point at a bad
 * field: "file:line:col: path: what" (line and column from model/jsonpos.h),
 * and the check that refuses unknown keys. Private to model/.
 */
#ifndef CADEIA_SC_PARSE_H
#define CADEIA_SC_PARSE_H

#include <stdarg.h>

#include <jansson.h>

#include "model/jsonpos.h"
#include "model/scenario.h"

struct sc_where {
	const char *file;
	const struct jpos *pos;
	struct sc_err *err;
};

/* The message into w->err; always -EINVAL. */
int sc_vfail(const struct sc_where *w, const char *path, const char *fmt, va_list ap);
int sc_fail(const struct sc_where *w, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Unknown keys are errors: a typo must not silently fall back to a default. */
int sc_check_keys(const struct sc_where *w, json_t *obj, const char *path,
		  const char *const *allowed);
/* The line of path in the file (0 if not indexed). */
int sc_line_of(const struct sc_where *w, const char *path);

#endif
