// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attestation policies: strict parsing, the canonical form, the
 * configuration-time checks, and every rule refusing in the order
 * docs/protocol.md gives, with sentences that never carry the policy's
 * expected values.
 */
#define _GNU_SOURCE	/* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/policy.h"
#include "snp/roots.h"
#include "snp/sim/sim.h"
#include "tests/harness.h"

#ifndef TESTS_DIR
#error "TESTS_DIR must be defined by the build"
#endif

#define TIME_2026_01_01 ((time_t)1767225600)

/* "xx" repeated n times into out (2n+1 bytes). */
static char *hex_fill(char *out, uint8_t byte, size_t n)
{
	uint8_t buf[SNP_CHIP_ID_SIZE];

	memset(buf, byte, n);
	return snp_hex(out, buf, n);
}

/*
 * A policy that constrains everything, and a Genoa report that passes it:
 * each rule test breaks one field.
 */
static char *base_json(void)
{
	char m1[97], m2[97], host[65], idk[97], auk[97], fam[33], img[33], chip[129];
	char *json = NULL;

	hex_fill(m1, 0xaa, SNP_MEASUREMENT_SIZE);
	for (char *c = m1; *c; c++)
		*c = *c == 'a' ? 'A' : *c;	/* any case in */
	hex_fill(m2, 0x4d, SNP_MEASUREMENT_SIZE);
	hex_fill(host, 0x11, SNP_HOST_DATA_SIZE);
	hex_fill(idk, 0x22, SNP_KEY_DIGEST_SIZE);
	hex_fill(auk, 0x33, SNP_KEY_DIGEST_SIZE);
	hex_fill(fam, 0x44, SNP_ID_SIZE);
	hex_fill(img, 0x55, SNP_ID_SIZE);
	hex_fill(chip, 0xc1, SNP_CHIP_ID_SIZE);
	if (asprintf(&json,
		     "{\"version\":1,\n"
		     " \"measurements\":[\"%s\",\"%s\"],\n"
		     " \"host_data\":[\"%s\"], \"id_key_digests\":[\"%s\"],\n"
		     " \"author_key_digests\":[\"%s\"],\n"
		     " \"family_id\":\"%s\", \"image_id\":\"%s\", \"min_guest_svn\":5,\n"
		     " \"report_versions\":[3,5], \"vmpls\":[0], \"products\":[\"Genoa\",\"turin\"],\n"
		     " \"smt\":\"require\", \"single_socket\":\"forbid\", \"cxl\":\"forbid\",\n"
		     " \"mem_aes_256_xts\":\"require\", \"rapl_dis\":\"forbid\",\n"
		     " \"ciphertext_hiding\":\"require\", \"page_swap_disable\":\"require\",\n"
		     " \"min_abi\":\"1.51\",\n"
		     " \"platform_require\":[\"tsme\",\"ecc\"], \"platform_forbid\":[\"ciphertext_hiding\"],\n"
		     " \"min_tcb\":{\"Genoa\":{\"bootloader\":9,\"tee\":0,\"snp\":24,\"microcode\":80},\n"
		     "            \"Turin\":{\"fmc\":0,\"bootloader\":1,\"tee\":0,\"snp\":1,\"microcode\":1}},\n"
		     " \"chip_ids\":[\"%s\"]}\n",
		     m1, m2, host, idk, auk, fam, img, chip) < 0)
		return NULL;
	return json;
}

static bool parse_base(struct policy *p)
{
	struct snp_err err = { 0 };
	char *json = base_json();
	int ret = json ? policy_parse(p, json, strlen(json), "base", &err) : -ENOMEM;

	if (ret)
		fprintf(stderr, "      %s\n", err.msg);
	free(json);
	return ret == 0;
}

static void base_report(struct snp_report *r, struct snp_verify_result *res)
{
	struct snp_tcb tcb = { .bootloader = 10, .tee = 0, .snp = 25, .microcode = 84 };

	memset(r, 0, sizeof(*r));
	memset(res, 0, sizeof(*res));
	r->version = 3;
	r->guest_svn = 7;
	r->policy = SNP_POLICY_RESERVED_1 | SNP_POLICY_SMT | SNP_POLICY_MEM_AES_256_XTS |
		    SNP_POLICY_CIPHERTEXT_HIDING | SNP_POLICY_PAGE_SWAP_DISABLE |
		    1ULL << SNP_POLICY_ABI_MAJOR_SHIFT | 55;
	memset(r->family_id, 0x44, SNP_ID_SIZE);
	memset(r->image_id, 0x55, SNP_ID_SIZE);
	r->sig_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	r->platform_info = SNP_PLATFORM_TSME_EN | SNP_PLATFORM_ECC_EN |
			   SNP_PLATFORM_ALIAS_CHECK_COMPLETE;
	r->key_info = SNP_KEY_INFO_AUTHOR_KEY_EN;
	memset(r->measurement, 0x4d, SNP_MEASUREMENT_SIZE);
	memset(r->host_data, 0x11, SNP_HOST_DATA_SIZE);
	memset(r->id_key_digest, 0x22, SNP_KEY_DIGEST_SIZE);
	memset(r->author_key_digest, 0x33, SNP_KEY_DIGEST_SIZE);
	r->reported_tcb = snp_tcb_encode(&tcb, SNP_PRODUCT_GENOA);
	r->current_tcb = r->reported_tcb;
	memset(r->chip_id, 0xc1, SNP_CHIP_ID_SIZE);
	r->cpuid_fam_id = 0x19;
	r->cpuid_mod_id = 0x11;
	r->cpuid_product = SNP_PRODUCT_GENOA;
	res->failed = SNP_CHECK_NONE;
	res->product = SNP_PRODUCT_GENOA;
	res->vek_type = SNP_VEK_VCEK;
}

