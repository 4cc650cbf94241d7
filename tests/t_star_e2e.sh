#!/usr/bin/env bash
# The star architectures end to end through the orchestrator, checked on the
# wire (issue 5). tests/scenarios/star-phantomsfc.json and star-ovs-nsh.json
# are scenarios/chain8.json on each star with kernel-wire SFs, so no process
# of ours sits in the path. For lengths 0, 1, 2 and 8, `cadeia-bench up`
# builds the testbed; tcpdump captures every host-side veth, one capture per
# direction (on host veth X, "out" is bridge -> node X, "in" is node X ->
# bridge); src pings dest and sends a few fully deterministic echo requests
# (fixed IP id, ICMP id, seq and payload) from a raw socket.
#
# On the wire: src -> SFF carries NSH SPI 1 SI 255 TTL 63; for hop k the SFF
# sends SI 256-k TTL 63-k to proxy k's MAC (every pass through the SFF takes
# one off the TTL, RFC 8300 section 2.2) and proxy k returns SI 255-k with
# the TTL it got to the SFF's MAC; the SFF ends the chain with the plain frame
# (src's MAC as source) to dest; replies go straight dest -> src. The SFF sees
# L+1 NSH requests per request, every proxy on the path 2, the others none.
# Then the same deterministic frames through cadeia-aberta (same SFs): dest
# must receive byte-identical frames on all three architectures, and ping's
# own frames identical except for IP id/checksum, ICMP id/seq/checksum and
# ping's timestamp.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/tap.sh
. tests/lib.sh

PINGS=4
PROBES=3
N=$((PINGS + PROBES)) # echo requests per run
PROBE_ID=51217        # 0xc811: the raw probes' ICMP id, told apart from ping's
SPI=1
TMP=$(mktemp -d /tmp/cbtQ-star.XXXXXX)

trap teardown_runs EXIT

# STAR_LENGTHS picks the lengths (0..8, chain8's SFs); leaving one of the
# default out is reduced coverage (a failure under CI=true, see tests/run.sh).
DEFAULT_LENGTHS="0 1 2 8"
LENGTHS=${STAR_LENGTHS:-$DEFAULT_LENGTHS}
missing=
for L in $LENGTHS; do
	[[ "$L" =~ ^[0-8]$ ]] || { echo "STAR_LENGTHS: '$L' is not a length 0..8" >&2; exit 2; }
done
for L in $DEFAULT_LENGTHS; do
	[[ " $LENGTHS " == *" $L "* ]] || missing="$missing $L"
done
# Checks per length: check_star 17 at length 0, else 20 + 5 per SF, for each
# of the two stars; check_ref 8; the comparison of dest's frames 2 x 2.
n=0
for L in $LENGTHS; do
	n=$((n + 2 * (L == 0 ? 17 : 20 + 5 * L) + 8 + 4))
done
plan $n
[ -z "$missing" ] || reduced "STAR_LENGTHS=\"$STAR_LENGTHS\" leaves out lengths$missing"

need_built "$B" "$S"
need_tools tcpdump tshark jq python3 ovs-vswitchd

# Nodes are numbered (0-based) file nodes, then _sff, then _pxN per SF.

# The reference architecture on the very same SFs.
jq '.name = "star-ref-cadeia-aberta" | .architecture = "cadeia-aberta"' \
	tests/scenarios/star-phantomsfc.json >"$TMP/star-cadeia-aberta.json" || die "reference scenario"

