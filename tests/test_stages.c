// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The eBPF stages under BPF_PROG_TEST_RUN: fixture tables per stage (exact
 * output bytes, verdict, counter), round trips through several stages,
 * tshark as an independent NSH dissector, and a seeded fuzz run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tap.h"
#include "stage_fixtures.h"
#include "classifier.skel.h"
#include "dec.skel.h"
#include "enc.skel.h"
#include "fwd.skel.h"
#include "kwire.skel.h"

#define NAME_OF(n) #n,
static const char *const cls_names[] = { CLS_STATS(NAME_OF) };
static const char *const dec_names[] = { DEC_STATS(NAME_OF) };
static const char *const enc_names[] = { ENC_STATS(NAME_OF) };
static const char *const fwd_names[] = { FWD_STATS(NAME_OF) };
static const char *const kwire_names[] = { KWIRE_STATS(NAME_OF) };
#define NFIELDS(t) ((unsigned)(sizeof(t) / sizeof(uint64_t)))

static struct classifier_bpf *cls;
static struct dec_bpf *dec;
static struct enc_bpf *enc, *enc_f;
static struct fwd_bpf *fwd;
static struct kwire_bpf *kw, *kw_nsh, *kw_x;
static struct stage st_cls, st_dec, st_enc, st_enc_f, st_fwd, st_kw, st_kw_nsh, st_kw_x;

/* Test-side paths and their fwd_table. */
#define SPI_A 100
#define SPI_B 0xabcdef
#define SI_NEXT 254 /* -> MAC_NEXT */
#define SI_END 253  /* end of chain, deliver to MAC_B */
#define SI_REDIR 200
#define SI_KEEP 201 /* -> MAC_NEXT, FWD_F_KEEP_TTL */
#define SI_KEEP_END 202 /* end of chain, FWD_F_KEEP_TTL */
#define IFINDEX_LO 1

/* ---- setup --------------------------------------------------------------- */

