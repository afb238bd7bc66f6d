// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The snp-unseal LUKS2 token (luks/token.h): read strictly with json-c,
 * the parser libcryptsetup itself stores tokens with, and written back in
 * one canonical shape. A header is attacker-writable storage until a
 * keyslot opens, so every member is known, typed, bounded and given once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "luks/token.h"
#include "tls/http.h"

/* Far above any token (LUKS_TOKEN_JSON_MAX): the bound on what is parsed at all. */
#define TOKEN_JSON_READ_MAX	(64 * 1024)
/* More members than a token has (9): beyond, they are unknown or repeated. */
#define TOKEN_MEMBERS_SCAN_MAX	16
#define KEYSLOT_MAX		31
/* How much of a refused value a message shows. */
#define SHOWN_MAX		48
#define PIN_PREFIX		"sha256:"

/* ---- Messages ------------------------------------------------------------ */

/* Up to SHOWN_MAX bytes of s, non-printables as '?', "..." when cut. */
static const char *shown(char out[SHOWN_MAX + 4], const char *s, size_t len)
{
	return snp_shown(out, SHOWN_MAX, s, len);
}

/* A JSON value as its text, for a message. */
static const char *shown_json(char out[SHOWN_MAX + 4], json_object *v)
{
	const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);

	return shown(out, text ? text : "?", text ? strlen(text) : 1);
}

static int member_errf(struct snp_err *err, const char *member, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * -EINVAL naming the member. The reason may quote other modules' messages,
 * which quote the value whole: anything unprintable becomes '?' here.
 */
static int member_errf(struct snp_err *err, const char *member, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snp_printable(why);
	return snp_errf(err, -EINVAL, "token member \"%s\": %s", member, why);
}

/* ---- Validation (shared by parsing and writing) --------------------------- */

static bool keyslot_valid(int keyslot)
{
	return keyslot >= 0 && keyslot <= KEYSLOT_MAX;
}

static int validate_keyslots(const struct luks_token *t, struct snp_err *err)
{
	if (t->keyslot != -1 && !keyslot_valid(t->keyslot))
		return member_errf(err, "keyslots", "keyslot %d is not 0 to %d", t->keyslot,
				   KEYSLOT_MAX);
	if (t->pending_keyslot != -1 && !keyslot_valid(t->pending_keyslot))
		return member_errf(err, "pending_keyslot", "%d is not 0 to %d",
				   t->pending_keyslot, KEYSLOT_MAX);
	if (t->keyslot == -1 && t->pending_keyslot == -1)
		return member_errf(err, "keyslots",
				   "is empty and there is no pending_keyslot: the token opens nothing");
	if (t->keyslot != -1 && t->pending_keyslot != -1)
		return member_errf(err, "pending_keyslot",
				   "is given with keyslot %d in keyslots; only a pending token (empty keyslots) has one",
				   t->keyslot);
	return 0;
}

static int validate_volume(const struct luks_token *t, struct snp_err *err)
{
	size_t len = strnlen(t->volume, sizeof(t->volume));
	char s[SHOWN_MAX + 4];

	if (!proto_volume_valid(t->volume, len))
		return member_errf(err, "volume",
				   "\"%s\" is not a lowercase UUID (36 characters, hyphens at 8, 13, 18 and 23)",
				   shown(s, t->volume, len));
	return 0;
}

/*
 * An https URL the agent can connect to. '"' and '\' are not URL
 * characters (RFC 3986); refusing them also keeps the written JSON free of
 * escapes in URLs, so within LUKS_TOKEN_JSON_MAX.
 */
int luks_token_check_url(const char *url, struct snp_err *err)
{
	size_t len = strnlen(url, LUKS_TOKEN_URL_MAX);
	struct http_url parsed;
	char s[SHOWN_MAX + 4];

	if (len == LUKS_TOKEN_URL_MAX)
		return snp_errf(err, -EINVAL, "\"%s\" is not %d bytes or shorter",
				shown(s, url, len), LUKS_TOKEN_URL_MAX - 1);
	if (strpbrk(url, "\"\\"))
		return snp_errf(err, -EINVAL, "\"%s\" holds a '\"' or '\\', which no URL does",
				shown(s, url, len));
	return http_url_parse(url, &parsed, err);
}

static int validate_brokers(const struct luks_token *t, struct snp_err *err)
{
	char s[SHOWN_MAX + 4];
	struct snp_err why;

	if (t->n_brokers < 1 || t->n_brokers > LUKS_TOKEN_BROKERS_MAX)
		return member_errf(err, "brokers", "holds %zu URLs, not 1 to %d", t->n_brokers,
				   LUKS_TOKEN_BROKERS_MAX);
	for (size_t i = 0; i < t->n_brokers; i++) {
		if (luks_token_check_url(t->brokers[i], &why))
			return member_errf(err, "brokers", "%s", why.msg);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->brokers[i], t->brokers[j]))
				return member_errf(err, "brokers", "\"%s\" is given twice",
						   shown(s, t->brokers[i], strlen(t->brokers[i])));
	}
	return 0;
}

