/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fault experiment of one architecture: the paper's resilience
 * argument, measured. Each listed element loses its link while every chain
 * is probed; only chains through it should lose traffic. Like the load
 * experiment, it reaches the run loop through callbacks only.
 */
#ifndef CADEIA_FAULT_EXP_H
#define CADEIA_FAULT_EXP_H

#include <jansson.h>
#include <signal.h>

#include "backend/backend.h"

struct fault_exp_ctx {
	struct testbed *tb;
	volatile sig_atomic_t *stop;
	/* Installs the tables of a chain length and checks them (the run's own
	 * install-and-verify step). */
	int (*set_length)(void *arg, int length, char *err, size_t errlen);
	/* A progress line (NULL: none). */
	void (*note)(void *arg, const char *line);
	void *arg;
};

/* Appends one object per failed element to faults. 0, -EINTR or -errno
 * with err. */
int fault_exp_run(const struct fault_exp_ctx *x, json_t *faults, char *err, size_t errlen);

#endif
