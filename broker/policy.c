// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attestation policies: the owner's JSON, read strictly (every member
 * known, typed, sized, given once), written back canonically, and applied
 * to verified reports rule by rule in the order docs/protocol.md lists.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "broker/policy.h"
#include "snp/bytes.h"

/* A policy nests three deep (root, min_tcb, a product); json-c stops deeper input. */
#define JSON_DEPTH_MAX		8
/* More members than any object of a policy has: the rest are unknown or repeated. */
#define OBJECT_MEMBERS_MAX	64
#define MEMBER_PATH_MAX		160
#define VERSION_1		1

/* What a refusal names: the policy's name and the member being read. */
struct parse_ctx {
	const char *name;
	char path[MEMBER_PATH_MAX];
	struct snp_err *err;
};

static int member_errf(const struct parse_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int member_errf(const struct parse_ctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return snp_errf(c->err, -EINVAL, "%s: member %s: %s", c->name, c->path, why);
}

/*
 * Append ".name" (or "name" at the start) to path, at most 64 characters
 * of it, with anything but printable ASCII as '?': names come from the file.
 */
static void path_append(char *path, size_t size, const char *name, size_t len)
{
	size_t used = strlen(path);

	if (used && used + 1 < size)
		path[used++] = '.';
	for (size_t i = 0; i < len && i < 64 && used + 1 < size; i++)
		path[used++] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	path[used] = '\0';
}

/* ---- Repeated members ---------------------------------------------------- */

/*
 * json-c keeps the last of repeated members without a word, so a policy
 * with two "measurements" would silently lose the first list. This pass
 * runs over text json-c has accepted, so it only needs to follow strings,
 * nesting, and which strings are member names.
 */
struct scan_key {
	size_t off, len;
};

struct scan_level {
	bool is_object;
	size_t n_keys;
	struct scan_key keys[OBJECT_MEMBERS_MAX];
};

struct scan {
	const char *text;
	size_t len;
	struct scan_level level[JSON_DEPTH_MAX + 1];
	size_t depth;
	bool expect_key;
};

/* "min_tcb.Milan.snp": the member names leading to the innermost object. */
static void scan_path(const struct scan *s, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t d = 0; d < s->depth; d++) {
		const struct scan_level *l = &s->level[d];

		if (l->is_object && l->n_keys)
			path_append(out, size, s->text + l->keys[l->n_keys - 1].off,
				    l->keys[l->n_keys - 1].len);
	}
}

static int scan_key(struct scan *s, size_t off, size_t len, struct parse_ctx *c)
{
	struct scan_level *l = &s->level[s->depth - 1];

	if (l->n_keys == OBJECT_MEMBERS_MAX) {
		scan_path(s, c->path, sizeof(c->path));
		return member_errf(c, "more than %d members; a policy has fewer",
				   OBJECT_MEMBERS_MAX);
	}
	l->keys[l->n_keys++] = (struct scan_key){ off, len };
	scan_path(s, c->path, sizeof(c->path));
	if (memchr(s->text + off, '\\', len))
		return member_errf(c, "escapes in member names are not accepted");
	for (size_t i = 0; i + 1 < l->n_keys; i++)
		if (l->keys[i].len == len && !memcmp(s->text + l->keys[i].off, s->text + off, len))
			return member_errf(c, "given twice");
	return 0;
}

/* The index of the closing quote of the string opening at start. */
static size_t scan_string_end(const struct scan *s, size_t start)
{
	size_t i = start + 1;

	while (i < s->len && s->text[i] != '"')
		i += s->text[i] == '\\' ? 2 : 1;
	return i;
}

static int scan_char(struct scan *s, size_t *i, struct parse_ctx *c)
{
	char ch = s->text[*i];
	size_t end;

	switch (ch) {
	case '{':
	case '[':
		if (s->depth > JSON_DEPTH_MAX)
			return snp_errf(c->err, -EINVAL, "%s: nested deeper than %d", c->name,
					JSON_DEPTH_MAX);
		s->level[s->depth++] = (struct scan_level){ .is_object = ch == '{' };
		s->expect_key = ch == '{';
		return 0;
	case '}':
	case ']':
		s->depth -= s->depth > 0;
		s->expect_key = false;
		return 0;
	case ',':
		s->expect_key = s->depth && s->level[s->depth - 1].is_object;
		return 0;
	case '\'':
		return snp_errf(c->err, -EINVAL, "%s: single-quoted strings are not JSON", c->name);
	case '"':
		end = scan_string_end(s, *i);
		if (s->expect_key && s->depth) {
			int ret = scan_key(s, *i + 1, end - *i - 1, c);

			if (ret)
				return ret;
		}
		s->expect_key = false;
		*i = end;
		return 0;
	default:
		return 0;
	}
}

static int refuse_repeats(const char *text, size_t len, struct parse_ctx *c)
{
	struct scan *s = calloc(1, sizeof(*s));
	int ret = 0;

	if (!s)
		return snp_errf(c->err, -ENOMEM, "%s: out of memory", c->name);
	s->text = text;
	s->len = len;
	for (size_t i = 0; i < len && !ret; i++)
		ret = scan_char(s, &i, c);
	free(s);
	return ret;
}

/* ---- Member types -------------------------------------------------------- */

static int want_type(const struct parse_ctx *c, json_object *v, enum json_type type,
		     const char *what)
{
	if (json_object_is_type(v, type))
		return 0;
	return member_errf(c, "%s, not %s", what, json_type_to_name(json_object_get_type(v)));
}

