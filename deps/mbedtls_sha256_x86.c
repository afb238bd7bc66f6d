// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SHA-256 compression function of our mbedTLS, with the x86 SHA
 * extensions (SHA-NI) when the CPU has them and portable C otherwise.
 *
 * Why it exists: libcryptsetup checks a LUKS2 volume key with
 * PBKDF2-HMAC-SHA256 at the iteration count luksFormat benchmarked (some
 * 200,000), and that loop was nine tenths of `snp-unseal unlock`'s CPU
 * time. mbedTLS 3.6 has SHA-256 instructions only for Armv8; on x86-64 it
 * runs its C rounds. Every SEV-SNP CPU (AMD Zen 3 and later) has the SHA
 * extensions, and so do the hosts most brokers run on.
 *
 * How it plugs in: deps/mbedtls_config.h defines MBEDTLS_SHA256_PROCESS_ALT,
 * so mbedTLS's sha256.c leaves out its own compression function (and its
 * round constants) and calls mbedtls_internal_sha256_process() below for
 * every 64-byte block of SHA-224 and SHA-256, padding included. deps/build
 * compiles this file with mbedTLS's flags and adds it to libmbedcrypto.a,
 * so everything that links mbedTLS gets it unchanged. Only the functions
 * that use the instructions are compiled for them; the rest of the library
 * stays baseline x86-64, and the CPU is asked once (cpuid) which to use.
 */
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "mbedtls_sha256_x86.h"

#if !defined(MBEDTLS_SHA256_PROCESS_ALT)
#error "deps/mbedtls_config.h must define MBEDTLS_SHA256_PROCESS_ALT, or sha256.c defines this function too"
#endif

#define SHA256_BLOCK_BYTES	64

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. Aligned for 16-byte vector loads. */
static const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* ---- portable C (FIPS 180-4 6.2.2) ---------------------------------------- */

static uint32_t rotr32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint32_t big_sigma0(uint32_t x)
{
	return rotr32(x, 2) ^ rotr32(x, 13) ^ rotr32(x, 22);
}

static uint32_t big_sigma1(uint32_t x)
{
	return rotr32(x, 6) ^ rotr32(x, 11) ^ rotr32(x, 25);
}

static uint32_t small_sigma0(uint32_t x)
{
	return rotr32(x, 7) ^ rotr32(x, 18) ^ (x >> 3);
}

static uint32_t small_sigma1(uint32_t x)
{
	return rotr32(x, 17) ^ rotr32(x, 19) ^ (x >> 10);
}

static uint32_t choose(uint32_t x, uint32_t y, uint32_t z)
{
	return z ^ (x & (y ^ z));
}

static uint32_t majority(uint32_t x, uint32_t y, uint32_t z)
{
	return (x & y) | (z & (x | y));
}

static void sha256_block_portable(uint32_t state[8],
				  const unsigned char block[SHA256_BLOCK_BYTES])
{
	uint32_t w[64];
	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
	unsigned int t;

	for (t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);
	for (t = 16; t < 64; t++)
		w[t] = small_sigma1(w[t - 2]) + w[t - 7] +
		       small_sigma0(w[t - 15]) + w[t - 16];

	for (t = 0; t < 64; t++) {
		uint32_t t1 = h + big_sigma1(e) + choose(e, f, g) + sha256_k[t] + w[t];
		uint32_t t2 = big_sigma0(a) + majority(a, b, c);

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}

	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	state[5] += f;
	state[6] += g;
	state[7] += h;
	/* The schedule is the message (a key, in HMAC) in memory, as mbedTLS
	 * wipes its own; the working variables live in registers. */
	mbedtls_platform_zeroize(w, sizeof(w));
}

/* ---- the x86 SHA extensions ------------------------------------------------ */

#if defined(__x86_64__) || defined(__i386__)

#include <cpuid.h>
#include <immintrin.h>

#define SHA_EXT_TARGET	__attribute__((target("sha,sse4.1,ssse3")))

/* cpuid leaf 1 ECX and leaf 7 (subleaf 0) EBX bits. */
#define CPUID_1_ECX_SSSE3	(1u << 9)
#define CPUID_1_ECX_SSE4_1	(1u << 19)
#define CPUID_7_EBX_SHA		(1u << 29)

/* -1 not asked yet, 0 no, 1 yes; atomics only because threads (the
 * broker's event loops) may race to fill it in with the same answer. */
static int cpu_has_sha_ext = -1;
static int portable_forced;

static int cpu_sha_ext_probe(void)
{
	unsigned int eax, ebx, ecx, edx;
	unsigned int sse;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return 0;
	sse = ecx;
	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return 0;
	return (sse & CPUID_1_ECX_SSSE3) && (sse & CPUID_1_ECX_SSE4_1) &&
	       (ebx & CPUID_7_EBX_SHA);
}

