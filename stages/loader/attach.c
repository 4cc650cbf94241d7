// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loading the stages' skeletons, attaching them to an interface, undoing it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cs_priv.h"
#include "classifier.skel.h"
#include "dec.skel.h"
#include "enc.skel.h"
#include "fwd.skel.h"
#include "kwire.skel.h"

/* The skeletons differ only in their types: wrap them behind void *. */
#define CS_SKEL(n)                                                             \
	static void *n##_open(const struct bpf_object_open_opts *o)            \
	{                                                                      \
		return n##_bpf__open_opts(o);                                  \
	}                                                                      \
	static int n##_load(void *s) { return n##_bpf__load(s); }              \
	static void n##_destroy(void *s) { n##_bpf__destroy(s); }             \
	static struct bpf_object *n##_obj(void *s)                             \
	{                                                                      \
		return ((struct n##_bpf *)s)->obj;                             \
	}

CS_SKEL(classifier)
CS_SKEL(dec)
CS_SKEL(enc)
CS_SKEL(fwd)
CS_SKEL(kwire)

struct stage_desc {
	unsigned bit;
	enum cs_hook hook;
	__u32 prio;       /* TC only */
	const char *prog; /* program name in the skeleton */
	void *(*open)(const struct bpf_object_open_opts *o);
	int (*load)(void *skel);
	void (*destroy)(void *skel);
	struct bpf_object *(*obj)(void *skel);
};

#define STAGE(b, h, p, pr, n) { b, h, p, pr, n##_open, n##_load, n##_destroy, n##_obj }
/* Indexed by bit number; TC egress order is classifier, enc, fwd. */
static const struct stage_desc stages[CS_NSTAGES] = {
	STAGE(CS_STAGE_CLASSIFIER, CS_HOOK_TC_EGRESS, 1, "cls_egress", classifier),
	STAGE(CS_STAGE_DEC, CS_HOOK_XDP, 0, "dec_xdp", dec),
	STAGE(CS_STAGE_ENC, CS_HOOK_TC_EGRESS, 2, "enc_egress", enc),
	STAGE(CS_STAGE_FWD, CS_HOOK_TC_EGRESS, 3, "fwd_egress", fwd),
	STAGE(CS_STAGE_KWIRE, CS_HOOK_TC_INGRESS, 1, "kwire_ingress", kwire),
};

#define CS_ALL_STAGES ((1u << CS_NSTAGES) - 1)

static __u32 xdp_mode_flag(const struct cs_meta *m)
{
	return m->flags & CS_META_F_XDP_GENERIC ? XDP_FLAGS_SKB_MODE :
						  XDP_FLAGS_DRV_MODE;
}

/* ---- pins ---------------------------------------------------------------- */

static int ensure_bpffs(struct cs_err *err)
{
	struct statfs sfs;
	int ret;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	/* Minimal guests boot without it mounted. */
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0) {
		ret = -errno;
		return cs_errf(err, ret, "bpffs: cannot mount on /sys/fs/bpf: %s",
			       strerror(-ret));
	}
	return 0;
}

static int make_dir(const char *path, struct cs_err *err)
{
	int ret;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		return cs_errf(err, ret, "cannot create %s: %s", path,
			       strerror(-ret));
	}
	return 0;
}

static int remove_pin_dir(const char *node, struct cs_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
	struct dirent *de;
	DIR *d;
	int ret = -1;

	if (cs_node_path(dir, sizeof(dir), node, NULL) < 0)
		return cs_errf(err, -ENAMETOOLONG, "node %s: path too long", node);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		return cs_errf(err, ret, "node %s: cannot open %s: %s", node, dir,
			       strerror(-ret));
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT) {
			ret = -errno;
			cs_errf(err, ret, "node %s: cannot remove %s: %s", node,
				path, strerror(-ret));
			goto cleanup;
		}
	}
	if (rmdir(dir) < 0 && errno != ENOENT) {
		ret = -errno;
		cs_errf(err, ret, "node %s: cannot remove %s: %s", node, dir,
			strerror(-ret));
		goto cleanup;
	}
	/* The root is shared: it goes with the last node, never before. */
	rmdir(CADEIA_PIN_ROOT);
	ret = 0;
