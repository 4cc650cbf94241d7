#!/usr/bin/env bash
# Self-test of the test harness: the helpers of tests/lib.sh fail their check
# when the tool under them fails (fake tshark, ip, virsh, pgrep on PATH that
# exit non-zero), instead of reading "nothing" as "none"; tests/run.sh fails a
# test whose TAP plan is missing, 1..0 or not what ran, or that says "reduced
# coverage" under CI=true; tests/tap.h's tap_done does the same for C tests.
# Nothing here touches the network or needs root.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

TMP=$(mktemp -d /tmp/cbtH-lib.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
REAL_PATH=$PATH
FAKE=$TMP/fake
mkdir -p "$FAKE"

plan 50
need_tools tshark jq python3 gcc

# fake TOOL STATUS [STDOUT]: TOOL on $FAKE exits STATUS after printing STDOUT.
fake() {
	printf '%s' "${3:+$3$'\n'}" >"$FAKE/$1.out"
	printf '#!/bin/sh\ncat "$0.out"\n[ %s -eq 0 ] || echo "$0: fake failure" >&2\nexit %s\n' "$2" "$2" >"$FAKE/$1"
	chmod +x "$FAKE/$1"
}
# broken CMD...: CMD with the fake tools first on PATH.
broken() { PATH=$FAKE:$REAL_PATH "$@"; }

# An empty but valid pcap (global header only): the real tshark reads it.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
	>"$TMP/empty.pcap"

# ---- count, nsh_frames, decode/expect over tshark -------------------------------
fake tshark 2
check "count: a real tshark on an empty capture counts 0" test "$(count empty nsh)" = 0
check "count: a failing tshark gives no number (status 1)" eval '! out=$(broken count empty nsh) && [ "$out" = tshark-failed ]'
check "count: so a \"no NSH\" check over it fails" \
	eval '! test "$(broken count empty nsh 2>/dev/null)" -eq 0 2>/dev/null'
check "count: a missing capture file fails too" eval '! count nosuch nsh >/dev/null 2>&1'
check "nsh_frames: a real tshark on an empty capture prints nothing" test -z "$(nsh_frames empty)"
check "nsh_frames: a failing tshark says so (status 1)" \
	eval '! out=$(broken nsh_frames empty 2>/dev/null) && [ "$out" = tshark-failed ]'

mkdir -p "$TMP/dec"
cp "$TMP/empty.pcap" "$TMP/dec/src.in.pcap"
check "decode: a real tshark decodes an empty capture (status 0)" decode "$TMP/dec"
check "decode: ... no stray frame, no failure mark" test ! -s "$TMP/dec/stray.txt" -a ! -e "$TMP/dec/decode.failed"
check "expect: 0 frames where there are 0 passes" \
	eval '[ "$(expect "$TMP/dec" "none" 0 "port=src")" = "ok - none" ]'
check "decode: a failing tshark returns 1" eval '! broken decode "$TMP/dec" 2>/dev/null'
check "decode: ... and writes the failure into stray.txt" grep -q 'tshark -r .* failed' "$TMP/dec/stray.txt"
check "sel: after a failed decode, -1 -1" test "$(sel "$TMP/dec" "port=src")" = "-1 -1"
check "expect: \"0 frames\" fails after a failed decode" \
	eval 'expect "$TMP/dec" "none" 0 "port=src" | grep -q "^not ok - none"'
mkdir -p "$TMP/nocap"
check "decode: a directory without captures is a failure" eval '! decode "$TMP/nocap"'

# ---- stage counters ------------------------------------------------------------------
echo '{"counters": {"dec": {"decap": 5, "passed": 0}}}' >"$TMP/a.json"
echo '{"counters": {"dec": {"decap": 8, "passed": 0}}}' >"$TMP/b.json"
echo 'not json' >"$TMP/bad.json"
check "counter: a present counter reads its value" test "$(counter "$TMP/a.json" dec decap)" = 5
check "counter: a zero counter reads 0" test "$(counter "$TMP/a.json" dec passed)" = 0
check "counter: a missing counter is an error, not 0" \
	eval '! out=$(counter "$TMP/a.json" dec drop_ttl 2>/dev/null) && [ "$out" = missing:dec.drop_ttl ]'
check "counter: a missing stage is an error" eval '! counter "$TMP/a.json" fwd forwarded >/dev/null 2>&1'
check "counter: a dump that is not JSON is an error" eval '! counter "$TMP/bad.json" dec decap >/dev/null 2>&1'
check "counter_delta: 8 - 5" test "$(counter_delta "$TMP/a.json" "$TMP/b.json" dec.decap)" = 3
check "counter_delta: a missing counter is an error, not a number" \
	eval '! out=$(counter_delta "$TMP/a.json" "$TMP/b.json" dec.drop_ttl 2>/dev/null) && [ "$out" = missing:dec.drop_ttl ]'
S=$FAKE/cadeia-stage
fake cadeia-stage 1
check "stage_stat: failing stats give no number" eval '! out=$(stage_stat n dec.decap) && [ "$out" = missing:dec.decap ]'
check "stage_drops: failing stats give no 0" eval '! out=$(stage_drops n dec) && [ "$out" != 0 ]'
fake cadeia-stage 0 '{"counters": {"dec": {"decap": 3, "drop_ttl": 0, "drop_bad": 0}}}'
check "stage_stat: a live counter" test "$(stage_stat n dec.decap)" = 3
check "stage_drops: the sum of drop_*" test "$(stage_drops n dec)" = 0
check "stage_stat: a counter the stage lacks is an error" eval '! stage_stat n dec.nope >/dev/null'

# ---- "it is not there" checks over failing tools ------------------------------------
fake ip 1
check "lacks: output without the pattern" lacks xdp echo "prog/tc"
check "lacks: output with the pattern fails" eval '! lacks xdp echo "prog/xdp id 7"'
check "lacks: a failing ip is no proof of \"no XDP\"" eval '! broken lacks xdp ip -d link show lo 2>/dev/null'
check "says_no: status 1 is a no" says_no false
check "says_no: status 0 is not" eval '! says_no true 2>/dev/null'
check "says_no: grep's error (no such file) is not a no" eval '! says_no grep -q x "$TMP/nosuch" 2>/dev/null'
check "says_no: a dead guest agent (125) is not a no" eval '! says_no sh -c "exit 125" 2>/dev/null'
check "says_no: a command that is not there (127) is not a no" eval '! says_no cbtH-no-such-command 2>/dev/null'
check "qga: no agent on the socket exits 125, not a guest status" \
	eval 'qga 5 "$TMP/nosuch.sock" exec /bin/false 2>/dev/null; [ $? -eq 125 ]'
check "qga: so \"the guest command fails\" fails with no agent" \
	eval '! says_no qga 5 "$TMP/nosuch.sock" exec /bin/false 2>/dev/null'
fake virsh 1
check "ga: a failing virsh exits 125" eval 'broken ga cbtH-dom 1 /bin/false 2>/dev/null; [ $? -eq 125 ]'
check "leftovers: a failing ip netns list is a leftover, not nothing" \
	test -n "$(broken leftovers cbtH-none netns link)"
fake pgrep 3
check "leftovers: a failing pgrep is a leftover, not nothing" test -n "$(broken leftovers cbtH-none fn)"
check "leftovers: with working tools, nothing of a run that never was" \
	test -z "$(leftovers cbtH-none netns link pin state fn)"

# ---- plans: tests/run.sh ------------------------------------------------------------------
# fake_test NAME BODY: a test binary of a fake build directory.
mkdir -p "$TMP/b/tests"
fake_test() {
	printf '#!/bin/sh\n%s\n' "$2" >"$TMP/b/tests/$1"
	chmod +x "$TMP/b/tests/$1"
}
runs() { BUILD=$TMP/b TESTS=$1 CI=${CI_FOR_RUN:-} tests/run.sh >"$TMP/run.out" 2>&1; }
fake_test test_cbtHgood 'echo 1..2; echo "ok - a"; echo "ok - b"'
fake_test test_cbtHshort 'echo 1..3; echo "ok - a"; echo "ok - b"'
fake_test test_cbtHnoplan 'echo "ok - a"'
fake_test test_cbtHskip 'echo "1..0 # SKIP needs root"'
fake_test test_cbtHlate 'echo "ok - a"; echo 1..1'
fake_test test_cbtHreduced 'echo 1..1; echo "# reduced coverage: lengths 0 1 of 0 1 2 8"; echo "ok - a"'
fake_test test_cbtHexit 'echo 1..1; echo "ok - a"; exit 3'
check "run.sh: a test that runs its plan passes" runs cbtHgood
check "run.sh: ran fewer checks than planned: fails, saying so" \
	eval '! runs cbtHshort && grep -q "planned 3 checks, ran 2" "$TMP/run.out"'
check "run.sh: no plan: fails" eval '! runs cbtHnoplan && grep -q "printed 0 TAP plans" "$TMP/run.out"'
check "run.sh: 1..0 (a skip) fails" eval '! runs cbtHskip'
check "run.sh: a plan at the end counts" runs cbtHlate
check "run.sh: reduced coverage passes outside CI, fails under CI=true" \
	eval 'runs cbtHreduced && ! CI_FOR_RUN=true runs cbtHreduced'
check "run.sh: a non-zero exit with every check ok fails" eval '! runs cbtHexit'

# ---- plans: tests/tap.h ------------------------------------------------------------------
cat >"$TMP/tapc.c" <<'EOF'
#include <stdlib.h>
#include "tap.h"
int main(int argc, char **argv)
{
	int ran = atoi(argv[1]);

	if (argc > 2)
		tap_plan(atoi(argv[2]));
	for (int i = 0; i < ran; i++)
		CHECK(1, "check %d", i);
	return tap_done();
}
EOF
gcc -Itests -o "$TMP/tapc" "$TMP/tapc.c" 2>"$TMP/gcc.err" || diag "$(cat "$TMP/gcc.err")"
check "tap.h: as many checks as planned: exit 0" eval '"$TMP/tapc" 2 2 >/dev/null'
check "tap.h: fewer than planned: exit 1" eval '! "$TMP/tapc" 1 2 >/dev/null'
check "tap.h: no plan: exit 1" eval '! "$TMP/tapc" 2 >/dev/null'

tap_done
