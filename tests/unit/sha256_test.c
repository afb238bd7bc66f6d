// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Our mbedTLS's SHA-256 block function (deps/mbedtls_sha256_x86.c): the
 * SHA extensions path and the portable path both give FIPS 180-4's digests
 * for SHA-256 and SHA-224, the same digests as each other and as coreutils'
 * sha256sum, whole or fed in pieces, and the known PBKDF2-HMAC-SHA256 keys
 * (the function libcryptsetup checks a LUKS2 volume key with); the SHA
 * extensions are used exactly when the CPU has them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>

#include "deps/mbedtls_sha256_x86.h"
#include "tests/harness.h"
#include "tests/shared.h"

#define SHA256_LEN	32
#define SHA224_LEN	28
#define MAX_RANGE_LEN	1000
#define MIB		(1024 * 1024)

/* Each test runs both paths: portable off (the SHA extensions where the
 * CPU has them), then on. */
static const char *use_path(int portable)
{
	return mbedtls_sha256_x86_force_portable(portable) ?
	       "SHA extensions" : "portable C";
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static bool cpuinfo_has_flag(const char *flag)
{
	char line[8192];
	bool found = false;
	size_t n = strlen(flag);
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		test_skip("no /proc/cpuinfo to tell what the CPU has");
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *p = strstr(line, flag); p && !found; p = strstr(p + 1, flag))
			found = p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n');
		break;
	}
	fclose(f);
	return found;
}

/*
 * sha256sum (coreutils, not mbedTLS) over the files "m0000".."mNNNN" of the
 * test's directory: digests[i] is file i's. Returns how many it listed.
 */
static size_t sha256sum_files(uint8_t (*digests)[SHA256_LEN], size_t count)
{
	char command[512], line[256], hex[2 * SHA256_LEN + 1];
	size_t listed = 0;
	unsigned int index;
	FILE *sums;

	if (strchr(test_tmpdir(), '\''))
		test_skip("the test directory's name has a quote");
	snprintf(command, sizeof(command), "cd '%s' && sha256sum m[0-9]*", test_tmpdir());
	sums = popen(command, "r");
	if (!sums)
		return 0;
	while (fgets(line, sizeof(line), sums)) {
		if (sscanf(line, "%64[0-9a-f]  m%4u", hex, &index) != 2 || index >= count ||
		    test_unhex(hex, digests[index], SHA256_LEN) != SHA256_LEN)
			break;
		listed++;
	}
	if (pclose(sums) != 0)
		return 0;
	return listed;
}

/* ---- which path ------------------------------------------------------------ */

TEST(sha256_uses_sha_extensions_exactly_when_cpu_has_them)
{
	int has = cpuinfo_has_flag("sha_ni");

	printf("    CPU flag sha_ni: %s\n", has ? "yes" : "no");
	CHECK(mbedtls_sha256_x86_force_portable(0) == has);
	CHECK(mbedtls_sha256_x86_force_portable(1) == 0);
	CHECK(mbedtls_sha256_x86_force_portable(0) == has);
}

/* ---- FIPS 180-4 example messages -------------------------------------------- */

struct nist_vector {
	const char *text;
	size_t repeat;
	const char *sha256;
	const char *sha224;
};

