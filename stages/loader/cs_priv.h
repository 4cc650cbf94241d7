/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internals of libcadeia_stage shared between its modules. */
#ifndef CADEIA_CS_PRIV_H
#define CADEIA_CS_PRIV_H

#include <limits.h>
#include <stddef.h>
#include <net/if.h>
#include "cadeia_stage.h"

#define CS_NODE_NAME_MAX 64
#define CS_NETNS_NAME_MAX 64
#define CS_META_MAP "cs_meta"
#define CS_META_MAGIC 0xCADE1A00u
#define CS_META_VERSION 2 /* 2: kwire mode and peer */

/* TC: all our filters use this handle; stages differ by priority. */
#define CS_TC_HANDLE 0xCADE

enum cs_hook {
	CS_HOOK_XDP,
	CS_HOOK_TC_EGRESS,
	CS_HOOK_TC_INGRESS,
};

#define CS_NSTAGES 5

#define CS_META_F_CLSACT_CREATED (1u << 0)
#define CS_META_F_XDP_GENERIC (1u << 1)

/*
 * What cs_attach did, so that another process can undo exactly that: kept in
 * a one-slot BPF array pinned as <pin dir>/cs_meta, so it lives and dies with
 * the node's pins (bpffs holds no regular files).
 */
struct cs_meta {
	__u32 magic;
	__u32 version;
	__u32 stages;  /* enum cs_stage_bit mask */
	__u32 flags;   /* CS_META_F_* */
	__u32 ifindex; /* inside netns */
	__u32 prog_id[CS_NSTAGES]; /* indexed by stage bit number */
	char netns[CS_NETNS_NAME_MAX]; /* "" = the netns of the attaching thread */
	char ifname[IF_NAMESIZE];
	__u8 mac[6];
	__u8 pad[2];
	/* version 2 */
	__u32 kwire_mode;         /* KWIRE_MODE_* */
	__u32 kwire_peer_ifindex; /* 0 = reflect on ifname */
	char kwire_peer[IF_NAMESIZE];
};
#define CS_META_V1_SIZE offsetof(struct cs_meta, kwire_mode)

/* util.c */
int cs_errf(struct cs_err *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cs_node_check(const char *node, struct cs_err *err);
/* A valid name whose pin directory exists; -ENOENT "not attached" otherwise. */
int cs_node_attached(const char *node, struct cs_err *err);
int cs_node_path(char *buf, size_t sz, const char *node, const char *file);
int cs_stage_index(unsigned bit);
/* Opens a pinned object of node; -errno and a message on failure. */
int cs_pin_open(const char *node, const char *file, struct cs_err *err);

/* netns.c */
struct cs_ifinfo {
	const char *ifname;
	int ifindex;
	__u8 mac[6];
};
/* Looks up ifname's index and MAC in the calling thread's netns. */
int cs_if_lookup(void *arg);
/* Same, in netns, with a message naming the interface and the netns. */
int cs_if_resolve(const char *netns, const char *ifname, struct cs_ifinfo *ifi,
		  struct cs_err *err);

/* meta.c */
int cs_meta_write(const char *node, const struct cs_meta *m, struct cs_err *err);
int cs_meta_read(const char *node, struct cs_meta *m, struct cs_err *err);

#endif /* CADEIA_CS_PRIV_H */
