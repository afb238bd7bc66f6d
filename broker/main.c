// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-keybroker: the guest owner's attestation and key-release service.
 * One subcommand per job: serve (the unseal protocol), volume and policy
 * (the secret store), probe (the protocol as an agent runs it, against
 * simulator reports), verify (one report, offline).
 */
#include <stdio.h>
#include <string.h>

#include "broker/policy_cmd.h"
#include "broker/probe_cmd.h"
#include "broker/serve_cmd.h"
#include "broker/verify_cmd.h"
#include "broker/volume_cmd.h"

static void print_usage(FILE *out)
{
	fputs("Usage: snp-keybroker COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  serve [--config FILE] [--listen ADDR]... [--state DIR] [--print-port FILE]\n"
	      "      the unseal service (docs/protocol.md); SIGHUP reloads the\n"
	      "      configuration, SIGTERM stops gracefully\n"
	      "  probe URL (--ca FILE | --pin sha256:HEX) --volume UUID --sim ADDR\n"
	      "        [--connect-to ADDR] [--timeout DUR] [--vmpl N] [--check-secret REGFILE]\n"
	      "      run the protocol as an agent would, with reports from the SNP\n"
	      "      firmware simulator; exit 0 unsealed, 1 refused, 3 transport\n"
	      "  verify REPORT [--certs DIR] [--cert-table FILE] [--product P]\n"
	      "         [--at TIME] [--trust-ark FILE] [--json]\n"
	      "      verify one SEV-SNP attestation report offline and print every\n"
	      "      field; exit 0 when it verified, 1 when not, 2 on bad input\n"
	      "  volume add|list|show|rotate|set-policy|remove|purge ...\n"
	      "  policy set|show|list ...\n"
	      "      the secret store (--state DIR or --config FILE); see\n"
	      "      'snp-keybroker volume --help'\n"
	      "\n"
	      "See snp-keybroker(8).\n",
	      out);
}

int main(int argc, char *argv[])
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return broker_serve_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "probe"))
		return broker_probe_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return broker_verify_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "volume"))
		return broker_volume_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "policy"))
		return broker_policy_main(argc - 1, argv + 1);
	if (argc >= 2)
		fprintf(stderr, "snp-keybroker: unknown command '%s'\n", argv[1]);
	print_usage(stderr);
	return 2;
}
