/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Remote hosts over ssh, and the hostnet agent: backend/remote.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/remote.h"
#include "cadeia_stage.h"
#include "sys/nl.h"
#include "sys/ownmark.h"
#include "sys/supervise.h"

#define REMOTE_TIMEOUT_MS 30000

/* Characters that mean nothing to a POSIX shell: what sshd's `sh -c` on the
 * remote side will pass on unchanged. */
static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-:,@/+=", *s)))
			return false;
	return true;
}

int remote_target_parse(const char *uri, struct remote_target *t, char *err, size_t errlen)
{
	const char *p = strstr(uri, "+ssh://"), *at, *slash, *colon;
	char hostport[300];

	memset(t, 0, sizeof(*t));
	if (!p) {
		snprintf(err, errlen, "URI %s: not a +ssh:// URI, no remote host to reach", uri);
		return -EINVAL;
	}
	p += strlen("+ssh://");
	slash = strchr(p, '/');
	if (!slash || slash == p || (size_t)(slash - p) >= sizeof(hostport)) {
		snprintf(err, errlen, "URI %s: no host", uri);
		return -EINVAL;
	}
	snprintf(hostport, sizeof(hostport), "%.*s", (int)(slash - p), p);
	at = strchr(hostport, '@');
	snprintf(t->user, sizeof(t->user), "%.*s", at ? (int)(at - hostport) : 4,
		 at ? hostport : "root");
	colon = strrchr(at ? at + 1 : hostport, ':');
	snprintf(t->host, sizeof(t->host), "%.*s",
		 colon ? (int)(colon - (at ? at + 1 : hostport)) : (int)strlen(at ? at + 1 : hostport),
		 at ? at + 1 : hostport);
	if (colon)
		snprintf(t->port, sizeof(t->port), "%s", colon + 1);
	if (!shell_safe(t->user) || !shell_safe(t->host) || (*t->port && !shell_safe(t->port))) {
		snprintf(err, errlen, "URI %s: user, host or port has characters ssh must not see", uri);
		return -EINVAL;
	}
	return 0;
}

/* One read from fd into buf (the first len - 1 bytes are kept, the rest
 * drained); false at end of file. */
static bool take(int fd, char *buf, size_t len, size_t *n)
{
	char tmp[4096];
	ssize_t r = read(fd, tmp, sizeof(tmp));
	size_t room = len > *n + 1 ? len - *n - 1 : 0, k;

	if (r <= 0)
		return r < 0 && errno == EINTR;
	k = (size_t)r < room ? (size_t)r : room;
	memcpy(buf + *n, tmp, k);
	*n += k;
	if (len)
		buf[*n] = '\0';
	return true;
}

/* Both pipes at once (either may fill while the other is read) until both
 * end, or the deadline passes: false then. */
static bool collect(int out_fd, char *out, size_t outlen, size_t *no, int err_fd, char *ebuf,
		    size_t elen, size_t *ne, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };
	int left = timeout_ms;

	if (outlen)
		out[0] = '\0';
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int r = poll(p, 2, left > 1000 ? 1000 : left);

		if (r < 0 && errno != EINTR)
			return false;
		if (r == 0 && (left -= 1000) <= 0)
			return false;
		if (p[0].revents && !take(out_fd, out, outlen, no))
			p[0].fd = -1;
		if (p[1].revents && !take(err_fd, ebuf, elen, ne))
			p[1].fd = -1;
	}
	return true;
}

