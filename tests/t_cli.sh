#!/usr/bin/env bash
# The command line as users meet it (issue 11): options after the scenario,
# usage errors with status 2 (run --length, fn, load-sink), `down` of an id
# that never existed, `down --json`, the scenario size cap on an endless
# pipe, errors with file:line:col, and `plot` of runs whose scenario name or
# directory name tries to run commands through gnuplot.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

plan 24
TMP=$(mktemp -d /tmp/cbtC-cli.XXXXXX)
SCEN=scenarios/quick.json
teardown() { down_runs; rm_tmp; }
trap teardown EXIT

need_built "$B"
need_tools jq timeout /usr/bin/time gnuplot
BIN=$(realpath "$B")
[ "$(id -u)" -eq 0 ] || die "runs as root (up and down build a testbed)"

# cli ARG...: runs cadeia-bench; status in $rc, output in $TMP/out and $TMP/err.
cli() {
	timeout 60 "$B" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
}
# expect_rc N "what" PATTERN: the last command exited N and said PATTERN (fixed string) on stderr.
expect_rc() {
	if [ "$rc" -eq "$1" ] && grep -qF -- "$3" "$TMP/err"; then
		ok "$2"
	else
		fail "$2 (status $rc, wanted $1 and \"$3\")"
		sed 's/^/# stderr: /' "$TMP/err" | head -5
	fi
}

# An id no run, state file, namespace or link uses.
fresh_id() {
	local id

	while :; do
		id=$(printf 'cb%04x' $((RANDOM % 65536)))
		[ -e "/run/cadeia-bench/$id.json" ] || [ -e "/run/cadeia-bench/$id" ] && continue
		ip -o link | grep -q "$id" && continue
		ip netns | grep -q "$id" && continue
		echo "$id"
		return
	done
}

# ---- options after the scenario (getopt permutes) ------------------------------
cli validate "$SCEN" --json
if [ "$rc" -eq 0 ] && jq -e '.[0].valid == true and .[0].name == "quick"' "$TMP/out" >/dev/null; then
	ok "validate FILE --json: the option after the file is taken"
else
	fail "validate FILE --json (status $rc)"
fi
cli run "$SCEN" --backend bogus
expect_rc 2 "run SCENARIO --backend bogus: the option after the scenario is parsed" \
	"unknown backend 'bogus' (netns or libvirt)"

# ---- usage errors: status 2 and a message that says what is wrong -----------------
cli run --length 2 "$SCEN"
expect_rc 2 "run --length says it belongs to up" "--length belongs to \`up\`"
cli up --length 2x "$SCEN"
expect_rc 2 "up --length 2x is refused (strict number)" "bad --length '2x'"
cli up --length +2 "$SCEN"
expect_rc 2 "up --length +2 is refused (strict number)" "bad --length '+2'"
cli up --length 60 "$SCEN"
expect_rc 2 "up --length beyond the longest chain" "--length 60: the longest chain of $SCEN has"
cli fn
expect_rc 2 "fn without arguments is a usage error" "missing KIND"
start=$(date +%s)
timeout 10 "$B" load-sink >"$TMP/out" 2>"$TMP/err" </dev/null
rc=$?
expect_rc 2 "load-sink without arguments does not listen, it is a usage error" \
	"--netns and --port are required"
cli load-sink --netns cbtC-none
expect_rc 2 "load-sink without --port is a usage error" "--netns and --port are required"

# ---- down ---------------------------------------------------------------------------
ID=$(fresh_id)
cli down "$ID"
expect_rc 1 "down of an id that never existed fails" "no run $ID: no state file"
cli down --json "$ID"
if [ "$rc" -eq 1 ] && jq -e --arg id "$ID" '.[0].id == $id and (.[0].error | test("^no run "))' \
	"$TMP/out" >/dev/null; then
	ok "down --json of an unknown id prints the error as JSON"
else
	fail "down --json of an unknown id (status $rc): $(head -c 200 "$TMP/out")"
fi
cli up "$SCEN"
UP=$(tail -n 1 "$TMP/out")
[[ "$UP" =~ ^cb[0-9a-f]{4}$ ]] && RUNS+=("$UP")
if [ "$rc" -eq 0 ] && [ -n "${RUNS[*]}" ]; then ok "up $SCEN gives run $UP"; else fail "up $SCEN (status $rc)"; fi
cli down "$UP" --json
if [ "$rc" -eq 0 ] && jq -e --arg id "$UP" '.[0].id == $id and .[0].failures == 0 and
	(.[0].removed | map(select(test("^deleted netns " + $id + "-src$"))) | length) == 1' \
	"$TMP/out" >/dev/null; then
	ok "down RUN --json lists what it removed, netns $UP-src among it"
