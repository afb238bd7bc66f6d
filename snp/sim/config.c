// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The simulator's configuration: "key = value" lines, '#' comments and
 * blank lines. Strict: every key known, given once, with a value that
 * parses whole; each refusal names the file, the line and the reason.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "snp/bytes.h"
#include "snp/fdio.h"
#include "snp/sim/sim.h"

enum {
	LINE_MAX_LEN = 1024,
	CONFIG_MAX_SIZE = 64 * 1024,
};

struct key_def;

/* A value parser: 0, or -1 with the reason in why. */
typedef int (*parse_fn)(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
			char *why, size_t why_size);

/*
 * A key: its parser and, for the parsers shared between keys, the field
 * it sets (offset and size in struct snp_sim_config); for p_uint also the
 * largest value and what the value must be ("a 32-bit number").
 */
struct key_def {
	const char *name;
	parse_fn parse;
	size_t off, size;
	uint64_t max;
	const char *what;
};

#define FIELD(f) offsetof(struct snp_sim_config, f), sizeof(((struct snp_sim_config *)0)->f)

static void *field(struct snp_sim_config *cfg, const struct key_def *k)
{
	return (uint8_t *)cfg + k->off;
}

static int why(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decimal or 0x-hex, no sign, no spaces, at most max. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	int base = 10;
	char *end;
	unsigned long long v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)s[0]) || (base == 10 && !isdigit((unsigned char)s[0])))
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Exactly 2*len hex digits into out. */
static int parse_hex(const char *s, uint8_t *out, size_t len, char *w, size_t ws)
{
	size_t n = strlen(s), got;

	if (n != 2 * len)
		return why(w, ws, "expected %zu hex digits (%zu bytes), got %zu characters",
			   2 * len, len, n);
	if (snp_unhex(s, out, len, &got)) {
		/* The pair holding the first non-hex digit. */
		size_t i = strspn(s, "0123456789abcdefABCDEF") & ~(size_t)1;

		return why(w, ws, "'%c%c' at position %zu is not hex", s[i], s[i + 1], i + 1);
	}
	return 0;
}

static int parse_bool(const char *s, bool *out, char *w, size_t ws)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return why(w, ws, "'%s' is not yes or no", s);
}

static int p_product(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		     char *w, size_t ws)
{
	(void)k;
	cfg->product = snp_product_from_name(val, strlen(val));
	if (cfg->product == SNP_PRODUCT_UNKNOWN)
		return why(w, ws, "'%s' is none of milan, genoa, turin", val);
	return 0;
}

static int p_version(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		     char *w, size_t ws)
{
	uint64_t v;

	(void)k;
	if (parse_uint(val, UINT32_MAX, &v) || (v != 2 && v != 3 && v != 5))
		return why(w, ws, "'%s' is not a report version the PSP produces (2, 3 or 5)",
			   val);
	cfg->version = (uint32_t)v;
	return 0;
}

/* A number up to k->max into a field of 1, 4 or 8 bytes. */
static int p_uint(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		  char *w, size_t ws)
{
	uint64_t v;
	uint32_t v32;
	uint8_t v8;

	if (parse_uint(val, k->max, &v))
		return why(w, ws, "'%s' is not %s", val, k->what);
	v32 = (uint32_t)v;
	v8 = (uint8_t)v;
	memcpy(field(cfg, k), k->size == 8 ? (void *)&v : k->size == 4 ? (void *)&v32 : &v8,
	       k->size);
	return 0;
}

static int p_policy(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		    char *w, size_t ws)
{
	if (p_uint(cfg, k, val, w, ws))
		return -1;
	if (!(cfg->policy & SNP_POLICY_RESERVED_1))
		return why(w, ws, "0x%llx has bit 17 clear; the PSP requires it set",
			   (unsigned long long)cfg->policy);
	if (cfg->policy & SNP_POLICY_MBZ_MASK)
		return why(w, ws, "0x%llx sets reserved bits 26-63",
			   (unsigned long long)cfg->policy);
	return 0;
}

static int p_hex(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		 char *w, size_t ws)
{
	return parse_hex(val, field(cfg, k), k->size, w, ws);
}

