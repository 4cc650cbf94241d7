/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Structs shared by the BPF stages and user space: map keys and values, and
 * the per-CPU statistics. Wire format lives in nsh.h; BPF-only maps and
 * helpers live in the headers in bpf/ (parsing, nsh, nsh_state, skb_pull, stats).
 */
#ifndef CADEIA_SHARED_H
#define CADEIA_SHARED_H

#include <linux/types.h>
#include "nsh.h"

#define CADEIA_PIN_ROOT "/sys/fs/bpf/cadeia"

/* ---- classifier ---------------------------------------------------------- */

#define CLS_MAX_RULES 32

/* One slot of the cls_rules array; first valid match wins. */
struct cls_rule {
	__u32 valid;       /* 0 = empty slot */
	__be32 src;        /* IPv4 source prefix, network order */
	__be32 src_mask;   /* 0 = any */
	__be32 dst;
	__be32 dst_mask;
	__be16 sport;      /* TCP/UDP only; 0 = any */
	__be16 dport;      /* TCP/UDP only; 0 = any */
	__u8 proto;        /* IPPROTO_*, 0 = any */
	__u8 md_type;      /* NSH_MDTYPE_1 or NSH_MDTYPE_2 (empty) */
	__u8 inner;        /* NSH_NP_ETH (keep inner Ethernet) or NSH_NP_IPV4 */
	__u8 si;           /* starting service index */
	__u32 spi;         /* 24 bits */
	__u8 next_hop[6];  /* first SF's MAC: outer Ethernet destination */
	__u8 pad[2];
	__u32 ifindex;     /* 0 = leave on this interface, else bpf_redirect */
	__be32 md1_ctx[4]; /* MD type 1 context headers, copied verbatim */
};

/* ---- fwd ----------------------------------------------------------------- */

enum fwd_action {
	FWD_NEXT_HOP = 1, /* rewrite outer Ethernet to mac, keep NSH */
	FWD_END = 2,      /* end of chain: strip NSH, deliver the inner frame */
};

struct fwd_key {
	__u32 spi;
	__u32 si;
};

/*
 * Not an SFF hop (a proxy, or an NSH-aware SF handing the frame back to the
 * SFF): TTL is left as it came. RFC 8300 has only SFFs decrement it.
 */
#define FWD_F_KEEP_TTL 0x1

struct fwd_entry {
	__u32 action;   /* enum fwd_action */
	__u32 ifindex;  /* 0 = same interface, else bpf_redirect to it */
	__u8 mac[6];    /* NEXT_HOP: next SF; END with IPv4 inner: dest's MAC */
	__u8 flags;     /* FWD_F_* */
	__u8 pad;
};

/* ---- dec/enc shared state ------------------------------------------------ */

/*
 * Per-flow key: the inner 5-tuple. Concurrent flows never share a slot. ICMP
 * echo uses the identifier as sport and 0 as dport. Frames that are neither
 * IPv4 nor IPv6 use the all-zero key (one shared slot for non-IP traffic).
 */
struct flow_key {
	__u8 family; /* 0, 4 or 6 */
	__u8 proto;
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__be32 saddr[4]; /* IPv4 uses [0] only */
	__be32 daddr[4];
};

/*
 * What dec keeps for enc: the whole NSH, metadata included, and the flow it
 * belongs to. dec never writes an element in place: every save is a whole
 * new element (bpf_map_update_elem) carrying a generation number unique to
 * that save, at both ends of the value. The LRU hash reuses freed elements at
 * once, so a reader (enc) takes gen first, reads what it needs, then checks
 * gen and gen_tail again and key: any save, eviction or reuse in between
 * changes one of them, and the frame is dropped (enc's drop_torn) instead of
 * leaving with the length of one save and the bytes of another.
 */
/*
 * fwd_table's answer for the (SPI, SI-1) enc will send a saved NSH with, as
 * dec found it when it saved: enc takes it instead of a lookup while
 * rules_gen still equals the node's fwd_gen (the loader bumps fwd_gen after
 * every change of fwd_table), and looks fwd_table up otherwise.
 */
struct nsh_hop {
	__u32 rules_gen;    /* fwd_gen when dec looked the entry up */
	__u32 pad;
	struct fwd_entry e; /* its copy; action 0: no entry (or SI-1 is 0) */
};

struct nsh_state {
	__u64 gen;           /* this save's generation (nsh_state.bpf.h) */
	struct flow_key key; /* the flow saved; enc compares it with its own */
	__u8 prev_hop[6];    /* outer source MAC dec saw: enc's next hop */
	__u8 inner;          /* NSH next protocol (NSH_NP_ETH, _IPV4, _IPV6) */
	__u8 len;            /* bytes used in hdr[], 8..NSH_MAX_LEN */
	__u8 hdr[NSH_MAX_LEN];
	__u32 pad;
	struct nsh_hop hop;  /* the next hop at save time, see struct nsh_hop */
	__u64 gen_tail;      /* == gen once the save is complete */
};

