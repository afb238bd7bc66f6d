// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Enrolling and unenrolling snp-unseal's keyslot and token (luks/enroll.h)
 * and opening a volume with the secret (luks/open.h), on real LUKS2 image
 * files made here: what enroll adds (one PBKDF2 keyslot at the minimum
 * count, one complete token) and that it touches nothing else, refusals
 * that write nothing, the undo when adding the keyslot fails, pending
 * tokens left by an interrupted enroll, and which keyslot a secret opens.
 *
 * The images' own passphrase keyslot uses argon2id at its minimum cost:
 * quick, and unlike ours, as a real passphrase keyslot would be.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "luks/enroll.h"
#include "luks/open.h"
#include "luks/token.h"
#include "tests/harness.h"

enum {
	IMAGE_SIZE = 4 << 20,
	BIG_IMAGE_SIZE = 8 << 20,
	METADATA_SIZE = 16 << 10,
	VOLUME_KEY_SIZE = 32,		/* AES-128-XTS */
	KEYSLOT_AREA = 128 << 10,	/* one keyslot of a 32-byte key (4000 AF stripes) */
	KEYSLOTS_SIZE = 8 * KEYSLOT_AREA,
	KEYSLOTS_MAX = 32,
	SECRET_SIZE = 32,
	SEQID_OFFSET = 16,		/* of the primary binary header, big-endian */
};

static const char passphrase[] = "correct horse battery staple";
static const char other_passphrase[] = "tr0ub4dor&3";
static const char foreign_json[] =
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[],\"tpm2-pcrs\":[7]}";

/* A fresh 32-byte secret: byte i is i * mul + add. */
static void make_secret(uint8_t out[SECRET_SIZE], unsigned mul, unsigned add)
{
	for (size_t i = 0; i < SECRET_SIZE; i++)
		out[i] = (uint8_t)(i * mul + add);
}

static void crypt_log_errors(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	if (level == CRYPT_LOG_ERROR)
		fprintf(stderr, "    libcryptsetup: %s", msg);
}

/* ---- images ------------------------------------------------------------ */

struct image_spec {
	const char *type;		/* CRYPT_LUKS2 or CRYPT_LUKS1 */
	size_t keyslots_size;		/* LUKS2 only */
	off_t size;
};

static const struct image_spec luks2_spec = { CRYPT_LUKS2, KEYSLOTS_SIZE, IMAGE_SIZE };

static int make_file(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = ftruncate(fd, size) ? -errno : 0;
	close(fd);
	return r;
}

static void fill_volume_key(char key[VOLUME_KEY_SIZE])
{
	for (size_t i = 0; i < VOLUME_KEY_SIZE; i++)
		key[i] = (char)(i * 29 + 7);
}

/* The test's own passphrase keyslot: argon2id at its minimum cost. */
static int set_argon2_min(struct crypt_device *cd)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_ARGON2ID,
		.hash = "sha256",
		.iterations = 4,
		.max_memory_kb = 32,
		.parallel_threads = 1,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};

	return crypt_set_pbkdf_type(cd, &pbkdf);
}

/* What enroll's step 2 makes: PBKDF2-SHA256 at 1000 iterations. */
static int set_pbkdf2_min(struct crypt_device *cd)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = LUKS_PBKDF2_ITERATIONS,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};

	return crypt_set_pbkdf_type(cd, &pbkdf);
}

static int format(struct crypt_device *cd, const struct image_spec *spec)
{
	char volume_key[VOLUME_KEY_SIZE];
	bool luks2 = !strcmp(spec->type, CRYPT_LUKS2);
	int r;

	fill_volume_key(volume_key);
	r = luks2 ? set_argon2_min(cd) : set_pbkdf2_min(cd);
	if (!r && luks2)
		r = crypt_set_metadata_size(cd, METADATA_SIZE, spec->keyslots_size);
	if (!r)
		r = crypt_format(cd, spec->type, "aes", "xts-plain64", NULL, volume_key,
				 sizeof(volume_key), NULL);
	if (!r)
		r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, volume_key,
						    sizeof(volume_key), passphrase,
						    strlen(passphrase));
	return r < 0 ? r : 0;
}

