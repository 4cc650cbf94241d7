#!/usr/bin/env bash
# cadeia-stage CLI: usage errors, rules-file errors (exact messages), and
# attach/rules/show/stats/detach on a veth in a throw-away netns, checking
# that detach leaves no pins, XDP program, tc filter or qdisc behind.
set -u
cd "$(dirname "$0")/.."
. tests/tap.sh
. tests/lib.sh

S=${BUILD:-build}/cadeia-stage
NS=cbtBL-ns
NODE=cbtBL-node
NODE2=cbtBL-node2
PIN=/sys/fs/bpf/cadeia
TMP=$(mktemp -d /tmp/cbtBL.XXXXXX)

# The kwire/keep_ttl section (issue 5) uses its own netns and nodes.
LNS=cbtL-ld
LNODE=cbtL-ld-_px3
LNODE2=cbtL-ld-_px3_eth1

teardown() {
	for n in $NODE $NODE2 $LNODE $LNODE2; do
		[ -d "$PIN/$n" ] && $S detach --node "$n" >/dev/null 2>&1
	done
	ip netns del $NS 2>/dev/null
	ip netns del $LNS 2>/dev/null
	rm -rf "$TMP"
}
trap teardown EXIT

plan 138
need_built "$S"
need_tools jq bpftool tc ip file

# Runs the CLI; leaves exit status in $rc, stdout in $out, stderr in $err.
run() {
	"$S" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# expect_rc DESC RC ARGS...
expect_rc() {
	local d=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ]; then ok "$d (exit $want)"; else
		fail "$d: exit $rc, want $want"; diag "stderr: $err"; fi
}

# expect_err DESC MESSAGE ARGS...: exit 1 and exactly MESSAGE as the last
# stderr line (libbpf may print the kernel's own message before it)
expect_err() {
	local d=$1 want=$2 last
	shift 2
	run "$@"
	last=$(tail -n 1 "$TMP/err")
	if [ "$rc" -eq 1 ] && [ "$last" = "$want" ]; then ok "$d"; else
		fail "$d"; diag "exit $rc, stderr: '$err'"; diag "wanted:       '$want'"; fi
}

# ---- static binary, help, usage errors ---------------------------------------
check "cadeia-stage is statically linked" bash -c "file -L '$S' | grep -q 'statically linked'"
expect_rc "--help" 0 --help
for c in attach detach rules show stats list; do
	run $c --help
	if [ "$rc" -eq 0 ] && grep -q "^Usage: cadeia-stage $c" "$TMP/out"; then ok "$c --help"; else fail "$c --help"; fi
done
expect_rc "no command" 2
expect_rc "unknown command" 2 frobnicate
expect_rc "attach without --node" 2 attach --dev lo --stages dec
expect_rc "attach without --dev" 2 attach --node $NODE --stages dec
expect_rc "attach with unknown stage" 2 attach --node $NODE --dev lo --stages dec,bogus
check "unknown stage is named" grep -q 'unknown stage "bogus"' "$TMP/err"
expect_rc "unknown option" 2 show --node $NODE --bogus
expect_rc "option of another command" 2 detach --node $NODE --dev lo
expect_rc "option missing its value" 2 show --node
expect_rc "rules without FILE" 2 rules --node $NODE
expect_rc "rules with two FILEs" 2 rules --node $NODE a b
expect_rc "stray argument" 2 list extra
check "no node dir after usage errors" test ! -e "$PIN/$NODE"

# ---- netns and veth -----------------------------------------------------------
ip netns add $NS || { fail "create netns $NS"; tap_done; exit 1; }
ip -n $NS link add cbtBL0 type veth peer name cbtBL1 &&
	ip -n $NS link set cbtBL0 up && ip -n $NS link set cbtBL1 up ||
	{ fail "create veth in $NS"; tap_done; exit 1; }
MAC0=$(ip -n $NS -j link show cbtBL0 | jq -r '.[0].address')
IDX1=$(ip -n $NS -j link show cbtBL1 | jq -r '.[0].ifindex')

# ---- rules-file errors: exact messages, before any node exists --------------
bad() { # NAME JSON MESSAGE-AFTER-"FILE: "
	printf '%s\n' "$2" >"$TMP/$1.json"
	expect_err "rules refused: $1" "$TMP/$1.json: $3" rules --node $NODE --netns $NS "$TMP/$1.json"
}
bad si-high '{"forwarding":[{"spi":7,"si":254,"end":true},{"spi":1,"si":2,"end":true},{"spi":7,"si":300,"end":true}]}' \
	'forwarding[2].si: 300 is out of range 0..255'
