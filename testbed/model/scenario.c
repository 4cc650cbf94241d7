/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/jsonpos.h"
#include "model/num.h"
#include "model/sc_parse.h"
#include "nsh.h"
#include "model/scenario.h"

struct ctx {
	const char *file;
	struct jpos pos;
	struct sc_err *err;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	const struct sc_where w = { .file = c->file, .pos = &c->pos, .err = c->err };
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sc_vfail(&w, path, fmt, ap);
	va_end(ap);
	return ret;
}

/* Unknown keys are errors: typos must not silently fall back to defaults. */
static int check_keys(struct ctx *c, json_t *obj, const char *path, const char *const *allowed)
{
	const struct sc_where w = { .file = c->file, .pos = &c->pos, .err = c->err };

	return sc_check_keys(&w, obj, path, allowed);
}

static int want_object(struct ctx *c, json_t *v, const char *path)
{
	if (!json_is_object(v))
		return fail(c, path, "must be an object");
	return 0;
}

static int get_string(struct ctx *c, json_t *obj, const char *path, const char *key,
		      const char **out, bool required)
{
	char sub[512];
	json_t *v = json_object_get(obj, key);

	snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
	if (!v) {
		if (required)
			return fail(c, path, "missing required key '%s'", key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(c, sub, "must be a string");
	*out = json_string_value(v);
	return 0;
}

static int get_int(struct ctx *c, json_t *obj, const char *path, const char *key,
		   long long lo, long long hi, long long *out, bool required)
{
	char sub[512];
	json_t *v = json_object_get(obj, key);

	snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
	if (!v) {
		if (required)
			return fail(c, path, "missing required key '%s'", key);
		return 0;
	}
	if (!json_is_integer(v))
		return fail(c, sub, "must be an integer");
	if (json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(c, sub, "%lld is out of range %lld..%lld",
			    (long long)json_integer_value(v), lo, hi);
	*out = json_integer_value(v);
	return 0;
}

static int get_number(struct ctx *c, json_t *obj, const char *path, const char *key,
		      double lo, double hi, double *out)
{
	char sub[512];
	json_t *v = json_object_get(obj, key);

	snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
	if (!v)
		return 0;
	if (!json_is_number(v))
		return fail(c, sub, "must be a number");
	if (json_number_value(v) < lo || json_number_value(v) > hi)
		return fail(c, sub, "%g is out of range %g..%g", json_number_value(v), lo, hi);
	*out = json_number_value(v);
	return 0;
}

static int parse_fn(struct ctx *c, const char *path, const char *s, enum sc_fn *fn)
{
	if (strcmp(s, "wire") == 0)
		*fn = SC_FN_WIRE;
	else if (strcmp(s, "kwire") == 0)
		*fn = SC_FN_KWIRE;
	else if (strcmp(s, "nsh-aware") == 0)
		*fn = SC_FN_NSH_AWARE;
	else if (strcmp(s, "external") == 0)
		*fn = SC_FN_EXTERNAL;
	else if (strcmp(s, "ovs") == 0)
		*fn = SC_FN_OVS;
	else if (strcmp(s, "delay") == 0)
		*fn = SC_FN_DELAY;
	else if (strcmp(s, "floor") == 0)
		*fn = SC_FN_FLOOR;
	else if (strcmp(s, "firewall") == 0)
		*fn = SC_FN_FIREWALL;
	else if (strcmp(s, "nat") == 0)
		*fn = SC_FN_NAT;
	else if (strcmp(s, "lb") == 0)
		*fn = SC_FN_LB;
	else if (strcmp(s, "monitor") == 0)
		*fn = SC_FN_MONITOR;
	else
		return fail(c, path, "unknown function '%s' (expected wire, kwire, nsh-aware, external, ovs, delay, firewall, nat, lb or monitor)", s);
	return 0;
}

struct defaults {
	enum sc_fn fn;
	int cpu;
	int busy_poll_us;
	unsigned delay_us;
};

static int parse_defaults(struct ctx *c, json_t *root, struct defaults *d)
{
	static const char *const keys[] = { "function", "cpu", "busy_poll_us", "delay_us", NULL };
	json_t *o = json_object_get(root, "defaults");
	const char *s = NULL;
	long long v;
	int ret;

	d->fn = SC_FN_WIRE;
	d->cpu = -1;
	d->busy_poll_us = 0;
	d->delay_us = SC_DELAY_DEFAULT_US;
	if (!o)
		return 0;
	if ((ret = want_object(c, o, "defaults")) || (ret = check_keys(c, o, "defaults", keys)))
		return ret;
	if ((ret = get_string(c, o, "defaults", "function", &s, false)))
		return ret;
	if (s && (ret = parse_fn(c, "defaults.function", s, &d->fn)))
		return ret;
	v = d->cpu;
	if ((ret = get_int(c, o, "defaults", "cpu", -1, 1023, &v, false)))
		return ret;
	d->cpu = v;
	v = 0;
	if ((ret = get_int(c, o, "defaults", "busy_poll_us", 0, 1000000, &v, false)))
		return ret;
	d->busy_poll_us = v;
	v = d->delay_us;
	if ((ret = get_int(c, o, "defaults", "delay_us", 1, 1000000, &v, false)))
		return ret;
	d->delay_us = v;
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/*
 * An interface name the kernel takes as it is: dev_valid_name() refuses "",
 * ".", "..", over IFNAMSIZ - 1 bytes, '/', ':' and blanks; '%' would make
 * the kernel pick a name of its own (eth%d); "lo" is already in every node.
 */
static int check_ifname(struct ctx *c, const char *path, const char *s)
{
	if (!*s)
		return fail(c, path, "must not be empty");
	if (strlen(s) > SC_IFNAME_MAX)
		return fail(c, path, "'%s' is %zu bytes long, over the kernel's limit of %d", s,
			    strlen(s), SC_IFNAME_MAX);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return fail(c, path, "'%s' is not a valid interface name", s);
	for (const char *p = s; *p; p++)
		if (strchr("/:% \t\n\v\f\r", *p))
			return fail(c, path, "'%s' has '%s' at byte %td, which the kernel does not take in an interface name",
				    s, *p == '/' ? "/" : *p == ':' ? ":" : *p == '%' ? "%" : "a blank",
				    p - s + 1);
	if (strcmp(s, "lo") == 0)
		return fail(c, path, "'lo' is the node's loopback interface; choose another name");
	return 0;
}

/* nodes[i].name: a name that makes valid, unique host interface names. */
static int check_node_name(struct ctx *c, const char *path, const struct scenario *sc, size_t i,
			   const char *name)
{
	char sub[96];

	snprintf(sub, sizeof(sub), "%s.name", path);
	if (!valid_name(name) || name[0] == '_')
		return fail(c, sub, "'%s' must be letters, digits and '_', not starting with '_' (reserved for generated nodes)", name);
	/* Host-side link is "<prefix>-<name>": it must fit IFNAMSIZ. */
	if (SC_RUN_PREFIX_LEN + 1 + strlen(name) > SC_IFNAME_MAX)
		return fail(c, sub,
			    "'%s' makes the host interface name 'cbXXXX-%s' %zu bytes long, over the kernel's limit of %d",
			    name, name, SC_RUN_PREFIX_LEN + 1 + strlen(name), SC_IFNAME_MAX);
	for (size_t j = 0; j < i; j++) {
		if (strcmp(sc->nodes[j].name, name) == 0) {
			char first[64];
			int line, col;

			snprintf(first, sizeof(first), "nodes[%zu].name", j);
			jpos_lookup(&c->pos, first, &line, &col);
			return fail(c, sub, "duplicate node name '%s' (first defined at line %d)",
				    name, line);
		}
	}
	return 0;
}

/* root's required key: a non-empty array of at most max entries ("nodes", "chains"). */
static int get_list(struct ctx *c, json_t *root, const char *key, int max, json_t **arr)
{
	*arr = json_object_get(root, key);
	if (!*arr)
		return fail(c, "", "missing required key '%s'", key);
	if (!json_is_array(*arr) || json_array_size(*arr) == 0)
		return fail(c, key, "must be a non-empty array");
	if (json_array_size(*arr) > (size_t)max)
		return fail(c, key, "%zu %s, at most %d supported", json_array_size(*arr), key, max);
	return 0;
}

static int parse_nodes(struct ctx *c, json_t *root, struct scenario *sc, const struct defaults *d)
{
	static const char *const keys[] = { "name", "role", "function", "ifname", "cpu",
					    "busy_poll_us", "delay_us", "host", "rules", "rules_file",
					    "backends", "nat_address", NULL };
	json_t *arr, *o;
	size_t i;
	int ret;

	if ((ret = get_list(c, root, "nodes", SC_MAX_FILE_NODES, &arr)))
		return ret;
	json_array_foreach(arr, i, o) {
		struct sc_node *n = &sc->nodes[i];
		const char *name = NULL, *role = NULL, *fn = NULL, *ifname = NULL;
		char path[64], sub[96];
		long long v;

		snprintf(path, sizeof(path), "nodes[%zu]", i);
		if ((ret = want_object(c, o, path)) || (ret = check_keys(c, o, path, keys)))
			return ret;
		if ((ret = get_string(c, o, path, "name", &name, true)) ||
		    (ret = get_string(c, o, path, "role", &role, true)) ||
		    (ret = get_string(c, o, path, "function", &fn, false)) ||
		    (ret = get_string(c, o, path, "ifname", &ifname, false)))
			return ret;
		if ((ret = check_node_name(c, path, sc, i, name)))
			return ret;
		snprintf(n->name, sizeof(n->name), "%s", name);
		snprintf(sub, sizeof(sub), "%s.role", path);
		if (strcmp(role, "src") == 0)
			n->role = SC_ROLE_SRC;
		else if (strcmp(role, "dest") == 0)
			n->role = SC_ROLE_DEST;
		else if (strcmp(role, "sf") == 0)
			n->role = SC_ROLE_SF;
		else
			return fail(c, sub, "unknown role '%s' (expected src, dest or sf)", role);
		n->fn = n->role == SC_ROLE_SF ? d->fn : SC_FN_NONE;
		n->cpu = d->cpu;
		n->busy_poll_us = d->busy_poll_us;
		if (fn) {
			snprintf(sub, sizeof(sub), "%s.function", path);
			if (n->role != SC_ROLE_SF)
				return fail(c, sub, "only nodes with role 'sf' run a function");
			if ((ret = parse_fn(c, sub, fn, &n->fn)))
				return ret;
		}
		snprintf(n->ifname, sizeof(n->ifname), "eth0");
		if (ifname) {
			snprintf(sub, sizeof(sub), "%s.ifname", path);
			if ((ret = check_ifname(c, sub, ifname)))
				return ret;
			snprintf(n->ifname, sizeof(n->ifname), "%s", ifname);
		}
		v = n->cpu;
		if ((ret = get_int(c, o, path, "cpu", -1, 1023, &v, false)))
			return ret;
		n->cpu = v;
		v = n->busy_poll_us;
		if ((ret = get_int(c, o, path, "busy_poll_us", 0, 1000000, &v, false)))
			return ret;
		n->busy_poll_us = v;
		n->delay_us = d->delay_us;
		v = n->delay_us;
		if ((ret = get_int(c, o, path, "delay_us", 1, 1000000, &v, false)))
			return ret;
		n->delay_us = v;
		sc->n_nodes++;
	}
	return 0;
}

static int only_node_of_role(const struct scenario *sc, enum sc_role r)
{
	int found = -1;

	for (int i = 0; i < sc->n_nodes; i++) {
		if (sc->nodes[i].role != r)
			continue;
		if (found >= 0)
			return -2; /* ambiguous */
		found = i;
	}
	return found;
}

static int chain_endpoint(struct ctx *c, json_t *o, const char *path, const char *key,
			  struct scenario *sc, enum sc_role role, int *out)
{
	const char *name = NULL;
	char sub[128];
	int ret, idx;

	if ((ret = get_string(c, o, path, key, &name, false)))
		return ret;
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!name) {
		idx = only_node_of_role(sc, role);
		if (idx == -1)
			return fail(c, path, "no node with role '%s' in the scenario", sc_role_name(role));
		if (idx == -2)
			return fail(c, path, "several nodes have role '%s': say which with '%s'",
				    sc_role_name(role), key);
		*out = idx;
		return 0;
	}
	idx = sc_node_index(sc, name);
	if (idx < 0)
		return fail(c, sub, "unknown node '%s'", name);
	if (sc->nodes[idx].role != role)
		return fail(c, sub, "node '%s' has role '%s', not '%s'", name,
			    sc_role_name(sc->nodes[idx].role), sc_role_name(role));
	*out = idx;
	return 0;
}

static int parse_match(struct ctx *c, json_t *o, const char *path, struct sc_chain *ch)
{
	static const char *const keys[] = { "proto", "sport", "dport", NULL };
	json_t *m = json_object_get(o, "match"), *p;
	char mpath[96], sub[128];
	long long v;
	int ret;

	ch->proto = IPPROTO_ICMP; /* the paper classifies src->dest ping */
	if (!m)
		return 0;
	snprintf(mpath, sizeof(mpath), "%s.match", path);
	if ((ret = want_object(c, m, mpath)) || (ret = check_keys(c, m, mpath, keys)))
		return ret;
	p = json_object_get(m, "proto");
	snprintf(sub, sizeof(sub), "%s.proto", mpath);
	if (p && json_is_string(p)) {
		const char *s = json_string_value(p);

		if (strcmp(s, "icmp") == 0)
			ch->proto = IPPROTO_ICMP;
		else if (strcmp(s, "udp") == 0)
			ch->proto = IPPROTO_UDP;
		else if (strcmp(s, "tcp") == 0)
			ch->proto = IPPROTO_TCP;
		else if (strcmp(s, "any") == 0)
			ch->proto = 0;
		else
			return fail(c, sub, "unknown protocol '%s' (expected icmp, udp, tcp or any)", s);
	} else if (p) {
		v = 0;
		if ((ret = get_int(c, m, mpath, "proto", 0, 255, &v, false)))
			return ret;
		ch->proto = v;
	}
	v = 0;
	if ((ret = get_int(c, m, mpath, "sport", 0, 65535, &v, false)))
		return ret;
	ch->sport = v;
	v = 0;
	if ((ret = get_int(c, m, mpath, "dport", 0, 65535, &v, false)))
		return ret;
	ch->dport = v;
	if ((ch->sport || ch->dport) && ch->proto != IPPROTO_UDP && ch->proto != IPPROTO_TCP)
		return fail(c, mpath, "ports can only be matched with proto udp or tcp");
	return 0;
}

static int parse_inner(struct ctx *c, const char *path, const char *inner, struct sc_chain *ch)
{
	char sub[96];

	snprintf(sub, sizeof(sub), "%s.inner", path);
	if (strcmp(inner, "ethernet") == 0)
		ch->inner = NSH_NP_ETH;
	else if (strcmp(inner, "ipv4") == 0)
		ch->inner = NSH_NP_IPV4;
	else
		return fail(c, sub, "unknown inner protocol '%s' (expected ethernet or ipv4)", inner);
	return 0;
}

/* chains[i].sfs: SF names, each taking one SI and one TTL step. */
static int parse_chain_sfs(struct ctx *c, json_t *o, const char *path, struct scenario *sc,
			   struct sc_chain *ch)
{
	json_t *sfs, *e;
	char sub[128];
	size_t k;

	sfs = json_object_get(o, "sfs");
	snprintf(sub, sizeof(sub), "%s.sfs", path);
	if (!sfs)
		return fail(c, path, "missing required key 'sfs'");
	if (!json_is_array(sfs))
		return fail(c, sub, "must be an array of SF names");
	/* Each SF takes one SI and one TTL step; SI 0 and TTL 0 drop. */
	if (json_array_size(sfs) > (size_t)ch->si - 1 || json_array_size(sfs) > SC_MAX_CHAIN_LEN) {
		size_t max = (size_t)ch->si - 1 < SC_MAX_CHAIN_LEN ? (size_t)ch->si - 1
								 : SC_MAX_CHAIN_LEN;
		return fail(c, sub,
			    "%zu SFs, but starting SI %u allows at most %zu (SI must stay above 0 and TTL %d above 1)",
			    json_array_size(sfs), ch->si, max, NSH_TTL_DEFAULT);
	}
	json_array_foreach(sfs, k, e) {
		char esub[160];
		int idx;

		snprintf(esub, sizeof(esub), "%s.sfs[%zu]", path, k);
		if (!json_is_string(e))
			return fail(c, esub, "must be an SF name");
		idx = sc_node_index(sc, json_string_value(e));
		if (idx < 0)
			return fail(c, esub, "unknown SF '%s'", json_string_value(e));
		if (sc->nodes[idx].role != SC_ROLE_SF)
			return fail(c, esub, "node '%s' has role '%s', not 'sf'",
				    json_string_value(e), sc_role_name(sc->nodes[idx].role));
		/* fwd would send the frame to its own MAC: the bridge never
		 * hairpins it back, so the chain would black-hole there. */
		if (k > 0 && ch->sfs[k - 1] == idx)
			return fail(c, esub,
				    "forwarding loop: '%s' follows itself, its fwd stage would send the frame to its own MAC",
				    json_string_value(e));
		/* dec/enc keep one saved NSH per inner flow: a second visit
		 * would overwrite the first visit's SI while a frame is still
		 * inside the function (docs/architecture.md, "Maps"). */
		for (size_t j = 0; j + 1 < k; j++)
			if (ch->sfs[j] == idx && sc->nodes[idx].fn != SC_FN_NSH_AWARE)
				return fail(c, esub,
					    "'%s' is already hop %zu of this chain: an NSH-unaware SF can be visited once per chain (its stages keep one saved NSH per flow), run it as nsh-aware or use another SF",
					    json_string_value(e), j + 1);
		ch->sfs[k] = idx;
	}
	ch->n_sfs = json_array_size(sfs);
	return 0;
}

static int parse_chains(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "name", "spi", "si", "sfs", "src", "dest",
					    "md_type", "inner", "match", NULL };
	json_t *arr, *o;
	size_t i;
	int ret;

	if ((ret = get_list(c, root, "chains", SC_MAX_CHAINS, &arr)))
		return ret;
	json_array_foreach(arr, i, o) {
		struct sc_chain *ch = &sc->chains[i];
		const char *name = NULL, *inner = NULL;
		char path[64], sub[128];
		long long v;

		snprintf(path, sizeof(path), "chains[%zu]", i);
		if ((ret = want_object(c, o, path)) || (ret = check_keys(c, o, path, keys)))
			return ret;
		if ((ret = get_string(c, o, path, "name", &name, true)))
			return ret;
		snprintf(sub, sizeof(sub), "%s.name", path);
		if (!valid_name(name) || strlen(name) >= SC_NAME_MAX)
			return fail(c, sub, "'%s' must be 1..%d letters, digits and '_'", name,
				    SC_NAME_MAX - 1);
		for (size_t j = 0; j < i; j++)
			if (strcmp(sc->chains[j].name, name) == 0)
				return fail(c, sub, "duplicate chain name '%s'", name);
		snprintf(ch->name, sizeof(ch->name), "%s", name);
		v = 0;
		if ((ret = get_int(c, o, path, "spi", 0, NSH_SPI_MAX, &v, true)))
			return ret;
		ch->spi = v;
		v = 255;
		if ((ret = get_int(c, o, path, "si", 1, NSH_SI_MAX, &v, false)))
			return ret;
		ch->si = v;
		v = NSH_MDTYPE_2;
		if ((ret = get_int(c, o, path, "md_type", 1, 2, &v, false)))
			return ret;
		ch->md_type = v;
		ch->inner = NSH_NP_ETH;
		if ((ret = get_string(c, o, path, "inner", &inner, false)))
			return ret;
		if (inner && (ret = parse_inner(c, path, inner, ch)))
			return ret;
		if ((ret = chain_endpoint(c, o, path, "src", sc, SC_ROLE_SRC, &ch->src)) ||
		    (ret = chain_endpoint(c, o, path, "dest", sc, SC_ROLE_DEST, &ch->dest)) ||
		    (ret = parse_match(c, o, path, ch)))
			return ret;

		if ((ret = parse_chain_sfs(c, o, path, sc, ch)))
			return ret;
		for (size_t j = 0; j < i; j++) {
			if (sc->chains[j].spi == ch->spi) {
				snprintf(sub, sizeof(sub), "%s.spi", path);
				return fail(c, sub,
					    "forwarding loop: SPI %u is also chain '%s''s; their (SPI, SI) entries would collide and send frames around both paths",
					    ch->spi, sc->chains[j].name);
			}
		}
		sc->n_chains++;
	}
	return 0;
}

static int parse_sweep(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "lengths", "from", "to", NULL };
	json_t *o = json_object_get(root, "sweep"), *l, *e;
	int maxlen = 0;
	size_t i;
	int ret;

	for (int k = 0; k < sc->n_chains; k++)
		if (sc->chains[k].n_sfs > maxlen)
			maxlen = sc->chains[k].n_sfs;
	if (!o) {
		/* No sweep: each chain at its full length. */
		sc->lengths[0] = maxlen;
		sc->n_lengths = 1;
		return 0;
	}
	if ((ret = want_object(c, o, "sweep")) || (ret = check_keys(c, o, "sweep", keys)))
		return ret;
	l = json_object_get(o, "lengths");
	if (l) {
		if (json_object_get(o, "from") || json_object_get(o, "to"))
			return fail(c, "sweep", "give either 'lengths' or 'from'/'to', not both");
		if (!json_is_array(l) || json_array_size(l) == 0 || json_array_size(l) > SC_MAX_LENGTHS)
			return fail(c, "sweep.lengths", "must be an array of 1..%d chain lengths",
				    SC_MAX_LENGTHS);
		json_array_foreach(l, i, e) {
			char sub[64];

			snprintf(sub, sizeof(sub), "sweep.lengths[%zu]", i);
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) > maxlen)
				return fail(c, sub, "must be an integer in 0..%d (the longest chain)", maxlen);
			sc->lengths[i] = json_integer_value(e);
			for (size_t j = 0; j < i; j++)
				if (sc->lengths[j] == sc->lengths[i])
					return fail(c, sub, "length %d is listed twice", sc->lengths[i]);
		}
		sc->n_lengths = json_array_size(l);
		return 0;
	}
	long long from = 0, to = maxlen;

	if ((ret = get_int(c, o, "sweep", "from", 0, maxlen, &from, false)) ||
	    (ret = get_int(c, o, "sweep", "to", 0, maxlen, &to, false)))
		return ret;
	if (from > to)
		return fail(c, "sweep.from", "%lld is greater than 'to' (%lld)", from, to);
	for (long long x = from; x <= to; x++)
		sc->lengths[sc->n_lengths++] = x;
	return 0;
}

