// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "broker/verify_print.h"
#include "snp/report_print.h"

static char *fmt_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm))
		snprintf(out, 32, "@%" PRId64, t);
	return out;
}

/* "0 (non-positive serial, RFC 5280 violation)", or the serial in hex. */
static void fmt_serial(char *out, size_t size, const struct snp_cert_facts *f)
{
	char hex[2 * sizeof(f->serial) + 1];
	bool zero = true;

	for (size_t i = 0; i < f->serial_len; i++)
		zero &= f->serial[i] == 0;
	if (zero)
		snprintf(out, size, "0 (non-positive serial, RFC 5280 violation)");
	else if (f->serial_len && f->serial[0] & 0x80)
		snprintf(out, size, "0x%s (negative serial, RFC 5280 violation)",
			 snp_hex(hex, f->serial, f->serial_len));
	else
		snprintf(out, size, "0x%s", snp_hex(hex, f->serial, f->serial_len));
}

static const char *hwid_encoding(enum snp_hwid_encoding e)
{
	switch (e) {
	case SNP_HWID_RAW:
		return "raw, not DER-wrapped";
	case SNP_HWID_OCTET_STRING:
		return "DER OCTET STRING";
	default:
		return "absent";
	}
}

static void print_product(FILE *out, const struct snp_verify_result *res,
			  const struct snp_report *r)
{
	const char *name = snp_vek_ext_has(&res->ext, SNP_EXT_PRODUCT_NAME) ?
			   res->ext.product_name : "none";
	char cpuid[32];

	if (r && r->version >= 3)
		snprintf(cpuid, sizeof(cpuid), "%02x/%02x/%02x", r->cpuid_fam_id,
			 r->cpuid_mod_id, r->cpuid_step);
	else if (r)
		snprintf(cpuid, sizeof(cpuid), "n/a (v%u)", r->version);
	else
		snprintf(cpuid, sizeof(cpuid), "n/a");
	fprintf(out, "product: %s (VCEK productName ext: %s; cpuid fam/mod/step: %s)\n",
		snp_product_name(res->product), name, cpuid);
}

static void print_certs(FILE *out, const struct snp_verify_result *res)
{
	char hex[2 * SNP_SHA256_SIZE + 1], serial[128], when[32];

	if (res->ark.present)
		fprintf(out, "ARK: CN=%s sha256(der)=%s\n", res->ark.cn,
			snp_hex(hex, res->ark.sha256, SNP_SHA256_SIZE));
	if (res->ask.present)
		fprintf(out, "ASK: CN=%s issuer=%s\n", res->ask.cn, res->ask.issuer_cn);
	if (res->vek.present) {
		fmt_serial(serial, sizeof(serial), &res->vek);
		fprintf(out, "VEK: CN=%s issuer=%s serial=%s notAfter=%s\n", res->vek.cn,
			res->vek.issuer_cn, serial, fmt_time(when, res->vek.not_after));
	}
	if (snp_vek_ext_has(&res->ext, SNP_EXT_HWID))
		fprintf(out, "  VCEK hwID extension encoding: %s (%zu bytes)\n",
			hwid_encoding(res->ext.hwid_encoding), res->ext.hwid_len);
	if (snp_vek_ext_has(&res->ext, SNP_EXT_CSP_ID))
		fprintf(out, "  VLEK csp_id: %s\n", res->ext.csp_id);
}

void verify_print_text(FILE *out, const char *path, size_t len, const struct snp_report *report,
		       const struct snp_verify_result *res, time_t at)
{
	char when[32];

	fprintf(out, "report: %s (%zu bytes)\n", path, len);
	print_product(out, res, report);
	if (report)
		snp_report_print(out, report, res->product);
	print_certs(out, res);
	fprintf(out, "checks at %s with %s roots%s:\n", fmt_time(when, at), res->anchors,
		res->cached ? " (chain from the cache)" : "");
	for (int c = SNP_CHECK_REPORT_PARSE; c < SNP_CHECK_INTERNAL; c++)
		fprintf(out, "  [%s] %s\n", snp_check_status_name(res->status[c]),
			snp_check_name((enum snp_check)c));
	if (res->failed == SNP_CHECK_NONE)
		fprintf(out, "RESULT: VERIFIED\n");
	else
		fprintf(out, "RESULT: NOT VERIFIED (%s): %s\n", snp_check_name(res->failed),
			res->msg);
}

static void add_hex(json_object *o, const char *key, const void *p, size_t len)
{
	char hex[2 * SNP_CHIP_ID_SIZE + 1];

	json_object_object_add(o, key, json_object_new_string(snp_hex(hex, p, len)));
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	char s[24];

	/* As a string: JSON numbers lose precision above 2^53. */
	snprintf(s, sizeof(s), "0x%016" PRIx64, v);
	json_object_object_add(o, key, json_object_new_string(s));
}

static void add_tcb(json_object *o, const char *key, uint64_t raw, enum snp_product p)
{
	json_object *t = json_object_new_object();
	struct snp_tcb tcb;

	add_u64(t, "raw", raw);
	if (!snp_tcb_decode(raw, p, &tcb)) {
		if (p == SNP_PRODUCT_TURIN)
			json_object_object_add(t, "fmc", json_object_new_int(tcb.fmc));
		json_object_object_add(t, "bootloader", json_object_new_int(tcb.bootloader));
		json_object_object_add(t, "tee", json_object_new_int(tcb.tee));
		json_object_object_add(t, "snp", json_object_new_int(tcb.snp));
		json_object_object_add(t, "microcode", json_object_new_int(tcb.microcode));
	}
	json_object_object_add(o, key, t);
}

