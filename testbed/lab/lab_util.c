/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the lab checkers share: names, counters, the run's functions. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab_priv.h"

const char *lab_ip_str(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

int lab_node_idx(struct lab_ctx *c, const char *name)
{
	int i = sc_node_index(&c->sc, name);

	if (i < 0)
		lab_problem(c, "the testbed has no node %s: was it brought up from docs/labs/scenarios/lab%d.json?",
			    name, c->n);
	return i;
}

uint64_t lab_stat(struct lab_ctx *c, int node, unsigned stage, const char *name)
{
	char pin[96];

	lab_node_name(c, node, pin, sizeof(pin));
	return cs_stat_get(pin, stage, name);
}

/* Every function process the run started is still the same process. */
void lab_functions_alive(struct lab_ctx *c)
{
	json_t *fns = json_object_get(c->rs.doc, "functions"), *f;
	size_t i;
	int dead = 0;

	json_array_foreach(fns, i, f) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(f, "pid"));

		if (!rs_pid_alive(pid)) {
			dead++;
			lab_problem(c, "the function of %s (pid %d) is gone: the lab changes the chain without restarting anything; bring the testbed down and up again",
				    json_string_value(json_object_get(f, "node")) ?: "?", (int)pid);
		}
	}
	if (!dead && json_array_size(fns))
		lab_ok(c, "all %zu functions the testbed started are still running", json_array_size(fns));
}

bool lab_newer(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       (sa.st_mtim.tv_sec > sb.st_mtim.tv_sec ||
		(sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec >= sb.st_mtim.tv_nsec));
}

/* Sums one key's value over CPUs for a per-CPU map. */

int lab_built(struct lab_ctx *c, const char *src, const char *built, int mode)
{
	const char *base = strrchr(src, '/');

	if (access(src, R_OK) < 0) {
		lab_problem(c, "%s: %s; start from the template: cp -r docs/labs/templates/%d %s/",
			    src, strerror(errno), c->n, c->dir);
		return -1;
	}
	if (access(built, mode) < 0 || !lab_newer(built, src)) {
		lab_problem(c, "%s is %s%s: build it with `make labs LAB=%s`", built,
			    access(built, mode) < 0 ? "not built" : "older than ",
			    access(built, mode) < 0 ? "" : (base ? base + 1 : src), c->dir);
		return -1;
	}
	return 0;
}
