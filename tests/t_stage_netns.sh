#!/usr/bin/env bash
# The stages in network namespaces: src -> sf1 -> dest over one Linux bridge.
# classifier on src pushes NSH (SPI 7, SI 255); sf1 runs dec, kwire (in-kernel
# wire), enc and fwd (spi 7 si 254 -> end of chain). Captures on the bridge
# ports show NSH from src to sf1, a plain ICMP frame from sf1 to dest, and the
# reply going from dest straight to src.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh

S=${BUILD:-build}/cadeia-stage
P=cbtBN
BR=$P-br
PIN=/sys/fs/bpf/cadeia
TMP=$(mktemp -d /tmp/cbtBN.XXXXXX)
NODE_SRC=$P-src
NODE_SF=$P-sf1
declare -A MAC=([src]=02:cb:4e:00:00:01 [sf1]=02:cb:4e:00:00:02 [dest]=02:cb:4e:00:00:03)
declare -A IP=([src]=10.77.0.1 [sf1]=10.77.0.2 [dest]=10.77.0.3)
declare -A PORT=([src]=${P}ps [sf1]=${P}pf [dest]=${P}pd) # bridge side
declare -A DEV=([src]=${P}s0 [sf1]=${P}f0 [dest]=${P}d0)  # host side
CAP_PIDS=()

teardown() {
	local pid n
	for pid in "${CAP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for n in $NODE_SRC $NODE_SF; do
		[ -d "$PIN/$n" ] && $S detach --node "$n" >/dev/null 2>&1
	done
	for n in src sf1 dest br; do
		ip netns del $P-$n 2>/dev/null
	done
	rm -rf "$TMP"
}
trap teardown EXIT

die() { fail "$*"; tap_done; exit 1; }

[ -x "$S" ] || die "$S is built"

# ---- topology -----------------------------------------------------------------
ip netns add $BR || die "create netns $BR"
ip -n $BR link add ${P}br0 type bridge || die "create bridge"
ip -n $BR link set ${P}br0 up
for h in src sf1 dest; do
	ns=$P-$h
	ip netns add $ns || die "create netns $ns"
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n $BR link add ${PORT[$h]} type veth peer name ${DEV[$h]} netns $ns ||
		die "create veth for $h"
	ip -n $ns link set ${DEV[$h]} address ${MAC[$h]}
	ip -n $ns addr add ${IP[$h]}/24 dev ${DEV[$h]}
	ip -n $ns link set ${DEV[$h]} up
	ip -n $ns link set lo up
	ip -n $BR link set ${PORT[$h]} master ${P}br0
	ip -n $BR link set ${PORT[$h]} up
	# No learning, no flooding: a reflecting SF would otherwise teach the
	# bridge src's MAC on its own port (see the facts file).
	bridge -n $BR link set dev ${PORT[$h]} learning off flood off mcast_flood off bcast_flood off
	bridge -n $BR fdb add ${MAC[$h]} dev ${PORT[$h]} master static
done
ip -n $P-src neigh replace ${IP[dest]} lladdr ${MAC[dest]} dev ${DEV[src]} nud permanent
ip -n $P-dest neigh replace ${IP[src]} lladdr ${MAC[src]} dev ${DEV[dest]} nud permanent

# Without stages: a plain ping works, so later failures are the stages'.
check "baseline ping src -> dest" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

# ---- stages -------------------------------------------------------------------
cat >"$TMP/src.json" <<EOF
{ "classifier": [ { "src": "${IP[src]}/32", "dst": "${IP[dest]}/32", "proto": "icmp",
                    "spi": 7, "si": 255, "next_hop": "${MAC[sf1]}" } ] }
EOF
cat >"$TMP/sf1.json" <<EOF
{ "forwarding": [ { "spi": 7, "si": 254, "end": true } ] }
EOF
check "attach classifier on src" $S attach --node $NODE_SRC --netns $P-src --dev ${DEV[src]} --stages classifier
check "attach dec,enc,fwd,kwire on sf1" $S attach --node $NODE_SF --netns $P-sf1 --dev ${DEV[sf1]} --stages dec,enc,fwd,kwire
check "rules on src" $S rules --node $NODE_SRC "$TMP/src.json"
check "rules on sf1" $S rules --node $NODE_SF "$TMP/sf1.json"

# ---- captures on the three bridge ports ---------------------------------------
for h in src sf1 dest; do
	ip netns exec $BR tcpdump -U -n -i ${PORT[$h]} -w "$TMP/$h.pcap" \
		2>"$TMP/$h.tcpdump.log" &
	CAP_PIDS+=($!)
done
for h in src sf1 dest; do
	for _ in $(seq 50); do
		grep -q 'listening on' "$TMP/$h.tcpdump.log" && break
		sleep 0.1
	done
	grep -q 'listening on' "$TMP/$h.tcpdump.log" || die "tcpdump on ${PORT[$h]} started"
done

