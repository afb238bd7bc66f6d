/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_SERVE_CMD_H
#define SNP_BROKER_SERVE_CMD_H

#include <stddef.h>

#include "snp/err.h"
#include "snp/roots.h"

/* argv[0] is "serve". Returns the exit status: 0 after a stop, 1 on failure, 2 for usage. */
int broker_serve_main(int argc, char *argv[]);

#endif