static int parse_measure(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "icmp_size", "rate_pps", "rounds", "per_round",
					    "warmup", "grace_ms", "order", "seed", "prober_cpu",
					    "idle_guests", NULL };
	const char *order = NULL, *idle = NULL;
	struct sc_measure *m = &sc->measure;
	json_t *o = json_object_get(root, "measure");
	long long v;
	int ret;

	/* The paper's method: 64-byte ICMP at 100 pps, 15 rounds of 100. */
	m->icmp_size = 64;
	m->rate_pps = 100;
	m->rounds = 15;
	m->per_round = 100;
	m->warmup = 10;
	m->grace_ms = 1000;
	m->prober_cpu = -2; /* auto: run/cpuplace.h */
	if (!o)
		return 0;
	if ((ret = want_object(c, o, "measure")) || (ret = check_keys(c, o, "measure", keys)))
		return ret;
	v = m->icmp_size;
	if ((ret = get_int(c, o, "measure", "icmp_size", 24, 1472, &v, false)))
		return ret;
	m->icmp_size = v;
	if ((ret = get_number(c, o, "measure", "rate_pps", 0.1, 100000, &m->rate_pps)))
		return ret;
	v = m->rounds;
	if ((ret = get_int(c, o, "measure", "rounds", 1, 10000, &v, false)))
		return ret;
	m->rounds = v;
	v = m->per_round;
	if ((ret = get_int(c, o, "measure", "per_round", 1, 1000000, &v, false)))
		return ret;
	m->per_round = v;
	v = m->warmup;
	if ((ret = get_int(c, o, "measure", "warmup", 0, 100000, &v, false)))
		return ret;
	m->warmup = v;
	v = m->grace_ms;
	if ((ret = get_int(c, o, "measure", "grace_ms", 0, 60000, &v, false)))
		return ret;
	m->grace_ms = v;
	if ((ret = get_string(c, o, "measure", "order", &order, false)))
		return ret;
	if (order && strcmp(order, "interleaved") == 0)
		m->order = SC_ORDER_INTERLEAVED;
	else if (order && strcmp(order, "sequential") == 0)
		m->order = SC_ORDER_SEQUENTIAL;
	else if (order)
		return fail(c, "measure.order", "'%s' is not an order (expected interleaved or sequential)",
			    order);
	if (json_object_get(o, "seed")) {
		v = 0;
		if ((ret = get_int(c, o, "measure", "seed", 0, LLONG_MAX, &v, false)))
			return ret;
		m->seed = (unsigned long long)v;
		m->seed_set = true;
	}
	if (json_object_get(o, "prober_cpu")) {
		if ((ret = get_int(c, o, "measure", "prober_cpu", -1, 1023, &v, false)))
			return ret;
		m->prober_cpu = v;
	}
	if ((ret = get_string(c, o, "measure", "idle_guests", &idle, false)))
		return ret;
	if (idle && strcmp(idle, "run") == 0)
		m->idle_run = true;
	else if (idle && strcmp(idle, "pause") != 0)
		return fail(c, "measure.idle_guests", "'%s' is not a choice (expected pause or run)",
			    idle);
	return 0;
}