/* An image at test_path(name) with one passphrase keyslot (0); its path. */
static const char *make_image(const char *name, const struct image_spec *spec)
{
	static char path[PATH_MAX];
	struct crypt_device *cd = NULL;
	int r;

	snprintf(path, sizeof(path), "%s", test_path(name));
	r = make_file(path, spec->size);
	if (!r)
		r = crypt_init(&cd, path);
	if (!r) {
		crypt_set_log_callback(cd, crypt_log_errors, NULL);
		r = format(cd, spec);
	}
	crypt_free(cd);
	if (r) {
		fprintf(stderr, "    make_image %s: %s\n", path, strerror(-r));
		return NULL;
	}
	return path;
}

/* The image's LUKS2 header, loaded; NULL (reported) when it does not load. */
static struct crypt_device *load(const char *path)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init(&cd, path);

	if (!r) {
		crypt_set_log_callback(cd, crypt_log_errors, NULL);
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	}
	if (r) {
		fprintf(stderr, "    load %s: %s\n", path, strerror(-r));
		crypt_free(cd);
		return NULL;
	}
	return cd;
}

/* The header's JSON metadata (keyslots, tokens, segments, digests), malloc'd. */
static char *header_json(const char *path)
{
	struct crypt_device *cd = load(path);
	const char *json = NULL;
	char *copy = NULL;

	if (cd && !crypt_dump_json(cd, &json, 0) && json)
		copy = strdup(json);
	crypt_free(cd);
	return copy;
}

static uint8_t *read_image(const char *path, size_t *len)
{
	return test_read_file(path, BIG_IMAGE_SIZE, len);
}

/* The header's sequence id: every header write increases it by one. */
static uint64_t header_seqid(const char *path)
{
	size_t len;
	uint8_t *img = read_image(path, &len);
	uint64_t seqid = 0;

	for (size_t i = 0; i < 8 && SEQID_OFFSET + i < len; i++)
		seqid = seqid << 8 | img[SEQID_OFFSET + i];
	free(img);
	return seqid;
}

/* Whether the whole file at path still holds exactly before. */
static bool image_is(const char *path, const uint8_t *before, size_t before_len)
{
	size_t len;
	uint8_t *now = read_image(path, &len);
	bool same = len == before_len && !memcmp(now, before, len);

	free(now);
	return same;
}

/* Whether keyslot's area and the data area are what they were in before. */
static bool keyslot_and_data_kept(const char *path, int keyslot, const uint8_t *before,
				  size_t before_len)
{
	struct crypt_device *cd = load(path);
	uint64_t offset = 0, length = 0, data;
	uint8_t *now;
	size_t len;
	bool same;

	if (!cd || crypt_keyslot_area(cd, keyslot, &offset, &length)) {
		crypt_free(cd);
		return false;
	}
	data = crypt_get_data_offset(cd) * 512;
	crypt_free(cd);
	now = read_image(path, &len);
	same = len == before_len && offset + length <= len && data <= len &&
	       !memcmp(now + offset, before + offset, length) &&
	       !memcmp(now + data, before + data, len - data);
	free(now);
	return same;
}

static int count_active_keyslots(struct crypt_device *cd)
{
	int n = 0;

	for (int k = 0; k < crypt_keyslot_max(CRYPT_LUKS2); k++)
		if (crypt_keyslot_status(cd, k) != CRYPT_SLOT_INACTIVE)
			n++;
	return n;
}

static int count_tokens(struct crypt_device *cd)
{
	int n = 0;

	for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++)
		if (crypt_token_status(cd, id, NULL) != CRYPT_TOKEN_INACTIVE)
			n++;
	return n;
}

/* Which keyslot pass opens (any of them), or libcryptsetup's error. */
static int opened_by(const char *path, const void *pass, size_t len)
{
	struct crypt_device *cd = load(path);
	int r = cd ? crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, pass, len, 0) : -EIO;

	crypt_free(cd);
	return r;
}

