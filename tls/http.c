// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Strict HTTP/1.1 heads (RFC 9110, RFC 9112), parsed line by line as the
 * bytes arrive: a line is judged as soon as its CRLF is there, so garbage
 * is refused early instead of after max_head bytes or a timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tls/http.h"

#define RETRY_AFTER_MAX	2147483648L	/* RFC 9110 10.2.3: clamp, do not overflow */

/* What a head's lines leave for the request or response it fills. */
struct head {
	int minor_version;
	bool has_content_length;
	uint64_t content_length;
	bool has_content_type;
	bool content_type_json;
	bool conn_close;
	bool conn_keep_alive;
	long retry_after;
	bool has_host;
	char host[256];
};

/* Where the line reader is in a buffer of which only len bytes count. */
struct cursor {
	const char *buf;
	size_t len;
	size_t pos;
};

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		(c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Field-value characters: VCHAR, obs-text, SP, HTAB. */
static bool is_field_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The next CRLF-ended line: 1 with it (without CRLF), 0 when its end has
 * not arrived, HTTP_ERR_MALFORMED for a CR or LF that is not a CRLF.
 */
static int next_line(struct cursor *c, const char **line, size_t *line_len, struct snp_err *err)
{
	for (size_t i = c->pos; i < c->len; i++) {
		if (c->buf[i] == '\n')
			return snp_errf(err, HTTP_ERR_MALFORMED, "a line ends in a bare LF (offset %zu)",
					i);
		if (c->buf[i] != '\r')
			continue;
		if (i + 1 == c->len)
			return 0;
		if (c->buf[i + 1] != '\n')
			return snp_errf(err, HTTP_ERR_MALFORMED, "a bare CR at offset %zu", i);
		*line = c->buf + c->pos;
		*line_len = i - c->pos;
		c->pos = i + 2;
		return 1;
	}
	return 0;
}

/* "HTTP/1.0" or "HTTP/1.1" into *minor. */
static int parse_version(const char *s, size_t len, int *minor, struct snp_err *err)
{
	if (len != 8 || memcmp(s, "HTTP/", 5) || !is_digit(s[5]) || s[6] != '.' || !is_digit(s[7]))
		return snp_errf(err, HTTP_ERR_MALFORMED, "\"%.*s\" is not an HTTP version",
				(int)(len > 16 ? 16 : len), s);
	if (s[5] != '1' || s[7] > '1')
		return snp_errf(err, HTTP_ERR_UNSUPPORTED, "HTTP/%c.%c is not supported", s[5], s[7]);
	*minor = s[7] - '0';
	return 0;
}

/* Digits only, at least one, no overflow of uint64_t. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && !strncasecmp(name, want, len);
}

static bool value_is(const char *v, size_t len, const char *want)
{
	return name_is(v, len, want);
}

/* Connection: a comma-separated list of tokens. */
static int parse_connection(struct head *h, const char *v, size_t len, struct snp_err *err)
{
	size_t i = 0, start, end;

	while (i < len) {
		while (i < len && (is_ows(v[i]) || v[i] == ','))
			i++;
		start = i;
		while (i < len && is_tchar((unsigned char)v[i]))
			i++;
		end = i;
		while (i < len && is_ows(v[i]))
			i++;
		if (i < len && v[i] != ',')
			return snp_errf(err, HTTP_ERR_MALFORMED,
					"the Connection header is not a list of tokens");
		if (value_is(v + start, end - start, "close"))
			h->conn_close = true;
		else if (value_is(v + start, end - start, "keep-alive"))
			h->conn_keep_alive = true;
	}
	return 0;
}

/* application/json, with parameters or without. */
static bool is_json(const char *v, size_t len)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (len < n || strncasecmp(v, json, n))
		return false;
	while (n < len && is_ows(v[n]))
		n++;
	return n == len || v[n] == ';';
}

static int parse_content_length(struct head *h, const char *v, size_t len, struct snp_err *err)
{
	if (h->has_content_length)
		return snp_errf(err, HTTP_ERR_MALFORMED, "Content-Length is repeated");
	if (!parse_u64(v, len, &h->content_length))
		return snp_errf(err, HTTP_ERR_MALFORMED,
				"Content-Length \"%.*s\" is not a number of bytes",
				(int)(len > 24 ? 24 : len), v);
	h->has_content_length = true;
	return 0;
}

