// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report verifier on real AMD-signed data: every positive set
 * verifies, every negative set fails for the reason its PROVENANCE gives,
 * and mutants of real sets fail with a named check (never crash: these
 * tests also run under ASan and UBSan).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snp/amdcert.h"
#include "snp/verify.h"
#include "tests/harness.h"
#include "tests/unit/snp_sets.h"

static const char *const real_sets[] = {
	"constellation-aws-milan-vlek-v3", "constellation-azure-milan-v2",
	"gosevguest-milan-v2", "oak-cb-milan-v3", "oak-genoa-oc-v5",
	"oak-milan-oc-release-v3", "oak-milan-oc-staging-v3", "oak-milan-rk-release-v3",
	"oak-milan-rk-staging-v3", "oak-turin-oc-v5", "trustee-aws-milan-vlek-v3",
	"trustee-azure-genoa-v3", "trustee-azure-hcl-milan-v2", "trustee-azure-milan-v3-ev0",
	"trustee-azure-milan-v3-ev1", "trustee-azure-milan-v3-ev2", "trustee-e2e-genoa-v3",
	"trustee-milan-v2", "veraison-tsm-genoa-v3", "virtee-milan-v2",
};

#define N_REAL_SETS (sizeof(real_sets) / sizeof(real_sets[0]))

/* Verify and say what failed when it was not what the test wanted. */
static enum snp_check run(const struct snp_verify_input *in, struct snp_verify_result *res,
			  const char *what)
{
	int ret = snp_verify(in, res);

	if ((ret == 0) != (res->failed == SNP_CHECK_NONE))
		fprintf(stderr, "    %s: returned %d but failed=%s\n", what, ret,
			snp_check_name(res->failed));
	return ret ? res->failed : SNP_CHECK_NONE;
}

static int expect(const struct snp_verify_input *in, enum snp_check want, const char *what)
{
	struct snp_verify_result res;
	enum snp_check got = run(in, &res, what);

	if (got != want)
		fprintf(stderr, "    %s: wanted %s, got %s: %s\n", what, snp_check_name(want),
			snp_check_name(got), res.msg);
	return got == want;
}

TEST(verify_all_real_sets_at_2025_09_01)
{
	for (size_t i = 0; i < N_REAL_SETS; i++) {
		struct snp_set s;
		struct snp_verify_input in;
		struct snp_verify_result res;

		set_load(real_sets[i], &s);
		in = set_input(&s, SET_TIME_2025_09_01);
		CHECK(expect(&in, SNP_CHECK_NONE, real_sets[i]));
		/* Verified means every check ran and passed (or did not apply). */
		snp_verify(&in, &res);
		for (int c = SNP_CHECK_REPORT_PARSE; c <= SNP_CHECK_REPORT_SIGNATURE; c++)
			CHECK(res.status[c] == SNP_STATUS_PASS ||
			      (c == SNP_CHECK_CHIP_ID && res.status[c] == SNP_STATUS_SKIPPED &&
			       res.vek_type == SNP_VEK_VLEK));
		set_free(&s);
	}
}

TEST(verify_aws_vleks_expired_at_2026_11_22)
{
	static const char *const vleks[] = {
		"constellation-aws-milan-vlek-v3", "trustee-aws-milan-vlek-v3",
	};

	for (size_t i = 0; i < 2; i++) {
		struct snp_set s;
		struct snp_verify_input in;
		struct snp_verify_result res;

		set_load(vleks[i], &s);
		in = set_input(&s, SET_TIME_2026_11_22);
		CHECK(run(&in, &res, vleks[i]) == SNP_CHECK_VALIDITY);
		CHECK(strstr(res.msg, "SEV-VLEK") && strstr(res.msg, "2025-12-10T22:") &&
		      strstr(res.msg, "expired"));
		set_free(&s);
	}
}

/* ---- decoded facts against EXPECTED-verify-output.txt ---- */