cleanup:
	closedir(d);
	return ret;
}

/* ---- loading ------------------------------------------------------------- */

/*
 * Sets `const volatile` variable var in the skeleton's .rodata to size bytes
 * at val. A stage without that variable is left alone unless required.
 */
static int set_rodata(struct bpf_object *obj, const char *var, const void *val,
		      __u32 size, bool required, const char *stage,
		      struct cs_err *err)
{
	const struct btf_var_secinfo *vi;
	const struct btf_type *sec, *t;
	struct bpf_map *rodata;
	struct btf *btf;
	size_t rsize;
	const void *init;
	__u8 *buf;
	__s32 id;
	int i, ret;

	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	btf = bpf_object__btf(obj);
	id = rodata && btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC)
			   : -ENOENT;
	if (id >= 0) {
		sec = btf__type_by_id(btf, id);
		vi = btf_var_secinfos(sec);
		for (i = 0; i < btf_vlen(sec); i++, vi++) {
			t = btf__type_by_id(btf, vi->type);
			if (!strcmp(btf__name_by_offset(btf, t->name_off), var))
				break;
		}
		if (i == btf_vlen(sec))
			id = -ENOENT;
	}
	if (id < 0) {
		if (!required)
			return 0;
		return cs_errf(err, -EPROTO, "stage %s: no %s in .rodata", stage, var);
	}

	init = bpf_map__initial_value(rodata, &rsize);
	if (!init || vi->size != size || vi->offset + size > rsize)
		return cs_errf(err, -EPROTO, "stage %s: %s in .rodata is not %u bytes",
			       stage, var, size);
	buf = malloc(rsize);
	if (!buf)
		return cs_errf(err, -ENOMEM, "stage %s: %s", stage, strerror(ENOMEM));
	memcpy(buf, init, rsize);
	memcpy(buf + vi->offset, val, size);
	ret = bpf_map__set_initial_value(rodata, buf, rsize);
	free(buf);
	if (ret < 0)
		return cs_errf(err, ret, "stage %s: cannot set %s: %s", stage, var,
			       strerror(-ret));
	return 0;
}

struct loaded {
	void *skel[CS_NSTAGES];
	int prog_fd[CS_NSTAGES];
};

static void unload_all(struct loaded *l)
{
	int i;

	for (i = 0; i < CS_NSTAGES; i++) {
		if (l->skel[i])
			stages[i].destroy(l->skel[i]);
		l->skel[i] = NULL;
	}
}

static int prog_id_of(int fd, __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	*id = info.id;
	return 0;
}

static int load_stage(int i, const char *pin_dir, struct cs_meta *m,
		      struct loaded *l, struct cs_err *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);
	const struct stage_desc *d = &stages[i];
	const char *name = cs_stage_name(d->bit);
	struct bpf_program *prog;
	int ret;

	l->skel[i] = d->open(&oo);
	if (!l->skel[i]) {
		ret = -errno;
		return cs_errf(err, ret, "stage %s: cannot open skeleton: %s",
			       name, strerror(-ret));
	}
	ret = set_rodata(d->obj(l->skel[i]), "node_mac", m->mac, 6, false,
			 name, err);
	if (ret < 0)
		return ret;
	if (d->bit == CS_STAGE_KWIRE) {
		ret = set_rodata(d->obj(l->skel[i]), "kwire_mode", &m->kwire_mode,
				 sizeof(m->kwire_mode), true, name, err);
		if (ret == 0)
			ret = set_rodata(d->obj(l->skel[i]), "redirect_ifindex",
					 &m->kwire_peer_ifindex,
					 sizeof(m->kwire_peer_ifindex), true, name,
					 err);
		if (ret < 0)
			return ret;
	}
	ret = d->load(l->skel[i]);
	if (ret < 0)
		return cs_errf(err, ret, "stage %s: cannot load (pins in %s): %s",
			       name, pin_dir, strerror(-ret));
	prog = bpf_object__find_program_by_name(d->obj(l->skel[i]), d->prog);
	if (!prog)
		return cs_errf(err, -ENOENT, "stage %s: no program %s", name,
			       d->prog);
	l->prog_fd[i] = bpf_program__fd(prog);
	ret = prog_id_of(l->prog_fd[i], &m->prog_id[i]);
	if (ret < 0)
		return cs_errf(err, ret, "stage %s: program %s: %s", name,
			       d->prog, strerror(-ret));
	return 0;
}

