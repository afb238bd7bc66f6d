// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The broker's HTTPS engine (broker/server.h): one epoll loop per thread,
 * level-triggered, each connection a small state machine driven until it
 * would block. Deadlines are kept on the connections; a loop scans its own
 * list when the nearest one passes, at most every SCAN_MIN_MS.
 */
#define _GNU_SOURCE	/* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/config.h"
#include "broker/log.h"
#include "broker/server.h"
#include "proto/proto.h"
#include "snp/deadline.h"

enum {
	BACKLOG = 511,
	EVENTS_MAX = 64,
	ACCEPT_BATCH = 16,		/* accepts per wakeup, so one loop does not take them all */
	SCAN_MIN_MS = 10,		/* deadline scans at most this often */
	LINGER_MS = 1000,		/* reading what a client still sends after our last response */
	LINGER_DRAIN_MAX = 256 * 1024,
	ACCEPT_PAUSE_MS = 100,		/* after running out of descriptors */
	REFUSED_LOG_MS = 1000,
	CONTROL_POLL_MS = 1000,
	RESPONSE_HEAD_MAX = 256,
};

/* epoll data of what is not a connection: listener i is i, a loop's wakeup is TAG_WAKE. */
#define TAG_WAKE	SERVER_LISTEN_MAX

enum conn_state { ST_HANDSHAKE, ST_READ_HEAD, ST_READ_BODY, ST_WRITE, ST_LINGER };

/* What one step of a connection asks for next. */
enum step { STEP_NEXT, STEP_WAIT_READ, STEP_WAIT_WRITE, STEP_CLOSE };

/* A TLS context shared by the generations (reloads) that did not replace it. */
struct tls_ref {
	atomic_uint refs;
	struct tls_server_ctx *ctx;
};

/* What a connection was accepted under: kept until it closes. */
struct gen {
	atomic_uint refs;
	struct tls_ref *tls;
	struct server_limits limits;
};

struct loop;

struct conn {
	struct loop *loop;
	struct conn *prev, *next;
	struct gen *gen;
	struct tls_conn *tls;		/* NULL once lingering */
	int fd;				/* registered in epoll */
	uint32_t events;
	enum conn_state state;
	int64_t deadline;
	uint64_t id;
	unsigned int requests;
	char peer[SERVER_PEER_MAX];
	char in[HTTP_HEADER_MAX];	/* the head being read, and what came after it */
	size_t in_len;
	struct http_request req;
	uint8_t *body;
	size_t body_len;
	char *out;			/* the response being written: head and body */
	size_t out_len, out_off;
	bool close_after;
	bool parse_leftover;		/* in holds bytes sent after the previous request */
	size_t drained;
	void *user;
	void (*user_free)(void *user);
};

struct loop {
	struct server *srv;
	pthread_t thread;
	bool started;
	int epfd;
	int wakefd;
	struct conn *conns;
	int64_t next_deadline;
	int64_t last_scan;
	int64_t accept_resume;		/* 0, or when to watch the listeners again */
	bool listening;
	bool stopping;
	int64_t stop_deadline;
};

struct listener {
	int fd;
	unsigned int port;
	char addr[128];
};

struct server {
	struct listener listeners[SERVER_LISTEN_MAX];
	size_t n_listeners;
	atomic_uint listening_loops;
	struct loop *loops;
	unsigned int n_loops;
	int ctlfd;
	atomic_int stop_requested, reload_requested;
	pthread_mutex_t gen_lock;
	struct gen *gen;
	server_handler_fn handler;
	void *handler_ctx;
	server_reload_fn reload;
	void *reload_ctx;
	atomic_uint n_conns;
	atomic_uint_fast64_t accepted, refused, requests, reloads, reload_failures, next_id;
	atomic_uint_fast64_t refused_unlogged;
	_Atomic int64_t refused_logged_ms;
};

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "server_stop sets an atomic int from a signal handler");

static int64_t now_ms(void)
{
	return snp_now_ms();
}

void server_limits_default(struct server_limits *limits)
{
	*limits = (struct server_limits){
		.max_connections = 1024,
		.handshake_timeout_ms = 10000,
		.header_timeout_ms = 10000,
		.body_timeout_ms = 10000,
		.idle_timeout_ms = 30000,
		.shutdown_grace_ms = 10000,
		.max_body = PROTO_REQUEST_MAX,
	};
}

/* Generations. */

static void tls_ref_put(struct tls_ref *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
		tls_server_ctx_free(t->ctx);
		free(t);
	}
}

