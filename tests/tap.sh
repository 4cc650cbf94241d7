# Shell counterpart of tests/tap.h: source it, call check/ok/fail, end with tap_done.
TAP_PASSED=0
TAP_FAILED=0
ok()   { echo "ok - $*"; TAP_PASSED=$((TAP_PASSED + 1)); }
fail() { echo "not ok - $*"; TAP_FAILED=$((TAP_FAILED + 1)); }
# check "description" command args...  (passes when the command succeeds)
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
diag() { echo "# $*"; }
tap_done() { echo "# $TAP_PASSED passed, $TAP_FAILED failed"; [ "$TAP_FAILED" -eq 0 ]; }
