// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Getting a report in the guest: choosing the provider, the overall time
 * bound, the latch after a failed firmware request, and the checks every
 * provider's answer gets (see snp/provider.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snp/bytes.h"
#include "snp/provider_impl.h"

int snp_deadline_check(const struct snp_deadline *dl, const char *what,
		       struct snp_err *err)
{
	if (snp_deadline_left_ms(dl) > 0)
		return 0;
	return snp_errf(err, -ETIMEDOUT, "the %d ms bound for getting a report ran out before %s",
			dl->total_ms, what);
}

static struct {
	int set;
	struct snp_err why;
} latch;

int snp_latch_check(struct snp_err *err)
{
	if (!latch.set)
		return 0;
	return snp_errf(err, latch.why.code,
			"no new report request: an earlier one failed in this process (%s); "
			"the kernel disables the guest's VMPCK after a failed request, so "
			"none can succeed until reboot", latch.why.msg);
}

void snp_latch_set(const struct snp_err *why)
{
	if (latch.set)
		return;
	latch.set = 1;
	latch.why = *why;
}

static const char *const provider_names[] = {
	[SNP_PROVIDER_AUTO] = "auto",
	[SNP_PROVIDER_CONFIGFS] = "configfs",
	[SNP_PROVIDER_IOCTL] = "ioctl",
	[SNP_PROVIDER_SIM] = "sim",
};

const char *snp_provider_name(enum snp_provider provider)
{
	if ((unsigned int)provider >= sizeof(provider_names) / sizeof(provider_names[0]))
		return "unknown";
	return provider_names[provider];
}

