// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dec: XDP on an SF's interface. Validates an NSH frame addressed to this
 * node, saves its NSH per inner flow for enc, and strips it so the function
 * sees the plain frame. Non-NSH frames pass untouched.
 *
 * The saved NSH is keyed by the inner 5-tuple and written only when it
 * differs from what is saved (first frame of a flow, new metadata, another
 * previous hop, fwd_table changed since): a steady flow costs one lookup,
 * no write. A save also keeps fwd_table's entry for the (SPI, SI-1) enc
 * will send with, stamped with fwd_gen, so that enc needs no lookup of its
 * own while the table stays as it was. A function that
 * rewrites the 5-tuple (NAT, proxy) makes enc miss; enc then drops the frame
 * (drop_no_state) rather than let it skip the rest of the chain. Such
 * functions must run NSH-aware (handle the NSH themselves, only fwd on
 * their egress).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"
#include "bpf/parsing.bpf.h"
#include "bpf/nsh.bpf.h"
#include "bpf/nsh_state.bpf.h"
#include "bpf/fwd_stage.bpf.h"
#include "bpf/stats.bpf.h"

/* This SF's MAC: the outer destination of the NSH frames it takes. */
const volatile __u8 node_mac[ETH_ALEN] = {};

/* Verdict counters, one __u64 per DEC_STATS() entry. */
CADEIA_STATS_MAP(dec_stats, struct dec_stats);

/*
 * Per-CPU scratch for a save (too big for the stack) and the save counter
 * that, with the CPU number, gives a generation no save repeats.
 */
struct dec_scratch {
	__u64 saves;
	struct nsh_state sv;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dec_scratch);
} dec_scratch SEC(".maps");

/*
 * Are the len bytes at a (the frame, len 4..NSH_MAX_LEN, a multiple of 4)
 * those at b? MD type 1 and the smallest MD type 2 header, nearly every
 * frame, take whole 8-byte words under one bounds check; other lengths go
 * 4 bytes at a time.
 */
static __always_inline int nsh_bytes_equal(const __u8 *a, const __u8 *b,
					   __u32 len, void *data_end)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u32 i;

	if (len == NSH_MD1_LEN) {
		if ((void *)(a + NSH_MD1_LEN) > data_end)
			return 0;
		return x[0] == y[0] && x[1] == y[1] && x[2] == y[2];
	}
	if (len == NSH_MD2_MIN_LEN) {
		if ((void *)(a + NSH_MD2_MIN_LEN) > data_end)
			return 0;
		return x[0] == y[0];
	}
#pragma clang loop unroll(disable)
	for (i = 0; i < NSH_LEN_WORDS_MAX; i++) {
		const __u8 *p = a + i * 4;

		if (i * 4 >= len)
			break;
		if ((void *)(p + 4) > data_end)
			return 0;
		if (*(const __u32 *)p != *(const __u32 *)&b[(i * 4) & 0xff])
			return 0;
	}
	return 1;
}

/*
 * Is the NSH at nsh (nshlen bytes, inside the frame) from prev_hop what v
 * holds already, with a next hop from the current fwd_table (rules_gen)?
 * Reading v while another CPU replaces it can only make the answer "no" or
 * a harmless "yes" (then enc's checks catch the change).
 */
static __always_inline int state_same(const struct nsh_state *v,
				      const struct flow_key *key,
				      const __u8 *prev_hop, __u8 np,
				      const __u8 *nsh, __u32 nshlen,
				      __u32 rules_gen, void *data_end)
{
	if (v->len != nshlen || v->inner != np || v->hop.rules_gen != rules_gen ||
	    !flow_key_equal(&v->key, key) ||
	    *(const __u32 *)v->prev_hop != *(const __u32 *)prev_hop ||
	    *(const __u16 *)&v->prev_hop[4] != *(const __u16 *)&prev_hop[4])
		return 0;
	return nsh_bytes_equal(nsh, v->hdr, nshlen, data_end);
}

/*
 * Caches in hop what fwd_table says for the (SPI, SI-1) enc will send the
 * NSH with (action 0: no entry, or SI-1 is 0 and enc lets fwd drop it),
 * stamped with rules_gen, read before the lookup: an entry that changes
 * after that read comes with a newer fwd_gen, so the cache is stale then.
 */
static __always_inline void hop_fill(struct nsh_hop *hop, __u32 path,
				     __u32 rules_gen)
{
	struct fwd_entry *f = NULL;
	struct fwd_key fk;

	__builtin_memset(hop, 0, sizeof(*hop));
	hop->rules_gen = rules_gen;
	path -= 1;
	fk.spi = nsh_path_spi(path);
	fk.si = nsh_path_si(path);
	if (fk.si)
		f = bpf_map_lookup_elem(&fwd_table, &fk);
	if (f)
		hop->e = *f;
}

/* Copies the NSH out of the frame into sv with direct, bounds-checked reads. */
static __always_inline int state_fill(struct nsh_state *sv, const __u8 *nsh,
				      __u32 nshlen, void *data_end)
{
	__u32 i;

#pragma clang loop unroll(disable)
	for (i = 0; i < NSH_LEN_WORDS_MAX; i++) {
		const __u8 *p = nsh + i * 4;

		if (i * 4 >= nshlen)
			break;
		if ((void *)(p + 4) > data_end)
			return -1;
		*(__u32 *)&sv->hdr[(i * 4) & 0xff] = *(const __u32 *)p;
	}
	return 0;
}

