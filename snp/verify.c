// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SEV-SNP report verification (see snp/verify.h). One step per check, run
 * in the order of enum snp_check; the first failure ends the run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "snp/bytes.h"
#include "snp/verify.h"

#define ROOT_RSA_BITS	4096

struct cache_entry {
	bool used;
	uint64_t last_use;
	uint8_t anchors[SNP_SHA256_SIZE];
	enum snp_product product;
	enum snp_vek_type vek_type;
	enum snp_root_role ask_role;
	struct snp_cert_facts ark, ask, vek;
	struct snp_vek_ext ext;
	uint8_t point[SNP_P384_POINT_SIZE];
};

struct snp_verify_cache {
	size_t capacity;
	uint64_t clock;
	struct cache_entry entries[];
};

struct vctx {
	const struct snp_verify_input *in;
	struct snp_verify_result *res;
	struct snp_anchors anchors;
	uint8_t anchors_digest[SNP_SHA256_SIZE];
	struct snp_report parsed;
	const struct snp_report *report;
	struct snp_amd_cert ark, ask, vek;
	uint8_t point[SNP_P384_POINT_SIZE];
	enum snp_check last;	/* the last check to run */
};

static const char *const check_names[SNP_CHECK_COUNT] = {
	[SNP_CHECK_NONE] = "none",
	[SNP_CHECK_REPORT_PARSE] = "report-parse",
	[SNP_CHECK_INPUT] = "input",
	[SNP_CHECK_ARK_PARSE] = "ark-parse",
	[SNP_CHECK_ASK_PARSE] = "ask-parse",
	[SNP_CHECK_VEK_PARSE] = "vek-parse",
	[SNP_CHECK_PRODUCT] = "product",
	[SNP_CHECK_ARK_PIN] = "ark-pin",
	[SNP_CHECK_ARK_KEY] = "ark-key",
	[SNP_CHECK_ARK_SIGNATURE] = "ark-signature",
	[SNP_CHECK_ASK_PIN] = "ask-pin",
	[SNP_CHECK_ASK_ISSUER] = "ask-issuer",
	[SNP_CHECK_ASK_KEY] = "ask-key",
	[SNP_CHECK_ASK_SIGNATURE] = "ask-signature",
	[SNP_CHECK_VEK_ISSUER] = "vek-issuer",
	[SNP_CHECK_VEK_KEY] = "vek-key",
	[SNP_CHECK_VEK_SIGNATURE] = "vek-signature",
	[SNP_CHECK_VALIDITY] = "validity",
	[SNP_CHECK_SIGNING_KEY] = "signing-key",
	[SNP_CHECK_TCB] = "tcb",
	[SNP_CHECK_CHIP_ID] = "chip-id",
	[SNP_CHECK_REPORT_SIGNATURE] = "report-signature",
	[SNP_CHECK_INTERNAL] = "internal",
};

const char *snp_check_name(enum snp_check check)
{
	if ((unsigned int)check >= SNP_CHECK_COUNT)
		return "unknown";
	return check_names[check];
}

const char *snp_check_status_name(enum snp_check_status status)
{
	static const char *const names[] = {
		[SNP_STATUS_NOT_RUN] = "not run",
		[SNP_STATUS_PASS] = "pass",
		[SNP_STATUS_FAIL] = "FAIL",
		[SNP_STATUS_SKIPPED] = "skipped",
		[SNP_STATUS_CACHED] = "cached",
	};

	if ((unsigned int)status >= sizeof(names) / sizeof(names[0]))
		return names[SNP_STATUS_NOT_RUN];
	return names[status];
}

const char *snp_vek_type_name(enum snp_vek_type type)
{
	static const char *const names[] = {
		[SNP_VEK_UNKNOWN] = "unknown",
		[SNP_VEK_VCEK] = "VCEK",
		[SNP_VEK_VLEK] = "VLEK",
	};

	if ((unsigned int)type >= sizeof(names) / sizeof(names[0]))
		return names[SNP_VEK_UNKNOWN];
	return names[type];
}

