// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks/token.h: the snp-unseal token's JSON round trips, every refusal
 * names its member, someone else's token is -EMEDIUMTYPE, and a real
 * LUKS2 header (libcryptsetup) stores and gives back what we write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "luks/token.h"
#include "tests/harness.h"

#define VOLUME	"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"
#define HEX64	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define PIN_A	"sha256:" HEX64
#define PIN_B	"sha256:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* A complete token's members, to build valid and near-miss JSON from. */
#define J_TYPE		"\"type\":\"snp-unseal\""
#define J_SLOT		"\"keyslots\":[\"1\"]"
#define J_VERSION	"\"snp_unseal_version\":1"
#define J_VOLUME	"\"volume\":\"" VOLUME "\""
#define J_BROKERS	"\"brokers\":[\"https://kb.example:8443\"]"
#define J_PINS		"\"ca_pins\":[\"" PIN_A "\"]"
#define J_REST		J_VOLUME "," J_BROKERS "," J_PINS
#define J_VALID		"{" J_TYPE "," J_SLOT "," J_VERSION "," J_REST "}"
/* A complete token with member m added or replacing one of the same name. */
#define J_WITH(m)	"{" J_TYPE "," J_SLOT "," J_VERSION "," J_REST "," m "}"
#define J_PENDING(m)	"{" J_TYPE ",\"keyslots\":[]," J_VERSION "," m "," J_REST "}"

static void sample(struct luks_token *t)
{
	luks_token_init(t);
	t->keyslot = 1;
	strcpy(t->volume, VOLUME);
	strcpy(t->brokers[0], "https://kb.example:8443");
	t->n_brokers = 1;
	REQUIRE(tls_pin_parse(PIN_A, t->ca_pins[0], NULL) == 0);
	t->n_ca_pins = 1;
}

/*
 * t writes out, parses back to the same bytes of struct, and writes out
 * the same text again. (Parsing starts from luks_token_init's zeroes, so
 * t must have zeroes wherever it has nothing: unused entries, unset pins,
 * the bytes after each string's NUL.)
 */
static void check_round_trip(const struct luks_token *t, char **text)
{
	struct luks_token back;
	struct snp_err err = { 0 };
	char *json = NULL, *again = NULL;

	REQUIRE(luks_token_to_json(t, &json, &err) == 0);
	CHECK(strlen(json) < LUKS_TOKEN_JSON_MAX);
	CHECK(luks_token_from_json(json, strlen(json), &back, &err) == 0);
	CHECK_STR(err.msg, "");
	CHECK_MEM(&back, t, sizeof(back));
	CHECK(luks_token_to_json(&back, &again, &err) == 0);
	CHECK_STR(again, json);
	free(again);
	if (text)
		*text = json;
	else
		free(json);
}

TEST(luks_token_complete_writes_the_documented_shape)
{
	struct luks_token t;
	char *json = NULL;

	sample(&t);
	check_round_trip(&t, &json);
	CHECK_STR(json, J_VALID);
	free(json);

	t.has_server_pin = true;
	REQUIRE(tls_pin_parse(PIN_B, t.server_pin, NULL) == 0);
	strcpy(t.name, "root");
	check_round_trip(&t, &json);
	CHECK_STR(json, J_WITH("\"server_pin\":\"" PIN_B "\",\"name\":\"root\""));
	free(json);

	/* Either optional member alone. */
	memset(t.name, 0, sizeof(t.name));
	check_round_trip(&t, NULL);
	t.has_server_pin = false;
	memset(t.server_pin, 0, sizeof(t.server_pin));
	strcpy(t.name, "data");
	check_round_trip(&t, NULL);
}

TEST(luks_token_pending_writes_empty_keyslots_and_the_pending_one)
{
	struct luks_token t;
	char *json = NULL;

	sample(&t);
	t.keyslot = -1;
	t.pending_keyslot = 31;
	check_round_trip(&t, &json);
	CHECK_STR(json, J_PENDING("\"pending_keyslot\":31"));
	free(json);

	t.pending_keyslot = 0;
	check_round_trip(&t, NULL);
}