SEC("xdp")
int dec_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct dec_scratch *sc;
	struct nsh_state *v;
	__u32 zero = 0;
	struct flow_key key;
	struct ethhdr *eth, *ieth;
	struct nsh_hdr *nsh;
	__u32 verdict, nshlen = 0, strip, path, rules_gen;
	int action = XDP_DROP, proto;
	__u32 ph4;
	__u16 w0, ph2;
	__u8 np;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_NSH_)) {
		verdict = DEC_passed;
		action = XDP_PASS;
		goto out;
	}
	/* Flooded frames reach every SF on the bridge: take only ours. */
	if (!mac_equal(eth->h_dest, node_mac)) {
		verdict = DEC_drop_not_for_us;
		goto out;
	}
	switch (nsh_check(nh.pos, data_end, &nshlen)) {
	case NSH_OK:
		break;
	case NSH_E_VERSION:
		verdict = DEC_drop_bad_version;
		goto out;
	case NSH_E_MDTYPE:
		verdict = DEC_drop_bad_mdtype;
		goto out;
	case NSH_E_LENGTH:
		verdict = DEC_drop_bad_length;
		goto out;
	default:
		verdict = DEC_drop_truncated;
		goto out;
	}
	nsh = nh.pos;
	if ((void *)(nsh + 1) > data_end) {
		verdict = DEC_drop_truncated;
		goto out;
	}
	w0 = nsh_w0_of(nsh);
	/* The SFF on our egress decrements TTL: 1 would expire there. */
	if (nsh_w0_ttl(w0) <= 1) {
		verdict = DEC_drop_ttl;
		goto out;
	}
	path = bpf_ntohl(nsh_path_of(nsh));
	if (nsh_path_si(path) == 0) {
		verdict = DEC_drop_si_zero;
		goto out;
	}
	np = nsh->np;
	if (!nsh_np_valid(np)) {
		verdict = DEC_drop_bad_next_proto;
		goto out;
	}

	/* The inner flow, read in place before anything moves. */
	nshlen &= 0xff; /* nsh_check: 8..252 */
	nh.pos = (void *)nsh + nshlen;
	strip = nshlen;
	if (np == NSH_NP_ETH) {
		proto = parse_ethhdr(&nh, data_end, &ieth);
		strip += ETH_HLEN;
	} else {
		proto = np == NSH_NP_IPV4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	}
	if (proto < 0 || flow_key_build(&nh, data_end, proto, &key)) {
		verdict = DEC_drop_no_flow;
		goto out;
	}
	/* The inner flow parsed fits behind strip: bpf_xdp_adjust_head()
	 * keeps the Ethernet header it wants (else drop_adjust). */

	rules_gen = fwd_rules_gen();
	v = bpf_map_lookup_elem(&nsh_state, &key);
	if (!v || !state_same(v, &key, eth->h_source, np, (void *)nsh, nshlen, rules_gen,
			      data_end)) {
		sc = bpf_map_lookup_elem(&dec_scratch, &zero);
		if (!sc) {
			verdict = DEC_drop_state;
			goto out;
		}
		if (state_fill(&sc->sv, (void *)nsh, nshlen, data_end)) {
			verdict = DEC_drop_truncated;
			goto out;
		}
		sc->sv.key = key;
		__builtin_memcpy(sc->sv.prev_hop, eth->h_source, ETH_ALEN);
		sc->sv.inner = np;
		sc->sv.len = nshlen;
		sc->sv.pad = 0;
		hop_fill(&sc->sv.hop, path, rules_gen);
		sc->saves++;
		sc->sv.gen = sc->saves << 12 | (bpf_get_smp_processor_id() & 0xfff);
		sc->sv.gen_tail = sc->sv.gen;
		if (bpf_map_update_elem(&nsh_state, &key, &sc->sv, BPF_ANY)) {
			verdict = DEC_drop_state;
			goto out;
		}
	}

	/* The previous hop, for the header rebuilt below. */
	ph4 = *(const __u32 *)eth->h_source;
	ph2 = *(const __u16 *)&eth->h_source[4];
	if (bpf_xdp_adjust_head(ctx, strip)) {
		verdict = DEC_drop_adjust;
		goto out;
	}
	if (np != NSH_NP_ETH) {
		data_end = (void *)(long)ctx->data_end;
		eth = (void *)(long)ctx->data;
		if ((void *)(eth + 1) > data_end) {
			verdict = DEC_drop_adjust;
			goto out;
		}
		/*
		 * Rebuild an Ethernet header not addressed to us, so the
		 * function gets PACKET_OTHERHOST exactly as with inner
		 * Ethernet. Its source is not ours either: enc takes a frame
		 * with this node's source MAC for the node's own traffic.
		 */
		*(__u32 *)eth->h_dest = ph4;
		*(__u16 *)&eth->h_dest[4] = ph2;
		*(__u32 *)eth->h_source = ph4;
		*(__u16 *)&eth->h_source[4] = ph2;
		*(__be16 *)((void *)eth + 12) = proto;
	}
	verdict = DEC_decap;
	action = XDP_PASS;
out:
	STATS_COUNT(dec_stats, verdict, struct dec_stats);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