static int p_report_id(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		       char *w, size_t ws)
{
	(void)k;
	cfg->has_report_id = strcmp(val, "random") != 0;
	if (!cfg->has_report_id)
		return 0;
	return parse_hex(val, cfg->report_id, sizeof(cfg->report_id), w, ws);
}

static int p_chip_id(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		     char *w, size_t ws)
{
	size_t n = strlen(val);

	(void)k;
	memset(cfg->chip_id, 0, sizeof(cfg->chip_id));
	cfg->has_chip_id = strcmp(val, "derived") != 0;
	if (!cfg->has_chip_id)
		return 0;
	if (n != 2 * SNP_CHIP_ID_SIZE_TURIN && n != 2 * SNP_CHIP_ID_SIZE)
		return why(w, ws, "expected 'derived', 16 hex digits (Turin) or 128, got %zu characters",
			   n);
	return parse_hex(val, cfg->chip_id, n / 2, w, ws);
}

static int p_bool(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		  char *w, size_t ws)
{
	return parse_bool(val, field(cfg, k), w, ws);
}

static int p_signing_key(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
			 char *w, size_t ws)
{
	(void)k;
	if (!strcasecmp(val, "vcek"))
		cfg->signing_key = SNP_SIGNING_KEY_VCEK;
	else if (!strcasecmp(val, "vlek"))
		cfg->signing_key = SNP_SIGNING_KEY_VLEK;
	else
		return why(w, ws, "'%s' is neither vcek nor vlek", val);
	return 0;
}

/* One "name=value" of a TCB; returns the byte to set, or NULL. */
static uint8_t *tcb_part(struct snp_sim_tcb_spec *t, const char *name, size_t len)
{
	static const struct { const char *name; size_t off; } parts[] = {
		{ "fmc", offsetof(struct snp_tcb, fmc) },
		{ "bl", offsetof(struct snp_tcb, bootloader) },
		{ "bootloader", offsetof(struct snp_tcb, bootloader) },
		{ "tee", offsetof(struct snp_tcb, tee) },
		{ "snp", offsetof(struct snp_tcb, snp) },
		{ "ucode", offsetof(struct snp_tcb, microcode) },
		{ "microcode", offsetof(struct snp_tcb, microcode) },
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strlen(parts[i].name) == len && !strncmp(parts[i].name, name, len))
			return (uint8_t *)&t->parts + parts[i].off;
	return NULL;
}

