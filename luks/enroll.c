// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-unseal's keyslot and token in a LUKS2 header (luks/enroll.h says
 * the order of the header writes and why). Each libcryptsetup call that
 * changes the header writes it at once, both copies, so the steps here
 * are the crash points.
 */
#define _GNU_SOURCE	/* explicit_bzero */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcryptsetup.h>

#include "luks/crypt_log.h"
#include "luks/enroll.h"
#include "proto/proto.h"

#define TOKENS_MAX		32	/* LUKS2's token ids (crypt_token_max) */
#define VOLUME_KEY_MAX		512	/* bytes; LUKS2 keys are 32 to 128 */

/* A loaded LUKS2 header, with libcryptsetup's last error kept for our messages. */
struct header {
	struct crypt_device *cd;
	const char *device;
	struct luks_crypt_log log;
};

/* An snp-unseal token of the header. */
enum our_state { OURS_COMPLETE, OURS_PENDING, OURS_BROKEN };

struct our_token {
	int id;
	enum our_state state;
	int keyslot;		/* complete: its keyslot; pending: the pending one; else -1 */
};

struct our_tokens {
	struct our_token t[TOKENS_MAX];
	size_t n;
	struct snp_err broken;	/* why the first broken one does not parse */
};

/* libcryptsetup's words for the failure r of the last call (see crypt_call). */
static const char *crypt_why(const struct header *h, int r)
{
	return luks_crypt_why(&h->log, r);
}

/* Before a call whose failure is reported: no earlier call's message. */
static void crypt_call(struct header *h)
{
	luks_crypt_log_reset(&h->log);
}

static void header_close(struct header *h)
{
	crypt_free(h->cd);
	h->cd = NULL;
}

/* crypt_load refused LUKS2: say what is there instead (-EMEDIUMTYPE). */
static int not_luks2(struct header *h, struct snp_err *err)
{
	char why[LUKS_CRYPT_MSG_MAX];

	snprintf(why, sizeof(why), "%s", h->log.msg[0] ? h->log.msg : "no LUKS2 signature");
	if (!crypt_load(h->cd, CRYPT_LUKS, NULL))
		return snp_errf(err, -EMEDIUMTYPE, "%s is %s, not LUKS2 (snp-unseal keeps its token in a LUKS2 header)",
				h->device, crypt_get_type(h->cd));
	return snp_errf(err, -EMEDIUMTYPE, "%s has no LUKS2 header (%s)", h->device, why);
}

static int header_open(struct header *h, const char *device, struct snp_err *err)
{
	int r;

	h->device = device;
	r = luks_crypt_init(&h->cd, device, &h->log);
	if (r < 0)
		return snp_errf(err, r, "cannot open %s: %s", device, crypt_why(h, r));
	r = crypt_load(h->cd, CRYPT_LUKS2, NULL);
	if (!r)
		return 0;
	if (r == -EINVAL)
		r = not_luks2(h, err);
	else
		r = snp_errf(err, r, "cannot read the LUKS2 header of %s: %s", device,
			     crypt_why(h, r));
	header_close(h);
	return r;
}

/* Every snp-unseal token, sorted by what state it is in; others' tokens are skipped. */
static void find_ours(const struct header *h, struct our_tokens *ours)
{
	int max = crypt_token_max(CRYPT_LUKS2);
	struct luks_token t;

	ours->n = 0;
	ours->broken.msg[0] = '\0';
	for (int id = 0; id < max && id < TOKENS_MAX; id++) {
		struct our_token *o = &ours->t[ours->n];
		struct snp_err e = { 0 };
		const char *json = NULL;
		int r;

		if (crypt_token_json_get(h->cd, id, &json) < 0 || !json)
			continue;	/* no token with this id */
		r = luks_token_from_json(json, strlen(json), &t, &e);
		if (r == -EMEDIUMTYPE)
			continue;
		o->id = id;
		if (r < 0) {
			o->state = OURS_BROKEN;
			o->keyslot = -1;
			if (!ours->broken.msg[0])
				ours->broken = e;
		} else if (t.keyslot < 0) {
			o->state = OURS_PENDING;
			o->keyslot = t.pending_keyslot;
		} else {
			o->state = OURS_COMPLETE;
			o->keyslot = t.keyslot;
		}
		ours->n++;
	}
}

