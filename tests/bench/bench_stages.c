// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of each eBPF stage under BPF_PROG_TEST_RUN, beside two
 * references of the same hook measured in the same run: the empty program
 * (floor) and a minimal forwarder (one hash lookup + MAC rewrite).
 *
 * Each measurement is one call with repeat=1: with repeat>1 a TC program
 * runs again on the skb it already changed (a second push, a TTL that
 * keeps falling), which measures something else. The figure is the
 * kernel's own per-call duration (ktime around the program run only, no
 * syscall or skb set-up), so subtracting the empty program of the hook
 * leaves the stage's work. Programs are interleaved call batch by call
 * batch (A B C A B C ...) and the median over rounds is reported, since
 * other tenants share the two vCPUs.
 *
 * Writes results/bench-stages.json; the previous file becomes
 * results/bench-stages.prev.json and the two are compared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "stage_fixtures.h"
#include "classifier.skel.h"
#include "dec.skel.h"
#include "enc.skel.h"
#include "fwd.skel.h"
#include "kwire.skel.h"
#include "bench_refs.skel.h"

#define SPI 100
#define SI_NEXT 254
#define SI_END 253
#define MAX_ROUNDS 200

enum hook { HOOK_XDP, HOOK_TC };

struct item {
	const char *name;
	enum hook hook;
	int prog_fd;
	struct frame in;
	int want_retval;
	bool stage; /* false: a reference */
	double kern[MAX_ROUNDS]; /* mean in-kernel ns per call, per round */
	double wall[MAX_ROUNDS]; /* mean wall ns per call (syscall included) */
	double kern_med, wall_med;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double tmp[MAX_ROUNDS];

	memcpy(tmp, v, sizeof(double) * n);
	qsort(tmp, n, sizeof(double), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* calls runs of it, one test run each; returns 0 or -errno. */
static int measure(struct item *it, int round, int calls)
{
	uint8_t out[FRAME_MAX];
	double kern = 0, t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < calls; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = it->in.b,
			    .data_size_in = (uint32_t)it->in.len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(it->prog_fd, &opts))
			return -errno;
		if ((int)opts.retval != it->want_retval) {
			fprintf(stderr, "bench %s: retval %d, expected %d\n",
				it->name, (int)opts.retval, it->want_retval);
			return -EPROTO;
		}
		kern += opts.duration;
	}
	it->wall[round] = (now_ns() - t0) / calls;
	it->kern[round] = kern / calls;
	return 0;
}

static const char *results_dir(void)
{
	const char *d = getenv("CADEIA_RESULTS");

	return d ? d : "results";
}

