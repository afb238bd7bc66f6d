/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_PROTO_INTERNAL_H
#define SNP_PROTO_INTERNAL_H

/*
 * Inside proto/ only: the length-prefixed byte strings that REPORT_DATA,
 * the KDF info and the AAD are made of, and the strict parser of flat
 * JSON objects that every message decoder runs first.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

/*
 * label || 0x00 || be16(len) || bytes || ... of docs/protocol.md. The
 * largest (REPORT_DATA's input) is under 200 bytes; an overflow is
 * remembered and reported by proto_lv_ok instead of writing past buf.
 */
#define PROTO_LV_MAX	256
struct proto_lv {
	uint8_t buf[PROTO_LV_MAX];
	size_t len;
	bool overflow;
};
void proto_lv_init(struct proto_lv *lv, const char *label);
void proto_lv_add(struct proto_lv *lv, const void *data, size_t len);
static inline bool proto_lv_ok(const struct proto_lv *lv)
{
	return !lv->overflow;
}

/*
 * A flat JSON object: string and non-negative integer members only, at
 * most JSON_MEMBERS_MAX of them, none repeated, names of letters, digits,
 * '_' and '-'. String values are decoded into one buffer that
 * json_object_free wipes (a registration file's secret passes through it).
 */
#define JSON_MEMBERS_MAX	8
#define JSON_NAME_MAX		32
#define JSON_NUMBER_DIGITS_MAX	9	/* below 10^9, so it fits a uint32_t */

enum json_kind { JSON_STRING, JSON_NUMBER };

struct json_member {
	char name[JSON_NAME_MAX + 1];
	enum json_kind kind;
	const char *str;	/* NUL-terminated, inside json_object.strings */
	size_t str_len;
	uint32_t num;
	bool taken;		/* a decoder has looked at it */
};

struct json_object {
	struct json_member m[JSON_MEMBERS_MAX];
	size_t n;
	char *strings;
	size_t strings_size;
};

/* -EBADMSG with a sentence for anything but one flat object (and whitespace). */
int json_parse_flat(const char *in, size_t len, struct json_object *o, struct snp_err *err);
void json_object_free(struct json_object *o);

/*
 * Take member name of the given kind: 0, -ENOENT when it is absent and not
 * required, -EBADMSG (with err) when absent and required or of another kind.
 */
int json_take(struct json_object *o, const char *name, enum json_kind kind, bool required,
	      const struct json_member **m, struct snp_err *err);
/* -EBADMSG naming the first member no decoder took. */
int json_refuse_untaken(const struct json_object *o, struct snp_err *err);

/* malloc'd text of printf format: one allocation, no copies left behind. */
int json_format(char **json, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
