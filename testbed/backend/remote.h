/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What libvirt cannot do on a remote host (its bridge and VXLAN device) is
 * done there by the project's own binary, `cadeia-bench hostnet`, started
 * over ssh: ssh is exec'd with a fixed argument vector (no local shell), in
 * batch mode (a key, never a password prompt), and every argument is checked
 * to hold only characters no shell gives a meaning to, because sshd hands
 * the remote command to the login shell of the remote user. The remote
 * binary's protocol version is checked before anything is created.
 *
 *   cadeia-bench hostnet version
 *   cadeia-bench hostnet up MARK BRIDGE MTU VNI LOCAL [MAC@VTEP ...]
 *   cadeia-bench hostnet port MARK TAP MAC
 *   cadeia-bench hostnet down MARK
 *
 * MARK is the run's ownership mark (sys/ownmark.h); up creates the bridge
 * and the VXLAN device "<id>-.vx" carrying it, with learning off, flooding
 * off and a static FDB (MAC@VTEP: that MAC is behind that VTEP); down
 * removes only links named "<id>-..." whose alias is MARK; port quiets a
 * guest's tap on the bridge (learning and flooding off, MAC static).
 */
#ifndef CADEIA_REMOTE_H
#define CADEIA_REMOTE_H

#include <stddef.h>

#define HOSTNET_VERSION "cadeia-bench hostnet protocol 1"
/* The remote command; CADEIA_REMOTE_BENCH overrides (a path on the host). */
#define REMOTE_BENCH_DEFAULT "cadeia-bench"
/* The key ssh uses; unset: ssh's own defaults (~/.ssh/id_*). */
#define REMOTE_KEY_ENV "CADEIA_SSH_KEY"
#define REMOTE_BENCH_ENV "CADEIA_REMOTE_BENCH"
/* An ssh client configuration file (-F), e.g. a test's known_hosts. */
#define REMOTE_CONFIG_ENV "CADEIA_SSH_CONFIG"

struct remote_target {
	char user[64];
	char host[256];
	char port[8];   /* "" = ssh's default */
};

/* From a libvirt URI "qemu+ssh://[user@]host[:port]/system". -EINVAL for
 * any other form (a local URI has no ssh target). */
int remote_target_parse(const char *uri, struct remote_target *t, char *err, size_t errlen);

/*
 * Runs `cadeia-bench ARGS...` on t over ssh; its stdout (at most outlen - 1
 * bytes) into out (may be NULL). 0 when it exits 0; otherwise -EIO with err
 * naming the host and the command's last words on stderr.
 */
int remote_bench(const struct remote_target *t, const char *const args[], char *out, size_t outlen,
		 char *err, size_t errlen);

/* The remote binary answers `hostnet version` with HOSTNET_VERSION. */
int remote_check_version(const struct remote_target *t, char *err, size_t errlen);

/* The agent's side: `cadeia-bench hostnet ...` (argv from "hostnet" on). */
int hostnet_main(int argc, char **argv);

#endif
