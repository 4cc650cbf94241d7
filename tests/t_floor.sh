#!/usr/bin/env bash
# The floor function kind on the wire. tests/scenarios/floor3.json chains
# three floor SFs; `cadeia-bench up --length 2` installs src -> f1 -> f2 ->
# dest. tcpdump on every host-side veth while src pings dest three times
# must show: plain IPv4 everywhere (no NSH), the source steering to f1, each
# floor SF rewriting both MACs towards the next hop (f1 -> f2, f2 -> dest),
# f3 (past the length) untouched, and the replies going dest -> src
# directly. f1's next-hop table holds that one entry, its counter counts the
# frames, and `down` leaves nothing.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

SCEN=tests/scenarios/floor3.json
TMP=$(mktemp -d /tmp/cbtF-floor.XXXXXX)
trap teardown_runs EXIT

need_built "$B"
need_tools tcpdump tshark jq bpftool

plan 15

# fwd_count: f1's "forwarded" counter (floor_counts slot 0), summed over CPUs;
# bpftool prints each CPU's value as little-endian bytes.
fwd_count() {
	bpftool -j map lookup pinned "$PIN/$id-f1/floor_counts" key 0 0 0 0 2>/dev/null |
		jq 'def byte: ltrimstr("0x") | explode | map(if . >= 97 then . - 87 else . - 48 end) | .[0] * 16 + .[1];
		    [.values[].value | to_entries | map((.value | byte) * pow(256; .key)) | add] | add' 2>/dev/null
}

# Scenario order: src 0, dest 1, f1 2, f2 3, f3 4 (tests/lib.sh: mac_of, ip_of).
SRC=$(mac_of 0) DEST=$(mac_of 1) F1=$(mac_of 2) F2=$(mac_of 3)
DIP=$(ip_of 1) SIP=$(ip_of 0)

if ! bench_up "$TMP" 2 "$SCEN"; then
	fail "cadeia-bench up --length 2 prints a run id ($(tail -n 1 "$TMP/up.err"))"
	tap_done
	exit 1
fi
id=$UP_ID
ok "cadeia-bench up --length 2 $SCEN: run $id"

for n in src dest f1 f2 f3; do
	capture_bg "$TMP/$n.log" tcpdump --immediate-mode -U -n -i "$id-$n" -w "$TMP/$n.pcap"
done
capture_wait || diag "not every tcpdump reported listening"
c0=$(fwd_count)
check "3 pings from src to dest are answered" \
	bash -c "ip netns exec $id-src ping -n -c 3 -i 0.2 -W 2 $DIP >'$TMP/ping.log' 2>&1"
c1=$(fwd_count)
sleep 0.3
stop_captures

check "no NSH on any port" test "$( (for n in src dest f1 f2 f3; do count $n nsh; done) | paste -sd+ | bc)" -eq 0
check "src sends 3 plain echo requests to f1 (dst MAC f1, src MAC src)" \
	test "$(count src "icmp.type == 8 && eth.dst == $F1 && eth.src == $SRC && ip.dst == $DIP")" -eq 3
check "f1 gets them and sends 3 on to f2, source MAC its own" \
	test "$(count f1 "icmp.type == 8 && eth.dst == $F2 && eth.src == $F1 && ip.dst == $DIP")" -eq 3
check "f2 sends 3 on to dest, source MAC its own" \
	test "$(count f2 "icmp.type == 8 && eth.dst == $DEST && eth.src == $F2 && ip.dst == $DIP")" -eq 3
check "dest receives the 3 requests from f2" \
	test "$(count dest "icmp.type == 8 && eth.dst == $DEST && eth.src == $F2")" -eq 3
check "f3, past the installed length, sees no ICMP" test "$(count f3 icmp)" -eq 0
check "dest answers src directly: 3 replies to src's MAC" \
	test "$(count dest "icmp.type == 0 && eth.dst == $SRC && ip.dst == $SIP")" -eq 3
check "no reply crosses a floor SF" test "$(( $(count f1 "icmp.type == 0") + $(count f2 "icmp.type == 0") ))" -eq 0

entries=$(bpftool -j map dump pinned "$PIN/$id-f1/floor_next" 2>/dev/null)
check "f1's floor_next holds one entry" test "$(jq length <<<"$entries" 2>/dev/null)" = 1
# key: dest's IPv4 in network order; value: f2's MAC then f1's.
want_key=$(printf '"0x%02x" ' ${DIP//./ } | sed 's/ $//')
want_val=$(printf '"0x%s" ' $(echo "$F2:$F1" | tr ':' ' ') | sed 's/ $//')
got_key=$(jq -r '.[0].key | join(" ")' <<<"$entries" 2>/dev/null | sed 's/\([^ ]*\)/"\1"/g')
got_val=$(jq -r '.[0].value | join(" ")' <<<"$entries" 2>/dev/null | sed 's/\([^ ]*\)/"\1"/g')
check "that entry maps dest ($DIP) to f2's MAC, with f1's as source ($got_key -> $got_val)" \
	test "$got_key" = "$want_key" -a "$got_val" = "$want_val"
check "f1's forwarded counter grew by the 3 requests (${c0:-?} -> ${c1:-?})" \
	test -n "$c0" -a -n "$c1" -a "$((c1 - c0))" -eq 3 2>/dev/null

down_and_check "$id" "floor3" "nothing named $id-* remains" netns link pin state fn
tap_done
