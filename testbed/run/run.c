/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/arch.h"
#include "model/control.h"
#include "exp/fault_exp.h"
#include "exp/load_exp.h"
#include "traffic/probe.h"
#include "run/run_priv.h"
#include "backend/sff_ovs.h"
#include "run/schedule.h"
#include "run/throughput.h"

volatile sig_atomic_t run_stop;

static void on_signal(int sig)
{
	(void)sig;
	run_stop = 1;
}

void run_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int64_t run_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void progress(void *arg, unsigned sent, unsigned recv, double last_rtt_us)
{
	struct run *r = arg;
	const struct scenario *sc = r->sc;

	if (last_rtt_us > 0) {
		r->sum_rtt_us += last_rtt_us;
		r->n_rtt++;
	}
	fprintf(stderr,
		"\r\033[K%s %s: length %d (%d/%d) chain %s round %d/%u probe %u/%u  last %.3f ms  mean %.3f ms",
		sc->name, sc_arch_name(sc->arch), sc->lengths[r->li], r->li + 1, sc->n_lengths,
		sc->chains[r->c].name,
		r->round + 1, sc->measure.rounds, sent, sc->measure.per_round,
		last_rtt_us / 1000.0, r->n_rtt ? r->sum_rtt_us / r->n_rtt / 1000.0 : 0.0);
}

