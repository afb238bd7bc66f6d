// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The test build's scan of its own memory for secrets (agent/memscan.h).
 *
 * Everything the scan holds that could match (the decoded needles, the
 * buffer that memory is read into, the text of /proc/self/maps) is in
 * one private mapping of its own, and that address range is cut out of
 * every mapping the scan reads. Cutting by address, not by maps line,
 * matters: the kernel merges adjacent anonymous mappings with the same
 * flags, so our mapping may share a line with someone else's memory,
 * and that memory must still be read. Memory is only ever copied into
 * the excluded range (the kernel's copy for pread lives in kernel pages),
 * so reading cannot create the copies it looks for.
 *
 * Test-only knobs, for proving the scanner can fail:
 *   SNP_UNSEAL_MEMSCAN_PLANT=1        copy needle 0 into a heap buffer first
 *   SNP_UNSEAL_MEMSCAN_PLANT=straddle copy it across a page boundary of a
 *                                     mapping of two pages
 *   SNP_UNSEAL_MEMSCAN_CHUNK=BYTES    read BYTES at a time (default 64 KiB):
 *                                     with the page size and "straddle",
 *                                     the copy crosses a chunk boundary
 *
 * A needle that is all ASCII hex digits could match its own hex in the
 * environment; real needles (random secrets) do not.
 *
 * Returns the number of needles found, or a negative errno when the
 * needle list is malformed or memory could not be scanned at all (the
 * "clean" line is then never printed).
 */
#include "agent/memscan.h"

#ifndef SNP_UNSEAL_MEMSCAN

int memscan_at_exit(void)
{
	return 0;
}

#else

#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "snp/err.h"

#define MEMSCAN_NEEDLES_MAX	16
#define MEMSCAN_NEEDLE_MIN	8
#define MEMSCAN_NEEDLE_MAX	128
#define MEMSCAN_CHUNK_MIN	256
#define MEMSCAN_CHUNK_DEFAULT	(64 * 1024)
#define MEMSCAN_CHUNK_MAX	(1024 * 1024)
#define MEMSCAN_MAPS_MAX	(256 * 1024)	/* a static agent has a few dozen lines */
#define MEMSCAN_ENV_NEEDLES	"SNP_UNSEAL_MEMSCAN_NEEDLES"

struct memscan_needle {
	size_t len;
	uint8_t bytes[MEMSCAN_NEEDLE_MAX];
};

/* The range being read: one maps line, less our own mapping. */
struct memscan_range {
	uintptr_t lo, hi;
	const char *path;	/* the maps line's path, or "[anon]" */
	uintptr_t map_lo, map_hi;	/* the whole maps line */
};

/* All of it in one private mapping that the scan leaves out. */
struct memscan {
	struct memscan_needle needle[MEMSCAN_NEEDLES_MAX];
	size_t n_needles;
	size_t longest;
	bool found[MEMSCAN_NEEDLES_MAX];	/* anywhere */
	bool here[MEMSCAN_NEEDLES_MAX];		/* in the current maps line */
	size_t chunk_size;
	size_t carry;		/* bytes at buf's start kept from the last read */
	uintptr_t carry_end;	/* the address just after them */
	uint64_t bytes;
	size_t mappings, unreadable;
	int mem_fd;
	char hex[2 * MEMSCAN_NEEDLE_MAX + 1];
	char maps[MEMSCAN_MAPS_MAX];
	uint8_t buf[MEMSCAN_NEEDLE_MAX + MEMSCAN_CHUNK_MAX];
};

/*
 * A line on stderr, formatted on the stack and written at once: dprintf
 * may allocate, and the heap must not change under the scan.
 */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	line[n - 1] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/*
 * One needle's hex (len characters) decoded straight into n. The hex is
 * copied into the excluded mapping for snp_unhex; hex never matches.
 */
static int parse_needle(struct memscan *s, struct memscan_needle *n, const char *hex,
			size_t len, struct snp_err *err)
{
	int ret;

	if (len > 2 * MEMSCAN_NEEDLE_MAX)
		return snp_errf(err, -EINVAL, "more than %d bytes", MEMSCAN_NEEDLE_MAX);
	memcpy(s->hex, hex, len);
	s->hex[len] = '\0';
	ret = snp_unhex(s->hex, n->bytes, sizeof(n->bytes), &n->len);
	if (ret)
		return snp_errf(err, -EINVAL, "not hex (an even number of digits 0-9, a-f)");
	if (n->len < MEMSCAN_NEEDLE_MIN)
		return snp_errf(err, -EINVAL, "%zu bytes, fewer than %d", n->len,
				MEMSCAN_NEEDLE_MIN);
	return 0;
}

static int parse_needles(struct memscan *s, const char *list, struct snp_err *err)
{
	struct snp_err why = { 0 };
	const char *p = list;
	int ret;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (s->n_needles == MEMSCAN_NEEDLES_MAX)
			return snp_errf(err, -EINVAL, "more than %d needles", MEMSCAN_NEEDLES_MAX);
		ret = parse_needle(s, &s->needle[s->n_needles], p, len, &why);
		if (ret)
			return snp_errf(err, ret, "needle %zu: %s", s->n_needles, why.msg);
		if (s->needle[s->n_needles].len > s->longest)
			s->longest = s->needle[s->n_needles].len;
		s->n_needles++;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int parse_chunk_size(struct memscan *s, struct snp_err *err)
{
	const char *text = getenv("SNP_UNSEAL_MEMSCAN_CHUNK");
	unsigned long long v;
	char *end;

	s->chunk_size = MEMSCAN_CHUNK_DEFAULT;
	if (!text)
		return 0;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || v < MEMSCAN_CHUNK_MIN || v > MEMSCAN_CHUNK_MAX)
		return snp_errf(err, -EINVAL, "SNP_UNSEAL_MEMSCAN_CHUNK: not %d to %d bytes",
				MEMSCAN_CHUNK_MIN, MEMSCAN_CHUNK_MAX);
	s->chunk_size = (size_t)v;
	return 0;
}

/*
 * The agent made itself non-dumpable, so /proc/self/mem belongs to root
 * now; a test run without root opens it dumpable for a moment.
 */
static int open_self_mem(void)
{
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	int dumpable, saved;

	if (fd >= 0 || errno != EACCES)
		return fd >= 0 ? fd : -errno;
	dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (dumpable != 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -EACCES;
	fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	saved = errno;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return fd >= 0 ? fd : -saved;
}

/* All of /proc/self/maps, NUL-terminated, before anything is read. */
static int read_maps(struct memscan *s, struct snp_err *err)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	int ret = 0;

	if (fd < 0)
		return snp_errf(err, -errno, "/proc/self/maps: %s", strerror(errno));
	while (len < sizeof(s->maps) - 1) {
		ssize_t n = read(fd, s->maps + len, sizeof(s->maps) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = snp_errf(err, -errno, "/proc/self/maps: %s", strerror(errno));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!ret && len == sizeof(s->maps) - 1)
		ret = snp_errf(err, -EFBIG, "/proc/self/maps: more than %d bytes",
			       MEMSCAN_MAPS_MAX - 1);
	s->maps[len] = '\0';
	close(fd);
	return ret;
}

/*
 * Each needle whose last byte is among the new bytes after buf's first
 * s->carry (earlier ones were seen with the last read), at most once per
 * maps line.
 */
static void search(struct memscan *s, const struct memscan_range *r, size_t total)
{
	uintptr_t buf_addr = s->carry_end - total;

	for (size_t i = 0; i < s->n_needles; i++) {
		const struct memscan_needle *n = &s->needle[i];
		size_t from = s->carry + 1 > n->len ? s->carry + 1 - n->len : 0;
		const uint8_t *hit;

		if (s->here[i] || total < n->len || from > total - n->len)
			continue;
		hit = memmem(s->buf + from, total - from, n->bytes, n->len);
		if (!hit)
			continue;
		s->here[i] = true;
		s->found[i] = true;
		say("memscan: FOUND %zu in %s %" PRIxPTR "-%" PRIxPTR
			" (at %" PRIxPTR ")\n", i, r->path, r->map_lo, r->map_hi,
			buf_addr + (uintptr_t)(hit - s->buf));
	}
}

/*
 * Read [r->lo, r->hi) chunk by chunk. The last longest - 1 bytes of each
 * read stay at the start of buf, so that a needle across a chunk
 * boundary (or across two adjacent maps lines) is still whole in buf.
 */
static int scan_range(struct memscan *s, const struct memscan_range *r)
{
	uintptr_t pos = r->lo;

	if (r->lo != s->carry_end)
		s->carry = 0;
	while (pos < r->hi) {
		size_t want = r->hi - pos < s->chunk_size ? r->hi - pos : s->chunk_size;
		ssize_t n = pread(s->mem_fd, s->buf + s->carry, want, (off_t)pos);
		size_t total, keep;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		pos += (uintptr_t)n;
		s->bytes += (uint64_t)n;
		total = s->carry + (size_t)n;
		s->carry_end = pos;
		search(s, r, total);	/* with s->carry still the old bytes' count */
		keep = s->longest - 1 < total ? s->longest - 1 : total;
		memmove(s->buf, s->buf + total - keep, keep);
		s->carry = keep;
	}
	return 0;
}

/* Our mapping's length: whole pages, all of them left out of the scan. */
static size_t memscan_mapped(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct memscan) + page - 1) / page * page;
}

