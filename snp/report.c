// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Decoding the SEV-SNP attestation report. Every offset comes from the
 * SEV-SNP Firmware ABI's report table (mirrored in snp/report.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "snp/report.h"
#include "snp/bytes.h"

static const char *const product_names[] = {
	[SNP_PRODUCT_UNKNOWN] = "unknown",
	[SNP_PRODUCT_MILAN] = "Milan",
	[SNP_PRODUCT_GENOA] = "Genoa",
	[SNP_PRODUCT_TURIN] = "Turin",
};

const char *snp_product_name(enum snp_product product)
{
	if ((size_t)product >= sizeof(product_names) / sizeof(product_names[0]))
		return product_names[SNP_PRODUCT_UNKNOWN];
	return product_names[product];
}

enum snp_product snp_product_from_name(const char *name, size_t len)
{
	/* "Milan-B0": the part before '-' names the product. */
	const char *dash = memchr(name, '-', len);
	size_t base = dash ? (size_t)(dash - name) : len;

	for (int p = SNP_PRODUCT_MILAN; p <= SNP_PRODUCT_TURIN; p++) {
		const char *want = product_names[p];

		if (base == strlen(want) && !strncasecmp(name, want, base))
			return (enum snp_product)p;
	}
	return SNP_PRODUCT_UNKNOWN;
}

enum snp_product snp_product_from_cpuid(uint8_t family, uint8_t model)
{
	if (family == 0x19 && model <= 0x0f)
		return SNP_PRODUCT_MILAN;
	if (family == 0x19 && (model >= 0x10 && model <= 0x1f))
		return SNP_PRODUCT_GENOA;
	/* Siena and Bergamo: Genoa's family, and AMD KDS serves them as Genoa. */
	if (family == 0x19 && (model >= 0xa0 && model <= 0xaf))
		return SNP_PRODUCT_GENOA;
	if (family == 0x1a)
		return SNP_PRODUCT_TURIN;
	return SNP_PRODUCT_UNKNOWN;
}

/* Byte positions of each TCB component; -1 where the product has none. */
struct tcb_layout {
	int fmc, bootloader, tee, snp, microcode;
};

static const struct tcb_layout *tcb_layout(enum snp_product product)
{
	static const struct tcb_layout milan_genoa = { -1, 0, 1, 6, 7 };
	static const struct tcb_layout turin = { 0, 1, 2, 3, 7 };

	switch (product) {
	case SNP_PRODUCT_MILAN:
	case SNP_PRODUCT_GENOA:
		return &milan_genoa;
	case SNP_PRODUCT_TURIN:
		return &turin;
	default:
		return NULL;
	}
}

static uint8_t tcb_byte(uint64_t raw, int pos)
{
	return pos < 0 ? 0 : (uint8_t)(raw >> (8 * pos));
}

int snp_tcb_decode(uint64_t raw, enum snp_product product, struct snp_tcb *tcb)
{
	const struct tcb_layout *l = tcb_layout(product);

	memset(tcb, 0, sizeof(*tcb));
	tcb->raw = raw;
	if (!l)
		return -EINVAL;
	tcb->fmc = tcb_byte(raw, l->fmc);
	tcb->bootloader = tcb_byte(raw, l->bootloader);
	tcb->tee = tcb_byte(raw, l->tee);
	tcb->snp = tcb_byte(raw, l->snp);
	tcb->microcode = tcb_byte(raw, l->microcode);
	/* Whatever the components do not give back lies in reserved bytes. */
	tcb->reserved_nonzero = snp_tcb_encode(tcb, product) != raw;
	return 0;
}

static uint64_t tcb_put(uint8_t value, int pos)
{
	return pos < 0 ? 0 : (uint64_t)value << (8 * pos);
}

uint64_t snp_tcb_encode(const struct snp_tcb *tcb, enum snp_product product)
{
	const struct tcb_layout *l = tcb_layout(product);

	if (!l)
		return 0;
	return tcb_put(tcb->fmc, l->fmc) | tcb_put(tcb->bootloader, l->bootloader) |
	       tcb_put(tcb->tee, l->tee) | tcb_put(tcb->snp, l->snp) |
	       tcb_put(tcb->microcode, l->microcode);
}

