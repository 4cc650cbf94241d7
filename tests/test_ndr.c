// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* testbed/exp/ndr.c against simulated paths whose limits are known. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exp/ndr.h"
#include "tap.h"

/* A path that forwards up to limit_pps and drops the excess, optionally
 * losing base_loss of everything; a generator that cannot exceed gen_max. */
struct sim {
	double limit_pps;
	double base_loss; /* fraction */
	double gen_max;   /* 0 = unlimited */
	unsigned calls;
	int fail_at_call; /* 1-based; 0 = never */
	volatile sig_atomic_t *stop_after; /* set after the first call */
};

static int sim_trial(void *arg, struct ndr_trial *t, char *err, size_t errlen)
{
	struct sim *s = arg;
	double offered = t->rate_pps, fwd;

	s->calls++;
	if (s->fail_at_call && (int)s->calls == s->fail_at_call) {
		snprintf(err, errlen, "sim: trial %u exploded", s->calls);
		return -EIO;
	}
	if (s->stop_after)
		*s->stop_after = 1;
	if (s->gen_max && offered > s->gen_max)
		offered = s->gen_max;
	t->achieved_pps = offered;
	t->sent = (uint64_t)llround(offered * t->duration_s);
	fwd = offered > s->limit_pps ? s->limit_pps : offered;
	t->received = (uint64_t)floor(fwd * t->duration_s * (1.0 - s->base_loss));
	/* Garbage the search must overwrite. */
	t->pass = !t->pass;
	t->loss_pct = -42;
	return 0;
}

static void init(struct ndr_opts *o, struct sim *s)
{
	memset(o, 0, sizeof(*o));
	o->lo_pps = 1000;
	o->hi_pps = 100000;
	o->resolution_pct = 1;
	o->duration_s = 2;
	o->drain_s = 0.1;
	o->trial = sim_trial;
	o->trial_arg = s;
}

/* Every stored trial agrees with the pass rule and the bracket is sound. */
static int consistent(const struct ndr_trial *t, unsigned n, double pass_max,
		      const struct ndr_result *r)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (t[i].pass != (t[i].rate_pps <= pass_max))
			return 0;
		if (t[i].duration_s != 2 || t[i].drain_s != 0.1)
			return 0;
		if (t[i].rate_pps != round(t[i].rate_pps))
			return 0;
	}
	return r->lo_pps <= pass_max && r->hi_pps > pass_max;
}

static void test_ndr_zero_loss(void)
{
	struct sim s = { .limit_pps = 37000 };
	struct ndr_trial t[64];
	struct ndr_result r;
	struct ndr_opts o;
	char err[256] = "";
	int rc;

	init(&o, &s);
	rc = ndr_search(&o, t, 64, &r, err, sizeof(err));
	CHECK(rc == 0, "NDR search on a 37000 pps path returns 0 (%s)", err);
	CHECK(r.ndr_pps <= 37000, "NDR %.0f pps is not above the limit", r.ndr_pps);
	CHECK(37000 - r.ndr_pps < 0.01 * r.hi_pps,
	      "NDR %.0f within 1 %% of the final hi %.0f of the limit", r.ndr_pps, r.hi_pps);
	CHECK(r.converged && !r.hi_passed && !r.lo_failed && !r.gen_limited && !r.interrupted,
	      "converged, no flags set");
	CHECK(r.ntrials == s.calls && r.ntrials >= 3 && r.ntrials <= 2 + 14,
	      "%u trials, one per callback, log2-bounded", r.ntrials);
	CHECK(t[0].rate_pps == 100000 && !t[0].pass && t[1].rate_pps == 1000 && t[1].pass,
	      "first trial at hi fails, second at lo passes");
	CHECK(consistent(t, r.ntrials, 37000, &r),
	      "every trial passes iff rate <= 37000; bracket [%.0f, %.0f] straddles it",
	      r.lo_pps, r.hi_pps);
	CHECK(fabs(t[0].loss_pct - 63.0) < 0.01,
	      "loss at 100000 pps is 63 %% (%.3f)", t[0].loss_pct);
	CHECK(t[1].loss_pct == 0, "loss at 1000 pps is 0");
}

