// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The challenge and the unseal of docs/protocol.md (broker/attest.h).
 * An unseal is a run of steps in the protocol's order; each either passes
 * or leaves the refusal in the reply, and the first refusal ends the run.
 * Whatever happened, one audit line is written, then everything the run
 * held (the secret, the service key, the sealed answer) is wiped.
 */
#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <psa/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/attest.h"
#include "broker/log.h"
#include "broker/policy.h"
#include "snp/deadline.h"
#include "snp/verify.h"

/*
 * Verification caches, each behind its own lock: a loop thread takes a
 * free one, so loops verifying at once rarely wait for each other.
 */
#define VERIFY_SLOTS		4
#define VERIFY_CACHE_ENTRIES	256

static const char internal_message[] = "the service failed; its log says why";

struct attest_nonce {
	uint8_t value[PROTO_NONCE_SIZE];
	int64_t issued_ms;		/* snp_now_ms() */
	bool live, used;
};

struct attest_conn {
	struct attest_nonce nonces[ATTEST_NONCES_MAX];
};

struct verify_slot {
	pthread_mutex_t lock;
	struct snp_verify_cache *cache;
};

struct attest_ctx {
	struct store *store;
	struct vcek_sources *vcek;
	struct audit_log *audit;
	struct snp_anchors anchors[ATTEST_ANCHOR_SETS_MAX];
	size_t n_anchors;
	_Atomic int nonce_lifetime_ms;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;	/* locks itself (MBEDTLS_THREADING_C) */
	struct verify_slot slots[VERIFY_SLOTS];
	size_t n_slots;
};

/* One unseal: what it learnt on the way, for the next step and the audit line. */
struct unseal {
	struct attest_reply *reply;
	struct proto_unseal_request req;
	bool decoded;
	struct snp_report report;
	bool parsed;
	struct store_volume vol;
	struct vcek_chain chain;
	struct snp_verify_result res;
	const char *check;
	const char *product;
	const char *vek_source;
};

static int lifetime_or_default(int lifetime_ms)
{
	return lifetime_ms > 0 ? lifetime_ms : PROTO_NONCE_LIFETIME_DEFAULT * 1000;
}

static void ctx_free_slots(struct attest_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_slots; i++) {
		snp_verify_cache_free(ctx->slots[i].cache);
		pthread_mutex_destroy(&ctx->slots[i].lock);
	}
	ctx->n_slots = 0;
}

static int ctx_make_slots(struct attest_ctx *ctx, struct snp_err *err)
{
	for (size_t i = 0; i < VERIFY_SLOTS; i++) {
		struct verify_slot *s = &ctx->slots[i];

		s->cache = snp_verify_cache_new(VERIFY_CACHE_ENTRIES);
		if (!s->cache)
			return snp_errf(err, -ENOMEM, "out of memory for a verification cache");
		pthread_mutex_init(&s->lock, NULL);
		ctx->n_slots++;
	}
	return 0;
}

static int ctx_seed(struct attest_ctx *ctx, struct snp_err *err)
{
	static const char pers[] = "snp-keybroker attest";
	psa_status_t st = psa_crypto_init();
	int ret;

	if (st != PSA_SUCCESS)
		return snp_errf(err, -EIO, "psa_crypto_init failed (%d)", (int)st);
	mbedtls_entropy_init(&ctx->entropy);
	mbedtls_ctr_drbg_init(&ctx->drbg);
	ret = mbedtls_ctr_drbg_seed(&ctx->drbg, mbedtls_entropy_func, &ctx->entropy,
				    (const unsigned char *)pers, sizeof(pers) - 1);
	if (ret)
		return snp_errf(err, -EIO, "seeding the DRBG failed (-0x%04x)", (unsigned int)-ret);
	return 0;
}

int attest_ctx_new(struct attest_ctx **out, const struct attest_opts *opts,
		   struct snp_err *err)
{
	struct attest_ctx *ctx;
	int ret;

