// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TLS 1.3 on mbedTLS 3.6 for both ends. The socket is always
 * non-blocking: the broker's loop drives it directly, and the client
 * side waits in poll() for at most what its deadline has left.
 */
#define _GNU_SOURCE	/* getaddrinfo_a */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "tls/tls.h"

#define PIN_PREFIX	"sha256:"
/* Room for the SubjectPublicKeyInfo of any key the default profile allows. */
#define SPKI_DER_MAX	2048

/* The key exchange groups we offer and accept: the ones our build has. */
static const uint16_t tls_groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
};

/* What both kinds of context hold: randomness and the TLS settings. */
struct tls_base {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
};

struct tls_server_ctx {
	struct tls_base base;
	mbedtls_x509_crt chain;
	mbedtls_pk_context key;
	uint8_t pin[TLS_PIN_SIZE];
};

struct tls_client_ctx {
	struct tls_base base;
	mbedtls_x509_crt ca;
	bool has_ca;
	bool has_pin;
	uint8_t pin[TLS_PIN_SIZE];
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	int fd;
	int io_errno;			/* what the socket last failed with */
	const struct tls_client_ctx *client;	/* NULL on the server side */
	bool pin_seen;
	uint8_t seen_pin[TLS_PIN_SIZE];
	char peer[300];			/* for messages */
};

const char *tls_strerror(int mbedtls_code, char *buf, size_t size)
{
	mbedtls_strerror(mbedtls_code, buf, size);
	return buf;
}

static int tls_fail(struct snp_err *err, int code, int ret, const char *what)
{
	char buf[128];

	return snp_errf(err, code, "%s: %s (-0x%04x)", what, tls_strerror(ret, buf, sizeof(buf)),
			(unsigned int)-ret);
}

static int parse_cert_file(mbedtls_x509_crt *chain, const char *path, const char *what,
			   struct snp_err *err)
{
	char buf[300];
	int ret = mbedtls_x509_crt_parse_file(chain, path);

	if (!ret)
		return 0;
	snprintf(buf, sizeof(buf), "reading the %s %s", what, path);
	return tls_fail(err, -EINVAL, ret, buf);
}

static int spki_pin(const mbedtls_pk_context *pk, uint8_t pin[TLS_PIN_SIZE])
{
	unsigned char der[SPKI_DER_MAX];
	int len;

	/* mbedTLS writes the DER at the end of the buffer. */
	len = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));
	if (len < 0)
		return len;
	return mbedtls_sha256(der + sizeof(der) - len, (size_t)len, pin, 0);
}

static void base_init(struct tls_base *base)
{
	mbedtls_entropy_init(&base->entropy);
	mbedtls_ctr_drbg_init(&base->drbg);
	mbedtls_ssl_config_init(&base->conf);
}

static void base_free(struct tls_base *base)
{
	mbedtls_ssl_config_free(&base->conf);
	mbedtls_ctr_drbg_free(&base->drbg);
	mbedtls_entropy_free(&base->entropy);
}

/*
 * TLS 1.3 only; no session tickets and no renegotiation, because our
 * mbedTLS build has neither (deps/mbedtls_config.h).
 */
