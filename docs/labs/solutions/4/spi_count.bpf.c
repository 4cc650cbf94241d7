// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * spi_count, reference solution of lab 4. At XDP, before dec, it counts
 * the NSH frames of each service path (SPI): packets and bytes. It only
 * looks: every frame goes on with XDP_PASS.
 *
 * Build: make labs LAB=lab      Check: cadeia-bench lab check 4
 * The checker runs it on fixture frames with BPF_PROG_TEST_RUN and reads
 * spi_stats; keep the map's name, key and value as they are.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "nsh.h"

struct spi_value {
	__u64 packets;
	__u64 bytes; /* whole frames, outer Ethernet included */
};

/* Per-CPU: each CPU adds to its own copy, no atomics; readers sum them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* SPI, host order */
	__type(value, struct spi_value);
} spi_stats SEC(".maps");

SEC("xdp")
int spi_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct nsh_hdr *nsh;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_NSH_))
		return XDP_PASS;
	nsh = (void *)(eth + 1);

	if ((void *)(nsh + 1) > data_end)
		return XDP_PASS;
	{
		__u32 spi = nsh_path_spi(bpf_ntohl(nsh->path));
		struct spi_value zero = {}, *v;

		v = bpf_map_lookup_elem(&spi_stats, &spi);
		if (!v) {
			bpf_map_update_elem(&spi_stats, &spi, &zero, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&spi_stats, &spi);
			if (!v)
				return XDP_PASS;
		}
		v->packets++;
		v->bytes += data_end - data;
	}

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
