/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lab 4's checker: loads the student's XDP stage and runs it on fixture
 * frames with BPF_PROG_TEST_RUN, then compares its per-SPI map with what the
 * fixtures carried.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lab/lab_priv.h"

#define LAB4_MAP "spi_stats"
#define LAB4_MAX_SPIS 8

struct spi_value {
	uint64_t packets;
	uint64_t bytes;
};

struct fixture {
	const char *what;
	bool nsh;      /* counted under spi */
	uint32_t spi;
	size_t payload; /* ICMP payload bytes */
	bool truncated; /* NSH EtherType, but shorter than an NSH header */
};

/* SPI 0x123456 shows a byte-order mistake: read the wrong way it is 0x563412. */
static const struct fixture fixtures[] = {
	{ "NSH, SPI 10", true, 10, 56, false },
	{ "NSH, SPI 1193046", true, 0x123456, 100, false },
	{ "plain IPv4 (no NSH)", false, 0, 56, false },
	{ "NSH, SPI 10", true, 10, 200, false },
	{ "NSH header cut short", false, 0, 0, true },
	{ "NSH, SPI 1193046", true, 0x123456, 8, false },
	{ "NSH, SPI 10", true, 10, 1000, false },
};

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xFF; }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xFFFF);
}

/* Outer Ethernet + NSH (MD type 2, no TLVs) + inner Ethernet + IPv4 + ICMP. */
static size_t build_frame(const struct fixture *fx, uint8_t *buf)
{
	static const uint8_t sf[6] = { 0x02, 0xcb, 0, 0, 0, 3 }, src[6] = { 0x02, 0xcb, 0, 0, 0, 1 },
			     dst[6] = { 0x02, 0xcb, 0, 0, 0, 2 };
	uint8_t *p = buf;
	size_t iplen = 20 + 8 + fx->payload;

	memcpy(p, sf, 6);
	memcpy(p + 6, src, 6);
	if (fx->nsh || fx->truncated) {
		put16(p + 12, ETH_P_NSH_);
		p += ETH_HLEN;
		if (fx->truncated) {
			put16(p, nsh_w0_make(0, 63, 2));
			return (size_t)(p + 4 - buf);
		}
		put16(p, nsh_w0_make(0, 63, NSH_BASE_LEN / 4));
		p[2] = NSH_MDTYPE_2;
		p[3] = NSH_NP_ETH;
		put32(p + 4, nsh_path_make(fx->spi, 255));
		p += NSH_BASE_LEN;
		memcpy(p, dst, 6);
		memcpy(p + 6, src, 6);
	}
	put16(p + 12, ETH_P_IP);
	p += ETH_HLEN;
	memset(p, 0, iplen);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)iplen);
	p[8] = 64;
	p[9] = IPPROTO_ICMP;
	put32(p + 12, 0x0AC90001);
	put32(p + 16, 0x0AC90002);
	p[20] = 8; /* echo request */
	return (size_t)(p + iplen - buf);
}

static int read_value(int fd, bool percpu, uint32_t key, struct spi_value *out)
{
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	struct spi_value *v;
	int ret;

	if (ncpu < 1)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(fd, &key, v);
	memset(out, 0, sizeof(*out));
	for (int i = 0; ret == 0 && i < ncpu; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
	}
	free(v);
	return ret;
}

struct expected {
	uint32_t spi;
	struct spi_value want;
};

/* True when some expected SPI has no entry (already reported). */
static bool missing_any(int fd, bool percpu, const struct expected *exp, size_t n)
{
	struct spi_value v;

	for (size_t k = 0; k < n; k++)
		if (read_value(fd, percpu, exp[k].spi, &v) < 0)
			return true;
	return false;
}

/* Opens and loads the student's object with its first XDP program only;
 * *xdp and *map are that program and LAB4_MAP. -1 (reported) if unusable. */
static int lab4_load(struct lab_ctx *c, const char *obj_path, struct bpf_object **objp,
		     struct bpf_program **xdp, struct bpf_map **map)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	struct bpf_program *prog;
	int ret;

	*objp = obj;
	if (!obj) {
		lab_problem(c, "%s: libbpf cannot open it: %s", obj_path, strerror(errno));
		return -1;
	}
	*xdp = NULL;
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__type(prog) == BPF_PROG_TYPE_XDP && !*xdp)
			*xdp = prog;
		else
			bpf_program__set_autoload(prog, false);
	}
	if (!*xdp) {
		lab_problem(c, "%s has no XDP program: keep SEC(\"xdp\") on the stage's function",
			    obj_path);
		return -1;
	}
	if ((ret = bpf_object__load(obj)) < 0) {
		lab_problem(c, "the kernel refused to load %s: %s; the verifier's reasons are printed above",
			    obj_path, strerror(-ret));
		return -1;
	}
	lab_ok(c, "%s: XDP program %s loads and passes the verifier", obj_path,
	       bpf_program__name(*xdp));
	*map = bpf_object__find_map_by_name(obj, LAB4_MAP);
	if (!*map) {
		lab_problem(c, "%s has no map named %s: keep the template's map", obj_path, LAB4_MAP);
		return -1;
	}
	if ((bpf_map__type(*map) != BPF_MAP_TYPE_HASH &&
	     bpf_map__type(*map) != BPF_MAP_TYPE_PERCPU_HASH) ||
	    bpf_map__key_size(*map) != 4 || bpf_map__value_size(*map) != sizeof(struct spi_value)) {
		lab_problem(c, "map %s must be a (per-CPU) hash from a __u32 SPI to struct { __u64 packets; __u64 bytes; }, as in the template",
			    LAB4_MAP);
		return -1;
	}
	return 0;
}

