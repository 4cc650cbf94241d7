/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `cadeia-bench validate`: parse and check scenarios, create nothing. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cli/cli.h"
#include "model/scenario.h"

const char usage_validate[] =
	"usage: cadeia-bench validate [--json] FILE...\n"
	"\n"
	"Parses and checks scenarios; creates nothing. Errors name file:line:column\n"
	"and the field. Exit status 2 if any file is invalid.\n";

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	bool json = false;
	json_t *out = json_array();
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
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
