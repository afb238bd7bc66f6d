// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ID block, ID auth info and key digests (owner/idblock.h). Layouts from
 * the SEV-SNP firmware ABI (SNP_LAUNCH_FINISH, and its chapter on ECDSA
 * keys and signatures), checked against virtee/sev's test vectors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha512.h>

#include "owner/idblock.h"
#include "snp/amdcert.h"
#include "snp/bytes.h"
#include "snp/fdio.h"
#include "snp/report.h"
#include "snp/verify.h"
#include "tls/tls.h"

/* ID block offsets. */
#define BLOCK_OFF_LD		0x00
#define BLOCK_OFF_FAMILY_ID	0x30
#define BLOCK_OFF_IMAGE_ID	0x40
#define BLOCK_OFF_VERSION	0x50
#define BLOCK_OFF_GUEST_SVN	0x54
#define BLOCK_OFF_POLICY	0x58

/* In an AMD public key and signature: 72-byte little-endian fields. */
#define AMD_FIELD_SIZE		0x48
#define AMD_KEY_OFF_QX		0x04
#define AMD_KEY_OFF_QY		0x4C
#define AMD_KEY_OFF_RESERVED	0x94
#define AMD_SIG_OFF_R		0x00
#define AMD_SIG_OFF_S		0x48
#define AMD_SIG_OFF_RESERVED	0x90

#define DIGEST_SIZE		SNP_KEY_DIGEST_SIZE

struct owner_key {
	mbedtls_pk_context pk;
	bool is_private;
	uint8_t amd[AMD_PUBKEY_SIZE];	/* the public key in AMD's form */
};

/* The blinding of ECDSA and of the key checks needs randomness. */
struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static int rng_open(struct rng *rng, struct snp_err *err)
{
	static const char who[] = "snp-owner idblock";
	char why[128];
	int ret;

	mbedtls_entropy_init(&rng->entropy);
	mbedtls_ctr_drbg_init(&rng->drbg);
	ret = mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func, &rng->entropy,
				    (const unsigned char *)who, sizeof(who) - 1);
	if (ret)
		return snp_errf(err, -EIO, "seeding the random generator: %s",
				tls_strerror(ret, why, sizeof(why)));
	return 0;
}

static void rng_close(struct rng *rng)
{
	mbedtls_ctr_drbg_free(&rng->drbg);
	mbedtls_entropy_free(&rng->entropy);
}

/* ---- the ID block ---- */

void id_block_encode(const struct id_block *b, uint8_t out[ID_BLOCK_SIZE])
{
	memcpy(out + BLOCK_OFF_LD, b->ld, sizeof(b->ld));
	memcpy(out + BLOCK_OFF_FAMILY_ID, b->family_id, sizeof(b->family_id));
	memcpy(out + BLOCK_OFF_IMAGE_ID, b->image_id, sizeof(b->image_id));
	snp_put_le32(out + BLOCK_OFF_VERSION, ID_BLOCK_VERSION);
	snp_put_le32(out + BLOCK_OFF_GUEST_SVN, b->guest_svn);
	snp_put_le64(out + BLOCK_OFF_POLICY, b->policy);
}

int id_block_decode(const uint8_t in[ID_BLOCK_SIZE], struct id_block *b, struct snp_err *err)
{
	uint32_t version = snp_get_le32(in + BLOCK_OFF_VERSION);

	memset(b, 0, sizeof(*b));
	if (version != ID_BLOCK_VERSION)
		return snp_errf(err, -EBADMSG, "ID block VERSION is %u; only %d is defined",
				version, ID_BLOCK_VERSION);
	memcpy(b->ld, in + BLOCK_OFF_LD, sizeof(b->ld));
	memcpy(b->family_id, in + BLOCK_OFF_FAMILY_ID, sizeof(b->family_id));
	memcpy(b->image_id, in + BLOCK_OFF_IMAGE_ID, sizeof(b->image_id));
	b->guest_svn = snp_get_le32(in + BLOCK_OFF_GUEST_SVN);
	b->policy = snp_get_le64(in + BLOCK_OFF_POLICY);
	return 0;
}

/* ---- keys ---- */