/* What device-mapper takes as a name, printable so that logs show it as it is. */
int luks_token_check_name(const char *name, struct snp_err *err)
{
	size_t len = strnlen(name, LUKS_TOKEN_NAME_MAX);
	char s[SHOWN_MAX + 4];

	if (len == LUKS_TOKEN_NAME_MAX)
		return snp_errf(err, -EINVAL, "is not %d bytes or shorter", LUKS_TOKEN_NAME_MAX - 1);
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] >= 0x7f || name[i] == '/')
			return snp_errf(err, -EINVAL,
					"\"%s\" holds a '/' or a byte that is not printable ASCII",
					shown(s, name, len));
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return snp_errf(err, -EINVAL, "\"%s\" is not a device-mapper name", name);
	return 0;
}

static int validate_name(const struct luks_token *t, struct snp_err *err)
{
	struct snp_err why;

	if (luks_token_check_name(t->name, &why))
		return member_errf(err, "name", "%s", why.msg);
	return 0;
}

int luks_token_validate(const struct luks_token *t, struct snp_err *err)
{
	int ret = validate_keyslots(t, err);

	if (!ret)
		ret = validate_volume(t, err);
	if (!ret)
		ret = validate_brokers(t, err);
	if (!ret && (t->n_ca_pins < 1 || t->n_ca_pins > LUKS_TOKEN_CA_PINS_MAX))
		ret = member_errf(err, "ca_pins", "holds %zu pins, not 1 to %d", t->n_ca_pins,
				  LUKS_TOKEN_CA_PINS_MAX);
	if (!ret)
		ret = validate_name(t, err);
	return ret;
}

void luks_token_init(struct luks_token *t)
{
	memset(t, 0, sizeof(*t));
	t->keyslot = -1;
	t->pending_keyslot = -1;
}

void luks_default_name(const char *header_uuid, char name[LUKS_TOKEN_NAME_MAX])
{
	snprintf(name, LUKS_TOKEN_NAME_MAX, "luks-%s", header_uuid);
}

/* ---- Writing ------------------------------------------------------------- */

/* Appends to a fixed buffer; an overflow is remembered, not written. */
struct writer {
	char buf[LUKS_TOKEN_JSON_MAX];
	size_t len;
	bool overflow;
};

static void put(struct writer *w, const char *s)
{
	size_t n = strlen(s);

	if (w->overflow || n >= sizeof(w->buf) - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n + 1);
	w->len += n;
}

/* A JSON string of validated text: printable ASCII, so only '"' and '\' escape. */
static void put_string(struct writer *w, const char *s)
{
	char one[2] = { 0 };

	put(w, "\"");
	for (; *s; s++) {
		one[0] = *s;
		put(w, *s == '"' || *s == '\\' ? "\\" : "");
		put(w, one);
	}
	put(w, "\"");
}