static int parse_tcb_parts(struct snp_sim_tcb_spec *t, const char *val, char *w, size_t ws)
{
	uint8_t *seen[5] = { NULL };
	size_t nseen = 0;
	const char *p = val;

	while (*p) {
		size_t name_len = strcspn(p, "="), val_len;
		char num[8];
		uint64_t v;
		uint8_t *dst;

		dst = p[name_len] == '=' ? tcb_part(t, p, name_len) : NULL;
		if (!dst)
			return why(w, ws, "'%.*s' is not NAME=VALUE with NAME one of fmc, bl, tee, snp, ucode",
				   (int)strcspn(p, " \t,"), p);
		p += name_len + 1;
		val_len = strcspn(p, " \t,");
		if (val_len == 0 || val_len >= sizeof(num))
			return why(w, ws, "'%.*s' has no value 0-255", (int)name_len, p - name_len - 1);
		memcpy(num, p, val_len);
		num[val_len] = '\0';
		if (parse_uint(num, 255, &v))
			return why(w, ws, "'%s' for %.*s is not 0-255", num, (int)name_len,
				   p - name_len - 1);
		for (size_t i = 0; i < nseen; i++)
			if (seen[i] == dst)
				return why(w, ws, "%.*s is given twice", (int)name_len,
					   p - name_len - 1);
		if (nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = dst;
		*dst = (uint8_t)v;
		t->has_fmc |= dst == &t->parts.fmc;
		p += val_len;
		p += strspn(p, " \t,");
	}
	return 0;
}

static int p_tcb(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		 char *w, size_t ws)
{
	struct snp_sim_tcb_spec *t = field(cfg, k);

	memset(t, 0, sizeof(*t));
	if (isdigit((unsigned char)val[0])) {
		t->kind = SNP_SIM_TCB_RAW;
		if (parse_uint(val, UINT64_MAX, &t->raw))
			return why(w, ws, "'%s' is not a 64-bit TCB_VERSION", val);
		return 0;
	}
	t->kind = SNP_SIM_TCB_PARTS;
	return parse_tcb_parts(t, val, w, ws);
}

/* "MAJOR.MINOR.BUILD", as AMD writes firmware versions. */
static int p_fw(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		char *w, size_t ws)
{
	unsigned int major, minor, build;
	int end = 0;
	struct snp_fw_version *fw = field(cfg, k);

	if (strspn(val, "0123456789.") != strlen(val) ||
	    sscanf(val, "%3u.%3u.%3u%n", &major, &minor, &build, &end) != 3 ||
	    val[end] || !isdigit((unsigned char)val[0]) || major > 255 || minor > 255 ||
	    build > 255)
		return why(w, ws, "'%s' is not MAJOR.MINOR.BUILD with each 0-255", val);
	*fw = (struct snp_fw_version){ .build = (uint8_t)build, .minor = (uint8_t)minor,
				       .major = (uint8_t)major };
	return 0;
}

static int p_csp_id(struct snp_sim_config *cfg, const struct key_def *k, const char *val,
		    char *w, size_t ws)
{
	size_t n = strlen(val);

	(void)k;
	if (n >= sizeof(cfg->csp_id))
		return why(w, ws, "%zu characters; at most %zu", n, sizeof(cfg->csp_id) - 1);
	for (size_t i = 0; i < n; i++)
		if (val[i] < 0x20 || val[i] > 0x7e)
			return why(w, ws, "character %zu is not printable ASCII (an IA5String)",
				   i + 1);
	memcpy(cfg->csp_id, val, n + 1);
	return 0;
}

#define U64	UINT64_MAX, "a 64-bit number (decimal or 0x hex)"
#define BYTE	255, "a byte (0-255 or 0x00-0xff)"

static const struct key_def keys[SNP_SIM_KEY_COUNT] = {
	[SNP_SIM_KEY_PRODUCT] = { "product", p_product },
	[SNP_SIM_KEY_VERSION] = { "version", p_version },
	[SNP_SIM_KEY_GUEST_SVN] = { "guest_svn", p_uint, FIELD(guest_svn), UINT32_MAX,
				    "a 32-bit number" },
	[SNP_SIM_KEY_POLICY] = { "policy", p_policy, FIELD(policy), U64 },
	[SNP_SIM_KEY_FAMILY_ID] = { "family_id", p_hex, FIELD(family_id) },
	[SNP_SIM_KEY_IMAGE_ID] = { "image_id", p_hex, FIELD(image_id) },
	[SNP_SIM_KEY_GUEST_VMPL] = { "guest_vmpl", p_uint, FIELD(guest_vmpl), 3,
				     "a VMPL (0 to 3)" },
	[SNP_SIM_KEY_MEASUREMENT] = { "measurement", p_hex, FIELD(measurement) },
	[SNP_SIM_KEY_HOST_DATA] = { "host_data", p_hex, FIELD(host_data) },
	[SNP_SIM_KEY_ID_KEY_DIGEST] = { "id_key_digest", p_hex, FIELD(id_key_digest) },
	[SNP_SIM_KEY_AUTHOR_KEY_DIGEST] = { "author_key_digest", p_hex,
					    FIELD(author_key_digest) },
	[SNP_SIM_KEY_AUTHOR_KEY_EN] = { "author_key_en", p_bool, FIELD(author_key_en) },
	[SNP_SIM_KEY_PLATFORM_INFO] = { "platform_info", p_uint, FIELD(platform_info), U64 },
	[SNP_SIM_KEY_SIGNING_KEY] = { "signing_key", p_signing_key },
	[SNP_SIM_KEY_MASK_CHIP_KEY] = { "mask_chip_key", p_bool, FIELD(mask_chip_key) },
	[SNP_SIM_KEY_CHIP_ID] = { "chip_id", p_chip_id },
	[SNP_SIM_KEY_CURRENT_TCB] = { "current_tcb", p_tcb, FIELD(current_tcb) },
	[SNP_SIM_KEY_REPORTED_TCB] = { "reported_tcb", p_tcb, FIELD(reported_tcb) },
	[SNP_SIM_KEY_COMMITTED_TCB] = { "committed_tcb", p_tcb, FIELD(committed_tcb) },
	[SNP_SIM_KEY_LAUNCH_TCB] = { "launch_tcb", p_tcb, FIELD(launch_tcb) },
	[SNP_SIM_KEY_CURRENT_FW] = { "current_fw", p_fw, FIELD(current_fw) },
	[SNP_SIM_KEY_COMMITTED_FW] = { "committed_fw", p_fw, FIELD(committed_fw) },
	[SNP_SIM_KEY_CPUID_FAM_ID] = { "cpuid_fam_id", p_uint, FIELD(cpuid_fam_id), BYTE },
	[SNP_SIM_KEY_CPUID_MOD_ID] = { "cpuid_mod_id", p_uint, FIELD(cpuid_mod_id), BYTE },
	[SNP_SIM_KEY_CPUID_STEP] = { "cpuid_step", p_uint, FIELD(cpuid_step), BYTE },
	[SNP_SIM_KEY_REPORT_ID] = { "report_id", p_report_id },
	[SNP_SIM_KEY_REPORT_ID_MA] = { "report_id_ma", p_hex, FIELD(report_id_ma) },
	[SNP_SIM_KEY_LAUNCH_MIT_VECTOR] = { "launch_mit_vector", p_uint,
					    FIELD(launch_mit_vector), U64 },
	[SNP_SIM_KEY_CURRENT_MIT_VECTOR] = { "current_mit_vector", p_uint,
					     FIELD(current_mit_vector), U64 },
	[SNP_SIM_KEY_CERT_TABLE] = { "cert_table", p_bool, FIELD(cert_table) },
	[SNP_SIM_KEY_CSP_ID] = { "csp_id", p_csp_id },
};

void snp_sim_config_init(struct snp_sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->source, sizeof(cfg->source), "(defaults)");
	cfg->policy = SNP_POLICY_SMT | SNP_POLICY_RESERVED_1;
	cfg->signing_key = SNP_SIGNING_KEY_VCEK;
	memset(cfg->report_id_ma, 0xff, sizeof(cfg->report_id_ma));
	cfg->platform_info = SNP_PLATFORM_SMT_EN | SNP_PLATFORM_ECC_EN |
			     SNP_PLATFORM_ALIAS_CHECK_COMPLETE;
	cfg->cert_table = true;
	snprintf(cfg->csp_id, sizeof(cfg->csp_id), "CN=snp-unseal-simulator.invalid");
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int parse_line(struct snp_sim_config *cfg, char *line, unsigned int lineno,
		      struct snp_err *err)
{
	char *eq, *key, *val, w[200];
	const char *src = cfg->source;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return snp_errf(err, -EINVAL, "%s:%u: '%s' is not 'key = value'", src, lineno,
				line);
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	for (int k = 0; k < SNP_SIM_KEY_COUNT; k++) {
		if (strcmp(keys[k].name, key))
			continue;
		if (cfg->line[k])
			return snp_errf(err, -EINVAL, "%s:%u: %s is already set on line %u",
					src, lineno, key, cfg->line[k]);
		if (!*val)
			return snp_errf(err, -EINVAL, "%s:%u: %s has no value", src, lineno, key);
		if (keys[k].parse(cfg, &keys[k], val, w, sizeof(w)))
			return snp_errf(err, -EINVAL, "%s:%u: %s: %s", src, lineno, key, w);
		cfg->line[k] = lineno;
		return 0;
	}
	return snp_errf(err, -EINVAL, "%s:%u: unknown key '%s'", src, lineno, key);
}

int snp_sim_config_parse(struct snp_sim_config *cfg, const char *text, size_t len,
			 const char *name, struct snp_err *err)
{
	char line[LINE_MAX_LEN + 1];
	unsigned int lineno = 0;
	size_t pos = 0;
	int ret;

	snprintf(cfg->source, sizeof(cfg->source), "%s", name);
	if (len > CONFIG_MAX_SIZE)
		return snp_errf(err, -EFBIG, "%s: %zu bytes; a configuration is at most %d",
				name, len, CONFIG_MAX_SIZE);
	if (memchr(text, '\0', len))
		return snp_errf(err, -EINVAL, "%s: contains a NUL byte; not a text file", name);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		if (n > LINE_MAX_LEN)
			return snp_errf(err, -EINVAL, "%s:%u: line longer than %d characters",
					name, lineno, LINE_MAX_LEN);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		ret = parse_line(cfg, line, lineno, err);
		if (ret)
			return ret;
		pos += n + 1;
	}
	return 0;
}

