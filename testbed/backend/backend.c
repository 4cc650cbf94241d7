/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "backend/backend.h"

static const struct backend_ops *const backends[] = {
	[SC_BACKEND_NETNS] = &netns_backend,
	[SC_BACKEND_LIBVIRT] = &libvirt_backend,
};

const struct backend_ops *backend_for(enum sc_backend b)
{
	if ((unsigned)b >= sizeof(backends) / sizeof(backends[0]))
		return NULL;
	return backends[b];
}
