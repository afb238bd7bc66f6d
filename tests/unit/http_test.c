// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tls/http.c and tls/client.c: every strictness rule of the head parsers,
 * whole and fed byte by byte; heads written and read back; URLs; and
 * http_client_request against a real TLS server that misbehaves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/unit/tls_peer.h"
#include "tls/http.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SLACK_MS	700

struct head_case {
	const char *text;
	int want;		/* 1 or HTTP_ERR_* for the whole text */
};

/* len of text, which may hold a NUL: the cases mark it as "\\0" written out. */
static size_t case_len(const char *text, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = text; *p && n < size; n++) {
		if (!strncmp(p, "\\0", 2)) {
			buf[n] = '\0';
			p += 2;
		} else {
			buf[n] = *p++;
		}
	}
	return n;
}

typedef int parse_fn(const char *buf, size_t len, size_t max_head, struct snp_err *err);

static int parse_request(const char *buf, size_t len, size_t max_head, struct snp_err *err)
{
	struct http_request req;

	return http_request_parse(buf, len, max_head, &req, err);
}

static int parse_response(const char *buf, size_t len, size_t max_head, struct snp_err *err)
{
	struct http_response resp;

	return http_response_parse(buf, len, max_head, &resp, err);
}

/*
 * The whole text gives the case's result; every prefix of it gives 0 or
 * an error, never "complete"; a complete head is "need more" until its
 * last byte.
 */
static void check_cases(parse_fn *parse, const struct head_case *cases, size_t count)
{
	char buf[1024];
	struct snp_err err;
	size_t len;
	int ret;

	for (size_t i = 0; i < count; i++) {
		len = case_len(cases[i].text, buf, sizeof(buf));
		err.msg[0] = '\0';
		ret = parse(buf, len, HTTP_HEADER_MAX, &err);
		if (!test_check(ret == cases[i].want, __FILE__, __LINE__, cases[i].text))
			continue;
		if (ret < 0)
			CHECK(err.msg[0] != '\0');
		for (size_t n = 0; n < len; n++) {
			ret = parse(buf, n, HTTP_HEADER_MAX, &err);
			if (cases[i].want == 1 && !test_check(ret == 0, __FILE__, __LINE__,
							      cases[i].text))
				break;
			if (!test_check(ret <= 0, __FILE__, __LINE__, cases[i].text))
				break;
		}
	}
}

TEST(http_request_parse_strictness)
{
	static const struct head_case cases[] = {
		{ "POST /v1/challenge HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\n", 1 },
		{ "GET /x?y=1&z HTTP/1.0\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nHost: b\r\nX-Empty:\r\nX-Obs: caf\xc3\xa9\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 18446744073709551615\r\n\r\n", 1 },
		/* line ends */
		{ "GET / HTTP/1.1\nHost: b\n\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\n\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\rX: 1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "\r\nGET / HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		/* request line */
		{ "GET  / HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1 \r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET /\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET http://b/ HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "OPTIONS * HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET /a#f HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "G(T / HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GETGETGETGETGETGE / HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / http/1.1\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1x\r\nHost: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/2.0\r\nHost: b\r\n\r\n", HTTP_ERR_UNSUPPORTED },
		{ "GET / HTTP/1.2\r\nHost: b\r\n\r\n", HTTP_ERR_UNSUPPORTED },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP_ERR_UNSUPPORTED },
		/* header names and values */
		{ "GET / HTTP/1.1\r\nHost : b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost\t: b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nX: 1\r\n 2\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\n\tX: 1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nX: a\\0b\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nX: a\x01z\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nX: a\x7f\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nX(y): 1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\n: 1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nNoColon\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nX\\0: 1\r\n\r\n", HTTP_ERR_MALFORMED },
		/* Host */
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nhost: c\r\n\r\n", HTTP_ERR_MALFORMED },
		/* Content-Length */
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 1a\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: +1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: -1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 1 2\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 1,1\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length:\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 0x10\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 18446744073709551616\r\n\r\n",
		  HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  HTTP_ERR_MALFORMED },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n",
		  HTTP_ERR_MALFORMED },
		/* Transfer-Encoding */
		{ "POST / HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n",
		  HTTP_ERR_UNSUPPORTED },
		{ "POST / HTTP/1.1\r\nHost: b\r\ntransfer-encoding: identity\r\n\r\n",
		  HTTP_ERR_UNSUPPORTED },
	};

	check_cases(parse_request, cases, ARRAY_SIZE(cases));
}

