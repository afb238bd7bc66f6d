// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AMD certificates on mbedTLS: every real one parses, and the VCEK/VLEK
 * extension decoder takes exactly the encodings AMD uses.
 */
#define _XOPEN_SOURCE 700	/* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "snp/amdcert.h"
#include "snp/verify.h"
#include "tests/harness.h"
#include "tests/unit/snp_sets.h"

static const uint8_t amd_oid[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01 };

/* Decode value (hex) under AMD OID arc a.b (b 0 for none) into ext. */
static int ext(struct snp_vek_ext *e, int a, int b, const char *value_hex, struct snp_err *err)
{
	uint8_t oid[sizeof(amd_oid) + 2], val[128];
	size_t oid_len = sizeof(amd_oid);
	size_t len = test_unhex(value_hex, val, sizeof(val));

	memcpy(oid, amd_oid, sizeof(amd_oid));
	oid[oid_len++] = (uint8_t)a;
	if (b)
		oid[oid_len++] = (uint8_t)b;
	return snp_vek_ext_parse(e, oid, oid_len, val, len, err);
}

/* One SPL value in a fresh ext: its value, or -1 when refused. */
static int spl(const char *value_hex)
{
	struct snp_vek_ext e = { 0 };
	struct snp_err err = { 0 };

	if (ext(&e, 3, 8, value_hex, &err))
		return -1;
	return e.spl[SNP_EXT_UCODE_SPL];
}

TEST(amdcert_ext_tcb_integers)
{
	CHECK(spl("020105") == 5);
	CHECK(spl("020100") == 0);
	CHECK(spl("02017f") == 127);
	CHECK(spl("020200db") == 219);	/* ucode 219: the zero keeps it positive */
	CHECK(spl("020200ff") == 255);
	CHECK(spl("02020005") == -1);	/* not minimal */
	CHECK(spl("020180") == -1);	/* negative */
	CHECK(spl("02020100") == -1);	/* 256 */
	CHECK(spl("02030000db") == -1);
	CHECK(spl("0200") == -1);
	CHECK(spl("") == -1);
	CHECK(spl("040105") == -1);	/* not an INTEGER */
	CHECK(spl("02010500") == -1);	/* trailing byte */
	CHECK(spl("0201") == -1);	/* truncated */
}

