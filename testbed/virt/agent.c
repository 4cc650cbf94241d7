// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The guest agent (qemu-guest-agent over virtio-serial): exec, files. */
#include "cadeia_stage.h"
#include "virt/virt.h"
#include "virt/virt_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "sys/netns.h"
#include "sys/nl.h"
#include "sys/ownmark.h"

/* Raw bytes per guest-file-write; ~43 KiB of base64, far below any limit. */
#define FILE_CHUNK		(32 * 1024)

/* ---- base64 --------------------------------------------------------------- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64chars[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64chars[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = b64chars[(in[i + 1] & 15) << 2];
		} else {
			*o++ = b64chars[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(int c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

/* Appends the decoded bytes of s to buf[*len], growing it (always
 * NUL-terminated). -EINVAL on a malformed string. */
static int b64_append(const char *s, char **buf, size_t *len)
{
	size_t sl = strlen(s);
	unsigned int acc = 0;
	int bits = 0, v;
	char *nb;

	nb = realloc(*buf, *len + sl * 3 / 4 + 4);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	for (; *s && *s != '='; s++) {
		if (*s == '\n' || *s == '\r')
			continue;
		v = b64_val(*s);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			(*buf)[(*len)++] = (acc >> bits) & 0xff;
		}
	}
	(*buf)[*len] = '\0';
	return 0;
}

/* ---- guest agent ---------------------------------------------------------- */

static int agent_timeout_s(int timeout_ms)
{
	if (timeout_ms <= 0)
		return VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT;
	return (timeout_ms + 999) / 1000;
}

/*
 * Sends {"execute": cmd, "arguments": args} (args stolen, may be NULL) and
 * returns the reply's "return" member in *ret (may be NULL), a new reference.
 */
static int agent_cmd(virDomainPtr dom, const char *cmd, json_t *args, int timeout_s,
		     json_t **retp, char *err, size_t errlen)
{
	/* Named now: every libvirt call resets the last error. */
	const char *name = virt_dom_name(dom);
	json_t *req, *reply = NULL, *r;
	char *text = NULL, *out = NULL;
	json_error_t jerr;
	int ret = -EIO;

	if (retp)
		*retp = NULL;
	req = json_pack("{s:s}", "execute", cmd);
	if (!req) {
		json_decref(args);
		set_err(err, errlen, "guest agent of domain %s: %s: out of memory",
			name, cmd);
		return -ENOMEM;
	}
	if (args)
		json_object_set_new(req, "arguments", args);
	text = json_dumps(req, JSON_COMPACT);
	if (!text) {
		ret = -ENOMEM;
		set_err(err, errlen, "guest agent of domain %s: %s: out of memory",
			name, cmd);
		goto cleanup;
	}
	out = virDomainQemuAgentCommand(dom, text, timeout_s, 0);
	if (!out) {
		ret = virt_errno();
		set_err(err, errlen, "guest agent of domain %s: %s: %s", name, cmd, virt_msg());
		goto cleanup;
	}
	reply = json_loads(out, 0, &jerr);
	r = reply ? json_object_get(reply, "return") : NULL;
	if (!r) {
		set_err(err, errlen, "guest agent of domain %s: %s: unexpected reply %.200s",
			name, cmd, out);
		goto cleanup;
	}
	if (retp)
		*retp = json_incref(r);
	ret = 0;
cleanup:
	json_decref(reply);
	json_decref(req);
	free(text);
	free(out);
	return ret;
}

int virt_agent_ping(virDomainPtr dom, int timeout_ms, char *err, size_t errlen)
{
	return agent_cmd(dom, "guest-ping", NULL, agent_timeout_s(timeout_ms), NULL,
			 err, errlen);
}

void virt_exec_result_free(struct virt_exec_result *r)
{
	free(r->out);
	free(r->errout);
	r->out = r->errout = NULL;
	r->out_len = r->err_len = 0;
}

static int exec_data(virDomainPtr dom, json_t *st, const char *key, char **buf,
		     size_t *len, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(st, key));
	int ret;

	ret = b64_append(s ? s : "", buf, len);
	if (ret < 0)
		set_err(err, errlen, "guest agent of domain %s: guest-exec-status: bad %s",
			virt_dom_name(dom), key);
	return ret;
}

int virt_agent_exec(virDomainPtr dom, const char *const argv[], int timeout_ms,
		    struct virt_exec_result *res, char *err, size_t errlen)
{
	json_t *args, *arr, *r = NULL, *st = NULL;
	long long deadline;
	int ret, pid, delay = 2;

