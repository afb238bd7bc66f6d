// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's protocol client (proto/client.c) against a real TLS server
 * on loopback (tls_peer.h) that plays a broker: an honest one that checks
 * REPORT_DATA with its own end's exporter value and seals the secret, and
 * ones that break the protocol in each way the client must catch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psa/crypto.h>

#include "proto/client.h"
#include "snp/bytes.h"
#include "snp/report.h"
#include "tests/harness.h"
#include "tests/unit/tls_peer.h"

#define VOLUME		"6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
#define OTHER_VOLUME	"00000000-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
#define BOUND_MS	5000
#define SLACK_MS	700
#define TABLE_LEN	100

enum behaviour {
	HONEST,
	CHALLENGE_MALFORMED,	/* a 200 that is not JSON */
	CHALLENGE_REFUSED,	/* 503 overloaded */
	CHALLENGE_HUGE,		/* a 200 above PROTO_RESPONSE_MAX */
	CHALLENGE_NOT_REFUSAL,	/* a 500 with a body that is not an error object */
	CHALLENGE_REDIRECT,	/* a 302 */
	CHALLENGE_ZERO_NONCE,
	UNSEAL_POLICY,		/* 403 policy-rejected, rule measurement */
	UNSEAL_WRONG_VOLUME,
	UNSEAL_BAD_CIPHERTEXT,
	SILENT,			/* reads, never answers */
};

struct broker {
	enum behaviour behaviour;
	uint8_t secret[32];
	uint8_t nonce[PROTO_NONCE_SIZE];
	int requests;
	char paths[4][HTTP_PATH_MAX];
	bool report_data_ok;
	size_t cert_table_len;
};

/* ---- the broker's side ---- */

static int psa_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return psa_generate_random(out, len) == PSA_SUCCESS ? 0 : -1;
}

/* One request into buf: 1 with *body set, 0 when the client closed, or negative. */
static int read_request(struct tls_conn *conn, char *buf, size_t size, struct http_request *req,
			const char **body)
{
	struct snp_err err;
	size_t have = 0;
	ssize_t n;
	int ret = 0;

	while (ret != 1 || have < req->head_len + req->content_length) {
		n = peer_read(conn, buf + have, size - have);
		if (n <= 0)
			return (int)n;
		have += (size_t)n;
		if (ret != 1)
			ret = http_request_parse(buf, have, HTTP_HEADER_MAX, req, &err);
		if (ret < 0 || (ret == 1 && req->head_len + req->content_length > size))
			return -EBADMSG;
	}
	*body = buf + req->head_len;
	return 1;
}

static void respond(struct tls_conn *conn, int status, const char *body, size_t len)
{
	char head[HTTP_HEADER_MAX];
	int n = http_response_head(head, sizeof(head), status, "application/json", len, false);

	if (n > 0 && !peer_write_all(conn, head, (size_t)n))
		peer_write_all(conn, body, len);
}

static void respond_text(struct tls_conn *conn, int status, const char *body)
{
	respond(conn, status, body, strlen(body));
}

static void answer_challenge(struct broker *b, struct tls_conn *conn)
{
	struct proto_challenge c = { .expires_in = 60 };
	static char huge[PROTO_RESPONSE_MAX + 1];
	char *json;
	size_t len;

	switch (b->behaviour) {
	case CHALLENGE_MALFORMED:
		return respond_text(conn, 200, "{\"version\":1,\"nonce\":");
	case CHALLENGE_REFUSED:
		return respond_text(conn, 503, "{\"error\":\"overloaded\",\"message\":\"the service is shutting down\"}");
	case CHALLENGE_HUGE:
		memset(huge, ' ', sizeof(huge));
		return respond(conn, 200, huge, sizeof(huge));
	case CHALLENGE_NOT_REFUSAL:
		return respond_text(conn, 500, "oops");
	case CHALLENGE_REDIRECT:
		return respond_text(conn, 302, "{}");
	default:
		break;
	}
	if (b->behaviour != CHALLENGE_ZERO_NONCE)
		psa_generate_random(b->nonce, sizeof(b->nonce));
	memcpy(c.nonce, b->nonce, sizeof(c.nonce));
	if (proto_challenge_encode(&c, &json, &len))
		return;
	respond(conn, 200, json, len);
	free(json);
}

