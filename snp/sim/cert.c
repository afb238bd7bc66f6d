// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Certificates shaped like AMD's, written as DER by hand: mbedTLS's
 * certificate writer cannot sign with RSASSA-PSS (and is not built).
 * Shapes copied from AMD's own (see the asn1parse of a real ARK, ASK and
 * VCEK): the same RDNs in the same order and string types, the same
 * extensions in the same order with the same encodings, including AMD's
 * quirks: serial 0 in VCEKs, the PSS trailerField written out in ARK and
 * ASK but left to its default in VCEKs, TCB values as DER INTEGERs
 * (ucode 219 is 02 02 00 db) and hwID as raw bytes, not an OCTET STRING.
 * Only O and the CRL addresses differ, so nobody takes them for AMD's.
 *
 * mbedtls/asn1write.h writes backwards from the end of a buffer, so each
 * function below writes its parts last to first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha512.h>

#include "snp/sim/internal.h"

#define OID_AMD(x)	MBEDTLS_OID_ISO_IDENTIFIED_ORG "\x06\x01\x04\x01\x9c\x78\x01" x
#define OID_LEN(oid)	(sizeof(oid) - 1)
#define SEQ		(MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define SET		(MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET)
#define CTX(n)		(MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | (n))
#define CHK(len, f)	MBEDTLS_ASN1_CHK_ADD(len, f)

enum {
	PSS_SALT_LEN = 48,
	SHA384_LEN = 48,
	SKI_LEN = 20,
	EXT_VAL_MAX = 160,
	EXT_MAX = 12,
	TBS_MAX = 4096,
	SIG_MAX = 1024,
};

static const char simulator_org[] = "snp-unseal simulator (test only, not AMD)";

/* The tag and length of the len bytes just written; returns their size. */
static int hdr(unsigned char **p, unsigned char *start, size_t len, unsigned char tag)
{
	size_t n = 0;
	int ret;

	CHK(n, mbedtls_asn1_write_len(p, start, len));
	CHK(n, mbedtls_asn1_write_tag(p, start, tag));
	return (int)n;
}

static int write_sha384_alg(unsigned char **p, unsigned char *start)
{
	return mbedtls_asn1_write_algorithm_identifier(p, start, MBEDTLS_OID_DIGEST_ALG_SHA384,
							OID_LEN(MBEDTLS_OID_DIGEST_ALG_SHA384), 0);
}

/* RSASSA-PSS, SHA-384, MGF1 with SHA-384, salt 48 [, trailerField 1]. */
static int write_pss_alg(unsigned char **p, unsigned char *start, bool trailer)
{
	size_t len = 0, sub;
	int ret;

	if (trailer) {
		sub = 0;
		CHK(sub, mbedtls_asn1_write_int(p, start, 1));
		CHK(sub, hdr(p, start, sub, CTX(3)));
		len += sub;
	}
	sub = 0;
	CHK(sub, mbedtls_asn1_write_int(p, start, PSS_SALT_LEN));
	CHK(sub, hdr(p, start, sub, CTX(2)));
	len += sub;
	sub = 0;
	CHK(sub, write_sha384_alg(p, start));
	CHK(sub, mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_MGF1, OID_LEN(MBEDTLS_OID_MGF1)));
	CHK(sub, hdr(p, start, sub, SEQ));
	CHK(sub, hdr(p, start, sub, CTX(1)));
	len += sub;
	sub = 0;
	CHK(sub, write_sha384_alg(p, start));
	CHK(sub, hdr(p, start, sub, CTX(0)));
	len += sub;
	CHK(len, hdr(p, start, len, SEQ));
	CHK(len, mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_RSASSA_PSS,
					OID_LEN(MBEDTLS_OID_RSASSA_PSS)));
	CHK(len, hdr(p, start, len, SEQ));
	return (int)len;
}

