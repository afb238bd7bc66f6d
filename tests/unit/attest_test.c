// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The broker's decisions (broker/attest.c) without a network: fixed
 * exporter values stand for TLS connections, the firmware simulator signs
 * the reports in this process, and the store, the VCEK cache and the audit
 * log are real files in the test's directory. Every refusal is checked for
 * its status, reason and rule, for exactly one audit line saying so, and
 * for no trace of the secret in the audit log.
 */
#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/attest.h"
#include "broker/audit.h"
#include "broker/policy.h"
#include "broker/store.h"
#include "broker/vcek.h"
#include "proto/proto.h"
#include "snp/roots.h"
#include "snp/sim/sim.h"
#include "tests/harness.h"

#define SIM_MILAN	TESTS_DIR "/data/sim"
#define VOLUME_A	"0b5c1e7a-3f0d-4c2e-9a55-6d1f2e3c4b5a"
#define VOLUME_B	"7d6c5b4a-3928-4716-8e5d-4c3b2a190807"
#define VOLUME_NONE	"ffffffff-0000-4000-8000-000000000000"
#define MEASUREMENT	"6d6561737572656d656e74206f6620746865206775657374206173206c61756e63686564206279207468652074657374"
#define AUDIT_MAX	(1024 * 1024)

static const uint8_t ekm_a[PROTO_EKM_SIZE] = { 0xa1, 0xa2, 0xa3, 0xa4 };
static const uint8_t ekm_b[PROTO_EKM_SIZE] = { 0xb1, 0xb2, 0xb3, 0xb4 };

