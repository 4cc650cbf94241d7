/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * UDP load generator and sink, for latency under load and no-drop rate
 * searches.
 *
 * Frame size is the Ethernet frame length in RFC 2544 terms, i.e. with the
 * 4-byte FCS: a 64-byte frame is 60 bytes on a Linux link (skb->len, what tc
 * rate limits and veth counters see), carrying IPv4 (20) + UDP (8) + 18
 * bytes of payload; 1518 is a full 1500-byte IP packet.
 *
 * Generator: one send-only raw IPv4 socket (IPPROTO_RAW) opened inside the
 * source netns, so one sendmmsg() batch can round-robin over all flows
 * (distinct UDP source ports) with exact per-packet interleaving. Pacing is
 * on absolute CLOCK_MONOTONIC deadlines: each wake-up sends every packet
 * already due, in batches, so a late wake-up catches up instead of drifting.
 * The run ends at start + duration even if the generator fell behind; the
 * shortfall shows in sent and achieved_pps. The UDP checksum is 0 (legal for
 * IPv4): nothing on the path has to finish a partial checksum, and it costs
 * no CPU per packet.
 *
 * Sink: a UDP socket in the destination netns, in its own thread. Every
 * payload carries (run id, flow, per-flow sequence number), so it counts per
 * flow, and tells duplicates and reordering apart; packets of other runs
 * (late ones of an earlier trial) are counted separately. Packets the socket
 * itself had to drop because the sink thread fell behind are read from the
 * kernel's per-socket drop counter (SO_MEMINFO): the path did deliver them,
 * so "delivered" = received + sock_drops is what a trial compares with
 * sent. Interface counters were not used: they also count ARP, IPv6
 * neighbour discovery and probes, and an end-of-chain bpf_redirect may
 * bypass the counter of the interface one would read.
 *
 * Errors: int functions return 0 or a negative errno with a one-line
 * message naming the netns and addresses in err[errlen] (err may be NULL).
 */
#ifndef CADEIA_LOADGEN_H
#define CADEIA_LOADGEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


#define LOADGEN_FRAME_MIN 64
#define LOADGEN_FRAME_MAX 1518
/* Ethernet header + FCS + IPv4 + UDP: frame size minus this = payload. */
#define LOADGEN_FRAME_OVERHEAD (14 + 4 + 20 + 8)
#define LOADGEN_MAX_FLOWS 4096
#define LOADGEN_DPORT_DEFAULT 9099
#define LOADGEN_SPORT_DEFAULT 10000
#define LOADGEN_BATCH_DEFAULT 64
#define LOADGEN_BATCH_MAX 256
#define LOADGEN_MAGIC 0x43424c47u /* "CBLG" */
/* Sink: count packets of every run id. */
#define LOADGEN_RUN_ANY 0u

#define LOADGEN_F_WARMUP 0x1

/* Start of every UDP payload, network byte order; 16 bytes, fits the
 * 18-byte payload of a 64-byte frame. */
struct loadgen_hdr {
	uint32_t magic;
	uint32_t run_id;
	uint32_t seq;   /* per flow, from 0 */
	uint16_t flow;  /* 0 .. flows-1; source port = sport + flow */
	uint16_t flags; /* LOADGEN_F_* */
} __attribute__((packed));

struct loadgen_opts {
	const char *netns;   /* name under /run/netns; NULL = caller's netns */
	uint32_t src;        /* IPv4, network order; 0 = kernel picks */
	uint32_t dst;        /* IPv4, network order */
	uint16_t sport;      /* flow i uses sport + i; 0 = LOADGEN_SPORT_DEFAULT */
	uint16_t dport;      /* 0 = LOADGEN_DPORT_DEFAULT */
	unsigned frame_size; /* LOADGEN_FRAME_MIN .. LOADGEN_FRAME_MAX */
	unsigned flows;      /* 1 .. LOADGEN_MAX_FLOWS (0 = 1) */
	double rate_pps;     /* > 0 */
	double duration_s;   /* > 0 */
	unsigned batch;      /* most packets per sendmmsg; 0 = default */
	uint32_t run_id;     /* written into every payload */
	/* Before the timed run: one flagged packet per flow (resolves
	 * neighbours, primes per-flow state on the path), then this pause. 0 =
	 * no warm-up. The sink does not count warm-up packets. */
	unsigned warmup_ms;
	volatile sig_atomic_t *stop; /* non-zero: end the run early */
	bool pin;            /* pin the generator thread to cpu */
	int cpu;
};

