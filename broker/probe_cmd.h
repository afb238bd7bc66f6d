/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_PROBE_CMD_H
#define SNP_BROKER_PROBE_CMD_H

/*
 * argv[0] is "probe". Returns the exit status: 0 unsealed (and, with
 * --check-secret, the secret is the registration file's), 1 refused (or
 * another secret), 2 usage, 3 transport, timeout or simulator failure.
 */
int broker_probe_main(int argc, char *argv[]);

#endif
