/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_EXIT_H
#define SNP_UNSEAL_AGENT_EXIT_H

/*
 * Exit codes: the initrd glue decides what to do next from these, so they
 * are part of the interface and never renumbered (docs/snp-unseal.8).
 */
enum snp_unseal_exit {
	EXIT_OK = 0,
	EXIT_FAILURE_OTHER = 1,	/* anything not covered below */
	EXIT_USAGE = 2,		/* bad command line or configuration */
	EXIT_NO_PROVIDER = 3,	/* no way to get a report: no configfs-tsm, no
				 * /dev/sev-guest (not an SEV-SNP guest, or a
				 * module is missing) */
	EXIT_REPORT_FAILED = 4,	/* a report provider is there but the request
				 * failed, or its answer is no valid report */
};

#endif
