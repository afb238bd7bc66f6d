// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a report is bound to (docs/protocol.md section 2): the volume id in
 * its one canonical spelling, and REPORT_DATA over the length-prefixed
 * nonce, exporter value, agent key and volume.
 */
#include <errno.h>
#include <string.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/sha512.h>

#include "proto/internal.h"
#include "proto/proto.h"

static const char report_data_label[] = "snp-unseal/v1/report-data";

static bool is_hyphen_at(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

bool proto_volume_valid(const char *volume, size_t len)
{
	if (len != PROTO_VOLUME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = volume[i];

		if (is_hyphen_at(i) ? c != '-' :
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

int proto_volume_canonical(const char *in, char out[PROTO_VOLUME_LEN + 1], struct snp_err *err)
{
	size_t len = strnlen(in, PROTO_VOLUME_LEN + 1);
	char lower[PROTO_VOLUME_LEN + 1];

	for (size_t i = 0; i < len && i < PROTO_VOLUME_LEN; i++)
		lower[i] = (in[i] >= 'A' && in[i] <= 'F') ? (char)(in[i] - 'A' + 'a') : in[i];
	if (!proto_volume_valid(lower, len))
		return snp_errf(err, -EINVAL,
				"volume id '%.40s' is not a UUID (36 characters: hex digits, hyphens at 8, 13, 18 and 23)",
				in);
	lower[PROTO_VOLUME_LEN] = '\0';
	memcpy(out, lower, sizeof(lower));
	return 0;
}

void proto_lv_init(struct proto_lv *lv, const char *label)
{
	size_t len = strlen(label) + 1;	/* the label's zero byte belongs to it */

	lv->len = 0;
	lv->overflow = len > sizeof(lv->buf);
	if (!lv->overflow) {
		memcpy(lv->buf, label, len);
		lv->len = len;
	}
}

void proto_lv_add(struct proto_lv *lv, const void *data, size_t len)
{
	if (lv->overflow || len > 0xffff || len + 2 > sizeof(lv->buf) - lv->len) {
		lv->overflow = true;
		return;
	}
	lv->buf[lv->len] = (uint8_t)(len >> 8);
	lv->buf[lv->len + 1] = (uint8_t)len;
	memcpy(lv->buf + lv->len + 2, data, len);
	lv->len += len + 2;
}

int proto_report_data(const uint8_t nonce[PROTO_NONCE_SIZE], const uint8_t ekm[PROTO_EKM_SIZE],
		      const uint8_t pubkey[PROTO_PUBKEY_SIZE], const char *volume,
		      uint8_t out[SNP_REPORT_DATA_SIZE])
{
	struct proto_lv lv;
	size_t volume_len = strnlen(volume, PROTO_VOLUME_LEN + 1);

	if (!proto_volume_valid(volume, volume_len))
		return -EINVAL;
	proto_lv_init(&lv, report_data_label);
	proto_lv_add(&lv, nonce, PROTO_NONCE_SIZE);
	proto_lv_add(&lv, ekm, PROTO_EKM_SIZE);
	proto_lv_add(&lv, pubkey, PROTO_PUBKEY_SIZE);
	proto_lv_add(&lv, volume, volume_len);
	if (!proto_lv_ok(&lv))
		return -EOVERFLOW;
	if (mbedtls_sha512(lv.buf, lv.len, out, 0))
		return -EIO;
	return 0;
}

bool proto_ct_equal(const void *a, const void *b, size_t len)
{
	return mbedtls_ct_memcmp(a, b, len) == 0;
}
