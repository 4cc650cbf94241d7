/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * CPU placement: where things run during a sweep, decided and then written
 * down (not to be confused with run/placement.h, which places nodes on hosts).
 *
 * The prober runs in the orchestrator's own thread (it enters the source's
 * namespace for each round). measure.prober_cpu places it: a CPU number, -1
 * for the scheduler's choice, or absent for "auto": CPU 0 whenever the
 * machine has two or more CPUs and no function is pinned there, so that on
 * this 2-core machine the prober and the functions (chain8 pins them to
 * CPU 1) do not take turns on one CPU, and on a bigger machine the prober
 * keeps CPU 0 while unpinned functions spread over the others. The pin holds
 * for the sweep only: the load experiment's generator threads are created
 * afterwards and must not inherit it.
 *
 * Functions are placed by their node's "cpu" (traffic/fn.c pins itself).
 * At the end of each architecture's sweep every function process is read
 * back from /proc/<pid>/stat (field 39, the CPU it last ran on) and
 * /proc/<pid>/status (Cpus_allowed_list); the prober's CPU is sampled with
 * sched_getcpu() after every round. meta.json's "cpu_placement" has both.
 */
#ifndef CADEIA_CPUPLACE_H
#define CADEIA_CPUPLACE_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CPUPLACE_AUTO (-2)
#define CPUPLACE_MAX_CPUS 1024

struct testbed;
struct scenario;

struct cpuplace {
	int online;              /* CPUs online when the run started */
	int prober_requested;    /* as the scenario says: CPUPLACE_AUTO, -1 or a CPU */
	int prober_cpu;          /* what it resolved to: -1 = not pinned */
	bool pinned;             /* the thread is pinned now; saved holds what to restore */
	cpu_set_t saved;
	uint64_t seen[CPUPLACE_MAX_CPUS / 64]; /* CPUs the prober was found on */
	unsigned samples;
	json_t *functions;       /* one entry per function process and architecture */
	int loadgen_requested;   /* load.cpu: CPUPLACE_AUTO, -1 or a CPU */
	int loadgen_cpu;         /* resolved; -1 = not pinned */
};

void cpuplace_init(struct cpuplace *p, const struct scenario *sc);
/* Pins the calling thread (the prober) for the sweep; no-op when unpinned. */
int cpuplace_pin_prober(struct cpuplace *p, char *err, size_t errlen);
/* Restores the thread's affinity from before cpuplace_pin_prober. */
void cpuplace_unpin_prober(struct cpuplace *p);
/*
 * The load generator's CPU for load.cpu (auto: the last CPU on a machine
 * with three or more, unless a function is pinned there, so that it competes
 * with neither the prober on CPU 0 nor the functions; else not pinned).
 * The generator thread pins itself (traffic/loadgen.h) and reports where it
 * ran in each latency-under-load row ("generator_cpu").
 */
int cpuplace_loadgen_cpu(struct cpuplace *p, const struct scenario *sc);
/* Notes the CPU the calling thread is on (after each probe round). */
void cpuplace_note_prober(struct cpuplace *p);
/* Reads back where each running function process of tb is (arch: its label). */
void cpuplace_read_functions(struct cpuplace *p, const struct testbed *tb, const char *arch);
/* meta.json's "placement"; p keeps its own references. */
json_t *cpuplace_json(const struct cpuplace *p);
void cpuplace_free(struct cpuplace *p);

/* Parses /proc/<pid>/stat text: field 39 (processor), or -1. Exposed for the tests. */
int cpuplace_stat_cpu(const char *stat_text);

#endif
