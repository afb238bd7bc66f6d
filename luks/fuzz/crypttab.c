// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: a crypttab, as the image builder (or a tool) wrote it, looked
 * up for one fixed volume. The answer is 0, -ENOENT, -EINVAL or -E2BIG
 * with a printable sentence. A name given is one device-mapper takes.
 * Lines are read alone: one more line naming the volume turns a found
 * name into an ambiguity and a not-found into that line's name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "luks/crypttab.h"

#define UUID		"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"
#define DEVICE		"/dev/vda2"
#define EXTRA_LINE	"\nextra UUID=" UUID "\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sentence(const struct snp_err *err)
{
	if (!err->msg[0])
		abort();
	for (const char *p = err->msg; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

static void check_name(const char *name)
{
	size_t len = strnlen(name, LUKS_TOKEN_NAME_MAX);

	if (!len || len == LUKS_TOKEN_NAME_MAX || name[0] == '#' || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		abort();
	for (size_t i = 0; i < len; i++)
		if (name[i] <= 0x20 || name[i] >= 0x7f || name[i] == '/')
			abort();
}

/* The text with EXTRA_LINE after it: what the first answer says it must give. */
static void check_extra_line(const uint8_t *data, size_t size, int first)
{
	char name[LUKS_TOKEN_NAME_MAX];
	struct snp_err err = { 0 };
	size_t len = size + strlen(EXTRA_LINE);
	char *text = malloc(len);
	int ret;

	if (!text)
		abort();
	memcpy(text, data, size);
	memcpy(text + size, EXTRA_LINE, strlen(EXTRA_LINE));
	ret = luks_crypttab_name(text, len, "fuzz", UUID, DEVICE, name, &err);
	if (len > LUKS_CRYPTTAB_MAX ? ret != -E2BIG :
	    first == 0 ? ret != -EINVAL || !strstr(err.msg, "ambiguous") :
	    ret != 0 || strcmp(name, "extra"))
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[LUKS_TOKEN_NAME_MAX] = "";
	struct snp_err err = { 0 };
	int ret;

	ret = luks_crypttab_name((const char *)data, size, "fuzz", UUID, DEVICE, name, &err);
	if (ret == 0)
		check_name(name);
	else if (ret == -ENOENT || ret == -EINVAL || ret == -E2BIG)
		check_sentence(&err);
	else
		abort();
	if (ret == 0 || ret == -ENOENT)
		check_extra_line(data, size, ret);
	return 0;
}
