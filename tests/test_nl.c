// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * testbed/nl + testbed/netns against the real kernel: a bridge and two
 * namespaces with veths (all named cbtC*), port flags, FDB, addresses,
 * neighbours, tx checksum and sysctls, each read back through our own dumps
 * and cross-checked with ip/bridge/ethtool; then ping, error messages, and a
 * teardown that leaves nothing named cbtC* behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <linux/neighbour.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/netns.h"
#include "sys/nl.h"
#include "support/support.h"
#include "tap.h"

#define PFX "cbtC"
#define NS_A PFX "-a"
#define NS_B PFX "-b"
#define BR PFX "-br"
#define PORT_A PFX "-a" /* root end of A's veth; its peer is eth0 in NS_A */
#define PORT_B PFX "-b"
#define IP_A "192.0.2.1"
#define IP_B "192.0.2.2"

static const uint8_t mac_a[6] = { 0x02, 0xcb, 0x0c, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0xcb, 0x0c, 0x00, 0x00, 0x0b };
static char err[512];

/* Removes everything named PFX*: links in the root netns (a veth goes with
 * its peer), then the namespaces. Returns how many objects it removed. */
static int teardown_all(bool quiet)
{
	struct nl_link *links = NULL;
	char **names = NULL;
	size_t n = 0;
	int removed = 0;

	if (!nl_link_list(NULL, PFX, &links, &n, err, sizeof(err))) {
		/* Ports first, so the bridge goes last. */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < n; i++) {
				bool is_br = !strcmp(links[i].kind, "bridge");

				if (is_br != (pass == 1))
					continue;
				if (!nl_link_del(NULL, links[i].name, err, sizeof(err)))
					removed++;
				else if (!quiet)
					DIAG("teardown: %s", err);
			}
		free(links);
	}
	if (!netns_list(PFX, &names, &n, err, sizeof(err))) {
		for (size_t i = 0; i < n; i++) {
			if (!netns_del(names[i], err, sizeof(err)))
				removed++;
			else if (!quiet)
				DIAG("teardown: %s", err);
		}
		netns_names_free(names, n);
	}
	return removed;
}

static int orig_netns = -1;

static void teardown_atexit(void)
{
	/* A signal may arrive while netns_run has us inside NS_A or NS_B. */
	if (orig_netns >= 0)
		setns(orig_netns, CLONE_NEWNET);
	teardown_all(true);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(2); /* runs teardown_atexit */
}

/* Runs cmd with sh, output (stdout+stderr) into out; returns exit status. */
static int run(const char *cmd, char *out, size_t len)
{
	size_t got = 0;
	FILE *f;
	int st;

	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out && len) {
		got = fread(out, 1, len - 1, f);
		out[got] = '\0';
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *run_json(const char *cmd)
{
	static char out[65536];
	json_error_t je;

	if (run(cmd, out, sizeof(out)) != 0) {
		DIAG("%s failed: %s", cmd, out);
		return NULL;
	}
	return json_loads(out, 0, &je);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* 1/0 for a JSON boolean, -1 if missing. */
static int jbool(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_boolean(v) ? json_is_true(v) : -1;
}

static struct in_addr ip4(const char *s)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a;
}

/* netns_run callback: the inode of the calling thread's netns. */
static int read_netns_ino(void *arg)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	*(ino_t *)arg = st.st_ino;
	return 0;
}

static int fail_inside(void *arg)
{
	(void)arg;
	return -ENOTRECOVERABLE;
}