static int get_uint(const struct parse_ctx *c, json_object *v, uint64_t max, uint64_t *out)
{
	int64_t n;

	if (want_type(c, v, json_type_int, "a whole number"))
		return -EINVAL;
	n = json_object_get_int64(v);
	if (n < 0 || (uint64_t)n > max)
		return member_errf(c, "%lld is outside 0 to %llu", (long long)n,
				   (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

/* A string without NUL bytes; *len gets its length. */
static int get_string(const struct parse_ctx *c, json_object *v, const char **s, size_t *len)
{
	if (want_type(c, v, json_type_string, "a string"))
		return -EINVAL;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (strlen(*s) != *len)
		return member_errf(c, "contains a NUL character");
	return 0;
}

/* Exactly 2*size hex digits, either case. */
static int get_hex(const struct parse_ctx *c, json_object *v, uint8_t *out, size_t size)
{
	const char *s;
	size_t len, got;

	if (get_string(c, v, &s, &len))
		return -EINVAL;
	if (len != 2 * size)
		return member_errf(c, "%zu characters; expected %zu hex digits", len, 2 * size);
	if (snp_unhex(s, out, size, &got))
		return member_errf(c, "'%.*s' is not hex", (int)(len > 16 ? 16 : len), s);
	return 0;
}

static int get_array(const struct parse_ctx *c, json_object *v, size_t max, size_t *n)
{
	if (want_type(c, v, json_type_array, "a list"))
		return -EINVAL;
	*n = json_object_array_length(v);
	if (*n > max)
		return member_errf(c, "%zu entries; at most %zu", *n, max);
	return 0;
}

/* "member[3]" while an entry is read, restored after. */
static size_t path_push_index(struct parse_ctx *c, size_t i)
{
	size_t base = strlen(c->path);

	snprintf(c->path + base, sizeof(c->path) - base, "[%zu]", i);
	return base;
}

static size_t path_push_name(struct parse_ctx *c, const char *name)
{
	size_t base = strlen(c->path);

	path_append(c->path, sizeof(c->path), name, strlen(name));
	return base;
}

/* ---- Members -------------------------------------------------------------- */

struct member;
typedef int (*member_parse_fn)(struct policy *p, const struct member *m, json_object *v,
			       struct parse_ctx *c);
typedef json_object *(*member_write_fn)(const struct policy *p, const struct member *m);

/* A bit-set member's entries: a bit's name (NULL for none) and back. */
typedef const char *(*bit_name_fn)(unsigned int bit);
typedef int (*bit_of_fn)(const char *name, size_t len);

enum member_flags {
	MEMBER_NULLABLE = 1 << 0,	/* null means "not set" */
	MEMBER_NONEMPTY = 1 << 1,	/* an empty list would refuse every report */
	MEMBER_NONZERO = 1 << 2,	/* an all-zero entry means nothing */
};

/*
 * A member: how it is read and written, and where it lives in struct
 * policy (off; for lists also the count at count_off and the entry size;
 * for optional values the flag at count_off). Bit sets list names
 * (bit_name, bit_of) or numbers (bits_allowed); what says which.
 */
struct member {
	const char *name;
	member_parse_fn parse;
	member_write_fn write;
	size_t off, count_off, size;
	unsigned int flags;
	bit_name_fn bit_name;
	bit_of_fn bit_of;
	uint64_t bits_allowed;
	const char *what;
};

#define FIELD(f) offsetof(struct policy, f)
#define FIELD_SIZE(f) sizeof(((struct policy *)0)->f)

static void *field(struct policy *p, size_t off)
{
	return (uint8_t *)p + off;
}

static const void *cfield(const struct policy *p, size_t off)
{
	return (const uint8_t *)p + off;
}

static int m_version(struct policy *p, const struct member *m, json_object *v,
		     struct parse_ctx *c)
{
	uint64_t n;

	(void)p;
	(void)m;
	if (get_uint(c, v, UINT32_MAX, &n))
		return -EINVAL;
	if (n != VERSION_1)
		return member_errf(c, "%llu is not a policy version this broker reads (1)",
				   (unsigned long long)n);
	return 0;
}

static json_object *w_version(const struct policy *p, const struct member *m)
{
	(void)p;
	(void)m;
	return json_object_new_int(VERSION_1);
}

static int m_bool(struct policy *p, const struct member *m, json_object *v, struct parse_ctx *c)
{
	if (want_type(c, v, json_type_boolean, "true or false"))
		return -EINVAL;
	*(bool *)field(p, m->off) = json_object_get_boolean(v);
	return 0;
}

static json_object *w_bool(const struct policy *p, const struct member *m)
{
	return json_object_new_boolean(*(const bool *)cfield(p, m->off));
}

static const char *const tristate_names[] = {
	[POLICY_ALLOW] = "allow", [POLICY_REQUIRE] = "require", [POLICY_FORBID] = "forbid",
};

static int m_tristate(struct policy *p, const struct member *m, json_object *v,
		      struct parse_ctx *c)
{
	const char *s;
	size_t len;

	if (get_string(c, v, &s, &len))
		return -EINVAL;
	for (int t = POLICY_ALLOW; t <= POLICY_FORBID; t++) {
		if (!strcmp(s, tristate_names[t])) {
			*(enum policy_tristate *)field(p, m->off) = (enum policy_tristate)t;
			return 0;
		}
	}
	return member_errf(c, "'%.32s' is none of allow, require, forbid", s);
}

static json_object *w_tristate(const struct policy *p, const struct member *m)
{
	return json_object_new_string(tristate_names[*(const enum policy_tristate *)
						     cfield(p, m->off)]);
}

static int m_uint32(struct policy *p, const struct member *m, json_object *v,
		    struct parse_ctx *c)
{
	uint64_t n;

	if (get_uint(c, v, UINT32_MAX, &n))
		return -EINVAL;
	*(uint32_t *)field(p, m->off) = (uint32_t)n;
	return 0;
}

static json_object *w_uint32(const struct policy *p, const struct member *m)
{
	return json_object_new_int64(*(const uint32_t *)cfield(p, m->off));
}

/* A list of hex values, each m->size bytes: a malloc'd array at m->off. */
static int m_hex_list(struct policy *p, const struct member *m, json_object *v,
		      struct parse_ctx *c)
{
	uint8_t *items = NULL;
	size_t n, base;
	int ret;

	ret = get_array(c, v, POLICY_LIST_MAX, &n);
	if (ret || !n)
		return ret;
	items = calloc(n, m->size);
	if (!items)
		return snp_errf(c->err, -ENOMEM, "%s: out of memory", c->name);
	for (size_t i = 0; i < n && !ret; i++) {
		uint8_t *item = items + i * m->size;

		base = path_push_index(c, i);
		ret = get_hex(c, json_object_array_get_idx(v, i), item, m->size);
		for (size_t j = 0; j < i && !ret; j++)
			if (!memcmp(items + j * m->size, item, m->size))
				ret = member_errf(c, "repeats entry %zu", j);
		/* What a masked chip key or a VLEK reports: it would admit them all. */
		if (!ret && (m->flags & MEMBER_NONZERO) && snp_all_zero(item, m->size))
			ret = member_errf(c, "all zero: that is what masked chip keys and VLEKs report, not a chip");
		c->path[base] = '\0';
	}
	if (ret) {
		free(items);
		return ret;
	}
	memcpy(field(p, m->off), &items, sizeof(items));
	*(size_t *)field(p, m->count_off) = n;
	return 0;
}

static json_object *w_hex_list(const struct policy *p, const struct member *m)
{
	const uint8_t *items;
	size_t n = *(const size_t *)cfield(p, m->count_off);
	json_object *a = json_object_new_array();
	char hex[2 * SNP_CHIP_ID_SIZE + 1];

	memcpy(&items, cfield(p, m->off), sizeof(items));
	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(snp_hex(hex, items + i * m->size,
									 m->size)));
	return a;
}

/* A fixed-size hex value at m->off, or null; the flag at m->count_off says which. */
static int m_hex_opt(struct policy *p, const struct member *m, json_object *v,
		     struct parse_ctx *c)
{
	bool *has = field(p, m->count_off);

	*has = !json_object_is_type(v, json_type_null);
	if (!*has)
		return 0;
	return get_hex(c, v, field(p, m->off), m->size);
}

static json_object *w_hex_opt(const struct policy *p, const struct member *m)
{
	char hex[2 * SNP_ID_SIZE + 1];

	if (!*(const bool *)cfield(p, m->count_off))
		return NULL;	/* json-c writes null */
	return json_object_new_string(snp_hex(hex, cfield(p, m->off), m->size));
}

static uint64_t get_bits(const struct policy *p, const struct member *m)
{
	uint32_t v32;
	uint64_t v64;

	if (m->size == sizeof(v32)) {
		memcpy(&v32, cfield(p, m->off), sizeof(v32));
		return v32;
	}
	memcpy(&v64, cfield(p, m->off), sizeof(v64));
	return v64;
}

static void set_bits(struct policy *p, const struct member *m, uint64_t bits)
{
	uint32_t v32 = (uint32_t)bits;

	if (m->size == sizeof(v32))
		memcpy(field(p, m->off), &v32, sizeof(v32));
	else
		memcpy(field(p, m->off), &bits, sizeof(bits));
}

/* One list entry: a number (no bit_of) or a name, as a bit index. */
static int bit_of_entry(const struct member *m, json_object *e, struct parse_ctx *c,
			unsigned int *bit)
{
	const char *s;
	uint64_t n;
	size_t len;
	int b;

	if (!m->bit_of) {
		if (get_uint(c, e, 63, &n))
			return -EINVAL;
		if (!(m->bits_allowed & (1ULL << n)))
			return member_errf(c, "%llu is not %s", (unsigned long long)n, m->what);
		*bit = (unsigned int)n;
		return 0;
	}
	if (get_string(c, e, &s, &len))
		return -EINVAL;
	b = m->bit_of(s, len);
	if (b < 0)
		return member_errf(c, "'%.32s' is not %s", s, m->what);
	*bit = (unsigned int)b;
	return 0;
}

/* A set of bits listed by number or name. */
static int m_bits(struct policy *p, const struct member *m, json_object *v, struct parse_ctx *c)
{
	uint64_t bits = 0;
	size_t n, base;
	int ret;

	ret = get_array(c, v, 64, &n);
	for (size_t i = 0; i < n && !ret; i++) {
		unsigned int bit = 0;

		base = path_push_index(c, i);
		ret = bit_of_entry(m, json_object_array_get_idx(v, i), c, &bit);
		if (!ret && (bits & (1ULL << bit)))
			ret = member_errf(c, "listed twice");
		bits |= 1ULL << bit;
		c->path[base] = '\0';
	}
	if (!ret && !n && (m->flags & MEMBER_NONEMPTY))
		ret = member_errf(c, "empty: no report would ever pass");
	if (!ret)
		set_bits(p, m, bits);
	return ret;
}

static json_object *w_bits(const struct policy *p, const struct member *m)
{
	uint64_t bits = get_bits(p, m);
	json_object *a = json_object_new_array();

	for (unsigned int b = 0; a && b < 64; b++) {
		if (!(bits & (1ULL << b)))
			continue;
		json_object_array_add(a, m->bit_name ? json_object_new_string(m->bit_name(b)) :
				      json_object_new_int((int)b));
	}
	return a;
}

static const char *product_bit_name(unsigned int bit)
{
	if (bit < SNP_PRODUCT_MILAN || bit > SNP_PRODUCT_TURIN)
		return NULL;
	return snp_product_name((enum snp_product)bit);
}

static int product_bit_of(const char *name, size_t len)
{
	enum snp_product product = snp_product_from_name(name, len);

	return product == SNP_PRODUCT_UNKNOWN ? -1 : (int)product;
}

/* PLATFORM_INFO bits: the policy's name and the report field's. */
static const struct {
	const char *name, *field;
} platform_bits[] = {
	{ "smt", "SMT_EN" },
	{ "tsme", "TSME_EN" },
	{ "ecc", "ECC_EN" },
	{ "rapl_dis", "RAPL_DIS" },
	{ "ciphertext_hiding", "CIPHERTEXT_HIDING_EN" },
	{ "alias_check_complete", "ALIAS_CHECK_COMPLETE" },
};

#define N_PLATFORM_BITS (sizeof(platform_bits) / sizeof(platform_bits[0]))

static const char *platform_bit_name(unsigned int bit)
{
	return bit < N_PLATFORM_BITS ? platform_bits[bit].name : NULL;
}

static int platform_bit_of(const char *name, size_t len)
{
	for (size_t b = 0; b < N_PLATFORM_BITS; b++)
		if (strlen(platform_bits[b].name) == len && !memcmp(platform_bits[b].name, name, len))
			return (int)b;
	return -1;
}

static int m_min_abi(struct policy *p, const struct member *m, json_object *v,
		     struct parse_ctx *c)
{
	unsigned int major, minor;
	const char *s;
	size_t len;
	int end = 0;

	(void)m;
	p->has_min_abi = !json_object_is_type(v, json_type_null);
	if (!p->has_min_abi)
		return 0;
	if (get_string(c, v, &s, &len))
		return -EINVAL;
	if (strspn(s, "0123456789.") != len || s[0] == '.' ||
	    sscanf(s, "%3u.%3u%n", &major, &minor, &end) != 2 || (size_t)end != len ||
	    major > 255 || minor > 255)
		return member_errf(c, "'%.32s' is not MAJOR.MINOR with each 0-255", s);
	p->min_abi_major = (uint8_t)major;
	p->min_abi_minor = (uint8_t)minor;
	return 0;
}

static json_object *w_min_abi(const struct policy *p, const struct member *m)
{
	char s[16];

	(void)m;
	if (!p->has_min_abi)
		return NULL;
	snprintf(s, sizeof(s), "%u.%u", p->min_abi_major, p->min_abi_minor);
	return json_object_new_string(s);
}

/* TCB components, in the order policy_to_json writes them. */
static const struct {
	const char *name;
	size_t off;
	bool turin_only;
} tcb_parts[] = {
	{ "bootloader", offsetof(struct policy_tcb_min, bootloader), false },
	{ "fmc", offsetof(struct policy_tcb_min, fmc), true },
	{ "microcode", offsetof(struct policy_tcb_min, microcode), false },
	{ "snp", offsetof(struct policy_tcb_min, snp), false },
	{ "tee", offsetof(struct policy_tcb_min, tee), false },
};

#define N_TCB_PARTS (sizeof(tcb_parts) / sizeof(tcb_parts[0]))

static int tcb_part_index(const char *name)
{
	for (size_t i = 0; i < N_TCB_PARTS; i++)
		if (!strcmp(tcb_parts[i].name, name))
			return (int)i;
	return -1;
}

static int parse_tcb_min(struct policy_tcb_min *t, enum snp_product product, json_object *v,
			 struct parse_ctx *c)
{
	bool seen[N_TCB_PARTS] = { false };
	uint64_t n;

	if (want_type(c, v, json_type_object, "an object of TCB components"))
		return -EINVAL;
	json_object_object_foreach(v, key, val) {
		int i = tcb_part_index(key);
		size_t base = path_push_name(c, key);

		if (i < 0)
			return member_errf(c, "unknown; a TCB has bootloader, tee, snp, microcode and (Turin) fmc");
		if (tcb_parts[i].turin_only && product != SNP_PRODUCT_TURIN)
			return member_errf(c, "only Turin's TCB has an FMC component");
		if (get_uint(c, val, 255, &n))
			return -EINVAL;
		*((uint8_t *)t + tcb_parts[i].off) = (uint8_t)n;
		seen[i] = true;
		c->path[base] = '\0';
	}
	for (size_t i = 0; i < N_TCB_PARTS; i++)
		if (!seen[i] && (!tcb_parts[i].turin_only || product == SNP_PRODUCT_TURIN))
			return member_errf(c, "missing the component %s", tcb_parts[i].name);
	t->set = true;
	return 0;
}

static int m_min_tcb(struct policy *p, const struct member *m, json_object *v,
		     struct parse_ctx *c)
{
	(void)m;
	if (want_type(c, v, json_type_object, "an object keyed by product name"))
		return -EINVAL;
	json_object_object_foreach(v, key, val) {
		enum snp_product product = snp_product_from_name(key, strlen(key));
		size_t base = path_push_name(c, key);
		int ret;

		if (product == SNP_PRODUCT_UNKNOWN)
			return member_errf(c, "not a product (Milan, Genoa or Turin)");
		if (p->min_tcb[product].set)
			return member_errf(c, "%s is given twice", snp_product_name(product));
		ret = parse_tcb_min(&p->min_tcb[product], product, val, c);
		if (ret)
			return ret;
		c->path[base] = '\0';
	}
	return 0;
}

static json_object *w_min_tcb(const struct policy *p, const struct member *m)
{
	static const enum snp_product sorted[] = {
		SNP_PRODUCT_GENOA, SNP_PRODUCT_MILAN, SNP_PRODUCT_TURIN,
	};
	json_object *o = json_object_new_object();

	(void)m;
	for (size_t i = 0; o && i < sizeof(sorted) / sizeof(sorted[0]); i++) {
		const struct policy_tcb_min *t = &p->min_tcb[sorted[i]];
		json_object *parts;

		if (!t->set)
			continue;
		parts = json_object_new_object();
		for (size_t k = 0; parts && k < N_TCB_PARTS; k++) {
			if (tcb_parts[k].turin_only && sorted[i] != SNP_PRODUCT_TURIN)
				continue;
			json_object_object_add(parts, tcb_parts[k].name,
					       json_object_new_int(*((const uint8_t *)t +
								     tcb_parts[k].off)));
		}
		json_object_object_add(o, snp_product_name(sorted[i]), parts);
	}
	return o;
}

#define MEMBER(n, kind) .name = #n, .parse = m_##kind, .write = w_##kind
#define BOOL(n)		{ MEMBER(n, bool), .off = FIELD(n) }
#define TRISTATE(n)	{ MEMBER(n, tristate), .off = FIELD(n) }
#define HEX_LIST(n, sz, fl) \
	{ MEMBER(n, hex_list), .off = FIELD(n), .count_off = FIELD(n_##n), .size = sz, .flags = fl }
#define HEX_OPT(n) { MEMBER(n, hex_opt), .off = FIELD(n), .count_off = FIELD(has_##n), \
		     .size = FIELD_SIZE(n), .flags = MEMBER_NULLABLE }
#define NAMES(n, kind, fl, w) { MEMBER(n, bits), .off = FIELD(n), .size = FIELD_SIZE(n), \
				.flags = fl, .bit_name = kind##_bit_name, \
				.bit_of = kind##_bit_of, .what = w }
#define NUMBERS(n, allowed, w) { MEMBER(n, bits), .off = FIELD(n), .size = FIELD_SIZE(n), \
				 .flags = MEMBER_NONEMPTY, .bits_allowed = allowed, .what = w }

#define PLATFORM_WHAT "a PLATFORM_INFO bit (smt, tsme, ecc, rapl_dis, ciphertext_hiding or alias_check_complete)"

/* Sorted by name: policy_to_json writes them in this order. */
static const struct member members[] = {
	BOOL(allow_any_measurement),
	BOOL(allow_any_tcb),
	BOOL(allow_debug),
	BOOL(allow_migrate_ma),
	BOOL(allow_vlek),
	HEX_LIST(author_key_digests, SNP_KEY_DIGEST_SIZE, 0),
	HEX_LIST(chip_ids, SNP_CHIP_ID_SIZE, MEMBER_NONZERO),
	TRISTATE(ciphertext_hiding),
	TRISTATE(cxl),
	HEX_OPT(family_id),
	HEX_LIST(host_data, SNP_HOST_DATA_SIZE, 0),
	HEX_LIST(id_key_digests, SNP_KEY_DIGEST_SIZE, 0),
	HEX_OPT(image_id),
	HEX_LIST(measurements, SNP_MEASUREMENT_SIZE, 0),
	TRISTATE(mem_aes_256_xts),
	{ MEMBER(min_abi, min_abi), .flags = MEMBER_NULLABLE },
	{ MEMBER(min_guest_svn, uint32), .off = FIELD(min_guest_svn) },
	{ MEMBER(min_tcb, min_tcb) },
	TRISTATE(page_swap_disable),
	NAMES(platform_forbid, platform, 0, PLATFORM_WHAT),
	NAMES(platform_require, platform, 0, PLATFORM_WHAT),
	NAMES(products, product, MEMBER_NONEMPTY, "a product (Milan, Genoa or Turin)"),
	TRISTATE(rapl_dis),
	NUMBERS(report_versions, 1U << 2 | 1U << 3 | 1U << 5, "a report version (2, 3 or 5)"),
	TRISTATE(single_socket),
	TRISTATE(smt),
	{ MEMBER(version, version) },
	NUMBERS(vmpls, 0xf, "a VMPL (0 to 3)"),
};

#define N_MEMBERS (sizeof(members) / sizeof(members[0]))

static const struct member *find_member(const char *name)
{
	for (size_t i = 0; i < N_MEMBERS; i++)
		if (!strcmp(members[i].name, name))
			return &members[i];
	return NULL;
}

/* ---- The policy ----------------------------------------------------------- */

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->report_versions = 1U << 2 | 1U << 3 | 1U << 5;
	p->vmpls = 1U << 0;
	p->products = 1U << SNP_PRODUCT_MILAN | 1U << SNP_PRODUCT_GENOA | 1U << SNP_PRODUCT_TURIN;
}

void policy_free(struct policy *p)
{
	free(p->measurements);
	free(p->host_data);
	free(p->id_key_digests);
	free(p->author_key_digests);
	free(p->chip_ids);
	policy_init(p);
}

static int parse_root(struct policy *p, json_object *root, struct parse_ctx *c)
{
	if (!json_object_is_type(root, json_type_object))
		return snp_errf(c->err, -EINVAL, "%s: a policy is a JSON object, not %s", c->name,
				json_type_to_name(json_object_get_type(root)));
	json_object_object_foreach(root, key, val) {
		const struct member *m = find_member(key);
		int ret;

		c->path[0] = '\0';
		path_append(c->path, sizeof(c->path), key, strlen(key));
		if (!m)
			return member_errf(c, "unknown");
		ret = m->parse(p, m, val, c);
		if (ret)
			return ret;
	}
	return 0;
}

static bool only_blanks(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static int parse_text(const char *json, size_t len, struct parse_ctx *c, json_object **root)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	size_t end;
	int ret = 0;

	if (memchr(json, '\0', len))
		return snp_errf(c->err, -EINVAL, "%s: contains a NUL byte; not JSON text", c->name);
	if (len > INT32_MAX)
		return snp_errf(c->err, -EFBIG, "%s: %zu bytes is too large", c->name, len);
	tok = json_tokener_new_ex(JSON_DEPTH_MAX);
	if (!tok)
		return snp_errf(c->err, -ENOMEM, "%s: out of memory", c->name);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue)
		ret = snp_errf(c->err, -EINVAL, "%s: the JSON text ends early", c->name);
	else if (jerr != json_tokener_success)
		ret = snp_errf(c->err, -EINVAL, "%s: not JSON at byte %zu: %s", c->name, end,
			       json_tokener_error_desc(jerr));
	else if (!only_blanks(json + end, len - end))
		ret = snp_errf(c->err, -EINVAL, "%s: more text after the JSON object, at byte %zu",
			       c->name, end);
	json_tokener_free(tok);
	if (ret) {
		json_object_put(*root);
		*root = NULL;
	}
	return ret;
}

