/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TCP through the chain: for every chain length of the sweep, iperf3 from
 * each chain's source to its destination (forked in its namespace, or through
 * the backend's exec in a guest), after the tables
 * of that length are installed and proven. Per point: goodput (bytes the
 * receiver got over its time), the sender's retransmissions, the MSS, and
 * the CPU time the whole machine spent (from /proc/stat) per GB received.
 */
#ifndef CADEIA_THROUGHPUT_H
#define CADEIA_THROUGHPUT_H

#include <signal.h>
#include <stddef.h>
#include <jansson.h>

#include "backend/backend.h"

struct tput_ctx {
	struct testbed *tb;
	volatile sig_atomic_t *stop;
	/* Installs one chain length's tables and proves them (run.c). */
	int (*set_length)(void *arg, int length, char *err, size_t errlen);
	void (*note)(void *arg, const char *line);
	void *arg;
};

/* Appends one object per (chain, length) to rows: architecture, chain,
 * chain_length, goodput_mbps, bytes, seconds, retransmits, mss,
 * cpu_s_per_gb. */
int tput_run(struct tput_ctx *x, json_t *rows, char *err, size_t errlen);

/* The row of rows for (architecture, chain, chain_length), or NULL. */
json_t *tput_find(json_t *rows, const char *arch, const char *chain, int length);

/* Parses iperf3 -J output into row (goodput_mbps, bytes, seconds,
 * retransmits, mss). 0, or -EINVAL with err saying what is missing. */
int tput_parse_iperf3(const char *json, json_t *row, char *err, size_t errlen);

#endif