static struct tls_ref *tls_ref_new(struct tls_server_ctx *ctx)
{
	struct tls_ref *t = calloc(1, sizeof(*t));

	if (!t) {
		tls_server_ctx_free(ctx);
		return NULL;
	}
	atomic_init(&t->refs, 1);
	t->ctx = ctx;
	return t;
}

static void gen_put(struct gen *g)
{
	if (g && atomic_fetch_sub(&g->refs, 1) == 1) {
		tls_ref_put(g->tls);
		free(g);
	}
}

/* Takes over the reference to tls. */
static struct gen *gen_new(struct tls_ref *tls, const struct server_limits *limits)
{
	struct gen *g = calloc(1, sizeof(*g));

	if (!g) {
		tls_ref_put(tls);
		return NULL;
	}
	atomic_init(&g->refs, 1);
	g->tls = tls;
	g->limits = *limits;
	return g;
}

static struct gen *gen_get(struct server *srv)
{
	struct gen *g;

	pthread_mutex_lock(&srv->gen_lock);
	g = srv->gen;
	atomic_fetch_add(&g->refs, 1);
	pthread_mutex_unlock(&srv->gen_lock);
	return g;
}

/* Listeners. */

static int listen_one(struct listener *l, const char *text, struct snp_err *err)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	char host[128], port[16];
	unsigned int port_num;
	int one = 1, zero = 0, ret;

	l->fd = -1;
	snprintf(l->addr, sizeof(l->addr), "%s", text);
	ret = config_split_listen(text, host, sizeof(host), &port_num, err);
	if (ret)
		return ret;
	snprintf(port, sizeof(port), "%u", port_num);
	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret)
		return snp_errf(err, -EINVAL, "listen address %s: %s", text, gai_strerror(ret));
	l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		ret = snp_errf(err, -errno, "listen address %s: socket: %s", text, strerror(errno));
		goto out;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] takes IPv4 too, whatever the system's default (net.ipv6.bindv6only). */
	if (ai->ai_family == AF_INET6)
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(l->fd, ai->ai_addr, ai->ai_addrlen) || listen(l->fd, BACKLOG) ||
	    getsockname(l->fd, (struct sockaddr *)&ss, &ss_len)) {
		ret = snp_errf(err, -errno, "listen address %s: %s", text, strerror(errno));
		goto out;
	}
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
			((struct sockaddr_in6 *)&ss)->sin6_port);
out:
	freeaddrinfo(ai);
	return ret;
}

unsigned int server_port(const struct server *srv, size_t i)
{
	return i < srv->n_listeners ? srv->listeners[i].port : 0;
}

/* "1.2.3.4:5", "[::1]:5"; an IPv4-mapped IPv6 address as IPv4. */
static void peer_text(const struct sockaddr_storage *ss, char out[SERVER_PEER_MAX])
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, SERVER_PEER_MAX, "%s:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		bool mapped = IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr);

		if (mapped)
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], a, sizeof(a));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, SERVER_PEER_MAX, mapped ? "%s:%u" : "[%s]:%u", a,
			 ntohs(s6->sin6_port));
	} else {
		snprintf(out, SERVER_PEER_MAX, "?");
	}
}

/* Connections. */

static void set_deadline(struct conn *c, int timeout_ms)
{
	struct loop *lp = c->loop;

	c->deadline = now_ms() + timeout_ms;
	if (lp->stopping && c->deadline > lp->stop_deadline)
		c->deadline = lp->stop_deadline;
	if (c->deadline < lp->next_deadline)
		lp->next_deadline = c->deadline;
}

