// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The classifier and forwarding tables in the node's pinned maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cs_priv.h"

int cs_cls_replace(const char *node, const struct cls_rule *rules, size_t n,
		   struct cs_err *err)
{
	struct cls_rule r;
	__u32 i;
	int fd, ret = -1;

	if (n > CLS_MAX_RULES)
		return cs_errf(err, -E2BIG, "node %s: %zu classifier rules, at most %d",
			       node, n, CLS_MAX_RULES);
	fd = cs_pin_open(node, "cls_rules", err);
	if (fd < 0)
		return fd;
	/* Empty the tail first, so that no stale rule outlives the new table. */
	for (i = CLS_MAX_RULES; i-- > 0;) {
		if (i < n) {
			r = rules[i];
			r.valid = 1;
		} else {
			memset(&r, 0, sizeof(r));
		}
		if (bpf_map_update_elem(fd, &i, &r, BPF_ANY) < 0) {
			ret = -errno;
			cs_errf(err, ret, "node %s: cls_rules[%u]: %s", node, i,
				strerror(-ret));
			goto cleanup;
		}
	}
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

int cs_cls_read(const char *node, struct cls_rule *rules, size_t *n,
		struct cs_err *err)
{
	struct cls_rule r;
	size_t cnt = 0;
	__u32 i;
	int fd, ret = -1;

	fd = cs_pin_open(node, "cls_rules", err);
	if (fd < 0)
		return fd;
	for (i = 0; i < CLS_MAX_RULES; i++) {
		if (bpf_map_lookup_elem(fd, &i, &r) < 0) {
			ret = -errno;
			cs_errf(err, ret, "node %s: cls_rules[%u]: %s", node, i,
				strerror(-ret));
			goto cleanup;
		}
		if (!r.valid)
			continue;
		if (cnt >= *n) {
			ret = -ENOSPC;
			cs_errf(err, ret, "node %s: more than %zu classifier rules",
				node, *n);
			goto cleanup;
		}
		rules[cnt++] = r;
	}
	*n = cnt;
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

static bool fwd_key_in(const struct fwd_key *k, const struct cs_fwd_rule *rules,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rules[i].key.spi == k->spi && rules[i].key.si == k->si)
			return true;
	return false;
}

/*
 * Tells dec and enc that fwd_table changed: the next hops they cache carry
 * the fwd_gen of their lookup and are not trusted once it moves on. Called
 * after the table is written, so that a lookup stamped with the new value
 * sees the new entries.
 */
static int fwd_gen_bump(const char *node, struct cs_err *err)
{
	__u32 zero = 0, gen;
	int fd, ret = -1;

	fd = cs_pin_open(node, "fwd_gen", err);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, &gen) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: fwd_gen: %s", node, strerror(-ret));
		goto cleanup;
	}
	gen++;
	if (bpf_map_update_elem(fd, &zero, &gen, BPF_ANY) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: fwd_gen: %s", node, strerror(-ret));
		goto cleanup;
	}
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

int cs_fwd_replace(const char *node, const struct cs_fwd_rule *rules, size_t n,
		   struct cs_err *err)
{
	struct cs_err ignored;
	struct fwd_key key, next, *stale = NULL;
	size_t nstale = 0, cap = 0, i;
	void *tmp;
	int fd, ret = -1;

	fd = cs_pin_open(node, "fwd_table", err);
	if (fd < 0)
		return fd;

	/* Collect first: deleting while iterating would restart the walk. */
	for (ret = bpf_map_get_next_key(fd, NULL, &next); ret == 0;
	     ret = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (fwd_key_in(&key, rules, n))
			continue;
		if (nstale == cap) {
			cap = cap ? 2 * cap : 16;
			tmp = realloc(stale, cap * sizeof(*stale));
			if (!tmp) {
				ret = cs_errf(err, -ENOMEM, "node %s: fwd_table: %s",
					      node, strerror(ENOMEM));
				goto cleanup;
			}
			stale = tmp;
		}
		stale[nstale++] = key;
	}
	if (errno != ENOENT) {
		ret = -errno;
		cs_errf(err, ret, "node %s: fwd_table: iterating: %s", node,
			strerror(-ret));
		goto cleanup;
	}

	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &rules[i].key, &rules[i].val, BPF_ANY) < 0) {
			ret = -errno;
			cs_errf(err, ret, "node %s: fwd_table: spi %u si %u: %s",
				node, rules[i].key.spi, rules[i].key.si,
				strerror(-ret));
			goto cleanup;
		}
	}
	for (i = 0; i < nstale; i++) {
		if (bpf_map_delete_elem(fd, &stale[i]) < 0 && errno != ENOENT) {
			ret = -errno;
			cs_errf(err, ret, "node %s: fwd_table: deleting spi %u si %u: %s",
				node, stale[i].spi, stale[i].si, strerror(-ret));
			goto cleanup;
		}
	}
	ret = 0;
cleanup:
	/* Even after a failure half-way: some entries may have changed. */
	if (ret == 0)
		ret = fwd_gen_bump(node, err);
	else if (nstale || n)
		fwd_gen_bump(node, &ignored);
	free(stale);
	close(fd);
	return ret;
}

static int fwd_rule_cmp(const void *a, const void *b)
{
	const struct cs_fwd_rule *x = a, *y = b;

	if (x->key.spi != y->key.spi)
		return x->key.spi < y->key.spi ? -1 : 1;
	/* Descending SI: the order packets meet them along a path. */
	if (x->key.si != y->key.si)
		return x->key.si > y->key.si ? -1 : 1;
	return 0;
}

int cs_fwd_read(const char *node, struct cs_fwd_rule *rules, size_t *n,
		struct cs_err *err)
{
	struct fwd_key key, next;
	size_t cnt = 0;
	int fd, ret = -1;

	fd = cs_pin_open(node, "fwd_table", err);
	if (fd < 0)
		return fd;
	for (ret = bpf_map_get_next_key(fd, NULL, &next); ret == 0;
	     ret = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (cnt >= *n) {
			ret = -ENOSPC;
			cs_errf(err, ret, "node %s: more than %zu forwarding entries",
				node, *n);
			goto cleanup;
		}
		if (bpf_map_lookup_elem(fd, &key, &rules[cnt].val) < 0) {
			if (errno == ENOENT) /* deleted meanwhile */
				continue;
			ret = -errno;
			cs_errf(err, ret, "node %s: fwd_table: spi %u si %u: %s",
				node, key.spi, key.si, strerror(-ret));
			goto cleanup;
		}
		rules[cnt++].key = key;
	}
	if (errno != ENOENT) {
		ret = -errno;
		cs_errf(err, ret, "node %s: fwd_table: iterating: %s", node,
			strerror(-ret));
		goto cleanup;
	}
	qsort(rules, cnt, sizeof(*rules), fwd_rule_cmp);
	*n = cnt;
	ret = 0;
cleanup:
	close(fd);
	return ret;
}
