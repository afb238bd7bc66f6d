/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_KDS_H
#define SNP_BROKER_KDS_H

/*
 * The AMD KDS client behind broker/vcek.h: HTTPS GETs of a VCEK and of a
 * product's certificate chain, each bounded in time and size, with 429
 * and 503 retried after a backoff. What it returns is not verified yet:
 * the caller checks it under the pinned roots before using or caching it.
 */
#include <stddef.h>
#include <stdint.h>

#include "broker/vcek.h"
#include "snp/err.h"
#include "snp/report.h"

/* The largest KDS answer taken (a VCEK is about 1.3 KiB, a chain 4 KiB). */
#define KDS_BODY_MAX	(64 * 1024)

struct kds_client;

/* Takes kds_url, kds_ca_file, kds_connect_addr and the bounds of opts. */
int kds_client_new(struct kds_client **kc, const struct vcek_opts *opts, struct snp_err *err);
void kds_client_free(struct kds_client *kc);
/* The longest one kds_fetch_* may take, in milliseconds. */
int kds_client_bound_ms(const struct kds_client *kc);

/*
 * GET BASE/vcek/v1/PRODUCT/HWID?blSPL=..: the VCEK for the chip (hwid,
 * snp_chip_id_len(product) bytes) at tcb, as DER in a malloc'd *der.
 * -ENOENT for 404, -EAGAIN when 429/503 outlasted the retries, -EPROTO
 * for other statuses, or what connecting said (-ETIMEDOUT, -ECONNREFUSED).
 */
int kds_fetch_vcek(struct kds_client *kc, enum snp_product product, const uint8_t *hwid,
		   uint64_t tcb, uint8_t **der, size_t *der_len, struct snp_err *err);

/* A product's ASK (or ASVK) and ARK as DER, malloc'd. */
struct kds_chain {
	uint8_t *ask, *ark;
	size_t ask_len, ark_len;
};
void kds_chain_free(struct kds_chain *chain);

/* GET BASE/vcek/v1/PRODUCT/cert_chain, errors as kds_fetch_vcek. */
int kds_fetch_chain(struct kds_client *kc, enum snp_product product, struct kds_chain *chain,
		    struct snp_err *err);

/*
 * The two PEM certificates of a cert_chain text, ASK then ARK: exactly
 * two "CERTIFICATE" blocks (text around them is ignored). what names the
 * text in messages.
 */
int kds_chain_parse(const uint8_t *pem, size_t len, const char *what, struct kds_chain *chain,
		    struct snp_err *err);

#endif
