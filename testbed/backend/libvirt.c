/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The libvirt backend: every node a QEMU guest booted from the project's
 * image (images/), on one Linux bridge, as in the paper. The host talks to
 * guests only through qemu-guest-agent: stages are attached, rules installed
 * and counters read with the static cadeia-stage inside the guest, and the
 * prober runs in the source guest (cadeia-guest probe), sending its raw
 * per-probe RTTs back.
 *
 * Star architectures add an SFF guest and a proxy guest per NSH-unaware SF,
 * as the netns backend does. Each proxy has a second NIC (eth1) on a small
 * bridge "<id>-p<N>" shared only with its SF's NIC: that SF is not on the
 * main bridge. The ovs-nsh SFF is Open vSwitch in its guest, on the
 * userspace datapath as on netns (the kernel datapath cannot set NSH
 * fields: dec_nsh_ttl fails there); its flows are sff_ovs.h's, pushed
 * through the agent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/arch.h"
#include "backend/backend.h"
#include "backend/fn_conf.h"
#include "backend/lv_fn.h"
#include "backend/lv_hosts.h"
#include "sys/netns.h"
#include "sys/nl.h"
#include "backend/sff_ovs.h"
#include "virt/virt.h"

#define LV_BOOT_PARALLEL 2      /* 2 cores: concurrent TCG boots distort everything */
#define LV_BOOT_TIMEOUT_MS 90000
#define LV_EXEC_TIMEOUT_MS 20000
#define LV_RULES_PATH "/run/cadeia-rules.json"
#define LV_FLOWS_PATH "/run/cadeia-flows.txt"

struct lv {
	virConnectPtr conn;
	virDomainPtr dom[SC_MAX_NODES];
	double boot_s[SC_MAX_NODES];
	char console[SC_MAX_NODES][1200];
	char kernel[PATH_MAX], initrd[PATH_MAX];
	/* Proxies: eth1's tap and the bridge it shares with the SF. */
	char tap2[SC_MAX_NODES][16], pair_br[SC_MAX_NODES][16];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct lv *lv_of(struct testbed *tb)
{
	return tb->priv;
}

static virDomainPtr lv_dom(struct testbed *tb, int i);

static const char *guest_fn(const struct scenario *sc, int i)
{
	const struct sc_node *n = &sc->nodes[i];

	switch (n->role) {
	case SC_ROLE_SRC: return "none";
	case SC_ROLE_DEST: return "none";
	case SC_ROLE_SFF: return arch_ovs_sff(sc, i) ? "ovs-nsh" : "none";
	case SC_ROLE_PROXY: return "none";
	default: break;
	}
	switch (n->fn) {
	case SC_FN_OVS: return "ovs";
	case SC_FN_KWIRE: return "kwire";
	case SC_FN_NSH_AWARE: return "nsh-aware";
	case SC_FN_EXTERNAL: return "none";
	/* started by the host with their settings (backend/lv_fn.c) */
	case SC_FN_FIREWALL: return "firewall";
	case SC_FN_NAT: return "nat";
	case SC_FN_LB: return "lb";
	case SC_FN_MONITOR: return "monitor";
	default: return "wire";
	}
}

static int lv_supports(const struct scenario *sc, char *err, size_t errlen)
{
	/* Several hosts (backend/lv_hosts.h): each guest's tap joins its host's
	 * bridge; a star's proxy/SF pair bridges do not travel yet. */
	for (int a = 0; sc->hosts.n && a < sc->n_archs; a++)
		if (sc->archs[a] != SC_ARCH_CADEIA_ABERTA) {
			snprintf(err, errlen,
				 "%s: \"hosts\" on the libvirt backend: architecture %s is not placed on several hosts yet (cadeia-aberta is)",
				 sc->path, sc_arch_name(sc->archs[a]));
			return -EOPNOTSUPP;
		}
	if (sc->load.n_sizes > 0) {
		snprintf(err, errlen, "%s: the load experiment runs on the netns backend only", sc->path);
		return -EOPNOTSUPP;
	}
	for (int i = 0; i < sc->n_nodes; i++)
		if (sc->nodes[i].fn == SC_FN_DELAY || sc->nodes[i].fn == SC_FN_FLOOR) {
			snprintf(err, errlen, "%s: node %s: function %s runs on the netns backend only",
				 sc->path, sc->nodes[i].name, sc_fn_name(sc->nodes[i].fn));
			return -EOPNOTSUPP;
		}
	return 0;
}

/* Runs argv in node i's guest; non-zero exit is an error naming the node. */
static int guest_run(struct testbed *tb, int i, const char *const argv[], char **out,
		     char *err, size_t errlen)
{
	return lvfn_exec(tb, i, lv_dom, argv, out, LV_EXEC_TIMEOUT_MS, err, errlen);
}

/* build/cadeia-bench lives in build/: the image is build/image/. */
static int find_image(struct lv *lv, char *err, size_t errlen)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0) {
		snprintf(err, errlen, "cannot find the build directory: %s", strerror(errno));
		return -errno;
	}
	exe[n] = '\0';
	snprintf(lv->kernel, sizeof(lv->kernel), "%s/image/vmlinuz", dirname(exe));
	snprintf(lv->initrd, sizeof(lv->initrd), "%s/image/initrd.img", exe);
	if (access(lv->kernel, R_OK) < 0 || access(lv->initrd, R_OK) < 0) {
		snprintf(err, errlen, "guest image %s is missing: run `make image` first", lv->kernel);
		return -ENOENT;
	}
	/* The guests run the stages built into the image: a loader rebuilt
	 * since would measure code the host no longer has. inputs.txt records
	 * the digests the image was built from. */
	for (const char *const *b = (const char *const[]){ "cadeia-stage", "cadeia-guest", NULL }; *b;
	     b++) {
		char cmd[PATH_MAX + 64], want[80] = "", line[256], path[PATH_MAX + 32];
		FILE *f;

		snprintf(path, sizeof(path), "%s/image/inputs.txt", exe);
		if (!(f = fopen(path, "r")))
			break; /* an image without a record: nothing to compare */
		while (fgets(line, sizeof(line), f)) {
			char sha[80], name[64];

			if (sscanf(line, "file %79s %63s", sha, name) == 2 && strcmp(name, *b) == 0)
				snprintf(want, sizeof(want), "%s", sha);
		}
		fclose(f);
		snprintf(cmd, sizeof(cmd), "sha256sum '%s/%s' 2>/dev/null", exe, *b);
		if (*want && (f = popen(cmd, "r"))) {
			bool stale = fgets(line, sizeof(line), f) && strncmp(line, want, strlen(want)) != 0;

			pclose(f);
			if (stale) {
				snprintf(err, errlen, "guest image %s was built from another %s/%s: run `make image`",
					 lv->initrd, exe, *b);
				return -ESTALE;
			}
		}
	}
	return 0;
}

