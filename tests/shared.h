/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_TESTS_SHARED_H
#define SNP_UNSEAL_TESTS_SHARED_H

#include <stddef.h>
#include <stdint.h>

/*
 * The directory of the shared real-world test data (../shared/testdata
 * next to the checkout, or $SNP_SHARED_TESTDATA), or NULL when absent.
 * For the unit tests and the benchmarks alike.
 */
const char *test_shared_dir(void);

/* A fixed xorshift64 stream from seed: the same "random" bytes on every run. */
void test_fill_pseudo_random(uint8_t *buf, size_t len, uint64_t seed);
/* CLOCK_MONOTONIC in seconds, for the benchmarks' timings. */
double test_now_s(void);

#endif
