// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ICMP echo prober; see probe.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/net_tstamp.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "sys/errmsg.h"
#include "cadeia_stage.h"
#include "traffic/probe.h"

#define NSEC_PER_SEC 1000000000LL
/* Longest poll sleep, so *stop is seen promptly even at low rates. */
#define STOP_CHECK_MS 100
/* CLOCK_REALTIME vs CLOCK_MONOTONIC rate difference (NTP slew) is far below this. */
#define KERN_RTT_SLACK_NS 100000

struct probe_state {
	int64_t tx_mono;  /* user space, CLOCK_MONOTONIC */
	int64_t rx_mono;
	int64_t tx_kern;  /* kernel software timestamps, CLOCK_REALTIME; 0 = none */
	int64_t rx_kern;
	uint8_t sent, replied;
};

struct prober {
	const struct probe_opts *o;
	int fd;
	bool kts;             /* kernel timestamps enabled */
	unsigned total;       /* warmup + count */
	struct probe_state *st;
	unsigned *key_to_idx; /* OPT_ID key (nth successful send) -> probe */
	unsigned nkeys;
	unsigned tx_ts_pending;
	unsigned nsent;       /* all probes, warm-up included */
	unsigned replies;     /* all probes, warm-up included */
	unsigned rec_replies; /* recorded probes only */
	unsigned duplicates;
	uint16_t ident;
	double last_rtt_us;
	uint8_t *rxbuf;
	size_t rxlen;
	char dst_str[INET_ADDRSTRLEN];
};

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static uint16_t icmp_csum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;

	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

struct open_ctx {
	int fd;
	int err;
};

static int open_raw(void *arg)
{
	struct open_ctx *c = arg;

	c->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	c->err = c->fd < 0 ? errno : 0;
	return c->fd < 0 ? -c->err : 0;
}

static int setup_socket(struct prober *p, char *err, size_t errlen)
{
	const struct probe_opts *o = p->o;
	const char *ns = o->netns ? o->netns : "(current)";
	struct icmp_filter filt = { .data = ~(1u << ICMP_ECHOREPLY) };
	struct open_ctx oc = { .fd = -1 };
	int rcvbuf = 1 << 20, r;

	if (o->netns) {
		struct cs_err cerr = { .msg = "" };

		r = cs_in_netns(o->netns, open_raw, &oc, &cerr);
		if (r < 0 && oc.fd < 0 && !oc.err) {
			set_err(err, errlen, "probe %s: entering netns %s: %s", p->dst_str,
				ns, cerr.msg[0] ? cerr.msg : strerror(-r));
			return r;
		}
		if (oc.fd >= 0 && r < 0)
			close(oc.fd), oc.fd = -1, oc.err = -r;
	} else {
		open_raw(&oc);
	}
	if (oc.fd < 0) {
		set_err(err, errlen, "probe %s: raw ICMP socket in netns %s: %s",
			p->dst_str, ns, strerror(oc.err));
		return -oc.err;
	}
	p->fd = oc.fd;

	/* Only echo replies: a raw socket otherwise gets every ICMP message. */
	if (setsockopt(p->fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)) < 0) {
		r = -errno;
		set_err(err, errlen, "probe %s: ICMP_FILTER: %s", p->dst_str, strerror(-r));
		return r;
	}
	/* Best effort: a deep queue only matters at high rates. */
	setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	if (o->src) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = o->src };
		char s[INET_ADDRSTRLEN];

		if (bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			r = -errno;
			inet_ntop(AF_INET, &o->src, s, sizeof(s));
			set_err(err, errlen, "probe %s: binding source %s in netns %s: %s",
				p->dst_str, s, ns, strerror(-r));
			return r;
		}
	}

	if (!o->user_ts_only) {
		unsigned flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
				 SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
				 SOF_TIMESTAMPING_OPT_TSONLY;

		/* Not fatal: user-space timestamps are the fallback. */
		p->kts = setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPING, &flags,
				    sizeof(flags)) == 0;
	}
	return 0;
}