TEST(http_response_parse_strictness)
{
	static const struct head_case cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", 1 },
		{ "HTTP/1.0 404 Not Found\r\n\r\n", 1 },
		{ "HTTP/1.1 204\r\n\r\n", 1 },
		{ "HTTP/1.1 200 \r\n\r\n", 1 },
		{ "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n\r\n", 1 },
		{ "HTTP/1.1 200 OK\nContent-Length: 3\n\n", HTTP_ERR_MALFORMED },
		{ "HTTP/1.1 20 OK\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/1.1 2000 OK\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/1.1 600 Nope\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/1.1 099 Nope\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/1.1  200 OK\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/2 200\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/2.0 200 OK\r\n\r\n", HTTP_ERR_UNSUPPORTED },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_ERR_UNSUPPORTED },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
		  HTTP_ERR_MALFORMED },
		{ "HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\n", HTTP_ERR_MALFORMED },
		{ "HTTP/1.1 200 OK\r\nX: 1\r\n  2\r\n\r\n", HTTP_ERR_MALFORMED },
		/* Not HTTP at all: refused before any line end. */
		{ "SSH-2.0-OpenSSH_9.2p1", HTTP_ERR_MALFORMED },
		{ "<html>", HTTP_ERR_MALFORMED },
		{ "\x16\x03\x01", HTTP_ERR_MALFORMED },
	};

	check_cases(parse_response, cases, ARRAY_SIZE(cases));
}

TEST(http_request_parse_fills_the_request)
{
	static const char text[] = "POST /v1/unseal?x=1 HTTP/1.1\r\nHost:  broker.test:8443 \r\n"
		"Content-Type: Application/JSON; charset=utf-8\r\nContent-Length:  24\t\r\n"
		"Connection: keep-alive\r\n\r\n{\"body\": \"comes after\"}";
	struct http_request req;
	struct snp_err err;

	REQUIRE(http_request_parse(text, sizeof(text) - 1, HTTP_HEADER_MAX, &req, &err) == 1);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.path, "/v1/unseal?x=1");
	CHECK_STR(req.host, "broker.test:8443");
	CHECK(req.minor_version == 1);
	CHECK(req.has_content_length && req.content_length == 24);
	CHECK(req.content_type_json);
	CHECK(!req.close);
	CHECK(req.head_len == (size_t)(strstr(text, "{") - text));
}

struct connection_case {
	const char *text;
	bool close;
	bool json;
};

TEST(http_connection_and_content_type)
{
	static const struct connection_case cases[] = {
		{ "GET / HTTP/1.1\r\nHost: b\r\n\r\n", false, false },
		{ "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n", true, false },
		{ "GET / HTTP/1.1\r\nHost: b\r\nConnection: Upgrade, CLOSE\r\n\r\n", true, false },
		{ "GET / HTTP/1.1\r\nHost: b\r\nConnection: closed\r\n\r\n", false, false },
		{ "GET / HTTP/1.0\r\n\r\n", true, false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false, false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", true, false },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\r\n", false, true },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Type: application/json;x=y\r\n\r\n", false,
		  true },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Type: application/jsonx\r\n\r\n", false,
		  false },
		{ "GET / HTTP/1.1\r\nHost: b\r\nContent-Type: text/plain\r\n\r\n", false, false },
	};
	static const char bad_list[] = "GET / HTTP/1.1\r\nHost: b\r\nConnection: a b\r\n\r\n";
	struct http_request req;
	struct snp_err err;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *t = cases[i].text;

		if (!test_check(http_request_parse(t, strlen(t), HTTP_HEADER_MAX, &req, &err) == 1,
				__FILE__, __LINE__, t))
			continue;
		test_check(req.close == cases[i].close, __FILE__, __LINE__, t);
		test_check(req.content_type_json == cases[i].json, __FILE__, __LINE__, t);
	}
	CHECK(http_request_parse(bad_list, strlen(bad_list), HTTP_HEADER_MAX, &req, &err) ==
	      HTTP_ERR_MALFORMED);
}

