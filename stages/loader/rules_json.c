// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rules file (format in cadeia_stage.h). Everything is validated before
 * any map is written, so a bad file changes nothing. jansson keeps no
 * positions per value: semantic errors name the rule index and the field.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "cs_priv.h"

struct pctx {
	const char *path;
	const char *netns;
	struct cs_err *err;
	char where[64]; /* "classifier[2]" */
};

#define perr(c, fmt, ...)                                                      \
	cs_errf((c)->err, -EINVAL, "%s: %s" fmt, (c)->path, (c)->where,        \
		##__VA_ARGS__)

static const struct {
	const char *name;
	__u8 num;
} protos[] = {
	{ "any", 0 },   { "icmp", 1 },  { "igmp", 2 },    { "tcp", 6 },
	{ "udp", 17 },  { "gre", 47 },  { "esp", 50 },    { "icmpv6", 58 },
	{ "sctp", 132 },
};

static int check_keys(struct pctx *c, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	int i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i]; i++)
			if (!strcmp(key, allowed[i]))
				break;
		if (!allowed[i])
			return cs_errf(c->err, -EINVAL, "%s: %s%s%s: unknown key",
				       c->path, c->where, c->where[0] ? "." : "",
				       key);
	}
	return 0;
}

/* Integer field in [min, max]; absent: *out = def, or an error if required. */
static int get_int(struct pctx *c, json_t *obj, const char *key, json_int_t min,
		   json_int_t max, bool required, json_int_t def, json_int_t *out)
{
	json_t *v = json_object_get(obj, key);
	json_int_t x;

	if (!v) {
		if (required)
			return perr(c, ".%s: missing", key);
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return perr(c, ".%s: expected an integer", key);
	x = json_integer_value(v);
	if (x < min || x > max)
		return perr(c, ".%s: %" JSON_INTEGER_FORMAT
			    " is out of range %" JSON_INTEGER_FORMAT
			    "..%" JSON_INTEGER_FORMAT, key, x, min, max);
	*out = x;
	return 0;
}

/* String field; absent: *out = NULL, or an error if required. */
static int get_str(struct pctx *c, json_t *obj, const char *key, bool required,
		   const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return required ? perr(c, ".%s: missing", key) : 0;
	if (!json_is_string(v))
		return perr(c, ".%s: expected a string", key);
	*out = json_string_value(v);
	return 0;
}

static int get_mac(struct pctx *c, json_t *obj, const char *key, bool required,
		   __u8 mac[6], bool *present)
{
	const char *s;
	int ret;

	ret = get_str(c, obj, key, required, &s);
	if (ret < 0)
		return ret;
	if (present)
		*present = s != NULL;
	if (!s)
		return 0;
	if (cs_mac_parse(s, mac) < 0)
		return perr(c, ".%s: \"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)",
			    key, s);
	return 0;
}

static int get_prefix(struct pctx *c, json_t *obj, const char *key,
		      __be32 *addr, __be32 *mask)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	struct in_addr a;
	const char *s;
	long len = 32;
	int ret;

	*addr = 0;
	*mask = 0;
	ret = get_str(c, obj, key, false, &s);
	if (ret < 0 || !s)
		return ret;
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		/* Digits only: strtol alone takes " 24" and "+24". */
		if (!*slash || strspn(slash, "0123456789") != strlen(slash) || strlen(slash) > 2)
			goto bad;
		errno = 0;
		len = strtol(slash, &end, 10);
		if (*end || errno || len < 0 || len > 32)
			goto bad;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	*mask = len ? htonl(~0u << (32 - len)) : 0;
	*addr = a.s_addr & *mask;
	return 0;
bad:
	return perr(c, ".%s: \"%s\" is not an IPv4 address or prefix (a.b.c.d[/0..32])",
		    key, s);
}