static int load_all(void)
{
	int err;

	cls = classifier_bpf__open();
	dec = dec_bpf__open();
	enc = enc_bpf__open();
	enc_f = enc_bpf__open();
	fwd = fwd_bpf__open();
	kw = kwire_bpf__open();
	kw_nsh = kwire_bpf__open();
	kw_x = kwire_bpf__open();
	if (!cls || !dec || !enc || !enc_f || !fwd || !kw || !kw_nsh || !kw_x) {
		fprintf(stderr, "open skeletons: %s\n", strerror(errno));
		return -1;
	}
	obj_unpin(cls->obj);
	obj_unpin(dec->obj);
	obj_unpin(enc->obj);
	obj_unpin(enc_f->obj);
	obj_unpin(fwd->obj);
	obj_unpin(kw->obj);
	obj_unpin(kw_nsh->obj);
	obj_unpin(kw_x->obj);
	/* kw: the defaults (otherhost, same interface); kw_nsh: an SFF node;
	 * kw_x: a proxy's cross-connect. */
	kw_nsh->rodata->kwire_mode = KWIRE_MODE_NSH_HOST;
	kw_x->rodata->redirect_ifindex = IFINDEX_LO;
	memcpy((void *)dec->rodata->node_mac, MAC_SF, 6);
	memcpy((void *)enc->rodata->node_mac, MAC_SF, 6);
	memcpy((void *)enc_f->rodata->node_mac, MAC_SF, 6);
	memcpy((void *)fwd->rodata->node_mac, MAC_SF, 6);

	err = classifier_bpf__load(cls);
	if (!err)
		err = fwd_bpf__load(fwd);
	/* What the loader gets from pinning: dec caches next hops from fwd's
	 * table, stamped with its generation. */
	if (!err)
		err = bpf_map__reuse_fd(dec->maps.fwd_table, bpf_map__fd(fwd->maps.fwd_table));
	if (!err)
		err = bpf_map__reuse_fd(dec->maps.fwd_gen, bpf_map__fd(fwd->maps.fwd_gen));
	if (!err)
		err = dec_bpf__load(dec);
	/* enc sees dec's nsh_state; its own fwd_gen stays 0, older than
	 * every stamp once setup_tables() bumped fwd's, so it never trusts
	 * dec's cached hops and, with its empty fwd_table, runs alone. */
	if (!err)
		err = bpf_map__reuse_fd(enc->maps.nsh_state,
					bpf_map__fd(dec->maps.nsh_state));
	if (!err)
		err = enc_bpf__load(enc);
	/*
	 * enc_f: enc as the loader pins it beside fwd, sharing fwd_table and
	 * fwd_stats, so it runs the fwd stage itself (one program on the SF
	 * egress). enc keeps private, empty ones: enc alone, then fwd.
	 */
	if (!err)
		err = bpf_map__reuse_fd(enc_f->maps.nsh_state, bpf_map__fd(dec->maps.nsh_state));
	if (!err)
		err = bpf_map__reuse_fd(enc_f->maps.fwd_table, bpf_map__fd(fwd->maps.fwd_table));
	if (!err)
		err = bpf_map__reuse_fd(enc_f->maps.fwd_gen, bpf_map__fd(fwd->maps.fwd_gen));
	if (!err)
		err = bpf_map__reuse_fd(enc_f->maps.fwd_stats, bpf_map__fd(fwd->maps.fwd_stats));
	if (!err)
		err = enc_bpf__load(enc_f);
	if (!err)
		err = kwire_bpf__load(kw);
	if (!err)
		err = kwire_bpf__load(kw_nsh);
	if (!err)
		err = kwire_bpf__load(kw_x);
	if (err) {
		fprintf(stderr, "load stages: %s\n", strerror(-err));
		return -1;
	}
	if (stage_init(&st_cls, "classifier", bpf_program__fd(cls->progs.cls_egress),
		       bpf_map__fd(cls->maps.cls_stats), NFIELDS(struct cls_stats), cls_names) ||
	    stage_init(&st_dec, "dec", bpf_program__fd(dec->progs.dec_xdp),
		       bpf_map__fd(dec->maps.dec_stats), NFIELDS(struct dec_stats), dec_names) ||
	    stage_init(&st_enc, "enc", bpf_program__fd(enc->progs.enc_egress),
		       bpf_map__fd(enc->maps.enc_stats), NFIELDS(struct enc_stats), enc_names) ||
	    stage_init(&st_enc_f, "enc+fwd", bpf_program__fd(enc_f->progs.enc_egress),
		       bpf_map__fd(enc_f->maps.enc_stats), NFIELDS(struct enc_stats), enc_names) ||
	    stage_init(&st_fwd, "fwd", bpf_program__fd(fwd->progs.fwd_egress),
		       bpf_map__fd(fwd->maps.fwd_stats), NFIELDS(struct fwd_stats), fwd_names) ||
	    stage_init(&st_kw, "kwire", bpf_program__fd(kw->progs.kwire_ingress),
		       bpf_map__fd(kw->maps.kwire_stats), NFIELDS(struct kwire_stats), kwire_names) ||
	    stage_init(&st_kw_nsh, "kwire nsh-host", bpf_program__fd(kw_nsh->progs.kwire_ingress),
		       bpf_map__fd(kw_nsh->maps.kwire_stats), NFIELDS(struct kwire_stats), kwire_names) ||
	    stage_init(&st_kw_x, "kwire cross-connect", bpf_program__fd(kw_x->progs.kwire_ingress),
		       bpf_map__fd(kw_x->maps.kwire_stats), NFIELDS(struct kwire_stats), kwire_names)) {
		fprintf(stderr, "read stats: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void unload_all(void)
{
	classifier_bpf__destroy(cls);
	dec_bpf__destroy(dec);
	enc_bpf__destroy(enc);
	enc_bpf__destroy(enc_f);
	fwd_bpf__destroy(fwd);
	kwire_bpf__destroy(kw);
	kwire_bpf__destroy(kw_nsh);
	kwire_bpf__destroy(kw_x);
}

static struct cls_rule mk_rule(uint8_t proto, uint16_t dport, uint8_t md,
			       uint8_t inner, uint32_t spi, uint8_t si,
			       const uint8_t *hop, uint32_t ifindex)
{
	struct cls_rule r = {
		.valid = 1,
		.src = htonl(IP_A), .src_mask = htonl(0xffffffff),
		.dst = htonl(IP_B), .dst_mask = htonl(0xffffff00),
		.dport = htons(dport), .proto = proto, .md_type = md,
		.inner = inner, .si = si, .spi = spi, .ifindex = ifindex,
	};

	memcpy(r.next_hop, hop, 6);
	memcpy(r.md1_ctx, MD1_CTX, sizeof(r.md1_ctx));
	return r;
}

/* What the loader does after every change of fwd_table. */
static int fwd_gen_bump(void)
{
	uint32_t zero = 0, gen;
	int fd = bpf_map__fd(fwd->maps.fwd_gen);

	if (bpf_map_lookup_elem(fd, &zero, &gen))
		return -errno;
	gen++;
	return bpf_map_update_elem(fd, &zero, &gen, BPF_ANY) ? -errno : 0;
}

static uint32_t fwd_gen_now(void)
{
	uint32_t zero = 0, gen = 0;

	bpf_map_lookup_elem(bpf_map__fd(fwd->maps.fwd_gen), &zero, &gen);
	return gen;
}

static int setup_tables(void)
{
	struct cls_rule rules[4] = {
		{ 0 }, /* an empty slot first: must be skipped */
		mk_rule(1, 0, NSH_MDTYPE_2, NSH_NP_ETH, SPI_A, 255, MAC_SF, 0),
		mk_rule(17, 5000, NSH_MDTYPE_1, NSH_NP_IPV4, SPI_B, 10, MAC_NEXT, 0),
		mk_rule(6, 0, NSH_MDTYPE_2, NSH_NP_ETH, 300, 5, MAC_SF, IFINDEX_LO),
	};
	struct {
		struct fwd_key k;
		struct fwd_entry e;
	} paths[] = {
		{ { SPI_A, SI_NEXT }, { FWD_NEXT_HOP, 0, { 0 }, 0, 0 } },
		{ { SPI_A, SI_END }, { FWD_END, 0, { 0 }, 0, 0 } },
		{ { SPI_B, SI_NEXT }, { FWD_NEXT_HOP, 0, { 0 }, 0, 0 } },
		{ { SPI_B, SI_END }, { FWD_END, 0, { 0 }, 0, 0 } },
		{ { SPI_A, SI_REDIR }, { FWD_NEXT_HOP, IFINDEX_LO, { 0 }, 0, 0 } },
		{ { SPI_A, 9 }, { 77 /* unknown action */, 0, { 0 }, 0, 0 } },
		{ { SPI_A, SI_KEEP }, { FWD_NEXT_HOP, 0, { 0 }, FWD_F_KEEP_TTL, 0 } },
		{ { SPI_A, SI_KEEP_END }, { FWD_END, 0, { 0 }, FWD_F_KEEP_TTL, 0 } },
	};
	uint32_t i;
	size_t p;

	for (i = 0; i < 4; i++)
		if (bpf_map_update_elem(bpf_map__fd(cls->maps.cls_rules), &i,
					&rules[i], BPF_ANY))
			return -errno;
	for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		memcpy(paths[p].e.mac,
		       paths[p].e.action == FWD_END ? MAC_B : MAC_NEXT, 6);
		if (bpf_map_update_elem(bpf_map__fd(fwd->maps.fwd_table),
					&paths[p].k, &paths[p].e, BPF_ANY))
			return -errno;
	}
	return fwd_gen_bump();
}

/* ---- expected frames, built independently of the stages -------------------- */

/* eth{dst, src, type} + the inner frame's L3 packet. */
static void mk_l3_frame(struct frame *f, int inner, const uint8_t *dst,
			const uint8_t *src)
{
	struct frame in;

	mk_inner(&in, inner);
	f->len = 0;
	put_eth(f, dst, src, (uint16_t)(in.b[12] << 8 | in.b[13]));
	put(f, in.b + 14, in.len - 14);
}

static bool frame_eq(const uint8_t *a, size_t alen, const struct frame *b)
{
	return alen == b->len && !memcmp(a, b->b, alen);
}

static void dump_diff(const uint8_t *got, size_t glen, const struct frame *want)
{
	size_t i;

	DIAG("got %zu bytes, want %zu", glen, want->len);
	for (i = 0; i < glen && i < want->len; i++)
		if (got[i] != want->b[i]) {
			DIAG("first difference at byte %zu: got %02x want %02x",
			     i, got[i], want->b[i]);
			return;
		}
}

/* ---- fixture tables ---------------------------------------------------------- */

enum expect {
	EXP_DROP,     /* output not looked at */
	EXP_SAME,     /* untouched */
	EXP_FRAME,    /* exactly .want */
};

struct fixture {
	const char *name;
	struct frame in;
	int retval;
	int verdict;
	enum expect expect;
	struct frame want;
};

static int run_fixture(struct stage *s, const struct fixture *fx)
{
	uint8_t out[FRAME_MAX];
	size_t outlen;
	int retval, verdict, err;
	bool bytes_ok = true;

	err = stage_run(s, fx->in.b, fx->in.len, out, &outlen, &retval, &verdict);
	if (err) {
		CHECK(0, "%s: %s: test run: %s", s->name, fx->name, strerror(-err));
		return -1;
	}
	if (fx->expect == EXP_SAME)
		bytes_ok = outlen == fx->in.len && !memcmp(out, fx->in.b, outlen);
	else if (fx->expect == EXP_FRAME)
		bytes_ok = frame_eq(out, outlen, &fx->want);
	CHECK(retval == fx->retval && verdict == fx->verdict && bytes_ok,
	      "%s: %s: retval %d (want %d), counter %s (want %s), output %s",
	      s->name, fx->name, retval, fx->retval, stage_verdict_name(s, verdict),
	      stage_verdict_name(s, fx->verdict),
	      fx->expect == EXP_DROP ? "not checked" : bytes_ok ? "exact" : "WRONG");
	if (!bytes_ok && fx->expect == EXP_FRAME)
		dump_diff(out, outlen, &fx->want);
	return 0;
}

static struct nsh_spec spec(uint8_t md, uint8_t np, int inner)
{
	struct nsh_spec s = {
		.dst = MAC_SF, .src = MAC_PREV, .ttl = 62, .md = md, .np = np,
		.spi = SPI_A, .si = SI_NEXT, .inner = inner,
	};
	return s;
}

static struct nsh_spec spec_tlv(uint8_t np, int inner)
{
	struct nsh_spec s = spec(NSH_MDTYPE_2, np, inner);

	s.tlv = MD2_TLVS;
	s.tlv_len = sizeof(MD2_TLVS);
	return s;
}

static void fx_nsh(struct fixture *fx, const char *name, struct nsh_spec s,
		   size_t cut, int retval, int verdict)
{
	memset(fx, 0, sizeof(*fx));
	fx->name = name;
	mk_nsh(&fx->in, &s);
	if (cut)
		fx->in.len = cut;
	fx->retval = retval;
	fx->verdict = verdict;
	fx->expect = EXP_DROP;
}

/* One TLV announcing 12 bytes of data with only 4 inside Length (4 words). */
static const uint8_t TLV_LONG[] = { 0x00, 0x01, 0x02, 0x0c, 1, 2, 3, 4 };

static void test_dec_fixtures(void)
{
	static struct fixture fx[48];
	struct nsh_spec s;
	int n = 0, i;

#define DROP(nm, sp, cut, why) fx_nsh(&fx[n++], nm, sp, cut, XDP_DROP, DEC_##why)
#define DECAP_ETH(nm, sp)                                                  \
	do {                                                                 \
		fx_nsh(&fx[n], nm, sp, 0, XDP_PASS, DEC_decap);            \
		fx[n].expect = EXP_FRAME;                                    \
		mk_inner(&fx[n].want, (sp).inner);                           \
		n++;                                                         \
	} while (0)
#define DECAP_L3(nm, sp)                                                   \
	do {                                                                 \
		fx_nsh(&fx[n], nm, sp, 0, XDP_PASS, DEC_decap);            \
		fx[n].expect = EXP_FRAME;                                    \
		mk_l3_frame(&fx[n].want, (sp).inner, MAC_PREV, MAC_PREV);    \
		n++;                                                         \
	} while (0)

	DECAP_ETH("MD1, inner Ethernet", spec(NSH_MDTYPE_1, NSH_NP_ETH, IN_ICMP));
	DECAP_ETH("MD2 empty, inner Ethernet", spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP));
	DECAP_ETH("MD2 with TLVs, inner Ethernet", spec_tlv(NSH_NP_ETH, IN_UDP));
	DECAP_ETH("MD2, inner Ethernet carrying ARP", spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ARP));
	DECAP_L3("MD2 empty, inner IPv4", spec(NSH_MDTYPE_2, NSH_NP_IPV4, IN_ICMP));
	DECAP_L3("MD1, inner IPv4", spec(NSH_MDTYPE_1, NSH_NP_IPV4, IN_TCP));
	DECAP_L3("MD2 with TLVs, inner IPv4", spec_tlv(NSH_NP_IPV4, IN_ICMP));
	DECAP_L3("MD2 empty, inner IPv6", spec(NSH_MDTYPE_2, NSH_NP_IPV6, IN_ICMP6));
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.ttl = 2;
	DECAP_ETH("TTL 2 is still fine", s);

	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "plain IPv4 passes";
	mk_inner(&fx[n].in, IN_ICMP);
	fx[n].retval = XDP_PASS, fx[n].verdict = DEC_passed, fx[n].expect = EXP_SAME;
	n++;
	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "ARP passes";
	mk_inner(&fx[n].in, IN_ARP);
	fx[n].retval = XDP_PASS, fx[n].verdict = DEC_passed, fx[n].expect = EXP_SAME;
	n++;

	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.dst = MAC_OTHER;
	DROP("NSH for another MAC", s, 0, drop_not_for_us);
	s.dst = MAC_BCAST;
	DROP("NSH to broadcast", s, 0, drop_not_for_us);

	s = spec(NSH_MDTYPE_1, NSH_NP_ETH, IN_ICMP);
	DROP("cut after outer Ethernet", s, 14, drop_truncated);
	DROP("cut inside the base header", s, 14 + 3, drop_truncated);
	DROP("cut inside the service path header", s, 14 + 6, drop_truncated);
	DROP("cut at the MD1 context", s, 14 + 8, drop_truncated);
	DROP("cut inside the MD1 context", s, 14 + 17, drop_truncated);
	DROP("MD1, cut inside the inner Ethernet", s, 14 + 24 + 10, drop_no_flow);
	DROP("MD1, cut inside the inner IPv4", s, 14 + 24 + 14 + 12, drop_no_flow);
	DROP("MD1, cut inside the inner ICMP", s, 14 + 24 + 14 + 20 + 6, drop_no_flow);
	s = spec_tlv(NSH_NP_ETH, IN_ICMP);
	DROP("cut inside the first TLV header", s, 14 + 8 + 2, drop_truncated);
	DROP("cut inside the first TLV data", s, 14 + 8 + 6, drop_truncated);
	DROP("cut inside the second TLV header", s, 14 + 8 + 8 + 3, drop_truncated);
	DROP("cut inside the second TLV padding", s, 14 + 8 + 8 + 4 + 6, drop_truncated);
	s = spec(NSH_MDTYPE_2, NSH_NP_IPV4, IN_UDP);
	DROP("inner IPv4, cut inside the IPv4 header", s, 14 + 8 + 19, drop_no_flow);
	DROP("inner IPv4, cut inside the UDP ports", s, 14 + 8 + 20 + 3, drop_no_flow);

	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.ver = 1;
	DROP("version 1", s, 0, drop_bad_version);
	s = spec(NSH_MDTYPE_1, NSH_NP_ETH, IN_ICMP);
	s.len_words = 2;
	DROP("MD1 with Length 2", s, 0, drop_bad_length);
	s.len_words = 7;
	DROP("MD1 with Length 7", s, 0, drop_bad_length);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.len_words = 1;
	DROP("MD2 with Length 1", s, 0, drop_bad_length);
	s = spec_tlv(NSH_NP_ETH, IN_ICMP);
	s.len_words = 6; /* TLVs take 20 bytes, Length leaves 16 */
	DROP("MD2 TLVs overrun Length", s, 0, drop_bad_length);
	s.tlv = TLV_LONG;
	s.tlv_len = sizeof(TLV_LONG);
	s.len_words = 0;
	DROP("MD2 TLV longer than the room Length leaves", s, 0, drop_bad_length);
	s = spec(0, NSH_NP_ETH, IN_ICMP);
	DROP("MD type 0", s, 0, drop_bad_mdtype);
	s.md = 0xf;
	DROP("MD type 0xf", s, 0, drop_bad_mdtype);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.ttl = 0;
	DROP("TTL 0", s, 0, drop_ttl);
	s.ttl = 1;
	DROP("TTL 1", s, 0, drop_ttl);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = 0;
	DROP("SI 0", s, 0, drop_si_zero);
	s = spec(NSH_MDTYPE_2, 0x5 /* MPLS */, IN_ICMP);
	DROP("next protocol MPLS", s, 0, drop_bad_next_proto);
#undef DROP
#undef DECAP_ETH
#undef DECAP_L3

	for (i = 0; i < n; i++)
		run_fixture(&st_dec, &fx[i]);
}