static int fail(struct vctx *v, enum snp_check check, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct vctx *v, enum snp_check check, int code, const char *fmt, ...)
{
	va_list ap;

	v->res->failed = check;
	v->res->status[check] = SNP_STATUS_FAIL;
	va_start(ap, fmt);
	vsnprintf(v->res->msg, sizeof(v->res->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* Fail check with the message of a snp/ function's error. */
static int fail_err(struct vctx *v, enum snp_check check, const struct snp_err *err)
{
	return fail(v, check, err->code ? err->code : -EINVAL, "%s", err->msg);
}

static char *fmt_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", (long long)t);
	return out;
}

static bool sha_eq(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, SNP_SHA256_SIZE);
}

/* ---- the cache ---- */

struct snp_verify_cache *snp_verify_cache_new(size_t capacity)
{
	struct snp_verify_cache *c;

	if (!capacity || capacity > 1u << 20)
		return NULL;
	c = calloc(1, sizeof(*c) + capacity * sizeof(c->entries[0]));
	if (c)
		c->capacity = capacity;
	return c;
}

void snp_verify_cache_free(struct snp_verify_cache *c)
{
	free(c);
}

size_t snp_verify_cache_count(const struct snp_verify_cache *c)
{
	size_t n = 0;

	for (size_t i = 0; c && i < c->capacity; i++)
		n += c->entries[i].used;
	return n;
}

static void cert_sha(const uint8_t *der, size_t len, uint8_t out[SNP_SHA256_SIZE])
{
	if (mbedtls_sha256(der, len, out, 0))
		memset(out, 0, SNP_SHA256_SIZE);
}

static struct cache_entry *cache_find(struct vctx *v, const uint8_t *vek_sha)
{
	const struct snp_verify_input *in = v->in;
	struct snp_verify_cache *c = in->cache;
	uint8_t ark_sha[SNP_SHA256_SIZE], ask_sha[SNP_SHA256_SIZE];

	if (in->ark)
		cert_sha(in->ark, in->ark_len, ark_sha);
	if (in->ask)
		cert_sha(in->ask, in->ask_len, ask_sha);
	for (size_t i = 0; i < c->capacity; i++) {
		struct cache_entry *e = &c->entries[i];

		if (!e->used || !sha_eq(e->vek.sha256, vek_sha) ||
		    !sha_eq(e->anchors, v->anchors_digest))
			continue;
		/* A different ARK or ASK than the one checked: check again. */
		if ((in->ark && !sha_eq(e->ark.sha256, ark_sha)) ||
		    (in->ask && !sha_eq(e->ask.sha256, ask_sha)))
			continue;
		e->last_use = ++c->clock;
		return e;
	}
	return NULL;
}

static void cache_store(struct vctx *v)
{
	struct snp_verify_cache *c = v->in->cache;
	const struct snp_verify_result *res = v->res;
	struct cache_entry *e = &c->entries[0];

	for (size_t i = 0; i < c->capacity; i++) {
		struct cache_entry *x = &c->entries[i];

		if (x->used && sha_eq(x->vek.sha256, v->vek.sha256) &&
		    sha_eq(x->anchors, v->anchors_digest)) {
			e = x;	/* the same VEK under another ARK/ASK: replace */
			break;
		}
		if (!x->used || x->last_use < e->last_use)
			e = x;
		if (!x->used)
			break;
	}
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->last_use = ++c->clock;
	memcpy(e->anchors, v->anchors_digest, SNP_SHA256_SIZE);
	e->product = res->product;
	e->vek_type = res->vek_type;
	e->ask_role = res->ask_role;
	e->ark = res->ark;
	e->ask = res->ask;
	e->vek = res->vek;
	e->ext = res->ext;
	memcpy(e->point, v->point, SNP_P384_POINT_SIZE);
}

static void cache_load(struct vctx *v, const struct cache_entry *e)
{
	struct snp_verify_result *res = v->res;

	res->cached = true;
	res->vek_type = e->vek_type;
	res->ask_role = e->ask_role;
	res->ark = e->ark;
	res->ask = e->ask;
	res->vek = e->vek;
	res->ext = e->ext;
	memcpy(v->point, e->point, SNP_P384_POINT_SIZE);
	for (int c = SNP_CHECK_ARK_PARSE; c <= SNP_CHECK_VEK_SIGNATURE; c++)
		if (c != SNP_CHECK_PRODUCT)
			res->status[c] = SNP_STATUS_CACHED;
}

/* ---- the steps ---- */

static int step_report_parse(struct vctx *v)
{
	struct snp_err err = { 0 };
	int ret;

	if (v->last < SNP_CHECK_REPORT_SIGNATURE) {
		v->res->status[SNP_CHECK_REPORT_PARSE] = SNP_STATUS_SKIPPED;
		return 0;	/* the chain alone */
	}
	/*
	 * A parsed report is parsed again from its raw bytes: every field
	 * checked then comes from the bytes the signature covers, whatever
	 * the caller's struct says.
	 */
	if (v->in->parsed)
		ret = snp_report_parse(v->in->parsed->raw, SNP_REPORT_SIZE, &v->parsed, &err);
	else if (v->in->report)
		ret = snp_report_parse(v->in->report, v->in->report_len, &v->parsed, &err);
	else
		return fail(v, SNP_CHECK_REPORT_PARSE, -EINVAL, "no report was given");
	if (ret)
		return fail_err(v, SNP_CHECK_REPORT_PARSE, &err);
	v->report = &v->parsed;
	return 0;
}

static int step_input(struct vctx *v)
{
	const struct snp_verify_input *in = v->in;
	struct cache_entry *hit;
	uint8_t vek_sha[SNP_SHA256_SIZE];

	if (!in->vek || !in->vek_len)
		return fail(v, SNP_CHECK_INPUT, -EINVAL, "no VCEK or VLEK certificate was given");
	if (in->cache) {
		cert_sha(in->vek, in->vek_len, vek_sha);
		hit = cache_find(v, vek_sha);
		if (hit) {
			cache_load(v, hit);
			/* The product step compares against the chain's product. */
			v->res->product = hit->product;
			return 0;
		}
	}
	if (!in->ark || !in->ark_len)
		return fail(v, SNP_CHECK_INPUT, -EINVAL, "no ARK certificate was given");
	if (!in->ask || !in->ask_len)
		return fail(v, SNP_CHECK_INPUT, -EINVAL, "no ASK or ASVK certificate was given");
	return 0;
}

static void cert_facts(const struct snp_amd_cert *c, struct snp_cert_facts *f)
{
	f->present = true;
	memcpy(f->cn, c->cn, sizeof(f->cn));
	memcpy(f->issuer_cn, c->issuer_cn, sizeof(f->issuer_cn));
	memcpy(f->sha256, c->sha256, SNP_SHA256_SIZE);
	f->serial_len = c->crt.serial.len < sizeof(f->serial) ? c->crt.serial.len :
								 sizeof(f->serial);
	memcpy(f->serial, c->crt.serial.p, f->serial_len);
	f->not_before = c->not_before;
	f->not_after = c->not_after;
}

static int parse_cert(struct vctx *v, struct snp_amd_cert *c, const uint8_t *der, size_t len,
		      const char *what, enum snp_check check, struct snp_cert_facts *f)
{
	struct snp_err err = { 0 };

	if (snp_amd_cert_parse(c, der, len, what, &err))
		return fail_err(v, check, &err);
	cert_facts(c, f);
	return 0;
}

static int step_ark_parse(struct vctx *v)
{
	return parse_cert(v, &v->ark, v->in->ark, v->in->ark_len, "ARK", SNP_CHECK_ARK_PARSE,
			  &v->res->ark);
}

static int step_ask_parse(struct vctx *v)
{
	return parse_cert(v, &v->ask, v->in->ask, v->in->ask_len, "ASK/ASVK",
			  SNP_CHECK_ASK_PARSE, &v->res->ask);
}

static int step_vek_parse(struct vctx *v)
{
	struct snp_verify_result *res = v->res;
	int ret;

	ret = parse_cert(v, &v->vek, v->in->vek, v->in->vek_len, "VEK", SNP_CHECK_VEK_PARSE,
			 &res->vek);
	if (ret)
		return ret;
	res->ext = v->vek.ext;
	if (!strcmp(v->vek.cn, "SEV-VCEK"))
		res->vek_type = SNP_VEK_VCEK;
	else if (!strcmp(v->vek.cn, "SEV-VLEK"))
		res->vek_type = SNP_VEK_VLEK;
	return 0;
}

static void ext_tcb(const struct snp_vek_ext *ext, struct snp_tcb *t)
{
	memset(t, 0, sizeof(*t));
	t->fmc = ext->spl[SNP_EXT_FMC_SPL];
	t->bootloader = ext->spl[SNP_EXT_BL_SPL];
	t->tee = ext->spl[SNP_EXT_TEE_SPL];
	t->snp = ext->spl[SNP_EXT_SNP_SPL];
	t->microcode = ext->spl[SNP_EXT_UCODE_SPL];
}

static enum snp_product agree(enum snp_product a, enum snp_product b)
{
	return a == SNP_PRODUCT_UNKNOWN ? b : a;
}

static int step_product(struct vctx *v)
{
	struct snp_verify_result *res = v->res;
	enum snp_product hint = v->in->product, cpu, name, p;
	const char *pn = res->ext.product_name;
	bool has_name = snp_vek_ext_has(&res->ext, SNP_EXT_PRODUCT_NAME);
	struct snp_tcb t;

	cpu = v->report ? v->report->cpuid_product : SNP_PRODUCT_UNKNOWN;
	name = has_name ? snp_product_from_name(pn, strlen(pn)) : SNP_PRODUCT_UNKNOWN;
	res->cpuid_product = cpu;
	res->name_product = name;
	if (has_name && name == SNP_PRODUCT_UNKNOWN)
		return fail(v, SNP_CHECK_PRODUCT, -EACCES,
			    "the VEK's productName \"%s\" is no known SEV-SNP product", pn);
	p = agree(agree(cpu, name), hint);
	if (p == SNP_PRODUCT_UNKNOWN)
		return fail(v, SNP_CHECK_PRODUCT, -EACCES,
			    "cannot tell the product: %s, the VEK has no productName and no product was given",
			    v->report ? "the report has no CPUID (v2)" : "there is no report");
	if ((cpu && cpu != p) || (name && name != p) || (hint && hint != p) ||
	    (res->cached && res->product != p))
		return fail(v, SNP_CHECK_PRODUCT, -EACCES,
			    "products disagree: report CPUID says %s, VEK productName \"%s\" says %s, the hint says %s%s%s",
			    snp_product_name(cpu), pn, snp_product_name(name),
			    snp_product_name(hint), res->cached ? ", the cached chain is for " : "",
			    res->cached ? snp_product_name(res->product) : "");
	res->product = p;
	ext_tcb(&res->ext, &t);
	res->vek_tcb = snp_tcb_encode(&t, p);
	return 0;
}

static int check_pin(struct vctx *v, enum snp_check check, const struct snp_pin *pin,
		     const struct snp_amd_cert *c, enum snp_root_role role)
{
	char got[65], want[65];

	if (sha_eq(pin->sha256, c->sha256))
		return 0;
	return fail(v, check, -EKEYREJECTED,
		    "%s \"%s\" has SHA-256 %s; the %s %s for %s is %s", snp_root_role_name(role),
		    c->cn, snp_hex(got, c->sha256, SNP_SHA256_SIZE), v->anchors.name,
		    snp_root_role_name(role), snp_product_name(v->res->product),
		    snp_hex(want, pin->sha256, SNP_SHA256_SIZE));
}

static int step_ark_pin(struct vctx *v)
{
	enum snp_product p = v->res->product;
	const struct snp_pin *pin = snp_anchors_get(&v->anchors, p, SNP_ROOT_ARK);

	if (!pin)
		return fail(v, SNP_CHECK_ARK_PIN, -EKEYREJECTED,
			    "the %s trust anchors have no ARK for %s", v->anchors.name,
			    snp_product_name(p));
	return check_pin(v, SNP_CHECK_ARK_PIN, pin, &v->ark, SNP_ROOT_ARK);
}

static int check_rsa_key(struct vctx *v, enum snp_check check, const struct snp_amd_cert *c,
			 const char *what)
{
	struct snp_err err = { 0 };

	if (snp_amd_cert_check_rsa(c, ROOT_RSA_BITS, what, &err))
		return fail_err(v, check, &err);
	return 0;
}

static int step_ark_key(struct vctx *v)
{
	return check_rsa_key(v, SNP_CHECK_ARK_KEY, &v->ark, "ARK");
}

static bool same_name(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b)
{
	return a->len == b->len && !memcmp(a->p, b->p, a->len);
}

static int check_signed(struct vctx *v, enum snp_check check, const struct snp_amd_cert *c,
			const struct snp_amd_cert *issuer, const char *what)
{
	struct snp_err err = { 0 };

	if (snp_amd_cert_verify_signed_by(c, issuer, what, &err))
		return fail_err(v, check, &err);
	return 0;
}

static int step_ark_signature(struct vctx *v)
{
	if (!same_name(&v->ark.crt.issuer_raw, &v->ark.crt.subject_raw))
		return fail(v, SNP_CHECK_ARK_SIGNATURE, -EKEYREJECTED,
			    "ARK \"%s\" is issued by \"%s\", not by itself", v->ark.cn,
			    v->ark.issuer_cn);
	return check_signed(v, SNP_CHECK_ARK_SIGNATURE, &v->ark, &v->ark, "ARK");
}

/*
 * The ASK or ASVK: a pinned certificate says which it is. When the anchor
 * set pins neither for this product, its CN does ("SEV-VLEK-..." is an
 * ASVK), and only the ARK's signature vouches for it.
 */
static int step_ask_pin(struct vctx *v)
{
	struct snp_verify_result *res = v->res;
	enum snp_product p = res->product;
	const struct snp_pin *ask = snp_anchors_get(&v->anchors, p, SNP_ROOT_ASK);
	const struct snp_pin *asvk = snp_anchors_get(&v->anchors, p, SNP_ROOT_ASVK);
	const struct snp_pin *pin;

	if (ask && sha_eq(ask->sha256, v->ask.sha256)) {
		res->ask_role = SNP_ROOT_ASK;
		return 0;
	}
	if (asvk && sha_eq(asvk->sha256, v->ask.sha256)) {
		res->ask_role = SNP_ROOT_ASVK;
		return 0;
	}
	res->ask_role = !strncmp(v->ask.cn, "SEV-VLEK-", 9) ? SNP_ROOT_ASVK : SNP_ROOT_ASK;
	pin = res->ask_role == SNP_ROOT_ASK ? ask : asvk;
	if (pin)
		return check_pin(v, SNP_CHECK_ASK_PIN, pin, &v->ask, res->ask_role);
	return 0;
}

static int step_ask_issuer(struct vctx *v)
{
	if (!same_name(&v->ask.crt.issuer_raw, &v->ark.crt.subject_raw))
		return fail(v, SNP_CHECK_ASK_ISSUER, -EACCES,
			    "%s \"%s\" is issued by \"%s\", not by the ARK \"%s\"",
			    snp_root_role_name(v->res->ask_role), v->ask.cn, v->ask.issuer_cn,
			    v->ark.cn);
	return 0;
}

static int step_ask_key(struct vctx *v)
{
	return check_rsa_key(v, SNP_CHECK_ASK_KEY, &v->ask,
			     snp_root_role_name(v->res->ask_role));
}

static int step_ask_signature(struct vctx *v)
{
	return check_signed(v, SNP_CHECK_ASK_SIGNATURE, &v->ask, &v->ark,
			    snp_root_role_name(v->res->ask_role));
}

static int step_vek_issuer(struct vctx *v)
{
	if (!same_name(&v->vek.crt.issuer_raw, &v->ask.crt.subject_raw))
		return fail(v, SNP_CHECK_VEK_ISSUER, -EACCES,
			    "VEK \"%s\" is issued by \"%s\", not by the %s \"%s\"", v->vek.cn,
			    v->vek.issuer_cn, snp_root_role_name(v->res->ask_role), v->ask.cn);
	return 0;
}

static int step_vek_key(struct vctx *v)
{
	struct snp_err err = { 0 };

	if (snp_amd_cert_p384_point(&v->vek, v->point, &err))
		return fail_err(v, SNP_CHECK_VEK_KEY, &err);
	return 0;
}

static int step_vek_signature(struct vctx *v)
{
	int ret = check_signed(v, SNP_CHECK_VEK_SIGNATURE, &v->vek, &v->ask,
			       snp_vek_type_name(v->res->vek_type));

	/* The whole chain holds: remember it (validity is checked per use). */
	if (!ret && v->in->cache)
		cache_store(v);
	return ret;
}

static int check_validity(struct vctx *v, const struct snp_cert_facts *f, const char *what)
{
	int64_t now = (int64_t)v->in->now;
	char nb[32], na[32], t[32];

	if (now >= f->not_before && now <= f->not_after)
		return 0;
	return fail(v, SNP_CHECK_VALIDITY, -EACCES,
		    "%s \"%s\" is valid from %s to %s; the time given is %s (%s)", what, f->cn,
		    fmt_time(nb, f->not_before), fmt_time(na, f->not_after), fmt_time(t, now),
		    now < f->not_before ? "not yet valid" : "expired");
}

static int step_validity(struct vctx *v)
{
	struct snp_verify_result *res = v->res;
	int ret;

	ret = check_validity(v, &res->ark, "ARK");
	if (!ret)
		ret = check_validity(v, &res->ask, snp_root_role_name(res->ask_role));
	if (!ret)
		ret = check_validity(v, &res->vek, snp_vek_type_name(res->vek_type));
	return ret;
}

static int step_signing_key(struct vctx *v)
{
	struct snp_verify_result *res = v->res;
	enum snp_signing_key sk = v->report->signing_key;
	bool vlek = sk == SNP_SIGNING_KEY_VLEK;
	const char *want_vek = vlek ? "SEV-VLEK" : "SEV-VCEK";
	enum snp_root_role want_role = vlek ? SNP_ROOT_ASVK : SNP_ROOT_ASK;
	char want_ask[32];

	if (sk != SNP_SIGNING_KEY_VCEK && sk != SNP_SIGNING_KEY_VLEK)
		return fail(v, SNP_CHECK_SIGNING_KEY, -EACCES,
			    "report KEY_INFO.SIGNING_KEY is %u: no key signed this report", sk);
	snprintf(want_ask, sizeof(want_ask), "SEV-%s%s", vlek ? "VLEK-" : "",
		 snp_product_name(res->product));
	if (strcmp(res->vek.cn, want_vek) || strcmp(res->ask.cn, want_ask) ||
	    res->ask_role != want_role)
		return fail(v, SNP_CHECK_SIGNING_KEY, -EACCES,
			    "report SIGNING_KEY %u (%s) wants %s under %s \"%s\"; the chain has \"%s\" under %s \"%s\"",
			    sk, vlek ? "VLEK" : "VCEK", want_vek, snp_root_role_name(want_role),
			    want_ask, res->vek.cn, snp_root_role_name(res->ask_role), res->ask.cn);
	return 0;
}

/* The SPL extensions the product's TCB has are present; the rest absent or 0. */
static int check_tcb_extensions(struct vctx *v)
{
	static const enum snp_vek_ext_id reserved[] = {
		SNP_EXT_SPL_4, SNP_EXT_SPL_5, SNP_EXT_SPL_6, SNP_EXT_SPL_7,
	};
	static const enum snp_vek_ext_id needed[] = {
		SNP_EXT_BL_SPL, SNP_EXT_TEE_SPL, SNP_EXT_SNP_SPL, SNP_EXT_UCODE_SPL,
	};
	const struct snp_vek_ext *ext = &v->res->ext;
	bool turin = v->res->product == SNP_PRODUCT_TURIN;

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!snp_vek_ext_has(ext, needed[i]))
			return fail(v, SNP_CHECK_TCB, -EACCES, "the VEK has no %s extension",
				    snp_vek_ext_name(needed[i]));
	if (turin != snp_vek_ext_has(ext, SNP_EXT_FMC_SPL))
		return fail(v, SNP_CHECK_TCB, -EACCES, "the %s VEK %s an fmcSPL extension",
			    snp_product_name(v->res->product), turin ? "lacks" : "has");
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (ext->spl[reserved[i]])
			return fail(v, SNP_CHECK_TCB, -EACCES,
				    "the VEK's reserved %s extension is %u; it must be 0",
				    snp_vek_ext_name(reserved[i]), ext->spl[reserved[i]]);
	return 0;
}