/* ssh's argument vector for `bench args...` on t, checked for what ssh must not see. */
static int ssh_argv(const struct remote_target *t, const char *bench, const char *const args[],
		    const char **argv, char *dest, size_t destlen, char *err, size_t errlen)
{
	const char *key = getenv(REMOTE_KEY_ENV), *conf = getenv(REMOTE_CONFIG_ENV);
	int n = 0;

	snprintf(dest, destlen, "%s@%s", t->user, t->host);
	argv[n++] = "ssh";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=10";
	if (conf) {
		argv[n++] = "-F";
		argv[n++] = conf;
	}
	if (key) {
		argv[n++] = "-i";
		argv[n++] = key;
		argv[n++] = "-o";
		argv[n++] = "IdentitiesOnly=yes";
	}
	if (*t->port) {
		argv[n++] = "-p";
		argv[n++] = t->port;
	}
	argv[n++] = dest;
	argv[n++] = "--";
	argv[n++] = bench;
	for (int i = 0; args[i]; i++) {
		if (n >= 62 || !shell_safe(args[i])) {
			snprintf(err, errlen, "%s: argument '%s' of %s cannot go over ssh", t->host,
				 args[i], bench);
			return -EINVAL;
		}
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	if (!shell_safe(bench)) {
		snprintf(err, errlen, "%s: remote command '%s' has characters ssh must not see", t->host,
			 bench);
		return -EINVAL;
	}
	return 0;
}

int remote_bench(const struct remote_target *t, const char *const args[], char *out, size_t outlen,
		 char *err, size_t errlen)
{
	const char *bench = getenv(REMOTE_BENCH_ENV) ? getenv(REMOTE_BENCH_ENV) : REMOTE_BENCH_DEFAULT;
	const char *argv[64];
	char dest[330], ebuf[1024] = "", obuf[4096] = "";
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, st = 0, ret = -EIO;
	size_t no = 0, ne = 0;
	pid_t pid;

	if (errlen)
		*err = '\0';
	if ((ret = ssh_argv(t, bench, args, argv, dest, sizeof(dest), err, errlen)) < 0)
		return ret;
	ret = -EIO;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: pipe: %s", t->host, strerror(errno));
		goto cleanup;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "%s: fork: %s", t->host, strerror(errno));
		goto cleanup;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(127);
		execvp("ssh", (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	/* A host that stops answering must not hang the run: ssh goes after
	 * REMOTE_TIMEOUT_MS. */
	if (!collect(po[0], out ? out : obuf, out ? outlen : sizeof(obuf), &no, pe[0], ebuf,
		     sizeof(ebuf), &ne, REMOTE_TIMEOUT_MS)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		snprintf(err, errlen, "%s: ssh %s %s %s: no answer within %d s", t->host, dest, bench,
			 args[0], REMOTE_TIMEOUT_MS / 1000);
		ret = -ETIMEDOUT;
		goto cleanup;
	}
	if (waitpid(pid, &st, 0) < 0) {
		snprintf(err, errlen, "%s: waiting for ssh: %s", t->host, strerror(errno));
		goto cleanup;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		ret = 0;
	} else {
		char *nl;

		while (ne && (ebuf[ne - 1] == '\n'))
			ebuf[--ne] = '\0';
		nl = strrchr(ebuf, '\n');
		snprintf(err, errlen, "%s: ssh %s %s %s: %s %d%s%s", t->host, dest, bench, args[0],
			 WIFEXITED(st) ? "exit status" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), *ebuf ? ": " : "",
			 nl ? nl + 1 : ebuf);
	}
cleanup:
	sv_close_pipes(po, pe);
	return ret;
}

int remote_check_version(const struct remote_target *t, char *err, size_t errlen)
{
	const char *args[] = { "hostnet", "version", NULL };
	char out[256];
	int ret = remote_bench(t, args, out, sizeof(out), err, errlen);

	if (ret < 0)
		return ret;
	out[strcspn(out, "\n")] = '\0';
	if (strcmp(out, HOSTNET_VERSION) != 0) {
		snprintf(err, errlen, "%s: the remote cadeia-bench says '%s', this one '%s': install the same build there",
			 t->host, out, HOSTNET_VERSION);
		return -EPROTO;
	}
	return 0;
}

/* ---- the agent ------------------------------------------------------------ */

/* "cadeia-bench:<id>:<32 hex>": the prefix "<id>-" every name must have. */
static int mark_prefix(const char *mark, char *prefix, size_t len)
{
	const char *id = mark + strlen("cadeia-bench:");

	if (strncmp(mark, "cadeia-bench:cb", 15) != 0 || strlen(mark) != 13 + 6 + 1 + 32 ||
	    id[6] != ':' || strspn(id + 2, "0123456789abcdef") != 4 ||
	    strspn(id + 7, "0123456789abcdef") != 32)
		return -EINVAL;
	snprintf(prefix, len, "%.6s-", id);
	return 0;
}

static int agent_up(int argc, char **argv, char *err, size_t errlen)
{
	struct nl_bridge_opts bo = { .ageing_time_cs = 30000 };
	struct nl_brport_flags quiet = { 0 };
	struct nl_vxlan_opts vo = { .port = 4789 };
	char prefix[16], vx[16];
	const char *bridge;
	unsigned mtu;
	int ret;

	if (argc < 6)
		return -EINVAL;
	if (mark_prefix(argv[1], prefix, sizeof(prefix)) < 0) {
		snprintf(err, errlen, "hostnet up: '%s' is not a run's ownership mark", argv[1]);
		return -EINVAL;
	}
	bridge = argv[2];
	mtu = strtoul(argv[3], NULL, 10);
	vo.vni = strtoul(argv[4], NULL, 10);
	snprintf(vx, sizeof(vx), "%s.vx", prefix); /* no node name has a dot */
	if (strncmp(bridge, prefix, strlen(prefix)) != 0 || mtu < 1280 || mtu > 65535 || !vo.vni ||
	    vo.vni > 0xffffff || inet_pton(AF_INET, argv[5], &vo.local) != 1) {
		snprintf(err, errlen, "hostnet up: bridge %s (must start %s), MTU %s, VNI %s or VTEP %s out of range",
			 bridge, prefix, argv[3], argv[4], argv[5]);
		return -EINVAL;
	}
	/* Everything this agent creates carries the run's mark, as at home. */
	ownmark_set(argv[1], NULL);
	if ((ret = nl_bridge_add(NULL, bridge, &bo, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(NULL, bridge, mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(NULL, bridge, true, err, errlen)) < 0 ||
	    (ret = nl_vxlan_add(NULL, vx, &vo, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(NULL, vx, mtu, err, errlen)) < 0 ||
	    (ret = nl_link_set_master(NULL, vx, bridge, err, errlen)) < 0 ||
	    (ret = nl_brport_set_flags(NULL, vx, &quiet, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(NULL, vx, true, err, errlen)) < 0)
		return ret;
	for (int i = 6; i < argc; i++) {
		char mac_s[32], *at = strchr(argv[i], '@');
		uint8_t mac[6];
		struct in_addr vtep;

		if (!at || at - argv[i] >= (int)sizeof(mac_s)) {
			snprintf(err, errlen, "hostnet up: '%s' is not MAC@VTEP", argv[i]);
			return -EINVAL;
		}
		snprintf(mac_s, sizeof(mac_s), "%.*s", (int)(at - argv[i]), argv[i]);
		if (cs_mac_parse(mac_s, mac) < 0 || inet_pton(AF_INET, at + 1, &vtep) != 1) {
			snprintf(err, errlen, "hostnet up: '%s' is not MAC@VTEP", argv[i]);
			return -EINVAL;
		}
		if ((ret = nl_fdb_add(NULL, vx, mac, err, errlen)) < 0 ||
		    (ret = nl_vxlan_fdb_add(NULL, vx, mac, vtep, err, errlen)) < 0)
			return ret;
	}
	return 0;
}

/* A guest's tap on the run's bridge: learning and flooding off, a static FDB
 * entry for the guest's MAC (what virt/ does for local guests). */
static int agent_port(int argc, char **argv, char *err, size_t errlen)
{
	struct nl_brport_flags quiet = { 0 };
	char prefix[16];
	uint8_t mac[6];
	int ret;

	if (argc != 4)
		return -EINVAL;
	if (mark_prefix(argv[1], prefix, sizeof(prefix)) < 0 ||
	    strncmp(argv[2], prefix, strlen(prefix)) != 0 || cs_mac_parse(argv[3], mac) < 0) {
		snprintf(err, errlen, "hostnet port: mark %s, tap %s (must start with the run's prefix) or MAC %s not valid",
			 argv[1], argv[2], argv[3]);
		return -EINVAL;
	}
	if ((ret = nl_brport_set_flags(NULL, argv[2], &quiet, err, errlen)) < 0 ||
	    (ret = nl_fdb_add(NULL, argv[2], mac, err, errlen)) < 0)
		return ret;
	return 0;
}

static int agent_down(const char *mark, char *err, size_t errlen)
{
	struct nl_link *links = NULL;
	char prefix[16];
	size_t n = 0;
	int ret, failures = 0;

	if (mark_prefix(mark, prefix, sizeof(prefix)) < 0) {
		snprintf(err, errlen, "hostnet down: '%s' is not a run's ownership mark", mark);
		return -EINVAL;
	}
	if ((ret = nl_link_list(NULL, prefix, &links, &n, err, errlen)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(links[i].alias, mark) != 0)
			continue;
		if (nl_link_del(NULL, links[i].name, err, errlen) < 0 && errno != ENODEV)
			failures++;
		else
			printf("deleted link %s\n", links[i].name);
	}
	free(links);
	return failures ? -EIO : 0;
}

int hostnet_main(int argc, char **argv)
{
	char err[1024] = "";
	int ret = -EINVAL;

	if (argc >= 2 && strcmp(argv[1], "version") == 0) {
		printf("%s\n", HOSTNET_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "up") == 0)
		ret = agent_up(argc - 1, argv + 1, err, sizeof(err));
	else if (argc >= 2 && strcmp(argv[1], "port") == 0)
		ret = agent_port(argc - 1, argv + 1, err, sizeof(err));
	else if (argc == 3 && strcmp(argv[1], "down") == 0)
		ret = agent_down(argv[2], err, sizeof(err));
	if (ret == -EINVAL && !*err) {
		fprintf(stderr, "usage: cadeia-bench hostnet version\n"
				"       cadeia-bench hostnet up MARK BRIDGE MTU VNI LOCAL [MAC@VTEP...]\n"
				"       cadeia-bench hostnet port MARK TAP MAC\n"
				"       cadeia-bench hostnet down MARK\n");
		return 2;
	}
	if (ret < 0) {
		fprintf(stderr, "cadeia-bench: %s\n", err);
		return 1;
	}
	return 0;
}
