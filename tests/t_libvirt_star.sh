#!/usr/bin/env bash
# The star architectures (phantomsfc, ovs-nsh) on the libvirt backend, on TCG
# guests booted from build/image: an SFF guest, and a proxy guest whose
# second NIC shares a small bridge <id>-p<N> with its SF's only NIC.
#
# 1. `cadeia-bench run` of tests/scenarios/vm-star.json (both architectures,
#    lengths 0 and 1, 10 probes each): completes, both architectures are
#    measured at both lengths without loss; nothing of the run remains.
# 2. `cadeia-bench up --length 1` (phantomsfc, the first architecture), with
#    tcpdump on every host tap, one capture per direction (on tap X, "out" is
#    host -> guest X, "in" is guest X -> host); the prober runs in the src
#    guest. The captures must show src -> SFF (NSH SI 255 TTL 63), SFF ->
#    proxy (SI 255 TTL 62), the plain inner frame to the SF and back, proxy
#    -> SFF (SI 254 TTL 62, the proxy leaves TTL alone), SFF -> dest plain,
#    replies straight back; the stage counters agree. The accelerator of
#    both runs is the KVM probe's answer (its cache), the domains of that
#    type. Then `down`: no domain, tap, bridge (the pair bridge too), state
#    file or pin of the run remains.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

SCEN=tests/scenarios/vm-star.json
PINGS=5
TMP=$(mktemp -d /tmp/cbtR-star.XXXXXX)
T0=$(date +%s)

teardown() {
	local id

	stop_captures
	for id in "${RUNS[@]}"; do
		[ -e /run/cadeia-bench/$id.json ] && $B down --force "$id" >/dev/null 2>&1
		rm -f /var/log/libvirt/qemu/$id-*.log
	done
	if [ -n "${KEEP_TMP:-}" ]; then diag "kept $TMP"; else rm -rf "$TMP"; fi
}
trap teardown EXIT

section() { diag "---- $* (at $(($(date +%s) - T0)) s)"; }

# run 11 (its accelerator is checked after `up`); up 8, probe 2, frames 17,
# counters 2, down 3.
plan 43
need_built "$B"
[ -r "$IMG/vmlinuz" ] && [ -r "$IMG/initrd.img" ] || die "the guest image is built (make image)"
need_tools virsh tcpdump tshark jq base64
ACCEL_CACHE=/var/cache/cadeia-bench/accel.json # VIRT_ACCEL_CACHE

# Node i (0-based: the file's nodes, then _sff, then one _pxN per SF).
mac_of() { printf '02:cb:00:00:%02x:%02x' $((($1 + 1) >> 8)) $((($1 + 1) & 255)); }
ip_of() { echo "10.201.0.$(($1 + 1))"; }

# A failing virsh, ip or pgrep shows as "(failed: ...)": not as nothing left.
leftovers() {
	local id=$1

	listing $V list --all --name | grep -E "^($id-|\(failed)"
	listing ip -o link | awk -F': ' '/^\(failed/ {print; next} {print $2}' | sed 's/@.*//' |
		grep -E "^($id-|\(failed)"
	ls -d /run/cadeia-bench/$id* "$PIN/$id-"* /run/libvirt/qemu/$id-* 2>/dev/null
	pgrep_or_fail -af "guest=$id-"
}

# check_clean "ID [ID...]" WHAT: one check over every id given.
check_clean() {
	local ids=$1 what=$2 left= id

	for id in $ids; do
		left="$left $(leftovers "$id")"
	done
	left=$(echo $left)
	if [ -z "$left" ]; then
		ok "$what: nothing named {${ids// /,}}-* remains (domain, tap, bridges, state, pin, QEMU)"
	else
		fail "$what: left behind: $(echo $left)"
	fi
}

data_rows() { echo $(($(wc -l <"$1") - 1)); }

