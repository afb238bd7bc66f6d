// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: the report parser. Whatever it accepts must encode back to
 * the same signed bytes (nothing parsed is lost or invented), and the
 * listing must print without fault.
 */
#include <stdio.h>
#include <string.h>

#include "snp/report.h"
#include "snp/report_print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	static struct snp_report report;
	uint8_t again[SNP_REPORT_SIZE];
	struct snp_err err;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (snp_report_parse(data, size, &report, &err))
		return 0;
	snp_report_encode(&report, again);
	if (memcmp(again, data, SNP_REPORT_SIGNED_SIZE))
		__builtin_trap();
	for (int p = SNP_PRODUCT_UNKNOWN; p <= SNP_PRODUCT_TURIN; p++)
		snp_report_print(sink, &report, (enum snp_product)p);
	return 0;
}
