/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_CERTTABLE_H
#define SNP_CERTTABLE_H

/*
 * The certificate table of an extended report (SNP_GET_EXT_REPORT's
 * certs buffer, configfs-tsm's auxblob): 24-byte entries
 *
 *	GUID[16] (RFC 4122 byte order), offset u32 LE, length u32 LE
 *
 * ended by an all-zero entry, with offsets counted from the start of the
 * blob. The payloads are certificates, DER or PEM. A host fills this blob,
 * so the parser trusts nothing in it: every range is checked in 64 bits
 * against the blob, against the table itself and against the others.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

#define SNP_GUID_SIZE			16
#define SNP_CERT_TABLE_ENTRY_SIZE	24
/* More than any host sends (ARK, ASK, VCEK or VLEK, perhaps a CRL). */
#define SNP_CERT_TABLE_MAX		16
/* The largest blob the kernel hands over (its SEV_FW_BLOB_MAX_SIZE). */
#define SNP_CERT_TABLE_SIZE_MAX		0x4000

enum snp_cert_kind {
	SNP_CERT_OTHER = 0,	/* a GUID we do not know: kept, not used */
	SNP_CERT_ARK,
	SNP_CERT_ASK,		/* the ASK, or the ASVK in VLEK setups */
	SNP_CERT_VCEK,
	SNP_CERT_VLEK,
};

struct snp_cert_entry {
	uint8_t guid[SNP_GUID_SIZE];
	enum snp_cert_kind kind;
	uint32_t offset;
	uint32_t length;
	const uint8_t *data;	/* the payload, inside the parsed blob */
	/* The certificate as DER (converted from PEM when needed); malloc'd.
	 * NULL for SNP_CERT_OTHER, whose payload need not be a certificate. */
	uint8_t *der;
	size_t der_len;
	bool pem;		/* the payload was PEM */
};

struct snp_cert_table {
	size_t count;
	struct snp_cert_entry entries[SNP_CERT_TABLE_MAX];
};

/* What to write: one entry of a table to build. */
struct snp_cert_blob {
	const uint8_t *guid;	/* SNP_GUID_SIZE bytes */
	const uint8_t *data;
	size_t len;
};

/* The GUID of kind (NULL for SNP_CERT_OTHER). */
const uint8_t *snp_cert_guid(enum snp_cert_kind kind);
enum snp_cert_kind snp_cert_kind_from_guid(const uint8_t guid[SNP_GUID_SIZE]);
/* "ARK", "ASK", "VCEK", "VLEK" or "other". */
const char *snp_cert_kind_name(enum snp_cert_kind kind);
/* "c0b406a4-a803-4952-9743-3fb6014cd0ae"; out holds 37 bytes. */
char *snp_guid_format(char out[37], const uint8_t guid[SNP_GUID_SIZE]);

/*
 * Parse a certificate table. Refused, naming the entry and its values: no
 * terminator within the blob, more than SNP_CERT_TABLE_MAX entries, an
 * all-zero GUID with a range, a zero length, offset+length beyond the
 * blob, a payload overlapping the table (terminator included) or another
 * payload, a GUID twice, a known certificate that is neither DER nor PEM.
 * On success free the table with snp_cert_table_free().
 */
int snp_cert_table_parse(const uint8_t *blob, size_t len, struct snp_cert_table *table,
			 struct snp_err *err);
void snp_cert_table_free(struct snp_cert_table *table);
/* The entry of kind, or NULL. */
const struct snp_cert_entry *snp_cert_table_find(const struct snp_cert_table *table,
						 enum snp_cert_kind kind);

/*
 * Build a table of n entries: the entries, the terminator, then each
 * payload in order. *needed gets the blob's size; -ENOSPC when out_size
 * is smaller (out may then be NULL), as SNP_GET_EXT_REPORT answers.
 */
int snp_cert_table_write(const struct snp_cert_blob *entries, size_t n, uint8_t *out,
			 size_t out_size, size_t *needed, struct snp_err *err);

/*
 * One certificate, DER or PEM (one "CERTIFICATE" block, whitespace
 * around it allowed), as DER in a malloc'd *der. A DER certificate may be
 * followed by zero bytes of padding, nothing else.
 */
int snp_cert_to_der(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
		    struct snp_err *err);

#endif
