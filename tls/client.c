// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One HTTP/1.1 exchange on a client TLS connection, bounded by a
 * deadline: the agent's challenge and unseal, the KDS client's GETs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "tls/http.h"

/* The head of a request, then its body. */
static int send_request(struct tls_conn *conn, const char *host, unsigned int port,
			const char *method, const char *path, const void *body, size_t body_len,
			const struct snp_deadline *dl, struct snp_err *err)
{
	char head[HTTP_HEADER_MAX];
	int n, ret;

	n = http_request_head(head, sizeof(head), method, host, port, path,
			      body_len ? "application/json" : NULL, body_len);
	if (n < 0)
		return snp_errf(err, n == -ENOSPC ? -EINVAL : n,
				"cannot write a request head for %.16s %.200s on %.64s", method,
				path, host);
	ret = tls_conn_write_all(conn, head, (size_t)n, dl, err);
	if (!ret && body_len)
		ret = tls_conn_write_all(conn, body, body_len, dl, err);
	return ret;
}

/*
 * Read until the response head parses; *have gets what was read, which
 * may run past the head into the body.
 */
static int read_head(struct tls_conn *conn, char *buf, size_t size, size_t *have,
		     struct http_response *head, const struct snp_deadline *dl,
		     struct snp_err *err)
{
	struct snp_err perr;
	ssize_t n;
	int ret;

	*have = 0;
	for (;;) {
		n = tls_conn_read_some(conn, buf + *have, size - *have, dl, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return snp_errf(err, -ECONNRESET,
					"the server closed the connection after %zu bytes of the "
					"response head", *have);
		*have += (size_t)n;
		ret = http_response_parse(buf, *have, size, head, &perr);
		if (ret == 1)
			return 0;
		if (ret < 0)
			return snp_errf(err, -EPROTO, "the server's answer is not a valid HTTP/1.1 "
					"response: %s", perr.msg);
	}
}

/* How many body bytes follow the head, or an error for none or too many. */
static int body_length(const struct http_response *head, const char *method, size_t max_body,
		       size_t *len, struct snp_err *err)
{
	*len = 0;
	if (head->status == 204 || head->status == 304 || !strcmp(method, "HEAD"))
		return 0;
	if (head->status < 200)
		return snp_errf(err, -EPROTO, "the server sent an interim response (%d)",
				head->status);
	if (!head->has_content_length)
		return snp_errf(err, -EPROTO, "the response (%d) has no Content-Length",
				head->status);
	if (head->content_length > max_body)
		return snp_errf(err, -EMSGSIZE,
				"the response body of %llu bytes is above the limit of %zu bytes",
				(unsigned long long)head->content_length, max_body);
	*len = (size_t)head->content_length;
	return 0;
}

/* The body: what came with the head (extra), then the rest from conn. */
static int read_body(struct tls_conn *conn, const char *extra, size_t extra_len, size_t len,
		     struct http_client_response *resp, const struct snp_deadline *dl,
		     struct snp_err *err)
{
	size_t have = extra_len;
	ssize_t n;

	if (extra_len > len)
		return snp_errf(err, -EPROTO, "the server sent %zu bytes after a body of %zu",
				extra_len - len, len);
	resp->body = malloc(len + 1);
	if (!resp->body)
		return snp_errf(err, -ENOMEM, "out of memory for a response body of %zu bytes", len);
	resp->body_len = len;
	memcpy(resp->body, extra, extra_len);
	while (have < len) {
		n = tls_conn_read_some(conn, resp->body + have, len - have, dl, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return snp_errf(err, -ECONNRESET,
					"the server closed the connection after %zu of %zu body bytes",
					have, len);
		have += (size_t)n;
	}
	resp->body[len] = '\0';
	return 0;
}

int http_client_read_response(struct tls_conn *conn, const char *method, size_t max_body,
			      const struct snp_deadline *dl, struct http_client_response *resp,
			      struct snp_err *err)
{
	char buf[HTTP_HEADER_MAX];
	struct http_response head;
	size_t have = 0, len;
	int ret;

	memset(resp, 0, sizeof(*resp));
	ret = read_head(conn, buf, sizeof(buf), &have, &head, dl, err);
	if (!ret)
		ret = body_length(&head, method, max_body, &len, err);
	if (!ret)
		ret = read_body(conn, buf + head.head_len, have - head.head_len, len, resp, dl, err);
	if (!ret) {
		resp->status = head.status;
		resp->retry_after = head.retry_after;
		resp->close = head.close;
	} else {
		http_client_response_free(resp);
	}
	/* The body may have come with the head. */
	mbedtls_platform_zeroize(buf, have);
	return ret;
}

int http_client_request(struct tls_conn *conn, const char *host, unsigned int port,
			const char *method, const char *path, const void *body,
			size_t body_len, size_t max_body, const struct snp_deadline *dl,
			struct http_client_response *resp, struct snp_err *err)
{
	int ret;

	memset(resp, 0, sizeof(*resp));
	ret = send_request(conn, host, port, method, path, body, body_len, dl, err);
	if (!ret)
		ret = http_client_read_response(conn, method, max_body, dl, resp, err);
	return ret;
}

void http_client_response_free(struct http_client_response *resp)
{
	if (resp->body) {
		mbedtls_platform_zeroize(resp->body, resp->body_len);
		free(resp->body);
	}
	memset(resp, 0, sizeof(*resp));
}
