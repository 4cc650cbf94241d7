// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* UDP load generator and sink; see loadgen.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <linux/sock_diag.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "model/num.h"
#include "sys/errmsg.h"
#include "cadeia_stage.h"
#include "traffic/loadgen.h"

#define NSEC_PER_SEC 1000000000LL
/* Longest sleep, so a stop request is seen promptly even at low rates. */
#define STOP_CHECK_NS (100 * 1000000LL)
#define SINK_BATCH 64
/* Pause between reads while traffic flows. */
#define SINK_BUSY_NAP_NS (200 * 1000LL)
/* recvmmsg calls per lock hold, so loadgen_sink_read is never starved. */
#define SINK_CALLS_PER_LOCK 16
/* Sequence numbers tracked for duplicates, per flow (a 8 MiB bitmap). */
#define SINK_SEQ_TRACK_MAX (1u << 26)
#define SINK_RCVBUF (32 << 20)
#define GEN_SNDBUF (4 << 20)
#define HDRS_LEN (sizeof(struct iphdr) + sizeof(struct udphdr) + sizeof(struct loadgen_hdr))

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int loadgen_payload_len(unsigned frame_size)
{
	if (frame_size < LOADGEN_FRAME_MIN || frame_size > LOADGEN_FRAME_MAX)
		return -EINVAL;
	return (int)(frame_size - LOADGEN_FRAME_OVERHEAD);
}

unsigned loadgen_wire_len(unsigned frame_size)
{
	return frame_size - 4;
}

/* Opens a socket inside a netns (NULL = here): the socket keeps it. */
struct open_ctx {
	int domain, type, proto;
	int fd;
};

static int open_sock(void *arg)
{
	struct open_ctx *c = arg;

	c->fd = socket(c->domain, c->type | SOCK_CLOEXEC, c->proto);
	return c->fd < 0 ? -errno : 0;
}

static int open_in_netns(const char *netns, int domain, int type, int proto,
			 const char *what, char *err, size_t errlen)
{
	struct open_ctx c = { .domain = domain, .type = type, .proto = proto, .fd = -1 };
	struct cs_err cerr = { .msg = "" };
	int r;

	r = cs_in_netns(netns, open_sock, &c, &cerr);
	if (r < 0) {
		if (c.fd >= 0)
			close(c.fd);
		if (cerr.msg[0])
			set_err(err, errlen, "%s: %s", what, cerr.msg);
		else
			set_err(err, errlen, "%s: socket in netns %s: %s", what,
				netns ? netns : "(current)", strerror(-r));
		return r;
	}
	return c.fd;
}

/* ---- generator ------------------------------------------------------- */

struct loadgen {
	struct loadgen_opts o;
	int fd;
	pthread_t thread;
	bool started;
	atomic_int stop;
	int status;
	char err[256];
	struct loadgen_report rep;
	unsigned payload_len;
	uint8_t *slots;       /* batch * HDRS_LEN: per-packet headers */
	uint8_t *pad;         /* shared rest of the payload (zeros) */
	struct mmsghdr *msgs;
	struct iovec *iovs;   /* 2 per message */
	char dst_str[INET_ADDRSTRLEN];
};

static void fill_hdrs(struct loadgen *lg, uint8_t *slot, unsigned flow, uint32_t seq,
		      uint16_t flags)
{
	struct iphdr *ip = (struct iphdr *)slot;
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	struct loadgen_hdr *h = (struct loadgen_hdr *)(udp + 1);

	/* Kernel fills in tot_len and the IP checksum (and saddr if 0, id if 0). */
	*ip = (struct iphdr){
		.version = 4,
		.ihl = 5,
		.tot_len = htons(sizeof(*ip) + sizeof(*udp) + lg->payload_len),
		.frag_off = htons(IP_DF),
		.ttl = 64,
		.protocol = IPPROTO_UDP,
		.saddr = lg->o.src,
		.daddr = lg->o.dst,
	};
	*udp = (struct udphdr){
		.source = htons(lg->o.sport + flow),
		.dest = htons(lg->o.dport),
		.len = htons(sizeof(*udp) + lg->payload_len),
		.check = 0,
	};
	*h = (struct loadgen_hdr){
		.magic = htonl(LOADGEN_MAGIC),
		.run_id = htonl(lg->o.run_id),
		.seq = htonl(seq),
		.flow = htons(flow),
		.flags = htons(flags),
	};
}