static int add_bridge(const char *name, unsigned mtu, char *err, size_t errlen)
{
	struct nl_bridge_opts bo = { .forward_delay_cs = 0, .ageing_time_cs = 30000 };
	int ret;

	if ((ret = nl_bridge_add(NULL, name, &bo, err, errlen)) < 0 ||
	    (ret = nl_link_set_mtu(NULL, name, mtu, err, errlen)) < 0 ||
	    (ret = netns_if_no_ipv6(NULL, name, err, errlen)) < 0 ||
	    (ret = nl_link_set_up(NULL, name, true, err, errlen)) < 0)
		return ret;
	return 0;
}

/* A proxy's eth1: its own MAC with 01 in the fourth byte, nobody else's. */
static void proxy_eth1_mac(const struct sc_node *n, uint8_t mac[6])
{
	memcpy(mac, n->mac, 6);
	mac[3] = 0x01;
}

/* "--stages" for a stage mask: "dec,enc,fwd". */
static void stage_list(unsigned mask, char *buf, size_t len)
{
	*buf = '\0';
	for (unsigned bit = 1; bit <= CS_STAGE_KWIRE; bit <<= 1)
		if (mask & bit)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", *buf ? "," : "",
				 cs_stage_name(bit));
}

/* Node i's NICs before its stages: the frames a proxy hands its SF are
 * addressed to others, which QEMU's virtio-net filters unless the NIC is
 * promiscuous; a proxy's eth1 must be the NIC on the pair bridge, and
 * guests name NICs in probe order, which nothing here controls but the PCI
 * slots. */