struct mutation {
	const char *rule;
	void (*apply)(struct snp_report *r, struct snp_verify_result *res);
	const char *says;	/* in the sentence: the report's value */
};

#define MUT(name, body) \
	static void mut_##name(struct snp_report *r, struct snp_verify_result *res) \
	{ (void)r; (void)res; body; }

MUT(product, res->product = SNP_PRODUCT_MILAN)
MUT(version, r->version = 2)
MUT(vmpl, r->vmpl = 1)
MUT(vlek, res->vek_type = SNP_VEK_VLEK)
MUT(debug, r->policy |= SNP_POLICY_DEBUG)
MUT(migrate, r->policy |= SNP_POLICY_MIGRATE_MA)
MUT(smt, r->policy &= ~SNP_POLICY_SMT)
MUT(single_socket, r->policy |= SNP_POLICY_SINGLE_SOCKET)
MUT(abi, r->policy = (r->policy & ~SNP_POLICY_ABI_MINOR_MASK) | 50)
MUT(cxl, r->policy |= SNP_POLICY_CXL_ALLOW)
MUT(xts, r->policy &= ~SNP_POLICY_MEM_AES_256_XTS)
MUT(rapl, r->policy |= SNP_POLICY_RAPL_DIS)
MUT(ciphertext, r->policy &= ~SNP_POLICY_CIPHERTEXT_HIDING)
MUT(swap, r->policy &= ~SNP_POLICY_PAGE_SWAP_DISABLE)
MUT(platform, r->platform_info &= ~SNP_PLATFORM_TSME_EN)
MUT(tcb, r->reported_tcb = snp_tcb_encode(&(struct snp_tcb){ .bootloader = 10, .snp = 23,
		.microcode = 84 }, SNP_PRODUCT_GENOA))
MUT(measurement, r->measurement[0] = 0x4c)
MUT(host_data, r->host_data[31] = 0x12)
MUT(id_key, r->id_key_digest[5] = 0x23)
MUT(author_key, r->author_key_digest[0] = 0x34)
MUT(family, r->family_id[0] = 0x45)
MUT(image, r->image_id[15] = 0x56)
MUT(svn, r->guest_svn = 4)
MUT(chip, r->chip_id[0] = 0xc0)

/* One per rule, in the order of docs/protocol.md. */
static const struct mutation mutations[] = {
	{ "product", mut_product, "product Milan" },
	{ "report-version", mut_version, "version 2" },
	{ "vmpl", mut_vmpl, "VMPL 1" },
	{ "vlek", mut_vlek, "VLEK" },
	{ "policy-debug", mut_debug, "POLICY.DEBUG is set" },
	{ "policy-migrate-ma", mut_migrate, "POLICY.MIGRATE_MA is set" },
	{ "policy-smt", mut_smt, "POLICY.SMT is clear" },
	{ "policy-single-socket", mut_single_socket, "POLICY.SINGLE_SOCKET is set" },
	{ "policy-abi", mut_abi, "ABI 1.50" },
	{ "policy-cxl", mut_cxl, "POLICY.CXL_ALLOW is set" },
	{ "policy-mem-aes-256-xts", mut_xts, "POLICY.MEM_AES_256_XTS is clear" },
	{ "policy-rapl-dis", mut_rapl, "POLICY.RAPL_DIS is set" },
	{ "policy-ciphertext-hiding", mut_ciphertext, "POLICY.CIPHERTEXT_HIDING is clear" },
	{ "policy-page-swap-disable", mut_swap, "POLICY.PAGE_SWAP_DISABLE is clear" },
	{ "platform-info", mut_platform, "TSME_EN is clear" },
	{ "tcb", mut_tcb, "REPORTED_TCB snp=23 is below the minimum" },
	{ "measurement", mut_measurement, "MEASUREMENT 4c4d4d" },
	{ "host-data", mut_host_data, "HOST_DATA 1111" },
	{ "id-key-digest", mut_id_key, "ID_KEY_DIGEST 2222222222" },
	{ "author-key-digest", mut_author_key, "AUTHOR_KEY_DIGEST 3433" },
	{ "family-id", mut_family, "FAMILY_ID 4544" },
	{ "image-id", mut_image, "IMAGE_ID 5555" },
	{ "guest-svn", mut_svn, "GUEST_SVN 4 " },
	{ "chip-id", mut_chip, "CHIP_ID c0c1" },
};

