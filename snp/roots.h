/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_ROOTS_H
#define SNP_ROOTS_H

/*
 * Trust anchors for SEV-SNP certificate chains: per product, the SHA-256
 * of the DER of the ARK, the ASK and the ASVK that a chain may start
 * with. snp_anchors_amd() gives AMD's genuine roots, built in and pinned;
 * a caller (the firmware simulator, a test) can build its own set, so
 * that its reports verify against its root and fail against AMD's.
 *
 * The ARK must be pinned for a product to be trusted at all. An ASK or
 * ASVK pin, when set, must match; when unset, any ASK/ASVK that the
 * pinned ARK signed is accepted (a simulator may pin only its ARK).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"
#include "snp/report.h"

#define SNP_SHA256_SIZE	32
#define SNP_PRODUCT_COUNT	(SNP_PRODUCT_TURIN + 1)

enum snp_root_role {
	SNP_ROOT_ARK = 0,
	SNP_ROOT_ASK,
	SNP_ROOT_ASVK,
	SNP_ROOT_ROLES,
};

struct snp_pin {
	bool set;
	uint8_t sha256[SNP_SHA256_SIZE];
};

struct snp_anchors {
	char name[32];		/* whose roots, for messages: "AMD", "simulator" */
	struct snp_pin pin[SNP_PRODUCT_COUNT][SNP_ROOT_ROLES];
};

/* "ARK", "ASK" or "ASVK". */
const char *snp_root_role_name(enum snp_root_role role);

/* AMD's ARK, ASK and ASVK for Milan, Genoa and Turin. */
void snp_anchors_amd(struct snp_anchors *anchors);
/* An empty set named name (nothing is trusted until pinned). */
void snp_anchors_init(struct snp_anchors *anchors, const char *name);
/* Pin a fingerprint, or the fingerprint of a DER certificate. */
int snp_anchors_pin(struct snp_anchors *anchors, enum snp_product product,
		    enum snp_root_role role, const uint8_t sha256[SNP_SHA256_SIZE],
		    struct snp_err *err);
int snp_anchors_pin_der(struct snp_anchors *anchors, enum snp_product product,
			enum snp_root_role role, const uint8_t *der, size_t len,
			struct snp_err *err);
/* The pin, or NULL when product/role has none. */
const struct snp_pin *snp_anchors_get(const struct snp_anchors *anchors,
				      enum snp_product product, enum snp_root_role role);
/* A digest of every pin, so that a cache entry is tied to the set it was checked with. */
/*
 * An ARK certificate file (PEM or DER, CN "ARK-<Product>") as a set of
 * anchors, called name, that pins it alone for its product (*product):
 * a test root such as the simulator's (verify --trust-ark, trust_ark).
 */
int snp_anchors_load_ark(struct snp_anchors *anchors, const char *name, const char *path,
			 enum snp_product *product, struct snp_err *err);
void snp_anchors_digest(const struct snp_anchors *anchors, uint8_t out[SNP_SHA256_SIZE]);

#endif
