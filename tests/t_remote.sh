#!/usr/bin/env bash
# A remote host reached the way a real one is (backend/remote.h,
# virt/image_upload.h), against this machine: an sshd started here on
# 127.0.0.1 with a host key and a login key made for the test, then
# build/tests/test_remote with CADEIA_TEST_REMOTE_URI=qemu+ssh://root@127.0.0.1:PORT/system:
# the agent's version over ssh, `hostnet up`/`down` over ssh (bridge and
# VXLAN device carrying the run's mark), the image into the storage pool
# through libvirt's qemu+ssh connection, and not again for the same digest.
# The sshd and every key go at the end.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

TMP=$(mktemp -d /tmp/cbtF-remote.XXXXXX)
SSHD_PID=

stop_sshd() {
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	for i in $(seq 50); do
		[ -n "$SSHD_PID" ] && kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
}
teardown() {
	stop_sshd
	rm -rf "$TMP"
}
trap teardown EXIT

plan 5
need_built "$B" "${BUILD:-build}/tests/test_remote"
need_tools ssh ssh-keygen virsh
[ -x /usr/sbin/sshd ] || die "openssh-server is installed (make deps)"

# A port nobody listens on.
PORT=
for p in $(shuf -i 20000-60000 -n 20); do
	ss -Hltn "sport = :$p" | grep -q . || { PORT=$p; break; }
done
[ -n "$PORT" ] || die "a free TCP port on 127.0.0.1"

ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" -C cadeia-test-host
ssh-keygen -q -t ed25519 -N '' -f "$TMP/id" -C cadeia-test-login
cp "$TMP/id.pub" "$TMP/authorized_keys"
# StrictModes off: the key lives under /tmp, which is world-writable.
cat >"$TMP/sshd_config" <<EOC
Port $PORT
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $TMP/authorized_keys
StrictModes no
UsePAM no
PidFile $TMP/sshd.pid
EOC
cat >"$TMP/ssh_config" <<EOC
Host *
  StrictHostKeyChecking no
  UserKnownHostsFile $TMP/known_hosts
  IdentityFile $TMP/id
  IdentitiesOnly yes
  LogLevel ERROR
EOC
mkdir -p /run/sshd
/usr/sbin/sshd -f "$TMP/sshd_config" -E "$TMP/sshd.log"
for i in $(seq 50); do [ -s "$TMP/sshd.pid" ] && break; sleep 0.1; done
SSHD_PID=$(cat "$TMP/sshd.pid" 2>/dev/null)
check "sshd on 127.0.0.1:$PORT takes the test's key (and no password)" \
	ssh -F "$TMP/ssh_config" -o BatchMode=yes -p "$PORT" root@127.0.0.1 -- true

URI="qemu+ssh://root@127.0.0.1:$PORT/system?keyfile=$TMP/id&no_verify=1"
check "libvirt opens $URI" bash -c "virsh -c '$URI' uri >'$TMP/virsh.out' 2>&1"

CADEIA_TEST_REMOTE_URI=$URI CADEIA_SSH_CONFIG=$TMP/ssh_config CADEIA_REMOTE_BENCH=$PWD/$B \
	"${BUILD:-build}/tests/test_remote" >"$TMP/test_remote.out" 2>&1
rc=$?
sed 's/^/# /' "$TMP/test_remote.out"
check "test_remote over qemu+ssh: every check passes ($(tail -n 1 "$TMP/test_remote.out" | tr -d '#'))" \
	bash -c "[ $rc -eq 0 ] && head -n 1 '$TMP/test_remote.out' | grep -qx '1\\.\\.16' && ! grep -q '^not ok' '$TMP/test_remote.out'"

stop_sshd
check "sshd (pid $SSHD_PID) is stopped" bash -c "! kill -0 $SSHD_PID 2>/dev/null"
rm -f "$TMP/id" "$TMP/id.pub" "$TMP/authorized_keys" "$TMP/hostkey" "$TMP/hostkey.pub"
check "the test's keys are removed" bash -c "! ls '$TMP'/id* '$TMP'/hostkey* '$TMP/authorized_keys' 2>/dev/null | grep -q ."
tap_done
