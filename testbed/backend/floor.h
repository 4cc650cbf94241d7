/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The floor function kind (stages/floor.bpf.c): chains without NSH whose SFs
 * only rewrite the Ethernet header towards the next hop, in the kernel. The
 * reference the per-SF cost of the other kinds is read against.
 *
 * A floor chain's SFs all run "floor"; its source gets the floor program at
 * TC egress (it steers frames for the chain's destination to the first SF),
 * each SF at TC ingress. The control plane leaves floor chains out of the
 * classifier and the NSH tables; floor_install writes their next hops for
 * the length being installed and reads them back, and floor_add_counts adds
 * what each floor SF forwarded to the path check's counters. netns backend,
 * direct architecture (cadeia-aberta) only.
 */
#ifndef CADEIA_FLOOR_H
#define CADEIA_FLOOR_H

#include <stdbool.h>
#include <stddef.h>

struct testbed;
struct scenario;

/* Chain c's SFs run floor (all of them: floor_check refuses a mix). */
bool floor_chain(const struct scenario *sc, int c);
/* -EINVAL naming the node or chain when floor is used where it cannot run. */
int floor_check(const struct scenario *sc, char *err, size_t errlen);
/* Loads and attaches the floor programs of every node that needs one. */
int floor_bring_up(struct testbed *tb, char *err, size_t errlen);
/* The next hops of every floor chain at length tb-independent `length`, read back. */
int floor_install(struct testbed *tb, int length, char *err, size_t errlen);
/* counts[i] += frames floor SF i forwarded. */
int floor_add_counts(struct testbed *tb, unsigned long long *counts, char *err, size_t errlen);

#endif
