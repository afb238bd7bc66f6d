// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sealing a secret to the agent's ephemeral P-256 key (docs/protocol.md,
 * "Sealing"): ECDH, HKDF-SHA256 into an AES-256-GCM key and IV, and the
 * AAD that binds the nonce and the volume. Private keys live in PSA's key
 * store only for the one operation that needs them (PSA blinds the scalar
 * multiplication with its own DRBG); peer keys are checked on the curve
 * with the legacy ECP module before anything uses them.
 */
#include <errno.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

#include "proto/internal.h"
#include "proto/proto.h"

static const char seal_info_label[] = "snp-unseal/v1/seal";
static const char seal_aad_label[] = "snp-unseal/v1/seal-aad";

/* Tries of proto_key_generate: a random 256-bit value is out of range with p < 2^-32. */
enum { KEY_GENERATE_TRIES = 16 };

static int psa_ready(struct snp_err *err)
{
	if (psa_crypto_init() != PSA_SUCCESS)
		return snp_errf(err, -EIO, "PSA crypto did not initialise");
	return 0;
}

static int import_private(const uint8_t priv[PROTO_PRIVKEY_SIZE], psa_key_id_t *id,
			  struct snp_err *err)
{
	psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
	psa_status_t st;
	int ret = psa_ready(err);

	if (ret)
		return ret;
	psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
	psa_set_key_bits(&attr, 256);
	psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
	psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
	st = psa_import_key(&attr, priv, PROTO_PRIVKEY_SIZE, id);
	psa_reset_key_attributes(&attr);
	if (st == PSA_ERROR_INVALID_ARGUMENT)
		return snp_errf(err, -EINVAL,
				"the private key is not a P-256 scalar (zero, or not below the group order)");
	if (st != PSA_SUCCESS)
		return snp_errf(err, -EIO, "PSA could not import a P-256 key (status %d)", (int)st);
	return 0;
}

int proto_key_from_private(struct proto_key *key, const uint8_t priv[PROTO_PRIVKEY_SIZE],
			   struct snp_err *err)
{
	psa_key_id_t id = PSA_KEY_ID_NULL;
	uint8_t pub[PROTO_PUBKEY_SIZE];
	size_t pub_len = 0;
	int ret = import_private(priv, &id, err);

	if (ret)
		goto out;
	if (psa_export_public_key(id, pub, sizeof(pub), &pub_len) != PSA_SUCCESS ||
	    pub_len != PROTO_PUBKEY_SIZE) {
		ret = snp_errf(err, -EIO, "PSA could not export the P-256 public key");
		goto out;
	}
	/* priv may be key->priv itself. */
	memmove(key->priv, priv, PROTO_PRIVKEY_SIZE);
	memcpy(key->pub, pub, PROTO_PUBKEY_SIZE);
out:
	psa_destroy_key(id);
	return ret;
}

int proto_key_generate(struct proto_key *key, proto_rng_fn rng, void *rng_ctx,
		       struct snp_err *err)
{
	uint8_t d[PROTO_PRIVKEY_SIZE];
	int ret = -EINVAL;

	for (int i = 0; i < KEY_GENERATE_TRIES && ret == -EINVAL; i++) {
		if (rng(rng_ctx, d, sizeof(d))) {
			ret = snp_errf(err, -EIO, "the random generator failed");
			goto out;
		}
		ret = proto_key_from_private(key, d, err);
	}
	if (ret == -EINVAL)
		snp_errf(err, -EIO, "the random generator gave %d values that are not P-256 keys",
			 KEY_GENERATE_TRIES);
	if (ret)
		ret = -EIO;
out:
	mbedtls_platform_zeroize(d, sizeof(d));
	if (ret)
		proto_key_wipe(key);
	return ret;
}

void proto_key_wipe(struct proto_key *key)
{
	mbedtls_platform_zeroize(key, sizeof(*key));
}

