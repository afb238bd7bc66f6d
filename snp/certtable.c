// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The extended report's certificate table (see snp/certtable.h). The GUIDs
 * are those of the SEV-SNP Firmware ABI and the GHCB specification.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/pem.h>

#include "snp/certtable.h"
#include "snp/bytes.h"

static const uint8_t guid_ark[SNP_GUID_SIZE] = {
	0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
	0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae,
};
static const uint8_t guid_ask[SNP_GUID_SIZE] = {
	0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
	0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82,
};
static const uint8_t guid_vcek[SNP_GUID_SIZE] = {
	0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
	0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd,
};
static const uint8_t guid_vlek[SNP_GUID_SIZE] = {
	0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
	0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1,
};

static const struct {
	enum snp_cert_kind kind;
	const uint8_t *guid;
	const char *name;
} kinds[] = {
	{ SNP_CERT_ARK, guid_ark, "ARK" },
	{ SNP_CERT_ASK, guid_ask, "ASK" },
	{ SNP_CERT_VCEK, guid_vcek, "VCEK" },
	{ SNP_CERT_VLEK, guid_vlek, "VLEK" },
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const uint8_t *snp_cert_guid(enum snp_cert_kind kind)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i].kind == kind)
			return kinds[i].guid;
	return NULL;
}

enum snp_cert_kind snp_cert_kind_from_guid(const uint8_t guid[SNP_GUID_SIZE])
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (!memcmp(kinds[i].guid, guid, SNP_GUID_SIZE))
			return kinds[i].kind;
	return SNP_CERT_OTHER;
}

const char *snp_cert_kind_name(enum snp_cert_kind kind)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return "other";
}

char *snp_guid_format(char out[37], const uint8_t g[SNP_GUID_SIZE])
{
	/* 8-4-4-4-12 hex digits: bytes 0-3, 4-5, 6-7, 8-9, 10-15. */
	static const size_t group_end[] = { 4, 6, 8, 10, 16 };
	size_t pos = 0, at = 0;

	for (size_t grp = 0; grp < 5; grp++) {
		if (grp)
			out[pos++] = '-';
		snp_hex(out + pos, g + at, group_end[grp] - at);
		pos += 2 * (group_end[grp] - at);
		at = group_end[grp];
	}
	out[pos] = '\0';
	return out;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One DER SEQUENCE at the start of in; *der_len gets its full length. */
static int der_length(const uint8_t *in, size_t len, size_t *der_len, struct snp_err *err)
{
	unsigned char *p = (unsigned char *)in;
	size_t body;

	if (mbedtls_asn1_get_tag(&p, p + len, &body,
				 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return snp_errf(err, -EBADMSG,
				"certificate (%zu bytes) is not a complete DER SEQUENCE", len);
	*der_len = (size_t)(p - in) + body;
	if (!snp_all_zero(in + *der_len, len - *der_len))
		return snp_errf(err, -EBADMSG,
				"certificate is %zu DER bytes followed by %zu bytes that are not zero padding",
				*der_len, len - *der_len);
	return 0;
}

static int dup_out(const uint8_t *src, size_t len, uint8_t **der, size_t *der_len,
		   struct snp_err *err)
{
	*der = malloc(len);
	if (!*der)
		return snp_errf(err, -ENOMEM, "out of memory for a %zu-byte certificate", len);
	memcpy(*der, src, len);
	*der_len = len;
	return 0;
}

static int pem_to_der(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
		      struct snp_err *err)
{
	mbedtls_pem_context pem;
	const uint8_t *body;
	size_t used = 0, body_len, inner;
	char *text;
	int ret;

	/* mbedtls_pem_read_buffer wants a NUL-terminated string. */
	text = malloc(len + 1);
	if (!text)
		return snp_errf(err, -ENOMEM, "out of memory for a %zu-byte PEM certificate", len);
	memcpy(text, in, len);
	text[len] = '\0';
	mbedtls_pem_init(&pem);
	ret = mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE-----",
				      "-----END CERTIFICATE-----", (unsigned char *)text,
				      NULL, 0, &used);
	if (ret) {
		ret = snp_errf(err, -EBADMSG,
			       "PEM certificate is malformed (mbedTLS error -0x%04x)", -ret);
		goto out;
	}
	/* One certificate, then only whitespace or NUL padding. */
	for (size_t i = used; i < len; i++) {
		if (!is_space(in[i]) && in[i]) {
			ret = snp_errf(err, -EBADMSG,
				       "PEM certificate is followed by other data at byte %zu", i);
			goto out;
		}
	}
	body = mbedtls_pem_get_buffer(&pem, &body_len);
	ret = der_length(body, body_len, &inner, err);
	if (!ret && inner != body_len)
		ret = snp_errf(err, -EBADMSG,
			       "PEM certificate decodes to %zu bytes, of which only %zu are DER",
			       body_len, inner);
	if (!ret)
		ret = dup_out(body, body_len, der, der_len, err);
out:
	mbedtls_pem_free(&pem);
	free(text);
	return ret;
}

int snp_cert_to_der(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
		    struct snp_err *err)
{
	static const char begin[] = "-----BEGIN ";
	size_t skip = 0, n;
	int ret;

	*der = NULL;
	*der_len = 0;
	while (skip < len && is_space(in[skip]))
		skip++;
	if (len - skip >= sizeof(begin) - 1 && !memcmp(in + skip, begin, sizeof(begin) - 1))
		return pem_to_der(in + skip, len - skip, der, der_len, err);
	if (!len || in[0] != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return snp_errf(err, -EBADMSG,
				"certificate (%zu bytes, first byte 0x%02x) is neither DER nor PEM",
				len, len ? in[0] : 0);
	ret = der_length(in, len, &n, err);
	if (ret)
		return ret;
	return dup_out(in, n, der, der_len, err);
}

void snp_cert_table_free(struct snp_cert_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->entries[i].der);
	memset(t, 0, sizeof(*t));
}

const struct snp_cert_entry *snp_cert_table_find(const struct snp_cert_table *t,
						 enum snp_cert_kind kind)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->entries[i].kind == kind)
			return &t->entries[i];
	return NULL;
}

