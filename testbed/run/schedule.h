/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The order in which a sweep visits its chain lengths.
 *
 * Interleaved (the default): every round visits every length once, in an
 * order shuffled afresh for each round from one seed. A slow drift of the
 * machine (another tenant, a compiler) then lands on all lengths alike and
 * moves the line rather than tilting it; the bootstrap over rounds
 * (analysis/stats.h) keeps round r of every length together, so such a drift
 * drops out of the slope's interval too.
 *
 * Sequential: the paper's order, all rounds of length 0, then all of
 * length 1, and so on. One visit per length.
 *
 * Pure: no I/O; the same order, lengths, rounds and seed give the same
 * visits on every machine.
 */
#ifndef CADEIA_SCHEDULE_H
#define CADEIA_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct sched_visit {
	int li;                /* index into the scenario's lengths */
	unsigned round_first;  /* first round measured in this visit */
	unsigned rounds;       /* rounds measured in a row: 1 when interleaved */
};

enum sched_order { SCHED_INTERLEAVED, SCHED_SEQUENTIAL };

/*
 * Builds the visits into a malloc'd *out (*n of them: n_lengths * rounds
 * interleaved, n_lengths sequential). -EINVAL on n_lengths < 1 or rounds < 1,
 * -ENOMEM; err names the problem.
 */
int sched_build(enum sched_order order, uint64_t seed, int n_lengths, unsigned rounds,
		struct sched_visit **out, size_t *n, char *err, size_t errlen);

/* A fresh seed from the kernel's random source (53 bits: exact in any JSON reader). */
uint64_t sched_random_seed(void);

/* {"order": ..., "seed": ..., "seed_from": "scenario"|"drawn"} for meta.json. */
json_t *sched_json(enum sched_order order, uint64_t seed, int seed_given);

#endif