static void test_pdr_threshold(void)
{
	struct sim s = { .limit_pps = 37000 };
	struct ndr_trial t[64];
	struct ndr_result r;
	struct ndr_opts o;
	char err[256] = "";
	/* loss = 1 - limit/rate <= 0.5 %  <=>  rate <= limit / 0.995 */
	double pdr_max = 37000 / 0.995;
	int rc;

	init(&o, &s);
	o.loss_threshold_pct = 0.5;
	o.resolution_pct = 0.1;
	rc = ndr_search(&o, t, 64, &r, err, sizeof(err));
	CHECK(rc == 0, "PDR 0.5 %% search returns 0");
	CHECK(r.ndr_pps > 37000 && r.ndr_pps <= pdr_max,
	      "PDR %.0f lies above the zero-loss limit and at most %.1f", r.ndr_pps, pdr_max);
	CHECK(pdr_max - r.ndr_pps < 0.001 * r.hi_pps, "PDR within the 0.1 %% resolution");
	CHECK(r.lo_pps <= pdr_max && r.hi_pps > 37000, "bracket [%.0f, %.0f]", r.lo_pps, r.hi_pps);
}

static void test_base_loss(void)
{
	struct sim s = { .limit_pps = 50000, .base_loss = 0.001 };
	struct ndr_result r;
	struct ndr_opts o;
	char err[256] = "";
	int rc;

	init(&o, &s);
	rc = ndr_search(&o, NULL, 0, &r, err, sizeof(err));
	CHECK(rc == 0 && r.lo_failed &&
	      r.ndr_pps == 0 && r.ntrials == 2,
	      "0.1 %% loss everywhere: NDR (0 %%) fails at lo, ndr 0, 2 trials");

	s.calls = 0;
	o.loss_threshold_pct = 0.5;
	rc = ndr_search(&o, NULL, 0, &r, err, sizeof(err));
	CHECK(rc == 0 && !r.lo_failed &&
	      r.ndr_pps > 50000 && r.ndr_pps <= 50000 * 0.999 / 0.995 + 1,
	      "same path, 0.5 %% threshold: PDR %.0f just above the 50000 limit", r.ndr_pps);
}

static void test_bounds(void)
{
	struct sim s = { .limit_pps = 1e6 };
	struct ndr_trial t[4];
	struct ndr_result r;
	struct ndr_opts o;
	char err[256] = "";
	int rc;

	init(&o, &s);
	rc = ndr_search(&o, t, 4, &r, err, sizeof(err));
	CHECK(rc == 0 && r.hi_passed &&
	      r.ndr_pps == 100000 && r.ntrials == 1 && t[0].pass,
	      "path faster than hi: one trial, hi_passed, ndr = hi");

	s = (struct sim){ .limit_pps = 500 };
	rc = ndr_search(&o, t, 4, &r, err, sizeof(err));
	CHECK(rc == 0 && r.lo_failed &&
	      r.ndr_pps == 0 && r.ntrials == 2 && !t[1].pass,
	      "path slower than lo: two trials, lo_failed, ndr = 0");
}

static void test_gen_limited(void)
{
	struct sim s = { .limit_pps = 37000, .gen_max = 20000 };
	struct ndr_trial t[64];
	struct ndr_result r;
	struct ndr_opts o;
	char err[256] = "";
	unsigned i, flagged = 0, bad = 0;
	int rc;

	init(&o, &s);
	rc = ndr_search(&o, t, 64, &r, err, sizeof(err));
	CHECK(rc == 0, "generator-limited search runs");
	CHECK(r.gen_limited, "result flags the generator limit");
	/* Within the 1 % tolerance a rate up to 20000 / 0.99 still counts. */
	CHECK(r.ndr_pps <= 20000 / 0.99 && r.ndr_pps >= 20000 * 0.99,
	      "no pass claimed beyond what the generator achieved (ndr %.0f)", r.ndr_pps);
	for (i = 0; i < r.ntrials; i++) {
		flagged += t[i].gen_limited;
		bad += t[i].gen_limited && (t[i].pass || t[i].loss_pct != 0);
	}
	CHECK(flagged >= 1 && !bad, "%u trials flagged generator-limited, all failed at 0 %% loss",
	      flagged);

	s.calls = 0;
	o.gen_tolerance_pct = -1;
	rc = ndr_search(&o, t, 64, &r, err, sizeof(err));
	CHECK(rc == 0 && r.hi_passed && !r.gen_limited,
	      "with the check disabled the short generator fakes a pass at hi");
}

static unsigned progress_calls, progress_bad;

static void on_progress(void *arg, unsigned idx, const struct ndr_trial *t)
{
	if (idx != progress_calls || arg != &progress_calls)
		progress_bad++;
	progress_calls++;
}

