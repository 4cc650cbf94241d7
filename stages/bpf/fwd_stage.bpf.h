/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fwd stage's table, counters and decision. fwd.bpf.c runs it on NSH
 * frames that reach an egress with their NSH (an SFF, an NSH-aware SF);
 * enc.bpf.c runs it on the NSH it has just restored, so that an SF's egress
 * is one program: the two stay separate stages with their own counters.
 */
#ifndef CADEIA_FWD_STAGE_BPF_H
#define CADEIA_FWD_STAGE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "cadeia_shared.h"
#include "bpf/stats.bpf.h"

/* (SPI, SI) -> next hop or end of chain; the loader fills it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fwd_key);
	__type(value, struct fwd_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fwd_table SEC(".maps");

/*
 * fwd_table's generation: slot 0, bumped by the loader after every change
 * of fwd_table. dec stamps the next hop it caches in nsh_state with it, enc
 * trusts the cache only while it is current. A plain array: the verifier
 * inlines its lookup (no helper call).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fwd_gen SEC(".maps");

static __always_inline __u32 fwd_rules_gen(void)
{
	__u32 zero = 0, *g;

	g = bpf_map_lookup_elem(&fwd_gen, &zero);
	return g ? *(volatile __u32 *)g : 0;
}

/* Verdict counters, one __u64 per FWD_STATS() entry. */
CADEIA_STATS_MAP(fwd_stats, struct fwd_stats);

/*
 * The hop's part of the SFF's decision, for entry f: a hop that decrements
 * must not send TTL 0 on (RFC 8300 section 2.2). FWD__MAX when the frame
 * goes on, with *e = f and *ttl the TTL it leaves with; else the drop.
 */
static __always_inline __u32 fwd_hop(struct fwd_entry *f, __u8 *ttl,
				     struct fwd_entry **e)
{
	if (!(f->flags & FWD_F_KEEP_TTL)) {
		if (*ttl <= 1)
			return FWD_drop_ttl_expired;
		*ttl -= 1;
	}
	if (f->action != FWD_NEXT_HOP && f->action != FWD_END)
		return FWD_drop_no_path;
	*e = f;
	return FWD__MAX;
}

/*
 * The SFF's decision for a valid NSH (spi, si) arriving with *ttl: TTL 0
 * has expired, SI 0 has nowhere to go, (SPI, SI) must be in fwd_table; then
 * fwd_hop().
 */
static __always_inline __u32 fwd_decide(__u32 spi, __u8 si, __u8 *ttl,
					struct fwd_entry **e)
{
	struct fwd_key key = { .spi = spi, .si = si };
	struct fwd_entry *f;

	if (*ttl == 0)
		return FWD_drop_ttl_expired;
	if (si == 0)
		return FWD_drop_si_zero;
	f = bpf_map_lookup_elem(&fwd_table, &key);
	if (!f)
		return FWD_drop_no_path;
	return fwd_hop(f, ttl, e);
}

#endif /* CADEIA_FWD_STAGE_BPF_H */
