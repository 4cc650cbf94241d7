#!/usr/bin/env bash
# Fail closed under eviction: src -> sf1 -> sf2 -> dest, 80,000 UDP flows of
# one frame each, more than nsh_state holds (65,536). sf1's function holds
# every frame until the load is over and then sends them all back, so dec has
# saved (and the LRU evicted) far more flows than there is room for while the
# frames are inside the function. enc must drop each frame whose state is gone
# (drop_no_state) instead of letting it out plain, where its inner Ethernet
# header would take it straight to dest, around sf2. Captures on the bridge
# ports show that not one frame reaches dest without having passed sf1 and
# sf2, and that sf1's own frames (ARP, its own ping) still pass untouched.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

P=cbtEV
BR=$P-br
TMP=$(mktemp -d /tmp/cbtEV.XXXXXX)
FLOWS=80000
TABLE=65536
declare -A MAC=([src]=02:cb:45:00:00:01 [sf1]=02:cb:45:00:00:02 [sf2]=02:cb:45:00:00:03 [dest]=02:cb:45:00:00:04)
declare -A IP=([src]=10.78.0.1 [sf1]=10.78.0.2 [sf2]=10.78.0.3 [dest]=10.78.0.4)
declare -A PORT=([src]=${P}ps [sf1]=${P}p1 [sf2]=${P}p2 [dest]=${P}pd) # bridge side
declare -A DEV=([src]=${P}s0 [sf1]=${P}10 [sf2]=${P}20 [dest]=${P}d0) # in the node
HOLD_PID=

teardown() {
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null && wait "$HOLD_PID" 2>/dev/null
	stop_captures
	detach_nodes $P-src $P-sf1 $P-sf2
	netns_del $P-src $P-sf1 $P-sf2 $P-dest $BR
	rm -rf "$TMP"
}
trap teardown EXIT

plan 27
need_built "$S"
need_tools tshark tcpdump jq python3

# ---- topology -------------------------------------------------------------------
bridge_netns $BR ${P}br0
for h in src sf1 sf2 dest; do
	bridged_host $h $P-$h $BR ${P}br0 ${PORT[$h]} ${DEV[$h]} ${MAC[$h]} ${IP[$h]}
done
ip -n $P-src neigh replace ${IP[dest]} lladdr ${MAC[dest]} dev ${DEV[src]} nud permanent
ip -n $P-dest neigh replace ${IP[src]} lladdr ${MAC[src]} dev ${DEV[dest]} nud permanent
# Broadcasts reach dest only: sf1's ARP request for dest gets through.
bridge -n $BR link set dev ${PORT[dest]} bcast_flood on
check "baseline ping src -> dest" bash -c "ip netns exec $P-src ping -c 1 -W 2 ${IP[dest]} >/dev/null"

# ---- stages -----------------------------------------------------------------------
cat >"$TMP/src.json" <<EOF
{ "classifier": [ { "src": "${IP[src]}/32", "dst": "${IP[dest]}/32", "proto": "udp",
                    "spi": 9, "si": 255, "next_hop": "${MAC[sf1]}" } ] }
EOF
echo '{ "forwarding": [ { "spi": 9, "si": 254, "next_hop": "'${MAC[sf2]}'" } ] }' >"$TMP/sf1.json"
echo '{ "forwarding": [ { "spi": 9, "si": 253, "end": true } ] }' >"$TMP/sf2.json"
check "attach classifier on src" $S attach --node $P-src --netns $P-src --dev ${DEV[src]} --stages classifier
check "attach dec,enc,fwd on sf1 (its function is the holding reflector)" \
	$S attach --node $P-sf1 --netns $P-sf1 --dev ${DEV[sf1]} --stages dec,enc,fwd
check "attach dec,enc,fwd,kwire on sf2" $S attach --node $P-sf2 --netns $P-sf2 --dev ${DEV[sf2]} --stages dec,enc,fwd,kwire
check "rules on src, sf1 and sf2" bash -c "$S rules --node $P-src $TMP/src.json &&
	$S rules --node $P-sf1 $TMP/sf1.json && $S rules --node $P-sf2 $TMP/sf2.json"

