/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OWNER_MEASURE_H
#define OWNER_MEASURE_H

/*
 * The SEV-SNP launch digest (the report's MEASUREMENT) that a guest will
 * have when launched from exactly these files: a SHA-384 chain over one
 * 112-byte PAGE_INFO per page the hypervisor hands to SNP_LAUNCH_UPDATE
 * (SNP firmware ABI, PAGE_INFO): the firmware's pages, mapped to end at
 * 4 GiB; the pages the firmware's SEV metadata names (zero, secrets,
 * CPUID, SVSM calling area, QEMU's kernel-hashes page); then one VMSA page
 * per vCPU (owner/vmsa.h). The order and page types are those of QEMU,
 * EC2's VMM or GCE's VMM, which differ slightly (see measure.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

#define MEASURE_DIGEST_SIZE	48
/* A launch with more vCPUs than this is not one we are asked about. */
#define MEASURE_VCPUS_MAX	512u

enum measure_vmm {
	MEASURE_VMM_QEMU = 0,
	MEASURE_VMM_EC2,
	/*
	 * GCE as google/gce-tcb-verifier reconstructs it: no kernel hashes,
	 * pre-validated memory as unmeasured pages, its own VMSA (RDX 0x600,
	 * its PAT), the VMSA at the 48-bit (Milan) top page. Its VMSA
	 * takes guest_features as given; GCE's launches use 0x1.
	 */
	MEASURE_VMM_GCE,
};

struct measure_input {
	const uint8_t *fw;		/* the whole -bios file, always needed */
	size_t fw_len;
	/* NULL, or 48 bytes: seed the chain instead of hashing fw's pages. */
	const uint8_t *ovmf_hash;
	bool has_kernel;		/* --kernel: the kernel-hashes page is filled */
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;		/* NULL/0: an empty initrd */
	size_t initrd_len;
	const char *append;		/* NULL: no command line (hash of "\0") */
	unsigned int vcpus;		/* 1 .. MEASURE_VCPUS_MAX */
	uint32_t vcpu_sig;		/* CPUID 1 EAX signature, see vmsa.h */
	uint64_t guest_features;	/* VMSA SEV_FEATURES, 0x1 = SNP */
	enum measure_vmm vmm;
};

/*
 * The launch digest of in into out. -EINVAL, with err naming what was
 * wrong, for firmware ovmf_parse() refuses, vCPUs out of range, a kernel
 * given to firmware without a kernel-hashes section (or to GCE), more than
 * one vCPU without the firmware's SEV-ES reset block, an unknown VMM.
 */
int measure_launch_digest(const struct measure_input *in,
			  uint8_t out[MEASURE_DIGEST_SIZE], struct snp_err *err);

/*
 * The chain over the firmware's own pages only: what --ovmf-hash prints
 * and what measure_input.ovmf_hash seeds the chain with.
 */
int measure_ovmf_hash(const uint8_t *fw, size_t fw_len,
		      uint8_t out[MEASURE_DIGEST_SIZE], struct snp_err *err);

#endif