static void want(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	c->events = events;
	epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void free_out(struct conn *c)
{
	if (c->out) {
		explicit_bzero(c->out, c->out_len);
		free(c->out);
	}
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

static void conn_close(struct conn *c)
{
	struct loop *lp = c->loop;

	if (c->prev)
		c->prev->next = c->next;
	else
		lp->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->tls) {
		epoll_ctl(lp->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		tls_conn_free(c->tls);
	} else if (c->fd >= 0) {
		close(c->fd);
	}
	if (c->user_free)
		c->user_free(c->user);
	free(c->body);
	free_out(c);
	explicit_bzero(c->in, sizeof(c->in));
	gen_put(c->gen);
	atomic_fetch_sub(&lp->srv->n_conns, 1);
	free(c);
}

/*
 * Queue a response: head and body in one buffer, written by ST_WRITE. body
 * is the caller's: wiped and freed here, sent or not.
 */
static void conn_respond(struct conn *c, int status, char *body, size_t body_len, bool close)
{
	char head[RESPONSE_HEAD_MAX];
	int head_len;

	/* Stopping: asked for already (maybe while the handler ran), if not yet seen by this loop. */
	if (c->requests >= SERVER_REQUESTS_MAX || atomic_load(&c->loop->srv->stop_requested))
		close = true;
	head_len = http_response_head(head, sizeof(head), status, "application/json",
				      body_len, close);
	free_out(c);
	if (head_len > 0)
		c->out = malloc((size_t)head_len + body_len);
	if (c->out) {
		memcpy(c->out, head, (size_t)head_len);
		if (body_len)
			memcpy(c->out + head_len, body, body_len);
		c->out_len = (size_t)head_len + body_len;
	}
	if (body) {
		explicit_bzero(body, body_len);
		free(body);
	}
	c->close_after = close || !c->out;
	c->state = ST_WRITE;
	set_deadline(c, c->gen->limits.body_timeout_ms);
}

/* The engine's own refusal, then the connection closes. */
static void conn_refuse(struct conn *c, int status, const char *reason, const char *message)
{
	struct server_exchange x = { .status = status };

	/* Timeouts are routine (a client gone quiet); the other refusals say a client is broken. */
	enum config_log_level level = status == 408 ? CONFIG_LOG_DEBUG : CONFIG_LOG_INFO;

	server_reply_error(&x, status, reason, message);
	if (log_enabled(level)) {
		char id[24], st[8];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
		snprintf(st, sizeof(st), "%d", status);
		log_event(level, "request refused", "conn", id, "peer", c->peer, "status", st,
			  "reason", reason, "message", message, NULL);
	}
	conn_respond(c, status, x.resp_body, x.resp_body_len, true);
}

static enum step tls_wait(ssize_t n)
{
	if (n == TLS_WANT_READ)
		return STEP_WAIT_READ;
	if (n == TLS_WANT_WRITE)
		return STEP_WAIT_WRITE;
	return STEP_CLOSE;
}

static enum step step_handshake(struct conn *c)
{
	struct snp_err err = { 0 };
	int ret = tls_conn_handshake(c->tls, &err);

	if (ret == TLS_WANT_READ || ret == TLS_WANT_WRITE)
		return tls_wait(ret);
	if (ret) {
		log_event(CONFIG_LOG_DEBUG, "handshake failed", "peer", c->peer,
			  "error", err.msg, NULL);
		return STEP_CLOSE;
	}
	c->state = ST_READ_HEAD;
	set_deadline(c, c->gen->limits.header_timeout_ms);
	return STEP_NEXT;
}

static void start_handler(struct conn *c);

/* A whole head is in c->in: check it against the limits, take the body bytes already read. */
static enum step head_done(struct conn *c)
{
	const struct server_limits *lim = &c->gen->limits;
	size_t have = c->in_len - c->req.head_len;
	size_t take;

	if (!c->req.has_content_length && !strcmp(c->req.method, "POST")) {
		conn_refuse(c, 411, "length-required", "The request has no Content-Length.");
		return STEP_NEXT;
	}
	if (c->req.content_length > lim->max_body) {
		char msg[128];

		snprintf(msg, sizeof(msg), "The body of %llu bytes is above the limit of %zu.",
			 (unsigned long long)c->req.content_length, lim->max_body);
		conn_refuse(c, 413, "body-too-large", msg);
		return STEP_NEXT;
	}
	c->body = malloc(c->req.content_length + 1);
	if (!c->body) {
		conn_refuse(c, 500, "internal", "The service is out of memory.");
		return STEP_NEXT;
	}
	take = have < c->req.content_length ? have : c->req.content_length;
	memcpy(c->body, c->in + c->req.head_len, take);
	c->body_len = take;
	/* What follows the body is the next request's. */
	memmove(c->in, c->in + c->req.head_len + take, have - take);
	c->in_len = have - take;
	c->state = ST_READ_BODY;
	set_deadline(c, lim->body_timeout_ms);
	return STEP_NEXT;
}

static enum step parse_head(struct conn *c)
{
	struct snp_err err = { 0 };
	int ret = http_request_parse(c->in, c->in_len, HTTP_HEADER_MAX, &c->req, &err);

	switch (ret) {
	case 1:
		return head_done(c);
	case 0:
		if (c->in_len < sizeof(c->in))
			return STEP_NEXT;
		/* A full buffer is too large, whether or not the parser said so. */
		__attribute__((fallthrough));
	case HTTP_ERR_TOO_LARGE:
		conn_refuse(c, 431, "headers-too-large", "The header block is above 8 KiB.");
		return STEP_NEXT;
	case HTTP_ERR_UNSUPPORTED:
		conn_refuse(c, 501, "bad-request", err.msg);
		return STEP_NEXT;
	default:
		conn_refuse(c, 400, "bad-request", err.msg);
		return STEP_NEXT;
	}
}

/*
 * Read until the head is whole. The parser runs only when a line may have
 * ended (or the buffer is full), so a head sent a byte at a time costs one
 * parse per line. "Need more" goes back to reading, which drains what
 * mbedTLS holds before the loop waits on the socket.
 */
static enum step step_read_head(struct conn *c)
{
	size_t old = c->in_len;
	ssize_t n;

	if (c->parse_leftover) {
		c->parse_leftover = false;
		if (memchr(c->in, '\n', c->in_len))
			return parse_head(c);
	}
	if (c->in_len == sizeof(c->in))
		return parse_head(c);
	n = tls_conn_read(c->tls, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n <= 0)
		return n == 0 ? STEP_CLOSE : tls_wait(n);
	if (old == 0)
		set_deadline(c, c->gen->limits.header_timeout_ms);
	c->in_len += (size_t)n;
	if (memchr(c->in + old, '\n', (size_t)n) || c->in_len == sizeof(c->in))
		return parse_head(c);
	return STEP_NEXT;
}

static enum step step_read_body(struct conn *c)
{
	size_t want = c->req.content_length - c->body_len;
	ssize_t n;

	if (!want) {
		start_handler(c);
		return STEP_NEXT;
	}
	n = tls_conn_read(c->tls, c->body + c->body_len, want);
	if (n <= 0)
		return n == 0 ? STEP_CLOSE : tls_wait(n);
	c->body_len += (size_t)n;
	return STEP_NEXT;
}

static void log_request(const struct conn *c, const struct server_exchange *x, int64_t ms)
{
	char id[24], st[8], took[24];

	if (!log_enabled(CONFIG_LOG_DEBUG))
		return;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	snprintf(st, sizeof(st), "%d", x->status);
	snprintf(took, sizeof(took), "%lld", (long long)ms);
	log_event(CONFIG_LOG_DEBUG, "request", "conn", id, "peer", c->peer, "method",
		  x->method, "path", x->path, "status", st, "ms", took, NULL);
}

static void start_handler(struct conn *c)
{
	struct server *srv = c->loop->srv;
	struct server_exchange x = {
		.req = &c->req,
		.method = c->req.method,
		.path = c->req.path,
		.body = c->body,
		.body_len = c->body_len,
		.peer = c->peer,
		.tls = c->tls,
		.request_index = ++c->requests,
		.conn_id = c->id,
		.conn_user = c->user,
		.conn_user_free = c->user_free,
	};
	int64_t start = now_ms();

	c->body[c->body_len] = 0;
	atomic_fetch_add(&srv->requests, 1);
	srv->handler(srv->handler_ctx, &x);
	c->user = x.conn_user;
	c->user_free = x.conn_user_free;
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	if (!x.status) {
		free(x.resp_body);
		x.resp_body = NULL;
		server_reply_error(&x, 500, "internal", "The request handler gave no answer.");
	}
	log_request(c, &x, now_ms() - start);
	conn_respond(c, x.status, x.resp_body, x.resp_body_len, x.close || c->req.close);
}

/*
 * After the last response: send close_notify and FIN, then read what the
 * client still sends for a while, so that closing with unread data does
 * not reset the connection before the client has read our response.
 */
static enum step start_linger(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int fd = dup(c->fd);

	epoll_ctl(c->loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	tls_conn_free(c->tls);
	c->tls = NULL;
	c->fd = fd;
	if (fd < 0)
		return STEP_CLOSE;
	shutdown(fd, SHUT_WR);
	if (epoll_ctl(c->loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		return STEP_CLOSE;
	c->events = EPOLLIN;
	c->state = ST_LINGER;
	set_deadline(c, LINGER_MS);
	return STEP_WAIT_READ;
}

static enum step step_write(struct conn *c)
{
	ssize_t n;

	if (c->out_off < c->out_len) {
		n = tls_conn_write(c->tls, c->out + c->out_off, c->out_len - c->out_off);
		if (n <= 0)
			return tls_wait(n);
		c->out_off += (size_t)n;
		return STEP_NEXT;
	}
	free_out(c);
	if (c->close_after || c->loop->stopping)
		return start_linger(c);
	c->state = ST_READ_HEAD;
	memset(&c->req, 0, sizeof(c->req));
	c->parse_leftover = c->in_len > 0;
	set_deadline(c, c->in_len ? c->gen->limits.header_timeout_ms :
		     c->gen->limits.idle_timeout_ms);
	return STEP_NEXT;
}

static enum step step_linger(struct conn *c)
{
	char scratch[4096];
	ssize_t n = read(c->fd, scratch, sizeof(scratch));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return STEP_WAIT_READ;
	if (n <= 0)
		return STEP_CLOSE;
	c->drained += (size_t)n;
	return c->drained > LINGER_DRAIN_MAX ? STEP_CLOSE : STEP_NEXT;
}

/* Drive c until it would block; false when it was closed. */
static bool conn_run(struct conn *c)
{
	static enum step (*const steps[])(struct conn *c) = {
		[ST_HANDSHAKE] = step_handshake,
		[ST_READ_HEAD] = step_read_head,
		[ST_READ_BODY] = step_read_body,
		[ST_WRITE] = step_write,
		[ST_LINGER] = step_linger,
	};
	enum step s;

	do {
		s = steps[c->state](c);
	} while (s == STEP_NEXT);
	if (s == STEP_CLOSE) {
		conn_close(c);
		return false;
	}
	want(c, s == STEP_WAIT_READ ? EPOLLIN : EPOLLOUT);
	return true;
}

/* Past its deadline; false when c was closed. */
static bool conn_expire(struct conn *c)
{
	switch (c->state) {
	case ST_READ_HEAD:
	case ST_READ_BODY:
		if (c->loop->stopping && now_ms() >= c->loop->stop_deadline)
			break;
		conn_refuse(c, 408, "timeout", c->state == ST_READ_BODY ?
			    "The request body did not arrive in time." :
			    "The request did not arrive in time.");
		return conn_run(c);
	case ST_HANDSHAKE:
		log_event(CONFIG_LOG_DEBUG, "handshake timeout", "peer", c->peer, NULL);
		break;
	default:
		break;
	}
	conn_close(c);
	return false;
}

/* Accepting. */

static void log_refused(struct server *srv)
{
	int64_t now = now_ms();
	int64_t last = atomic_load(&srv->refused_logged_ms);
	char count[24];
	uint64_t n;

	atomic_fetch_add(&srv->refused_unlogged, 1);
	if (now - last < REFUSED_LOG_MS ||
	    !atomic_compare_exchange_strong(&srv->refused_logged_ms, &last, now))
		return;
	n = atomic_exchange(&srv->refused_unlogged, 0);
	snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
	log_event(CONFIG_LOG_WARN, "connection cap reached: connections closed at once",
		  "count", count, NULL);
}

/* Whether there is room for one more connection; counts it when there is. */
static bool take_slot(struct server *srv, unsigned int max)
{
	unsigned int n = atomic_load(&srv->n_conns);

	do {
		if (max && n >= max)
			return false;
	} while (!atomic_compare_exchange_weak(&srv->n_conns, &n, n + 1));
	return true;
}

static void conn_new(struct loop *lp, int fd, const struct sockaddr_storage *ss)
{
	struct server *srv = lp->srv;
	struct gen *g = gen_get(srv);
	struct snp_err err = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;

	if (!take_slot(srv, g->limits.max_connections)) {
		atomic_fetch_add(&srv->refused, 1);	/* counted before the client can see it */
		close(fd);
		gen_put(g);
		log_refused(srv);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || tls_conn_accept(&c->tls, g->tls->ctx, fd, &err)) {
		if (!c)
			close(fd);
		else
			log_event(CONFIG_LOG_WARN, "accept failed", "error", err.msg, NULL);
		free(c);
		gen_put(g);
		atomic_fetch_sub(&srv->n_conns, 1);
		return;
	}
	c->loop = lp;
	c->gen = g;
	c->fd = fd;
	c->id = atomic_fetch_add(&srv->next_id, 1) + 1;
	peer_text(ss, c->peer);
	c->next = lp->conns;
	if (lp->conns)
		lp->conns->prev = c;
	lp->conns = c;
	atomic_fetch_add(&srv->accepted, 1);
	ev.data.ptr = c;
	c->events = EPOLLIN;
	c->state = ST_HANDSHAKE;
	set_deadline(c, g->limits.handshake_timeout_ms);
	if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		conn_close(c);
		return;
	}
	conn_run(c);
}

static void watch_listeners(struct loop *lp, bool on)
{
	struct server *srv = lp->srv;

	for (size_t i = 0; i < srv->n_listeners; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = i };

		epoll_ctl(lp->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, srv->listeners[i].fd,
			  on ? &ev : NULL);
	}
	lp->listening = on;
}

static void accept_some(struct loop *lp, const struct listener *l)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_new(lp, fd, &ss);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_event(CONFIG_LOG_WARN, "accept paused", "listen", l->addr,
				  "error", strerror(errno), NULL);
			watch_listeners(lp, false);
			lp->accept_resume = now_ms() + ACCEPT_PAUSE_MS;
		}
		return;
	}
}

