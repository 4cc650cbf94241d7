#!/usr/bin/env bash
# The docs point at files that exist.
#
# 1. docs/architecture.md's "Where to change what" table names at least 20
#    paths, and every one of them exists (`<x>` stands for any name).
# 2. README.md's "Layout" table names folders that exist, and names every
#    folder of testbed/.
# 3. No stale pointer: the old flat names (virt/virt.c, lab_check.c,
#    lab_bpf.c, a bare node_stages) are gone from both.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
plan 5

# The backticked paths of one markdown section, one per line.
section_paths() { # file heading
	awk -v h="$2" '/^## /{on = ($0 == h)} on' "$1" |
		grep -o '`[^`]*`' | tr -d '`' |
		grep -E '^(stages|testbed|tests|docs|images|scenarios)/' | sort -u
}

# Exists, reading <x> as any name: one match is enough.
exists() {
	local pat=$1 m

	shopt -s nullglob
	while [[ $pat == *"<"*">"* ]]; do pat=${pat%%<*}*${pat#*>}; done
	for m in $pat; do [ -e "$m" ] && return 0; done
	return 1
}

paths=$(section_paths docs/architecture.md "## Where to change what")
n=$(printf '%s\n' "$paths" | grep -c .)
check "the 'where to change what' table names $n paths (at least 20)" test "$n" -ge 20
missing=$(for p in $paths; do exists "$p" || echo "$p"; done)
check "every path of the table exists${missing:+ (missing: $(echo $missing))}" test -z "$missing"

layout=$(section_paths README.md "## Layout" | sed 's:/$::')
missing=$(for p in $layout; do [ -d "$p" ] || [ -e "$p" ] || echo "$p"; done)
check "README's Layout names $(echo "$layout" | grep -c .) paths, all present${missing:+ (missing: $(echo $missing))}" \
	test -n "$layout" -a -z "$missing"
unlisted=$(for d in testbed/*/; do d=${d%/}; grep -qx "$d" <<<"$layout" || echo "$d"; done)
check "README's Layout names every testbed/ folder${unlisted:+ (not: $(echo $unlisted))}" test -z "$unlisted"

stale=$(grep -nE 'virt/virt\.c|lab_check\.c|lab_bpf\.c|(^|[^_])node_stages' docs/architecture.md README.md)
check "no stale pointer in docs/architecture.md or README.md${stale:+: $stale}" test -z "$stale"
tap_done
