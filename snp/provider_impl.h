/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_PROVIDER_IMPL_H
#define SNP_PROVIDER_IMPL_H

/* Shared between snp/provider.c and the providers; not a public interface. */
#include "snp/deadline.h"
#include "snp/provider.h"

/*
 * 0 while the bound for getting the report (snp/deadline.h) has time
 * left, else -ETIMEDOUT naming what was about to happen.
 */
int snp_deadline_check(const struct snp_deadline *dl, const char *what,
		       struct snp_err *err);

/*
 * The process-wide latch: after a failed request to the real firmware,
 * snp_latch_check() fails with the first failure's reason.
 */
int snp_latch_check(struct snp_err *err);
void snp_latch_set(const struct snp_err *why);

/* The real kernel behind each provider (tests call these on plain files). */
extern const struct snp_tsm_ops snp_tsm_sys_ops;
extern const struct snp_sevguest_ops snp_sevguest_sys_ops;

/* 0 when configfs-tsm is there; -ENODEV (with the reason) when not. */
int snp_tsm_probe(const struct snp_provider_config *cfg, struct snp_err *err);
/* The latch, the probe, then the request. */
int snp_tsm_get(const struct snp_provider_config *cfg,
		const struct snp_report_request *req, struct snp_report_result *res,
		const struct snp_deadline *dl, struct snp_err *err);
/* The same once snp_tsm_probe has said yes: the latch, then the request. */
int snp_tsm_get_probed(const struct snp_provider_config *cfg,
		       const struct snp_report_request *req, struct snp_report_result *res,
		       const struct snp_deadline *dl, struct snp_err *err);
int snp_sevguest_get(const struct snp_provider_config *cfg,
		     const struct snp_report_request *req,
		     struct snp_report_result *res, const struct snp_deadline *dl,
		     struct snp_err *err);
int snp_simprov_get(const struct snp_provider_config *cfg,
		    const struct snp_report_request *req,
		    struct snp_report_result *res, const struct snp_deadline *dl,
		    struct snp_err *err);

#endif