static void test_progress_stop_max(void)
{
	volatile sig_atomic_t stop = 0;
	struct sim s = { .limit_pps = 37000 };
	struct ndr_trial t[64];
	struct ndr_result r;
	struct ndr_opts o;
	char err[256] = "";
	int rc;

	init(&o, &s);
	o.progress = on_progress;
	o.progress_arg = &progress_calls;
	rc = ndr_search(&o, t, 64, &r, err, sizeof(err));
	CHECK(rc == 0 &&
	      progress_calls == r.ntrials && !progress_bad,
	      "progress called once per trial, in order (%u)", progress_calls);

	s.calls = 0;
	o.progress = NULL;
	o.max_trials = 5;
	rc = ndr_search(&o, t, 64, &r, err, sizeof(err));
	CHECK(rc == 0 && r.ntrials == 5 &&
	      !r.converged && r.ndr_pps == r.lo_pps && r.ndr_pps <= 37000,
	      "max_trials 5: stops unconverged at 5 trials with ndr = lo %.0f", r.ndr_pps);

	s.calls = 0;
	o.max_trials = 0;
	o.stop = &stop;
	s.stop_after = &stop;
	rc = ndr_search(&o, t, 64, &r, err, sizeof(err));
	CHECK(rc == 0 && r.interrupted &&
	      r.ntrials == 1, "stop flag: returns after the running trial");

	s = (struct sim){ .limit_pps = 37000 };
	o.stop = NULL;
	rc = ndr_search(&o, t, 2, &r, err, sizeof(err));
	CHECK(rc == 0 && r.ntrials > 2 &&
	      t[0].rate_pps == 100000 && t[1].rate_pps == 1000,
	      "a short trials[] keeps the first entries, search still completes");
}

static void test_errors(void)
{
	struct sim s = { .limit_pps = 37000, .fail_at_call = 3 };
	struct ndr_result r;
	struct ndr_opts o;
	char err[256] = "";
	int rc;

	init(&o, &s);
	rc = ndr_search(&o, NULL, 0, &r, err, sizeof(err));
	CHECK(rc == -EIO &&
	      strstr(err, "trial 3 exploded") && r.ntrials == 2,
	      "callback error aborts the search with its message: %s", err);

	init(&o, &s);
	o.lo_pps = 5000;
	o.hi_pps = 5000;
	err[0] = '\0';
	rc = ndr_search(&o, NULL, 0, &r, err, sizeof(err));
	CHECK(rc == -EINVAL && strstr(err, "bounds"),
	      "lo == hi rejected: %s", err);
	init(&o, &s);
	o.resolution_pct = 0;
	rc = ndr_search(&o, NULL, 0, &r, err, sizeof(err));
	CHECK(rc == -EINVAL &&
	      strstr(err, "resolution"), "resolution 0 rejected: %s", err);
	init(&o, &s);
	o.loss_threshold_pct = -1;
	rc = ndr_search(&o, NULL, 0, &r, err, sizeof(err));
	CHECK(rc == -EINVAL &&
	      strstr(err, "threshold"), "negative threshold rejected: %s", err);
	init(&o, &s);
	o.trial = NULL;
	rc = ndr_search(&o, NULL, 0, &r, err, sizeof(err));
	CHECK(rc == -EINVAL,
	      "missing trial function rejected");
}

static void test_judge(void)
{
	struct ndr_opts o = { .loss_threshold_pct = 0 };
	struct ndr_trial t = { .rate_pps = 1000, .achieved_pps = 1000, .sent = 0 };

	ndr_judge(&o, &t);
	CHECK(!t.pass && t.loss_pct == 100, "nothing sent: 100 %% loss, fails");
	t = (struct ndr_trial){ .rate_pps = 1000, .achieved_pps = 995, .sent = 1990,
				.received = 1990 };
	ndr_judge(&o, &t);
	CHECK(t.pass && !t.gen_limited, "0.5 %% short of the rate is within the default 1 %%");
	t.achieved_pps = 985;
	ndr_judge(&o, &t);
	CHECK(!t.pass && t.gen_limited, "1.5 %% short is generator-limited");
}

int main(void)
{
	tap_plan(34);
	test_ndr_zero_loss();
	test_pdr_threshold();
	test_base_loss();
	test_bounds();
	test_gen_limited();
	test_progress_stop_max();
	test_errors();
	test_judge();
	return tap_done();
}