/* ---- hooks (run inside the netns) ---------------------------------------- */

struct hook_ctx {
	struct cs_meta *m;
	const struct loaded *l;
	struct cs_err *err;
	const char *node;
	unsigned attached; /* hooks in place so far, for the rollback */
	bool clsact_done;
};

static void tc_hook_init(struct bpf_tc_hook *h, int ifindex, enum cs_hook hook)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = hook == CS_HOOK_TC_INGRESS ? BPF_TC_INGRESS :
						       BPF_TC_EGRESS;
}

static int attach_one(struct hook_ctx *c, int i)
{
	const struct stage_desc *d = &stages[i];
	const char *name = cs_stage_name(d->bit);
	struct cs_meta *m = c->m;
	struct bpf_tc_hook hook;
	int fd = c->l->prog_fd[i];
	__u32 flags;
	int ret;

	if (d->hook == CS_HOOK_XDP) {
		flags = XDP_FLAGS_UPDATE_IF_NOEXIST | xdp_mode_flag(m);
		ret = bpf_xdp_attach(m->ifindex, fd, flags, NULL);
		if (ret == -EBUSY || ret == -EEXIST)
			return cs_errf(c->err, ret,
				       "interface %s: stage %s: another XDP program is attached",
				       m->ifname, name);
		if (ret < 0)
			return cs_errf(c->err, ret,
				       "interface %s: stage %s: cannot attach XDP (%s mode): %s%s",
				       m->ifname, name,
				       m->flags & CS_META_F_XDP_GENERIC ? "generic" : "native",
				       strerror(-ret),
				       ret == -EOPNOTSUPP && !(m->flags & CS_META_F_XDP_GENERIC) ?
				       " (try --xdp-generic)" : "");
		return 0;
	}

	tc_hook_init(&hook, m->ifindex, d->hook);
	/* One clsact serves both directions. */
	if (!c->clsact_done) {
		ret = bpf_tc_hook_create(&hook);
		if (ret == 0) {
			m->flags |= CS_META_F_CLSACT_CREATED;
			/* bpf(2) ignores the netns: record it right away */
			ret = cs_meta_write(c->node, m, c->err);
			if (ret < 0)
				return ret;
		} else if (ret != -EEXIST)
			return cs_errf(c->err, ret,
				       "interface %s: cannot create clsact qdisc: %s",
				       m->ifname, strerror(-ret));
		c->clsact_done = true;
	}
	{
		LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = fd,
			    .handle = CS_TC_HANDLE, .priority = d->prio);

		ret = bpf_tc_attach(&hook, &to);
	}
	if (ret == -EEXIST)
		return cs_errf(c->err, ret,
			       "interface %s: stage %s: a tc filter already uses %s prio %u handle 0x%x",
			       m->ifname, name,
			       d->hook == CS_HOOK_TC_INGRESS ? "ingress" : "egress",
			       d->prio, CS_TC_HANDLE);
	if (ret < 0)
		return cs_errf(c->err, ret,
			       "interface %s: stage %s: cannot attach tc filter: %s",
			       m->ifname, name, strerror(-ret));
	return 0;
}

static int attach_hooks(void *arg)
{
	struct hook_ctx *c = arg;
	int i, ret;

	for (i = 0; i < CS_NSTAGES; i++) {
		if (!(c->m->stages & (1u << i)))
			continue;
		ret = attach_one(c, i);
		if (ret < 0)
			return ret;
		c->attached |= 1u << i;
	}
	return 0;
}

