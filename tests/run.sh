#!/usr/bin/env bash
# Runs every test: build/tests/test_* binaries and tests/t_*.sh scripts.
# Each prints "ok - ..." / "not ok - ..." lines; a test that exits non-zero
# without printing a failure still counts as one failure.
# TESTS="pattern" limits the run to tests whose name matches.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
passed=0
failed=0
failed_tests=()
logdir=$(mktemp -d /tmp/cadeia-tests.XXXXXX)
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
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited with status $rc" >>"$logdir/$name.log"; fi
	if [ "$f" -gt 0 ]; then
		cat "$logdir/$name.log"
		failed_tests+=("$name")
	else
		grep -E '^(ok|#)' "$logdir/$name.log" | tail -n 3
	fi
	echo "--- $name: $p passed, $f failed ($(( $(date +%s) - start )) s)"
	passed=$((passed + p))
	failed=$((failed + f))
done
[ ${#failed_tests[@]} -gt 0 ] && echo "failing: ${failed_tests[*]}"
echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