/* Add keyslot (PBKDF2 at the minimum when pbkdf2, else argon2id) for pass. */
static int add_keyslot(const char *path, int keyslot, bool pbkdf2, const void *pass,
		       size_t len)
{
	struct crypt_device *cd = load(path);
	int r = cd ? 0 : -EIO;

	if (!r)
		r = pbkdf2 ? set_pbkdf2_min(cd) : set_argon2_min(cd);
	if (!r)
		r = crypt_keyslot_add_by_passphrase(cd, keyslot, passphrase, strlen(passphrase),
						    pass, len);
	crypt_free(cd);
	return r;
}

static int set_token_json(const char *path, const char *json)
{
	struct crypt_device *cd = load(path);
	int r = cd && json ? crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json) : -EIO;

	crypt_free(cd);
	return r;
}

/* ---- enroll ------------------------------------------------------------ */

static void test_token(struct luks_token *t)
{
	luks_token_init(t);
	snprintf(t->brokers[0], sizeof(t->brokers[0]), "https://kb.example:8443");
	t->n_brokers = 1;
	memset(t->ca_pins[0], 0x5a, TLS_PIN_SIZE);
	t->n_ca_pins = 1;
}

static int enroll_with(const char *path, const char *pass, const uint8_t secret[SECRET_SIZE],
		       struct luks_enroll_result *res, struct snp_err *err)
{
	struct luks_token t;
	struct luks_enroll_params p = {
		.device = path,
		.passphrase = pass,
		.passphrase_len = strlen(pass),
		.secret = secret,
		.secret_len = SECRET_SIZE,
		.token = &t,
	};

	test_token(&t);
	memset(err, 0, sizeof(*err));
	return luks_enroll(&p, res, err);
}

/* Enroll with the image's passphrase; 0 or the error (reported). */
static int enroll(const char *path, const uint8_t secret[SECRET_SIZE],
		  struct luks_enroll_result *res)
{
	struct snp_err err;
	int r = enroll_with(path, passphrase, secret, res, &err);

	if (r)
		fprintf(stderr, "    luks_enroll %s: %s\n", path, err.msg);
	return r;
}

/* An image with keyslot 0 for the passphrase, enrolled with a fresh secret. */
static const char *enrolled_image(uint8_t secret[SECRET_SIZE], struct luks_enroll_result *res)
{
	const char *path = make_image("a.img", &luks2_spec);

	make_secret(secret, 7, 3);
	if (!path || enroll(path, secret, res))
		return NULL;
	return path;
}

/* A pending token as step 1 writes it, naming keyslot. */
static int add_pending_token(const char *path, int keyslot)
{
	struct snp_err err = { 0 };
	struct crypt_device *cd = load(path);
	struct luks_token t;
	char *json = NULL;
	int r = cd ? 0 : -EIO;

	test_token(&t);
	t.pending_keyslot = keyslot;
	if (cd)
		snprintf(t.volume, sizeof(t.volume), "%s", crypt_get_uuid(cd));
	crypt_free(cd);
	if (!r)
		r = luks_token_to_json(&t, &json, &err);
	if (!r)
		r = set_token_json(path, json);
	free(json);
	return r < 0 ? r : 0;
}

/* The snp-unseal token with id token_id, parsed; 0 or an error. */
static int read_token(const char *path, int token_id, struct luks_token *t)
{
	struct crypt_device *cd = load(path);
	struct snp_err err = { 0 };
	const char *json = NULL;
	int r = cd ? crypt_token_json_get(cd, token_id, &json) : -EIO;

	if (r >= 0)
		r = luks_token_from_json(json, strlen(json), t, &err);
	crypt_free(cd);
	return r;
}