/* The text of "prefix..." in set's block of the golden file, or false. */
static bool golden_line(const char *golden, const char *set, const char *prefix, char *out,
			size_t size)
{
	char head[128];
	const char *block, *end, *line;
	size_t n;

	snprintf(head, sizeof(head), "=== %s\n", set);
	block = strstr(golden, head);
	if (!block)
		return false;
	end = strstr(block + 1, "\n=== ");
	if (!end)
		end = block + strlen(block);
	for (line = block; line && line < end; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		line += strlen(prefix);
		n = strcspn(line, "\n");
		if (n >= size)
			return false;
		memcpy(out, line, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

static void check_golden(const char *golden, const char *set,
			 const struct snp_verify_result *res, const struct snp_set *s)
{
	char line[512], a[80], b[80], hex[2 * SNP_CHIP_ID_SIZE + 1], when[40];
	unsigned long long tcb;
	struct tm tm;
	time_t t = (time_t)res->vek.not_after;

	REQUIRE(golden_line(golden, set, "product: ", line, sizeof(line)));
	REQUIRE(sscanf(line, "%79s (VCEK productName ext: %79[^;]", a, b) == 2);
	CHECK_STR(snp_product_name(res->product), a);
	CHECK_STR(res->ext.product_name, b);

	REQUIRE(golden_line(golden, set, "ARK: ", line, sizeof(line)));
	REQUIRE(sscanf(line, "CN=%79s sha256(der)=%79s", a, b) == 2);
	CHECK_STR(res->ark.cn, a);
	CHECK_STR(snp_hex(hex, res->ark.sha256, SNP_SHA256_SIZE), b);

	REQUIRE(golden_line(golden, set, "ASK: ", line, sizeof(line)));
	REQUIRE(sscanf(line, "CN=%79s issuer=%79s", a, b) == 2);
	CHECK_STR(res->ask.cn, a);
	CHECK_STR(res->ask.issuer_cn, b);

	REQUIRE(golden_line(golden, set, "VEK: ", line, sizeof(line)));
	REQUIRE(sscanf(line, "CN=%79s issuer=%79s serial=0 ", a, b) == 2);
	CHECK_STR(res->vek.cn, a);
	CHECK_STR(res->vek.issuer_cn, b);
	CHECK(res->vek.serial_len == 1 && res->vek.serial[0] == 0);
	REQUIRE(gmtime_r(&t, &tm));
	strftime(when, sizeof(when), "notAfter=%Y-%m-%dT%H:%M:%S+00:00", &tm);
	CHECK(strstr(line, when) != NULL);

	REQUIRE(golden_line(golden, set, "reported_tcb:  ", line, sizeof(line)));
	REQUIRE(sscanf(line, "0x%llx", &tcb) == 1);
	CHECK(res->vek_tcb == tcb);

	if (res->vek_type == SNP_VEK_VLEK) {
		REQUIRE(golden_line(golden, set, "  VLEK csp_id: ", line, sizeof(line)));
		CHECK_STR(res->ext.csp_id, line);
		CHECK(res->ext.hwid_encoding == SNP_HWID_ABSENT);
		return;
	}
	REQUIRE(golden_line(golden, set, "  VCEK hwID extension encoding: ", line, sizeof(line)));
	snprintf(a, sizeof(a), "raw, not DER-wrapped (%zu bytes)", res->ext.hwid_len);
	CHECK(res->ext.hwid_encoding == SNP_HWID_RAW);
	CHECK_STR(line, a);
	REQUIRE(golden_line(golden, set, "chip_id[0:8]: ", line, sizeof(line)));
	CHECK_STR(snp_hex(hex, res->ext.hwid, 8), line);
	CHECK_MEM(res->ext.hwid, s->report + SNP_OFF_CHIP_ID, res->ext.hwid_len);
}

TEST(verify_facts_match_expected_output)
{
	size_t len;
	char *golden = (char *)test_read_shared(SNP_REAL "/EXPECTED-verify-output.txt",
						 1 << 20, &len);

	golden[len] = '\0';	/* test_read_file leaves room for it */
	for (size_t i = 0; i < N_REAL_SETS; i++) {
		struct snp_set s;
		struct snp_verify_input in;
		struct snp_verify_result res;

		set_load(real_sets[i], &s);
		in = set_input(&s, SET_TIME_2025_09_01);
		CHECK(run(&in, &res, real_sets[i]) == SNP_CHECK_NONE);
		check_golden(golden, real_sets[i], &res, &s);
		set_free(&s);
	}
	free(golden);
}

TEST(verify_parsed_report_is_checked_from_its_raw_bytes)
{
	struct snp_verify_input in;
	struct snp_verify_result res;
	struct snp_report report;
	struct snp_err err = { 0 };
	struct snp_set s;

	set_load("oak-milan-oc-release-v3", &s);
	REQUIRE(snp_report_parse(s.report, s.report_len, &report, &err) == 0);
	in = set_input(&s, SET_TIME_2025_09_01);
	in.report = NULL;
	in.parsed = &report;
	CHECK(run(&in, &res, "parsed") == SNP_CHECK_NONE);
	/* Decoded fields that disagree with the signed bytes are not believed. */
	report.reported_tcb ^= 1;
	report.chip_id[0] ^= 1;
	CHECK(run(&in, &res, "edited fields") == SNP_CHECK_NONE);
	report.raw[SNP_OFF_MEASUREMENT] ^= 1;
	CHECK(run(&in, &res, "edited raw") == SNP_CHECK_REPORT_SIGNATURE);
	set_free(&s);
}

/* ---- the negative sets ---- */

TEST(verify_negative_constellation_badsig_fails_report_signature)
{
	struct snp_set s;
	struct snp_verify_input in;
	struct snp_verify_result res;

	set_load("_negative/constellation-milan-vlek-v2-badsig", &s);
	/* While the VLEK was valid (it expired 2024-07-19), only the signature fails. */
	in = set_input(&s, (time_t)snp_civil_to_epoch(2024, 1, 1, 0, 0, 0));
	CHECK(run(&in, &res, s.name) == SNP_CHECK_REPORT_SIGNATURE);
	CHECK(res.status[SNP_CHECK_VEK_SIGNATURE] == SNP_STATUS_PASS);
	CHECK(res.status[SNP_CHECK_TCB] == SNP_STATUS_PASS);
	/* And later the VLEK has expired as well. */
	in.now = SET_TIME_2025_09_01;
	CHECK(run(&in, &res, s.name) == SNP_CHECK_VALIDITY);
	CHECK(strstr(res.msg, "2024-07-19") != NULL);
	set_free(&s);
}

TEST(verify_negative_trustee_bad_vceks_fail_ask_signature)
{
	static const char *const files[] = { "vcek-invalid-legacy.der", "vcek-invalid-new.der" };
	static const enum snp_hwid_encoding enc[] = { SNP_HWID_RAW, SNP_HWID_OCTET_STRING };
	struct snp_set s;

	set_load("_negative/trustee-milan-v2-bad-vcek", &s);
	REQUIRE(s.report && s.ark && s.ask && !s.vek);
	for (size_t i = 0; i < 2; i++) {
		char rel[256];
		struct snp_verify_input in;
		struct snp_verify_result res;

		snprintf(rel, sizeof(rel), SNP_REAL "/_negative/trustee-milan-v2-bad-vcek/%s",
			 files[i]);
		s.vek = set_read_cert(rel, &s.vek_len);
		in = set_input(&s, SET_TIME_2025_09_01);
		/* Both parse, hwID in either encoding; the ASK's signature fails. */
		CHECK(run(&in, &res, files[i]) == SNP_CHECK_VEK_SIGNATURE);
		CHECK(res.status[SNP_CHECK_VEK_PARSE] == SNP_STATUS_PASS);
		CHECK(res.ext.hwid_encoding == enc[i] && res.ext.hwid_len == 64);
		CHECK(strstr(res.msg, "SEV-Milan") != NULL);
		free(s.vek);
		s.vek = NULL;
	}
	set_free(&s);
}

TEST(verify_negative_azcvm_wrong_vcek_fails_chip_id_and_signature)
{
	struct snp_set s;
	struct snp_verify_input in;
	struct snp_verify_result res;
	struct snp_amd_cert vcek;
	struct snp_report report;
	struct snp_err err = { 0 };
	uint8_t point[SNP_P384_POINT_SIZE];

	set_load("_negative/azcvm-hcl-milan-v2-wrong-vcek", &s);
	in = set_input(&s, SET_TIME_2025_09_01);
	CHECK(run(&in, &res, s.name) == SNP_CHECK_CHIP_ID);
	CHECK(strstr(res.msg, "da8a5695") && strstr(res.msg, "3a5d5b1d"));
	/* The signature, checked on its own, fails with that VCEK too. */
	snp_amd_cert_init(&vcek);
	REQUIRE(snp_amd_cert_parse(&vcek, s.vek, s.vek_len, "VCEK", &err) == 0);
	REQUIRE(snp_amd_cert_p384_point(&vcek, point, &err) == 0);
	REQUIRE(snp_report_parse(s.report, s.report_len, &report, &err) == 0);
	CHECK(snp_verify_report_signature(&report, point, &err) == -EKEYREJECTED);
	snp_amd_cert_free(&vcek);
	set_free(&s);
}

TEST(verify_chain_only_turin_vcek)
{
	struct snp_verify_input in = { .now = SET_TIME_2025_09_01 };
	struct snp_verify_result res;
	struct snp_set turin;
	mbedtls_x509_crt chain;
	size_t len;
	uint8_t *pem = test_read_shared(SNP_REAL "/_chain-only/virtee-turin-vcek/cert_chain.pem",
					SET_FILE_MAX, &len);

	/* cert_chain.pem is the KDS bundle: ASK, then ARK. */
	pem[len] = '\0';
	mbedtls_x509_crt_init(&chain);
	REQUIRE(mbedtls_x509_crt_parse(&chain, pem, len + 1) == 0 && chain.next);
	in.ask = chain.raw.p;
	in.ask_len = chain.raw.len;
	in.ark = chain.next->raw.p;
	in.ark_len = chain.next->raw.len;
	in.vek = set_read_cert(SNP_REAL "/_chain-only/virtee-turin-vcek/vcek.der", &in.vek_len);
	CHECK(snp_verify_chain(&in, &res) == 0);
	CHECK(res.product == SNP_PRODUCT_TURIN && res.vek_type == SNP_VEK_VCEK);
	CHECK(res.status[SNP_CHECK_VALIDITY] == SNP_STATUS_PASS);
	CHECK(res.status[SNP_CHECK_REPORT_SIGNATURE] == SNP_STATUS_NOT_RUN);
	CHECK(res.ext.hwid_encoding == SNP_HWID_RAW && res.ext.hwid_len == 8);
	CHECK(res.ext.spl[SNP_EXT_FMC_SPL] == 0 && res.ext.spl[SNP_EXT_BL_SPL] == 0 &&
	      res.ext.spl[SNP_EXT_TEE_SPL] == 0 && res.ext.spl[SNP_EXT_SNP_SPL] == 0 &&
	      res.ext.spl[SNP_EXT_UCODE_SPL] == 9);
	CHECK(snp_vek_ext_has(&res.ext, SNP_EXT_FMC_SPL));
	CHECK(res.vek_tcb == 0x0900000000000000ULL);

	/* A Turin VCEK and chain against a Milan report. */
	set_load("oak-cb-milan-v3", &turin);
	in.report = turin.report;
	in.report_len = turin.report_len;
	CHECK(expect(&in, SNP_CHECK_PRODUCT, "Turin VCEK, Milan v3 report"));
	set_free(&turin);
	/* A v2 report has no CPUID: the chain passes, the TCB cannot match. */
	set_load("gosevguest-milan-v2", &turin);
	in.report = turin.report;
	in.report_len = turin.report_len;
	CHECK(expect(&in, SNP_CHECK_TCB, "Turin VCEK, Milan v2 report"));
	in.product = SNP_PRODUCT_MILAN;
	CHECK(expect(&in, SNP_CHECK_PRODUCT, "Turin VCEK, Milan hint"));
	set_free(&turin);

	free((void *)in.vek);
	mbedtls_x509_crt_free(&chain);
	free(pem);
}

/* ---- mutants of real reports ---- */

struct field {
	size_t off, len;
	const char *name;
};

/* Every field of the signed region 0x000-0x29F, reserved ranges included. */
static const struct field signed_fields[] = {
	{ 0x000, 4, "VERSION" }, { 0x004, 4, "GUEST_SVN" }, { 0x008, 8, "POLICY" },
	{ 0x010, 16, "FAMILY_ID" }, { 0x020, 16, "IMAGE_ID" }, { 0x030, 4, "VMPL" },
	{ 0x034, 4, "SIGNATURE_ALGO" }, { 0x038, 8, "CURRENT_TCB" },
	{ 0x040, 8, "PLATFORM_INFO" }, { 0x048, 4, "KEY_INFO" }, { 0x04c, 4, "reserved 0x4c" },
	{ 0x050, 64, "REPORT_DATA" }, { 0x090, 48, "MEASUREMENT" }, { 0x0c0, 32, "HOST_DATA" },
	{ 0x0e0, 48, "ID_KEY_DIGEST" }, { 0x110, 48, "AUTHOR_KEY_DIGEST" },
	{ 0x140, 32, "REPORT_ID" }, { 0x160, 32, "REPORT_ID_MA" }, { 0x180, 8, "REPORTED_TCB" },
	{ 0x188, 3, "CPUID" }, { 0x18b, 21, "reserved 0x18b" }, { 0x1a0, 64, "CHIP_ID" },
	{ 0x1e0, 8, "COMMITTED_TCB" }, { 0x1e8, 3, "CURRENT_FW" }, { 0x1eb, 1, "reserved 0x1eb" },
	{ 0x1ec, 3, "COMMITTED_FW" }, { 0x1ef, 1, "reserved 0x1ef" }, { 0x1f0, 8, "LAUNCH_TCB" },
	{ 0x1f8, 8, "LAUNCH_MIT_VECTOR" }, { 0x200, 8, "CURRENT_MIT_VECTOR" },
	{ 0x208, 0x98, "reserved 0x208" },
};

/* One set of each kind: Milan v2, Milan v3 VLEK, Genoa v5, Turin v5. */
static const char *const mutant_sets[] = {
	"gosevguest-milan-v2", "trustee-aws-milan-vlek-v3", "oak-genoa-oc-v5", "oak-turin-oc-v5",
};

/* A report check, not a chain check: the chain of a mutant is unchanged. */
static bool is_report_check(enum snp_check c)
{
	return c == SNP_CHECK_REPORT_PARSE || c == SNP_CHECK_PRODUCT ||
	       c == SNP_CHECK_SIGNING_KEY || c == SNP_CHECK_TCB || c == SNP_CHECK_CHIP_ID ||
	       c == SNP_CHECK_REPORT_SIGNATURE;
}

/* Verify buf as the report of s; the cache keeps the chain's RSA work out of the loop. */
static enum snp_check verify_mutant(const struct snp_set *s, const uint8_t *buf, size_t len,
				    struct snp_verify_cache *cache, struct snp_verify_result *res)
{
	struct snp_verify_input in = set_input(s, SET_TIME_2025_09_01);

	in.report = buf;
	in.report_len = len;
	in.cache = cache;
	return run(&in, res, s->name);
}

static bool mutant_fails(const struct snp_set *s, const uint8_t *buf, size_t len,
			 struct snp_verify_cache *cache, enum snp_check want, const char *what)
{
	struct snp_verify_result res;
	enum snp_check got = verify_mutant(s, buf, len, cache, &res);
	bool ok = want == SNP_CHECK_NONE ? is_report_check(got) : got == want;

	if (!ok)
		fprintf(stderr, "    %s, %s: got %s (%s)\n", s->name, what, snp_check_name(got),
			res.msg);
	return ok;
}

static void flip_every_field(const struct snp_set *s, struct snp_verify_cache *cache)
{
	uint8_t buf[SNP_REPORT_SIZE];

	for (size_t f = 0; f < sizeof(signed_fields) / sizeof(signed_fields[0]); f++) {
		const struct field *fd = &signed_fields[f];
		/* The first byte's low bit, a middle bit, the last byte's high bit. */
		const size_t at[3] = { fd->off, fd->off + fd->len / 2, fd->off + fd->len - 1 };
		const int bit[3] = { 0, 3, 7 };

		for (int k = 0; k < 3; k++) {
			char what[96];

			memcpy(buf, s->report, SNP_REPORT_SIZE);
			buf[at[k]] ^= (uint8_t)(1u << bit[k]);
			snprintf(what, sizeof(what), "%s byte 0x%03zx bit %d", fd->name, at[k],
				 bit[k]);
			CHECK(mutant_fails(s, buf, sizeof(buf), cache, SNP_CHECK_NONE, what));
		}
	}
}

TEST(verify_mutant_bit_flip_in_every_signed_field_fails)
{
	struct snp_verify_cache *cache = snp_verify_cache_new(4);

	REQUIRE(cache);
	for (size_t i = 0; i < sizeof(mutant_sets) / sizeof(mutant_sets[0]); i++) {
		struct snp_set s;

		set_load(mutant_sets[i], &s);
		REQUIRE(s.report_len == SNP_REPORT_SIZE);
		{
			struct snp_verify_result res;

			CHECK(verify_mutant(&s, s.report, s.report_len, cache, &res) ==
			      SNP_CHECK_NONE);
		}
		flip_every_field(&s, cache);
		set_free(&s);
	}
	snp_verify_cache_free(cache);
}

/* Every byte of one report's signed region, a different bit each time. */
TEST(verify_mutant_bit_flip_in_every_signed_byte_fails)
{
	struct snp_verify_cache *cache = snp_verify_cache_new(1);
	uint8_t buf[SNP_REPORT_SIZE];
	struct snp_set s;

	REQUIRE(cache);
	set_load("oak-turin-oc-v5", &s);
	for (size_t at = 0; at < SNP_REPORT_SIGNED_SIZE; at++) {
		char what[32];

		memcpy(buf, s.report, sizeof(buf));
		buf[at] ^= (uint8_t)(1u << (at % 8));
		snprintf(what, sizeof(what), "byte 0x%03zx", at);
		CHECK(mutant_fails(&s, buf, sizeof(buf), cache, SNP_CHECK_NONE, what));
	}
	set_free(&s);
	snp_verify_cache_free(cache);
}

/* Must-be-zero ranges [start, end) for a report version. */
static size_t zero_ranges(uint32_t version, struct field *r)
{
	size_t n = 0;

	r[n++] = (struct field){ 0x04c, 4, "after KEY_INFO" };
	r[n++] = version >= 3 ? (struct field){ 0x18b, 0x15, "after CPUID" } :
				(struct field){ 0x188, 0x18, "after REPORTED_TCB (v2)" };
	r[n++] = (struct field){ 0x1eb, 1, "after CURRENT_MAJOR" };
	r[n++] = (struct field){ 0x1ef, 1, "after COMMITTED_MAJOR" };
	r[n++] = version >= 5 ? (struct field){ 0x208, 0x98, "after CURRENT_MIT_VECTOR" } :
				(struct field){ 0x1f8, 0xa8, "after LAUNCH_TCB" };
	r[n++] = (struct field){ 0x2d0, 0x18, "R above 48 bytes" };
	r[n++] = (struct field){ 0x318, 0x18, "S above 48 bytes" };
	r[n++] = (struct field){ 0x330, 0x170, "after the signature" };
	return n;
}

TEST(verify_mutant_must_be_zero_ranges_set_fail_parse)
{
	for (size_t i = 0; i < sizeof(mutant_sets) / sizeof(mutant_sets[0]); i++) {
		struct field r[8];
		struct snp_set s;
		uint8_t buf[SNP_REPORT_SIZE];
		size_t n;

		set_load(mutant_sets[i], &s);
		n = zero_ranges(s.report[0], r);
		for (size_t k = 0; k < n; k++) {
			for (size_t at = r[k].off; at < r[k].off + r[k].len; at += r[k].len - 1) {
				memcpy(buf, s.report, sizeof(buf));
				CHECK(buf[at] == 0);
				buf[at] = 0x01;
				CHECK(mutant_fails(&s, buf, sizeof(buf), NULL,
						   SNP_CHECK_REPORT_PARSE, r[k].name));
				if (r[k].len == 1)
					break;
			}
		}
		set_free(&s);
	}
}

/* The order n of P-384, big-endian. */
static const char p384_n_hex[] =
	"ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

/* Write a big-endian 48-byte value into R or S (little-endian in the report). */
static void put_scalar(uint8_t *report, size_t off, const uint8_t be[48])
{
	for (size_t i = 0; i < 48; i++)
		report[off + i] = be[47 - i];
}

TEST(verify_mutant_r_and_s_out_of_range_or_reversed_fail)
{
	struct snp_verify_cache *cache = snp_verify_cache_new(1);
	const size_t offs[2] = { SNP_OFF_SIG_R, SNP_OFF_SIG_S };
	uint8_t n[48], v[48], buf[SNP_REPORT_SIZE];
	struct snp_verify_result res;
	struct snp_set s;

	REQUIRE(cache);
	test_unhex(p384_n_hex, n, sizeof(n));
	set_load("oak-genoa-oc-v5", &s);
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "S" : "R";

		/* 0, n, n+1 and 2^384-1 are refused before any curve arithmetic. */
		memset(v, 0, sizeof(v));
		memcpy(buf, s.report, sizeof(buf));
		put_scalar(buf, offs[k], v);
		CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) ==
		      SNP_CHECK_REPORT_SIGNATURE);
		CHECK(strstr(res.msg, name) && strstr(res.msg, "must be from 1"));
		for (int add = 0; add < 2; add++) {
			memcpy(v, n, sizeof(v));
			v[47] += (uint8_t)add;
			put_scalar(buf, offs[k], v);
			CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) ==
			      SNP_CHECK_REPORT_SIGNATURE);
			CHECK(strstr(res.msg, "must be from 1") != NULL);
		}
		memset(v, 0xff, sizeof(v));
		put_scalar(buf, offs[k], v);
		CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) ==
		      SNP_CHECK_REPORT_SIGNATURE);
		/* Byte-reversed: the same bytes read big-endian. */
		memcpy(buf, s.report, sizeof(buf));
		for (size_t i = 0; i < 48; i++)
			buf[offs[k] + i] = s.report[offs[k] + 47 - i];
		CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) ==
		      SNP_CHECK_REPORT_SIGNATURE);
		/* r and s swapped. */
		memcpy(buf, s.report, sizeof(buf));
		memcpy(buf + SNP_OFF_SIG_R, s.report + SNP_OFF_SIG_S, 48);
		memcpy(buf + SNP_OFF_SIG_S, s.report + SNP_OFF_SIG_R, 48);
		CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) ==
		      SNP_CHECK_REPORT_SIGNATURE);
	}
	set_free(&s);
	snp_verify_cache_free(cache);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

