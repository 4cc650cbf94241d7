// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * testbed/traffic/loadgen.c and the NDR search on real wires: two throw-away netns
 * joined by a veth (names start with "cbtK" and carry our pid), with tc
 * qdiscs on the sender side for known limits and for reordering; removed
 * again at exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "traffic/loadgen.h"
#include "exp/load_trial.h"
#include "exp/ndr.h"
#include "tap.h"

#define ADDR_A "10.231.75.1"
#define ADDR_B "10.231.75.2"
#define MAC_A "02:00:00:4b:00:01"
#define MAC_B "02:00:00:4b:00:02"
#define PORT 9099
/* tbf on the sender: 8 mbit/s over 60-byte (64-byte RFC 2544) frames. */
#define TBF_RATE_BPS 8000000.0

static char ns_a[32], ns_b[32], if_a[16], if_b[16];
static int setup_done;

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r != 0)
		DIAG("command failed (%d): %s", r, cmd);
	return r;
}

static void teardown(void)
{
	if (!setup_done)
		return;
	/* Deleting a netns takes its end of the veth and so the pair. */
	sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; true", ns_a, ns_b);
	setup_done = 0;
}

static void on_signal(int sig)
{
	exit(128 + sig);
}

static int setup(void)
{
	snprintf(ns_a, sizeof(ns_a), "cbtK%d-a", getpid());
	snprintf(ns_b, sizeof(ns_b), "cbtK%d-b", getpid());
	snprintf(if_a, sizeof(if_a), "cbtK%da", getpid() % 100000);
	snprintf(if_b, sizeof(if_b), "cbtK%db", getpid() % 100000);
	setup_done = 1;
	atexit(teardown);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/* No IPv6 and static neighbours: the only frames on the wire are ours,
	 * so interface byte counters can be checked exactly. */
	if (sh("ip netns add %s && ip netns add %s", ns_a, ns_b) ||
	    sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
	       "net.ipv6.conf.default.disable_ipv6=1", ns_a) ||
	    sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
	       "net.ipv6.conf.default.disable_ipv6=1", ns_b) ||
	    sh("ip link add %s netns %s address " MAC_A " type veth peer name %s netns %s "
	       "address " MAC_B, if_a, ns_a, if_b, ns_b) ||
	    sh("ip -n %s addr add " ADDR_A "/24 dev %s && ip -n %s link set %s up",
	       ns_a, if_a, ns_a, if_a) ||
	    sh("ip -n %s addr add " ADDR_B "/24 dev %s && ip -n %s link set %s up",
	       ns_b, if_b, ns_b, if_b) ||
	    sh("ip -n %s neigh replace " ADDR_B " lladdr " MAC_B " dev %s nud permanent",
	       ns_a, if_a) ||
	    sh("ip -n %s neigh replace " ADDR_A " lladdr " MAC_A " dev %s nud permanent",
	       ns_b, if_b))
		return -1;
	return 0;
}

static long long counter(const char *ns, const char *ifname, const char *what)
{
	char cmd[256];
	long long v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /sys/class/net/%s/statistics/%s",
		 ns, ifname, what);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	pclose(f);
	return v;
}

static void gen_opts(struct loadgen_opts *o, unsigned frame, unsigned flows, double pps,
		     double secs)
{
	memset(o, 0, sizeof(*o));
	o->netns = ns_a;
	inet_pton(AF_INET, ADDR_A, &o->src);
	inet_pton(AF_INET, ADDR_B, &o->dst);
	o->dport = PORT;
	o->frame_size = frame;
	o->flows = flows;
	o->rate_pps = pps;
	o->duration_s = secs;
	o->warmup_ms = 20;
}

