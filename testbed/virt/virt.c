// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libvirt plumbing for the VM backend. See virt.h.
 *
 * QEMU runs as root with DAC relabelling off (a static <seclabel>), so libvirt
 * never chowns the image files in the checkout, and the serial console goes
 * through virtlogd (<log file=...>), which writes as root wherever the
 * results folder is.
 */
#include "cadeia_stage.h"
#include "virt/virt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "sys/netns.h"
#include "sys/nl.h"
#include "sys/ownmark.h"

#define LIBVIRTD		"/usr/sbin/libvirtd"
#define VIRTLOGD		"/usr/sbin/virtlogd"
#define VIRTLOGD_SOCK		"/run/libvirt/virtlogd-sock"
#define TAIL_LINES		12
/* Raw bytes per guest-file-write; ~43 KiB of base64, far below any limit. */
#define FILE_CHUNK		(32 * 1024)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *virt_msg(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown libvirt error";
}

/* libvirt's error, as a negative errno the caller can act on. */
static int virt_errno(void)
{
	virErrorPtr e = virGetLastError();

	if (!e)
		return -EIO;
	switch (e->code) {
	case VIR_ERR_NO_DOMAIN:
		return -ENOENT;
	case VIR_ERR_AGENT_UNRESPONSIVE:
		return -EAGAIN;
	case VIR_ERR_OPERATION_INVALID:
		return -ESRCH;
	case VIR_ERR_OPERATION_TIMEOUT:
		return -ETIMEDOUT;
	case VIR_ERR_NO_CONNECT:
	case VIR_ERR_SYSTEM_ERROR:
		if (e->int1 > 0)
			return -e->int1;
		return -ECONNREFUSED;
	default:
		if (e->message && strstr(e->message, "No such file"))
			return -ENOENT;
		return -EIO;
	}
}

static void virt_silent(void *opaque, virErrorPtr e)
{
}

static void virt_init(void)
{
	static bool done;

	if (done)
		return;
	virInitialize();
	/* Callers report errors themselves, with context. */
	virSetErrorFunc(NULL, virt_silent);
	done = true;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static const char *dom_name(virDomainPtr dom)
{
	const char *n = dom ? virDomainGetName(dom) : NULL;

	return n ? n : "?";
}

/* ---- daemons and connection ---------------------------------------------- */

static bool sock_answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool ok;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

bool virt_daemon_answers(void)
{
	return sock_answers(VIRT_SOCK);
}

static int read_pidfile(const char *path)
{
	FILE *f = fopen(path, "re");
	int pid = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

/* Runs "<bin> -d" and waits for the daemonizing parent to exit, which it
 * does once the daemon is initialised. */
static int start_daemon(const char *bin, const char *name, const char *pidfile,
			char *err, size_t errlen)
{
	char logspec[256];
	int status, pid, fd;
	pid_t child;
	FILE *f;

	if (access(bin, X_OK) < 0) {
		set_err(err, errlen, "starting %s: %s: %s (install libvirt-daemon-system)",
			name, bin, strerror(errno));
		return -ENOENT;
	}
	snprintf(logspec, sizeof(logspec), "3:file:%s/%s.log", VIRT_STATE_DIR, name);
	child = fork();
	if (child < 0) {
		set_err(err, errlen, "starting %s: fork: %s", name, strerror(errno));
		return -errno;
	}
	if (child == 0) {
		/* The daemon must not hold the caller's stdout, or a reader of a
		 * pipe would wait for it forever. */
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("LIBVIRT_LOG_OUTPUTS", logspec, 1);
		execl(bin, bin, "-d", (char *)NULL);
		_exit(127);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		set_err(err, errlen, "starting %s: %s -d failed (status %d); see %s/%s.log",
			name, bin, status, VIRT_STATE_DIR, name);
		return -EIO;
	}
	pid = read_pidfile(pidfile);
	f = fopen(VIRT_DAEMONS_FILE, "ae");
	if (!f) {
		set_err(err, errlen, "starting %s: recording it in %s: %s", name,
			VIRT_DAEMONS_FILE, strerror(errno));
		return -errno;
	}
	fprintf(f, "%s %d\n", name, pid);
	fclose(f);
	return 0;
}

/*
 * Without udev, /dev/kvm stays root:root 0600. libvirt then finds KVM when it
 * probes QEMU's capabilities but not when it checks that its QEMU user may
 * open /dev/kvm, so it throws the cache away and re-probes at every lookup: a
 * domain start took 55 s instead of 0.4 s. udev would make it root:kvm 0660.
 */
static int kvm_dev_fix(char *err, size_t errlen)
{
	struct group *g = getgrnam("kvm");
	struct stat st;

	if (!g || stat("/dev/kvm", &st) < 0)
		return 0;
	if (st.st_gid == g->gr_gid && (st.st_mode & 0060) == 0060)
		return 0;
	if (chown("/dev/kvm", -1, g->gr_gid) < 0 ||
	    chmod("/dev/kvm", (st.st_mode & 07777) | 0060) < 0) {
		set_err(err, errlen, "libvirtd: giving group kvm access to /dev/kvm: %s",
			strerror(errno));
		return -errno;
	}
	return 0;
}

int virt_daemons_ensure(int timeout_ms, bool *started, char *err, size_t errlen)
{
	long long deadline;
	virConnectPtr c;
	int ret;

	virt_init();
	if (started)
		*started = false;
	if (timeout_ms <= 0)
		timeout_ms = 30000;
	ret = kvm_dev_fix(err, errlen);
	if (ret < 0)
		return ret;
	ret = mkdir_p(VIRT_STATE_DIR, 0755);
	if (ret < 0) {
		set_err(err, errlen, "starting libvirt daemons: mkdir %s: %s",
			VIRT_STATE_DIR, strerror(-ret));
		return ret;
	}
	/* libvirtd's QEMU driver hands the console logs to virtlogd. */
	if (!sock_answers(VIRTLOGD_SOCK)) {
		ret = start_daemon(VIRTLOGD, "virtlogd", "/run/virtlogd.pid", err, errlen);
		if (ret < 0)
			return ret;
		if (started)
			*started = true;
	}
	if (!sock_answers(VIRT_SOCK)) {
		ret = start_daemon(LIBVIRTD, "libvirtd", "/run/libvirtd.pid", err, errlen);
		if (ret < 0)
			return ret;
		if (started)
			*started = true;
	}
	deadline = now_ms() + timeout_ms;
	for (;;) {
		c = virConnectOpen(VIRT_URI);
		if (c) {
			virConnectClose(c);
			return 0;
		}
		if (now_ms() > deadline)
			break;
		sleep_ms(100);
	}
	set_err(err, errlen, "libvirtd: %s does not answer after %d ms: %s", VIRT_URI,
		timeout_ms, virt_msg());
	return -ETIMEDOUT;
}

static bool comm_is(int pid, const char *name)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, name) == 0;
}

