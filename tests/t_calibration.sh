#!/usr/bin/env bash
# The harness's own accuracy check. tests/scenarios/calibration.json measures,
# in the same interleaved rounds, a chain of user-space wires and a chain of
# "delay" functions (the same wire holding each frame 200 us). The delay
# chain's per-SF slope minus the wire chain's must be the configured 200 us
# within the 95 % interval of that difference (bootstrap over rounds, rounds
# paired). Medians decide: means carry the scheduler's tail on this shared
# machine and are reported only. The functions must really be delay
# functions holding 200 us (their command lines), and the run leaves nothing.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

SCEN=tests/scenarios/calibration.json
DELAY=200
TMP=$(mktemp -d /tmp/cbtF-cal.XXXXXX)
trap rm_tmp EXIT

need_built "$B"
need_tools jq

# json_true FILTER FILE: the filter holds on FILE (quietly).
json_true() { jq -e "$1" "$2" >/dev/null 2>&1; }

plan 9

$B run --quiet --results "$TMP/results" "$SCEN" >"$TMP/out.txt" 2>"$TMP/err.txt"
rc=$?
check "run exits 0 (status $rc)" test "$rc" -eq 0
dir=$(ls -d "$TMP"/results/calibration-* 2>/dev/null | head -1)
sum=$dir/summary.json
check "summary.json written" test -s "$sum"

# Each function's last words (fn-NODE.log): its kind, its delay, what it reflected.
ndelay=$(grep -lE "^fn delay node=d[1-4] .* reflected=[1-9][0-9]* .*delay_us=$DELAY\$" \
	"$dir"/fn-d[1-4].log 2>/dev/null | wc -l)
check "4 delay functions held frames $DELAY us and reflected them ($ndelay of 4 say so)" \
	test "$ndelay" -eq 4

d=$(jq -c '.chain_differences[] | select(.chain == "delay" and .minus_chain == "wire")' "$sum" 2>/dev/null)
check "summary.json has the delay - wire slope difference" test -n "$d"
med=$(jq -r '.median_slope_difference_us' <<<"$d" 2>/dev/null)
lo=$(jq -r '.median_slope_difference_ci95_us[0]' <<<"$d" 2>/dev/null)
hi=$(jq -r '.median_slope_difference_ci95_us[1]' <<<"$d" 2>/dev/null)
mmean=$(jq -r '.slope_difference_us' <<<"$d" 2>/dev/null)
mlo=$(jq -r '.slope_difference_ci95_us[0]' <<<"$d" 2>/dev/null)
mhi=$(jq -r '.slope_difference_ci95_us[1]' <<<"$d" 2>/dev/null)
diag "medians: delay - wire = $med us/SF, 95% CI [$lo, $hi]; means: $mmean [$mlo, $mhi]"
# The interval, widened by TOL us (2.5 % of the delay): the spinning function
# is preempted now and then by other tenants. On this 2-core machine under a
# load of 6, six runs read -0.3 to +7.1 us over the delay, and the interval
# missed 200 by up to 4.4 us in three of them. Both verdicts are printed.
TOL=${CALIBRATION_TOL_US:-5}
strict=no
awk -v a="$lo" -v b="$hi" -v d=$DELAY 'BEGIN { exit !(a != "" && a <= d && d <= b) }' && strict=yes
diag "strictly inside the interval: $strict"
check "medians: $DELAY us lies in the difference's interval [$lo, $hi] widened by $TOL us" \
	awk -v a="$lo" -v b="$hi" -v d=$DELAY -v t="$TOL" 'BEGIN { exit !(a != "" && a - t <= d && d <= b + t) }'
# An interval too wide would pass anything: it must exclude 0 and 2 x the delay.
check "medians: the interval is narrower than $DELAY us (it tells 0 and $((2 * DELAY)) from $DELAY)" \
	awk -v a="$lo" -v b="$hi" -v d=$DELAY 'BEGIN { exit !(a != "" && b - a < d && a > 0 && b < 2 * d) }'
check "the printed table shows the difference with its interval" \
	grep -qE "delay - wire: means [-+][0-9.]+ us/SF \[[-+][0-9.]+, [-+][0-9.]+\], medians" "$TMP/out.txt"
check "the bootstrap's method and seed are in summary.json" \
	json_true '.slope_interval.resamples == 2000 and (.slope_interval.seed | type) == "number"' "$sum"

id=$(jq -r '.run_id' "$dir/meta.json" 2>/dev/null)
check_gone "$(leftovers "${id:-cbNONE}")" "run $id left nothing behind" "run $id left behind"
tap_done
