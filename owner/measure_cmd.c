// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-owner measure` and `snp-owner ovmf-hash`: the expected launch
 * digest of a launch as launch-snp-guest is given it, and the firmware's
 * share of it (to seed later runs with --ovmf-hash).
 */
#include <getopt.h>
#include <stdio.h>

#include "owner/cmd.h"

enum { OPT_QUIET = LAUNCH_OPT_LAST };

static const struct option measure_options[] = {
	LAUNCH_LONG_OPTIONS,
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void print_digest(const uint8_t digest[MEASURE_DIGEST_SIZE])
{
	char hex[2 * MEASURE_DIGEST_SIZE + 1];

	printf("%s\n", snp_hex(hex, digest, MEASURE_DIGEST_SIZE));
}

int owner_measure_main(int argc, char *argv[])
{
	uint8_t digest[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };
	struct launch l;
	char notes[256];
	bool quiet = false;
	int opt;

	launch_init(&l);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", measure_options, NULL)) != -1) {
		if (opt == 'h') {
			printf("usage: snp-owner measure [LAUNCH OPTIONS] [--quiet]\n"
			       "See snp-owner(1).\n");
			return OWNER_OK;
		}
		if (opt == OPT_QUIET)
			quiet = true;
		else if (opt == '?' || opt == ':')
			return owner_usage("measure");
		else if (launch_option(&l, opt, optarg, &err))
			return owner_fail(OWNER_USAGE, "%s", err.msg);
	}
	if (optind != argc)
		return owner_fail(OWNER_USAGE, "measure: unexpected argument '%s'", argv[optind]);
	if (launch_given(&l, LAUNCH_OPT_MEASUREMENT) || launch_given(&l, LAUNCH_OPT_POLICY))
		return owner_fail(OWNER_USAGE,
				  "measure: --measurement and --policy are not part of a measurement");
	if (launch_measure(&l, digest, notes, &err))
		return owner_fail(OWNER_USAGE, "%s", err.msg);
	if (notes[0] && !quiet)
		fprintf(stderr, "snp-owner: note: %s\n", notes);
	print_digest(digest);
	return OWNER_OK;
}

static const struct option ovmf_hash_options[] = {
	{ "bios", required_argument, NULL, LAUNCH_OPT_BIOS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int owner_ovmf_hash_main(int argc, char *argv[])
{
	uint8_t digest[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };
	struct launch l;
	int opt;

	launch_init(&l);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", ovmf_hash_options, NULL)) != -1) {
		if (opt == 'h') {
			printf("usage: snp-owner ovmf-hash [--bios FILE]\nSee snp-owner(1).\n");
			return OWNER_OK;
		}
		if (opt != LAUNCH_OPT_BIOS)
			return owner_usage("ovmf-hash");
		launch_option(&l, opt, optarg, &err);
	}
	if (optind != argc)
		return owner_fail(OWNER_USAGE, "ovmf-hash: unexpected argument '%s'", argv[optind]);
	if (launch_ovmf_hash(&l, digest, &err))
		return owner_fail(OWNER_USAGE, "%s", err.msg);
	print_digest(digest);
	return OWNER_OK;
}
