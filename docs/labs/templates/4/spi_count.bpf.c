// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * spi_count: a stage of your own for lab 4. At XDP, before dec, it counts
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

	/*
	 * TODO (lab 4):
	 * 1. Make sure the whole struct nsh_hdr lies before data_end (the
	 *    verifier rejects the program otherwise, and a frame cut short
	 *    must not be counted).
	 * 2. Take the SPI from nsh->path: a big-endian word, SPI in its top 24
	 *    bits (bpf_ntohl, then nsh_path_spi() from nsh.h).
	 * 3. Find spi_stats[spi] (bpf_map_lookup_elem); if there is none yet,
	 *    insert a zeroed struct spi_value (bpf_map_update_elem with
	 *    BPF_NOEXIST) and look it up again.
	 * 4. Add one packet and data_end - data bytes.
	 */
	(void)nsh;

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
