/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-CPU verdict counters. Each stage keeps one struct of __u64 (X-macro
 * order from cadeia_shared.h) in a single-slot per-CPU array; its one exit
 * bumps counters[verdict].
 */
#ifndef CADEIA_STATS_BPF_H
#define CADEIA_STATS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "cadeia_shared.h"

#define CADEIA_STATS_MAP(name, value_type)                                     \
	struct {                                                               \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                       \
		__uint(max_entries, 1);                                        \
		__type(key, __u32);                                            \
		__type(value, value_type);                                     \
		__uint(pinning, LIBBPF_PIN_BY_NAME);                           \
	} name SEC(".maps")

static __always_inline void stats_count(void *map, __u32 verdict, __u32 nr)
{
	__u32 zero = 0;
	__u64 *c;

	c = bpf_map_lookup_elem(map, &zero);
	if (c && verdict < nr)
		c[verdict]++;
}

#define STATS_COUNT(map, verdict, value_type)                                  \
	stats_count(&(map), (verdict), sizeof(value_type) / sizeof(__u64))

#endif /* CADEIA_STATS_BPF_H */