int policy_parse(struct policy *p, const char *json, size_t len, const char *name,
		 struct snp_err *err)
{
	struct parse_ctx c = { .name = name, .err = err };
	json_object *root = NULL;
	int ret;

	policy_init(p);
	ret = parse_text(json, len, &c, &root);
	if (!ret)
		ret = refuse_repeats(json, len, &c);
	if (!ret)
		ret = parse_root(p, root, &c);
	json_object_put(root);
	if (ret)
		policy_free(p);
	return ret;
}

int policy_to_json(const struct policy *p, char **json, size_t *len)
{
	json_object *root = json_object_new_object();
	const char *text;
	size_t n;
	int ret = -ENOMEM;

	*json = NULL;
	*len = 0;
	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < N_MEMBERS; i++) {
		json_object *v = members[i].write(p, &members[i]);

		if (!v && !(members[i].flags & MEMBER_NULLABLE))
			goto out;
		json_object_object_add(root, members[i].name, v);
	}
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		goto out;
	n = strlen(text);
	*json = malloc(n + 2);
	if (!*json)
		goto out;
	memcpy(*json, text, n);
	memcpy(*json + n, "\n", 2);
	*len = n + 1;
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

static bool hex_lists_equal(const void *a, size_t na, const void *b, size_t nb, size_t size)
{
	return na == nb && (!na || !memcmp(a, b, na * size));
}

