#!/usr/bin/env bash
# A full disk is never a success: `cadeia-bench run --results DIR` on a tiny
# tmpfs exits non-zero, says so on stderr, and leaves no directory with a
# run's final name. What was written is kept, in "<name>-<time>.incomplete"
# with an INCOMPLETE file (naming the failed write when the disk has room). Two disks: one where the
# report (summary.json, meta.json, plots) does not fit, one where raw.csv
# itself fills it in the middle of the sweep. The tmpfs lives in a private
# mount namespace (unshare -m), so nothing of it can outlive the test.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

plan 13
SMALL=tests/scenarios/cleanup-small.json
TMP=$(mktemp -d /tmp/cbtF-diskfull.XXXXXX)
teardown() { rm_tmp; }
trap teardown EXIT

need_built "$B"
need_tools jq unshare

# A sweep whose raw.csv (2 lengths x 300 probes, ~17 KiB) outgrows 12 KiB.
BIG=$TMP/big.json
jq '.name = "cbtF-bigraw" | .measure.rate_pps = 2000 | .measure.per_round = 300' "$SMALL" >"$BIG" ||
	die "write $BIG"

# full_run NAME SIZE SCENARIO: the run on a SIZE tmpfs in a private mount
# namespace; its exit status in $TMP/NAME/rc, output beside it, and a copy of
# what it wrote under $TMP/NAME/copy (the tmpfs is gone with the namespace).
full_run() {
	local d=$TMP/$1

	mkdir -p "$d/mnt" "$d/copy"
	unshare -m --propagation private bash -c '
		mount -t tmpfs -o size="$2" cbtF-diskfull "$1/mnt" || exit 90
		"$3" run --quiet --results "$1/mnt/res" "$4" </dev/null >"$1/stdout" 2>"$1/stderr"
		echo $? >"$1/rc"
		cp -a "$1/mnt/res/." "$1/copy/"
	' _ "$d" "$2" "$B" "$3"
	[ -s "$d/rc" ] || die "$1: could not run on a $2 tmpfs in a private mount namespace"
	diag "$1: exit $(cat "$d/rc"): $(tail -n 2 "$d/stderr" | tr '\n' ' ')"
	CUT=("$d"/copy/*.incomplete)
	FINAL=$(ls "$d/copy" | grep -E '^[^.].*-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$')
}

# ---- the report does not fit: raw.csv is whole, summary/meta are not ----------
full_run report 8k "$SMALL"
check "report on a full disk: exit status is not 0 (got $(cat "$TMP/report/rc"))" \
	[ "$(cat "$TMP/report/rc")" -ne 0 ]
check "report on a full disk: stderr says no space left and incomplete" \
	bash -c "grep -q 'No space left on device' '$TMP/report/stderr' && grep -q 'incomplete' '$TMP/report/stderr'"
check "report on a full disk: no directory with a final name (found: $FINAL)" [ -z "$FINAL" ]
check "report on a full disk: one <name>-<time>.incomplete directory" \
	[ ${#CUT[@]} -eq 1 -a -d "${CUT[0]}" ]
# Its text needs a data block the full disk may not have: the name is the mark.
check "report on a full disk: an INCOMPLETE file marks it" [ -e "${CUT[0]}/INCOMPLETE" ]
check "report on a full disk: raw.csv is kept whole (20 probes)" \
	[ "$(data_rows "${CUT[0]}/raw.csv" 2>/dev/null)" = 20 ]

# ---- raw.csv fills the disk in the middle of the sweep -------------------------------
full_run raw 12k "$BIG"
check "raw.csv on a full disk: exit status is not 0 (got $(cat "$TMP/raw/rc"))" \
	[ "$(cat "$TMP/raw/rc")" -ne 0 ]
check "raw.csv on a full disk: stderr names raw.csv and the full disk" \
	grep -q 'raw.csv: No space left on device' "$TMP/raw/stderr"
check "raw.csv on a full disk: no directory with a final name (found: $FINAL)" [ -z "$FINAL" ]
check "raw.csv on a full disk: one <name>-<time>.incomplete directory with INCOMPLETE" \
	[ ${#CUT[@]} -eq 1 -a -e "${CUT[0]}/INCOMPLETE" ]
rows=$(data_rows "${CUT[0]}/raw.csv" 2>/dev/null || echo 0)
check "raw.csv on a full disk: the partial raw.csv is kept ($rows of 600 probes)" \
	[ "$rows" -gt 0 -a "$rows" -lt 600 ]
check "raw.csv on a full disk: no meta.json claims the run complete" \
	bash -c "! jq -e '.status == \"complete\"' '${CUT[0]}/meta.json' >/dev/null 2>&1"

# ---- the namespace kept the tmpfs to itself --------------------------------------------
check "no tmpfs of this test is mounted outside its namespace" \
	says_no grep -q cbtF-diskfull /proc/self/mounts
tap_done
