// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding volumes with an snp-unseal token (luks/find.h) on real LUKS2
 * (and LUKS1, ext2, zero) image files: luks_probe's answer for each kind
 * of device, then luks_find over a fake sysfs tree (sys/class/block/NAME
 * with its size, dev/NAME the image), including devices that appear
 * while it waits, and over the real /sys and /dev with a loop device.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/loop.h>

#include <libcryptsetup.h>

#include "luks/find.h"
#include "luks/token.h"
#include "snp/deadline.h"
#include "tests/harness.h"

enum {
	IMAGE_SIZE = 4 << 20,
	KEYSLOTS_SIZE = 1 << 20,	/* room for three keyslots of a 64-byte key */
	METADATA_SIZE = 16 << 10,
	VOLUME_KEY_SIZE = 64,
	UNUSED_KEYSLOT = 7,
	LOOP_DEV_MAX = 32,	/* "/dev/loop" and a number */
};

/* What an image's header gets, in this order (token ids follow it). */
enum {
	T_FOREIGN = 1 << 0,	/* someone else's token (systemd-tpm2 style) */
	T_OURS = 1 << 1,
	T_PENDING = 1 << 2,	/* left by an interrupted enroll */
	T_CORRUPT = 1 << 3,	/* ours, with a broker that is not https:// */
	T_OURS_AGAIN = 1 << 4,	/* a second complete one */
};

static const char passphrase[] = "correct horse battery staple";
static const char secret[] = "0123456789abcdef0123456789abcdef";
static const char foreign_json[] =
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[],\"tpm2-pcrs\":[7]}";

static void path_in(char out[PATH_MAX], const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", test_tmpdir(), rel);
}

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

/* libcryptsetup's errors, not its warning about our small keyslot area. */
static void crypt_log_errors(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	if (level == CRYPT_LOG_ERROR)
		fprintf(stderr, "    libcryptsetup: %s", msg);
}

/*
 * A small header (1 MiB of keyslots instead of 16): formatting wipes the
 * keyslot area, and these tests make many images.
 */
static int format(struct crypt_device *cd, const char *type)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	char volume_key[VOLUME_KEY_SIZE];
	int r;

	for (size_t i = 0; i < sizeof(volume_key); i++)
		volume_key[i] = (char)(i * 13 + 1);
	crypt_set_log_callback(cd, crypt_log_errors, NULL);
	r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (!r && !strcmp(type, CRYPT_LUKS2))
		r = crypt_set_metadata_size(cd, METADATA_SIZE, KEYSLOTS_SIZE);
	if (!r)
		r = crypt_format(cd, type, "aes", "xts-plain64", NULL, volume_key,
				 sizeof(volume_key), NULL);
	if (!r)
		r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, volume_key,
						    sizeof(volume_key), passphrase,
						    strlen(passphrase));
	return r < 0 ? r : 0;
}

/* Our token's JSON for the header uuid: on keyslot, or pending when keyslot < 0. */
static char *token_json(const char *uuid, int keyslot)
{
	struct snp_err err = { 0 };
	struct luks_token t;
	char *json = NULL;

	luks_token_init(&t);
	if (keyslot >= 0)
		t.keyslot = keyslot;
	else
		t.pending_keyslot = UNUSED_KEYSLOT;
	snprintf(t.volume, sizeof(t.volume), "%s", uuid);
	snprintf(t.brokers[0], sizeof(t.brokers[0]), "https://kb.example:8443");
	t.n_brokers = 1;
	memset(t.ca_pins[0], 0xa5, TLS_PIN_SIZE);
	t.n_ca_pins = 1;
	if (luks_token_to_json(&t, &json, &err)) {
		fprintf(stderr, "    luks_token_to_json: %s\n", err.msg);
		return NULL;
	}
	return json;
}

/* "https://" becomes "http://": a member the parser must refuse by name. */
static void corrupt_brokers(char *json)
{
	char *https = strstr(json, "https://");

	if (https)
		memmove(https + 4, https + 5, strlen(https + 5) + 1);
}

