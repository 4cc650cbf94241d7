/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libcadeia_stage: attach a node's stages, install its rules, read its
 * counters. Used in process by cadeia-bench and by the cadeia-stage CLI.
 *
 * Errors: every call returns 0 on success or a negative errno, and writes a
 * one-line message that names the object (node, interface, rule, field) into
 * the caller's buffer (struct cs_err).
 */
#ifndef CADEIA_STAGE_H
#define CADEIA_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cadeia_shared.h"

struct cs_err {
	char msg[512];
};

enum cs_stage_bit {
	CS_STAGE_CLASSIFIER = 1u << 0, /* TC egress */
	CS_STAGE_DEC = 1u << 1,        /* XDP */
	CS_STAGE_ENC = 1u << 2,        /* TC egress, before fwd */
	CS_STAGE_FWD = 1u << 3,        /* TC egress, after enc */
	CS_STAGE_KWIRE = 1u << 4,      /* TC ingress: in-kernel wire function */
};

/* Names used on the command line, in JSON and for pin files. */
const char *cs_stage_name(unsigned bit);
/* Parses "classifier,dec,enc,fwd,kwire" (or "sf" = dec,enc,fwd; "nsh-aware" =
 * fwd). Returns 0 and the mask, or -EINVAL naming the bad word. */
int cs_stages_parse(const char *list, unsigned *mask, struct cs_err *err);

struct cs_attach_opts {
	const char *node;   /* pins under CADEIA_PIN_ROOT/<node>/ */
	const char *netns;  /* name under /run/netns; NULL = current netns */
	const char *ifname; /* interface inside that netns */
	unsigned stages;    /* mask of enum cs_stage_bit */
	bool xdp_generic;   /* XDP in SKB mode instead of native */
	/* kwire only: KWIRE_MODE_* (which frames it sends on), and the
	 * interface in the same netns it sends them out of (NULL = ifname). */
	unsigned kwire_mode;
	const char *kwire_peer;
};

/*
 * Loads the stages' skeletons with this node's MAC in their rodata, pins all
 * their maps under CADEIA_PIN_ROOT/<node>/ (dec and enc share nsh_state), and
 * attaches them. All or nothing: on failure whatever was attached is removed.
 */
int cs_attach(const struct cs_attach_opts *o, struct cs_err *err);

/* Detaches exactly what cs_attach attached for this node and removes its pin
 * directory. A vanished netns or interface is not an error. */
int cs_detach(const char *node, struct cs_err *err);

/* True when CADEIA_PIN_ROOT/<node> exists. */
bool cs_node_exists(const char *node);

/* ---- rules -------------------------------------------------------------- */

/* Replaces the whole classifier table (n <= CLS_MAX_RULES). */
int cs_cls_replace(const char *node, const struct cls_rule *rules, size_t n,
		   struct cs_err *err);
/* Reads back the valid rules; *n in: capacity, out: count. */
int cs_cls_read(const char *node, struct cls_rule *rules, size_t *n,
		struct cs_err *err);

struct cs_fwd_rule {
	struct fwd_key key;
	struct fwd_entry val;
};
/* Makes fwd_table equal to exactly these entries (adds, updates, deletes). */
int cs_fwd_replace(const char *node, const struct cs_fwd_rule *rules, size_t n,
		   struct cs_err *err);
int cs_fwd_read(const char *node, struct cs_fwd_rule *rules, size_t *n,
		struct cs_err *err);

/*
 * Rules file (JSON), strict about unknown keys:
 * { "classifier": [ { "src": "10.0.0.1/32", "dst": "10.0.0.2", "proto": "icmp",
 *                     "sport": 0, "dport": 0, "spi": 1, "si": 255,
 *                     "next_hop": "02:00:00:00:00:02", "ifname": "eth0",
 *                     "md_type": 2, "md1_ctx": [0,0,0,0], "inner": "ethernet" } ],
 *   "forwarding": [ { "spi": 1, "si": 254, "next_hop": "02:..", "ifname": "eth1" },
 *                   { "spi": 1, "si": 253, "end": true, "dest_mac": "02:.." },
 *                   { "spi": 2, "si": 254, "next_hop": "02:..", "keep_ttl": true } ] }
 * Either section may be absent; a present section replaces that table.
 * "keep_ttl": true sets FWD_F_KEEP_TTL (a hop that is not an SFF's).
 * ifname is resolved inside netns (NULL = current).
 */
int cs_rules_load_file(const char *node, const char *netns, const char *path,
		       struct cs_err *err);

/* One table entry as a rules-file object (the format cs_rules_load_file
 * reads, plus "ifindex"); `show --json` prints these. */
#include <jansson.h>
json_t *cs_cls_rule_json(const struct cls_rule *r);
json_t *cs_fwd_rule_json(const struct cs_fwd_rule *r);

/* ---- counters ----------------------------------------------------------- */

struct cs_counter {
	char name[48];
	uint64_t value; /* summed over CPUs */
};
/*
 * Reads one stage's counters, field names taken from the map's BTF.
 * *n in: capacity, out: count. -ENOENT if that stage is not attached.
 */
int cs_stats_read(const char *node, unsigned stage_bit, struct cs_counter *c,
		  size_t *n, struct cs_err *err);
/* Convenience: one named counter (e.g. "decap"); 0 if absent. */
uint64_t cs_stat_get(const char *node, unsigned stage_bit, const char *name);

/* ---- node records (added by the loader) ---------------------------------- */

/* What cs_attach recorded for a node (its pinned cs_meta map). */
struct cs_node_info {
	char netns[64];  /* "" = the attaching thread's netns */
	char ifname[16];
	int ifindex;
	uint8_t mac[6];  /* the interface's MAC, as put in node_mac */
	unsigned stages; /* enum cs_stage_bit mask */
	bool xdp_generic;
	bool clsact_created; /* detach removes the clsact qdisc */
	unsigned kwire_mode;  /* KWIRE_MODE_*, as put in kwire's rodata */
	char kwire_peer[16];  /* "" = kwire reflects on ifname */
	int kwire_peer_ifindex;
};
int cs_node_info(const char *node, struct cs_node_info *info, struct cs_err *err);

/* ---- helpers shared with the orchestrator -------------------------------- */

/* "02:00:00:00:00:0a" -> bytes. -EINVAL if malformed. */
int cs_mac_parse(const char *s, uint8_t mac[6]);
void cs_mac_format(const uint8_t mac[6], char out[18]);

/* Runs fn(arg) with the calling thread inside netns (name under /run/netns,
 * NULL = current), then returns to the original netns. */
int cs_in_netns(const char *netns, int (*fn)(void *arg), void *arg,
		struct cs_err *err);

#endif /* CADEIA_STAGE_H */
