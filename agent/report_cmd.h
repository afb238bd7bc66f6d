/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_REPORT_CMD_H
#define SNP_UNSEAL_AGENT_REPORT_CMD_H

/*
 * `snp-unseal report [OPTIONS]`: get an attestation report in the guest
 * and show it or save it. argv[0] is "report". Returns an exit status
 * from agent/exit.h.
 */
int report_main(int argc, char *argv[]);

#endif