/* Errors that say more about the input than "not a key". */
static bool parse_error_telling(int ret)
{
	return ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED ||
	       ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH ||
	       ret == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG ||
	       ret == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE;
}

static int parse_error(int ret, struct snp_err *err)
{
	char why[128];

	tls_strerror(ret, why, sizeof(why));
	switch (ret) {
	case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
	case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
		return snp_errf(err, -EKEYREJECTED,
				"the key is encrypted; give it unencrypted (%s)", why);
	case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
		return snp_errf(err, -EKEYREJECTED,
				"the key is of a type other than EC (%s); an ID or author key is ECDSA P-384",
				why);
	case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
		return snp_errf(err, -EKEYREJECTED,
				"the key is an EC key on a curve other than P-384 (%s); an ID or author key is ECDSA P-384",
				why);
	default:
		return snp_errf(err, -EBADMSG,
				"not a PEM or DER private key (SEC1, PKCS#8) or public key (SubjectPublicKeyInfo): %s",
				why);
	}
}

/*
 * A private key first, then a public one; buf is NUL-terminated at len.
 * PEM wants the NUL counted in the length, DER must not have it.
 */
static int parse_key(struct owner_key *key, const uint8_t *buf, size_t len, struct rng *rng,
		     struct snp_err *err)
{
	size_t n = strstr((const char *)buf, "-----BEGIN ") ? len + 1 : len;
	int priv_ret, pub_ret;

	priv_ret = mbedtls_pk_parse_key(&key->pk, buf, n, NULL, 0, mbedtls_ctr_drbg_random,
					&rng->drbg);
	if (!priv_ret) {
		key->is_private = true;
		return 0;
	}
	mbedtls_pk_free(&key->pk);
	mbedtls_pk_init(&key->pk);
	pub_ret = mbedtls_pk_parse_public_key(&key->pk, buf, n);
	if (!pub_ret)
		return 0;
	if (parse_error_telling(priv_ret) || !parse_error_telling(pub_ret))
		return parse_error(priv_ret, err);
	return parse_error(pub_ret, err);
}

static int check_p384(const struct owner_key *key, struct snp_err *err)
{
	const mbedtls_ecp_curve_info *curve;
	mbedtls_ecp_group_id gid;

	if (mbedtls_pk_get_type(&key->pk) != MBEDTLS_PK_ECKEY)
		return snp_errf(err, -EKEYREJECTED,
				"the key is %s (%zu bits); an ID or author key is ECDSA P-384",
				mbedtls_pk_get_name(&key->pk), mbedtls_pk_get_bitlen(&key->pk));
	gid = mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(key->pk));
	if (gid == MBEDTLS_ECP_DP_SECP384R1)
		return 0;
	curve = mbedtls_ecp_curve_info_from_grp_id(gid);
	return snp_errf(err, -EKEYREJECTED,
			"the key is an EC key on curve %s; an ID or author key is ECDSA P-384 (secp384r1)",
			curve ? curve->name : "unknown");
}

/* The AMD form of the public key, and for a private key, that it is its own. */
static int key_finish(struct owner_key *key, struct rng *rng, struct snp_err *err)
{
	const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(key->pk);
	uint8_t point[SNP_P384_POINT_SIZE];
	size_t olen = 0;

	if (key->is_private &&
	    mbedtls_pk_check_pair(&key->pk, &key->pk, mbedtls_ctr_drbg_random, &rng->drbg))
		return snp_errf(err, -EKEYREJECTED,
				"the private key's public point is not its own (a damaged key)");
	if (mbedtls_ecp_write_public_key(ec, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, point,
					 sizeof(point)) || olen != sizeof(point))
		return snp_errf(err, -EKEYREJECTED, "cannot export the key's P-384 point");
	memset(key->amd, 0, sizeof(key->amd));
	snp_put_le32(key->amd, AMD_CURVE_P384);
	snp_reverse_copy(key->amd + AMD_KEY_OFF_QX, point + 1, SNP_P384_SIZE);
	snp_reverse_copy(key->amd + AMD_KEY_OFF_QY, point + 1 + SNP_P384_SIZE, SNP_P384_SIZE);
	return 0;
}

