/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OWNER_OVMF_H
#define OWNER_OVMF_H

/*
 * The OVMF firmware file as the guest owner measures it: the file passed
 * to QEMU with -bios is mapped to end at 4 GiB, and its last bytes hold a
 * GUIDed table (edk2 OvmfPkg/ResetVector) read backwards from a footer
 * entry 32 bytes before the end:
 *
 *	... | data | size u16 LE | GUID[16] | ... | footer entry | 32 bytes
 *
 * where each entry's size counts its data and its own 18-byte header, and
 * the footer's size counts the whole table. The SEV metadata entry gives,
 * as an offset from the end of the file, an "ASEV" header (signature,
 * size, version 1, item count, u32 LE each) followed by 12-byte sections
 * (gpa, size, type; u32 LE each): the pages the launch measures besides
 * the firmware's own. The owner may be handed any file, so the parser
 * trusts nothing in it: every offset is checked against the file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

#define OVMF_PAGE_SIZE		4096u
#define OVMF_FOUR_GIB		0x100000000ull
#define OVMF_ENTRY_HEADER_SIZE	18u
/* The footer entry's header starts this far before the end of the file. */
#define OVMF_FOOTER_OFFSET	(32u + OVMF_ENTRY_HEADER_SIZE)
#define OVMF_SEV_HEADER_SIZE	16u
#define OVMF_SEV_SECTION_SIZE	12u
/* edk2's builds have 6 or 7; a table this long is not a real firmware. */
#define OVMF_SECTIONS_MAX	32

/* Section types of the SEV metadata (edk2's SEV_METADATA_SECTION_TYPE). */
enum ovmf_section_type {
	OVMF_SNP_SEC_MEM = 1,		/* pre-validated zero pages */
	OVMF_SNP_SECRETS = 2,		/* the secrets page */
	OVMF_SNP_CPUID = 3,		/* the CPUID page */
	OVMF_SNP_SVSM_CAA = 4,		/* the SVSM calling area, zero pages */
	OVMF_SNP_KERNEL_HASHES = 0x10,	/* QEMU's kernel-hashes page */
};

struct ovmf_section {
	uint32_t gpa;
	uint32_t size;
	enum ovmf_section_type type;
};

struct ovmf_info {
	size_t size;			/* the firmware file's length */
	uint64_t gpa;			/* where it is mapped: 4 GiB - size */
	size_t section_count;
	struct ovmf_section sections[OVMF_SECTIONS_MAX];
	bool has_reset_block;
	uint32_t reset_block_addr;	/* the SEV-ES AP reset vector (CS:IP) */
	bool has_hash_table;		/* QEMU's kernel-hashes table location */
	uint32_t hash_table_gpa;
	uint32_t hash_table_size;
	bool has_kernel_hashes;		/* an OVMF_SNP_KERNEL_HASHES section */
};

/*
 * Parse the firmware file fw of len bytes into out. -EINVAL, with err
 * naming what was wrong, for a size that is not a whole number of pages
 * or would not fit below 4 GiB, a footer or entry that does not fit, a
 * wrong footer GUID, a repeated entry, missing or malformed SEV metadata,
 * or a section that is unknown, unaligned or not below 4 GiB. out is
 * filled only on success.
 */
int ovmf_parse(const uint8_t *fw, size_t len, struct ovmf_info *out,
	       struct snp_err *err);

/* A section type's name ("SNP_SEC_MEM", ...), or "unknown". */
const char *ovmf_section_name(enum ovmf_section_type type);

#endif
