// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The unseal protocol's library (proto/): our code against the shared
 * test vectors (tests/data/proto-vectors.txt, which Python recomputes
 * independently), sealing and every way opening must fail, REPORT_DATA's
 * dependence on each input, and each message decoder's refusals.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "proto/proto.h"
#include "snp/bytes.h"
#include "tests/harness.h"

#ifndef TESTS_DIR
#error "TESTS_DIR must be defined by the build"
#endif

#define VECTORS TESTS_DIR "/data/proto-vectors.txt"
#define VOLUME "6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"

/* ---- the shared vector file ---- */

static char *vectors;

/* The value of "name = value" in the vector file (exits when absent). */
static const char *vector(const char *name)
{
	static char value[4096];
	size_t name_len = strlen(name), len;
	const char *line;

	if (!vectors) {
		vectors = (char *)test_read_file(VECTORS, 65536, &len);
		vectors[len] = '\0';
	}
	for (line = vectors; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, name, name_len) && !strncmp(line + name_len, " = ", 3))
			break;
	if (!line || !*line) {
		fprintf(stderr, "    %s has no vector '%s'\n", VECTORS, name);
		exit(1);
	}
	line += name_len + 3;
	len = strcspn(line, "\n");
	if (len >= sizeof(value))
		exit(1);
	memcpy(value, line, len);
	value[len] = '\0';
	return value;
}

static size_t vector_bytes(const char *name, uint8_t *out, size_t size)
{
	return test_unhex(vector(name), out, size);
}

/* ---- helpers ---- */

struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static struct rng *rng_new(void)
{
	struct rng *r = calloc(1, sizeof(*r));

	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
	if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy, NULL, 0))
		exit(1);
	return r;
}

static void rng_free(struct rng *r)
{
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
	free(r);
}

static void new_key(struct rng *r, struct proto_key *key)
{
	struct snp_err err;

	if (proto_key_generate(key, mbedtls_ctr_drbg_random, &r->drbg, &err)) {
		fprintf(stderr, "    proto_key_generate: %s\n", err.msg);
		exit(1);
	}
}

static void vector_key(const char *name, struct proto_key *key)
{
	uint8_t priv[PROTO_PRIVKEY_SIZE];
	struct snp_err err;

	vector_bytes(name, priv, sizeof(priv));
	if (proto_key_from_private(key, priv, &err)) {
		fprintf(stderr, "    %s: %s\n", name, err.msg);
		exit(1);
	}
}

static int count_differing_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += a[i] != b[i];
	return n;
}

/* ---- test vectors ---- */

TEST(proto_vectors_keys_and_report_data)
{
	uint8_t nonce[32], ekm[32], want[SNP_REPORT_DATA_SIZE], got[SNP_REPORT_DATA_SIZE];
	uint8_t pub[PROTO_PUBKEY_SIZE];
	struct proto_key agent, service;

	vector_bytes("nonce", nonce, sizeof(nonce));
	vector_bytes("ekm", ekm, sizeof(ekm));
	CHECK_STR(vector("volume"), VOLUME);
	vector_key("agent_private", &agent);
	vector_key("service_private", &service);
	CHECK(vector_bytes("agent_public", pub, sizeof(pub)) == PROTO_PUBKEY_SIZE);
	CHECK_MEM(agent.pub, pub, PROTO_PUBKEY_SIZE);
	vector_bytes("service_public", pub, sizeof(pub));
	CHECK_MEM(service.pub, pub, PROTO_PUBKEY_SIZE);
	CHECK(proto_pubkey_valid(agent.pub) && proto_pubkey_valid(service.pub));
	vector_bytes("report_data", want, sizeof(want));
	REQUIRE(proto_report_data(nonce, ekm, agent.pub, VOLUME, got) == 0);
	CHECK_MEM(got, want, sizeof(want));
	proto_key_wipe(&agent);
	CHECK(snp_all_zero(&agent, sizeof(agent)));
}

TEST(proto_vectors_derivation_from_both_sides)
{
	uint8_t nonce[32], want[PROTO_AAD_MAX];
	struct proto_seal_keys from_service, from_agent;
	struct proto_key agent, service;
	struct snp_err err;
	size_t len;

	vector_bytes("nonce", nonce, sizeof(nonce));
	vector_key("agent_private", &agent);
	vector_key("service_private", &service);
	REQUIRE(proto_seal_derive(service.priv, agent.pub, agent.pub, service.pub, nonce, VOLUME,
				  &from_service, &err) == 0);
	REQUIRE(proto_seal_derive(agent.priv, service.pub, agent.pub, service.pub, nonce, VOLUME,
				  &from_agent, &err) == 0);
	vector_bytes("z", want, sizeof(want));
	CHECK_MEM(from_service.z, want, PROTO_Z_SIZE);
	CHECK_MEM(from_agent.z, want, PROTO_Z_SIZE);
	vector_bytes("okm", want, sizeof(want));
	CHECK_MEM(from_service.okm, want, PROTO_OKM_SIZE);
	CHECK_MEM(from_agent.okm, want, PROTO_OKM_SIZE);
	vector_bytes("key", want, sizeof(want));
	CHECK_MEM(from_agent.okm, want, PROTO_KEY_SIZE);
	vector_bytes("iv", want, sizeof(want));
	CHECK_MEM(from_agent.okm + PROTO_KEY_SIZE, want, PROTO_IV_SIZE);
	len = vector_bytes("aad", want, sizeof(want));
	CHECK(from_agent.aad_len == len);
	CHECK_MEM(from_agent.aad, want, len);
	proto_seal_keys_wipe(&from_agent);
	CHECK(snp_all_zero(&from_agent, sizeof(from_agent)));
}

TEST(proto_vectors_seal_and_open)
{
	uint8_t nonce[32], secret[PROTO_SECRET_MAX], want[PROTO_CIPHERTEXT_MAX];
	uint8_t opened[PROTO_SECRET_MAX];
	struct proto_key agent, service;
	struct proto_sealed sealed;
	struct snp_err err;
	size_t secret_len, want_len, opened_len;

	vector_bytes("nonce", nonce, sizeof(nonce));
	secret_len = vector_bytes("secret", secret, sizeof(secret));
	want_len = vector_bytes("ciphertext", want, sizeof(want));
	vector_key("agent_private", &agent);
	vector_key("service_private", &service);
	REQUIRE(proto_seal(&service, agent.pub, nonce, VOLUME, secret, secret_len, &sealed,
			   &err) == 0);
	CHECK(sealed.ciphertext_len == want_len);
	CHECK_MEM(sealed.ciphertext, want, want_len);
	CHECK_MEM(sealed.service_pubkey, service.pub, PROTO_PUBKEY_SIZE);
	REQUIRE(proto_open(&agent, &sealed, nonce, VOLUME, opened, &opened_len, &err) == 0);
	CHECK(opened_len == secret_len);
	CHECK_MEM(opened, secret, secret_len);
}