static bool tcb_mins_equal(const struct policy_tcb_min *a, const struct policy_tcb_min *b)
{
	if (a->set != b->set)
		return false;
	return !a->set || (a->fmc == b->fmc && a->bootloader == b->bootloader &&
			   a->tee == b->tee && a->snp == b->snp && a->microcode == b->microcode);
}

/* Everything but the lists, the optional values and the TCB minimums. */
static bool scalars_equal(const struct policy *a, const struct policy *b)
{
	return a->allow_any_measurement == b->allow_any_measurement &&
	       a->min_guest_svn == b->min_guest_svn && a->report_versions == b->report_versions &&
	       a->vmpls == b->vmpls && a->products == b->products &&
	       a->allow_debug == b->allow_debug && a->allow_migrate_ma == b->allow_migrate_ma &&
	       a->smt == b->smt && a->single_socket == b->single_socket && a->cxl == b->cxl &&
	       a->mem_aes_256_xts == b->mem_aes_256_xts && a->rapl_dis == b->rapl_dis &&
	       a->ciphertext_hiding == b->ciphertext_hiding &&
	       a->page_swap_disable == b->page_swap_disable &&
	       a->platform_require == b->platform_require &&
	       a->platform_forbid == b->platform_forbid && a->allow_any_tcb == b->allow_any_tcb &&
	       a->allow_vlek == b->allow_vlek;
}