static int set_token(struct crypt_device *cd, const char *json)
{
	int r = json ? crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json) : -ENOMEM;

	return r < 0 ? r : 0;
}

/* Ours (complete, corrupt or twice) on a keyslot of its own. */
static int add_our_tokens(struct crypt_device *cd, int what)
{
	const char *uuid = crypt_get_uuid(cd);
	char *json;
	int slot, r = 0;

	slot = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, passphrase,
					       strlen(passphrase), secret, strlen(secret));
	if (slot < 0)
		return slot;
	json = token_json(uuid, slot);
	if (json && (what & T_CORRUPT))
		corrupt_brokers(json);
	if (what & (T_OURS | T_CORRUPT))
		r = set_token(cd, json);
	if (!r && (what & T_OURS_AGAIN))
		r = set_token(cd, json);
	free(json);
	return r;
}

static int add_tokens(struct crypt_device *cd, int what)
{
	int r = 0;

	if (what & T_FOREIGN)
		r = set_token(cd, foreign_json);
	if (!r && (what & (T_OURS | T_CORRUPT | T_OURS_AGAIN)))
		r = add_our_tokens(cd, what);
	if (!r && (what & T_PENDING)) {
		char *json = token_json(crypt_get_uuid(cd), -1);

		r = set_token(cd, json);
		free(json);
	}
	return r;
}

/* A LUKS image of type at path with the tokens `what` says; its UUID in uuid. */
static int make_luks(const char *path, const char *type, int what, char uuid[LUKS_UUID_MAX])
{
	struct crypt_device *cd = NULL;
	int r;

	r = make_file(path, IMAGE_SIZE);
	if (!r)
		r = crypt_init(&cd, path);
	if (!r)
		r = format(cd, type);
	if (!r)
		r = add_tokens(cd, what);
	if (!r && uuid)
		snprintf(uuid, LUKS_UUID_MAX, "%s", crypt_get_uuid(cd));
	crypt_free(cd);
	if (r)
		fprintf(stderr, "    make_luks %s: %s\n", path, strerror(-r));
	return r;
}

static int make_luks2(const char *path, int what, char uuid[LUKS_UUID_MAX])
{
	return make_luks(path, CRYPT_LUKS2, what, uuid);
}

/* An ext2 superblock (the magic at 1080 and a little more) over zeros. */
static int make_ext2(const char *path)
{
	uint8_t sb[1024] = { 0 };
	int fd, r;

	r = make_file(path, IMAGE_SIZE);
	if (r)
		return r;
	sb[0x00] = 0x00; sb[0x01] = 0x04;	/* s_inodes_count 1024 */
	sb[0x04] = 0x00; sb[0x05] = 0x10;	/* s_blocks_count 4096 */
	sb[0x18] = 0;				/* s_log_block_size: 1 KiB */
	sb[0x20] = 0x00; sb[0x21] = 0x20;	/* s_blocks_per_group 8192 */
	sb[0x28] = 0x00; sb[0x29] = 0x04;	/* s_inodes_per_group 1024 */
	sb[0x38] = 0x53; sb[0x39] = 0xef;	/* s_magic */
	sb[0x3a] = 1;				/* s_state: clean */
	sb[0x4c] = 1;				/* s_rev_level: dynamic */
	sb[0x58] = 128;				/* s_inode_size */
	for (int i = 0; i < 16; i++)
		sb[0x68 + i] = (uint8_t)(0x11 * (i + 1));	/* s_uuid */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = pwrite(fd, sb, sizeof(sb), 1024) == (ssize_t)sizeof(sb) ? 0 : -EIO;
	close(fd);
	return r;
}

/* probe ---------------------------------------------------------------- */

static int probe(const char *rel, struct luks_found *f, struct snp_err *err)
{
	char path[PATH_MAX];

	path_in(path, rel);
	memset(err, 0, sizeof(*err));
	return luks_probe(path, f, err);
}