#define N_MUTATIONS (sizeof(mutations) / sizeof(mutations[0]))

/* The policy's own values, which no refusal may carry back to the client. */
static bool leaks(const char *msg)
{
	static const struct { uint8_t byte; size_t len; } values[] = {
		{ 0xaa, SNP_MEASUREMENT_SIZE }, { 0x4d, SNP_MEASUREMENT_SIZE },
		{ 0x11, SNP_HOST_DATA_SIZE }, { 0x22, SNP_KEY_DIGEST_SIZE },
		{ 0x33, SNP_KEY_DIGEST_SIZE }, { 0x44, SNP_ID_SIZE }, { 0x55, SNP_ID_SIZE },
		{ 0xc1, SNP_CHIP_ID_SIZE },
	};
	static const char *const words[] = { "1.51", "=24", "Genoa", "Turin", "tsme" };
	char hex[2 * SNP_CHIP_ID_SIZE + 1];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (strstr(msg, hex_fill(hex, values[i].byte, values[i].len)))
			return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(msg, words[i]))
			return true;
	return false;
}

TEST(policy_check_accepts_the_base_report)
{
	struct policy p;
	struct snp_report r;
	struct snp_verify_result res;
	struct snp_err err = { 0 };
	const char *rule = "unset";

	REQUIRE(parse_base(&p));
	base_report(&r, &res);
	CHECK(policy_validate(&p, &err) == 0);
	CHECK(policy_check(&p, &r, &res, &rule, &err) == 0);
	if (rule)
		fprintf(stderr, "      %s: %s\n", rule, err.msg);
	CHECK(rule == NULL);
	/* A result that did not verify is no input for a policy. */
	res.failed = SNP_CHECK_REPORT_SIGNATURE;
	rule = "unset";
	CHECK(policy_check(&p, &r, &res, &rule, &err) == -EINVAL);
	CHECK(rule == NULL);
	CHECK(strstr(err.msg, "report-signature") != NULL);
	policy_free(&p);
}

TEST(policy_check_each_rule_refuses_with_its_name)
{
	struct policy p;

	REQUIRE(parse_base(&p));
	for (size_t i = 0; i < N_MUTATIONS; i++) {
		struct snp_report r;
		struct snp_verify_result res;
		struct snp_err err = { 0 };
		const char *rule = NULL;

		base_report(&r, &res);
		mutations[i].apply(&r, &res);
		CHECK(policy_check(&p, &r, &res, &rule, &err) == -EACCES);
		CHECK_STR(rule, mutations[i].rule);
		if (!CHECK(strstr(err.msg, mutations[i].says) != NULL) || !CHECK(!leaks(err.msg)))
			fprintf(stderr, "      %s: %s\n", mutations[i].rule, err.msg);
		CHECK(err.code == -EACCES);
	}
	policy_free(&p);
}

TEST(policy_check_applies_rules_in_protocol_order)
{
	struct policy p;

	REQUIRE(parse_base(&p));
	for (size_t i = 0; i < N_MUTATIONS; i++) {
		CHECK_STR(policy_rule_name(i), mutations[i].rule);
		for (size_t j = i + 1; j < N_MUTATIONS; j++) {
			struct snp_report r;
			struct snp_verify_result res;
			const char *rule = NULL;

			base_report(&r, &res);
			mutations[j].apply(&r, &res);
			mutations[i].apply(&r, &res);
			CHECK(policy_check(&p, &r, &res, &rule, NULL) == -EACCES);
			if (!CHECK(rule && !strcmp(rule, mutations[i].rule)))
				fprintf(stderr, "      %s + %s refused by %s\n", mutations[i].rule,
					mutations[j].rule, rule ? rule : "(none)");
		}
	}
	CHECK(policy_rule_name(N_MUTATIONS) == NULL);
	policy_free(&p);
}

/* The list in docs/protocol.md, word for word, is the code's. */
TEST(policy_rule_names_are_the_protocol_documents)
{
	size_t len, n = 0;
	char *doc = (char *)test_read_file(TESTS_DIR "/../docs/protocol.md", 1 << 20, &len);
	char *p = strstr(doc, "Policy rules, in the order they are applied:");
	char *end = p ? strchr(p, '.') : NULL;

	REQUIRE(p && end);
	*end = '\0';
	while ((p = strchr(p, '`')) != NULL) {
		char *close = strchr(p + 1, '`');

		REQUIRE(close);
		*close = '\0';
		CHECK_STR(policy_rule_name(n), p + 1);
		n++;
		p = close + 1;
	}
	CHECK(n == N_MUTATIONS && policy_rule_name(n) == NULL);
	free(doc);
}

