// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Functions that act on the traffic: firewall (nftables), source NAT, L4
 * load balancer, flow monitor. What each sees and why: fn_sf.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "model/num.h"
#include "nsh.h"
#include "traffic/fn.h"
#include "traffic/fn_sf.h"

#define FNX_BUF_LEN (65536 + 64)
#define FNX_FLOWS 65536 /* open addressing, power of two */
#define FNX_NAT_PORT0 20000
#define FNX_NAT_PORTS 4096
#define FNX_MAX_HOSTS 128
#define FNX_MAX_BACKENDS 16
#define FNX_NFT_TABLE "cadeia_fw"
#define FNX_RCVBUF (4 << 20)

enum fnx_kind { FNX_FIREWALL, FNX_NAT, FNX_LB, FNX_MONITOR };
static const char *const fnx_names[] = { "firewall", "nat", "lb", "monitor" };

static volatile sig_atomic_t fnx_stop;
static volatile sig_atomic_t fnx_dump; /* SIGUSR1: print the counters */

struct fnx_flow {
	bool used;
	struct fnx_tuple t;
	uint64_t packets, bytes;
	int backend;       /* lb */
	uint16_t nat_port; /* nat */
	uint8_t src_mac[6];/* nat: where the replies go */
};

struct fnx_host {
	uint32_t ip;
	uint8_t mac[6];
};

struct fnx {
	enum fnx_kind kind;
	const char *node, *netns, *dev, *config;
	int cpu, ready_fd;
	json_t *cfg;
	int ifindex;
	uint8_t mac[6];
	int fd, fd_reply; /* fd_reply: nat's plain IPv4 replies */
	bool nft_loaded;
	const char *label;
	struct fnx_flow *flows;
	size_t n_flows;
	struct fnx_flow *nat_by_port[FNX_NAT_PORTS];
	uint32_t nat_ip;
	struct fnx_host hosts[FNX_MAX_HOSTS];
	size_t n_hosts;
	struct fnx_host backends[FNX_MAX_BACKENDS];
	char backend_name[FNX_MAX_BACKENDS][64];
	uint64_t backend_flows[FNX_MAX_BACKENDS], backend_packets[FNX_MAX_BACKENDS];
	size_t n_backends;
	uint32_t vip;
	/* counters */
	uint64_t rx, reflected, replies, replies_unknown, not_ipv4, table_full, tx_error,
		csum_fixed;
	struct fn_stats nsh;
};

bool fnx_is_kind(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(fnx_names) / sizeof(fnx_names[0]); i++)
		if (strcmp(kind, fnx_names[i]) == 0)
			return true;
	return false;
}

static void fnx_err(const struct fnx *x, const char *what, int errnum)
{
	fprintf(stderr, "cadeia-bench fn %s: node %s netns %s dev %s: %s: %s\n",
		fnx_names[x->kind], x->node ? x->node : "-", x->netns ? x->netns : "(current)",
		x->dev ? x->dev : "?", what, strerror(errnum));
}

static void fnx_msg(const struct fnx *x, const char *what)
{
	fprintf(stderr, "cadeia-bench fn %s: node %s: %s\n", fnx_names[x->kind],
		x->node ? x->node : "-", what);
}

/* ---- packets ------------------------------------------------------------ */

long fnx_ipv4_offset(const uint8_t *f, size_t len)
{
	size_t off = 12;
	uint16_t type;

	for (;;) {
		if (off + 2 > len)
			return -1;
		type = (uint16_t)f[off] << 8 | f[off + 1];
		if (type != ETH_P_8021Q && type != ETH_P_8021AD)
			break;
		off += 4;
	}
	if (type != ETH_P_IP || off + 2 + 20 > len || (f[off + 2] >> 4) != 4)
		return -1;
	return (long)(off + 2);
}