static json_object *report_json(const struct snp_report *r, enum snp_product p)
{
	json_object *o = json_object_new_object();
	char fw[16];

	json_object_object_add(o, "version", json_object_new_int64(r->version));
	json_object_object_add(o, "guest_svn", json_object_new_int64(r->guest_svn));
	add_u64(o, "policy", r->policy);
	add_hex(o, "family_id", r->family_id, SNP_ID_SIZE);
	add_hex(o, "image_id", r->image_id, SNP_ID_SIZE);
	json_object_object_add(o, "vmpl", json_object_new_int64(r->vmpl));
	json_object_object_add(o, "signature_algo", json_object_new_int64(r->sig_algo));
	add_tcb(o, "current_tcb", r->current_tcb, p);
	add_u64(o, "platform_info", r->platform_info);
	json_object_object_add(o, "key_info", json_object_new_int64(r->key_info));
	add_hex(o, "report_data", r->report_data, SNP_REPORT_DATA_SIZE);
	add_hex(o, "measurement", r->measurement, SNP_MEASUREMENT_SIZE);
	add_hex(o, "host_data", r->host_data, SNP_HOST_DATA_SIZE);
	add_hex(o, "id_key_digest", r->id_key_digest, SNP_KEY_DIGEST_SIZE);
	add_hex(o, "author_key_digest", r->author_key_digest, SNP_KEY_DIGEST_SIZE);
	add_hex(o, "report_id", r->report_id, SNP_REPORT_ID_SIZE);
	add_hex(o, "report_id_ma", r->report_id_ma, SNP_REPORT_ID_SIZE);
	add_tcb(o, "reported_tcb", r->reported_tcb, p);
	if (r->version >= 3) {
		uint8_t cpuid[3] = { r->cpuid_fam_id, r->cpuid_mod_id, r->cpuid_step };

		add_hex(o, "cpuid_fam_mod_step", cpuid, sizeof(cpuid));
	}
	add_hex(o, "chip_id", r->chip_id, SNP_CHIP_ID_SIZE);
	add_tcb(o, "committed_tcb", r->committed_tcb, p);
	snprintf(fw, sizeof(fw), "%u.%u.%u", r->current_fw.major, r->current_fw.minor,
		 r->current_fw.build);
	json_object_object_add(o, "current_fw", json_object_new_string(fw));
	snprintf(fw, sizeof(fw), "%u.%u.%u", r->committed_fw.major, r->committed_fw.minor,
		 r->committed_fw.build);
	json_object_object_add(o, "committed_fw", json_object_new_string(fw));
	add_tcb(o, "launch_tcb", r->launch_tcb, p);
	if (r->version >= 5) {
		add_u64(o, "launch_mit_vector", r->launch_mit_vector);
		add_u64(o, "current_mit_vector", r->current_mit_vector);
	}
	add_hex(o, "signature_r", r->sig_r, SNP_P384_SIZE);
	add_hex(o, "signature_s", r->sig_s, SNP_P384_SIZE);
	return o;
}

static json_object *cert_json(const struct snp_cert_facts *f)
{
	json_object *o = json_object_new_object();
	char when[32];

	json_object_object_add(o, "cn", json_object_new_string(f->cn));
	json_object_object_add(o, "issuer_cn", json_object_new_string(f->issuer_cn));
	add_hex(o, "sha256", f->sha256, SNP_SHA256_SIZE);
	add_hex(o, "serial", f->serial, f->serial_len);
	json_object_object_add(o, "not_before",
			       json_object_new_string(fmt_time(when, f->not_before)));
	json_object_object_add(o, "not_after",
			       json_object_new_string(fmt_time(when, f->not_after)));
	return o;
}

void verify_print_json(FILE *out, const char *path, const struct snp_report *report,
		       const struct snp_verify_result *res, time_t at)
{
	json_object *o = json_object_new_object(), *checks = json_object_new_object();
	json_object *certs = json_object_new_object();
	char when[32];

	json_object_object_add(o, "report_file", json_object_new_string(path));
	json_object_object_add(o, "verified", json_object_new_boolean(res->failed == SNP_CHECK_NONE));
	json_object_object_add(o, "failed_check",
			       res->failed == SNP_CHECK_NONE ? NULL :
			       json_object_new_string(snp_check_name(res->failed)));
	json_object_object_add(o, "reason", json_object_new_string(res->msg));
	json_object_object_add(o, "checked_at", json_object_new_string(fmt_time(when, at)));
	json_object_object_add(o, "anchors", json_object_new_string(res->anchors));
	json_object_object_add(o, "product",
			       json_object_new_string(snp_product_name(res->product)));
	json_object_object_add(o, "vek_type",
			       json_object_new_string(snp_vek_type_name(res->vek_type)));
	for (int c = SNP_CHECK_REPORT_PARSE; c < SNP_CHECK_INTERNAL; c++)
		json_object_object_add(checks, snp_check_name((enum snp_check)c),
				       json_object_new_string(snp_check_status_name(res->status[c])));
	json_object_object_add(o, "checks", checks);
	if (res->ark.present)
		json_object_object_add(certs, "ark", cert_json(&res->ark));
	if (res->ask.present)
		json_object_object_add(certs, res->ask_role == SNP_ROOT_ASVK ? "asvk" : "ask",
				       cert_json(&res->ask));
	if (res->vek.present)
		json_object_object_add(certs, res->vek_type == SNP_VEK_VLEK ? "vlek" : "vcek",
				       cert_json(&res->vek));
	json_object_object_add(o, "certificates", certs);
	if (report)
		json_object_object_add(o, "report", report_json(report, res->product));
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