/* Removes our XDP program and tc filters, only where they are still ours. */
static int detach_hooks(void *arg)
{
	struct hook_ctx *c = arg;
	struct cs_meta *m = c->m;
	char name[IF_NAMESIZE];
	struct bpf_tc_hook hook;
	int i, fd, ret, first = 0;
	__u32 id;

	/* Gone, or its index reused by another interface: nothing of ours. */
	if (!if_indextoname(m->ifindex, name) || strcmp(name, m->ifname))
		return 0;

	for (i = 0; i < CS_NSTAGES; i++) {
		const struct stage_desc *d = &stages[i];
		const char *sname = cs_stage_name(d->bit);

		if (!(m->stages & (1u << i)))
			continue;
		if (d->hook == CS_HOOK_XDP) {
			LIBBPF_OPTS(bpf_xdp_attach_opts, xo);

			ret = bpf_xdp_query_id(m->ifindex, xdp_mode_flag(m), &id);
			if (ret < 0 || id != m->prog_id[i])
				continue;
			fd = bpf_prog_get_fd_by_id(id);
			if (fd < 0)
				continue;
			/* REPLACE semantics: only if it is still this program */
			xo.old_prog_fd = fd;
			ret = bpf_xdp_detach(m->ifindex, xdp_mode_flag(m), &xo);
			close(fd);
			if (ret < 0 && !first)
				first = cs_errf(c->err, ret,
						"interface %s: stage %s: cannot detach XDP: %s",
						m->ifname, sname, strerror(-ret));
			continue;
		}

		tc_hook_init(&hook, m->ifindex, d->hook);
		{
			LIBBPF_OPTS(bpf_tc_opts, q, .handle = CS_TC_HANDLE,
				    .priority = d->prio);
			LIBBPF_OPTS(bpf_tc_opts, del, .handle = CS_TC_HANDLE,
				    .priority = d->prio);

			if (bpf_tc_query(&hook, &q) < 0 || q.prog_id != m->prog_id[i])
				continue;
			ret = bpf_tc_detach(&hook, &del);
		}
		if (ret < 0 && ret != -ENOENT && !first)
			first = cs_errf(c->err, ret,
					"interface %s: stage %s: cannot remove tc filter: %s",
					m->ifname, sname, strerror(-ret));
	}

	if (!first && (m->flags & CS_META_F_CLSACT_CREATED)) {
		tc_hook_init(&hook, m->ifindex, CS_HOOK_TC_EGRESS);
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		ret = bpf_tc_hook_destroy(&hook);
		if (ret < 0 && ret != -ENOENT && ret != -EINVAL)
			first = cs_errf(c->err, ret,
					"interface %s: cannot remove clsact qdisc: %s",
					m->ifname, strerror(-ret));
	}
	return first;
}

static int run_detach_hooks(struct cs_meta *m, struct cs_err *err)
{
	struct hook_ctx c = { .m = m, .err = err };
	char path[PATH_MAX];
	struct cs_err tmp;
	int ret;

	/* A vanished netns took our hooks with it. */
	if (m->netns[0]) {
		snprintf(path, sizeof(path), "/run/netns/%s", m->netns);
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return 0;
	}
	tmp.msg[0] = '\0';
	c.err = &tmp;
	ret = cs_in_netns(m->netns[0] ? m->netns : NULL, detach_hooks, &c, &tmp);
	if (ret < 0)
		cs_errf(err, ret, "%s", tmp.msg);
	return ret;
}

/* ---- public -------------------------------------------------------------- */