int fnx_tuple(const uint8_t *ip, size_t len, struct fnx_tuple *t)
{
	size_t ihl;
	const uint8_t *l4;

	if (len < 20 || (ip[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ihl < 20 || ihl > len)
		return -1;
	memset(t, 0, sizeof(*t));
	t->proto = ip[9];
	memcpy(&t->saddr, ip + 12, 4);
	memcpy(&t->daddr, ip + 16, 4);
	l4 = ip + ihl;
	/* a later fragment has no L4 header: ports stay 0 */
	if ((ip[6] & 0x1f) || ip[7])
		return 0;
	if ((t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP) && ihl + 4 <= len) {
		t->sport = (uint16_t)l4[0] << 8 | l4[1];
		t->dport = (uint16_t)l4[2] << 8 | l4[3];
	} else if (t->proto == IPPROTO_ICMP && ihl + 8 <= len && (l4[0] == 8 || l4[0] == 0)) {
		t->sport = (uint16_t)l4[4] << 8 | l4[5]; /* echo id */
	}
	return 0;
}

uint32_t fnx_hash(const struct fnx_tuple *t)
{
	uint8_t b[13];
	uint32_t h = 2166136261u;

	b[0] = t->proto;
	memcpy(b + 1, &t->saddr, 4);
	memcpy(b + 5, &t->daddr, 4);
	b[9] = t->sport >> 8;
	b[10] = t->sport & 0xff;
	b[11] = t->dport >> 8;
	b[12] = t->dport & 0xff;
	for (size_t i = 0; i < sizeof(b); i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

static uint16_t fnx_csum(const uint8_t *p, size_t n)
{
	uint64_t sum = 0;

	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int fnx_rewrite(uint8_t *ip, size_t len, bool src, uint32_t addr, uint16_t port)
{
	size_t ihl, tot;
	uint8_t *l4;
	uint16_t c;

	if (len < 20 || (ip[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = (size_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || tot < ihl || tot > len)
		return -1;
	if ((ip[6] & 0x3f) || ip[7])
		return -1; /* fragments: the L4 header is not all here */
	memcpy(ip + (src ? 12 : 16), &addr, 4);
	l4 = ip + ihl;
	switch (ip[9]) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (tot - ihl < (ip[9] == IPPROTO_TCP ? 20u : 8u))
			return -1;
		l4[src ? 0 : 2] = port >> 8;
		l4[src ? 1 : 3] = port & 0xff;
		if (fn_l4_csum_fill(ip, tot, 0) < 0)
			return -1;
		break;
	case IPPROTO_ICMP:
		if (tot - ihl < 8)
			return -1;
		if (l4[0] == 8 || l4[0] == 0) {
			l4[4] = port >> 8;
			l4[5] = port & 0xff;
		}
		l4[2] = l4[3] = 0;
		c = fnx_csum(l4, tot - ihl);
		l4[2] = c >> 8;
		l4[3] = c & 0xff;
		break;
	default:
		break; /* address only */
	}
	ip[10] = ip[11] = 0;
	c = fnx_csum(ip, ihl);
	ip[10] = c >> 8;
	ip[11] = c & 0xff;
	return 0;
}

/* ---- flow table --------------------------------------------------------- */

static bool tuple_eq(const struct fnx_tuple *a, const struct fnx_tuple *b)
{
	return a->proto == b->proto && a->saddr == b->saddr && a->daddr == b->daddr &&
	       a->sport == b->sport && a->dport == b->dport;
}

/* The flow's entry, created on first sight; NULL when the table is full. */
static struct fnx_flow *flow_get(struct fnx *x, const struct fnx_tuple *t, bool *created)
{
	uint32_t h = fnx_hash(t) & (FNX_FLOWS - 1);

	*created = false;
	for (size_t k = 0; k < FNX_FLOWS; k++) {
		struct fnx_flow *f = &x->flows[(h + k) & (FNX_FLOWS - 1)];

		if (f->used && tuple_eq(&f->t, t))
			return f;
		if (!f->used) {
			if (x->n_flows >= FNX_FLOWS / 2)
				return NULL; /* keep probes short */
			memset(f, 0, sizeof(*f));
			f->used = true;
			f->t = *t;
			x->n_flows++;
			*created = true;
			return f;
		}
	}
	return NULL;
}

/* ---- files -------------------------------------------------------------- */

static void ip_str(uint32_t a, char *buf)
{
	struct in_addr in = { .s_addr = a };

	inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* Appends rows; the header goes in when the file is new, so the runs of
 * several architectures share one file, told apart by the first column. */
static FILE *csv_open(struct fnx *x, const char *path, const char *header)
{
	FILE *f = fopen(path, "a");

	if (!f) {
		fnx_err(x, path, errno);
		return NULL;
	}
	if (ftell(f) == 0)
		fputs(header, f);
	return f;
}

static int csv_close(struct fnx *x, FILE *f, const char *path)
{
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
		fnx_err(x, path, errno ? errno : EIO);
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		fnx_err(x, path, errno);
		return -1;
	}
	return 0;
}

static int write_flows(struct fnx *x)
{
	const char *path = json_string_value(json_object_get(x->cfg, "flows"));
	FILE *f;

	if (!path)
		return 0;
	f = csv_open(x, path, "architecture,node,proto,src,sport,dst,dport,packets,bytes\n");
	if (!f)
		return -1;
	for (size_t k = 0; k < FNX_FLOWS; k++) {
		const struct fnx_flow *fl = &x->flows[k];
		char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

		if (!fl->used)
			continue;
		ip_str(fl->t.saddr, s);
		ip_str(fl->t.daddr, d);
		fprintf(f, "%s,%s,%u,%s,%u,%s,%u,%llu,%llu\n", x->label, x->node ? x->node : "-",
			fl->t.proto, s, fl->t.sport, d, fl->t.dport,
			(unsigned long long)fl->packets, (unsigned long long)fl->bytes);
	}
	return csv_close(x, f, path);
}

static int write_spread(struct fnx *x)
{
	const char *path = json_string_value(json_object_get(x->cfg, "spread"));
	FILE *f;

	if (!path)
		return 0;
	f = csv_open(x, path, "architecture,node,backend,ip,flows,packets\n");
	if (!f)
		return -1;
	for (size_t b = 0; b < x->n_backends; b++) {
		char ip[INET_ADDRSTRLEN];

		ip_str(x->backends[b].ip, ip);
		fprintf(f, "%s,%s,%s,%s,%llu,%llu\n", x->label, x->node ? x->node : "-",
			x->backend_name[b], ip, (unsigned long long)x->backend_flows[b],
			(unsigned long long)x->backend_packets[b]);
	}
	return csv_close(x, f, path);
}

static void print_stats(const struct fnx *x)
{
	fprintf(stderr, "fn %s node=%s netns=%s dev=%s: rx=%llu reflected=%llu flows=%zu "
		"replies=%llu replies_unknown=%llu not_ipv4=%llu table_full=%llu tx_error=%llu "
		"csum_fixed=%llu",
		fnx_names[x->kind], x->node ? x->node : "-", x->netns ? x->netns : "-", x->dev,
		(unsigned long long)x->rx, (unsigned long long)x->reflected, x->n_flows,
		(unsigned long long)x->replies, (unsigned long long)x->replies_unknown,
		(unsigned long long)x->not_ipv4, (unsigned long long)x->table_full,
		(unsigned long long)x->tx_error, (unsigned long long)x->csum_fixed);
	if (x->kind == FNX_NAT) {
		fputc(' ', stderr);
		fn_stats_print(stderr, &x->nsh);
	}
	for (size_t b = 0; b < x->n_backends; b++)
		fprintf(stderr, " backend_%s_flows=%llu backend_%s_packets=%llu", x->backend_name[b],
			(unsigned long long)x->backend_flows[b], x->backend_name[b],
			(unsigned long long)x->backend_packets[b]);
	fputc('\n', stderr);
	fflush(stderr);
}

/* ---- config ------------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int parse_hosts(struct fnx *x, const char *key, struct fnx_host *out, size_t max,
		       size_t *n, char names[][64])
{
	json_t *a = json_object_get(x->cfg, key), *h;
	size_t i;

	*n = 0;
	json_array_foreach(a, i, h) {
		struct in_addr in;
		const char *ip = json_string_value(json_object_get(h, "ip"));

		if (i >= max || !ip || inet_pton(AF_INET, ip, &in) != 1 ||
		    parse_mac(json_string_value(json_object_get(h, "mac")), out[i].mac) < 0) {
			fprintf(stderr, "cadeia-bench fn %s: %s: %s[%zu] needs \"ip\" and \"mac\" (at most %zu entries)\n",
				fnx_names[x->kind], x->config, key, i, max);
			return -1;
		}
		out[i].ip = in.s_addr;
		if (names)
			snprintf(names[i], 64, "%s",
				 json_string_value(json_object_get(h, "name")) ?: ip);
		(*n)++;
	}
	return 0;
}

static int load_config(struct fnx *x)
{
	json_error_t je;
	struct in_addr in;
	const char *s;

	x->cfg = json_load_file(x->config, 0, &je);
	if (!x->cfg) {
		fprintf(stderr, "cadeia-bench fn %s: %s:%d:%d: %s\n", fnx_names[x->kind], x->config,
			je.line, je.column, je.text);
		return -1;
	}
	x->label = json_string_value(json_object_get(x->cfg, "label")) ?: "-";
	if (parse_mac(json_string_value(json_object_get(x->cfg, "mac")), x->mac) < 0) {
		fprintf(stderr, "cadeia-bench fn %s: %s: \"mac\" is missing or not a MAC\n",
			fnx_names[x->kind], x->config);
		return -1;
	}
	switch (x->kind) {
	case FNX_NAT:
		s = json_string_value(json_object_get(x->cfg, "nat_address"));
		if (!s || inet_pton(AF_INET, s, &in) != 1) {
			fprintf(stderr, "cadeia-bench fn nat: %s: \"nat_address\" is missing or not IPv4\n",
				x->config);
			return -1;
		}
		x->nat_ip = in.s_addr;
		return parse_hosts(x, "hosts", x->hosts, FNX_MAX_HOSTS, &x->n_hosts, NULL);
	case FNX_LB:
		s = json_string_value(json_object_get(x->cfg, "vip"));
		if (!s || inet_pton(AF_INET, s, &in) != 1) {
			fprintf(stderr, "cadeia-bench fn lb: %s: \"vip\" is missing or not IPv4\n",
				x->config);
			return -1;
		}
		x->vip = in.s_addr;
		if (parse_hosts(x, "backends", x->backends, FNX_MAX_BACKENDS, &x->n_backends,
				x->backend_name) < 0)
			return -1;
		if (x->n_backends < 2) {
			fprintf(stderr, "cadeia-bench fn lb: %s: at least 2 backends\n", x->config);
			return -1;
		}
		return 0;
	case FNX_FIREWALL:
		if (!json_string_value(json_object_get(x->cfg, "nft"))) {
			fprintf(stderr, "cadeia-bench fn firewall: %s: \"nft\" (the rule set's file) is missing\n",
				x->config);
			return -1;
		}
		return 0;
	case FNX_MONITOR:
		return 0;
	}
	return 0;
}

/* ---- set-up ------------------------------------------------------------- */

static int enter_netns(struct fnx *x)
{
	char path[PATH_MAX];
	int fd, ret = -1;

	snprintf(path, sizeof(path), "/run/netns/%s", x->netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fnx_err(x, path, errno);
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0)
		fnx_err(x, "setns", errno);
	else
		ret = 0;
	close(fd);
	return ret;
}

/*
 * GRO off on the SF's interface: after dec (XDP_PASS) the veth's NAPI would
 * merge TCP segments into one large skb, which the socket then cannot send
 * back out (over the MTU). Each frame must leave as it came.
 */
static int gro_off(struct fnx *x)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_SGRO, .data = 0 };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0) {
		fnx_err(x, "socket for ethtool", errno);
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", x->dev);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 && errno != EOPNOTSUPP) {
		fnx_err(x, "ethtool gro off", errno);
		ret = -1;
	}
	close(fd);
	return ret;
}

/* Runs nft with args; 0 when it exits 0. */
static int run_nft(struct fnx *x, const char *a1, const char *a2, const char *a3,
		   const char *a4)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fnx_err(x, "fork nft", errno);
		return -1;
	}
	if (pid == 0) {
		execl("/usr/sbin/nft", "nft", a1, a2, a3, a4, (char *)NULL);
		execlp("nft", "nft", a1, a2, a3, a4, (char *)NULL);
		fprintf(stderr, "cadeia-bench fn firewall: exec nft: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fnx_err(x, "waitpid nft", errno);
			return -1;
		}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int firewall_load(struct fnx *x)
{
	const char *path = json_string_value(json_object_get(x->cfg, "nft"));
	char msg[PATH_MAX + 64];

	if (run_nft(x, "-f", path, NULL, NULL) < 0) {
		snprintf(msg, sizeof(msg), "nft -f %s failed (its message is above)", path);
		fnx_msg(x, msg);
		return -1;
	}
	x->nft_loaded = true;
	return 0;
}

static void firewall_unload(struct fnx *x)
{
	/* The rules' counters as they end, into the function's log. */
	if (x->nft_loaded) {
		fflush(stdout);
		run_nft(x, "list", "table", "netdev", FNX_NFT_TABLE);
	}
	if (x->nft_loaded && run_nft(x, "delete", "table", "netdev", FNX_NFT_TABLE) < 0)
		fnx_msg(x, "nft delete table netdev " FNX_NFT_TABLE " failed");
	x->nft_loaded = false;
}

static int attach_pkttype_filter(struct fnx *x, int fd, unsigned pkttype)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (__u32)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, pkttype, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		fnx_err(x, "SO_ATTACH_FILTER", errno);
		return -1;
	}
	return 0;
}

static int open_socket(struct fnx *x, uint16_t proto, unsigned pkttype, int *out)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int one = 1, rcvbuf = FNX_RCVBUF, fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fnx_err(x, "socket AF_PACKET", errno);
		return -1;
	}
	*out = fd;
	if (attach_pkttype_filter(x, fd, pkttype) < 0)
		return -1;
	/* A TCP window's worth of frames arrives in a burst between two
	 * wake-ups: with the default 208 KiB queue the socket drops them and
	 * TCP reads the drops as congestion. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) {
		fnx_err(x, "SO_RCVBUF", errno);
		return -1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
		fnx_err(x, "setsockopt SOL_PACKET", errno);
		return -1;
	}
	if (pkttype == PACKET_OTHERHOST) {
		struct packet_mreq mr = { .mr_ifindex = x->ifindex, .mr_type = PACKET_MR_PROMISC };

		if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
			fnx_err(x, "PACKET_ADD_MEMBERSHIP promisc", errno);
			return -1;
		}
	}
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = x->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fnx_err(x, "bind AF_PACKET", errno);
		return -1;
	}
	return 0;
}

/* ---- per frame ---------------------------------------------------------- */

static void send_frame(struct fnx *x, int fd, uint8_t *buf, size_t len, uint16_t proto)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET };

	to.sll_protocol = proto; /* skb->protocol: enc/fwd's adjust_room needs it */
	to.sll_ifindex = x->ifindex;
	to.sll_halen = ETH_ALEN;
	memcpy(to.sll_addr, buf, ETH_ALEN);
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		x->tx_error++;
	else
		x->reflected++;
}

