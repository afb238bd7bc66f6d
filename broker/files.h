/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BROKER_FILES_H
#define BROKER_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

/*
 * Read all of path into a malloc'd buffer. More than max bytes is an
 * error (a report or certificate file is small; a huge one is a mistake).
 * -ENOENT when it does not exist, so callers can try another name.
 */
int broker_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		     struct snp_err *err);

#endif