static void answer_unseal(struct broker *b, struct tls_conn *conn, const uint8_t ekm[32],
			  const char *body, size_t body_len)
{
	struct proto_unseal_request req;
	struct proto_unseal_response resp = { 0 };
	uint8_t report_data[SNP_REPORT_DATA_SIZE];
	struct proto_key service;
	struct snp_err err;
	char *json;
	size_t len;

	if (b->behaviour == UNSEAL_POLICY)
		return respond_text(conn, 403, "{\"error\":\"policy-rejected\",\"message\":\"rule measurement: not allowed\",\"rule\":\"measurement\"}");
	if (proto_unseal_request_decode(body, body_len, &req, &err))
		return respond_text(conn, 400, "{\"error\":\"bad-request\",\"message\":\"bad\"}");
	b->cert_table_len = req.cert_table_len;
	proto_report_data(req.nonce, ekm, req.pubkey, req.volume, report_data);
	b->report_data_ok = !memcmp(req.report + SNP_OFF_REPORT_DATA, report_data,
				    sizeof(report_data)) &&
			    !memcmp(req.nonce, b->nonce, sizeof(b->nonce));
	if (!b->report_data_ok || proto_key_generate(&service, psa_rng, NULL, &err) ||
	    proto_seal(&service, req.pubkey, req.nonce, req.volume, b->secret, sizeof(b->secret),
		       &resp.sealed, &err)) {
		proto_unseal_request_free(&req);
		return respond_text(conn, 403, "{\"error\":\"report-data-mismatch\",\"message\":\"no\"}");
	}
	snprintf(resp.volume, sizeof(resp.volume), "%s",
		 b->behaviour == UNSEAL_WRONG_VOLUME ? OTHER_VOLUME : req.volume);
	if (b->behaviour == UNSEAL_BAD_CIPHERTEXT)
		resp.sealed.ciphertext[3] ^= 1;
	if (!proto_unseal_response_encode(&resp, &json, &len)) {
		respond(conn, 200, json, len);
		free(json);
	}
	proto_key_wipe(&service);
	proto_unseal_request_free(&req);
}

static void serve(struct tls_peer *peer, struct tls_conn *conn, int index)
{
	static char buf[PROTO_REQUEST_MAX + HTTP_HEADER_MAX];
	struct broker *b = peer->data;
	struct http_request req;
	const char *body = NULL;

	if (b->behaviour == SILENT) {
		while (peer_read(conn, buf, sizeof(buf)) > 0)
			;
		return;
	}
	while (read_request(conn, buf, sizeof(buf), &req, &body) == 1) {
		if (b->requests < 4)
			snprintf(b->paths[b->requests], HTTP_PATH_MAX, "%s", req.path);
		b->requests++;
		if (!strcmp(req.path, "/v1/challenge"))
			answer_challenge(b, conn);
		else if (!strcmp(req.path, "/v1/unseal"))
			answer_unseal(b, conn, peer->ekm[index], body, req.content_length);
		else
			respond_text(conn, 404, "{\"error\":\"not-found\",\"message\":\"no such path\"}");
	}
}

/* ---- the agent's side ---- */

struct report_source {
	int calls;
	int fail;		/* returned when not 0 */
};

static int make_report(void *ctx, const uint8_t report_data[SNP_REPORT_DATA_SIZE],
		       uint8_t report[SNP_REPORT_SIZE], uint8_t **cert_table,
		       size_t *cert_table_len, struct snp_err *err)
{
	struct report_source *src = ctx;

	src->calls++;
	if (src->fail)
		return snp_errf(err, src->fail, "no report today");
	memset(report, 0x41, SNP_REPORT_SIZE);
	memcpy(report + SNP_OFF_REPORT_DATA, report_data, SNP_REPORT_DATA_SIZE);
	*cert_table = calloc(1, TABLE_LEN);
	*cert_table_len = TABLE_LEN;
	return 0;
}

struct run {
	struct tls_peer peer;
	struct broker broker;
	struct report_source source;
	char url[64];
	struct proto_client_opts opts;
	uint8_t secret[PROTO_SECRET_MAX];
	size_t secret_len;
	struct proto_error refusal;
	struct snp_err err;
	int64_t elapsed_ms;
};

static bool start(struct run *r, enum behaviour behaviour)
{
	memset(r, 0, sizeof(*r));
	r->broker.behaviour = behaviour;
	for (size_t i = 0; i < sizeof(r->broker.secret); i++)
		r->broker.secret[i] = (uint8_t)(0xa0 + i);
	if (!tls_peer_start(&r->peer, 1, serve, &r->broker))
		return false;
	snprintf(r->url, sizeof(r->url), "https://" PEER_HOST ":%u", r->peer.port);
	r->opts = (struct proto_client_opts){
		.url = r->url,
		.ca_file = TLS_FIXTURE("ca.pem"),
		.connect_addr = "127.0.0.1",
	};
	return true;
}