bad si-neg '{"forwarding":[{"spi":1,"si":-1,"end":true}]}' \
	'forwarding[0].si: -1 is out of range 0..255'
bad cls-si '{"classifier":[{"spi":1,"si":256,"next_hop":"02:00:00:00:00:01"}]}' \
	'classifier[0].si: 256 is out of range 0..255'
bad spi-high '{"forwarding":[{"spi":16777216,"si":254,"end":true}]}' \
	'forwarding[0].spi: 16777216 is out of range 0..16777215'
bad mac-short '{"classifier":[{"spi":1,"next_hop":"02:00:00:00:00"}]}' \
	'classifier[0].next_hop: "02:00:00:00:00" is not a MAC address (xx:xx:xx:xx:xx:xx)'
bad mac-hex '{"forwarding":[{"spi":1,"si":3,"next_hop":"02:00:00:00:00:0g"}]}' \
	'forwarding[0].next_hop: "02:00:00:00:00:0g" is not a MAC address (xx:xx:xx:xx:xx:xx)'
bad dest-mac '{"forwarding":[{"spi":1,"si":3,"end":true,"dest_mac":"x"}]}' \
	'forwarding[0].dest_mac: "x" is not a MAC address (xx:xx:xx:xx:xx:xx)'
bad no-if '{"classifier":[{"spi":1,"next_hop":"02:00:00:00:00:01","ifname":"cbtBLnope"}]}' \
	"classifier[0].ifname: interface \"cbtBLnope\" not found in netns $NS"
bad unknown-key '{"classifier":[{"spi":1,"next_hop":"02:00:00:00:00:01","bogus":1}]}' \
	'classifier[0].bogus: unknown key'
bad unknown-top '{"forwarding":[],"chains":[]}' 'chains: unknown key'
bad proto '{"classifier":[{"spi":1,"next_hop":"02:00:00:00:00:01","proto":"ospf"}]}' \
	'classifier[0].proto: unknown protocol "ospf"'
bad prefix '{"classifier":[{"spi":1,"next_hop":"02:00:00:00:00:01","dst":"10.0.0.1/33"}]}' \
	'classifier[0].dst: "10.0.0.1/33" is not an IPv4 address or prefix (a.b.c.d[/0..32])'
bad prefix-plus '{"classifier":[{"spi":1,"next_hop":"02:00:00:00:00:01","dst":"10.0.0.0/+24"}]}' \
	'classifier[0].dst: "10.0.0.0/+24" is not an IPv4 address or prefix (a.b.c.d[/0..32])'
bad prefix-blank '{"classifier":[{"spi":1,"next_hop":"02:00:00:00:00:01","dst":"10.0.0.0/ 24"}]}' \
	'classifier[0].dst: "10.0.0.0/ 24" is not an IPv4 address or prefix (a.b.c.d[/0..32])'
bad no-spi '{"classifier":[{"next_hop":"02:00:00:00:00:01"}]}' 'classifier[0].spi: missing'
bad si-type '{"forwarding":[{"spi":1,"si":"3","end":true}]}' 'forwarding[0].si: expected an integer'
bad fwd-both '{"forwarding":[{"spi":1,"si":3,"end":true,"next_hop":"02:00:00:00:00:01"}]}' \
	'forwarding[0]: next_hop and "end": true exclude each other'
bad fwd-dup '{"forwarding":[{"spi":1,"si":3,"end":true},{"spi":1,"si":3,"end":true}]}' \
	'forwarding[1]: spi 1 si 3 repeats forwarding[0]'
printf '{\n  "forwarding": [\n    {"spi": 1, "si": 2,}\n  ]\n}\n' >"$TMP/syntax.json"
expect_err "rules refused: syntax error with line:column" \
	"$TMP/syntax.json:3:24: string or '}' expected near '}'" rules --node $NODE --netns $NS "$TMP/syntax.json"
printf '{"forwarding": [{"spi": 1, "si": 2, "si": 3, "end": true}]}\n' >"$TMP/dupkey.json"
expect_err "rules refused: duplicate key with line:column" \
	"$TMP/dupkey.json:1:40: duplicate object key near '\"si\"'" rules --node $NODE --netns $NS "$TMP/dupkey.json"