/* Sends n prepared messages; returns how many went, 0 if the socket buffer
 * is full, or a negative errno. */
static int send_batch(struct loadgen *lg, unsigned n)
{
	int r;

	do
		r = sendmmsg(lg->fd, lg->msgs, n, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == ENOBUFS) {
		struct pollfd pf = { .fd = lg->fd, .events = POLLOUT };

		lg->rep.blocked++;
		poll(&pf, 1, 1);
		return 0;
	}
	return -errno;
}

static bool gen_stopped(struct loadgen *lg)
{
	return atomic_load_explicit(&lg->stop, memory_order_relaxed) ||
	       (lg->o.stop && *lg->o.stop);
}

static int send_warmup(struct loadgen *lg)
{
	unsigned flow = 0;
	int r;

	while (flow < lg->o.flows && !gen_stopped(lg)) {
		unsigned n = lg->o.flows - flow, j;

		if (n > lg->o.batch)
			n = lg->o.batch;
		for (j = 0; j < n; j++)
			fill_hdrs(lg, lg->slots + j * HDRS_LEN, flow + j, 0, LOADGEN_F_WARMUP);
		r = send_batch(lg, n);
		if (r < 0)
			return r;
		flow += r;
		lg->rep.warmup_sent += r;
	}
	sleep_until(now_ns() + (int64_t)lg->o.warmup_ms * 1000000);
	return 0;
}

static int gen_loop(struct loadgen *lg)
{
	const double rate = lg->o.rate_pps;
	const uint64_t planned = lg->rep.planned;
	const unsigned flows = lg->o.flows;
	int64_t t0, deadline, t_end;
	uint64_t sent = 0;
	int r = 0;

	t0 = now_ns();
	deadline = t0 + (int64_t)llround(lg->o.duration_s * 1e9);
	t_end = t0;
	while (sent < planned) {
		int64_t now;
		uint64_t due;
		unsigned n, j;

		if (gen_stopped(lg)) {
			lg->rep.interrupted = 1;
			break;
		}
		now = now_ns();
		if (now >= deadline)
			break;
		/* Packet k is due at t0 + k / rate. */
		due = (uint64_t)((double)(now - t0) * rate / 1e9) + 1;
		if (due > planned)
			due = planned;
		if (due <= sent) {
			int64_t next = t0 + (int64_t)ceil((double)sent * 1e9 / rate);

			sleep_until(next < now + STOP_CHECK_NS ? next : now + STOP_CHECK_NS);
			continue;
		}
		n = due - sent < lg->o.batch ? (unsigned)(due - sent) : lg->o.batch;
		/* Round robin: packet i belongs to flow i % flows, as its
		 * (i / flows)-th packet. */
		for (j = 0; j < n; j++) {
			uint64_t i = sent + j;

			fill_hdrs(lg, lg->slots + j * HDRS_LEN, i % flows,
				  (uint32_t)(i / flows), 0);
		}
		r = send_batch(lg, n);
		if (r < 0)
			break;
		sent += r;
		t_end = now_ns();
		r = 0;
	}
	lg->rep.sent = sent;
	lg->rep.elapsed_s = (double)(t_end - t0) / 1e9;
	{
		double window = lg->rep.interrupted ? lg->rep.elapsed_s : lg->o.duration_s;

		if (window < lg->rep.elapsed_s)
			window = lg->rep.elapsed_s;
		lg->rep.achieved_pps = window > 0 ? (double)sent / window : 0;
	}
	return r;
}

