#!/usr/bin/env bash
# Ownership: teardown removes only what carries the run's mark, never by name.
# Decoys of every kind carry names the program would choose: namespaces,
# veth and bridge links (one with a forged alias), bpffs pin directories, a
# /run/cadeia-bench/<id>/ directory with a file in it, a libvirt log, and a
# persistent and a transient libvirt domain (the transient one with a forged
# <metadata> mark). They survive every command: `up` (whose id must avoid
# each kind), `down ID`, `down` of ids without a state file, `run` + Ctrl-C,
# `run` + kill -9 + `down`, and a bare `down`, which runs in a private mount
# namespace over fake run states so that no other live testbed is touched.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

plan 27
SMALL=tests/scenarios/cleanup-small.json
LONG=tests/scenarios/cleanup-long.json
TMP=$(mktemp -d /tmp/cbtO-ownership.XXXXXX)
QLOG=/var/log/libvirt/qemu
FORGED=00000000000000000000000000000000
# One id per kind of decoy: `up` is told to try these first and must skip
# every one. FREE is the id it must end up with.
K_NETNS=cbde01 K_LINK=cbde02 K_PIN=cbde03 K_DIR=cbde04 K_LOG=cbde05 K_PDOM=cbde06 K_TDOM=cbde07
KINDS="$K_NETNS $K_LINK $K_PIN $K_DIR $K_LOG $K_PDOM $K_TDOM"
FREE=cbde0f RUN_INT=cbde1f RUN_KILL=cbde2f
LIBVIRT=0
DECOYS=() # kind:name, checked by decoys_missing

teardown() {
	local d kind name

	stop_pids
	down_runs --force
	for d in "${DECOYS[@]}"; do
		kind=${d%%:*} name=${d#*:}
		case $kind in
		netns) ip netns del "$name" 2>/dev/null ;;
		link) ip link del "$name" 2>/dev/null ;;
		pin) rmdir "$PIN/$name" 2>/dev/null ;;
		dir) rm -rf "/run/cadeia-bench/$name" ;;
		log) rm -f "$QLOG/$name.log" ;;
		pdom) $V undefine "$name" >/dev/null 2>&1 ;;
		tdom) $V destroy "$name" >/dev/null 2>&1 ;;
		esac
		# libvirt's log of a decoy domain would keep its id in use.
		case $kind in pdom | tdom) rm -f "$QLOG/$name.log" ;; esac
	done
	rm_tmp
}
trap teardown EXIT

need_built "$B"
need_tools jq unshare virsh
[ "$(id -u)" -eq 0 ] || die "runs as root (namespaces, BPF, libvirt)"
timeout 20 $V version >/dev/null 2>&1 && LIBVIRT=1
check "libvirt answers on qemu:///system (for the domain decoys)" [ $LIBVIRT -eq 1 ]

# decoy KIND NAME [ID]: creates one decoy; ID: the run whose mark a forged one imitates.
decoy() {
	local kind=$1 name=$2 id=${3:-cbffff} peer=

	case $kind in
	netns) ip netns add "$name" ;;
	link) peer=${name}p
		ip link add "$name" type veth peer name "$peer" &&
		ip link set "$name" alias "cadeia-bench:$id:$FORGED" ;;
	bridge) kind=link; ip link add "$name" type bridge ;;
	pin) mkdir -p "$PIN" && mkdir "$PIN/$name" ;;
	dir) mkdir -p "/run/cadeia-bench/$name" && echo decoy >"/run/cadeia-bench/$name/keep" ;;
	log) mkdir -p "$QLOG" && echo decoy >"$QLOG/$name.log" ;;
	pdom) [ $LIBVIRT -eq 1 ] || return 0
		$V define /dev/stdin >/dev/null <<EOF
<domain type='qemu'><name>$name</name><memory unit='MiB'>16</memory>
<os><type arch='x86_64'>hvm</type></os></domain>
EOF
		;;
	tdom) [ $LIBVIRT -eq 1 ] || return 0
		$V create /dev/stdin >/dev/null <<EOF
<domain type='qemu'><name>$name</name><memory unit='MiB'>16</memory>
<metadata><cb:owner xmlns:cb='urn:x-cadeia-bench:owner'>cadeia-bench:$id:$FORGED</cb:owner></metadata>
<os><type arch='x86_64'>hvm</type></os><on_poweroff>destroy</on_poweroff></domain>
EOF
		;;
	esac || die "create decoy $kind $name"
	DECOYS+=("$kind:$name")
	[ -z "$peer" ] || DECOYS+=("link:$peer")
}

