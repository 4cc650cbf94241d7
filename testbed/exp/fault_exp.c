/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fault experiment: the paper's resilience argument, measured. Each
 * listed element loses its link while every chain is probed; only chains
 * through it should lose traffic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/arch.h"
#include "exp/fault_exp.h"

/* Probes every chain once; received[c] gets the replies. */
static int probe_chains(const struct fault_exp_ctx *x, unsigned probes, unsigned *received,
			char *err, size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	struct probe_sample *s = calloc(probes, sizeof(*s));
	int ret = 0;

	if (!s)
		return -ENOMEM;
	for (int c = 0; c < sc->n_chains && ret == 0; c++) {
		struct probe_report rep;
		struct probe_opts po = {
			.src = sc->nodes[sc->chains[c].src].ip, .dst = sc->nodes[sc->chains[c].dest].ip,
			.icmp_size = sc->measure.icmp_size, .rate_pps = sc->measure.rate_pps,
			.count = probes, .grace_ms = 300, .stop = x->stop,
		};

		ret = tb_probe(x->tb, sc->chains[c].src, &po, s, &rep, err, errlen);
		received[c] = rep.received;
		if (ret == 0 && rep.interrupted)
			ret = -EINTR;
	}
	free(s);
	return ret;
}

static bool chain_uses(const struct scenario *sc, int c, int length, int node)
{
	int L = cp_chain_length(sc, c, length);

	if (sc->nodes[node].role == SC_ROLE_SFF)
		return L > 0;
	for (int k = 0; k < L; k++)
		if (sc->chains[c].sfs[k] == node || sc->nodes[sc->chains[c].sfs[k]].peer == node)
			return true;
	return false;
}

/* One element's outcome: per chain, replies before and during its failure. */
static json_t *chains_json(const struct fault_exp_ctx *x, int length, int node,
			   const unsigned *before, const unsigned *during)
{
	const struct scenario *sc = x->tb->sc;
	const struct sc_fault *f = &sc->fault;
	json_t *chains = json_array();

	for (int c = 0; c < sc->n_chains; c++) {
		bool uses = chain_uses(sc, c, length, node);
		double loss = 100.0 * (f->probes - during[c]) / f->probes;
		char line[512];

		json_array_append_new(chains,
			json_pack("{s:s, s:b, s:i, s:i, s:f, s:b}", "chain", sc->chains[c].name,
				  "through_failed", uses, "received_before", before[c],
				  "received_during", during[c], "loss_pct_during", loss,
				  /* Others may lose a probe to noise, not to the fault. */
				  "as_expected", uses ? during[c] < f->probes / 2
						      : during[c] * 10 >= before[c] * 9));
		if (!x->note)
			continue;
		snprintf(line, sizeof(line), "%s: %s down: chain %s %s, %u/%u probes answered",
			 sc_arch_name(sc->arch), sc->nodes[node].name, sc->chains[c].name,
			 uses ? "goes through it" : "does not use it", during[c], f->probes);
		x->note(x->arg, line);
	}
	return chains;
}

/* Node's link down while every chain is probed, then up again. */
static int fail_one(const struct fault_exp_ctx *x, int node, unsigned *before, unsigned *during,
		    char *err, size_t errlen)
{
	unsigned probes = x->tb->sc->fault.probes;
	char uerr[512];
	int ret;

	if ((ret = probe_chains(x, probes, before, err, errlen)) < 0 ||
	    (ret = tb_node_link(x->tb, node, false, err, errlen)) < 0)
		return ret;
	ret = probe_chains(x, probes, during, err, errlen);
	/* Restore even after an error: later steps need the element. */
	if (tb_node_link(x->tb, node, true, uerr, sizeof(uerr)) < 0 && ret == 0) {
		snprintf(err, errlen, "%s", uerr);
		ret = -EIO;
	}
	return ret;
}

int fault_exp_run(const struct fault_exp_ctx *x, json_t *faults, char *err, size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	const struct sc_fault *f = &sc->fault;
	int length = f->length >= 0 ? f->length : sc_max_length(sc);
	int ret;

	if ((ret = x->set_length(x->arg, length, err, errlen)) < 0)
		return ret;
	for (int k = 0; k < f->n && !*x->stop; k++) {
		int node = f->nodes[k] == SC_FAULT_SFF ? arch_sff(sc) : f->nodes[k];
		unsigned before[SC_MAX_CHAINS], during[SC_MAX_CHAINS];

		if (node < 0) {
			json_array_append_new(faults,
				json_pack("{s:s, s:s, s:s}", "architecture", sc_arch_name(sc->arch),
					  "failed", "sff", "skipped", "this architecture has no central forwarder"));
			continue;
		}
		if ((ret = fail_one(x, node, before, during, err, errlen)) < 0)
			return ret;
		json_array_append_new(faults,
			json_pack("{s:s, s:s, s:i, s:i, s:o}", "architecture", sc_arch_name(sc->arch),
				  "failed", sc->nodes[node].name, "chain_length", length, "probes",
				  f->probes, "chains", chains_json(x, length, node, before, during)));
	}
	return 0;
}
