// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-unseal: unlock LUKS2 volumes at boot with a key released by the
 * owner's attestation service against an AMD SEV-SNP attestation report.
 */
#include <stdio.h>
#include <string.h>

#include "agent/enroll_cmd.h"
#include "agent/exit.h"
#include "agent/report_cmd.h"
#include "agent/unlock_cmd.h"
#include "agent/version.h"

static void print_usage(FILE *out)
{
	fputs("Usage: snp-unseal [--help | --version]\n"
	      "       snp-unseal COMMAND [OPTIONS]   (see 'snp-unseal COMMAND --help')\n"
	      "\n"
	      "Unlock LUKS2 volumes at boot with a disk key that the owner's\n"
	      "attestation service releases against an AMD SEV-SNP report.\n"
	      "\n"
	      "Commands:\n"
	      "  unlock         open every volume enrolled here (the boot path)\n"
	      "  enroll         add a keyslot and token to a LUKS2 volume, write its registration\n"
	      "  unenroll       remove snp-unseal's keyslot and token from a volume\n"
	      "  report         get an SEV-SNP attestation report and show or save it\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help     show this help and exit\n"
	      "  -V, --version  show the versions of snp-unseal and its libraries\n",
	      out);
}

static int is_option(const char *arg, const char *shortname, const char *longname)
{
	return !strcmp(arg, shortname) || !strcmp(arg, longname);
}

int main(int argc, char *argv[])
{
	const char *unknown;

	if (argc == 1) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "unlock"))
		return unlock_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "enroll"))
		return enroll_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "unenroll"))
		return unenroll_main(argc - 1, argv + 1);
	if (argc == 2 && is_option(argv[1], "-h", "--help")) {
		print_usage(stdout);
		return fflush(stdout) ? EXIT_FAILURE_OTHER : EXIT_OK;
	}
	if (argc == 2 && is_option(argv[1], "-V", "--version"))
		return print_version(stdout) || fflush(stdout) ?
			EXIT_FAILURE_OTHER : EXIT_OK;

	/* Either the first word is unknown, or a known one has extras. */
	unknown = argv[1];
	if (is_option(argv[1], "-h", "--help") || is_option(argv[1], "-V", "--version"))
		unknown = argv[2];
	fprintf(stderr, "snp-unseal: unexpected argument '%s'; see 'snp-unseal --help'\n",
		unknown);
	return EXIT_USAGE;
}