TEST(verify_mutant_versions_algorithms_and_lengths_fail_parse)
{
	static const uint32_t versions[] = { 0, 1, 4, 6, 0xffffffff };
	static const uint32_t algos[] = { 0, 2, 0xffffffff };
	static const size_t lens[] = { 0, 1, SNP_REPORT_SIGNED_SIZE, SNP_REPORT_SIZE - 1,
				       SNP_REPORT_SIZE + 1, 0x1000 };
	uint8_t *buf = calloc(1, 0x1000);
	struct snp_set s;

	REQUIRE(buf);
	set_load("oak-milan-oc-release-v3", &s);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		memcpy(buf, s.report, SNP_REPORT_SIZE);
		put_le32(buf + SNP_OFF_VERSION, versions[i]);
		CHECK(mutant_fails(&s, buf, SNP_REPORT_SIZE, NULL, SNP_CHECK_REPORT_PARSE,
				   "VERSION"));
	}
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		memcpy(buf, s.report, SNP_REPORT_SIZE);
		put_le32(buf + SNP_OFF_SIG_ALGO, algos[i]);
		CHECK(mutant_fails(&s, buf, SNP_REPORT_SIZE, NULL, SNP_CHECK_REPORT_PARSE,
				   "SIGNATURE_ALGO"));
	}
	memset(buf, 0, 0x1000);
	memcpy(buf, s.report, SNP_REPORT_SIZE);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		CHECK(mutant_fails(&s, buf, lens[i], NULL, SNP_CHECK_REPORT_PARSE, "length"));
	set_free(&s);
	free(buf);
}

