/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Built-in ICMP echo prober: paced, kernel-timestamped ping from inside a
 * named netns, one record per probe. Replaces parsing ping's output.
 *
 * The raw socket is opened inside the netns; the probing runs in the
 * caller's thread, which stays in its own netns (a socket keeps the netns it
 * was created in).
 */
#ifndef CADEIA_PROBE_H
#define CADEIA_PROBE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_ICMP_SIZE_DEFAULT 64 /* 8 header + 56 data, like ping -s 56 */
#define PROBE_ICMP_SIZE_MIN 8
#define PROBE_ICMP_SIZE_MAX 65000
#define PROBE_MAX_PROBES 65536 /* warmup + count: 16-bit ICMP sequence */

struct probe_opts {
	const char *netns;   /* name under /run/netns; NULL = caller's netns */
	uint32_t src;        /* IPv4, network order; 0 = kernel picks */
	uint32_t dst;        /* IPv4, network order */
	unsigned icmp_size;  /* ICMP header + data; 0 = PROBE_ICMP_SIZE_DEFAULT */
	double rate_pps;     /* > 0 */
	unsigned count;      /* recorded probes */
	unsigned warmup;     /* sent first at the same rate, not recorded */
	uint16_t ident;      /* ICMP identifier; 0 = derived from the thread id */
	unsigned grace_ms;   /* wait for late replies after the last send */
	bool user_ts_only;   /* do not ask for kernel timestamps */
	volatile sig_atomic_t *stop; /* non-zero: return early, interrupted */
	/* Called after each recorded probe is sent; last_rtt_us is NaN until a
	 * reply came. Provisional (user-space) RTT: the final ones are in out[]. */
	void (*progress)(void *arg, unsigned sent, unsigned recv, double last_rtt_us);
	void *progress_arg;
};

struct probe_sample {
	uint32_t seq;      /* ICMP sequence number (warm-up probes come first) */
	int64_t tx_ns;     /* CLOCK_MONOTONIC send time; -1 if never sent */
	int64_t rtt_ns;    /* -1: lost (or not sent) */
	uint8_t ts_kernel; /* 1: both ends kernel software timestamps; 0: user space */
};

struct probe_report {
	unsigned sent;            /* recorded probes sent */
	unsigned received;        /* recorded probes answered */
	unsigned duplicates;      /* extra replies to an answered probe */
	unsigned warmup_sent;
	unsigned warmup_received;
	unsigned kernel_ts;       /* received probes timed by the kernel */
	unsigned user_ts;         /* received probes timed in user space */
	double achieved_pps;      /* over all sends, warm-up included */
	double duration_s;        /* first send to last send */
	const char *ts_source;    /* "kernel", "user", "mixed"; "none" if nothing came back */
	bool kernel_ts_enabled;   /* SO_TIMESTAMPING was accepted */
	int interrupted;          /* *stop became non-zero */
	uint16_t ident;           /* the identifier used */
};

/*
 * Sends warmup + count echo requests to o->dst at o->rate_pps, paced on
 * absolute CLOCK_MONOTONIC deadlines, while receiving replies; then waits up
 * to o->grace_ms for the missing ones. out has o->count entries, one per
 * recorded probe, in send order.
 *
 * Returns 0 (also when interrupted or when every probe was lost) or a
 * negative errno with a message naming the netns and destination.
 */
int probe_run(const struct probe_opts *o, struct probe_sample *out,
	      struct probe_report *rep, char *err, size_t errlen);

#endif /* CADEIA_PROBE_H */