static int step_tcb(struct vctx *v)
{
	struct snp_verify_result *res = v->res;
	uint64_t reported = v->report->reported_tcb;
	char want[64], got[64];
	int ret;

	ret = check_tcb_extensions(v);
	if (ret)
		return ret;
	/* All 64 bits: a reserved byte set in REPORTED_TCB is a mismatch too. */
	if (res->vek_tcb == reported)
		return 0;
	snp_tcb_format(want, sizeof(want), res->vek_tcb, res->product);
	snp_tcb_format(got, sizeof(got), reported, res->product);
	return fail(v, SNP_CHECK_TCB, -EACCES,
		    "the VEK is for TCB 0x%016llx (%s); REPORTED_TCB is 0x%016llx (%s)",
		    (unsigned long long)res->vek_tcb, want, (unsigned long long)reported, got);
}

static int step_chip_id(struct vctx *v)
{
	struct snp_verify_result *res = v->res;
	const struct snp_vek_ext *ext = &res->ext;
	size_t n = snp_chip_id_len(res->product);
	char a[2 * SNP_CHIP_ID_SIZE + 1], b[2 * SNP_CHIP_ID_SIZE + 1];

	if (res->vek_type == SNP_VEK_VLEK) {
		if (snp_vek_ext_has(ext, SNP_EXT_HWID))
			return fail(v, SNP_CHECK_CHIP_ID, -EACCES,
				    "the VLEK carries a hwID; a VLEK is not tied to one chip");
		res->status[SNP_CHECK_CHIP_ID] = SNP_STATUS_SKIPPED;
		return 0;
	}
	if (v->report->mask_chip_key) {
		res->status[SNP_CHECK_CHIP_ID] = SNP_STATUS_SKIPPED;
		return 0;
	}
	if (!snp_vek_ext_has(ext, SNP_EXT_HWID) || ext->hwid_len != n)
		return fail(v, SNP_CHECK_CHIP_ID, -EACCES,
			    "the VCEK's hwID is %zu bytes; a %s chip id is %zu",
			    ext->hwid_len, snp_product_name(res->product), n);
	if (memcmp(ext->hwid, v->report->chip_id, n))
		return fail(v, SNP_CHECK_CHIP_ID, -EACCES,
			    "the VCEK is for chip %s; the report's CHIP_ID is %s",
			    snp_hex(a, ext->hwid, n), snp_hex(b, v->report->chip_id, n));
	/* Turin's chip id is 8 bytes; the field's other 56 are zero. */
	if (!snp_all_zero(v->report->chip_id + n, SNP_CHIP_ID_SIZE - n))
		return fail(v, SNP_CHECK_CHIP_ID, -EACCES,
			    "the report's CHIP_ID has bytes set after its %zu-byte %s chip id",
			    n, snp_product_name(res->product));
	return 0;
}

