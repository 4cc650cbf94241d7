// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fwd: the SFF, TC egress after enc. Looks up (SPI, SI) and either sends
 * the NSH frame on to the next hop (TTL-1) or, at the end of the chain,
 * strips the NSH and delivers the inner frame. Non-NSH frames pass. An
 * entry with FWD_F_KEEP_TTL (a proxy or an NSH-aware SF returning the frame
 * to a separate SFF) leaves TTL alone.
 *
 * One exit, one counter: a frame sent through entry.ifindex counts as
 * `redirected` instead of `forwarded`/`end_of_chain`.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"
#include "bpf/parsing.bpf.h"
#include "bpf/nsh.bpf.h"
#include "bpf/skb_pull.bpf.h"
#include "bpf/fwd_stage.bpf.h"
#include "bpf/stats.bpf.h"

/* This node's MAC: the outer source of what it forwards. */
const volatile __u8 node_mac[ETH_ALEN] = {};

#define SKB_PULL_DIRECT_WORDS 256 /* 2 KiB: any frame of a 1600-byte MTU */

/*
 * Moves the bytes behind [at + strip) of a linear frame of len bytes
 * (at + strip + 8 <= len <= 2 KiB) forward to at. at and strip are
 * constants where the callers below inline it, so that one bounds check
 * covers a 32-byte block's loads and stores; the last partial word goes as
 * the frame's last 8 bytes, overlapping what was already moved (the source
 * there is never written: strip >= 8).
 */
static __always_inline int fwd_move(void *data, void *data_end, __u32 len,
				    __u32 at, __u32 strip)
{
	__u8 *dst = data + at;
	__u32 i, off;

#pragma clang loop unroll(disable)
	for (i = 0; i < SKB_PULL_DIRECT_WORDS / 4; i++) {
		if ((void *)(dst + strip + 32) > data_end ||
		    (!__builtin_constant_p(strip) && (void *)(dst + 32) > data_end))
			break;
		((__u64 *)dst)[0] = *(__u64 *)(dst + strip);
		((__u64 *)dst)[1] = *(__u64 *)(dst + strip + 8);
		((__u64 *)dst)[2] = *(__u64 *)(dst + strip + 16);
		((__u64 *)dst)[3] = *(__u64 *)(dst + strip + 24);
		dst += 32;
	}
#pragma clang loop unroll(disable)
	for (i = 0; i < 3; i++) {
		if ((void *)(dst + strip + 8) > data_end ||
		    (!__builtin_constant_p(strip) && (void *)(dst + 8) > data_end))
			break;
		*(__u64 *)dst = *(__u64 *)(dst + strip);
		dst += 8;
	}
	off = (len - strip - 8) & (SKB_PULL_DIRECT_WORDS * 8 - 1);
	dst = data + off;
	if ((void *)(dst + strip + 8) > data_end || (void *)(dst + 8) > data_end)
		return -1;
	*(__u64 *)dst = *(__u64 *)(dst + strip);
	return 0;
}

/*
 * Delivers the inner frame behind an NSH of nshlen bytes at the end of the
 * chain: inner Ethernet as it is, inner IP behind a new Ethernet header to
 * e->mac. Not with bpf_skb_adjust_room(): it cuts behind skb's own idea of
 * the MAC header, which a bpf_skb_change_head() before (enc's push) has made
 * Ethernet + NSH long, and it refuses skbs that are not IPv4/IPv6 (test
 * runs, frames sent as ETH_P_NSH). A linear frame of up to 2 KiB moves
 * forward with direct accesses, the inner Ethernet frame whole to the front
 * (its header replaces the outer one), an inner IP packet to behind the
 * outer header, and loses its tail: one helper call. Anything else goes the
 * chunked way (skb_pull_room).
 */
static __always_inline __u32 fwd_deliver(struct __sk_buff *skb, __u8 np,
					 __u32 nshlen,
					 const struct fwd_entry *e)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	__u32 len = skb->len, at, strip;
	struct ethhdr eth, *out;
	int err;

	/* The inner Ethernet header must be there to replace the outer one. */
	if (np == NSH_NP_ETH && data + ETH_HLEN + nshlen + ETH_HLEN > data_end)
		return FWD_drop_truncated;
	at = np == NSH_NP_ETH ? 0 : ETH_HLEN;
	strip = nshlen + ETH_HLEN - at;
	if (data_end - data != len || len > SKB_PULL_DIRECT_WORDS * 8 ||
	    nshlen < NSH_BASE_LEN || nshlen > NSH_MAX_LEN || len < at + strip + 8)
		goto slow;
	/* The usual cases with constants: inner Ethernet or IP, MD1 or bare MD2. */
	if (at == 0 && nshlen == NSH_MD2_MIN_LEN)
		err = fwd_move(data, data_end, len, 0, ETH_HLEN + NSH_MD2_MIN_LEN);
	else if (at == 0 && nshlen == NSH_MD1_LEN)
		err = fwd_move(data, data_end, len, 0, ETH_HLEN + NSH_MD1_LEN);
	else if (nshlen == NSH_MD2_MIN_LEN)
		err = fwd_move(data, data_end, len, ETH_HLEN, NSH_MD2_MIN_LEN);
	else if (nshlen == NSH_MD1_LEN)
		err = fwd_move(data, data_end, len, ETH_HLEN, NSH_MD1_LEN);
	else
		err = fwd_move(data, data_end, len, at, strip);
	/* Cannot fail with data_end - data == len; half moved if it did. */
	if (err || bpf_skb_change_tail(skb, len - strip, 0))
		return FWD_drop_adjust;
	if (at == 0)
		return FWD_end_of_chain;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	out = data;
	if ((void *)(out + 1) > data_end)
		return FWD_drop_store;
	mac_copy_pkt(out->h_dest, e->mac);
	mac_copy_pkt(out->h_source, node_mac);
	*(__be16 *)((void *)out + 12) = np == NSH_NP_IPV4 ? bpf_htons(ETH_P_IP)
							  : bpf_htons(ETH_P_IPV6);
	return FWD_end_of_chain;

