/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The per-flow NSH that dec saves and enc restores. */
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

#endif /* CADEIA_NSH_STATE_BPF_H */
