// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The broker's HTTPS engine against real TLS clients on loopback (the
 * fixtures of tests/data/tls), well-behaved and not: clients that stall in
 * the handshake, trickle a head or a body, send too much, too many, or
 * garbage; the connection cap, graceful stop (from a signal too) and reload.
 * Timeouts are short (100-500 ms) so that the whole file runs in seconds.
 */
#define _GNU_SOURCE	/* vasprintf */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "broker/log.h"
#include "broker/server.h"
#include "proto/proto.h"
#include "snp/deadline.h"
#include "tests/harness.h"

#ifndef TESTS_DIR
#error "TESTS_DIR must be defined by the build"
#endif

#define FIXTURE(name)	TESTS_DIR "/data/tls/" name
#define HOST		"broker.test"
#define CLIENT_MS	30000	/* generous: the machine may be busy (ASan, other suites) */
#define SLACK_MS	1000	/* how late a timeout may fire on a busy machine */
#define SLOW_MS		300

struct fixture {
	struct server *srv;
	pthread_t thread;
	int run_ret;
	int log_fd;
	unsigned int port;
	struct tls_client_ctx *client;
};

/* What the handler saw, over all connections. */
static atomic_int handler_calls;
static atomic_int in_slow_handler;
static atomic_int users_freed;

struct conn_count {
	unsigned int requests;
};

static void user_free(void *user)
{
	free(user);
	atomic_fetch_add(&users_freed, 1);
}

static void reply(struct server_exchange *x, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply(struct server_exchange *x, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&x->resp_body, fmt, ap);
	va_end(ap);
	x->status = status;
	x->resp_body_len = n > 0 ? (size_t)n : 0;
}

/*
 * /echo: the body back. /info: what the engine told the handler, and the
 * connection's own count kept in conn_user. /slow: /info after SLOW_MS.
 * /close: asks for the connection to close.
 */
static void test_handler(void *ctx, struct server_exchange *x)
{
	struct conn_count *cc = x->conn_user;

	(void)ctx;
	atomic_fetch_add(&handler_calls, 1);
	if (!cc) {
		cc = calloc(1, sizeof(*cc));
		x->conn_user = cc;
		x->conn_user_free = user_free;
	}
	cc->requests++;
	if (!strcmp(x->path, "/echo")) {
		x->resp_body = malloc(x->body_len + 1);
		memcpy(x->resp_body, x->body, x->body_len + 1);
		x->resp_body_len = x->body_len;
		x->status = 200;
		return;
	}
	if (!strcmp(x->path, "/slow")) {
		atomic_store(&in_slow_handler, 1);
		usleep(SLOW_MS * 1000);
	}
	x->close = !strcmp(x->path, "/close");
	if (!strcmp(x->path, "/info") || !strcmp(x->path, "/slow") || x->close) {
		reply(x, 200, "{\"n\":%u,\"mine\":%u,\"len\":%zu,\"peer\":\"%s\",\"nul\":%d}",
		      x->request_index, cc->requests, x->body_len, x->peer,
		      x->body[x->body_len] == 0);
		return;
	}
	server_reply_error(x, 404, "not-found", "No such path.");
}

static void quick_limits(struct server_limits *lim)
{
	server_limits_default(lim);
	lim->handshake_timeout_ms = 5000;	/* a handshake costs real CPU; the test of it sets its own */
	lim->header_timeout_ms = 500;
	lim->body_timeout_ms = 300;
	lim->idle_timeout_ms = 2000;
	lim->shutdown_grace_ms = 2000;
}

static void *run_thread(void *arg)
{
	struct fixture *f = arg;
	struct snp_err err = { 0 };

	f->run_ret = server_run(f->srv, &err);
	return NULL;
}

