/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_ENROLL_CMD_H
#define SNP_UNSEAL_AGENT_ENROLL_CMD_H

/* snp-unseal enroll / unenroll: argv[0] is the command. Return an enum snp_unseal_exit. */
int enroll_main(int argc, char *argv[]);
int unenroll_main(int argc, char *argv[]);

#endif
