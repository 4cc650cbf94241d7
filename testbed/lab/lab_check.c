/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The checkers of labs 1, 2, 3 and 5. Each looks at real state: frames it
 * captures itself on the testbed's links, the stages' live tables and
 * counters, the student's files, and results written by `cadeia-bench run`.
 * Messages say what is wrong and where to look, not the answer.
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

static const char *ip_str(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

static int node_idx(struct lab_ctx *c, const char *name)
{
	int i = sc_node_index(&c->sc, name);

	if (i < 0)
		lab_problem(c, "the testbed has no node %s: was it brought up from docs/labs/scenarios/lab%d.json?",
			    name, c->n);
	return i;
}

static uint64_t stat_of(struct lab_ctx *c, int node, unsigned stage, const char *name)
{
	char pin[96];

	lab_node_name(c, node, pin, sizeof(pin));
	return cs_stat_get(pin, stage, name);
}

/* Every function process the run started is still the same process. */
static void check_functions_alive(struct lab_ctx *c)
{
	json_t *fns = json_object_get(c->rs.doc, "functions"), *f;
	size_t i;
	int dead = 0;

	json_array_foreach(fns, i, f) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(f, "pid"));

		if (!rs_pid_alive(pid)) {
			dead++;
			lab_problem(c, "the function of %s (pid %d) is gone: the lab changes the chain without restarting anything; bring the testbed down and up again",
				    json_string_value(json_object_get(f, "node")) ?: "?", (int)pid);
		}
	}
	if (!dead && json_array_size(fns))
		lab_ok(c, "all %zu functions the testbed started are still running", json_array_size(fns));
}

/* ==== lab 1: NSH on the wire ================================================= */

#define LAB1_PINGS 3

struct hop_seen {
	int frames;
	bool nsh;
	uint32_t spi;
	uint8_t si, ttl;
	bool mixed;
};

static json_t *find_hop(json_t *ans, const char *from, const char *to)
{
	json_t *h;
	size_t i;

	json_array_foreach(json_object_get(ans, "hops"), i, h) {
		const char *f = json_string_value(json_object_get(h, "from"));
		const char *t = json_string_value(json_object_get(h, "to"));

		if (f && t && !strcmp(f, from) && !strcmp(t, to))
			return h;
	}
	return NULL;
}

/* One answered header field against the wire; false if it is wrong or empty. */
static bool check_field(struct lab_ctx *c, json_t *hop, const char *hopname, const char *key,
			long seen, const char *hint)
{
	json_t *v = json_object_get(hop, key);

	if (!v || json_is_null(v)) {
		lab_problem(c, "hop %s: \"%s\" is not filled in yet; %s", hopname, key, hint);
		return false;
	}
	if (!json_is_integer(v)) {
		lab_problem(c, "hop %s: \"%s\" must be a number (decimal), not %s", hopname, key,
			    json_is_string(v) ? "a string" : "this");
		return false;
	}
	if (json_integer_value(v) != seen) {
		lab_problem(c, "hop %s: %s %lld is not what the frames on this hop carry; %s",
			    hopname, key, (long long)json_integer_value(v), hint);
		return false;
	}
	return true;
}

static void check_hop(struct lab_ctx *c, json_t *ans, const char *from, const char *to,
		      const struct hop_seen *s)
{
	static const char spi_hint[] = "the SPI names the chain (24 bits; tshark: nsh.spi)";
	static const char si_hint[] = "the classifier sets the starting Service Index and every SF takes one from it before forwarding (tshark: nsh.si)";
	static const char ttl_hint[] = "the classifier starts TTL at 63 and every forwarding step (fwd) takes one (tshark prints nsh.ttl in hex)";
	char name[80];
	json_t *hop, *nsh;
	bool good = true;

	snprintf(name, sizeof(name), "%s -> %s", from, to);
	hop = find_hop(ans, from, to);
	if (!hop) {
		lab_problem(c, "answers.json has no hop {\"from\": \"%s\", \"to\": \"%s\"}", from, to);
		return;
	}
	nsh = json_object_get(hop, "nsh");
	if (!json_is_boolean(nsh)) {
		lab_problem(c, "hop %s: \"nsh\" is not filled in yet: true if the frames on this hop carry an NSH, false if they are plain Ethernet/IPv4",
			    name);
		return;
	}
	if (json_is_true(nsh) != s->nsh) {
		lab_problem(c, "hop %s: you say the frames %s an NSH, but the capture says otherwise; look at the EtherType (0x894f is NSH)",
			    name, s->nsh ? "carry no" : "carry");
		return;
	}
	if (s->nsh) {
		good &= check_field(c, hop, name, "spi", s->spi, spi_hint);
		good &= check_field(c, hop, name, "si", s->si, si_hint);
		good &= check_field(c, hop, name, "ttl", s->ttl, ttl_hint);
	}
	if (good)
		lab_ok(c, "hop %s: your %s matches the frames on the wire", name,
		       s->nsh ? "SPI, SI and TTL" : "answer (no NSH)");
}