/* What to skip: not readable, or the kernel's pages that reading faults on. */
static bool skipped(const char *perms, const char *path)
{
	return perms[0] != 'r' || !strncmp(path, "[vvar", 5) || !strcmp(path, "[vsyscall]");
}

/* One maps line: its parts outside our own mapping. */
static void scan_mapping(struct memscan *s, char *line)
{
	uintptr_t self_lo = (uintptr_t)s, self_hi = self_lo + memscan_mapped();
	struct memscan_range parts[2];
	unsigned long lo, hi;
	char perms[5];
	int path_at = 0, ret = 0;
	size_t n = 0;

	if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &lo, &hi, perms, &path_at) != 3 ||
	    !path_at || lo >= hi || hi > (unsigned long)INT64_MAX)
		return;
	if (skipped(perms, line + path_at))
		return;
	parts[0] = (struct memscan_range){ lo, hi, line[path_at] ? line + path_at : "[anon]",
					   lo, hi };
	parts[1] = parts[0];
	if (lo < self_lo)
		parts[n++].hi = hi < self_lo ? hi : self_lo;
	if (hi > self_hi)
		parts[n++].lo = lo > self_hi ? lo : self_hi;
	memset(s->here, 0, sizeof(s->here));
	for (size_t i = 0; i < n && !ret; i++)
		ret = scan_range(s, &parts[i]);
	if (ret) {
		s->unreadable++;
		say("memscan: cannot read %s %lx-%lx: %s\n", parts[0].path,
			lo, hi, strerror(-ret));
	} else if (n) {
		s->mappings++;
	}
}

