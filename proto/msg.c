// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The protocol's JSON messages (docs/protocol.md): encoders that write
 * exactly the documented shapes, members in the documented order, and
 * decoders that take nothing else. Each decoder parses with
 * json_parse_flat, takes the members it knows with their types and
 * decoded sizes, and refuses any member left over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "proto/internal.h"
#include "proto/proto.h"

/* ---- taking members ---- */

static int take_version(struct json_object *o, struct snp_err *err)
{
	const struct json_member *m;
	int ret = json_take(o, "version", JSON_NUMBER, true, &m, err);

	if (ret)
		return ret;
	if (m->num != PROTO_VERSION)
		return snp_errf(err, -EBADMSG, "member \"version\" is %u, not %d", m->num,
				PROTO_VERSION);
	return 0;
}

/* A required base64 member of min to max bytes into out (which holds max). */
static int take_b64(struct json_object *o, const char *name, uint8_t *out, size_t min,
		    size_t max, size_t *out_len, struct snp_err *err)
{
	const struct json_member *m;
	size_t got;
	int ret = json_take(o, name, JSON_STRING, true, &m, err);
	char what[JSON_NAME_MAX + 16];

	if (ret)
		return ret;
	snprintf(what, sizeof(what), "member \"%s\"", name);
	ret = proto_b64_decode_range(m->str, m->str_len, out, min, max, &got, err, what);
	if (!ret && out_len)
		*out_len = got;
	return ret;
}

static int take_pubkey(struct json_object *o, const char *name, uint8_t pub[PROTO_PUBKEY_SIZE],
		       struct snp_err *err)
{
	int ret = take_b64(o, name, pub, PROTO_PUBKEY_SIZE, PROTO_PUBKEY_SIZE, NULL, err);

	if (ret)
		return ret;
	if (!proto_pubkey_valid(pub))
		return snp_errf(err, -EBADMSG,
				"member \"%s\" is not a P-256 point in SEC1 uncompressed form", name);
	return 0;
}

static int take_volume(struct json_object *o, char out[PROTO_VOLUME_LEN + 1],
		       struct snp_err *err)
{
	const struct json_member *m;
	int ret = json_take(o, "volume", JSON_STRING, true, &m, err);

	if (ret)
		return ret;
	if (!proto_volume_valid(m->str, m->str_len))
		return snp_errf(err, -EBADMSG,
				"member \"volume\" is not a volume id in canonical form (36 characters: lowercase hex, hyphens at 8, 13, 18 and 23)");
	memcpy(out, m->str, PROTO_VOLUME_LEN + 1);
	return 0;
}

/* A reason or a rule: lowercase letters, digits and hyphens. */
static bool is_word(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static int take_word(struct json_object *o, const char *name, bool required, char *out,
		     size_t size, struct snp_err *err)
{
	const struct json_member *m;
	int ret = json_take(o, name, JSON_STRING, required, &m, err);

	if (ret)
		return ret;
	if (m->str_len >= size)
		return snp_errf(err, -EBADMSG, "member \"%s\" is %zu bytes, more than %zu", name,
				m->str_len, size - 1);
	if (!is_word(m->str, m->str_len))
		return snp_errf(err, -EBADMSG,
				"member \"%s\" is not a word of lowercase letters, digits and hyphens",
				name);
	memcpy(out, m->str, m->str_len + 1);
	return 0;
}

/*
 * Text for a console: no control characters of C0 or C1, and none of the
 * invisible ones that reorder or break lines (U+2028-U+202E,
 * U+2066-U+2069). The parser has already checked that it is UTF-8.
 */
static bool is_printable(const char *text, size_t len)
{
	const uint8_t *s = (const uint8_t *)text;

	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
		if (s[i] == 0xc2 && i + 1 < len && s[i + 1] <= 0x9f)
			return false;
		if (s[i] == 0xe2 && i + 2 < len &&
		    ((s[i + 1] == 0x80 && s[i + 2] >= 0xa8 && s[i + 2] <= 0xae) ||
		     (s[i + 1] == 0x81 && s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9)))
			return false;
	}
	return true;
}

static int take_text(struct json_object *o, const char *name, char *out, size_t size,
		     struct snp_err *err)
{
	const struct json_member *m;
	int ret = json_take(o, name, JSON_STRING, true, &m, err);

