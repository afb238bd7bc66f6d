/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_UNLOCK_CMD_H
#define SNP_UNSEAL_AGENT_UNLOCK_CMD_H

/* snp-unseal unlock: argv[0] is "unlock". Returns an enum snp_unseal_exit. */
int unlock_main(int argc, char *argv[]);

#endif
