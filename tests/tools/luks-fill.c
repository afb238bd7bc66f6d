// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks-fill IMAGE --volume-key-file VK --payload PLAIN
 *
 * Writes PLAIN into the data segment of the LUKS2 image IMAGE, encrypted
 * exactly as dm-crypt reads it: AES-XTS, 512-byte sectors, the tweak of
 * sector n (counted from the start of the data segment) being n as a
 * 64-bit little-endian number padded with zeros to 16 bytes (plain64).
 * A PLAIN whose size is not a multiple of 512 is padded with zeros.
 *
 * Why: the machines that build the QEMU end-to-end images have no
 * device-mapper, so the guest's root filesystem cannot be written through
 * a mapping; it is encrypted here instead, and the guest's dm-crypt opens
 * it. Only aes-xts-plain64 with 512-byte sectors and no integrity is
 * written; anything else is refused rather than written wrongly.
 *
 * Exit 0 when written, 1 on any failure (with a message naming what was
 * wrong), 2 on a usage error. The key is never printed and is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <mbedtls/aes.h>

#include "luks/crypt_log.h"
#include "snp/err.h"
#include "snp/fdio.h"

#define SECTOR		512u
#define CHUNK		(2048u * SECTOR)	/* sectors read, encrypted and written at a time */
#define KEY_FILE_MAX	512u			/* LUKS2 keys are at most 512 bytes */

/* Where the header says the encrypted data lies in the image. */
struct data_segment {
	uint64_t offset;	/* bytes from the start of the image */
	uint64_t size;		/* bytes: to the end of the image */
};

static void usage(FILE *out)
{
	fputs("usage: luks-fill IMAGE --volume-key-file VK --payload PLAIN\n"
	      "  Encrypts PLAIN with IMAGE's LUKS2 volume key (aes-xts-plain64, 512-byte\n"
	      "  sectors) into IMAGE's data segment, as dm-crypt would read it.\n", out);
}

/* Only what this tool writes the way dm-crypt reads it. */
static int check_encryption(struct crypt_device *cd, const char *image, struct snp_err *err)
{
	struct crypt_params_integrity ip = { 0 };
	const char *cipher = crypt_get_cipher(cd), *mode = crypt_get_cipher_mode(cd);
	int sector_size = crypt_get_sector_size(cd);

	if (!cipher || !mode || strcmp(cipher, "aes") || strcmp(mode, "xts-plain64"))
		return snp_errf(err, -ENOTSUP,
				"%s is encrypted with %s-%s; luks-fill writes only aes-xts-plain64",
				image, cipher ? cipher : "?", mode ? mode : "?");
	if (sector_size != SECTOR)
		return snp_errf(err, -ENOTSUP,
				"%s has %d-byte encryption sectors; luks-fill writes only 512-byte ones "
				"(format with --sector-size 512)", image, sector_size);
	if (!crypt_get_integrity_info(cd, &ip) && ip.integrity)
		return snp_errf(err, -ENOTSUP,
				"%s has integrity protection (%s); luks-fill writes only plain dm-crypt",
				image, ip.integrity);
	return 0;
}

static int check_key(struct crypt_device *cd, const char *image, const char *key_file,
		     const uint8_t *key, size_t key_len, struct luks_crypt_log *log,
		     struct snp_err *err)
{
	int want = crypt_get_volume_key_size(cd), r;

	if (want <= 0 || key_len != (size_t)want)
		return snp_errf(err, -EINVAL, "%s holds %zu bytes; the volume key of %s is %d bytes",
				key_file, key_len, image, want);
	luks_crypt_log_reset(log);
	r = crypt_volume_key_verify(cd, (const char *)key, key_len);
	if (r == -EPERM)
		return snp_errf(err, r, "%s is not the volume key of %s", key_file, image);
	if (r < 0)
		return snp_errf(err, r, "cannot check %s against the volume key of %s: %s", key_file,
				image, luks_crypt_why(log, r));
	return 0;
}

