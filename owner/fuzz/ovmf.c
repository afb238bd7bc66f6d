// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: an OVMF firmware file's footer GUID table and SEV metadata,
 * which whoever hands the owner a firmware file chooses, as the last bytes
 * of a one-page firmware. A refusal is -EINVAL with a printable sentence;
 * whatever ovmf_parse accepts must map to end at 4 GiB and list only
 * known, whole-page sections below 4 GiB, and is then measured (with a
 * kernel when it has a kernel-hashes section): a digest, or a refusal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "owner/measure.h"
#include "owner/ovmf.h"
#include "owner/vmsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int ret, const struct snp_err *err)
{
	if (ret != -EINVAL || !err->msg[0])
		abort();
	for (const char *p = err->msg; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

static void check_info(const struct ovmf_info *info, size_t size)
{
	bool hashes = false;

	if (info->size != size || size % OVMF_PAGE_SIZE ||
	    info->gpa + size != OVMF_FOUR_GIB ||
	    info->section_count > OVMF_SECTIONS_MAX)
		abort();
	for (size_t i = 0; i < info->section_count; i++) {
		const struct ovmf_section *s = &info->sections[i];

		if (!strcmp(ovmf_section_name(s->type), "unknown") || !s->size ||
		    s->gpa % OVMF_PAGE_SIZE || s->size % OVMF_PAGE_SIZE ||
		    (uint64_t)s->gpa + s->size > OVMF_FOUR_GIB)
			abort();
		hashes |= s->type == OVMF_SNP_KERNEL_HASHES;
	}
	if (hashes != info->has_kernel_hashes)
		abort();
}

/* Sections of at most this many pages in all are measured (a run stays quick). */
#define MEASURED_PAGES_MAX	4096u

static void check_measure(const uint8_t *fw, const struct ovmf_info *info)
{
	static const uint8_t kernel[1] = { 0x4d };
	struct measure_input in = {
		.fw = fw, .fw_len = info->size,
		.has_kernel = info->has_kernel_hashes,
		.kernel = kernel, .kernel_len = sizeof(kernel),
		.append = "console=ttyS0",
		.vcpus = info->has_reset_block ? 2 : 1,
		.vcpu_sig = vmsa_cpu_signature(25, 1, 1),
		.guest_features = VMSA_FEATURE_SNP,
		.vmm = MEASURE_VMM_QEMU,
	};
	uint8_t digest[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };
	uint64_t pages = 0;
	int ret;

	for (size_t i = 0; i < info->section_count; i++)
		pages += info->sections[i].size / OVMF_PAGE_SIZE;
	if (pages > MEASURED_PAGES_MAX)
		return;
	ret = measure_launch_digest(&in, digest, &err);
	if (ret)
		check_refusal(ret, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovmf_info info;
	struct snp_err err = { 0 };
	uint8_t *page;
	int ret;

	/*
	 * The input is the tail of a one-page firmware (zeroes before it), so
	 * every mutation reaches the table instead of the page-size check. The
	 * page is malloc'd to its exact size for ASan to see any overrun.
	 */
	if (size > OVMF_PAGE_SIZE)
		return 0;
	page = calloc(1, OVMF_PAGE_SIZE);
	if (!page)
		abort();
	memcpy(page + OVMF_PAGE_SIZE - size, data, size);
	ret = ovmf_parse(page, OVMF_PAGE_SIZE, &info, &err);
	if (ret)
		check_refusal(ret, &err);
	else
		check_info(&info, OVMF_PAGE_SIZE);
	if (!ret)
		check_measure(page, &info);
	free(page);
	return 0;
}
