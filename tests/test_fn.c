// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Service functions (testbed/traffic/fn.c) and their supervision (testbed/sys/supervise.c)
 * on a throw-away pair of namespaces:
 *
 *   netns cbtE-a-PID [cbtEa] <--veth--> [cbtEb] netns cbtE-b-PID
 *                                         function under test runs here
 *
 * The test process stays in its own netns and opens its sockets inside a or b.
 * Functions are spawned with sv_spawn() on this very binary, which dispatches
 * "fn ..." to fn_main() like cadeia-bench does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tap.h"
#include "nsh.h"
#include "traffic/fn.h"
#include "sys/supervise.h"

#define DEV_A "cbtEa"
#define DEV_B "cbtEb"
/* second pair: b's egress mirrors frames whose skb->protocol is IPv4 here */
#define DEV_C "cbtEc"
#define DEV_D "cbtEd"
#define TEST_ETHERTYPE 0x88B5 /* IEEE local experimental */
#define RECV_TIMEOUT_S 3

static const uint8_t mac_a[6] = { 0x02, 0xcb, 0x7e, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0xcb, 0x7e, 0x00, 0x00, 0x0b };
static const uint8_t mac_x[6] = { 0x02, 0xcb, 0x7e, 0x00, 0x00, 0x99 }; /* nobody */
static const uint8_t mac_bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static char ns_a[32], ns_b[32], log_path[64];
static pid_t main_pid;
static pid_t live_pids[16];
static size_t n_live;

struct frame {
	uint8_t b[256];
	size_t len;
};

/* ---- setup / teardown --------------------------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r != 0)
		DIAG("command failed (%d): %s", r, cmd);
	return r;
}

static void track(pid_t pid)
{
	if (n_live < sizeof(live_pids) / sizeof(live_pids[0]))
		live_pids[n_live++] = pid;
}

static void kill_children(void)
{
	size_t i;

	if (getpid() != main_pid)
		return;
	/* only pids this test spawned; kill of a reaped pid is harmless
	 * here because they are our own children until reaped */
	for (i = 0; i < n_live; i++) {
		if (live_pids[i] > 0 && waitpid(live_pids[i], NULL, WNOHANG) == 0) {
			kill(live_pids[i], SIGKILL);
			waitpid(live_pids[i], NULL, 0);
		}
	}
}

static void teardown(void)
{
	char cmd[128];

	if (getpid() != main_pid)
		return;
	kill_children();
	if (ns_a[0]) {
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns_a);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not delete netns %s\n", ns_a);
	}
	if (ns_b[0]) {
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns_b);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not delete netns %s\n", ns_b);
	}
	if (log_path[0])
		unlink(log_path);
}