TEST(verify_mutant_key_info_signing_key_and_mask)
{
	struct snp_verify_cache *cache = snp_verify_cache_new(1);
	uint8_t buf[SNP_REPORT_SIZE];
	struct snp_verify_result res;
	struct snp_set s;

	REQUIRE(cache);
	set_load("oak-milan-rk-release-v3", &s);
	/* SIGNING_KEY 1 (VLEK) on a VCEK-signed report: caught before the signature. */
	memcpy(buf, s.report, sizeof(buf));
	buf[SNP_OFF_KEY_INFO] = 1 << SNP_KEY_INFO_SIGNING_KEY_SHIFT;
	CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) == SNP_CHECK_SIGNING_KEY);
	CHECK(strstr(res.msg, "SEV-VLEK") != NULL);
	/* SIGNING_KEY 7: no key signed it. */
	buf[SNP_OFF_KEY_INFO] = 7 << SNP_KEY_INFO_SIGNING_KEY_SHIFT;
	CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) == SNP_CHECK_SIGNING_KEY);
	/* MASK_CHIP_KEY: the chip id check is skipped, the signature still fails. */
	buf[SNP_OFF_KEY_INFO] = SNP_KEY_INFO_MASK_CHIP_KEY;
	CHECK(verify_mutant(&s, buf, sizeof(buf), cache, &res) == SNP_CHECK_REPORT_SIGNATURE);
	CHECK(res.status[SNP_CHECK_CHIP_ID] == SNP_STATUS_SKIPPED);
	set_free(&s);
	snp_verify_cache_free(cache);
}