struct loadgen_report {
	uint64_t planned;     /* rate * duration, rounded */
	uint64_t sent;        /* accepted by the kernel (qdisc drops count as sent) */
	uint64_t blocked;     /* sendmmsg calls that found the socket buffer full */
	uint64_t warmup_sent;
	double elapsed_s;     /* first send to end of last send */
	double achieved_pps;  /* sent / trial window (the duration, or elapsed if stopped) */
	unsigned frame_size;
	unsigned payload_len; /* UDP payload bytes */
	int interrupted;
	int cpu;              /* the CPU the generator thread was last on; -1 unknown */
};

/* UDP payload bytes for an RFC 2544 frame size, or -EINVAL if out of range. */
int loadgen_payload_len(unsigned frame_size);
/* Bytes on a Linux link (no FCS) for an RFC 2544 frame size: frame - 4. */
unsigned loadgen_wire_len(unsigned frame_size);

/* ---- generator ------------------------------------------------------- */

struct loadgen;

/* Opens the socket inside o->netns and starts sending in a new thread. o is
 * copied (o->netns and o->stop must stay valid until loadgen_join). */
int loadgen_start(const struct loadgen_opts *o, struct loadgen **lg,
		  char *err, size_t errlen);
/* Asks the thread to stop early; safe from any thread, not from a signal
 * handler (use o->stop there). */
void loadgen_stop(struct loadgen *lg);
/* Waits for the run to end, fills rep, frees lg. Returns the run's status. */
int loadgen_join(struct loadgen *lg, struct loadgen_report *rep,
		 char *err, size_t errlen);
/* Start + join in the calling thread's time. */
int loadgen_run(const struct loadgen_opts *o, struct loadgen_report *rep,
		char *err, size_t errlen);

/* ---- sink -------------------------------------------------------------- */

struct loadgen_sink_opts {
	const char *netns; /* NULL = caller's netns */
	uint32_t addr;     /* bind address, network order; 0 = any */
	uint16_t port;     /* 0 = LOADGEN_DPORT_DEFAULT */
	unsigned max_flows; /* flows counted one by one; 0 = LOADGEN_MAX_FLOWS */
};

struct loadgen_sink_report {
	uint64_t received;   /* first copies of packets of the counted run */
	uint64_t duplicates; /* further copies of an already received (flow, seq) */
	uint64_t reordered;  /* arrived after a higher seq of the same flow */
	uint64_t warmup;     /* warm-up packets (not in received) */
	uint64_t other_run;  /* our packets, but of another run id */
	uint64_t foreign;    /* not ours: bad magic, too short, flow out of range */
	uint64_t sock_drops; /* dropped by the sink socket (queue full) since reset */
	uint64_t delivered;  /* received + sock_drops: what the path delivered */
	unsigned flows_seen; /* flows with at least one packet */
	uint32_t run_id;
};

struct loadgen_sink;

int loadgen_sink_start(const struct loadgen_sink_opts *o, struct loadgen_sink **sk,
		       char *err, size_t errlen);
/* Zeroes the counters and counts only run_id from now on (LOADGEN_RUN_ANY:
 * every run). */
void loadgen_sink_reset(struct loadgen_sink *sk, uint32_t run_id);
/* Snapshot of the counters; per_flow (may be NULL) gets received counts of
 * flows 0 .. nflows-1. */
void loadgen_sink_read(struct loadgen_sink *sk, struct loadgen_sink_report *r,
		       uint64_t *per_flow, unsigned nflows);
/* Stops the thread, closes the socket, frees sk. */
void loadgen_sink_stop(struct loadgen_sink *sk);

/* ---- CLI ----------------------------------------------------------------- */

/*
 * argv[0] is the subcommand:
 *   load --netns NS --src IP --dst IP --rate PPS --size BYTES --flows N --seconds S
 *        [--sport P] [--dport P] [--warmup-ms MS]
 *   load-sink --netns NS --port P [--seconds S]   (default: until SIGINT/SIGTERM)
 * Prints one JSON object with the report on stdout. Returns an exit status.
 */
int loadgen_cli(int argc, char **argv);

#endif /* CADEIA_LOADGEN_H */