# ---- sf1's function: hold every frame it is given, then send them all back -------
cat >"$TMP/hold.py" <<'EOF'
import select, socket, sys, time
dev, ready, out = sys.argv[1:4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 28)  # SO_RCVBUFFORCE
s.bind((dev, 0))
open(ready, "w").close()
held, end = [], time.time() + 120
while time.time() < end:
    r, _, _ = select.select([s], [], [], 2.0)
    if not r:
        if held:
            break
        continue
    data, addr = s.recvfrom(65535)
    if addr[2] == socket.PACKET_OTHERHOST:  # what dec decapsulated
        held.append(data)
for i, d in enumerate(held):
    try:
        s.send(d)
    except OSError:  # ENOBUFS: a stage at egress dropped it (TC_ACT_SHOT)
        pass
    if i % 128 == 127:
        time.sleep(0.002)  # sf2's veth ring holds 256 frames
open(out, "w").write("%d\n" % len(held))
EOF
ip netns exec $P-sf1 python3 "$TMP/hold.py" ${DEV[sf1]} "$TMP/hold.ready" "$TMP/hold.count" 2>"$TMP/hold.err" &
HOLD_PID=$!
for i in $(seq 50); do [ -e "$TMP/hold.ready" ] && break; sleep 0.1; done
check "sf1's holding function is listening" test -e "$TMP/hold.ready"

# ---- captures: what sf1 and sf2 send, what dest is sent ------------------------------
for h in sf1 sf2; do
	capture_bg "$TMP/$h.tcpdump.log" ip netns exec $BR tcpdump -U -n -B 65536 -Q in -i ${PORT[$h]} -w "$TMP/$h.pcap"
done
capture_bg "$TMP/dest.tcpdump.log" ip netns exec $BR tcpdump -U -n -B 65536 -Q out -i ${PORT[dest]} -w "$TMP/dest.pcap"
port_captures_started

# ---- the load: one frame per flow, FLOWS flows --------------------------------------
cat >"$TMP/send.py" <<'EOF'
import socket, sys, time
dst, n = sys.argv[1], int(sys.argv[2])
socks = []
for sport in (40000, 40001):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", sport))
    socks.append(s)
for i in range(n):
    socks[i & 1].sendto(b"cadeia-evict %8d" % i, (dst, 1024 + (i >> 1)))
    if i % 128 == 127:
        time.sleep(0.001)  # sf1's veth ring holds 256 frames
EOF
check "src sends $FLOWS UDP frames, one per flow" ip netns exec $P-src python3 "$TMP/send.py" ${IP[dest]} $FLOWS
wait "$HOLD_PID"
HOLD_PID=
held=$(cat "$TMP/hold.count" 2>/dev/null || echo 0)
[ -s "$TMP/hold.err" ] && diag "holding function: $(tail -3 "$TMP/hold.err")"
diag "sf1's function held and returned $held frames"
check "sf1's function got more flows than nsh_state holds ($held > $TABLE)" test "$held" -gt $TABLE

# ---- sf1's own traffic still passes: ARP for dest, then its own ping ----------------
passed0=$(stage_stat $P-sf1 enc.passed)
check "sf1 pings dest itself (ARP resolution included)" \
	bash -c "ip netns exec $P-sf1 ping -c 2 -i 0.2 -W 2 ${IP[dest]} >/dev/null"
check "sf1 learnt dest's MAC by ARP" bash -c "ip -n $P-sf1 neigh show ${IP[dest]} | grep -qi '${MAC[dest]}'"
passed1=$(stage_stat $P-sf1 enc.passed)
check "enc passed sf1's own frames untouched (enc.passed +$((passed1 - passed0)) >= 3)" test $((passed1 - passed0)) -ge 3
# tcpdump drops what is still in its ring when it is interrupted, and sf1
# returns 80,000 frames in one burst: stop only once the files stop growing.
prev=
for i in $(seq 60); do
	sleep 0.5
	cur=$(stat -c %s "$TMP"/{sf1,sf2,dest}.pcap 2>/dev/null | tr '\n' ' ')
	[ "$cur" = "$prev" ] && break
	prev=$cur