static int write_rdn(unsigned char **p, unsigned char *start, const char *oid,
		     size_t oid_len, int str_tag, const char *val)
{
	size_t len = 0;
	int ret;

	CHK(len, mbedtls_asn1_write_tagged_string(p, start, str_tag, val, strlen(val)));
	CHK(len, mbedtls_asn1_write_oid(p, start, oid, oid_len));
	CHK(len, hdr(p, start, len, SEQ));
	CHK(len, hdr(p, start, len, SET));
	return (int)len;
}

/* OU, C, L, ST, O, CN: AMD's order and string types. */
static int write_name(unsigned char **p, unsigned char *start, const char *cn)
{
	size_t len = 0;
	int ret;

	CHK(len, write_rdn(p, start, MBEDTLS_OID_AT_CN, OID_LEN(MBEDTLS_OID_AT_CN),
			   MBEDTLS_ASN1_UTF8_STRING, cn));
	CHK(len, write_rdn(p, start, MBEDTLS_OID_AT_ORGANIZATION,
			   OID_LEN(MBEDTLS_OID_AT_ORGANIZATION), MBEDTLS_ASN1_UTF8_STRING,
			   simulator_org));
	CHK(len, write_rdn(p, start, MBEDTLS_OID_AT_STATE, OID_LEN(MBEDTLS_OID_AT_STATE),
			   MBEDTLS_ASN1_UTF8_STRING, "CA"));
	CHK(len, write_rdn(p, start, MBEDTLS_OID_AT_LOCALITY, OID_LEN(MBEDTLS_OID_AT_LOCALITY),
			   MBEDTLS_ASN1_UTF8_STRING, "Santa Clara"));
	CHK(len, write_rdn(p, start, MBEDTLS_OID_AT_COUNTRY, OID_LEN(MBEDTLS_OID_AT_COUNTRY),
			   MBEDTLS_ASN1_PRINTABLE_STRING, "US"));
	CHK(len, write_rdn(p, start, MBEDTLS_OID_AT_ORG_UNIT, OID_LEN(MBEDTLS_OID_AT_ORG_UNIT),
			   MBEDTLS_ASN1_UTF8_STRING, "Engineering"));
	CHK(len, hdr(p, start, len, SEQ));
	return (int)len;
}

/* UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
static int write_time(unsigned char **p, unsigned char *start, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[20];
	int n, year;

	if (!gmtime_r(&tt, &tm))
		return MBEDTLS_ERR_ASN1_INVALID_DATA;
	year = tm.tm_year + 1900;
	if (year >= 1950 && year < 2050) {
		n = snprintf(buf, sizeof(buf), "%02d%02d%02d%02d%02d%02dZ", year % 100,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		return mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_UTC_TIME, buf,
							(size_t)n);
	}
	n = snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return mbedtls_asn1_write_tagged_string(p, start, MBEDTLS_ASN1_GENERALIZED_TIME, buf,
						(size_t)n);
}

static int64_t add_years(int64_t t, int years)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	tm.tm_year += years;
	return (int64_t)timegm(&tm);
}

static int write_validity(unsigned char **p, unsigned char *start, int64_t from, int years)
{
	size_t len = 0;
	int ret;

	CHK(len, write_time(p, start, add_years(from, years)));
	CHK(len, write_time(p, start, from));
	CHK(len, hdr(p, start, len, SEQ));
	return (int)len;
}

/* SubjectPublicKeyInfo: mbedTLS writes it at the end of [start, *p). */
static int write_spki(unsigned char **p, unsigned char *start, mbedtls_pk_context *key)
{
	int n = mbedtls_pk_write_pubkey_der(key, start, (size_t)(*p - start));

	if (n > 0)
		*p -= n;
	return n;
}

/* RFC 5280's method 1: SHA-1 of the subjectPublicKey bits. */
static int key_id(mbedtls_pk_context *key, uint8_t id[SKI_LEN])
{
	unsigned char buf[2048], *p = buf + sizeof(buf);
	int n = mbedtls_pk_write_pubkey(&p, buf, key);

	if (n < 0)
		return n;
	return mbedtls_sha1(p, (size_t)n, id);
}

