// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * User-space service functions: the paper's NSH-unaware "wire" and an
 * NSH-aware variant. Both are AF_PACKET reflectors bound to one interface.
 *
 * Latency: on this testbed the wake-up of the function process dominates
 * (about 50 us per SF unpinned, 5 us pinned), so --cpu matters more than
 * anything done per frame here.
 *
 * --busy-poll USEC does two things: it sets SO_BUSY_POLL=USEC on the socket
 * (the kernel then polls the device's NAPI queue while we wait, where the
 * device has one), and the receive loop spins on recvmsg(MSG_DONTWAIT) for up
 * to USEC after the last frame before it falls back to a blocking recvmsg().
 * A USEC larger than the gap between frames therefore spins all the time and
 * burns a whole CPU; pin with --cpu so it burns a known one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "model/num.h"
#include "nsh.h"
#include "traffic/fn.h"
#include "traffic/fn_sf.h"

#define FN_BUF_LEN (65536 + 64)
/* Bounds the delay between a signal that lands just before a blocking
 * recvmsg() and the loop noticing it. */
#define FN_RCV_TIMEOUT_MS 200
#define FN_RT_PRIO 10

static volatile sig_atomic_t fn_stop;
static volatile sig_atomic_t fn_dump;

struct fn_ctx {
	const struct fn_opts *o;
	int fd;
	int ifindex;
	struct fn_stats stats;
};

static const char *const fn_kind_names[] = {
	[FN_WIRE] = "wire",
	[FN_NSH_AWARE] = "nsh-aware",
	[FN_KWIRE] = "kwire",
	[FN_DELAY] = "delay",
};

