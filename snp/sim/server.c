// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-sim's server: one process, one poll() loop, any number of clients.
 * A request must arrive, and its response leave, within the timeout once
 * started; a connection with nothing pending may stay (a QEMU chardev
 * behind a virtio-serial port holds one for the guest's whole life) until
 * the idle timeout, or until room is needed for a new client.
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snp/simaddr.h"
#include "snp/sim/sim.h"

enum {
	BACKLOG = 16,
	POLL_MAX_MS = 500,	/* how soon a stop request is seen at the latest */
	ACCEPT_PAUSE_MS = 50,	/* after running out of descriptors */
};

struct conn {
	int fd;
	unsigned long id;
	uint8_t in[SNP_SIM_REQ_SIZE];
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off;
	bool close_after;
	int64_t deadline;	/* ms; 0 when nothing is pending */
	int64_t last_active;
};

struct server {
	struct snp_sim *sim;
	const struct snp_sim_serve_opts *o;
	int lfd;
	struct snp_sim_addr addr;
	struct conn *conns;
	struct pollfd *pfds;
	size_t n;
	unsigned long next_id;
	int64_t accept_after;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void slog(const struct server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void slog(const struct server *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!s->o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->o->log(line, s->o->log_ctx);
}

static void conn_close(struct server *s, struct conn *c, const char *why)
{
	if (why)
		slog(s, "#%lu %s", c->id, why);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

static bool conn_idle(const struct conn *c)
{
	return c->fd >= 0 && !c->in_len && !c->out;
}

/* Room for one more: the connection idle the longest goes. */
static bool make_room(struct server *s)
{
	struct conn *oldest = NULL;

	for (size_t i = 0; i < s->n; i++)
		if (conn_idle(&s->conns[i]) &&
		    (!oldest || s->conns[i].last_active < oldest->last_active))
			oldest = &s->conns[i];
	if (!oldest)
		return false;
	conn_close(s, oldest, "closed: idle, and its slot is needed for a new client");
	return true;
}

static void compact(struct server *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->conns[i].fd >= 0)
			s->conns[j++] = s->conns[i];
	s->n = j;
}

static void accept_one(struct server *s, int64_t now)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			slog(s, "accept: %s; pausing", strerror(errno));
			s->accept_after = now + ACCEPT_PAUSE_MS;
		}
		return;
	}
	if (s->n == s->o->max_conns) {
		make_room(s);
		compact(s);
	}
	if (s->n == s->o->max_conns) {
		slog(s, "refused a connection: %zu clients, all busy", s->n);
		close(fd);
		return;
	}
	c = &s->conns[s->n++];
	*c = (struct conn){ .fd = fd, .id = ++s->next_id, .last_active = now };
}

static const char *type_name(uint32_t type)
{
	return type == SNP_SIM_REQ_EXT_REPORT ? "ext-report" : "report";
}

/* Answer the request in c->in; the response waits in c->out. */
static void handle(struct server *s, struct conn *c, int64_t now)
{
	struct snp_sim_request req;
	struct snp_sim_response resp = { 0 };
	struct snp_err err = { 0 };
	char data[17];
	int ret;

	c->in_len = 0;
	ret = snp_sim_request_decode(c->in, sizeof(c->in), &req, &err);
	if (ret) {
		slog(s, "#%lu bad request: %s; answered INVALID_PARAM, closing", c->id, err.msg);
		resp.status = SNP_SIM_STATUS_INVALID_PARAM;
		c->close_after = true;
	} else if ((ret = snp_sim_handle(s->sim, &req, &resp, &err))) {
		conn_close(s, c, err.msg);
		return;
	} else {
		slog(s, "#%lu %s vmpl=%u data=%s.. -> status 0x%x, %zu+%zu bytes (%lld ms)",
		     c->id, type_name(req.type), req.vmpl, snp_hex(data, req.user_data, 8),
		     resp.status, resp.report_len, resp.certs_len,
		     (long long)(now_ms() - now));
	}
	ret = snp_sim_response_encode(&resp, &c->out, &c->out_len, &err);
	snp_sim_response_free(&resp);
	if (ret) {
		conn_close(s, c, err.msg);
		return;
	}
	c->out_off = 0;
	c->deadline = now + s->o->timeout_ms;
}

