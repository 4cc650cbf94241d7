// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * enc: TC egress on an SF, before fwd. A frame of a flow whose NSH dec
 * saved leaves with that NSH again, SI-1, addressed to the previous hop.
 * TTL is left alone: fwd, the SFF, decrements it. The state stays, since a
 * function may emit several frames per input.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"
#include "bpf/parsing.bpf.h"
#include "bpf/nsh_state.bpf.h"
#include "bpf/skb.bpf.h"
#include "bpf/stats.bpf.h"

/* This SF's MAC: the outer source of what it sends back. */
const volatile __u8 node_mac[ETH_ALEN] = {};

/* Verdict counters, one __u64 per ENC_STATS() entry. */
CADEIA_STATS_MAP(enc_stats, struct enc_stats);

SEC("tc")
int enc_egress(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr outer, inner;
	struct nsh_state *st;
	struct flow_key key;
	struct ethhdr *eth;
	__u32 verdict = ENC_passed, len, room, path;
	int proto;

	proto = parse_ethhdr(&nh, data_end, &eth);
	/* NSH already (an NSH-aware function): fwd's business. */
	if (proto < 0 || proto == bpf_htons(ETH_P_NSH_))
		goto out;
	__builtin_memcpy(&inner, eth, sizeof(inner));
	if (flow_key_build(&nh, data_end, proto, &key))
		goto out;
	st = bpf_map_lookup_elem(&nsh_state, &key);
	if (!st)
		goto out;

	len = st->len;
	if (len < NSH_BASE_LEN || len > NSH_MAX_LEN || (len & 3)) {
		verdict = ENC_drop_store;
		goto out;
	}
	__builtin_memcpy(&path, &st->hdr[4], sizeof(path));
	path = bpf_ntohl(path);
	if (nsh_path_si(path) == 0) {
		verdict = ENC_drop_si_zero;
		goto out;
	}
	path = bpf_htonl(path - 1);

	__builtin_memcpy(outer.h_dest, st->prev_hop, ETH_ALEN);
	mac_copy(outer.h_source, node_mac);
	outer.h_proto = bpf_htons(ETH_P_NSH_);
	/*
	 * Inner Ethernet: the frame's header becomes the inner one behind the
	 * NSH. Inner IP: it is replaced by the outer one.
	 */
	room = len + (st->inner == NSH_NP_ETH ? ETH_HLEN : 0);

	if (skb_push_room(skb, room)) {
		verdict = ENC_drop_adjust;
		goto out;
	}
	if (bpf_skb_store_bytes(skb, 0, &outer, sizeof(outer), 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, st->hdr, len, 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + 4, &path, sizeof(path), 0) ||
	    (room > len &&
	     bpf_skb_store_bytes(skb, ETH_HLEN + len, &inner, sizeof(inner), 0))) {
		verdict = ENC_drop_store;
		goto out;
	}
	verdict = ENC_encap;
out:
	STATS_COUNT(enc_stats, verdict, struct enc_stats);
	/* Continue to fwd (prio 3) either way; drops leave here. */
	return verdict == ENC_passed || verdict == ENC_encap ? TC_ACT_UNSPEC
							     : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