TEST(luks_enroll_adds_one_pbkdf2_keyslot_and_one_complete_token_and_nothing_else)
{
	const char *path = make_image("a.img", &luks2_spec);
	struct luks_enroll_result res;
	struct crypt_pbkdf_type pbkdf;
	struct crypt_device *cd;
	uint8_t secret[SECRET_SIZE], *before;
	struct luks_token t;
	size_t before_len;

	REQUIRE(path);
	make_secret(secret, 7, 3);
	before = read_image(path, &before_len);
	REQUIRE(enroll(path, secret, &res) == 0);
	CHECK(res.keyslot == 1);
	CHECK(res.token_id == 0);
	CHECK(!res.cleared_pending);

	cd = load(path);
	REQUIRE(cd);
	CHECK(count_active_keyslots(cd) == 2);
	CHECK(count_tokens(cd) == 1);
	CHECK_STR(res.volume, crypt_get_uuid(cd));
	CHECK(crypt_keyslot_status(cd, 1) == CRYPT_SLOT_ACTIVE);
	CHECK(crypt_token_is_assigned(cd, 0, 1) == 0);
	CHECK(crypt_token_is_assigned(cd, 0, 0) != 0);
	REQUIRE(crypt_keyslot_get_pbkdf(cd, 1, &pbkdf) == 0);
	CHECK_STR(pbkdf.type, CRYPT_KDF_PBKDF2);
	CHECK_STR(pbkdf.hash, "sha256");
	CHECK(pbkdf.iterations == LUKS_PBKDF2_ITERATIONS);
	/* Tried first when no keyslot is named; the passphrase's keeps its priority. */
	CHECK(crypt_keyslot_get_priority(cd, 1) == CRYPT_SLOT_PRIORITY_PREFER);
	CHECK(crypt_keyslot_get_priority(cd, 0) == CRYPT_SLOT_PRIORITY_NORMAL);
	/* The passphrase's keyslot keeps its own KDF. */
	REQUIRE(crypt_keyslot_get_pbkdf(cd, 0, &pbkdf) == 0);
	CHECK_STR(pbkdf.type, CRYPT_KDF_ARGON2ID);
	crypt_free(cd);

	REQUIRE(read_token(path, 0, &t) == 0);
	CHECK(t.keyslot == 1);
	CHECK(t.pending_keyslot == -1);
	CHECK_STR(t.volume, res.volume);
	CHECK_STR(t.brokers[0], "https://kb.example:8443");
	/* Keyslot 0's area and the data are byte for byte what they were. */
	CHECK(keyslot_and_data_kept(path, 0, before, before_len));
	free(before);
	/* The secret opens our keyslot, the passphrase still its own. */
	CHECK(opened_by(path, secret, sizeof(secret)) == 1);
	CHECK(opened_by(path, passphrase, strlen(passphrase)) == 0);
}

/* enroll's refusal r for the image at path, which must stay byte for byte as it was. */
static void check_refused(const char *path, const char *pass, int want, const char *says)
{
	struct luks_enroll_result res;
	uint8_t secret[SECRET_SIZE], *before;
	struct snp_err err;
	size_t len;

	make_secret(secret, 11, 5);
	before = read_image(path, &len);
	CHECK(enroll_with(path, pass, secret, &res, &err) == want);
	CHECK(res.keyslot == -1 && res.token_id == -1);
	if (!strstr(err.msg, says))
		fprintf(stderr, "    message: %s\n", err.msg);
	CHECK(strstr(err.msg, says) != NULL);
	CHECK(image_is(path, before, len));
	free(before);
}

TEST(luks_enroll_wrong_passphrase_writes_nothing)
{
	const char *path = make_image("a.img", &luks2_spec);

	REQUIRE(path);
	check_refused(path, other_passphrase, -EPERM, "the passphrase opens no keyslot");
}

TEST(luks_enroll_refuses_luks1_and_non_luks)
{
	static const struct image_spec luks1 = { CRYPT_LUKS1, 0, IMAGE_SIZE };
	const char *path = make_image("luks1.img", &luks1);

	REQUIRE(path);
	check_refused(path, passphrase, -EMEDIUMTYPE, "LUKS1");
	REQUIRE(make_file(test_path("zero.img"), IMAGE_SIZE) == 0);
	check_refused(test_path("zero.img"), passphrase, -EMEDIUMTYPE, "no LUKS2 header");
}

TEST(luks_enroll_twice_is_refused_and_writes_nothing)
{
	const char *path;
	struct luks_enroll_result res;
	uint8_t secret[SECRET_SIZE];

	path = enrolled_image(secret, &res);
	REQUIRE(path);
	check_refused(path, passphrase, -EEXIST, "already enrolled");
	/* The refusal comes before the passphrase is even tried. */
	check_refused(path, other_passphrase, -EEXIST, "already enrolled");
}

