/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OWNER_IDBLOCK_H
#define OWNER_IDBLOCK_H

/*
 * The ID block and its authentication info (SEV-SNP firmware ABI,
 * SNP_LAUNCH_FINISH), which QEMU hands the PSP as id-block= and id-auth=.
 * The PSP refuses the launch unless the measured launch digest equals the
 * block's and the block's signature verifies with the ID key; it then puts
 * the SHA-384 of the ID key (and of the author key, which signs the ID
 * key) in every report as ID_KEY_DIGEST and AUTHOR_KEY_DIGEST, so a
 * policy can pin the owner's keys instead of one measurement.
 *
 * ID block, 96 bytes, little-endian:
 *	0x00 LD[48]  0x30 FAMILY_ID[16]  0x40 IMAGE_ID[16]
 *	0x50 VERSION u32 (1)  0x54 GUEST_SVN u32  0x58 POLICY u64
 *
 * AMD public key, 0x404 bytes: CURVE u32 (2, P-384) at 0, QX at 0x04 and
 * QY at 0x4C (72-byte little-endian fields, zero above 48 bytes), zero to
 * the end. AMD signature, 0x200 bytes: R at 0, S at 0x48 (the same
 * fields), zero to the end.
 *
 * ID auth info, 4096 bytes:
 *	0x000 ID_KEY_ALGO u32 (1: ECDSA P-384 with SHA-384)
 *	0x004 AUTHOR_KEY_ALGO u32 (1, or 0 here when there is no author key)
 *	0x008 reserved to 0x03F
 *	0x040 ID_BLOCK_SIG (the 96 ID block bytes, by the ID key)
 *	0x240 ID_KEY (AMD public key)
 *	0x644 reserved to 0x67F
 *	0x680 ID_KEY_SIG (the 0x404 ID_KEY bytes, by the author key)
 *	0x880 AUTHOR_KEY (AMD public key)
 *	0xC84 reserved to 0xFFF
 *
 * Without an author key, the author fields stay zero and QEMU must be run
 * with author-key-enabled off (the PSP then ignores them).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

#define ID_BLOCK_SIZE	96
#define ID_AUTH_SIZE	4096
#define AMD_PUBKEY_SIZE	0x404
#define AMD_SIG_SIZE	0x200
#define ID_BLOCK_VERSION 1
#define ID_KEY_ALGO_ECDSA_P384_SHA384 1
#define AMD_CURVE_P384	2

/* Offsets in the ID auth info. */
enum id_auth_offset {
	ID_AUTH_OFF_ID_KEY_ALGO = 0x000,
	ID_AUTH_OFF_AUTHOR_KEY_ALGO = 0x004,
	ID_AUTH_OFF_RESERVED1 = 0x008,
	ID_AUTH_OFF_ID_BLOCK_SIG = 0x040,
	ID_AUTH_OFF_ID_KEY = 0x240,
	ID_AUTH_OFF_RESERVED2 = 0x644,
	ID_AUTH_OFF_ID_KEY_SIG = 0x680,
	ID_AUTH_OFF_AUTHOR_KEY = 0x880,
	ID_AUTH_OFF_RESERVED3 = 0xC84,
};

struct id_block {
	uint8_t ld[48];			/* expected launch digest */
	uint8_t family_id[16], image_id[16];
	uint32_t guest_svn;
	uint64_t policy;		/* the guest policy; VERSION is always 1 */
};

void id_block_encode(const struct id_block *b, uint8_t out[ID_BLOCK_SIZE]);
/* Refuses (-EBADMSG) a VERSION other than 1. */
int id_block_decode(const uint8_t in[ID_BLOCK_SIZE], struct id_block *b, struct snp_err *err);

/* An ECDSA P-384 key (an mbedtls_pk_context inside). */
struct owner_key;

/*
 * A PEM or DER key: SEC1 or PKCS#8 private key, or a SubjectPublicKeyInfo
 * public key. Anything but P-384 is refused (-EKEYREJECTED) with err naming
 * the key type or curve found; an encrypted key (-EKEYREJECTED) or
 * something that is no key (-EBADMSG) likewise. Key files are at most
 * OWNER_KEY_FILE_MAX bytes.
 */
#define OWNER_KEY_FILE_MAX (64 * 1024)
int owner_key_load(const char *path, struct owner_key **key, struct snp_err *err);
int owner_key_load_mem(const uint8_t *buf, size_t len, struct owner_key **key,
		       struct snp_err *err);
bool owner_key_is_private(const struct owner_key *key);
/* Wipes the private key. NULL is a no-op. */
void owner_key_free(struct owner_key *key);
/* The AMD public key form: curve 2, QX and QY little-endian. */
void owner_key_amd_public(const struct owner_key *key, uint8_t out[AMD_PUBKEY_SIZE]);
/* SHA-384 of the AMD form: the report's ID_KEY_DIGEST or AUTHOR_KEY_DIGEST. */
void owner_key_digest(const struct owner_key *key, uint8_t out[48]);

/*
 * The ID auth info for block: the block signed by id_key; id_key's AMD
 * form signed by author_key when author_key is not NULL. Both keys must be
 * private (-EINVAL otherwise). Signatures are deterministic (RFC 6979),
 * with a random blinding of the computation.
 */
int id_auth_build(const uint8_t block[ID_BLOCK_SIZE], const struct owner_key *id_key,
		  const struct owner_key *author_key, uint8_t out[ID_AUTH_SIZE],
		  struct snp_err *err);

/*
 * Check auth against block: the algorithms, every reserved byte zero, the
 * keys P-384 points, both signatures (-EKEYREJECTED when one fails,
 * -EBADMSG for a malformed field). With AUTHOR_KEY_ALGO 0, the author
 * fields must all be zero and *has_author is false. On success gives the
 * two key digests (the author's zero when absent).
 */
int id_auth_verify(const uint8_t block[ID_BLOCK_SIZE], const uint8_t auth[ID_AUTH_SIZE],
		   bool *has_author, uint8_t id_key_digest[48], uint8_t author_key_digest[48],
		   struct snp_err *err);

#endif
