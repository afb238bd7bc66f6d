// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bad-broker: a broker that misbehaves on purpose, for the agent's fault
 * matrix (tests/agent_test.sh). Real TLS 1.3 (tls/tls.h) with the
 * certificate and key given, on loopback.
 *
 * usage: bad-broker --mode MODE [--listen 127.0.0.1:0] [--print-port]
 *		     [--cert PEM --key PEM] [--interval 500ms] [--status N]
 *		     [--reason WORD] [--rule WORD] [--challenge]
 *		     [--upstream HOST:PORT] [--fail N]
 *
 * Modes:
 *   blackhole	accept TCP, never read or write (no TLS handshake ever)
 *   stall	finish the TLS handshake, then never answer
 *   trickle	answer a valid challenge one byte every --interval
 *   reset	send half of an answer, then reset the connection (RST)
 *   garbage	after the handshake and a request, send non-HTTP bytes, close
 *   huge	answer 200 with Content-Length 104857600 and stream the bytes
 *   status	answer --status N with {"error":REASON,"message":...} (and
 *		"rule" with --rule); with --challenge, /v1/challenge gets a
 *		valid challenge and only the other requests the error
 *   proxy	forward TCP to --upstream; reset the first --fail N connections
 *
 * --print-port prints the bound port on stdout (flushed), then it serves
 * until killed. Each connection has a thread of its own (at most
 * CONNS_MAX at once, each bounded by CONN_BOUND_MS) and ends with one
 * line on stderr: "bad-broker: conn N: MODE: WHAT, sent B bytes".
 * A client's misbehaviour never ends the program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <psa/crypto.h>

#include "broker/config.h"
#include "proto/proto.h"
#include "snp/deadline.h"
#include "tls/http.h"
#include "tls/tls.h"

enum {
	CONNS_MAX = 64,			/* connections served at once */
	CONN_BOUND_MS = 120000,		/* the longest any connection is kept */
	REQUEST_MAX = 65536,		/* a request's head and body */
	REQUESTS_PER_CONN = 16,
	RESET_PAUSE_MS = 100,		/* between the half answer and the RST */
	HUGE_LENGTH = 104857600,	/* the Content-Length of mode huge */
	CHUNK = 16384,
};

enum mode { BLACKHOLE, STALL, TRICKLE, RESET, GARBAGE, HUGE, STATUS, PROXY, MODES };

static const char *const mode_names[MODES] = {
	[BLACKHOLE] = "blackhole", [STALL] = "stall", [TRICKLE] = "trickle", [RESET] = "reset",
	[GARBAGE] = "garbage", [HUGE] = "huge", [STATUS] = "status", [PROXY] = "proxy",
};

struct opts {
	enum mode mode;
	const char *listen, *cert, *key, *upstream, *reason, *rule;
	int interval_ms, status;
	unsigned long fail;
	bool print_port, challenge;
};

struct bad_broker {
	struct opts o;
	struct tls_server_ctx *tls;
	char up_host[256];
	unsigned int up_port;
	atomic_ulong accepted;
	atomic_int live;
};

/* One connection: its thread's whole state. */
struct conn {
	struct bad_broker *b;
	unsigned long id;
	int fd;				/* until tls takes it */
	struct tls_conn *tls;
	struct snp_deadline dl;
	unsigned long long sent;
	char buf[REQUEST_MAX];		/* what the client sent and we have not used */
	size_t len;
	const char *what;		/* how it ended, for the log line */
};

/* poll one fd for events within what dl has left; its revents, 0 on time-out. */
static short wait_fd(int fd, short events, const struct snp_deadline *dl, int cap_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left = snp_deadline_left_ms(dl);

	if (cap_ms >= 0 && cap_ms < left)
		left = cap_ms;
	if (poll(&p, 1, left) <= 0)
		return 0;
	return p.revents;
}

