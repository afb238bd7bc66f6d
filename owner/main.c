// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-owner: the guest owner's tool. From the inputs the guest is launched
 * with (launch-snp-guest's options), the expected launch measurement, the
 * ID block and ID auth info QEMU takes, and the snp-keybroker policy its
 * reports must satisfy. It runs on the owner's machine and needs no SEV.
 */
#include <stdio.h>
#include <string.h>

#include "owner/cmd.h"

static void print_usage(FILE *out)
{
	fputs("Usage: snp-owner COMMAND [OPTIONS]\n"
	      "\n"
	      "Commands:\n"
	      "  measure [LAUNCH OPTIONS]\n"
	      "      the expected launch measurement (96 hex digits)\n"
	      "  ovmf-hash [--bios FILE]\n"
	      "      the firmware's share of it, for --ovmf-hash\n"
	      "  id-block [LAUNCH OPTIONS] --id-key FILE [--author-key FILE]\n"
	      "           [--family-id HEX] [--image-id HEX] [--svn N] --id-block OUT --id-auth OUT\n"
	      "      the ID block and ID auth info, base64, for QEMU and launch-snp-guest\n"
	      "  check-id --id-block FILE --id-auth FILE [LAUNCH OPTIONS]\n"
	      "      check their signatures, and with launch options that they fit that launch\n"
	      "  key-digest KEYFILE\n"
	      "      the SHA-384 digest a report carries for an ECDSA P-384 key\n"
	      "  policy [LAUNCH OPTIONS] [--id-block FILE --id-auth FILE] [--host-data DATA]\n"
	      "         [--from FILE] [--add] (--state DIR --name NAME [--volume UUID] | [--output FILE])\n"
	      "      measure, and write or update the snp-keybroker policy of the launch\n"
	      "\n"
	      "Launch options (launch-snp-guest's, with its defaults):\n"
	      "  --bios FILE (/usr/share/ovmf/OVMF.fd)  --kernel FILE  --initrd FILE\n"
	      "  --append TEXT  --kernel-hashes  --smp N (2)  --cpu MODEL (EPYC-v4)\n"
	      "  --policy HEX (0x30000)\n"
	      "and beyond it: --vcpu-sig HEX | --vcpu-family N --vcpu-model N --vcpu-stepping N,\n"
	      "  --guest-features HEX (0x1), --vmm qemu|ec2|gce, --ovmf-hash HEX,\n"
	      "  --measurement HEX (id-block, policy: a digest computed elsewhere)\n"
	      "\n"
	      "Exit status: 0 done, 1 a check failed, 2 bad usage or input. See snp-owner(1).\n",
	      out);
}

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
} commands[] = {
	{ "measure", owner_measure_main },
	{ "ovmf-hash", owner_ovmf_hash_main },
	{ "id-block", owner_id_block_main },
	{ "check-id", owner_check_id_main },
	{ "key-digest", owner_key_digest_main },
	{ "policy", owner_policy_main },
};

int main(int argc, char *argv[])
{
	size_t i;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_usage(stdout);
		return OWNER_OK;
	}
	for (i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	if (argc >= 2)
		fprintf(stderr, "snp-owner: unknown command '%s'\n", argv[1]);
	print_usage(stderr);
	return OWNER_USAGE;
}