static int base_setup(struct tls_base *base, int endpoint, const char *who, struct snp_err *err)
{
	int ret;

	if (psa_crypto_init() != PSA_SUCCESS)
		return snp_errf(err, -EIO, "the PSA crypto library failed to start");
	ret = mbedtls_ctr_drbg_seed(&base->drbg, mbedtls_entropy_func, &base->entropy,
				    (const unsigned char *)who, strlen(who));
	if (ret)
		return tls_fail(err, -EIO, ret, "seeding the TLS random generator");
	ret = mbedtls_ssl_config_defaults(&base->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
					  MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret)
		return tls_fail(err, -EINVAL, ret, "setting up TLS");
	mbedtls_ssl_conf_rng(&base->conf, mbedtls_ctr_drbg_random, &base->drbg);
	mbedtls_ssl_conf_min_tls_version(&base->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_max_tls_version(&base->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_groups(&base->conf, tls_groups);
	return 0;
}

void tls_server_ctx_free(struct tls_server_ctx *ctx)
{
	if (!ctx)
		return;
	base_free(&ctx->base);
	mbedtls_x509_crt_free(&ctx->chain);
	mbedtls_pk_free(&ctx->key);
	free(ctx);
}

static int server_load(struct tls_server_ctx *ctx, const char *cert_file, const char *key_file,
		       struct snp_err *err)
{
	char what[300];
	int ret;

	ret = parse_cert_file(&ctx->chain, cert_file, "certificate chain", err);
	if (ret)
		return ret;
	ret = mbedtls_pk_parse_keyfile(&ctx->key, key_file, NULL, mbedtls_ctr_drbg_random,
				       &ctx->base.drbg);
	if (ret) {
		snprintf(what, sizeof(what), "reading the private key %s", key_file);
		return tls_fail(err, -EINVAL, ret, what);
	}
	ret = mbedtls_pk_check_pair(&ctx->chain.pk, &ctx->key, mbedtls_ctr_drbg_random,
				    &ctx->base.drbg);
	if (ret)
		return snp_errf(err, -EINVAL, "the key %s is not the key of the first certificate of %s",
				key_file, cert_file);
	ret = spki_pin(&ctx->chain.pk, ctx->pin);
	if (ret)
		return tls_fail(err, -EINVAL, ret, "hashing the certificate's public key");
	ret = mbedtls_ssl_conf_own_cert(&ctx->base.conf, &ctx->chain, &ctx->key);
	if (ret)
		return tls_fail(err, -EINVAL, ret, "using the certificate and key");
	return 0;
}

int tls_server_ctx_new(struct tls_server_ctx **ctxp, const char *cert_file, const char *key_file,
		       struct snp_err *err)
{
	struct tls_server_ctx *ctx;
	int ret;

	*ctxp = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return snp_errf(err, -ENOMEM, "out of memory for the TLS server");
	base_init(&ctx->base);
	mbedtls_x509_crt_init(&ctx->chain);
	mbedtls_pk_init(&ctx->key);
	ret = base_setup(&ctx->base, MBEDTLS_SSL_IS_SERVER, "snp-unseal tls server", err);
	if (ret)
		goto out;
	/* Clients are not asked for a certificate: attestation authenticates them. */
	mbedtls_ssl_conf_authmode(&ctx->base.conf, MBEDTLS_SSL_VERIFY_NONE);
	ret = server_load(ctx, cert_file, key_file, err);
out:
	if (ret)
		tls_server_ctx_free(ctx);
	else
		*ctxp = ctx;
	return ret;
}

void tls_server_ctx_pin(const struct tls_server_ctx *ctx, uint8_t pin[TLS_PIN_SIZE])
{
	memcpy(pin, ctx->pin, TLS_PIN_SIZE);
}

void tls_client_ctx_free(struct tls_client_ctx *ctx)
{
	if (!ctx)
		return;
	base_free(&ctx->base);
	mbedtls_x509_crt_free(&ctx->ca);
	free(ctx);
}

static bool pin_listed(const uint8_t pin[TLS_PIN_SIZE], const uint8_t (*pins)[TLS_PIN_SIZE],
		       size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(pin, pins[i], TLS_PIN_SIZE))
			return true;
	return false;
}

/* The bundle, or only its certificates whose key opts->ca_pins names. */
static int load_ca(mbedtls_x509_crt *ca, const struct tls_client_opts *opts, struct snp_err *err)
{
	mbedtls_x509_crt all;
	uint8_t pin[TLS_PIN_SIZE];
	char hex[2 * TLS_PIN_SIZE + 1];
	size_t kept = 0;
	int ret;

	if (!opts->n_ca_pins)
		return parse_cert_file(ca, opts->ca_file, "CA bundle", err);
	mbedtls_x509_crt_init(&all);
	ret = parse_cert_file(&all, opts->ca_file, "CA bundle", err);
	for (const mbedtls_x509_crt *c = &all; !ret && c && c->raw.p; c = c->next) {
		ret = spki_pin(&c->pk, pin);
		if (ret) {
			ret = tls_fail(err, -EINVAL, ret, "hashing a CA public key");
			break;
		}
		if (!pin_listed(pin, opts->ca_pins, opts->n_ca_pins))
			continue;
		ret = mbedtls_x509_crt_parse_der(ca, c->raw.p, c->raw.len);
		if (ret)
			ret = tls_fail(err, -EINVAL, ret, "copying a CA certificate");
		kept++;
	}
	if (!ret && !kept)
		ret = snp_errf(err, -EKEYREJECTED,
			       "no certificate in the CA bundle %s has the CA pin sha256:%s%s",
			       opts->ca_file, snp_hex(hex, opts->ca_pins[0], TLS_PIN_SIZE),
			       opts->n_ca_pins > 1 ? " (or the others listed)" : "");
	mbedtls_x509_crt_free(&all);
	return ret;
}

int tls_cert_file_pins(const char *path, uint8_t (*pins)[TLS_PIN_SIZE], size_t max, size_t *n,
		       struct snp_err *err)
{
	mbedtls_x509_crt all;
	int ret;

	*n = 0;
	mbedtls_x509_crt_init(&all);
	ret = parse_cert_file(&all, path, "certificate file", err);
	for (const mbedtls_x509_crt *c = &all; !ret && c && c->raw.p; c = c->next) {
		if (*n == max) {
			ret = snp_errf(err, -E2BIG, "%s holds more than %zu certificates", path, max);
			break;
		}
		ret = spki_pin(&c->pk, pins[*n]);
		if (ret)
			ret = tls_fail(err, -EINVAL, ret, "hashing a certificate's public key");
		else
			(*n)++;
	}
	if (!ret && !*n)
		ret = snp_errf(err, -EINVAL, "%s holds no certificate", path);
	mbedtls_x509_crt_free(&all);
	return ret;
}

int tls_client_ctx_new(struct tls_client_ctx **ctxp, const struct tls_client_opts *opts,
		       struct snp_err *err)
{
	struct tls_client_ctx *ctx;
	int ret;

	*ctxp = NULL;
	if (!opts->ca_file && !opts->pin)
		return snp_errf(err, -EINVAL, "a TLS client needs a CA bundle, a pin, or both");
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return snp_errf(err, -ENOMEM, "out of memory for the TLS client");
	base_init(&ctx->base);
	mbedtls_x509_crt_init(&ctx->ca);
	ret = base_setup(&ctx->base, MBEDTLS_SSL_IS_CLIENT, "snp-unseal tls client", err);
	if (ret)
		goto out;
	if (opts->ca_file) {
		ret = load_ca(&ctx->ca, opts, err);
		if (ret)
			goto out;
		ctx->has_ca = true;
		mbedtls_ssl_conf_ca_chain(&ctx->base.conf, &ctx->ca, NULL);
	}
	if (opts->pin) {
		ctx->has_pin = true;
		memcpy(ctx->pin, opts->pin, TLS_PIN_SIZE);
	}
	/*
	 * mbedTLS refuses REQUIRED without a CA chain. With a pin alone the
	 * verify callback decides, and its refusal is fatal whatever the mode.
	 */
	mbedtls_ssl_conf_authmode(&ctx->base.conf, ctx->has_ca ? MBEDTLS_SSL_VERIFY_REQUIRED :
				  MBEDTLS_SSL_VERIFY_OPTIONAL);
out:
	if (ret)
		tls_client_ctx_free(ctx);
	else
		*ctxp = ctx;
	return ret;
}

int tls_pin_parse(const char *text, uint8_t pin[TLS_PIN_SIZE], struct snp_err *err)
{
	size_t prefix = strlen(PIN_PREFIX), len;

	if (strncmp(text, PIN_PREFIX, prefix) || strlen(text + prefix) != 2 * TLS_PIN_SIZE ||
	    snp_unhex(text + prefix, pin, TLS_PIN_SIZE, &len) || len != TLS_PIN_SIZE)
		return snp_errf(err, -EINVAL,
				"the pin \"%.80s\" is not sha256: followed by 64 hex digits", text);
	return 0;
}

/* ---- connections ---- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *conn = ctx;
	ssize_t n;

	do {
		n = send(conn->fd, buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;	/* mbedTLS sends at most one record at a time */
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	conn->io_errno = errno;
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *conn = ctx;
	ssize_t n;

	do {
		n = recv(conn->fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0)
		return (int)n;
	if (n == 0)
		return MBEDTLS_ERR_SSL_CONN_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_READ;
	conn->io_errno = errno;
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* A conn for fd (owned from here on, closed on failure) on conf. */
static int conn_new(struct tls_conn **connp, const mbedtls_ssl_config *conf, int fd,
		    struct snp_err *err)
{
	struct tls_conn *conn;
	int ret;

	*connp = NULL;
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		close(fd);
		return snp_errf(err, -ENOMEM, "out of memory for a TLS connection");
	}
	conn->fd = fd;
	mbedtls_ssl_init(&conn->ssl);
	ret = mbedtls_ssl_setup(&conn->ssl, conf);
	if (ret) {
		tls_conn_free(conn);
		return tls_fail(err, -ENOMEM, ret, "setting up a TLS connection");
	}
	mbedtls_ssl_set_bio(&conn->ssl, conn, bio_send, bio_recv, NULL);
	*connp = conn;
	return 0;
}

void tls_conn_free(struct tls_conn *conn)
{
	if (!conn)
		return;
	/* The socket is non-blocking: a full send buffer drops the alert. */
	if (conn->fd >= 0 && mbedtls_ssl_is_handshake_over(&conn->ssl))
		mbedtls_ssl_close_notify(&conn->ssl);
	if (conn->fd >= 0)
		close(conn->fd);
	mbedtls_ssl_free(&conn->ssl);
	free(conn);
}

int tls_conn_fd(const struct tls_conn *conn)
{
	return conn->fd;
}

size_t tls_conn_pending(const struct tls_conn *conn)
{
	return mbedtls_ssl_get_bytes_avail(&conn->ssl);
}

int tls_conn_ekm(struct tls_conn *conn, uint8_t ekm[TLS_EKM_SIZE])
{
	int ret;

	if (!mbedtls_ssl_is_handshake_over(&conn->ssl))
		return -EINVAL;
	ret = mbedtls_ssl_export_keying_material(&conn->ssl, ekm, TLS_EKM_SIZE, TLS_EXPORTER_LABEL,
						 strlen(TLS_EXPORTER_LABEL), NULL, 0, 0);
	return ret ? -EPROTO : 0;
}

static void describe_peer(struct tls_conn *conn)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN];
	const void *ip = NULL;
	unsigned int port = 0;

	snprintf(conn->peer, sizeof(conn->peer), "the client");
	if (getpeername(conn->fd, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		ip = &((struct sockaddr_in *)&ss)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		ip = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	if (ip && inet_ntop(ss.ss_family, ip, addr, sizeof(addr)))
		snprintf(conn->peer, sizeof(conn->peer), "the client %s port %u", addr, port);
}

/*
 * The protocol is a few small records each way: without TCP_NODELAY each
 * exchange waits for a delayed ACK (about 40 ms here; one client went from
 * 110 ms to 27 ms an attestation). Best effort: a socket without it works.
 */
static void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int tls_conn_accept(struct tls_conn **conn, struct tls_server_ctx *ctx, int fd,
		    struct snp_err *err)
{
	int flags = fcntl(fd, F_GETFL);
	int ret;

	*conn = NULL;
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK)) {
		ret = -errno;
		close(fd);
		return snp_errf(err, ret, "making an accepted socket non-blocking: %s",
				strerror(-ret));
	}
	set_nodelay(fd);
	ret = conn_new(conn, &ctx->base.conf, fd, err);
	if (!ret)
		describe_peer(*conn);
	return ret;
}