struct fixture {
	char state[512], audit_path[512];
	struct attest_conn *conn;	/* the agent's connection, exporter value ekm_a */
	struct proto_key key;		/* the agent's ephemeral key */
	uint8_t nonce[PROTO_NONCE_SIZE];	/* the nonce the agent sends */
	struct snp_sim *sim;
	struct store *st;
	struct vcek_sources *vcek;
	struct audit_log *audit;
	struct attest_ctx *ctx;
	struct snp_anchors anchors[2];
	uint8_t secret[32];
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

/* A policy the simulator's default reports pass: their measurement, product and TCB. */
static void policy_for_sim(struct policy *p, const struct snp_sim *sim)
{
	const struct snp_report *t = snp_sim_template(sim);
	enum snp_product product = snp_sim_product(sim);
	struct snp_tcb tcb;

	policy_init(p);
	p->measurements = malloc(SNP_MEASUREMENT_SIZE);
	memcpy(p->measurements[0], t->measurement, SNP_MEASUREMENT_SIZE);
	p->n_measurements = 1;
	p->products = 1u << product;	/* a valid policy has a minimum TCB for each */
	snp_tcb_decode(t->reported_tcb, product, &tcb);
	p->min_tcb[product] = (struct policy_tcb_min){
		.set = true, .fmc = tcb.fmc, .bootloader = tcb.bootloader, .tee = tcb.tee,
		.snp = tcb.snp, .microcode = tcb.microcode,
	};
}

static int put_policy(struct fixture *f, const char *name, const struct policy *p)
{
	struct snp_err err = { 0 };
	char *json;
	size_t len;
	int ret;

	if (policy_to_json(p, &json, &len))
		return -ENOMEM;
	ret = store_policy_put(f->st, name, json, len, &err);
	if (ret)
		fprintf(stderr, "    policy: %s\n", err.msg);
	free(json);
	return ret;
}

static int add_volume(struct fixture *f, const char *volume, const char *policy)
{
	struct store_volume v = { 0 };
	struct snp_err err = { 0 };
	int ret;

	snprintf(v.volume, sizeof(v.volume), "%s", volume);
	snprintf(v.policy, sizeof(v.policy), "%s", policy);
	memcpy(v.secret, f->secret, sizeof(f->secret));
	v.secret_len = sizeof(f->secret);
	ret = store_volume_add(f->st, &v, &err);
	if (ret)
		fprintf(stderr, "    volume: %s\n", err.msg);
	store_volume_wipe(&v);
	return ret;
}

static int open_sim(struct fixture *f, const char *sim_conf)
{
	struct snp_sim_config cfg;
	struct snp_err err = { 0 };

	snp_sim_config_init(&cfg);
	if (sim_conf && snp_sim_config_parse(&cfg, sim_conf, strlen(sim_conf), "test.conf", &err)) {
		fprintf(stderr, "    sim config: %s\n", err.msg);
		return -EINVAL;
	}
	if (snp_sim_open(&f->sim, SIM_MILAN, &cfg, &err)) {
		fprintf(stderr, "    sim: %s\n", err.msg);
		return -EINVAL;
	}
	return 0;
}

/* The simulator's ARK as the second anchor set, after AMD's. */
static int sim_anchors(struct fixture *f)
{
	struct snp_err err = { 0 };
	const uint8_t *ark;
	size_t len;

	snp_anchors_amd(&f->anchors[0]);
	snp_anchors_init(&f->anchors[1], "simulator");
	snp_sim_cert(f->sim, SNP_SIM_CERT_ARK, &ark, &len);
	return snp_anchors_pin_der(&f->anchors[1], snp_sim_product(f->sim), SNP_ROOT_ARK, ark,
				   len, &err);
}

static int open_parts(struct fixture *f, int lifetime_ms)
{
	char cache[600];
	struct vcek_opts vo = { .cache_dir = cache, .anchors = &f->anchors[1] };
	struct attest_opts ao = { .anchors = f->anchors, .n_anchors = 2,
				  .nonce_lifetime_ms = lifetime_ms };
	struct snp_err err = { 0 };
	int ret;

	snprintf(cache, sizeof(cache), "%s/vcek", f->state);
	ret = store_open(&f->st, f->state, true, &err);
	if (!ret)
		ret = vcek_sources_new(&f->vcek, &vo, &err);
	if (!ret)
		ret = audit_open(&f->audit, f->audit_path, &err);
	ao.store = f->st;
	ao.vcek = f->vcek;
	ao.audit = f->audit;
	if (!ret)
		ret = attest_ctx_new(&f->ctx, &ao, &err);
	if (ret)
		fprintf(stderr, "    open: %s\n", err.msg);
	return ret;
}

static int rng(void *ctx, unsigned char *out, size_t len)
{
	return mbedtls_ctr_drbg_random(ctx, out, len);
}

/*
 * The simulator as sim_conf says, volumes A and B under a policy the
 * default simulator passes, changed by tweak when given. State and audit
 * log in the test's directory, under a name of their own when name is set.
 */
static int fx_open_in(struct fixture *f, const char *name, const char *sim_conf,
		      int lifetime_ms, void (*tweak)(struct policy *p, const struct snp_report *t))
{
	struct policy p;
	int ret;

	memset(f, 0, sizeof(*f));
	snprintf(f->state, sizeof(f->state), "%s/%s-state", test_tmpdir(), name);
	snprintf(f->audit_path, sizeof(f->audit_path), "%s/%s-audit.log", test_tmpdir(), name);
	for (size_t i = 0; i < sizeof(f->secret); i++)
		f->secret[i] = (uint8_t)(0x5a ^ (i * 7));
	mbedtls_entropy_init(&f->entropy);
	mbedtls_ctr_drbg_init(&f->drbg);
	ret = mbedtls_ctr_drbg_seed(&f->drbg, mbedtls_entropy_func, &f->entropy, NULL, 0);
	if (!ret)
		ret = proto_key_generate(&f->key, rng, &f->drbg, NULL);
	if (!ret)
		ret = open_sim(f, sim_conf);
	if (!ret)
		ret = sim_anchors(f);
	if (!ret)
		ret = open_parts(f, lifetime_ms);
	if (ret)
		return ret;
	policy_for_sim(&p, f->sim);
	if (tweak)
		tweak(&p, snp_sim_template(f->sim));
	ret = put_policy(f, "sim", &p);
	policy_free(&p);
	if (!ret)
		ret = add_volume(f, VOLUME_A, "sim");
	if (!ret)
		ret = add_volume(f, VOLUME_B, "sim");
	return ret;
}

static int fx_open(struct fixture *f, const char *sim_conf, int lifetime_ms,
		   void (*tweak)(struct policy *p, const struct snp_report *t))
{
	return fx_open_in(f, "test", sim_conf, lifetime_ms, tweak);
}

static void fx_close(struct fixture *f)
{
	attest_conn_free(f->conn);
	proto_key_wipe(&f->key);
	attest_ctx_free(f->ctx);
	audit_close(f->audit);
	vcek_sources_free(f->vcek);
	store_close(f->st);
	snp_sim_close(f->sim);
	mbedtls_ctr_drbg_free(&f->drbg);
	mbedtls_entropy_free(&f->entropy);
}

/* POST /v1/challenge on *conn: the nonce. */
static int challenge(struct fixture *f, struct attest_conn **conn,
		     uint8_t nonce[PROTO_NONCE_SIZE])
{
	struct attest_reply reply;
	struct proto_challenge c;
	int ret;

	ret = attest_challenge(f->ctx, conn, "{}", 2, &reply);
	if (ret || reply.status != 200)
		return -EIO;
	ret = proto_challenge_decode(reply.body, reply.body_len, &c, NULL);
	attest_reply_free(&reply);
	if (!ret)
		memcpy(nonce, c.nonce, PROTO_NONCE_SIZE);
	return ret;
}

/*
 * How an agent's request departs from the honest one: what its report
 * binds (NULL members: the honest values), and what it does after.
 */
struct lie {
	const uint8_t *nonce;
	const uint8_t *ekm;
	const uint8_t *pubkey;
	const char *volume;
	bool zero;		/* REPORT_DATA all zero */
	uint32_t vmpl;
	bool no_cert_table;
	int tamper_offset;	/* > 0: set this byte of the report ... */
	uint8_t tamper_value;	/* ... to this */
};

/* An unseal request for volume with f->key and f->nonce, its report as lie says. */
static int make_request(struct fixture *f, const char *volume, const struct lie *lie,
			struct proto_unseal_request *req)
{
	uint8_t data[SNP_REPORT_DATA_SIZE] = { 0 };
	struct snp_sim_response resp = { 0 };
	struct snp_err err = { 0 };
	int ret;

