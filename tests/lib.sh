# Helpers shared by the tests/t_*.sh integration tests. Source it after
# tests/tap.sh, from the top of the checkout. Globals the helpers keep:
# RUNS (run ids to `down` at teardown), PIDS (orchestrators to interrupt),
# CAP_PIDS/CAP_LOGS (running tcpdumps and their stderr files).
B=${BUILD:-build}/cadeia-bench
S=${BUILD:-build}/cadeia-stage
IMG=${BUILD:-build}/image
PIN=/sys/fs/bpf/cadeia
QEMU=qemu-system-x86_64
V="virsh -q -c qemu:///system"
RUNS=()
PIDS=()
CAP_PIDS=()
CAP_LOGS=()

die() { fail "$*"; tap_done; exit 1; }

# need_built FILE...: dies unless every FILE is an executable we built.
need_built() {
	local f

	for f; do
		[ -x "$f" ] && continue
		[ $# -eq 1 ] && die "$1 is built"
		die "$(sed 's/ \([^ ]*\)$/ and \1/' <<<"$*") are built"
	done
}

# need_tools TOOL...: dies naming the first TOOL not on PATH.
need_tools() {
	local t

	for t; do
		command -v "$t" >/dev/null || die "$t is installed"
	done
}

# Where the testbed puts node i (0-based) of a scenario, per scenarios/README.md.
mac_of() { printf '02:cb:00:00:%02x:%02x' $((($1 + 1) >> 8)) $((($1 + 1) & 255)); }
ip_of() { echo "10.201.0.$(($1 + 1))"; }

# ---- teardown -----------------------------------------------------------------

# down_runs [OPTION...]: `cadeia-bench down` each run of RUNS still recorded.
down_runs() {
	local id

	for id in "${RUNS[@]}"; do
		[ -e /run/cadeia-bench/$id.json ] && $B down "$@" "$id" >/dev/null 2>&1
	done
}

# stop_pids: SIGINT each process of PIDS and reap it.
stop_pids() {
	local pid

	for pid in "${PIDS[@]}"; do
		kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	PIDS=()
}

# rm_tmp: removes $TMP, unless KEEP_TMP asks to keep it for a post-mortem.
rm_tmp() {
	if [ -n "${KEEP_TMP:-}" ]; then diag "kept $TMP"; else rm -rf "$TMP"; fi
}

# teardown_runs: the whole teardown of a test that only makes `up` runs and captures.
teardown_runs() {
	stop_captures
	down_runs
	rm_tmp
}

# ---- captures -----------------------------------------------------------------

# capture_bg LOG COMMAND...: a capture in the background, stderr to LOG.
capture_bg() {
	local log=$1

	shift
	"$@" 2>"$log" &
	CAP_PIDS+=($!)
	CAP_LOGS+=("$log")
}

# capture DIR NAME IFACE [SNAPLEN]: one tcpdump per direction of IFACE, into
# DIR/NAME.in.pcap and DIR/NAME.out.pcap (-Q in: frames IFACE received).
capture() {
	local dir=$1 name=$2 dev=$3 snap=${4:-256} q

	for q in in out; do
		capture_bg "$dir/$name.$q.err" tcpdump -i "$dev" -Q $q --immediate-mode -U -n \
			-s "$snap" --time-stamp-precision=nano -w "$dir/$name.$q.pcap"
	done
}

# capture_wait: 0 once every capture started says it is listening (5 s at most).
capture_wait() {
	local i

	[ ${#CAP_LOGS[@]} -gt 0 ] || return 0
	for i in $(seq 50); do
		[ "$(grep -l 'listening on' "${CAP_LOGS[@]}" 2>/dev/null | wc -l)" -eq ${#CAP_LOGS[@]} ] && return 0
		sleep 0.1
	done
	return 1
}

# stop_captures: SIGINT makes tcpdump flush what it buffered.
stop_captures() {
	local pid

	for pid in "${CAP_PIDS[@]}"; do
		kill -INT "$pid" 2>/dev/null
	done
	for pid in "${CAP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	CAP_PIDS=()
	CAP_LOGS=()
}

# ---- frames on the wire ---------------------------------------------------------

# The table decode writes, a row per ICMP or NSH frame (outer and inner
# Ethernet; inner empty without NSH; ttl in decimal). sel and expect read
# FRAME_COLS, so a script with its own decoder can name its columns.
FRAME_COLS="port dir time spi si ttl osrc odst isrc idst type ident seq ipsrc ipdst"

# decode DIR [PROTO...]: every DIR/<port>.<dir>.pcap into DIR/frames.tsv, and
# any frame that is neither ICMP nor NSH nor one of PROTO into DIR/stray.txt.
# One tshark pass per capture. A tshark that fails (or no capture at all)
# leaves DIR/decode.failed and a line in stray.txt: sel, expect and a
# "no stray frame" check then fail instead of finding nothing; status 1.
decode() {
	local dir=$1 f port q rc=0

	shift
	: >"$dir/frames.tsv"
	: >"$dir/stray.txt"
	rm -f "$dir/decode.failed"
	for f in "$dir"/*.pcap; do
		if [ ! -r "$f" ]; then
			echo "no capture in $dir" >>"$dir/decode.failed"
			rc=1
			continue
		fi
		port=$(basename "$f" .pcap)
		q=${port##*.}
		port=${port%.*}
		tshark -r "$f" -T fields -E separator=/t -e frame.time_epoch \
			-e nsh.spi -e nsh.si -e nsh.ttl -e eth.src -e eth.dst -e icmp.type \
			-e icmp.ident -e icmp.seq -e ip.src -e ip.dst -e frame.protocols 2>"$dir/tshark.err" |
			awk -F'\t' -v OFS='\t' -v port="$port" -v q="$q" -v stray="$dir/stray.txt" -v quiet="$*" '
			BEGIN { n = split(quiet, a, " "); for (i = 1; i <= n; i++) skip[a[i]] = 1 }
			function hex(s,   i, c, v) {
				if (s == "") return ""
				sub(/^0[xX]/, "", s); v = 0
				for (i = 1; i <= length(s); i++) {
					c = index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
					v = v * 16 + c
				}
				return v
			}
			$12 !~ /:(icmp|nsh)(:|$)/ {
				n = split($12, p, ":")
				for (i = 1; i <= n; i++) if (p[i] in skip) next
				print port "." q ": " $5 " > " $6 " " $12 >>stray
				next
			}
			{
				split($5, s, ","); split($6, d, ",")
				print port, q, $1, $2, $3, hex($4), s[1], d[1], s[2], d[2], $7, $8, $9, $10, $11
			}' >>"$dir/frames.tsv"
		if [ "${PIPESTATUS[0]}" -ne 0 ]; then
			echo "tshark -r $f failed: $(head -c 300 "$dir/tshark.err")" >>"$dir/decode.failed"
			rc=1
		fi
	done
	[ -e "$dir/decode.failed" ] && cat "$dir/decode.failed" >>"$dir/stray.txt"
	return $rc
}

# sel DIR "col=val ..." ["col=val ..."]: "<matching> <not as wanted>", the rows
# of DIR/frames.tsv matching the first set and, among them, those differing
# from the second. The first unwanted row goes to DIR/mismatch. "-1 -1" when
# decode failed or there is no table: no count can pass then.
sel() {
	if [ -e "$1/decode.failed" ] || [ ! -r "$1/frames.tsv" ]; then
		cat "$1/decode.failed" >"$1/mismatch" 2>/dev/null
		echo -1 -1
		return 1
	fi
	awk -F'\t' -v where="$2" -v want="${3:-}" -v mm="$1/mismatch" -v cols="$FRAME_COLS" '
	BEGIN {
		split(cols, names, " ")
		for (i in names) col[names[i]] = i
		nw = split(where, w, " "); nq = split(want, q, " ")
		printf "" >mm
		# An unknown column would match nothing and pass a "no such frame" check.
		for (i = 1; i <= nw; i++) if (!(substr(w[i], 1, index(w[i], "=") - 1) in col)) unknown = 1
		for (i = 1; i <= nq; i++) if (!(substr(q[i], 1, index(q[i], "=") - 1) in col)) unknown = 1
		if (unknown) { print -1, -1; exit }
	}
	function holds(cond,   k) {
		k = index(cond, "=")
		return $(col[substr(cond, 1, k - 1)]) == substr(cond, k + 1)
	}
	{
		for (i = 1; i <= nw; i++) if (!holds(w[i])) next
		n++
		for (i = 1; i <= nq; i++) if (!holds(q[i])) { bad++; if (bad == 1) print >mm; break }
	}
	END { if (!unknown) print n + 0, bad + 0 }' "$1/frames.tsv"
}

# expect DIR DESC COUNT "where" ["want"]: exactly COUNT frames match, all as wanted.
expect() {
	local dir=$1 desc=$2 count=$3 n bad

	read -r n bad < <(sel "$dir" "$4" "${5:-}")
	if [ "$n" -eq "$count" ] && [ "$bad" -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc ($n frames, expected $count; $bad not as expected)"
		[ -s "$dir/mismatch" ] && diag "first unexpected frame: $(tr '\t' ' ' <"$dir/mismatch")"
	fi
}

# in_order DIR DST PATH: "<requests> <hops out of order or missing>" for the
# echo requests to DST in DIR/frames.tsv, a request being one ICMP id and seq.
# PATH lists, in the order each request must cross them, port.dir places, or
# port.dir.si where one port sees a request several times (si empty: no NSH).
in_order() {
	awk -F'\t' -v dst="$2" -v path="$3" '
	BEGIN { np = split(path, p, " "); for (i = 1; i <= np; i++) pos[p[i]] = i }
	$15 == dst && $11 == 8 {
		k = $1 "." $2 "." $5
		if (!(k in pos)) k = $1 "." $2
		if (!(k in pos)) next
		ts[$12 "/" $13, pos[k]] = $3; reqs[$12 "/" $13] = 1
	}
	END {
		for (r in reqs) { n++; for (i = 2; i <= np; i++)
			if (!((r, i) in ts) || !((r, i - 1) in ts) || ts[r, i] < ts[r, i - 1]) bad++ }
		print n + 0, bad + 0
	}' "$1/frames.tsv"
}

# ---- stage counters -------------------------------------------------------------

# counter JSON STAGE NAME: a counter of a `cadeia-stage stats --json` dump.
# A counter that is absent (or a dump that is not JSON) is an error, not 0:
# it prints "missing:STAGE.NAME", which no number compares equal to; status 1.
counter() {
	local v

	if v=$(jq -er ".counters.$2.$3 | numbers" "$1" 2>/dev/null); then
		echo "$v"
	else
		echo "missing:$2.$3"
		echo "# counter $2.$3: not in $1" >&2
		return 1
	fi
}
# counter_delta BEFORE AFTER STAGE.NAME: how much the counter grew
# ("missing:STAGE.NAME" and status 1 when either dump lacks it).
counter_delta() {
	local a b

	a=$(counter "$2" "${3%.*}" "${3#*.}") && b=$(counter "$1" "${3%.*}" "${3#*.}") ||
		{ echo "missing:$3"; return 1; }
	echo $((a - b))
}
# stage_stat NODE STAGE.NAME: a live counter of NODE ("missing:..." and status
# 1 when the stats cannot be read or lack it).
stage_stat() {
	local j

	j=$($S stats --node "$1" --json) || { echo "missing:$2"; return 1; }
	jq -er ".counters.$2 | numbers" <<<"$j" 2>/dev/null || { echo "missing:$2"; return 1; }
}
# stage_drops NODE STAGE: the sum of STAGE's drop_* counters on NODE.
stage_drops() {
	local j

	j=$($S stats --node "$1" --json) || { echo "missing:$2"; return 1; }
	jq -e "[.counters.$2 | to_entries[] | select(.key | startswith(\"drop\")) | .value] | add | numbers" \
		<<<"$j" 2>/dev/null || { echo "missing:$2.drop_*"; return 1; }
}

# ---- hand-built namespaces (tests of the stages alone) ----------------------------

# bridge_netns NS BRIDGE: netns NS holding bridge BRIDGE, up.
bridge_netns() {
	ip netns add "$1" || die "create netns $1"
	ip -n "$1" link add "$2" type bridge || die "create bridge"
	ip -n "$1" link set "$2" up
}

# bridged_host NAME NS BRNS BRIDGE PORT DEV MAC IP: netns NS, IPv6 off, whose
# veth DEV (MAC, IP/24) has its peer PORT on BRIDGE in BRNS. No learning, no
# flooding on PORT, a static FDB entry instead: a reflecting node would
# otherwise teach the bridge the sender's MAC on its own port (see the facts file).
bridged_host() {
	local name=$1 ns=$2 brns=$3 br=$4 port=$5 dev=$6 mac=$7 ip=$8

	ip netns add "$ns" || die "create netns $ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$brns" link add "$port" type veth peer name "$dev" netns "$ns" ||
		die "create veth for $name"
	ip -n "$ns" link set "$dev" address "$mac"
	ip -n "$ns" addr add "$ip/24" dev "$dev"
	ip -n "$ns" link set "$dev" up
	ip -n "$ns" link set lo up
	ip -n "$brns" link set "$port" master "$br"
	ip -n "$brns" link set "$port" up
	bridge -n "$brns" link set dev "$port" learning off flood off mcast_flood off bcast_flood off
	bridge -n "$brns" fdb add "$mac" dev "$port" master static
}

# port_capture NS IFACE NAME: tcpdump on IFACE in NS into $TMP/NAME.pcap, both
# directions (log $TMP/NAME.tcpdump.log).
port_capture() {
	capture_bg "$TMP/$3.tcpdump.log" ip netns exec "$1" tcpdump -U -n -i "$2" -w "$TMP/$3.pcap"
}

# port_captures_started: dies naming the first port_capture not listening.
port_captures_started() {
	local log

	capture_wait
	for log in "${CAP_LOGS[@]}"; do
		grep -q 'listening on' "$log" || die "tcpdump for $(basename "$log" .tcpdump.log) started"
	done
}

# classifier_rules FILE SRC_IP DST_IP SPI NEXT_HOP: rules classifying ICMP
# SRC_IP -> DST_IP into SPI, SI 255, towards NEXT_HOP.
classifier_rules() {
	cat >"$1" <<EOF
{ "classifier": [ { "src": "$2/32", "dst": "$3/32", "proto": "icmp",
                    "spi": $4, "si": 255, "next_hop": "$5" } ] }
EOF
}

# check_ping3 NS DST DESC: 3 pings from NS to DST, all answered.
check_ping3() {
	local rc

	ip netns exec "$1" ping -c 3 -i 0.2 -W 2 "$2" >"$TMP/ping.log" 2>&1
	rc=$?
	check "$3" grep -q '3 packets transmitted, 3 received' "$TMP/ping.log"
	[ $rc -eq 0 ] || diag "$(cat "$TMP/ping.log")"
}

# netns_del NS...: deletes each NS that exists.
netns_del() {
	local ns

	for ns; do
		ip netns del "$ns" 2>/dev/null
	done
}

# detach_nodes NODE...: detaches the stages of every NODE that still has pins.
detach_nodes() {
	local n

	for n; do
		[ -d "$PIN/$n" ] && $S detach --node "$n" >/dev/null 2>&1
	done
}

# tf NAME FILTER FIELDS...: FIELDS of the frames of $TMP/NAME.pcap matching
# FILTER. When tshark fails: nothing on stdout, why on stderr, status 1.
tf() {
	local h=$1 f=$2 out

	shift 2
	# occurrence=f: the outer Ethernet header when an inner one follows
	if ! out=$(tshark -r "$TMP/$h.pcap" -Y "$f" -T fields -E separator=' ' -E occurrence=f \
		"${@/#/-e}" 2>"$TMP/tf.err"); then
		echo "# tshark -r $TMP/$h.pcap -Y '$f' failed: $(head -c 300 "$TMP/tf.err")" >&2
		return 1
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}
# nsh_frames NAME: NSH frames of $TMP/NAME.pcap as
# "spi si ttl outer-dst outer-src next-proto icmp-type"; "tshark-failed"
# and status 1 when tshark fails.
nsh_frames() {
	local out spi si ttl rest

	out=$(tf "$1" "nsh" nsh.spi nsh.si nsh.ttl eth.dst eth.src nsh.nextproto icmp.type) ||
		{ echo tshark-failed; return 1; }
	[ -n "$out" ] || return 0
	while read -r spi si ttl rest; do
		echo "$spi $si $((ttl)) $rest" # TTL prints as a hex bitfield
	done <<<"$out"
}
# count NAME FILTER: how many frames of $TMP/NAME.pcap match FILTER;
# "tshark-failed" (no number: any numeric test of it fails) and status 1
# when tshark fails.
count() {
	local out

	out=$(tf "$1" "$2" frame.number) || { echo tshark-failed; return 1; }
	if [ -z "$out" ]; then echo 0; else wc -l <<<"$out"; fi
}

# check_delivered SRC_IP SRC_MAC DEST_IP DEST_MAC: the captures "src" and
# "dest" show the 3 echo requests reaching dest plain, and the replies going
# dest -> src directly.
check_delivered() {
	check "dest receives 3 plain echo requests" \
		test "$(count dest "!nsh && icmp.type == 8 && ip.src == $1 && eth.dst == $4")" -eq 3
	check "dest receives no NSH" test "$(count dest "nsh")" -eq 0
	check "dest sends 3 echo replies to src" test "$(count dest "icmp.type == 0 && eth.dst == $2")" -eq 3
	check "src receives 3 plain echo replies" test "$(count src "!nsh && icmp.type == 0 && ip.src == $3")" -eq 3
}

# ---- runs of the orchestrator ----------------------------------------------------

# bench_up DIR LENGTH SCENARIO: `cadeia-bench up`; 0 when it exits 0 (UP_RC)
# and prints a run id (UP_ID, added to RUNS). Its stdout goes to DIR/up.out,
# not to a $(...) pipe that a function it leaves running could hold open.
bench_up() {
	$B up --length "$2" "$3" </dev/null >"$1/up.out" 2>"$1/up.err"
	UP_RC=$?
	UP_ID=$(cat "$1/up.out")
	[ $UP_RC -eq 0 ] && [[ "$UP_ID" =~ ^cb[0-9a-f]{4}$ ]] || return 1
	RUNS+=("$UP_ID")
}

# leftovers ID [KIND...]: what of run ID is still there, an object a line;
# nothing once it is gone. KIND: netns, link, pin, state (file and
# directory), ovs (its OVS daemons), fn (function processes); default: all.
leftovers() {
	local id=$1 k

	shift
	[ $# -gt 0 ] || set -- netns link pin state ovs fn
	for k; do
		case $k in
		netns) listing ip netns list | awk '{print $1}' | grep -E "^($id-|\(failed)" ;;
		link) listing ip -o link | awk -F': ' '/^\(failed/ {print; next} {print $2}' |
			sed 's/@.*//' | grep -E "^($id-|\(failed)" ;;
		pin) ls -d "$PIN/$id-"* 2>/dev/null ;;
		state) ls -d /run/cadeia-bench/$id.json /run/cadeia-bench/$id 2>/dev/null ;;
		# A zombie awaiting its reaper has an empty command line: not matched.
		ovs) pgrep_or_fail -af -- "--pidfile=/run/cadeia-bench/$id/" ;;
		fn) pgrep_or_fail -af "cadeia-bench fn .*--netns $id-" ;;
		esac
	done
}

# listing CMD...: CMD's output, or "(failed: CMD)" when CMD fails, so a
# "nothing is left" check over it fails rather than finds nothing.
listing() {
	local out

	if out=$("$@" 2>/dev/null); then
		[ -z "$out" ] || printf '%s\n' "$out"
	else
		echo "(failed: $*)"
	fi
}

# pgrep_or_fail ARGS...: pgrep, whose status 1 (no process) is an answer and
# anything above it ("(failed: pgrep ...)" on stdout) is not.
pgrep_or_fail() {
	pgrep "$@"
	[ $? -le 1 ] || echo "(failed: pgrep $*)"
}

# check_gone LEFT OK FAIL: ok OK when LEFT (leftovers' output) is empty, else
# fail "FAIL: <what is left>".
check_gone() {
	if [ -z "$1" ]; then ok "$2"; else fail "$3: $(echo $1)"; fi
}

# down_and_check ID WHAT GONE KIND...: `cadeia-bench down ID` exits 0, then
# nothing of KIND remains (GONE: the text of that check).
down_and_check() {
	local id=$1 what=$2 gone=$3

	shift 3
	check "$what: cadeia-bench down $id exits 0" bash -c "$B down $id >'$TMP/down.log' 2>&1"
	check_gone "$(leftovers "$id" "$@")" "$what: $gone" "$what: left behind after down"
}

# check_decoys_missing WHAT MISSING: ok when no decoy is MISSING.
check_decoys_missing() {
	if [ -z "$2" ]; then ok "$1: the decoys survive"; else fail "$1: decoys removed:$2"; fi
}

# run_id_of PID: the id of the run PID owns, from its state file (10 s at most).
run_id_of() {
	local pid=$1 f i

	for i in $(seq 100); do
		for f in /run/cadeia-bench/cb????.json; do
			[ -e "$f" ] || continue
			# A run comparing architectures has one id per testbed; the
			# others name it as "parent".
			if [ "$(jq -r 'if .parent then "" else .pid end' "$f" 2>/dev/null)" = "$pid" ]; then
				basename "$f" .json
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}

# wait_measuring ID SECONDS: 0 once run ID has a measured round in raw.csv.
wait_measuring() {
	local id=$1 stage i

	for ((i = 0; i < $2 * 10; i++)); do
		stage=$(jq -r '.results // empty' /run/cadeia-bench/$id.json 2>/dev/null)
		if [ -n "$stage" ] && [ -f "$stage/raw.csv" ] && [ "$(wc -l <"$stage/raw.csv")" -ge 2 ]; then
			return 0
		fi
		[ -e /run/cadeia-bench/$id.json ] || return 1
		sleep 0.1
	done
	return 1
}

data_rows() { echo $(($(wc -l <"$1") - 1)); }

# The three cleanup scenarios of t_cleanup.sh and t_libvirt_e2e.sh. They use
# $RES and $TMP, and call the script's check_clean ID WHAT, check_decoys WHAT
# and, when defined, check_results DIR WHAT SCENARIO for checks of its own.

# bench_run_bg NAME SCENARIO: `cadeia-bench run` into $RES/NAME in the
# background, output in $TMP/NAME; its pid in RUN_PID and PIDS.
bench_run_bg() {
	mkdir -p "$TMP/$1"
	$B run --quiet --results "$RES/$1" "$2" </dev/null >"$TMP/$1/stdout" 2>"$TMP/$1/stderr" &
	RUN_PID=$!
	PIDS+=($RUN_PID)
}

# one_result_dir DIR...: 0 when exactly one directory is given; it goes to D.
one_result_dir() {
	D=
	[ $# -eq 1 ] && [ -d "$1" ] && D=$1
}

# measured_run NAME SCENARIO WHAT: bench_run_bg, then the run's id from its
# state file in RUN_ID (added to RUNS). Without one, the run is stopped and
# the decoys checked: 1.
measured_run() {
	RUN_ID=
	bench_run_bg "$1" "$2"
	if ! RUN_ID=$(run_id_of $RUN_PID); then
		fail "$3: no state file names pid $RUN_PID"
		stop_pids
		check_decoys "$3"
		return 1
	fi
	RUNS+=("$RUN_ID")
	ok "$3: state file /run/cadeia-bench/$RUN_ID.json names pid $RUN_PID"
}

# normal_run SCENARIO PREFIX: a whole run of SCENARIO (2 lengths x 10 probes)
# completes, its results under $RES/normal/PREFIX-*, nothing of it left.
normal_run() {
	local scen=$1 prefix=$2 rc id

	mkdir -p "$TMP/normal"
	$B run --quiet --results "$RES/normal" "$scen" </dev/null >"$TMP/normal/stdout" 2>"$TMP/normal/stderr"
	rc=$?
	check "normal run exits 0 (got $rc)" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || diag "$(tail -n 3 "$TMP/normal/stderr")"
	if one_result_dir "$RES"/normal/$prefix-*; then
		ok "normal run: one results directory, $(basename "$D")"
		id=$(jq -r .run_id "$D/meta.json")
		RUNS+=("$id")
		check "normal run: meta.json says complete" [ "$(jq -r .status "$D/meta.json")" = complete ]
		check "normal run: no INCOMPLETE file" [ ! -e "$D/INCOMPLETE" ]
		check "normal run: raw.csv has 2 lengths x 10 probes" [ "$(data_rows "$D/raw.csv")" -eq 20 ]
		check "normal run: summary.csv has a row per length" [ "$(data_rows "$D/summary.csv")" -eq 2 ]
		check "normal run: no partial directory left" lacks partial ls -A "$RES/normal"
		declare -F check_results >/dev/null && check_results "$D" "normal run" "$scen"
		check_clean "$id" "normal run"
	else
		fail "normal run: one results directory (found: $(echo "$RES"/normal/$prefix-*))"
	fi
	check_decoys "normal run"
}

# interrupted_run SCENARIO PREFIX SECONDS MAX_ROWS: SIGINT once SCENARIO
# measures (within SECONDS): exit status 3, results renamed into place under
# $RES/sigint/PREFIX-* and marked incomplete (fewer than MAX_ROWS rows).
interrupted_run() {
	local scen=$1 prefix=$2 secs=$3 max=$4 pid id rc

	measured_run sigint "$scen" "interrupted run" || return
	pid=$RUN_PID id=$RUN_ID
	if wait_measuring "$id" "$secs"; then
		ok "interrupted run: raw.csv has rows: a length is being measured"
	else
		fail "interrupted run: no round measured within $secs s"
		diag "$(tail -n 3 "$TMP/sigint/stderr")"
	fi
	check "interrupted run: still running before SIGINT" kill -0 $pid
	kill -INT $pid
	wait $pid
	rc=$?
	PIDS=()
	check "interrupted run: exit status 3 after SIGINT (got $rc)" [ "$rc" -eq 3 ]
	if one_result_dir "$RES"/sigint/$prefix-*; then
		ok "interrupted run: results renamed into place, $(basename "$D")"
		check "interrupted run: meta.json says incomplete" [ "$(jq -r .status "$D/meta.json")" = incomplete ]
		check "interrupted run: meta.json names run $id" [ "$(jq -r .run_id "$D/meta.json")" = "$id" ]
		check "interrupted run: INCOMPLETE file present" [ -s "$D/INCOMPLETE" ]
		check "interrupted run: raw.csv has rows" [ "$(data_rows "$D/raw.csv")" -gt 0 ]
		check "interrupted run: the sweep stopped early" [ "$(data_rows "$D/raw.csv")" -lt "$max" ]
		declare -F check_results >/dev/null && check_results "$D" "interrupted run" "$scen"
	else
		fail "interrupted run: one results directory (found: $(echo "$RES"/sigint/$prefix-*))"
	fi
	check_clean "$id" "interrupted run"
	check_decoys "interrupted run"
}

# killed_run SCENARIO SECONDS WHAT LIST...: kill -9 of the orchestrator once
# SCENARIO measures; the run's WHAT (listed by LIST...) outlive it, status
# calls it orphaned, `down` removes it and a second `down` finds no such run.
killed_run() {
	local scen=$1 secs=$2 what=$3 pid id

	shift 3
	measured_run kill9 "$scen" "killed run" || return
	pid=$RUN_PID id=$RUN_ID
	wait_measuring "$id" "$secs" || fail "killed run: no round measured within $secs s"
	kill -9 $pid
	wait $pid 2>/dev/null
	PIDS=()
	check "killed run: its $what outlive it" bash -c "$* | grep -q '^$id-'"
	check "killed run: status calls it orphaned" \
		[ "$($B status --json | jq -r --arg id "$id" '.[] | select(.id == $id) | .state')" = orphaned ]
	check "killed run: cadeia-bench down $id exits 0" bash -c "$B down $id >'$TMP/kill9/down' 2>&1"
	check_clean "$id" "killed run, after down"
	check "down $id again: no such run any more, exits non-zero" \
		bash -c "! $B down $id >'$TMP/kill9/down2' 2>&1 && grep -q 'no run $id' '$TMP/kill9/down2'"
	check_decoys "killed run"
}

# ---- TCG guests booted straight from $IMG ------------------------------------------

# make_image LOG: `make image` (it skips unchanged inputs), or die showing LOG.
make_image() {
	if ! make -s image >"$1" 2>&1; then
		fail "make image"
		sed 's/^/# /' "$1"
		tap_done
		exit 1
	fi
	ok "make image"
}

# boot_guest NETNS NAME APPEND NIC-ARGS...: a daemonized TCG guest (in NETNS
# unless empty) whose agent socket, console, pid and stderr are
# $TMP/NAME.{sock,console,pid,err}; $TMP/NAME.qpid keeps the pid for teardown.
boot_guest() {
	local ns=$1 name=$2 append=$3
	local -a run=("$QEMU")

	shift 3
	[ -n "$ns" ] && run=(ip netns exec "$ns" "$QEMU")
	date +%s.%N >"$TMP/$name.t0"
	"${run[@]}" -accel tcg -m 256 -smp 1 -display none -no-reboot \
		-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
		-append "console=ttyS0 panic=-1 quiet $append" "$@" \
		-device virtio-serial \
		-chardev "socket,path=$TMP/$name.sock,server=on,wait=off,id=ga" \
		-device virtserialport,chardev=ga,name=org.qemu.guest_agent.0 \
		-serial "file:$TMP/$name.console" -pidfile "$TMP/$name.pid" -daemonize 2>"$TMP/$name.err"
	# QEMU removes its pid file at exit: keep a copy for teardown.
	cp "$TMP/$name.pid" "$TMP/$name.qpid" 2>/dev/null
}

# kill_guests: our QEMUs only, each pid checked against its command line first.
kill_guests() {
	local p pid

	for p in "$TMP"/*.qpid; do
		[ -s "$p" ] || continue
		pid=$(cat "$p")
		grep -qs "$TMP" "/proc/$pid/cmdline" && kill "$pid"
	done
}

# wait_console NAME PATTERN SECONDS: 0 once NAME's console shows PATTERN.
wait_console() {
	local i

	for ((i = 0; i < $3 * 10; i++)); do
		if grep -q "$2" "$TMP/$1.console" 2>/dev/null; then
			diag "$1: '$2' after $(awk -v a="$(cat "$TMP/$1.t0")" -v b="$(date +%s.%N)" \
				'BEGIN { printf "%.1f", b - a }') s"
			return 0
		fi
		sleep 0.1
	done
	diag "$1 console: $(tr -d '\r' <"$TMP/$1.console" 2>/dev/null | tail -n 5)"
	return 1
}

# guest_exited NAME: 0 once NAME's QEMU has exited (10 s at most).
guest_exited() {
	local i

	for ((i = 0; i < 100; i++)); do
		kill -0 "$(cat "$TMP/$1.qpid")" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# says_no CMD...: 0 when CMD ran and answered no: exit status 1 (grep: no
# match; a guest command through ga or qga: its status 1). Not a "no": 0,
# grep's error 2, a timeout 124, a dead guest agent 125, a command that
# cannot run 126/127, a signal. `! CMD` would pass on all of those.
says_no() {
	local rc

	"$@" >/dev/null 2>&1
	rc=$?
	[ $rc -eq 1 ] && return 0
	echo "# says_no: '$*' exited $rc, not 1" >&2
	return 1
}

# lacks PATTERN CMD...: 0 when CMD succeeds and no line of its output
# matches PATTERN (grep -E). `! CMD | grep -q PATTERN` would pass when CMD
# fails; here a failed CMD is no proof of absence.
lacks() {
	local pat=$1 out

	shift
	if ! out=$("$@" 2>&1); then
		echo "# lacks: '$*' failed: $(head -c 300 <<<"$out")" >&2
		return 1
	fi
	! grep -qE -- "$pat" <<<"$out"
}

# qga SECONDS SOCKET ping | exec PATH ARGS... | fire PATH ARGS... | cat FILE:
# a minimal qemu-guest-agent client on SOCKET, given SECONDS in all. exec
# hands on the command's output and exit status; fire does not wait for it.
# Status 125: the agent failed; 124: out of time.
qga() {
	local tmo=$1

	shift
	[ -e "$TMP/qga.py" ] || cat >"$TMP/qga.py" <<'EOF'
import base64, json, os, socket, sys, time
# A failure of the agent or the socket exits 125, never a guest command's
# status: a "the command failed" check must not pass on a dead agent.
def agent_fail(msg):
    sys.stderr.write("qga: %s\n" % msg)
    os._exit(125)
sys.excepthook = lambda t, v, tb: agent_fail("%s: %s" % (t.__name__, v))
sock, tmo, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX)
s.settimeout(tmo)
s.connect(sock)
f = s.makefile("rwb", buffering=0)
def reply():
    while True:
        line = f.readline()
        if not line:
            agent_fail("agent closed the connection")
        line = line.strip().lstrip(b"\xff")
        if line:
            return json.loads(line)
def call(execute, **args):
    f.write(json.dumps({"execute": execute, "arguments": args}).encode() + b"\n")
    r = reply()
    if "error" in r:
        agent_fail("%s: %s" % (execute, r["error"]))
    return r["return"]
# Resynchronise: skip whatever an earlier client left unread.
token = int.from_bytes(os.urandom(4), "little")
f.write(b"\xff" + json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": token}}).encode() + b"\n")
while reply().get("return") != token:
    pass
if cmd == "ping":
    call("guest-ping")
    print("pong")
elif cmd in ("exec", "fire"):
    pid = call("guest-exec", path=sys.argv[4], arg=sys.argv[5:], **{"capture-output": True})["pid"]
    if cmd == "fire":
        sys.exit(0)
    while True:
        st = call("guest-exec-status", pid=pid)
        if st["exited"]:
            break
        time.sleep(0.05)
    sys.stdout.write(base64.b64decode(st.get("out-data", "")).decode(errors="replace"))
    sys.stderr.write(base64.b64decode(st.get("err-data", "")).decode(errors="replace"))
    if "exitcode" not in st:
        agent_fail("%s: no exit code (killed by a signal?)" % sys.argv[4])
    sys.exit(st["exitcode"])
elif cmd == "cat":
    h = call("guest-file-open", path=sys.argv[4], mode="r")
    r = call("guest-file-read", handle=h, count=65536)
    call("guest-file-close", handle=h)
    sys.stdout.write(base64.b64decode(r["buf-b64"]).decode(errors="replace"))
EOF
	# The socket may wait half the time, so one slow answer cannot use it all.
	timeout "$tmo" python3 "$TMP/qga.py" "$1" $((tmo / 2)) "${@:2}"
}

# ---- guests through libvirt -----------------------------------------------------

# ga DOMAIN TIMEOUT_S PATH [ARG...]: runs PATH in the guest through its agent
# (guest-exec, then guest-exec-status until it exits); the guest command's
# stdout and stderr become ours, its exit code our status (124: timeout).
ga() {
	local dom=$1 tmo=$2 path=$3 args="[]" req r pid st i

	shift 3
	# Not jq --args: jq 1.6 would take the guest command's options as its own.
	[ $# -eq 0 ] || args=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
	req=$(jq -cn --arg p "$path" --argjson a "$args" \
		'{execute: "guest-exec", arguments: {path: $p, arg: $a, "capture-output": true}}')
	r=$($V qemu-agent-command "$dom" "$req") || return 125
	pid=$(jq -r .return.pid <<<"$r")
	for ((i = 0; i < tmo * 10; i++)); do
		st=$($V qemu-agent-command "$dom" \
			"{\"execute\": \"guest-exec-status\", \"arguments\": {\"pid\": $pid}}") || return 125
		if [ "$(jq -r .return.exited <<<"$st")" = true ]; then
			jq -r '.return."out-data" // empty' <<<"$st" | base64 -d
			jq -r '.return."err-data" // empty' <<<"$st" | base64 -d >&2
			return "$(jq -r '.return.exitcode // 125' <<<"$st")"
		fi
		sleep 0.1
	done
	return 124
}