static int check_one(const char *json, struct snp_report *r, struct snp_verify_result *res,
		     const char **rule, struct snp_err *err)
{
	struct policy p;
	int ret;

	ret = policy_parse(&p, json, strlen(json), "t", err);
	if (ret) {
		fprintf(stderr, "      %s\n", err->msg);
		return -1000;
	}
	ret = policy_check(&p, r, res, rule, err);
	policy_free(&p);
	return ret;
}

/* The defaults refuse DEBUG, MIGRATE_MA, VLEK, VMPL 1-3; the waivers waive. */
TEST(policy_check_defaults_and_waivers)
{
	struct snp_report r;
	struct snp_verify_result res;
	struct snp_err err = { 0 };
	const char *rule;

	base_report(&r, &res);
	r.policy |= SNP_POLICY_DEBUG;
	CHECK(check_one("{\"allow_any_measurement\":true}", &r, &res, &rule, &err) == -EACCES);
	CHECK_STR(rule, "policy-debug");
	CHECK(check_one("{\"allow_debug\":true,\"allow_any_measurement\":true}", &r, &res, &rule,
			&err) == 0);
	base_report(&r, &res);
	r.vmpl = 3;
	CHECK(check_one("{}", &r, &res, &rule, &err) == -EACCES);
	CHECK_STR(rule, "vmpl");
	CHECK(check_one("{\"vmpls\":[3],\"allow_any_measurement\":true}", &r, &res, &rule,
			&err) == 0);
	base_report(&r, &res);
	res.vek_type = SNP_VEK_VLEK;
	CHECK(check_one("{\"allow_vlek\":true}", &r, &res, &rule, &err) == -EACCES);
	CHECK_STR(rule, "measurement");	/* VLEK allowed; no measurement listed */
	CHECK(check_one("{\"allow_vlek\":true,\"allow_any_measurement\":true}", &r, &res, &rule,
			&err) == 0);
	/* No min_tcb for Genoa and allow_any_tcb: any TCB. */
	base_report(&r, &res);
	r.reported_tcb = 0;
	CHECK(check_one("{\"allow_any_measurement\":true,\"allow_any_tcb\":true,"
			"\"min_tcb\":{\"Milan\":{\"bootloader\":9,\"tee\":9,\"snp\":9,\"microcode\":9}}}",
			&r, &res, &rule, &err) == 0);
	if (rule)
		fprintf(stderr, "      %s: %s\n", rule, err.msg);
}

TEST(policy_check_platform_forbid_and_author_key_en)
{
	struct policy p;
	struct snp_report r;
	struct snp_verify_result res;
	struct snp_err err = { 0 };
	const char *rule;

	REQUIRE(parse_base(&p));
	base_report(&r, &res);
	r.platform_info |= SNP_PLATFORM_CIPHERTEXT_HIDING_EN;
	CHECK(policy_check(&p, &r, &res, &rule, &err) == -EACCES);
	CHECK_STR(rule, "platform-info");
	CHECK(strstr(err.msg, "CIPHERTEXT_HIDING_EN is set") != NULL);
	/* Without AUTHOR_KEY_EN, a matching digest does not count. */
	base_report(&r, &res);
	r.key_info = 0;
	CHECK(policy_check(&p, &r, &res, &rule, &err) == -EACCES);
	CHECK_STR(rule, "author-key-digest");
	CHECK(strstr(err.msg, "AUTHOR_KEY_EN is clear") != NULL);
	/* The other accepted measurement passes too (listed in upper case). */
	base_report(&r, &res);
	memset(r.measurement, 0xaa, sizeof(r.measurement));
	CHECK(policy_check(&p, &r, &res, &rule, &err) == 0);
	policy_free(&p);
}

/* ---- With the simulator: a real report, verified, then the policy. ---- */

static int sim_verified(const char *dir, const char *config, struct snp_report *r,
			struct snp_verify_result *res)
{
	struct snp_sim_config cfg;
	struct snp_sim *sim = NULL;
	struct snp_sim_response resp = { 0 };
	struct snp_anchors roots;
	struct snp_err err = { 0 };
	struct snp_verify_input in = { .now = TIME_2026_01_01, .anchors = &roots };
	uint8_t data[SNP_REPORT_DATA_SIZE] = { 1 };
	int ret;

