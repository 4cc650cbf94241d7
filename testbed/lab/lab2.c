/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lab 2's checker: the control plane. The student's rules files against the
 * live tables, then probes through every chain the sheet asks for.
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

/* What the sheet asks for at the end of lab 2. */
static const struct lab2_chain {
	uint32_t spi;
	const char *dest;
	int n;
	const char *sfs[4];
} lab2_want[] = {
	{ 1, "dest", 3, { "sf3", "sf1", "sf2" } },
	{ 2, "dest2", 2, { "sf2", "sf3" } },
};
#define LAB2_PINGS 5
#define LAB2_MAX_FWD 64

struct lab2_node {
	struct cs_fwd_rule fwd[LAB2_MAX_FWD];
	size_t n_fwd;
	bool used[LAB2_MAX_FWD];
	bool read;
};

static void path_str(struct lab_ctx *c, const int *nodes, int n, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
					 i ? " -> " : "", nodes[i] < 0 ? "?" : c->sc.nodes[nodes[i]].name);
}

static bool cls_matches(const struct cls_rule *r, uint32_t src, uint32_t dst)
{
	return r->valid && (src & r->src_mask) == (r->src & r->src_mask) &&
	       (dst & r->dst_mask) == (r->dst & r->dst_mask) &&
	       (r->proto == 0 || r->proto == IPPROTO_ICMP);
}

/* Follows the live tables from src's classifier; false (and a problem) if the
 * walk breaks. */
static bool lab2_walk(struct lab_ctx *c, const struct lab2_chain *w, const struct cls_rule *cls,
		      size_t ncls, struct lab2_node *tab, int *path, int *np)
{
	int src = sc_node_index(&c->sc, "src"), dest = sc_node_index(&c->sc, w->dest), cur;
	char a[INET_ADDRSTRLEN], mac[18];
	const struct cls_rule *r = NULL;
	uint8_t next_mac[6];
	uint32_t si;

	*np = 0;
	path[(*np)++] = src;
	for (size_t i = 0; i < ncls && !r; i++)
		if (cls_matches(&cls[i], c->sc.nodes[src].ip, c->sc.nodes[dest].ip))
			r = &cls[i];
	if (!r) {
		lab_problem(c, "src's classifier has no rule for ICMP to %s (%s): chain SPI %u never starts; add one to the classifier section of src's rules file",
			    w->dest, lab_ip_str(c->sc.nodes[dest].ip, a), w->spi);
		return false;
	}
	if (r->spi != w->spi) {
		lab_problem(c, "traffic to %s is classified into SPI %u, but the sheet asks for SPI %u",
			    w->dest, r->spi, w->spi);
		return false;
	}
	si = r->si;
	memcpy(next_mac, r->next_hop, 6);
	cur = lab_node_by_mac(&c->sc, next_mac);
	for (int hops = 0; hops < 16; hops++) {
		struct lab2_node *t;
		size_t i;

		if (cur < 0 || c->sc.nodes[cur].role != SC_ROLE_SF) {
			cs_mac_format(next_mac, mac);
			lab_problem(c, "chain SPI %u: after %s the next hop %s is not an SF of the testbed (check the MAC addresses: `cadeia-stage show --node %s-<sf>` prints each SF's)",
				    w->spi, c->sc.nodes[path[*np - 1]].name, mac, c->rs.id);
			return false;
		}
		path[(*np)++] = cur;
		t = &tab[cur];
		si--; /* enc restores the NSH with SI - 1 before fwd looks it up */
		for (i = 0; i < t->n_fwd; i++)
			if (t->fwd[i].key.spi == w->spi && t->fwd[i].key.si == si)
				break;
		if (i == t->n_fwd) {
			lab_problem(c, "chain SPI %u: %s has no forwarding entry for SPI %u SI %u, so its fwd drops the frames (drop_no_path)",
				    w->spi, c->sc.nodes[cur].name, w->spi, si);
			return false;
		}
		t->used[i] = true;
		if (t->fwd[i].val.action == FWD_END) {
			int d = lab_node_by_mac(&c->sc, t->fwd[i].val.mac);

			path[(*np)++] = d;
			if (d != dest) {
				lab_problem(c, "chain SPI %u ends at %s, which delivers to %s instead of %s (dest_mac of its end entry)",
					    w->spi, c->sc.nodes[cur].name,
					    d < 0 ? "an unknown MAC" : c->sc.nodes[d].name, w->dest);
				return false;
			}
			return true;
		}
		memcpy(next_mac, t->fwd[i].val.mac, 6);
		cur = lab_node_by_mac(&c->sc, next_mac);
	}
	lab_problem(c, "chain SPI %u loops: it visits more than 16 SFs", w->spi);
	return false;
}

