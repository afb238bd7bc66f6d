// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening a volume with the released secret (luks/open.h): one keyslot,
 * the token's, tried with one PBKDF2 at the minimum count.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libcryptsetup.h>

#include "luks/crypt_log.h"
#include "luks/open.h"

/* A loaded LUKS2 header, with libcryptsetup's last error for our messages. */
struct volume {
	struct crypt_device *cd;
	const char *device;
	struct luks_crypt_log log;
};

static int load(struct volume *v, const char *device, struct snp_err *err)
{
	int r;

	v->device = device;
	r = luks_crypt_init(&v->cd, device, &v->log);
	if (r < 0)
		return snp_errf(err, r, "cannot open %s: %s", device, luks_crypt_why(&v->log, r));
	r = crypt_load(v->cd, CRYPT_LUKS2, NULL);
	if (r == -EINVAL)
		r = snp_errf(err, -EMEDIUMTYPE, "%s has no LUKS2 header (%s)", device,
			     v->log.msg[0] ? v->log.msg : "no LUKS2 signature");
	else if (r < 0)
		r = snp_errf(err, r, "cannot read the LUKS2 header of %s: %s", device,
			     luks_crypt_why(&v->log, r));
	if (r < 0) {
		crypt_free(v->cd);
		v->cd = NULL;
	}
	return r;
}

/*
 * Only the one keyslot: CRYPT_ANY_SLOT (or any negative number) would
 * have libcryptsetup try every keyslot, the passphrases' argon2 included.
 */
static int check_keyslot(const struct volume *v, int keyslot, struct snp_err *err)
{
	int max = crypt_keyslot_max(CRYPT_LUKS2);

	if (keyslot < 0 || keyslot >= max)
		return snp_errf(err, -EINVAL, "keyslot %d of %s is out of range (0 to %d)", keyslot,
				v->device, max - 1);
	if (crypt_keyslot_status(v->cd, keyslot) == CRYPT_SLOT_INACTIVE)
		return snp_errf(err, -ENOENT, "%s has no keyslot %d", v->device, keyslot);
	return 0;
}

/*
 * Before activating: -EEXIST when name is already mapped, -ENODEV when
 * device-mapper cannot be used (libcryptsetup then cannot tell a mapping's
 * state: CRYPT_INVALID).
 */
static int check_mapping(struct volume *v, const char *name, struct snp_err *err)
{
	crypt_status_info st;

	if (!name || !name[0])
		return snp_errf(err, -EINVAL, "activating %s needs a mapping name", v->device);
	luks_crypt_log_reset(&v->log);
	st = crypt_status(v->cd, name);
	if (st == CRYPT_ACTIVE || st == CRYPT_BUSY)
		return snp_errf(err, -EEXIST, "%s is already active", name);
	if (st == CRYPT_INVALID)
		return snp_errf(err, -ENODEV, "cannot activate %s as %s: no usable device-mapper (%s)",
				v->device, name,
				v->log.msg[0] ? v->log.msg : "is dm_mod loaded?");
	return 0;
}

static int open_failed(struct volume *v, int r, int keyslot, const char *name,
		       struct snp_err *err)
{
	switch (r) {
	case -EPERM:
		return snp_errf(err, -EPERM, "the released secret does not open keyslot %d of %s",
				keyslot, v->device);
	case -EEXIST:
		return snp_errf(err, -EEXIST, "%s became active meanwhile", name);
	case -ENOENT:
		return snp_errf(err, -ENOENT, "%s has no keyslot %d", v->device, keyslot);
	default:
		return snp_errf(err, r, "cannot open keyslot %d of %s: %s", keyslot, v->device,
				luks_crypt_why(&v->log, r));
	}
}

int luks_open(const char *device, int keyslot, const char *name, enum luks_open_mode mode,
	      const uint8_t *secret, size_t secret_len, struct snp_err *err)
{
	struct volume v;
	int r;

	r = load(&v, device, err);
	if (r)
		return r;
	r = check_keyslot(&v, keyslot, err);
	if (!r && mode == LUKS_OPEN_ACTIVATE)
		r = check_mapping(&v, name, err);
	if (r)
		goto out;
	/*
	 * No activation flags of our own: the header's persistent ones
	 * (cryptsetup refresh --persistent: allow-discards, no workqueues)
	 * apply as they do for `cryptsetup open`, and whether to leak the
	 * free-space pattern through discards is the owner's choice there.
	 * A NULL name only checks the secret against the keyslot.
	 */
	luks_crypt_log_reset(&v.log);
	r = crypt_activate_by_passphrase(v.cd, mode == LUKS_OPEN_VERIFY ? NULL : name, keyslot,
					 (const char *)secret, secret_len, 0);
	if (r >= 0)
		r = 0;
	else
		r = open_failed(&v, r, keyslot, name, err);
out:
	crypt_free(v.cd);
	return r;
}

int luks_is_active(const char *name)
{
	struct luks_crypt_log log = { "" };
	crypt_status_info st;

	/* Its messages (no device-mapper here, say) are not ours to print. */
	crypt_set_log_callback(NULL, luks_crypt_log_keep, &log);
	st = crypt_status(NULL, name);
	crypt_set_log_callback(NULL, NULL, NULL);
	return st == CRYPT_ACTIVE || st == CRYPT_BUSY;
}

int luks_active_uuid(const char *name, char uuid[40], struct snp_err *err)
{
	struct luks_crypt_log log = { "" };
	struct crypt_device *cd = NULL;
	crypt_status_info st;
	const char *u;
	int r = 0;

	uuid[0] = '\0';
	crypt_set_log_callback(NULL, luks_crypt_log_keep, &log);
	st = crypt_status(NULL, name);
	if (st == CRYPT_ACTIVE || st == CRYPT_BUSY)
		r = crypt_init_by_name(&cd, name);
	crypt_set_log_callback(NULL, NULL, NULL);
	if (st == CRYPT_INVALID)
		return snp_errf(err, -ENODEV, "no usable device-mapper to map %s (%s)", name,
				log.msg[0] ? log.msg : "is dm_mod loaded?");
	if (st != CRYPT_ACTIVE && st != CRYPT_BUSY)
		return 0;
	if (r < 0) {
		r = snp_errf(err, r, "%s is active, but libcryptsetup cannot read it: %s", name,
			     luks_crypt_why(&log, r));
		goto out;
	}
	u = crypt_get_uuid(cd);
	if (u && strlen(u) < 40)
		snprintf(uuid, 40, "%s", u);
	r = 1;
out:
	crypt_free(cd);
	return r;
}