/* Count the entries before the all-zero terminator. */
static int count_entries(const uint8_t *blob, size_t len, size_t *count, struct snp_err *err)
{
	char g[37];

	for (size_t i = 0;; i++) {
		const uint8_t *e = blob + i * SNP_CERT_TABLE_ENTRY_SIZE;

		if ((i + 1) * SNP_CERT_TABLE_ENTRY_SIZE > len)
			return snp_errf(err, -EBADMSG,
					"certificate table has no all-zero terminator: entry %zu would end at byte %zu of a %zu-byte blob",
					i, (i + 1) * SNP_CERT_TABLE_ENTRY_SIZE, len);
		if (snp_all_zero(e, SNP_CERT_TABLE_ENTRY_SIZE)) {
			*count = i;
			return 0;
		}
		if (snp_all_zero(e, SNP_GUID_SIZE))
			return snp_errf(err, -EBADMSG,
					"certificate table entry %zu has an all-zero GUID but offset %u length %u; only the terminator may be zero",
					i, snp_get_le32(e + 16), snp_get_le32(e + 20));
		if (i == SNP_CERT_TABLE_MAX)
			return snp_errf(err, -E2BIG,
					"certificate table has more than %d entries (entry %zu: GUID %s)",
					SNP_CERT_TABLE_MAX, i, snp_guid_format(g, e));
	}
}

/* Entry i's range against the blob, the table and entries 0..i-1. */
static int check_range(const struct snp_cert_table *t, size_t i, size_t len, size_t table_end,
		       struct snp_err *err)
{
	const struct snp_cert_entry *e = &t->entries[i];
	uint64_t start = e->offset, end = (uint64_t)e->offset + e->length;
	char g[37];

	if (!e->length)
		return snp_errf(err, -EBADMSG, "certificate table entry %zu (%s) has length 0",
				i, snp_guid_format(g, e->guid));
	if (end > len)
		return snp_errf(err, -EBADMSG,
				"certificate table entry %zu (%s): offset %u + length %u = %llu is beyond the %zu-byte blob",
				i, snp_cert_kind_name(e->kind), e->offset, e->length,
				(unsigned long long)end, len);
	if (start < table_end)
		return snp_errf(err, -EBADMSG,
				"certificate table entry %zu (%s): offset %u is inside the table itself (bytes 0-%zu)",
				i, snp_cert_kind_name(e->kind), e->offset, table_end - 1);
	for (size_t j = 0; j < i; j++) {
		const struct snp_cert_entry *o = &t->entries[j];
		uint64_t o_end = (uint64_t)o->offset + o->length;

		if (!memcmp(o->guid, e->guid, SNP_GUID_SIZE))
			return snp_errf(err, -EBADMSG,
					"certificate table entries %zu and %zu have the same GUID %s",
					j, i, snp_guid_format(g, e->guid));
		if (start < o_end && o->offset < end)
			return snp_errf(err, -EBADMSG,
					"certificate table entry %zu (offset %u length %u) overlaps entry %zu (offset %u length %u)",
					i, e->offset, e->length, j, o->offset, o->length);
	}
	return 0;
}