/* The negative errno of a failed mbedTLS call, when no sentence is wanted. */
static int conn_errno(const struct tls_conn *conn, int ret)
{
	if (conn->io_errno)
		return -conn->io_errno;
	if (ret == MBEDTLS_ERR_SSL_CONN_EOF)
		return -ECONNRESET;
	return -EPROTO;
}

static const struct {
	uint32_t flags;
	const char *what;
} cert_problems[] = {
	{ MBEDTLS_X509_BADCERT_NOT_TRUSTED, "not issued by a trusted CA" },
	{ MBEDTLS_X509_BADCERT_CN_MISMATCH, "not issued for this host name" },
	{ MBEDTLS_X509_BADCERT_EXPIRED, "expired" },
	{ MBEDTLS_X509_BADCERT_FUTURE, "not valid yet" },
	{ MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE,
	  "not meant for a TLS server" },
};

static int auth_error(const struct tls_conn *conn, struct snp_err *err)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&conn->ssl);
	char seen[2 * TLS_PIN_SIZE + 1], want[2 * TLS_PIN_SIZE + 1], why[160] = "";
	size_t n = 0;

	if (conn->client->has_pin && conn->pin_seen &&
	    memcmp(conn->seen_pin, conn->client->pin, TLS_PIN_SIZE))
		return snp_errf(err, -EKEYREJECTED,
				"the public key of %s does not match the pin: it is sha256:%s, "
				"the pin is sha256:%s", conn->peer,
				snp_hex(seen, conn->seen_pin, TLS_PIN_SIZE),
				snp_hex(want, conn->client->pin, TLS_PIN_SIZE));
	for (size_t i = 0; i < sizeof(cert_problems) / sizeof(cert_problems[0]); i++) {
		if (!(flags & cert_problems[i].flags) || n >= sizeof(why))
			continue;
		n += (size_t)snprintf(why + n, sizeof(why) - n, "%s%s", n ? ", " : "",
				      cert_problems[i].what);
	}
	return snp_errf(err, -EKEYREJECTED, "the certificate of %s was refused: %s (flags 0x%x)",
			conn->peer, n ? why : "it failed verification", (unsigned int)flags);
}

