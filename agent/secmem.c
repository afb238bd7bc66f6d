// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Locked memory for secrets (agent/secmem.h). Each allocation is a
 * mapping of its own: the advice and the lock apply to whole pages, and
 * no other data shares them, so nothing but the secret is pinned and the
 * secret never lands in the heap where a later realloc could copy it.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/secmem.h"

/*
 * Advice an older kernel may not know (EINVAL: MADV_WIPEONFORK came in
 * 4.14): the mapping is still usable, just less protected.
 */
static int advise(void *addr, size_t len, int advice)
{
	if (!madvise(addr, len, advice) || errno == EINVAL)
		return 0;
	return -errno;
}

int secmem_alloc(struct secmem *m, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t mapped;
	void *p;
	int ret;

	memset(m, 0, sizeof(*m));
	if (!size || page <= 0 || size > SIZE_MAX - (size_t)page)
		return -EINVAL;
	mapped = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	ret = advise(p, mapped, MADV_DONTDUMP);
	if (!ret)
		ret = advise(p, mapped, MADV_WIPEONFORK);
	if (ret)
		goto fail;
	m->buf = p;
	m->size = size;
	m->mapped = mapped;
	/* Without CAP_IPC_LOCK or over RLIMIT_MEMLOCK: usable, but swappable. */
	m->locked = !mlock(p, mapped);
	return 0;

fail:
	munmap(p, mapped);
	return ret;
}

void secmem_free(struct secmem *m)
{
	if (m->buf) {
		explicit_bzero(m->buf, m->mapped);
		if (m->locked)
			munlock(m->buf, m->mapped);
		munmap(m->buf, m->mapped);
	}
	memset(m, 0, sizeof(*m));
}

int secmem_harden_process(void)
{
	const struct rlimit no_core = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	/* Non-dumpable already means no core; this also covers a setuid reset. */
	if (setrlimit(RLIMIT_CORE, &no_core))
		return -errno;
	return 0;
}
