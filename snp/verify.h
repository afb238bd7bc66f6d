/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_VERIFY_H
#define SNP_VERIFY_H

/*
 * Verifying an SEV-SNP attestation report against AMD's certificate chain
 * ARK -> ASK (or ASVK) -> VCEK (or VLEK), with pinned trust anchors and a
 * clock the caller passes in. The checks run in the order of enum
 * snp_check and stop at the first failure; the result names that check
 * (a stable short name for scripts), says why with the values involved,
 * and carries every fact gathered on the way, for a CLI to print.
 *
 * What is checked:
 *  - the report parses (snp_report_parse: sizes, versions, reserved bits);
 *  - the product: CPUID (v3+), the VEK's productName and the caller's
 *    hint agree wherever present, and at least one is present;
 *  - ARK: SHA-256 pinned for the product, RSA-4096, self-signed;
 *    ASK/ASVK: pinned (when its anchor set pins one), issued by the ARK,
 *    RSA-4096, signed by it; VEK: issued by the ASK/ASVK, EC P-384, signed
 *    by it. Every certificate signature must be declared, and verify, as
 *    RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt;
 *  - all three certificates are valid at the time given;
 *  - KEY_INFO.SIGNING_KEY names the certificate type (VCEK: CN SEV-VCEK
 *    under "SEV-<Product>"; VLEK: CN SEV-VLEK under "SEV-VLEK-<Product>");
 *  - the VEK's TCB extensions, encoded in the product's layout, equal all
 *    64 bits of REPORTED_TCB;
 *  - a VCEK's hwID equals CHIP_ID (8 bytes on Turin, the rest zero; 64
 *    otherwise), unless KEY_INFO.MASK_CHIP_KEY is set; a VLEK has none;
 *  - ECDSA P-384 with SHA-384 over the report's own bytes 0x000-0x29F,
 *    with r and s in [1, n-1].
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "snp/amdcert.h"
#include "snp/err.h"
#include "snp/report.h"
#include "snp/roots.h"

enum snp_check {
	SNP_CHECK_NONE = 0,		/* "none": the report verified */
	SNP_CHECK_REPORT_PARSE,		/* "report-parse" */
	SNP_CHECK_INPUT,		/* "input": a certificate missing */
	SNP_CHECK_ARK_PARSE,		/* "ark-parse" */
	SNP_CHECK_ASK_PARSE,		/* "ask-parse" (the ASK or ASVK) */
	SNP_CHECK_VEK_PARSE,		/* "vek-parse" (VCEK or VLEK, extensions too) */
	SNP_CHECK_PRODUCT,		/* "product" */
	SNP_CHECK_ARK_PIN,		/* "ark-pin" */
	SNP_CHECK_ARK_KEY,		/* "ark-key" */
	SNP_CHECK_ARK_SIGNATURE,	/* "ark-signature" (self-signed) */
	SNP_CHECK_ASK_PIN,		/* "ask-pin" */
	SNP_CHECK_ASK_ISSUER,		/* "ask-issuer" */
	SNP_CHECK_ASK_KEY,		/* "ask-key" */
	SNP_CHECK_ASK_SIGNATURE,	/* "ask-signature" (by the ARK) */
	SNP_CHECK_VEK_ISSUER,		/* "vek-issuer" */
	SNP_CHECK_VEK_KEY,		/* "vek-key" */
	SNP_CHECK_VEK_SIGNATURE,	/* "vek-signature" (by the ASK/ASVK) */
	SNP_CHECK_VALIDITY,		/* "validity" */
	SNP_CHECK_SIGNING_KEY,		/* "signing-key" */
	SNP_CHECK_TCB,			/* "tcb" */
	SNP_CHECK_CHIP_ID,		/* "chip-id" */
	SNP_CHECK_REPORT_SIGNATURE,	/* "report-signature" */
	SNP_CHECK_INTERNAL,		/* "internal": out of memory, a library error */
	SNP_CHECK_COUNT,
};

enum snp_check_status {
	SNP_STATUS_NOT_RUN = 0,
	SNP_STATUS_PASS,
	SNP_STATUS_FAIL,
	SNP_STATUS_SKIPPED,	/* does not apply (chip id masked, or a VLEK) */
	SNP_STATUS_CACHED,	/* passed earlier for this VEK; see snp_verify_cache */
};

enum snp_vek_type {
	SNP_VEK_UNKNOWN = 0,
	SNP_VEK_VCEK,
	SNP_VEK_VLEK,
};

/* What a CLI prints about one certificate. */
struct snp_cert_facts {
	bool present;
	char cn[64];
	char issuer_cn[64];
	uint8_t sha256[SNP_SHA256_SIZE];
	uint8_t serial[32];
	size_t serial_len;
	int64_t not_before;	/* seconds since the epoch, UTC */
	int64_t not_after;
};

