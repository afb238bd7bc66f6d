// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * owner/idblock.h: the ID block's bytes, the AMD key form and digests of
 * the upstream test keys, virtee/sev's signatures and assembled ID auth
 * info (../shared/testdata/measure/keys) checked with our block and keys,
 * our own ID auth info checked by id_auth_verify and by mbedTLS directly,
 * and every refusal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha512.h>

#include "owner/idblock.h"
#include "snp/bytes.h"
#include "tests/harness.h"

#define KEYS "measure/keys/"
#define SEV_ID_KEY KEYS "sev_test_id_key.pem"		/* PKCS#8 */
#define SEV_AUTHOR_KEY KEYS "sev_test_auth_key.pem"	/* PKCS#8 */
#define SSM_ID_KEY KEYS "ssm_id_key_test.pem"		/* SEC1 */
#define SSM_AUTHOR_KEY KEYS "ssm_author_key_test.pem"	/* SEC1 */
#define FILE_MAX (64 * 1024)

/*
 * virtee/sev tests/id-block.rs: the launch digest its test_id_sig.bin
 * signs, in an ID block with zero ids, SVN 0 and policy 0x30000, and that
 * block's bytes (its expected base64, decoded).
 */
static const char sev_ld_hex[] =
	"a14d638341e5674628fe1e02fbedebe5e5ab4faf1dd72d8966068e615bb99efd"
	"13d214b35c231715b38e263dc6059745";
static const char sev_block_hex[] =
	"a14d638341e5674628fe1e02fbedebe5e5ab4faf1dd72d8966068e615bb99efd"
	"13d214b35c231715b38e263dc605974500000000000000000000000000000000"
	"0000000000000000000000000000000001000000000000000000030000000000";

/*
 * Key digests, computed by hand with openssl for each KEY.pem:
 *   x=$(openssl pkey -in KEY.pem -pubout -outform DER | tail -c 96 | xxd -p -c 96)
 *   le() { xxd -r -p | python3 -c 'import sys;d=sys.stdin.buffer.read();sys.stdout.buffer.write(d[::-1]+bytes(24))'; }
 *   { printf '\x02\0\0\0'; echo ${x:0:96} | le; echo ${x:96:96} | le; head -c 880 /dev/zero; } | openssl dgst -sha384
 * They equal the upstream tools' expected digests (virtee/sev
 * tests/id-block.rs, virtee/sev-snp-measure tests/test_id_block.py).
 */
static const char sev_id_digest_hex[] =
	"59fb2c686dfa4fef49f38339aa775c90051c28d57383ddc3baf3b5eb4b1496df"
	"3b0dbbdcbae5fe27677a644820773fe2";
static const char sev_author_digest_hex[] =
	"eed81169fb0cb5e0ec34794f128fd4e0c4a46f67c65a1adfa81fcb24bcc088c2"
	"72369b7ffc3eb2b6af6a4284a1b36c5f";
static const char ssm_id_digest_hex[] =
	"870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e7"
	"7cb0560a5e3b90b3932e674ec709cb14";
static const char ssm_author_digest_hex[] =
	"63111c34bbfc0a4938f9a009bd074980d8172323e61599c9fd336da8673248e1"
	"dca98d0be8f76376a106b8afd4c0a057";

/* Throwaway keys of kinds this build cannot parse (openssl genpkey). */
static const char ed25519_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIM/i4d8R9amzmKo54JtdDEgC2ODvtjN3FRog3EXIQeLL\n"
	"-----END PRIVATE KEY-----\n";
static const char p521_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIBTNlU9gZuECa2dqJ/\n"
	"4eaBVbcekpT/xOUMXW+hp5AFEVvLz+HpDTAqdd3IheKvGZzLwzJe2/Budm80VQ+Q\n"
	"EyTJw5uhgYkDgYYABABpv98MHIgn1HpDi48iMLEMCHOOhQd9VyG+nJ4leDVSE5qH\n"
	"VH3ril9nbsKN2fpb3ggzbbZKZ9IFaHbf5OwWRVvXmgCJ2M9f65zv3HcNj+c8wSvd\n"
	"azNzJczpof2AhN1bbfWggvMfVg0YSvakWg0SX6peS8YdPEBjwbd1a2zvq3fQN/z4\n"
	"2w==\n"
	"-----END PRIVATE KEY-----\n";
