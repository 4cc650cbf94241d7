/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sys/netns.h"
#include "sys/nl.h"
#include "run/runstate.h"
#include "sys/supervise.h"
#include "backend/sff_ovs.h"

extern char **environ;

#define OVS_SCHEMA "/usr/share/openvswitch/vswitch.ovsschema"
#define OVS_CMD_TIMEOUT_MS 20000
#define OVS_PROBE_CACHE RS_DIR "/ovs-nsh-probe"
/* Above the forwarding rules: expiring frames never reach their counters. */
#define PRIO_TTL_DROP 100
#define PRIO_FWD 10

static const char *const daemons[] = { "ovs-vswitchd", "ovsdb-server" };

void sff_ovs_init(struct sff_ovs *o, const char *run_id, const char *node, const char *netns,
		  const char *ifname, const uint8_t mac[6], const char *log_dir)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->dir, sizeof(o->dir), RS_DIR "/%s/ovs-%s", run_id, node);
	snprintf(o->netns, sizeof(o->netns), "%s", netns);
	snprintf(o->ifname, sizeof(o->ifname), "%s", ifname);
	memcpy(o->mac, mac, 6);
	snprintf(o->log_dir, sizeof(o->log_dir), "%s", log_dir ? log_dir : "");
}

static void fmt_mac(char *buf, size_t len, const uint8_t m[6])
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		m[i] = v[i];
	return 0;
}

/* The last non-empty line of s, for messages. */
static const char *last_line(char *s)
{
	char *p;

	while ((p = strrchr(s, '\n')) && p[1] == '\0')
		*p = '\0';
	p = strrchr(s, '\n');
	return p ? p + 1 : s;
}

/*
 * Runs argv (inside netns via "ip netns exec" when netns is set, so the
 * daemons also see that netns's /sys), with OVS_RUNDIR etc. pointing at dir.
 * Its stdout goes to out (may be NULL); on failure err names the command and
 * quotes its last line of stderr. Daemons started with --detach close their
 * standard streams once ready, so the pipes reach EOF when the parent exits.
 */
struct cmd_env {
	char *envp[256];
	char ovs[3][160];
};

/* The caller's environment with OVS_RUNDIR, OVS_DBDIR and OVS_LOGDIR at dir
 * (ours replace the caller's: the daemons must not land in its OVS). Built
 * before fork: setenv is not safe in the child of a threaded process. */
static void cmd_env(struct cmd_env *e, const char *dir)
{
	size_t n = 0;

	for (char **v = environ; *v && n < 250; v++)
		if (!dir || (strncmp(*v, "OVS_RUNDIR=", 11) && strncmp(*v, "OVS_DBDIR=", 10) &&
			     strncmp(*v, "OVS_LOGDIR=", 11)))
			e->envp[n++] = *v;
	if (dir) {
		snprintf(e->ovs[0], sizeof(e->ovs[0]), "OVS_RUNDIR=%s", dir);
		snprintf(e->ovs[1], sizeof(e->ovs[1]), "OVS_DBDIR=%s", dir);
		snprintf(e->ovs[2], sizeof(e->ovs[2]), "OVS_LOGDIR=%s", dir);
		for (int i = 0; i < 3; i++)
			e->envp[n++] = e->ovs[i];
	}
	e->envp[n] = NULL;
}

/* In the child: argv, through "ip netns exec" when netns is set. */
static void __attribute__((noreturn)) cmd_exec(const char *netns, const char *const argv[],
						int out_fd, int err_fd, char **envp)
{
	const char *full[32];
	int k = 0, null = open("/dev/null", O_RDONLY);

	if (netns) {
		full[k++] = "ip";
		full[k++] = "netns";
		full[k++] = "exec";
		full[k++] = netns;
	}
	for (int i = 0; argv[i] && k < 31; i++)
		full[k++] = argv[i];
	full[k] = NULL;
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(err_fd, STDERR_FILENO);
	execvpe(full[0], (char *const *)full, envp);
	dprintf(STDERR_FILENO, "%s: %s\n", full[0], strerror(errno));
	_exit(127);
}

/* One read from fd[i] into buf (keeps the start once full, drains the
 * rest); closes it at EOF. */