	memset(req, 0, sizeof(*req));
	if (!lie->zero)
		proto_report_data(lie->nonce ? lie->nonce : f->nonce, lie->ekm ? lie->ekm : ekm_a,
				  lie->pubkey ? lie->pubkey : f->key.pub,
				  lie->volume ? lie->volume : volume, data);
	ret = snp_sim_get_report(f->sim, data, lie->vmpl, !lie->no_cert_table, &resp, &err);
	if (ret || resp.status != SNP_SIM_STATUS_SUCCESS) {
		fprintf(stderr, "    report: %s (status 0x%x)\n", err.msg, resp.status);
		snp_sim_response_free(&resp);
		return -EIO;
	}
	snprintf(req->volume, sizeof(req->volume), "%s", volume);
	memcpy(req->nonce, f->nonce, PROTO_NONCE_SIZE);
	memcpy(req->pubkey, f->key.pub, PROTO_PUBKEY_SIZE);
	memcpy(req->report, resp.report, SNP_REPORT_SIZE);
	if (lie->tamper_offset > 0)
		req->report[lie->tamper_offset] = lie->tamper_value;
	req->cert_table = resp.certs;
	req->cert_table_len = resp.certs_len;
	resp.certs = NULL;
	snp_sim_response_free(&resp);
	return 0;
}

/* POST /v1/unseal with req on conn, whose exporter value is ekm. */
static int unseal(struct fixture *f, struct attest_conn *conn, const uint8_t *ekm,
		  const struct proto_unseal_request *req, struct attest_reply *reply)
{
	char *json;
	size_t len;
	int ret;

	if (proto_unseal_request_encode(req, &json, &len))
		return -ENOMEM;
	ret = attest_unseal(f->ctx, conn, ekm, "127.0.0.1:5555", json, len, reply);
	free(json);
	return ret;
}

/* The agent on f->conn (exporter value ekm_a): a challenge, a report, an unseal. */
static int attempt(struct fixture *f, const char *volume, const struct lie *lie,
		   struct attest_reply *reply)
{
	static const struct lie honest;
	struct proto_unseal_request req;
	int ret;

