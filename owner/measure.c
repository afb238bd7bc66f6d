// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SEV-SNP launch digest (owner/measure.h). Each page the hypervisor
 * adds extends the digest as
 *
 *	ld = SHA-384(PAGE_INFO{ ld, contents, 0x70, type, imi 0, perms 0, gpa })
 *
 * where contents is the SHA-384 of the page for normal and VMSA pages and
 * zeros for the types whose contents the firmware fixes itself. The order,
 * as the VMMs add them: the firmware's pages from its low address up; the
 * SEV metadata sections in the firmware's order (EC2 moves the CPUID pages
 * after all the others); the VMSAs, BSP first. Facts from
 * virtee/sev-snp-measure (QEMU, EC2) and google/gce-tcb-verifier (GCE).
 */
#include <errno.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "owner/measure.h"
#include "owner/ovmf.h"
#include "owner/vmsa.h"
#include "snp/bytes.h"

/* SNP_LAUNCH_UPDATE's page types (SNP firmware ABI). */
enum page_type {
	PAGE_NORMAL = 1,
	PAGE_VMSA = 2,
	PAGE_ZERO = 3,
	PAGE_UNMEASURED = 4,
	PAGE_SECRETS = 5,
	PAGE_CPUID = 6,
};

#define PAGE_INFO_SIZE	0x70u
/*
 * KVM adds every VMSA at GPA "-1", which the firmware cuts to the guest's
 * physical address width (48 bits on the parts these VMMs model) and to a
 * page boundary.
 */
#define VMSA_GPA	0xfffffffff000ull

/*
 * QEMU's kernel-hashes table (target/i386/sev.c, SevHashTable): a GUIDed
 * header, then cmdline, initrd and kernel entries (GUID, u16 length,
 * SHA-256), padded to 16 bytes. GUIDs in EFI (little-endian) byte order.
 */
#define HASH_ENTRY_SIZE		(16u + 2u + 32u)
#define HASH_TABLE_SIZE		(16u + 2u + 3u * HASH_ENTRY_SIZE)
#define HASH_TABLE_PADDED	((HASH_TABLE_SIZE + 15u) & ~15u)

/* 9438d606-4f22-4cc9-b479-a793d411fd21 */
static const uint8_t hash_table_guid[16] = {
	0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
	0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21,
};
/* 97d02dd8-bd20-4c94-aa78-e7714d36ab2a */
static const uint8_t cmdline_guid[16] = {
	0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
	0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a,
};
/* 44baf731-3a2f-4bd7-9af1-41e29169781d */
static const uint8_t initrd_guid[16] = {
	0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
	0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d,
};
/* 4de79437-abd2-427f-b835-d5b172d2045b */
static const uint8_t kernel_guid[16] = {
	0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
	0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b,
};

/* The running digest and the PAGE_INFO that extends it, reused per page. */
struct chain {
	uint8_t info[PAGE_INFO_SIZE];	/* starts with the current digest */
};

static void chain_init(struct chain *c, const uint8_t *seed)
{
	memset(c->info, 0, sizeof(c->info));
	if (seed)
		memcpy(c->info, seed, MEASURE_DIGEST_SIZE);
	c->info[0x60] = PAGE_INFO_SIZE;
}

/* Extend by one page; contents NULL for the zero-contents page types. */
static int chain_add(struct chain *c, enum page_type type, uint64_t gpa,
		     const uint8_t *contents, struct snp_err *err)
{
	if (contents)
		memcpy(c->info + 0x30, contents, MEASURE_DIGEST_SIZE);
	else
		memset(c->info + 0x30, 0, MEASURE_DIGEST_SIZE);
	c->info[0x62] = (uint8_t)type;
	snp_put_le64(c->info + 0x68, gpa);
	/* The new digest overwrites the old in place: the input is read first. */
	if (mbedtls_sha512(c->info, sizeof(c->info), c->info, 1))
		return snp_errf(err, -EIO, "SHA-384 of a PAGE_INFO failed");
	return 0;
}

/* Pages of data (len a multiple of the page size) measured as normal. */
static int chain_add_data(struct chain *c, uint64_t gpa, const uint8_t *data,
			  size_t len, enum page_type type, struct snp_err *err)
{
	uint8_t page_hash[MEASURE_DIGEST_SIZE];
	int ret = 0;

	for (size_t off = 0; off < len && !ret; off += OVMF_PAGE_SIZE) {
		if (mbedtls_sha512(data + off, OVMF_PAGE_SIZE, page_hash, 1))
			return snp_errf(err, -EIO, "SHA-384 of the page at %#llx failed",
					(unsigned long long)(gpa + off));
		ret = chain_add(c, type, gpa + off, page_hash, err);
	}
	return ret;
}

static int chain_add_empty(struct chain *c, uint64_t gpa, size_t len,
			   enum page_type type, struct snp_err *err)
{
	int ret = 0;

	for (size_t off = 0; off < len && !ret; off += OVMF_PAGE_SIZE)
		ret = chain_add(c, type, gpa + off, NULL, err);
	return ret;
}