static int sc_longest_chain(const struct scenario *sc)
{
	int maxlen = 0;

	for (int k = 0; k < sc->n_chains; k++)
		maxlen = sc->chains[k].n_sfs > maxlen ? sc->chains[k].n_sfs : maxlen;
	return maxlen;
}

static int parse_fault(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "nodes", "length", "probes", NULL };
	json_t *o = json_object_get(root, "fault"), *arr, *e;
	long long v;
	size_t i;
	int ret;

	sc->fault.length = -1;
	sc->fault.probes = 50;
	if (!o)
		return 0;
	if ((ret = want_object(c, o, "fault")) || (ret = check_keys(c, o, "fault", keys)))
		return ret;
	arr = json_object_get(o, "nodes");
	if (!arr)
		return fail(c, "fault", "missing required key 'nodes'");
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > SC_MAX_FAULTS)
		return fail(c, "fault.nodes", "must be a list of 1..%d SF names or \"sff\"", SC_MAX_FAULTS);
	json_array_foreach(arr, i, e) {
		char sub[64];
		int idx;

		snprintf(sub, sizeof(sub), "fault.nodes[%zu]", i);
		if (!json_is_string(e))
			return fail(c, sub, "must be an SF name or \"sff\"");
		if (strcmp(json_string_value(e), "sff") == 0) {
			sc->fault.nodes[i] = SC_FAULT_SFF;
			continue;
		}
		idx = sc_node_index(sc, json_string_value(e));
		if (idx < 0 || sc->nodes[idx].role != SC_ROLE_SF)
			return fail(c, sub, "'%s' is not an SF of the scenario (nor \"sff\")",
				    json_string_value(e));
		sc->fault.nodes[i] = idx;
	}
	sc->fault.n = json_array_size(arr);
	v = -1;
	if ((ret = get_int(c, o, "fault", "length", 1, sc_longest_chain(sc), &v, false)))
		return ret;
	sc->fault.length = v;
	v = sc->fault.probes;
	if ((ret = get_int(c, o, "fault", "probes", 1, 100000, &v, false)))
		return ret;
	sc->fault.probes = v;
	return 0;
}