/* The flow key dec builds for inner frame `inner` (IPv4 or non-IP only). */
static struct flow_key key_of(int inner)
{
	struct flow_key k = { 0 };
	struct frame f;
	size_t l3 = 14;

	mk_inner(&f, inner);
	if (f.b[12] == 0x08 && f.b[13] == 0x00) {
		k.family = 4;
		k.proto = f.b[l3 + 9];
		memcpy(&k.saddr[0], f.b + l3 + 12, 4);
		memcpy(&k.daddr[0], f.b + l3 + 16, 4);
		if (k.proto == 6 || k.proto == 17) {
			memcpy(&k.sport, f.b + l3 + 20, 2);
			memcpy(&k.dport, f.b + l3 + 22, 2);
		} else if (k.proto == 1) {
			memcpy(&k.sport, f.b + l3 + 24, 2);
		}
	}
	return k;
}

/* A state entry as dec would have saved it for inner frame `inner`. */
static int put_state(int inner, const struct nsh_spec *s)
{
	struct frame f, nshf;
	struct nsh_state v = { 0 };
	struct flow_key k = { 0 };
	size_t l3 = 14;

	mk_inner(&f, inner);
	mk_nsh(&nshf, s);
	memcpy(v.prev_hop, s->src, 6);
	v.inner = s->np;
	v.len = (uint8_t)nsh_spec_len(s);
	memcpy(v.hdr, nshf.b + 14, v.len);
	v.gen = v.gen_tail = 0x5a5a;
	v.key = key_of(inner);
	if (f.b[12] == 0x08 && f.b[13] == 0x00) {
		k.family = 4;
		k.proto = f.b[l3 + 9];
		memcpy(&k.saddr[0], f.b + l3 + 12, 4);
		memcpy(&k.daddr[0], f.b + l3 + 16, 4);
		if (k.proto == 6 || k.proto == 17) {
			memcpy(&k.sport, f.b + l3 + 20, 2);
			memcpy(&k.dport, f.b + l3 + 22, 2);
		} else if (k.proto == 1) {
			memcpy(&k.sport, f.b + l3 + 24, 2);
		}
	}
	return bpf_map_update_elem(bpf_map__fd(dec->maps.nsh_state), &k, &v,
				   BPF_ANY) ? -errno : 0;
}

/* What enc must emit for inner frame `inner` and saved NSH `s`. */
static void enc_expected(struct frame *want, const struct nsh_spec *s)
{
	struct nsh_spec e = *s;

	e.si--;
	e.dst = s->src; /* back to the previous hop */
	e.src = MAC_SF;
	mk_nsh(want, &e);
}

static void test_enc_fixtures(void)
{
	static struct fixture fx[16];
	struct nsh_spec s;
	int n = 0, i, err = 0;

	/* dec's ARP fixture saved state for non-IP frames: start without. */
	bpf_map_delete_elem(bpf_map__fd(dec->maps.nsh_state), &(struct flow_key){ 0 });

#define ENCAP(nm, inner_, sp)                                              \
	do {                                                                 \
		memset(&fx[n], 0, sizeof(fx[n]));                            \
		fx[n].name = nm;                                             \
		err |= put_state(inner_, &(sp));                             \
		mk_inner(&fx[n].in, inner_);                                 \
		fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = ENC_encap;     \
		fx[n].expect = EXP_FRAME;                                    \
		enc_expected(&fx[n].want, &(sp));                            \
		n++;                                                         \
	} while (0)

	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	ENCAP("MD2 empty, inner Ethernet, ICMP", IN_ICMP, s);
	s = spec(NSH_MDTYPE_1, NSH_NP_IPV4, IN_UDP);
	s.spi = SPI_B;
	s.ttl = 5;
	ENCAP("MD1, inner IPv4, UDP (TTL kept)", IN_UDP, s);
	s = spec_tlv(NSH_NP_ETH, IN_TCP);
	s.si = 1;
	ENCAP("MD2 with TLVs, inner Ethernet, TCP, SI 1 -> 0", IN_TCP, s);
	s = spec_tlv(NSH_NP_IPV4, IN_UDP2);
	ENCAP("MD2 with TLVs, inner IPv4, UDP", IN_UDP2, s);
	CHECK(!err, "enc: nsh_state entries written");

	/* Fail closed: a forwarded frame (not our source MAC) without state. */
	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "a forwarded frame of another ICMP id (no state) is dropped";
	mk_inner(&fx[n].in, IN_ICMP2);
	fx[n].retval = TC_ACT_SHOT, fx[n].verdict = ENC_drop_no_state, fx[n].expect = EXP_DROP;
	n++;
	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "a forwarded ARP (no state for non-IP) is dropped";
	mk_inner(&fx[n].in, IN_ARP);
	fx[n].retval = TC_ACT_SHOT, fx[n].verdict = ENC_drop_no_state, fx[n].expect = EXP_DROP;
	n++;
	/* The node's own frames (its source MAC) pass untouched. */
	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "the SF's own ICMP (its source MAC, no state) passes";
	mk_inner(&fx[n].in, IN_ICMP2);
	memcpy(fx[n].in.b + 6, MAC_SF, 6);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = ENC_passed, fx[n].expect = EXP_SAME;
	n++;
	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "the SF's own ARP passes";
	mk_inner(&fx[n].in, IN_ARP);
	memcpy(fx[n].in.b + 6, MAC_SF, 6);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = ENC_passed, fx[n].expect = EXP_SAME;
	n++;
	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "an NSH frame (NSH-aware function) passes";
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	mk_nsh(&fx[n].in, &s);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = ENC_passed, fx[n].expect = EXP_SAME;
	n++;

	for (i = 0; i < n; i++)
		run_fixture(&st_enc, &fx[i]);

	/* A saved SI of 0 cannot be decremented. */
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = 0;
	err = put_state(IN_ICMP, &s);
	memset(&fx[0], 0, sizeof(fx[0]));
	fx[0].name = "saved SI 0";
	mk_inner(&fx[0].in, IN_ICMP);
	fx[0].retval = TC_ACT_SHOT, fx[0].verdict = ENC_drop_si_zero;
	CHECK(!err, "enc: SI 0 state written");
	run_fixture(&st_enc, &fx[0]);
#undef ENCAP
}

/* ---- saved state: written on change only, read whole or not at all ---------- */

static int run_ok(struct stage *s, const uint8_t *in, size_t inlen,
		  uint8_t *out, size_t *outlen, int want_verdict);

static int state_get(int inner, struct nsh_state *v)
{
	struct flow_key k = key_of(inner);

	return bpf_map_lookup_elem(bpf_map__fd(dec->maps.nsh_state), &k, v) ? -errno : 0;
}

static int state_set(int inner, const struct nsh_state *v)
{
	struct flow_key k = key_of(inner);

	return bpf_map_update_elem(bpf_map__fd(dec->maps.nsh_state), &k, v, BPF_ANY) ? -errno : 0;
}

