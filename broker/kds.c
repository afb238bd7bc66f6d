// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The AMD KDS client: one TLS connection per GET (KDS answers so rarely
 * that keeping one open buys nothing), each bounded by kds_timeout_ms and
 * KDS_BODY_MAX. KDS rate-limits with 429 (and sheds load with 503): those
 * are retried after a backoff that starts at kds_backoff_ms and doubles,
 * or after Retry-After when it asks for longer, never beyond
 * kds_backoff_max_ms, so that a lookup ends within kds_client_bound_ms().
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <psa/crypto.h>

#include "broker/kds.h"
#include "snp/certtable.h"
#include "tls/http.h"
#include "tls/tls.h"

#define KDS_DEFAULT_URL		"https://kdsintf.amd.com"
#define KDS_DEFAULT_CA		"/etc/ssl/certs/ca-certificates.crt"
#define PEM_BEGIN		"-----BEGIN CERTIFICATE-----"
#define PEM_END			"-----END CERTIFICATE-----"

enum {
	DEFAULT_TIMEOUT_MS = 10000,
	DEFAULT_RETRIES = 4,
	DEFAULT_BACKOFF_MS = 500,
	DEFAULT_BACKOFF_MAX_MS = 8000,
	/* Beyond this, a bound in int milliseconds could overflow. */
	RETRIES_MAX = 16,
	TIME_MAX_MS = 600000,
	HTTP_TOO_MANY_REQUESTS = 429,
	HTTP_UNAVAILABLE = 503,
};

struct kds_client {
	struct tls_client_ctx *tls;
	struct http_url url;		/* path: the base, without a trailing '/' */
	char connect_addr[64];		/* "" to resolve url.host */
	int timeout_ms;
	int retries;
	int backoff_ms;
	int backoff_max_ms;
};

static int or_default(int v, int def)
{
	if (v <= 0)
		return def;
	return v < TIME_MAX_MS ? v : TIME_MAX_MS;
}

