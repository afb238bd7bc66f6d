// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fake-kds: AMD's Key Distribution Service as the broker sees it, on
 * loopback with real TLS (tests/data/tls, host name broker.test), for the
 * simulator's chip. It answers
 *
 *	GET /vcek/v1/PRODUCT/cert_chain		the state's ASK then ARK, PEM
 *	GET /vcek/v1/PRODUCT/HWID?blSPL=..	a VCEK issued on demand, DER
 *
 * signing VCEKs with the state's ASK through the simulator's own
 * certificate code, so they are exactly what snp-sim issues. A hwID that
 * is not the state's chip gets 404, as KDS answers for a chip it does not
 * know. One connection at a time, each bounded; one request each.
 *
 * usage: fake-kds --state DIR [--listen 127.0.0.1:0] [--port-file F]
 *		   [--throttle N] [--busy N] [--log F] [--bad tcb|hwid|signer]
 *
 * --throttle N answers the first N requests 429 with Retry-After: 1, then
 * --busy N the next N 503 without it; --log appends "METHOD PATH STATUS"
 * per request.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <psa/crypto.h>

#include "snp/fdio.h"
#include "snp/sim/internal.h"
#include "tls/http.h"
#include "tls/tls.h"

enum {
	CONN_TIMEOUT_MS = 5000,
	ACCEPT_POLL_MS = 200,
	BODY_MAX = 16 * 1024,
	PATH_LEN = 4096,
};

/* What a misbehaving KDS gets wrong in the VCEKs it issues. */
enum bad_mode { BAD_NONE = 0, BAD_TCB, BAD_HWID, BAD_SIGNER };

struct opts {
	const char *state, *listen, *port_file, *log;
	unsigned long throttle, busy;
	enum bad_mode bad;
};

struct kds {
	struct opts o;
	struct sim_state st;
	struct sim_rng rng;
	uint8_t chip_id[SNP_CHIP_ID_SIZE];
	struct tls_server_ctx *tls;
	FILE *log;
	unsigned long requests;
};