static int get_proto(struct pctx *c, json_t *obj, __u8 *proto)
{
	json_t *v = json_object_get(obj, "proto");
	json_int_t x;
	size_t i;

	*proto = 0;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		int ret = get_int(c, obj, "proto", 0, 255, false, 0, &x);

		*proto = (__u8)x;
		return ret;
	}
	if (!json_is_string(v))
		return perr(c, ".proto: expected a protocol name or number");
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!strcmp(json_string_value(v), protos[i].name)) {
			*proto = protos[i].num;
			return 0;
		}
	}
	return perr(c, ".proto: unknown protocol \"%s\"", json_string_value(v));
}

static int get_ifindex(struct pctx *c, json_t *obj, __u32 *ifindex)
{
	struct cs_ifinfo ifi;
	struct cs_err e;
	const char *s;
	int ret;

	*ifindex = 0;
	ret = get_str(c, obj, "ifname", false, &s);
	if (ret < 0 || !s)
		return ret;
	ret = cs_if_resolve(c->netns, s, &ifi, &e);
	if (ret < 0)
		return cs_errf(c->err, ret, "%s: %s.ifname: %s", c->path,
			       c->where, e.msg);
	*ifindex = ifi.ifindex;
	return 0;
}

static int parse_cls_rule(struct pctx *c, json_t *o, struct cls_rule *r)
{
	static const char *const keys[] = {
		"src", "dst", "proto", "sport", "dport", "spi", "si", "next_hop",
		"ifname", "md_type", "md1_ctx", "inner", NULL,
	};
	const char *inner;
	json_int_t x;
	json_t *ctx, *e;
	size_t i;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		return perr(c, ": expected an object");
	if ((ret = check_keys(c, o, keys)) < 0 ||
	    (ret = get_prefix(c, o, "src", &r->src, &r->src_mask)) < 0 ||
	    (ret = get_prefix(c, o, "dst", &r->dst, &r->dst_mask)) < 0 ||
	    (ret = get_proto(c, o, &r->proto)) < 0)
		return ret;
	if ((ret = get_int(c, o, "sport", 0, 65535, false, 0, &x)) < 0)
		return ret;
	r->sport = htons((__u16)x);
	if ((ret = get_int(c, o, "dport", 0, 65535, false, 0, &x)) < 0)
		return ret;
	r->dport = htons((__u16)x);
	if ((ret = get_int(c, o, "spi", 0, NSH_SPI_MAX, true, 0, &x)) < 0)
		return ret;
	r->spi = (__u32)x;
	if ((ret = get_int(c, o, "si", 0, NSH_SI_MAX, false, NSH_SI_MAX, &x)) < 0)
		return ret;
	r->si = (__u8)x;
	if ((ret = get_mac(c, o, "next_hop", true, r->next_hop, NULL)) < 0 ||
	    (ret = get_ifindex(c, o, &r->ifindex)) < 0)
		return ret;
	if ((ret = get_int(c, o, "md_type", NSH_MDTYPE_1, NSH_MDTYPE_2, false,
			   NSH_MDTYPE_2, &x)) < 0)
		return ret;
	r->md_type = (__u8)x;

	ctx = json_object_get(o, "md1_ctx");
	if (ctx) {
		if (r->md_type != NSH_MDTYPE_1)
			return perr(c, ".md1_ctx: only with md_type 1");
		if (!json_is_array(ctx) || json_array_size(ctx) != 4)
			return perr(c, ".md1_ctx: expected an array of 4 integers");
		json_array_foreach(ctx, i, e) {
			if (!json_is_integer(e))
				return perr(c, ".md1_ctx[%zu]: expected an integer", i);
			x = json_integer_value(e);
			if (x < 0 || x > 0xFFFFFFFFll)
				return perr(c, ".md1_ctx[%zu]: %" JSON_INTEGER_FORMAT
					    " is out of range 0..4294967295", i, x);
			r->md1_ctx[i] = htonl((__u32)x);
		}
	}

	if ((ret = get_str(c, o, "inner", false, &inner)) < 0)
		return ret;
	if (!inner || !strcmp(inner, "ethernet"))
		r->inner = NSH_NP_ETH;
	else if (!strcmp(inner, "ipv4"))
		r->inner = NSH_NP_IPV4;
	else
		return perr(c, ".inner: unknown value \"%s\" (ethernet or ipv4)", inner);
	r->valid = 1;
	return 0;
}

