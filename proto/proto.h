/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_PROTO_PROTO_H
#define SNP_PROTO_PROTO_H

/*
 * The unseal protocol of docs/protocol.md, shared by agent and broker:
 * the REPORT_DATA binding, sealing a secret to the agent's ephemeral key
 * and opening it, and the JSON messages. The decoders are strict: exact
 * members, types and sizes, no repeats; they are fuzzed (proto/fuzz/).
 * Errors: a negative errno (-EBADMSG for a bad message) and a sentence
 * in err naming the member or value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"
#include "snp/report.h"

#define PROTO_VERSION		1
#define PROTO_NONCE_SIZE	32
#define PROTO_EKM_SIZE		32
#define PROTO_PUBKEY_SIZE	65	/* P-256, SEC1 uncompressed */
#define PROTO_PRIVKEY_SIZE	32
#define PROTO_VOLUME_LEN	36	/* canonical lowercase UUID */
#define PROTO_SECRET_MIN	16
#define PROTO_SECRET_MAX	256
#define PROTO_TAG_SIZE		16
#define PROTO_CIPHERTEXT_MAX	(PROTO_SECRET_MAX + PROTO_TAG_SIZE)
#define PROTO_CERT_TABLE_MAX	16384
#define PROTO_NONCE_LIFETIME_DEFAULT 60
/* Requests and responses are at most this large (docs/protocol.md). */
#define PROTO_REQUEST_MAX	65536
#define PROTO_RESPONSE_MAX	16384

/* A random source in mbedTLS's shape (mbedtls_ctr_drbg_random, ...). */
typedef int (*proto_rng_fn)(void *ctx, unsigned char *out, size_t len);

/* The volume id: 36 characters, lowercase hex and hyphens at 8/13/18/23. */
bool proto_volume_valid(const char *volume, size_t len);
/* Accept any case, write the canonical form (37 bytes with the NUL). */
int proto_volume_canonical(const char *in, char out[PROTO_VOLUME_LEN + 1], struct snp_err *err);

/* REPORT_DATA = SHA-512(label, nonce, ekm, pubkey, volume), docs/protocol.md section 2. */
int proto_report_data(const uint8_t nonce[PROTO_NONCE_SIZE], const uint8_t ekm[PROTO_EKM_SIZE],
		      const uint8_t pubkey[PROTO_PUBKEY_SIZE], const char *volume,
		      uint8_t out[SNP_REPORT_DATA_SIZE]);
/* a and b equal, in time that does not depend on where they differ. */
bool proto_ct_equal(const void *a, const void *b, size_t len);

/* An ephemeral P-256 key pair; proto_key_wipe() when done. */
struct proto_key {
	uint8_t priv[PROTO_PRIVKEY_SIZE];
	uint8_t pub[PROTO_PUBKEY_SIZE];
};
int proto_key_generate(struct proto_key *key, proto_rng_fn rng, void *rng_ctx,
		       struct snp_err *err);
/* From a fixed private key (test vectors); computes pub. */
int proto_key_from_private(struct proto_key *key, const uint8_t priv[PROTO_PRIVKEY_SIZE],
			   struct snp_err *err);
void proto_key_wipe(struct proto_key *key);
/* A valid point on P-256 in SEC1 uncompressed form. */
bool proto_pubkey_valid(const uint8_t pub[PROTO_PUBKEY_SIZE]);

struct proto_sealed {
	uint8_t service_pubkey[PROTO_PUBKEY_SIZE];
	uint8_t ciphertext[PROTO_CIPHERTEXT_MAX];	/* secret || tag */
	size_t ciphertext_len;
};

/*
 * Seal secret to agent_pubkey with the service key (fresh for each call:
 * generate it, seal, wipe it). Nonce and volume go into the KDF info and
 * the AAD as docs/protocol.md says.
 */
int proto_seal(const struct proto_key *service_key, const uint8_t agent_pubkey[PROTO_PUBKEY_SIZE],
	       const uint8_t nonce[PROTO_NONCE_SIZE], const char *volume,
	       const uint8_t *secret, size_t secret_len, struct proto_sealed *out,
	       struct snp_err *err);
/* Open; -EBADMSG when the tag does not verify. secret must hold PROTO_SECRET_MAX. */
int proto_open(const struct proto_key *agent_key, const struct proto_sealed *sealed,
	       const uint8_t nonce[PROTO_NONCE_SIZE], const char *volume, uint8_t *secret,
	       size_t *secret_len, struct snp_err *err);

