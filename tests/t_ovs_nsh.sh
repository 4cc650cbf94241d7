#!/usr/bin/env bash
# The ovs-nsh architecture on the netns backend: Open vSwitch (userspace
# datapath) as the central SFF of a star, with our classifier and proxies.
#
# 1. `cadeia-bench run` of ovs-nsh at lengths 0, 1, 2 completes, every probe
#    answered, OVS's logs kept with the results, nothing of the run left.
# 2. `cadeia-bench up --length 2`, captures on the host side of src, the SFF,
#    both proxies and dest, five pings. On the wire: our classifier's NSH goes
#    into OVS; OVS sends it to each proxy with TTL-1 and its own MAC; the
#    proxies (our dec/enc/fwd) accept OVS's NSH (dec counters) and send
#    SI-1 back; OVS ends the chain with the inner frame exactly as the
#    classifier wrapped it. OVS's rule counters agree. A frame with TTL 1
#    dies in OVS, one with TTL 2 leaves it with TTL 1 and dies at the proxy.
#    `cadeia-bench down` stops OVS and removes its directory.
# 3. Without Open vSwitch on PATH the run refuses ovs-nsh and creates nothing.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

PINGS=5
TMP=$(mktemp -d /tmp/cbtM-ovs.XXXXXX)

trap teardown_runs EXIT

# 6 for the whole run, 30 for up/capture/ping/TTL/down, 5 for the refusal.
plan 41
need_built "$B" "$S"
need_tools ovs-vswitchd ovs-ofctl tcpdump jq python3

# Nodes are numbered (0-based) file nodes, then _sff, then a proxy per SF.
SRC=0 DEST=1 SF1=2 SF2=3 SFF=4 PX1=5 PX2=6
SPI=7

cat >"$TMP/scen.json" <<EOF
{
  "name": "ovs-nsh-test",
  "architecture": "ovs-nsh",
  "defaults": { "function": "kwire" },
  "nodes": [
    { "name": "src", "role": "src" },
    { "name": "dest", "role": "dest" },
    { "name": "sf1", "role": "sf" },
    { "name": "sf2", "role": "sf" }
  ],
  "chains": [ { "name": "c1", "spi": $SPI, "sfs": ["sf1", "sf2"] } ],
  "sweep": { "lengths": [0, 1, 2] },
  "measure": { "rate_pps": 200, "rounds": 2, "per_round": 10, "warmup": 2, "grace_ms": 300 }
}
EOF

# What of run $1 survives: namespaces, links, its OVS daemons and directory.
run_left() { leftovers "$1" netns link state ovs; }

# ---- 1. a whole run ---------------------------------------------------------------
$B run --results "$TMP/res" "$TMP/scen.json" >"$TMP/run.out" 2>"$TMP/run.err"
rc=$?
check "run of ovs-nsh at lengths 0, 1, 2 exits 0" test $rc -eq 0
[ $rc -eq 0 ] || diag "$(tail -n 3 "$TMP/run.err")"
res=$(sed -n 's/^results: //p' "$TMP/run.out" | awk '{print $1}')
if [ -n "$res" ] && [ -f "$res/meta.json" ]; then
	id=$(jq -r .run_id "$res/meta.json")
	check "run $id: status complete" test "$(jq -r .status "$res/meta.json")" = complete
	rows=$(awk -F, '$1 == "ovs-nsh" && $4 == 20 && $5 == 20 { print $3 }' "$res/summary.csv" | sort -n | tr '\n' ' ')
	check "summary.csv: ovs-nsh at lengths 0 1 2, 20 of 20 probes answered each ($rows)" \
		test "$rows" = "0 1 2 "
	check "OVS's logs are kept with the results" \
		test -s "$res/ovs-_sff.ovs-vswitchd.log" -a -s "$res/ovs-_sff.ovsdb-server.log"
	check "ovs-vswitchd used the userspace datapath" \
		grep -q 'netdev@ovs-netdev' "$res/ovs-_sff.ovs-vswitchd.log"
	left=$(run_left "$id")
	check "run $id: no namespace, link, OVS daemon or directory remains${left:+ ($(echo $left))}" \
		test -z "$left"
else
	fail "run printed its results directory"
fi