static int new_server(struct fixture *f, const struct server_limits *lim, unsigned int threads,
		      server_reload_fn reload, void *reload_ctx)
{
	static const char *const listen[] = { "127.0.0.1:0" };
	struct tls_client_opts copts = { .ca_file = FIXTURE("ca.pem") };
	struct server_opts o = {
		.listen = listen, .n_listen = 1, .threads = threads, .limits = *lim,
		.handler = test_handler, .reload = reload, .reload_ctx = reload_ctx,
	};
	struct snp_err err = { 0 };
	int ret;

	memset(f, 0, sizeof(*f));
	f->log_fd = open(test_path("server.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	log_setup(CONFIG_LOG_TEXT, CONFIG_LOG_DEBUG, f->log_fd);
	ret = tls_server_ctx_new(&o.tls, FIXTURE("server.pem"), FIXTURE("server.key"), &err);
	if (!ret)
		ret = server_new(&f->srv, &o, &err);
	if (!ret)
		ret = tls_client_ctx_new(&f->client, &copts, &err);
	if (ret) {
		fprintf(stderr, "server fixture: %s\n", err.msg);
		return ret;
	}
	f->port = server_port(f->srv, 0);
	return -pthread_create(&f->thread, NULL, run_thread, f);
}

static int start_server(struct fixture *f, const struct server_limits *lim, unsigned int threads)
{
	return new_server(f, lim, threads, NULL, NULL);
}

/* Stop, wait for server_run and free; how long server_run took to return. */
static int64_t stop_server(struct fixture *f)
{
	int64_t start = snp_now_ms();

	server_stop(f->srv);
	pthread_join(f->thread, NULL);
	start = snp_now_ms() - start;
	server_free(f->srv);
	tls_client_ctx_free(f->client);
	close(f->log_fd);
	return start;
}

static int tls_connect(const struct fixture *f, struct tls_conn **conn)
{
	struct snp_deadline dl;
	struct snp_err err = { 0 };
	int ret;

	snp_deadline_start(&dl, CLIENT_MS);
	ret = tls_client_connect(conn, f->client, HOST, f->port, "127.0.0.1", &dl, &err);
	if (ret)
		fprintf(stderr, "connect: %s\n", err.msg);
	return ret;
}

static int post(const struct fixture *f, struct tls_conn *conn, const char *path, const char *body,
		struct http_client_response *resp)
{
	struct snp_deadline dl;
	struct snp_err err = { 0 };
	int ret;

	snp_deadline_start(&dl, CLIENT_MS);
	ret = http_client_request(conn, HOST, f->port, "POST", path, body, strlen(body),
				  PROTO_RESPONSE_MAX, &dl, resp, &err);
	if (ret)
		fprintf(stderr, "request %s: %s\n", path, err.msg);
	return ret;
}

/* The "n" member of an /info answer, or -1. */
static int json_int(const struct http_client_response *resp, const char *key)
{
	struct json_object *o = json_tokener_parse((const char *)resp->body), *v;
	int n = -1;

	if (o && json_object_object_get_ex(o, key, &v))
		n = json_object_get_int(v);
	json_object_put(o);
	return n;
}

static int raw_tcp(unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* Milliseconds until the server closes fd (EOF or reset), or -1 after 5 s. */
static int64_t ms_until_closed(int fd)
{
	int64_t start = snp_now_ms();
	char buf[256];
	ssize_t n;

	do {
		n = recv(fd, buf, sizeof(buf), 0);
	} while (n > 0);
	if (n < 0 && errno == EAGAIN)
		return -1;
	return snp_now_ms() - start;
}

/* Responses read off a raw TLS connection (what http_client_request would refuse to send). */
struct reader {
	struct tls_conn *conn;
	char buf[HTTP_HEADER_MAX + PROTO_RESPONSE_MAX];
	size_t len;
};

struct raw_response {
	int status;
	bool close;
	char reason[32];
	char message[256];
};

/* The next response; 0, or a negative errno (-ECONNRESET: closed before a whole one). */
static int read_response(struct reader *rd, struct raw_response *out)
{
	struct http_response h;
	struct snp_deadline dl;
	struct snp_err err = { 0 };
	struct proto_error e = { 0 };
	size_t whole;
	int ret;

	snp_deadline_start(&dl, CLIENT_MS);
	for (;;) {
		ssize_t n;

		ret = http_response_parse(rd->buf, rd->len, HTTP_HEADER_MAX, &h, &err);
		if (ret < 0)
			return -EBADMSG;
		if (ret == 1 && rd->len >= h.head_len + h.content_length)
			break;
		n = tls_conn_read_some(rd->conn, rd->buf + rd->len, sizeof(rd->buf) - rd->len, &dl,
				       &err);
		if (n <= 0)
			return n ? (int)n : -ECONNRESET;
		rd->len += (size_t)n;
	}
	out->status = h.status;
	out->close = h.close;
	if (!proto_error_decode(rd->buf + h.head_len, h.content_length, &e, &err)) {
		snprintf(out->reason, sizeof(out->reason), "%s", e.reason);
		snprintf(out->message, sizeof(out->message), "%s", e.message);
	} else {
		out->reason[0] = out->message[0] = 0;
	}
	whole = h.head_len + h.content_length;
	memmove(rd->buf, rd->buf + whole, rd->len - whole);
	rd->len -= whole;
	return 0;
}

static int send_raw(struct tls_conn *conn, const char *data, size_t len)
{
	struct snp_deadline dl;
	struct snp_err err = { 0 };

	snp_deadline_start(&dl, CLIENT_MS);
	return tls_conn_write_all(conn, data, len, &dl, &err);
}

/* A raw TLS connection to f, or NULL. */
static struct reader *reader_open(const struct fixture *f)
{
	struct reader *rd = calloc(1, sizeof(*rd));

	if (rd && tls_connect(f, &rd->conn)) {
		free(rd);
		rd = NULL;
	}
	return rd;
}

/* A one-loop server with lim, and a raw connection to it; NULL when either failed. */
static struct reader *serve_and_open(struct fixture *f, const struct server_limits *lim)
{
	return start_server(f, lim, 1) == 0 ? reader_open(f) : NULL;
}

static void reader_close(struct reader *rd)
{
	tls_conn_free(rd->conn);
	free(rd);
}

/*
 * Send text (a request left unfinished, or "" for nothing) and time the
 * 408 the server answers with; the connection must close after it.
 */
static int64_t time_408(struct reader *rd, const char *text, struct raw_response *resp)
{
	int64_t t0 = snp_now_ms();

	CHECK(!*text || send_raw(rd->conn, text, strlen(text)) == 0);
	CHECK(read_response(rd, resp) == 0);
	t0 = snp_now_ms() - t0;
	CHECK(resp->status == 408);
	CHECK_STR(resp->reason, "timeout");
	CHECK(resp->close);
	CHECK(read_response(rd, &(struct raw_response){ 0 }) == -ECONNRESET);
	return t0;
}

/* Send text over a fresh TLS connection and read the one response it gets. */
static int raw_exchange(const struct fixture *f, const char *text, size_t len,
			struct raw_response *out)
{
	struct reader *rd = reader_open(f);
	int ret = rd ? send_raw(rd->conn, text, len) : -ECONNREFUSED;

	if (!ret)
		ret = read_response(rd, out);
	if (rd)
		reader_close(rd);
	return ret;
}

TEST(server_echo_keepalive)
{
	struct server_limits lim;
	struct fixture f;
	struct tls_conn *conn = NULL;
	struct http_client_response r = { 0 };
	struct server_stats st;

	quick_limits(&lim);
	REQUIRE(start_server(&f, &lim, 2) == 0);
	CHECK(f.port != 0);
	REQUIRE(tls_connect(&f, &conn) == 0);
	CHECK(post(&f, conn, "/echo", "{\"a\":\"b\"}", &r) == 0);
	CHECK(r.status == 200);
	CHECK(r.body && !strcmp((char *)r.body, "{\"a\":\"b\"}"));
	CHECK(!r.close);
	http_client_response_free(&r);
	CHECK(post(&f, conn, "/info", "xyz", &r) == 0);
	CHECK(r.status == 200);
	CHECK(json_int(&r, "n") == 2);		/* same connection */
	CHECK(json_int(&r, "mine") == 2);	/* conn_user kept between requests */
	CHECK(json_int(&r, "len") == 3);
	CHECK(json_int(&r, "nul") == 1);
	CHECK(r.body && strstr((char *)r.body, "\"peer\":\"127.0.0.1:"));
	http_client_response_free(&r);
	CHECK(post(&f, conn, "/nothing", "{}", &r) == 0);
	CHECK(r.status == 404);
	http_client_response_free(&r);
	tls_conn_free(conn);
	server_get_stats(f.srv, &st);
	CHECK(st.accepted == 1);
	CHECK(st.requests == 3);
	stop_server(&f);
	/* The connection's data was handed to its destructor once. */
	CHECK(atomic_load(&users_freed) == 1);
}

/* Two requests in one write: the second is read from what mbedTLS already holds. */
TEST(server_pipelined)
{
	static const char two[] =
		"POST /info HTTP/1.1\r\nHost: broker.test\r\nContent-Length: 2\r\n\r\n{}"
		"POST /info HTTP/1.1\r\nHost: broker.test\r\nContent-Length: 0\r\n\r\n";
	struct server_limits lim;
	struct fixture f;
	struct reader *rd;
	struct raw_response a, b;

	quick_limits(&lim);
	REQUIRE((rd = serve_and_open(&f, &lim)) != NULL);
	CHECK(send_raw(rd->conn, two, strlen(two)) == 0);
	CHECK(read_response(rd, &a) == 0);
	CHECK(a.status == 200);
	CHECK(read_response(rd, &b) == 0);
	CHECK(b.status == 200);
	CHECK(atomic_load(&handler_calls) == 2);
	reader_close(rd);
	stop_server(&f);
}

struct many {
	const struct fixture *f;
	pthread_barrier_t *all_open;
	sem_t *handshakes;
	atomic_int *ok;
};

static void *many_client(void *arg)
{
	struct many *m = arg;
	struct tls_conn *conn = NULL;
	struct http_client_response r = { 0 };
	int good = 0;
	int ret;

	/*
	 * A few handshakes at a time: mbedTLS holds a PSA key slot for each
	 * one in flight on each side, and the key store has 32 of them.
	 */
	sem_wait(m->handshakes);
	ret = tls_connect(m->f, &conn);
	sem_post(m->handshakes);
	if (ret == 0 && post(m->f, conn, "/info", "{}", &r) == 0 && r.status == 200)
		good++;
	http_client_response_free(&r);
	/* Everyone connected and served once: all are open at the same time now. */
	pthread_barrier_wait(m->all_open);
	if (conn && post(m->f, conn, "/info", "{}", &r) == 0 && r.status == 200 &&
	    json_int(&r, "n") == 2)
		good++;
	http_client_response_free(&r);
	pthread_barrier_wait(m->all_open);
	tls_conn_free(conn);
	if (good == 2)
		atomic_fetch_add(m->ok, 1);
	return NULL;
}

TEST(server_256_concurrent_clients)
{
	enum { CLIENTS = 256 };
	struct server_limits lim;
	struct fixture f;
	pthread_t th[CLIENTS];
	pthread_barrier_t all_open;
	pthread_attr_t attr;
	atomic_int ok = 0;
	sem_t handshakes;
	struct many m = { &f, &all_open, &handshakes, &ok };
	struct server_stats st;
	int started = 0;
	int64_t t0 = snp_now_ms();

	server_limits_default(&lim);
	REQUIRE(start_server(&f, &lim, 0) == 0);
	pthread_barrier_init(&all_open, NULL, CLIENTS + 1);
	sem_init(&handshakes, 0, 8);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < CLIENTS; i++)
		if (pthread_create(&th[i], &attr, many_client, &m) == 0)
			started++;
	REQUIRE(started == CLIENTS);
	pthread_barrier_wait(&all_open);
	server_get_stats(f.srv, &st);
	CHECK(st.connections == CLIENTS);
	pthread_barrier_wait(&all_open);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(th[i], NULL);
	CHECK(atomic_load(&ok) == CLIENTS);
	server_get_stats(f.srv, &st);
	CHECK(st.accepted == CLIENTS);
	CHECK(st.requests == 2 * CLIENTS);
	fprintf(stderr, "%d clients, 2 requests each: %lld ms\n", CLIENTS,
		(long long)(snp_now_ms() - t0));
	stop_server(&f);
}

TEST(server_handshake_timeout)
{
	struct server_limits lim;
	struct fixture f;
	int64_t ms;
	int fd;

	quick_limits(&lim);
	lim.handshake_timeout_ms = 200;
	REQUIRE(start_server(&f, &lim, 1) == 0);
	fd = raw_tcp(f.port);
	REQUIRE(fd >= 0);
	ms = ms_until_closed(fd);	/* never a ClientHello */
	CHECK(ms >= 150);
	CHECK(ms >= 0 && ms < 200 + SLACK_MS);
	close(fd);
	stop_server(&f);
}

struct prompt {
	const struct fixture *f;
	atomic_int done;
	int served;
	int64_t worst_ms;
};

/*
 * A well-behaved client on the same loop: its answers must not wait for
 * the trickler. Only requests are timed (handshakes are CPU-bound, and
 * this machine may be busy with other tests).
 */
static void *prompt_client(void *arg)
{
	struct prompt *p = arg;
	struct tls_conn *conn = NULL;

	while (!atomic_load(&p->done)) {
		struct http_client_response r = { 0 };
		int64_t t0;

		if (!conn && tls_connect(p->f, &conn))
			break;
		t0 = snp_now_ms();
		if (post(p->f, conn, "/info", "{}", &r) == 0 && r.status == 200)
			p->served++;
		t0 = snp_now_ms() - t0;
		if (t0 > p->worst_ms)
			p->worst_ms = t0;
		if (r.close) {
			tls_conn_free(conn);
			conn = NULL;
		}
		http_client_response_free(&r);
		usleep(50 * 1000);
	}
	tls_conn_free(conn);
	return NULL;
}

TEST(server_header_trickle_timeout)
{
	static const char head[] = "POST /info HTTP/1.1\r\nHost: broker.test\r\nContent-Length: 2\r\n";
	struct server_limits lim;
	struct fixture f;
	struct prompt p = { .f = &f };
	struct reader *rd;
	struct raw_response resp = { 0 };
	pthread_t th;
	int64_t t0, ms;
	size_t i;

	quick_limits(&lim);
	/* One loop: both clients on it. */
	REQUIRE((rd = serve_and_open(&f, &lim)) != NULL);
	REQUIRE(pthread_create(&th, NULL, prompt_client, &p) == 0);
	t0 = snp_now_ms();
	/* A byte every 100 ms, until the server answers. */
	for (i = 0; i < sizeof(head) - 1; i++) {
		struct pollfd pfd = { .fd = tls_conn_fd(rd->conn), .events = POLLIN };

		if (send_raw(rd->conn, head + i, 1) || poll(&pfd, 1, 100) > 0)
			break;
	}
	time_408(rd, "", &resp);
	ms = snp_now_ms() - t0;
	atomic_store(&p.done, 1);
	pthread_join(th, NULL);
	CHECK(ms >= 450 && ms < 500 + SLACK_MS);
	CHECK(i < sizeof(head) - 1);
	fprintf(stderr, "trickle cut after %lld ms; meanwhile %d requests, worst %lld ms\n",
		(long long)ms, p.served, (long long)p.worst_ms);
	/* A loop blocked by the trickler would have held them for the whole header timeout. */
	CHECK(p.served >= 3);
	CHECK(p.worst_ms < 300);
	CHECK(atomic_load(&handler_calls) == p.served);
	reader_close(rd);
	stop_server(&f);
}

/*
 * A kept-alive connection with no next request gets a 408 after
 * idle_timeout; one whose body stops coming, after body_timeout. Both close.
 */
TEST(server_idle_and_body_timeouts)
{
	static const char req[] = "POST /info HTTP/1.1\r\nHost: broker.test\r\nContent-Length: 0\r\n\r\n";
	static const char part[] =
		"POST /echo HTTP/1.1\r\nHost: broker.test\r\nContent-Length: 100\r\n\r\n0123456789";
	struct server_limits lim;
	struct fixture f;
	struct reader *rd;
	struct raw_response resp = { 0 };
	int64_t ms;

	quick_limits(&lim);
	lim.idle_timeout_ms = 300;
	lim.body_timeout_ms = 400;
	lim.header_timeout_ms = 3000;
	REQUIRE((rd = serve_and_open(&f, &lim)) != NULL);
	CHECK(send_raw(rd->conn, req, strlen(req)) == 0);
	CHECK(read_response(rd, &resp) == 0);
	CHECK(resp.status == 200 && !resp.close);
	ms = time_408(rd, "", &resp);
	CHECK(ms >= 250 && ms < 300 + SLACK_MS);
	reader_close(rd);

	REQUIRE((rd = reader_open(&f)) != NULL);
	ms = time_408(rd, part, &resp);
	CHECK(strstr(resp.message, "body") != NULL);
	CHECK(ms >= 350 && ms < 400 + SLACK_MS);
	CHECK(atomic_load(&handler_calls) == 1);
	reader_close(rd);
	stop_server(&f);
}

TEST(server_body_too_large)
{
	static const char head[] =
		"POST /echo HTTP/1.1\r\nHost: broker.test\r\nContent-Length: 2048\r\n\r\n";
	struct server_limits lim;
	struct fixture f;
	struct raw_response resp = { 0 };
	int64_t t0 = snp_now_ms();

	quick_limits(&lim);
	lim.max_body = 1024;
	lim.body_timeout_ms = 3000;
	REQUIRE(start_server(&f, &lim, 1) == 0);
	/* No body follows: the answer comes without waiting for one. */
	CHECK(raw_exchange(&f, head, strlen(head), &resp) == 0);
	CHECK(resp.status == 413);
	CHECK_STR(resp.reason, "body-too-large");
	CHECK(resp.close);
	CHECK(snp_now_ms() - t0 < lim.body_timeout_ms);
	CHECK(atomic_load(&handler_calls) == 0);
	stop_server(&f);
}

TEST(server_head_too_large)
{
	struct server_limits lim;
	struct fixture f;
	struct raw_response resp = { 0 };
	char *head = malloc(9 * 1024 + 64);
	size_t len;

	quick_limits(&lim);
	REQUIRE(start_server(&f, &lim, 1) == 0);
	len = (size_t)sprintf(head, "POST /echo HTTP/1.1\r\nHost: broker.test\r\n");
	while (len < 9 * 1024)
		len += (size_t)sprintf(head + len, "X-Filler: %060d\r\n", 0);
	len += (size_t)sprintf(head + len, "Content-Length: 0\r\n\r\n");
	CHECK(raw_exchange(&f, head, len, &resp) == 0);
	CHECK(resp.status == 431);
	CHECK_STR(resp.reason, "headers-too-large");
	CHECK(atomic_load(&handler_calls) == 0);
	free(head);
	stop_server(&f);
}

TEST(server_bad_requests)
{
	static const struct {
		const char *text;
		int status;
		const char *reason;
	} cases[] = {
		{ "GARBAGE\r\n\r\n", 400, "bad-request" },
		{ "\x01\x02\x03 / HTTP/1.1\r\n\r\n", 400, "bad-request" },
		{ "POST /echo HTTP/1.1\r\nHost: broker.test\r\n\r\n", 411, "length-required" },
		{ "POST /echo HTTP/1.1\r\nHost: broker.test\r\nTransfer-Encoding: chunked\r\n\r\n",
		  501, "bad-request" },
	};
	struct server_limits lim;
	struct fixture f;
	int fd;

	quick_limits(&lim);
	REQUIRE(start_server(&f, &lim, 1) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct raw_response resp = { 0 };

		CHECK(raw_exchange(&f, cases[i].text, strlen(cases[i].text), &resp) == 0);
		CHECK(resp.status == cases[i].status);
		CHECK_STR(resp.reason, cases[i].reason);
		CHECK(resp.close);
		CHECK(resp.message[0] != 0);
	}
	CHECK(atomic_load(&handler_calls) == 0);
	/* Plain HTTP on the TLS port: no answer, a closed connection. */
	fd = raw_tcp(f.port);
	REQUIRE(fd >= 0);
	CHECK(write(fd, "POST / HTTP/1.1\r\n\r\n", 19) == 19);
	CHECK(ms_until_closed(fd) >= 0);
	close(fd);
	stop_server(&f);
}

TEST(server_connection_cap)
{
	enum { CAP = 4 };
	struct server_limits lim;
	struct fixture f;
	struct tls_conn *conns[CAP] = { 0 }, *extra = NULL;
	struct http_client_response r = { 0 };
	struct server_stats st;
	size_t log_len;
	char *log;
	int fd;

	quick_limits(&lim);
	lim.max_connections = CAP;
	REQUIRE(start_server(&f, &lim, 2) == 0);
	for (int i = 0; i < CAP; i++) {
		REQUIRE(tls_connect(&f, &conns[i]) == 0);
		CHECK(post(&f, conns[i], "/info", "{}", &r) == 0 && r.status == 200);
		http_client_response_free(&r);
	}
	/* The cap+1th is closed at once, TLS or not. */
	fd = raw_tcp(f.port);
	REQUIRE(fd >= 0);
	CHECK(ms_until_closed(fd) >= 0);
	close(fd);
	CHECK(tls_connect(&f, &extra) != 0);
	server_get_stats(f.srv, &st);
	CHECK(st.refused == 2);
	CHECK(st.connections == CAP);
	/* The first CAP are still served. */
	for (int i = 0; i < CAP; i++) {
		CHECK(post(&f, conns[i], "/info", "{}", &r) == 0 && r.status == 200);
		CHECK(json_int(&r, "n") == 2);
		http_client_response_free(&r);
	}
	/* One leaves: its slot is free again once the server has seen it go. */
	tls_conn_free(conns[0]);
	for (int i = 0; i < 500; i++) {
		server_get_stats(f.srv, &st);
		if (st.connections < CAP)
			break;
		usleep(10 * 1000);
	}
	CHECK(st.connections == CAP - 1);
	CHECK(tls_connect(&f, &conns[0]) == 0);
	for (int i = 0; i < CAP; i++)
		tls_conn_free(conns[i]);
	stop_server(&f);
	/* Said once (at most once a second), with a count. */
	log = (char *)test_read_file(test_path("server.log"), 1 << 20, &log_len);
	log[log_len] = 0;
	CHECK(strstr(log, "connection cap reached") != NULL);
	CHECK(strstr(log, " count=1") != NULL);
	free(log);
}

TEST(server_sixteen_requests_per_connection)
{
	struct server_limits lim;
	struct fixture f;
	struct tls_conn *conn = NULL;
	struct http_client_response r = { 0 };

	quick_limits(&lim);
	REQUIRE(start_server(&f, &lim, 1) == 0);
	REQUIRE(tls_connect(&f, &conn) == 0);
	for (int i = 1; i <= SERVER_REQUESTS_MAX; i++) {
		CHECK(post(&f, conn, "/info", "{}", &r) == 0);
		CHECK(r.status == 200);
		CHECK(json_int(&r, "n") == i);
		CHECK(r.close == (i == SERVER_REQUESTS_MAX));
		http_client_response_free(&r);
	}
	CHECK(post(&f, conn, "/info", "{}", &r) != 0);
	http_client_response_free(&r);
	CHECK(atomic_load(&handler_calls) == SERVER_REQUESTS_MAX);
	tls_conn_free(conn);
	/* A handler's close is honoured too. */
	REQUIRE(tls_connect(&f, &conn) == 0);
	CHECK(post(&f, conn, "/close", "{}", &r) == 0 && r.close);
	http_client_response_free(&r);
	CHECK(post(&f, conn, "/info", "{}", &r) != 0);
	http_client_response_free(&r);
	tls_conn_free(conn);
	stop_server(&f);
}

struct slow {
	const struct fixture *f;
	int status;
	bool close;
};

static void *slow_client(void *arg)
{
	struct slow *s = arg;
	struct tls_conn *conn = NULL;
	struct http_client_response r = { 0 };

	if (tls_connect(s->f, &conn) == 0 && post(s->f, conn, "/slow", "{}", &r) == 0) {
		s->status = r.status;
		s->close = r.close;
	}
	http_client_response_free(&r);
	tls_conn_free(conn);
	return NULL;
}

static struct server *signal_target;

static void on_sigterm(int sig)
{
	(void)sig;
	server_stop(signal_target);
}

/* SIGTERM while a request is in its handler: its answer arrives, then server_run returns. */
TEST(server_graceful_stop)
{
	struct server_limits lim;
	struct fixture f;
	struct slow s = { .f = &f };
	struct tls_conn *idle = NULL;
	struct http_client_response r = { 0 };
	struct sigaction sa = { .sa_handler = on_sigterm };
	pthread_t th;
	int64_t t0, ms;

	quick_limits(&lim);
	REQUIRE(start_server(&f, &lim, 2) == 0);
	REQUIRE(tls_connect(&f, &idle) == 0);
	CHECK(post(&f, idle, "/info", "{}", &r) == 0 && r.status == 200);
	http_client_response_free(&r);
	REQUIRE(pthread_create(&th, NULL, slow_client, &s) == 0);
	for (int i = 0; i < 5000 && !atomic_load(&in_slow_handler); i++)
		usleep(2000);
	REQUIRE(atomic_load(&in_slow_handler));
	signal_target = f.srv;
	sigaction(SIGTERM, &sa, NULL);
	t0 = snp_now_ms();
	kill(getpid(), SIGTERM);
	pthread_join(f.thread, NULL);
	ms = snp_now_ms() - t0;
	pthread_join(th, NULL);
	CHECK(s.status == 200);
	CHECK(s.close);
	CHECK(f.run_ret == 0);
	/* It waited for the handler, not for the grace period. */
	CHECK(ms < SLOW_MS + SLACK_MS);
	/* The idle connection was closed, the listener too. */
	CHECK(post(&f, idle, "/info", "{}", &r) != 0);
	http_client_response_free(&r);
	CHECK(raw_tcp(f.port) == -ECONNREFUSED);
	tls_conn_free(idle);
	server_free(f.srv);
	tls_client_ctx_free(f.client);
	close(f.log_fd);
}

/* A client that never finishes its request does not hold the stop beyond the grace. */
TEST(server_stop_grace_bound)
{
	static const char part[] = "POST /echo HTTP/1.1\r\nHost: broker.test\r\n";
	struct server_limits lim;
	struct fixture f;
	struct tls_conn *conn = NULL;
	int64_t ms;

	quick_limits(&lim);
	lim.header_timeout_ms = 5000;
	lim.shutdown_grace_ms = 300;
	REQUIRE(start_server(&f, &lim, 1) == 0);
	REQUIRE(tls_connect(&f, &conn) == 0);
	CHECK(send_raw(conn, part, strlen(part)) == 0);
	usleep(100 * 1000);
	ms = stop_server(&f);
	CHECK(ms >= 250 && ms < 300 + SLACK_MS);
	tls_conn_free(conn);
}

struct reload_ctx {
	atomic_int calls;
	int fail;
	size_t max_body;
};

static int test_reload(void *ctx, struct server_reload_result *out, struct snp_err *err)
{
	struct reload_ctx *rc = ctx;

	atomic_fetch_add(&rc->calls, 1);
	if (rc->fail)
		return snp_errf(err, -EINVAL, "test: reload refused");
	out->limits.max_body = rc->max_body;
	return tls_server_ctx_new(&out->tls, FIXTURE("server.pem"), FIXTURE("server.key"), err);
}

/* Wait until the server has applied or refused n reloads in all. */
static void wait_reloads(const struct fixture *f, uint64_t n)
{
	struct server_stats st;

	for (int i = 0; i < 1000; i++) {
		server_get_stats(f->srv, &st);
		if (st.reloads + st.reload_failures >= n)
			return;
		usleep(2000);
	}
}

TEST(server_reload_swaps_limits)
{
	struct server_limits lim;
	struct fixture f;
	struct reload_ctx rc = { .max_body = 100 };
	struct tls_conn *before = NULL, *after = NULL;
	struct http_client_response r = { 0 };
	struct server_stats st;
	char body[201];

	memset(body, 'a', 200);
	body[200] = 0;
	quick_limits(&lim);
	REQUIRE(new_server(&f, &lim, 2, test_reload, &rc) == 0);
	REQUIRE(tls_connect(&f, &before) == 0);
	CHECK(post(&f, before, "/echo", body, &r) == 0 && r.status == 200);
	http_client_response_free(&r);
	server_reload(f.srv);
	wait_reloads(&f, 1);
	server_get_stats(f.srv, &st);
	CHECK(st.reloads == 1);
	CHECK(atomic_load(&rc.calls) == 1);
	/* The open connection keeps its limits; a new one (on the new TLS context) gets the new. */
	CHECK(post(&f, before, "/echo", body, &r) == 0 && r.status == 200);
	http_client_response_free(&r);
	REQUIRE(tls_connect(&f, &after) == 0);
	CHECK(post(&f, after, "/echo", body, &r) == 0);
	CHECK(r.status == 413);
	http_client_response_free(&r);
	tls_conn_free(after);
	/* A failed reload keeps everything as it was. */
	rc.fail = 1;
	rc.max_body = 100000;
	server_reload(f.srv);
	wait_reloads(&f, 2);
	server_get_stats(f.srv, &st);
	CHECK(st.reloads == 1);
	CHECK(st.reload_failures == 1);
	REQUIRE(tls_connect(&f, &after) == 0);
	CHECK(post(&f, after, "/echo", "{}", &r) == 0 && r.status == 200);
	http_client_response_free(&r);
	CHECK(post(&f, after, "/echo", body, &r) == 0 && r.status == 413);
	http_client_response_free(&r);
	tls_conn_free(after);
	tls_conn_free(before);
	stop_server(&f);
}

TEST(server_listen_several)
{
	static const char *const listen[] = { "127.0.0.1:0", "[::1]:0" };
	struct server_limits lim;
	struct server_opts o = { .listen = listen, .n_listen = 2, .threads = 1,
				 .handler = test_handler };
	struct server *srv = NULL, *clash = NULL;
	struct snp_err err = { 0 };
	char addr[64];
	const char *one[] = { addr };

	quick_limits(&lim);
	o.limits = lim;
	REQUIRE(tls_server_ctx_new(&o.tls, FIXTURE("server.pem"), FIXTURE("server.key"),
				   &err) == 0);
	if (server_new(&srv, &o, &err))
		test_skip("no IPv6 loopback: %s", err.msg);
	CHECK(server_port(srv, 0) != 0);
	CHECK(server_port(srv, 1) != 0);
	CHECK(server_port(srv, 2) == 0);
	/* A port in use is refused, naming the address. */
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", server_port(srv, 0));
	o.listen = one;
	o.n_listen = 1;
	REQUIRE(tls_server_ctx_new(&o.tls, FIXTURE("server.pem"), FIXTURE("server.key"),
				   &err) == 0);
	CHECK(server_new(&clash, &o, &err) == -EADDRINUSE);
	CHECK(strstr(err.msg, addr) != NULL);
	CHECK(clash == NULL);
	server_free(srv);
}