/* A P-384 key under the passphrase "x" (openssl pkcs8 -topk8 -v2 aes-128-cbc). */
static const char encrypted_pem[] =
	"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	"MIIBHDBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIJmi4Jd4s91UCAggA\n"
	"MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAECBBCdm4SiVZFu6gu41QSefp1ABIHA\n"
	"eEVPOwqv8vbQ5ZqRPwmXBB/dfw9McIVzoQOnrosG+UkLwlSs6Senx5eJ0ERIsy5K\n"
	"H9HU6Ku9+/n7eD9pxeOowcl/zVpC2OCidtX0l5MkKE+Ygeb/6SFIyQoGooIPdC1Y\n"
	"+pHLFvoa5CsSfGix2xDyzm3wrl6NSQa8itjvGasuT0px1gjzAr7wX4g9MlFHl48z\n"
	"V0hsB4w/A5Ezj2+k+E0yaeKJppPENSM2jXc+V61VWTEHHSSm8fagpBXRvTBHaQnA\n"
	"-----END ENCRYPTED PRIVATE KEY-----\n";

static void check_msg(const struct snp_err *err, const char *want)
{
	if (!CHECK(strstr(err->msg, want) != NULL))
		fprintf(stderr, "    message: %s (wanted \"%s\")\n", err->msg, want);
}

static struct owner_key *load_shared_key(const char *rel)
{
	size_t len;
	uint8_t *pem = test_read_shared(rel, FILE_MAX, &len);
	struct owner_key *key = NULL;
	struct snp_err err = { 0 };

	if (owner_key_load_mem(pem, len, &key, &err))
		fprintf(stderr, "    %s: %s\n", rel, err.msg);
	free(pem);
	return key;
}

static void sev_block(uint8_t out[ID_BLOCK_SIZE])
{
	struct id_block b = { .policy = 0x30000 };

	test_unhex(sev_ld_hex, b.ld, sizeof(b.ld));
	id_block_encode(&b, out);
}

/*
 * mbedTLS alone, not our code: the signature's R and S read as 72-byte
 * little-endian numbers, the key from the PEM file, ECDSA with SHA-384.
 */
static bool independent_verify(const char *key_rel, const uint8_t *sig, const uint8_t *data,
			       size_t len)
{
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context pk;
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi d, r, s;
	uint8_t hash[48];
	size_t pem_len;
	uint8_t *pem = test_read_shared(key_rel, FILE_MAX, &pem_len);
	bool ok;

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_pk_init(&pk);
	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	pem = realloc(pem, pem_len + 1);
	pem[pem_len] = '\0';
	ok = !mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) &&
	     !mbedtls_pk_parse_key(&pk, pem, pem_len + 1, NULL, 0, mbedtls_ctr_drbg_random,
				   &drbg) &&
	     !mbedtls_ecp_export(mbedtls_pk_ec(pk), &grp, &d, &q) &&
	     !mbedtls_mpi_read_binary_le(&r, sig, 0x48) &&
	     !mbedtls_mpi_read_binary_le(&s, sig + 0x48, 0x48) &&
	     !mbedtls_sha512(data, len, hash, 1) &&
	     !mbedtls_ecdsa_verify(&grp, hash, sizeof(hash), &q, &r, &s);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	mbedtls_pk_free(&pk);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	free(pem);
	return ok;
}

