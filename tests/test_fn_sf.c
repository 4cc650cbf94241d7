// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The packet helpers of the NAT, the load balancer and the monitor
 * (traffic/fn_sf.h), on hand-built frames: the 5-tuple read from IPv4
 * behind Ethernet (and a VLAN tag), the rewrite of source and destination
 * with checksums an independent one's-complement sum accepts (IPv4 header,
 * TCP and UDP with their pseudo-header, ICMP), fragments refused, and the
 * load balancer's hash spreading flows.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "traffic/fn_sf.h"

/* Independent of fn_sf.c: the one's-complement sum of the bytes, folded. */
static uint16_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* A valid checksum makes the sum over the covered bytes 0xffff. */
static int ip_ok(const uint8_t *ip)
{
	return sum16(ip, (size_t)(ip[0] & 0xf) * 4, 0) == 0xffff;
}

static int l4_ok(const uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot = (size_t)ip[2] << 8 | ip[3];
	uint32_t pseudo = 0;

	if (ip[9] == IPPROTO_ICMP)
		return sum16(ip + ihl, tot - ihl, 0) == 0xffff;
	pseudo = sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)(tot - ihl);
	return sum16(ip + ihl, tot - ihl, pseudo) == 0xffff;
}

/* Ethernet (optionally VLAN-tagged) + IPv4 + L4 of proto with len bytes of payload. */
static size_t build(uint8_t *f, int vlan, uint8_t proto, uint16_t sport, uint16_t dport,
		    size_t len)
{
	size_t off = 12, l4len = proto == IPPROTO_TCP ? 20 : 8, tot;
	uint8_t *ip, *l4;

	memset(f, 0, 1600);
	memcpy(f, "\x02\xcb\x00\x00\x00\x02\x02\xcb\x00\x00\x00\x01", 12);
	if (vlan) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[15] = 7;
		off += 4;
	}
	f[off] = 0x08;
	f[off + 1] = 0x00;
	ip = f + off + 2;
	tot = 20 + l4len + len;
	ip[0] = 0x45;
	ip[2] = tot >> 8;
	ip[3] = tot & 0xff;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, "10.201.0.1", ip + 12);
	inet_pton(AF_INET, "10.201.0.2", ip + 16);
	l4 = ip + 20;
	if (proto == IPPROTO_ICMP) {
		l4[0] = 8;
		l4[4] = sport >> 8;
		l4[5] = sport & 0xff;
		l4[7] = 1;
	} else {
		l4[0] = sport >> 8;
		l4[1] = sport & 0xff;
		l4[2] = dport >> 8;
		l4[3] = dport & 0xff;
		if (proto == IPPROTO_TCP)
			l4[12] = 5 << 4;
		else {
			l4[4] = (uint8_t)((8 + len) >> 8);
			l4[5] = (uint8_t)((8 + len) & 0xff);
		}
	}
	for (size_t i = 0; i < len; i++)
		l4[l4len + i] = (uint8_t)(i * 7 + 3);
	return (size_t)(ip - f) + tot;
}

int main(void)
{
	static uint8_t f[1600];
	const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	const char *names[] = { "TCP", "UDP", "ICMP" };
	struct fnx_tuple t;
	uint32_t nat, src;
	long off;
	size_t len;
	unsigned spread[2] = { 0, 0 };

	tap_plan(22);
	inet_pton(AF_INET, "10.201.0.251", &nat);
	inet_pton(AF_INET, "10.201.0.1", &src);

	len = build(f, 1, IPPROTO_TCP, 40000, 5201, 100);
	off = fnx_ipv4_offset(f, len);
	CHECK(off == 18, "IPv4 found behind a VLAN tag at offset 18 (got %ld)", off);
	CHECK(fnx_tuple(f + off, len - (size_t)off, &t) == 0 && t.proto == IPPROTO_TCP &&
	      t.saddr == src && t.sport == 40000 && t.dport == 5201,
	      "5-tuple read: TCP 10.201.0.1:40000 -> :5201");
	f[12] = 0x86;
	f[13] = 0xdd;
	CHECK(fnx_ipv4_offset(f, len) == -1, "an IPv6 EtherType is not IPv4");

	for (size_t k = 0; k < sizeof(protos); k++) {
		uint8_t *ip;

		len = build(f, 0, protos[k], 40001, 7000, 333);
		off = fnx_ipv4_offset(f, len);
		ip = f + off;
		CHECK(off == 14 && fnx_rewrite(ip, len - 14, true, nat, 20005) == 0,
		      "%s: source rewritten to 10.201.0.251:20005", names[k]);
		CHECK(fnx_tuple(ip, len - 14, &t) == 0 && t.saddr == nat && t.sport == 20005,
		      "%s: the tuple reads the new source", names[k]);
		CHECK(ip_ok(ip), "%s: IPv4 header checksum valid", names[k]);
		CHECK(l4_ok(ip), "%s: L4 checksum valid (pseudo-header included)", names[k]);
		CHECK(fnx_rewrite(ip, len - 14, false, src, 40001) == 0 && ip_ok(ip) && l4_ok(ip) &&
		      memcmp(ip + 16, &src, 4) == 0,
		      "%s: destination restored with valid checksums", names[k]);
	}
	len = build(f, 0, IPPROTO_UDP, 1, 2, 10);
	f[14 + 6] = 0x20; /* MF */
	CHECK(fnx_rewrite(f + 14, len - 14, true, nat, 1) == -1, "a fragment is refused");
	len = build(f, 0, IPPROTO_UDP, 1, 2, 10);
	CHECK(fnx_rewrite(f + 14, 30, true, nat, 1) == -1, "a packet longer than the buffer is refused");

	for (unsigned p = 41001; p <= 41064; p++) {
		struct fnx_tuple u = { .proto = IPPROTO_UDP, .saddr = src, .daddr = nat,
				       .sport = (uint16_t)p, .dport = 7001 };

		spread[fnx_hash(&u) % 2]++;
	}
	CHECK(spread[0] >= 16 && spread[1] >= 16, "64 flows hash onto both of 2 backends (%u, %u)",
	      spread[0], spread[1]);
	{
		struct fnx_tuple a = { .proto = 6, .saddr = 1, .daddr = 2, .sport = 3, .dport = 4 };
		struct fnx_tuple b = a;

		CHECK(fnx_hash(&a) == fnx_hash(&b), "the hash of a flow is the same every time");
	}
	return tap_done();
}