/* Delta-seconds; an HTTP-date (or anything else) is ignored. */
static void parse_retry_after(struct head *h, const char *v, size_t len)
{
	long secs = 0;
	size_t i;

	for (i = 0; i < len && is_digit(v[i]); i++)
		if (secs < RETRY_AFTER_MAX)
			secs = secs * 10 + (v[i] - '0');
	if (len && i == len)
		h->retry_after = secs < RETRY_AFTER_MAX ? secs : RETRY_AFTER_MAX;
}

static int parse_host(struct head *h, const char *v, size_t len, struct snp_err *err)
{
	if (h->has_host)
		return snp_errf(err, HTTP_ERR_MALFORMED, "Host is repeated");
	if (len >= sizeof(h->host))
		return snp_errf(err, HTTP_ERR_MALFORMED, "Host is longer than %zu bytes",
				sizeof(h->host) - 1);
	memcpy(h->host, v, len);
	h->host[len] = '\0';
	h->has_host = true;
	return 0;
}

static int header_value(struct head *h, const char *name, size_t name_len, const char *v,
			size_t len, struct snp_err *err)
{
	if (name_is(name, name_len, "Transfer-Encoding"))
		return snp_errf(err, HTTP_ERR_UNSUPPORTED,
				"Transfer-Encoding is not supported (Content-Length only)");
	if (name_is(name, name_len, "Content-Length"))
		return parse_content_length(h, v, len, err);
	if (name_is(name, name_len, "Connection"))
		return parse_connection(h, v, len, err);
	if (name_is(name, name_len, "Host"))
		return parse_host(h, v, len, err);
	if (name_is(name, name_len, "Content-Type")) {
		if (h->has_content_type)
			return snp_errf(err, HTTP_ERR_MALFORMED, "Content-Type is repeated");
		h->has_content_type = true;
		h->content_type_json = is_json(v, len);
	} else if (name_is(name, name_len, "Retry-After")) {
		parse_retry_after(h, v, len);
	}
	return 0;
}

/* name ":" OWS value OWS, with a token name and no obs-fold. */
static int header_line(struct head *h, const char *line, size_t len, struct snp_err *err)
{
	size_t colon, start, end;

	if (is_ows(line[0]))
		return snp_errf(err, HTTP_ERR_MALFORMED, "a header line is folded (obs-fold)");
	for (colon = 0; colon < len && is_tchar((unsigned char)line[colon]); colon++)
		;
	if (colon == len || line[colon] != ':')
		return snp_errf(err, HTTP_ERR_MALFORMED, "the header \"%.*s\" has no token name "
				"followed by a colon", (int)(len > 32 ? 32 : len), line);
	if (colon == 0)
		return snp_errf(err, HTTP_ERR_MALFORMED, "a header has an empty name");
	for (size_t i = colon + 1; i < len; i++)
		if (!is_field_char((unsigned char)line[i]))
			return snp_errf(err, HTTP_ERR_MALFORMED,
					"the header %.*s holds the control character 0x%02x",
					(int)colon, line, (unsigned char)line[i]);
	for (start = colon + 1; start < len && is_ows(line[start]); start++)
		;
	for (end = len; end > start && is_ows(line[end - 1]); end--)
		;
	return header_value(h, line, colon, line + start, end - start, err);
}

/*
 * The header lines after the start line, up to the empty line: 1 when it
 * came (c->pos is then the head's length), 0 when more is needed.
 */
static int header_lines(struct cursor *c, struct head *h, struct snp_err *err)
{
	const char *line;
	size_t len;
	int ret;

	for (;;) {
		ret = next_line(c, &line, &len, err);
		if (ret <= 0)
			return ret;
		if (len == 0)
			return 1;
		ret = header_line(h, line, len, err);
		if (ret)
			return ret;
	}
}

/* Only the first max_head bytes may hold the head. */
static void cursor_start(struct cursor *c, const char *buf, size_t len, size_t max_head)
{
	c->buf = buf;
	c->len = len < max_head ? len : max_head;
	c->pos = 0;
}

