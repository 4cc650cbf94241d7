/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Scenario parsing and validation: every error class with its exact message,
 * the shipped scenarios, and the control plane's tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "model/control.h"
#include "model/scenario.h"
#include "tap.h"

#define NODES3 "\"nodes\": [{\"name\": \"src\", \"role\": \"src\"},\n" \
	"  {\"name\": \"dest\", \"role\": \"dest\"},\n" \
	"  {\"name\": \"sf1\", \"role\": \"sf\"}, {\"name\": \"sf2\", \"role\": \"sf\"}]"

static void expect_error(const char *what, const char *text, const char *msg)
{
	struct scenario sc;
	struct sc_err err = { "" };
	int ret = scenario_load_string("t.json", text, &sc, &err);

	if (!CHECK(ret == -EINVAL && strcmp(err.msg, msg) == 0, "%s", what)) {
		DIAG("expected: %s", msg);
		DIAG("got:      %s (ret %d)", ret ? err.msg : "(accepted)", ret);
	}
	if (ret == 0)
		scenario_free(&sc);
}

static void test_errors(void)
{
	expect_error("syntax error names line and column",
		     "{\n \"nodes\": [,]\n}",
		     "t.json:2:12: unexpected token near ','");
	expect_error("unknown top-level key",
		     "{\"nodes\": [], \"chainz\": []}",
		     "t.json:1:15: chainz: unknown key (expected one of: name, description, backend, architecture, network, defaults, nodes, chains, sweep, measure, fault, load)");
	expect_error("unknown key in a node",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]}],\n"
		     " \"measure\": {\"rate\": 5}}",
		     "t.json:5:14: measure.rate: unknown key (expected one of: icmp_size, rate_pps, rounds, per_round, warmup, grace_ms)");
	expect_error("duplicate JSON key (jansson)",
		     "{\"name\": \"a\", \"name\": \"b\"}",
		     "t.json:1:20: duplicate object key near '\"name\"'");
	expect_error("duplicate node name",
		     "{\"nodes\": [{\"name\": \"src\", \"role\": \"src\"},\n"
		     "  {\"name\": \"src\", \"role\": \"dest\"}]}",
		     "t.json:2:4: nodes[1].name: duplicate node name 'src' (first defined at line 1)");
	expect_error("duplicate chain name",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]},\n"
		     "  {\"name\": \"c\", \"spi\": 2, \"sfs\": [\"sf2\"]}]}",
		     "t.json:5:4: chains[1].name: duplicate chain name 'c'");
	expect_error("interface name over the kernel's limit (node name)",
		     "{\"nodes\": [{\"name\": \"averylongname\", \"role\": \"src\"}]}",
		     "t.json:1:13: nodes[0].name: 'averylongname' makes the host interface name 'cbXXXX-averylongname' 20 bytes long, over the kernel's limit of 15");
	expect_error("interface name over the kernel's limit (ifname)",
		     "{\"nodes\": [{\"name\": \"s\", \"role\": \"src\", \"ifname\": \"eth0123456789abcd\"}]}",
		     "t.json:1:41: nodes[0].ifname: 'eth0123456789abcd' is 17 bytes long, over the kernel's limit of 15");
	expect_error("chain names an unknown SF",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1,\n  \"sfs\": [\"sf1\", \"sf9\"]}]}",
		     "t.json:5:18: chains[0].sfs[1]: unknown SF 'sf9'");
	expect_error("chain names a node that is not an SF",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"dest\"]}]}",
		     "t.json:4:45: chains[0].sfs[0]: node 'dest' has role 'dest', not 'sf'");
	expect_error("SPI out of range",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 16777216, \"sfs\": []}]}",
		     "t.json:4:27: chains[0].spi: 16777216 is out of range 0..16777215");
	expect_error("SI out of range",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"si\": 256, \"sfs\": []}]}",
		     "t.json:4:37: chains[0].si: 256 is out of range 1..255");
	expect_error("chain longer than SI allows",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"si\": 2,\n"
		     "  \"sfs\": [\"sf1\", \"sf2\"]}]}",
		     "t.json:5:3: chains[0].sfs: 2 SFs, but starting SI 2 allows at most 1 (SI must stay above 0 and TTL 63 above 1)");
	expect_error("forwarding loop: an SF that follows itself",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\", \"sf1\"]}]}",
		     "t.json:4:52: chains[0].sfs[1]: forwarding loop: 'sf1' follows itself, its fwd stage would send the frame to its own MAC");
	expect_error("forwarding loop: two chains on one SPI",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"a\", \"spi\": 1, \"sfs\": [\"sf1\"]},\n"
		     "  {\"name\": \"b\", \"spi\": 1, \"sfs\": [\"sf2\"]}]}",
		     "t.json:5:17: chains[1].spi: forwarding loop: SPI 1 is also chain 'a''s; their (SPI, SI) entries would collide and send frames around both paths");
	expect_error("wrong type",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": \"1\", \"sfs\": []}]}",
		     "t.json:4:27: chains[0].spi: must be an integer");
	expect_error("unknown function kind",
		     "{\"nodes\": [{\"name\": \"s\", \"role\": \"sf\", \"function\": \"vpp\"}]}",
		     "t.json:1:40: nodes[0].function: unknown function 'vpp' (expected wire, kwire, nsh-aware, external or ovs)");
	expect_error("sweep beyond the longest chain",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]}],\n"
		     " \"sweep\": {\"lengths\": [0, 2]}}",
		     "t.json:5:27: sweep.lengths[1]: must be an integer in 0..1 (the longest chain)");
	expect_error("public subnet refused",
		     "{" NODES3 ",\n \"chains\": [{\"name\": \"c\", \"spi\": 1, \"sfs\": [\"sf1\"]}],\n"
		     " \"network\": {\"subnet\": \"8.8.8.0/24\"}}",
		     "t.json:5:14: network.subnet: '8.8.8.0/24' is not in private address space (RFC 1918)");
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
		"{" NODES3 ", \"chains\": [{\"name\": \"c\", \"spi\": 5, \"sfs\": [\"sf1\", \"sf2\", \"sf1\"]}]}",
		&sc, &err);

	if (!CHECK(ret == 0, "minimal scenario with a repeated SF is accepted")) {
		DIAG("%s", err.msg);
		return;
	}
	CHECK(sc.measure.icmp_size == 64 && sc.measure.rate_pps == 100 && sc.measure.rounds == 15 &&
	      sc.measure.per_round == 100, "measure defaults follow the paper");
	CHECK(sc.chains[0].si == 255 && sc.chains[0].md_type == 2 && sc.chains[0].inner == NSH_NP_ETH,
	      "chain defaults: SI 255, MD type 2, inner Ethernet");
	CHECK(sc.n_lengths == 1 && sc.lengths[0] == 3, "no sweep means the full chain");
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
	test_errors();
	test_shipped();
	test_defaults_and_addressing();
	test_control();
	return tap_done();
}