	memset(res, 0, sizeof(*res));
	if (!argv || !argv[0]) {
		set_err(err, errlen, "guest agent of domain %s: guest-exec: empty command",
			virt_dom_name(dom));
		return -EINVAL;
	}
	if (timeout_ms <= 0)
		timeout_ms = 30000;
	deadline = virt_now_ms() + timeout_ms;
	arr = json_array();
	for (int i = 1; argv[i]; i++)
		json_array_append_new(arr, json_string(argv[i]));
	args = json_pack("{s:s, s:o, s:b}", "path", argv[0], "arg", arr, "capture-output", 1);
	ret = agent_cmd(dom, "guest-exec", args, agent_timeout_s(timeout_ms), &r, err, errlen);
	if (ret < 0)
		return ret;
	pid = json_integer_value(json_object_get(r, "pid"));
	json_decref(r);
	for (;;) {
		json_t *a = json_pack("{s:i}", "pid", pid);

		ret = agent_cmd(dom, "guest-exec-status", a, agent_timeout_s(timeout_ms), &st,
				err, errlen);
		if (ret < 0)
			goto fail;
		if (json_is_true(json_object_get(st, "exited")))
			break;
		json_decref(st);
		st = NULL;
		if (virt_now_ms() > deadline) {
			set_err(err, errlen, "domain %s: %s (guest pid %d) still running after %d ms",
				virt_dom_name(dom), argv[0], pid, timeout_ms);
			ret = -ETIMEDOUT;
			goto fail;
		}
		virt_sleep_ms(delay);
		if (delay < 100)
			delay *= 2;
	}
	if (json_object_get(st, "signal")) {
		res->signal = json_integer_value(json_object_get(st, "signal"));
		res->exitcode = -1;
	} else {
		res->exitcode = json_integer_value(json_object_get(st, "exitcode"));
	}
	res->truncated = json_is_true(json_object_get(st, "out-truncated")) ||
			 json_is_true(json_object_get(st, "err-truncated"));
	ret = exec_data(dom, st, "out-data", &res->out, &res->out_len, err, errlen);
	if (ret == 0)
		ret = exec_data(dom, st, "err-data", &res->errout, &res->err_len, err, errlen);
	if (ret < 0)
		goto fail;
	json_decref(st);
	return 0;
fail:
	json_decref(st);
	virt_exec_result_free(res);
	return ret;
}

static int file_open(virDomainPtr dom, const char *path, const char *mode, long long *h,
		     char *err, size_t errlen)
{
	json_t *r = NULL;
	char msg[512];
	int ret;

	ret = agent_cmd(dom, "guest-file-open",
			json_pack("{s:s, s:s}", "path", path, "mode", mode),
			agent_timeout_s(10000), &r, msg, sizeof(msg));
	if (ret < 0) {
		set_err(err, errlen, "%s (%s)", msg, path);
		return ret;
	}
	*h = json_integer_value(r);
	json_decref(r);
	return 0;
}

static int file_close(virDomainPtr dom, long long h, char *err, size_t errlen)
{
	return agent_cmd(dom, "guest-file-close", json_pack("{s:I}", "handle", (json_int_t)h),
			 agent_timeout_s(10000), NULL, err, errlen);
}

int virt_agent_write_file(virDomainPtr dom, const char *path, const void *data,
			  size_t len, char *err, size_t errlen)
{
	const unsigned char *p = data;
	size_t off = 0;
	long long h;
	int ret;

	ret = file_open(dom, path, "w", &h, err, errlen);
	if (ret < 0)
		return ret;
	while (off < len) {
		size_t n = len - off < FILE_CHUNK ? len - off : FILE_CHUNK;
		char *b64 = b64_encode(p + off, n);
		json_t *r = NULL;
		long long count;

		if (!b64) {
			ret = -ENOMEM;
			set_err(err, errlen, "domain %s: writing %s: out of memory",
				virt_dom_name(dom), path);
			goto cleanup;
		}
		ret = agent_cmd(dom, "guest-file-write",
				json_pack("{s:I, s:s}", "handle", (json_int_t)h, "buf-b64", b64),
				agent_timeout_s(10000), &r, err, errlen);
		free(b64);
		if (ret < 0)
			goto cleanup;
		count = json_integer_value(json_object_get(r, "count"));
		json_decref(r);
		if (count <= 0) {
			ret = -EIO;
			set_err(err, errlen, "domain %s: writing %s: agent wrote nothing at %zu",
				virt_dom_name(dom), path, off);
			goto cleanup;
		}
		off += count;
	}
	ret = 0;
cleanup:
	if (ret < 0)
		file_close(dom, h, NULL, 0);
	else
		ret = file_close(dom, h, err, errlen);
	return ret;
}

int virt_agent_read_file(virDomainPtr dom, const char *path, size_t max, char **data,
			 size_t *len, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	long long h;
	int ret;

	*data = NULL;
	*len = 0;
	ret = file_open(dom, path, "r", &h, err, errlen);
	if (ret < 0)
		return ret;
	for (;;) {
		json_t *r = NULL;
		const char *b64;
		bool eof;

		ret = agent_cmd(dom, "guest-file-read",
				json_pack("{s:I, s:i}", "handle", (json_int_t)h, "count", 65536),
				agent_timeout_s(10000), &r, err, errlen);
		if (ret < 0)
			goto cleanup;
		b64 = json_string_value(json_object_get(r, "buf-b64"));
		eof = json_is_true(json_object_get(r, "eof")) ||
		      json_integer_value(json_object_get(r, "count")) == 0;
		ret = b64_append(b64 ? b64 : "", &buf, &n);
		json_decref(r);
		if (ret < 0) {
			set_err(err, errlen, "domain %s: reading %s: bad base64 from the agent",
				virt_dom_name(dom), path);
			goto cleanup;
		}
		if (n > max) {
			ret = -EFBIG;
			set_err(err, errlen, "domain %s: reading %s: larger than %zu bytes",
				virt_dom_name(dom), path, max);
			goto cleanup;
		}
		if (eof)
			break;
	}
	ret = 0;
cleanup:
	if (ret < 0) {
		file_close(dom, h, NULL, 0);
		free(buf);
		return ret;
	}
	ret = file_close(dom, h, err, errlen);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	if (!buf)
		buf = calloc(1, 1);
	*data = buf;
	*len = n;
	return buf ? 0 : -ENOMEM;
}
