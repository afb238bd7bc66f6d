// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsing the simulator's addresses (see snp/simaddr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snp/simaddr.h"

static int parse_unix(const char *path, struct snp_sim_addr *out, struct snp_err *err)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->sa;
	size_t len = strlen(path);

	if (len == 0)
		return snp_errf(err, -EINVAL, "address 'unix:' names no socket path");
	if (len >= sizeof(sun->sun_path))
		return snp_errf(err, -ENAMETOOLONG,
				"socket path '%s' is %zu bytes; at most %zu fit in a Unix address",
				path, len, sizeof(sun->sun_path) - 1);
	out->kind = SNP_SIM_ADDR_UNIX;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	memcpy(out->path, path, len + 1);
	out->sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* host is "localhost", a dotted IPv4 address or a bracketed IPv6 one. */
static int parse_host(const char *host, uint16_t port, struct snp_sim_addr *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);

	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->sa_len = sizeof(*sin);
		return 0;
	}
	if (len < 3 || len >= sizeof(buf) || host[0] != '[' || host[len - 1] != ']')
		return -EINVAL;
	memcpy(buf, host + 1, len - 2);
	buf[len - 2] = '\0';
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return -EINVAL;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	out->sa_len = sizeof(*sin6);
	return 0;
}

static int parse_tcp(const char *spec, struct snp_sim_addr *out, struct snp_err *err)
{
	const char *colon = strrchr(spec, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t host_len;
	uint16_t port;

	if (!colon || parse_port(colon + 1, &port))
		return snp_errf(err, -EINVAL,
				"address 'tcp:%s' has no port; write tcp:HOST:PORT", spec);
	host_len = (size_t)(colon - spec);
	if (host_len == 0 || host_len >= sizeof(host))
		return snp_errf(err, -EINVAL, "address 'tcp:%s' has no usable host", spec);
	memcpy(host, spec, host_len);
	host[host_len] = '\0';
	if (parse_host(host, port, out))
		return snp_errf(err, -EINVAL,
				"host '%s' in 'tcp:%s' is not an IPv4 address, [IPv6] address or localhost (no name lookup is done)",
				host, spec);
	out->kind = SNP_SIM_ADDR_TCP;
	return 0;
}

int snp_sim_addr_parse(const char *addr, struct snp_sim_addr *out, struct snp_err *err)
{
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!strncmp(addr, "unix:", 5))
		return parse_unix(addr + 5, out, err);
	if (!strncmp(addr, "tcp:", 4))
		return parse_tcp(addr + 4, out, err);
	if (addr[0] != '/')
		return snp_errf(err, -EINVAL,
				"address '%s' is none of unix:PATH, tcp:HOST:PORT or /path/to/device",
				addr);
	len = strlen(addr);
	if (len >= sizeof(out->path))
		return snp_errf(err, -ENAMETOOLONG, "device path '%s' is too long", addr);
	out->kind = SNP_SIM_ADDR_CHARDEV;
	memcpy(out->path, addr, len + 1);
	return 0;
}

void snp_sim_addr_format(const struct snp_sim_addr *addr, char *out, size_t size)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&addr->sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&addr->sa;
	char host[INET6_ADDRSTRLEN] = "?";

	switch (addr->kind) {
	case SNP_SIM_ADDR_UNIX:
		snprintf(out, size, "unix:%s", addr->path);
		return;
	case SNP_SIM_ADDR_CHARDEV:
		snprintf(out, size, "%s", addr->path);
		return;
	case SNP_SIM_ADDR_TCP:
		break;
	}
	if (addr->sa.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, size, "tcp:[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, size, "tcp:%s:%u", host, ntohs(sin->sin_port));
	}
}
