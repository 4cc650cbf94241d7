/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lab 1's checker: NSH on the wire. It captures the frames of a few pings on
 * every hop of the chain and compares the student's answers with them.
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

/* The echo requests the capture on the link into `to` saw. */
static void hop_frames(struct lab_ctx *c, struct lab_cap *cap, const struct sc_node *to,
		       uint32_t dest_ip, struct hop_seen *s)
{
	lab_cap_drain(cap);
	for (size_t i = 0; i < cap->n; i++) {
		const struct lab_frame *f = &cap->f[i];

		if (f->outgoing || memcmp(f->dst, to->mac, 6) || !f->ipv4 ||
		    f->proto != IPPROTO_ICMP || f->icmp_type != 8 || f->daddr != dest_ip)
			continue;
		if (s->frames &&
		    (s->nsh != f->nsh || s->spi != f->spi || s->si != f->si || s->ttl != f->ttl))
			s->mixed = true;
		s->frames++;
		s->nsh = f->nsh;
		s->spi = f->spi;
		s->si = f->si;
		s->ttl = f->ttl;
	}
}

/* Each hop's headers against the answers. */
static void check_hops(struct lab_ctx *c, json_t *ans, struct lab_cap *cap, const int *path,
		       int np, uint32_t dest_ip)
{
	for (int k = 0; k < np - 1; k++) {
		const struct sc_node *from = &c->sc.nodes[path[k]], *to = &c->sc.nodes[path[k + 1]];
		struct hop_seen s = { 0 };

		hop_frames(c, &cap[k], to, dest_ip, &s);
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
}

static void check_end_node(struct lab_ctx *c, json_t *ans, int end_node)
{
	const char *eoc = json_string_value(json_object_get(ans, "end_of_chain_node"));

	if (!eoc)
		lab_problem(c, "\"end_of_chain_node\" is not filled in yet: which SF's fwd strips the NSH and delivers the inner frame? (cadeia-stage stats --node <run>-<sf>)");
	else if (end_node < 0)
		lab_problem(c, "no SF counted fwd.end_of_chain while the checker pinged; is the chain up?");
	else if (strcmp(eoc, c->sc.nodes[end_node].name) != 0)
		lab_problem(c, "end_of_chain_node \"%s\" is not the SF whose fwd.end_of_chain counter moves when pings cross the chain",
			    eoc);
	else
		lab_ok(c, "end_of_chain_node %s: its fwd.end_of_chain counter moved with the checker's pings", eoc);
}

/* The answered decap counter exists on dec and grew on every SF. */
static void check_named(struct lab_ctx *c, const char *named, int sf, bool grew)
{
	struct cs_counter cs[64];
	size_t n = 64;
	bool exists = false;
	char pin[96];
	struct cs_err cerr;

	if (!named) {
		lab_problem(c, "\"decap_counter\" is not filled in yet: the name of dec's counter that counts frames whose NSH was checked and stripped (cadeia-stage stats)");
		return;
	}
	lab_node_name(c, sf, pin, sizeof(pin));
	if (cs_stats_read(pin, CS_STAGE_DEC, cs, &n, &cerr) == 0)
		for (size_t i = 0; i < n; i++)
			exists |= strcmp(cs[i].name, named) == 0;
	if (!exists)
		lab_problem(c, "decap_counter \"%s\" is not one of dec's counters: `cadeia-stage stats --node %s` lists them",
			    named, pin);
	else if (!grew)
		lab_problem(c, "decap_counter \"%s\" did not grow by one per echo request on every SF while the checker pinged: it is not the counter of stripped NSH headers",
			    named);
	else
		lab_ok(c, "decap_counter %s grew with every NSH frame on every SF", named);
}

/* Pings from src to dest; the replies, or -1 (reported). */
static int lab1_ping(struct lab_ctx *c, const struct sc_chain *ch)
{
	char link[96], err[512], a[INET_ADDRSTRLEN];
	int rx;

	lab_node_name(c, ch->src, link, sizeof(link));
	rx = lab_ping(link, c->sc.nodes[ch->dest].ip, LAB1_PINGS, err, sizeof(err));
	lab_sleep_ms(200);
	if (rx < 0)
		lab_problem(c, "%s", err);
	else if (rx < LAB1_PINGS)
		lab_problem(c, "only %d of %d pings from src to %s (%s) came back: is the chain installed at full length (`cadeia-bench up docs/labs/scenarios/lab1.json`)?",
			    rx, LAB1_PINGS, c->sc.nodes[ch->dest].name,
			    lab_ip_str(c->sc.nodes[ch->dest].ip, a));
	else
		lab_ok(c, "the chain delivers pings: %d of %d echo requests crossed %d SFs", rx,
		       LAB1_PINGS, ch->n_sfs);
	return rx;
}

int lab_check1(struct lab_ctx *c)
{
	int path[SC_MAX_CHAIN_LEN + 2], np = 0, rx, end_node = -1;
	uint64_t end0[SC_MAX_CHAIN_LEN], named0[SC_MAX_CHAIN_LEN];
	struct lab_cap *cap = NULL;
	const struct sc_chain *ch;
	const char *named = NULL;
	char link[96], err[512];
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
		end0[k] = lab_stat(c, ch->sfs[k], CS_STAGE_FWD, "end_of_chain");
		named0[k] = named ? lab_stat(c, ch->sfs[k], CS_STAGE_DEC, named) : 0;
	}
	if ((rx = lab1_ping(c, ch)) < 0)
		goto cleanup;
	check_hops(c, ans, cap, path, np, c->sc.nodes[ch->dest].ip);
	for (int k = 0; k < ch->n_sfs; k++) {
		if (rx > 0 && lab_stat(c, ch->sfs[k], CS_STAGE_FWD, "end_of_chain") - end0[k] >= (uint64_t)rx)
			end_node = ch->sfs[k];
		if (named && lab_stat(c, ch->sfs[k], CS_STAGE_DEC, named) - named0[k] < (uint64_t)rx)
			named_ok = false;
	}
	if (ans) {
		check_end_node(c, ans, end_node);
		check_named(c, named, ch->sfs[0], named_ok && rx > 0);
	}
cleanup:
	if (cap)
		for (int k = 0; k < np; k++)
			lab_cap_close(&cap[k]);
	free(cap);
	json_decref(ans);
	return 0;
}
