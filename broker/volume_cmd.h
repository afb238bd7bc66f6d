/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BROKER_VOLUME_CMD_H
#define BROKER_VOLUME_CMD_H

/* argv[0] is "volume". Returns the exit status (broker/admin.h). */
int broker_volume_main(int argc, char *argv[]);

#endif