/* The negative errno and sentence of a failed TLS step (not WANT_*). */
static int conn_error(const struct tls_conn *conn, int ret, const char *step,
		      struct snp_err *err)
{
	char buf[128];

	if (conn->io_errno)
		return snp_errf(err, -conn->io_errno, "TLS %s with %s: %s", step, conn->peer,
				strerror(conn->io_errno));
	if (ret == MBEDTLS_ERR_SSL_CONN_EOF)
		return snp_errf(err, -ECONNRESET, "%s closed the connection during the TLS %s",
				conn->peer, step);
	if (conn->client && (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
			     ret == MBEDTLS_ERR_X509_FATAL_ERROR ||
			     ret == MBEDTLS_ERR_SSL_BAD_CERTIFICATE))
		return auth_error(conn, err);
	return snp_errf(err, -EPROTO, "TLS %s with %s failed: %s (-0x%04x)", step, conn->peer,
			tls_strerror(ret, buf, sizeof(buf)), (unsigned int)-ret);
}

int tls_conn_handshake(struct tls_conn *conn, struct snp_err *err)
{
	int ret;

	if (mbedtls_ssl_is_handshake_over(&conn->ssl))
		return 0;
	ret = mbedtls_ssl_handshake(&conn->ssl);
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_WRITE;
	return ret ? conn_error(conn, ret, "handshake", err) : 0;
}