TEST(luks_enroll_full_header_is_refused_and_writes_nothing)
{
	static const struct image_spec big = {
		CRYPT_LUKS2, KEYSLOTS_MAX * KEYSLOT_AREA, BIG_IMAGE_SIZE
	};
	const char *path = make_image("full.img", &big);
	char volume_key[VOLUME_KEY_SIZE];
	struct crypt_device *cd;
	int r = 0;

	REQUIRE(path);
	cd = load(path);
	REQUIRE(cd);
	fill_volume_key(volume_key);
	REQUIRE(set_pbkdf2_min(cd) == 0);
	for (int k = 1; k < KEYSLOTS_MAX && r >= 0; k++)
		r = crypt_keyslot_add_by_volume_key(cd, k, volume_key, sizeof(volume_key),
						    other_passphrase, strlen(other_passphrase));
	CHECK(r >= 0);
	CHECK(count_active_keyslots(cd) == KEYSLOTS_MAX);
	crypt_free(cd);
	check_refused(path, passphrase, -ENOSPC, "no free keyslot");
}

/*
 * A header whose keyslot area has room for the passphrase's keyslot
 * only: step 2 fails after step 1 wrote the pending token, which must be
 * gone again (the two header writes show in the sequence id).
 */
TEST(luks_enroll_undoes_the_pending_token_when_the_keyslot_cannot_be_added)
{
	static const struct image_spec tight = { CRYPT_LUKS2, KEYSLOT_AREA, IMAGE_SIZE };
	const char *path = make_image("tight.img", &tight);
	struct luks_enroll_result res;
	uint8_t secret[SECRET_SIZE];
	struct snp_err err;
	struct crypt_device *cd;
	uint64_t seqid;
	char *before, *after;
	int r;

	REQUIRE(path);
	REQUIRE(set_token_json(path, foreign_json) == 0);
	before = header_json(path);
	seqid = header_seqid(path);
	REQUIRE(before);
	make_secret(secret, 7, 3);
	r = enroll_with(path, passphrase, secret, &res, &err);
	CHECK(r < 0);
	CHECK(strstr(err.msg, "cannot add keyslot 1") != NULL);
	CHECK(!strstr(err.msg, "undoing it failed"));
	CHECK(header_seqid(path) == seqid + 2);	/* pending token written, then removed */
	after = header_json(path);
	REQUIRE(after);
	CHECK_STR(after, before);
	cd = load(path);
	REQUIRE(cd);
	CHECK(count_tokens(cd) == 1);		/* the foreign one */
	CHECK(count_active_keyslots(cd) == 1);
	crypt_free(cd);
	CHECK(opened_by(path, passphrase, strlen(passphrase)) == 0);
	free(before);
	free(after);
}

/* An interrupted enroll left a pending token on keyslot 1 (and, when added, the keyslot). */
static const char *interrupted_image(bool keyslot_added, const uint8_t old_secret[SECRET_SIZE])
{
	const char *path = make_image("a.img", &luks2_spec);

	if (!path || add_pending_token(path, 1))
		return NULL;
	if (keyslot_added && add_keyslot(path, 1, true, old_secret, SECRET_SIZE) != 1)
		return NULL;
	return path;
}

/*
 * Enroll on an image an interrupted enroll left: the pending token goes,
 * ours lands on keyslot, with keyslots active in all.
 */
static void check_enroll_clears_pending(const char *path, int keyslot, int keyslots)
{
	struct luks_enroll_result res;
	uint8_t secret[SECRET_SIZE];
	struct crypt_device *cd;
	struct luks_token t;

	make_secret(secret, 7, 3);
	REQUIRE(enroll(path, secret, &res) == 0);
	CHECK(res.cleared_pending);
	CHECK(res.keyslot == keyslot);
	cd = load(path);
	REQUIRE(cd);
	CHECK(count_tokens(cd) == 1);
	CHECK(count_active_keyslots(cd) == keyslots);
	crypt_free(cd);
	REQUIRE(read_token(path, res.token_id, &t) == 0);
	CHECK(t.keyslot == keyslot);
	CHECK(opened_by(path, secret, sizeof(secret)) == keyslot);
}

TEST(luks_enroll_clears_a_pending_token_left_before_its_keyslot)
{
	const char *path = interrupted_image(false, NULL);

	REQUIRE(path);
	check_enroll_clears_pending(path, 1, 2);
}