int lab_check1(struct lab_ctx *c)
{
	int path[SC_MAX_CHAIN_LEN + 2], np = 0, rx, end_node = -1;
	uint64_t decap0[SC_MAX_CHAIN_LEN], end0[SC_MAX_CHAIN_LEN], named0[SC_MAX_CHAIN_LEN];
	struct lab_cap *cap = NULL;
	const struct sc_chain *ch;
	const char *named = NULL, *eoc;
	char link[96], err[512], a[INET_ADDRSTRLEN];
	json_t *ans = NULL;
	bool named_ok = true;

	if (lab_open_run(c, "lab1") < 0)
		return -1;
	ans = lab_load_json(c, "answers.json");
	ch = &c->sc.chains[0];
	path[np++] = ch->src;
	for (int k = 0; k < ch->n_sfs; k++)
		path[np++] = ch->sfs[k];
	path[np++] = ch->dest;
	if (ans)
		named = json_string_value(json_object_get(ans, "decap_counter"));

	cap = calloc((size_t)np, sizeof(*cap));
	if (!cap)
		goto cleanup;
	for (int k = 0; k < np; k++)
		cap[k].fd = -1;
	for (int k = 0; k < np - 1; k++) {
		lab_node_name(c, path[k], link, sizeof(link));
		if (lab_cap_open(&cap[k], link, err, sizeof(err)) < 0) {
			lab_problem(c, "cannot capture on the testbed: %s", err);
			goto cleanup;
		}
	}
	for (int k = 0; k < ch->n_sfs; k++) {
		decap0[k] = stat_of(c, ch->sfs[k], CS_STAGE_DEC, "decap");
		end0[k] = stat_of(c, ch->sfs[k], CS_STAGE_FWD, "end_of_chain");
		named0[k] = named ? stat_of(c, ch->sfs[k], CS_STAGE_DEC, named) : 0;
	}

	lab_node_name(c, ch->src, link, sizeof(link));
	rx = lab_ping(link, c->sc.nodes[ch->dest].ip, LAB1_PINGS, err, sizeof(err));
	lab_sleep_ms(200);
	if (rx < 0) {
		lab_problem(c, "%s", err);
		goto cleanup;
	}
	if (rx < LAB1_PINGS)
		lab_problem(c, "only %d of %d pings from src to %s (%s) came back: is the chain installed at full length (`cadeia-bench up docs/labs/scenarios/lab1.json`)?",
			    rx, LAB1_PINGS, c->sc.nodes[ch->dest].name,
			    ip_str(c->sc.nodes[ch->dest].ip, a));
	else
		lab_ok(c, "the chain delivers pings: %d of %d echo requests crossed %d SFs", rx,
		       LAB1_PINGS, ch->n_sfs);

	for (int k = 0; k < np - 1; k++) {
		const struct sc_node *from = &c->sc.nodes[path[k]], *to = &c->sc.nodes[path[k + 1]];
		struct hop_seen s = { 0 };

		lab_cap_drain(&cap[k]);
		for (size_t i = 0; i < cap[k].n; i++) {
			const struct lab_frame *f = &cap[k].f[i];

			if (f->outgoing || memcmp(f->dst, to->mac, 6) || !f->ipv4 ||
			    f->proto != IPPROTO_ICMP || f->icmp_type != 8 ||
			    f->daddr != c->sc.nodes[ch->dest].ip)
				continue;
			if (s.frames && (s.nsh != f->nsh || s.spi != f->spi || s.si != f->si ||
					 s.ttl != f->ttl))
				s.mixed = true;
			s.frames++;
			s.nsh = f->nsh;
			s.spi = f->spi;
			s.si = f->si;
			s.ttl = f->ttl;
		}
		if (!s.frames) {
			lab_problem(c, "no echo request went from %s to %s while the checker pinged: the chain is not installed as lab 1 expects (bring it up again with `cadeia-bench up docs/labs/scenarios/lab1.json`)",
				    from->name, to->name);
			continue;
		}
		if (s.mixed)
			lab_info(c, "hop %s -> %s carried different headers during the check; comparing with the last one",
				 from->name, to->name);
		if (ans)
			check_hop(c, ans, from->name, to->name, &s);
	}

	for (int k = 0; k < ch->n_sfs; k++) {
		uint64_t d = stat_of(c, ch->sfs[k], CS_STAGE_DEC, "decap") - decap0[k];
		uint64_t e = stat_of(c, ch->sfs[k], CS_STAGE_FWD, "end_of_chain") - end0[k];

		if (rx > 0 && e >= (uint64_t)rx)
			end_node = ch->sfs[k];
		if (named && stat_of(c, ch->sfs[k], CS_STAGE_DEC, named) - named0[k] < (uint64_t)rx)
			named_ok = false;
		(void)d;
	}
	if (!ans)
		goto cleanup;
	eoc = json_string_value(json_object_get(ans, "end_of_chain_node"));
	if (!eoc)
		lab_problem(c, "\"end_of_chain_node\" is not filled in yet: which SF's fwd strips the NSH and delivers the inner frame? (cadeia-stage stats --node <run>-<sf>)");
	else if (end_node < 0)
		lab_problem(c, "no SF counted fwd.end_of_chain while the checker pinged; is the chain up?");
	else if (strcmp(eoc, c->sc.nodes[end_node].name) != 0)
		lab_problem(c, "end_of_chain_node \"%s\" is not the SF whose fwd.end_of_chain counter moves when pings cross the chain",
			    eoc);
	else
		lab_ok(c, "end_of_chain_node %s: its fwd.end_of_chain counter moved with the checker's pings", eoc);

	if (!named) {
		lab_problem(c, "\"decap_counter\" is not filled in yet: the name of dec's counter that counts frames whose NSH was checked and stripped (cadeia-stage stats)");
	} else {
		struct cs_counter cs[64];
		size_t n = 64;
		bool exists = false;
		char pin[96];
		struct cs_err cerr;

		lab_node_name(c, ch->sfs[0], pin, sizeof(pin));
		if (cs_stats_read(pin, CS_STAGE_DEC, cs, &n, &cerr) == 0)
			for (size_t i = 0; i < n; i++)
				exists |= strcmp(cs[i].name, named) == 0;
		if (!exists)
			lab_problem(c, "decap_counter \"%s\" is not one of dec's counters: `cadeia-stage stats --node %s` lists them",
				    named, pin);
		else if (!named_ok || rx <= 0)
			lab_problem(c, "decap_counter \"%s\" did not grow by one per echo request on every SF while the checker pinged: it is not the counter of stripped NSH headers",
				    named);
		else
			lab_ok(c, "decap_counter %s grew with every NSH frame on every SF", named);
	}
cleanup:
	if (cap)
		for (int k = 0; k < np; k++)
			lab_cap_close(&cap[k]);
	free(cap);
	json_decref(ans);
	return 0;
}

