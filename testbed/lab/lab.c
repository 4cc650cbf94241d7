/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `cadeia-bench lab`: the command line of the lab course, the report every
 * checker writes to, and how a checker finds the student's testbed.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab.h"
#include "model/num.h"
#include "lab/lab_priv.h"

#define EXIT_USAGE 2

static const char usage_lab[] =
	"usage: cadeia-bench lab list [--json]\n"
	"       cadeia-bench lab check N [--run ID] [--dir DIR] [--json]\n"
	"\n"
	"The lab course (docs/labs/). `check N` verifies lab N on the live testbed\n"
	"and in the student's lab directory (default ./lab: DIR/N/...), and says in\n"
	"plain words what is still wrong. The checker captures, probes and reads the\n"
	"stages' tables and counters itself; it never trusts a file's \"done\".\n"
	"\n"
	"  --run ID   the testbed to check (default: the only run brought up from\n"
	"             docs/labs/scenarios/labN.json; labs 4 and 5 need none)\n"
	"  --dir DIR  the lab directory (default: lab)\n"
	"  --json     one JSON object: lab, passed, problems and every check\n"
	"\n"
	"Exit status: 0 the lab passes, 1 something is still wrong, 2 usage error.\n";

static const struct {
	const char *title;
	const char *needs;
	int (*check)(struct lab_ctx *c);
} lab_table[LAB_COUNT] = {
	{ "Run a chain and see NSH on the wire",
	  "up docs/labs/scenarios/lab1.json; DIR/1/answers.json", lab_check1 },
	{ "Control plane: change a running chain",
	  "up docs/labs/scenarios/lab2.json; DIR/2/<node>.json rules files", lab_check2 },
	{ "A legacy function becomes part of a chain",
	  "up docs/labs/scenarios/lab3.json; DIR/3/portfilter.c, built with make labs", lab_check3 },
	{ "Program a stage",
	  "DIR/4/spi_count.bpf.c, built with make labs", lab_check4 },
	{ "Evaluate: figure 6 and the forwarder-based architecture",
	  "results of quick.json and lab5-compare.json; DIR/5/answers.json", lab_check5 },
};

static void report(struct lab_ctx *c, const char *kind, const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c->json)
		json_array_append_new(c->items, json_pack("{s:s, s:s}", "result", kind,
							  "message", msg));
	else
		printf("  %-8s %s\n", kind, msg);
	fflush(stdout);
}

void lab_ok(struct lab_ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->passed++;
	va_start(ap, fmt);
	report(c, "ok", fmt, ap);
	va_end(ap);
}

void lab_problem(struct lab_ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	va_start(ap, fmt);
	report(c, "PROBLEM", fmt, ap);
	va_end(ap);
}

void lab_info(struct lab_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, "info", fmt, ap);
	va_end(ap);
}

void lab_node_name(const struct lab_ctx *c, int node, char *out, size_t len)
{
	snprintf(out, len, "%s-%s", c->rs.id, c->sc.nodes[node].name);
}

void lab_path(const struct lab_ctx *c, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s/%d/%s", c->dir, c->n, file);
}

json_t *lab_load_json(struct lab_ctx *c, const char *file)
{
	char path[1024];
	json_error_t jerr;
	json_t *j;

	lab_path(c, file, path, sizeof(path));
	if (access(path, F_OK) < 0) {
		lab_problem(c, "%s: %s; start from the template: cp -r docs/labs/templates/%d %s/",
			    path, strerror(errno), c->n, c->dir);
		return NULL;
	}
	j = json_load_file(path, 0, &jerr);
	if (!j)
		lab_problem(c, "%s:%d:%d: not valid JSON: %s", path, jerr.line, jerr.column,
			    jerr.text);
	return j;
}

int lab_node_by_mac(const struct scenario *sc, const uint8_t mac[6])
{
	for (int i = 0; i < sc->n_nodes; i++)
		if (memcmp(sc->nodes[i].mac, mac, 6) == 0)
			return i;
	return -1;
}

static bool run_is_lab(const char *id, const char *want)
{
	struct runstate rs;
	char err[512], path[4096];
	const char *sc;
	bool ok;

	if (rs_open(&rs, id, err, sizeof(err)) < 0)
		return false;
	sc = json_string_value(json_object_get(rs.doc, "scenario"));
	snprintf(path, sizeof(path), "%s", sc ?: "");
	ok = sc && strcmp(basename(path), want) == 0;
	rs_close(&rs);
	return ok;
}