static int parse_fwd_rule(struct pctx *c, json_t *o, struct cs_fwd_rule *r)
{
	static const char *const keys[] = {
		"spi", "si", "next_hop", "ifname", "end", "dest_mac", "keep_ttl",
		NULL,
	};
	bool has_next = false, has_dest = false, end = false;
	json_int_t x;
	json_t *v;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		return perr(c, ": expected an object");
	if ((ret = check_keys(c, o, keys)) < 0)
		return ret;
	if ((ret = get_int(c, o, "spi", 0, NSH_SPI_MAX, true, 0, &x)) < 0)
		return ret;
	r->key.spi = (__u32)x;
	if ((ret = get_int(c, o, "si", 0, NSH_SI_MAX, true, 0, &x)) < 0)
		return ret;
	r->key.si = (__u32)x;
	v = json_object_get(o, "end");
	if (v) {
		if (!json_is_boolean(v))
			return perr(c, ".end: expected true or false");
		end = json_is_true(v);
	}
	if ((ret = get_mac(c, o, "next_hop", false, r->val.mac, &has_next)) < 0)
		return ret;
	if (end && has_next)
		return perr(c, ": next_hop and \"end\": true exclude each other");
	if (!end && !has_next)
		return perr(c, ": needs next_hop or \"end\": true");
	if (end) {
		if ((ret = get_mac(c, o, "dest_mac", false, r->val.mac, &has_dest)) < 0)
			return ret;
	} else if (json_object_get(o, "dest_mac")) {
		return perr(c, ".dest_mac: only with \"end\": true");
	}
	(void)has_dest;
	v = json_object_get(o, "keep_ttl");
	if (v) {
		if (!json_is_boolean(v))
			return perr(c, ".keep_ttl: expected true or false");
		if (json_is_true(v))
			r->val.flags |= FWD_F_KEEP_TTL;
	}
	r->val.action = end ? FWD_END : FWD_NEXT_HOP;
	return get_ifindex(c, o, &r->val.ifindex);
}

static int section(struct pctx *c, json_t *root, const char *name, json_t **arr)
{
	*arr = json_object_get(root, name);
	if (*arr && !json_is_array(*arr))
		return cs_errf(c->err, -EINVAL, "%s: %s: expected an array",
			       c->path, name);
	return 0;
}

int cs_rules_load_file(const char *node, const char *netns, const char *path,
		       struct cs_err *err)
{
	static const char *const top_keys[] = { "classifier", "forwarding", NULL };
	struct pctx c = { .path = path, .netns = netns, .err = err };
	struct cls_rule *cls = NULL;
	struct cs_fwd_rule *fwd = NULL;
	json_t *root, *jcls, *jfwd, *o;
	json_error_t jerr;
	size_t i, j, ncls = 0, nfwd = 0;
	int ret = -1;