/* ==== lab 2: control plane ================================================== */

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
			    w->dest, ip_str(c->sc.nodes[dest].ip, a), w->spi);
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
		dec0[i] = stat_of(c, i, CS_STAGE_DEC, "decap");
		end0[i] = stat_of(c, i, CS_STAGE_FWD, "end_of_chain");
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
		d = stat_of(c, i, CS_STAGE_DEC, "decap") - dec0[i];
		e = stat_of(c, i, CS_STAGE_FWD, "end_of_chain") - end0[i];
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
	if ((src = node_idx(c, "src")) < 0 || node_idx(c, "dest2") < 0 || node_idx(c, "sf3") < 0)
		return -1;
	check_functions_alive(c);
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

/* ==== lab 3: a legacy function ============================================== */

#define LAB3_BLOCKED 7777
#define LAB3_OPEN 7778
#define LAB3_FRAMES 5

static bool newer(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       (sa.st_mtim.tv_sec > sb.st_mtim.tv_sec ||
		(sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec >= sb.st_mtim.tv_nsec));
}

int lab_check3(struct lab_ctx *c)
{
	int sf, src, dest, tx = -1, rx_open = -1, rx_blocked = -1, n;
	char ns[96], err[512], bin[1024], srcfile[1024], log[1024], a[INET_ADDRSTRLEN];
	unsigned in_open = 0, in_blocked = 0, out_open = 0, out_blocked = 0;
	uint8_t in_si = 0, out_si = 0;
	uint64_t decap0, encap0;
	struct lab_cap *cap = NULL;
	pid_t pids[8], started = -1;
	const struct sc_chain *ch;

	if (lab_open_run(c, "lab3") < 0)
		return -1;
	ch = &c->sc.chains[0];
	sf = ch->sfs[0];
	src = ch->src;
	dest = ch->dest;
	if (c->sc.nodes[sf].fn != SC_FN_EXTERNAL) {
		lab_problem(c, "the chain's first SF %s is not \"function\": \"external\": bring the testbed up from docs/labs/scenarios/lab3.json",
			    c->sc.nodes[sf].name);
		return -1;
	}
	lab_node_name(c, sf, ns, sizeof(ns));
	lab_path(c, "portfilter", bin, sizeof(bin));
	lab_path(c, "portfilter.c", srcfile, sizeof(srcfile));
	lab_path(c, "portfilter.log", log, sizeof(log));

	n = lab_netns_pids(ns, pids, 8);
	if (n > 0) {
		char exe[256] = "?", p[64];
		ssize_t l;

		snprintf(p, sizeof(p), "/proc/%d/exe", (int)pids[0]);
		l = readlink(p, exe, sizeof(exe) - 1);
		exe[l > 0 ? l : 1] = '\0';
		lab_info(c, "your function runs in %s as pid %d (%s); checking that one", ns,
			 (int)pids[0], exe);
	} else {
		char *argv[3] = { bin, c->sc.nodes[sf].ifname, NULL };
		int status;

		if (access(srcfile, R_OK) < 0) {
			lab_problem(c, "%s: %s; start from the template: cp -r docs/labs/templates/3 %s/",
				    srcfile, strerror(errno), c->dir);
			return -1;
		}
		if (access(bin, X_OK) < 0 || !newer(bin, srcfile)) {
			lab_problem(c, "%s is %s: build it with `make labs LAB=%s`", bin,
				    access(bin, X_OK) < 0 ? "not built" : "older than portfilter.c",
				    c->dir);
			return -1;
		}
		if (bin[0] != '/') {
			char cwd[512];

			if (getcwd(cwd, sizeof(cwd))) {
				char tmp[1024];

				snprintf(tmp, sizeof(tmp), "%s/%s", cwd, bin);
				snprintf(bin, sizeof(bin), "%s", tmp);
			}
		}
		started = lab_spawn_in_netns(ns, argv, log, err, sizeof(err));
		if (started < 0) {
			lab_problem(c, "starting %s in %s: %s", bin, ns, err);
			return -1;
		}
		lab_sleep_ms(300);
		if (waitpid(started, &status, WNOHANG) == started) {
			lab_problem(c, "%s %s exited at once (status %d) inside %s; its output is in %s",
				    bin, c->sc.nodes[sf].ifname,
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1, ns, log);
			return -1;
		}
		lab_info(c, "started %s %s inside %s (no function was running there); its output goes to %s",
			 bin, c->sc.nodes[sf].ifname, ns, log);
	}

	cap = calloc(1, sizeof(*cap));
	if (!cap)
		goto cleanup;
	cap->fd = -1;
	if (lab_cap_open(cap, ns, err, sizeof(err)) < 0) {
		lab_problem(c, "cannot capture on the testbed: %s", err);
		goto cleanup;
	}
	decap0 = stat_of(c, sf, CS_STAGE_DEC, "decap");
	encap0 = stat_of(c, sf, CS_STAGE_ENC, "encap");
	{
		char sns[96], dns[96];
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = c->sc.nodes[dest].ip };
		char payload[64];

		lab_node_name(c, src, sns, sizeof(sns));
		lab_node_name(c, dest, dns, sizeof(dns));
		if ((tx = lab_udp_socket(sns, 0, err, sizeof(err))) < 0 ||
		    (rx_open = lab_udp_socket(dns, LAB3_OPEN, err, sizeof(err))) < 0 ||
		    (rx_blocked = lab_udp_socket(dns, LAB3_BLOCKED, err, sizeof(err))) < 0) {
			lab_problem(c, "%s", err);
			goto cleanup;
		}
		memset(payload, 'x', sizeof(payload));
		for (int i = 0; i < LAB3_FRAMES; i++) {
			to.sin_port = htons(LAB3_OPEN);
			sendto(tx, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to));
			to.sin_port = htons(LAB3_BLOCKED);
			sendto(tx, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to));
			lab_sleep_ms(20);
		}
		lab_sleep_ms(500);
	}
	lab_cap_drain(cap);
	for (size_t i = 0; i < cap->n; i++) {
		const struct lab_frame *f = &cap->f[i];

		if (!f->nsh || !f->ipv4 || f->proto != IPPROTO_UDP)
			continue;
		if (f->outgoing) {
			in_open += f->dport == LAB3_OPEN;
			in_blocked += f->dport == LAB3_BLOCKED;
			in_si = f->si;
		} else {
			out_open += f->dport == LAB3_OPEN;
			out_blocked += f->dport == LAB3_BLOCKED;
			out_si = f->si;
		}
	}
	n = lab_udp_count(rx_open);
	if (n == LAB3_FRAMES)
		lab_ok(c, "all %d datagrams to UDP port %d reached %s (%s) through the chain", n,
		       LAB3_OPEN, c->sc.nodes[dest].name, ip_str(c->sc.nodes[dest].ip, a));
	else
		lab_problem(c, "%d of %d datagrams to UDP port %d reached %s: your function must send every frame it does not filter back out of %s unchanged (see forward() in the template)",
			    n, LAB3_FRAMES, LAB3_OPEN, c->sc.nodes[dest].name, c->sc.nodes[sf].ifname);
	n = lab_udp_count(rx_blocked);
	if (n == 0)
		lab_ok(c, "no datagram to the filtered UDP port %d reached %s", LAB3_BLOCKED,
		       c->sc.nodes[dest].name);
	else
		lab_problem(c, "%d of %d datagrams to UDP port %d (the port to filter) reached %s: your function forwards them; drop IPv4 UDP and TCP frames whose destination port is %d (keep_frame() in the template)",
			    n, LAB3_FRAMES, LAB3_BLOCKED, c->sc.nodes[dest].name, LAB3_BLOCKED);
	if (in_open >= LAB3_FRAMES && in_blocked >= LAB3_FRAMES)
		lab_ok(c, "on the wire into %s every datagram carried NSH (SPI %u, SI %u)",
		       c->sc.nodes[sf].name, ch->spi, in_si);
	else
		lab_problem(c, "only %u + %u of the datagrams arrived at %s with NSH: the classifier or the chain is not as lab3.json sets it up",
			    in_open, in_blocked, c->sc.nodes[sf].name);
	if (out_open >= LAB3_FRAMES && out_si + 1 == in_si)
		lab_ok(c, "out of %s the forwarded datagrams carry NSH again, SI %u: the stages restored a header your function never saw",
		       c->sc.nodes[sf].name, out_si);
	else if (out_open)
		lab_problem(c, "datagrams left %s with NSH SI %u instead of SI %u", c->sc.nodes[sf].name,
			    out_si, in_si - 1);
	else
		lab_problem(c, "no datagram to port %d left %s with NSH: the function did not send them back out of %s",
			    LAB3_OPEN, c->sc.nodes[sf].name, c->sc.nodes[sf].ifname);
	if (out_blocked)
		lab_problem(c, "%u datagrams to port %d left %s: the filter must drop them", out_blocked,
			    LAB3_BLOCKED, c->sc.nodes[sf].name);
	if (stat_of(c, sf, CS_STAGE_DEC, "decap") - decap0 >= 2 * LAB3_FRAMES &&
	    stat_of(c, sf, CS_STAGE_ENC, "encap") - encap0 >= (uint64_t)out_open && out_open)
		lab_ok(c, "%s's dec stripped NSH before your function and enc restored it after (counters decap and encap)",
		       c->sc.nodes[sf].name);