int owner_key_load_mem(const uint8_t *buf, size_t len, struct owner_key **out,
		       struct snp_err *err)
{
	struct owner_key *key = NULL;
	uint8_t *copy = NULL;
	struct rng rng;
	int ret;

	*out = NULL;
	ret = rng_open(&rng, err);
	if (ret)
		goto out;
	key = calloc(1, sizeof(*key));
	copy = malloc(len + 1);
	if (!key || !copy) {
		ret = snp_errf(err, -ENOMEM, "out of memory for a key");
		goto out;
	}
	mbedtls_pk_init(&key->pk);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	ret = parse_key(key, copy, len, &rng, err);
	if (!ret)
		ret = check_p384(key, err);
	if (!ret)
		ret = key_finish(key, &rng, err);
out:
	if (copy) {
		mbedtls_platform_zeroize(copy, len + 1);
		free(copy);
	}
	rng_close(&rng);
	if (ret) {
		owner_key_free(key);
		return ret;
	}
	*out = key;
	return 0;
}

int owner_key_load(const char *path, struct owner_key **key, struct snp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	*key = NULL;
	ret = snp_read_file(path, OWNER_KEY_FILE_MAX, &buf, &len, err);
	if (ret)
		return ret;
	ret = owner_key_load_mem(buf, len, key, err);
	mbedtls_platform_zeroize(buf, len);
	free(buf);
	if (ret && err) {
		struct snp_err why = *err;

		snp_errf(err, ret, "%s: %s", path, why.msg);
	}
	return ret;
}

bool owner_key_is_private(const struct owner_key *key)
{
	return key->is_private;
}

void owner_key_free(struct owner_key *key)
{
	if (!key)
		return;
	mbedtls_pk_free(&key->pk);	/* zeroizes the private scalar */
	mbedtls_platform_zeroize(key, sizeof(*key));
	free(key);
}

void owner_key_amd_public(const struct owner_key *key, uint8_t out[AMD_PUBKEY_SIZE])
{
	memcpy(out, key->amd, AMD_PUBKEY_SIZE);
}

static void amd_key_digest(const uint8_t amd[AMD_PUBKEY_SIZE], uint8_t out[DIGEST_SIZE])
{
	/* SHA-384 of 0x404 bytes in memory cannot fail. */
	if (mbedtls_sha512(amd, AMD_PUBKEY_SIZE, out, 1))
		memset(out, 0, DIGEST_SIZE);
}

void owner_key_digest(const struct owner_key *key, uint8_t out[DIGEST_SIZE])
{
	amd_key_digest(key->amd, out);
}

/* ---- signing ---- */

/* ECDSA P-384 with SHA-384 of data, deterministic (RFC 6979), in AMD's layout. */
static int amd_sign(const struct owner_key *key, const uint8_t *data, size_t len,
		    uint8_t out[AMD_SIG_SIZE], struct rng *rng, const char *what,
		    struct snp_err *err)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi d, r, s;
	uint8_t hash[DIGEST_SIZE];
	char why[128];
	int ret;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	memset(out, 0, AMD_SIG_SIZE);
	ret = mbedtls_ecp_export(mbedtls_pk_ec(key->pk), &grp, &d, &q);
	if (!ret)
		ret = mbedtls_sha512(data, len, hash, 1);
	if (!ret)
		ret = mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, hash, sizeof(hash),
						 MBEDTLS_MD_SHA384, mbedtls_ctr_drbg_random,
						 &rng->drbg);
	if (!ret)
		ret = mbedtls_mpi_write_binary_le(&r, out + AMD_SIG_OFF_R, AMD_FIELD_SIZE);
	if (!ret)
		ret = mbedtls_mpi_write_binary_le(&s, out + AMD_SIG_OFF_S, AMD_FIELD_SIZE);
	mbedtls_mpi_free(&d);	/* zeroizes the copy of the private scalar */
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	if (ret)
		return snp_errf(err, -EIO, "signing %s: %s", what,
				tls_strerror(ret, why, sizeof(why)));
	return 0;
}

static int need_private(const struct owner_key *key, const char *name, struct snp_err *err)
{
	if (key->is_private)
		return 0;
	return snp_errf(err, -EINVAL,
			"the %s key is a public key; signing the ID auth info needs its private key",
			name);
}

