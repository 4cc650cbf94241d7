#!/usr/bin/env bash
# The functions that act on the traffic (traffic/fn_sf.h), each proved by
# its effect on the traffic, on the netns backend:
# - firewall: a rule drops TCP port 5999. The blocked flow's SYNs reach the
#   firewall's dec and stop at its nftables rule: none leaves the SF (capture
#   on its port), none reaches the destination (capture there), the nft drop
#   counter equals dec's decap growth and enc encapsulates none of them. An
#   allowed flow (iperf3, port 5201) gets every byte through.
# - nat: the destination sees the NAT address; replies come back through the
#   NAT to the source; SI and TTL are right at every hop (tshark on every port).
# - monitor: flows.csv (written when the function ends) counts exactly the
#   datagrams and bytes a generator sent.
# - lb: 24 UDP flows to the VIP spread over two backends; every flow stays
#   on one backend; lb-<node>.csv reports the same spread the captures show.
# - TCP at full size: iperf3 through firewall -> nat -> monitor with MSS
#   1448, 1514-byte frames at the destination, 1536 with NSH on the wire, no
#   IP fragment anywhere.
# - Teardown: nothing of either run is left, function processes included.
# - A killed function (kill -9 of the nat during a run) fails the run, which
#   names it, and leaves nothing behind.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

TMP=$(mktemp -d /tmp/cbtF-fn.XXXXXX)
trap 'stop_pids; teardown_runs' EXIT

plan 41
need_built "$B" "$S"
need_tools tcpdump tshark jq iperf3 nft python3

# Nodes in file order: src 0, dest 1, fw 2, nat 3, mon 4.
cat >"$TMP/chain.json" <<'EOF'
{
  "name": "fn-chain",
  "backend": "netns",
  "nodes": [
    { "name": "src", "role": "src" },
    { "name": "dest", "role": "dest" },
    { "name": "fw", "role": "sf", "function": "firewall",
      "rules": [ "tcp dport 5999 counter drop", "tcp dport 5201 counter accept" ] },
    { "name": "nat", "role": "sf", "function": "nat" },
    { "name": "mon", "role": "sf", "function": "monitor" }
  ],
  "chains": [ { "name": "c1", "spi": 7, "sfs": [ "fw", "nat", "mon" ],
                "match": { "proto": "any" } } ],
  "sweep": { "from": 3, "to": 3 }
}
EOF
# Nodes: src 0, d1 1, d2 2, lb 3. The VIP is d1's address.
cat >"$TMP/lb.json" <<'EOF'
{
  "name": "fn-lb",
  "backend": "netns",
  "nodes": [
    { "name": "src", "role": "src" },
    { "name": "d1", "role": "dest" },
    { "name": "d2", "role": "dest" },
    { "name": "lb", "role": "sf", "function": "lb", "backends": [ "d1", "d2" ] }
  ],
  "chains": [ { "name": "c1", "spi": 9, "sfs": [ "lb" ], "dest": "d1",
                "match": { "proto": "any" } } ],
  "sweep": { "from": 1, "to": 1 }
}
EOF

SRC=$(ip_of 0) DEST=$(ip_of 1)
NAT=10.201.0.251 # 10.201.0.255 less 1, less the NAT's index (3): scenarios/README.md

# nft_count NS HANDLE-PATTERN: packets of the firewall rule matching the pattern.
nft_count() {
	ip netns exec "$1" nft list table netdev cadeia_fw 2>/dev/null |
		awk -v p="$2" 'index($0, p) { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}

# udp_send NS DST PORT N SIZE [SPORT]: N datagrams of SIZE bytes from one socket.
udp_send() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 5: s.bind(("", int(sys.argv[5])))
for _ in range(int(sys.argv[3])): s.sendto(b"x" * int(sys.argv[4]), (sys.argv[1], int(sys.argv[2])))
' "$2" "$3" "$4" "$5" ${6:-}
}

# ---- firewall -> nat -> monitor -------------------------------------------------
D=$TMP/chain
mkdir -p "$D"
bench_up "$D" 3 "$TMP/chain.json" || die "up fn-chain: $(tail -n 2 "$D/up.err")"
ID=$UP_ID
ok "up --length 3 fn-chain: run $ID"
check "the firewall, nat and monitor processes run" \
	test "$(pgrep -fc "cadeia-bench fn (firewall|nat|monitor) .*--netns $ID-")" -eq 3
check "the firewall's rule set is in its namespace (netdev ingress on eth0)" \
	bash -c "ip netns exec $ID-fw nft list table netdev cadeia_fw | grep -q 'hook ingress device \"eth0\"'"

