// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cadeia-stage: attach a node's eBPF stages, load its rules, show its tables
 * and counters. Exit status: 0 ok, 1 runtime error, 2 usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "cadeia_stage.h"

#define EXIT_USAGE 2

static bool verbose;

static const char *const usage_text[] = {
	"Usage: cadeia-stage [-v] COMMAND [OPTIONS]\n"
	"Commands:\n"
	"  attach --node N [--netns NS] --dev IF --stages LIST [--xdp-generic]\n"
	"         [--kwire-mode otherhost|nsh-host] [--kwire-peer IF2]\n"
	"  detach --node N\n"
	"  rules  --node N [--netns NS] FILE\n"
	"  show   --node N [--json]\n"
	"  stats  --node N [--json]\n"
	"  list   [--json]\n"
	"Run 'cadeia-stage COMMAND --help' for details.\n",
};

static int usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cadeia-stage%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'cadeia-stage %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

static int runtime_err(const struct cs_err *err)
{
	fprintf(stderr, "%s\n", err->msg);
	return EXIT_FAILURE;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char buf[128];
	va_list cp;

	if (level != LIBBPF_WARN && !verbose)
		return 0;
	va_copy(cp, ap);
	vsnprintf(buf, sizeof(buf), fmt, cp);
	va_end(cp);
	/* bpf_tc_hook_create on an existing clsact: expected, not a problem */
	if (!verbose && strstr(buf, "Exclusivity flag on"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- option parsing shared by the commands -------------------------------- */

enum { OPT_NODE = 'n', OPT_NETNS = 'N', OPT_DEV = 'd', OPT_STAGES = 's',
       OPT_GENERIC = 'g', OPT_JSON = 'j', OPT_HELP = 'h',
       OPT_KWIRE_MODE = 'm', OPT_KWIRE_PEER = 'p' };

struct args {
	const char *node, *netns, *dev, *stages, *file;
	const char *kwire_mode, *kwire_peer;
	bool generic, json;
};

struct cmd {
	const char *name;
	const char *help;
	const char *shortopts;
	unsigned need_node : 1, need_file : 1;
	int (*run)(struct args *a);
};

static const struct option long_opts[] = {
	{ "node", required_argument, NULL, OPT_NODE },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "stages", required_argument, NULL, OPT_STAGES },
	{ "xdp-generic", no_argument, NULL, OPT_GENERIC },
	{ "kwire-mode", required_argument, NULL, OPT_KWIRE_MODE },
	{ "kwire-peer", required_argument, NULL, OPT_KWIRE_PEER },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{},
};

/* ---- formatting ----------------------------------------------------------- */


static const char *const kwire_modes[] = {
	[KWIRE_MODE_OTHERHOST] = "otherhost",
	[KWIRE_MODE_NSH_HOST] = "nsh-host",
};

static const char *kwire_mode_name(unsigned mode)
{
	return mode < sizeof(kwire_modes) / sizeof(kwire_modes[0]) ?
	       kwire_modes[mode] : "unknown";
}

static int kwire_mode_parse(const char *s, unsigned *mode)
{
	unsigned i;

	for (i = 0; i < sizeof(kwire_modes) / sizeof(kwire_modes[0]); i++) {
		if (!strcmp(s, kwire_modes[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

static void stages_str(unsigned mask, char *out, size_t sz)
{
	unsigned bit;
	size_t n = 0;

	out[0] = '\0';
	for (bit = 1; bit <= CS_STAGE_KWIRE; bit <<= 1)
		if (mask & bit)
			n += snprintf(out + n, n < sz ? sz - n : 0, "%s%s",
				      n ? "," : "", cs_stage_name(bit));
}

static int print_json(json_t *o)
{
	char *s;

	if (!o) {
		fprintf(stderr, "cadeia-stage: cannot build JSON output\n");
		return EXIT_FAILURE;
	}
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s) {
		fprintf(stderr, "cadeia-stage: cannot format JSON output\n");
		return EXIT_FAILURE;
	}
	printf("%s\n", s);
	free(s);
	return 0;
}

/* ---- commands ------------------------------------------------------------- */

static int cmd_attach(struct args *a)
{
	struct cs_attach_opts o = {
		.node = a->node, .netns = a->netns, .ifname = a->dev,
		.xdp_generic = a->generic, .kwire_peer = a->kwire_peer,
	};
	struct cs_err err;

	if (!a->dev)
		return usage_err("attach", "--dev is required");
	if (!a->stages)
		return usage_err("attach", "--stages is required");
	if (cs_stages_parse(a->stages, &o.stages, &err) < 0)
		return usage_err("attach", "%s", err.msg);
	if (a->kwire_mode && kwire_mode_parse(a->kwire_mode, &o.kwire_mode) < 0)
		return usage_err("attach", "--kwire-mode: unknown mode \"%s\" (otherhost or nsh-host)",
				 a->kwire_mode);
	if ((a->kwire_mode || a->kwire_peer) && !(o.stages & CS_STAGE_KWIRE))
		return usage_err("attach", "--kwire-mode and --kwire-peer need the kwire stage");
	if (cs_attach(&o, &err) < 0)
		return runtime_err(&err);
	return 0;
}

static int cmd_detach(struct args *a)
{
	struct cs_err err;

	if (cs_detach(a->node, &err) < 0)
		return runtime_err(&err);
	return 0;
}

static int cmd_rules(struct args *a)
{
	struct cs_node_info info;
	const char *netns = a->netns;
	struct cs_err err;

	/* ifname in rules defaults to the node's own netns */
	if (!netns && cs_node_info(a->node, &info, &err) == 0 && info.netns[0])
		netns = info.netns;
	if (cs_rules_load_file(a->node, netns, a->file, &err) < 0)
		return runtime_err(&err);
	return 0;
}

/* Counters of every attached stage; NULL and a message on error. */
static json_t *counters_json(const char *node, unsigned stages, struct cs_err *err)
{
	struct cs_counter c[64];
	json_t *all = json_object(), *st;
	unsigned bit;
	size_t n, i;

	for (bit = 1; bit <= CS_STAGE_KWIRE; bit <<= 1) {
		if (!(stages & bit))
			continue;
		n = sizeof(c) / sizeof(c[0]);
		if (cs_stats_read(node, bit, c, &n, err) < 0) {
			json_decref(all);
			return NULL;
		}
		st = json_object();
		for (i = 0; i < n; i++)
			json_object_set_new(st, c[i].name, json_integer((json_int_t)c[i].value));
		json_object_set_new(all, cs_stage_name(bit), st);
	}
	return all;
}

static void print_counters(json_t *counters)
{
	const char *stage, *name;
	json_t *st, *v;

	json_object_foreach(counters, stage, st) {
		printf("%s:\n", stage);
		json_object_foreach(st, name, v)
			printf("  %-20s %" JSON_INTEGER_FORMAT "\n", name,
			       json_integer_value(v));
	}
}

static int cmd_stats(struct args *a)
{
	struct cs_node_info info;
	struct cs_err err;
	json_t *c;

	if (cs_node_info(a->node, &info, &err) < 0)
		return runtime_err(&err);
	c = counters_json(a->node, info.stages, &err);
	if (!c)
		return runtime_err(&err);
	if (a->json)
		return print_json(json_pack("{s:s, s:o}", "node", a->node,
					    "counters", c));
	print_counters(c);
	json_decref(c);
	return 0;
}

static int cmd_show(struct args *a)
{
	struct cls_rule cls[CLS_MAX_RULES];
	struct cs_fwd_rule *fwd = NULL;
	json_t *o = NULL, *jcls, *jfwd, *c = NULL, *v;
	struct cs_node_info info;
	char mac[18], st[64];
	struct cs_err err;
	size_t ncls = CLS_MAX_RULES, nfwd = 4096, i;
	int ret = EXIT_FAILURE;

	if (cs_node_info(a->node, &info, &err) < 0)
		return runtime_err(&err);
	cs_mac_format(info.mac, mac);
	stages_str(info.stages, st, sizeof(st));
	jcls = json_array();
	jfwd = json_array();
	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:b}", "node", a->node,
		      "netns", info.netns, "dev", info.ifname, "ifindex", info.ifindex,
		      "mac", mac, "stages", st,
		      "xdp_mode", info.xdp_generic ? "generic" : "native",
		      "clsact_created", info.clsact_created);
	if (!o || !jcls || !jfwd)
		goto cleanup;
	if (info.stages & CS_STAGE_KWIRE) {
		json_object_set_new(o, "kwire_mode",
				    json_string(kwire_mode_name(info.kwire_mode)));
		json_object_set_new(o, "kwire_peer", json_string(info.kwire_peer));
		json_object_set_new(o, "kwire_peer_ifindex",
				    json_integer(info.kwire_peer_ifindex));
	}

	if (info.stages & CS_STAGE_CLASSIFIER) {
		if (cs_cls_read(a->node, cls, &ncls, &err) < 0)
			goto err;
		for (i = 0; i < ncls; i++)
			json_array_append_new(jcls, cs_cls_rule_json(&cls[i]));
		json_object_set(o, "classifier", jcls);
	}
	if (info.stages & CS_STAGE_FWD) {
		fwd = calloc(nfwd, sizeof(*fwd));
		if (!fwd)
			goto cleanup;
		if (cs_fwd_read(a->node, fwd, &nfwd, &err) < 0)
			goto err;
		for (i = 0; i < nfwd; i++)
			json_array_append_new(jfwd, cs_fwd_rule_json(&fwd[i]));
		json_object_set(o, "forwarding", jfwd);
	}
	c = counters_json(a->node, info.stages, &err);
	if (!c)
		goto err;

	if (a->json) {
		json_object_set_new(o, "counters", c);
		ret = print_json(o);
		o = NULL;
		goto cleanup;
	}

	printf("node %s: netns %s dev %s ifindex %d mac %s\n", a->node,
	       info.netns[0] ? info.netns : "(current)", info.ifname,
	       info.ifindex, mac);
	printf("  stages %s xdp %s clsact %s\n", st,
	       info.xdp_generic ? "generic" : "native",
	       info.clsact_created ? "ours" : "pre-existing");
	if (info.stages & CS_STAGE_KWIRE)
		printf("  kwire mode %s peer %s (ifindex %d)\n",
		       kwire_mode_name(info.kwire_mode),
		       info.kwire_peer[0] ? info.kwire_peer : "(same interface)",
		       info.kwire_peer_ifindex ? info.kwire_peer_ifindex : info.ifindex);
	if (info.stages & CS_STAGE_CLASSIFIER) {
		printf("classifier: %zu rules\n", ncls);
		json_array_foreach(jcls, i, v)
			printf("  [%zu] src %s dst %s proto %s sport %lld dport %lld -> spi %lld si %lld next_hop %s ifindex %lld md_type %lld inner %s\n",
			       i, json_string_value(json_object_get(v, "src")),
			       json_string_value(json_object_get(v, "dst")),
			       json_string_value(json_object_get(v, "proto")),
			       json_integer_value(json_object_get(v, "sport")),
			       json_integer_value(json_object_get(v, "dport")),
			       json_integer_value(json_object_get(v, "spi")),
			       json_integer_value(json_object_get(v, "si")),
			       json_string_value(json_object_get(v, "next_hop")),
			       json_integer_value(json_object_get(v, "ifindex")),
			       json_integer_value(json_object_get(v, "md_type")),
			       json_string_value(json_object_get(v, "inner")));
	}
	if (info.stages & CS_STAGE_FWD) {
		printf("forwarding: %zu entries\n", nfwd);
		for (i = 0; i < nfwd; i++) {
			cs_mac_format(fwd[i].val.mac, mac);
			printf("  spi %u si %u -> %s %s ifindex %u%s\n",
			       fwd[i].key.spi, fwd[i].key.si,
			       fwd[i].val.action == FWD_END ? "end dest_mac" : "next_hop",
			       mac, fwd[i].val.ifindex,
			       fwd[i].val.flags & FWD_F_KEEP_TTL ? " keep_ttl" : "");
		}
	}
	print_counters(c);
	json_decref(c);
	ret = 0;
	goto cleanup;
err:
	ret = runtime_err(&err);
cleanup:
	free(fwd);
	json_decref(jcls);
	json_decref(jfwd);
	json_decref(o);
	return ret;
}

static int cmd_list(struct args *a)
{
	struct cs_node_info info;
	json_t *arr = json_array();
	struct cs_err err;
	struct dirent *de;
	char st[64];
	DIR *d;

	d = opendir(CADEIA_PIN_ROOT);
	if (!d && errno != ENOENT) {
		fprintf(stderr, "%s: %s\n", CADEIA_PIN_ROOT, strerror(errno));
		json_decref(arr);
		return EXIT_FAILURE;
	}
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !cs_node_exists(de->d_name))
			continue;
		if (cs_node_info(de->d_name, &info, &err) < 0) {
			/* a half-made node: still list it, detach cleans it */
			json_array_append_new(arr, json_pack("{s:s, s:s}", "node",
							     de->d_name, "error", err.msg));
			continue;
		}
		stages_str(info.stages, st, sizeof(st));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}",
						     "node", de->d_name, "netns", info.netns,
						     "dev", info.ifname, "stages", st));
	}
	if (d)
		closedir(d);
	if (a->json)
		return print_json(arr);
	{
		size_t i;
		json_t *v;

		json_array_foreach(arr, i, v) {
			if (json_object_get(v, "error"))
				printf("%s (%s)\n", json_string_value(json_object_get(v, "node")),
				       json_string_value(json_object_get(v, "error")));
			else
				printf("%s netns %s dev %s stages %s\n",
				       json_string_value(json_object_get(v, "node")),
				       json_string_value(json_object_get(v, "netns"))[0] ?
				       json_string_value(json_object_get(v, "netns")) : "(current)",
				       json_string_value(json_object_get(v, "dev")),
				       json_string_value(json_object_get(v, "stages")));
		}
	}
	json_decref(arr);
	return 0;
}

