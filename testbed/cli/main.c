/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cadeia-bench: the command line. Subcommands in iproute2's style. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traffic/fn.h"
#include "lab/lab.h"
#include "traffic/loadgen.h"
#include "analysis/plot.h"
#include "run/run.h"
#include "run/runstate.h"
#include "model/scenario.h"

#define EXIT_USAGE 2

static const char usage_main[] =
	"usage: cadeia-bench COMMAND [OPTIONS]\n"
	"\n"
	"Service function chaining in the kernel with eBPF: builds a testbed from a\n"
	"JSON scenario, chains the functions with the Cadeia-Aberta stages and\n"
	"measures ping RTT against chain length (the paper's figure 6).\n"
	"\n"
	"commands:\n"
	"  run SCENARIO       build, sweep the chain lengths, write results, tear down\n"
	"  up SCENARIO        build and install a chain, then leave it running\n"
	"  down [RUN...]      remove runs left behind (by `up` or a crash)\n"
	"  status             list runs this machine knows of\n"
	"  validate FILE...   check scenarios without creating anything\n"
	"  plot DIR...        redraw figure 6 from saved results, several runs on one figure\n"
	"  load, load-sink    UDP generator and sink of the load experiment (--help)\n"
	"  lab list|check N   the lab course: check lab N on the live testbed (docs/labs/)\n"
	"\n"
	"`cadeia-bench COMMAND --help` describes each. Exit status: 0 success,\n"
	"1 failure, 2 usage or scenario error, 3 interrupted (results kept, marked\n"
	"incomplete).\n";

static const char usage_run[] =
	"usage: cadeia-bench run [--json] [--results DIR] [--backend netns|libvirt] SCENARIO\n"
	"\n"
	"Builds the scenario's testbed once with its longest chain, then for every\n"
	"chain length of the sweep rewrites the forwarding rules, checks they took\n"
	"effect, and probes RTT with the scenario's method. Writes\n"
	"DIR/<scenario>-<UTC time>/ (raw.csv, summary.csv, summary.json, meta.json,\n"
	"plots/fig6.png and .svg). Ctrl-C stops early: what was measured is kept and\n"
	"marked incomplete, and everything the run created is removed.\n"
	"\n"
	"  --json           print summary.json on stdout instead of a table\n"
	"  --results DIR    where run directories go (default: results)\n"
	"  --backend NAME   override the scenario's backend\n"
	"  --quiet          no progress even on a terminal\n";

static const char usage_up[] =
	"usage: cadeia-bench up [--length N] SCENARIO\n"
	"\n"
	"Builds the testbed, installs chain length N (default: the longest) and\n"
	"leaves it running for inspection (ip netns, tcpdump, cadeia-stage show).\n"
	"Prints the run id; `cadeia-bench down RUN` removes it.\n";

static const char usage_down[] =
	"usage: cadeia-bench down [--force] [RUN...]\n"
	"\n"
	"Removes everything a run created (function processes, stages and pins,\n"
	"namespaces, links, bridge) and nothing else: resources are found by the\n"
	"run's prefix. Without RUN: every run whose owning process is gone (left by\n"
	"`up`, or by a run killed with kill -9). A run whose owner still lives is\n"
	"skipped unless named with --force.\n";

static const char usage_status[] =
	"usage: cadeia-bench status [--json]\n"
	"\n"
	"Lists known runs: id, owner, scenario, start time and nodes.\n";

static const char usage_validate[] =
	"usage: cadeia-bench validate [--json] FILE...\n"
	"\n"
	"Parses and checks scenarios; creates nothing. Errors name file:line:column\n"
	"and the field. Exit status 2 if any file is invalid.\n";

static const char usage_plot[] =
	"usage: cadeia-bench plot [-o DIR] [--name STEM] [--title TEXT] RUNDIR...\n"
	"\n"
	"Redraws figure 6 (mean RTT against chain length, standard-error bars, fit\n"
	"line and slope per SF) from saved summary.csv/summary.json, one series per\n"
	"run, chain and architecture. Writes DIR/STEM.png, .svg and the gnuplot script\n"
	"(default: plots/fig6).\n";

static int want_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		}
	}
	return 0;
}

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "cadeia-bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n%s", usage);
	return EXIT_USAGE;
}

static int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	bool json = false;
	json_t *out = json_array();
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "+j", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return usage_error(usage_validate, "%s", "unknown option");
	}
	if (optind >= argc)
		return usage_error(usage_validate, "%s", "validate needs a scenario file");
	for (int i = optind; i < argc; i++) {
		static struct scenario sc;
		struct sc_err err;
		int ret = scenario_load(argv[i], &sc, &err);

		if (ret < 0) {
			rc = EXIT_USAGE;
			if (!json)
				fprintf(stderr, "%s\n", err.msg);
			json_array_append_new(out, json_pack("{s:s, s:b, s:s}", "file", argv[i],
							     "valid", 0, "error", err.msg));
			continue;
		}
		if (!json)
			printf("%s: valid: scenario %s, %s backend, %d nodes, %d chain%s, %d sweep point%s\n",
			       argv[i], sc.name, sc_backend_name(sc.backend), sc.n_nodes, sc.n_chains,
			       sc.n_chains == 1 ? "" : "s", sc.n_lengths, sc.n_lengths == 1 ? "" : "s");
		json_array_append_new(out, json_pack("{s:s, s:b, s:s, s:s, s:i, s:i, s:i}", "file",
						     argv[i], "valid", 1, "name", sc.name, "backend",
						     sc_backend_name(sc.backend), "nodes", sc.n_nodes,
						     "chains", sc.n_chains, "sweep_points",
						     sc.n_lengths));
		scenario_free(&sc);
	}
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(out);
	return rc;
}