TEST(amdcert_ext_strings_hwid_and_duplicates)
{
	struct snp_vek_ext e = { 0 };
	struct snp_err err = { 0 };
	char hwid_hex[2 * 66 + 1];

	/* productName "Milan-B0", csp_id, structVersion. */
	CHECK(ext(&e, 2, 0, "16084d696c616e2d4230", &err) == 0);
	CHECK_STR(e.product_name, "Milan-B0");
	CHECK(snp_vek_ext_has(&e, SNP_EXT_PRODUCT_NAME));
	CHECK(ext(&e, 2, 0, "16054d696c616e", &err) == -EBADMSG);
	CHECK(strstr(err.msg, "productName extension appears twice") != NULL);
	CHECK(ext(&e, 5, 0, "1605434e3d6363", &err) == 0);
	CHECK_STR(e.csp_id, "CN=cc");
	CHECK(ext(&e, 1, 0, "020101", &err) == 0 && e.struct_version == 1);
	memset(&e, 0, sizeof(e));
	CHECK(ext(&e, 2, 0, "0c054d696c616e", &err) == -EBADMSG);	/* UTF8String */
	CHECK(ext(&e, 2, 0, "16034d0a6e", &err) == -EBADMSG);		/* a newline */
	CHECK(ext(&e, 2, 0, "16064d696c616e", &err) == -EBADMSG);	/* short */
	CHECK(e.seen == 0);

	/* hwID: 64 or 8 raw bytes, or those in an OCTET STRING. */
	memset(hwid_hex, 'a', 128);
	hwid_hex[128] = '\0';
	CHECK(ext(&e, 4, 0, hwid_hex, &err) == 0);
	CHECK(e.hwid_len == 64 && e.hwid_encoding == SNP_HWID_RAW && e.hwid[63] == 0xaa);
	memset(&e, 0, sizeof(e));
	CHECK(ext(&e, 4, 0, "1e550a8ee5cf9f4d", &err) == 0);
	CHECK(e.hwid_len == 8 && e.hwid_encoding == SNP_HWID_RAW && e.hwid[0] == 0x1e);
	memset(&e, 0, sizeof(e));
	memcpy(hwid_hex, "0440", 4);
	memset(hwid_hex + 4, 'b', 128);
	hwid_hex[132] = '\0';
	CHECK(ext(&e, 4, 0, hwid_hex, &err) == 0);
	CHECK(e.hwid_len == 64 && e.hwid_encoding == SNP_HWID_OCTET_STRING &&
	      e.hwid[0] == 0xbb);
	memset(&e, 0, sizeof(e));
	CHECK(ext(&e, 4, 0, "04081e550a8ee5cf9f4d", &err) == 0 && e.hwid_len == 8);
	memset(&e, 0, sizeof(e));
	hwid_hex[1] = '3';	/* 03 40: a BIT STRING tag */
	CHECK(ext(&e, 4, 0, hwid_hex, &err) == -EBADMSG);
	CHECK(ext(&e, 4, 0, "1e550a8ee5cf9f", &err) == -EBADMSG);
	CHECK(ext(&e, 4, 0, "04091e550a8ee5cf9f4d", &err) == -EBADMSG);
	CHECK(ext(&e, 4, 0, "", &err) == -EBADMSG);

	/* Not one of AMD's: left alone. */
	memset(&e, 0, sizeof(e));
	CHECK(ext(&e, 6, 0, "020101", &err) == 1);
	CHECK(ext(&e, 3, 10, "020101", &err) == 1);
	CHECK(snp_vek_ext_parse(&e, amd_oid, sizeof(amd_oid), (const uint8_t *)"", 0, &err) == 1);
	CHECK(e.seen == 0);
}

/* Every certificate under snp-real, bundles split, through snp_amd_cert_parse. */
static size_t parsed, veks;

static void parse_one(const uint8_t *der, size_t len, const char *path)
{
	struct snp_amd_cert c;
	struct snp_err err = { 0 };

	snp_amd_cert_init(&c);
	if (snp_amd_cert_parse(&c, der, len, path, &err)) {
		fprintf(stderr, "    %s\n", err.msg);
		CHECK(!"an AMD certificate did not parse");
	} else if (!strcmp(c.cn, "SEV-VCEK") || !strcmp(c.cn, "SEV-VLEK")) {
		/* The quirks: serial 0 and AMD's extensions, through mbedTLS. */
		CHECK(c.crt.serial.len == 1 && c.crt.serial.p[0] == 0);
		CHECK(snp_vek_ext_has(&c.ext, SNP_EXT_PRODUCT_NAME));
		CHECK(snp_vek_ext_has(&c.ext, SNP_EXT_UCODE_SPL));
		CHECK(snp_amd_cert_check_p384(&c, "VEK", &err) == 0);
		CHECK(snp_amd_cert_check_rsa(&c, 4096, "VEK", &err) == -EKEYREJECTED);
		veks++;
	} else {
		CHECK(snp_amd_cert_check_rsa(&c, 4096, "root", &err) == 0);
		CHECK(snp_amd_cert_check_p384(&c, "root", &err) == -EKEYREJECTED);
		CHECK(c.ext.seen == 0);
	}
	parsed++;
	snp_amd_cert_free(&c);
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	mbedtls_x509_crt chain;
	size_t len, n = strlen(path);
	uint8_t *buf;

	(void)st;
	(void)ftw;
	if (type != FTW_F || n < 4 ||
	    (strcmp(path + n - 4, ".pem") && strcmp(path + n - 4, ".der")))
		return 0;
	buf = test_read_file(path, SET_FILE_MAX, &len);
	if (!strcmp(path + n - 4, ".der")) {
		parse_one(buf, len, path);
		free(buf);
		return 0;
	}
	buf[len] = '\0';	/* room left by test_read_file */
	mbedtls_x509_crt_init(&chain);
	CHECK(mbedtls_x509_crt_parse(&chain, buf, len + 1) == 0);
	for (mbedtls_x509_crt *c = &chain; c && c->raw.p; c = c->next)
		parse_one(c->raw.p, c->raw.len, path);
	mbedtls_x509_crt_free(&chain);
	free(buf);
	return 0;
}

