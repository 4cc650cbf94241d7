/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frame builders, an independent NSH validator, a pcap writer and a
 * BPF_PROG_TEST_RUN wrapper for the stage tests and the stage benchmark.
 * Everything here is written from RFC 8300 and the frame formats, not from
 * the BPF sources, so it can disagree with them.
 */
#ifndef CADEIA_STAGE_FIXTURES_H
#define CADEIA_STAGE_FIXTURES_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nsh.h"
#include "cadeia_shared.h"

#define FRAME_MAX 2048

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };    /* source host */
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };    /* dest host */
static const uint8_t MAC_SF[6] = { 0x02, 0, 0, 0, 0x01, 0x01 }; /* this SF */
static const uint8_t MAC_PREV[6] = { 0x02, 0, 0, 0, 0x01, 0x00 };
static const uint8_t MAC_NEXT[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t MAC_OTHER[6] = { 0x02, 0, 0, 0, 0x01, 0x09 };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define IP_A 0x0a000001u /* 10.0.0.1 */
#define IP_B 0x0a000002u /* 10.0.0.2 */

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
};

static inline void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static inline void put8(struct frame *f, uint8_t v) { put(f, &v, 1); }
static inline void put16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}
static inline void put32(struct frame *f, uint32_t v)
{
	v = htonl(v);
	put(f, &v, 4);
}

static inline void put_eth(struct frame *f, const uint8_t *dst,
			   const uint8_t *src, uint16_t type)
{
	put(f, dst, 6);
	put(f, src, 6);
	put16(f, type);
}

static inline uint16_t inet_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 header; returns the offset of its checksum for later fix-up. */
static inline void put_ipv4(struct frame *f, uint8_t proto, size_t l4len,
			    uint32_t src, uint32_t dst)
{
	size_t start = f->len;
	uint16_t c;

	put8(f, 0x45);
	put8(f, 0);
	put16(f, (uint16_t)(20 + l4len));
	put16(f, 0x1c46);
	put16(f, 0x4000); /* DF */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	c = htons(inet_csum(f->b + start, 20, 0));
	memcpy(f->b + start + 10, &c, 2);
}

enum inner_kind {
	IN_ICMP,  /* 98-byte ICMP echo request, id 0x1234 */
	IN_ICMP2, /* same flow tuple, other ICMP id: another flow */
	IN_UDP,   /* UDP 4000 -> 5000 */
	IN_UDP2,  /* UDP 4000 -> 5001 */
	IN_TCP,   /* TCP 40000 -> 80 */
	IN_ARP,
	IN_ICMP6,
	IN__MAX,
};

