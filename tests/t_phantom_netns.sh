#!/usr/bin/env bash
# The PhantomSFC-style star, hand-built from the stages in network namespaces.
#
#   src --+                      +-- dest
#         |   Linux bridge       |
#   sff --+----------------------+-- px1 (eth0) ==p2p== sf1
#
# src: classifier (SPI 5, SI 255) -> sff. sff: kwire nsh-host (NSH frames for
# it go back out) + fwd: (5,255) -> px1, (5,254) -> end of chain, to dest.
# px1, the proxy of the NSH-unaware sf1: dec + kwire cross-connect to the p2p
# link + enc + fwd (5,254) -> sff with keep_ttl on its bridge side; kwire
# cross-connect back on the p2p side. sf1: the kernel wire, nothing else.
# Captures on the bridge ports and the p2p link show every hop's NSH.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh

S=${BUILD:-build}/cadeia-stage
P=cbtL
BR=$P-br
PIN=/sys/fs/bpf/cadeia
TMP=$(mktemp -d /tmp/cbtL.XXXXXX)
HOSTS="src sff px1 dest"
declare -A MAC=([src]=02:cb:4c:00:00:01 [sff]=02:cb:4c:00:00:02 [px1]=02:cb:4c:00:00:03
	[dest]=02:cb:4c:00:00:04 [px1p]=02:cb:4c:00:00:05 [sf1]=02:cb:4c:00:00:06)
declare -A IP=([src]=10.78.0.1 [sff]=10.78.0.2 [px1]=10.78.0.3 [dest]=10.78.0.4)
declare -A PORT=([src]=${P}ps [sff]=${P}pw [px1]=${P}pp [dest]=${P}pd) # bridge side
declare -A DEV=([src]=${P}s0 [sff]=${P}w0 [px1]=${P}p0 [dest]=${P}d0)  # host side
PX_P2P=${P}p1 # px1's end of the p2p link ("eth1")
SF_DEV=${P}f0 # sf1's only interface
NODE_SRC=$P-src
NODE_SFF=$P-sff
NODE_PX=$P-px1
NODE_PXP=$P-px1_p2p
NODE_SF=$P-sf1
NODES="$NODE_SRC $NODE_SFF $NODE_PX $NODE_PXP $NODE_SF"
CAP_PIDS=()