static void cmd_read(int *fd, char *buf, size_t cap, size_t *len)
{
	char dummy[512];
	ssize_t r;

	if (*len + 1 >= cap)
		r = read(*fd, dummy, sizeof(dummy));
	else
		r = read(*fd, buf + *len, cap - 1 - *len);
	if (r <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (*len + 1 < cap) {
		*len += r;
		buf[*len] = '\0';
	}
}

/* Reads the child's stdout (into out, or nowhere) and stderr (into ebuf)
 * until both close; kills it after OVS_CMD_TIMEOUT_MS. */
static int cmd_collect(pid_t pid, int fds[2], char *out, size_t outlen, char *ebuf, size_t elen_cap,
		       const char *what, char *err, size_t errlen)
{
	char dummy[512];
	size_t olen = 0, elen = 0;
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd pf[2] = { { .fd = fds[0], .events = POLLIN },
					{ .fd = fds[1], .events = POLLIN } };
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = OVS_CMD_TIMEOUT_MS - ((now.tv_sec - t0.tv_sec) * 1000 +
					     (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(pf, 2, left) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			snprintf(err, errlen, "%s: no answer within %d s", what,
				 OVS_CMD_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		if (fds[0] >= 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			cmd_read(&fds[0], out ? out : dummy, out ? outlen : sizeof(dummy), &olen);
			if (!out)
				olen = 0;
		}
		if (fds[1] >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
			cmd_read(&fds[1], ebuf, elen_cap, &elen);
	}
	return 0;
}

/* The exit status as 0 or an error naming the command. */
static int cmd_status(int status, const char *what, char *ebuf, char *err, size_t errlen)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		/* exec failed: the child said why */
		snprintf(err, errlen, "%s", last_line(ebuf));
		return -ENOENT;
	}
	if (WIFEXITED(status))
		snprintf(err, errlen, "%s exited with status %d: %s", what, WEXITSTATUS(status),
			 last_line(ebuf));
	else
		snprintf(err, errlen, "%s killed by signal %d", what, WTERMSIG(status));
	return -EIO;
}

/*
 * Runs argv (inside netns via "ip netns exec" when netns is set, so the
 * daemons also see that netns's /sys), with OVS_RUNDIR etc. pointing at dir.
 * Its stdout goes to out (may be NULL); on failure err names the command and
 * quotes its last line of stderr. Daemons started with --detach close their
 * standard streams once ready, so the pipes reach EOF when the parent exits.
 */
static int run_cmd(const char *netns, const char *dir, char *out, size_t outlen, char *err,
		   size_t errlen, const char *const argv[])
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status, ret = -1;
	char ebuf[2048] = "";
	struct cmd_env env;
	pid_t pid;

	if (out && outlen)
		out[0] = '\0';
	cmd_env(&env, dir);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: pipe: %s", argv[0], strerror(errno));
		goto cleanup;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: fork: %s", argv[0], strerror(errno));
		goto cleanup;
	}
	if (pid == 0)
		cmd_exec(netns, argv, po[1], pe[1], env.envp);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	{
		int fds[2] = { po[0], pe[0] };

		ret = cmd_collect(pid, fds, out, outlen, ebuf, sizeof(ebuf), argv[0], err, errlen);
		po[0] = fds[0];
		pe[0] = fds[1];
	}
	if (ret < 0)
		goto cleanup;
	if (waitpid(pid, &status, 0) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: waitpid: %s", argv[0], strerror(errno));
		goto cleanup;
	}
	ret = cmd_status(status, argv[0], ebuf, err, errlen);
cleanup:
	sv_close_pipes(po, pe);
	return ret;
}

