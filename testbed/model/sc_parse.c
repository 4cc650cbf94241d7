/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Pointing at a bad field of a scenario: model/sc_parse.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/sc_parse.h"

int sc_vfail(const struct sc_where *w, const char *path, const char *fmt, va_list ap)
{
	char what[768];
	int line, col, n;

	vsnprintf(what, sizeof(what), fmt, ap);
	jpos_lookup(w->pos, path, &line, &col);
	if (line)
		n = snprintf(w->err->msg, sizeof(w->err->msg), "%s:%d:%d: ", w->file, line, col);
	else
		n = snprintf(w->err->msg, sizeof(w->err->msg), "%s: ", w->file);
	snprintf(w->err->msg + n, sizeof(w->err->msg) - n, "%s%s%s", path, *path ? ": " : "", what);
	return -EINVAL;
}

int sc_fail(const struct sc_where *w, const char *path, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sc_vfail(w, path, fmt, ap);
	va_end(ap);
	return ret;
}

int sc_check_keys(const struct sc_where *w, json_t *obj, const char *path,
		  const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a;
		char sub[SC_MAX_STRING + 512]; /* a key may be that long */

		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (!*a) {
			char list[256] = "";

			for (a = allowed; *a; a++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 a == allowed ? "" : ", ", *a);
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
			return sc_fail(w, sub, "unknown key (expected one of: %s)", list);
		}
	}
	return 0;
}

int sc_line_of(const struct sc_where *w, const char *path)
{
	int line, col;

	jpos_lookup(w->pos, path, &line, &col);
	return line;
}