/* ---- mutants of real certificates ---- */

/* Flip one bit every stride bytes of *cert; each must fail among allowed. */
static void flip_cert(struct snp_set *s, uint8_t *cert, size_t len, size_t stride,
		      const enum snp_check *allowed, size_t n_allowed, const char *what)
{
	for (size_t at = 0; at < len; at += stride) {
		struct snp_verify_input in = set_input(s, SET_TIME_2025_09_01);
		struct snp_verify_result res;
		enum snp_check got;
		bool ok = false;

		cert[at] ^= 0x10;
		got = run(&in, &res, what);
		cert[at] ^= 0x10;
		for (size_t i = 0; i < n_allowed; i++)
			ok |= got == allowed[i];
		if (!ok)
			fprintf(stderr, "    %s byte %zu: got %s (%s)\n", what, at,
				snp_check_name(got), res.msg);
		CHECK(ok);
	}
}

TEST(verify_mutant_certificate_bit_flips_fail)
{
	static const enum snp_check ark[] = { SNP_CHECK_ARK_PARSE, SNP_CHECK_ARK_PIN };
	static const enum snp_check ask[] = { SNP_CHECK_ASK_PARSE, SNP_CHECK_ASK_PIN };
	static const enum snp_check vek[] = {
		SNP_CHECK_VEK_PARSE, SNP_CHECK_PRODUCT, SNP_CHECK_VEK_ISSUER,
		SNP_CHECK_VEK_KEY, SNP_CHECK_VEK_SIGNATURE,
	};
	struct snp_set s;

	set_load("trustee-azure-genoa-v3", &s);
	flip_cert(&s, s.ark, s.ark_len, 37, ark, 2, "ARK");
	flip_cert(&s, s.ask, s.ask_len, 37, ask, 2, "ASK");
	flip_cert(&s, s.vek, s.vek_len, 5, vek, 5, "VCEK");
	set_free(&s);
}