TEST(owner_idblock_encode_layout)
{
	static const char want_hex[] =
		/* LD: 0x00..0x2f */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f"
		/* FAMILY_ID, IMAGE_ID */
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff" "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
		/* VERSION 1, GUEST_SVN 0x11223344, POLICY 0x0102030405060708 */
		"01000000" "44332211" "0807060504030201";
	struct id_block b = { .guest_svn = 0x11223344, .policy = 0x0102030405060708ULL };
	struct id_block back;
	struct snp_err err = { 0 };
	uint8_t want[ID_BLOCK_SIZE], got[ID_BLOCK_SIZE];

	for (size_t i = 0; i < sizeof(b.ld); i++)
		b.ld[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(b.family_id); i++) {
		b.family_id[i] = (uint8_t)(0xf0 + i);
		b.image_id[i] = (uint8_t)(0xa0 + i);
	}
	REQUIRE(test_unhex(want_hex, want, sizeof(want)) == ID_BLOCK_SIZE);
	memset(got, 0x55, sizeof(got));
	id_block_encode(&b, got);
	CHECK_MEM(got, want, ID_BLOCK_SIZE);

	REQUIRE(id_block_decode(got, &back, &err) == 0);
	CHECK(memcmp(&back, &b, sizeof(b)) == 0);
}

TEST(owner_idblock_encode_upstream_block)
{
	uint8_t want[ID_BLOCK_SIZE], got[ID_BLOCK_SIZE];

	REQUIRE(test_unhex(sev_block_hex, want, sizeof(want)) == ID_BLOCK_SIZE);
	sev_block(got);
	CHECK_MEM(got, want, ID_BLOCK_SIZE);
}

TEST(owner_idblock_decode_refuses_version)
{
	static const uint32_t bad[] = { 0, 2, 0x01000000 };
	struct id_block b = { .guest_svn = 7 };
	struct snp_err err = { 0 };
	uint8_t buf[ID_BLOCK_SIZE];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id_block_encode(&b, buf);
		snp_put_le32(buf + 0x50, bad[i]);
		CHECK(id_block_decode(buf, &b, &err) == -EBADMSG);
		check_msg(&err, "VERSION");
	}
}

static void check_digest(const char *rel, const char *want_hex)
{
	struct owner_key *key = load_shared_key(rel);
	uint8_t want[48], got[48], amd[AMD_PUBKEY_SIZE];

	REQUIRE(key);
	CHECK(owner_key_is_private(key));
	test_unhex(want_hex, want, sizeof(want));
	owner_key_digest(key, got);
	CHECK_MEM(got, want, sizeof(want));
	/* The AMD form: curve 2, zero above each 48-byte coordinate and after QY. */
	owner_key_amd_public(key, amd);
	CHECK(snp_get_le32(amd) == 2);
	CHECK(snp_all_zero(amd + 0x04 + 48, 24));
	CHECK(snp_all_zero(amd + 0x4c + 48, AMD_PUBKEY_SIZE - 0x4c - 48));
	CHECK(!snp_all_zero(amd + 0x04, 48) && !snp_all_zero(amd + 0x4c, 48));
	owner_key_free(key);
}

TEST(owner_idblock_key_digests)
{
	check_digest(SEV_ID_KEY, sev_id_digest_hex);
	check_digest(SEV_AUTHOR_KEY, sev_author_digest_hex);
	check_digest(SSM_ID_KEY, ssm_id_digest_hex);
	check_digest(SSM_AUTHOR_KEY, ssm_author_digest_hex);
}

TEST(owner_idblock_key_load_file)
{
	struct owner_key *key = NULL;
	struct snp_err err = { 0 };
	char path[4096];
	uint8_t got[48], want[48];

	if (!test_shared_dir())
		test_skip("../shared/testdata is absent: no test keys");
	snprintf(path, sizeof(path), "%s/%s", test_shared_dir(), SSM_AUTHOR_KEY);
	REQUIRE(owner_key_load(path, &key, &err) == 0);
	owner_key_digest(key, got);
	test_unhex(ssm_author_digest_hex, want, sizeof(want));
	CHECK_MEM(got, want, sizeof(want));
	owner_key_free(key);

	key = (struct owner_key *)1;
	CHECK(owner_key_load(test_path("absent.pem"), &key, &err) == -ENOENT);
	CHECK(key == NULL);
	check_msg(&err, "absent.pem");
}