# Blocked flow: SYNs to port 5999 for 3 s (the client retries).
capture_bg "$D/fwport.err" tcpdump -i "$ID-fw" -Q in -n -U -w "$D/fwport.pcap"
capture_bg "$D/dest.err" ip netns exec "$ID-dest" tcpdump -i eth0 -Q in -n -U -w "$D/dest-blocked.pcap"
capture_wait || diag "not every tcpdump reported listening"
$S stats --node "$ID-fw" --json >"$D/fw.before.json"
drop0=$(nft_count "$ID-fw" "dport 5999")
timeout 3.5 ip netns exec "$ID-src" bash -c "exec 3<>/dev/tcp/$DEST/5999" 2>/dev/null
sleep 0.3
stop_captures
$S stats --node "$ID-fw" --json >"$D/fw.after.json"
drop1=$(nft_count "$ID-fw" "dport 5999")
blocked=$((drop1 - drop0))
TMP=$D
check "firewall: the nft drop rule counted the blocked SYNs ($blocked)" test "$blocked" -ge 2
check "firewall: dec decapsulated exactly the blocked SYNs" \
	test "$(counter_delta "$D/fw.before.json" "$D/fw.after.json" dec.decap)" = "$blocked"
check "firewall: enc encapsulated none of them" \
	test "$(counter_delta "$D/fw.before.json" "$D/fw.after.json" enc.encap)" = 0
check "firewall: no frame of the blocked flow leaves the SF" test "$(count fwport 'tcp.port == 5999')" = 0
check "firewall: no frame of the blocked flow reaches the destination" \
	test "$(count dest-blocked 'tcp.port == 5999')" = 0
TMP=${D%/chain}

# Allowed flow untouched: 8 MiB over TCP port 5202 arrive whole, same SHA-256.
ip netns exec "$ID-dest" python3 -c '
import hashlib, socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("", 5202)); l.listen(1); l.settimeout(10); c, _ = l.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())' >"$D/rx.txt" 2>&1 &
rx=$!
sleep 0.4
ip netns exec "$ID-src" python3 -c '
import hashlib, os, socket, sys
d = os.urandom(8 << 20); s = socket.create_connection((sys.argv[1], 5202), timeout=10)
s.sendall(d); s.close(); print(len(d), hashlib.sha256(d).hexdigest())' "$DEST" >"$D/tx.txt" 2>&1
wait $rx
check "firewall: an allowed TCP flow arrives whole (8 MiB, same SHA-256)" \
	bash -c "test -s '$D/tx.txt' && cmp -s '$D/tx.txt' '$D/rx.txt'"

# Allowed flow, and TCP at full size through the three functions.
capture_bg "$D/src.err" tcpdump -i "$ID-src" -Q in -n -U -s 64 -w "$D/srcport.pcap"
capture_bg "$D/dest2.err" ip netns exec "$ID-dest" tcpdump -i eth0 -Q in -n -U -s 96 -w "$D/dest-tcp.pcap"
capture_wait || diag "not every tcpdump reported listening"
acc0=$(nft_count "$ID-fw" "dport 5201")
ip netns exec "$ID-dest" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
srv=$!
sleep 0.4
ip netns exec "$ID-src" iperf3 -c "$DEST" -p 5201 -t 2 -J >"$D/iperf3.json" 2>&1
rc=$?
wait $srv 2>/dev/null
sleep 0.3
stop_captures
acc1=$(nft_count "$ID-fw" "dport 5201")
TMP=$D
check "iperf3 through firewall -> nat -> monitor exits 0" test $rc -eq 0
check "iperf3: goodput above zero" test "$(jq '.end.sum_received.bytes > 1000000' "$D/iperf3.json")" = true
check "iperf3: full MSS (1448)" test "$(jq '.start.tcp_mss_default' "$D/iperf3.json")" = 1448
check "firewall: the accept rule counted the allowed flow" test $((acc1 - acc0)) -gt 100
check "TCP: 1514-byte frames reach the destination, none larger" \
	test "$(count dest-tcp 'tcp.srcport > 0 && frame.len == 1514')" -gt 100 -a \
	"$(count dest-tcp 'frame.len > 1514')" = 0
check "TCP: the source sends them as 1536-byte NSH frames (MD2), none larger" \
	test "$(count srcport 'nsh && frame.len == 1536')" -gt 100 -a "$(count srcport 'frame.len > 1536')" = 0
check "TCP: no IP fragment at the source's port or the destination" \
	test "$(count dest-tcp 'ip.flags.mf == 1 || ip.frag_offset > 0')" = 0 -a \
	"$(count srcport 'ip.flags.mf == 1 || ip.frag_offset > 0')" = 0
check "nat: the destination sees the NAT address as the TCP source" \
	test "$(count dest-tcp "tcp && ip.src == $NAT")" -gt 100 -a "$(count dest-tcp "tcp && ip.src == $SRC")" = 0
