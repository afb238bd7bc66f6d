// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-keybroker's configuration file: "key = value" lines read strictly,
 * each refusal naming the file, the line and what was wrong, so that a
 * typo stops the service instead of quietly running it with a default.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"
#include "snp/deadline.h"
#include "snp/fdio.h"

#define CONFIG_FILE_MAX		(64 * 1024)
#define CONFIG_LINE_MAX		8192
#define DEFAULT_LISTEN		"[::]:8443"
#define DURATION_DIGITS_MAX	16
#define MS_PER_S		1000
#define MS_PER_MIN		(60 * MS_PER_S)
#define MS_PER_HOUR		(60 * MS_PER_MIN)

/* Where a value is being read: for "FILE:LINE: key: reason". */
struct line_ctx {
	const char *file;
	unsigned int line;
	const char *key;
	struct snp_err *err;
};

static int line_errf(const struct line_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int line_errf(const struct line_ctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->key)
		return snp_errf(c->err, -EINVAL, "%s:%u: %s: %s", c->file, c->line, c->key, why);
	return snp_errf(c->err, -EINVAL, "%s:%u: %s", c->file, c->line, why);
}

struct key;
typedef int (*key_parse_fn)(struct config *cfg, const struct key *k, const char *val,
			    const struct line_ctx *c);

/*
 * A key: its parser and the field it sets (offset and size in struct
 * config); numbers and durations also carry their range, choices their
 * names (index = the enum value), repeatable keys their count's offset.
 */
struct key {
	const char *name;
	key_parse_fn parse;
	size_t off, size;
	int64_t min, max;
	const char *const *choices;
	size_t count_off;
};

#define FIELDS(f) .off = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)

static void *field(struct config *cfg, const struct key *k)
{
	return (char *)cfg + k->off;
}

