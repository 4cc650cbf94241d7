#!/usr/bin/env bash
# End to end on the netns backend, checked on the wire. For chain lengths 0,
# 1, 2 and 8 of scenarios/chain8.json and for scenarios/two-chains.json at
# length 3, `cadeia-bench up` builds the testbed; tcpdump captures every
# host-side veth of the run, one capture per direction (on host veth X, "out"
# is bridge -> node X, "in" is node X -> bridge); src pings each chain's
# destination and tshark decodes what crossed each port. The captures must
# show the NSH header each hop should carry, the MACs of each hop, the plain
# frame handed to the destination and the plain replies going straight back;
# the stage counters must agree.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh

B=${BUILD:-build}/cadeia-bench
S=${BUILD:-build}/cadeia-stage
PIN=/sys/fs/bpf/cadeia
PINGS=5
TMP=$(mktemp -d /tmp/cbtF-e2e.XXXXXX)
RUNS=()
CAP_PIDS=()

stop_captures() {
	local pid

	for pid in "${CAP_PIDS[@]}"; do
		kill -INT "$pid" 2>/dev/null
	done
	for pid in "${CAP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	CAP_PIDS=()
}

teardown() {
	local id

	stop_captures
	for id in "${RUNS[@]}"; do
		[ -e /run/cadeia-bench/$id.json ] && $B down "$id" >/dev/null 2>&1
	done
	if [ -n "${KEEP_TMP:-}" ]; then diag "kept $TMP"; else rm -rf "$TMP"; fi
}
trap teardown EXIT

die() { fail "$*"; tap_done; exit 1; }

[ -x "$B" ] && [ -x "$S" ] || die "$B and $S are built"
command -v tcpdump >/dev/null && command -v tshark >/dev/null && command -v jq >/dev/null ||
	die "tcpdump, tshark and jq are installed"

# Node i of a scenario (0-based, file order) has these, per scenarios/README.md.
mac_of() { printf '02:cb:00:00:%02x:%02x' $((($1 + 1) >> 8)) $((($1 + 1) & 255)); }
ip_of() { echo "10.201.0.$(($1 + 1))"; }

# Nothing carrying the run's prefix may remain after `down`.
leftovers() {
	local id=$1

	ip netns list | awk '{print $1}' | grep "^$id-"
	ip -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$id-"
	ls -d "$PIN/$id-"* 2>/dev/null
	ls -d /run/cadeia-bench/$id.json /run/cadeia-bench/$id 2>/dev/null
	pgrep -af "cadeia-bench fn .*--netns $id-"
}

down_and_check() {
	local id=$1 what=$2 left

	check "$what: cadeia-bench down $id exits 0" bash -c "$B down $id >$TMP/down.log 2>&1"
	left=$(leftovers "$id")
	if [ -z "$left" ]; then
		ok "$what: nothing named $id-* remains"
	else
		fail "$what: left behind after down: $(echo $left)"
	fi
}

