/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Teardown on the hosts a run reached over ssh (backend/lv_hosts.h): the
 * run state lists their URIs ("remote_hosts", written before the first
 * contact), and teardown, after a crash too, connects to each: it destroys
 * the transient domains named "<id>-..." whose <metadata> holds the run's
 * mark, and has the agent remove the links carrying it (`hostnet down`).
 * The same rule as on this machine (backend/owner.h): a name proves nothing.
 */
#ifndef CADEIA_OWNER_REMOTE_H
#define CADEIA_OWNER_REMOTE_H

#include <jansson.h>

#include "backend/owner.h"

/* uris: a JSON array of strings (NULL or empty: nothing to do). Returns the
 * number of failures; each removal and each failure goes to log. */
int owner_remote_teardown(const struct owner *o, json_t *uris, owner_log_fn log, void *arg);

#endif
