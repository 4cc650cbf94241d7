// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>

#include "model/control.h"
#include "run/throughput.h"

#define TPUT_PORT "5201"
#define TPUT_OUT_MAX (1 << 20)

/* Busy CPU time of the whole machine, in seconds (every CPU, /proc/stat). */
static double cpu_busy_s(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	long hz = sysconf(_SC_CLK_TCK);
	int n;

	if (!f)
		return NAN;
	/* user nice system idle iowait irq softirq steal */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 7 || hz <= 0)
		return NAN;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / (double)hz;
}

/* Forks argv inside netns ns; stdout to out_fd (-1 = /dev/null). */
static pid_t spawn_in(const char *ns, char *const argv[], int out_fd, char *err, size_t errlen)
{
	char path[300];
	int nsfd;
	pid_t pid;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		snprintf(err, errlen, "netns %s: %s", ns, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork for %s: %s", argv[0], strerror(errno));
		close(nsfd);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		if (out_fd < 0)
			dup2(null, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "cadeia-bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(nsfd);
	return pid;
}

static int reap(pid_t pid, int timeout_ms)
{
	int status = -1;

	for (int t = 0; t <= timeout_ms; t += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -2;
}

json_t *tput_find(json_t *rows, const char *arch, const char *chain, int length)
{
	json_t *e;
	size_t i;

	json_array_foreach(rows, i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "architecture")) ?: "", arch) &&
		    !strcmp(json_string_value(json_object_get(e, "chain")) ?: "", chain) &&
		    json_integer_value(json_object_get(e, "chain_length")) == length)
			return e;
	}
	return NULL;
}

int tput_parse_iperf3(const char *text, json_t *row, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je), *end, *rcv, *snd, *e;
	double bytes, secs;
	int ret = -EINVAL;

	if (!j) {
		snprintf(err, errlen, "iperf3 output is not JSON (line %d: %s)", je.line, je.text);
		return -EINVAL;
	}
	if ((e = json_object_get(j, "error")) && json_is_string(e)) {
		snprintf(err, errlen, "iperf3: %s", json_string_value(e));
		goto cleanup;
	}
	end = json_object_get(j, "end");
	rcv = json_object_get(end, "sum_received");
	snd = json_object_get(end, "sum_sent");
	if (!json_is_number(json_object_get(rcv, "bytes")) ||
	    !json_is_number(json_object_get(rcv, "seconds"))) {
		snprintf(err, errlen, "iperf3 output has no end.sum_received.bytes/seconds");
		goto cleanup;
	}
	bytes = json_number_value(json_object_get(rcv, "bytes"));
	secs = json_number_value(json_object_get(rcv, "seconds"));
	json_object_set_new(row, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(row, "seconds", json_real(secs));
	json_object_set_new(row, "goodput_mbps", json_real(secs > 0 ? bytes * 8 / secs / 1e6 : 0));
	json_object_set_new(row, "retransmits",
			    json_integer(json_integer_value(json_object_get(snd, "retransmits"))));
	e = json_object_get(json_object_get(j, "start"), "tcp_mss_default");
	if (json_is_integer(e))
		json_object_set_new(row, "mss", json_integer(json_integer_value(e)));
	ret = 0;
cleanup:
	json_decref(j);
	return ret;
}

/* The same test between two guests, through the backend's exec
 * (node_ops.exec): the server daemonizes, the client's JSON comes back. */
static int one_test_exec(struct tput_ctx *x, int c, json_t *row, char *err, size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	const struct node_ops *no = x->tb->ops->node;
	const struct sc_chain *ch = &sc->chains[c];
	struct in_addr dst = { .s_addr = sc->nodes[ch->dest].ip };
	char ip[INET_ADDRSTRLEN], secs[16], streams[16], *out = NULL;
	const char *srv[] = { "/usr/bin/iperf3", "-s", "-1", "-D", "-p", TPUT_PORT, NULL };
	const char *cli[] = { "/usr/bin/iperf3", "-c", ip, "-p", TPUT_PORT, "-t", secs, "-P",
			      streams, "-J", NULL };
	double cpu0, cpu1, bytes;
	int ret;

	inet_ntop(AF_INET, &dst, ip, sizeof(ip));
	snprintf(secs, sizeof(secs), "%u", sc->throughput.seconds);
	snprintf(streams, sizeof(streams), "%u", sc->throughput.streams);
	if ((ret = no->exec(x->tb, ch->dest, srv, NULL, 10000, err, errlen)) < 0)
		return ret;
	usleep(500 * 1000); /* the daemon listens */
	cpu0 = cpu_busy_s();
	ret = no->exec(x->tb, ch->src, cli, &out, (int)(sc->throughput.seconds + 30) * 1000, err,
		       errlen);
	cpu1 = cpu_busy_s();
	/* iperf3 exits 1 with its error in the JSON: that says more. */
	if (out && tput_parse_iperf3(out, row, err, errlen) == 0)
		ret = 0;
	else if (ret == 0)
		ret = -EIO;
	free(out);
	if (ret < 0)
		return ret;
	bytes = (double)json_integer_value(json_object_get(row, "bytes"));
	json_object_set_new(row, "cpu_s", json_real(cpu1 - cpu0));
	json_object_set_new(row, "cpu_s_per_gb", bytes > 0 ? json_real((cpu1 - cpu0) / (bytes / 1e9))
							   : json_null());
	return 0;
}

