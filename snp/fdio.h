/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_FDIO_H
#define SNP_FDIO_H

#include <stddef.h>

/*
 * Write all len bytes to fd, carrying on after short writes and EINTR.
 * 0, or a negative errno (-EIO when write() makes no progress).
 */
int snp_write_all(int fd, const void *buf, size_t len);

#endif