static void conn_read(struct server *s, struct conn *c, int64_t now)
{
	char why[96];
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			snprintf(why, sizeof(why), "closed: %s", strerror(errno));
		else
			snprintf(why, sizeof(why), "closed by the client after %zu of %d bytes",
				 c->in_len, SNP_SIM_REQ_SIZE);
		conn_close(s, c, c->in_len || n < 0 ? why : NULL);
		return;
	}
	if (!c->in_len)
		c->deadline = now + s->o->timeout_ms;
	c->in_len += (size_t)n;
	c->last_active = now;
	if (c->in_len == sizeof(c->in))
		handle(s, c, now);
}

static void conn_write(struct server *s, struct conn *c, int64_t now)
{
	char why[96];
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		snprintf(why, sizeof(why), "closed while answering: %s", strerror(errno));
		conn_close(s, c, why);
		return;
	}
	c->out_off += (size_t)n;
	c->last_active = now;
	if (c->out_off < c->out_len)
		return;
	free(c->out);
	c->out = NULL;
	c->deadline = 0;
	if (c->close_after)
		conn_close(s, c, NULL);
}

/* When c is closed for being idle, or 0: never (busy, or no idle timeout). */
static int64_t idle_expiry(const struct server *s, const struct conn *c)
{
	if (s->o->idle_timeout_ms <= 0 || !conn_idle(c))
		return 0;
	return c->last_active + s->o->idle_timeout_ms;
}

static void expire(struct server *s, struct conn *c, int64_t now)
{
	int64_t idle = idle_expiry(s, c);
	char why[128];

	if (c->deadline && now >= c->deadline) {
		if (c->out)
			snprintf(why, sizeof(why),
				 "dropped: the client took no more than %zu of %zu response bytes in %d ms",
				 c->out_off, c->out_len, s->o->timeout_ms);
		else
			snprintf(why, sizeof(why),
				 "dropped: %zu of %d request bytes in %d ms", c->in_len,
				 SNP_SIM_REQ_SIZE, s->o->timeout_ms);
		conn_close(s, c, why);
	} else if (idle && now >= idle) {
		conn_close(s, c, "closed: idle");
	}
}

/* How long poll may sleep: until the nearest deadline, at most POLL_MAX_MS. */
static int poll_timeout(const struct server *s, int64_t now)
{
	int64_t t = now + POLL_MAX_MS;

	for (size_t i = 0; i < s->n; i++) {
		const struct conn *c = &s->conns[i];
		int64_t idle = idle_expiry(s, c);

		if (c->deadline && c->deadline < t)
			t = c->deadline;
		if (idle && idle < t)
			t = idle;
	}
	if (s->accept_after > now && s->accept_after < t)
		t = s->accept_after;
	return t <= now ? 0 : (int)(t - now);
}

static void serve_once(struct server *s)
{
	int64_t now = now_ms();
	bool listening = now >= s->accept_after;
	size_t n = s->n;
	int ret;

	s->pfds[0] = (struct pollfd){ .fd = listening ? s->lfd : -1, .events = POLLIN };
	for (size_t i = 0; i < n; i++)
		s->pfds[i + 1] = (struct pollfd){ .fd = s->conns[i].fd,
			.events = s->conns[i].out ? POLLOUT : POLLIN };
	ret = poll(s->pfds, n + 1, poll_timeout(s, now));
	if (ret < 0)
		return;		/* EINTR: a signal; the caller looks at stop */
	now = now_ms();
	for (size_t i = 0; i < n; i++) {
		struct conn *c = &s->conns[i];
		short re = s->pfds[i + 1].revents;

		if (c->fd >= 0 && re && c->out)
			conn_write(s, c, now);
		else if (c->fd >= 0 && re)
			conn_read(s, c, now);
		if (c->fd >= 0)
			expire(s, c, now);
	}
	compact(s);
	if (s->pfds[0].revents & POLLIN)
		accept_one(s, now);
}

