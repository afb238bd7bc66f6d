// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-keybroker: the guest owner's attestation and key-release service.
 * For now it has one subcommand, `verify`, that checks an SNP report
 * offline.
 */
#include <stdio.h>
#include <string.h>

static void print_usage(FILE *out)
{
	fputs("Usage: snp-keybroker COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  verify REPORT [--certs DIR | --cert-table FILE] [--product P] [--json]\n"
	      "      verify one SEV-SNP attestation report offline\n",
	      out);
}

int main(int argc, char *argv[])
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_usage(stdout);
		return 0;
	}
	print_usage(stderr);
	return 2;
}
