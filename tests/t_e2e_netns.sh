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
. tests/lib.sh

PINGS=5
TMP=$(mktemp -d /tmp/cbtF-e2e.XXXXXX)

trap teardown_runs EXIT

# check_run's checks for SCENARIO at LENGTH, counted from the scenario file:
# up, a ping per chain, no stray frame; per chain 7 at length 0, else
# 2 x length + 6; the counters of each SF; down and nothing left.
run_plan() {
	jq --argjson len "$2" '
		[.chains[] | ([$len, (.sfs | length)] | min)] as $L
		| 1 + ($L | length) + 1
		+ ([$L[] | if . == 0 then 7 else 2 * . + 6 end] | add)
		+ ([.nodes[] | select(.role == "sf")] | length) + 2' "$1"
}

# E2E_LENGTHS picks chain8's lengths; leaving one of the default out is
# reduced coverage (a failure under CI=true, see tests/run.sh).
DEFAULT_LENGTHS="0 1 2 8"
LENGTHS=${E2E_LENGTHS:-$DEFAULT_LENGTHS}
missing=
for L in $LENGTHS; do
	[[ "$L" =~ ^[0-9]+$ ]] || { echo "E2E_LENGTHS: '$L' is not a chain length" >&2; exit 2; }
done
for L in $DEFAULT_LENGTHS; do
	[[ " $LENGTHS " == *" $L "* ]] || missing="$missing $L"
done
n=3 # the pipe check: up returns, down, nothing left
for L in $LENGTHS; do
	n=$((n + $(run_plan scenarios/chain8.json "$L")))
done
plan $((n + $(run_plan scenarios/two-chains.json 3)))
[ -z "$missing" ] || reduced "E2E_LENGTHS=\"$E2E_LENGTHS\" leaves out chain8 lengths$missing"

need_built "$B" "$S"
need_tools tcpdump tshark jq

# Nothing carrying the run's prefix may remain after `down`.
down_check() { down_and_check "$1" "$2" "nothing named $1-* remains" netns link pin state fn; }

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

	# Not $(...): see the pipe check at the end.
	if ! bench_up "$dir" "$len" "$scen"; then
		fail "$name: cadeia-bench up --length $len $scen prints a run id ($(tail -n 1 "$dir/up.err"))"
		return
	fi
	id=$UP_ID
	ok "$name: cadeia-bench up --length $len $scen: run $id"

	for n in "${nodes[@]}"; do
		capture "$dir" "$n" "$id-$n"
	done
	capture_wait || diag "$name: not every tcpdump reported listening"
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
	# IGMP: the bridge joins 224.0.0.106 (multicast snooping) once as it comes up.
	decode "$dir" igmp
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
		read -r _ t < <(in_order "$dir" "$dst" "$path")
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
			got="$got $t=$(counter_delta "$b" "$a" $t)"
		done
		want=" dec.decap=${exp_decap[$n]:-0} enc.encap=${exp_encap[$n]:-0} fwd.forwarded=${exp_fwd[$n]:-0} fwd.end_of_chain=${exp_end[$n]:-0}"
		if [ "$got" = "$want" ]; then
			ok "$name: counters of $n:$want"
		else
			fail "$name: counters of $n:$got, expected$want"
		fi
	done

	down_check "$id" "$name"
}

for L in $LENGTHS; do
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
[[ "$id" =~ ^cb[0-9a-f]{4}$ ]] && down_check "$id" "up with stdout on a pipe"

tap_done