static void put_pin(struct writer *w, const uint8_t pin[TLS_PIN_SIZE])
{
	char hex[2 * TLS_PIN_SIZE + 1];

	put(w, "\"" PIN_PREFIX);
	put(w, snp_hex(hex, pin, TLS_PIN_SIZE));
	put(w, "\"");
}

static void put_int(struct writer *w, int v)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", v);
	put(w, num);
}

static void put_token(struct writer *w, const struct luks_token *t)
{
	put(w, "{\"type\":\"" LUKS_TOKEN_TYPE "\",\"keyslots\":[");
	if (t->keyslot != -1) {
		put(w, "\"");
		put_int(w, t->keyslot);
		put(w, "\"");
	}
	put(w, "],\"snp_unseal_version\":");
	put_int(w, LUKS_TOKEN_VERSION);
	if (t->pending_keyslot != -1) {
		put(w, ",\"pending_keyslot\":");
		put_int(w, t->pending_keyslot);
	}
	put(w, ",\"volume\":");
	put_string(w, t->volume);
	put(w, ",\"brokers\":[");
	for (size_t i = 0; i < t->n_brokers; i++) {
		put(w, i ? "," : "");
		put_string(w, t->brokers[i]);
	}
	put(w, "],\"ca_pins\":[");
	for (size_t i = 0; i < t->n_ca_pins; i++) {
		put(w, i ? "," : "");
		put_pin(w, t->ca_pins[i]);
	}
	put(w, "]");
	if (t->has_server_pin) {
		put(w, ",\"server_pin\":");
		put_pin(w, t->server_pin);
	}
	if (t->name[0]) {
		put(w, ",\"name\":");
		put_string(w, t->name);
	}
	put(w, "}");
}

int luks_token_to_json(const struct luks_token *t, char **json, struct snp_err *err)
{
	struct writer *w;
	int ret;

	*json = NULL;
	ret = luks_token_validate(t, err);
	if (ret)
		return ret;
	w = calloc(1, sizeof(*w));
	if (!w)
		return snp_errf(err, -ENOMEM, "out of memory writing the token");
	put_token(w, t);
	if (w->overflow)
		ret = snp_errf(err, -E2BIG, "the token's JSON would be over %d bytes",
			       LUKS_TOKEN_JSON_MAX - 1);
	else if (!(*json = strdup(w->buf)))
		ret = snp_errf(err, -ENOMEM, "out of memory writing the token");
	free(w);
	return ret;
}

/* ---- Parsing ------------------------------------------------------------- */

static int want_type(json_object *v, json_type type, const char *member, const char *what,
		     struct snp_err *err)
{
	char s[SHOWN_MAX + 4];

	if (!json_object_is_type(v, type))
		return member_errf(err, member, "%s is not %s", shown_json(s, v), what);
	return 0;
}

/* A string of no NUL and fewer than size bytes, copied into out. */
static int get_string(json_object *v, const char *member, char *out, size_t size,
		      struct snp_err *err)
{
	const char *s;
	size_t len;
	char sh[SHOWN_MAX + 4];

	if (want_type(v, json_type_string, member, "a string", err))
		return -EINVAL;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len)
		return member_errf(err, member, "\"%s\" holds a NUL byte", shown(sh, s, len));
	if (len >= size)
		return member_errf(err, member, "\"%s\" is %zu bytes, more than %zu",
				   shown(sh, s, len), len, size - 1);
	memcpy(out, s, len + 1);
	return 0;
}

/* A string array of 1..max entries (0..max when may_be_empty). */
static int get_array(json_object *v, const char *member, size_t max, bool may_be_empty,
		     size_t *n, struct snp_err *err)
{
	if (want_type(v, json_type_array, member, "an array", err))
		return -EINVAL;
	*n = json_object_array_length(v);
	if (*n > max || (*n == 0 && !may_be_empty))
		return member_errf(err, member, "has %zu entries, not %s%zu", *n,
				   may_be_empty ? "0 to " : "1 to ", max);
	return 0;
}

