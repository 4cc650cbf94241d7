#!/usr/bin/env bash
# Architectures compared in one run, interleaved (issue 13):
# tests/scenarios/compare-small.json puts Cadeia-Aberta and the PhantomSFC
# star side by side (kernel wire SFs, lengths 0..2, 4 rounds of 10, seed 7).
# 1. Both testbeds are up at once, each under a run id of its own (the
#    second recorded with "parent"), and every round visits each
#    (architecture, length) once: raw.csv in send order shows round r of
#    all six points before round r+1 of any, and architectures mixed within
#    a round. The comparison has the paired slope ratio and its interval;
#    nothing of either id remains.
# 2. kill -9 of the run: both testbeds outlive it; `down <run id>` removes
#    the second architecture's too.
# 3. SIGINT: exit 3, results kept and marked incomplete, nothing of either
#    id remains.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/tap.sh
. tests/lib.sh

SCEN=tests/scenarios/compare-small.json
TMP=$(mktemp -d /tmp/cbtC-cmp.XXXXXX)
RUNS=()
PIDS=()
cleanup() {
	stop_pids
	down_runs --force
	rm_tmp
}
trap cleanup EXIT

need_built "$B"
need_tools jq ip pgrep

plan 17

# json_true FILTER FILE: the filter holds on FILE (quietly).
json_true() { jq -e "$1" "$2" >/dev/null 2>&1; }

# ids_of PID: every run id whose state file names PID, the run's own first.
ids_of() {
	local f own= subs=

	for f in /run/cadeia-bench/cb????.json; do
		[ -e "$f" ] || continue
		[ "$(jq -r .pid "$f" 2>/dev/null)" = "$1" ] || continue
		if [ "$(jq -r '.parent // empty' "$f")" = "" ]; then
			own=$(basename "$f" .json)
		else
			subs="$subs $(basename "$f" .json)"
		fi
	done
	echo $own $subs
}

