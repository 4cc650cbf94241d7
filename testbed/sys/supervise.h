/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Supervision of function processes (testbed/traffic/fn.h) run by the orchestrator:
 * spawn with a ready handshake, liveness checks, stop.
 *
 * The child runs  EXE fn KIND --node NODE --netns NS --dev IF --ready-fd 3
 * [--cpu N] [--busy-poll USEC] [--rt], with PR_SET_PDEATHSIG=SIGKILL, so
 * killing the orchestrator (even with SIGKILL) kills its functions too
 * (unless spawned with .detach, for functions meant to outlive it).
 * PDEATHSIG fires when the *thread* that forked exits: spawn from the main
 * thread, or from one that lives as long as the children.
 *
 * The caller must not set SIGCHLD to SIG_IGN (children would be auto-reaped
 * and their exit status lost).
 *
 * Errors: 0 on success or a negative errno, with a one-line message in err.
 */
#ifndef CADEIA_SUPERVISE_H
#define CADEIA_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "cadeia_stage.h" /* struct cs_err */

#define SV_EXE_SELF "/proc/self/exe"
#define SV_READY_TIMEOUT_MS 5000
#define SV_STOP_GRACE_MS 2000

struct sv_child {
	char node[64];
	char kind[16];
	pid_t pid;   /* 0 = never started */
	bool reaped; /* status below is valid */
	int status;  /* wait status */
};

struct sv_spawn_opts {
	const char *exe;   /* NULL = SV_EXE_SELF; tests pass their own binary */
	const char *node;  /* for messages, and passed as --node */
	const char *kind;  /* "wire", "nsh-aware" */
	const char *netns; /* NULL = the orchestrator's netns */
	const char *dev;
	int cpu;           /* -1 = not pinned */
	int busy_poll_us;  /* 0 = off */
	unsigned delay_us; /* kind "delay": --delay-us; 0 = the function's default */
	bool rt;
	const char *config; /* firewall, nat, lb, monitor: --config FILE (traffic/fn_sf.h) */
	const char *log_path; /* child's stdout+stderr appended here; NULL = inherit */
	int ready_timeout_ms; /* 0 = SV_READY_TIMEOUT_MS */
	bool detach;       /* no PDEATHSIG, own session: survives the caller */
};

/*
 * Forks and execs the function and waits until it reports ready. On failure
 * the child is killed and reaped, and err says why, including how it ended
 * ("exited with status 1", "killed by signal 9"). c->pid stays set either way.
 */
int sv_spawn(struct sv_child *c, const struct sv_spawn_opts *o, struct cs_err *err);

/*
 * Non-blocking liveness check. 0 = running; -ESRCH = it has ended (reaped
 * now or earlier), err like
 *   "function wire on node sf3 (pid 1234) died: killed by signal 9 (Killed)".
 */
int sv_check(struct sv_child *c, struct cs_err *err);

/* Waits up to timeout_ms for the child to end; reaps it. 0 once ended,
 * -ETIMEDOUT if it still runs. */
int sv_wait(struct sv_child *c, int timeout_ms, struct cs_err *err);

/*
 * SIGTERM, then SIGKILL after grace_ms (0 = SV_STOP_GRACE_MS); always reaps.
 * 0 if the function exited with status 0; otherwise the process is still
 * gone and err says how it ended (-ETIMEDOUT: needed SIGKILL; -ESRCH: it had
 * died before; -ECHILD: it exited with an error).
 */
int sv_stop(struct sv_child *c, int grace_ms, struct cs_err *err);

/* Stops several at once: SIGTERM to all, one shared grace period, then
 * SIGKILL and reap. Returns the first error (in err), 0 if all were clean. */
int sv_stop_all(struct sv_child *v, size_t n, int grace_ms, struct cs_err *err);

/* Closes the ends of two pipe(2) pairs that are open (>= 0) and marks them -1. */
void sv_close_pipes(int a[2], int b[2]);

/* "exited with status 1", "killed by signal 9 (Killed)". */
void sv_status_describe(int status, char *buf, size_t len);

#endif /* CADEIA_SUPERVISE_H */