	ret = challenge(f, &f->conn, f->nonce);
	if (!ret)
		ret = make_request(f, volume, lie ? lie : &honest, &req);
	if (ret)
		return ret;
	ret = unseal(f, f->conn, ekm_a, &req, reply);
	proto_unseal_request_free(&req);
	return ret;
}

/* The audit log, NUL-terminated (test_read_file leaves room for it). */
static char *audit_text(const struct fixture *f, size_t *len)
{
	char *text = (char *)test_read_file(f->audit_path, AUDIT_MAX, len);

	text[*len] = '\0';
	return text;
}

static size_t audit_lines(const struct fixture *f)
{
	size_t len, n = 0;
	char *text = audit_text(f, &len);

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	free(text);
	return n;
}

/* lines audit lines, the last holding every needle; none the secret in hex or base64. */
static void check_audit(const struct fixture *f, size_t lines, const char *const *needles)
{
	char hex[2 * sizeof(f->secret) + 1], *b64 = proto_b64_encode(f->secret, sizeof(f->secret));
	size_t len;
	char *text = audit_text(f, &len), *last;

	CHECK(audit_lines(f) == lines);
	snp_hex(hex, f->secret, sizeof(f->secret));
	CHECK(!strstr(text, hex));
	CHECK(b64 && !strstr(text, b64));
	/* Not even a part of it: its first 12 base64 characters. */
	if (b64) {
		b64[12] = '\0';
		CHECK(!strstr(text, b64));
	}
	text[len ? len - 1 : 0] = '\0';
	last = strrchr(text, '\n');
	last = last ? last + 1 : text;
	for (size_t i = 0; needles && needles[i]; i++)
		if (!CHECK(strstr(last, needles[i])))
			fprintf(stderr, "    '%s' not in %s\n", needles[i], last);
	free(b64);
	free(text);
}

/* A refusal: status, reason, rule, the message holding msg_part; its audit line. */
static void check_refusal(const struct fixture *f, struct attest_reply *reply, int status,
			  const char *reason, const char *rule, const char *msg_part,
			  size_t lines)
{
	struct proto_error e = { 0 };
	char want_reason[64], want_rule[64];
	const char *needles[] = { "\"verdict\":\"refused\"", want_reason, want_rule, NULL };

	CHECK(reply->status == status);
	if (CHECK(!proto_error_decode(reply->body, reply->body_len, &e, NULL))) {
		CHECK_STR(e.reason, reason);
		CHECK_STR(e.rule, rule ? rule : "");
		if (msg_part && !CHECK(strstr(e.message, msg_part)))
			fprintf(stderr, "    message: %s\n", e.message);
	}
	snprintf(want_reason, sizeof(want_reason), "\"reason\":\"%s\"", reason);
	snprintf(want_rule, sizeof(want_rule), "\"rule\":\"%s\"", rule ? rule : "");
	check_audit(f, lines, needles);
	attest_reply_free(reply);
}

/* A grant that opens to the volume's secret with f->key, and its audit line. */
static void check_grant(const struct fixture *f, struct attest_reply *reply, const char *volume,
			size_t lines, const char *const *needles)
{
	struct proto_unseal_response resp;
	uint8_t secret[PROTO_SECRET_MAX];
	size_t secret_len = 0;

	CHECK(reply->status == 200);
	if (CHECK(!proto_unseal_response_decode(reply->body, reply->body_len, &resp, NULL)) &&
	    CHECK(!proto_open(&f->key, &resp.sealed, f->nonce, volume, secret, &secret_len,
			      NULL))) {
		CHECK_STR(resp.volume, volume);
		CHECK(secret_len == sizeof(f->secret));
		CHECK_MEM(secret, f->secret, sizeof(f->secret));
	}
	check_audit(f, lines, needles);
	attest_reply_free(reply);
}

TEST(attest_happy_path)
{
	struct fixture f;
	struct attest_reply reply;
	char measurement[2 * SNP_MEASUREMENT_SIZE + 32];
	const char *needles[] = { "\"verdict\":\"granted\"", "\"volume\":\"" VOLUME_A "\"",
				  "\"product\":\"Milan\"", "\"vek_source\":\"cert-table\"",
				  "\"peer\":\"127.0.0.1:5555\"", "\"reason\":\"\"", measurement, NULL };
	const char *cached[] = { "\"verdict\":\"granted\"", "\"vek_source\":\"cache\"", NULL };
	const struct lie no_table = { .no_cert_table = true };

	REQUIRE(!fx_open(&f, "measurement = " MEASUREMENT "\n", 0, NULL));
	snprintf(measurement, sizeof(measurement), "\"measurement\":\"%s\"", MEASUREMENT);
	REQUIRE(!attempt(&f, VOLUME_A, NULL, &reply));
	check_grant(&f, &reply, VOLUME_A, 1, needles);
	/* The same connection, a new nonce, no certificate table: the VCEK cache serves. */
	REQUIRE(!attempt(&f, VOLUME_A, &no_table, &reply));
	check_grant(&f, &reply, VOLUME_A, 2, cached);
	fx_close(&f);
}

TEST(attest_nonce_reused_and_unknown)
{
	struct fixture f;
	struct attest_conn *other = NULL;
	struct proto_unseal_request req;
	struct attest_reply reply;
	const struct lie honest = { 0 };
	uint8_t nonce[PROTO_NONCE_SIZE];

	REQUIRE(!fx_open(&f, NULL, 0, NULL));
	REQUIRE(!challenge(&f, &f.conn, f.nonce));
	REQUIRE(!make_request(&f, VOLUME_A, &honest, &req));
	REQUIRE(!unseal(&f, f.conn, ekm_a, &req, &reply));
	check_grant(&f, &reply, VOLUME_A, 1, NULL);
	/* The same request again: the nonce was used. */
	REQUIRE(!unseal(&f, f.conn, ekm_a, &req, &reply));
	check_refusal(&f, &reply, 403, "nonce-reused", NULL, "already used", 2);
	proto_unseal_request_free(&req);

	/* A nonce issued on another connection (exporter value ekm_b), carried here. */
	REQUIRE(!challenge(&f, &other, f.nonce));
	REQUIRE(!challenge(&f, &f.conn, nonce));
	REQUIRE(!make_request(&f, VOLUME_A, &honest, &req));
	REQUIRE(!unseal(&f, f.conn, ekm_a, &req, &reply));
	check_refusal(&f, &reply, 403, "nonce-unknown", NULL, "not issued on this connection", 3);
	/* And on a connection that never asked for a challenge. */
	REQUIRE(!unseal(&f, NULL, ekm_a, &req, &reply));
	check_refusal(&f, &reply, 403, "nonce-unknown", NULL, NULL, 4);
	proto_unseal_request_free(&req);
	/* Those refusals did not spend the other connection's nonce. */
	REQUIRE(!make_request(&f, VOLUME_A, &(const struct lie){ .ekm = ekm_b }, &req));
	REQUIRE(!unseal(&f, other, ekm_b, &req, &reply));
	check_grant(&f, &reply, VOLUME_A, 5, NULL);
	proto_unseal_request_free(&req);
	attest_conn_free(other);
	fx_close(&f);
}

TEST(attest_nonce_expired)
{
	struct fixture f;
	struct proto_unseal_request req;
	struct attest_reply reply;

	REQUIRE(!fx_open(&f, NULL, 20, NULL));
	REQUIRE(!challenge(&f, &f.conn, f.nonce));
	REQUIRE(!make_request(&f, VOLUME_A, &(const struct lie){ 0 }, &req));
	usleep(40 * 1000);
	REQUIRE(!unseal(&f, f.conn, ekm_a, &req, &reply));
	check_refusal(&f, &reply, 403, "nonce-expired", NULL, "ms old", 1);
	/* Expired counts as used. */
	REQUIRE(!unseal(&f, f.conn, ekm_a, &req, &reply));
	check_refusal(&f, &reply, 403, "nonce-reused", NULL, NULL, 2);
	proto_unseal_request_free(&req);
	fx_close(&f);
}

/* A ninth challenge forgets the oldest unused nonce; the others still work. */
TEST(attest_nonce_ninth_forgets_oldest)
{
	struct fixture f;
	struct proto_unseal_request req;
	struct attest_reply reply;
	uint8_t nonces[ATTEST_NONCES_MAX + 1][PROTO_NONCE_SIZE];

	REQUIRE(!fx_open(&f, NULL, 0, NULL));
	for (size_t i = 0; i <= ATTEST_NONCES_MAX; i++) {
		REQUIRE(!challenge(&f, &f.conn, nonces[i]));
		usleep(1000);	/* distinct issue times */
	}
	for (size_t i = 0; i < 2; i++) {
		memcpy(f.nonce, nonces[i], PROTO_NONCE_SIZE);
		REQUIRE(!make_request(&f, VOLUME_A, &(const struct lie){ 0 }, &req));
		REQUIRE(!unseal(&f, f.conn, ekm_a, &req, &reply));
		if (i == 0)
			check_refusal(&f, &reply, 403, "nonce-unknown", NULL, NULL, 1);
		else
			check_grant(&f, &reply, VOLUME_A, 2, NULL);
		proto_unseal_request_free(&req);
	}
	fx_close(&f);
}

/*
 * Reports bound to another key, volume or connection, an all-zero one, one
 * changed after signing, one whose CPUID names no product, one without a
 * certificate table (nothing cached, KDS off), one for an unknown volume.
 */
TEST(attest_refusals_before_policy)
{
	static const uint8_t other_key[PROTO_PUBKEY_SIZE] = { 0x04, 1, 2, 3 };
	static const struct {
		const char *volume;
		struct lie lie;
		int status;
		const char *reason, *message, *check;
	} cases[] = {
		{ .volume = VOLUME_A, .lie = { .pubkey = other_key }, .status = 403,
		  .reason = "report-data-mismatch", .message = "does not bind" },
		{ .volume = VOLUME_A, .lie = { .volume = VOLUME_B }, .status = 403,
		  .reason = "report-data-mismatch", .message = "does not bind" },
		{ .volume = VOLUME_A, .lie = { .ekm = ekm_b }, .status = 403,
		  .reason = "report-data-mismatch", .message = "does not bind" },
		{ .volume = VOLUME_A, .lie = { .zero = true }, .status = 403,
		  .reason = "report-data-zero", .message = "all zero" },
		{ .volume = VOLUME_A, .lie = { .tamper_offset = SNP_OFF_MEASUREMENT,
					       .tamper_value = 0x01 },
		  .status = 403, .reason = "evidence-rejected", .message = "report-signature",
		  .check = "report-signature" },
		/* Family 17h (Zen 2) has no SNP: the verifier cannot place the report. */
		{ .volume = VOLUME_A, .lie = { .tamper_offset = SNP_OFF_CPUID, .tamper_value = 0x17 },
		  .status = 403, .reason = "evidence-rejected", .message = "report-parse",
		  .check = "report-parse" },
		{ .volume = VOLUME_A, .lie = { .no_cert_table = true }, .status = 503,
		  .reason = "vek-unavailable" },
		{ .volume = VOLUME_NONE, .status = 404, .reason = "unknown-volume",
		  .message = VOLUME_NONE },
	};
	struct fixture f;

	REQUIRE(!fx_open(&f, NULL, 0, NULL));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct attest_reply reply;
		char check[64];

		fprintf(stderr, "  case %zu: %s\n", i, cases[i].reason);
		REQUIRE(!attempt(&f, cases[i].volume, &cases[i].lie, &reply));
		check_refusal(&f, &reply, cases[i].status, cases[i].reason, NULL, cases[i].message,
			      i + 1);
		snprintf(check, sizeof(check), "\"check\":\"%s\"",
			 cases[i].check ? cases[i].check : "");
		check_audit(&f, i + 1, (const char *const[]){ check, NULL });
	}
	fx_close(&f);
}

