/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Scenarios: JSON in, a validated struct scenario out. Every error names
 * file:line:column and the field. Format: scenarios/README.md.
 */
#ifndef CADEIA_SCENARIO_H
#define CADEIA_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define SC_MAX_FILE_NODES 40
#define SC_MAX_NODES (2 * SC_MAX_FILE_NODES + 1) /* plus a generated SFF and proxies */
#define SC_MAX_CHAINS 16
#define SC_MAX_CHAIN_LEN 62 /* TTL 63: the 63rd SF would see TTL 1 */
#define SC_MAX_LENGTHS 64
#define SC_NAME_MAX 32
/* Host-side links are "<prefix>-<node>", prefix "cb" + 4 hex digits. */
#define SC_RUN_PREFIX_LEN 6
#define SC_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
/* Input caps: a scenario is a few KiB; these stop a runaway input (a pipe
 * from `yes`, a wrong file) with a message instead of exhausting memory. */
#define SC_MAX_FILE_BYTES (1024 * 1024)
#define SC_MAX_STRING 4096 /* bytes between the quotes of any key or value */

/* After the limits above, which it uses: several hosts (issue 14). */
#include "model/hosts.h"

enum sc_backend { SC_BACKEND_NETNS, SC_BACKEND_LIBVIRT };
enum sc_arch {
	SC_ARCH_CADEIA_ABERTA, /* every SF forwards for itself: dec, enc, fwd in its kernel */
	SC_ARCH_PHANTOMSFC,    /* star: one central eBPF SFF, a proxy per NSH-unaware SF */
	SC_ARCH_OVS_NSH,       /* star: Open vSwitch with NSH as the central SFF */
	SC_ARCH__COUNT,
};
enum sc_role {
	SC_ROLE_SRC,
	SC_ROLE_DEST,
	SC_ROLE_SF,
	/* Added by arch_expand(), never in a scenario file: */
	SC_ROLE_SFF,   /* the central forwarder of a star architecture */
	SC_ROLE_PROXY, /* strips and restores NSH for the SF in .peer */
};
enum sc_fn {
	SC_FN_NONE,      /* src and dest */
	SC_FN_WIRE,      /* user-space AF_PACKET wire, NSH-unaware (the paper's FS) */
	SC_FN_KWIRE,     /* in-kernel wire: TC ingress redirect back out */
	SC_FN_NSH_AWARE, /* user space, sees NSH, decrements SI itself */
	SC_FN_EXTERNAL,  /* NSH-unaware, started by the user (labs): stages only */
	SC_FN_OVS,       /* the paper's FS: an OVS bridge, in_port=eth0,actions=in_port (VMs) */
	SC_FN_DELAY,     /* calibration: the wire holding each frame delay_us (netns) */
	SC_FN_FLOOR,     /* reference: no NSH, one-lookup MAC rewrite in the kernel (backend/floor.h) */
	/* Functions that act on the traffic (traffic/fn_sf.h): */
	SC_FN_FIREWALL,  /* nftables on the inner frame, NSH-unaware */
	SC_FN_NAT,       /* source NAT of the inner IPv4 packet, NSH-aware */
	SC_FN_LB,        /* L4 load balancer over backends (direct server return) */
	SC_FN_MONITOR,   /* passive per-flow counts, flows.csv */
};

#define SC_DELAY_DEFAULT_US 200 /* function "delay" */
#define SC_MAX_BACKENDS 8 /* function "lb" */

struct sc_node {
	char name[SC_NAME_MAX];
	enum sc_role role;
	enum sc_fn fn;
	char ifname[16]; /* inside the node; default eth0 */
	int cpu;         /* pin the function to this CPU; -1 = not pinned */
	int busy_poll_us;/* 0 = block in recv */
	unsigned delay_us; /* function delay: added per frame; default 200 */
	/* firewall: nft rules, one a line, or a file of them (path resolved) */
	char fw_rules[1024];
	char fw_rules_file[512];
	/* lb: backend node indexes (role dest); the VIP is the first one's address */
	int n_backends;
	int backends[SC_MAX_BACKENDS];
	uint32_t nat_ip; /* nat: the address sources are translated to (network order) */
	uint32_t ip;     /* network order, assigned from the subnet */
	uint8_t mac[6];  /* assigned: 02:cb:00:00:hi:lo of index+1 */
	/* Star architectures: an NSH-unaware SF hangs off its proxy through a
	 * point-to-point link instead of the bridge. peer is the other end
	 * (proxy <-> SF), -1 when the node is only on the bridge. */
	int peer;
	char peer_ifname[16]; /* the proxy's interface towards its SF */
};

struct sc_chain {
	char name[SC_NAME_MAX];
	uint32_t spi;
	uint8_t si;       /* starting SI, default 255 */
	uint8_t md_type;  /* 1 or 2 (default 2, no TLVs) */
	uint8_t inner;    /* NSH_NP_ETH (default) or NSH_NP_IPV4 */
	uint8_t proto;    /* match: IPPROTO_*, 0 = any */
	uint16_t sport, dport; /* match, TCP/UDP only, 0 = any */
	int src, dest;    /* node indexes */
	int n_sfs;
	int sfs[SC_MAX_CHAIN_LEN]; /* node indexes, repeats allowed */
};

