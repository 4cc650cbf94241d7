/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `cadeia-bench run` and `up`: build a scenario's testbed and measure it, or leave it up. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "model/num.h"
#include "model/scenario.h"
#include "run/run.h"

const char usage_run[] =
	"usage: cadeia-bench run [--json] [--results DIR] [--backend netns|libvirt] SCENARIO\n"
	"\n"
	"Builds the scenario's testbed once with its longest chain (one per\n"
	"architecture, all up at once), then visits every (architecture, chain\n"
	"length) once per round in a shuffled order (measure.order): rewrites the\n"
	"forwarding rules, checks they took effect, and probes RTT with the\n"
	"scenario's method. Writes\n"
	"DIR/<scenario>-<UTC time>/ (raw.csv, summary.csv, summary.json, meta.json,\n"
	"plots/fig6.png and .svg). Ctrl-C stops early: what was measured is kept and\n"
	"marked incomplete, and everything the run created is removed.\n"
	"\n"
	"  --json           print summary.json on stdout instead of a table\n"
	"  --results DIR    where run directories go (default: results)\n"
	"  --backend NAME   override the scenario's backend\n"
	"  --quiet          no progress even on a terminal\n";

const char usage_up[] =
	"usage: cadeia-bench up [--length N] SCENARIO\n"
	"\n"
	"Builds the testbed, installs chain length N (default: the longest) and\n"
	"leaves it running for inspection (ip netns, tcpdump, cadeia-stage show).\n"
	"Prints the run id; `cadeia-bench down RUN` removes it.\n";

int cmd_run(int argc, char **argv, bool up)
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
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'r': o.results_root = optarg; break;
		case 'b': backend = optarg; break;
		case 'q': quiet = true; break;
		case 'l':
			if (!up)
				return usage_error(usage, "%s", "--length belongs to `up` (run measures every length of the sweep)");
			if (num_parse_int(optarg, 0, SC_MAX_CHAIN_LEN, &o.length) < 0) {
				char what[128];

				snprintf(what, sizeof(what), "bad --length '%.60s' (a number of SFs, 0 to %d)",
					 optarg, SC_MAX_CHAIN_LEN);
				return usage_error(usage, "%s", what);
			}
			break;
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
			rc = usage_error(usage, "unknown backend '%s' (netns or libvirt)", backend);
		if (rc)
			goto cleanup;
	}
	if (o.length > sc_max_length(&sc)) {
		fprintf(stderr, "cadeia-bench: --length %d: the longest chain of %s has %d SFs\n",
			o.length, sc.path, sc_max_length(&sc));
		rc = EXIT_USAGE;
		goto cleanup;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "cadeia-bench: %s needs root (namespaces, BPF)\n", up ? "up" : "run");
		rc = 1;
		goto cleanup;
	}
	o.up_only = up;
	o.progress = !quiet && !o.json && isatty(STDERR_FILENO);
	run_install_signals();
	rc = run_scenario(&sc, &o);
cleanup:
	scenario_free(&sc);
	return rc;
}
