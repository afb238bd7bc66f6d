// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: AMD certificates and their VCEK/VLEK extensions. The input
 * is parsed twice: as a whole certificate (DER or PEM, through mbedTLS
 * and our extension callback), and, split at its first byte, as one
 * extension value under one of AMD's OIDs, so the value decoder sees
 * arbitrary bytes directly too.
 */
#include <stdlib.h>
#include <string.h>

#include "snp/amdcert.h"
#include "snp/certtable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DER contents of 1.3.6.1.4.1.3704.1 and of its arcs we decode. */
static const uint8_t amd_arc[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01 };
static const uint8_t sub_arcs[][2] = {
	{ 1, 0 }, { 2, 0 }, { 3, 1 }, { 3, 2 }, { 3, 3 }, { 3, 4 }, { 3, 8 },
	{ 3, 9 }, { 4, 0 }, { 5, 0 }, { 6, 0 },
};

static void fuzz_extension(const uint8_t *data, size_t size)
{
	const uint8_t *arc;
	uint8_t oid[sizeof(amd_arc) + 2];
	size_t oid_len = sizeof(amd_arc) + 1;
	struct snp_vek_ext ext;
	struct snp_err err;

	if (size < 1)
		return;
	arc = sub_arcs[data[0] % (sizeof(sub_arcs) / sizeof(sub_arcs[0]))];
	memcpy(oid, amd_arc, sizeof(amd_arc));
	oid[sizeof(amd_arc)] = arc[0];
	if (arc[1])
		oid[oid_len++] = arc[1];
	memset(&ext, 0, sizeof(ext));
	if (snp_vek_ext_parse(&ext, oid, oid_len, data + 1, size - 1, &err) == 0) {
		/* Decoded values stay in their buffers, and strings end. */
		if (ext.hwid_len > sizeof(ext.hwid) ||
		    !memchr(ext.product_name, 0, sizeof(ext.product_name)) ||
		    !memchr(ext.csp_id, 0, sizeof(ext.csp_id)))
			__builtin_trap();
	}
}

static void fuzz_certificate(const uint8_t *data, size_t size)
{
	struct snp_amd_cert cert;
	uint8_t *der = NULL;
	size_t der_len;

	if (snp_cert_to_der(data, size, &der, &der_len, NULL))
		return;
	snp_amd_cert_init(&cert);
	if (snp_amd_cert_parse(&cert, der, der_len, "VCEK", NULL) == 0) {
		if (cert.ext.hwid_len > sizeof(cert.ext.hwid) ||
		    !memchr(cert.cn, 0, sizeof(cert.cn)))
			__builtin_trap();
	}
	snp_amd_cert_free(&cert);
	free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_extension(data, size);
	fuzz_certificate(data, size);
	return 0;
}