/* Need more, or too large when max_head bytes came without the head's end. */
static int need_more(size_t len, size_t max_head, struct snp_err *err)
{
	if (len >= max_head)
		return snp_errf(err, HTTP_ERR_TOO_LARGE, "the head is larger than %zu bytes", max_head);
	return 0;
}

/* The start line that has not ended yet, as far as it goes, must be HTTP. */
static int partial_start_line(const char *buf, size_t len, bool response, struct snp_err *err)
{
	static const char version[] = "HTTP/1.";
	size_t n = len < sizeof(version) - 1 ? len : sizeof(version) - 1;

	if (response && memcmp(buf, version, n))
		return snp_errf(err, HTTP_ERR_MALFORMED, "the response does not start with HTTP/1.");
	for (size_t i = 0; !response && i < len && buf[i] != ' '; i++)
		if (!is_tchar((unsigned char)buf[i]))
			return snp_errf(err, HTTP_ERR_MALFORMED, "the request method is not a token");
	return 0;
}

static int request_target(struct http_request *req, const char *s, size_t len,
			  struct snp_err *err)
{
	if (!len || s[0] != '/')
		return snp_errf(err, HTTP_ERR_MALFORMED, "the request target is not an absolute path");
	if (len >= sizeof(req->path))
		return snp_errf(err, HTTP_ERR_MALFORMED, "the request target is longer than %zu bytes",
				sizeof(req->path) - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '#')
			return snp_errf(err, HTTP_ERR_MALFORMED,
					"the request target holds the byte 0x%02x",
					(unsigned char)s[i]);
	memcpy(req->path, s, len);
	req->path[len] = '\0';
	return 0;
}

/* METHOD SP origin-form SP HTTP-version */
static int request_line(struct http_request *req, const char *line, size_t len,
			struct snp_err *err)
{
	const char *sp1 = memchr(line, ' ', len), *sp2;
	size_t mlen;
	int ret;

	sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
	if (!sp2)
		return snp_errf(err, HTTP_ERR_MALFORMED, "the request line is not METHOD PATH VERSION");
	ret = parse_version(sp2 + 1, len - (size_t)(sp2 + 1 - line), &req->minor_version, err);
	if (ret)
		return ret;
	mlen = (size_t)(sp1 - line);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return snp_errf(err, HTTP_ERR_MALFORMED, "the request method is not a token");
	if (!mlen || mlen >= sizeof(req->method))
		return snp_errf(err, HTTP_ERR_MALFORMED, "the request method has %zu bytes", mlen);
	memcpy(req->method, line, mlen);
	req->method[mlen] = '\0';
	return request_target(req, sp1 + 1, (size_t)(sp2 - sp1 - 1), err);
}

/* HTTP/1.0 closes unless asked not to; HTTP/1.1 stays open unless asked to close. */
static bool head_closes(const struct head *h)
{
	return h->conn_close || (h->minor_version == 0 && !h->conn_keep_alive);
}

typedef int start_line_fn(void *msg, struct head *h, const char *line, size_t len,
			  struct snp_err *err);

/* Parse the start line with start(), then the headers, into h: 1, 0 or HTTP_ERR_*. */
static int parse_head(const char *buf, size_t len, size_t max_head, bool response,
		      start_line_fn *start, void *msg, struct head *h, size_t *head_len,
		      struct snp_err *err)
{
	struct cursor c;
	const char *line;
	size_t line_len;
	int ret;

	memset(h, 0, sizeof(*h));
	h->retry_after = -1;
	cursor_start(&c, buf, len, max_head);
	ret = next_line(&c, &line, &line_len, err);
	if (ret == 0)
		ret = partial_start_line(buf, c.len, response, err);
	if (ret == 0)
		return need_more(len, max_head, err);
	if (ret < 0)
		return ret;
	ret = start(msg, h, line, line_len, err);
	if (!ret)
		ret = header_lines(&c, h, err);
	if (ret == 0)
		return need_more(len, max_head, err);
	*head_len = c.pos;
	return ret;
}

static int request_start(void *msg, struct head *h, const char *line, size_t len,
			 struct snp_err *err)
{
	struct http_request *req = msg;
	int ret;

