/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Making room for headers behind the outer Ethernet header at TC. */
#ifndef CADEIA_SKB_BPF_H
#define CADEIA_SKB_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

/*
 * Opens room bytes at offset ETH_HLEN. bpf_skb_adjust_room() refuses
 * (-ENOTSUPP) unless skb->protocol is IPv4/IPv6; then push at the head
 * instead. The two leave different bytes in [0, ETH_HLEN + room), so
 * callers must rewrite that whole range.
 */
static __always_inline int skb_push_room(struct __sk_buff *skb, __u32 room)
{
	if (!bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_MAC, 0))
		return 0;
	return bpf_skb_change_head(skb, room, 0);
}

#endif /* CADEIA_SKB_BPF_H */