int lab_open_run(struct lab_ctx *c, const char *stem)
{
	char want[80], err[512], found[256] = "", id[RS_ID_LEN + 1] = "";
	struct sc_err serr;
	const char *path;
	char **ids;
	size_t n, hits = 0;

	snprintf(want, sizeof(want), "%s.json", stem);
	if (c->run_id) {
		snprintf(id, sizeof(id), "%s", c->run_id);
	} else {
		if (rs_list(&ids, &n) < 0) {
			lab_problem(c, "cannot read %s: %s", RS_DIR, strerror(errno));
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (!run_is_lab(ids[i], want))
				continue;
			hits++;
			snprintf(id, sizeof(id), "%s", ids[i]);
			snprintf(found + strlen(found), sizeof(found) - strlen(found), "%s%s",
				 hits > 1 ? ", " : "", ids[i]);
		}
		rs_list_free(ids, n);
		if (hits == 0) {
			lab_problem(c, "no testbed of lab %d is up: start one with `cadeia-bench up docs/labs/scenarios/%s` (or name it with --run ID)",
				    c->n, want);
			return -1;
		}
		if (hits > 1) {
			lab_problem(c, "%zu testbeds of lab %d are up (%s): name one with --run ID, or take the others down with `cadeia-bench down ID`",
				    hits, c->n, found);
			return -1;
		}
	}
	if (rs_open(&c->rs, id, err, sizeof(err)) < 0) {
		lab_problem(c, "run %s: %s", id, err);
		return -1;
	}
	c->have_rs = true;
	if (access(c->rs.path, F_OK) < 0) {
		lab_problem(c, "run %s is not up (no %s); `cadeia-bench status` lists the runs",
			    id, c->rs.path);
		return -1;
	}
	path = json_string_value(json_object_get(c->rs.doc, "scenario"));
	if (!path || scenario_load(path, &c->sc, &serr) < 0) {
		lab_problem(c, "run %s: cannot reload its scenario %s: %s", id, path ?: "(none)",
			    path ? serr.msg : "not recorded");
		return -1;
	}
	c->have_sc = true;
	lab_info(c, "testbed %s (scenario %s)", id, path);
	return 0;
}

static int cmd_list(bool json)
{
	json_t *out = json_array();

	for (int i = 0; i < LAB_COUNT; i++) {
		if (json)
			json_array_append_new(out, json_pack("{s:i, s:s, s:s, s:s}", "lab", i + 1,
							     "title", lab_table[i].title, "sheet",
							     "docs/labs/", "needs", lab_table[i].needs));
		else
			printf("%d  %-56s docs/labs/lab%d.md\n   needs: %s\n", i + 1,
			       lab_table[i].title, i + 1, lab_table[i].needs);
	}
	if (json) {
		for (size_t i = 0; i < json_array_size(out); i++) {
			char sheet[32];

			snprintf(sheet, sizeof(sheet), "docs/labs/lab%zu.md", i + 1);
			json_object_set_new(json_array_get(out, i), "sheet", json_string(sheet));
		}
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	}
	json_decref(out);
	return 0;
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "cadeia-bench lab: ");
	fprintf(stderr, what, arg);
	fprintf(stderr, "\n\n%s", usage_lab);
	return EXIT_USAGE;
}

int lab_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' }, { "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },	{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct lab_ctx *c;
	const char *sub;
	bool json = false;
	const char *run = NULL, *dir = "lab";
	int n;
	int opt, ret = 1;

	/* GNU getopt permutes: options may come before or after "check N". */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:d:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': run = optarg; break;
		case 'd': dir = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(usage_lab, stdout); return 0;
		default: return usage_error("%s", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("%s", "missing subcommand (list or check)");
	sub = argv[optind++];
	if (strcmp(sub, "list") == 0) {
		if (optind < argc)
			return usage_error("unexpected argument '%s'", argv[optind]);
		return cmd_list(json);
	}
	if (strcmp(sub, "check") != 0)
		return usage_error("unknown subcommand '%s' (list or check)", sub);
	if (optind >= argc)
		return usage_error("%s", "check needs a lab number (1 to 5)");
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	if (num_parse_int(argv[optind], 1, LAB_COUNT, &n) < 0)
		return usage_error("no lab '%s' (1 to 5)", argv[optind]);

	c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "cadeia-bench lab: out of memory\n");
		return 1;
	}
	c->n = n;
	c->dir = dir;
	c->run_id = run;
	c->json = json;
	c->items = json_array();
	if (!json)
		printf("lab %d: %s\n", c->n, lab_table[n - 1].title);
	lab_table[n - 1].check(c);
	if (c->passed == 0 && c->problems == 0)
		lab_problem(c, "nothing could be checked");
	ret = c->problems ? 1 : 0;
	if (json) {
		json_t *o = json_pack("{s:i, s:s, s:b, s:i, s:i, s:O}", "lab", c->n, "dir", dir,
				      "passed", !c->problems, "checks_passed", c->passed,
				      "problems", c->problems, "checks", c->items);

		if (c->have_rs)
			json_object_set_new(o, "run", json_string(c->rs.id));
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
	} else if (c->problems) {
		printf("lab %d: NOT YET: %d problem%s (and %d check%s passed); fix %s and run `cadeia-bench lab check %d` again\n",
		       c->n, c->problems, c->problems == 1 ? "" : "s", c->passed,
		       c->passed == 1 ? "" : "s", c->problems == 1 ? "it" : "them", c->n);
	} else {
		printf("lab %d: PASSED (%d checks)\n", c->n, c->passed);
	}
	json_decref(c->items);
	if (c->have_sc)
		scenario_free(&c->sc);
	if (c->have_rs)
		rs_close(&c->rs);
	free(c);
	return ret;
}