/*
 * The steps of proto_seal and proto_open, exposed for the test vectors:
 * Z = ECDH(own_priv, peer_pub) (peer_pub checked first), okm =
 * HKDF-SHA256(nonce, Z, info, 44), and the AAD. Wipe with
 * proto_seal_keys_wipe.
 */
#define PROTO_OKM_SIZE		44	/* key (32) || iv (12) */
#define PROTO_KEY_SIZE		32
#define PROTO_IV_SIZE		12
#define PROTO_Z_SIZE		32
#define PROTO_AAD_MAX		128
struct proto_seal_keys {
	uint8_t z[PROTO_Z_SIZE];
	uint8_t okm[PROTO_OKM_SIZE];
	uint8_t aad[PROTO_AAD_MAX];
	size_t aad_len;
};
int proto_seal_derive(const uint8_t own_priv[PROTO_PRIVKEY_SIZE],
		      const uint8_t peer_pub[PROTO_PUBKEY_SIZE],
		      const uint8_t agent_pub[PROTO_PUBKEY_SIZE],
		      const uint8_t service_pub[PROTO_PUBKEY_SIZE],
		      const uint8_t nonce[PROTO_NONCE_SIZE], const char *volume,
		      struct proto_seal_keys *keys, struct snp_err *err);
void proto_seal_keys_wipe(struct proto_seal_keys *keys);

/* Messages. Encoders return a malloc'd NUL-terminated JSON text and its length. */
struct proto_challenge {
	uint8_t nonce[PROTO_NONCE_SIZE];
	uint32_t expires_in;		/* seconds */
};
/* The challenge request body must be exactly an empty object. */
int proto_challenge_request_decode(const char *json, size_t len, struct snp_err *err);
int proto_challenge_encode(const struct proto_challenge *c, char **json, size_t *len);
int proto_challenge_decode(const char *json, size_t len, struct proto_challenge *c,
			   struct snp_err *err);

struct proto_unseal_request {
	char volume[PROTO_VOLUME_LEN + 1];
	uint8_t nonce[PROTO_NONCE_SIZE];
	uint8_t pubkey[PROTO_PUBKEY_SIZE];
	uint8_t report[SNP_REPORT_SIZE];
	uint8_t *cert_table;		/* malloc'd, or NULL */
	size_t cert_table_len;
};
int proto_unseal_request_encode(const struct proto_unseal_request *r, char **json, size_t *len);
int proto_unseal_request_decode(const char *json, size_t len, struct proto_unseal_request *r,
				struct snp_err *err);
void proto_unseal_request_free(struct proto_unseal_request *r);

struct proto_unseal_response {
	char volume[PROTO_VOLUME_LEN + 1];
	struct proto_sealed sealed;
};
int proto_unseal_response_encode(const struct proto_unseal_response *r, char **json, size_t *len);
int proto_unseal_response_decode(const char *json, size_t len, struct proto_unseal_response *r,
				 struct snp_err *err);

/* A refusal: {"error":..., "message":..., "rule":...}. */
struct proto_error {
	int status;			/* the HTTP status it came with */
	char reason[32];
	char rule[32];			/* "" unless reason is policy-rejected */
	char message[256];
};
/*
 * reason and rule must be lowercase words with hyphens; rule is sent only
 * when not empty. Bytes of message that a console must not get (controls,
 * anything outside printable ASCII) go out as '?', so that every refusal
 * decodes.
 */
int proto_error_encode(const struct proto_error *e, char **json, size_t *len);
int proto_error_decode(const char *json, size_t len, struct proto_error *e, struct snp_err *err);

/* The registration file: {"version":1,"volume":...,"secret":...}. A secret. */
struct proto_registration {
	char volume[PROTO_VOLUME_LEN + 1];
	uint8_t secret[PROTO_SECRET_MAX];
	size_t secret_len;
};
/* The returned text holds the secret: wipe it (explicit_bzero) before free. */
int proto_registration_encode(const struct proto_registration *r, char **json, size_t *len);
int proto_registration_decode(const char *json, size_t len, struct proto_registration *r,
			      struct snp_err *err);

/* Base64 (RFC 4648, padded) helpers the codecs and the broker share. */
int proto_b64_decode_exact(const char *in, size_t in_len, uint8_t *out, size_t want,
			   struct snp_err *err, const char *what);
/*
 * The same for a size in [min, max]; *out_len gets it. The size is checked
 * before anything is written: out needs max bytes, or in_len / 4 * 3.
 */
int proto_b64_decode_range(const char *in, size_t in_len, uint8_t *out, size_t min, size_t max,
			   size_t *out_len, struct snp_err *err, const char *what);
/* A malloc'd NUL-terminated encoding. */
char *proto_b64_encode(const uint8_t *in, size_t len);

#endif
