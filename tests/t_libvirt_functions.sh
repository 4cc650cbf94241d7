#!/usr/bin/env bash
# The functions that act on the traffic on the libvirt backend, under TCG:
# `cadeia-bench run --backend libvirt` of src -> firewall -> nat -> monitor
# -> dest at lengths 0 and 3, ping and a 2-second iperf3 per length. The run
# completes; summary.json has the goodput of both lengths at full MSS; both
# figures are drawn; flows.csv, brought back from the monitor's guest, holds
# the TCP and ICMP flows as the NAT rewrote them; nothing of the run is left.
# (Each function's effect is proved on the wire by tests/t_functions.sh on
# netns; this one proves the same code runs in the guests.)
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

TMP=$(mktemp -d /tmp/cbtP-vmfn.XXXXXX)
RES=$TMP/results
NAT=10.201.0.251 # node 3 of 10.201.0.0/24 (scenarios/README.md, nat_address)

teardown() {
	local id

	stop_pids
	down_runs --force
	for id in "${RUNS[@]}"; do
		rm -f /var/log/libvirt/qemu/$id-*.log
	done
	rm_tmp
}
trap teardown EXIT

plan 11
need_built "$B"
need_tools virsh jq
make_image "$TMP/image.log"

jq '.name = "vm-functions" | .backend = "libvirt" | .sweep = {"lengths": [0, 3]}
    | .measure = {"rate_pps": 100, "rounds": 2, "per_round": 20, "warmup": 2, "grace_ms": 500}
    | .throughput = {"seconds": 2, "streams": 1}' scenarios/functions.json >"$TMP/vm-functions.json"

$B run --quiet --results "$RES" "$TMP/vm-functions.json" </dev/null >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
check "run --backend libvirt of the functions chain exits 0 (got $rc)" test $rc -eq 0
[ $rc -eq 0 ] || diag "$(tail -n 3 "$TMP/stderr")"
if one_result_dir "$RES"/vm-functions-*; then
	ok "one results directory, $(basename "$D")"
	RUNS+=("$(jq -r .run_id "$D/meta.json")")
else
	D=$TMP/none
	fail "one results directory (found: $(echo "$RES"/vm-functions-*))"
fi
check "summary.json: iperf3 goodput at lengths 0 and 3" \
	test "$(jq -c '[.throughput[] | .chain_length]' "$D/summary.json" 2>/dev/null)" = "[0,3]"
check "summary.json: TCP through firewall, nat and monitor in guests moves data at MSS 1448" \
	test "$(jq '.throughput[] | select(.chain_length == 3) | .goodput_mbps > 0 and .mss == 1448' "$D/summary.json" 2>/dev/null)" = true
check "summary.csv has the TCP columns" \
	bash -c "head -n 1 '$D/summary.csv' | grep -q ',goodput_mbps,retransmits,cpu_s_per_gb$'"
check "plots/throughput.png, .svg and fig6.png are drawn" \
	test -s "$D/plots/throughput.png" -a -s "$D/plots/throughput.svg" -a -s "$D/plots/fig6.png"
check "flows.csv came back from the monitor's guest with iperf3's flow from the NAT address" \
	test "$(awk -F, -v s=$NAT '$2 == "mon" && $3 == 6 && $4 == s && $7 == 5201 && $8 > 100' "$D/flows.csv" 2>/dev/null | wc -l)" -ge 1
check "flows.csv has the probes' ICMP flow, translated too" \
	test "$(awk -F, -v s=$NAT '$3 == 1 && $4 == s' "$D/flows.csv" 2>/dev/null | wc -l)" -ge 1
id=${RUNS[0]:-none}
check "no domain of run $id is left" bash -c "! $V list --all --name | grep -q '^$id-'"
check_gone "$(leftovers "$id" netns link state)" "no link, namespace or state of run $id is left" \
	"left behind by run $id"
tap_done