/* The student's rules file for a node agrees with the node's live table. */
static void lab2_check_file(struct lab_ctx *c, int node, const struct lab2_node *t,
			    const struct cls_rule *cls, size_t ncls)
{
	const char *name = c->sc.nodes[node].name;
	char file[64], path[1024];
	json_t *j, *sec, *e;
	size_t i, n = 0;
	bool same = true;

	snprintf(file, sizeof(file), "%s.json", name);
	lab_path(c, file, path, sizeof(path));
	j = lab_load_json(c, file);
	if (!j)
		return;
	if (c->sc.nodes[node].role == SC_ROLE_SRC) {
		sec = json_object_get(j, "classifier");
		json_array_foreach(sec, i, e) {
			uint8_t mac[6] = { 0 };
			bool found = false;

			cs_mac_parse(json_string_value(json_object_get(e, "next_hop")) ?: "", mac);
			for (size_t k = 0; k < ncls; k++)
				found |= cls[k].spi == json_integer_value(json_object_get(e, "spi")) &&
					 cls[k].si == (json_object_get(e, "si") ?
						       json_integer_value(json_object_get(e, "si")) : 255) &&
					 !memcmp(cls[k].next_hop, mac, 6);
			same &= found;
			n++;
		}
		same &= n == ncls;
	} else {
		sec = json_object_get(j, "forwarding");
		json_array_foreach(sec, i, e) {
			uint8_t mac[6] = { 0 };
			bool end = json_is_true(json_object_get(e, "end")), found = false;

			cs_mac_parse(json_string_value(json_object_get(e, end ? "dest_mac" : "next_hop")) ?: "",
				     mac);
			for (size_t k = 0; k < t->n_fwd; k++)
				found |= t->fwd[k].key.spi == json_integer_value(json_object_get(e, "spi")) &&
					 t->fwd[k].key.si == json_integer_value(json_object_get(e, "si")) &&
					 (t->fwd[k].val.action == FWD_END) == end &&
					 !memcmp(t->fwd[k].val.mac, mac, 6);
			same &= found;
			n++;
		}
		same &= n == t->n_fwd;
	}
	if (same)
		lab_ok(c, "%s matches %s's live %s table", path, name,
		       c->sc.nodes[node].role == SC_ROLE_SRC ? "classifier" : "forwarding");
	else
		lab_problem(c, "%s does not match %s's live %s table: keep in the lab directory exactly the rules you applied (cadeia-stage rules --node %s-%s %s)",
			    path, name, c->sc.nodes[node].role == SC_ROLE_SRC ? "classifier" : "forwarding",
			    c->rs.id, name, path);
	json_decref(j);
}

/* Pings one chain's destination and checks the SFs' counters move as the
 * chain says: on-path SFs strip every frame, the last one delivers, the
 * others see nothing. */
static void lab2_probe(struct lab_ctx *c, const struct lab2_chain *w)
{
	uint64_t dec0[SC_MAX_NODES], end0[SC_MAX_NODES];
	int dest = sc_node_index(&c->sc, w->dest), last = sc_node_index(&c->sc, w->sfs[w->n - 1]);
	char ns[96], err[512];
	int rx;
	bool good = true;

	for (int i = 0; i < c->sc.n_nodes; i++) {
		if (c->sc.nodes[i].role != SC_ROLE_SF)
			continue;
		dec0[i] = lab_stat(c, i, CS_STAGE_DEC, "decap");
		end0[i] = lab_stat(c, i, CS_STAGE_FWD, "end_of_chain");
	}
	lab_node_name(c, sc_node_index(&c->sc, "src"), ns, sizeof(ns));
	rx = lab_ping(ns, c->sc.nodes[dest].ip, LAB2_PINGS, err, sizeof(err));
	if (rx < 0) {
		lab_problem(c, "%s", err);
		return;
	}
	if (rx < LAB2_PINGS) {
		lab_problem(c, "only %d of %d pings to %s came back through chain SPI %u", rx,
			    LAB2_PINGS, w->dest, w->spi);
		good = false;
	}
	for (int i = 0; i < c->sc.n_nodes; i++) {
		bool on = false;
		uint64_t d, e;

		if (c->sc.nodes[i].role != SC_ROLE_SF)
			continue;
		for (int k = 0; k < w->n; k++)
			on |= strcmp(w->sfs[k], c->sc.nodes[i].name) == 0;
		d = lab_stat(c, i, CS_STAGE_DEC, "decap") - dec0[i];
		e = lab_stat(c, i, CS_STAGE_FWD, "end_of_chain") - end0[i];
		if (on && d < LAB2_PINGS) {
			lab_problem(c, "pinging %s: %s's dec stripped %llu NSH frames, not %d: chain SPI %u does not go through it",
				    w->dest, c->sc.nodes[i].name, (unsigned long long)d, LAB2_PINGS, w->spi);
			good = false;
		} else if (!on && d > 0) {
			lab_problem(c, "pinging %s: %s's dec stripped %llu NSH frames although chain SPI %u must not go through it",
				    w->dest, c->sc.nodes[i].name, (unsigned long long)d, w->spi);
			good = false;
		}
		if (i == last && e < LAB2_PINGS) {
			lab_problem(c, "pinging %s: %s should end the chain, but its fwd.end_of_chain grew by %llu",
				    w->dest, c->sc.nodes[i].name, (unsigned long long)e);
			good = false;
		}
	}
	if (good)
		lab_ok(c, "probes to %s: the counters of every SF moved exactly as chain SPI %u says", w->dest,
		       w->spi);
}