static bool optionals_equal(const struct policy *a, const struct policy *b)
{
	if (a->has_family_id != b->has_family_id || a->has_image_id != b->has_image_id ||
	    a->has_min_abi != b->has_min_abi)
		return false;
	if (a->has_family_id && memcmp(a->family_id, b->family_id, SNP_ID_SIZE))
		return false;
	if (a->has_image_id && memcmp(a->image_id, b->image_id, SNP_ID_SIZE))
		return false;
	return !a->has_min_abi || (a->min_abi_major == b->min_abi_major &&
				   a->min_abi_minor == b->min_abi_minor);
}

bool policy_equal(const struct policy *a, const struct policy *b)
{
	for (size_t i = 0; i < sizeof(a->min_tcb) / sizeof(a->min_tcb[0]); i++)
		if (!tcb_mins_equal(&a->min_tcb[i], &b->min_tcb[i]))
			return false;
	return scalars_equal(a, b) && optionals_equal(a, b) &&
	       hex_lists_equal(a->measurements, a->n_measurements, b->measurements,
			       b->n_measurements, SNP_MEASUREMENT_SIZE) &&
	       hex_lists_equal(a->host_data, a->n_host_data, b->host_data, b->n_host_data,
			       SNP_HOST_DATA_SIZE) &&
	       hex_lists_equal(a->id_key_digests, a->n_id_key_digests, b->id_key_digests,
			       b->n_id_key_digests, SNP_KEY_DIGEST_SIZE) &&
	       hex_lists_equal(a->author_key_digests, a->n_author_key_digests,
			       b->author_key_digests, b->n_author_key_digests,
			       SNP_KEY_DIGEST_SIZE) &&
	       hex_lists_equal(a->chip_ids, a->n_chip_ids, b->chip_ids, b->n_chip_ids,
			       SNP_CHIP_ID_SIZE);
}

