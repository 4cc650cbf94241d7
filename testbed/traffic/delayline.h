/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The underlay's delay line: a switch of N ports (one per emulated host)
 * that holds every frame a fixed time (the delays of the two ports' links)
 * before sending it on. It stands in for
 * tc netem, which this kernel lacks (CONFIG_NET_SCH_NETEM is off): a frame
 * received at kernel time t (SO_TIMESTAMPNS) leaves at t + delay, sleeping
 * until shortly before and spinning the rest, so the process's own wake-up
 * latency is inside the delay rather than added to it (as long as it is
 * shorter than the delay).
 *
 * Switching is static: each port has the MAC of the VTEP behind it; a frame
 * to another MAC (broadcast, unknown) goes to every other port.
 */
#ifndef CADEIA_DELAYLINE_H
#define CADEIA_DELAYLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DL_MAX_PORTS 8

struct dl_opts {
	const char *netns;     /* NULL = the caller's */
	int n;                 /* ports */
	char ifname[DL_MAX_PORTS][16];
	uint8_t mac[DL_MAX_PORTS][6]; /* the MAC reached through port k */
	unsigned delay_us[DL_MAX_PORTS]; /* port k's link: a frame from k to j is
					  * held delay_us[k] + delay_us[j] */
	unsigned base_us;      /* held on top of the ports' delays, so the line's
				* own wake-up time hides inside it */
	unsigned mtu;          /* largest IP MTU on the ports */
	int cpu;               /* -1 = not pinned */
};

/* Runs until SIGTERM or SIGINT; writes one byte to ready_fd (-1 = none)
 * once every socket is open. 0 on a clean stop, -errno with err set. */
int dl_run(const struct dl_opts *o, int ready_fd, char *err, size_t errlen);

/*
 * Forks a child that runs dl_run() and waits until it is ready. The child
 * dies with this process (PDEATHSIG) unless detach, when it gets its own
 * session (`up`: the testbed outlives the command). *pid is set either way.
 */
int dl_spawn(const struct dl_opts *o, bool detach, const char *log_path, pid_t *pid, char *err,
	     size_t errlen);

#endif