static void msleep(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_payload_len(void)
{
	CHECK(loadgen_payload_len(64) == 18 && loadgen_payload_len(1518) == 1472 &&
	      loadgen_payload_len(1500) == 1454, "payload: 64 -> 18, 1500 -> 1454, 1518 -> 1472");
	CHECK(loadgen_payload_len(63) == -EINVAL && loadgen_payload_len(1519) == -EINVAL,
	      "frame sizes 63 and 1519 rejected");
	CHECK(loadgen_wire_len(64) == 60 && sizeof(struct loadgen_hdr) <= 18,
	      "64-byte frame is 60 bytes on the link and the header fits its payload");
}

/* A clean wire at a modest rate: exact counts, per flow, bytes on the wire. */
static void test_unlimited(struct loadgen_sink *sk, unsigned frame, double pps, double secs)
{
	struct loadgen_sink_report sr;
	struct loadgen_report rep;
	struct loadgen_opts o;
	uint64_t per_flow[5];
	long long p0, b0, p1, b1, pa0, pa1;
	char err[256] = "";
	unsigned flows = 4, i, even = 1;
	int r;

	gen_opts(&o, frame, flows, pps, secs);
	o.run_id = 100 + frame;
	loadgen_sink_reset(sk, o.run_id);
	p0 = counter(ns_b, if_b, "rx_packets");
	b0 = counter(ns_b, if_b, "rx_bytes");
	pa0 = counter(ns_a, if_a, "tx_packets");
	r = loadgen_run(&o, &rep, err, sizeof(err));
	msleep(200);
	loadgen_sink_read(sk, &sr, per_flow, 5);
	p1 = counter(ns_b, if_b, "rx_packets");
	b1 = counter(ns_b, if_b, "rx_bytes");
	pa1 = counter(ns_a, if_a, "tx_packets");

	DIAG("%u B, %.0f pps x %.1f s: planned %llu sent %llu achieved %.0f pps, blocked %llu",
	     frame, pps, secs, (unsigned long long)rep.planned, (unsigned long long)rep.sent,
	     rep.achieved_pps, (unsigned long long)rep.blocked);
	CHECK(r == 0, "%u-byte run returns 0 (%s)", frame, err);
	CHECK(rep.sent > 0 && rep.sent <= rep.planned && rep.planned == (uint64_t)llround(pps * secs),
	      "%u B: planned %.0f, sent %llu", frame, pps * secs, (unsigned long long)rep.sent);
	CHECK(sr.received == rep.sent && sr.sock_drops == 0 && sr.delivered == rep.sent,
	      "%u B: sink received exactly what was sent (%llu of %llu, %llu socket drops)", frame,
	      (unsigned long long)sr.received, (unsigned long long)rep.sent,
	      (unsigned long long)sr.sock_drops);
	CHECK(sr.duplicates == 0 && sr.reordered == 0 && sr.foreign == 0 && sr.other_run == 0,
	      "%u B: no duplicates, reordering, foreign or other-run packets", frame);
	CHECK(sr.warmup == flows && rep.warmup_sent == flows,
	      "%u B: one warm-up packet per flow, not counted as received", frame);
	for (i = 0; i < flows; i++)
		if (per_flow[i] != rep.sent / flows + (i < rep.sent % flows))
			even = 0;
	CHECK(sr.flows_seen == flows && even && per_flow[4] == 0,
	      "%u B: round robin over %u flows (%llu %llu %llu %llu)", frame, flows,
	      (unsigned long long)per_flow[0], (unsigned long long)per_flow[1],
	      (unsigned long long)per_flow[2], (unsigned long long)per_flow[3]);
	CHECK(p1 - p0 == (long long)(rep.sent + flows) && pa1 - pa0 == p1 - p0,
	      "%u B: veth counted %lld packets out and %lld in (sent + warm-up)", frame,
	      pa1 - pa0, p1 - p0);
	CHECK(b1 - b0 == (p1 - p0) * (long long)loadgen_wire_len(frame),
	      "%u B: every frame is %u bytes on the link (%lld bytes / %lld packets)", frame,
	      loadgen_wire_len(frame), b1 - b0, p1 - p0);
}

static void test_run_filter(struct loadgen_sink *sk)
{
	struct loadgen_sink_report sr;
	struct loadgen_report rep;
	struct loadgen_opts o;
	char err[256] = "";
	int r;

	gen_opts(&o, 64, 2, 2000, 0.25);
	o.run_id = 7;
	loadgen_sink_reset(sk, 8);
	r = loadgen_run(&o, &rep, err, sizeof(err));
	msleep(100);
	loadgen_sink_read(sk, &sr, NULL, 0);
	CHECK(r == 0 && rep.sent > 0 && sr.received == 0 && sr.warmup == 0 &&
	      sr.other_run == rep.sent + rep.warmup_sent,
	      "sink counting run 8 files all %llu packets of run 7 under other_run",
	      (unsigned long long)sr.other_run);
}

/* Real duplicates: the same run sent twice (this kernel has no netem). */
static void test_duplicates(struct loadgen_sink *sk)
{
	struct loadgen_report r1, r2;
	struct loadgen_sink_report sr;
	struct loadgen_opts o;
	char err[256] = "";
	int a, b;

	gen_opts(&o, 64, 3, 2000, 0.5);
	o.run_id = 11;
	loadgen_sink_reset(sk, o.run_id);
	a = loadgen_run(&o, &r1, err, sizeof(err));
	b = loadgen_run(&o, &r2, err, sizeof(err));
	msleep(200);
	loadgen_sink_read(sk, &sr, NULL, 0);
	CHECK(a == 0 && b == 0 && r1.sent > 0 &&
	      sr.received == (r1.sent > r2.sent ? r1.sent : r2.sent) &&
	      sr.duplicates == (r1.sent < r2.sent ? r1.sent : r2.sent) && sr.reordered == 0,
	      "same run sent twice: received %llu, duplicates %llu (sent %llu + %llu), "
	      "no reordering", (unsigned long long)sr.received,
	      (unsigned long long)sr.duplicates, (unsigned long long)r1.sent,
	      (unsigned long long)r2.sent);
}

/*
 * Real reordering: htb sends packets with an odd sequence number (last byte
 * of loadgen_hdr.seq: IP 20 + UDP 8 + 11 = offset 39) to a slow class, so
 * they leave after later even ones; its fifo holds them all, nothing is
 * lost. (This kernel has neither netem nor prio.)
 */
static void test_reorder(struct loadgen_sink *sk)
{
	struct loadgen_sink_report sr;
	struct loadgen_report rep;
	struct loadgen_opts o;
	char err[256] = "";
	int r;

	if (sh("tc -n %s qdisc add dev %s root handle 1: htb default 1", ns_a, if_a) ||
	    sh("tc -n %s class add dev %s parent 1: classid 1:1 htb rate 1gbit", ns_a, if_a) ||
	    sh("tc -n %s class add dev %s parent 1: classid 1:2 htb rate 240kbit "
	       "ceil 240kbit burst 1600 cburst 1600 2>/dev/null", ns_a, if_a) ||
	    sh("tc -n %s qdisc add dev %s parent 1:2 handle 20: pfifo limit 1000", ns_a, if_a) ||
	    sh("tc -n %s filter add dev %s parent 1: protocol ip prio 1 u32 "
	       "match u8 0x01 0x01 at 39 flowid 1:2", ns_a, if_a)) {
		CHECK(0, "htb/u32 reordering qdisc installed");
		sh("tc -n %s qdisc del dev %s root 2>/dev/null", ns_a, if_a);
		return;
	}
	gen_opts(&o, 64, 1, 2000, 0.1);
	o.run_id = 12;
	loadgen_sink_reset(sk, o.run_id);
	r = loadgen_run(&o, &rep, err, sizeof(err));
	msleep(800);
	loadgen_sink_read(sk, &sr, NULL, 0);
	CHECK(r == 0 && rep.sent > 0 && sr.received == rep.sent && sr.duplicates == 0 &&
	      sr.reordered > 0 && sr.reordered <= rep.sent / 2,
	      "odd packets held back: all %llu received, %llu counted as reordered",
	      (unsigned long long)sr.received, (unsigned long long)sr.reordered);
	sh("tc -n %s qdisc del dev %s root", ns_a, if_a);
}

static void on_trial(void *arg, unsigned idx, const struct ndr_trial *t)
{
	DIAG("trial %u: %.0f pps (achieved %.0f): sent %llu received %llu loss %.3f %% %s%s",
	     idx, t->rate_pps, t->achieved_pps, (unsigned long long)t->sent,
	     (unsigned long long)t->received, t->loss_pct, t->pass ? "pass" : "FAIL",
	     t->gen_limited ? " (generator-limited)" : "");
}

/* A path with a known limit: tbf on the sender side. */
static void test_tbf_ndr(struct loadgen_sink *sk)
{
	const double limit = TBF_RATE_BPS / 8 / loadgen_wire_len(64);
	struct loadgen_trial_ctx ctx = { .sink = sk, .next_run_id = 1000 };
	struct ndr_trial trials[40];
	struct ndr_result res;
	struct ndr_opts no = {
		.lo_pps = 2000, .hi_pps = 60000, .loss_threshold_pct = 0,
		.resolution_pct = 3, .duration_s = 1, .drain_s = 0.2,
		.trial = loadgen_ndr_trial, .trial_arg = &ctx, .progress = on_trial,
	};
	struct ndr_trial t = { .duration_s = 1, .drain_s = 0.2 };
	char err[256] = "";
	double rx_pps;
	int r;

	if (sh("tc -n %s qdisc add dev %s root tbf rate 8mbit burst 4kb latency 5ms",
	       ns_a, if_a)) {
		CHECK(0, "tbf qdisc installed");
		return;
	}
	gen_opts(&ctx.gen, 64, 8, 0, 0);

	/* Twice the limit: about half is lost, the rest arrives at the limit. */
	t.rate_pps = 2 * limit;
	r = loadgen_ndr_trial(&ctx, &t, err, sizeof(err));
	rx_pps = t.received / t.duration_s;
	DIAG("overload at %.0f pps: sent %llu, delivered %llu (%.0f pps), limit %.0f pps",
	     t.rate_pps, (unsigned long long)t.sent, (unsigned long long)t.received, rx_pps,
	     limit);
	CHECK(r == 0 && t.sent > 0 && t.received < t.sent,
	      "overloaded tbf path loses packets (%s)", err);
	CHECK(fabs(rx_pps - limit) <= 0.25 * limit,
	      "delivered rate %.0f pps within 25 %% of the tbf limit %.0f pps", rx_pps, limit);
	CHECK(ctx.last_sink.duplicates == 0 && ctx.last_sink.other_run == 0,
	      "overload trial: no duplicates, no packets of other runs");

	r = ndr_search(&no, trials, 40, &res, err, sizeof(err));
	DIAG("NDR %.0f pps after %u trials, bracket [%.0f, %.0f], known limit %.0f pps",
	     res.ndr_pps, res.ntrials, res.lo_pps, res.hi_pps, limit);
	CHECK(r == 0, "NDR search through loadgen returns 0 (%s)", err);
	CHECK(res.converged && !res.hi_passed && !res.lo_failed,
	      "NDR search converged inside [lo, hi]");
	CHECK(fabs(res.ndr_pps - limit) <= 0.25 * limit,
	      "NDR %.0f pps within 25 %% of the tbf limit %.0f pps", res.ndr_pps, limit);
	sh("tc -n %s qdisc del dev %s root", ns_a, if_a);
}

static void test_stop_and_errors(void)
{
	struct loadgen_report rep;
	struct loadgen_opts o;
	struct loadgen *lg;
	char err[256] = "";
	int r;

	gen_opts(&o, 64, 1, 1000, 30);
	r = loadgen_start(&o, &lg, err, sizeof(err));
	CHECK(r == 0, "30 s run started (%s)", err);
	if (r == 0) {
		msleep(200);
		loadgen_stop(lg);
		r = loadgen_join(lg, &rep, err, sizeof(err));
		CHECK(r == 0 && rep.interrupted && rep.sent > 0 && rep.sent < rep.planned,
		      "stopped early: interrupted, %llu of %llu sent",
		      (unsigned long long)rep.sent, (unsigned long long)rep.planned);
	}

	gen_opts(&o, 63, 1, 1000, 1);
	r = loadgen_run(&o, &rep, err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "63"), "frame size 63 rejected: %s", err);

	gen_opts(&o, 64, 1, 1000, 1);
	o.netns = "cbtK-no-such-netns";
	r = loadgen_run(&o, &rep, err, sizeof(err));
	CHECK(r == -ENOENT && strstr(err, "cbtK-no-such-netns"), "missing netns named: %s", err);

	gen_opts(&o, 64, 1, 1000, 1);
	inet_pton(AF_INET, "10.231.200.1", &o.dst);
	r = loadgen_run(&o, &rep, err, sizeof(err));
	CHECK(r == -ENETUNREACH && strstr(err, "10.231.200.1") && strstr(err, ns_a),
	      "no route: error names destination and netns: %s", err);
}

