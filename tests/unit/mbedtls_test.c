// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mbedTLS we build has what the protocol needs (deps/mbedtls_config.h)
 * and computes what the standards say it should.
 */
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#include "tests/harness.h"

TEST(mbedtls_headers_match_library_3_6)
{
	unsigned int lib = mbedtls_version_get_number();

	CHECK(lib == MBEDTLS_VERSION_NUMBER);
	CHECK((lib >> 16) == 0x0306);
}

TEST(mbedtls_config_has_tls13_exporter_and_no_tls12)
{
	int tls13 = 0, exporter = 0, tls12 = 0, debug = 0;
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_CLI_C) && defined(MBEDTLS_SSL_SRV_C)
	tls13 = 1;
#endif
#ifdef MBEDTLS_SSL_KEYING_MATERIAL_EXPORT
	exporter = 1;
#endif
#ifdef MBEDTLS_SSL_PROTO_TLS1_2
	tls12 = 1;
#endif
#ifdef MBEDTLS_DEBUG_C
	debug = 1;	/* debug logging could print key material */
#endif
	CHECK(tls13);
	CHECK(exporter);
	CHECK(!tls12);
	CHECK(!debug);
}

TEST(mbedtls_sha384_known_answer)
{
	uint8_t want[48], got[48];

	test_unhex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
		   "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", want, sizeof(want));
	REQUIRE(mbedtls_sha512((const uint8_t *)"abc", 3, got, 1) == 0);
	CHECK_MEM(got, want, sizeof(want));
}

/* RFC 5869, test case 1. */
TEST(mbedtls_hkdf_sha256_rfc5869)
{
	uint8_t ikm[22], salt[13], info[10], want[42], got[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	test_unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
		   "2d56ecc4c5bf34007208d5b887185865", want, sizeof(want));
	REQUIRE(mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
			     salt, sizeof(salt), ikm, sizeof(ikm),
			     info, sizeof(info), got, sizeof(got)) == 0);
	CHECK_MEM(got, want, sizeof(want));
}

/* The GCM specification's test case 14: AES-256, zero key, IV and block. */
TEST(mbedtls_aes256_gcm_known_answer)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, pt[16] = { 0 };
	uint8_t ct[16], tag[16], want_ct[16], want_tag[16], back[16];
	mbedtls_gcm_context gcm;

	test_unhex("cea7403d4d606b6e074ec5d3baf39d18", want_ct, sizeof(want_ct));
	test_unhex("d0d1c8a799996bf0265b98b5d48ab919", want_tag, sizeof(want_tag));
	mbedtls_gcm_init(&gcm);
	REQUIRE(mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) == 0);
	CHECK(mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, sizeof(pt), iv,
					sizeof(iv), NULL, 0, pt, ct, sizeof(tag), tag) == 0);
	CHECK_MEM(ct, want_ct, sizeof(ct));
	CHECK_MEM(tag, want_tag, sizeof(tag));
	/* A changed tag must be refused. */
	tag[0] ^= 1;
	CHECK(mbedtls_gcm_auth_decrypt(&gcm, sizeof(ct), iv, sizeof(iv), NULL, 0,
				       tag, sizeof(tag), ct, back) == MBEDTLS_ERR_GCM_AUTH_FAILED);
	mbedtls_gcm_free(&gcm);
}

/* IEEE 1619 XTS-AES vector 1: what LUKS2 keyslots are encrypted with. */
TEST(mbedtls_aes_xts_ieee1619_vector1)
{
	uint8_t key[64] = { 0 }, tweak[16] = { 0 }, pt[32] = { 0 };
	uint8_t ct[32], want[32];
	mbedtls_aes_xts_context xts;

	test_unhex("917cf69ebd68b2ec9b9fe9a3eadda692"
		   "cd43d2f59598ed858c02c2652fbf922e", want, sizeof(want));
	mbedtls_aes_xts_init(&xts);
	REQUIRE(mbedtls_aes_xts_setkey_enc(&xts, key, 256) == 0);
	CHECK(mbedtls_aes_crypt_xts(&xts, MBEDTLS_AES_ENCRYPT, sizeof(pt), tweak, pt, ct) == 0);
	CHECK_MEM(ct, want, sizeof(ct));
	mbedtls_aes_xts_free(&xts);
}

/* Entropy from the kernel feeds the DRBG; ECDSA P-384 signs and verifies. */
TEST(mbedtls_drbg_and_ecdsa_p384_roundtrip)
{
	static const char pers[] = "snp-unseal test";
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ecdsa_context key;
	uint8_t a[32], b[32], hash[48], sig[MBEDTLS_ECDSA_MAX_LEN];
	size_t sig_len = 0;

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ecdsa_init(&key);
	REQUIRE(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
				      (const uint8_t *)pers, sizeof(pers)) == 0);
	CHECK(mbedtls_ctr_drbg_random(&drbg, a, sizeof(a)) == 0);
	CHECK(mbedtls_ctr_drbg_random(&drbg, b, sizeof(b)) == 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);

	REQUIRE(mbedtls_ecdsa_genkey(&key, MBEDTLS_ECP_DP_SECP384R1,
				     mbedtls_ctr_drbg_random, &drbg) == 0);
	REQUIRE(mbedtls_sha512((const uint8_t *)"report", 6, hash, 1) == 0);
	REQUIRE(mbedtls_ecdsa_write_signature(&key, MBEDTLS_MD_SHA384, hash, sizeof(hash),
					      sig, sizeof(sig), &sig_len,
					      mbedtls_ctr_drbg_random, &drbg) == 0);
	CHECK(mbedtls_ecdsa_read_signature(&key, hash, sizeof(hash), sig, sig_len) == 0);
	hash[0] ^= 1;
	CHECK(mbedtls_ecdsa_read_signature(&key, hash, sizeof(hash), sig, sig_len) ==
	      MBEDTLS_ERR_ECP_VERIFY_FAILED);

	mbedtls_ecdsa_free(&key);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
}