static void test_state(void)
{
	/* One 4-byte TLV each; same class and type, other data. */
	static const uint8_t TLV_A[] = { 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd };
	static const uint8_t TLV_B[] = { 0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44 };
	uint8_t ia[FRAME_MAX], ib[FRAME_MAX], o[FRAME_MAX];
	size_t ialen, iblen, olen;
	struct flow_key k = key_of(IN_UDP);
	struct nsh_state v1, v2;
	struct nsh_spec sa, sb, e;
	struct frame a, b, want;
	int ok, retval, verdict;

	bpf_map_delete_elem(bpf_map__fd(dec->maps.nsh_state), &k);
	sa = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_UDP);
	sa.tlv = TLV_A, sa.tlv_len = sizeof(TLV_A);
	sb = sa;
	sb.tlv = TLV_B;
	mk_nsh(&a, &sa);
	mk_nsh(&b, &sb);

	ok = !run_ok(&st_dec, a.b, a.len, ia, &ialen, DEC_decap) && !state_get(IN_UDP, &v1);
	CHECK(ok && v1.gen == v1.gen_tail && v1.len == 16 && !memcmp(v1.hdr, a.b + 14, 16) &&
		      !memcmp(&v1.key, &k, sizeof(k)),
	      "state: a flow's first frame saves its NSH and key, generation at both ends");
	ok = !run_ok(&st_dec, a.b, a.len, ia, &ialen, DEC_decap) && !state_get(IN_UDP, &v2);
	CHECK(ok && v2.gen == v1.gen,
	      "state: the same NSH again is not written (generation %llx kept)",
	      (unsigned long long)v1.gen);
	ok = !run_ok(&st_dec, b.b, b.len, ib, &iblen, DEC_decap) && !state_get(IN_UDP, &v2);
	CHECK(ok && v2.gen != v1.gen && v2.gen == v2.gen_tail && !memcmp(v2.hdr, b.b + 14, 16),
	      "state: new MD2 metadata on the flow is saved under a new generation");

	/*
	 * MD2 under reordering: A then B decapsulated, both inside the
	 * function; A leaves first and carries B's metadata. The metadata is
	 * per flow, the last save wins (docs/architecture.md).
	 */
	e = sb;
	e.si--, e.dst = sb.src, e.src = MAC_SF;
	mk_nsh(&want, &e);
	ok = !run_ok(&st_enc, ia, ialen, o, &olen, ENC_encap);
	CHECK(ok && frame_eq(o, olen, &want),
	      "state: MD2 under reordering: frame A leaves with B's metadata (last save wins)");

	/* A save read while rewritten: generations disagree. */
	v1 = v2;
	v1.gen_tail ^= 1;
	ok = !state_set(IN_UDP, &v1) &&
	     !stage_run(&st_enc, ia, ialen, o, &olen, &retval, &verdict);
	CHECK(ok && retval == TC_ACT_SHOT && verdict == ENC_drop_torn,
	      "state: generations that disagree drop the frame (drop_torn), never a mixed NSH");

	/* An element the LRU reused for another flow after enc's lookup. */
	v1 = v2;
	v1.key.dport ^= 1;
	ok = !state_set(IN_UDP, &v1) && !run_ok(&st_enc, ia, ialen, o, &olen, ENC_drop_no_state);
	CHECK(ok, "state: an element holding another flow's key is no state: drop_no_state");
	memcpy(ia + 6, MAC_SF, 6);
	ok = !run_ok(&st_enc, ia, ialen, o, &olen, ENC_passed) && olen == ialen &&
	     !memcmp(o, ia, olen);
	CHECK(ok, "state: ... while the SF's own frame of that flow passes untouched");
	bpf_map_delete_elem(bpf_map__fd(dec->maps.nsh_state), &k);

	/* Non-IP frames share the all-zero key: a forwarded ARP finds the
	 * state there, the SF's own ARP passes whatever is saved. */
	sa = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ARP);
	mk_inner(&a, IN_ARP);
	ok = !put_state(IN_ARP, &sa) && !run_ok(&st_enc, a.b, a.len, o, &olen, ENC_encap);
	CHECK(ok, "state: a forwarded ARP gets the non-IP flow's NSH back");
	memcpy(a.b + 6, MAC_SF, 6);
	ok = !run_ok(&st_enc, a.b, a.len, o, &olen, ENC_passed) && olen == a.len &&
	     !memcmp(o, a.b, olen);
	CHECK(ok, "state: the SF's own ARP passes untouched even then");
	bpf_map_delete_elem(bpf_map__fd(dec->maps.nsh_state), &(struct flow_key){ 0 });
}

/*
 * One program on the SF egress: enc_f (enc running the fwd stage) must give
 * exactly what enc and then fwd give as two programs: same bytes, same
 * action, the same fwd counter.
 */
static void test_fused(void)
{
	static const struct {
		const char *name;
		uint8_t md, np, ttl, si;
		uint32_t spi;
		int inner;
		bool tlv;
	} cases[] = {
		{ "MD2 TLVs, inner Ethernet, next hop", 2, NSH_NP_ETH, 40, SI_NEXT + 1, SPI_A, IN_ICMP, true },
		{ "MD1, inner IPv4, next hop", 1, NSH_NP_IPV4, 40, SI_NEXT + 1, SPI_B, IN_UDP, false },
		{ "MD2, inner Ethernet, end of chain", 2, NSH_NP_ETH, 40, SI_END + 1, SPI_A, IN_TCP, false },
		{ "MD1, inner IPv4, end of chain", 1, NSH_NP_IPV4, 40, SI_END + 1, SPI_B, IN_UDP2, false },
		{ "MD2, keep TTL (proxy)", 2, NSH_NP_ETH, 62, SI_KEEP + 1, SPI_A, IN_ICMP, false },
		{ "TTL 1 at a decrementing hop", 2, NSH_NP_ETH, 1, SI_NEXT + 1, SPI_A, IN_ICMP, false },
		{ "redirect to another interface", 2, NSH_NP_ETH, 40, SI_REDIR + 1, SPI_A, IN_ICMP, false },
		{ "a path fwd_table lacks: left to fwd", 2, NSH_NP_ETH, 40, 50, SPI_A, IN_ICMP, false },
	};
	uint8_t a[FRAME_MAX], b[FRAME_MAX], c[FRAME_MAX];
	uint64_t f0[32], f1[32], f2[32];
	size_t alen, blen, clen, i;
	int ra, rb, rc, va, vb, vc, err;
	unsigned k, moved_sep, moved_fused;
	struct frame in;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nsh_spec s = spec(cases[i].md, cases[i].np, cases[i].inner);

		s.ttl = cases[i].ttl, s.si = cases[i].si, s.spi = cases[i].spi;
		if (cases[i].tlv)
			s.tlv = MD2_TLVS, s.tlv_len = sizeof(MD2_TLVS);
		mk_inner(&in, cases[i].inner);
		err = put_state(cases[i].inner, &s) || stage_stats(&st_fwd, f0) ||
		      stage_run(&st_enc, in.b, in.len, a, &alen, &ra, &va);
		rb = ra, blen = alen, vb = -1;
		memcpy(b, a, alen);
		if (!err && ra == TC_ACT_UNSPEC)
			err = stage_run(&st_fwd, a, alen, b, &blen, &rb, &vb);
		err = err || stage_stats(&st_fwd, f1) ||
		      stage_run(&st_enc_f, in.b, in.len, c, &clen, &rc, &vc) ||
		      stage_stats(&st_fwd, f2);
		moved_sep = moved_fused = 99;
		for (k = 0; k < st_fwd.nfields; k++) {
			if (f1[k] != f0[k])
				moved_sep = moved_sep == 99 ? k : 98;
			if (f2[k] != f1[k])
				moved_fused = moved_fused == 99 ? k : 98;
		}
		/* enc_f moved fwd's counters behind st_fwd's back. */
		memcpy(st_fwd.last, f2, sizeof(f2));
		/* A dropped frame's bytes do not matter; a path fwd_table
		 * lacks leaves enc_f as it leaves enc, for fwd to count. */
		if (rb == TC_ACT_SHOT)
			clen = blen, memcpy(c, b, blen);
		if (cases[i].si == 50)
			rb = ra, blen = alen, memcpy(b, a, alen), moved_sep = 99;
		CHECK(!err && va == ENC_encap && vc == ENC_encap && rc == rb && clen == blen &&
			      !memcmp(c, b, clen) && moved_fused == moved_sep,
		      "enc+fwd as one program: %s: action %d (two programs: %d), %s bytes, fwd counter %s (two programs: %s)",
		      cases[i].name, rc, rb, clen == blen && !memcmp(c, b, clen) ? "same" : "OTHER",
		      moved_fused < st_fwd.nfields ? fwd_names[moved_fused] : "none",
		      moved_sep < st_fwd.nfields ? fwd_names[moved_sep] : "none");
	}
}

/*
 * dec caches fwd_table's next hop in the state it saves; enc uses it only
 * while fwd_gen is unchanged. A rule that changes between two frames of a
 * flow (the orchestrator rewrites fwd_table between chain lengths) must
 * take effect with the next frame, whether dec saved again or not.
 */
