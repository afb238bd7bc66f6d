/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BROKER_POLICY_CMD_H
#define BROKER_POLICY_CMD_H

/* argv[0] is "policy". Returns the exit status (broker/admin.h). */
int broker_policy_main(int argc, char *argv[]);

#endif