int cs_attach(const struct cs_attach_opts *o, struct cs_err *err)
{
	struct cs_meta m = { .magic = CS_META_MAGIC, .version = CS_META_VERSION };
	struct loaded l = {};
	struct hook_ctx hc = { .m = &m, .l = &l, .err = err, .node = o->node };
	char pin_dir[PATH_MAX];
	struct cs_ifinfo ifi;
	struct cs_err tmp;
	bool made_dir = false;
	int i, ret;

	ret = cs_node_check(o->node, err);
	if (ret < 0)
		return ret;
	if (!o->ifname || !*o->ifname)
		return cs_errf(err, -EINVAL, "node %s: interface missing", o->node);
	if (!o->stages || (o->stages & ~CS_ALL_STAGES))
		return cs_errf(err, -EINVAL, "node %s: invalid stage mask 0x%x",
			       o->node, o->stages);
	if (o->netns && strlen(o->netns) >= sizeof(m.netns))
		return cs_errf(err, -EINVAL, "netns \"%s\": name too long", o->netns);
	if (o->kwire_mode > KWIRE_MODE_NSH_HOST)
		return cs_errf(err, -EINVAL, "node %s: unknown kwire mode %u",
			       o->node, o->kwire_mode);
	if ((o->kwire_mode || o->kwire_peer) && !(o->stages & CS_STAGE_KWIRE))
		return cs_errf(err, -EINVAL,
			       "node %s: kwire mode and peer need the kwire stage",
			       o->node);
	if (cs_node_exists(o->node))
		return cs_errf(err, -EEXIST,
			       "node %s: already attached (%s/%s exists; detach it first)",
			       o->node, CADEIA_PIN_ROOT, o->node);

	ret = cs_if_resolve(o->netns, o->ifname, &ifi, err);
	if (ret < 0)
		return ret;
	snprintf(m.netns, sizeof(m.netns), "%s", o->netns ? o->netns : "");
	snprintf(m.ifname, sizeof(m.ifname), "%s", o->ifname);
	m.ifindex = ifi.ifindex;
	memcpy(m.mac, ifi.mac, 6);
	if (o->xdp_generic)
		m.flags |= CS_META_F_XDP_GENERIC;
	m.kwire_mode = o->kwire_mode;
	if (o->kwire_peer) {
		/* Resolved now: the program gets the index, not the name. */
		ret = cs_if_resolve(o->netns, o->kwire_peer, &ifi, err);
		if (ret < 0)
			return ret;
		m.kwire_peer_ifindex = ifi.ifindex;
		snprintf(m.kwire_peer, sizeof(m.kwire_peer), "%s", o->kwire_peer);
	}

	ret = ensure_bpffs(err);
	if (ret < 0)
		return ret;
	ret = make_dir(CADEIA_PIN_ROOT, err);
	if (ret < 0)
		return ret;
	if (cs_node_path(pin_dir, sizeof(pin_dir), o->node, NULL) < 0)
		return cs_errf(err, -ENAMETOOLONG, "node %s: path too long", o->node);
	/* Exclusive: two attaches of one node must not share its pins. */
	if (mkdir(pin_dir, 0700) < 0) {
		ret = -errno;
		if (ret == -EEXIST)
			return cs_errf(err, ret,
				       "node %s: already attached (%s exists; detach it first)",
				       o->node, pin_dir);
		return cs_errf(err, ret, "node %s: cannot create %s: %s",
			       o->node, pin_dir, strerror(-ret));
	}
	made_dir = true;

	for (i = 0; i < CS_NSTAGES; i++) {
		if (!(o->stages & (1u << i)))
			continue;
		ret = load_stage(i, pin_dir, &m, &l, err);
		if (ret < 0)
			goto cleanup;
	}

	/*
	 * Recorded before the hooks: should this process die half-way, detach
	 * still finds them (it removes only programs whose ids match).
	 */
	m.stages = o->stages;
	ret = cs_meta_write(o->node, &m, err);
	if (ret < 0)
		goto cleanup;
	ret = cs_in_netns(o->netns, attach_hooks, &hc, err);

cleanup:
	if (ret < 0) {
		/* Keep the first error; the rollback's own errors are secondary. */
		m.stages = hc.attached;
		if (m.stages || (m.flags & CS_META_F_CLSACT_CREATED))
			run_detach_hooks(&m, &tmp);
		if (made_dir)
			remove_pin_dir(o->node, &tmp);
	}
	/* Attached programs and pinned maps outlive the skeletons. */
	unload_all(&l);
	return ret;
}

int cs_detach(const char *node, struct cs_err *err)
{
	struct cs_meta m;
	int ret;

	ret = cs_node_attached(node, err);
	if (ret < 0)
		return ret;
	ret = cs_meta_read(node, &m, err);
	if (ret == 0) {
		ret = run_detach_hooks(&m, err);
		if (ret < 0)
			return ret; /* keep the pins: they say what to retry */
	} else if (ret != -ENOENT) {
		return ret;
	}
	/* No record: an attach that died half-way; its pins still go. */
	return remove_pin_dir(node, err);
}