/* The whole exchange against the broker of r, bounded by bound_ms. */
static int unseal(struct run *r, int bound_ms)
{
	struct snp_deadline dl;
	int64_t t0 = snp_now_ms();
	int ret;

	memset(r->secret, 0x5a, sizeof(r->secret));
	snp_deadline_start(&dl, bound_ms);
	ret = proto_client_unseal(&r->opts, VOLUME, make_report, &r->source, &dl, r->secret,
				  &r->secret_len, &r->refusal, &r->err);
	r->elapsed_ms = snp_now_ms() - t0;
	return ret;
}

static int run_once(struct run *r, enum behaviour behaviour)
{
	int ret;

	if (!start(r, behaviour))
		return -1000;
	ret = unseal(r, BOUND_MS);
	tls_peer_stop(&r->peer);
	return ret;
}

/* ---- tests ---- */

TEST(proto_client_unseal_gets_the_secret_from_an_honest_broker)
{
	struct run r;

	REQUIRE(run_once(&r, HONEST) == 0);
	CHECK(r.secret_len == sizeof(r.broker.secret));
	CHECK_MEM(r.secret, r.broker.secret, sizeof(r.broker.secret));
	/* The broker's own exporter value, nonce, key and volume matched the report. */
	CHECK(r.broker.report_data_ok);
	CHECK(r.broker.requests == 2);
	CHECK_STR(r.broker.paths[0], "/v1/challenge");
	CHECK_STR(r.broker.paths[1], "/v1/unseal");
	CHECK(r.broker.cert_table_len == TABLE_LEN);
	CHECK(r.source.calls == 1);
	CHECK(r.refusal.status == 0);
}

TEST(proto_client_refuses_a_malformed_challenge)
{
	struct run r;

	CHECK(run_once(&r, CHALLENGE_MALFORMED) == -EBADMSG);
	CHECK(strstr(r.err.msg, "the broker broke the protocol: its answer to /v1/challenge") !=
	      NULL);
	CHECK(r.source.calls == 0);
	CHECK(r.secret_len == 0);
}

TEST(proto_client_reports_a_refusal_with_its_fields)
{
	struct run r;

	CHECK(run_once(&r, CHALLENGE_REFUSED) == -EACCES);
	CHECK(r.refusal.status == 503);
	CHECK_STR(r.refusal.reason, "overloaded");
	CHECK_STR(r.refusal.rule, "");
	CHECK_STR(r.refusal.message, "the service is shutting down");
	CHECK(strstr(r.err.msg, "503 overloaded: the service is shutting down") != NULL);

	CHECK(run_once(&r, UNSEAL_POLICY) == -EACCES);
	CHECK(r.refusal.status == 403);
	CHECK_STR(r.refusal.reason, "policy-rejected");
	CHECK_STR(r.refusal.rule, "measurement");
	CHECK(strstr(r.err.msg, "refused /v1/unseal: 403 policy-rejected (rule measurement)") !=
	      NULL);
	CHECK(r.source.calls == 1 && r.secret_len == 0);
}

TEST(proto_client_refuses_an_answer_above_the_limit)
{
	struct run r;

	CHECK(run_once(&r, CHALLENGE_HUGE) == -EMSGSIZE);
	CHECK(strstr(r.err.msg, "16385 bytes") != NULL);
}

TEST(proto_client_refuses_answers_outside_the_protocol)
{
	struct run r;

	CHECK(run_once(&r, CHALLENGE_NOT_REFUSAL) == -EPROTO);
	CHECK(strstr(r.err.msg, "its 500 answer to /v1/challenge is not a refusal") != NULL);
	CHECK(r.refusal.status == 0);
	CHECK(run_once(&r, CHALLENGE_REDIRECT) == -EPROTO);
	CHECK(strstr(r.err.msg, "answered /v1/challenge with status 302") != NULL);
	CHECK(run_once(&r, CHALLENGE_ZERO_NONCE) == -EPROTO);
	CHECK(strstr(r.err.msg, "nonce is all zero") != NULL);
}

