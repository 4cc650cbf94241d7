// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Domains: the XML of a guest, starting and destroying it, its host ports,
 * booting many within bounds, readiness from its console and agent, the
 * accelerator probe, and memory.
 */
#include "cadeia_stage.h"
#include "virt/virt.h"
#include "virt/virt_priv.h"

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

#define TAIL_LINES		12

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

long virt_tb_flushes(virDomainPtr dom)
{
	char *out = NULL, *p;
	long n = -1;

	/* HMP "info jit": "TB flush count      8" (TCG only). */
	if (virDomainQemuMonitorCommand(dom, "info jit", &out,
					VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0)
		return -1;
	p = out ? strstr(out, "TB flush count") : NULL;
	if (p)
		n = strtol(p + strlen("TB flush count"), NULL, 10);
	free(out);
	return n;
}

int virt_domain_pause(virDomainPtr dom, bool paused, char *err, size_t errlen)
{
	if ((paused ? virDomainSuspend(dom) : virDomainResume(dom)) == 0)
		return 0;
	snprintf(err, errlen, "domain %s: %s: %s", virt_dom_name(dom),
		 paused ? "pausing" : "resuming", virt_msg());
	return virt_errno();
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
			virt_dom_name(dom), tail);
		return -ESRCH;
	}
	if (console_failed(console_log, line, sizeof(line))) {
		virt_console_tail(console_log, TAIL_LINES, tail, sizeof(tail));
		set_err(err, errlen, "domain %s: %s; console: %s", virt_dom_name(dom), line, tail);
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
		set_err(err, errlen, "domain %s: %s says \"%s\"; console: %s", virt_dom_name(dom),
			VIRT_READY_FILE, data, tail);
		ret = -EIO;
	} else {
		ret = 0; /* being written */
	}
	free(data);
	return ret;
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
			t0[started++] = virt_now_ms();
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
					boot_s[i] = (virt_now_ms() - t0[i]) / 1000.0;
				done[i] = true;
				ready++;
				booting--;
				continue;
			}
			if (virt_now_ms() - t0[i] > timeout_ms) {
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
			virt_sleep_ms(200);
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
		ret = virt_mkdir_p(dir, 0755);
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

	t0 = virt_now_ms();
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		snprintf(reason, sizeof(reason), "/dev/kvm: %s", strerror(errno));
		goto store;
	}
	if (o->console_log)
		snprintf(log, sizeof(log), "%s", o->console_log);
	else
		snprintf(log, sizeof(log), "%s/%s-console.log", VIRT_STATE_DIR, o->name);
	ret = virt_mkdir_p(VIRT_STATE_DIR, 0755);
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
	deadline = virt_now_ms() + timeout_ms;
	snprintf(reason, sizeof(reason), "no \"cadeia: probe ok\" on the console within %d ms",
		 timeout_ms);
	while (virt_now_ms() < deadline) {
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
		virt_sleep_ms(200);
	}
	if (virDomainIsActive(dom) == 1)
		virDomainDestroy(dom);
	virDomainFree(dom);
store:
	snprintf(accel, len, "%s", answer);
	return cache_store(cache, k, answer, reason, (virt_now_ms() - t0) / 1000.0, err, errlen);
}

/* ---- memory --------------------------------------------------------------- */

int virt_domain_mem(const char *name, struct virt_mem *m, char *err, size_t errlen)
{
	char path[512], line[256];
	int found = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/run/libvirt/qemu/%s.pid", name);
	m->pid = virt_read_pidfile(path);
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
