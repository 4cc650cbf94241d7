/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A run's output directory. Everything is written into a hidden staging
 * directory and renamed into results/<scenario>-<UTC timestamp>/ at the end,
 * so a reader never sees a half-written run. An interrupted run is renamed
 * too, with status "incomplete" in meta.json and an INCOMPLETE file saying why.
 */
#ifndef CADEIA_RESULTS_H
#define CADEIA_RESULTS_H

#include <stdio.h>
#include <jansson.h>

struct results {
	char root[1024];  /* results/ */
	char stage[1200]; /* results/.<name>-<ts>.<id>.partial */
	char final[1200]; /* results/<name>-<ts> */
	char stamp[32];   /* 20261125T183000Z */
	FILE *raw;        /* raw.csv, flushed after every round */
};

int res_open(struct results *r, const char *root, const char *scenario, const char *run_id,
	     char *err, size_t errlen);
/* Path of a file inside the staging directory. */
void res_path(const struct results *r, const char *file, char *out, size_t len);
int res_write_json(const struct results *r, const char *file, json_t *doc, char *err,
		   size_t errlen);
/* Closes raw.csv, writes INCOMPLETE when reason != NULL, renames into place. */
int res_finish(struct results *r, const char *incomplete_reason, char *err, size_t errlen);

/* Facts about this machine and build for meta.json. */
json_t *res_environment(void);
/* "2026-11-25T18:30:00.123Z" */
void res_utc_now(char *out, size_t len);

#endif