int virt_daemons_stop(char *err, size_t errlen)
{
	char name[64];
	int pid, ret = 0;
	FILE *f;

	f = fopen(VIRT_DAEMONS_FILE, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	/* libvirtd was recorded after virtlogd: stopping in file order is
	 * fine, neither needs the other to shut down. */
	while (fscanf(f, "%63s %d", name, &pid) == 2) {
		/* A recycled pid belongs to someone else: leave it. */
		if (pid <= 1 || !comm_is(pid, name))
			continue;
		if (kill(pid, SIGTERM) < 0) {
			set_err(err, errlen, "stopping %s (pid %d): %s", name, pid,
				strerror(errno));
			ret = -errno;
			continue;
		}
		for (int i = 0; i < 100 && comm_is(pid, name); i++)
			sleep_ms(100);
		if (comm_is(pid, name)) {
			set_err(err, errlen, "stopping %s (pid %d): still running after 10 s",
				name, pid);
			ret = -ETIMEDOUT;
		}
	}
	fclose(f);
	if (ret == 0)
		unlink(VIRT_DAEMONS_FILE);
	return ret;
}

int virt_connect(virConnectPtr *conn, char *err, size_t errlen)
{
	virt_init();
	*conn = virConnectOpen(VIRT_URI);
	if (!*conn) {
		int ret = virt_errno();

		set_err(err, errlen, "libvirtd: connecting to %s: %s", VIRT_URI, virt_msg());
		return ret;
	}
	return 0;
}

void virt_disconnect(virConnectPtr conn)
{
	if (conn)
		virConnectClose(conn);
}

/* ---- domain XML ----------------------------------------------------------- */

static void xml_esc(FILE *f, const char *s);

/* QEMU runs with / as its working directory: relative paths are made
 * absolute against ours. */
static void xml_path(FILE *f, const char *path)
{
	char cwd[4096];

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
		xml_esc(f, cwd);
		fputc('/', f);
	}
	xml_esc(f, path);
}

static void xml_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

int virt_cmdline(char *buf, size_t len, const char *role, const char *node,
		 const char *fn, const char *ip, unsigned int mtu)
{
	size_t n;

	n = snprintf(buf, len, "console=ttyS0 panic=-1 quiet");
	if (role && n < len)
		n += snprintf(buf + n, len - n, " cadeia.role=%s", role);
	if (node && n < len)
		n += snprintf(buf + n, len - n, " cadeia.node=%s", node);
	if (fn && n < len)
		n += snprintf(buf + n, len - n, " cadeia.fn=%s", fn);
	if (ip && n < len)
		n += snprintf(buf + n, len - n, " cadeia.ip=%s", ip);
	if (mtu && n < len)
		n += snprintf(buf + n, len - n, " cadeia.mtu=%u", mtu);
	return n < len ? 0 : -ENAMETOOLONG;
}

/* cmdline has word w (as "w" or starting "w="). */
static bool has_param(const char *cmdline, const char *w)
{
	size_t wl = strlen(w);

	for (const char *p = cmdline; (p = strstr(p, w)); p += wl) {
		if ((p == cmdline || p[-1] == ' ') && (p[wl] == '=' || p[wl] == ' ' || !p[wl]))
			return true;
	}
	return false;
}

static int check_spec(const struct virt_domain_spec *s, char *err, size_t errlen)
{
	const char *n = s->name && *s->name ? s->name : NULL;

	if (!n) {
		set_err(err, errlen, "domain spec: no name");
		return -EINVAL;
	}
	if (!s->kernel || !s->initrd) {
		set_err(err, errlen, "domain %s: kernel and initrd are required", n);
		return -EINVAL;
	}
	if (s->accel && strcmp(s->accel, "tcg") && strcmp(s->accel, "kvm")) {
		set_err(err, errlen, "domain %s: accelerator \"%s\" is neither tcg nor kvm",
			n, s->accel);
		return -EINVAL;
	}
	for (int k = 0; k < 2; k++) {
		const char *tap = k ? s->tap2 : s->tap;

		if (!(k ? s->bridge2 : s->bridge))
			continue;
		if (k && !s->bridge) {
			set_err(err, errlen, "domain %s: a second NIC but no first", n);
			return -EINVAL;
		}
		if (!tap || !*tap || strlen(tap) >= IF_NAMESIZE) {
			set_err(err, errlen, "domain %s: tap name \"%s\" empty or longer than %d",
				n, tap ? tap : "", IF_NAMESIZE - 1);
			return -EINVAL;
		}
		/* libvirt renames taps called vnet* or macvtap* as it likes. */
		if (!strncmp(tap, "vnet", 4) || !strncmp(tap, "macv", 4)) {
			set_err(err, errlen, "domain %s: tap name %s is reserved by libvirt",
				n, tap);
			return -EINVAL;
		}
	}
	return 0;
}

static void xml_nic(FILE *f, const struct virt_domain_spec *s, const char *bridge,
		    const char *tap, const uint8_t m[6])
{
	char mac[18];

	cs_mac_format(m, mac);
	fprintf(f, "    <interface type='bridge'>\n      <mac address='%s'/>\n"
		"      <source bridge='", mac);
	xml_esc(f, bridge);
	fputs("'/>\n      <target dev='", f);
	xml_esc(f, tap);
	fprintf(f, "'/>\n      <model type='virtio'/>\n"
		"      <driver queues='%u'/>\n",
		s->queues ? s->queues : VIRT_DEF_QUEUES);
	if (s->mtu)
		fprintf(f, "      <mtu size='%u'/>\n", s->mtu);
	fputs("    </interface>\n", f);
}

