/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_VCEK_H
#define SNP_BROKER_VCEK_H

/*
 * Finding the certificates that verify a report, in this order:
 *  1. the certificate table the agent sent (VCEK or VLEK, ASK/ASVK, ARK);
 *  2. the on-disk cache: STATE/vcek/PRODUCT/HWID/TCB.der for VCEKs, keyed
 *     by product, hwID (CHIP_ID: 64 bytes, 8 on Turin) and REPORTED_TCB,
 *     and STATE/vcek/PRODUCT/cert_chain.pem (ASK, then ARK);
 *  3. when enabled, AMD KDS at a configurable base URL:
 *       BASE/vcek/v1/PRODUCT/HWID?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..
 *       (Turin: also fmcSPL, and the 8-byte hwID)
 *       BASE/vcek/v1/PRODUCT/cert_chain
 *     HTTP 429 and 503 are retried with exponential backoff (honouring
 *     Retry-After, capped), within a bound; what KDS returns is cached
 *     only after it verified as a chain under the pinned roots.
 * Offline mode: steps 1 and 2 only.
 *
 * The ARK and ASK are cached in memory per product once they verified.
 * Safe to use from several threads.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"
#include "snp/report.h"
#include "snp/roots.h"

struct vcek_opts {
	const char *cache_dir;		/* STATE/vcek; NULL: no cache */
	bool kds_enabled;		/* false: offline */
	const char *kds_url;		/* default "https://kdsintf.amd.com" */
	const char *kds_ca_file;	/* CA bundle for KDS; default the system's */
	int kds_timeout_ms;		/* each request; default 10000 */
	int kds_retries;		/* after a 429/503; default 4 */
	int kds_backoff_ms;		/* first backoff; doubles; default 500 */
	int kds_backoff_max_ms;		/* default 8000 */
	const struct snp_anchors *anchors;	/* NULL: AMD's */
	/*
	 * Connect to this numeric address instead of resolving kds_url's host
	 * (which still names the server for SNI and its certificate); NULL:
	 * resolve. For tests against a KDS on loopback.
	 */
	const char *kds_connect_addr;
};
/*
 * Zero or negative times, and a negative kds_retries, mean the defaults
 * above. One lookup may take up to (kds_retries + 1) * kds_timeout_ms
 * plus the backoffs, each at most kds_backoff_max_ms.
 */

enum vcek_source { VCEK_FROM_TABLE = 1, VCEK_FROM_CACHE, VCEK_FROM_KDS };

/* DER certificates for snp_verify_input, malloc'd. */
struct vcek_chain {
	uint8_t *ark, *ask, *vek;
	size_t ark_len, ask_len, vek_len;
	enum vcek_source source;
	enum snp_product product;
};

struct vcek_sources;
int vcek_sources_new(struct vcek_sources **vs, const struct vcek_opts *opts, struct snp_err *err);
void vcek_sources_free(struct vcek_sources *vs);

/*
 * The chain for report (parsed), product as the report or the agent's
 * table says. -ENOENT with a sentence when no source has it (offline, or
 * KDS refused), -EAGAIN when KDS kept answering 429/503.
 */
int vcek_find(struct vcek_sources *vs, const struct snp_report *report, enum snp_product product,
	      const uint8_t *cert_table, size_t cert_table_len, struct vcek_chain *chain,
	      struct snp_err *err);
void vcek_chain_free(struct vcek_chain *chain);
/*
 * Remember a VCEK that verified (after snp_verify passed), and its ARK and
 * ASK when the cache has none for the product. Nothing to do for a VLEK
 * (they come only from the agent's table) or a masked CHIP_ID.
 */
int vcek_cache_put(struct vcek_sources *vs, const struct snp_report *report,
		   enum snp_product product, const struct vcek_chain *chain, struct snp_err *err);
const char *vcek_source_name(enum vcek_source source);

#endif
