/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the virt/ files (conn.c, domain.c, agent.c) share; not for callers. */
#ifndef CADEIA_VIRT_PRIV_H
#define CADEIA_VIRT_PRIV_H

#include <stdbool.h>
#include <sys/types.h>
#include <libvirt/libvirt.h>

#include "sys/errmsg.h"

/* libvirt's last error message, never NULL. */
const char *virt_msg(void);
/* libvirt's error, as a negative errno the caller can act on. */
int virt_errno(void);
/* virInitialize once, with libvirt's own error printing off. */
void virt_init(void);
long long virt_now_ms(void);
void virt_sleep_ms(int ms);
int virt_mkdir_p(const char *path, mode_t mode);
const char *virt_dom_name(virDomainPtr dom);
/* conn.c: a unix socket that accepts a connection; a pid file's pid
 * (-1 if none). */
bool virt_sock_answers(const char *path);
int virt_read_pidfile(const char *path);

#endif
