#!/usr/bin/env bash
# The libvirt backend end to end, on TCG guests booted from build/image.
#
# 1. `cadeia-bench up --length 2` of a src -> sf1 -> sf2 -> dest chain whose
#    SFs are the paper's OVS wire; tcpdump on every host tap, one capture per
#    direction (on tap X, "out" is host -> guest X, "in" is guest X -> host);
#    the prober runs in the src guest through the guest agent. The captures
#    must show the NSH each hop carries, the OVS wire reflecting, the plain
#    frame handed to dest and the replies going straight back; the OVS flows
#    and the stage counters in the guests must agree; the accelerator is what
#    the KVM probe decided for this host (its cache), and the domains are
#    of that type. Then `down`, and nothing of the run remains.
# 2. Cleanup: a normal `run`, a run interrupted with SIGINT while measuring, a
#    run whose orchestrator is killed with -9 (then `down`), and a run whose
#    build fails after the guests booted: nothing named after the run remains
#    (domain, tap, bridge, state file, console log, pin, QEMU process), while
#    decoys this test creates survive. The normal run forces the KVM probe
#    to fail (CADEIA_KVM_PROBE=fail): it must fall back to TCG, record it in
#    meta.json and leave the probe's cached answer alone.
#
# Not covered: a guest that never boots. A scenario cannot make a node
# unbootable (the image and the command line are the backend's), and
# build/image is shared, so this test does not break it.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

E2E=tests/scenarios/vm-chain2.json
SMALL=tests/scenarios/vm-small.json
LONG=tests/scenarios/vm-long.json
BADIF=tests/scenarios/vm-badif.json
PINGS=5
TMP=$(mktemp -d /tmp/cbtP-libvirt.XXXXXX)
RES=$TMP/results
# Per process: another copy of this test must not remove ours at its exit.
DECOY_DOM=cbtP-decoy$$
DECOY_TAP=cbtP-t$$
T0=$(date +%s)

teardown() {
	local id

	stop_captures
	stop_pids
	down_runs --force
	# libvirt's logs of the domains this test made (see check_clean).
	for id in "${RUNS[@]}"; do
		rm -f /var/log/libvirt/qemu/$id-*.log
	done
	$V dominfo "$DECOY_DOM" >/dev/null 2>&1 && $V undefine "$DECOY_DOM" >/dev/null 2>&1
	ip link del "$DECOY_TAP" 2>/dev/null
	rm_tmp
}
trap teardown EXIT

need_built "$B"
[ -r "$IMG/vmlinuz" ] && [ -r "$IMG/initrd.img" ] || die "the guest image is built (make image)"
need_tools virsh tcpdump tshark jq base64
# 27 end to end; normal run 12, idle guests 4, interrupted 14, killed 7, failed build 7.
plan 71
ACCEL_CACHE=/var/cache/cadeia-bench/accel.json # VIRT_ACCEL_CACHE

# Everything that carries the run's name: domains (running or defined), taps
# and the bridge, state file and directory, console logs of the KVM probe,
# bpffs pins, libvirt's runtime files and QEMU processes.
leftovers_vm() {
	local id=$1

	$V list --all --name | grep "^$id-"
	leftovers "$id" link
	ls -d /run/cadeia-bench/$id* "$PIN/$id-"* /run/libvirt/qemu/$id-* 2>/dev/null
	pgrep -af "guest=$id-"
}

check_clean() {
	local id=$1 what=$2 left

	check_gone "$(leftovers_vm "$id")" \
		"$what: nothing named $id-* remains (domain, tap, bridge, state, pin, QEMU)" "$what: left behind"
	# libvirt's own per-domain QEMU logs: reported, not the run's to remove.
	left=$(ls /var/log/libvirt/qemu/$id-*.log 2>/dev/null | wc -l)
	[ "$left" -eq 0 ] || diag "$what: libvirt keeps $left QEMU logs /var/log/libvirt/qemu/$id-*.log"
}

check_decoys() {
	local what=$1 missing=""

	$V dominfo "$DECOY_DOM" >/dev/null 2>&1 || missing="$missing domain:$DECOY_DOM"
	ip link show "$DECOY_TAP" >/dev/null 2>&1 || missing="$missing tap:$DECOY_TAP"
	check_decoys_missing "$what" "$missing"
}

section() { diag "---- $* (at $(($(date +%s) - T0)) s)"; }

# ---- decoys: a defined (never started) domain and a tap, outside any run -----
$V define /dev/stdin >/dev/null <<EOF || die "define decoy domain $DECOY_DOM"
<domain type='qemu'>
  <name>$DECOY_DOM</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
EOF
ip tuntap add dev "$DECOY_TAP" mode tap || die "create decoy tap $DECOY_TAP"

