/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `cadeia-bench down` and `status`: the runs this machine knows of (run/runstate.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/runstate.h"

const char usage_down[] =
	"usage: cadeia-bench down [--force] [--json] [RUN...]\n"
	"\n"
	"Removes everything a run created (function processes, stages and pins,\n"
	"namespaces, links, bridge, domains) and nothing else: only what carries\n"
	"the run's ownership mark, never by name alone (man cadeia-bench). Without\n"
	"RUN: every run whose owner is gone (pid and start time; a run killed with\n"
	"kill -9) and the caller's own `up` runs. A run whose owner still lives is\n"
	"skipped unless named with --force. A RUN without a state file is an error\n"
	"and removes nothing. A named RUN takes along the run ids it made for its\n"
	"other architectures' testbeds (their state names it as \"parent\").\n"
	"\n"
	"  --force   remove a named run even though its owner still lives\n"
	"  --json    print what was removed as JSON: [{\"id\", \"removed\": [...],\n"
	"            \"failures\"} or {\"id\", \"skipped\" or \"error\"}]\n";

const char usage_status[] =
	"usage: cadeia-bench status [--json]\n"
	"\n"
	"Lists known runs: id, owner, scenario, start time and nodes.\n";

/* What `down` reports: a line per removed thing, or with --json one object
 * per run: {"id", "removed": [...], "failures"} or {"id", "skipped"/"error"}. */
struct down_out {
	bool json;
	json_t *runs;
	json_t *removed; /* the current run's "removed" */
	const char *id;  /* the current run */
	int n_removed;
};

static void note_removed(const char *what, void *arg)
{
	struct down_out *o = arg;

	if (o->json)
		json_array_append_new(o->removed, json_string(what));
	else
		printf("%s%s%s  %s\n", o->n_removed ? "" : "run ", o->n_removed ? "" : o->id,
		       o->n_removed ? "" : ":\n", what);
	o->n_removed++;
}

/* A run that was not torn down: why, on stderr (or stdout when skipped), and in the JSON. */
static void down_not_done(struct down_out *o, const char *id, const char *key, const char *why)
{
	if (o->json)
		json_array_append_new(o->runs, json_pack("{s:s, s:s}", "id", id, key, why));
	else if (strcmp(key, "skipped") == 0)
		printf("run %s: skipped, %s\n", id, why);
	if (strcmp(key, "skipped") != 0)
		fprintf(stderr, "cadeia-bench: %s\n", why);
}

static int down_one(const char *id, bool force, bool named, struct down_out *o);

/* A run comparing architectures has one id per testbed beyond the first,
 * each with "parent": the run's id; `down <id>` takes those with it. */
static int down_children(const char *parent, bool force, struct down_out *o)
{
	char **ids;
	size_t n;
	int rc = 0;

	if (rs_list(&ids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct runstate rs;
		char err[512];
		const char *p;
		bool child;

		if (rs_open(&rs, ids[i], err, sizeof(err)) < 0)
			continue;
		p = json_string_value(json_object_get(rs.doc, "parent"));
		child = p && strcmp(p, parent) == 0;
		rs_close(&rs);
		if (child)
			rc |= down_one(ids[i], force, true, o);
	}
	rs_list_free(ids, n);
	return rc;
}

/* named: the user gave this id, so an id that matches nothing is an error. */
static int down_one(const char *id, bool force, bool named, struct down_out *o)
{
	struct runstate rs;
	char err[512];
	bool had_state;
	int failures, failures_children = 0;

	if (rs_open(&rs, id, err, sizeof(err)) < 0) {
		down_not_done(o, id, "error", err);
		return 1;
	}
	/* Who may remove what: rs_down_allowed (run/runstate.h). */
	if (!rs_down_allowed(&rs, named, force, err, sizeof(err))) {
		down_not_done(o, id, named ? "error" : "skipped", err);
		rs_close(&rs);
		return 1;
	}
	had_state = access(rs.path, F_OK) == 0;
	if (named && down_children(id, force, o))
		failures_children = 1;
	o->removed = json_array();
	o->n_removed = 0;
	o->id = id;
	failures = rs_teardown(&rs, note_removed, o);
	rs_close(&rs);
	if (named && !had_state && o->n_removed == 0 && failures == 0) {
		json_decref(o->removed);
		snprintf(err, sizeof(err), "no run %s: no state file %s/%s.json and nothing left with its prefix",
			 id, RS_DIR, id);
		down_not_done(o, id, "error", err);
		return 1;
	}
	if (o->json)
		json_array_append_new(o->runs, json_pack("{s:s, s:o, s:i}", "id", id, "removed",
							 o->removed, "failures", failures));
	else
		json_decref(o->removed);
	if (!o->json && o->n_removed == 0)
		printf("run %s: nothing left to remove\n", id);
	if (failures) {
		fprintf(stderr, "cadeia-bench: run %s: %d thing%s could not be removed\n", id,
			failures, failures == 1 ? "" : "s");
		return 1;
	}
	return failures_children;
}

/* The ids of the runs in RS_DIR; -1 (said on stderr) when it cannot be read. */
static int list_runs(char ***ids, size_t *n)
{
	if (rs_list(ids, n) < 0) {
		fprintf(stderr, "cadeia-bench: reading %s: %s\n", RS_DIR, strerror(errno));
		return -1;
	}
	return 0;
}

/* Without ids: every run whose owner is gone. */
static int down_orphans(struct down_out *o)
{
	char **ids;
	size_t n;
	int rc = 0;

	if (list_runs(&ids, &n) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct runstate rs;
		char err[512];
		bool live;

		if (rs_open(&rs, ids[i], err, sizeof(err)) < 0)
			continue;
		live = !rs_down_allowed(&rs, false, false, err, sizeof(err));
		rs_close(&rs);
		if (live) {
			down_not_done(o, ids[i], "skipped", err);
			continue;
		}
		rc |= down_one(ids[i], false, false, o);
	}
	if (n == 0 && !o->json)
		printf("no runs to remove\n");
	rs_list_free(ids, n);
	return rc;
}

int cmd_down(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	struct down_out o = { 0 };
	bool force = false;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "fj", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'j')
			o.json = true;
		else
			return usage_error(usage_down, "%s", "unknown option");
	}
	o.runs = json_array();
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			rc |= down_one(argv[i], force, true, &o);
	} else {
		rc = down_orphans(&o);
	}
	if (o.json) {
		json_dumpf(o.runs, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(o.runs);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	json_t *out = json_array();
	bool json = false;
	char **ids;
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return usage_error(usage_status, "%s", "unknown option");
	}
	if (optind < argc)
		return usage_error(usage_status, "unexpected argument '%s'", argv[optind]);
	if (list_runs(&ids, &n) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct runstate rs;
		char err[512];
		pid_t owner;
		const char *state;

		if (rs_open(&rs, ids[i], err, sizeof(err)) < 0)
			continue;
		owner = rs_owner(&rs);
		state = rs_state_name(&rs);
		json_object_set_new(rs.doc, "state", json_string(state));
		json_array_append(out, rs.doc);
		if (!json)
			printf("%s  %-8s %-6s pid %-7d %s  %zu nodes  %s\n", ids[i], state,
			       json_string_value(json_object_get(rs.doc, "command")) ?: "?",
			       (int)owner,
			       json_string_value(json_object_get(rs.doc, "started")) ?: "?",
			       json_array_size(json_object_get(rs.doc, "nodes")),
			       json_string_value(json_object_get(rs.doc, "scenario")) ?: "?");
		rs_close(&rs);
	}
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
	} else if (n == 0) {
		printf("no runs\n");
	}
	json_decref(out);
	rs_list_free(ids, n);
	return 0;
}