	*out = NULL;
	if (!opts->store || !opts->vcek || !opts->audit || !opts->anchors ||
	    opts->n_anchors < 1 || opts->n_anchors > ATTEST_ANCHOR_SETS_MAX)
		return snp_errf(err, -EINVAL, "attest: a store, VCEK sources, an audit log and 1 to %d anchor sets are needed",
				ATTEST_ANCHOR_SETS_MAX);
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return snp_errf(err, -ENOMEM, "out of memory for the attestation context");
	ctx->store = opts->store;
	ctx->vcek = opts->vcek;
	ctx->audit = opts->audit;
	memcpy(ctx->anchors, opts->anchors, opts->n_anchors * sizeof(*opts->anchors));
	ctx->n_anchors = opts->n_anchors;
	atomic_store(&ctx->nonce_lifetime_ms, lifetime_or_default(opts->nonce_lifetime_ms));
	ret = ctx_seed(ctx, err);
	if (!ret)
		ret = ctx_make_slots(ctx, err);
	if (ret) {
		attest_ctx_free(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

void attest_ctx_free(struct attest_ctx *ctx)
{
	if (!ctx)
		return;
	ctx_free_slots(ctx);
	mbedtls_ctr_drbg_free(&ctx->drbg);
	mbedtls_entropy_free(&ctx->entropy);
	free(ctx);
}

void attest_set_nonce_lifetime(struct attest_ctx *ctx, int lifetime_ms)
{
	atomic_store(&ctx->nonce_lifetime_ms, lifetime_or_default(lifetime_ms));
}

int attest_conn_new(struct attest_conn **conn)
{
	*conn = calloc(1, sizeof(**conn));
	return *conn ? 0 : -ENOMEM;
}

void attest_conn_free(void *conn)
{
	if (!conn)
		return;
	mbedtls_platform_zeroize(conn, sizeof(struct attest_conn));
	free(conn);
}

void attest_reply_free(struct attest_reply *reply)
{
	if (reply->body) {
		mbedtls_platform_zeroize(reply->body, reply->body_len);
		free(reply->body);
	}
	reply->body = NULL;
	reply->body_len = 0;
}

/*
 * The refusal of docs/protocol.md into reply; detail says why for the log
 * (for a 500 the client gets only internal_message). Returns 1 ("refused")
 * so that steps can `return refuse(...)`; -ENOMEM when no body was made.
 */
static int refuse(struct attest_reply *reply, int status, const char *reason, const char *rule,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int refuse(struct attest_reply *reply, int status, const char *reason, const char *rule,
		  const char *fmt, ...)
{
	struct proto_error e = { .status = status };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reply->detail, sizeof(reply->detail), fmt, ap);
	va_end(ap);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	snprintf(e.rule, sizeof(e.rule), "%s", rule ? rule : "");
	snprintf(e.message, sizeof(e.message), "%.*s", (int)sizeof(e.message) - 1,
		 status == 500 ? internal_message : reply->detail);
	attest_reply_free(reply);
	reply->status = status;
	reply->reason = reason;
	reply->rule = rule;
	if (proto_error_encode(&e, &reply->body, &reply->body_len))
		return -ENOMEM;
	return 1;
}

/* Challenges. */

/* An empty slot, else the oldest used one, else the oldest. */
static struct attest_nonce *nonce_slot(struct attest_conn *conn)
{
	struct attest_nonce *oldest_used = NULL, *oldest = NULL;

	for (size_t i = 0; i < ATTEST_NONCES_MAX; i++) {
		struct attest_nonce *n = &conn->nonces[i];

		if (!n->live)
			return n;
		if (n->used && (!oldest_used || n->issued_ms < oldest_used->issued_ms))
			oldest_used = n;
		if (!oldest || n->issued_ms < oldest->issued_ms)
			oldest = n;
	}
	return oldest_used ? oldest_used : oldest;
}

/* What the entry points return after refuse(): only "no reply at all" is an error. */
static int replied(const struct attest_reply *reply)
{
	return reply->body ? 0 : -ENOMEM;
}

static int issue_nonce(struct attest_ctx *ctx, struct attest_conn **conn,
		       struct attest_reply *reply)
{
	struct proto_challenge c = { 0 };
	struct attest_nonce *slot;
	int lifetime = atomic_load(&ctx->nonce_lifetime_ms);
	int ret;

	if (!*conn && attest_conn_new(conn))
		return refuse(reply, 500, "internal", NULL,
			      "out of memory for a connection's nonces");
	ret = mbedtls_ctr_drbg_random(&ctx->drbg, c.nonce, sizeof(c.nonce));
	if (ret)
		return refuse(reply, 500, "internal", NULL, "the DRBG failed (-0x%04x)",
			      (unsigned int)-ret);
	c.expires_in = (uint32_t)((lifetime + 999) / 1000);
	if (proto_challenge_encode(&c, &reply->body, &reply->body_len))
		return refuse(reply, 500, "internal", NULL, "out of memory for a challenge");
	slot = nonce_slot(*conn);
	memcpy(slot->value, c.nonce, sizeof(slot->value));
	slot->issued_ms = snp_now_ms();
	slot->live = true;
	slot->used = false;
	reply->status = 200;
	snprintf(reply->detail, sizeof(reply->detail), "nonce issued, valid for %d ms", lifetime);
	mbedtls_platform_zeroize(&c, sizeof(c));
	return 0;
}

int attest_challenge(struct attest_ctx *ctx, struct attest_conn **conn, const char *body,
		     size_t len, struct attest_reply *reply)
{
	struct snp_err err = { 0 };

	memset(reply, 0, sizeof(*reply));
	if (proto_challenge_request_decode(body, len, &err))
		refuse(reply, 400, "bad-request", NULL, "%s", err.msg);
	else
		issue_nonce(ctx, conn, reply);
	return replied(reply);
}

/* The steps of an unseal, in docs/protocol.md's order: 0 passed, else refuse()'s value. */

static int step_decode(struct unseal *u, const char *body, size_t len)
{
	struct snp_err err = { 0 };

	if (proto_unseal_request_decode(body, len, &u->req, &err))
		return refuse(u->reply, 400, "bad-request", NULL, "%s", err.msg);
	u->decoded = true;
	snprintf(u->reply->volume, sizeof(u->reply->volume), "%s", u->req.volume);
	/* For the audit line; step_vek refuses a report that does not parse. */
	u->parsed = !snp_report_parse(u->req.report, sizeof(u->req.report), &u->report, NULL);
	if (u->parsed && u->report.cpuid_product != SNP_PRODUCT_UNKNOWN)
		u->product = snp_product_name(u->report.cpuid_product);
	return 0;
}

static struct attest_nonce *nonce_find(struct attest_conn *conn,
				       const uint8_t value[PROTO_NONCE_SIZE])
{
	struct attest_nonce *found = NULL;

	/* Every slot is compared, in constant time, whatever matched. */
	for (size_t i = 0; i < ATTEST_NONCES_MAX; i++) {
		struct attest_nonce *n = &conn->nonces[i];

		if (proto_ct_equal(n->value, value, PROTO_NONCE_SIZE) && n->live)
			found = n;
	}
	return found;
}

static int step_nonce(struct attest_ctx *ctx, struct attest_conn *conn, struct unseal *u)
{
	struct attest_nonce *n = conn ? nonce_find(conn, u->req.nonce) : NULL;
	int lifetime = atomic_load(&ctx->nonce_lifetime_ms);
	int64_t age;

	if (!n)
		return refuse(u->reply, 403, "nonce-unknown", NULL,
			      "the nonce was not issued on this connection");
	if (n->used)
		return refuse(u->reply, 403, "nonce-reused", NULL, "the nonce was already used");
	n->used = true;
	age = snp_now_ms() - n->issued_ms;
	if (age >= lifetime)
		return refuse(u->reply, 403, "nonce-expired", NULL,
			      "the nonce is %lld ms old, older than its %d ms", (long long)age,
			      lifetime);
	return 0;
}

static int step_volume(struct attest_ctx *ctx, struct unseal *u)
{
	struct snp_err err = { 0 };
	int ret;

	ret = store_volume_get(ctx->store, u->req.volume, &u->vol, &err);
	if (ret == -ENOENT)
		return refuse(u->reply, 404, "unknown-volume", NULL, "no volume has id %s",
			      u->req.volume);
	if (ret)
		return refuse(u->reply, 500, "internal", NULL, "volume %s: %s", u->req.volume,
			      err.msg);
	return 0;
}

static int step_report_data(struct unseal *u, const uint8_t ekm[PROTO_EKM_SIZE])
{
	static const uint8_t zero[SNP_REPORT_DATA_SIZE];
	const uint8_t *got = u->req.report + SNP_OFF_REPORT_DATA;
	uint8_t want[SNP_REPORT_DATA_SIZE];
	int ret;

	if (proto_ct_equal(got, zero, sizeof(zero)))
		return refuse(u->reply, 403, "report-data-zero", NULL,
			      "the report's REPORT_DATA is all zero");
	ret = proto_report_data(u->req.nonce, ekm, u->req.pubkey, u->req.volume, want);
	if (ret)
		return refuse(u->reply, 500, "internal", NULL, "computing REPORT_DATA failed (%d)",
			      ret);
	if (!proto_ct_equal(got, want, sizeof(want)))
		return refuse(u->reply, 403, "report-data-mismatch", NULL,
			      "the report's REPORT_DATA does not bind this nonce, connection, key and volume");
	return 0;
}

static int step_vek(struct attest_ctx *ctx, struct unseal *u)
{
	struct snp_err err = { 0 };
	int ret;

	if (!u->parsed) {
		snp_report_parse(u->req.report, sizeof(u->req.report), &u->report, &err);
		u->check = snp_check_name(SNP_CHECK_REPORT_PARSE);
		return refuse(u->reply, 403, "evidence-rejected", NULL, "%s: %s", u->check,
			      err.msg);
	}
	ret = vcek_find(ctx->vcek, &u->report, u->report.cpuid_product, u->req.cert_table,
			u->req.cert_table_len, &u->chain, &err);
	if (ret == -ENOMEM)
		return refuse(u->reply, 500, "internal", NULL, "%s", err.msg);
	/* A table or report the client got wrong is its evidence, not our outage. */
	if (ret == -EBADMSG || ret == -EINVAL)
		return refuse(u->reply, 403, "evidence-rejected", NULL, "%s", err.msg);
	if (ret) {
		/* The detail names the broker's cache and KDS: for the operator only. */
		log_event(CONFIG_LOG_WARN, "no VCEK or VLEK for a report", "why", err.msg, NULL);
		return refuse(u->reply, 503, "vek-unavailable", NULL,
			      "no VCEK or VLEK for this report: none in the request, none cached, "
			      "and AMD KDS is off or did not answer");
	}
	u->vek_source = vcek_source_name(u->chain.source);
	return 0;
}

/* The anchor set that pins this ARK, else the first (where it then fails "ark-pin"). */
static const struct snp_anchors *pick_anchors(const struct attest_ctx *ctx,
					      const struct vcek_chain *chain)
{
	uint8_t digest[SNP_SHA256_SIZE];

	if (!chain->ark || mbedtls_sha256(chain->ark, chain->ark_len, digest, 0))
		return &ctx->anchors[0];
	for (size_t i = 0; i < ctx->n_anchors; i++) {
		for (int p = SNP_PRODUCT_MILAN; p < SNP_PRODUCT_COUNT; p++) {
			const struct snp_pin *pin = snp_anchors_get(&ctx->anchors[i],
								    (enum snp_product)p,
								    SNP_ROOT_ARK);

			if (pin && !memcmp(pin->sha256, digest, sizeof(digest)))
				return &ctx->anchors[i];
		}
	}
	return &ctx->anchors[0];
}

static struct verify_slot *slot_take(struct attest_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_slots; i++)
		if (!pthread_mutex_trylock(&ctx->slots[i].lock))
			return &ctx->slots[i];
	pthread_mutex_lock(&ctx->slots[0].lock);
	return &ctx->slots[0];
}

static int step_verify(struct attest_ctx *ctx, struct unseal *u)
{
	struct snp_verify_input in = {
		.report = u->req.report,
		.report_len = sizeof(u->req.report),
		.parsed = &u->report,
		.ark = u->chain.ark, .ark_len = u->chain.ark_len,
		.ask = u->chain.ask, .ask_len = u->chain.ask_len,
		.vek = u->chain.vek, .vek_len = u->chain.vek_len,
		.product = u->chain.product,
		.now = time(NULL),
		.anchors = pick_anchors(ctx, &u->chain),
	};
	struct verify_slot *slot = slot_take(ctx);
	struct snp_err err = { 0 };
	int ret;

	in.cache = slot->cache;
	ret = snp_verify(&in, &u->res);
	pthread_mutex_unlock(&slot->lock);
	if (ret) {
		u->check = snp_check_name(u->res.failed);
		return refuse(u->reply, 403, "evidence-rejected", NULL, "%s: %s", u->check,
			      u->res.msg);
	}
	u->product = snp_product_name(u->res.product);
	/* A cache that cannot be written costs a later KDS fetch, not this answer. */
	if (vcek_cache_put(ctx->vcek, &u->report, u->res.product, &u->chain, &err))
		snprintf(u->reply->detail, sizeof(u->reply->detail), "VCEK not cached: %.300s",
			 err.msg);
	return 0;
}

static int step_policy(struct attest_ctx *ctx, struct unseal *u)
{
	struct policy pol;
	struct snp_err err = { 0 };
	const char *rule = NULL;
	char *json = NULL;
	size_t len;
	int ret;

	policy_init(&pol);
	ret = store_policy_get(ctx->store, u->vol.policy, &json, &len, &err);
	if (!ret)
		ret = policy_parse(&pol, json, len, u->vol.policy, &err);
	/* A file edited by hand must not weaken what `policy set` would refuse. */
	if (!ret)
		ret = policy_validate(&pol, &err);
	if (ret) {
		ret = refuse(u->reply, 500, "internal", NULL, "policy '%s' of volume %s: %s",
			     u->vol.policy, u->req.volume, err.msg);
		goto out;
	}
	ret = policy_check(&pol, &u->report, &u->res, &rule, &err);
	if (ret == -EACCES && rule)
		ret = refuse(u->reply, 403, "policy-rejected", rule, "%s", err.msg);
	else if (ret)
		ret = refuse(u->reply, 500, "internal", NULL, "policy '%s': %s", u->vol.policy,
			     err.msg);
out:
	policy_free(&pol);
	free(json);
	return ret;
}

static int step_seal(struct attest_ctx *ctx, struct unseal *u)
{
	struct proto_unseal_response resp = { 0 };
	struct proto_key key;
	struct snp_err err = { 0 };
	int ret;

	ret = proto_key_generate(&key, mbedtls_ctr_drbg_random, &ctx->drbg, &err);
	if (!ret)
		ret = proto_seal(&key, u->req.pubkey, u->req.nonce, u->req.volume, u->vol.secret,
				 u->vol.secret_len, &resp.sealed, &err);
	if (ret) {
		ret = refuse(u->reply, 500, "internal", NULL, "sealing for volume %s: %s",
			     u->req.volume, err.msg);
		goto out;
	}
	memcpy(resp.volume, u->req.volume, sizeof(resp.volume));
	if (proto_unseal_response_encode(&resp, &u->reply->body, &u->reply->body_len)) {
		ret = refuse(u->reply, 500, "internal", NULL, "out of memory for an answer");
		goto out;
	}
	u->reply->status = 200;
out:
	proto_key_wipe(&key);
	mbedtls_platform_zeroize(&resp, sizeof(resp));
	return ret;
}

static void write_audit(struct attest_ctx *ctx, struct unseal *u, const char *peer)
{
	const struct attest_reply *r = u->reply;
	struct audit_record rec = {
		.peer = peer,
		.volume = u->decoded ? u->req.volume : NULL,
		.granted = r->status == 200,
		.reason = r->reason,
		.rule = r->rule,
		.check = u->check,
		.report = u->parsed ? &u->report : NULL,
		.product = u->product,
		.vek_source = u->vek_source,
	};
	struct snp_err err = { 0 };

	if (!audit_write(ctx->audit, &rec, &err))
		return;
	/* An unaudited release never happens: a grant becomes a failure. */
	if (rec.granted)
		refuse(u->reply, 500, "internal", NULL, "%s", err.msg);
	else
		snprintf(u->reply->detail, sizeof(u->reply->detail), "%s", err.msg);
}

int attest_unseal(struct attest_ctx *ctx, struct attest_conn *conn,
		  const uint8_t ekm[PROTO_EKM_SIZE], const char *peer, const char *body,
		  size_t len, struct attest_reply *reply)
{
	struct unseal u = { .reply = reply };
	int ret;

	memset(reply, 0, sizeof(*reply));
	ret = step_decode(&u, body, len);
	if (!ret)
		ret = step_nonce(ctx, conn, &u);
	if (!ret)
		ret = step_volume(ctx, &u);
	if (!ret)
		ret = step_report_data(&u, ekm);
	if (!ret)
		ret = step_vek(ctx, &u);
	if (!ret)
		ret = step_verify(ctx, &u);
	if (!ret)
		ret = step_policy(ctx, &u);
	if (!ret)
		step_seal(ctx, &u);
	write_audit(ctx, &u, peer);
	store_volume_wipe(&u.vol);
	vcek_chain_free(&u.chain);
	proto_unseal_request_free(&u.req);
	return replied(reply);
}
