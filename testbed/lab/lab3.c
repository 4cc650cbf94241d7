/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lab 3's checker: a legacy (NSH-unaware) function. It starts the student's
 * port filter if nothing runs in the SF yet, sends UDP to an open and a
 * filtered port, and looks at the frames on the SF's link and the counters.
 */
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

#define LAB3_BLOCKED 7777
#define LAB3_OPEN 7778
#define LAB3_FRAMES 5

/* What the checker saw of the datagrams on the SF's link. */
struct lab3_seen {
	unsigned in_open, in_blocked, out_open, out_blocked;
	uint8_t in_si, out_si;
};

/* The function that runs in the SF's netns: the student's, or the built
 * portfilter started now (*started, for lab_stop). -1 when neither can be. */
static int lab3_function(struct lab_ctx *c, int sf, const char *ns, pid_t *started)
{
	char bin[1024], srcfile[1024], log[1024], err[512];
	char *argv[3] = { bin, c->sc.nodes[sf].ifname, NULL };
	pid_t pids[8];
	int status;

	lab_path(c, "portfilter", bin, sizeof(bin));
	lab_path(c, "portfilter.c", srcfile, sizeof(srcfile));
	lab_path(c, "portfilter.log", log, sizeof(log));
	if (lab_netns_pids(ns, pids, 8) > 0) {
		char exe[256] = "?", p[64];
		ssize_t l;

		snprintf(p, sizeof(p), "/proc/%d/exe", (int)pids[0]);
		l = readlink(p, exe, sizeof(exe) - 1);
		exe[l > 0 ? l : 1] = '\0';
		lab_info(c, "your function runs in %s as pid %d (%s); checking that one", ns,
			 (int)pids[0], exe);
		return 0;
	}
	if (lab_built(c, srcfile, bin, X_OK) < 0)
		return -1;
	if (bin[0] != '/') {
		char cwd[512], tmp[1024];

		if (getcwd(cwd, sizeof(cwd))) {
			snprintf(tmp, sizeof(tmp), "%s/%s", cwd, bin);
			snprintf(bin, sizeof(bin), "%s", tmp);
		}
	}
	*started = lab_spawn_in_netns(ns, argv, log, err, sizeof(err));
	if (*started < 0) {
		lab_problem(c, "starting %s in %s: %s", bin, ns, err);
		return -1;
	}
	lab_sleep_ms(300);
	if (waitpid(*started, &status, WNOHANG) == *started) {
		lab_problem(c, "%s %s exited at once (status %d) inside %s; its output is in %s", bin,
			    c->sc.nodes[sf].ifname, WIFEXITED(status) ? WEXITSTATUS(status) : -1, ns,
			    log);
		*started = -1;
		return -1;
	}
	lab_info(c, "started %s %s inside %s (no function was running there); its output goes to %s",
		 bin, c->sc.nodes[sf].ifname, ns, log);
	return 0;
}

/* LAB3_FRAMES datagrams to each port, from src to dest; fd[0] sends, fd[1]
 * and fd[2] receive on the open and the blocked port. */
static int lab3_send(struct lab_ctx *c, const struct sc_chain *ch, int fd[3])
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = c->sc.nodes[ch->dest].ip };
	char sns[96], dns[96], err[512], payload[64];

	lab_node_name(c, ch->src, sns, sizeof(sns));
	lab_node_name(c, ch->dest, dns, sizeof(dns));
	if ((fd[0] = lab_udp_socket(sns, 0, err, sizeof(err))) < 0 ||
	    (fd[1] = lab_udp_socket(dns, LAB3_OPEN, err, sizeof(err))) < 0 ||
	    (fd[2] = lab_udp_socket(dns, LAB3_BLOCKED, err, sizeof(err))) < 0) {
		lab_problem(c, "%s", err);
		return -1;
	}
	memset(payload, 'x', sizeof(payload));
	for (int i = 0; i < LAB3_FRAMES; i++) {
		to.sin_port = htons(LAB3_OPEN);
		sendto(fd[0], payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to));
		to.sin_port = htons(LAB3_BLOCKED);
		sendto(fd[0], payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to));
		lab_sleep_ms(20);
	}
	lab_sleep_ms(500);
	return 0;
}

static void lab3_count(struct lab_cap *cap, struct lab3_seen *s)
{
	lab_cap_drain(cap);
	for (size_t i = 0; i < cap->n; i++) {
		const struct lab_frame *f = &cap->f[i];

		if (!f->nsh || !f->ipv4 || f->proto != IPPROTO_UDP)
			continue;
		if (f->outgoing) {
			s->in_open += f->dport == LAB3_OPEN;
			s->in_blocked += f->dport == LAB3_BLOCKED;
			s->in_si = f->si;
		} else {
			s->out_open += f->dport == LAB3_OPEN;
			s->out_blocked += f->dport == LAB3_BLOCKED;
			s->out_si = f->si;
		}
	}
}

