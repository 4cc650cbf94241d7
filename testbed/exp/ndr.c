// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* No-drop rate binary search; see ndr.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sys/errmsg.h"
#include "exp/ndr.h"

#define GEN_TOLERANCE_DEFAULT_PCT 1.0

void ndr_judge(const struct ndr_opts *o, struct ndr_trial *t)
{
	double tol = o->gen_tolerance_pct == 0 ? GEN_TOLERANCE_DEFAULT_PCT
					       : o->gen_tolerance_pct;

	/* Signed: more received than sent (duplicates) shows as negative loss. */
	t->loss_pct = t->sent ? ((double)t->sent - (double)t->received) * 100.0 / (double)t->sent
			      : 100.0;
	t->gen_limited = tol >= 0 && t->achieved_pps < t->rate_pps * (1.0 - tol / 100.0);
	t->pass = t->sent && !t->gen_limited && t->loss_pct <= o->loss_threshold_pct;
}

static int check_opts(const struct ndr_opts *o, char *err, size_t errlen)
{
	if (!o->trial)
		return set_err(err, errlen, "ndr: no trial function"), -EINVAL;
	if (!(o->lo_pps > 0) || !(o->hi_pps > o->lo_pps) || !isfinite(o->hi_pps))
		return set_err(err, errlen, "ndr: bounds must satisfy 0 < lo < hi (lo %g, hi %g)",
			       o->lo_pps, o->hi_pps), -EINVAL;
	if (!(o->loss_threshold_pct >= 0) || o->loss_threshold_pct >= 100)
		return set_err(err, errlen, "ndr: loss threshold %g %% outside [0, 100)",
			       o->loss_threshold_pct), -EINVAL;
	if (!(o->resolution_pct > 0) || o->resolution_pct >= 100)
		return set_err(err, errlen, "ndr: resolution %g %% outside (0, 100)",
			       o->resolution_pct), -EINVAL;
	if (!(o->duration_s > 0) || !(o->drain_s >= 0))
		return set_err(err, errlen, "ndr: trial duration %g s / drain %g s invalid",
			       o->duration_s, o->drain_s), -EINVAL;
	return 0;
}

struct search {
	const struct ndr_opts *o;
	struct ndr_trial *trials;
	size_t cap;
	struct ndr_result *res;
	unsigned max;
};

/* Runs one trial; 1 = passed, 0 = failed, < 0 = error. */
static int run_trial(struct search *s, double rate, char *err, size_t errlen)
{
	const struct ndr_opts *o = s->o;
	struct ndr_trial t = {
		.rate_pps = rate,
		.duration_s = o->duration_s,
		.drain_s = o->drain_s,
	};
	int r;

	r = o->trial(o->trial_arg, &t, err, errlen);
	if (r < 0)
		return r;
	/* The callback owns only its outputs. */
	t.rate_pps = rate;
	t.duration_s = o->duration_s;
	t.drain_s = o->drain_s;
	ndr_judge(o, &t);
	if (t.gen_limited)
		s->res->gen_limited = true;
	if (s->res->ntrials < s->cap)
		s->trials[s->res->ntrials] = t;
	if (o->progress)
		o->progress(o->progress_arg, s->res->ntrials, &t);
	s->res->ntrials++;
	return t.pass;
}

static bool stopped(const struct ndr_opts *o)
{
	return o->stop && *o->stop;
}

int ndr_search(const struct ndr_opts *o, struct ndr_trial *trials, size_t cap,
	       struct ndr_result *res, char *err, size_t errlen)
{
	struct search s = { .o = o, .trials = trials, .cap = trials ? cap : 0, .res = res };
	double lo, hi;
	int r;

	memset(res, 0, sizeof(*res));
	r = check_opts(o, err, errlen);
	if (r < 0)
		return r;
	s.max = o->max_trials ? o->max_trials : NDR_MAX_TRIALS_DEFAULT;
	lo = round(o->lo_pps);
	hi = round(o->hi_pps);
	res->lo_pps = lo;
	res->hi_pps = hi;

	/* Most chains are slower than the bound: its trial usually fails, but
	 * it settles the "faster than we can measure" case at once. */
	r = run_trial(&s, hi, err, errlen);
	if (r < 0)
		return r;
	if (r) {
		res->hi_passed = true;
		res->converged = true;
		res->ndr_pps = hi;
		return 0;
	}
	if (stopped(o))
		goto interrupted;

	r = run_trial(&s, lo, err, errlen);
	if (r < 0)
		return r;
	if (!r) {
		res->lo_failed = true;
		res->converged = true;
		return 0;
	}
	res->ndr_pps = lo;

	while (hi - lo >= hi * o->resolution_pct / 100.0) {
		double mid = round((lo + hi) / 2);

		if (stopped(o))
			goto interrupted;
		/* Whole pps: a bracket of 1 pps cannot shrink further. */
		if (mid <= lo || mid >= hi || res->ntrials >= s.max)
			break;
		r = run_trial(&s, mid, err, errlen);
		if (r < 0)
			return r;
		if (r)
			lo = mid;
		else
			hi = mid;
		res->lo_pps = lo;
		res->hi_pps = hi;
	}
	res->ndr_pps = lo;
	res->converged = hi - lo < hi * o->resolution_pct / 100.0;
	return 0;

interrupted:
	res->interrupted = 1;
	return 0;
}
