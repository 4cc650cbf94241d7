/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The guest image on a remote host, through libvirt's storage API: the file
 * goes into the storage pool the project owns there ("cadeia-bench", a
 * directory pool), as a volume named after its SHA-256, so a host that
 * already holds the same bytes is not sent them again. No side channel
 * (scp): only the libvirt connection the host's URI opens.
 */
#ifndef CADEIA_IMAGE_UPLOAD_H
#define CADEIA_IMAGE_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libvirt/libvirt.h>

#define IMAGE_POOL "cadeia-bench"
#define IMAGE_POOL_DIR "/var/lib/cadeia-bench/images"

/* SHA-256 of a file, 64 lowercase hex digits into hex[65]. */
int image_sha256(const char *path, char hex[65], char *err, size_t errlen);

/*
 * Makes the file at path a volume of pool IMAGE_POOL on conn (defining,
 * building and starting the pool if it is missing). *uploaded says whether
 * bytes went over the wire (false: a volume with this digest was there).
 * vol_path: the volume's path on that host, for the domain XML.
 */
int image_upload(virConnectPtr conn, const char *path, char *vol_path, size_t len,
		 bool *uploaded, char *err, size_t errlen);

#endif
