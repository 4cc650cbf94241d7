#!/usr/bin/env bash
# Functions short enough to read in one screen (issue 10): no function of the
# product (testbed/, stages/loader/) is over 120 lines; those over 80 are listed
# as diagnostics, the aim being under 80. Tests and benches are not counted.
#
# The code is kernel style: a function's body opens with "{" at column 0 and
# closes with "}" at column 0; its length counts from the signature's first
# line to the closing brace.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
plan 3

MAX=120
AIM=80

# "<lines> <file>:<line> <name>", one row per function of the files given.
funclen() {
	awk '
	FNR == 1 { start = 0 }
	/^[A-Za-z_].*\(/ && !start {
		s = $0; sub(/\(.*/, "", s); n = split(s, w, /[ \t*]+/); name = w[n]; sig = FNR
	}
	/^\{/ && !start { start = FNR; next }
	/^\}/ && start { printf "%d %s:%d %s\n", FNR - sig + 1, FILENAME, sig, name; start = 0 }
	' "$@"
}

mapfile -t srcs < <(find testbed stages/loader -name '*.c' | sort)
rows=$(funclen "${srcs[@]}") || rows=
nfn=$(printf '%s\n' "$rows" | grep -c .)
check "scanned ${#srcs[@]} files, $nfn functions (at least 300)" test "$nfn" -ge 300

# The counter itself: a 4-line function and a 130-line one whose type stands on a line of its own.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	printf 'static int small(int a)\n{\n\treturn a;\n}\n\n'
	printf 'static void\nbig(void)\n{\n'
	for i in $(seq 127); do printf '\t(void)%d;\n' "$i"; done
	printf '}\n'
} >"$tmp/x.c"
got=$(funclen "$tmp/x.c" | sed "s:$tmp/::" | tr '\n' ' ')
check "the counter reads '4 x.c:1 small' and '130 x.c:7 big' (got: $got)" \
	test "$got" = "4 x.c:1 small 130 x.c:7 big "

over=$(printf '%s\n' "$rows" | awk -v m=$MAX '$1 > m' | sort -rn)
printf '%s\n' "$rows" | awk -v a=$AIM -v m=$MAX '$1 > a && $1 <= m' | sort -rn |
	sed 's/^/# over '$AIM': /'
check "no function over $MAX lines${over:+: $(echo $over)}" test -z "$over"
tap_done
