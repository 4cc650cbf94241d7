// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The attachment record: a one-slot array pinned as <pin dir>/cs_meta. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "cs_priv.h"

int cs_meta_write(const char *node, const struct cs_meta *m, struct cs_err *err)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	char path[PATH_MAX];
	__u32 key = 0;
	int fd = -1, ret = -1;

	if (cs_node_path(path, sizeof(path), node, CS_META_MAP) < 0)
		return cs_errf(err, -ENAMETOOLONG, "node %s: path too long", node);
	/* Rewrites go to the pinned map: attach records progress as it goes. */
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (bpf_map_update_elem(fd, &key, m, BPF_ANY) < 0) {
			ret = -errno;
			cs_errf(err, ret, "node %s: cannot write %s: %s", node,
				path, strerror(-ret));
			goto cleanup;
		}
		ret = 0;
		goto cleanup;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, CS_META_MAP, sizeof(key),
			    sizeof(*m), 1, &opts);
	if (fd < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: cannot create map %s: %s", node,
			CS_META_MAP, strerror(-ret));
		goto cleanup;
	}
	if (bpf_map_update_elem(fd, &key, m, BPF_ANY) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: cannot write %s: %s", node,
			CS_META_MAP, strerror(-ret));
		goto cleanup;
	}
	if (bpf_obj_pin(fd, path) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: cannot pin %s: %s", node, path,
			strerror(-ret));
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	return ret;
}

int cs_meta_read(const char *node, struct cs_meta *m, struct cs_err *err)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	__u32 key = 0;
	int fd, ret = -1;

	fd = cs_pin_open(node, CS_META_MAP, err);
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: %s: %s", node, CS_META_MAP,
			strerror(-ret));
		goto cleanup;
	}
	/* Version 1 records (no kwire fields) still detach: read them short. */
	if (info.value_size != sizeof(*m) && info.value_size != CS_META_V1_SIZE) {
		ret = -EPROTO;
		cs_errf(err, ret, "node %s: %s: value size %u, expected %zu (other version of cadeia-stage?)",
			node, CS_META_MAP, info.value_size, sizeof(*m));
		goto cleanup;
	}
	memset(m, 0, sizeof(*m));
	if (bpf_map_lookup_elem(fd, &key, m) < 0) {
		ret = -errno;
		cs_errf(err, ret, "node %s: cannot read %s: %s", node,
			CS_META_MAP, strerror(-ret));
		goto cleanup;
	}
	if (m->magic != CS_META_MAGIC ||
	    m->version != (info.value_size == sizeof(*m) ? CS_META_VERSION : 1)) {
		ret = -EPROTO;
		cs_errf(err, ret, "node %s: %s: bad magic or version", node,
			CS_META_MAP);
		goto cleanup;
	}
	m->netns[sizeof(m->netns) - 1] = '\0';
	m->ifname[sizeof(m->ifname) - 1] = '\0';
	m->kwire_peer[sizeof(m->kwire_peer) - 1] = '\0';
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

int cs_node_info(const char *node, struct cs_node_info *info, struct cs_err *err)
{
	struct cs_meta m;
	int ret;

	ret = cs_meta_read(node, &m, err);
	if (ret < 0)
		return ret;
	memset(info, 0, sizeof(*info));
	snprintf(info->netns, sizeof(info->netns), "%s", m.netns);
	snprintf(info->ifname, sizeof(info->ifname), "%s", m.ifname);
	info->ifindex = (int)m.ifindex;
	memcpy(info->mac, m.mac, 6);
	info->stages = m.stages;
	info->xdp_generic = m.flags & CS_META_F_XDP_GENERIC;
	info->clsact_created = m.flags & CS_META_F_CLSACT_CREATED;
	info->kwire_mode = m.kwire_mode;
	info->kwire_peer_ifindex = (int)m.kwire_peer_ifindex;
	snprintf(info->kwire_peer, sizeof(info->kwire_peer), "%s", m.kwire_peer);
	return 0;
}