static int step_report_signature(struct vctx *v)
{
	struct snp_err err = { 0 };

	if (snp_verify_report_signature(v->report, v->point, &err))
		return fail_err(v, SNP_CHECK_REPORT_SIGNATURE, &err);
	return 0;
}

typedef int (*step_fn)(struct vctx *v);

static const step_fn steps[SNP_CHECK_COUNT] = {
	[SNP_CHECK_REPORT_PARSE] = step_report_parse,
	[SNP_CHECK_INPUT] = step_input,
	[SNP_CHECK_ARK_PARSE] = step_ark_parse,
	[SNP_CHECK_ASK_PARSE] = step_ask_parse,
	[SNP_CHECK_VEK_PARSE] = step_vek_parse,
	[SNP_CHECK_PRODUCT] = step_product,
	[SNP_CHECK_ARK_PIN] = step_ark_pin,
	[SNP_CHECK_ARK_KEY] = step_ark_key,
	[SNP_CHECK_ARK_SIGNATURE] = step_ark_signature,
	[SNP_CHECK_ASK_PIN] = step_ask_pin,
	[SNP_CHECK_ASK_ISSUER] = step_ask_issuer,
	[SNP_CHECK_ASK_KEY] = step_ask_key,
	[SNP_CHECK_ASK_SIGNATURE] = step_ask_signature,
	[SNP_CHECK_VEK_ISSUER] = step_vek_issuer,
	[SNP_CHECK_VEK_KEY] = step_vek_key,
	[SNP_CHECK_VEK_SIGNATURE] = step_vek_signature,
	[SNP_CHECK_VALIDITY] = step_validity,
	[SNP_CHECK_SIGNING_KEY] = step_signing_key,
	[SNP_CHECK_TCB] = step_tcb,
	[SNP_CHECK_CHIP_ID] = step_chip_id,
	[SNP_CHECK_REPORT_SIGNATURE] = step_report_signature,
};