/* A LUKS2 image named rel with what's tokens, probed; 1 when it cannot be made. */
static int probe_luks2(const char *rel, int what, struct luks_found *f, struct snp_err *err,
		       char uuid[LUKS_UUID_MAX])
{
	char path[PATH_MAX];

	crypt_metadata_locking(NULL, 0);
	path_in(path, rel);
	if (make_luks2(path, what, uuid))
		return 1;
	return probe(rel, f, err);
}

TEST(luks_probe_our_token)
{
	struct luks_found f;
	struct snp_err err;
	char uuid[LUKS_UUID_MAX], path[PATH_MAX];

	REQUIRE(probe_luks2("ours.img", T_FOREIGN | T_OURS, &f, &err, uuid) == 0);
	path_in(path, "ours.img");
	CHECK_STR(f.path, path);
	CHECK_STR(f.uuid, uuid);
	CHECK(f.token_id == 1);		/* after the foreign one */
	CHECK(f.token.keyslot == 1);	/* the passphrase has 0 */
	CHECK(f.token.pending_keyslot == -1);
	CHECK_STR(f.token.volume, uuid);
	CHECK(f.token.n_brokers == 1);
	CHECK_STR(f.token.brokers[0], "https://kb.example:8443");
	CHECK(f.token.n_ca_pins == 1 && f.token.ca_pins[0][0] == 0xa5);
}

TEST(luks_probe_luks2_without_our_token)
{
	struct luks_found f;
	struct snp_err err;

	CHECK(probe_luks2("plain.img", 0, &f, &err, NULL) == -ENOKEY);
	CHECK(err.code == -ENOKEY && strstr(err.msg, "plain.img has no snp-unseal token"));
	CHECK(probe_luks2("foreign.img", T_FOREIGN, &f, &err, NULL) == -ENOKEY);
	CHECK(strstr(err.msg, "foreign.img has no snp-unseal token"));
}

TEST(luks_probe_pending_token_is_none_and_says_so)
{
	struct luks_found f;
	struct snp_err err;

	CHECK(probe_luks2("pending.img", T_PENDING, &f, &err, NULL) == -ENOKEY);
	CHECK(strstr(err.msg, "an interrupted enroll left a pending token"));
	CHECK(strstr(err.msg, "run snp-unseal unenroll/enroll"));
}

TEST(luks_probe_two_of_ours)
{
	struct luks_found f;
	struct snp_err err;

	CHECK(probe_luks2("twice.img", T_OURS | T_OURS_AGAIN, &f, &err, NULL) == -ENOTUNIQ);
	CHECK(strstr(err.msg, "two snp-unseal tokens (0 and 1)"));
	/* A pending one next to a complete one is two as well. */
	CHECK(probe_luks2("both.img", T_OURS | T_PENDING, &f, &err, NULL) == -ENOTUNIQ);
}

TEST(luks_probe_corrupt_token_names_the_member)
{
	struct luks_found f;
	struct snp_err err;

	CHECK(probe_luks2("corrupt.img", T_FOREIGN | T_CORRUPT, &f, &err, NULL) == -EINVAL);
	CHECK(strstr(err.msg, "corrupt.img: snp-unseal token 1"));
	CHECK(strstr(err.msg, "brokers"));
}

TEST(luks_probe_not_luks2)
{
	struct luks_found f;
	struct snp_err err;
	char path[PATH_MAX];

	crypt_metadata_locking(NULL, 0);
	path_in(path, "zeros.img");
	REQUIRE(make_file(path, IMAGE_SIZE) == 0);
	path_in(path, "ext2.img");
	REQUIRE(make_ext2(path) == 0);
	path_in(path, "luks1.img");
	REQUIRE(make_luks(path, CRYPT_LUKS1, 0, NULL) == 0);
	path_in(path, "short.img");
	REQUIRE(make_file(path, 100) == 0);

	CHECK(probe("zeros.img", &f, &err) == -EMEDIUMTYPE);
	CHECK(strstr(err.msg, "zeros.img") && strstr(err.msg, "no known signature"));
	CHECK(probe("ext2.img", &f, &err) == -EMEDIUMTYPE);
	CHECK(strstr(err.msg, "no LUKS volume (ext2)"));
	CHECK(probe("luks1.img", &f, &err) == -EMEDIUMTYPE);
	CHECK(strstr(err.msg, "LUKS version 1"));
	CHECK(probe("short.img", &f, &err) == -EMEDIUMTYPE);
}

