// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A strict parser for the protocol's flat JSON objects. General parsers
 * keep the last of repeated members and accept what this protocol never
 * sends (nesting, literals, fractions, huge numbers); here every such
 * input is an error that names the member or the byte offset. It makes one
 * pass with no recursion, and never reads past len.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "proto/internal.h"

struct cursor {
	const char *in;
	size_t len;
	size_t pos;
};

static bool at_end(const struct cursor *c)
{
	return c->pos >= c->len;
}

static char peek(const struct cursor *c)
{
	return at_end(c) ? '\0' : c->in[c->pos];
}

static void skip_ws(struct cursor *c)
{
	while (!at_end(c) && (peek(c) == ' ' || peek(c) == '\t' || peek(c) == '\n' ||
			      peek(c) == '\r'))
		c->pos++;
}

static int expect(struct cursor *c, char want, const char *where, struct snp_err *err)
{
	skip_ws(c);
	if (at_end(c))
		return snp_errf(err, -EBADMSG, "JSON ends at byte %zu where '%c' %s was expected",
				c->pos, want, where);
	if (peek(c) != want)
		return snp_errf(err, -EBADMSG, "JSON has byte 0x%02x at %zu where '%c' %s was expected",
				(uint8_t)peek(c), c->pos, want, where);
	c->pos++;
	return 0;
}

static int hex4(const struct cursor *c, unsigned int *v)
{
	*v = 0;
	if (c->len - c->pos < 4)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		char h = c->in[c->pos + i];
		unsigned int d;

		if (h >= '0' && h <= '9')
			d = (unsigned int)(h - '0');
		else if (h >= 'a' && h <= 'f')
			d = (unsigned int)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			d = (unsigned int)(h - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* One escape after the backslash; ASCII only, and never NUL. */
static int unescape(struct cursor *c, char *out, struct snp_err *err)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	unsigned int v;

	if (at_end(c))
		return snp_errf(err, -EBADMSG, "JSON ends inside an escape at byte %zu", c->pos);
	hit = peek(c) ? strchr(from, peek(c)) : NULL;
	if (hit) {
		*out = to[hit - from];
		c->pos++;
		return 0;
	}
	if (peek(c) != 'u')
		return snp_errf(err, -EBADMSG, "JSON has an unknown escape at byte %zu", c->pos);
	c->pos++;
	if (hex4(c, &v))
		return snp_errf(err, -EBADMSG, "JSON has a \\u escape without 4 hex digits at byte %zu",
				c->pos);
	if (v == 0 || v > 0x7f)
		return snp_errf(err, -EBADMSG,
				"JSON has \\u%04x at byte %zu: only escapes of ASCII other than NUL are accepted",
				v, c->pos);
	*out = (char)v;
	c->pos += 4;
	return 0;
}

/* The length of the well-formed UTF-8 sequence at c (lead byte >= 0x80), or 0. */
static size_t utf8_len(const struct cursor *c)
{
	const uint8_t *p = (const uint8_t *)c->in + c->pos;
	size_t left = c->len - c->pos, n;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * The string at c (after its opening quote) into out, at most cap bytes
 * before the NUL that ends it. what names it for messages.
 */
static int parse_string(struct cursor *c, char *out, size_t cap, size_t *out_len,
			const char *what, struct snp_err *err)
{
	size_t n = 0;
	int ret;

	while (!at_end(c) && peek(c) != '"') {
		uint8_t b = (uint8_t)peek(c);
		size_t seq = 1;

		if (n >= cap)
			return snp_errf(err, -EBADMSG, "%s is longer than %zu bytes", what, cap);
		if (b < 0x20)
			return snp_errf(err, -EBADMSG,
					"%s holds the control byte 0x%02x at byte %zu", what, b, c->pos);
		if (b == '\\') {
			c->pos++;
			ret = unescape(c, out + n, err);
			if (ret)
				return ret;
			n++;
			continue;
		}
		if (b >= 0x80) {
			seq = utf8_len(c);
			if (!seq)
				return snp_errf(err, -EBADMSG, "%s is not UTF-8 at byte %zu", what,
						c->pos);
			if (seq > cap - n)
				return snp_errf(err, -EBADMSG, "%s is longer than %zu bytes", what,
						cap);
		}
		memcpy(out + n, c->in + c->pos, seq);
		n += seq;
		c->pos += seq;
	}
	if (at_end(c))
		return snp_errf(err, -EBADMSG, "JSON ends inside %s", what);
	c->pos++;
	out[n] = '\0';
	*out_len = n;
	return 0;
}

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

static int parse_name(struct cursor *c, struct json_object *o, struct json_member *m,
		      struct snp_err *err)
{
	size_t len;
	int ret = expect(c, '"', "(a member name)", err);

	if (ret)
		return ret;
	ret = parse_string(c, m->name, JSON_NAME_MAX, &len, "a member name", err);
	if (ret)
		return ret;
	if (!len)
		return snp_errf(err, -EBADMSG, "a member name is empty");
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(m->name[i]))
			return snp_errf(err, -EBADMSG,
					"a member name holds a character other than letters, digits, '_' and '-'");
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->m[i].name, m->name))
			return snp_errf(err, -EBADMSG, "member \"%s\" is repeated", m->name);
	return 0;
}