/* firewall, lb, monitor: the plain inner frame, PACKET_OTHERHOST. */
static void on_inner(struct fnx *x, uint8_t *buf, size_t len, const struct tpacket_auxdata *aux)
{
	long l3 = fnx_ipv4_offset(buf, len);
	struct fnx_tuple t;
	struct fnx_flow *f = NULL;
	bool created;

	if (aux && (aux->tp_status & TP_STATUS_CSUMNOTREADY) && l3 >= 0 &&
	    fn_l4_csum_fill(buf, len, (size_t)l3) == 0)
		x->csum_fixed++;
	if (l3 < 0 || fnx_tuple(buf + l3, len - (size_t)l3, &t) < 0) {
		x->not_ipv4++;
	} else if (x->kind != FNX_FIREWALL) {
		f = flow_get(x, &t, &created);
		if (!f) {
			x->table_full++;
		} else {
			f->packets++;
			f->bytes += (size_t)buf[l3 + 2] << 8 | buf[l3 + 3];
		}
	}
	if (x->kind == FNX_LB && f && t.daddr == x->vip) {
		/* Direct server return: only the MAC changes, so the 5-tuple
		 * (and the saved NSH enc finds by it) stays; every backend has
		 * the VIP on its loopback and answers the client directly. */
		if (created) {
			f->backend = (int)(fnx_hash(&t) % x->n_backends);
			x->backend_flows[f->backend]++;
		}
		x->backend_packets[f->backend]++;
		memcpy(buf, x->backends[f->backend].mac, 6);
	}
	send_frame(x, x->fd, buf, len, htons(ETH_P_IP));
}