	if (ret)
		return ret;
	if (!m->str_len || m->str_len >= size)
		return snp_errf(err, -EBADMSG, "member \"%s\" is %zu bytes, not 1 to %zu", name,
				m->str_len, size - 1);
	if (!is_printable(m->str, m->str_len))
		return snp_errf(err, -EBADMSG, "member \"%s\" holds control characters", name);
	memcpy(out, m->str, m->str_len + 1);
	return 0;
}

/*
 * Parse and take "version" and, when volume is not NULL, "volume": the
 * head that every message but the refusal starts with. o is freed on error.
 */
static int parse_head(const char *json, size_t len, struct json_object *o, char *volume,
		      struct snp_err *err)
{
	int ret = json_parse_flat(json, len, o, err);

	if (ret)
		return ret;
	ret = take_version(o, err);
	if (!ret && volume)
		ret = take_volume(o, volume, err);
	if (ret)
		json_object_free(o);
	return ret;
}

/* Refuse what no one took (unless ret already failed) and free o. */
static int finish(struct json_object *o, int ret, struct snp_err *err)
{
	if (!ret)
		ret = json_refuse_untaken(o, err);
	json_object_free(o);
	return ret;
}

/* ---- writing members ---- */

/*
 * in as the inside of a JSON string into out (6 * len + 1 bytes). With
 * console_safe, bytes outside printable ASCII become '?'; otherwise only
 * control bytes need \u escapes.
 */
static void json_escape(const char *in, size_t len, char *out, bool console_safe)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)in[i];

		if (console_safe && (b < 0x20 || b >= 0x7f))
			b = '?';
		if (b == '"' || b == '\\') {
			out[o++] = '\\';
			out[o++] = (char)b;
		} else if (b < 0x20 || b == 0x7f) {
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[b >> 4];
			out[o + 5] = hex[b & 0xf];
			o += 6;
		} else {
			out[o++] = (char)b;
		}
	}
	out[o] = '\0';
}

/* ---- challenge ---- */

int proto_challenge_request_decode(const char *json, size_t len, struct snp_err *err)
{
	struct json_object o;
	int ret = json_parse_flat(json, len, &o, err);

	if (ret)
		return ret;
	if (o.n)
		ret = snp_errf(err, -EBADMSG,
			       "the challenge request must be an empty object, not one with member \"%s\"",
			       o.m[0].name);
	json_object_free(&o);
	return ret;
}

int proto_challenge_encode(const struct proto_challenge *c, char **json, size_t *len)
{
	char *nonce;
	int ret;

	*json = NULL;
	if (!c->expires_in || c->expires_in >= 1000000000u)
		return -EINVAL;
	nonce = proto_b64_encode(c->nonce, PROTO_NONCE_SIZE);
	if (!nonce)
		return -ENOMEM;
	ret = json_format(json, len, "{\"version\":%d,\"nonce\":\"%s\",\"expires_in\":%u}",
			  PROTO_VERSION, nonce, c->expires_in);
	free(nonce);
	return ret;
}

int proto_challenge_decode(const char *json, size_t len, struct proto_challenge *c,
			   struct snp_err *err)
{
	const struct json_member *m;
	struct json_object o;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = parse_head(json, len, &o, NULL, err);
	if (ret)
		return ret;
	ret = take_b64(&o, "nonce", c->nonce, PROTO_NONCE_SIZE, PROTO_NONCE_SIZE, NULL, err);
	if (ret)
		goto out;
	ret = json_take(&o, "expires_in", JSON_NUMBER, true, &m, err);
	if (ret)
		goto out;
	if (!m->num) {
		ret = snp_errf(err, -EBADMSG,
			       "member \"expires_in\" is 0, not a positive number of seconds");
		goto out;
	}
	c->expires_in = m->num;
out:
	return finish(&o, ret, err);
}

/* ---- unseal request ---- */