/* Replace every occurrence of from by to (same length) in buf; returns how many. */
static int replace_all(uint8_t *buf, size_t len, const char *from_hex, const char *to_hex)
{
	uint8_t from[32], to[32];
	size_t n = test_unhex(from_hex, from, sizeof(from));
	int count = 0;

	if (test_unhex(to_hex, to, sizeof(to)) != n)
		return -1;
	for (size_t i = 0; i + n <= len; i++) {
		if (!memcmp(buf + i, from, n)) {
			memcpy(buf + i, to, n);
			count++;
		}
	}
	return count;
}

TEST(verify_mutant_vek_declaring_other_pss_parameters_fails)
{
	struct snp_verify_input in;
	struct snp_verify_result res;
	struct snp_set s;
	uint8_t *orig;

	set_load("oak-milan-oc-staging-v3", &s);
	orig = malloc(s.vek_len);
	REQUIRE(orig);
	memcpy(orig, s.vek, s.vek_len);
	in = set_input(&s, SET_TIME_2025_09_01);
	/* Salt 32 instead of 48, in both AlgorithmIdentifiers (mbedTLS wants them equal). */
	CHECK(replace_all(s.vek, s.vek_len, "a203020130", "a203020120") == 2);
	CHECK(run(&in, &res, "salt 32") == SNP_CHECK_VEK_SIGNATURE);
	CHECK(strstr(res.msg, "declares a signature algorithm") != NULL);
	/* SHA-256 instead of SHA-384, for the hash and for MGF1. */
	memcpy(s.vek, orig, s.vek_len);
	CHECK(replace_all(s.vek, s.vek_len, "608648016503040202", "608648016503040201") == 4);
	CHECK(run(&in, &res, "SHA-256") == SNP_CHECK_VEK_SIGNATURE);
	CHECK(strstr(res.msg, "declares a signature algorithm") != NULL);
	free(orig);
	set_free(&s);
}

/* ---- wrong chains and anchors ---- */

static void swap_cert(uint8_t **slot, size_t *len, const char *rel)
{
	free(*slot);
	*slot = set_read_cert(rel, len);
}

TEST(verify_wrong_chains_fail)
{
	struct snp_set genoa, milan;
	struct snp_verify_input in;

	set_load("trustee-azure-genoa-v3", &genoa);
	set_load("gosevguest-milan-v2", &milan);

	/* A Genoa report with a Milan VCEK and chain: the products disagree. */
	in = set_input(&milan, SET_TIME_2025_09_01);
	in.report = genoa.report;
	CHECK(expect(&in, SNP_CHECK_PRODUCT, "Genoa report, Milan VCEK"));
	/* A Genoa report and VCEK under Milan's ARK and ASK. */
	in = set_input(&genoa, SET_TIME_2025_09_01);
	in.ark = milan.ark;
	in.ark_len = milan.ark_len;
	CHECK(expect(&in, SNP_CHECK_ARK_PIN, "Genoa report, Milan ARK"));
	in = set_input(&genoa, SET_TIME_2025_09_01);
	in.ask = milan.ask;
	in.ask_len = milan.ask_len;
	CHECK(expect(&in, SNP_CHECK_ASK_PIN, "Genoa report, Milan ASK"));
	/* The ASK where the ARK belongs. */
	in = set_input(&milan, SET_TIME_2025_09_01);
	in.ark = milan.ask;
	in.ark_len = milan.ask_len;
	CHECK(expect(&in, SNP_CHECK_ARK_PIN, "ASK as ARK"));
	/* Another Milan chip's VCEK (other TCB, other chip). */
	in = set_input(&milan, SET_TIME_2025_09_01);
	swap_cert(&milan.vek, &milan.vek_len, SNP_REAL "/oak-cb-milan-v3/vcek.der");
	in.vek = milan.vek;
	in.vek_len = milan.vek_len;
	CHECK(expect(&in, SNP_CHECK_TCB, "another Milan chip's VCEK"));
	/* A product hint that contradicts the VCEK. */
	in.product = SNP_PRODUCT_GENOA;
	CHECK(expect(&in, SNP_CHECK_PRODUCT, "Genoa hint, Milan VCEK"));
	set_free(&genoa);
	set_free(&milan);
}