static const struct fnx_host *host_of(const struct fnx *x, uint32_t ip)
{
	for (size_t i = 0; i < x->n_hosts; i++)
		if (x->hosts[i].ip == ip)
			return &x->hosts[i];
	return NULL;
}

/* nat, forward: NSH frames for us. SI - 1 as fn nsh-aware, then SNAT. */
static void on_nat_nsh(struct fnx *x, uint8_t *buf, size_t len)
{
	uint16_t proto;
	size_t hlen, l3;
	struct fnx_tuple t;
	struct fnx_flow *f;
	bool created;
	uint8_t np;

	/*
	 * The frame goes out as what it is, ETH_P_NSH: sent as IPv4 (the
	 * protocol fn_nsh_process names), fwd's end-of-chain strip dropped
	 * full TCP frames here (drop_adjust), while as NSH every frame passes.
	 */
	if (fn_nsh_process(buf, len, &proto, &x->nsh) != FN_V_SEND)
		return;
	hlen = (size_t)nsh_w0_len(ntohs(((const struct nsh_hdr *)(buf + ETH_HLEN))->ver_flags_ttl_len)) * 4;
	np = ((const struct nsh_hdr *)(buf + ETH_HLEN))->np;
	l3 = ETH_HLEN + hlen;
	if (np == NSH_NP_ETH) {
		long off = fnx_ipv4_offset(buf + l3, len - l3);

		if (off < 0) {
			x->not_ipv4++;
			send_frame(x, x->fd, buf, len, htons(ETH_P_NSH_));
			return;
		}
		l3 += (size_t)off;
	} else if (np != NSH_NP_IPV4) {
		x->not_ipv4++;
		send_frame(x, x->fd, buf, len, htons(ETH_P_NSH_));
		return;
	}
	if (fnx_tuple(buf + l3, len - l3, &t) < 0) {
		x->not_ipv4++;
		send_frame(x, x->fd, buf, len, htons(ETH_P_NSH_));
		return;
	}
	f = flow_get(x, &t, &created);
	if (f && created) {
		const struct fnx_host *h = host_of(x, t.saddr);

		if (x->n_flows > FNX_NAT_PORTS) {
			f = NULL; /* no port left: the entry stays, unused */
		} else {
			f->nat_port = (uint16_t)(FNX_NAT_PORT0 + x->n_flows - 1);
			x->nat_by_port[f->nat_port - FNX_NAT_PORT0] = f;
			if (np == NSH_NP_ETH)
				memcpy(f->src_mac, buf + ETH_HLEN + hlen + 6, 6);
			else if (h)
				memcpy(f->src_mac, h->mac, 6);
		}
	}
	if (!f || !f->nat_port) {
		x->table_full++;
		return; /* untranslated it would leak the inside address: dropped */
	}
	f->packets++;
	f->bytes += len - l3;
	if (fnx_rewrite(buf + l3, len - l3, true, x->nat_ip,
			t.proto == IPPROTO_TCP || t.proto == IPPROTO_UDP || t.proto == IPPROTO_ICMP ?
				f->nat_port : 0) < 0) {
		x->not_ipv4++;
		return;
	}
	send_frame(x, x->fd, buf, len, htons(ETH_P_NSH_));
}

