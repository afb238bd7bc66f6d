// SPDX-License-Identifier: GPL-2.0-or-later
/* What snp-owner's commands share to talk to the user (owner/cmd.h). */
#include <stdarg.h>
#include <stdio.h>

#include "owner/cmd.h"

int owner_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("snp-owner: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int owner_usage(const char *cmd)
{
	fprintf(stderr, "snp-owner: see 'snp-owner %s --help'\n", cmd);
	return OWNER_USAGE;
}