int snp_sim_config_load(struct snp_sim_config *cfg, const char *path, struct snp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = snp_read_file(path, CONFIG_MAX_SIZE, &buf, &len, err);
	if (!ret)
		ret = snp_sim_config_parse(cfg, (const char *)buf, len, path, err);
	free(buf);
	return ret;
}

/* What a real part of each product reported in 2024-2025. */
struct product_defaults {
	uint32_t version;
	struct snp_tcb tcb;
	struct snp_fw_version fw;
	uint8_t fam, mod, step;
};

static const struct product_defaults *product_defaults(enum snp_product product)
{
	static const struct product_defaults milan = {
		3, { .bootloader = 4, .tee = 0, .snp = 24, .microcode = 219 },
		{ .build = 29, .minor = 55, .major = 1 }, 0x19, 0x01, 0x01,
	};
	static const struct product_defaults genoa = {
		3, { .bootloader = 10, .tee = 0, .snp = 25, .microcode = 84 },
		{ .build = 43, .minor = 55, .major = 1 }, 0x19, 0x11, 0x01,
	};
	static const struct product_defaults turin = {
		5, { .fmc = 0, .bootloader = 1, .tee = 0, .snp = 2, .microcode = 71 },
		{ .build = 61, .minor = 55, .major = 1 }, 0x1a, 0x02, 0x01,
	};

	switch (product) {
	case SNP_PRODUCT_MILAN:
		return &milan;
	case SNP_PRODUCT_GENOA:
		return &genoa;
	case SNP_PRODUCT_TURIN:
		return &turin;
	default:
		return NULL;
	}
}

