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

BUILD=${BUILD:-build}
IMG=$BUILD/image
TMP=$(mktemp -d /tmp/cbtO-gst.XXXXXX)
QEMU=qemu-system-x86_64
STAGE=/usr/bin/cadeia-stage

teardown() {
	local pid
	# Our QEMU only: its pid is checked against its command line first.
	if [ -s "$TMP/qpid" ]; then
		pid=$(cat "$TMP/qpid")
		grep -qs "$TMP" "/proc/$pid/cmdline" && kill "$pid"
	fi
	rm -rf "$TMP"
}
trap teardown EXIT

# Skips unchanged inputs; otherwise embeds the current BPF objects.
if ! make -s image >"$TMP/make.log" 2>&1; then
	fail "make image"
	sed 's/^/# /' "$TMP/make.log"
	tap_done
	exit 1
fi
ok "make image"
if ! command -v "$QEMU" >/dev/null; then
	fail "$QEMU is installed"
	tap_done
	exit 1
fi

# A minimal qemu-guest-agent client: ga ping | exec PATH ARGS... | fire PATH ARGS...
cat >"$TMP/ga.py" <<'EOF'
import base64, json, os, socket, sys, time
sock, cmd = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sock)
f = s.makefile("rwb", buffering=0)
def reply():
    while True:
        line = f.readline()
        if not line:
            sys.exit("agent closed the connection")
        line = line.strip().lstrip(b"\xff")
        if line:
            return json.loads(line)
def call(execute, **args):
    f.write(json.dumps({"execute": execute, "arguments": args}).encode() + b"\n")
    r = reply()
    if "error" in r:
        sys.exit("%s: %s" % (execute, r["error"]))
    return r["return"]
# Skip whatever an earlier client left unread.
token = int.from_bytes(os.urandom(4), "little")
f.write(b"\xff" + json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": token}}).encode() + b"\n")
while reply().get("return") != token:
    pass
if cmd == "ping":
    call("guest-ping")
    print("pong")
elif cmd in ("exec", "fire"):
    pid = call("guest-exec", path=sys.argv[3], arg=sys.argv[4:], **{"capture-output": True})["pid"]
    if cmd == "fire":
        sys.exit(0)
    while True:
        st = call("guest-exec-status", pid=pid)
        if st["exited"]:
            break
        time.sleep(0.05)
    sys.stdout.write(base64.b64decode(st.get("out-data", "")).decode(errors="replace"))
    sys.stderr.write(base64.b64decode(st.get("err-data", "")).decode(errors="replace"))
    sys.exit(st.get("exitcode", 1))
EOF
ga() { timeout 60 python3 "$TMP/ga.py" "$TMP/ga.sock" "$@"; }

"$QEMU" -accel tcg -m 256 -smp 1 -display none -no-reboot \
	-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
	-append "console=ttyS0 panic=-1 quiet cadeia.role=sf cadeia.node=t cadeia.fn=kwire" \
	-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=52:54:00:cb:70:01 \
	-device virtio-serial \
	-chardev "socket,path=$TMP/ga.sock,server=on,wait=off,id=ga" \
	-device virtserialport,chardev=ga,name=org.qemu.guest_agent.0 \
	-serial "file:$TMP/console" -pidfile "$TMP/pid" -daemonize 2>"$TMP/qemu.err"
# QEMU removes its pid file at exit: keep a copy for teardown.
cp "$TMP/pid" "$TMP/qpid" 2>/dev/null
if [ -s "$TMP/qpid" ]; then ok "QEMU started"; else
	fail "QEMU started"; sed 's/^/# /' "$TMP/qemu.err"; tap_done; exit 1; fi

for ((i = 0; i < 600; i++)); do
	grep -q 'cadeia: \(ready\|FAILED\)' "$TMP/console" 2>/dev/null && break
	sleep 0.1
done
if grep -q 'cadeia: ready' "$TMP/console" && [ "$(ga ping 2>/dev/null)" = pong ]; then
	ok "guest (kernel $(sed -n 's/.*"kernel_version": "\([^"]*\)".*/\1/p' "$IMG/manifest.json")) is ready, agent answers"
else
	fail "guest is ready, agent answers"
	diag "console: $(tr -d '\r' <"$TMP/console" 2>/dev/null | tail -n 5)"
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
	check "show --node t fails after detach" not ga exec $STAGE show --node t
}
not() { ! "$@" >/dev/null 2>&1; }

load_check dec,enc,fwd,kwire
load_check classifier
# Another kwire_mode is another program once rodata is frozen.
load_check kwire --kwire-mode nsh-host

# busybox poweroff -f: the agent may not answer it, the QEMU exit is the proof.
ga fire /bin/busybox poweroff -f >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do
	kill -0 "$(cat "$TMP/qpid")" 2>/dev/null || break
	sleep 0.1
done
check "guest powers off (QEMU exits)" [ "$i" -lt 100 ]

tap_done
