/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Several hosts in a scenario: model/hosts.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/jsonpos.h"
#include "model/sc_parse.h"
#include "model/scenario.h"
#include "nsh.h"

static bool host_name_ok(const char *s)
{
	if (!*s || *s == '_')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* A libvirt URI as text: printable, no blanks (it goes into argv and logs). */
static bool uri_ok(const char *s)
{
	if (!*s || strlen(s) >= SC_URI_MAX || !strstr(s, "://"))
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static int parse_host(struct sc_where *c, json_t *o, size_t i, struct sc_hosts *h)
{
	static const char *const keys[] = { "name", "uri", "address", "delay_us", NULL };
	struct sc_host *x = &h->host[i];
	char path[32], sub[64];
	json_t *v;
	struct in_addr a;
	uint32_t ha;

	snprintf(path, sizeof(path), "hosts[%zu]", i);
	if (!json_is_object(o))
		return sc_fail(c, path, "must be an object with name, uri and address");
	if (sc_check_keys(c, o, path, keys))
		return -EINVAL;
	for (const char *const *k = keys; *k && strcmp(*k, "delay_us"); k++) {
		snprintf(sub, sizeof(sub), "%s.%s", path, *k);
		v = json_object_get(o, *k);
		if (!v)
			return sc_fail(c, path, "missing required key '%s'", *k);
		if (!json_is_string(v))
			return sc_fail(c, sub, "must be a string");
	}
	v = json_object_get(o, "name");
	snprintf(sub, sizeof(sub), "%s.name", path);
	if (!host_name_ok(json_string_value(v)) || strlen(json_string_value(v)) > 8)
		return sc_fail(c, sub, "'%s' must be 1..8 letters, digits and '_', not starting with '_'",
			       json_string_value(v));
	snprintf(x->name, sizeof(x->name), "%s", json_string_value(v));
	for (size_t j = 0; j < i; j++) {
		char first[32];

		snprintf(first, sizeof(first), "hosts[%zu].name", j);
		if (strcmp(h->host[j].name, x->name) == 0)
			return sc_fail(c, sub, "duplicate host name '%s' (first defined at line %d)",
				       x->name, sc_line_of(c, first));
	}
	v = json_object_get(o, "uri");
	snprintf(sub, sizeof(sub), "%s.uri", path);
	if (!uri_ok(json_string_value(v)))
		return sc_fail(c, sub,
			       "'%s' is not a libvirt URI (e.g. qemu:///system or qemu+ssh://root@h2/system; printable, no blanks, under %d bytes)",
			       json_string_value(v), SC_URI_MAX);
	snprintf(x->uri, sizeof(x->uri), "%s", json_string_value(v));
	v = json_object_get(o, "address");
	snprintf(sub, sizeof(sub), "%s.address", path);
	if (inet_pton(AF_INET, json_string_value(v), &a) != 1)
		return sc_fail(c, sub, "'%s' is not an IPv4 address a.b.c.d", json_string_value(v));
	ha = ntohl(a.s_addr);
	/* A VTEP needs a unicast address another host can reach. */
	if ((ha >> 24) == 0 || (ha >> 24) == 127 || (ha >> 28) >= 0xe)
		return sc_fail(c, sub, "'%s' is not a unicast address another host can reach (0/8, 127/8, multicast and 240/4 are not)",
			       json_string_value(v));
	x->addr = a.s_addr;
	for (size_t j = 0; j < i; j++) {
		char first[32];

		snprintf(first, sizeof(first), "hosts[%zu].address", j);
		if (h->host[j].addr == x->addr)
			return sc_fail(c, sub, "duplicate underlay address %s (host '%s' has it, line %d)",
				       json_string_value(v), h->host[j].name, sc_line_of(c, first));
	}
	if ((v = json_object_get(o, "delay_us"))) {
		snprintf(sub, sizeof(sub), "%s.delay_us", path);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000)
			return sc_fail(c, sub, "must be an integer 0..1000000 (microseconds)");
		x->delay_us = json_integer_value(v);
		h->any_delay |= x->delay_us > 0;
	}
	return 0;
}

static int parse_underlay(struct sc_where *c, json_t *root, struct sc_hosts *h)
{
	static const char *const keys[] = { "mtu", NULL };
	json_t *o = json_object_get(root, "underlay"), *v;

	/* What an Ethernet underlay carries unless told otherwise. */
	h->underlay_mtu = 1500;
	if (!o)
		return 0;
	if (!h->n)
		return sc_fail(c, "underlay", "there is no \"hosts\" list: an underlay joins hosts");
	if (!json_is_object(o))
		return sc_fail(c, "underlay", "must be an object");
	if (sc_check_keys(c, o, "underlay", keys))
		return -EINVAL;
	if ((v = json_object_get(o, "mtu"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1280 ||
		    json_integer_value(v) > 65535)
			return sc_fail(c, "underlay.mtu", "must be an integer 1280..65535");
		h->underlay_mtu = json_integer_value(v);
	}
	return 0;
}

static int parse_node_hosts(struct sc_where *c, json_t *root, struct scenario *sc)
{
	struct sc_hosts *h = &sc->hosts;
	json_t *nodes = json_object_get(root, "nodes"), *o;
	size_t i;

	h->n_file_nodes = sc->n_nodes;
	json_array_foreach(nodes, i, o) {
		json_t *v = json_object_get(o, "host");
		char sub[64], names[SC_MAX_HOSTS * (SC_NAME_MAX + 2)] = "";
		int k;

		if ((int)i >= SC_MAX_NODES)
			break;
		h->node_host[i] = 0;
		if (!v)
			continue;
		snprintf(sub, sizeof(sub), "nodes[%zu].host", i);
		if (!json_is_string(v))
			return sc_fail(c, sub, "must be a string (a name from \"hosts\")");
		if (!h->n)
			return sc_fail(c, sub, "unknown host '%s': the scenario has no \"hosts\" list",
				       json_string_value(v));
		for (k = 0; k < h->n && strcmp(h->host[k].name, json_string_value(v)); k++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 k ? ", " : "", h->host[k].name);
		if (k == h->n) {
			return sc_fail(c, sub, "unknown host '%s' (expected one of: %s)",
				       json_string_value(v), names);
		}
		h->node_host[i] = k;
	}
	return 0;
}

/* NSH inside VXLAN must fit, or frames vanish at the first MTU check. */
static int check_mtu(struct sc_where *c, json_t *root, const struct scenario *sc)
{
	const struct sc_hosts *h = &sc->hosts;
	unsigned overlay = HOSTS_INNER_IP + HOSTS_ETH + h->nsh_bytes;
	json_t *net = json_object_get(root, "network");
	bool net_mtu = json_is_object(net) && json_object_get(net, "mtu");
	bool ul_mtu = json_is_object(json_object_get(root, "underlay")) &&
		      json_object_get(json_object_get(root, "underlay"), "mtu");

	if (sc->mtu < overlay)
		return sc_fail(c, net_mtu ? "network.mtu" : "hosts",
			       "MTU %u cannot carry NSH: %u-byte packets + %u inner Ethernet + %u NSH need %u",
			       sc->mtu, HOSTS_INNER_IP, HOSTS_ETH, h->nsh_bytes, overlay);
	if (h->underlay_mtu < sc->mtu + HOSTS_VXLAN_OVERHEAD)
		return sc_fail(c, ul_mtu ? "underlay.mtu" : "hosts",
			       "underlay MTU %u cannot carry NSH + VXLAN: network.mtu %u + %u (Ethernet %u, VXLAN 8, UDP 8, IPv4 20) needs %u; raise underlay.mtu or lower network.mtu (not below %u)",
			       h->underlay_mtu, sc->mtu, HOSTS_VXLAN_OVERHEAD, HOSTS_ETH,
			       sc->mtu + HOSTS_VXLAN_OVERHEAD, overlay);
	return 0;
}

int sc_hosts_parse(const char *file, const struct jpos *pos, json_t *root, struct scenario *sc,
		   struct sc_err *err)
{
	struct sc_where c = { .file = file, .pos = pos, .err = err };
	struct sc_hosts *h = &sc->hosts;
	json_t *arr = json_object_get(root, "hosts"), *o;
	size_t i;
	int ret;

	memset(h, 0, sizeof(*h));
	if (arr) {
		if (!json_is_array(arr) || json_array_size(arr) == 0 ||
		    json_array_size(arr) > SC_MAX_HOSTS)
			return sc_fail(&c, "hosts", "must be a list of 1..%d hosts", SC_MAX_HOSTS);
		json_array_foreach(arr, i, o) {
			if ((ret = parse_host(&c, o, i, h)))
				return ret;
			h->n++;
		}
	}
	if ((ret = parse_underlay(&c, root, h)) || (ret = parse_node_hosts(&c, root, sc)))
		return ret;
	if (!h->n)
		return 0;
	h->nsh_bytes = HOSTS_NSH_MD2;
	for (int k = 0; k < sc->n_chains; k++)
		if (sc->chains[k].md_type == NSH_MDTYPE_1)
			h->nsh_bytes = HOSTS_NSH_MD1;
	return check_mtu(&c, root, sc);
}

int sc_node_host(const struct scenario *sc, int i)
{
	const struct sc_hosts *h = &sc->hosts;

	if (!h->n || i < 0 || i >= sc->n_nodes)
		return 0;
	if (i < h->n_file_nodes)
		return h->node_host[i];
	if (sc->nodes[i].role == SC_ROLE_PROXY && sc->nodes[i].peer >= 0 &&
	    sc->nodes[i].peer < h->n_file_nodes)
		return h->node_host[sc->nodes[i].peer];
	return 0;
}

/* Adds one hop from host a to host b: a crossing, and its configured delay. */
static void hop(const struct scenario *sc, int a, int b, int *n, unsigned long *delay)
{
	if (a == b)
		return;
	(*n)++;
	*delay += sc->hosts.host[a].delay_us + sc->hosts.host[b].delay_us +
		  (sc->hosts.any_delay ? HOSTS_DELAY_BASE_US : 0);
}

int sc_hosts_crossings(const struct scenario *sc, int c, int length, unsigned long *delay_us)
{
	const struct sc_chain *ch = &sc->chains[c];
	int sff = -1, n = 0, prev, len = length < ch->n_sfs ? length : ch->n_sfs;
	unsigned long d = 0;

	if (delay_us)
		*delay_us = 0;
	if (!sc->hosts.n)
		return 0;
	for (int i = 0; i < sc->n_nodes; i++)
		if (sc->nodes[i].role == SC_ROLE_SFF)
			sff = i;
	prev = sc_node_host(sc, ch->src);
	/* Request: src, [the SFF,] each SF in turn, [the SFF,] dest. */
	for (int k = 0; k <= len; k++) {
		int next = k < len ? ch->sfs[k] : ch->dest, hh;

		if (sff >= 0) {
			hh = sc_node_host(sc, sff);
			hop(sc, prev, hh, &n, &d);
			prev = hh;
		}
		hh = sc_node_host(sc, next);
		hop(sc, prev, hh, &n, &d);
		prev = hh;
	}
	/* Reply: plain IP from dest straight back to src. */
	hop(sc, sc_node_host(sc, ch->dest), sc_node_host(sc, ch->src), &n, &d);
	if (delay_us)
		*delay_us = d;
	return n;
}

json_t *sc_hosts_mtu_json(const struct scenario *sc)
{
	const struct sc_hosts *h = &sc->hosts;

	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "inner_ip",
			 HOSTS_INNER_IP, "inner_ethernet", HOSTS_ETH, "nsh", h->nsh_bytes,
			 "overlay_mtu_needed", HOSTS_INNER_IP + HOSTS_ETH + h->nsh_bytes,
			 "overlay_mtu", sc->mtu, "vxlan_overhead", HOSTS_VXLAN_OVERHEAD,
			 "underlay_mtu_needed", sc->mtu + HOSTS_VXLAN_OVERHEAD, "underlay_mtu",
			 h->underlay_mtu, "underlay_frame", h->underlay_mtu + HOSTS_ETH);
}