TEST(attest_bad_request)
{
	static const char *const bad[] = {
		"{", "[]", "{\"version\":1}", "{\"version\":2,\"volume\":\"x\"}", "",
	};
	struct fixture f;
	struct attest_reply reply;

	REQUIRE(!fx_open(&f, NULL, 0, NULL));
	REQUIRE(!challenge(&f, &f.conn, f.nonce));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REQUIRE(!attest_unseal(f.ctx, f.conn, ekm_a, "peer", bad[i], strlen(bad[i]),
				       &reply));
		check_refusal(&f, &reply, 400, "bad-request", NULL, NULL, i + 1);
		check_audit(&f, i + 1, (const char *const[]){ "\"volume\":\"\"", NULL });
	}
	/* The challenge wants exactly an empty object, and is not audited. */
	REQUIRE(!attest_challenge(f.ctx, &f.conn, "{\"a\":1}", 7, &reply));
	CHECK(reply.status == 400);
	attest_reply_free(&reply);
	CHECK(audit_lines(&f) == sizeof(bad) / sizeof(bad[0]));
	fx_close(&f);
}

/* Policy rules: a report that breaks each family, and the rule that names it. */

static void want_genoa(struct policy *p, const struct snp_report *t)
{
	(void)t;
	/* A valid policy: the minimum TCB moves with the product. */
	p->products = 1U << SNP_PRODUCT_GENOA;
	p->min_tcb[SNP_PRODUCT_GENOA] = p->min_tcb[SNP_PRODUCT_MILAN];
	p->min_tcb[SNP_PRODUCT_MILAN].set = false;
}

