// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The OVMF footer GUID table and SEV metadata (owner/ovmf.h). The layout
 * and GUIDs are edk2's (OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm,
 * OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm); the GUIDs are stored in
 * their little-endian (EFI_GUID) byte order.
 */
#include <errno.h>
#include <string.h>

#include "owner/ovmf.h"
#include "snp/bytes.h"

/* 96b582de-1fb2-45f7-baea-a366c55a082d */
static const uint8_t footer_guid[16] = {
	0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
	0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d,
};
/* dc886566-984a-4798-a75e-5585a7bf67cc */
static const uint8_t sev_metadata_guid[16] = {
	0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
	0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc,
};
/* 00f771de-1a7e-4fcb-890e-68c77e2fb44e */
static const uint8_t reset_block_guid[16] = {
	0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
	0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e,
};
/* 7255371f-3a3b-4b04-927b-1da6efa8d454 */
static const uint8_t hash_table_guid[16] = {
	0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
	0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54,
};

/* The data of one footer-table entry we use; data NULL when absent. */
struct ovmf_entry {
	const uint8_t *guid;
	const char *name;
	size_t min_len;		/* the bytes of data we read from it */
	const uint8_t *data;
	size_t len;
};

enum { ENTRY_METADATA, ENTRY_RESET_BLOCK, ENTRY_HASH_TABLE, ENTRY_COUNT };

const char *ovmf_section_name(enum ovmf_section_type type)
{
	switch (type) {
	case OVMF_SNP_SEC_MEM:
		return "SNP_SEC_MEM";
	case OVMF_SNP_SECRETS:
		return "SNP_SECRETS";
	case OVMF_SNP_CPUID:
		return "CPUID";
	case OVMF_SNP_SVSM_CAA:
		return "SVSM_CAA";
	case OVMF_SNP_KERNEL_HASHES:
		return "SNP_KERNEL_HASHES";
	}
	return "unknown";
}

static int check_size(size_t len, struct snp_err *err)
{
	if (len < OVMF_PAGE_SIZE)
		return snp_errf(err, -EINVAL,
				"firmware truncated: %zu bytes, less than one %u-byte page",
				len, OVMF_PAGE_SIZE);
	if (len % OVMF_PAGE_SIZE)
		return snp_errf(err, -EINVAL,
				"firmware size %zu is not a multiple of %u", len,
				OVMF_PAGE_SIZE);
	if ((uint64_t)len > OVMF_FOUR_GIB)
		return snp_errf(err, -EINVAL,
				"firmware size %zu does not fit below 4 GiB", len);
	return 0;
}

/* Keep entry data whose GUID is one of ours; a second copy is refused. */
static int keep_entry(struct ovmf_entry *known, const uint8_t *guid,
		      const uint8_t *data, size_t len, size_t at,
		      struct snp_err *err)
{
	for (int i = 0; i < ENTRY_COUNT; i++) {
		struct ovmf_entry *e = &known[i];

		if (memcmp(guid, e->guid, 16))
			continue;
		if (e->data)
			return snp_errf(err, -EINVAL,
					"footer table: second %s entry at offset %zu",
					e->name, at);
		if (len < e->min_len)
			return snp_errf(err, -EINVAL,
					"footer table: %s entry at offset %zu has %zu data bytes, needs %zu",
					e->name, at, len, e->min_len);
		e->data = data;
		e->len = len;
	}
	return 0;
}

/*
 * Walk the footer table backwards from the footer entry. Each entry's
 * header is the last 18 bytes of it; its size reaches back over its data.
 */
static int walk_table(const uint8_t *fw, size_t len, struct ovmf_entry *known,
		      struct snp_err *err)
{
	size_t footer = len - OVMF_FOOTER_OFFSET;
	size_t table_size = snp_get_le16(fw + footer);
	size_t start, end;
	int ret;

	if (memcmp(fw + footer + 2, footer_guid, 16))
		return snp_errf(err, -EINVAL,
				"bad footer GUID at offset %zu: no OVMF GUID table", footer);
	if (table_size < OVMF_ENTRY_HEADER_SIZE ||
	    table_size - OVMF_ENTRY_HEADER_SIZE > footer)
		return snp_errf(err, -EINVAL,
				"footer table size %zu at offset %zu is below %u or reaches before the file",
				table_size, footer, OVMF_ENTRY_HEADER_SIZE);
	start = footer - (table_size - OVMF_ENTRY_HEADER_SIZE);
	for (end = footer; end - start >= OVMF_ENTRY_HEADER_SIZE;) {
		size_t hdr = end - OVMF_ENTRY_HEADER_SIZE;
		size_t size = snp_get_le16(fw + hdr);

		if (size < OVMF_ENTRY_HEADER_SIZE || size > end - start)
			return snp_errf(err, -EINVAL,
					"footer table: entry length %zu at offset %zu is below %u or past the table",
					size, hdr, OVMF_ENTRY_HEADER_SIZE);
		ret = keep_entry(known, fw + hdr + 2, fw + end - size,
				 size - OVMF_ENTRY_HEADER_SIZE, hdr, err);
		if (ret)
			return ret;
		end -= size;
	}
	if (end != start)
		return snp_errf(err, -EINVAL,
				"footer table: %zu stray bytes at offset %zu", end - start, start);
	return 0;
}

