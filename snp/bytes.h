/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BYTES_H
#define SNP_BYTES_H

/*
 * Byte buffers: little-endian integers, as the SNP firmware ABI, the
 * certificate table and the simulator's wire protocol all lay them out
 * (byte by byte, so alignment and the host's order never matter), and
 * the all-zero test that reserved fields need, and the byte reversal
 * between AMD's little-endian big numbers (signatures, key coordinates)
 * and the big-endian ones of mbedTLS.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint16_t snp_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t snp_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t snp_get_le64(const uint8_t *p)
{
	return (uint64_t)snp_get_le32(p) | (uint64_t)snp_get_le32(p + 4) << 32;
}

static inline void snp_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void snp_put_le64(uint8_t *p, uint64_t v)
{
	snp_put_le32(p, (uint32_t)v);
	snp_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline bool snp_all_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

/* dst = src with its len bytes in reverse order (they must not overlap). */
static inline void snp_reverse_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = src[len - 1 - i];
}

#endif