# ==== 1. end to end ===========================================================
section "end to end: up --length 2 of $E2E"
dir=$TMP/e2e
mkdir -p "$dir"
mapfile -t nodes < <(jq -r '.nodes[].name' "$E2E")
declare -A idx
for i in "${!nodes[@]}"; do idx[${nodes[$i]}]=$i; done
SPI=$(jq -r '.chains[0].spi' "$E2E")
mapfile -t SFS < <(jq -r '.chains[0].sfs[]' "$E2E")
SRC_MAC=$(mac_of "${idx[src]}")
DEST_MAC=$(mac_of "${idx[dest]}")
SF1_MAC=$(mac_of "${idx[sf1]}")
SF2_MAC=$(mac_of "${idx[sf2]}")
DST=$(ip_of "${idx[dest]}")

if ! bench_up "$dir" 2 "$E2E"; then
	diag "$(tail -n 5 "$dir/up.err")"
	die "cadeia-bench up --length 2 $E2E prints a run id (exit $UP_RC)"
fi
id=$UP_ID
ok "cadeia-bench up --length 2 $E2E: run $id"

t=0
for n in "${nodes[@]}"; do
	[ "$($V domstate "$id-$n" 2>/dev/null)" = running ] && t=$((t + 1))
done
check "e2e: the ${#nodes[@]} domains $id-* are running" [ "$t" -eq ${#nodes[@]} ]
# The accelerator is the KVM probe's decision for this host: the run records
# it with the probe's cache key, and the cache holds the same answer.
read -r ACCEL key < <($B status --json |
	jq -r --arg id "$id" '.[] | select(.id == $id) | .accelerator | "\(.accel) \(.key)"')
want=$(jq -r --arg k "$key" '.[$k].accel // "none"' "$ACCEL_CACHE" 2>/dev/null)
check "e2e: status --json records the KVM probe's answer ($ACCEL; cache $ACCEL_CACHE says ${want:-nothing} for \"$key\")" \
	eval '[ "$ACCEL" = kvm -o "$ACCEL" = tcg ] && [ "$ACCEL" = "$want" ]'
# What libvirt was actually given, not only what was recorded.
[ "$ACCEL" = kvm ] && dtype=kvm || dtype=qemu
check "e2e: the domains are $ACCEL (domain type $dtype)" \
	bash -c "$V dumpxml $id-src | grep -q \"<domain type='$dtype'\""
check "e2e: the taps $id-<node> are ports of bridge $id-br" \
	[ "$(for n in "${nodes[@]}"; do basename "$(readlink /sys/class/net/$id-$n/master)"; done | sort -u)" = "$id-br" ]

# The host's own IPv6 (MLD, DAD, router solicitations) would be reflected
# by the OVS wires and ride along with the probes.
t=""
for n in br "${nodes[@]}"; do
	[ "$(cat /proc/sys/net/ipv6/conf/$id-$n/disable_ipv6 2>/dev/null)" = 1 ] || t="$t $id-$n"
done
check "e2e: IPv6 is off on the bridge and every tap${t:+ (still on:$t)}" [ -z "$t" ]

ovs_packets() { ga "$id-$1" 20 /usr/bin/ovs-ofctl dump-flows br0 | sed -n 's/.*n_packets=\([0-9]*\),.*in_port=.*actions=IN_PORT.*/\1/p'; }
stage_stats() { ga "$id-$1" 20 /usr/bin/cadeia-stage stats --node "$id-$1" --json; }
for n in "${SFS[@]}"; do
	ovs_packets "$n" >"$dir/$n.ovs.before"
	stage_stats "$n" >"$dir/$n.before.json"
done

for n in "${nodes[@]}"; do
	capture "$dir" "$n" "$id-$n"
done
capture_wait || diag "e2e: not every tcpdump reported listening"

ga "$id-src" 60 /usr/bin/cadeia-guest probe --dst "$DST" --count $PINGS --rate 5 \
	>"$dir/probe.out" 2>"$dir/probe.err"
rc=$?
check "e2e: cadeia-guest probe in the src guest exits 0 (got $rc)" [ "$rc" -eq 0 ]
rep=$(sed -n 's/^report //p' "$dir/probe.out")
[ -n "$rep" ] || rep="{}"
check "e2e: the prober got $PINGS replies to $PINGS probes ($rep)" \
	[ "$(jq -r '"\(.sent) \(.received)"' <<<"$rep")" = "$PINGS $PINGS" ]
sleep 0.5
stop_captures
for n in "${SFS[@]}"; do
	ovs_packets "$n" >"$dir/$n.ovs.after"
	stage_stats "$n" >"$dir/$n.after.json"
done

decode "$dir"
if [ ! -s "$dir/stray.txt" ]; then
	ok "e2e: no frame but the probes' on any tap"
else
	fail "e2e: $(wc -l <"$dir/stray.txt") other frames on the taps"
	diag "first: $(head -n 1 "$dir/stray.txt")"
fi
req="ipdst=$DST type=8"
rep_="ipsrc=$DST type=0"
plain="spi= isrc= idst= osrc=$SRC_MAC odst=$DEST_MAC"
tag="e2e SPI $SPI"
expect "$dir" "$tag: src classifies: SI 255 TTL 63, src -> sf1, inner src -> dest" $PINGS \
	"port=src dir=in $req" "spi=$SPI si=255 ttl=63 osrc=$SRC_MAC odst=$SF1_MAC isrc=$SRC_MAC idst=$DEST_MAC"
expect "$dir" "$tag: sf1 receives SI 255 TTL 63 from src" $PINGS \
	"port=sf1 dir=out $req" "spi=$SPI si=255 ttl=63 osrc=$SRC_MAC odst=$SF1_MAC isrc=$SRC_MAC idst=$DEST_MAC"
expect "$dir" "$tag: sf1 sends SI 254 TTL 62 to sf2" $PINGS \
	"port=sf1 dir=in $req" "spi=$SPI si=254 ttl=62 osrc=$SF1_MAC odst=$SF2_MAC isrc=$SRC_MAC idst=$DEST_MAC"
expect "$dir" "$tag: sf2 receives SI 254 TTL 62 from sf1" $PINGS \
	"port=sf2 dir=out $req" "spi=$SPI si=254 ttl=62 osrc=$SF1_MAC odst=$SF2_MAC isrc=$SRC_MAC idst=$DEST_MAC"
expect "$dir" "$tag: sf2 ends the chain: plain request, src's MAC to dest's" $PINGS \
	"port=sf2 dir=in $req" "$plain"
expect "$dir" "$tag: dest receives plain requests carrying src's MAC" $PINGS "port=dest dir=out $req" "$plain"
expect "$dir" "$tag: dest sends plain replies to src" $PINGS "port=dest dir=in $rep_" \
	"spi= isrc= osrc=$DEST_MAC odst=$SRC_MAC"
expect "$dir" "$tag: src receives plain replies from dest" $PINGS "port=src dir=out $rep_" \
	"spi= isrc= osrc=$DEST_MAC odst=$SRC_MAC"
for n in "${SFS[@]}"; do
	expect "$dir" "$tag: no reply crosses $n's tap" 0 "port=$n $rep_"
done

# Each request, by sequence number, crosses the hops in order; an SF's output
# follows its input: the OVS wire sent back what it got.
path="src.in sf1.out sf1.in sf2.out sf2.in dest.out"
read -r n t < <(in_order "$dir" "$DST" "$path")
check "$tag: every request crossed $path in that order" test "$n" -gt 0 -a "$t" -eq 0

# Empty when either side is unreadable: the comparison then fails.
delta() {
	local a b

	a=$(jq -r ".counters.$2.$3 // empty" "$dir/$1.after.json" 2>/dev/null)
	b=$(jq -r ".counters.$2.$3 // empty" "$dir/$1.before.json" 2>/dev/null)
	[ -n "$a" ] && [ -n "$b" ] && echo $((a - b))
}
for n in "${SFS[@]}"; do
	b=$(cat "$dir/$n.ovs.before")
	a=$(cat "$dir/$n.ovs.after")
	if [ -n "$b" ] && [ -n "$a" ] && [ $((a - b)) -ge $PINGS ]; then
		ok "$tag: $n's OVS flow in_port=eth0,actions=in_port matched $((a - b)) more packets (>= $PINGS)"
	else
		fail "$tag: $n's OVS flow n_packets went from '$b' to '$a', expected +$PINGS at least"
	fi
	[ "$n" = "${SFS[-1]}" ] && want="fwd=0 end=$PINGS" || want="fwd=$PINGS end=0"
	got="decap=$(delta "$n" dec decap) encap=$(delta "$n" enc encap) fwd=$(delta "$n" fwd forwarded) end=$(delta "$n" fwd end_of_chain)"
	check "$tag: $n's stage counters: $got (want decap=$PINGS encap=$PINGS $want)" \
		[ "$got" = "decap=$PINGS encap=$PINGS $want" ]
done

section "end to end: down $id"
check "e2e: cadeia-bench down $id exits 0" bash -c "$B down $id >'$dir/down.log' 2>&1"
check_clean "$id" "e2e, after down"
check_decoys "e2e"

# ==== 2. cleanup =================================================================
mkdir -p "$RES"

# Each node's console log is in the results, and shows it came up.
check_consoles() {
	local d=$1 what=$2 scen=$3 n bad=""

	for n in $(jq -r '.nodes[].name' "$scen"); do
		grep -q 'cadeia: ready' "$d/console-$n.log" 2>/dev/null || bad="$bad $n"
	done
	if [ -z "$bad" ]; then
		ok "$what: console-<node>.log of every guest in the results, each saying 'cadeia: ready'"
	else
		fail "$what: console log missing or without 'cadeia: ready' for:$bad"
	fi
}

# What normal_run and interrupted_run do not check themselves. The normal
# run's probe is forced to fail: TCG whatever the host; the others use the
# probe's answer.
check_results() {
	local want=$ACCEL why="the probe's answer"

	[ "$2" = "normal run" ] && want=tcg why="KVM probe forced to fail"
	check "$2: meta.json says accelerator $want ($why)" [ "$(jq -r .accelerator "$1/meta.json")" = "$want" ]
	check_consoles "$1" "$2" "$3"
}

# ---- a normal run, its KVM probe forced to fail ----------------------------------
section "cleanup: normal run of $SMALL, KVM probe forced to fail"
cache_before=$(cat "$ACCEL_CACHE" 2>/dev/null)
CADEIA_KVM_PROBE=fail normal_run "$SMALL" cbtP-vm-small
check "normal run: the forced failure left the probe's cached answer alone" \
	[ "$(cat "$ACCEL_CACHE" 2>/dev/null)" = "$cache_before" ]

# ---- idle guests paused --------------------------------------------------------------
# At length 0 sf1 is in no chain: the run pauses it while it measures
# (measure.idle_guests), then resumes it for length 1. Seen from outside, with
# virsh domstate every 20 ms: sf1 paused at least once and running at least
# once, src never paused once it ran.
section "idle guests: $SMALL, sf1 paused while length 0 is measured"
mkdir -p "$TMP/idle"
$B run --quiet --results "$RES/idle" "$SMALL" </dev/null >"$TMP/idle/stdout" 2>"$TMP/idle/stderr" &
pid=$!
PIDS+=($pid)
if iid=$(run_id_of $pid); then
	RUNS+=("$iid")
	while kill -0 $pid 2>/dev/null; do
		echo "sf1 $($V domstate "$iid-sf1" 2>/dev/null)"
		echo "src $($V domstate "$iid-src" 2>/dev/null)"
		sleep 0.02
	done >"$TMP/idle/states"
fi
wait $pid
rc=$?
PIDS=()
check "idle guests: run exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "idle guests: sf1 seen paused ($(grep -c '^sf1 paused' "$TMP/idle/states" 2>/dev/null) polls) and running" \
	bash -c "grep -q '^sf1 paused' '$TMP/idle/states' && grep -q '^sf1 running' '$TMP/idle/states'"
# Domains start paused (their tap ports are set up first): src counts from its first "running".
check "idle guests: src seen running, and never paused after that" \
	bash -c "awk '/^src running/ { up = 1 } up && /^src paused/ { bad = 1 } END { exit !(up && !bad) }' '$TMP/idle/states'"
dirs=("$RES"/idle/cbtP-vm-small-*)
check "idle guests: meta.json says schedule.idle_guests paused" \
	[ "$(jq -r .schedule.idle_guests "${dirs[0]}/meta.json" 2>/dev/null)" = paused ]

# ---- SIGINT while measuring ----------------------------------------------------------
section "cleanup: SIGINT while measuring $LONG"
# 150 s to get measuring: the guests boot under TCG first.
interrupted_run "$LONG" cbtP-vm-long 150 $((2 * 30 * 20))

# ---- kill -9 of the orchestrator, then down ------------------------------------------
section "cleanup: kill -9 while measuring $LONG"
killed_run "$LONG" 150 domains $V list --name

# ---- the build fails after the guests booted ------------------------------------------
section "cleanup: build failure of $BADIF"
out=$TMP/badif
mkdir -p "$out"
$B run --quiet --results "$RES/badif" "$BADIF" </dev/null >"$out/stdout" 2>"$out/stderr"
rc=$?
check "failed build: exit status 1 (got $rc)" [ "$rc" -eq 1 ]
check "failed build: the error names guest sf1" grep -q -- '-sf1' "$out/stderr"
dirs=("$RES"/badif/cbtP-vm-badif-*)
if [ ${#dirs[@]} -eq 1 ] && [ -d "${dirs[0]}" ]; then
	d=${dirs[0]}
	id=$(jq -r .run_id "$d/meta.json")
	RUNS+=("$id")
	check "failed build: meta.json says failed" [ "$(jq -r .status "$d/meta.json")" = failed ]
	check "failed build: meta.json gives the reason, naming eth9 in guest $id-sf1" \
		bash -c "jq -r .incomplete_reason '$d/meta.json' | grep -q '$id-sf1.*eth9'"
	check_consoles "$d" "failed build" "$BADIF"
	check_clean "$id" "failed build"
else
	fail "failed build: one results directory (found: ${dirs[*]})"
	diag "$(tail -n 3 "$out/stderr")"
fi
check_decoys "failed build"

section "done"
tap_done