/* nat, replies: plain IPv4 to the NAT address, back to the source. */
static void on_nat_reply(struct fnx *x, uint8_t *buf, size_t len)
{
	long l3 = fnx_ipv4_offset(buf, len);
	struct fnx_tuple t;
	struct fnx_flow *f;
	uint16_t port;

	if (l3 < 0 || fnx_tuple(buf + l3, len - (size_t)l3, &t) < 0 || t.daddr != x->nat_ip)
		return; /* the node's own traffic: not ours */
	port = t.proto == IPPROTO_ICMP ? t.sport : t.dport;
	if (port < FNX_NAT_PORT0 || port >= FNX_NAT_PORT0 + FNX_NAT_PORTS ||
	    !(f = x->nat_by_port[port - FNX_NAT_PORT0]) || f->t.proto != t.proto ||
	    f->t.daddr != t.saddr) {
		x->replies_unknown++;
		return;
	}
	if (fnx_rewrite(buf + l3, len - (size_t)l3, false, f->t.saddr, f->t.sport) < 0) {
		x->replies_unknown++;
		return;
	}
	memcpy(buf, f->src_mac, 6);
	memcpy(buf + 6, x->mac, 6);
	x->replies++;
	send_frame(x, x->fd_reply, buf, len, htons(ETH_P_IP));
}

