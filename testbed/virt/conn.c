// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The libvirt daemons (started by us when none answers) and the connection.
 *
 * QEMU runs as root with DAC relabelling off (a static <seclabel>), so libvirt
 * never chowns the image files in the checkout, and the serial console goes
 * through virtlogd (<log file=...>), which writes as root wherever the
 * results folder is.
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

#define LIBVIRTD		"/usr/sbin/libvirtd"
#define VIRTLOGD		"/usr/sbin/virtlogd"
#define VIRTLOGD_SOCK		"/run/libvirt/virtlogd-sock"

/* ---- daemons and connection ---------------------------------------------- */

bool virt_sock_answers(const char *path)
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
	return virt_sock_answers(VIRT_SOCK);
}

int virt_read_pidfile(const char *path)
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
	pid = virt_read_pidfile(pidfile);
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
	ret = virt_mkdir_p(VIRT_STATE_DIR, 0755);
	if (ret < 0) {
		set_err(err, errlen, "starting libvirt daemons: mkdir %s: %s",
			VIRT_STATE_DIR, strerror(-ret));
		return ret;
	}
	/* libvirtd's QEMU driver hands the console logs to virtlogd. */
	if (!virt_sock_answers(VIRTLOGD_SOCK)) {
		ret = start_daemon(VIRTLOGD, "virtlogd", "/run/virtlogd.pid", err, errlen);
		if (ret < 0)
			return ret;
		if (started)
			*started = true;
	}
	if (!virt_sock_answers(VIRT_SOCK)) {
		ret = start_daemon(LIBVIRTD, "libvirtd", "/run/libvirtd.pid", err, errlen);
		if (ret < 0)
			return ret;
		if (started)
			*started = true;
	}
	deadline = virt_now_ms() + timeout_ms;
	for (;;) {
		c = virConnectOpen(VIRT_URI);
		if (c) {
			virConnectClose(c);
			return 0;
		}
		if (virt_now_ms() > deadline)
			break;
		virt_sleep_ms(100);
	}
	set_err(err, errlen, "libvirtd: %s does not answer after %d ms: %s", VIRT_URI,
		timeout_ms, virt_msg());
	return -ETIMEDOUT;
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
