/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The underlay's delay line: traffic/delayline.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "sys/netns.h"
#include "traffic/delayline.h"

#define DL_SLOTS 512
/* Sleep until this close to a frame's time, then spin: a wake-up from
 * ppoll() takes tens of microseconds on this machine. */
#define DL_SPIN_NS 60000LL

struct dl_slot {
	bool used;
	long long due_ns;
	int out;
	unsigned len;
	uint8_t *buf;
};

struct dl_state {
	const struct dl_opts *o;
	int fd[DL_MAX_PORTS];
	struct dl_slot slot[DL_SLOTS];
	unsigned count;
	size_t frame_max;
	unsigned long long forwarded, dropped;
};

static volatile sig_atomic_t dl_stop;
/* Frame memory dl_spawn allocates before fork(): the orchestrator may have
 * threads, and the child should not call malloc(). */
static uint8_t *dl_prealloc;

static void on_term(int sig)
{
	(void)sig;
	dl_stop = 1;
}

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static long long now_ns(void)
{
	struct timespec t;

	/* SO_TIMESTAMPNS stamps in CLOCK_REALTIME. */
	clock_gettime(CLOCK_REALTIME, &t);
	return ts_ns(&t);
}

static int open_port(const char *ifname, char *err, size_t errlen)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, fd;

	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		snprintf(err, errlen, "delay line: port %s: %s", ifname, strerror(errno));
		return -errno;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    /* What we send out of a port must not come back in as received. */
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
		int e = errno;

		snprintf(err, errlen, "delay line: socket on port %s: %s", ifname, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static void enqueue(struct dl_state *s, int out, const uint8_t *buf, unsigned len, long long due)
{
	struct dl_slot *sl;

	if (s->count == DL_SLOTS) {
		s->dropped++;
		return;
	}
	/* Delays differ per pair of ports, so the slots are not a FIFO: any
	 * free one, and the earliest due goes first (a few slots are in use at
	 * the rates probes run at). */
	for (sl = s->slot; sl->used; sl++)
		;
	sl->used = true;
	sl->due_ns = due;
	sl->out = out;
	sl->len = len;
	memcpy(sl->buf, buf, len);
	s->count++;
}

/* Every frame waiting on port k; the destination MAC picks the way out. */
static void receive(struct dl_state *s, int k, uint8_t *buf)
{
	const struct dl_opts *o = s->o;

	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(struct timespec))];
		struct iovec iov = { .iov_base = buf, .iov_len = s->frame_max };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		long long t = 0;
		ssize_t n = recvmsg(s->fd[k], &m, MSG_DONTWAIT);
		int out = -1;

		if (n < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
				t = ts_ns((const struct timespec *)CMSG_DATA(c));
		if (!t)
			t = now_ns();
		if (n < ETH_HLEN || (m.msg_flags & MSG_TRUNC)) {
			s->dropped++;
			continue;
		}
		for (int j = 0; j < o->n; j++)
			if (j != k && memcmp(buf, o->mac[j], 6) == 0)
				out = j;
		for (int j = 0; j < o->n; j++)
			if (j != k && (out < 0 || j == out))
				enqueue(s, j, buf, n,
					t + ((long long)o->base_us + o->delay_us[k] + o->delay_us[j]) * 1000);
	}
}

/* The used slot due first; NULL if none. */
static struct dl_slot *earliest(struct dl_state *s)
{
	struct dl_slot *best = NULL;
	unsigned seen = 0;

	for (unsigned i = 0; i < DL_SLOTS && seen < s->count; i++) {
		if (!s->slot[i].used)
			continue;
		seen++;
		if (!best || s->slot[i].due_ns < best->due_ns)
			best = &s->slot[i];
	}
	return best;
}

static void send_due(struct dl_state *s)
{
	struct dl_slot *sl;

	while ((sl = earliest(s)) && sl->due_ns <= now_ns()) {
		if (send(s->fd[sl->out], sl->buf, sl->len, MSG_DONTWAIT) == (ssize_t)sl->len)
			s->forwarded++;
		else
			s->dropped++;
		sl->used = false;
		s->count--;
	}
}

static int dl_loop(struct dl_state *s, uint8_t *rxbuf)
{
	const struct dl_opts *o = s->o;
	struct pollfd pfd[DL_MAX_PORTS];

	for (int k = 0; k < o->n; k++)
		pfd[k] = (struct pollfd){ .fd = s->fd[k], .events = POLLIN };
	while (!dl_stop) {
		struct timespec tmo, *tp = NULL;
		long long wait;

		struct dl_slot *next;

		send_due(s);
		if ((next = earliest(s))) {
			wait = next->due_ns - now_ns() - DL_SPIN_NS;
			if (wait < 0)
				wait = 0;
			tmo.tv_sec = wait / 1000000000LL;
			tmo.tv_nsec = wait % 1000000000LL;
			tp = &tmo;
		}
		if (ppoll(pfd, o->n, tp, NULL) < 0 && errno != EINTR)
			return -errno;
		for (int k = 0; k < o->n; k++)
			if (pfd[k].revents & POLLIN)
				receive(s, k, rxbuf);
	}
	return 0;
}