static int parse_number(struct cursor *c, struct json_member *m, struct snp_err *err)
{
	size_t start = c->pos, digits;
	uint32_t v = 0;

	while (!at_end(c) && peek(c) >= '0' && peek(c) <= '9') {
		if (c->pos - start >= JSON_NUMBER_DIGITS_MAX)
			return snp_errf(err, -EBADMSG, "member \"%s\" is a number of more than %d digits",
					m->name, JSON_NUMBER_DIGITS_MAX);
		v = v * 10 + (uint32_t)(peek(c) - '0');
		c->pos++;
	}
	digits = c->pos - start;
	if (digits > 1 && c->in[start] == '0')
		return snp_errf(err, -EBADMSG, "member \"%s\" is a number with a leading zero",
				m->name);
	if (peek(c) == '.' || peek(c) == 'e' || peek(c) == 'E')
		return snp_errf(err, -EBADMSG, "member \"%s\" is not an integer", m->name);
	m->kind = JSON_NUMBER;
	m->num = v;
	return 0;
}

static int parse_value(struct cursor *c, struct json_object *o, struct json_member *m,
		       size_t *strings_used, struct snp_err *err)
{
	char first, what[JSON_NAME_MAX + 16];
	int ret;

	skip_ws(c);
	first = peek(c);
	if (first == '"') {
		c->pos++;
		m->kind = JSON_STRING;
		m->str = o->strings + *strings_used;
		snprintf(what, sizeof(what), "member \"%s\"", m->name);
		ret = parse_string(c, o->strings + *strings_used,
				   o->strings_size - *strings_used - 1, &m->str_len, what, err);
		if (!ret)
			*strings_used += m->str_len + 1;
		return ret;
	}
	if (first >= '0' && first <= '9')
		return parse_number(c, m, err);
	if (first == '{' || first == '[')
		return snp_errf(err, -EBADMSG, "member \"%s\" is nested: only flat objects are accepted",
				m->name);
	if (first == '-')
		return snp_errf(err, -EBADMSG, "member \"%s\" is a negative number", m->name);
	if (first == 't' || first == 'f' || first == 'n')
		return snp_errf(err, -EBADMSG,
				"member \"%s\" is true, false or null: only strings and numbers are accepted",
				m->name);
	if (at_end(c))
		return snp_errf(err, -EBADMSG, "JSON ends before the value of member \"%s\"", m->name);
	return snp_errf(err, -EBADMSG, "member \"%s\" has no valid value at byte %zu", m->name,
			c->pos);
}

static int parse_members(struct cursor *c, struct json_object *o, struct snp_err *err)
{
	size_t strings_used = 0;
	int ret;

	skip_ws(c);
	if (peek(c) == '}') {
		c->pos++;
		return 0;
	}
	for (;;) {
		struct json_member *m = &o->m[o->n];

		if (o->n == JSON_MEMBERS_MAX)
			return snp_errf(err, -EBADMSG, "the object has more than %d members",
					JSON_MEMBERS_MAX);
		ret = parse_name(c, o, m, err);
		if (!ret)
			ret = expect(c, ':', "after a member name", err);
		if (!ret)
			ret = parse_value(c, o, m, &strings_used, err);
		if (ret)
			return ret;
		o->n++;
		skip_ws(c);
		if (peek(c) == '}') {
			c->pos++;
			return 0;
		}
		ret = expect(c, ',', "or '}' after a member", err);
		if (ret)
			return ret;
	}
}

int json_parse_flat(const char *in, size_t len, struct json_object *o, struct snp_err *err)
{
	struct cursor c = { in, len, 0 };
	int ret;

	memset(o, 0, sizeof(*o));
	/* Decoded strings are never longer than the text, NULs included. */
	o->strings_size = len + 1;
	o->strings = malloc(o->strings_size);
	if (!o->strings)
		return snp_errf(err, -ENOMEM, "out of memory for a %zu-byte JSON text", len);
	ret = expect(&c, '{', "(an object)", err);
	if (!ret)
		ret = parse_members(&c, o, err);
	if (ret)
		goto out;
	skip_ws(&c);
	if (!at_end(&c))
		ret = snp_errf(err, -EBADMSG, "JSON has %zu bytes after the object, at byte %zu",
			       len - c.pos, c.pos);
out:
	if (ret)
		json_object_free(o);
	return ret;
}

void json_object_free(struct json_object *o)
{
	if (o->strings)
		mbedtls_platform_zeroize(o->strings, o->strings_size);
	free(o->strings);
	mbedtls_platform_zeroize(o, sizeof(*o));
}

static const char *kind_name(enum json_kind kind)
{
	return kind == JSON_STRING ? "a string" : "a number";
}

int json_take(struct json_object *o, const char *name, enum json_kind kind, bool required,
	      const struct json_member **m, struct snp_err *err)
{
	for (size_t i = 0; i < o->n; i++) {
		if (strcmp(o->m[i].name, name))
			continue;
		o->m[i].taken = true;
		if (o->m[i].kind != kind)
			return snp_errf(err, -EBADMSG, "member \"%s\" is %s, not %s", name,
					kind_name(o->m[i].kind), kind_name(kind));
		*m = &o->m[i];
		return 0;
	}
	if (required)
		return snp_errf(err, -EBADMSG, "member \"%s\" is missing", name);
	return -ENOENT;
}

int json_refuse_untaken(const struct json_object *o, struct snp_err *err)
{
	for (size_t i = 0; i < o->n; i++)
		if (!o->m[i].taken)
			return snp_errf(err, -EBADMSG, "member \"%s\" is unknown", o->m[i].name);
	return 0;
}

int json_format(char **json, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	*json = NULL;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	*json = malloc((size_t)n + 1);
	if (!*json)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(*json, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len = (size_t)n;
	return 0;
}