/* virtee/sev's signatures verify over the block and the key form we build. */
TEST(owner_idblock_upstream_signatures)
{
	size_t id_sig_len, auth_sig_len;
	uint8_t *id_sig = test_read_shared(KEYS "sev_test_id_sig.bin", FILE_MAX, &id_sig_len);
	uint8_t *auth_sig = test_read_shared(KEYS "sev_test_auth_sig.bin", FILE_MAX,
					     &auth_sig_len);
	struct owner_key *id_key = load_shared_key(SEV_ID_KEY);
	uint8_t block[ID_BLOCK_SIZE], amd[AMD_PUBKEY_SIZE];

	REQUIRE(id_key);
	REQUIRE(id_sig_len == AMD_SIG_SIZE && auth_sig_len == AMD_SIG_SIZE);
	sev_block(block);
	owner_key_amd_public(id_key, amd);
	CHECK(independent_verify(SEV_ID_KEY, id_sig, block, sizeof(block)));
	CHECK(independent_verify(SEV_AUTHOR_KEY, auth_sig, amd, sizeof(amd)));
	/* And not over anything else. */
	block[0] ^= 1;
	amd[0x10] ^= 1;
	CHECK(!independent_verify(SEV_ID_KEY, id_sig, block, sizeof(block)));
	CHECK(!independent_verify(SEV_AUTHOR_KEY, auth_sig, amd, sizeof(amd)));
	owner_key_free(id_key);
	free(id_sig);
	free(auth_sig);
}

static uint8_t *upstream_auth(void)
{
	size_t len;
	uint8_t *auth = test_read_shared(KEYS "sev_test_auth_block.bin", FILE_MAX, &len);

	if (len != ID_AUTH_SIZE) {
		CHECK(len == ID_AUTH_SIZE);
		free(auth);
		return NULL;
	}
	return auth;
}

TEST(owner_idblock_upstream_auth_verifies)
{
	uint8_t *auth = upstream_auth();
	uint8_t block[ID_BLOCK_SIZE], id_digest[48], author_digest[48], want[48];
	struct snp_err err = { 0 };
	bool has_author = false;
	int ret;

	REQUIRE(auth);
	sev_block(block);
	ret = id_auth_verify(block, auth, &has_author, id_digest, author_digest, &err);
	if (!CHECK(ret == 0))
		fprintf(stderr, "    %s\n", err.msg);
	CHECK(has_author);
	test_unhex(sev_id_digest_hex, want, sizeof(want));
	CHECK_MEM(id_digest, want, sizeof(want));
	test_unhex(sev_author_digest_hex, want, sizeof(want));
	CHECK_MEM(author_digest, want, sizeof(want));
	/* The same auth info does not vouch for another block. */
	block[0x54] = 1;
	CHECK(id_auth_verify(block, auth, &has_author, id_digest, author_digest, &err) ==
	      -EKEYREJECTED);
	CHECK(!has_author && snp_all_zero(id_digest, sizeof(id_digest)));
	free(auth);
}

