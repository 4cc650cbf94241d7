/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Scenario parsing and validation: every error class with its exact message,
 * the shipped scenarios, and the control plane's tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/control.h"
#include "model/num.h"
#include "model/scenario.h"
#include "tap.h"

#define NODES3 "\"nodes\": [{\"name\": \"src\", \"role\": \"src\"},\n" \
	"  {\"name\": \"dest\", \"role\": \"dest\"},\n" \
	"  {\"name\": \"sf1\", \"role\": \"sf\"}, {\"name\": \"sf2\", \"role\": \"sf\"}]"

/* Bad scenarios and the error each gives: file:line:col, field, what. The
 * message must start with msg, exactly; lists of accepted values that other
 * features extend are cut after their first items. */
#define IFNAME(name, msg) \
	{ "ifname '" name "' is refused", \
	  "{\"nodes\": [{\"name\": \"s\", \"role\": \"src\", \"ifname\": \"" name "\"}]}", msg }
#define SUBNET(s) \
	{ "subnet '" s "' is refused", \
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]}],\n" \
	  " \"network\": {\"subnet\": \"" s "\"}}", \
	  "t.json:5:14: network.subnet: '" s "' is not an IPv4 prefix a.b.c.d/8..30" }

static const struct bad {
	const char *what, *text, *msg;
} bad[] = {
	{ "syntax error names line and column",
	  "{\n \"nodes\": [,]\n}",
	  "t.json:2:12: unexpected token near ','" },
	{ "unknown top-level key",
	  "{\"nodes\": [], \"chainz\": []}",
	  "t.json:1:15: chainz: unknown key (expected one of: name, description, backend, architecture, network, defaults, nodes, chains, sweep, measure, fault, load" },
	{ "unknown key in a section",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]}],\n"
	  " \"sweep\": {\"length\": 5}}",
	  "t.json:5:12: sweep.length: unknown key (expected one of: lengths, from, to)" },
	{ "duplicate JSON key (jansson)",
	  "{\"name\": \"a\", \"name\": \"b\"}",
	  "t.json:1:20: duplicate object key near '\"name\"'" },
	{ "duplicate node name",
	  "{\"nodes\": [{\"name\": \"src\", \"role\": \"src\"},\n"
	  "  {\"name\": \"src\", \"role\": \"dest\"}]}",
	  "t.json:2:4: nodes[1].name: duplicate node name 'src' (first defined at line 1)" },
	{ "duplicate chain name",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]},\n"
	  "  {\"name\": \"c\", \"spi\": 2, \"sfs\": [\"sf2\"]}]}",
	  "t.json:5:4: chains[1].name: duplicate chain name 'c'" },
	{ "interface name over the kernel's limit (node name)",
	  "{\"nodes\": [{\"name\": \"averylongname\", \"role\": \"src\"}]}",
	  "t.json:1:13: nodes[0].name: 'averylongname' makes the host interface name 'cbXXXX-averylongname' 20 bytes long, over the kernel's limit of 15" },
	{ "interface name over the kernel's limit (ifname)",
	  "{\"nodes\": [{\"name\": \"s\", \"role\": \"src\", \"ifname\": \"eth0123456789abcd\"}]}",
	  "t.json:1:41: nodes[0].ifname: 'eth0123456789abcd' is 17 bytes long, over the kernel's limit of 15" },
	{ "chain names an unknown SF",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1,\n  \"sfs\": [\"sf1\", \"sf9\"]}]}",
	  "t.json:5:18: chains[0].sfs[1]: unknown SF 'sf9'" },
	{ "chain names a node that is not an SF",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"dest\"]}]}",
	  "t.json:4:45: chains[0].sfs[0]: node 'dest' has role 'dest', not 'sf'" },
	{ "SPI out of range",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 16777216, \"sfs\": []}]}",
	  "t.json:4:27: chains[0].spi: 16777216 is out of range 0..16777215" },
	{ "SI out of range",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"si\": 256, \"sfs\": []}]}",
	  "t.json:4:37: chains[0].si: 256 is out of range 1..255" },
	{ "chain longer than SI allows",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"si\": 2,\n"
	  "  \"sfs\": [\"sf1\", \"sf2\"]}]}",
	  "t.json:5:3: chains[0].sfs: 2 SFs, but starting SI 2 allows at most 1 (SI must stay above 0 and TTL 63 above 1)" },
	{ "forwarding loop: an SF that follows itself",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\", \"sf1\"]}]}",
	  "t.json:4:52: chains[0].sfs[1]: forwarding loop: 'sf1' follows itself, its fwd stage would send the frame to its own MAC" },
	{ "an NSH-unaware SF visited twice in one chain",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\", \"sf2\", \"sf1\"]}]}",
	  "t.json:4:59: chains[0].sfs[2]: 'sf1' is already hop 1 of this chain: an NSH-unaware SF can be visited once per chain (its stages keep one saved NSH per flow), run it as nsh-aware or use another SF" },
	{ "forwarding loop: two chains on one SPI",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"a\", \"spi\": 1, \"sfs\": [\"sf1\"]},\n"
	  "  {\"name\": \"b\", \"spi\": 1, \"sfs\": [\"sf2\"]}]}",
	  "t.json:5:17: chains[1].spi: forwarding loop: SPI 1 is also chain 'a''s; their (SPI, SI) entries would collide and send frames around both paths" },
	{ "wrong type",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": \"1\", \"sfs\": []}]}",
	  "t.json:4:27: chains[0].spi: must be an integer" },
	{ "unknown function kind",
	  "{\"nodes\": [{\"name\": \"s\", \"role\": \"sf\", \"function\": \"vpp\"}]}",
	  "t.json:1:40: nodes[0].function: unknown function 'vpp' (expected wire, kwire, nsh-aware, external" },
	{ "sweep beyond the longest chain",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]}],\n"
	  " \"sweep\": {\"lengths\": [0, 2]}}",
	  "t.json:5:27: sweep.lengths[1]: must be an integer in 0..1 (the longest chain)" },
	{ "public subnet refused",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]}],\n"
	  " \"network\": {\"subnet\": \"8.8.8.0/24\"}}",
	  "t.json:5:14: network.subnet: '8.8.8.0/24' is not in private address space (RFC 1918)" },
	/* Positions for errors about the whole document (issue 11). */
	{ "{} names the object that lacks 'nodes'", "{}",
	  "t.json:1:1: missing required key 'nodes'" },
	{ "[] is not an object, at its position", "\n  []",
	  "t.json:2:3: the scenario must be a JSON object" },
	{ "blank text", " \n",
	  "t.json:2:1: '[' or '{' expected near end of file" },
	{ "end of file after {\\n: column 1, not 0", "{\n",
	  "t.json:2:1: string or '}' expected near end of file" },
	{ "escaped unknown key: decoded, with its position", "{\"n\\u0061mes\": 1}",
	  "t.json:1:2: names: unknown key (expected one of: name, description, backend, architecture, network, defaults, nodes, chains, sweep, measure, fault, load" },
	{ "unknown key with a '.' in it", "{\n \"a.b\": 1}",
	  "t.json:2:2: a.b: unknown key (expected one of: name, description, backend, architecture, network, defaults, nodes, chains, sweep, measure, fault, load" },
	{ "missing key in a nested object: the object's position",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1}]}",
	  "t.json:4:13: chains[0]: missing required key 'sfs'" },
	/* Interface names as the kernel's dev_valid_name() takes them. */
	IFNAME("a/b", "t.json:1:41: nodes[0].ifname: 'a/b' has '/' at byte 2, which the kernel does not take in an interface name"),
	IFNAME("..", "t.json:1:41: nodes[0].ifname: '..' is not a valid interface name"),
	IFNAME(".", "t.json:1:41: nodes[0].ifname: '.' is not a valid interface name"),
	IFNAME("a b", "t.json:1:41: nodes[0].ifname: 'a b' has 'a blank' at byte 2, which the kernel does not take in an interface name"),
	IFNAME("x:y", "t.json:1:41: nodes[0].ifname: 'x:y' has ':' at byte 2, which the kernel does not take in an interface name"),
	IFNAME("eth%d", "t.json:1:41: nodes[0].ifname: 'eth%d' has '%' at byte 4, which the kernel does not take in an interface name"),
	IFNAME("a\\tb", "t.json:1:41: nodes[0].ifname: 'a\tb' has 'a blank' at byte 2, which the kernel does not take in an interface name"),
	IFNAME("lo", "t.json:1:41: nodes[0].ifname: 'lo' is the node's loopback interface; choose another name"),
	IFNAME("", "t.json:1:41: nodes[0].ifname: must not be empty"),
	IFNAME("eth0123456789abc", "t.json:1:41: nodes[0].ifname: 'eth0123456789abc' is 16 bytes long, over the kernel's limit of 15"),
	/* Numbers: strictly the digits. */
	SUBNET("10.0.0.0/24garbage"),
	SUBNET("10.0.0.0/+24"),
	SUBNET("10.0.0.0/ 24"),
	SUBNET("10.0.0.0/4294967320"),
	SUBNET("10.0.0.0/"),
	SUBNET("10.0.0.0/024x"),
	SUBNET(" 10.0.0.0/24"),
	{ "fault.length longer than every chain",
	  "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\", \"sf2\"]}],\n"
	  " \"fault\": {\"nodes\": [\"sf1\"], \"length\": 3}}",
	  "t.json:5:30: fault.length: 3 is out of range 1..2" },
};