TEST(luks_enroll_clears_a_pending_token_and_the_keyslot_it_added)
{
	uint8_t old_secret[SECRET_SIZE];
	const char *path;

	make_secret(old_secret, 13, 1);
	path = interrupted_image(true, old_secret);
	REQUIRE(path);
	check_enroll_clears_pending(path, 1, 2);
	CHECK(opened_by(path, old_secret, sizeof(old_secret)) == -EPERM);
}

/*
 * After the crash the owner ran `cryptsetup luksAddKey`, which took the
 * keyslot the pending token names: not made the way enroll makes its own,
 * so it stays.
 */
TEST(luks_enroll_keeps_a_passphrase_keyslot_a_pending_token_names)
{
	const char *path = interrupted_image(false, NULL);

	REQUIRE(path);
	REQUIRE(add_keyslot(path, 1, false, other_passphrase, strlen(other_passphrase)) == 1);
	check_enroll_clears_pending(path, 2, 3);
	CHECK(opened_by(path, other_passphrase, strlen(other_passphrase)) == 1);
}

/* Enrolling with the passphrase of keyslot 1 when keyslot 0 is another's. */
TEST(luks_enroll_with_the_passphrase_of_any_keyslot)
{
	const char *path = make_image("a.img", &luks2_spec);
	struct luks_enroll_result res;
	uint8_t secret[SECRET_SIZE];
	struct snp_err err;

	REQUIRE(path);
	REQUIRE(add_keyslot(path, 1, false, other_passphrase, strlen(other_passphrase)) == 1);
	make_secret(secret, 7, 3);
	CHECK(enroll_with(path, other_passphrase, secret, &res, &err) == 0);
	CHECK(res.keyslot == 2);
	CHECK(opened_by(path, secret, sizeof(secret)) == 2);
}

TEST(luks_header_uuid_reads_the_header)
{
	const char *path = make_image("a.img", &luks2_spec);
	struct snp_err err = { 0 };
	struct crypt_device *cd;
	char uuid[40];

	REQUIRE(path);
	REQUIRE(luks_header_uuid(path, uuid, &err) == 0);
	cd = load(path);
	REQUIRE(cd);
	CHECK_STR(uuid, crypt_get_uuid(cd));
	crypt_free(cd);
	REQUIRE(make_file(test_path("zero.img"), IMAGE_SIZE) == 0);
	CHECK(luks_header_uuid(test_path("zero.img"), uuid, &err) == -EMEDIUMTYPE);
}

/* ---- unenroll ---------------------------------------------------------- */

TEST(luks_unenroll_removes_keyslot_and_token_and_nothing_else)
{
	const char *path = make_image("a.img", &luks2_spec);
	struct luks_unenroll_result ures;
	struct luks_enroll_result res;
	struct snp_err err = { 0 };
	uint8_t secret[SECRET_SIZE], *bytes;
	char *before, *after;
	size_t len;

	REQUIRE(path);
	REQUIRE(set_token_json(path, foreign_json) == 0);
	before = header_json(path);
	bytes = read_image(path, &len);
	REQUIRE(before);
	make_secret(secret, 7, 3);
	REQUIRE(enroll(path, secret, &res) == 0);
	CHECK(res.token_id == 1);
	CHECK(luks_unenroll(path, &ures, &err) == 0);
	CHECK(ures.removed_tokens == 1);
	CHECK(ures.removed_keyslots == 1);
	after = header_json(path);
	REQUIRE(after);
	CHECK_STR(after, before);	/* the foreign token included */
	CHECK(keyslot_and_data_kept(path, 0, bytes, len));
	CHECK(opened_by(path, secret, sizeof(secret)) == -EPERM);
	CHECK(opened_by(path, passphrase, strlen(passphrase)) == 0);

	/* Nothing left to remove: success, with nothing done. */
	CHECK(luks_unenroll(path, &ures, &err) == 0);
	CHECK(ures.removed_tokens == 0 && ures.removed_keyslots == 0);
	free(before);
	free(after);
	free(bytes);
}