static void want_v2(struct policy *p, const struct snp_report *t)
{
	(void)t;
	p->report_versions = 1U << 2;
}

static void want_smt_off(struct policy *p, const struct snp_report *t)
{
	(void)t;
	p->smt = POLICY_FORBID;
}

static void want_newer_abi(struct policy *p, const struct snp_report *t)
{
	p->has_min_abi = true;
	p->min_abi_major = (uint8_t)(t->policy_bits.abi_major + 1);
}

static void want_platform_bit(struct policy *p, const struct snp_report *t)
{
	uint64_t bit = SNP_PLATFORM_TSME_EN;

	while (t->platform_info & bit)
		bit <<= 1;
	p->platform_require = bit;
}

static void want_newer_tcb(struct policy *p, const struct snp_report *t)
{
	(void)t;
	p->min_tcb[SNP_PRODUCT_MILAN].snp++;
}

static void want_other_measurement(struct policy *p, const struct snp_report *t)
{
	(void)t;
	p->measurements[0][0] ^= 0xff;
}

static void want_host_data(struct policy *p, const struct snp_report *t)
{
	p->host_data = malloc(SNP_HOST_DATA_SIZE);
	memcpy(p->host_data[0], t->host_data, SNP_HOST_DATA_SIZE);
	p->host_data[0][0] ^= 0xff;
	p->n_host_data = 1;
}

