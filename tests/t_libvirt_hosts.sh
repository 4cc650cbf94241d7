#!/usr/bin/env bash
# Guests on two hosts (libvirt backend, backend/lv_hosts.h), on this machine:
# h1 is qemu:///system, h2 is qemu+ssh://root@127.0.0.1:PORT/system through an
# sshd the test starts with a key made for it (tests/ssh.sh). A chain of 2,
# src and sf2 and dest on h1, sf1 on h2: sf1's guest is created through h2's
# own connection, after the project's agent answered its version over ssh,
# made h2's bridge and VXLAN device (hostnet up, in this machine's root
# namespace: h2 *is* this machine) and the guest image went into h2's
# storage pool through the storage API; h1's network is emulated in a
# namespace, its guests' taps moved there; the bridges meet over VXLAN.
# `cadeia-bench run` must answer every probe at lengths 0 and 2; a second
# run sends the image no more (same digest); nothing of either run is left;
# after kill -9 of a third, `down` reaches h2 over ssh as well; neither the
# sshd nor its keys stay.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh
. tests/ssh.sh

TMP=$(mktemp -d /tmp/cbtP-lvhosts.XXXXXX)
RES=$TMP/results
mkdir -p "$RES"
POOL_DIR=/var/lib/cadeia-bench/images
# The image pool is the project's cache of uploads; one this test made goes with it.
HAD_POOL=$(virsh -q pool-list --all --name 2>/dev/null | grep -cx cadeia-bench)
teardown() {
	stop_pids
	down_runs
	ssh_stop
	if [ "$HAD_POOL" = 0 ]; then
		for v in $(virsh -q vol-list cadeia-bench 2>/dev/null | awk '{print $1}'); do
			virsh -q vol-delete --pool cadeia-bench "$v" >/dev/null 2>&1
		done
		virsh -q pool-destroy cadeia-bench >/dev/null 2>&1
		virsh -q pool-delete cadeia-bench >/dev/null 2>&1
		virsh -q pool-undefine cadeia-bench >/dev/null 2>&1
		rmdir /var/lib/cadeia-bench 2>/dev/null
	fi
	rm_tmp
}
trap teardown EXIT

plan 16
need_built "$B"
need_tools ssh ssh-keygen virsh ss jq sha256sum
[ -x /usr/sbin/sshd ] || die "openssh-server is installed (make deps)"
make -s BUILD="${BUILD:-build}" image >"$TMP/image.log" 2>&1 || die "make image ($(tail -n 1 "$TMP/image.log"))"
IMG=${BUILD:-build}/image

ssh_start "$TMP" || die "sshd starts on 127.0.0.1 ($(tail -n 1 "$TMP/sshd.log" 2>/dev/null))"
check "sshd on 127.0.0.1:$SSH_PORT takes the test's key" \
	ssh -F "$TMP/ssh_config" -o BatchMode=yes -p "$SSH_PORT" root@127.0.0.1 -- true
export CADEIA_SSH_CONFIG=$TMP/ssh_config CADEIA_REMOTE_BENCH=$PWD/$B

# scenario NAME LENGTHS: the two-host chain of 2.
scenario() {
	jq -n --arg name "$1" --arg uri "$SSH_URI" --argjson lengths "[$2]" '{
		name: $name, backend: "libvirt", defaults: { function: "kwire" },
		hosts: [ { name: "h1", uri: "qemu:///system", address: "192.168.77.1" },
			 { name: "h2", uri: $uri, address: "192.168.77.2" } ],
		underlay: { mtu: 1650 },
		nodes: [ { name: "src", role: "src", host: "h1" }, { name: "dest", role: "dest", host: "h1" },
			 { name: "sf1", role: "sf", host: "h2" }, { name: "sf2", role: "sf", host: "h1" } ],
		chains: [ { name: "c", spi: 10, dest: "dest", sfs: ["sf1", "sf2"] } ],
		sweep: { lengths: $lengths },
		measure: { rounds: 2, per_round: 20, rate_pps: 100, warmup: 3, grace_ms: 500 } }' >"$TMP/$1.json"
}
scenario vmhosts "0, 2"
scenario vmhosts-again "2"
scenario vmhosts-kill "0, 1, 2"
jq '.measure.rounds = 50' "$TMP/vmhosts-kill.json" >"$TMP/k.json" && mv "$TMP/k.json" "$TMP/vmhosts-kill.json"