/*
 * With keyslot 0 gone, ours is the only one that opens the volume; an
 * unbound keyslot holds no volume key, so it does not change that.
 */
TEST(luks_unenroll_refuses_to_remove_the_last_keyslot)
{
	const char *path;
	struct luks_unenroll_result ures;
	struct luks_enroll_result res;
	struct snp_err err = { 0 };
	uint8_t secret[SECRET_SIZE], *before;
	struct crypt_device *cd;
	size_t len;
	int r;

	path = enrolled_image(secret, &res);
	REQUIRE(path);
	cd = load(path);
	REQUIRE(cd);
	REQUIRE(crypt_keyslot_destroy(cd, 0) == 0);
	crypt_free(cd);
	before = read_image(path, &len);
	CHECK(luks_unenroll(path, &ures, &err) == -EBUSY);
	CHECK(strstr(err.msg, "no other keyslot") != NULL);
	CHECK(ures.removed_tokens == 0 && ures.removed_keyslots == 0);
	CHECK(image_is(path, before, len));
	CHECK(opened_by(path, secret, sizeof(secret)) == res.keyslot);
	free(before);

	cd = load(path);
	REQUIRE(cd);
	REQUIRE(set_pbkdf2_min(cd) == 0);
	r = crypt_keyslot_add_by_key(cd, 0, NULL, VOLUME_KEY_SIZE, other_passphrase,
				     strlen(other_passphrase), CRYPT_VOLUME_KEY_NO_SEGMENT);
	REQUIRE(r == 0);
	CHECK(crypt_keyslot_status(cd, 0) == CRYPT_SLOT_UNBOUND);
	crypt_free(cd);
	CHECK(luks_unenroll(path, &ures, &err) == -EBUSY);
}

static void check_unenroll_clears(const char *path, int tokens, int keyslots)
{
	struct luks_unenroll_result ures;
	struct snp_err err = { 0 };
	struct crypt_device *cd;

	CHECK(luks_unenroll(path, &ures, &err) == 0);
	CHECK(ures.removed_tokens == tokens);
	CHECK(ures.removed_keyslots == keyslots);
	cd = load(path);
	REQUIRE(cd);
	CHECK(count_tokens(cd) == 0);
	crypt_free(cd);
}

TEST(luks_unenroll_clears_pending_tokens_and_only_keyslots_enroll_made)
{
	uint8_t old_secret[SECRET_SIZE];
	const char *path;

	/* Before step 2: the token alone. */
	path = interrupted_image(false, NULL);
	REQUIRE(path);
	check_unenroll_clears(path, 1, 0);
	CHECK(opened_by(path, passphrase, strlen(passphrase)) == 0);
	REQUIRE(unlink(path) == 0);

	/* After step 2: the token and its keyslot. */
	make_secret(old_secret, 13, 1);
	path = interrupted_image(true, old_secret);
	REQUIRE(path);
	check_unenroll_clears(path, 1, 1);
	CHECK(opened_by(path, old_secret, sizeof(old_secret)) == -EPERM);
	REQUIRE(unlink(path) == 0);

	/* The owner's passphrase took the pending keyslot: it stays. */
	path = interrupted_image(false, NULL);
	REQUIRE(path);
	REQUIRE(add_keyslot(path, 1, false, other_passphrase, strlen(other_passphrase)) == 1);
	check_unenroll_clears(path, 1, 0);
	CHECK(opened_by(path, other_passphrase, strlen(other_passphrase)) == 1);
}

/* ---- open -------------------------------------------------------------- */

static int verify(const char *path, int keyslot, const void *secret, size_t len,
		  struct snp_err *err)
{
	memset(err, 0, sizeof(*err));
	return luks_open(path, keyslot, NULL, LUKS_OPEN_VERIFY, secret, len, err);
}