static int int_list(struct ctx *c, json_t *o, const char *path, const char *key, long long lo,
		    long long hi, int max, int *n, long long *out)
{
	json_t *arr = json_object_get(o, key), *e;
	char sub[96];
	size_t i;

	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > (size_t)max)
		return fail(c, sub, "must be a list of 1..%d integers", max);
	json_array_foreach(arr, i, e) {
		char esub[128];

		snprintf(esub, sizeof(esub), "%s[%zu]", sub, i);
		if (!json_is_integer(e) || json_integer_value(e) < lo || json_integer_value(e) > hi)
			return fail(c, esub, "must be an integer in %lld..%lld", lo, hi);
		out[i] = json_integer_value(e);
	}
	*n = json_array_size(arr);
	return 0;
}

/* Both ends of the sweep, RFC 2544's smallest and a 1500-byte IP packet,
 * CSIT's background loads. */
static void load_defaults(struct sc_load *l, int maxlen)
{
	l->n_lengths = 2;
	l->lengths[0] = 0;
	l->lengths[1] = maxlen;
	l->n_sizes = 2;
	l->sizes[0] = 64;
	l->sizes[1] = 1518;
	l->flows = 4;
	l->loss_pct = 0;
	l->trial_s = 2;
	l->resolution_pct = 5;
	l->lo_pps = 1000;
	l->hi_pps = 500000;
	l->n_levels = 4;
	l->levels_pct[0] = 0;
	l->levels_pct[1] = 10;
	l->levels_pct[2] = 50;
	l->levels_pct[3] = 90;
	l->latency_probes = 500;
	l->cpu = -2; /* auto: run/cpuplace.h */
}

