/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Teardown by ownership: the one place that decides what of a run is ours.
 *
 * Why a module of its own, in backend/: the objects it removes are the ones
 * the backends create (namespaces, links, pins, libvirt domains, OVS
 * daemons), and two callers need it: the run state (run/runstate.c) claims
 * an id only when no object of any kind carries it and tears a run down
 * through here, while the backends create through the wrappers that mark
 * (sys/ownmark.h). It calls neither of them, so the run state and the
 * backends no longer call each other.
 *
 * A name proves nothing: an object is removed only when it carries the
 * run's mark (sys/ownmark.h) and its name has the run's exact prefix
 * "<id>-", with id = "cb" + 4 lowercase hex digits:
 *   - links: alias == mark;
 *   - namespaces: the run's directory records this very namespace (device
 *     and inode of /run/netns/<name>);
 *   - libvirt domains: transient, and their <metadata> holds the mark; a
 *     persistent domain is never touched. Their logs
 *     /var/log/libvirt/qemu/<name>.log go only for such domains, or for
 *     domains the run's directory records and that no longer exist;
 *   - pins: the directories named in the run's state;
 *   - OVS daemons and files: inside the run's directory, which the run
 *     created exclusively and marked with an "owner" file.
 */
#ifndef CADEIA_OWNER_H
#define CADEIA_OWNER_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "sys/ownmark.h"

#define OWNER_RUN_DIR "/run/cadeia-bench"
#define OWNER_ID_LEN 6 /* "cb" + 4 hex */

struct owner {
	char id[OWNER_ID_LEN + 1];
	char prefix[OWNER_ID_LEN + 2]; /* "<id>-" */
	char mark[OWNMARK_MAX];        /* "cadeia-bench:<id>:<nonce>" */
	char dir[64];                  /* OWNER_RUN_DIR/<id> */
};

typedef void (*owner_log_fn)(const char *what, void *arg);
/* Formats a line for log (nothing when log is NULL): the teardowns' and the run
 * state's way to say what they removed or left alone. */
void owner_say(owner_log_fn log, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Deletes the host link name and says so ("deleted <what> <name>"); 0 also when
 * it is gone already (a veth's peer took it along), 1 when it is still there. */
int owner_link_del(const char *name, const char *what, owner_log_fn log, void *arg);
/* The domain's <metadata> holds the run's mark (o->mark). */
bool owner_domain_ours(virDomainPtr dom, const struct owner *o);

/* "cb" followed by exactly 4 lowercase hex digits. */
bool owner_id_valid(const char *id);
/* -EINVAL unless id is valid and nonce is 32 lowercase hex digits. */
int owner_init(struct owner *o, const char *id, const char *nonce);
/* 32 random hex digits into nonce[33]. */
int owner_nonce(char nonce[33]);

/* Anything at all named with id: a state file or directory, a namespace, a
 * link, a pin, a libvirt domain or its log. A new run avoids such ids. */
bool owner_id_in_use(const char *id);

/* Creates o->dir (-EEXIST if it exists: not ours) with its "owner" file. */
int owner_claim_dir(const struct owner *o, char *err, size_t errlen);

/*
 * Removes what carries o's mark (above), logging each object removed and
 * each one left alone for not being ours; pins: the pin directories the
 * state names. keep_dir: the run goes on (the next architecture), so its
 * directory stays. Returns the number of failures.
 */
int owner_teardown(const struct owner *o, char *const *pins, size_t npins, bool keep_dir,
		   owner_log_fn log, void *arg);

#endif
