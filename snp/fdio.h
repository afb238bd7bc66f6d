/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_FDIO_H
#define SNP_FDIO_H

#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

/*
 * Write all len bytes to fd, carrying on after short writes and EINTR.
 * 0, or a negative errno (-EIO when write() makes no progress).
 */
int snp_write_all(int fd, const void *buf, size_t len);

/*
 * Read all of path into a malloc'd buffer, NUL-terminated (*len does not
 * count the NUL). More than max bytes is an error (-EFBIG): a report,
 * certificate or key file is small; a huge one is a mistake. -ENOENT when
 * it does not exist, so callers can try another name. What was read is
 * wiped before an error returns.
 */
int snp_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		  struct snp_err *err);

#endif
