/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_LOG_H
#define SNP_UNSEAL_AGENT_LOG_H

/*
 * The agent's log: one line per step, to /dev/kmsg with a syslog priority
 * (so the console shows errors and the journal keeps all of it once
 * systemd runs) and to stderr. Secrets never reach here: callers log
 * what happened, never key material. Control characters and bytes
 * outside printable ASCII in a message become '?'; a line is cut at
 * AGENT_LOG_LINE_MAX.
 *
 * kmsg lines are "<PRI>snp-unseal[PID]: MESSAGE" with facility
 * LOG_DAEMON; stderr lines are "snp-unseal: LEVEL: MESSAGE" for
 * warnings and worse, "snp-unseal: MESSAGE" otherwise.
 */
#include <stdarg.h>
#include <syslog.h>

#define AGENT_KMSG		"/dev/kmsg"
#define AGENT_LOG_LINE_MAX	900	/* kmsg takes up to 1024 with the prefix */

/*
 * kmsg_path: NULL for AGENT_KMSG, "" for none (or any file: tests).
 * A kmsg that cannot be opened is not an error: stderr still gets every
 * line. level: the most verbose priority logged (LOG_INFO: not debug).
 */
void agent_log_open(const char *kmsg_path, int level);
void agent_log_set_level(int level);
void agent_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void agent_vlog(int priority, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void agent_log_close(void);

/* "err", "warning", "notice", "info", "debug" to LOG_*; -1 for others. */
int agent_log_level_from_name(const char *name);

#endif