static int validate_tcb(const struct policy *p, struct snp_err *err)
{
	for (int prod = SNP_PRODUCT_MILAN; prod <= SNP_PRODUCT_TURIN; prod++) {
		const char *name = snp_product_name((enum snp_product)prod);
		bool accepted = p->products & (1U << prod);

		if (p->min_tcb[prod].set && !accepted)
			return snp_errf(err, -EINVAL,
					"min_tcb sets a minimum for %s, which \"products\" does not accept: add %s to \"products\" or remove min_tcb.%s",
					name, name, name);
		if (accepted && !p->min_tcb[prod].set && !p->allow_any_tcb)
			return snp_errf(err, -EINVAL,
					"the policy accepts %s but sets no minimum TCB for it: add \"min_tcb\": {\"%s\": {...}} with the lowest firmware you accept, remove %s from \"products\", or set \"allow_any_tcb\": true",
					name, name, name);
	}
	return 0;
}

int policy_validate(const struct policy *p, struct snp_err *err)
{
	uint64_t both = p->platform_require & p->platform_forbid;

	if (!p->n_measurements && !p->allow_any_measurement)
		return snp_errf(err, -EINVAL,
				"the policy accepts no measurement: add the guest's launch measurement to \"measurements\" (snp-keybroker verify prints it), or set \"allow_any_measurement\": true to accept any guest image");
	if (p->n_measurements && p->allow_any_measurement)
		return snp_errf(err, -EINVAL,
				"\"allow_any_measurement\" is true but \"measurements\" lists %zu: keep one of them",
				p->n_measurements);
	if (both)
		return snp_errf(err, -EINVAL,
				"\"platform_require\" and \"platform_forbid\" both name %s: keep it in one",
				platform_bit_name((unsigned int)__builtin_ctzll(both)));
	return validate_tcb(p, err);
}

bool policy_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= POLICY_NAME_MAX || name[0] == '.')
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	       len;
}

/* ---- Rules ----------------------------------------------------------------- */

struct rule;
typedef int (*rule_fn)(const struct policy *p, const struct rule *r,
		       const struct snp_report *report, const struct snp_verify_result *res,
		       struct snp_err *err);

/* A rule; the tristate and flag rules also name their POLICY bit. */
/*
 * A rule. The POLICY bit rules name the policy's tristate or allow flag
 * (off) and the bit; the value rules name the policy's list or value (off,
 * with its count or has_ flag at count_off), the report's field
 * (report_off, size bytes) and what the report calls it (label).
 */
struct rule {
	const char *name;
	rule_fn check;
	size_t off;
	uint64_t bit;
	const char *label;
	size_t count_off, report_off, size;
};

static int rule_product(const struct policy *p, const struct rule *r,
			const struct snp_report *report, const struct snp_verify_result *res,
			struct snp_err *err)
{
	(void)r;
	(void)report;
	if ((unsigned int)res->product < 32 && (p->products & (1U << res->product)))
		return 0;
	return snp_errf(err, -EACCES, "the product %s is not accepted",
			snp_product_name(res->product));
}

/* VERSION, VMPL: a 32-bit field whose value must be a bit of the policy's set. */
static int rule_in_set(const struct policy *p, const struct rule *r,
		       const struct snp_report *report, const struct snp_verify_result *res,
		       struct snp_err *err)
{
	uint32_t value, set;

	(void)res;
	memcpy(&value, (const uint8_t *)report + r->report_off, sizeof(value));
	memcpy(&set, cfield(p, r->off), sizeof(set));
	if (value < 32 && (set & (1U << value)))
		return 0;
	return snp_errf(err, -EACCES, "%s %u is not accepted", r->label, value);
}

