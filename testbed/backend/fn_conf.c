// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/fn_conf.h"
#include "model/arch.h"
#include "sys/netns.h"
#include "sys/nl.h"

#define FNC_NFT_MAX 16384

bool fnc_has_config(enum sc_fn fn)
{
	return fn == SC_FN_FIREWALL || fn == SC_FN_NAT || fn == SC_FN_LB || fn == SC_FN_MONITOR;
}

static json_t *ip_json(uint32_t ip)
{
	char s[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = ip };

	inet_ntop(AF_INET, &a, s, sizeof(s));
	return json_string(s);
}

static json_t *mac_json(const uint8_t *m)
{
	char s[18];

	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return json_string(s);
}

static json_t *host_json(const struct sc_node *n)
{
	return json_pack("{s:s, s:o, s:o}", "name", n->name, "ip", ip_json(n->ip), "mac",
			 mac_json(n->mac));
}

int fnc_nft_script(const struct sc_node *n, char *buf, size_t len, char *err, size_t errlen)
{
	size_t off;
	int w;

	/* Netdev ingress runs after XDP (dec has stripped NSH) and before the
	 * protocol handlers, the function's socket among them: a dropped frame
	 * never reaches it; an accepted one is reflected back out. */
	w = snprintf(buf, len,
		     "table netdev cadeia_fw {\n"
		     "\tchain ingress {\n"
		     "\t\ttype filter hook ingress device \"%s\" priority 0; policy accept;\n",
		     n->ifname);
	off = (size_t)w;
	if (n->fw_rules_file[0]) {
		FILE *f = fopen(n->fw_rules_file, "r");
		char line[1024];

		if (!f) {
			snprintf(err, errlen, "node %s: rules_file %s: %s", n->name, n->fw_rules_file,
				 strerror(errno));
			return -errno;
		}
		while (fgets(line, sizeof(line), f) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "\t\t%s%s", line,
						strchr(line, '\n') ? "" : "\n");
		fclose(f);
	} else {
		const char *p = n->fw_rules;

		while (*p && off < len) {
			const char *nl = strchr(p, '\n');
			int l = nl ? (int)(nl - p) : (int)strlen(p);

			off += (size_t)snprintf(buf + off, len - off, "\t\t%.*s\n", l, p);
			p += l + (nl ? 1 : 0);
		}
	}
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "\t}\n}\n");
	if (off >= len) {
		snprintf(err, errlen, "node %s: the firewall rules exceed %zu bytes", n->name, len);
		return -E2BIG;
	}
	return 0;
}

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fputs(text, f) < 0 || fflush(f) != 0 || ferror(f))
		ret = -(errno ? errno : EIO);
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

int fnc_config(struct testbed *tb, int i, const char *dir, json_t **cfg, char **nft, char *err,
	       size_t errlen)
{
	const struct scenario *sc = tb->sc;
	const struct sc_node *n = &sc->nodes[i];
	json_t *o = json_pack("{s:s, s:s, s:o}", "kind", sc_fn_name(n->fn), "label",
			      sc_arch_name(sc->arch), "mac", mac_json(n->mac));
	char file[1024];
	int ret;

	*nft = NULL;
	switch (n->fn) {
	case SC_FN_FIREWALL:
		*nft = malloc(FNC_NFT_MAX);
		if (!*nft) {
			json_decref(o);
			return -ENOMEM;
		}
		if ((ret = fnc_nft_script(n, *nft, FNC_NFT_MAX, err, errlen)) < 0) {
			free(*nft);
			*nft = NULL;
			json_decref(o);
			return ret;
		}
		snprintf(file, sizeof(file), "%s/fw-%s.nft", dir, n->name);
		json_object_set_new(o, "nft", json_string(file));
		break;
	case SC_FN_NAT: {
		json_t *hosts = json_array();

		for (int j = 0; j < sc->n_nodes; j++)
			if (j != i)
				json_array_append_new(hosts, host_json(&sc->nodes[j]));
		json_object_set_new(o, "hosts", hosts);
		json_object_set_new(o, "nat_address", ip_json(n->nat_ip));
		break;
	}
	case SC_FN_LB: {
		json_t *be = json_array();

		for (int k = 0; k < n->n_backends; k++)
			json_array_append_new(be, host_json(&sc->nodes[n->backends[k]]));
		json_object_set_new(o, "backends", be);
		json_object_set_new(o, "vip", ip_json(sc->nodes[n->backends[0]].ip));
		snprintf(file, sizeof(file), "%s/lb-%s.csv", dir, n->name);
		json_object_set_new(o, "spread", json_string(file));
		break;
	}
	case SC_FN_MONITOR:
		/* One flows.csv per run: every monitor and architecture appends
		 * its rows, told apart by the first two columns. */
		snprintf(file, sizeof(file), "%s/flows.csv", dir);
		json_object_set_new(o, "flows", json_string(file));
		break;
	default:
		break;
	}
	*cfg = o;
	return 0;
}

int fnc_write(struct testbed *tb, int i, char *path, size_t len, char *err, size_t errlen)
{
	const char *dir = tb->log_dir ? tb->log_dir : "/tmp";
	char *text = NULL, *nft = NULL;
	json_t *o = NULL;
	int ret;

	if ((ret = fnc_config(tb, i, dir, &o, &nft, err, errlen)) < 0)
		return ret;
	if (nft && (ret = write_file(json_string_value(json_object_get(o, "nft")), nft, err,
				     errlen)) < 0)
		goto cleanup;
	snprintf(path, len, "%s/fn-%s.json", dir, tb->sc->nodes[i].name);
	text = json_dumps(o, JSON_INDENT(2));
	ret = text ? write_file(path, text, err, errlen) : -ENOMEM;
cleanup:
	free(text);
	free(nft);
	json_decref(o);
	return ret;
}

int fnc_prepare(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	const struct sc_node *n = &sc->nodes[i];
	int ret;

	if (n->fn == SC_FN_NAT) {
		/* Replies to the NAT address reach the NAT's MAC without ARP
		 * (flooding is off on SF ports). */
		struct node_neigh nb = { .ip = n->nat_ip };

		memcpy(nb.mac, n->mac, 6);
		for (int j = 0; j < sc->n_nodes; j++) {
			if (j == i || arch_behind_proxy(&sc->nodes[j]))
				continue;
			if ((ret = tb->ops->node->neigh(tb, j, &nb, 1, err, errlen)) < 0)
				return ret;
		}
	}
	if (n->fn == SC_FN_LB && tb->ops == &netns_backend) {
		/* Direct server return: every backend accepts the VIP (the first
		 * backend's address) and answers from it; arp_ignore keeps the
		 * others from claiming it. */
		struct in_addr vip = { .s_addr = sc->nodes[n->backends[0]].ip };

		for (int k = 1; k < n->n_backends; k++) {
			const char *ns = tb->name[n->backends[k]];

			if ((ret = netns_sysctl_write(ns, "net/ipv4/conf/all/arp_ignore", "1", err,
						      errlen)) < 0 ||
			    (ret = nl_addr4_add(ns, "lo", vip, 32, err, errlen)) < 0)
				return ret;
		}
	}
	return 0;
}
