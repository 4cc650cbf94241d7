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
. tests/lib.sh

P=cbtL
BR=$P-br
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

teardown() {
	stop_captures
	detach_nodes $NODES
	netns_del $P-src $P-sff $P-px1 $P-dest $P-sf1 $BR
	rm -rf "$TMP"
}
trap teardown EXIT

plan 58
need_built "$S"
need_tools tshark tcpdump jq

# ---- topology -----------------------------------------------------------------
bridge_netns $BR ${P}br0
# Frames leave sff and px1 with src's MAC inside and outside.
for h in $HOSTS; do
	bridged_host $h $P-$h $BR ${P}br0 ${PORT[$h]} ${DEV[$h]} ${MAC[$h]} ${IP[$h]}
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
classifier_rules "$TMP/src.json" ${IP[src]} ${IP[dest]} 5 ${MAC[sff]}
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
	port_capture $BR ${PORT[$h]} $h
done
port_capture $P-px1 $PX_P2P p2p
port_captures_started

check_ping3 $P-src ${IP[dest]} "ping src -> dest through sff, px1, sf1: 3 of 3 replies"

sleep 0.5 # let tcpdump write the last frames
stop_captures

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
check_delivered ${IP[src]} ${MAC[src]} ${IP[dest]} ${MAC[dest]}
for h in sff px1 p2p; do
	check "replies never touch $h" test "$(count $h "icmp.type == 0 || ip.src == ${IP[dest]}")" -eq 0
done

# ---- counters -------------------------------------------------------------------
check "src classifier.classified == 3" test "$(stage_stat $NODE_SRC classifier.classified)" = 3
check "sff kwire.reflected == 6 (3 from src, 3 from px1)" test "$(stage_stat $NODE_SFF kwire.reflected)" = 6
check "sff fwd.forwarded == 3" test "$(stage_stat $NODE_SFF fwd.forwarded)" = 3
check "sff fwd.end_of_chain == 3" test "$(stage_stat $NODE_SFF fwd.end_of_chain)" = 3
check "px1 dec.decap == 3" test "$(stage_stat $NODE_PX dec.decap)" = 3
check "px1 kwire.redirected == 3 (to sf1)" test "$(stage_stat $NODE_PX kwire.redirected)" = 3
check "px1 p2p kwire.redirected == 3 (back from sf1)" test "$(stage_stat $NODE_PXP kwire.redirected)" = 3
check "sf1 kwire.reflected == 3" test "$(stage_stat $NODE_SF kwire.reflected)" = 3
check "px1 enc.encap == 3" test "$(stage_stat $NODE_PX enc.encap)" = 3
check "px1 fwd.forwarded == 3" test "$(stage_stat $NODE_PX fwd.forwarded)" = 3
check "no drops in sff's fwd" test "$(stage_drops $NODE_SFF fwd)" = 0
check "no drops in px1's dec, enc, fwd" \
	test "$(stage_drops $NODE_PX dec) $(stage_drops $NODE_PX enc) $(stage_drops $NODE_PX fwd)" = "0 0 0"

# ---- detach leaves nothing --------------------------------------------------------
for n in $NODES; do
	check "detach $n" $S detach --node $n
	check "no pins for $n" test ! -e "$PIN/$n"
done
for h in src sff px1; do
	check "no XDP, no clsact on ${DEV[$h]}" eval \
		"lacks xdp ip -n $P-$h -d link show ${DEV[$h]} && lacks clsact tc -n $P-$h qdisc show dev ${DEV[$h]}"
done
check "no clsact on $PX_P2P" lacks clsact tc -n $P-px1 qdisc show dev $PX_P2P
check "no clsact on $SF_DEV" lacks clsact tc -n $P-sf1 qdisc show dev $SF_DEV
check "plain ping works again after detach" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

tap_done