TEST(proto_vectors_messages_encode_exactly)
{
	struct proto_challenge c = { .expires_in = 60 };
	struct proto_unseal_response resp = { .volume = VOLUME };
	struct proto_error e = { .reason = "policy-rejected", .rule = "measurement" };
	struct proto_registration reg = { .volume = VOLUME };
	char *json;
	size_t len;

	vector_bytes("nonce", c.nonce, sizeof(c.nonce));
	REQUIRE(proto_challenge_encode(&c, &json, &len) == 0);
	CHECK_STR(json, vector("challenge_json"));
	CHECK(len == strlen(json));
	free(json);

	vector_bytes("service_public", resp.sealed.service_pubkey, PROTO_PUBKEY_SIZE);
	resp.sealed.ciphertext_len = vector_bytes("ciphertext", resp.sealed.ciphertext,
						  PROTO_CIPHERTEXT_MAX);
	REQUIRE(proto_unseal_response_encode(&resp, &json, &len) == 0);
	CHECK_STR(json, vector("unseal_response_json"));
	free(json);

	snprintf(e.message, sizeof(e.message), "%s", vector("error_message"));
	REQUIRE(proto_error_encode(&e, &json, &len) == 0);
	CHECK_STR(json, vector("error_json"));
	free(json);

	reg.secret_len = vector_bytes("secret", reg.secret, sizeof(reg.secret));
	REQUIRE(proto_registration_encode(&reg, &json, &len) == 0);
	CHECK_STR(json, vector("registration_json"));
	explicit_bzero(json, len);
	free(json);
}

TEST(proto_vectors_messages_decode)
{
	struct proto_challenge c;
	struct proto_unseal_response resp;
	struct proto_error e;
	struct proto_registration reg;
	uint8_t want[PROTO_CIPHERTEXT_MAX];
	struct snp_err err;
	const char *json;
	size_t len;

	json = vector("challenge_json");
	REQUIRE(proto_challenge_decode(json, strlen(json), &c, &err) == 0);
	vector_bytes("nonce", want, sizeof(want));
	CHECK_MEM(c.nonce, want, PROTO_NONCE_SIZE);
	CHECK(c.expires_in == 60);

	json = vector("unseal_response_json");
	REQUIRE(proto_unseal_response_decode(json, strlen(json), &resp, &err) == 0);
	CHECK_STR(resp.volume, VOLUME);
	len = vector_bytes("ciphertext", want, sizeof(want));
	CHECK(resp.sealed.ciphertext_len == len);
	CHECK_MEM(resp.sealed.ciphertext, want, len);

	json = vector("error_json");
	REQUIRE(proto_error_decode(json, strlen(json), &e, &err) == 0);
	CHECK_STR(e.reason, "policy-rejected");
	CHECK_STR(e.rule, "measurement");
	CHECK_STR(e.message, vector("error_message"));

	json = vector("registration_json");
	REQUIRE(proto_registration_decode(json, strlen(json), &reg, &err) == 0);
	len = vector_bytes("secret", want, sizeof(want));
	CHECK(reg.secret_len == len);
	CHECK_MEM(reg.secret, want, len);
	CHECK_STR(reg.volume, VOLUME);
}

/* ---- sealing ---- */

struct sealing {
	struct rng *rng;
	struct proto_key agent, service;
	uint8_t nonce[PROTO_NONCE_SIZE];
	uint8_t secret[48];
	struct proto_sealed sealed;
};

static void sealing_setup(struct sealing *s)
{
	struct snp_err err;

	s->rng = rng_new();
	new_key(s->rng, &s->agent);
	new_key(s->rng, &s->service);
	mbedtls_ctr_drbg_random(&s->rng->drbg, s->nonce, sizeof(s->nonce));
	mbedtls_ctr_drbg_random(&s->rng->drbg, s->secret, sizeof(s->secret));
	if (proto_seal(&s->service, s->agent.pub, s->nonce, VOLUME, s->secret,
		       sizeof(s->secret), &s->sealed, &err)) {
		fprintf(stderr, "    proto_seal: %s\n", err.msg);
		exit(1);
	}
}

/*
 * Open with what the test changed. On failure nothing of a plaintext may
 * be left: the buffer holds its fill (untouched) or zeros (wiped).
 */
static int open_as(const struct proto_key *key, const struct proto_sealed *sealed,
		   const uint8_t *nonce, const char *volume, struct snp_err *err)
{
	uint8_t out[PROTO_SECRET_MAX];
	size_t out_len = 12345;
	int ret;

	memset(out, 0x5a, sizeof(out));
	ret = proto_open(key, sealed, nonce, volume, out, &out_len, err);
	if (ret) {
		CHECK(out_len == 0);
		for (size_t i = 0; i < sizeof(out); i++)
			if (out[i] != 0 && out[i] != 0x5a)
				return -1000;
	}
	return ret;
}

TEST(proto_seal_open_round_trip_for_every_secret_size)
{
	struct rng *r = rng_new();
	struct proto_key agent, service;
	uint8_t nonce[32], secret[PROTO_SECRET_MAX], out[PROTO_SECRET_MAX];
	struct proto_sealed sealed;
	struct snp_err err;
	size_t out_len;

	new_key(r, &agent);
	mbedtls_ctr_drbg_random(&r->drbg, nonce, sizeof(nonce));
	for (size_t len = PROTO_SECRET_MIN; len <= PROTO_SECRET_MAX; len += 40) {
		mbedtls_ctr_drbg_random(&r->drbg, secret, len);
		new_key(r, &service);
		REQUIRE(proto_seal(&service, agent.pub, nonce, VOLUME, secret, len, &sealed,
				   &err) == 0);
		CHECK(sealed.ciphertext_len == len + PROTO_TAG_SIZE);
		/* Not the plaintext: AES-GCM ran. */
		CHECK(count_differing_bytes(sealed.ciphertext, secret, len) > 0);
		REQUIRE(proto_open(&agent, &sealed, nonce, VOLUME, out, &out_len, &err) == 0);
		CHECK(out_len == len);
		CHECK_MEM(out, secret, len);
	}
	CHECK(proto_seal(&service, agent.pub, nonce, VOLUME, secret, PROTO_SECRET_MIN - 1,
			 &sealed, &err) == -EINVAL);
	CHECK(proto_seal(&service, agent.pub, nonce, VOLUME, secret, PROTO_SECRET_MAX + 1,
			 &sealed, &err) == -EINVAL);
	CHECK(proto_seal(&service, agent.pub, nonce, "6F1C9A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B",
			 secret, 32, &sealed, &err) == -EINVAL);
	rng_free(r);
}

