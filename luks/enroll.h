/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_LUKS_ENROLL_H
#define SNP_LUKS_ENROLL_H

/*
 * Adding and removing snp-unseal's keyslot and token in a LUKS2 header.
 * Existing keyslots, tokens and the data are never touched.
 *
 * Enroll, in header writes (each one libcryptsetup's own crash-safe
 * two-copy update):
 *   0. load; refuse a header that already has a complete snp-unseal
 *      token; clear a pending one left by an interrupted enroll (its
 *      keyslot, if added, then the token); get the volume key with the
 *      caller's passphrase (any keyslot: wrong passphrase => nothing was
 *      written); pick the lowest free keyslot N;
 *   1. write the token as pending on N;
 *   2. add keyslot N: PBKDF2-SHA256 at the minimum iteration count (the
 *      secret is 32 random bytes; a slow KDF buys nothing and argon2
 *      costs memory), the secret as its passphrase;
 *   3. rewrite the token as complete, assigned to N.
 * A failure in 1-3 undoes what was done (keyslot N destroyed, token
 * removed) before returning. A crash leaves either the header as it was,
 * or a pending token naming N, which the next enroll or unenroll clears.
 *
 * Unenroll removes every snp-unseal token, complete or pending, and its
 * keyslot: the keyslot first (token unassigned by libcryptsetup), then
 * the token. It refuses (-EBUSY) to destroy a keyslot when that would
 * leave the volume with no other keyslot.
 */
#include <stddef.h>
#include <stdint.h>

#include "luks/token.h"
#include "snp/err.h"

#define LUKS_PBKDF2_ITERATIONS	1000	/* LUKS2's minimum for PBKDF2 */

struct luks_enroll_params {
	const char *device;
	const char *passphrase;		/* an existing keyslot's */
	size_t passphrase_len;
	const uint8_t *secret;		/* the new keyslot's passphrase */
	size_t secret_len;
	/*
	 * brokers, ca_pins, server_pin and name from the caller; volume ""
	 * means the header's UUID. keyslot/pending_keyslot are ignored.
	 */
	const struct luks_token *token;
};

struct luks_enroll_result {
	int keyslot;
	int token_id;
	char volume[PROTO_VOLUME_LEN + 1];
	int cleared_pending;		/* a leftover pending token was cleared first */
};

/*
 * 0 with res filled. -EPERM: the passphrase opens no keyslot. -EEXIST:
 * already enrolled (err names the token). -EMEDIUMTYPE: not LUKS2.
 * -ENOSPC: no free keyslot or token slot. Others: what libcryptsetup said.
 */
int luks_enroll(const struct luks_enroll_params *p, struct luks_enroll_result *res,
		struct snp_err *err);

struct luks_unenroll_result {
	int removed_tokens;
	int removed_keyslots;
};

/* The header's UUID (as crypt_get_uuid gives it); -EMEDIUMTYPE: not LUKS2. */
int luks_header_uuid(const char *device, char uuid[40], struct snp_err *err);

/* 0 (also when there was nothing to remove: both counts 0), -EBUSY, others. */
int luks_unenroll(const char *device, struct luks_unenroll_result *res, struct snp_err *err);

#endif