/* Every fixture through the program; exp gets what each SPI should count. */
static int lab4_run_fixtures(struct lab_ctx *c, int prog_fd, struct expected *exp, size_t *nexp)
{
	uint8_t frame[1600];
	bool verdicts_ok = true;
	int ret;

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *fx = &fixtures[i];
		size_t len = build_frame(fx, frame), k;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
			    .repeat = 1);

		ret = bpf_prog_test_run_opts(prog_fd, &opts);
		if (ret < 0) {
			lab_problem(c, "BPF_PROG_TEST_RUN on fixture %zu (%s): %s", i + 1, fx->what,
				    strerror(-ret));
			return -1;
		}
		if (opts.retval != XDP_PASS) {
			lab_problem(c, "fixture %zu (%s, %zu bytes) got verdict %u instead of XDP_PASS (%d): an accounting stage passes every frame",
				    i + 1, fx->what, len, opts.retval, XDP_PASS);
			verdicts_ok = false;
		}
		if (!fx->nsh)
			continue;
		for (k = 0; k < *nexp && exp[k].spi != fx->spi; k++)
			;
		if (k == *nexp) {
			exp[k].spi = fx->spi;
			memset(&exp[k].want, 0, sizeof(exp[k].want));
			(*nexp)++;
		}
		exp[k].want.packets++;
		exp[k].want.bytes += len;
	}
	if (verdicts_ok)
		lab_ok(c, "every fixture frame (NSH, plain, cut short) got XDP_PASS");
	return 0;
}

/* The map against what the fixtures carried. */
static void lab4_compare(struct lab_ctx *c, int map_fd, bool percpu, const struct expected *exp,
			 size_t nexp)
{
	uint32_t key, next, stray[LAB4_MAX_SPIS];
	size_t n_stray = 0;
	int ret;

	/* Keys that no fixture carried: a byte-order mistake, or counting too much. */
	for (ret = bpf_map_get_next_key(map_fd, NULL, &next); ret == 0;
	     ret = bpf_map_get_next_key(map_fd, &key, &next)) {
		bool known = false;

		key = next;
		for (size_t k = 0; k < nexp; k++)
			known |= exp[k].spi == key;
		if (!known && n_stray < LAB4_MAX_SPIS)
			stray[n_stray++] = key;
	}
	for (size_t k = 0; k < nexp; k++) {
		struct spi_value got;

		if (read_value(map_fd, percpu, exp[k].spi, &got) < 0) {
			if (n_stray)
				lab_problem(c, "%s has no entry for SPI %u but one for SPI %u, which no frame carried: the NSH path word is big-endian (bpf_ntohl), and the SPI is its top 24 bits (nsh_path_spi)",
					    LAB4_MAP, exp[k].spi, stray[0]);
			else
				lab_problem(c, "after %llu NSH frames on SPI %u, %s has no entry for it: count each NSH frame under its SPI (the TODO in spi_count.bpf.c)",
					    (unsigned long long)exp[k].want.packets, exp[k].spi, LAB4_MAP);
			continue;
		}
		if (got.packets != exp[k].want.packets)
			lab_problem(c, "SPI %u: %s counts %llu packets, but %llu NSH frames with that SPI went through",
				    exp[k].spi, LAB4_MAP, (unsigned long long)got.packets,
				    (unsigned long long)exp[k].want.packets);
		else if (got.bytes != exp[k].want.bytes)
			lab_problem(c, "SPI %u: %s counts %llu bytes, not the %llu bytes of those frames: count whole frames, data_end - data",
				    exp[k].spi, LAB4_MAP, (unsigned long long)got.bytes,
				    (unsigned long long)exp[k].want.bytes);
		else
			lab_ok(c, "SPI %u: %llu packets and %llu bytes, as the fixtures carried", exp[k].spi,
			       (unsigned long long)got.packets, (unsigned long long)got.bytes);
	}
	if (n_stray && !missing_any(map_fd, percpu, exp, nexp))
		lab_problem(c, "%s has an entry for SPI %u, which no fixture carried: frames without a whole NSH header must not be counted",
			    LAB4_MAP, stray[0]);
}

int lab_check4(struct lab_ctx *c)
{
	struct expected exp[LAB4_MAX_SPIS];
	char obj_path[1024], src_path[1024];
	struct bpf_object *obj = NULL;
	struct bpf_program *xdp = NULL;
	struct bpf_map *map = NULL;
	size_t nexp = 0;

	lab_path(c, "spi_count.bpf.o", obj_path, sizeof(obj_path));
	lab_path(c, "spi_count.bpf.c", src_path, sizeof(src_path));
	if (lab_built(c, src_path, obj_path, R_OK) < 0)
		return -1;
	if (lab4_load(c, obj_path, &obj, &xdp, &map) < 0) {
		bpf_object__close(obj);
		return obj ? 0 : -1;
	}
	if (lab4_run_fixtures(c, bpf_program__fd(xdp), exp, &nexp) == 0)
		lab4_compare(c, bpf_map__fd(map), bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_HASH, exp,
			     nexp);
	bpf_object__close(obj);
	return 0;
}