static int lv_prepare(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	const char *promisc[] = { "/bin/busybox", "ip", "link", "set", n->ifname, "promisc", "on",
				  NULL };
	char path[64], want[18], *mac = NULL;
	const char *cat[] = { "/bin/busybox", "cat", path, NULL };
	uint8_t m[6];
	int ret;

	if (arch_behind_proxy(n))
		return guest_run(tb, i, promisc, NULL, err, errlen);
	if (n->role != SC_ROLE_PROXY)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", n->peer_ifname);
	if ((ret = guest_run(tb, i, cat, &mac, err, errlen)) < 0)
		return ret;
	proxy_eth1_mac(n, m);
	cs_mac_format(m, want);
	mac[strcspn(mac, "\n")] = '\0';
	if (strcasecmp(mac, want) != 0) {
		snprintf(err, errlen, "guest %s: %s has MAC %s, not %s (the pair bridge's NIC)",
			 tb->name[i], n->peer_ifname, mac, want);
		ret = -EIO;
	}
	free(mac);
	return ret;
}

/* cadeia-stage attach in the guest. */
static int lv_attach(struct testbed *tb, int i, const struct node_attach *a, char *err,
		     size_t errlen)
{
	char stages[64];
	const char *argv[16] = { "/usr/bin/cadeia-stage", "attach", "--node", a->pin, "--dev",
				 a->dev, "--stages", stages };
	int k = 8;

	stage_list(a->stages, stages, sizeof(stages));
	if (a->stages & CS_STAGE_KWIRE) {
		argv[k++] = "--kwire-mode";
		argv[k++] = a->kwire_mode == KWIRE_MODE_NSH_HOST ? "nsh-host" : "otherhost";
		if (a->kwire_peer) {
			argv[k++] = "--kwire-peer";
			argv[k++] = a->kwire_peer;
		}
	}
	argv[k] = NULL;
	return guest_run(tb, i, argv, NULL, err, errlen);
}

/* cadeia-guest neigh IP MAC ... */
static int lv_neigh(struct testbed *tb, int i, const struct node_neigh *nb, size_t n, char *err,
		    size_t errlen)
{
	const char *argv[2 + 2 * SC_MAX_NODES + 1] = { "/usr/bin/cadeia-guest", "neigh" };
	char ips[SC_MAX_NODES][20], macs[SC_MAX_NODES][18];
	int k = 2;

	for (size_t j = 0; j < n && j < SC_MAX_NODES; j++) {
		struct in_addr a = { .s_addr = nb[j].ip };

		snprintf(ips[j], sizeof(ips[j]), "%s", inet_ntoa(a));
		cs_mac_format(nb[j].mac, macs[j]);
		argv[k++] = ips[j];
		argv[k++] = macs[j];
	}
	argv[k] = NULL;
	return guest_run(tb, i, argv, NULL, err, errlen);
}

/* /dev/kvm existing proves nothing here: a tiny guest must boot. Named
 * after the run and marked as its own like every domain (teardown finds
 * it); not a node name, which has no '-'. */
static int lv_accel(struct testbed *tb, char *accel, size_t len, char *err, size_t errlen)
{
	struct lv *lv = lv_of(tb);
	char key[128], probe_name[64], probe_log[1200];
	struct virt_probe_opts po = { .name = probe_name, .kernel = lv->kernel,
				      .initrd = lv->initrd };
	bool cached;
	int ret;

	rs_name(tb->rs, "kvm-probe", probe_name, sizeof(probe_name));
	if (tb->log_dir) {
		snprintf(probe_log, sizeof(probe_log), "%s/console-kvm-probe.log", tb->log_dir);
		po.console_log = probe_log;
	}
	if ((ret = virt_probe_accel(lv->conn, &po, accel, len, &cached, key, sizeof(key), err,
				    errlen)) < 0)
		return ret;
	snprintf(tb->accel, sizeof(tb->accel), "%s", accel);
	rs_set(tb->rs, "accelerator", json_pack("{s:s, s:b, s:s}", "accel", accel, "cached", cached,
						"key", key));
	return 0;
}

/* Where node i's console goes: a comparison boots each architecture in
 * turn, so every log is kept. */
static void console_path(struct testbed *tb, int i, char *buf, size_t len)
{
	const struct scenario *sc = tb->sc;
	const char *node = sc->nodes[i].name;

	if (tb->log_dir && sc->n_archs > 1)
		snprintf(buf, len, "%s/console-%s-%s.log", tb->log_dir, sc_arch_name(sc->arch), node);
	else if (tb->log_dir)
		snprintf(buf, len, "%s/console-%s.log", tb->log_dir, node);
	else
		snprintf(buf, len, RS_DIR "/%s-console.log", tb->name[i]);
}

/* A proxy's eth1 and its SF share a bridge of their own: a wire, as the
 * netns backend's veth pair. */