static void scan_all(struct memscan *s)
{
	char *line = s->maps, *end;

	for (; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line) - 1;
		else
			*end = '\0';
		scan_mapping(s, line);
	}
}

/* SNP_UNSEAL_MEMSCAN_PLANT: a copy of needle 0 for the scan to find. */
struct memscan_plant {
	uint8_t *at;		/* where the copy is */
	void *map;		/* "straddle": the mapping holding it */
	size_t map_len;
};

static int plant(const struct memscan *s, struct memscan_plant *p, struct snp_err *err)
{
	const char *how = getenv("SNP_UNSEAL_MEMSCAN_PLANT");
	const struct memscan_needle *n = &s->needle[0];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	memset(p, 0, sizeof(*p));
	if (!how || !strcmp(how, "0"))
		return 0;
	if (!strcmp(how, "1")) {
		p->at = malloc(n->len);
	} else if (!strcmp(how, "straddle")) {
		p->map_len = 2 * page;
		p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p->map == MAP_FAILED)
			p->map = NULL;
		else
			p->at = (uint8_t *)p->map + page - n->len / 2;
	} else {
		return snp_errf(err, -EINVAL, "SNP_UNSEAL_MEMSCAN_PLANT: not 0, 1 or straddle");
	}
	if (!p->at)
		return snp_errf(err, -ENOMEM, "SNP_UNSEAL_MEMSCAN_PLANT: out of memory");
	memcpy(p->at, n->bytes, n->len);
	/* The copy must really be in memory: it is never read again in C's eyes. */
	__asm__ volatile("" : : "r"(p->at) : "memory");
	say("memscan: planted needle 0 at %" PRIxPTR "\n", (uintptr_t)p->at);
	return 0;
}

static void unplant(const struct memscan *s, struct memscan_plant *p)
{
	if (p->at)
		explicit_bzero(p->at, s->needle[0].len);
	if (p->map)
		munmap(p->map, p->map_len);
	else
		free(p->at);
	memset(p, 0, sizeof(*p));
}

static int count_found(const struct memscan *s)
{
	int found = 0;

	for (size_t i = 0; i < s->n_needles; i++)
		found += s->found[i];
	return found;
}

/* Needles parsed: plant, read, scan. The number found or -errno. */
static int scan(struct memscan *s, struct snp_err *err)
{
	struct memscan_plant p = { 0 };
	int ret;

	ret = parse_chunk_size(s, err);
	if (!ret)
		ret = plant(s, &p, err);
	if (!ret) {
		s->mem_fd = open_self_mem();
		if (s->mem_fd < 0)
			ret = snp_errf(err, s->mem_fd, "/proc/self/mem: %s", strerror(-s->mem_fd));
	}
	if (!ret)
		ret = read_maps(s, err);
	if (!ret) {
		scan_all(s);
		ret = count_found(s);
	}
	if (!ret && !s->unreadable)
		say("memscan: clean (%" PRIu64 " bytes in %zu mappings)\n",
			s->bytes, s->mappings);
	else if (!ret)	/* each one was named above */
		say("memscan: clean (%" PRIu64 " bytes in %zu mappings, "
			"%zu unreadable)\n", s->bytes, s->mappings, s->unreadable);
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	unplant(s, &p);
	return ret;
}

int memscan_at_exit(void)
{
	const char *list = getenv(MEMSCAN_ENV_NEEDLES);
	struct snp_err err = { 0 }, why = { 0 };
	struct memscan *s;
	int ret;

	if (!list)
		return 0;
	s = mmap(NULL, memscan_mapped(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (s == MAP_FAILED) {
		say("memscan: error: %s\n", strerror(errno));
		return -ENOMEM;
	}
	s->mem_fd = -1;
	ret = parse_needles(s, list, &why);
	if (ret)
		snp_errf(&err, ret, MEMSCAN_ENV_NEEDLES ": %.200s", why.msg);
	else
		ret = scan(s, &err);
	if (ret < 0)
		say("memscan: error: %s\n", err.msg);
	explicit_bzero(s, sizeof(*s));
	munmap(s, memscan_mapped());
	return ret;
}

#endif