static int get_int(json_object *v, const char *member, int64_t min, int64_t max, int *out,
		   struct snp_err *err)
{
	int64_t n;
	char s[SHOWN_MAX + 4];

	if (want_type(v, json_type_int, member, "an integer", err))
		return -EINVAL;
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return member_errf(err, member, "%s is not %lld to %lld", shown_json(s, v),
				   (long long)min, (long long)max);
	*out = (int)n;
	return 0;
}

static int m_type(struct luks_token *t, json_object *v, struct snp_err *err)
{
	(void)t, (void)v, (void)err;	/* checked first, by check_type */
	return 0;
}

/* libcryptsetup's form: a decimal string, "0" to "31", no sign or leading zero. */
static int m_keyslots(struct luks_token *t, json_object *v, struct snp_err *err)
{
	char slot[4], s[SHOWN_MAX + 4];
	size_t n;
	int ret;

	ret = get_array(v, "keyslots", 1, true, &n, err);
	if (ret || !n)
		return ret;
	ret = get_string(json_object_array_get_idx(v, 0), "keyslots", slot, sizeof(slot), err);
	if (ret)
		return ret;
	if (slot[0] < '0' || slot[0] > '9' || (slot[1] && (slot[0] == '0' || slot[1] < '0' ||
							    slot[1] > '9' || slot[2])) ||
	    atoi(slot) > KEYSLOT_MAX)
		return member_errf(err, "keyslots", "\"%s\" is not a keyslot number, \"0\" to \"%d\"",
				   shown(s, slot, strlen(slot)), KEYSLOT_MAX);
	t->keyslot = atoi(slot);
	return 0;
}

static int m_version(struct luks_token *t, json_object *v, struct snp_err *err)
{
	char s[SHOWN_MAX + 4];

	(void)t;
	if (want_type(v, json_type_int, "snp_unseal_version", "an integer", err))
		return -EINVAL;
	if (json_object_get_int64(v) != LUKS_TOKEN_VERSION)
		return member_errf(err, "snp_unseal_version",
				   "%s is not %d, the only version this snp-unseal reads",
				   shown_json(s, v), LUKS_TOKEN_VERSION);
	return 0;
}

static int m_pending_keyslot(struct luks_token *t, json_object *v, struct snp_err *err)
{
	return get_int(v, "pending_keyslot", 0, KEYSLOT_MAX, &t->pending_keyslot, err);
}

static int m_volume(struct luks_token *t, json_object *v, struct snp_err *err)
{
	return get_string(v, "volume", t->volume, sizeof(t->volume), err);
}

static int m_brokers(struct luks_token *t, json_object *v, struct snp_err *err)
{
	int ret = get_array(v, "brokers", LUKS_TOKEN_BROKERS_MAX, false, &t->n_brokers, err);

	for (size_t i = 0; !ret && i < t->n_brokers; i++)
		ret = get_string(json_object_array_get_idx(v, i), "brokers", t->brokers[i],
				 sizeof(t->brokers[i]), err);
	return ret;
}

/* "sha256:<64 hex>", as tls_pin_parse reads pins everywhere else. */
static int get_pin(json_object *v, const char *member, uint8_t pin[TLS_PIN_SIZE],
		   struct snp_err *err)
{
	char text[sizeof(PIN_PREFIX) + 2 * TLS_PIN_SIZE];
	struct snp_err why;
	int ret = get_string(v, member, text, sizeof(text), err);

	if (!ret && tls_pin_parse(text, pin, &why))
		ret = member_errf(err, member, "%s", why.msg);
	return ret;
}