static void on_fatal_signal(int sig)
{
	teardown();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int setup(void)
{
	snprintf(ns_a, sizeof(ns_a), "cbtE-a-%d", (int)main_pid);
	snprintf(ns_b, sizeof(ns_b), "cbtE-b-%d", (int)main_pid);
	snprintf(log_path, sizeof(log_path), "/tmp/cbtE-fn-%d.log", (int)main_pid);

	if (sh("ip netns add %s", ns_a) || sh("ip netns add %s", ns_b) ||
	    sh("ip link add %s netns %s address 02:cb:7e:00:00:0a type veth "
	       "peer name %s netns %s address 02:cb:7e:00:00:0b",
	       DEV_A, ns_a, DEV_B, ns_b))
		return -1;
	/* IPv6 off: no DAD/RS/MLD chatter on the link */
	if (sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1", ns_a) ||
	    sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1", ns_b) ||
	    sh("ip -n %s addr add 10.77.0.1/24 dev %s", ns_a, DEV_A) ||
	    sh("ip -n %s neigh add 10.77.0.99 lladdr 02:cb:7e:00:00:99 dev %s nud permanent",
	       ns_a, DEV_A) ||
	    sh("ip -n %s link set %s up", ns_a, DEV_A) ||
	    sh("ip -n %s link set %s up", ns_b, DEV_B))
		return -1;
	/* tc matches the filter's protocol against skb->protocol, which is
	 * what the functions set through sll_protocol */
	if (sh("ip link add %s netns %s type veth peer name %s netns %s",
	       DEV_D, ns_a, DEV_C, ns_b) ||
	    sh("ip -n %s link set %s up", ns_a, DEV_D) ||
	    sh("ip -n %s link set %s up", ns_b, DEV_C) ||
	    sh("tc -n %s qdisc add dev %s clsact", ns_b, DEV_B) ||
	    sh("tc -n %s filter add dev %s egress protocol ip prio 1 u32 match u32 0 0 "
	       "action mirred egress mirror dev %s", ns_b, DEV_B, DEV_C))
		return -1;
	return 0;
}

/* ---- sockets inside a netns ---------------------------------------------- */

static int ns_enter(const char *ns, int *saved)
{
	char path[64];
	int fd, ret = -1;

	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return -1;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto cleanup;
	if (setns(fd, CLONE_NEWNET) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (ret < 0) {
		close(*saved);
		*saved = -1;
	}
	return ret;
}

static void ns_leave(int saved)
{
	if (setns(saved, CLONE_NEWNET) < 0) {
		perror("setns back");
		exit(2);
	}
	close(saved);
}

/* AF_PACKET socket on dev inside ns; sees every frame except its own. */
static int raw_open(const char *ns, const char *dev, int *ifindex)
{
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	struct sockaddr_ll sll;
	int saved, fd = -1, one = 1;

	if (ns_enter(ns, &saved) < 0)
		return -1;
	*ifindex = (int)if_nametoindex(dev);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = *ifindex;
	if (fd < 0 || !*ifindex ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("raw_open");
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	ns_leave(saved);
	return fd;
}

static int raw_send(int fd, int ifindex, const struct frame *f)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};

	memcpy(to.sll_addr, f->b, ETH_ALEN);
	to.sll_protocol = htons((uint16_t)(f->b[12] << 8 | f->b[13]));
	return sendto(fd, f->b, f->len, 0, (struct sockaddr *)&to, sizeof(to)) ==
	       (ssize_t)f->len ? 0 : -1;
}

static void eth_raw(uint8_t *b, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = type >> 8;
	b[13] = type & 0xff;
}

static void eth_hdr(struct frame *f, const uint8_t dst[6], const uint8_t src[6],
		    uint16_t type)
{
	eth_raw(f->b, dst, src, type);
	f->len = ETH_HLEN;
}

/* Test-EtherType frame with a tagged, patterned payload. */
static void test_frame(struct frame *f, const uint8_t dst[6], const char *tag)
{
	size_t i;

	eth_hdr(f, dst, mac_a, TEST_ETHERTYPE);
	for (i = 0; i < 80; i++)
		f->b[ETH_HLEN + i] = (uint8_t)(i * 7 + 3);
	snprintf((char *)f->b + ETH_HLEN, 32, "cbtE %s %d", tag, (int)main_pid);
	f->len = ETH_HLEN + 80;
}

static bool frame_eq(const struct frame *f, const uint8_t *b, size_t len)
{
	return f->len == len && memcmp(f->b, b, len) == 0;
}

/*
 * Reads frames until one equal to marker arrives. counts[i] gets how many
 * received frames equalled watch[i]. -1 if the marker never came.
 */
static int recv_until(int fd, const struct frame *marker, const struct frame *watch,
		      size_t nwatch, int *counts)
{
	static uint8_t buf[65600];
	size_t i;

	for (i = 0; i < nwatch; i++)
		counts[i] = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < nwatch; i++)
			if (frame_eq(&watch[i], buf, (size_t)n))
				counts[i]++;
		if (frame_eq(marker, buf, (size_t)n))
			return 0;
	}
}

/* Sends marker and waits for it to come back: reflection is in order, so
 * whatever was sent before it and did not show up was not reflected. */
static int sync_marker(int fd, int ifindex, const char *tag, const struct frame *watch,
		       size_t nwatch, int *counts)
{
	struct frame m;

	test_frame(&m, mac_x, tag);
	if (raw_send(fd, ifindex, &m) < 0)
		return -1;
	return recv_until(fd, &m, watch, nwatch, counts);
}

/* ---- log of the function under test ------------------------------------- */

static char *log_read(void)
{
	static char buf[16384];
	ssize_t n;
	int fd;

	buf[0] = 0;
	fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	return buf;
}

static void log_reset(void)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd >= 0)
		close(fd);
}