/* The plain Ethernet frame a host sends: MAC_A -> MAC_B. */
static inline void mk_inner(struct frame *f, int kind)
{
	static const uint8_t ip6_a[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t ip6_b[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
	size_t l4, i;
	uint16_t c;

	f->len = 0;
	switch (kind) {
	case IN_ICMP:
	case IN_ICMP2:
		put_eth(f, MAC_B, MAC_A, 0x0800);
		put_ipv4(f, 1, 64, IP_A, IP_B);
		l4 = f->len;
		put8(f, 8);
		put8(f, 0);
		put16(f, 0);
		put16(f, kind == IN_ICMP ? 0x1234 : 0x4321);
		put16(f, 1);
		for (i = 0; i < 56; i++)
			put8(f, (uint8_t)(0x10 + i));
		c = htons(inet_csum(f->b + l4, 64, 0));
		memcpy(f->b + l4 + 2, &c, 2);
		break;
	case IN_UDP:
	case IN_UDP2:
		put_eth(f, MAC_B, MAC_A, 0x0800);
		put_ipv4(f, 17, 8 + 32, IP_A, IP_B);
		put16(f, 4000);
		put16(f, kind == IN_UDP ? 5000 : 5001);
		put16(f, 8 + 32);
		put16(f, 0); /* no checksum: legal for UDP over IPv4 */
		for (i = 0; i < 32; i++)
			put8(f, (uint8_t)i);
		break;
	case IN_TCP:
		put_eth(f, MAC_B, MAC_A, 0x0800);
		put_ipv4(f, 6, 20, IP_A, IP_B);
		l4 = f->len;
		put16(f, 40000);
		put16(f, 80);
		put32(f, 1);
		put32(f, 0);
		put16(f, 0x5002); /* SYN */
		put16(f, 64240);
		put16(f, 0);
		put16(f, 0);
		{
			/* pseudo header sum */
			uint32_t s = (IP_A >> 16) + (IP_A & 0xffff) + (IP_B >> 16) +
				     (IP_B & 0xffff) + 6 + 20;
			c = htons(inet_csum(f->b + l4, 20, s));
			memcpy(f->b + l4 + 16, &c, 2);
		}
		break;
	case IN_ARP:
		put_eth(f, MAC_BCAST, MAC_A, 0x0806);
		put16(f, 1);
		put16(f, 0x0800);
		put8(f, 6);
		put8(f, 4);
		put16(f, 1);
		put(f, MAC_A, 6);
		put32(f, IP_A);
		put(f, (uint8_t[6]){ 0 }, 6);
		put32(f, IP_B);
		break;
	case IN_ICMP6:
		put_eth(f, MAC_B, MAC_A, 0x86dd);
		put32(f, 0x60000000);
		put16(f, 16);
		put8(f, 58);
		put8(f, 64);
		put(f, ip6_a, 16);
		put(f, ip6_b, 16);
		l4 = f->len;
		put8(f, 128);
		put8(f, 0);
		put16(f, 0);
		put16(f, 0x77);
		put16(f, 1);
		put32(f, 0xdeadbeef);
		put32(f, 0xcafef00d);
		{
			uint32_t s = 16 + 58;

			for (i = 0; i < 16; i += 2)
				s += (uint32_t)(ip6_a[i] << 8 | ip6_a[i + 1]) +
				     (uint32_t)(ip6_b[i] << 8 | ip6_b[i + 1]);
			c = htons(inet_csum(f->b + l4, 16, s));
			memcpy(f->b + l4 + 2, &c, 2);
		}
		break;
	}
}

/* An NSH frame around an inner frame built by mk_inner(). */
struct nsh_spec {
	const uint8_t *dst; /* outer Ethernet destination */
	const uint8_t *src;
	uint8_t ver;
	uint8_t ttl;
	uint8_t md;      /* MD type */
	int len_words;   /* 0: what md (and the TLVs) imply */
	uint8_t np;      /* next protocol; NSH_NP_ETH carries the inner frame */
	uint32_t spi;
	uint8_t si;
	const uint8_t *tlv; /* MD2 context, verbatim */
	size_t tlv_len;
	int inner;       /* enum inner_kind */
};

/* MD1 context used when the spec has none. */
static const uint8_t MD1_CTX[16] = { 0, 0, 0, 1, 0, 0, 0, 2, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4 };
/* Two MD2 TLVs: 4 bytes of data, then 5 bytes padded to 8. */
static const uint8_t MD2_TLVS[] = {
	0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef,
	0xff, 0xfe, 0x10, 0x05, 'c', 'a', 'd', 'e', 'i', 0, 0, 0,
};

static inline size_t nsh_spec_len(const struct nsh_spec *s)
{
	if (s->md == NSH_MDTYPE_1)
		return NSH_MD1_LEN;
	return NSH_BASE_LEN + (s->md == NSH_MDTYPE_2 ? s->tlv_len : 0);
}

static inline void mk_nsh(struct frame *f, const struct nsh_spec *s)
{
	struct frame inner;
	size_t hl = nsh_spec_len(s);
	int lw = s->len_words ? s->len_words : (int)(hl / 4);

	mk_inner(&inner, s->inner);
	f->len = 0;
	put_eth(f, s->dst, s->src, ETH_P_NSH_);
	put16(f, (uint16_t)((s->ver & 3) << 14 | (s->ttl & 0x3f) << 6 | (lw & 0x3f)));
	put8(f, s->md);
	put8(f, s->np);
	put32(f, (s->spi & NSH_SPI_MAX) << 8 | s->si);
	if (s->md == NSH_MDTYPE_1)
		put(f, MD1_CTX, sizeof(MD1_CTX));
	else if (s->md == NSH_MDTYPE_2 && s->tlv_len)
		put(f, s->tlv, s->tlv_len);
	if (s->np == NSH_NP_ETH)
		put(f, inner.b, inner.len);
	else
		put(f, inner.b + 14, inner.len - 14);
}

/* ---- independent NSH validator -------------------------------------------- */

struct nsh_view {
	size_t len; /* header bytes */
	uint8_t ttl, md, np, si;
	uint32_t spi;
};

/*
 * Checks that frame f (Ethernet) carries a well-formed NSH that a next SFF
 * would accept: version 0, MD type 1 with Length 6 or MD type 2 with TLVs
 * that fill Length exactly, the header inside the frame, TTL > 0, a known
 * next protocol. Returns 0 or a short reason.
 */
static inline const char *nsh_validate(const uint8_t *f, size_t n,
				       struct nsh_view *v)
{
	size_t off;
	uint16_t w0;

	if (n < 14 + 8)
		return "short";
	if ((f[12] << 8 | f[13]) != ETH_P_NSH_)
		return "not NSH";
	w0 = (uint16_t)(f[14] << 8 | f[15]);
	if (w0 >> 14)
		return "version";
	v->ttl = (w0 >> 6) & 0x3f;
	v->len = (size_t)(w0 & 0x3f) * 4;
	v->md = f[16] & 0xf;
	v->np = f[17];
	v->spi = (uint32_t)(f[18] << 16 | f[19] << 8 | f[20]);
	v->si = f[21];
	if (v->md == 1 && v->len != 24)
		return "MD1 length";
	if (v->md == 2 && v->len < 8)
		return "MD2 length";
	if (v->md != 1 && v->md != 2)
		return "MD type";
	if (14 + v->len > n)
		return "truncated";
	if (v->md == 2) {
		for (off = 8; off < v->len;)
			off += 4 + ((f[14 + off + 3] & 0x7fu) + 3) / 4 * 4;
		if (off != v->len)
			return "TLVs do not fill Length";
	}
	if (v->ttl == 0)
		return "TTL 0";
	if (v->np != NSH_NP_ETH && v->np != NSH_NP_IPV4 && v->np != NSH_NP_IPV6)
		return "next protocol";
	return NULL;
}

/* ---- pcap ------------------------------------------------------------------ */

static inline FILE *pcap_open(const char *path)
{
	uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 /* Ethernet */ };
	FILE *fp = fopen(path, "wb");

	if (fp && fwrite(hdr, sizeof(hdr), 1, fp) != 1) {
		fclose(fp);
		return NULL;
	}
	return fp;
}

static inline int pcap_write(FILE *fp, const uint8_t *f, size_t n, uint32_t sec)
{
	uint32_t rec[4] = { sec, 0, (uint32_t)n, (uint32_t)n };

	if (fwrite(rec, sizeof(rec), 1, fp) != 1 || fwrite(f, n, 1, fp) != 1)
		return -EIO;
	return 0;
}

/* ---- running a stage -------------------------------------------------------- */

struct stage {
	const char *name;
	int prog_fd;
	int stats_fd;
	unsigned nfields;
	const char *const *names; /* verdict names, X-macro order */
	uint64_t last[32];         /* counters after the previous run */
};

static inline int stage_stats(struct stage *s, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu * s->nfields];
	uint32_t zero = 0;
	int i;
	unsigned f;

	if (ncpu < 0 || bpf_map_lookup_elem(s->stats_fd, &zero, vals))
		return -errno;
	for (f = 0; f < s->nfields; f++) {
		sum[f] = 0;
		for (i = 0; i < ncpu; i++)
			sum[f] += vals[i * s->nfields + f];
	}
	return 0;
}

