/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_EXIT_H
#define SNP_UNSEAL_AGENT_EXIT_H

/*
 * Exit codes: the initrd glue decides what to do next from these, so they
 * are part of the interface and never renumbered (docs/snp-unseal.8).
 * For unlock, every code but 0 means "ask for the passphrase as usual"
 * (with on_failure = poweroff the agent powers off instead of exiting).
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
	EXIT_NO_VOLUME = 5,	/* unlock: no volume with an snp-unseal token
				 * (or not every wanted one) within device_timeout */
	EXIT_REFUSED = 6,	/* unlock: a broker refused (its reason is logged) */
	EXIT_UNREACHABLE = 7,	/* unlock: no broker answered before the deadline
				 * (network, TLS, server authentication, overload,
				 * a broken answer such as a sealed secret that
				 * does not open: all retried) */
	EXIT_BAD_SECRET = 8,	/* unlock: the released secret does not open the
				 * keyslot */
	EXIT_ACTIVATE_FAILED = 9, /* unlock: the secret was released but activation
				 * failed otherwise (no usable device-mapper, the
				 * keyslot gone, device-mapper refusing) */
	EXIT_DISABLED = 10,	/* unlock: disabled (enable = 0, rd.snp_unseal=0) */
	EXIT_POWEROFF_FAILED = 11, /* unlock: failing closed, but neither power-off
				 * nor halt worked: the caller must not go on */
};

#endif