static struct item *find(struct item *items, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(items[i].name, name))
			return &items[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct classifier_bpf *cls = NULL;
	struct dec_bpf *dec = NULL;
	struct enc_bpf *enc = NULL;
	struct fwd_bpf *fwd = NULL;
	struct kwire_bpf *kw = NULL;
	struct bench_refs_bpf *refs = NULL;
	struct item items[10];
	struct nsh_spec s;
	struct frame plain, nsh_next, nsh_end;
	char path[512], prev_path[512];
	int rounds = 30, calls = 1000, n = 0, i, r, ret = 1, err;
	json_t *root = NULL, *stages, *prev = NULL;

	if (getenv("CADEIA_BENCH_ROUNDS"))
		rounds = atoi(getenv("CADEIA_BENCH_ROUNDS"));
	if (getenv("CADEIA_BENCH_CALLS"))
		calls = atoi(getenv("CADEIA_BENCH_CALLS"));
	if (rounds < 1 || rounds > MAX_ROUNDS || calls < 1) {
		fprintf(stderr, "bench_stages: rounds must be 1..%d, calls >= 1\n", MAX_ROUNDS);
		return 1;
	}

	cls = classifier_bpf__open();
	dec = dec_bpf__open();
	enc = enc_bpf__open();
	fwd = fwd_bpf__open();
	kw = kwire_bpf__open();
	refs = bench_refs_bpf__open();
	if (!cls || !dec || !enc || !fwd || !kw || !refs) {
		fprintf(stderr, "bench_stages: open skeletons: %s\n", strerror(errno));
		goto cleanup;
	}
	obj_unpin(cls->obj);
	obj_unpin(dec->obj);
	obj_unpin(enc->obj);
	obj_unpin(fwd->obj);
	obj_unpin(kw->obj);
	memcpy((void *)dec->rodata->node_mac, MAC_SF, 6);
	memcpy((void *)enc->rodata->node_mac, MAC_SF, 6);
	memcpy((void *)fwd->rodata->node_mac, MAC_SF, 6);
	err = classifier_bpf__load(cls);
	if (!err)
		err = dec_bpf__load(dec);
	if (!err)
		err = bpf_map__reuse_fd(enc->maps.nsh_state, bpf_map__fd(dec->maps.nsh_state));
	if (!err)
		err = enc_bpf__load(enc);
	if (!err)
		err = fwd_bpf__load(fwd);
	if (!err)
		err = kwire_bpf__load(kw);
	if (!err)
		err = bench_refs_bpf__load(refs);
	if (err) {
		fprintf(stderr, "bench_stages: load programs: %s\n", strerror(-err));
		goto cleanup;
	}

	/* The 98-byte ping, and the same wrapped in MD2 NSH (inner Ethernet). */
	mk_inner(&plain, IN_ICMP);
	s = (struct nsh_spec){ .dst = MAC_SF, .src = MAC_PREV, .ttl = 62,
			       .md = NSH_MDTYPE_2, .np = NSH_NP_ETH, .spi = SPI,
			       .si = SI_NEXT, .inner = IN_ICMP };
	mk_nsh(&nsh_next, &s);
	s.si = SI_END;
	mk_nsh(&nsh_end, &s);

	/* Tables: the matching rule first, a next hop, the end of chain. */
	{
		struct cls_rule rule = { .valid = 1, .proto = 1, .md_type = NSH_MDTYPE_2,
					 .inner = NSH_NP_ETH, .si = 255, .spi = SPI };
		struct fwd_key k1 = { SPI, SI_NEXT }, k2 = { SPI, SI_END };
		struct fwd_entry e1 = { .action = FWD_NEXT_HOP }, e2 = { .action = FWD_END };
		struct { uint8_t dst[6], src[6]; } hop;
		uint32_t zero = 0, dst = htonl(IP_B);
		uint8_t out[FRAME_MAX];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = nsh_next.b,
			    .data_size_in = (uint32_t)nsh_next.len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		memcpy(rule.next_hop, MAC_SF, 6);
		memcpy(e1.mac, MAC_NEXT, 6);
		memcpy(e2.mac, MAC_B, 6);
		memcpy(hop.dst, MAC_NEXT, 6);
		memcpy(hop.src, MAC_SF, 6);
		if (bpf_map_update_elem(bpf_map__fd(cls->maps.cls_rules), &zero, &rule, 0) ||
		    bpf_map_update_elem(bpf_map__fd(fwd->maps.fwd_table), &k1, &e1, 0) ||
		    bpf_map_update_elem(bpf_map__fd(fwd->maps.fwd_table), &k2, &e2, 0) ||
		    bpf_map_update_elem(bpf_map__fd(refs->maps.ref_fwd), &dst, &hop, 0) ||
		    /* dec saves the ping's NSH for enc */
		    bpf_prog_test_run_opts(bpf_program__fd(dec->progs.dec_xdp), &o)) {
			fprintf(stderr, "bench_stages: set up tables: %s\n", strerror(errno));
			goto cleanup;
		}
	}

#define ITEM(nm, hk, fd, frame, rv, st)                                       \
	do {                                                                 \
		memset(&items[n], 0, sizeof(items[n]));                      \
		items[n].name = nm, items[n].hook = hk;                      \
		items[n].prog_fd = fd, items[n].in = frame;                  \
		items[n].want_retval = rv, items[n].stage = st;              \
		n++;                                                         \
	} while (0)
	ITEM("xdp_empty", HOOK_XDP, bpf_program__fd(refs->progs.ref_xdp_empty), plain, XDP_PASS, false);
	ITEM("xdp_minfwd", HOOK_XDP, bpf_program__fd(refs->progs.ref_xdp_fwd), plain, XDP_TX, false);
	ITEM("tc_empty", HOOK_TC, bpf_program__fd(refs->progs.ref_tc_empty), plain, TC_ACT_OK, false);
	ITEM("tc_minfwd", HOOK_TC, bpf_program__fd(refs->progs.ref_tc_fwd), plain, TC_ACT_OK, false);
	ITEM("classifier", HOOK_TC, bpf_program__fd(cls->progs.cls_egress), plain, TC_ACT_OK, true);
	ITEM("dec", HOOK_XDP, bpf_program__fd(dec->progs.dec_xdp), nsh_next, XDP_PASS, true);
	ITEM("enc", HOOK_TC, bpf_program__fd(enc->progs.enc_egress), plain, TC_ACT_UNSPEC, true);
	ITEM("fwd_next_hop", HOOK_TC, bpf_program__fd(fwd->progs.fwd_egress), nsh_next, TC_ACT_OK, true);
	/* skb->protocol is ETH_P_NSH under test runs: this is the chunked strip. */
	ITEM("fwd_end_chunked", HOOK_TC, bpf_program__fd(fwd->progs.fwd_egress), nsh_end, TC_ACT_OK, true);
	ITEM("kwire", HOOK_TC, bpf_program__fd(kw->progs.kwire_ingress), plain, TC_ACT_REDIRECT, true);
#undef ITEM

	/* Warm up, then interleave. */
	for (i = 0; i < n; i++)
		if ((err = measure(&items[i], 0, calls / 10 + 1))) {
			fprintf(stderr, "bench_stages: %s: %s\n", items[i].name, strerror(-err));
			goto cleanup;
		}
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++)
			if ((err = measure(&items[i], r, calls))) {
				fprintf(stderr, "bench_stages: %s: %s\n", items[i].name, strerror(-err));
				goto cleanup;
			}
	for (i = 0; i < n; i++) {
		items[i].kern_med = median(items[i].kern, rounds);
		items[i].wall_med = median(items[i].wall, rounds);
	}

	snprintf(path, sizeof(path), "%s/bench-stages.json", results_dir());
	snprintf(prev_path, sizeof(prev_path), "%s/bench-stages.prev.json", results_dir());
	if (access(path, F_OK) == 0) {
		if (rename(path, prev_path)) {
			fprintf(stderr, "bench_stages: rename %s to %s: %s\n", path, prev_path,
				strerror(errno));
			goto cleanup;
		}
	}
	prev = json_load_file(prev_path, 0, NULL);

	root = json_pack("{s:s, s:i, s:i, s:i, s:s}", "method",
			 "BPF_PROG_TEST_RUN, repeat=1 per call, in-kernel duration, "
			 "median over rounds of the mean per call",
			 "rounds", rounds, "calls_per_round", calls, "frame_bytes",
			 (int)plain.len, "timestamp_unix", "");
	json_object_set_new(root, "timestamp_unix", json_integer((json_int_t)time(NULL)));
	stages = json_object();
	json_object_set_new(root, "programs", stages);

	printf("per-packet cost, ns (BPF_PROG_TEST_RUN, %d rounds x %d calls, median of round means; %zu-byte ICMP, %zu with NSH)\n",
	       rounds, calls, plain.len, nsh_next.len);
	printf("%-16s %4s %8s %8s %8s %8s %9s %9s %10s   %s\n", "program", "hook", "kernel",
	       "-floor", "x floor", "x minfwd", "net/fwd", "wall/call", "wall-empty",
	       "previous run");
	for (i = 0; i < n; i++) {
		struct item *it = &items[i];
		struct item *fl = find(items, n, it->hook == HOOK_XDP ? "xdp_empty" : "tc_empty");
		struct item *mf = find(items, n, it->hook == HOOK_XDP ? "xdp_minfwd" : "tc_minfwd");
		double net = it->kern_med - fl->kern_med;
		double mfnet = mf->kern_med - fl->kern_med;
		double before = -1;
		char cmp[64] = "";
		json_t *o, *p;

		if (prev && (p = json_object_get(json_object_get(prev, "programs"), it->name)))
			before = json_number_value(json_object_get(p, "ns"));
		if (before > 0) {
			double d = (it->kern_med - before) / before * 100;

			snprintf(cmp, sizeof(cmp), "%.1f -> %.1f (%+.0f%%, %s)", before,
				 it->kern_med, d,
				 d < -10 ? "better" : d > 10 ? "worse" : "same within 10%");
		}
		printf("%-16s %4s %8.1f %8.1f %8.2f %8.2f %9.2f %9.0f %10.0f   %s\n", it->name,
		       it->hook == HOOK_XDP ? "xdp" : "tc", it->kern_med, net,
		       it->kern_med / fl->kern_med, it->kern_med / mf->kern_med,
		       mfnet > 0 ? net / mfnet : 0, it->wall_med,
		       it->wall_med - fl->wall_med, cmp);

		o = json_pack("{s:s, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "hook",
			      it->hook == HOOK_XDP ? "xdp" : "tc", "stage", it->stage,
			      "ns", it->kern_med, "net_ns", net, "floor_ns", fl->kern_med,
			      "minfwd_ns", mf->kern_med, "x_floor", it->kern_med / fl->kern_med,
			      "x_minfwd", it->kern_med / mf->kern_med, "wall_ns_per_call",
			      it->wall_med);
		if (before > 0)
			json_object_set_new(o, "prev_ns", json_real(before));
		json_object_set_new(stages, it->name, o);
	}
	printf("kernel = ns inside the kernel per call; -floor = minus the empty program of the hook;\n"
	       "x floor / x minfwd = kernel ns over the empty program / minimal forwarder of the hook;\n"
	       "net/fwd = (stage - floor) / (minfwd - floor); wall = per call incl. syscall and skb set-up.\n");
	if (!prev)
		printf("no previous run (%s): nothing to compare\n", prev_path);

	if (json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS)) {
		fprintf(stderr, "bench_stages: write %s: %s\n", path, strerror(errno));
		goto cleanup;
	}
	printf("wrote %s\n", path);
	ret = 0;
cleanup:
	json_decref(root);
	json_decref(prev);
	bench_refs_bpf__destroy(refs);
	kwire_bpf__destroy(kw);
	fwd_bpf__destroy(fwd);
	enc_bpf__destroy(enc);
	dec_bpf__destroy(dec);
	classifier_bpf__destroy(cls);
	(void)argc;
	(void)argv;
	return ret;
}
