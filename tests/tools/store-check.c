// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * store-check STATE UUID FILE [--archive]: does the volume's secret in
 * the store equal FILE's bytes? Prints "same" (exit 0) or "differs"
 * (exit 1), never the secret; exit 2 when the store cannot be read. With
 * --archive, "same" when any archived generation of the volume holds it.
 * For tests/store_test.sh, which must not print secrets to compare them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/store.h"
#include "snp/fdio.h"

static bool holds(const struct store_volume *v, const uint8_t *want, size_t len)
{
	uint8_t diff = 0;

	if (v->secret_len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		diff |= v->secret[i] ^ want[i];
	return !diff;
}

static int in_archive(struct store *st, const char *volume, const uint8_t *want, size_t len,
		      bool *same, struct snp_err *err)
{
	struct store_volume v;
	uint64_t *gens;
	size_t n;
	int ret = store_archive_list(st, volume, &gens, &n, err);

	for (size_t i = 0; !ret && !*same && i < n; i++) {
		ret = store_archive_get(st, volume, gens[i], &v, err);
		*same = !ret && holds(&v, want, len);
		store_volume_wipe(&v);
	}
	free(gens);
	return ret;
}

int main(int argc, char *argv[])
{
	struct snp_err err = { 0 };
	struct store_volume v;
	struct store *st = NULL;
	uint8_t *want = NULL;
	size_t len = 0;
	bool archive = argc == 5 && !strcmp(argv[4], "--archive"), same = false;
	int ret;

	if (argc != 4 && !archive) {
		fputs("usage: store-check STATE UUID FILE [--archive]\n", stderr);
		return 2;
	}
	ret = snp_read_file(argv[3], PROTO_SECRET_MAX + 1, &want, &len, &err);
	if (!ret)
		ret = store_open(&st, argv[1], false, &err);
	if (!ret && archive)
		ret = in_archive(st, argv[2], want, len, &same, &err);
	else if (!ret) {
		ret = store_volume_get(st, argv[2], &v, &err);
		same = !ret && holds(&v, want, len);
		store_volume_wipe(&v);
	}
	store_close(st);
	if (want)
		explicit_bzero(want, len);
	free(want);
	if (ret) {
		fprintf(stderr, "store-check: %s\n", err.msg);
		return 2;
	}
	puts(same ? "same" : "differs");
	return same ? 0 : 1;
}