	ret = request_line(req, line, len, err);
	h->minor_version = req->minor_version;
	return ret;
}

int http_request_parse(const char *buf, size_t len, size_t max_head, struct http_request *req,
		       struct snp_err *err)
{
	struct head h;
	int ret;

	memset(req, 0, sizeof(*req));
	ret = parse_head(buf, len, max_head, false, request_start, req, &h, &req->head_len, err);
	if (ret <= 0)
		return ret;
	/* RFC 9112 3.2: a request without Host (twice is refused above) is a 400. */
	if (!h.has_host && req->minor_version == 1)
		return snp_errf(err, HTTP_ERR_MALFORMED, "the request has no Host header");
	req->has_content_length = h.has_content_length;
	req->content_length = h.content_length;
	req->content_type_json = h.content_type_json;
	req->close = head_closes(&h);
	memcpy(req->host, h.host, sizeof(req->host));
	return 1;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] */
static int status_line(void *msg, struct head *h, const char *line, size_t len,
		       struct snp_err *err)
{
	struct http_response *resp = msg;
	int ret;

	ret = parse_version(line, len < 8 ? len : 8, &h->minor_version, err);
	if (ret)
		return ret;
	if (len < 12 || line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) ||
	    !is_digit(line[11]) || line[9] < '1' || line[9] > '5' || (len > 12 && line[12] != ' '))
		return snp_errf(err, HTTP_ERR_MALFORMED, "the status line is not HTTP/1.x NNN reason");
	for (size_t i = 13; i < len; i++)
		if (!is_field_char((unsigned char)line[i]))
			return snp_errf(err, HTTP_ERR_MALFORMED,
					"the reason phrase holds the byte 0x%02x",
					(unsigned char)line[i]);
	resp->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return 0;
}

int http_response_parse(const char *buf, size_t len, size_t max_head, struct http_response *resp,
			struct snp_err *err)
{
	struct head h;
	int ret;

	memset(resp, 0, sizeof(*resp));
	ret = parse_head(buf, len, max_head, true, status_line, resp, &h, &resp->head_len, err);
	if (ret <= 0)
		return ret;
	resp->has_content_length = h.has_content_length;
	resp->content_length = h.content_length;
	resp->content_type_json = h.content_type_json;
	resp->close = head_closes(&h);
	resp->retry_after = h.retry_after;
	return 1;
}

/* ---- writing heads ---- */