printf '{"forwarding":[{"spi":1,"si":3,"end":true}]}\n' >"$TMP/good-fwd.json"
expect_err "rules on a node that is not attached" \
	"node $NODE: not attached (no $PIN/$NODE)" rules --node $NODE "$TMP/good-fwd.json"

# ---- attach -------------------------------------------------------------------
expect_rc "attach all stages" 0 attach --node $NODE --netns $NS --dev cbtBL0 --stages classifier,dec,enc,fwd,kwire
for p in cs_meta cls_rules cls_stats dec_stats enc_stats fwd_stats fwd_table kwire_stats nsh_state; do
	check "pinned $PIN/$NODE/$p" test -e "$PIN/$NODE/$p"
done
link=$(ip -n $NS -d link show cbtBL0)
check "XDP native dec_xdp on cbtBL0" bash -c "grep -q 'prog/xdp id' <<<'$link' && grep -q 'name dec_xdp' <<<'$link' && ! grep -q xdpgeneric <<<'$link'"
eg=$(tc -n $NS filter show dev cbtBL0 egress)
ig=$(tc -n $NS filter show dev cbtBL0 ingress)
check "tc egress prio 1 cls_egress" grep -q 'pref 1 bpf .*handle 0xcade .*name cls_egress' <<<"$eg"
check "tc egress prio 2 enc_egress" grep -q 'pref 2 bpf .*handle 0xcade .*name enc_egress' <<<"$eg"
check "tc egress prio 3 fwd_egress" grep -q 'pref 3 bpf .*handle 0xcade .*name fwd_egress' <<<"$eg"
check "tc ingress prio 1 kwire_ingress" grep -q 'pref 1 bpf .*handle 0xcade .*name kwire_ingress' <<<"$ig"

# node_mac in each stage's .rodata is cbtBL0's MAC
xdp_id=$(ip -n $NS -j -d link show cbtBL0 | jq -r '.[0].xdp.prog.id')
rodata_mac() { # PROG_ID -> node_mac as xx:xx:..
	local m
	for m in $(bpftool -j prog show id "$1" | jq -r '.map_ids[]'); do
		if bpftool -j map show id "$m" | jq -e '.name | endswith(".rodata")' >/dev/null; then
			bpftool -j map dump id "$m" | jq -r '.[0].formatted.value[".rodata"][] | select(.node_mac) | .node_mac | map(. | tonumber) | map(. as $b | "0123456789abcdef" | .[($b/16|floor):($b/16|floor)+1] + .[($b%16):($b%16)+1]) | join(":")'
		fi
	done
}
check "dec node_mac = $MAC0" test "$(rodata_mac "$xdp_id")" = "$MAC0"
fwd_id=$(tc -n $NS filter show dev cbtBL0 egress | sed -n 's/.*name fwd_egress.* id \([0-9]*\).*/\1/p; s/.*fwd_egress:\[\([0-9]*\)\].*/\1/p' | head -1)
check "fwd node_mac = $MAC0" test "$(rodata_mac "$fwd_id")" = "$MAC0"

run show --node $NODE --json
check "show --json: dev, netns, mac, stages" bash -c "jq -e '.dev == \"cbtBL0\" and .netns == \"$NS\" and .mac == \"$MAC0\" and .stages == \"classifier,dec,enc,fwd,kwire\" and .xdp_mode == \"native\" and .clsact_created' <<<'$out' >/dev/null"
expect_err "second attach of the same node" \
	"node $NODE: already attached ($PIN/$NODE exists; detach it first)" attach --node $NODE --netns $NS --dev cbtBL0 --stages fwd
expect_err "attach refuses an interface whose XDP is taken" \
	"interface cbtBL0: stage dec: another XDP program is attached" attach --node $NODE2 --netns $NS --dev cbtBL0 --stages dec
check "failed attach leaves no pins" test ! -e "$PIN/$NODE2"
expect_err "attach names the unknown interface" \
	"interface \"cbtBLzz\" not found in netns $NS" attach --node $NODE2 --netns $NS --dev cbtBLzz --stages dec
check "list shows the node" bash -c "'$S' list | grep -q '^$NODE netns $NS dev cbtBL0 stages classifier,dec,enc,fwd,kwire$'"

