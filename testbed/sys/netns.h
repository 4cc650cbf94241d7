/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Named network namespaces, compatible with iproute2's "ip netns": each one
 * is a bind mount of a netns inode on /run/netns/<name>, and /run/netns is a
 * shared mount, so "ip netns exec <name>" and "ip -n <name>" work on them.
 *
 * Errors: every int function returns 0 (or a documented count) on success or
 * a negative errno, and writes a one-line message naming the object into
 * err[errlen] (err may be NULL), e.g. "creating netns cbtC-a: File exists".
 *
 * Namespace switches affect only the calling thread and are always undone
 * before returning.
 */
#ifndef CADEIA_NETNS_H
#define CADEIA_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#define NETNS_RUN_DIR "/run/netns"
/* Longest name accepted; keeps "/run/netns/<name>" well inside PATH_MAX. */
#define NETNS_NAME_MAX 64

/* Creates a new, empty netns pinned at /run/netns/<name> (like "ip netns
 * add"). -EEXIST if the name is taken. */
int netns_add(const char *name, char *err, size_t errlen);

/* Unpins and removes /run/netns/<name> (like "ip netns del"). The netns
 * itself, with its links, goes away once nothing else holds it. -ENOENT if
 * there is no such name. */
int netns_del(const char *name, char *err, size_t errlen);

/* True if /run/netns/<name> exists. */
bool netns_exists(const char *name);

/* Opens an O_RDONLY|O_CLOEXEC fd on the netns (NULL = the calling thread's
 * current netns). Returns the fd (>= 0) or a negative errno. */
int netns_open(const char *name, char *err, size_t errlen);

/*
 * Runs fn(arg) with the calling thread inside netns <name> (NULL = no switch)
 * and switches back, also when fn fails. Returns fn's return value, or a
 * negative errno (with a message) if entering or leaving failed. fn may write
 * its own message to err; netns_run leaves err alone when fn returns.
 */
int netns_run(const char *name, int (*fn)(void *arg), void *arg,
	      char *err, size_t errlen);

/* Names under /run/netns starting with prefix (NULL or "" = all), sorted.
 * On success *names is a malloc'd array of *n malloc'd strings (NULL if
 * none), to be released with netns_names_free. */
int netns_list(const char *prefix, char ***names, size_t *n,
	       char *err, size_t errlen);
void netns_names_free(char **names, size_t n);

/*
 * Writes value to /proc/sys/<key> as seen from inside netns <name> (NULL =
 * current); /proc/sys/net follows the netns of the opener. key uses slashes,
 * e.g. "net/ipv6/conf/all/disable_ipv6".
 */
int netns_sysctl_write(const char *name, const char *key, const char *value,
		       char *err, size_t errlen);

/*
 * Turns IPv6 off on one interface of netns <name> (NULL = current). Host-side
 * bridge ports otherwise send MLD, DAD and router solicitations into the
 * testbed, which reflecting functions send on. An interface without IPv6
 * (no such sysctl) is not an error.
 */
int netns_if_no_ipv6(const char *name, const char *ifname, char *err, size_t errlen);

#endif /* CADEIA_NETNS_H */
