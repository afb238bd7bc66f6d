// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * owner/launch_policy.h: a launch's facts written into a broker policy.
 * Replacing and adding lists, the guest POLICY bits pinned, the ID block's
 * identity set and taken out, the list limit; and the result judged by the
 * broker's own policy_check against reports of that launch and of others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/policy.h"
#include "owner/launch_policy.h"
#include "tests/harness.h"

static void facts_init(struct launch_facts *f, uint8_t fill)
{
	memset(f, 0, sizeof(*f));
	memset(f->measurement, fill, sizeof(f->measurement));
	f->guest_policy = 0x30000;
}

TEST(owner_launch_policy_replaces_and_adds_measurements)
{
	struct launch_facts a, b;
	struct snp_err err = { 0 };
	struct policy p;

	policy_init(&p);
	p.allow_any_measurement = true;
	facts_init(&a, 0xaa);
	facts_init(&b, 0xbb);
	REQUIRE(launch_policy_apply(&p, &a, false, &err) == 0);
	CHECK(!p.allow_any_measurement);
	REQUIRE(p.n_measurements == 1);
	CHECK(p.measurements[0][0] == 0xaa);
	REQUIRE(launch_policy_apply(&p, &b, true, &err) == 0);
	REQUIRE(p.n_measurements == 2);
	CHECK(p.measurements[0][0] == 0xaa && p.measurements[1][47] == 0xbb);
	/* The same launch added again is not listed twice. */
	REQUIRE(launch_policy_apply(&p, &b, true, &err) == 0);
	CHECK(p.n_measurements == 2);
	REQUIRE(launch_policy_apply(&p, &b, false, &err) == 0);
	REQUIRE(p.n_measurements == 1);
	CHECK(p.measurements[0][0] == 0xbb);
	policy_free(&p);
}

TEST(owner_launch_policy_pins_guest_policy_bits)
{
	struct launch_facts f;
	struct snp_err err = { 0 };
	struct policy p;

	policy_init(&p);
	facts_init(&f, 1);
	/* SMT, single socket, debug, ABI 1.55. */
	f.guest_policy = SNP_POLICY_RESERVED_1 | SNP_POLICY_SMT | SNP_POLICY_SINGLE_SOCKET |
			 SNP_POLICY_DEBUG | (1u << SNP_POLICY_ABI_MAJOR_SHIFT) | 55;
	REQUIRE(launch_policy_apply(&p, &f, false, &err) == 0);
	CHECK(p.smt == POLICY_REQUIRE);
	CHECK(p.single_socket == POLICY_REQUIRE);
	CHECK(p.cxl == POLICY_FORBID);
	CHECK(p.mem_aes_256_xts == POLICY_FORBID);
	CHECK(p.rapl_dis == POLICY_FORBID);
	CHECK(p.ciphertext_hiding == POLICY_FORBID);
	CHECK(p.page_swap_disable == POLICY_FORBID);
	CHECK(p.allow_debug);
	CHECK(!p.allow_migrate_ma);
	CHECK(p.has_min_abi && p.min_abi_major == 1 && p.min_abi_minor == 55);
	f.guest_policy = 0x30000;
	REQUIRE(launch_policy_apply(&p, &f, false, &err) == 0);
	CHECK(!p.allow_debug);
	CHECK(p.single_socket == POLICY_FORBID);
	policy_free(&p);
}

