// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * broker-poke: clients that misbehave, for tests/broker_test.sh.
 *
 *   broker-poke raw --url URL --ca FILE [--connect-to ADDR] FILE
 *	Send FILE's bytes as they are on one TLS connection and print the
 *	response: "status N" and the body on the next line.
 *   broker-poke stall --connect ADDR:PORT
 *	Open a TCP connection, send the first bytes of a TLS record and no
 *	more; print "closed after N ms" once the server drops it.
 *   broker-poke trickle --url URL --ca FILE [--connect-to ADDR] --interval-ms N
 *	Finish the handshake, then send a request head one byte every N ms
 *	until the server answers; print "status N after M ms".
 *
 * Every wait is bounded (60 s in all). Exit 0 when the server answered or
 * closed, 1 otherwise, 2 for usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <psa/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/client.h"
#include "snp/deadline.h"
#include "snp/fdio.h"
#include "tls/http.h"
#include "tls/tls.h"

#define POKE_BOUND_MS	60000
#define RAW_MAX		(2 * 1024 * 1024)

struct poke {
	struct proto_client_opts opts;
	const char *connect;
	int interval_ms;
	struct snp_deadline dl;
};

static int fail(const char *what, const struct snp_err *err)
{
	fprintf(stderr, "broker-poke: %s: %s\n", what, err->msg);
	return 1;
}

static int cmd_raw(struct poke *p, const char *path)
{
	struct proto_session *s = NULL;
	struct http_client_response resp;
	struct snp_err err = { 0 };
	uint8_t *req;
	size_t len;
	int ret;

	if (snp_read_file(path, RAW_MAX, &req, &len, &err))
		return fail(path, &err);
	ret = proto_session_open(&s, &p->opts, &p->dl, &err);
	if (!ret)
		ret = proto_session_raw(s, req, len, &p->dl, &resp, &err);
	free(req);
	proto_session_close(s);
	if (ret)
		return fail("raw request", &err);
	printf("status %d\n%s\n", resp.status, resp.body ? (const char *)resp.body : "");
	http_client_response_free(&resp);
	return 0;
}

/* Wait for the peer to close fd (EOF or reset); 0, or -ETIMEDOUT. */
static int wait_closed(int fd, const struct snp_deadline *dl)
{
	char buf[512];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = snp_deadline_left_ms(dl);
		ssize_t n;

		if (!left || poll(&pfd, 1, left) == 0)
			return -ETIMEDOUT;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return 0;
	}
}

static int cmd_stall(struct poke *p)
{
	/* A TLS handshake record's header, and nothing of the record itself. */
	static const uint8_t partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	unsigned int port;
	int64_t start;
	int fd, ret;

	if (sscanf(p->connect, "%63[0-9.]:%u", host, &port) != 2 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "broker-poke: --connect wants IPV4:PORT\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    snp_write_all(fd, partial, sizeof(partial))) {
		perror("broker-poke: stall");
		return 1;
	}
	start = snp_now_ms();
	ret = wait_closed(fd, &p->dl);
	close(fd);
	if (ret) {
		fprintf(stderr, "broker-poke: still open after %d ms\n", POKE_BOUND_MS);
		return 1;
	}
	printf("closed after %lld ms\n", (long long)(snp_now_ms() - start));
	return 0;
}

/* The status of the response on conn (read to its end), or -1. */
static int read_status(struct tls_conn *conn, const struct snp_deadline *dl)
{
	char buf[4096];
	size_t len = 0;
	int status = -1;

	for (;;) {
		ssize_t n = tls_conn_read_some(conn, buf + len, sizeof(buf) - 1 - len, dl, NULL);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d ", &status) != 1)
		return -1;
	return status;
}

/* One byte at a time, interval_ms apart, until the server answers or closes. */
static int cmd_trickle(struct poke *p)
{
	static const char head[] = "POST /v1/challenge HTTP/1.1\r\nHost: broker.test\r\n"
				   "Content-Type: application/json\r\nContent-Length: 2\r\n"
				   "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
				   "\r\n{}";
	struct tls_client_opts topts = { .ca_file = p->opts.ca_file };
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn = NULL;
	struct http_url url;
	struct snp_err err = { 0 };
	int64_t start;
	int ret, status;

	ret = http_url_parse(p->opts.url, &url, &err);
	if (!ret)
		ret = tls_client_ctx_new(&ctx, &topts, &err);
	if (!ret)
		ret = tls_client_connect(&conn, ctx, url.host, url.port, p->opts.connect_addr,
					 &p->dl, &err);
	if (ret) {
		tls_client_ctx_free(ctx);
		return fail("connect", &err);
	}
	start = snp_now_ms();
	for (size_t i = 0; i < sizeof(head) - 1; i++) {
		struct pollfd pfd = { .fd = tls_conn_fd(conn), .events = POLLIN };

		if (tls_conn_write_all(conn, head + i, 1, &p->dl, &err) ||
		    poll(&pfd, 1, p->interval_ms) != 0)
			break;
	}
	status = read_status(conn, &p->dl);
	printf("status %d after %lld ms\n", status, (long long)(snp_now_ms() - start));
	tls_conn_free(conn);
	tls_client_ctx_free(ctx);
	return status > 0 ? 0 : 1;
}

static int usage(void)
{
	fputs("usage: broker-poke raw --url URL --ca FILE [--connect-to ADDR] FILE\n"
	      "       broker-poke stall --connect IPV4:PORT\n"
	      "       broker-poke trickle --url URL --ca FILE [--connect-to ADDR] --interval-ms N\n",
	      stderr);
	return 2;
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "ca", required_argument, NULL, 'a' },
		{ "connect-to", required_argument, NULL, 't' },
		{ "connect", required_argument, NULL, 'c' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct poke p = { .interval_ms = 100 };
	int c;

	if (argc < 2)
		return usage();
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': p.opts.url = optarg; break;
		case 'a': p.opts.ca_file = optarg; break;
		case 't': p.opts.connect_addr = optarg; break;
		case 'c': p.connect = optarg; break;
		case 'i': p.interval_ms = atoi(optarg); break;
		default: return usage();
		}
	}
	if (psa_crypto_init() != PSA_SUCCESS)
		return 1;
	snp_deadline_start(&p.dl, POKE_BOUND_MS);
	if (!strcmp(argv[1], "raw") && p.opts.url && p.opts.ca_file && optind == argc - 1)
		return cmd_raw(&p, argv[optind]);
	if (!strcmp(argv[1], "stall") && p.connect && optind == argc)
		return cmd_stall(&p);
	if (!strcmp(argv[1], "trickle") && p.opts.url && p.opts.ca_file && optind == argc &&
	    p.interval_ms > 0)
		return cmd_trickle(&p);
	return usage();
}