static int parse_section(const uint8_t *p, size_t i, struct ovmf_section *s,
			 struct snp_err *err)
{
	uint32_t type = snp_get_le32(p + 8);

	s->gpa = snp_get_le32(p);
	s->size = snp_get_le32(p + 4);
	s->type = (enum ovmf_section_type)type;
	if (!strcmp(ovmf_section_name(s->type), "unknown"))
		return snp_errf(err, -EINVAL,
				"SEV metadata section %zu: unknown section type %#x", i, type);
	if (!s->size || s->gpa % OVMF_PAGE_SIZE || s->size % OVMF_PAGE_SIZE)
		return snp_errf(err, -EINVAL,
				"SEV metadata section %zu (%s): gpa %#x size %#x is not whole pages",
				i, ovmf_section_name(s->type), s->gpa, s->size);
	if ((uint64_t)s->gpa + s->size > OVMF_FOUR_GIB)
		return snp_errf(err, -EINVAL,
				"SEV metadata section %zu (%s): gpa %#x size %#x ends past 4 GiB",
				i, ovmf_section_name(s->type), s->gpa, s->size);
	return 0;
}

static int parse_metadata(const uint8_t *fw, size_t len,
			  const struct ovmf_entry *e, struct ovmf_info *out,
			  struct snp_err *err)
{
	uint32_t from_end = snp_get_le32(e->data);
	size_t at, size, count;
	int ret;

	if (from_end > len || len - from_end + OVMF_SEV_HEADER_SIZE > len)
		return snp_errf(err, -EINVAL,
				"SEV metadata offset %#x from the end is past the ends of the %zu-byte firmware",
				from_end, len);
	at = len - from_end;
	if (memcmp(fw + at, "ASEV", 4) || snp_get_le32(fw + at + 8) != 1)
		return snp_errf(err, -EINVAL,
				"bad SEV metadata header at offset %zu: not \"ASEV\" version 1", at);
	size = snp_get_le32(fw + at + 4);
	count = snp_get_le32(fw + at + 12);
	if (count > OVMF_SECTIONS_MAX)
		return snp_errf(err, -EINVAL,
				"SEV metadata at offset %zu: %zu sections, more than %d",
				at, count, OVMF_SECTIONS_MAX);
	if (size != OVMF_SEV_HEADER_SIZE + count * OVMF_SEV_SECTION_SIZE ||
	    size > len - at)
		return snp_errf(err, -EINVAL,
				"SEV metadata at offset %zu: size %zu does not hold exactly %zu sections or runs past the end",
				at, size, count);
	for (size_t i = 0; i < count; i++) {
		ret = parse_section(fw + at + OVMF_SEV_HEADER_SIZE + i * OVMF_SEV_SECTION_SIZE,
				    i, &out->sections[i], err);
		if (ret)
			return ret;
		if (out->sections[i].type == OVMF_SNP_KERNEL_HASHES)
			out->has_kernel_hashes = true;
	}
	out->section_count = count;
	return 0;
}

int ovmf_parse(const uint8_t *fw, size_t len, struct ovmf_info *out,
	       struct snp_err *err)
{
	struct ovmf_entry known[ENTRY_COUNT] = {
		[ENTRY_METADATA] = { sev_metadata_guid, "SEV metadata", 4, NULL, 0 },
		[ENTRY_RESET_BLOCK] = { reset_block_guid, "SEV-ES reset block", 4, NULL, 0 },
		[ENTRY_HASH_TABLE] = { hash_table_guid, "kernel hash table", 8, NULL, 0 },
	};
	struct ovmf_info info = { 0 };
	int ret;

	ret = check_size(len, err);
	if (!ret)
		ret = walk_table(fw, len, known, err);
	if (ret)
		return ret;
	if (!known[ENTRY_METADATA].data)
		return snp_errf(err, -EINVAL,
				"firmware without SEV metadata: no SEV metadata entry in its footer table");
	ret = parse_metadata(fw, len, &known[ENTRY_METADATA], &info, err);
	if (ret)
		return ret;
	info.size = len;
	info.gpa = OVMF_FOUR_GIB - len;
	if (known[ENTRY_RESET_BLOCK].data) {
		info.has_reset_block = true;
		info.reset_block_addr = snp_get_le32(known[ENTRY_RESET_BLOCK].data);
	}
	if (known[ENTRY_HASH_TABLE].data) {
		info.has_hash_table = true;
		info.hash_table_gpa = snp_get_le32(known[ENTRY_HASH_TABLE].data);
		info.hash_table_size = snp_get_le32(known[ENTRY_HASH_TABLE].data + 4);
	}
	*out = info;
	return 0;
}
