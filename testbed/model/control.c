/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/arch.h"
#include "model/control.h"

int cp_chain_length(const struct scenario *sc, int c, int length)
{
	return length < sc->chains[c].n_sfs ? length : sc->chains[c].n_sfs;
}

static int add_cls(const struct scenario *sc, struct cp_tables *t, const struct sc_chain *ch,
		   const uint8_t first_hop[6], char *err, size_t errlen)
{
	struct cp_node_tables *nt = &t->node[ch->src];
	struct cls_rule *r;

	if (nt->n_cls >= CLS_MAX_RULES) {
		snprintf(err, errlen, "node %s: more than %d classifier rules",
			 sc->nodes[ch->src].name, CLS_MAX_RULES);
		return -E2BIG;
	}
	r = &nt->cls[nt->n_cls++];
	memset(r, 0, sizeof(*r));
	r->valid = 1;
	r->src = sc->nodes[ch->src].ip;
	r->src_mask = 0xFFFFFFFFu;
	r->dst = sc->nodes[ch->dest].ip;
	r->dst_mask = 0xFFFFFFFFu;
	r->proto = ch->proto;
	r->sport = htons(ch->sport);
	r->dport = htons(ch->dport);
	r->md_type = ch->md_type;
	r->inner = ch->inner;
	r->spi = ch->spi;
	r->si = ch->si;
	memcpy(r->next_hop, first_hop, 6);
	return 0;
}

static int add_fwd(const struct scenario *sc, struct cp_tables *t, int node, uint32_t spi,
		   uint32_t si, enum fwd_action action, const uint8_t mac[6], uint8_t flags,
		   char *err, size_t errlen)
{
	struct cp_node_tables *nt = &t->node[node];
	struct cs_fwd_rule *f;

	for (size_t i = 0; i < nt->n_fwd; i++) {
		if (nt->fwd[i].key.spi == spi && nt->fwd[i].key.si == si) {
			snprintf(err, errlen, "node %s: two forwarding entries for SPI %u SI %u",
				 sc->nodes[node].name, spi, si);
			return -EEXIST;
		}
	}
	if (nt->n_fwd >= CP_MAX_FWD) {
		snprintf(err, errlen, "node %s: more than %d forwarding entries",
			 sc->nodes[node].name, CP_MAX_FWD);
		return -E2BIG;
	}
	f = &nt->fwd[nt->n_fwd++];
	memset(f, 0, sizeof(*f));
	f->key.spi = spi;
	f->key.si = si;
	f->val.action = action;
	f->val.flags = flags;
	memcpy(f->val.mac, mac, 6);
	t->expect[node]++;
	return 0;
}

static int chain_direct(const struct scenario *sc, struct cp_tables *t, const struct sc_chain *ch,
			int L, char *err, size_t errlen)
{
	int ret;

	if ((ret = add_cls(sc, t, ch, sc->nodes[ch->sfs[0]].mac, err, errlen)))
		return ret;
	for (int k = 1; k <= L; k++) {
		bool last = k == L;
		const uint8_t *mac = last ? sc->nodes[ch->dest].mac : sc->nodes[ch->sfs[k]].mac;

		ret = add_fwd(sc, t, ch->sfs[k - 1], ch->spi, ch->si - k,
			      last ? FWD_END : FWD_NEXT_HOP, mac, 0, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int chain_star(const struct scenario *sc, struct cp_tables *t, const struct sc_chain *ch,
		      int L, char *err, size_t errlen)
{
	int sff = arch_sff(sc), ret;

	if (sff < 0) {
		snprintf(err, errlen, "%s: architecture %s has no SFF node", sc->path,
			 sc_arch_name(sc->arch));
		return -EINVAL;
	}
	if ((ret = add_cls(sc, t, ch, sc->nodes[sff].mac, err, errlen)))
		return ret;
	for (int k = 1; k <= L; k++) {
		int hop = arch_hop(sc, ch->sfs[k - 1]);

		if ((ret = add_fwd(sc, t, sff, ch->spi, ch->si - k + 1, FWD_NEXT_HOP,
				   sc->nodes[hop].mac, 0, err, errlen)) ||
		    (ret = add_fwd(sc, t, hop, ch->spi, ch->si - k, FWD_NEXT_HOP, sc->nodes[sff].mac,
				   FWD_F_KEEP_TTL, err, errlen)))
			return ret;
	}
	return add_fwd(sc, t, sff, ch->spi, ch->si - L, FWD_END, sc->nodes[ch->dest].mac, 0, err,
		       errlen);
}

int cp_compute(const struct scenario *sc, int length, struct cp_tables *t, char *err,
	       size_t errlen)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->length = length;
	for (int c = 0; c < sc->n_chains; c++) {
		int L = cp_chain_length(sc, c, length);

		if (L == 0)
			continue; /* chain 0: no classification, plain IP */
		if (sc->nodes[sc->chains[c].sfs[0]].fn == SC_FN_FLOOR) {
			/* No NSH: backend/floor.c writes its next hops; each SF forwards once. */
			for (int k = 0; k < L; k++)
				t->expect[sc->chains[c].sfs[k]]++;
			continue;
		}
		if (sc->arch == SC_ARCH_CADEIA_ABERTA)
			ret = chain_direct(sc, t, &sc->chains[c], L, err, errlen);
		else
			ret = chain_star(sc, t, &sc->chains[c], L, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}