teardown() {
	local pid n
	for pid in "${CAP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for n in $NODES; do
		[ -d "$PIN/$n" ] && $S detach --node "$n" >/dev/null 2>&1
	done
	for n in $HOSTS sf1 br; do
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
for h in $HOSTS; do
	ns=$P-$h
	ip netns add $ns || die "create netns $ns"
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec $ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n $BR link add ${PORT[$h]} type veth peer name ${DEV[$h]} netns $ns ||
		die "create veth for $h"
	ip -n $ns link set ${DEV[$h]} address ${MAC[$h]}
	ip -n $ns addr add ${IP[$h]}/24 dev ${DEV[$h]}
	ip -n $ns link set ${DEV[$h]} up
	ip -n $ns link set lo up
	ip -n $BR link set ${PORT[$h]} master ${P}br0
	ip -n $BR link set ${PORT[$h]} up
	# No learning, no flooding: frames leave sff and px1 with src's MAC
	# inside and outside (see the facts file).
	bridge -n $BR link set dev ${PORT[$h]} learning off flood off mcast_flood off bcast_flood off
	bridge -n $BR fdb add ${MAC[$h]} dev ${PORT[$h]} master static
done
ip netns add $P-sf1 || die "create netns $P-sf1"
ip netns exec $P-sf1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec $P-sf1 sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n $P-px1 link add $PX_P2P type veth peer name $SF_DEV netns $P-sf1 ||
	die "create the p2p veth px1 -- sf1"
ip -n $P-px1 link set $PX_P2P address ${MAC[px1p]}
ip -n $P-sf1 link set $SF_DEV address ${MAC[sf1]}
ip -n $P-px1 link set $PX_P2P up
ip -n $P-sf1 link set $SF_DEV up
ip -n $P-src neigh replace ${IP[dest]} lladdr ${MAC[dest]} dev ${DEV[src]} nud permanent
ip -n $P-dest neigh replace ${IP[src]} lladdr ${MAC[src]} dev ${DEV[dest]} nud permanent

check "baseline ping src -> dest" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

# ---- stages -------------------------------------------------------------------
cat >"$TMP/src.json" <<EOF
{ "classifier": [ { "src": "${IP[src]}/32", "dst": "${IP[dest]}/32", "proto": "icmp",
                    "spi": 5, "si": 255, "next_hop": "${MAC[sff]}" } ] }
EOF
cat >"$TMP/sff.json" <<EOF
{ "forwarding": [ { "spi": 5, "si": 255, "next_hop": "${MAC[px1]}" },
                  { "spi": 5, "si": 254, "end": true, "dest_mac": "${MAC[dest]}" } ] }
EOF
cat >"$TMP/px1.json" <<EOF
{ "forwarding": [ { "spi": 5, "si": 254, "next_hop": "${MAC[sff]}", "keep_ttl": true } ] }
EOF
check "attach classifier on src" \
	$S attach --node $NODE_SRC --netns $P-src --dev ${DEV[src]} --stages classifier
check "attach kwire (nsh-host) and fwd on sff" \
	$S attach --node $NODE_SFF --netns $P-sff --dev ${DEV[sff]} --stages kwire,fwd --kwire-mode nsh-host
check "attach dec,enc,fwd,kwire (peer $PX_P2P) on px1's bridge side" \
	$S attach --node $NODE_PX --netns $P-px1 --dev ${DEV[px1]} --stages dec,enc,fwd,kwire --kwire-peer $PX_P2P
check "attach kwire (peer ${DEV[px1]}) on px1's p2p side" \
	$S attach --node $NODE_PXP --netns $P-px1 --dev $PX_P2P --stages kwire --kwire-peer ${DEV[px1]}
check "attach kwire on sf1" $S attach --node $NODE_SF --netns $P-sf1 --dev $SF_DEV --stages kwire
check "rules on src" $S rules --node $NODE_SRC "$TMP/src.json"
check "rules on sff" $S rules --node $NODE_SFF "$TMP/sff.json"
check "rules on px1" $S rules --node $NODE_PX "$TMP/px1.json"

# ---- captures: the four bridge ports and the p2p link -----------------------------
for h in $HOSTS; do
	ip netns exec $BR tcpdump -U -n -i ${PORT[$h]} -w "$TMP/$h.pcap" \
		2>"$TMP/$h.tcpdump.log" &
	CAP_PIDS+=($!)
done
ip netns exec $P-px1 tcpdump -U -n -i $PX_P2P -w "$TMP/p2p.pcap" 2>"$TMP/p2p.tcpdump.log" &
CAP_PIDS+=($!)
for h in $HOSTS p2p; do
	for _ in $(seq 50); do
		grep -q 'listening on' "$TMP/$h.tcpdump.log" && break
		sleep 0.1
	done
	grep -q 'listening on' "$TMP/$h.tcpdump.log" || die "tcpdump for $h started"
done

ip netns exec $P-src ping -c 3 -i 0.2 -W 2 ${IP[dest]} >"$TMP/ping.log" 2>&1
ping_rc=$?
check "ping src -> dest through sff, px1, sf1: 3 of 3 replies" \
	grep -q '3 packets transmitted, 3 received' "$TMP/ping.log"
[ $ping_rc -eq 0 ] || diag "$(cat "$TMP/ping.log")"

sleep 0.5 # let tcpdump write the last frames
for pid in "${CAP_PIDS[@]}"; do
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
CAP_PIDS=()

# tf CAPTURE FILTER FIELDS...: decoded fields of matching frames
tf() {
	local h=$1 f=$2
	shift 2
	# occurrence=f: the outer Ethernet header when an inner one follows
	tshark -r "$TMP/$h.pcap" -Y "$f" -T fields -E separator=' ' -E occurrence=f \
		"${@/#/-e}" 2>/dev/null
}
# NSH frames in CAPTURE as "spi si ttl outer-dst outer-src next-proto icmp-type"
nsh_frames() {
	local spi si ttl rest
	tf "$1" "nsh" nsh.spi nsh.si nsh.ttl eth.dst eth.src nsh.nextproto icmp.type |
		while read -r spi si ttl rest; do
			echo "$spi $si $((ttl)) $rest" # TTL prints as a hex bitfield
		done
}
count() { tf "$1" "$2" frame.number | wc -l; }
# has_3 CAPTURE WANT: exactly 3 NSH frames in CAPTURE read WANT
has_3() { test "$(grep -cxF "$2" <<<"$(nsh_frames "$1")")" -eq 3; }

# Next protocol 3 = Ethernet; ICMP type 8 = the inner echo request.
src_sff="5 255 63 ${MAC[sff]} ${MAC[src]} 3 8"
sff_px1="5 255 62 ${MAC[px1]} ${MAC[sff]} 3 8"
px1_sff="5 254 62 ${MAC[sff]} ${MAC[px1]} 3 8"
for h in $HOSTS p2p; do
	diag "NSH frames on $h: $(nsh_frames $h | sort | uniq -c | xargs)"
done

check "src -> sff: 3 NSH frames, SI 255, TTL 63 (src's port)" has_3 src "$src_sff"
check "src's port carries no other NSH" test "$(nsh_frames src | wc -l)" -eq 3
check "no plain echo request leaves src" test "$(count src "!nsh && icmp.type == 8")" -eq 0
check "src -> sff: the same 3 frames reach sff's port" has_3 sff "$src_sff"
check "sff -> px1: 3 NSH frames, SI 255, TTL 62 (sff's port)" has_3 sff "$sff_px1"
check "sff -> px1: the same 3 frames reach px1's port" has_3 px1 "$sff_px1"
check "px1 -> sff: 3 NSH frames, SI 254, TTL 62 kept by the proxy (px1's port)" has_3 px1 "$px1_sff"
check "px1 -> sff: the same 3 frames reach sff's port" has_3 sff "$px1_sff"
check "px1's port carries nothing but those 6 NSH frames' kinds" test "$(nsh_frames px1 | wc -l)" -eq 6
check "sff's port carries exactly 9 NSH frames" test "$(nsh_frames sff | wc -l)" -eq 9

# The p2p link: plain frames only, to sf1 and back (the same bytes twice).
check "p2p link carries no NSH" test "$(count p2p "nsh")" -eq 0
check "p2p link carries 6 plain echo requests src -> dest (3 each way)" \
	test "$(count p2p "icmp.type == 8 && ip.src == ${IP[src]} && ip.dst == ${IP[dest]} && eth.dst == ${MAC[dest]}")" -eq 6

# End of chain at sff: plain frames to dest.
check "sff -> dest: 3 plain echo requests on sff's port" \
	test "$(count sff "!nsh && icmp.type == 8 && ip.src == ${IP[src]} && eth.dst == ${MAC[dest]}")" -eq 3
check "dest receives 3 plain echo requests" \
	test "$(count dest "!nsh && icmp.type == 8 && ip.src == ${IP[src]} && eth.dst == ${MAC[dest]}")" -eq 3
check "dest receives no NSH" test "$(count dest "nsh")" -eq 0

# Replies go dest -> src directly.
check "dest sends 3 echo replies to src" test "$(count dest "icmp.type == 0 && eth.dst == ${MAC[src]}")" -eq 3
check "src receives 3 plain echo replies" test "$(count src "!nsh && icmp.type == 0 && ip.src == ${IP[dest]}")" -eq 3
for h in sff px1 p2p; do
	check "replies never touch $h" test "$(count $h "icmp.type == 0 || ip.src == ${IP[dest]}")" -eq 0
done

# ---- counters -------------------------------------------------------------------
stat() { $S stats --node "$1" --json | jq -r ".counters.$2"; }
drops() {
	$S stats --node "$1" --json |
		jq "[.counters.$2 | to_entries[] | select(.key | startswith(\"drop\")) | .value] | add"
}
check "src classifier.classified == 3" test "$(stat $NODE_SRC classifier.classified)" = 3
check "sff kwire.reflected == 6 (3 from src, 3 from px1)" test "$(stat $NODE_SFF kwire.reflected)" = 6
check "sff fwd.forwarded == 3" test "$(stat $NODE_SFF fwd.forwarded)" = 3
check "sff fwd.end_of_chain == 3" test "$(stat $NODE_SFF fwd.end_of_chain)" = 3
check "px1 dec.decap == 3" test "$(stat $NODE_PX dec.decap)" = 3
check "px1 kwire.redirected == 3 (to sf1)" test "$(stat $NODE_PX kwire.redirected)" = 3
check "px1 p2p kwire.redirected == 3 (back from sf1)" test "$(stat $NODE_PXP kwire.redirected)" = 3
check "sf1 kwire.reflected == 3" test "$(stat $NODE_SF kwire.reflected)" = 3
check "px1 enc.encap == 3" test "$(stat $NODE_PX enc.encap)" = 3
check "px1 fwd.forwarded == 3" test "$(stat $NODE_PX fwd.forwarded)" = 3
check "no drops in sff's fwd" test "$(drops $NODE_SFF fwd)" = 0
check "no drops in px1's dec, enc, fwd" \
	test "$(drops $NODE_PX dec) $(drops $NODE_PX enc) $(drops $NODE_PX fwd)" = "0 0 0"

# ---- detach leaves nothing --------------------------------------------------------
for n in $NODES; do
	check "detach $n" $S detach --node $n
	check "no pins for $n" test ! -e "$PIN/$n"
done
for h in src sff px1; do
	check "no XDP, no clsact on ${DEV[$h]}" bash -c \
		"! ip -n $P-$h -d link show ${DEV[$h]} | grep -q xdp && ! tc -n $P-$h qdisc show dev ${DEV[$h]} | grep -q clsact"
done
check "no clsact on $PX_P2P" bash -c "! tc -n $P-px1 qdisc show dev $PX_P2P | grep -q clsact"
check "no clsact on $SF_DEV" bash -c "! tc -n $P-sf1 qdisc show dev $SF_DEV | grep -q clsact"
check "plain ping works again after detach" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

tap_done
