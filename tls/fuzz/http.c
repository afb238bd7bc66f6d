// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: the HTTP request and response head parsers and the URL
 * parser. The first byte picks the head limit, so the too-large paths
 * are reached with small inputs too. A complete head must not be
 * complete one byte earlier, and what the parsers fill stays in bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "tls/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_request(const char *buf, size_t len, size_t max_head)
{
	struct http_request req;
	struct snp_err err;

	if (http_request_parse(buf, len, max_head, &req, &err) != 1)
		return;
	if (req.head_len > len || req.head_len > max_head || req.path[0] != '/' ||
	    !memchr(req.path, 0, sizeof(req.path)) || !memchr(req.method, 0, sizeof(req.method)) ||
	    !memchr(req.host, 0, sizeof(req.host)))
		__builtin_trap();
	if (http_request_parse(buf, req.head_len - 1, max_head, &req, &err) == 1)
		__builtin_trap();
}

static void fuzz_response(const char *buf, size_t len, size_t max_head)
{
	struct http_response resp;
	struct snp_err err;

	if (http_response_parse(buf, len, max_head, &resp, &err) != 1)
		return;
	if (resp.head_len > len || resp.head_len > max_head || resp.status < 100 ||
	    resp.status > 599 || resp.retry_after < -1)
		__builtin_trap();
	if (http_response_parse(buf, resp.head_len - 1, max_head, &resp, &err) == 1)
		__builtin_trap();
}

static void fuzz_url(const uint8_t *data, size_t size)
{
	struct http_url url;
	struct snp_err err;
	char *text = malloc(size + 1);

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (http_url_parse(text, &url, &err) == 0 &&
	    (url.port < 1 || url.port > 65535 || url.path[0] != '/' || !url.host[0] ||
	     !memchr(url.path, 0, sizeof(url.path)) || !memchr(url.host, 0, sizeof(url.host))))
		__builtin_trap();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_head;
	char *copy;

	if (size < 1)
		return 0;
	max_head = data[0] < 128 ? (size_t)data[0] * 4 + 1 : HTTP_HEADER_MAX;
	/* An exact-size copy, so reading past the end is caught. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	fuzz_request(copy, size - 1, max_head);
	fuzz_response(copy, size - 1, max_head);
	free(copy);
	fuzz_url(data + 1, size - 1);
	return 0;
}