int lab_check2(struct lab_ctx *c)
{
	struct cls_rule cls[CLS_MAX_RULES];
	struct lab2_node *tab = NULL;
	size_t ncls = CLS_MAX_RULES;
	struct cs_err cerr;
	char pin[96], have[256], want[256];
	int src, path[24], np;
	bool walked[2] = { false, false };

	if (lab_open_run(c, "lab2") < 0)
		return -1;
	if ((src = lab_node_idx(c, "src")) < 0 || lab_node_idx(c, "dest2") < 0 || lab_node_idx(c, "sf3") < 0)
		return -1;
	lab_functions_alive(c);
	tab = calloc(SC_MAX_NODES, sizeof(*tab));
	if (!tab)
		return -1;
	lab_node_name(c, src, pin, sizeof(pin));
	if (cs_cls_read(pin, cls, &ncls, &cerr) < 0) {
		lab_problem(c, "reading src's classifier: %s", cerr.msg);
		goto cleanup;
	}
	for (int i = 0; i < c->sc.n_nodes; i++) {
		if (c->sc.nodes[i].role != SC_ROLE_SF)
			continue;
		lab_node_name(c, i, pin, sizeof(pin));
		tab[i].n_fwd = LAB2_MAX_FWD;
		if (cs_fwd_read(pin, tab[i].fwd, &tab[i].n_fwd, &cerr) < 0) {
			lab_problem(c, "reading %s's forwarding table: %s", c->sc.nodes[i].name, cerr.msg);
			goto cleanup;
		}
		tab[i].read = true;
	}

	for (size_t w = 0; w < 2; w++) {
		const struct lab2_chain *ch = &lab2_want[w];
		int wp[8], n = 0;

		wp[n++] = src;
		for (int k = 0; k < ch->n; k++)
			wp[n++] = sc_node_index(&c->sc, ch->sfs[k]);
		wp[n++] = sc_node_index(&c->sc, ch->dest);
		path_str(c, wp, n, want, sizeof(want));
		if (!lab2_walk(c, ch, cls, ncls, tab, path, &np))
			continue;
		path_str(c, path, np, have, sizeof(have));
		if (strcmp(have, want) == 0) {
			lab_ok(c, "chain SPI %u in the live tables: %s", ch->spi, have);
			walked[w] = true;
		} else {
			lab_problem(c, "chain SPI %u goes %s in the live tables; the sheet asks for %s",
				    ch->spi, have, want);
		}
	}
	for (int i = 0; i < c->sc.n_nodes; i++) {
		int stale = 0;

		if (!tab[i].read)
			continue;
		for (size_t k = 0; k < tab[i].n_fwd; k++) {
			if (tab[i].used[k])
				continue;
			stale++;
			lab_problem(c, "%s still has a forwarding entry for SPI %u SI %u that no chain uses: an SF taken out of a chain keeps its old entries until you replace its table",
				    c->sc.nodes[i].name, tab[i].fwd[k].key.spi, tab[i].fwd[k].key.si);
		}
		if (!stale && tab[i].n_fwd)
			lab_ok(c, "%s: every forwarding entry belongs to a chain", c->sc.nodes[i].name);
	}
	lab2_check_file(c, src, NULL, cls, ncls);
	for (int i = 0; i < c->sc.n_nodes; i++)
		if (tab[i].read)
			lab2_check_file(c, i, &tab[i], NULL, 0);
	for (size_t w = 0; w < 2; w++)
		if (walked[w])
			lab2_probe(c, &lab2_want[w]);
cleanup:
	free(tab);
	return 0;
}