int snp_provider_from_name(const char *name, enum snp_provider *provider)
{
	for (size_t i = 0; i < sizeof(provider_names) / sizeof(provider_names[0]); i++) {
		if (!strcmp(name, provider_names[i])) {
			*provider = (enum snp_provider)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* SEV-SNP Firmware ABI, "Status Codes". */
static const char *const fw_status_names[] = {
	[0x00] = "SUCCESS",
	[0x01] = "INVALID_PLATFORM_STATE",
	[0x02] = "INVALID_GUEST_STATE",
	[0x03] = "INVALID_CONFIG",
	[0x04] = "INVALID_LENGTH",
	[0x05] = "ALREADY_OWNED",
	[0x06] = "INVALID_CERTIFICATE",
	[0x07] = "POLICY_FAILURE",
	[0x08] = "INACTIVE",
	[0x09] = "INVALID_ADDRESS",
	[0x0a] = "BAD_SIGNATURE",
	[0x0b] = "BAD_MEASUREMENT",
	[0x0c] = "ASID_OWNED",
	[0x0d] = "INVALID_ASID",
	[0x0e] = "WBINVD_REQUIRED",
	[0x0f] = "DFFLUSH_REQUIRED",
	[0x10] = "INVALID_GUEST",
	[0x11] = "INVALID_COMMAND",
	[0x12] = "ACTIVE",
	[0x13] = "HWERROR_PLATFORM",
	[0x14] = "HWERROR_UNSAFE",
	[0x15] = "UNSUPPORTED",
	[0x16] = "INVALID_PARAM",
	[0x17] = "RESOURCE_LIMIT",
	[0x18] = "SECURE_DATA_INVALID",
	[0x19] = "INVALID_PAGE_SIZE",
	[0x1a] = "INVALID_PAGE_STATE",
	[0x1b] = "INVALID_MDATA_ENTRY",
	[0x1c] = "INVALID_PAGE_OWNER",
	[0x1d] = "AEAD_OFLOW",
	[0x1f] = "RING_BUFFER_EXIT",
	[0x20] = "RMP_INIT_REQUIRED",
	[0x21] = "BAD_SVN",
	[0x22] = "BAD_VERSION",
	[0x23] = "SHUTDOWN_REQUIRED",
	[0x24] = "UPDATE_FAILED",
	[0x25] = "RESTORE_REQUIRED",
	[0x26] = "RMP_INITIALIZATION_FAILED",
	[0x27] = "INVALID_KEY",
};

const char *snp_fw_status_name(uint32_t status)
{
	if (status >= sizeof(fw_status_names) / sizeof(fw_status_names[0]) ||
	    !fw_status_names[status])
		return "unknown";
	return fw_status_names[status];
}

/* Every provider must hand back our REPORT_DATA at our VMPL. */
static int check_echo(const struct snp_report_request *req,
		      const struct snp_report_result *res, struct snp_err *err)
{
	const uint8_t *r = res->report;
	uint32_t vmpl = snp_get_le32(r + SNP_OFF_VMPL);

	if (memcmp(r + SNP_OFF_REPORT_DATA, req->report_data, SNP_REPORT_DATA_SIZE))
		return snp_errf(err, -EBADMSG,
				"the %s provider returned a report whose REPORT_DATA is not the one requested",
				snp_provider_name(res->provider));
	if (vmpl != req->vmpl)
		return snp_errf(err, -EBADMSG,
				"the %s provider returned a report for VMPL %u, not the requested %u",
				snp_provider_name(res->provider), vmpl, req->vmpl);
	return 0;
}

/* configfs-tsm when present, else /dev/sev-guest; one of them only. */
static int get_auto(const struct snp_provider_config *cfg,
		    const struct snp_report_request *req, struct snp_report_result *res,
		    const struct snp_deadline *dl, struct snp_err *err)
{
	struct snp_err tsm_why = { 0 }, dev_why = { 0 };
	int ret;

	ret = snp_tsm_probe(cfg, &tsm_why);
	if (ret != -ENODEV) {
		if (ret)
			return snp_errf(err, ret, "%s", tsm_why.msg);
		return snp_tsm_get_probed(cfg, req, res, dl, err);
	}
	ret = snp_sevguest_get(cfg, req, res, dl, &dev_why);
	if (ret == -ENODEV)
		return snp_errf(err, ret, "no SEV-SNP report provider here: %s; and %s",
				tsm_why.msg, dev_why.msg);
	if (ret)
		return snp_errf(err, ret, "%s", dev_why.msg);
	return 0;
}

static int dispatch(const struct snp_provider_config *cfg,
		    const struct snp_report_request *req, struct snp_report_result *res,
		    const struct snp_deadline *dl, struct snp_err *err)
{
	switch (cfg->provider) {
	case SNP_PROVIDER_AUTO:
		return get_auto(cfg, req, res, dl, err);
	case SNP_PROVIDER_CONFIGFS:
		return snp_tsm_get(cfg, req, res, dl, err);
	case SNP_PROVIDER_IOCTL:
		return snp_sevguest_get(cfg, req, res, dl, err);
	case SNP_PROVIDER_SIM:
		return snp_simprov_get(cfg, req, res, dl, err);
	}
	return snp_errf(err, -EINVAL, "unknown report provider %d", (int)cfg->provider);
}

int snp_get_report(const struct snp_provider_config *cfg,
		   const struct snp_report_request *req,
		   struct snp_report_result *res, struct snp_err *err)
{
	struct snp_deadline dl;
	int ret;

	memset(res, 0, sizeof(*res));
	if (req->vmpl > SNP_VMPL_MAX)
		return snp_errf(err, -EINVAL, "VMPL %u is out of range (0-%d)",
				req->vmpl, SNP_VMPL_MAX);
	snp_deadline_start(&dl, req->timeout_ms > 0 ? req->timeout_ms : SNP_TIMEOUT_DEFAULT_MS);
	ret = dispatch(cfg, req, res, &dl, err);
	if (!ret)
		ret = check_echo(req, res, err);
	if (ret)
		snp_report_result_free(res);
	return ret;
}

void snp_report_result_free(struct snp_report_result *res)
{
	free(res->certs);
	memset(res, 0, sizeof(*res));
}
