/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_ATTEST_H
#define SNP_BROKER_ATTEST_H

/*
 * The broker's decisions: the challenge and the unseal of
 * docs/protocol.md, sections 1 to 3, as pure logic over request bodies
 * (the HTTPS engine, broker/server.h, carries them). Each unseal runs the
 * protocol's steps in its order, stops at the first failure with the
 * protocol's status and reason, and writes one audit line (broker/audit.h)
 * whatever the outcome.
 *
 * A connection's nonces live in a struct attest_conn that the caller keeps
 * with the connection (server_exchange.conn_user) and frees with it; one
 * thread at a time uses a given attest_conn. The shared struct attest_ctx
 * is safe to use from several threads at once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/audit.h"
#include "broker/store.h"
#include "broker/vcek.h"
#include "proto/proto.h"
#include "snp/err.h"
#include "snp/roots.h"

#define ATTEST_NONCES_MAX	8	/* unused nonces one connection holds */
#define ATTEST_ANCHOR_SETS_MAX	9	/* AMD's and up to 8 extra ARKs */

struct attest_opts {
	struct store *store;		/* volumes and policies, read on every unseal */
	struct vcek_sources *vcek;
	struct audit_log *audit;
	/*
	 * The roots a report may verify under; anchors[0] is usually AMD's
	 * (snp_anchors_amd). A chain is checked against the set that pins its
	 * ARK, or against anchors[0] when none does (and then fails there).
	 */
	const struct snp_anchors *anchors;
	size_t n_anchors;		/* 1..ATTEST_ANCHOR_SETS_MAX */
	int nonce_lifetime_ms;		/* <= 0: PROTO_NONCE_LIFETIME_DEFAULT s */
};

struct attest_ctx;
struct attest_conn;

int attest_ctx_new(struct attest_ctx **ctx, const struct attest_opts *opts,
		   struct snp_err *err);
void attest_ctx_free(struct attest_ctx *ctx);
/* Takes effect for nonces issued and checked from then on (reload). */
void attest_set_nonce_lifetime(struct attest_ctx *ctx, int lifetime_ms);

int attest_conn_new(struct attest_conn **conn);
/* NULL is fine; wipes the nonces. Shaped for server_exchange.conn_user_free. */
void attest_conn_free(void *conn);

/*
 * What to answer: status and a malloc'd JSON body (the engine frees it),
 * and, for the operator's log, the reason (NULL when granted), the rule,
 * the volume and a sentence saying why (for a 500, the detail the
 * refusal leaves out). Nothing here is secret.
 */
struct attest_reply {
	int status;
	char *body;
	size_t body_len;
	const char *reason;
	const char *rule;
	char volume[PROTO_VOLUME_LEN + 1];
	char detail[320];
};
void attest_reply_free(struct attest_reply *reply);

/*
 * POST /v1/challenge with body: a fresh nonce kept in *conn (made here
 * when NULL). 0 with reply filled (a 200, or a refusal), or -ENOMEM when
 * not even a reply could be made.
 */
int attest_challenge(struct attest_ctx *ctx, struct attest_conn **conn, const char *body,
		     size_t len, struct attest_reply *reply);

/*
 * POST /v1/unseal with body, on the connection whose exporter value is
 * ekm and whose nonces are conn (NULL: it asked for none). peer is for the
 * audit log. 0 with reply filled, or -ENOMEM as above.
 */
int attest_unseal(struct attest_ctx *ctx, struct attest_conn *conn,
		  const uint8_t ekm[PROTO_EKM_SIZE], const char *peer, const char *body,
		  size_t len, struct attest_reply *reply);

#endif