	snp_sim_config_init(&cfg);
	ret = snp_sim_config_parse(&cfg, config, strlen(config), "sim.conf", &err);
	if (!ret)
		ret = snp_sim_open(&sim, dir, &cfg, &err);
	if (!ret)
		ret = snp_sim_get_report(sim, data, 0, false, &resp, &err);
	if (ret) {
		fprintf(stderr, "      %s\n", err.msg);
		goto out;
	}
	snp_anchors_init(&roots, "simulator");
	snp_sim_cert(sim, SNP_SIM_CERT_ARK, &in.ark, &in.ark_len);
	snp_sim_cert(sim, SNP_SIM_CERT_ASK, &in.ask, &in.ask_len);
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &in.vek, &in.vek_len);
	ret = snp_anchors_pin_der(&roots, snp_sim_product(sim), SNP_ROOT_ARK, in.ark, in.ark_len,
				  &err);
	in.report = resp.report;
	in.report_len = resp.report_len;
	if (!ret)
		ret = snp_verify(&in, res);
	if (!ret)
		ret = snp_report_parse(resp.report, resp.report_len, r, &err);
	if (ret)
		fprintf(stderr, "      %s %s\n", res->msg, err.msg);
out:
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
	return ret;
}

TEST(policy_check_simulator_reports)
{
	static const char meas[] = "0102030405060708091011121314151617181920212223242526272829303132"
				   "33343536373839404142434445464748";
	struct snp_report r;
	struct snp_verify_result res;
	struct snp_err err = { 0 };
	char conf[256], json[1024];
	const char *rule = NULL;

	snprintf(conf, sizeof(conf), "measurement = %s\nguest_svn = 3\n", meas);
	REQUIRE(sim_verified(TESTS_DIR "/data/sim", conf, &r, &res) == 0);
	REQUIRE(res.product == SNP_PRODUCT_MILAN);
	/* The simulator's Milan default is bl=4 tee=0 snp=24 ucode=219. */
	snprintf(json, sizeof(json),
		 "{\"measurements\":[\"%s\"],\"products\":[\"Milan\"],\"min_guest_svn\":3,"
		 "\"min_tcb\":{\"Milan\":{\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":219}}}",
		 meas);
	CHECK(check_one(json, &r, &res, &rule, &err) == 0);
	json[strlen("{\"measurements\":[\"") + 2] = '9';
	CHECK(check_one(json, &r, &res, &rule, &err) == -EACCES);
	CHECK_STR(rule, "measurement");
	CHECK(strstr(err.msg, meas) != NULL);

	/* Turin: the FMC component counts. */
	REQUIRE(sim_verified(TESTS_DIR "/data/sim-turin", "reported_tcb = fmc=2 bl=1 tee=0 snp=2 ucode=71\n"
			     "current_tcb = fmc=2 bl=1 tee=0 snp=2 ucode=71\n", &r, &res) == 0);
	REQUIRE(res.product == SNP_PRODUCT_TURIN);
	CHECK(check_one("{\"allow_any_measurement\":true,\"products\":[\"Turin\"],"
			"\"min_tcb\":{\"Turin\":{\"fmc\":2,\"bootloader\":1,\"tee\":0,\"snp\":2,\"microcode\":71}}}",
			&r, &res, &rule, &err) == 0);
	CHECK(check_one("{\"allow_any_measurement\":true,\"products\":[\"Turin\"],"
			"\"min_tcb\":{\"Turin\":{\"fmc\":3,\"bootloader\":1,\"tee\":0,\"snp\":2,\"microcode\":71}}}",
			&r, &res, &rule, &err) == -EACCES);
	CHECK_STR(rule, "tcb");
	CHECK_STR(err.msg, "REPORTED_TCB fmc=2 is below the minimum");
}

/* ---- Parsing ---------------------------------------------------------- */