# ---- 2. up, capture, ping --------------------------------------------------------
id=$($B up --length 2 "$TMP/scen.json" 2>"$TMP/up.err")
if [ $? -ne 0 ] || ! [[ "$id" =~ ^cb[0-9a-f]{4}$ ]]; then
	die "cadeia-bench up --length 2 prints a run id ($(tail -n 1 "$TMP/up.err"))"
fi
RUNS+=("$id")
ok "cadeia-bench up --length 2: run $id"
OVSDIR=/run/cadeia-bench/$id/ovs-_sff
MGMT=unix:$OVSDIR/br0.mgmt
check "OVS of run $id runs from $OVSDIR" test -S "$OVSDIR/br0.mgmt" -a -s "$OVSDIR/ovs-vswitchd.pid"
check "br0 is on the netdev datapath in fail-mode secure" \
	bash -c "ovs-vsctl --db=unix:$OVSDIR/db.sock get bridge br0 datapath_type fail_mode | tr '\n' ' ' | grep -qx 'netdev secure '"

# flows: "<match> <n_packets>" per rule, after the datapath's stats are pushed
flows() {
	ovs-appctl -t "$OVSDIR/ovs-vswitchd.ctl" revalidator/wait >/dev/null
	ovs-ofctl -O OpenFlow13 dump-flows "$MGMT" |
		sed -n 's/.*n_packets=\([0-9]*\),.* priority=[0-9]*,\([^ ]*\) actions=.*/\2 \1/p'
}
# npk FILE MATCH-SUBSTRINGS...: packet count of the one rule containing all.
npk() {
	local f=$1
	shift
	awk -v pats="$*" 'BEGIN { n = split(pats, p, " ") }
		{ for (i = 1; i <= n; i++) if (index($1, p[i]) == 0) next; print $2; c++ }
		END { if (c != 1) print "none-or-many" }' "$f"
}

HOSTS="src _sff _px$SF1 _px$SF2 dest"
for n in $HOSTS; do
	capture "$TMP" "$n" "$id-$n" 512
done
capture_wait
flows >"$TMP/flows.before"
for n in _px$SF1 _px$SF2; do $S stats --node "$id-$n" --json >"$TMP/$n.before.json"; done

check "$PINGS pings src -> dest through OVS and both proxies, all answered" \
	bash -c "ip netns exec $id-src ping -n -c $PINGS -i 0.2 -W 2 $(ip_of $DEST) >'$TMP/ping.log' 2>&1"
sleep 0.3
stop_captures
flows >"$TMP/flows.after"
for n in _px$SF1 _px$SF2; do $S stats --node "$id-$n" --json >"$TMP/$n.after.json"; done

# One row per frame: port dir spi si ttl osrc odst isrc idst icmp_type seq
# inner, where inner is the hex of what NSH carries (the whole frame without
# NSH); "-" for absent fields. Parsed here, independently of the stages.
cat >"$TMP/frames.py" <<'EOF'
import struct, sys
def mac(b): return ':'.join('%02x' % x for x in b)
for path in sys.argv[1:]:
    port, d = path.rsplit('/', 1)[1].rsplit('.', 2)[:2]
    data = open(path, 'rb').read()
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack('<I', data[off + 8:off + 12])[0]
        f = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        spi = si = ttl = isrc = idst = '-'
        osrc, odst, inner = mac(f[6:12]), mac(f[0:6]), f
        if f[12:14] == b'\x89\x4f':
            n = f[14:]
            ttl = ((n[0] & 0x0f) << 2) | (n[1] >> 6)
            spi, si = int.from_bytes(n[4:7], 'big'), n[7]
            inner = n[(n[1] & 0x3f) * 4:]
            if n[3] != 3:
                continue
            idst, isrc = mac(inner[0:6]), mac(inner[6:12])
        if inner[12:14] != b'\x08\x00' or inner[14 + 9] != 1:
            continue
        icmp = inner[14 + (inner[14] & 0x0f) * 4:]
        print('\t'.join(str(x) for x in (port, d, spi, si, ttl, osrc, odst, isrc, idst,
                                         icmp[0], struct.unpack('>H', icmp[6:8])[0], inner.hex())))
