// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The broker's structured log (broker/log.h). A line is built in a stack
 * buffer by appenders that never overrun it, then written at once: lines
 * of concurrent threads never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/log.h"

static const char ellipsis[] = "...";

static _Atomic int log_format = CONFIG_LOG_TEXT;
static _Atomic int log_level = CONFIG_LOG_INFO;
static _Atomic int log_fd = 2;

/*
 * A line being built. Appends are all or nothing, so an escape is never
 * split; the first that does not fit cuts the line. Cut inside a value,
 * the value ends with "..." (and its quote); cut elsewhere, the line goes
 * back to the end of the last whole pair. Room is kept for that ending.
 */
struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
	size_t pair_start;	/* where the pair being written began */
	bool in_value, quoted;	/* writing a value; between quotes */
	bool cut, cut_in_value, cut_quoted;
};

#define LINE_RESERVE	(sizeof(ellipsis) + 4)	/* ...", '}', '\n', NUL */

void log_setup(enum config_log_format format, enum config_log_level level, int fd)
{
	atomic_store(&log_format, format);
	atomic_store(&log_level, level);
	atomic_store(&log_fd, fd);
}

bool log_enabled(enum config_log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

const char *log_level_name(enum config_log_level level)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	return (unsigned int)level < 4 ? names[level] : "unknown";
}

static void put_raw(struct line *l, const char *s, size_t n)
{
	if (l->cut)
		return;
	if (n > sizeof(l->buf) - LINE_RESERVE - l->len) {
		l->cut = true;
		l->cut_in_value = l->in_value;
		l->cut_quoted = l->quoted;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put(struct line *l, const char *s)
{
	put_raw(l, s, strlen(s));
}

static bool plain_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

static bool needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (; *v; v++)
		if (!plain_byte((unsigned char)*v))
			return true;
	return false;
}

/* A value, quoted and escaped (\xNN in text, \uNNNN in JSON) or, in text when it is safe, as is. */
static void put_value(struct line *l, const char *v, bool json, bool force_quotes)
{
	bool quote = json || force_quotes || needs_quotes(v);
	char esc[8];

	if (quote)
		put(l, "\"");
	l->in_value = true;
	l->quoted = quote;
	for (; *v && !l->cut; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put_raw(l, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), json ? "\\u%04x" : "\\x%02x", c);
			put(l, esc);
		} else {
			put_raw(l, v, 1);
		}
	}
	l->in_value = false;
	l->quoted = false;
	if (quote)
		put(l, "\"");
}

static void put_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	put(l, t);
}

static void put_pair(struct line *l, const char *key, const char *value, bool json)
{
	l->pair_start = l->len;
	if (json) {
		put(l, ",\"");
		put(l, key);
		put(l, "\":");
	} else {
		put(l, " ");
		put(l, key);
		put(l, "=");
	}
	put_value(l, value, json, false);
}

static void put_head(struct line *l, enum config_log_level level, const char *msg, bool json)
{
	if (json) {
		put(l, "{\"time\":\"");
		put_time(l);
		put(l, "\",\"level\":\"");
		put(l, log_level_name(level));
		put(l, "\",\"msg\":");
	} else {
		put_time(l);
		put(l, " ");
		put(l, log_level_name(level));
		put(l, " msg=");
	}
	l->pair_start = l->len;
	/* Quoted in text too, even one word: the message is easy to find. */
	put_value(l, msg, json, true);
}

/* The room kept by LINE_RESERVE is enough for what is appended here. */
static void put_end(struct line *l, const char *s)
{
	memcpy(l->buf + l->len, s, strlen(s));
	l->len += strlen(s);
}

static void finish(struct line *l, bool json)
{
	if (l->cut && l->cut_in_value) {
		put_end(l, ellipsis);
		if (l->cut_quoted)
			put_end(l, "\"");
	} else if (l->cut) {
		l->len = l->pair_start;
		if (!json)
			put_end(l, " ...");
	}
	if (json)
		put_end(l, "}");
	put_end(l, "\n");
}

static void emit(const struct line *l)
{
	int fd = atomic_load(&log_fd);
	ssize_t n;

	do {
		n = write(fd, l->buf, l->len);
	} while (n < 0 && errno == EINTR);
}

void log_eventv(enum config_log_level level, const char *msg, va_list ap)
{
	bool json = atomic_load(&log_format) == CONFIG_LOG_JSON;
	struct line l = { .len = 0 };
	const char *key;

	if (!log_enabled(level))
		return;
	put_head(&l, level, msg, json);
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);

		put_pair(&l, key, value ? value : "", json);
	}
	finish(&l, json);
	emit(&l);
}

void log_event(enum config_log_level level, const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	log_eventv(level, msg, ap);
	va_end(ap);
}

void log_msgf(enum config_log_level level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(level, msg, NULL);
}