/* ---- kwire ----------------------------------------------------------------- */

/* Which frames kwire sends on: its rodata knob kwire_mode. */
#define KWIRE_MODE_OTHERHOST 0 /* wire SF or proxy: frames not for this host */
#define KWIRE_MODE_NSH_HOST 1  /* SFF: NSH frames addressed to this host */

/* ---- statistics ---------------------------------------------------------- */
/*
 * Each stage's counters are one struct of __u64 in a per-CPU array with a
 * single slot. The X-macros give both the struct fields (named in BTF, which
 * the loader reads to print them) and the matching enum, so a program's one
 * exit can do counters[reason]++.
 */
#define CLS_STATS(X)                                                           \
	X(passed)          /* not IPv4 or no rule matched: untouched */        \
	X(classified)      /* NSH pushed */                                    \
	X(redirected)      /* classified and sent to another ifindex */        \
	X(drop_adjust)     /* bpf_skb_change_head failed */                    \
	X(drop_store)      /* writing the new headers failed */

#define DEC_STATS(X)                                                           \
	X(passed)          /* no NSH: untouched */                             \
	X(decap)           /* NSH stripped and saved, XDP_PASS */              \
	X(drop_not_for_us) /* NSH frame for another MAC */                     \
	X(drop_truncated)  /* shorter than its headers say */                  \
	X(drop_bad_version)                                                    \
	X(drop_bad_length) /* Length disagrees with MD type */                 \
	X(drop_bad_mdtype)                                                     \
	X(drop_bad_next_proto)                                                 \
	X(drop_ttl)        /* TTL 0 or 1: the next SFF hop would expire it */  \
	X(drop_si_zero)                                                        \
	X(drop_no_flow)    /* inner headers too short to build a flow key */   \
	X(drop_state)      /* saving the NSH in nsh_state failed */            \
	X(drop_adjust)     /* bpf_xdp_adjust_head failed */

#define ENC_STATS(X)                                                           \
	X(passed)          /* the SF's own frame (source MAC = node_mac) or   \
			      NSH already: untouched */                        \
	X(encap)           /* NSH restored with SI-1, fwd's stage run on it   \
			      (or left to the fwd program) */                  \
	X(drop_si_zero)    /* saved SI was 0: nothing left to decrement */     \
	X(drop_adjust)     /* bpf_skb_change_head failed */                    \
	X(drop_store)      /* the pushed room is not where it should be */     \
	X(drop_no_state)   /* a forwarded frame with no saved NSH: evicted,    \
			      or the function changed its 5-tuple */           \
	X(drop_torn)       /* the saved NSH changed while enc read it */

#define FWD_STATS(X)                                                           \
	X(passed)          /* no NSH: untouched */                             \
	X(forwarded)       /* outer Ethernet rewritten to the next hop */      \
	X(end_of_chain)    /* NSH stripped, inner frame delivered */           \
	X(redirected)      /* forwarded or delivered via another ifindex */    \
	X(drop_truncated)                                                      \
	X(drop_bad_version)                                                    \
	X(drop_bad_length)                                                     \
	X(drop_bad_next_proto)                                                 \
	X(drop_ttl_expired) /* TTL 0 on arrival or after decrement */          \
	X(drop_si_zero)                                                        \
	X(drop_no_path)    /* (SPI, SI) not in fwd_table */                    \
	X(drop_adjust)                                                         \
	X(drop_store)                                                          \
	X(drop_bad_mdtype)

#define KWIRE_STATS(X)                                                         \
	X(passed)          /* not a frame to reflect: left to the stack */     \
	X(reflected)       /* redirected back out of the same interface */     \
	X(redirected)      /* cross-connected: out of redirect_ifindex */

#define CADEIA_STAT_FIELD(name) __u64 name;
#define CADEIA_STAT_ENUM(prefix, name) prefix##_##name,

struct cls_stats { CLS_STATS(CADEIA_STAT_FIELD) };
struct dec_stats { DEC_STATS(CADEIA_STAT_FIELD) };
struct enc_stats { ENC_STATS(CADEIA_STAT_FIELD) };
struct fwd_stats { FWD_STATS(CADEIA_STAT_FIELD) };
struct kwire_stats { KWIRE_STATS(CADEIA_STAT_FIELD) };

#define CLS_E(n) CLS_##n,
#define DEC_E(n) DEC_##n,
#define ENC_E(n) ENC_##n,
#define FWD_E(n) FWD_##n,
#define KWIRE_E(n) KWIRE_##n,
enum cls_verdict { CLS_STATS(CLS_E) CLS__MAX };
enum dec_verdict { DEC_STATS(DEC_E) DEC__MAX };
enum enc_verdict { ENC_STATS(ENC_E) ENC__MAX };
enum fwd_verdict { FWD_STATS(FWD_E) FWD__MAX };
enum kwire_verdict { KWIRE_STATS(KWIRE_E) KWIRE__MAX };

#endif /* CADEIA_SHARED_H */