# ---- rules --------------------------------------------------------------------
cat >"$TMP/rules.json" <<EOF
{ "classifier": [ { "src": "10.9.0.1/32", "dst": "10.9.0.0/24", "proto": "icmp", "spi": 7, "si": 255,
                    "next_hop": "02:00:00:00:00:02", "ifname": "cbtBL1" },
                  { "proto": "udp", "dport": 53, "spi": 8, "next_hop": "02:00:00:00:00:03",
                    "md_type": 1, "md1_ctx": [1, 2, 3, 4294967295], "inner": "ipv4" } ],
  "forwarding": [ { "spi": 7, "si": 254, "end": true, "dest_mac": "02:00:00:00:00:09" },
                  { "spi": 7, "si": 253, "next_hop": "02:00:00:00:00:0a" },
                  { "spi": 16777215, "si": 0, "end": true } ] }
EOF
expect_rc "rules load" 0 rules --node $NODE "$TMP/rules.json"
run show --node $NODE --json
check "classifier[0] read back from the map" bash -c "jq -e '.classifier[0] | .src == \"10.9.0.1/32\" and .dst == \"10.9.0.0/24\" and .proto == \"icmp\" and .spi == 7 and .si == 255 and .next_hop == \"02:00:00:00:00:02\" and .ifindex == $IDX1 and .md_type == 2 and .inner == \"ethernet\"' <<<'$out' >/dev/null"
check "classifier[1] read back (MD1 context, udp/53)" bash -c "jq -e '.classifier[1] | .proto == \"udp\" and .dport == 53 and .md_type == 1 and .md1_ctx == [1,2,3,4294967295] and .inner == \"ipv4\" and .si == 255' <<<'$out' >/dev/null"
check "forwarding table read back" bash -c "jq -e '(.forwarding | length) == 3 and .forwarding[0] == {\"spi\":7,\"si\":254,\"end\":true,\"dest_mac\":\"02:00:00:00:00:09\",\"ifindex\":0} and .forwarding[1].next_hop == \"02:00:00:00:00:0a\" and .forwarding[2].spi == 16777215' <<<'$out' >/dev/null"
check "cls_rules map slot 0 holds SPI 7" bash -c "bpftool -j map dump pinned $PIN/$NODE/cls_rules | jq -e '.[0].formatted.value.spi == 7 and .[0].formatted.value.valid == 1 and .[2].formatted.value.valid == 0' >/dev/null"

# A bad file changes nothing.
expect_rc "bad rules refused" 1 rules --node $NODE "$TMP/si-high.json"
run show --node $NODE --json
check "tables unchanged after a refused file" bash -c "jq -e '(.forwarding | length) == 3 and (.classifier | length) == 2' <<<'$out' >/dev/null"

# A present section replaces its table; an absent one is left alone.
expect_rc "forwarding-only rules" 0 rules --node $NODE "$TMP/good-fwd.json"
run show --node $NODE --json
check "forwarding replaced, classifier kept" bash -c "jq -e '.forwarding == [{\"spi\":1,\"si\":3,\"end\":true,\"ifindex\":0}] and (.classifier | length) == 2' <<<'$out' >/dev/null"
printf '{"classifier":[]}\n' >"$TMP/empty-cls.json"
expect_rc "empty classifier section" 0 rules --node $NODE "$TMP/empty-cls.json"
run show --node $NODE --json
check "classifier emptied" bash -c "jq -e '(.classifier | length) == 0' <<<'$out' >/dev/null"

# ---- stats ----------------------------------------------------------------------
run stats --node $NODE --json
check "stats --json has each stage's BTF counter names" bash -c "jq -e '.counters | (.classifier | has(\"classified\")) and (.dec | has(\"decap\") and has(\"drop_not_for_us\")) and (.enc | has(\"encap\")) and (.fwd | has(\"end_of_chain\") and has(\"drop_no_path\")) and (.kwire | has(\"reflected\"))' <<<'$out' >/dev/null"
# Traffic from the peer crosses dec (XDP) on cbtBL0: dec counts it as passed.
before=$(jq '.counters.dec.passed' <<<"$out")
ip netns exec $NS ping -c 3 -W 1 -I cbtBL1 10.9.9.9 >/dev/null 2>&1 # ARP requests, unanswered
run stats --node $NODE --json
after=$(jq '.counters.dec.passed' <<<"$out")
check "dec.passed counts frames arriving on cbtBL0 ($before -> $after)" test "$after" -gt "$before"
run stats --node $NODE
check "stats text lists dec decap" grep -Eq '^  decap +[0-9]+$' "$TMP/out"

