// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Function processes: spawn with a ready handshake, check, stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sys/supervise.h"

/* fd number the child finds its end of the ready pipe on */
#define SV_READY_FD 3
#define SV_POLL_NS (5 * 1000 * 1000)

static void sv_set_err(struct cs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sv_set_err(struct cs_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void sv_status_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "wait status 0x%x", status);
}

static uint64_t sv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 1 = ended (and reaped now or before), 0 = running, <0 = -errno. */
static int sv_reap(struct sv_child *c, bool block)
{
	pid_t r;
	int st;

	if (c->reaped)
		return 1;
	do {
		r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	c->reaped = true;
	c->status = st;
	return 1;
}

static bool sv_ended_cleanly(int status)
{
	/* SIGTERM that arrived before the function installed its handler */
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	       (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

/* Only async-signal-safe calls: the orchestrator may have threads. */
static void sv_child_exec(const char *exe, char *const argv[], int ready_wr,
			  int logfd, pid_t parent, bool detach)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1, SIGPIPE, SIGCHLD, SIGHUP };
	struct sigaction dfl;
	sigset_t none;
	size_t i;
	int r, l = -1;

	if (detach) {
		if (setsid() < 0)
			_exit(127);
	} else {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(127);
		/* the parent may have died before prctl() took effect */
		if (getppid() != parent)
			_exit(127);
	}

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* out of the way of 0..3 first, then into place */
	r = fcntl(ready_wr, F_DUPFD, 10);
	if (r < 0)
		_exit(127);
	if (logfd >= 0) {
		l = fcntl(logfd, F_DUPFD, 10);
		if (l < 0 || dup2(l, STDOUT_FILENO) < 0 || dup2(l, STDERR_FILENO) < 0)
			_exit(127);
	}
	if (dup2(r, SV_READY_FD) < 0)
		_exit(127);
	close_range(SV_READY_FD + 1, ~0u, 0);

	execv(exe, argv);
	_exit(127);
}

int sv_wait(struct sv_child *c, int timeout_ms, struct cs_err *err)
{
	uint64_t deadline = sv_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	struct timespec ts = { .tv_sec = 0, .tv_nsec = SV_POLL_NS };
	int r;

	for (;;) {
		r = sv_reap(c, false);
		if (r < 0) {
			sv_set_err(err, "function %s on node %s (pid %d): waitpid: %s",
				   c->kind, c->node, (int)c->pid, strerror(-r));
			return r;
		}
		if (r == 1)
			return 0;
		if (sv_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	sv_set_err(err, "function %s on node %s (pid %d) still runs after %d ms",
		   c->kind, c->node, (int)c->pid, timeout_ms);
	return -ETIMEDOUT;
}

/* Waits for the ready byte. 0 = ready, 1 = pipe closed, -ETIMEDOUT, -errno. */
static int sv_wait_ready(int fd, int timeout_ms)
{
	uint64_t deadline = sv_now_ms() + (uint64_t)timeout_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b;

	for (;;) {
		uint64_t now = sv_now_ms();
		ssize_t n;
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline - now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, &b, 1);
		if (n == 1)
			return 0;
		if (n == 0)
			return 1;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/* `cadeia-bench fn` and its options, built before fork(). */
struct sv_args {
	const char *argv[24];
	char cpu[16], busy_poll[16], ready[8], delay[16];
};

static void sv_build_args(const struct sv_spawn_opts *o, struct sv_args *a)
{
	int n = 0;

	a->argv[n++] = "cadeia-bench";
	a->argv[n++] = "fn";
	a->argv[n++] = o->kind;
	if (o->node) {
		a->argv[n++] = "--node";
		a->argv[n++] = o->node;
	}
	if (o->netns) {
		a->argv[n++] = "--netns";
		a->argv[n++] = o->netns;
	}
	a->argv[n++] = "--dev";
	a->argv[n++] = o->dev;
	snprintf(a->ready, sizeof(a->ready), "%d", SV_READY_FD);
	a->argv[n++] = "--ready-fd";
	a->argv[n++] = a->ready;
	if (o->cpu >= 0) {
		snprintf(a->cpu, sizeof(a->cpu), "%d", o->cpu);
		a->argv[n++] = "--cpu";
		a->argv[n++] = a->cpu;
	}
	if (o->busy_poll_us > 0) {
		snprintf(a->busy_poll, sizeof(a->busy_poll), "%d", o->busy_poll_us);
		a->argv[n++] = "--busy-poll";
		a->argv[n++] = a->busy_poll;
	}
	if (o->rt)
		a->argv[n++] = "--rt";
	if (o->config) {
		a->argv[n++] = "--config";
		a->argv[n++] = o->config;
	}
	if (o->delay_us > 0) {
		snprintf(a->delay, sizeof(a->delay), "%u", o->delay_us);
		a->argv[n++] = "--delay-us";
		a->argv[n++] = a->delay;
	}
	a->argv[n] = NULL;
}

/* The started child's ready pipe: 0 once it is ready; otherwise it is
 * reaped (killed if need be) and err says why. */
static int sv_await_ready(struct sv_child *c, int fd, int timeout, const char *exe,
			  struct cs_err *err)
{
	char how[128];
	int r = sv_wait_ready(fd, timeout);

	if (r == 0)
		return 0;
	if (r == 1) {
		/* closed without a byte: it is on its way out */
		if (sv_wait(c, timeout, NULL) < 0) {
			kill(c->pid, SIGKILL);
			sv_reap(c, true);
		}
		sv_status_describe(c->status, how, sizeof(how));
		sv_set_err(err, "function %s on node %s (pid %d, %s) failed before ready: %s",
			   c->kind, c->node, (int)c->pid, exe, how);
		return -ECHILD;
	}
	kill(c->pid, SIGKILL);
	sv_reap(c, true);
	if (r == -ETIMEDOUT)
		sv_set_err(err, "function %s on node %s (pid %d) not ready within %d ms; killed",
			   c->kind, c->node, (int)c->pid, timeout);
	else
		sv_set_err(err, "function %s on node %s (pid %d): ready pipe: %s; killed",
			   c->kind, c->node, (int)c->pid, strerror(-r));
	return r;
}

int sv_spawn(struct sv_child *c, const struct sv_spawn_opts *o, struct cs_err *err)
{
	int timeout = o->ready_timeout_ms > 0 ? o->ready_timeout_ms : SV_READY_TIMEOUT_MS;
	const char *exe = o->exe ? o->exe : SV_EXE_SELF;
	struct sv_args args;
	int pfd[2] = { -1, -1 }, logfd = -1, ret = -1;
	pid_t parent, pid;

	memset(c, 0, sizeof(*c));
	snprintf(c->node, sizeof(c->node), "%s", o->node ? o->node : "?");
	snprintf(c->kind, sizeof(c->kind), "%s", o->kind ? o->kind : "?");
	if (!o->kind || !o->dev) {
		sv_set_err(err, "function on node %s: kind and device are required", c->node);
		return -EINVAL;
	}
	sv_build_args(o, &args);
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ret = -errno;
		sv_set_err(err, "function %s on node %s: pipe: %s", c->kind, c->node,
			   strerror(errno));
		goto cleanup;
	}
	if (o->log_path) {
		logfd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (logfd < 0) {
			ret = -errno;
			sv_set_err(err, "function %s on node %s: open log %s: %s", c->kind,
				   c->node, o->log_path, strerror(errno));
			goto cleanup;
		}
	}
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		sv_set_err(err, "function %s on node %s: fork: %s", c->kind, c->node,
			   strerror(errno));
		goto cleanup;
	}
	if (pid == 0)
		sv_child_exec(exe, (char *const *)args.argv, pfd[1], logfd, parent, o->detach);
	c->pid = pid;
	close(pfd[1]);
	pfd[1] = -1;
	ret = sv_await_ready(c, pfd[0], timeout, exe, err);
cleanup:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (logfd >= 0)
		close(logfd);
	return ret;
}

int sv_check(struct sv_child *c, struct cs_err *err)
{
	char how[128];
	int r;

	if (!c->pid) {
		sv_set_err(err, "function %s on node %s was never started", c->kind, c->node);
		return -ENOENT;
	}
	r = sv_reap(c, false);
	if (r < 0) {
		sv_set_err(err, "function %s on node %s (pid %d): waitpid: %s", c->kind,
			   c->node, (int)c->pid, strerror(-r));
		return r;
	}
	if (r == 0)
		return 0;
	sv_status_describe(c->status, how, sizeof(how));
	sv_set_err(err, "function %s on node %s (pid %d) died: %s", c->kind, c->node,
		   (int)c->pid, how);
	return -ESRCH;
}

/* Final verdict once c has been reaped after a SIGTERM (and maybe SIGKILL). */
static int sv_stop_verdict(struct sv_child *c, bool was_dead, bool killed, int grace_ms,
			   struct cs_err *err)
{
	char how[128];

	sv_status_describe(c->status, how, sizeof(how));
	if (was_dead) {
		sv_set_err(err, "function %s on node %s (pid %d) had already died: %s",
			   c->kind, c->node, (int)c->pid, how);
		return -ESRCH;
	}
	if (killed) {
		sv_set_err(err, "function %s on node %s (pid %d) ignored SIGTERM for %d ms; "
			   "killed with SIGKILL", c->kind, c->node, (int)c->pid, grace_ms);
		return -ETIMEDOUT;
	}
	if (!sv_ended_cleanly(c->status)) {
		sv_set_err(err, "function %s on node %s (pid %d) stopped badly: %s", c->kind,
			   c->node, (int)c->pid, how);
		return -ECHILD;
	}
	return 0;
}

int sv_stop_all(struct sv_child *v, size_t n, int grace_ms, struct cs_err *err)
{
	bool was_dead[n ? n : 1], killed[n ? n : 1], lost[n ? n : 1];
	struct cs_err e;
	uint64_t deadline;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = SV_POLL_NS };
	int ret = 0, r;
	size_t i, left;

	if (grace_ms <= 0)
		grace_ms = SV_STOP_GRACE_MS;
	for (i = 0; i < n; i++) {
		was_dead[i] = false;
		killed[i] = false;
		lost[i] = false;
		if (!v[i].pid)
			continue;
		r = sv_reap(&v[i], false);
		if (r < 0) {
			/* not our child any more (reaped elsewhere): never signal
			 * a pid that may have been reused */
			lost[i] = true;
			if (!ret) {
				ret = r;
				sv_set_err(err, "function %s on node %s (pid %d): waitpid: %s",
					   v[i].kind, v[i].node, (int)v[i].pid, strerror(-r));
			}
			continue;
		}
		if (r == 1) {
			was_dead[i] = true;
			continue;
		}
		if (kill(v[i].pid, SIGTERM) < 0 && errno != ESRCH && !ret) {
			ret = -errno;
			sv_set_err(err, "function %s on node %s (pid %d): kill SIGTERM: %s",
				   v[i].kind, v[i].node, (int)v[i].pid, strerror(errno));
		}
	}

	deadline = sv_now_ms() + (uint64_t)grace_ms;
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++)
			if (v[i].pid && !lost[i] && !v[i].reaped && sv_reap(&v[i], false) == 0)
				left++;
		if (!left || sv_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}

	for (i = 0; i < n; i++) {
		if (!v[i].pid || lost[i])
			continue;
		r = sv_reap(&v[i], false);
		if (r == 0) {
			kill(v[i].pid, SIGKILL);
			killed[i] = true;
			r = sv_reap(&v[i], true);
		}
		if (r < 0) {
			if (!ret) {
				ret = r;
				sv_set_err(err, "function %s on node %s (pid %d): waitpid: %s",
					   v[i].kind, v[i].node, (int)v[i].pid, strerror(-r));
			}
			continue;
		}
		r = sv_stop_verdict(&v[i], was_dead[i], killed[i], grace_ms, &e);
		if (r < 0 && !ret) {
			ret = r;
			if (err)
				*err = e;
		}
	}
	return ret;
}

int sv_stop(struct sv_child *c, int grace_ms, struct cs_err *err)
{
	return sv_stop_all(c, 1, grace_ms, err);
}

void sv_close_pipes(int a[2], int b[2])
{
	for (int i = 0; i < 2; i++) {
		if (a[i] >= 0)
			close(a[i]);
		if (b[i] >= 0)
			close(b[i]);
		a[i] = b[i] = -1;
	}
}