# decoys_missing: the decoys that are gone, " kind:name" each.
decoys_missing() {
	local d kind name missing=""

	for d in "${DECOYS[@]}"; do
		kind=${d%%:*} name=${d#*:}
		case $kind in
		netns) ip netns list | awk '{print $1}' | grep -qx "$name" ;;
		link) ip link show "$name" >/dev/null 2>&1 ;;
		pin) [ -d "$PIN/$name" ] ;;
		dir) [ -f "/run/cadeia-bench/$name/keep" ] ;;
		log) [ -f "$QLOG/$name.log" ] ;;
		pdom) $V dominfo "$name" >/dev/null 2>&1 ;;
		tdom) [ "$($V domstate "$name" 2>/dev/null)" = running ] ;;
		esac || missing="$missing $d"
	done
	echo "$missing"
}

check_decoys() { check_decoys_missing "$1" "$(decoys_missing)"; }

# decoys_of ID: a decoy of every kind named after run ID, with names the
# program would choose for its nodes (sf9 is one more SF).
decoys_of() {
	decoy netns "$1-sf9"
	decoy link "$1-sf9" "$1"
	decoy bridge "$1-br9"
	decoy pin "$1-sf9"
	decoy log "$1-sf9"
	decoy pdom "$1-sf8"
	decoy tdom "$1-sf9" "$1"
}

own_left() { leftovers "$1" state fn pin | grep -v -e "-sf9" -e "-br9"; leftovers "$1" netns link |
	grep -v -e "^$1-sf9" -e "^$1-br9"; }

# ---- up: the id avoids a decoy of each kind ----------------------------------------
decoy netns "$K_NETNS-src"
decoy link "$K_LINK-sf1" "$K_LINK"
decoy pin "$K_PIN-sf1"
decoy dir "$K_DIR"
decoy log "$K_LOG-src"
decoy pdom "$K_PDOM-src"
decoy tdom "$K_TDOM-src" "$K_TDOM"
mkdir -p "$TMP/up"
export CADEIA_BENCH_TRY_IDS="${KINDS// /,},$FREE"
bench_up "$TMP/up" 2 "$SMALL"
check "up exits 0 with a run id (exit $UP_RC)" [ $UP_RC -eq 0 ]
check "up skips the ids a decoy of any kind carries: got $UP_ID, want $FREE" [ "$UP_ID" = "$FREE" ]
mark="cadeia-bench:$FREE:$(jq -r .nonce /run/cadeia-bench/$FREE.json 2>/dev/null)"
check "the run's bridge carries its mark as alias" \
	[ "$(cat /sys/class/net/$FREE-br/ifalias 2>/dev/null)" = "$mark" ]
check "the run's directory records the inode of netns $FREE-src" \
	[ "$(cat /run/cadeia-bench/$FREE/netns-$FREE-src 2>/dev/null)" = "$(stat -L -c '%d:%i' /run/netns/$FREE-src 2>/dev/null)" ]
decoys_of "$FREE"
check "status calls the run up" [ "$($B status --json | jq -r --arg id "$FREE" '.[] | select(.id == $id) | .state')" = up ]

# ---- down ID ---------------------------------------------------------------------------
check "down $FREE exits 0" bash -c "$B down $FREE >'$TMP/down-free' 2>&1"
check_gone "$(own_left "$FREE")" "down $FREE: nothing of the run is left" "down $FREE: left behind"
check_decoys "up and down $FREE"

# ---- down of ids that have no state ------------------------------------------------------
rcs=""
for id in $KINDS; do
	$B down "$id" >"$TMP/down-$id" 2>&1
	rcs="$rcs $?"
done
check "down of each decoy's id (no state file) fails:$rcs" bash -c "! grep -qw 0 <<<'$rcs'"
check "down of an id that never existed fails with 'no run'" \
	bash -c "! $B down cbdeff >'$TMP/down-never' 2>&1 && grep -q 'no run cbdeff' '$TMP/down-never'"
check_decoys "down of ids without state"