/* Decimal digits only, at most max; *out gets the value. */
static int decimal(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strspn(s, "0123456789");

	if (!n || s[n])
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int p_number(struct config *cfg, const struct key *k, const char *val,
		    const struct line_ctx *c)
{
	uint64_t v;
	unsigned int u;

	if (strspn(val, "0123456789") != strlen(val))
		return line_errf(c, "'%s' is not a number", val);
	if (decimal(val, (uint64_t)k->max, &v) || v < (uint64_t)k->min)
		return line_errf(c, "%s is outside %lld to %lld", val, (long long)k->min,
				 (long long)k->max);
	if (k->size == sizeof(size_t)) {
		size_t z = (size_t)v;

		memcpy(field(cfg, k), &z, sizeof(z));
	} else {
		u = (unsigned int)v;
		memcpy(field(cfg, k), &u, sizeof(u));
	}
	return 0;
}

/*
 * snp_duration_parse judges the value; the broker's messages tell its
 * refusals apart (no unit, a bad unit, not a number at all). More digits
 * than any duration in range has are "not a duration", as they always were.
 */
static int p_duration(struct config *cfg, const struct key *k, const char *val,
		      const struct line_ctx *c)
{
	size_t digits = strspn(val, "0123456789");
	char lo[32], hi[32];
	int64_t ms;
	int ret, v;

	if (digits && !val[digits])
		return line_errf(c, "'%s' has no unit: write %ss or %sms", val, val, val);
	if (!digits || digits >= DURATION_DIGITS_MAX)
		return line_errf(c, "'%s' is not a duration (a number, then ms, s, m or h)", val);
	ret = snp_duration_parse(val, k->min, k->max, &ms);
	if (ret == -ERANGE)
		return line_errf(c, "%s is outside %s to %s", val,
				 snp_duration_text(lo, sizeof(lo), k->min),
				 snp_duration_text(hi, sizeof(hi), k->max));
	if (ret)
		return line_errf(c, "'%s' has the unit '%s'; use ms, s, m or h", val, val + digits);
	v = (int)ms;
	memcpy(field(cfg, k), &v, sizeof(v));
	return 0;
}

/* A file name, a URL: printable, fitting its field. */
static int p_text(struct config *cfg, const struct key *k, const char *val,
		  const struct line_ctx *c)
{
	size_t len = strlen(val);

	if (len >= k->size)
		return line_errf(c, "%zu characters; at most %zu", len, k->size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
			return line_errf(c, "a control character at column %zu", i + 1);
	memcpy(field(cfg, k), val, len + 1);
	return 0;
}

static int p_url(struct config *cfg, const struct key *k, const char *val,
		 const struct line_ctx *c)
{
	static const char scheme[] = "https://";

	/* KDS answers are verified, but the service never talks plaintext. */
	if (strncmp(val, scheme, strlen(scheme)) || !val[strlen(scheme)])
		return line_errf(c, "'%s' is not an https:// URL", val);
	return p_text(cfg, k, val, c);
}

static int p_choice(struct config *cfg, const struct key *k, const char *val,
		    const struct line_ctx *c)
{
	char names[128] = "";

	for (int i = 0; k->choices[i]; i++) {
		if (!strcmp(val, k->choices[i])) {
			if (k->size == sizeof(bool))
				*(bool *)field(cfg, k) = i;
			else
				memcpy(field(cfg, k), &i, sizeof(i));
			return 0;
		}
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 i ? (k->choices[i + 1] ? ", " : " or ") : "", k->choices[i]);
	}
	return line_errf(c, "'%s' is not %s", val, names);
}

/* One more of a repeatable key: the field is an array of k->max strings. */
static int p_append(struct config *cfg, const struct key *k, const char *val,
		    const struct line_ctx *c)
{
	size_t *n = (size_t *)((char *)cfg + k->count_off);
	struct key one = *k;
	int ret;

	if (*n >= (size_t)k->max)
		return line_errf(c, "given more than %lld times", (long long)k->max);
	one.size = k->size / (size_t)k->max;
	one.off = k->off + *n * one.size;
	ret = p_text(cfg, &one, val, c);
	if (!ret)
		(*n)++;
	return ret;
}

static int p_listen(struct config *cfg, const struct key *k, const char *val,
		    const struct line_ctx *c)
{
	char host[128];
	unsigned int port;
	struct snp_err why;

	if (config_split_listen(val, host, sizeof(host), &port, &why))
		return line_errf(c, "%s", why.msg);
	return p_append(cfg, k, val, c);
}

static const char *const on_off[] = { "off", "on", NULL };
static const char *const log_formats[] = {
	[CONFIG_LOG_TEXT] = "text", [CONFIG_LOG_JSON] = "json", NULL,
};
static const char *const log_levels[] = {
	[CONFIG_LOG_ERROR] = "error", [CONFIG_LOG_WARN] = "warn", [CONFIG_LOG_INFO] = "info",
	[CONFIG_LOG_DEBUG] = "debug", NULL,
};

#define TEXT(n)		{ .name = #n, .parse = p_text, FIELDS(n) }
#define NUMBER(n, lo, hi) { .name = #n, .parse = p_number, FIELDS(n), .min = lo, .max = hi }
#define DURATION(n, lo, hi) { .name = #n, .parse = p_duration, FIELDS(n##_ms), .min = lo, \
			      .max = hi }