struct ext {
	const char *oid;
	size_t oid_len;
	bool critical;
	uint8_t val[EXT_VAL_MAX];	/* the content of extnValue */
	size_t len;
};

struct ext_list {
	struct ext e[EXT_MAX];
	size_t n;
};

static struct ext *ext_add(struct ext_list *l, const char *oid, size_t oid_len, bool critical)
{
	struct ext *e = &l->e[l->n++];

	e->oid = oid;
	e->oid_len = oid_len;
	e->critical = critical;
	e->len = 0;
	return e;
}

static void ext_bytes(struct ext_list *l, const char *oid, size_t oid_len, bool critical,
		      const void *val, size_t len)
{
	struct ext *e = ext_add(l, oid, oid_len, critical);

	memcpy(e->val, val, len);
	e->len = len;
}

/* A DER INTEGER, minimal: 219 is 02 02 00 db. */
static int ext_int(struct ext_list *l, const char *oid, size_t oid_len, int v)
{
	struct ext *e = ext_add(l, oid, oid_len, false);
	unsigned char *p = e->val + sizeof(e->val);
	int n = mbedtls_asn1_write_int(&p, e->val, v);

	if (n < 0)
		return n;
	memmove(e->val, p, (size_t)n);
	e->len = (size_t)n;
	return 0;
}

static int ext_ia5(struct ext_list *l, const char *oid, size_t oid_len, const char *s)
{
	struct ext *e = ext_add(l, oid, oid_len, false);
	size_t n = strlen(s);

	if (n > sizeof(e->val) - 2 || n > 127)
		return MBEDTLS_ERR_ASN1_BUF_TOO_SMALL;
	e->val[0] = MBEDTLS_ASN1_IA5_STRING;
	e->val[1] = (uint8_t)n;
	memcpy(e->val + 2, s, n);
	e->len = n + 2;
	return 0;
}

static void ext_key_ids(struct ext_list *l, const uint8_t ski[SKI_LEN],
			const uint8_t *aki)
{
	uint8_t v[4 + SKI_LEN] = { 0x04, SKI_LEN };

	memcpy(v + 2, ski, SKI_LEN);
	ext_bytes(l, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER,
		  OID_LEN(MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER), false, v, 2 + SKI_LEN);
	if (!aki)
		return;
	v[0] = 0x30, v[1] = SKI_LEN + 2, v[2] = 0x80, v[3] = SKI_LEN;
	memcpy(v + 4, aki, SKI_LEN);
	ext_bytes(l, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
		  OID_LEN(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), false, v, 4 + SKI_LEN);
}

/* CRLDistributionPoints with one fullName URI, as AMD's. */
static void ext_crl(struct ext_list *l, const char *kind, enum snp_product product)
{
	struct ext *e = ext_add(l, MBEDTLS_OID_CRL_DISTRIBUTION_POINTS,
				OID_LEN(MBEDTLS_OID_CRL_DISTRIBUTION_POINTS), false);
	char uri[100];
	int n = snprintf(uri, sizeof(uri), "https://snp-sim.invalid/%s/v1/%s/crl", kind,
			 snp_product_name(product));
	uint8_t *v = e->val;

	v[0] = 0x30, v[1] = (uint8_t)(n + 8);
	v[2] = 0x30, v[3] = (uint8_t)(n + 6);
	v[4] = 0xa0, v[5] = (uint8_t)(n + 4);
	v[6] = 0xa0, v[7] = (uint8_t)(n + 2);
	v[8] = 0x86, v[9] = (uint8_t)n;
	memcpy(v + 10, uri, (size_t)n);
	e->len = (size_t)n + 10;
}

static const uint8_t ku_ark[] = { 0x03, 0x02, 0x01, 0x06 };	/* keyCertSign, cRLSign */
static const uint8_t ku_ask[] = { 0x03, 0x02, 0x01, 0x04 };	/* keyCertSign, as AMD writes it */
static const uint8_t bc_ark[] = { 0x30, 0x03, 0x01, 0x01, 0xff };
static const uint8_t bc_ask[] = { 0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00 };