int virt_domain_xml(const struct virt_domain_spec *s, char **xml, char *err, size_t errlen)
{
	bool kvm = s->accel && !strcmp(s->accel, "kvm");
	const char *cmdline = s->cmdline ? s->cmdline : "";
	size_t size;
	FILE *f;
	int ret;

	*xml = NULL;
	ret = check_spec(s, err, errlen);
	if (ret < 0)
		return ret;
	f = open_memstream(xml, &size);
	if (!f) {
		set_err(err, errlen, "domain %s: building XML: %s", s->name, strerror(errno));
		return -errno;
	}
	fprintf(f, "<domain type='%s'>\n  <name>", kvm ? "kvm" : "qemu");
	xml_esc(f, s->name);
	fputs("</name>\n", f);
	/* The run's ownership mark (sys/ownmark.h): teardown destroys only
	 * domains that carry it. */
	if (ownmark()) {
		fputs("  <metadata>\n    <cb:owner xmlns:cb='" OWNMARK_URI "'>", f);
		xml_esc(f, ownmark());
		fputs("</cb:owner>\n  </metadata>\n", f);
	}
	fprintf(f, ""
		"  <memory unit='MiB'>%u</memory>\n"
		"  <currentMemory unit='MiB'>%u</currentMemory>\n"
		"  <vcpu placement='static'>%u</vcpu>\n",
		s->memory_mib ? s->memory_mib : VIRT_DEF_MEMORY_MIB,
		s->memory_mib ? s->memory_mib : VIRT_DEF_MEMORY_MIB,
		s->vcpus ? s->vcpus : 1);
	fputs("  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n    <kernel>", f);
	xml_path(f, s->kernel);
	fputs("</kernel>\n    <initrd>", f);
	xml_path(f, s->initrd);
	fputs("</initrd>\n    <cmdline>", f);
	if (!has_param(cmdline, "console"))
		fputs("console=ttyS0 ", f);
	/* A panicked guest spins at 100 % CPU: reboot at once, which destroys. */
	if (!has_param(cmdline, "panic"))
		fputs("panic=-1 ", f);
	xml_esc(f, cmdline);
	fputs("</cmdline>\n  </os>\n  <features>\n    <acpi/>\n    <apic/>\n", f);
	/* TCG's translation cache defaults to 1 GiB per VM. */
	if (!kvm)
		fprintf(f, "    <tcg>\n      <tb-cache unit='MiB'>%u</tb-cache>\n    </tcg>\n",
			s->tb_cache_mib ? s->tb_cache_mib : VIRT_DEF_TB_CACHE_MIB);
	fputs("  </features>\n"
	      "  <clock offset='utc'/>\n"
	      "  <on_poweroff>destroy</on_poweroff>\n"
	      "  <on_reboot>destroy</on_reboot>\n"
	      "  <on_crash>destroy</on_crash>\n"
	      "  <devices>\n"
	      "    <controller type='usb' model='none'/>\n", f);
	/* In this order on the PCI bus, hence eth0 and eth1. */
	if (s->bridge)
		xml_nic(f, s, s->bridge, s->tap, s->mac);
	if (s->bridge2)
		xml_nic(f, s, s->bridge2, s->tap2, s->mac2);
	fputs("    <serial type='pty'>\n", f);
	if (s->console_log) {
		fputs("      <log file='", f);
		xml_path(f, s->console_log);
		fputs("' append='off'/>\n", f);
	}
	fputs("      <target port='0'/>\n    </serial>\n"
	      "    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n"
	      "    <channel type='unix'>\n"
	      "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
	      "    </channel>\n"
	      "    <memballoon model='none'/>\n"
	      "  </devices>\n"
	      "  <seclabel type='static' model='dac' relabel='no'>\n"
	      "    <label>+0:+0</label>\n"
	      "  </seclabel>\n"
	      "</domain>\n", f);
	if (fclose(f) != 0 || !*xml) {
		set_err(err, errlen, "domain %s: building XML: %s", s->name, strerror(errno));
		free(*xml);
		*xml = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* ---- domains -------------------------------------------------------------- */

int virt_port_isolate(const char *tap, const uint8_t mac[6], char *err, size_t errlen)
{
	const struct nl_brport_flags off = { 0 };
	int ret;

	ret = nl_brport_set_flags(NULL, tap, &off, err, errlen);
	if (ret < 0)
		return ret;
	/* As early as the tap exists: an OVS wire reflects the host's own
	 * router solicitations and MLD reports. */
	if ((ret = netns_if_no_ipv6(NULL, tap, err, errlen)) < 0)
		return ret;
	return nl_fdb_add(NULL, tap, mac, err, errlen);
}

int virt_port_wire(const char *tap, char *err, size_t errlen)
{
	const struct nl_brport_flags wire = { .unicast_flood = true, .mcast_flood = true,
					      .bcast_flood = true };
	int ret;

	ret = nl_brport_set_flags(NULL, tap, &wire, err, errlen);
	if (ret < 0)
		return ret;
	return netns_if_no_ipv6(NULL, tap, err, errlen);
}

/*
 * Besides the <metadata> mark: the domain's UUID in the run's directory, so
 * its libvirt log can be removed even once the domain is gone, and the mark
 * as alias of its taps, which libvirt leaves behind if its daemon dies.
 */
static int mark_domain(virDomainPtr dom, const struct virt_domain_spec *spec, char *err,
		       size_t errlen)
{
	char uuid[VIR_UUID_STRING_BUFLEN], msg[512];
	int ret = 0;

	if (!ownmark())
		return 0;
	if (virDomainGetUUIDString(dom, uuid) < 0) {
		ret = virt_errno();
		set_err(err, errlen, "starting domain %s: its UUID: %s", spec->name, virt_msg());
		return ret;
	}
	if (ownmark_dir() && (ret = ownmark_file_write("domain", spec->name, uuid)) < 0) {
		set_err(err, errlen, "starting domain %s: recording it in %s: %s", spec->name,
			ownmark_dir(), strerror(-ret));
		return ret;
	}
	if (spec->bridge)
		ret = nl_link_set_alias(NULL, spec->tap, ownmark(), msg, sizeof(msg));
	if (ret == 0 && spec->bridge2)
		ret = nl_link_set_alias(NULL, spec->tap2, ownmark(), msg, sizeof(msg));
	if (ret < 0)
		set_err(err, errlen, "starting domain %s: %s", spec->name, msg);
	return ret;
}

int virt_domain_start(virConnectPtr conn, const struct virt_domain_spec *spec,
		      virDomainPtr *domp, char *err, size_t errlen)
{
	virDomainPtr dom = NULL;
	char *xml = NULL;
	char msg[512];
	int ret;

	if (domp)
		*domp = NULL;
	ret = virt_domain_xml(spec, &xml, err, errlen);
	if (ret < 0)
		return ret;
	if (access(spec->kernel, R_OK) < 0 || access(spec->initrd, R_OK) < 0) {
		ret = -errno;
		set_err(err, errlen, "starting domain %s: kernel %s or initrd %s: %s",
			spec->name, spec->kernel, spec->initrd, strerror(errno));
		goto cleanup;
	}
	dom = virDomainCreateXML(conn, xml, 0);
	if (!dom) {
		ret = virt_errno();
		set_err(err, errlen, "starting domain %s: %s", spec->name, virt_msg());
		goto cleanup;
	}
	if ((ret = mark_domain(dom, spec, err, errlen)) < 0) {
		virDomainDestroy(dom);
		goto cleanup;
	}
	if (spec->bridge && !spec->keep_port_flags) {
		ret = spec->wire_port ? virt_port_wire(spec->tap, msg, sizeof(msg))
				      : virt_port_isolate(spec->tap, spec->mac, msg, sizeof(msg));
		if (ret == 0 && spec->bridge2)
			ret = virt_port_wire(spec->tap2, msg, sizeof(msg));
		if (ret < 0) {
			set_err(err, errlen, "starting domain %s: bridge port: %s",
				spec->name, msg);
			virDomainDestroy(dom);
			goto cleanup;
		}
	}
	if (domp) {
		*domp = dom;
		dom = NULL;
	}
	ret = 0;
cleanup:
	if (dom)
		virDomainFree(dom);
	free(xml);
	return ret;
}

int virt_domain_destroy(virConnectPtr conn, const char *name, char *err, size_t errlen)
{
	virDomainPtr dom;
	int ret = -1;

	dom = virDomainLookupByName(conn, name);
	if (!dom) {
		ret = virt_errno();
		set_err(err, errlen, "destroying domain %s: %s", name, virt_msg());
		return ret;
	}
	if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0) {
		char msg[512];

		ret = virt_errno();
		snprintf(msg, sizeof(msg), "%s", virt_msg());
		/* It may have powered off between the two calls. */
		if (ret != -ENOENT && virDomainIsActive(dom) == 1) {
			set_err(err, errlen, "destroying domain %s: %s", name, msg);
			goto cleanup;
		}
	}
	if (virDomainIsPersistent(dom) == 1 && virDomainUndefine(dom) < 0) {
		ret = virt_errno();
		set_err(err, errlen, "undefining domain %s: %s", name, virt_msg());
		goto cleanup;
	}
	ret = 0;
cleanup:
	virDomainFree(dom);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int virt_domain_list(virConnectPtr conn, const char *prefix, char ***names,
		     char *err, size_t errlen)
{
	virDomainPtr *doms = NULL;
	size_t plen = prefix ? strlen(prefix) : 0;
	int n, k = 0, ret = -1;
	char **out = NULL;

	*names = NULL;
	n = virConnectListAllDomains(conn, &doms, 0);
	if (n < 0) {
		ret = virt_errno();
		set_err(err, errlen, "libvirtd: listing domains: %s", virt_msg());
		return ret;
	}
	out = calloc(n + 1, sizeof(*out));
	if (!out) {
		ret = -ENOMEM;
		set_err(err, errlen, "listing domains: %s", strerror(ENOMEM));
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = virDomainGetName(doms[i]);

		if (!nm || strncmp(nm, prefix ? prefix : "", plen))
			continue;
		out[k] = strdup(nm);
		if (!out[k]) {
			ret = -ENOMEM;
			set_err(err, errlen, "listing domains: %s", strerror(ENOMEM));
			goto cleanup;
		}
		k++;
	}
	qsort(out, k, sizeof(*out), cmp_str);
	*names = out;
	out = NULL;
	ret = k;
cleanup:
	if (out)
		virt_names_free(out, k);
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	return ret;
}

void virt_names_free(char **names, int n)
{
	if (!names)
		return;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void tlog(void (*log)(const char *, void *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void tlog(void (*log)(const char *, void *), void *arg, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log(buf, arg);
}

int virt_teardown_prefix(const char *prefix, void (*log)(const char *what, void *arg),
			 void *arg)
{
	virConnectPtr conn = NULL;
	struct nl_link *links = NULL;
	char **names = NULL;
	char msg[512];
	int n, failures = 0;
	size_t nl = 0;

	/* An empty prefix would name every domain on the host. */
	if (!prefix || strlen(prefix) < 2) {
		tlog(log, arg, "virt teardown: refusing prefix \"%s\"", prefix ? prefix : "");
		return 1;
	}
	virt_init();
	if (sock_answers(VIRT_SOCK)) {
		if (virt_connect(&conn, msg, sizeof(msg)) < 0) {
			tlog(log, arg, "virt teardown %s: %s", prefix, msg);
			failures++;
		}
	}
	if (conn) {
		n = virt_domain_list(conn, prefix, &names, msg, sizeof(msg));
		if (n < 0) {
			tlog(log, arg, "virt teardown %s: %s", prefix, msg);
			failures++;
		}
		for (int i = 0; i < n; i++) {
			int r = virt_domain_destroy(conn, names[i], msg, sizeof(msg));

			if (r < 0 && r != -ENOENT) {
				tlog(log, arg, "%s", msg);
				failures++;
			} else {
				tlog(log, arg, "destroyed domain %s", names[i]);
			}
		}
		virt_names_free(names, n > 0 ? n : 0);
		virt_disconnect(conn);
	}
	/* libvirt deletes its taps with the domain; these are leftovers of a
	 * daemon that died. Only tuntap links: veths are the netns backend's. */
	if (nl_link_list(NULL, prefix, &links, &nl, msg, sizeof(msg)) < 0) {
		tlog(log, arg, "virt teardown %s: %s", prefix, msg);
		return failures + 1;
	}
	for (size_t i = 0; i < nl; i++) {
		if (strcmp(links[i].kind, "tun"))
			continue;
		if (nl_link_del(NULL, links[i].name, msg, sizeof(msg)) < 0 &&
		    nl_link_get(NULL, links[i].name, &(struct nl_link){ 0 }, NULL, 0) == 0) {
			tlog(log, arg, "%s", msg);
			failures++;
		} else {
			tlog(log, arg, "deleted tap %s", links[i].name);
		}
	}
	free(links);
	/* libvirt's own per-domain logs carry the prefix too: ours to remove. */
	{
		DIR *d = opendir("/var/log/libvirt/qemu");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char path[512];

			if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
				continue;
			snprintf(path, sizeof(path), "/var/log/libvirt/qemu/%s", de->d_name);
			if (unlink(path) == 0)
				tlog(log, arg, "removed %s", path);
		}
		if (d)
			closedir(d);
	}
	return failures;
}

/* ---- base64 --------------------------------------------------------------- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64chars[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64chars[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = b64chars[(in[i + 1] & 15) << 2];
		} else {
			*o++ = b64chars[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(int c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

/* Appends the decoded bytes of s to buf[*len], growing it (always
 * NUL-terminated). -EINVAL on a malformed string. */
static int b64_append(const char *s, char **buf, size_t *len)
{
	size_t sl = strlen(s);
	unsigned int acc = 0;
	int bits = 0, v;
	char *nb;

	nb = realloc(*buf, *len + sl * 3 / 4 + 4);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	for (; *s && *s != '='; s++) {
		if (*s == '\n' || *s == '\r')
			continue;
		v = b64_val(*s);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			(*buf)[(*len)++] = (acc >> bits) & 0xff;
		}
	}
	(*buf)[*len] = '\0';
	return 0;
}

/* ---- guest agent ---------------------------------------------------------- */

static int agent_timeout_s(int timeout_ms)
{
	if (timeout_ms <= 0)
		return VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT;
	return (timeout_ms + 999) / 1000;
}

/*
 * Sends {"execute": cmd, "arguments": args} (args stolen, may be NULL) and
 * returns the reply's "return" member in *ret (may be NULL), a new reference.
 */
static int agent_cmd(virDomainPtr dom, const char *cmd, json_t *args, int timeout_s,
		     json_t **retp, char *err, size_t errlen)
{
	/* Named now: every libvirt call resets the last error. */
	const char *name = dom_name(dom);
	json_t *req, *reply = NULL, *r;
	char *text = NULL, *out = NULL;
	json_error_t jerr;
	int ret = -EIO;

	if (retp)
		*retp = NULL;
	req = json_pack("{s:s}", "execute", cmd);
	if (!req) {
		json_decref(args);
		set_err(err, errlen, "guest agent of domain %s: %s: out of memory",
			name, cmd);
		return -ENOMEM;
	}
	if (args)
		json_object_set_new(req, "arguments", args);
	text = json_dumps(req, JSON_COMPACT);
	if (!text) {
		ret = -ENOMEM;
		set_err(err, errlen, "guest agent of domain %s: %s: out of memory",
			name, cmd);
		goto cleanup;
	}
	out = virDomainQemuAgentCommand(dom, text, timeout_s, 0);
	if (!out) {
		ret = virt_errno();
		set_err(err, errlen, "guest agent of domain %s: %s: %s", name, cmd, virt_msg());
		goto cleanup;
	}
	reply = json_loads(out, 0, &jerr);
	r = reply ? json_object_get(reply, "return") : NULL;
	if (!r) {
		set_err(err, errlen, "guest agent of domain %s: %s: unexpected reply %.200s",
			name, cmd, out);
		goto cleanup;
	}
	if (retp)
		*retp = json_incref(r);
	ret = 0;
cleanup:
	json_decref(reply);
	json_decref(req);
	free(text);
	free(out);
	return ret;
}

int virt_agent_ping(virDomainPtr dom, int timeout_ms, char *err, size_t errlen)
{
	return agent_cmd(dom, "guest-ping", NULL, agent_timeout_s(timeout_ms), NULL,
			 err, errlen);
}

void virt_exec_result_free(struct virt_exec_result *r)
{
	free(r->out);
	free(r->errout);
	r->out = r->errout = NULL;
	r->out_len = r->err_len = 0;
}

static int exec_data(virDomainPtr dom, json_t *st, const char *key, char **buf,
		     size_t *len, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(st, key));
	int ret;

	ret = b64_append(s ? s : "", buf, len);
	if (ret < 0)
		set_err(err, errlen, "guest agent of domain %s: guest-exec-status: bad %s",
			dom_name(dom), key);
	return ret;
}

int virt_agent_exec(virDomainPtr dom, const char *const argv[], int timeout_ms,
		    struct virt_exec_result *res, char *err, size_t errlen)
{
	json_t *args, *arr, *r = NULL, *st = NULL;
	long long deadline;
	int ret, pid, delay = 2;

	memset(res, 0, sizeof(*res));
	if (!argv || !argv[0]) {
		set_err(err, errlen, "guest agent of domain %s: guest-exec: empty command",
			dom_name(dom));
		return -EINVAL;
	}
	if (timeout_ms <= 0)
		timeout_ms = 30000;
	deadline = now_ms() + timeout_ms;
	arr = json_array();
	for (int i = 1; argv[i]; i++)
		json_array_append_new(arr, json_string(argv[i]));
	args = json_pack("{s:s, s:o, s:b}", "path", argv[0], "arg", arr, "capture-output", 1);
	ret = agent_cmd(dom, "guest-exec", args, agent_timeout_s(timeout_ms), &r, err, errlen);
	if (ret < 0)
		return ret;
	pid = json_integer_value(json_object_get(r, "pid"));
	json_decref(r);
	for (;;) {
		json_t *a = json_pack("{s:i}", "pid", pid);

		ret = agent_cmd(dom, "guest-exec-status", a, agent_timeout_s(timeout_ms), &st,
				err, errlen);
		if (ret < 0)
			goto fail;
		if (json_is_true(json_object_get(st, "exited")))
			break;
		json_decref(st);
		st = NULL;
		if (now_ms() > deadline) {
			set_err(err, errlen, "domain %s: %s (guest pid %d) still running after %d ms",
				dom_name(dom), argv[0], pid, timeout_ms);
			ret = -ETIMEDOUT;
			goto fail;
		}
		sleep_ms(delay);
		if (delay < 100)
			delay *= 2;
	}
	if (json_object_get(st, "signal")) {
		res->signal = json_integer_value(json_object_get(st, "signal"));
		res->exitcode = -1;
	} else {
		res->exitcode = json_integer_value(json_object_get(st, "exitcode"));
	}
	res->truncated = json_is_true(json_object_get(st, "out-truncated")) ||
			 json_is_true(json_object_get(st, "err-truncated"));
	ret = exec_data(dom, st, "out-data", &res->out, &res->out_len, err, errlen);
	if (ret == 0)
		ret = exec_data(dom, st, "err-data", &res->errout, &res->err_len, err, errlen);
	if (ret < 0)
		goto fail;
	json_decref(st);
	return 0;
fail:
	json_decref(st);
	virt_exec_result_free(res);
	return ret;
}

int virt_agent_sh(virDomainPtr dom, const char *script, int timeout_ms,
		  struct virt_exec_result *res, char *err, size_t errlen)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };

	return virt_agent_exec(dom, argv, timeout_ms, res, err, errlen);
}