static int parse_load(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "lengths", "frame_sizes", "flows", "loss_pct",
					    "trial_s", "resolution_pct", "min_pps", "max_pps",
					    "levels_pct", "latency_length", "latency_probes", "cpu", NULL };
	json_t *o = json_object_get(root, "load");
	struct sc_load *l = &sc->load;
	long long tmp[SC_MAX_LENGTHS], v;
	int ret, maxlen = 0;

	if (!o)
		return 0;
	for (int k = 0; k < sc->n_chains; k++)
		maxlen = sc->chains[k].n_sfs > maxlen ? sc->chains[k].n_sfs : maxlen;
	if ((ret = want_object(c, o, "load")) || (ret = check_keys(c, o, "load", keys)))
		return ret;
	load_defaults(l, maxlen);
	if ((ret = int_list(c, o, "load", "lengths", 0, maxlen, SC_MAX_LENGTHS, &l->n_lengths, tmp)))
		return ret;
	if (json_object_get(o, "lengths"))
		for (int i = 0; i < l->n_lengths; i++)
			l->lengths[i] = tmp[i];
	if ((ret = int_list(c, o, "load", "frame_sizes", 64, 1518, SC_MAX_LOAD_SIZES, &l->n_sizes, tmp)))
		return ret;
	if (json_object_get(o, "frame_sizes"))
		for (int i = 0; i < l->n_sizes; i++)
			l->sizes[i] = tmp[i];
	if ((ret = int_list(c, o, "load", "levels_pct", 0, 100, SC_MAX_LOAD_LEVELS, &l->n_levels, tmp)))
		return ret;
	if (json_object_get(o, "levels_pct"))
		for (int i = 0; i < l->n_levels; i++)
			l->levels_pct[i] = tmp[i];
	v = l->flows;
	if ((ret = get_int(c, o, "load", "flows", 1, 4096, &v, false)))
		return ret;
	l->flows = v;
	if ((ret = get_number(c, o, "load", "loss_pct", 0, 50, &l->loss_pct)) ||
	    (ret = get_number(c, o, "load", "trial_s", 0.2, 60, &l->trial_s)) ||
	    (ret = get_number(c, o, "load", "resolution_pct", 0.1, 50, &l->resolution_pct)) ||
	    (ret = get_number(c, o, "load", "min_pps", 1, 1e7, &l->lo_pps)) ||
	    (ret = get_number(c, o, "load", "max_pps", 2, 1e7, &l->hi_pps)))
		return ret;
	if (l->lo_pps >= l->hi_pps)
		return fail(c, "load.max_pps", "%g must be above min_pps (%g)", l->hi_pps, l->lo_pps);
	v = -1;
	if ((ret = get_int(c, o, "load", "latency_length", 0, maxlen, &v, false)))
		return ret;
	l->latency_length = v >= 0 ? v : l->lengths[l->n_lengths - 1];
	v = l->latency_probes;
	if ((ret = get_int(c, o, "load", "latency_probes", 10, 100000, &v, false)))
		return ret;
	l->latency_probes = v;
	if (json_object_get(o, "cpu")) {
		if ((ret = get_int(c, o, "load", "cpu", -1, 1023, &v, false)))
			return ret;
		l->cpu = v;
	}
	/* The generator sends UDP: a chain that classifies only ICMP would let
	 * the load bypass it, and the numbers would describe plain IP. */
	for (int k = 0; k < sc->n_chains; k++) {
		char sub[64];

		snprintf(sub, sizeof(sub), "chains[%d].match", k);
		if (sc->chains[k].proto != 0 && sc->chains[k].proto != IPPROTO_UDP)
			return fail(c, sub,
				    "chain '%s' classifies only protocol %u, so the load's UDP would bypass it; set \"proto\": \"any\" for a load scenario",
				    sc->chains[k].name, sc->chains[k].proto);
	}
	return 0;
}