static void *gen_thread(void *arg)
{
	struct loadgen *lg = arg;
	int r;

	/* Default 50 us slack would blur pacing at tens of kpps. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	lg->rep.cpu = -1;
	if (lg->o.pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(lg->o.cpu, &set);
		if ((r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) != 0) {
			set_err(lg->err, sizeof(lg->err), "loadgen %s: pinning to CPU %d: %s",
				lg->dst_str, lg->o.cpu, strerror(r));
			lg->status = -r;
			return NULL;
		}
	}
	if (lg->o.warmup_ms) {
		r = send_warmup(lg);
		if (r < 0) {
			set_err(lg->err, sizeof(lg->err), "loadgen %s: warm-up send: %s",
				lg->dst_str, strerror(-r));
			lg->status = r;
			return NULL;
		}
	}
	r = gen_loop(lg);
	lg->rep.cpu = sched_getcpu(); /* where it ran, for the record */
	if (r < 0) {
		set_err(lg->err, sizeof(lg->err), "loadgen %s (netns %s): sendmmsg: %s",
			lg->dst_str, lg->o.netns ? lg->o.netns : "(current)", strerror(-r));
		lg->status = r;
	}
	return NULL;
}

static void gen_free(struct loadgen *lg)
{
	if (!lg)
		return;
	if (lg->fd >= 0)
		close(lg->fd);
	free(lg->slots);
	free(lg->pad);
	free(lg->msgs);
	free(lg->iovs);
	free(lg);
}

static int gen_check(const struct loadgen_opts *o, char *err, size_t errlen)
{
	if (loadgen_payload_len(o->frame_size) < 0)
		return set_err(err, errlen, "loadgen: frame size %u outside %u..%u",
			       o->frame_size, LOADGEN_FRAME_MIN, LOADGEN_FRAME_MAX), -EINVAL;
	if (o->flows > LOADGEN_MAX_FLOWS)
		return set_err(err, errlen, "loadgen: %u flows, at most %u", o->flows,
			       LOADGEN_MAX_FLOWS), -EINVAL;
	if (!(o->rate_pps > 0) || !isfinite(o->rate_pps))
		return set_err(err, errlen, "loadgen: rate %g pps must be > 0", o->rate_pps),
		       -EINVAL;
	if (!(o->duration_s > 0) || o->duration_s > 86400)
		return set_err(err, errlen, "loadgen: duration %g s must be in (0, 86400]",
			       o->duration_s), -EINVAL;
	if (o->batch > LOADGEN_BATCH_MAX)
		return set_err(err, errlen, "loadgen: batch %u, at most %u", o->batch,
			       LOADGEN_BATCH_MAX), -EINVAL;
	if (!o->dst)
		return set_err(err, errlen, "loadgen: no destination address"), -EINVAL;
	return 0;
}

