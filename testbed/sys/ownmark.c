/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sys/ownmark.h"

static char mark[OWNMARK_MAX];
static char mark_dir[256];

void ownmark_set(const char *m, const char *dir)
{
	snprintf(mark, sizeof(mark), "%s", m ? m : "");
	snprintf(mark_dir, sizeof(mark_dir), "%s", m && dir ? dir : "");
}

const char *ownmark(void)
{
	return *mark ? mark : NULL;
}

const char *ownmark_dir(void)
{
	return *mark_dir ? mark_dir : NULL;
}

int ownmark_file_write(const char *kind, const char *name, const char *text)
{
	char path[512], line[256];
	int fd, n, ret = 0;

	if (!ownmark_dir() || strchr(name, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s-%s", mark_dir, kind, name);
	n = snprintf(line, sizeof(line), "%s\n", text);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, n) != n)
		ret = errno ? -errno : -EIO;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

int ownmark_file_read(const char *dir, const char *kind, const char *name, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	if (!dir)
		dir = ownmark_dir();
	if (!dir || strchr(name, '/') || len == 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s-%s", dir, kind, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}