/* The loop. */

static void loop_scan(struct loop *lp)
{
	int64_t now = now_ms();
	int64_t next = INT64_MAX;
	struct conn *c, *c_next;

	if (now < lp->next_deadline || now < lp->last_scan + SCAN_MIN_MS)
		return;
	lp->last_scan = now;
	lp->next_deadline = INT64_MAX;
	for (c = lp->conns; c; c = c_next) {
		c_next = c->next;
		if (c->deadline <= now && !conn_expire(c))
			continue;
		if (c->deadline < next)
			next = c->deadline;
	}
	if (next < lp->next_deadline)
		lp->next_deadline = next;
}

static int loop_timeout(const struct loop *lp)
{
	int64_t now = now_ms();
	int64_t at = lp->next_deadline;

	if (lp->accept_resume && lp->accept_resume < at)
		at = lp->accept_resume;
	if (at == INT64_MAX)
		return -1;
	if (at < lp->last_scan + SCAN_MIN_MS)
		at = lp->last_scan + SCAN_MIN_MS;
	return at <= now ? 0 : (int)(at - now > 60000 ? 60000 : at - now);
}

static void loop_stop_listening(struct loop *lp)
{
	struct server *srv = lp->srv;

	if (lp->listening)
		watch_listeners(lp, false);
	lp->accept_resume = 0;
	/* The last loop to let go closes them: no loop can be in accept4 then. */
	if (atomic_fetch_sub(&srv->listening_loops, 1) == 1) {
		for (size_t i = 0; i < srv->n_listeners; i++) {
			close(srv->listeners[i].fd);
			srv->listeners[i].fd = -1;
		}
	}
}