static int pair_bridge(struct testbed *tb, int i, struct virt_domain_spec *spec, char *err,
		       size_t errlen)
{
	const struct sc_node *n = &tb->sc->nodes[i];
	struct lv *lv = lv_of(tb);
	char pair[16];

	snprintf(pair, sizeof(pair), "p%d", n->peer);
	rs_name(tb->rs, pair, lv->pair_br[i], sizeof(lv->pair_br[i]));
	snprintf(pair, sizeof(pair), "%sb", n->name);
	rs_name(tb->rs, pair, lv->tap2[i], sizeof(lv->tap2[i]));
	if (strlen(lv->tap2[i]) >= IF_NAMESIZE || strlen(lv->pair_br[i]) >= IF_NAMESIZE) {
		snprintf(err, errlen, "node %s: interface name %s too long", n->name, lv->tap2[i]);
		return -ENAMETOOLONG;
	}
	spec->bridge2 = lv->pair_br[i];
	spec->tap2 = lv->tap2[i];
	proxy_eth1_mac(n, spec->mac2);
	return add_bridge(lv->pair_br[i], tb->sc->mtu, err, errlen);
}

/* Every node's domain: its kernel command line, console and NICs. */
static int node_specs(struct testbed *tb, const char *accel, struct virt_domain_spec *specs,
		      char (*cmdline)[512], char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	struct lv *lv = lv_of(tb);
	int ret;

	for (int i = 0; i < sc->n_nodes; i++) {
		const struct sc_node *n = &sc->nodes[i];
		struct in_addr a = { .s_addr = n->ip };
		char ip[32];

		snprintf(ip, sizeof(ip), "%s/%d", inet_ntoa(a), sc->prefix_len);
		/* An SF behind a proxy is addressed by nobody. */
		/* As on netns: src and dest keep 1500, so TCP's full-size
		 * segments plus NSH fit the chain's MTU. */
		virt_cmdline(cmdline[i], sizeof(cmdline[i]), sc_role_name(n->role), n->name,
			     guest_fn(sc, i), arch_behind_proxy(n) ? NULL : ip,
			     n->role == SC_ROLE_SRC || n->role == SC_ROLE_DEST ? 1500 : sc->mtu);
		console_path(tb, i, lv->console[i], sizeof(lv->console[i]));
		specs[i] = (struct virt_domain_spec){
			.name = tb->name[i], .accel = accel, .kernel = lv->kernel,
			.initrd = lv->initrd, .cmdline = cmdline[i], .bridge = tb->bridge,
			.tap = tb->hostif[i], .mtu = sc->mtu, .console_log = lv->console[i],
		};
		memcpy(specs[i].mac, n->mac, 6);
		if (n->role == SC_ROLE_PROXY && (ret = pair_bridge(tb, i, &specs[i], err, errlen)) < 0)
			return ret;
	}
	for (int i = 0; i < sc->n_nodes; i++) {
		if (!arch_behind_proxy(&sc->nodes[i]))
			continue;
		specs[i].bridge = lv->pair_br[sc->nodes[i].peer];
		specs[i].wire_port = true;
	}
	return 0;
}

/* Boot facts for meta.json and the run state. */
static void record_boot(struct testbed *tb, const char *accel, double t0)
{
	const struct scenario *sc = tb->sc;
	json_t *boot = json_object();

	for (int i = 0; i < sc->n_nodes; i++)
		json_object_set_new(boot, sc->nodes[i].name, json_real(lv_of(tb)->boot_s[i]));
	rs_set(tb->rs, "boot_seconds", json_deep_copy(boot));
	tb->info = json_pack("{s:s, s:o, s:f, s:i}", "accelerator", accel, "boot_seconds", boot,
			     "boot_to_ready_s", now_s() - t0, "boot_parallel", LV_BOOT_PARALLEL);
	/* Not the kernel datapath the SF wires use: say so beside the numbers. */
	if (sc->arch == SC_ARCH_OVS_NSH)
		json_object_set_new(tb->info, "ovs_sff_datapath", json_string("userspace (netdev)"));
}