static int mkdir_p2(const char *dir, char *err, size_t errlen)
{
	char parent[sizeof(((struct sff_ovs *)0)->dir)], *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	if ((mkdir(RS_DIR, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(parent, 0700) < 0 && errno != EEXIST) || mkdir(dir, 0700) < 0) {
		int e = errno;

		snprintf(err, errlen, "creating %s: %s", dir, strerror(e));
		return -e;
	}
	return 0;
}

/* Sizes: pid and ctl 192, log 384. */
static void daemon_opts(const struct sff_ovs *o, const char *d, char *pid, char *ctl, char *log)
{
	const char *base = strrchr(o->dir, '/') + 1; /* "ovs-<node>" */

	snprintf(pid, 192, "--pidfile=%s/%s.pid", o->dir, d);
	snprintf(ctl, 192, "--unixctl=%s/%s.ctl", o->dir, d);
	if (*o->log_dir)
		snprintf(log, 384, "--log-file=%s/%s.%s.log", o->log_dir, base, d);
	else
		snprintf(log, 384, "--log-file=%s/%s.log", o->dir, d);
}

int sff_ovs_start(const struct sff_ovs *o, char *err, size_t errlen)
{
	char db[160], sock[192], pid[192], ctl[192], log[384], remote[200], conf[160];
	char msg[1024];
	int ret;

	if ((ret = mkdir_p2(o->dir, err, errlen)) < 0)
		return ret;
	snprintf(conf, sizeof(conf), "%s/conf.db", o->dir);
	snprintf(db, sizeof(db), "--db=unix:%s/db.sock", o->dir);
	snprintf(remote, sizeof(remote), "--remote=punix:%s/db.sock", o->dir);
	snprintf(sock, sizeof(sock), "unix:%s/db.sock", o->dir);
	{
		const char *argv[] = { "ovsdb-tool", "create", conf, OVS_SCHEMA, NULL };

		if ((ret = run_cmd(NULL, o->dir, NULL, 0, msg, sizeof(msg), argv)) < 0)
			goto fail;
	}
	{
		const char *argv[] = { "ovsdb-server", conf, remote, pid, ctl, log, "--detach",
				       "--no-chdir", NULL };

		daemon_opts(o, "ovsdb-server", pid, ctl, log);
		if ((ret = run_cmd(o->netns, o->dir, NULL, 0, msg, sizeof(msg), argv)) < 0)
			goto fail;
	}
	{
		const char *argv[] = { "ovs-vsctl", db, "--no-wait", "init", NULL };

		if ((ret = run_cmd(NULL, o->dir, NULL, 0, msg, sizeof(msg), argv)) < 0)
			goto fail;
	}
	{
		const char *argv[] = { "ovs-vswitchd", sock, pid, ctl, log, "--detach",
				       "--no-chdir", NULL };

		daemon_opts(o, "ovs-vswitchd", pid, ctl, log);
		if ((ret = run_cmd(o->netns, o->dir, NULL, 0, msg, sizeof(msg), argv)) < 0)
			goto fail;
	}
	{
		/* No --no-wait: returns once ovs-vswitchd has the port open. */
		const char *argv[] = { "ovs-vsctl", db, "--timeout=15", "add-br", "br0", "--",
				       "set", "bridge", "br0", "datapath_type=netdev",
				       "fail-mode=secure", "--", "add-port", "br0", o->ifname, NULL };

		if ((ret = run_cmd(NULL, o->dir, NULL, 0, msg, sizeof(msg), argv)) < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "Open vSwitch SFF in netns %s (%s): %s", o->netns, o->dir, msg);
	return ret;
}

static int ofctl(const struct sff_ovs *o, const char *cmd, const char *file, bool stats, char *out,
		 size_t outlen, char *err, size_t errlen)
{
	char target[192];
	const char *argv[8];
	int k = 0;

	snprintf(target, sizeof(target), "unix:%s/br0.mgmt", o->dir);
	argv[k++] = "ovs-ofctl";
	/* Bundles (OpenFlow 1.4) make replace-flows one transaction. */
	argv[k++] = file ? "--protocols=OpenFlow14" : "--protocols=OpenFlow13";
	if (file)
		argv[k++] = "--bundle";
	if (!stats)
		argv[k++] = "--no-stats";
	argv[k++] = cmd;
	argv[k++] = target;
	if (file)
		argv[k++] = file;
	argv[k] = NULL;
	return run_cmd(NULL, o->dir, out, outlen, err, errlen, argv);
}

int sff_ovs_write_flows(const struct sff_ovs *o, FILE *f, const struct cs_fwd_rule *rules,
			size_t n, char *err, size_t errlen)
{
	char sff[18], mac[18];

	fmt_mac(sff, sizeof(sff), o->mac);
	/* dec_nsh_ttl would send these to the (absent) controller: a drop too,
	 * but one counted on a forwarding rule. */
	fprintf(f, "priority=%d,dl_type=0x894f,nsh_ttl=0,actions=drop\n", PRIO_TTL_DROP);
	fprintf(f, "priority=%d,dl_type=0x894f,nsh_ttl=1,actions=drop\n", PRIO_TTL_DROP);
	for (size_t i = 0; i < n; i++) {
		const struct cs_fwd_rule *r = &rules[i];
		char match[160];

		if (r->val.ifindex || (r->val.flags & FWD_F_KEEP_TTL)) {
			snprintf(err, errlen, "Open vSwitch SFF %s: rule SPI %u SI %u: %s is not supported",
				 o->netns, r->key.spi, r->key.si,
				 r->val.ifindex ? "an output interface" : "keep_ttl");
			return -EOPNOTSUPP;
		}
		fmt_mac(mac, sizeof(mac), r->val.mac);
		snprintf(match, sizeof(match), "priority=%d,dl_dst=%s,dl_type=0x894f,nsh_spi=%u,nsh_si=%u",
			 PRIO_FWD, sff, r->key.spi, r->key.si);
		switch (r->val.action) {
		case FWD_NEXT_HOP:
			fprintf(f, "%s,actions=dec_nsh_ttl,mod_dl_src:%s,mod_dl_dst:%s,in_port\n", match,
				sff, mac);
			break;
		case FWD_END:
			/* The first decap() removes the outer Ethernet, the second the NSH. */
			fprintf(f, "%s,nsh_np=%d,actions=dec_nsh_ttl,decap(),decap(),in_port\n", match,
				NSH_NP_ETH);
			fprintf(f, "%s,nsh_np=%d,actions=dec_nsh_ttl,decap(),decap(),encap(ethernet),mod_dl_src:%s,mod_dl_dst:%s,in_port\n",
				match, NSH_NP_IPV4, sff, mac);
			break;
		default:
			snprintf(err, errlen, "Open vSwitch SFF %s: rule SPI %u SI %u: unknown action %u",
				 o->netns, r->key.spi, r->key.si, r->val.action);
			return -EINVAL;
		}
	}
	return 0;
}

int sff_ovs_install(const struct sff_ovs *o, const struct cs_fwd_rule *rules, size_t n, char *err,
		    size_t errlen)
{
	char path[192], msg[1024];
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/flows.txt", o->dir);
	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
		return ret;
	}
	ret = sff_ovs_write_flows(o, f, rules, n, err, errlen);
	if (fclose(f) != 0 && ret == 0) {
		ret = -errno;
		snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
	}
	if (ret < 0)
		return ret;
	if ((ret = ofctl(o, "replace-flows", path, false, NULL, 0, msg, sizeof(msg))) < 0)
		snprintf(err, errlen, "Open vSwitch SFF %s: installing %s: %s", o->netns, path, msg);
	return ret;
}

/* Value of "key=" in a dump-flows line, up to ',' or ' '; NULL if absent. */
static const char *field(const char *line, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = line; (p = strstr(p, key)); p += kl) {
		size_t n;

		if (p != line && p[-1] != ',' && p[-1] != ' ')
			continue;
		if (p[kl] != '=')
			continue;
		p += kl + 1;
		n = strcspn(p, ", \n");
		if (n >= len)
			n = len - 1;
		memcpy(buf, p, n);
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

/* One forwarding rule of a dump-flows line; 1 = a TTL drop rule, 0 = a
 * forwarding rule in *r (*np: its nsh_np, 0 if none), -EIO otherwise. */
static int parse_flow(const struct sff_ovs *o, const char *line, struct cs_fwd_rule *r, int *np)
{
	char v[64], sff[18];
	const char *act = strstr(line, "actions=");
	const char *eth_dst;
	uint8_t m[6];

	memset(r, 0, sizeof(*r));
	*np = 0;
	if (!act || !field(line, "dl_type", v, sizeof(v)) || strcmp(v, "0x894f") != 0)
		return -EIO;
	act += strlen("actions=");
	if (field(line, "nsh_ttl", v, sizeof(v)))
		return (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) && strncmp(act, "drop", 4) == 0 ?
			       1 : -EIO;
	fmt_mac(sff, sizeof(sff), o->mac);
	if (!field(line, "dl_dst", v, sizeof(v)) || strcmp(v, sff) != 0)
		return -EIO;
	if (!field(line, "nsh_spi", v, sizeof(v)))
		return -EIO;
	r->key.spi = strtoul(v, NULL, 0);
	if (!field(line, "nsh_si", v, sizeof(v)))
		return -EIO;
	r->key.si = strtoul(v, NULL, 0);
	if (field(line, "nsh_np", v, sizeof(v)))
		*np = strtol(v, NULL, 0);
	if (strncmp(act, "dec_nsh_ttl,", 12) != 0 || !strstr(act, "IN_PORT"))
		return -EIO;
	eth_dst = strstr(act, "->eth_dst");
	if (eth_dst) {
		/* "set_field:MAC->eth_dst": the MAC is the 17 bytes before. */
		const char *s = eth_dst - 17;

		if (s < act || parse_mac(s, m) < 0)
			return -EIO;
		memcpy(r->val.mac, m, 6);
	}
	if (strstr(act, "decap(),decap()")) {
		r->val.action = FWD_END;
		if ((*np == NSH_NP_ETH && eth_dst) || (*np == NSH_NP_IPV4 && !eth_dst) ||
		    (*np != NSH_NP_ETH && *np != NSH_NP_IPV4))
			return -EIO;
	} else {
		r->val.action = FWD_NEXT_HOP;
		if (*np || !eth_dst || strstr(act, "decap"))
			return -EIO;
	}
	return 0;
}

int sff_ovs_read(const struct sff_ovs *o, struct cs_fwd_rule *rules, size_t *n, char *err,
		 size_t errlen)
{
	static char dump[256 * 1024];
	char msg[1024];
	int ret;

	/* *n is the capacity until sff_ovs_parse_flows takes it. */
	if ((ret = ofctl(o, "dump-flows", NULL, false, dump, sizeof(dump), msg, sizeof(msg))) < 0) {
		*n = 0;
		snprintf(err, errlen, "Open vSwitch SFF %s: reading rules: %s", o->netns, msg);
		return ret;
	}
	return sff_ovs_parse_flows(o, dump, rules, n, err, errlen);
}

int sff_ovs_parse_flows(const struct sff_ovs *o, char *dump, struct cs_fwd_rule *rules, size_t *n,
			char *err, size_t errlen)
{
	char *save = NULL;
	size_t cap = *n, cnt = 0;
	/* Each END rule is two flows: bit 0 = Ethernet inside, bit 1 = IPv4. */
	unsigned char *halves = calloc(cap ? cap : 1, 1);
	int ttl_drops = 0, ret = -1;

	*n = 0;
	if (!halves) {
		snprintf(err, errlen, "Open vSwitch SFF %s: out of memory", o->netns);
		return -ENOMEM;
	}
	for (char *line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cs_fwd_rule r;
		size_t i;
		int np, k;

		while (*line == ' ')
			line++;
		if (!*line || strncmp(line, "OFPST_FLOW", 10) == 0)
			continue;
		if ((k = parse_flow(o, line, &r, &np)) < 0) {
			snprintf(err, errlen, "Open vSwitch SFF %s: a rule it should not have: %s",
				 o->netns, line);
			ret = -EIO;
			goto cleanup;
		}
		if (k == 1) {
			ttl_drops++;
			continue;
		}
		for (i = 0; i < cnt; i++)
			if (rules[i].key.spi == r.key.spi && rules[i].key.si == r.key.si)
				break;
		if (i == cnt) {
			if (cnt == cap) {
				snprintf(err, errlen, "Open vSwitch SFF %s: more than %zu rules",
					 o->netns, cap);
				ret = -E2BIG;
				goto cleanup;
			}
			rules[cnt++] = r;
		} else if (r.val.action != FWD_END || rules[i].val.action != FWD_END ||
			   (halves[i] & (np == NSH_NP_ETH ? 1 : 2))) {
			snprintf(err, errlen, "Open vSwitch SFF %s: two rules for SPI %u SI %u",
				 o->netns, r.key.spi, r.key.si);
			ret = -EIO;
			goto cleanup;
		}
		if (r.val.action == FWD_END) {
			halves[i] |= np == NSH_NP_ETH ? 1 : 2;
			if (np == NSH_NP_IPV4)
				memcpy(rules[i].val.mac, r.val.mac, 6);
		}
	}
	for (size_t i = 0; i < cnt; i++) {
		if (rules[i].val.action == FWD_END && halves[i] != 3) {
			snprintf(err, errlen, "Open vSwitch SFF %s: SPI %u SI %u ends the chain for one next protocol only",
				 o->netns, rules[i].key.spi, rules[i].key.si);
			ret = -EIO;
			goto cleanup;
		}
	}
	if (ttl_drops != 2) {
		snprintf(err, errlen, "Open vSwitch SFF %s: %d TTL drop rules, expected 2", o->netns,
			 ttl_drops);
		ret = -EIO;
		goto cleanup;
	}
	*n = cnt;
	ret = 0;
cleanup:
	free(halves);
	return ret;
}

int sff_ovs_forwarded(const struct sff_ovs *o, unsigned long long *count, char *err,
		      size_t errlen)
{
	static char dump[256 * 1024];
	char ctl[192], msg[1024];
	/* Datapath flows' hits reach the OpenFlow counters on a revalidator
	 * pass; wait for one. */
	const char *wait[] = { "ovs-appctl", "-t", ctl, "revalidator/wait", NULL };
	int ret;

	*count = 0;
	snprintf(ctl, sizeof(ctl), "%s/ovs-vswitchd.ctl", o->dir);
	if ((ret = run_cmd(NULL, o->dir, NULL, 0, msg, sizeof(msg), wait)) < 0 ||
	    (ret = ofctl(o, "dump-flows", NULL, true, dump, sizeof(dump), msg, sizeof(msg))) < 0) {
		snprintf(err, errlen, "Open vSwitch SFF %s: reading counters: %s", o->netns, msg);
		return ret;
	}
	*count = sff_ovs_count_forwarded(dump);
	return 0;
}

unsigned long long sff_ovs_count_forwarded(char *dump)
{
	unsigned long long count = 0;
	char *save = NULL;

	for (char *line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char v[32];

		if (!strstr(line, "nsh_spi=") || !field(line, "n_packets", v, sizeof(v)))
			continue;
		count += strtoull(v, NULL, 10);
	}
	return count;
}

/* Detached daemons are reaped by init, or by a subreaper that may be slow:
 * a zombie has stopped running. */
static bool proc_running(pid_t pid)
{
	char path[64], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state && state != 'Z' && state != 'X';
}

/* Signals a daemon of ours only: its command line must name our dir. */
static int stop_daemon(const char *dir, const char *name, void (*log)(const char *, void *),
		       void *arg)
{
	char path[300], cmd[4096], buf[600];
	ssize_t len;
	pid_t pid;
	FILE *f;
	int fd;
	bool ours = false;

	snprintf(path, sizeof(path), "%s/%s.pid", dir, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone already */
	len = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	for (ssize_t off = 0; len > 0 && off < len; off += strlen(cmd + off) + 1) {
		cmd[len] = '\0';
		snprintf(path, sizeof(path), "--pidfile=%s/%s.pid", dir, name);
		if (strcmp(cmd + off, path) == 0)
			ours = true;
	}
	if (!ours)
		return 0;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200 && proc_running(pid); i++)
		usleep(10000);
	if (proc_running(pid)) {
		kill(pid, SIGKILL);
		for (int i = 0; i < 100 && proc_running(pid); i++)
			usleep(10000);
	}
	if (log) {
		snprintf(buf, sizeof(buf), "stopped %s (pid %d) of %s", name, (int)pid, dir);
		log(buf, arg);
	}
	return proc_running(pid) ? -1 : 0;
}

static int remove_dir(const char *dir, void (*log)(const char *, void *), void *arg)
{
	struct dirent *de;
	char path[600];
	int failures = 0;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : 1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT)
			failures++;
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT) {
		if (log) {
			snprintf(path, sizeof(path), "removing %s: %s", dir, strerror(errno));
			log(path, arg);
		}
		return failures + 1;
	}
	if (log) {
		snprintf(path, sizeof(path), "removed %s", dir);
		log(path, arg);
	}
	return failures;
}