/* Stop: no new connections, no idle ones; the others get until stop_deadline. */
static void loop_begin_stop(struct loop *lp)
{
	struct conn *c, *c_next;

	struct gen *g = gen_get(lp->srv);

	lp->stopping = true;
	lp->stop_deadline = now_ms() + g->limits.shutdown_grace_ms;
	gen_put(g);
	loop_stop_listening(lp);
	for (c = lp->conns; c; c = c_next) {
		c_next = c->next;
		if (c->state == ST_HANDSHAKE || (c->state == ST_READ_HEAD && !c->in_len)) {
			conn_close(c);
			continue;
		}
		if (c->deadline > lp->stop_deadline)
			c->deadline = lp->stop_deadline;
	}
	if (lp->stop_deadline < lp->next_deadline)
		lp->next_deadline = lp->stop_deadline;
}

static void loop_close_all(struct loop *lp)
{
	while (lp->conns)
		conn_close(lp->conns);
}

static void loop_event(struct loop *lp, const struct epoll_event *ev, bool *woken)
{
	uint64_t tag = ev->data.u64;
	struct server *srv = lp->srv;

	if (tag == TAG_WAKE) {
		uint64_t v;

		if (read(lp->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return;
		*woken = true;
	} else if (tag < TAG_WAKE) {
		if (lp->listening && !lp->stopping)
			accept_some(lp, &srv->listeners[tag]);
	} else {
		struct conn *c = ev->data.ptr;

		/* Any event (a hang-up too) is handled by trying the step again. */
		conn_run(c);
	}
}

static void *loop_main(void *arg)
{
	struct loop *lp = arg;
	struct server *srv = lp->srv;
	struct epoll_event evs[EVENTS_MAX];

	for (;;) {
		bool woken = false;
		int n = epoll_wait(lp->epfd, evs, EVENTS_MAX, loop_timeout(lp));

		if (n < 0 && errno != EINTR) {
			log_event(CONFIG_LOG_ERROR, "epoll_wait failed", "error", strerror(errno),
				  NULL);
			break;
		}
		for (int i = 0; i < n; i++)
			loop_event(lp, &evs[i], &woken);
		if (woken && atomic_load(&srv->stop_requested) && !lp->stopping)
			loop_begin_stop(lp);
		if (lp->accept_resume && now_ms() >= lp->accept_resume) {
			lp->accept_resume = 0;
			watch_listeners(lp, true);
		}
		loop_scan(lp);
		if (lp->stopping && (!lp->conns || now_ms() >= lp->stop_deadline))
			break;
	}
	if (!lp->stopping)
		loop_stop_listening(lp);
	loop_close_all(lp);
	return NULL;
}

/* Server. */

int server_new(struct server **out, const struct server_opts *opts, struct snp_err *err)
{
	struct server *srv;
	struct tls_ref *tls;
	int ret = 0;

	*out = NULL;
	if (!opts->n_listen || opts->n_listen > SERVER_LISTEN_MAX || !opts->handler) {
		tls_server_ctx_free(opts->tls);
		return snp_errf(err, -EINVAL, "The server needs 1 to %d listen addresses and a handler.",
				SERVER_LISTEN_MAX);
	}
	srv = calloc(1, sizeof(*srv));
	tls = tls_ref_new(opts->tls);
	if (!srv || !tls || !(srv->gen = gen_new(tls, &opts->limits))) {
		if (!srv)
			tls_ref_put(tls);
		free(srv);
		return snp_errf(err, -ENOMEM, "Out of memory for the server.");
	}
	pthread_mutex_init(&srv->gen_lock, NULL);
	srv->handler = opts->handler;
	srv->handler_ctx = opts->handler_ctx;
	srv->reload = opts->reload;
	srv->reload_ctx = opts->reload_ctx;
	srv->ctlfd = -1;
	srv->n_loops = opts->threads;
	if (!srv->n_loops) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		srv->n_loops = n > 0 ? (unsigned int)n : 1;
	}
	for (srv->n_listeners = 0; srv->n_listeners < opts->n_listen; srv->n_listeners++) {
		ret = listen_one(&srv->listeners[srv->n_listeners], opts->listen[srv->n_listeners],
				 err);
		if (ret) {
			srv->n_listeners++;
			goto out;
		}
	}
	srv->ctlfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->ctlfd < 0)
		ret = snp_errf(err, -errno, "eventfd: %s", strerror(errno));
out:
	if (ret)
		server_free(srv);
	else
		*out = srv;
	return ret;
}