static int send_probe(struct prober *p, unsigned k, uint8_t *pkt, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = p->o->dst };
	struct icmphdr *h = (struct icmphdr *)pkt;
	struct probe_state *s = &p->st[k];
	ssize_t n;

	h->type = ICMP_ECHO;
	h->code = 0;
	h->un.echo.id = htons(p->ident);
	h->un.echo.sequence = htons((uint16_t)k);
	h->checksum = 0;
	h->checksum = icmp_csum(pkt, len);

	s->tx_mono = now_ns(CLOCK_MONOTONIC);
	n = sendto(p->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
	if (n < 0)
		return -errno; /* counted as lost, like ping with a full queue */
	s->sent = 1;
	p->nsent++;
	if (p->kts) {
		/* OPT_ID numbers each successful send on this socket from 0. */
		p->key_to_idx[p->nkeys++] = k;
		p->tx_ts_pending++;
	}
	return 0;
}

static const struct scm_timestamping *find_tstamp(struct msghdr *m)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING)
			return (const struct scm_timestamping *)CMSG_DATA(c);
	return NULL;
}

static void read_errqueue(struct prober *p)
{
	char ctrl[512];

	for (;;) {
		struct msghdr m = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
		const struct scm_timestamping *tss = NULL;
		const struct sock_extended_err *ee = NULL;
		struct cmsghdr *c;

		if (recvmsg(p->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING)
				tss = (const void *)CMSG_DATA(c);
			else if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR)
				ee = (const void *)CMSG_DATA(c);
		}
		if (!tss || !ee || ee->ee_origin != SO_EE_ORIGIN_TIMESTAMPING ||
		    ee->ee_info != SCM_TSTAMP_SND || ee->ee_data >= p->nkeys)
			continue;
		if (!p->st[p->key_to_idx[ee->ee_data]].tx_kern) {
			p->st[p->key_to_idx[ee->ee_data]].tx_kern = ts_ns(&tss->ts[0]);
			p->tx_ts_pending--;
		}
	}
}

static void read_replies(struct prober *p)
{
	char ctrl[512];

	for (;;) {
		struct iovec iov = { .iov_base = p->rxbuf, .iov_len = p->rxlen };
		struct sockaddr_in from;
		struct msghdr m = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
		};
		const struct scm_timestamping *tss;
		const struct icmphdr *h;
		const struct iphdr *ip;
		struct probe_state *s;
		int64_t rx_mono;
		unsigned seq;
		size_t hl;
		ssize_t n;

		n = recvmsg(p->fd, &m, MSG_DONTWAIT);
		if (n < 0)
			return;
		rx_mono = now_ns(CLOCK_MONOTONIC);
		ip = (const struct iphdr *)p->rxbuf;
		if ((size_t)n < sizeof(*ip))
			continue;
		hl = ip->ihl * 4u;
		if (ip->protocol != IPPROTO_ICMP || (size_t)n < hl + sizeof(*h))
			continue;
		h = (const struct icmphdr *)(p->rxbuf + hl);
		/* Foreign traffic: other probers, other hosts. */
		if (h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != p->ident ||
		    ip->saddr != p->o->dst)
			continue;
		seq = ntohs(h->un.echo.sequence);
		if (seq >= p->total || !p->st[seq].sent)
			continue;
		s = &p->st[seq];
		if (s->replied) {
			p->duplicates++;
			continue;
		}
		s->replied = 1;
		s->rx_mono = rx_mono;
		tss = find_tstamp(&m);
		if (tss && (tss->ts[0].tv_sec || tss->ts[0].tv_nsec))
			s->rx_kern = ts_ns(&tss->ts[0]);
		p->replies++;
		if (seq >= p->o->warmup)
			p->rec_replies++;
		p->last_rtt_us = (double)(rx_mono - s->tx_mono) / 1000.0;
	}
}

/* Waits for socket events or until deadline (CLOCK_MONOTONIC ns, armed on
 * tfd as an absolute time so pacing never drifts); 0 = no deadline. */