# ---- run + Ctrl-C ----------------------------------------------------------------------------
# run_with_decoys NAME ID: `run` of LONG as ID in the background, decoys of
# ID once it has its state, then measuring; 0 when all that happened.
run_with_decoys() {
	mkdir -p "$TMP/$1"
	CADEIA_BENCH_TRY_IDS=$2 $B run --quiet --results "$TMP/$1/res" "$LONG" </dev/null \
		>"$TMP/$1/stdout" 2>"$TMP/$1/stderr" &
	RUN_PID=$!
	PIDS+=($RUN_PID)
	RUNS+=("$2")
	[ "$(run_id_of $RUN_PID)" = "$2" ] || return 1
	decoys_of "$2"
	wait_measuring "$2" 60
}

check "run as $RUN_INT measures, with decoys of its id beside it" run_with_decoys sigint $RUN_INT
kill -INT $RUN_PID
wait $RUN_PID
rc=$?
PIDS=()
check "run + Ctrl-C: exit status 3 (got $rc)" [ $rc -eq 3 ]
check_gone "$(own_left $RUN_INT)" "run + Ctrl-C: nothing of the run is left" "run + Ctrl-C: left behind"
check_decoys "run + Ctrl-C"

# ---- run + kill -9, then down --------------------------------------------------------------------
check "run as $RUN_KILL measures, with decoys of its id beside it" run_with_decoys kill9 $RUN_KILL
kill -9 $RUN_PID
wait $RUN_PID 2>/dev/null
PIDS=()
check "run + kill -9: status calls it orphaned" \
	[ "$($B status --json | jq -r --arg id $RUN_KILL '.[] | select(.id == $id) | .state')" = orphaned ]
check "run + kill -9: down $RUN_KILL exits 0" bash -c "$B down $RUN_KILL >'$TMP/down-kill9' 2>&1"
check_gone "$(own_left $RUN_KILL)" "run + kill -9 + down: nothing of the run is left" "run + kill -9 + down: left behind"
check_decoys "run + kill -9 + down"

# ---- a bare down, over fake run states in a private /run/cadeia-bench ---------------------------------
# OTHER: `up` of another uid; ORPHAN: a run whose owner is gone; REUSED: a
# run whose pid now belongs to another process (this shell: another start
# time); MINE: an `up` of the caller. Decoys named after each survive.
OTHER=cbde30 ORPHAN=cbde31 REUSED=cbde32 MINE=cbde33
for id in $OTHER $ORPHAN $REUSED $MINE; do decoy netns "$id-src"; done
sleep 0 & dead=$!
wait $dead
unshare -m --propagation private bash -c '
	mount -t tmpfs cbtO-state /run/cadeia-bench || exit 90
	st() { printf "{\"id\":\"%s\",\"nonce\":\"%s\",\"pid\":%s,\"pid_start\":1,\"uid\":%s,\"command\":\"%s\",\"nodes\":[],\"functions\":[]}\n" \
		"$1" 0123456789abcdef0123456789abcdef "$2" "$3" "$4" >/run/cadeia-bench/$1.json; }
	st '$OTHER' 0 4242 up; st '$ORPHAN' '$dead' 0 run; st '$REUSED' $$ 0 run; st '$MINE' 0 0 up
	"$1" status --json >"$2/status.json"
	"$1" down >"$2/down.out" 2>&1
	echo $? >"$2/down.rc"
	ls /run/cadeia-bench >"$2/left"
' _ "$B" "$TMP"
check "bare down exits 0 (got $(cat "$TMP/down.rc" 2>/dev/null))" [ "$(cat "$TMP/down.rc" 2>/dev/null)" = 0 ]
check "bare down keeps the up run of another uid" grep -qx "$OTHER.json" "$TMP/left"
check "bare down removes the run whose owner is gone and the caller's up run" \
	bash -c "! grep -qE '$ORPHAN|$MINE' '$TMP/left'"
check "a reused pid (other start time) is no owner: status says orphaned, bare down removes it" \
	bash -c "jq -e '.[] | select(.id == \"$REUSED\") | .state == \"orphaned\"' '$TMP/status.json' >/dev/null && ! grep -q $REUSED '$TMP/left'"
check_decoys "bare down"
check "the fake states never reached the real /run/cadeia-bench" \
	bash -c "! ls /run/cadeia-bench/$OTHER.json /run/cadeia-bench/$MINE.json 2>/dev/null | grep -q ."
tap_done
