/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cadeia-guest: the static helper inside the guest image. The libvirt
 * backend runs it through qemu-guest-agent's guest-exec, so it must need
 * nothing but the kernel: no ip binary, no libvirt, no shared libraries.
 *
 *   cadeia-guest fn KIND --dev IF [...]          the service function (fn.h)
 *   cadeia-guest probe --dst A.B.C.D [...]       ICMP RTT probe, CSV + report
 *   cadeia-guest neigh [--dev IF] IP MAC [...]   permanent neighbour entries
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/num.h"
#include "cadeia_stage.h"
#include "traffic/fn.h"
#include "sys/nl.h"
#include "traffic/probe.h"

static const char usage_main[] =
	"usage: cadeia-guest COMMAND [OPTIONS]\n"
	"\n"
	"commands:\n"
	"  fn KIND --dev IF [...]     run a service function (as `cadeia-bench fn`)\n"
	"  probe --dst A.B.C.D [...]  ICMP echo RTT probe from this guest\n"
	"  neigh [--dev IF] IP MAC [IP MAC ...]\n"
	"                             install permanent neighbour entries\n";

static const char usage_probe[] =
	"usage: cadeia-guest probe --dst A.B.C.D [--src A.B.C.D] [--size BYTES]\n"
	"                          [--rate PPS] [--count N] [--warmup N] [--grace-ms MS]\n"
	"\n"
	"Prints one line per recorded probe, \"seq,tx_ns,rtt_ns,ts_kernel\" (rtt_ns -1:\n"
	"lost), then one line \"report {...}\" with the counters as JSON.\n"
	"Defaults: --size 64 --rate 100 --count 100 --warmup 0 --grace-ms 1000.\n";

static const char usage_neigh[] =
	"usage: cadeia-guest neigh [--dev IF] IP MAC [IP MAC ...]\n"
	"\n"
	"Adds or replaces permanent IPv4 neighbour entries on IF (default eth0).\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	long long v;

	if (num_parse_ll(s, (long long)min, (long long)max, &v) < 0)
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

static int parse_ip4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

static const char *opt_name(const struct option *l, int val)
{
	for (; l->name; l++)
		if (l->val == val)
			return l->name;
	return "?";
}

/* One option of probe's into o; -EINVAL when its value does not parse, 1 when not one of these. */
static int probe_opt(int opt, const char *arg, struct probe_opts *o, bool *have_dst)
{
	unsigned long v;

	switch (opt) {
	case 'd':
		if (parse_ip4(arg, &o->dst) < 0)
			return -EINVAL;
		*have_dst = true;
		break;
	case 's':
		if (parse_ip4(arg, &o->src) < 0)
			return -EINVAL;
		break;
	case 'S':
		if (parse_uint(arg, PROBE_ICMP_SIZE_MIN, PROBE_ICMP_SIZE_MAX, &v) < 0)
			return -EINVAL;
		o->icmp_size = v;
		break;
	case 'r':
		if (num_parse_double(arg, 1e-3, 1e9, &o->rate_pps) < 0)
			return -EINVAL;
		break;
	case 'c':
		if (parse_uint(arg, 1, PROBE_MAX_PROBES, &v) < 0)
			return -EINVAL;
		o->count = v;
		break;
	case 'w':
		if (parse_uint(arg, 0, PROBE_MAX_PROBES, &v) < 0)
			return -EINVAL;
		o->warmup = v;
		break;
	case 'g':
		if (parse_uint(arg, 0, 600000, &v) < 0)
			return -EINVAL;
		o->grace_ms = v;
		break;
	default:
		return 1;
	}
	return 0;
}

