// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The extended report's certificate table: the real configfs-tsm auxblob,
 * the writer, and every way a host could get the table wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snp/certtable.h"
#include "tests/harness.h"
#include "tests/unit/snp_sets.h"

#define AUXBLOB SNP_REAL "/veraison-tsm-genoa-v3/auxblob.bin"

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Entry i's offset (field 0) or length (field 1). */
static void set_field(uint8_t *blob, size_t i, int field, uint32_t v)
{
	put_le32(blob + i * SNP_CERT_TABLE_ENTRY_SIZE + SNP_GUID_SIZE + 4 * field, v);
}

static uint32_t get_field(const uint8_t *blob, size_t i, int field)
{
	const uint8_t *p = blob + i * SNP_CERT_TABLE_ENTRY_SIZE + SNP_GUID_SIZE + 4 * field;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

TEST(certtable_guids_and_names)
{
	static const char *const want[] = {
		[SNP_CERT_ARK] = "c0b406a4-a803-4952-9743-3fb6014cd0ae",
		[SNP_CERT_ASK] = "4ab7b379-bbac-4fe4-a02f-05aef327c782",
		[SNP_CERT_VCEK] = "63da758d-e664-4564-adc5-f4b93be8accd",
		[SNP_CERT_VLEK] = "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
	};
	uint8_t other[SNP_GUID_SIZE] = { 1 };
	char g[37];

	for (int k = SNP_CERT_ARK; k <= SNP_CERT_VLEK; k++) {
		const uint8_t *guid = snp_cert_guid(k);

		REQUIRE(guid);
		CHECK_STR(snp_guid_format(g, guid), want[k]);
		CHECK(snp_cert_kind_from_guid(guid) == (enum snp_cert_kind)k);
	}
	CHECK(snp_cert_guid(SNP_CERT_OTHER) == NULL);
	CHECK(snp_cert_kind_from_guid(other) == SNP_CERT_OTHER);
	CHECK_STR(snp_cert_kind_name(SNP_CERT_VLEK), "VLEK");
	CHECK_STR(snp_cert_kind_name(SNP_CERT_OTHER), "other");
}

TEST(certtable_parses_the_real_auxblob_and_its_report_verifies)
{
	static const char *const pems[] = { "ark.pem", "ask.pem", "vcek.pem" };
	static const enum snp_cert_kind kinds[] = { SNP_CERT_ARK, SNP_CERT_ASK, SNP_CERT_VCEK };
	struct snp_cert_table t;
	struct snp_err err = { 0 };
	struct snp_verify_input in;
	struct snp_verify_result res;
	struct snp_set s;
	size_t len;
	uint8_t *blob = test_read_shared(AUXBLOB, SET_FILE_MAX, &len);

	REQUIRE(snp_cert_table_parse(blob, len, &t, &err) == 0);
	REQUIRE(t.count == 3);
	CHECK(t.entries[0].offset == 4 * SNP_CERT_TABLE_ENTRY_SIZE);
	for (size_t i = 0; i < 3; i++) {
		char rel[128];
		size_t der_len;
		uint8_t *der;

		snprintf(rel, sizeof(rel), SNP_REAL "/veraison-tsm-genoa-v3/%s", pems[i]);
		der = set_read_cert(rel, &der_len);
		CHECK(t.entries[i].kind == kinds[i]);
		CHECK(t.entries[i].pem);
		CHECK(t.entries[i].der_len == der_len);
		CHECK(t.entries[i].der && !memcmp(t.entries[i].der, der, der_len));
		free(der);
	}
	CHECK(snp_cert_table_find(&t, SNP_CERT_VLEK) == NULL);
	/* The report with the certificates the table carried. */
	set_load("veraison-tsm-genoa-v3", &s);
	in = set_input(&s, SET_TIME_2025_09_01);
	in.ark = snp_cert_table_find(&t, SNP_CERT_ARK)->der;
	in.ark_len = snp_cert_table_find(&t, SNP_CERT_ARK)->der_len;
	in.ask = snp_cert_table_find(&t, SNP_CERT_ASK)->der;
	in.ask_len = snp_cert_table_find(&t, SNP_CERT_ASK)->der_len;
	in.vek = snp_cert_table_find(&t, SNP_CERT_VCEK)->der;
	in.vek_len = snp_cert_table_find(&t, SNP_CERT_VCEK)->der_len;
	CHECK(snp_verify(&in, &res) == 0);
	set_free(&s);
	snp_cert_table_free(&t);
	free(blob);
}

TEST(certtable_write_then_parse)
{
	static const uint8_t other_guid[SNP_GUID_SIZE] = { 0xde, 0xad, 0xbe, 0xef };
	static const uint8_t crl[] = "not a certificate: kept, not parsed";
	struct snp_cert_table t;
	struct snp_err err = { 0 };
	struct snp_set s;
	struct snp_cert_blob in[4];
	size_t needed, want;
	uint8_t *blob;

	set_load("oak-genoa-oc-v5", &s);
	in[0] = (struct snp_cert_blob){ snp_cert_guid(SNP_CERT_VCEK), s.vek, s.vek_len };
	in[1] = (struct snp_cert_blob){ other_guid, crl, sizeof(crl) };
	in[2] = (struct snp_cert_blob){ snp_cert_guid(SNP_CERT_ASK), s.ask, s.ask_len };
	in[3] = (struct snp_cert_blob){ snp_cert_guid(SNP_CERT_ARK), s.ark, s.ark_len };
	want = 5 * SNP_CERT_TABLE_ENTRY_SIZE + s.vek_len + sizeof(crl) + s.ask_len + s.ark_len;
	/* Too small, as SNP_GET_EXT_REPORT answers: the size needed. */
	CHECK(snp_cert_table_write(in, 4, NULL, 0, &needed, &err) == -ENOSPC);
	CHECK(needed == want);
	blob = malloc(want);
	REQUIRE(blob);
	CHECK(snp_cert_table_write(in, 4, blob, want - 1, &needed, &err) == -ENOSPC);
	REQUIRE(snp_cert_table_write(in, 4, blob, want, &needed, &err) == 0);
	REQUIRE(snp_cert_table_parse(blob, want, &t, &err) == 0);
	REQUIRE(t.count == 4);
	CHECK(t.entries[0].kind == SNP_CERT_VCEK && !t.entries[0].pem);
	CHECK(t.entries[0].der_len == s.vek_len && !memcmp(t.entries[0].der, s.vek, s.vek_len));
	CHECK(t.entries[1].kind == SNP_CERT_OTHER && !t.entries[1].der);
	CHECK(t.entries[1].length == sizeof(crl) && !memcmp(t.entries[1].data, crl, sizeof(crl)));
	CHECK(snp_cert_table_find(&t, SNP_CERT_ARK) == &t.entries[3]);
	snp_cert_table_free(&t);
	CHECK(t.count == 0);
	/* No entries: a lone terminator. */
	CHECK(snp_cert_table_write(in, 0, blob, want, &needed, &err) == 0);
	CHECK(needed == SNP_CERT_TABLE_ENTRY_SIZE);
	CHECK(snp_cert_table_parse(blob, needed, &t, &err) == 0 && t.count == 0);
	free(blob);
	set_free(&s);
}

TEST(certtable_writer_refuses_bad_entries)
{
	static const uint8_t zero[SNP_GUID_SIZE], data[4] = { 1, 2, 3, 4 };
	struct snp_cert_blob in[SNP_CERT_TABLE_MAX + 1];
	struct snp_err err = { 0 };
	uint8_t g[SNP_CERT_TABLE_MAX + 1][SNP_GUID_SIZE];
	uint8_t out[1024];
	size_t needed;

	for (size_t i = 0; i <= SNP_CERT_TABLE_MAX; i++) {
		memset(g[i], 0, SNP_GUID_SIZE);
		g[i][0] = (uint8_t)(i + 1);
		in[i] = (struct snp_cert_blob){ g[i], data, sizeof(data) };
	}
	CHECK(snp_cert_table_write(in, SNP_CERT_TABLE_MAX + 1, out, sizeof(out), &needed,
				   &err) == -E2BIG);
	in[1].guid = g[0];
	CHECK(snp_cert_table_write(in, 2, out, sizeof(out), &needed, &err) == -EINVAL);
	CHECK(strstr(err.msg, "entries 0 and 1") != NULL);
	in[1].guid = zero;
	CHECK(snp_cert_table_write(in, 2, out, sizeof(out), &needed, &err) == -EINVAL);
	in[1].guid = g[1];
	in[1].len = 0;
	CHECK(snp_cert_table_write(in, 2, out, sizeof(out), &needed, &err) == -EINVAL);
}

/* Parse a mutant of the real auxblob; it must fail with words from the message. */
static bool mutant_refused(const uint8_t *blob, size_t len, const char *words)
{
	struct snp_cert_table t;
	struct snp_err err = { 0 };
	int ret = snp_cert_table_parse(blob, len, &t, &err);

	if (!ret) {
		snp_cert_table_free(&t);
		fprintf(stderr, "    accepted; wanted \"%s\"\n", words);
		return false;
	}
	if (words && !strstr(err.msg, words)) {
		fprintf(stderr, "    message \"%s\" lacks \"%s\"\n", err.msg, words);
		return false;
	}
	return t.count == 0;
}

TEST(certtable_mutant_ranges_are_refused)
{
	size_t len;
	uint8_t *orig = test_read_shared(AUXBLOB, SET_FILE_MAX, &len);
	uint8_t *b = malloc(len);
	uint32_t off0, len0;

	REQUIRE(b);
	off0 = get_field(orig, 0, 0);
	len0 = get_field(orig, 0, 1);
	/* Beyond the blob, by offset, by length, and by wrapping 32 bits. */
	memcpy(b, orig, len);
	set_field(b, 0, 0, (uint32_t)len);
	CHECK(mutant_refused(b, len, "entry 0 (ARK): offset"));
	memcpy(b, orig, len);
	set_field(b, 2, 1, get_field(orig, 2, 1) + 1);
	CHECK(mutant_refused(b, len, "beyond the"));
	memcpy(b, orig, len);
	set_field(b, 0, 0, 0xfffffff0u);
	set_field(b, 0, 1, 0x100);	/* 0x00f0 if summed in 32 bits: inside the blob */
	CHECK(mutant_refused(b, len, "= 4294967536"));
	memcpy(b, orig, len);
	set_field(b, 1, 1, 0xffffffffu);
	CHECK(mutant_refused(b, len, "beyond the"));
	/* Inside the table, its terminator included. */
	memcpy(b, orig, len);
	set_field(b, 0, 0, 3 * SNP_CERT_TABLE_ENTRY_SIZE + 8);
	CHECK(mutant_refused(b, len, "inside the table"));
	/* Overlapping the previous entry, at its start and at its last byte. */
	memcpy(b, orig, len);
	set_field(b, 1, 0, off0);
	CHECK(mutant_refused(b, len, "entry 1 (offset 96 length"));
	memcpy(b, orig, len);
	set_field(b, 1, 0, off0 + len0 - 1);
	CHECK(mutant_refused(b, len, "overlaps entry 0"));
	/* Zero length; the same GUID twice; a zero GUID that is not the end. */
	memcpy(b, orig, len);
	set_field(b, 2, 1, 0);
	CHECK(mutant_refused(b, len, "entry 2 (63da758d-e664-4564-adc5-f4b93be8accd) has length 0"));
	memcpy(b, orig, len);
	memcpy(b + SNP_CERT_TABLE_ENTRY_SIZE, b, SNP_GUID_SIZE);
	CHECK(mutant_refused(b, len, "entries 0 and 1 have the same GUID"));
	memcpy(b, orig, len);
	memset(b + SNP_CERT_TABLE_ENTRY_SIZE, 0, SNP_GUID_SIZE);
	CHECK(mutant_refused(b, len, "entry 1 has an all-zero GUID"));
	/* A payload that is no certificate. */
	memcpy(b, orig, len);
	b[off0] = 'X';
	CHECK(mutant_refused(b, len, "entry 0 (ARK): certificate"));
	free(b);
	free(orig);
}

TEST(certtable_mutant_unterminated_and_truncated_are_refused)
{
	size_t len;
	uint8_t *orig = test_read_shared(AUXBLOB, SET_FILE_MAX, &len);
	uint8_t *b = malloc(len);

	REQUIRE(b);
	/* The three entries without their terminator. */
	CHECK(mutant_refused(orig, 3 * SNP_CERT_TABLE_ENTRY_SIZE, "no all-zero terminator"));
	CHECK(mutant_refused(orig, 4 * SNP_CERT_TABLE_ENTRY_SIZE - 1, "no all-zero terminator"));
	CHECK(mutant_refused(orig, 0, "no all-zero terminator"));
	/* The terminator overwritten: the entries run on into the payloads. */
	memcpy(b, orig, len);
	memset(b + 3 * SNP_CERT_TABLE_ENTRY_SIZE, 0x41, SNP_CERT_TABLE_ENTRY_SIZE);
	CHECK(mutant_refused(b, len, NULL));
	/* Every shorter blob cuts the last payload or the table. */
	for (size_t n = 0; n < len; n++)
		CHECK(mutant_refused(orig, n, NULL));
	free(b);
	free(orig);
}

/* Any bit of the table flipped: refused, or accepted with sound ranges. */
TEST(certtable_mutant_bit_flips_in_the_table_never_crash)
{
	size_t len;
	uint8_t *orig = test_read_shared(AUXBLOB, SET_FILE_MAX, &len);
	uint8_t *b = malloc(len);

	REQUIRE(b);
	for (size_t bit = 0; bit < 8 * 4 * SNP_CERT_TABLE_ENTRY_SIZE; bit++) {
		struct snp_cert_table t;
		struct snp_err err = { 0 };

		memcpy(b, orig, len);
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (snp_cert_table_parse(b, len, &t, &err))
			continue;
		for (size_t i = 0; i < t.count; i++) {
			const struct snp_cert_entry *e = &t.entries[i];

			CHECK((uint64_t)e->offset + e->length <= len);
			CHECK(e->offset >= (t.count + 1) * SNP_CERT_TABLE_ENTRY_SIZE);
			CHECK(e->kind == SNP_CERT_OTHER || e->der);
		}
		snp_cert_table_free(&t);
	}
	free(b);
	free(orig);
}

TEST(certtable_more_than_the_maximum_entries_is_refused)
{
	size_t n = SNP_CERT_TABLE_MAX + 1, len = (n + 1) * SNP_CERT_TABLE_ENTRY_SIZE + n;
	uint8_t *b = calloc(1, len);
	struct snp_cert_table t;
	struct snp_err err = { 0 };

	REQUIRE(b);
	for (size_t i = 0; i < n; i++) {
		b[i * SNP_CERT_TABLE_ENTRY_SIZE] = (uint8_t)(i + 1);
		set_field(b, i, 0, (uint32_t)((n + 1) * SNP_CERT_TABLE_ENTRY_SIZE + i));
		set_field(b, i, 1, 1);
	}
	CHECK(snp_cert_table_parse(b, len, &t, &err) == -E2BIG);
	CHECK(strstr(err.msg, "more than 16 entries") != NULL);
	/* One fewer fits: unknown GUIDs are kept, not refused. */
	memset(b + (n - 1) * SNP_CERT_TABLE_ENTRY_SIZE, 0, SNP_CERT_TABLE_ENTRY_SIZE);
	CHECK(snp_cert_table_parse(b, len, &t, &err) == 0 && t.count == n - 1);
	snp_cert_table_free(&t);
	free(b);
}

/* ---- one certificate, DER or PEM ---- */

static int to_der(const void *in, size_t len, size_t *der_len, struct snp_err *err)
{
	uint8_t *der = NULL;
	int ret = snp_cert_to_der(in, len, &der, der_len, err);

	CHECK(ret ? der == NULL : der != NULL);
	free(der);
	return ret;
}

TEST(certtable_cert_to_der_forms)
{
	struct snp_err err = { 0 };
	size_t pem_len, der_len, got;
	uint8_t *pem = test_read_shared(SNP_REAL "/oak-genoa-oc-v5/ark.pem", SET_FILE_MAX,
					&pem_len);
	uint8_t *der = set_read_cert(SNP_REAL "/oak-genoa-oc-v5/vcek.der", &der_len);
	uint8_t *buf = malloc(2 * pem_len + der_len + 64);

	REQUIRE(buf);
	/* DER, and DER with zero padding after it. */
	memcpy(buf, der, der_len);
	memset(buf + der_len, 0, 16);
	CHECK(to_der(buf, der_len, &got, &err) == 0 && got == der_len);
	CHECK(to_der(buf, der_len + 16, &got, &err) == 0 && got == der_len);
	buf[der_len + 3] = 1;
	CHECK(to_der(buf, der_len + 16, &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "not zero padding") != NULL);
	CHECK(to_der(buf, der_len - 1, &got, &err) == -EBADMSG);
	/* PEM, with whitespace around it; not with other text after it. */
	memcpy(buf, "\n \t", 3);
	memcpy(buf + 3, pem, pem_len);
	CHECK(to_der(buf, pem_len + 3, &got, &err) == 0);
	memcpy(buf + 3 + pem_len, "junk", 4);
	CHECK(to_der(buf, pem_len + 7, &got, &err) == -EBADMSG);
	/* Two certificates in one entry. */
	memcpy(buf + 3 + pem_len, pem, pem_len);
	CHECK(to_der(buf, 2 * pem_len + 3, &got, &err) == -EBADMSG);
	/* Neither. */
	CHECK(to_der("hello", 5, &got, &err) == -EBADMSG);
	CHECK(to_der("", 0, &got, &err) == -EBADMSG);
	CHECK(to_der("-----BEGIN CERTIFICATE-----\nAAAA\n", 33, &got, &err) == -EBADMSG);
	free(buf);
	free(der);
	free(pem);
}
