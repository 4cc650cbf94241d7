// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/fn_conf.h"
#include "backend/lv_fn.h"
#include "virt/virt.h"

#define LVFN_TIMEOUT_MS 30000
#define LVFN_FILE_MAX (8 << 20)

int lvfn_exec(struct testbed *tb, int i, lvfn_dom_fn dom, const char *const argv[], char **out,
	      int timeout_ms, char *err, size_t errlen)
{
	struct virt_exec_result res = { 0 };
	int ret = virt_agent_exec(dom(tb, i), argv, timeout_ms, &res, err, errlen);

	if (ret < 0)
		return ret;
	if (res.exitcode != 0) {
		snprintf(err, errlen, "guest %s: %s exited with %d: %s", tb->name[i], argv[0],
			 res.exitcode, res.errout && *res.errout ? res.errout : "(no message)");
		err[strcspn(err, "\n")] = '\0';
		virt_exec_result_free(&res);
		return -EIO;
	}
	if (out) {
		*out = res.out;
		res.out = NULL;
	}
	virt_exec_result_free(&res);
	return 0;
}

static int sh(struct testbed *tb, int i, lvfn_dom_fn dom, const char *script, char *err,
	      size_t errlen)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };

	return lvfn_exec(tb, i, dom, argv, NULL, LVFN_TIMEOUT_MS, err, errlen);
}

/* Direct server return: the other backends take the VIP on their loopback. */
static int lb_vip(struct testbed *tb, int i, lvfn_dom_fn dom, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	struct in_addr a = { .s_addr = tb->sc->nodes[n->backends[0]].ip };
	char vip[INET_ADDRSTRLEN], script[256];
	int ret;

	inet_ntop(AF_INET, &a, vip, sizeof(vip));
	snprintf(script, sizeof(script),
		 "echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore && "
		 "/bin/busybox ip addr add %s/32 dev lo", vip);
	for (int k = 1; k < n->n_backends; k++)
		if ((ret = sh(tb, n->backends[k], dom, script, err, errlen)) < 0)
			return ret;
	return 0;
}

int lvfn_start(struct testbed *tb, int i, lvfn_dom_fn dom, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	char *text = NULL, *nft = NULL, script[768];
	json_t *cfg = NULL;
	int ret;

	if (!fnc_has_config(n->fn))
		return 0; /* the guest's init started it */
	if ((ret = fnc_prepare(tb, i, err, errlen)) < 0 ||
	    (n->fn == SC_FN_LB && (ret = lb_vip(tb, i, dom, err, errlen)) < 0) ||
	    (ret = fnc_config(tb, i, "/run", &cfg, &nft, err, errlen)) < 0)
		return ret;
	ret = -ENOMEM;
	if (!(text = json_dumps(cfg, JSON_INDENT(2))))
		goto cleanup;
	if ((ret = virt_agent_write_file(dom(tb, i), "/run/fn.json", text, strlen(text), err,
					 errlen)) < 0 ||
	    (nft && (ret = virt_agent_write_file(dom(tb, i),
						 json_string_value(json_object_get(cfg, "nft")), nft,
						 strlen(nft), err, errlen)) < 0))
		goto cleanup;
	/* As the guest's init starts the wire: a FIFO says it is ready. */
	snprintf(script, sizeof(script),
		 "f=/run/fn.ready; mkfifo $f || exit 1; "
		 "/usr/bin/cadeia-guest fn %s --dev %s --node %s --config /run/fn.json --ready-fd 3 "
		 "3>$f >/run/fn.log 2>&1 </dev/null & echo $! >/run/fn.pid; "
		 "got=$(timeout 20 dd if=$f bs=1 count=1 2>/dev/null | wc -c); rm -f $f; "
		 "[ \"$got\" = 1 ] || { tail -n 3 /run/fn.log >&2; exit 1; }",
		 sc_fn_name(n->fn), n->ifname, n->name);
	if ((ret = sh(tb, i, dom, script, err, errlen)) < 0) {
		char m[600];

		snprintf(m, sizeof(m), "%s", err);
		snprintf(err, errlen, "function %s on guest %s did not start: %s", sc_fn_name(n->fn),
			 tb->name[i], m);
	}
cleanup:
	free(text);
	free(nft);
	json_decref(cfg);
	return ret;
}

/* Appends a guest file to the host file of the same name in log_dir. */
static void fetch(struct testbed *tb, int i, lvfn_dom_fn dom, const char *gpath)
{
	const char *base = strrchr(gpath, '/') + 1;
	char host[1200], e[512], *data = NULL;
	size_t len = 0;
	FILE *f;

	if (!tb->log_dir ||
	    virt_agent_read_file(dom(tb, i), gpath, LVFN_FILE_MAX, &data, &len, e, sizeof(e)) < 0) {
		free(data);
		return;
	}
	snprintf(host, sizeof(host), "%s/%s", tb->log_dir, base);
	f = fopen(host, "a");
	if (f) {
		/* the header once: the first architecture's file brings it */
		const char *body = data;

		if (ftell(f) > 0 && (body = strchr(data, '\n')))
			body++;
		fputs(body ? body : "", f);
		fclose(f);
	}
	free(data);
}

void lvfn_stop(struct testbed *tb, lvfn_dom_fn dom)
{
	for (int i = 0; i < tb->sc->n_nodes; i++) {
		const struct sc_node *n = &tb->sc->nodes[i];
		char e[512], path[96];

		if (!fnc_has_config(n->fn) || !dom(tb, i) || virDomainIsActive(dom(tb, i)) != 1)
			continue;
		/* SIGTERM: the function writes its files and removes its table. */
		if (sh(tb, i, dom,
		       "p=$(cat /run/fn.pid) && kill -TERM $p && "
		       "for k in $(seq 50); do kill -0 $p 2>/dev/null || exit 0; sleep 0.1; done; exit 1",
		       e, sizeof(e)) < 0)
			continue;
		if (n->fn == SC_FN_MONITOR)
			fetch(tb, i, dom, "/run/flows.csv");
		if (n->fn == SC_FN_LB) {
			snprintf(path, sizeof(path), "/run/lb-%s.csv", n->name);
			fetch(tb, i, dom, path);
		}
	}
}