/* Load IMAGE's LUKS2 header, check the key and the encryption, find the data. */
static int read_header(const char *image, uint64_t image_size, const char *key_file,
		       const uint8_t *key, size_t key_len, struct data_segment *seg,
		       struct snp_err *err)
{
	struct luks_crypt_log log;
	struct crypt_device *cd;
	int r = luks_crypt_init(&cd, image, &log);

	if (r < 0)
		return snp_errf(err, r, "cannot open %s: %s", image, luks_crypt_why(&log, r));
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == -EINVAL)
		r = snp_errf(err, r, "%s has no LUKS2 header (%s)", image,
			     log.msg[0] ? log.msg : "no LUKS2 signature");
	else if (r < 0)
		r = snp_errf(err, r, "cannot read the LUKS2 header of %s: %s", image,
			     luks_crypt_why(&log, r));
	if (!r)
		r = check_key(cd, image, key_file, key, key_len, &log, err);
	if (!r)
		r = check_encryption(cd, image, err);
	if (!r)
		seg->offset = crypt_get_data_offset(cd) * SECTOR;
	crypt_free(cd);
	if (!r && seg->offset >= image_size)
		r = snp_errf(err, -ENOSPC, "%s (%llu bytes) ends before its data segment at byte %llu",
			     image, (unsigned long long)image_size, (unsigned long long)seg->offset);
	if (!r)
		seg->size = image_size - seg->offset;
	return r;
}

static int open_sized(const char *path, int flags, int *fd, uint64_t *size, struct snp_err *err)
{
	off_t end;

	*fd = open(path, flags | O_CLOEXEC);
	if (*fd < 0)
		return snp_errf(err, -errno, "cannot open %s: %s", path, strerror(errno));
	/* lseek, not fstat: a block device's size is its end, not st_size. */
	end = lseek(*fd, 0, SEEK_END);
	if (end < 0 || lseek(*fd, 0, SEEK_SET) < 0) {
		int e = errno;

		close(*fd);
		*fd = -1;
		return snp_errf(err, -e, "cannot find the size of %s: %s", path, strerror(e));
	}
	*size = (uint64_t)end;
	return 0;
}

/* Up to len bytes; fewer only at the end of the file. */
static int read_full(int fd, const char *path, uint8_t *buf, size_t len, size_t *got,
		     struct snp_err *err)
{
	ssize_t n;