cleanup:
	if (tx >= 0)
		close(tx);
	if (rx_open >= 0)
		close(rx_open);
	if (rx_blocked >= 0)
		close(rx_blocked);
	if (cap)
		lab_cap_close(cap);
	free(cap);
	lab_stop(started);
	return 0;
}

/* ==== lab 5: evaluate ======================================================= */

static json_t *load_run_file(struct lab_ctx *c, const char *dir, const char *file, const char *key)
{
	char path[1200];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	j = json_load_file(path, 0, &jerr);
	if (!j)
		lab_problem(c, "%s (\"%s\" in answers.json): %s", path, key, jerr.text);
	return j;
}

static json_t *series(json_t *summary, const char *arch)
{
	json_t *ch;
	size_t i;

	json_array_foreach(json_object_get(summary, "chains"), i, ch) {
		const char *a = json_string_value(json_object_get(ch, "architecture"));

		if (!arch || (a && strcmp(a, arch) == 0))
			return ch;
	}
	return NULL;
}

/* The slope of one series in the fit the student chose. */
static bool slope_of(json_t *ser, const char *fit, double *slope)
{
	json_t *f = json_object_get(ser, strcmp(fit, "median") == 0 ? "fit_median" : "fit");

	if (!json_is_number(json_object_get(f, "slope_us")))
		return false;
	*slope = json_number_value(json_object_get(f, "slope_us"));
	return true;
}