int snp_tcb_format(char *out, size_t size, uint64_t raw, enum snp_product product)
{
	struct snp_tcb t;
	int n;

	if (snp_tcb_decode(raw, product, &t))
		n = snprintf(out, size, "raw=0x%016llx", (unsigned long long)raw);
	else if (product == SNP_PRODUCT_TURIN)
		n = snprintf(out, size, "fmc=%u bl=%u tee=%u snp=%u ucode=%u",
			     t.fmc, t.bootloader, t.tee, t.snp, t.microcode);
	else
		n = snprintf(out, size, "bl=%u tee=%u snp=%u ucode=%u",
			     t.bootloader, t.tee, t.snp, t.microcode);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

void snp_policy_decode(uint64_t raw, struct snp_policy *p)
{
	p->abi_minor = (uint8_t)(raw & SNP_POLICY_ABI_MINOR_MASK);
	p->abi_major = (uint8_t)(raw >> SNP_POLICY_ABI_MAJOR_SHIFT);
	p->smt = raw & SNP_POLICY_SMT;
	p->migrate_ma = raw & SNP_POLICY_MIGRATE_MA;
	p->debug = raw & SNP_POLICY_DEBUG;
	p->single_socket = raw & SNP_POLICY_SINGLE_SOCKET;
	p->cxl_allow = raw & SNP_POLICY_CXL_ALLOW;
	p->mem_aes_256_xts = raw & SNP_POLICY_MEM_AES_256_XTS;
	p->rapl_dis = raw & SNP_POLICY_RAPL_DIS;
	p->ciphertext_hiding = raw & SNP_POLICY_CIPHERTEXT_HIDING;
	p->page_swap_disable = raw & SNP_POLICY_PAGE_SWAP_DISABLE;
}

int snp_policy_format(char *out, size_t size, uint64_t raw)
{
	static const struct { uint64_t bit; const char *name; } bits[] = {
		{ SNP_POLICY_SMT, "SMT" },
		{ SNP_POLICY_RESERVED_1, "RSVD1(must be 1)" },
		{ SNP_POLICY_MIGRATE_MA, "MIGRATE_MA" },
		{ SNP_POLICY_DEBUG, "DEBUG" },
		{ SNP_POLICY_SINGLE_SOCKET, "SINGLE_SOCKET" },
		{ SNP_POLICY_CXL_ALLOW, "CXL_ALLOW" },
		{ SNP_POLICY_MEM_AES_256_XTS, "MEM_AES_256_XTS" },
		{ SNP_POLICY_RAPL_DIS, "RAPL_DIS" },
		{ SNP_POLICY_CIPHERTEXT_HIDING, "CIPHERTEXT_HIDING" },
		{ SNP_POLICY_PAGE_SWAP_DISABLE, "PAGE_SWAP_DISABLE" },
	};
	size_t used = 0;

	if (size)
		out[0] = '\0';
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		int n;

		if (!(raw & bits[i].bit))
			continue;
		n = snprintf(out + used, size - used, "%s%s", used ? "|" : "",
			     bits[i].name);
		if (n < 0 || (size_t)n >= size - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

size_t snp_chip_id_len(enum snp_product product)
{
	return product == SNP_PRODUCT_TURIN ? SNP_CHIP_ID_SIZE_TURIN : SNP_CHIP_ID_SIZE;
}

bool snp_report_chip_id_zero(const struct snp_report *report)
{
	return snp_all_zero(report->chip_id, sizeof(report->chip_id));
}

/* Must-be-zero ranges [start, end) for a report version. */
struct zero_range {
	size_t start, end;
	const char *what;
};

static size_t zero_ranges(uint32_t version, struct zero_range *r)
{
	size_t n = 0;

	r[n++] = (struct zero_range){ 0x04c, 0x050, "reserved after KEY_INFO" };
	if (version >= 3)
		r[n++] = (struct zero_range){ 0x18b, 0x1a0, "reserved after CPUID" };
	else
		r[n++] = (struct zero_range){ 0x188, 0x1a0, "reserved after REPORTED_TCB (v2)" };
	r[n++] = (struct zero_range){ 0x1eb, 0x1ec, "reserved after CURRENT_MAJOR" };
	r[n++] = (struct zero_range){ 0x1ef, 0x1f0, "reserved after COMMITTED_MAJOR" };
	if (version >= 5)
		r[n++] = (struct zero_range){ 0x208, 0x2a0, "reserved after CURRENT_MIT_VECTOR" };
	else
		r[n++] = (struct zero_range){ 0x1f8, 0x2a0, "reserved after LAUNCH_TCB" };
	r[n++] = (struct zero_range){ SNP_OFF_SIG_R + SNP_P384_SIZE, SNP_OFF_SIG_S,
				      "signature R above its 48 bytes" };
	r[n++] = (struct zero_range){ SNP_OFF_SIG_S + SNP_P384_SIZE,
				      SNP_OFF_SIG_S + SNP_SIG_COMPONENT_SIZE,
				      "signature S above its 48 bytes" };
	r[n++] = (struct zero_range){ 0x330, SNP_REPORT_SIZE, "reserved after the signature" };
	return n;
}

static int check_zero_ranges(const uint8_t *buf, uint32_t version, struct snp_err *err)
{
	struct zero_range r[8];
	size_t n = zero_ranges(version, r);

	for (size_t i = 0; i < n; i++)
		for (size_t off = r[i].start; off < r[i].end; off++)
			if (buf[off])
				return snp_errf(err, -EBADMSG,
						"report byte 0x%03zx (%s, 0x%03zx-0x%03zx) is 0x%02x; it must be zero",
						off, r[i].what, r[i].start, r[i].end - 1, buf[off]);
	return 0;
}

static int check_header(const uint8_t *buf, struct snp_err *err)
{
	uint32_t version = snp_get_le32(buf + SNP_OFF_VERSION);
	uint32_t algo = snp_get_le32(buf + SNP_OFF_SIG_ALGO);
	uint32_t vmpl = snp_get_le32(buf + SNP_OFF_VMPL);
	uint64_t policy = snp_get_le64(buf + SNP_OFF_POLICY);
	uint32_t key_info = snp_get_le32(buf + SNP_OFF_KEY_INFO);
	uint32_t signing_key = (key_info & SNP_KEY_INFO_SIGNING_KEY_MASK) >>
			       SNP_KEY_INFO_SIGNING_KEY_SHIFT;

	if (version != 2 && version != 3 && version != 5)
		return snp_errf(err, -EPROTONOSUPPORT,
				"report VERSION is %u; only versions 2, 3 and 5 are known",
				version);
	if (algo != SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return snp_errf(err, -EBADMSG,
				"report SIGNATURE_ALGO is %u; only 1 (ECDSA P-384 with SHA-384) is defined",
				algo);
	if (vmpl > 3)
		return snp_errf(err, -EBADMSG, "report VMPL is %u; it must be 0 to 3", vmpl);
	if (!(policy & SNP_POLICY_RESERVED_1))
		return snp_errf(err, -EBADMSG,
				"report POLICY 0x%016llx has bit 17 clear; it must be 1",
				(unsigned long long)policy);
	if (policy & SNP_POLICY_MBZ_MASK)
		return snp_errf(err, -EBADMSG,
				"report POLICY 0x%016llx has reserved bits 26-63 set",
				(unsigned long long)policy);
	if (key_info & SNP_KEY_INFO_MBZ_MASK)
		return snp_errf(err, -EBADMSG,
				"report KEY_INFO 0x%08x has reserved bits 5-31 set", key_info);
	if (signing_key != SNP_SIGNING_KEY_VCEK && signing_key != SNP_SIGNING_KEY_VLEK &&
	    signing_key != SNP_SIGNING_KEY_NONE)
		return snp_errf(err, -EBADMSG,
				"report KEY_INFO SIGNING_KEY is %u; only 0 (VCEK), 1 (VLEK) and 7 (none) are defined",
				signing_key);
	return check_zero_ranges(buf, version, err);
}

/* R and S are little-endian; the ECDSA code takes big-endian. */
static void decode_fields(const uint8_t *b, struct snp_report *r)
{
	r->version = snp_get_le32(b + SNP_OFF_VERSION);
	r->guest_svn = snp_get_le32(b + SNP_OFF_GUEST_SVN);
	r->policy = snp_get_le64(b + SNP_OFF_POLICY);
	memcpy(r->family_id, b + SNP_OFF_FAMILY_ID, SNP_ID_SIZE);
	memcpy(r->image_id, b + SNP_OFF_IMAGE_ID, SNP_ID_SIZE);
	r->vmpl = snp_get_le32(b + SNP_OFF_VMPL);
	r->sig_algo = snp_get_le32(b + SNP_OFF_SIG_ALGO);
	r->current_tcb = snp_get_le64(b + SNP_OFF_CURRENT_TCB);
	r->platform_info = snp_get_le64(b + SNP_OFF_PLATFORM_INFO);
	r->key_info = snp_get_le32(b + SNP_OFF_KEY_INFO);
	memcpy(r->report_data, b + SNP_OFF_REPORT_DATA, SNP_REPORT_DATA_SIZE);
	memcpy(r->measurement, b + SNP_OFF_MEASUREMENT, SNP_MEASUREMENT_SIZE);
	memcpy(r->host_data, b + SNP_OFF_HOST_DATA, SNP_HOST_DATA_SIZE);
	memcpy(r->id_key_digest, b + SNP_OFF_ID_KEY_DIGEST, SNP_KEY_DIGEST_SIZE);
	memcpy(r->author_key_digest, b + SNP_OFF_AUTHOR_KEY_DIGEST, SNP_KEY_DIGEST_SIZE);
	memcpy(r->report_id, b + SNP_OFF_REPORT_ID, SNP_REPORT_ID_SIZE);
	memcpy(r->report_id_ma, b + SNP_OFF_REPORT_ID_MA, SNP_REPORT_ID_SIZE);
	r->reported_tcb = snp_get_le64(b + SNP_OFF_REPORTED_TCB);
	if (r->version >= 3) {
		r->cpuid_fam_id = b[SNP_OFF_CPUID];
		r->cpuid_mod_id = b[SNP_OFF_CPUID + 1];
		r->cpuid_step = b[SNP_OFF_CPUID + 2];
	}
	memcpy(r->chip_id, b + SNP_OFF_CHIP_ID, SNP_CHIP_ID_SIZE);
	r->committed_tcb = snp_get_le64(b + SNP_OFF_COMMITTED_TCB);
	r->current_fw = (struct snp_fw_version){ b[SNP_OFF_CURRENT_FW],
		b[SNP_OFF_CURRENT_FW + 1], b[SNP_OFF_CURRENT_FW + 2] };
	r->committed_fw = (struct snp_fw_version){ b[SNP_OFF_COMMITTED_FW],
		b[SNP_OFF_COMMITTED_FW + 1], b[SNP_OFF_COMMITTED_FW + 2] };
	r->launch_tcb = snp_get_le64(b + SNP_OFF_LAUNCH_TCB);
	if (r->version >= 5) {
		r->launch_mit_vector = snp_get_le64(b + SNP_OFF_LAUNCH_MIT_VECTOR);
		r->current_mit_vector = snp_get_le64(b + SNP_OFF_CURRENT_MIT_VECTOR);
	}
	snp_reverse_copy(r->sig_r, b + SNP_OFF_SIG_R, SNP_P384_SIZE);
	snp_reverse_copy(r->sig_s, b + SNP_OFF_SIG_S, SNP_P384_SIZE);

	snp_policy_decode(r->policy, &r->policy_bits);
	r->signing_key = (enum snp_signing_key)((r->key_info & SNP_KEY_INFO_SIGNING_KEY_MASK) >>
						SNP_KEY_INFO_SIGNING_KEY_SHIFT);
	r->author_key_en = r->key_info & SNP_KEY_INFO_AUTHOR_KEY_EN;
	r->mask_chip_key = r->key_info & SNP_KEY_INFO_MASK_CHIP_KEY;
	memcpy(r->raw, b, SNP_REPORT_SIZE);
}

int snp_report_parse(const uint8_t *buf, size_t len, struct snp_report *report,
		     struct snp_err *err)
{
	int ret;

	memset(report, 0, sizeof(*report));
	if (len != SNP_REPORT_SIZE)
		return snp_errf(err, -EBADMSG,
				"report is %zu bytes; an SNP attestation report is exactly %d (0x%x)",
				len, SNP_REPORT_SIZE, SNP_REPORT_SIZE);
	ret = check_header(buf, err);
	if (ret)
		return ret;
	decode_fields(buf, report);
	if (report->version >= 3) {
		report->cpuid_product = snp_product_from_cpuid(report->cpuid_fam_id,
							       report->cpuid_mod_id);
		if (report->cpuid_product == SNP_PRODUCT_UNKNOWN) {
			ret = snp_errf(err, -EBADMSG,
				       "report CPUID family 0x%02x model 0x%02x is no known SEV-SNP product",
				       report->cpuid_fam_id, report->cpuid_mod_id);
			memset(report, 0, sizeof(*report));
		}
	}
	return ret;
}

void snp_report_encode(const struct snp_report *r, uint8_t out[SNP_REPORT_SIZE])
{
	memset(out, 0, SNP_REPORT_SIZE);
	snp_put_le32(out + SNP_OFF_VERSION, r->version);
	snp_put_le32(out + SNP_OFF_GUEST_SVN, r->guest_svn);
	snp_put_le64(out + SNP_OFF_POLICY, r->policy);
	memcpy(out + SNP_OFF_FAMILY_ID, r->family_id, SNP_ID_SIZE);
	memcpy(out + SNP_OFF_IMAGE_ID, r->image_id, SNP_ID_SIZE);
	snp_put_le32(out + SNP_OFF_VMPL, r->vmpl);
	snp_put_le32(out + SNP_OFF_SIG_ALGO, r->sig_algo);
	snp_put_le64(out + SNP_OFF_CURRENT_TCB, r->current_tcb);
	snp_put_le64(out + SNP_OFF_PLATFORM_INFO, r->platform_info);
	snp_put_le32(out + SNP_OFF_KEY_INFO, r->key_info);
	memcpy(out + SNP_OFF_REPORT_DATA, r->report_data, SNP_REPORT_DATA_SIZE);
	memcpy(out + SNP_OFF_MEASUREMENT, r->measurement, SNP_MEASUREMENT_SIZE);
	memcpy(out + SNP_OFF_HOST_DATA, r->host_data, SNP_HOST_DATA_SIZE);
	memcpy(out + SNP_OFF_ID_KEY_DIGEST, r->id_key_digest, SNP_KEY_DIGEST_SIZE);
	memcpy(out + SNP_OFF_AUTHOR_KEY_DIGEST, r->author_key_digest, SNP_KEY_DIGEST_SIZE);
	memcpy(out + SNP_OFF_REPORT_ID, r->report_id, SNP_REPORT_ID_SIZE);
	memcpy(out + SNP_OFF_REPORT_ID_MA, r->report_id_ma, SNP_REPORT_ID_SIZE);
	snp_put_le64(out + SNP_OFF_REPORTED_TCB, r->reported_tcb);
	if (r->version >= 3) {
		out[SNP_OFF_CPUID] = r->cpuid_fam_id;
		out[SNP_OFF_CPUID + 1] = r->cpuid_mod_id;
		out[SNP_OFF_CPUID + 2] = r->cpuid_step;
	}
	memcpy(out + SNP_OFF_CHIP_ID, r->chip_id, SNP_CHIP_ID_SIZE);
	snp_put_le64(out + SNP_OFF_COMMITTED_TCB, r->committed_tcb);
	out[SNP_OFF_CURRENT_FW] = r->current_fw.build;
	out[SNP_OFF_CURRENT_FW + 1] = r->current_fw.minor;
	out[SNP_OFF_CURRENT_FW + 2] = r->current_fw.major;
	out[SNP_OFF_COMMITTED_FW] = r->committed_fw.build;
	out[SNP_OFF_COMMITTED_FW + 1] = r->committed_fw.minor;
	out[SNP_OFF_COMMITTED_FW + 2] = r->committed_fw.major;
	snp_put_le64(out + SNP_OFF_LAUNCH_TCB, r->launch_tcb);
	if (r->version >= 5) {
		snp_put_le64(out + SNP_OFF_LAUNCH_MIT_VECTOR, r->launch_mit_vector);
		snp_put_le64(out + SNP_OFF_CURRENT_MIT_VECTOR, r->current_mit_vector);
	}
}