struct snp_verify_result {
	enum snp_check failed;		/* SNP_CHECK_NONE when verified */
	char msg[320];			/* why, with the values; "" when verified */
	enum snp_check_status status[SNP_CHECK_COUNT];
	bool cached;			/* the chain came from the cache */

	enum snp_product product;	/* as decided by the "product" check */
	enum snp_product cpuid_product;	/* from the report (v3+) */
	enum snp_product name_product;	/* from the VEK's productName */
	enum snp_vek_type vek_type;	/* from the VEK's CN */
	enum snp_root_role ask_role;	/* SNP_ROOT_ASK or SNP_ROOT_ASVK */
	struct snp_cert_facts ark, ask, vek;
	struct snp_vek_ext ext;		/* the VEK's AMD extensions */
	uint64_t vek_tcb;		/* the extensions in the product's TCB layout */
	char anchors[32];		/* the trust anchors' name */
};

struct snp_verify_cache;

struct snp_verify_input {
	/* The report: its bytes, or (when set) an already parsed one, of
	 * which only the raw bytes are used. */
	const uint8_t *report;
	size_t report_len;
	const struct snp_report *parsed;
	/* DER certificates. ark and ask may be NULL when the cache knows vek. */
	const uint8_t *ark;
	size_t ark_len;
	const uint8_t *ask;		/* the ASK, or the ASVK for a VLEK */
	size_t ask_len;
	const uint8_t *vek;		/* the VCEK or VLEK */
	size_t vek_len;
	enum snp_product product;	/* a hint; SNP_PRODUCT_UNKNOWN for none */
	time_t now;			/* certificates must be valid at this time */
	const struct snp_anchors *anchors;	/* NULL: AMD's built-in roots */
	struct snp_verify_cache *cache;		/* NULL: none */
};

/* "report-signature", ...; "unknown" out of range. */
const char *snp_check_name(enum snp_check check);
/* "pass", "FAIL", "skipped", "cached", "not run". */
const char *snp_check_status_name(enum snp_check_status status);
/* "VCEK", "VLEK", "unknown". */
const char *snp_vek_type_name(enum snp_vek_type type);

/*
 * Verify. Returns 0 when every check passed, else a negative errno
 * (-EKEYREJECTED for a failed signature or pin, -EBADMSG for malformed
 * input, -EACCES for a mismatch) with res->failed and res->msg set.
 */
int snp_verify(const struct snp_verify_input *in, struct snp_verify_result *res);

/*
 * The certificate chain alone, without a report (a VEK fetched from AMD
 * KDS, a certificate directory): the checks up to "validity", with the
 * product from the VEK's productName or in->product. The report fields
 * of in are ignored; "report-parse" is SKIPPED, the report checks NOT_RUN.
 */
int snp_verify_chain(const struct snp_verify_input *in, struct snp_verify_result *res);

/*
 * The report signature alone: r and s in [1, n-1], then ECDSA P-384 over
 * SHA-384 of report->raw[0x000..0x29F] with the uncompressed point.
 */
int snp_verify_report_signature(const struct snp_report *report,
				const uint8_t point[SNP_P384_POINT_SIZE], struct snp_err *err);

/*
 * Any ECDSA P-384 signature with SHA-384 of data[0..len), as AMD lays them
 * out (the report's, the ID block's): the point on the curve, r and s
 * (big-endian) in [1, n-1]. what names the signature in err's message.
 * -EKEYREJECTED when any of that fails.
 */
int snp_verify_p384(const uint8_t point[SNP_P384_POINT_SIZE], const uint8_t r_be[SNP_P384_SIZE],
		    const uint8_t s_be[SNP_P384_SIZE], const void *data, size_t len,
		    const char *what, struct snp_err *err);

/*
 * A cache of verified VEK chains, so that a report from a known chip costs
 * little more than its ECDSA signature. An entry is found by the SHA-256
 * of the VEK's DER and of the anchor set it was verified against; the ARK
 * and ASK, when given, must be the ones it was verified with. It keeps the
 * facts of the chain and the VEK's public key, so a hit skips X.509
 * parsing and every RSA check; the validity dates, the product and all
 * report checks still run on every call. Only chains whose pins, keys,
 * issuers and signatures all passed are stored. Least recently used
 * entries make room. Not thread-safe: one cache per thread, or a lock.
 */
struct snp_verify_cache *snp_verify_cache_new(size_t capacity);
void snp_verify_cache_free(struct snp_verify_cache *cache);
size_t snp_verify_cache_count(const struct snp_verify_cache *cache);

#endif