static void expect_error(const struct bad *b)
{
	struct scenario sc;
	struct sc_err err = { "" };
	int ret = scenario_load_string("t.json", b->text, &sc, &err);

	if (!CHECK(ret == -EINVAL && strncmp(err.msg, b->msg, strlen(b->msg)) == 0, "%s", b->what)) {
		DIAG("expected: %s", b->msg);
		DIAG("got:      %s (ret %d)", ret ? err.msg : "(accepted)", ret);
	}
	if (ret == 0)
		scenario_free(&sc);
}

static void test_errors(void)
{
	for (int i = 0; i < TAP_N(bad); i++)
		expect_error(&bad[i]);
}

/* Files that are not scenarios at all: each error still has file:line:col. */
static const struct bad_file {
	const char *what, *name, *bytes;
	size_t len; /* 0: strlen(bytes); bytes NULL: a directory */
	const char *msg; /* after "<dir>/" */
} bad_files[] = {
	{ "empty file", "empty.json", "", 0, "empty.json:1:1: file is empty" },
	{ "a directory says why it cannot be read", "dir.json", NULL, 0,
	  "dir.json:1:1: cannot read: Is a directory" },
	{ "bytes after a NUL are not ignored", "nul.json", "{\"name\": \"a\"}\n\0{\"x\": 1}", 24,
	  "nul.json:2:1: NUL byte in the file" },
	{ "a missing file", "missing.json", "", 0, "missing.json:1:1: cannot open: No such file or directory" },
};

