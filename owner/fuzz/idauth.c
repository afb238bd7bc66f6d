// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: an ID block (96 bytes) followed by its ID authentication
 * information (4096 bytes, zero-filled when the input is shorter), as
 * check-id and snp-owner policy read them from files anyone may hand the
 * owner. Each is accepted, or refused with a printable sentence; on a
 * refusal no key digest is left behind.
 */
#include <stdlib.h>
#include <string.h>

#include "owner/idblock.h"
#include "snp/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int ret, const struct snp_err *err)
{
	if (ret >= 0 || !err->msg[0])
		abort();
	for (const char *p = err->msg; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t block[ID_BLOCK_SIZE] = { 0 }, *auth, id_digest[48], author_digest[48];
	struct snp_err err = { 0 };
	struct id_block decoded;
	bool has_author = true;
	size_t n;
	int ret;

	if (size > ID_BLOCK_SIZE + ID_AUTH_SIZE)
		return 0;
	/* Exact-size heap copies, for ASan to see any overrun. */
	auth = calloc(1, ID_AUTH_SIZE);
	if (!auth)
		abort();
	n = size < ID_BLOCK_SIZE ? size : ID_BLOCK_SIZE;
	memcpy(block, data, n);
	if (size > ID_BLOCK_SIZE)
		memcpy(auth, data + ID_BLOCK_SIZE, size - ID_BLOCK_SIZE);
	ret = id_block_decode(block, &decoded, &err);
	if (ret)
		check_refusal(ret, &err);
	memset(&err, 0, sizeof(err));
	ret = id_auth_verify(block, auth, &has_author, id_digest, author_digest, &err);
	if (ret) {
		check_refusal(ret, &err);
		if (!snp_all_zero(id_digest, sizeof(id_digest)) ||
		    !snp_all_zero(author_digest, sizeof(author_digest)))
			abort();
	} else if (!has_author && !snp_all_zero(author_digest, sizeof(author_digest))) {
		abort();
	}
	free(auth);
	return 0;
}