static int wait_events(struct prober *p, int tfd, int64_t deadline)
{
	struct pollfd pf[2] = {
		{ .fd = p->fd, .events = POLLIN },
		{ .fd = tfd, .events = POLLIN },
	};
	int r;

	if (deadline) {
		struct itimerspec its = {
			.it_value = { .tv_sec = deadline / NSEC_PER_SEC,
				      .tv_nsec = deadline % NSEC_PER_SEC },
		};

		if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
			return -errno;
	}
	r = poll(pf, 2, STOP_CHECK_MS);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (pf[0].revents & POLLERR)
		read_errqueue(p);
	if (pf[0].revents & POLLIN)
		read_replies(p);
	if (pf[1].revents & POLLIN) {
		uint64_t exp;

		if (read(tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

static bool stopped(const struct probe_opts *o)
{
	return o->stop && *o->stop;
}

/* Final RTTs: kernel timestamps when both ends have one, else user space. */
static void finish(struct prober *p, struct probe_sample *out, struct probe_report *rep)
{
	const struct probe_opts *o = p->o;
	unsigned k, i;

	for (k = 0; k < p->total; k++) {
		struct probe_state *s = &p->st[k];
		bool rec = k >= o->warmup;
		struct probe_sample *x = rec ? &out[k - o->warmup] : NULL;
		int64_t user_rtt, kern_rtt;

		if (rec) {
			x->seq = k;
			x->tx_ns = s->sent ? s->tx_mono : -1;
			x->rtt_ns = -1;
			x->ts_kernel = 0;
		}
		if (!s->sent)
			continue;
		if (!rec) {
			rep->warmup_sent++;
			rep->warmup_received += s->replied;
			continue;
		}
		rep->sent++;
		if (!s->replied)
			continue;
		rep->received++;
		user_rtt = s->rx_mono - s->tx_mono;
		kern_rtt = s->tx_kern && s->rx_kern ? s->rx_kern - s->tx_kern : -1;
		/* The kernel's span lies inside the user-space one; anything else
		 * means a TX timestamp matched to the wrong probe. */
		if (kern_rtt > 0 && kern_rtt <= user_rtt + KERN_RTT_SLACK_NS) {
			x->rtt_ns = kern_rtt;
			x->ts_kernel = 1;
			rep->kernel_ts++;
		} else {
			x->rtt_ns = user_rtt;
			rep->user_ts++;
		}
	}

	/* Send-time span over all sends, warm-up included. */
	{
		int64_t first = -1, last = -1;
		unsigned n = 0;

		for (i = 0; i < p->total; i++) {
			if (!p->st[i].sent)
				continue;
			if (first < 0)
				first = p->st[i].tx_mono;
			last = p->st[i].tx_mono;
			n++;
		}
		if (n >= 2 && last > first) {
			rep->duration_s = (double)(last - first) / 1e9;
			rep->achieved_pps = (n - 1) / rep->duration_s;
		}
	}

	if (!rep->received)
		rep->ts_source = "none";
	else if (!rep->user_ts)
		rep->ts_source = "kernel";
	else if (!rep->kernel_ts)
		rep->ts_source = "user";
	else
		rep->ts_source = "mixed";
	rep->duplicates = p->duplicates;
	rep->kernel_ts_enabled = p->kts;
	rep->ident = p->ident;
}

/* Every probe at its time (absolute-time pacing); replies are read while
 * waiting. A negative errno if waiting failed. */
static int send_all(struct prober *p, int tfd, uint8_t *pkt, size_t icmp_size,
		    struct probe_report *rep)
{
	const struct probe_opts *o = p->o;
	int64_t interval = (int64_t)llround(1e9 / o->rate_pps), next, now;
	int r;

	if (interval < 1)
		interval = 1;
	next = now_ns(CLOCK_MONOTONIC);
	for (unsigned k = 0; k < p->total;) {
		if (stopped(o)) {
			rep->interrupted = 1;
			return 0;
		}
		now = now_ns(CLOCK_MONOTONIC);
		if (now >= next) {
			/* A failed send is a lost probe, not a failed run. */
			send_probe(p, k, pkt, icmp_size);
			k++;
			next += interval;
			/* Far behind (a stall): do not burst to catch up; the
			 * achieved rate tells. */
			if (now - next > interval)
				next = now + interval;
			if (o->progress && k > o->warmup)
				o->progress(o->progress_arg, k - o->warmup, p->rec_replies,
					    p->last_rtt_us);
			continue;
		}
		if ((r = wait_events(p, tfd, next)) < 0)
			return r;
	}
	return 0;
}

/* Late replies and transmit timestamps, for at most grace_ms. */
static int wait_grace(struct prober *p, int tfd, struct probe_report *rep)
{
	int64_t grace_end = now_ns(CLOCK_MONOTONIC) + (int64_t)p->o->grace_ms * 1000000;
	int r;

	while (!rep->interrupted) {
		if (p->replies >= p->nsent && !p->tx_ts_pending)
			break;
		if (stopped(p->o)) {
			rep->interrupted = 1;
			break;
		}
		if (now_ns(CLOCK_MONOTONIC) >= grace_end)
			break;
		if ((r = wait_events(p, tfd, grace_end)) < 0)
			return r;
	}
	return 0;
}

int probe_run(const struct probe_opts *o, struct probe_sample *out,
	      struct probe_report *rep, char *err, size_t errlen)
{
	struct prober p = { .o = o, .fd = -1, .last_rtt_us = NAN };
	size_t icmp_size = o->icmp_size ? o->icmp_size : PROBE_ICMP_SIZE_DEFAULT;
	uint8_t *pkt = NULL;
	unsigned i;
	int tfd = -1, r, ret = -1;

	memset(rep, 0, sizeof(*rep));
	rep->ts_source = "none";
	inet_ntop(AF_INET, &o->dst, p.dst_str, sizeof(p.dst_str));
	p.total = o->warmup + o->count;
	if (!o->dst || !(o->rate_pps > 0) || !isfinite(o->rate_pps) || !o->count ||
	    p.total > PROBE_MAX_PROBES || p.total < o->count ||
	    icmp_size < PROBE_ICMP_SIZE_MIN || icmp_size > PROBE_ICMP_SIZE_MAX) {
		set_err(err, errlen,
			"probe %s: invalid options (rate %g pps, %u + %u probes, %zu-byte ICMP)",
			p.dst_str, o->rate_pps, o->warmup, o->count, icmp_size);
		return -EINVAL;
	}
	p.ident = o->ident ? o->ident : (uint16_t)(gettid() ^ (getpid() << 4));
	if (!p.ident)
		p.ident = 1;

	p.rxlen = 65536;
	p.st = calloc(p.total, sizeof(*p.st));
	p.key_to_idx = calloc(p.total, sizeof(*p.key_to_idx));
	p.rxbuf = malloc(p.rxlen);
	pkt = calloc(1, icmp_size);
	if (!p.st || !p.key_to_idx || !p.rxbuf || !pkt) {
		set_err(err, errlen, "probe %s: %u probes: %s", p.dst_str, p.total,
			strerror(ENOMEM));
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = sizeof(struct icmphdr); i < icmp_size; i++)
		pkt[i] = (uint8_t)i; /* ping-like pattern */

	r = setup_socket(&p, err, errlen);
	if (r < 0) {
		ret = r;
		goto cleanup;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0) {
		ret = -errno;
		set_err(err, errlen, "probe %s: timerfd: %s", p.dst_str, strerror(-ret));
		goto cleanup;
	}

	if ((r = send_all(&p, tfd, pkt, icmp_size, rep)) < 0 ||
	    (r = wait_grace(&p, tfd, rep)) < 0) {
		ret = r;
		set_err(err, errlen, "probe %s: waiting for replies: %s", p.dst_str, strerror(-r));
		goto cleanup;
	}
	/* Timestamps already queued still count. */
	read_errqueue(&p);
	read_replies(&p);

	finish(&p, out, rep);
	ret = 0;

cleanup:
	if (tfd >= 0)
		close(tfd);
	if (p.fd >= 0)
		close(p.fd);
	free(pkt);
	free(p.rxbuf);
	free(p.key_to_idx);
	free(p.st);
	return ret;
}