static void test_bad_files(void)
{
	char dir[] = "/tmp/cadeia-scenario.XXXXXX";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	for (int i = 0; i < TAP_N(bad_files); i++) {
		const struct bad_file *b = &bad_files[i];
		char path[512], want[600];
		struct scenario sc;
		struct sc_err err = { "" };
		FILE *f;
		int ret;

		snprintf(path, sizeof(path), "%s/%s", dir, b->name);
		snprintf(want, sizeof(want), "%s/%s", dir, b->msg);
		if (!b->bytes) {
			mkdir(path, 0700);
		} else if (strcmp(b->name, "missing.json") != 0 && (f = fopen(path, "w"))) {
			fwrite(b->bytes, 1, b->len ? b->len : strlen(b->bytes), f);
			fclose(f);
		}
		ret = scenario_load(path, &sc, &err);
		if (!CHECK(ret < 0 && strcmp(err.msg, want) == 0, "%s", b->what)) {
			DIAG("expected: %s", want);
			DIAG("got:      %s (ret %d)", ret ? err.msg : "(accepted)", ret);
		}
		if (ret == 0)
			scenario_free(&sc);
		b->bytes ? unlink(path) : rmdir(path);
	}
	rmdir(dir);
}

/* The size caps: a file over SC_MAX_FILE_BYTES, a string over SC_MAX_STRING. */
static void test_caps(void)
{
	size_t n = SC_MAX_STRING + 1;
	char *text = malloc(n + 64), path[] = "/tmp/cadeia-big.XXXXXX";
	struct scenario sc;
	struct sc_err err = { "" };
	int fd, ret;

	memset(text, 'k', n + 64);
	memcpy(text, "{\n \"", 4);
	snprintf(text + 4 + n, 60, "\": 1}");
	ret = scenario_load_string("t.json", text, &sc, &err);
	CHECK(ret == -EINVAL && strcmp(err.msg, "t.json:2:2: string longer than 4096 bytes, the limit in a scenario") == 0,
	      "a key over %d bytes is refused at its position (%s)", SC_MAX_STRING, err.msg);
	free(text);

	/* Lines of "[1,\n" well past the cap: refused at the byte that crosses it. */
	fd = mkstemp(path);
	for (int i = 0; fd >= 0 && i < SC_MAX_FILE_BYTES / 4 + 10; i++)
		if (write(fd, i ? "1,1\n" : "[1,\n", 4) != 4)
			break;
	if (fd >= 0)
		close(fd);
	ret = scenario_load(path, &sc, &err);
	CHECK(ret == -EFBIG && strstr(err.msg, ":262145:1: file longer than 1048576 bytes, the limit for a scenario"),
	      "a file over 1 MiB is refused where it crosses the cap (%s)", err.msg);
	unlink(path);
}