int fn_kind_parse(const char *s, enum fn_kind *kind)
{
	size_t i;

	for (i = 0; i < sizeof(fn_kind_names) / sizeof(fn_kind_names[0]); i++) {
		if (s && strcmp(s, fn_kind_names[i]) == 0) {
			*kind = (enum fn_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fn_kind_name(enum fn_kind kind)
{
	if ((size_t)kind < sizeof(fn_kind_names) / sizeof(fn_kind_names[0]))
		return fn_kind_names[kind];
	return "?";
}

bool fn_kind_has_process(enum fn_kind kind)
{
	return kind == FN_WIRE || kind == FN_NSH_AWARE || kind == FN_DELAY;
}

void fn_stats_print(FILE *f, const struct fn_stats *s)
{
	const char *sep = "";

#define FN_STAT_PRINT(name)                                                    \
	fprintf(f, "%s" #name "=%llu", sep, (unsigned long long)s->name);      \
	sep = " ";
	FN_STATS(FN_STAT_PRINT)
#undef FN_STAT_PRINT
}

/* ---- checksums ---------------------------------------------------------- */

static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int fn_l4_csum_fill(uint8_t *frame, size_t len, size_t l3off)
{
	uint8_t *ip = frame + l3off, *l4;
	size_t room, l4off, l4len, coff;
	uint64_t sum;
	uint16_t c;
	uint8_t proto;

	if (l3off >= len)
		return -EINVAL;
	room = len - l3off;

	switch (ip[0] >> 4) {
	case 4: {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4, tot;

		if (room < 20 || ihl < 20 || ihl > room)
			return -EINVAL;
		tot = (size_t)ip[2] << 8 | ip[3];
		if (tot < ihl || tot > room)
			return -EINVAL;
		/* MF or a fragment offset: the L4 header is not all here */
		if ((ip[6] & 0x3f) || ip[7])
			return -EPROTONOSUPPORT;
		proto = ip[9];
		l4off = ihl;
		l4len = tot - ihl;
		sum = csum_add(0, ip + 12, 8);
		break;
	}
	case 6:
		if (room < 40)
			return -EINVAL;
		l4len = (size_t)ip[4] << 8 | ip[5];
		if (40 + l4len > room)
			return -EINVAL;
		/* extension headers are not followed */
		proto = ip[6];
		l4off = 40;
		sum = csum_add(0, ip + 8, 32);
		break;
	default:
		return -EPROTONOSUPPORT;
	}

	switch (proto) {
	case IPPROTO_TCP:
		coff = 16;
		if (l4len < 20)
			return -EINVAL;
		break;
	case IPPROTO_UDP:
		coff = 6;
		if (l4len < 8)
			return -EINVAL;
		break;
	default:
		return -EPROTONOSUPPORT;
	}

	l4 = ip + l4off;
	l4[coff] = 0;
	l4[coff + 1] = 0;
	sum += proto + (uint64_t)l4len;
	sum = csum_add(sum, l4, l4len);
	c = csum_fold(sum);
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff; /* 0 means "no checksum" in UDP */
	l4[coff] = c >> 8;
	l4[coff + 1] = c & 0xff;
	return 0;
}

/* ---- NSH ---------------------------------------------------------------- */

/* MD type 2: the TLVs must tile the context area exactly. */
static bool nsh_md2_tlvs_ok(const uint8_t *ctx, size_t ctx_len)
{
	size_t off = 0;

	while (off < ctx_len) {
		struct nsh_md2_tlv t;

		if (off + NSH_MD2_TLV_HDR_LEN > ctx_len)
			return false;
		memcpy(&t, ctx + off, sizeof(t));
		off += NSH_MD2_TLV_HDR_LEN + (((size_t)(t.len & 0x7f) + 3) & ~(size_t)3);
	}
	return off == ctx_len;
}

enum fn_verdict fn_nsh_process(uint8_t *frame, size_t len, uint16_t *proto,
			       struct fn_stats *s)
{
	uint8_t *nsh = frame + ETH_HLEN;
	struct nsh_hdr h;
	uint16_t w0, inner_type;
	size_t hlen;
	uint32_t path;
	uint8_t si;

	if (len < ETH_HLEN) {
		s->drop_truncated++;
		return FN_V_DROP;
	}
	if (((uint16_t)frame[12] << 8 | frame[13]) != ETH_P_NSH_) {
		s->ignored_not_nsh++;
		return FN_V_IGNORE;
	}
	if (len < ETH_HLEN + NSH_BASE_LEN) {
		s->drop_truncated++;
		return FN_V_DROP;
	}
	memcpy(&h, nsh, sizeof(h));
	w0 = ntohs(h.ver_flags_ttl_len);
	if (nsh_w0_ver(w0) != NSH_VERSION) {
		s->drop_bad_version++;
		return FN_V_DROP;
	}
	hlen = (size_t)nsh_w0_len(w0) * 4;
	switch (h.mdtype & 0xf) {
	case NSH_MDTYPE_1:
		if (hlen != NSH_MD1_LEN) {
			s->drop_bad_length++;
			return FN_V_DROP;
		}
		break;
	case NSH_MDTYPE_2:
		if (hlen < NSH_MD2_MIN_LEN) {
			s->drop_bad_length++;
			return FN_V_DROP;
		}
		break;
	default:
		s->drop_bad_mdtype++;
		return FN_V_DROP;
	}
	if (ETH_HLEN + hlen > len) {
		s->drop_truncated++;
		return FN_V_DROP;
	}
	if ((h.mdtype & 0xf) == NSH_MDTYPE_2 &&
	    !nsh_md2_tlvs_ok(nsh + NSH_BASE_LEN, hlen - NSH_BASE_LEN)) {
		s->drop_bad_length++;
		return FN_V_DROP;
	}

	/*
	 * skb->protocol for the send: fwd's bpf_skb_adjust_room() refuses
	 * anything but IPv4/IPv6 when it strips NSH at the end of the chain,
	 * so name the inner network protocol, not NSH.
	 */
	switch (h.np) {
	case NSH_NP_IPV4:
		*proto = htons(ETH_P_IP);
		break;
	case NSH_NP_IPV6:
		*proto = htons(ETH_P_IPV6);
		break;
	case NSH_NP_ETH:
		inner_type = 0;
		if (len >= ETH_HLEN + hlen + ETH_HLEN)
			inner_type = (uint16_t)nsh[hlen + 12] << 8 | nsh[hlen + 13];
		if (inner_type == ETH_P_IP || inner_type == ETH_P_IPV6)
			*proto = htons(inner_type);
		else
			*proto = htons(ETH_P_NSH_);
		break;
	default:
		s->drop_bad_next_proto++;
		return FN_V_DROP;
	}

	path = ntohl(h.path);
	si = nsh_path_si(path);
	if (si <= 1) {
		s->drop_si++;
		return FN_V_DROP;
	}
	h.path = htonl(nsh_path_make(nsh_path_spi(path), (uint8_t)(si - 1)));
	memcpy(nsh + offsetof(struct nsh_hdr, path), &h.path, sizeof(h.path));
	return FN_V_SEND;
}

/* ---- process ------------------------------------------------------------ */

static void fn_err(const struct fn_ctx *c, const char *what, int errnum)
{
	fprintf(stderr, "cadeia-bench fn %s: netns %s dev %s: %s: %s\n",
		fn_kind_name(c->o->kind), c->o->netns ? c->o->netns : "(current)",
		c->o->dev ? c->o->dev : "?", what, strerror(errnum));
}

static void fn_dump_stats(const struct fn_ctx *c)
{
	fprintf(stderr, "fn %s node=%s netns=%s dev=%s: ", fn_kind_name(c->o->kind),
		c->o->node ? c->o->node : "-", c->o->netns ? c->o->netns : "-",
		c->o->dev);
	fn_stats_print(stderr, &c->stats);
	if (c->o->kind == FN_DELAY)
		fprintf(stderr, " delay_us=%u", c->o->delay_us);
	fputc('\n', stderr);
	fflush(stderr);
}

static void fn_on_signal(int sig)
{
	if (sig == SIGUSR1)
		fn_dump = 1;
	else
		fn_stop = 1;
}

static int fn_signals_install(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	/* no SA_RESTART: a signal must interrupt a blocking recvmsg() */
	sa.sa_handler = fn_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGUSR1, &sa, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		return -errno;
	return 0;
}

static int fn_enter_netns(struct fn_ctx *c)
{
	char path[PATH_MAX];
	int fd, ret = -1;

	if (snprintf(path, sizeof(path), "/run/netns/%s", c->o->netns) >=
	    (int)sizeof(path)) {
		fn_err(c, "netns name", ENAMETOOLONG);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fn_err(c, "open /run/netns entry", errno);
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fn_err(c, "setns", errno);
		goto cleanup;
	}
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

static int fn_sched_apply(struct fn_ctx *c)
{
	if (c->o->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(c->o->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fn_err(c, "sched_setaffinity", errno);
			return -1;
		}
	}
	if (c->o->rt) {
		struct sched_param sp = { .sched_priority = FN_RT_PRIO };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
			fn_err(c, "sched_setscheduler SCHED_FIFO", errno);
			return -1;
		}
	}
	return 0;
}

/*
 * Keeps in the kernel only the packet type this function acts on, so host
 * traffic and our own transmissions never wake the process up.
 */
static int fn_attach_filter(struct fn_ctx *c, unsigned pkttype)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (__u32)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, pkttype, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]),
		.filter = code,
	};

	if (setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		fn_err(c, "SO_ATTACH_FILTER", errno);
		return -1;
	}
	return 0;
}

static int fn_socket_open(struct fn_ctx *c)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = FN_RCV_TIMEOUT_MS * 1000 };
	bool wire = c->o->kind == FN_WIRE || c->o->kind == FN_DELAY;
	struct sockaddr_ll sll;
	int one = 1, rcvbuf = 4 << 20;

	c->ifindex = (int)if_nametoindex(c->o->dev);
	if (!c->ifindex) {
		fn_err(c, "if_nametoindex", errno);
		return -1;
	}
	/* protocol 0: receive nothing until the filter and options are set */
	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fn_err(c, "socket AF_PACKET", errno);
		return -1;
	}
	if (fn_attach_filter(c, wire ? PACKET_OTHERHOST : PACKET_HOST) < 0)
		return -1;
	if (setsockopt(c->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		fn_err(c, "PACKET_IGNORE_OUTGOING", errno);
		return -1;
	}
	if (wire && setsockopt(c->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
		fn_err(c, "PACKET_AUXDATA", errno);
		return -1;
	}
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		fn_err(c, "SO_RCVTIMEO", errno);
		return -1;
	}
	/* A TCP window arrives as a burst between two wake-ups; the default
	 * 208 KiB queue drops it and TCP reads that as congestion. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) {
		fn_err(c, "SO_RCVBUF", errno);
		return -1;
	}
	if (c->o->busy_poll_us > 0 &&
	    setsockopt(c->fd, SOL_SOCKET, SO_BUSY_POLL, &c->o->busy_poll_us,
		       sizeof(c->o->busy_poll_us)) < 0) {
		fn_err(c, "SO_BUSY_POLL", errno);
		return -1;
	}
	if (wire) {
		/* A real NIC (virtio in a guest) drops OTHERHOST frames otherwise;
		 * the kernel undoes this when the socket closes. */
		struct packet_mreq mr = {
			.mr_ifindex = c->ifindex,
			.mr_type = PACKET_MR_PROMISC,
		};

		if (setsockopt(c->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
			fn_err(c, "PACKET_ADD_MEMBERSHIP promisc", errno);
			return -1;
		}
	}

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(wire ? ETH_P_ALL : ETH_P_NSH_);
	sll.sll_ifindex = c->ifindex;
	if (bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fn_err(c, "bind AF_PACKET", errno);
		return -1;
	}
	return 0;
}

