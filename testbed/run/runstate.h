/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Run state. A run claims its id "cb" + 4 hex digits exclusively: the state
 * file /run/cadeia-bench/<id>.json is created with O_EXCL and the directory
 * /run/cadeia-bench/<id>/ with mkdir, and only an id that no state, directory,
 * namespace, link, pin, libvirt domain or libvirt log carries is tried. The
 * state records the owner (pid and its start time, uid), a 128-bit nonce and
 * what teardown needs; it is written before anything is created. From then
 * on everything this process creates carries the run's ownership mark
 * (sys/ownmark.h), and teardown (normal, after Ctrl-C, or `cadeia-bench down`
 * after kill -9) removes only what carries it (backend/owner.h): never by
 * name alone, and nothing without the run's state file.
 */
#ifndef CADEIA_RUNSTATE_H
#define CADEIA_RUNSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "backend/owner.h"

#define RS_DIR OWNER_RUN_DIR
#define RS_ID_LEN OWNER_ID_LEN
/* Tests only: a comma-separated list of ids to try first (decoys named after
 * them must make the run pick another). */
#define RS_IDS_ENV "CADEIA_BENCH_TRY_IDS"

struct runstate {
	char id[RS_ID_LEN + 1];
	char path[256];
	json_t *doc; /* written back after every change */
	struct owner owner; /* empty mark: a state without one (nothing is ours) */
};

/* Claims a free id (above), writes the initial state (owner pid, start time
 * and uid, nonce, scenario, command) and sets this process's ownership mark. */
int rs_create(struct runstate *rs, const char *scenario_path, const char *command,
	      char *err, size_t errlen);
/* -ENOENT ("no run <id>: no state file ...") when the run has no state file:
 * then nothing of it can be told from a look-alike, and nothing is removed. */
/* What this process creates from now on is rs's (its ownership mark): a
 * run with several testbeds (one id each) switches between them. */
void rs_make_current(const struct runstate *rs);
int rs_open(struct runstate *rs, const char *id, char *err, size_t errlen);
void rs_close(struct runstate *rs);

/* Sets a top-level key (steals the reference) and writes the file. */
int rs_set(struct runstate *rs, const char *key, json_t *value);
/* Appends {node, pid, start_time} to "functions" and writes the file. */
int rs_add_function(struct runstate *rs, const char *node, pid_t pid);
/* The owner's pid; 0 once `up` handed the testbed over to `down`. */
pid_t rs_owner(const struct runstate *rs);
/* The owner still runs: same pid and the same start time (a reused pid is
 * somebody else). */
bool rs_owner_alive(const struct runstate *rs);
/* "up" (handed over), "running" (owner alive) or "orphaned" (owner gone). */
const char *rs_state_name(const struct runstate *rs);
/*
 * May `down` remove this run? named: the caller gave its id; force: --force.
 * A live owner (other than this process) needs named and force. A bare
 * `down` takes runs whose owner is gone, and `up` runs of the calling user
 * only. When not, why says so.
 */
bool rs_down_allowed(const struct runstate *rs, bool named, bool force, char *why,
		     size_t whylen);

/* Builds "<id>-<suffix>". */
void rs_name(const struct runstate *rs, const char *suffix, char *out, size_t len);

/*
 * Removes what the run owns: function processes recorded in the state
 * (checked by pid and start time, so a recycled pid is never killed), then
 * through owner_teardown() its domains, OVS daemons, recorded pins,
 * namespaces, host links and directory; then the state file. Reports each
 * thing it removed, or left alone for not being ours, through log (may be
 * NULL). Returns the number of failures (0 = clean).
 */
int rs_teardown(struct runstate *rs, void (*log)(const char *what, void *arg), void *arg);

/* The same, but the run goes on: the state file and directory stay (one
 * architecture of a comparison is done, the next one is built under the same
 * prefix). */
int rs_clear(struct runstate *rs, void (*log)(const char *what, void *arg), void *arg);

/* Ids of all recorded runs. */
int rs_list(char ***ids, size_t *n);
void rs_list_free(char **ids, size_t n);
bool rs_pid_alive(pid_t pid);

#endif
