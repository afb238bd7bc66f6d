/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_AMDCERT_H
#define SNP_AMDCERT_H

/*
 * AMD's SEV certificates (ARK, ASK, ASVK, VCEK, VLEK) parsed with mbedTLS,
 * with the VCEK/VLEK extensions of AMD's "VCEK Certificate and KDS
 * Interface Specification" (57230) decoded under 1.3.6.1.4.1.3704.1:
 *
 *	.1 structVersion INTEGER     .2 productName IA5String
 *	.3.1 blSPL .3.2 teeSPL .3.3 snpSPL .3.4-.3.7 reserved SPLs
 *	.3.8 ucodeSPL .3.9 fmcSPL (Turin)           all DER INTEGERs 0..255
 *	.4 hwID: raw bytes (64, or 8 on Turin) or a DER OCTET STRING of them
 *	.5 csp_id IA5String (VLEK only)
 *
 * Every AMD signature is RSASSA-PSS with SHA-384, MGF1-SHA-384 and a
 * 48-byte salt; snp_amd_cert_verify_signed_by() checks exactly that,
 * over the certificate's own bytes, whatever mbedTLS inferred.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "snp/err.h"
#include "snp/report.h"

#define SNP_P384_POINT_SIZE	97	/* 04 || X || Y */
/* The VCEK's hwID is the chip id: 64 bytes, 8 on Turin. */
#define SNP_HWID_MAX		SNP_CHIP_ID_SIZE

enum snp_vek_ext_id {
	SNP_EXT_STRUCT_VERSION = 0,	/* .1 */
	SNP_EXT_PRODUCT_NAME,		/* .2 */
	SNP_EXT_BL_SPL,			/* .3.1 */
	SNP_EXT_TEE_SPL,		/* .3.2 */
	SNP_EXT_SNP_SPL,		/* .3.3 */
	SNP_EXT_SPL_4,			/* .3.4, reserved */
	SNP_EXT_SPL_5,			/* .3.5, reserved */
	SNP_EXT_SPL_6,			/* .3.6, reserved */
	SNP_EXT_SPL_7,			/* .3.7, reserved */
	SNP_EXT_UCODE_SPL,		/* .3.8 */
	SNP_EXT_FMC_SPL,		/* .3.9 */
	SNP_EXT_HWID,			/* .4 */
	SNP_EXT_CSP_ID,			/* .5 */
	SNP_EXT_COUNT,
};

enum snp_hwid_encoding {
	SNP_HWID_ABSENT = 0,
	SNP_HWID_RAW,		/* the bytes themselves, as AMD KDS issues them */
	SNP_HWID_OCTET_STRING,	/* 04 len bytes: DER-wrapped */
};

struct snp_vek_ext {
	uint32_t seen;				/* 1 << enum snp_vek_ext_id */
	uint8_t struct_version;
	char product_name[64];			/* NUL-terminated */
	uint8_t spl[SNP_EXT_COUNT];		/* for the *_SPL ids */
	uint8_t hwid[SNP_HWID_MAX];
	size_t hwid_len;
	enum snp_hwid_encoding hwid_encoding;
	char csp_id[256];			/* NUL-terminated */
};

/* "productName", "blSPL", "hwID", ... */
const char *snp_vek_ext_name(enum snp_vek_ext_id id);
bool snp_vek_ext_has(const struct snp_vek_ext *ext, enum snp_vek_ext_id id);

/*
 * Decode one extension value (the content of extnValue's OCTET STRING)
 * under OID oid (DER content bytes, no tag or length) into ext. Returns 1
 * when oid is not one of AMD's known extensions (ext unchanged), 0 when it
 * was decoded, or an error: a malformed value, or one seen twice.
 */
int snp_vek_ext_parse(struct snp_vek_ext *ext, const uint8_t *oid, size_t oid_len,
		      const uint8_t *val, size_t len, struct snp_err *err);

struct snp_amd_cert {
	mbedtls_x509_crt crt;
	struct snp_vek_ext ext;
	uint8_t sha256[32];		/* of the DER */
	char cn[64];			/* subject CN */
	char issuer_cn[64];
	int64_t not_before;		/* seconds since the epoch, UTC */
	int64_t not_after;
	/* The first extension error, kept here because mbedTLS ignores
	 * the callback's verdict on non-critical extensions. */
	int ext_ret;
	struct snp_err ext_err;
};

void snp_amd_cert_init(struct snp_amd_cert *cert);
void snp_amd_cert_free(struct snp_amd_cert *cert);
/*
 * Parse one DER certificate. what names it in messages ("ARK", "VCEK").
 * Fails for what mbedTLS refuses, a subject or issuer without exactly one
 * CN, and any error in AMD's extensions.
 */
int snp_amd_cert_parse(struct snp_amd_cert *cert, const uint8_t *der, size_t len,
		       const char *what, struct snp_err *err);

/* The key is RSA of exactly bits bits / EC on P-384. */
int snp_amd_cert_check_rsa(const struct snp_amd_cert *cert, size_t bits, const char *what,
			   struct snp_err *err);
int snp_amd_cert_check_p384(const struct snp_amd_cert *cert, const char *what,
			    struct snp_err *err);
/* The P-384 public key as an uncompressed point. */
int snp_amd_cert_p384_point(const struct snp_amd_cert *cert, uint8_t out[SNP_P384_POINT_SIZE],
			    struct snp_err *err);

/*
 * cert's declared signature algorithm is RSASSA-PSS SHA-384/MGF1-SHA-384/
 * salt 48 (read from its DER), and issuer's RSA key verifies the signature
 * over SHA-384 of cert's tbsCertificate. Returns -EBADMSG for a declared
 * algorithm other than that, -EKEYREJECTED for a bad signature.
 */
int snp_amd_cert_verify_signed_by(const struct snp_amd_cert *cert,
				  const struct snp_amd_cert *issuer, const char *what,
				  struct snp_err *err);

/* Seconds since 1970-01-01T00:00:00Z of a proleptic Gregorian UTC time. */
int64_t snp_civil_to_epoch(int year, int month, int day, int hour, int min, int sec);

#endif