static int set_bounds(struct kds_client *kc, const struct vcek_opts *opts, struct snp_err *err)
{
	kc->timeout_ms = or_default(opts->kds_timeout_ms, DEFAULT_TIMEOUT_MS);
	kc->backoff_ms = or_default(opts->kds_backoff_ms, DEFAULT_BACKOFF_MS);
	kc->backoff_max_ms = or_default(opts->kds_backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
	kc->retries = opts->kds_retries < 0 ? DEFAULT_RETRIES : opts->kds_retries;
	if (kc->retries > RETRIES_MAX)
		return snp_errf(err, -EINVAL, "kds_retries is %d; at most %d are allowed",
				kc->retries, RETRIES_MAX);
	return 0;
}

static int set_url(struct kds_client *kc, const struct vcek_opts *opts, struct snp_err *err)
{
	const char *url = opts->kds_url ? opts->kds_url : KDS_DEFAULT_URL;
	size_t n;
	int ret;

	ret = http_url_parse(url, &kc->url, err);
	if (ret)
		return ret;
	if (strchr(kc->url.path, '?'))
		return snp_errf(err, -EINVAL, "the KDS URL %s has a query; give the base only",
				url);
	n = strlen(kc->url.path);
	while (n && kc->url.path[n - 1] == '/')
		kc->url.path[--n] = '\0';
	if (!opts->kds_connect_addr)
		return 0;
	if (strlen(opts->kds_connect_addr) >= sizeof(kc->connect_addr))
		return snp_errf(err, -EINVAL, "the KDS connect address %.64s... is too long",
				opts->kds_connect_addr);
	strcpy(kc->connect_addr, opts->kds_connect_addr);
	return 0;
}

int kds_client_new(struct kds_client **out, const struct vcek_opts *opts, struct snp_err *err)
{
	struct tls_client_opts topts = {
		.ca_file = opts->kds_ca_file ? opts->kds_ca_file : KDS_DEFAULT_CA,
	};
	struct kds_client *kc = calloc(1, sizeof(*kc));
	int ret;

	*out = NULL;
	if (!kc)
		return snp_errf(err, -ENOMEM, "out of memory for the KDS client");
	ret = set_bounds(kc, opts, err);
	if (!ret)
		ret = set_url(kc, opts, err);
	if (!ret && psa_crypto_init() != PSA_SUCCESS)
		ret = snp_errf(err, -EIO, "PSA crypto failed to start, needed for TLS 1.3 to KDS");
	if (!ret)
		ret = tls_client_ctx_new(&kc->tls, &topts, err);
	if (ret) {
		kds_client_free(kc);
		return ret;
	}
	*out = kc;
	return 0;
}

void kds_client_free(struct kds_client *kc)
{
	if (!kc)
		return;
	tls_client_ctx_free(kc->tls);
	free(kc);
}

int kds_client_bound_ms(const struct kds_client *kc)
{
	return (kc->retries + 1) * kc->timeout_ms + kc->retries * kc->backoff_max_ms;
}

void kds_chain_free(struct kds_chain *chain)
{
	free(chain->ask);
	free(chain->ark);
	memset(chain, 0, sizeof(*chain));
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* What to wait before the next try: the backoff, or longer if KDS asked, capped. */
static int retry_wait_ms(const struct kds_client *kc, int backoff_ms, long retry_after)
{
	long wait = backoff_ms;

	if (retry_after > kc->backoff_max_ms / 1000)
		return kc->backoff_max_ms;
	if (retry_after * 1000 > wait)
		wait = retry_after * 1000;
	return wait < kc->backoff_max_ms ? (int)wait : kc->backoff_max_ms;
}

/* One GET on a fresh connection, within kds_timeout_ms. */
static int get_once(struct kds_client *kc, const char *path, struct http_client_response *resp,
		    struct snp_err *err)
{
	const char *addr = kc->connect_addr[0] ? kc->connect_addr : NULL;
	struct tls_conn *conn = NULL;
	struct snp_deadline dl;
	struct snp_err why = { 0 };
	int ret;

	memset(resp, 0, sizeof(*resp));
	snp_deadline_start(&dl, kc->timeout_ms);
	ret = tls_client_connect(&conn, kc->tls, kc->url.host, kc->url.port, addr, &dl, &why);
	if (!ret)
		ret = http_client_request(conn, kc->url.host, kc->url.port, "GET", path, NULL, 0,
					  KDS_BODY_MAX, &dl, resp, &why);
	tls_conn_free(conn);
	if (ret)
		return snp_errf(err, ret, "AMD KDS at %s:%u (GET %s, within %d ms): %s",
				kc->url.host, kc->url.port, path, kc->timeout_ms, why.msg);
	return 0;
}

static int status_error(const struct kds_client *kc, const struct http_client_response *resp,
			int tries, const char *what, struct snp_err *err)
{
	switch (resp->status) {
	case 404:
		return snp_errf(err, -ENOENT, "KDS has no %s (HTTP 404 from %s)", what,
				kc->url.host);
	case HTTP_TOO_MANY_REQUESTS:
	case HTTP_UNAVAILABLE:
		return snp_errf(err, -EAGAIN,
				"KDS at %s still answered HTTP %d after %d tries for the %s; try again later",
				kc->url.host, resp->status, tries, what);
	default:
		return snp_errf(err, -EPROTO, "KDS at %s answered HTTP %d for the %s",
				kc->url.host, resp->status, what);
	}
}

/* GET with retries; 0 only with a 200 answer in resp. */
static int kds_get(struct kds_client *kc, const char *path, const char *what,
		   struct http_client_response *resp, struct snp_err *err)
{
	int backoff = kc->backoff_ms, tries = 0, ret;

	for (;;) {
		ret = get_once(kc, path, resp, err);
		if (ret)
			return ret;
		tries++;
		if (resp->status == 200)
			return 0;
		if ((resp->status != HTTP_TOO_MANY_REQUESTS && resp->status != HTTP_UNAVAILABLE) ||
		    tries > kc->retries)
			break;
		sleep_ms(retry_wait_ms(kc, backoff, resp->retry_after));
		backoff = backoff < kc->backoff_max_ms / 2 ? backoff * 2 : kc->backoff_max_ms;
		http_client_response_free(resp);
	}
	ret = status_error(kc, resp, tries, what, err);
	http_client_response_free(resp);
	return ret;
}

static int kds_path(const struct kds_client *kc, char *out, enum snp_product product,
		    const char *rest, struct snp_err *err)
{
	int n = snprintf(out, HTTP_PATH_MAX, "%s/vcek/v1/%s/%s", kc->url.path,
			 snp_product_name(product), rest);

	if (n < 0 || n >= HTTP_PATH_MAX)
		return snp_errf(err, -ENAMETOOLONG,
				"the KDS path under %s is longer than %d bytes", kc->url.path,
				HTTP_PATH_MAX - 1);
	return 0;
}

/* HWID?[fmcSPL=..&]blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=.. */
static int vcek_rest(char *out, size_t size, enum snp_product product, const uint8_t *hwid,
		     uint64_t tcb_raw, struct snp_err *err)
{
	char hex[2 * SNP_CHIP_ID_SIZE + 1], fmc[24] = "";
	struct snp_tcb tcb;

	if (snp_tcb_decode(tcb_raw, product, &tcb))
		return snp_errf(err, -EINVAL, "no KDS URL for an unknown product");
	snp_hex(hex, hwid, snp_chip_id_len(product));
	if (product == SNP_PRODUCT_TURIN)
		snprintf(fmc, sizeof(fmc), "fmcSPL=%u&", tcb.fmc);
	snprintf(out, size, "%s?%sblSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", hex, fmc,
		 tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode);
	return 0;
}

int kds_fetch_vcek(struct kds_client *kc, enum snp_product product, const uint8_t *hwid,
		   uint64_t tcb, uint8_t **der, size_t *der_len, struct snp_err *err)
{
	struct http_client_response resp;
	char rest[HTTP_PATH_MAX], path[HTTP_PATH_MAX];
	struct snp_err why = { 0 };
	int ret;

	*der = NULL;
	ret = vcek_rest(rest, sizeof(rest), product, hwid, tcb, err);
	if (!ret)
		ret = kds_path(kc, path, product, rest, err);
	if (!ret)
		ret = kds_get(kc, path, "VCEK for this chip and TCB", &resp, err);
	if (ret)
		return ret;
	ret = snp_cert_to_der(resp.body, resp.body_len, der, der_len, &why);
	http_client_response_free(&resp);
	if (ret)
		return snp_errf(err, ret, "AMD KDS answered a VCEK that is no certificate: %s",
				why.msg);
	return 0;
}

int kds_fetch_chain(struct kds_client *kc, enum snp_product product, struct kds_chain *chain,
		    struct snp_err *err)
{
	struct http_client_response resp;
	char path[HTTP_PATH_MAX], what[64];
	int ret;

	memset(chain, 0, sizeof(*chain));
	snprintf(what, sizeof(what), "certificate chain for %s", snp_product_name(product));
	ret = kds_path(kc, path, product, "cert_chain", err);
	if (!ret)
		ret = kds_get(kc, path, what, &resp, err);
	if (ret)
		return ret;
	ret = kds_chain_parse(resp.body, resp.body_len, "KDS's cert_chain", chain, err);
	http_client_response_free(&resp);
	return ret;
}

/* The next PEM certificate block from *pos: [*start, *pos). 1 when there is none. */
static int next_pem(const uint8_t *buf, size_t len, size_t *pos, size_t *start)
{
	const uint8_t *b, *e;

	b = memmem(buf + *pos, len - *pos, PEM_BEGIN, strlen(PEM_BEGIN));
	if (!b)
		return 1;
	e = memmem(b, (size_t)(buf + len - b), PEM_END, strlen(PEM_END));
	if (!e)
		return -EBADMSG;
	*start = (size_t)(b - buf);
	*pos = (size_t)(e - buf) + strlen(PEM_END);
	return 0;
}

int kds_chain_parse(const uint8_t *pem, size_t len, const char *what, struct kds_chain *chain,
		    struct snp_err *err)
{
	uint8_t **der[2] = { &chain->ask, &chain->ark };
	size_t *der_len[2] = { &chain->ask_len, &chain->ark_len };
	size_t pos = 0, start = 0;
	int ret = 0;

	memset(chain, 0, sizeof(*chain));
	for (int i = 0; i < 2 && !ret; i++) {
		ret = next_pem(pem, len, &pos, &start);
		if (ret)
			ret = snp_errf(err, -EBADMSG,
				       "%s holds %s PEM certificate %d; it needs the ASK, then the ARK",
				       what, ret > 0 ? "no" : "an unterminated", i + 1);
		else
			ret = snp_cert_to_der(pem + start, pos - start, der[i], der_len[i], err);
	}
	if (!ret && next_pem(pem, len, &pos, &start) != 1)
		ret = snp_errf(err, -EBADMSG,
			       "%s holds more than two certificates; it needs the ASK, then the ARK",
			       what);
	if (ret)
		kds_chain_free(chain);
	return ret;
}
