/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ownership mark of the run this process works for. Once set (by the run
 * state, at the moment it claims a run id), every object the wrappers of this
 * layer create carries it, so teardown can tell ours from a look-alike with
 * the same name:
 *   - links (nl.c): the mark is their alias (IFLA_IFALIAS);
 *   - network namespaces (netns.c): a file "netns-<name>" in the mark's
 *     directory holds the namespace's device and inode numbers;
 *   - libvirt domains (virt/): a <metadata> element holds the mark, and a file
 *     "domain-<name>" in the directory holds the domain's UUID; their taps
 *     get the mark as alias.
 * The mark is "cadeia-bench:<run id>:<nonce>", the nonce 128 random bits that
 * only the run's state file records: a name can be guessed, the mark cannot
 * be made by accident. Unset (tests, tools), nothing is marked.
 */
#ifndef CADEIA_OWNMARK_H
#define CADEIA_OWNMARK_H

#include <stddef.h>

#define OWNMARK_MAX 80        /* "cadeia-bench:" + id + ":" + 32 hex digits */
#define OWNMARK_URI "urn:x-cadeia-bench:owner" /* libvirt metadata namespace */

/* mark NULL unsets. dir: where ownership files go (the run's directory). */
void ownmark_set(const char *mark, const char *dir);
/* NULL when unset. */
const char *ownmark(void);
const char *ownmark_dir(void);

/* Writes "<dir>/<kind>-<name>" holding text (a line); -errno on failure. */
int ownmark_file_write(const char *kind, const char *name, const char *text);
/* Reads it back into buf (without the newline); -errno if absent. dir NULL =
 * ownmark_dir(). */
int ownmark_file_read(const char *dir, const char *kind, const char *name, char *buf,
		      size_t len);

#endif