/* After TLS_WANT_*: 0 once the socket is ready again, -1 when the time is up. */
static int tls_wait(struct conn *c, ssize_t want)
{
	short ev = want == TLS_WANT_WRITE ? POLLOUT : POLLIN;

	if (want != TLS_WANT_READ && want != TLS_WANT_WRITE)
		return -1;
	return wait_fd(tls_conn_fd(c->tls), ev, &c->dl, -1) ? 0 : -1;
}

static int handshake(struct conn *c)
{
	struct snp_err err = { 0 };
	int ret;

	ret = tls_conn_accept(&c->tls, c->b->tls, c->fd, &err);
	c->fd = -1;
	if (ret) {
		c->what = "TLS setup failed";
		return -1;
	}
	while ((ret = tls_conn_handshake(c->tls, NULL)) != 0) {
		if (tls_wait(c, ret)) {
			c->what = "the handshake failed";
			return -1;
		}
	}
	return 0;
}

static int send_bytes(struct conn *c, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = tls_conn_write(c->tls, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			c->sent += (unsigned long long)n;
		} else if (tls_wait(c, n)) {
			c->what = "the client went away while we wrote";
			return -1;
		}
	}
	return 0;
}

/* More bytes into c->buf: 0, or -1 at the end of the stream, an error or the time limit. */
static int receive(struct conn *c)
{
	ssize_t n;

	if (c->len == sizeof(c->buf))
		return -1;
	for (;;) {
		n = tls_conn_read(c->tls, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			return 0;
		}
		if (n == 0 || tls_wait(c, n))
			return -1;
	}
}

/* One whole request (head and body) off c->buf into req; -1 when none comes. */
static int read_request(struct conn *c, struct http_request *req)
{
	size_t total;
	int ret;

	while ((ret = http_request_parse(c->buf, c->len, HTTP_HEADER_MAX, req, NULL)) == 0)
		if (receive(c))
			goto gone;
	if (ret != 1 || req->content_length > sizeof(c->buf) - req->head_len) {
		c->what = "a request we do not take";
		return -1;
	}
	total = req->head_len + (size_t)req->content_length;
	while (c->len < total)
		if (receive(c))
			goto gone;
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
	return 0;
gone:
	c->what = c->len ? "the client closed or went silent within a request" :
			   "the client closed or went silent";
	return -1;
}

/* Read and drop whatever comes until the client closes or the bound passes. */
static void drain(struct conn *c, const char *what)
{
	c->len = 0;
	while (!receive(c))
		c->len = 0;
	c->what = what;
}

/* A valid challenge answer (head and body) into out; its length, or -1. */
static int challenge_answer(char *out, size_t size)
{
	struct proto_challenge ch = { .expires_in = 60 };
	char *json = NULL;
	size_t json_len;
	int n = -1;

	if (getrandom(ch.nonce, sizeof(ch.nonce), 0) != sizeof(ch.nonce) ||
	    proto_challenge_encode(&ch, &json, &json_len))
		goto out;
	n = http_response_head(out, size, 200, "application/json", json_len, false);
	if (n < 0 || (size_t)n + json_len >= size) {
		n = -1;
		goto out;
	}
	memcpy(out + n, json, json_len);
	n += (int)json_len;
out:
	free(json);
	return n;
}

/* --status: the protocol's refusal, as the real broker words them. */
static int error_answer(const struct opts *o, char *out, size_t size)
{
	struct proto_error e = { .status = o->status };
	char *json = NULL;
	size_t json_len;
	int n = -1;

	snprintf(e.reason, sizeof(e.reason), "%s", o->reason);
	snprintf(e.rule, sizeof(e.rule), "%s", o->rule ? o->rule : "");
	snprintf(e.message, sizeof(e.message), "bad-broker answers every request %d %s",
		 o->status, o->reason);
	if (proto_error_encode(&e, &json, &json_len))
		return -1;
	n = http_response_head(out, size, o->status, "application/json", json_len, false);
	if (n < 0 || (size_t)n + json_len >= size)
		n = -1;
	else
		memcpy(out + n, json, json_len);
	free(json);
	return n < 0 ? -1 : n + (int)json_len;
}