# Decodes every capture of a session into one table, a row per frame:
# port dir time spi si ttl osrc odst isrc idst type seq ipsrc ipdst
# (outer and inner Ethernet; inner empty without NSH; ttl in decimal).
decode() {
	local dir=$1 f port q

	: >"$dir/frames.tsv"
	: >"$dir/stray.txt"
	for f in "$dir"/*.pcap; do
		port=$(basename "$f" .pcap)
		q=${port##*.}
		port=${port%.*}
		# IGMP: the bridge joins 224.0.0.106 (multicast snooping) once as it comes up.
		tshark -r "$f" -Y 'not (icmp or nsh or igmp)' 2>/dev/null | sed "s/^/$port.$q: /" >>"$dir/stray.txt"
		tshark -r "$f" -Y 'icmp or nsh' -T fields -E separator=/t -e frame.time_epoch \
			-e nsh.spi -e nsh.si -e nsh.ttl -e eth.src -e eth.dst -e icmp.type \
			-e icmp.seq -e ip.src -e ip.dst 2>/dev/null |
			awk -F'\t' -v OFS='\t' -v port="$port" -v q="$q" '
			function hex(s,   i, c, v) {
				if (s == "") return ""
				sub(/^0[xX]/, "", s); v = 0
				for (i = 1; i <= length(s); i++) {
					c = index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
					v = v * 16 + c
				}
				return v
			}
			{
				split($5, s, ","); split($6, d, ",")
				print port, q, $1, $2, $3, hex($4), s[1], d[1], s[2], d[2], $7, $8, $9, $10
			}' >>"$dir/frames.tsv"
	done
}

# sel DIR "col=val ..." [want "col=val ..."]: prints "<matching> <mismatching>",
# the rows matching the first set and, among them, those differing from want.
# The first mismatching row goes to $dir/mismatch for the diagnostics.
sel() {
	awk -F'\t' -v where="$2" -v want="${3:-}" -v mm="$1/mismatch" '
	BEGIN {
		split("port dir time spi si ttl osrc odst isrc idst type seq ipsrc ipdst", names, " ")
		for (i in names) col[names[i]] = i
		nw = split(where, w, " "); nq = split(want, q, " ")
		printf "" >mm
		# An unknown column would match nothing and pass a "no such frame" check.
		for (i = 1; i <= nw; i++) if (!(substr(w[i], 1, index(w[i], "=") - 1) in col)) unknown = 1
		for (i = 1; i <= nq; i++) if (!(substr(q[i], 1, index(q[i], "=") - 1) in col)) unknown = 1
		if (unknown) { print -1, -1; exit }
	}
	function holds(cond,   k) {
		k = index(cond, "=")
		return $(col[substr(cond, 1, k - 1)]) == substr(cond, k + 1)
	}
	{
		for (i = 1; i <= nw; i++) if (!holds(w[i])) next
		n++
		for (i = 1; i <= nq; i++) if (!holds(q[i])) { bad++; if (bad == 1) print >mm; break }
	}
	END { if (!unknown) print n + 0, bad + 0 }' "$1/frames.tsv"
}

# expect DIR DESC COUNT "where" ["want"]: exactly COUNT frames match, all as wanted.
expect() {
	local dir=$1 desc=$2 count=$3 n bad

	read -r n bad < <(sel "$dir" "$4" "${5:-}")
	if [ "$n" -eq "$count" ] && [ "$bad" -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc ($n frames, expected $count; $bad not as expected)"
		[ -s "$dir/mismatch" ] && diag "first unexpected frame: $(tr '\t' ' ' <"$dir/mismatch")"
	fi
}

counter() { jq -r ".counters.$2.$3 // 0" "$1"; }

# check_run NAME SCENARIO LENGTH: up, capture, ping every chain's destination,
# check the wire and the counters, down.
check_run() {
	local name=$1 scen=$2 len=$3 dir id n i c k L t ok_all
	dir=$TMP/$name
	local -a nodes roles
	local -A idx exp_decap exp_encap exp_fwd exp_end onpath

	mkdir -p "$dir"
	mapfile -t nodes < <(jq -r '.nodes[].name' "$scen")
	mapfile -t roles < <(jq -r '.nodes[].role' "$scen")
	for i in "${!nodes[@]}"; do idx[${nodes[$i]}]=$i; done

	# stdout to a file, not $(...): see the pipe check at the end.
	$B up --length "$len" "$scen" </dev/null >"$dir/up.out" 2>"$dir/up.err"
	t=$?
	id=$(cat "$dir/up.out")
	if [ $t -ne 0 ] || ! [[ "$id" =~ ^cb[0-9a-f]{4}$ ]]; then
		fail "$name: cadeia-bench up --length $len $scen prints a run id ($(tail -n 1 "$dir/up.err"))"
		return
	fi
	RUNS+=("$id")
	ok "$name: cadeia-bench up --length $len $scen: run $id"

	for n in "${nodes[@]}"; do
		for t in in out; do
			tcpdump -i "$id-$n" -Q $t --immediate-mode -U -n -s 256 --time-stamp-precision=nano \
				-w "$dir/$n.$t.pcap" 2>"$dir/$n.$t.err" &
			CAP_PIDS+=($!)
		done
	done
	for t in $(seq 50); do
		[ "$(grep -l 'listening on' "$dir"/*.err 2>/dev/null | wc -l)" -eq $((${#nodes[@]} * 2)) ] && break
		sleep 0.1
	done
	[ "$t" -lt 50 ] || diag "$name: not every tcpdump reported listening"
	for i in "${!nodes[@]}"; do
		[ "${roles[$i]}" = sf ] && $S stats --node "$id-${nodes[$i]}" --json >"$dir/${nodes[$i]}.before.json"
	done

	# One ping per chain destination, in turn; chains are told apart by IP.
	mapfile -t chains < <(jq -c '.chains[]' "$scen")
	for c in "${chains[@]}"; do
		local cdest src dst
		cdest=$(jq -r '.dest // empty' <<<"$c")
		[ -n "$cdest" ] || cdest=$(jq -r '[.nodes[] | select(.role == "dest")][0].name' "$scen")
		src=$(jq -r '[.nodes[] | select(.role == "src")][0].name' "$scen")
		dst=$(ip_of "${idx[$cdest]}")
		check "$name: $PINGS pings from $src to $cdest ($dst) all answered" \
			bash -c "ip netns exec $id-$src ping -n -c $PINGS -i 0.2 -W 2 $dst >'$dir/ping-$cdest.log' 2>&1"
	done
	sleep 0.3
	stop_captures
	for i in "${!nodes[@]}"; do
		[ "${roles[$i]}" = sf ] && $S stats --node "$id-${nodes[$i]}" --json >"$dir/${nodes[$i]}.after.json"
	done
	decode "$dir"
	# The testbed's own traffic (IPv6 ND, MLD, ARP) would ride along with what is measured.
	if [ ! -s "$dir/stray.txt" ]; then
		ok "$name: no frame but the pings' on any port"
	else
		fail "$name: $(wc -l <"$dir/stray.txt") other frames on the wire"
		diag "first: $(head -n 1 "$dir/stray.txt")"
	fi

	for c in "${chains[@]}"; do
		local spi si0 cname cdest src dst sd ss prev next
		local -a sfs
		cname=$(jq -r '.name' <<<"$c")
		spi=$(jq -r '.spi' <<<"$c")
		si0=$(jq -r '.si // 255' <<<"$c")
		cdest=$(jq -r '.dest // empty' <<<"$c")
		[ -n "$cdest" ] || cdest=$(jq -r '[.nodes[] | select(.role == "dest")][0].name' "$scen")
		src=$(jq -r '.src // empty' <<<"$c")
		[ -n "$src" ] || src=$(jq -r '[.nodes[] | select(.role == "src")][0].name' "$scen")
		mapfile -t sfs < <(jq -r '.sfs[]' <<<"$c")
		L=$((len < ${#sfs[@]} ? len : ${#sfs[@]}))
		sfs=("${sfs[@]:0:L}")
		dst=$(ip_of "${idx[$cdest]}")
		ss=$(mac_of "${idx[$src]}")
		sd=$(mac_of "${idx[$cdest]}")
		local tag="$name chain $cname (SPI $spi, $L SFs)"
		local req="ipdst=$dst type=8" rep="ipsrc=$dst type=0"
		local plain_req="spi= isrc= idst= osrc=$ss odst=$sd"

		onpath=([$src]=1 [$cdest]=1)
		for n in "${sfs[@]}"; do onpath[$n]=1; done

		# The classifier's output, then each SF's input and output.
		if [ "$L" -eq 0 ]; then
			expect "$dir" "$tag: src sends plain requests to dest" $PINGS "port=$src dir=in $req" "$plain_req"
			t=$(awk -F'\t' '$4 != ""' "$dir/frames.tsv" | wc -l)
			if [ "$t" -eq 0 ]; then ok "$tag: no NSH frame anywhere"; else fail "$tag: $t NSH frames on the wire"; fi
		else
			expect "$dir" "$tag: src classifies: SPI $spi SI $si0 TTL 63 to ${sfs[0]}" $PINGS \
				"port=$src dir=in $req" \
				"spi=$spi si=$si0 ttl=63 osrc=$ss odst=$(mac_of "${idx[${sfs[0]}]}") isrc=$ss idst=$sd"
		fi
		for ((k = 1; k <= L; k++)); do
			n=${sfs[$((k - 1))]}
			prev=$src
			[ "$k" -gt 1 ] && prev=${sfs[$((k - 2))]}
			expect "$dir" "$tag: SF $k ($n) receives SPI $spi SI $((si0 + 1 - k)) TTL $((64 - k)) from $prev" $PINGS \
				"port=$n dir=out $req" \
				"spi=$spi si=$((si0 + 1 - k)) ttl=$((64 - k)) osrc=$(mac_of "${idx[$prev]}") odst=$(mac_of "${idx[$n]}") isrc=$ss idst=$sd"
			if [ "$k" -lt "$L" ]; then
				next=${sfs[$k]}
				expect "$dir" "$tag: SF $k ($n) sends SPI $spi SI $((si0 - k)) TTL $((63 - k)) to $next" $PINGS \
					"port=$n dir=in $req" \
					"spi=$spi si=$((si0 - k)) ttl=$((63 - k)) osrc=$(mac_of "${idx[$n]}") odst=$(mac_of "${idx[$next]}") isrc=$ss idst=$sd"
			else
				expect "$dir" "$tag: SF $k ($n) ends the chain: plain request, $src's MAC to $cdest's" $PINGS \
					"port=$n dir=in $req" "$plain_req"
			fi
		done
		expect "$dir" "$tag: $cdest receives plain requests from $src's MAC" $PINGS "port=$cdest dir=out $req" "$plain_req"

		# Order: along the path, each request is seen no earlier than at the hop before.
		local path="$src.in"
		for n in "${sfs[@]}"; do path="$path $n.out $n.in"; done
		path="$path $cdest.out"
		t=$(awk -F'\t' -v dst="$dst" -v path="$path" '
			BEGIN { np = split(path, p, " "); for (i = 1; i <= np; i++) pos[p[i]] = i }
			$14 == dst && $11 == 8 && (($1 "." $2) in pos) { ts[$12, pos[$1 "." $2]] = $3; seqs[$12] = 1 }
			END {
				for (s in seqs) for (i = 2; i <= np; i++)
					if (!((s, i) in ts) || !((s, i - 1) in ts) || ts[s, i] < ts[s, i - 1]) bad++
				print bad + 0
			}' "$dir/frames.tsv")
		if [ "$t" -eq 0 ]; then ok "$tag: every request crossed $path in that order"; else fail "$tag: $t hops out of order or missing along $path"; fi

		# Replies go straight back, plain.
		expect "$dir" "$tag: $cdest sends plain replies to $src" $PINGS "port=$cdest dir=in $rep" \
			"spi= isrc= osrc=$sd odst=$ss"
		expect "$dir" "$tag: $src receives plain replies from $cdest" $PINGS "port=$src dir=out $rep" \
			"spi= isrc= osrc=$sd odst=$ss"
		ok_all=1
		for i in "${!nodes[@]}"; do
			n=${nodes[$i]}
			read -r k _ < <(sel "$dir" "port=$n $rep")
			if [ "${roles[$i]}" = sf ] && [ "$k" -ne 0 ]; then
				fail "$tag: $k replies crossed SF $n"
				ok_all=0
			fi
			if [ -z "${onpath[$n]:-}" ]; then
				read -r k _ < <(sel "$dir" "port=$n ipdst=$dst")
				read -r t _ < <(sel "$dir" "port=$n ipsrc=$dst")
				if [ $((k + t)) -ne 0 ]; then
					fail "$tag: $((k + t)) frames of the flow crossed $n, which is off the path"
					ok_all=0
				fi
			fi
		done
		[ "$ok_all" -eq 1 ] && ok "$tag: no reply crosses an SF, no node off the path sees the flow"

		for ((k = 1; k <= L; k++)); do
			n=${sfs[$((k - 1))]}
			exp_decap[$n]=$((${exp_decap[$n]:-0} + PINGS))
			exp_encap[$n]=$((${exp_encap[$n]:-0} + PINGS))
			if [ "$k" -lt "$L" ]; then
				exp_fwd[$n]=$((${exp_fwd[$n]:-0} + PINGS))
			else
				exp_end[$n]=$((${exp_end[$n]:-0} + PINGS))
			fi
		done
	done

	# Counters: each SF on a path decapsulated, re-encapsulated and forwarded
	# (or ended the chain) once per request it carries; the others nothing.
	for i in "${!nodes[@]}"; do
		local got want b a
		[ "${roles[$i]}" = sf ] || continue
		n=${nodes[$i]}
		b=$dir/$n.before.json
		a=$dir/$n.after.json
		got=""
		want=""
		for t in dec.decap enc.encap fwd.forwarded fwd.end_of_chain; do
			got="$got $t=$(($(counter "$a" ${t%.*} ${t#*.}) - $(counter "$b" ${t%.*} ${t#*.})))"
		done
		want=" dec.decap=${exp_decap[$n]:-0} enc.encap=${exp_encap[$n]:-0} fwd.forwarded=${exp_fwd[$n]:-0} fwd.end_of_chain=${exp_end[$n]:-0}"
		if [ "$got" = "$want" ]; then
			ok "$name: counters of $n:$want"
		else
			fail "$name: counters of $n:$got, expected$want"
		fi
	done

	down_and_check "$id" "$name"
}

for L in ${E2E_LENGTHS:-0 1 2 8}; do
	check_run chain8-len$L scenarios/chain8.json $L
done
check_run two-chains-len3 scenarios/two-chains.json 3

# `id=$(cadeia-bench up ...)` is how a script gets the id: `up` must return
# even when its stdout is a pipe, so the functions it leaves running must not
# hold that pipe open.
$B up --length 1 scenarios/chain8.json </dev/null 2>"$TMP/up-pipe.err" | timeout 10 cat >"$TMP/up-pipe.out"
t=${PIPESTATUS[1]}
id=$(head -n 1 "$TMP/up-pipe.out")
[[ "$id" =~ ^cb[0-9a-f]{4}$ ]] && RUNS+=("$id")
if [ "$t" -eq 0 ]; then
	ok "up with stdout on a pipe: the pipe closes when up exits"
else
	fail "up with stdout on a pipe: the pipe stayed open after up exited (the functions of run $id hold it)"
fi
[[ "$id" =~ ^cb[0-9a-f]{4}$ ]] && down_and_check "$id" "up with stdout on a pipe"

tap_done
