// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Versions of snp-unseal and of the libraries linked into it. mbedTLS and
 * libblkid are asked at run time; libcryptsetup has no version call, so its
 * version comes from the libcryptsetup.pc of the build we linked against
 * (build/gen/dep_versions.h), and
 * a call into the library shows that it really is there.
 */
#include <blkid/blkid.h>
#include <libcryptsetup.h>
#include <mbedtls/version.h>

#include "agent/version.h"
#include "dep_versions.h"

#ifndef SNP_UNSEAL_VERSION
#error "SNP_UNSEAL_VERSION must be defined by the build"
#endif

int print_version(FILE *out)
{
	char mbedtls_version[18];	/* the size version.h asks for */
	const char *blkid_version = NULL, *blkid_date = NULL;
	const char *luks_default;

	mbedtls_version_get_string_full(mbedtls_version);
	blkid_get_library_version(&blkid_version, &blkid_date);
	luks_default = crypt_get_default_type();

	fprintf(out, "snp-unseal %s\n", SNP_UNSEAL_VERSION);
	fprintf(out, "  %s\n", mbedtls_version);
	fprintf(out, "  libcryptsetup %s (default format %s)\n",
		LIBCRYPTSETUP_VERSION, luks_default ? luks_default : "unknown");
	fprintf(out, "  libblkid %s (%s)\n",
		blkid_version ? blkid_version : "unknown",
		blkid_date ? blkid_date : "no date");
	return ferror(out) ? -1 : 0;
}
