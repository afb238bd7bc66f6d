/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_SERVE_CMD_H
#define SNP_BROKER_SERVE_CMD_H

#include <stddef.h>

#include "snp/err.h"
#include "snp/roots.h"

/* argv[0] is "serve". Returns the exit status: 0 after a stop, 1 on failure, 2 for usage. */
int broker_serve_main(int argc, char *argv[]);

/*
 * An ARK certificate (PEM or DER, CN "ARK-<Product>") as a set of anchors
 * that pins it, alone, for its product; *product gets the product. For
 * trust_ark (test roots, such as the simulator's).
 */
int broker_load_trust_ark(struct snp_anchors *anchors, const char *path,
			  enum snp_product *product, struct snp_err *err);

#endif
