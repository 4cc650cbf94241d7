/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Architectures differ only in how functions are chained, so each one is a
 * transformation of the scenario's nodes: Cadeia-Aberta adds nothing (each SF
 * forwards for itself); the star architectures (PhantomSFC-style eBPF SFF,
 * Open vSwitch NSH SFF) add one central SFF node and a proxy in front of each
 * NSH-unaware SF, which then hangs off its proxy by a point-to-point link.
 */
#ifndef CADEIA_ARCH_H
#define CADEIA_ARCH_H

#include <stdbool.h>

#include "model/scenario.h"

/* Sets sc->arch = a and appends that architecture's nodes to sc (which
 * must be a private copy). -E2BIG if they do not fit. */
int arch_expand(struct scenario *sc, enum sc_arch a, char *err, size_t errlen);

/* Index of the generated SFF node, -1 for Cadeia-Aberta. */
int arch_sff(const struct scenario *sc);
/* The node a chain's hop k (0-based) hands frames to: the SF's proxy if it
 * has one, else the SF. */
int arch_hop(const struct scenario *sc, int sf);

/* An NSH-unaware SF of a star: reached only through its proxy. */
bool arch_behind_proxy(const struct sc_node *n);
/* Node i is the central forwarder and Open vSwitch plays it. */
bool arch_ovs_sff(const struct scenario *sc, int i);

/*
 * What node i runs on its main interface, the same on every backend: a
 * mask of enum cs_stage_bit, and how its kwire stage reflects
 * (KWIRE_MODE_*) and towards which interface (NULL = the same one). A
 * proxy also runs kwire on its SF-side interface, back towards this one.
 */
unsigned arch_node_stages(const struct scenario *sc, int i, unsigned *kwire_mode,
			  const char **kwire_peer);

#endif
