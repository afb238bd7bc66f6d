/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_SIMADDR_H
#define SNP_SIMADDR_H

/*
 * Addresses of the SNP firmware simulator, shared by the guest's client
 * (snp/simproto.c) and the simulator's server (snp/sim/):
 *
 *   unix:/path/to/socket   a Unix stream socket
 *   tcp:HOST:PORT          HOST a numeric IPv4 address, [IPv6] or
 *                          "localhost"; no name lookup, so nothing waits
 *                          on a resolver
 *   /dev/...               a character device (a virtio-serial port)
 */
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "snp/err.h"

enum snp_sim_addr_kind {
	SNP_SIM_ADDR_UNIX = 1,
	SNP_SIM_ADDR_TCP,
	SNP_SIM_ADDR_CHARDEV,
};

struct snp_sim_addr {
	enum snp_sim_addr_kind kind;
	struct sockaddr_storage sa;	/* UNIX and TCP */
	socklen_t sa_len;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* UNIX, CHARDEV */
};

int snp_sim_addr_parse(const char *addr, struct snp_sim_addr *out, struct snp_err *err);

/* "unix:/run/s", "tcp:127.0.0.1:4000", "[::1]:4000" style, for messages. */
void snp_sim_addr_format(const struct snp_sim_addr *addr, char *out, size_t size);

#endif