static int sha256_use_sha_ext(void)
{
	int have = __atomic_load_n(&cpu_has_sha_ext, __ATOMIC_RELAXED);

	if (have < 0) {
		have = cpu_sha_ext_probe();
		__atomic_store_n(&cpu_has_sha_ext, have, __ATOMIC_RELAXED);
	}
	return have && !__atomic_load_n(&portable_forced, __ATOMIC_RELAXED);
}

/* Four message words, big-endian in the block, as lanes 0..3. */
SHA_EXT_TARGET static inline __m128i load_words(const unsigned char *p)
{
	const __m128i bswap32 = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11,
					     4, 5, 6, 7, 0, 1, 2, 3);

	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap32);
}

/*
 * W[t..t+3] from W[t-16..t-1] (w0 the oldest four): sha256msg1 adds
 * sigma0 of the next word to each of w0; W[t-7..t-4] straddles w2 and w3;
 * sha256msg2 adds sigma1 of W[t-2], W[t-1] and of the words it makes.
 */
SHA_EXT_TARGET static inline __m128i next_words(__m128i w0, __m128i w1,
						__m128i w2, __m128i w3)
{
	__m128i sum = _mm_sha256msg1_epu32(w0, w1);

	sum = _mm_add_epi32(sum, _mm_alignr_epi8(w3, w2, 4));
	return _mm_sha256msg2_epu32(sum, w3);
}

/*
 * Rounds 4*group .. 4*group+3. sha256rnds2 does two rounds with the low two
 * lanes of its third operand and returns the new A, B, E, F; the old ones
 * are then C, D, G, H.
 */
SHA_EXT_TARGET static inline void rounds4(__m128i *abef, __m128i *cdgh,
					  __m128i words, unsigned int group)
{
	__m128i wk = _mm_add_epi32(words,
			_mm_load_si128((const __m128i *)&sha256_k[4 * group]));
	__m128i mid = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
	__m128i end = _mm_sha256rnds2_epu32(*abef, mid, _mm_shuffle_epi32(wk, 0x0e));

	*cdgh = mid;
	*abef = end;
}

SHA_EXT_TARGET static void sha256_block_sha_ext(uint32_t state[8],
			const unsigned char block[SHA256_BLOCK_BYTES])
{
	/* The instructions hold the state as (A, B, E, F) and (C, D, G, H),
	 * A and C in the highest lane; _mm_set_epi32 lists lanes 3..0. */
	__m128i abef = _mm_set_epi32((int)state[0], (int)state[1],
				     (int)state[4], (int)state[5]);
	__m128i cdgh = _mm_set_epi32((int)state[2], (int)state[3],
				     (int)state[6], (int)state[7]);
	const __m128i abef_in = abef, cdgh_in = cdgh;
	__m128i w0, w1, w2, w3, next;
	unsigned int group;

	w0 = load_words(block);
	rounds4(&abef, &cdgh, w0, 0);
	w1 = load_words(block + 16);
	rounds4(&abef, &cdgh, w1, 1);
	w2 = load_words(block + 32);
	rounds4(&abef, &cdgh, w2, 2);
	w3 = load_words(block + 48);
	rounds4(&abef, &cdgh, w3, 3);
	for (group = 4; group < 16; group++) {
		next = next_words(w0, w1, w2, w3);
		w0 = w1;
		w1 = w2;
		w2 = w3;
		w3 = next;
		rounds4(&abef, &cdgh, w3, group);
	}

	abef = _mm_add_epi32(abef, abef_in);
	cdgh = _mm_add_epi32(cdgh, cdgh_in);
	state[0] = (uint32_t)_mm_extract_epi32(abef, 3);
	state[1] = (uint32_t)_mm_extract_epi32(abef, 2);
	state[4] = (uint32_t)_mm_extract_epi32(abef, 1);
	state[5] = (uint32_t)_mm_extract_epi32(abef, 0);
	state[2] = (uint32_t)_mm_extract_epi32(cdgh, 3);
	state[3] = (uint32_t)_mm_extract_epi32(cdgh, 2);
	state[6] = (uint32_t)_mm_extract_epi32(cdgh, 1);
	state[7] = (uint32_t)_mm_extract_epi32(cdgh, 0);
}

int mbedtls_sha256_x86_force_portable(int on)
{
	__atomic_store_n(&portable_forced, on != 0, __ATOMIC_RELAXED);
	return sha256_use_sha_ext();
}

int mbedtls_internal_sha256_process(mbedtls_sha256_context *ctx,
				    const unsigned char data[SHA256_BLOCK_BYTES])
{
	if (sha256_use_sha_ext())
		sha256_block_sha_ext(ctx->MBEDTLS_PRIVATE(state), data);
	else
		sha256_block_portable(ctx->MBEDTLS_PRIVATE(state), data);
	return 0;
}

#else /* not x86: portable C only */

int mbedtls_sha256_x86_force_portable(int on)
{
	(void)on;
	return 0;
}

int mbedtls_internal_sha256_process(mbedtls_sha256_context *ctx,
				    const unsigned char data[SHA256_BLOCK_BYTES])
{
	sha256_block_portable(ctx->MBEDTLS_PRIVATE(state), data);
	return 0;
}

#endif