static int m_ca_pins(struct luks_token *t, json_object *v, struct snp_err *err)
{
	int ret = get_array(v, "ca_pins", LUKS_TOKEN_CA_PINS_MAX, false, &t->n_ca_pins, err);

	for (size_t i = 0; !ret && i < t->n_ca_pins; i++)
		ret = get_pin(json_object_array_get_idx(v, i), "ca_pins", t->ca_pins[i], err);
	return ret;
}

static int m_server_pin(struct luks_token *t, json_object *v, struct snp_err *err)
{
	int ret = get_pin(v, "server_pin", t->server_pin, err);

	t->has_server_pin = !ret;
	return ret;
}

static int m_name(struct luks_token *t, json_object *v, struct snp_err *err)
{
	int ret = get_string(v, "name", t->name, sizeof(t->name), err);

	if (!ret && !t->name[0])
		ret = member_errf(err, "name", "is empty (leave it out for the default name)");
	return ret;
}

static const struct member {
	const char *name;
	int (*parse)(struct luks_token *t, json_object *v, struct snp_err *err);
	bool required;
} members[] = {
	{ "type", m_type, true },
	{ "keyslots", m_keyslots, true },
	{ "snp_unseal_version", m_version, true },
	{ "pending_keyslot", m_pending_keyslot, false },
	{ "volume", m_volume, true },
	{ "brokers", m_brokers, true },
	{ "ca_pins", m_ca_pins, true },
	{ "server_pin", m_server_pin, false },
	{ "name", m_name, false },
};

#define N_MEMBERS (sizeof(members) / sizeof(members[0]))

static int parse_members(struct luks_token *t, json_object *root, struct snp_err *err)
{
	bool seen[N_MEMBERS] = { false };
	char s[SHOWN_MAX + 4];
	size_t i;
	int ret;

	json_object_object_foreach(root, key, val) {
		for (i = 0; i < N_MEMBERS && strcmp(members[i].name, key); i++)
			;
		if (i == N_MEMBERS)
			return snp_errf(err, -EINVAL, "token member \"%s\" is unknown",
					shown(s, key, strlen(key)));
		ret = members[i].parse(t, val, err);
		if (ret)
			return ret;
		seen[i] = true;
	}
	for (i = 0; i < N_MEMBERS; i++)
		if (members[i].required && !seen[i])
			return snp_errf(err, -EINVAL, "token member \"%s\" is missing",
					members[i].name);
	return 0;
}

/* Someone else's token (systemd-tpm2, ...) is not an error of its own kind. */
static int check_type(json_object *root, struct snp_err *err)
{
	json_object *v;
	char s[SHOWN_MAX + 4];

	if (!json_object_object_get_ex(root, "type", &v))
		return snp_errf(err, -EINVAL, "token member \"type\" is missing");
	if (want_type(v, json_type_string, "type", "a string", err))
		return -EINVAL;
	if (strcmp(json_object_get_string(v), LUKS_TOKEN_TYPE) ||
	    (size_t)json_object_get_string_len(v) != strlen(LUKS_TOKEN_TYPE))
		return snp_errf(err, -EMEDIUMTYPE, "the token's type is \"%s\", not " LUKS_TOKEN_TYPE,
				shown(s, json_object_get_string(v),
				      (size_t)json_object_get_string_len(v)));
	return 0;
}

/* The index of the closing quote of the string whose contents start at i (or len). */
static size_t string_end(const char *json, size_t len, size_t i)
{
	while (i < len && json[i] != '"')
		i += json[i] == '\\' ? 2 : 1;
	return i < len ? i : len;
}

static size_t skip_space(const char *json, size_t len, size_t i)
{
	while (i < len && strchr(" \t\n\r", json[i]) && json[i])
		i++;
	return i;
}

/* Where a member name is in the text. */
struct span {
	size_t off, len;
};

/*
 * Add the root's member name at [off, off + len) to the n names before it:
 * a name must be new and spelt without escapes, which could hide a repeat.
 */