static void put_hash_entry(uint8_t *p, const uint8_t guid[16],
			   const uint8_t sha256[32])
{
	memcpy(p, guid, 16);
	p[16] = HASH_ENTRY_SIZE;
	p[17] = 0;
	memcpy(p + 18, sha256, 32);
}

/* The kernel-hashes page: zeros with QEMU's table at the table's offset. */
static int build_hashes_page(const struct measure_input *in, size_t offset,
			     uint8_t page[OVMF_PAGE_SIZE], struct snp_err *err)
{
	static const char no_cmdline[1] = "";
	const char *cmdline = in->append ? in->append : no_cmdline;
	uint8_t cmdline_hash[32], initrd_hash[32], kernel_hash[32];
	uint8_t *table = page + offset;

	/* The command line is hashed with its terminating NUL. */
	if (mbedtls_sha256((const uint8_t *)cmdline, strlen(cmdline) + 1, cmdline_hash, 0) ||
	    mbedtls_sha256(in->initrd, in->initrd_len, initrd_hash, 0) ||
	    mbedtls_sha256(in->kernel, in->kernel_len, kernel_hash, 0))
		return snp_errf(err, -EIO, "SHA-256 of the kernel, initrd or command line failed");
	memset(page, 0, OVMF_PAGE_SIZE);
	memcpy(table, hash_table_guid, 16);
	table[16] = HASH_TABLE_SIZE;
	table[17] = 0;
	put_hash_entry(table + 18, cmdline_guid, cmdline_hash);
	put_hash_entry(table + 18 + HASH_ENTRY_SIZE, initrd_guid, initrd_hash);
	put_hash_entry(table + 18 + 2 * HASH_ENTRY_SIZE, kernel_guid, kernel_hash);
	return 0;
}

/*
 * QEMU writes its table at the firmware's kernel-hash table address, which
 * must lie in the one-page kernel-hashes section and hold the table.
 */
static int check_hash_table(const struct ovmf_info *fw,
			    const struct ovmf_section *s, struct snp_err *err)
{
	if (!fw->has_hash_table)
		return snp_errf(err, -EINVAL,
				"the firmware's kernel-hashes section has no kernel hash table entry in its footer table");
	if (s->size != OVMF_PAGE_SIZE ||
	    fw->hash_table_gpa / OVMF_PAGE_SIZE != s->gpa / OVMF_PAGE_SIZE ||
	    fw->hash_table_size < HASH_TABLE_PADDED ||
	    fw->hash_table_gpa % OVMF_PAGE_SIZE + HASH_TABLE_PADDED > OVMF_PAGE_SIZE)
		return snp_errf(err, -EINVAL,
				"kernel hash table at %#x (%#x bytes) does not fit the one-page kernel-hashes section at %#x (%#x bytes)",
				fw->hash_table_gpa, fw->hash_table_size, s->gpa, s->size);
	return 0;
}

static int add_kernel_hashes(struct chain *c, const struct measure_input *in,
			     const struct ovmf_info *fw,
			     const struct ovmf_section *s, struct snp_err *err)
{
	uint8_t page[OVMF_PAGE_SIZE];
	int ret;

	if (!in->has_kernel || in->vmm == MEASURE_VMM_GCE)
		return chain_add_empty(c, s->gpa, s->size, PAGE_ZERO, err);
	ret = check_hash_table(fw, s, err);
	if (!ret)
		ret = build_hashes_page(in, fw->hash_table_gpa % OVMF_PAGE_SIZE, page, err);
	if (!ret)
		ret = chain_add_data(c, s->gpa, page, OVMF_PAGE_SIZE, PAGE_NORMAL, err);
	return ret;
}

/* One metadata section as the VMM adds it (EC2's CPUID pages come later). */
static int add_section(struct chain *c, const struct measure_input *in,
		       const struct ovmf_info *fw, const struct ovmf_section *s,
		       struct snp_err *err)
{
	switch (s->type) {
	case OVMF_SNP_SEC_MEM:
		/* GCE's VMM leaves pre-validated memory unmeasured, not zeroed. */
		return chain_add_empty(c, s->gpa, s->size,
				       in->vmm == MEASURE_VMM_GCE ? PAGE_UNMEASURED : PAGE_ZERO,
				       err);
	case OVMF_SNP_SECRETS:
		return chain_add_empty(c, s->gpa, s->size, PAGE_SECRETS, err);
	case OVMF_SNP_CPUID:
		if (in->vmm == MEASURE_VMM_EC2)
			return 0;
		return chain_add_empty(c, s->gpa, s->size, PAGE_CPUID, err);
	case OVMF_SNP_SVSM_CAA:
		return chain_add_empty(c, s->gpa, s->size, PAGE_ZERO, err);
	case OVMF_SNP_KERNEL_HASHES:
		return add_kernel_hashes(c, in, fw, s, err);
	}
	return snp_errf(err, -EINVAL, "SEV metadata section type %#x is not measurable",
			(unsigned int)s->type);
}

