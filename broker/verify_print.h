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

void verify_print_text(FILE *out, const char *path, const uint8_t *report, size_t len,
		       const struct snp_verify_result *res, time_t at);
void verify_print_json(FILE *out, const char *path, const uint8_t *report, size_t len,
		       const struct snp_verify_result *res, time_t at);

#endif