/* The one strict number parser every input goes through. */
static const struct num_case {
	const char *s;
	long long lo, hi;
	int ret;
	long long v;
} num_cases[] = {
	{ "24", 8, 30, 0, 24 },       { "-1", -1, 10, 0, -1 },     { "+24", 8, 30, -EINVAL, 0 },
	{ " 24", 8, 30, -EINVAL, 0 }, { "24 ", 8, 30, -EINVAL, 0 }, { "24x", 8, 30, -EINVAL, 0 },
	{ "", 8, 30, -EINVAL, 0 },    { "0x18", 0, 99, -EINVAL, 0 }, { "-1", 0, 10, -EINVAL, 0 },
	{ "4294967320", 8, 30, -ERANGE, 0 }, { "99999999999999999999", 0, 1, -ERANGE, 0 },
	{ "31", 8, 30, -ERANGE, 0 },
};

static void test_num(void)
{
	double d;

	for (int i = 0; i < TAP_N(num_cases); i++) {
		const struct num_case *t = &num_cases[i];
		long long v = 12345;
		int ret = num_parse_ll(t->s, t->lo, t->hi, &v);

		CHECK(ret == t->ret && (ret ? v == 12345 : v == t->v), "num_parse_ll(\"%s\", %lld..%lld) = %d",
		      t->s, t->lo, t->hi, t->ret);
	}
	CHECK(num_parse_double("0.5", 0, 1, &d) == 0 && d == 0.5 &&
	      num_parse_double("1e3", 0, 1e4, &d) == 0 && d == 1000,
	      "num_parse_double takes 0.5 and 1e3");
	CHECK(num_parse_double("nan", 0, 1, &d) == -EINVAL && num_parse_double("inf", 0, 1e9, &d) == -EINVAL &&
	      num_parse_double(" 1", 0, 9, &d) == -EINVAL && num_parse_double("1x", 0, 9, &d) == -EINVAL &&
	      num_parse_double("+1", 0, 9, &d) == -EINVAL && num_parse_double("0x1p3", 0, 99, &d) == -EINVAL &&
	      num_parse_double("1e999", 0, 9, &d) == -ERANGE,
	      "num_parse_double refuses nan, inf, blanks, '+', hex and overflow");
}

static void test_shipped(void)
{
	static const char *files[] = { "scenarios/chain8.json", "scenarios/quick.json",
				       "scenarios/two-chains.json" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct scenario sc;
		struct sc_err err;
		int ret = scenario_load(files[i], &sc, &err);

		CHECK(ret == 0, "%s validates%s%s", files[i], ret ? ": " : "", ret ? err.msg : "");
		if (ret)
			continue;
		if (strstr(files[i], "chain8")) {
			CHECK(sc.n_lengths == 9 && sc.lengths[0] == 0 && sc.lengths[8] == 8,
			      "chain8 sweeps lengths 0..8");
			CHECK(sc.measure.icmp_size == 64 && sc.measure.rate_pps == 100 &&
			      sc.measure.rounds == 15 && sc.measure.per_round == 100,
			      "chain8 uses the paper's method (64 B, 100 pps, 15 x 100)");
		}
		scenario_free(&sc);
	}
}

