// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The simulator provider: the request goes to snp-sim over its channel
 * (snp/simproto.h), which holds the keys as the PSP would. Only used when
 * configured by name with an address; the result says it is simulated,
 * for the caller to log. No latch: the simulator has no VMPCK to lose.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "snp/provider_impl.h"
#include "snp/simproto.h"

/* snp_sim_call has checked the lengths against the status: only the status is left. */
static int check_answer(const char *addr, const struct snp_sim_response *resp,
			struct snp_err *err)
{
	if (resp->status)
		return snp_errf(err, -EIO, "the simulator at %s refused the report request: "
				"status 0x%x %s", addr, resp->status,
				snp_fw_status_name(resp->status));
	return 0;
}

int snp_simprov_get(const struct snp_provider_config *cfg,
		    const struct snp_report_request *req,
		    struct snp_report_result *res, const struct snp_deadline *dl,
		    struct snp_err *err)
{
	struct snp_sim_request sreq = {
		.type = req->want_certs ? SNP_SIM_REQ_EXT_REPORT : SNP_SIM_REQ_REPORT,
		.vmpl = req->vmpl,
	};
	struct snp_sim_response resp = { 0 };
	int ret;

	res->provider = SNP_PROVIDER_SIM;
	res->simulated = true;
	if (!cfg->sim_addr || !cfg->sim_addr[0])
		return snp_errf(err, -EINVAL, "the sim provider needs the simulator's address");
	ret = snp_deadline_check(dl, "calling the simulator", err);
	if (ret)
		return ret;
	memcpy(sreq.user_data, req->report_data, sizeof(sreq.user_data));
	ret = snp_sim_call(cfg->sim_addr, &sreq, &resp, snp_deadline_left_ms(dl), err);
	/* -ENODEV is kept for "no provider on this machine"; this one was named. */
	if (ret == -ENODEV) {
		ret = -ENXIO;
		if (err)
			err->code = ret;
	}
	if (!ret)
		ret = check_answer(cfg->sim_addr, &resp, err);
	if (!ret) {
		memcpy(res->report, resp.report, SNP_REPORT_SIZE);
		res->certs = resp.certs;
		res->certs_len = resp.certs_len;
		resp.certs = NULL;
		snprintf(res->note, sizeof(res->note),
			 "SIMULATED report from the SNP firmware simulator at %s, not from AMD "
			 "hardware: it proves nothing about this machine", cfg->sim_addr);
	}
	snp_sim_response_free(&resp);
	return ret;
}
