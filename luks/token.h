/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_LUKS_TOKEN_H
#define SNP_LUKS_TOKEN_H

/*
 * The snp-unseal LUKS2 token: what a volume's header says about how to
 * unlock it. `cryptsetup luksDump` lists it, `cryptsetup token export`
 * prints it whole:
 *
 *   {"type":"snp-unseal","keyslots":["1"],"snp_unseal_version":1,
 *    "volume":"<36-char lowercase uuid, the broker's volume id>",
 *    "brokers":["https://kb.example:8443", ...],
 *    "ca_pins":["sha256:<64 hex>", ...],
 *    "server_pin":"sha256:<64 hex>",	(optional)
 *    "name":"<device-mapper name>"}	(optional; default luks-<header uuid>)
 *
 * While `snp-unseal enroll` is adding the keyslot, the token is written
 * first as pending: "keyslots":[] and "pending_keyslot":N (the keyslot it
 * is about to add). A pending token left by an interrupted enroll names
 * what to clean up; it never unlocks anything.
 *
 * ca_pins are the SubjectPublicKeyInfo SHA-256 of the CA certificates
 * given to enroll (--ca FILE): at unlock, only the certificates of the
 * initrd's CA bundle with one of these keys are trust anchors.
 *
 * Parsing is strict: unknown, missing, repeated or wrong-type members,
 * a version other than 1, URLs that are not https://, more than the
 * maxima below, an empty list, or keyslots other than exactly one
 * (none when pending) are refused, naming the member.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "snp/err.h"
#include "tls/tls.h"

#define LUKS_TOKEN_TYPE		"snp-unseal"
#define LUKS_TOKEN_VERSION	1
#define LUKS_TOKEN_BROKERS_MAX	8
#define LUKS_TOKEN_URL_MAX	256	/* bytes, with the NUL */
#define LUKS_TOKEN_CA_PINS_MAX	8
#define LUKS_TOKEN_NAME_MAX	128	/* device-mapper's DM_NAME_LEN, with the NUL */
#define LUKS_TOKEN_JSON_MAX	4096	/* what luks_token_to_json ever writes */

struct luks_token {
	int keyslot;			/* the keyslot it opens; -1 when pending */
	int pending_keyslot;		/* pending: the keyslot being added; else -1 */
	char volume[PROTO_VOLUME_LEN + 1];
	char brokers[LUKS_TOKEN_BROKERS_MAX][LUKS_TOKEN_URL_MAX];
	size_t n_brokers;
	uint8_t ca_pins[LUKS_TOKEN_CA_PINS_MAX][TLS_PIN_SIZE];
	size_t n_ca_pins;
	bool has_server_pin;
	uint8_t server_pin[TLS_PIN_SIZE];
	char name[LUKS_TOKEN_NAME_MAX];	/* "" when not set */
};

/* Everything empty, keyslot and pending_keyslot -1. */
void luks_token_init(struct luks_token *t);

/*
 * The checks parsing makes, on a token built in memory: exactly one of
 * keyslot and pending_keyslot set (0-31), a canonical volume id, 1..max
 * https URLs that http_url_parse accepts, 1..max CA pins, a name that
 * device-mapper accepts (printable, no '/', not "." or "..").
 */
int luks_token_validate(const struct luks_token *t, struct snp_err *err);

/*
 * The token's checks of one broker URL and of a mapping name, for the
 * other places they come from (settings, crypttab): -EINVAL with the
 * reason alone, for the caller to say where the value came from.
 */
int luks_token_check_url(const char *url, struct snp_err *err);
int luks_token_check_name(const char *name, struct snp_err *err);

/* Validate, then write the JSON (malloc'd, NUL-terminated) into *json. */
int luks_token_to_json(const struct luks_token *t, char **json, struct snp_err *err);

/*
 * Parse a token's JSON (as crypt_token_json_get returns it). -EINVAL with
 * err naming the member for anything the comment above refuses;
 * -EMEDIUMTYPE when "type" is not snp-unseal (someone else's token).
 */
int luks_token_from_json(const char *json, size_t len, struct luks_token *t,
			 struct snp_err *err);

/* "luks-<uuid>": the conventional mapping name (systemd-cryptsetup, dracut). */
void luks_default_name(const char *header_uuid, char name[LUKS_TOKEN_NAME_MAX]);

#endif