static int file_open(virDomainPtr dom, const char *path, const char *mode, long long *h,
		     char *err, size_t errlen)
{
	json_t *r = NULL;
	char msg[512];
	int ret;

	ret = agent_cmd(dom, "guest-file-open",
			json_pack("{s:s, s:s}", "path", path, "mode", mode),
			agent_timeout_s(10000), &r, msg, sizeof(msg));
	if (ret < 0) {
		set_err(err, errlen, "%s (%s)", msg, path);
		return ret;
	}
	*h = json_integer_value(r);
	json_decref(r);
	return 0;
}

static int file_close(virDomainPtr dom, long long h, char *err, size_t errlen)
{
	return agent_cmd(dom, "guest-file-close", json_pack("{s:I}", "handle", (json_int_t)h),
			 agent_timeout_s(10000), NULL, err, errlen);
}

int virt_agent_write_file(virDomainPtr dom, const char *path, const void *data,
			  size_t len, char *err, size_t errlen)
{
	const unsigned char *p = data;
	size_t off = 0;
	long long h;
	int ret;

	ret = file_open(dom, path, "w", &h, err, errlen);
	if (ret < 0)
		return ret;
	while (off < len) {
		size_t n = len - off < FILE_CHUNK ? len - off : FILE_CHUNK;
		char *b64 = b64_encode(p + off, n);
		json_t *r = NULL;
		long long count;

		if (!b64) {
			ret = -ENOMEM;
			set_err(err, errlen, "domain %s: writing %s: out of memory",
				dom_name(dom), path);
			goto cleanup;
		}
		ret = agent_cmd(dom, "guest-file-write",
				json_pack("{s:I, s:s}", "handle", (json_int_t)h, "buf-b64", b64),
				agent_timeout_s(10000), &r, err, errlen);
		free(b64);
		if (ret < 0)
			goto cleanup;
		count = json_integer_value(json_object_get(r, "count"));
		json_decref(r);
		if (count <= 0) {
			ret = -EIO;
			set_err(err, errlen, "domain %s: writing %s: agent wrote nothing at %zu",
				dom_name(dom), path, off);
			goto cleanup;
		}
		off += count;
	}
	ret = 0;
cleanup:
	if (ret < 0)
		file_close(dom, h, NULL, 0);
	else
		ret = file_close(dom, h, err, errlen);
	return ret;
}