TEST(owner_launch_policy_id_block_set_and_taken_out)
{
	struct launch_facts f;
	struct snp_err err = { 0 };
	struct policy p;

	policy_init(&p);
	facts_init(&f, 1);
	f.has_id_key = f.has_author_key = true;
	memset(f.id_key_digest, 0x11, sizeof(f.id_key_digest));
	memset(f.author_key_digest, 0x22, sizeof(f.author_key_digest));
	f.has_family_id = f.has_image_id = f.has_svn = true;
	memset(f.family_id, 0x33, sizeof(f.family_id));
	memset(f.image_id, 0x44, sizeof(f.image_id));
	f.svn = 9;
	f.has_host_data = true;
	memset(f.host_data, 0x55, sizeof(f.host_data));
	REQUIRE(launch_policy_apply(&p, &f, false, &err) == 0);
	CHECK(p.n_id_key_digests == 1 && p.id_key_digests[0][5] == 0x11);
	CHECK(p.n_author_key_digests == 1 && p.author_key_digests[0][5] == 0x22);
	CHECK(p.has_family_id && p.family_id[15] == 0x33);
	CHECK(p.has_image_id && p.image_id[0] == 0x44);
	CHECK(p.min_guest_svn == 9);
	CHECK(p.n_host_data == 1 && p.host_data[0][31] == 0x55);
	/* Added without an ID block: the policy's stays. */
	facts_init(&f, 2);
	REQUIRE(launch_policy_apply(&p, &f, true, &err) == 0);
	CHECK(p.n_id_key_digests == 1 && p.has_family_id && p.min_guest_svn == 9);
	CHECK(p.n_measurements == 2);
	/* Replaced by a launch without one: taken out. */
	REQUIRE(launch_policy_apply(&p, &f, false, &err) == 0);
	CHECK(p.n_id_key_digests == 0 && p.n_author_key_digests == 0 && p.n_host_data == 0);
	CHECK(!p.has_family_id && !p.has_image_id && p.min_guest_svn == 0);
	policy_free(&p);
}

TEST(owner_launch_policy_list_limit_leaves_policy_unchanged)
{
	struct launch_facts f;
	struct snp_err err = { 0 };
	struct policy p;
	size_t i;

	policy_init(&p);
	for (i = 0; i < POLICY_LIST_MAX; i++) {
		facts_init(&f, (uint8_t)i);
		f.measurement[47] = (uint8_t)(i >> 8);
		REQUIRE(launch_policy_apply(&p, &f, true, &err) == 0);
	}
	REQUIRE(p.n_measurements == POLICY_LIST_MAX);
	facts_init(&f, 0xfe);
	f.guest_policy |= SNP_POLICY_DEBUG;
	CHECK(launch_policy_apply(&p, &f, true, &err) == -E2BIG);
	CHECK(strstr(err.msg, "measurements") != NULL);
	CHECK(p.n_measurements == POLICY_LIST_MAX);
	CHECK(!p.allow_debug);
	policy_free(&p);
}

/* The broker's policy_check on reports of the launch and of others. */
TEST(owner_launch_policy_judged_by_the_broker)
{
	struct snp_verify_result res = { 0 };
	struct snp_report report = { 0 };
	struct launch_facts f;
	struct snp_err err = { 0 };
	const char *rule = NULL;
	struct policy p;

	policy_init(&p);
	p.allow_any_tcb = true;
	facts_init(&f, 0x5a);
	REQUIRE(launch_policy_apply(&p, &f, false, &err) == 0);
	REQUIRE(policy_validate(&p, &err) == 0);
	res.failed = SNP_CHECK_NONE;
	res.vek_type = SNP_VEK_VCEK;
	res.product = SNP_PRODUCT_MILAN;
	report.version = 3;
	report.policy = 0x30000;
	memcpy(report.measurement, f.measurement, sizeof(report.measurement));
	CHECK(policy_check(&p, &report, &res, &rule, &err) == 0);
	report.measurement[0] ^= 1;
	CHECK(policy_check(&p, &report, &res, &rule, &err) == -EACCES);
	CHECK(rule && !strcmp(rule, "measurement"));
	report.measurement[0] ^= 1;
	report.policy |= SNP_POLICY_SINGLE_SOCKET;
	CHECK(policy_check(&p, &report, &res, &rule, &err) == -EACCES);
	CHECK(rule && !strcmp(rule, "policy-single-socket"));
	policy_free(&p);
}
