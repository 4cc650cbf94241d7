#!/usr/bin/env bash
# The lab course's checkers (`cadeia-bench lab check N`), each run twice the
# way a student would: against the reference solution (docs/labs/solutions/)
# it must pass; against the untouched template (docs/labs/templates/) it must
# fail and say what is missing. Labs 1-3 run on real testbeds brought up with
# `cadeia-bench up`; lab 4 loads BPF objects; lab 5 reads real runs.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

B=${BUILD:-build}/cadeia-bench
S=${BUILD:-build}/cadeia-stage
TMP=$(mktemp -d /tmp/cbtK.XXXXXX)
RUNS=()
PIDS=()

teardown() {
	local p r
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for r in "${RUNS[@]}"; do
		$B down "$r" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap teardown EXIT

plan 49
need_built "$B" "$S"
need_tools jq make ip
cp -r docs/labs/templates "$TMP/tpl" && cp -r docs/labs/solutions "$TMP/sol" || die "copy the lab directories"
check "make labs builds the template lab directory" make -s labs LAB="$TMP/tpl"
check "make labs builds the solution lab directory" make -s labs LAB="$TMP/sol"

# lab_check N DIR [--run ID]: runs the checker, output in $TMP/out
lab_check() {
	local n=$1 dir=$2
	shift 2
	$B lab check "$n" --dir "$dir" "$@" >"$TMP/out" 2>&1
}
# expect_pass N DIR ARGS / expect_fail N DIR TEXT ARGS
expect_pass() {
	local n=$1 dir=$2
	shift 2
	lab_check "$n" "$dir" "$@"
	local rc=$?
	check "lab $n: the reference solution passes (exit 0)" test $rc -eq 0
	[ $rc -eq 0 ] || diag "$(cat "$TMP/out")"
	check "lab $n: the report says PASSED" grep -q "^lab $n: PASSED" "$TMP/out"
}
expect_fail() {
	local n=$1 dir=$2 text=$3
	shift 3
	lab_check "$n" "$dir" "$@"
	local rc=$?
	check "lab $n: the untouched template fails (exit 1)" test $rc -eq 1
	check "lab $n: the report says NOT YET" grep -q "^lab $n: NOT YET" "$TMP/out"
	check "lab $n: the message says: $text" grep -qF -- "$text" "$TMP/out"
	grep -q -F -- "$text" "$TMP/out" || diag "$(cat "$TMP/out")"
}
up() {
	local id
	id=$($B up "$@" 2>"$TMP/up.err") || { diag "$(cat "$TMP/up.err")"; return 1; }
	RUNS+=("$id")
	echo "$id"
}
rules() { # rules RUN DIR NODE...
	local r=$1 d=$2 n
	shift 2
	for n in "$@"; do
		$S rules --node "$r-$n" "$d/$n.json" || return 1
	done
}

# ---- usage ------------------------------------------------------------------------
$B lab check 9 >/dev/null 2>&1
check "lab check 9: usage error (exit 2)" test $? -eq 2
check "lab list names the five labs" test "$($B lab list --json | jq length)" = 5

# ---- lab 4: no testbed ------------------------------------------------------------
expect_fail 4 "$TMP/tpl" "spi_stats has no entry for it"
expect_pass 4 "$TMP/sol"
# A byte-order mistake gets its own hint.
mkdir -p "$TMP/swap/4"
sed 's/nsh_path_spi(bpf_ntohl(nsh->path))/nsh_path_spi(nsh->path)/' docs/labs/solutions/4/spi_count.bpf.c >"$TMP/swap/4/spi_count.bpf.c"
make -s labs LAB="$TMP/swap" >/dev/null
lab_check 4 "$TMP/swap"
check "lab 4: SPI read in network order fails" test $? -eq 1
check "lab 4: ... and the message names the byte order" grep -q "path word is big-endian" "$TMP/out"

# ---- lab 1: NSH on the wire ---------------------------------------------------------
if R1=$(up docs/labs/scenarios/lab1.json); then
	ok "lab 1: testbed $R1 up"
	expect_fail 1 "$TMP/tpl" '"nsh" is not filled in yet' --run "$R1"
	expect_pass 1 "$TMP/sol" --run "$R1"
	# A wrong SI is caught against the capture, with a hint instead of the answer.
	mkdir -p "$TMP/wrong/1"
	jq '.hops[1].si = 255' "$TMP/sol/1/answers.json" >"$TMP/wrong/1/answers.json"
	lab_check 1 "$TMP/wrong" --run "$R1"
	check "lab 1: a wrong SI fails" test $? -eq 1
	check "lab 1: ... naming the hop and the field" grep -q "hop sf1 -> sf2: si 255 is not what the frames on this hop carry" "$TMP/out"
	$B down "$R1" >/dev/null
else
	fail "lab 1: cadeia-bench up docs/labs/scenarios/lab1.json"
fi

# ---- lab 2: control plane -----------------------------------------------------------
if R2=$(up docs/labs/scenarios/lab2.json); then
	ok "lab 2: testbed $R2 up"
	check "lab 2: apply the template's rules" rules "$R2" "$TMP/tpl/2" src sf1 sf2 sf3
	expect_fail 2 "$TMP/tpl" "the sheet asks for src -> sf3 -> sf1 -> sf2 -> dest" --run "$R2"
	check "lab 2: apply the solution's rules" rules "$R2" "$TMP/sol/2" src sf1 sf2 sf3
	expect_pass 2 "$TMP/sol" --run "$R2"
	# Leaving sf1's chain-2 entry behind (the SF "removed" from chain 2) is caught.
	mkdir -p "$TMP/stale/2"
	cp "$TMP"/sol/2/*.json "$TMP/stale/2/"
	jq '.forwarding += [{"spi": 2, "si": 253, "next_hop": "02:cb:00:00:00:06"}]' \
		"$TMP/sol/2/sf1.json" >"$TMP/stale/2/sf1.json"
	check "lab 2: apply a stale entry on sf1" rules "$R2" "$TMP/stale/2" sf1
	lab_check 2 "$TMP/stale" --run "$R2"
	check "lab 2: a stale entry fails" test $? -eq 1
	check "lab 2: ... and is named" grep -q "sf1 still has a forwarding entry for SPI 2 SI 253" "$TMP/out"
	$B down "$R2" >/dev/null
else
	fail "lab 2: cadeia-bench up docs/labs/scenarios/lab2.json"
fi

# ---- lab 3: a legacy function -------------------------------------------------------
if R3=$(up --length 0 docs/labs/scenarios/lab3.json); then
	ok "lab 3: testbed $R3 up"
	check "lab 3: apply the chain's rules" rules "$R3" "$TMP/tpl/3" src sf1 sf2
	# The checker starts the template's function itself when none runs.
	expect_fail 3 "$TMP/tpl" "datagrams to UDP port 7777 (the port to filter) reached dest" --run "$R3"
	check "lab 3: the checker stopped the function it started" lacks . ip netns pids "$R3-sf1"
	# The student starts the solution by hand, as the sheet says.
	ip netns exec "$R3-sf1" "$TMP/sol/3/portfilter" eth0 2>"$TMP/pf.log" &
	PIDS+=($!)
	sleep 0.3
	expect_pass 3 "$TMP/sol" --run "$R3"
	check "lab 3: the checker used the running function" grep -q "runs in $R3-sf1 as pid" "$TMP/out"
	kill "${PIDS[-1]}" && wait "${PIDS[-1]}" 2>/dev/null
	check "lab 3: the function itself dropped 5 frames" grep -q "dropped 5" "$TMP/pf.log"
	$B down "$R3" >/dev/null
else
	fail "lab 3: cadeia-bench up docs/labs/scenarios/lab3.json"
fi

# ---- lab 5: evaluate ------------------------------------------------------------------
expect_fail 5 "$TMP/tpl" '"quick_results" is not filled in yet'
mkdir -p "$TMP/results"
$B run --quiet --results "$TMP/results" scenarios/quick.json >"$TMP/quick.log" 2>&1
check "lab 5: quick.json runs" test $? -eq 0
Q=$(ls -d "$TMP"/results/quick-* 2>/dev/null | head -1)
# What a student does: read the slopes from summary.json.
slope() { jq -r --arg a "$2" '[.chains[] | select($a == "" or .architecture == $a)][0].fit_median.slope_us' "$1/summary.json"; }
# min_slope DIR ARCH: least-squares slope of the minimum RTT over the chain
# length, from summary.csv: what a hop costs without the stalls other
# tenants cause, so it keeps the architectures' order when medians do not.
min_slope() {
	awk -F, -v a="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["architecture"] == a { x = $c["chain_length"]; y = $c["min_us"]; n++
			sx += x; sy += y; sxx += x * x; sxy += x * y }
		END { d = n * sxx - sx * sx; if (n < 2 || d == 0) print "none"
			else printf "%.3f\n", (n * sxy - sx * sy) / d }' "$1/summary.csv"
}
# The sheet's advice when medians come out the wrong way round on a busy
# machine: run the comparison again. At most 3 runs of about 20 s.
for try in 1 2 3; do
	rm -rf "$TMP"/results/lab5-compare-*
	$B run --quiet --results "$TMP/results" docs/labs/scenarios/lab5-compare.json >"$TMP/cmp.log" 2>&1
	crc=$?
	C=$(ls -d "$TMP"/results/lab5-compare-* 2>/dev/null | head -1)
	[ $crc -eq 0 ] && [ -n "$C" ] || break
	sca=$(slope "$C" cadeia-aberta)
	sph=$(slope "$C" phantomsfc)
	awk -v a="$sph" -v b="$sca" 'BEGIN { exit !(a > b) }' && break
	diag "lab 5: comparison $try: median slopes phantomsfc $sph <= cadeia-aberta $sca us/SF (a busy machine); running it again"
done
check "lab 5: lab5-compare.json runs" test $crc -eq 0
if [ -n "$Q" ] && [ -n "$C" ]; then
	sq=$(slope "$Q" "")
	sca=$(slope "$C" cadeia-aberta)
	sph=$(slope "$C" phantomsfc)
	diag "median slopes: quick $sq, cadeia-aberta $sca, phantomsfc $sph (us/SF)"
	mkdir -p "$TMP/five/5"
	jq -n --arg q "$Q" --arg c "$C" --argjson sq "$sq" --argjson sca "$sca" --argjson sph "$sph" \
		'{quick_results: $q, compare_results: $c, fit: "median", slope_quick_us: $sq,
		  slope_cadeia_aberta_us: $sca, slope_phantomsfc_us: $sph,
		  explanation: "Each SF adds its stages and its function; the star adds two more hops through the SFF and a proxy per SF."}' \
		>"$TMP/five/5/answers.json"
	lab_check 5 "$TMP/five"
	rc=$?
	# The lab's expected observation: phantomsfc's slope is clearly larger
	# (each SF costs two more hops, through the SFF and a proxy). Asserted on
	# the minimum RTTs with a margin: their slope ratio phantomsfc over
	# cadeia-aberta measured 1.68 to 2.52 in 5 runs at load 3 to 5 on this
	# machine kind (2026-12-05), while the median ratio ranged 0.86 to 2.92
	# over 8 runs and came out reversed once beside another test. 1.3 keeps
	# the direction clear of that noise.
	mca=$(min_slope "$C" cadeia-aberta)
	mph=$(min_slope "$C" phantomsfc)
	check "lab 5: phantomsfc's per-SF cost is at least 1.3 x cadeia-aberta's (min RTT slopes $mph vs $mca us/SF)" \
		awk -v a="$mph" -v b="$mca" 'BEGIN { n = "^[0-9]+(\\.[0-9]*)?$"; exit !(a ~ n && b ~ n && b > 0 && a + 0 >= 1.3 * b) }'
	check "lab 5: answers read from the runs pass (medians $sph vs $sca us/SF)" test $rc -eq 0
	[ $rc -eq 0 ] || diag "$(cat "$TMP/out")"
	jq '.slope_quick_us += 5' "$TMP/five/5/answers.json" >"$TMP/five/5/a" && mv "$TMP/five/5/a" "$TMP/five/5/answers.json"
	lab_check 5 "$TMP/five"
	check "lab 5: a slope that is not the file's fails" test $? -eq 1
	check "lab 5: ... and is named" grep -q '"slope_quick_us" is .* which is not the slope in' "$TMP/out"
else
	fail "lab 5: result directories written"
	diag "$(tail -5 "$TMP/quick.log" "$TMP/cmp.log")"
fi

tap_done
