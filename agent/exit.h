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
};

#endif
