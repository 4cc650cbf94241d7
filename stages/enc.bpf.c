// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * enc: TC egress on an SF, before fwd. A frame of a flow whose NSH dec
 * saved gets that NSH again, SI-1, and the fwd stage's decision on it in
 * the same program (bpf/fwd_stage.bpf.h, counted in fwd_stats; the entry
 * dec cached with the save while fwd_gen says it is current, else a
 * fwd_table lookup): on to the
 * next hop (TTL-1), or, at the end of the chain, delivered as the inner
 * frame it already is. A path fwd_table does not know is left, addressed
 * to the previous hop, to the separate fwd program. The state stays, since
 * a function may emit several frames per input.
 *
 * Fail closed. Every frame leaving the SF without NSH is either one the
 * node itself originates or one the function forwards. The node's own
 * frames (ARP, its own IP traffic, management) carry its own MAC as
 * source; forwarded frames never do: with inner Ethernet they keep the
 * original sender's, with inner IP dec gives them the previous hop's. So:
 * saved state -> encapsulate; no state (or a non-IP frame, whose key all
 * non-IP frames share) and our source MAC -> our own, pass untouched; no
 * state and another source MAC -> a forwarded frame whose state is gone
 * (evicted, or a function that changed the 5-tuple): drop_no_state, since
 * leaving plain it would skip the rest of its chain.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"
#include "bpf/parsing.bpf.h"
#include "bpf/nsh_state.bpf.h"
#include "bpf/fwd_stage.bpf.h"
#include "bpf/stats.bpf.h"

/* This SF's MAC: the outer source of what it sends back. */
const volatile __u8 node_mac[ETH_ALEN] = {};

/* Verdict counters, one __u64 per ENC_STATS() entry. */
CADEIA_STATS_MAP(enc_stats, struct enc_stats);

/*
 * Writes the len saved bytes of hdr (len 8..NSH_MAX_LEN, a multiple of 4) at
 * p in the frame, whose first NSH_BASE_LEN bytes are known to fit. MD type 1
 * and the smallest MD type 2 header, nearly every frame, go as whole 8-byte
 * words under one bounds check; other lengths 4 bytes at a time.
 */
static __always_inline int nsh_put(__u8 *p, const __u8 *hdr, __u32 len,
				   void *data_end)
{
	const __u64 *y = (const __u64 *)hdr;
	__u64 *x = (__u64 *)p;
	__u32 i;

	if (len == NSH_MD2_MIN_LEN) {
		x[0] = y[0];
		return 0;
	}
	if (len == NSH_MD1_LEN) {
		if ((void *)(p + NSH_MD1_LEN) > data_end)
			return -1;
		x[0] = y[0];
		x[1] = y[1];
		x[2] = y[2];
		return 0;
	}
#pragma clang loop unroll(disable)
	for (i = 0; i < NSH_LEN_WORDS_MAX; i++) {
		__u8 *q = p + i * 4;

		if (i * 4 >= len)
			break;
		if ((void *)(q + 4) > data_end)
			return -1;
		*(__u32 *)q = *(const __u32 *)&hdr[(i * 4) & 0xff];
	}
	return 0;
}

/*
 * Restores the saved NSH of v with SI-1, then runs the fwd stage on it
 * (fwd_stage.bpf.h) so that the SF's egress is one program: *fv is fwd's
 * verdict and *action the frame's fate. Only when fwd_table has no entry for
 * the new (SPI, SI) is the frame left, addressed to the previous hop, to a
 * separate fwd program (*fv stays FWD__MAX + 1, *action TC_ACT_UNSPEC). At
 * the end of the chain nothing is pushed at all: the frame already is the
 * inner one fwd would deliver.
 *
 * v is read between two reads of its generation; a save, eviction or reuse
 * in between shows as a changed gen or gen_tail (or another key), and the
 * frame is dropped, so no frame ever leaves with parts of two saves.
 * ENC__MAX: v is another flow's now.
 */
