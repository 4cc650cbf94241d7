// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Classifier: TC egress on the traffic source. The first valid rule that
 * matches an IPv4 frame decides the service path; the frame leaves with an
 * outer Ethernet header + NSH (TTL 63) addressed to the first SF.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"
#include "bpf/parsing.bpf.h"
#include "bpf/skb.bpf.h"
#include "bpf/stats.bpf.h"

/* Classification rules, scanned in order; the loader fills them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLS_MAX_RULES);
	__type(key, __u32);
	__type(value, struct cls_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cls_rules SEC(".maps");

/* Verdict counters, one __u64 per CLS_STATS() entry. */
CADEIA_STATS_MAP(cls_stats, struct cls_stats);

struct cls_match {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 has_ports;
};

static __always_inline int rule_matches(const struct cls_rule *r,
					const struct cls_match *m)
{
	if (!r->valid)
		return 0;
	if ((m->saddr & r->src_mask) != (r->src & r->src_mask) ||
	    (m->daddr & r->dst_mask) != (r->dst & r->dst_mask))
		return 0;
	if (r->proto && r->proto != m->proto)
		return 0;
	if ((r->sport || r->dport) && !m->has_ports)
		return 0;
	if (r->sport && r->sport != m->sport)
		return 0;
	if (r->dport && r->dport != m->dport)
		return 0;
	return 1;
}

/* Outer Ethernet + NSH written in one store; MD1 context follows. */
struct cls_push {
	struct ethhdr outer;
	struct nsh_hdr nsh;
	__be32 ctx[4];
} __attribute__((packed));

SEC("tc")
int cls_egress(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct hdr_cursor nh = { .pos = data };
	struct cls_match m = {};
	struct cls_rule *r = NULL;
	struct cls_push push;
	struct ethhdr inner;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 verdict = CLS_passed, nshlen, room, i;
	int action = TC_ACT_UNSPEC, proto;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_IP))
		goto out;
	proto = parse_iphdr(&nh, data_end, &iph);
	if (proto < 0)
		goto out;
	m.saddr = iph->saddr;
	m.daddr = iph->daddr;
	m.proto = proto;
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
	    !(iph->frag_off & bpf_htons(IP_OFFSET)) && nh.pos + 4 <= data_end) {
		m.sport = *(__be16 *)nh.pos;
		m.dport = *(__be16 *)(nh.pos + 2);
		m.has_ports = 1;
	}

	for (i = 0; i < CLS_MAX_RULES; i++) {
		__u32 k = i;

		r = bpf_map_lookup_elem(&cls_rules, &k);
		if (!r)
			break;
		if (rule_matches(r, &m))
			break;
		r = NULL;
	}
	if (!r)
		goto out;

	__builtin_memcpy(&inner, eth, sizeof(inner));
	nshlen = r->md_type == NSH_MDTYPE_1 ? NSH_MD1_LEN : NSH_MD2_MIN_LEN;
	/* Inner Ethernet keeps the original header behind the NSH. */
	room = nshlen + (r->inner == NSH_NP_ETH ? ETH_HLEN : 0);

	__builtin_memcpy(push.outer.h_dest, r->next_hop, ETH_ALEN);
	__builtin_memcpy(push.outer.h_source, inner.h_source, ETH_ALEN);
	push.outer.h_proto = bpf_htons(ETH_P_NSH_);
	push.nsh.ver_flags_ttl_len =
		bpf_htons(nsh_w0_make(0, NSH_TTL_DEFAULT, nshlen / 4));
	push.nsh.mdtype = nshlen == NSH_MD1_LEN ? NSH_MDTYPE_1 : NSH_MDTYPE_2;
	push.nsh.np = r->inner == NSH_NP_ETH ? NSH_NP_ETH : NSH_NP_IPV4;
	push.nsh.path = bpf_htonl(nsh_path_make(r->spi, r->si));
	__builtin_memcpy(push.ctx, r->md1_ctx, sizeof(push.ctx));

	if (skb_push_room(skb, room)) {
		verdict = CLS_drop_adjust;
		action = TC_ACT_SHOT;
		goto out;
	}
	if (bpf_skb_store_bytes(skb, 0, &push,
				nshlen == NSH_MD1_LEN ? sizeof(push)
						      : sizeof(push) - sizeof(push.ctx),
				0) ||
	    (room > nshlen &&
	     bpf_skb_store_bytes(skb, ETH_HLEN + nshlen, &inner, sizeof(inner), 0))) {
		verdict = CLS_drop_store;
		action = TC_ACT_SHOT;
		goto out;
	}

	if (r->ifindex) {
		verdict = CLS_redirected;
		action = bpf_redirect(r->ifindex, 0);
	} else {
		verdict = CLS_classified;
		action = TC_ACT_OK;
	}
out:
	STATS_COUNT(cls_stats, verdict, struct cls_stats);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
