// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dec: XDP on an SF's interface. Validates an NSH frame addressed to this
 * node, saves its NSH per inner flow for enc, and strips it so the function
 * sees the plain frame. Non-NSH frames pass untouched.
 *
 * The saved NSH is keyed by the inner 5-tuple. A function that rewrites the
 * 5-tuple (NAT, proxy) makes enc miss: the frame then leaves without NSH and
 * enc counts it as `passed`. Such functions must run NSH-aware (handle the
 * NSH themselves, with only fwd on their egress).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"
#include "bpf/parsing.bpf.h"
#include "bpf/nsh.bpf.h"
#include "bpf/nsh_state.bpf.h"
#include "bpf/stats.bpf.h"

/* This SF's MAC: the outer destination of the NSH frames it takes. */
const volatile __u8 node_mac[ETH_ALEN] = {};

/* Verdict counters, one __u64 per DEC_STATS() entry. */
CADEIA_STATS_MAP(dec_stats, struct dec_stats);

SEC("xdp")
int dec_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct {
		struct nsh_state st;
		__u8 slack[4];
	} sv;
	struct flow_key key;
	struct ethhdr *eth;
	struct nsh_hdr *nsh;
	__u32 verdict, nshlen = 0, strip, copy;
	int action = XDP_DROP, proto;
	__u16 w0;

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
	w0 = bpf_ntohs(nsh->ver_flags_ttl_len);
	/* The SFF on our egress decrements TTL: 1 would expire there. */
	if (nsh_w0_ttl(w0) <= 1) {
		verdict = DEC_drop_ttl;
		goto out;
	}
	if (nsh_path_si(bpf_ntohl(nsh->path)) == 0) {
		verdict = DEC_drop_si_zero;
		goto out;
	}
	if (!nsh_np_valid(nsh->np)) {
		verdict = DEC_drop_bad_next_proto;
		goto out;
	}
	sv.st.inner = nsh->np;
	strip = nshlen;
	if (sv.st.inner == NSH_NP_ETH) {
		strip += ETH_HLEN;
		/* bpf_xdp_adjust_head() keeps at least an Ethernet header. */
		if (data + ETH_HLEN + strip > data_end) {
			verdict = DEC_drop_no_flow;
			goto out;
		}
	}
	__builtin_memcpy(sv.st.prev_hop, eth->h_source, ETH_ALEN);
	sv.st.len = nshlen;
	/*
	 * Equal to nshlen (a multiple of 4, 8..252), but in a form whose
	 * bounds the verifier sees as 4..256 whatever register clang uses;
	 * hence the slack behind st.
	 */
	copy = ((nshlen - 4) & 0xfc) + 4;
	if (bpf_xdp_load_bytes(ctx, ETH_HLEN, sv.st.hdr, copy)) {
		verdict = DEC_drop_state;
		goto out;
	}

	if (bpf_xdp_adjust_head(ctx, strip)) {
		verdict = DEC_drop_adjust;
		goto out;
	}
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	nh.pos = data;
	eth = data;
	if ((void *)(eth + 1) > data_end) {
		verdict = DEC_drop_adjust;
		goto out;
	}
	if (sv.st.inner != NSH_NP_ETH) {
		/*
		 * Rebuild an Ethernet header not addressed to us, so the
		 * function gets PACKET_OTHERHOST exactly as with inner
		 * Ethernet, and a reflected frame goes back to the previous hop.
		 */
		__builtin_memcpy(eth->h_dest, sv.st.prev_hop, ETH_ALEN);
		mac_copy(eth->h_source, node_mac);
		eth->h_proto = sv.st.inner == NSH_NP_IPV4 ? bpf_htons(ETH_P_IP)
						       : bpf_htons(ETH_P_IPV6);
	}
	proto = parse_ethhdr(&nh, data_end, &eth);
	if (proto < 0 || flow_key_build(&nh, data_end, proto, &key)) {
		verdict = DEC_drop_no_flow;
		goto out;
	}
	if (bpf_map_update_elem(&nsh_state, &key, &sv.st, BPF_ANY)) {
		verdict = DEC_drop_state;
		goto out;
	}
	verdict = DEC_decap;
	action = XDP_PASS;
out:
	STATS_COUNT(dec_stats, verdict, struct dec_stats);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
