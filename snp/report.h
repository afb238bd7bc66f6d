/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_REPORT_H
#define SNP_REPORT_H

/*
 * The SEV-SNP attestation report (SEV-SNP Firmware ABI, MSG_REPORT_RSP):
 * 0x4A0 little-endian bytes. snp_report_parse() decodes every field and
 * refuses what a real PSP never produces (unknown versions, non-zero
 * reserved ranges, a signature algorithm other than ECDSA P-384). The
 * original bytes are kept: signatures are checked over them, never over
 * a re-encoding.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

#define SNP_REPORT_SIZE		0x4A0
#define SNP_REPORT_SIGNED_SIZE	0x2A0	/* bytes 0x000-0x29F are signed */
#define SNP_REPORT_DATA_SIZE	64
#define SNP_MEASUREMENT_SIZE	48
#define SNP_HOST_DATA_SIZE	32
#define SNP_KEY_DIGEST_SIZE	48
#define SNP_REPORT_ID_SIZE	32
#define SNP_ID_SIZE		16	/* FAMILY_ID, IMAGE_ID */
#define SNP_CHIP_ID_SIZE	64
#define SNP_CHIP_ID_SIZE_TURIN	8
#define SNP_SIG_COMPONENT_SIZE	72	/* R and S, little-endian, zero above 48 bytes */
#define SNP_P384_SIZE		48

/* Offsets of the fields, from the ABI's table. */
enum snp_report_offset {
	SNP_OFF_VERSION = 0x000,
	SNP_OFF_GUEST_SVN = 0x004,
	SNP_OFF_POLICY = 0x008,
	SNP_OFF_FAMILY_ID = 0x010,
	SNP_OFF_IMAGE_ID = 0x020,
	SNP_OFF_VMPL = 0x030,
	SNP_OFF_SIG_ALGO = 0x034,
	SNP_OFF_CURRENT_TCB = 0x038,
	SNP_OFF_PLATFORM_INFO = 0x040,
	SNP_OFF_KEY_INFO = 0x048,
	SNP_OFF_REPORT_DATA = 0x050,
	SNP_OFF_MEASUREMENT = 0x090,
	SNP_OFF_HOST_DATA = 0x0C0,
	SNP_OFF_ID_KEY_DIGEST = 0x0E0,
	SNP_OFF_AUTHOR_KEY_DIGEST = 0x110,
	SNP_OFF_REPORT_ID = 0x140,
	SNP_OFF_REPORT_ID_MA = 0x160,
	SNP_OFF_REPORTED_TCB = 0x180,
	SNP_OFF_CPUID = 0x188,		/* FAM_ID, MOD_ID, STEP; v3+ */
	SNP_OFF_CHIP_ID = 0x1A0,
	SNP_OFF_COMMITTED_TCB = 0x1E0,
	SNP_OFF_CURRENT_FW = 0x1E8,	/* BUILD, MINOR, MAJOR */
	SNP_OFF_COMMITTED_FW = 0x1EC,	/* BUILD, MINOR, MAJOR */
	SNP_OFF_LAUNCH_TCB = 0x1F0,
	SNP_OFF_LAUNCH_MIT_VECTOR = 0x1F8,	/* v5 */
	SNP_OFF_CURRENT_MIT_VECTOR = 0x200,	/* v5 */
	SNP_OFF_SIGNATURE = 0x2A0,
	SNP_OFF_SIG_R = 0x2A0,
	SNP_OFF_SIG_S = 0x2E8,
};

#define SNP_SIG_ALGO_ECDSA_P384_SHA384	1

/* POLICY bits. */
#define SNP_POLICY_ABI_MINOR_MASK	0xffULL
#define SNP_POLICY_ABI_MAJOR_SHIFT	8
#define SNP_POLICY_SMT			(1ULL << 16)
#define SNP_POLICY_RESERVED_1		(1ULL << 17)	/* must be 1 */
#define SNP_POLICY_MIGRATE_MA		(1ULL << 18)
#define SNP_POLICY_DEBUG		(1ULL << 19)
#define SNP_POLICY_SINGLE_SOCKET	(1ULL << 20)
#define SNP_POLICY_CXL_ALLOW		(1ULL << 21)
#define SNP_POLICY_MEM_AES_256_XTS	(1ULL << 22)
#define SNP_POLICY_RAPL_DIS		(1ULL << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING	(1ULL << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE	(1ULL << 25)
#define SNP_POLICY_MBZ_MASK		(~0ULL << 26)	/* bits 26-63 */

/* PLATFORM_INFO bits. */
#define SNP_PLATFORM_SMT_EN		(1ULL << 0)
#define SNP_PLATFORM_TSME_EN		(1ULL << 1)
#define SNP_PLATFORM_ECC_EN		(1ULL << 2)
#define SNP_PLATFORM_RAPL_DIS		(1ULL << 3)
#define SNP_PLATFORM_CIPHERTEXT_HIDING_EN (1ULL << 4)
#define SNP_PLATFORM_ALIAS_CHECK_COMPLETE (1ULL << 5)

/* KEY_INFO bits. */
#define SNP_KEY_INFO_AUTHOR_KEY_EN	(1U << 0)
#define SNP_KEY_INFO_MASK_CHIP_KEY	(1U << 1)
#define SNP_KEY_INFO_SIGNING_KEY_SHIFT	2
#define SNP_KEY_INFO_SIGNING_KEY_MASK	(7U << 2)
#define SNP_KEY_INFO_MBZ_MASK		(~0U << 5)

enum snp_signing_key {
	SNP_SIGNING_KEY_VCEK = 0,
	SNP_SIGNING_KEY_VLEK = 1,
	SNP_SIGNING_KEY_NONE = 7,
};