struct answer {
	int status;
	const char *type;
	uint8_t *body;
	size_t len;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int fail(const char *what, const struct snp_err *err)
{
	fprintf(stderr, "fake-kds: %s: %s\n", what, err->msg);
	return 1;
}

/* Wait for what a non-blocking TLS call asked for, within dl. */
static int wait_io(struct tls_conn *conn, ssize_t want, const struct snp_deadline *dl)
{
	struct pollfd p = {
		.fd = tls_conn_fd(conn),
		.events = want == TLS_WANT_WRITE ? POLLOUT : POLLIN,
	};
	int left = snp_deadline_left_ms(dl);

	if (!left || poll(&p, 1, left) <= 0)
		return -ETIMEDOUT;
	return 0;
}

/* n from a non-blocking call: 1 for progress, 0 to call again (now ready), -1 to give up. */
static int progress(struct tls_conn *conn, ssize_t n, const struct snp_deadline *dl)
{
	if (n > 0)
		return 1;
	if ((n == TLS_WANT_READ || n == TLS_WANT_WRITE) && !wait_io(conn, n, dl))
		return 0;
	return -1;
}

static int handshake(struct tls_conn *conn, const struct snp_deadline *dl)
{
	int ret;

	while ((ret = tls_conn_handshake(conn, NULL)) != 0)
		if (progress(conn, ret, dl) < 0)
			return -1;
	return 0;
}

/* The request's head, at most HTTP_HEADER_MAX bytes. */
static int read_request(struct tls_conn *conn, struct http_request *req,
			const struct snp_deadline *dl)
{
	char buf[HTTP_HEADER_MAX];
	size_t len = 0;
	int ret = 0, p;
	ssize_t n;

	while (ret == 0 && len < sizeof(buf)) {
		n = tls_conn_read(conn, buf + len, sizeof(buf) - len);
		p = progress(conn, n, dl);
		if (p < 0)
			return -1;
		if (!p)
			continue;
		len += (size_t)n;
		ret = http_request_parse(buf, len, sizeof(buf), req, NULL);
	}
	return ret == 1 ? 0 : -1;
}

static int write_all(struct tls_conn *conn, const void *data, size_t len,
		     const struct snp_deadline *dl)
{
	const uint8_t *p = data;
	ssize_t n;
	int r;

	while (len) {
		n = tls_conn_write(conn, p, len);
		r = progress(conn, n, dl);
		if (r < 0)
			return -1;
		if (r) {
			p += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

static int send_answer(struct tls_conn *conn, const struct answer *a, const struct snp_deadline *dl)
{
	static const char retry_after[] = "Retry-After: 1\r\n\r\n";
	char head[512];
	int n;

	n = http_response_head(head, sizeof(head), a->status, a->type, a->len, true);
	if (n < 4 || (size_t)n + sizeof(retry_after) > sizeof(head))
		return -1;
	/* A 429 says when to come back: before the blank line ending the head. */
	if (a->status == 429) {
		memcpy(head + n - 2, retry_after, sizeof(retry_after) - 1);
		n += (int)sizeof(retry_after) - 3;
	}
	if (write_all(conn, head, (size_t)n, dl))
		return -1;
	return write_all(conn, a->body, a->len, dl);
}

static int pem_append(char **buf, size_t *len, const uint8_t *der, size_t der_len)
{
	char *pem, *grown;
	size_t n;

	if (sim_cert_pem(der, der_len, &pem, NULL))
		return -1;
	n = strlen(pem);
	grown = realloc(*buf, *len + n);
	if (grown) {
		memcpy(grown + *len, pem, n);
		*buf = grown;
		*len += n;
	}
	free(pem);
	return grown ? 0 : -1;
}

static void cert_chain(struct kds *k, struct answer *a)
{
	char *pem = NULL;
	size_t len = 0;

	if (pem_append(&pem, &len, k->st.ask_der, k->st.ask_der_len) ||
	    pem_append(&pem, &len, k->st.ark_der, k->st.ark_der_len)) {
		free(pem);
		a->status = 500;
		return;
	}
	*a = (struct answer){ 200, "application/x-pem-file", (uint8_t *)pem, len };
}

/* "name=decimal" at *q (then '&' or the end), 0..255. */
static int query_spl(const char **q, const char *name, uint8_t *out)
{
	size_t n = strlen(name);
	unsigned long v;
	char *end;

	if (strncmp(*q, name, n) || (*q)[n] != '=' || (*q)[n + 1] < '0' || (*q)[n + 1] > '9')
		return -1;
	errno = 0;
	v = strtoul(*q + n + 1, &end, 10);
	if (errno || v > 255 || (*end && *end != '&'))
		return -1;
	*out = (uint8_t)v;
	*q = *end ? end + 1 : end;
	return 0;
}

/* AMD's query, in AMD's order; Turin starts with fmcSPL. */
static int parse_tcb(const char *q, enum snp_product product, uint64_t *raw)
{
	struct snp_tcb tcb = { 0 };

	if (product == SNP_PRODUCT_TURIN && query_spl(&q, "fmcSPL", &tcb.fmc))
		return -1;
	if (query_spl(&q, "blSPL", &tcb.bootloader) || query_spl(&q, "teeSPL", &tcb.tee) ||
	    query_spl(&q, "snpSPL", &tcb.snp) || query_spl(&q, "ucodeSPL", &tcb.microcode) || *q)
		return -1;
	*raw = snp_tcb_encode(&tcb, product);
	return 0;
}

static int issue_vcek(struct kds *k, const uint8_t *hwid, uint64_t tcb, struct answer *a)
{
	uint8_t chip[SNP_CHIP_ID_SIZE];
	struct sim_cert_req req;
	mbedtls_pk_context vek;
	struct snp_err err = { 0 };
	int ret;

	memcpy(chip, hwid, sizeof(chip));
	if (k->o.bad == BAD_HWID)
		chip[0] ^= 1;
	req = (struct sim_cert_req){
		.kind = SIM_CERT_VCEK, .product = k->st.product, .not_before = k->st.not_before,
		.subject = &vek, .issuer = k->o.bad == BAD_SIGNER ? &k->st.asvk : &k->st.ask,
		.tcb = k->o.bad == BAD_TCB ? tcb + 1 : tcb, .hwid = chip,
	};
	mbedtls_pk_init(&vek);
	ret = sim_derive_vek(k->st.chip_secret, &req, &vek, &k->rng, &err);
	if (!ret)
		ret = sim_cert_issue(&req, &k->rng.drbg, &a->body, &a->len, &err);
	mbedtls_pk_free(&vek);
	if (ret) {
		fprintf(stderr, "fake-kds: issuing a VCEK: %s\n", err.msg);
		a->status = 500;
		return ret;
	}
	a->status = 200;
	a->type = "application/octet-stream";
	return 0;
}

/* HWID?query: the VCEK of this state's chip, 404 for any other. */
static void vcek(struct kds *k, const char *rest, struct answer *a)
{
	size_t want = snp_chip_id_len(k->st.product), n;
	uint8_t hwid[SNP_CHIP_ID_SIZE] = { 0 };
	const char *q = strchr(rest, '?');
	char hex[2 * SNP_CHIP_ID_SIZE + 1];
	uint64_t tcb;

	a->status = 400;
	if (!q || (size_t)(q - rest) >= sizeof(hex))
		return;
	memcpy(hex, rest, (size_t)(q - rest));
	hex[q - rest] = '\0';
	if (snp_unhex(hex, hwid, sizeof(hwid), &n) || parse_tcb(q + 1, k->st.product, &tcb))
		return;
	a->status = 404;
	if (n != want || memcmp(hwid, k->chip_id, want))
		return;
	issue_vcek(k, hwid, tcb, a);
}

static void route(struct kds *k, const struct http_request *req, struct answer *a)
{
	char prefix[64];
	size_t n;

	*a = (struct answer){ .status = 404, .type = "text/plain" };
	k->requests++;
	if (k->requests <= k->o.throttle + k->o.busy) {
		a->status = k->requests <= k->o.throttle ? 429 : 503;
		return;
	}
	if (strcmp(req->method, "GET")) {
		a->status = 405;
		return;
	}
	n = (size_t)snprintf(prefix, sizeof(prefix), "/vcek/v1/%s/",
			     snp_product_name(k->st.product));
	if (strncmp(req->path, prefix, n))
		return;
	if (!strcmp(req->path + n, "cert_chain"))
		cert_chain(k, a);
	else
		vcek(k, req->path + n, a);
}

static void serve_conn(struct kds *k, int fd)
{
	struct http_request req;
	struct tls_conn *conn;
	struct snp_deadline dl;
	struct answer a = { 0 };
	struct snp_err err = { 0 };

	snp_deadline_start(&dl, CONN_TIMEOUT_MS);
	if (tls_conn_accept(&conn, k->tls, fd, &err)) {
		fail("accepting", &err);
		return;
	}
	if (handshake(conn, &dl) || read_request(conn, &req, &dl))
		goto out;
	route(k, &req, &a);
	if (k->log) {
		fprintf(k->log, "%s %s %d\n", req.method, req.path, a.status);
		fflush(k->log);
	}
	send_answer(conn, &a, &dl);
out:
	free(a.body);
	tls_conn_free(conn);
}

static int listen_on(const char *addr, int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char host[64];
	const char *colon = strrchr(addr, ':');
	int fd, one = 1;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* The port, written whole (a temporary file renamed) so readers never see half. */
static int write_port(const char *path, int port)
{
	char tmp[PATH_LEN], text[16];
	int n = snprintf(text, sizeof(text), "%d\n", port);
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ret = snp_write_all(fd, text, (size_t)n);
	close(fd);
	return ret || rename(tmp, path) ? -1 : 0;
}

static void serve(struct kds *k, int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	while (!stop) {
		if (poll(&p, 1, ACCEPT_POLL_MS) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			serve_conn(k, fd);
	}
}

static int parse_bad(const char *s, enum bad_mode *bad)
{
	static const char *const names[] = { [BAD_TCB] = "tcb", [BAD_HWID] = "hwid",
					      [BAD_SIGNER] = "signer" };

	for (size_t i = BAD_TCB; i <= BAD_SIGNER; i++)
		if (!strcmp(s, names[i])) {
			*bad = (enum bad_mode)i;
			return 0;
		}
	return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "throttle", required_argument, NULL, 't' },
		{ "busy", required_argument, NULL, 'u' },
		{ "log", required_argument, NULL, 'g' },
		{ "bad", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*o = (struct opts){ .listen = "127.0.0.1:0" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->state = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'p': o->port_file = optarg; break;
		case 'g': o->log = optarg; break;
		case 't':
		case 'u':
			*(c == 't' ? &o->throttle : &o->busy) = strtoul(optarg, &end, 10);
			if (*end || !*optarg)
				return -1;
			break;
		case 'b':
			if (parse_bad(optarg, &o->bad))
				return -1;
			break;
		default:
			return -1;
		}
	}
	return o->state && optind == argc ? 0 : -1;
}

static int setup(struct kds *k, struct snp_err *err)
{
	int ret;

	if (psa_crypto_init() != PSA_SUCCESS)
		return snp_errf(err, -EIO, "PSA crypto failed to start");
	ret = sim_rng_init(&k->rng, "fake-kds", err);
	if (!ret)
		ret = sim_state_load(&k->st, k->o.state, &k->rng, err);
	if (!ret)
		ret = sim_derive_chip_id(k->st.chip_secret, k->st.product, k->chip_id, err);
	if (!ret && k->o.bad == BAD_SIGNER && !k->st.has_asvk)
		ret = snp_errf(err, -EINVAL, "--bad signer needs a state with an ASVK");
	if (!ret)
		ret = tls_server_ctx_new(&k->tls, TESTS_DIR "/data/tls/server.pem",
					 TESTS_DIR "/data/tls/server.key", err);
	if (!ret && k->o.log && !(k->log = fopen(k->o.log, "a")))
		ret = snp_errf(err, -errno, "%s: %s", k->o.log, strerror(errno));
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct kds k = { 0 };
	struct snp_err err = { 0 };
	int lfd = -1, port = 0, status = 1;

	if (parse_opts(argc, argv, &k.o)) {
		fputs("usage: fake-kds --state DIR [--listen 127.0.0.1:0] [--port-file F]\n"
		      "                [--throttle N] [--busy N] [--log F] [--bad tcb|hwid|signer]\n",
		      stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (setup(&k, &err)) {
		fail(k.o.state, &err);
		goto out;
	}
	lfd = listen_on(k.o.listen, &port);
	if (lfd < 0) {
		fprintf(stderr, "fake-kds: cannot listen on %s: %s\n", k.o.listen, strerror(errno));
		goto out;
	}
	if (k.o.port_file && write_port(k.o.port_file, port)) {
		fprintf(stderr, "fake-kds: cannot write %s\n", k.o.port_file);
		goto out;
	}
	serve(&k, lfd);
	status = 0;
out:
	if (lfd >= 0)
		close(lfd);
	if (k.log)
		fclose(k.log);
	tls_server_ctx_free(k.tls);
	sim_state_free(&k.st);
	sim_rng_free(&k.rng);
	return status;
}
