// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The sweep's visit order; see schedule.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sys/errmsg.h"
#include "run/schedule.h"

/* splitmix64, as the bootstrap's: small, portable, fully determined by the seed. */
static uint64_t mix_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int sched_build(enum sched_order order, uint64_t seed, int n_lengths, unsigned rounds,
		struct sched_visit **out, size_t *n, char *err, size_t errlen)
{
	struct sched_visit *v;
	size_t k = 0;
	uint64_t rng = seed;

	*out = NULL;
	*n = 0;
	if (n_lengths < 1 || rounds < 1) {
		set_err(err, errlen, "schedule: %d lengths and %u rounds: nothing to visit",
			n_lengths, rounds);
		return -EINVAL;
	}
	if (order == SCHED_SEQUENTIAL) {
		v = calloc(n_lengths, sizeof(*v));
		if (!v)
			goto nomem;
		for (int li = 0; li < n_lengths; li++)
			v[k++] = (struct sched_visit){ .li = li, .round_first = 0, .rounds = rounds };
		*out = v;
		*n = k;
		return 0;
	}
	v = calloc((size_t)n_lengths * rounds, sizeof(*v));
	if (!v)
		goto nomem;
	for (unsigned rd = 0; rd < rounds; rd++) {
		struct sched_visit *row = v + k;

		for (int li = 0; li < n_lengths; li++)
			row[li] = (struct sched_visit){ .li = li, .round_first = rd, .rounds = 1 };
		/* Fisher-Yates; the modulo bias is below 2^-50 for our few lengths. */
		for (int i = n_lengths - 1; i > 0; i--) {
			int j = (int)(mix_next(&rng) % (uint64_t)(i + 1));
			struct sched_visit t = row[i];

			row[i] = row[j];
			row[j] = t;
		}
		k += n_lengths;
	}
	*out = v;
	*n = k;
	return 0;
nomem:
	set_err(err, errlen, "schedule: %d lengths x %u rounds: %s", n_lengths, rounds,
		strerror(ENOMEM));
	return -ENOMEM;
}

uint64_t sched_random_seed(void)
{
	uint64_t s = 0;

	/* Without getrandom (very old kernels) the clock is random enough for an order. */
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		s = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		s = mix_next(&s);
	}
	return s & ((1ULL << 53) - 1);
}

json_t *sched_json(enum sched_order order, uint64_t seed, int seed_given)
{
	return json_pack("{s:s, s:I, s:s}", "order",
			 order == SCHED_SEQUENTIAL ? "sequential" : "interleaved", "seed",
			 (json_int_t)seed, "seed_from", seed_given ? "scenario" : "drawn");
}
