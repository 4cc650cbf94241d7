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

/* A growing decoded string (a key). */
struct buf {
	char *p;
	size_t n, cap;
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

static int add(struct scan *sc, char *path, int line, int col)
{
	struct jpos *jp = sc->jp;

	if (!path)
		return -ENOMEM;
	if (jp->n == jp->cap) {
		size_t cap = jp->cap ? jp->cap * 2 : 64;
		struct jpos_entry *v = realloc(jp->v, cap * sizeof(*v));

		if (!v) {
			free(path);
			return -ENOMEM;
		}
		jp->v = v;
		jp->cap = cap;
	}
	jp->v[jp->n].path = path;
	jp->v[jp->n].line = line;
	jp->v[jp->n].col = col;
	jp->n++;
	return 0;
}

static int put(struct buf *b, char c)
{
	if (!b)
		return 0;
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char *p = realloc(b->p, cap);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n++] = c;
	b->p[b->n] = '\0';
	return 0;
}

static unsigned hex4(struct scan *sc)
{
	unsigned v = 0;

	for (int k = 0; k < 4 && sc->i < sc->len; k++) {
		char h = sc->s[sc->i];

		v = v * 16 + (h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
		adv(sc);
	}
	return v;
}

/* \uXXXX (and its low surrogate) as UTF-8, the way jansson stores it. */
static int put_unicode(struct scan *sc, struct buf *b)
{
	unsigned u = hex4(sc);
	int ret = 0;

	if (u >= 0xD800 && u < 0xDC00 && sc->i + 1 < sc->len && sc->s[sc->i] == '\\' &&
	    sc->s[sc->i + 1] == 'u') {
		adv(sc);
		adv(sc);
		u = 0x10000 + ((u - 0xD800) << 10) + (hex4(sc) - 0xDC00);
	}
	if (u < 0x80)
		return put(b, u);
	if (u < 0x800)
		return put(b, 0xC0 | u >> 6) ?: put(b, 0x80 | (u & 0x3F));
	if (u < 0x10000)
		ret = put(b, 0xE0 | u >> 12);
	else
		ret = put(b, 0xF0 | u >> 18) ?: put(b, 0x80 | ((u >> 12) & 0x3F));
	return ret ?: put(b, 0x80 | ((u >> 6) & 0x3F)) ?: put(b, 0x80 | (u & 0x3F));
}

static int put_escape(struct scan *sc, struct buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = strchr(from, sc->s[sc->i]);

	if (sc->s[sc->i] == 'u') {
		adv(sc);
		return put_unicode(sc, b);
	}
	adv(sc);
	return put(b, e ? to[e - from] : '?');
}

/* Reads a string token, decoded into b (NULL: skip it). A string longer than
 * max_string raw bytes gives -E2BIG with its position. */
static int scan_string(struct scan *sc, struct buf *b)
{
	size_t start = sc->i;
	int line = sc->line, col = sc->col, ret = 0;

	adv(sc); /* opening quote */
	while (sc->i < sc->len && sc->s[sc->i] != '"' && ret == 0) {
		if (sc->s[sc->i] == '\\') {
			adv(sc);
			ret = put_escape(sc, b);
		} else {
			ret = put(b, sc->s[sc->i]);
			adv(sc);
		}
	}
	adv(sc); /* closing quote */
	if (ret == 0 && sc->jp->max_string && sc->i - start > sc->jp->max_string + 2) {
		sc->jp->err_line = line;
		sc->jp->err_col = col;
		ret = -E2BIG;
	}
	return ret;
}

static char *join(const char *path, const char *key)
{
	char *p;

	return asprintf(&p, "%s%s%s", path, *path ? "." : "", key) < 0 ? NULL : p;
}

static int scan_value(struct scan *sc, const char *path);

static int scan_member(struct scan *sc, const char *path)
{
	struct buf key = { 0 };
	int line = sc->line, col = sc->col, ret;
	char *sub;

	ret = scan_string(sc, &key) ?: put(&key, '\0');
	if (ret) {
		free(key.p);
		return ret;
	}
	sub = join(path, key.p);
	free(key.p);
	if ((ret = add(sc, sub, line, col)) < 0)
		return ret;
	skip_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == ':')
		adv(sc);
	return scan_value(sc, sub);
}

/* Objects and arrays: members until the closing bracket. */
static int scan_container(struct scan *sc, const char *path, char close)
{
	int idx = 0, ret;

	adv(sc); /* { or [ */
	for (;;) {
		char *sub;

		skip_ws(sc);
		if (sc->i >= sc->len)
			return 0;
		if (sc->s[sc->i] == close) {
			adv(sc);
			return 0;
		}
		if (sc->s[sc->i] == ',') {
			adv(sc);
			continue;
		}
		if (close == '}') {
			if ((ret = scan_member(sc, path)) < 0)
				return ret;
			continue;
		}
		if (asprintf(&sub, "%s[%d]", path, idx++) < 0)
			return -ENOMEM;
		if ((ret = add(sc, sub, sc->line, sc->col)) < 0 || (ret = scan_value(sc, sub)) < 0)
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
		return scan_container(sc, path, '}');
	case '[':
		return scan_container(sc, path, ']');
	case '"':
		return scan_string(sc, NULL);
	default:
		while (sc->i < sc->len && !strchr(",}] \t\r\n", sc->s[sc->i]))
			adv(sc);
		return 0;
	}
}

int jpos_index(struct jpos *jp, const char *text, size_t len)
{
	struct scan sc = { .s = text, .len = len, .line = 1, .col = 1, .jp = jp };
	int ret;

	skip_ws(&sc);
	if ((ret = add(&sc, strdup(""), sc.line, sc.col)) < 0)
		return ret;
	return scan_value(&sc, "");
}

void jpos_lookup(const struct jpos *jp, const char *path, int *line, int *col)
{
	char *p = strdup(path);

	*line = 0;
	*col = 0;
	while (p) {
		char *dot, *br, *cut;

		for (size_t i = 0; i < jp->n; i++) {
			if (strcmp(jp->v[i].path, p) == 0) {
				*line = jp->v[i].line;
				*col = jp->v[i].col;
				goto out;
			}
		}
		if (!*p)
			break;
		/* Fall back to the parent: strip the last ".key" or "[n]"; "" last. */
		dot = strrchr(p, '.');
		br = strrchr(p, '[');
		cut = dot > br ? dot : br;
		*(cut ? cut : p) = '\0';
	}
out:
	free(p);
}

void jpos_free(struct jpos *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		free(jp->v[i].path);
	free(jp->v);
	jp->v = NULL;
	jp->n = jp->cap = 0;
}

void jpos_at(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}