static int add_metadata(struct chain *c, const struct measure_input *in,
			const struct ovmf_info *fw, struct snp_err *err)
{
	int ret = 0;

	for (size_t i = 0; i < fw->section_count && !ret; i++)
		ret = add_section(c, in, fw, &fw->sections[i], err);
	for (size_t i = 0; i < fw->section_count && !ret; i++) {
		const struct ovmf_section *s = &fw->sections[i];

		if (in->vmm == MEASURE_VMM_EC2 && s->type == OVMF_SNP_CPUID)
			ret = chain_add_empty(c, s->gpa, s->size, PAGE_CPUID, err);
	}
	return ret;
}

static const enum vmsa_flavour vmsa_flavours[] = {
	[MEASURE_VMM_QEMU] = VMSA_QEMU,
	[MEASURE_VMM_EC2] = VMSA_EC2,
	[MEASURE_VMM_GCE] = VMSA_GCE,
};

/* The BSP's page, then the APs', which all start at the reset block. */
static int add_vmsas(struct chain *c, const struct measure_input *in,
		     const struct ovmf_info *fw, struct snp_err *err)
{
	enum vmsa_flavour flavour = vmsa_flavours[in->vmm];
	uint8_t page[VMSA_PAGE_SIZE];
	int ret;

	vmsa_build(page, flavour, VMSA_BSP_EIP, in->vcpu_sig, in->guest_features);
	ret = chain_add_data(c, VMSA_GPA, page, VMSA_PAGE_SIZE, PAGE_VMSA, err);
	if (ret || in->vcpus == 1)
		return ret;
	/* Every AP's page is the same: hash it once, extend once per AP. */
	vmsa_build(page, flavour, fw->reset_block_addr, in->vcpu_sig,
		   in->guest_features);
	if (mbedtls_sha512(page, VMSA_PAGE_SIZE, page, 1))
		return snp_errf(err, -EIO, "SHA-384 of the AP's VMSA failed");
	for (unsigned int i = 1; i < in->vcpus && !ret; i++)
		ret = chain_add(c, PAGE_VMSA, VMSA_GPA, page, err);
	return ret;
}

static int check_input(const struct measure_input *in,
		       const struct ovmf_info *fw, struct snp_err *err)
{
	if (in->vmm != MEASURE_VMM_QEMU && in->vmm != MEASURE_VMM_EC2 &&
	    in->vmm != MEASURE_VMM_GCE)
		return snp_errf(err, -EINVAL, "unknown VMM type %d", (int)in->vmm);
	if (in->vcpus < 1 || in->vcpus > MEASURE_VCPUS_MAX)
		return snp_errf(err, -EINVAL, "vcpus %u is out of range 1..%u",
				in->vcpus, MEASURE_VCPUS_MAX);
	if (in->vcpus > 1 && !fw->has_reset_block)
		return snp_errf(err, -EINVAL,
				"%u vCPUs but the firmware has no SEV-ES reset block for the APs",
				in->vcpus);
	if ((!in->kernel && in->kernel_len) || (!in->initrd && in->initrd_len))
		return snp_errf(err, -EINVAL, "kernel or initrd length without its bytes");
	if (!in->has_kernel)
		return 0;
	if (in->vmm == MEASURE_VMM_GCE)
		return snp_errf(err, -EINVAL,
				"kernel given but GCE measures no kernel hashes (no direct kernel boot)");
	if (!fw->has_kernel_hashes)
		return snp_errf(err, -EINVAL,
				"kernel given but the firmware has no kernel-hashes section in its SEV metadata");
	return 0;
}

int measure_launch_digest(const struct measure_input *in,
			  uint8_t out[MEASURE_DIGEST_SIZE], struct snp_err *err)
{
	struct ovmf_info fw;
	struct chain c;
	int ret;

	ret = ovmf_parse(in->fw, in->fw_len, &fw, err);
	if (!ret)
		ret = check_input(in, &fw, err);
	if (ret)
		return ret;
	chain_init(&c, in->ovmf_hash);
	if (!in->ovmf_hash)
		ret = chain_add_data(&c, fw.gpa, in->fw, in->fw_len, PAGE_NORMAL, err);
	if (!ret)
		ret = add_metadata(&c, in, &fw, err);
	if (!ret)
		ret = add_vmsas(&c, in, &fw, err);
	if (!ret)
		memcpy(out, c.info, MEASURE_DIGEST_SIZE);
	return ret;
}

int measure_ovmf_hash(const uint8_t *fw, size_t fw_len,
		      uint8_t out[MEASURE_DIGEST_SIZE], struct snp_err *err)
{
	struct ovmf_info info;
	struct chain c;
	int ret;

	ret = ovmf_parse(fw, fw_len, &info, err);
	if (ret)
		return ret;
	chain_init(&c, NULL);
	ret = chain_add_data(&c, info.gpa, fw, fw_len, PAGE_NORMAL, err);
	if (!ret)
		memcpy(out, c.info, MEASURE_DIGEST_SIZE);
	return ret;
}
