/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Source positions for JSON values. jansson reports positions only for syntax
 * errors, so semantic errors ("nodes[2].name: duplicate ...") need their own
 * index: one pass over the text records where each path's key (or array
 * element) starts, keys decoded as jansson decodes them ("n\u0061me" is
 * "name"), and "" for the top-level value.
 */
#ifndef CADEIA_JSONPOS_H
#define CADEIA_JSONPOS_H

#include <stddef.h>

struct jpos_entry {
	char *path; /* "chains[0].sfs[2]", "measure.rate_pps", "" */
	int line;   /* 1-based */
	int col;    /* 1-based, in bytes */
};

struct jpos {
	struct jpos_entry *v;
	size_t n, cap;
	size_t max_string; /* set before jpos_index: longest string token (raw bytes); 0 = any */
	int err_line, err_col; /* where jpos_index found a string over max_string */
};

/* Indexes text (which jansson has already accepted). 0, -ENOMEM, or -E2BIG
 * with jp->err_line/err_col at the opening quote of a string longer than
 * jp->max_string. */
int jpos_index(struct jpos *jp, const char *text, size_t len);
/* Position of path, or of its closest indexed ancestor (the top-level value
 * at worst); line 0 only when nothing was indexed. */
void jpos_lookup(const struct jpos *jp, const char *path, int *line, int *col);
void jpos_free(struct jpos *jp);
/* Line and column (1-based, bytes) of byte offset off of text. */
void jpos_at(const char *text, size_t off, int *line, int *col);

#endif