TMP=${D%/chain}

# NAT and SI/TTL per hop: 3 pings, every port captured.
P=$D/ping
mkdir -p "$P"
for n in src dest fw nat mon; do capture "$P" "$n" "$ID-$n"; done
capture_wait || diag "not every tcpdump reported listening"
check "nat: 3 pings from src to dest all answered through the NAT" \
	bash -c "ip netns exec $ID-src ping -n -c 3 -i 0.2 -W 2 $DEST >'$P/ping.log' 2>&1"
sleep 0.3
stop_captures
decode "$P" igmp
FW=$(mac_of 2) NATMAC=$(mac_of 3) MON=$(mac_of 4) SRCMAC=$(mac_of 0) DESTMAC=$(mac_of 1)
expect "$P" "hop 1: src sends SI 255 TTL 63 to the firewall, inner source src" 3 \
	"port=src dir=in type=8" "spi=7 si=255 ttl=63 odst=$FW ipsrc=$SRC ipdst=$DEST"
expect "$P" "hop 2: the firewall sends SI 254 TTL 62 to the NAT, inner source src" 3 \
	"port=fw dir=in type=8" "spi=7 si=254 ttl=62 odst=$NATMAC ipsrc=$SRC ipdst=$DEST"
expect "$P" "hop 3: the NAT sends SI 253 TTL 61 to the monitor, inner source the NAT address" 3 \
	"port=nat dir=in type=8" "spi=7 si=253 ttl=61 odst=$MON ipsrc=$NAT ipdst=$DEST"
expect "$P" "end of chain: the monitor hands dest the plain request from the NAT address" 3 \
	"port=mon dir=in type=8" "spi= odst=$DESTMAC ipsrc=$NAT ipdst=$DEST"
expect "$P" "dest answers the NAT address at the NAT's MAC" 3 \
	"port=dest dir=in type=0" "spi= odst=$NATMAC ipsrc=$DEST ipdst=$NAT"
expect "$P" "the NAT sends the replies, restored, to src" 3 \
	"port=nat dir=in type=0" "spi= odst=$SRCMAC ipsrc=$DEST ipdst=$SRC"
expect "$P" "src receives the 3 replies from dest" 3 "port=src dir=out type=0" "ipsrc=$DEST ipdst=$SRC"

# Monitor: 137 datagrams of 100 bytes from one socket.
udp_send "$ID-src" "$DEST" 7000 137 100 40123
sleep 0.3
mpid=$(pgrep -f "cadeia-bench fn monitor .*--netns $ID-mon ")
check "monitor: SIGTERM ends it with status 0 and flows.csv" \
	bash -c "kill -TERM $mpid && for i in \$(seq 50); do kill -0 $mpid 2>/dev/null || break; sleep 0.1; done; ! kill -0 $mpid 2>/dev/null && test -s /run/cadeia-bench/$ID/flows.csv"
cp "/run/cadeia-bench/$ID/flows.csv" "$D/flows.csv" 2>/dev/null
check "monitor: flows.csv has the generator's flow with 137 packets and 137 x 128 bytes" \
	test "$(awk -F, -v s="$NAT" -v d="$DEST" '$3 == 17 && $4 == s && $6 == d && $7 == 7000 {print $8 "/" $9}' "$D/flows.csv")" = "137/17536"

