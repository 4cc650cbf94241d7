// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Errors, names, MAC addresses and pin paths. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "cs_priv.h"

static const char *const stage_names[CS_NSTAGES] = {
	"classifier", "dec", "enc", "fwd", "kwire",
};

int cs_errf(struct cs_err *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return ret;
}

int cs_stage_index(unsigned bit)
{
	int i;

	for (i = 0; i < CS_NSTAGES; i++)
		if (bit == 1u << i)
			return i;
	return -1;
}

const char *cs_stage_name(unsigned bit)
{
	int i = cs_stage_index(bit);

	return i < 0 ? NULL : stage_names[i];
}

static int stage_word(const char *w, size_t len, unsigned *mask)
{
	int i;

	for (i = 0; i < CS_NSTAGES; i++) {
		if (strlen(stage_names[i]) == len && !strncmp(w, stage_names[i], len)) {
			*mask |= 1u << i;
			return 0;
		}
	}
	if (len == 2 && !strncmp(w, "sf", 2)) {
		*mask |= CS_STAGE_DEC | CS_STAGE_ENC | CS_STAGE_FWD;
		return 0;
	}
	if (len == 9 && !strncmp(w, "nsh-aware", 9)) {
		*mask |= CS_STAGE_FWD;
		return 0;
	}
	return -EINVAL;
}

int cs_stages_parse(const char *list, unsigned *mask, struct cs_err *err)
{
	const char *p = list, *end;
	unsigned m = 0;
	size_t len;

	if (!list || !*list)
		return cs_errf(err, -EINVAL, "stages: empty list");
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (stage_word(p, len, &m) < 0)
			return cs_errf(err, -EINVAL,
				       "stages: unknown stage \"%.*s\" (known: classifier, dec, enc, fwd, kwire, sf, nsh-aware)",
				       (int)len, p);
		if (!end)
			break;
		p = end + 1;
	}
	*mask = m;
	return 0;
}

int cs_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	int i;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		const char *o = s + 3 * i;

		/* sscanf alone would accept " 2:" or "+2:" */
		if (!isxdigit((unsigned char)o[0]) || !isxdigit((unsigned char)o[1]) ||
		    (i < 5 && o[2] != ':'))
			return -EINVAL;
	}
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

void cs_mac_format(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

int cs_node_check(const char *node, struct cs_err *err)
{
	if (!node || !*node)
		return cs_errf(err, -EINVAL, "node: name missing");
	/* bpffs refuses names with a '.' (EPERM): say so before mkdir does. */
	if (strlen(node) >= CS_NODE_NAME_MAX || strchr(node, '/') ||
	    strchr(node, '.'))
		return cs_errf(err, -EINVAL,
			       "node \"%s\": invalid name (no '/' or '.', at most %d characters)",
			       node, CS_NODE_NAME_MAX - 1);
	return 0;
}

int cs_node_path(char *buf, size_t sz, const char *node, const char *file)
{
	int n;

	if (file)
		n = snprintf(buf, sz, "%s/%s/%s", CADEIA_PIN_ROOT, node, file);
	else
		n = snprintf(buf, sz, "%s/%s", CADEIA_PIN_ROOT, node);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

bool cs_node_exists(const char *node)
{
	char path[PATH_MAX];
	struct stat st;

	if (cs_node_check(node, NULL) < 0 ||
	    cs_node_path(path, sizeof(path), node, NULL) < 0)
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cs_node_attached(const char *node, struct cs_err *err)
{
	int ret = cs_node_check(node, err);

	if (ret < 0)
		return ret;
	if (!cs_node_exists(node))
		return cs_errf(err, -ENOENT, "node %s: not attached (no %s/%s)",
			       node, CADEIA_PIN_ROOT, node);
	return 0;
}

int cs_pin_open(const char *node, const char *file, struct cs_err *err)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = cs_node_check(node, err);
	if (ret < 0)
		return ret;
	if (cs_node_path(path, sizeof(path), node, file) < 0)
		return cs_errf(err, -ENAMETOOLONG, "node %s: path too long", node);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT && !cs_node_exists(node))
			return cs_errf(err, ret, "node %s: not attached (no %s/%s)",
				       node, CADEIA_PIN_ROOT, node);
		return cs_errf(err, ret, "node %s: cannot open %s: %s", node,
			       path, strerror(-ret));
	}
	return fd;
}
