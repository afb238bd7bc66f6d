/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_TESTS_HARNESS_H
#define SNP_UNSEAL_TESTS_HARNESS_H

/*
 * A small test runner. Each TEST() runs in its own child process with a
 * time limit and a fresh temporary directory, so a crash or a hang fails
 * that test alone. The run ends with the line "N passed, N failed".
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/shared.h"

struct test_case {
	const char *name;
	void (*fn)(void);
	const char *file;
};

#define TEST(name)							\
	static void name(void);						\
	static const struct test_case test_case_##name = {		\
		#name, name, __FILE__ };				\
	static const struct test_case *test_ptr_##name			\
		__attribute__((used, section("snp_tests"))) =		\
		&test_case_##name;					\
	static void name(void)

/* Record a failure and go on with the test. */
#define CHECK(cond) \
	test_check(!!(cond), __FILE__, __LINE__, #cond)
/* Record a failure and end the test (when going on makes no sense). */
#define REQUIRE(cond) \
	do { if (!test_check(!!(cond), __FILE__, __LINE__, #cond)) return; } while (0)
/* Compare two byte strings and show both in hex when they differ. */
#define CHECK_MEM(got, want, len) \
	test_check_mem((got), (want), (len), __FILE__, __LINE__, #got)
#define CHECK_STR(got, want) \
	test_check_str((got), (want), __FILE__, __LINE__, #got)

int test_check(int ok, const char *file, int line, const char *expr);
int test_check_mem(const void *got, const void *want, size_t len,
		   const char *file, int line, const char *expr);
int test_check_str(const char *got, const char *want,
		   const char *file, int line, const char *expr);

/* The running test's own temporary directory, removed after it ends. */
const char *test_tmpdir(void);
/* test_tmpdir()/name in a static buffer (valid until the next call). */
const char *test_path(const char *name);
/* End the test as skipped, saying why (it counts as neither pass nor fail). */
void test_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Read a whole file (at most max bytes) into a malloc'd buffer; exits on error. */
uint8_t *test_read_file(const char *path, size_t max, size_t *len);
/* Like test_read_file, for a path under test_shared_dir(); skips when absent. */
uint8_t *test_read_shared(const char *rel, size_t max, size_t *len);

/* Decode a hex string into out; returns its length in bytes (exits on bad hex). */
size_t test_unhex(const char *hex, uint8_t *out, size_t out_size);

#endif
