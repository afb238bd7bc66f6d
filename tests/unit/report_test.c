// SPDX-License-Identifier: GPL-2.0-or-later
/* The report model: decoding real reports, and refusing malformed ones. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snp/report.h"
#include "snp/report_print.h"
#include "tests/harness.h"

static const char *const real_sets[] = {
	"constellation-aws-milan-vlek-v3", "constellation-azure-milan-v2",
	"gosevguest-milan-v2", "oak-cb-milan-v3", "oak-genoa-oc-v5",
	"oak-milan-oc-release-v3", "oak-milan-oc-staging-v3",
	"oak-milan-rk-release-v3", "oak-milan-rk-staging-v3", "oak-turin-oc-v5",
	"trustee-aws-milan-vlek-v3", "trustee-azure-genoa-v3",
	"trustee-azure-hcl-milan-v2", "trustee-azure-milan-v3-ev0",
	"trustee-azure-milan-v3-ev1", "trustee-azure-milan-v3-ev2",
	"trustee-e2e-genoa-v3", "trustee-milan-v2", "veraison-tsm-genoa-v3",
	"virtee-milan-v2",
};

static uint8_t *read_report(const char *set, size_t *len)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "snp-real/%s/report.bin", set);
	return test_read_shared(rel, 4 * SNP_REPORT_SIZE, len);
}

TEST(report_parses_every_real_report)
{
	for (size_t i = 0; i < sizeof(real_sets) / sizeof(real_sets[0]); i++) {
		struct snp_report r;
		struct snp_err err = { 0 };
		size_t len;
		uint8_t *buf = read_report(real_sets[i], &len);
		uint8_t again[SNP_REPORT_SIZE];

		if (!CHECK(snp_report_parse(buf, len, &r, &err) == 0))
			fprintf(stderr, "      %s: %s\n", real_sets[i], err.msg);
		/* Encoding the model gives the signed bytes back exactly. */
		snp_report_encode(&r, again);
		CHECK_MEM(again, buf, SNP_REPORT_SIGNED_SIZE);
		free(buf);
	}
}

/* Values from EXPECTED-verify-output.txt. */
TEST(report_fields_turin_v5)
{
	struct snp_report r;
	struct snp_tcb tcb;
	char s[128], hex[2 * SNP_MEASUREMENT_SIZE + 1];
	size_t len;
	uint8_t *buf = read_report("oak-turin-oc-v5", &len);

	REQUIRE(snp_report_parse(buf, len, &r, NULL) == 0);
	CHECK(r.version == 5);
	CHECK(r.cpuid_product == SNP_PRODUCT_TURIN);
	CHECK(r.cpuid_fam_id == 0x1a && r.cpuid_mod_id == 0x02 && r.cpuid_step == 0x01);
	CHECK(r.policy == 0x30000);
	CHECK(r.platform_info == 0x67);
	CHECK(r.reported_tcb == 0x4700000002000100ULL);
	REQUIRE(snp_tcb_decode(r.reported_tcb, SNP_PRODUCT_TURIN, &tcb) == 0);
	CHECK(tcb.fmc == 0 && tcb.bootloader == 1 && tcb.tee == 0 && tcb.snp == 2 &&
	      tcb.microcode == 71 && !tcb.reserved_nonzero);
	CHECK(snp_tcb_encode(&tcb, SNP_PRODUCT_TURIN) == r.reported_tcb);
	/* Byte 4 is reserved on Turin, byte 2 on Milan. */
	REQUIRE(snp_tcb_decode(r.reported_tcb | 1ULL << 32, SNP_PRODUCT_TURIN, &tcb) == 0);
	CHECK(tcb.reserved_nonzero && tcb.snp == 2);
	REQUIRE(snp_tcb_decode(0xdb18000000010004ULL, SNP_PRODUCT_MILAN, &tcb) == 0);
	CHECK(tcb.reserved_nonzero && tcb.bootloader == 4 && tcb.microcode == 219);
	REQUIRE(snp_tcb_format(s, sizeof(s), r.reported_tcb, SNP_PRODUCT_TURIN) == 0);
	CHECK_STR(s, "fmc=0 bl=1 tee=0 snp=2 ucode=71");
	CHECK(r.current_fw.major == 1 && r.current_fw.minor == 55 && r.current_fw.build == 61);
	CHECK_STR(snp_hex(hex, r.chip_id, 8), "3b42092f69c656d3");
	CHECK_STR(snp_hex(hex, r.measurement, SNP_MEASUREMENT_SIZE),
		  "f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503023dbb50dee624");
	CHECK(r.signing_key == SNP_SIGNING_KEY_VCEK);
	free(buf);
}