slow:
	if (np == NSH_NP_ETH) {
		if (data + ETH_HLEN + nshlen + ETH_HLEN > data_end)
			return FWD_drop_truncated;
		__builtin_memcpy(&eth, data + ETH_HLEN + nshlen, ETH_HLEN);
		nshlen += ETH_HLEN;
	} else {
		__builtin_memcpy(eth.h_dest, e->mac, ETH_ALEN);
		mac_copy(eth.h_source, node_mac);
		eth.h_proto = np == NSH_NP_IPV4 ? bpf_htons(ETH_P_IP)
						: bpf_htons(ETH_P_IPV6);
	}
	if (skb_pull_room(skb, nshlen))
		return FWD_drop_adjust;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	out = data;
	if ((void *)(out + 1) > data_end)
		return FWD_drop_store;
	__builtin_memcpy(out, &eth, sizeof(eth));
	return FWD_end_of_chain;
}

SEC("tc")
int fwd_egress(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct hdr_cursor nh = { .pos = data };
	struct fwd_entry *e = NULL;
	struct ethhdr *eth;
	struct nsh_hdr *nsh;
	__u32 verdict, nshlen = 0, path, ifindex = 0;
	int action = TC_ACT_SHOT;
	__u16 w0;
	__u8 ttl;

	if (parse_ethhdr(&nh, data_end, &eth) != bpf_htons(ETH_P_NSH_)) {
		verdict = FWD_passed;
		action = TC_ACT_UNSPEC;
		goto out;
	}
	switch (nsh_check(nh.pos, data_end, &nshlen)) {
	case NSH_OK:
		break;
	case NSH_E_VERSION:
		verdict = FWD_drop_bad_version;
		goto out;
	case NSH_E_MDTYPE:
		verdict = FWD_drop_bad_mdtype;
		goto out;
	case NSH_E_LENGTH:
		verdict = FWD_drop_bad_length;
		goto out;
	default:
		verdict = FWD_drop_truncated;
		goto out;
	}
	nsh = nh.pos;
	if ((void *)(nsh + 1) > data_end) {
		verdict = FWD_drop_truncated;
		goto out;
	}
	if (!nsh_np_valid(nsh->np)) {
		verdict = FWD_drop_bad_next_proto;
		goto out;
	}
	w0 = nsh_w0_of(nsh);
	ttl = nsh_w0_ttl(w0);
	path = bpf_ntohl(nsh_path_of(nsh));
	verdict = fwd_decide(nsh_path_spi(path), nsh_path_si(path), &ttl, &e);
	if (verdict != FWD__MAX)
		goto out;
	ifindex = e->ifindex;

	if (e->action == FWD_NEXT_HOP) {
		/* One 2-byte store: nsh_hdr is packed. */
		*(__be16 *)nsh = bpf_htons(nsh_w0_set_ttl(w0, ttl));
		mac_copy_pkt(eth->h_dest, e->mac);
		mac_copy_pkt(eth->h_source, node_mac);
		if (!ifindex) {
			/* The common exits, with constant counter slots. */
			STATS_COUNT(fwd_stats, FWD_forwarded, struct fwd_stats);
			return TC_ACT_OK;
		}
		verdict = FWD_forwarded;
	} else {
		verdict = fwd_deliver(skb, nsh->np, nshlen, e);
		if (verdict != FWD_end_of_chain)
			goto out;
		if (!ifindex) {
			STATS_COUNT(fwd_stats, FWD_end_of_chain, struct fwd_stats);
			return TC_ACT_OK;
		}
	}

	if (ifindex) {
		verdict = FWD_redirected;
		action = bpf_redirect(ifindex, 0);
	} else {
		action = TC_ACT_OK;
	}
out:
	STATS_COUNT(fwd_stats, verdict, struct fwd_stats);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