TEST(verify_ask_and_asvk_are_not_interchangeable)
{
	struct snp_set vcek, vlek;
	struct snp_verify_input in;

	set_load("virtee-milan-v2", &vcek);
	set_load("trustee-aws-milan-vlek-v3", &vlek);
	/* The ASVK is pinned, signed by the ARK, but did not issue the VCEK. */
	in = set_input(&vcek, SET_TIME_2025_09_01);
	in.ask = vlek.ask;
	in.ask_len = vlek.ask_len;
	CHECK(expect(&in, SNP_CHECK_VEK_ISSUER, "VCEK under the ASVK"));
	in = set_input(&vlek, SET_TIME_2025_09_01);
	in.ask = vcek.ask;
	in.ask_len = vcek.ask_len;
	CHECK(expect(&in, SNP_CHECK_VEK_ISSUER, "VLEK under the ASK"));
	/* A VLEK-signed report with a VCEK: the signing key check names it. */
	in = set_input(&vlek, SET_TIME_2025_09_01);
	in.ask = vcek.ask;
	in.ask_len = vcek.ask_len;
	in.vek = vcek.vek;
	in.vek_len = vcek.vek_len;
	CHECK(expect(&in, SNP_CHECK_SIGNING_KEY, "VLEK report, VCEK chain"));
	set_free(&vcek);
	set_free(&vlek);
}

TEST(verify_caller_anchors)
{
	struct snp_anchors anchors;
	struct snp_verify_input in;
	struct snp_verify_result res;
	struct snp_err err = { 0 };
	struct snp_set s, genoa;

	set_load("trustee-milan-v2", &s);
	set_load("oak-genoa-oc-v5", &genoa);
	in = set_input(&s, SET_TIME_2025_09_01);
	in.anchors = &anchors;
	/* Nothing pinned: nothing trusted. */
	snp_anchors_init(&anchors, "test");
	CHECK(run(&in, &res, "no anchors") == SNP_CHECK_ARK_PIN);
	CHECK(strstr(res.msg, "test") && strstr(res.msg, "Milan"));
	/* Only the ARK pinned: any ASK it signed will do. */
	REQUIRE(snp_anchors_pin_der(&anchors, SNP_PRODUCT_MILAN, SNP_ROOT_ARK, s.ark, s.ark_len,
				    &err) == 0);
	CHECK(run(&in, &res, "ARK only") == SNP_CHECK_NONE);
	CHECK_STR(res.anchors, "test");
	/* An ASK pin that does not match. */
	REQUIRE(snp_anchors_pin_der(&anchors, SNP_PRODUCT_MILAN, SNP_ROOT_ASK, genoa.ask,
				    genoa.ask_len, &err) == 0);
	CHECK(run(&in, &res, "wrong ASK pin") == SNP_CHECK_ASK_PIN);
	/* Pinned for another product only. */
	snp_anchors_init(&anchors, "genoa-only");
	REQUIRE(snp_anchors_pin_der(&anchors, SNP_PRODUCT_GENOA, SNP_ROOT_ARK, genoa.ark,
				    genoa.ark_len, &err) == 0);
	CHECK(run(&in, &res, "Genoa anchors") == SNP_CHECK_ARK_PIN);
	CHECK(snp_anchors_pin(&anchors, SNP_PRODUCT_UNKNOWN, SNP_ROOT_ARK, s.ark, &err) ==
	      -EINVAL);
	set_free(&s);
	set_free(&genoa);
}

TEST(verify_amd_pins_are_the_amd_roots)
{
	static const char *const products[] = { NULL, "milan", "genoa", "turin" };
	static const char *const roles[] = { "ark", "ask", "asvk" };
	struct snp_anchors amd;

	snp_anchors_amd(&amd);
	CHECK_STR(amd.name, "AMD");
	CHECK(snp_anchors_get(&amd, SNP_PRODUCT_UNKNOWN, SNP_ROOT_ARK) == NULL);
	for (int p = SNP_PRODUCT_MILAN; p <= SNP_PRODUCT_TURIN; p++) {
		for (int r = 0; r < SNP_ROOT_ROLES; r++) {
			const struct snp_pin *pin = snp_anchors_get(&amd, p, r);
			struct snp_amd_cert c;
			struct snp_err err = { 0 };
			char rel[128];
			size_t len;
			uint8_t *der;

			snprintf(rel, sizeof(rel), SNP_REAL "/amd-roots/%s/%s.pem", products[p],
				 roles[r]);
			der = set_read_cert(rel, &len);
			snp_amd_cert_init(&c);
			REQUIRE(pin && snp_amd_cert_parse(&c, der, len, roles[r], &err) == 0);
			CHECK_MEM(pin->sha256, c.sha256, SNP_SHA256_SIZE);
			CHECK(snp_amd_cert_check_rsa(&c, 4096, roles[r], &err) == 0);
			snp_amd_cert_free(&c);
			free(der);
		}
	}
}

/* ---- the cache ---- */

TEST(verify_cache_skips_the_chain_and_keeps_the_facts)
{
	struct snp_verify_cache *cache = snp_verify_cache_new(8);
	struct snp_verify_result full, hit;
	struct snp_verify_input in;
	struct snp_set s;

	REQUIRE(cache);
	set_load("oak-turin-oc-v5", &s);
	in = set_input(&s, SET_TIME_2025_09_01);
	in.cache = cache;
	CHECK(run(&in, &full, "first") == SNP_CHECK_NONE && !full.cached);
	CHECK(snp_verify_cache_count(cache) == 1);
	CHECK(run(&in, &hit, "second") == SNP_CHECK_NONE && hit.cached);
	CHECK(hit.status[SNP_CHECK_ARK_SIGNATURE] == SNP_STATUS_CACHED);
	CHECK(hit.status[SNP_CHECK_VEK_SIGNATURE] == SNP_STATUS_CACHED);
	CHECK(hit.status[SNP_CHECK_VALIDITY] == SNP_STATUS_PASS);
	CHECK(hit.status[SNP_CHECK_REPORT_SIGNATURE] == SNP_STATUS_PASS);
	CHECK(hit.product == full.product && hit.vek_tcb == full.vek_tcb);
	CHECK_STR(hit.vek.cn, full.vek.cn);
	CHECK_MEM(&hit.ext, &full.ext, sizeof(hit.ext));
	/* Once known, the VEK alone will do. */
	in.ark = in.ask = NULL;
	CHECK(run(&in, &hit, "VEK only") == SNP_CHECK_NONE && hit.cached);
	/* Without the cache it would not. */
	in.cache = NULL;
	CHECK(run(&in, &hit, "no cache") == SNP_CHECK_INPUT);
	snp_verify_cache_free(cache);
	set_free(&s);
}

