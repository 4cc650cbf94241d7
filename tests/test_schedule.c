// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* testbed/run/schedule.c (the visit order) and the scenario's measure.order / measure.seed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/scenario.h"
#include "run/schedule.h"
#include "tap.h"

/* Every round is a permutation of 0..nl-1 with rounds == 1. */
static int rounds_are_permutations(const struct sched_visit *v, size_t n, int nl, unsigned rounds)
{
	if (n != (size_t)nl * rounds)
		return 0;
	for (unsigned rd = 0; rd < rounds; rd++) {
		int seen[64] = { 0 };

		for (int i = 0; i < nl; i++) {
			const struct sched_visit *x = &v[rd * nl + i];

			if (x->round_first != rd || x->rounds != 1 || x->li < 0 || x->li >= nl ||
			    seen[x->li]++)
				return 0;
		}
	}
	return 1;
}

static void test_build(void)
{
	struct sched_visit *a = NULL, *b = NULL, *c = NULL;
	size_t na, nb, nc;
	char err[256];
	int r, same_ab, same_ac, sorted_rounds = 0;

	/* chain8: 9 lengths, 15 rounds -> 135 visits, each round a permutation. */
	r = sched_build(SCHED_INTERLEAVED, 42, 9, 15, &a, &na, err, sizeof(err));
	CHECK(r == 0 && na == 135, "interleaved 9 x 15: 135 visits (%d, %zu)", r, na);
	CHECK(rounds_are_permutations(a, na, 9, 15), "interleaved: each round visits every length once");
	for (unsigned rd = 0; rd < 15; rd++) {
		int inc = 1;

		for (int i = 1; i < 9; i++)
			inc &= a[rd * 9 + i].li > a[rd * 9 + i - 1].li;
		sorted_rounds += inc;
	}
	/* A shuffled round of 9 is in length order with probability 1/9! */
	CHECK(sorted_rounds == 0, "interleaved: no round is in length order (%d)", sorted_rounds);
	r = sched_build(SCHED_INTERLEAVED, 42, 9, 15, &b, &nb, err, sizeof(err));
	same_ab = r == 0 && nb == na && !memcmp(a, b, na * sizeof(*a));
	CHECK(same_ab, "interleaved: seed 42 twice gives the same order");
	r = sched_build(SCHED_INTERLEAVED, 43, 9, 15, &c, &nc, err, sizeof(err));
	same_ac = r == 0 && nc == na && !memcmp(a, c, na * sizeof(*a));
	CHECK(r == 0 && !same_ac && rounds_are_permutations(c, nc, 9, 15),
	      "interleaved: seed 43 gives another order, still permutations");
	free(a);
	free(b);
	free(c);

	/* Sequential: one visit per length, in order, every round at once. */
	r = sched_build(SCHED_SEQUENTIAL, 42, 9, 15, &a, &na, err, sizeof(err));
	{
		int ok = r == 0 && na == 9;

		for (size_t i = 0; ok && i < na; i++)
			ok = a[i].li == (int)i && a[i].round_first == 0 && a[i].rounds == 15;
		CHECK(ok, "sequential: 9 visits, length i with rounds 0..14");
	}
	free(a);

	/* One length: interleaving has nothing to shuffle. */
	r = sched_build(SCHED_INTERLEAVED, 1, 1, 3, &a, &na, err, sizeof(err));
	CHECK(r == 0 && na == 3 && a[0].li == 0 && a[2].round_first == 2, "one length: 3 visits of it");
	free(a);

	err[0] = '\0';
	r = sched_build(SCHED_INTERLEAVED, 1, 0, 3, &a, &na, err, sizeof(err));
	CHECK(r == -EINVAL && a == NULL && strstr(err, "nothing to visit"), "no lengths: -EINVAL \"%s\"", err);
	r = sched_build(SCHED_INTERLEAVED, 1, 9, 0, &a, &na, err, sizeof(err));
	CHECK(r == -EINVAL, "no rounds: -EINVAL");

	{
		uint64_t s1 = sched_random_seed(), s2 = sched_random_seed();

		CHECK(s1 < (1ULL << 53) && s2 < (1ULL << 53) && s1 != s2,
		      "drawn seeds fit 53 bits and differ (%llu %llu)", (unsigned long long)s1,
		      (unsigned long long)s2);
	}
}

