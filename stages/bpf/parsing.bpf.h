/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bounds-checked header parsing for direct packet access (XDP and TC).
 * Each parse_* advances the cursor past one header and returns the next
 * protocol, or -1 when the header does not fit in the frame.
 */
#ifndef CADEIA_PARSING_BPF_H
#define CADEIA_PARSING_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cadeia_shared.h"

/* From linux/icmp.h and icmpv6.h, which pull in libc headers. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

#ifndef IP_MF
#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
#endif

struct hdr_cursor {
	void *pos;
};

/* Returns the EtherType in network order. No VLAN: the testbed has none. */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;

	if ((void *)(eth + 1) > data_end)
		return -1;
	nh->pos = eth + 1;
	*ethhdr = eth;
	/* One 2-byte load: ethhdr is packed, its field would go byte-wise. */
	return *(const __be16 *)((void *)eth + 12);
}

static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;
	int hdrsize;

	if ((void *)(iph + 1) > data_end)
		return -1;
	hdrsize = iph->ihl * 4;
	if (hdrsize < (int)sizeof(*iph) || nh->pos + hdrsize > data_end)
		return -1;
	nh->pos += hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* Extension headers are not walked: nexthdr is the key's protocol. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end,
					struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/*
 * Fills sport/dport for the L4 header at nh->pos. ICMP echo uses its
 * identifier as sport so concurrent pings keep separate flows.
 */
static __always_inline int parse_l4_ports(struct hdr_cursor *nh,
					  void *data_end, __u8 proto,
					  struct flow_key *key)
{
	__u8 *l4 = nh->pos;

	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if ((void *)(l4 + 4) > data_end)
			return -1;
		key->sport = *(__be16 *)l4;
		key->dport = *(__be16 *)(l4 + 2);
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((void *)(l4 + 8) > data_end)
			return -1;
		if ((proto == IPPROTO_ICMP &&
		     (l4[0] == ICMP_ECHO || l4[0] == ICMP_ECHOREPLY)) ||
		    (proto == IPPROTO_ICMPV6 &&
		     (l4[0] == ICMPV6_ECHO_REQUEST || l4[0] == ICMPV6_ECHO_REPLY)))
			key->sport = *(__be16 *)(l4 + 4);
		return 0;
	default:
		return 0;
	}
}

/*
 * Builds the per-flow key of the frame whose Ethernet header was parsed
 * with EtherType eth_proto (network order) and whose L3 header is at
 * nh->pos. Non-IP frames get the all-zero key. Returns 0, or -1 when an IP
 * frame is too short to tell its flow.
 */
static __always_inline int flow_key_build(struct hdr_cursor *nh,
					  void *data_end, int eth_proto,
					  struct flow_key *key)
{
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	int proto;

	__builtin_memset(key, 0, sizeof(*key));
	if (eth_proto == bpf_htons(ETH_P_IP)) {
		proto = parse_iphdr(nh, data_end, &iph);
		if (proto < 0)
			return -1;
		key->family = 4;
		key->proto = proto;
		key->saddr[0] = iph->saddr;
		key->daddr[0] = iph->daddr;
		/* Only the first fragment carries ports. */
		if (iph->frag_off & bpf_htons(IP_OFFSET))
			return 0;
		return parse_l4_ports(nh, data_end, proto, key);
	}
	if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		proto = parse_ip6hdr(nh, data_end, &ip6h);
		if (proto < 0)
			return -1;
		key->family = 6;
		key->proto = proto;
		__builtin_memcpy(key->saddr, &ip6h->saddr, 16);
		__builtin_memcpy(key->daddr, &ip6h->daddr, 16);
		return parse_l4_ports(nh, data_end, proto, key);
	}
	return 0;
}

/*
 * a is in the frame, b a MAC in (read-only) map memory: compared as a 4-
 * and a 2-byte word, which packet and map accesses may do unaligned (not
 * the stack).
 */
static __always_inline int mac_equal(const __u8 *a, const volatile __u8 *b)
{
	return *(const __u32 *)a == *(const volatile __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const volatile __u16 *)(b + 4);
}

/* Byte by byte: dst may be on the stack, where words must be aligned. */
static __always_inline void mac_copy(__u8 *dst, const volatile __u8 *src)
{
	dst[0] = src[0];
	dst[1] = src[1];
	dst[2] = src[2];
	dst[3] = src[3];
	dst[4] = src[4];
	dst[5] = src[5];
}

/* dst in the frame: a 4- and a 2-byte word. */
static __always_inline void mac_copy_pkt(__u8 *dst, const volatile __u8 *src)
{
	*(__u32 *)dst = *(const volatile __u32 *)src;
	*(__u16 *)(dst + 4) = *(const volatile __u16 *)(src + 4);
}

#endif /* CADEIA_PARSING_BPF_H */