TEST(luks_probe_missing_path)
{
	struct luks_found f;
	struct snp_err err;

	CHECK(probe("nothing-here", &f, &err) == -ENOENT);
	CHECK(err.code == -ENOENT && strstr(err.msg, "nothing-here does not exist"));
}

/* find over a fake sysfs --------------------------------------------------- */

static int set_size(const char *name, const char *size)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/class/block/%s/size", test_tmpdir(), name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", size);
	return fclose(f) ? -EIO : 0;
}

/* sys/class/block/NAME/size; its dev/NAME ('!' is '/') is the caller's. */
static int add_sysfs(const char *name, const char *size)
{
	char path[PATH_MAX];

	path_in(path, "sys");
	mkdir(path, 0755);
	path_in(path, "sys/class");
	mkdir(path, 0755);
	path_in(path, "sys/class/block");
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/class/block/%s", test_tmpdir(), name);
	if (mkdir(path, 0755))
		return -errno;
	return set_size(name, size);
}

static void dev_file(char out[PATH_MAX], const char *name)
{
	char *p;

	path_in(out, "dev");
	mkdir(out, 0755);
	p = out + strlen(out);
	snprintf(p, PATH_MAX - strlen(out), "/%s", name);
	for (p++; *p; p++) {
		if (*p != '!')
			continue;
		*p = '\0';
		mkdir(out, 0755);	/* dev/cciss for cciss!c0d0 */
		*p = '/';
	}
}

/* A device: the sysfs entry and dev/NAME, a LUKS2 image with what's tokens. */
static int add_luks2_dev(const char *name, int what, char uuid[LUKS_UUID_MAX])
{
	char path[PATH_MAX];
	int r;

	dev_file(path, name);
	r = make_luks2(path, what, uuid);
	return r ? r : add_sysfs(name, "8192");
}

static int add_zero_dev(const char *name)
{
	char path[PATH_MAX];
	int r;

	dev_file(path, name);
	r = make_file(path, IMAGE_SIZE);
	return r ? r : add_sysfs(name, "8192");
}

static void fake_roots(struct luks_find_opts *o, char sys[PATH_MAX], char dev[PATH_MAX])
{
	path_in(sys, "sys");
	path_in(dev, "dev");
	memset(o, 0, sizeof(*o));
	o->sys_root = sys;
	o->dev_root = dev;
	o->poll_ms = 20;
	o->settle_ms = 50;
	o->timeout_ms = 2000;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && !strcmp(s + ls - lt, tail);
}

/* luks_find, and how long it took. */
static int find_timed(const struct luks_find_opts *o, struct luks_found *found, size_t *n,
		      struct snp_err *err, int64_t *took_ms)
{
	int64_t start = snp_now_ms();
	int r = luks_find(o, found, n, err);

	*took_ms = snp_now_ms() - start;
	return r;
}

