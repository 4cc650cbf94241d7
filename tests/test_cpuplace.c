// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* testbed/run/cpuplace.c: the prober's placement policy, its pin, and the read-back of /proc. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model/scenario.h"
#include "run/cpuplace.h"
#include "tap.h"

static int load(const char *measure, const char *sf_cpu, struct scenario *sc)
{
	char text[2048];
	struct sc_err e;

	snprintf(text, sizeof(text),
		 "{ \"name\": \"t\", \"backend\": \"netns\",\n"
		 "  \"nodes\": [ {\"name\": \"src\", \"role\": \"src\"}, {\"name\": \"dest\", \"role\": \"dest\"},\n"
		 "             {\"name\": \"sf1\", \"role\": \"sf\", \"cpu\": %s} ],\n"
		 "  \"chains\": [ {\"name\": \"c1\", \"spi\": 1, \"sfs\": [\"sf1\"]} ],\n"
		 "  \"measure\": { %s } }\n", sf_cpu, measure);
	memset(&e, 0, sizeof(e));
	return scenario_load_string("t.json", text, sc, &e);
}

int main(void)
{
	struct scenario sc;
	struct cpuplace p;
	cpu_set_t before, now;
	char err[256], buf[4096];
	int online = (int)sysconf(_SC_NPROCESSORS_ONLN), r;
	FILE *f;

	tap_plan(13);

	/* /proc/<pid>/stat: field 39 counted from the last ')' (names may hold both). */
	/* pid (comm) then state = field 3, fields 4..38 = 1..35, field 39 = 7. */
	CHECK(cpuplace_stat_cpu("42 (a) b) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "
				"21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 7 0 0") == 7,
	      "stat: field 39 after a name with ') ' in it");
	CHECK(cpuplace_stat_cpu("1 (init) S 0") == -1 && cpuplace_stat_cpu("garbage") == -1,
	      "stat: too short or no name: -1");

	/* Policy: auto is CPU 0 on two or more CPUs unless a function is pinned there. */
	r = load("\"rounds\": 1", "1", &sc);
	cpuplace_init(&p, &sc);
	CHECK(r == 0 && p.prober_requested == CPUPLACE_AUTO && p.prober_cpu == (online >= 2 ? 0 : -1),
	      "auto, function on CPU 1: prober on CPU %d (%d online)", p.prober_cpu, online);
	cpuplace_free(&p);
	scenario_free(&sc);
	r = load("\"rounds\": 1", "0", &sc);
	cpuplace_init(&p, &sc);
	CHECK(r == 0 && p.prober_cpu == -1, "auto, function on CPU 0: prober left to the scheduler (%d)",
	      p.prober_cpu);
	cpuplace_free(&p);
	scenario_free(&sc);
	r = load("\"prober_cpu\": -1", "1", &sc);
	cpuplace_init(&p, &sc);
	CHECK(r == 0 && p.prober_requested == -1 && p.prober_cpu == -1, "prober_cpu -1: not pinned");
	cpuplace_free(&p);
	scenario_free(&sc);
	/* The load generator: auto is the last CPU on three or more, not pinned below; load.cpu wins. */
	r = load("\"rounds\": 1", "1", &sc);
	cpuplace_init(&p, &sc);
	sc.load.cpu = CPUPLACE_AUTO;
	CHECK(r == 0 && cpuplace_loadgen_cpu(&p, &sc) == (online >= 3 ? online - 1 : -1) &&
	      p.loadgen_requested == CPUPLACE_AUTO,
	      "load generator, auto: CPU %d on %d online", p.loadgen_cpu, online);
	sc.load.cpu = 1;
	CHECK(cpuplace_loadgen_cpu(&p, &sc) == 1 && p.loadgen_cpu == 1, "load generator, load.cpu 1: CPU 1");
	cpuplace_free(&p);
	scenario_free(&sc);
	r = load("\"prober_cpu\": 2000", "1", &sc);
	CHECK(r == -EINVAL, "prober_cpu 2000: refused");

	/* The pin is real: the thread's affinity is that CPU, sched_getcpu and /proc agree. */
	r = load("\"prober_cpu\": 0", "1", &sc);
	cpuplace_init(&p, &sc);
	sched_getaffinity(0, sizeof(before), &before);
	r = cpuplace_pin_prober(&p, err, sizeof(err));
	sched_getaffinity(0, sizeof(now), &now);
	CHECK(r == 0 && CPU_COUNT(&now) == 1 && CPU_ISSET(0, &now), "pinned: affinity is CPU 0 only");
	sched_yield();
	cpuplace_note_prober(&p);
	buf[0] = '\0';
	if ((f = fopen("/proc/self/stat", "r"))) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	CHECK(sched_getcpu() == 0 && cpuplace_stat_cpu(buf) == 0,
	      "pinned: sched_getcpu and /proc/self/stat field 39 say CPU 0 (%d %d)", sched_getcpu(),
	      cpuplace_stat_cpu(buf));
	CHECK(p.samples == 1 && (p.seen[0] & 1), "the prober's CPU is noted");
	cpuplace_unpin_prober(&p);
	sched_getaffinity(0, sizeof(now), &now);
	CHECK(CPU_EQUAL(&now, &before), "unpinned: the affinity from before is back");
	{
		json_t *j = cpuplace_json(&p);
		json_t *pr = json_object_get(j, "prober");

		CHECK(json_integer_value(json_object_get(pr, "cpu")) == 0 &&
		      json_integer_value(json_array_get(json_object_get(pr, "cpus_seen"), 0)) == 0 &&
		      json_integer_value(json_object_get(j, "cpus_online")) == online,
		      "meta.json form: prober cpu 0, seen [0], %d online", online);
		json_decref(j);
	}
	cpuplace_free(&p);
	scenario_free(&sc);
	return tap_done();
}