TEST(proto_open_refuses_every_change)
{
	struct sealing s;
	struct proto_key other;
	struct proto_sealed changed;
	uint8_t nonce[PROTO_NONCE_SIZE];
	struct snp_err err;

	sealing_setup(&s);
	REQUIRE(open_as(&s.agent, &s.sealed, s.nonce, VOLUME, &err) == 0);

	new_key(s.rng, &other);
	CHECK(open_as(&other, &s.sealed, s.nonce, VOLUME, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "tag does not verify") != NULL);

	memcpy(nonce, s.nonce, sizeof(nonce));
	nonce[31] ^= 1;
	CHECK(open_as(&s.agent, &s.sealed, nonce, VOLUME, &err) == -EBADMSG);
	CHECK(open_as(&s.agent, &s.sealed, s.nonce, "6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5c",
		      &err) == -EBADMSG);

	for (size_t i = 0; i < s.sealed.ciphertext_len; i += 7) {
		changed = s.sealed;
		changed.ciphertext[i] ^= 0x80;
		CHECK(open_as(&s.agent, &changed, s.nonce, VOLUME, &err) == -EBADMSG);
	}
	changed = s.sealed;
	changed.ciphertext[changed.ciphertext_len - 1] ^= 1;	/* the tag's last byte */
	CHECK(open_as(&s.agent, &changed, s.nonce, VOLUME, &err) == -EBADMSG);

	/* Another valid service key: ECDH agrees on another Z. */
	changed = s.sealed;
	memcpy(changed.service_pubkey, other.pub, PROTO_PUBKEY_SIZE);
	CHECK(open_as(&s.agent, &changed, s.nonce, VOLUME, &err) == -EBADMSG);
	/* A point off the curve is refused before ECDH. */
	changed.service_pubkey[64] ^= 1;
	CHECK(open_as(&s.agent, &changed, s.nonce, VOLUME, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "not a point on P-256") != NULL);

	changed = s.sealed;
	changed.ciphertext_len = PROTO_SECRET_MIN + PROTO_TAG_SIZE - 1;
	CHECK(open_as(&s.agent, &changed, s.nonce, VOLUME, &err) == -EBADMSG);
	changed.ciphertext_len = PROTO_CIPHERTEXT_MAX + 1;
	CHECK(open_as(&s.agent, &changed, s.nonce, VOLUME, &err) == -EBADMSG);
	/* A shortened ciphertext moves the tag: it no longer verifies. */
	changed = s.sealed;
	changed.ciphertext_len -= 1;
	CHECK(open_as(&s.agent, &changed, s.nonce, VOLUME, &err) == -EBADMSG);
	rng_free(s.rng);
}

TEST(proto_seal_is_fresh_per_service_key)
{
	struct sealing s;
	struct proto_key service2;
	struct proto_sealed again;
	struct snp_err err;

	sealing_setup(&s);
	new_key(s.rng, &service2);
	REQUIRE(proto_seal(&service2, s.agent.pub, s.nonce, VOLUME, s.secret, sizeof(s.secret),
			   &again, &err) == 0);
	CHECK(count_differing_bytes(again.ciphertext, s.sealed.ciphertext,
				    again.ciphertext_len) > (int)again.ciphertext_len / 2);
	rng_free(s.rng);
}

/* ---- keys and points ---- */

/* P-256's group order n and field prime p, big-endian. */
static const char p256_n[] =
	"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
static const char p256_p[] =
	"ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

TEST(proto_key_refuses_scalars_out_of_range)
{
	uint8_t priv[PROTO_PRIVKEY_SIZE] = { 0 };
	struct proto_key key;
	struct snp_err err;

	CHECK(proto_key_from_private(&key, priv, &err) == -EINVAL);
	test_unhex(p256_n, priv, sizeof(priv));
	CHECK(proto_key_from_private(&key, priv, &err) == -EINVAL);
	CHECK(strstr(err.msg, "not a P-256 scalar") != NULL);
	priv[31] -= 1;	/* n - 1 is the largest key */
	CHECK(proto_key_from_private(&key, priv, &err) == 0);
	CHECK(proto_pubkey_valid(key.pub));
	memset(priv, 0, sizeof(priv));
	priv[31] = 1;	/* 1: the public key is the generator */
	REQUIRE(proto_key_from_private(&key, priv, &err) == 0);
	CHECK(key.pub[0] == 0x04 && key.pub[1] == 0x6b && key.pub[2] == 0x17);
}

static int zero_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	memset(out, 0, len);
	return 0;
}

static int failing_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	(void)out;
	(void)len;
	return -1;
}

TEST(proto_key_generate_refuses_bad_randomness)
{
	struct proto_key key;
	struct snp_err err;

	CHECK(proto_key_generate(&key, zero_rng, NULL, &err) == -EIO);
	CHECK(strstr(err.msg, "not P-256 keys") != NULL);
	CHECK(snp_all_zero(&key, sizeof(key)));
	CHECK(proto_key_generate(&key, failing_rng, NULL, &err) == -EIO);
	CHECK(strstr(err.msg, "random generator failed") != NULL);
}

TEST(proto_pubkey_valid_refuses_invalid_points)
{
	struct rng *r = rng_new();
	struct proto_key key;
	uint8_t pub[PROTO_PUBKEY_SIZE];
	struct proto_sealed sealed;
	uint8_t nonce[32] = { 0 }, secret[32] = { 0 };
	struct snp_err err;

	new_key(r, &key);
	CHECK(proto_pubkey_valid(key.pub));
	memcpy(pub, key.pub, sizeof(pub));
	pub[0] = 0x02;	/* compressed form */
	CHECK(!proto_pubkey_valid(pub));
	pub[0] = 0x00;
	CHECK(!proto_pubkey_valid(pub));
	memcpy(pub, key.pub, sizeof(pub));
	pub[64] ^= 1;	/* y no longer fits x */
	CHECK(!proto_pubkey_valid(pub));
	memset(pub, 0, sizeof(pub));
	pub[0] = 0x04;	/* (0, 0) */
	CHECK(!proto_pubkey_valid(pub));
	test_unhex(p256_p, pub + 1, 32);	/* x = p: not below the field prime */
	memcpy(pub + 33, key.pub + 33, 32);
	CHECK(!proto_pubkey_valid(pub));
	/* Sealing to any of them fails before ECDH. */
	CHECK(proto_seal(&key, pub, nonce, VOLUME, secret, sizeof(secret), &sealed, &err) ==
	      -EBADMSG);
	CHECK(snp_all_zero(&sealed, sizeof(sealed)));
	rng_free(r);
}