bool proto_pubkey_valid(const uint8_t pub[PROTO_PUBKEY_SIZE])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point pt;
	bool valid = false;

	/* read_binary would also take 0x00 (the point at infinity) and compressed forms. */
	if (pub[0] != 0x04)
		return false;
	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&pt);
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1))
		goto out;
	if (mbedtls_ecp_point_read_binary(&grp, &pt, pub, PROTO_PUBKEY_SIZE))
		goto out;
	valid = mbedtls_ecp_check_pubkey(&grp, &pt) == 0;
out:
	mbedtls_ecp_point_free(&pt);
	mbedtls_ecp_group_free(&grp);
	return valid;
}

static int ecdh(const uint8_t own_priv[PROTO_PRIVKEY_SIZE],
		const uint8_t peer_pub[PROTO_PUBKEY_SIZE], uint8_t z[PROTO_Z_SIZE],
		struct snp_err *err)
{
	psa_key_id_t id = PSA_KEY_ID_NULL;
	size_t z_len = 0;
	psa_status_t st;
	int ret;

	if (!proto_pubkey_valid(peer_pub))
		return snp_errf(err, -EBADMSG,
				"the peer's public key is not a point on P-256 in SEC1 uncompressed form");
	ret = import_private(own_priv, &id, err);
	if (ret)
		goto out;
	st = psa_raw_key_agreement(PSA_ALG_ECDH, id, peer_pub, PROTO_PUBKEY_SIZE, z,
				   PROTO_Z_SIZE, &z_len);
	if (st != PSA_SUCCESS || z_len != PROTO_Z_SIZE)
		ret = snp_errf(err, -EIO, "P-256 ECDH failed (status %d)", (int)st);
out:
	psa_destroy_key(id);
	if (ret)
		mbedtls_platform_zeroize(z, PROTO_Z_SIZE);
	return ret;
}

int proto_seal_derive(const uint8_t own_priv[PROTO_PRIVKEY_SIZE],
		      const uint8_t peer_pub[PROTO_PUBKEY_SIZE],
		      const uint8_t agent_pub[PROTO_PUBKEY_SIZE],
		      const uint8_t service_pub[PROTO_PUBKEY_SIZE],
		      const uint8_t nonce[PROTO_NONCE_SIZE], const char *volume,
		      struct proto_seal_keys *keys, struct snp_err *err)
{
	size_t volume_len = strnlen(volume, PROTO_VOLUME_LEN + 1);
	struct proto_lv info, aad;
	int ret;

	memset(keys, 0, sizeof(*keys));
	if (!proto_volume_valid(volume, volume_len))
		return snp_errf(err, -EINVAL, "the volume id to seal for is not canonical");
	proto_lv_init(&info, seal_info_label);
	proto_lv_add(&info, agent_pub, PROTO_PUBKEY_SIZE);
	proto_lv_add(&info, service_pub, PROTO_PUBKEY_SIZE);
	proto_lv_add(&info, volume, volume_len);
	proto_lv_init(&aad, seal_aad_label);
	proto_lv_add(&aad, nonce, PROTO_NONCE_SIZE);
	proto_lv_add(&aad, volume, volume_len);
	if (!proto_lv_ok(&info) || !proto_lv_ok(&aad) || aad.len > sizeof(keys->aad))
		return snp_errf(err, -EOVERFLOW, "the KDF info or the AAD does not fit its buffer");
	ret = ecdh(own_priv, peer_pub, keys->z, err);
	if (ret)
		goto out;
	if (mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), nonce, PROTO_NONCE_SIZE,
			 keys->z, PROTO_Z_SIZE, info.buf, info.len, keys->okm, PROTO_OKM_SIZE)) {
		ret = snp_errf(err, -EIO, "HKDF-SHA256 failed");
		goto out;
	}
	memcpy(keys->aad, aad.buf, aad.len);
	keys->aad_len = aad.len;
out:
	if (ret)
		proto_seal_keys_wipe(keys);
	return ret;
}

void proto_seal_keys_wipe(struct proto_seal_keys *keys)
{
	mbedtls_platform_zeroize(keys, sizeof(*keys));
}

