// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AMD SEV certificates on mbedTLS (see snp/amdcert.h).
 *
 * mbedTLS 3.6 parses every AMD certificate we have (the 20 real sets, the
 * negative sets, the Turin chain and the KDS roots; tests/unit assert it),
 * so nothing is worked around here. Two quirks pass because of how
 * mbedTLS reads them, and we rely on that knowingly:
 *  - VCEK and VLEK have serial number 0, which RFC 5280 forbids; mbedTLS
 *    takes the serial as opaque bytes and does not judge its value.
 *  - hwID holds raw bytes where DER is expected; mbedTLS hands unknown
 *    extensions to our callback undecoded, and snp_vek_ext_parse() knows
 *    both forms.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "snp/amdcert.h"

/* 1.3.6.1.4.1.3704.1: AMD's SEV arc (3704 is AMD's enterprise number). */
#define AMD_SEV_OID	"\x2b\x06\x01\x04\x01\x9c\x78\x01"
#define AMD_SEV_OID_LEN	(sizeof(AMD_SEV_OID) - 1)

#define PSS_SALT_LEN	48

enum ext_form { EXT_INTEGER, EXT_STRING, EXT_HWID };

static const struct {
	const char *suffix;	/* OID bytes after AMD_SEV_OID */
	size_t suffix_len;
	enum ext_form form;
	const char *name;
} amd_exts[SNP_EXT_COUNT] = {
	[SNP_EXT_STRUCT_VERSION] = { "\x01", 1, EXT_INTEGER, "structVersion" },
	[SNP_EXT_PRODUCT_NAME] = { "\x02", 1, EXT_STRING, "productName" },
	[SNP_EXT_BL_SPL] = { "\x03\x01", 2, EXT_INTEGER, "blSPL" },
	[SNP_EXT_TEE_SPL] = { "\x03\x02", 2, EXT_INTEGER, "teeSPL" },
	[SNP_EXT_SNP_SPL] = { "\x03\x03", 2, EXT_INTEGER, "snpSPL" },
	[SNP_EXT_SPL_4] = { "\x03\x04", 2, EXT_INTEGER, "spl_4" },
	[SNP_EXT_SPL_5] = { "\x03\x05", 2, EXT_INTEGER, "spl_5" },
	[SNP_EXT_SPL_6] = { "\x03\x06", 2, EXT_INTEGER, "spl_6" },
	[SNP_EXT_SPL_7] = { "\x03\x07", 2, EXT_INTEGER, "spl_7" },
	[SNP_EXT_UCODE_SPL] = { "\x03\x08", 2, EXT_INTEGER, "ucodeSPL" },
	[SNP_EXT_FMC_SPL] = { "\x03\x09", 2, EXT_INTEGER, "fmcSPL" },
	[SNP_EXT_HWID] = { "\x04", 1, EXT_HWID, "hwID" },
	[SNP_EXT_CSP_ID] = { "\x05", 1, EXT_STRING, "csp_id" },
};

const char *snp_vek_ext_name(enum snp_vek_ext_id id)
{
	if ((unsigned int)id >= SNP_EXT_COUNT)
		return "unknown";
	return amd_exts[id].name;
}

bool snp_vek_ext_has(const struct snp_vek_ext *ext, enum snp_vek_ext_id id)
{
	return (unsigned int)id < SNP_EXT_COUNT && (ext->seen & (1U << id));
}

static int ext_lookup(const uint8_t *oid, size_t oid_len)
{
	if (oid_len <= AMD_SEV_OID_LEN || memcmp(oid, AMD_SEV_OID, AMD_SEV_OID_LEN))
		return -1;
	oid += AMD_SEV_OID_LEN;
	oid_len -= AMD_SEV_OID_LEN;
	for (int i = 0; i < SNP_EXT_COUNT; i++)
		if (amd_exts[i].suffix_len == oid_len &&
		    !memcmp(amd_exts[i].suffix, oid, oid_len))
			return i;
	return -1;
}

/*
 * A DER INTEGER from 0 to 255, minimally encoded: 02 01 00..7f, or
 * 02 02 00 80..ff (ucode 219 is 02 02 00 db: the zero keeps it positive).
 */