static int stop_dir(const char *dir, void (*log)(const char *, void *), void *arg)
{
	int failures = 0;

	for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
		if (stop_daemon(dir, daemons[i], log, arg) < 0)
			failures++;
	return failures + remove_dir(dir, log, arg);
}

void sff_ovs_stop(const struct sff_ovs *o)
{
	stop_dir(o->dir, NULL, NULL);
}

int sff_ovs_teardown(const char *prefix, void (*log)(const char *what, void *arg), void *arg)
{
	char id[RS_ID_LEN + 1], run_dir[64], dir[400];
	struct dirent *de;
	int failures = 0;
	DIR *d;

	/* Only "<id>-": a prefix naming anything else has no directory here. */
	if (strlen(prefix) != RS_ID_LEN + 1 || prefix[RS_ID_LEN] != '-' || strchr(prefix, '/'))
		return 0;
	snprintf(id, sizeof(id), "%.*s", RS_ID_LEN, prefix);
	snprintf(run_dir, sizeof(run_dir), RS_DIR "/%s", id);
	d = opendir(run_dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		/* Only the daemons' directories; `up` also keeps their logs here. */
		if (strncmp(de->d_name, "ovs-", 4) != 0 || de->d_type != DT_DIR)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", run_dir, de->d_name);
		failures += stop_dir(dir, log, arg);
	}
	closedir(d);
	/* Other backends may keep files there too. */
	if (rmdir(run_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		failures++;
	return failures;
}

/* ---- availability probe ------------------------------------------------ */

struct probe_sock {
	const char *ifname;
	int fd;
};

static int open_packet_sock(void *arg)
{
	struct probe_sock *ps = arg;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int one = 1;

	ps->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (ps->fd < 0)
		return -errno;
	sll.sll_ifindex = if_nametoindex(ps->ifname);
	if (!sll.sll_ifindex || bind(ps->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(ps->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    setsockopt(ps->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = errno ? errno : ENODEV;

		close(ps->fd);
		ps->fd = -1;
		return -e;
	}
	return 0;
}

/* Sends tx and waits up to ~2 s for a frame of ethertype want back. */
static int exchange(int fd, const uint8_t *tx, size_t txlen, uint16_t want, uint8_t *rx,
		    size_t rxcap)
{
	if (send(fd, tx, txlen, 0) != (ssize_t)txlen)
		return -errno;
	for (int i = 0; i < 10; i++) {
		ssize_t r = recv(fd, rx, rxcap, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0)
			return -errno;
		if (r >= 14 && rx[12] == want >> 8 && rx[13] == (want & 0xff))
			return (int)r;
	}
	return -ETIMEDOUT;
}

static int probe_frames(int fd, const uint8_t sff[6], const uint8_t hop[6], const uint8_t dst[6],
			char *why, size_t whylen)
{
	static const uint8_t src[6] = { 0x02, 0xcb, 0xff, 0, 0, 1 };
	uint8_t tx[128], rx[2048], inner[42];
	size_t nsh_off = 14, in_off = 22, len;
	int r;

	/* Inner frame: Ethernet + IPv4 + ICMP echo, contents irrelevant. */
	memset(inner, 0, sizeof(inner));
	memcpy(inner, dst, 6);
	memcpy(inner + 6, src, 6);
	inner[12] = 0x08;
	inner[14] = 0x45;
	inner[17] = 28;
	inner[22] = 64;
	inner[23] = 1;
	inner[34] = 8;
	memcpy(tx, sff, 6);
	memcpy(tx + 6, src, 6);
	tx[12] = 0x89;
	tx[13] = 0x4f;
	/* NSH base: ver 0, TTL 63, length 2 words, MD type 2, next proto Ethernet. */
	tx[nsh_off + 0] = (63 >> 2) & 0x0f;
	tx[nsh_off + 1] = ((63 & 3) << 6) | 2;
	tx[nsh_off + 2] = 2;
	tx[nsh_off + 3] = NSH_NP_ETH;
	tx[nsh_off + 4] = 0;
	tx[nsh_off + 5] = 0;
	tx[nsh_off + 6] = 1; /* SPI 1 */
	tx[nsh_off + 7] = 255;
	memcpy(tx + in_off, inner, sizeof(inner));
	len = in_off + sizeof(inner);

	r = exchange(fd, tx, len, 0x894f, rx, sizeof(rx));
	if (r < 0) {
		snprintf(why, whylen, "an NSH frame for SPI 1 SI 255 did not come back (%s)",
			 strerror(-r));
		return -EOPNOTSUPP;
	}
	if ((size_t)r < len || memcmp(rx, hop, 6) != 0 || memcmp(rx + 6, sff, 6) != 0 ||
	    ((rx[nsh_off] & 0x0f) << 2 | rx[nsh_off + 1] >> 6) != 62 || rx[nsh_off + 7] != 255 ||
	    memcmp(rx + in_off, inner, sizeof(inner)) != 0) {
		snprintf(why, whylen, "the NSH frame for SPI 1 SI 255 came back wrong (outer MACs, TTL 62 or inner frame differ)");
		return -EOPNOTSUPP;
	}
	tx[nsh_off + 7] = 254;
	r = exchange(fd, tx, len, 0x0800, rx, sizeof(rx));
	if (r < 0) {
		snprintf(why, whylen, "the inner frame of SPI 1 SI 254 (end of chain) did not come out (%s)",
			 strerror(-r));
		return -EOPNOTSUPP;
	}
	if ((size_t)r < sizeof(inner) || memcmp(rx, inner, sizeof(inner)) != 0) {
		snprintf(why, whylen, "the inner frame of SPI 1 SI 254 (end of chain) came out changed");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int run_probe(const char *run_id, char *why, size_t whylen)
{
	static const uint8_t sff[6] = { 0x02, 0xcb, 0xff, 0, 0, 2 };
	static const uint8_t hop[6] = { 0x02, 0xcb, 0xff, 0, 0, 3 };
	static const uint8_t dst[6] = { 0x02, 0xcb, 0xff, 0, 0, 4 };
	struct cs_fwd_rule rules[2] = {
		{ .key = { 1, 255 }, .val = { .action = FWD_NEXT_HOP } },
		{ .key = { 1, 254 }, .val = { .action = FWD_END } },
	};
	struct probe_sock ps = { .ifname = "p1", .fd = -1 };
	char ns[64], msg[1024];
	struct sff_ovs o;
	int ret;

	memcpy(rules[0].val.mac, hop, 6);
	memcpy(rules[1].val.mac, dst, 6);
	snprintf(ns, sizeof(ns), "%s-ovsprobe", run_id);
	sff_ovs_init(&o, run_id, "probe", ns, "p0", sff, NULL);
	if ((ret = netns_add(ns, msg, sizeof(msg))) < 0 ||
	    (ret = netns_sysctl_write(ns, "net/ipv6/conf/all/disable_ipv6", "1", msg, sizeof(msg))) < 0 ||
	    (ret = netns_sysctl_write(ns, "net/ipv6/conf/default/disable_ipv6", "1", msg, sizeof(msg))) < 0 ||
	    (ret = nl_veth_add(ns, "p0", "p1", ns, msg, sizeof(msg))) < 0 ||
	    (ret = nl_link_set_up(ns, "p0", true, msg, sizeof(msg))) < 0 ||
	    (ret = nl_link_set_up(ns, "p1", true, msg, sizeof(msg))) < 0 ||
	    (ret = sff_ovs_start(&o, msg, sizeof(msg))) < 0 ||
	    (ret = sff_ovs_install(&o, rules, 2, msg, sizeof(msg))) < 0) {
		snprintf(why, whylen, "%s", msg);
		goto cleanup;
	}
	if ((ret = netns_run(ns, open_packet_sock, &ps, msg, sizeof(msg))) < 0) {
		snprintf(why, whylen, "packet socket on p1 in netns %s: %s", ns,
			 ps.fd < 0 && ret != -1 ? strerror(-ret) : msg);
		goto cleanup;
	}
	ret = probe_frames(ps.fd, sff, hop, dst, why, whylen);
cleanup:
	if (ps.fd >= 0)
		close(ps.fd);
	sff_ovs_stop(&o);
	{
		char run_dir[64];

		snprintf(run_dir, sizeof(run_dir), RS_DIR "/%s", run_id);
		rmdir(run_dir);
	}
	if (netns_exists(ns))
		netns_del(ns, msg, sizeof(msg));
	return ret < 0 ? -EOPNOTSUPP : 0;
}

int sff_ovs_available(const char *run_id, char *err, size_t errlen)
{
	static const char what[] = "architecture ovs-nsh: Open vSwitch userspace datapath (netdev)";
	const char *argv[] = { "ovs-vswitchd", "--version", NULL };
	char version[256], cached[1024], why[900];
	char *nl;
	FILE *f;
	int ret;

	if ((ret = run_cmd(NULL, NULL, version, sizeof(version), why, sizeof(why), argv)) < 0) {
		if (ret == -ENOENT)
			snprintf(err, errlen, "%s: Open vSwitch is not installed (%s; apt-get install openvswitch-switch)",
				 what, why);
		else
			snprintf(err, errlen, "%s: %s", what, why);
		return -EOPNOTSUPP;
	}
	if ((nl = strchr(version, '\n')))
		*nl = '\0';
	f = fopen(OVS_PROBE_CACHE, "r");
	if (f) {
		bool hit = fgets(cached, sizeof(cached), f) && strncmp(cached, version, strlen(version)) == 0 &&
			   cached[strlen(version)] == '\n' && fgets(cached, sizeof(cached), f);

		fclose(f);
		if (hit) {
			if ((nl = strchr(cached, '\n')))
				*nl = '\0';
			if (strcmp(cached, "ok") == 0)
				return 0;
			snprintf(err, errlen, "%s, %s: %s (probed earlier; remove %s to probe again)",
				 what, version, cached, OVS_PROBE_CACHE);
			return -EOPNOTSUPP;
		}
	}
	ret = run_probe(run_id, why, sizeof(why));
	f = fopen(OVS_PROBE_CACHE, "w");
	if (f) {
		fprintf(f, "%s\n%s\n", version, ret == 0 ? "ok" : why);
		fclose(f);
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s, %s: %s", what, version, why);
		return -EOPNOTSUPP;
	}
	return 0;
}
