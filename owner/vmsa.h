/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OWNER_VMSA_H
#define OWNER_VMSA_H

/*
 * The initial VMSA (VMCB save area, AMD APM vol. 2 table B-4) of a vCPU as
 * the hypervisor hands it to SNP_LAUNCH_UPDATE: the launch measures one such
 * page per vCPU, so the owner must rebuild them byte for byte. Every vCPU
 * starts in real mode at the reset vector; the BSP at 0xfffffff0, the APs
 * at the firmware's SEV-ES reset block address. Hypervisors differ in a few
 * segment attributes and registers (see vmsa.c), hence the flavour.
 */
#include <stdint.h>

#define VMSA_PAGE_SIZE	4096u
/* The BSP's reset vector (CS base 0xffff0000, IP 0xfff0). */
#define VMSA_BSP_EIP	0xfffffff0u
/* SEV_FEATURES bit 0: the guest runs under SNP. */
#define VMSA_FEATURE_SNP	0x1ull

enum vmsa_flavour {
	VMSA_QEMU,	/* QEMU/KVM */
	VMSA_EC2,	/* Amazon EC2's VMM */
	VMSA_GCE,	/* Google Compute Engine's VMM */
};

/*
 * Write into page the VMSA of a vCPU that starts at eip (CS base is its
 * upper 16 bits, RIP its lower), with sev_features and, where the flavour
 * passes it in RDX as QEMU does, the CPUID signature vcpu_sig.
 */
void vmsa_build(uint8_t page[VMSA_PAGE_SIZE], enum vmsa_flavour flavour,
		uint32_t eip, uint32_t vcpu_sig, uint64_t sev_features);

/*
 * CPUID Fn0000_0001_EAX for family, model and stepping (AMD pub. 25481):
 * families above 0xf are 0xf plus an extended family.
 */
uint32_t vmsa_cpu_signature(unsigned int family, unsigned int model,
			    unsigned int stepping);

/*
 * The signature of a QEMU CPU model: "EPYC", "EPYC-IBPB", "EPYC-Rome",
 * "EPYC-Milan", "EPYC-Genoa", "EPYC-Turin", each also with the versions
 * QEMU defines ("-v1" up to "-v5", "-v5", "-v3", "-v2", "-v1"), which
 * change features but not family, model or stepping. 0 and *sig, or
 * -EINVAL for a name QEMU does not have (sig unchanged).
 */
int vmsa_cpu_signature_by_name(const char *name, uint32_t *sig);

#endif
