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

SEC("tc")
int cls_egress(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct hdr_cursor nh = { .pos = data };
	struct cls_match m = {};
	struct cls_rule *r = NULL;
	__u8 smac[ETH_ALEN];
	struct nsh_hdr *nsh;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 verdict = CLS_passed, nshlen, room, i;
	__u8 md, np;
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

	__builtin_memcpy(smac, eth->h_source, ETH_ALEN);
	md = r->md_type == NSH_MDTYPE_1 ? NSH_MDTYPE_1 : NSH_MDTYPE_2;
	nshlen = md == NSH_MDTYPE_1 ? NSH_MD1_LEN : NSH_MD2_MIN_LEN;
	np = r->inner == NSH_NP_ETH ? NSH_NP_ETH : NSH_NP_IPV4;
	/* Inner Ethernet keeps the original header behind the NSH. */
	room = nshlen + (np == NSH_NP_ETH ? ETH_HLEN : 0);
	if (bpf_skb_change_head(skb, room, 0)) {
		verdict = CLS_drop_adjust;
		action = TC_ACT_SHOT;
		goto out;
	}

	/*
	 * Room in front (bpf_skb_change_head(): far cheaper than
	 * adjust_room). Inner Ethernet: the original header is already in
	 * place behind the room; inner IP: outer Ethernet + NSH cover it.
	 * Direct writes under one bounds check per layout.
	 */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	nsh = data + ETH_HLEN;
	if ((void *)(nsh + 1) > data_end) {
		verdict = CLS_drop_store;
		action = TC_ACT_SHOT;
		goto out;
	}
	__builtin_memcpy(eth->h_dest, r->next_hop, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_NSH_);
	nsh->ver_flags_ttl_len = bpf_htons(nsh_w0_make(0, NSH_TTL_DEFAULT, nshlen / 4));
	nsh->mdtype = md;
	nsh->np = np;
	nsh->path = bpf_htonl(nsh_path_make(r->spi, r->si));
	if (md == NSH_MDTYPE_1) {
		__be32 *ctx = (void *)(nsh + 1);

		if ((void *)(ctx + 4) > data_end) {
			verdict = CLS_drop_store;
			action = TC_ACT_SHOT;
			goto out;
		}
		__builtin_memcpy(ctx, r->md1_ctx, sizeof(r->md1_ctx));
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
