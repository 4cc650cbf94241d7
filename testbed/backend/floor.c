// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The floor function kind: attach, next hops, counters; see floor.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "cadeia_shared.h"
#include "floor.skel.h"
#include "model/arch.h"
#include "model/control.h"
#include "backend/backend.h"
#include "backend/floor.h"
#include "sys/netns.h"

/* As in stages/floor.bpf.c. */
#define FLOOR_ROLE_SF 0
#define FLOOR_ROLE_SRC 1
#define FLOOR_FORWARDED 0
#define FLOOR__COUNTS 3
/* TC filter priority: after the project's stages, which take the default. */
#define FLOOR_TC_PRIO 0xf100

struct floor_hop {
	uint8_t dmac[6];
	uint8_t smac[6];
};

bool floor_chain(const struct scenario *sc, int c)
{
	const struct sc_chain *ch = &sc->chains[c];

	return ch->n_sfs > 0 && sc->nodes[ch->sfs[0]].fn == SC_FN_FLOOR;
}

static bool any_floor(const struct scenario *sc)
{
	for (int i = 0; i < sc->n_nodes; i++)
		if (sc->nodes[i].role == SC_ROLE_SF && sc->nodes[i].fn == SC_FN_FLOOR)
			return true;
	return false;
}

int floor_check(const struct scenario *sc, char *err, size_t errlen)
{
	if (!any_floor(sc))
		return 0;
	if (sc->arch != SC_ARCH_CADEIA_ABERTA) {
		snprintf(err, errlen, "%s: function floor needs the direct architecture cadeia-aberta, not %s",
			 sc->path, sc_arch_name(sc->arch));
		return -EINVAL;
	}
	for (int c = 0; c < sc->n_chains; c++) {
		const struct sc_chain *ch = &sc->chains[c];
		bool floor = floor_chain(sc, c);

		for (int k = 0; k < ch->n_sfs; k++) {
			const struct sc_node *n = &sc->nodes[ch->sfs[k]];

			if ((n->fn == SC_FN_FLOOR) != floor) {
				snprintf(err, errlen,
					 "%s: chain %s mixes floor and other functions (node %s): a floor chain carries no NSH, so all its SFs must be floor",
					 sc->path, ch->name, n->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int pin_path(const struct testbed *tb, int i, const char *map, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s%s%s", CADEIA_PIN_ROOT, tb->name[i], map ? "/" : "",
			 map ? map : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

struct attach_arg {
	int prog_fd;
	const char *dev;
	bool egress;
	char *err;
	size_t errlen;
};

/* Inside the node's netns: clsact on dev, the program as one more filter. */
static int attach_in_netns(void *p)
{
	struct attach_arg *a = p;
	int ifindex = if_nametoindex(a->dev), ret;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = a->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = a->prog_fd, .priority = FLOOR_TC_PRIO,
			    .handle = 1);

	if (!ifindex) {
		snprintf(a->err, a->errlen, "floor: interface %s: %s", a->dev, strerror(errno));
		return -ENODEV;
	}
	/* The source already has clsact (its classifier's), an SF has none:
	 * asking the other way round makes libbpf print the kernel's complaint. */
	if (a->egress && bpf_tc_attach(&hook, &opts) == 0)
		return 0;
	opts.prog_id = 0;
	ret = bpf_tc_hook_create(&hook);
	if (ret < 0 && ret != -EEXIST) {
		snprintf(a->err, a->errlen, "floor: clsact on %s: %s", a->dev, strerror(-ret));
		return ret;
	}
	if ((ret = bpf_tc_attach(&hook, &opts)) < 0) {
		snprintf(a->err, a->errlen, "floor: attaching to %s %s: %s", a->dev,
			 a->egress ? "egress" : "ingress", strerror(-ret));
		return ret;
	}
	return 0;
}

static int attach_node(struct testbed *tb, int i, int role, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	struct floor_bpf *skel = NULL;
	char dir[256], path[320];
	struct attach_arg a = { .dev = n->ifname, .egress = role == FLOOR_ROLE_SRC, .err = err,
				.errlen = errlen };
	int ret = -1;

	if (pin_path(tb, i, NULL, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	if ((mkdir(CADEIA_PIN_ROOT, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
		ret = -errno;
		snprintf(err, errlen, "node %s: floor: creating %s: %s", n->name, dir, strerror(-ret));
		return ret;
	}
	skel = floor_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "node %s: floor: opening the program: %s", n->name,
			 strerror(-ret));
		return ret;
	}
	skel->rodata->floor_role = role;
	if ((ret = floor_bpf__load(skel)) < 0) {
		snprintf(err, errlen, "node %s: floor: loading the program: %s", n->name,
			 strerror(-ret));
		goto cleanup;
	}
	/* Pinned, so that tables and counters can be reached after this process lets go. */
	pin_path(tb, i, "floor_next", path, sizeof(path));
	if ((ret = bpf_map__pin(skel->maps.floor_next, path)) < 0) {
		snprintf(err, errlen, "node %s: floor: pinning %s: %s", n->name, path, strerror(-ret));
		goto cleanup;
	}
	pin_path(tb, i, "floor_counts", path, sizeof(path));
	if ((ret = bpf_map__pin(skel->maps.floor_counts, path)) < 0) {
		snprintf(err, errlen, "node %s: floor: pinning %s: %s", n->name, path, strerror(-ret));
		goto cleanup;
	}
	a.prog_fd = bpf_program__fd(skel->progs.floor_hop);
	ret = netns_run(tb->name[i], attach_in_netns, &a, err, errlen);
	if (ret < 0 && !strstr(err, "floor"))
		snprintf(err + strlen(err), errlen - strlen(err), " (node %s: floor)", n->name);
cleanup:
	floor_bpf__destroy(skel);
	return ret;
}

int floor_bring_up(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	bool src_done[SC_MAX_NODES] = { false };
	int ret;

	if (!any_floor(sc))
		return 0;
	if ((ret = floor_check(sc, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < sc->n_nodes; i++)
		if (sc->nodes[i].role == SC_ROLE_SF && sc->nodes[i].fn == SC_FN_FLOOR &&
		    (ret = attach_node(tb, i, FLOOR_ROLE_SF, err, errlen)) < 0)
			return ret;
	for (int c = 0; c < sc->n_chains; c++) {
		int s = sc->chains[c].src;

		if (!floor_chain(sc, c) || src_done[s])
			continue;
		if ((ret = attach_node(tb, s, FLOOR_ROLE_SRC, err, errlen)) < 0)
			return ret;
		src_done[s] = true;
	}
	return 0;
}

/* The next hops node i should hold at this length, into h/keys; returns how many. */
static size_t wanted(const struct scenario *sc, int i, int length, uint32_t *keys,
		     struct floor_hop *h, size_t max)
{
	size_t n = 0;

	for (int c = 0; c < sc->n_chains && n < max; c++) {
		const struct sc_chain *ch = &sc->chains[c];
		int L = cp_chain_length(sc, c, length);

		if (!floor_chain(sc, c) || L == 0)
			continue;
		for (int k = -1; k < L && n < max; k++) {
			/* k = -1: the source steers to the first SF. */
			int at = k < 0 ? ch->src : ch->sfs[k];
			int next = k + 1 < L ? ch->sfs[k + 1] : ch->dest;

			if (at != i)
				continue;
			keys[n] = sc->nodes[ch->dest].ip;
			memcpy(h[n].dmac, sc->nodes[next].mac, 6);
			memcpy(h[n].smac, sc->nodes[i].mac, 6);
			n++;
		}
	}
	return n;
}

static bool has_floor_prog(const struct scenario *sc, int i)
{
	if (sc->nodes[i].role == SC_ROLE_SF)
		return sc->nodes[i].fn == SC_FN_FLOOR;
	for (int c = 0; c < sc->n_chains; c++)
		if (floor_chain(sc, c) && sc->chains[c].src == i)
			return true;
	return false;
}

/* Replaces node i's floor_next with the wanted entries and reads it back. */
static int install_node(struct testbed *tb, int i, int length, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	uint32_t keys[64], k, next, old[64];
	struct floor_hop h[64], got;
	size_t nw = wanted(tb->sc, i, length, keys, h, 64), nold = 0, seen = 0;
	char path[320];
	int fd, ret = 0;

	pin_path(tb, i, "floor_next", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "node %s: floor: opening %s: %s", n->name, path, strerror(-ret));
		return ret;
	}
	/* Stale entries first out, then the new ones in: no frame meets a mix for long. */
	for (int r = bpf_map_get_next_key(fd, NULL, &k); r == 0 && nold < 64;
	     r = bpf_map_get_next_key(fd, &k, &next), k = next)
		old[nold++] = k;
	for (size_t j = 0; j < nold; j++) {
		bool keep = false;

		for (size_t w = 0; w < nw; w++)
			keep |= keys[w] == old[j];
		if (!keep && bpf_map_delete_elem(fd, &old[j]) < 0 && errno != ENOENT) {
			ret = -errno;
			snprintf(err, errlen, "node %s: floor: deleting a next hop in %s: %s", n->name,
				 path, strerror(-ret));
			goto cleanup;
		}
	}
	for (size_t w = 0; w < nw; w++) {
		if (bpf_map_update_elem(fd, &keys[w], &h[w], BPF_ANY) < 0) {
			ret = -errno;
			snprintf(err, errlen, "node %s: floor: writing a next hop in %s: %s", n->name,
				 path, strerror(-ret));
			goto cleanup;
		}
	}
	/* Read-back: exactly the wanted entries, byte for byte. */
	for (int r = bpf_map_get_next_key(fd, NULL, &k); r == 0;
	     r = bpf_map_get_next_key(fd, &k, &next), k = next) {
		bool match = false;

		if (bpf_map_lookup_elem(fd, &k, &got) < 0)
			continue;
		for (size_t w = 0; w < nw; w++)
			match |= keys[w] == k && !memcmp(&h[w], &got, sizeof(got));
		if (!match) {
			snprintf(err, errlen, "node %s: floor: read-back of %s holds an entry for %08x that was not written",
				 n->name, path, k);
			ret = -EIO;
			goto cleanup;
		}
		seen++;
	}
	if (seen != nw) {
		snprintf(err, errlen, "node %s: floor: read-back of %s has %zu entries, %zu written",
			 n->name, path, seen, nw);
		ret = -EIO;
	}
cleanup:
	close(fd);
	return ret;
}

int floor_install(struct testbed *tb, int length, char *err, size_t errlen)
{
	int ret;

	if (!any_floor(tb->sc))
		return 0;
	/* SFs before sources: a steered frame never meets an old next hop. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < tb->sc->n_nodes; i++) {
			bool sf = tb->sc->nodes[i].role == SC_ROLE_SF;

			if (sf != (pass == 0) || !has_floor_prog(tb->sc, i))
				continue;
			if ((ret = install_node(tb, i, length, err, errlen)) < 0)
				return ret;
		}
	return 0;
}

int floor_add_counts(struct testbed *tb, unsigned long long *counts, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	int ncpu = libbpf_num_possible_cpus();

	if (!any_floor(sc))
		return 0;
	if (ncpu <= 0 || ncpu > 1024) {
		snprintf(err, errlen, "floor: cannot count the CPUs: %s", strerror(ncpu < 0 ? -ncpu : EINVAL));
		return ncpu < 0 ? ncpu : -EINVAL;
	}
	for (int i = 0; i < sc->n_nodes; i++) {
		uint64_t v[1024];
		uint32_t slot = FLOOR_FORWARDED;
		char path[320];
		int fd, ret = 0;

		if (sc->nodes[i].role != SC_ROLE_SF || sc->nodes[i].fn != SC_FN_FLOOR)
			continue;
		pin_path(tb, i, "floor_counts", path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_map_lookup_elem(fd, &slot, v) < 0)
			ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret < 0) {
			snprintf(err, errlen, "node %s: floor: reading %s: %s", sc->nodes[i].name, path,
				 strerror(-ret));
			return ret;
		}
		for (int c = 0; c < ncpu; c++)
			counts[i] += v[c];
	}
	return 0;
}