static const struct {
	const char *json, *says;
} bad_policies[] = {
	{ "", "ends early" },
	{ "[]", "a JSON object, not array" },
	{ "{\"vmpls\":[0]} x", "not JSON" },
	{ "{\"vmpls\":[0]}{}", "not JSON" },
	{ "{'vmpls':[0]}", "single-quoted" },
	{ "{\"vmpls\":[0],}", "not JSON" },
	{ "{\"version\":2}", "member version: 2 is not a policy version" },
	{ "{\"version\":\"1\"}", "member version: a whole number, not string" },
	{ "{\"colour\":1}", "member colour: unknown" },
	{ "{\"vmpls\":[0],\"vmpls\":[1]}", "member vmpls: given twice" },
	{ "{\"\\u0076mpls\":[0]}", "escapes in member names" },
	{ "{\"allow_debug\":1}", "member allow_debug: true or false, not int" },
	{ "{\"smt\":\"maybe\"}", "member smt: 'maybe' is none of allow, require, forbid" },
	{ "{\"smt\":\"Allow\"}", "member smt: 'Allow' is none" },
	{ "{\"measurements\":\"ab\"}", "member measurements: a list, not string" },
	{ "{\"measurements\":[\"abcd\"]}", "member measurements[0]: 4 characters; expected 96" },
	{ "{\"host_data\":[\"zz00000000000000000000000000000000000000000000000000000000000000\"]}",
	  "member host_data[0]: 'zz00000000000000' is not hex" },
	{ "{\"host_data\":[1]}", "member host_data[0]: a string, not int" },
	{ "{\"family_id\":\"00\"}", "member family_id: 2 characters; expected 32" },
	{ "{\"family_id\":false}", "member family_id: a string, not boolean" },
	{ "{\"min_guest_svn\":-1}", "member min_guest_svn: -1 is outside 0 to 4294967295" },
	{ "{\"min_guest_svn\":4294967296}", "outside 0 to 4294967295" },
	{ "{\"min_guest_svn\":1.5}", "a whole number, not double" },
	{ "{\"report_versions\":[4]}", "member report_versions[0]: 4 is not a report version (2, 3 or 5)" },
	{ "{\"report_versions\":[]}", "member report_versions: empty" },
	{ "{\"report_versions\":[3,3]}", "member report_versions[1]: listed twice" },
	{ "{\"vmpls\":[4]}", "member vmpls[0]: 4 is not a VMPL (0 to 3)" },
	{ "{\"vmpls\":[99]}", "member vmpls[0]: 99 is outside 0 to 63" },
	{ "{\"products\":[\"Rome\"]}", "member products[0]: 'Rome' is not a product" },
	{ "{\"products\":[\"Milan\",\"milan\"]}", "member products[1]: listed twice" },
	{ "{\"products\":[]}", "member products: empty" },
	{ "{\"min_abi\":\"1\"}", "member min_abi: '1' is not MAJOR.MINOR" },
	{ "{\"min_abi\":\"1.256\"}", "is not MAJOR.MINOR" },
	{ "{\"min_abi\":\"1.5.1\"}", "is not MAJOR.MINOR" },
	{ "{\"min_abi\":\" 1.5\"}", "is not MAJOR.MINOR" },
	{ "{\"platform_require\":[\"smt_en\"]}", "member platform_require[0]: 'smt_en' is not a PLATFORM_INFO bit" },
	{ "{\"platform_forbid\":[\"ecc\",\"ecc\"]}", "member platform_forbid[1]: listed twice" },
	{ "{\"min_tcb\":[]}", "member min_tcb: an object keyed by product name, not array" },
	{ "{\"min_tcb\":{\"Rome\":{}}}", "member min_tcb.Rome: not a product" },
	{ "{\"min_tcb\":{\"Milan\":{\"bootloader\":1,\"tee\":1,\"snp\":1}}}",
	  "member min_tcb.Milan: missing the component microcode" },
	{ "{\"min_tcb\":{\"Milan\":{\"fmc\":1,\"bootloader\":1,\"tee\":1,\"snp\":1,\"microcode\":1}}}",
	  "member min_tcb.Milan.fmc: only Turin" },
	{ "{\"min_tcb\":{\"Genoa\":{\"fmc\":1}}}", "member min_tcb.Genoa.fmc: only Turin" },
	{ "{\"min_tcb\":{\"Turin\":{\"bootloader\":1,\"tee\":1,\"snp\":1,\"microcode\":1}}}",
	  "member min_tcb.Turin: missing the component fmc" },
	{ "{\"min_tcb\":{\"Milan\":{\"snp\":256}}}", "member min_tcb.Milan.snp: 256 is outside 0 to 255" },
	{ "{\"min_tcb\":{\"Milan\":{\"spl\":1}}}", "member min_tcb.Milan.spl: unknown" },
	{ "{\"min_tcb\":{\"Milan\":{\"snp\":1,\"snp\":2}}}", "member min_tcb.Milan.snp: given twice" },
	{ "{\"min_tcb\":{\"Milan\":{\"bootloader\":1,\"tee\":1,\"snp\":1,\"microcode\":1},"
	  "\"milan\":{\"bootloader\":1,\"tee\":1,\"snp\":1,\"microcode\":1}}}",
	  "member min_tcb.milan: Milan is given twice" },
	{ "{\"chip_ids\":[\"00000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000\"]}",
	  "member chip_ids[0]: all zero" },
	{ "{\"id_key_digests\":[\"111111111111111111111111111111111111111111111111111111111111111111111111"
	  "111111111111111111111111\",\"11111111111111111111111111111111111111111111111111111111111111111111"
	  "1111111111111111111111111111\"]}", "member id_key_digests[1]: repeats entry 0" },
	{ "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}}}}}", "too deep" },
	{ "{\"x\\u0000\":1}", "escapes in member names" },
	{ "{\"measurements\":[\"\\u0000\"]}", "member measurements[0]: contains a NUL" },
	{ "{\"cxl\":\"\xff\"}", "not JSON" },
};