/* Best effort towards 1 Mpps: the rate the machine reaches is for `make
 * bench`, not a pass mark. What must hold at any rate: the generator ran
 * its duration and reports what it sent; the veth's counters account for
 * every frame (carried or counted as dropped); the sink accounts for every
 * frame the veth carried (received or counted as a socket drop). */
static void test_high_rate(struct loadgen_sink *sk)
{
	struct loadgen_sink_report sr;
	struct loadgen_report rep;
	struct loadgen_opts o;
	long long ta0, da0, rb0, ta1, da1, rb1, wire, out;
	char err[256] = "";
	int r;

	gen_opts(&o, 64, 16, 1000000, 0.5);
	o.run_id = 77;
	loadgen_sink_reset(sk, o.run_id);
	ta0 = counter(ns_a, if_a, "tx_packets");
	da0 = counter(ns_a, if_a, "tx_dropped");
	rb0 = counter(ns_b, if_b, "rx_packets");
	r = loadgen_run(&o, &rep, err, sizeof(err));
	msleep(300);
	loadgen_sink_read(sk, &sr, NULL, 0);
	ta1 = counter(ns_a, if_a, "tx_packets");
	da1 = counter(ns_a, if_a, "tx_dropped");
	rb1 = counter(ns_b, if_b, "rx_packets");
	/* -1: a counter could not be read, which must fail the checks below. */
	out = ta0 < 0 || da0 < 0 || ta1 < 0 || da1 < 0 ? -1 : (ta1 - ta0) + (da1 - da0);
	wire = rb0 < 0 || rb1 < 0 ? -1 : rb1 - rb0;
	DIAG("1 Mpps attempt: sent %llu in %.3f s = %.0f pps; sink received %llu, "
	     "socket drops %llu, path loss %llu", (unsigned long long)rep.sent, rep.elapsed_s,
	     rep.achieved_pps, (unsigned long long)sr.received,
	     (unsigned long long)sr.sock_drops, (unsigned long long)(rep.sent - sr.delivered));
	CHECK(r == 0 && rep.planned == 500000 && rep.sent > 0 && rep.sent <= rep.planned &&
	      fabs(rep.elapsed_s - 0.5) < 0.1 &&
	      fabs(rep.achieved_pps * rep.elapsed_s - (double)rep.sent) <= 1 + 1e-3 * rep.sent,
	      "1 Mpps attempt: ran 0.5 s (%.3f), sent %llu of 500000, reports %.0f pps = sent / time",
	      rep.elapsed_s, (unsigned long long)rep.sent, rep.achieved_pps);
	CHECK(out == (long long)(rep.sent + rep.warmup_sent),
	      "1 Mpps attempt: veth sent or dropped %lld frames = %llu sent + %llu warm-up",
	      out, (unsigned long long)rep.sent, (unsigned long long)rep.warmup_sent);
	CHECK(wire >= 0 && wire == (long long)(sr.delivered + sr.warmup) && sr.duplicates == 0 &&
	      sr.foreign == 0 && sr.received > 0,
	      "1 Mpps attempt: the sink accounts for all %lld frames the veth carried "
	      "(%llu received + %llu socket drops + %llu warm-up), no duplicates", wire,
	      (unsigned long long)sr.received, (unsigned long long)sr.sock_drops,
	      (unsigned long long)sr.warmup);
}

