/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Service functions that run as processes on an SF node:
 *
 *   cadeia-bench fn KIND --netns NS --dev IF [--node NAME] [--cpu N]
 *                [--busy-poll USEC] [--rt] [--ready-fd FD]
 *
 * KIND is "wire" (NSH-unaware reflector; dec/enc strip and restore NSH around
 * it) or "nsh-aware" (sees NSH, decrements SI, reflects; only fwd is attached).
 * "kwire" is an eBPF stage, not a process, and is rejected. "delay" is the
 * wire that holds each frame --delay-us USEC (default 200) after receiving it
 * before sending it back: the harness's calibration function (the kernel here
 * has no netem), so its per-SF cost is the wire's plus exactly USEC.
 *
 * The process enters NS, opens an AF_PACKET socket on IF, writes one byte to
 * FD once it receives, and runs until SIGTERM/SIGINT (exit 0). SIGUSR1 prints
 * the counters to stderr; they are printed at exit too, as one line:
 *   fn wire node=sf1 netns=ns1 dev=eth0: rx=3 reflected=3 ...
 * Fatal errors exit 1 with a message that names the netns and device.
 *
 * A classic BPF filter on the socket keeps only PACKET_OTHERHOST (wire) or
 * PACKET_HOST (nsh-aware) frames, so host traffic and our own sends never
 * wake the process. --busy-poll USEC sets SO_BUSY_POLL and spins on
 * recvmsg(MSG_DONTWAIT) for USEC after each frame before blocking again
 * (details in fn.c). The wire finishes CHECKSUM_PARTIAL TCP/UDP checksums
 * (PACKET_AUXDATA) and puts a VLAN tag the device stripped back in.
 */
#ifndef CADEIA_FN_H
#define CADEIA_FN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fn_kind {
	FN_WIRE,
	FN_NSH_AWARE,
	FN_KWIRE, /* in-kernel: no process */
	FN_DELAY, /* the wire, holding each frame delay_us first: a known cost */
};

#define FN_DELAY_DEFAULT_US 200

/* "wire", "nsh-aware", "kwire", "delay". Returns 0 or -EINVAL. */
int fn_kind_parse(const char *s, enum fn_kind *kind);
const char *fn_kind_name(enum fn_kind kind);
/* False for kinds that are eBPF stages (kwire): nothing to spawn. */
bool fn_kind_has_process(enum fn_kind kind);

#define FN_STATS(X)                                                            \
	X(rx)                  /* frames the socket's kernel filter let through */ \
	X(reflected)           /* sent back out of the same interface */       \
	X(ignored_pkttype)     /* wire: not OTHERHOST; nsh-aware: not HOST */  \
	X(ignored_not_nsh)     /* nsh-aware: EtherType is not NSH */           \
	X(csum_fixed)          /* wire: CHECKSUM_PARTIAL finished in software */ \
	X(csum_unfixable)      /* wire: partial checksum of an unknown L4; sent as is */ \
	X(drop_truncated)      /* larger than the buffer, or shorter than its headers */ \
	X(drop_bad_version)                                                    \
	X(drop_bad_length)     /* NSH Length disagrees with MD type or frame */ \
	X(drop_bad_mdtype)                                                     \
	X(drop_bad_next_proto)                                                 \
	X(drop_si)             /* SI would go below 1 */                       \
	X(tx_error)            /* sendto failed (e.g. GSO frame over MTU) */

#define FN_STAT_FIELD(name) uint64_t name;
struct fn_stats {
	FN_STATS(FN_STAT_FIELD)
};

/* Prints "name=value" pairs separated by spaces, no newline. */
void fn_stats_print(FILE *f, const struct fn_stats *s);

struct fn_opts {
	enum fn_kind kind;
	const char *node;  /* for messages only; NULL = none */
	const char *netns; /* name under /run/netns; NULL = current netns */
	const char *dev;
	int cpu;           /* pin to this CPU; -1 = leave to the scheduler */
	int busy_poll_us;  /* 0 = block in recvmsg(); see fn.c */
	bool rt;           /* SCHED_FIFO */
	int ready_fd;      /* -1 = none */
	unsigned delay_us; /* delay: how long each frame is held (spinning, not sleeping) */
};

/* Runs the function until SIGTERM/SIGINT. Returns the exit status (0 or 1). */
int fn_run(const struct fn_opts *o);

/*
 * Command-line entry: argv[0] is the sub-command ("fn"), then KIND and the
 * options above. A leading "fn" positional is skipped too, so the full
 * cadeia-bench argv also works. Returns the exit status.
 */
int fn_main(int argc, char **argv);

/* The options every kind of function takes (fn_main, fnx_main in fn_sf.c). */
#define FN_COMMON_OPTS                                          \
	{ "netns", required_argument, NULL, 'n' },              \
	{ "dev", required_argument, NULL, 'd' },                \
	{ "node", required_argument, NULL, 'N' },               \
	{ "cpu", required_argument, NULL, 'c' },                \
	{ "busy-poll", required_argument, NULL, 'b' },          \
	{ "ready-fd", required_argument, NULL, 'f' }

/*
 * A positional argument of `fn` (getopt's option 1): a leading "fn" is
 * skipped, the first other one is the KIND; a second is an error, said on
 * stderr (-1).
 */
int fn_opt_kind(const char *arg, const char **kind);

/* ---- frame handling, exposed for the tests ---------------------------- */

enum fn_verdict {
	FN_V_SEND = 0,   /* send the (possibly modified) frame back */
	FN_V_IGNORE = 1, /* not ours: count and skip */
	FN_V_DROP = 2,   /* ours but invalid: count and skip */
};

/*
 * NSH-aware processing of one Ethernet frame in place: validates the NSH
 * base header and decrements SI. On FN_V_SEND *proto is the EtherType
 * (network order) to give the kernel as skb->protocol; on other verdicts
 * the counter that explains it has been incremented in *s.
 */
enum fn_verdict fn_nsh_process(uint8_t *frame, size_t len, uint16_t *proto,
			       struct fn_stats *s);

/*
 * Finishes the TCP/UDP checksum of an IPv4 or IPv6 packet that starts at
 * frame + l3off (the kernel left it CHECKSUM_PARTIAL). Returns 0, or
 * -EPROTONOSUPPORT / -EINVAL when the packet is not one it can complete.
 */
int fn_l4_csum_fill(uint8_t *frame, size_t len, size_t l3off);

#endif /* CADEIA_FN_H */
