// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's side of the unseal protocol (proto/client.h): one TLS 1.3
 * connection to the broker, a challenge, a report for the REPORT_DATA
 * that binds the nonce, the connection, a fresh key and the volume, an
 * unseal, and the secret opened with that key. A broker answer that is
 * not exactly what docs/protocol.md says is an error, never a guess.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

#include "proto/client.h"
#include "snp/bytes.h"

static const char challenge_path[] = "/v1/challenge";
static const char unseal_path[] = "/v1/unseal";

struct proto_session {
	struct tls_client_ctx *ctx;
	struct tls_conn *conn;
	struct http_url url;
};

void proto_session_close(struct proto_session *s)
{
	if (!s)
		return;
	tls_conn_free(s->conn);
	tls_client_ctx_free(s->ctx);
	free(s);
}

int proto_session_open(struct proto_session **sp, const struct proto_client_opts *opts,
		       const struct snp_deadline *dl, struct snp_err *err)
{
	const struct tls_client_opts tls_opts = {
		.ca_file = opts->ca_file,
		.pin = opts->pin,
		.ca_pins = opts->ca_pins,
		.n_ca_pins = opts->n_ca_pins,
	};
	struct proto_session *s = calloc(1, sizeof(*s));
	int ret;

	*sp = NULL;
	if (!s)
		return snp_errf(err, -ENOMEM, "out of memory for a broker session");
	ret = http_url_parse(opts->url, &s->url, err);
	if (ret)
		goto out;
	/* The protocol's paths are absolute: a broker is named by host and port only. */
	if (strcmp(s->url.path, "/")) {
		ret = snp_errf(err, -EINVAL, "broker URL %.200s has a path: give https://host[:port]",
			       opts->url);
		goto out;
	}
	ret = tls_client_ctx_new(&s->ctx, &tls_opts, err);
	if (ret)
		goto out;
	ret = tls_client_connect(&s->conn, s->ctx, s->url.host, s->url.port, opts->connect_addr,
				 dl, err);
out:
	if (ret)
		proto_session_close(s);
	else
		*sp = s;
	return ret;
}

int proto_session_ekm(struct proto_session *s, uint8_t ekm[PROTO_EKM_SIZE])
{
	return tls_conn_ekm(s->conn, ekm);
}

/*
 * An answer that is not a 200: a refusal (4xx and 5xx with the error
 * object) is -EACCES with refusal filled; anything else breaks the protocol.
 */
static int refusal_from(const struct http_client_response *resp, const char *path,
			struct proto_error *refusal, struct snp_err *err)
{
	struct snp_err why;

	if (resp->status < 400 || resp->status > 599)
		return snp_errf(err, -EPROTO,
				"the broker broke the protocol: it answered %s with status %d",
				path, resp->status);
	if (proto_error_decode((const char *)resp->body, resp->body_len, refusal, &why))
		return snp_errf(err, -EPROTO,
				"the broker broke the protocol: its %d answer to %s is not a refusal: %s",
				resp->status, path, why.msg);
	refusal->status = resp->status;
	if (refusal->rule[0])
		return snp_errf(err, -EACCES, "the broker refused %s: %d %s (rule %s): %s", path,
				resp->status, refusal->reason, refusal->rule, refusal->message);
	return snp_errf(err, -EACCES, "the broker refused %s: %d %s: %s", path, resp->status,
			refusal->reason, refusal->message);
}

/* POST body to path: 0 with a 200's body in resp, else an error (resp freed). */
static int post(struct proto_session *s, const char *path, const char *body, size_t len,
		const struct snp_deadline *dl, struct http_client_response *resp,
		struct proto_error *refusal, struct snp_err *err)
{
	int ret;

	memset(refusal, 0, sizeof(*refusal));
	ret = http_client_request(s->conn, s->url.host, s->url.port, "POST", path, body, len,
				  PROTO_RESPONSE_MAX, dl, resp, err);
	if (ret)
		return ret;
	if (resp->status == 200)
		return 0;
	ret = refusal_from(resp, path, refusal, err);
	http_client_response_free(resp);
	return ret;
}

static int broke_protocol(struct snp_err *err, int code, const char *path,
			  const struct snp_err *why)
{
	return snp_errf(err, code, "the broker broke the protocol: its answer to %s: %s", path,
			why->msg);
}

int proto_session_challenge(struct proto_session *s, const struct snp_deadline *dl,
			    struct proto_challenge *c, struct proto_error *refusal,
			    struct snp_err *err)
{
	static const char body[] = "{}";
	struct http_client_response resp;
	struct snp_err why;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = post(s, challenge_path, body, sizeof(body) - 1, dl, &resp, refusal, err);
	if (ret)
		return ret;
	ret = proto_challenge_decode((const char *)resp.body, resp.body_len, c, &why);
	if (ret)
		ret = broke_protocol(err, ret, challenge_path, &why);
	else if (snp_all_zero(c->nonce, sizeof(c->nonce)))
		ret = snp_errf(err, -EPROTO, "the broker broke the protocol: its nonce is all zero");
	http_client_response_free(&resp);
	return ret;
}