/* Our auth info: upstream's in every byte but the two signatures. */
TEST(owner_idblock_build_matches_upstream)
{
	uint8_t *want = upstream_auth();
	struct owner_key *id_key = load_shared_key(SEV_ID_KEY);
	struct owner_key *author_key = load_shared_key(SEV_AUTHOR_KEY);
	uint8_t block[ID_BLOCK_SIZE], got[ID_AUTH_SIZE], again[ID_AUTH_SIZE];
	uint8_t id_digest[48], author_digest[48], digest[48];
	struct snp_err err = { 0 };
	bool has_author = false;

	REQUIRE(want && id_key && author_key);
	sev_block(block);
	REQUIRE(id_auth_build(block, id_key, author_key, got, &err) == 0);
	CHECK_MEM(got, want, 0x40);
	CHECK_MEM(got + 0x240, want + 0x240, 0x680 - 0x240);
	CHECK_MEM(got + 0x880, want + 0x880, ID_AUTH_SIZE - 0x880);
	/* The signatures' zero areas, and R and S themselves differ (another nonce). */
	CHECK_MEM(got + 0x40 + 0x90, want + 0x40 + 0x90, 0x200 - 0x90);
	CHECK_MEM(got + 0x680 + 0x90, want + 0x680 + 0x90, 0x200 - 0x90);
	CHECK(memcmp(got + 0x40, want + 0x40, 0x90) != 0);
	CHECK(memcmp(got + 0x680, want + 0x680, 0x90) != 0);

	CHECK(independent_verify(SEV_ID_KEY, got + 0x40, block, sizeof(block)));
	CHECK(independent_verify(SEV_AUTHOR_KEY, got + 0x680, got + 0x240, AMD_PUBKEY_SIZE));
	REQUIRE(id_auth_verify(block, got, &has_author, id_digest, author_digest, &err) == 0);
	CHECK(has_author);
	owner_key_digest(id_key, digest);
	CHECK_MEM(id_digest, digest, sizeof(digest));
	owner_key_digest(author_key, digest);
	CHECK_MEM(author_digest, digest, sizeof(digest));

	/* RFC 6979: the same inputs sign the same. */
	REQUIRE(id_auth_build(block, id_key, author_key, again, &err) == 0);
	CHECK_MEM(again, got, ID_AUTH_SIZE);
	owner_key_free(id_key);
	owner_key_free(author_key);
	free(want);
}

TEST(owner_idblock_build_without_author)
{
	struct owner_key *id_key = load_shared_key(SSM_ID_KEY);
	uint8_t block[ID_BLOCK_SIZE], auth[ID_AUTH_SIZE], id_digest[48], author_digest[48];
	uint8_t want[48];
	struct snp_err err = { 0 };
	bool has_author = true;

	REQUIRE(id_key);
	sev_block(block);
	REQUIRE(id_auth_build(block, id_key, NULL, auth, &err) == 0);
	CHECK(snp_get_le32(auth) == 1);
	CHECK(snp_get_le32(auth + 4) == 0);
	CHECK(snp_all_zero(auth + 0x680, ID_AUTH_SIZE - 0x680));
	CHECK(independent_verify(SSM_ID_KEY, auth + 0x40, block, sizeof(block)));
	REQUIRE(id_auth_verify(block, auth, &has_author, id_digest, author_digest, &err) == 0);
	CHECK(!has_author);
	test_unhex(ssm_id_digest_hex, want, sizeof(want));
	CHECK_MEM(id_digest, want, sizeof(want));
	CHECK(snp_all_zero(author_digest, sizeof(author_digest)));

	/* AUTHOR_KEY_ALGO 0 with an author field set is refused. */
	auth[0x880] = 2;
	CHECK(id_auth_verify(block, auth, &has_author, id_digest, author_digest, &err) ==
	      -EBADMSG);
	check_msg(&err, "0x880");
	owner_key_free(id_key);
}