void run_note(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	/* Quiet when not on a terminal: logs get the final table only. */
	if (r->o->json || !r->o->progress)
		return;
	fprintf(stderr, "\r\033[K");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Proves the installed tables are the ones in effect: a few probes per
 * chain must make every node give exactly the fwd verdicts the control
 * plane expects (each SF as often as it appears, the SFF once per hop), and
 * no other node any.
 */
static int verify_path(struct run *r, const struct cp_tables *t, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	unsigned long long before[SC_MAX_NODES], after[SC_MAX_NODES];
	const unsigned probes = 3;
	int ret;

	/* A function the user starts (labs) may not run yet: the read-back of
	 * the tables is all that can be checked. */
	for (int c = 0; c < sc->n_chains; c++)
		for (int k = 0; k < cp_chain_length(sc, c, t->length); k++)
			if (sc->nodes[sc->chains[c].sfs[k]].fn == SC_FN_EXTERNAL)
				return 0;
	if ((ret = tb_sf_counts(r->tb, before, err, errlen)) < 0)
		return ret;
	for (int c = 0; c < sc->n_chains; c++) {
		const struct sc_chain *ch = &sc->chains[c];
		struct probe_sample s[3];
		struct probe_report rep;
		struct probe_opts po = {
			.src = sc->nodes[ch->src].ip,
			.dst = sc->nodes[ch->dest].ip, .icmp_size = sc->measure.icmp_size,
			.rate_pps = 100, .count = probes, .grace_ms = 500, .stop = &run_stop,
		};

		if ((ret = tb_probe(r->tb, ch->src, &po, s, &rep, err, errlen)) < 0)
			return ret;
		if (rep.interrupted)
			return -EINTR;
		/* A function that died fails the probes: say that, not "rules". */
		if (rep.received != probes && r->tb->ops->check(r->tb, err, errlen) < 0)
			return -ESRCH;
		if (rep.received != probes) {
			snprintf(err, errlen,
				 "%s, length %d, chain %s: only %u of %u check probes from %s reached %s and came back",
				 sc_arch_name(sc->arch), t->length, ch->name, rep.received, probes,
				 sc->nodes[ch->src].name, sc->nodes[ch->dest].name);
			return -EHOSTUNREACH;
		}
	}
	if ((ret = tb_sf_counts(r->tb, after, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes; i++) {
		if (after[i] - before[i] != (unsigned long long)t->expect[i] * probes &&
		    r->tb->ops->check(r->tb, err, errlen) < 0)
			return -ESRCH;
		if (after[i] - before[i] != (unsigned long long)t->expect[i] * probes) {
			snprintf(err, errlen,
				 "%s, length %d: node %s forwarded %llu check frames, expected %u: the installed rules are not in effect",
				 sc_arch_name(sc->arch), t->length, sc->nodes[i].name,
				 after[i] - before[i], t->expect[i] * probes);
			return -EIO;
		}
	}
	return 0;
}

/* Rounds rd_first .. rd_first + rd_count - 1 of one (chain, length) point. */
static int measure_point(struct run *r, int li, int c, unsigned rd_first, unsigned rd_count,
			 char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	const struct sc_chain *ch = &sc->chains[c];
	const struct sc_measure *m = &sc->measure;
	struct point *p = &r->pt[r->ai][c][li];
	size_t total = (size_t)m->rounds * m->per_round;
	struct probe_sample *s;
	int ret = 0;

	p->sfs = cp_chain_length(sc, c, sc->lengths[li]);
	/* An interleaved sweep comes back to this point once per round. */
	if (!p->rtt_ns)
		p->rtt_ns = calloc(total, sizeof(*p->rtt_ns));
	if (!p->round)
		p->round = calloc(total, sizeof(*p->round));
	s = calloc(m->per_round, sizeof(*s));
	if (!p->rtt_ns || !p->round || !s) {
		free(s);
		snprintf(err, errlen, "out of memory for %zu probes", total);
		return -ENOMEM;
	}
	r->li = li;
	r->c = c;
	r->sum_rtt_us = 0;
	r->n_rtt = 0;
	for (unsigned rd = rd_first; rd < rd_first + rd_count && rd < m->rounds && !run_stop; rd++) {
		struct probe_report rep;
		struct probe_opts po = {
			.src = sc->nodes[ch->src].ip,
			.dst = sc->nodes[ch->dest].ip, .icmp_size = m->icmp_size,
			.rate_pps = m->rate_pps, .count = m->per_round,
			.warmup = rd == rd_first ? m->warmup : 0, .grace_ms = m->grace_ms,
			.stop = &run_stop,
			.progress = r->o->progress ? progress : NULL, .progress_arg = r,
		};

		r->round = rd;
		if ((ret = r->tb->ops->check(r->tb, err, errlen)) < 0)
			break;
		if ((ret = tb_probe(r->tb, ch->src, &po, s, &rep, err, errlen)) < 0)
			break;
		for (unsigned k = 0; k < rep.sent; k++) {
			p->rtt_ns[p->n] = s[k].rtt_ns;
			p->round[p->n] = rd;
			p->n++;
			fprintf(r->res.raw, "%s,%s,%d,%u,%u,%lld,", sc_arch_name(sc->arch), ch->name,
				p->sfs, rd, s[k].seq, (long long)s[k].tx_ns);
			if (s[k].rtt_ns >= 0)
				fprintf(r->res.raw, "%.3f,0,%s\n", s[k].rtt_ns / 1000.0,
					s[k].ts_kernel ? "kernel" : "user");
			else
				fprintf(r->res.raw, ",1,\n");
		}
		/* A full disk stops the sweep: nothing measured later could be kept. */
		if ((ret = res_raw_flush(&r->res, err, errlen)) < 0)
			break;
		p->kernel_ts += rep.kernel_ts;
		p->user_ts += rep.user_ts;
		p->achieved_pps = rep.achieved_pps;
		cpuplace_note_prober(&r->pl);
		if (rep.interrupted)
			break;
	}
	free(s);
	if (p->n > 0) {
		char serr[256];

		if (stats_length_compute(p->rtt_ns, p->round, p->n, &p->st, serr, sizeof(serr)) == 0)
			p->measured = true;
	}
	return ret;
}

static void log_teardown(const char *what, void *arg)
{
	(void)what;
	(void)arg;
}

int run_set_length(void *arg, int length, char *err, size_t errlen)
{
	struct run *r = arg;
	static struct cp_tables t;
	int ret;

	if ((ret = cp_compute(r->sc, length, &t, err, errlen)) < 0 ||
	    (ret = tb_install(r->tb, &t, err, errlen)) < 0 ||
	    (ret = verify_path(r, &t, err, errlen)) < 0)
		return ret;
	return 0;
}

static int run_load(struct run *r, char *err, size_t errlen)
{
	struct load_exp_ctx x = { .tb = r->tb, .stop = &run_stop, .progress = r->o->progress,
				  .set_length = run_set_length, .arg = r };

	if (!r->ndr) {
		r->ndr = json_array();
		r->latency = json_array();
	}
	r->scx[r->ai].load.cpu = cpuplace_loadgen_cpu(&r->pl, r->sc);
	return load_exp_run(&x, r->ndr, r->latency, err, errlen);
}

static void fault_note(void *arg, const char *line)
{
	run_note(arg, "%s", line);
}

static void tput_note(void *arg, const char *line)
{
	run_note(arg, "%s", line);
}

/* TCP goodput per chain length with iperf3 (run/throughput.h). */
static int run_throughput(struct run *r, char *err, size_t errlen)
{
	struct tput_ctx x = { .tb = r->tb, .stop = &run_stop, .set_length = run_set_length,
			      .note = tput_note, .arg = r };

	if (!r->throughput)
		r->throughput = json_array();
	return tput_run(&x, r->throughput, err, errlen);
}

static int run_fault(struct run *r, char *err, size_t errlen)
{
	struct fault_exp_ctx x = { .tb = r->tb, .stop = &run_stop, .set_length = run_set_length,
				   .note = fault_note, .arg = r };

	if (!r->faults)
		r->faults = json_array();
	return fault_exp_run(&x, r->faults, err, errlen);
}

/* Makes architecture ai the current one: its scenario, its testbed, and its
 * run id's ownership mark for whatever gets created next. */
static void run_select(struct run *r, int ai)
{
	r->ai = ai;
	r->sc = &r->scx[ai];
	r->tb = &r->tbs[ai];
	rs_make_current(ai == 0 ? &r->rs : &r->sub_rs[ai]);
}

/*
 * Architecture ai's testbed. Beyond the first, each gets a run id of its
 * own (the testbeds are up together and their names would collide),
 * recorded with "parent": the run's id, so `down <id>` removes them too.
 */
static int build_arch(struct run *r, int ai, char *err, size_t errlen)
{
	const struct scenario *sc0 = r->sc0;
	struct runstate *rs = ai == 0 ? &r->rs : &r->sub_rs[ai];
	int ret;

	r->scx[ai] = *sc0;
	if ((ret = arch_expand(&r->scx[ai], sc0->archs[ai], err, errlen)) < 0)
		return ret;
	if (ai > 0) {
		if ((ret = rs_create(rs, sc0->path, r->o->up_only ? "up" : "run", err, errlen)) < 0)
			return ret;
		rs_set(rs, "parent", json_string(r->rs.id));
		if (!r->o->up_only)
			rs_set(rs, "results", json_string(r->res.stage));
	}
	run_select(r, ai);
	r->tb->ops = r->tbs[0].ops;
	r->tb->log_dir = r->tbs[0].log_dir;
	r->tb->detach_functions = r->tbs[0].detach_functions;
	run_note(r, "run %s: building the %s testbed for %s, %s (%d nodes)", rs->id,
		 sc_backend_name(sc0->backend), sc0->name, sc_arch_name(r->sc->arch), r->sc->n_nodes);
	r->built[ai] = true; /* half-built too: its functions must be stopped */
	return tb_build(r->tb, r->sc, rs, err, errlen);
}

/* `up`: the first architecture's testbed with one length installed. */
static int run_up(struct run *r, char *err, size_t errlen)
{
	static struct cp_tables t;
	int len = r->o->length >= 0 ? r->o->length : sc_max_length(r->sc), ret;

	if ((ret = build_arch(r, 0, err, errlen)) < 0 ||
	    (ret = cp_compute(r->sc, len, &t, err, errlen)) < 0 ||
	    (ret = tb_install(r->tb, &t, err, errlen)) < 0 ||
	    (ret = verify_path(r, &t, err, errlen)) < 0)
		return ret;
	return 0;
}

/* SF i is in one of the chains at this length. */
static bool sf_in_chains(const struct scenario *sc, int i, int length)
{
	for (int c = 0; c < sc->n_chains; c++)
		for (int k = 0; k < cp_chain_length(sc, c, length); k++)
			if (sc->chains[c].sfs[k] == i)
				return true;
	return false;
}

/* Node i carries traffic at this length: all but the SFs outside every
 * chain (and their proxies). */
static bool node_active(const struct scenario *sc, int i, int length)
{
	const struct sc_node *n = &sc->nodes[i];

	if (n->role == SC_ROLE_SF)
		return sf_in_chains(sc, i, length);
	if (n->role == SC_ROLE_PROXY)
		return n->peer >= 0 && sf_in_chains(sc, n->peer, length);
	return true;
}

/*
 * Guests not in the measured chain, paused (measure.idle_guests): under
 * TCG an idle guest still costs the host CPU. Before the rules change,
 * every other architecture's testbed is paused whole and this one's active
 * nodes run; after the check, its idle nodes are paused. A node whose
 * tables change runs for the write (tb_install) and the check counts a
 * paused node as forwarding nothing, which it cannot.
 */
static int park(struct run *r, int length, bool after_check, char *err, size_t errlen)
{
	int ret;

	if (r->sc0->measure.idle_run || !tb_can_pause(r->tb))
		return 0;
	for (int aj = 0; aj < SC_ARCH__COUNT && !after_check; aj++)
		for (int i = 0; aj != r->ai && r->built[aj] && i < r->tbs[aj].sc->n_nodes; i++)
			if ((ret = tb_pause(&r->tbs[aj], i, true, err, errlen)) < 0)
				return ret;
	for (int i = 0; i < r->sc->n_nodes; i++) {
		bool active = node_active(r->sc, i, length);

		if (!after_check && !active) /* paused after the check */
			continue;
		if ((ret = tb_pause(r->tb, i, !active, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/*
 * One visit: architecture ai at length li, every chain, the visit's rounds.
 * Rules change when the length differs from what that testbed has, each
 * change proven by the read-back check.
 */
static int run_visit(struct run *r, const struct sched_visit *v, int n_lengths, int *cur_li,
		     char *err, size_t errlen)
{
	static struct cp_tables t;
	int ai = v->li / n_lengths, li = v->li % n_lengths, ret = 0;
	const struct scenario *sc;
	int64_t t0 = run_now_ns();

	run_select(r, ai);
	sc = r->sc;
	if ((ret = park(r, sc->lengths[li], false, err, errlen)) < 0)
		return ret;
	if (li != cur_li[ai] &&
	    ((ret = cp_compute(sc, sc->lengths[li], &t, err, errlen)) < 0 ||
	     (ret = tb_install(r->tb, &t, err, errlen)) < 0 ||
	     (ret = verify_path(r, &t, err, errlen)) < 0))
		return ret;
	if ((ret = park(r, sc->lengths[li], true, err, errlen)) < 0)
		return ret;
	cur_li[ai] = li;
	for (int c = 0; c < sc->n_chains && !run_stop; c++) {
		struct point *p = &r->pt[ai][c][li];

		if ((ret = measure_point(r, li, c, v->round_first, v->rounds, err, errlen)) < 0)
			break;
		if (p->measured && v->round_first + v->rounds >= sc->measure.rounds)
			run_note(r, "%s length %d chain %s: mean %.4f ms, median %.4f ms, lost %u",
				 sc_arch_name(sc->arch), p->sfs, sc->chains[c].name,
				 p->st.mean_us / 1000, p->st.median_us / 1000, p->st.lost);
	}
	r->sweep_ns[ai] += run_now_ns() - t0;
	return ret;
}

/*
 * The latency sweep over every architecture and length. Interleaved, a
 * round visits each (architecture, length) once in a shuffled order, so a
 * drift of the machine lands on all architectures alike; sequential, each
 * architecture in turn, each length in turn (the paper's order).
 */
static int run_sweep(struct run *r, char *err, size_t errlen)
{
	const struct scenario *sc0 = r->sc0;
	struct sched_visit *visits = NULL;
	int cur_li[SC_ARCH__COUNT], ret;
	size_t n_visits = 0;

	for (int ai = 0; ai < SC_ARCH__COUNT; ai++)
		cur_li[ai] = -1;
	if ((ret = sched_build(sc0->measure.order == SC_ORDER_SEQUENTIAL ? SCHED_SEQUENTIAL
									 : SCHED_INTERLEAVED,
			       r->sched_seed, sc0->n_archs * sc0->n_lengths, sc0->measure.rounds,
			       &visits, &n_visits, err, errlen)) < 0)
		return ret;
	if ((ret = cpuplace_pin_prober(&r->pl, err, errlen)) < 0) {
		free(visits);
		return ret;
	}
	for (size_t k = 0; k < n_visits && !run_stop && ret >= 0; k++)
		ret = run_visit(r, &visits[k], sc0->n_lengths, cur_li, err, errlen);
	/* Every guest runs again: the experiments, the logs and the stop need them. */
	for (int ai = 0; ai < sc0->n_archs; ai++) {
		char e[512];

		if (r->built[ai] && tb_resume_all(&r->tbs[ai], e, sizeof(e)) < 0 && ret >= 0) {
			snprintf(err, errlen, "%s", e);
			ret = -EIO;
		}
	}
	/* Where the functions are, read while they still run; then the prober lets go. */
	for (int ai = 0; ai < sc0->n_archs; ai++) {
		run_select(r, ai);
		cpuplace_read_functions(&r->pl, r->tb, sc_arch_name(r->sc->arch));
	}
	cpuplace_unpin_prober(&r->pl);
	free(visits);
	return ret;
}

/* The experiments after the sweep, on each architecture's testbed in turn. */
static int run_experiments(struct run *r, char *err, size_t errlen)
{
	int ret = 0;

	for (int ai = 0; ai < r->sc0->n_archs && !run_stop && ret >= 0; ai++) {
		const struct scenario *sc;

		run_select(r, ai);
		sc = r->sc;
		if (sc->load.n_sizes > 0 && !run_stop && (ret = run_load(r, err, errlen)) < 0)
			break;
		if (sc->throughput.enabled && !run_stop &&
		    (ret = run_throughput(r, err, errlen)) < 0)
			break;
		if (sc->fault.n > 0 && !run_stop)
			ret = run_fault(r, err, errlen);
	}
	return ret;
}

/* Whether this scenario can run at all: 0, or the exit code (2). */
static int run_refused(const struct scenario *sc, const struct backend_ops *ops)
{
	char err[1024];

	if (sc->load.n_sizes > 0 && sc->backend != SC_BACKEND_NETNS) {
		fprintf(stderr, "%s: the load experiment runs on the netns backend only\n", sc->path);
		return 2;
	}
	if (!ops) {
		fprintf(stderr, "%s: backend '%s' is not available yet; use \"backend\": \"netns\"\n",
			sc->path, sc_backend_name(sc->backend));
		return 2;
	}
	if (ops->supports && ops->supports(sc, err, sizeof(err)) < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		return 2;
	}
	return 0;
}

/* The run's state, its results directory and where logs go: 0, or the
 * exit code (nothing is left behind then). */
static int run_open(struct run *r, char *fnlogs, size_t len)
{
	const struct scenario *sc = r->sc0;
	const struct run_opts *o = r->o;
	char err[1024];
	int rc = 0;

	if (rs_create(&r->rs, sc->path, o->up_only ? "up" : "run", err, sizeof(err)) < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		return 1;
	}
	/* Refuse an unavailable architecture before measuring any other. */
	for (int k = 0; k < sc->n_archs && !rc; k++)
		if (sc->archs[k] == SC_ARCH_OVS_NSH && sc->backend == SC_BACKEND_NETNS &&
		    sff_ovs_available(r->rs.id, err, sizeof(err)) < 0)
			rc = 2;
	if (!rc && !o->up_only &&
	    res_open(&r->res, o->results_root, sc->name, r->rs.id, err, sizeof(err)) < 0)
		rc = 1;
	if (rc) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		rs_teardown(&r->rs, NULL, NULL);
		rs_close(&r->rs);
		return rc;
	}
	if (!o->up_only) {
		rs_set(&r->rs, "results", json_string(r->res.stage));
		res_path(&r->res, ".", fnlogs, len);
	} else {
		/* Detached functions must not hold the caller's stdout open (a
		 * shell's $(cadeia-bench up ...) would wait for them forever). */
		snprintf(fnlogs, len, RS_DIR "/%s", r->rs.id);
		mkdir(fnlogs, 0755);
	}
	r->tbs[0].log_dir = fnlogs;
	r->tbs[0].detach_functions = o->up_only;
	return 0;
}

/* Every architecture's testbed, then the sweep across them and the
 * experiments; `up` builds the first only. */
static int run_archs(struct run *r, char *err, size_t errlen)
{
	int ret = 0;

	if (r->o->up_only)
		return run_up(r, err, errlen);
	for (int ai = 0; ai < r->sc0->n_archs && !run_stop && ret >= 0; ai++)
		ret = build_arch(r, ai, err, errlen);
	if (ret >= 0 && !run_stop)
		ret = run_sweep(r, err, errlen);
	if (ret >= 0 && !run_stop)
		ret = run_experiments(r, err, errlen);
	return ret;
}

/* Stops the functions of every testbed built (their logs are complete then). */
static void run_stop_testbeds(struct run *r)
{
	for (int ai = 0; ai < SC_ARCH__COUNT; ai++)
		if (r->built[ai])
			r->tbs[ai].ops->stop(&r->tbs[ai]);
}

/* Removes what each architecture's own run id owns (beyond the run's
 * own); the number of ids that left something behind. */
static int run_teardown_subs(struct run *r)
{
	int left = 0;

	for (int ai = 1; ai < SC_ARCH__COUNT; ai++) {
		if (!r->sub_rs[ai].doc)
			continue;
		rs_make_current(&r->sub_rs[ai]);
		if (rs_teardown(&r->sub_rs[ai], log_teardown, NULL) > 0) {
			fprintf(stderr, "cadeia-bench: teardown of run %s left something behind; `cadeia-bench down %s` retries\n",
				r->sub_rs[ai].id, r->sub_rs[ai].id);
			left++;
		}
		rs_close(&r->sub_rs[ai]);
	}
	rs_make_current(&r->rs);
	return left;
}

/* Results written and moved into place, the testbed torn down; the exit
 * code, worsened by any failure on the way. */
static int run_close(struct run *r, const char *status, const char *reason, int rc,
		     json_t **summary)
{
	char werr[1024];

	if (!r->o->up_only) {
		run_stop_testbeds(r);
		if (report_write(r, status, reason, summary, werr, sizeof(werr)) < 0) {
			fprintf(stderr, "cadeia-bench: %s\n", werr);
			if (!rc)
				rc = 1;
		}
		if (res_finish(&r->res, reason, werr, sizeof(werr)) < 0) {
			/* Renamed "<final>.incomplete", or left in the staging directory. */
			fprintf(stderr, "cadeia-bench: %s\n", werr);
			if (!rc)
				rc = 1;
		}
	}
	if (run_teardown_subs(r) > 0 && !rc)
		rc = 1;
	if (rs_teardown(&r->rs, log_teardown, NULL) > 0) {
		fprintf(stderr, "cadeia-bench: teardown of run %s left something behind; `cadeia-bench down %s` retries\n",
			r->rs.id, r->rs.id);
		if (!rc)
			rc = 1;
	}
	rs_close(&r->rs);
	return rc;
}

/* summary.json on stdout (--json), or the tables and where the files are. */
static void run_print(struct run *r, json_t *summary, int rc)
{
	if (r->o->up_only || !summary)
		return;
	if (r->o->json) {
		json_object_set_new(summary, "results", json_string(r->res.final));
		json_dumpf(summary, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		return;
	}
	report_print(r, summary);
	printf("results: %s%s\n", r->res.final, rc ? " (incomplete)" : "");
	printf("plot:    %s/plots/fig6.png\n", r->res.final);
	if (r->latency)
		printf("load:    %s/plots/load.png\n", r->res.final);
	if (r->throughput)
		printf("tcp:     %s/plots/throughput.png\n", r->res.final);
}

static void run_free(struct run *r)
{
	json_decref(r->faults);
	for (int ai = 0; ai < SC_ARCH__COUNT; ai++) {
		json_decref(r->tbs[ai].info);
		free(r->tbs[ai].installed);
	}
	json_decref(r->ndr);
	json_decref(r->latency);
	cpuplace_free(&r->pl);
	json_decref(r->throughput);
	for (int ai = 0; ai < SC_ARCH__COUNT; ai++)
		for (int c = 0; c < SC_MAX_CHAINS; c++)
			for (int li = 0; li < SC_MAX_LENGTHS; li++) {
				free(r->pt[ai][c][li].rtt_ns);
				free(r->pt[ai][c][li].round);
			}
}

int run_scenario(const struct scenario *sc, const struct run_opts *o)
{
	static struct run r;
	char err[1024] = "", fnlogs[1300], reason[1100] = "";
	const char *status = "complete";
	json_t *summary = NULL;
	int ret, rc = 0;

	memset(&r, 0, sizeof(r));
	r.sc0 = sc;
	/* One visit order for every architecture: round r sees the same lengths in the same order. */
	r.sched_seed = sc->measure.seed_set ? sc->measure.seed : sched_random_seed();
	cpuplace_init(&r.pl, sc);
	r.o = o;
	res_utc_now(r.started, sizeof(r.started));
	r.tbs[0].ops = backend_for(sc->backend);
	r.tb = &r.tbs[0];
	r.sc = sc;
	if ((rc = run_refused(sc, r.tbs[0].ops)) != 0 || (rc = run_open(&r, fnlogs, sizeof(fnlogs))) != 0)
		return rc;
	ret = run_archs(&r, err, sizeof(err));
	if (ret == 0 && o->up_only) {
		rs_set(&r.rs, "pid", json_integer(0)); /* owned by `down` now */
		printf("%s\n", r.rs.id);
		run_note(&r, "run %s is up; `cadeia-bench down %s` removes it", r.rs.id, r.rs.id);
		rs_close(&r.rs);
		return 0;
	}
	if (ret < 0 && ret != -EINTR) {
		status = run_stop ? "incomplete" : "failed";
		snprintf(reason, sizeof(reason), "%s", run_stop ? "interrupted by a signal" : err);
		fprintf(stderr, "\ncadeia-bench: %s\n", err);
		rc = run_stop ? 3 : 1;
	} else if (run_stop) {
		status = "incomplete";
		snprintf(reason, sizeof(reason), "interrupted by a signal");
		rc = 3;
	}
	rc = run_close(&r, status, *reason ? reason : NULL, rc, &summary);
	run_print(&r, summary, rc);
	json_decref(summary);
	run_free(&r);
	return rc;
}