static bool keyslot_active(const struct header *h, int keyslot)
{
	crypt_keyslot_info st = crypt_keyslot_status(h->cd, keyslot);

	return st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST ||
	       st == CRYPT_SLOT_UNBOUND;
}

/* Whether a token other than token_id names keyslot. */
static bool keyslot_used_elsewhere(const struct header *h, int token_id, int keyslot)
{
	int max = crypt_token_max(CRYPT_LUKS2);

	for (int id = 0; id < max; id++)
		if (id != token_id && !crypt_token_is_assigned(h->cd, id, keyslot))
			return true;
	return false;
}

/*
 * Whether keyslot is one we added, for a token that does not say so
 * itself (pending, or broken): made the way step 2 makes it and no other
 * token's. A pending token names the lowest free keyslot at that time;
 * after a crash before step 2, `cryptsetup luksAddKey` may have put the
 * owner's own passphrase there, with argon2 or a benchmarked PBKDF2.
 */
static bool keyslot_looks_ours(const struct header *h, int token_id, int keyslot)
{
	struct crypt_pbkdf_type pbkdf;

	if (keyslot < 0 || !keyslot_active(h, keyslot) ||
	    crypt_keyslot_get_pbkdf(h->cd, keyslot, &pbkdf) < 0)
		return false;
	return pbkdf.type && !strcmp(pbkdf.type, CRYPT_KDF_PBKDF2) && pbkdf.hash &&
	       !strcmp(pbkdf.hash, "sha256") && pbkdf.iterations == LUKS_PBKDF2_ITERATIONS &&
	       !keyslot_used_elsewhere(h, token_id, keyslot);
}

/* The keyslots (a bit each) that removing token o takes with it. */
static uint64_t keyslots_of(const struct header *h, const struct our_token *o)
{
	int max = crypt_keyslot_max(CRYPT_LUKS2);
	uint64_t set = 0;

	for (int k = 0; k < max && k < 64; k++) {
		bool take;

		if (o->state == OURS_COMPLETE)
			take = k == o->keyslot && keyslot_active(h, k);
		else
			take = (k == o->keyslot || !crypt_token_is_assigned(h->cd, o->id, k)) &&
			       keyslot_looks_ours(h, o->id, k);
		if (take)
			set |= UINT64_C(1) << k;
	}
	return set;
}

/*
 * Whether a keyslot outside set remains that opens the volume: an unbound
 * keyslot holds no volume key, so it does not count.
 */
static bool other_keyslot_remains(const struct header *h, uint64_t set)
{
	int max = crypt_keyslot_max(CRYPT_LUKS2);

	for (int k = 0; k < max && k < 64; k++) {
		crypt_keyslot_info st = crypt_keyslot_status(h->cd, k);

		if (!(set & (UINT64_C(1) << k)) &&
		    (st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST))
			return true;
	}
	return false;
}

static int destroy_keyslot(struct header *h, int keyslot, struct snp_err *err)
{
	int r;

	crypt_call(h);
	r = crypt_keyslot_destroy(h->cd, keyslot);
	if (r < 0)
		return snp_errf(err, r, "cannot remove keyslot %d of %s: %s", keyslot, h->device,
				crypt_why(h, r));
	return 0;
}

static int remove_token(struct header *h, int token_id, struct snp_err *err)
{
	int r;

	crypt_call(h);
	r = crypt_token_json_set(h->cd, token_id, NULL);
	if (r < 0)
		return snp_errf(err, r, "cannot remove token %d of %s: %s", token_id, h->device,
				crypt_why(h, r));
	return 0;
}

/* Token o and the keyslots in set: the keyslots first (see enroll.h). */
static int remove_ours(struct header *h, const struct our_token *o, uint64_t set,
		       int *removed_keyslots, struct snp_err *err)
{
	int r;

	for (int k = 0; k < 64; k++) {
		if (!(set & (UINT64_C(1) << k)))
			continue;
		r = destroy_keyslot(h, k, err);
		if (r)
			return r;
		(*removed_keyslots)++;
	}
	return remove_token(h, o->id, err);
}

