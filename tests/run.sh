#!/usr/bin/env bash
# Runs every test: build/tests/test_* binaries and tests/t_*.sh scripts.
# Each prints a TAP plan "1..N" and "ok - ..." / "not ok - ..." lines. A test
# fails when a check fails, when it exits non-zero, when it prints no plan
# (or several, or 1..0), when it runs a number of checks other than its plan,
# and, under CI=true, when it says "# reduced coverage".
# TESTS="pattern" limits the run to tests whose name matches.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
passed=0
failed=0
failed_tests=()
logdir=$(mktemp -d /tmp/cadeia-tests.XXXXXX)

# verdict LOG RC: appends to LOG a "not ok" line per way the test went wrong
# that is not already a failed check; prints how many it added.
verdict() {
	local log=$1 rc=$2 plans n ran added=0

	plans=$(grep -cE '^1\.\.[0-9]+' "$log")
	ran=$(grep -cE '^(not )?ok - ' "$log")
	if [ "$plans" -ne 1 ]; then
		echo "not ok - printed $plans TAP plans (1..N), expected one" >>"$log"
		added=$((added + 1))
	else
		n=$(grep -E '^1\.\.[0-9]+' "$log" | sed -E 's/^1\.\.([0-9]+).*/\1/')
		if [ "$n" -eq 0 ]; then
			echo "not ok - plan 1..0: the test checked nothing" >>"$log"
			added=$((added + 1))
		elif [ "$ran" -ne "$n" ]; then
			echo "not ok - planned $n checks, ran $ran" >>"$log"
			added=$((added + 1))
		fi
	fi
	if [ "${CI:-}" = true ] && grep -q '^# reduced coverage' "$log"; then
		echo "not ok - reduced coverage under CI=true: $(grep -m1 '^# reduced coverage' "$log")" >>"$log"
		added=$((added + 1))
	fi
	if [ "$rc" -ne 0 ] && [ "$added" -eq 0 ] && ! grep -q '^not ok - ' "$log"; then
		echo "not ok - exited with status $rc" >>"$log"
		added=$((added + 1))
	fi
	echo "$added"
}

for t in "$BUILD"/tests/test_* tests/t_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t")
	if [ -n "${TESTS:-}" ] && [[ "$name" != *${TESTS}* ]]; then continue; fi
	echo "=== $name"
	start=$(date +%s)
	if [[ "$t" == *.sh ]]; then cmd=(bash "$t"); else cmd=("$t"); fi
	"${cmd[@]}" >"$logdir/$name.log" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$logdir/$name.log")
	f=$(grep -c '^not ok - ' "$logdir/$name.log")
	f=$((f + $(verdict "$logdir/$name.log" "$rc")))
	if [ "$f" -gt 0 ]; then
		cat "$logdir/$name.log"
		failed_tests+=("$name")
	else
		grep -E '^(ok|#)' "$logdir/$name.log" | tail -n 3
		grep '^# reduced coverage' "$logdir/$name.log"
	fi
	echo "--- $name: $p passed, $f failed ($(( $(date +%s) - start )) s)"
	passed=$((passed + p))
	failed=$((failed + f))
done
[ ${#failed_tests[@]} -gt 0 ] && echo "failing: ${failed_tests[*]}"
echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
