// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kwire: an in-kernel "wire", TC ingress. It sends a frame straight back out
 * of this interface (or out of redirect_ifindex: a cross-connect), through
 * whatever stages run at that egress. Which frames, kwire_mode decides:
 *
 *  OTHERHOST: frames not for this host, i.e. what dec left after stripping
 *    the NSH (a wire SF), or what a proxy passes between the bridge and its
 *    SF. Frames for this host, broadcast and multicast go to the stack, so
 *    ARP and the host still work.
 *  NSH_HOST: NSH frames addressed to this host (an SFF node: fwd at egress
 *    does the forwarding). Everything else goes to the stack.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"
#include "bpf/stats.bpf.h"

/* KWIRE_MODE_*; the loader sets both before load. */
const volatile __u32 kwire_mode = KWIRE_MODE_OTHERHOST;
/* 0 = back out of the interface the frame came in on. */
const volatile __u32 redirect_ifindex = 0;

/* Verdict counters, one __u64 per KWIRE_STATS() entry. */
CADEIA_STATS_MAP(kwire_stats, struct kwire_stats);

SEC("tc")
int kwire_ingress(struct __sk_buff *skb)
{
	__u32 verdict = KWIRE_passed;
	int action = TC_ACT_OK;
	int take;

	/* skb->protocol is the EtherType eth_type_trans() read. */
	if (kwire_mode == KWIRE_MODE_NSH_HOST)
		take = skb->pkt_type == PACKET_HOST &&
		       skb->protocol == bpf_htons(ETH_P_NSH_);
	else
		take = skb->pkt_type == PACKET_OTHERHOST;

	if (take && redirect_ifindex) {
		verdict = KWIRE_redirected;
		action = bpf_redirect(redirect_ifindex, 0);
	} else if (take) {
		verdict = KWIRE_reflected;
		action = bpf_redirect(skb->ifindex, 0);
	}
	STATS_COUNT(kwire_stats, verdict, struct kwire_stats);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