	*got = 0;
	while (*got < len) {
		n = read(fd, buf + *got, len - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return snp_errf(err, -errno, "cannot read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* plain64: the sector number, 64-bit little-endian, zero-padded to 16 bytes. */
static void plain64_tweak(uint8_t tweak[16], uint64_t sector)
{
	memset(tweak, 0, 16);
	for (unsigned int i = 0; i < 8; i++)
		tweak[i] = (uint8_t)(sector >> (8 * i));
}

static int encrypt_sectors(mbedtls_aes_xts_context *xts, uint64_t first, const uint8_t *in,
			   uint8_t *out, size_t len, struct snp_err *err)
{
	uint8_t tweak[16];

	for (size_t done = 0; done < len; done += SECTOR) {
		plain64_tweak(tweak, first + done / SECTOR);
		if (mbedtls_aes_crypt_xts(xts, MBEDTLS_AES_ENCRYPT, SECTOR, tweak, in + done, out + done))
			return snp_errf(err, -EIO, "AES-XTS failed on sector %llu",
					(unsigned long long)(first + done / SECTOR));
	}
	return 0;
}

/* Buffers for one chunk: the payload as read and as encrypted. */
struct chunk {
	uint8_t *plain;
	uint8_t *sealed;
};

/*
 * The next len bytes of the payload, from byte done on, padded to whole
 * sectors, encrypted and written at the image's current offset.
 */
static int fill_chunk(mbedtls_aes_xts_context *xts, const struct chunk *c, int image_fd,
		      const char *image, int payload_fd, const char *payload, uint64_t done,
		      size_t len, struct snp_err *err)
{
	size_t got, padded;
	int r = read_full(payload_fd, payload, c->plain, len, &got, err);

	if (r)
		return r;
	if (got < len)
		return snp_errf(err, -EIO, "%s ended at byte %llu, before its size (it changed)",
				payload, (unsigned long long)(done + got));
	padded = (len + SECTOR - 1) / SECTOR * SECTOR;
	memset(c->plain + len, 0, padded - len);
	r = encrypt_sectors(xts, done / SECTOR, c->plain, c->sealed, padded, err);
	if (r)
		return r;
	r = snp_write_all(image_fd, c->sealed, padded);
	if (r)
		return snp_errf(err, r, "cannot write %s: %s", image, strerror(-r));
	return 0;
}

/* Encrypt payload_size bytes of the payload into the image's data segment. */
static int fill(mbedtls_aes_xts_context *xts, int image_fd, const char *image,
		const struct data_segment *seg, int payload_fd, const char *payload,
		uint64_t payload_size, struct snp_err *err)
{
	struct chunk c = { .plain = malloc(CHUNK), .sealed = malloc(CHUNK) };
	uint64_t done;
	size_t len;
	int r = 0;

	if (!c.plain || !c.sealed)
		r = snp_errf(err, -ENOMEM, "out of memory");
	else if (lseek(image_fd, (off_t)seg->offset, SEEK_SET) < 0)
		r = snp_errf(err, -errno, "cannot seek %s to its data segment: %s", image, strerror(errno));
	for (done = 0; !r && done < payload_size; done += len) {
		len = payload_size - done < CHUNK ? (size_t)(payload_size - done) : CHUNK;
		r = fill_chunk(xts, &c, image_fd, image, payload_fd, payload, done, len, err);
	}
	if (!r && fsync(image_fd))
		r = snp_errf(err, -errno, "cannot sync %s: %s", image, strerror(errno));
	free(c.plain);
	free(c.sealed);
	return r;
}

static int luks_fill(const char *image, const char *key_file, const char *payload,
		     struct snp_err *err)
{
	mbedtls_aes_xts_context xts;
	struct data_segment seg = { 0 };
	uint64_t image_size = 0, payload_size = 0;
	uint8_t *key = NULL;
	size_t key_len = 0;
	int image_fd = -1, payload_fd = -1;
	int r = snp_read_file(key_file, KEY_FILE_MAX, &key, &key_len, err);

	mbedtls_aes_xts_init(&xts);
	if (!r)
		r = open_sized(image, O_RDWR, &image_fd, &image_size, err);
	if (!r)
		r = read_header(image, image_size, key_file, key, key_len, &seg, err);
	if (!r)
		r = open_sized(payload, O_RDONLY, &payload_fd, &payload_size, err);
	if (!r && payload_size > seg.size)
		r = snp_errf(err, -EFBIG, "%s (%llu bytes) is larger than the data segment of %s (%llu bytes)",
			     payload, (unsigned long long)payload_size, image,
			     (unsigned long long)seg.size);
	if (!r && mbedtls_aes_xts_setkey_enc(&xts, key, (unsigned int)key_len * 8))
		r = snp_errf(err, -EINVAL, "AES-XTS takes a 32- or 64-byte key, not %zu bytes", key_len);
	if (!r)
		r = fill(&xts, image_fd, image, &seg, payload_fd, payload, payload_size, err);
	mbedtls_aes_xts_free(&xts);	/* zeroizes the key schedule */
	if (key)
		explicit_bzero(key, key_len);
	free(key);
	if (payload_fd >= 0)
		close(payload_fd);
	if (image_fd >= 0 && close(image_fd) && !r)
		r = snp_errf(err, -errno, "cannot close %s: %s", image, strerror(errno));
	return r;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "volume-key-file", required_argument, NULL, 'k' },
		{ "payload", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snp_err err = { 0 };
	const char *key_file = NULL, *payload = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'k')
			key_file = optarg;
		else if (c == 'p')
			payload = optarg;
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !key_file || !payload) {
		usage(stderr);
		return 2;
	}
	if (luks_fill(argv[optind], key_file, payload, &err)) {
		fprintf(stderr, "luks-fill: %s\n", err.msg);
		return 1;
	}
	return 0;
}