TEST(luks_open_verifies_the_secret_on_the_tokens_keyslot_only)
{
	uint8_t secret[SECRET_SIZE], wrong[SECRET_SIZE];
	struct luks_enroll_result res;
	struct snp_err err;
	const char *path;

	path = enrolled_image(secret, &res);
	REQUIRE(path);
	make_secret(wrong, 7, 4);
	CHECK(verify(path, res.keyslot, secret, sizeof(secret), &err) == 0);
	CHECK(verify(path, res.keyslot, wrong, sizeof(wrong), &err) == -EPERM);
	CHECK(strstr(err.msg, "does not open keyslot 1") != NULL);
	/* Each secret opens its own keyslot only. */
	CHECK(verify(path, 0, secret, sizeof(secret), &err) == -EPERM);
	CHECK(verify(path, res.keyslot, passphrase, strlen(passphrase), &err) == -EPERM);
	CHECK(verify(path, 0, passphrase, strlen(passphrase), &err) == 0);
	/* Never "any keyslot": that would try the passphrase's argon2 too. */
	CHECK(verify(path, CRYPT_ANY_SLOT, passphrase, strlen(passphrase), &err) == -EINVAL);
	CHECK(verify(path, KEYSLOTS_MAX, secret, sizeof(secret), &err) == -EINVAL);
	CHECK(verify(path, 5, secret, sizeof(secret), &err) == -ENOENT);
}

TEST(luks_open_refuses_what_is_not_luks2)
{
	static const struct image_spec luks1 = { CRYPT_LUKS1, 0, IMAGE_SIZE };
	const char *path = make_image("luks1.img", &luks1);
	struct snp_err err;

	REQUIRE(path);
	CHECK(verify(path, 0, passphrase, strlen(passphrase), &err) == -EMEDIUMTYPE);
	REQUIRE(make_file(test_path("zero.img"), IMAGE_SIZE) == 0);
	CHECK(verify(test_path("zero.img"), 0, passphrase, strlen(passphrase), &err) ==
	      -EMEDIUMTYPE);
	CHECK(verify(test_path("missing.img"), 0, passphrase, strlen(passphrase), &err) == -ENOENT);
	CHECK(strstr(err.msg, "missing.img") != NULL);
}

/* libdevmapper creates the node when it is missing: whether it opens tells. */
static bool device_mapper_works(void)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

TEST(luks_open_activate_needs_device_mapper)
{
	uint8_t secret[SECRET_SIZE];
	struct luks_enroll_result res;
	struct snp_err err = { 0 };
	const char *path;
	char uuid[40];

	if (device_mapper_works())
		test_skip("this kernel has device-mapper; activation comes with the QEMU tests");
	path = enrolled_image(secret, &res);
	REQUIRE(path);
	CHECK(luks_open(path, res.keyslot, "snp-unseal-test", LUKS_OPEN_ACTIVATE, secret,
			sizeof(secret), &err) == -ENODEV);
	CHECK(strstr(err.msg, "device-mapper") != NULL);
	CHECK(luks_open(path, res.keyslot, NULL, LUKS_OPEN_ACTIVATE, secret, sizeof(secret),
			&err) == -EINVAL);
	CHECK(!luks_is_active("snp-unseal-test"));
	CHECK(luks_active_uuid("snp-unseal-test", uuid, &err) == -ENODEV);
	CHECK(strstr(err.msg, "device-mapper") != NULL);
	CHECK(uuid[0] == '\0');
}

/*
 * libcryptsetup's messages reach the caller in err, never stderr: a
 * library does not print (the agent logs err where it should go).
 */
TEST(luks_messages_go_to_err_not_stderr)
{
	static const struct image_spec luks1 = { CRYPT_LUKS1, 0, IMAGE_SIZE };
	const char *path = make_image("luks1.img", &luks1);
	struct luks_enroll_result res;
	uint8_t secret[SECRET_SIZE];
	struct snp_err err, open_err;
	int saved, fd;
	struct stat st;
	char uuid[40];

	REQUIRE(path);
	make_secret(secret, 7, 3);
	fd = open(test_path("stderr"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	REQUIRE(saved >= 0 && dup2(fd, 2) == 2);
	enroll_with(path, passphrase, secret, &res, &err);
	verify(test_path("missing.img"), 0, secret, sizeof(secret), &open_err);
	luks_is_active("snp-unseal-test");
	luks_active_uuid("snp-unseal-test", uuid, &open_err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	REQUIRE(fstat(fd, &st) == 0);
	close(fd);
	CHECK(st.st_size == 0);
	CHECK(err.msg[0] && open_err.msg[0]);
}