static int root_exts(const struct sim_cert_req *req, struct ext_list *l)
{
	uint8_t ski[SKI_LEN], aki[SKI_LEN];
	const char *kdsdir = req->kind == SIM_CERT_ASVK ? "vlek" : "vcek";
	int ret;

	ret = key_id(req->subject, ski);
	if (ret)
		return ret;
	if (req->kind == SIM_CERT_ARK) {
		ext_bytes(l, MBEDTLS_OID_KEY_USAGE, OID_LEN(MBEDTLS_OID_KEY_USAGE), true,
			  ku_ark, sizeof(ku_ark));
		ext_key_ids(l, ski, NULL);
		ext_bytes(l, MBEDTLS_OID_BASIC_CONSTRAINTS, OID_LEN(MBEDTLS_OID_BASIC_CONSTRAINTS),
			  true, bc_ark, sizeof(bc_ark));
		ext_crl(l, kdsdir, req->product);
		return 0;
	}
	ret = key_id(req->issuer, aki);
	if (ret)
		return ret;
	ext_key_ids(l, ski, aki);
	ext_bytes(l, MBEDTLS_OID_BASIC_CONSTRAINTS, OID_LEN(MBEDTLS_OID_BASIC_CONSTRAINTS), true,
		  bc_ask, sizeof(bc_ask));
	ext_bytes(l, MBEDTLS_OID_KEY_USAGE, OID_LEN(MBEDTLS_OID_KEY_USAGE), true, ku_ask,
		  sizeof(ku_ask));
	ext_crl(l, kdsdir, req->product);
	return 0;
}

/*
 * The TCB SPL extensions, one per TCB byte, in the order AMD's KDS writes
 * them: .3.N for Milan and Genoa bytes 0-7, then Turin's.
 */
static const char *const spl_oids_milan[8] = {
	OID_AMD("\x03\x01"), OID_AMD("\x03\x02"), OID_AMD("\x03\x04"), OID_AMD("\x03\x05"),
	OID_AMD("\x03\x06"), OID_AMD("\x03\x07"), OID_AMD("\x03\x03"), OID_AMD("\x03\x08"),
};

static const char *const spl_oids_turin[8] = {
	OID_AMD("\x03\x09"), OID_AMD("\x03\x01"), OID_AMD("\x03\x02"), OID_AMD("\x03\x03"),
	OID_AMD("\x03\x05"), OID_AMD("\x03\x06"), OID_AMD("\x03\x07"), OID_AMD("\x03\x08"),
};

static const char *vek_product_name(const struct sim_cert_req *req)
{
	/* AMD's VCEKs for Milan say the stepping; VLEKs and later parts do not. */
	if (req->kind == SIM_CERT_VCEK && req->product == SNP_PRODUCT_MILAN)
		return "Milan-B0";
	return snp_product_name(req->product);
}

static int vek_exts(const struct sim_cert_req *req, struct ext_list *l)
{
	bool turin = req->product == SNP_PRODUCT_TURIN;
	const char *const *oids = turin ? spl_oids_turin : spl_oids_milan;
	int ret;

	ret = ext_int(l, OID_AMD("\x01"), OID_LEN(OID_AMD("\x01")), turin ? 1 : 0);
	if (!ret)
		ret = ext_ia5(l, OID_AMD("\x02"), OID_LEN(OID_AMD("\x02")), vek_product_name(req));
	for (int i = 0; i < 8 && !ret; i++)
		ret = ext_int(l, oids[i], OID_LEN(OID_AMD("\x03\x01")),
			      (int)(uint8_t)(req->tcb >> (8 * i)));
	if (ret)
		return ret;
	if (req->kind == SIM_CERT_VLEK)
		return ext_ia5(l, OID_AMD("\x05"), OID_LEN(OID_AMD("\x05")), req->csp_id);
	ext_bytes(l, OID_AMD("\x04"), OID_LEN(OID_AMD("\x04")), false, req->hwid,
		  snp_chip_id_len(req->product));
	return 0;
}

