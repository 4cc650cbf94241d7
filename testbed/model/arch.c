/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/arch.h"
#include "cadeia_stage.h"

static int add_node(struct scenario *sc, const char *name, enum sc_role role, char *err,
		    size_t errlen)
{
	struct sc_node *n;
	int i = sc->n_nodes;

	if (i >= SC_MAX_NODES) {
		snprintf(err, errlen, "%s: architecture %s needs more than %d nodes", sc->path,
			 sc_arch_name(sc->arch), SC_MAX_NODES);
		return -E2BIG;
	}
	n = &sc->nodes[i];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->ifname, sizeof(n->ifname), "eth0");
	n->role = role;
	n->fn = SC_FN_NONE;
	n->cpu = -1;
	n->peer = -1;
	/* Same deterministic plan as scenario nodes: host i+1, MAC of i+1. */
	n->ip = htonl(ntohl(sc->subnet) + i + 1);
	n->mac[0] = 0x02;
	n->mac[1] = 0xcb;
	n->mac[4] = (i + 1) >> 8;
	n->mac[5] = (i + 1) & 0xff;
	sc->n_nodes++;
	return i;
}

int arch_expand(struct scenario *sc, enum sc_arch a, char *err, size_t errlen)
{
	int n_file = sc->n_nodes, ret;

	sc->arch = a;
	if (a == SC_ARCH_CADEIA_ABERTA)
		return 0;
	/* Names start with '_', which scenario files cannot use. */
	if ((ret = add_node(sc, "_sff", SC_ROLE_SFF, err, errlen)) < 0)
		return ret;
	for (int i = 0; i < n_file; i++) {
		struct sc_node *sf = &sc->nodes[i];
		char name[SC_NAME_MAX];

		/* An NSH-aware SF talks to the SFF itself; RFC 7665 proxies
		 * only NSH-unaware ones. */
		if (sf->role != SC_ROLE_SF || sc_fn_nsh_aware(sf->fn))
			continue;
		snprintf(name, sizeof(name), "_px%d", i);
		if ((ret = add_node(sc, name, SC_ROLE_PROXY, err, errlen)) < 0)
			return ret;
		sc->nodes[ret].peer = i;
		snprintf(sc->nodes[ret].peer_ifname, sizeof(sc->nodes[ret].peer_ifname), "eth1");
		sc->nodes[i].peer = ret;
	}
	return 0;
}

int arch_sff(const struct scenario *sc)
{
	for (int i = 0; i < sc->n_nodes; i++)
		if (sc->nodes[i].role == SC_ROLE_SFF)
			return i;
	return -1;
}

int arch_hop(const struct scenario *sc, int sf)
{
	return sc->nodes[sf].peer >= 0 ? sc->nodes[sf].peer : sf;
}

bool arch_behind_proxy(const struct sc_node *n)
{
	return n->role == SC_ROLE_SF && n->peer >= 0;
}

bool arch_ovs_sff(const struct scenario *sc, int i)
{
	return sc->arch == SC_ARCH_OVS_NSH && sc->nodes[i].role == SC_ROLE_SFF;
}

unsigned arch_node_stages(const struct scenario *sc, int i, unsigned *kwire_mode,
			  const char **kwire_peer)
{
	const struct sc_node *n = &sc->nodes[i];
	unsigned mode_;
	const char *peer_;

	if (!kwire_mode)
		kwire_mode = &mode_;
	if (!kwire_peer)
		kwire_peer = &peer_;
	*kwire_mode = KWIRE_MODE_OTHERHOST;
	*kwire_peer = NULL;
	switch (n->role) {
	case SC_ROLE_SRC:
		return CS_STAGE_CLASSIFIER;
	case SC_ROLE_DEST:
		return 0;
	case SC_ROLE_SFF:
		if (arch_ovs_sff(sc, i))
			return 0; /* Open vSwitch does the SFF's work */
		/* NSH frames for the SFF go back out, through fwd at egress. */
		*kwire_mode = KWIRE_MODE_NSH_HOST;
		return CS_STAGE_KWIRE | CS_STAGE_FWD;
	case SC_ROLE_PROXY:
		/* dec strips, kwire hands the inner frame to the SF on the peer
		 * interface; the way back is that interface's kwire, then enc and
		 * fwd here. */
		*kwire_peer = n->peer_ifname;
		return CS_STAGE_DEC | CS_STAGE_KWIRE | CS_STAGE_ENC | CS_STAGE_FWD;
	case SC_ROLE_SF:
		break;
	}
	if (arch_behind_proxy(n))
		return n->fn == SC_FN_KWIRE ? CS_STAGE_KWIRE : 0;
	switch (n->fn) {
	case SC_FN_FLOOR:
		return 0; /* no NSH: its own program (backend/floor.h) */
	case SC_FN_NSH_AWARE:
	case SC_FN_NAT: /* it changes the 5-tuple dec's state is keyed by: keeps NSH itself */
		return CS_STAGE_FWD; /* the function sees NSH and decrements SI itself */
	case SC_FN_KWIRE:
		return CS_STAGE_DEC | CS_STAGE_ENC | CS_STAGE_FWD | CS_STAGE_KWIRE;
	default:
		return CS_STAGE_DEC | CS_STAGE_ENC | CS_STAGE_FWD;
	}
}