struct retry_case {
	const char *value;
	long want;
};

TEST(http_retry_after_takes_delta_seconds_only)
{
	static const struct retry_case cases[] = {
		{ "120", 120 }, { "0", 0 }, { "Fri, 31 Dec 1999 23:59:59 GMT", -1 },
		{ "12s", -1 }, { "-5", -1 }, { "", -1 }, { "99999999999999999999", 2147483648L },
	};
	struct http_response resp;
	struct snp_err err;
	char text[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), "HTTP/1.1 429 Too Many Requests\r\nRetry-After: %s\r\n"
			 "Content-Length: 0\r\n\r\n", cases[i].value);
		if (!test_check(http_response_parse(text, strlen(text), HTTP_HEADER_MAX, &resp,
						    &err) == 1, __FILE__, __LINE__, cases[i].value))
			continue;
		test_check(resp.retry_after == cases[i].want, __FILE__, __LINE__, cases[i].value);
		CHECK(resp.status == 429);
	}
	REQUIRE(http_response_parse("HTTP/1.0 200 OK\r\n\r\n", 19, 64, &resp, &err) == 1);
	CHECK(resp.retry_after == -1);
	CHECK(resp.close);
	CHECK(!resp.has_content_length);
}

TEST(http_head_limit)
{
	char text[HTTP_HEADER_MAX + 64];
	struct http_request req;
	struct snp_err err;
	size_t len;

	/* A head of exactly max_head bytes, then one byte more. */
	len = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: b\r\nX: %s\r\n\r\n",
			       "0123456789");
	CHECK(http_request_parse(text, len, len, &req, &err) == 1);
	CHECK(req.head_len == len);
	CHECK(http_request_parse(text, len, len - 1, &req, &err) == HTTP_ERR_TOO_LARGE);
	/* Still incomplete at max_head bytes: too large, not "need more". */
	CHECK(http_request_parse(text, len - 2, len - 2, &req, &err) == HTTP_ERR_TOO_LARGE);
	CHECK(http_request_parse(text, len - 2, len - 1, &req, &err) == 0);
	/* A long header line that never ends. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "GET / HTTP/1.1\r\nX: ", 19);
	CHECK(http_request_parse(text, HTTP_HEADER_MAX - 1, HTTP_HEADER_MAX, &req, &err) == 0);
	CHECK(http_request_parse(text, sizeof(text), HTTP_HEADER_MAX, &req, &err) ==
	      HTTP_ERR_TOO_LARGE);
	CHECK(strstr(err.msg, "8192") != NULL);
}

TEST(http_heads_written_parse_back)
{
	char out[512];
	struct http_request req;
	struct http_response resp;
	struct snp_err err;
	int n;

	n = http_request_head(out, sizeof(out), "POST", "broker.test", 8443, "/v1/challenge",
			      "application/json", 2);
	REQUIRE(n > 0 && (size_t)n == strlen(out));
	REQUIRE(http_request_parse(out, (size_t)n, HTTP_HEADER_MAX, &req, &err) == 1);
	CHECK_STR(req.host, "broker.test:8443");
	CHECK(req.content_length == 2 && req.content_type_json && !req.close);
	n = http_request_head(out, sizeof(out), "GET", "::1", 443, "/vcek", NULL, 0);
	REQUIRE(n > 0);
	REQUIRE(http_request_parse(out, (size_t)n, HTTP_HEADER_MAX, &req, &err) == 1);
	CHECK_STR(req.host, "[::1]");
	CHECK(!req.has_content_length);

	n = http_response_head(out, sizeof(out), 413, "application/json", 57, true);
	REQUIRE(n > 0);
	REQUIRE(http_response_parse(out, (size_t)n, HTTP_HEADER_MAX, &resp, &err) == 1);
	CHECK(resp.status == 413 && resp.content_length == 57 && resp.close);
	CHECK(strstr(out, "413 Content Too Large\r\n") != NULL);
	n = http_response_head(out, sizeof(out), 200, "application/json", 0, false);
	REQUIRE(http_response_parse(out, (size_t)n, HTTP_HEADER_MAX, &resp, &err) == 1);
	CHECK(!resp.close && resp.has_content_length && resp.content_type_json);

	/* Too small, and attempts to add lines of one's own. */
	CHECK(http_response_head(out, 20, 200, "application/json", 10, false) == -ENOSPC);
	CHECK(http_request_head(out, 30, "POST", "b", 443, "/", "application/json", 1) == -ENOSPC);
	CHECK(http_request_head(out, sizeof(out), "GET", "b\r\nX: 1", 443, "/", NULL, 0) == -EINVAL);
	CHECK(http_request_head(out, sizeof(out), "GET", "b", 443, "/ HTTP/1.0\r\n", NULL, 0) ==
	      -EINVAL);
	CHECK(http_response_head(out, sizeof(out), 200, "a\r\nSet-Cookie: x", 1, false) == -EINVAL);
}