static void test_netns(void)
{
	char **names = NULL;
	size_t n = 0;
	ino_t self = 0, inside_a = 0, inside_b = 0, after = 0;
	char out[4096], buf[32], root_before[32] = "";
	int fd, ret;

	ret = netns_add(NS_A, err, sizeof(err));
	CHECK(ret == 0, "netns_add %s: %s", NS_A, ret ? err : "ok");
	ret = netns_add(NS_B, err, sizeof(err));
	CHECK(ret == 0, "netns_add %s: %s", NS_B, ret ? err : "ok");
	CHECK(netns_exists(NS_A) && netns_exists(NS_B), "both namespaces exist");
	CHECK(!netns_exists(PFX "-zz"), "netns_exists is false for a missing name");

	ret = netns_add(NS_A, err, sizeof(err));
	CHECK(ret == -EEXIST && !strcmp(err, "creating netns " NS_A ": File exists"),
	      "creating an existing netns fails: \"%s\"", err);
	ret = netns_del(PFX "-zz", err, sizeof(err));
	CHECK(ret == -ENOENT &&
	      !strcmp(err, "deleting netns " PFX "-zz: No such file or directory"),
	      "deleting a missing netns fails: \"%s\"", err);

	ret = netns_list(PFX, &names, &n, err, sizeof(err));
	CHECK(ret == 0 && n == 2 && !strcmp(names[0], NS_A) && !strcmp(names[1], NS_B),
	      "netns_list " PFX " gives exactly %s, %s (got %zu)", NS_A, NS_B, n);
	netns_names_free(names, n);

	ret = run("ip netns list", out, sizeof(out));
	CHECK(ret == 0 && strstr(out, NS_A) && strstr(out, NS_B),
	      "ip netns list shows both");

	fd = netns_open(NS_A, err, sizeof(err));
	CHECK(fd >= 0, "netns_open %s", NS_A);
	if (fd >= 0)
		close(fd);

	read_netns_ino(&self);
	ret = netns_run(NS_A, read_netns_ino, &inside_a, err, sizeof(err));
	CHECK(ret == 0, "netns_run into %s", NS_A);
	netns_run(NS_B, read_netns_ino, &inside_b, err, sizeof(err));
	read_netns_ino(&after);
	CHECK(inside_a && inside_b && inside_a != self && inside_b != self &&
	      inside_a != inside_b, "callbacks ran in two distinct, new namespaces");
	CHECK(after == self, "netns_run returned to the original netns");

	ret = netns_run(NS_A, fail_inside, NULL, err, sizeof(err));
	read_netns_ino(&after);
	CHECK(ret == -ENOTRECOVERABLE && after == self,
	      "a failing callback's error comes back and the netns is restored");

	ret = netns_run(PFX "-zz", read_netns_ino, &after, err, sizeof(err));
	CHECK(ret == -ENOENT &&
	      !strcmp(err, "opening netns " PFX "-zz: No such file or directory"),
	      "netns_run into a missing netns fails: \"%s\"", err);

	ret = netns_sysctl_read(NULL, "net/ipv6/conf/default/disable_ipv6", root_before,
				sizeof(root_before), err, sizeof(err));
	CHECK(ret == 0, "root netns default/disable_ipv6 reads \"%s\"", root_before);
	/* Before any link is up, so no IPv6 chatter ever reaches the bridge. */
	ret = netns_sysctl_write(NS_A, "net/ipv6/conf/all/disable_ipv6", "1", err, sizeof(err));
	ret |= netns_sysctl_write(NS_A, "net/ipv6/conf/default/disable_ipv6", "1", err, sizeof(err));
	ret |= netns_sysctl_write(NS_B, "net/ipv6/conf/all/disable_ipv6", "1", err, sizeof(err));
	ret |= netns_sysctl_write(NS_B, "net/ipv6/conf/default/disable_ipv6", "1", err, sizeof(err));
	CHECK(ret == 0, "disable_ipv6=1 written in both namespaces");
	buf[0] = '\0';
	ret = netns_sysctl_read(NS_A, "net/ipv6/conf/all/disable_ipv6", buf, sizeof(buf),
				err, sizeof(err));
	CHECK(ret == 0 && !strcmp(buf, "1"), "disable_ipv6 reads back 1 in %s", NS_A);
	ret = run("ip netns exec " NS_B " sysctl -n net.ipv6.conf.all.disable_ipv6",
		  out, sizeof(out));
	CHECK(ret == 0 && !strcmp(out, "1\n"),
	      "ip netns exec %s sees disable_ipv6 = 1", NS_B);
	netns_sysctl_read(NULL, "net/ipv6/conf/default/disable_ipv6", buf, sizeof(buf),
			  err, sizeof(err));
	CHECK(!strcmp(buf, root_before), "the root netns value is unchanged (\"%s\")", buf);
	ret = netns_sysctl_write(NS_A, "net/ipv6/conf/nosuchdev0/disable_ipv6", "1",
				 err, sizeof(err));
	CHECK(ret == -ENOENT &&
	      !strcmp(err, "setting sysctl net/ipv6/conf/nosuchdev0/disable_ipv6=1 in netns "
		      NS_A ": No such file or directory"),
	      "writing a missing sysctl fails: \"%s\"", err);
}