/*
 * Every list full and every string as long as allowed, with the characters
 * that escape: the longest JSON a token can have.
 */
static void largest(struct luks_token *t, int keyslot)
{
	sample(t);
	for (size_t i = 0; i < LUKS_TOKEN_BROKERS_MAX; i++) {
		int n = snprintf(t->brokers[i], LUKS_TOKEN_URL_MAX, "https://kb%zu.example:65535/",
				 i);

		memset(t->brokers[i] + n, 'p', LUKS_TOKEN_URL_MAX - 1 - (size_t)n);
	}
	t->n_brokers = LUKS_TOKEN_BROKERS_MAX;
	for (size_t i = 0; i < LUKS_TOKEN_CA_PINS_MAX; i++)
		memset(t->ca_pins[i], (int)(0x11 * i), TLS_PIN_SIZE);
	t->n_ca_pins = LUKS_TOKEN_CA_PINS_MAX;
	t->has_server_pin = true;
	memset(t->server_pin, 0xee, TLS_PIN_SIZE);
	memset(t->name, '"', LUKS_TOKEN_NAME_MAX - 1);
	t->name[0] = '\\';
	t->keyslot = keyslot;
}

TEST(luks_token_largest_token_round_trips_within_the_json_maximum)
{
	struct luks_token t;
	char *json = NULL;

	largest(&t, 31);
	check_round_trip(&t, &json);
	REQUIRE(json != NULL);
	CHECK(strlen(json) > 3000);
	free(json);
}

TEST(luks_token_reads_whitespace_and_any_member_order)
{
	static const char json[] =
		" {\n\t\"name\" : \"x\", \"ca_pins\":[\"sha256:" HEX64 "\"],\n"
		"\"brokers\":[\"https:\\/\\/a.example\",\"https://b.example/p?q=1\"],"
		"\"volume\":\"" VOLUME "\",\"keyslots\":[\"0\"],\"snp_unseal_version\":1,"
		"\"type\":\"snp-unseal\"}\r\n";
	struct luks_token t;
	struct snp_err err = { 0 };

	REQUIRE(luks_token_from_json(json, strlen(json), &t, &err) == 0);
	CHECK(t.keyslot == 0);
	CHECK(t.pending_keyslot == -1);
	CHECK(t.n_brokers == 2);
	CHECK_STR(t.brokers[0], "https://a.example");
	CHECK_STR(t.brokers[1], "https://b.example/p?q=1");
	CHECK(t.n_ca_pins == 1);
	CHECK(t.ca_pins[0][1] == 0x11);
	CHECK(!t.has_server_pin);
	CHECK_STR(t.name, "x");
	CHECK_STR(t.volume, VOLUME);
}