static uint64_t fn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A VLAN tag the device took out of the frame (TP_STATUS_VLAN_VALID) goes
 * back in, so the wire sends what it was sent. Returns the new length.
 */
static size_t fn_vlan_reinsert(uint8_t *buf, size_t len, const struct tpacket_auxdata *aux)
{
	uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
			aux->tp_vlan_tpid : ETH_P_8021Q;

	if (len < 2 * ETH_ALEN || len + 4 > FN_BUF_LEN)
		return len;
	memmove(buf + 2 * ETH_ALEN + 4, buf + 2 * ETH_ALEN, len - 2 * ETH_ALEN);
	buf[12] = tpid >> 8;
	buf[13] = tpid & 0xff;
	buf[14] = aux->tp_vlan_tci >> 8;
	buf[15] = aux->tp_vlan_tci & 0xff;
	return len + 4;
}

/* Returns the length to send, or 0 to skip the frame. */
static size_t fn_wire_prepare(struct fn_ctx *c, uint8_t *buf, size_t len,
			      const struct sockaddr_ll *from, struct msghdr *msg)
{
	const struct tpacket_auxdata *aux = NULL;
	struct cmsghdr *cm;
	size_t l3off;

	if (from->sll_pkttype != PACKET_OTHERHOST) {
		c->stats.ignored_pkttype++;
		return 0;
	}
	if (len < ETH_HLEN) {
		c->stats.drop_truncated++;
		return 0;
	}
	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(*aux)))
			aux = (const struct tpacket_auxdata *)CMSG_DATA(cm);
	}
	if (!aux)
		return len;

	l3off = aux->tp_net;
	if (aux->tp_status & TP_STATUS_VLAN_VALID) {
		size_t n = fn_vlan_reinsert(buf, len, aux);

		if (n != len)
			l3off += 4;
		len = n;
	}
	/*
	 * The sender's stack left the L4 checksum to the device
	 * (CHECKSUM_PARTIAL, common on veth). A frame we build with
	 * sendto() is CHECKSUM_NONE, so nobody else would finish it.
	 */
	if (aux->tp_status & TP_STATUS_CSUMNOTREADY) {
		if (fn_l4_csum_fill(buf, len, l3off) == 0)
			c->stats.csum_fixed++;
		else
			c->stats.csum_unfixable++;
	}
	return len;
}

