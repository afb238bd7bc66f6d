// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: a policy file. Whatever policy_parse accepts must write out
 * (policy_to_json) as text that parses back to the same policy and writes
 * out to the same bytes; validate and check must take any accepted policy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A report every rule looks at, in a product taken from the input. */
static void check_some_report(const struct policy *p, const uint8_t *data, size_t size)
{
	struct snp_report r;
	struct snp_verify_result res;
	const char *rule = NULL;
	struct snp_err err;
	int ret;

	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	r.version = 3;
	r.policy = SNP_POLICY_RESERVED_1 | SNP_POLICY_SMT;
	r.key_info = SNP_KEY_INFO_AUTHOR_KEY_EN;
	memcpy(r.measurement, data, size < sizeof(r.measurement) ? size : sizeof(r.measurement));
	res.product = (enum snp_product)(1 + size % 3);
	res.vek_type = SNP_VEK_VCEK;
	ret = policy_check(p, &r, &res, &rule, &err);
	if ((ret == 0) != (rule == NULL) || (ret && ret != -EACCES))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p, q;
	struct snp_err err;
	char *json1 = NULL, *json2 = NULL;
	size_t len1, len2;

	if (policy_parse(&p, (const char *)data, size, "fuzz", &err))
		return 0;
	if (policy_to_json(&p, &json1, &len1) ||
	    policy_parse(&q, json1, len1, "canonical", &err))
		__builtin_trap();
	if (!policy_equal(&p, &q) || policy_to_json(&q, &json2, &len2) || len1 != len2 ||
	    memcmp(json1, json2, len1))
		__builtin_trap();
	policy_validate(&p, &err);
	check_some_report(&p, data, size);
	free(json1);
	free(json2);
	policy_free(&p);
	policy_free(&q);
	return 0;
}
