/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_SIM_INTERNAL_H
#define SNP_SIM_INTERNAL_H

/* Between the simulator's own files; not an interface. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "snp/err.h"
#include "snp/report.h"
#include "snp/sim/sim.h"

#define SIM_CHIP_SECRET_SIZE	48
#define SIM_ROOT_YEARS		25	/* AMD's ARK and ASK */
#define SIM_VEK_YEARS		7	/* AMD's VCEKs */

/* File names in a state directory. */
#define SIM_ARK_KEY	"ark.key"
#define SIM_ARK_CERT	"ark.pem"
#define SIM_ASK_KEY	"ask.key"
#define SIM_ASK_CERT	"ask.pem"
#define SIM_ASVK_KEY	"asvk.key"
#define SIM_ASVK_CERT	"asvk.pem"
#define SIM_CHIP_KEY	"chip.key"
#define SIM_VCEK_CERT	"vcek.pem"
#define SIM_VLEK_CERT	"vlek.pem"

enum sim_cert_kind {
	SIM_CERT_ARK,
	SIM_CERT_ASK,
	SIM_CERT_ASVK,
	SIM_CERT_VCEK,
	SIM_CERT_VLEK,
};

/* What a certificate says; the issuer key signs it. */
struct sim_cert_req {
	enum sim_cert_kind kind;
	enum snp_product product;
	int64_t not_before;
	mbedtls_pk_context *subject;	/* public key certified */
	mbedtls_pk_context *issuer;	/* RSA private key that signs */
	uint64_t tcb;			/* VCEK, VLEK: REPORTED_TCB */
	const uint8_t *hwid;		/* VCEK: the chip id (64 bytes, 8 on Turin) */
	const char *csp_id;		/* VLEK */
};

/*
 * The tbsCertificate of req, DER, at the end of buf: *tbs points into
 * buf. Deterministic: the same request gives the same bytes.
 */
int sim_cert_tbs(const struct sim_cert_req *req, uint8_t *buf, size_t size,
		 uint8_t **tbs, size_t *tbs_len, struct snp_err *err);
/* The whole certificate, RSASSA-PSS signed, in a malloc'd *der. */
int sim_cert_issue(const struct sim_cert_req *req, mbedtls_ctr_drbg_context *drbg,
		   uint8_t **der, size_t *der_len, struct snp_err *err);
/* DER as PEM "CERTIFICATE" in a malloc'd NUL-terminated *pem. */
int sim_cert_pem(const uint8_t *der, size_t der_len, char **pem, struct snp_err *err);

/* "what: mbedTLS's text for ret (-0xNNNN)" in err, with fmt giving what; -EINVAL. */
int sim_tls_err(struct snp_err *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A DRBG seeded from the system's entropy, personalised by who. */
struct sim_rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

int sim_rng_init(struct sim_rng *rng, const char *who, struct snp_err *err);
void sim_rng_free(struct sim_rng *rng);

/*
 * Derived from the chip secret, like the PSP derives them from its fused
 * secrets: the chip id, and the VCEK (per chip id and TCB) or VLEK (per
 * TCB and CSP) private key, on P-384.
 */
int sim_derive_chip_id(const uint8_t secret[SIM_CHIP_SECRET_SIZE], enum snp_product product,
		       uint8_t chip_id[SNP_CHIP_ID_SIZE], struct snp_err *err);
int sim_derive_vek(const uint8_t secret[SIM_CHIP_SECRET_SIZE], const struct sim_cert_req *req,
		   mbedtls_pk_context *key, struct sim_rng *rng, struct snp_err *err);

/* The loaded state of a directory. */
struct sim_state {
	enum snp_product product;
	int64_t not_before;		/* the ARK's, for the VEKs issued later */
	mbedtls_pk_context ask, asvk;	/* private: signing the VEK, then dropped */
	bool has_asvk;
	uint8_t *ark_der, *ask_der, *asvk_der;
	size_t ark_der_len, ask_der_len, asvk_der_len;
	uint8_t chip_secret[SIM_CHIP_SECRET_SIZE];
};

int sim_state_load(struct sim_state *st, const char *dir, struct sim_rng *rng,
		   struct snp_err *err);
/* Free the ASK and ASVK private keys once the VEK's certificate is issued. */
void sim_state_drop_keys(struct sim_state *st);
void sim_state_free(struct sim_state *st);

/* dir/name, or an error when it does not fit. */
int sim_path(char *out, size_t size, const char *dir, const char *name,
	     struct snp_err *err);
/* Write data to path atomically (a temporary file renamed) with mode. */
int sim_write_file(const char *path, const void *data, size_t len, unsigned int mode,
		   struct snp_err *err);

#endif
