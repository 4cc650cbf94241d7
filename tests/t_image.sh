#!/usr/bin/env bash
# The guest image: `make image` is reproducible and skips unchanged inputs;
# the image boots under TCG in every role we need (probe, sf fn=ovs, dest,
# src, and a bad role that must fail loudly); qemu-guest-agent answers; the
# OVS wire has its single flow and really reflects (its flow counts the
# probes, no upcall lost); cadeia-guest neigh + probe work between two guests
# on a bridge in a throw-away netns.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

BUILD=${BUILD:-build}
NS=cbtI-img$$
BR=cbtI-br
TMP=$(mktemp -d /tmp/cbtI-img.XXXXXX)
MAC1=52:54:00:cb:71:01 # sf, fn=ovs
MAC2=52:54:00:cb:71:02 # dest
MAC3=52:54:00:cb:71:03 # src
IP1=10.213.0.1 IP2=10.213.0.2 IP3=10.213.0.3

teardown() {
	kill_guests
	sleep 0.2
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap teardown EXIT

# ---- make image ---------------------------------------------------------------

plan 48
make_image "$TMP/make1.log"
stat_out() { stat -c '%n %i %Y %s' "$IMG/vmlinuz" "$IMG/initrd.img" "$IMG/manifest.json"; }
before=$(stat_out)
sleep 1 # a rewrite within the same second would not change the mtime
make -s image >"$TMP/make2.log" 2>&1
check "second make image succeeds" [ $? -eq 0 ]
check "second make image says up to date" grep -q 'up to date' "$TMP/make2.log"
if [ "$before" = "$(stat_out)" ]; then ok "second make image leaves the outputs alone"; else
	fail "second make image rewrote outputs"; diag "$before"; diag "$(stat_out)"; fi

man=$IMG/manifest.json
check "manifest.json parses and has its fields" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for k in ("kernel_version", "inputs_sha256", "packages", "size_bytes", "build_seconds", "built_at"):
    assert k in m, k
assert m["size_bytes"]["initrd"] == int(sys.argv[2]), "initrd size"
for p in ("busybox-static", "openvswitch-switch", "qemu-guest-agent", "libc6"):
    assert p in m["packages"], p
' "$man" "$(stat -c %s "$IMG/initrd.img")"
check "inputs_sha256 is the hash of inputs.txt" \
	grep -q "\"inputs_sha256\": \"$(sha256sum <"$IMG/inputs.txt" | cut -d' ' -f1)\"" "$man"
check "initrd.img is lz4 legacy (what the kernel unpacks)" \
	[ "$(head -c 4 "$IMG/initrd.img" | od -An -tx1 | tr -d ' ')" = 02214c18 ]
lz4 -dc "$IMG/initrd.img" >"$TMP/initrd.cpio" 2>/dev/null
(cd "$TMP" && cpio -it --quiet <initrd.cpio >list.txt 2>/dev/null)
for f in init usr/bin/cadeia-guest usr/bin/cadeia-stage usr/sbin/qemu-ga \
	usr/lib/openvswitch-switch/ovs-vswitchd usr/bin/unshare lib64/ld-linux-x86-64.so.2 \
	dev/console etc/ld.so.cache; do
	check "initrd has /$f" grep -qx "$f" "$TMP/list.txt"
done
check "initrd has openvswitch.ko" grep -q '/openvswitch\.ko$' "$TMP/list.txt"
mkdir -p "$TMP/x"
(cd "$TMP/x" && cpio -id --quiet usr/bin/cadeia-guest init <../initrd.cpio 2>/dev/null)
check "initrd's cadeia-guest is build/cadeia-guest" cmp -s "$TMP/x/usr/bin/cadeia-guest" "$BUILD/cadeia-guest"
check "initrd's /init is images/init" cmp -s "$TMP/x/init" images/init
rm -rf "$TMP/x" "$TMP/initrd.cpio"

# ---- boots --------------------------------------------------------------------

need_tools "$QEMU"

# boot NAME APPEND [MAC TAP]: a daemonized TCG guest inside $NS
boot() {
	local name=$1 append=$2 mac=${3:-} tap=${4:-} net=(-nic none)
	[ -n "$mac" ] && net=(-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
		-device "virtio-net-pci,netdev=n0,mac=$mac")
	boot_guest "$NS" "$name" "$append" "${net[@]}"
}

ga() { local n=$1; shift; qga 120 "$TMP/$n.sock" "$@"; }

ip netns add "$NS" || { fail "creating netns $NS"; tap_done; exit 1; }
ip -n "$NS" link add "$BR" type bridge
ip -n "$NS" link set "$BR" up
for i in 1 2 3; do
	ip -n "$NS" tuntap add "cbtI-t$i" mode tap
	ip -n "$NS" link set "cbtI-t$i" master "$BR" up
done
# The OVS wire reflects what it gets: keep floods and learning off its port
# and reach it through a static FDB entry (see testbed-facts, Linux bridge).
bridge -n "$NS" link set dev cbtI-t1 learning off flood off mcast_flood off bcast_flood off
bridge -n "$NS" fdb replace "$MAC1" dev cbtI-t1 master static

# The probe boot powers off by itself.
boot probe "cadeia.role=probe"
check "role probe: console says 'cadeia: probe ok'" wait_console probe 'cadeia: probe ok' 60
check "role probe: QEMU exits (guest powered off)" guest_exited probe

boot bad "cadeia.role=bogus"
check "bad role: console says 'cadeia: FAILED' naming it" \
	wait_console bad "cadeia: FAILED: cadeia.role='bogus'" 60
kill "$(cat "$TMP/bad.qpid")" 2>/dev/null

boot sf "cadeia.role=sf cadeia.node=sf1 cadeia.fn=ovs cadeia.ip=$IP1/24 cadeia.mtu=1600" "$MAC1" cbtI-t1
boot dest "cadeia.role=dest cadeia.node=dst cadeia.fn=none cadeia.ip=$IP2/24 cadeia.mtu=1600" "$MAC2" cbtI-t2
boot src "cadeia.role=src cadeia.node=src cadeia.fn=none cadeia.ip=$IP3/24 cadeia.mtu=1600" "$MAC3" cbtI-t3
for n in sf dest src; do
	check "$n: console says 'cadeia: ready'" wait_console "$n" 'cadeia: ready' 120
	check "$n: no FAILED on the console" says_no grep -q 'cadeia: FAILED' "$TMP/$n.console"
	check "$n: agent answers guest-ping" [ "$(ga "$n" ping)" = pong ]
done
check "sf: /run/cadeia-ready says 'ready sf ovs'" [ "$(ga sf cat /run/cadeia-ready)" = "ready sf ovs" ]
check "dest: /run/cadeia-ready says 'ready dest none'" [ "$(ga dest cat /run/cadeia-ready)" = "ready dest none" ]

out=$(ga sf exec /usr/bin/cadeia-stage --help 2>&1)
check "sf: guest-exec cadeia-stage --help" grep -q 'cadeia-stage' <<<"$out"
flows=$(ga sf exec /usr/bin/ovs-ofctl --names --no-stats dump-flows br0)
if [ "$(grep -c . <<<"$flows")" = 1 ] && grep -q '^ *in_port=eth0 actions=IN_PORT$' <<<"$flows"; then
	ok "sf: br0 has the single flow in_port=eth0,actions=in_port"
else fail "sf: br0 flows"; diag "$flows"; fi
check "sf: br0 is fail-mode secure" [ "$(ga sf exec /usr/bin/ovs-vsctl get-fail-mode br0)" = secure ]
check "sf: eth0 MTU is 1600" grep -q 'mtu 1600' <<<"$(ga sf exec /bin/busybox ip link show eth0)"

# Pinned neighbours: no ARP in the measurement, and the wire never answers ARP.
check "src: cadeia-guest neigh" ga src exec /usr/bin/cadeia-guest neigh "$IP2" "$MAC2"
check "dest: cadeia-guest neigh" ga dest exec /usr/bin/cadeia-guest neigh "$IP3" "$MAC3" "$IP1" "$MAC1"
check "dest: the neighbour entry is permanent" \
	grep -q "$IP1 dev eth0 lladdr $MAC1 .*PERMANENT" <<<"$(ga dest exec /bin/busybox ip neigh show)"

COUNT=20
ga src exec /usr/bin/cadeia-guest probe --dst "$IP2" --count $COUNT --rate 50 --grace-ms 1000 >"$TMP/p1.out" 2>"$TMP/p1.err"
check "src -> dest: probe exits 0" [ $? -eq 0 ]
check "src -> dest: $COUNT CSV lines, every RTT > 0" \
	[ "$(grep -cE '^[0-9]+,[0-9]+,[1-9][0-9]*,[01]$' "$TMP/p1.out")" = $COUNT ]
check "src -> dest: report says received $COUNT of $COUNT" \
	grep -q "^report {\"sent\":$COUNT,\"received\":$COUNT," "$TMP/p1.out"
diag "$(tail -n 1 "$TMP/p1.out")"

# Through the OVS wire the echo requests come back to dest itself (addressed
# to the SF's MAC), so none is answered -- but the wire's flow counts them.
ga dest exec /usr/bin/cadeia-guest probe --dst "$IP1" --count $COUNT --rate 50 --grace-ms 300 >"$TMP/p2.out" 2>"$TMP/p2.err"
check "dest -> sf: probe exits 0" [ $? -eq 0 ]
check "dest -> sf: report says sent $COUNT, received 0 (reflected, not answered)" \
	grep -q "^report {\"sent\":$COUNT,\"received\":0," "$TMP/p2.out"
n=$(ga sf exec /usr/bin/ovs-ofctl dump-flows br0 | sed -n 's/.*n_packets=\([0-9]*\).*/\1/p')
check "sf: the wire flow reflected the $COUNT probes (n_packets=$n)" [ "${n:-0}" -ge $COUNT ]
check "sf: ovs-dpctl show: lost:0" grep -q 'lost:0' <<<"$(ga sf exec /usr/bin/ovs-dpctl show)"
check "sf: guest-exec of a failing command reports its status 1" says_no ga sf exec /bin/busybox false

tap_done
