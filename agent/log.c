// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's log (agent/log.h). A line is formatted into a stack buffer
 * (no allocation: the log must work when memory is short and must not
 * leave heap copies behind) and written with one write(2) per
 * destination, so kmsg gets whole records and lines never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"

static const char cut_marker[] = "...";

static int kmsg_fd = -1;
static int kmsg_failed;		/* a write failed once: kmsg is not tried again */
static int log_level = LOG_INFO;

void agent_log_open(const char *kmsg_path, int level)
{
	int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;

	agent_log_close();
	log_level = level;
	if (!kmsg_path)
		kmsg_path = AGENT_KMSG;
	if (!kmsg_path[0])
		return;
	/*
	 * O_APPEND and O_CREAT are for a file given instead (tests, --kmsg
	 * FILE); /dev/kmsg ignores the one and is never created: a regular
	 * file there, before devtmpfs is mounted, would swallow the log.
	 */
	if (strcmp(kmsg_path, AGENT_KMSG))
		flags |= O_CREAT;
	kmsg_fd = open(kmsg_path, flags, 0600);
}

void agent_log_set_level(int level)
{
	log_level = level;
}

void agent_log_close(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
	kmsg_failed = 0;
}

/* All of buf, retrying on EINTR and short writes; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The message into msg (AGENT_LOG_LINE_MAX + 1 bytes): cut with the
 * marker when longer, bytes outside printable ASCII made '?' so that a
 * hostile value (a peer's refusal reason) cannot forge lines or drive
 * the console with escape sequences.
 */
static void format_message(char *msg, const char *fmt, va_list ap)
{
	size_t max = AGENT_LOG_LINE_MAX, len, i;
	int n = vsnprintf(msg, max + 1, fmt, ap);

	if (n < 0) {
		snprintf(msg, max + 1, "(unformattable log message \"%s\")", fmt);
		n = (int)strlen(msg);
	}
	len = (size_t)n;
	if (len > max) {
		memcpy(msg + max - (sizeof(cut_marker) - 1), cut_marker, sizeof(cut_marker));
		len = max;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c < 0x20 || c >= 0x7f)
			msg[i] = '?';
	}
}

static const char *stderr_prefix(int priority)
{
	if (priority <= LOG_ERR)
		return "error: ";
	if (priority == LOG_WARNING)
		return "warning: ";
	return "";
}

static void write_kmsg(int priority, const char *msg)
{
	char line[AGENT_LOG_LINE_MAX + 64];
	int n;

	if (kmsg_fd < 0 || kmsg_failed)
		return;
	n = snprintf(line, sizeof(line), "<%d>snp-unseal[%d]: %s\n", LOG_DAEMON | priority,
		     (int)getpid(), msg);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	/* Ignored: stderr still has the line, and retrying each line is pointless. */
	if (write_all(kmsg_fd, line, (size_t)n))
		kmsg_failed = 1;
}

static void write_stderr(int priority, const char *msg)
{
	char line[AGENT_LOG_LINE_MAX + 64];
	int n = snprintf(line, sizeof(line), "snp-unseal: %s%s\n", stderr_prefix(priority), msg);

	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	(void)write_all(STDERR_FILENO, line, (size_t)n);
}

void agent_vlog(int priority, const char *fmt, va_list ap)
{
	char msg[AGENT_LOG_LINE_MAX + 1];
	int saved_errno = errno;

	priority &= LOG_PRIMASK;
	if (priority > log_level)
		return;
	format_message(msg, fmt, ap);
	write_kmsg(priority, msg);
	write_stderr(priority, msg);
	/* Callers may log and then look at errno. */
	errno = saved_errno;
}

void agent_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	agent_vlog(priority, fmt, ap);
	va_end(ap);
}

int agent_log_level_from_name(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "err", LOG_ERR },
		{ "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE },
		{ "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; name && i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(name, levels[i].name))
			return levels[i].level;
	return -1;
}
