// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * testbed/virt against a real libvirtd and the real guest image, under TCG:
 * daemons (started by us if needed), the domain XML (read back by libvirt's
 * own QEMU command line builder), a bounded boot of two guests, the guest
 * agent (ping, exec, files), readiness, bridge port settings, host-side
 * memory, the accelerator probe and its cache, guests that fail or never
 * come up, and teardown by prefix that spares a domain outside the prefix.
 *
 * Everything is named cbtJ*: the bridge cbtJ-br, domains cbtJa-* (torn down
 * by prefix "cbtJa") and cbtJb-keep (must survive that), taps cbtJ-t*.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/neighbour.h>

#include "sys/nl.h"
#include "support/support.h"
#include "tap.h"
#include "virt/virt.h"

#include <libvirt/virterror.h>

#define PFX	"cbtJ"
#define PFX_A	PFX "a"
#define BR	PFX "-br"
#define KERNEL	"build/image/vmlinuz"
#define INITRD	"build/image/initrd.img"
#define BOOT_MS	120000

static char err[2048];
static char dir[] = "/tmp/cbtJ-XXXXXX";
static virConnectPtr conn;

static void tlog(const char *what, void *arg)
{
	DIAG("teardown: %s", what);
}

static void teardown(void)
{
	char cmd[128];

	virt_teardown_prefix(PFX, tlog, NULL);
	nl_link_del(NULL, BR, NULL, 0);
	if (strcmp(dir, "/tmp/cbtJ-XXXXXX")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			DIAG("could not remove %s", dir);
	}
	virt_disconnect(conn);
	conn = NULL;
}

static void on_signal(int sig)
{
	exit(128 + sig); /* runs teardown through atexit */
}