static const struct cmd cmds[] = {
	{ "attach",
	  "Usage: cadeia-stage attach --node N [--netns NS] --dev IF --stages LIST [--xdp-generic]\n"
	  "                           [--kwire-mode otherhost|nsh-host] [--kwire-peer IF2]\n"
	  "Loads the stages with IF's MAC as node_mac, pins their maps under\n"
	  CADEIA_PIN_ROOT "/N and attaches them to IF inside netns NS.\n"
	  "LIST: comma-separated classifier, dec, enc, fwd, kwire; sf = dec,enc,fwd;\n"
	  "nsh-aware = fwd. Hooks: classifier, enc, fwd on tc egress (prio 1, 2, 3),\n"
	  "kwire on tc ingress (prio 1), dec on XDP (native unless --xdp-generic).\n"
	  "kwire sends on frames not for this host (otherhost, the default) or NSH\n"
	  "frames addressed to it (nsh-host: an SFF node), back out of IF, or out\n"
	  "of IF2 (same netns) with --kwire-peer: a cross-connect.\n",
	  ":n:N:d:s:gm:p:h", 1, 0, cmd_attach },
	{ "detach",
	  "Usage: cadeia-stage detach --node N\n"
	  "Removes what attach attached for N (only programs that are still ours,\n"
	  "and the clsact qdisc if attach created it) and N's pin directory.\n",
	  ":n:h", 1, 0, cmd_detach },
	{ "rules",
	  "Usage: cadeia-stage rules --node N [--netns NS] FILE\n"
	  "Replaces N's classifier and/or forwarding table with FILE's (JSON).\n"
	  "ifname fields resolve in NS, by default in the netns N was attached in.\n",
	  ":n:N:h", 1, 1, cmd_rules },
	{ "show",
	  "Usage: cadeia-stage show --node N [--json]\n"
	  "Prints N's attachment, tables and counters.\n",
	  ":n:jh", 1, 0, cmd_show },
	{ "stats",
	  "Usage: cadeia-stage stats --node N [--json]\n"
	  "Prints the counters of each attached stage, summed over CPUs.\n",
	  ":n:jh", 1, 0, cmd_stats },
	{ "list",
	  "Usage: cadeia-stage list [--json]\n"
	  "Lists the nodes pinned under " CADEIA_PIN_ROOT ".\n",
	  ":jh", 0, 0, cmd_list },
};

