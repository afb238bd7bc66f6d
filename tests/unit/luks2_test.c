// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The static libcryptsetup and libblkid we link work on a real LUKS2 header:
 * format an image file, add a PBKDF2 keyslot, open it again (keyslot
 * decryption runs through the mbedTLS backend in userspace, so no
 * device-mapper or AF_ALG is needed), and let libblkid recognise it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <libcryptsetup.h>

#include "tests/harness.h"

enum { IMAGE_SIZE = 32 << 20, VOLUME_KEY_SIZE = 64 };

static const char passphrase[] = "correct horse battery staple";

static int make_image(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = ftruncate(fd, IMAGE_SIZE) ? -errno : 0;
	close(fd);
	return r;
}

/* A LUKS2 image with one PBKDF2 keyslot for passphrase over volume_key. */
static int format_image(const char *path, const uint8_t *volume_key, char *uuid,
			size_t uuid_size)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_device *cd = NULL;
	int r;

	r = make_image(path);
	if (!r)
		r = crypt_init(&cd, path);
	if (!r)
		r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (!r)
		r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL,
				 (const char *)volume_key, VOLUME_KEY_SIZE, NULL);
	if (!r)
		r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT,
						    (const char *)volume_key, VOLUME_KEY_SIZE,
						    passphrase, strlen(passphrase));
	if (r >= 0)
		snprintf(uuid, uuid_size, "%s", crypt_get_uuid(cd));
	crypt_free(cd);
	return r;
}

static void fill_key(uint8_t *key)
{
	for (size_t i = 0; i < VOLUME_KEY_SIZE; i++)
		key[i] = (uint8_t)(i * 7 + 3);
}

TEST(luks2_format_then_open_keyslot_with_passphrase)
{
	uint8_t volume_key[VOLUME_KEY_SIZE], got[VOLUME_KEY_SIZE];
	size_t got_size = sizeof(got);
	const char *image = test_path("luks2.img");
	struct crypt_device *cd = NULL;
	char uuid[40];
	int slot;

	crypt_metadata_locking(NULL, 0);	/* no /run/cryptsetup needed */
	fill_key(volume_key);
	slot = format_image(image, volume_key, uuid, sizeof(uuid));
	REQUIRE(slot >= 0);

	REQUIRE(crypt_init(&cd, image) == 0);
	REQUIRE(crypt_load(cd, CRYPT_LUKS2, NULL) == 0);
	CHECK_STR(crypt_get_type(cd), CRYPT_LUKS2);
	CHECK_STR(crypt_get_cipher(cd), "aes");
	CHECK_STR(crypt_get_cipher_mode(cd), "xts-plain64");
	CHECK_STR(crypt_get_uuid(cd), uuid);

	/* With no name this only checks the passphrase against the keyslot. */
	CHECK(crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, passphrase,
					   strlen(passphrase), 0) == slot);
	CHECK(crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, "wrong", 5, 0) == -EPERM);

	/* The keyslot really holds our volume key. */
	CHECK(crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)got, &got_size,
				   passphrase, strlen(passphrase)) == slot);
	CHECK(got_size == sizeof(got));
	CHECK_MEM(got, volume_key, sizeof(got));
	crypt_free(cd);
}

TEST(luks2_header_is_recognised_by_libblkid)
{
	uint8_t volume_key[VOLUME_KEY_SIZE];
	const char *image = test_path("luks2.img");
	const char *type = NULL, *version = NULL, *probed_uuid = NULL;
	blkid_probe probe;
	char uuid[40];

	crypt_metadata_locking(NULL, 0);
	fill_key(volume_key);
	REQUIRE(format_image(image, volume_key, uuid, sizeof(uuid)) >= 0);

	probe = blkid_new_probe_from_filename(image);
	REQUIRE(probe != NULL);
	blkid_probe_enable_superblocks(probe, 1);
	blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
					  BLKID_SUBLKS_VERSION);
	CHECK(blkid_do_safeprobe(probe) == 0);
	CHECK(blkid_probe_lookup_value(probe, "TYPE", &type, NULL) == 0);
	CHECK(blkid_probe_lookup_value(probe, "VERSION", &version, NULL) == 0);
	CHECK(blkid_probe_lookup_value(probe, "UUID", &probed_uuid, NULL) == 0);
	CHECK_STR(type, "crypto_LUKS");
	CHECK_STR(version, "2");
	CHECK_STR(probed_uuid, uuid);
	blkid_free_probe(probe);
}

TEST(luks2_load_refuses_a_file_without_header)
{
	struct crypt_device *cd = NULL;
	const char *image = test_path("plain.img");
	int fd = open(image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	REQUIRE(fd >= 0);
	CHECK(ftruncate(fd, IMAGE_SIZE) == 0);
	close(fd);
	REQUIRE(crypt_init(&cd, image) == 0);
	CHECK(crypt_load(cd, CRYPT_LUKS2, NULL) == -EINVAL);
	crypt_free(cd);
}