int virt_agent_read_file(virDomainPtr dom, const char *path, size_t max, char **data,
			 size_t *len, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	long long h;
	int ret;

	*data = NULL;
	*len = 0;
	ret = file_open(dom, path, "r", &h, err, errlen);
	if (ret < 0)
		return ret;
	for (;;) {
		json_t *r = NULL;
		const char *b64;
		bool eof;

		ret = agent_cmd(dom, "guest-file-read",
				json_pack("{s:I, s:i}", "handle", (json_int_t)h, "count", 65536),
				agent_timeout_s(10000), &r, err, errlen);
		if (ret < 0)
			goto cleanup;
		b64 = json_string_value(json_object_get(r, "buf-b64"));
		eof = json_is_true(json_object_get(r, "eof")) ||
		      json_integer_value(json_object_get(r, "count")) == 0;
		ret = b64_append(b64 ? b64 : "", &buf, &n);
		json_decref(r);
		if (ret < 0) {
			set_err(err, errlen, "domain %s: reading %s: bad base64 from the agent",
				dom_name(dom), path);
			goto cleanup;
		}
		if (n > max) {
			ret = -EFBIG;
			set_err(err, errlen, "domain %s: reading %s: larger than %zu bytes",
				dom_name(dom), path, max);
			goto cleanup;
		}
		if (eof)
			break;
	}
	ret = 0;
cleanup:
	if (ret < 0) {
		file_close(dom, h, NULL, 0);
		free(buf);
		return ret;
	}
	ret = file_close(dom, h, err, errlen);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	if (!buf)
		buf = calloc(1, 1);
	*data = buf;
	*len = n;
	return buf ? 0 : -ENOMEM;
}