static int parse_network(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "subnet", "mtu", NULL };
	json_t *o = json_object_get(root, "network");
	const char *subnet = "10.201.0.0/24";
	char buf[64], *slash;
	struct in_addr a;
	long long v;
	int ret;

	sc->mtu = 1600; /* room for outer Ethernet + NSH over 1500-byte frames */
	if (o) {
		if ((ret = want_object(c, o, "network")) || (ret = check_keys(c, o, "network", keys)) ||
		    (ret = get_string(c, o, "network", "subnet", &subnet, false)))
			return ret;
		v = sc->mtu;
		if ((ret = get_int(c, o, "network", "mtu", 1280, 9000, &v, false)))
			return ret;
		sc->mtu = v;
	}
	snprintf(buf, sizeof(buf), "%s", subnet);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	/* inet_pton takes only a.b.c.d; the length only digits (no "+24", " 24", "24x"). */
	if (strlen(subnet) >= sizeof(buf) || !slash || inet_pton(AF_INET, buf, &a) != 1 ||
	    num_parse_int(slash + 1, 8, 30, &sc->prefix_len) < 0)
		return fail(c, "network.subnet", "'%s' is not an IPv4 prefix a.b.c.d/8..30", subnet);
	/* Only private space: the testbed must never look like outside hosts. */
	if (!((ntohl(a.s_addr) >> 24) == 10 || (ntohl(a.s_addr) >> 20) == 0xAC1 ||
	      (ntohl(a.s_addr) >> 16) == 0xC0A8))
		return fail(c, "network.subnet", "'%s' is not in private address space (RFC 1918)",
			    subnet);
	sc->subnet = htonl(ntohl(a.s_addr) & (0xFFFFFFFFu << (32 - sc->prefix_len)));
	/* Star architectures add an SFF and a proxy per SF. */
	if ((1u << (32 - sc->prefix_len)) - 2 < (unsigned)(2 * sc->n_nodes + 1))
		return fail(c, "network.subnet", "'%s' has room for %u hosts, the scenario needs up to %d",
			    subnet, (1u << (32 - sc->prefix_len)) - 2, 2 * sc->n_nodes + 1);
	return 0;
}