# ---- detach -----------------------------------------------------------------------
expect_rc "detach" 0 detach --node $NODE
check "no pin dir after detach" test ! -e "$PIN/$NODE"
check "no XDP program after detach" lacks xdp ip -n $NS -d link show cbtBL0
check "no tc egress filter after detach" lacks . tc -n $NS filter show dev cbtBL0 egress
check "no tc ingress filter after detach" lacks . tc -n $NS filter show dev cbtBL0 ingress
check "no clsact qdisc after detach" lacks clsact tc -n $NS qdisc show dev cbtBL0
check "list no longer shows the node" lacks "^$NODE " "$S" list
expect_err "detach of a detached node" "node $NODE: not attached (no $PIN/$NODE)" detach --node $NODE

# ---- a clsact and a filter we did not create survive detach ---------------------
FOREIGN=${BUILD:-build}/bpf/kwire.bpf.o
tc -n $NS qdisc add dev cbtBL0 clsact
tc -n $NS filter add dev cbtBL0 egress prio 9 handle 7 bpf da obj "$FOREIGN" sec tc 2>/dev/null
if tc -n $NS filter show dev cbtBL0 egress | grep -q 'pref 9'; then
	expect_rc "attach beside a foreign filter" 0 attach --node $NODE --netns $NS --dev cbtBL0 --stages classifier,fwd
	run show --node $NODE --json
	check "clsact recorded as pre-existing" bash -c "jq -e '.clsact_created == false' <<<'$out' >/dev/null"
	expect_rc "detach beside a foreign filter" 0 detach --node $NODE
	eg=$(tc -n $NS filter show dev cbtBL0 egress)
	check "foreign filter kept" grep -q 'pref 9 bpf .*handle 0x7 ' <<<"$eg"
	check "our filters gone" lacks 'handle 0xcade' tc -n $NS filter show dev cbtBL0 egress
	check "pre-existing clsact kept" bash -c "tc -n $NS qdisc show dev cbtBL0 | grep -q clsact"
else
	fail "could not add a foreign tc filter for the test"
fi
tc -n $NS qdisc del dev cbtBL0 clsact 2>/dev/null

# ---- generic XDP ------------------------------------------------------------------
expect_rc "attach dec --xdp-generic" 0 attach --node $NODE --netns $NS --dev cbtBL0 --stages dec --xdp-generic
check "XDP in generic mode" bash -c "ip -n $NS -d link show cbtBL0 | grep -q 'xdpgeneric'"
expect_rc "detach generic" 0 detach --node $NODE
check "no XDP after generic detach" lacks xdp ip -n $NS -d link show cbtBL0
check "no pin dir after generic detach" test ! -e "$PIN/$NODE"

# ---- a vanished netns is not an error ---------------------------------------------
expect_rc "attach sf" 0 attach --node $NODE --netns $NS --dev cbtBL0 --stages sf
ip netns del $NS
expect_rc "detach after the netns is gone" 0 detach --node $NODE
check "no pin dir after detach of a vanished netns" test ! -e "$PIN/$NODE"

# ---- kwire mode and peer, keep_ttl (PhantomSFC proxy and SFF nodes) ----------------
expect_rc "--kwire-mode with an unknown mode" 2 attach --node $LNODE --dev lo --stages kwire --kwire-mode bogus
check "unknown kwire mode is named" grep -q 'unknown mode "bogus"' "$TMP/err"
expect_rc "--kwire-mode without the kwire stage" 2 attach --node $LNODE --dev lo --stages fwd --kwire-mode nsh-host
expect_rc "--kwire-peer without the kwire stage" 2 attach --node $LNODE --dev lo --stages fwd --kwire-peer lo
expect_rc "--kwire-mode is attach-only" 2 show --node $LNODE --kwire-mode nsh-host
expect_err "node names with '.' are refused (bpffs forbids them)" \
	"node \"$LNODE.eth1\": invalid name (no '/' or '.', at most 63 characters)" \
	attach --node $LNODE.eth1 --dev lo --stages kwire

