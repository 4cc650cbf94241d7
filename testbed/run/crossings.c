/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The placement check across hosts: run/crossings.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run/crossings.h"
#include "run/run_priv.h"
#include "run/slope_ci.h"

/* Least-squares slope of y over x. */
static double ls_slope(const double *x, const double *y, int n)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0;

	for (int i = 0; i < n; i++) {
		mx += x[i] / n;
		my += y[i] / n;
	}
	for (int i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	return sxx > 0 ? sxy / sxx : NAN;
}

/* Per-SF slopes of chain c's configured crossings and delay over the lengths
 * that were measured (in architecture ai). */
static int configured(const struct run *r, int ai, int c, double *crossings, double *delay_us)
{
	const struct scenario *sc = r->sc0;
	double x[SC_MAX_LENGTHS], k[SC_MAX_LENGTHS], d[SC_MAX_LENGTHS];
	int n = 0;

	for (int li = 0; li < sc->n_lengths; li++) {
		const struct point *p = &r->pt[ai][c][li];
		unsigned long us;

		if (!p->measured || p->st.received == 0)
			continue;
		x[n] = p->sfs;
		k[n] = sc_hosts_crossings(sc, c, p->sfs, &us);
		d[n++] = us;
	}
	if (n < 2)
		return -1;
	*crossings = ls_slope(x, k, n);
	*delay_us = ls_slope(x, d, n);
	return 0;
}

static json_t *chain_hosts(const struct scenario *sc, int c)
{
	const struct sc_chain *ch = &sc->chains[c];
	json_t *a = json_array();

	json_array_append_new(a, json_string(sc->hosts.host[sc_node_host(sc, ch->src)].name));
	for (int k = 0; k < ch->n_sfs; k++)
		json_array_append_new(a,
				      json_string(sc->hosts.host[sc_node_host(sc, ch->sfs[k])].name));
	json_array_append_new(a, json_string(sc->hosts.host[sc_node_host(sc, ch->dest)].name));
	return a;
}

static json_t *pair(const struct run *r, int ai, int c, int base)
{
	double kc, dc, kb, db, dk, dd;
	struct stats_diff_ci m, md;
	json_t *o;

	if (configured(r, ai, c, &kc, &dc) < 0 || configured(r, ai, base, &kb, &db) < 0 ||
	    slope_ci_chain_diff(r, ai, c, base, 0, &m) < 0 ||
	    slope_ci_chain_diff(r, ai, c, base, 1, &md) < 0)
		return NULL;
	dk = kc - kb;
	dd = dc - db;
	o = json_pack("{s:s, s:s, s:f, s:f, s:f, s:[f, f], s:b, s:f, s:[f, f], s:b}", "chain",
		      r->sc0->chains[c].name, "minus_chain", r->sc0->chains[base].name,
		      "crossings_per_sf", dk, "configured_us", dd, "measured_us", m.diff,
		      "ci95_us", m.lo, m.hi, "within_ci", dd >= m.lo && dd <= m.hi,
		      "median_measured_us", md.diff, "median_ci95_us", md.lo, md.hi,
		      "median_within_ci", dd >= md.lo && dd <= md.hi);
	/* More crossings per SF: what each costs beyond its configured delay. */
	if (fabs(dk) > 1e-9)
		json_object_set_new(o, "median_extra_us_per_crossing",
				    json_real((md.diff - dd) / dk));
	return o;
}

json_t *crossings_summary(const struct run *r)
{
	const struct scenario *sc = r->sc0;
	json_t *chains = json_array(), *checks = json_array(), *e;

	if (!sc->hosts.n)
		return NULL;
	for (int c = 0; c < sc->n_chains; c++) {
		double k = NAN, d = NAN;

		configured(r, 0, c, &k, &d);
		json_array_append_new(chains,
				      json_pack("{s:s, s:o, s:f, s:f}", "chain", sc->chains[c].name,
						"hosts", chain_hosts(sc, c), "crossings_per_sf",
						isfinite(k) ? k : 0.0, "configured_us_per_sf",
						isfinite(d) ? d : 0.0));
	}
	/* The crossings are counted on the chain itself: a star's SFF adds its
	 * own, which this check does not model. */
	for (int ai = 0; ai < sc->n_archs; ai++) {
		if (sc->archs[ai] != SC_ARCH_CADEIA_ABERTA)
			continue;
		for (int c = 1; c < sc->n_chains; c++)
			for (int base = 0; base < c; base++)
				if ((e = pair(r, ai, c, base)))
					json_array_append_new(checks, e);
	}
	return json_pack("{s:i, s:i, s:o, s:o}", "delay_line_base_hold_us",
			 sc->hosts.any_delay ? HOSTS_DELAY_BASE_US : 0, "vxlan_port", SC_VXLAN_PORT,
			 "chains", chains, "checks", checks);
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

void crossings_print(json_t *summary)
{
	json_t *p = json_object_get(summary, "host_placement"), *e;
	size_t i;

	if (!json_array_size(json_object_get(p, "checks")))
		return;
	printf("placement across hosts (per-SF slope differences, rounds paired, 95%% CI; configured = underlay delay of the round trip):\n");
	json_array_foreach(json_object_get(p, "checks"), i, e) {
		json_t *ci = json_object_get(e, "median_ci95_us");

		printf("  %s - %s: medians %+.1f us/SF [%+.1f, %+.1f], configured %+.1f (%+.2f crossings per SF): %s",
		       json_string_value(json_object_get(e, "chain")),
		       json_string_value(json_object_get(e, "minus_chain")),
		       num(e, "median_measured_us"), json_number_value(json_array_get(ci, 0)),
		       json_number_value(json_array_get(ci, 1)), num(e, "configured_us"),
		       num(e, "crossings_per_sf"),
		       json_is_true(json_object_get(e, "median_within_ci")) ? "within the interval"
									    : "outside the interval");
		if (json_object_get(e, "median_extra_us_per_crossing"))
			printf("; %+.1f us per crossing beyond its configured delay",
			       num(e, "median_extra_us_per_crossing"));
		printf("\n");
	}
}