TEST(report_fields_milan_v2_vlek_and_policy)
{
	struct snp_report r;
	char s[128];
	size_t len;
	uint8_t *buf = read_report("gosevguest-milan-v2", &len);

	REQUIRE(snp_report_parse(buf, len, &r, NULL) == 0);
	CHECK(r.version == 2 && r.cpuid_product == SNP_PRODUCT_UNKNOWN);
	CHECK(r.policy_bits.debug && r.policy_bits.smt && !r.policy_bits.migrate_ma);
	REQUIRE(snp_policy_format(s, sizeof(s), r.policy) == 0);
	CHECK_STR(s, "SMT|RSVD1(must be 1)|DEBUG");
	REQUIRE(snp_tcb_format(s, sizeof(s), r.reported_tcb, SNP_PRODUCT_MILAN) == 0);
	CHECK_STR(s, "bl=2 tee=0 snp=5 ucode=68");
	free(buf);

	buf = read_report("trustee-aws-milan-vlek-v3", &len);
	REQUIRE(snp_report_parse(buf, len, &r, NULL) == 0);
	CHECK(r.signing_key == SNP_SIGNING_KEY_VLEK && r.vmpl == 1);
	CHECK(snp_report_chip_id_zero(&r));
	CHECK(r.current_tcb == 0xdc18000000000004ULL && r.reported_tcb == 0xd918000000000004ULL);
	free(buf);
}

TEST(report_products)
{
	CHECK(snp_product_from_cpuid(0x19, 0x01) == SNP_PRODUCT_MILAN);
	CHECK(snp_product_from_cpuid(0x19, 0x11) == SNP_PRODUCT_GENOA);
	CHECK(snp_product_from_cpuid(0x19, 0xa0) == SNP_PRODUCT_GENOA);
	CHECK(snp_product_from_cpuid(0x1a, 0x02) == SNP_PRODUCT_TURIN);
	CHECK(snp_product_from_cpuid(0x19, 0x21) == SNP_PRODUCT_UNKNOWN);
	CHECK(snp_product_from_cpuid(0x17, 0x01) == SNP_PRODUCT_UNKNOWN);
	CHECK(snp_product_from_name("Milan-B0", 8) == SNP_PRODUCT_MILAN);
	CHECK(snp_product_from_name("genoa", 5) == SNP_PRODUCT_GENOA);
	CHECK(snp_product_from_name("Turin", 5) == SNP_PRODUCT_TURIN);
	CHECK(snp_product_from_name("Turi", 4) == SNP_PRODUCT_UNKNOWN);
	CHECK(snp_product_from_name("MilanX", 6) == SNP_PRODUCT_UNKNOWN);
	CHECK_STR(snp_product_name(SNP_PRODUCT_GENOA), "Genoa");
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);	/* x86 is little-endian like the report */
}

static int parse_fails(const uint8_t *buf, size_t len, const char *want_in_msg)
{
	struct snp_report r;
	struct snp_err err = { 0 };
	int ret = snp_report_parse(buf, len, &r, &err);

	if (ret == 0) {
		fprintf(stderr, "      parsed, but should fail with '%s'\n", want_in_msg);
		return 0;
	}
	if (!strstr(err.msg, want_in_msg)) {
		fprintf(stderr, "      message '%s' lacks '%s'\n", err.msg, want_in_msg);
		return 0;
	}
	return 1;
}

TEST(report_refuses_bad_versions_and_lengths)
{
	static const uint32_t bad_versions[] = { 0, 1, 4, 6, 0xffffffff };
	size_t len;
	uint8_t *buf = read_report("oak-milan-oc-release-v3", &len);
	uint8_t *big = calloc(1, SNP_REPORT_SIZE + 1);

	REQUIRE(big);
	for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		uint8_t copy[SNP_REPORT_SIZE];

		memcpy(copy, buf, sizeof(copy));
		put32(copy + SNP_OFF_VERSION, bad_versions[i]);
		CHECK(parse_fails(copy, sizeof(copy), "VERSION is"));
	}
	CHECK(parse_fails(buf, SNP_REPORT_SIZE - 1, "1183 bytes"));
	CHECK(parse_fails(buf, 0, "0 bytes"));
	memcpy(big, buf, SNP_REPORT_SIZE);
	CHECK(parse_fails(big, SNP_REPORT_SIZE + 1, "1185 bytes"));
	free(big);
	free(buf);
}