static int fnx_loop(struct fnx *x)
{
	static uint8_t buf[FNX_BUF_LEN];
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} cbuf;
	struct pollfd pf[2] = { { .fd = x->fd, .events = POLLIN },
				{ .fd = x->fd_reply, .events = POLLIN } };
	nfds_t n = x->fd_reply >= 0 ? 2 : 1;

	while (!fnx_stop) {
		int r = poll(pf, n, 200);

		if (fnx_dump) {
			fnx_dump = 0;
			print_stats(x);
		}

		if (r < 0) {
			if (errno == EINTR)
				continue;
			fnx_err(x, "poll", errno);
			return -1;
		}
		for (nfds_t k = 0; k < n; k++) {
			struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
			struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
					      .msg_control = cbuf.b,
					      .msg_controllen = sizeof(cbuf.b) };
			const struct tpacket_auxdata *aux = NULL;
			struct cmsghdr *cm;
			ssize_t got;

			if (!(pf[k].revents & POLLIN))
				continue;
			/* drain what is there, then poll again */
			while ((got = recvmsg(pf[k].fd, &msg, MSG_TRUNC | MSG_DONTWAIT)) >= 0) {
				x->rx++;
				aux = NULL;
				for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
					if (cm->cmsg_level == SOL_PACKET &&
					    cm->cmsg_type == PACKET_AUXDATA)
						aux = (const struct tpacket_auxdata *)CMSG_DATA(cm);
				if ((size_t)got <= sizeof(buf) && got >= ETH_HLEN) {
					if (x->kind != FNX_NAT)
						on_inner(x, buf, (size_t)got, aux);
					else if (k == 0)
						on_nat_nsh(x, buf, (size_t)got);
					else
						on_nat_reply(x, buf, (size_t)got);
				}
				msg.msg_controllen = sizeof(cbuf.b);
				if (fnx_stop)
					break;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ENETDOWN) {
				fnx_err(x, "recvmsg", errno);
				return -1;
			}
		}
	}
	return 0;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		fnx_dump = 1;
	else
		fnx_stop = 1;
}

