/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_REPORT_PRINT_H
#define SNP_REPORT_PRINT_H

/*
 * A human listing of every report field, one "name: value" per line, in
 * the layout the real-data golden file (EXPECTED-verify-output.txt) uses,
 * so a person can compare the two. Shared by `snp-unseal report --show`
 * and `snp-keybroker verify`. TCB values are decoded in product's layout
 * (raw only when the product is unknown).
 */
#include <stdio.h>

#include "snp/report.h"

int snp_report_print(FILE *out, const struct snp_report *report,
		     enum snp_product product);

#endif
