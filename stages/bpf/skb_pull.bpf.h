/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Removing the bytes behind the outer Ethernet header at TC. */
#ifndef CADEIA_SKB_PULL_BPF_H
#define CADEIA_SKB_PULL_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#define SKB_MOVE_CHUNK 256
#define SKB_MOVE_MAX_CHUNKS 256 /* 64 KiB: the largest skb adjust_room takes */
_Static_assert((SKB_MOVE_CHUNK & (SKB_MOVE_CHUNK - 1)) == 0,
	       "skb_move_chunk() masks with SKB_MOVE_CHUNK - 1");

/* Per-CPU bounce buffer for moving a frame forward in chunks. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[SKB_MOVE_CHUNK]);
} skb_scratch SEC(".maps");

struct skb_move {
	struct __sk_buff *skb;
	__u32 src;
	__u32 dst;
	__u32 left;
	int err;
};

static long skb_move_chunk(__u32 idx, void *data)
{
	struct skb_move *m = data;
	__u32 zero = 0;
	void *buf;
	__u64 n;

	buf = bpf_map_lookup_elem(&skb_scratch, &zero);
	if (!buf) {
		m->err = 1;
		return 1;
	}
	n = m->left;
	if (n == 0)
		return 1;
	if (n > SKB_MOVE_CHUNK)
		n = SKB_MOVE_CHUNK;
	/*
	 * n is 1..SKB_MOVE_CHUNK, but the 6.1 verifier learns no lower bound
	 * from n != 0 and rejects a size that may be 0. The mask restates
	 * the bounds in a form every verifier tracks; the barrier keeps clang
	 * from folding it away.
	 */
	asm volatile("" : "+r"(n));
	n = ((n - 1) & (SKB_MOVE_CHUNK - 1)) + 1;
	/* dst < src and each chunk is read whole before it is written. */
	if (bpf_skb_load_bytes(m->skb, m->src, buf, n) ||
	    bpf_skb_store_bytes(m->skb, m->dst, buf, n, 0)) {
		m->err = 1;
		return 1;
	}
	m->src += n;
	m->dst += n;
	m->left -= n;
	return 0;
}

/*
 * Removes n bytes at offset ETH_HLEN of any skb, linear or not: moves the
 * rest of the frame forward in chunks and trims the tail. The slow way, for
 * what fwd's direct move cannot take (frames over 2 KiB, paged skbs).
 */
static __always_inline int skb_pull_room(struct __sk_buff *skb, __u32 n)
{
	struct skb_move m = {};
	__u32 len;

	len = skb->len;
	if (len < ETH_HLEN + n)
		return -1;
	m.skb = skb;
	m.src = ETH_HLEN + n;
	m.dst = ETH_HLEN;
	m.left = len - ETH_HLEN - n;
	if (m.left > SKB_MOVE_CHUNK * SKB_MOVE_MAX_CHUNKS)
		return -1;
	bpf_loop((m.left + SKB_MOVE_CHUNK - 1) / SKB_MOVE_CHUNK, skb_move_chunk,
		 &m, 0);
	if (m.err || m.left)
		return -1;
	return bpf_skb_change_tail(skb, len - n, 0);
}

#endif /* CADEIA_SKB_PULL_BPF_H */
