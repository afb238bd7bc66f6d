/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BROKER_VERIFY_PRINT_H
#define BROKER_VERIFY_PRINT_H

/*
 * The verifier's result for people (the layout of the real-data golden
 * file, then one line per check) and for programs (one JSON object).
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "snp/verify.h"

/* report is the parsed report, or NULL when it did not parse (len bytes read). */
void verify_print_text(FILE *out, const char *path, size_t len, const struct snp_report *report,
		       const struct snp_verify_result *res, time_t at);
void verify_print_json(FILE *out, const char *path, const struct snp_report *report,
		       const struct snp_verify_result *res, time_t at);

#endif
