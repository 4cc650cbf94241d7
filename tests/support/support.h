/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers only the tests and benches use: readers of state the product only
 * writes, and shorthands. They live in libtestsupport.a, linked into
 * tests and benches only, so the product library carries none of them.
 */
#ifndef CADEIA_TEST_SUPPORT_H
#define CADEIA_TEST_SUPPORT_H

#include <stddef.h>

#include "analysis/plot.h"
#include "virt/virt.h"

/* ---- virt_support.c ---- */

/* virt_agent_exec with "/bin/sh -c script". */
int virt_agent_sh(virDomainPtr dom, const char *script, int timeout_ms,
		  struct virt_exec_result *res, char *err, size_t errlen);
/* Waits for the agent to answer and VIRT_READY_FILE to say "ready".
 * -ETIMEDOUT with the console log's tail in the message. */
int virt_wait_ready(virDomainPtr dom, const char *console_log, int timeout_ms,
		    char *err, size_t errlen);

/* ---- plot_support.c ---- */

/* plot_load_run_all's first series only (the chain the top-level "fit"
 * describes); release it with plot_series_free. */
int plot_load_run(const char *dir, struct plot_series *s, char *err, size_t errlen);

/* ---- netns_support.c ---- */

/* A sysctl of netns name (NULL = current) read back, without the trailing
 * newline, into buf[len]; key as netns_sysctl_write takes it. */
int netns_sysctl_read(const char *name, const char *key, char *buf, size_t len,
		      char *err, size_t errlen);

#endif
