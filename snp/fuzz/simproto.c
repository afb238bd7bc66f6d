// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: the simulator's wire protocol, whose responses the guest
 * reads from a channel the host controls. The first byte picks what the
 * rest is: a request (the simulator's side) or a response to a plain or
 * an extended request (the guest's side). Whatever decodes must encode
 * back to exactly the same bytes: the decoders accept nothing loosely.
 */
#include <stdlib.h>
#include <string.h>

#include "snp/simproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *buf, size_t len)
{
	struct snp_sim_request req;
	uint8_t again[SNP_SIM_REQ_SIZE];

	if (snp_sim_request_decode(buf, len, &req, NULL))
		return;
	snp_sim_request_encode(&req, again);
	if (len != sizeof(again) || memcmp(again, buf, len))
		__builtin_trap();
}

static void response(const uint8_t *buf, size_t len, uint32_t type)
{
	struct snp_sim_response resp;
	uint8_t *again = NULL;
	size_t again_len = 0;

	if (snp_sim_response_decode(buf, len, type, &resp, NULL))
		return;
	if (resp.certs_len > SNP_SIM_CERTS_MAX || (resp.status && resp.report_len) ||
	    (!resp.status && resp.report_len != SNP_REPORT_SIZE))
		__builtin_trap();
	if (snp_sim_response_encode(&resp, &again, &again_len, NULL) || again_len != len ||
	    memcmp(again, buf, len))
		__builtin_trap();
	free(again);
	snp_sim_response_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		request(data + 1, size - 1);
		break;
	case 1:
		response(data + 1, size - 1, SNP_SIM_REQ_REPORT);
		break;
	default:
		response(data + 1, size - 1, SNP_SIM_REQ_EXT_REPORT);
		break;
	}
	return 0;
}