TEST(proto_client_times_out_on_a_silent_broker)
{
	struct run r;
	int ret;

	/* A broker that completes the handshake and then says nothing. */
	REQUIRE(start(&r, SILENT));
	ret = unseal(&r, 800);
	tls_peer_stop(&r.peer);
	CHECK(ret == -ETIMEDOUT);
	CHECK(r.elapsed_ms >= 700 && r.elapsed_ms < 800 + SLACK_MS);
}

TEST(proto_client_refuses_an_answer_for_another_volume)
{
	struct run r;

	CHECK(run_once(&r, UNSEAL_WRONG_VOLUME) == -EPROTO);
	CHECK(strstr(r.err.msg, "answered for volume " OTHER_VOLUME ", not " VOLUME) != NULL);
	CHECK(r.secret_len == 0);
}

TEST(proto_client_refuses_a_ciphertext_that_does_not_open)
{
	struct run r;

	CHECK(run_once(&r, UNSEAL_BAD_CIPHERTEXT) == -EBADMSG);
	CHECK(strstr(r.err.msg, "the broker broke the protocol: the sealed secret does not open") !=
	      NULL);
	CHECK(r.broker.report_data_ok);
	CHECK(r.secret_len == 0);
	/* Nothing GCM produced before the tag check is left in the buffer. */
	for (size_t i = 0; i < sizeof(r.secret); i++)
		if (!CHECK(r.secret[i] == 0 || r.secret[i] == 0x5a))
			break;
}

TEST(proto_client_passes_on_the_report_error)
{
	struct run r;

	REQUIRE(start(&r, HONEST));
	r.source.fail = -ENODEV;
	CHECK(unseal(&r, BOUND_MS) == -ENODEV);
	tls_peer_stop(&r.peer);
	CHECK_STR(r.err.msg, "no report today");
	CHECK(r.broker.requests == 1);
}

TEST(proto_client_refuses_bad_options_and_other_brokers)
{
	uint8_t wrong_pin[TLS_PIN_SIZE] = { 0 };
	struct snp_deadline dl;
	struct run r;

	REQUIRE(start(&r, HONEST));
	r.opts.ca_file = NULL;
	r.opts.pin = wrong_pin;
	CHECK(unseal(&r, BOUND_MS) == -EKEYREJECTED);
	tls_peer_stop(&r.peer);

	r.opts.url = "https://broker.test/prefix";
	CHECK(unseal(&r, BOUND_MS) == -EINVAL);
	CHECK(strstr(r.err.msg, "has a path") != NULL);
	r.opts.url = "http://broker.test";
	CHECK(unseal(&r, BOUND_MS) == -EINVAL);
	r.opts.url = "https://broker.test";
	snp_deadline_start(&dl, BOUND_MS);
	CHECK(proto_client_unseal(&r.opts, "not-a-volume", make_report, &r.source, &dl,
				  r.secret, &r.secret_len, &r.refusal, &r.err) == -EINVAL);
	CHECK(strstr(r.err.msg, "is not a UUID") != NULL);
}

TEST(proto_session_steps_and_raw_requests)
{
	static const char raw[] = "POST /v1/challenge HTTP/1.1\r\nHost: broker.test\r\n"
				  "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	struct proto_session *s;
	struct proto_challenge c, again;
	struct http_client_response resp;
	struct proto_error refusal;
	struct snp_deadline dl;
	struct snp_err err;
	uint8_t ekm[PROTO_EKM_SIZE];
	struct run r;

	REQUIRE(start(&r, HONEST));
	snp_deadline_start(&dl, BOUND_MS);
	REQUIRE(proto_session_open(&s, &r.opts, &dl, &err) == 0);
	REQUIRE(proto_session_challenge(s, &dl, &c, &refusal, &err) == 0);
	CHECK(c.expires_in == 60);
	REQUIRE(proto_session_raw(s, raw, sizeof(raw) - 1, &dl, &resp, &err) == 0);
	CHECK(resp.status == 200);
	CHECK(proto_challenge_decode((const char *)resp.body, resp.body_len, &again, &err) == 0);
	CHECK(memcmp(again.nonce, c.nonce, sizeof(c.nonce)) != 0);	/* a fresh one */
	http_client_response_free(&resp);
	CHECK(proto_session_ekm(s, ekm) == 0);
	proto_session_close(s);
	tls_peer_stop(&r.peer);
	CHECK_MEM(ekm, r.peer.ekm[0], sizeof(ekm));
	CHECK(r.broker.requests == 2);
}