# Echo requests that are the same bytes on every send: IP header given whole
# (IPPROTO_RAW), so the kernel fills in only the checksum.
cat >"$TMP/probe.py" <<'EOF'
import socket, struct, sys
src, dst, ident, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
payload = bytes(range(0x20, 0x20 + 56))
for seq in range(1, count + 1):
    icmp = struct.pack('!BBHHH', 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0xcb00 + seq, 0x4000, 64, 1, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    s.sendto(ip + icmp, (dst, 0))
EOF

# The echo requests in a capture, one row each: ident seq hex masked, where
# masked blanks IP id and checksum, ICMP checksum, id, seq and ping's
# timestamp (the 16 bytes after the ICMP header).
cat >"$TMP/frames.py" <<'EOF'
import struct, sys
data = open(sys.argv[1], 'rb').read()
le = data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1')
off = 24
while off + 16 <= len(data):
    caplen = struct.unpack('<I' if le else '>I', data[off + 8:off + 12])[0]
    f = bytearray(data[off + 16:off + 16 + caplen])
    off += 16 + caplen
    if len(f) < 42 or f[12:14] != b'\x08\x00' or f[23] != 1:
        continue
    icmp = 14 + (f[14] & 0x0f) * 4
    if f[icmp] != 8:
        continue
    ident, seq = struct.unpack('!HH', f[icmp + 4:icmp + 8])
    m = bytearray(f)
    for a, b in ((18, 20), (24, 26), (icmp + 2, icmp + 8), (icmp + 8, icmp + 24)):
        m[a:b] = b'\0' * (b - a)
    print(ident, seq, f.hex(), m.hex())
EOF

down_check() { down_and_check "$1" "$2" "nothing of run $1 remains"; }

# session ARCH SCENARIO LENGTH [NODE...]: up, capture the host-side veth of
# the nodes given (default: all that have one), ping and probe, decode.
# Leaves the run's id in $ID and its files in $DIR.
session() {
	local arch=$1 scen=$2 len=$3 t n
	local -a only=("${@:4}")
	local -a links

	DIR=$TMP/$arch-L$len
	ID=
	mkdir -p "$DIR"
	if ! bench_up "$DIR" "$len" "$scen"; then
		fail "$arch L$len: cadeia-bench up --length $len prints a run id ($(tail -n 1 "$DIR/up.err"))"
		return 1
	fi
	ID=$UP_ID
	ok "$arch L$len: cadeia-bench up --length $len $(basename "$scen"): run $ID"

	# NSH-unaware SFs of a star hang off their proxy: no host-side veth.
	mapfile -t links < <(jq -r '.nodes[].link' /run/cadeia-bench/$ID.json)
	for n in "${links[@]}"; do
		[ -e /sys/class/net/$n ] || continue
		[ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" ${n#"$ID"-} "* ]] || continue
		capture "$DIR" "${n#"$ID"-}" "$n"
	done
	capture_wait || diag "$arch L$len: not every tcpdump reported listening"
	for n in "${links[@]}"; do
		n=${n#"$ID"-}
		[[ "$n" == _px* ]] && $S stats --node "$ID-$n" --json >"$DIR/$n.before.json"
	done

	check "$arch L$len: $PINGS pings src -> dest all answered" \
		bash -c "ip netns exec $ID-src ping -n -c $PINGS -i 0.2 -W 2 $(ip_of 1) >'$DIR/ping.log' 2>&1"
	check "$arch L$len: $PROBES deterministic echo requests sent from src" \
		ip netns exec "$ID-src" python3 "$TMP/probe.py" "$(ip_of 0)" "$(ip_of 1)" $PROBE_ID $PROBES
	sleep 0.3
	stop_captures
	for n in "${links[@]}"; do
		n=${n#"$ID"-}
		[[ "$n" == _px* ]] && $S stats --node "$ID-$n" --json >"$DIR/$n.after.json"
	done
	# IGMP: the bridge joins 224.0.0.106 (multicast snooping) once as it comes up.
	decode "$DIR" igmp
	if [ -s "$DIR/dest.out.pcap" ]; then
		python3 "$TMP/frames.py" "$DIR/dest.out.pcap" >"$DIR/dest.req" || fail "$arch L$len: dest's capture parses"
	else
		: >"$DIR/dest.req"
	fi
	if [ ! -s "$DIR/stray.txt" ]; then
		ok "$arch L$len: no frame but the echo requests and replies on any port"
	else
		fail "$arch L$len: $(wc -l <"$DIR/stray.txt") other frames on the wire"
		diag "first: $(head -n 1 "$DIR/stray.txt")"
	fi
	t=$(awk -v id=$PROBE_ID '$1 == id' "$DIR/dest.req" | wc -l)
	check "$arch L$len: dest receives the $PROBES raw echo requests ($t)" test "$t" -eq $PROBES
	return 0
}

# check_star ARCH LENGTH: the star's hops on the wire.
check_star() {
	local arch=$1 len=$2 k n t px s_ d_ f_ p_ ok_all path req rep
	local scen=tests/scenarios/star-$arch.json
	local -a pxs

	session "$arch" "$scen" "$len" || return
	local dir=$DIR id=$ID
	s_=$(mac_of 0)
	d_=$(mac_of 1)
	# chain8's SFs are nodes 2..9; _sff is node 10, _pxN nodes 11..18.
	f_=$(mac_of 10)
	for k in $(seq 1 8); do pxs[$k]=_px$((k + 1)); done
	local tag="$arch L$len"
	req="type=8 ipdst=$(ip_of 1)"
	rep="type=0 ipsrc=$(ip_of 1)"
	local plain="spi= isrc= idst= osrc=$s_ odst=$d_"

	check "$tag: run $id has the SFF _sff at index 10" \
		test "$(jq -r '.nodes[10].name' /run/cadeia-bench/$id.json)" = _sff
	if [ "$len" -eq 0 ]; then
		expect "$dir" "$tag: src sends plain requests straight to dest" $N "port=src dir=in $req" "$plain"
		t=$(awk -F'\t' '$4 != ""' "$dir/frames.tsv" | wc -l)
		if [ "$t" -eq 0 ]; then ok "$tag: no NSH frame anywhere"; else fail "$tag: $t NSH frames on the wire"; fi
		expect "$dir" "$tag: the SFF sees nothing of the flow" 0 "port=_sff"
	else
		expect "$dir" "$tag: src classifies: SPI $SPI SI 255 TTL 63 to the SFF" $N \
			"port=src dir=in $req" "spi=$SPI si=255 ttl=63 osrc=$s_ odst=$f_ isrc=$s_ idst=$d_"
		expect "$dir" "$tag: the SFF receives SI 255 TTL 63 from src" $N \
			"port=_sff dir=out $req si=255" "spi=$SPI ttl=63 osrc=$s_ odst=$f_ isrc=$s_ idst=$d_"
		read -r n _ < <(sel "$dir" "port=_sff dir=out $req spi=$SPI")
		check "$tag: $((len + 1)) NSH frames enter the SFF per request ($n for $N)" \
			test "$n" -eq $(((len + 1) * N))
		for ((k = 1; k <= len; k++)); do
			px=${pxs[$k]}
			p_=$(mac_of $((10 + k)))
			expect "$dir" "$tag: SFF -> $px (hop $k): SI $((256 - k)) TTL $((63 - k)), to $px's MAC" $N \
				"port=_sff dir=in $req si=$((256 - k))" \
				"spi=$SPI ttl=$((63 - k)) osrc=$f_ odst=$p_ isrc=$s_ idst=$d_"
			expect "$dir" "$tag: $px receives SI $((256 - k)) TTL $((63 - k)) from the SFF" $N \
				"port=$px dir=out $req" "spi=$SPI si=$((256 - k)) ttl=$((63 - k)) osrc=$f_ odst=$p_ isrc=$s_ idst=$d_"
			expect "$dir" "$tag: $px -> SFF: SI $((255 - k)), TTL $((63 - k)) kept, to the SFF's MAC" $N \
				"port=$px dir=in $req" "spi=$SPI si=$((255 - k)) ttl=$((63 - k)) osrc=$p_ odst=$f_ isrc=$s_ idst=$d_"
			expect "$dir" "$tag: the SFF receives SI $((255 - k)) TTL $((63 - k)) back from $px" $N \
				"port=_sff dir=out $req osrc=$p_" "spi=$SPI si=$((255 - k)) ttl=$((63 - k)) odst=$f_"
			read -r n _ < <(sel "$dir" "port=$px $req spi=$SPI")
			check "$tag: $px's port sees exactly 2 NSH frames per request ($n for $N)" test "$n" -eq $((2 * N))
		done
		expect "$dir" "$tag: the SFF ends the chain: plain request, src's MAC to dest's" $N \
			"port=_sff dir=in $req spi=" "$plain"
		read -r n _ < <(sel "$dir" "port=_sff dir=in $req")
		check "$tag: the SFF sends nothing else ($n requests for $N)" test "$n" -eq $(((len + 1) * N))
	fi
	expect "$dir" "$tag: dest receives plain requests from src's MAC" $N "port=dest dir=out $req" "$plain"
	# Proxies off the path, and replies anywhere but src and dest.
	ok_all=1
	for ((k = len + 1; k <= 8; k++)); do
		read -r n _ < <(sel "$dir" "port=${pxs[$k]}")
		[ "$n" -eq 0 ] || { fail "$tag: ${pxs[$k]}, off the path, sees $n frames"; ok_all=0; }
	done
	[ "$ok_all" -eq 1 ] && ok "$tag: proxies off the path see nothing"
	expect "$dir" "$tag: dest sends plain replies to src" $N "port=dest dir=in $rep" "spi= osrc=$d_ odst=$s_"
	expect "$dir" "$tag: src receives plain replies from dest" $N "port=src dir=out $rep" "spi= osrc=$d_ odst=$s_"
	read -r n _ < <(awk -F'\t' '$1 != "src" && $1 != "dest" && $11 == 0' "$dir/frames.tsv" | wc -l)
	[ -e "$dir/decode.failed" ] && n=no-decode # nothing decoded is no proof
	check "$tag: no reply crosses the SFF or a proxy ($n)" test "$n" -eq 0

	# Each request passed src, SFF, proxy 1, SFF, ..., SFF, dest in that order.
	if [ "$len" -gt 0 ]; then
		path="src.in.255 _sff.out.255"
		for ((k = 1; k <= len; k++)); do
			path="$path _sff.in.$((256 - k)) ${pxs[$k]}.out.$((256 - k)) ${pxs[$k]}.in.$((255 - k)) _sff.out.$((255 - k))"
		done
		path="$path _sff.in. dest.out."
		t=$(in_order "$dir" "$(ip_of 1)" "$path")
		check "$tag: each of the $N requests crossed src, SFF, proxy 1 .. $len, SFF, dest in order ($t: requests, hops out of order)" \
			test "$t" = "$N 0"
	fi

	# Our proxies' stages agree with the wire: one decap, encap, forward per request.
	ok_all=1
	for ((k = 1; k <= 8; k++)); do
		local got want=0 a b c
		px=${pxs[$k]}
		[ "$k" -le "$len" ] && want=$N
		a=$dir/$px.after.json
		b=$dir/$px.before.json
		got=
		for c in dec.decap enc.encap fwd.forwarded; do
			got="$got $(counter_delta "$b" "$a" $c)"
		done
		if [ "$got" != " $want $want $want" ]; then
			fail "$tag: $px counters dec.decap enc.encap fwd.forwarded:$got, expected $want each"
			ok_all=0
		fi
	done
	[ "$ok_all" -eq 1 ] && ok "$tag: proxy counters (decap, encap, forwarded) match the wire"

	cp "$dir/dest.req" "$TMP/dest-$arch-L$len.req"
	down_check "$id" "$tag"
}

# check_ref LENGTH: cadeia-aberta on the same SFs, for dest's frames only
# (tests/t_e2e_netns.sh checks its hops).
check_ref() {
	local len=$1

	session cadeia-aberta "$TMP/star-cadeia-aberta.json" "$len" src dest || return
	expect "$DIR" "cadeia-aberta L$len: dest receives plain requests from src's MAC" $N \
		"port=dest dir=out type=8" "spi= osrc=$(mac_of 0) odst=$(mac_of 1)"
	cp "$DIR/dest.req" "$TMP/dest-cadeia-aberta-L$len.req"
	down_check "$ID" "cadeia-aberta L$len"
}

for L in $LENGTHS; do
	check_star phantomsfc "$L"
	check_star ovs-nsh "$L"
	check_ref "$L"
done

# What dest gets does not depend on the architecture.
for L in $LENGTHS; do
	r=$TMP/dest-cadeia-aberta-L$L.req
	[ -s "$r" ] || { fail "L$L: no reference frames from cadeia-aberta"; continue; }
	awk -v id=$PROBE_ID '$1 == id { print $2, $3 }' "$r" | sort >"$TMP/raw-ref"
	awk -v id=$PROBE_ID '$1 != id { print $4 }' "$r" | sort -u >"$TMP/masked-ref"
	for a in phantomsfc ovs-nsh; do
		f=$TMP/dest-$a-L$L.req
		[ -s "$f" ] || { fail "L$L: no frames from $a to compare"; continue; }
		awk -v id=$PROBE_ID '$1 == id { print $2, $3 }' "$f" | sort >"$TMP/raw-$a"
		if [ "$(wc -l <"$TMP/raw-$a")" -eq $PROBES ] && cmp -s "$TMP/raw-ref" "$TMP/raw-$a"; then
			ok "L$L: dest's $PROBES raw requests are byte for byte the same on $a as on cadeia-aberta"
		else
			fail "L$L: dest's raw requests differ between $a and cadeia-aberta"
			diag "$(diff "$TMP/raw-ref" "$TMP/raw-$a" | head -n 4)"
		fi
		awk -v id=$PROBE_ID '$1 != id { print $4 }' "$f" | sort -u >"$TMP/masked-$a"
		if [ "$(wc -l <"$TMP/masked-$a")" -eq 1 ] && cmp -s "$TMP/masked-ref" "$TMP/masked-$a"; then
			ok "L$L: dest's ping requests on $a equal cadeia-aberta's but for IP id/csum, ICMP id/seq/csum, timestamp"
		else
			fail "L$L: dest's ping requests on $a differ from cadeia-aberta's beyond id, seq, checksums and timestamp"
		fi
	done
done

tap_done
