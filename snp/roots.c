// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AMD's SEV-SNP root certificates, pinned by the SHA-256 of their DER.
 * The values are those of the KDS cert_chain files for each product, the
 * same DER in every independent source checked (go-sev-guest, virtee/sev,
 * Oak, Trustee, Azure THIM); see ../shared/docs/snp-facts.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "snp/amdcert.h"
#include "snp/certtable.h"
#include "snp/fdio.h"
#include "snp/roots.h"

#define ARK_FILE_MAX	(64 * 1024)	/* an RSA-4096 certificate is under 2 KiB */

static const char *const amd_pins[SNP_PRODUCT_COUNT][SNP_ROOT_ROLES] = {
	[SNP_PRODUCT_MILAN] = {
		[SNP_ROOT_ARK] = "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
		[SNP_ROOT_ASK] = "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
		[SNP_ROOT_ASVK] = "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",
	},
	[SNP_PRODUCT_GENOA] = {
		[SNP_ROOT_ARK] = "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
		[SNP_ROOT_ASK] = "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
		[SNP_ROOT_ASVK] = "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",
	},
	[SNP_PRODUCT_TURIN] = {
		[SNP_ROOT_ARK] = "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
		[SNP_ROOT_ASK] = "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
		[SNP_ROOT_ASVK] = "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",
	},
};

const char *snp_root_role_name(enum snp_root_role role)
{
	switch (role) {
	case SNP_ROOT_ARK:
		return "ARK";
	case SNP_ROOT_ASK:
		return "ASK";
	case SNP_ROOT_ASVK:
		return "ASVK";
	default:
		return "unknown";
	}
}

void snp_anchors_init(struct snp_anchors *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "caller's");
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c - 'a' + 10;
}

void snp_anchors_amd(struct snp_anchors *a)
{
	snp_anchors_init(a, "AMD");
	for (int p = SNP_PRODUCT_MILAN; p < SNP_PRODUCT_COUNT; p++) {
		for (int r = 0; r < SNP_ROOT_ROLES; r++) {
			const char *hex = amd_pins[p][r];
			struct snp_pin *pin = &a->pin[p][r];

			for (size_t i = 0; i < SNP_SHA256_SIZE; i++)
				pin->sha256[i] = (uint8_t)(nibble(hex[2 * i]) << 4 |
							   nibble(hex[2 * i + 1]));
			pin->set = true;
		}
	}
}

static bool valid_slot(enum snp_product product, enum snp_root_role role)
{
	return product > SNP_PRODUCT_UNKNOWN && product < SNP_PRODUCT_COUNT &&
	       role >= SNP_ROOT_ARK && role < SNP_ROOT_ROLES;
}

int snp_anchors_pin(struct snp_anchors *a, enum snp_product product, enum snp_root_role role,
		    const uint8_t sha256[SNP_SHA256_SIZE], struct snp_err *err)
{
	if (!valid_slot(product, role))
		return snp_errf(err, -EINVAL, "cannot pin a %s for product %d",
				snp_root_role_name(role), (int)product);
	memcpy(a->pin[product][role].sha256, sha256, SNP_SHA256_SIZE);
	a->pin[product][role].set = true;
	return 0;
}

int snp_anchors_pin_der(struct snp_anchors *a, enum snp_product product,
			enum snp_root_role role, const uint8_t *der, size_t len,
			struct snp_err *err)
{
	uint8_t digest[SNP_SHA256_SIZE];

	if (mbedtls_sha256(der, len, digest, 0))
		return snp_errf(err, -EIO, "SHA-256 of a %zu-byte certificate failed", len);
	return snp_anchors_pin(a, product, role, digest, err);
}

const struct snp_pin *snp_anchors_get(const struct snp_anchors *a, enum snp_product product,
				      enum snp_root_role role)
{
	if (!valid_slot(product, role) || !a->pin[product][role].set)
		return NULL;
	return &a->pin[product][role];
}

void snp_anchors_digest(const struct snp_anchors *a, uint8_t out[SNP_SHA256_SIZE])
{
	mbedtls_sha256_context ctx;

	/* Only what decides trust: which slots are set, and to what. */
	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts(&ctx, 0);
	for (int p = SNP_PRODUCT_MILAN; p < SNP_PRODUCT_COUNT; p++) {
		for (int r = 0; r < SNP_ROOT_ROLES; r++) {
			const struct snp_pin *pin = &a->pin[p][r];
			uint8_t tag[3] = { (uint8_t)p, (uint8_t)r, pin->set };

			mbedtls_sha256_update(&ctx, tag, sizeof(tag));
			if (pin->set)
				mbedtls_sha256_update(&ctx, pin->sha256, SNP_SHA256_SIZE);
		}
	}
	mbedtls_sha256_finish(&ctx, out);
	mbedtls_sha256_free(&ctx);
}

int snp_anchors_load_ark(struct snp_anchors *anchors, const char *name, const char *path,
			 enum snp_product *product, struct snp_err *err)
{
	struct snp_amd_cert ark;
	uint8_t *raw = NULL, *der = NULL;
	size_t len, der_len;
	int ret;

	snp_amd_cert_init(&ark);
	*product = SNP_PRODUCT_UNKNOWN;
	ret = snp_read_file(path, ARK_FILE_MAX, &raw, &len, err);
	if (!ret)
		ret = snp_cert_to_der(raw, len, &der, &der_len, err);
	if (!ret)
		ret = snp_amd_cert_parse(&ark, der, der_len, "ARK", err);
	if (ret)
		goto out;
	if (!strncmp(ark.cn, "ARK-", 4))
		*product = snp_product_from_name(ark.cn + 4, strlen(ark.cn + 4));
	if (*product == SNP_PRODUCT_UNKNOWN) {
		ret = snp_errf(err, -EINVAL, "%s: CN \"%s\" is not ARK-<Milan|Genoa|Turin>",
			       path, ark.cn);
		goto out;
	}
	snp_anchors_init(anchors, name);
	ret = snp_anchors_pin_der(anchors, *product, SNP_ROOT_ARK, der, der_len, err);
out:
	snp_amd_cert_free(&ark);
	free(der);
	free(raw);
	return ret;
}