static int fn_loop(struct fn_ctx *c)
{
	static uint8_t buf[FN_BUF_LEN];
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} cbuf;
	uint64_t spin_ns = (uint64_t)c->o->busy_poll_us * 1000, last_rx = 0;
	bool spinning = spin_ns > 0;

	while (!fn_stop) {
		struct sockaddr_ll from, to;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = cbuf.b,
			.msg_controllen = sizeof(cbuf.b),
		};
		uint16_t proto;
		size_t len;
		ssize_t n;

		if (fn_dump) {
			fn_dump = 0;
			fn_dump_stats(c);
		}

		n = recvmsg(c->fd, &msg, MSG_TRUNC | (spinning ? MSG_DONTWAIT : 0));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* spin window over: block until the next frame */
				if (spinning && fn_now_ns() - last_rx > spin_ns)
					spinning = false;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == ENETDOWN) {
				/* reported once when the link goes down; not fatal */
				fn_err(c, "recvmsg", errno);
				continue;
			}
			fn_err(c, "recvmsg", errno);
			return -1;
		}
		if (spin_ns) {
			last_rx = fn_now_ns();
			spinning = true;
		}
		c->stats.rx++;
		if ((size_t)n > sizeof(buf)) {
			c->stats.drop_truncated++;
			continue;
		}
		len = (size_t)n;

		if (c->o->kind == FN_WIRE || c->o->kind == FN_DELAY) {
			len = fn_wire_prepare(c, buf, len, &from, &msg);
			if (!len)
				continue;
			proto = from.sll_protocol;
		} else {
			if (from.sll_pkttype != PACKET_HOST) {
				c->stats.ignored_pkttype++;
				continue;
			}
			if (fn_nsh_process(buf, len, &proto, &c->stats) != FN_V_SEND)
				continue;
		}

		/*
		 * delay: hold the frame until delay_us after it was received.
		 * Spinning on the clock, since a sleep would add the timer's slack
		 * and a wake-up (tens of µs) to the delay we claim to know.
		 */
		if (c->o->delay_us) {
			uint64_t until = (spin_ns ? last_rx : fn_now_ns()) +
					 (uint64_t)c->o->delay_us * 1000;

			while (fn_now_ns() < until && !fn_stop)
				;
		}
		memset(&to, 0, sizeof(to));
		to.sll_family = AF_PACKET;
		/* becomes skb->protocol: the enc/fwd stages' adjust_room needs it */
		to.sll_protocol = proto;
		to.sll_ifindex = c->ifindex;
		to.sll_halen = ETH_ALEN;
		memcpy(to.sll_addr, buf, ETH_ALEN);
		if (sendto(c->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			/* EMSGSIZE for GSO frames over the MTU, ENOBUFS under load */
			c->stats.tx_error++;
			continue;
		}
		c->stats.reflected++;
	}
	return 0;
}

