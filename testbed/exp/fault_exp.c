/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fault experiment: the paper's resilience argument, measured. Each
 * listed element loses its link while every chain is probed; only chains
 * through it should lose traffic.
 */
#include <errno.h>
#include <stdlib.h>

#include "model/arch.h"
#include "run/run_priv.h"

/* Probes every chain once; received[c] gets the replies. */
static int probe_chains(struct run *r, unsigned probes, unsigned *received, char *err,
			size_t errlen)
{
	const struct scenario *sc = r->sc;
	struct probe_sample *s = calloc(probes, sizeof(*s));
	int ret = 0;

	if (!s)
		return -ENOMEM;
	for (int c = 0; c < sc->n_chains && ret == 0; c++) {
		struct probe_report rep;
		struct probe_opts po = {
			.src = sc->nodes[sc->chains[c].src].ip, .dst = sc->nodes[sc->chains[c].dest].ip,
			.icmp_size = sc->measure.icmp_size, .rate_pps = sc->measure.rate_pps,
			.count = probes, .grace_ms = 300, .stop = &run_stop,
		};

		ret = tb_probe(&r->tb, sc->chains[c].src, &po, s, &rep, err, errlen);
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

/*
 * The resilience argument, measured: each listed element loses its link
 * while every chain is probed. Only chains through it should suffer.
 */
int fault_exp_run(struct run *r, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	const struct sc_fault *f = &sc->fault;
	int length = f->length >= 0 ? f->length : sc_max_length(sc);
	int ret;

	if (!r->faults)
		r->faults = json_array();
	if ((ret = run_set_length(r, length, err, errlen)) < 0)
		return ret;
	for (int k = 0; k < f->n && !run_stop; k++) {
		int node = f->nodes[k] == SC_FAULT_SFF ? arch_sff(sc) : f->nodes[k];
		unsigned before[SC_MAX_CHAINS], during[SC_MAX_CHAINS];
		json_t *chains;
		char uerr[512];

		if (node < 0) {
			json_array_append_new(r->faults,
				json_pack("{s:s, s:s, s:s}", "architecture", sc_arch_name(sc->arch),
					  "failed", "sff", "skipped", "this architecture has no central forwarder"));
			continue;
		}
		if ((ret = probe_chains(r, f->probes, before, err, errlen)) < 0)
			return ret;
		if ((ret = tb_node_link(&r->tb, node, false, err, errlen)) < 0)
			return ret;
		ret = probe_chains(r, f->probes, during, err, errlen);
		/* Restore even after an error: later steps need the element. */
		if (tb_node_link(&r->tb, node, true, uerr, sizeof(uerr)) < 0 && ret == 0) {
			snprintf(err, errlen, "%s", uerr);
			ret = -EIO;
		}
		if (ret < 0)
			return ret;
		chains = json_array();
		for (int c = 0; c < sc->n_chains; c++) {
			bool uses = chain_uses(sc, c, length, node);
			double loss = 100.0 * (f->probes - during[c]) / f->probes;

			json_array_append_new(chains,
				json_pack("{s:s, s:b, s:i, s:i, s:f, s:b}", "chain", sc->chains[c].name,
					  "through_failed", uses, "received_before", before[c],
					  "received_during", during[c], "loss_pct_during", loss,
					  /* Others may lose a probe to noise, not to the fault. */
					  "as_expected", uses ? during[c] < f->probes / 2
							      : during[c] * 10 >= before[c] * 9));
			run_note(r, "%s: %s down: chain %s %s, %u/%u probes answered", sc_arch_name(sc->arch),
			     sc->nodes[node].name, sc->chains[c].name,
			     uses ? "goes through it" : "does not use it", during[c], f->probes);
		}
		json_array_append_new(r->faults,
			json_pack("{s:s, s:s, s:i, s:i, s:o}", "architecture", sc_arch_name(sc->arch),
				  "failed", sc->nodes[node].name, "chain_length", length, "probes",
				  f->probes, "chains", chains));
	}
	return 0;
}