static const char *const scenario_fmt =
	"{\n"
	"  \"name\": \"t\", \"backend\": \"netns\",\n"
	"  \"nodes\": [ {\"name\": \"src\", \"role\": \"src\"}, {\"name\": \"dest\", \"role\": \"dest\"},\n"
	"             {\"name\": \"sf1\", \"role\": \"sf\"} ],\n"
	"  \"chains\": [ {\"name\": \"c1\", \"spi\": 1, \"si\": 255, \"sfs\": [\"sf1\"]} ],\n"
	"  \"measure\": { %s }\n"
	"}\n";

static int load(const char *measure, struct scenario *sc, struct sc_err *e)
{
	char text[2048];

	snprintf(text, sizeof(text), scenario_fmt, measure);
	memset(e, 0, sizeof(*e));
	return scenario_load_string("t.json", text, sc, e);
}

static void test_scenario(void)
{
	struct scenario sc;
	struct sc_err e;
	int r;

	r = load("\"rounds\": 2", &sc, &e);
	CHECK(r == 0 && sc.measure.order == SC_ORDER_INTERLEAVED && !sc.measure.seed_set,
	      "default: interleaved, no seed (%d %s)", r, e.msg);
	if (r == 0)
		scenario_free(&sc);
	r = load("\"order\": \"sequential\"", &sc, &e);
	CHECK(r == 0 && sc.measure.order == SC_ORDER_SEQUENTIAL, "order sequential parsed (%s)", e.msg);
	if (r == 0)
		scenario_free(&sc);
	r = load("\"order\": \"interleaved\", \"seed\": 12345", &sc, &e);
	CHECK(r == 0 && sc.measure.order == SC_ORDER_INTERLEAVED && sc.measure.seed_set &&
	      sc.measure.seed == 12345, "order interleaved, seed 12345 (%s)", e.msg);
	if (r == 0)
		scenario_free(&sc);
	r = load("\"seed\": 0", &sc, &e);
	CHECK(r == 0 && sc.measure.seed_set && sc.measure.seed == 0, "seed 0 is a seed (%s)", e.msg);
	if (r == 0)
		scenario_free(&sc);
	/* Bad input: file:line:col and the field. */
	r = load("\"order\": \"random\"", &sc, &e);
	CHECK(r == -EINVAL && strstr(e.msg, "t.json:6:") && strstr(e.msg, "measure.order") &&
	      strstr(e.msg, "interleaved or sequential"), "bad order: \"%s\"", e.msg);
	r = load("\"order\": 1", &sc, &e);
	CHECK(r == -EINVAL && strstr(e.msg, "measure.order") && strstr(e.msg, "string"),
	      "order not a string: \"%s\"", e.msg);
	r = load("\"seed\": -1", &sc, &e);
	CHECK(r == -EINVAL && strstr(e.msg, "t.json:6:") && strstr(e.msg, "measure.seed"),
	      "negative seed: \"%s\"", e.msg);
	r = load("\"seed\": 1.5", &sc, &e);
	CHECK(r == -EINVAL && strstr(e.msg, "measure.seed"), "fractional seed: \"%s\"", e.msg);
	/* measure.idle_guests: guests outside the measured chain paused (default) or running. */
	r = load("\"rounds\": 2", &sc, &e);
	CHECK(r == 0 && !sc.measure.idle_run, "default: idle guests paused (%s)", e.msg);
	if (r == 0)
		scenario_free(&sc);
	r = load("\"idle_guests\": \"run\"", &sc, &e);
	CHECK(r == 0 && sc.measure.idle_run, "idle_guests run parsed (%s)", e.msg);
	if (r == 0)
		scenario_free(&sc);
	r = load("\"idle_guests\": \"sleep\"", &sc, &e);
	CHECK(r == -EINVAL && strstr(e.msg, "t.json:6:") && strstr(e.msg, "measure.idle_guests") &&
	      strstr(e.msg, "pause or run"), "bad idle_guests: \"%s\"", e.msg);
	r = load("\"sead\": 1", &sc, &e);
	CHECK(r == -EINVAL && strstr(e.msg, "measure.sead") && strstr(e.msg, "seed"),
	      "misspelt key: \"%s\"", e.msg);
}

int main(void)
{
	tap_plan(22);
	test_build();
	test_scenario();
	return tap_done();
}
