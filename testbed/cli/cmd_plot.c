/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `cadeia-bench plot`: redraw figure 6 from saved run directories. */
#include <getopt.h>
#include <stdio.h>

#include "analysis/plot.h"
#include "cli/cli.h"

const char usage_plot[] =
	"usage: cadeia-bench plot [-o DIR] [--name STEM] [--title TEXT] RUNDIR...\n"
	"\n"
	"Redraws figure 6 (mean RTT against chain length, standard-error bars, fit\n"
	"line and slope per SF) from saved summary.csv/summary.json, one series per\n"
	"run, chain and architecture. Writes DIR/STEM.png, .svg and the gnuplot script\n"
	"(default: plots/fig6).\n";

int cmd_plot(int argc, char **argv)
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

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
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