static int lv_build(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	struct virt_domain_spec specs[SC_MAX_NODES];
	char cmdline[SC_MAX_NODES][512], accel[16];
	double t0 = now_s();
	bool started;
	struct lv *lv;
	int ret;

	lv = calloc(1, sizeof(*lv));
	if (!lv)
		return -ENOMEM;
	tb->priv = lv;
	if ((ret = find_image(lv, err, errlen)) < 0 ||
	    (ret = virt_daemons_ensure(60000, &started, err, errlen)) < 0 ||
	    (ret = virt_connect(&lv->conn, err, errlen)) < 0 ||
	    (ret = lv_accel(tb, accel, sizeof(accel), err, errlen)) < 0 ||
	    (ret = add_bridge(tb->bridge, sc->mtu, err, errlen)) < 0 ||
	    (ret = node_specs(tb, accel, specs, cmdline, err, errlen)) < 0)
		return ret;
	/* Bounded: the facts file saw 20 s boots and 90 ms RTT spikes when all
	 * guests boot at once. Nothing is measured until all are ready. */
	if (sc->hosts.n) /* each host's guests on its own connection */
		ret = lv_hosts_boot(tb, lv->conn, specs, LV_BOOT_PARALLEL, LV_BOOT_TIMEOUT_MS,
				    lv->dom, lv->boot_s, err, errlen);
	else
		ret = virt_boot_many(lv->conn, specs, sc->n_nodes, LV_BOOT_PARALLEL,
				     LV_BOOT_TIMEOUT_MS, lv->dom, lv->boot_s, err, errlen);
	if (ret < 0)
		return ret;
	record_boot(tb, accel, t0);
	if (sc->hosts.n && (ret = lv_hosts_network(tb, err, errlen)) < 0)
		return ret;
	return tb_bring_up(tb, err, errlen);
}

/* A command's JSON output from node i's guest. */
static int guest_json(struct testbed *tb, int i, const char *const argv[], json_t **out,
		      char *err, size_t errlen)
{
	json_error_t jerr;
	char *text = NULL;
	int ret;

	if ((ret = guest_run(tb, i, argv, &text, err, errlen)) < 0)
		return ret;
	*out = json_loads(text, 0, &jerr);
	free(text);
	if (!*out) {
		snprintf(err, errlen, "guest %s: %s %s: %s", tb->name[i], argv[0], argv[1], jerr.text);
		return -EIO;
	}
	return 0;
}

/* A rules file (the format cadeia-stage reads) through `cadeia-stage
 * rules`; it names interfaces, not indexes, so "ifindex" stays out. */
