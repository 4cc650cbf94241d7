/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The guest image on a remote host: virt/image_upload.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "virt/image_upload.h"

/* ---- SHA-256 (FIPS 180-4) ---------------------------------------------------- */

struct sha256 {
	uint32_t h[8];
	uint8_t buf[64];
	size_t used;
	uint64_t bytes;
};

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void sha_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | p[4 * i + 1] << 16 | p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) + w[i - 7] +
		       (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memset(s, 0, sizeof(*s));
	memcpy(s->h, h0, sizeof(h0));
}

static void sha_update(struct sha256 *s, const uint8_t *p, size_t n)
{
	s->bytes += n;
	while (n) {
		size_t k = 64 - s->used < n ? 64 - s->used : n;

		memcpy(s->buf + s->used, p, k);
		s->used += k, p += k, n -= k;
		if (s->used == 64) {
			sha_block(s, s->buf);
			s->used = 0;
		}
	}
}

static void sha_final(struct sha256 *s, char hex[65])
{
	uint64_t bits = s->bytes * 8;
	uint8_t pad = 0x80, zero = 0, len[8];

	sha_update(s, &pad, 1);
	while (s->used != 56)
		sha_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = bits >> (56 - 8 * i);
	sha_update(s, len, 8);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
}

int image_sha256(const char *path, char hex[65], char *err, size_t errlen)
{
	struct sha256 s;
	uint8_t buf[65536];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "image %s: %s", path, strerror(errno));
		return -errno;
	}
	sha_init(&s);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		sha_update(&s, buf, r);
	if (r < 0) {
		int e = errno;

		snprintf(err, errlen, "reading image %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	close(fd);
	sha_final(&s, hex);
	return 0;
}

/* ---- the pool and the volume ------------------------------------------------- */

static const char *verr(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown libvirt error";
}

static virStoragePoolPtr project_pool(virConnectPtr conn, char *err, size_t errlen)
{
	static const char xml[] = "<pool type='dir'><name>" IMAGE_POOL "</name>"
				  "<target><path>" IMAGE_POOL_DIR "</path></target></pool>";
	virStoragePoolPtr pool = virStoragePoolLookupByName(conn, IMAGE_POOL);
	int active;

	if (!pool) {
		/* Persistent: the digests it holds are what saves the next upload. */
		pool = virStoragePoolDefineXML(conn, xml, 0);
		if (!pool || virStoragePoolBuild(pool, 0) < 0) {
			snprintf(err, errlen, "defining storage pool %s: %s", IMAGE_POOL, verr());
			if (pool)
				virStoragePoolFree(pool);
			return NULL;
		}
	}
	active = virStoragePoolIsActive(pool);
	if (active == 0 && virStoragePoolCreate(pool, 0) < 0) {
		snprintf(err, errlen, "starting storage pool %s: %s", IMAGE_POOL, verr());
		virStoragePoolFree(pool);
		return NULL;
	}
	virStoragePoolRefresh(pool, 0);
	return pool;
}

/* Sends the file's bytes into vol through a stream. */
static int send_file(virConnectPtr conn, virStorageVolPtr vol, const char *path, off_t size,
		     char *err, size_t errlen)
{
	virStreamPtr st = virStreamNew(conn, 0);
	char buf[65536];
	ssize_t r = 0;
	int ret = -EIO, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !st || virStorageVolUpload(vol, st, 0, size, 0) < 0) {
		snprintf(err, errlen, "uploading %s: %s", path, fd < 0 ? strerror(errno) : verr());
		goto cleanup;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < r;) {
			int k = virStreamSend(st, buf + off, r - off);

			if (k < 0) {
				snprintf(err, errlen, "uploading %s: %s", path, verr());
				virStreamAbort(st);
				goto cleanup;
			}
			off += k;
		}
	}
	if (r < 0 || virStreamFinish(st) < 0) {
		snprintf(err, errlen, "uploading %s: %s", path, r < 0 ? strerror(errno) : verr());
		if (r < 0)
			virStreamAbort(st);
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (st)
		virStreamFree(st);
	if (fd >= 0)
		close(fd);
	return ret;
}

int image_upload(virConnectPtr conn, const char *path, char *vol_path, size_t len,
		 bool *uploaded, char *err, size_t errlen)
{
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL;
	char hex[65], name[96], xml[512], *p = NULL;
	struct stat st;
	int ret;

	*uploaded = false;
	if (errlen)
		*err = '\0';
	if ((ret = image_sha256(path, hex, err, errlen)) < 0)
		return ret;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "image %s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(name, sizeof(name), "image-%s", hex);
	ret = -EIO;
	if (!(pool = project_pool(conn, err, errlen)))
		goto cleanup;
	vol = virStorageVolLookupByName(pool, name);
	if (!vol) {
		snprintf(xml, sizeof(xml),
			 "<volume><name>%s</name><capacity unit='bytes'>%lld</capacity>"
			 "<target><format type='raw'/></target></volume>",
			 name, (long long)st.st_size);
		vol = virStorageVolCreateXML(pool, xml, 0);
		if (!vol) {
			snprintf(err, errlen, "creating volume %s in pool %s: %s", name, IMAGE_POOL,
				 verr());
			goto cleanup;
		}
		if (send_file(conn, vol, path, st.st_size, err, errlen) < 0) {
			/* Half an image under a digest's name would be taken as whole. */
			virStorageVolDelete(vol, 0);
			goto cleanup;
		}
		*uploaded = true;
	}
	if (!(p = virStorageVolGetPath(vol))) {
		snprintf(err, errlen, "volume %s: path: %s", name, verr());
		goto cleanup;
	}
	snprintf(vol_path, len, "%s", p);
	ret = 0;
cleanup:
	free(p);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	return ret;
}
