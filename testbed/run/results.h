/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A run's output directory. Everything is written into a hidden staging
 * directory and renamed into results/<scenario>-<UTC timestamp>/ at the end,
 * so a reader never sees a half-written run. An interrupted run is renamed
 * too, with status "incomplete" in meta.json and an INCOMPLETE file saying why.
 * A run whose files could not all be written (a full disk, an I/O error) never
 * gets the final name: its directory becomes results/<scenario>-<ts>.incomplete
 * with an INCOMPLETE file, since meta.json itself may be missing or cut.
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
	int write_errno;  /* first failed write; 0 = every write so far made it */
	char write_msg[512];
};

int res_open(struct results *r, const char *root, const char *scenario, const char *run_id,
	     char *err, size_t errlen);
/* Path of a file inside the staging directory. */
void res_path(const struct results *r, const char *file, char *out, size_t len);
/* Writes, flushes and fsyncs a JSON file; a failure is also recorded (below). */
int res_write_json(struct results *r, const char *file, json_t *doc, char *err,
		   size_t errlen);
/* Flushes raw.csv after a round; a failure is recorded and returned. */
int res_raw_flush(struct results *r, char *err, size_t errlen);
/* Closes a file written into the run (fflush, fsync, fclose), recording a
 * failure of any of them or an earlier one (ferror). */
int res_close_file(struct results *r, FILE *f, const char *path, char *err, size_t errlen);
/* Records a failed write (the first one wins): the run is then incomplete. */
void res_failed(struct results *r, int errnum, const char *msg);
/*
 * Closes raw.csv, writes INCOMPLETE when reason != NULL or a write failed,
 * and renames into place. After a failed write the directory is renamed to
 * "<final>.incomplete" instead and this returns the first failure's -errno,
 * with a message naming it and the directory:
 * the caller's exit status must not be 0.
 */
int res_finish(struct results *r, const char *incomplete_reason, char *err, size_t errlen);

/* Facts about this machine and build for meta.json. */
json_t *res_environment(void);
/* "2026-11-25T18:30:00.123Z" */
void res_utc_now(char *out, size_t len);

#endif
