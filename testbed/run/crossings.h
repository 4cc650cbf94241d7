/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The placement check of a scenario with several hosts (model/hosts.h): for
 * every pair of chains, the measured difference of their per-SF slopes
 * (rounds paired, bootstrap interval: run/slope_ci.h) against the difference
 * the configuration predicts: the underlay delay of the probe's round trip
 * (each crossing from host a to host b holds delay(a) + delay(b), plus the
 * delay line's base hold), fitted over the same lengths. Chains that differ
 * only in delay check the harness (a second calibration); chains that differ
 * in crossings give what a crossing itself costs beyond its configured
 * delay (VXLAN, veths, bridges).
 */
#ifndef CADEIA_CROSSINGS_H
#define CADEIA_CROSSINGS_H

#include <jansson.h>

struct run;

/* summary.json's "host_placement"; NULL without hosts. */
json_t *crossings_summary(const struct run *r);
/* Prints it (no-op when absent). */
void crossings_print(json_t *summary);

#endif
