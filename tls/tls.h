/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_TLS_TLS_H
#define SNP_TLS_TLS_H

/*
 * TLS 1.3 on mbedTLS, for both ends of the unseal protocol and for the
 * broker's AMD KDS client. Nothing else: no TLS 1.2, no plaintext, no
 * session tickets, no renegotiation.
 *
 * Server side (the broker's event loop): a shared tls_server_ctx holds the
 * certificate chain, the key and the DRBG; each accepted non-blocking fd
 * gets a tls_conn that the loop drives with tls_conn_handshake /
 * tls_conn_read / tls_conn_write, which return TLS_WANT_READ or
 * TLS_WANT_WRITE when the socket would block.
 *
 * Client side (agent, probe, KDS client): blocking calls bounded by a
 * deadline (snp/deadline.h). The peer is authenticated with a CA bundle
 * (chain and host name), a pinned SubjectPublicKeyInfo SHA-256, or both.
 *
 * Contexts are safe to share between threads once made (each connection
 * is used by one thread at a time); the DRBG is locked inside.
 * Errors: a negative errno and a sentence in err; nothing here prints.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "snp/deadline.h"
#include "snp/err.h"

#define TLS_EKM_SIZE		32
#define TLS_PIN_SIZE		32	/* SHA-256 of the SubjectPublicKeyInfo DER */
/* RFC 9266's label; the context is empty. */
#define TLS_EXPORTER_LABEL	"EXPORTER-Channel-Binding"

/* Returned (negative, distinct from every errno) when the socket would block. */
#define TLS_WANT_READ		(-100001)
#define TLS_WANT_WRITE		(-100002)

struct tls_server_ctx;
struct tls_client_ctx;
struct tls_conn;

/* Load a PEM chain (leaf first) and its PEM private key. */
int tls_server_ctx_new(struct tls_server_ctx **ctx, const char *cert_file, const char *key_file,
		       struct snp_err *err);
void tls_server_ctx_free(struct tls_server_ctx *ctx);
/* SHA-256 of the leaf's SubjectPublicKeyInfo: what an agent pins. */
void tls_server_ctx_pin(const struct tls_server_ctx *ctx, uint8_t pin[TLS_PIN_SIZE]);

struct tls_client_opts {
	const char *ca_file;		/* PEM CA bundle, or NULL */
	const uint8_t *pin;		/* TLS_PIN_SIZE bytes, or NULL */
	/*
	 * With ca_file only: the trust anchors are the certificates of the
	 * bundle whose SubjectPublicKeyInfo SHA-256 is one of these (a LUKS2
	 * token names the CA its volume was enrolled with); none matching
	 * is -EKEYREJECTED. NULL/0: every certificate of the bundle.
	 */
	const uint8_t (*ca_pins)[TLS_PIN_SIZE];
	size_t n_ca_pins;
	/* At least one of ca_file and pin. With both, both must pass. */
};
int tls_client_ctx_new(struct tls_client_ctx **ctx, const struct tls_client_opts *opts,
		       struct snp_err *err);
void tls_client_ctx_free(struct tls_client_ctx *ctx);

/*
 * The SubjectPublicKeyInfo SHA-256 of each certificate in a PEM file, in
 * file order: at most max, -E2BIG beyond; -EINVAL for a file that does
 * not parse or holds none.
 */
int tls_cert_file_pins(const char *path, uint8_t (*pins)[TLS_PIN_SIZE], size_t max, size_t *n,
		       struct snp_err *err);
/* "sha256:<64 hex>" into pin; -EINVAL with a sentence otherwise. */
int tls_pin_parse(const char *text, uint8_t pin[TLS_PIN_SIZE], struct snp_err *err);

/*
 * Server: wrap an accepted socket (made non-blocking here). The conn owns
 * fd from then on, even when this fails.
 */
int tls_conn_accept(struct tls_conn **conn, struct tls_server_ctx *ctx, int fd,
		    struct snp_err *err);
/* 0 when the handshake is done, TLS_WANT_*, or a negative errno. */
int tls_conn_handshake(struct tls_conn *conn, struct snp_err *err);

/*
 * Client: resolve host (or use connect_addr, a numeric address, when not
 * NULL: the name still decides SNI and the certificate check), connect,
 * handshake, check the peer; everything within dl. -ETIMEDOUT when the
 * deadline passes, -ECONNREFUSED, -EKEYREJECTED for a peer that fails
 * authentication, -EPROTO for TLS failures.
 */
int tls_client_connect(struct tls_conn **conn, struct tls_client_ctx *ctx, const char *host,
		       unsigned int port, const char *connect_addr,
		       const struct snp_deadline *dl, struct snp_err *err);

/*
 * Non-blocking I/O (server): bytes moved (> 0), 0 for a clean close by the
 * peer (read only), TLS_WANT_*, or a negative errno.
 * A clean close is the peer's close_notify; a TCP end without one is
 * -ECONNRESET. After TLS_WANT_* from tls_conn_write, call it again with
 * the same bytes (mbedTLS may hold a part of them already).
 */
ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t len);
ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t len);
/* Bytes mbedTLS already decrypted and holds (the loop must read them first). */
size_t tls_conn_pending(const struct tls_conn *conn);

/* Blocking I/O bounded by dl (client): all of buf, or an error. */
int tls_conn_write_all(struct tls_conn *conn, const void *buf, size_t len,
		       const struct snp_deadline *dl, struct snp_err *err);
/*
 * At least one byte, at most len; 0 at a clean end of stream. Time-outs
 * are -ETIMEDOUT with a sentence naming the step (TCP connect, handshake,
 * read, write) and the bound.
 */
ssize_t tls_conn_read_some(struct tls_conn *conn, void *buf, size_t len,
			   const struct snp_deadline *dl, struct snp_err *err);

/* The RFC 9266 exporter value of this connection (after the handshake). */
int tls_conn_ekm(struct tls_conn *conn, uint8_t ekm[TLS_EKM_SIZE]);
int tls_conn_fd(const struct tls_conn *conn);
/* Send close_notify (best effort, never blocks), close the fd, free. NULL is fine. */
void tls_conn_free(struct tls_conn *conn);

/* mbedTLS's error code as a short sentence, for messages. */
const char *tls_strerror(int mbedtls_code, char *buf, size_t size);

#endif