static void test_links(void)
{
	struct nl_bridge_opts bo = { .ageing_time_cs = 1000 };
	struct nl_link l, br, *links = NULL;
	size_t n = 0;
	json_t *j;
	int ret;

	ret = nl_bridge_add(NULL, BR, &bo, err, sizeof(err));
	CHECK(ret == 0, "bridge %s created: %s", BR, ret ? err : "ok");
	j = run_json("ip -j -d link show " BR);
	if (j) {
		json_t *d = json_object_get(json_object_get(json_array_get(j, 0), "linkinfo"),
					    "info_data");

		CHECK(jint(d, "stp_state") == 0 && jint(d, "forward_delay") == 0 &&
		      jint(d, "vlan_filtering") == 0 && jint(d, "ageing_time") == 1000,
		      "ip sees stp 0, forward_delay 0, vlan_filtering 0, ageing 1000 "
		      "(got %lld %lld %lld %lld)", (long long)jint(d, "stp_state"),
		      (long long)jint(d, "forward_delay"), (long long)jint(d, "vlan_filtering"),
		      (long long)jint(d, "ageing_time"));
		json_decref(j);
	} else {
		CHECK(0, "ip -j -d link show %s", BR);
	}

	ret = nl_veth_add(NULL, PORT_A, "eth0", NS_A, err, sizeof(err));
	CHECK(ret == 0, "veth %s / eth0 in %s: %s", PORT_A, NS_A, ret ? err : "ok");
	ret = nl_veth_add(NULL, PORT_B, "eth0", NS_B, err, sizeof(err));
	CHECK(ret == 0, "veth %s / eth0 in %s: %s", PORT_B, NS_B, ret ? err : "ok");

	ret = nl_veth_add(NULL, PORT_A, "eth0", NS_A, err, sizeof(err));
	CHECK(ret == -EEXIST &&
	      !strcmp(err, "creating veth " PORT_A " (peer eth0 in netns " NS_A "): File exists"),
	      "creating an existing veth fails: \"%s\"", err);
	ret = nl_veth_add(NULL, PFX "-0123456789ab", "eth0", NS_A, err, sizeof(err));
	CHECK(ret == -ENAMETOOLONG &&
	      !strcmp(err, "creating veth " PFX "-0123456789ab (peer eth0 in netns " NS_A
		      "): name " PFX "-0123456789ab too long (17 > 15 characters)"),
	      "a 17-character name is refused: \"%s\"", err);
	ret = nl_veth_add(NULL, PFX "-c", "eth0", PFX "-zz", err, sizeof(err));
	CHECK(ret == -ENOENT &&
	      !strcmp(err, "creating veth " PFX "-c (peer eth0 in netns " PFX "-zz): "
		      "opening netns " PFX "-zz: No such file or directory"),
	      "a peer netns that does not exist is reported: \"%s\"", err);

	ret = nl_link_get(NS_A, "eth0", &l, err, sizeof(err));
	CHECK(ret == 0 && !strcmp(l.kind, "veth") && l.ifindex > 0,
	      "eth0 is a veth inside %s", NS_A);
	ret = nl_link_get(NULL, PORT_A, &l, err, sizeof(err));
	CHECK(ret == 0 && !strcmp(l.kind, "veth"), "%s is a veth in the root netns", PORT_A);
	ret = nl_link_get(NULL, "eth0-" PFX, &l, err, sizeof(err));
	CHECK(ret == -ENODEV &&
	      !strcmp(err, "looking up link eth0-" PFX ": No such device"),
	      "looking up a missing link fails: \"%s\"", err);

	/* MTU, MAC, master, up: what the orchestrator does per node. */
	ret = nl_link_set_mtu(NULL, BR, 1600, err, sizeof(err));
	ret = ret ?: nl_link_set_mtu(NULL, PORT_A, 1600, err, sizeof(err));
	ret = ret ?: nl_link_set_mtu(NULL, PORT_B, 1600, err, sizeof(err));
	ret = ret ?: nl_link_set_mtu(NS_A, "eth0", 1600, err, sizeof(err));
	ret = ret ?: nl_link_set_mtu(NS_B, "eth0", 1600, err, sizeof(err));
	CHECK(ret == 0, "MTU 1600 set on bridge and all veth ends: %s", ret ? err : "ok");
	ret = nl_link_set_mac(NS_A, "eth0", mac_a, err, sizeof(err));
	ret = ret ?: nl_link_set_mac(NS_B, "eth0", mac_b, err, sizeof(err));
	CHECK(ret == 0, "MACs set: %s", ret ? err : "ok");
	ret = nl_link_set_master(NULL, PORT_A, BR, err, sizeof(err));
	ret = ret ?: nl_link_set_master(NULL, PORT_B, BR, err, sizeof(err));
	CHECK(ret == 0, "ports enslaved to %s: %s", BR, ret ? err : "ok");
	ret = nl_link_set_master(NULL, PORT_A, PFX "-nobr", err, sizeof(err));
	CHECK(ret == -ENODEV &&
	      !strcmp(err, "adding " PORT_A " to " PFX "-nobr: No such device"),
	      "enslaving to a missing bridge fails: \"%s\"", err);

	/* Keep the bridge and root-side ends quiet on IPv6 too. */
	ret = netns_sysctl_write(NULL, "net/ipv6/conf/" BR "/disable_ipv6", "1", err, sizeof(err));
	ret = ret ?: netns_sysctl_write(NULL, "net/ipv6/conf/" PORT_A "/disable_ipv6", "1",
					err, sizeof(err));
	ret = ret ?: netns_sysctl_write(NULL, "net/ipv6/conf/" PORT_B "/disable_ipv6", "1",
					err, sizeof(err));
	CHECK(ret == 0, "IPv6 off on %s and its ports: %s", BR, ret ? err : "ok");

	ret = nl_link_set_up(NULL, BR, true, err, sizeof(err));
	ret = ret ?: nl_link_set_up(NULL, PORT_A, true, err, sizeof(err));
	ret = ret ?: nl_link_set_up(NULL, PORT_B, true, err, sizeof(err));
	ret = ret ?: nl_link_set_up(NS_A, "eth0", true, err, sizeof(err));
	ret = ret ?: nl_link_set_up(NS_B, "eth0", true, err, sizeof(err));
	ret = ret ?: nl_link_set_up(NS_A, "lo", true, err, sizeof(err));
	CHECK(ret == 0, "all links up: %s", ret ? err : "ok");

	ret = nl_link_set_master(NULL, PORT_B, NULL, err, sizeof(err));
	ret = ret ?: nl_link_get(NULL, PORT_B, &l, err, sizeof(err));
	CHECK(ret == 0 && l.master == 0, "%s released from %s", PORT_B, BR);
	ret = nl_link_set_up(NULL, PORT_B, false, err, sizeof(err));
	ret = ret ?: nl_link_get(NULL, PORT_B, &l, err, sizeof(err));
	CHECK(ret == 0 && !(l.flags & IFF_UP), "%s set down", PORT_B);
	ret = nl_link_set_master(NULL, PORT_B, BR, err, sizeof(err));
	ret = ret ?: nl_link_set_up(NULL, PORT_B, true, err, sizeof(err));
	CHECK(ret == 0, "%s enslaved and up again: %s", PORT_B, ret ? err : "ok");

	ret = nl_link_set_mtu(NS_A, "eth0", 70000, err, sizeof(err));
	CHECK(ret == -EINVAL &&
	      !strncmp(err, "setting MTU 70000 on eth0 in netns " NS_A ": Invalid argument",
		       strlen("setting MTU 70000 on eth0 in netns " NS_A ": Invalid argument")),
	      "an MTU over the veth maximum is refused: \"%s\"", err);

	/* Read back through our own dump. */
	nl_link_get(NULL, BR, &br, err, sizeof(err));
	ret = nl_link_get(NS_A, "eth0", &l, err, sizeof(err));
	CHECK(ret == 0 && !memcmp(l.mac, mac_a, 6) && l.mtu == 1600 && (l.flags & IFF_UP),
	      "eth0 in %s: MAC, MTU 1600, up", NS_A);
	ret = nl_link_get(NULL, PORT_B, &l, err, sizeof(err));
	CHECK(ret == 0 && br.ifindex > 0 && l.master == br.ifindex && l.mtu == 1600 &&
	      (l.flags & IFF_UP), "%s: master %s, MTU 1600, up", PORT_B, BR);
	CHECK(!strcmp(br.kind, "bridge") && br.mtu == 1600 && (br.flags & IFF_UP),
	      "%s: a bridge, MTU 1600, up", BR);

	ret = nl_link_list(NULL, PFX, &links, &n, err, sizeof(err));
	CHECK(ret == 0 && n == 3, "nl_link_list " PFX " in the root netns gives 3 links (got %zu)", n);
	free(links);
	ret = nl_link_list(NS_B, NULL, &links, &n, err, sizeof(err));
	CHECK(ret == 0 && n == 2 && !strcmp(links[0].name, "lo") && !strcmp(links[1].name, "eth0"),
	      "%s holds exactly lo and eth0 (got %zu)", NS_B, n);
	free(links);

	/* And through ip. */
	j = run_json("ip -n " NS_B " -j link show eth0");
	CHECK(j && !strcmp(jstr(json_array_get(j, 0), "address"), "02:cb:0c:00:00:0b") &&
	      jint(json_array_get(j, 0), "mtu") == 1600,
	      "ip sees eth0 in %s with MAC 02:cb:0c:00:00:0b and MTU 1600", NS_B);
	json_decref(j);
	j = run_json("ip -j link show " PORT_A);
	CHECK(j && !strcmp(jstr(json_array_get(j, 0), "master"), BR),
	      "ip sees %s enslaved to %s", PORT_A, BR);
	json_decref(j);
}

