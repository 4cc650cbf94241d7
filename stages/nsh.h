/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * NSH wire format (RFC 8300), shared by the BPF stages and user space.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Ver|O|U|    TTL    |   Length  |U|U|U|U|MD Type| Next Protocol |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Service Path Identifier (SPI)        | Service Index |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Context headers (MD type 1: 4 words; 2: TLVs)      |
 *
 * Only fixed-width types from <linux/types.h>, so the same header compiles
 * for -target bpf and for the host.
 */
#ifndef CADEIA_NSH_H
#define CADEIA_NSH_H

#include <linux/types.h>

#define ETH_P_NSH_ 0x894F /* ETH_P_NSH is missing from older UAPI headers */

#define NSH_VERSION 0
#define NSH_TTL_DEFAULT 63
#define NSH_TTL_MAX 63
#define NSH_SPI_MAX 0xFFFFFFu /* 24 bits */
#define NSH_SI_MAX 255

#define NSH_MDTYPE_1 0x1
#define NSH_MDTYPE_2 0x2

#define NSH_NP_IPV4 0x1
#define NSH_NP_IPV6 0x2
#define NSH_NP_ETH 0x3

/* Lengths in bytes; the header's own Length field counts 4-byte words. */
#define NSH_BASE_LEN 8 /* base header + service path header */
#define NSH_MD1_CTX_LEN 16
#define NSH_MD1_LEN (NSH_BASE_LEN + NSH_MD1_CTX_LEN) /* 24: Length = 6 */
#define NSH_MD2_MIN_LEN NSH_BASE_LEN                 /* 8: Length = 2 */
#define NSH_LEN_WORDS_MAX 63
#define NSH_MAX_LEN (NSH_LEN_WORDS_MAX * 4) /* 252 */

#define NSH_MD2_TLV_HDR_LEN 4

struct nsh_hdr {
	__be16 ver_flags_ttl_len; /* Ver(2) O(1) U(1) TTL(6) Length(6) */
	__u8 mdtype;              /* U(4) MD Type(4) */
	__u8 np;                  /* Next Protocol */
	__be32 path;              /* SPI(24) SI(8) */
} __attribute__((packed));

struct nsh_md2_tlv {
	__be16 md_class;
	__u8 type;
	__u8 len; /* U(1) Length(7), in bytes, excluding this 4-byte header */
} __attribute__((packed));

/*
 * Accessors work on host-order values so that BPF and user space share them;
 * callers convert with bpf_ntohs()/ntohs() and bpf_ntohl()/ntohl().
 */
static inline __u8 nsh_w0_ver(__u16 w0) { return (w0 >> 14) & 0x3; }
static inline __u8 nsh_w0_oam(__u16 w0) { return (w0 >> 13) & 0x1; }
static inline __u8 nsh_w0_ttl(__u16 w0) { return (w0 >> 6) & 0x3F; }
static inline __u8 nsh_w0_len(__u16 w0) { return w0 & 0x3F; }

static inline __u16 nsh_w0_make(__u8 oam, __u8 ttl, __u8 len_words)
{
	return (__u16)((NSH_VERSION & 0x3) << 14 | (oam & 0x1) << 13 |
		       (ttl & 0x3F) << 6 | (len_words & 0x3F));
}

static inline __u16 nsh_w0_set_ttl(__u16 w0, __u8 ttl)
{
	return (__u16)((w0 & ~(0x3F << 6)) | (ttl & 0x3F) << 6);
}

static inline __u32 nsh_path_spi(__u32 path) { return path >> 8; }
static inline __u8 nsh_path_si(__u32 path) { return path & 0xFF; }
static inline __u32 nsh_path_make(__u32 spi, __u8 si)
{
	return (spi & NSH_SPI_MAX) << 8 | si;
}

#endif /* CADEIA_NSH_H */
