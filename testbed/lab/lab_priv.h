/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internals of the lab checkers: the report, the run, and probing helpers. */
#ifndef CADEIA_LAB_PRIV_H
#define CADEIA_LAB_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>
#include <jansson.h>

#include "cadeia_stage.h"
#include "run/runstate.h"
#include "model/scenario.h"

#define LAB_COUNT 5

struct lab_ctx {
	int n;              /* lab number */
	const char *dir;    /* the student's lab directory */
	const char *run_id; /* --run, or NULL: find the lab's testbed */
	bool json;
	struct runstate rs;
	bool have_rs;
	struct scenario sc;
	bool have_sc;
	int passed, problems;
	json_t *items;
};

/* A check that holds, one the student has to fix, and plain information. */
void lab_ok(struct lab_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lab_problem(struct lab_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lab_info(struct lab_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the testbed of this lab (--run, or the only run of scenario
 * "<stem>.json") and loads its scenario. Reports a problem and returns -1
 * when there is none. */
int lab_open_run(struct lab_ctx *c, const char *stem);
/* "<run>-<node>": the node's netns, host link and pin name. */
void lab_node_name(const struct lab_ctx *c, int node, char *out, size_t len);
/* Path inside the student's lab directory: DIR/<lab>/<file>. */
void lab_path(const struct lab_ctx *c, const char *file, char *out, size_t len);
/* Loads DIR/<lab>/<file> as JSON; reports a problem and returns NULL if it
 * is missing or malformed. */
json_t *lab_load_json(struct lab_ctx *c, const char *file);
int lab_node_by_mac(const struct scenario *sc, const uint8_t mac[6]);

/* ---- lab_util.c: what several checkers use ---------------------------------- */

const char *lab_ip_str(uint32_t ip, char buf[INET_ADDRSTRLEN]);
/* Index of the named node; reports a problem and returns -1 if the testbed
 * has none. */
int lab_node_idx(struct lab_ctx *c, const char *name);
/* One counter of one of a node's stages; 0 if absent. */
uint64_t lab_stat(struct lab_ctx *c, int node, unsigned stage, const char *name);
/* Every function process the run started is still the same process. */
void lab_functions_alive(struct lab_ctx *c);
/* File a was modified no earlier than file b (both exist). */
bool lab_newer(const char *a, const char *b);
/* The student's source src exists and built (checked with access mode) is
 * newer; reports which step is missing and returns -1 otherwise. */
int lab_built(struct lab_ctx *c, const char *src, const char *built, int mode);

/* ---- lab_net.c: frames and traffic ---------------------------------------- */

/* One frame seen on a host-side link, decoded down to the inner L4 ports. */
struct lab_frame {
	bool outgoing; /* sent by the bridge towards the node */
	uint8_t dst[6], src[6];
	bool nsh;
	uint32_t spi;
	uint8_t si, ttl, np;
	bool ipv4;
	uint8_t proto;
	uint32_t saddr, daddr; /* network order */
	uint16_t sport, dport; /* host order */
	uint8_t icmp_type;
};

#define LAB_CAP_MAX 512
struct lab_cap {
	int fd;
	char ifname[16];
	size_t n;
	struct lab_frame f[LAB_CAP_MAX];
};

/* Captures every frame on a link of the current netns (the host side of a
 * node's veth). */
int lab_cap_open(struct lab_cap *cap, const char *ifname, char *err, size_t errlen);
/* Reads what arrived so far into cap->f. */
void lab_cap_drain(struct lab_cap *cap);
void lab_cap_close(struct lab_cap *cap);
bool lab_frame_parse(const uint8_t *p, size_t len, struct lab_frame *f);

/* ping -c count inside netns; returns replies received, or -1. */
int lab_ping(const char *netns, uint32_t dst, int count, char *err, size_t errlen);
/* A UDP socket created inside netns, bound to port (0 = any). */
int lab_udp_socket(const char *netns, uint16_t port, char *err, size_t errlen);
/* Datagrams waiting on a non-blocking socket. */
int lab_udp_count(int fd);

/* Pids of processes whose network namespace is netns (none: 0). */
int lab_netns_pids(const char *netns, pid_t *pids, int max);
/* Starts argv[0] inside netns, output to log; returns its pid or -1. */
pid_t lab_spawn_in_netns(const char *netns, char *const argv[], const char *log, char *err,
			 size_t errlen);
void lab_stop(pid_t pid);
void lab_sleep_ms(unsigned ms);

/* ---- the checkers: labN.c ---------------------------------------------------- */

int lab_check1(struct lab_ctx *c);
int lab_check2(struct lab_ctx *c);
int lab_check3(struct lab_ctx *c);
int lab_check4(struct lab_ctx *c);
int lab_check5(struct lab_ctx *c);

#endif
