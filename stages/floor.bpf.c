// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor: the least an in-kernel hop can do on the testbed's topology, the
 * reference the other function kinds are measured against (make bench). No
 * NSH, no stages: one hash lookup on the IPv4 destination gives the next
 * hop's MAC (and ours), the Ethernet header is rewritten, and the frame goes
 * on. What a chain of floors costs per SF is the veth and bridge path plus
 * one TC program: whatever a function kind costs above it is its own.
 *
 *  FLOOR_ROLE_SF (TC ingress of an SF): frames addressed to this host with
 *    an entry are rewritten and sent back out of the same interface.
 *  FLOOR_ROLE_SRC (TC egress of the chain's source): frames with an entry
 *    are rewritten towards the first SF and continue out; without one (chain
 *    length 0) they go to the destination as the stack addressed them.
 *
 * The orchestrator writes floor_next per chain length (testbed/backend/floor.c)
 * and reads floor_counts back to prove the path.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define FLOOR_ROLE_SF 0
#define FLOOR_ROLE_SRC 1

/* floor_counts slots */
#define FLOOR_FORWARDED 0 /* SF: rewritten and sent back out */
#define FLOOR_STEERED 1   /* source: rewritten towards the first SF */
#define FLOOR_PASSED 2    /* no entry, or not for us: left to the stack */
#define FLOOR__COUNTS 3

struct floor_hop {
	__u8 dmac[6];
	__u8 smac[6];
};

const volatile __u32 floor_role = FLOOR_ROLE_SF;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32); /* IPv4 destination, network order */
	__type(value, struct floor_hop);
} floor_next SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOOR__COUNTS);
	__type(key, __u32);
	__type(value, __u64);
} floor_counts SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&floor_counts, &slot);

	if (c)
		(*c)++;
}

SEC("tc")
int floor_hop(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct floor_hop *h;
	__u32 daddr;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    (floor_role == FLOOR_ROLE_SF && skb->pkt_type != PACKET_HOST)) {
		count(FLOOR_PASSED);
		return TC_ACT_OK;
	}
	daddr = ip->daddr;
	h = bpf_map_lookup_elem(&floor_next, &daddr);
	if (!h) {
		count(FLOOR_PASSED);
		return TC_ACT_OK;
	}
	__builtin_memcpy(eth->h_dest, h->dmac, 6);
	__builtin_memcpy(eth->h_source, h->smac, 6);
	if (floor_role == FLOOR_ROLE_SRC) {
		count(FLOOR_STEERED);
		return TC_ACT_OK;
	}
	count(FLOOR_FORWARDED);
	return bpf_redirect(skb->ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
