#!/usr/bin/env bash
# Cleanup by `cadeia-bench run` and `down`: after a normal run, after SIGINT
# in the middle of a sweep (results kept and marked incomplete, exit status
# 3), and after kill -9 of the orchestrator followed by `down`, nothing named
# with the run's prefix remains (namespace, link, bpffs pin, function process,
# state file), while decoys this test creates under other names survive. Two
# runs at once stay apart, and `down` with nothing to do succeeds.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh

B=${BUILD:-build}/cadeia-bench
PIN=/sys/fs/bpf/cadeia
SMALL=tests/scenarios/cleanup-small.json
LONG=tests/scenarios/cleanup-long.json
TMP=$(mktemp -d /tmp/cbtF-cleanup.XXXXXX)
RES=$TMP/results
# Decoys: a namespace and a link outside any run's prefix, and a namespace
# that starts with "cb" like every run id without being one.
DECOY_NS=(cbtF-decoy cbtFab12)
DECOY_LINK=cbtF-decoy0 # and its veth peer cbtF-decoy1
PIDS=()
RUNS=()

teardown() {
	local pid id ns

	for pid in "${PIDS[@]}"; do
		kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for id in "${RUNS[@]}"; do
		[ -e /run/cadeia-bench/$id.json ] && $B down --force "$id" >/dev/null 2>&1
	done
	for ns in "${DECOY_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	ip link del "$DECOY_LINK" 2>/dev/null
	rm -rf "$TMP"
}
trap teardown EXIT

die() { fail "$*"; tap_done; exit 1; }

[ -x "$B" ] || die "$B is built"
command -v jq >/dev/null || die "jq is installed"

leftovers() {
	local id=$1

	ip netns list | awk '{print $1}' | grep "^$id-"
	ip -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$id-"
	ls -d "$PIN/$id-"* 2>/dev/null
	ls -d /run/cadeia-bench/$id.json /run/cadeia-bench/$id 2>/dev/null
	pgrep -af "cadeia-bench fn .*--netns $id-"
}

check_clean() {
	local id=$1 what=$2 left

	left=$(leftovers "$id")
	if [ -z "$left" ]; then
		ok "$what: nothing named $id-* remains (netns, link, pin, function, state file)"
	else
		fail "$what: left behind: $(echo $left)"
	fi
}

check_decoys() {
	local what=$1 ns missing=""

	for ns in "${DECOY_NS[@]}"; do
		ip netns list | awk '{print $1}' | grep -qx "$ns" || missing="$missing netns:$ns"
	done
	ip link show "$DECOY_LINK" >/dev/null 2>&1 || missing="$missing link:$DECOY_LINK"
	if [ -z "$missing" ]; then
		ok "$what: the decoys survive"
	else
		fail "$what: decoys removed:$missing"
	fi
}

# The id of the run owned by PID, from its state file; waits up to 10 s.
run_id_of() {
	local pid=$1 f i

	for i in $(seq 100); do
		for f in /run/cadeia-bench/cb????.json; do
			[ -e "$f" ] || continue
			if [ "$(jq -r .pid "$f" 2>/dev/null)" = "$pid" ]; then
				basename "$f" .json
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}

