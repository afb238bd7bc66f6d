/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_TESTS_TLS_PEER_H
#define SNP_UNSEAL_TESTS_TLS_PEER_H

/*
 * A real TLS server on 127.0.0.1 for the tls_ and http_ tests: a thread
 * that accepts a few connections, drives each handshake through the
 * non-blocking tls_conn_* calls with poll(), then hands the connection to
 * the test's serve function. Defined in tls_test.c.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tls.h"

#ifndef TESTS_DIR
#error "TESTS_DIR must be defined by the build"
#endif

#define TLS_FIXTURE(name)	TESTS_DIR "/data/tls/" name
#define PEER_HOST		"broker.test"
#define PEER_CONNS_MAX		4
/* How long the server waits for anything: longer than any client bound. */
#define PEER_WAIT_MS		3000

struct tls_peer;
typedef void peer_serve_fn(struct tls_peer *peer, struct tls_conn *conn, int index);

struct tls_peer {
	struct tls_server_ctx *ctx;
	int listen_fd;
	unsigned int port;
	pthread_t thread;
	int conns;
	peer_serve_fn *serve;		/* NULL: read until the client closes */
	void *data;
	/* Filled by the thread, read after tls_peer_stop. */
	int first_handshake[PEER_CONNS_MAX];	/* what the first call returned */
	int handshake[PEER_CONNS_MAX];		/* 0, or the error that ended it */
	uint8_t ekm[PEER_CONNS_MAX][TLS_EKM_SIZE];
	ssize_t last_read[PEER_CONNS_MAX];	/* of the default serve */
};

/* Listen and start the thread; false (with a failed check) when that fails. */
bool tls_peer_start(struct tls_peer *peer, int conns, peer_serve_fn *serve, void *data);
/* Wait for the thread to end, close and free. */
void tls_peer_stop(struct tls_peer *peer);

/* Server-side blocking helpers bounded by PEER_WAIT_MS: 0 or negative. */
int peer_write_all(struct tls_conn *conn, const void *buf, size_t len);
/* Bytes read (> 0), 0 at the client's clean close, or negative. */
ssize_t peer_read(struct tls_conn *conn, void *buf, size_t len);

/* A client context from opts and a connection to the peer as host. */
int peer_connect(const struct tls_peer *peer, const struct tls_client_opts *opts,
		 const char *host, int timeout_ms, struct tls_client_ctx **ctx,
		 struct tls_conn **conn, struct snp_err *err);

#endif