int fn_run(const struct fn_opts *o)
{
	struct fn_ctx c = { .o = o, .fd = -1 };
	int ret = 1, err;

	fn_stop = 0;
	fn_dump = 0;
	if (!fn_kind_has_process(o->kind)) {
		fprintf(stderr, "cadeia-bench fn %s: this kind is an eBPF stage attached by "
			"the loader, not a process\n", fn_kind_name(o->kind));
		return 1;
	}
	if (!o->dev) {
		fprintf(stderr, "cadeia-bench fn %s: --dev is required\n", fn_kind_name(o->kind));
		return 1;
	}
	err = fn_signals_install();
	if (err < 0) {
		fn_err(&c, "sigaction", -err);
		goto cleanup;
	}
	if (o->netns && fn_enter_netns(&c) < 0)
		goto cleanup;
	if (fn_sched_apply(&c) < 0)
		goto cleanup;
	if (fn_socket_open(&c) < 0)
		goto cleanup;
	if (o->ready_fd >= 0) {
		if (write(o->ready_fd, "R", 1) != 1) {
			fn_err(&c, "write to --ready-fd", errno);
			goto cleanup;
		}
		close(o->ready_fd);
	}
	if (fn_loop(&c) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	if (c.fd >= 0) {
		fn_dump_stats(&c);
		close(c.fd);
	}
	return ret;
}

static int fn_parse_int(const char *s, long min, long max, int *out)
{
	return num_parse_int(s, (int)min, (int)max, out) < 0 ? -EINVAL : 0;
}

static void fn_usage(FILE *f)
{
	fprintf(f, "usage: cadeia-bench fn wire|nsh-aware --netns NS --dev IF [--node NAME]\n"
		   "                        [--cpu N] [--busy-poll USEC] [--rt] [--ready-fd FD]\n"
		   "       cadeia-bench fn delay ... [--delay-us USEC]   (the wire, each frame held USEC; default 200)\n"
		   "       cadeia-bench fn firewall|nat|lb|monitor ... --config FILE   (traffic/fn_sf.h)\n");
}

int fn_opt_kind(const char *arg, const char **kind)
{
	if (!*kind && strcmp(arg, "fn") == 0)
		return 0;
	if (*kind) {
		fprintf(stderr, "cadeia-bench fn: unexpected argument '%s'\n", arg);
		return -1;
	}
	*kind = arg;
	return 0;
}

static int fn_check_run(struct fn_opts *o, const char *kind, int delay);

int fn_main(int argc, char **argv)
{
	static const struct option lopts[] = {
		FN_COMMON_OPTS,
		{ "rt", no_argument, NULL, 'r' },
		{ "delay-us", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fn_opts o = { .cpu = -1, .ready_fd = -1 };
	const char *kind = NULL;
	int opt, delay = -1;

	/* Functions that act on the traffic (firewall, nat, lb, monitor): fn_sf.c. */
	if ((argc > 1 && fnx_is_kind(argv[1])) ||
	    (argc > 2 && strcmp(argv[1], "fn") == 0 && fnx_is_kind(argv[2])))
		return fnx_main(argc, argv);
	optind = 0; /* full getopt reset: fn_main may run more than once */
	/* leading '-': positionals come back in order as option 1 */
	while ((opt = getopt_long(argc, argv, "-h", lopts, NULL)) != -1) {
		switch (opt) {
		case 1:
			if (fn_opt_kind(optarg, &kind) < 0) {
				fn_usage(stderr);
				return 1;
			}
			break;
		case 'n':
			o.netns = optarg;
			break;
		case 'd':
			o.dev = optarg;
			break;
		case 'N':
			o.node = optarg;
			break;
		case 'c':
			if (fn_parse_int(optarg, 0, CPU_SETSIZE - 1, &o.cpu) < 0) {
				fprintf(stderr, "cadeia-bench fn: bad --cpu '%s'\n", optarg);
				return 1;
			}
			break;
		case 'b':
			if (fn_parse_int(optarg, 0, INT_MAX, &o.busy_poll_us) < 0) {
				fprintf(stderr, "cadeia-bench fn: bad --busy-poll '%s'\n", optarg);
				return 1;
			}
			break;
		case 'r':
			o.rt = true;
			break;
		case 'f':
			if (fn_parse_int(optarg, 0, INT_MAX, &o.ready_fd) < 0) {
				fprintf(stderr, "cadeia-bench fn: bad --ready-fd '%s'\n", optarg);
				return 1;
			}
			break;
		case 'D':
			if (fn_parse_int(optarg, 1, 1000000, &delay) < 0) {
				fprintf(stderr, "cadeia-bench fn: bad --delay-us '%s' (1..1000000)\n", optarg);
				return 1;
			}
			break;
		case 'h':
			fn_usage(stdout);
			return 0;
		default:
			fn_usage(stderr);
			return 1;
		}
	}
	if (!kind) { /* a usage error: status 2, as every cadeia-bench command */
		fprintf(stderr, "cadeia-bench fn: missing KIND\n");
		fn_usage(stderr);
		return 2;
	}
	return fn_check_run(&o, kind, delay);
}

/* fn_main's checks of what the options say together, then the run. */
static int fn_check_run(struct fn_opts *o, const char *kind, int delay)
{
	if (fn_kind_parse(kind, &o->kind) < 0) {
		fprintf(stderr, "cadeia-bench fn: unknown kind '%s' (wire, nsh-aware, delay)\n", kind);
		return 1;
	}
	if (o->kind == FN_KWIRE) {
		fprintf(stderr, "cadeia-bench fn: kind 'kwire' is the in-kernel eBPF wire, "
			"attached by the loader; there is no process to run\n");
		return 1;
	}
	if (delay > 0 && o->kind != FN_DELAY) {
		fprintf(stderr, "cadeia-bench fn %s: --delay-us is for kind delay\n", kind);
		return 1;
	}
	if (o->kind == FN_DELAY)
		o->delay_us = delay > 0 ? (unsigned)delay : FN_DELAY_DEFAULT_US;
	if (!o->dev) {
		fprintf(stderr, "cadeia-bench fn %s: --dev is required\n", kind);
		return 1;
	}
	return fn_run(o);
}