static int convert_entry(struct snp_cert_entry *e, size_t i, struct snp_err *err)
{
	struct snp_err sub;
	int ret;

	if (e->kind == SNP_CERT_OTHER)
		return 0;
	ret = snp_cert_to_der(e->data, e->length, &e->der, &e->der_len, &sub);
	if (ret)
		return snp_errf(err, ret, "certificate table entry %zu (%s): %s", i,
				snp_cert_kind_name(e->kind), sub.msg);
	e->pem = e->data[0] != MBEDTLS_ASN1_CONSTRUCTED + MBEDTLS_ASN1_SEQUENCE;
	return 0;
}

int snp_cert_table_parse(const uint8_t *blob, size_t len, struct snp_cert_table *t,
			 struct snp_err *err)
{
	size_t count = 0, table_end;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = count_entries(blob, len, &count, err);
	if (ret)
		return ret;
	table_end = (count + 1) * SNP_CERT_TABLE_ENTRY_SIZE;
	for (size_t i = 0; i < count && !ret; i++) {
		const uint8_t *raw = blob + i * SNP_CERT_TABLE_ENTRY_SIZE;
		struct snp_cert_entry *e = &t->entries[i];

		memcpy(e->guid, raw, SNP_GUID_SIZE);
		e->kind = snp_cert_kind_from_guid(e->guid);
		e->offset = snp_get_le32(raw + 16);
		e->length = snp_get_le32(raw + 20);
		t->count = i + 1;
		ret = check_range(t, i, len, table_end, err);
		if (!ret) {
			e->data = blob + e->offset;
			ret = convert_entry(e, i, err);
		}
	}
	if (ret)
		snp_cert_table_free(t);
	return ret;
}

static int check_blobs(const struct snp_cert_blob *in, size_t n, uint64_t *total,
		       struct snp_err *err)
{
	char g[37];

	if (n > SNP_CERT_TABLE_MAX)
		return snp_errf(err, -E2BIG, "%zu certificate table entries; at most %d",
				n, SNP_CERT_TABLE_MAX);
	*total = (uint64_t)(n + 1) * SNP_CERT_TABLE_ENTRY_SIZE;
	for (size_t i = 0; i < n; i++) {
		if (snp_all_zero(in[i].guid, SNP_GUID_SIZE) || !in[i].len)
			return snp_errf(err, -EINVAL,
					"certificate table entry %zu has a zero GUID or no payload", i);
		for (size_t j = 0; j < i; j++)
			if (!memcmp(in[j].guid, in[i].guid, SNP_GUID_SIZE))
				return snp_errf(err, -EINVAL,
						"certificate table entries %zu and %zu have the same GUID %s",
						j, i, snp_guid_format(g, in[i].guid));
		*total += in[i].len;
		if (*total > UINT32_MAX)
			return snp_errf(err, -E2BIG,
					"certificate table would exceed 4 GiB at entry %zu", i);
	}
	return 0;
}

int snp_cert_table_write(const struct snp_cert_blob *in, size_t n, uint8_t *out,
			 size_t out_size, size_t *needed, struct snp_err *err)
{
	uint64_t total = 0;
	size_t at = (n + 1) * SNP_CERT_TABLE_ENTRY_SIZE;
	int ret;

	*needed = 0;
	ret = check_blobs(in, n, &total, err);
	if (ret)
		return ret;
	*needed = (size_t)total;
	if (!out || out_size < total)
		return snp_errf(err, -ENOSPC,
				"certificate table needs %llu bytes; the buffer has %zu",
				(unsigned long long)total, out ? out_size : 0);
	memset(out, 0, at);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = out + i * SNP_CERT_TABLE_ENTRY_SIZE;

		memcpy(e, in[i].guid, SNP_GUID_SIZE);
		snp_put_le32(e + 16, (uint32_t)at);
		snp_put_le32(e + 20, (uint32_t)in[i].len);
		memcpy(out + at, in[i].data, in[i].len);
		at += in[i].len;
	}
	return 0;
}
