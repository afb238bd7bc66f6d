// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * owner/ovmf.h: the OVMF footer table and SEV metadata of the upstream
 * fixtures (the last page of edk2-stable202405 AmdSev and OvmfX64 builds,
 * ../shared/testdata/measure), and each refusal made by changing a copy.
 * The expected sections are read off the fixtures' bytes: the "ASEV"
 * header at 0x554 (AmdSev) and 0x548 (OvmfX64) bytes from the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owner/ovmf.h"
#include "snp/bytes.h"
#include "tests/harness.h"

#define AMDSEV "measure/fixtures/ovmf_AmdSev_suffix.bin"
#define OVMFX64 "measure/fixtures/ovmf_OvmfX64_suffix.bin"
#define FIXTURE_MAX (64 * 1024)

/* Offsets in the AmdSev fixture (a 4096-byte page). */
#define AMDSEV_FOOTER_GUID	0xfd0	/* the footer entry's GUID */
#define AMDSEV_META_ENTRY	0xf72	/* the SEV metadata entry's size u16 */
#define AMDSEV_META_OFFSET	0xf6e	/* its data: the offset from the end */
#define AMDSEV_ASEV		0xaac	/* the "ASEV" header */

static const struct ovmf_section amdsev_sections[] = {
	{ 0x800000, 0x9000, OVMF_SNP_SEC_MEM },
	{ 0x80a000, 0x3000, OVMF_SNP_SEC_MEM },
	{ 0x80d000, 0x1000, OVMF_SNP_SECRETS },
	{ 0x80e000, 0x1000, OVMF_SNP_CPUID },
	{ 0x80f000, 0x1000, OVMF_SNP_SVSM_CAA },
	{ 0x810000, 0x1000, OVMF_SNP_KERNEL_HASHES },
	{ 0x811000, 0xf000, OVMF_SNP_SEC_MEM },
};

static const struct ovmf_section ovmfx64_sections[] = {
	{ 0x800000, 0x9000, OVMF_SNP_SEC_MEM },
	{ 0x80a000, 0x3000, OVMF_SNP_SEC_MEM },
	{ 0x80d000, 0x1000, OVMF_SNP_SECRETS },
	{ 0x80e000, 0x1000, OVMF_SNP_CPUID },
	{ 0x80f000, 0x1000, OVMF_SNP_SVSM_CAA },
	{ 0x810000, 0x10000, OVMF_SNP_SEC_MEM },
};

static void check_sections(const struct ovmf_info *info,
			   const struct ovmf_section *want, size_t count)
{
	REQUIRE(info->section_count == count);
	for (size_t i = 0; i < count; i++) {
		CHECK(info->sections[i].gpa == want[i].gpa);
		CHECK(info->sections[i].size == want[i].size);
		CHECK(info->sections[i].type == want[i].type);
	}
}

TEST(owner_ovmf_amdsev_fixture)
{
	size_t len;
	uint8_t *fw = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	struct ovmf_info info;
	struct snp_err err = { 0 };

	REQUIRE(len == 4096);
	REQUIRE(ovmf_parse(fw, len, &info, &err) == 0);
	CHECK(info.size == 4096);
	CHECK(info.gpa == 0xfffff000);
	check_sections(&info, amdsev_sections, 7);
	CHECK(info.has_kernel_hashes);
	CHECK(info.has_reset_block && info.reset_block_addr == 0x80b004);
	/* QEMU's hash table sits inside the kernel-hashes page. */
	CHECK(info.has_hash_table && info.hash_table_gpa == 0x810c00 &&
	      info.hash_table_size == 0x400);
	CHECK_STR(ovmf_section_name(info.sections[5].type), "SNP_KERNEL_HASHES");
	free(fw);
}

TEST(owner_ovmf_ovmfx64_fixture)
{
	size_t len;
	uint8_t *fw = test_read_shared(OVMFX64, FIXTURE_MAX, &len);
	struct ovmf_info info;
	struct snp_err err = { 0 };

	REQUIRE(len == 4096);
	REQUIRE(ovmf_parse(fw, len, &info, &err) == 0);
	CHECK(info.gpa == 0xfffff000);
	check_sections(&info, ovmfx64_sections, 6);
	CHECK(!info.has_kernel_hashes);
	CHECK(info.has_reset_block && info.reset_block_addr == 0x80b004);
	free(fw);
}