/* JSON texts each refused with -EINVAL, naming a member. */
static const struct refusal {
	const char *json;
	const char *member;
} refusals[] = {
	{ "{" J_SLOT "," J_VERSION "," J_REST "}", "type" },
	{ "{\"type\":7," J_SLOT "," J_VERSION "," J_REST "}", "type" },
	{ "{" J_TYPE "," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE "," J_SLOT "," J_REST "}", "snp_unseal_version" },
	{ "{" J_TYPE "," J_SLOT "," J_VERSION "," J_BROKERS "," J_PINS "}", "volume" },
	{ "{" J_TYPE "," J_SLOT "," J_VERSION "," J_VOLUME "," J_PINS "}", "brokers" },
	{ "{" J_TYPE "," J_SLOT "," J_VERSION "," J_VOLUME "," J_BROKERS "}", "ca_pins" },
	{ J_WITH("\"extra\":1"), "extra" },
	{ J_WITH("\"Name\":\"x\""), "Name" },
	/* Repeated, and spelt with escapes to hide a repeat from a plain reader. */
	{ J_WITH(J_BROKERS), "brokers" },
	{ J_WITH(J_TYPE), "type" },
	{ J_WITH("\"nam\\u0065\":\"x\""), "nam\\u0065" },
	/* keyslots */
	{ "{" J_TYPE ",\"keyslots\":\"1\"," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[1]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[\"1\",\"2\"]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[\"32\"]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[\"01\"]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[\"-1\"]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[\" 1\"]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[\"1x\"]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[\"\"]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[null]," J_VERSION "," J_REST "}", "keyslots" },
	{ "{" J_TYPE ",\"keyslots\":[]," J_VERSION "," J_REST "}", "keyslots" },
	/* pending_keyslot */
	{ J_WITH("\"pending_keyslot\":2"), "pending_keyslot" },
	{ J_PENDING("\"pending_keyslot\":32"), "pending_keyslot" },
	{ J_PENDING("\"pending_keyslot\":-1"), "pending_keyslot" },
	{ J_PENDING("\"pending_keyslot\":\"2\""), "pending_keyslot" },
	{ J_PENDING("\"pending_keyslot\":2.0"), "pending_keyslot" },
	{ J_PENDING("\"pending_keyslot\":18446744073709551617"), "pending_keyslot" },
	/* snp_unseal_version */
	{ "{" J_TYPE "," J_SLOT ",\"snp_unseal_version\":2," J_REST "}", "snp_unseal_version" },
	{ "{" J_TYPE "," J_SLOT ",\"snp_unseal_version\":0," J_REST "}", "snp_unseal_version" },
	{ "{" J_TYPE "," J_SLOT ",\"snp_unseal_version\":\"1\"," J_REST "}", "snp_unseal_version" },
	{ "{" J_TYPE "," J_SLOT ",\"snp_unseal_version\":1.0," J_REST "}", "snp_unseal_version" },
	{ "{" J_TYPE "," J_SLOT ",\"snp_unseal_version\":true," J_REST "}", "snp_unseal_version" },
	/* volume */
#define J_VOL(v) "{" J_TYPE "," J_SLOT "," J_VERSION ",\"volume\":" v "," J_BROKERS "," J_PINS "}"
	{ J_VOL("\"0F1E2D3C-4B5A-4978-8796-A5B4C3D2E1F0\""), "volume" },
	{ J_VOL("\"0f1e2d3c4b5a49788796a5b4c3d2e1f0\""), "volume" },
	{ J_VOL("\"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f\""), "volume" },
	{ J_VOL("\"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f00\""), "volume" },
	{ J_VOL("\"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1\\u0000\""), "volume" },
	{ J_VOL("\"\""), "volume" },
	{ J_VOL("[\"" VOLUME "\"]"), "volume" },
	/* brokers */
#define J_BRK(v) "{" J_TYPE "," J_SLOT "," J_VERSION "," J_VOLUME ",\"brokers\":" v "," J_PINS "}"
	{ J_BRK("[]"), "brokers" },
	{ J_BRK("\"https://kb.example\""), "brokers" },
	{ J_BRK("[1]"), "brokers" },
	{ J_BRK("[\"http://kb.example\"]"), "brokers" },
	{ J_BRK("[\"kb.example\"]"), "brokers" },
	{ J_BRK("[\"https://user@kb.example\"]"), "brokers" },
	{ J_BRK("[\"https://kb.example/#x\"]"), "brokers" },
	{ J_BRK("[\"https://kb.example:0\"]"), "brokers" },
	{ J_BRK("[\"https://kb.example/a\\\"b\"]"), "brokers" },
	{ J_BRK("[\"https://kb.example/a\\\\b\"]"), "brokers" },
	{ J_BRK("[\"https://kb.example/\\u0000x\"]"), "brokers" },
	{ J_BRK("[\"https://kb.example/\\u0001\"]"), "brokers" },
	{ J_BRK("[\"https://a.example\",\"https://b.example\",\"https://a.example\"]"), "brokers" },
	{ J_BRK("[\"https://1\",\"https://2\",\"https://3\",\"https://4\",\"https://5\","
		"\"https://6\",\"https://7\",\"https://8\",\"https://9\"]"), "brokers" },
	{ J_BRK("[\"https://kb.example/" "0123456789012345678901234567890123456789012345678901234567890123"
		"0123456789012345678901234567890123456789012345678901234567890123"
		"0123456789012345678901234567890123456789012345678901234567890123"
		"01234567890123456789012345678901234567890123456789012345678\"]"), "brokers" },
	/* ca_pins */
#define J_CAP(v) \
	"{" J_TYPE "," J_SLOT "," J_VERSION "," J_VOLUME "," J_BROKERS ",\"ca_pins\":" v "}"
	{ J_CAP("[]"), "ca_pins" },
	{ J_CAP("\"" PIN_A "\""), "ca_pins" },
	{ J_CAP("[\"sha1:" HEX64 "\"]"), "ca_pins" },
	{ J_CAP("[\"sha256:" HEX64 "0\"]"), "ca_pins" },
	{ J_CAP("[\"sha256:0" HEX64 "\"]"), "ca_pins" },
	{ J_CAP("[\"sha256:" HEX64 "\\u0000\"]"), "ca_pins" },
	{ J_CAP("[\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A
		"\",\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A "\"]"), "ca_pins" },
	/* server_pin */
	{ J_WITH("\"server_pin\":[\"" PIN_A "\"]"), "server_pin" },
	{ J_WITH("\"server_pin\":\"" HEX64 "\""), "server_pin" },
	{ J_WITH("\"server_pin\":null"), "server_pin" },
	/* name */
	{ J_WITH("\"name\":\"\""), "name" },
	{ J_WITH("\"name\":1"), "name" },
	{ J_WITH("\"name\":\"a/b\""), "name" },
	{ J_WITH("\"name\":\".\""), "name" },
	{ J_WITH("\"name\":\"..\""), "name" },
	{ J_WITH("\"name\":\"a\\tb\""), "name" },
	{ J_WITH("\"name\":\"caf\\u00e9\""), "name" },
	{ J_WITH("\"name\":\"a\\u0000b\""), "name" },
	{ J_WITH("\"name\":\"0123456789012345678901234567890123456789012345678901234567890123"
		 "0123456789012345678901234567890123456789012345678901234567890123\""), "name" },
};

TEST(luks_token_refusals_name_the_member)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct luks_token t;
		struct snp_err err = { 0 };
		char want[64];
		int ret = luks_token_from_json(r->json, strlen(r->json), &t, &err);

		snprintf(want, sizeof(want), "token member \"%s\"", r->member);
		if (!CHECK(ret == -EINVAL) || !CHECK(strstr(err.msg, want) != NULL))
			fprintf(stderr, "  case %zu: %s\n  -> %d %s\n", i, r->json, ret, err.msg);
		for (const char *p = err.msg; *p; p++)
			CHECK(*p >= 0x20 && *p < 0x7f);
		/* Nothing half-parsed is left behind. */
		CHECK(t.n_brokers == 0 && t.keyslot == -1 && t.volume[0] == '\0');
	}
}