TEST(amdcert_every_real_certificate_parses)
{
	const char *dir = test_shared_dir();
	char root[4096];

	if (!dir)
		test_skip("../shared/testdata is absent");
	set_join(root, sizeof(root), dir, SNP_REAL);
	REQUIRE(nftw(root, visit, 16, FTW_PHYS) == 0);
	/* 20 sets of 3; negative sets 3 + 3 + 4 (two VCEKs); the Turin chain 3; 9 roots. */
	CHECK(parsed == 60 + 10 + 3 + 9);
	CHECK(veks == 20 + 4 + 1);
}

/* Replace the first occurrence of from by to (same length). */
static bool patch(uint8_t *buf, size_t len, const char *from_hex, const char *to_hex)
{
	uint8_t from[32], to[32];
	size_t n = test_unhex(from_hex, from, sizeof(from));

	if (test_unhex(to_hex, to, sizeof(to)) != n)
		return false;
	for (size_t i = 0; i + n <= len; i++) {
		if (!memcmp(buf + i, from, n)) {
			memcpy(buf + i, to, n);
			return true;
		}
	}
	return false;
}

/*
 * mbedTLS skips a non-critical extension whose callback failed and
 * carries on: our parser must fail the certificate all the same.
 */
TEST(amdcert_bad_or_duplicate_extension_fails_the_certificate)
{
	struct snp_verify_input in;
	struct snp_verify_result res;
	struct snp_amd_cert c;
	struct snp_err err = { 0 };
	struct snp_set s;

	set_load("oak-cb-milan-v3", &s);
	/* spl_4 (.3.4) renamed blSPL (.3.1): blSPL twice. */
	REQUIRE(patch(s.vek, s.vek_len, "2b060104019c78010304", "2b060104019c78010301"));
	snp_amd_cert_init(&c);
	CHECK(snp_amd_cert_parse(&c, s.vek, s.vek_len, "VCEK", &err) == -EBADMSG);
	CHECK(strstr(err.msg, "blSPL extension appears twice") != NULL);
	snp_amd_cert_free(&c);
	in = set_input(&s, SET_TIME_2025_09_01);
	CHECK(snp_verify(&in, &res) == -EBADMSG && res.failed == SNP_CHECK_VEK_PARSE);
	set_free(&s);

	set_load("oak-cb-milan-v3", &s);
	/* ucodeSPL 219 as 02 02 00 db -> 02 02 00 05 (not minimal). */
	REQUIRE(patch(s.vek, s.vek_len, "2b060104019c780103080404020200db",
		      "2b060104019c78010308040402020005"));
	snp_amd_cert_init(&c);
	CHECK(snp_amd_cert_parse(&c, s.vek, s.vek_len, "VCEK", &err) == -EBADMSG);
	CHECK(strstr(err.msg, "ucodeSPL extension is 02020005") != NULL);
	snp_amd_cert_free(&c);
	set_free(&s);
}

TEST(amdcert_civil_time_matches_mbedtls_dates)
{
	struct snp_amd_cert c;
	struct snp_err err = { 0 };
	size_t len;
	uint8_t *der = set_read_cert(SNP_REAL "/amd-roots/milan/ark.pem", &len);

	snp_amd_cert_init(&c);
	REQUIRE(snp_amd_cert_parse(&c, der, len, "ARK", &err) == 0);
	/* Not Before: Oct 22 17:23:05 2020 GMT; Not After: Oct 22 17:23:05 2045 GMT. */
	CHECK(c.not_before == 1603387385);
	CHECK(c.not_after == 2392305785);
	CHECK_STR(c.cn, "ARK-Milan");
	CHECK_STR(c.issuer_cn, "ARK-Milan");
	snp_amd_cert_free(&c);
	free(der);
}