/* Bytes, 0 at close_notify, or an mbedTLS error (WANT_* included). */
static int ssl_read_once(struct tls_conn *conn, void *buf, size_t len)
{
	int ret;

	do {
		ret = mbedtls_ssl_read(&conn->ssl, buf, len);
	} while (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET);
	return ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? 0 : ret;
}

static ssize_t want_or_errno(const struct tls_conn *conn, int ret)
{
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_WRITE;
	return ret < 0 ? conn_errno(conn, ret) : ret;
}

ssize_t tls_conn_read(struct tls_conn *conn, void *buf, size_t len)
{
	return want_or_errno(conn, ssl_read_once(conn, buf, len));
}

/* mbedTLS wants the same buffer again after WANT_WRITE: the caller keeps it. */
ssize_t tls_conn_write(struct tls_conn *conn, const void *buf, size_t len)
{
	return want_or_errno(conn, mbedtls_ssl_write(&conn->ssl, buf, len));
}

/* ---- the blocking client side, bounded by a deadline ---- */

/* 0 once fd is ready for events, -ETIMEDOUT when dl passes first. */
static int wait_fd(int fd, short events, const struct snp_deadline *dl)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int left, n;

	for (;;) {
		left = snp_deadline_left_ms(dl);
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left);
		if (n > 0)
			return 0;	/* errors and hang-ups show in the next call */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Wait as an mbedTLS WANT_* asks; any other ret is returned as it is. */
static int conn_wait(struct tls_conn *conn, int ret, const char *step,
		     const struct snp_deadline *dl, struct snp_err *err)
{
	short events;

	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		events = POLLIN;
	else if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		events = POLLOUT;
	else
		return ret < 0 ? conn_error(conn, ret, step, err) : ret;
	ret = wait_fd(conn->fd, events, dl);
	if (ret == -ETIMEDOUT)
		return snp_errf(err, ret, "TLS %s with %s timed out (bound %d ms)", step, conn->peer,
				dl->total_ms);
	if (ret)
		return snp_errf(err, ret, "waiting for %s: %s", conn->peer, strerror(-ret));
	return 1;	/* try again */
}