static int add_name(const char *json, struct span names[TOKEN_MEMBERS_SCAN_MAX], size_t *n,
		    size_t off, size_t len, struct snp_err *err)
{
	const char *name = json + off;
	char s[SHOWN_MAX + 4];

	if (*n == TOKEN_MEMBERS_SCAN_MAX)
		return snp_errf(err, -EINVAL, "the token has more than %d members",
				TOKEN_MEMBERS_SCAN_MAX);
	if (memchr(name, '\\', len))
		return snp_errf(err, -EINVAL, "token member \"%s\" is written with escapes",
				shown(s, name, len));
	for (size_t k = 0; k < *n; k++)
		if (names[k].len == len && !memcmp(json + names[k].off, name, len))
			return snp_errf(err, -EINVAL, "token member \"%s\" is given twice",
					shown(s, name, len));
	names[(*n)++] = (struct span){ off, len };
	return 0;
}

/*
 * json-c keeps the last of repeated members without a word: a header with
 * two "brokers" would show one list to us and another to other readers.
 * This runs over text json-c accepted (strict, one object), so it need
 * only follow strings and nesting: a string at depth 1 before ':' is one
 * of the root's member names.
 */
static int check_repeats(const char *json, size_t len, struct snp_err *err)
{
	struct span names[TOKEN_MEMBERS_SCAN_MAX];
	size_t n = 0, depth = 0, end, after;

	for (size_t i = 0; i < len; i++) {
		if (json[i] == '{' || json[i] == '[') {
			depth++;
		} else if (json[i] == '}' || json[i] == ']') {
			depth--;
		} else if (json[i] == '"') {
			end = string_end(json, len, i + 1);
			after = skip_space(json, len, end + 1);
			if (depth == 1 && after < len && json[after] == ':' &&
			    add_name(json, names, &n, i + 1, end - i - 1, err))
				return -EINVAL;
			i = end;
		}
	}
	return 0;
}

/* One JSON object and nothing else but whitespace, or -EINVAL. */
static int parse_object(const char *json, size_t len, json_object **root, struct snp_err *err)
{
	json_tokener *tok;
	enum json_tokener_error jerr;
	size_t end;

	*root = NULL;
	if (len > TOKEN_JSON_READ_MAX)
		return snp_errf(err, -EINVAL, "the token's JSON is %zu bytes, more than %d", len,
				TOKEN_JSON_READ_MAX);
	if (memchr(json, '\0', len))
		return snp_errf(err, -EINVAL, "the token's JSON holds a NUL byte at %zu",
				(size_t)((const char *)memchr(json, '\0', len) - json));
	tok = json_tokener_new();
	if (!tok)
		return snp_errf(err, -ENOMEM, "out of memory reading the token");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!*root || jerr != json_tokener_success) {
		json_object_put(*root);
		*root = NULL;
		return snp_errf(err, -EINVAL, "the token is not JSON: %s at byte %zu",
				jerr == json_tokener_continue ? "it ends early" :
				json_tokener_error_desc(jerr), end);
	}
	if (skip_space(json, len, end) != len || !json_object_is_type(*root, json_type_object)) {
		json_object_put(*root);
		*root = NULL;
		return snp_errf(err, -EINVAL, "the token is not one JSON object");
	}
	return 0;
}

int luks_token_from_json(const char *json, size_t len, struct luks_token *t,
			 struct snp_err *err)
{
	json_object *root;
	int ret;

	luks_token_init(t);
	ret = parse_object(json, len, &root, err);
	if (ret)
		return ret;
	ret = check_type(root, err);
	if (!ret)
		ret = check_repeats(json, len, err);
	if (!ret)
		ret = parse_members(t, root, err);
	if (!ret)
		ret = luks_token_validate(t, err);
	json_object_put(root);
	if (ret)
		luks_token_init(t);
	return ret;
}
