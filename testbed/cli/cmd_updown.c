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
	"usage: cadeia-bench down [--force] [RUN...]\n"
	"\n"
	"Removes everything a run created (function processes, stages and pins,\n"
	"namespaces, links, bridge) and nothing else: resources are found by the\n"
	"run's prefix. Without RUN: every run whose owning process is gone (left by\n"
	"`up`, or by a run killed with kill -9). A run whose owner still lives is\n"
	"skipped unless named with --force.\n";

const char usage_status[] =
	"usage: cadeia-bench status [--json]\n"
	"\n"
	"Lists known runs: id, owner, scenario, start time and nodes.\n";

static void print_teardown(const char *what, void *arg)
{
	(void)arg;
	printf("  %s\n", what);
}

static int down_one(const char *id, bool force)
{
	struct runstate rs;
	char err[512];
	pid_t owner;
	int failures;

	if (rs_open(&rs, id, err, sizeof(err)) < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		return 1;
	}
	owner = rs_owner(&rs);
	if (rs_pid_alive(owner) && owner != getpid() && !force) {
		fprintf(stderr, "cadeia-bench: run %s is still owned by live process %d; stop it (Ctrl-C) or use --force\n",
			id, (int)owner);
		rs_close(&rs);
		return 1;
	}
	printf("run %s:\n", id);
	failures = rs_teardown(&rs, print_teardown, NULL);
	rs_close(&rs);
	if (failures) {
		fprintf(stderr, "cadeia-bench: run %s: %d thing%s could not be removed\n", id,
			failures, failures == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

int cmd_down(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
	bool force = false;
	char **ids;
	size_t n;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else
			return usage_error(usage_down, "%s", "unknown option");
	}
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			rc |= down_one(argv[i], force);
		return rc;
	}
	if (rs_list(&ids, &n) < 0) {
		fprintf(stderr, "cadeia-bench: reading %s: %s\n", RS_DIR, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct runstate rs;
		char err[512];
		bool live;

		if (rs_open(&rs, ids[i], err, sizeof(err)) < 0)
			continue;
		live = rs_pid_alive(rs_owner(&rs));
		rs_close(&rs);
		if (live) {
			printf("run %s: skipped, its owner is running\n", ids[i]);
			continue;
		}
		rc |= down_one(ids[i], false);
	}
	if (n == 0)
		printf("no runs to remove\n");
	rs_list_free(ids, n);
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

	while ((c = getopt_long(argc, argv, "+j", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return usage_error(usage_status, "%s", "unknown option");
	}
	if (optind < argc)
		return usage_error(usage_status, "unexpected argument '%s'", argv[optind]);
	if (rs_list(&ids, &n) < 0) {
		fprintf(stderr, "cadeia-bench: reading %s: %s\n", RS_DIR, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct runstate rs;
		char err[512];
		pid_t owner;
		const char *state;

		if (rs_open(&rs, ids[i], err, sizeof(err)) < 0)
			continue;
		owner = rs_owner(&rs);
		state = owner == 0 ? "up" : rs_pid_alive(owner) ? "running" : "orphaned";
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