mapfile -t FILE_NODES < <(jq -r '.nodes[].name' "$SCEN")
declare -A idx
for i in "${!FILE_NODES[@]}"; do idx[${FILE_NODES[$i]}]=$i; done
NF=${#FILE_NODES[@]}
idx[_sff]=$NF
idx[_px${idx[sf1]}]=$((NF + 1))
PX=_px${idx[sf1]}
NODES=("${FILE_NODES[@]}" _sff "$PX")
SPI=$(jq -r '.chains[0].spi' "$SCEN")
SRC_MAC=$(mac_of "${idx[src]}")
DEST_MAC=$(mac_of "${idx[dest]}")
SFF_MAC=$(mac_of "${idx[_sff]}")
PX_MAC=$(mac_of "${idx[$PX]}")
DST=$(ip_of "${idx[dest]}")

# ==== 1. a run of both architectures ============================================
section "run of $SCEN"
out=$TMP/run
mkdir -p "$out"
$B run --quiet --results "$out/res" "$SCEN" </dev/null >"$out/stdout" 2>"$out/stderr"
rc=$?
check "run of both star architectures exits 0 (got $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || diag "$(tail -n 3 "$out/stderr")"
dirs=("$out"/res/cbtR-vm-star-*)
if [ ${#dirs[@]} -eq 1 ] && [ -d "${dirs[0]}" ]; then
	d=${dirs[0]}
	id=$(jq -r .run_id "$d/meta.json")
	RUNS+=("$id")
	check "run: meta.json says complete" [ "$(jq -r .status "$d/meta.json")" = complete ]
	RUN_ACCEL=$(jq -r .accelerator "$d/meta.json") # checked against the probe after `up`
	for a in phantomsfc ovs-nsh; do
		for l in 0 1; do
			n=$(awk -F, -v a=$a -v l=$l '$1 == a && $3 == l && $8 == 0' "$d/raw.csv" | wc -l)
			check "run: $a, length $l: 10 probes answered in raw.csv (got $n)" [ "$n" -eq 10 ]
		done
		check "run: summary.csv has $a at lengths 0 and 1" \
			[ "$(awk -F, -v a=$a '$1 == a {print $3}' "$d/summary.csv" | sort -n | tr '\n' ' ')" = "0 1 " ]
	done
	# One console log per architecture and guest: the second boot must not
	# overwrite the first's.
	for a in phantomsfc ovs-nsh; do
		for n in "${NODES[@]}"; do
			grep -q 'cadeia: ready' "$d/console-$a-$n.log" 2>/dev/null || bad="${bad:-} $a/$n"
		done
	done
	check "run: every guest's console of both architectures (SFF and proxy included) says 'cadeia: ready'${bad:+ (not:$bad)}" \
		[ -z "${bad:-}" ]
	# Both testbeds were up at once (interleaved rounds), each under a run id of its own.
	ids=$(jq -r '[.testbed_run_ids[]] | unique | join(" ")' "$d/meta.json")
	n_ids=$(jq -r '[.testbed_run_ids[]] | unique | length' "$d/meta.json")
	first=$(jq -r '.testbed_run_ids.phantomsfc' "$d/meta.json")
	check "run: one run id per architecture's testbed, the first the run's own (got: $ids)" \
		test "$n_ids" = 2 -a "$first" = "$id"
	for x in $ids; do RUNS+=("$x"); done
	check_clean "$ids" "run"
else
	fail "run: one results directory (found: ${dirs[*]})"
fi

# ==== 2. up --length 1 of phantomsfc, captures on the taps =======================
section "up --length 1 of $SCEN (phantomsfc)"
dir=$TMP/up
mkdir -p "$dir"
$B up --length 1 "$SCEN" </dev/null >"$dir/up.out" 2>"$dir/up.err"
rc=$?
id=$(cat "$dir/up.out")
if [ $rc -ne 0 ] || ! [[ "$id" =~ ^cb[0-9a-f]{4}$ ]]; then
	diag "$(tail -n 5 "$dir/up.err")"
	die "cadeia-bench up --length 1 $SCEN prints a run id (exit $rc)"
fi
RUNS+=("$id")
ok "cadeia-bench up --length 1 $SCEN: run $id"

# The accelerator is the KVM probe's decision for this host, in both runs.
read -r ACCEL key < <($B status --json |
	jq -r --arg id "$id" '.[] | select(.id == $id) | .accelerator | "\(.accel) \(.key)"')
want=$(jq -r --arg k "$key" '.[$k].accel // "none"' "$ACCEL_CACHE" 2>/dev/null)
check "up: status --json records the KVM probe's answer ($ACCEL; cache $ACCEL_CACHE says ${want:-nothing} for \"$key\")" \
	eval '[ "$ACCEL" = kvm -o "$ACCEL" = tcg ] && [ "$ACCEL" = "$want" ]'
check "run: meta.json's accelerator is the probe's answer (${RUN_ACCEL:-none} = $ACCEL)" \
	[ "${RUN_ACCEL:-none}" = "$ACCEL" ]
[ "$ACCEL" = kvm ] && dtype=kvm || dtype=qemu
check "up: the domains are $ACCEL (domain type $dtype)" \
	bash -c "$V dumpxml $id-src | grep -q \"<domain type='$dtype'\""

t=0
for n in "${NODES[@]}"; do
	[ "$($V domstate "$id-$n" 2>/dev/null)" = running ] && t=$((t + 1))
done
check "up: the ${#NODES[@]} domains (src, dest, sf1, _sff, $PX) are running" [ "$t" -eq ${#NODES[@]} ]
master() { basename "$(readlink /sys/class/net/$1/master 2>/dev/null)"; }
PAIR=$id-p${idx[sf1]}
check "up: src, dest, _sff and $PX are on $id-br" \
	[ "$(for n in src dest _sff $PX; do master $id-$n; done | sort -u)" = "$id-br" ]
check "up: sf1's tap and $PX's second tap ($id-${PX}b) are on $PAIR, alone" \
	[ "$(master $id-sf1) $(master $id-${PX}b) $(ls /sys/class/net/$PAIR/brif 2>/dev/null | sort | tr '\n' ' ')" = \
	  "$PAIR $PAIR $id-${PX}b $id-sf1 " ]
check "up: guest $PX's eth1 is the NIC on the pair bridge (its MAC)" \
	[ "$(ga $id-$PX 20 /bin/busybox cat /sys/class/net/eth1/address)" = \
	  "$(cat /sys/class/net/$id-${PX}b/address 2>/dev/null | sed 's/^fe/02/')" ]

stage_stats() { ga "$id-$1" 20 /usr/bin/cadeia-stage stats --node "$id-$1" --json; }
for n in _sff $PX; do stage_stats $n >"$dir/$n.before.json"; done

TAPS=("${NODES[@]}" "${PX}b")
for n in "${TAPS[@]}"; do
	for q in in out; do
		tcpdump -i "$id-$n" -Q $q --immediate-mode -U -n -s 256 \
			-w "$dir/$n.$q.pcap" 2>"$dir/$n.$q.err" &
		CAP_PIDS+=($!)
	done
done
for t in $(seq 50); do
	[ "$(grep -l 'listening on' "$dir"/*.err 2>/dev/null | wc -l)" -eq $((${#TAPS[@]} * 2)) ] && break
	sleep 0.1
done
[ "$t" -lt 50 ] || diag "up: not every tcpdump reported listening"

ga "$id-src" 60 /usr/bin/cadeia-guest probe --dst "$DST" --count $PINGS --rate 5 \
	>"$dir/probe.out" 2>"$dir/probe.err"
rc=$?
check "up: cadeia-guest probe in the src guest exits 0 (got $rc)" [ "$rc" -eq 0 ]
rep=$(sed -n 's/^report //p' "$dir/probe.out")
[ -n "$rep" ] || rep="{}"
check "up: the prober got $PINGS replies to $PINGS probes ($rep)" \
	[ "$(jq -r '"\(.sent) \(.received)"' <<<"$rep")" = "$PINGS $PINGS" ]
sleep 0.5
stop_captures
for n in _sff $PX; do stage_stats $n >"$dir/$n.after.json"; done

# One row per frame: port dir spi si ttl osrc odst isrc idst type ipsrc ipdst
# (inner Ethernet empty without NSH; ttl in decimal).
: >"$dir/frames.tsv"
DECODE_FAILED=
for f in "$dir"/*.pcap; do
	port=$(basename "$f" .pcap)
	q=${port##*.}
	port=${port%.*}
	tshark -r "$f" -Y 'icmp' -T fields -E separator=/t -e nsh.spi -e nsh.si -e nsh.ttl \
		-e eth.src -e eth.dst -e icmp.type -e ip.src -e ip.dst 2>"$dir/tshark.err" |
		awk -F'\t' -v OFS='\t' -v port="$port" -v q="$q" '
		function hex(s,   i, v) {
			if (s == "") return ""
			sub(/^0[xX]/, "", s); v = 0
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
			return v
		}
		{
			split($4, s, ","); split($5, d, ",")
			print port, q, $1, $2, hex($3), s[1], d[1], s[2], d[2], $6, $7, $8
		}' >>"$dir/frames.tsv"
	[ "${PIPESTATUS[0]}" -eq 0 ] || DECODE_FAILED="$DECODE_FAILED $(basename "$f")"
done
[ -z "$DECODE_FAILED" ] || diag "tshark failed on:$DECODE_FAILED: $(head -c 300 "$dir/tshark.err")"

# expect DESC COUNT "where" ["want"]: exactly COUNT frames match where, all
# as wanted; never when tshark failed on a capture.
expect() {
	local n bad

	if [ -n "$DECODE_FAILED" ]; then
		fail "$1 (tshark failed on:$DECODE_FAILED)"
		return
	fi
	read -r n bad < <(awk -F'\t' -v where="$3" -v want="${4:-}" -v mm="$dir/mismatch" '
	BEGIN {
		split("port dir spi si ttl osrc odst isrc idst type ipsrc ipdst", names, " ")
		for (i in names) col[names[i]] = i
		nw = split(where, w, " "); nq = split(want, q, " ")
		printf "" >mm
	}
	function holds(c,   k) { k = index(c, "="); return $(col[substr(c, 1, k - 1)]) == substr(c, k + 1) }
	{
		for (i = 1; i <= nw; i++) if (!holds(w[i])) next
		n++
		for (i = 1; i <= nq; i++) if (!holds(q[i])) { bad++; if (bad == 1) print >mm; break }
	}
	END { print n + 0, bad + 0 }' "$dir/frames.tsv")
	if [ "$n" -eq "$2" ] && [ "$bad" -eq 0 ]; then
		ok "$1"
	else
		fail "$1 ($n frames, expected $2; $bad not as expected)"
		[ -s "$dir/mismatch" ] && diag "first unexpected frame: $(tr '\t' ' ' <"$dir/mismatch")"
	fi
}

req="ipdst=$DST type=8"
rep_="ipsrc=$DST type=0"
plain="spi= isrc= idst= osrc=$SRC_MAC odst=$DEST_MAC"
inner="isrc=$SRC_MAC idst=$DEST_MAC"
tag="phantomsfc SPI $SPI"
expect "$tag: src -> SFF: NSH SI 255 TTL 63" $PINGS "port=src dir=in $req" \
	"spi=$SPI si=255 ttl=63 osrc=$SRC_MAC odst=$SFF_MAC $inner"
expect "$tag: the SFF receives SI 255 TTL 63 from src" $PINGS "port=_sff dir=out $req osrc=$SRC_MAC" \
	"spi=$SPI si=255 ttl=63 odst=$SFF_MAC $inner"
expect "$tag: SFF -> proxy: SI 255 TTL 62" $PINGS "port=_sff dir=in $req odst=$PX_MAC" \
	"spi=$SPI si=255 ttl=62 osrc=$SFF_MAC $inner"
expect "$tag: the proxy receives SI 255 TTL 62 from the SFF" $PINGS "port=$PX dir=out $req" \
	"spi=$SPI si=255 ttl=62 osrc=$SFF_MAC odst=$PX_MAC $inner"
expect "$tag: proxy -> sf1 on the pair bridge: the plain inner frame" $PINGS \
	"port=${PX}b dir=in $req" "$plain"
expect "$tag: sf1 receives the plain inner frame" $PINGS "port=sf1 dir=out $req" "$plain"
expect "$tag: sf1 reflects it unchanged" $PINGS "port=sf1 dir=in $req" "$plain"
expect "$tag: proxy -> SFF: SI 254 TTL 62 (a proxy leaves TTL to the SFF)" $PINGS \
	"port=$PX dir=in $req" "spi=$SPI si=254 ttl=62 osrc=$PX_MAC odst=$SFF_MAC $inner"
expect "$tag: the SFF receives SI 254 TTL 62 from the proxy" $PINGS \
	"port=_sff dir=out $req osrc=$PX_MAC" "spi=$SPI si=254 ttl=62 odst=$SFF_MAC $inner"
expect "$tag: SFF -> dest: the plain request" $PINGS "port=_sff dir=in $req odst=$DEST_MAC" "$plain"
expect "$tag: the SFF sends nothing else" $((2 * PINGS)) "port=_sff dir=in $req"
expect "$tag: dest receives plain requests carrying src's MAC" $PINGS "port=dest dir=out $req" "$plain"
expect "$tag: dest sends plain replies to src" $PINGS "port=dest dir=in $rep_" \
	"spi= isrc= osrc=$DEST_MAC odst=$SRC_MAC"
expect "$tag: src receives plain replies from dest" $PINGS "port=src dir=out $rep_" \
	"spi= isrc= osrc=$DEST_MAC odst=$SRC_MAC"
for n in _sff $PX sf1; do
	expect "$tag: no reply crosses $n's tap" 0 "port=$n $rep_"
done

counter() { jq -r ".counters.$2.$3 // empty" "$1" 2>/dev/null; }
delta() {
	local a b

	a=$(counter "$dir/$1.after.json" "$2" "$3")
	b=$(counter "$dir/$1.before.json" "$2" "$3")
	[ -n "$a" ] && [ -n "$b" ] && echo $((a - b))
}
got="fwd=$(delta _sff fwd forwarded) end=$(delta _sff fwd end_of_chain) nsh_host=$(delta _sff kwire reflected)"
check "$tag: the SFF's counters: $got (want fwd=$PINGS end=$PINGS nsh_host=$((2 * PINGS)))" \
	[ "$got" = "fwd=$PINGS end=$PINGS nsh_host=$((2 * PINGS))" ]
got="decap=$(delta $PX dec decap) encap=$(delta $PX enc encap) fwd=$(delta $PX fwd forwarded)"
check "$tag: the proxy's counters: $got (want decap=$PINGS encap=$PINGS fwd=$PINGS)" \
	[ "$got" = "decap=$PINGS encap=$PINGS fwd=$PINGS" ]

section "down $id"
check "up: cadeia-bench down $id exits 0" bash -c "$B down $id >'$dir/down.log' 2>&1"
check_clean "$id" "up, after down"
check "up, after down: the pair bridge $PAIR is gone" [ ! -e /sys/class/net/$PAIR ]

section "done"
tap_done