static int rule_vlek(const struct policy *p, const struct rule *r,
		     const struct snp_report *report, const struct snp_verify_result *res,
		     struct snp_err *err)
{
	(void)r;
	(void)report;
	if (res->vek_type != SNP_VEK_VLEK || p->allow_vlek)
		return 0;
	return snp_errf(err, -EACCES, "the report is signed with a VLEK, which is not accepted");
}

/* DEBUG and MIGRATE_MA: refused when set, unless the policy allows them. */
static int rule_allow_flag(const struct policy *p, const struct rule *r,
			   const struct snp_report *report, const struct snp_verify_result *res,
			   struct snp_err *err)
{
	(void)res;
	if (!(report->policy & r->bit) || *(const bool *)cfield(p, r->off))
		return 0;
	return snp_errf(err, -EACCES, "POLICY.%s is set", r->label);
}

static int rule_tristate(const struct policy *p, const struct rule *r,
			 const struct snp_report *report, const struct snp_verify_result *res,
			 struct snp_err *err)
{
	enum policy_tristate t = *(const enum policy_tristate *)cfield(p, r->off);
	bool set = report->policy & r->bit;

	(void)res;
	if ((t == POLICY_REQUIRE && !set) || (t == POLICY_FORBID && set))
		return snp_errf(err, -EACCES, "POLICY.%s is %s", r->label, set ? "set" : "clear");
	return 0;
}

static int rule_abi(const struct policy *p, const struct rule *r,
		    const struct snp_report *report, const struct snp_verify_result *res,
		    struct snp_err *err)
{
	unsigned int minor = (unsigned int)(report->policy & SNP_POLICY_ABI_MINOR_MASK);
	unsigned int major = (unsigned int)(report->policy >> SNP_POLICY_ABI_MAJOR_SHIFT) & 0xff;

	(void)r;
	(void)res;
	if (!p->has_min_abi || major > p->min_abi_major ||
	    (major == p->min_abi_major && minor >= p->min_abi_minor))
		return 0;
	return snp_errf(err, -EACCES, "the POLICY ABI %u.%u is below the minimum", major, minor);
}

static int rule_platform(const struct policy *p, const struct rule *r,
			 const struct snp_report *report, const struct snp_verify_result *res,
			 struct snp_err *err)
{
	uint64_t info = report->platform_info;

	(void)r;
	(void)res;
	for (unsigned int b = 0; b < N_PLATFORM_BITS; b++) {
		bool set = info & (1ULL << b);

		if ((p->platform_require & (1ULL << b)) && !set)
			return snp_errf(err, -EACCES, "PLATFORM_INFO 0x%llx: %s is clear",
				      (unsigned long long)info, platform_bits[b].field);
		if ((p->platform_forbid & (1ULL << b)) && set)
			return snp_errf(err, -EACCES, "PLATFORM_INFO 0x%llx: %s is set",
				      (unsigned long long)info, platform_bits[b].field);
	}
	return 0;
}

static int rule_tcb(const struct policy *p, const struct rule *r,
		    const struct snp_report *report, const struct snp_verify_result *res,
		    struct snp_err *err)
{
	const struct policy_tcb_min *min;
	struct policy_tcb_min got;
	struct snp_tcb tcb;

	(void)r;
	if (res->product < SNP_PRODUCT_MILAN || res->product > SNP_PRODUCT_TURIN)
		return snp_errf(err, -EACCES, "the product %s has no TCB layout",
			      snp_product_name(res->product));
	min = &p->min_tcb[res->product];
	if (!min->set)
		return 0;	/* allow_any_tcb, as policy_validate made sure */
	if (snp_tcb_decode(report->reported_tcb, res->product, &tcb))
		return snp_errf(err, -EACCES, "REPORTED_TCB 0x%016llx does not decode",
			      (unsigned long long)report->reported_tcb);
	got = (struct policy_tcb_min){ .set = true, .fmc = tcb.fmc, .bootloader = tcb.bootloader,
				       .tee = tcb.tee, .snp = tcb.snp, .microcode = tcb.microcode };
	/* Every component separately: a TCB is not ordered as one number. */
	for (size_t i = 0; i < N_TCB_PARTS; i++) {
		uint8_t have = *((const uint8_t *)&got + tcb_parts[i].off);

		if (tcb_parts[i].turin_only && res->product != SNP_PRODUCT_TURIN)
			continue;
		if (have < *((const uint8_t *)min + tcb_parts[i].off))
			return snp_errf(err, -EACCES, "REPORTED_TCB %s=%u is below the minimum",
					tcb_parts[i].name, have);
	}
	return 0;
}

static const uint8_t *report_field(const struct snp_report *report, const struct rule *r)
{
	return (const uint8_t *)report + r->report_off;
}

/* The report's value is one of the policy's list (an empty list refuses all). */
static int refuse_unlisted(const struct policy *p, const struct rule *r,
			   const struct snp_report *report, size_t shown, struct snp_err *err)
{
	const uint8_t *items, *value = report_field(report, r);
	size_t n = *(const size_t *)cfield(p, r->count_off);
	char hex[2 * SNP_CHIP_ID_SIZE + 1];

	memcpy(&items, cfield(p, r->off), sizeof(items));
	for (size_t i = 0; i < n; i++)
		if (!memcmp(items + i * r->size, value, r->size))
			return 0;
	return snp_errf(err, -EACCES, "%s %s is not in the allow-list", r->label,
			snp_hex(hex, value, shown));
}

static bool list_empty(const struct policy *p, const struct rule *r)
{
	return *(const size_t *)cfield(p, r->count_off) == 0;
}

/* HOST_DATA, ID_KEY_DIGEST: constrained when the policy lists any. */
static int rule_listed(const struct policy *p, const struct rule *r,
		       const struct snp_report *report, const struct snp_verify_result *res,
		       struct snp_err *err)
{
	(void)res;
	if (list_empty(p, r))
		return 0;
	return refuse_unlisted(p, r, report, r->size, err);
}

static int rule_measurement(const struct policy *p, const struct rule *r,
			    const struct snp_report *report, const struct snp_verify_result *res,
			    struct snp_err *err)
{
	(void)res;
	if (p->allow_any_measurement)
		return 0;
	return refuse_unlisted(p, r, report, r->size, err);
}