# run NAME: `cadeia-bench run`; its result directory in D, its id in ID.
run() {
	local rc

	D= ID=
	mkdir -p "$TMP/$1"
	$B run --quiet --results "$RES/$1" "$TMP/$1.json" </dev/null >"$TMP/$1/stdout" 2>"$TMP/$1/stderr"
	rc=$?
	one_result_dir "$RES/$1"/*/ || return 1
	ID=$(jq -r .run_id "$D/meta.json")
	RUNS+=("$ID")
	return $rc
}

# jqf FILTER FILE: FILTER is true on FILE (quietly).
jqf() { jq -e "$1" "$2" >/dev/null; }

# left ID: nothing of run ID is left (domains, namespaces, links, pins, state, functions).
left() {
	[ -n "$1" ] && [ -z "$(virsh -q -c qemu:///system list --all --name | grep "^$1-")" ] &&
		[ -z "$(leftovers "$1" netns link pin state fn)" ]
}

if run vmhosts; then
	ok "cadeia-bench run: 4 guests on 2 hosts (run $ID)"
else
	fail "cadeia-bench run: $(tail -n 2 "$TMP/vmhosts/stderr" | tr '\n' ' ')"
fi
S=${D:-/nonexistent}
check "every probe answered at lengths 0 and 2" \
	jqf '[.chains[0].points[] | select(.lost == 0 and .probes > 0)] | length == 2' "$S/summary.json"
check "meta.json: sf1 on h2, src, sf2 and dest on h1" \
	jqf '.testbed.hosts.node_host == {"src": "h1", "dest": "h1", "sf1": "h2", "sf2": "h1"}' "$S/meta.json"
check "h2's bridge and VXLAN device came from the project's agent over ssh; h1's network is emulated" \
	jqf '.testbed.hosts.hosts | .[1].network == "hostnet agent over ssh" and .[0].network == "emulated (netns)"' "$S/meta.json"
kvol=$(jq -r '.testbed.hosts.images.h2.kernel // empty' "$S/meta.json" 2>/dev/null)
ivol=$(jq -r '.testbed.hosts.images.h2.initrd // empty' "$S/meta.json" 2>/dev/null)
same() { [[ "$1" == $POOL_DIR/image-* ]] && [ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]; }
check "h2's kernel went through the storage API into pool cadeia-bench (${kvol:-none}), same SHA-256 as $IMG/vmlinuz" \
	same "$kvol" "$IMG/vmlinuz"
check "h2's initrd too (${ivol:-none})" same "$ivol" "$IMG/initrd.img"
check "libvirt lists both volumes in h2's pool, over ssh" \
	bash -c "virsh -q -c '$SSH_URI' vol-list cadeia-bench >'$TMP/vols' && grep -qF '${kvol##*/}' '$TMP/vols' && grep -qF '${ivol##*/}' '$TMP/vols'"
check "nothing of run ${ID:-?} is left" left "$ID"

if run vmhosts-again; then
	ok "a second run on the same hosts (run $ID)"
else
	fail "a second run: $(tail -n 2 "$TMP/vmhosts-again/stderr" | tr '\n' ' ')"
fi
S=${D:-/nonexistent}
check "the second run sends no image: h2 holds the same digests" \
	jqf '.testbed.hosts.images.h2 | .kernel_uploaded == false and .initrd_uploaded == false' "$S/meta.json"
check "nothing of run ${ID:-?} is left" left "$ID"

# kill -9 while measuring: `down` reaches h2 over ssh too.
bench_run_bg vmhosts-kill "$TMP/vmhosts-kill.json"
pid=$RUN_PID
if ID=$(run_id_of "$pid") && wait_measuring "$ID" 240; then
	RUNS+=("$ID")
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	PIDS=()
	ok "kill -9 of run $ID while it measures"
	check "down $ID exits 0 and reaches h2 over ssh (hostnet down there)" \
		bash -c "$B down $ID >'$TMP/kill-down.log' 2>&1 && grep -q \"removed run $ID's links on 127.0.0.1 (hostnet down)\" '$TMP/kill-down.log'"
	check "nothing of run $ID is left on either host" left "$ID"
else
	fail "kill -9: run $pid measured within 240 s ($(tail -n 2 "$TMP/vmhosts-kill/stderr" | tr '\n' ' '))"
	fail "kill -9: (no run)"
	fail "kill -9: (no run)"
fi

ssh_stop
check "sshd is stopped and the test's keys are gone" ssh_gone
tap_done
