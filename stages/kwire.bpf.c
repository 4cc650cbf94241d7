// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kwire: the in-kernel "wire" function, TC ingress on an SF. A frame not
 * for this host (dec left it PACKET_OTHERHOST) goes straight back out of
 * the same interface, through enc and fwd at egress. Frames for this host,
 * broadcast and multicast go to the stack, so ARP and the host still work.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_packet.h>
#include <bpf/bpf_helpers.h>
#include "cadeia_shared.h"
#include "bpf/stats.bpf.h"

/* Verdict counters, one __u64 per KWIRE_STATS() entry. */
CADEIA_STATS_MAP(kwire_stats, struct kwire_stats);

SEC("tc")
int kwire_ingress(struct __sk_buff *skb)
{
	__u32 verdict = KWIRE_passed;
	int action = TC_ACT_OK;

	if (skb->pkt_type == PACKET_OTHERHOST) {
		verdict = KWIRE_reflected;
		action = bpf_redirect(skb->ifindex, 0);
	}
	STATS_COUNT(kwire_stats, verdict, struct kwire_stats);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
