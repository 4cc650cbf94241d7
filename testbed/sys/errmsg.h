/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The testbed's error messages: modules fill a caller's buffer. */
#ifndef CADEIA_ERRMSG_H
#define CADEIA_ERRMSG_H

#include <stddef.h>

/* printf into err; a NULL or empty buffer means the caller wants no text. */
void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
