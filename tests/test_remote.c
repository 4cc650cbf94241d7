// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Remote hosts (backend/remote.h, virt/image_upload.h). Always: ssh targets
 * from libvirt URIs, arguments no shell may see refused before ssh starts,
 * SHA-256 against FIPS 180-2's vectors. With CADEIA_TEST_REMOTE_URI (set by
 * tests/t_remote.sh, which starts an sshd with a key made for the test):
 * the agent's version over ssh, a wrong agent refused, `hostnet up` over ssh
 * makes the run-marked bridge and VXLAN device (learning off) and `hostnet
 * down` removes them, and the image reaches the host's storage pool once:
 * the second upload of the same bytes sends nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "backend/remote.h"
#include "sys/nl.h"
#include "virt/image_upload.h"
#include <libvirt/virterror.h>

static void quiet(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void units(void)
{
	struct remote_target t;
	char err[512], hex[65], path[] = "/tmp/cbt-remote-XXXXXX";
	const char *bad[] = { "hostnet", "up", "x;reboot", NULL };
	int fd;

	CHECK(remote_target_parse("qemu+ssh://root@h2/system", &t, err, sizeof(err)) == 0 &&
		      !strcmp(t.user, "root") && !strcmp(t.host, "h2") && !*t.port,
	      "qemu+ssh://root@h2/system: root at h2, ssh's port");
	CHECK(remote_target_parse("qemu+ssh://h3:2222/system?keyfile=/k", &t, err, sizeof(err)) == 0 &&
		      !strcmp(t.user, "root") && !strcmp(t.host, "h3") && !strcmp(t.port, "2222"),
	      "qemu+ssh://h3:2222/system?keyfile=/k: root at h3, port 2222");
	CHECK(remote_target_parse("qemu:///system", &t, err, sizeof(err)) == -EINVAL,
	      "qemu:///system has no ssh target: %s", err);
	CHECK(remote_target_parse("qemu+ssh://ro$(id)ot@h2/system", &t, err, sizeof(err)) == -EINVAL,
	      "a user with shell characters is refused: %s", err);
	remote_target_parse("qemu+ssh://root@h2/system", &t, err, sizeof(err));
	CHECK(remote_bench(&t, bad, NULL, 0, err, sizeof(err)) == -EINVAL && strstr(err, "x;reboot"),
	      "an argument with ';' is refused before ssh runs: %s", err);
	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	write_file(path, "");
	CHECK(image_sha256(path, hex, err, sizeof(err)) == 0 &&
		      !strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	      "SHA-256 of nothing");
	write_file(path, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
	CHECK(image_sha256(path, hex, err, sizeof(err)) == 0 &&
		      !strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	      "SHA-256 of the two-block vector");
	unlink(path);
}

static int remote(const char *uri)
{
	struct remote_target t;
	char err[1024] = "", mark[80], bridge[16], vx[16], id[8], nonce[33], out[512];
	const char *saved = getenv(REMOTE_BENCH_ENV);
	struct nl_link l;
	virConnectPtr conn;

	snprintf(id, sizeof(id), "cb%04x", (unsigned)(getpid() & 0xffff));
	for (int i = 0; i < 32; i++)
		nonce[i] = "0123456789abcdef"[(getpid() * 7 + i * 13) & 15];
	nonce[32] = '\0';
	snprintf(mark, sizeof(mark), "cadeia-bench:%s:%s", id, nonce);
	snprintf(bridge, sizeof(bridge), "%s-br.h2", id);
	snprintf(vx, sizeof(vx), "%s-.vx", id);

	if (!CHECK(remote_target_parse(uri, &t, err, sizeof(err)) == 0, "%s parses: %s", uri, err))
		return -1;
	CHECK(remote_check_version(&t, err, sizeof(err)) == 0, "the agent on %s speaks %s (%s)",
	      t.host, HOSTNET_VERSION, err);
	setenv(REMOTE_BENCH_ENV, "/bin/true", 1);
	CHECK(remote_check_version(&t, err, sizeof(err)) == -EPROTO,
	      "an agent that answers something else is refused: %s", err);
	if (saved)
		setenv(REMOTE_BENCH_ENV, saved, 1);
	else
		unsetenv(REMOTE_BENCH_ENV);
	{
		const char *up[] = { "hostnet", "up", mark, bridge, "1600", "4242", "192.168.78.1",
				     "02:cb:00:00:00:03@192.168.78.2", NULL };
		const char *down[] = { "hostnet", "down", mark, NULL };
		struct nl_link b;
		int ok_up = remote_bench(&t, up, out, sizeof(out), err, sizeof(err)) == 0;

		CHECK(ok_up, "hostnet up over ssh (%s)", err);
		CHECK(ok_up && nl_link_get(NULL, bridge, &b, NULL, 0) == 0 &&
			      nl_link_get(NULL, vx, &l, NULL, 0) == 0 && !strcmp(l.kind, "vxlan") &&
			      l.master == b.ifindex && !strcmp(l.alias, mark) && !strcmp(b.alias, mark) &&
			      l.mtu == 1600,
		      "%s (VXLAN, MTU 1600) is a port of %s, both carry the run's mark", vx, bridge);
		CHECK(remote_bench(&t, down, out, sizeof(out), err, sizeof(err)) == 0 &&
			      nl_link_get(NULL, bridge, &b, NULL, 0) == -ENODEV &&
			      nl_link_get(NULL, vx, &l, NULL, 0) == -ENODEV,
		      "hostnet down over ssh removes both (%s)", err);
	}
	conn = virConnectOpen(uri);
	if (!CHECK(conn != NULL, "virConnectOpen(%s)", uri))
		return -1;
	{
		char path[] = "/tmp/cbt-image-XXXXXX", vol[512] = "", hex[65] = "", rhex[65] = "";
		bool up1 = false, up2 = true;
		virStoragePoolPtr pool = virStoragePoolLookupByName(conn, IMAGE_POOL);
		bool had_pool = pool != NULL;
		int fd = mkstemp(path);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

		if (pool)
			virStoragePoolFree(pool);
		/* 1 MiB that no earlier run left in the pool. */
		for (int i = 0; f && i < 1 << 20; i++)
			fputc((i * 31 + getpid()) & 0xff, f);
		if (f)
			fclose(f);
		image_sha256(path, hex, err, sizeof(err));
		CHECK(image_upload(conn, path, vol, sizeof(vol), &up1, err, sizeof(err)) == 0 && up1 &&
			      image_sha256(vol, rhex, err, sizeof(err)) == 0 && !strcmp(hex, rhex),
		      "the image goes into pool %s through the storage API: %s has the same SHA-256",
		      IMAGE_POOL, vol);
		CHECK(image_upload(conn, path, vol, sizeof(vol), &up2, err, sizeof(err)) == 0 && !up2,
		      "the same digest again: nothing is uploaded (%s)", err);
		/* Leave the host as it was: this volume, and the pool if it is new. */
		pool = virStoragePoolLookupByName(conn, IMAGE_POOL);
		if (pool) {
			char name[80];
			virStorageVolPtr v;

			snprintf(name, sizeof(name), "image-%s", hex);
			if ((v = virStorageVolLookupByName(pool, name))) {
				virStorageVolDelete(v, 0);
				virStorageVolFree(v);
			}
			if (!had_pool) {
				virStoragePoolDestroy(pool);
				virStoragePoolDelete(pool, 0);
				virStoragePoolUndefine(pool);
			}
			virStoragePoolFree(pool);
		}
		unlink(path);
	}
	virConnectClose(conn);
	return 0;
}

int main(void)
{
	const char *uri = getenv("CADEIA_TEST_REMOTE_URI");

	/* libvirt's errors reach the checks' messages, not stderr. */
	virSetErrorFunc(NULL, quiet);

	tap_plan(7 + (uri ? 9 : 0));
	units();
	if (uri)
		remote(uri);
	else
		DIAG("no CADEIA_TEST_REMOTE_URI: the ssh part runs in tests/t_remote.sh");
	return tap_done();
}
