/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_SERVER_H
#define SNP_BROKER_SERVER_H

/*
 * The broker's HTTPS engine: HTTP/1.1 over TLS 1.3 (tls/), the transport
 * of docs/protocol.md. It knows nothing of the unseal protocol; it hands
 * each complete request to a handler and writes back what the handler set.
 *
 * Threads: server_run() starts `threads` event loops (one per core by
 * default), each an epoll loop on its own thread that serves the
 * connections it accepted, from start to end. The listening sockets are in
 * every loop (EPOLLEXCLUSIVE), so a loop busy in a handler (an ECDSA verify
 * takes milliseconds) leaves new connections to the others. The thread that
 * called server_run() waits for stop and reload requests meanwhile.
 *
 * A connection goes HANDSHAKE -> READ_HEAD -> READ_BODY -> HANDLE -> WRITE,
 * and back to READ_HEAD for the next request (at most SERVER_REQUESTS_MAX
 * on one connection; the last response says "Connection: close"). Each
 * wait has a bound: the handshake (handshake_timeout_ms), the head
 * (header_timeout_ms from its first byte, or from the handshake for the
 * first request; idle_timeout_ms from the end of a response until the next
 * head's first byte), the body (body_timeout_ms from the end of the head),
 * writing the response (body_timeout_ms). A connection past its bound after
 * the handshake gets a 408 "timeout" unless a response is being written,
 * then is closed.
 *
 * The engine answers by itself, with the JSON errors of docs/protocol.md:
 * 400 bad-request (a head that does not parse), 411 length-required (a POST
 * without Content-Length), 413 body-too-large (Content-Length above max_body,
 * before reading the body), 431 headers-too-large (a head above
 * HTTP_HEADER_MAX), 501 bad-request (Transfer-Encoding or another feature it
 * does not speak), 408 timeout; then closes the connection. Everything else
 * is the handler's to answer, including 404 and 405.
 *
 * At max_connections open connections (over all loops), a new one is
 * accepted and closed at once; the log says so, at most once a second.
 *
 * Logs go through broker/log.h: at info its refusals but 408, start, stop
 * and reloads; at warn the connection cap; at debug each request (method,
 * path, status, milliseconds), timeouts and failed handshakes. It logs no
 * request or response body, ever (they carry sealed secrets).
 *
 * Reload runs opts.reload on the thread in server_run, not on a loop, so
 * every loop keeps serving meanwhile.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"
#include "tls/http.h"
#include "tls/tls.h"

#define SERVER_REQUESTS_MAX	16	/* per connection (docs/protocol.md) */
#define SERVER_LISTEN_MAX	8
#define SERVER_PEER_MAX		64	/* "[v6addr]:port" with the NUL */

/* What server_reload() may change; listen addresses and threads stay. */
struct server_limits {
	unsigned int max_connections;	/* 0: no cap */
	int handshake_timeout_ms;
	int header_timeout_ms;
	int body_timeout_ms;
	int idle_timeout_ms;
	int shutdown_grace_ms;
	size_t max_body;		/* bytes of a request body */
};

/* The defaults of docs/protocol.md and broker/config.h. */
void server_limits_default(struct server_limits *limits);

/*
 * One request and its response. The engine fills the request half, calls
 * the handler, then sends the response half.
 */
struct server_exchange {
	/* The request, valid during the call. */
	const struct http_request *req;	/* method, path, content_type_json, host, ... */
	const char *method;		/* req->method */
	const char *path;		/* req->path */
	const uint8_t *body;		/* body_len bytes and a NUL after them */
	size_t body_len;
	const char *peer;		/* "127.0.0.1:5555", "[::1]:5555" */
	struct tls_conn *tls;		/* for tls_conn_ekm(); do not read, write or free */
	unsigned int request_index;	/* 1 for a connection's first request */
	uint64_t conn_id;		/* unique in this server, for logs */

	/*
	 * The connection's own data (the protocol keeps its nonces there):
	 * NULL at first; what the handler leaves here is handed back on the
	 * connection's next request, and conn_user_free(conn_user) is called
	 * once when the connection closes (on any path, shutdown included).
	 */
	void *conn_user;
	void (*conn_user_free)(void *user);

