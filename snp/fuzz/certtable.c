// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: the certificate table a host hands the guest. An accepted
 * table must describe ranges inside the blob that overlap neither the
 * table nor each other; writing it back must give a table that parses to
 * the same entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snp/certtable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entries(const struct snp_cert_table *t, const uint8_t *blob, size_t size)
{
	size_t table_end = (t->count + 1) * SNP_CERT_TABLE_ENTRY_SIZE;

	for (size_t i = 0; i < t->count; i++) {
		const struct snp_cert_entry *e = &t->entries[i];
		uint64_t end = (uint64_t)e->offset + e->length;

		if (end > size || e->offset < table_end || e->data != blob + e->offset)
			__builtin_trap();
		for (size_t j = 0; j < i; j++) {
			const struct snp_cert_entry *o = &t->entries[j];

			if (e->offset < (uint64_t)o->offset + o->length &&
			    o->offset < end)
				__builtin_trap();
		}
	}
}

static void check_rewrite(const struct snp_cert_table *t)
{
	struct snp_cert_blob blobs[SNP_CERT_TABLE_MAX];
	struct snp_cert_table again;
	uint8_t *out;
	size_t needed;

	for (size_t i = 0; i < t->count; i++)
		blobs[i] = (struct snp_cert_blob){ t->entries[i].guid, t->entries[i].data,
						   t->entries[i].length };
	if (snp_cert_table_write(blobs, t->count, NULL, 0, &needed, NULL) != -ENOSPC &&
	    t->count)
		__builtin_trap();
	out = malloc(needed);
	if (!out)
		return;
	if (snp_cert_table_write(blobs, t->count, out, needed, &needed, NULL) ||
	    snp_cert_table_parse(out, needed, &again, NULL) || again.count != t->count)
		__builtin_trap();
	for (size_t i = 0; i < t->count; i++)
		if (again.entries[i].length != t->entries[i].length ||
		    memcmp(again.entries[i].data, t->entries[i].data, t->entries[i].length))
			__builtin_trap();
	snp_cert_table_free(&again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snp_cert_table table;

	if (snp_cert_table_parse(data, size, &table, NULL))
		return 0;
	check_entries(&table, data, size);
	check_rewrite(&table);
	snp_cert_table_free(&table);
	return 0;
}
