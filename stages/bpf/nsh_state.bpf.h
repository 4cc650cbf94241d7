/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-flow NSH that dec saves and enc restores, and the generation
 * scheme that lets enc read it without a lock (see struct nsh_state).
 */
#ifndef CADEIA_NSH_STATE_BPF_H
#define CADEIA_NSH_STATE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "cadeia_shared.h"

/* Inner 5-tuple -> saved NSH; dec and enc share it through its pin. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct nsh_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nsh_state SEC(".maps");

/* Loads on either side stay on their side (x86 keeps loads in order). */
#define nsh_state_barrier() asm volatile("" ::: "memory")

static __always_inline int flow_key_equal(const struct flow_key *a,
					  const struct flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	_Static_assert(sizeof(struct flow_key) == 40, "flow_key is 5 words");
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

#endif /* CADEIA_NSH_STATE_BPF_H */