	/*
	 * The response, set by the handler. status 0 (not set) is answered
	 * 500 internal. body is malloc'd (or NULL for an empty body); the
	 * engine wipes it (it may hold sealed data) and frees it once sent.
	 * Content-Type is always application/json. close: close the
	 * connection after this response.
	 */
	int status;
	char *resp_body;
	size_t resp_body_len;
	bool close;
};

/*
 * Called on a loop thread, concurrently from several loops: whatever it
 * shares between connections needs its own locking. It must not block on
 * the network (the loop serves other connections too); a few milliseconds
 * of CPU are fine. Return nothing: set x->status and x->resp_body.
 */
typedef void (*server_handler_fn)(void *ctx, struct server_exchange *x);

/*
 * What a reload produced: tls a new context (the server owns it from then
 * on), or NULL to keep the current one; limits pre-filled with the current
 * ones, to edit. Return 0 to apply, or a negative errno with a sentence in
 * err to keep everything as it was (the server logs the sentence).
 */
struct server_reload_result {
	struct tls_server_ctx *tls;
	struct server_limits limits;
};
typedef int (*server_reload_fn)(void *ctx, struct server_reload_result *out,
				struct snp_err *err);

struct server_opts {
	const char *const *listen;	/* "ADDR:PORT" as config_split_listen() takes them */
	size_t n_listen;		/* 1..SERVER_LISTEN_MAX */
	unsigned int threads;		/* event loops; 0 = the number of online CPUs */
	struct server_limits limits;
	/* The TLS context for new connections; the server owns it, even when server_new fails. */
	struct tls_server_ctx *tls;
	server_handler_fn handler;
	void *handler_ctx;
	server_reload_fn reload;	/* NULL: a reload only logs that there is nothing to do */
	void *reload_ctx;
};

struct server;

/*
 * Bind and listen on every address (port 0 picks a free port; see
 * server_port). Nothing runs until server_run. -EADDRINUSE and the like
 * with the address in err.
 */
int server_new(struct server **srv, const struct server_opts *opts, struct snp_err *err);

/* The bound port of listen address i (in opts order), or 0 when there is no such address. */
unsigned int server_port(const struct server *srv, size_t i);

/*
 * Serve until server_stop(): start the loops, wait for stop and reload
 * requests on the calling thread, return once every loop has ended. The
 * loops block SIGTERM, SIGINT, SIGHUP and SIGPIPE, so signal handlers run
 * on the calling thread. 0, or a negative errno with a sentence in err
 * when a loop could not start (the others are stopped first).
 */
int server_run(struct server *srv, struct snp_err *err);

/*
 * Ask for a graceful stop: close the listeners and the idle connections at
 * once; requests already being read, handled or written finish (their
 * response says "Connection: close") within shutdown_grace_ms, then every
 * connection left is closed and server_run returns. Async-signal-safe
 * (a write to an eventfd), callable from any thread, before or during run.
 */
void server_stop(struct server *srv);

/*
 * Ask for a reload: the waiting thread calls opts.reload once while the
 * loops keep serving; connections accepted afterwards use the new TLS
 * context and limits, open ones keep those they started with (max_connections
 * applies to all at once). Async-signal-safe, like server_stop.
 */
void server_reload(struct server *srv);

/* Counters, for logs and tests (a snapshot; loops keep running). */
struct server_stats {
	unsigned int connections;	/* open now */
	uint64_t accepted;		/* served connections since server_new */
	uint64_t refused;		/* closed at once for the connection cap */
	uint64_t requests;		/* handed to the handler */
	uint64_t reloads;		/* applied */
	uint64_t reload_failures;	/* refused by opts.reload (or out of memory) */
};
void server_get_stats(const struct server *srv, struct server_stats *st);

/* After server_run returned (or when it never ran). NULL is fine. */
void server_free(struct server *srv);

/*
 * Set x's response to the JSON refusal of docs/protocol.md:
 * {"error":reason,"message":message}. 0, or -ENOMEM (then status is set
 * and the body is empty).
 */
int server_reply_error(struct server_exchange *x, int status, const char *reason,
		       const char *message);

#endif