static void test_hop_cache(void)
{
	struct fwd_key key = { SPI_A, SI_NEXT };
	struct fwd_entry ent = { FWD_NEXT_HOP, 0, { 0 }, 0, 0 };
	uint8_t ia[FRAME_MAX], o[FRAME_MAX];
	size_t ialen, olen;
	struct nsh_spec s, e;
	struct frame nf, want;
	struct nsh_state v1, v2;
	int fd = bpf_map__fd(fwd->maps.fwd_table), ok, rc, vc;
	uint32_t g0;

	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = SI_NEXT + 1, s.ttl = 40;
	mk_nsh(&nf, &s);
	e = s;
	e.si = SI_NEXT, e.ttl = 39, e.dst = MAC_NEXT, e.src = MAC_SF;
	bpf_map_delete_elem(bpf_map__fd(dec->maps.nsh_state), &(struct flow_key){ 0 });
	{
		struct flow_key k = key_of(IN_ICMP);

		bpf_map_delete_elem(bpf_map__fd(dec->maps.nsh_state), &k);
	}
	g0 = fwd_gen_now();
	ok = !run_ok(&st_dec, nf.b, nf.len, ia, &ialen, DEC_decap) && !state_get(IN_ICMP, &v1);
	CHECK(ok && v1.hop.rules_gen == g0 && v1.hop.e.action == FWD_NEXT_HOP &&
		      !memcmp(v1.hop.e.mac, MAC_NEXT, 6) && v1.gen == v1.gen_tail,
	      "hop cache: dec saves fwd_table's next hop for SI-1 with fwd_gen %u", g0);
	mk_nsh(&want, &e);
	ok = !stage_run(&st_enc_f, ia, ialen, o, &olen, &rc, &vc);
	CHECK(ok && vc == ENC_encap && rc == TC_ACT_OK && frame_eq(o, olen, &want),
	      "hop cache: enc+fwd sends the flow to the cached next hop");

	/* The rule changes; dec has not seen the flow since. */
	memcpy(ent.mac, MAC_OTHER, 6);
	ok = !bpf_map_update_elem(fd, &key, &ent, BPF_ANY) && !fwd_gen_bump();
	e.dst = MAC_OTHER;
	mk_nsh(&want, &e);
	ok = ok && !stage_run(&st_enc_f, ia, ialen, o, &olen, &rc, &vc);
	CHECK(ok && vc == ENC_encap && rc == TC_ACT_OK && frame_eq(o, olen, &want),
	      "hop cache: a rule changed after dec's save: the next frame goes to the new hop");
	ok = !run_ok(&st_dec, nf.b, nf.len, ia, &ialen, DEC_decap) && !state_get(IN_ICMP, &v2);
	CHECK(ok && v2.gen != v1.gen && v2.hop.rules_gen == g0 + 1 &&
		      !memcmp(v2.hop.e.mac, MAC_OTHER, 6),
	      "hop cache: dec saves the flow's unchanged NSH again, with the new hop");
	ok = !stage_run(&st_enc_f, ia, ialen, o, &olen, &rc, &vc);
	CHECK(ok && vc == ENC_encap && rc == TC_ACT_OK && frame_eq(o, olen, &want),
	      "hop cache: ... and enc+fwd uses it");

	/* The path goes away: enc leaves the frame to fwd (which drops it). */
	ok = !bpf_map_delete_elem(fd, &key) && !fwd_gen_bump();
	e.dst = MAC_PREV, e.ttl = 40;
	mk_nsh(&want, &e);
	ok = ok && !stage_run(&st_enc_f, ia, ialen, o, &olen, &rc, &vc);
	CHECK(ok && vc == ENC_encap && rc == TC_ACT_UNSPEC && frame_eq(o, olen, &want),
	      "hop cache: a path deleted after dec's save: left to fwd, not sent to the old hop");

	memcpy(ent.mac, MAC_NEXT, 6);
	ok = !bpf_map_update_elem(fd, &key, &ent, BPF_ANY) && !fwd_gen_bump();
	ok = ok && !run_ok(&st_dec, nf.b, nf.len, ia, &ialen, DEC_decap) &&
	     !state_get(IN_ICMP, &v2);
	CHECK(ok && v2.hop.rules_gen == g0 + 3 && !memcmp(v2.hop.e.mac, MAC_NEXT, 6),
	      "hop cache: the path back: dec caches it again");
	/* enc_f moved fwd's counters behind st_fwd's back. */
	stage_stats(&st_fwd, st_fwd.last);
	bpf_map_delete_elem(bpf_map__fd(dec->maps.nsh_state), &(struct flow_key){ 0 });
}

static void test_fwd_fixtures(void)
{
	static struct fixture fx[64];
	struct nsh_spec s, e;
	int n = 0, i;

#define DROP(nm, sp, cut, why) fx_nsh(&fx[n++], nm, sp, cut, TC_ACT_SHOT, FWD_##why)
#define FORWARD(nm, sp)                                                    \
	do {                                                                 \
		fx_nsh(&fx[n], nm, sp, 0, TC_ACT_OK, FWD_forwarded);       \
		e = (sp);                                                    \
		e.ttl--, e.dst = MAC_NEXT, e.src = MAC_SF;                   \
		fx[n].expect = EXP_FRAME;                                    \
		mk_nsh(&fx[n].want, &e);                                     \
		n++;                                                         \
	} while (0)
#define END_ETH(nm, sp)                                                    \
	do {                                                                 \
		fx_nsh(&fx[n], nm, sp, 0, TC_ACT_OK, FWD_end_of_chain);    \
		fx[n].expect = EXP_FRAME;                                    \
		mk_inner(&fx[n].want, (sp).inner);                           \
		n++;                                                         \
	} while (0)
#define END_L3(nm, sp)                                                     \
	do {                                                                 \
		fx_nsh(&fx[n], nm, sp, 0, TC_ACT_OK, FWD_end_of_chain);    \
		fx[n].expect = EXP_FRAME;                                    \
		mk_l3_frame(&fx[n].want, (sp).inner, MAC_B, MAC_SF);         \
		n++;                                                         \
	} while (0)

	FORWARD("MD2 empty, inner Ethernet -> next hop", spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP));
	s = spec(NSH_MDTYPE_1, NSH_NP_IPV4, IN_UDP);
	s.spi = SPI_B;
	FORWARD("MD1, inner IPv4, 24-bit SPI -> next hop", s);
	s = spec_tlv(NSH_NP_ETH, IN_TCP);
	s.ttl = 2;
	FORWARD("MD2 with TLVs, TTL 2 -> 1, metadata kept", s);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = SI_END;
	END_ETH("end of chain, MD2, inner Ethernet", s);
	s = spec(NSH_MDTYPE_1, NSH_NP_ETH, IN_ARP);
	s.si = SI_END;
	END_ETH("end of chain, MD1, inner Ethernet carrying ARP", s);
	s = spec(NSH_MDTYPE_2, NSH_NP_IPV4, IN_ICMP);
	s.si = SI_END;
	END_L3("end of chain, MD2, inner IPv4", s);
	s = spec_tlv(NSH_NP_IPV4, IN_UDP);
	s.si = SI_END;
	s.spi = SPI_B;
	END_L3("end of chain, MD2 with TLVs, inner IPv4", s);
	s = spec(NSH_MDTYPE_1, NSH_NP_IPV6, IN_ICMP6);
	s.si = SI_END;
	END_L3("end of chain, MD1, inner IPv6", s);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = SI_REDIR;
	fx_nsh(&fx[n], "next hop through another ifindex", s, 0, TC_ACT_REDIRECT,
	       FWD_redirected);
	e = s;
	e.ttl--, e.dst = MAC_NEXT, e.src = MAC_SF;
	fx[n].expect = EXP_FRAME;
	mk_nsh(&fx[n].want, &e);
	n++;

	/* FWD_F_KEEP_TTL: next hop as usual, TTL as it came. */
#define KEEP(nm, sp)                                                       \
	do {                                                                 \
		fx_nsh(&fx[n], nm, sp, 0, TC_ACT_OK, FWD_forwarded);       \
		e = (sp);                                                    \
		e.dst = MAC_NEXT, e.src = MAC_SF;                            \
		fx[n].expect = EXP_FRAME;                                    \
		mk_nsh(&fx[n].want, &e);                                     \
		n++;                                                         \
	} while (0)
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = SI_KEEP;
	KEEP("keep TTL: MD2, TTL 62 leaves as 62, to next hop", s);
	s = spec(NSH_MDTYPE_1, NSH_NP_IPV4, IN_UDP);
	s.si = SI_KEEP;
	s.ttl = 1;
	KEEP("keep TTL: MD1, TTL 1 is forwarded with TTL 1", s);
	s = spec_tlv(NSH_NP_ETH, IN_TCP);
	s.si = SI_KEEP;
	s.ttl = 63;
	KEEP("keep TTL: MD2 with TLVs, TTL 63 kept, metadata kept", s);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = SI_KEEP_END;
	s.ttl = 1;
	END_ETH("keep TTL: end of chain with TTL 1 delivers", s);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = SI_KEEP;
	s.ttl = 0;
	DROP("keep TTL: TTL 0 on arrival still dropped", s, 0, drop_ttl_expired);
	s.si = SI_KEEP_END;
	DROP("keep TTL: end of chain, TTL 0 on arrival still dropped", s, 0,
	     drop_ttl_expired);
	s.si = SI_END;
	s.ttl = 1;
	DROP("no keep TTL: end of chain with TTL 1 dropped", s, 0, drop_ttl_expired);
#undef KEEP

	memset(&fx[n], 0, sizeof(fx[n]));
	fx[n].name = "plain IPv4 passes";
	mk_inner(&fx[n].in, IN_ICMP);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = FWD_passed, fx[n].expect = EXP_SAME;
	n++;

	s = spec(NSH_MDTYPE_1, NSH_NP_ETH, IN_ICMP);
	DROP("cut after outer Ethernet", s, 14, drop_truncated);
	DROP("cut inside the base header", s, 14 + 2, drop_truncated);
	DROP("cut inside the service path header", s, 14 + 7, drop_truncated);
	DROP("cut inside the MD1 context", s, 14 + 20, drop_truncated);
	s = spec_tlv(NSH_NP_ETH, IN_ICMP);
	DROP("cut inside the first TLV header", s, 14 + 8 + 1, drop_truncated);
	DROP("cut inside the second TLV data", s, 14 + 8 + 8 + 4 + 2, drop_truncated);
	s.si = SI_END;
	DROP("end of chain, cut inside the inner Ethernet", s, 14 + 28 + 8, drop_truncated);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.ver = 2;
	DROP("version 2", s, 0, drop_bad_version);
	s = spec(NSH_MDTYPE_1, NSH_NP_ETH, IN_ICMP);
	s.len_words = 2;
	DROP("MD1 with Length 2", s, 0, drop_bad_length);
	s = spec_tlv(NSH_NP_ETH, IN_ICMP);
	s.len_words = 5; /* second TLV ends at 28 bytes */
	DROP("MD2 TLVs overrun Length", s, 0, drop_bad_length);
	s.tlv = TLV_LONG;
	s.tlv_len = sizeof(TLV_LONG);
	s.len_words = 0;
	DROP("MD2 TLV longer than the room Length leaves", s, 0, drop_bad_length);
	s = spec(3, NSH_NP_ETH, IN_ICMP);
	DROP("MD type 3", s, 0, drop_bad_mdtype);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.ttl = 0;
	DROP("TTL 0 on arrival", s, 0, drop_ttl_expired);
	s.ttl = 1;
	DROP("TTL 1: 0 after decrement", s, 0, drop_ttl_expired);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.si = 0;
	DROP("SI 0", s, 0, drop_si_zero);
	s.si = SI_NEXT;
	s.spi = 4242;
	DROP("unknown SPI", s, 0, drop_no_path);
	s.spi = SPI_A;
	s.si = 17;
	DROP("unknown SI", s, 0, drop_no_path);
	s.si = 9;
	DROP("entry with an unknown action", s, 0, drop_no_path);
	s = spec(NSH_MDTYPE_2, 0x4 /* NSH in NSH */, IN_ICMP);
	DROP("next protocol NSH", s, 0, drop_bad_next_proto);
