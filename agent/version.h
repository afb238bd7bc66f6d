/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_VERSION_H
#define SNP_UNSEAL_AGENT_VERSION_H

#include <stdio.h>

/* Print snp-unseal's version and those of the libraries linked into it. */
int print_version(FILE *out);

#endif