int dl_run(const struct dl_opts *o, int ready_fd, char *err, size_t errlen)
{
	static struct dl_state s;
	struct sigaction sa = { .sa_handler = on_term };
	uint8_t *pool = NULL, *rxbuf;
	int ret = -1, nsfd = -1;

	memset(&s, 0, sizeof(s));
	s.o = o;
	for (int k = 0; k < DL_MAX_PORTS; k++)
		s.fd[k] = -1;
	if (o->n < 2 || o->n > DL_MAX_PORTS) {
		snprintf(err, errlen, "delay line: %d ports, need 2..%d", o->n, DL_MAX_PORTS);
		return -EINVAL;
	}
	s.frame_max = o->mtu + ETH_HLEN + 64;
	pool = dl_prealloc ? dl_prealloc : calloc(DL_SLOTS + 1, s.frame_max);
	dl_prealloc = NULL;
	if (!pool) {
		snprintf(err, errlen, "delay line: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (int i = 0; i < DL_SLOTS; i++)
		s.slot[i].buf = pool + (size_t)i * s.frame_max;
	rxbuf = pool + (size_t)DL_SLOTS * s.frame_max;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Timer slack 1 ns: the default 50 µs would be most of a short delay. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	if (o->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o->cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (o->netns) {
		nsfd = netns_open(o->netns, err, errlen);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
			ret = nsfd < 0 ? nsfd : -errno;
			if (nsfd >= 0)
				snprintf(err, errlen, "delay line: entering netns %s: %s", o->netns,
					 strerror(errno));
			goto cleanup;
		}
	}
	for (int k = 0; k < o->n; k++) {
		s.fd[k] = open_port(o->ifname[k], err, errlen);
		if (s.fd[k] < 0) {
			ret = s.fd[k];
			goto cleanup;
		}
	}
	if (ready_fd >= 0 && write(ready_fd, "r", 1) != 1) {
		ret = -errno;
		snprintf(err, errlen, "delay line: ready pipe: %s", strerror(errno));
		goto cleanup;
	}
	ret = dl_loop(&s, rxbuf);
	if (ret < 0)
		snprintf(err, errlen, "delay line: poll: %s", strerror(-ret));
	else
		snprintf(err, errlen, "delay line: %llu frames forwarded, %llu dropped",
			 s.forwarded, s.dropped);
cleanup:
	for (int k = 0; k < o->n; k++)
		if (s.fd[k] >= 0)
			close(s.fd[k]);
	if (nsfd >= 0)
		close(nsfd);
	free(pool);
	return ret;
}

int dl_spawn(const struct dl_opts *o, bool detach, const char *log_path, pid_t *pid, char *err,
	     size_t errlen)
{
	pid_t parent = getpid();
	int p[2], logfd = -1, ret = -1;
	struct pollfd pf;
	char c;

	*pid = 0;
	dl_prealloc = calloc(DL_SLOTS + 1, o->mtu + ETH_HLEN + 64);
	if (!dl_prealloc) {
		snprintf(err, errlen, "delay line: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (log_path) {
		logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (logfd < 0) {
			ret = -errno;
			snprintf(err, errlen, "delay line: opening %s: %s", log_path, strerror(errno));
			goto cleanup;
		}
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		ret = -errno;
		snprintf(err, errlen, "delay line: pipe: %s", strerror(errno));
		goto cleanup;
	}
	*pid = fork();
	if (*pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "delay line: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		goto cleanup;
	}
	if (*pid == 0) {
		char msg[256] = "";
		int r;

		close(p[0]);
		if (detach ? setsid() < 0
			   : prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		if (logfd >= 0) {
			dup2(logfd, STDOUT_FILENO);
			dup2(logfd, STDERR_FILENO);
		}
		r = dl_run(o, p[1], msg, sizeof(msg));
		if (*msg) {
			size_t n = strlen(msg);

			msg[n] = '\n';
			if (write(STDERR_FILENO, msg, n + 1) < 0)
				_exit(1);
		}
		_exit(r < 0 ? 1 : 0);
	}
	close(p[1]);
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	if (poll(&pf, 1, 5000) == 1 && read(p[0], &c, 1) == 1) {
		ret = 0;
	} else {
		int st = 0;

		kill(*pid, SIGKILL);
		waitpid(*pid, &st, 0);
		ret = -ECHILD;
		snprintf(err, errlen, "delay line in netns %s did not start (%s %d)%s%s",
			 o->netns ? o->netns : "(current)",
			 WIFEXITED(st) ? "exit status" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log_path ? "; see " : "",
			 log_path ? log_path : "");
	}
	close(p[0]);
cleanup:
	/* The child has its own copy; this process does not need it. */
	free(dl_prealloc);
	dl_prealloc = NULL;
	if (logfd >= 0)
		close(logfd);
	return ret;
}
