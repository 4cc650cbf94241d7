/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * No-drop rate search, RFC 2544 section 26.1 style: a binary search for the
 * highest offered rate whose loss stays within a threshold (0 % = NDR, e.g.
 * 0.5 % = PDR, as FD.io CSIT names them).
 *
 * The search does not know how traffic is made: every trial is a callback,
 * so it runs against a simulated path in unit tests and against loadgen
 * (loadgen_ndr_trial in exp/load_trial.h) for real.
 *
 * Errors: ndr_search returns 0 or a negative errno, with a one-line message
 * in err[errlen] (err may be NULL).
 */
#ifndef CADEIA_NDR_H
#define CADEIA_NDR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NDR_MAX_TRIALS_DEFAULT 32

/* One trial, as filled in by the callback (rate_pps, duration_s and
 * drain_s are set by the search before the call). */
struct ndr_trial {
	double rate_pps;     /* requested offered rate */
	double duration_s;   /* traffic time */
	double drain_s;      /* wait after the last send before counting */
	double achieved_pps; /* rate the generator really offered */
	uint64_t sent;
	uint64_t received;
	/* Derived by the search once the callback returns: */
	double loss_pct;     /* (sent - received) / sent * 100; 100 if nothing sent */
	bool gen_limited;    /* achieved_pps fell short of rate_pps: not a valid pass */
	bool pass;           /* loss within threshold and not gen_limited */
};

/* Runs one trial at t->rate_pps for t->duration_s, waits t->drain_s and
 * fills sent, received and achieved_pps. Returns 0, or a negative errno with
 * a message in err, which aborts the search. */
typedef int (*ndr_trial_fn)(void *arg, struct ndr_trial *t, char *err, size_t errlen);

struct ndr_opts {
	double lo_pps;             /* lower bound of the search, > 0 */
	double hi_pps;             /* upper bound, > lo_pps */
	double loss_threshold_pct; /* a trial passes if loss_pct <= this; 0 = NDR */
	double resolution_pct;     /* stop when hi - lo < resolution_pct % of hi */
	double duration_s;         /* per trial */
	double drain_s;            /* per trial */
	/* A trial whose achieved rate is more than this % below the requested
	 * one measured the generator, not the path: it fails and is flagged.
	 * 0 = 1 % default; negative = never. */
	double gen_tolerance_pct;
	unsigned max_trials;       /* 0 = NDR_MAX_TRIALS_DEFAULT */
	ndr_trial_fn trial;
	void *trial_arg;
	/* Called after every trial, e.g. to log it. */
	void (*progress)(void *arg, unsigned idx, const struct ndr_trial *t);
	void *progress_arg;
	volatile sig_atomic_t *stop; /* non-zero: return after the current trial */
};

struct ndr_result {
	double ndr_pps;       /* highest passing rate tried; 0 if none passed */
	double lo_pps, hi_pps; /* final bracket: lo passed (or bound), hi failed (or bound) */
	bool hi_passed;       /* the upper bound passed: the path is at least that fast */
	bool lo_failed;       /* even the lower bound failed: ndr_pps = 0 */
	bool converged;       /* the bracket shrank below the resolution */
	bool gen_limited;     /* some trial was generator-limited */
	int interrupted;      /* *stop became non-zero */
	unsigned ntrials;     /* trials run (and filled in trials[]) */
};

/*
 * Search: a trial at hi (pass: done, ndr = hi), one at lo (fail: done,
 * ndr = 0), then bisect [lo, hi] until hi - lo < resolution. Rates are
 * rounded to whole packets per second. trials[] receives every trial in the
 * order run, up to cap entries (ntrials may exceed cap only if cap is too
 * small; then the later ones are not stored).
 */
int ndr_search(const struct ndr_opts *o, struct ndr_trial *trials, size_t cap,
	       struct ndr_result *res, char *err, size_t errlen);

/* Applies the pass rule to a filled-in trial (sets loss_pct, gen_limited,
 * pass). Exposed for callers that run single trials at a fixed load. */
void ndr_judge(const struct ndr_opts *o, struct ndr_trial *t);

#endif /* CADEIA_NDR_H */