static void want_id_key(struct policy *p, const struct snp_report *t)
{
	p->id_key_digests = malloc(SNP_KEY_DIGEST_SIZE);
	memcpy(p->id_key_digests[0], t->id_key_digest, SNP_KEY_DIGEST_SIZE);
	p->id_key_digests[0][0] ^= 0xff;
	p->n_id_key_digests = 1;
}

static void want_family(struct policy *p, const struct snp_report *t)
{
	p->has_family_id = true;
	memcpy(p->family_id, t->family_id, SNP_ID_SIZE);
	p->family_id[0] ^= 0xff;
}

static void want_image(struct policy *p, const struct snp_report *t)
{
	p->has_image_id = true;
	memcpy(p->image_id, t->image_id, SNP_ID_SIZE);
	p->image_id[0] ^= 0xff;
}

static void want_newer_svn(struct policy *p, const struct snp_report *t)
{
	p->min_guest_svn = t->guest_svn + 1;
}

static void want_other_chip(struct policy *p, const struct snp_report *t)
{
	p->chip_ids = malloc(SNP_CHIP_ID_SIZE);
	memcpy(p->chip_ids[0], t->chip_id, SNP_CHIP_ID_SIZE);
	p->chip_ids[0][0] ^= 0xff;
	p->n_chip_ids = 1;
}