int luks_header_uuid(const char *device, char uuid[40], struct snp_err *err)
{
	struct header h;
	const char *got;
	int r;

	r = header_open(&h, device, err);
	if (r)
		return r;
	got = crypt_get_uuid(h.cd);
	if (!got || !got[0] || strlen(got) >= 40)
		r = snp_errf(err, -EINVAL, "the LUKS2 header of %s has no usable UUID", device);
	else
		snprintf(uuid, 40, "%s", got);
	header_close(&h);
	return r;
}

int luks_unenroll(const char *device, struct luks_unenroll_result *res, struct snp_err *err)
{
	uint64_t sets[TOKENS_MAX], all = 0;
	struct our_tokens ours;
	struct header h;
	int r;

	memset(res, 0, sizeof(*res));
	r = header_open(&h, device, err);
	if (r)
		return r;
	find_ours(&h, &ours);
	for (size_t i = 0; i < ours.n; i++) {
		sets[i] = keyslots_of(&h, &ours.t[i]);
		all |= sets[i];
	}
	if (all && !other_keyslot_remains(&h, all)) {
		r = snp_errf(err, -EBUSY,
			     "removing snp-unseal's keyslot would leave %s with no other keyslot; add a passphrase first (cryptsetup luksAddKey)",
			     device);
		goto out;
	}
	for (size_t i = 0; i < ours.n; i++) {
		r = remove_ours(&h, &ours.t[i], sets[i], &res->removed_keyslots, err);
		if (r)
			goto out;
		res->removed_tokens++;
	}
out:
	header_close(&h);
	return r;
}

/* ---- enroll ------------------------------------------------------------- */

/* What enroll is about to write; the volume key is wiped on every path. */
struct enrollment {
	struct header h;
	uint8_t volume_key[VOLUME_KEY_MAX];
	size_t volume_key_size;
	int opened_keyslot;	/* the one the passphrase opened */
	struct luks_token token;
	char *pending_json;
	char *complete_json;
};

/* A complete or broken token stops enroll; pending ones are cleared later. */
static int check_not_enrolled(const struct header *h, const struct our_tokens *ours,
			      struct snp_err *err)
{
	for (size_t i = 0; i < ours->n; i++) {
		const struct our_token *o = &ours->t[i];

		if (o->state == OURS_COMPLETE)
			return snp_errf(err, -EEXIST,
					"%s is already enrolled (token %d, keyslot %d); run snp-unseal unenroll first",
					h->device, o->id, o->keyslot);
		if (o->state == OURS_BROKEN)
			return snp_errf(err, -EINVAL,
					"%s has an snp-unseal token (%d) that does not parse (%s); run snp-unseal unenroll first",
					h->device, o->id, ours->broken.msg);
	}
	return 0;
}

/* The caller's token with the volume id filled in, checked before any write. */
static int token_prepare(struct enrollment *e, const struct luks_token *t, struct snp_err *err)
{
	const char *uuid;
	struct luks_token check;
	struct snp_err e2 = { 0 };

	e->token = *t;
	e->token.keyslot = -1;
	e->token.pending_keyslot = -1;
	if (!e->token.volume[0]) {
		uuid = crypt_get_uuid(e->h.cd);
		if (!uuid || proto_volume_canonical(uuid, e->token.volume, &e2))
			return snp_errf(err, -EINVAL, "the LUKS2 header UUID of %s is no volume id: %s",
					e->h.device, uuid ? e2.msg : "there is none");
	}
	check = e->token;
	check.keyslot = 0;	/* a stand-in until the keyslot is chosen */
	return luks_token_validate(&check, err);
}

static int get_volume_key(struct enrollment *e, const struct luks_enroll_params *p,
			  struct snp_err *err)
{
	int size = crypt_get_volume_key_size(e->h.cd);
	int r;

	if (size <= 0 || (size_t)size > sizeof(e->volume_key))
		return snp_errf(err, -EINVAL, "%s: unexpected volume key size %d", e->h.device,
				size);
	e->volume_key_size = (size_t)size;
	crypt_call(&e->h);
	r = crypt_volume_key_get(e->h.cd, CRYPT_ANY_SLOT, (char *)e->volume_key,
				 &e->volume_key_size, p->passphrase, p->passphrase_len);
	if (r == -EPERM || r == -ENOENT)
		return snp_errf(err, -EPERM, "the passphrase opens no keyslot of %s", e->h.device);
	if (r < 0)
		return snp_errf(err, r, "cannot get the volume key of %s: %s", e->h.device,
				crypt_why(&e->h, r));
	e->opened_keyslot = r;
	return 0;
}