/* ---- console log, readiness ----------------------------------------------- */

void virt_console_tail(const char *path, int nlines, char *buf, size_t len)
{
	char raw[8192], *start, *o = buf, *end = buf + len - 1;
	bool sep = false;
	ssize_t n;
	int fd, seen = 0;
	off_t size;

	if (!len)
		return;
	buf[0] = '\0';
	if (!path)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(raw) - 1)
		lseek(fd, size - (off_t)sizeof(raw) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	if (n <= 0)
		return;
	raw[n] = '\0';
	while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
		raw[--n] = '\0';
	for (start = raw + n; start > raw; start--) {
		/* Blank lines do not count. */
		if (start[-1] == '\n' && start[0] != '\n' && start[0] != '\r' && ++seen == nlines)
			break;
	}
	/* One line: non-empty lines joined with " | ", terminal escapes and
	 * control characters dropped. */
	for (char *p = start; *p && o < end; p++) {
		if (*p == '\033' && p[1] == '[') {
			for (p += 2; *p && !(*p >= '@' && *p <= '~'); p++)
				;
			if (!*p)
				break;
		} else if (*p == '\n') {
			sep = o > buf;
		} else if ((unsigned char)*p >= 0x20 && *p != 0x7f) {
			for (const char *s = " | "; sep && *s && o < end; s++)
				*o++ = *s;
			sep = false;
			if (o < end)
				*o++ = *p;
		}
	}
	*o = '\0';
}

