/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Frames and traffic for the lab checkers: captures on host-side links,
 * ping and UDP from inside a node, processes in a node's namespace. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab_priv.h"

void lab_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void parse_ipv4(const uint8_t *p, size_t len, struct lab_frame *f)
{
	size_t ihl;

	if (len < 20 || (p[0] >> 4) != 4)
		return;
	ihl = (size_t)(p[0] & 0xF) * 4;
	if (ihl < 20 || len < ihl)
		return;
	f->ipv4 = true;
	f->proto = p[9];
	memcpy(&f->saddr, p + 12, 4);
	memcpy(&f->daddr, p + 16, 4);
	p += ihl;
	len -= ihl;
	if ((f->proto == IPPROTO_UDP || f->proto == IPPROTO_TCP) && len >= 4) {
		f->sport = rd16(p);
		f->dport = rd16(p + 2);
	} else if (f->proto == IPPROTO_ICMP && len >= 1) {
		f->icmp_type = p[0];
	}
}

bool lab_frame_parse(const uint8_t *p, size_t len, struct lab_frame *f)
{
	uint16_t type, w0;
	size_t nsh_len;

	if (len < ETH_HLEN)
		return false;
	memcpy(f->dst, p, 6);
	memcpy(f->src, p + 6, 6);
	type = rd16(p + 12);
	p += ETH_HLEN;
	len -= ETH_HLEN;
	if (type == ETH_P_NSH_) {
		if (len < NSH_BASE_LEN)
			return true;
		w0 = rd16(p);
		f->nsh = true;
		f->ttl = nsh_w0_ttl(w0);
		f->np = p[3];
		f->spi = nsh_path_spi(rd32(p + 4));
		f->si = nsh_path_si(rd32(p + 4));
		nsh_len = (size_t)nsh_w0_len(w0) * 4;
		if (nsh_len < NSH_BASE_LEN || len < nsh_len)
			return true;
		p += nsh_len;
		len -= nsh_len;
		if (f->np == NSH_NP_ETH) {
			if (len < ETH_HLEN || rd16(p + 12) != ETH_P_IP)
				return true;
			p += ETH_HLEN;
			len -= ETH_HLEN;
		} else if (f->np != NSH_NP_IPV4) {
			return true;
		}
		parse_ipv4(p, len, f);
	} else if (type == ETH_P_IP) {
		parse_ipv4(p, len, f);
	}
	return true;
}

int lab_cap_open(struct lab_cap *cap, const char *ifname, char *err, size_t errlen)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int rcvbuf = 4 << 20;

	memset(cap, 0, sizeof(*cap));
	snprintf(cap->ifname, sizeof(cap->ifname), "%s", ifname);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		snprintf(err, errlen, "link %s: %s", ifname, strerror(errno));
		return -1;
	}
	cap->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (cap->fd < 0) {
		snprintf(err, errlen, "capture socket on %s: %s", ifname, strerror(errno));
		return -1;
	}
	setsockopt(cap->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(cap->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		snprintf(err, errlen, "capture on %s: bind: %s", ifname, strerror(errno));
		close(cap->fd);
		cap->fd = -1;
		return -1;
	}
	return 0;
}

void lab_cap_drain(struct lab_cap *cap)
{
	uint8_t buf[2048];
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t len;

	for (;;) {
		struct lab_frame f = { 0 };

		fl = sizeof(from);
		len = recvfrom(cap->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (len < 0)
			break;
		if (!lab_frame_parse(buf, (size_t)len, &f) || cap->n >= LAB_CAP_MAX)
			continue;
		f.outgoing = from.sll_pkttype == PACKET_OUTGOING;
		cap->f[cap->n++] = f;
	}
}

void lab_cap_close(struct lab_cap *cap)
{
	if (cap->fd >= 0)
		close(cap->fd);
	cap->fd = -1;
}

static int enter_netns(const char *netns)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

int lab_ping(const char *netns, uint32_t dst, int count, char *err, size_t errlen)
{
	char addr[INET_ADDRSTRLEN], cnt[16], out[4096] = "";
	const char *p;
	size_t used = 0;
	int pipefd[2], status, received = -1;
	ssize_t n;
	pid_t pid;

	inet_ntop(AF_INET, &dst, addr, sizeof(addr));
	snprintf(cnt, sizeof(cnt), "%d", count);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		if (enter_netns(netns) < 0)
			_exit(127);
		execlp("ping", "ping", "-n", "-q", "-c", cnt, "-i", "0.2", "-W", "1", addr,
		       (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (used < sizeof(out) - 1 &&
	       (n = read(pipefd[0], out + used, sizeof(out) - 1 - used)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	p = strstr(out, "transmitted, ");
	if (p && sscanf(p, "transmitted, %d", &received) == 1)
		return received;
	snprintf(err, errlen, "ping %s in netns %s did not run (status %d): %.200s", addr, netns,
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
	return -1;
}

struct udp_args {
	uint16_t port;
	int fd;
	int err;
};

static int udp_in_netns(void *arg)
{
	struct udp_args *a = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(a->port) };

	a->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		a->err = errno;
		return -1;
	}
	if (a->port && bind(a->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		a->err = errno;
		close(a->fd);
		a->fd = -1;
		return -1;
	}
	return 0;
}

int lab_udp_socket(const char *netns, uint16_t port, char *err, size_t errlen)
{
	struct udp_args a = { .port = port, .fd = -1 };
	struct cs_err cerr = { "" };

	if (cs_in_netns(netns, udp_in_netns, &a, &cerr) < 0 || a.fd < 0) {
		snprintf(err, errlen, "UDP socket (port %u) in netns %s: %s", port, netns,
			 cerr.msg[0] ? cerr.msg : strerror(a.err));
		return -1;
	}
	return a.fd;
}

int lab_udp_count(int fd)
{
	char buf[2048];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), 0) >= 0)
		n++;
	return n;
}

int lab_netns_pids(const char *netns, pid_t *pids, int max)
{
	char path[300];
	struct stat want, st;
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	if (stat(path, &want) < 0)
		return 0;
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

pid_t lab_spawn_in_netns(const char *netns, char *const argv[], const char *log, char *err,
			 size_t errlen)
{
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (enter_netns(netns) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

void lab_stop(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		lab_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}