/* Value of "name=N" in the last counters line of the log; -1 if absent. */
static long log_counter(const char *name)
{
	char *log = log_read(), *line = NULL, *p, key[64];

	for (p = strstr(log, "fn "); p; p = strstr(p + 1, "\nfn "))
		line = p;
	if (!line)
		return -1;
	snprintf(key, sizeof(key), " %s=", name);
	p = strstr(line, key);
	if (!p) {
		snprintf(key, sizeof(key), ": %s=", name);
		p = strstr(line, key);
	}
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static int spawn_opts(struct sv_child *c, const struct sv_spawn_opts *o, struct cs_err *err)
{
	int r = sv_spawn(c, o, err);

	if (c->pid > 0)
		track(c->pid);
	return r;
}

static int spawn_fn(struct sv_child *c, const char *kind, const char *ns, struct cs_err *err)
{
	struct sv_spawn_opts o = {
		.exe = "/proc/self/exe",
		.node = "sfE",
		.kind = kind,
		.netns = ns,
		.dev = DEV_B,
		.cpu = -1,
		.log_path = log_path,
	};

	return spawn_opts(c, &o, err);
}

/* ---- pure frame handling ------------------------------------------------- */

static uint16_t csum_verify(const uint8_t *ip, size_t l4len, uint8_t proto)
{
	uint32_t sum = 0;
	size_t i;

	/* IPv4 pseudo-header + segment, checksum included: folds to 0 if valid */
	for (i = 12; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	sum += proto + (uint32_t)l4len;
	ip += (ip[0] & 0xf) * 4;
	for (i = 0; i + 1 < l4len; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	if (l4len & 1)
		sum += (uint32_t)ip[l4len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t ipv4_udp(uint8_t *p, const char *payload, size_t plen)
{
	size_t ulen = 8 + plen;
	uint8_t hdr[20] = { 0x45, 0, 0, (uint8_t)(20 + ulen), 0, 1, 0x40, 0, 64, IPPROTO_UDP,
			    0, 0, 10, 77, 0, 1, 10, 77, 0, 99 };

	memcpy(p, hdr, 20);
	p[20] = 0x30; p[21] = 0x39; /* 12345 */
	p[22] = 0x27; p[23] = 0x0f; /* 9999 */
	p[24] = 0; p[25] = (uint8_t)ulen;
	p[26] = 0xab; p[27] = 0xcd; /* garbage, as a partial checksum would be */
	memcpy(p + 28, payload, plen);
	return 20 + ulen;
}

static void test_pure(void)
{
	struct fn_stats s;
	uint8_t f[128];
	uint16_t proto = 0;
	size_t n;
	enum fn_kind k;

	CHECK(fn_kind_parse("wire", &k) == 0 && k == FN_WIRE, "kind 'wire' parses");
	CHECK(fn_kind_parse("nsh-aware", &k) == 0 && k == FN_NSH_AWARE, "kind 'nsh-aware' parses");
	CHECK(fn_kind_parse("kwire", &k) == 0 && !fn_kind_has_process(k),
	      "kind 'kwire' has no process");
	CHECK(fn_kind_parse("wirex", &k) == -EINVAL, "unknown kind is rejected");

	{
		char a0[] = "fn", a1[] = "kwire", a2[] = "--dev", a3[] = "x";
		char *av[] = { a0, a1, a2, a3, NULL };

		CHECK(fn_main(4, av) == 1, "fn_main rejects kwire with status 1");
	}

	/* checksum: odd payload length exercises the trailing byte */
	memset(f, 0, sizeof(f));
	n = ETH_HLEN + ipv4_udp(f + ETH_HLEN, "cbtE-odd", 7);
	CHECK(csum_verify(f + ETH_HLEN, 15, IPPROTO_UDP) != 0, "garbage UDP checksum is invalid");
	CHECK(fn_l4_csum_fill(f, n, ETH_HLEN) == 0 &&
	      csum_verify(f + ETH_HLEN, 15, IPPROTO_UDP) == 0,
	      "fn_l4_csum_fill makes a UDP checksum that verifies");
	f[ETH_HLEN + 9] = IPPROTO_ICMP;
	CHECK(fn_l4_csum_fill(f, n, ETH_HLEN) == -EPROTONOSUPPORT,
	      "fn_l4_csum_fill refuses ICMP");

	/* NSH MD2 (no TLVs), SPI 0xabcdef SI 7, inner IPv4 */
	memset(f, 0, sizeof(f));
	eth_raw(f, mac_b, mac_a, ETH_P_NSH_);
	{
		uint16_t w0 = htons(nsh_w0_make(0, 63, 2));
		uint32_t path = htonl(nsh_path_make(0xabcdef, 7));

		memcpy(f + 14, &w0, 2);
		f[16] = NSH_MDTYPE_2;
		f[17] = NSH_NP_IPV4;
		memcpy(f + 18, &path, 4);
	}
	memset(&s, 0, sizeof(s));
	CHECK(fn_nsh_process(f, 64, &proto, &s) == FN_V_SEND && f[21] == 6 &&
	      f[18] == 0xab && f[19] == 0xcd && f[20] == 0xef && proto == htons(ETH_P_IP),
	      "nsh: SI 7 -> 6, SPI kept, skb protocol IPv4");
	f[21] = 1;
	CHECK(fn_nsh_process(f, 64, &proto, &s) == FN_V_DROP && s.drop_si == 1 && f[21] == 1,
	      "nsh: SI 1 dropped and counted");
	f[21] = 5;
	f[16] = 0x5;
	CHECK(fn_nsh_process(f, 64, &proto, &s) == FN_V_DROP && s.drop_bad_mdtype == 1,
	      "nsh: MD type 5 dropped");
	f[16] = NSH_MDTYPE_1; /* Length still 2: wrong for MD1 */
	CHECK(fn_nsh_process(f, 64, &proto, &s) == FN_V_DROP && s.drop_bad_length == 1,
	      "nsh: MD1 with Length 2 dropped");
	f[16] = NSH_MDTYPE_2;
	f[14] |= 0x40; /* version 1 */
	CHECK(fn_nsh_process(f, 64, &proto, &s) == FN_V_DROP && s.drop_bad_version == 1,
	      "nsh: version 1 dropped");
	f[14] &= 0x3f;
	f[17] = 0x77;
	CHECK(fn_nsh_process(f, 64, &proto, &s) == FN_V_DROP && s.drop_bad_next_proto == 1,
	      "nsh: unknown next protocol dropped");
	f[17] = NSH_NP_IPV4;
	CHECK(fn_nsh_process(f, 20, &proto, &s) == FN_V_DROP && s.drop_truncated == 1,
	      "nsh: truncated header dropped");
	f[12] = 0x08;
	f[13] = 0x00;
	CHECK(fn_nsh_process(f, 64, &proto, &s) == FN_V_IGNORE && s.ignored_not_nsh == 1,
	      "nsh: IPv4 frame ignored");
}

/* ---- wire on the wire --------------------------------------------------- */

static void test_wire(void)
{
	struct sv_child c;
	struct cs_err err = { "" };
	struct frame fx, fhost, farp, fb, watch[4];
	int fa = -1, fdb = -1, ia, ib, counts[4], r, udp = -1, saved;
	long fixed;

	log_reset();
	r = spawn_fn(&c, "wire", ns_b, &err);
	if (!CHECK(r == 0, "wire spawns and reports ready (%s)", r ? err.msg : "ok"))
		return;
	fa = raw_open(ns_a, DEV_A, &ia);
	fdb = raw_open(ns_b, DEV_B, &ib);
	if (!CHECK(fa >= 0 && fdb >= 0, "test sockets open in both namespaces"))
		goto cleanup;

	/* for another host: must come back byte for byte */
	test_frame(&fx, mac_x, "otherhost");
	CHECK(raw_send(fa, ia, &fx) == 0, "frame for 02:cb:7e:00:00:99 sent from a");
	r = recv_until(fa, &fx, NULL, 0, counts);
	CHECK(r == 0, "wire reflects a frame for another host, identical");

	/* for b itself, ARP broadcast, and b's own transmission */
	test_frame(&fhost, mac_b, "host");
	eth_hdr(&farp, mac_bc, mac_a, ETH_P_ARP);
	{
		static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1,
						 0x02, 0xcb, 0x7e, 0, 0, 0x0a, 10, 77, 0, 123,
						 0, 0, 0, 0, 0, 0, 10, 77, 0, 200 };
		memcpy(farp.b + ETH_HLEN, arp, sizeof(arp));
		farp.len = ETH_HLEN + sizeof(arp);
	}
	test_frame(&fb, mac_x, "from-b");
	memcpy(fb.b + 6, mac_b, 6);
	CHECK(raw_send(fa, ia, &fhost) == 0 && raw_send(fa, ia, &farp) == 0 &&
	      raw_send(fdb, ib, &fb) == 0, "host frame, ARP broadcast (from a) and a frame "
	      "sent by b itself are on the link");
	watch[0] = fhost;
	watch[1] = farp;
	watch[2] = fb;
	watch[3] = fx;
	r = sync_marker(fa, ia, "marker1", watch, 4, counts);
	CHECK(r == 0, "marker frame reflected after them");
	CHECK(r == 0 && counts[0] == 0, "frame addressed to b is not reflected (got %d)", counts[0]);
	CHECK(r == 0 && counts[1] == 0, "broadcast ARP is not reflected (got %d)", counts[1]);
	CHECK(r == 0 && counts[2] == 1,
	      "b's own outgoing frame reaches a once, not reflected (got %d)", counts[2]);
	CHECK(r == 0 && counts[3] == 0, "no late duplicate of the first frame (got %d)", counts[3]);

	/* UDP from a's stack: veth leaves the checksum partial */
	if (ns_enter(ns_a, &saved) == 0) {
		udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ns_leave(saved);
	}
	if (CHECK(udp >= 0, "UDP socket in a")) {
		static uint8_t buf[2048];
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9999) };
		char payload[64];
		bool found = false, valid = false;

		inet_pton(AF_INET, "10.77.0.99", &dst.sin_addr);
		snprintf(payload, sizeof(payload), "cbtE udp %d", (int)main_pid);
		CHECK(sendto(udp, payload, strlen(payload), 0, (struct sockaddr *)&dst,
			     sizeof(dst)) == (ssize_t)strlen(payload), "UDP datagram sent from a");
		for (;;) {
			ssize_t n = recv(fa, buf, sizeof(buf), 0);
			uint8_t *ip = buf + ETH_HLEN;
			size_t ihl;

			if (n < 0)
				break;
			if (n < ETH_HLEN + 28 || buf[12] != 0x08 || buf[13] != 0x00 ||
			    ip[9] != IPPROTO_UDP)
				continue;
			ihl = (ip[0] & 0xf) * 4u;
			if (memcmp(ip + ihl + 8, payload, strlen(payload)) != 0)
				continue;
			found = true;
			valid = csum_verify(ip, (size_t)(ip[2] << 8 | ip[3]) - ihl, IPPROTO_UDP) == 0;
			break;
		}
		CHECK(found, "UDP datagram from a's stack reflected");
		CHECK(valid, "reflected UDP datagram has a valid checksum");
	}

	r = sv_stop(&c, 0, &err);
	CHECK(r == 0, "wire stops cleanly on SIGTERM (%s)", r ? err.msg : "ok");
	/* fx, marker1, UDP: the kernel filter never hands it anything else */
	CHECK(log_counter("reflected") == 3, "wire counted exactly 3 reflections (log: %ld)",
	      log_counter("reflected"));
	fixed = log_counter("csum_fixed");
	CHECK(fixed == 1, "wire finished exactly one partial checksum (log: %ld)", fixed);
cleanup:
	if (c.pid && !c.reaped)
		sv_stop(&c, 0, NULL);
	if (udp >= 0)
		close(udp);
	if (fa >= 0)
		close(fa);
	if (fdb >= 0)
		close(fdb);
}

/* ---- nsh-aware ----------------------------------------------------------- */

static void nsh_frame(struct frame *f, uint32_t spi, uint8_t si, uint8_t ver, bool md1)
{
	uint16_t w0 = htons(nsh_w0_make(0, 63, md1 ? 6 : 2) | (uint16_t)(ver & 3) << 14);
	uint32_t path = htonl(nsh_path_make(spi, si));
	size_t off, i;

	eth_hdr(f, mac_b, mac_a, ETH_P_NSH_);
	memcpy(f->b + 14, &w0, 2);
	f->b[16] = md1 ? NSH_MDTYPE_1 : NSH_MDTYPE_2;
	f->b[17] = md1 ? NSH_NP_ETH : NSH_NP_IPV4;
	memcpy(f->b + 18, &path, 4);
	off = 22;
	if (md1) {
		for (i = 0; i < 16; i++)
			f->b[off + i] = (uint8_t)(0xc0 + i);
		off += 16;
		eth_raw(f->b + off, mac_x, mac_a, ETH_P_IP);
		off += ETH_HLEN;
	}
	off += ipv4_udp(f->b + off, "cbtE nsh", 8);
	f->len = off;
}

static void test_nsh_aware(void)
{
	struct sv_child c;
	struct cs_err err = { "" };
	struct frame f2, f2x, f1, f1x, fe, fex, fsi1, fver, fnot, watch[3];
	int fa = -1, fm = -1, ia, im, counts[3], r;

	log_reset();
	r = spawn_fn(&c, "nsh-aware", ns_b, &err);
	if (!CHECK(r == 0, "nsh-aware spawns and reports ready (%s)", r ? err.msg : "ok"))
		return;
	fa = raw_open(ns_a, DEV_A, &ia);
	fm = raw_open(ns_a, DEV_D, &im);
	if (!CHECK(fa >= 0 && fm >= 0, "test sockets open in a"))
		goto cleanup;

	nsh_frame(&f2, 0x123456, 10, 0, false);
	f2x = f2;
	f2x.b[21] = 9;
	CHECK(raw_send(fa, ia, &f2) == 0, "NSH MD2 frame (SPI 0x123456, SI 10) sent to b");
	r = recv_until(fa, &f2x, NULL, 0, counts);
	CHECK(r == 0, "it comes back with SI 9 and every other byte identical");

	nsh_frame(&f1, 0x42, 255, 0, true);
	f1x = f1;
	f1x.b[21] = 254;
	CHECK(raw_send(fa, ia, &f1) == 0, "NSH MD1 frame (SPI 0x42, SI 255) sent to b");
	r = recv_until(fa, &f1x, NULL, 0, counts);
	CHECK(r == 0, "MD1 frame comes back with SI 254, context headers intact");

	/* MD1, next protocol Ethernet carrying ARP: nothing for adjust_room */
	nsh_frame(&fe, 0x43, 200, 0, true);
	fe.b[ETH_HLEN + NSH_MD1_LEN + 12] = 0x08;
	fe.b[ETH_HLEN + NSH_MD1_LEN + 13] = 0x06;
	fex = fe;
	fex.b[21] = 199;
	CHECK(raw_send(fa, ia, &fe) == 0, "NSH MD1 frame with inner ARP sent to b");
	r = recv_until(fa, &fex, NULL, 0, counts);
	CHECK(r == 0, "inner-ARP frame comes back with SI 199");
	/* b mirrored what it sent with skb->protocol IPv4, in order */
	watch[0] = f2x;
	watch[1] = f1x;
	watch[2] = fex;
	{
		struct frame m, mx;

		nsh_frame(&m, 0x778, 60, 0, false);
		mx = m;
		mx.b[21] = 59;
		r = raw_send(fa, ia, &m);
		if (r == 0)
			r = recv_until(fm, &mx, watch, 3, counts);
	}
	CHECK(r == 0 && counts[0] == 1 && counts[1] == 1,
	      "NSH frames with inner IPv4 leave b with skb->protocol IPv4 (mirrored %d, %d)",
	      r ? -1 : counts[0], r ? -1 : counts[1]);
	CHECK(r == 0 && counts[2] == 0,
	      "NSH frame with inner ARP leaves b with skb->protocol NSH (mirrored %d)",
	      r ? -1 : counts[2]);

	nsh_frame(&fsi1, 0x123456, 1, 0, false);
	nsh_frame(&fver, 0x123456, 10, 1, false);
	test_frame(&fnot, mac_b, "not-nsh");
	CHECK(raw_send(fa, ia, &fsi1) == 0 && raw_send(fa, ia, &fver) == 0 &&
	      raw_send(fa, ia, &fnot) == 0, "SI 1, version 1 and non-NSH frames sent to b");
	/* as they would look if processed anyway */
	watch[0] = fsi1;
	watch[0].b[21] = 0;
	watch[1] = fver;
	watch[1].b[21] = 9;
	watch[2] = fnot;
	{
		struct frame m, mx;

		nsh_frame(&m, 0x777, 50, 0, false);
		mx = m;
		mx.b[21] = 49;
		r = raw_send(fa, ia, &m);
		if (r == 0)
			r = recv_until(fa, &mx, watch, 3, counts);
	}
	CHECK(r == 0, "NSH marker after them comes back");
	CHECK(r == 0 && counts[0] == 0, "SI 1 frame is dropped (got %d)", counts[0]);
	CHECK(r == 0 && counts[1] == 0, "version 1 frame is dropped (got %d)", counts[1]);
	CHECK(r == 0 && counts[2] == 0, "non-NSH frame is ignored (got %d)", counts[2]);

	r = sv_stop(&c, 0, &err);
	CHECK(r == 0, "nsh-aware stops cleanly (%s)", r ? err.msg : "ok");
	CHECK(log_counter("reflected") == 5 && log_counter("drop_si") == 1 &&
	      log_counter("drop_bad_version") == 1,
	      "counters: reflected=5 drop_si=1 drop_bad_version=1 (log: %ld %ld %ld)",
	      log_counter("reflected"), log_counter("drop_si"), log_counter("drop_bad_version"));
cleanup:
	if (c.pid && !c.reaped)
		sv_stop(&c, 0, NULL);
	if (fa >= 0)
		close(fa);
	if (fm >= 0)
		close(fm);
}

/* ---- scheduling options ------------------------------------------------- */

static void test_sched_opts(void)
{
	struct sv_spawn_opts o = {
		.exe = "/proc/self/exe", .node = "sfE", .kind = "wire", .netns = ns_b,
		.dev = DEV_B, .cpu = 0, .busy_poll_us = 2000, .rt = true, .log_path = log_path,
	};
	struct cs_err err = { "" };
	struct sv_child c;
	struct frame f;
	cpu_set_t set;
	int fa, ia, r, counts[1];

	log_reset();
	r = spawn_opts(&c, &o, &err);
	if (!CHECK(r == 0, "wire with --cpu 0 --busy-poll 2000 --rt ready (%s)",
		   r ? err.msg : "ok"))
		return;
	CPU_ZERO(&set);
	CHECK(sched_getaffinity(c.pid, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1 &&
	      CPU_ISSET(0, &set), "function is pinned to CPU 0");
	CHECK(sched_getscheduler(c.pid) == SCHED_FIFO, "function runs SCHED_FIFO");
	fa = raw_open(ns_a, DEV_A, &ia);
	if (fa >= 0) {
		/* two frames: one while it blocks, one while it may spin */
		test_frame(&f, mac_x, "spin1");
		r = raw_send(fa, ia, &f) == 0 ? recv_until(fa, &f, NULL, 0, counts) : -1;
		test_frame(&f, mac_x, "spin2");
		if (r == 0)
			r = raw_send(fa, ia, &f) == 0 ? recv_until(fa, &f, NULL, 0, counts) : -1;
		close(fa);
	}
	CHECK(fa >= 0 && r == 0, "busy-polling wire reflects frames");
	r = sv_stop(&c, 0, &err);
	CHECK(r == 0 && log_counter("reflected") == 2,
	      "busy-polling wire stops cleanly, reflected=2 (%s, log %ld)", r ? err.msg : "ok",
	      log_counter("reflected"));
}

/* ---- supervision --------------------------------------------------------- */

static bool pid_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/*
 * Spawns a function from an intermediate "orchestrator" process, SIGKILLs
 * that, and sees what happens to the function (reparented to us: we are a
 * subreaper). 1 = it was killed by SIGKILL, 0 = it lived on and reflected a
 * frame (then we kill it), -1 = setup failed or anything else.
 */
static int orphan_fate(bool detach)
{
	struct sv_spawn_opts o = {
		.exe = "/proc/self/exe", .node = "sfE", .kind = "wire", .netns = ns_b,
		.dev = DEV_B, .cpu = -1, .log_path = log_path, .detach = detach,
	};
	int pfd[2], st = 0, tries, ret = -1, fa, ia, counts[1];
	pid_t mid, fnpid = 0, w = 0;
	struct frame f;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || pipe(pfd) < 0)
		return -1;
	mid = fork();
	if (mid < 0)
		return -1;
	if (mid == 0) {
		struct sv_child g;

		close(pfd[0]);
		if (sv_spawn(&g, &o, NULL) == 0 &&
		    write(pfd[1], &g.pid, sizeof(g.pid)) == sizeof(g.pid))
			pause();
		_exit(1);
	}
	track(mid);
	close(pfd[1]);
	if (read(pfd[0], &fnpid, sizeof(fnpid)) != sizeof(fnpid))
		fnpid = 0;
	close(pfd[0]);
	kill(mid, SIGKILL);
	waitpid(mid, NULL, 0);
	if (fnpid <= 0)
		return -1;
	track(fnpid);

	if (!detach) {
		for (tries = 0; tries < 500; tries++) {
			w = waitpid(fnpid, &st, WNOHANG);
			if (w == fnpid)
				break;
			usleep(10000);
		}
		return w == fnpid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 1 : -1;
	}

	fa = raw_open(ns_a, DEV_A, &ia);
	test_frame(&f, mac_x, "orphan");
	if (fa >= 0 && waitpid(fnpid, &st, WNOHANG) == 0 && raw_send(fa, ia, &f) == 0 &&
	    recv_until(fa, &f, NULL, 0, counts) == 0)
		ret = 0;
	if (fa >= 0)
		close(fa);
	kill(fnpid, SIGKILL);
	waitpid(fnpid, NULL, 0);
	return ret;
}

static void test_supervise(void)
{
	struct sv_child c, v[2];
	struct cs_err err = { "" };
	char want[128];
	int r;
	pid_t pid;

	r = spawn_fn(&c, "wire", ns_b, &err);
	if (!CHECK(r == 0 && c.pid > 0, "spawn: ready (%s)", r ? err.msg : "ok"))
		return;
	CHECK(sv_check(&c, &err) == 0, "check: running function is alive");
	pid = c.pid;
	kill(pid, SIGKILL);
	CHECK(sv_wait(&c, 5000, &err) == 0, "wait: SIGKILLed function ends");
	r = sv_check(&c, &err);
	snprintf(want, sizeof(want), "function wire on node sfE (pid %d) died: killed by signal 9",
		 (int)pid);
	CHECK(r == -ESRCH && strstr(err.msg, want),
	      "check reports the death with the signal: \"%s\"", err.msg);
	CHECK(pid_gone(pid), "killed function is reaped");
	r = sv_stop(&c, 0, &err);
	CHECK(r == -ESRCH, "stop of a dead function says it had died (%s)", err.msg);

	r = spawn_fn(&c, "nsh-aware", ns_b, &err);
	CHECK(r == 0, "spawn nsh-aware (%s)", r ? err.msg : "ok");
	pid = c.pid;
	r = sv_stop(&c, 500, &err);
	CHECK(r == 0 && c.reaped && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0,
	      "stop: SIGTERM ends it with status 0 (%s)", r ? err.msg : "ok");
	CHECK(pid_gone(pid), "stop leaves no process");

	log_reset();
	r = spawn_fn(&c, "kwire", ns_b, &err);
	CHECK(r == -ECHILD && strstr(err.msg, "failed before ready: exited with status 1"),
	      "spawn kwire fails before ready: \"%s\"", err.msg);
	CHECK(strstr(log_read(), "kwire") && strstr(log_read(), "eBPF"),
	      "kwire child explains itself in its log");
	CHECK(c.pid > 0 && pid_gone(c.pid), "failed child is reaped");

	log_reset();
	r = spawn_fn(&c, "wire", "cbtE-missing-ns", &err);
	CHECK(r == -ECHILD, "spawn in a missing netns fails (%s)", err.msg);
	CHECK(strstr(log_read(), "netns cbtE-missing-ns") &&
	      strstr(log_read(), strerror(ENOENT)),
	      "child's message names the netns and gives strerror: %s", log_read());

	{
		struct sv_spawn_opts o = {
			.exe = "/proc/self/exe", .node = "sfE", .kind = "test-hang",
			.netns = ns_b, .dev = DEV_B, .cpu = -1, .ready_timeout_ms = 300,
		};

		r = spawn_opts(&c, &o, &err);
		CHECK(r == -ETIMEDOUT && strstr(err.msg, "not ready within 300 ms"),
		      "spawn times out on a child that never gets ready: \"%s\"", err.msg);
		CHECK(c.pid > 0 && pid_gone(c.pid), "timed-out child is killed and reaped");
	}

	{
		struct sv_spawn_opts o = { .exe = "/nonexistent/cbtE", .node = "sfE",
					   .kind = "wire", .dev = DEV_B, .cpu = -1 };

		r = spawn_opts(&c, &o, &err);
		CHECK(r == -ECHILD && strstr(err.msg, "exited with status 127"),
		      "spawn of a missing executable fails: \"%s\"", err.msg);
	}

	r = spawn_fn(&v[0], "wire", ns_b, &err);
	if (r == 0)
		r = spawn_fn(&v[1], "nsh-aware", ns_b, &err);
	CHECK(r == 0, "two functions spawned (%s)", r ? err.msg : "ok");
	if (r == 0) {
		r = sv_stop_all(v, 2, 0, &err);
		CHECK(r == 0 && pid_gone(v[0].pid) && pid_gone(v[1].pid),
		      "stop_all stops both (%s)", r ? err.msg : "ok");
	}

	CHECK(orphan_fate(false) == 1,
	      "function dies with SIGKILL when its orchestrator is SIGKILLed");
	CHECK(orphan_fate(true) == 0,
	      "detached function survives its orchestrator's SIGKILL and still reflects");
}

int main(int argc, char **argv)
{
	/* this binary is also the function: sv_spawn() execs it as "fn ..." */
	if (argc >= 3 && strcmp(argv[1], "fn") == 0) {
		if (strcmp(argv[2], "test-hang") == 0) {
			for (;;)
				pause();
		}
		return fn_main(argc - 1, argv + 1);
	}

	main_pid = getpid();
	tap_plan(77);
	if (geteuid() != 0) {
		CHECK(0, "test_fn needs root (network namespaces)");
		return tap_done();
	}
	atexit(teardown);
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);

	test_pure();
	if (CHECK(setup() == 0, "topology %s <-> %s up", ns_a, ns_b)) {
		test_wire();
		test_nsh_aware();
		test_sched_opts();
		test_supervise();
	}
	return tap_done();
}