struct sc_measure {
	unsigned icmp_size;  /* bytes of ICMP (header + data); paper: 64 */
	double rate_pps;     /* paper: 100 */
	unsigned rounds;     /* paper: 15 */
	unsigned per_round;  /* paper: 100 */
	unsigned warmup;     /* probes sent and discarded before each length */
	unsigned grace_ms;   /* wait for late replies after a round */
	/* Order of the visits (run/schedule.h): each round visits every length
	 * once in a shuffled order (default), or the paper's all rounds of one
	 * length, then the next. The shuffle's seed is drawn at run time unless
	 * given; meta.json records the one used. */
	enum { SC_ORDER_INTERLEAVED, SC_ORDER_SEQUENTIAL } order;
	bool seed_set;
	unsigned long long seed;
	/* The prober's CPU (run/cpuplace.h): -2 auto (default), -1 the scheduler's, or a CPU. */
	int prober_cpu;
	/* Guests not in the measured chain (libvirt): paused while a visit
	 * measures (default), or left running ("idle_guests": "run"). */
	bool idle_run;
};

#define SC_FAULT_SFF (-2) /* "sff": the central forwarder of a star */
#define SC_MAX_FAULTS 8

/* Fault experiment: after the sweep, each element in turn loses its link
 * while every chain is probed; which chains lose traffic? */
struct sc_fault {
	int n;
	int nodes[SC_MAX_FAULTS]; /* node indexes, or SC_FAULT_SFF */
	int length;               /* chain length to test at; -1 = longest */
	unsigned probes;          /* per chain, before and during the fault */
};

#define SC_MAX_LOAD_SIZES 4
#define SC_MAX_LOAD_LEVELS 8

/* Load experiment (netns only): no-drop rate per chain length and frame
 * size, then RTT with background UDP load at fractions of the NDR. */
struct sc_load {
	int n_lengths;
	int lengths[SC_MAX_LENGTHS];
	int n_sizes;
	unsigned sizes[SC_MAX_LOAD_SIZES]; /* Ethernet frame bytes, FCS included */
	unsigned flows;
	double loss_pct;       /* NDR threshold: 0 = no drop */
	double trial_s;
	double resolution_pct;
	double lo_pps, hi_pps; /* search bounds */
	int n_levels;
	double levels_pct[SC_MAX_LOAD_LEVELS]; /* of the NDR at 64 B, FD.io CSIT style */
	int latency_length;    /* chain length of the latency-under-load test */
	unsigned latency_probes;
	int cpu;               /* the generator thread's CPU: -2 auto (run/cpuplace.h), -1 any */
};

struct scenario {
	char path[4096];
	char name[64];
	char description[SC_MAX_STRING + 1]; /* whole: strings are capped at SC_MAX_STRING */
	enum sc_backend backend;
	enum sc_arch arch;    /* the one being built; see archs[] */
	int n_archs;          /* "architecture" may list several: one run each */
	enum sc_arch archs[SC_ARCH__COUNT];
	uint32_t subnet;     /* network order */
	int prefix_len;
	unsigned mtu;        /* bridge and SF links; room for NSH */
	int n_nodes;
	struct sc_node nodes[SC_MAX_NODES];
	int n_chains;
	struct sc_chain chains[SC_MAX_CHAINS];
	int n_lengths;
	int lengths[SC_MAX_LENGTHS];
	struct sc_measure measure;
	struct sc_fault fault;
	struct sc_load load;
	/* TCP goodput with iperf3 per chain length (run/throughput.h). */
	struct {
		bool enabled;
		unsigned seconds; /* per length; default 3 */
		unsigned streams; /* parallel TCP streams; default 1 */
	} throughput;
	struct sc_hosts hosts; /* n == 0: everything on this machine */
	json_t *json;        /* the file as parsed, for meta.json */
};

struct sc_err {
	char msg[1024];
};

/* Loads and validates; on error fills err ("file:line:col: field: what";
 * errors about the whole file are at 1:1) and returns -EINVAL (or -errno for
 * I/O, -EFBIG over SC_MAX_FILE_BYTES). */
int scenario_load(const char *path, struct scenario *sc, struct sc_err *err);
/* Same, from memory; name is used in messages in place of the file. */
int scenario_load_string(const char *name, const char *text,
			 struct scenario *sc, struct sc_err *err);
void scenario_free(struct scenario *sc);

const char *sc_fn_name(enum sc_fn fn);
/* The function keeps NSH itself (only fwd is attached): nsh-aware, nat. */
bool sc_fn_nsh_aware(enum sc_fn fn);
const char *sc_role_name(enum sc_role r);
const char *sc_backend_name(enum sc_backend b);
const char *sc_arch_name(enum sc_arch a);
int sc_node_index(const struct scenario *sc, const char *name);
/* Largest chain length the sweep asks for, capped by each chain's size. */
int sc_max_length(const struct scenario *sc);

#endif
