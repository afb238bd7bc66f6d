/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BROKER_VERIFY_CMD_H
#define BROKER_VERIFY_CMD_H

/* argv[0] is "verify". Returns the exit status. */
int broker_verify_main(int argc, char *argv[]);

#endif
