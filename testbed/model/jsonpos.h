/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Source positions for JSON values. jansson reports positions only for syntax
 * errors, so semantic errors ("nodes[2].name: duplicate ...") need their own
 * index: one pass over the text records where each path's key (or array
 * element) starts.
 */
#ifndef CADEIA_JSONPOS_H
#define CADEIA_JSONPOS_H

#include <stddef.h>

struct jpos_entry {
	char *path; /* "chains[0].sfs[2]", "measure.rate_pps" */
	int line;   /* 1-based */
	int col;    /* 1-based, in bytes */
};

struct jpos {
	struct jpos_entry *v;
	size_t n, cap;
};

/* Indexes text (which jansson has already accepted). 0 or -ENOMEM. */
int jpos_index(struct jpos *jp, const char *text, size_t len);
/* Position of path, or of its closest indexed ancestor; 0 if the path is
 * empty or nothing matched (line 0 then means "whole file"). */
void jpos_lookup(const struct jpos *jp, const char *path, int *line, int *col);
void jpos_free(struct jpos *jp);

#endif