/* Visible ASCII only: nothing that could end a line or split a field. */
static bool is_visible(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int head_end(char *out, size_t size, int n, const char *content_type, size_t body_len,
		    bool with_length)
{
	int m;

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	if (content_type && !is_visible(content_type))
		return -EINVAL;
	m = snprintf(out + n, size - (size_t)n, "%s%s%s", content_type ? "Content-Type: " : "",
		     content_type ? content_type : "", content_type ? "\r\n" : "");
	if (m < 0 || (size_t)m >= size - (size_t)n)
		return -ENOSPC;
	n += m;
	if (with_length)
		m = snprintf(out + n, size - (size_t)n, "Content-Length: %zu\r\n\r\n", body_len);
	else
		m = snprintf(out + n, size - (size_t)n, "\r\n");
	if (m < 0 || (size_t)m >= size - (size_t)n)
		return -ENOSPC;
	return n + m;
}

int http_response_head(char *out, size_t size, int status, const char *content_type,
		       size_t body_len, bool close)
{
	int n;

	if (status < 100 || status > 599)
		return -EINVAL;
	/* Answers carry nonces and sealed secrets: no cache keeps them. */
	n = snprintf(out, size, "HTTP/1.1 %d %s\r\nCache-Control: no-store\r\n%s", status,
		     http_status_text(status), close ? "Connection: close\r\n" : "");
	return head_end(out, size, n, content_type, body_len, true);
}

int http_request_head(char *out, size_t size, const char *method, const char *host,
		      unsigned int port, const char *path, const char *content_type,
		      size_t body_len)
{
	bool v6 = strchr(host, ':') != NULL, bodiless;
	char port_text[8] = "";
	int n;

	if (!is_visible(method) || !is_visible(host) || !is_visible(path) || path[0] != '/' ||
	    !port || port > 65535)
		return -EINVAL;
	if (port != 443)
		snprintf(port_text, sizeof(port_text), ":%u", port);
	n = snprintf(out, size, "%s %s HTTP/1.1\r\nHost: %s%s%s%s\r\n", method, path,
		     v6 ? "[" : "", host, v6 ? "]" : "", port_text);
	bodiless = !body_len && (!strcmp(method, "GET") || !strcmp(method, "HEAD"));
	return head_end(out, size, n, content_type, body_len, !bodiless);
}

const char *http_status_text(int status)
{
	static const struct {
		int status;
		const char *text;
	} texts[] = {
		{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" }, { 304, "Not Modified" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 411, "Length Required" }, { 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" }, { 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].status == status)
			return texts[i].text;
	return "Unknown";
}

/* ---- URLs ---- */

/* A DNS name: letters, digits, hyphens, non-empty dot-separated labels. */
static bool is_dns_name(const char *s, size_t len)
{
	size_t label = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (!label)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
			   c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return len > 0;
}

static int url_host(const char *url, const char *s, size_t len, struct http_url *out,
		    struct snp_err *err)
{
	struct in6_addr a6;

	if (len && s[0] == '[') {
		if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(out->host))
			return snp_errf(err, -EINVAL, "%.200s: the IPv6 address is not in brackets",
					url);
		memcpy(out->host, s + 1, len - 2);
		out->host[len - 2] = '\0';
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return snp_errf(err, -EINVAL, "%.200s: \"%s\" is not an IPv6 address", url,
					out->host);
		return 0;
	}
	if (len >= sizeof(out->host) || !is_dns_name(s, len))
		return snp_errf(err, -EINVAL,
				"%.200s: the host is not a host name or an IPv4 address", url);
	memcpy(out->host, s, len);
	out->host[len] = '\0';
	return 0;
}

static int url_port(const char *url, const char *s, size_t len, struct http_url *out,
		    struct snp_err *err)
{
	uint64_t port;

	if (len > 5 || !parse_u64(s, len, &port) || port < 1 || port > 65535)
		return snp_errf(err, -EINVAL, "%.200s: the port is not a number from 1 to 65535",
				url);
	out->port = (unsigned int)port;
	return 0;
}

static int url_path(const char *url, const char *s, struct http_url *out, struct snp_err *err)
{
	size_t len = strlen(s);

	if (!len) {
		strcpy(out->path, "/");
		return 0;
	}
	/* "https://host?q" asks for "/?q". */
	if (len + (s[0] == '?') >= sizeof(out->path))
		return snp_errf(err, -EINVAL, "%.200s: the path is longer than %zu bytes", url,
				sizeof(out->path) - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return snp_errf(err, -EINVAL, "%.200s: the path holds the byte 0x%02x", url,
					(unsigned char)s[i]);
	out->path[0] = '/';
	memcpy(out->path + (s[0] == '?'), s, len + 1);
	return 0;
}

int http_url_parse(const char *url, struct http_url *out, struct snp_err *err)
{
	static const char scheme[] = "https://";
	const char *auth, *end, *colon;
	int ret;

	memset(out, 0, sizeof(*out));
	out->port = 443;
	if (strncasecmp(url, scheme, sizeof(scheme) - 1))
		return snp_errf(err, -EINVAL, "%.200s: only https:// URLs are supported", url);
	if (strchr(url, '#'))
		return snp_errf(err, -EINVAL, "%.200s: a URL with a fragment (#) is not supported",
				url);
	auth = url + sizeof(scheme) - 1;
	end = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(end - auth)))
		return snp_errf(err, -EINVAL, "%.200s: user information (user@) is not supported",
				url);
	/* The port's colon is the last one, after any IPv6 brackets. */
	colon = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon && memchr(colon, ']', (size_t)(end - colon)))
		colon = NULL;
	ret = url_host(url, auth, (size_t)((colon ? colon : end) - auth), out, err);
	if (!ret && colon)
		ret = url_port(url, colon + 1, (size_t)(end - colon - 1), out, err);
	if (!ret)
		ret = url_path(url, end, out, err);
	return ret;
}
