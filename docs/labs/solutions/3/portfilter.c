/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * portfilter: a "legacy" network function for lab 3. It knows nothing about
 * NSH or chains: it reads every frame that passes its interface on a raw
 * socket and sends the ones it keeps back out of the same interface, like
 * the paper's wire. Cadeia-Aberta's stages strip the NSH before it (dec, at
 * XDP) and put it back after it (enc and fwd, at TC egress).
 *
 * Usage: portfilter IFNAME     (inside the SF's namespace:
 *        ip netns exec <run>-sf1 lab/3/portfilter eth0)
 * Stops on SIGINT/SIGTERM and prints what it forwarded and dropped.
 *
 * Your task is keep_frame() below; everything else already works.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLOCKED_PORT 7777 /* UDP and TCP destination port to drop */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Decides the fate of one frame: true = send it back out, false = drop it.
 * frame starts with the Ethernet header (14 bytes: destination MAC, source
 * MAC, EtherType) and is len bytes long. The NSH is already gone.
 *
 * Reference solution of lab 3.
 */
static bool keep_frame(const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl;
	uint16_t dport;

	if (len < ETH_HLEN + 20 || (frame[12] << 8 | frame[13]) != ETH_P_IP)
		return true;
	ihl = (size_t)(ip[0] & 0x0F) * 4;
	if (ihl < 20 || len < ETH_HLEN + ihl + 4)
		return true;
	if (ip[9] != 6 && ip[9] != 17)
		return true;
	dport = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
	return dport != BLOCKED_PORT;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	unsigned long forwarded = 0, dropped = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	uint8_t buf[2048];
	int fd, one = 1, ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IFNAME\n", argv[0]);
		return 2;
	}
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "portfilter: interface %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		fprintf(stderr, "portfilter: raw socket: %s (run as root)\n", strerror(errno));
		return 1;
	}
	/* Our own transmissions would come back to us: ignore them. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "portfilter: %s: %s\n", argv[1], strerror(errno));
		goto cleanup;
	}
	/* The inner frames are addressed to the chain's destination, not to us. */
	mr.mr_ifindex = sll.sll_ifindex;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		fprintf(stderr, "portfilter: promiscuous mode on %s: %s\n", argv[1], strerror(errno));
		goto cleanup;
	}
	fprintf(stderr, "portfilter: filtering port %d on %s\n", BLOCKED_PORT, argv[1]);
	while (!stop) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "portfilter: recv on %s: %s\n", argv[1], strerror(errno));
			goto cleanup;
		}
		/* Only frames passing through (not for this host): ARP and the
		 * like for us would otherwise loop back onto the wire. */
		if (from.sll_pkttype != PACKET_OTHERHOST)
			continue;
		if (!keep_frame(buf, (size_t)len)) {
			dropped++;
			continue;
		}
		/* The egress stages need the frame's protocol to restore the NSH. */
		sll.sll_protocol = from.sll_protocol;
		if (sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			fprintf(stderr, "portfilter: send on %s: %s\n", argv[1], strerror(errno));
		else
			forwarded++;
	}
	ret = 0;
cleanup:
	fprintf(stderr, "portfilter: forwarded %lu, dropped %lu\n", forwarded, dropped);
	close(fd);
	return ret;
}
