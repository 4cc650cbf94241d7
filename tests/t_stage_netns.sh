#!/usr/bin/env bash
# The stages in network namespaces: src -> sf1 -> dest over one Linux bridge.
# classifier on src pushes NSH (SPI 7, SI 255); sf1 runs dec, kwire (in-kernel
# wire), enc and fwd (spi 7 si 254 -> end of chain). Captures on the bridge
# ports show NSH from src to sf1, a plain ICMP frame from sf1 to dest, and the
# reply going from dest straight to src.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

P=cbtBN
BR=$P-br
TMP=$(mktemp -d /tmp/cbtBN.XXXXXX)
NODE_SRC=$P-src
NODE_SF=$P-sf1
declare -A MAC=([src]=02:cb:4e:00:00:01 [sf1]=02:cb:4e:00:00:02 [dest]=02:cb:4e:00:00:03)
declare -A IP=([src]=10.77.0.1 [sf1]=10.77.0.2 [dest]=10.77.0.3)
declare -A PORT=([src]=${P}ps [sf1]=${P}pf [dest]=${P}pd) # bridge side
declare -A DEV=([src]=${P}s0 [sf1]=${P}f0 [dest]=${P}d0)  # host side

teardown() {
	stop_captures
	detach_nodes $NODE_SRC $NODE_SF
	netns_del $P-src $P-sf1 $P-dest $BR
	rm -rf "$TMP"
}
trap teardown EXIT

plan 32
need_built "$S"
need_tools tshark tcpdump jq

# ---- topology -----------------------------------------------------------------
bridge_netns $BR ${P}br0
for h in src sf1 dest; do
	bridged_host $h $P-$h $BR ${P}br0 ${PORT[$h]} ${DEV[$h]} ${MAC[$h]} ${IP[$h]}
done
ip -n $P-src neigh replace ${IP[dest]} lladdr ${MAC[dest]} dev ${DEV[src]} nud permanent
ip -n $P-dest neigh replace ${IP[src]} lladdr ${MAC[src]} dev ${DEV[dest]} nud permanent

# Without stages: a plain ping works, so later failures are the stages'.
check "baseline ping src -> dest" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

# ---- stages -------------------------------------------------------------------
classifier_rules "$TMP/src.json" ${IP[src]} ${IP[dest]} 7 ${MAC[sf1]}
cat >"$TMP/sf1.json" <<EOF
{ "forwarding": [ { "spi": 7, "si": 254, "end": true } ] }
EOF
check "attach classifier on src" $S attach --node $NODE_SRC --netns $P-src --dev ${DEV[src]} --stages classifier
check "attach dec,enc,fwd,kwire on sf1" $S attach --node $NODE_SF --netns $P-sf1 --dev ${DEV[sf1]} --stages dec,enc,fwd,kwire
check "rules on src" $S rules --node $NODE_SRC "$TMP/src.json"
check "rules on sf1" $S rules --node $NODE_SF "$TMP/sf1.json"

# ---- captures on the three bridge ports ---------------------------------------
for h in src sf1 dest; do
	port_capture $BR ${PORT[$h]} $h
done
port_captures_started

check_ping3 $P-src ${IP[dest]} "ping src -> dest through sf1: 3 of 3 replies"

sleep 0.5 # let tcpdump write the last frames
stop_captures

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
check_delivered ${IP[src]} ${MAC[src]} ${IP[dest]} ${MAC[dest]}
check "replies never touch sf1" test "$(count sf1 "icmp.type == 0 || ip.src == ${IP[dest]}")" -eq 0

# ---- counters -------------------------------------------------------------------
check "classifier.classified == 3" test "$(stage_stat $NODE_SRC classifier.classified)" = 3
check "dec.decap == 3" test "$(stage_stat $NODE_SF dec.decap)" = 3
check "kwire.reflected == 3" test "$(stage_stat $NODE_SF kwire.reflected)" = 3
check "enc.encap == 3" test "$(stage_stat $NODE_SF enc.encap)" = 3
check "fwd.end_of_chain == 3" test "$(stage_stat $NODE_SF fwd.end_of_chain)" = 3
check "dec dropped nothing" test "$(stage_drops $NODE_SF dec)" = 0
check "fwd dropped nothing" test "$(stage_drops $NODE_SF fwd)" = 0

# ---- detach leaves nothing --------------------------------------------------------
check "detach src" $S detach --node $NODE_SRC
check "detach sf1" $S detach --node $NODE_SF
for h in src sf1; do
	check "no pins for $P-$h" test ! -e "$PIN/$P-$h"
	check "no XDP on ${DEV[$h]}" lacks xdp ip -n $P-$h -d link show ${DEV[$h]}
	check "no clsact on ${DEV[$h]}" lacks clsact tc -n $P-$h qdisc show dev ${DEV[$h]}
done
check "plain ping works again after detach" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

tap_done