static int fnx_run(struct fnx *x)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int ret = 1;

	fnx_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (load_config(x) < 0)
		goto cleanup;
	if (x->netns && enter_netns(x) < 0)
		goto cleanup;
	if (x->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(x->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fnx_err(x, "sched_setaffinity", errno);
			goto cleanup;
		}
	}
	x->ifindex = (int)if_nametoindex(x->dev);
	if (!x->ifindex) {
		fnx_err(x, "if_nametoindex", errno);
		goto cleanup;
	}
	x->flows = calloc(FNX_FLOWS, sizeof(*x->flows));
	if (!x->flows) {
		fnx_err(x, "flow table", ENOMEM);
		goto cleanup;
	}
	if (gro_off(x) < 0)
		goto cleanup;
	if (x->kind == FNX_FIREWALL && firewall_load(x) < 0)
		goto cleanup;
	if (x->kind == FNX_NAT) {
		if (open_socket(x, ETH_P_NSH_, PACKET_HOST, &x->fd) < 0 ||
		    open_socket(x, ETH_P_IP, PACKET_HOST, &x->fd_reply) < 0)
			goto cleanup;
	} else if (open_socket(x, ETH_P_IP, PACKET_OTHERHOST, &x->fd) < 0) {
		goto cleanup;
	}
	if (x->ready_fd >= 0) {
		if (write(x->ready_fd, "R", 1) != 1) {
			fnx_err(x, "write to --ready-fd", errno);
			goto cleanup;
		}
		close(x->ready_fd);
	}
	if (fnx_loop(x) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	firewall_unload(x);
	if (x->fd >= 0) {
		print_stats(x);
		close(x->fd);
	}
	if (x->fd_reply >= 0)
		close(x->fd_reply);
	if (x->flows && (write_flows(x) < 0 || write_spread(x) < 0))
		ret = 1;
	free(x->flows);
	json_decref(x->cfg);
	return ret;
}

