#!/usr/bin/env bash
# `make bench`: runs each benchmark in turn, results under results/.
# One step per benchmark; add yours as a line below.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
mkdir -p results

step() { echo "=== $*"; "$@"; }

step "$BUILD"/bench/bench_stages
step "$BUILD"/bench/bench_netns
step "$BUILD"/bench/bench_floor
step tests/bench/bench_vm.sh
