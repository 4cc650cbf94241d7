// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reference programs for tests/bench/bench_stages: per hook, the empty
 * program (the floor a stage cannot go below) and a minimal forwarder (one
 * hash lookup and a MAC rewrite), measured in the same run as the stages.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/parsing.bpf.h"

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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
