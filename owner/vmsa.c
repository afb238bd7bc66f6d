// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The initial VMSA page (owner/vmsa.h). Offsets are those of the SEV-ES
 * save area (AMD APM vol. 2 table B-4, Linux's struct sev_es_save_area);
 * every field not named here is zero at launch. The register values are
 * what KVM sets at vCPU reset (EFER.SVME, CR4.MCE, the PAT reset value,
 * XCR0 x87 only), as virtee/sev-snp-measure reconstructs them for QEMU and
 * EC2 and google/gce-tcb-verifier for GCE.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "owner/vmsa.h"
#include "snp/bytes.h"

/* Segment registers: selector u16, attributes u16, limit u32, base u64. */
enum {
	SEG_ES = 0x00, SEG_CS = 0x10, SEG_SS = 0x20, SEG_DS = 0x30,
	SEG_FS = 0x40, SEG_GS = 0x50, SEG_GDTR = 0x60, SEG_LDTR = 0x70,
	SEG_IDTR = 0x80, SEG_TR = 0x90,
};

enum {
	VMSA_EFER = 0xd0,
	VMSA_CR4 = 0x148,
	VMSA_CR0 = 0x158,
	VMSA_DR7 = 0x160,
	VMSA_DR6 = 0x168,
	VMSA_RFLAGS = 0x170,
	VMSA_RIP = 0x178,
	VMSA_G_PAT = 0x268,
	VMSA_RDX = 0x310,
	VMSA_SEV_FEATURES = 0x3b0,
	VMSA_XCR0 = 0x3e8,
	VMSA_MXCSR = 0x408,	/* u32 */
	VMSA_X87_FCW = 0x410,	/* u16 */
};

/* The segment attributes and registers in which the VMMs differ. */
struct vmsa_style {
	uint16_t cs_attrib_bsp;	/* EC2 leaves the BSP's CS unaccessed */
	uint16_t cs_attrib_ap;
	uint16_t ss_attrib;
	uint16_t tr_attrib;
	bool rdx_is_sig;	/* RDX holds the CPUID signature at reset */
	uint64_t rdx;		/* otherwise this value */
	uint64_t g_pat;
	/*
	 * KVM copies the vCPU's FPU state into the VMSA, so QEMU's pages
	 * carry the reset values of MXCSR and the x87 control word (the
	 * upstream vectors match only with them); EC2 and GCE leave the
	 * FPU area zero.
	 */
	uint32_t mxcsr;
	uint16_t x87_fcw;
};

/* The PAT MSR's reset value (APM vol. 2 A.3); GCE's VMM sets its own. */
#define PAT_RESET	0x0007040600070406ull

static const struct vmsa_style styles[] = {
	[VMSA_QEMU] = { 0x9b, 0x9b, 0x93, 0x8b, true, 0, PAT_RESET, 0x1f80, 0x037f },
	[VMSA_EC2] = { 0x9a, 0x9b, 0x92, 0x83, false, 0, PAT_RESET, 0, 0 },
	/* GCE: RDX is family 6's signature whatever the CPU model. */
	[VMSA_GCE] = { 0x9b, 0x9b, 0x93, 0x8b, false, 0x600, 0x00070106ull, 0, 0 },
};

static void put_seg(uint8_t *page, unsigned int at, uint16_t selector,
		    uint16_t attrib, uint32_t limit, uint64_t base)
{
	page[at] = (uint8_t)selector;
	page[at + 1] = (uint8_t)(selector >> 8);
	page[at + 2] = (uint8_t)attrib;
	page[at + 3] = (uint8_t)(attrib >> 8);
	snp_put_le32(page + at + 4, limit);
	snp_put_le64(page + at + 8, base);
}

void vmsa_build(uint8_t page[VMSA_PAGE_SIZE], enum vmsa_flavour flavour,
		uint32_t eip, uint32_t vcpu_sig, uint64_t sev_features)
{
	const struct vmsa_style *s = &styles[flavour];
	uint16_t cs_attrib = eip == VMSA_BSP_EIP ? s->cs_attrib_bsp : s->cs_attrib_ap;

	memset(page, 0, VMSA_PAGE_SIZE);
	put_seg(page, SEG_ES, 0, 0x93, 0xffff, 0);
	put_seg(page, SEG_CS, 0xf000, cs_attrib, 0xffff, eip & 0xffff0000u);
	put_seg(page, SEG_SS, 0, s->ss_attrib, 0xffff, 0);
	put_seg(page, SEG_DS, 0, 0x93, 0xffff, 0);
	put_seg(page, SEG_FS, 0, 0x93, 0xffff, 0);
	put_seg(page, SEG_GS, 0, 0x93, 0xffff, 0);
	put_seg(page, SEG_GDTR, 0, 0, 0xffff, 0);
	put_seg(page, SEG_LDTR, 0, 0x82, 0xffff, 0);
	put_seg(page, SEG_IDTR, 0, 0, 0xffff, 0);
	put_seg(page, SEG_TR, 0, s->tr_attrib, 0xffff, 0);
	snp_put_le64(page + VMSA_EFER, 0x1000);		/* EFER.SVME */
	snp_put_le64(page + VMSA_CR4, 0x40);		/* CR4.MCE */
	snp_put_le64(page + VMSA_CR0, 0x10);		/* CR0.ET */
	snp_put_le64(page + VMSA_DR7, 0x400);
	snp_put_le64(page + VMSA_DR6, 0xffff0ff0);
	snp_put_le64(page + VMSA_RFLAGS, 0x2);
	snp_put_le64(page + VMSA_RIP, eip & 0xffffu);
	snp_put_le64(page + VMSA_G_PAT, s->g_pat);
	snp_put_le64(page + VMSA_RDX, s->rdx_is_sig ? vcpu_sig : s->rdx);
	snp_put_le64(page + VMSA_SEV_FEATURES, sev_features);
	snp_put_le64(page + VMSA_XCR0, 0x1);
	snp_put_le32(page + VMSA_MXCSR, s->mxcsr);
	page[VMSA_X87_FCW] = (uint8_t)s->x87_fcw;
	page[VMSA_X87_FCW + 1] = (uint8_t)(s->x87_fcw >> 8);
}

uint32_t vmsa_cpu_signature(unsigned int family, unsigned int model,
			    unsigned int stepping)
{
	uint32_t family_low = family > 0xf ? 0xf : family;
	uint32_t family_ext = family > 0xf ? (family - 0xf) & 0xff : 0;

	return family_ext << 20 | (model >> 4 & 0xf) << 16 | family_low << 8 |
	       (model & 0xf) << 4 | (stepping & 0xf);
}

/* QEMU's AMD EPYC models (target/i386/cpu.c, builtin_x86_defs). */
static const struct cpu_model {
	const char *name;
	unsigned int family, model, stepping;
	unsigned int versions;	/* -v1 .. -vN */
} cpu_models[] = {
	{ "EPYC", 23, 1, 2, 5 },
	{ "EPYC-IBPB", 23, 1, 2, 0 },
	{ "EPYC-Rome", 23, 49, 0, 5 },
	{ "EPYC-Milan", 25, 1, 1, 3 },
	{ "EPYC-Genoa", 25, 17, 0, 2 },
	{ "EPYC-Turin", 26, 0, 0, 1 },
};

/* Whether rest is "" or "-vN" with 1 <= N <= versions. */
static bool is_version(const char *rest, unsigned int versions)
{
	if (!*rest)
		return true;
	if (rest[0] != '-' || rest[1] != 'v' || rest[2] < '1' || rest[2] > '9' ||
	    rest[3])
		return false;
	return (unsigned int)(rest[2] - '0') <= versions;
}

int vmsa_cpu_signature_by_name(const char *name, uint32_t *sig)
{
	for (size_t i = 0; i < sizeof(cpu_models) / sizeof(cpu_models[0]); i++) {
		const struct cpu_model *m = &cpu_models[i];
		size_t len = strlen(m->name);

		if (strncmp(name, m->name, len) || !is_version(name + len, m->versions))
			continue;
		*sig = vmsa_cpu_signature(m->family, m->model, m->stepping);
		return 0;
	}
	return -EINVAL;
}