int proto_session_unseal(struct proto_session *s, const struct proto_unseal_request *req,
			 const struct snp_deadline *dl, struct proto_unseal_response *out,
			 struct proto_error *refusal, struct snp_err *err)
{
	struct http_client_response resp;
	struct snp_err why;
	char *json = NULL;
	size_t len = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(refusal, 0, sizeof(*refusal));
	ret = proto_unseal_request_encode(req, &json, &len);
	if (ret)
		return snp_errf(err, ret, "cannot encode the unseal request");
	ret = post(s, unseal_path, json, len, dl, &resp, refusal, err);
	free(json);
	if (ret)
		return ret;
	ret = proto_unseal_response_decode((const char *)resp.body, resp.body_len, out, &why);
	if (ret)
		ret = broke_protocol(err, ret, unseal_path, &why);
	http_client_response_free(&resp);
	return ret;
}

int proto_session_raw(struct proto_session *s, const void *req, size_t len,
		      const struct snp_deadline *dl, struct http_client_response *resp,
		      struct snp_err *err)
{
	int ret;

	memset(resp, 0, sizeof(*resp));
	ret = tls_conn_write_all(s->conn, req, len, dl, err);
	if (!ret)
		ret = http_client_read_response(s->conn, "POST", PROTO_RESPONSE_MAX, dl, resp,
						err);
	return ret;
}

/* PSA's DRBG, in the shape proto_key_generate takes. */
static int psa_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return psa_generate_random(out, len) == PSA_SUCCESS ? 0 : -1;
}

/* Everything of one exchange that must be wiped or freed. */
struct exchange {
	struct proto_session *s;
	struct proto_challenge challenge;
	struct proto_key key;
	uint8_t ekm[PROTO_EKM_SIZE];
	uint8_t report_data[SNP_REPORT_DATA_SIZE];
	struct proto_unseal_request req;
	struct proto_unseal_response resp;
};

static void exchange_end(struct exchange *x)
{
	proto_session_close(x->s);
	proto_unseal_request_free(&x->req);
	mbedtls_platform_zeroize(x, sizeof(*x));
}

static int deadline_left(const struct snp_deadline *dl, const char *before,
			 struct snp_err *err)
{
	if (snp_deadline_left_ms(dl) > 0)
		return 0;
	return snp_errf(err, -ETIMEDOUT, "the unseal took longer than %d ms (before %s)",
			dl->total_ms, before);
}

/* The agent's key, the channel binding and the report that carries both. */
static int make_evidence(struct exchange *x, proto_report_fn fn, void *fn_ctx,
			 const struct snp_deadline *dl, struct snp_err *err)
{
	struct proto_unseal_request *req = &x->req;
	int ret;

	if (psa_crypto_init() != PSA_SUCCESS)
		return snp_errf(err, -EIO, "PSA crypto did not initialise");
	ret = proto_key_generate(&x->key, psa_rng, NULL, err);
	if (ret)
		return ret;
	if (proto_session_ekm(x->s, x->ekm))
		return snp_errf(err, -EPROTO, "cannot export the TLS channel binding");
	ret = proto_report_data(x->challenge.nonce, x->ekm, x->key.pub, req->volume,
				x->report_data);
	if (ret)
		return snp_errf(err, ret, "cannot compute REPORT_DATA");
	ret = deadline_left(dl, "the report", err);
	if (!ret)
		ret = fn(fn_ctx, x->report_data, req->report, &req->cert_table,
			 &req->cert_table_len, err);
	if (ret)
		return ret;
	if (req->cert_table_len > PROTO_CERT_TABLE_MAX)
		return snp_errf(err, -EMSGSIZE,
				"the certificate table of %zu bytes is above the protocol's %d",
				req->cert_table_len, PROTO_CERT_TABLE_MAX);
	memcpy(req->nonce, x->challenge.nonce, PROTO_NONCE_SIZE);
	memcpy(req->pubkey, x->key.pub, PROTO_PUBKEY_SIZE);
	return deadline_left(dl, "the unseal request", err);
}

int proto_client_unseal(const struct proto_client_opts *opts, const char *volume,
			proto_report_fn fn, void *fn_ctx, const struct snp_deadline *dl,
			uint8_t *secret, size_t *secret_len, struct proto_error *refusal,
			struct snp_err *err)
{
	struct exchange *x = calloc(1, sizeof(*x));
	struct snp_err why;
	int ret;

	*secret_len = 0;
	memset(refusal, 0, sizeof(*refusal));
	if (!x)
		return snp_errf(err, -ENOMEM, "out of memory for an unseal");
	ret = proto_volume_canonical(volume, x->req.volume, err);
	if (!ret)
		ret = proto_session_open(&x->s, opts, dl, err);
	if (!ret)
		ret = proto_session_challenge(x->s, dl, &x->challenge, refusal, err);
	if (!ret)
		ret = make_evidence(x, fn, fn_ctx, dl, err);
	if (!ret)
		ret = proto_session_unseal(x->s, &x->req, dl, &x->resp, refusal, err);
	if (ret)
		goto out;
	if (strcmp(x->resp.volume, x->req.volume)) {
		ret = snp_errf(err, -EPROTO,
			       "the broker broke the protocol: it answered for volume %s, not %s",
			       x->resp.volume, x->req.volume);
		goto out;
	}
	ret = proto_open(&x->key, &x->resp.sealed, x->challenge.nonce, x->req.volume, secret,
			 secret_len, &why);
	if (ret)
		ret = snp_errf(err, ret, "the broker broke the protocol: %s", why.msg);
out:
	exchange_end(x);
	free(x);
	return ret;
}