/* The same tokens before the mutation are accepted: the refusals are the mutation's. */
TEST(luks_token_table_bases_are_valid)
{
	static const char *const valid[] = {
		J_VALID,
		J_WITH("\"name\":\"luks-" VOLUME "\""),
		J_WITH("\"server_pin\":\"" PIN_B "\""),
		J_PENDING("\"pending_keyslot\":2"),
		J_BRK("[\"https://1\",\"https://2\",\"https://3\",\"https://4\",\"https://5\","
		      "\"https://6\",\"https://7\",\"https://8\"]"),
		J_CAP("[\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A "\",\"" PIN_A "\",\""
		      PIN_A "\",\"" PIN_A "\",\"" PIN_A "\"]"),
		J_BRK("[\"HTTPS://[::1]:8443/unseal?v=1\"]"),
		J_WITH("\"name\":\"a b~!\""),
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct luks_token t;
		struct snp_err err = { 0 };

		if (!CHECK(luks_token_from_json(valid[i], strlen(valid[i]), &t, &err) == 0))
			fprintf(stderr, "  case %zu: %s\n  -> %s\n", i, valid[i], err.msg);
		else
			check_round_trip(&t, NULL);
	}
}

TEST(luks_token_refuses_what_is_not_one_object)
{
	static const char *const texts[] = {
		"", " ", "[]", "\"snp-unseal\"", "1", "null", "{", J_VALID "x", J_VALID J_VALID,
		"{'type':'snp-unseal'}", "{\"type\":\"snp-unseal\",}", "/* c */" J_VALID,
		"{\"type\":\"snp-\xff\"}",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct luks_token t;
		struct snp_err err = { 0 };

		if (!CHECK(luks_token_from_json(texts[i], strlen(texts[i]), &t, &err) == -EINVAL))
			fprintf(stderr, "  case %zu: %s -> %s\n", i, texts[i], err.msg);
		CHECK(err.msg[0] != '\0');
	}
}