ip netns exec $P-src ping -c 3 -i 0.2 -W 2 ${IP[dest]} >"$TMP/ping.log" 2>&1
ping_rc=$?
check "ping src -> dest through sf1: 3 of 3 replies" grep -q '3 packets transmitted, 3 received' "$TMP/ping.log"
[ $ping_rc -eq 0 ] || diag "$(cat "$TMP/ping.log")"

sleep 0.5 # let tcpdump write the last frames
for pid in "${CAP_PIDS[@]}"; do
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
CAP_PIDS=()

# tf HOST FILTER FIELDS...: decoded fields of matching frames on HOST's port
tf() {
	local h=$1 f=$2
	shift 2
	# occurrence=f: the outer Ethernet header when an inner one follows
	tshark -r "$TMP/$h.pcap" -Y "$f" -T fields -E separator=' ' -E occurrence=f \
		"${@/#/-e}" 2>/dev/null
}
# NSH frames on HOST's port as "spi si ttl outer-dst outer-src next-proto icmp-type"
nsh_frames() {
	local spi si ttl rest
	tf "$1" "nsh" nsh.spi nsh.si nsh.ttl eth.dst eth.src nsh.nextproto icmp.type |
		while read -r spi si ttl rest; do
			echo "$spi $si $((ttl)) $rest" # TTL prints as a hex bitfield
		done
}
count() { tf "$1" "$2" frame.number | wc -l; }

# Frames from src: NSH, SPI 7, SI 255, TTL 63, outer destination sf1.
# Outer source: the classifier keeps src's MAC; next protocol 3 = Ethernet.
want="7 255 63 ${MAC[sf1]} ${MAC[src]} 3 8"
nsh_src=$(nsh_frames src)
diag "NSH frames on src's port: $(sort | uniq -c <<<"$nsh_src" | xargs)"
check "src sends 3 NSH frames" test -n "$nsh_src" -a "$(wc -l <<<"$nsh_src")" -eq 3
check "src's NSH: SPI 7, SI 255, TTL 63, outer dst sf1, inner ICMP echo request" \
	test "$(sort -u <<<"$nsh_src")" = "$want"
check "no plain echo request leaves src" test "$(count src "!nsh && icmp.type == 8")" -eq 0
nsh_sf1=$(nsh_frames sf1)
check "sf1's port carries exactly those 3 NSH frames" \
	test "$(sort | uniq -c <<<"$nsh_sf1" | xargs)" = "3 $want"

# From sf1 to dest: end of chain, a plain ICMP echo request addressed to dest.
check "sf1 sends 3 plain echo requests to dest" \
	test "$(count sf1 "!nsh && icmp.type == 8 && ip.src == ${IP[src]} && ip.dst == ${IP[dest]} && eth.dst == ${MAC[dest]}")" -eq 3
check "dest receives 3 plain echo requests" \
	test "$(count dest "!nsh && icmp.type == 8 && ip.src == ${IP[src]} && eth.dst == ${MAC[dest]}")" -eq 3
check "dest receives no NSH" test "$(count dest "nsh")" -eq 0

# The reply goes dest -> src directly.
check "dest sends 3 echo replies to src" test "$(count dest "icmp.type == 0 && eth.dst == ${MAC[src]}")" -eq 3
check "src receives 3 plain echo replies" test "$(count src "!nsh && icmp.type == 0 && ip.src == ${IP[dest]}")" -eq 3
check "replies never touch sf1" test "$(count sf1 "icmp.type == 0 || ip.src == ${IP[dest]}")" -eq 0

# ---- counters -------------------------------------------------------------------
stat() { $S stats --node "$1" --json | jq -r ".counters.$2"; }
check "classifier.classified == 3" test "$(stat $NODE_SRC classifier.classified)" = 3
check "dec.decap == 3" test "$(stat $NODE_SF dec.decap)" = 3
check "kwire.reflected == 3" test "$(stat $NODE_SF kwire.reflected)" = 3
check "enc.encap == 3" test "$(stat $NODE_SF enc.encap)" = 3
check "fwd.end_of_chain == 3" test "$(stat $NODE_SF fwd.end_of_chain)" = 3
check "dec dropped nothing" test "$($S stats --node $NODE_SF --json | jq '[.counters.dec | to_entries[] | select(.key | startswith("drop")) | .value] | add')" = 0
check "fwd dropped nothing" test "$($S stats --node $NODE_SF --json | jq '[.counters.fwd | to_entries[] | select(.key | startswith("drop")) | .value] | add')" = 0

# ---- detach leaves nothing --------------------------------------------------------
check "detach src" $S detach --node $NODE_SRC
check "detach sf1" $S detach --node $NODE_SF
for h in src sf1; do
	check "no pins for $P-$h" test ! -e "$PIN/$P-$h"
	check "no XDP on ${DEV[$h]}" bash -c "! ip -n $P-$h -d link show ${DEV[$h]} | grep -q xdp"
	check "no clsact on ${DEV[$h]}" bash -c "! tc -n $P-$h qdisc show dev ${DEV[$h]} | grep -q clsact"
done
check "plain ping works again after detach" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

tap_done
