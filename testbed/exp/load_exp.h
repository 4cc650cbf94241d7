/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The load experiment of one architecture: the no-drop rate (RFC 2544
 * binary search) for each chain length and frame size, then ping RTT while
 * UDP background load runs at fractions of that rate (FD.io CSIT's 0, 10,
 * 50 and 90 %). Traffic goes from the first chain's src to its dest.
 */
#ifndef CADEIA_LOAD_EXP_H
#define CADEIA_LOAD_EXP_H

#include <jansson.h>
#include <signal.h>

#include "backend/backend.h"

struct load_exp_ctx {
	struct testbed *tb;
	volatile sig_atomic_t *stop;
	bool progress;
	/* Installs the tables of a chain length and checks them (the run's own
	 * install-and-verify step). */
	int (*set_length)(void *arg, int length, char *err, size_t errlen);
	void *arg;
};

/* Appends to ndr (one object per length x size) and latency (one per load
 * level). 0, -EINTR or -errno with err. */
int load_exp_run(const struct load_exp_ctx *x, json_t *ndr, json_t *latency, char *err,
		 size_t errlen);

#endif
