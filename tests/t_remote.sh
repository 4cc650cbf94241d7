#!/usr/bin/env bash
# A remote host reached the way a real one is (backend/remote.h,
# virt/image_upload.h), against this machine: an sshd started here on
# 127.0.0.1 with a host key and a login key made for the test (tests/ssh.sh),
# then build/tests/test_remote with CADEIA_TEST_REMOTE_URI=qemu+ssh://root@127.0.0.1:PORT/system:
# the agent's version over ssh, `hostnet up`/`down` over ssh (bridge and
# VXLAN device carrying the run's mark), the image into the storage pool
# through libvirt's qemu+ssh connection, and not again for the same digest.
# The sshd and every key go at the end.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh
. tests/ssh.sh

TMP=$(mktemp -d /tmp/cbtF-remote.XXXXXX)
teardown() {
	ssh_stop
	rm -rf "$TMP"
}
trap teardown EXIT

plan 5
need_built "$B" "${BUILD:-build}/tests/test_remote"
need_tools ssh ssh-keygen virsh ss
[ -x /usr/sbin/sshd ] || die "openssh-server is installed (make deps)"

ssh_start "$TMP" || die "sshd starts on 127.0.0.1 ($(tail -n 1 "$TMP/sshd.log" 2>/dev/null))"
check "sshd on 127.0.0.1:$SSH_PORT takes the test's key (and no password)" \
	ssh -F "$TMP/ssh_config" -o BatchMode=yes -p "$SSH_PORT" root@127.0.0.1 -- true
check "libvirt opens $SSH_URI" bash -c "virsh -c '$SSH_URI' uri >'$TMP/virsh.out' 2>&1"

CADEIA_TEST_REMOTE_URI=$SSH_URI CADEIA_SSH_CONFIG=$TMP/ssh_config CADEIA_REMOTE_BENCH=$PWD/$B \
	"${BUILD:-build}/tests/test_remote" >"$TMP/test_remote.out" 2>&1
rc=$?
sed 's/^/# /' "$TMP/test_remote.out"
check "test_remote over qemu+ssh: every check passes ($(tail -n 1 "$TMP/test_remote.out" | tr -d '#'))" \
	bash -c "[ $rc -eq 0 ] && head -n 1 '$TMP/test_remote.out' | grep -qx '1\\.\\.16' && ! grep -q '^not ok' '$TMP/test_remote.out'"

ssh_stop
check "sshd (pid $SSHD_PID) is stopped" bash -c "! kill -0 $SSHD_PID 2>/dev/null"
check "the test's keys are removed" ssh_gone
tap_done
