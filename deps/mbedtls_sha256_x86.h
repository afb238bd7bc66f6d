/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_DEPS_MBEDTLS_SHA256_X86_H
#define SNP_UNSEAL_DEPS_MBEDTLS_SHA256_X86_H

/*
 * The SHA-256 compression function our mbedTLS is built with
 * (deps/mbedtls_sha256_x86.c, linked into libmbedcrypto.a by deps/build):
 * the x86 SHA extensions when the CPU has them, portable C otherwise.
 */

/*
 * For tests: on != 0 makes every later SHA-224/SHA-256 block go through the
 * portable C code; 0 gives the choice back to the CPU's feature bits.
 * Returns 1 when the SHA extensions are in use after the call, 0 when the
 * portable code is. Not for concurrent use with hashing in other threads.
 */
int mbedtls_sha256_x86_force_portable(int on);

#endif