static void kick(int fd)
{
	uint64_t one = 1;
	ssize_t n = write(fd, &one, sizeof(one));

	(void)n;	/* a full counter already wakes the reader */
}

void server_stop(struct server *srv)
{
	atomic_store(&srv->stop_requested, 1);
	kick(srv->ctlfd);
}

void server_reload(struct server *srv)
{
	atomic_store(&srv->reload_requested, 1);
	kick(srv->ctlfd);
}

void server_get_stats(const struct server *srv, struct server_stats *st)
{
	st->connections = atomic_load(&srv->n_conns);
	st->accepted = atomic_load(&srv->accepted);
	st->refused = atomic_load(&srv->refused);
	st->requests = atomic_load(&srv->requests);
	st->reloads = atomic_load(&srv->reloads);
	st->reload_failures = atomic_load(&srv->reload_failures);
}

/* A new generation from what opts.reload made; NULL when it refused (logged). */
static struct gen *reload_gen(struct server *srv, const struct gen *cur)
{
	struct server_reload_result r = { .tls = NULL, .limits = cur->limits };
	struct snp_err err = { 0 };
	struct tls_ref *tls;

	if (srv->reload(srv->reload_ctx, &r, &err)) {
		log_event(CONFIG_LOG_ERROR, "reload failed; serving on with the old settings",
			  "error", err.msg, NULL);
		return NULL;
	}
	if (r.tls) {
		tls = tls_ref_new(r.tls);
	} else {
		tls = cur->tls;
		atomic_fetch_add(&tls->refs, 1);
	}
	if (!tls)
		return NULL;
	log_event(CONFIG_LOG_INFO, "reloaded", "tls", r.tls ? "new" : "kept", NULL);
	return gen_new(tls, &r.limits);
}