TEST(luks_find_picks_the_volumes_with_tokens_in_device_order)
{
	static struct luks_found found[LUKS_FIND_MAX];
	char sys[PATH_MAX], dev[PATH_MAX];
	char a[LUKS_UUID_MAX], b[LUKS_UUID_MAX], c[LUKS_UUID_MAX], d[LUKS_UUID_MAX];
	struct luks_find_opts o;
	struct snp_err err = { 0 };
	size_t n = 99;

	crypt_metadata_locking(NULL, 0);
	REQUIRE(add_zero_dev("sda") == 0);
	REQUIRE(add_luks2_dev("sdb", 0, NULL) == 0);
	REQUIRE(add_luks2_dev("sdc", T_FOREIGN, NULL) == 0);
	REQUIRE(add_luks2_dev("sdd", T_CORRUPT, NULL) == 0);
	REQUIRE(add_luks2_dev("loop10", T_OURS, a) == 0);
	REQUIRE(add_luks2_dev("loop2", T_FOREIGN | T_OURS, b) == 0);
	REQUIRE(add_luks2_dev("cciss!c0d0", T_OURS, c) == 0);
	/* An empty loop device (size 0) is never opened, whatever is behind it. */
	REQUIRE(add_luks2_dev("loop0", T_OURS, d) == 0);
	REQUIRE(set_size("loop0", "0") == 0);

	fake_roots(&o, sys, dev);
	REQUIRE(luks_find(&o, found, &n, &err) == 0);
	REQUIRE(n == 3);
	/* versionsort order: cciss!c0d0, loop2, loop10, then sd*. */
	CHECK(ends_with(found[0].path, "/dev/cciss/c0d0"));
	CHECK_STR(found[0].uuid, c);
	CHECK(ends_with(found[1].path, "/dev/loop2"));
	CHECK_STR(found[1].uuid, b);
	CHECK(found[1].token_id == 1);
	CHECK(ends_with(found[2].path, "/dev/loop10"));
	CHECK_STR(found[2].uuid, a);
	for (size_t i = 0; i < n; i++) {
		CHECK(strcmp(found[i].uuid, d) != 0);
		CHECK_STR(found[i].token.volume, found[i].uuid);
	}
}

TEST(luks_find_keeps_one_entry_per_header)
{
	static struct luks_found found[LUKS_FIND_MAX];
	char sys[PATH_MAX], dev[PATH_MAX], img[PATH_MAX], link2[PATH_MAX], link3[PATH_MAX];
	char uuid[LUKS_UUID_MAX];
	struct luks_find_opts o;
	struct snp_err err = { 0 };
	const char *paths[3];
	size_t n = 0;

	crypt_metadata_locking(NULL, 0);
	REQUIRE(add_luks2_dev("sda", T_OURS, uuid) == 0);
	dev_file(img, "sda");
	dev_file(link2, "sdb");
	dev_file(link3, "sdc");
	REQUIRE(link(img, link2) == 0);
	REQUIRE(symlink(img, link3) == 0);
	REQUIRE(add_sysfs("sdb", "8192") == 0);
	REQUIRE(add_sysfs("sdc", "8192") == 0);

	fake_roots(&o, sys, dev);
	REQUIRE(luks_find(&o, found, &n, &err) == 0);
	CHECK(n == 1);
	CHECK_STR(found[0].path, img);
	CHECK_STR(found[0].uuid, uuid);

	/* Explicit paths: the first given wins. */
	paths[0] = link3;
	paths[1] = img;
	paths[2] = link2;
	o.paths = paths;
	o.n_paths = 3;
	REQUIRE(luks_find(&o, found, &n, &err) == 0);
	CHECK(n == 1);
	CHECK_STR(found[0].path, link3);
}

TEST(luks_find_returns_once_the_wanted_are_there)
{
	static struct luks_found found[LUKS_FIND_MAX];
	char sys[PATH_MAX], dev[PATH_MAX], a[LUKS_UUID_MAX], b[LUKS_UUID_MAX];
	char b_upper[LUKS_UUID_MAX];
	const char *want[2];
	struct luks_find_opts o;
	struct snp_err err = { 0 };
	int64_t took;
	size_t n = 0;

	crypt_metadata_locking(NULL, 0);
	REQUIRE(add_luks2_dev("vda", T_OURS, a) == 0);
	REQUIRE(add_luks2_dev("vdb", T_OURS, b) == 0);
	for (size_t i = 0; i < sizeof(b); i++)
		b_upper[i] = (char)toupper((unsigned char)b[i]);
	want[0] = b_upper;	/* as a command line may spell it */
	want[1] = a;
	fake_roots(&o, sys, dev);
	o.want_uuids = want;
	o.n_want = 2;
	o.timeout_ms = 5000;
	o.settle_ms = 3000;	/* not waited for: the wanted are all there */

	REQUIRE(find_timed(&o, found, &n, &err, &took) == 0);
	CHECK(took < 1000);
	REQUIRE(n == 2);
	CHECK_STR(found[0].uuid, a);
	CHECK_STR(found[1].uuid, b);
}