/* The console line with "cadeia: FAILED", if any, into line[len]. */
static bool console_failed(const char *path, char *line, size_t len)
{
	char buf[512];
	bool found = false;
	FILE *f;

	if (!path)
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f)) {
		char *p = strstr(buf, "cadeia: FAILED");

		if (p) {
			p[strcspn(p, "\r\n")] = '\0';
			snprintf(line, len, "%s", p);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

int virt_ready_check(virDomainPtr dom, const char *console_log, char *err, size_t errlen)
{
	char tail[1536], line[256], *data = NULL;
	size_t len;
	int ret;

	if (virDomainIsActive(dom) != 1) {
		virt_console_tail(console_log, TAIL_LINES, tail, sizeof(tail));
		set_err(err, errlen, "domain %s stopped while booting; console: %s",
			dom_name(dom), tail);
		return -ESRCH;
	}
	if (console_failed(console_log, line, sizeof(line))) {
		virt_console_tail(console_log, TAIL_LINES, tail, sizeof(tail));
		set_err(err, errlen, "domain %s: %s; console: %s", dom_name(dom), line, tail);
		return -EIO;
	}
	if (virt_agent_ping(dom, 1000, NULL, 0) < 0)
		return 0;
	ret = virt_agent_read_file(dom, VIRT_READY_FILE, 4096, &data, &len, NULL, 0);
	if (ret < 0)
		return 0;
	data[strcspn(data, "\n")] = '\0';
	if (!strncmp(data, "ready", 5)) {
		ret = 1;
	} else if (!strncmp(data, "failed", 6)) {
		virt_console_tail(console_log, TAIL_LINES, tail, sizeof(tail));
		set_err(err, errlen, "domain %s: %s says \"%s\"; console: %s", dom_name(dom),
			VIRT_READY_FILE, data, tail);
		ret = -EIO;
	} else {
		ret = 0; /* being written */
	}
	free(data);
	return ret;
}

int virt_wait_ready(virDomainPtr dom, const char *console_log, int timeout_ms,
		    char *err, size_t errlen)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 60000);
	char tail[1536];
	int ret;

	for (;;) {
		ret = virt_ready_check(dom, console_log, err, errlen);
		if (ret != 0)
			return ret < 0 ? ret : 0;
		if (now_ms() > deadline)
			break;
		sleep_ms(200);
	}
	virt_console_tail(console_log, TAIL_LINES, tail, sizeof(tail));
	set_err(err, errlen, "domain %s: not ready after %d ms; console: %s", dom_name(dom),
		timeout_ms, tail[0] ? tail : "(empty)");
	return -ETIMEDOUT;
}

int virt_boot_many(virConnectPtr conn, const struct virt_domain_spec *specs, int n,
		   int max_booting, int timeout_ms, virDomainPtr *doms, double *boot_s,
		   char *err, size_t errlen)
{
	long long *t0 = NULL;
	int started = 0, ready = 0, booting = 0, ret = 0;
	bool *done = NULL;
	char tail[1536];

	/* n sizes the allocations below: a negative one is an error, not 16 EiB. */
	if (n < 0) {
		set_err(err, errlen, "booting %d domains: not a count", n);
		return -EINVAL;
	}
	if (max_booting <= 0)
		max_booting = VIRT_DEF_MAX_BOOTING;
	if (timeout_ms <= 0)
		timeout_ms = 120000;
	for (int i = 0; i < n; i++)
		doms[i] = NULL;
	t0 = calloc(n, sizeof(*t0));
	done = calloc(n, sizeof(*done));
	if (!t0 || !done) {
		set_err(err, errlen, "booting %d domains: out of memory", n);
		ret = -ENOMEM;
		goto cleanup;
	}
	while (ready < n) {
		while (booting < max_booting && started < n) {
			ret = virt_domain_start(conn, &specs[started], &doms[started], err, errlen);
			if (ret < 0)
				goto cleanup;
			t0[started++] = now_ms();
			booting++;
		}
		for (int i = 0; i < started; i++) {
			if (done[i])
				continue;
			ret = virt_ready_check(doms[i], specs[i].console_log, err, errlen);
			if (ret < 0)
				goto cleanup;
			if (ret == 1) {
				if (boot_s)
					boot_s[i] = (now_ms() - t0[i]) / 1000.0;
				done[i] = true;
				ready++;
				booting--;
				continue;
			}
			if (now_ms() - t0[i] > timeout_ms) {
				virt_console_tail(specs[i].console_log, TAIL_LINES, tail,
						  sizeof(tail));
				set_err(err, errlen, "domain %s: not ready after %d ms; console: %s",
					specs[i].name, timeout_ms, tail[0] ? tail : "(empty)");
				ret = -ETIMEDOUT;
				goto cleanup;
			}
		}
		/* Nothing to start: wait for a boot to finish. */
		if (ready < n && (booting >= max_booting || started == n))
			sleep_ms(200);
	}
	ret = 0;
cleanup:
	if (ret < 0) {
		for (int i = 0; i < n; i++) {
			if (doms[i])
				virDomainFree(doms[i]);
			doms[i] = NULL;
		}
	}
	free(t0);
	free(done);
	return ret;
}

/* ---- accelerator probe ---------------------------------------------------- */

static bool file_has(const char *path, const char *needle)
{
	char buf[512];
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!found && fgets(buf, sizeof(buf), f))
		found = strstr(buf, needle) != NULL;
	fclose(f);
	return found;
}

