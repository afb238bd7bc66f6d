// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: every decoder of the unseal protocol's messages on the same
 * input. Whatever one accepts must encode and decode back to the same
 * value (nothing is lost or invented on the way), and a refusal must
 * come with a sentence.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int ret, const struct snp_err *err)
{
	if (ret && (ret != err->code || !err->msg[0]))
		__builtin_trap();
}

static void challenge(const char *in, size_t len)
{
	struct proto_challenge c, again;
	struct snp_err err = { 0 };
	char *json;
	size_t json_len;
	int ret = proto_challenge_decode(in, len, &c, &err);

	check_refusal(ret, &err);
	if (ret)
		return;
	if (proto_challenge_encode(&c, &json, &json_len) ||
	    proto_challenge_decode(json, json_len, &again, &err) || memcmp(&c, &again, sizeof(c)))
		__builtin_trap();
	free(json);
}

static void unseal_request(const char *in, size_t len)
{
	struct proto_unseal_request r, again;
	struct snp_err err = { 0 };
	char *json;
	size_t json_len;
	int ret = proto_unseal_request_decode(in, len, &r, &err);

	check_refusal(ret, &err);
	if (ret)
		return;
	if (proto_unseal_request_encode(&r, &json, &json_len) ||
	    proto_unseal_request_decode(json, json_len, &again, &err) ||
	    strcmp(r.volume, again.volume) || memcmp(r.nonce, again.nonce, sizeof(r.nonce)) ||
	    memcmp(r.pubkey, again.pubkey, sizeof(r.pubkey)) ||
	    memcmp(r.report, again.report, sizeof(r.report)) ||
	    r.cert_table_len != again.cert_table_len ||
	    (r.cert_table_len && memcmp(r.cert_table, again.cert_table, r.cert_table_len)))
		__builtin_trap();
	free(json);
	proto_unseal_request_free(&r);
	proto_unseal_request_free(&again);
}

static void unseal_response(const char *in, size_t len)
{
	struct proto_unseal_response r, again;
	struct snp_err err = { 0 };
	char *json;
	size_t json_len;
	int ret = proto_unseal_response_decode(in, len, &r, &err);

	check_refusal(ret, &err);
	if (ret)
		return;
	if (proto_unseal_response_encode(&r, &json, &json_len) ||
	    proto_unseal_response_decode(json, json_len, &again, &err) ||
	    memcmp(&r, &again, sizeof(r)))
		__builtin_trap();
	free(json);
}

static void error(const char *in, size_t len)
{
	struct proto_error e, again;
	struct snp_err err = { 0 };
	char *json;
	size_t json_len;
	int ret = proto_error_decode(in, len, &e, &err);

	check_refusal(ret, &err);
	if (ret)
		return;
	/* The encoder sends non-ASCII as '?': the rest must survive. */
	if (proto_error_encode(&e, &json, &json_len) ||
	    proto_error_decode(json, json_len, &again, &err) || strcmp(e.reason, again.reason) ||
	    strcmp(e.rule, again.rule) || strlen(e.message) != strlen(again.message))
		__builtin_trap();
	free(json);
}

static void registration(const char *in, size_t len)
{
	struct proto_registration r, again;
	struct snp_err err = { 0 };
	char *json;
	size_t json_len;
	int ret = proto_registration_decode(in, len, &r, &err);

	check_refusal(ret, &err);
	if (ret)
		return;
	if (proto_registration_encode(&r, &json, &json_len) ||
	    proto_registration_decode(json, json_len, &again, &err) ||
	    memcmp(&r, &again, sizeof(r)))
		__builtin_trap();
	free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct snp_err err = { 0 };

	if (size > PROTO_REQUEST_MAX)
		return 0;
	check_refusal(proto_challenge_request_decode(in, size, &err), &err);
	challenge(in, size);
	unseal_request(in, size);
	unseal_response(in, size);
	error(in, size);
	registration(in, size);
	return 0;
}
