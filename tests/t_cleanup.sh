#!/usr/bin/env bash
# Cleanup by `cadeia-bench run` and `down`: after a normal run, after SIGINT
# in the middle of a sweep (results kept and marked incomplete, exit status
# 3), and after kill -9 of the orchestrator followed by `down`, nothing named
# with the run's prefix remains (namespace, link, bpffs pin, function process,
# state file), while decoys this test creates under other names survive. Two
# runs at once stay apart, and `down` with nothing to do succeeds. Decoys
# with the names a run would choose: tests/t_ownership.sh.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

# normal 9, interrupted 13, killed 7, two at once 9, bare down 1, decoys 1
plan 40

SMALL=tests/scenarios/cleanup-small.json
LONG=tests/scenarios/cleanup-long.json
TMP=$(mktemp -d /tmp/cbtF-cleanup.XXXXXX)
RES=$TMP/results
# Decoys: a namespace and a link outside any run's prefix, and a namespace
# that starts with "cb" like every run id without being one.
DECOY_NS=(cbtF-decoy cbtFab12)
DECOY_LINK=cbtF-decoy0 # and its veth peer cbtF-decoy1

teardown() {
	local ns

	stop_pids
	down_runs --force
	for ns in "${DECOY_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	ip link del "$DECOY_LINK" 2>/dev/null
	rm -rf "$TMP"
}
trap teardown EXIT

need_built "$B"
need_tools jq

check_clean() {
	check_gone "$(leftovers "$1" netns link pin state fn)" \
		"$2: nothing named $1-* remains (netns, link, pin, function, state file)" "$2: left behind"
}

check_decoys() {
	local ns missing=""

	for ns in "${DECOY_NS[@]}"; do
		ip netns list | awk '{print $1}' | grep -qx "$ns" || missing="$missing netns:$ns"
	done
	ip link show "$DECOY_LINK" >/dev/null 2>&1 || missing="$missing link:$DECOY_LINK"
	check_decoys_missing "$1" "$missing"
}

# What normal_run and interrupted_run do not check themselves.
check_results() {
	[ "$2" = "interrupted run" ] || return 0
	check "interrupted run: no partial directory left" lacks partial ls -A "$RES/sigint"
}

for ns in "${DECOY_NS[@]}"; do
	ip netns add "$ns" || die "create decoy netns $ns"
done
ip link add "$DECOY_LINK" type veth peer name "${DECOY_LINK%0}1" || die "create decoy link $DECOY_LINK"
mkdir -p "$RES"

# ---- a normal run ---------------------------------------------------------------
normal_run "$SMALL" cbtF-small

# ---- SIGINT in the middle of a sweep ----------------------------------------------
interrupted_run "$LONG" cbtF-long 60 $((3 * 20 * 50))

# ---- kill -9 of the orchestrator, then down ---------------------------------------------
killed_run "$LONG" 60 namespaces ip netns list

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
# A bare `down` removes every run whose owner is gone and the caller's `up`
# runs, which as root are every engineer's: only call it when every known
# run has a live owner (tests/t_ownership.sh tests it in a namespace of its own).
others=$($B status --json | jq -r '[.[] | select(.state != "running")] | length')
if [ "$others" = 0 ]; then
	check "down with nothing to do exits 0" bash -c "$B down >'$TMP/down-bare' 2>&1"
else
	ok "down with nothing to do # SKIP $others runs of others are up or orphaned"
fi

check_decoys "end"
tap_done