static int write_exts(unsigned char **p, unsigned char *start, const struct ext_list *l)
{
	size_t len = 0;
	int ret;

	for (size_t i = l->n; i-- > 0;) {
		const struct ext *e = &l->e[i];
		size_t sub = 0;

		CHK(sub, mbedtls_asn1_write_octet_string(p, start, e->val, e->len));
		if (e->critical)
			CHK(sub, mbedtls_asn1_write_bool(p, start, 1));
		CHK(sub, mbedtls_asn1_write_oid(p, start, e->oid, e->oid_len));
		CHK(sub, hdr(p, start, sub, SEQ));
		len += sub;
	}
	CHK(len, hdr(p, start, len, SEQ));
	CHK(len, hdr(p, start, len, CTX(3)));
	return (int)len;
}

struct names {
	const char *subject, *issuer;
	int serial, years;
};

static void cert_names(const struct sim_cert_req *req, struct names *n, char *subject,
		       char *issuer, size_t size)
{
	const char *product = snp_product_name(req->product);

	snprintf(issuer, size, "ARK-%s", product);
	n->serial = 0;
	n->years = SIM_ROOT_YEARS;
	switch (req->kind) {
	case SIM_CERT_ARK:
		snprintf(subject, size, "ARK-%s", product);
		n->serial = 0x10000;
		break;
	case SIM_CERT_ASK:
		snprintf(subject, size, "SEV-%s", product);
		n->serial = 0x10001;
		break;
	case SIM_CERT_ASVK:
		snprintf(subject, size, "SEV-VLEK-%s", product);
		n->serial = 0x10101;
		break;
	case SIM_CERT_VCEK:
		snprintf(subject, size, "SEV-VCEK");
		snprintf(issuer, size, "SEV-%s", product);
		n->years = SIM_VEK_YEARS;
		break;
	case SIM_CERT_VLEK:
		snprintf(subject, size, "SEV-VLEK");
		snprintf(issuer, size, "SEV-VLEK-%s", product);
		n->years = SIM_VEK_YEARS;
		break;
	}
	n->subject = subject;
	n->issuer = issuer;
}

static bool is_vek(const struct sim_cert_req *req)
{
	return req->kind == SIM_CERT_VCEK || req->kind == SIM_CERT_VLEK;
}

/* [0] EXPLICIT Version: v3 */
static int write_version(unsigned char **p, unsigned char *start)
{
	size_t len = 0;
	int ret;

	CHK(len, mbedtls_asn1_write_int(p, start, 2));
	CHK(len, hdr(p, start, len, CTX(0)));
	return (int)len;
}

static int write_tbs(const struct sim_cert_req *req, unsigned char **p, unsigned char *start)
{
	char subject[64], issuer[64];
	struct ext_list exts = { .n = 0 };
	struct names n;
	size_t len = 0;
	int ret;

	cert_names(req, &n, subject, issuer, sizeof(subject));
	ret = is_vek(req) ? vek_exts(req, &exts) : root_exts(req, &exts);
	if (ret)
		return ret;
	CHK(len, write_exts(p, start, &exts));
	CHK(len, write_spki(p, start, req->subject));
	CHK(len, write_name(p, start, n.subject));
	CHK(len, write_validity(p, start, req->not_before, n.years));
	CHK(len, write_name(p, start, n.issuer));
	CHK(len, write_pss_alg(p, start, !is_vek(req)));
	CHK(len, mbedtls_asn1_write_int(p, start, n.serial));
	CHK(len, write_version(p, start));
	CHK(len, hdr(p, start, len, SEQ));
	return (int)len;
}

int sim_cert_tbs(const struct sim_cert_req *req, uint8_t *buf, size_t size,
		 uint8_t **tbs, size_t *tbs_len, struct snp_err *err)
{
	unsigned char *p = buf + size;
	int ret = write_tbs(req, &p, buf);

	if (ret < 0)
		return sim_tls_err(err, ret, "writing a certificate");
	*tbs = p;
	*tbs_len = (size_t)ret;
	return 0;
}

/* RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48: what AMD's ARK and ASK sign with. */
static int pss_sign(mbedtls_pk_context *issuer, mbedtls_ctr_drbg_context *drbg,
		    const uint8_t *tbs, size_t tbs_len, uint8_t *sig, size_t *sig_len)
{
	mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*issuer);
	uint8_t hash[SHA384_LEN];
	int ret;

	if (mbedtls_pk_get_type(issuer) != MBEDTLS_PK_RSA || mbedtls_rsa_get_len(rsa) > SIG_MAX)
		return MBEDTLS_ERR_PK_TYPE_MISMATCH;
	ret = mbedtls_sha512(tbs, tbs_len, hash, 1);
	if (!ret)
		ret = mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA384);
	if (!ret)
		ret = mbedtls_rsa_rsassa_pss_sign_ext(rsa, mbedtls_ctr_drbg_random, drbg,
						      MBEDTLS_MD_SHA384, sizeof(hash), hash,
						      PSS_SALT_LEN, sig);
	*sig_len = mbedtls_rsa_get_len(rsa);
	return ret;
}

static int write_cert(unsigned char **p, unsigned char *start, const uint8_t *tbs,
		      size_t tbs_len, bool trailer, const uint8_t *sig, size_t sig_len)
{
	size_t len = 0;
	int ret;

	CHK(len, mbedtls_asn1_write_bitstring(p, start, sig, sig_len * 8));
	CHK(len, write_pss_alg(p, start, trailer));
	CHK(len, mbedtls_asn1_write_raw_buffer(p, start, tbs, tbs_len));
	CHK(len, hdr(p, start, len, SEQ));
	return (int)len;
}

int sim_cert_issue(const struct sim_cert_req *req, mbedtls_ctr_drbg_context *drbg,
		   uint8_t **der, size_t *der_len, struct snp_err *err)
{
	uint8_t *buf = malloc(2 * TBS_MAX + SIG_MAX), *tbs = NULL, *sig, *p;
	size_t tbs_len = 0, sig_len = 0;
	int ret;

	*der = NULL;
	if (!buf)
		return snp_errf(err, -ENOMEM, "out of memory for a certificate");
	sig = buf + TBS_MAX;
	ret = sim_cert_tbs(req, buf, TBS_MAX, &tbs, &tbs_len, err);
	if (ret)
		goto out;
	ret = pss_sign(req->issuer, drbg, tbs, tbs_len, sig, &sig_len);
	if (ret) {
		ret = sim_tls_err(err, ret, "signing a certificate (RSASSA-PSS)");
		goto out;
	}
	p = buf + 2 * TBS_MAX + SIG_MAX;
	ret = write_cert(&p, sig + SIG_MAX, tbs, tbs_len, !is_vek(req), sig, sig_len);
	if (ret < 0) {
		ret = sim_tls_err(err, ret, "writing a certificate");
		goto out;
	}
	*der = malloc((size_t)ret);
	if (!*der) {
		ret = snp_errf(err, -ENOMEM, "out of memory for a certificate");
		goto out;
	}
	memcpy(*der, p, (size_t)ret);
	*der_len = (size_t)ret;
	ret = 0;
out:
	free(buf);
	return ret;
}

int sim_cert_pem(const uint8_t *der, size_t der_len, char **pem, struct snp_err *err)
{
	size_t size = der_len * 2 + 128, olen = 0;
	int ret;

	*pem = malloc(size);
	if (!*pem)
		return snp_errf(err, -ENOMEM, "out of memory for a certificate");
	ret = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
				       "-----END CERTIFICATE-----\n", der, der_len,
				       (unsigned char *)*pem, size, &olen);
	if (ret) {
		free(*pem);
		*pem = NULL;
		return sim_tls_err(err, ret, "writing a certificate as PEM");
	}
	return 0;
}