static void do_reload(struct server *srv)
{
	struct gen *cur, *g;

	if (!srv->reload) {
		log_event(CONFIG_LOG_INFO, "reload: nothing to reload", NULL);
		return;
	}
	cur = gen_get(srv);
	g = reload_gen(srv, cur);
	gen_put(cur);
	if (!g) {
		atomic_fetch_add(&srv->reload_failures, 1);
		return;
	}
	pthread_mutex_lock(&srv->gen_lock);
	cur = srv->gen;
	srv->gen = g;
	pthread_mutex_unlock(&srv->gen_lock);
	gen_put(cur);
	atomic_fetch_add(&srv->reloads, 1);
}

static int loop_init(struct loop *lp, struct server *srv, struct snp_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_WAKE };

	lp->srv = srv;
	lp->next_deadline = INT64_MAX;
	lp->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lp->wakefd < 0 || lp->epfd < 0 ||
	    epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->wakefd, &ev))
		return snp_errf(err, -errno, "event loop: %s", strerror(errno));
	watch_listeners(lp, true);
	atomic_fetch_add(&srv->listening_loops, 1);
	return 0;
}

/* Start the loops with the signals blocked that the calling thread must take. */
static int start_loops(struct server *srv, struct snp_err *err)
{
	sigset_t block, old;
	int ret = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	srv->loops = calloc(srv->n_loops, sizeof(*srv->loops));
	if (!srv->loops)
		return snp_errf(err, -ENOMEM, "Out of memory for %u event loops.", srv->n_loops);
	for (unsigned int i = 0; i < srv->n_loops; i++)
		srv->loops[i].epfd = srv->loops[i].wakefd = -1;
	for (unsigned int i = 0; i < srv->n_loops && !ret; i++)
		ret = loop_init(&srv->loops[i], srv, err);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned int i = 0; i < srv->n_loops && !ret; i++) {
		ret = -pthread_create(&srv->loops[i].thread, NULL, loop_main, &srv->loops[i]);
		if (ret)
			snp_errf(err, ret, "Starting event loop %u: %s", i, strerror(-ret));
		else
			srv->loops[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void wake_loops(struct server *srv)
{
	for (unsigned int i = 0; i < srv->n_loops; i++)
		if (srv->loops[i].wakefd >= 0)
			kick(srv->loops[i].wakefd);
}

int server_run(struct server *srv, struct snp_err *err)
{
	struct pollfd pfd = { .fd = srv->ctlfd, .events = POLLIN };
	int ret = start_loops(srv, err);
	char n[16];

	snprintf(n, sizeof(n), "%u", srv->n_loops);
	if (!ret)
		log_event(CONFIG_LOG_INFO, "serving", "loops", n, NULL);
	while (!ret && !atomic_load(&srv->stop_requested)) {
		uint64_t v;

		if (poll(&pfd, 1, CONTROL_POLL_MS) > 0 && read(srv->ctlfd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			break;
		if (atomic_exchange(&srv->reload_requested, 0))
			do_reload(srv);
	}
	atomic_store(&srv->stop_requested, 1);
	wake_loops(srv);
	for (unsigned int i = 0; i < srv->n_loops; i++)
		if (srv->loops[i].started)
			pthread_join(srv->loops[i].thread, NULL);
	log_event(CONFIG_LOG_INFO, "stopped", NULL);
	return ret;
}

void server_free(struct server *srv)
{
	if (!srv)
		return;
	for (unsigned int i = 0; srv->loops && i < srv->n_loops; i++) {
		if (srv->loops[i].epfd >= 0)
			close(srv->loops[i].epfd);
		if (srv->loops[i].wakefd >= 0)
			close(srv->loops[i].wakefd);
	}
	free(srv->loops);
	for (size_t i = 0; i < srv->n_listeners; i++)
		if (srv->listeners[i].fd >= 0)
			close(srv->listeners[i].fd);
	if (srv->ctlfd >= 0)
		close(srv->ctlfd);
	gen_put(srv->gen);
	pthread_mutex_destroy(&srv->gen_lock);
	free(srv);
}

int server_reply_error(struct server_exchange *x, int status, const char *reason,
		       const char *message)
{
	struct proto_error e = { .status = status };

	x->status = status;
	x->resp_body = NULL;
	x->resp_body_len = 0;
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	snprintf(e.message, sizeof(e.message), "%s", message);
	return proto_error_encode(&e, &x->resp_body, &x->resp_body_len);
}