int id_auth_build(const uint8_t block[ID_BLOCK_SIZE], const struct owner_key *id_key,
		  const struct owner_key *author_key, uint8_t out[ID_AUTH_SIZE],
		  struct snp_err *err)
{
	struct rng rng;
	int ret;

	memset(out, 0, ID_AUTH_SIZE);
	ret = need_private(id_key, "ID", err);
	if (!ret && author_key)
		ret = need_private(author_key, "author", err);
	if (ret)
		return ret;
	ret = rng_open(&rng, err);
	if (!ret)
		ret = amd_sign(id_key, block, ID_BLOCK_SIZE, out + ID_AUTH_OFF_ID_BLOCK_SIG, &rng,
			       "the ID block with the ID key", err);
	memcpy(out + ID_AUTH_OFF_ID_KEY, id_key->amd, AMD_PUBKEY_SIZE);
	if (!ret && author_key)
		ret = amd_sign(author_key, id_key->amd, AMD_PUBKEY_SIZE,
			       out + ID_AUTH_OFF_ID_KEY_SIG, &rng,
			       "the ID key with the author key", err);
	rng_close(&rng);
	if (ret) {
		memset(out, 0, ID_AUTH_SIZE);
		return ret;
	}
	snp_put_le32(out + ID_AUTH_OFF_ID_KEY_ALGO, ID_KEY_ALGO_ECDSA_P384_SHA384);
	if (author_key) {
		snp_put_le32(out + ID_AUTH_OFF_AUTHOR_KEY_ALGO, ID_KEY_ALGO_ECDSA_P384_SHA384);
		memcpy(out + ID_AUTH_OFF_AUTHOR_KEY, author_key->amd, AMD_PUBKEY_SIZE);
	}
	return 0;
}

/* ---- verifying ---- */

/* The first non-zero byte of [from, to) of auth, as an error. */
static int check_zero(const uint8_t *auth, size_t from, size_t to, const char *what,
		      struct snp_err *err)
{
	for (size_t i = from; i < to; i++)
		if (auth[i])
			return snp_errf(err, -EBADMSG,
					"ID auth info byte 0x%03zx (%s) is 0x%02x; it must be zero",
					i, what, auth[i]);
	return 0;
}

/* The AMD public key at auth[off] as an uncompressed point. */
static int amd_key_point(const uint8_t *auth, size_t off, const char *name,
			 uint8_t point[SNP_P384_POINT_SIZE], struct snp_err *err)
{
	const uint8_t *k = auth + off;
	uint32_t curve = snp_get_le32(k);
	int ret;

	if (curve != AMD_CURVE_P384)
		return snp_errf(err, -EBADMSG,
				"ID auth info %s CURVE (at 0x%03zx) is %u; only %d (P-384) is defined",
				name, off, curve, AMD_CURVE_P384);
	ret = check_zero(auth, off + AMD_KEY_OFF_QX + SNP_P384_SIZE, off + AMD_KEY_OFF_QY, name,
			 err);
	if (!ret)
		ret = check_zero(auth, off + AMD_KEY_OFF_QY + SNP_P384_SIZE, off + AMD_PUBKEY_SIZE,
				 name, err);
	if (ret)
		return ret;
	point[0] = 0x04;
	snp_reverse_copy(point + 1, k + AMD_KEY_OFF_QX, SNP_P384_SIZE);
	snp_reverse_copy(point + 1 + SNP_P384_SIZE, k + AMD_KEY_OFF_QY, SNP_P384_SIZE);
	return 0;
}

/* The AMD signature at auth[off] over data, with the key at auth[key_off]. */
static int check_sig(const uint8_t *auth, size_t off, size_t key_off, const char *key_name,
		     const uint8_t *data, size_t len, const char *what, struct snp_err *err)
{
	const uint8_t *sig = auth + off;
	uint8_t point[SNP_P384_POINT_SIZE], r[SNP_P384_SIZE], s[SNP_P384_SIZE];
	int ret;

	ret = amd_key_point(auth, key_off, key_name, point, err);
	if (!ret)
		ret = check_zero(auth, off + AMD_SIG_OFF_R + SNP_P384_SIZE, off + AMD_SIG_OFF_S,
				 what, err);
	if (!ret)
		ret = check_zero(auth, off + AMD_SIG_OFF_S + SNP_P384_SIZE, off + AMD_SIG_SIZE,
				 what, err);
	if (ret)
		return ret;
	snp_reverse_copy(r, sig + AMD_SIG_OFF_R, SNP_P384_SIZE);
	snp_reverse_copy(s, sig + AMD_SIG_OFF_S, SNP_P384_SIZE);
	return snp_verify_p384(point, r, s, data, len, what, err);
}