static void test_l3(void)
{
	struct nl_addr4 *addrs = NULL;
	struct nl_neigh4 *ne = NULL;
	char a[INET_ADDRSTRLEN] = "";
	struct nl_link l;
	size_t n = 0;
	json_t *j, *ai;
	int ret;

	ret = nl_addr4_add(NS_A, "eth0", ip4(IP_A), 24, err, sizeof(err));
	ret = ret ?: nl_addr4_add(NS_B, "eth0", ip4(IP_B), 24, err, sizeof(err));
	CHECK(ret == 0, "addresses %s/24 and %s/24 added: %s", IP_A, IP_B, ret ? err : "ok");
	ret = nl_addr4_add(NS_A, "eth0", ip4(IP_A), 24, err, sizeof(err));
	/* The kernel adds its own reason (extended ack) after ours. */
	CHECK(ret == -EEXIST &&
	      !strncmp(err, "adding address " IP_A "/24 to eth0 in netns " NS_A ": File exists",
		       strlen("adding address " IP_A "/24 to eth0 in netns " NS_A ": File exists")),
	      "adding it twice fails: \"%s\"", err);
	ret = nl_addr4_add(NS_A, "eth9", ip4(IP_A), 24, err, sizeof(err));
	CHECK(ret == -ENODEV &&
	      !strcmp(err, "adding address " IP_A "/24 to eth9 in netns " NS_A ": No such device"),
	      "adding to a missing link fails: \"%s\"", err);

	ret = nl_addr4_list(NS_A, "eth0", &addrs, &n, err, sizeof(err));
	if (n)
		inet_ntop(AF_INET, &addrs[0].addr, a, sizeof(a));
	CHECK(ret == 0 && n == 1 && !strcmp(a, IP_A) && addrs[0].prefixlen == 24,
	      "eth0 in %s has exactly %s/24 (got %zu, %s)", NS_A, IP_A, n, a);
	free(addrs);
	j = run_json("ip -n " NS_B " -j -4 addr show dev eth0");
	ai = json_array_get(json_object_get(json_array_get(j, 0), "addr_info"), 0);
	CHECK(j && !strcmp(jstr(ai, "local"), IP_B) && jint(ai, "prefixlen") == 24,
	      "ip sees %s/24 on eth0 in %s", IP_B, NS_B);
	json_decref(j);

	/* Pinned neighbours: with broadcast flooding off, ARP could not resolve. */
	ret = nl_neigh4_set(NS_A, "eth0", ip4(IP_B), mac_b, err, sizeof(err));
	ret = ret ?: nl_neigh4_set(NS_B, "eth0", ip4(IP_A), mac_a, err, sizeof(err));
	CHECK(ret == 0, "permanent neighbours set: %s", ret ? err : "ok");
	ret = nl_neigh4_set(NS_A, "eth0", ip4(IP_B), mac_b, err, sizeof(err));
	CHECK(ret == 0, "setting the same neighbour again is fine (replace)");

	nl_link_get(NS_A, "eth0", &l, err, sizeof(err));
	ret = nl_neigh4_list(NS_A, "eth0", &ne, &n, err, sizeof(err));
	a[0] = '\0';
	if (n)
		inet_ntop(AF_INET, &ne[0].dst, a, sizeof(a));
	CHECK(ret == 0 && n == 1 && !strcmp(a, IP_B) && !memcmp(ne[0].mac, mac_b, 6) &&
	      ne[0].state == NUD_PERMANENT && ne[0].ifindex == l.ifindex,
	      "%s -> 02:cb:0c:00:00:0b PERMANENT is the only neighbour in %s (got %zu)",
	      IP_B, NS_A, n);
	free(ne);
	j = run_json("ip -n " NS_B " -j neigh show dev eth0");
	CHECK(j && json_array_size(j) == 1 &&
	      !strcmp(jstr(json_array_get(j, 0), "dst"), IP_A) &&
	      !strcmp(jstr(json_array_get(j, 0), "lladdr"), "02:cb:0c:00:00:0a") &&
	      !strcmp(json_string_value(json_array_get(json_object_get(json_array_get(j, 0),
					"state"), 0)) ?: "", "PERMANENT"),
	      "ip sees %s lladdr 02:cb:0c:00:00:0a PERMANENT in %s", IP_A, NS_B);
	json_decref(j);
}

