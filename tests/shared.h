/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_TESTS_SHARED_H
#define SNP_UNSEAL_TESTS_SHARED_H

/*
 * The directory of the shared real-world test data (../shared/testdata
 * next to the checkout, or $SNP_SHARED_TESTDATA), or NULL when absent.
 * For the unit tests and the benchmarks alike.
 */
const char *test_shared_dir(void);

#endif
