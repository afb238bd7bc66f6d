// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: a LUKS2 token's JSON, which anyone who can write the disk's
 * header chooses. A refusal is -EINVAL or -EMEDIUMTYPE with a printable
 * sentence; whatever luks_token_from_json accepts must validate, write
 * out (luks_token_to_json) within LUKS_TOKEN_JSON_MAX, parse back to the
 * same token and write out to the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "luks/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int ret, const struct snp_err *err)
{
	if ((ret != -EINVAL && ret != -EMEDIUMTYPE) || !err->msg[0])
		abort();
	for (const char *p = err->msg; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct luks_token t, back;
	struct snp_err err = { 0 };
	char *json1 = NULL, *json2 = NULL;
	int ret;

	ret = luks_token_from_json((const char *)data, size, &t, &err);
	if (ret) {
		check_refusal(ret, &err);
		return 0;
	}
	if (luks_token_validate(&t, &err) || luks_token_to_json(&t, &json1, &err) ||
	    strlen(json1) >= LUKS_TOKEN_JSON_MAX)
		abort();
	/* Both parses start from luks_token_init's zeroes: equal tokens are equal bytes. */
	if (luks_token_from_json(json1, strlen(json1), &back, &err) ||
	    memcmp(&t, &back, sizeof(t)))
		abort();
	if (luks_token_to_json(&back, &json2, &err) || strcmp(json1, json2))
		abort();
	free(json1);
	free(json2);
	return 0;
}