/* ---- binding ---- */

TEST(proto_report_data_changes_with_every_input)
{
	uint8_t nonce[32], ekm[32], pub[PROTO_PUBKEY_SIZE];
	uint8_t base[SNP_REPORT_DATA_SIZE], other[SNP_REPORT_DATA_SIZE];
	char volume[] = VOLUME;

	for (int i = 0; i < 32; i++)
		nonce[i] = (uint8_t)i, ekm[i] = (uint8_t)(i + 32);
	memset(pub, 0x04, sizeof(pub));
	REQUIRE(proto_report_data(nonce, ekm, pub, volume, base) == 0);
	CHECK(proto_report_data(nonce, ekm, pub, volume, other) == 0);
	CHECK_MEM(other, base, sizeof(base));

	for (size_t bit = 0; bit < 32 * 8; bit += 37) {
		nonce[bit / 8] ^= (uint8_t)(1 << bit % 8);
		proto_report_data(nonce, ekm, pub, volume, other);
		CHECK(count_differing_bytes(other, base, sizeof(base)) > 32);
		nonce[bit / 8] ^= (uint8_t)(1 << bit % 8);
		ekm[bit / 8] ^= (uint8_t)(1 << bit % 8);
		proto_report_data(nonce, ekm, pub, volume, other);
		CHECK(count_differing_bytes(other, base, sizeof(base)) > 32);
		ekm[bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	/* nonce and ekm swapped: the lengths are equal, the order still counts. */
	proto_report_data(ekm, nonce, pub, volume, other);
	CHECK(count_differing_bytes(other, base, sizeof(base)) > 32);
	pub[64] ^= 1;
	proto_report_data(nonce, ekm, pub, volume, other);
	CHECK(count_differing_bytes(other, base, sizeof(base)) > 32);
	pub[64] ^= 1;
	volume[35] = 'c';
	proto_report_data(nonce, ekm, pub, volume, other);
	CHECK(count_differing_bytes(other, base, sizeof(base)) > 32);
	CHECK(proto_report_data(nonce, ekm, pub, "6F1C9A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B", other) ==
	      -EINVAL);
	CHECK(proto_report_data(nonce, ekm, pub, VOLUME "0", other) == -EINVAL);
}

TEST(proto_volume_canonical_form)
{
	char out[PROTO_VOLUME_LEN + 1];
	struct snp_err err;

	CHECK(proto_volume_valid(VOLUME, strlen(VOLUME)));
	CHECK(!proto_volume_valid(VOLUME, strlen(VOLUME) - 1));
	CHECK(!proto_volume_valid("6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5G", 36));
	CHECK(!proto_volume_valid("6f1c9a2e3-b4d-4e5f-8a9b-0c1d2e3f4a5b", 36));
	REQUIRE(proto_volume_canonical("6F1C9A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B", out, &err) == 0);
	CHECK_STR(out, VOLUME);
	CHECK(proto_volume_canonical(VOLUME "-", out, &err) == -EINVAL);
	CHECK(strstr(err.msg, "is not a UUID") != NULL);
	CHECK(proto_volume_canonical("6f1c9a2e_3b4d-4e5f-8a9b-0c1d2e3f4a5b", out, &err) ==
	      -EINVAL);
	CHECK(proto_volume_canonical("", out, &err) == -EINVAL);
}

TEST(proto_ct_equal_compares)
{
	uint8_t a[64] = { 1 }, b[64] = { 1 };

	CHECK(proto_ct_equal(a, b, sizeof(a)));
	b[63] = 2;
	CHECK(!proto_ct_equal(a, b, sizeof(a)));
	CHECK(proto_ct_equal(a, b, 63));
}

/* ---- base64 ---- */

TEST(proto_b64_round_trip_and_strictness)
{
	uint8_t in[80], out[80];
	struct snp_err err;
	size_t len;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(in); n++) {
		char *text = proto_b64_encode(in, n);

		REQUIRE(text);
		CHECK(strlen(text) == (n + 2) / 3 * 4);
		CHECK(proto_b64_decode_range(text, strlen(text), out, 0, sizeof(out), &len, &err,
					     "x") == 0);
		CHECK(len == n);
		CHECK_MEM(out, in, n);
		free(text);
	}
	CHECK(proto_b64_decode_exact("QQ==", 4, out, 1, &err, "what") == 0 && out[0] == 'A');
	CHECK(proto_b64_decode_exact("QR==", 4, out, 1, &err, "what") == -EBADMSG);
	CHECK(strstr(err.msg, "what: base64 padding bits are not zero") != NULL);
	CHECK(proto_b64_decode_exact("QUI=", 4, out, 2, &err, "what") == 0);
	CHECK(proto_b64_decode_exact("QUJ=", 4, out, 2, &err, "what") == -EBADMSG);
	CHECK(proto_b64_decode_exact("QQ", 2, out, 1, &err, "what") == -EBADMSG);
	CHECK(strstr(err.msg, "not padded") != NULL);
	CHECK(proto_b64_decode_exact("Q===", 4, out, 1, &err, "what") == -EBADMSG);
	CHECK(proto_b64_decode_exact("QQ=A", 4, out, 1, &err, "what") == -EBADMSG);
	CHECK(proto_b64_decode_exact("QUJD\nQUJD", 9, out, 6, &err, "what") == -EBADMSG);
	CHECK(proto_b64_decode_exact("QU D", 4, out, 3, &err, "what") == -EBADMSG);
	CHECK(strstr(err.msg, "character 2 is not base64") != NULL);
	CHECK(proto_b64_decode_exact("QUJD", 4, out, 2, &err, "what") == -EBADMSG);
	CHECK(strstr(err.msg, "decodes to 3 bytes, not 2") != NULL);
	CHECK(proto_b64_decode_exact("QUJD-_==", 8, out, 4, &err, "what") == -EBADMSG);
}

/* ---- message decoders ---- */

struct refusal {
	const char *json;
	const char *says;	/* in err.msg */
};

typedef int (*decode_fn)(const char *json, size_t len, struct snp_err *err);

static int refused(decode_fn decode, const struct refusal *cases, size_t n)
{
	int ok = 1;

	for (size_t i = 0; i < n; i++) {
		struct snp_err err = { 0 };
		int ret = decode(cases[i].json, strlen(cases[i].json), &err);

		if (ret != -EBADMSG || !strstr(err.msg, cases[i].says)) {
			fprintf(stderr, "    case %zu %.120s: got %d '%s', wanted -EBADMSG '%s'\n", i,
				cases[i].json, ret, err.msg, cases[i].says);
			ok = 0;
		}
	}
	return ok;
}

#define REFUSED(decode, cases) CHECK(refused(decode, cases, sizeof(cases) / sizeof(cases[0])))

static int decode_challenge(const char *json, size_t len, struct snp_err *err)
{
	struct proto_challenge c;

	return proto_challenge_decode(json, len, &c, err);
}

#define NONCE_B64 "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\""

TEST(proto_json_parser_refusals)
{
	static const struct refusal cases[] = {
		{ "", "JSON ends at byte 0" },
		{ "   ", "JSON ends at byte 3" },
		{ "[]", "where '{' (an object) was expected" },
		{ "\"x\"", "where '{'" },
		{ "{", "JSON ends at byte 1" },
		{ "{\"version\":1", "JSON ends at byte 12" },
		{ "{\"version\":1,}", "where '\"' (a member name) was expected" },
		{ "{\"version\" 1}", "where ':' after a member name was expected" },
		{ "{\"version\":1 \"nonce\":" NONCE_B64 "}", "',' or '}' after a member" },
		{ "{\"version\":1}x", "JSON has 1 bytes after the object, at byte 13" },
		{ "{\"version\":1}{}", "after the object" },
		{ "{\"version\":01}", "\"version\" is a number with a leading zero" },
		{ "{\"version\":00}", "leading zero" },
		{ "{\"version\":1.0}", "\"version\" is not an integer" },
		{ "{\"version\":1e0}", "not an integer" },
		{ "{\"version\":-1}", "\"version\" is a negative number" },
		{ "{\"version\":1000000000}", "\"version\" is a number of more than 9 digits" },
		{ "{\"version\":99999999999999999999999999999}", "more than 9 digits" },
		{ "{\"version\":true}", "true, false or null" },
		{ "{\"version\":null}", "true, false or null" },
		{ "{\"version\":{\"a\":1}}", "\"version\" is nested" },
		{ "{\"version\":[1]}", "\"version\" is nested" },
		{ "{\"version\":+1}", "\"version\" has no valid value" },
		{ "{\"version\":}", "\"version\" has no valid value" },
		{ "{\"version\":", "JSON ends before the value of member \"version\"" },
		{ "{\"version\":1,\"version\":1}", "member \"version\" is repeated" },
		{ "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1}",
		  "more than 8 members" },
		{ "{\"\":1}", "a member name is empty" },
		{ "{\"ver sion\":1}", "a member name holds a character other than" },
		{ "{\"v\\u00e9rsion\":1}", "only escapes of ASCII other than NUL" },
		{ "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}", "a member name is longer than 32 bytes" },
		{ "{\"nonce\":\"a\\u0000\"}", "\\u0000" },
		{ "{\"nonce\":\"a\\u12\"}", "a \\u escape without 4 hex digits" },
		{ "{\"nonce\":\"a\\x\"}", "unknown escape" },
		{ "{\"nonce\":\"a\\", "JSON ends inside an escape" },
		{ "{\"nonce\":\"a\tb\"}", "\"nonce\" holds the control byte 0x09" },
		{ "{\"nonce\":\"a\xff\"}", "\"nonce\" is not UTF-8" },
		{ "{\"nonce\":\"a\xc0\xaf\"}", "not UTF-8" },			/* overlong '/' */
		{ "{\"nonce\":\"a\xed\xa0\x80\"}", "not UTF-8" },		/* a surrogate */
		{ "{\"nonce\":\"a\xe2\x82\"}", "not UTF-8" },			/* cut short */
		{ "{\"nonce\":\"abc", "JSON ends inside member \"nonce\"" },
	};
	char deep[20001];
	struct snp_err err;

	REFUSED(decode_challenge, cases);
	CHECK(decode_challenge("{}\0", 3, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "JSON has 1 bytes after the object, at byte 2") != NULL);
	/* Depth costs nothing: the first '[' is already wrong, and so is a nested '{'. */
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	CHECK(refused(decode_challenge, &(struct refusal){ deep, "(an object) was expected" }, 1));
	memset(deep, '{', sizeof(deep) - 1);
	CHECK(refused(decode_challenge, &(struct refusal){ deep, "a member name" }, 1));
	memcpy(deep, "{\"a\":", 5);
	CHECK(refused(decode_challenge, &(struct refusal){ deep, "\"a\" is nested" }, 1));
}

TEST(proto_challenge_decode_refusals)
{
	static const struct refusal cases[] = {
		{ "{}", "member \"version\" is missing" },
		{ "{\"version\":1,\"expires_in\":60}", "member \"nonce\" is missing" },
		{ "{\"version\":1,\"nonce\":" NONCE_B64 "}", "member \"expires_in\" is missing" },
		{ "{\"version\":2,\"nonce\":" NONCE_B64 ",\"expires_in\":60}",
		  "member \"version\" is 2, not 1" },
		{ "{\"version\":\"1\",\"nonce\":" NONCE_B64 ",\"expires_in\":60}",
		  "member \"version\" is a string, not a number" },
		{ "{\"version\":1,\"nonce\":5,\"expires_in\":60}",
		  "member \"nonce\" is a number, not a string" },
		{ "{\"version\":1,\"nonce\":" NONCE_B64 ",\"expires_in\":\"60\"}",
		  "\"expires_in\" is a string, not a number" },
		{ "{\"version\":1,\"nonce\":" NONCE_B64 ",\"expires_in\":0}",
		  "\"expires_in\" is 0, not a positive number" },
		{ "{\"version\":1,\"nonce\":" NONCE_B64 ",\"expires_in\":60,\"extra\":1}",
		  "member \"extra\" is unknown" },
		{ "{\"version\":1,\"nonce\":" NONCE_B64 ",\"expires_in\":60,\"nonce\":" NONCE_B64 "}",
		  "member \"nonce\" is repeated" },
		{ "{\"version\":1,\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\",\"expires_in\":60}",
		  "member \"nonce\": decodes to 31 bytes, not 32" },
		{ "{\"version\":1,\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==\",\"expires_in\":60}",
		  "decodes to 34 bytes, not 32" },
		{ "{\"version\":1,\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\",\"expires_in\":60}",
		  "member \"nonce\": base64 of 43 characters is not padded" },
		{ "{\"version\":1,\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\",\"expires_in\":60}",
		  "padding bits are not zero" },
		{ "{\"version\":1,\"nonce\":\"AAECAwQFBgcICQoLDA0O DxAREhMUFRYXGBkaGxwdHh8=\",\"expires_in\":60}",
		  "member \"nonce\": base64 of 45 characters" },
		{ "{\"version\":1,\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\\nHh8=\",\"expires_in\":60}",
		  "not padded" },
	};
	struct proto_challenge c;
	struct snp_err err;
	const char *ok = " {\"version\" : 1 ,\n\"nonce\":" NONCE_B64 ",\"expires_in\":4294} \r\n";

	REFUSED(decode_challenge, cases);
	/* Whitespace between tokens and after the object is JSON. */
	REQUIRE(proto_challenge_decode(ok, strlen(ok), &c, &err) == 0);
	CHECK(c.expires_in == 4294 && c.nonce[31] == 0x1f);
}

static int decode_challenge_request(const char *json, size_t len, struct snp_err *err)
{
	return proto_challenge_request_decode(json, len, err);
}

TEST(proto_challenge_request_is_an_empty_object)
{
	static const struct refusal cases[] = {
		{ "", "JSON ends" },
		{ "[]", "an object" },
		{ "{\"version\":1}", "must be an empty object, not one with member \"version\"" },
		{ "{} {}", "after the object" },
	};
	struct snp_err err;

	CHECK(proto_challenge_request_decode("{}", 2, &err) == 0);
	CHECK(proto_challenge_request_decode(" { }\n", 5, &err) == 0);
	REFUSED(decode_challenge_request, cases);
}

/* An unseal request with each member's JSON value given (NULL leaves it out). */
struct request_parts {
	const char *version, *volume, *nonce, *pubkey, *report, *cert_table, *extra;
	const char *says;
};

static char *b64_quoted(const uint8_t *bytes, size_t len)
{
	char *b64 = proto_b64_encode(bytes, len);
	char *q = malloc(strlen(b64) + 3);

	sprintf(q, "\"%s\"", b64);
	free(b64);
	return q;
}

static char *request_json(const struct request_parts *p, const struct request_parts *base)
{
	const char *names[] = { "version", "volume", "nonce", "pubkey", "report", "cert_table" };
	const char *const *mine = &p->version, *const *theirs = &base->version;
	char *out = malloc(65536);
	size_t o = 0;

	out[o++] = '{';
	for (size_t i = 0; i < 6; i++) {
		const char *v = mine[i] ? mine[i] : theirs[i];

		if (!v || !strcmp(v, "-"))	/* "-": leave the member out */
			continue;
		o += (size_t)sprintf(out + o, "%s\"%s\":%s", o > 1 ? "," : "", names[i], v);
	}
	o += (size_t)sprintf(out + o, "%s}", p->extra ? p->extra : "");
	return out;
}

TEST(proto_unseal_request_round_trip_and_refusals)
{
	struct proto_unseal_request r = { .volume = VOLUME }, back;
	uint8_t table[PROTO_CERT_TABLE_MAX + 1], bad_point[PROTO_PUBKEY_SIZE] = { 0x04 };
	struct proto_key key;
	struct rng *rng = rng_new();
	struct snp_err err;
	char *json;
	size_t len;

	new_key(rng, &key);
	for (size_t i = 0; i < sizeof(table); i++)
		table[i] = (uint8_t)(i * 7);
	memset(r.nonce, 0x11, sizeof(r.nonce));
	memcpy(r.pubkey, key.pub, sizeof(r.pubkey));
	memset(r.report, 0x41, sizeof(r.report));

	/* Without and with a certificate table. */
	REQUIRE(proto_unseal_request_encode(&r, &json, &len) == 0);
	CHECK(strstr(json, "cert_table") == NULL);
	CHECK(!strncmp(json, "{\"version\":1,\"volume\":\"" VOLUME "\",\"nonce\":\"", 60));
	REQUIRE(proto_unseal_request_decode(json, len, &back, &err) == 0);
	CHECK(back.cert_table == NULL && back.cert_table_len == 0);
	CHECK_MEM(back.report, r.report, SNP_REPORT_SIZE);
	free(json);
	r.cert_table = table;
	r.cert_table_len = PROTO_CERT_TABLE_MAX;
	REQUIRE(proto_unseal_request_encode(&r, &json, &len) == 0);
	CHECK(len < 24 * 1024);	/* the agent's largest request */
	REQUIRE(proto_unseal_request_decode(json, len, &back, &err) == 0);
	CHECK_STR(back.volume, VOLUME);
	CHECK_MEM(back.nonce, r.nonce, PROTO_NONCE_SIZE);
	CHECK_MEM(back.pubkey, r.pubkey, PROTO_PUBKEY_SIZE);
	CHECK_MEM(back.report, r.report, SNP_REPORT_SIZE);
	CHECK(back.cert_table_len == PROTO_CERT_TABLE_MAX);
	CHECK(back.cert_table && !memcmp(back.cert_table, table, PROTO_CERT_TABLE_MAX));
	proto_unseal_request_free(&back);
	CHECK(back.cert_table == NULL);
	free(json);

	{
		char *nonce = b64_quoted(r.nonce, 32), *pub = b64_quoted(r.pubkey, 65);
		char *report = b64_quoted(r.report, SNP_REPORT_SIZE);
		char *short_report = b64_quoted(r.report, SNP_REPORT_SIZE - 1);
		char *short_pub = b64_quoted(r.pubkey, 64), *long_nonce = b64_quoted(table, 33);
		char *bad_pub = b64_quoted(bad_point, sizeof(bad_point));
		char *big_table = b64_quoted(table, PROTO_CERT_TABLE_MAX + 1);
		char *table1 = b64_quoted(table, 1);
		char repeated[128];
		const struct request_parts base = {
			"1", "\"" VOLUME "\"", nonce, pub, report, NULL, NULL, NULL,
		};
		const struct request_parts cases[] = {
			{ .says = NULL },
			{ .cert_table = table1, .says = NULL },
			{ .version = "-", .says = "member \"version\" is missing" },
			{ .volume = "-", .says = "member \"volume\" is missing" },
			{ .nonce = "-", .says = "member \"nonce\" is missing" },
			{ .pubkey = "-", .says = "member \"pubkey\" is missing" },
			{ .report = "-", .says = "member \"report\" is missing" },
			{ .version = "2", .says = "\"version\" is 2, not 1" },
			{ .version = "\"1\"", .says = "\"version\" is a string" },
			{ .volume = "\"6F1C9A2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B\"",
			  .says = "\"volume\" is not a volume id in canonical form" },
			{ .volume = "\"6f1c9a2e3b4d4e5f8a9b0c1d2e3f4a5b\"", .says = "canonical form" },
			{ .volume = "\"{6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b}\"", .says = "canonical" },
			{ .volume = "36", .says = "\"volume\" is a number, not a string" },
			{ .nonce = long_nonce, .says = "\"nonce\": decodes to 33 bytes, not 32" },
			{ .pubkey = short_pub, .says = "\"pubkey\": decodes to 64 bytes, not 65" },
			{ .pubkey = bad_pub, .says = "\"pubkey\" is not a P-256 point" },
			{ .report = short_report, .says = "\"report\": decodes to 1183 bytes, not 1184" },
			{ .cert_table = "\"\"", .says = "\"cert_table\": decodes to 0 bytes, not 1 to 16384" },
			{ .cert_table = big_table, .says = "decodes to 16385 bytes, not 1 to 16384" },
			{ .cert_table = "[]", .says = "\"cert_table\" is nested" },
			{ .extra = ",\"Volume\":\"x\"", .says = "member \"Volume\" is unknown" },
			{ .extra = repeated, .says = "member \"nonce\" is repeated" },
			{ .extra = ",\"volume\":\"" VOLUME "\"", .says = "\"volume\" is repeated" },
			{ .extra = "} ", .says = "after the object" },
		};

		snprintf(repeated, sizeof(repeated), ",\"nonce\":%s", nonce);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *text = request_json(&cases[i], &base);
			int ret = proto_unseal_request_decode(text, strlen(text), &back, &err);

			if (!cases[i].says) {
				CHECK(ret == 0);
			} else if (!CHECK(ret == -EBADMSG && strstr(err.msg, cases[i].says))) {
				fprintf(stderr, "    case %zu: %d '%s'\n", i, ret, err.msg);
			} else {
				CHECK(back.cert_table == NULL);
			}
			proto_unseal_request_free(&back);
			free(text);
		}
		free(nonce), free(pub), free(report), free(short_report), free(short_pub);
		free(long_nonce), free(bad_pub), free(big_table), free(table1);
	}
	rng_free(rng);
}