static void fnx_usage(FILE *f)
{
	fprintf(f, "usage: cadeia-bench fn firewall|nat|lb|monitor --netns NS --dev IF --config FILE\n"
		   "                        [--node NAME] [--cpu N] [--ready-fd FD]\n");
}

int fnx_main(int argc, char **argv)
{
	static const struct option lopts[] = {
		FN_COMMON_OPTS,
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fnx x = { .cpu = -1, .ready_fd = -1, .fd = -1, .fd_reply = -1 };
	const char *kind = NULL;
	int opt, v;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "-h", lopts, NULL)) != -1) {
		switch (opt) {
		case 1:
			if (fn_opt_kind(optarg, &kind) < 0) {
				fnx_usage(stderr);
				return 2;
			}
			break;
		case 'n':
			x.netns = optarg;
			break;
		case 'd':
			x.dev = optarg;
			break;
		case 'N':
			x.node = optarg;
			break;
		case 'C':
			x.config = optarg;
			break;
		case 'b':
			break; /* these functions poll(); busy polling is the wire's */
		case 'c':
		case 'f':
			if (num_parse_int(optarg, 0, opt == 'c' ? CPU_SETSIZE - 1 : INT_MAX, &v) < 0) {
				fprintf(stderr, "cadeia-bench fn: bad --%s '%s'\n",
					opt == 'c' ? "cpu" : "ready-fd", optarg);
				return 2;
			}
			if (opt == 'c')
				x.cpu = v;
			else
				x.ready_fd = v;
			break;
		case 'h':
			fnx_usage(stdout);
			return 0;
		default:
			fnx_usage(stderr);
			return 2;
		}
	}
	for (size_t i = 0; kind && i < sizeof(fnx_names) / sizeof(fnx_names[0]); i++)
		if (strcmp(kind, fnx_names[i]) == 0)
			x.kind = (enum fnx_kind)i;
	if (!fnx_is_kind(kind) || !x.dev || !x.config) {
		fprintf(stderr, "cadeia-bench fn: %s\n",
			!fnx_is_kind(kind) ? "KIND must be firewall, nat, lb or monitor" :
			!x.dev ? "--dev is required" : "--config is required");
		fnx_usage(stderr);
		return 2;
	}
	return fnx_run(&x);
}
