// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-CPU counters, named from the map's BTF value type, so a counter added
 * to a *_STATS X-macro shows up here without a change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cs_priv.h"

static const char *const stats_maps[CS_NSTAGES] = {
	"cls_stats", "dec_stats", "enc_stats", "fwd_stats", "kwire_stats",
};

/* Fills names/offsets of the 8-byte integer members; returns their count. */
static int btf_counters(const struct bpf_map_info *info, struct cs_counter *c,
			__u32 *off, size_t cap)
{
	const struct btf_member *mb;
	const struct btf_type *t, *mt;
	struct btf *btf;
	size_t cnt = 0;
	__s32 tid;
	int i;

	if (!info->btf_id || !info->btf_value_type_id)
		return -ENODATA;
	btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!btf)
		return -errno;
	tid = btf__resolve_type(btf, info->btf_value_type_id);
	t = tid < 0 ? NULL : btf__type_by_id(btf, tid);
	if (!t || !btf_is_struct(t)) {
		btf__free(btf);
		return -ENODATA;
	}
	mb = btf_members(t);
	for (i = 0; i < btf_vlen(t) && cnt < cap; i++, mb++) {
		tid = btf__resolve_type(btf, mb->type);
		mt = tid < 0 ? NULL : btf__type_by_id(btf, tid);
		if (!mt || !btf_is_int(mt) || mt->size != 8 ||
		    btf_member_bitfield_size(t, i) || btf_member_bit_offset(t, i) % 64)
			continue;
		snprintf(c[cnt].name, sizeof(c[cnt].name), "%s",
			 btf__name_by_offset(btf, mb->name_off));
		off[cnt] = btf_member_bit_offset(t, i) / 8;
		cnt++;
	}
	btf__free(btf);
	return (int)cnt;
}

int cs_stats_read(const char *node, unsigned stage_bit, struct cs_counter *c,
		  size_t *n, struct cs_err *err)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), key = 0, *off = NULL;
	const char *stage = cs_stage_name(stage_bit);
	char path[PATH_MAX];
	int idx = cs_stage_index(stage_bit);
	int fd = -1, ncpu, cnt, ret = -1;
	size_t stride, i, k;
	__u8 *vals = NULL;

	if (idx < 0)
		return cs_errf(err, -EINVAL, "stage bit 0x%x: unknown", stage_bit);
	ret = cs_node_attached(node, err);
	if (ret < 0)
		return ret;
	if (cs_node_path(path, sizeof(path), node, stats_maps[idx]) < 0)
		return cs_errf(err, -ENAMETOOLONG, "node %s: path too long", node);
	if (access(path, F_OK) < 0)
		return cs_errf(err, -ENOENT, "node %s: stage %s not attached (no %s)",
			       node, stage, path);
	fd = cs_pin_open(node, stats_maps[idx], err);
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: %s: %s", node, stats_maps[idx],
			strerror(-ret));
		goto cleanup;
	}
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.value_size % 8) {
		ret = -EPROTO;
		cs_errf(err, ret, "node %s: %s: not a per-CPU array of __u64",
			node, stats_maps[idx]);
		goto cleanup;
	}
	off = calloc(*n ? *n : 1, sizeof(*off));
	if (!off) {
		ret = cs_errf(err, -ENOMEM, "node %s: %s", node, strerror(ENOMEM));
		goto cleanup;
	}
	cnt = btf_counters(&info, c, off, *n);
	if (cnt < 0) {
		/* No BTF: still show the raw slots. */
		for (cnt = 0; (size_t)cnt < *n && (size_t)cnt < info.value_size / 8; cnt++) {
			snprintf(c[cnt].name, sizeof(c[cnt].name), "counter%d", cnt);
			off[cnt] = cnt * 8;
		}
	}

	ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0) {
		ret = cs_errf(err, ncpu, "possible CPUs: %s", strerror(-ncpu));
		goto cleanup;
	}
	stride = (info.value_size + 7) & ~7u;
	vals = calloc(ncpu, stride);
	if (!vals) {
		ret = cs_errf(err, -ENOMEM, "node %s: %s", node, strerror(ENOMEM));
		goto cleanup;
	}
	if (bpf_map_lookup_elem(fd, &key, vals) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: reading %s: %s", node,
			stats_maps[idx], strerror(-ret));
		goto cleanup;
	}
	for (k = 0; k < (size_t)cnt; k++) {
		c[k].value = 0;
		for (i = 0; i < (size_t)ncpu; i++) {
			__u64 v;

			memcpy(&v, vals + i * stride + off[k], sizeof(v));
			c[k].value += v;
		}
	}
	*n = cnt;
	ret = 0;
cleanup:
	free(vals);
	free(off);
	close(fd);
	return ret;
}

uint64_t cs_stat_get(const char *node, unsigned stage_bit, const char *name)
{
	struct cs_counter c[64];
	size_t n = 64, i;

	if (cs_stats_read(node, stage_bit, c, &n, NULL) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return 0;
}
