/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* NSH header validation shared by dec (XDP) and fwd (TC). */
#ifndef CADEIA_NSH_BPF_H
#define CADEIA_NSH_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nsh.h"

/*
 * Word 0 (host order) and the path word (network order) of the NSH at nsh,
 * inside the frame, as single loads: nsh_hdr is packed, its fields would be
 * read byte by byte.
 */
static __always_inline __u16 nsh_w0_of(const void *nsh)
{
	return bpf_ntohs(*(const __be16 *)nsh);
}

static __always_inline __be32 nsh_path_of(const void *nsh)
{
	return *(const __be32 *)(nsh + 4);
}

enum nsh_check_result {
	NSH_OK,
	NSH_E_TRUNC,
	NSH_E_VERSION,
	NSH_E_MDTYPE,
	NSH_E_LENGTH,
};

/* Each TLV takes at least its 4-byte header. */
#define NSH_MAX_TLVS ((NSH_MAX_LEN - NSH_BASE_LEN) / NSH_MD2_TLV_HDR_LEN)

/*
 * Checks the NSH at nsh_start: version, MD type, Length against MD type,
 * the whole header inside the frame, and for MD type 2 that the TLVs
 * exactly fill Length. On NSH_OK, *nsh_len is the header length in bytes.
 */
static __always_inline int nsh_check(void *nsh_start, void *data_end,
				     __u32 *nsh_len)
{
	struct nsh_hdr *nsh = nsh_start;
	__u32 len, off, i;
	__u16 w0;
	__u8 md;

	if ((void *)(nsh + 1) > data_end)
		return NSH_E_TRUNC;
	w0 = nsh_w0_of(nsh);
	if (nsh_w0_ver(w0) != NSH_VERSION)
		return NSH_E_VERSION;
	md = nsh->mdtype & 0xF;
	len = nsh_w0_len(w0) * 4;
	if (md == NSH_MDTYPE_1) {
		if (len != NSH_MD1_LEN)
			return NSH_E_LENGTH;
	} else if (md == NSH_MDTYPE_2) {
		if (len < NSH_MD2_MIN_LEN)
			return NSH_E_LENGTH;
	} else {
		return NSH_E_MDTYPE;
	}
	if (nsh_start + len > data_end)
		return NSH_E_TRUNC;

	/* The bare MD type 2 header (no TLVs) needs no walk. */
	if (md == NSH_MDTYPE_2 && len > NSH_BASE_LEN) {
		off = NSH_BASE_LEN;
#pragma clang loop unroll(disable)
		for (i = 0; i < NSH_MAX_TLVS; i++) {
			__u8 *tlv;

			if (off >= len)
				break;
			tlv = nsh_start + off;
			if ((void *)(tlv + NSH_MD2_TLV_HDR_LEN) > data_end)
				return NSH_E_TRUNC;
			/* Length excludes the TLV header; data pads to 4. */
			off += NSH_MD2_TLV_HDR_LEN + (((tlv[3] & 0x7F) + 3) & ~3);
			if (off > len)
				return NSH_E_LENGTH;
		}
		if (off != len)
			return NSH_E_LENGTH;
	}
	*nsh_len = len;
	return NSH_OK;
}

static __always_inline int nsh_np_valid(__u8 np)
{
	return np == NSH_NP_ETH || np == NSH_NP_IPV4 || np == NSH_NP_IPV6;
}

#endif /* CADEIA_NSH_BPF_H */