static void mode_stall(struct conn *c)
{
	drain(c, "stalled until the client closed");
}

static void mode_trickle(struct conn *c)
{
	struct http_request req;
	char answer[1024];
	int n, i;

	if (read_request(c, &req))
		return;
	n = challenge_answer(answer, sizeof(answer));
	for (i = 0; i < n; i++) {
		/* The pause before each byte but the first, cut short by the client closing. */
		if (i && wait_fd(tls_conn_fd(c->tls), POLLRDHUP, &c->dl, c->b->o.interval_ms)) {
			c->what = "the client closed while we trickled";
			return;
		}
		if (send_bytes(c, answer + i, 1))
			return;
	}
	drain(c, "trickled a whole answer");
}

/* SO_LINGER 0: close() sends an RST instead of a FIN. */
static void linger_zero(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/*
 * Reset a TLS connection. tls_conn_free would send close_notify, a clean
 * end: the fd number is pointed at /dev/null first (read-only, so the
 * alert goes nowhere), and the socket, kept by a duplicate, is closed
 * with SO_LINGER 0.
 */
static void reset_tls(struct conn *c)
{
	int fd = tls_conn_fd(c->tls), keep = dup(fd), dead;

	dead = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (keep >= 0)
		linger_zero(keep);
	if (dead >= 0 && dup2(dead, fd) >= 0) {
		tls_conn_free(c->tls);
		c->tls = NULL;
	}
	if (dead >= 0)
		close(dead);
	if (keep >= 0)
		close(keep);
}

static void mode_reset(struct conn *c)
{
	struct http_request req;
	char answer[1024];
	int n;

	if (read_request(c, &req))
		return;
	n = challenge_answer(answer, sizeof(answer));
	if (n < 0 || send_bytes(c, answer, (size_t)n / 2))
		return;
	wait_fd(tls_conn_fd(c->tls), POLLRDHUP, &c->dl, RESET_PAUSE_MS);
	reset_tls(c);
	c->what = "reset after half an answer";
}

static void mode_garbage(struct conn *c)
{
	static const char junk[] = "SSH-2.0-bad-broker\r\n\x00\x01\xff\xfe{\"version\":\x80\x81\r\n\r\n";
	struct http_request req;

	if (read_request(c, &req) || send_bytes(c, junk, sizeof(junk) - 1))
		return;
	c->what = "sent garbage and closed";
}

static void mode_huge(struct conn *c)
{
	struct http_request req;
	char head[256], chunk[CHUNK];
	unsigned long long left = HUGE_LENGTH;
	size_t n;
	int len;

	if (read_request(c, &req))
		return;
	len = http_response_head(head, sizeof(head), 200, "application/json", HUGE_LENGTH, false);
	if (len < 0 || send_bytes(c, head, (size_t)len))
		return;
	memset(chunk, '7', sizeof(chunk));
	while (left) {
		n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
		if (send_bytes(c, chunk, n))
			return;
		left -= n;
	}
	drain(c, "sent the whole 100 MB body");
}

static void mode_status(struct conn *c)
{
	const struct opts *o = &c->b->o;
	struct http_request req;
	char answer[1024];
	int i, n;

	for (i = 0; i < REQUESTS_PER_CONN; i++) {
		if (read_request(c, &req))
			return;
		if (o->challenge && !strcmp(req.path, "/v1/challenge"))
			n = challenge_answer(answer, sizeof(answer));
		else
			n = error_answer(o, answer, sizeof(answer));
		if (n < 0) {
			c->what = "could not make an answer";
			return;
		}
		if (send_bytes(c, answer, (size_t)n))
			return;
	}
	c->what = "answered as many requests as a connection takes";
}

/* A numeric HOST:PORT's socket, connected (blocking, bounded by the kernel's SYN retries). */
static int connect_upstream(const struct bad_broker *b)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST |
				  AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[8];
	int fd = -1;

	snprintf(port, sizeof(port), "%u", b->up_port);
	if (getaddrinfo(b->up_host, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* One chunk from one side to the other: 0, or -1 when that side ended. */
static int forward(struct conn *c, int from, int to, bool towards_client)
{
	char chunk[CHUNK];
	ssize_t n = read(from, chunk, sizeof(chunk));
	size_t off = 0;

	if (n <= 0)
		return -1;
	while (off < (size_t)n) {
		ssize_t w = write(to, chunk + off, (size_t)n - off);

		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	if (towards_client)
		c->sent += (unsigned long long)n;
	return 0;
}

static void mode_proxy(struct conn *c)
{
	unsigned long nth = c->id;
	struct pollfd p[2];
	int up;

	if (nth <= c->b->o.fail) {
		linger_zero(c->fd);
		close(c->fd);
		c->fd = -1;
		c->what = "reset at once (one of --fail)";
		return;
	}
	up = connect_upstream(c->b);
	if (up < 0) {
		c->what = "the upstream did not take the connection";
		return;
	}
	p[0] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = up, .events = POLLIN };
	c->what = "forwarded until a side closed";
	while (snp_deadline_left_ms(&c->dl) && poll(p, 2, snp_deadline_left_ms(&c->dl)) > 0) {
		if (p[0].revents && forward(c, c->fd, up, false))
			break;
		if (p[1].revents && forward(c, up, c->fd, true))
			break;
	}
	close(up);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	enum mode m = c->b->o.mode;

	snp_deadline_start(&c->dl, CONN_BOUND_MS);
	if (m == BLACKHOLE) {
		/* Not a byte read: the ClientHello stays in the socket. */
		c->what = wait_fd(c->fd, POLLRDHUP, &c->dl, -1) ? "the client gave up" :
								  "held for the whole bound";
	} else if (m == PROXY) {
		mode_proxy(c);
	} else if (!handshake(c)) {
		void (*const serve[MODES])(struct conn *) = {
			[STALL] = mode_stall, [TRICKLE] = mode_trickle, [RESET] = mode_reset,
			[GARBAGE] = mode_garbage, [HUGE] = mode_huge, [STATUS] = mode_status,
		};
		serve[m](c);
	}
	fprintf(stderr, "bad-broker: conn %lu: %s: %s, sent %llu bytes\n", c->id, mode_names[m],
		c->what, c->sent);
	tls_conn_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	atomic_fetch_sub(&c->b->live, 1);
	free(c);
	return NULL;
}

static void start_conn(struct bad_broker *b, int fd)
{
	unsigned long id = atomic_fetch_add(&b->accepted, 1) + 1;
	struct conn *c = NULL;
	pthread_attr_t attr;
	pthread_t t;

	if (atomic_fetch_add(&b->live, 1) >= CONNS_MAX)
		goto refuse;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto refuse;
	*c = (struct conn){ .b = b, .id = id, .fd = fd, .what = "?" };
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!pthread_create(&t, &attr, conn_main, c)) {
		pthread_attr_destroy(&attr);
		return;
	}
	pthread_attr_destroy(&attr);
refuse:
	fprintf(stderr, "bad-broker: conn %lu: closed at once: too many connections\n", id);
	atomic_fetch_sub(&b->live, 1);
	free(c);
	close(fd);
}

static int listen_socket(const char *listen_addr, int *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST |
				  AI_NUMERICSERV | AI_PASSIVE };
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	struct addrinfo *ai = NULL;
	struct snp_err err = { 0 };
	char host[128], port_text[8];
	unsigned int want;
	int fd = -1, one = 1;

	if (config_split_listen(listen_addr, host, sizeof(host), &want, &err)) {
		fprintf(stderr, "bad-broker: --listen: %s\n", err.msg);
		return -1;
	}
	snprintf(port_text, sizeof(port_text), "%u", want);
	if (getaddrinfo(host, port_text, &hints, &ai))
		goto fail;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&ss, &ss_len))
		goto fail;
	freeaddrinfo(ai);
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						  ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
fail:
	fprintf(stderr, "bad-broker: cannot listen on %s: %s\n", listen_addr, strerror(errno));
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* "500ms", "2s" or plain milliseconds. */
static int parse_ms(const char *text, int *ms)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || v > 3600000)
		return -1;
	if (!strcmp(end, "s"))
		v *= 1000;
	else if (*end && strcmp(end, "ms"))
		return -1;
	*ms = (int)v;
	return 0;
}