/* The samples as CSV rows, then the report line (the host's backend parses both). */
static int probe_print(const struct probe_opts *o, const struct probe_sample *samples,
		       const struct probe_report *rep)
{
	for (unsigned i = 0; i < o->count; i++)
		printf("%u,%lld,%lld,%u\n", samples[i].seq, (long long)samples[i].tx_ns,
		       (long long)samples[i].rtt_ns, samples[i].ts_kernel);
	printf("report {\"sent\":%u,\"received\":%u,\"duplicates\":%u,"
	       "\"kernel_ts\":%u,\"user_ts\":%u,\"achieved_pps\":%.3f,"
	       "\"ts_source\":\"%s\",\"interrupted\":%s}\n",
	       rep->sent, rep->received, rep->duplicates, rep->kernel_ts, rep->user_ts,
	       rep->achieved_pps, rep->ts_source ? rep->ts_source : "none",
	       rep->interrupted ? "true" : "false");
	if (fflush(stdout) != 0) {
		fprintf(stderr, "cadeia-guest probe: writing stdout: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_probe(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "grace-ms", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct probe_opts o = {
		.icmp_size = PROBE_ICMP_SIZE_DEFAULT,
		.rate_pps = 100,
		.count = 100,
		.grace_ms = 1000,
		.stop = &stop,
	};
	struct probe_sample *samples = NULL;
	struct probe_report rep;
	struct sigaction sa = { .sa_handler = on_signal };
	bool have_dst = false;
	char err[256] = "";
	int opt, ret = 1;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (probe_opt(opt, optarg, &o, &have_dst)) {
		case 0:
			continue;
		case -EINVAL:
			goto bad_arg;
		}
		switch (opt) {
		case 'h':
			fputs(usage_probe, stdout);
			return 0;
		default:
			fputs(usage_probe, stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cadeia-guest probe: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	if (!have_dst) {
		fprintf(stderr, "cadeia-guest probe: --dst is required\n");
		return 1;
	}
	if (o.warmup + o.count > PROBE_MAX_PROBES) {
		fprintf(stderr, "cadeia-guest probe: --warmup + --count over %d\n",
			PROBE_MAX_PROBES);
		return 1;
	}

	samples = calloc(o.count, sizeof(*samples));
	if (!samples) {
		fprintf(stderr, "cadeia-guest probe: allocating %u samples: %s\n",
			o.count, strerror(errno));
		goto cleanup;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (probe_run(&o, samples, &rep, err, sizeof(err)) < 0) {
		fprintf(stderr, "cadeia-guest probe: %s\n", err);
		goto cleanup;
	}
	if (probe_print(&o, samples, &rep) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(samples);
	return ret;

bad_arg:
	fprintf(stderr, "cadeia-guest probe: bad --%s '%s'\n", opt_name(lopts, opt), optarg);
	return 1;
}

static int cmd_neigh(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev = "eth0";
	char err[256];
	int opt, i, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'h':
			fputs(usage_neigh, stdout);
			return 0;
		default:
			fputs(usage_neigh, stderr);
			return 1;
		}
	}
	if (optind >= argc || (argc - optind) % 2) {
		fprintf(stderr, "cadeia-guest neigh: need IP MAC pairs\n");
		fputs(usage_neigh, stderr);
		return 1;
	}
	/* Parse everything first: either all entries go in or none. */
	for (i = optind; i < argc; i += 2) {
		struct in_addr a;
		uint8_t mac[6];

		if (inet_pton(AF_INET, argv[i], &a) != 1) {
			fprintf(stderr, "cadeia-guest neigh: bad IPv4 address '%s'\n", argv[i]);
			return 1;
		}
		if (cs_mac_parse(argv[i + 1], mac) < 0) {
			fprintf(stderr, "cadeia-guest neigh: bad MAC address '%s'\n", argv[i + 1]);
			return 1;
		}
	}
	for (i = optind; i < argc; i += 2) {
		struct in_addr a;
		uint8_t mac[6];

		inet_pton(AF_INET, argv[i], &a);
		cs_mac_parse(argv[i + 1], mac);
		r = nl_neigh4_set(NULL, dev, a, mac, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "cadeia-guest neigh: %s\n", err);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_main, stderr);
		return 1;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	/* Each sub-command sees its own name as argv[0]. */
	if (strcmp(cmd, "fn") == 0)
		return fn_main(argc - 1, argv + 1);
	if (strcmp(cmd, "probe") == 0)
		return cmd_probe(argc - 1, argv + 1);
	if (strcmp(cmd, "neigh") == 0)
		return cmd_neigh(argc - 1, argv + 1);
	fprintf(stderr, "cadeia-guest: unknown command '%s'\n\n", cmd);
	fputs(usage_main, stderr);
	return 1;
}