static int ext_integer(const uint8_t *v, size_t len, uint8_t *out, const char *name,
		       struct snp_err *err)
{
	char hex[2 * 8 + 1];

	if (len == 3 && v[0] == MBEDTLS_ASN1_INTEGER && v[1] == 1 && v[2] < 0x80) {
		*out = v[2];
		return 0;
	}
	if (len == 4 && v[0] == MBEDTLS_ASN1_INTEGER && v[1] == 2 && v[2] == 0 && v[3] >= 0x80) {
		*out = v[3];
		return 0;
	}
	return snp_errf(err, -EBADMSG,
			"%s extension is %s%s (%zu bytes); it must be a DER INTEGER from 0 to 255",
			name, snp_hex(hex, v, len < 8 ? len : 8), len > 8 ? "..." : "", len);
}

/* An IA5String of printable ASCII that fits out with its NUL. */
static int ext_string(const uint8_t *v, size_t len, char *out, size_t size, const char *name,
		      struct snp_err *err)
{
	unsigned char *p = (unsigned char *)v;
	size_t n;

	if (mbedtls_asn1_get_tag(&p, p + len, &n, MBEDTLS_ASN1_IA5_STRING) ||
	    (size_t)(p - v) + n != len)
		return snp_errf(err, -EBADMSG,
				"%s extension (%zu bytes, tag 0x%02x) is not one DER IA5String",
				name, len, len ? v[0] : 0);
	if (n >= size)
		return snp_errf(err, -EBADMSG, "%s extension is %zu characters; at most %zu",
				name, n, size - 1);
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return snp_errf(err, -EBADMSG,
					"%s extension has byte 0x%02x at %zu; only printable ASCII is expected",
					name, p[i], i);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/*
 * hwID: AMD KDS puts the raw chip id in the extension (64 bytes; 8 on
 * Turin), where DER would want an OCTET STRING; some tools wrap it as one
 * (04 40 ...). The lengths cannot be confused: raw is 8 or 64 bytes,
 * wrapped is 10 or 66.
 */
static int ext_hwid(const uint8_t *v, size_t len, struct snp_vek_ext *ext, struct snp_err *err)
{
	if (len == SNP_HWID_MAX || len == SNP_CHIP_ID_SIZE_TURIN) {
		memcpy(ext->hwid, v, len);
		ext->hwid_len = len;
		ext->hwid_encoding = SNP_HWID_RAW;
		return 0;
	}
	if ((len == SNP_HWID_MAX + 2 || len == SNP_CHIP_ID_SIZE_TURIN + 2) && v[0] == MBEDTLS_ASN1_OCTET_STRING &&
	    v[1] == len - 2) {
		memcpy(ext->hwid, v + 2, len - 2);
		ext->hwid_len = len - 2;
		ext->hwid_encoding = SNP_HWID_OCTET_STRING;
		return 0;
	}
	return snp_errf(err, -EBADMSG,
			"hwID extension is %zu bytes; expected 64 or 8 raw bytes, or a DER OCTET STRING of them",
			len);
}

int snp_vek_ext_parse(struct snp_vek_ext *ext, const uint8_t *oid, size_t oid_len,
		      const uint8_t *val, size_t len, struct snp_err *err)
{
	int id = ext_lookup(oid, oid_len);
	const char *name;
	int ret;

	if (id < 0)
		return 1;
	name = amd_exts[id].name;
	if (ext->seen & (1U << id))
		return snp_errf(err, -EBADMSG, "%s extension appears twice", name);
	switch (amd_exts[id].form) {
	case EXT_INTEGER:
		ret = ext_integer(val, len, id == SNP_EXT_STRUCT_VERSION ?
				  &ext->struct_version : &ext->spl[id], name, err);
		break;
	case EXT_STRING:
		if (id == SNP_EXT_PRODUCT_NAME)
			ret = ext_string(val, len, ext->product_name,
					 sizeof(ext->product_name), name, err);
		else
			ret = ext_string(val, len, ext->csp_id, sizeof(ext->csp_id), name, err);
		break;
	default:
		ret = ext_hwid(val, len, ext, err);
		break;
	}
	if (!ret)
		ext->seen |= 1U << id;
	return ret;
}

static int ext_cb(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
		  int critical, const unsigned char *p, const unsigned char *end)
{
	struct snp_amd_cert *c = ctx;
	struct snp_err e = { 0 };
	char name[64];
	int ret;

	(void)crt;
	ret = snp_vek_ext_parse(&c->ext, oid->p, oid->len, p, (size_t)(end - p), &e);
	if (ret == 1 && critical) {
		if (mbedtls_oid_get_numeric_string(name, sizeof(name), oid) < 0)
			snprintf(name, sizeof(name), "(unreadable)");
		ret = snp_errf(&e, -EBADMSG, "unknown critical extension %s", name);
	}
	if (ret >= 0)
		return 0;
	/* mbedTLS skips a non-critical extension whose callback failed: keep
	 * the first error, to fail the certificate after parsing. */
	if (!c->ext_ret) {
		c->ext_ret = ret;
		c->ext_err = e;
	}
	return MBEDTLS_ERR_X509_INVALID_EXTENSIONS;
}

void snp_amd_cert_init(struct snp_amd_cert *c)
{
	memset(c, 0, sizeof(*c));
	mbedtls_x509_crt_init(&c->crt);
}

void snp_amd_cert_free(struct snp_amd_cert *c)
{
	mbedtls_x509_crt_free(&c->crt);
	memset(c, 0, sizeof(*c));
}

/* The one CN of name, printable ASCII. */
static int name_cn(const mbedtls_x509_name *name, char *out, size_t size, const char *what,
		   const char *which, struct snp_err *err)
{
	const mbedtls_x509_name *cn = NULL;

	for (const mbedtls_x509_name *n = name; n; n = n->next) {
		if (!n->oid.p || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid))
			continue;
		if (cn)
			return snp_errf(err, -EBADMSG, "%s: the %s has more than one CN",
					what, which);
		cn = n;
	}
	if (!cn)
		return snp_errf(err, -EBADMSG, "%s: the %s has no CN", what, which);
	if (cn->val.len >= size)
		return snp_errf(err, -EBADMSG, "%s: the %s CN is %zu bytes; at most %zu",
				what, which, cn->val.len, size - 1);
	for (size_t i = 0; i < cn->val.len; i++)
		if (cn->val.p[i] < 0x20 || cn->val.p[i] > 0x7e)
			return snp_errf(err, -EBADMSG,
					"%s: the %s CN has byte 0x%02x; only printable ASCII is expected",
					what, which, cn->val.p[i]);
	memcpy(out, cn->val.p, cn->val.len);
	out[cn->val.len] = '\0';
	return 0;
}