static int cache_store(const char *cache, const char *key, const char *accel,
		       const char *reason, double seconds, char *err, size_t errlen)
{
	char dir[4096], tmp[4200];
	json_t *root, *ent;
	char *slash;
	int ret;

	snprintf(dir, sizeof(dir), "%s", cache);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ret = mkdir_p(dir, 0755);
		if (ret < 0) {
			set_err(err, errlen, "accelerator cache %s: mkdir %s: %s", cache, dir,
				strerror(-ret));
			return ret;
		}
	}
	root = json_load_file(cache, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		root = json_object();
	}
	ent = json_pack("{s:s, s:s, s:I, s:f}", "accel", accel, "reason", reason,
			"probed_at", (json_int_t)time(NULL), "probe_seconds", seconds);
	json_object_set_new(root, key, ent);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", cache, getpid());
	if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ||
	    rename(tmp, cache) < 0) {
		ret = errno ? -errno : -EIO;
		set_err(err, errlen, "accelerator cache %s: writing: %s", cache, strerror(-ret));
		unlink(tmp);
		json_decref(root);
		return ret;
	}
	json_decref(root);
	return 0;
}

int virt_probe_accel(virConnectPtr conn, const struct virt_probe_opts *o, char *accel,
		     size_t len, bool *cached, char *key, size_t keylen,
		     char *err, size_t errlen)
{
	const char *cache = o->cache ? o->cache : VIRT_ACCEL_CACHE;
	int timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 20000;
	char k[256], log[4096], cmdline[256], reason[512], msg[512];
	struct virt_domain_spec spec = { 0 };
	unsigned long hv = 0;
	struct utsname u;
	long long t0, deadline;
	const char *answer = "tcg";
	virDomainPtr dom = NULL;
	json_t *root;
	int ret;

	*cached = false;
	uname(&u);
	if (virConnectGetVersion(conn, &hv) < 0) {
		ret = virt_errno();
		set_err(err, errlen, "libvirtd: QEMU version: %s", virt_msg());
		return ret;
	}
	snprintf(k, sizeof(k), "%s qemu-%lu.%lu.%lu", u.release, hv / 1000000,
		 hv / 1000 % 1000, hv % 1000);
	if (key)
		snprintf(key, keylen, "%s", k);
	/* CADEIA_KVM_PROBE=fail: the probe fails as if KVM could not boot, so
	 * tests can see the TCG fallback on any host; the cache is left alone. */
	if (getenv("CADEIA_KVM_PROBE") && !strcmp(getenv("CADEIA_KVM_PROBE"), "fail")) {
		snprintf(accel, len, "tcg");
		return 0;
	}

	root = o->force ? NULL : json_load_file(cache, 0, NULL);
	if (root) {
		const char *a = json_string_value(json_object_get(json_object_get(root, k),
								  "accel"));

		if (a && (!strcmp(a, "kvm") || !strcmp(a, "tcg"))) {
			snprintf(accel, len, "%s", a);
			*cached = true;
			json_decref(root);
			return 0;
		}
		json_decref(root);
	}

	t0 = now_ms();
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		snprintf(reason, sizeof(reason), "/dev/kvm: %s", strerror(errno));
		goto store;
	}
	if (o->console_log)
		snprintf(log, sizeof(log), "%s", o->console_log);
	else
		snprintf(log, sizeof(log), "%s/%s-console.log", VIRT_STATE_DIR, o->name);
	ret = mkdir_p(VIRT_STATE_DIR, 0755);
	if (ret < 0) {
		set_err(err, errlen, "KVM probe: mkdir %s: %s", VIRT_STATE_DIR, strerror(-ret));
		return ret;
	}
	unlink(log);
	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 panic=-1 cadeia.role=probe cadeia.node=%s",
		 o->name);
	spec.name = o->name;
	spec.accel = "kvm";
	spec.kernel = o->kernel;
	spec.initrd = o->initrd;
	spec.cmdline = cmdline;
	spec.console_log = log;
	ret = virt_domain_start(conn, &spec, &dom, msg, sizeof(msg));
	if (ret < 0) {
		/* Not a failure of the probe: KVM is just not usable. */
		snprintf(reason, sizeof(reason), "KVM domain did not start: %s", msg);
		goto store;
	}
	deadline = now_ms() + timeout_ms;
	snprintf(reason, sizeof(reason), "no \"cadeia: probe ok\" on the console within %d ms",
		 timeout_ms);
	while (now_ms() < deadline) {
		if (file_has(log, "cadeia: probe ok")) {
			answer = "kvm";
			snprintf(reason, sizeof(reason), "probe ok under KVM");
			break;
		}
		if (virDomainIsActive(dom) != 1) {
			/* It may have printed and powered off in between. */
			if (file_has(log, "cadeia: probe ok")) {
				answer = "kvm";
				snprintf(reason, sizeof(reason), "probe ok under KVM");
			} else {
				snprintf(reason, sizeof(reason),
					 "KVM guest stopped without \"cadeia: probe ok\"");
			}
			break;
		}
		sleep_ms(200);
	}
	if (virDomainIsActive(dom) == 1)
		virDomainDestroy(dom);
	virDomainFree(dom);
store:
	snprintf(accel, len, "%s", answer);
	return cache_store(cache, k, answer, reason, (now_ms() - t0) / 1000.0, err, errlen);
}

/* ---- memory --------------------------------------------------------------- */

int virt_domain_mem(const char *name, struct virt_mem *m, char *err, size_t errlen)
{
	char path[512], line[256];
	int found = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/run/libvirt/qemu/%s.pid", name);
	m->pid = read_pidfile(path);
	if (m->pid <= 0) {
		set_err(err, errlen, "domain %s: no QEMU pid in %s", name, path);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", m->pid);
	f = fopen(path, "re");
	if (!f) {
		int ret = -errno;

		set_err(err, errlen, "domain %s: %s: %s", name, path, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu", &m->rss_kib) == 1 ||
		    sscanf(line, "VmHWM: %llu", &m->hwm_kib) == 1)
			found++;
	}
	fclose(f);
	if (found < 2) {
		set_err(err, errlen, "domain %s: no VmRSS/VmHWM in %s", name, path);
		return -EIO;
	}
	return 0;
}
