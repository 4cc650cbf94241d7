#!/usr/bin/env bash
# Every stage passes the verifier of the guest kernel (Debian 12, 6.1), not
# only the host's: boot the image once under TCG, attach dec,enc,fwd,kwire
# and then the classifier with the image's cadeia-stage, detach each, power
# off. On a failed attach the loader's stderr (libbpf's verifier log) is
# printed as diagnostics.
#
# The guest's NIC sits on a QEMU hub with no other port: no host network
# resource is created and no frame leaves QEMU.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

TMP=$(mktemp -d /tmp/cbtO-gst.XXXXXX)
STAGE=/usr/bin/cadeia-stage

teardown() {
	kill_guests
	rm -rf "$TMP"
}
trap teardown EXIT

plan 16
# Skips unchanged inputs; otherwise embeds the current BPF objects.
make_image "$TMP/make.log"
need_tools "$QEMU"

ga() { qga 60 "$TMP/g.sock" "$@"; }

boot_guest "" g "cadeia.role=sf cadeia.node=t cadeia.fn=kwire" \
	-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=52:54:00:cb:70:01
if [ -s "$TMP/g.qpid" ]; then ok "QEMU started"; else
	fail "QEMU started"; sed 's/^/# /' "$TMP/g.err"; tap_done; exit 1; fi

wait_console g 'cadeia: \(ready\|FAILED\)' 60
if grep -q 'cadeia: ready' "$TMP/g.console" && [ "$(ga ping 2>/dev/null)" = pong ]; then
	ok "guest (kernel $(sed -n 's/.*"kernel_version": "\([^"]*\)".*/\1/p' "$IMG/manifest.json")) is ready, agent answers"
else
	fail "guest is ready, agent answers"
	diag "console: $(tr -d '\r' <"$TMP/g.console" 2>/dev/null | tail -n 5)"
	tap_done
	exit 1
fi

# load_check LIST [ATTACH ARGS...]: attach LIST on eth0, check show lists
# it, detach.
load_check() {
	local list=$1 out s missing=
	shift

	if ga exec $STAGE attach --node t --dev eth0 --stages "$list" "$@" >"$TMP/out" 2>&1; then
		ok "attach --stages $list${*:+ $*} on the guest kernel"
	else
		fail "attach --stages $list${*:+ $*} on the guest kernel"
		# The verifier's last words are where it stopped.
		grep -v '^$' "$TMP/out" | tail -n 40 | sed 's/^/# /'
		ga exec $STAGE detach --node t >/dev/null 2>&1
		return
	fi
	out=$(ga exec $STAGE show --node t 2>&1)
	for s in ${list//,/ }; do
		grep -q "^  stages .*\b$s\b" <<<"$out" || missing+=" $s"
	done
	if [ -z "$missing" ]; then ok "show --node t lists $list"; else
		fail "show --node t lists $list (missing:$missing)"; diag "$out"; fi
	check "detach --node t after $list" ga exec $STAGE detach --node t
	check "show --node t fails (status 1) after detach" says_no ga exec $STAGE show --node t
}

load_check dec,enc,fwd,kwire
load_check classifier
# Another kwire_mode is another program once rodata is frozen.
load_check kwire --kwire-mode nsh-host

# busybox poweroff -f: the agent may not answer it, the QEMU exit is the proof.
ga fire /bin/busybox poweroff -f >/dev/null 2>&1
check "guest powers off (QEMU exits)" guest_exited g

tap_done