/* A socket file left by a simulator that is gone may be replaced; a live one not. */
static int clear_stale_socket(const struct snp_sim_addr *a, struct snp_err *err)
{
	struct stat st;
	int fd, ret;

	if (lstat(a->path, &st))
		return errno == ENOENT ? 0 : snp_errf(err, -errno, "%s: %s", a->path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return snp_errf(err, -EEXIST, "%s exists and is not a socket", a->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return snp_errf(err, -errno, "socket: %s", strerror(errno));
	ret = connect(fd, (const struct sockaddr *)&a->sa, a->sa_len) ? errno : 0;
	close(fd);
	if (ret != ECONNREFUSED)
		return snp_errf(err, -EADDRINUSE, "%s: another simulator is listening there",
				a->path);
	if (unlink(a->path))
		return snp_errf(err, -errno, "%s: %s", a->path, strerror(errno));
	return 0;
}

static int open_listener(struct server *s, const char *listen_addr, struct snp_err *err)
{
	int one = 1, ret;
	socklen_t len = sizeof(s->addr.sa);

	ret = snp_sim_addr_parse(listen_addr, &s->addr, err);
	if (ret)
		return ret;
	if (s->addr.kind == SNP_SIM_ADDR_CHARDEV)
		return snp_errf(err, -EINVAL,
				"cannot listen on a device (%s); listen on unix:PATH and point QEMU's chardev at it",
				listen_addr);
	if (s->addr.kind == SNP_SIM_ADDR_UNIX && (ret = clear_stale_socket(&s->addr, err)))
		return ret;
	s->lfd = socket(s->addr.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return snp_errf(err, -errno, "socket: %s", strerror(errno));
	if (s->addr.kind == SNP_SIM_ADDR_TCP)
		setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (const struct sockaddr *)&s->addr.sa, s->addr.sa_len) ||
	    (s->addr.kind == SNP_SIM_ADDR_UNIX && chmod(s->addr.path, 0600)) ||
	    listen(s->lfd, BACKLOG) ||
	    getsockname(s->lfd, (struct sockaddr *)&s->addr.sa, &len))
		return snp_errf(err, -errno, "listening on %s: %s", listen_addr,
				strerror(errno));
	return 0;
}

int snp_sim_serve(struct snp_sim *sim, const char *listen_addr,
		  const struct snp_sim_serve_opts *opts, struct snp_err *err)
{
	struct server s = { .sim = sim, .o = opts, .lfd = -1 };
	char name[160];
	int ret;

	if (opts->timeout_ms <= 0 || opts->max_conns == 0 || !opts->stop)
		return snp_errf(err, -EINVAL, "serving needs a timeout, a connection limit and a stop flag");
	s.conns = calloc(opts->max_conns, sizeof(*s.conns));
	s.pfds = calloc(opts->max_conns + 1, sizeof(*s.pfds));
	if (!s.conns || !s.pfds) {
		ret = snp_errf(err, -ENOMEM, "out of memory for %zu connections", opts->max_conns);
		goto out;
	}
	ret = open_listener(&s, listen_addr, err);
	if (ret)
		goto out;
	snp_sim_addr_format(&s.addr, name, sizeof(name));
	if (opts->ready)
		opts->ready(name, opts->ready_ctx);
	while (!*opts->stop)
		serve_once(&s);
	for (size_t i = 0; i < s.n; i++)
		conn_close(&s, &s.conns[i], NULL);
	if (s.addr.kind == SNP_SIM_ADDR_UNIX)
		unlink(s.addr.path);
out:
	if (s.lfd >= 0)
		close(s.lfd);
	free(s.conns);
	free(s.pfds);
	return ret;
}