/*
 * A pending token left by an interrupted enroll: its keyslot goes only
 * if we made it and it is not the one the passphrase opened (which so
 * remains), then the token.
 */
static int clear_pending(struct enrollment *e, const struct our_tokens *ours,
			 struct luks_enroll_result *res, struct snp_err *err)
{
	int r;

	for (size_t i = 0; i < ours->n; i++) {
		const struct our_token *o = &ours->t[i];

		if (o->state != OURS_PENDING)
			continue;
		if (o->keyslot != e->opened_keyslot &&
		    keyslot_looks_ours(&e->h, o->id, o->keyslot)) {
			r = destroy_keyslot(&e->h, o->keyslot, err);
			if (r)
				return r;
		}
		r = remove_token(&e->h, o->id, err);
		if (r)
			return r;
		res->cleared_pending = 1;
	}
	return 0;
}

static int free_keyslot(const struct header *h, struct snp_err *err)
{
	int max = crypt_keyslot_max(CRYPT_LUKS2);

	for (int k = 0; k < max; k++)
		if (crypt_keyslot_status(h->cd, k) == CRYPT_SLOT_INACTIVE)
			return k;
	return snp_errf(err, -ENOSPC, "%s has no free keyslot (all %d are in use)", h->device,
			max);
}

static int check_free_token(const struct header *h, struct snp_err *err)
{
	int max = crypt_token_max(CRYPT_LUKS2);

	for (int id = 0; id < max; id++)
		if (crypt_token_status(h->cd, id, NULL) == CRYPT_TOKEN_INACTIVE)
			return 0;
	return snp_errf(err, -ENOSPC, "%s has no free token slot (all %d are in use)", h->device,
			max);
}

/* Both forms of the token on keyslot, written out before the first write. */
static int token_json(struct enrollment *e, int keyslot, struct snp_err *err)
{
	int r;

	e->token.keyslot = -1;
	e->token.pending_keyslot = keyslot;
	r = luks_token_to_json(&e->token, &e->pending_json, err);
	if (r)
		return r;
	e->token.keyslot = keyslot;
	e->token.pending_keyslot = -1;
	return luks_token_to_json(&e->token, &e->complete_json, err);
}

static int add_keyslot(struct enrollment *e, int keyslot, const struct luks_enroll_params *p,
		       struct snp_err *err)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = LUKS_PBKDF2_ITERATIONS,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	int r;

	crypt_call(&e->h);
	r = crypt_set_pbkdf_type(e->h.cd, &pbkdf);
	if (r < 0)
		return snp_errf(err, r, "%s: libcryptsetup refuses PBKDF2-SHA256 at %d iterations: %s",
				e->h.device, LUKS_PBKDF2_ITERATIONS, crypt_why(&e->h, r));
	crypt_call(&e->h);
	r = crypt_keyslot_add_by_volume_key(e->h.cd, keyslot, (const char *)e->volume_key,
					    e->volume_key_size, (const char *)p->secret,
					    p->secret_len);
	if (r < 0)
		return snp_errf(err, r, "cannot add keyslot %d to %s: %s", keyslot, e->h.device,
				crypt_why(&e->h, r));
	if (r != keyslot) {
		destroy_keyslot(&e->h, r, NULL);
		return snp_errf(err, -EIO, "%s: libcryptsetup added keyslot %d, not %d", e->h.device,
				r, keyslot);
	}
	/*
	 * Tried first by anyone given a key without a keyslot (cryptroot with
	 * our keyscript, a typed passphrase): a wrong key costs PBKDF2 at 1000
	 * iterations here before the passphrase keyslots' argon2.
	 */
	crypt_call(&e->h);
	r = crypt_keyslot_set_priority(e->h.cd, keyslot, CRYPT_SLOT_PRIORITY_PREFER);
	if (r < 0) {
		r = snp_errf(err, r, "%s: cannot make keyslot %d the preferred one: %s",
			     e->h.device, keyslot, crypt_why(&e->h, r));
		destroy_keyslot(&e->h, keyslot, NULL);
	}
	return r;
}