static int run_steps(struct vctx *v)
{
	enum snp_check_status *status = v->res->status;

	for (int c = SNP_CHECK_REPORT_PARSE; c <= (int)v->last; c++) {
		int ret;

		if (status[c] != SNP_STATUS_NOT_RUN)
			continue;	/* answered by the cache */
		ret = steps[c](v);
		if (ret) {
			if (v->res->failed == SNP_CHECK_NONE)
				fail(v, (enum snp_check)c, ret, "%s failed (%d)",
				     snp_check_name((enum snp_check)c), ret);
			return ret;
		}
		if (status[c] == SNP_STATUS_NOT_RUN)
			status[c] = SNP_STATUS_PASS;
	}
	return 0;
}

static int verify(const struct snp_verify_input *in, struct snp_verify_result *res,
		  enum snp_check last)
{
	struct vctx *v;
	int ret;

	memset(res, 0, sizeof(*res));
	/* The context holds three parsed certificates and a report: heap, not stack. */
	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(res->msg, sizeof(res->msg), "out of memory");
		res->failed = SNP_CHECK_INTERNAL;
		return -ENOMEM;
	}
	v->in = in;
	v->res = res;
	v->last = last;
	if (in->anchors)
		v->anchors = *in->anchors;
	else
		snp_anchors_amd(&v->anchors);
	memcpy(res->anchors, v->anchors.name, sizeof(res->anchors));
	snp_anchors_digest(&v->anchors, v->anchors_digest);
	snp_amd_cert_init(&v->ark);
	snp_amd_cert_init(&v->ask);
	snp_amd_cert_init(&v->vek);
	ret = run_steps(v);
	snp_amd_cert_free(&v->ark);
	snp_amd_cert_free(&v->ask);
	snp_amd_cert_free(&v->vek);
	free(v);
	return ret;
}