done
stop_captures

# ---- counters ---------------------------------------------------------------------------
decap=$(stage_stat $P-sf1 dec.decap)
encap=$(stage_stat $P-sf1 enc.encap)
nostate=$(stage_stat $P-sf1 enc.drop_no_state)
diag "sf1: dec.decap $decap, enc.encap $encap, enc.drop_no_state $nostate, enc.drop_torn $(stage_stat $P-sf1 enc.drop_torn)"
check "sf1's dec saved more flows than the table holds (decap $decap > $TABLE)" test "$decap" -gt $TABLE
check "state was evicted for frames inside the function (enc.drop_no_state $nostate > 0)" test "$nostate" -gt 0
check "every frame sf1's function returned is encapsulated or dropped as no state ($encap + $nostate = $held)" \
	test $((encap + nostate)) -eq "$held"

# ---- captures ------------------------------------------------------------------------------
for h in sf1 sf2 dest; do
	grep -q '^0 packets dropped by kernel' "$TMP/$h.tcpdump.log" || diag "$h: $(grep dropped "$TMP/$h.tcpdump.log")"
done
check "no capture dropped a frame" bash -c "[ \$(grep -l '^0 packets dropped by kernel' $TMP/{sf1,sf2,dest}.tcpdump.log | wc -l) -eq 3 ]"

# flows KIND NAME FILTER: "sport:dport" of the UDP frames of $TMP/NAME.pcap matching FILTER
flows() {
	tshark -r "$TMP/$1.pcap" -Y "$2" -T fields -E separator=: -e udp.srcport -e udp.dstport >"$TMP/$1.$3" 2>"$TMP/$1.$3.err"
}
check "tshark reads sf1's capture (NSH out)" flows sf1 "nsh && nsh.si == 254 && udp" nsh
check "tshark reads sf1's capture (plain out)" flows sf1 "!nsh && udp" plain
check "tshark reads sf2's capture (plain out)" flows sf2 "!nsh && udp" plain
check "tshark reads dest's capture" flows dest "!nsh && udp && ip.src == ${IP[src]}" plain
sort -u "$TMP/sf1.nsh" >"$TMP/sf1.nsh.s"
sort -u "$TMP/sf2.plain" >"$TMP/sf2.plain.s"
sort -u "$TMP/dest.plain" >"$TMP/dest.plain.s"
got=$(wc -l <"$TMP/dest.plain")
diag "frames: sf1 sent $(wc -l <"$TMP/sf1.nsh") with NSH and $(wc -l <"$TMP/sf1.plain") plain UDP; sf2 delivered $(wc -l <"$TMP/sf2.plain"); dest got $got"
check "sf1 never sends a UDP frame of the load without NSH" test "$(wc -l <"$TMP/sf1.plain")" -eq 0
check "sf1's NSH frames number its encap count ($encap)" test "$(wc -l <"$TMP/sf1.nsh")" -eq "$encap"
check "dest got frames of the load ($got), fewer than sent (the evicted ones are gone)" \
	test "$got" -gt 0 -a "$got" -lt "$held"
check "every frame dest got left sf1 with NSH, SI 254 (none skipped sf1's fail-closed enc)" \
	test "$(comm -23 "$TMP/dest.plain.s" "$TMP/sf1.nsh.s" | wc -l)" -eq 0
check "every frame dest got was delivered by sf2 (end of chain), none came from elsewhere" \
	test "$(comm -23 "$TMP/dest.plain.s" "$TMP/sf2.plain.s" | wc -l)" -eq 0
check "dest got each flow once" test "$(wc -l <"$TMP/dest.plain.s")" -eq "$got"

# ---- detach ----------------------------------------------------------------------------------
check "detach src, sf1, sf2" bash -c "$S detach --node $P-src && $S detach --node $P-sf1 && $S detach --node $P-sf2"
check "no pins left" bash -c "! ls -d $PIN/$P-* 2>/dev/null | grep -q ."

tap_done
