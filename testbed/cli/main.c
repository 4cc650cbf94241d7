/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cadeia-bench: the command line. Subcommands in iproute2's style, one cmd_*.c each. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "backend/remote.h"

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
	"  hostnet ...        the agent a remote host runs over ssh for a run (several hosts)\n"
	"\n"
	"`cadeia-bench COMMAND --help` describes each. Exit status: 0 success,\n"
	"1 failure, 2 usage or scenario error, 3 interrupted (results kept, marked\n"
	"incomplete).\n";

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

int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "cadeia-bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n%s", usage);
	return EXIT_USAGE;
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
	if (strcmp(cmd, "fn") == 0)
		return cmd_fn(argc, argv);
	/* The agent a remote host runs for the orchestrator (backend/remote.h). */
	if (strcmp(cmd, "hostnet") == 0)
		return hostnet_main(argc, argv);
	if (strcmp(cmd, "load") == 0 || strcmp(cmd, "load-sink") == 0)
		return cmd_load(argc, argv);
	if (strcmp(cmd, "lab") == 0)
		return cmd_lab(argc, argv);
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
