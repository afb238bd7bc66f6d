/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_TESTS_FAKE_REPORT_H
#define SNP_UNSEAL_TESTS_FAKE_REPORT_H

/*
 * What the fake kernels of the provider tests answer: a well-formed v3
 * Genoa report (unsigned) carrying the requester's data and VMPL, as the
 * firmware would build it.
 */
#include <string.h>

#include "snp/report.h"

static inline void fake_report(uint8_t out[SNP_REPORT_SIZE],
			       const uint8_t data[SNP_REPORT_DATA_SIZE], uint32_t vmpl)
{
	struct snp_report r;

	memset(&r, 0, sizeof(r));
	r.version = 3;
	r.policy = SNP_POLICY_RESERVED_1 | SNP_POLICY_SMT;
	r.vmpl = vmpl;
	r.sig_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	r.cpuid_fam_id = 0x19;
	r.cpuid_mod_id = 0x11;
	r.cpuid_step = 1;
	memcpy(r.report_data, data, SNP_REPORT_DATA_SIZE);
	memset(r.measurement, 0x4d, sizeof(r.measurement));
	memset(r.chip_id, 0xc1, sizeof(r.chip_id));
	snp_report_encode(&r, out);
}

#endif