# ---- lb ------------------------------------------------------------------------
L=$TMP/lb
mkdir -p "$L"
if bench_up "$L" 1 "$TMP/lb.json"; then
	LID=$UP_ID
	ok "up --length 1 fn-lb: run $LID"
	capture_bg "$L/d1.err" ip netns exec "$LID-d1" tcpdump --immediate-mode -i eth0 -Q in -n -U -w "$L/d1.pcap" udp
	capture_bg "$L/d2.err" ip netns exec "$LID-d2" tcpdump --immediate-mode -i eth0 -Q in -n -U -w "$L/d2.pcap" udp
	capture_wait || diag "not every tcpdump reported listening"
	# Under load a capture can still miss a burst right after it says listening.
	sleep 1
	for sp in $(seq 41001 41024); do udp_send "$LID-src" "$(ip_of 1)" 7001 5 50 "$sp"; done
	check "lb: ping to the VIP answered (direct server return from either backend)" \
		bash -c "ip netns exec $LID-src ping -n -c 3 -i 0.2 -W 2 $(ip_of 1) >/dev/null 2>&1"
	sleep 0.3
	stop_captures
	TMP=$L
	tshark -r "$L/d1.pcap" -T fields -e udp.srcport 2>/dev/null | sort | uniq -c >"$L/d1.flows"
	tshark -r "$L/d2.pcap" -T fields -e udp.srcport 2>/dev/null | sort | uniq -c >"$L/d2.flows"
	n1=$(wc -l <"$L/d1.flows") n2=$(wc -l <"$L/d2.flows")
	check "lb: all 24 flows arrive, spread over both backends ($n1 + $n2)" \
		test $((n1 + n2)) -eq 24 -a "$n1" -ge 1 -a "$n2" -ge 1
	[ $((n1 + n2)) -eq 24 ] || diag "lb stages: $($S stats --node "$LID-lb" --json | jq -c .counters)"
	check "lb: sticky: each flow's 5 datagrams reach one backend only" \
		test "$(cat "$L/d1.flows" "$L/d2.flows" | awk '$1 != 5' | wc -l)" = 0 -a \
		"$(cat "$L/d1.flows" "$L/d2.flows" | awk '{print $2}' | sort | uniq -d | wc -l)" = 0
	lpid=$(pgrep -f "cadeia-bench fn lb .*--netns $LID-lb ")
	kill -TERM "$lpid" 2>/dev/null
	for i in $(seq 50); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
	cp "/run/cadeia-bench/$LID/lb-lb.csv" "$L/spread.csv" 2>/dev/null
	# Two ICMP flows besides: up's check probes and the ping above.
	check "lb: lb-lb.csv reports the spread the captures show" \
		test "$(awk -F, '$3 == "d1" {print $5}' "$L/spread.csv" 2>/dev/null)" -ge "$n1" -a \
		"$(awk -F, '$3 == "d2" {print $5}' "$L/spread.csv" 2>/dev/null)" -ge "$n2" -a \
		"$(awk -F, 'NR > 1 {n += $5} END {print n + 0}' "$L/spread.csv" 2>/dev/null)" = $((n1 + n2 + 2))
	TMP=${L%/lb}
	down_and_check "$LID" "fn-lb" "nothing named $LID-* remains" netns link pin state fn
else
	fail "up --length 1 fn-lb ($(tail -n 1 "$L/up.err"))"
	for i in 1 2 3 4 5 6; do fail "lb: skipped, no testbed"; done
fi

# ---- refusals --------------------------------------------------------------------
sed 's/"rules": \[ "tcp dport 5999 counter drop", "tcp dport 5201 counter accept" \]/"rules": [ "drop; flush ruleset" ]/' \
	"$TMP/chain.json" >"$TMP/bad-rules.json"
check "validate refuses a rule that reaches outside the chain, with its position" \
	bash -c "! $B validate '$TMP/bad-rules.json' 2>'$TMP/bad.err' && grep -q 'bad-rules.json:[0-9]*:[0-9]*: nodes\[2\].rules\[0\]: .* give one rule per string' '$TMP/bad.err'"
jq '.nodes[3].backends = ["lb", "d2"]' "$TMP/lb.json" >"$TMP/bad-lb.json"
check "validate refuses an lb backend that is not a dest node" \
	bash -c "! $B validate '$TMP/bad-lb.json' 2>'$TMP/bad.err' && grep -q \"nodes\\[3\\].backends\\[0\\]: node 'lb' has role 'sf'\" '$TMP/bad.err'"

down_and_check "$ID" "fn-chain" "nothing named $ID-* remains" netns link pin state fn

# ---- a function that dies fails the run, named -------------------------------------
RES=$TMP/res
mkdir -p "$RES" "$TMP/dead"
jq '.sweep = {"from": 0, "to": 3} | .measure = {"rate_pps": 100, "rounds": 20, "per_round": 50}' \
	"$TMP/chain.json" >"$TMP/dead.json"
$B run --quiet --results "$RES" "$TMP/dead.json" </dev/null >"$TMP/dead/stdout" 2>"$TMP/dead/stderr" &
RUN_PID=$!
PIDS+=($RUN_PID)
if RID=$(run_id_of $RUN_PID) && RUNS+=("$RID") && wait_measuring "$RID" 30; then
	npid=$(pgrep -f "cadeia-bench fn nat .*--netns $RID-nat ")
	kill -9 $npid
	wait $RUN_PID
	rc=$?
	PIDS=()
	check "a run whose nat is killed ends with status 1 (got $rc)" test $rc -eq 1
	check "its error names the function, the node and the signal" \
		grep -q "function nat on node nat (pid $npid) died: killed by signal 9" "$TMP/dead/stderr"
	check_gone "$(leftovers "$RID" netns link pin state fn)" "nothing of the failed run is left" \
		"left behind by the failed run"
else
	fail "the run with a nat to kill measures within 30 s ($(tail -n 1 "$TMP/dead/stderr"))"
	stop_pids
	fail "no function killed"
	fail "no function killed"
fi
tap_done