TEST(luks_token_refuses_nul_bytes_and_oversized_input)
{
	static const char with_nul[] = J_VALID "\0";
	struct luks_token t;
	struct snp_err err = { 0 };
	size_t len = 64 * 1024;
	char *big = malloc(len + 2);

	CHECK(luks_token_from_json(with_nul, sizeof(with_nul) - 1, &t, &err) == -EINVAL);
	CHECK(strstr(err.msg, "NUL") != NULL);

	/* Padded with whitespace to exactly the limit it is read; one byte more, not. */
	REQUIRE(big != NULL);
	memset(big, ' ', len + 1);
	memcpy(big, J_VALID, strlen(J_VALID));
	CHECK(luks_token_from_json(big, len, &t, &err) == 0);
	CHECK(luks_token_from_json(big, len + 1, &t, &err) == -EINVAL);
	CHECK(strstr(err.msg, "65537") != NULL);
	free(big);
}

TEST(luks_token_other_types_are_emediumtype)
{
	static const char *const texts[] = {
		"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAAA\","
		"\"tpm2-pcrs\":[7],\"deep\":{\"a\":[[{}]]}}",
		"{\"type\":\"luks2-keyring\",\"keyslots\":[],\"key_description\":\"x\","
		"\"key_description\":\"y\"}",
		"{\"keyslots\":[]," J_REST ",\"type\":\"snp-unseal2\"}",
		"{\"type\":\"SNP-UNSEAL\"}",
		"{\"type\":\"snp-unseal\\u0000\"}",
		"{\"type\":\"\"}",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct luks_token t;
		struct snp_err err = { 0 };

		if (!CHECK(luks_token_from_json(texts[i], strlen(texts[i]), &t, &err) ==
			   -EMEDIUMTYPE))
			fprintf(stderr, "  case %zu: %s -> %s\n", i, texts[i], err.msg);
		CHECK(strstr(err.msg, "type") != NULL);
	}
}

/* Tokens built in memory get the parser's checks before anything is written. */
static void check_invalid(const struct luks_token *t, const char *member)
{
	struct snp_err err = { 0 };
	char *json = (char *)"untouched";
	char want[64];

	snprintf(want, sizeof(want), "token member \"%s\"", member);
	CHECK(luks_token_validate(t, &err) == -EINVAL);
	if (!CHECK(strstr(err.msg, want) != NULL))
		fprintf(stderr, "  want %s: %s\n", member, err.msg);
	CHECK(luks_token_to_json(t, &json, &err) == -EINVAL);
	CHECK(json == NULL);
}