#undef DROP
#undef FORWARD
#undef END_ETH
#undef END_L3

	for (i = 0; i < n; i++)
		run_fixture(&st_fwd, &fx[i]);
}

static void test_cls_fixtures(void)
{
	static struct fixture fx[12];
	struct nsh_spec s;
	int n = 0, i;

	memset(fx, 0, sizeof(fx));
	fx[n].name = "ICMP: MD2, inner Ethernet, SPI 100 SI 255, TTL 63";
	mk_inner(&fx[n].in, IN_ICMP);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	s.dst = MAC_SF, s.src = MAC_A, s.ttl = 63, s.si = 255;
	mk_nsh(&fx[n].want, &s);
	fx[n].retval = TC_ACT_OK, fx[n].verdict = CLS_classified, fx[n].expect = EXP_FRAME;
	n++;
	fx[n].name = "UDP to port 5000: MD1, inner IPv4, SPI 0xabcdef SI 10";
	mk_inner(&fx[n].in, IN_UDP);
	s = spec(NSH_MDTYPE_1, NSH_NP_IPV4, IN_UDP);
	s.dst = MAC_NEXT, s.src = MAC_A, s.ttl = 63, s.spi = SPI_B, s.si = 10;
	mk_nsh(&fx[n].want, &s);
	fx[n].retval = TC_ACT_OK, fx[n].verdict = CLS_classified, fx[n].expect = EXP_FRAME;
	n++;
	fx[n].name = "TCP: redirected with the NSH pushed";
	mk_inner(&fx[n].in, IN_TCP);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_TCP);
	s.dst = MAC_SF, s.src = MAC_A, s.ttl = 63, s.spi = 300, s.si = 5;
	mk_nsh(&fx[n].want, &s);
	fx[n].retval = TC_ACT_REDIRECT, fx[n].verdict = CLS_redirected, fx[n].expect = EXP_FRAME;
	n++;
	fx[n].name = "UDP to port 5001: no rule, passes";
	mk_inner(&fx[n].in, IN_UDP2);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = CLS_passed, fx[n].expect = EXP_SAME;
	n++;
	fx[n].name = "ARP passes";
	mk_inner(&fx[n].in, IN_ARP);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = CLS_passed, fx[n].expect = EXP_SAME;
	n++;
	fx[n].name = "IPv6 passes";
	mk_inner(&fx[n].in, IN_ICMP6);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = CLS_passed, fx[n].expect = EXP_SAME;
	n++;
	fx[n].name = "IPv4 from another source passes";
	mk_inner(&fx[n].in, IN_ICMP);
	fx[n].in.b[14 + 15] = 99; /* 10.0.0.99: checksum no matter here */
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = CLS_passed, fx[n].expect = EXP_SAME;
	n++;
	fx[n].name = "UDP cut inside its ports: the port rule cannot match, passes";
	mk_inner(&fx[n].in, IN_UDP);
	fx[n].in.len = 14 + 20 + 3;
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = CLS_passed, fx[n].expect = EXP_SAME;
	n++;
	fx[n].name = "an NSH frame passes";
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	mk_nsh(&fx[n].in, &s);
	fx[n].retval = TC_ACT_UNSPEC, fx[n].verdict = CLS_passed, fx[n].expect = EXP_SAME;
	n++;

	for (i = 0; i < n; i++)
		run_fixture(&st_cls, &fx[i]);
}

/* Test runs use lo: its address is all zero, so dst 0 is PACKET_HOST. */
static const uint8_t MAC_LO[6];

static void kw_fx(struct fixture *fx, const char *name, int inner, bool nsh,
		  const uint8_t *dst, int retval, int verdict)
{
	struct nsh_spec s = spec(NSH_MDTYPE_2, NSH_NP_ETH, inner);

	memset(fx, 0, sizeof(*fx));
	fx->name = name;
	if (nsh) {
		s.dst = dst;
		mk_nsh(&fx->in, &s);
	} else {
		mk_inner(&fx->in, inner);
		memcpy(fx->in.b, dst, 6);
	}
	fx->retval = retval;
	fx->verdict = verdict;
	fx->expect = EXP_SAME; /* kwire never changes a frame */
}

static void test_kwire_fixtures(void)
{
	static struct fixture fx[8];
	int i;

	/* otherhost, back out of the same interface: a wire SF. */
	kw_fx(&fx[0], "frame for another host is reflected", IN_ICMP, false,
	      MAC_B, TC_ACT_REDIRECT, KWIRE_reflected);
	kw_fx(&fx[1], "broadcast goes to the stack", IN_ARP, false, MAC_BCAST,
	      TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[2], "frame for this host goes to the stack", IN_ICMP, false,
	      MAC_LO, TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[3], "NSH frame for this host goes to the stack", IN_ICMP, true,
	      MAC_LO, TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[4], "NSH frame for another host is reflected", IN_ICMP, true,
	      MAC_SF, TC_ACT_REDIRECT, KWIRE_reflected);
	for (i = 0; i < 5; i++)
		run_fixture(&st_kw, &fx[i]);

	/* nsh-host: an SFF node takes only NSH addressed to it. */
	kw_fx(&fx[0], "NSH frame for this host is reflected", IN_ICMP, true,
	      MAC_LO, TC_ACT_REDIRECT, KWIRE_reflected);
	kw_fx(&fx[1], "NSH frame (inner UDP) for this host is reflected", IN_UDP,
	      true, MAC_LO, TC_ACT_REDIRECT, KWIRE_reflected);
	kw_fx(&fx[2], "NSH frame for another host goes to the stack", IN_ICMP,
	      true, MAC_SF, TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[3], "NSH frame to broadcast goes to the stack", IN_ICMP, true,
	      MAC_BCAST, TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[4], "plain frame for this host goes to the stack", IN_ICMP,
	      false, MAC_LO, TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[5], "plain frame for another host goes to the stack", IN_ICMP,
	      false, MAC_B, TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[6], "ARP broadcast goes to the stack", IN_ARP, false,
	      MAC_BCAST, TC_ACT_OK, KWIRE_passed);
	for (i = 0; i < 7; i++)
		run_fixture(&st_kw_nsh, &fx[i]);

	/* otherhost with a peer: a proxy's cross-connect counts redirected. */
	kw_fx(&fx[0], "frame for another host is cross-connected", IN_ICMP,
	      false, MAC_B, TC_ACT_REDIRECT, KWIRE_redirected);
	kw_fx(&fx[1], "NSH frame for another host is cross-connected", IN_UDP,
	      true, MAC_SF, TC_ACT_REDIRECT, KWIRE_redirected);
	kw_fx(&fx[2], "frame for this host goes to the stack", IN_ICMP, false,
	      MAC_LO, TC_ACT_OK, KWIRE_passed);
	kw_fx(&fx[3], "broadcast goes to the stack", IN_ARP, false, MAC_BCAST,
	      TC_ACT_OK, KWIRE_passed);
	for (i = 0; i < 4; i++)
		run_fixture(&st_kw_x, &fx[i]);
}

/* ---- round trips -------------------------------------------------------------- */

struct tshark_want {
	uint32_t spi;
	uint8_t si, ttl, md, np;
};

static struct {
	FILE *fp;
	char path[256];
	struct tshark_want want[16];
	int n;
} cap;

static void capture(const uint8_t *f, size_t n, uint32_t spi, uint8_t si,
		    uint8_t ttl, uint8_t md, uint8_t np)
{
	if (!cap.fp || cap.n >= 16)
		return;
	pcap_write(cap.fp, f, n, (uint32_t)cap.n);
	cap.want[cap.n++] = (struct tshark_want){ spi, si, ttl, md, np };
}

static int run_ok(struct stage *s, const uint8_t *in, size_t inlen,
		  uint8_t *out, size_t *outlen, int want_verdict)
{
	int retval, verdict;

	if (stage_run(s, in, inlen, out, outlen, &retval, &verdict))
		return -1;
	if (verdict != want_verdict) {
		DIAG("%s: counter %s, want %s", s->name, stage_verdict_name(s, verdict),
		     stage_verdict_name(s, want_verdict));
		return -1;
	}
	return 0;
}