int tls_conn_write_all(struct tls_conn *conn, const void *buf, size_t len,
		       const struct snp_deadline *dl, struct snp_err *err)
{
	const unsigned char *p = buf;
	int ret;

	while (len) {
		ret = mbedtls_ssl_write(&conn->ssl, p, len);
		if (ret > 0) {
			p += ret;
			len -= (size_t)ret;
			continue;
		}
		ret = conn_wait(conn, ret, "write", dl, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

ssize_t tls_conn_read_some(struct tls_conn *conn, void *buf, size_t len,
			   const struct snp_deadline *dl, struct snp_err *err)
{
	int ret;

	for (;;) {
		ret = ssl_read_once(conn, buf, len);
		if (ret >= 0)
			return ret;
		ret = conn_wait(conn, ret, "read", dl, err);
		if (ret < 0)
			return ret;
	}
}

/*
 * Called for each certificate of the peer's chain, root first. With a
 * pin, the leaf's key must match it; with a pin alone, nothing else
 * counts (no CA, no name), so the chain's flags are cleared.
 */
static int verify_peer(void *data, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_conn *conn = data;
	const struct tls_client_ctx *ctx = conn->client;

	if (!ctx->has_pin)
		return 0;
	if (!ctx->has_ca)
		*flags = 0;
	if (depth > 0)
		return 0;
	/*
	 * FATAL_ERROR ends the handshake even in OPTIONAL mode, which turns
	 * CERT_VERIFY_FAILED into success; the check after the handshake
	 * stays as a second line.
	 */
	if (spki_pin(&crt->pk, conn->seen_pin))
		return MBEDTLS_ERR_X509_FATAL_ERROR;
	conn->pin_seen = true;
	if (memcmp(conn->seen_pin, ctx->pin, TLS_PIN_SIZE))
		return MBEDTLS_ERR_X509_FATAL_ERROR;
	return 0;
}

struct gai_req {
	struct gaicb cb;
	struct addrinfo hints;
	char name[256];
	char service[8];
};

static int gai_errno(int gai)
{
	if (gai == EAI_SYSTEM)
		return -errno;
	return gai == EAI_AGAIN ? -EAGAIN : -ENOENT;
}

/*
 * Resolve a host name with the deadline as the bound. A request the
 * resolver is still working on when time is up cannot be cancelled or
 * freed (glibc writes into it when it ends), so it is left behind.
 */
static int resolve_name(struct gai_req *req, const struct snp_deadline *dl,
			struct addrinfo **res, struct snp_err *err)
{
	struct gaicb *list[1] = { &req->cb };
	struct timespec ts;
	int left, gai;

	req->cb.ar_name = req->name;
	req->cb.ar_service = req->service;
	req->cb.ar_request = &req->hints;
	gai = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (gai)
		return snp_errf(err, gai_errno(gai), "resolving %s: %s", req->name,
				gai_strerror(gai));
	while ((gai = gai_error(&req->cb)) == EAI_INPROGRESS) {
		left = snp_deadline_left_ms(dl);
		if (left <= 0)
			break;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		gai_suspend((const struct gaicb *const *)list, 1, &ts);
	}
	if (gai == EAI_INPROGRESS) {
		snp_errf(err, -ETIMEDOUT, "resolving %s timed out (bound %d ms)", req->name,
			 dl->total_ms);
		if (gai_cancel(&req->cb) == EAI_CANCELED)
			free(req);
		return -ETIMEDOUT;
	}
	*res = req->cb.ar_result;
	if (gai)
		snp_errf(err, gai_errno(gai), "resolving %s: %s", req->name, gai_strerror(gai));
	free(req);
	return gai ? gai_errno(gai) : 0;
}

/* The addresses of name; a numeric one is converted without any wait. */
static int resolve(const char *name, unsigned int port, bool numeric_only,
		   const struct snp_deadline *dl, struct addrinfo **res, struct snp_err *err)
{
	struct gai_req *req;
	int gai;

	req = calloc(1, sizeof(*req));
	if (!req)
		return snp_errf(err, -ENOMEM, "out of memory resolving %s", name);
	snprintf(req->name, sizeof(req->name), "%s", name);
	snprintf(req->service, sizeof(req->service), "%u", port);
	req->hints.ai_family = AF_UNSPEC;
	req->hints.ai_socktype = SOCK_STREAM;
	req->hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	gai = getaddrinfo(req->name, req->service, &req->hints, res);
	if (gai != EAI_NONAME || numeric_only) {
		free(req);
		if (!gai)
			return 0;
		return snp_errf(err, gai_errno(gai), "%s is not a numeric address: %s", name,
				gai_strerror(gai));
	}
	req->hints.ai_flags = AI_NUMERICSERV;
	return resolve_name(req, dl, res, err);	/* frees req */
}

/* A connected non-blocking socket to one address, or a negative errno. */
static int connect_addr_one(const struct addrinfo *ai, const struct snp_deadline *dl)
{
	socklen_t len = sizeof(int);
	int fd, ret, soerr = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	set_nodelay(fd);
	if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
		return fd;
	ret = -errno;
	if (ret == -EINPROGRESS) {
		ret = wait_fd(fd, POLLOUT, dl);
		if (!ret && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
			ret = -errno;
		if (!ret)
			ret = -soerr;
	}
	if (!ret)
		return fd;
	close(fd);
	return ret;
}

static int connect_tcp(const char *where, unsigned int port, bool numeric_only,
		       const char *peer, const struct snp_deadline *dl, struct snp_err *err)
{
	struct addrinfo *res = NULL, *ai;
	int ret;

	ret = resolve(where, port, numeric_only, dl, &res, err);
	if (ret)
		return ret;
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		ret = connect_addr_one(ai, dl);
		if (ret >= 0 || ret == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (ret == -ETIMEDOUT)
		return snp_errf(err, ret, "TCP connect to %s timed out (bound %d ms)", peer,
				dl->total_ms);
	if (ret < 0)
		return snp_errf(err, ret, "TCP connect to %s: %s", peer, strerror(-ret));
	return ret;
}

static int client_handshake(struct tls_conn *conn, const char *host,
			    const struct snp_deadline *dl, struct snp_err *err)
{
	const struct tls_client_ctx *ctx = conn->client;
	int ret;

	/* Also the SNI; mbedTLS will not check a chain without it. */
	ret = mbedtls_ssl_set_hostname(&conn->ssl, host);
	if (ret)
		return tls_fail(err, -EINVAL, ret, "setting the TLS host name");
	mbedtls_ssl_set_verify(&conn->ssl, verify_peer, conn);
	do {
		ret = conn_wait(conn, mbedtls_ssl_handshake(&conn->ssl), "handshake", dl, err);
	} while (ret == 1);
	if (ret)
		return ret;
	/* The callback saw the leaf (TLS 1.3 servers always send one). */
	if (ctx->has_pin && (!conn->pin_seen || memcmp(conn->seen_pin, ctx->pin, TLS_PIN_SIZE)))
		return auth_error(conn, err);
	if (ctx->has_ca && mbedtls_ssl_get_verify_result(&conn->ssl))
		return auth_error(conn, err);
	return 0;
}

int tls_client_connect(struct tls_conn **connp, struct tls_client_ctx *ctx, const char *host,
		       unsigned int port, const char *connect_addr,
		       const struct snp_deadline *dl, struct snp_err *err)
{
	struct tls_conn *conn = NULL;
	char peer[sizeof(conn->peer)];
	int fd, ret;

	*connp = NULL;
	if (connect_addr)
		snprintf(peer, sizeof(peer), "%s (%s) port %u", host, connect_addr, port);
	else
		snprintf(peer, sizeof(peer), "%s port %u", host, port);
	if (port == 0 || port > 65535)
		return snp_errf(err, -EINVAL, "%s: not a TCP port", peer);
	fd = connect_tcp(connect_addr ? connect_addr : host, port, connect_addr != NULL, peer,
			 dl, err);
	if (fd < 0)
		return fd;
	ret = conn_new(&conn, &ctx->base.conf, fd, err);
	if (ret)
		return ret;
	conn->client = ctx;
	memcpy(conn->peer, peer, sizeof(peer));
	ret = client_handshake(conn, host, dl, err);
	if (ret) {
		tls_conn_free(conn);
		return ret;
	}
	*connp = conn;
	return 0;
}
