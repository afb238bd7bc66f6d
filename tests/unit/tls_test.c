// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tls/tls.c over real TCP on 127.0.0.1: a server thread driven through the
 * non-blocking calls, the client with its deadline, the fixtures in
 * tests/data/tls (a certificate for broker.test).
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/unit/tls_peer.h"

/* Generous for a loaded CI machine; the bounds themselves are much shorter. */
#define SLACK_MS	700

/* ---- the server thread (shared with http_test.c through tls_peer.h) ---- */

static int peer_wait(struct tls_conn *conn, int want)
{
	struct pollfd pfd = {
		.fd = tls_conn_fd(conn),
		.events = want == TLS_WANT_WRITE ? POLLOUT : POLLIN,
	};
	int n = poll(&pfd, 1, PEER_WAIT_MS);

	return n > 0 ? 0 : -ETIMEDOUT;
}

int peer_write_all(struct tls_conn *conn, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = tls_conn_write(conn, p, len);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
			if (peer_wait(conn, (int)n))
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t peer_read(struct tls_conn *conn, void *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		n = tls_conn_read(conn, buf, len);
		if (n != TLS_WANT_READ && n != TLS_WANT_WRITE)
			return n;
		if (peer_wait(conn, (int)n))
			return -ETIMEDOUT;
	}
}

static int peer_handshake(struct tls_peer *peer, struct tls_conn *conn, int i)
{
	struct snp_err err;
	int ret, calls = 0;

	for (;;) {
		ret = tls_conn_handshake(conn, &err);
		if (calls++ == 0)
			peer->first_handshake[i] = ret;
		if (ret != TLS_WANT_READ && ret != TLS_WANT_WRITE)
			return ret;
		if (peer_wait(conn, ret))
			return -ETIMEDOUT;
	}
}

