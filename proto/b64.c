// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Base64 of RFC 4648 section 4, strictly: padded, no whitespace, no line
 * breaks, and zero padding bits, so that every byte string has exactly
 * one accepted spelling. The size is checked before anything is written.
 */
#include <errno.h>
#include <stdlib.h>

#include "proto/proto.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* The decoded size of in, after checking its length and where '=' stands. */
static int b64_size(const char *in, size_t in_len, size_t *size, struct snp_err *err,
		    const char *what)
{
	size_t pad = 0;

	if (in_len % 4)
		return snp_errf(err, -EBADMSG,
				"%s: base64 of %zu characters is not padded to a multiple of 4",
				what, in_len);
	while (pad < 2 && pad < in_len && in[in_len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < in_len - pad; i++)
		if (b64_value(in[i]) < 0)
			return snp_errf(err, -EBADMSG,
					"%s: character %zu is not base64 (or '=' before the end)",
					what, i);
	*size = in_len / 4 * 3 - pad;
	return 0;
}

int proto_b64_decode_range(const char *in, size_t in_len, uint8_t *out, size_t min, size_t max,
			   size_t *out_len, struct snp_err *err, const char *what)
{
	size_t size = 0, o = 0;
	uint32_t acc = 0;
	int bits = 0;
	int ret = b64_size(in, in_len, &size, err, what);

	if (ret)
		return ret;
	if (size < min || size > max) {
		if (min == max)
			return snp_errf(err, -EBADMSG, "%s: decodes to %zu bytes, not %zu",
					what, size, min);
		return snp_errf(err, -EBADMSG, "%s: decodes to %zu bytes, not %zu to %zu",
				what, size, min, max);
	}
	for (size_t i = 0; i < in_len && in[i] != '='; i++) {
		acc = (acc << 6 | (uint32_t)b64_value(in[i])) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* The bits left over by padding must be zero: one spelling per value. */
	if (acc & ((1u << bits) - 1))
		return snp_errf(err, -EBADMSG, "%s: base64 padding bits are not zero", what);
	*out_len = o;
	return 0;
}

int proto_b64_decode_exact(const char *in, size_t in_len, uint8_t *out, size_t want,
			   struct snp_err *err, const char *what)
{
	size_t got;

	return proto_b64_decode_range(in, in_len, out, want, want, &got, err, what);
}

char *proto_b64_encode(const uint8_t *in, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}
