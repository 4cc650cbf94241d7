/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Guest-agent shorthands for the VM tests. */
#include <errno.h>

#include "support.h"
#include "virt/virt_priv.h"

int virt_agent_sh(virDomainPtr dom, const char *script, int timeout_ms,
		  struct virt_exec_result *res, char *err, size_t errlen)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };

	return virt_agent_exec(dom, argv, timeout_ms, res, err, errlen);
}

int virt_wait_ready(virDomainPtr dom, const char *console_log, int timeout_ms,
		    char *err, size_t errlen)
{
	long long deadline = virt_now_ms() + (timeout_ms > 0 ? timeout_ms : 60000);
	char tail[1536];
	int ret;

	for (;;) {
		ret = virt_ready_check(dom, console_log, err, errlen);
		if (ret != 0)
			return ret < 0 ? ret : 0;
		if (virt_now_ms() > deadline)
			break;
		virt_sleep_ms(200);
	}
	virt_console_tail(console_log, 12, tail, sizeof(tail));
	set_err(err, errlen, "domain %s: not ready after %d ms; console: %s", virt_dom_name(dom),
		timeout_ms, tail[0] ? tail : "(empty)");
	return -ETIMEDOUT;
}
