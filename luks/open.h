/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_LUKS_OPEN_H
#define SNP_LUKS_OPEN_H

/*
 * Opening a volume with the released secret, on the token's keyslot only
 * (never trying passphrase keyslots: a wrong secret costs one PBKDF2 at
 * the minimum count, not an argon2 per keyslot).
 */
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

enum luks_open_mode {
	LUKS_OPEN_ACTIVATE,		/* map it under name with device-mapper */
	LUKS_OPEN_VERIFY,		/* only check the secret against the keyslot */
};

/*
 * 0: opened (or verified). -EEXIST: name is already active (someone
 * unlocked it: not an error for the caller to retry). -EPERM: the secret
 * does not open the keyslot. -ENODEV: no device-mapper (activate only).
 * Others: what libcryptsetup said. err is set in each case but 0.
 */
int luks_open(const char *device, int keyslot, const char *name, enum luks_open_mode mode,
	      const uint8_t *secret, size_t secret_len, struct snp_err *err);

/* Whether a device-mapper device of that name is active. */
int luks_is_active(const char *name);

/*
 * Which LUKS volume the active mapping name holds: 1 with uuid set (its
 * header UUID, "" when it has none), 0 when name is not active; -ENODEV
 * when device-mapper cannot be used here, other negative errnos when it
 * is active but cannot be read (err set on each error).
 */
int luks_active_uuid(const char *name, char uuid[40], struct snp_err *err);

#endif
