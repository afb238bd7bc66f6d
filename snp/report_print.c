// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>

#include "snp/report_print.h"

static void print_hex_line(FILE *out, const char *name, const uint8_t *p, size_t len)
{
	char hex[2 * SNP_CHIP_ID_SIZE + 1];

	fprintf(out, "%s: %s\n", name, snp_hex(hex, p, len));
}

static void print_tcb(FILE *out, const char *label, uint64_t raw, enum snp_product product)
{
	char decoded[96];

	if (snp_tcb_format(decoded, sizeof(decoded), raw, product))
		decoded[0] = '\0';
	fprintf(out, "%-15s0x%016" PRIx64 " (%s)\n", label, raw, decoded);
}

static const char *signing_key_name(enum snp_signing_key key)
{
	switch (key) {
	case SNP_SIGNING_KEY_VCEK:
		return "VCEK";
	case SNP_SIGNING_KEY_VLEK:
		return "VLEK";
	case SNP_SIGNING_KEY_NONE:
		return "none";
	default:
		return "reserved";
	}
}

static void print_header(FILE *out, const struct snp_report *r)
{
	char bits[256];

	fprintf(out, "version: %u   guest_svn: %u   vmpl: %u   sig_algo: %u (%s)\n",
		r->version, r->guest_svn, r->vmpl, r->sig_algo,
		r->sig_algo == SNP_SIG_ALGO_ECDSA_P384_SHA384 ?
		"ECDSA P-384 SHA-384" : "unknown");
	if (snp_policy_format(bits, sizeof(bits), r->policy))
		bits[0] = '\0';
	fprintf(out, "policy: 0x%016" PRIx64 "  [abi=%u.%u %s]\n", r->policy,
		r->policy_bits.abi_major, r->policy_bits.abi_minor, bits);
	fprintf(out, "platform_info: 0x%016" PRIx64 "   signer_info: 0x%08x "
		"(author_key_en=%d mask_chip_key=%d signing_key=%u:%s)\n",
		r->platform_info, r->key_info, r->author_key_en, r->mask_chip_key,
		(unsigned int)r->signing_key, signing_key_name(r->signing_key));
	if (r->version >= 3)
		fprintf(out, "cpuid fam/mod/step: %02x/%02x/%02x\n", r->cpuid_fam_id,
			r->cpuid_mod_id, r->cpuid_step);
}

int snp_report_print(FILE *out, const struct snp_report *r, enum snp_product product)
{
	char fam[2 * SNP_ID_SIZE + 1], img[2 * SNP_ID_SIZE + 1];

	print_header(out, r);
	print_tcb(out, "current_tcb:", r->current_tcb, product);
	print_tcb(out, "reported_tcb:", r->reported_tcb, product);
	print_tcb(out, "committed_tcb:", r->committed_tcb, product);
	print_tcb(out, "launch_tcb:", r->launch_tcb, product);
	fprintf(out, "current fw: %u.%u.%u   committed fw: %u.%u.%u\n",
		r->current_fw.major, r->current_fw.minor, r->current_fw.build,
		r->committed_fw.major, r->committed_fw.minor, r->committed_fw.build);
	if (r->version >= 5)
		fprintf(out, "launch_mit_vector: 0x%" PRIx64 "  current_mit_vector: 0x%" PRIx64 "\n",
			r->launch_mit_vector, r->current_mit_vector);
	print_hex_line(out, "chip_id[0:8]", r->chip_id, 8);
	print_hex_line(out, "chip_id", r->chip_id, SNP_CHIP_ID_SIZE);
	print_hex_line(out, "measurement", r->measurement, SNP_MEASUREMENT_SIZE);
	print_hex_line(out, "report_data", r->report_data, SNP_REPORT_DATA_SIZE);
	print_hex_line(out, "host_data", r->host_data, SNP_HOST_DATA_SIZE);
	print_hex_line(out, "id_key_digest", r->id_key_digest, SNP_KEY_DIGEST_SIZE);
	print_hex_line(out, "author_key_digest", r->author_key_digest, SNP_KEY_DIGEST_SIZE);
	fprintf(out, "family_id: %s  image_id: %s\n",
		snp_hex(fam, r->family_id, SNP_ID_SIZE), snp_hex(img, r->image_id, SNP_ID_SIZE));
	print_hex_line(out, "report_id", r->report_id, SNP_REPORT_ID_SIZE);
	print_hex_line(out, "report_id_ma", r->report_id_ma, SNP_REPORT_ID_SIZE);
	return ferror(out) ? -EIO : 0;
}