EOF
python3 "$TMP/frames.py" "$TMP"/*.pcap >"$TMP/frames.tsv" || fail "captures parse"

# expect reads these columns ("-" for absent fields).
FRAME_COLS="port dir spi si ttl osrc odst isrc idst type seq inner"

S_=$(mac_of $SRC) D_=$(mac_of $DEST) F_=$(mac_of $SFF) P1=$(mac_of $PX1) P2=$(mac_of $PX2)
REQ="type=8"
expect "$TMP" "src's classifier sends SPI $SPI SI 255 TTL 63 to the OVS SFF" $PINGS "port=src dir=in $REQ" \
	"spi=$SPI si=255 ttl=63 osrc=$S_ odst=$F_ isrc=$S_ idst=$D_"
expect "$TMP" "the OVS SFF receives them as sent" $PINGS "port=_sff dir=out $REQ si=255" \
	"spi=$SPI ttl=63 osrc=$S_ odst=$F_ isrc=$S_ idst=$D_"
expect "$TMP" "OVS forwards SI 255 to proxy 1 with TTL 62, from its own MAC" $PINGS \
	"port=_sff dir=in $REQ si=255" "spi=$SPI ttl=62 osrc=$F_ odst=$P1 isrc=$S_ idst=$D_"
expect "$TMP" "proxy 1 receives OVS's NSH: SI 255 TTL 62" $PINGS "port=_px$SF1 dir=out $REQ" \
	"spi=$SPI si=255 ttl=62 osrc=$F_ odst=$P1"
expect "$TMP" "proxy 1 returns SI 254, TTL kept (62), to the SFF" $PINGS "port=_px$SF1 dir=in $REQ" \
	"spi=$SPI si=254 ttl=62 osrc=$P1 odst=$F_ isrc=$S_ idst=$D_"
expect "$TMP" "OVS forwards SI 254 to proxy 2 with TTL 61" $PINGS \
	"port=_sff dir=in $REQ si=254" "spi=$SPI ttl=61 osrc=$F_ odst=$P2"
expect "$TMP" "proxy 2 receives OVS's NSH: SI 254 TTL 61" $PINGS "port=_px$SF2 dir=out $REQ" \
	"spi=$SPI si=254 ttl=61 osrc=$F_ odst=$P2"
expect "$TMP" "proxy 2 returns SI 253, TTL 61, to the SFF" $PINGS "port=_px$SF2 dir=in $REQ" \
	"spi=$SPI si=253 ttl=61 osrc=$P2 odst=$F_"
expect "$TMP" "the OVS SFF receives SI 254 TTL 62 back from proxy 1" $PINGS \
	"port=_sff dir=out $REQ osrc=$P1" "spi=$SPI si=254 ttl=62 odst=$F_"
expect "$TMP" "the OVS SFF receives SI 253 TTL 61 back from proxy 2" $PINGS \
	"port=_sff dir=out $REQ osrc=$P2" "spi=$SPI si=253 ttl=61 odst=$F_"
expect "$TMP" "OVS ends the chain: plain request from src's MAC to dest's" $PINGS \
	"port=_sff dir=in $REQ spi=-" "osrc=$S_ odst=$D_"
expect "$TMP" "dest receives plain requests" $PINGS "port=dest dir=out $REQ" "spi=- osrc=$S_ odst=$D_"
expect "$TMP" "OVS sends nothing else" $((3 * PINGS)) "port=_sff dir=in"
expect "$TMP" "replies go straight back, never through the SFF" 0 "port=_sff type=0"
# The inner frame dest gets is, byte for byte, the one the classifier wrapped.
t=$(awk -F'\t' '$1 == "src" && $2 == "in" && $10 == 8 { w[$11] = $12 }
	$1 == "dest" && $2 == "out" && $10 == 8 { g[$11] = $12 }
	END { for (s in w) if (g[s] == w[s]) same++; print same + 0 }' "$TMP/frames.tsv")
check "dest's $PINGS requests are byte for byte the inner frames src classified ($t same)" \
	test "$t" -eq $PINGS

for n in _px$SF1 _px$SF2; do
	d=$(counter_delta "$TMP/$n.before.json" "$TMP/$n.after.json" dec.decap)
	check "$n's dec accepted OVS's NSH: decap +$d, expected +$PINGS" test "$d" -eq $PINGS
done
for m in "nsh_si=255" "nsh_si=254" "nsh_np=3,nsh_spi=0x7,nsh_si=253"; do
	b=$(npk "$TMP/flows.before" "$m") a=$(npk "$TMP/flows.after" "$m")
	check "OVS rule $m counted $PINGS more packets ($b -> $a)" test $((a - b)) -eq $PINGS
done

# TTL: 1 expires in OVS; 2 leaves OVS with 1 and the proxy drops it (the
# next SFF hop would expire it).
cat >"$TMP/inject.py" <<'EOF'
import socket, sys
dev, dst, src, spi, si, ttl = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), \
    bytes.fromhex(sys.argv[3].replace(':', '')), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
inner = dst + src + b'\x08\x00' + bytes.fromhex('4500001c00010000400100000a0000010a000002') + \
    bytes.fromhex('0800f7fe00000001')
nsh = bytes([(ttl >> 2) & 0x0f, ((ttl & 3) << 6) | 2, 2, 3]) + spi.to_bytes(3, 'big') + bytes([si])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
s.send(dst + src + b'\x89\x4f' + nsh + inner)
EOF
d0=$(counter "$TMP/_px$SF1.after.json" dec drop_ttl)
flows >"$TMP/flows.ttl0"
ip netns exec $id-src python3 "$TMP/inject.py" eth0 $F_ $S_ $SPI 255 1
ip netns exec $id-src python3 "$TMP/inject.py" eth0 $F_ $S_ $SPI 255 2
sleep 0.3
flows >"$TMP/flows.ttl1"
$S stats --node "$id-_px$SF1" --json >"$TMP/ttl.json"
t=$(($(npk "$TMP/flows.ttl1" nsh_ttl=1) - $(npk "$TMP/flows.ttl0" nsh_ttl=1)))
check "a frame arriving with TTL 1 is dropped by OVS's TTL rule (+$t)" test "$t" -eq 1
t=$(($(npk "$TMP/flows.ttl1" nsh_si=255) - $(npk "$TMP/flows.ttl0" nsh_si=255)))
check "a frame arriving with TTL 2 is forwarded by OVS (+$t), and only that one" test "$t" -eq 1
t=$(($(counter "$TMP/ttl.json" dec drop_ttl) - d0))
check "proxy 1 drops it for TTL 1 (dec drop_ttl +$t)" test "$t" -eq 1

check "cadeia-bench down $id exits 0" bash -c "$B down $id >'$TMP/down.log' 2>&1"
check "down stopped OVS" grep -q "stopped ovs-vswitchd" "$TMP/down.log"
left=$(run_left "$id")
check "run $id: no namespace, link, OVS daemon or directory remains${left:+ ($(echo $left))}" \
	test -z "$left"

# ---- 3. no Open vSwitch: refused before anything exists ------------------------------
mkdir -p "$TMP/bin"
for t in ip tc tcpdump gnuplot; do
	p=$(command -v $t) && ln -s "$p" "$TMP/bin/$t"
done
PATH=$TMP/bin $B run --results "$TMP/res2" "$TMP/scen.json" >"$TMP/refuse.out" 2>"$TMP/refuse.err"
rc=$?
check "without Open vSwitch the run fails (exit $rc)" test $rc -ne 0
check "and says why: $(tail -n 1 "$TMP/refuse.err")" \
	grep -q 'architecture ovs-nsh: Open vSwitch userspace datapath.*not installed' "$TMP/refuse.err"
# Refused before anything is created: no results directory, no state file.
check "the refusal exits 2 (a scenario the machine cannot run)" test $rc -eq 2
check "the refused run wrote no results" test -z "$(ls -A "$TMP/res2" 2>/dev/null)"
# no_state_names FILE: no run's state file names FILE. A state file that
# vanishes while read is another test's run ending, not an error; any other
# grep failure is.
no_state_names() {
	local f rc

	for f in /run/cadeia-bench/*.json; do
		[ -e "$f" ] || continue
		grep -qF -- "$1" "$f"
		rc=$?
		[ $rc -eq 0 ] && return 1
		[ $rc -eq 1 ] || [ ! -e "$f" ] || return 1
	done
	return 0
}
check "the refused run left no state file or testbed" no_state_names "$TMP/scen.json"
tap_done