	errno = 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0) /* could not read it at all */
			return cs_errf(err, errno ? -errno : -EIO, "%s: %s", path,
				       jerr.text);
		return cs_errf(err, -EINVAL, "%s:%d:%d: %s", path, jerr.line,
			       jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		ret = cs_errf(err, -EINVAL, "%s: expected an object at the top level",
			      path);
		goto cleanup;
	}
	if ((ret = check_keys(&c, root, top_keys)) < 0 ||
	    (ret = section(&c, root, "classifier", &jcls)) < 0 ||
	    (ret = section(&c, root, "forwarding", &jfwd)) < 0)
		goto cleanup;

	if (jcls) {
		ncls = json_array_size(jcls);
		if (ncls > CLS_MAX_RULES) {
			ret = cs_errf(err, -E2BIG, "%s: classifier: %zu rules, at most %d",
				      path, ncls, CLS_MAX_RULES);
			goto cleanup;
		}
		cls = calloc(ncls ? ncls : 1, sizeof(*cls));
		if (!cls) {
			ret = cs_errf(err, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
			goto cleanup;
		}
		json_array_foreach(jcls, i, o) {
			snprintf(c.where, sizeof(c.where), "classifier[%zu]", i);
			if ((ret = parse_cls_rule(&c, o, &cls[i])) < 0)
				goto cleanup;
		}
	}
	if (jfwd) {
		nfwd = json_array_size(jfwd);
		fwd = calloc(nfwd ? nfwd : 1, sizeof(*fwd));
		if (!fwd) {
			ret = cs_errf(err, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
			goto cleanup;
		}
		json_array_foreach(jfwd, i, o) {
			snprintf(c.where, sizeof(c.where), "forwarding[%zu]", i);
			if ((ret = parse_fwd_rule(&c, o, &fwd[i])) < 0)
				goto cleanup;
			for (j = 0; j < i; j++) {
				if (fwd[j].key.spi == fwd[i].key.spi &&
				    fwd[j].key.si == fwd[i].key.si) {
					ret = perr(&c, ": spi %u si %u repeats forwarding[%zu]",
						   fwd[i].key.spi, fwd[i].key.si, j);
					goto cleanup;
				}
			}
		}
	}

	if (jcls && (ret = cs_cls_replace(node, cls, ncls, err)) < 0)
		goto cleanup;
	if (jfwd && (ret = cs_fwd_replace(node, fwd, nfwd, err)) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(fwd);
	free(cls);
	json_decref(root);
	return ret;
}

/* ---- tables back to JSON (show --json, and rules files for guests) ---- */

static const char *proto_name(__u8 p, char buf[8])
{
	switch (p) {
	case 0: return "any";
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 132: return "sctp";
	}
	snprintf(buf, 8, "%u", p);
	return buf;
}

static void prefix_str(__be32 addr, __be32 mask, char out[INET_ADDRSTRLEN + 4])
{
	char a[INET_ADDRSTRLEN];
	int len = __builtin_popcount(ntohl(mask));

	if (!mask) {
		snprintf(out, INET_ADDRSTRLEN + 4, "any");
		return;
	}
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(out, INET_ADDRSTRLEN + 4, "%s/%d", a, len);
}

json_t *cs_cls_rule_json(const struct cls_rule *r)
{
	char src[INET_ADDRSTRLEN + 4], dst[INET_ADDRSTRLEN + 4], mac[18], pb[8];
	json_t *o;
	int i;

	prefix_str(r->src, r->src_mask, src);
	prefix_str(r->dst, r->dst_mask, dst);
	cs_mac_format(r->next_hop, mac);
	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:i, s:s, s:i, s:i, s:s}",
		      "src", src, "dst", dst, "proto", proto_name(r->proto, pb),
		      "sport", ntohs(r->sport), "dport", ntohs(r->dport),
		      "spi", (json_int_t)r->spi, "si", r->si, "next_hop", mac,
		      "ifindex", r->ifindex, "md_type", r->md_type,
		      "inner", r->inner == NSH_NP_ETH ? "ethernet" : "ipv4");
	if (o && r->md_type == NSH_MDTYPE_1) {
		json_t *ctx = json_array();

		for (i = 0; i < 4; i++)
			json_array_append_new(ctx, json_integer(ntohl(r->md1_ctx[i])));
		json_object_set_new(o, "md1_ctx", ctx);
	}
	return o;
}

json_t *cs_fwd_rule_json(const struct cs_fwd_rule *r)
{
	static const __u8 zero[6];
	char mac[18];
	json_t *o;

	cs_mac_format(r->val.mac, mac);
	o = json_pack("{s:I, s:i}", "spi", (json_int_t)r->key.spi, "si", r->key.si);
	if (r->val.action == FWD_END) {
		json_object_set_new(o, "end", json_true());
		if (memcmp(r->val.mac, zero, 6))
			json_object_set_new(o, "dest_mac", json_string(mac));
	} else {
		json_object_set_new(o, "next_hop", json_string(mac));
	}
	json_object_set_new(o, "ifindex", json_integer(r->val.ifindex));
	if (r->val.flags & FWD_F_KEEP_TTL)
		json_object_set_new(o, "keep_ttl", json_true());
	return o;
}
