#!/usr/bin/env bash
# The full figure-6 sweep on VMs (scenarios/chain8-vm.json: 10 guests, lengths
# 0..8, the paper's method). Prints the per-SF slope, R², chain-0 RTT, the
# testbed's boot-to-ready time and peak memory per guest; writes
# results/bench-vm.json (the previous one kept as bench-vm.prev.json).
# BENCH_VM_SCENARIO overrides the scenario.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SCEN=${BENCH_VM_SCENARIO:-scenarios/chain8-vm.json}
out=results/bench-vm.json

make -s image >/dev/null
mkdir -p results/bench-runs
start=$(date +%s.%N)
"$BUILD"/cadeia-bench run --json --quiet --results results/bench-runs "$SCEN" >/tmp/bench-vm.$$.json
wall=$(echo "$(date +%s.%N) - $start" | bc)
dir=$(jq -r .results /tmp/bench-vm.$$.json)
rm -f /tmp/bench-vm.$$.json
[ -f "$out" ] && mv "$out" results/bench-vm.prev.json

jq -n --slurpfile s "$dir/summary.json" --slurpfile m "$dir/meta.json" --arg dir "$dir" \
	--argjson wall "$wall" '
	($s[0].chains[0]) as $c |
	($c.points | map(select(.chain_length == 0))[0]) as $p0 |
	($m[0].testbed.guest_memory // {} | to_entries | map(.value.peak_kib)) as $peaks |
	{
	  run: $dir, accelerator: $m[0].accelerator, status: $m[0].status,
	  slope_mean_us: $c.fit.slope_us, r2_mean: $c.fit.r2,
	  slope_mean_ci95_us: $c.fit.slope_ci95_us,
	  slope_median_us: $c.fit_median.slope_us, r2_median: $c.fit_median.r2,
	  slope_median_ci95_us: $c.fit_median.slope_ci95_us,
	  tcg_tb_flushes_max: ($m[0].testbed.tcg_tb_flushes // {} | [.[]] | max),
	  sweep_ratio: ($m[0].schedule.sweeps[0].ratio // null),
	  chain0_mean_us: $p0.mean_us, chain0_median_us: $p0.median_us,
	  slope_over_chain0: ($c.fit_median.slope_us / $p0.median_us),
	  boot_to_ready_s: $m[0].testbed.boot_to_ready_s,
	  guests: ($peaks | length),
	  peak_memory_per_guest_mib_max: (if ($peaks|length) > 0 then ($peaks | max / 1024) else null end),
	  peak_memory_per_guest_mib_mean: (if ($peaks|length) > 0 then ($peaks | add / length / 1024) else null end),
	  wall_s: $wall,
	  paper_slope_us: 200
	}' >"$out"

jq -r '"VM benchmark (\(.accelerator)), \(.run)",
	"  per-SF slope (means):   \(.slope_mean_us | . * 10 | round / 10) us [95% CI \(.slope_mean_ci95_us // [] | map(. * 10 | round / 10) | join(", "))], R^2 \(.r2_mean | . * 1000 | round / 1000)",
	"  per-SF slope (medians): \(.slope_median_us | . * 10 | round / 10) us [95% CI \(.slope_median_ci95_us // [] | map(. * 10 | round / 10) | join(", "))], R^2 \(.r2_median | . * 1000 | round / 1000)",
	"  TCG translation-cache flushes, most in one guest: \(.tcg_tb_flushes_max // "n/a"); sweep / probing time: \(.sweep_ratio // 0 | . * 100 | round / 100)",
	"  chain-0 RTT: mean \(.chain0_mean_us | round) us, median \(.chain0_median_us | round) us; slope / chain-0 = \(.slope_over_chain0 | . * 100 | round / 100)",
	"  paper (KVM): ~200 us per SF; ratio to it: \(.slope_median_us / .paper_slope_us | . * 100 | round / 100)",
	"  boot to ready, whole testbed: \(.boot_to_ready_s | . * 10 | round / 10) s for \(.guests) guests",
	"  peak memory per guest: max \(.peak_memory_per_guest_mib_max | round) MiB, mean \(.peak_memory_per_guest_mib_mean | round) MiB",
	"  wall time: \(.wall_s | round) s"' "$out"
if [ -f results/bench-vm.prev.json ]; then
	jq -rn --slurpfile a results/bench-vm.prev.json --slurpfile b "$out" '
		"  against the previous run: slope \($a[0].slope_median_us | round) -> \($b[0].slope_median_us | round) us, boot \($a[0].boot_to_ready_s | round) -> \($b[0].boot_to_ready_s | round) s"'
fi