TEST(luks_find_times_out_naming_the_missing_uuid)
{
	static struct luks_found found[LUKS_FIND_MAX];
	static const char missing[] = "0b1c2d3e-0000-4000-8000-00000000beef";
	char sys[PATH_MAX], dev[PATH_MAX], a[LUKS_UUID_MAX];
	const char *want[2];
	struct luks_find_opts o;
	struct snp_err err = { 0 };
	int64_t took;
	size_t n = 0;

	crypt_metadata_locking(NULL, 0);
	REQUIRE(add_luks2_dev("vda", T_OURS, a) == 0);
	want[0] = a;
	want[1] = missing;
	fake_roots(&o, sys, dev);
	o.want_uuids = want;
	o.n_want = 2;
	o.timeout_ms = 1000;

	CHECK(find_timed(&o, found, &n, &err, &took) == -ETIMEDOUT);
	CHECK(took >= 1000 && took <= 2000);
	CHECK(err.code == -ETIMEDOUT);
	CHECK(strstr(err.msg, missing) && strstr(err.msg, "within 1000 ms"));
	CHECK(!strstr(err.msg, a));
	REQUIRE(n == 1);
	CHECK_STR(found[0].uuid, a);
}

TEST(luks_find_times_out_when_there_is_nothing)
{
	static struct luks_found found[LUKS_FIND_MAX];
	char sys[PATH_MAX], dev[PATH_MAX];
	struct luks_find_opts o;
	struct snp_err err = { 0 };
	int64_t took;
	size_t n = 99;

	crypt_metadata_locking(NULL, 0);
	REQUIRE(add_zero_dev("sda") == 0);
	REQUIRE(add_luks2_dev("sdb", T_FOREIGN, NULL) == 0);
	fake_roots(&o, sys, dev);
	o.timeout_ms = 1000;

	CHECK(find_timed(&o, found, &n, &err, &took) == -ETIMEDOUT);
	CHECK(took >= 1000 && took <= 2000);
	CHECK(n == 0);
	CHECK_STR(err.msg, "no volume with an snp-unseal token within 1000 ms");

	/* A pending token is worth telling about: it is why nothing unlocks. */
	REQUIRE(add_luks2_dev("sdc", T_PENDING, NULL) == 0);
	o.timeout_ms = 100;
	CHECK(luks_find(&o, found, &n, &err) == -ETIMEDOUT);
	CHECK(strstr(err.msg, "no volume with an snp-unseal token within 100 ms"));
	CHECK(strstr(err.msg, "sdc: an interrupted enroll left a pending token"));

	/* With no sysfs at all (too early in boot) it just waits as well. */
	path_in(sys, "no-sys");
	o.timeout_ms = 50;
	CHECK(luks_find(&o, found, &n, &err) == -ETIMEDOUT);
	CHECK(n == 0);
}

TEST(luks_find_explicit_paths_all_there_need_no_settle)
{
	static struct luks_found found[LUKS_FIND_MAX];
	char sys[PATH_MAX], dev[PATH_MAX], ours[PATH_MAX], uuid[LUKS_UUID_MAX];
	char missing[PATH_MAX];
	const char *paths[2];
	struct luks_find_opts o;
	struct snp_err err = { 0 };
	int64_t took;
	size_t n = 0;

	crypt_metadata_locking(NULL, 0);
	REQUIRE(add_luks2_dev("vda", T_OURS, uuid) == 0);
	dev_file(ours, "vda");
	dev_file(missing, "vdz");
	paths[0] = ours;
	fake_roots(&o, sys, dev);
	o.paths = paths;
	o.n_paths = 1;
	o.timeout_ms = 5000;
	o.settle_ms = 3000;	/* not waited for: no other device can turn up */
	REQUIRE(find_timed(&o, found, &n, &err, &took) == 0);
	CHECK(took < 1000);
	REQUIRE(n == 1);
	CHECK_STR(found[0].uuid, uuid);

	/* A named device still missing is waited for, to the bound, and named. */
	paths[1] = missing;
	o.n_paths = 2;
	o.timeout_ms = 400;
	o.settle_ms = 100;
	CHECK(find_timed(&o, found, &n, &err, &took) == -ETIMEDOUT);
	CHECK(took >= 400);
	CHECK(n == 1);
	CHECK(strstr(err.msg, "1 of the 2 devices named did not appear within 400 ms"));
	CHECK(strstr(err.msg, "vdz"));
}