static int arch_from_name(const char *s, enum sc_arch *a)
{
	for (int i = 0; i < SC_ARCH__COUNT; i++) {
		if (strcmp(s, sc_arch_name(i)) == 0) {
			*a = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* "architecture": a name, or a list of names to compare in one run. */
static int parse_archs(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char expected[] = "expected cadeia-aberta, phantomsfc or ovs-nsh";
	json_t *v = json_object_get(root, "architecture"), *e;
	size_t i;

	sc->n_archs = 1;
	sc->archs[0] = SC_ARCH_CADEIA_ABERTA;
	if (!v)
		goto out;
	if (json_is_string(v)) {
		if (arch_from_name(json_string_value(v), &sc->archs[0]) < 0)
			return fail(c, "architecture", "unknown architecture '%s' (%s)",
				    json_string_value(v), expected);
		goto out;
	}
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > SC_ARCH__COUNT)
		return fail(c, "architecture", "must be a name or a list of 1..%d names (%s)",
			    SC_ARCH__COUNT, expected);
	json_array_foreach(v, i, e) {
		char sub[64];

		snprintf(sub, sizeof(sub), "architecture[%zu]", i);
		if (!json_is_string(e) || arch_from_name(json_string_value(e), &sc->archs[i]) < 0)
			return fail(c, sub, "unknown architecture %s%s%s (%s)", json_is_string(e) ? "'" : "",
				    json_is_string(e) ? json_string_value(e) : "(not a string)",
				    json_is_string(e) ? "'" : "", expected);
		for (size_t j = 0; j < i; j++)
			if (sc->archs[j] == sc->archs[i])
				return fail(c, sub, "'%s' is listed twice", json_string_value(e));
	}
	sc->n_archs = json_array_size(v);
out:
	sc->arch = sc->archs[0];
	return 0;
}

/* One firewall rule a line inside our chain: a brace, ';' or line break
 * would reach outside it. */
static int fw_rules(struct ctx *c, json_t *rules, const char *path, struct sc_node *n)
{
	json_t *r;
	size_t k;

	if (!json_is_array(rules) || json_array_size(rules) == 0)
		return fail(c, path, "must be a non-empty array of nft rules (strings)");
	json_array_foreach(rules, k, r) {
		char sub[160];
		const char *v = json_string_value(r);

		snprintf(sub, sizeof(sub), "%s[%zu]", path, k);
		if (!v || !*v)
			return fail(c, sub, "must be a non-empty string (one nft rule)");
		if (strpbrk(v, "{}\n\r;"))
			return fail(c, sub, "'%s' has '{', '}', ';' or a line break: give one rule per string", v);
		if (strlen(n->fw_rules) + strlen(v) + 2 > sizeof(n->fw_rules))
			return fail(c, sub, "the rules exceed %zu bytes; put them in a 'rules_file'",
				    sizeof(n->fw_rules) - 1);
		strcat(n->fw_rules, v);
		strcat(n->fw_rules, "\n");
	}
	return 0;
}

static int fw_rules_file(struct ctx *c, const char *file, const char *path, struct sc_node *n)
{
	const char *slash = strrchr(c->file, '/');
	int len;

	if (!*file)
		return fail(c, path, "must not be empty");
	/* Relative to the scenario's directory, as a reader of the file expects. */
	if (file[0] == '/' || !slash)
		len = snprintf(n->fw_rules_file, sizeof(n->fw_rules_file), "%s", file);
	else
		len = snprintf(n->fw_rules_file, sizeof(n->fw_rules_file), "%.*s/%s",
			       (int)(slash - c->file), c->file, file);
	if (len >= (int)sizeof(n->fw_rules_file))
		return fail(c, path, "'%s' is too long", file);
	if (access(n->fw_rules_file, R_OK) < 0)
		return fail(c, path, "%s: %s", n->fw_rules_file, strerror(errno));
	return 0;
}

static int lb_backends(struct ctx *c, json_t *be, const char *path, struct scenario *sc,
		       struct sc_node *n)
{
	json_t *b;
	size_t k;

	if (!json_is_array(be) || json_array_size(be) < 2 || json_array_size(be) > SC_MAX_BACKENDS)
		return fail(c, path, "must be an array of 2..%d node names (role dest)", SC_MAX_BACKENDS);
	json_array_foreach(be, k, b) {
		char sub[160];
		const char *v = json_string_value(b);
		int idx = v ? sc_node_index(sc, v) : -1;

		snprintf(sub, sizeof(sub), "%s[%zu]", path, k);
		if (!v)
			return fail(c, sub, "must be a node name");
		if (idx < 0)
			return fail(c, sub, "unknown node '%s'", v);
		if (sc->nodes[idx].role != SC_ROLE_DEST)
			return fail(c, sub, "node '%s' has role '%s'; backends are dest nodes", v,
				    sc_role_name(sc->nodes[idx].role));
		for (int j = 0; j < n->n_backends; j++)
			if (n->backends[j] == idx)
				return fail(c, sub, "node '%s' is listed twice", v);
		n->backends[n->n_backends++] = idx;
	}
	return 0;
}

static int nat_address(struct ctx *c, const char *s, const char *path, struct scenario *sc,
		       int i)
{
	struct sc_node *n = &sc->nodes[i];
	uint32_t mask = 0xFFFFFFFFu << (32 - sc->prefix_len), h;
	struct in_addr a;

	if (!s) {
		/* From the top of the subnet down: far from the assigned hosts. */
		n->nat_ip = htonl((ntohl(sc->subnet) | ~mask) - 1 - (uint32_t)i);
		return 0;
	}
	if (inet_pton(AF_INET, s, &a) != 1)
		return fail(c, path, "'%s' is not an IPv4 address a.b.c.d", s);
	h = ntohl(a.s_addr);
	if ((h & mask) != ntohl(sc->subnet) || (h & ~mask) == 0 || (h & ~mask) == ~mask)
		return fail(c, path, "'%s' is not a host address of the scenario's subnet", s);
	/* Star architectures give out up to 2n+1 addresses from the bottom. */
	if ((h & ~mask) <= (uint32_t)(2 * sc->n_nodes + 1))
		return fail(c, path, "'%s' may be given to a node; take one above host %d", s,
			    2 * sc->n_nodes + 1);
	n->nat_ip = a.s_addr;
	return 0;
}

/* Settings of the functions that act on the traffic (scenarios/README.md). */
static int parse_fn_settings(struct ctx *c, json_t *root, struct scenario *sc)
{
	json_t *arr = json_object_get(root, "nodes"), *o;
	size_t i;
	int ret;

	json_array_foreach(arr, i, o) {
		struct sc_node *n = &sc->nodes[i];
		json_t *rules = json_object_get(o, "rules"), *be = json_object_get(o, "backends");
		const char *file = NULL, *nat = NULL;
		char path[64], sub[128];

		snprintf(path, sizeof(path), "nodes[%zu]", i);
		if ((ret = get_string(c, o, path, "rules_file", &file, false)) ||
		    (ret = get_string(c, o, path, "nat_address", &nat, false)))
			return ret;
		snprintf(sub, sizeof(sub), "%s.%s", path, rules ? "rules" : "rules_file");
		if ((rules || file) && n->fn != SC_FN_FIREWALL)
			return fail(c, sub, "only a node with function 'firewall' takes rules");
		snprintf(sub, sizeof(sub), "%s.backends", path);
		if (be && n->fn != SC_FN_LB)
			return fail(c, sub, "only a node with function 'lb' takes backends");
		snprintf(sub, sizeof(sub), "%s.nat_address", path);
		if (nat && n->fn != SC_FN_NAT)
			return fail(c, sub, "only a node with function 'nat' takes a nat_address");
		switch (n->fn) {
		case SC_FN_FIREWALL:
			if (!rules == !file)
				return fail(c, path, "a firewall needs one of 'rules' (an array of nft rules) or 'rules_file'");
			snprintf(sub, sizeof(sub), "%s.%s", path, rules ? "rules" : "rules_file");
			ret = rules ? fw_rules(c, rules, sub, n) : fw_rules_file(c, file, sub, n);
			break;
		case SC_FN_LB:
			if (!be)
				return fail(c, path, "an lb needs 'backends': 2..%d nodes with role dest",
					    SC_MAX_BACKENDS);
			snprintf(sub, sizeof(sub), "%s.backends", path);
			ret = lb_backends(c, be, sub, sc, n);
			break;
		case SC_FN_NAT:
			ret = nat_address(c, nat, sub, sc, (int)i);
			break;
		default:
			ret = 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* "throughput": TCP goodput per chain length with iperf3 (run/throughput.h). */
static int parse_throughput(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "seconds", "streams", NULL };
	json_t *o = json_object_get(root, "throughput");
	long long v;
	int ret;

	sc->throughput.enabled = o != NULL;
	sc->throughput.seconds = 3;
	sc->throughput.streams = 1;
	if (!o)
		return 0;
	if ((ret = want_object(c, o, "throughput")) || (ret = check_keys(c, o, "throughput", keys)))
		return ret;
	v = sc->throughput.seconds;
	if ((ret = get_int(c, o, "throughput", "seconds", 1, 600, &v, false)))
		return ret;
	sc->throughput.seconds = v;
	v = sc->throughput.streams;
	if ((ret = get_int(c, o, "throughput", "streams", 1, 16, &v, false)))
		return ret;
	sc->throughput.streams = v;
	/* iperf3's control and data connections are separate flows: an lb may
	 * send them to different backends, and the test cannot run. */
	for (int k = 0; k < sc->n_chains; k++)
		for (int j = 0; j < sc->chains[k].n_sfs; j++)
			if (sc->nodes[sc->chains[k].sfs[j]].fn == SC_FN_LB)
				return fail(c, "throughput", "chain %s goes through lb node %s: iperf3's control and data connections may reach different backends; measure throughput without the lb",
					    sc->chains[k].name, sc->nodes[sc->chains[k].sfs[j]].name);
	/* iperf3 is TCP: some chain must carry it, or the goodput is unchained. */
	for (int k = 0; k < sc->n_chains; k++)
		if (sc->chains[k].proto == 0 || sc->chains[k].proto == IPPROTO_TCP)
			return 0;
	return fail(c, "throughput", "iperf3 sends TCP, but no chain matches it: give a chain \"match\": {\"proto\": \"tcp\"} or \"any\"");
}

static int parse(struct ctx *c, json_t *root, struct scenario *sc)
{
	static const char *const keys[] = { "name", "description", "backend", "architecture",
					    "network", "defaults", "nodes", "chains", "sweep",
					    "measure", "fault", "load", "hosts", "underlay",
					    "throughput", NULL };
	const char *s;
	struct defaults d;
	int ret;

	if (!json_is_object(root))
		return fail(c, "", "the scenario must be a JSON object");
	if ((ret = check_keys(c, root, "", keys)))
		return ret;
	s = NULL;
	if ((ret = get_string(c, root, "", "name", &s, false)))
		return ret;
	if (s) {
		if (!*s || strlen(s) >= sizeof(sc->name) || strpbrk(s, "/ \t\n"))
			return fail(c, "name", "'%s' must be 1..%zu characters without '/' or spaces",
				    s, sizeof(sc->name) - 1);
		snprintf(sc->name, sizeof(sc->name), "%s", s);
	}
	s = NULL;
	if ((ret = get_string(c, root, "", "description", &s, false)))
		return ret;
	if (s)
		snprintf(sc->description, sizeof(sc->description), "%s", s);
	s = "netns";
	if ((ret = get_string(c, root, "", "backend", &s, false)))
		return ret;
	if (strcmp(s, "netns") == 0)
		sc->backend = SC_BACKEND_NETNS;
	else if (strcmp(s, "libvirt") == 0)
		sc->backend = SC_BACKEND_LIBVIRT;
	else
		return fail(c, "backend", "unknown backend '%s' (expected netns or libvirt)", s);
	if ((ret = parse_archs(c, root, sc)))
		return ret;
	if ((ret = parse_defaults(c, root, &d)) || (ret = parse_nodes(c, root, sc, &d)) ||
	    (ret = parse_chains(c, root, sc)) || (ret = parse_sweep(c, root, sc)) ||
	    (ret = parse_measure(c, root, sc)) || (ret = parse_network(c, root, sc)) ||
	    (ret = parse_fault(c, root, sc)) || (ret = parse_load(c, root, sc)) ||
	    /* "hosts", "underlay" and each node's "host": model/hosts.c */
	    (ret = sc_hosts_parse(c->file, &c->pos, root, sc, c->err)))
		return ret;

	/* Deterministic addressing: node i gets host i+1 and MAC 02:cb:00:00:hi:lo. */
	for (int i = 0; i < sc->n_nodes; i++) {
		struct sc_node *n = &sc->nodes[i];

		n->peer = -1;
		n->ip = htonl(ntohl(sc->subnet) + i + 1);
		n->mac[0] = 0x02;
		n->mac[1] = 0xcb;
		n->mac[4] = (i + 1) >> 8;
		n->mac[5] = (i + 1) & 0xff;
	}
	/* After addressing: a NAT's default address is taken from the top. */
	if ((ret = parse_fn_settings(c, root, sc)) || (ret = parse_throughput(c, root, sc)))
		return ret;
	return 0;
}

static void default_name(struct scenario *sc, const char *file)
{
	const char *base = strrchr(file, '/');
	char *dot;

	snprintf(sc->name, sizeof(sc->name), "%s", base ? base + 1 : file);
	dot = strrchr(sc->name, '.');
	if (dot && strcmp(dot, ".json") == 0)
		*dot = '\0';
}

int scenario_load_string(const char *name, const char *text, struct scenario *sc,
			 struct sc_err *err)
{
	struct ctx c = { .file = name, .err = err, .pos = { .max_string = SC_MAX_STRING } };
	json_error_t jerr;
	json_t *root;
	int ret;

	memset(sc, 0, sizeof(*sc));
	snprintf(sc->path, sizeof(sc->path), "%s", name);
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson says column 0 at the start of a line (e.g. at the end of "{\n"). */
		snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: %s", name, jerr.line > 0 ? jerr.line : 1,
			 jerr.column > 0 ? jerr.column : 1, jerr.text);
		return -EINVAL;
	}
	ret = jpos_index(&c.pos, text, strlen(text));
	if (ret == -E2BIG) {
		snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: string longer than %d bytes, the limit in a scenario",
			 name, c.pos.err_line, c.pos.err_col, SC_MAX_STRING);
		ret = -EINVAL;
		goto cleanup;
	}
	if (ret < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s:1:1: %s", name, strerror(-ret));
		goto cleanup;
	}
	default_name(sc, name);
	ret = parse(&c, root, sc);
	if (ret == 0) {
		sc->json = root;
		root = NULL;
	}
cleanup:
	json_decref(root);
	jpos_free(&c.pos);
	return ret;
}

/* Reads at most SC_MAX_FILE_BYTES of path into *text (NUL-terminated, *len
 * bytes). Errors about the file as a whole are reported at 1:1. */
static int read_capped(const char *path, char **text, size_t *len, struct sc_err *err)
{
	size_t cap = SC_MAX_FILE_BYTES + 1, n = 0, r;
	char *buf = NULL;
	int ret = -1, line, col;
	struct stat st;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s:1:1: cannot open: %s", path, strerror(errno));
		return ret;
	}
	/* A directory opens fine and fails only at read time, with EISDIR. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		snprintf(err->msg, sizeof(err->msg), "%s:1:1: cannot read: %s", path, strerror(EISDIR));
		goto cleanup;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "%s:1:1: %s", path, strerror(ENOMEM));
		goto cleanup;
	}
	/* One byte past the cap tells "exactly the cap" from "more". */
	while (n < cap && (r = fread(buf + n, 1, cap - n, f)) > 0)
		n += r;
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err->msg, sizeof(err->msg), "%s:1:1: cannot read: %s", path,
			 strerror(errno ? errno : EIO));
		goto cleanup;
	}
	buf[n] = '\0';
	if (n > SC_MAX_FILE_BYTES) {
		ret = -EFBIG;
		jpos_at(buf, SC_MAX_FILE_BYTES, &line, &col);
		snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: file longer than %d bytes, the limit for a scenario",
			 path, line, col, SC_MAX_FILE_BYTES);
		goto cleanup;
	}
	if (n == 0) {
		ret = -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "%s:1:1: file is empty", path);
		goto cleanup;
	}
	/* A NUL would end the text early: jansson would never see what follows. */
	if (strlen(buf) < n) {
		ret = -EINVAL;
		jpos_at(buf, strlen(buf), &line, &col);
		snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: NUL byte in the file", path, line, col);
		goto cleanup;
	}
	*text = buf;
	*len = n;
	buf = NULL;
	ret = 0;