static int rule_author_key(const struct policy *p, const struct rule *r,
			   const struct snp_report *report, const struct snp_verify_result *res,
			   struct snp_err *err)
{
	(void)res;
	if (list_empty(p, r))
		return 0;
	/* Without AUTHOR_KEY_EN the digest field is not the author key's. */
	if (!(report->key_info & SNP_KEY_INFO_AUTHOR_KEY_EN))
		return snp_errf(err, -EACCES, "KEY_INFO.AUTHOR_KEY_EN is clear: the report has no author key digest");
	return refuse_unlisted(p, r, report, r->size, err);
}

/* Shown as many bytes as identify a chip of the product (8 on Turin). */
static int rule_chip_id(const struct policy *p, const struct rule *r,
			const struct snp_report *report, const struct snp_verify_result *res,
			struct snp_err *err)
{
	if (list_empty(p, r))
		return 0;
	return refuse_unlisted(p, r, report, snp_chip_id_len(res->product), err);
}

/* FAMILY_ID, IMAGE_ID: equal when the policy sets one. */
static int rule_equal(const struct policy *p, const struct rule *r,
		      const struct snp_report *report, const struct snp_verify_result *res,
		      struct snp_err *err)
{
	const uint8_t *value = report_field(report, r);
	char hex[2 * SNP_ID_SIZE + 1];

	(void)res;
	if (!*(const bool *)cfield(p, r->count_off) || !memcmp(cfield(p, r->off), value, r->size))
		return 0;
	return snp_errf(err, -EACCES, "%s %s does not match", r->label,
			snp_hex(hex, value, r->size));
}

static int rule_guest_svn(const struct policy *p, const struct rule *r,
			  const struct snp_report *report, const struct snp_verify_result *res,
			  struct snp_err *err)
{
	(void)r;
	(void)res;
	if (report->guest_svn >= p->min_guest_svn)
		return 0;
	return snp_errf(err, -EACCES, "GUEST_SVN %u is below the minimum", report->guest_svn);
}

#define FLAG_RULE(n, f, b, l) \
	{ .name = n, .check = rule_allow_flag, .off = FIELD(f), .bit = b, .label = l }
#define TRISTATE_RULE(n, f, b, l) \
	{ .name = n, .check = rule_tristate, .off = FIELD(f), .bit = b, .label = l }
#define SET_RULE(n, f, field, l) \
	{ .name = n, .check = rule_in_set, .off = FIELD(f), .label = l, \
	  .report_off = offsetof(struct snp_report, field) }
#define VALUE_RULE(n, fn, f, count, field, l) \
	{ .name = n, .check = fn, .off = FIELD(f), .count_off = FIELD(count), .label = l, \
	  .report_off = offsetof(struct snp_report, field), \
	  .size = sizeof(((struct snp_report *)0)->field) }

/* In the order of docs/protocol.md, "Policy rules, in the order they are applied". */
static const struct rule rules[] = {
	{ .name = "product", .check = rule_product },
	SET_RULE("report-version", report_versions, version, "report version"),
	SET_RULE("vmpl", vmpls, vmpl, "VMPL"),
	{ .name = "vlek", .check = rule_vlek },
	FLAG_RULE("policy-debug", allow_debug, SNP_POLICY_DEBUG, "DEBUG"),
	FLAG_RULE("policy-migrate-ma", allow_migrate_ma, SNP_POLICY_MIGRATE_MA, "MIGRATE_MA"),
	TRISTATE_RULE("policy-smt", smt, SNP_POLICY_SMT, "SMT"),
	TRISTATE_RULE("policy-single-socket", single_socket, SNP_POLICY_SINGLE_SOCKET,
		      "SINGLE_SOCKET"),
	{ .name = "policy-abi", .check = rule_abi },
	TRISTATE_RULE("policy-cxl", cxl, SNP_POLICY_CXL_ALLOW, "CXL_ALLOW"),
	TRISTATE_RULE("policy-mem-aes-256-xts", mem_aes_256_xts, SNP_POLICY_MEM_AES_256_XTS,
		      "MEM_AES_256_XTS"),
	TRISTATE_RULE("policy-rapl-dis", rapl_dis, SNP_POLICY_RAPL_DIS, "RAPL_DIS"),
	TRISTATE_RULE("policy-ciphertext-hiding", ciphertext_hiding,
		      SNP_POLICY_CIPHERTEXT_HIDING, "CIPHERTEXT_HIDING"),
	TRISTATE_RULE("policy-page-swap-disable", page_swap_disable,
		      SNP_POLICY_PAGE_SWAP_DISABLE, "PAGE_SWAP_DISABLE"),
	{ .name = "platform-info", .check = rule_platform },
	{ .name = "tcb", .check = rule_tcb },
	VALUE_RULE("measurement", rule_measurement, measurements, n_measurements, measurement,
		   "MEASUREMENT"),
	VALUE_RULE("host-data", rule_listed, host_data, n_host_data, host_data, "HOST_DATA"),
	VALUE_RULE("id-key-digest", rule_listed, id_key_digests, n_id_key_digests, id_key_digest,
		   "ID_KEY_DIGEST"),
	VALUE_RULE("author-key-digest", rule_author_key, author_key_digests,
		   n_author_key_digests, author_key_digest, "AUTHOR_KEY_DIGEST"),
	VALUE_RULE("family-id", rule_equal, family_id, has_family_id, family_id, "FAMILY_ID"),
	VALUE_RULE("image-id", rule_equal, image_id, has_image_id, image_id, "IMAGE_ID"),
	{ .name = "guest-svn", .check = rule_guest_svn },
	VALUE_RULE("chip-id", rule_chip_id, chip_ids, n_chip_ids, chip_id, "CHIP_ID"),
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

const char *policy_rule_name(size_t i)
{
	return i < N_RULES ? rules[i].name : NULL;
}

int policy_check(const struct policy *p, const struct snp_report *report,
		 const struct snp_verify_result *res, const char **rule, struct snp_err *err)
{
	if (rule)
		*rule = NULL;
	if (res->failed != SNP_CHECK_NONE)
		return snp_errf(err, -EINVAL, "the report did not verify (%s); a policy applies to verified reports only",
				snp_check_name(res->failed));
	for (size_t i = 0; i < N_RULES; i++) {
		int ret = rules[i].check(p, &rules[i], report, res, err);

		if (ret) {
			if (rule)
				*rule = rules[i].name;
			return ret;
		}
	}
	return 0;
}
