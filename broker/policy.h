/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_POLICY_H
#define SNP_BROKER_POLICY_H

/*
 * A volume's attestation policy: what a verified report must also satisfy
 * before the broker releases the volume's secret. Policies are named and
 * shared (state_dir/policies/NAME.json); each volume names one.
 *
 * The defaults are strict: VMPL exactly 0, DEBUG and MIGRATE_MA refused,
 * VLEK refused, report versions 2, 3 and 5. A policy must constrain the
 * measurement (measurements non-empty) and the TCB (min_tcb for each
 * product it accepts), or say explicitly that it does not
 * (allow_any_measurement, allow_any_tcb): policy_validate refuses it
 * otherwise, at configuration time.
 *
 * The JSON form (docs/snp-keybroker.8 and docs/protocol.md):
 *
 *   {"version":1,
 *    "measurements":["<96 hex>", ...],  "allow_any_measurement":false,
 *    "host_data":["<64 hex>", ...],
 *    "id_key_digests":["<96 hex>"], "author_key_digests":["<96 hex>"],
 *    "family_id":"<32 hex>", "image_id":"<32 hex>",
 *    "min_guest_svn":0,
 *    "report_versions":[2,3,5],
 *    "vmpls":[0],
 *    "products":["Milan","Genoa","Turin"],
 *    "allow_debug":false, "allow_migrate_ma":false,
 *    "smt":"allow"|"require"|"forbid",  "single_socket":"allow"|"require"|"forbid",
 *    "cxl":..., "mem_aes_256_xts":..., "rapl_dis":..., "ciphertext_hiding":...,
 *    "page_swap_disable":...,           (each "allow", "require" or "forbid")
 *    "min_abi":"1.51",
 *    "platform_require":["tsme","ecc",...], "platform_forbid":["smt",...],
 *    "min_tcb":{"Milan":{"bootloader":3,"tee":0,"snp":8,"microcode":115},
 *               "Turin":{"fmc":1,"bootloader":1,"tee":1,"snp":1,"microcode":1}},
 *    "allow_any_tcb":false,
 *    "chip_ids":["<128 hex>", ...],
 *    "allow_vlek":false}
 *
 * Absent members take the defaults; unknown members are refused.
 *
 * Details of the form: "version" may be left out (it is 1); a repeated
 * member, an escape in a member name or a repeated list entry is refused;
 * family_id, image_id and min_abi take null for "not set" (policy_to_json
 * writes null); min_abi's MINOR is a number ("1.51": minor 51); each
 * min_tcb entry gives every component of its product (fmc on Turin only);
 * report_versions, vmpls and products may not be empty; a chip id may not
 * be all zero (what masked chip keys and VLEKs report). allow_any_tcb
 * waives the minimum only for the products min_tcb leaves out.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"
#include "snp/report.h"
#include "snp/verify.h"

#define POLICY_NAME_MAX		64	/* [A-Za-z0-9._-], not starting with '.' */
#define POLICY_LIST_MAX		64	/* entries in each allow-list */

enum policy_tristate { POLICY_ALLOW = 0, POLICY_REQUIRE, POLICY_FORBID };

struct policy_tcb_min {
	bool set;
	uint8_t fmc, bootloader, tee, snp, microcode;
};

struct policy {
	uint8_t (*measurements)[SNP_MEASUREMENT_SIZE];
	size_t n_measurements;
	bool allow_any_measurement;
	uint8_t (*host_data)[SNP_HOST_DATA_SIZE];
	size_t n_host_data;
	uint8_t (*id_key_digests)[SNP_KEY_DIGEST_SIZE];
	size_t n_id_key_digests;
	uint8_t (*author_key_digests)[SNP_KEY_DIGEST_SIZE];
	size_t n_author_key_digests;
	bool has_family_id, has_image_id;
	uint8_t family_id[SNP_ID_SIZE], image_id[SNP_ID_SIZE];
	uint32_t min_guest_svn;
	uint32_t report_versions;		/* bit v set: version v accepted */
	uint32_t vmpls;				/* bit n set: VMPL n accepted */
	uint32_t products;			/* bit (enum snp_product) set */
	bool allow_debug, allow_migrate_ma;
	enum policy_tristate smt, single_socket, cxl, mem_aes_256_xts, rapl_dis,
		ciphertext_hiding, page_swap_disable;
	bool has_min_abi;
	uint8_t min_abi_major, min_abi_minor;
	uint64_t platform_require, platform_forbid;	/* PLATFORM_INFO bits */
	struct policy_tcb_min min_tcb[4];	/* by enum snp_product */
	bool allow_any_tcb;
	uint8_t (*chip_ids)[SNP_CHIP_ID_SIZE];
	size_t n_chip_ids;
	bool allow_vlek;
};

/* The strict defaults (no measurement, no TCB yet: not valid as is). */
void policy_init(struct policy *p);
/* Free the lists; p is left as policy_init leaves it. */
void policy_free(struct policy *p);
/*
 * Parse into p (initialised here: pass an unused or freed policy). On
 * failure p is empty. Does not call policy_validate.
 */
int policy_parse(struct policy *p, const char *json, size_t len, const char *name,
		 struct snp_err *err);
/* Equal member by member, lists in order: what parse(to_json(p)) gives back. */
bool policy_equal(const struct policy *a, const struct policy *b);
/* Canonical JSON (sorted members, lowercase hex), malloc'd. */
int policy_to_json(const struct policy *p, char **json, size_t *len);
/* The configuration-time check: measurement and TCB constrained or waived. */
int policy_validate(const struct policy *p, struct snp_err *err);
bool policy_name_valid(const char *name);

/*
 * Apply p to a report that verified (res: the verifier's facts, for the
 * product and the VEK type). Returns 0, or -EACCES with *rule set to the
 * rule's stable name (docs/protocol.md lists them in order) and a
 * sentence in err that names the report's value but never the policy's
 * expected ones. *rule is NULL when it passes. -EINVAL (no rule) for a
 * result that did not verify. p must have passed policy_validate: a
 * product without a minimum TCB is taken as allow_any_tcb (the broker
 * validates every policy it loads, hand-edited files included).
 */
int policy_check(const struct policy *p, const struct snp_report *report,
		 const struct snp_verify_result *res, const char **rule, struct snp_err *err);
/* The i-th rule's name in the order policy_check applies them; NULL past the last. */
const char *policy_rule_name(size_t i);

#endif