int64_t snp_civil_to_epoch(int year, int month, int day, int hour, int min, int sec)
{
	/*
	 * Count years from March, so that February's leap day falls at the
	 * end of a year, then whole 400-year eras (146097 days each).
	 * 719468 is the day number of 1970-01-01 from 0000-03-01.
	 */
	int64_t y = (int64_t)year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;

	return days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

static int64_t x509_epoch(const mbedtls_x509_time *t)
{
	return snp_civil_to_epoch(t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

int snp_amd_cert_parse(struct snp_amd_cert *c, const uint8_t *der, size_t len,
		       const char *what, struct snp_err *err)
{
	char why[128];
	int ret;

	ret = mbedtls_x509_crt_parse_der_with_ext_cb(&c->crt, der, len, 1, ext_cb, c);
	if (c->ext_ret)
		return snp_errf(err, c->ext_ret, "%s: %s", what, c->ext_err.msg);
	if (ret) {
		mbedtls_strerror(ret, why, sizeof(why));
		return snp_errf(err, -EBADMSG, "%s: not a certificate mbedTLS can parse (-0x%04x: %s)",
				what, (unsigned int)-ret, why);
	}
	ret = name_cn(&c->crt.subject, c->cn, sizeof(c->cn), what, "subject", err);
	if (!ret)
		ret = name_cn(&c->crt.issuer, c->issuer_cn, sizeof(c->issuer_cn), what,
			      "issuer", err);
	if (ret)
		return ret;
	c->not_before = x509_epoch(&c->crt.valid_from);
	c->not_after = x509_epoch(&c->crt.valid_to);
	if (mbedtls_sha256(der, len, c->sha256, 0))
		return snp_errf(err, -EIO, "%s: SHA-256 failed", what);
	return 0;
}

int snp_amd_cert_check_rsa(const struct snp_amd_cert *c, size_t bits, const char *what,
			   struct snp_err *err)
{
	mbedtls_pk_type_t type = mbedtls_pk_get_type(&c->crt.pk);

	if (type != MBEDTLS_PK_RSA)
		return snp_errf(err, -EKEYREJECTED, "%s (%s) has a %s key; expected RSA-%zu",
				what, c->cn, mbedtls_pk_get_name(&c->crt.pk), bits);
	if (mbedtls_pk_get_bitlen(&c->crt.pk) != bits)
		return snp_errf(err, -EKEYREJECTED, "%s (%s) has an RSA-%zu key; expected RSA-%zu",
				what, c->cn, mbedtls_pk_get_bitlen(&c->crt.pk), bits);
	return 0;
}

int snp_amd_cert_check_p384(const struct snp_amd_cert *c, const char *what,
			    struct snp_err *err)
{
	mbedtls_pk_type_t type = mbedtls_pk_get_type(&c->crt.pk);
	const mbedtls_ecp_keypair *ec;

	if (type != MBEDTLS_PK_ECKEY)
		return snp_errf(err, -EKEYREJECTED, "%s (%s) has a %s key; expected EC P-384",
				what, c->cn, mbedtls_pk_get_name(&c->crt.pk));
	ec = mbedtls_pk_ec(c->crt.pk);
	if (mbedtls_ecp_keypair_get_group_id(ec) != MBEDTLS_ECP_DP_SECP384R1)
		return snp_errf(err, -EKEYREJECTED, "%s (%s) has an EC key on curve %d; expected P-384",
				what, c->cn, (int)mbedtls_ecp_keypair_get_group_id(ec));
	return 0;
}

int snp_amd_cert_p384_point(const struct snp_amd_cert *c, uint8_t out[SNP_P384_POINT_SIZE],
			    struct snp_err *err)
{
	size_t olen = 0;
	int ret = snp_amd_cert_check_p384(c, "certificate", err);

	if (ret)
		return ret;
	if (mbedtls_ecp_write_public_key(mbedtls_pk_ec(c->crt.pk), MBEDTLS_ECP_PF_UNCOMPRESSED,
					 &olen, out, SNP_P384_POINT_SIZE) ||
	    olen != SNP_P384_POINT_SIZE)
		return snp_errf(err, -EKEYREJECTED, "%s: cannot export its P-384 point", c->cn);
	return 0;
}

/* AlgorithmIdentifier { id-sha384, NULL or nothing }, and nothing after it. */
static bool is_sha384_alg(unsigned char **p, const unsigned char *end)
{
	mbedtls_asn1_buf oid, params;

	if (mbedtls_asn1_get_alg(p, end, &oid, &params) ||
	    MBEDTLS_OID_CMP(MBEDTLS_OID_DIGEST_ALG_SHA384, &oid))
		return false;
	if (params.len || (params.tag && params.tag != MBEDTLS_ASN1_NULL))
		return false;
	return *p == end;
}

/* [n] EXPLICIT: *inner_end gets the end of its content. */
static bool explicit_tag(unsigned char **p, const unsigned char *end, int n,
			 const unsigned char **inner_end)
{
	size_t len;

	if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC |
				 MBEDTLS_ASN1_CONSTRUCTED | n))
		return false;
	*inner_end = *p + len;
	return true;
}

static bool explicit_int(unsigned char **p, const unsigned char *end, int n, int want)
{
	const unsigned char *inner_end;
	int v;

	return explicit_tag(p, end, n, &inner_end) && !mbedtls_asn1_get_int(p, inner_end, &v) &&
	       v == want && *p == inner_end;
}

/*
 * RSASSA-PSS-params (RFC 4055) as AMD writes them: hashAlgorithm [0]
 * SHA-384, maskGenAlgorithm [1] MGF1 with SHA-384, saltLength [2] 48, and
 * optionally trailerField [3] 1 (the default; some AMD certificates spell
 * it out). The defaults of [0]-[2] (SHA-1, salt 20) are not acceptable,
 * so each must be present.
 */
static bool is_pss_sha384_params(unsigned char *p, const unsigned char *end)
{
	const unsigned char *inner_end;
	size_t len;

	if (!explicit_tag(&p, end, 0, &inner_end) || !is_sha384_alg(&p, inner_end))
		return false;
	if (!explicit_tag(&p, end, 1, &inner_end) ||
	    mbedtls_asn1_get_tag(&p, inner_end, &len,
				 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
	    p + len != inner_end ||
	    mbedtls_asn1_get_tag(&p, inner_end, &len, MBEDTLS_ASN1_OID) ||
	    len != MBEDTLS_OID_SIZE(MBEDTLS_OID_MGF1) || memcmp(p, MBEDTLS_OID_MGF1, len))
		return false;
	p += len;
	if (!is_sha384_alg(&p, inner_end))
		return false;
	if (!explicit_int(&p, end, 2, PSS_SALT_LEN))
		return false;
	if (p != end && !explicit_int(&p, end, 3, 1))
		return false;
	return p == end;
}

/*
 * The signatureAlgorithm and signatureValue that follow tbsCertificate in
 * the certificate's DER, read here rather than from mbedTLS's private
 * fields, and held to exactly RSASSA-PSS with SHA-384.
 */
static int read_signature(const struct snp_amd_cert *c, const uint8_t **sig, size_t *sig_len,
			  const char *what, struct snp_err *err)
{
	unsigned char *p = c->crt.tbs.p + c->crt.tbs.len;
	const unsigned char *end = c->crt.raw.p + c->crt.raw.len;
	mbedtls_asn1_buf oid, params;
	mbedtls_asn1_bitstring bits;

	if (mbedtls_asn1_get_alg(&p, end, &oid, &params) ||
	    MBEDTLS_OID_CMP(MBEDTLS_OID_RSASSA_PSS, &oid) ||
	    params.tag != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
	    !is_pss_sha384_params(params.p, params.p + params.len))
		return snp_errf(err, -EBADMSG,
				"%s (%s) declares a signature algorithm other than RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48",
				what, c->cn);
	if (mbedtls_asn1_get_bitstring(&p, end, &bits) || bits.unused_bits || p != end)
		return snp_errf(err, -EBADMSG, "%s (%s): the signature is not a whole BIT STRING ending the certificate",
				what, c->cn);
	*sig = bits.p;
	*sig_len = bits.len;
	return 0;
}

int snp_amd_cert_verify_signed_by(const struct snp_amd_cert *c,
				  const struct snp_amd_cert *issuer, const char *what,
				  struct snp_err *err)
{
	const mbedtls_pk_rsassa_pss_options pss = {
		.mgf1_hash_id = MBEDTLS_MD_SHA384,
		.expected_salt_len = PSS_SALT_LEN,
	};
	mbedtls_pk_context *key = (mbedtls_pk_context *)&issuer->crt.pk;
	uint8_t hash[48];
	const uint8_t *sig = NULL;
	size_t sig_len = 0;
	int ret;

	ret = read_signature(c, &sig, &sig_len, what, err);
	if (ret)
		return ret;
	if (mbedtls_pk_get_type(key) != MBEDTLS_PK_RSA)
		return snp_errf(err, -EKEYREJECTED, "%s (%s): the issuer %s has no RSA key",
				what, c->cn, issuer->cn);
	if (sig_len != mbedtls_pk_get_len(key))
		return snp_errf(err, -EKEYREJECTED,
				"%s (%s): the signature is %zu bytes; %s's RSA key takes %zu",
				what, c->cn, sig_len, issuer->cn, mbedtls_pk_get_len(key));
	if (mbedtls_sha512(c->crt.tbs.p, c->crt.tbs.len, hash, 1))
		return snp_errf(err, -EIO, "%s: SHA-384 failed", what);
	ret = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &pss, key, MBEDTLS_MD_SHA384,
				    hash, sizeof(hash), sig, sig_len);
	if (ret)
		return snp_errf(err, -EKEYREJECTED,
				"%s (%s): the RSASSA-PSS signature does not verify with %s's key (mbedTLS -0x%04x)",
				what, c->cn, issuer->cn, (unsigned int)-ret);
	return 0;
}