static int peer_accept(struct tls_peer *peer)
{
	struct pollfd pfd = { .fd = peer->listen_fd, .events = POLLIN };

	if (poll(&pfd, 1, PEER_WAIT_MS) <= 0)
		return -ETIMEDOUT;
	return accept4(peer->listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

static void *peer_main(void *arg)
{
	struct tls_peer *peer = arg;
	struct tls_conn *conn;
	char buf[256];
	int fd;

	for (int i = 0; i < peer->conns; i++) {
		peer->handshake[i] = -EINPROGRESS;
		fd = peer_accept(peer);
		if (fd < 0 || tls_conn_accept(&conn, peer->ctx, fd, NULL))
			break;
		peer->handshake[i] = peer_handshake(peer, conn, i);
		if (!peer->handshake[i])
			tls_conn_ekm(conn, peer->ekm[i]);
		if (!peer->handshake[i] && peer->serve)
			peer->serve(peer, conn, i);
		else if (!peer->handshake[i])
			while ((peer->last_read[i] = peer_read(conn, buf, sizeof(buf))) > 0)
				;
		tls_conn_free(conn);
	}
	return NULL;
}

static int listen_loopback(unsigned int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

bool tls_peer_start(struct tls_peer *peer, int conns, peer_serve_fn *serve, void *data)
{
	struct snp_err err;

	memset(peer, 0, sizeof(*peer));
	peer->conns = conns;
	peer->serve = serve;
	peer->data = data;
	if (!CHECK(tls_server_ctx_new(&peer->ctx, TLS_FIXTURE("server.pem"),
				      TLS_FIXTURE("server.key"), &err) == 0))
		return false;
	peer->listen_fd = listen_loopback(&peer->port);
	if (!CHECK(peer->listen_fd >= 0) ||
	    !CHECK(pthread_create(&peer->thread, NULL, peer_main, peer) == 0)) {
		tls_server_ctx_free(peer->ctx);
		return false;
	}
	return true;
}

void tls_peer_stop(struct tls_peer *peer)
{
	pthread_join(peer->thread, NULL);
	close(peer->listen_fd);
	tls_server_ctx_free(peer->ctx);
}

int peer_connect(const struct tls_peer *peer, const struct tls_client_opts *opts,
		 const char *host, int timeout_ms, struct tls_client_ctx **ctx,
		 struct tls_conn **conn, struct snp_err *err)
{
	struct snp_deadline dl;
	int ret;

	*conn = NULL;
	ret = tls_client_ctx_new(ctx, opts, err);
	if (ret)
		return ret;
	snp_deadline_start(&dl, timeout_ms);
	return tls_client_connect(conn, *ctx, host, peer->port, "127.0.0.1", &dl, err);
}

/* ---- tests ---- */

static const struct tls_client_opts ca_opts = { .ca_file = TLS_FIXTURE("ca.pem") };

static void server_pin(uint8_t pin[TLS_PIN_SIZE])
{
	struct tls_server_ctx *ctx;

	if (!CHECK(tls_server_ctx_new(&ctx, TLS_FIXTURE("server.pem"), TLS_FIXTURE("server.key"),
				      NULL) == 0))
		return;
	tls_server_ctx_pin(ctx, pin);
	tls_server_ctx_free(ctx);
}

/*
 * Connect once with opts and host: the client's result, and with it
 * the same exporter value at both ends.
 */
static int connect_once(const struct tls_client_opts *opts, const char *host,
			struct snp_err *err)
{
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn = NULL;
	uint8_t ekm[TLS_EKM_SIZE];
	struct tls_peer peer;
	int ret;

	if (!tls_peer_start(&peer, 1, NULL, NULL))
		return -1;
	ret = peer_connect(&peer, opts, host, 2000, &ctx, &conn, err);
	if (!ret) {
		CHECK(tls_conn_ekm(conn, ekm) == 0);
		tls_conn_free(conn);
	}
	tls_client_ctx_free(ctx);
	tls_peer_stop(&peer);
	if (!ret) {
		CHECK(peer.handshake[0] == 0);
		CHECK_MEM(ekm, peer.ekm[0], TLS_EKM_SIZE);
		/* The client's close_notify is a clean end for the server. */
		CHECK(peer.last_read[0] == 0);
	} else {
		CHECK(peer.handshake[0] < 0 && peer.handshake[0] != TLS_WANT_READ);
	}
	return ret;
}

TEST(tls_ekm_same_at_both_ends_and_new_per_connection)
{
	uint8_t ekm[2][TLS_EKM_SIZE], zero[TLS_EKM_SIZE] = { 0 };
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn;
	struct snp_deadline dl;
	struct snp_err err;
	struct tls_peer peer;

	REQUIRE(tls_peer_start(&peer, 2, NULL, NULL));
	CHECK(tls_client_ctx_new(&ctx, &ca_opts, &err) == 0);
	for (int i = 0; ctx && i < 2; i++) {
		snp_deadline_start(&dl, 2000);
		if (!CHECK(tls_client_connect(&conn, ctx, PEER_HOST, peer.port, "127.0.0.1", &dl,
					      &err) == 0))
			break;
		CHECK(tls_conn_ekm(conn, ekm[i]) == 0);
		tls_conn_free(conn);
	}
	tls_client_ctx_free(ctx);
	tls_peer_stop(&peer);
	CHECK_MEM(ekm[0], peer.ekm[0], TLS_EKM_SIZE);
	CHECK_MEM(ekm[1], peer.ekm[1], TLS_EKM_SIZE);
	CHECK(memcmp(ekm[0], ekm[1], TLS_EKM_SIZE) != 0);
	CHECK(memcmp(ekm[0], zero, TLS_EKM_SIZE) != 0);
}

TEST(tls_ca_mode_accepts_the_broker)
{
	struct snp_err err;

	CHECK(connect_once(&ca_opts, PEER_HOST, &err) == 0);
}

TEST(tls_ca_mode_refuses_another_ca)
{
	struct tls_client_opts opts = { .ca_file = TESTS_DIR "/data/sim/ark.pem" };
	struct snp_err err;

	CHECK(connect_once(&opts, PEER_HOST, &err) == -EKEYREJECTED);
	CHECK(strstr(err.msg, "not issued by a trusted CA") != NULL);
}

TEST(tls_ca_mode_refuses_another_host_name)
{
	struct snp_err err;

	CHECK(connect_once(&ca_opts, "other.test", &err) == -EKEYREJECTED);
	CHECK(strstr(err.msg, "not issued for this host name") != NULL);
	CHECK(strstr(err.msg, "other.test") != NULL);
}

TEST(tls_pin_mode_accepts_the_right_key_without_a_ca)
{
	uint8_t pin[TLS_PIN_SIZE];
	struct tls_client_opts opts = { .pin = pin };
	struct snp_err err;

	server_pin(pin);
	CHECK(connect_once(&opts, PEER_HOST, &err) == 0);
	/* A pin is about the key alone: the name does not matter. */
	CHECK(connect_once(&opts, "any-name.test", &err) == 0);
}

TEST(tls_pin_mode_refuses_another_key_and_names_it)
{
	uint8_t pin[TLS_PIN_SIZE], wrong[TLS_PIN_SIZE];
	struct tls_client_opts opts = { .pin = wrong };
	char hex[2 * TLS_PIN_SIZE + 1];
	struct snp_err err;

	server_pin(pin);
	memcpy(wrong, pin, sizeof(wrong));
	wrong[31] ^= 1;
	CHECK(connect_once(&opts, PEER_HOST, &err) == -EKEYREJECTED);
	CHECK(strstr(err.msg, snp_hex(hex, pin, sizeof(pin))) != NULL);
	CHECK(strstr(err.msg, "does not match the pin") != NULL);
}

TEST(tls_pin_and_ca_must_both_pass)
{
	uint8_t pin[TLS_PIN_SIZE], wrong[TLS_PIN_SIZE];
	struct tls_client_opts both = { .ca_file = TLS_FIXTURE("ca.pem"), .pin = pin };
	struct tls_client_opts wrong_pin = { .ca_file = TLS_FIXTURE("ca.pem"), .pin = wrong };
	struct tls_client_opts wrong_ca = { .ca_file = TESTS_DIR "/data/sim/ark.pem", .pin = pin };
	struct snp_err err;

	server_pin(pin);
	memcpy(wrong, pin, sizeof(wrong));
	wrong[0] ^= 0x80;
	CHECK(connect_once(&both, PEER_HOST, &err) == 0);
	CHECK(connect_once(&both, "other.test", &err) == -EKEYREJECTED);
	CHECK(connect_once(&wrong_pin, PEER_HOST, &err) == -EKEYREJECTED);
	CHECK(strstr(err.msg, "pin") != NULL);
	CHECK(connect_once(&wrong_ca, PEER_HOST, &err) == -EKEYREJECTED);
	CHECK(strstr(err.msg, "trusted CA") != NULL);
}

TEST(tls_pin_parse_takes_sha256_and_64_hex_digits)
{
	static const char good[] =
		"sha256:00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff";
	static const char *const bad[] = {
		"", "sha256:", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"sha1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
		"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
		"sha256:0011223344556677889gaabbccddeeff00112233445566778899aabbccddeeff",
		"sha256: 0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	};
	uint8_t pin[TLS_PIN_SIZE], want[TLS_PIN_SIZE];
	struct snp_err err;

	test_unhex(good + 7, want, sizeof(want));
	CHECK(tls_pin_parse(good, pin, &err) == 0);
	CHECK_MEM(pin, want, sizeof(pin));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(tls_pin_parse(bad[i], pin, &err) == -EINVAL);
		CHECK(strstr(err.msg, "sha256:") != NULL);
	}
}

TEST(tls_contexts_refuse_bad_inputs)
{
	struct tls_client_opts none = { 0 };
	struct tls_client_opts missing = { .ca_file = "/nonexistent/ca.pem" };
	struct tls_server_ctx *server;
	struct tls_client_ctx *client;
	struct snp_err err;

	CHECK(tls_server_ctx_new(&server, "/nonexistent.pem", TLS_FIXTURE("server.key"), &err) < 0);
	CHECK(server == NULL);
	/* A key that is not the certificate's. */
	CHECK(tls_server_ctx_new(&server, TLS_FIXTURE("server.pem"),
				 TESTS_DIR "/data/sim/ark.key", &err) == -EINVAL);
	CHECK(strstr(err.msg, "not the key") != NULL);
	CHECK(tls_client_ctx_new(&client, &none, &err) == -EINVAL);
	CHECK(tls_client_ctx_new(&client, &missing, &err) == -EINVAL);
	CHECK(strstr(err.msg, "/nonexistent/ca.pem") != NULL);
}

/* A CA-mode connect to 127.0.0.1:port bounded by bound_ms; its result and duration. */
static int timed_connect(unsigned int port, int bound_ms, int64_t *elapsed, struct snp_err *err)
{
	struct tls_client_ctx *ctx;
	struct tls_conn *conn = NULL;
	struct snp_deadline dl;
	int ret;

	if (!CHECK(tls_client_ctx_new(&ctx, &ca_opts, err) == 0))
		return 0;
	*elapsed = snp_now_ms();
	snp_deadline_start(&dl, bound_ms);
	ret = tls_client_connect(&conn, ctx, PEER_HOST, port, "127.0.0.1", &dl, err);
	*elapsed = snp_now_ms() - *elapsed;
	CHECK(ret == 0 || conn == NULL);
	tls_conn_free(conn);
	tls_client_ctx_free(ctx);
	return ret;
}

TEST(tls_connection_refused_is_quick)
{
	struct snp_err err;
	unsigned int port;
	int64_t elapsed;
	int fd;

	/* A port that was just free: nothing listens there now. */
	fd = listen_loopback(&port);
	REQUIRE(fd >= 0);
	close(fd);
	CHECK(timed_connect(port, 2000, &elapsed, &err) == -ECONNREFUSED);
	CHECK(elapsed < 500);
	CHECK(strstr(err.msg, "refused") != NULL);
}

TEST(tls_silent_server_times_out_within_the_bound)
{
	struct snp_err err;
	unsigned int port;
	int64_t elapsed;
	int fd;

	/* The kernel completes the TCP handshake; nobody ever answers TLS. */
	fd = listen_loopback(&port);
	REQUIRE(fd >= 0);
	CHECK(timed_connect(port, 300, &elapsed, &err) == -ETIMEDOUT);
	CHECK(elapsed >= 295 && elapsed < 300 + SLACK_MS);
	CHECK(strstr(err.msg, "handshake") != NULL);
	CHECK(strstr(err.msg, "300 ms") != NULL);
	close(fd);
}

TEST(tls_full_accept_queue_times_out_in_connect)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct snp_err err;
	unsigned int port;
	int64_t elapsed;
	int fd, fill[4];

	/*
	 * listen(fd, 0) queues one connection; the kernel then drops SYNs, so
	 * a further connect stays in progress.
	 */
	fd = listen_loopback(&port);
	REQUIRE(fd >= 0);
	REQUIRE(listen(fd, 0) == 0);
	sin.sin_port = htons(port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50 * 1000);
	CHECK(timed_connect(port, 300, &elapsed, &err) == -ETIMEDOUT);
	CHECK(elapsed >= 295 && elapsed < 300 + SLACK_MS);
	CHECK(strstr(err.msg, "TCP connect") != NULL);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
}

TEST(tls_connect_addr_must_be_numeric)
{
	struct tls_client_ctx *ctx;
	struct tls_conn *conn;
	struct snp_deadline dl;
	struct snp_err err;

	REQUIRE(tls_client_ctx_new(&ctx, &ca_opts, &err) == 0);
	snp_deadline_start(&dl, 1000);
	CHECK(tls_client_connect(&conn, ctx, PEER_HOST, 443, "localhost", &dl, &err) < 0);
	CHECK(strstr(err.msg, "numeric") != NULL);
	tls_client_ctx_free(ctx);
}

struct nonblocking_result {
	ssize_t idle_read;
	ssize_t first_read;
	size_t pending;
	ssize_t rest_read;
	char data[100];
};

/* Reads in small pieces, so that mbedTLS holds the rest of the record. */
static void serve_nonblocking(struct tls_peer *peer, struct tls_conn *conn, int index)
{
	struct nonblocking_result *r = peer->data;
	struct pollfd pfd = { .fd = tls_conn_fd(conn), .events = POLLIN };

	(void)index;
	r->idle_read = tls_conn_read(conn, r->data, sizeof(r->data));
	poll(&pfd, 1, PEER_WAIT_MS);
	r->first_read = tls_conn_read(conn, r->data, 10);
	r->pending = tls_conn_pending(conn);
	r->rest_read = tls_conn_read(conn, r->data + 10, sizeof(r->data) - 10);
	peer_write_all(conn, "done", 4);
}

TEST(tls_server_io_is_non_blocking)
{
	struct nonblocking_result r = { 0 };
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn = NULL;
	struct snp_deadline dl;
	struct tls_peer peer;
	struct snp_err err;
	char msg[100], reply[8];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	REQUIRE(tls_peer_start(&peer, 1, serve_nonblocking, &r));
	/* Give the server time to find nothing to read. */
	if (CHECK(peer_connect(&peer, &ca_opts, PEER_HOST, 2000, &ctx, &conn, &err) == 0)) {
		usleep(100 * 1000);
		snp_deadline_start(&dl, 2000);
		CHECK(tls_conn_write_all(conn, msg, sizeof(msg), &dl, &err) == 0);
		CHECK(tls_conn_read_some(conn, reply, sizeof(reply), &dl, &err) == 4);
	}
	tls_conn_free(conn);
	tls_client_ctx_free(ctx);
	tls_peer_stop(&peer);
	/* The first call came before the ClientHello's answer could. */
	CHECK(peer.first_handshake[0] == TLS_WANT_READ);
	CHECK(peer.handshake[0] == 0);
	CHECK(r.idle_read == TLS_WANT_READ);
	CHECK(r.first_read == 10);
	CHECK(r.pending == sizeof(msg) - 10);
	CHECK(r.rest_read == (ssize_t)sizeof(msg) - 10);
	CHECK_MEM(r.data, msg, sizeof(msg));
}

static void serve_close_at_once(struct tls_peer *peer, struct tls_conn *conn, int index)
{
	(void)peer;
	(void)conn;
	(void)index;
}

TEST(tls_client_survives_a_closed_peer)
{
	static char big[256 * 1024];
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn = NULL;
	struct snp_deadline dl;
	struct tls_peer peer;
	struct snp_err err;
	char buf[16];
	int ret = 0;

	REQUIRE(tls_peer_start(&peer, 1, serve_close_at_once, NULL));
	if (CHECK(peer_connect(&peer, &ca_opts, PEER_HOST, 2000, &ctx, &conn, &err) == 0)) {
		tls_peer_stop(&peer);
		snp_deadline_start(&dl, 2000);
		/* The server's close_notify: a clean end of stream. */
		CHECK(tls_conn_read_some(conn, buf, sizeof(buf), &dl, &err) == 0);
		/* Writing on: EPIPE or ECONNRESET, not SIGPIPE. */
		for (int i = 0; i < 8 && !ret; i++)
			ret = tls_conn_write_all(conn, big, sizeof(big), &dl, &err);
		CHECK(ret == -EPIPE || ret == -ECONNRESET);
	} else {
		tls_peer_stop(&peer);
	}
	tls_conn_free(conn);
	tls_client_ctx_free(ctx);
}

TEST(tls_strerror_says_something)
{
	char buf[128];

	CHECK(strlen(tls_strerror(-0x7780, buf, sizeof(buf))) > 0);
}

TEST(tls_host_name_is_resolved_when_no_address_is_given)
{
	uint8_t pin[TLS_PIN_SIZE];
	struct tls_client_opts opts = { .pin = pin };
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn = NULL;
	struct snp_deadline dl;
	struct tls_peer peer;
	struct snp_err err;

	/* "localhost" through the resolver; a pin, as no certificate names it. */
	server_pin(pin);
	REQUIRE(tls_peer_start(&peer, 1, NULL, NULL));
	if (CHECK(tls_client_ctx_new(&ctx, &opts, &err) == 0)) {
		snp_deadline_start(&dl, 2000);
		CHECK(tls_client_connect(&conn, ctx, "localhost", peer.port, NULL, &dl, &err) == 0);
	}
	tls_conn_free(conn);
	tls_client_ctx_free(ctx);
	tls_peer_stop(&peer);
	CHECK(peer.handshake[0] == 0);
}
