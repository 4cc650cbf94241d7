/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/jsonpos.h"

struct scan {
	const char *s;
	size_t len, i;
	int line, col;
	struct jpos *jp;
};

static void adv(struct scan *sc)
{
	if (sc->i >= sc->len)
		return;
	if (sc->s[sc->i] == '\n') {
		sc->line++;
		sc->col = 1;
	} else {
		sc->col++;
	}
	sc->i++;
}

static void skip_ws(struct scan *sc)
{
	while (sc->i < sc->len && strchr(" \t\r\n", sc->s[sc->i]))
		adv(sc);
}

static int add(struct scan *sc, const char *path, int line, int col)
{
	struct jpos *jp = sc->jp;

	if (jp->n == jp->cap) {
		size_t cap = jp->cap ? jp->cap * 2 : 64;
		struct jpos_entry *v = realloc(jp->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		jp->v = v;
		jp->cap = cap;
	}
	jp->v[jp->n].path = strdup(path);
	if (!jp->v[jp->n].path)
		return -ENOMEM;
	jp->v[jp->n].line = line;
	jp->v[jp->n].col = col;
	jp->n++;
	return 0;
}

/* Reads a string token; copies its raw (unescaped-enough) text to out. */
static void scan_string(struct scan *sc, char *out, size_t outlen)
{
	size_t o = 0;

	adv(sc); /* opening quote */
	while (sc->i < sc->len && sc->s[sc->i] != '"') {
		if (sc->s[sc->i] == '\\') {
			adv(sc);
		}
		if (out && o + 1 < outlen)
			out[o++] = sc->s[sc->i];
		adv(sc);
	}
	adv(sc); /* closing quote */
	if (out)
		out[o] = '\0';
}

static int scan_value(struct scan *sc, const char *path);

static int scan_object(struct scan *sc, const char *path)
{
	char key[256], sub[1024];
	int ret;

	adv(sc); /* { */
	for (;;) {
		int line, col;

		skip_ws(sc);
		if (sc->i >= sc->len)
			return 0;
		if (sc->s[sc->i] == '}') {
			adv(sc);
			return 0;
		}
		if (sc->s[sc->i] == ',') {
			adv(sc);
			continue;
		}
		line = sc->line;
		col = sc->col;
		scan_string(sc, key, sizeof(key));
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		if ((ret = add(sc, sub, line, col)) < 0)
			return ret;
		skip_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == ':')
			adv(sc);
		if ((ret = scan_value(sc, sub)) < 0)
			return ret;
	}
}

static int scan_array(struct scan *sc, const char *path)
{
	char sub[1024];
	int idx = 0, ret;

	adv(sc); /* [ */
	for (;;) {
		skip_ws(sc);
		if (sc->i >= sc->len)
			return 0;
		if (sc->s[sc->i] == ']') {
			adv(sc);
			return 0;
		}
		if (sc->s[sc->i] == ',') {
			adv(sc);
			continue;
		}
		snprintf(sub, sizeof(sub), "%s[%d]", path, idx++);
		if ((ret = add(sc, sub, sc->line, sc->col)) < 0)
			return ret;
		if ((ret = scan_value(sc, sub)) < 0)
			return ret;
	}
}

static int scan_value(struct scan *sc, const char *path)
{
	skip_ws(sc);
	if (sc->i >= sc->len)
		return 0;
	switch (sc->s[sc->i]) {
	case '{':
		return scan_object(sc, path);
	case '[':
		return scan_array(sc, path);
	case '"':
		scan_string(sc, NULL, 0);
		return 0;
	default:
		while (sc->i < sc->len && !strchr(",}] \t\r\n", sc->s[sc->i]))
			adv(sc);
		return 0;
	}
}

int jpos_index(struct jpos *jp, const char *text, size_t len)
{
	struct scan sc = { .s = text, .len = len, .line = 1, .col = 1, .jp = jp };

	return scan_value(&sc, "");
}

void jpos_lookup(const struct jpos *jp, const char *path, int *line, int *col)
{
	char p[1024];

	*line = 0;
	*col = 0;
	snprintf(p, sizeof(p), "%s", path);
	while (*p) {
		for (size_t i = 0; i < jp->n; i++) {
			if (strcmp(jp->v[i].path, p) == 0) {
				*line = jp->v[i].line;
				*col = jp->v[i].col;
				return;
			}
		}
		/* Fall back to the parent: strip the last ".key" or "[n]". */
		char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
		char *cut = dot > br ? dot : br;

		if (!cut)
			break;
		*cut = '\0';
	}
}

void jpos_free(struct jpos *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		free(jp->v[i].path);
	free(jp->v);
	jp->v = NULL;
	jp->n = jp->cap = 0;
}