/* Runs loadgen_cli in a child with stdout into a pipe; returns its JSON. */
static pid_t cli_spawn(char **argv, int *rfd)
{
	int p[2];
	pid_t pid;
	int argc = 0;

	while (argv[argc])
		argc++;
	if (pipe(p) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		int rc = loadgen_cli(argc, argv);

		fflush(stdout);
		_exit(rc); /* not exit: the parent's atexit teardown is not ours */
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static json_t *cli_collect(pid_t pid, int fd, int *status)
{
	json_error_t je;
	json_t *j;
	FILE *f = fdopen(fd, "r");

	j = f ? json_loadf(f, 0, &je) : NULL;
	if (f)
		fclose(f);
	waitpid(pid, status, 0);
	return j;
}

static void test_cli(void)
{
	char *sink_argv[] = { "load-sink", "--netns", ns_b, "--port", "9100", "--seconds", "2",
			      NULL };
	char *load_argv[] = { "load", "--netns", ns_a, "--src", ADDR_A, "--dst", ADDR_B,
			      "--rate", "5000", "--size", "128", "--flows", "3", "--seconds",
			      "0.5", "--dport", "9100", NULL };
	json_t *js = NULL, *jl = NULL;
	int sfd = -1, lfd = -1, sst = -1, lst = -1;
	pid_t sp, lp;
	long long sent, recv;

	sp = cli_spawn(sink_argv, &sfd);
	msleep(300);
	lp = cli_spawn(load_argv, &lfd);
	if (sp < 0 || lp < 0) {
		CHECK(0, "CLI children started");
		return;
	}
	jl = cli_collect(lp, lfd, &lst);
	js = cli_collect(sp, sfd, &sst);
	sent = json_integer_value(json_object_get(jl, "sent"));
	recv = json_integer_value(json_object_get(js, "received"));
	CHECK(jl && WIFEXITED(lst) && WEXITSTATUS(lst) == 0 && sent > 0 &&
	      json_integer_value(json_object_get(jl, "payload_len")) == 128 - 46 &&
	      json_integer_value(json_object_get(jl, "frame_size")) == 128,
	      "cadeia-bench load prints JSON: sent %lld, payload 82 bytes for 128-byte frames",
	      sent);
	CHECK(js && WIFEXITED(sst) && WEXITSTATUS(sst) == 0 && recv == sent &&
	      json_array_size(json_object_get(js, "per_flow")) == 3 &&
	      json_integer_value(json_object_get(js, "warmup")) == 3,
	      "cadeia-bench load-sink prints JSON: received %lld, 3 flows, 3 warm-up", recv);
	json_decref(jl);
	json_decref(js);
}

int main(void)
{
	struct loadgen_sink_opts so = { .port = PORT };
	struct loadgen_sink *sk = NULL;
	char err[256] = "";
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(39);
	test_payload_len();
	if (setup() < 0) {
		CHECK(0, "test namespaces %s and %s set up", ns_a, ns_b);
		return tap_done();
	}
	so.netns = ns_b;
	r = loadgen_sink_start(&so, &sk, err, sizeof(err));
	CHECK(r == 0, "sink started in %s on port %d (%s)", ns_b, PORT, err);
	if (r == 0) {
		test_unlimited(sk, 64, 20000, 1);
		test_unlimited(sk, 1518, 5000, 0.5);
		test_run_filter(sk);
		test_duplicates(sk);
		test_reorder(sk);
		test_tbf_ndr(sk);
		test_high_rate(sk);
		loadgen_sink_stop(sk);
	}
	test_stop_and_errors();
	test_cli();
	teardown();
	return tap_done();
}