TEST(verify_cache_still_checks_validity_product_and_signature)
{
	struct snp_verify_cache *cache = snp_verify_cache_new(8);
	struct snp_verify_result res;
	struct snp_verify_input in;
	struct snp_set s;
	uint8_t buf[SNP_REPORT_SIZE];

	REQUIRE(cache);
	set_load("trustee-aws-milan-vlek-v3", &s);
	in = set_input(&s, SET_TIME_2025_09_01);
	in.cache = cache;
	CHECK(run(&in, &res, "fill") == SNP_CHECK_NONE);
	in.now = SET_TIME_2026_11_22;
	CHECK(run(&in, &res, "expired") == SNP_CHECK_VALIDITY && res.cached);
	in.now = SET_TIME_2025_09_01;
	in.product = SNP_PRODUCT_GENOA;
	CHECK(run(&in, &res, "hint") == SNP_CHECK_PRODUCT && res.cached);
	in.product = SNP_PRODUCT_UNKNOWN;
	memcpy(buf, s.report, sizeof(buf));
	buf[SNP_OFF_REPORT_DATA] ^= 1;
	in.report = buf;
	CHECK(run(&in, &res, "mutant") == SNP_CHECK_REPORT_SIGNATURE && res.cached);
	set_free(&s);
	snp_verify_cache_free(cache);
}

TEST(verify_cache_is_keyed_by_anchors_and_chain)
{
	struct snp_verify_cache *cache = snp_verify_cache_new(2);
	struct snp_verify_result res;
	struct snp_verify_input in;
	struct snp_anchors none;
	struct snp_set s, genoa, other;

	REQUIRE(cache);
	set_load("virtee-milan-v2", &s);
	set_load("trustee-e2e-genoa-v3", &genoa);
	in = set_input(&s, SET_TIME_2025_09_01);
	in.cache = cache;
	CHECK(run(&in, &res, "fill") == SNP_CHECK_NONE);
	/* Other anchors: the entry does not apply. */
	snp_anchors_init(&none, "none");
	in.anchors = &none;
	CHECK(run(&in, &res, "other anchors") == SNP_CHECK_ARK_PIN && !res.cached);
	in.anchors = NULL;
	/* Another ARK than the one checked: checked again, and refused. */
	in.ark = genoa.ark;
	in.ark_len = genoa.ark_len;
	CHECK(run(&in, &res, "other ARK") == SNP_CHECK_ARK_PIN && !res.cached);
	/* Least recently used entries make room. */
	set_load("oak-genoa-oc-v5", &other);
	in = set_input(&genoa, SET_TIME_2025_09_01);
	in.cache = cache;
	CHECK(run(&in, &res, "second entry") == SNP_CHECK_NONE);
	in = set_input(&other, SET_TIME_2025_09_01);
	in.cache = cache;
	CHECK(run(&in, &res, "third entry") == SNP_CHECK_NONE);
	CHECK(snp_verify_cache_count(cache) == 2);
	in = set_input(&s, SET_TIME_2025_09_01);
	in.cache = cache;
	CHECK(run(&in, &res, "evicted") == SNP_CHECK_NONE && !res.cached);
	set_free(&s);
	set_free(&genoa);
	set_free(&other);
	snp_verify_cache_free(cache);
}

/* ---- small pieces ---- */

TEST(verify_check_names_are_stable)
{
	CHECK_STR(snp_check_name(SNP_CHECK_NONE), "none");
	CHECK_STR(snp_check_name(SNP_CHECK_REPORT_PARSE), "report-parse");
	CHECK_STR(snp_check_name(SNP_CHECK_ARK_PIN), "ark-pin");
	CHECK_STR(snp_check_name(SNP_CHECK_ASK_SIGNATURE), "ask-signature");
	CHECK_STR(snp_check_name(SNP_CHECK_VEK_SIGNATURE), "vek-signature");
	CHECK_STR(snp_check_name(SNP_CHECK_SIGNING_KEY), "signing-key");
	CHECK_STR(snp_check_name(SNP_CHECK_CHIP_ID), "chip-id");
	CHECK_STR(snp_check_name(SNP_CHECK_REPORT_SIGNATURE), "report-signature");
	CHECK_STR(snp_check_name(SNP_CHECK_COUNT), "unknown");
	for (int a = 0; a < SNP_CHECK_COUNT; a++)
		for (int b = a + 1; b < SNP_CHECK_COUNT; b++)
			CHECK(strcmp(snp_check_name(a), snp_check_name(b)));
}

TEST(verify_civil_time_to_epoch)
{
	CHECK(snp_civil_to_epoch(1970, 1, 1, 0, 0, 0) == 0);
	CHECK(snp_civil_to_epoch(2025, 9, 1, 0, 0, 0) == SET_TIME_2025_09_01);
	CHECK(snp_civil_to_epoch(2026, 11, 22, 0, 0, 0) == SET_TIME_2026_11_22);
	CHECK(snp_civil_to_epoch(2000, 2, 29, 23, 59, 59) == 951868799);
	CHECK(snp_civil_to_epoch(2000, 3, 1, 0, 0, 0) == 951868800);
	CHECK(snp_civil_to_epoch(2100, 3, 1, 0, 0, 0) == 4107542400);
	CHECK(snp_civil_to_epoch(1969, 12, 31, 23, 59, 59) == -1);
	CHECK(snp_civil_to_epoch(2045, 10, 22, 17, 23, 5) == 2392305785);
}