TEST(policy_parse_refusals)
{
	for (size_t i = 0; i < sizeof(bad_policies) / sizeof(bad_policies[0]); i++) {
		struct policy p;
		struct snp_err err = { 0 };
		const char *json = bad_policies[i].json;

		CHECK(policy_parse(&p, json, strlen(json), "bad.json", &err) == -EINVAL);
		if (!CHECK(!strncmp(err.msg, "bad.json: ", 10) &&
			   strstr(err.msg, bad_policies[i].says)))
			fprintf(stderr, "      %s\n      -> %s\n", json, err.msg);
		/* Left empty: freeing again is harmless. */
		CHECK(p.measurements == NULL && p.n_measurements == 0);
		policy_free(&p);
	}
}

TEST(policy_parse_refuses_long_lists_and_nul_bytes)
{
	char json[16384], *w = json;
	struct policy p;
	struct snp_err err = { 0 };

	w += sprintf(w, "{\"host_data\":[");
	for (int i = 0; i <= POLICY_LIST_MAX; i++)
		w += sprintf(w, "%s\"%064x\"", i ? "," : "", i + 1);
	sprintf(w, "]}");
	CHECK(policy_parse(&p, json, strlen(json), "long", &err) == -EINVAL);
	CHECK_STR(err.msg, "long: member host_data: 65 entries; at most 64");
	/* Exactly the maximum is fine. */
	*strrchr(json, ',') = '\0';
	strcat(json, "]}");
	CHECK(policy_parse(&p, json, strlen(json), "long", &err) == 0);
	CHECK(p.n_host_data == POLICY_LIST_MAX && p.host_data[63][31] == 64);
	policy_free(&p);
	CHECK(policy_parse(&p, "{}\0{}", 5, "nul", &err) == -EINVAL);
	CHECK(strstr(err.msg, "NUL byte") != NULL);
}

TEST(policy_parse_defaults_are_strict)
{
	struct policy p;
	struct snp_err err = { 0 };

	REQUIRE(policy_parse(&p, " {} \n", 5, "empty", &err) == 0);
	CHECK(p.vmpls == 1U << 0);
	CHECK(p.report_versions == (1U << 2 | 1U << 3 | 1U << 5));
	CHECK(p.products == (1U << SNP_PRODUCT_MILAN | 1U << SNP_PRODUCT_GENOA |
			     1U << SNP_PRODUCT_TURIN));
	CHECK(!p.allow_debug && !p.allow_migrate_ma && !p.allow_vlek);
	CHECK(!p.allow_any_measurement && !p.allow_any_tcb && !p.has_min_abi);
	CHECK(p.smt == POLICY_ALLOW && p.page_swap_disable == POLICY_ALLOW);
	policy_free(&p);
}

/* ---- The canonical form ----------------------------------------------- */

TEST(policy_round_trip_is_exact_and_stable)
{
	struct policy p, q;
	struct snp_err err = { 0 };
	char *json1 = NULL, *json2 = NULL;
	size_t len1, len2;

	REQUIRE(parse_base(&p));
	REQUIRE(policy_to_json(&p, &json1, &len1) == 0);
	CHECK(len1 == strlen(json1) && json1[len1 - 1] == '\n');
	if (!CHECK(policy_parse(&q, json1, len1, "canonical", &err) == 0))
		fprintf(stderr, "      %s\n", err.msg);
	CHECK(policy_equal(&p, &q));
	REQUIRE(policy_to_json(&q, &json2, &len2) == 0);
	CHECK(len1 == len2 && !strcmp(json1, json2));
	/* Lowercase hex out for uppercase in; names canonical. */
	CHECK(strstr(json1, "aaaaaaaa") != NULL && strstr(json1, "AAAA") == NULL);
	CHECK(strstr(json1, "\"Turin\"") != NULL && strstr(json1, "turin") == NULL);
	/* A changed field is seen by policy_equal. */
	q.min_tcb[SNP_PRODUCT_GENOA].snp++;
	CHECK(!policy_equal(&p, &q));
	free(json1);
	free(json2);
	policy_free(&p);
	policy_free(&q);
}

/* The member names of a canonical text, at the first nesting level. */
static size_t top_level_names(const char *json, char names[][32], size_t max)
{
	size_t n = 0;
	int depth = 0;

	for (const char *c = json; *c; c++) {
		if (*c == '{' || *c == '[')
			depth++;
		else if (*c == '}' || *c == ']')
			depth--;
		else if (*c == '"' && depth == 1 && n < max) {
			const char *end = strchr(c + 1, '"');

			if (end[1] == ':') {
				snprintf(names[n++], 32, "%.*s", (int)(end - c - 1), c + 1);
			}
			c = end;
		} else if (*c == '"') {
			c = strchr(c + 1, '"');
		}
	}
	return n;
}