ip netns add $LNS || { fail "create netns $LNS"; tap_done; exit 1; }
ip -n $LNS link add cbtLld0 type veth peer name cbtLld1 &&
	ip -n $LNS link set cbtLld0 up && ip -n $LNS link set cbtLld1 up ||
	{ fail "create veth in $LNS"; tap_done; exit 1; }
LIDX0=$(ip -n $LNS -j link show cbtLld0 | jq -r '.[0].ifindex')
LIDX1=$(ip -n $LNS -j link show cbtLld1 | jq -r '.[0].ifindex')

expect_err "--kwire-peer names an unknown interface" \
	"interface \"cbtLzz\" not found in netns $LNS" \
	attach --node $LNODE --netns $LNS --dev cbtLld0 --stages kwire --kwire-peer cbtLzz
check "failed kwire attach leaves no pins" test ! -e "$PIN/$LNODE"
check "failed kwire attach leaves no clsact" lacks clsact tc -n $LNS qdisc show dev cbtLld0

# A proxy: dec,enc,fwd,kwire on the bridge side, kwire alone on the SF side.
expect_rc "attach proxy eth0 side (otherhost, peer cbtLld1)" 0 \
	attach --node $LNODE --netns $LNS --dev cbtLld0 --stages dec,enc,fwd,kwire --kwire-peer cbtLld1
expect_rc "attach a second node on another interface of the same netns (nsh-host, peer cbtLld0)" 0 \
	attach --node $LNODE2 --netns $LNS --dev cbtLld1 --stages kwire --kwire-mode nsh-host --kwire-peer cbtLld0

kwire_id() { # DEV -> id of kwire_ingress on its tc ingress
	tc -n $LNS filter show dev "$1" ingress |
		sed -n 's/.*name kwire_ingress.* id \([0-9]*\).*/\1/p; s/.*kwire_ingress:\[\([0-9]*\)\].*/\1/p' | head -1
}
rodata_var() { # PROG_ID VAR -> VAR's value in the program's .rodata
	local m
	for m in $(bpftool -j prog show id "$1" | jq -r '.map_ids[]'); do
		if bpftool -j map show id "$m" | jq -e '.name | endswith(".rodata")' >/dev/null; then
			bpftool -j map dump id "$m" |
				jq -r --arg v "$2" '.[0].formatted.value[".rodata"][] | select(has($v)) | .[$v]'
		fi
	done
}
kid0=$(kwire_id cbtLld0)
kid1=$(kwire_id cbtLld1)
check "kwire_ingress on both interfaces, two programs ($kid0, $kid1)" \
	test -n "$kid0" -a -n "$kid1" -a "$kid0" != "$kid1"
check "cbtLld0 kwire rodata: kwire_mode 0 (otherhost)" test "$(rodata_var "$kid0" kwire_mode)" = 0
check "cbtLld0 kwire rodata: redirect_ifindex = cbtLld1's ($LIDX1)" \
	test "$(rodata_var "$kid0" redirect_ifindex)" = "$LIDX1"
check "cbtLld1 kwire rodata: kwire_mode 1 (nsh-host)" test "$(rodata_var "$kid1" kwire_mode)" = 1
check "cbtLld1 kwire rodata: redirect_ifindex = cbtLld0's ($LIDX0)" \
	test "$(rodata_var "$kid1" redirect_ifindex)" = "$LIDX0"
check "cbtLld0 keeps dec on XDP and enc, fwd on egress" bash -c \
	"ip -n $LNS -d link show cbtLld0 | grep -q 'name dec_xdp' && tc -n $LNS filter show dev cbtLld0 egress | grep -q fwd_egress && tc -n $LNS filter show dev cbtLld0 egress | grep -q enc_egress"
run show --node $LNODE --json
check "show --json: kwire_mode otherhost, peer cbtLld1" bash -c \
	"jq -e '.kwire_mode == \"otherhost\" and .kwire_peer == \"cbtLld1\" and .kwire_peer_ifindex == $LIDX1' <<<'$out' >/dev/null"
run show --node $LNODE2 --json
check "show --json: kwire_mode nsh-host, peer cbtLld0" bash -c \
	"jq -e '.kwire_mode == \"nsh-host\" and .kwire_peer == \"cbtLld0\" and .kwire_peer_ifindex == $LIDX0 and .stages == \"kwire\"' <<<'$out' >/dev/null"
