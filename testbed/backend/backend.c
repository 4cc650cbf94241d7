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

int backend_teardown_prefix(const char *prefix, void (*log)(const char *what, void *arg),
			    void *arg)
{
	int failures = 0;

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i] && backends[i]->teardown)
			failures += backends[i]->teardown(prefix, log, arg);
	return failures;
}