/* "file:line: key: " for a key that was set, "file: key: " otherwise. */
static int key_errf(const struct snp_sim_config *cfg, enum snp_sim_key key,
		    struct snp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int key_errf(const struct snp_sim_config *cfg, enum snp_sim_key key,
		    struct snp_err *err, const char *fmt, ...)
{
	char msg[200], where[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cfg->line[key])
		snprintf(where, sizeof(where), "%s:%u", cfg->source, cfg->line[key]);
	else
		snprintf(where, sizeof(where), "%s", cfg->source);
	return snp_errf(err, -EINVAL, "%s: %s: %s", where, keys[key].name, msg);
}

static int resolve_tcb(const struct snp_sim_config *cfg, enum snp_sim_key key,
		       const struct snp_sim_tcb_spec *t, uint64_t dflt,
		       enum snp_product product, uint64_t *out, struct snp_err *err)
{
	switch (t->kind) {
	case SNP_SIM_TCB_DEFAULT:
		*out = dflt;
		return 0;
	case SNP_SIM_TCB_RAW:
		*out = t->raw;
		return 0;
	case SNP_SIM_TCB_PARTS:
		break;
	}
	if (t->has_fmc && product != SNP_PRODUCT_TURIN)
		return key_errf(cfg, key, err, "fmc= exists only in Turin's TCB; this chip is %s",
				snp_product_name(product));
	*out = snp_tcb_encode(&t->parts, product);
	return 0;
}

static int resolve_tcbs(const struct snp_sim_config *cfg, enum snp_product product,
			struct snp_report *r, struct snp_err *err)
{
	uint64_t dflt = snp_tcb_encode(&product_defaults(product)->tcb, product);
	int ret;

	ret = resolve_tcb(cfg, SNP_SIM_KEY_CURRENT_TCB, &cfg->current_tcb, dflt, product,
			  &r->current_tcb, err);
	if (!ret)
		ret = resolve_tcb(cfg, SNP_SIM_KEY_REPORTED_TCB, &cfg->reported_tcb,
				  r->current_tcb, product, &r->reported_tcb, err);
	if (!ret)
		ret = resolve_tcb(cfg, SNP_SIM_KEY_COMMITTED_TCB, &cfg->committed_tcb,
				  r->current_tcb, product, &r->committed_tcb, err);
	if (!ret)
		ret = resolve_tcb(cfg, SNP_SIM_KEY_LAUNCH_TCB, &cfg->launch_tcb,
				  r->committed_tcb, product, &r->launch_tcb, err);
	return ret;
}

static int resolve_chip_id(const struct snp_sim_config *cfg, enum snp_product product,
			   const uint8_t derived[SNP_CHIP_ID_SIZE], struct snp_report *r,
			   struct snp_err *err)
{
	size_t id_len = snp_chip_id_len(product);

	if (!cfg->has_chip_id) {
		memcpy(r->chip_id, derived, id_len);
		return 0;
	}
	if (product == SNP_PRODUCT_TURIN &&
	    !snp_all_zero(cfg->chip_id + id_len, SNP_CHIP_ID_SIZE - id_len))
		return key_errf(cfg, SNP_SIM_KEY_CHIP_ID, err,
				"a Turin chip id is 8 bytes (the rest of CHIP_ID is zero)");
	if (product != SNP_PRODUCT_TURIN &&
	    snp_all_zero(cfg->chip_id + SNP_CHIP_ID_SIZE_TURIN,
		    SNP_CHIP_ID_SIZE - SNP_CHIP_ID_SIZE_TURIN))
		return key_errf(cfg, SNP_SIM_KEY_CHIP_ID, err,
				"a %s chip id is 64 bytes; this one ends after 8",
				snp_product_name(product));
	memcpy(r->chip_id, cfg->chip_id, SNP_CHIP_ID_SIZE);
	return 0;
}

/* Any CPUID key was set: the configured chip replaces the product's. */
static bool has_cpuid(const struct snp_sim_config *cfg)
{
	return cfg->line[SNP_SIM_KEY_CPUID_FAM_ID] || cfg->line[SNP_SIM_KEY_CPUID_MOD_ID] ||
	       cfg->line[SNP_SIM_KEY_CPUID_STEP];
}

static int check_cross(const struct snp_sim_config *cfg, uint32_t version,
		       enum snp_product product, struct snp_err *err)
{
	if (cfg->product != SNP_PRODUCT_UNKNOWN && cfg->product != product)
		return key_errf(cfg, SNP_SIM_KEY_PRODUCT, err,
				"%s, but the simulator state is for %s",
				snp_product_name(cfg->product), snp_product_name(product));
	if (version < 3 && has_cpuid(cfg))
		return key_errf(cfg, cfg->line[SNP_SIM_KEY_CPUID_FAM_ID] ?
				SNP_SIM_KEY_CPUID_FAM_ID : cfg->line[SNP_SIM_KEY_CPUID_MOD_ID] ?
				SNP_SIM_KEY_CPUID_MOD_ID : SNP_SIM_KEY_CPUID_STEP, err,
				"version 2 reports carry no CPUID; use version 3 or 5");
	if (version < 5 && cfg->launch_mit_vector)
		return key_errf(cfg, SNP_SIM_KEY_LAUNCH_MIT_VECTOR, err,
				"mitigation vectors exist from version 5 on; version is %u",
				version);
	if (version < 5 && cfg->current_mit_vector)
		return key_errf(cfg, SNP_SIM_KEY_CURRENT_MIT_VECTOR, err,
				"mitigation vectors exist from version 5 on; version is %u",
				version);
	if (!cfg->author_key_en && !snp_all_zero(cfg->author_key_digest, SNP_KEY_DIGEST_SIZE))
		return key_errf(cfg, SNP_SIM_KEY_AUTHOR_KEY_DIGEST, err,
				"the PSP fills AUTHOR_KEY_DIGEST only with author_key_en = yes");
	if (version == 2 && product == SNP_PRODUCT_TURIN)
		return key_errf(cfg, SNP_SIM_KEY_VERSION, err,
				"Turin firmware produces no version 2 reports");
	return 0;
}

static void copy_fields(const struct snp_sim_config *cfg, const struct product_defaults *d,
			struct snp_report *r)
{
	r->guest_svn = cfg->guest_svn;
	r->policy = cfg->policy;
	memcpy(r->family_id, cfg->family_id, SNP_ID_SIZE);
	memcpy(r->image_id, cfg->image_id, SNP_ID_SIZE);
	r->sig_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	r->platform_info = cfg->platform_info;
	r->key_info = (cfg->author_key_en ? SNP_KEY_INFO_AUTHOR_KEY_EN : 0) |
		      (cfg->mask_chip_key ? SNP_KEY_INFO_MASK_CHIP_KEY : 0) |
		      (uint32_t)cfg->signing_key << SNP_KEY_INFO_SIGNING_KEY_SHIFT;
	memcpy(r->measurement, cfg->measurement, SNP_MEASUREMENT_SIZE);
	memcpy(r->host_data, cfg->host_data, SNP_HOST_DATA_SIZE);
	memcpy(r->id_key_digest, cfg->id_key_digest, SNP_KEY_DIGEST_SIZE);
	memcpy(r->author_key_digest, cfg->author_key_digest, SNP_KEY_DIGEST_SIZE);
	if (cfg->has_report_id)
		memcpy(r->report_id, cfg->report_id, SNP_REPORT_ID_SIZE);
	memcpy(r->report_id_ma, cfg->report_id_ma, SNP_REPORT_ID_SIZE);
	if (r->version >= 3) {
		r->cpuid_fam_id = has_cpuid(cfg) ? cfg->cpuid_fam_id : d->fam;
		r->cpuid_mod_id = has_cpuid(cfg) ? cfg->cpuid_mod_id : d->mod;
		r->cpuid_step = has_cpuid(cfg) ? cfg->cpuid_step : d->step;
	}
	r->current_fw = cfg->line[SNP_SIM_KEY_CURRENT_FW] ? cfg->current_fw : d->fw;
	r->committed_fw = cfg->line[SNP_SIM_KEY_COMMITTED_FW] ? cfg->committed_fw : r->current_fw;
	if (r->version >= 5) {
		r->launch_mit_vector = cfg->launch_mit_vector;
		r->current_mit_vector = cfg->current_mit_vector;
	}
}

int snp_sim_config_resolve(const struct snp_sim_config *cfg, enum snp_product product,
			   const uint8_t chip_id[SNP_CHIP_ID_SIZE], struct snp_report *tmpl,
			   struct snp_err *err)
{
	const struct product_defaults *d = product_defaults(product);
	struct snp_report *r = tmpl;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!d)
		return snp_errf(err, -EINVAL, "the simulator has no %s chip",
				snp_product_name(product));
	r->version = cfg->version ? cfg->version : d->version;
	ret = check_cross(cfg, r->version, product, err);
	if (!ret)
		ret = resolve_tcbs(cfg, product, r, err);
	if (!ret)
		ret = resolve_chip_id(cfg, product, chip_id, r, err);
	if (ret) {
		memset(r, 0, sizeof(*r));
		return ret;
	}
	copy_fields(cfg, d, r);
	if (has_cpuid(cfg) && snp_product_from_cpuid(r->cpuid_fam_id, r->cpuid_mod_id) != product)
		return key_errf(cfg, SNP_SIM_KEY_CPUID_MOD_ID, err,
				"family 0x%02x model 0x%02x is not a %s",
				r->cpuid_fam_id, r->cpuid_mod_id, snp_product_name(product));
	return 0;
}