static int cmd_run(int argc, char **argv, bool up)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	  { "results", required_argument, NULL, 'r' },
		{ "backend", required_argument, NULL, 'b' }, { "quiet", no_argument, NULL, 'q' },
		{ "length", required_argument, NULL, 'l' }, { 0 }
	};
	static struct scenario sc;
	const char *usage = up ? usage_up : usage_run, *backend = NULL;
	struct run_opts o = { .results_root = "results", .length = -1 };
	bool quiet = false;
	struct sc_err err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'r': o.results_root = optarg; break;
		case 'b': backend = optarg; break;
		case 'q': quiet = true; break;
		case 'l': {
			char *end;

			o.length = strtol(optarg, &end, 10);
			if (!up || *end || o.length < 0)
				return usage_error(usage, "bad --length '%s'", optarg);
			break;
		}
		default:
			return usage_error(usage, "%s", "unknown option");
		}
	}
	if (optind != argc - 1)
		return usage_error(usage, "%s", "exactly one scenario file is needed");
	if (scenario_load(argv[optind], &sc, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_USAGE;
	}
	if (backend) {
		if (strcmp(backend, "netns") == 0)
			sc.backend = SC_BACKEND_NETNS;
		else if (strcmp(backend, "libvirt") == 0)
			sc.backend = SC_BACKEND_LIBVIRT;
		else
			return usage_error(usage, "unknown backend '%s' (netns or libvirt)", backend);
	}
	if (o.length > sc_max_length(&sc)) {
		fprintf(stderr, "cadeia-bench: --length %d: the longest chain of %s has %d SFs\n",
			o.length, sc.path, sc_max_length(&sc));
		return EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "cadeia-bench: %s needs root (namespaces, BPF)\n", up ? "up" : "run");
		return 1;
	}
	o.up_only = up;
	o.progress = !quiet && !o.json && isatty(STDERR_FILENO);
	run_install_signals();
	rc = run_scenario(&sc, &o);
	scenario_free(&sc);
	return rc;
}

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

static int cmd_down(int argc, char **argv)
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

static int cmd_status(int argc, char **argv)
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

static int cmd_plot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "name", required_argument, NULL, 'n' },
		{ "title", required_argument, NULL, 't' }, { 0 }
	};
	struct plot_opts po = { .outdir = "plots" };
	struct plot_series *s = NULL;
	size_t ns = 0;
	char err[1024];
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': po.outdir = optarg; break;
		case 'n': po.name = optarg; break;
		case 't': po.title = optarg; break;
		default: return usage_error(usage_plot, "%s", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error(usage_plot, "%s", "plot needs at least one run directory");
	/* One series per (run, chain). */
	for (int i = optind; i < argc; i++) {
		if (plot_load_run_all(argv[i], &s, &ns, err, sizeof(err)) < 0) {
			fprintf(stderr, "cadeia-bench: %s\n", err);
			rc = 1;
			goto cleanup;
		}
	}
	if (plot_fig6(&po, s, ns, err, sizeof(err)) < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		rc = 1;
		goto cleanup;
	}
	printf("%s/%s.png\n%s/%s.svg\n", po.outdir, po.name ? po.name : PLOT_NAME_DEFAULT,
	       po.outdir, po.name ? po.name : PLOT_NAME_DEFAULT);
cleanup:
	plot_series_free_all(s, ns);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage_error(usage_main, "%s", "missing command");
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	/* Internal: a service function process, spawned by the orchestrator. */
	if (strcmp(cmd, "fn") == 0)
		return fn_main(argc, argv);
	/* Tools of the load experiment, usable by hand inside a testbed. */
	if (strcmp(cmd, "load") == 0 || strcmp(cmd, "load-sink") == 0)
		return loadgen_cli(argc, argv);
	if (strcmp(cmd, "lab") == 0)
		return lab_main(argc, argv);
	if (strcmp(cmd, "run") == 0)
		return want_help(argc, argv, usage_run) ? 0 : cmd_run(argc, argv, false);
	if (strcmp(cmd, "up") == 0)
		return want_help(argc, argv, usage_up) ? 0 : cmd_run(argc, argv, true);
	if (strcmp(cmd, "down") == 0)
		return want_help(argc, argv, usage_down) ? 0 : cmd_down(argc, argv);
	if (strcmp(cmd, "status") == 0)
		return want_help(argc, argv, usage_status) ? 0 : cmd_status(argc, argv);
	if (strcmp(cmd, "validate") == 0)
		return want_help(argc, argv, usage_validate) ? 0 : cmd_validate(argc, argv);
	if (strcmp(cmd, "plot") == 0)
		return want_help(argc, argv, usage_plot) ? 0 : cmd_plot(argc, argv);
	return usage_error(usage_main, "unknown command '%s'", cmd);
}