static void test_round_trips(void)
{
	uint8_t a[FRAME_MAX], b[FRAME_MAX], c[FRAME_MAX], d[FRAME_MAX];
	size_t alen, blen, clen, dlen;
	struct frame orig, want;
	struct nsh_spec s, e;
	struct nsh_view v;
	int inner, ok;

	/* classifier -> dec gives the original frame back, for each protocol. */
	for (inner = IN_ICMP; inner <= IN_TCP; inner++) {
		if (inner == IN_ICMP2 || inner == IN_UDP2)
			continue;
		mk_inner(&orig, inner);
		ok = !run_ok(&st_cls, orig.b, orig.len, a, &alen,
			     inner == IN_TCP ? CLS_redirected : CLS_classified) &&
		     !nsh_validate(a, alen, &v);
		if (ok)
			capture(a, alen, v.spi, v.si, v.ttl, v.md, v.np);
		/* The rules send ICMP/TCP to this SF and UDP to MAC_NEXT. */
		if (ok && inner == IN_UDP)
			memcpy(a, MAC_SF, 6);
		ok = ok && !run_ok(&st_dec, a, alen, b, &blen, DEC_decap);
		if (inner == IN_UDP) {
			/* Inner IPv4: dec writes {previous hop, previous hop}:
			 * never this SF's own MAC, which enc keeps for the
			 * node's own frames. */
			mk_l3_frame(&want, inner, MAC_A, MAC_A);
		} else {
			want = orig;
		}
		CHECK(ok && frame_eq(b, blen, &want),
		      "round trip classifier -> dec returns the %s frame byte for byte",
		      inner == IN_ICMP ? "ICMP" : inner == IN_UDP ? "UDP (inner IPv4)" : "TCP");
	}

	/* dec -> enc -> fwd: same NSH, SI-1, TTL-1, metadata kept, next hop. */
	for (inner = 0; inner < 3; inner++) {
		const char *what[] = { "MD2 TLVs, inner Ethernet", "MD1, inner IPv4",
				       "MD2 empty, inner IPv4" };

		if (inner == 0)
			s = spec_tlv(NSH_NP_ETH, IN_ICMP);
		else if (inner == 1)
			s = spec(NSH_MDTYPE_1, NSH_NP_IPV4, IN_UDP);
		else
			s = spec(NSH_MDTYPE_2, NSH_NP_IPV4, IN_TCP);
		s.si = SI_NEXT + 1;
		s.ttl = 40;
		mk_nsh(&orig, &s);
		ok = !run_ok(&st_dec, orig.b, orig.len, a, &alen, DEC_decap) &&
		     !run_ok(&st_enc, a, alen, b, &blen, ENC_encap) &&
		     !run_ok(&st_fwd, b, blen, c, &clen, FWD_forwarded);
		e = s;
		e.si = SI_NEXT, e.ttl = 39, e.dst = MAC_NEXT, e.src = MAC_SF;
		mk_nsh(&want, &e);
		CHECK(ok && frame_eq(c, clen, &want),
		      "round trip dec -> enc -> fwd (%s): SI %u->%u, TTL 40->39, to next hop",
		      what[inner], s.si, e.si);
		if (ok && !nsh_validate(c, clen, &v))
			capture(c, clen, v.spi, v.si, v.ttl, v.md, v.np);
		if (ok && !nsh_validate(b, blen, &v))
			capture(b, blen, v.spi, v.si, v.ttl, v.md, v.np);
	}

	/*
	 * A proxy: dec -> (its SF) -> enc -> fwd with keep TTL. SI-1 as on
	 * any SF, TTL untouched: the SFF that comes next decrements it.
	 */
	s = spec(NSH_MDTYPE_1, NSH_NP_ETH, IN_UDP);
	s.si = SI_KEEP + 1;
	s.ttl = 62;
	mk_nsh(&orig, &s);
	ok = !run_ok(&st_dec, orig.b, orig.len, a, &alen, DEC_decap) &&
	     !run_ok(&st_kw_x, a, alen, b, &blen, KWIRE_redirected) &&
	     !run_ok(&st_enc, b, blen, c, &clen, ENC_encap) &&
	     !run_ok(&st_fwd, c, clen, d, &dlen, FWD_forwarded);
	e = s;
	e.si = SI_KEEP, e.dst = MAC_NEXT, e.src = MAC_SF;
	mk_nsh(&want, &e);
	CHECK(ok && frame_eq(d, dlen, &want),
	      "round trip proxy dec -> kwire(peer) -> enc -> fwd(keep TTL): SI %u->%u, TTL 62 kept",
	      s.si, e.si);
	if (ok && !nsh_validate(d, dlen, &v))
		capture(d, dlen, v.spi, v.si, v.ttl, v.md, v.np);

	/* Whole chain of one SF: classifier -> dec -> enc -> fwd (end). */
	mk_inner(&orig, IN_ICMP);
	s = spec(NSH_MDTYPE_2, NSH_NP_ETH, IN_ICMP);
	ok = !run_ok(&st_cls, orig.b, orig.len, a, &alen, CLS_classified) &&
	     !run_ok(&st_dec, a, alen, b, &blen, DEC_decap);
	/* The SF's function: an in-kernel wire reflects it unchanged. */
	ok = ok && !run_ok(&st_kw, b, blen, c, &clen, KWIRE_reflected) &&
	     !run_ok(&st_enc, c, clen, d, &dlen, ENC_encap);
	/* SI 255 -> 254 is SI_NEXT here; make it the end for this check. */
	if (ok) {
		d[14 + 7] = SI_END;
		capture(d, dlen, SPI_A, SI_END, 63, 2, NSH_NP_ETH);
	}
	ok = ok && !run_ok(&st_fwd, d, dlen, a, &alen, FWD_end_of_chain);
	CHECK(ok && frame_eq(a, alen, &orig),
	      "chain classifier -> dec -> kwire -> enc -> fwd(end) delivers the original frame");
}

/* ---- tshark -------------------------------------------------------------------- */

static void test_tshark(void)
{
	char cmd[512], line[256];
	FILE *p;
	int i = 0, good = 0, malformed = 0, st;

	if (!CHECK(cap.fp && cap.n >= 8, "pcap of stage outputs written (%d frames)", cap.n))
		return;
	fclose(cap.fp);
	cap.fp = NULL;

	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -T fields -E separator=, -e nsh.spi -e nsh.si "
		 "-e nsh.ttl -e nsh.mdtype -e nsh.nextproto 2>&1", cap.path);
	p = popen(cmd, "r");
	if (!CHECK(p != NULL, "run tshark"))
		return;
	while (fgets(line, sizeof(line), p)) {
		unsigned spi, si, ttl, md, np;

		if (sscanf(line, "%i,%i,%i,%i,%i", &spi, &si, &ttl, &md, &np) != 5) {
			DIAG("tshark: %s", line);
			continue;
		}
		if (i < cap.n && spi == cap.want[i].spi && si == cap.want[i].si &&
		    ttl == cap.want[i].ttl && md == cap.want[i].md && np == cap.want[i].np)
			good++;
		else
			DIAG("tshark frame %d: spi %u si %u ttl %u md %u np %u", i + 1,
			     spi, si, ttl, md, np);
		i++;
	}
	st = pclose(p);
	/* A tshark that failed or is missing decodes nothing: no pass then. */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && good == cap.n && i == cap.n,
	      "tshark decodes NSH in all %d frames with the expected SPI/SI/TTL/MD type/next protocol (%d match)",
	      cap.n, good);

	/* Expert info: malformed packets, bad lengths, bad checksums. */
	snprintf(cmd, sizeof(cmd), "tshark -n -r %s -o ip.check_checksum:TRUE -z expert,warn -q 2>&1", cap.path);
	p = popen(cmd, "r");
	if (!CHECK(p != NULL, "run tshark -z expert"))
		return;
	while (fgets(line, sizeof(line), p)) {
		if (strcasestr(line, "malformed") || strcasestr(line, "warn") ||
		    strcasestr(line, "error")) {
			malformed++;
			DIAG("tshark expert: %s", line);
		}
	}
	st = pclose(p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && malformed == 0,
	      "tshark exits 0 and reports no malformed packets or expert warnings (status %d)", st);
}

/* ---- robustness ------------------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* One mutated or random frame; seeds are the stage's valid inputs. */
static void fuzz_frame(struct frame *f, const struct frame *seeds, int nseeds,
		       bool nsh_bias)
{
	uint32_t r = rnd() % 100, i, k;

	if (r < 10) {
		/* Random bytes, Ethernet-sized at least. */
		f->len = 14 + rnd() % 300;
		for (i = 0; i < f->len; i++)
			f->b[i] = (uint8_t)rnd();
		if (nsh_bias && rnd() % 2) {
			f->b[12] = 0x89, f->b[13] = 0x4f;
			memcpy(f->b, MAC_SF, 6);
		}
		return;
	}
	*f = seeds[rnd() % nseeds];
	k = 1 + rnd() % 4;
	while (k--) {
		switch (rnd() % 6) {
		case 0: /* flip a bit in the headers */
			i = rnd() % (f->len < 80 ? f->len : 80);
			f->b[i] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* flip a bit anywhere */
			i = rnd() % f->len;
			f->b[i] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 2: /* truncate */
			if (f->len > 14)
				f->len = 14 + rnd() % (f->len - 14);
			break;
		case 3: /* NSH Length */
			if (f->len > 16)
				f->b[15] = (uint8_t)((f->b[15] & 0xc0) | (rnd() % 64));
			break;
		case 4: /* a TLV length or the MD type */
			if (f->len > 40)
				f->b[14 + 8 + 3 + 4 * (rnd() % 4)] = (uint8_t)rnd();
			else if (f->len > 16)
				f->b[16] = (uint8_t)rnd();
			break;
		case 5: /* TTL, SI or next protocol */
			if (f->len > 22) {
				i = rnd() % 3;
				if (i == 0)
					f->b[14] ^= (uint8_t)(rnd() & 0x0f),
					f->b[15] ^= (uint8_t)(rnd() & 0xc0);
				else if (i == 1)
					f->b[21] = (uint8_t)(rnd() % 4);
				else
					f->b[17] = (uint8_t)rnd();
			}
			break;
		}
	}
}

struct fuzz_result {
	unsigned runs, bad, errors;
	uint64_t start[32];
	char first[256];
};