TEST(http_status_texts)
{
	CHECK_STR(http_status_text(200), "OK");
	CHECK_STR(http_status_text(400), "Bad Request");
	CHECK_STR(http_status_text(431), "Request Header Fields Too Large");
	CHECK_STR(http_status_text(503), "Service Unavailable");
	CHECK_STR(http_status_text(299), "Unknown");
}

struct url_case {
	const char *url;
	const char *host;	/* NULL: refused */
	unsigned int port;
	const char *path;
};

TEST(http_url_parse_https_only)
{
	static const struct url_case cases[] = {
		{ "https://kdsintf.amd.com", "kdsintf.amd.com", 443, "/" },
		{ "https://broker.test:8443/v1/challenge?a=b", "broker.test", 8443,
		  "/v1/challenge?a=b" },
		{ "HTTPS://Broker.Test/", "Broker.Test", 443, "/" },
		{ "https://192.0.2.7:1/x", "192.0.2.7", 1, "/x" },
		{ "https://[::1]:65535/p", "::1", 65535, "/p" },
		{ "https://[2001:db8::1]", "2001:db8::1", 443, "/" },
		{ "https://h?q=1", "h", 443, "/?q=1" },
		{ "http://broker.test/", NULL, 0, NULL },
		{ "ftp://broker.test/", NULL, 0, NULL },
		{ "broker.test/x", NULL, 0, NULL },
		{ "https://", NULL, 0, NULL },
		{ "https:///x", NULL, 0, NULL },
		{ "https://user@broker.test/", NULL, 0, NULL },
		{ "https://u:p@broker.test/", NULL, 0, NULL },
		{ "https://broker.test/#frag", NULL, 0, NULL },
		{ "https://broker.test:0/", NULL, 0, NULL },
		{ "https://broker.test:65536/", NULL, 0, NULL },
		{ "https://broker.test:/", NULL, 0, NULL },
		{ "https://broker.test:8a/", NULL, 0, NULL },
		{ "https://broker.test:+443/", NULL, 0, NULL },
		{ "https://[::1/", NULL, 0, NULL },
		{ "https://[zz::1]/", NULL, 0, NULL },
		{ "https://::1/", NULL, 0, NULL },
		{ "https://bro ker.test/", NULL, 0, NULL },
		{ "https://broker..test/", NULL, 0, NULL },
		{ "https://broker.test/a b", NULL, 0, NULL },
		{ "https://broker.test/\x7f", NULL, 0, NULL },
	};
	char long_url[600];
	struct http_url url;
	struct snp_err err;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct url_case *c = &cases[i];
		int ret = http_url_parse(c->url, &url, &err);

		if (!c->host) {
			test_check(ret == -EINVAL, __FILE__, __LINE__, c->url);
			continue;
		}
		if (!test_check(ret == 0, __FILE__, __LINE__, c->url))
			continue;
		CHECK_STR(url.host, c->host);
		CHECK(url.port == c->port);
		CHECK_STR(url.path, c->path);
	}
	CHECK(http_url_parse("http://broker.test/", &url, &err) == -EINVAL);
	CHECK(strstr(err.msg, "https://") != NULL);
	snprintf(long_url, sizeof(long_url), "https://h/%0300d", 0);
	CHECK(http_url_parse(long_url, &url, &err) == -EINVAL);
	snprintf(long_url, sizeof(long_url), "https://%0300d/", 0);
	CHECK(http_url_parse(long_url, &url, &err) == -EINVAL);
}

