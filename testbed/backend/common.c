/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every backend does the same way, written once over the per-node
 * interface (struct node_ops): which stages each node runs, static
 * neighbours, the order tables go in, the read-back that proves them, the
 * counters the run loop checks the path with, and the OVS SFF. A backend
 * keeps only how its nodes and links come to exist.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/arch.h"
#include "backend/backend.h"
#include "backend/sff_ovs.h"
#include "backend/floor.h"

bool backend_ovs_sff(const struct testbed *tb, int i, struct sff_ovs *o)
{
	const struct sc_node *n = &tb->sc->nodes[i];

	if (!arch_ovs_sff(tb->sc, i))
		return false;
	if (o)
		sff_ovs_init(o, tb->rs->id, n->name, tb->name[i], n->ifname, n->mac, tb->log_dir);
	return true;
}

static unsigned node_stages(const struct testbed *tb, int i)
{
	return arch_node_stages(tb->sc, i, NULL, NULL);
}

/* Static neighbours: ARP never lands in a measured RTT. An SF behind a
 * proxy is addressed by nobody and addresses nobody. */
static int prime_neighbours(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	struct node_neigh nb[SC_MAX_NODES];
	int ret;

	for (int i = 0; i < sc->n_nodes; i++) {
		size_t n = 0;

		if (arch_behind_proxy(&sc->nodes[i]))
			continue;
		for (int j = 0; j < sc->n_nodes; j++) {
			if (i == j || arch_behind_proxy(&sc->nodes[j]))
				continue;
			nb[n].ip = sc->nodes[j].ip;
			memcpy(nb[n].mac, sc->nodes[j].mac, 6);
			n++;
		}
		if ((ret = tb->ops->node->neigh(tb, i, nb, n, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/* Node i's stages (arch_node_stages), and a proxy's way back from its SF:
 * kwire on the SF-side interface, straight to eth0's egress (enc, fwd). */
static int attach_node(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct node_ops *no = tb->ops->node;
	const struct sc_node *n = &tb->sc->nodes[i];
	struct node_attach a = { .pin = tb->name[i], .dev = n->ifname };
	char pin[80];
	int ret;

	a.stages = arch_node_stages(tb->sc, i, &a.kwire_mode, &a.kwire_peer);
	if (no->prepare && (ret = no->prepare(tb, i, err, errlen)) < 0)
		return ret;
	if (!a.stages)
		return 0;
	if ((ret = no->attach(tb, i, &a, err, errlen)) < 0 || n->role != SC_ROLE_PROXY)
		return ret;
	snprintf(pin, sizeof(pin), "%s_%s", tb->name[i], n->peer_ifname);
	a = (struct node_attach){ .pin = pin, .dev = n->peer_ifname, .stages = CS_STAGE_KWIRE,
				  .kwire_mode = KWIRE_MODE_OTHERHOST, .kwire_peer = n->ifname };
	return no->attach(tb, i, &a, err, errlen);
}

int tb_bring_up(struct testbed *tb, char *err, size_t errlen)
{
	const struct node_ops *no = tb->ops->node;
	const struct scenario *sc = tb->sc;
	int ret;

	if ((ret = prime_neighbours(tb, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes; i++)
		if ((ret = attach_node(tb, i, err, errlen)) < 0)
			return ret;
	if ((ret = floor_bring_up(tb, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes && no->ovs_start; i++) {
		struct sff_ovs o;

		if (backend_ovs_sff(tb, i, &o) && (ret = no->ovs_start(tb, i, &o, err, errlen)) < 0)
			return ret;
	}
	for (int i = 0; i < sc->n_nodes && no->start_fn; i++) {
		const struct sc_node *n = &sc->nodes[i];

		/* kwire is a stage; an external function is the user's to start. */
		if (n->role != SC_ROLE_SF || n->fn == SC_FN_KWIRE || n->fn == SC_FN_EXTERNAL ||
		    n->fn == SC_FN_FLOOR)
			continue;
		if ((ret = no->start_fn(tb, i, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/* The JSON of a table as installed; "ifindex" left out, since tables name
 * interfaces and the control plane's are all 0. */
static json_t *rules_array(const struct cp_node_tables *nt, bool cls)
{
	json_t *a = json_array();
	size_t n = cls ? nt->n_cls : nt->n_fwd;

	for (size_t k = 0; k < n; k++) {
		json_t *o = cls ? cs_cls_rule_json(&nt->cls[k]) : cs_fwd_rule_json(&nt->fwd[k]);

		json_object_del(o, "ifindex");
		json_array_append_new(a, o);
	}
	return a;
}

/* want and got hold the same entries: in order for the classifier (the
 * first match wins), in any order for fwd (a hash map keeps none). */
static bool same_rules(json_t *want, json_t *got, bool ordered)
{
	json_t *w, *g;
	size_t i, j;

	if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
		return false;
	json_array_foreach(got, j, g)
		json_object_del(g, "ifindex");
	if (ordered)
		return json_equal(want, got);
	json_array_foreach(want, i, w) {
		bool found = false;

		json_array_foreach(got, j, g)
			found = found || json_equal(w, g);
		if (!found)
			return false;
	}
	return true;
}

/* Node i's table, read back as got, is want's. */
static int check_table(const struct testbed *tb, int i, const struct cp_tables *t, bool cls,
		       json_t *got, const char *what, char *err, size_t errlen)
{
	json_t *want = rules_array(&t->node[i], cls);
	bool same = same_rules(want, got, cls);

	json_decref(want);
	if (same)
		return 0;
	snprintf(err, errlen, "node %s: the %s read back differ from those installed for length %d",
		 tb->sc->nodes[i].name, what, t->length);
	return -EIO;
}

/* What the kernel (or Open vSwitch) holds is what we measure. */
static int read_back(struct testbed *tb, int i, const struct cp_tables *t, char *err,
		     size_t errlen)
{
	static struct cs_fwd_rule back[CP_MAX_FWD];
	const struct node_ops *no = tb->ops->node;
	unsigned mask = node_stages(tb, i);
	json_t *got = NULL;
	struct sff_ovs o;
	size_t n = CP_MAX_FWD;
	int ret;

	if (backend_ovs_sff(tb, i, &o)) {
		if ((ret = no->ovs_read(tb, i, &o, back, &n, err, errlen)) < 0)
			return ret;
		got = json_array();
		for (size_t k = 0; k < n; k++)
			json_array_append_new(got, cs_fwd_rule_json(&back[k]));
		ret = check_table(tb, i, t, false, got, "OpenFlow rules", err, errlen);
	} else if (mask & (CS_STAGE_CLASSIFIER | CS_STAGE_FWD)) {
		if ((ret = no->tables_read(tb, i, &got, err, errlen)) < 0)
			return ret;
		if (mask & CS_STAGE_FWD)
			ret = check_table(tb, i, t, false, json_object_get(got, "forwarding"),
					  "fwd rules", err, errlen);
		if (ret == 0 && (mask & CS_STAGE_CLASSIFIER))
			ret = check_table(tb, i, t, true, json_object_get(got, "classifier"),
					  "classifier rules", err, errlen);
	} else {
		return 0;
	}
	json_decref(got);
	return ret;
}

/*
 * Node i's table (classifier or fwd) differs from what was last written and
 * read back there. An interleaved sweep changes length at every visit, and
 * on guests each write and read-back is a guest-agent exec: the nodes whose
 * tables stay the same are left alone (their read-back was done when they
 * were written, and verify_path still counts every node's verdicts).
 */
static bool table_changed(const struct testbed *tb, const struct cp_tables *t, int i, bool cls)
{
	json_t *want, *had;
	bool same;

	if (!tb->installed)
		return true;
	want = rules_array(&t->node[i], cls);
	had = rules_array(&tb->installed->node[i], cls);
	same = json_equal(want, had);
	json_decref(want);
	json_decref(had);
	return !same;
}

/* Pass 0: the fwd tables (and the OVS SFF's rules); pass 1: classifiers.
 * A classified frame must never meet an old fwd table. */
static int install_pass(struct testbed *tb, const struct cp_tables *t, int pass,
			const bool *changed, char *err, size_t errlen)
{
	const struct node_ops *no = tb->ops->node;
	int ret = 0;

	for (int i = 0; i < tb->sc->n_nodes && ret == 0; i++) {
		const struct cp_node_tables *nt = &t->node[i];
		unsigned mask = node_stages(tb, i);
		struct sff_ovs o;

		if (!changed[i])
			continue;
		if (pass == 0 && backend_ovs_sff(tb, i, &o))
			ret = no->ovs_write(tb, i, &o, nt->fwd, nt->n_fwd, err, errlen);
		else if (pass == 0 && (mask & CS_STAGE_FWD))
			ret = no->tables_write(tb, i, nt, false, true, err, errlen);
		else if (pass == 1 && (mask & CS_STAGE_CLASSIFIER))
			ret = no->tables_write(tb, i, nt, true, false, err, errlen);
	}
	return ret;
}

int tb_install(struct testbed *tb, const struct cp_tables *t, char *err, size_t errlen)
{
	const struct node_ops *no = tb->ops->node;
	bool changed[SC_MAX_NODES];
	int ret;

	for (int i = 0; i < tb->sc->n_nodes; i++)
		changed[i] = table_changed(tb, t, i, false) || table_changed(tb, t, i, true);
	/* Until everything is written and read back, nothing counts as installed. */
	free(tb->installed);
	tb->installed = NULL;
	/* A paused node takes no writes: it runs again for its new tables. */
	for (int i = 0; i < tb->sc->n_nodes; i++)
		if (changed[i] && (ret = tb_pause(tb, i, false, err, errlen)) < 0)
			return ret;
	for (int pass = 0; pass < 2; pass++)
		if ((ret = install_pass(tb, t, pass, changed, err, errlen)) < 0)
			return ret;
	if ((ret = floor_install(tb, t->length, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < tb->sc->n_nodes; i++) {
		if (!changed[i])
			continue;
		if ((ret = read_back(tb, i, t, err, errlen)) < 0)
			return ret;
		if (no->healthy && (ret = no->healthy(tb, i, err, errlen)) < 0)
			return ret;
	}
	tb->length = t->length;
	tb->installed = malloc(sizeof(*tb->installed));
	if (tb->installed)
		*tb->installed = *t;
	return 0;
}

int tb_sf_counts(struct testbed *tb, unsigned long long *counts, char *err, size_t errlen)
{
	static const char *const fields[] = { "forwarded", "end_of_chain", "redirected" };
	const struct node_ops *no = tb->ops->node;

	for (int i = 0; i < tb->sc->n_nodes; i++) {
		struct cs_counter c[32];
		size_t n = 32;
		struct sff_ovs o;
		int ret;

		counts[i] = 0;
		if (tb->paused[i]) /* no vCPU runs: it forwards nothing */
			continue;
		if (backend_ovs_sff(tb, i, &o)) {
			if ((ret = no->ovs_forwarded(tb, i, &o, &counts[i], err, errlen)) < 0)
				return ret;
			continue;
		}
		if (!(node_stages(tb, i) & CS_STAGE_FWD))
			continue;
		if ((ret = no->counters(tb, i, CS_STAGE_FWD, c, &n, err, errlen)) < 0)
			return ret;
		for (size_t k = 0; k < n; k++)
			for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
				if (strcmp(c[k].name, fields[f]) == 0)
					counts[i] += c[k].value;
	}
	return floor_add_counts(tb, counts, err, errlen);
}

int tb_probe(struct testbed *tb, int src, struct probe_opts *po, struct probe_sample *out,
	     struct probe_report *rep, char *err, size_t errlen)
{
	return tb->ops->node->probe(tb, src, po, out, rep, err, errlen);
}

bool tb_can_pause(const struct testbed *tb)
{
	return tb->ops->node->pause != NULL;
}

int tb_pause(struct testbed *tb, int i, bool paused, char *err, size_t errlen)
{
	int ret;

	if (!tb->ops->node->pause || tb->paused[i] == paused)
		return 0;
	if ((ret = tb->ops->node->pause(tb, i, paused, err, errlen)) < 0)
		return ret;
	tb->paused[i] = paused;
	return 0;
}

int tb_resume_all(struct testbed *tb, char *err, size_t errlen)
{
	int ret = 0;

	for (int i = 0; i < tb->sc->n_nodes; i++) {
		char e[512];

		if (tb_pause(tb, i, false, e, sizeof(e)) < 0 && ret == 0) {
			snprintf(err, errlen, "%s", e);
			ret = -EIO;
		}
	}
	return ret;
}

/* A failed element: its interface (and a proxy's SF-side one) goes down. */
int tb_node_link(struct testbed *tb, int i, bool up, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	int ret;

	if ((ret = tb->ops->node->link(tb, i, n->ifname, up, err, errlen)) < 0 ||
	    n->role != SC_ROLE_PROXY)
		return ret;
	return tb->ops->node->link(tb, i, n->peer_ifname, up, err, errlen);
}
