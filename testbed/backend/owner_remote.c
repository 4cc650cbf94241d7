/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Teardown on hosts reached over ssh: backend/owner_remote.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "backend/owner_remote.h"
#include "backend/remote.h"

static int domains(const struct owner *o, const char *uri, owner_log_fn log, void *arg)
{
	virConnectPtr conn = virConnectOpen(uri);
	virDomainPtr *doms = NULL;
	int n, failures = 0;

	if (!conn) {
		const char *m = virGetLastErrorMessage();

		owner_say(log, arg, "host %s: %s", uri, m ? m : "cannot connect");
		return 1;
	}
	n = virConnectListAllDomains(conn, &doms, 0);
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);

		if (strncmp(name, o->prefix, strlen(o->prefix)) == 0) {
			if (virDomainIsPersistent(doms[i]) != 0 || !owner_domain_ours(doms[i], o))
				owner_say(log, arg, "left domain %s on %s alone: not run %s's", name, uri, o->id);
			else if (virDomainDestroy(doms[i]) < 0 && virDomainIsActive(doms[i]) == 1)
				failures++, owner_say(log, arg, "domain %s on %s: %s", name, uri,
						      virGetLastErrorMessage());
			else
				owner_say(log, arg, "destroyed domain %s on %s", name, uri);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(conn);
	return failures + (n < 0);
}

int owner_remote_teardown(const struct owner *o, json_t *uris, owner_log_fn log, void *arg)
{
	json_t *u;
	size_t i;
	int failures = 0;

	json_array_foreach(uris, i, u) {
		const char *uri = json_string_value(u);
		const char *args[] = { "hostnet", "down", o->mark, NULL };
		struct remote_target t;
		char err[1024];

		if (!uri)
			continue;
		/* Guests before the bridge they hang on. */
		failures += domains(o, uri, log, arg);
		if (remote_target_parse(uri, &t, err, sizeof(err)) < 0 ||
		    remote_bench(&t, args, NULL, 0, err, sizeof(err)) < 0) {
			owner_say(log, arg, "%s", err);
			failures++;
			continue;
		}
		owner_say(log, arg, "removed run %s's links on %s (hostnet down)", o->id, t.host);
	}
	return failures;
}