/* Each flipped byte of the upstream auth info is refused, with its reason. */
TEST(owner_idblock_verify_refuses_flips)
{
	static const struct {
		size_t off;
		int ret;
		const char *why;
	} flips[] = {
		{ 0x000, -EBADMSG, "ID_KEY_ALGO" },
		{ 0x004, -EBADMSG, "0x680" },		/* algo 0: then the author fields are set */
		{ 0x010, -EBADMSG, "reserved" },
		{ 0x03f, -EBADMSG, "reserved" },
		{ 0x040, -EKEYREJECTED, "ID_BLOCK_SIG" },	/* R */
		{ 0x088, -EKEYREJECTED, "ID_BLOCK_SIG" },	/* S */
		{ 0x040 + 0x30, -EBADMSG, "ID_BLOCK_SIG" },	/* above R's 48 bytes */
		{ 0x040 + 0x100, -EBADMSG, "ID_BLOCK_SIG" },	/* the signature's zeros */
		{ 0x240, -EBADMSG, "CURVE" },
		{ 0x244, -EKEYREJECTED, "ID_BLOCK_SIG" },	/* QX */
		{ 0x290, -EKEYREJECTED, "ID_BLOCK_SIG" },	/* QY */
		{ 0x240 + 0x200, -EBADMSG, "ID_KEY" },	/* the key's zeros */
		{ 0x650, -EBADMSG, "reserved" },
		{ 0x680, -EKEYREJECTED, "ID_KEY_SIG" },
		{ 0x6d0, -EKEYREJECTED, "ID_KEY_SIG" },
		{ 0x680 + 0x1ff, -EBADMSG, "ID_KEY_SIG" },
		{ 0x880, -EBADMSG, "CURVE" },
		{ 0x8a0, -EKEYREJECTED, "ID_KEY_SIG" },
		{ 0x880 + 0x300, -EBADMSG, "AUTHOR_KEY" },
		{ 0xc84, -EBADMSG, "reserved" },
		{ 0xfff, -EBADMSG, "reserved" },
	};
	uint8_t *auth = upstream_auth();
	uint8_t block[ID_BLOCK_SIZE], id_digest[48], author_digest[48];
	struct snp_err err = { 0 };
	bool has_author;

	REQUIRE(auth);
	sev_block(block);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		int ret;

		auth[flips[i].off] ^= 0x01;
		ret = id_auth_verify(block, auth, &has_author, id_digest, author_digest, &err);
		if (!CHECK(ret == flips[i].ret))
			fprintf(stderr, "    byte 0x%03zx: %d (%s)\n", flips[i].off, ret, err.msg);
		check_msg(&err, flips[i].why);
		auth[flips[i].off] ^= 0x01;
	}
	/* Put back, it verifies again: each failure was the flip's. */
	CHECK(id_auth_verify(block, auth, &has_author, id_digest, author_digest, &err) == 0);
	free(auth);
}

/* ---- keys refused ---- */

struct keygen {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context pk;
	unsigned char pem[4096];
};

static bool keygen_init(struct keygen *g)
{
	mbedtls_entropy_init(&g->entropy);
	mbedtls_ctr_drbg_init(&g->drbg);
	mbedtls_pk_init(&g->pk);
	return !mbedtls_ctr_drbg_seed(&g->drbg, mbedtls_entropy_func, &g->entropy, NULL, 0);
}

static bool keygen_start(struct keygen *g, mbedtls_pk_type_t type)
{
	return keygen_init(g) && !mbedtls_pk_setup(&g->pk, mbedtls_pk_info_from_type(type));
}

static void keygen_end(struct keygen *g)
{
	mbedtls_pk_free(&g->pk);
	mbedtls_ctr_drbg_free(&g->drbg);
	mbedtls_entropy_free(&g->entropy);
}

static void check_refused(const void *buf, size_t len, int want_ret, const char *want_msg)
{
	struct owner_key *key = (struct owner_key *)1;
	struct snp_err err = { 0 };

	CHECK(owner_key_load_mem(buf, len, &key, &err) == want_ret);
	CHECK(key == NULL);
	check_msg(&err, want_msg);
}

TEST(owner_idblock_key_refuses_p256)
{
	struct keygen g;

	REQUIRE(keygen_start(&g, MBEDTLS_PK_ECKEY));
	REQUIRE(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(g.pk),
				    mbedtls_ctr_drbg_random, &g.drbg) == 0);
	REQUIRE(mbedtls_pk_write_key_pem(&g.pk, g.pem, sizeof(g.pem)) == 0);
	check_refused(g.pem, strlen((char *)g.pem), -EKEYREJECTED, "secp256r1");
	/* Its public key too. */
	REQUIRE(mbedtls_pk_write_pubkey_pem(&g.pk, g.pem, sizeof(g.pem)) == 0);
	check_refused(g.pem, strlen((char *)g.pem), -EKEYREJECTED, "secp256r1");
	keygen_end(&g);
}