/* Ways to spoil a valid token built in memory, each refused naming member. */
static const struct spoiling {
	const char *member;
	int keyslot, pending_keyslot;
	size_t n_brokers, n_ca_pins;
	char fill_volume, fill_broker, fill_name;
	const char *name;
} spoilings[] = {
	{ "keyslots", -1, -1, 1, 1, 0, 0, 0, NULL },
	{ "keyslots", 32, -1, 1, 1, 0, 0, 0, NULL },
	{ "pending_keyslot", 1, 2, 1, 1, 0, 0, 0, NULL },
	{ "pending_keyslot", -1, -2, 1, 1, 0, 0, 0, NULL },
	{ "volume", 1, -1, 1, 1, 'a', 0, 0, NULL },
	{ "brokers", 1, -1, 0, 1, 0, 0, 0, NULL },
	{ "brokers", 1, -1, LUKS_TOKEN_BROKERS_MAX + 1, 1, 0, 0, 0, NULL },
	{ "brokers", 1, -1, 1, 1, 0, 'h', 0, NULL },
	{ "ca_pins", 1, -1, 1, 0, 0, 0, 0, NULL },
	{ "ca_pins", 1, -1, 1, LUKS_TOKEN_CA_PINS_MAX + 1, 0, 0, 0, NULL },
	{ "name", 1, -1, 1, 1, 0, 0, 'n', NULL },
	{ "name", 1, -1, 1, 1, 0, 0, 0, ".." },
	{ "name", 1, -1, 1, 1, 0, 0, 0, "a\nb" },
};

TEST(luks_token_validate_refuses_tokens_built_wrong)
{
	for (size_t i = 0; i < sizeof(spoilings) / sizeof(spoilings[0]); i++) {
		const struct spoiling *s = &spoilings[i];
		struct luks_token t;

		sample(&t);
		t.keyslot = s->keyslot;
		t.pending_keyslot = s->pending_keyslot;
		t.n_brokers = s->n_brokers;
		t.n_ca_pins = s->n_ca_pins;
		/* Fill a whole array: a string with no NUL in it. */
		if (s->fill_volume)
			memset(t.volume, s->fill_volume, sizeof(t.volume));
		if (s->fill_broker)
			memset(t.brokers[0], s->fill_broker, sizeof(t.brokers[0]));
		if (s->fill_name)
			memset(t.name, s->fill_name, sizeof(t.name));
		if (s->name)
			strcpy(t.name, s->name);
		check_invalid(&t, s->member);
	}
}

TEST(luks_token_default_name_is_luks_dash_uuid)
{
	char name[LUKS_TOKEN_NAME_MAX];

	luks_default_name("8c3a5e2f-1b4d-4e6a-9f0c-2d7b8a1e3c5f", name);
	CHECK_STR(name, "luks-8c3a5e2f-1b4d-4e6a-9f0c-2d7b8a1e3c5f");
}

/* ---- A real LUKS2 header ---------------------------------------------------- */

enum { IMAGE_BYTES = 32 << 20 };

static const char secret[] = "token test passphrase";