int proto_unseal_request_encode(const struct proto_unseal_request *r, char **json, size_t *len)
{
	char volume[6 * (PROTO_VOLUME_LEN + 1) + 1];
	char *nonce = proto_b64_encode(r->nonce, PROTO_NONCE_SIZE);
	char *pubkey = proto_b64_encode(r->pubkey, PROTO_PUBKEY_SIZE);
	char *report = proto_b64_encode(r->report, SNP_REPORT_SIZE);
	char *table = NULL;
	int ret = -ENOMEM;

	*json = NULL;
	if (r->cert_table && r->cert_table_len) {
		table = proto_b64_encode(r->cert_table, r->cert_table_len);
		if (!table)
			goto out;
	}
	if (!nonce || !pubkey || !report)
		goto out;
	/* No checks on purpose: tests send bad requests through here, as valid JSON. */
	json_escape(r->volume, strnlen(r->volume, sizeof(r->volume)), volume, false);
	ret = json_format(json, len,
			  "{\"version\":%d,\"volume\":\"%s\",\"nonce\":\"%s\",\"pubkey\":\"%s\","
			  "\"report\":\"%s\"%s%s%s}",
			  PROTO_VERSION, volume, nonce, pubkey, report,
			  table ? ",\"cert_table\":\"" : "", table ? table : "", table ? "\"" : "");
out:
	free(nonce);
	free(pubkey);
	free(report);
	free(table);
	return ret;
}

static int take_cert_table(struct json_object *o, struct proto_unseal_request *r,
			   struct snp_err *err)
{
	const struct json_member *m;
	int ret = json_take(o, "cert_table", JSON_STRING, false, &m, err);

	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	/* Base64 never decodes to more than 3/4 of its length: enough room. */
	r->cert_table = malloc(m->str_len / 4 * 3 + 1);
	if (!r->cert_table)
		return snp_errf(err, -ENOMEM, "out of memory for the certificate table");
	return take_b64(o, "cert_table", r->cert_table, 1, PROTO_CERT_TABLE_MAX,
			&r->cert_table_len, err);
}

int proto_unseal_request_decode(const char *json, size_t len, struct proto_unseal_request *r,
				struct snp_err *err)
{
	struct json_object o;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = parse_head(json, len, &o, r->volume, err);
	if (ret)
		goto out_free;
	ret = take_b64(&o, "nonce", r->nonce, PROTO_NONCE_SIZE, PROTO_NONCE_SIZE, NULL, err);
	if (ret)
		goto out;
	ret = take_pubkey(&o, "pubkey", r->pubkey, err);
	if (ret)
		goto out;
	ret = take_b64(&o, "report", r->report, SNP_REPORT_SIZE, SNP_REPORT_SIZE, NULL, err);
	if (ret)
		goto out;
	ret = take_cert_table(&o, r, err);
out:
	ret = finish(&o, ret, err);
out_free:
	if (ret)
		proto_unseal_request_free(r);
	return ret;
}

void proto_unseal_request_free(struct proto_unseal_request *r)
{
	free(r->cert_table);
	memset(r, 0, sizeof(*r));
}

/* ---- unseal response ---- */

int proto_unseal_response_encode(const struct proto_unseal_response *r, char **json, size_t *len)
{
	const struct proto_sealed *s = &r->sealed;
	char *pubkey = NULL, *ciphertext = NULL;
	int ret = -EINVAL;

	*json = NULL;
	if (!proto_volume_valid(r->volume, strnlen(r->volume, sizeof(r->volume))) ||
	    s->ciphertext_len > PROTO_CIPHERTEXT_MAX)
		goto out;
	ret = -ENOMEM;
	pubkey = proto_b64_encode(s->service_pubkey, PROTO_PUBKEY_SIZE);
	ciphertext = proto_b64_encode(s->ciphertext, s->ciphertext_len);
	if (!pubkey || !ciphertext)
		goto out;
	ret = json_format(json, len,
			  "{\"version\":%d,\"volume\":\"%s\",\"service_pubkey\":\"%s\",\"ciphertext\":\"%s\"}",
			  PROTO_VERSION, r->volume, pubkey, ciphertext);
out:
	free(pubkey);
	free(ciphertext);
	return ret;
}