/* ping's status: 0 = replies, 1 = no reply; anything else means the
 * check itself is broken (e.g. no ping binary), which must not pass as
 * "unreachable". */
static int ping_rc(void)
{
	return run("ip netns exec " NS_A " ping -n -c 3 -i 0.2 -W 1 " IP_B, NULL, 0);
}

static void test_bridge_ports(void)
{
	const struct nl_brport_flags off = { 0 };
	struct nl_brport_flags f;
	struct nl_fdb *fdb = NULL;
	struct nl_link br, port;
	char out[4096];
	size_t n = 0, found = 0;
	json_t *j;
	int ret;

	ret = nl_brport_get_flags(NULL, PORT_A, &f, err, sizeof(err));
	CHECK(ret == 0 && f.learning && f.unicast_flood && f.mcast_flood && f.bcast_flood,
	      "a new port starts with learning and all flooding on");

	ret = nl_brport_set_flags(NULL, PORT_A, &off, err, sizeof(err));
	ret = ret ?: nl_brport_set_flags(NULL, PORT_B, &off, err, sizeof(err));
	CHECK(ret == 0, "learning and flooding off on both ports: %s", ret ? err : "ok");
	memset(&f, 1, sizeof(f));
	ret = nl_brport_get_flags(NULL, PORT_B, &f, err, sizeof(err));
	CHECK(ret == 0 && !f.learning && !f.unicast_flood && !f.mcast_flood && !f.bcast_flood,
	      "our dump reads all four flags off on %s", PORT_B);
	j = run_json("bridge -j -d link show dev " PORT_A);
	CHECK(j && jbool(json_array_get(j, 0), "learning") == 0 &&
	      jbool(json_array_get(j, 0), "flood") == 0 &&
	      jbool(json_array_get(j, 0), "mcast_flood") == 0 &&
	      jbool(json_array_get(j, 0), "bcast_flood") == 0,
	      "bridge sees learning, flood, mcast_flood, bcast_flood off on %s", PORT_A);
	json_decref(j);
	ret = nl_brport_get_flags(NS_A, "eth0", &f, err, sizeof(err));
	CHECK(ret == -ENOENT &&
	      !strcmp(err, "reading bridge port flags of eth0 in netns " NS_A ": not a bridge port"),
	      "flags of a non-port: \"%s\"", err);

	/* With flooding and learning off and no FDB entry, unicast has nowhere
	 * to go: this is what makes the FDB entries below matter. */
	ret = ping_rc();
	CHECK(ret == 1, "without FDB entries, %s cannot reach %s (ping status %d)",
	      NS_A, NS_B, ret);
	/* That traffic entered port A: with learning on, the bridge would now
	 * hold 02:cb:0c:00:00:0a as a learned (non-static) entry there. */
	ret = nl_fdb_list(NULL, PORT_A, &fdb, &n, err, sizeof(err));
	found = 0;
	for (size_t i = 0; i < n; i++)
		if (fdb[i].master && fdb[i].state != NUD_NOARP &&
		    fdb[i].state != NUD_PERMANENT)
			found++;
	CHECK(ret == 0 && found == 0, "nothing learned on %s from that traffic", PORT_A);
	free(fdb);

	ret = nl_fdb_add(NULL, PORT_A, mac_a, err, sizeof(err));
	ret = ret ?: nl_fdb_add(NULL, PORT_B, mac_b, err, sizeof(err));
	CHECK(ret == 0, "static FDB entries added: %s", ret ? err : "ok");
	ret = nl_fdb_add(NULL, PORT_B, mac_b, err, sizeof(err));
	CHECK(ret == 0, "adding the same FDB entry again is fine (replace)");

	nl_link_get(NULL, BR, &br, err, sizeof(err));
	nl_link_get(NULL, PORT_A, &port, err, sizeof(err));
	ret = nl_fdb_list(NULL, PORT_A, &fdb, &n, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		if (!memcmp(fdb[i].mac, mac_a, 6)) {
			found++;
			CHECK(fdb[i].state == NUD_NOARP && fdb[i].master == br.ifindex &&
			      fdb[i].ifindex == port.ifindex,
			      "our dump: 02:cb:0c:00:00:0a static (NOARP), master %s, on %s "
			      "(state %#x flags %#x)", BR, PORT_A, fdb[i].state, fdb[i].flags);
		}
	CHECK(ret == 0 && found == 1, "exactly one FDB entry for 02:cb:0c:00:00:0a on %s", PORT_A);
	free(fdb);

	j = run_json("bridge -j fdb show dev " PORT_B);
	found = 0;
	for (size_t i = 0; j && i < json_array_size(j); i++) {
		json_t *e = json_array_get(j, i);

		if (!strcmp(jstr(e, "mac"), "02:cb:0c:00:00:0b") &&
		    !strcmp(jstr(e, "state"), "static") && !strcmp(jstr(e, "master"), BR))
			found++;
	}
	CHECK(found == 1, "bridge sees 02:cb:0c:00:00:0b master %s static on %s", BR, PORT_B);
	json_decref(j);

	ret = nl_fdb_add(NULL, PFX "-nope", mac_a, err, sizeof(err));
	CHECK(ret == -ENODEV &&
	      !strcmp(err, "adding static FDB entry 02:cb:0c:00:00:0a on port " PFX
		      "-nope: No such device"),
	      "FDB entry on a missing port: \"%s\"", err);

	/* ethtool: the source side of a user-space function chain. */
	bool on = false;

	ret = nl_link_get_tx_csum(NS_A, "eth0", &on, err, sizeof(err));
	CHECK(ret == 0 && on, "tx checksum offload starts on for eth0 in %s", NS_A);
	ret = nl_link_set_tx_csum(NS_A, "eth0", false, err, sizeof(err));
	CHECK(ret == 0, "tx checksum offload turned off: %s", ret ? err : "ok");
	on = true;
	ret = nl_link_get_tx_csum(NS_A, "eth0", &on, err, sizeof(err));
	CHECK(ret == 0 && !on, "reads back off");
	ret = run("ip netns exec " NS_A " ethtool -k eth0", out, sizeof(out));
	CHECK(ret == 0 && strstr(out, "\ntx-checksumming: off"),
	      "ethtool -k eth0 in %s says tx-checksumming: off", NS_A);
	ret = run("ip netns exec " NS_B " ethtool -k eth0", out, sizeof(out));
	CHECK(ret == 0 && strstr(out, "\ntx-checksumming: on"),
	      "eth0 in %s is untouched (tx-checksumming: on)", NS_B);
	ret = nl_link_set_tx_csum(NS_A, "eth9", false, err, sizeof(err));
	CHECK(ret == -ENODEV &&
	      !strcmp(err, "turning tx checksum offload off on eth9 in netns " NS_A
		      ": No such device"),
	      "ethtool on a missing link: \"%s\"", err);

	ret = ping_rc();
	CHECK(ret == 0, "with static FDB entries, %s pings %s (ping status %d)",
	      NS_A, NS_B, ret);

	ret = nl_fdb_del(NULL, PORT_B, mac_b, err, sizeof(err));
	CHECK(ret == 0, "FDB entry deleted: %s", ret ? err : "ok");
	ret = ping_rc();
	CHECK(ret == 1, "and without it the ping fails again (ping status %d)", ret);
}

static void test_teardown(void)
{
	struct nl_link *links = NULL;
	char **names = NULL;
	char out[8192];
	size_t n = 0;
	int ret;

	ret = nl_link_del(NULL, PFX "-nope", err, sizeof(err));
	CHECK(ret == -ENODEV && !strcmp(err, "deleting link " PFX "-nope: No such device"),
	      "deleting a missing link fails: \"%s\"", err);
	ret = nl_link_del(NULL, PORT_A, err, sizeof(err));
	CHECK(ret == 0, "deleting %s: %s", PORT_A, ret ? err : "ok");
	ret = nl_link_get(NS_A, "eth0", &(struct nl_link){ 0 }, err, sizeof(err));
	CHECK(ret == -ENODEV, "its peer eth0 in %s went with it", NS_A);

	CHECK(teardown_all(false) == 4, "teardown removed %s, %s, %s, %s", PORT_B, BR, NS_A, NS_B);

	ret = nl_link_list(NULL, PFX, &links, &n, err, sizeof(err));
	CHECK(ret == 0 && n == 0, "no " PFX " links remain (%zu)", n);
	free(links);
	ret = netns_list(PFX, &names, &n, err, sizeof(err));
	CHECK(ret == 0 && n == 0, "no " PFX " namespaces remain (%zu)", n);
	netns_names_free(names, n);
	ret = run("ip -o link show; ip netns list; ls /run/netns", out, sizeof(out));
	CHECK(ret == 0 && !strstr(out, PFX), "ip and /run/netns show nothing named " PFX);
}

int main(void)
{
	int stale;

	tap_plan(85);
	/* Not root is a failure, not a skip: a skipped test would pass. */
	if (geteuid() != 0) {
		CHECK(0, "test_nl needs root (network namespaces, netlink)");
		return tap_done();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	orig_netns = netns_open(NULL, err, sizeof(err));
	stale = teardown_all(false);
	if (stale)
		DIAG("removed %d stale " PFX " objects from an earlier run", stale);
	atexit(teardown_atexit);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	test_netns();
	test_links();
	test_l3();
	test_bridge_ports();
	test_teardown();
	return tap_done();
}