static int check_algos(const uint8_t auth[ID_AUTH_SIZE], bool *has_author, struct snp_err *err)
{
	uint32_t id_algo = snp_get_le32(auth + ID_AUTH_OFF_ID_KEY_ALGO);
	uint32_t author_algo = snp_get_le32(auth + ID_AUTH_OFF_AUTHOR_KEY_ALGO);

	if (id_algo != ID_KEY_ALGO_ECDSA_P384_SHA384)
		return snp_errf(err, -EBADMSG,
				"ID auth info ID_KEY_ALGO is %u; only %d (ECDSA P-384 with SHA-384) is defined",
				id_algo, ID_KEY_ALGO_ECDSA_P384_SHA384);
	if (author_algo != ID_KEY_ALGO_ECDSA_P384_SHA384 && author_algo != 0)
		return snp_errf(err, -EBADMSG,
				"ID auth info AUTHOR_KEY_ALGO is %u; only %d (ECDSA P-384 with SHA-384) or 0 (no author key) is taken",
				author_algo, ID_KEY_ALGO_ECDSA_P384_SHA384);
	*has_author = author_algo != 0;
	return 0;
}

static int check_reserved(const uint8_t auth[ID_AUTH_SIZE], struct snp_err *err)
{
	int ret;

	ret = check_zero(auth, ID_AUTH_OFF_RESERVED1, ID_AUTH_OFF_ID_BLOCK_SIG, "reserved", err);
	if (!ret)
		ret = check_zero(auth, ID_AUTH_OFF_RESERVED2, ID_AUTH_OFF_ID_KEY_SIG, "reserved",
				 err);
	if (!ret)
		ret = check_zero(auth, ID_AUTH_OFF_RESERVED3, ID_AUTH_SIZE, "reserved", err);
	return ret;
}

int id_auth_verify(const uint8_t block[ID_BLOCK_SIZE], const uint8_t auth[ID_AUTH_SIZE],
		   bool *has_author, uint8_t id_key_digest[DIGEST_SIZE],
		   uint8_t author_key_digest[DIGEST_SIZE], struct snp_err *err)
{
	bool author = false;
	int ret;

	*has_author = false;
	memset(id_key_digest, 0, DIGEST_SIZE);
	memset(author_key_digest, 0, DIGEST_SIZE);
	ret = check_algos(auth, &author, err);
	if (!ret)
		ret = check_reserved(auth, err);
	if (!ret)
		ret = check_sig(auth, ID_AUTH_OFF_ID_BLOCK_SIG, ID_AUTH_OFF_ID_KEY, "ID_KEY", block,
				ID_BLOCK_SIZE, "the ID block signature (ID_BLOCK_SIG) by ID_KEY",
				err);
	if (!ret && author)
		ret = check_sig(auth, ID_AUTH_OFF_ID_KEY_SIG, ID_AUTH_OFF_AUTHOR_KEY, "AUTHOR_KEY",
				auth + ID_AUTH_OFF_ID_KEY, AMD_PUBKEY_SIZE,
				"the ID key signature (ID_KEY_SIG) by AUTHOR_KEY", err);
	else if (!ret)
		ret = check_zero(auth, ID_AUTH_OFF_ID_KEY_SIG, ID_AUTH_OFF_RESERVED3,
				 "an author field, with AUTHOR_KEY_ALGO 0", err);
	if (ret)
		return ret;
	amd_key_digest(auth + ID_AUTH_OFF_ID_KEY, id_key_digest);
	if (author)
		amd_key_digest(auth + ID_AUTH_OFF_AUTHOR_KEY, author_key_digest);
	*has_author = author;
	return 0;
}