# Waits up to 60 s until run ID has written a measured round to raw.csv.
wait_measuring() {
	local id=$1 stage i

	for i in $(seq 600); do
		stage=$(jq -r '.results // empty' /run/cadeia-bench/$id.json 2>/dev/null)
		if [ -n "$stage" ] && [ -f "$stage/raw.csv" ] && [ "$(wc -l <"$stage/raw.csv")" -ge 2 ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

data_rows() { echo $(($(wc -l <"$1") - 1)); }

for ns in "${DECOY_NS[@]}"; do
	ip netns add "$ns" || die "create decoy netns $ns"
done
ip link add "$DECOY_LINK" type veth peer name "${DECOY_LINK%0}1" || die "create decoy link $DECOY_LINK"
mkdir -p "$RES"

# ---- a normal run ---------------------------------------------------------------
out=$TMP/normal
mkdir -p "$out"
$B run --quiet --results "$RES/normal" "$SMALL" </dev/null >"$out/stdout" 2>"$out/stderr"
rc=$?
check "normal run exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || diag "$(tail -n 3 "$out/stderr")"
dirs=("$RES"/normal/cbtF-small-*)
if [ ${#dirs[@]} -eq 1 ] && [ -d "${dirs[0]}" ]; then
	d=${dirs[0]}
	ok "normal run: one results directory, $(basename "$d")"
	id=$(jq -r .run_id "$d/meta.json")
	RUNS+=("$id")
	check "normal run: meta.json says complete" [ "$(jq -r .status "$d/meta.json")" = complete ]
	check "normal run: no INCOMPLETE file" [ ! -e "$d/INCOMPLETE" ]
	check "normal run: raw.csv has 2 lengths x 10 probes" [ "$(data_rows "$d/raw.csv")" -eq 20 ]
	check "normal run: summary.csv has a row per length" [ "$(data_rows "$d/summary.csv")" -eq 2 ]
	check "normal run: no partial directory left" [ -z "$(ls -A "$RES/normal" | grep partial)" ]
	check_clean "$id" "normal run"
else
	fail "normal run: one results directory (found: ${dirs[*]})"
fi
check_decoys "normal run"

# ---- SIGINT in the middle of a sweep ----------------------------------------------
out=$TMP/sigint
mkdir -p "$out"
$B run --quiet --results "$RES/sigint" "$LONG" </dev/null >"$out/stdout" 2>"$out/stderr" &
pid=$!
PIDS+=($pid)
if id=$(run_id_of $pid); then
	RUNS+=("$id")
	ok "interrupted run: state file /run/cadeia-bench/$id.json names pid $pid"
	if wait_measuring "$id"; then
		ok "interrupted run: a length is being measured"
	else
		fail "interrupted run: no round measured within 60 s"
	fi
	check "interrupted run: still running before SIGINT" kill -0 $pid
	kill -INT $pid
	wait $pid
	rc=$?
	PIDS=()
	check "interrupted run: exit status 3 after SIGINT (got $rc)" [ "$rc" -eq 3 ]
	dirs=("$RES"/sigint/cbtF-long-*)
	if [ ${#dirs[@]} -eq 1 ] && [ -d "${dirs[0]}" ]; then
		d=${dirs[0]}
		ok "interrupted run: results renamed into place, $(basename "$d")"
		check "interrupted run: meta.json says incomplete" [ "$(jq -r .status "$d/meta.json")" = incomplete ]
		check "interrupted run: meta.json names run $id" [ "$(jq -r .run_id "$d/meta.json")" = "$id" ]
		check "interrupted run: INCOMPLETE file present" [ -s "$d/INCOMPLETE" ]
		check "interrupted run: raw.csv has rows" [ "$(data_rows "$d/raw.csv")" -gt 0 ]
		check "interrupted run: the sweep stopped early" \
			[ "$(data_rows "$d/raw.csv")" -lt $((3 * 20 * 50)) ]
		check "interrupted run: no partial directory left" [ -z "$(ls -A "$RES/sigint" | grep partial)" ]
	else
		fail "interrupted run: one results directory (found: ${dirs[*]})"
	fi
	check_clean "$id" "interrupted run"
else
	fail "interrupted run: no state file names pid $pid"
	kill -INT $pid
	wait $pid
	PIDS=()
fi
check_decoys "interrupted run"

# ---- kill -9 of the orchestrator, then down ---------------------------------------------
out=$TMP/kill9
mkdir -p "$out"
$B run --quiet --results "$RES/kill9" "$LONG" </dev/null >"$out/stdout" 2>"$out/stderr" &
pid=$!
PIDS+=($pid)
if id=$(run_id_of $pid); then
	RUNS+=("$id")
	ok "killed run: state file /run/cadeia-bench/$id.json names pid $pid"
	wait_measuring "$id" || fail "killed run: no round measured within 60 s"
	kill -9 $pid
	wait $pid 2>/dev/null
	PIDS=()
	# What kill -9 leaves: the testbed, the pins and the state file.
	check "killed run: its namespaces outlive it" bash -c "ip netns list | grep -q '^$id-'"
	check "killed run: status calls it orphaned" \
		[ "$($B status --json | jq -r --arg id "$id" '.[] | select(.id == $id) | .state')" = orphaned ]
	check "killed run: cadeia-bench down $id exits 0" bash -c "$B down $id >'$out/down' 2>&1"
	check_clean "$id" "killed run, after down"
	check "down $id again, nothing to do: exits 0" bash -c "$B down $id >'$out/down2' 2>&1"
else
	fail "killed run: no state file names pid $pid"
	kill -INT $pid
	wait $pid
	PIDS=()
fi
check_decoys "killed run"

# ---- two runs at once -------------------------------------------------------------------
out=$TMP/two
mkdir -p "$out"
$B run --quiet --results "$RES/two" "$SMALL" </dev/null >"$out/a.stdout" 2>"$out/a.stderr" &
pa=$!
$B run --quiet --results "$RES/two" "$SMALL" </dev/null >"$out/b.stdout" 2>"$out/b.stderr" &
pb=$!
PIDS+=($pa $pb)
wait $pa
ra=$?
wait $pb
rb=$?
PIDS=()
check "two runs at once: the first exits 0 (got $ra)" [ "$ra" -eq 0 ]
check "two runs at once: the second exits 0 (got $rb)" [ "$rb" -eq 0 ]
dirs=("$RES"/two/cbtF-small-*)
if [ ${#dirs[@]} -eq 2 ] && [ -d "${dirs[0]}" ] && [ -d "${dirs[1]}" ]; then
	ok "two runs at once: two results directories"
	ia=$(jq -r .run_id "${dirs[0]}/meta.json")
	ib=$(jq -r .run_id "${dirs[1]}/meta.json")
	RUNS+=("$ia" "$ib")
	check "two runs at once: different run ids ($ia, $ib)" [ "$ia" != "$ib" ]
	for d in "${dirs[@]}"; do
		check "two runs at once: $(basename "$d") complete, 20 probes" \
			[ "$(jq -r .status "$d/meta.json"):$(data_rows "$d/raw.csv")" = complete:20 ]
	done
	check_clean "$ia" "two runs at once, first"
	check_clean "$ib" "two runs at once, second"
else
	fail "two runs at once: two results directories (found: ${dirs[*]})"
fi
check_decoys "two runs at once"

# ---- down with nothing to do ----------------------------------------------------------------
# A bare `down` removes every run whose owner is gone, other people's `up`
# runs included: only call it when every known run has a live owner.
others=$($B status --json | jq -r '[.[] | select(.state != "running")] | length')
if [ "$others" = 0 ]; then
	check "down with nothing to do exits 0" bash -c "$B down >'$TMP/down-bare' 2>&1"
else
	diag "skipping bare down: $others runs of others are up or orphaned"
fi

check_decoys "end"
tap_done