static int lv_tables_write(struct testbed *tb, int i, const struct cp_node_tables *nt, bool cls,
			   bool fwd, char *err, size_t errlen)
{
	const char *rules[] = { "/usr/bin/cadeia-stage", "rules", "--node", tb->name[i],
				LV_RULES_PATH, NULL };
	json_t *o = json_object();
	char *text;
	int ret;

	for (int c = 0; c < 2; c++) {
		json_t *a;

		if (!(c ? cls : fwd))
			continue;
		a = json_array();
		for (size_t k = 0; k < (c ? nt->n_cls : nt->n_fwd); k++) {
			json_t *e = c ? cs_cls_rule_json(&nt->cls[k]) : cs_fwd_rule_json(&nt->fwd[k]);

			json_object_del(e, "ifindex");
			json_array_append_new(a, e);
		}
		json_object_set_new(o, c ? "classifier" : "forwarding", a);
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	ret = virt_agent_write_file(lv_of(tb)->dom[i], LV_RULES_PATH, text, strlen(text), err,
				    errlen);
	free(text);
	if (ret == 0)
		ret = guest_run(tb, i, rules, NULL, err, errlen);
	return ret;
}

static int lv_tables_read(struct testbed *tb, int i, json_t **show, char *err, size_t errlen)
{
	const char *argv[] = { "/usr/bin/cadeia-stage", "show", "--node", tb->name[i], "--json",
			       NULL };

	return guest_json(tb, i, argv, show, err, errlen);
}

/* `cadeia-stage stats --json`: {"<stage>": {"<counter>": n, ...}} (or the
 * same under "counters"). */
static int lv_counters(struct testbed *tb, int i, unsigned stage, struct cs_counter *c, size_t *n,
		       char *err, size_t errlen)
{
	const char *argv[] = { "/usr/bin/cadeia-stage", "stats", "--node", tb->name[i], "--json",
			       NULL };
	const char *name = cs_stage_name(stage), *key;
	json_t *st, *o, *v;
	size_t cap = *n;
	int ret;

	if ((ret = guest_json(tb, i, argv, &st, err, errlen)) < 0)
		return ret;
	o = json_object_get(st, name);
	if (!o)
		o = json_object_get(json_object_get(st, "counters"), name);
	*n = 0;
	json_object_foreach(o, key, v) {
		if (*n == cap)
			break;
		snprintf(c[*n].name, sizeof(c[*n].name), "%s", key);
		c[(*n)++].value = json_integer_value(v);
	}
	json_decref(st);
	return 0;
}

/* The SFF guest's OVS: o names it "guest <name>" in messages. */
static struct sff_ovs *guest_ovs(struct testbed *tb, int i, const struct sff_ovs *o,
				 struct sff_ovs *g)
{
	*g = *o;
	snprintf(g->netns, sizeof(g->netns), "guest %s", tb->name[i]);
	return g;
}

/* sff_ovs.h's flows into the guest's br0 in one bundle. */
static int lv_ovs_write(struct testbed *tb, int i, const struct sff_ovs *o,
			const struct cs_fwd_rule *r, size_t n, char *err, size_t errlen)
{
	const char *replace[] = { "/usr/bin/ovs-ofctl", "-O", "OpenFlow14", "--bundle",
				  "replace-flows", "br0", LV_FLOWS_PATH, NULL };
	struct sff_ovs g;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret = -1;

	if (!(f = open_memstream(&text, &len))) {
		ret = -errno;
		snprintf(err, errlen, "guest %s: flows: %s", tb->name[i], strerror(errno));
		return ret;
	}
	ret = sff_ovs_write_flows(guest_ovs(tb, i, o, &g), f, r, n, err, errlen);
	if (fclose(f) != 0 && ret == 0) {
		ret = -ENOMEM;
		snprintf(err, errlen, "guest %s: flows: %s", tb->name[i], strerror(ENOMEM));
	}
	if (ret == 0)
		ret = virt_agent_write_file(lv_of(tb)->dom[i], LV_FLOWS_PATH, text, len, err, errlen);
	if (ret == 0)
		ret = guest_run(tb, i, replace, NULL, err, errlen);
	free(text);
	return ret;
}

static int lv_ovs_read(struct testbed *tb, int i, const struct sff_ovs *o, struct cs_fwd_rule *r,
		       size_t *n, char *err, size_t errlen)
{
	const char *dump[] = { "/usr/bin/ovs-ofctl", "-O", "OpenFlow13", "--no-stats",
			       "dump-flows", "br0", NULL };
	struct sff_ovs g;
	char *out = NULL;
	int ret;

	if ((ret = guest_run(tb, i, dump, &out, err, errlen)) == 0)
		ret = sff_ovs_parse_flows(guest_ovs(tb, i, o, &g), out, r, n, err, errlen);
	free(out);
	return ret;
}

/* The forwarding rules' packet counts, once the datapath's pending
 * statistics are in. */
static int lv_ovs_forwarded(struct testbed *tb, int i, const struct sff_ovs *o,
			    unsigned long long *count, char *err, size_t errlen)
{
	const char *wait[] = { "/usr/bin/ovs-appctl", "revalidator/wait", NULL };
	const char *dump[] = { "/usr/bin/ovs-ofctl", "-O", "OpenFlow13", "dump-flows", "br0",
			       NULL };
	char *out = NULL;
	int ret;

	if ((ret = guest_run(tb, i, wait, NULL, err, errlen)) < 0 ||
	    (ret = guest_run(tb, i, dump, &out, err, errlen)) < 0)
		return ret;
	*count = sff_ovs_count_forwarded(out);
	free(out);
	return 0;
}

/* OVS 3.1.0 can silently lose every upcall (see the facts file): a wire or
 * SFF that drops misses would read as chain loss. Checked before measuring. */
static int lv_healthy(struct testbed *tb, int i, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;
	const char *dpctl[] = { "/usr/bin/ovs-dpctl", "show", NULL };
	/* The SFF's datapath is OVS's userspace one (images/init). */
	const char *appctl[] = { "/usr/bin/ovs-appctl", "dpctl/show", NULL };
	char *out = NULL, *lost;
	int ret;

	if (!arch_ovs_sff(sc, i) && (sc->nodes[i].role != SC_ROLE_SF || sc->nodes[i].fn != SC_FN_OVS))
		return 0;
	if ((ret = guest_run(tb, i, arch_ovs_sff(sc, i) ? appctl : dpctl, &out, err, errlen)) < 0)
		return ret;
	lost = strstr(out, "lost:");
	if (!lost || strtoull(lost + 5, NULL, 10) != 0) {
		snprintf(err, errlen, "guest %s: Open vSwitch is losing upcalls (%.40s)", tb->name[i],
			 lost ? lost : "no lost: counter in ovs-dpctl show");
		ret = -EIO;
	}
	free(out);
	return ret;
}

static virDomainPtr lv_dom(struct testbed *tb, int i)
{
	return lv_of(tb)->dom[i];
}

/* firewall, nat, lb, monitor: settings pushed, then started (backend/lv_fn.c). */
static int lv_start_fn(struct testbed *tb, int i, char *err, size_t errlen)
{
	return lvfn_start(tb, i, lv_dom, err, errlen);
}

static int lv_exec(struct testbed *tb, int i, const char *const argv[], char **out,
		   int timeout_ms, char *err, size_t errlen)
{
	return lvfn_exec(tb, i, lv_dom, argv, out, timeout_ms, err, errlen);
}

/* A guest not in the measured chain stops costing the host CPU (under TCG
 * an idle guest still emulates its timer ticks). */
static int lv_pause(struct testbed *tb, int i, bool paused, char *err, size_t errlen)
{
	return virt_domain_pause(lv_of(tb)->dom[i], paused, err, errlen);
}

/* Every guest still running (or paused by the run), and its function still alive. */
static int lv_check(struct testbed *tb, char *err, size_t errlen)
{
	const struct scenario *sc = tb->sc;

	for (int i = 0; i < sc->n_nodes; i++) {
		if (virDomainIsActive(lv_of(tb)->dom[i]) != 1) {
			char tail[600];

			virt_console_tail(lv_of(tb)->console[i], 5, tail, sizeof(tail));
			snprintf(err, errlen, "guest %s is no longer running; its console ends with: %s",
				 tb->name[i], tail);
			return -ESRCH;
		}
		if (!tb->paused[i] && sc->nodes[i].role == SC_ROLE_SF &&
		    (sc->nodes[i].fn == SC_FN_WIRE || sc->nodes[i].fn == SC_FN_NSH_AWARE ||
		     fnc_has_config(sc->nodes[i].fn))) {
			const char *argv[] = { "/bin/sh", "-c", "kill -0 $(cat /run/fn.pid)", NULL };
			int ret = guest_run(tb, i, argv, NULL, err, errlen);

			if (ret < 0) {
				snprintf(err, errlen, "function %s on guest %s died (see its /run/fn.log)",
					 sc_fn_name(sc->nodes[i].fn), tb->name[i]);
				return -ESRCH;
			}
		}
	}
	return 0;
}

/* The prober runs in the source guest; one CSV line per probe comes back. */
static int lv_probe(struct testbed *tb, int src, struct probe_opts *po, struct probe_sample *out,
		    struct probe_report *rep, char *err, size_t errlen)
{
	char dst[20], srcip[20], size[16], rate[32], count[16], warm[16], grace[16];
	struct in_addr a;
	const char *argv[] = { "/usr/bin/cadeia-guest", "probe", "--dst", dst, "--src", srcip,
			       "--size", size, "--rate", rate, "--count", count, "--warmup", warm,
			       "--grace-ms", grace, NULL };
	struct virt_exec_result res = { 0 };
	int timeout_ms = (int)((po->count + po->warmup) / po->rate_pps * 1000) + po->grace_ms + 30000;
	unsigned n = 0;
	char *line, *save = NULL;
	int ret;

	a.s_addr = po->dst;
	snprintf(dst, sizeof(dst), "%s", inet_ntoa(a));
	a.s_addr = po->src;
	snprintf(srcip, sizeof(srcip), "%s", inet_ntoa(a));
	snprintf(size, sizeof(size), "%u", po->icmp_size ? po->icmp_size : 64);
	snprintf(rate, sizeof(rate), "%g", po->rate_pps);
	snprintf(count, sizeof(count), "%u", po->count);
	snprintf(warm, sizeof(warm), "%u", po->warmup);
	snprintf(grace, sizeof(grace), "%u", po->grace_ms);
	memset(rep, 0, sizeof(*rep));
	ret = virt_agent_exec(lv_of(tb)->dom[src], argv, timeout_ms, &res, err, errlen);
	if (ret < 0)
		return ret;
	if (res.exitcode != 0) {
		snprintf(err, errlen, "guest %s: cadeia-guest probe exited with %d: %s", tb->name[src],
			 res.exitcode, res.errout ? res.errout : "");
		virt_exec_result_free(&res);
		return -EIO;
	}
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned seq, ts;
		long long tx, rtt;

		if (strncmp(line, "report ", 7) == 0) {
			json_t *r = json_loads(line + 7, 0, NULL);

			rep->sent = json_integer_value(json_object_get(r, "sent"));
			rep->received = json_integer_value(json_object_get(r, "received"));
			rep->duplicates = json_integer_value(json_object_get(r, "duplicates"));
			rep->kernel_ts = json_integer_value(json_object_get(r, "kernel_ts"));
			rep->user_ts = json_integer_value(json_object_get(r, "user_ts"));
			rep->achieved_pps = json_number_value(json_object_get(r, "achieved_pps"));
			rep->interrupted = json_is_true(json_object_get(r, "interrupted"));
			rep->ts_source = rep->kernel_ts && rep->user_ts ? "mixed"
					 : rep->kernel_ts		  ? "kernel"
									  : "user";
			json_decref(r);
			continue;
		}
		if (n < po->count &&
		    sscanf(line, "%u,%lld,%lld,%u", &seq, &tx, &rtt, &ts) == 4) {
			out[n].seq = seq;
			out[n].tx_ns = tx;
			out[n].rtt_ns = rtt;
			out[n].ts_kernel = ts;
			n++;
		}
	}
	virt_exec_result_free(&res);
	if (n != rep->sent) {
		snprintf(err, errlen, "guest %s: the prober reported %u probes but sent back %u rows",
			 tb->name[src], rep->sent, n);
		return -EIO;
	}
	return 0;
}