int snp_verify(const struct snp_verify_input *in, struct snp_verify_result *res)
{
	return verify(in, res, SNP_CHECK_REPORT_SIGNATURE);
}

int snp_verify_chain(const struct snp_verify_input *in, struct snp_verify_result *res)
{
	return verify(in, res, SNP_CHECK_VALIDITY);
}

/* r or s as an integer in [1, n-1]. */
static int sig_scalar(mbedtls_mpi *x, const uint8_t *be, const mbedtls_ecp_group *grp,
		      const char *what, const char *name, struct snp_err *err)
{
	char hex[2 * SNP_P384_SIZE + 1];

	if (mbedtls_mpi_read_binary(x, be, SNP_P384_SIZE))
		return snp_errf(err, -ENOMEM, "%s: out of memory reading %s", what, name);
	if (mbedtls_mpi_cmp_int(x, 1) < 0 || mbedtls_mpi_cmp_mpi(x, &grp->N) >= 0)
		return snp_errf(err, -EKEYREJECTED,
				"%s: %s is 0x%s; it must be from 1 to the P-384 order minus 1",
				what, name, snp_hex(hex, be, SNP_P384_SIZE));
	return 0;
}

int snp_verify_p384(const uint8_t point[SNP_P384_POINT_SIZE], const uint8_t r_be[SNP_P384_SIZE],
		    const uint8_t s_be[SNP_P384_SIZE], const void *data, size_t len,
		    const char *what, struct snp_err *err)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi r, s;
	uint8_t hash[48];
	int ret;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) ||
	    mbedtls_ecp_point_read_binary(&grp, &q, point, SNP_P384_POINT_SIZE) ||
	    mbedtls_ecp_check_pubkey(&grp, &q)) {
		ret = snp_errf(err, -EKEYREJECTED, "%s: the key is not a P-384 point", what);
		goto out;
	}
	ret = sig_scalar(&r, r_be, &grp, what, "R", err);
	if (!ret)
		ret = sig_scalar(&s, s_be, &grp, what, "S", err);
	if (ret)
		goto out;
	if (mbedtls_sha512(data, len, hash, 1)) {
		ret = snp_errf(err, -EIO, "%s: SHA-384 failed", what);
		goto out;
	}
	if (mbedtls_ecdsa_verify(&grp, hash, sizeof(hash), &q, &r, &s))
		ret = snp_errf(err, -EKEYREJECTED, "%s does not verify (ECDSA P-384, SHA-384)",
			       what);
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	return ret;
}

int snp_verify_report_signature(const struct snp_report *report,
				const uint8_t point[SNP_P384_POINT_SIZE], struct snp_err *err)
{
	/* Over the bytes as signed: never a re-encoding of the fields. */
	return snp_verify_p384(point, report->sig_r, report->sig_s, report->raw,
			       SNP_REPORT_SIGNED_SIZE,
			       "the report signature over bytes 0x000-0x29F with the VEK's key",
			       err);
}
