/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `cadeia-bench run` and `up`: build, sweep, measure, write, tear down. */
#ifndef CADEIA_RUN_H
#define CADEIA_RUN_H

#include <signal.h>
#include <stdbool.h>

#include "model/scenario.h"

struct run_opts {
	const char *results_root; /* default "results" */
	bool json;                /* summary.json on stdout */
	bool progress;            /* progress lines on stderr (a terminal) */
	bool up_only;             /* `up`: build, install the longest chain, leave it */
	int length;               /* `up`: chain length to install; -1 = longest */
};

/* Set by SIGINT/SIGTERM; every loop checks it. */
extern volatile sig_atomic_t run_stop;
void run_install_signals(void);

/* 0 complete, 1 failed, 3 interrupted (results kept, marked incomplete). */
int run_scenario(const struct scenario *sc, const struct run_opts *o);

#endif
