// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Placement of the prober and record of where everything ran; see placement.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "model/scenario.h"
#include "run/cpuplace.h"

void cpuplace_init(struct cpuplace *p, const struct scenario *sc)
{
	bool cpu0_taken = false;

	memset(p, 0, sizeof(*p));
	p->online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	p->prober_requested = sc->measure.prober_cpu;
	p->functions = json_array();
	p->loadgen_requested = CPUPLACE_AUTO;
	p->loadgen_cpu = -1;
	for (int i = 0; i < sc->n_nodes; i++)
		if (sc->nodes[i].role == SC_ROLE_SF && sc->nodes[i].cpu == 0)
			cpu0_taken = true;
	if (p->prober_requested != CPUPLACE_AUTO)
		p->prober_cpu = p->prober_requested;
	else
		p->prober_cpu = p->online >= 2 && !cpu0_taken ? 0 : -1;
}

int cpuplace_pin_prober(struct cpuplace *p, char *err, size_t errlen)
{
	cpu_set_t set;

	if (p->prober_cpu < 0 || p->pinned)
		return 0;
	if (sched_getaffinity(0, sizeof(p->saved), &p->saved) < 0) {
		snprintf(err, errlen, "prober placement: reading the CPU affinity: %s", strerror(errno));
		return -errno;
	}
	CPU_ZERO(&set);
	CPU_SET(p->prober_cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		int e = errno;

		snprintf(err, errlen, "prober placement: pinning to CPU %d (measure.prober_cpu; %d online): %s",
			 p->prober_cpu, p->online, strerror(e));
		return -e;
	}
	p->pinned = true;
	return 0;
}

void cpuplace_unpin_prober(struct cpuplace *p)
{
	if (!p->pinned)
		return;
	sched_setaffinity(0, sizeof(p->saved), &p->saved);
	p->pinned = false;
}

int cpuplace_loadgen_cpu(struct cpuplace *p, const struct scenario *sc)
{
	int cpu = sc->load.cpu;

	p->loadgen_requested = cpu;
	if (cpu == CPUPLACE_AUTO) {
		cpu = p->online >= 3 ? p->online - 1 : -1;
		for (int i = 0; i < sc->n_nodes && cpu >= 0; i++)
			if (sc->nodes[i].role == SC_ROLE_SF && sc->nodes[i].cpu == cpu)
				cpu = -1;
	}
	p->loadgen_cpu = cpu;
	return cpu;
}

void cpuplace_note_prober(struct cpuplace *p)
{
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu >= CPUPLACE_MAX_CPUS)
		return;
	p->seen[cpu / 64] |= 1ULL << (cpu % 64);
	p->samples++;
}

int cpuplace_stat_cpu(const char *stat_text)
{
	/* The name in parentheses may hold spaces and parentheses: fields count
	 * from the last ')', which is followed by field 3 (state). */
	const char *s = strrchr(stat_text, ')');
	int field = 2;

	if (!s)
		return -1;
	for (s++; *s; ) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (++field == 39)
			return atoi(s);
		while (*s && *s != ' ')
			s++;
	}
	return -1;
}

static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

void cpuplace_read_functions(struct cpuplace *p, const struct testbed *tb, const char *arch)
{
	for (int i = 0; i < tb->sc->n_nodes; i++) {
		const struct sv_child *fn = &tb->fn[i];
		char path[64], buf[4096], allowed[256] = "";
		const char *a;
		json_t *o;

		if (fn->pid <= 0 || fn->reaped)
			continue;
		o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "architecture", arch, "node",
			      tb->sc->nodes[i].name, "function", fn->kind, "pid", (int)fn->pid,
			      "cpu_requested", tb->sc->nodes[i].cpu);
		snprintf(path, sizeof(path), "/proc/%d/status", (int)fn->pid);
		if (read_text(path, buf, sizeof(buf)) == 0 && (a = strstr(buf, "Cpus_allowed_list:"))) {
			sscanf(a, "Cpus_allowed_list: %255s", allowed);
			json_object_set_new(o, "cpus_allowed", json_string(allowed));
		}
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)fn->pid);
		if (read_text(path, buf, sizeof(buf)) == 0)
			json_object_set_new(o, "last_cpu", json_integer(cpuplace_stat_cpu(buf)));
		else
			json_object_set_new(o, "last_cpu", json_null());
		json_array_append_new(p->functions, o);
	}
}

json_t *cpuplace_json(const struct cpuplace *p)
{
	json_t *seen = json_array();

	for (int c = 0; c < CPUPLACE_MAX_CPUS; c++)
		if (p->seen[c / 64] & (1ULL << (c % 64)))
			json_array_append_new(seen, json_integer(c));
	return json_pack("{s:i, s:{s:o, s:i, s:o, s:i}, s:O, s:{s:o, s:i, s:s}}", "cpus_online",
			 p->online, "prober", "requested",
			 p->prober_requested == CPUPLACE_AUTO ? json_string("auto")
							      : json_integer(p->prober_requested),
			 "cpu", p->prober_cpu, "cpus_seen", seen, "rounds_sampled", p->samples,
			 "functions", p->functions, "load_generator", "requested",
			 p->loadgen_requested == CPUPLACE_AUTO ? json_string("auto")
							       : json_integer(p->loadgen_requested),
			 "cpu", p->loadgen_cpu, "ran_on",
			 "summary.json load.latency_under_load[].generator_cpu (created after the sweep, unpinned from the prober)");
}

void cpuplace_free(struct cpuplace *p)
{
	json_decref(p->functions);
	p->functions = NULL;
}