static void test_defaults_and_addressing(void)
{
	struct scenario sc;
	struct sc_err err;
	int ret = scenario_load_string("d.json",
		"{" NODES3 ", \"chains\": [{\"name\": \"c\", \"spi\": 5, \"sfs\": [\"sf1\", \"sf2\"]}]}",
		&sc, &err);

	if (!CHECK(ret == 0, "minimal scenario is accepted")) {
		DIAG("%s", err.msg);
		return;
	}
	CHECK(sc.measure.icmp_size == 64 && sc.measure.rate_pps == 100 && sc.measure.rounds == 15 &&
	      sc.measure.per_round == 100, "measure defaults follow the paper");
	CHECK(sc.chains[0].si == 255 && sc.chains[0].md_type == 2 && sc.chains[0].inner == NSH_NP_ETH,
	      "chain defaults: SI 255, MD type 2, inner Ethernet");
	CHECK(sc.n_lengths == 1 && sc.lengths[0] == 2, "no sweep means the full chain");
	CHECK(ntohl(sc.nodes[2].ip) == (10u << 24 | 201u << 16 | 3), "node 2 gets 10.201.0.3");
	CHECK(memcmp(sc.nodes[2].mac, "\x02\xcb\x00\x00\x00\x03", 6) == 0,
	      "node 2 gets MAC 02:cb:00:00:00:03");
	CHECK(sc.nodes[2].fn == SC_FN_WIRE && sc.nodes[0].fn == SC_FN_NONE,
	      "SFs default to the wire, src runs no function");
	scenario_free(&sc);
}

static void test_control(void)
{
	static struct cp_tables t;
	struct scenario sc;
	struct sc_err err;
	char e[256];
	int ret;

	ret = scenario_load("scenarios/two-chains.json", &sc, &err);
	if (!CHECK(ret == 0, "two-chains loads"))
		return;
	int src = sc_node_index(&sc, "src"), sf1 = sc_node_index(&sc, "sf1"),
	    sf2 = sc_node_index(&sc, "sf2"), sf3 = sc_node_index(&sc, "sf3"),
	    sf4 = sc_node_index(&sc, "sf4"), dest2 = sc_node_index(&sc, "dest2");

	ret = cp_compute(&sc, 0, &t, e, sizeof(e));
	CHECK(ret == 0 && t.node[src].n_cls == 0 && t.node[sf1].n_fwd == 0,
	      "length 0: no classifier rule, no forwarding entry");

	ret = cp_compute(&sc, 3, &t, e, sizeof(e));
	CHECK(ret == 0 && t.node[src].n_cls == 2, "length 3: src classifies both chains");
	CHECK(t.node[src].cls[1].spi == 20 && t.node[src].cls[1].si == 255 &&
	      t.node[src].cls[1].dst == sc.nodes[dest2].ip &&
	      memcmp(t.node[src].cls[1].next_hop, sc.nodes[sf3].mac, 6) == 0,
	      "chain b: SPI 20 SI 255 to dest2 via sf3 first");
	/* sf2 is in both chains: a at position 2 (SI 253 out), b at 2 (SI 253). */
	CHECK(t.node[sf2].n_fwd == 2 && t.node[sf2].fwd[0].key.spi == 10 &&
	      t.node[sf2].fwd[0].key.si == 253 && t.node[sf2].fwd[0].val.action == FWD_NEXT_HOP &&
	      memcmp(t.node[sf2].fwd[0].val.mac, sc.nodes[sf3].mac, 6) == 0,
	      "shared sf2: chain a (10, 253) -> sf3");
	CHECK(t.node[sf2].fwd[1].key.spi == 20 && t.node[sf2].fwd[1].key.si == 253 &&
	      memcmp(t.node[sf2].fwd[1].val.mac, sc.nodes[sf4].mac, 6) == 0,
	      "shared sf2: chain b (20, 253) -> sf4");
	CHECK(t.node[sf4].n_fwd == 1 && t.node[sf4].fwd[0].key.si == 252 &&
	      t.node[sf4].fwd[0].val.action == FWD_END &&
	      memcmp(t.node[sf4].fwd[0].val.mac, sc.nodes[dest2].mac, 6) == 0,
	      "chain b ends at sf4: (20, 252) -> end, dest2's MAC");

	ret = cp_compute(&sc, 1, &t, e, sizeof(e));
	CHECK(ret == 0 && t.node[sf1].n_fwd == 1 && t.node[sf1].fwd[0].val.action == FWD_END &&
	      t.node[sf2].n_fwd == 0, "length 1: first SF of each chain ends it");
	scenario_free(&sc);
}

int main(void)
{
	tap_plan(TAP_N(bad) + TAP_N(bad_files) + 2 + TAP_N(num_cases) + 2 + 5 + 7 + 8);
	test_errors();
	test_bad_files();
	test_caps();
	test_num();
	test_shipped();
	test_defaults_and_addressing();
	test_control();
	return tap_done();
}