static int run_cmd(const struct cmd *c, int argc, char **argv)
{
	struct args a = {};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, c->shortopts, long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_NODE: a.node = optarg; break;
		case OPT_NETNS: a.netns = optarg; break;
		case OPT_DEV: a.dev = optarg; break;
		case OPT_STAGES: a.stages = optarg; break;
		case OPT_GENERIC: a.generic = true; break;
		case OPT_KWIRE_MODE: a.kwire_mode = optarg; break;
		case OPT_KWIRE_PEER: a.kwire_peer = optarg; break;
		case OPT_JSON: a.json = true; break;
		case OPT_HELP:
			fputs(c->help, stdout);
			return 0;
		case ':':
			return usage_err(c->name, "option %s needs a value",
					 argv[optind - 1]);
		default:
			return usage_err(c->name, "unknown option %s",
					 argv[optind - 1]);
		}
	}
	/* long_opts is shared: reject options this command does not take */
	if ((a.netns && !strchr(c->shortopts, OPT_NETNS)) ||
	    (a.dev && !strchr(c->shortopts, OPT_DEV)) ||
	    (a.stages && !strchr(c->shortopts, OPT_STAGES)) ||
	    (a.generic && !strchr(c->shortopts, OPT_GENERIC)) ||
	    (a.kwire_mode && !strchr(c->shortopts, OPT_KWIRE_MODE)) ||
	    (a.kwire_peer && !strchr(c->shortopts, OPT_KWIRE_PEER)) ||
	    (a.json && !strchr(c->shortopts, OPT_JSON)) ||
	    (a.node && !strchr(c->shortopts, OPT_NODE)))
		return usage_err(c->name, "option not valid for %s", c->name);
	if (c->need_node && !a.node)
		return usage_err(c->name, "--node is required");
	if (c->need_file) {
		if (optind != argc - 1)
			return usage_err(c->name, "expected exactly one FILE");
		a.file = argv[optind];
	} else if (optind != argc) {
		return usage_err(c->name, "unexpected argument '%s'", argv[optind]);
	}
	return c->run(&a);
}

int main(int argc, char **argv)
{
	size_t i;

	libbpf_set_print(libbpf_print);
	if (argc > 1 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))) {
		verbose = true;
		argv++;
		argc--;
	}
	if (argc < 2)
		return usage_err(NULL, "missing command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text[0], stdout);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return run_cmd(&cmds[i], argc - 1, argv + 1);
	return usage_err(NULL, "unknown command '%s'", argv[1]);
}
