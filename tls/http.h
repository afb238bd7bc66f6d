/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_TLS_HTTP_H
#define SNP_TLS_HTTP_H

/*
 * The strict subset of HTTP/1.1 the unseal protocol and AMD KDS use:
 * Content-Length bodies only (no chunked coding), CRLF line ends, a
 * bounded header block, no obs-fold, no duplicate Content-Length. The
 * parsers work on a buffer that may hold an incomplete head (they say
 * "need more") and never read past len.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/deadline.h"
#include "snp/err.h"
#include "tls/tls.h"

#define HTTP_HEADER_MAX		8192
#define HTTP_PATH_MAX		256

/* Return values of the parsers besides 0 ("need more") and 1 ("complete"). */
#define HTTP_ERR_MALFORMED	(-400)	/* 400 */
#define HTTP_ERR_TOO_LARGE	(-431)	/* the head is above the limit */
#define HTTP_ERR_UNSUPPORTED	(-501)	/* Transfer-Encoding, HTTP/2, ... */

struct http_request {
	char method[16];
	char path[HTTP_PATH_MAX];	/* origin-form, as sent */
	int minor_version;		/* HTTP/1.x */
	bool has_content_length;
	uint64_t content_length;
	bool content_type_json;		/* application/json (parameters allowed) */
	bool close;			/* Connection: close, or HTTP/1.0 without keep-alive */
	char host[256];
	size_t head_len;		/* bytes of the head, CRLFCRLF included */
};

struct http_response {
	int status;
	bool has_content_length;
	uint64_t content_length;
	bool content_type_json;
	bool close;
	long retry_after;		/* seconds from Retry-After (delta form), -1 if none */
	size_t head_len;
};

/*
 * 1 with req filled when buf holds a whole head, 0 when more is needed
 * (and len < max_head), else HTTP_ERR_* with a sentence in err.
 * Lines are judged as they arrive, so an error may come before the head
 * is complete. An HTTP/1.1 request without a Host header is malformed
 * (RFC 9112 3.2), and so is a repeated Host or Content-Type.
 */
int http_request_parse(const char *buf, size_t len, size_t max_head, struct http_request *req,
		       struct snp_err *err);
int http_response_parse(const char *buf, size_t len, size_t max_head, struct http_response *resp,
			struct snp_err *err);

/* The head of a response or request into out; its length, or -ENOSPC. */
int http_response_head(char *out, size_t size, int status, const char *content_type,
		       size_t body_len, bool close);
int http_request_head(char *out, size_t size, const char *method, const char *host,
		      unsigned int port, const char *path, const char *content_type,
		      size_t body_len);
/* "OK", "Bad Request", ...; "Unknown" for others. */
const char *http_status_text(int status);

/*
 * https://host[:port][/path]: nothing else (no user info, no fragment).
 * An IPv6 host is stored without its brackets (http_request_head adds them).
 */
struct http_url {
	char host[256];
	unsigned int port;		/* 443 when absent */
	char path[HTTP_PATH_MAX];	/* "/" when absent; query kept */
};
int http_url_parse(const char *url, struct http_url *out, struct snp_err *err);

/*
 * One request on a client connection, bounded by dl: send the head and
 * body, read the response head and a body of at most max_body bytes
 * (-EMSGSIZE beyond, before reading it). The body is NUL-terminated.
 * A body sent goes as application/json. A response that is not HTTP is
 * -EPROTO, one without Content-Length too (unless 204, 304 or HEAD).
 */
struct http_client_response {
	int status;
	long retry_after;
	bool close;
	uint8_t *body;
	size_t body_len;
};
int http_client_request(struct tls_conn *conn, const char *host, unsigned int port,
			const char *method, const char *path, const void *body,
			size_t body_len, size_t max_body, const struct snp_deadline *dl,
			struct http_client_response *resp, struct snp_err *err);
/*
 * The reading half of http_client_request, for a request written some
 * other way (tests that send malformed ones); method as it was sent.
 */
int http_client_read_response(struct tls_conn *conn, const char *method, size_t max_body,
			      const struct snp_deadline *dl, struct http_client_response *resp,
			      struct snp_err *err);
/* Wipes the body (it may hold sealed material) and frees it. */
void http_client_response_free(struct http_client_response *resp);

#endif