static int gcm_key(mbedtls_gcm_context *gcm, const struct proto_seal_keys *keys,
		   struct snp_err *err)
{
	if (mbedtls_gcm_setkey(gcm, MBEDTLS_CIPHER_ID_AES, keys->okm, PROTO_KEY_SIZE * 8))
		return snp_errf(err, -EIO, "AES-256-GCM did not take the derived key");
	return 0;
}

int proto_seal(const struct proto_key *service_key, const uint8_t agent_pubkey[PROTO_PUBKEY_SIZE],
	       const uint8_t nonce[PROTO_NONCE_SIZE], const char *volume,
	       const uint8_t *secret, size_t secret_len, struct proto_sealed *out,
	       struct snp_err *err)
{
	struct proto_seal_keys keys;
	mbedtls_gcm_context gcm;
	int ret;

	mbedtls_gcm_init(&gcm);
	memset(out, 0, sizeof(*out));
	if (secret_len < PROTO_SECRET_MIN || secret_len > PROTO_SECRET_MAX) {
		ret = snp_errf(err, -EINVAL, "a secret is %d to %d bytes, not %zu",
			       PROTO_SECRET_MIN, PROTO_SECRET_MAX, secret_len);
		goto out;
	}
	ret = proto_seal_derive(service_key->priv, agent_pubkey, agent_pubkey, service_key->pub,
				nonce, volume, &keys, err);
	if (ret)
		goto out;
	ret = gcm_key(&gcm, &keys, err);
	if (ret)
		goto out;
	if (mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, secret_len,
				      keys.okm + PROTO_KEY_SIZE, PROTO_IV_SIZE, keys.aad,
				      keys.aad_len, secret, out->ciphertext, PROTO_TAG_SIZE,
				      out->ciphertext + secret_len)) {
		ret = snp_errf(err, -EIO, "AES-256-GCM encryption failed");
		goto out;
	}
	memcpy(out->service_pubkey, service_key->pub, PROTO_PUBKEY_SIZE);
	out->ciphertext_len = secret_len + PROTO_TAG_SIZE;
out:
	mbedtls_gcm_free(&gcm);
	proto_seal_keys_wipe(&keys);
	if (ret)
		mbedtls_platform_zeroize(out, sizeof(*out));
	return ret;
}

int proto_open(const struct proto_key *agent_key, const struct proto_sealed *sealed,
	       const uint8_t nonce[PROTO_NONCE_SIZE], const char *volume, uint8_t *secret,
	       size_t *secret_len, struct snp_err *err)
{
	size_t len = sealed->ciphertext_len - PROTO_TAG_SIZE;
	struct proto_seal_keys keys;
	mbedtls_gcm_context gcm;
	int ret;

	*secret_len = 0;
	mbedtls_gcm_init(&gcm);
	memset(&keys, 0, sizeof(keys));
	if (sealed->ciphertext_len < PROTO_SECRET_MIN + PROTO_TAG_SIZE ||
	    sealed->ciphertext_len > PROTO_CIPHERTEXT_MAX) {
		ret = snp_errf(err, -EBADMSG, "the ciphertext is %zu bytes, not %d to %d",
			       sealed->ciphertext_len, PROTO_SECRET_MIN + PROTO_TAG_SIZE,
			       PROTO_CIPHERTEXT_MAX);
		goto out;
	}
	ret = proto_seal_derive(agent_key->priv, sealed->service_pubkey, agent_key->pub,
				sealed->service_pubkey, nonce, volume, &keys, err);
	if (ret)
		goto out;
	ret = gcm_key(&gcm, &keys, err);
	if (ret)
		goto out;
	if (mbedtls_gcm_auth_decrypt(&gcm, len, keys.okm + PROTO_KEY_SIZE, PROTO_IV_SIZE,
				     keys.aad, keys.aad_len, sealed->ciphertext + len,
				     PROTO_TAG_SIZE, sealed->ciphertext, secret)) {
		mbedtls_platform_zeroize(secret, len);
		ret = snp_errf(err, -EBADMSG,
			       "the sealed secret does not open: its tag does not verify for this key, nonce and volume");
		goto out;
	}
	*secret_len = len;
out:
	mbedtls_gcm_free(&gcm);
	proto_seal_keys_wipe(&keys);
	return ret;
}
