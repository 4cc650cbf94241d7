/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Run ownership. Every resource a run creates is named "<id>-<something>"
 * with id = "cb" + 4 hex digits, and the run's state file
 * /run/cadeia-bench/<id>.json is written before anything is created. Teardown
 * (normal, after Ctrl-C, or `cadeia-bench down` after kill -9) removes the
 * namespaces, links, pins and function processes carrying that prefix, and
 * nothing else.
 */
#ifndef CADEIA_RUNSTATE_H
#define CADEIA_RUNSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#define RS_DIR "/run/cadeia-bench"
#define RS_ID_LEN 6 /* "cb" + 4 hex */

struct runstate {
	char id[RS_ID_LEN + 1];
	char path[256];
	json_t *doc; /* written back after every change */
};

/* Picks an id that no state file, netns, link or pin uses yet and writes the
 * initial state (owner pid, scenario, command). */
int rs_create(struct runstate *rs, const char *scenario_path, const char *command,
	      char *err, size_t errlen);
int rs_open(struct runstate *rs, const char *id, char *err, size_t errlen);
void rs_close(struct runstate *rs);

/* Sets a top-level key (steals the reference) and writes the file. */
int rs_set(struct runstate *rs, const char *key, json_t *value);
/* Appends {node, pid, start_time} to "functions" and writes the file. */
int rs_add_function(struct runstate *rs, const char *node, pid_t pid);
/* Marks the owner: "up" leaves the testbed to `down`, "run" owns it. */
pid_t rs_owner(const struct runstate *rs);

/* Builds "<id>-<suffix>". */
void rs_name(const struct runstate *rs, const char *suffix, char *out, size_t len);

/*
 * Removes everything with this run's prefix: function processes recorded in
 * the state (checked against /proc so a recycled pid is never killed),
 * stage attachments and pins, namespaces, host links and the bridge; then
 * the state file. Reports each thing it removed through log (may be NULL).
 * Returns the number of failures (0 = clean).
 */
int rs_teardown(struct runstate *rs, void (*log)(const char *what, void *arg), void *arg);

/* The same, but the run goes on: the state file stays (one architecture
 * of a comparison is done, the next one is built under the same prefix). */
int rs_clear(struct runstate *rs, void (*log)(const char *what, void *arg), void *arg);

/* Ids of all recorded runs. */
int rs_list(char ***ids, size_t *n);
void rs_list_free(char **ids, size_t n);
bool rs_pid_alive(pid_t pid);

#endif
