/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the functions that act on the traffic left in the run directory,
 * for summary.json and the printed report: the monitor's flows.csv
 * (flows, packets and bytes per architecture and node) and each load
 * balancer's spread (lb-<node>.csv: flows and packets per backend).
 */
#ifndef CADEIA_FNREPORT_H
#define CADEIA_FNREPORT_H

#include <jansson.h>

/* {"monitor": [...], "lb": [...]}, or NULL when dir has neither file. */
json_t *fnr_collect(const char *dir);
/* The lb spread and the TCP goodput of summary (its "functions" and
 * "throughput"), as tables on stdout; nothing when it has neither. */
void fnr_print(json_t *summary);

#endif