int proto_unseal_response_decode(const char *json, size_t len, struct proto_unseal_response *r,
				 struct snp_err *err)
{
	struct proto_sealed *s = &r->sealed;
	struct json_object o;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = parse_head(json, len, &o, r->volume, err);
	if (ret)
		goto out_clear;
	ret = take_pubkey(&o, "service_pubkey", s->service_pubkey, err);
	if (ret)
		goto out;
	ret = take_b64(&o, "ciphertext", s->ciphertext, PROTO_SECRET_MIN + PROTO_TAG_SIZE,
		       PROTO_CIPHERTEXT_MAX, &s->ciphertext_len, err);
out:
	ret = finish(&o, ret, err);
out_clear:
	if (ret)
		memset(r, 0, sizeof(*r));
	return ret;
}

/* ---- errors ---- */

int proto_error_encode(const struct proto_error *e, char **json, size_t *len)
{
	size_t reason_len = strnlen(e->reason, sizeof(e->reason));
	size_t rule_len = strnlen(e->rule, sizeof(e->rule));
	size_t message_len = strnlen(e->message, sizeof(e->message));
	char message[6 * sizeof(e->message) + 1];

	*json = NULL;
	if (!is_word(e->reason, reason_len) || reason_len == sizeof(e->reason) ||
	    (rule_len && !is_word(e->rule, rule_len)) || rule_len == sizeof(e->rule) ||
	    message_len == sizeof(e->message))
		return -EINVAL;
	/* An empty message would not decode; say at least that there is none. */
	json_escape(message_len ? e->message : "-", message_len ? message_len : 1, message,
		    true);
	return json_format(json, len, "{\"error\":\"%s\",\"message\":\"%s\"%s%s%s}", e->reason,
			   message, rule_len ? ",\"rule\":\"" : "", e->rule,
			   rule_len ? "\"" : "");
}

int proto_error_decode(const char *json, size_t len, struct proto_error *e, struct snp_err *err)
{
	static const char policy_rejected[] = "policy-rejected";
	struct json_object o;
	bool is_policy;
	int ret;

	memset(e, 0, sizeof(*e));
	ret = json_parse_flat(json, len, &o, err);
	if (ret)
		return ret;
	ret = take_word(&o, "error", true, e->reason, sizeof(e->reason), err);
	if (ret)
		goto out;
	ret = take_text(&o, "message", e->message, sizeof(e->message), err);
	if (ret)
		goto out;
	is_policy = !strcmp(e->reason, policy_rejected);
	ret = take_word(&o, "rule", is_policy, e->rule, sizeof(e->rule), err);
	if (ret == -ENOENT)
		ret = 0;
	else if (!ret && !is_policy)
		ret = snp_errf(err, -EBADMSG, "member \"rule\" comes only with \"%s\", not \"%s\"",
			       policy_rejected, e->reason);
out:
	ret = finish(&o, ret, err);
	if (ret)
		memset(e, 0, sizeof(*e));
	return ret;
}

/* ---- registration ---- */

int proto_registration_encode(const struct proto_registration *r, char **json, size_t *len)
{
	char *secret;
	int ret;

	*json = NULL;
	if (!proto_volume_valid(r->volume, strnlen(r->volume, sizeof(r->volume))) ||
	    r->secret_len < PROTO_SECRET_MIN || r->secret_len > PROTO_SECRET_MAX)
		return -EINVAL;
	secret = proto_b64_encode(r->secret, r->secret_len);
	if (!secret)
		return -ENOMEM;
	ret = json_format(json, len, "{\"version\":%d,\"volume\":\"%s\",\"secret\":\"%s\"}",
			  PROTO_VERSION, r->volume, secret);
	mbedtls_platform_zeroize(secret, strlen(secret));
	free(secret);
	return ret;
}

int proto_registration_decode(const char *json, size_t len, struct proto_registration *r,
			      struct snp_err *err)
{
	struct json_object o;
	int ret;

	mbedtls_platform_zeroize(r, sizeof(*r));
	ret = parse_head(json, len, &o, r->volume, err);
	if (ret)
		goto out_wipe;
	ret = take_b64(&o, "secret", r->secret, PROTO_SECRET_MIN, PROTO_SECRET_MAX,
		       &r->secret_len, err);
	ret = finish(&o, ret, err);
out_wipe:
	if (ret)
		mbedtls_platform_zeroize(r, sizeof(*r));
	return ret;
}