static void fuzz_bad(struct fuzz_result *r, const struct stage *s, const char *why,
		     const struct frame *in, int verdict)
{
	if (!r->bad++)
		snprintf(r->first, sizeof(r->first),
			 "%s (verdict %s, input %zu bytes, ethertype %02x%02x)",
			 why, stage_verdict_name(s, verdict), in->len, in->b[12], in->b[13]);
}

static bool is_drop(const struct stage *s, int v)
{
	return v >= 0 && !strncmp(s->names[v], "drop_", 5);
}

/*
 * Checks one fuzz run: a counted drop, or a frame that is untouched (pass),
 * or well-formed for what the stage says it did.
 */
static void fuzz_check(struct stage *s, struct fuzz_result *r,
		       const struct frame *in, const uint8_t *out, size_t outlen,
		       int retval, int verdict)
{
	struct nsh_view vin = { 0 }, vout = { 0 };
	const char *why, *inval;
	size_t l2;

	r->runs++;
	if (verdict < 0)
		return fuzz_bad(r, s, "no single counter moved", in, verdict);
	if (is_drop(s, verdict)) {
		if (retval != (s == &st_dec ? XDP_DROP : TC_ACT_SHOT))
			fuzz_bad(r, s, "drop counted but not dropped", in, verdict);
		return;
	}
	if (!strcmp(s->names[verdict], "passed") || s == &st_kw ||
	    s == &st_kw_nsh || s == &st_kw_x) {
		if (outlen != in->len || memcmp(out, in->b, outlen))
			fuzz_bad(r, s, "passed but changed", in, verdict);
		return;
	}
	inval = nsh_validate(in->b, in->len, &vin);
	if (s == &st_dec) {
		/* dec must agree with the independent validator. */
		if (inval)
			return fuzz_bad(r, s, "decapsulated an invalid NSH", in, verdict);
		if (vin.ttl < 2 || vin.si == 0 || memcmp(in->b, MAC_SF, 6))
			return fuzz_bad(r, s, "decapsulated TTL<2/SI 0/not ours", in, verdict);
		/* Inner Ethernet: the rest of the frame; inner IP: a new
		 * Ethernet header and the rest. */
		l2 = vin.np == NSH_NP_ETH ? 0 : 14;
		if (outlen != in->len - 14 - vin.len + l2 ||
		    memcmp(out + l2, in->b + 14 + vin.len, in->len - 14 - vin.len))
			fuzz_bad(r, s, "decap output is not the inner frame", in, verdict);
		return;
	}
	if (s == &st_fwd && verdict == FWD_end_of_chain) {
		if (inval)
			return fuzz_bad(r, s, "delivered from an invalid NSH", in, verdict);
		if (outlen >= in->len)
			fuzz_bad(r, s, "end of chain did not shrink", in, verdict);
		return;
	}
	/* classifier/enc encap, fwd forwarded/redirected: well-formed NSH out. */
	why = nsh_validate(out, outlen, &vout);
	if (why)
		return fuzz_bad(r, s, why, in, verdict);
	if (s == &st_fwd) {
		bool keep = vin.spi == SPI_A &&
			    (vin.si == SI_KEEP || vin.si == SI_KEEP_END);

		if (inval || outlen != in->len || vout.ttl != vin.ttl - !keep)
			fuzz_bad(r, s, "forwarded frame differs beyond TTL and MACs", in, verdict);
	} else if (outlen > in->len + 14 + NSH_MAX_LEN ||
		   memcmp(out + outlen - (in->len - 14), in->b + 14, in->len - 14)) {
		fuzz_bad(r, s, "encapsulated frame does not carry the input", in, verdict);
	}
}

/* The fewest frames a stage's fuzz may run (kwire's get a tenth of
 * CADEIA_FUZZ_N, so CADEIA_FUZZ_N itself must be at least 10 times this). */
#define FUZZ_MIN 100u

static void fuzz_stage(struct stage *s, const struct frame *seeds, int nseeds,
		       bool nsh_bias, unsigned n)
{
	struct fuzz_result r = { 0 };
	uint64_t end[32], sum = 0, start_sum = 0;
	uint8_t out[FRAME_MAX];
	struct frame in;
	size_t outlen = 0;
	int retval = 0, verdict = -1, err;
	unsigned i, f, refused = 0;

	stage_stats(s, r.start);
	for (i = 0; i < n; i++) {
		fuzz_frame(&in, seeds, nseeds, nsh_bias);
		err = stage_run(s, in.b, in.len, out, &outlen, &retval, &verdict);
		/* BPF_PROG_TEST_RUN refuses an skb whose IP header is cut. */
		if (err == -EINVAL && in.len < 14 + 40) {
			refused++;
			continue;
		}
		if (err) {
			if (!r.errors++)
				DIAG("%s: test run: %s (input %zu bytes)", s->name,
				     strerror(-err), in.len);
			continue;
		}
		fuzz_check(s, &r, &in, out, outlen, retval, verdict);
	}
	stage_stats(s, end);
	if (refused)
		DIAG("%s: %u short frames refused by BPF_PROG_TEST_RUN itself", s->name, refused);
	for (f = 0; f < s->nfields; f++) {
		sum += end[f];
		start_sum += r.start[f];
		if (end[f] != r.start[f])
			DIAG("%s: %-20s %llu", s->name, s->names[f],
			     (unsigned long long)(end[f] - r.start[f]));
	}
	/* At least FUZZ_MIN frames asked for and half of them run (the rest
	 * refused as too short): CADEIA_FUZZ_N=0 must not pass. */
	CHECK(r.bad == 0 && r.errors == 0 && n >= FUZZ_MIN && r.runs >= n / 2,
	      "fuzz %s: %u of %u frames run (at least %u asked, half run), every one a counted "
	      "drop, untouched, or well-formed%s%s", s->name, r.runs, n, FUZZ_MIN,
	      r.bad ? ": FIRST FAILURE: " : "", r.bad ? r.first : "");
	CHECK(sum - start_sum == r.runs,
	      "fuzz %s: counters sum to the number of runs (%llu vs %u)", s->name,
	      (unsigned long long)(sum - start_sum), r.runs);
}

static void test_fuzz(void)
{
	struct frame plain[IN__MAX], nshf[12];
	const char *env = getenv("CADEIA_FUZZ_SEED");
	const char *nenv = getenv("CADEIA_FUZZ_N");
	unsigned n = nenv ? (unsigned)atoi(nenv) : 100000;
	struct nsh_spec s;
	int i, k = 0;

	rng_state = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	if (!rng_state)
		rng_state = 1;
	DIAG("fuzz seed %llu (rerun with CADEIA_FUZZ_SEED=%llu), %u frames per stage",
	     (unsigned long long)rng_state, (unsigned long long)rng_state, n);

	for (i = 0; i < IN__MAX; i++)
		mk_inner(&plain[i], i);
	for (i = 0; i < 4; i++) {
		s = i < 2 ? spec_tlv(i ? NSH_NP_IPV4 : NSH_NP_ETH, IN_ICMP)
			  : spec(i == 2 ? NSH_MDTYPE_1 : NSH_MDTYPE_2,
				 i == 2 ? NSH_NP_ETH : NSH_NP_IPV4, IN_UDP);
		mk_nsh(&nshf[k++], &s);
		s.si = SI_END;
		mk_nsh(&nshf[k++], &s);
		s.spi = SPI_B;
		s.si = SI_NEXT;
		s.inner = IN_TCP;
		mk_nsh(&nshf[k++], &s);
	}

	fuzz_stage(&st_cls, plain, IN__MAX, false, n);
	fuzz_stage(&st_dec, nshf, k, true, n);
	/* enc runs with whatever dec saved plus the fixtures' states. */
	fuzz_stage(&st_enc, plain, IN__MAX, false, n);
	fuzz_stage(&st_fwd, nshf, k, true, n);
	fuzz_stage(&st_kw, plain, IN__MAX, false, n / 10);
	fuzz_stage(&st_kw_nsh, nshf, k, true, n / 10);
	fuzz_stage(&st_kw_x, plain, IN__MAX, false, n / 10);
}

int main(void)
{
	/* 2 loads, fixtures (cls 9, dec 39, enc 12, fwd 36, kwire 5 + 7 + 4),
	 * 9 state, 8 enc+fwd in one program, 7 hop cache, 8 round trips,
	 * 5 tshark, 7 stages x 2 fuzz checks. */
	tap_plan(2 + 9 + 39 + 12 + 36 + 16 + 9 + 8 + 7 + 8 + 5 + 14);
	/* Not root is a failure, not a skip: a skipped test would pass. */
	if (geteuid() != 0) {
		CHECK(0, "test_stages needs root for BPF_PROG_TEST_RUN");
		return tap_done();
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!CHECK(!load_all(), "load classifier, dec, enc, fwd, kwire") ||
	    !CHECK(!setup_tables(), "fill cls_rules and fwd_table"))
		goto out;

	test_cls_fixtures();
	test_dec_fixtures();
	test_enc_fixtures();
	test_state();
	test_fused();
	test_hop_cache();
	test_fwd_fixtures();
	test_kwire_fixtures();

	/* CADEIA_PCAP=path keeps the capture for a look with tshark. */
	if (getenv("CADEIA_PCAP"))
		snprintf(cap.path, sizeof(cap.path), "%s", getenv("CADEIA_PCAP"));
	else
		snprintf(cap.path, sizeof(cap.path), "/tmp/cadeia-stages-%d.pcap", getpid());
	cap.fp = pcap_open(cap.path);
	test_round_trips();
	test_tshark();
	if (!getenv("CADEIA_PCAP"))
		unlink(cap.path);

	test_fuzz();
out:
	unload_all();
	return tap_done();
}