TEST(luks_find_explicit_path_problems_are_told)
{
	static struct luks_found found[LUKS_FIND_MAX];
	char sys[PATH_MAX], dev[PATH_MAX], zeros[PATH_MAX];
	const char *paths[1];
	struct luks_find_opts o;
	struct snp_err err = { 0 };
	size_t n = 99;

	REQUIRE(add_zero_dev("sda") == 0);
	dev_file(zeros, "sda");
	paths[0] = zeros;
	fake_roots(&o, sys, dev);
	o.paths = paths;
	o.n_paths = 1;
	o.timeout_ms = 5000;	/* not waited for: the device named is there */
	CHECK(luks_find(&o, found, &n, &err) == -ENOKEY);
	CHECK(n == 0);
	CHECK(strstr(err.msg, "none of the devices named"));
	CHECK(strstr(err.msg, "no known signature"));
}

struct later {
	int delay_ms;
	const char *names[2];	/* devices to move into place, in turn */
	int gap_ms;		/* between them */
	char src[2][PATH_MAX];	/* their prepared images */
};

/* dev/NAME first (renamed into place whole), then its sysfs entry. */
static void *appear_later(void *arg)
{
	struct later *l = arg;
	struct timespec ts;
	char dst[PATH_MAX];

	for (int i = 0; i < 2 && l->names[i]; i++) {
		int ms = i ? l->gap_ms : l->delay_ms;

		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
		dev_file(dst, l->names[i]);
		if (rename(l->src[i], dst) || add_sysfs(l->names[i], "8192"))
			fprintf(stderr, "    appear_later %s: %s\n", l->names[i], strerror(errno));
	}
	return NULL;
}

/* luks_find while l's devices appear; *took_ms: how long it ran. */
static int find_while_appearing(struct later *l, const struct luks_find_opts *o,
				struct luks_found *found, size_t *n, int64_t *took_ms)
{
	struct snp_err err = { 0 };
	pthread_t th;
	int r;

	if (pthread_create(&th, NULL, appear_later, l))
		return -EAGAIN;
	r = find_timed(o, found, n, &err, took_ms);
	pthread_join(th, NULL);
	if (r)
		fprintf(stderr, "    luks_find: %s\n", err.msg);
	return r;
}

TEST(luks_find_waits_for_a_late_device)
{
	static struct luks_found found[LUKS_FIND_MAX];
	static struct later l = { .delay_ms = 300, .names = { "vdb" } };
	char sys[PATH_MAX], dev[PATH_MAX], uuid[LUKS_UUID_MAX];
	struct luks_find_opts o;
	int64_t took;
	size_t n = 0;

	crypt_metadata_locking(NULL, 0);
	REQUIRE(add_zero_dev("vda") == 0);
	path_in(l.src[0], "later.img");
	REQUIRE(make_luks2(l.src[0], T_OURS, uuid) == 0);
	fake_roots(&o, sys, dev);
	o.timeout_ms = 5000;

	CHECK(find_while_appearing(&l, &o, found, &n, &took) == 0);
	CHECK(took >= 300 && took < 1500);
	REQUIRE(n == 1);
	CHECK_STR(found[0].uuid, uuid);
	CHECK(ends_with(found[0].path, "/dev/vdb"));
}