static const struct nist_vector nist_vectors[] = {
	{ "", 1,
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f" },
	{ "abc", 1,
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	  "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	  "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 1,
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
	  "c97ca9a559850ce97a04a96def6d99a9e0e0e2ab14e6b8df265fc0b3" },
	{ "a", 1000000,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	  "20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67" },
};

static uint8_t *repeated(const char *text, size_t repeat, size_t *len)
{
	size_t n = strlen(text);
	uint8_t *buf = malloc(n * repeat + 1);

	if (!buf)
		exit(1);
	for (size_t i = 0; i < repeat; i++)
		memcpy(buf + i * n, text, n);
	*len = n * repeat;
	return buf;
}

static void check_nist_vector(const struct nist_vector *v)
{
	uint8_t want[SHA256_LEN], got[SHA256_LEN];
	size_t len;
	uint8_t *msg = repeated(v->text, v->repeat, &len);

	test_unhex(v->sha256, want, sizeof(want));
	CHECK(mbedtls_sha256(msg, len, got, 0) == 0);
	CHECK_MEM(got, want, SHA256_LEN);
	test_unhex(v->sha224, want, sizeof(want));
	CHECK(mbedtls_sha256(msg, len, got, 1) == 0);
	CHECK_MEM(got, want, SHA224_LEN);
	free(msg);
}

TEST(sha256_and_sha224_give_fips_180_digests_on_both_paths)
{
	for (int portable = 0; portable <= 1; portable++) {
		printf("    %s\n", use_path(portable));
		for (size_t i = 0; i < sizeof(nist_vectors) / sizeof(nist_vectors[0]); i++)
			check_nist_vector(&nist_vectors[i]);
	}
}

/* ---- both paths against each other and against sha256sum ------------------ */

TEST(sha256_paths_and_sha256sum_agree_on_every_length_to_1000)
{
	/* Offsets 0..6 into the buffer: unaligned blocks too. */
	uint8_t data[MAX_RANGE_LEN + 7];
	static uint8_t fast[MAX_RANGE_LEN + 1][SHA256_LEN];
	static uint8_t slow[MAX_RANGE_LEN + 1][SHA256_LEN];
	static uint8_t listed[MAX_RANGE_LEN + 1][SHA256_LEN];
	size_t differ = 0, len;
	char name[16];

	test_fill_pseudo_random(data, sizeof(data), 0x5a4e495f5348410full);
	for (len = 0; len <= MAX_RANGE_LEN; len++) {
		const uint8_t *msg = data + len % 7;

		use_path(0);
		REQUIRE(mbedtls_sha256(msg, len, fast[len], 0) == 0);
		use_path(1);
		REQUIRE(mbedtls_sha256(msg, len, slow[len], 0) == 0);
		differ += memcmp(fast[len], slow[len], SHA256_LEN) != 0;
		snprintf(name, sizeof(name), "m%04zu", len);
		write_file(test_path(name), msg, len);
	}
	CHECK(differ == 0);
	REQUIRE(sha256sum_files(listed, MAX_RANGE_LEN + 1) == MAX_RANGE_LEN + 1);
	for (len = 0; len <= MAX_RANGE_LEN; len++) {
		if (memcmp(fast[len], listed[len], SHA256_LEN)) {
			fprintf(stderr, "    length %zu:\n", len);
			CHECK_MEM(fast[len], listed[len], SHA256_LEN);
			break;
		}
	}
}

/* The digest of buf fed in pieces of 0..199 bytes (sizes from seed). */
static void sha256_in_pieces(const uint8_t *buf, size_t len, uint64_t seed,
			     uint8_t out[SHA256_LEN])
{
	mbedtls_sha256_context ctx;
	uint8_t sizes[4096];
	size_t done = 0, i = 0;

	test_fill_pseudo_random(sizes, sizeof(sizes), seed);
	mbedtls_sha256_init(&ctx);
	CHECK(mbedtls_sha256_starts(&ctx, 0) == 0);
	while (done < len) {
		size_t piece = sizes[i++ % sizeof(sizes)] % 200;

		if (piece > len - done)
			piece = len - done;
		CHECK(mbedtls_sha256_update(&ctx, buf + done, piece) == 0);
		done += piece;
	}
	CHECK(mbedtls_sha256_finish(&ctx, out) == 0);
	mbedtls_sha256_free(&ctx);
}

TEST(sha256_one_mib_whole_and_in_pieces_matches_sha256sum_on_both_paths)
{
	uint8_t *buf = malloc(MIB);
	uint8_t listed[1][SHA256_LEN], whole[SHA256_LEN], pieces[SHA256_LEN];

	REQUIRE(buf != NULL);
	test_fill_pseudo_random(buf, MIB, 0x0123456789abcdefull);
	write_file(test_path("m0000"), buf, MIB);
	REQUIRE(sha256sum_files(listed, 1) == 1);
	for (int portable = 0; portable <= 1; portable++) {
		printf("    %s\n", use_path(portable));
		CHECK(mbedtls_sha256(buf, MIB, whole, 0) == 0);
		CHECK_MEM(whole, listed[0], SHA256_LEN);
		sha256_in_pieces(buf, MIB, 0xfeedfacecafebeefull, pieces);
		CHECK_MEM(pieces, listed[0], SHA256_LEN);
	}
	free(buf);
}

/* ---- PBKDF2-HMAC-SHA256 ----------------------------------------------------- */

struct pbkdf2_vector {
	const char *password;
	const char *salt;
	unsigned int iterations;
	const char *key;
};

/* RFC 7914 section 11, then the widely published RFC 6070-style ones. */
static const struct pbkdf2_vector pbkdf2_vectors[] = {
	{ "passwd", "salt", 1,
	  "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	  "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783" },
	{ "Password", "NaCl", 80000,
	  "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
	  "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d" },
	{ "password", "salt", 1,
	  "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b" },
	{ "password", "salt", 4096,
	  "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a" },
	{ "passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096,
	  "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9" },
};

static int pbkdf2_sha256(const char *password, const char *salt,
			 unsigned int iterations, uint8_t *key, size_t key_len)
{
	return mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256,
			(const unsigned char *)password, strlen(password),
			(const unsigned char *)salt, strlen(salt),
			iterations, (uint32_t)key_len, key);
}

TEST(pbkdf2_hmac_sha256_gives_published_keys_on_both_paths)
{
	uint8_t want[64], got[64];

	for (int portable = 0; portable <= 1; portable++) {
		printf("    %s\n", use_path(portable));
		for (size_t i = 0; i < sizeof(pbkdf2_vectors) / sizeof(pbkdf2_vectors[0]); i++) {
			const struct pbkdf2_vector *v = &pbkdf2_vectors[i];
			size_t len = test_unhex(v->key, want, sizeof(want));

			memset(got, 0, sizeof(got));
			CHECK(pbkdf2_sha256(v->password, v->salt, v->iterations, got, len) == 0);
			CHECK_MEM(got, want, len);
		}
	}
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The count luksFormat's benchmark picks on these machines; the times are
 * printed for the record, never judged. The key is Python's hashlib's. */
TEST(pbkdf2_hmac_sha256_200000_iterations_same_key_on_both_paths)
{
	const char *want_hex = "ece03e78087fd6e696e0d904bec02f81da34c8fa7954df7b13ebe914de88168b";
	uint8_t want[SHA256_LEN], got[SHA256_LEN];
	struct timespec start;

	test_unhex(want_hex, want, sizeof(want));
	for (int portable = 0; portable <= 1; portable++) {
		const char *path = use_path(portable);

		memset(got, 0, sizeof(got));
		clock_gettime(CLOCK_MONOTONIC, &start);
		CHECK(pbkdf2_sha256("passphrase", "saltsaltsaltsaltsaltsaltsaltsalt",
				    200000, got, sizeof(got)) == 0);
		printf("    %s: PBKDF2-HMAC-SHA256, 200000 iterations: %.3f s\n",
		       path, seconds_since(&start));
		CHECK_MEM(got, want, sizeof(want));
	}
}
