// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory for secrets (agent/secmem.h): a mapping of its own with the
 * advice the kernel reports in /proc/self/smaps (dd: not in core dumps,
 * wf: wiped in a forked child, lo: locked), a child really seeing zeros,
 * the memory wiped before it is unmapped (caught at the munmap system
 * call with a seccomp trap, while the pages still exist), bad sizes
 * refused, and secmem_harden_process making a process non-dumpable.
 */
#define _GNU_SOURCE	/* REG_RAX */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "agent/secmem.h"
#include "tests/harness.h"

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* A child's exit status, or -1 when it did not exit normally. */
static int wait_child(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(secmem_alloc_and_free)
{
	struct secmem m, zeroed = { 0 };

	REQUIRE(secmem_alloc(&m, 100) == 0);
	REQUIRE(m.buf != NULL);
	CHECK(m.size == 100);
	CHECK(m.mapped == page_size());
	CHECK((uintptr_t)m.buf % page_size() == 0);
	CHECK(all_zero(m.buf, m.mapped));
	memset(m.buf, 0xa5, m.mapped);
	secmem_free(&m);
	CHECK(!memcmp(&m, &zeroed, sizeof(m)));
	/* Again, and on a struct that never held memory: nothing happens. */
	secmem_free(&m);
	CHECK(!memcmp(&m, &zeroed, sizeof(m)));

	REQUIRE(secmem_alloc(&m, page_size() + 1) == 0);
	CHECK(m.mapped == 2 * page_size());
	secmem_free(&m);
}

TEST(secmem_bad_sizes_refused)
{
	struct secmem m, zeroed = { 0 };

	memset(&m, 0x5a, sizeof(m));
	CHECK(secmem_alloc(&m, 0) == -EINVAL);
	CHECK(!memcmp(&m, &zeroed, sizeof(m)));
	/* Rounding up to pages would wrap. */
	CHECK(secmem_alloc(&m, SIZE_MAX) == -EINVAL);
	CHECK(secmem_alloc(&m, SIZE_MAX - page_size() + 2) == -EINVAL);
	CHECK(!memcmp(&m, &zeroed, sizeof(m)));
	/* More than any address space holds. */
	CHECK(secmem_alloc(&m, SIZE_MAX / 2) == -ENOMEM);
	CHECK(!memcmp(&m, &zeroed, sizeof(m)));
	secmem_free(&m);
}

/* The VmFlags of the smaps entry holding addr, into flags ("" when none). */
static void vm_flags(const void *addr, char *flags, size_t size)
{
	size_t len;
	char *smaps = (char *)test_read_file("/proc/self/smaps", 1 << 24, &len), *line, *save;
	int in_entry = 0;

	smaps[len] = '\0';
	flags[0] = '\0';
	for (line = strtok_r(smaps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in_entry = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in_entry && !strncmp(line, "VmFlags:", 8))
			snprintf(flags, size, "%s ", line + 8);	/* each flag is " xx " */
	}
	free(smaps);
}

TEST(secmem_advice_in_smaps)
{
	struct secmem m;
	char flags[512];

	REQUIRE(secmem_alloc(&m, 64) == 0);
	vm_flags(m.buf, flags, sizeof(flags));
	REQUIRE(flags[0]);
	CHECK(strstr(flags, " dd ") != NULL);
	CHECK(strstr(flags, " wf ") != NULL);
#ifndef __SANITIZE_ADDRESS__
	/*
	 * Locked exactly when secmem says so (mlock may fail without
	 * CAP_IPC_LOCK). ASan's mlock does nothing and returns 0.
	 */
	CHECK(!!strstr(flags, " lo ") == !!m.locked);
#endif
	/* The check can fail: a plain mapping has none of them. */
	{
		void *plain = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		REQUIRE(plain != MAP_FAILED);
		vm_flags(plain, flags, sizeof(flags));
		CHECK(flags[0] && !strstr(flags, " dd ") && !strstr(flags, " wf "));
		munmap(plain, page_size());
	}
	secmem_free(&m);
}

TEST(secmem_forked_child_sees_zeros)
{
	struct secmem m;
	pid_t pid;

	REQUIRE(secmem_alloc(&m, 32) == 0);
	memset(m.buf, 0xa5, m.size);
	pid = fork();
	if (pid == 0)
		_exit(all_zero(m.buf, m.mapped) ? 0 : 1);
	CHECK(wait_child(pid) == 0);
	/* The parent keeps its secret. */
	CHECK(m.buf[0] == 0xa5 && m.buf[31] == 0xa5);
	secmem_free(&m);
}

#if defined(__x86_64__)
/*
 * A seccomp filter traps munmap of one address: the handler looks at the
 * pages (still mapped, since the call has not run) and makes the call
 * return 0 without running it. The child exits soon after, so the
 * mapping that stays behind does not matter.
 */
static const uint8_t *watched;
static size_t watched_len;
static volatile sig_atomic_t munmaps_seen, munmap_saw_zeros;

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	(void)si;
	munmaps_seen++;
	munmap_saw_zeros = all_zero(watched, watched_len);
	uc->uc_mcontext.gregs[REG_RAX] = 0;
}

static int trap_munmap_of(const void *addr)
{
	uint64_t a = (uintptr_t)addr;
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munmap, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(a >> 32), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* 0: wiped before munmap; 1-4 say what went wrong; 9: no seccomp here. */
static int free_under_watch(void)
{
	struct secmem m;

	if (secmem_alloc(&m, 48))
		return 1;
	memset(m.buf, 0xa5, m.size);
	watched = m.buf;
	watched_len = m.mapped;
	if (trap_munmap_of(m.buf))
		return 9;
	/* First a control: munmap of the secret as it is, caught and not wiped. */
	if (munmap(m.buf, m.mapped) || munmaps_seen != 1 || munmap_saw_zeros)
		return 2;
	munmaps_seen = 0;
	secmem_free(&m);
	if (munmaps_seen != 1)
		return 3;
	return munmap_saw_zeros ? 0 : 4;
}

TEST(secmem_wiped_before_unmap)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(free_under_watch());
	status = wait_child(pid);
	if (status == 9)
		test_skip("no seccomp filters here");
	CHECK(status == 0);
}
#endif

TEST(secmem_harden_makes_non_dumpable)
{
	int before = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	pid_t pid;

	/* In a child, so that this process stays as it was. */
	pid = fork();
	if (pid == 0) {
		struct rlimit core;

		if (secmem_harden_process())
			_exit(1);
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(2);
		if (getrlimit(RLIMIT_CORE, &core) || core.rlim_cur || core.rlim_max)
			_exit(3);
		_exit(0);
	}
	CHECK(wait_child(pid) == 0);
	CHECK(before == 1);
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == before);
}