TEST(policy_to_json_writes_every_default_sorted)
{
	static const char *const expect[] = {
		"\"min_abi\": null", "\"family_id\": null", "\"image_id\": null",
		"\"vmpls\": [\n    0\n  ]", "\"measurements\": [\n  ]", "\"min_tcb\": {\n  }",
		"\"allow_vlek\": false", "\"smt\": \"allow\"", "\"version\": 1",
		"\"min_guest_svn\": 0", "\"products\": [\n    \"Milan\",\n    \"Genoa\",\n    \"Turin\"\n  ]",
	};
	struct policy p;
	char *json = NULL, names[40][32];
	size_t len, n;

	policy_init(&p);
	REQUIRE(policy_to_json(&p, &json, &len) == 0);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (!CHECK(strstr(json, expect[i]) != NULL))
			fprintf(stderr, "      missing %s in\n%s", expect[i], json);
	n = top_level_names(json, names, 40);
	CHECK(n == 28);
	for (size_t i = 1; i < n; i++)
		if (!CHECK(strcmp(names[i - 1], names[i]) < 0))
			fprintf(stderr, "      %s before %s\n", names[i - 1], names[i]);
	free(json);
}

/* ---- Validation ------------------------------------------------------- */

#define TCB_ALL "\"min_tcb\":{" \
	"\"Milan\":{\"bootloader\":1,\"tee\":0,\"snp\":1,\"microcode\":1}," \
	"\"Genoa\":{\"bootloader\":1,\"tee\":0,\"snp\":1,\"microcode\":1}," \
	"\"Turin\":{\"fmc\":0,\"bootloader\":1,\"tee\":0,\"snp\":1,\"microcode\":1}}"
#define MEAS "\"measurements\":[\"" \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\"]"

static const struct {
	const char *json, *says;
} invalid_policies[] = {
	{ "{" TCB_ALL "}", "accepts no measurement: add the guest's launch measurement" },
	{ "{" TCB_ALL "," MEAS ",\"allow_any_measurement\":true}",
	  "\"allow_any_measurement\" is true but \"measurements\" lists 1" },
	{ "{" MEAS "}", "accepts Milan but sets no minimum TCB for it: add \"min_tcb\"" },
	{ "{" MEAS ",\"products\":[\"Turin\"],\"min_tcb\":{\"Turin\":{\"fmc\":0,\"bootloader\":1,"
	  "\"tee\":0,\"snp\":1,\"microcode\":1},\"Genoa\":{\"bootloader\":1,\"tee\":0,\"snp\":1,"
	  "\"microcode\":1}}}", "min_tcb sets a minimum for Genoa, which \"products\" does not accept" },
	{ "{" MEAS "," TCB_ALL ",\"platform_require\":[\"tsme\",\"smt\"],"
	  "\"platform_forbid\":[\"ecc\",\"smt\"]}", "both name smt" },
};

TEST(policy_validate_refusals)
{
	struct policy p;
	struct snp_err err = { 0 };
	const char *ok[] = {
		"{" MEAS "," TCB_ALL "}",
		"{\"allow_any_measurement\":true,\"allow_any_tcb\":true}",
		"{" MEAS ",\"products\":[\"Genoa\"],\"min_tcb\":{\"Genoa\":{\"bootloader\":1,"
		"\"tee\":0,\"snp\":1,\"microcode\":1}}}",
	};

	for (size_t i = 0; i < sizeof(invalid_policies) / sizeof(invalid_policies[0]); i++) {
		const char *json = invalid_policies[i].json;

		REQUIRE(policy_parse(&p, json, strlen(json), "v", &err) == 0);
		CHECK(policy_validate(&p, &err) == -EINVAL);
		if (!CHECK(strstr(err.msg, invalid_policies[i].says) != NULL))
			fprintf(stderr, "      %s\n      -> %s\n", json, err.msg);
		policy_free(&p);
	}
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		REQUIRE(policy_parse(&p, ok[i], strlen(ok[i]), "v", &err) == 0);
		if (!CHECK(policy_validate(&p, &err) == 0))
			fprintf(stderr, "      %s\n      -> %s\n", ok[i], err.msg);
		policy_free(&p);
	}
}

TEST(policy_name_valid_rules)
{
	char long_name[POLICY_NAME_MAX + 1];

	CHECK(policy_name_valid("default"));
	CHECK(policy_name_valid("prod-v1.2_x"));
	CHECK(!policy_name_valid(""));
	CHECK(!policy_name_valid(".hidden"));
	CHECK(!policy_name_valid("a/b"));
	CHECK(!policy_name_valid("a b"));
	CHECK(!policy_name_valid(".."));
	memset(long_name, 'a', POLICY_NAME_MAX);
	long_name[POLICY_NAME_MAX] = '\0';
	CHECK(!policy_name_valid(long_name));
	long_name[POLICY_NAME_MAX - 1] = '\0';
	CHECK(policy_name_valid(long_name));
}
