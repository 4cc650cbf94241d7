// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reference programs for tests/bench/bench_stages: per hook, the empty
 * program (the floor a stage cannot go below) and a minimal forwarder (one
 * hash lookup and a MAC rewrite), measured in the same run as the stages.
 * And a harness that gives fwd the skb real traffic gives it: a plain IPv4
 * skb (skb->protocol IPv4) onto which an NSH was just pushed with
 * bpf_skb_change_head(), as enc does, then fwd by tail call; the bench
 * subtracts the same push without fwd.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/parsing.bpf.h"
#include "nsh.h"

/* The NSH path word (network order) the harness pushes; the bench sets it. */
const volatile __be32 ref_path = 0;

/* Slot 0: fwd_egress, filled by the bench. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ref_next SEC(".maps");

struct ref_hop {
	__u8 dst[ETH_ALEN];
	__u8 src[ETH_ALEN];
};

/* IPv4 destination -> next-hop MACs, filled by the bench. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __be32);
	__type(value, struct ref_hop);
} ref_fwd SEC(".maps");

static __always_inline int ref_forward(void *data, void *data_end)
{
	struct hdr_cursor nh = { .pos = data };
	struct ref_hop *hop;
	struct ethhdr *eth;
	struct iphdr *iph;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP) ||
	    parse_iphdr(&nh, data_end, &iph) < 0)
		return 0;
	hop = bpf_map_lookup_elem(&ref_fwd, &iph->daddr);
	if (!hop)
		return 0;
	__builtin_memcpy(eth->h_dest, hop->dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, hop->src, ETH_ALEN);
	return 1;
}

SEC("xdp")
int ref_xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int ref_xdp_fwd(struct xdp_md *ctx)
{
	return ref_forward((void *)(long)ctx->data,
			   (void *)(long)ctx->data_end) ? XDP_TX : XDP_PASS;
}

SEC("tc")
int ref_tc_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int ref_tc_fwd(struct __sk_buff *skb)
{
	return ref_forward((void *)(long)skb->data,
			   (void *)(long)skb->data_end) ? TC_ACT_OK : TC_ACT_UNSPEC;
}

/* Outer Ethernet + NSH (TTL 62, inner Ethernet) pushed as enc pushes it. */
static __always_inline int ref_push(struct __sk_buff *skb, __u32 nshlen)
{
	struct nsh_hdr *nsh;
	struct ethhdr *eth;
	void *data, *data_end;

	if (bpf_skb_change_head(skb, nshlen + ETH_HLEN, 0))
		return TC_ACT_SHOT;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	nsh = data + ETH_HLEN;
	if (data + ETH_HLEN + NSH_MD1_LEN > data_end)
		return TC_ACT_SHOT;
	__builtin_memset(eth, 0x02, 2 * ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_NSH_);
	nsh->ver_flags_ttl_len = bpf_htons(nsh_w0_make(0, 62, nshlen / 4));
	nsh->mdtype = nshlen == NSH_MD1_LEN ? NSH_MDTYPE_1 : NSH_MDTYPE_2;
	nsh->np = NSH_NP_ETH;
	nsh->path = ref_path;
	if (nshlen == NSH_MD1_LEN)
		__builtin_memset(nsh + 1, 0, NSH_MD1_CTX_LEN);
	return TC_ACT_OK;
}

SEC("tc")
int ref_tc_push_md2(struct __sk_buff *skb)
{
	return ref_push(skb, NSH_MD2_MIN_LEN);
}

SEC("tc")
int ref_tc_push_md2_fwd(struct __sk_buff *skb)
{
	if (ref_push(skb, NSH_MD2_MIN_LEN) != TC_ACT_OK)
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &ref_next, 0);
	return TC_ACT_SHOT;
}

SEC("tc")
int ref_tc_push_md1(struct __sk_buff *skb)
{
	return ref_push(skb, NSH_MD1_LEN);
}

SEC("tc")
int ref_tc_push_md1_fwd(struct __sk_buff *skb)
{
	if (ref_push(skb, NSH_MD1_LEN) != TC_ACT_OK)
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &ref_next, 0);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