/* What reached dest on each port. */
static void lab3_delivered(struct lab_ctx *c, const struct sc_chain *ch, int fd[3])
{
	const struct sc_node *sf = &c->sc.nodes[ch->sfs[0]], *dest = &c->sc.nodes[ch->dest];
	char a[INET_ADDRSTRLEN];
	int n = lab_udp_count(fd[1]);

	if (n == LAB3_FRAMES)
		lab_ok(c, "all %d datagrams to UDP port %d reached %s (%s) through the chain", n,
		       LAB3_OPEN, dest->name, lab_ip_str(dest->ip, a));
	else
		lab_problem(c, "%d of %d datagrams to UDP port %d reached %s: your function must send every frame it does not filter back out of %s unchanged (see forward() in the template)",
			    n, LAB3_FRAMES, LAB3_OPEN, dest->name, sf->ifname);
	n = lab_udp_count(fd[2]);
	if (n == 0)
		lab_ok(c, "no datagram to the filtered UDP port %d reached %s", LAB3_BLOCKED,
		       dest->name);
	else
		lab_problem(c, "%d of %d datagrams to UDP port %d (the port to filter) reached %s: your function forwards them; drop IPv4 UDP and TCP frames whose destination port is %d (keep_frame() in the template)",
			    n, LAB3_FRAMES, LAB3_BLOCKED, dest->name, LAB3_BLOCKED);
}

/* What the SF's link carried in and out. */
static void lab3_wire(struct lab_ctx *c, const struct sc_chain *ch, const struct lab3_seen *s)
{
	const struct sc_node *sf = &c->sc.nodes[ch->sfs[0]];

	if (s->in_open >= LAB3_FRAMES && s->in_blocked >= LAB3_FRAMES)
		lab_ok(c, "on the wire into %s every datagram carried NSH (SPI %u, SI %u)", sf->name,
		       ch->spi, s->in_si);
	else
		lab_problem(c, "only %u + %u of the datagrams arrived at %s with NSH: the classifier or the chain is not as lab3.json sets it up",
			    s->in_open, s->in_blocked, sf->name);
	if (s->out_open >= LAB3_FRAMES && s->out_si + 1 == s->in_si)
		lab_ok(c, "out of %s the forwarded datagrams carry NSH again, SI %u: the stages restored a header your function never saw",
		       sf->name, s->out_si);
	else if (s->out_open)
		lab_problem(c, "datagrams left %s with NSH SI %u instead of SI %u", sf->name, s->out_si,
			    s->in_si - 1);
	else
		lab_problem(c, "no datagram to port %d left %s with NSH: the function did not send them back out of %s",
			    LAB3_OPEN, sf->name, sf->ifname);
	if (s->out_blocked)
		lab_problem(c, "%u datagrams to port %d left %s: the filter must drop them",
			    s->out_blocked, LAB3_BLOCKED, sf->name);
}

int lab_check3(struct lab_ctx *c)
{
	int sf, fd[3] = { -1, -1, -1 };
	char ns[96], err[512];
	struct lab3_seen seen = { 0 };
	uint64_t decap0, encap0;
	struct lab_cap *cap = NULL;
	pid_t started = -1;
	const struct sc_chain *ch;

	if (lab_open_run(c, "lab3") < 0)
		return -1;
	ch = &c->sc.chains[0];
	sf = ch->sfs[0];
	if (c->sc.nodes[sf].fn != SC_FN_EXTERNAL) {
		lab_problem(c, "the chain's first SF %s is not \"function\": \"external\": bring the testbed up from docs/labs/scenarios/lab3.json",
			    c->sc.nodes[sf].name);
		return -1;
	}
	lab_node_name(c, sf, ns, sizeof(ns));
	if (lab3_function(c, sf, ns, &started) < 0)
		return -1;
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		goto cleanup;
	cap->fd = -1;
	if (lab_cap_open(cap, ns, err, sizeof(err)) < 0) {
		lab_problem(c, "cannot capture on the testbed: %s", err);
		goto cleanup;
	}
	decap0 = lab_stat(c, sf, CS_STAGE_DEC, "decap");
	encap0 = lab_stat(c, sf, CS_STAGE_ENC, "encap");
	if (lab3_send(c, ch, fd) < 0)
		goto cleanup;
	lab3_count(cap, &seen);
	lab3_delivered(c, ch, fd);
	lab3_wire(c, ch, &seen);
	if (lab_stat(c, sf, CS_STAGE_DEC, "decap") - decap0 >= 2 * LAB3_FRAMES &&
	    lab_stat(c, sf, CS_STAGE_ENC, "encap") - encap0 >= (uint64_t)seen.out_open &&
	    seen.out_open)
		lab_ok(c, "%s's dec stripped NSH before your function and enc restored it after (counters decap and encap)",
		       c->sc.nodes[sf].name);
cleanup:
	for (int k = 0; k < 3; k++)
		if (fd[k] >= 0)
			close(fd[k]);
	if (cap)
		lab_cap_close(cap);
	free(cap);
	lab_stop(started);
	return 0;
}