static char *path_in(const char *name)
{
	static char bufs[8][300];
	static int k;
	char *b = bufs[k++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void spec_init(struct virt_domain_spec *s, const char *name, const char *tap,
		      uint8_t last, const char *cmdline, const char *log)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->kernel = KERNEL;
	s->initrd = INITRD;
	s->cmdline = cmdline;
	s->bridge = BR;
	s->tap = tap;
	s->mtu = 1600;
	s->console_log = log;
	memcpy(s->mac, (uint8_t[]){ 0x52, 0x54, 0x00, 0xcb, 0x0a, last }, 6);
}

/* The last non-empty line of a file, control characters dropped, cut at a
 * terminal escape or 60 characters (the message may cut it further). */
static void last_line(const char *path, char *out, size_t len)
{
	char line[1024], keep[1024] = "";
	FILE *f = fopen(path, "r");
	size_t o = 0;

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			snprintf(keep, sizeof(keep), "%s", line);
	}
	fclose(f);
	for (char *p = keep; *p && *p != '\033' && o + 1 < len && o < 60; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			out[o++] = *p;
	out[o] = '\0';
}

static bool file_contains(const char *path, const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void test_xml(void)
{
	struct virt_domain_spec s;
	char *xml = NULL, *argv = NULL;
	int ret;

	spec_init(&s, PFX_A "-xml", PFX "-tx", 0x99, "cadeia.role=sf a<b", "/tmp/x&y.log");
	s.memory_mib = 256;
	ret = virt_domain_xml(&s, &xml, err, sizeof(err));
	CHECK(ret == 0 && xml, "XML for a TCG spec (%s)", ret ? err : "ok");
	if (!xml)
		return;
	CHECK(strstr(xml, "<domain type='qemu'>") != NULL, "XML: type qemu for TCG");
	CHECK(strstr(xml, "<name>" PFX_A "-xml</name>") != NULL, "XML: name");
	CHECK(strstr(xml, "<memory unit='MiB'>256</memory>") != NULL, "XML: memory 256 MiB");
	CHECK(strstr(xml, "<vcpu placement='static'>1</vcpu>") != NULL, "XML: one vCPU");
	CHECK(strstr(xml, "<tb-cache unit='MiB'>256</tb-cache>") != NULL, "XML: tb-cache 256 MiB");
	CHECK(strstr(xml, "<cmdline>console=ttyS0 panic=-1 cadeia.role=sf a&lt;b</cmdline>") != NULL,
	      "XML: console and panic=-1 added, cmdline escaped");
	CHECK(strstr(xml, "<log file='/tmp/x&amp;y.log' append='off'/>") != NULL,
	      "XML: console log through virtlogd, path escaped");
	CHECK(strstr(xml, "<mac address='52:54:00:cb:0a:99'/>") &&
	      strstr(xml, "<source bridge='" BR "'/>") &&
	      strstr(xml, "<target dev='" PFX "-tx'/>") &&
	      strstr(xml, "<model type='virtio'/>") &&
	      strstr(xml, "<driver queues='2'/>") &&
	      strstr(xml, "<mtu size='1600'/>"),
	      "XML: virtio NIC on the bridge with MAC, tap name, 2 queues, MTU");
	CHECK(strstr(xml, "name='org.qemu.guest_agent.0'") != NULL, "XML: guest agent channel");
	CHECK(strstr(xml, "<on_reboot>destroy</on_reboot>") &&
	      strstr(xml, "<on_crash>destroy</on_crash>"), "XML: reboot and crash destroy");

	/* libvirt's own parser and command line builder read it back. */
	argv = virConnectDomainXMLToNative(conn, "qemu-argv", xml, 0);
	CHECK(argv != NULL, "libvirt turns the XML into a QEMU command line (%s)",
	      argv ? "ok" : virGetLastErrorMessage());
	if (argv) {
		CHECK(strstr(argv, "tcg,tb-size=256") != NULL, "QEMU argv: tcg with tb-size=256");
		CHECK(strstr(argv, "-m 256") || strstr(argv, "size\":268435456"),
		      "QEMU argv: 256 MiB");
		CHECK(strstr(argv, "/" KERNEL) != NULL, "QEMU argv: direct kernel boot, absolute path");
		CHECK(strstr(argv, "virtio-net-pci") && strstr(argv, "52:54:00:cb:0a:99"),
		      "QEMU argv: virtio-net with the MAC");
		CHECK(strstr(argv, "logfile=/tmp/x&y.log") != NULL, "QEMU argv: serial log file");
		DIAG("%.300s", argv);
	}
	free(argv);
	free(xml);

	s.accel = "kvm";
	ret = virt_domain_xml(&s, &xml, err, sizeof(err));
	CHECK(ret == 0 && strstr(xml, "<domain type='kvm'>") && !strstr(xml, "tb-cache"),
	      "XML for KVM: type kvm, no TCG cache");
	free(xml);

	s.accel = "xen";
	ret = virt_domain_xml(&s, &xml, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, PFX_A "-xml"), "bad accelerator refused: %s", err);
	s.accel = NULL;
	s.tap = "vnet7";
	ret = virt_domain_xml(&s, &xml, err, sizeof(err));
	CHECK(ret == -EINVAL, "tap name vnet* refused: %s", err);
}

static void test_agent(virDomainPtr dom, const char *name)
{
	const char *echo[] = { "/bin/echo", "hello", "from", name, NULL };
	struct virt_exec_result r;
	char want[128], *data = NULL, *blob;
	size_t len = 0, blen = 100000;
	int ret;

	ret = virt_agent_ping(dom, 2000, err, sizeof(err));
	CHECK(ret == 0, "%s: agent ping (%s)", name, ret ? err : "ok");

	ret = virt_agent_exec(dom, echo, 10000, &r, err, sizeof(err));
	snprintf(want, sizeof(want), "hello from %s\n", name);
	CHECK(ret == 0 && r.exitcode == 0 && r.out && !strcmp(r.out, want),
	      "%s: exec echo prints \"hello from %s\" (%s)", name, name,
	      ret ? err : (r.out ? r.out : "(null)"));
	virt_exec_result_free(&r);

	ret = virt_agent_sh(dom, "echo oops >&2; echo out; exit 3", 10000, &r, err, sizeof(err));
	CHECK(ret == 0 && r.exitcode == 3 && r.signal == 0 && !strcmp(r.out, "out\n") &&
	      !strcmp(r.errout, "oops\n"),
	      "%s: exit code 3, stdout and stderr apart (%s)", name, ret ? err : "ok");
	virt_exec_result_free(&r);

	ret = virt_agent_sh(dom, "sleep 5", 1000, &r, err, sizeof(err));
	CHECK(ret == -ETIMEDOUT && strstr(err, name), "%s: exec timeout: %s", name, err);

	/* 100 kB with every byte value: several write chunks, NULs included. */
	blob = malloc(blen);
	for (size_t i = 0; i < blen; i++)
		blob[i] = (char)(i * 7 + i / 256);
	ret = virt_agent_write_file(dom, "/tmp/cbtJ-blob", blob, blen, err, sizeof(err));
	CHECK(ret == 0, "%s: write a 100 kB file (%s)", name, ret ? err : "ok");
	ret = virt_agent_read_file(dom, "/tmp/cbtJ-blob", 1 << 20, &data, &len, err, sizeof(err));
	CHECK(ret == 0 && len == blen && !memcmp(data, blob, blen),
	      "%s: read it back byte for byte (%zu bytes; %s)", name, len, ret ? err : "ok");
	free(data);
	data = NULL;
	ret = virt_agent_sh(dom, "wc -c </tmp/cbtJ-blob", 10000, &r, err, sizeof(err));
	CHECK(ret == 0 && r.out && strtoul(r.out, NULL, 10) == blen,
	      "%s: the guest sees %zu bytes (%s)", name, blen, ret ? err : r.out);
	virt_exec_result_free(&r);
	free(blob);

	ret = virt_agent_read_file(dom, "/tmp/cbtJ-blob", 1000, &data, &len, err, sizeof(err));
	CHECK(ret == -EFBIG, "%s: read beyond max refused: %s", name, err);
	ret = virt_agent_read_file(dom, "/nonexistent/cbtJ", 1000, &data, &len, err, sizeof(err));
	CHECK(ret == -ENOENT && strstr(err, name), "%s: missing file -ENOENT: %s", name, err);

	ret = virt_agent_read_file(dom, VIRT_READY_FILE, 4096, &data, &len, err, sizeof(err));
	CHECK(ret == 0 && !strncmp(data, "ready ", 6), "%s: %s says \"%s\"", name,
	      VIRT_READY_FILE, ret ? err : data);
	free(data);
}

static void test_port(const char *tap, const uint8_t mac[6])
{
	struct nl_brport_flags f = { true, true, true, true };
	struct nl_link link = { 0 }, br = { 0 };
	struct nl_fdb *fdb = NULL;
	size_t n = 0;
	bool found = false;
	int ret;

	ret = nl_link_get(NULL, tap, &link, err, sizeof(err));
	nl_link_get(NULL, BR, &br, NULL, 0);
	CHECK(ret == 0 && !strcmp(link.kind, "tun") && link.master == br.ifindex && br.ifindex,
	      "tap %s exists and is a port of %s (%s)", tap, BR, ret ? err : link.kind);
	CHECK(link.mtu == 1600, "tap %s MTU %u", tap, link.mtu);
	ret = nl_brport_get_flags(NULL, tap, &f, err, sizeof(err));
	CHECK(ret == 0 && !f.learning && !f.unicast_flood && !f.mcast_flood && !f.bcast_flood,
	      "tap %s: learning and flooding off (%d %d %d %d)", tap, f.learning,
	      f.unicast_flood, f.mcast_flood, f.bcast_flood);
	ret = nl_fdb_list(NULL, tap, &fdb, &n, err, sizeof(err));
	for (size_t i = 0; ret == 0 && i < n; i++)
		if (!memcmp(fdb[i].mac, mac, 6) && (fdb[i].state & NUD_NOARP))
			found = true;
	CHECK(found, "tap %s: static FDB entry for the guest's MAC", tap);
	free(fdb);
}

static void test_probe(void)
{
	struct virt_probe_opts o = {
		.name = PFX_A "-probe",
		.kernel = KERNEL,
		.initrd = INITRD,
		.console_log = path_in("probe.log"),
		.cache = path_in("cache/accel.json"),
		.timeout_ms = 15000,
	};
	char accel[8] = "", accel2[8] = "", key[256] = "", **names = NULL;
	bool cached = true;
	json_t *root;
	int ret, n;

	ret = virt_probe_accel(conn, &o, accel, sizeof(accel), &cached, key, sizeof(key),
			       err, sizeof(err));
	CHECK(ret == 0 && !cached && (!strcmp(accel, "kvm") || !strcmp(accel, "tcg")),
	      "accelerator probed: %s (key \"%s\"; %s)", accel, key, ret ? err : "ok");
	if (!strcmp(accel, "kvm"))
		CHECK(file_contains(o.console_log, "cadeia: probe ok"),
		      "kvm only with \"cadeia: probe ok\" on the console");
	else
		CHECK(!file_contains(o.console_log, "cadeia: probe ok"),
		      "tcg: the KVM probe never printed \"probe ok\"");
	n = virt_domain_list(conn, o.name, &names, err, sizeof(err));
	CHECK(n == 0, "the probe domain is gone (%d left)", n);
	virt_names_free(names, n > 0 ? n : 0);

	root = json_load_file(o.cache, 0, NULL);
	CHECK(root && !strcmp(json_string_value(json_object_get(json_object_get(root, key),
								 "accel")) ?: "", accel),
	      "cache %s holds %s under \"%s\"", o.cache, accel, key);
	json_decref(root);
	ret = virt_probe_accel(conn, &o, accel2, sizeof(accel2), &cached, NULL, 0,
			       err, sizeof(err));
	CHECK(ret == 0 && cached && !strcmp(accel, accel2),
	      "second probe answers %s from the cache", accel2);

	/* The other way: a probe forced to fail falls back to TCG, whatever
	 * the host, and does not overwrite the cached answer. */
	setenv("CADEIA_KVM_PROBE", "fail", 1);
	ret = virt_probe_accel(conn, &o, accel2, sizeof(accel2), &cached, NULL, 0,
			       err, sizeof(err));
	unsetenv("CADEIA_KVM_PROBE");
	root = json_load_file(o.cache, 0, NULL);
	CHECK(ret == 0 && !cached && !strcmp(accel2, "tcg") && root &&
	      !strcmp(json_string_value(json_object_get(json_object_get(root, key),
							 "accel")) ?: "", accel),
	      "a probe forced to fail (CADEIA_KVM_PROBE=fail) answers %s, not from the cache, "
	      "which still holds %s", accel2, accel);
	json_decref(root);
}

static void test_failures(void)
{
	struct virt_domain_spec s;
	virDomainPtr dom = NULL;
	char line[128], cmdline[256];
	int ret;

	/* The image's /init refuses an unknown role and says so. */
	virt_cmdline(cmdline, sizeof(cmdline), "bogus", "bad", "none", "192.0.2.9/24", 1600);
	spec_init(&s, PFX_A "-bad", PFX "-t3", 0x03, cmdline, path_in("bad.log"));
	ret = virt_domain_start(conn, &s, &dom, err, sizeof(err));
	CHECK(ret == 0, "start %s (%s)", s.name, ret ? err : "ok");
	if (ret == 0) {
		ret = virt_wait_ready(dom, s.console_log, BOOT_MS, err, sizeof(err));
		CHECK(ret < 0 && ret != -ETIMEDOUT && strstr(err, PFX_A "-bad") &&
		      strstr(err, "cadeia: FAILED"),
		      "a guest with role=bogus fails fast, naming itself and its failure: %s", err);
		virDomainFree(dom);
		virt_domain_destroy(conn, s.name, NULL, 0);
		last_line(s.console_log, line, sizeof(line));
		CHECK(line[0] && strstr(err, line), "the message ends with the console's tail");
	}

	/* A shell as init never writes ready and prints no failure. */
	spec_init(&s, PFX_A "-mute", PFX "-t4", 0x04, "rdinit=/bin/sh", path_in("mute.log"));
	ret = virt_domain_start(conn, &s, &dom, err, sizeof(err));
	CHECK(ret == 0, "start %s (%s)", s.name, ret ? err : "ok");
	if (ret == 0) {
		ret = virt_wait_ready(dom, s.console_log, 20000, err, sizeof(err));
		CHECK(ret == -ETIMEDOUT && strstr(err, PFX_A "-mute"),
		      "a guest that never gets ready times out: %s", err);
		virDomainFree(dom);
		virt_domain_destroy(conn, s.name, NULL, 0);
		last_line(s.console_log, line, sizeof(line));
		CHECK(line[0] && strstr(err, line), "its console's last line \"%s\" is in the message",
		      line);
	}
}

/* The running QEMU got what the XML asked for. */
static void qemu_cmdline(int pid)
{
	char path[64], buf[16384];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	CHECK(strstr(buf, "tcg,tb-size=256") != NULL, "QEMU runs TCG with a 256 MiB cache");
	CHECK(strstr(buf, "\"mq\":true") && strstr(buf, "\"host_mtu\":1600"),
	      "QEMU's virtio-net is multiqueue with host MTU 1600");
	CHECK(strstr(buf, "/" KERNEL " ") != NULL, "QEMU boots " KERNEL " directly");
}

int main(void)
{
	char cmd1[256], cmd2[256], logs[2][300], **names = NULL;
	struct virt_domain_spec specs[2];
	virDomainPtr doms[2] = { NULL, NULL };
	double boot_s[2] = { 0, 0 };
	struct virt_mem mem;
	struct stat st;
	bool started;
	int ret, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(73);
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp %s: %s", dir, strerror(errno));
		return tap_done();
	}
	atexit(teardown);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = virt_daemons_ensure(30000, &started, err, sizeof(err));
	CHECK(ret == 0, "libvirt daemons answer (%s)", ret ? err : started ? "started by us" : "already running");
	if (ret)
		return tap_done();
	CHECK(!started || file_contains(VIRT_DAEMONS_FILE, "libvirtd "),
	      "%s records the libvirtd we started, if we did (%s)", VIRT_DAEMONS_FILE,
	      started ? "started" : "already running");
	ret = virt_connect(&conn, err, sizeof(err));
	CHECK(ret == 0, "connect to %s (%s)", VIRT_URI, ret ? err : "ok");
	if (ret)
		return tap_done();
	/* Leftovers of an interrupted run. */
	virt_teardown_prefix(PFX, tlog, NULL);
	nl_link_del(NULL, BR, NULL, 0);

	test_xml();

	if (stat(INITRD, &st) < 0 || stat(KERNEL, &st) < 0) {
		DIAG("no guest image yet: make image");
		/* BUILD=build: the image KERNEL and INITRD name, whatever build
		 * directory this binary came from (make asan runs it from its own). */
		if (system("make -s BUILD=build image >&2") != 0)
			DIAG("make image failed");
	}
	if (!CHECK(stat(INITRD, &st) == 0 && stat(KERNEL, &st) == 0, "guest image %s, %s",
		   KERNEL, INITRD))
		return tap_done();

	ret = nl_bridge_add(NULL, BR, NULL, err, sizeof(err));
	if (!ret)
		ret = nl_link_set_mtu(NULL, BR, 1600, err, sizeof(err));
	if (!ret)
		ret = nl_link_set_up(NULL, BR, true, err, sizeof(err));
	if (!CHECK(ret == 0, "bridge %s (%s)", BR, ret ? err : "ok"))
		return tap_done();

	/* Two guests, one booting at a time. */
	virt_cmdline(cmd1, sizeof(cmd1), "dest", "g1", "none", "192.0.2.1/24", 1600);
	virt_cmdline(cmd2, sizeof(cmd2), "dest", "keep", "none", "192.0.2.2/24", 1600);
	snprintf(logs[0], sizeof(logs[0]), "%s", path_in("g1.log"));
	snprintf(logs[1], sizeof(logs[1]), "%s", path_in("keep.log"));
	spec_init(&specs[0], PFX_A "-g1", PFX "-t1", 0x01, cmd1, logs[0]);
	spec_init(&specs[1], PFX "b-keep", PFX "-t2", 0x02, cmd2, logs[1]);
	ret = virt_boot_many(conn, specs, 2, 1, BOOT_MS, doms, boot_s, err, sizeof(err));
	CHECK(ret == 0, "boot 2 guests, at most 1 at a time (%s)", ret ? err : "ok");
	if (ret == 0)
		DIAG("boot to ready: %.1f s, %.1f s", boot_s[0], boot_s[1]);
	if (ret)
		return tap_done();
	for (int i = 0; i < 2; i++) {
		CHECK(file_contains(logs[i], "cadeia: ready"), "%s: console log %s says ready",
		      specs[i].name, logs[i]);
		CHECK(virt_wait_ready(doms[i], logs[i], 5000, err, sizeof(err)) == 0,
		      "%s: readiness wait answers at once when ready", specs[i].name);
		test_port(specs[i].tap, specs[i].mac);
	}
	test_agent(doms[0], specs[0].name);

	ret = virt_domain_mem(specs[0].name, &mem, err, sizeof(err));
	CHECK(ret == 0 && mem.rss_kib > 16 * 1024 && mem.hwm_kib >= mem.rss_kib,
	      "%s: QEMU pid %d RSS %llu KiB, peak %llu KiB (%s)", specs[0].name, mem.pid,
	      mem.rss_kib, mem.hwm_kib, ret ? err : "ok");

	qemu_cmdline(mem.pid);

	n = virt_domain_list(conn, PFX, &names, err, sizeof(err));
	CHECK(n == 2 && !strcmp(names[0], PFX "a-g1") && !strcmp(names[1], PFX "b-keep"),
	      "list by prefix %s: %d domains", PFX, n);
	virt_names_free(names, n > 0 ? n : 0);

	test_probe();
	test_failures();

	/* Teardown of cbtJa spares cbtJb-keep. */
	ret = virt_teardown_prefix(PFX_A, tlog, NULL);
	CHECK(ret == 0, "teardown %s: no failures", PFX_A);
	n = virt_domain_list(conn, PFX_A, &names, err, sizeof(err));
	CHECK(n == 0, "no domain named %s* left", PFX_A);
	virt_names_free(names, n > 0 ? n : 0);
	CHECK(nl_link_get(NULL, PFX "-t1", &(struct nl_link){ 0 }, NULL, 0) == -ENODEV,
	      "tap %s-t1 is gone", PFX);
	CHECK(virDomainIsActive(doms[1]) == 1, "%s outside the prefix still runs", specs[1].name);
	CHECK(virt_agent_ping(doms[1], 2000, err, sizeof(err)) == 0 &&
	      nl_link_get(NULL, PFX "-t2", &(struct nl_link){ 0 }, NULL, 0) == 0,
	      "%s still answers and keeps its tap", specs[1].name);
	CHECK(virt_teardown_prefix("", NULL, NULL) == 1 && virDomainIsActive(doms[1]) == 1,
	      "an empty prefix is refused");

	ret = virt_teardown_prefix(PFX, tlog, NULL);
	n = virt_domain_list(conn, PFX, &names, err, sizeof(err));
	CHECK(ret == 0 && n == 0, "teardown %s leaves no domain", PFX);
	virt_names_free(names, n > 0 ? n : 0);
	CHECK(nl_link_get(NULL, PFX "-t2", &(struct nl_link){ 0 }, NULL, 0) == -ENODEV,
	      "and no tap");
	for (int i = 0; i < 2; i++)
		virDomainFree(doms[i]);
	return tap_done();
}