TEST(luks_find_settle_gathers_a_second_volume)
{
	static struct luks_found found[LUKS_FIND_MAX];
	static struct later l = { .delay_ms = 200, .names = { "vdc", "vdb" }, .gap_ms = 150 };
	char sys[PATH_MAX], dev[PATH_MAX], first[LUKS_UUID_MAX], second[LUKS_UUID_MAX];
	struct luks_find_opts o;
	int64_t took;
	size_t n = 0;

	crypt_metadata_locking(NULL, 0);
	path_in(l.src[0], "first.img");
	REQUIRE(make_luks2(l.src[0], T_OURS, first) == 0);
	path_in(l.src[1], "second.img");
	REQUIRE(make_luks2(l.src[1], T_OURS, second) == 0);
	fake_roots(&o, sys, dev);
	o.timeout_ms = 5000;
	o.settle_ms = 600;

	CHECK(find_while_appearing(&l, &o, found, &n, &took) == 0);
	/* First seen at ~200 ms, the rescan 600 ms later; the second came at ~350. */
	CHECK(took >= 800 && took < 2000);
	REQUIRE(n == 2);
	CHECK_STR(found[0].uuid, second);	/* vdb sorts before vdc */
	CHECK_STR(found[1].uuid, first);
}

/* real loop devices -------------------------------------------------------- */

/*
 * Attach image read-only with autoclear: the kernel detaches it when the
 * last descriptor closes, so even a test killed by its time limit leaves
 * no loop device behind. Returns the loop device's fd, path in dev.
 */
static int loop_attach(const char *image, char dev[LOOP_DEV_MAX], char *why, size_t why_size)
{
	int ctl, img, loop = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		snprintf(why, why_size, "/dev/loop-control: %s", strerror(errno));
		return -1;
	}
	img = open(image, O_RDONLY | O_CLOEXEC);
	for (int tries = 0; img >= 0 && loop < 0 && tries < 5; tries++) {
		struct loop_config cfg = { .fd = (uint32_t)img };
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (nr < 0) {
			snprintf(why, why_size, "LOOP_CTL_GET_FREE: %s", strerror(errno));
			break;
		}
		snprintf(dev, LOOP_DEV_MAX, "/dev/loop%d", nr);
		loop = open(dev, O_RDWR | O_CLOEXEC);
		if (loop < 0) {
			snprintf(why, why_size, "%s: %s", dev, strerror(errno));
			break;
		}
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
		if (!ioctl(loop, LOOP_CONFIGURE, &cfg))
			break;
		snprintf(why, why_size, "LOOP_CONFIGURE %s: %s", dev, strerror(errno));
		close(loop);
		loop = -1;
		if (errno != EBUSY)	/* EBUSY: someone took it first; try another */
			break;
	}
	if (img >= 0)
		close(img);
	close(ctl);
	return loop;
}

static void loop_detach(int loop)
{
	ioctl(loop, LOOP_CLR_FD, 0);
	close(loop);
}

TEST(luks_find_real_loop_device)
{
	static struct luks_found found[LUKS_FIND_MAX];
	char image[PATH_MAX], dev[LOOP_DEV_MAX], why[256] = "", uuid[LUKS_UUID_MAX];
	const char *want[1] = { uuid };
	struct luks_find_opts o = { 0 };
	struct snp_err err = { 0 };
	size_t n = 0, found_ours = 0;
	int loop, r;

	/* Metadata locking left on: the image is formatted as the agent reads it. */
	path_in(image, "loop.img");
	REQUIRE(make_luks2(image, T_OURS, uuid) == 0);
	loop = loop_attach(image, dev, why, sizeof(why));
	if (loop < 0)
		test_skip("no loop device to attach (%s)", why);

	o.want_uuids = want;
	o.n_want = 1;
	o.timeout_ms = 2000;
	o.poll_ms = 20;
	r = luks_find(&o, found, &n, &err);
	loop_detach(loop);
	if (r)
		fprintf(stderr, "    luks_find: %s\n", err.msg);
	CHECK(r == 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(found[i].uuid, uuid))
			continue;	/* the machine's own volumes, if any */
		CHECK_STR(found[i].path, dev);
		found_ours++;
	}
	CHECK(found_ours == 1);
}