/*
 * Take back steps 1-2 after a failure (keyslot < 0: none was added). An
 * undo that fails itself leaves what a crash would (a pending token),
 * which the next enroll or unenroll clears: err says so.
 */
static void undo_enrollment(struct enrollment *e, int token_id, int keyslot,
			    struct snp_err *err)
{
	struct snp_err undo = { 0 };
	char why[sizeof(err->msg)];

	if ((keyslot < 0 || !destroy_keyslot(&e->h, keyslot, &undo)) &&
	    !remove_token(&e->h, token_id, &undo))
		return;
	if (!err)
		return;
	snprintf(why, sizeof(why), "%s", err->msg);
	snp_errf(err, err->code, "%s; undoing it failed too (%s): snp-unseal unenroll clears what is left",
		 why, undo.msg);
}

static int write_token(struct enrollment *e, int token_id, const char *json)
{
	crypt_call(&e->h);
	return crypt_token_json_set(e->h.cd, token_id, json);
}

/* Steps 1-3 of enroll.h on keyslot; a failure undoes what was written. */
static int write_enrollment(struct enrollment *e, int keyslot,
			    const struct luks_enroll_params *p, struct luks_enroll_result *res,
			    struct snp_err *err)
{
	int token_id, r;

	token_id = write_token(e, CRYPT_ANY_TOKEN, e->pending_json);
	if (token_id < 0)
		return snp_errf(err, token_id, "cannot write the pending token to %s: %s",
				e->h.device, crypt_why(&e->h, token_id));
	r = add_keyslot(e, keyslot, p, err);
	if (r) {
		undo_enrollment(e, token_id, -1, err);
		return r;
	}
	r = write_token(e, token_id, e->complete_json);
	if (r == token_id)
		r = crypt_token_is_assigned(e->h.cd, token_id, keyslot);
	if (r) {
		r = snp_errf(err, r < 0 ? r : -EIO, "cannot write the token of keyslot %d to %s: %s",
			     keyslot, e->h.device, r < 0 ? crypt_why(&e->h, r) : "wrong token id");
		undo_enrollment(e, token_id, keyslot, err);
		return r;
	}
	res->keyslot = keyslot;
	res->token_id = token_id;
	snprintf(res->volume, sizeof(res->volume), "%s", e->token.volume);
	return 0;
}

static int enroll(struct enrollment *e, const struct luks_enroll_params *p,
		  struct luks_enroll_result *res, struct snp_err *err)
{
	struct our_tokens ours;
	int keyslot, r;

	find_ours(&e->h, &ours);
	r = check_not_enrolled(&e->h, &ours, err);
	if (!r)
		r = token_prepare(e, p->token, err);
	if (!r)
		r = get_volume_key(e, p, err);
	if (!r)
		r = clear_pending(e, &ours, res, err);
	if (!r)
		r = check_free_token(&e->h, err);
	if (r)
		return r;
	keyslot = free_keyslot(&e->h, err);
	if (keyslot < 0)
		return keyslot;
	r = token_json(e, keyslot, err);
	if (r)
		return r;
	return write_enrollment(e, keyslot, p, res, err);
}

int luks_enroll(const struct luks_enroll_params *p, struct luks_enroll_result *res,
		struct snp_err *err)
{
	struct enrollment *e;
	int r;

	memset(res, 0, sizeof(*res));
	res->keyslot = -1;
	res->token_id = -1;
	if (!p->device || !p->passphrase || !p->secret || !p->secret_len || !p->token)
		return snp_errf(err, -EINVAL, "enroll needs a device, a passphrase, a secret and a token");
	e = calloc(1, sizeof(*e));
	if (!e)
		return snp_errf(err, -ENOMEM, "out of memory enrolling %s", p->device);
	r = header_open(&e->h, p->device, err);
	if (!r) {
		r = enroll(e, p, res, err);
		header_close(&e->h);
	}
	free(e->pending_json);
	free(e->complete_json);
	explicit_bzero(e, sizeof(*e));
	free(e);
	return r;
}