#define TIMEOUT(n)	DURATION(n, 100, MS_PER_HOUR)
#define CHOICE(n, names) { .name = #n, .parse = p_choice, FIELDS(n), .choices = names }
#define REPEATED(n, fn, count) { .name = #n, .parse = fn, FIELDS(n), .max = count, \
				 .count_off = offsetof(struct config, n_##n) }

static const struct key keys[] = {
	REPEATED(listen, p_listen, CONFIG_LISTEN_MAX),
	TEXT(tls_cert),
	TEXT(tls_key),
	TEXT(state_dir),
	TEXT(audit_log),
	NUMBER(threads, 0, 256),
	NUMBER(max_connections, 1, 65536),
	TIMEOUT(handshake_timeout),
	TIMEOUT(header_timeout),
	TIMEOUT(body_timeout),
	TIMEOUT(idle_timeout),
	TIMEOUT(shutdown_grace),
	NUMBER(max_body, 1024, 1048576),
	DURATION(nonce_lifetime, MS_PER_S, MS_PER_HOUR),
	CHOICE(kds, on_off),
	{ .name = "kds_url", .parse = p_url, FIELDS(kds_url) },
	TEXT(kds_ca),
	TIMEOUT(kds_timeout),
	NUMBER(kds_retries, 0, 10),
	REPEATED(trust_ark, p_append, CONFIG_TRUST_ARK_MAX),
	CHOICE(log_format, log_formats),
	CHOICE(log_level, log_levels),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", CONFIG_DEFAULT_STATE);
	cfg->max_connections = 1024;
	cfg->handshake_timeout_ms = 10 * MS_PER_S;
	cfg->header_timeout_ms = 10 * MS_PER_S;
	cfg->body_timeout_ms = 10 * MS_PER_S;
	cfg->idle_timeout_ms = 30 * MS_PER_S;
	cfg->shutdown_grace_ms = 10 * MS_PER_S;
	cfg->max_body = 65536;
	cfg->nonce_lifetime_ms = 60 * MS_PER_S;
	snprintf(cfg->kds_url, sizeof(cfg->kds_url), "https://kdsintf.amd.com");
	snprintf(cfg->kds_ca, sizeof(cfg->kds_ca), "/etc/ssl/certs/ca-certificates.crt");
	cfg->kds_timeout_ms = 10 * MS_PER_S;
	cfg->kds_retries = 4;
	cfg->log_format = CONFIG_LOG_TEXT;
	cfg->log_level = CONFIG_LOG_INFO;
}

/* The text between start and end without the blanks around it, NUL-terminated. */
static char *strip(char *start, char *end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return start;
}

static int set_key(struct config *cfg, char *key, char *val, unsigned int seen[N_KEYS],
		   struct line_ctx *c)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].name, key))
			continue;
		c->key = keys[i].name;
		if (seen[i] && !keys[i].count_off)	/* listen, trust_ark repeat */
			return line_errf(c, "already set on line %u", seen[i]);
		if (!*val)
			return line_errf(c, "no value");
		if (*val == '"' || *val == '\'')
			return line_errf(c, "quotes are not supported; write the value without them");
		seen[i] = c->line;
		return keys[i].parse(cfg, &keys[i], val, c);
	}
	return line_errf(c, "unknown key '%.64s'", key);
}

static int parse_line(struct config *cfg, char *line, size_t len, unsigned int seen[N_KEYS],
		      struct line_ctx *c)
{
	char *text = strip(line, line + len), *eq, *value;

	if (!*text || *text == '#')
		return 0;
	eq = strchr(text, '=');
	if (!eq)
		return line_errf(c, "'%.64s' is not 'key = value'", text);
	/* The value first: stripping the key writes a NUL at eq. */
	value = strip(eq + 1, eq + strlen(eq));
	return set_key(cfg, strip(text, eq), value, seen, c);
}

int config_parse(struct config *cfg, const char *text, size_t len, const char *name,
		 struct snp_err *err)
{
	struct line_ctx c = { .file = name, .err = err };
	unsigned int seen[N_KEYS] = { 0 };
	char *line = NULL;
	size_t pos = 0;
	int ret = 0;

	snprintf(cfg->source, sizeof(cfg->source), "%s", name);
	if (len > CONFIG_FILE_MAX)
		return snp_errf(err, -EFBIG, "%s: %zu bytes; a configuration is at most %d", name,
				len, CONFIG_FILE_MAX);
	if (memchr(text, '\0', len))
		return snp_errf(err, -EINVAL, "%s: contains a NUL byte; not a text file", name);
	line = malloc(CONFIG_LINE_MAX + 1);
	if (!line)
		return snp_errf(err, -ENOMEM, "%s: out of memory", name);
	while (pos < len && !ret) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		c.line++;
		c.key = NULL;
		if (n > CONFIG_LINE_MAX) {
			ret = line_errf(&c, "longer than %d characters", CONFIG_LINE_MAX);
			break;
		}
		memcpy(line, text + pos, n);
		ret = parse_line(cfg, line, n, seen, &c);
		pos += n + 1;
	}
	free(line);
	return ret;
}

