/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_PROTO_CLIENT_H
#define SNP_PROTO_CLIENT_H

/*
 * The agent's side of the unseal protocol: one TLS connection to a broker,
 * a challenge, a report for the REPORT_DATA the protocol defines, an
 * unseal, and the secret opened with the ephemeral key. Every step is
 * bounded by the caller's deadline. Used by snp-unseal (unlock) and by
 * snp-keybroker probe; the session calls exist so that tests can also
 * misbehave (replay a nonce, use it on another connection).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "snp/deadline.h"
#include "snp/err.h"
#include "tls/http.h"
#include "tls/tls.h"

struct proto_client_opts {
	const char *url;		/* https://host[:port] */
	const char *ca_file;		/* see tls_client_opts */
	const uint8_t *pin;		/* TLS_PIN_SIZE bytes, or NULL */
	const uint8_t (*ca_pins)[TLS_PIN_SIZE];	/* see tls_client_opts */
	size_t n_ca_pins;
	const char *connect_addr;	/* numeric address to use instead of resolving, or NULL */
};

/*
 * Gets a report whose REPORT_DATA is report_data: fills report and, when
 * it has one, *cert_table (malloc'd). 0 or a negative errno with err set.
 */
typedef int (*proto_report_fn)(void *ctx, const uint8_t report_data[SNP_REPORT_DATA_SIZE],
			       uint8_t report[SNP_REPORT_SIZE], uint8_t **cert_table,
			       size_t *cert_table_len, struct snp_err *err);

/*
 * The whole exchange for one volume. Returns 0 with the secret in
 * secret[0..*secret_len) (secret must hold PROTO_SECRET_MAX; wipe it after
 * use); -EACCES when the broker refused (refusal filled: status, reason,
 * rule, message); -ETIMEDOUT, -ECONNREFUSED, -EKEYREJECTED (server not
 * authenticated), -EPROTO/-EBADMSG (the broker broke the protocol), or
 * what fn returned, each with err set.
 */
int proto_client_unseal(const struct proto_client_opts *opts, const char *volume,
			proto_report_fn fn, void *fn_ctx, const struct snp_deadline *dl,
			uint8_t *secret, size_t *secret_len, struct proto_error *refusal,
			struct snp_err *err);

/* The same, step by step. */
struct proto_session;
int proto_session_open(struct proto_session **s, const struct proto_client_opts *opts,
		       const struct snp_deadline *dl, struct snp_err *err);
int proto_session_ekm(struct proto_session *s, uint8_t ekm[PROTO_EKM_SIZE]);
/* POST /v1/challenge. -EACCES with refusal filled on an error answer. */
int proto_session_challenge(struct proto_session *s, const struct snp_deadline *dl,
			    struct proto_challenge *c, struct proto_error *refusal,
			    struct snp_err *err);
/* POST /v1/unseal with req as given (no checks: tests send bad ones too). */
int proto_session_unseal(struct proto_session *s, const struct proto_unseal_request *req,
			 const struct snp_deadline *dl, struct proto_unseal_response *resp,
			 struct proto_error *refusal, struct snp_err *err);
/* Send raw bytes and read one response (tests: malformed requests). */
int proto_session_raw(struct proto_session *s, const void *req, size_t len,
		      const struct snp_deadline *dl, struct http_client_response *resp,
		      struct snp_err *err);
void proto_session_close(struct proto_session *s);

#endif
