# Shell counterpart of tests/tap.h: source it, declare the plan (plan N), call
# check/ok/fail, end with tap_done. tests/run.sh counts the checks against the plan.
TAP_PASSED=0
TAP_FAILED=0
TAP_PLANNED=
# plan N: the test runs N checks on every path (printed as TAP "1..N").
plan() { TAP_PLANNED=$1; echo "1..$1"; }
ok()   { echo "ok - $*"; TAP_PASSED=$((TAP_PASSED + 1)); }
fail() { echo "not ok - $*"; TAP_FAILED=$((TAP_FAILED + 1)); }
# check "description" command args...  (passes when the command succeeds)
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
diag() { echo "# $*"; }
# reduced WHAT: a knob shrank the coverage; run.sh fails the test under CI=true.
reduced() { echo "# reduced coverage: $*"; }
tap_done() {
	local ran=$((TAP_PASSED + TAP_FAILED))

	echo "# $TAP_PASSED passed, $TAP_FAILED failed"
	if [ -z "$TAP_PLANNED" ]; then
		echo "# no plan: call plan N before the first check"
		return 1
	fi
	[ "$ran" -eq "$TAP_PLANNED" ] || echo "# planned $TAP_PLANNED checks, ran $ran"
	[ "$TAP_FAILED" -eq 0 ] && [ "$ran" -eq "$TAP_PLANNED" ]
}