/* A larger firmware: the same last page after zero pages maps lower. */
TEST(owner_ovmf_maps_to_end_at_4gib)
{
	size_t len;
	uint8_t *page = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	uint8_t *fw = calloc(1, 3 * 4096);
	struct ovmf_info info;
	struct snp_err err = { 0 };

	REQUIRE(fw && len == 4096);
	memcpy(fw + 2 * 4096, page, 4096);
	REQUIRE(ovmf_parse(fw, 3 * 4096, &info, &err) == 0);
	CHECK(info.size == 3 * 4096);
	CHECK(info.gpa == 0x100000000ull - 3 * 4096);
	check_sections(&info, amdsev_sections, 7);
	free(page);
	free(fw);
}

/* Parse fw (len bytes) expecting -EINVAL with a message containing want. */
static void check_refused(const uint8_t *fw, size_t len, const char *want)
{
	struct ovmf_info info = { .size = 77 };
	struct snp_err err = { 0 };

	CHECK(ovmf_parse(fw, len, &info, &err) == -EINVAL);
	if (!CHECK(strstr(err.msg, want) != NULL))
		fprintf(stderr, "    message: %s (wanted \"%s\")\n", err.msg, want);
	CHECK(info.size == 77);
}

/* A fresh copy of the AmdSev fixture in buf (4096 bytes), for one change. */
static uint8_t *amdsev_copy(const uint8_t *orig, uint8_t *buf)
{
	memcpy(buf, orig, 4096);
	return buf;
}

TEST(owner_ovmf_refusals)
{
	size_t len;
	uint8_t *orig = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	uint8_t *big = calloc(1, 4096 + 100);
	uint8_t *fw = malloc(4096);

	REQUIRE(len == 4096 && big && fw);
	check_refused(orig + 2048, 2048, "truncated");
	check_refused(orig, 0, "truncated");
	memcpy(big, orig, 4096);
	check_refused(big, 4096 + 100, "not a multiple of 4096");

	amdsev_copy(orig, fw)[AMDSEV_FOOTER_GUID] ^= 1;
	check_refused(fw, 4096, "bad footer GUID");
	/* The footer's own size below one header. */
	memset(amdsev_copy(orig, fw) + AMDSEV_FOOTER_GUID - 2, 0, 2);
	check_refused(fw, 4096, "footer table size 0");
	amdsev_copy(orig, fw)[AMDSEV_META_ENTRY] = 17;
	check_refused(fw, 4096, "entry length 17");
	/* An entry longer than what is left of the table. */
	amdsev_copy(orig, fw)[AMDSEV_META_ENTRY] = 0xf0;
	check_refused(fw, 4096, "past the table");
	amdsev_copy(orig, fw)[AMDSEV_ASEV] = 'B';
	check_refused(fw, 4096, "bad SEV metadata header");
	snp_put_le32(amdsev_copy(orig, fw) + AMDSEV_ASEV + 8, 2);
	check_refused(fw, 4096, "bad SEV metadata header");
	snp_put_le32(amdsev_copy(orig, fw) + AMDSEV_META_OFFSET, 0x2000);
	check_refused(fw, 4096, "past the ends");
	snp_put_le32(amdsev_copy(orig, fw) + AMDSEV_META_OFFSET, 8);
	check_refused(fw, 4096, "past the ends");
	/* A metadata header whose items run past the end of the file. */
	snp_put_le32(amdsev_copy(orig, fw) + AMDSEV_META_OFFSET, 0x20);
	memcpy(fw + 4096 - 0x20, orig + AMDSEV_ASEV, 16);
	check_refused(fw, 4096, "runs past the end");
	snp_put_le32(amdsev_copy(orig, fw) + AMDSEV_ASEV + 16 + 8, 5);
	check_refused(fw, 4096, "unknown section type 0x5");
	snp_put_le32(amdsev_copy(orig, fw) + AMDSEV_ASEV + 16, 0x800800);
	check_refused(fw, 4096, "not whole pages");
	snp_put_le32(amdsev_copy(orig, fw) + AMDSEV_ASEV + 16, 0xfffff000);
	check_refused(fw, 4096, "past 4 GiB");
	/* The metadata entry's GUID changed: no SEV metadata left. */
	amdsev_copy(orig, fw)[AMDSEV_META_ENTRY + 2] ^= 1;
	check_refused(fw, 4096, "without SEV metadata");
	free(orig);
	free(big);
	free(fw);
}