int loadgen_start(const struct loadgen_opts *o, struct loadgen **out,
		  char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct loadgen *lg;
	int sndbuf = GEN_SNDBUF;
	unsigned i;
	int ret = -1, r;

	*out = NULL;
	r = gen_check(o, err, errlen);
	if (r < 0)
		return r;
	lg = calloc(1, sizeof(*lg));
	if (!lg)
		return set_err(err, errlen, "loadgen: out of memory"), -ENOMEM;
	lg->fd = -1;
	lg->o = *o;
	if (!lg->o.flows)
		lg->o.flows = 1;
	if (!lg->o.sport)
		lg->o.sport = LOADGEN_SPORT_DEFAULT;
	if (!lg->o.dport)
		lg->o.dport = LOADGEN_DPORT_DEFAULT;
	if (!lg->o.batch)
		lg->o.batch = LOADGEN_BATCH_DEFAULT;
	inet_ntop(AF_INET, &lg->o.dst, lg->dst_str, sizeof(lg->dst_str));
	if ((unsigned)lg->o.sport + lg->o.flows - 1 > 65535) {
		ret = -EINVAL;
		set_err(err, errlen, "loadgen %s: source ports %u + %u flows exceed 65535",
			lg->dst_str, lg->o.sport, lg->o.flows);
		goto cleanup;
	}
	lg->payload_len = (unsigned)loadgen_payload_len(o->frame_size);
	lg->rep.frame_size = o->frame_size;
	lg->rep.payload_len = lg->payload_len;
	lg->rep.planned = (uint64_t)llround(o->rate_pps * o->duration_s);

	lg->slots = calloc(lg->o.batch, HDRS_LEN);
	lg->pad = calloc(1, lg->payload_len);
	lg->msgs = calloc(lg->o.batch, sizeof(*lg->msgs));
	lg->iovs = calloc(2 * lg->o.batch, sizeof(*lg->iovs));
	if (!lg->slots || !lg->pad || !lg->msgs || !lg->iovs) {
		ret = -ENOMEM;
		set_err(err, errlen, "loadgen %s: out of memory", lg->dst_str);
		goto cleanup;
	}
	for (i = 0; i < lg->o.batch; i++) {
		lg->iovs[2 * i] = (struct iovec){ lg->slots + i * HDRS_LEN, HDRS_LEN };
		lg->iovs[2 * i + 1] = (struct iovec){
			lg->pad, lg->payload_len - sizeof(struct loadgen_hdr) };
		lg->msgs[i].msg_hdr.msg_iov = &lg->iovs[2 * i];
		lg->msgs[i].msg_hdr.msg_iovlen = 2;
	}

	/* IPPROTO_RAW: send-only, header included; nothing is ever queued
	 * for reading on it. */
	r = open_in_netns(lg->o.netns, AF_INET, SOCK_RAW, IPPROTO_RAW, "loadgen", err, errlen);
	if (r < 0) {
		ret = r;
		goto cleanup;
	}
	lg->fd = r;
	if (setsockopt(lg->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(lg->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* Connecting looks up the route once, and fails early without one. */
	sa.sin_addr.s_addr = lg->o.dst;
	if (connect(lg->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		set_err(err, errlen, "loadgen: no route to %s in netns %s: %s", lg->dst_str,
			lg->o.netns ? lg->o.netns : "(current)", strerror(-ret));
		goto cleanup;
	}

	r = pthread_create(&lg->thread, NULL, gen_thread, lg);
	if (r) {
		ret = -r;
		set_err(err, errlen, "loadgen %s: creating thread: %s", lg->dst_str, strerror(r));
		goto cleanup;
	}
	lg->started = true;
	*out = lg;
	lg = NULL;
	ret = 0;

cleanup:
	gen_free(lg);
	return ret;
}

void loadgen_stop(struct loadgen *lg)
{
	if (lg)
		atomic_store(&lg->stop, 1);
}

int loadgen_join(struct loadgen *lg, struct loadgen_report *rep,
		 char *err, size_t errlen)
{
	int ret;

	if (!lg)
		return set_err(err, errlen, "loadgen: not started"), -EINVAL;
	if (lg->started)
		pthread_join(lg->thread, NULL);
	ret = lg->status;
	if (ret < 0)
		set_err(err, errlen, "%s", lg->err);
	if (rep)
		*rep = lg->rep;
	gen_free(lg);
	return ret;
}

int loadgen_run(const struct loadgen_opts *o, struct loadgen_report *rep,
		char *err, size_t errlen)
{
	struct loadgen *lg;
	int r;

	r = loadgen_start(o, &lg, err, errlen);
	if (r < 0)
		return r;
	return loadgen_join(lg, rep, err, errlen);
}

/* ---- sink -------------------------------------------------------------- */

struct flow_state {
	uint64_t received;
	uint64_t *seen;      /* bitmap of received seq numbers */
	uint32_t seen_bits;  /* capacity of seen, in bits */
	uint32_t max_seq;
	bool any;
};

struct loadgen_sink {
	struct loadgen_sink_opts o;
	int fd;
	pthread_t thread;
	bool started;
	atomic_int stop;
	pthread_mutex_t lock;
	/* Under lock: */
	struct loadgen_sink_report c;
	struct flow_state *flows;
	uint32_t drops_base;
	struct mmsghdr msgs[SINK_BATCH];
	struct iovec iovs[SINK_BATCH];
	struct loadgen_hdr bufs[SINK_BATCH];
};

static uint32_t sock_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(uint32_t))
		return 0;
	return mem[SK_MEMINFO_DROPS];
}

/* Marks seq as seen; returns true if it already was. Past the tracking
 * limit, or out of memory, duplicates go unnoticed. */
static bool seen_before(struct flow_state *f, uint32_t seq)
{
	if (seq >= SINK_SEQ_TRACK_MAX)
		return false;
	if (seq >= f->seen_bits) {
		uint32_t bits = f->seen_bits ? f->seen_bits : 4096;
		uint64_t *n;

		while (bits <= seq)
			bits *= 2;
		n = realloc(f->seen, bits / 8);
		if (!n)
			return false;
		memset(n + f->seen_bits / 64, 0, (bits - f->seen_bits) / 8);
		f->seen = n;
		f->seen_bits = bits;
	}
	if (f->seen[seq / 64] & (1ULL << (seq % 64)))
		return true;
	f->seen[seq / 64] |= 1ULL << (seq % 64);
	return false;
}

static void count_one(struct loadgen_sink *sk, const struct loadgen_hdr *h, size_t len)
{
	struct flow_state *f;
	uint32_t seq, run;
	uint16_t flow;

	if (len < sizeof(*h) || ntohl(h->magic) != LOADGEN_MAGIC) {
		sk->c.foreign++;
		return;
	}
	flow = ntohs(h->flow);
	run = ntohl(h->run_id);
	seq = ntohl(h->seq);
	if (flow >= sk->o.max_flows) {
		sk->c.foreign++;
		return;
	}
	if (sk->c.run_id != LOADGEN_RUN_ANY && run != sk->c.run_id) {
		sk->c.other_run++;
		return;
	}
	if (ntohs(h->flags) & LOADGEN_F_WARMUP) {
		sk->c.warmup++;
		return;
	}
	f = &sk->flows[flow];
	if (seen_before(f, seq)) {
		sk->c.duplicates++;
		return;
	}
	if (!f->any) {
		f->any = true;
		f->max_seq = seq;
		sk->c.flows_seen++;
	} else if (seq < f->max_seq) {
		sk->c.reordered++;
	} else {
		f->max_seq = seq;
	}
	f->received++;
	sk->c.received++;
}

/* Reads what is queued, without blocking; returns the packet count. Called
 * with lock held; all = until the queue is empty. */
static unsigned sink_drain(struct loadgen_sink *sk, bool all)
{
	unsigned calls, got = 0;
	int n, i;

	for (calls = 0; all || calls < SINK_CALLS_PER_LOCK; calls++) {
		for (i = 0; i < SINK_BATCH; i++)
			sk->msgs[i].msg_hdr.msg_flags = 0;
		n = recvmmsg(sk->fd, sk->msgs, SINK_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			size_t len = sk->msgs[i].msg_len;

			/* Only the header is copied; msg_len is the full size. */
			count_one(sk, &sk->bufs[i], len);
		}
		got += n;
		if (n < SINK_BATCH)
			break;
	}
	return got;
}

static void *sink_thread(void *arg)
{
	struct loadgen_sink *sk = arg;
	bool busy = false;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (!atomic_load(&sk->stop)) {
		struct pollfd pf = { .fd = sk->fd, .events = POLLIN };
		unsigned n;

		/* Under load, waking up on every arrival costs the sender (it
		 * pays for the wake-up in its softirq) more than the packets
		 * do: read on a short timer instead, and block only when idle. */
		if (busy)
			sleep_until(now_ns() + SINK_BUSY_NAP_NS);
		else if (poll(&pf, 1, (int)(STOP_CHECK_NS / 1000000)) <= 0)
			continue;
		pthread_mutex_lock(&sk->lock);
		n = sink_drain(sk, false);
		pthread_mutex_unlock(&sk->lock);
		busy = n > 0;
	}
	return NULL;
}

static void sink_free(struct loadgen_sink *sk)
{
	unsigned i;

	if (!sk)
		return;
	if (sk->fd >= 0)
		close(sk->fd);
	if (sk->flows)
		for (i = 0; i < sk->o.max_flows; i++)
			free(sk->flows[i].seen);
	free(sk->flows);
	pthread_mutex_destroy(&sk->lock);
	free(sk);
}

int loadgen_sink_start(const struct loadgen_sink_opts *o, struct loadgen_sink **out,
		       char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct loadgen_sink *sk;
	char addr[INET_ADDRSTRLEN];
	int rcvbuf = SINK_RCVBUF;
	int ret = -1, r, i;

	*out = NULL;
	sk = calloc(1, sizeof(*sk));
	if (!sk)
		return set_err(err, errlen, "loadgen sink: out of memory"), -ENOMEM;
	sk->fd = -1;
	pthread_mutex_init(&sk->lock, NULL);
	sk->o = *o;
	if (!sk->o.port)
		sk->o.port = LOADGEN_DPORT_DEFAULT;
	if (!sk->o.max_flows || sk->o.max_flows > LOADGEN_MAX_FLOWS)
		sk->o.max_flows = LOADGEN_MAX_FLOWS;
	inet_ntop(AF_INET, &sk->o.addr, addr, sizeof(addr));
	sk->flows = calloc(sk->o.max_flows, sizeof(*sk->flows));
	if (!sk->flows) {
		ret = -ENOMEM;
		set_err(err, errlen, "loadgen sink: out of memory");
		goto cleanup;
	}
	for (i = 0; i < SINK_BATCH; i++) {
		sk->iovs[i] = (struct iovec){ &sk->bufs[i], sizeof(sk->bufs[i]) };
		sk->msgs[i].msg_hdr.msg_iov = &sk->iovs[i];
		sk->msgs[i].msg_hdr.msg_iovlen = 1;
	}

	r = open_in_netns(sk->o.netns, AF_INET, SOCK_DGRAM, IPPROTO_UDP, "loadgen sink",
			  err, errlen);
	if (r < 0) {
		ret = r;
		goto cleanup;
	}
	sk->fd = r;
	/* Deep queue: the sink thread shares two cores with the sender and the
	 * path; what still overflows is counted in sock_drops. */
	if (setsockopt(sk->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(sk->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_addr.s_addr = sk->o.addr;
	sa.sin_port = htons(sk->o.port);
	if (bind(sk->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		set_err(err, errlen, "loadgen sink: binding %s:%u in netns %s: %s", addr,
			sk->o.port, sk->o.netns ? sk->o.netns : "(current)", strerror(-ret));
		goto cleanup;
	}
	sk->drops_base = sock_drops(sk->fd);

	r = pthread_create(&sk->thread, NULL, sink_thread, sk);
	if (r) {
		ret = -r;
		set_err(err, errlen, "loadgen sink %s:%u: creating thread: %s", addr,
			sk->o.port, strerror(r));
		goto cleanup;
	}
	sk->started = true;
	*out = sk;
	sk = NULL;
	ret = 0;

cleanup:
	sink_free(sk);
	return ret;
}

void loadgen_sink_reset(struct loadgen_sink *sk, uint32_t run_id)
{
	unsigned i;

	pthread_mutex_lock(&sk->lock);
	/* Whatever is queued now belongs to the old count. */
	sink_drain(sk, true);
	memset(&sk->c, 0, sizeof(sk->c));
	sk->c.run_id = run_id;
	for (i = 0; i < sk->o.max_flows; i++) {
		struct flow_state *f = &sk->flows[i];

		if (f->seen)
			memset(f->seen, 0, f->seen_bits / 8);
		f->received = 0;
		f->max_seq = 0;
		f->any = false;
	}
	sk->drops_base = sock_drops(sk->fd);
	pthread_mutex_unlock(&sk->lock);
}

void loadgen_sink_read(struct loadgen_sink *sk, struct loadgen_sink_report *r,
		       uint64_t *per_flow, unsigned nflows)
{
	unsigned i;

	pthread_mutex_lock(&sk->lock);
	/* Count what is queued but not yet read: it was delivered. */
	sink_drain(sk, true);
	*r = sk->c;
	r->sock_drops = (uint32_t)(sock_drops(sk->fd) - sk->drops_base);
	r->delivered = r->received + r->sock_drops;
	for (i = 0; per_flow && i < nflows; i++)
		per_flow[i] = i < sk->o.max_flows ? sk->flows[i].received : 0;
	pthread_mutex_unlock(&sk->lock);
}

void loadgen_sink_stop(struct loadgen_sink *sk)
{
	if (!sk)
		return;
	atomic_store(&sk->stop, 1);
	if (sk->started)
		pthread_join(sk->thread, NULL);
	sink_free(sk);
}

/* ---- CLI ----------------------------------------------------------------- */

static volatile sig_atomic_t cli_stop;

static void cli_on_signal(int sig)
{
	cli_stop = 1;
}

static int parse_ip(const char *s, uint32_t *ip)
{
	return inet_pton(AF_INET, s, ip) == 1 ? 0 : -EINVAL;
}

static int parse_num(const char *s, double lo, double hi, double *v)
{
	return num_parse_double(s, lo, hi, v) < 0 ? -EINVAL : 0;
}

/* Ports, sizes, counts: whole numbers only ("9099.5" is not a port). */
static int parse_whole(const char *s, double lo, double hi, double *v)
{
	long long n;

	if (num_parse_ll(s, (long long)lo, (long long)hi, &n) < 0)
		return -EINVAL;
	*v = (double)n;
	return 0;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

static const char usage_load[] =
	"usage: cadeia-bench load --netns NS --src IP --dst IP --rate PPS --size BYTES\n"
	"                         --flows N --seconds S [--sport P] [--dport P] [--warmup-ms MS]\n";
static const char usage_sink[] =
	"usage: cadeia-bench load-sink --netns NS --port P [--seconds S]\n";

static int cli_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 'z' },
		{ "flows", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 't' },
		{ "sport", required_argument, NULL, 'S' },
		{ "dport", required_argument, NULL, 'D' },
		{ "warmup-ms", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct loadgen_opts o = {
		.frame_size = LOADGEN_FRAME_MIN, .flows = 1, .duration_s = 1, .warmup_ms = 50,
	};
	struct loadgen_report rep;
	char err[512] = "";
	double v = 0;
	int c, r;

	o.stop = &cli_stop;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		r = 0;
		switch (c) {
		case 'n': o.netns = optarg; break;
		case 's': r = parse_ip(optarg, &o.src); break;
		case 'd': r = parse_ip(optarg, &o.dst); break;
		case 'r': r = parse_num(optarg, 1e-3, 1e9, &o.rate_pps); break;
		case 'z': r = parse_whole(optarg, LOADGEN_FRAME_MIN, LOADGEN_FRAME_MAX, &v);
			  o.frame_size = (unsigned)v; break;
		case 'f': r = parse_whole(optarg, 1, LOADGEN_MAX_FLOWS, &v);
			  o.flows = (unsigned)v; break;
		case 't': r = parse_num(optarg, 1e-3, 86400, &o.duration_s); break;
		case 'S': r = parse_whole(optarg, 1, 65535, &v); o.sport = (uint16_t)v; break;
		case 'D': r = parse_whole(optarg, 1, 65535, &v); o.dport = (uint16_t)v; break;
		case 'w': r = parse_whole(optarg, 0, 60000, &v); o.warmup_ms = (unsigned)v; break;
		case 'h': fputs(usage_load, stdout); return 0;
		default: fputs(usage_load, stderr); return 2;
		}
		if (r < 0) {
			fprintf(stderr, "load: invalid value '%s'\n%s", optarg, usage_load);
			return 2;
		}
	}
	if (optind != argc || !o.dst || !(o.rate_pps > 0)) {
		fprintf(stderr, "load: --dst and --rate are required\n%s", usage_load);
		return 2;
	}
	signal(SIGINT, cli_on_signal);
	signal(SIGTERM, cli_on_signal);
	r = loadgen_run(&o, &rep, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "load: %s\n", err);
		return 1;
	}
	print_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:i, s:i, s:i, s:b}",
			     "netns", o.netns ? o.netns : "",
			     "planned", (json_int_t)rep.planned,
			     "sent", (json_int_t)rep.sent,
			     "warmup_sent", (json_int_t)rep.warmup_sent,
			     "blocked", (json_int_t)rep.blocked,
			     "rate_pps", o.rate_pps,
			     "achieved_pps", rep.achieved_pps,
			     "elapsed_s", rep.elapsed_s,
			     "frame_size", (int)rep.frame_size,
			     "payload_len", (int)rep.payload_len,
			     "flows", (int)o.flows,
			     "interrupted", rep.interrupted != 0));
	return 0;
}

static int cli_sink(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct loadgen_sink_opts o = {};
	struct loadgen_sink_report rep;
	struct loadgen_sink *sk;
	uint64_t *per_flow = NULL;
	double seconds = 0, v;
	int64_t end;
	char err[512] = "";
	json_t *flows;
	unsigned i, last = 0;
	int c, r, ret = 1;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		r = 0;
		switch (c) {
		case 'n': o.netns = optarg; break;
		case 'p': r = parse_whole(optarg, 1, 65535, &v); o.port = (uint16_t)v; break;
		case 't': r = parse_num(optarg, 1e-3, 86400 * 365, &seconds); break;
		case 'h': fputs(usage_sink, stdout); return 0;
		default: fputs(usage_sink, stderr); return 2;
		}
		if (r < 0) {
			fprintf(stderr, "load-sink: invalid value '%s'\n%s", optarg, usage_sink);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "load-sink: unexpected argument '%s'\n%s", argv[optind], usage_sink);
		return 2;
	}
	/* Without them it would listen in the root namespace until killed. */
	if (!o.netns || !o.port) {
		fprintf(stderr, "load-sink: --netns and --port are required\n%s", usage_sink);
		return 2;
	}
	signal(SIGINT, cli_on_signal);
	signal(SIGTERM, cli_on_signal);
	if (loadgen_sink_start(&o, &sk, err, sizeof(err)) < 0) {
		fprintf(stderr, "load-sink: %s\n", err);
		return 1;
	}
	end = seconds > 0 ? now_ns() + (int64_t)llround(seconds * 1e9) : INT64_MAX;
	while (!cli_stop && now_ns() < end)
		usleep(50000);

	per_flow = calloc(LOADGEN_MAX_FLOWS, sizeof(*per_flow));
	if (!per_flow) {
		fprintf(stderr, "load-sink: out of memory\n");
		goto cleanup;
	}
	loadgen_sink_read(sk, &rep, per_flow, LOADGEN_MAX_FLOWS);
	for (i = 0; i < LOADGEN_MAX_FLOWS; i++)
		if (per_flow[i])
			last = i + 1;
	flows = json_array();
	for (i = 0; i < last; i++)
		json_array_append_new(flows, json_integer((json_int_t)per_flow[i]));
	print_json(json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:o}",
			     "netns", o.netns ? o.netns : "",
			     "port", o.port ? o.port : LOADGEN_DPORT_DEFAULT,
			     "received", (json_int_t)rep.received,
			     "duplicates", (json_int_t)rep.duplicates,
			     "reordered", (json_int_t)rep.reordered,
			     "warmup", (json_int_t)rep.warmup,
			     "other_run", (json_int_t)rep.other_run,
			     "foreign", (json_int_t)rep.foreign,
			     "sock_drops", (json_int_t)rep.sock_drops,
			     "delivered", (json_int_t)rep.delivered,
			     "flows_seen", (int)rep.flows_seen,
			     "per_flow", flows));
	ret = 0;
cleanup:
	free(per_flow);
	loadgen_sink_stop(sk);
	return ret;
}

int loadgen_cli(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "load") == 0)
		return cli_load(argc, argv);
	if (argc >= 1 && strcmp(argv[0], "load-sink") == 0)
		return cli_sink(argc, argv);
	fprintf(stderr, "loadgen: unknown subcommand '%s' (load, load-sink)\n",
		argc >= 1 ? argv[0] : "");
	return 2;
}