/* A LUKS2 image at path with a random volume key in keyslot 0 (fast PBKDF2). */
static int luks2_image(const char *path, struct crypt_device **cd)
{
	struct crypt_pbkdf_type fast = {
		.type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int ret;

	if (fd < 0 || ftruncate(fd, IMAGE_BYTES) || close(fd))
		return -errno;
	ret = crypt_init(cd, path);
	if (ret)
		return ret;
	ret = crypt_set_pbkdf_type(*cd, &fast);
	if (!ret)
		ret = crypt_format(*cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, NULL);
	if (!ret)
		ret = crypt_keyslot_add_by_volume_key(*cd, 0, NULL, 0, secret, strlen(secret));
	return ret < 0 ? ret : 0;
}

/* Token id of the header at path: what libcryptsetup gives back parses to want. */
static void check_stored(const char *path, int id, const struct luks_token *want,
			 const char *want_json)
{
	struct crypt_device *cd = NULL;
	const char *type = NULL, *json = NULL;
	struct luks_token got;
	struct snp_err err = { 0 };

	REQUIRE(crypt_init(&cd, path) == 0);
	REQUIRE(crypt_load(cd, CRYPT_LUKS2, NULL) == 0);
	CHECK(crypt_token_status(cd, id, &type) == CRYPT_TOKEN_EXTERNAL_UNKNOWN);
	CHECK_STR(type, LUKS_TOKEN_TYPE);
	REQUIRE(crypt_token_json_get(cd, id, &json) == id);
	/* json-c writes it back exactly as we wrote it: our shape is its canonical one. */
	CHECK_STR(json, want_json);
	CHECK(luks_token_from_json(json, strlen(json), &got, &err) == 0);
	CHECK_STR(err.msg, "");
	CHECK_MEM(&got, want, sizeof(got));
	crypt_free(cd);
}

/*
 * The enroll sequence on a real header: a pending token (empty keyslots)
 * first, then the keyslot, then the complete token in its place. Each is
 * read back from disk by a fresh libcryptsetup context.
 */
TEST(luks_token_libcryptsetup_stores_pending_then_complete)
{
	const char *image = test_path("luks2.img");
	struct crypt_device *cd = NULL;
	struct luks_token t;
	struct snp_err err = { 0 };
	char *json = NULL;
	int id, ret;

	crypt_metadata_locking(NULL, 0);	/* no /run/cryptsetup needed */
	REQUIRE(luks2_image(image, &cd) == 0);

	sample(&t);
	t.keyslot = -1;
	t.pending_keyslot = 1;
	strcpy(t.name, "root");
	REQUIRE(luks_token_to_json(&t, &json, &err) == 0);
	id = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
	if (!CHECK(id >= 0))
		fprintf(stderr, "  LIBCRYPTSETUP REFUSED THE PENDING TOKEN (empty keyslots): %d %s\n",
			id, strerror(-id));
	REQUIRE(id >= 0);
	check_stored(image, id, &t, json);
	free(json);

	/* A complete token may only name a keyslot that exists. */
	t.keyslot = 1;
	t.pending_keyslot = -1;
	REQUIRE(luks_token_to_json(&t, &json, &err) == 0);
	CHECK(crypt_token_json_set(cd, id, json) == -EINVAL);
	ret = crypt_keyslot_add_by_passphrase(cd, 1, secret, strlen(secret), "second", 6);
	REQUIRE(ret == 1);
	CHECK(crypt_token_json_set(cd, id, json) == id);
	crypt_free(cd);
	check_stored(image, id, &t, json);
	free(json);
}

/*
 * A fresh LUKS2 image at path with t written as token id (CRYPT_ANY_TOKEN:
 * the first free one). The token's id or a negative errno; *json gets
 * the JSON written.
 */
static int image_with_token(const char *path, const struct luks_token *t, int id, char **json)
{
	struct crypt_device *cd = NULL;
	int ret;

	*json = NULL;
	crypt_metadata_locking(NULL, 0);
	ret = luks2_image(path, &cd);
	if (!ret)
		ret = luks_token_to_json(t, json, NULL);
	if (!ret)
		ret = crypt_token_json_set(cd, id, *json);
	crypt_free(cd);
	return ret;
}

/* The largest token we write fits a header with the default (16 KiB) metadata area. */
TEST(luks_token_libcryptsetup_stores_the_largest_token)
{
	const char *image = test_path("luks2.img");
	struct luks_token t;
	char *json = NULL;
	int id;

	largest(&t, 0);
	id = image_with_token(image, &t, CRYPT_ANY_TOKEN, &json);
	CHECK(id >= 0);
	if (id >= 0)
		check_stored(image, id, &t, json);
	free(json);
}

/* cryptsetup(8) itself lists the token by our type. */
TEST(luks_token_cryptsetup_luksdump_lists_the_token)
{
	const char *image = test_path("luks2.img");
	struct luks_token t;
	char *json = NULL, command[4200], line[512];
	bool listed = false;
	FILE *dump;

	if (access("/sbin/cryptsetup", X_OK))
		test_skip("no /sbin/cryptsetup (package cryptsetup-bin)");
	sample(&t);
	t.keyslot = 0;
	CHECK(image_with_token(image, &t, 3, &json) == 3);
	free(json);
	REQUIRE(!strchr(image, '\''));
	snprintf(command, sizeof(command), "/sbin/cryptsetup luksDump '%s' 2>&1", image);
	dump = popen(command, "r");
	REQUIRE(dump != NULL);
	while (fgets(line, sizeof(line), dump))
		listed |= strstr(line, "3: " LUKS_TOKEN_TYPE) != NULL;
	CHECK(pclose(dump) == 0);
	CHECK(listed);
}