static bool close_enough(double a, double b)
{
	return fabs(a - b) <= fmax(0.05, 0.01 * fabs(b));
}

static bool check_answer(struct lab_ctx *c, json_t *ans, const char *key, double file_slope,
			 const char *where)
{
	json_t *v = json_object_get(ans, key);

	if (!json_is_number(v)) {
		lab_problem(c, "\"%s\" is not filled in yet: read it from %s", key, where);
		return false;
	}
	if (!close_enough(json_number_value(v), file_slope)) {
		lab_problem(c, "\"%s\" is %g, which is not the slope in %s (read it again; the tolerance is 1 %%)",
			    key, json_number_value(v), where);
		return false;
	}
	lab_ok(c, "%s %.2f us/SF matches %s", key, json_number_value(v), where);
	return true;
}

int lab_check5(struct lab_ctx *c)
{
	json_t *ans, *qsum = NULL, *qmeta = NULL, *csum = NULL, *cmeta = NULL, *ca, *ph;
	const char *qdir, *cdir, *fit, *expl;
	double s_quick, s_ca, s_ph;
	char where[1200];
	bool have_ca = false, have_ph = false;

	ans = lab_load_json(c, "answers.json");
	if (!ans)
		return -1;
	fit = json_string_value(json_object_get(ans, "fit")) ?: "mean";
	if (strcmp(fit, "mean") && strcmp(fit, "median")) {
		lab_problem(c, "\"fit\" must be \"mean\" or \"median\", not \"%s\"", fit);
		goto cleanup;
	}
	qdir = json_string_value(json_object_get(ans, "quick_results"));
	cdir = json_string_value(json_object_get(ans, "compare_results"));
	if (!qdir || !*qdir)
		lab_problem(c, "\"quick_results\" is not filled in yet: the directory `cadeia-bench run scenarios/quick.json` printed");
	if (!cdir || !*cdir)
		lab_problem(c, "\"compare_results\" is not filled in yet: the directory `cadeia-bench run docs/labs/scenarios/lab5-compare.json` printed");

	if (qdir && *qdir && (qsum = load_run_file(c, qdir, "summary.json", "quick_results")) &&
	    (qmeta = load_run_file(c, qdir, "meta.json", "quick_results"))) {
		json_t *ser = series(qsum, NULL);
		const char *st = json_string_value(json_object_get(qmeta, "status"));

		if (strcmp(json_string_value(json_object_get(qsum, "scenario")) ?: "", "quick") != 0)
			lab_problem(c, "%s is a run of scenario \"%s\", not of scenarios/quick.json", qdir,
				    json_string_value(json_object_get(qsum, "scenario")) ?: "?");
		else if (!st || strcmp(st, "complete") != 0)
			lab_problem(c, "%s is marked \"%s\": run quick.json again to the end", qdir,
				    st ?: "?");
		else if (json_array_size(json_object_get(ser, "points")) < 5)
			lab_problem(c, "%s has %zu chain lengths; figure 6 of quick.json has 5 (0..4)",
				    qdir, json_array_size(json_object_get(ser, "points")));
		else if (!slope_of(ser, fit, &s_quick))
			lab_problem(c, "%s has no %s fit", qdir, fit);
		else {
			lab_ok(c, "%s: a complete figure-6 run of quick.json", qdir);
			snprintf(where, sizeof(where), "%s/summary.json (%s fit)", qdir, fit);
			check_answer(c, ans, "slope_quick_us", s_quick, where);
		}
	}
	if (cdir && *cdir && (csum = load_run_file(c, cdir, "summary.json", "compare_results")) &&
	    (cmeta = load_run_file(c, cdir, "meta.json", "compare_results"))) {
		const char *st = json_string_value(json_object_get(cmeta, "status"));

		ca = series(csum, "cadeia-aberta");
		ph = series(csum, "phantomsfc");
		snprintf(where, sizeof(where), "%s/summary.json (%s fit)", cdir, fit);
		if (!st || strcmp(st, "complete") != 0) {
			lab_problem(c, "%s is marked \"%s\": run the comparison again to the end", cdir,
				    st ?: "?");
		} else if (!ca || !ph) {
			lab_problem(c, "%s does not compare cadeia-aberta with phantomsfc: run docs/labs/scenarios/lab5-compare.json",
				    cdir);
		} else {
			lab_ok(c, "%s: a complete run of both architectures", cdir);
			if ((have_ca = slope_of(ca, fit, &s_ca)))
				check_answer(c, ans, "slope_cadeia_aberta_us", s_ca, where);
			if ((have_ph = slope_of(ph, fit, &s_ph)))
				check_answer(c, ans, "slope_phantomsfc_us", s_ph, where);
		}
	}
	if (have_ca && have_ph) {
		if (s_ph > s_ca)
			lab_ok(c, "in your comparison the forwarder-based phantomsfc adds more per SF (%.2f us) than cadeia-aberta (%.2f us)",
			       s_ph, s_ca);
		else
			lab_problem(c, "in your comparison phantomsfc's slope (%.2f us/SF) is not larger than cadeia-aberta's (%.2f us/SF), unlike every undisturbed run: the machine was probably busy (see \"Noise\" in the sheet); run the comparison again, or use \"fit\": \"median\"",
				    s_ph, s_ca);
	}
	expl = json_string_value(json_object_get(ans, "explanation"));
	if (!expl || strlen(expl) < 40)
		lab_problem(c, "\"explanation\" is %s: explain in a few sentences what each slope is made of and why they differ (question 4 of the sheet)",
			    expl ? "too short" : "not filled in yet");
	else
		lab_ok(c, "an explanation is given (%zu characters; your instructor reads it)", strlen(expl));
cleanup:
	json_decref(qsum);
	json_decref(qmeta);
	json_decref(csum);
	json_decref(cmeta);
	json_decref(ans);
	return 0;
}