TEST(report_refuses_bad_header_fields)
{
	size_t len;
	uint8_t *buf = read_report("oak-genoa-oc-v5", &len);
	uint8_t c[SNP_REPORT_SIZE];

	memcpy(c, buf, sizeof(c));
	put32(c + SNP_OFF_SIG_ALGO, 2);
	CHECK(parse_fails(c, sizeof(c), "SIGNATURE_ALGO is 2"));
	memcpy(c, buf, sizeof(c));
	put32(c + SNP_OFF_VMPL, 4);
	CHECK(parse_fails(c, sizeof(c), "VMPL is 4"));
	memcpy(c, buf, sizeof(c));
	c[SNP_OFF_POLICY + 2] &= (uint8_t)~0x02;	/* bit 17 */
	CHECK(parse_fails(c, sizeof(c), "bit 17 clear"));
	memcpy(c, buf, sizeof(c));
	c[SNP_OFF_POLICY + 7] = 0x80;		/* bit 63 */
	CHECK(parse_fails(c, sizeof(c), "bits 26-63"));
	memcpy(c, buf, sizeof(c));
	c[SNP_OFF_POLICY + 3] |= 0x04;		/* bit 26 */
	CHECK(parse_fails(c, sizeof(c), "bits 26-63"));
	memcpy(c, buf, sizeof(c));
	put32(c + SNP_OFF_KEY_INFO, 2u << 2);
	CHECK(parse_fails(c, sizeof(c), "SIGNING_KEY is 2"));
	memcpy(c, buf, sizeof(c));
	put32(c + SNP_OFF_KEY_INFO, 1u << 5);
	CHECK(parse_fails(c, sizeof(c), "KEY_INFO 0x00000020"));
	memcpy(c, buf, sizeof(c));
	c[SNP_OFF_CPUID] = 0x17;
	CHECK(parse_fails(c, sizeof(c), "CPUID family 0x17"));
	free(buf);
}

/* Every byte of every must-be-zero range, for each version's layout. */
TEST(report_refuses_every_nonzero_reserved_byte)
{
	static const char *const sets[] = {
		"virtee-milan-v2", "oak-milan-oc-release-v3", "oak-turin-oc-v5",
	};

	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		size_t len, refused = 0, tried = 0;
		uint8_t *buf = read_report(sets[s], &len);
		struct snp_report r;
		uint32_t v;

		REQUIRE(snp_report_parse(buf, len, &r, NULL) == 0);
		v = r.version;
		for (size_t off = 0; off < SNP_REPORT_SIZE; off++) {
			bool reserved =
				(off >= 0x4c && off < 0x50) ||
				(off >= (v >= 3 ? 0x18bu : 0x188u) && off < 0x1a0) ||
				off == 0x1eb || off == 0x1ef ||
				(off >= (v >= 5 ? 0x208u : 0x1f8u) && off < 0x2a0) ||
				(off >= 0x2a0 + 48 && off < 0x2e8) ||
				(off >= 0x2e8 + 48 && off < 0x330) || off >= 0x330;
			uint8_t saved = buf[off];

			if (!reserved)
				continue;
			tried++;
			buf[off] = 0x01;
			if (parse_fails(buf, len, "must be zero"))
				refused++;
			else
				fprintf(stderr, "      %s: byte 0x%03zx accepted\n", sets[s], off);
			buf[off] = saved;
		}
		CHECK(tried > 0x200);
		CHECK(refused == tried);
		free(buf);
	}
}

/*
 * The listing matches the golden file's field lines for every real set:
 * each line from "version:" to "report_id_ma:" appears, in order.
 */
static int check_listing(const char *set, const char *golden_block)
{
	char *listing = NULL, *line, *save = NULL, *copy = strdup(golden_block);
	const char *from;
	size_t size = 0, len;
	enum snp_product product;
	struct snp_report r;
	uint8_t *buf = read_report(set, &len);
	FILE *out = open_memstream(&listing, &size);
	int ok = 1;

	if (!copy || !out || snp_report_parse(buf, len, &r, NULL))
		return 0;
	from = strstr(golden_block, "product: ") + strlen("product: ");
	product = snp_product_from_name(from, strcspn(from, " "));
	snp_report_print(out, &r, product);
	fclose(out);
	from = listing;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *at;

		if (!strncmp(line, "report:", 7) || !strncmp(line, "product:", 8))
			continue;
		if (!strncmp(line, "ARK:", 4))
			break;
		at = strstr(from, line);
		if (!at) {
			fprintf(stderr, "      %s: missing or out of order: %s\n", set, line);
			ok = 0;
			continue;
		}
		from = at + strlen(line);
	}
	free(copy);
	free(listing);
	free(buf);
	return ok;
}

TEST(report_listing_matches_golden_file)
{
	size_t len;
	char *golden = (char *)test_read_shared("snp-real/EXPECTED-verify-output.txt",
						1 << 20, &len);

	golden[len] = '\0';
	for (size_t i = 0; i < sizeof(real_sets) / sizeof(real_sets[0]); i++) {
		char head[128], *start, *end;

		snprintf(head, sizeof(head), "=== %s\n", real_sets[i]);
		start = strstr(golden, head);
		if (!CHECK(start))
			continue;
		start += strlen(head);
		end = strstr(start, "\n===");
		if (end)
			*end = '\0';
		CHECK(check_listing(real_sets[i], start));
		if (end)
			*end = '\n';
	}
	free(golden);
}