TEST(owner_idblock_key_refuses_rsa)
{
	struct keygen g;

	REQUIRE(keygen_start(&g, MBEDTLS_PK_RSA));
	REQUIRE(mbedtls_rsa_gen_key(mbedtls_pk_rsa(g.pk), mbedtls_ctr_drbg_random, &g.drbg,
				    1024, 65537) == 0);
	REQUIRE(mbedtls_pk_write_key_pem(&g.pk, g.pem, sizeof(g.pem)) == 0);
	check_refused(g.pem, strlen((char *)g.pem), -EKEYREJECTED, "RSA (1024 bits)");
	keygen_end(&g);
}

TEST(owner_idblock_key_refuses_other_types)
{
	static const uint8_t garbage[] = "not a key at all\n\x01\x02\x03";
	static const char pem_garbage[] =
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

	check_refused(ed25519_pem, strlen(ed25519_pem), -EKEYREJECTED, "other than EC");
	check_refused(p521_pem, strlen(p521_pem), -EKEYREJECTED, "curve other than P-384");
	check_refused(encrypted_pem, strlen(encrypted_pem), -EKEYREJECTED, "encrypted");
	check_refused(garbage, sizeof(garbage), -EBADMSG, "not a PEM or DER");
	check_refused(pem_garbage, strlen(pem_garbage), -EBADMSG, "not a PEM or DER");
	check_refused(garbage, 0, -EBADMSG, "not a PEM or DER");
}

/* DER, and the public key alone: loads, same digest, but cannot sign. */
TEST(owner_idblock_key_der_and_public)
{
	struct owner_key *priv = load_shared_key(SEV_ID_KEY);
	struct owner_key *pub = NULL, *der = NULL;
	struct keygen g;
	struct snp_err err = { 0 };
	size_t len, pem_len;
	uint8_t *pem = test_read_shared(SEV_ID_KEY, FILE_MAX, &pem_len);
	uint8_t block[ID_BLOCK_SIZE], auth[ID_AUTH_SIZE], a[48], b[48];
	int n;

	REQUIRE(priv);
	REQUIRE(keygen_init(&g));
	pem = realloc(pem, pem_len + 1);
	pem[pem_len] = '\0';
	REQUIRE(mbedtls_pk_parse_key(&g.pk, pem, pem_len + 1, NULL, 0, mbedtls_ctr_drbg_random,
				     &g.drbg) == 0);
	/* SEC1 DER of the PKCS#8 PEM key (mbedTLS writes DER at the buffer's end). */
	n = mbedtls_pk_write_key_der(&g.pk, g.pem, sizeof(g.pem));
	REQUIRE(n > 0);
	len = (size_t)n;
	REQUIRE(owner_key_load_mem(g.pem + sizeof(g.pem) - len, len, &der, &err) == 0);
	CHECK(owner_key_is_private(der));
	owner_key_digest(priv, a);
	owner_key_digest(der, b);
	CHECK_MEM(b, a, sizeof(a));

	n = mbedtls_pk_write_pubkey_der(&g.pk, g.pem, sizeof(g.pem));
	REQUIRE(n > 0);
	REQUIRE(owner_key_load_mem(g.pem + sizeof(g.pem) - n, (size_t)n, &pub, &err) == 0);
	CHECK(!owner_key_is_private(pub));
	owner_key_digest(pub, b);
	CHECK_MEM(b, a, sizeof(a));

	sev_block(block);
	memset(auth, 0x55, sizeof(auth));
	CHECK(id_auth_build(block, pub, priv, auth, &err) == -EINVAL);
	check_msg(&err, "ID key is a public key");
	CHECK(snp_all_zero(auth, sizeof(auth)));
	CHECK(id_auth_build(block, priv, pub, auth, &err) == -EINVAL);
	check_msg(&err, "author key is a public key");
	CHECK(id_auth_build(block, der, priv, auth, &err) == 0);

	owner_key_free(priv);
	owner_key_free(pub);
	owner_key_free(der);
	owner_key_free(NULL);
	keygen_end(&g);
	free(pem);
}
