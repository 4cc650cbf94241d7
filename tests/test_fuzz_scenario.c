/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The scenario parser under mutated input: the shipped scenarios
 * (the .json files of scenarios/) mutated (bytes flipped, cut, spliced, numbers and
 * strings swapped for hostile ones, deep nesting) and parsed, from memory
 * and from files. No input may crash it (make asan runs this under ASan and
 * UBSan), every refusal names file:line:col, and every accepted scenario's
 * control tables compute for each length. Bounded in count and time:
 * CADEIA_SCENARIO_FUZZ_N mutants (default 20000, at least 500),
 * CADEIA_SCENARIO_FUZZ_SECONDS (default 120); CADEIA_SCENARIO_FUZZ_SEED
 * repeats a run. */
#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/arch.h"
#include "model/control.h"
#include "model/scenario.h"
#include "tap.h"

#define FUZZ_MIN 500u
#define MAX_SEEDS 32

static uint64_t rng;

static uint64_t next(void)
{
	/* splitmix64: a seed is enough to repeat a run */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t below(size_t n)
{
	return n ? next() % n : 0;
}

struct buf {
	char *b;
	size_t len, cap;
};

static void reserve(struct buf *m, size_t len)
{
	if (len + 1 <= m->cap)
		return;
	m->cap = (len + 1) * 2;
	m->b = realloc(m->b, m->cap);
	if (!m->b) {
		perror("realloc");
		exit(1);
	}
}

/* Replaces [at, at + cut) with ins[0..n). */
static void splice(struct buf *m, size_t at, size_t cut, const char *ins, size_t n)
{
	if (at > m->len)
		at = m->len;
	if (cut > m->len - at)
		cut = m->len - at;
	reserve(m, m->len - cut + n);
	memmove(m->b + at + n, m->b + at + cut, m->len - at - cut);
	memcpy(m->b + at, ins, n);
	m->len = m->len - cut + n;
	m->b[m->len] = '\0';
}

static const char *const hostile_numbers[] = {
	"4294967320", "-1", "0", "1e309", "99999999999999999999", "256", "16777216", "-0",
	"1.5", "2147483648", "-2147483649", "0x10", "1e-400", "NaN", "24garbage",
};
static const char *const hostile_strings[] = {
	"\"a/b\"", "\"..\"", "\"lo\"", "\"x:y\"", "\"a b\"", "\"\"", "\"\\u0000\"",
	"\"10.0.0.0/24garbage\"", "\"10.0.0.0/+24\"", "\"10.0.0.0/4294967320\"", "\"\\ud800\"",
	"\"eth%d\"", "null", "true", "[]", "{}",
};
static const char hostile_bytes[] = "{}[]\":,\\ -+.eE0123456789\n\t\x80\xff";

/* A number or string token starting at or after at: its span. */
static int token_at(const struct buf *m, size_t at, size_t *start, size_t *end, int *is_num)
{
	for (size_t i = at; i < m->len; i++) {
		char c = m->b[i];

		if (c == '"') {
			size_t j = i + 1;

			while (j < m->len && m->b[j] != '"')
				j += m->b[j] == '\\' ? 2 : 1;
			if (j >= m->len)
				return -1;
			*start = i, *end = j + 1, *is_num = 0;
			return 0;
		}
		if ((c >= '0' && c <= '9') || c == '-') {
			size_t j = i + 1;

			while (j < m->len && strchr("0123456789.eE+-", m->b[j]))
				j++;
			*start = i, *end = j, *is_num = 1;
			return 0;
		}
	}
	return -1;
}

static void mutate_once(struct buf *m, const struct buf *other)
{
	size_t at = below(m->len + 1), s, e, n;
	int num;
	char c;

	switch (below(9)) {
	case 0: /* flip a bit */
		if (m->len)
			m->b[below(m->len)] ^= (char)(1u << below(8));
		break;
	case 1: /* a byte that means something to JSON */
		c = hostile_bytes[below(sizeof(hostile_bytes) - 1)];
		splice(m, at, below(2), &c, 1);
		break;
	case 2: /* cut a range */
		splice(m, at, below(64), "", 0);
		break;
	case 3: /* copy a range of this or another scenario in */
		s = below(other->len);
		n = below(other->len - s + 1) % 256;
		{
			char tmp[256];

			memcpy(tmp, other->b + s, n);
			splice(m, at, 0, tmp, n);
		}
		break;
	case 4: /* a hostile number for a number */
		if (token_at(m, at, &s, &e, &num) == 0 && num) {
			const char *h = hostile_numbers[below(TAP_N(hostile_numbers))];

			splice(m, s, e - s, h, strlen(h));
		}
		break;
	case 5: /* a hostile value for a string */
		if (token_at(m, at, &s, &e, &num) == 0 && !num) {
			const char *h = hostile_strings[below(TAP_N(hostile_strings))];

			splice(m, s, e - s, h, strlen(h));
		}
		break;
	case 6: /* a long string */
		if (token_at(m, at, &s, &e, &num) == 0 && !num) {
			n = 1 + below(8192);
			char *l = malloc(n + 2);

			if (!l)
				exit(1);
			l[0] = '"';
			memset(l + 1, 'a' + (char)below(26), n);
			l[n + 1] = '"';
			splice(m, s, e - s, l, n + 2);
			free(l);
		}
		break;
	case 7: /* deep nesting */
		n = 1 + below(4096);
		{
			char *d = malloc(n);

			if (!d)
				exit(1);
			memset(d, below(2) ? '[' : '{', n);
			splice(m, at, 0, d, n);
			free(d);
		}
		break;
	default: /* cut the end */
		m->len = at;
		m->b[m->len] = '\0';
		break;
	}
}

/* "name:LINE:COL: " at the start of msg. */
static int positioned(const char *msg, const char *name)
{
	size_t n = strlen(name);
	const char *p = msg + n;
	int digits;

	if (strncmp(msg, name, n) != 0 || *p++ != ':')
		return 0;
	for (int k = 0; k < 2; k++) {
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (!digits || *p++ != ':')
			return 0;
	}
	return *p == ' ';
}

static long env_num(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	n = strtol(v, &end, 10);
	return *end ? -1 : n;
}

int main(void)
{
	long want = env_num("CADEIA_SCENARIO_FUZZ_N", 20000);
	long secs = env_num("CADEIA_SCENARIO_FUZZ_SECONDS", 120);
	const char *seed_env = getenv("CADEIA_SCENARIO_FUZZ_SEED");
	struct buf seeds[MAX_SEEDS] = { 0 }, m = { 0 };
	char tmpdir[] = "/tmp/cadeia-scfuzz.XXXXXX", path[64], first_bad[1200] = "";
	unsigned ran = 0, accepted = 0, unpositioned = 0, odd_ret = 0, cp_bad = 0;
	int nseeds = 0, seeds_ok = 1;
	struct timespec t0, t;
	glob_t g;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(5);
	rng = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	DIAG("seed %llu (rerun with CADEIA_SCENARIO_FUZZ_SEED=%llu), %ld mutants, at most %ld s",
	     (unsigned long long)rng, (unsigned long long)rng, want, secs);

	/* The seeds: every shipped scenario, each of which must load as is. */
	if (glob("scenarios/*.json", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && nseeds < MAX_SEEDS; i++) {
			struct scenario sc;
			struct sc_err err = { "" };
			FILE *f = fopen(g.gl_pathv[i], "re");
			struct buf *b = &seeds[nseeds];

			if (!f) {
				seeds_ok = 0;
				continue;
			}
			reserve(b, 1 << 16);
			b->len = fread(b->b, 1, b->cap - 1, f);
			b->b[b->len] = '\0';
			fclose(f);
			if (scenario_load_string(g.gl_pathv[i], b->b, &sc, &err) == 0) {
				scenario_free(&sc);
			} else {
				seeds_ok = 0;
				DIAG("seed %s: %s", g.gl_pathv[i], err.msg);
			}
			nseeds++;
		}
		globfree(&g);
	}
	CHECK(nseeds > 0 && seeds_ok, "the %d shipped scenarios load as they are (the seeds)", nseeds);
	if (!nseeds || !mkdtemp(tmpdir))
		return tap_done();
	snprintf(path, sizeof(path), "%s/fz.json", tmpdir);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < want; i++) {
		const struct buf *seed = &seeds[below(nseeds)];
		struct scenario sc;
		struct sc_err err = { "" };
		const char *name = "fz.json";
		int ret, rounds = 1 + (int)below(4);

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= secs)
			break;
		m.len = 0;
		splice(&m, 0, 0, seed->b, seed->len);
		for (int r = 0; r < rounds; r++)
			mutate_once(&m, &seeds[below(nseeds)]);
		/* One in eight through a file: the reader's own checks (NUL bytes, size). */
		if (i % 8 == 0) {
			FILE *f = fopen(path, "we");

			if (!f || fwrite(m.b, 1, m.len, f) != m.len || fclose(f) != 0) {
				perror(path);
				break;
			}
			name = path;
			ret = scenario_load(path, &sc, &err);
		} else {
			ret = scenario_load_string(name, m.b, &sc, &err);
		}
		ran++;
		if (ret == 0) {
			int max = sc_max_length(&sc);

			accepted++;
			/* As the run loop does: each architecture on its own expanded copy. */
			for (int a = 0; a < sc.n_archs; a++) {
				static struct scenario scx;
				char e[256];

				scx = sc;
				if (arch_expand(&scx, sc.archs[a], e, sizeof(e)) < 0) {
					if (!cp_bad++)
						DIAG("accepted mutant %ld: %s: %s", i, sc_arch_name(sc.archs[a]), e);
					continue;
				}
				for (int len = 0; len <= max; len++) {
					static struct cp_tables tables;

					if (cp_compute(&scx, len, &tables, e, sizeof(e)) != 0) {
						if (!cp_bad++)
							DIAG("accepted mutant %ld: %s, control tables at length %d: %s",
							     i, sc_arch_name(sc.archs[a]), len, e);
					}
				}
			}
			scenario_free(&sc);
		} else if (ret > 0) {
			odd_ret++;
		} else if (!positioned(err.msg, name)) {
			if (!unpositioned++)
				snprintf(first_bad, sizeof(first_bad), "%s", err.msg);
		}
	}
	unlink(path);
	rmdir(tmpdir);
	DIAG("%u mutants parsed, %u accepted, %.1f s", ran, accepted,
	     (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9);

	CHECK(want >= (long)FUZZ_MIN && secs > 0,
	      "CADEIA_SCENARIO_FUZZ_N %ld is at least %u, the time limit %ld s positive", want,
	      FUZZ_MIN, secs);
	CHECK(want > 0 && ran == (unsigned long)want,
	      "all %ld mutants parsed within %ld s (%u), none crashed", want, secs, ran);
	CHECK(odd_ret == 0 && unpositioned == 0,
	      "every refusal is negative and names file:line:col (%u without%s%s)", unpositioned,
	      unpositioned ? "; first: " : "", first_bad);
	CHECK(cp_bad == 0, "every accepted mutant's control tables compute at every length (%u of %u failed)",
	      cp_bad, accepted);
	for (int i = 0; i < nseeds; i++)
		free(seeds[i].b);
	free(m.b);
	return tap_done();
}