# wait_ids PID N: ids_of PID once it has N ids (20 s at most).
wait_ids() {
	local i ids

	for i in $(seq 200); do
		ids=$(ids_of "$1")
		if [ "$(wc -w <<<"$ids")" -eq "$2" ]; then
			echo "$ids"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ids_gone IDS WHAT: one check that nothing of any id of IDS remains; with
# no ids at all it fails (nothing was looked at).
ids_gone() {
	local id left=

	if [ -z "$1" ]; then
		fail "$2: no run ids to look for"
		return
	fi
	for id in $1; do left="$left$(leftovers "$id")"; done
	check_gone "$left" "$2: nothing of $1 remains" "$2: left behind"
}

# start_measuring NAME: the scenario run in the background into $TMP/NAME;
# PID its pid, IDS its run ids (the run's own first) once both testbeds are
# building, and back once it measures (30 s at most).
start_measuring() {
	mkdir -p "$TMP/$1"
	$B run --quiet --results "$TMP/$1" "$SCEN" </dev/null >/dev/null 2>"$TMP/$1.err" &
	PID=$!
	PIDS+=($PID)
	IDS=$(wait_ids $PID 2)
	RUNS+=($IDS)
	wait_measuring "${IDS%% *}" 30 || diag "$1: no round measured within 30 s"
}

# ==== 1. a whole run ==========================================================
$B run --quiet --results "$TMP/res" "$SCEN" </dev/null >"$TMP/out" 2>"$TMP/err"
rc=$?
check "run of two architectures exits 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag "$(tail -n 3 "$TMP/err")"
d=$(ls -d "$TMP"/res/cbtC-compare-* 2>/dev/null | head -1)
meta=$d/meta.json
id=$(jq -r .run_id "$meta" 2>/dev/null)
ids=$(jq -r '[.testbed_run_ids[]] | join(" ")' "$meta" 2>/dev/null)
RUNS+=($ids)
check "meta.json: a run id per architecture, the first the run's own ($ids)" \
	test "$(jq -r '[.testbed_run_ids[]] | unique | length' "$meta" 2>/dev/null)" = 2 -a \
	"$(jq -r '.testbed_run_ids["cadeia-aberta"]' "$meta" 2>/dev/null)" = "$id"
check "meta.json: the interleaved order and the scenario's seed" \
	test "$(jq -r '[.schedule.order, .schedule.seed] | join(" ")' "$meta" 2>/dev/null)" = "interleaved 7"

# Points in send order: "arch length round" per visit, each listed once.
awk -F, 'NR > 1 { print $6, $1, $3, $4 }' "$d/raw.csv" 2>/dev/null | sort -n -k1,1 |
	awk '{ k = $2 " " $3 " " $4; if (k != last) print k; last = k }' >"$TMP/visits"
n=$(wc -l <"$TMP/visits")
check "raw.csv: 24 visits (2 architectures x 3 lengths x 4 rounds), got $n" test "$n" -eq 24
rows=$(awk -F, 'NR > 1 && $8 == 0' "$d/raw.csv" 2>/dev/null | wc -l)
check "raw.csv: every probe answered (240, got $rows)" test "$rows" -eq 240
# Round r of every point before round r+1 of any: the rounds in visit order
# are 0 x 6, 1 x 6, 2 x 6, 3 x 6, and each round has the six points once.
check "every round visits each (architecture, length) once, rounds in order" bash -c "
	[ \"\$(awk '{print \$3}' '$TMP/visits' | tr '\n' ' ')\" = \
	  '0 0 0 0 0 0 1 1 1 1 1 1 2 2 2 2 2 2 3 3 3 3 3 3 ' ] &&
	[ \"\$(awk '{print \$1, \$2}' '$TMP/visits' | sort | uniq -c | awk '{print \$1}' | sort -u)\" = 4 ]"
# Architectures change more often than once per round: they are interleaved,
# not run one after the other (seed 7 mixes them; a blocked order has 3).
switches=$(awk '{ if (NR > 1 && $1 != a) s++; a = $1 } END { print s + 0 }' "$TMP/visits")
check "architectures alternate within rounds ($switches switches in 24 visits, more than 7)" \
	test "$switches" -gt 7
check "meta.json: each architecture's visits timed (schedule.sweeps)" \
	test "$(jq -r '[.schedule.sweeps[] | select(.sweep_s > 0)] | length' "$meta" 2>/dev/null)" = 2
sum=$d/summary.json
check "summary.json: phantomsfc's slope ratio to cadeia-aberta with its interval" \
	json_true '.comparison[] | select(.architecture == "phantomsfc") |
		(.slope_ratio_to_cadeia_aberta | type == "number") and
		(.slope_ratio_ci95 | length == 2) and (.slope_ratio_significant | type == "boolean")' \
		"$sum"
ids_gone "$ids" "run"

# ==== 2. kill -9: `down <run id>` takes the second testbed too =================
start_measuring k
pid=$PID kids=$IDS
check "killed run: two run ids while both testbeds build ($kids)" test -n "$kids"
kid=${kids%% *}
kill -9 $pid
wait $pid 2>/dev/null
PIDS=()
sub=${kids#* }
check "killed run: the second testbed ($sub) outlives it" bash -c "ip netns list | grep -q '^$sub-'"
check "killed run: down $kid exits 0" bash -c "$B down $kid >'$TMP/k.down' 2>&1"
ids_gone "$kids" "killed run, after down $kid"

# ==== 3. SIGINT ===============================================================
start_measuring i
pid=$PID iids=$IDS
kill -INT $pid
wait $pid
rc=$?
PIDS=()
check "interrupted run: exit status 3 (got $rc)" test "$rc" -eq 3
di=$(ls -d "$TMP"/i/cbtC-compare-* 2>/dev/null | head -1)
check "interrupted run: results kept and marked incomplete" \
	test "$(jq -r .status "$di/meta.json" 2>/dev/null)" = incomplete
ids_gone "$iids" "interrupted run"
tap_done