static int decode_response(const char *json, size_t len, struct snp_err *err)
{
	struct proto_unseal_response r;

	return proto_unseal_response_decode(json, len, &r, err);
}

TEST(proto_unseal_response_round_trip_and_refusals)
{
	struct sealing s;
	struct proto_unseal_response r = { .volume = VOLUME }, back;
	struct snp_err err;
	char *json, *pub, *json2;
	size_t len;

	sealing_setup(&s);
	r.sealed = s.sealed;
	REQUIRE(proto_unseal_response_encode(&r, &json, &len) == 0);
	REQUIRE(proto_unseal_response_decode(json, len, &back, &err) == 0);
	CHECK_STR(back.volume, VOLUME);
	CHECK(back.sealed.ciphertext_len == s.sealed.ciphertext_len);
	CHECK_MEM(&back.sealed, &s.sealed, sizeof(back.sealed));
	free(json);

	pub = proto_b64_encode(s.service.pub, PROTO_PUBKEY_SIZE);
	{
		static const char ct15[] = "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"";	/* 30 bytes */
		char cases_text[6][1024];
		const char *fmt = "{\"version\":1,\"volume\":%s,\"service_pubkey\":\"%s\",\"ciphertext\":%s%s}";
		struct refusal cases[6];
		char ct273[400], *b;
		uint8_t zeros[PROTO_CIPHERTEXT_MAX + 1] = { 0 };

		b = proto_b64_encode(zeros, sizeof(zeros));
		snprintf(ct273, sizeof(ct273), "\"%s\"", b);
		free(b);
		snprintf(cases_text[0], 1024, fmt, "\"" VOLUME "\"", pub, ct15, "");
		cases[0] = (struct refusal){ cases_text[0], "\"ciphertext\": decodes to 30 bytes, not 32 to 272" };
		snprintf(cases_text[1], 1024, fmt, "\"" VOLUME "\"", pub, ct273, "");
		cases[1] = (struct refusal){ cases_text[1], "decodes to 273 bytes" };
		snprintf(cases_text[2], 1024, fmt, "\"6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5\"", pub, ct15, "");
		cases[2] = (struct refusal){ cases_text[2], "\"volume\" is not a volume id" };
		snprintf(cases_text[3], 1024, fmt, "\"" VOLUME "\"", pub, ct15, ",\"secret\":\"AA==\"");
		cases[3] = (struct refusal){ cases_text[3], "decodes to 30 bytes" };
		snprintf(cases_text[4], 1024, fmt, "\"" VOLUME "\"",
			 "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			 ct15, "");
		cases[4] = (struct refusal){ cases_text[4], "\"service_pubkey\" is not a P-256 point" };
		json2 = cases_text[5];
		snprintf(json2, 1024, "{\"version\":1,\"volume\":\"" VOLUME "\",\"service_pubkey\":\"%s\"}",
			 pub);
		cases[5] = (struct refusal){ json2, "member \"ciphertext\" is missing" };
		REFUSED(decode_response, cases);
	}
	/* An unknown member is named once the known ones pass. */
	{
		struct proto_unseal_response tmp = r;
		char *text;

		REQUIRE(proto_unseal_response_encode(&tmp, &json, &len) == 0);
		text = malloc(len + 32);
		memcpy(text, json, len - 1);
		strcpy(text + len - 1, ",\"secret\":\"AA==\"}");
		CHECK(decode_response(text, strlen(text), &err) == -EBADMSG);
		CHECK(strstr(err.msg, "member \"secret\" is unknown") != NULL);
		free(text);
		free(json);
	}
	free(pub);
	rng_free(s.rng);
}

static int decode_error(const char *json, size_t len, struct snp_err *err)
{
	struct proto_error e;

	return proto_error_decode(json, len, &e, err);
}

TEST(proto_error_round_trip_and_refusals)
{
	static const struct refusal cases[] = {
		{ "{\"message\":\"m\"}", "member \"error\" is missing" },
		{ "{\"error\":\"timeout\"}", "member \"message\" is missing" },
		{ "{\"error\":\"Timeout\",\"message\":\"m\"}", "\"error\" is not a word of lowercase" },
		{ "{\"error\":\"\",\"message\":\"m\"}", "\"error\" is not a word" },
		{ "{\"error\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"message\":\"m\"}",
		  "\"error\" is 33 bytes, more than 31" },
		{ "{\"error\":\"timeout\",\"message\":\"\"}", "\"message\" is 0 bytes, not 1 to 255" },
		{ "{\"error\":\"timeout\",\"message\":\"a\\u0007b\"}",
		  "\"message\" holds control characters" },
		{ "{\"error\":\"timeout\",\"message\":\"a\\u001bb\"}", "control characters" },
		{ "{\"error\":\"timeout\",\"message\":\"a\\nb\"}", "control characters" },
		{ "{\"error\":\"timeout\",\"message\":\"a\\u007fb\"}", "control characters" },
		{ "{\"error\":\"timeout\",\"message\":\"a\xc2\x85z\"}", "control characters" },
		{ "{\"error\":\"timeout\",\"message\":\"a\xe2\x80\xaez\"}", "control characters" },
		{ "{\"error\":\"timeout\",\"message\":\"a\xe2\x81\xa6z\"}", "control characters" },
		{ "{\"error\":\"policy-rejected\",\"message\":\"m\"}", "member \"rule\" is missing" },
		{ "{\"error\":\"timeout\",\"message\":\"m\",\"rule\":\"vmpl\"}",
		  "member \"rule\" comes only with \"policy-rejected\", not \"timeout\"" },
		{ "{\"error\":\"policy-rejected\",\"message\":\"m\",\"rule\":\"VMPL\"}",
		  "\"rule\" is not a word" },
		{ "{\"error\":\"timeout\",\"message\":\"m\",\"status\":408}", "\"status\" is unknown" },
		{ "{\"error\":\"timeout\",\"message\":7}", "\"message\" is a number, not a string" },
	};
	struct proto_error e = { .reason = "evidence-rejected" }, back;
	struct snp_err err;
	char *json, long_message[300];
	size_t len;

	REFUSED(decode_error, cases);
	/* Exactly 255 bytes fit; 256 are refused, not cut. */
	for (size_t n = 255; n <= 256; n++) {
		size_t head = (size_t)sprintf(long_message, "{\"error\":\"internal\",\"message\":\"");

		memset(long_message + head, 'm', n);
		strcpy(long_message + head + n, "\"}");
		CHECK(proto_error_decode(long_message, strlen(long_message), &back, &err) ==
		      (n == 255 ? 0 : -EBADMSG));
		CHECK(n == 256 ? strstr(err.msg, "\"message\" is 256 bytes, not 1 to 255") != NULL :
				 strlen(back.message) == 255);
	}
	/* UTF-8 that is not a control passes. */
	json = "{\"error\":\"internal\",\"message\":\"caf\xc3\xa9\"}";
	CHECK(decode_error(json, strlen(json), &err) == 0);

	/* Quotes and backslashes round trip; controls go out as '?'. */
	snprintf(e.message, sizeof(e.message), "check \"report-signature\" \\ failed\n\x1b[2J\xc3\xa9");
	REQUIRE(proto_error_encode(&e, &json, &len) == 0);
	REQUIRE(proto_error_decode(json, len, &back, &err) == 0);
	CHECK_STR(back.reason, "evidence-rejected");
	CHECK_STR(back.rule, "");
	CHECK_STR(back.message, "check \"report-signature\" \\ failed??[2J??");
	CHECK(strstr(json, "rule") == NULL);
	free(json);
	/* The encoder refuses what would not decode. */
	strcpy(e.reason, "Bad Reason");
	CHECK(proto_error_encode(&e, &json, &len) == -EINVAL && json == NULL);
	strcpy(e.reason, "policy-rejected");
	strcpy(e.rule, "x y");
	CHECK(proto_error_encode(&e, &json, &len) == -EINVAL);
	strcpy(e.rule, "tcb");
	e.message[0] = '\0';
	REQUIRE(proto_error_encode(&e, &json, &len) == 0);
	CHECK(proto_error_decode(json, len, &back, &err) == 0);
	CHECK_STR(back.rule, "tcb");
	free(json);
}

static int decode_registration(const char *json, size_t len, struct snp_err *err)
{
	struct proto_registration r;

	return proto_registration_decode(json, len, &r, err);
}

TEST(proto_registration_round_trip_and_refusals)
{
	static const struct refusal cases[] = {
		{ "{\"version\":1,\"volume\":\"" VOLUME "\",\"secret\":\"AAAAAAAAAAAAAAAAAAAA\"}",
		  "\"secret\": decodes to 15 bytes, not 16 to 256" },
		{ "{\"version\":1,\"volume\":\"" VOLUME "\"}", "member \"secret\" is missing" },
		{ "{\"version\":1,\"secret\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}", "\"volume\" is missing" },
		{ "{\"version\":3,\"volume\":\"" VOLUME "\",\"secret\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}",
		  "\"version\" is 3, not 1" },
		{ "{\"version\":1,\"volume\":\"" VOLUME "\",\"secret\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"note\":\"x\"}",
		  "\"note\" is unknown" },
	};
	struct proto_registration r = { .volume = VOLUME }, back;
	struct snp_err err;
	char *json;
	size_t len;

	REFUSED(decode_registration, cases);
	for (size_t n = PROTO_SECRET_MIN; n <= PROTO_SECRET_MAX + 1; n += 80) {
		r.secret_len = n;
		for (size_t i = 0; i < n && i < sizeof(r.secret); i++)
			r.secret[i] = (uint8_t)(n + i);
		if (n > PROTO_SECRET_MAX) {
			CHECK(proto_registration_encode(&r, &json, &len) == -EINVAL);
			continue;
		}
		REQUIRE(proto_registration_encode(&r, &json, &len) == 0);
		REQUIRE(proto_registration_decode(json, len, &back, &err) == 0);
		CHECK(back.secret_len == n);
		CHECK_MEM(back.secret, r.secret, n);
		explicit_bzero(json, len);
		free(json);
	}
	/* A refused file leaves nothing of the secret behind. */
	json = "{\"version\":1,\"volume\":\"" VOLUME "\",\"secret\":\"QUFBQUFBQUFBQUFBQUFBQUFB\",\"x\":1}";
	memset(&back, 0x5a, sizeof(back));
	CHECK(proto_registration_decode(json, strlen(json), &back, &err) == -EBADMSG);
	CHECK(snp_all_zero(&back, sizeof(back)));
}