static __always_inline __u32 enc_push(struct __sk_buff *skb,
				      const struct nsh_state *v,
				      const struct flow_key *key, __u32 *fv,
				      int *action)
{
	struct fwd_entry *e = NULL, *f = NULL;
	struct fwd_key fk;
	__u32 len, room, path, fwd;
	void *data, *data_end;
	struct ethhdr *eth;
	__u16 w0;
	__u64 gen;
	__u8 inner, ttl;

	gen = v->gen;
	nsh_state_barrier();
	/* Reused for another flow since the lookup: ours is gone. */
	if (!flow_key_equal(&v->key, key))
		return ENC__MAX;
	len = v->len;
	inner = v->inner;
	__builtin_memcpy(&w0, &v->hdr[0], sizeof(w0));
	__builtin_memcpy(&path, &v->hdr[4], sizeof(path));
	if (len < NSH_BASE_LEN || len > NSH_MAX_LEN || (len & 3))
		return ENC_drop_torn;
	path = bpf_ntohl(path);
	if (nsh_path_si(path) == 0)
		return ENC_drop_si_zero;
	path -= 1;
	w0 = bpf_ntohs(w0);
	ttl = nsh_w0_ttl(w0);

	/*
	 * fwd's stage on the NSH as it leaves (dec checked the rest of it),
	 * when fwd_table knows the path; TTL 0, SI 0 and unknown paths are
	 * left to the separate fwd program, which counts them.
	 */
	fk.spi = nsh_path_spi(path);
	fk.si = nsh_path_si(path);
	if (ttl && fk.si) {
		/* dec's cached answer while fwd_table is as it was then. */
		if (v->hop.rules_gen == fwd_rules_gen()) {
			if (v->hop.e.action)
				f = (struct fwd_entry *)&v->hop.e;
		} else {
			f = bpf_map_lookup_elem(&fwd_table, &fk);
		}
	}
	fwd = FWD__MAX + 1;
	if (f) {
		fwd = fwd_hop(f, &ttl, &e);
		if (fwd != FWD__MAX) {
			*fv = fwd;
			*action = TC_ACT_SHOT;
			return ENC_encap;
		}
	}

	if (e && e->action == FWD_END) {
		/* Inner Ethernet: deliver the frame as it is. Inner IP: a new
		 * Ethernet header to the destination's MAC. */
		if (inner != NSH_NP_ETH) {
			data = (void *)(long)skb->data;
			data_end = (void *)(long)skb->data_end;
			eth = data;
			if ((void *)(eth + 1) > data_end)
				return ENC_drop_store;
			mac_copy_pkt(eth->h_dest, e->mac);
			mac_copy_pkt(eth->h_source, node_mac);
		}
		fwd = FWD_end_of_chain;
		goto done;
	}

	/*
	 * Room in front: with inner Ethernet the frame's own header stays
	 * where it is and becomes the inner one; with inner IP the outer
	 * header and the NSH cover it. bpf_skb_change_head() costs far less
	 * than bpf_skb_adjust_room() and works whatever skb->protocol is. One
	 * check of the new bounds covers the fixed part; the NSH words check
	 * their own.
	 */
	room = len + (inner == NSH_NP_ETH ? ETH_HLEN : 0);
	if (bpf_skb_change_head(skb, room, 0))
		return ENC_drop_adjust;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if (data + ETH_HLEN + NSH_BASE_LEN > data_end)
		return ENC_drop_store;
	mac_copy_pkt(eth->h_dest, e ? e->mac : v->prev_hop);
	mac_copy_pkt(eth->h_source, node_mac);
	/* Single stores: ethhdr and nsh_hdr are packed. */
	*(__be16 *)(data + 12) = bpf_htons(ETH_P_NSH_);
	if (nsh_put(data + ETH_HLEN, v->hdr, len, data_end))
		return ENC_drop_store;
	*(__be32 *)(data + ETH_HLEN + 4) = bpf_htonl(path);
	if (e) {
		*(__be16 *)(data + ETH_HLEN) = bpf_htons(nsh_w0_set_ttl(w0, ttl));
		fwd = FWD_forwarded;
	}
done:
	nsh_state_barrier();
	if (v->gen != gen || v->gen_tail != gen)
		return ENC_drop_torn;
	if (e) {
		*fv = e->ifindex ? FWD_redirected : fwd;
		*action = e->ifindex ? bpf_redirect(e->ifindex, 0) : TC_ACT_OK;
	}
	return ENC_encap;
}

SEC("tc")
int enc_egress(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct hdr_cursor nh = { .pos = data };
	struct nsh_state *v = NULL;
	struct ethhdr *eth;
	struct flow_key key;
	__u32 verdict = ENC_passed, fv = FWD__MAX + 1;
	int proto, own, action = TC_ACT_UNSPEC;

	proto = parse_ethhdr(&nh, data_end, &eth);
	/* Runts are not frames dec made; NSH already (an NSH-aware
	 * function) is fwd's business. */
	if (proto < 0 || proto == bpf_htons(ETH_P_NSH_))
		goto out;
	/* Whose frame it is matters only without state, and for non-IP
	 * frames: they share one key, and the node's own ARP must not meet
	 * the state of some decapsulated non-IP frame there. */
	own = -1;
	if (!flow_key_build(&nh, data_end, proto, &key)) {
		if (!key.family)
			own = mac_equal(eth->h_source, node_mac);
		if (own != 1)
			v = bpf_map_lookup_elem(&nsh_state, &key);
	}
	if (v) {
		verdict = enc_push(skb, v, &key, &fv, &action);
		/* The common case, with constant counter slots. */
		if (verdict == ENC_encap && fv == FWD_forwarded) {
			STATS_COUNT(enc_stats, ENC_encap, struct enc_stats);
			STATS_COUNT(fwd_stats, FWD_forwarded, struct fwd_stats);
			return action;
		}
		if (verdict == ENC__MAX) {
			/* Nothing pushed, but the helper calls on the
			 * way lost the verifier's packet bounds. */
			data = (void *)(long)skb->data;
			data_end = (void *)(long)skb->data_end;
			eth = data;
			own = (void *)(eth + 1) <= data_end &&
			      mac_equal(eth->h_source, node_mac);
		}
	} else {
		verdict = ENC__MAX;
		if (own < 0)
			own = mac_equal(eth->h_source, node_mac);
	}
	if (verdict == ENC__MAX)
		verdict = own ? ENC_passed : ENC_drop_no_state;
out:
	STATS_COUNT(enc_stats, verdict, struct enc_stats);
	if (fv < FWD__MAX)
		STATS_COUNT(fwd_stats, fv, struct fwd_stats);
	/* Passed, or left for a separate fwd (prio 3): continue; drops end here. */
	if (verdict == ENC_encap)
		return action;
	return verdict == ENC_passed ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
