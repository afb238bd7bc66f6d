// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Our mbedTLS build speaks TLS 1.3 as client and as server, and both ends
 * export the same keying material: the value the unseal protocol binds an
 * attestation report to. The two ends run in two processes over a
 * socketpair, with the fixtures in tests/data/tls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "tests/harness.h"

#ifndef TESTS_DIR
#error "TESTS_DIR must be defined by the build"
#endif

#define FIXTURE(name) TESTS_DIR "/data/tls/" name

static const char exporter_label[] = "EXPORTER-snp-unseal-test";
enum { EXPORTER_LEN = 32 };

struct tls_end {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_x509_crt certs;
	mbedtls_pk_context key;
	int fd;
};

static int fd_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);

	return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

static int fd_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n;

	do {
		n = recv(*(int *)ctx, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return MBEDTLS_ERR_SSL_CONN_EOF;
	return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

static void end_free(struct tls_end *e)
{
	mbedtls_ssl_free(&e->ssl);
	mbedtls_ssl_config_free(&e->conf);
	mbedtls_x509_crt_free(&e->certs);
	mbedtls_pk_free(&e->key);
	mbedtls_ctr_drbg_free(&e->drbg);
	mbedtls_entropy_free(&e->entropy);
	if (e->fd >= 0)
		close(e->fd);
}

/* Make every context of an end valid to free, whatever happens next. */
static void end_setup(struct tls_end *e)
{
	mbedtls_entropy_init(&e->entropy);
	mbedtls_ctr_drbg_init(&e->drbg);
	mbedtls_ssl_config_init(&e->conf);
	mbedtls_ssl_init(&e->ssl);
	mbedtls_x509_crt_init(&e->certs);
	mbedtls_pk_init(&e->key);
	e->fd = -1;
}

/* Configure one end: the server loads its chain and key, the client the CA. */
static int end_configure(struct tls_end *e, int endpoint, int fd, const char *hostname)
{
	int r;

	e->fd = fd;
	if (psa_crypto_init() != PSA_SUCCESS)	/* TLS 1.3 runs on PSA */
		return -1;
	r = mbedtls_ctr_drbg_seed(&e->drbg, mbedtls_entropy_func, &e->entropy, NULL, 0);
	if (!r)
		r = mbedtls_ssl_config_defaults(&e->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
						MBEDTLS_SSL_PRESET_DEFAULT);
	if (r)
		return r;
	mbedtls_ssl_conf_rng(&e->conf, mbedtls_ctr_drbg_random, &e->drbg);
	mbedtls_ssl_conf_min_tls_version(&e->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_max_tls_version(&e->conf, MBEDTLS_SSL_VERSION_TLS1_3);

	if (endpoint == MBEDTLS_SSL_IS_SERVER) {
		r = mbedtls_x509_crt_parse_file(&e->certs, FIXTURE("server.pem"));
		if (!r)
			r = mbedtls_pk_parse_keyfile(&e->key, FIXTURE("server.key"), NULL,
						     mbedtls_ctr_drbg_random, &e->drbg);
		if (!r)
			r = mbedtls_ssl_conf_own_cert(&e->conf, &e->certs, &e->key);
	} else {
		r = mbedtls_x509_crt_parse_file(&e->certs, FIXTURE("ca.pem"));
		mbedtls_ssl_conf_authmode(&e->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&e->conf, &e->certs, NULL);
	}
	if (!r)
		r = mbedtls_ssl_setup(&e->ssl, &e->conf);
	if (!r && hostname)
		r = mbedtls_ssl_set_hostname(&e->ssl, hostname);
	if (!r)
		mbedtls_ssl_set_bio(&e->ssl, &e->fd, fd_send, fd_recv, NULL);
	return r;
}

static int handshake(struct tls_end *e)
{
	int r;

	do {
		r = mbedtls_ssl_handshake(&e->ssl);
	} while (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE);
	return r;
}

static int export_value(struct tls_end *e, uint8_t *out)
{
	return mbedtls_ssl_export_keying_material(&e->ssl, out, EXPORTER_LEN, exporter_label,
						  strlen(exporter_label), NULL, 0, 0);
}

/*
 * The server end, in its own process: handshake, then send the exporter
 * value it computed over the channel. Exits 0 only when all of that worked.
 */
static void serve(int fd)
{
	struct tls_end server;
	uint8_t value[EXPORTER_LEN];
	int r;

	end_setup(&server);
	r = end_configure(&server, MBEDTLS_SSL_IS_SERVER, fd, NULL);
	if (!r)
		r = handshake(&server);
	if (!r)
		r = export_value(&server, value);
	if (!r)
		r = mbedtls_ssl_write(&server.ssl, value, sizeof(value)) == sizeof(value) ? 0 : -1;
	if (!r)
		mbedtls_ssl_close_notify(&server.ssl);
	end_free(&server);
	exit(r ? 1 : 0);
}

/*
 * Run a server in a child and a client here; returns the client's handshake
 * result. The client can be freed whatever this returns.
 */
static int connect_pair(const char *hostname, struct tls_end *client, pid_t *server)
{
	int fds[2];

	end_setup(client);
	*server = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds))
		return -1;
	*server = fork();
	if (*server == 0) {
		close(fds[0]);
		serve(fds[1]);
	}
	close(fds[1]);
	if (*server < 0) {
		close(fds[0]);
		return -1;
	}
	if (end_configure(client, MBEDTLS_SSL_IS_CLIENT, fds[0], hostname))
		return -1;
	return handshake(client);
}

static int server_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(tls13_handshake_and_matching_exporters)
{
	uint8_t mine[EXPORTER_LEN], theirs[EXPORTER_LEN], zero[EXPORTER_LEN] = { 0 };
	struct tls_end client;
	pid_t server;
	int r;

	r = connect_pair("broker.test", &client, &server);
	if (r) {
		char msg[128];

		mbedtls_strerror(r, msg, sizeof(msg));
		test_check(0, __FILE__, __LINE__, msg);
	}
	REQUIRE(r == 0);
	CHECK_STR(mbedtls_ssl_get_version(&client.ssl), "TLSv1.3");
	CHECK(export_value(&client, mine) == 0);
	CHECK(mbedtls_ssl_read(&client.ssl, theirs, sizeof(theirs)) == sizeof(theirs));
	CHECK_MEM(mine, theirs, sizeof(mine));
	CHECK(memcmp(mine, zero, sizeof(mine)) != 0);
	end_free(&client);
	CHECK(server_status(server) == 0);
}

TEST(tls13_client_refuses_a_certificate_for_another_name)
{
	struct tls_end client;
	pid_t server;
	int r;

	r = connect_pair("not-the-broker.test", &client, &server);
	CHECK(r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
	CHECK(mbedtls_ssl_get_verify_result(&client.ssl) & MBEDTLS_X509_BADCERT_CN_MISMATCH);
	end_free(&client);
	/* The server saw its handshake fail. */
	CHECK(server_status(server) == 1);
}