/* ---- http_client_request against a real server ---- */

struct canned {
	const char *reply;
	size_t piece;		/* bytes per write; 0: all at once */
	int pause_ms;		/* between pieces */
	/* What the server saw. */
	int request;
	struct http_request req;
	char body[64];
};

/* Read a request and its body, send the canned reply, wait for the client to go. */
static void serve_canned(struct tls_peer *peer, struct tls_conn *conn, int index)
{
	struct canned *c = peer->data;
	char buf[1024], rest[16];
	size_t have = 0, len = strlen(c->reply), piece;
	ssize_t n;

	(void)index;
	do {
		n = peer_read(conn, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return;
		have += (size_t)n;
		c->request = http_request_parse(buf, have, sizeof(buf) - 1, &c->req, NULL);
	} while (c->request == 0);
	if (c->request != 1 || c->req.content_length > sizeof(c->body) - 1 ||
	    have - c->req.head_len > c->req.content_length)
		return;
	while (have - c->req.head_len < c->req.content_length &&
	       (n = peer_read(conn, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	memcpy(c->body, buf + c->req.head_len, have - c->req.head_len);
	for (size_t off = 0; off < len; off += piece) {
		piece = c->piece && c->piece < len - off ? c->piece : len - off;
		if (off && c->pause_ms)
			usleep((useconds_t)c->pause_ms * 1000);
		if (peer_write_all(conn, c->reply + off, piece))
			return;
	}
	while (peer_read(conn, rest, sizeof(rest)) > 0)
		;
}

/* Serve c once; the client's result, what it got, and how long it took. */
static int canned_request(struct canned *c, const char *method, const char *body,
			  size_t max_body, int bound_ms, struct http_client_response *resp,
			  int64_t *elapsed, struct snp_err *err)
{
	struct tls_client_opts opts = { .ca_file = TLS_FIXTURE("ca.pem") };
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn = NULL;
	struct snp_deadline dl;
	struct tls_peer peer;
	int ret;

	if (!tls_peer_start(&peer, 1, serve_canned, c))
		return 1;
	ret = peer_connect(&peer, &opts, PEER_HOST, 2000, &ctx, &conn, err);
	CHECK(ret == 0);
	if (!ret) {
		*elapsed = snp_now_ms();
		snp_deadline_start(&dl, bound_ms);
		ret = http_client_request(conn, PEER_HOST, peer.port, method, "/v1/challenge", body,
					  body ? strlen(body) : 0, max_body, &dl, resp, err);
		*elapsed = snp_now_ms() - *elapsed;
	}
	tls_conn_free(conn);
	tls_client_ctx_free(ctx);
	tls_peer_stop(&peer);
	return ret;
}

TEST(http_client_request_reads_the_response)
{
	struct canned c = {
		.reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			 "Retry-After: 7\r\nContent-Length: 22\r\n\r\n{\"error\":\"overloaded\"}",
	};
	struct http_client_response resp;
	struct snp_err err;
	int64_t elapsed;

	REQUIRE(canned_request(&c, "POST", "{}", 16384, 2000, &resp, &elapsed, &err) == 0);
	CHECK(resp.status == 503);
	CHECK(resp.retry_after == 7);
	CHECK(!resp.close);
	CHECK(resp.body_len == 22);
	CHECK_STR((const char *)resp.body, "{\"error\":\"overloaded\"}");
	http_client_response_free(&resp);
	CHECK(resp.body == NULL);
	/* The server parsed what the client sent. */
	CHECK(c.request == 1);
	CHECK_STR(c.req.method, "POST");
	CHECK_STR(c.req.path, "/v1/challenge");
	CHECK(strncmp(c.req.host, "broker.test:", 12) == 0);
	CHECK(c.req.content_type_json && c.req.content_length == 2);
	CHECK_STR(c.body, "{}");
}

TEST(http_client_request_reads_a_trickle)
{
	struct canned c = {
		.reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
		.piece = 1,
		.pause_ms = 3,
	};
	struct http_client_response resp;
	struct snp_err err;
	int64_t elapsed;

	REQUIRE(canned_request(&c, "GET", NULL, 16, 2000, &resp, &elapsed, &err) == 0);
	CHECK(resp.status == 200 && resp.close && resp.retry_after == -1);
	CHECK(resp.body_len == 5 && resp.body[5] == '\0');
	CHECK_STR((const char *)resp.body, "hello");
	http_client_response_free(&resp);
	CHECK(!c.req.has_content_length);
}

TEST(http_client_request_refuses_a_large_body_unread)
{
	/* The body never comes: refusing must not wait for it. */
	struct canned c = { .reply = "HTTP/1.1 200 OK\r\nContent-Length: 16385\r\n\r\n" };
	struct http_client_response resp;
	struct snp_err err;
	int64_t elapsed;

	CHECK(canned_request(&c, "POST", "{}", 16384, 2000, &resp, &elapsed, &err) == -EMSGSIZE);
	CHECK(elapsed < 1000);
	CHECK(strstr(err.msg, "16385") != NULL);
	CHECK(resp.body == NULL);
}

TEST(http_client_request_refuses_garbage_at_once)
{
	static const char *const replies[] = {
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\n{}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{}",
	};
	struct http_client_response resp;
	struct snp_err err;
	int64_t elapsed;

	for (size_t i = 0; i < ARRAY_SIZE(replies); i++) {
		struct canned c = { .reply = replies[i] };

		test_check(canned_request(&c, "POST", "{}", 64, 2000, &resp, &elapsed, &err) ==
			   -EPROTO, __FILE__, __LINE__, replies[i]);
		CHECK(elapsed < 1000);
		CHECK(err.msg[0] != '\0');
	}
}

TEST(http_client_request_times_out_on_a_stall)
{
	/* Three bytes of head, a byte each 50 ms, then nothing. */
	struct canned c = { .reply = "HTT", .piece = 1, .pause_ms = 50 };
	struct http_client_response resp;
	struct snp_err err;
	int64_t elapsed;

	CHECK(canned_request(&c, "POST", "{}", 64, 400, &resp, &elapsed, &err) == -ETIMEDOUT);
	CHECK(elapsed >= 395 && elapsed < 400 + SLACK_MS);
	CHECK(strstr(err.msg, "read") != NULL);
	CHECK(strstr(err.msg, "400 ms") != NULL);
}

TEST(http_client_request_times_out_on_a_stalled_body)
{
	struct canned c = { .reply = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123" };
	struct http_client_response resp;
	struct snp_err err;
	int64_t elapsed;

	CHECK(canned_request(&c, "POST", "{}", 64, 300, &resp, &elapsed, &err) == -ETIMEDOUT);
	CHECK(elapsed < 300 + SLACK_MS);
	CHECK(resp.body == NULL);
}

static void serve_short_body(struct tls_peer *peer, struct tls_conn *conn, int index)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
	char buf[512];

	(void)peer;
	(void)index;
	if (peer_read(conn, buf, sizeof(buf)) > 0)
		peer_write_all(conn, reply, sizeof(reply) - 1);
}

TEST(http_client_request_sees_an_early_close)
{
	struct tls_client_opts opts = { .ca_file = TLS_FIXTURE("ca.pem") };
	struct http_client_response resp;
	struct tls_client_ctx *ctx = NULL;
	struct tls_conn *conn = NULL;
	struct snp_deadline dl;
	struct tls_peer peer;
	struct snp_err err;

	REQUIRE(tls_peer_start(&peer, 1, serve_short_body, NULL));
	if (CHECK(peer_connect(&peer, &opts, PEER_HOST, 2000, &ctx, &conn, &err) == 0)) {
		snp_deadline_start(&dl, 2000);
		CHECK(http_client_request(conn, PEER_HOST, peer.port, "GET", "/", NULL, 0, 1000,
					  &dl, &resp, &err) == -ECONNRESET);
		CHECK(strstr(err.msg, "10 of 100") != NULL);
		CHECK(resp.body == NULL);
	}
	tls_conn_free(conn);
	tls_client_ctx_free(ctx);
	tls_peer_stop(&peer);
}
