// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snp/err.h"
#include "tests/harness.h"

/* Set by the linker around everything TEST() put in the section. */
extern const struct test_case *__start_snp_tests[];
extern const struct test_case *__stop_snp_tests[];

enum { TEST_TIME_LIMIT_S = 120 };
/* A child that exits with this status skipped its test. */
enum { TEST_EXIT_SKIP = 77 };

static char tmpdir[PATH_MAX];
static int failures;

int test_check(int ok, const char *file, int line, const char *expr)
{
	if (!ok) {
		fprintf(stderr, "    %s:%d: check failed: %s\n", file, line, expr);
		failures++;
	}
	return ok;
}

static void print_hex(const char *label, const uint8_t *p, size_t len)
{
	fprintf(stderr, "      %s ", label);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%02x", p[i]);
	fputc('\n', stderr);
}

int test_check_mem(const void *got, const void *want, size_t len,
		   const char *file, int line, const char *expr)
{
	if (!test_check(!memcmp(got, want, len), file, line, expr)) {
		print_hex("got: ", got, len);
		print_hex("want:", want, len);
		return 0;
	}
	return 1;
}

int test_check_str(const char *got, const char *want,
		   const char *file, int line, const char *expr)
{
	int ok = got && want && !strcmp(got, want);

	if (!test_check(ok, file, line, expr)) {
		fprintf(stderr, "      got:  %s\n      want: %s\n",
			got ? got : "(null)", want ? want : "(null)");
		return 0;
	}
	return 1;
}

const char *test_tmpdir(void)
{
	return tmpdir;
}

const char *test_path(const char *name)
{
	static char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", tmpdir, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "    test_path: '%s' is too long\n", name);
		exit(1);
	}
	return path;
}

size_t test_unhex(const char *hex, uint8_t *out, size_t out_size)
{
	size_t len;
	int ret = snp_unhex(hex, out, out_size, &len);

	if (ret) {
		fprintf(stderr, "    test_unhex: %s: %s\n", hex, strerror(-ret));
		exit(1);
	}
	return len;
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    skipped: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	exit(failures ? 1 : TEST_EXIT_SKIP);
}

uint8_t *test_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(max + 1);
	size_t n;

	if (!f || !buf) {
		fprintf(stderr, "    test_read_file: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fprintf(stderr, "    test_read_file: %s: unreadable or over %zu bytes\n",
			path, max);
		exit(1);
	}
	fclose(f);
	*len = n;
	return buf;
}

uint8_t *test_read_shared(const char *rel, size_t max, size_t *len)
{
	const char *dir = test_shared_dir();
	char path[PATH_MAX];

	if (!dir)
		test_skip("../shared/testdata is absent, so %s cannot be read", rel);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return test_read_file(path, max, len);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int run_child(const struct test_case *tc)
{
	alarm(TEST_TIME_LIMIT_S);
	tc->fn();
	fflush(NULL);
	return failures ? 1 : 0;
}

/* Returns 1 when the test passed, 2 when it skipped. */
static int run_one(const struct test_case *tc)
{
	const char *base = getenv("TMPDIR");
	int status;
	pid_t pid;

	snprintf(tmpdir, sizeof(tmpdir), "%s/snp-unseal-test.XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "FAIL %s: mkdtemp: %s\n", tc->name, strerror(errno));
		return 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "FAIL %s: fork: %s\n", tc->name, strerror(errno));
		return 0;
	}
	/* exit(), not _exit(): LeakSanitizer checks for leaks at exit. */
	if (pid == 0)
		exit(run_child(tc));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok   %s\n", tc->name);
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_EXIT_SKIP) {
		printf("skip %s\n", tc->name);
		return 2;
	}
	if (WIFSIGNALED(status))
		printf("FAIL %s (%s%s)\n", tc->name, strsignal(WTERMSIG(status)),
		       WTERMSIG(status) == SIGALRM ? ": over the time limit" : "");
	else	/* 1: a check failed; other values: a sanitizer's report above */
		printf("FAIL %s (%s, exit %d)\n", tc->name, tc->file, WEXITSTATUS(status));
	return 0;
}

int main(int argc, char *argv[])
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned int passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (const struct test_case **tc = __start_snp_tests; tc < __stop_snp_tests; tc++) {
		if (filter && !strstr((*tc)->name, filter))
			continue;
		switch (run_one(*tc)) {
		case 1: passed++; break;
		case 2: skipped++; break;
		default: failed++; break;
		}
	}
	if (skipped)
		printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	else
		printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
