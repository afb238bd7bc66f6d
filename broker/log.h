/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_LOG_H
#define SNP_BROKER_LOG_H

/*
 * snp-keybroker's operational log: one line per event on stderr (or the fd
 * given to log_setup), in one of two forms (config's log_format):
 *
 *   text: 2026-11-22T10:00:00Z info msg="connection refused" peer=127.0.0.1:4000 count=3
 *   json: {"time":"2026-11-22T10:00:00Z","level":"info","msg":"connection refused",...}
 *
 * A text value is quoted when it is empty or holds a space, '"', '=' or a
 * byte outside printable ASCII; inside quotes, '"' and '\' are escaped and
 * other bytes outside printable ASCII become \xNN (\uNNNN in JSON), so a
 * peer cannot forge a line. A line longer than LOG_LINE_MAX is cut and
 * ends with "..." (the JSON form stays valid).
 *
 * Thread-safe: every line is formatted on the stack and goes out in one
 * write(2). Events below the level are dropped without being formatted.
 *
 * NEVER log a secret: no disk secret, private key, shared secret, derived
 * key, sealed body or request body goes through here, not even at debug.
 */
#include <stdarg.h>
#include <stdbool.h>

#include "broker/config.h"

#define LOG_LINE_MAX	4096

/* Form, level and destination; before any thread logs. Default: text, info, fd 2. */
void log_setup(enum config_log_format format, enum config_log_level level, int fd);
/* Whether an event of this level would be written (to skip building its values). */
bool log_enabled(enum config_log_level level);

/*
 * One event: a message, then key and value strings in pairs, ended with a
 * NULL key; a NULL value is written as "". Keys are plain words
 * ([a-z0-9_]); values are escaped as above.
 *   log_event(CONFIG_LOG_INFO, "unsealed", "peer", peer, "volume", vol, NULL);
 */
void log_event(enum config_log_level level, const char *msg, ...)
	__attribute__((sentinel));
void log_eventv(enum config_log_level level, const char *msg, va_list ap);

/* A formatted message and no pairs: log_msgf(CONFIG_LOG_WARN, "%u loops", n). */
void log_msgf(enum config_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "error", "warn", "info", "debug". */
const char *log_level_name(enum config_log_level level);

#endif