/* One iperf3 test between the chain's ends. */
static int one_test(struct tput_ctx *x, int c, json_t *row, char *err, size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	const struct sc_chain *ch = &sc->chains[c];
	struct in_addr dst = { .s_addr = sc->nodes[ch->dest].ip };
	char ip[INET_ADDRSTRLEN], secs[16], streams[16], *out = NULL;
	char *srv[] = { "iperf3", "-s", "-1", "-p", TPUT_PORT, NULL };
	char *cli[] = { "iperf3", "-c", ip, "-p", TPUT_PORT, "-t", secs, "-P", streams, "-J",
			NULL };
	int pfd[2] = { -1, -1 }, ret = -1, status;
	size_t len = 0;
	pid_t spid, cpid;
	double cpu0, cpu1, bytes;

	inet_ntop(AF_INET, &dst, ip, sizeof(ip));
	snprintf(secs, sizeof(secs), "%u", sc->throughput.seconds);
	snprintf(streams, sizeof(streams), "%u", sc->throughput.streams);
	spid = spawn_in(x->tb->name[ch->dest], srv, -1, err, errlen);
	if (spid < 0)
		return -EIO;
	usleep(300 * 1000); /* the server listens */
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	cpu0 = cpu_busy_s();
	cpid = spawn_in(x->tb->name[ch->src], cli, pfd[1], err, errlen);
	close(pfd[1]);
	pfd[1] = -1;
	if (cpid < 0)
		goto cleanup;
	out = malloc(TPUT_OUT_MAX + 1);
	while (out && len < TPUT_OUT_MAX) {
		ssize_t n = read(pfd[0], out + len, TPUT_OUT_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	status = reap(cpid, 5000);
	cpu1 = cpu_busy_s();
	if (!out) {
		snprintf(err, errlen, "out of memory for iperf3's output");
		goto cleanup;
	}
	out[len] = '\0';
	if ((ret = tput_parse_iperf3(out, row, err, errlen)) < 0) {
		/* The JSON's own error says more than the exit status. */
		ret = -EIO;
		goto cleanup;
	}
	if (status != 0) {
		snprintf(err, errlen, "iperf3 client from %s to %s ended with status %d",
			 sc->nodes[ch->src].name, sc->nodes[ch->dest].name, status);
		ret = -EIO;
		goto cleanup;
	}
	bytes = (double)json_integer_value(json_object_get(row, "bytes"));
	json_object_set_new(row, "cpu_s", json_real(cpu1 - cpu0));
	json_object_set_new(row, "cpu_s_per_gb", bytes > 0 ? json_real((cpu1 - cpu0) / (bytes / 1e9))
							   : json_null());
	ret = 0;
cleanup:
	free(out);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	reap(spid, 2000); /* -1 makes it end after one test; killed otherwise */
	return ret;
}

int tput_run(struct tput_ctx *x, json_t *rows, char *err, size_t errlen)
{
	const struct scenario *sc = x->tb->sc;
	int ret;

	for (int li = 0; li < sc->n_lengths && !*x->stop; li++) {
		if ((ret = x->set_length(x->arg, sc->lengths[li], err, errlen)) < 0)
			return ret;
		for (int c = 0; c < sc->n_chains && !*x->stop; c++) {
			const struct sc_chain *ch = &sc->chains[c];
			int sfs = cp_chain_length(sc, c, sc->lengths[li]);
			json_t *row;
			char line[256];

			/* Only chains that carry TCP: others would measure the bridge. */
			if (ch->proto != 0 && ch->proto != IPPROTO_TCP)
				continue;
			if (tput_find(rows, sc_arch_name(sc->arch), ch->name, sfs))
				continue; /* a repeated length (capped chain) */
			row = json_pack("{s:s, s:s, s:i}", "architecture", sc_arch_name(sc->arch),
					"chain", ch->name, "chain_length", sfs);
			ret = x->tb->ops->node->exec ? one_test_exec(x, c, row, err, errlen)
						     : one_test(x, c, row, err, errlen);
			/* A function that died explains a failed test best. */
			if (ret < 0 && x->tb->ops->check && x->tb->ops->check(x->tb, err, errlen) < 0) {
				json_decref(row);
				return -ESRCH;
			}
			if (ret < 0) {
				char m[512];

				snprintf(m, sizeof(m), "%s", err);
				snprintf(err, errlen, "%s, length %d, chain %s: %s", sc_arch_name(sc->arch),
					 sfs, ch->name, m);
				json_decref(row);
				return ret;
			}
			snprintf(line, sizeof(line),
				 "%s length %d chain %s: TCP goodput %.0f Mbit/s, %lld retransmissions",
				 sc_arch_name(sc->arch), sfs, ch->name,
				 json_real_value(json_object_get(row, "goodput_mbps")),
				 (long long)json_integer_value(json_object_get(row, "retransmits")));
			if (x->note)
				x->note(x->arg, line);
			json_array_append_new(rows, row);
		}
	}
	return 0;
}