int config_load(struct config *cfg, const char *path, struct snp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = snp_read_file(path, CONFIG_FILE_MAX, &buf, &len, err);
	if (!ret)
		ret = config_parse(cfg, (const char *)buf, len, path, err);
	free(buf);
	return ret;
}

int config_finish(struct config *cfg, struct snp_err *err)
{
	const char *src = cfg->source[0] ? cfg->source : "the configuration";
	int n;

	if (!cfg->n_listen) {
		snprintf(cfg->listen[0], sizeof(cfg->listen[0]), "%s", DEFAULT_LISTEN);
		cfg->n_listen = 1;
	}
	if (!cfg->state_dir[0])
		return snp_errf(err, -EINVAL, "%s: state_dir is empty", src);
	if (!cfg->audit_log[0]) {
		n = snprintf(cfg->audit_log, sizeof(cfg->audit_log), "%s/audit.log",
			     cfg->state_dir);
		if (n < 0 || (size_t)n >= sizeof(cfg->audit_log))
			return snp_errf(err, -ENAMETOOLONG,
					"%s: state_dir is too long for audit.log under it; set audit_log",
					src);
	}
	if (!cfg->tls_cert[0] != !cfg->tls_key[0])
		return snp_errf(err, -EINVAL, "%s: %s is set but %s is not; give both", src,
				cfg->tls_cert[0] ? "tls_cert" : "tls_key",
				cfg->tls_cert[0] ? "tls_key" : "tls_cert");
	return 0;
}

static int split_port(const char *listen, const char *text, unsigned int *port,
		      struct snp_err *err)
{
	uint64_t v;

	if (*text != ':')
		return snp_errf(err, -EINVAL, "'%s' has no ':PORT'", listen);
	if (decimal(text + 1, 65535, &v))
		return snp_errf(err, -EINVAL, "'%s': the port is not a number 0-65535", listen);
	*port = (unsigned int)v;
	return 0;
}

static int copy_host(const char *listen, const char *start, size_t len, int family,
		     char *host, size_t host_size, struct snp_err *err)
{
	struct in6_addr addr;

	if (len >= host_size)
		return snp_errf(err, -EINVAL, "'%s': the address is too long", listen);
	memcpy(host, start, len);
	host[len] = '\0';
	if (inet_pton(family, host, &addr) != 1)
		return snp_errf(err, -EINVAL, "'%s': '%s' is not a numeric %s address", listen,
				host, family == AF_INET6 ? "IPv6" : "IPv4");
	return 0;
}

int config_split_listen(const char *listen, char *host, size_t host_size, unsigned int *port,
			struct snp_err *err)
{
	const char *colon, *close;
	int ret;

	if (listen[0] == '*')
		return snp_errf(err, -EINVAL, "'%s': '*' is not an address; [::] listens on all",
				listen);
	if (listen[0] == '[') {
		close = strchr(listen, ']');
		if (!close)
			return snp_errf(err, -EINVAL, "'%s' has no ']'", listen);
		ret = copy_host(listen, listen + 1, (size_t)(close - listen - 1), AF_INET6, host,
				host_size, err);
		return ret ? ret : split_port(listen, close + 1, port, err);
	}
	colon = strchr(listen, ':');
	if (!colon)
		return snp_errf(err, -EINVAL, "'%s' is not ADDRESS:PORT", listen);
	if (strchr(colon + 1, ':'))
		return snp_errf(err, -EINVAL, "'%s': an IPv6 address goes in brackets, as [::1]:8443",
				listen);
	ret = copy_host(listen, listen, (size_t)(colon - listen), AF_INET, host, host_size, err);
	return ret ? ret : split_port(listen, colon, port, err);
}