static int lv_link(struct testbed *tb, int i, const char *ifname, bool up, char *err,
		   size_t errlen)
{
	const char *argv[] = { "/bin/busybox", "ip", "link", "set", ifname, up ? "up" : "down",
			       NULL };

	return guest_run(tb, i, argv, NULL, err, errlen);
}

static void lv_stop(struct testbed *tb)
{
	struct lv *lv = lv_of(tb);

	if (!lv)
		return;
	if (tb->sc->hosts.n) /* the agents' bridges and VXLAN devices on their hosts */
		lv_hosts_stop(tb);
	/* firewall, nat, lb, monitor end and their files come back first */
	lvfn_stop(tb, lv_dom);
	/* Peak host memory of each guest's QEMU, for the benchmark. */
	if (tb->info) {
		json_t *mem = json_object();

		for (int i = 0; i < tb->sc->n_nodes; i++) {
			struct virt_mem m;
			char e[256];

			if (lv->dom[i] && virt_domain_mem(tb->name[i], &m, e, sizeof(e)) == 0)
				json_object_set_new(mem, tb->sc->nodes[i].name,
						    json_pack("{s:I, s:I}", "rss_kib", (json_int_t)m.rss_kib,
							      "peak_kib", (json_int_t)m.hwm_kib));
		}
		json_object_set_new(tb->info, "guest_memory", mem);
	}
	/* Under TCG: translation cache flushes per guest over the run (virt.h). */
	if (tb->info && strcmp(tb->accel, "tcg") == 0) {
		json_t *fl = json_object();

		for (int i = 0; i < tb->sc->n_nodes; i++) {
			long n = lv->dom[i] ? virt_tb_flushes(lv->dom[i]) : -1;

			if (n >= 0)
				json_object_set_new(fl, tb->sc->nodes[i].name, json_integer(n));
		}
		json_object_set_new(tb->info, "tcg_tb_flushes", fl);
		json_object_set_new(tb->info, "tcg_tb_cache_mib", json_integer(VIRT_DEF_TB_CACHE_MIB));
	}
	for (int i = 0; i < SC_MAX_NODES; i++)
		if (lv->dom[i])
			virDomainFree(lv->dom[i]);
	if (lv->conn)
		virt_disconnect(lv->conn);
	free(lv);
	tb->priv = NULL;
}

/* Through each guest's agent: cadeia-stage, ovs-ofctl and cadeia-guest run
 * inside it. The guest's init starts its function and its OVS. */
static const struct node_ops libvirt_node = {
	/* the NICs first: a promiscuous SF behind a proxy, the proxy's eth1 */
	.prepare = lv_prepare, .attach = lv_attach,
	.tables_write = lv_tables_write, .tables_read = lv_tables_read, .counters = lv_counters,
	/* the SFF guest's OVS, and every OVS datapath's upcalls */
	.ovs_write = lv_ovs_write, .ovs_read = lv_ovs_read, .ovs_forwarded = lv_ovs_forwarded,
	.healthy = lv_healthy, .neigh = lv_neigh, .probe = lv_probe, .link = lv_link,
	.start_fn = lv_start_fn, .exec = lv_exec, .pause = lv_pause,
};

const struct backend_ops libvirt_backend = {
	.name = "libvirt", .supports = lv_supports, .build = lv_build,
	.check = lv_check, .stop = lv_stop, .node = &libvirt_node,
};