run show --node $LNODE2
check "show text: kwire mode and peer" grep -q "^  kwire mode nsh-host peer cbtLld0 (ifindex $LIDX0)$" "$TMP/out"
run stats --node $LNODE2 --json
check "stats --json: kwire has passed, reflected, redirected" bash -c \
	"jq -e '.counters.kwire | has(\"passed\") and has(\"reflected\") and has(\"redirected\")' <<<'$out' >/dev/null"

# keep_ttl in the rules file, read back from the map.
cat >"$TMP/keep.json" <<EOF
{ "forwarding": [ { "spi": 5, "si": 254, "next_hop": "02:00:00:00:00:0b", "keep_ttl": true },
                  { "spi": 5, "si": 253, "end": true, "keep_ttl": true },
                  { "spi": 5, "si": 252, "next_hop": "02:00:00:00:00:0c", "keep_ttl": false },
                  { "spi": 5, "si": 251, "next_hop": "02:00:00:00:00:0d" } ] }
EOF
printf '{"forwarding":[{"spi":5,"si":254,"next_hop":"02:00:00:00:00:0b","keep_ttl":1}]}\n' >"$TMP/keep-bad.json"
expect_err "rules refused: keep_ttl not a boolean" \
	"$TMP/keep-bad.json: forwarding[0].keep_ttl: expected true or false" rules --node $LNODE "$TMP/keep-bad.json"
expect_rc "rules with keep_ttl load" 0 rules --node $LNODE "$TMP/keep.json"
run show --node $LNODE --json
check "show --json: keep_ttl true on si 254 and 253 (end), absent on si 252 and 251" bash -c \
	"jq -e '(.forwarding | length) == 4 and .forwarding[0] == {\"spi\":5,\"si\":254,\"next_hop\":\"02:00:00:00:00:0b\",\"ifindex\":0,\"keep_ttl\":true} and .forwarding[1].end and .forwarding[1].keep_ttl == true and (.forwarding[2] | has(\"keep_ttl\") | not) and (.forwarding[3] | has(\"keep_ttl\") | not)' <<<'$out' >/dev/null"
check "fwd_table map: flags 1 (FWD_F_KEEP_TTL) for si 254, 0 for si 252" bash -c \
	"bpftool -j map dump pinned $PIN/$LNODE/fwd_table | jq -e '(.[] | select(.formatted.key.si == 254) | .formatted.value.flags) == 1 and (.[] | select(.formatted.key.si == 252) | .formatted.value.flags) == 0' >/dev/null"
run show --node $LNODE
check "show text marks keep_ttl" grep -q '^  spi 5 si 254 -> next_hop 02:00:00:00:00:0b ifindex 0 keep_ttl$' "$TMP/out"
check "show text: no keep_ttl on si 252" grep -q '^  spi 5 si 252 -> next_hop 02:00:00:00:00:0c ifindex 0$' "$TMP/out"

# Each node's detach removes only its own interface's hooks.
expect_rc "detach the proxy's bridge side" 0 detach --node $LNODE
check "cbtLld1's kwire survives the other node's detach" test "$(kwire_id cbtLld1)" = "$kid1"
check "cbtLld0: no clsact, no XDP left" eval \
	"lacks clsact tc -n $LNS qdisc show dev cbtLld0 && lacks xdp ip -n $LNS -d link show cbtLld0"
expect_rc "detach the second node" 0 detach --node $LNODE2
check "cbtLld1: no clsact left" lacks clsact tc -n $LNS qdisc show dev cbtLld1
check "no pins left for either node" test ! -e "$PIN/$LNODE" -a ! -e "$PIN/$LNODE2"

# Defaults: kwire alone is otherhost, back out of its own interface.
expect_rc "attach kwire with defaults" 0 attach --node $LNODE --netns $LNS --dev cbtLld0 --stages kwire
kid0=$(kwire_id cbtLld0)
check "default kwire rodata: kwire_mode 0, redirect_ifindex 0" \
	test "$(rodata_var "$kid0" kwire_mode) $(rodata_var "$kid0" redirect_ifindex)" = "0 0"
run show --node $LNODE --json
check "show --json: default kwire_mode otherhost, no peer" bash -c \
	"jq -e '.kwire_mode == \"otherhost\" and .kwire_peer == \"\" and .kwire_peer_ifindex == 0' <<<'$out' >/dev/null"
expect_rc "detach kwire with defaults" 0 detach --node $LNODE

tap_done