enum snp_product {
	SNP_PRODUCT_UNKNOWN = 0,
	SNP_PRODUCT_MILAN,
	SNP_PRODUCT_GENOA,
	SNP_PRODUCT_TURIN,
};

/* "Milan", "Genoa", "Turin", or "unknown". */
const char *snp_product_name(enum snp_product product);
/*
 * Case-insensitive product name, with a stepping suffix allowed as in the
 * VCEK's productName ("Milan-B0"). Returns SNP_PRODUCT_UNKNOWN otherwise.
 */
enum snp_product snp_product_from_name(const char *name, size_t len);
/* Product from the report's CPUID bytes (v3+), or SNP_PRODUCT_UNKNOWN. */
enum snp_product snp_product_from_cpuid(uint8_t family, uint8_t model);

/*
 * TCB_VERSION, decoded for one product. Milan and Genoa: byte 0 boot
 * loader, 1 TEE, 6 SNP, 7 microcode. Turin: 0 FMC, 1 boot loader, 2 TEE,
 * 3 SNP, 7 microcode. The other bytes are reserved.
 */
struct snp_tcb {
	uint64_t raw;
	uint8_t fmc;		/* Turin only */
	uint8_t bootloader;
	uint8_t tee;
	uint8_t snp;
	uint8_t microcode;
	bool reserved_nonzero;	/* a reserved byte of the layout is set */
};

/* Fails only for SNP_PRODUCT_UNKNOWN (the layout depends on the product). */
int snp_tcb_decode(uint64_t raw, enum snp_product product, struct snp_tcb *tcb);
/* The inverse, for the simulator and for comparing with VCEK extensions. */
uint64_t snp_tcb_encode(const struct snp_tcb *tcb, enum snp_product product);
/* "bl=4 tee=0 snp=24 ucode=219", or with "fmc=.. " first on Turin. */
int snp_tcb_format(char *out, size_t size, uint64_t raw, enum snp_product product);

struct snp_policy {
	uint8_t abi_minor;
	uint8_t abi_major;
	bool smt;
	bool migrate_ma;
	bool debug;
	bool single_socket;
	bool cxl_allow;
	bool mem_aes_256_xts;
	bool rapl_dis;
	bool ciphertext_hiding;
	bool page_swap_disable;
};

void snp_policy_decode(uint64_t raw, struct snp_policy *policy);
/* "SMT|RSVD1(must be 1)|DEBUG": the set bits by name, '|'-separated. */
int snp_policy_format(char *out, size_t size, uint64_t raw);

struct snp_fw_version {
	uint8_t build;
	uint8_t minor;
	uint8_t major;
};

struct snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[SNP_ID_SIZE];
	uint8_t image_id[SNP_ID_SIZE];
	uint32_t vmpl;
	uint32_t sig_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	uint32_t key_info;
	uint8_t report_data[SNP_REPORT_DATA_SIZE];
	uint8_t measurement[SNP_MEASUREMENT_SIZE];
	uint8_t host_data[SNP_HOST_DATA_SIZE];
	uint8_t id_key_digest[SNP_KEY_DIGEST_SIZE];
	uint8_t author_key_digest[SNP_KEY_DIGEST_SIZE];
	uint8_t report_id[SNP_REPORT_ID_SIZE];
	uint8_t report_id_ma[SNP_REPORT_ID_SIZE];
	uint64_t reported_tcb;
	uint8_t cpuid_fam_id;		/* v3+; 0 in v2 */
	uint8_t cpuid_mod_id;
	uint8_t cpuid_step;
	uint8_t chip_id[SNP_CHIP_ID_SIZE];
	uint64_t committed_tcb;
	struct snp_fw_version current_fw;
	struct snp_fw_version committed_fw;
	uint64_t launch_tcb;
	uint64_t launch_mit_vector;	/* v5; 0 before */
	uint64_t current_mit_vector;	/* v5; 0 before */
	uint8_t sig_r[SNP_P384_SIZE];	/* big-endian, as the ECDSA code wants */
	uint8_t sig_s[SNP_P384_SIZE];

	/* Derived. */
	struct snp_policy policy_bits;
	enum snp_signing_key signing_key;
	bool author_key_en;
	bool mask_chip_key;
	/* From CPUID for v3+; SNP_PRODUCT_UNKNOWN for v2 (ask the VCEK). */
	enum snp_product cpuid_product;

	/* The bytes as received: signatures are checked over these. */
	uint8_t raw[SNP_REPORT_SIZE];
};

/*
 * Parse a report. len must be exactly SNP_REPORT_SIZE. Refused, with the
 * reason in err: another length; VERSION other than 2, 3 or 5;
 * SIGNATURE_ALGO other than 1; VMPL above 3; POLICY bit 17 clear or bits
 * 26-63 set; KEY_INFO reserved bits or a reserved SIGNING_KEY value; any
 * must-be-zero range not zero (per version); a v3+ CPUID that is no
 * known product; R or S with bytes set above their 48 bytes.
 * The signature itself is not checked here (see snp/verify.h).
 */
int snp_report_parse(const uint8_t *buf, size_t len, struct snp_report *report,
		     struct snp_err *err);

/*
 * Encode every field of report into out, zeroing all reserved ranges and
 * the signature (the simulator fills and signs; tests build mutants).
 * report->raw is ignored.
 */
void snp_report_encode(const struct snp_report *report, uint8_t out[SNP_REPORT_SIZE]);

/*
 * Chip ID bytes that identify the chip for product: 8 on Turin, 64
 * otherwise (the VCEK's hwID and the KDS URL use exactly these).
 */
size_t snp_chip_id_len(enum snp_product product);
/* True when the report's CHIP_ID is all zero (masked, or signed by a VLEK). */
bool snp_report_chip_id_zero(const struct snp_report *report);

#endif