TEST(attest_policy_rules)
{
	static const struct {
		const char *rule;
		const char *sim_conf;
		uint32_t vmpl;
		void (*tweak)(struct policy *p, const struct snp_report *t);
	} cases[] = {
		{ "product", NULL, 0, want_genoa },
		{ "report-version", NULL, 0, want_v2 },
		{ "vmpl", "guest_vmpl = 1\n", 1, NULL },
		{ "vlek", "signing_key = vlek\n", 0, NULL },
		{ "policy-debug", "policy = 0xb0000\n", 0, NULL },
		{ "policy-migrate-ma", "policy = 0x70000\n", 0, NULL },
		{ "policy-smt", NULL, 0, want_smt_off },
		{ "policy-abi", NULL, 0, want_newer_abi },
		{ "platform-info", NULL, 0, want_platform_bit },
		{ "tcb", NULL, 0, want_newer_tcb },
		{ "measurement", NULL, 0, want_other_measurement },
		{ "host-data", NULL, 0, want_host_data },
		{ "id-key-digest", NULL, 0, want_id_key },
		{ "family-id", NULL, 0, want_family },
		{ "image-id", NULL, 0, want_image },
		{ "guest-svn", NULL, 0, want_newer_svn },
		{ "chip-id", NULL, 0, want_other_chip },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct attest_reply reply;

		fprintf(stderr, "  rule %s\n", cases[i].rule);
		REQUIRE(!fx_open_in(&f, cases[i].rule, cases[i].sim_conf, 0, cases[i].tweak));
		REQUIRE(!attempt(&f, VOLUME_A, &(const struct lie){ .vmpl = cases[i].vmpl },
				 &reply));
		check_refusal(&f, &reply, 403, "policy-rejected", cases[i].rule, NULL, 1);
		fx_close(&f);
	}
}

/* The audit line: every member, and nothing but what it was given. */
TEST(attest_audit_format)
{
	struct snp_report r = { 0 };
	struct audit_record rec = {
		.peer = "[::1]:4000", .volume = VOLUME_A, .granted = false,
		.reason = "policy-rejected", .rule = "policy-debug", .report = &r,
		.product = "Turin", .vek_source = "kds",
	};
	char line[AUDIT_LINE_MAX];
	int len;

	memset(r.chip_id, 0xab, sizeof(r.chip_id));
	r.measurement[0] = 0x12;
	len = audit_format(&rec, 1767225600, line, sizeof(line));	/* 2026-01-01 */
	REQUIRE(len > 0);
	CHECK((size_t)len == strlen(line));
	CHECK(line[len - 1] == '\n');
	CHECK(strchr(line, '\n') == line + len - 1);
	CHECK(strstr(line, "\"time\":\"2026-01-01T00:00:00Z\""));
	CHECK(strstr(line, "\"verdict\":\"refused\""));
	CHECK(strstr(line, "\"check\":\"\""));
	CHECK(strstr(line, "\"measurement\":\"1200"));
	/* Turin's chip id is 8 bytes. */
	CHECK(strstr(line, "\"chip_id\":\"abababababababab\""));
	CHECK(audit_format(&rec, 0, line, 64) == -ENOSPC);
}