static inline int stage_init(struct stage *s, const char *name, int prog_fd,
			     int stats_fd, unsigned nfields,
			     const char *const *names)
{
	s->name = name;
	s->prog_fd = prog_fd;
	s->stats_fd = stats_fd;
	s->nfields = nfields;
	s->names = names;
	return stage_stats(s, s->last);
}

/*
 * One BPF_PROG_TEST_RUN. *verdict is the single counter that moved, -1 if
 * none or several did.
 */
static inline int stage_run(struct stage *s, const uint8_t *in, size_t inlen,
			    uint8_t *out, size_t *outlen, int *retval,
			    int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
		    .data_size_in = (uint32_t)inlen, .data_out = out,
		    .data_size_out = FRAME_MAX, .repeat = 1);
	uint64_t now[32];
	unsigned f;
	int err;

	*outlen = 0;
	*retval = 0;
	*verdict = -1;
	err = bpf_prog_test_run_opts(s->prog_fd, &opts);
	if (err)
		return -errno;
	*outlen = opts.data_size_out;
	*retval = (int)opts.retval;
	err = stage_stats(s, now);
	if (err)
		return err;
	*verdict = -1;
	for (f = 0; f < s->nfields; f++) {
		if (now[f] == s->last[f])
			continue;
		*verdict = (*verdict == -1 && now[f] == s->last[f] + 1) ? (int)f : -2;
		s->last[f] = now[f];
	}
	if (*verdict < 0)
		*verdict = -1;
	return 0;
}

static inline const char *stage_verdict_name(const struct stage *s, int v)
{
	return v >= 0 && (unsigned)v < s->nfields ? s->names[v] : "(none)";
}

/* Maps are private to the test process: nothing goes to /sys/fs/bpf. */
static inline void obj_unpin(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
}

#endif /* CADEIA_STAGE_FIXTURES_H */