cleanup:
	free(buf);
	fclose(f);
	return ret;
}

int scenario_load(const char *path, struct scenario *sc, struct sc_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(sc, 0, sizeof(*sc));
	if ((ret = read_capped(path, &text, &len, err)) < 0)
		return ret;
	ret = scenario_load_string(path, text, sc, err);
	free(text);
	return ret;
}

void scenario_free(struct scenario *sc)
{
	json_decref(sc->json);
	sc->json = NULL;
}

const char *sc_fn_name(enum sc_fn fn)
{
	switch (fn) {
	case SC_FN_WIRE: return "wire";
	case SC_FN_KWIRE: return "kwire";
	case SC_FN_NSH_AWARE: return "nsh-aware";
	case SC_FN_EXTERNAL: return "external";
	case SC_FN_OVS: return "ovs";
	case SC_FN_DELAY: return "delay";
	case SC_FN_FLOOR: return "floor";
	case SC_FN_FIREWALL: return "firewall";
	case SC_FN_NAT: return "nat";
	case SC_FN_LB: return "lb";
	case SC_FN_MONITOR: return "monitor";
	default: return "none";
	}
}

bool sc_fn_nsh_aware(enum sc_fn fn)
{
	return fn == SC_FN_NSH_AWARE || fn == SC_FN_NAT;
}

const char *sc_role_name(enum sc_role r)
{
	switch (r) {
	case SC_ROLE_SRC: return "src";
	case SC_ROLE_DEST: return "dest";
	case SC_ROLE_SFF: return "sff";
	case SC_ROLE_PROXY: return "proxy";
	default: return "sf";
	}
}

const char *sc_backend_name(enum sc_backend b)
{
	return b == SC_BACKEND_NETNS ? "netns" : "libvirt";
}

const char *sc_arch_name(enum sc_arch a)
{
	switch (a) {
	case SC_ARCH_PHANTOMSFC: return "phantomsfc";
	case SC_ARCH_OVS_NSH: return "ovs-nsh";
	default: return "cadeia-aberta";
	}
}

int sc_node_index(const struct scenario *sc, const char *name)
{
	for (int i = 0; i < sc->n_nodes; i++)
		if (strcmp(sc->nodes[i].name, name) == 0)
			return i;
	return -1;
}

int sc_max_length(const struct scenario *sc)
{
	int m = 0;

	for (int i = 0; i < sc->n_lengths; i++)
		if (sc->lengths[i] > m)
			m = sc->lengths[i];
	return m;
}