else
	fail "down RUN --json (status $rc): $(head -c 300 "$TMP/out")"
fi
if [ -z "${RUNS[*]}" ] || ip netns | grep -q "^$UP-"; then
	fail "down left netns of run '$UP' (or there was no run)"
else
	ok "no netns of $UP is left"
fi

# ---- unbounded and odd input --------------------------------------------------------
# `yes` never ends: validate must stop at the 1 MiB cap, with little memory.
yes | timeout 20 /usr/bin/time -f '%M' -o "$TMP/rss" "$B" validate /dev/stdin >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 2 "yes | validate /dev/stdin stops at the size cap" \
	"/dev/stdin:524289:1: file longer than 1048576 bytes, the limit for a scenario"
rss=$(tail -n 1 "$TMP/rss")
if [ -n "$rss" ] && [ "$rss" -lt 65536 ]; then
	ok "validate read at most the cap: peak RSS $rss KiB"
else
	fail "validate's peak RSS ${rss:-unknown} KiB (wanted under 64 MiB)"
fi
mkdir "$TMP/dir.json"
cli validate "$TMP/dir.json"
expect_rc 2 "a directory as a scenario says why" "$TMP/dir.json:1:1: cannot read: Is a directory"
printf '{}' >"$TMP/empty-object.json"
cli validate "$TMP/empty-object.json"
expect_rc 2 "{} names the position of the object that lacks 'nodes'" \
	"$TMP/empty-object.json:1:1: missing required key 'nodes'"
jq '.network = {"subnet": "10.0.0.0/4294967320"}' "$SCEN" >"$TMP/subnet.json"
cli validate "$TMP/subnet.json"
expect_rc 2 "a /4294967320 prefix is refused, not wrapped to /24" \
	"network.subnet: '10.0.0.0/4294967320' is not an IPv4 prefix a.b.c.d/8..30"
jq '.nodes[2].ifname = "a/b"' "$SCEN" >"$TMP/ifname.json"
cli validate "$TMP/ifname.json"
expect_rc 2 "an interface name with '/' is refused with its position" \
	"$TMP/ifname.json:23:7: nodes[2].ifname: 'a/b' has '/' at byte 2"

# ---- plot: hostile labels never reach gnuplot as commands --------------------------
CSV='chain_length,probes,received,lost,loss_pct,mean_us,sem_us,median_us,p99_us,min_us,max_us
0,100,100,0,0,300,2,300,310,290,320
2,100,100,0,0,400,2,400,410,390,420'
mkdir -p "$TMP/plot/runA"
printf '%s\n' "$CSV" >"$TMP/plot/runA/summary.csv"
# The scenario name the issue quotes: a newline, then a gnuplot command.
jq -n --arg s "a
system(\"touch $TMP/marker1\")
#" '{scenario: $s, backend: "netns", accelerator: "none"}' >"$TMP/plot/runA/summary.json"
# A directory name with quotes, a newline, a backquote, a backslash, $ and @.
HOSTILE="b'q\"x
system(\"touch marker2\")
#\`touch marker3\`\\z\$HOME @foo"
mkdir -p "$TMP/plot/$HOSTILE"
printf '%s\n' "$CSV" >"$TMP/plot/$HOSTILE/summary.csv"
echo '{"backend": "netns", "accelerator": "none"}' >"$TMP/plot/$HOSTILE/summary.json"
(cd "$TMP/plot" && timeout 60 "$BIN" plot -o out runA "$HOSTILE" >"$TMP/out" 2>"$TMP/err")
rc=$?
check "plot of both runs succeeds (status $rc)" [ "$rc" -eq 0 ]
# Checked after a plot that ran (an absent marker proves nothing otherwise).
if [ "$rc" -ne 0 ] || [ -e "$TMP/marker1" ] ||
	[ -n "$(find "$TMP" -name 'marker[23]' -print -quit)" ]; then
	fail "a label ran a command through gnuplot (or plot failed: status $rc)"
else
	ok "no label ran a command through gnuplot (no marker file)"
fi
check "fig6.png and fig6.svg are written" [ -s "$TMP/plot/out/fig6.png" ] && [ -s "$TMP/plot/out/fig6.svg" ]
if grep -qF 'asystem("touch' "$TMP/plot/out/fig6.svg" &&
	grep -qF "xsystem(\"touch marker2\")#\`touch marker3\`\\z\$HOME @foo" "$TMP/plot/out/fig6.svg"; then
	ok "both labels appear in the SVG, newlines dropped, the rest verbatim"
else
	fail "labels in the SVG"
fi

tap_done