static int parse_mode(const char *text, enum mode *m)
{
	for (size_t i = 0; i < MODES; i++)
		if (!strcmp(text, mode_names[i])) {
			*m = (enum mode)i;
			return 0;
		}
	return -1;
}

static int parse_opt(struct opts *o, int c, const char *val)
{
	char *end;

	switch (c) {
	case 'm': return parse_mode(val, &o->mode);
	case 'l': o->listen = val; return 0;
	case 'p': o->print_port = true; return 0;
	case 'c': o->cert = val; return 0;
	case 'k': o->key = val; return 0;
	case 'i': return parse_ms(val, &o->interval_ms);
	case 'r': o->reason = val; return 0;
	case 'R': o->rule = val; return 0;
	case 'C': o->challenge = true; return 0;
	case 'u': o->upstream = val; return 0;
	case 's':
		o->status = (int)strtol(val, &end, 10);
		return *end || o->status < 400 || o->status > 599 ? -1 : 0;
	case 'f':
		o->fail = strtoul(val, &end, 10);
		return *end || !*val ? -1 : 0;
	default: return -1;
	}
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' },
		{ "print-port", no_argument, NULL, 'p' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "interval", required_argument, NULL, 'i' },
		{ "status", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ "rule", required_argument, NULL, 'R' },
		{ "challenge", no_argument, NULL, 'C' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "fail", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .mode = MODES, .listen = "127.0.0.1:0", .interval_ms = 500,
			    .status = 503, .reason = "overloaded",
			    .cert = TESTS_DIR "/data/tls/server.pem",
			    .key = TESTS_DIR "/data/tls/server.key" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		if (parse_opt(o, c, optarg))
			return -1;
	if (optind != argc || o->mode == MODES || (o->mode == PROXY) != !!o->upstream)
		return -1;
	return 0;
}

static int setup(struct bad_broker *b)
{
	struct snp_err err = { 0 };

	if (psa_crypto_init() != PSA_SUCCESS) {
		fputs("bad-broker: PSA crypto failed to start\n", stderr);
		return -1;
	}
	if (b->o.mode == PROXY &&
	    config_split_listen(b->o.upstream, b->up_host, sizeof(b->up_host), &b->up_port, &err)) {
		fprintf(stderr, "bad-broker: --upstream: %s\n", err.msg);
		return -1;
	}
	if (b->o.mode != PROXY && b->o.mode != BLACKHOLE &&
	    tls_server_ctx_new(&b->tls, b->o.cert, b->o.key, &err)) {
		fprintf(stderr, "bad-broker: %s\n", err.msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bad_broker b;
	int lfd, port, fd;

	if (parse_opts(argc, argv, &b.o)) {
		fputs("usage: bad-broker --mode blackhole|stall|trickle|reset|garbage|huge|status|proxy\n"
		      "       [--listen ADDR:PORT] [--print-port] [--cert PEM --key PEM]\n"
		      "       [--interval 500ms] [--status N --reason WORD [--rule WORD] [--challenge]]\n"
		      "       [--upstream HOST:PORT [--fail N]]   (--upstream with proxy only)\n",
		      stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (setup(&b))
		return 1;
	lfd = listen_socket(b.o.listen, &port);
	if (lfd < 0)
		return 1;
	if (b.o.print_port && (printf("%d\n", port) < 0 || fflush(stdout)))
		return 1;
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			start_conn(&b, fd);
		else if (errno != EINTR && errno != ECONNABORTED)
			usleep(100000);	/* out of fds: let connections end */
	}
}
