// SPDX-License-Identifier: GPL-2.0-or-later
/* libcryptsetup's messages kept for ours (luks/crypt_log.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "luks/crypt_log.h"

void luks_crypt_log_keep(int level, const char *msg, void *usrptr)
{
	struct luks_crypt_log *log = usrptr;
	size_t len;

	if (level != CRYPT_LOG_ERROR || !msg || !log)
		return;
	snprintf(log->msg, sizeof(log->msg), "%s", msg);
	len = strlen(log->msg);
	/* Ours are clauses inside a sentence: no newline, no full stop. */
	while (len && (log->msg[len - 1] == '\n' || log->msg[len - 1] == '.'))
		log->msg[--len] = '\0';
}

const char *luks_crypt_why(const struct luks_crypt_log *log, int r)
{
	return log->msg[0] ? log->msg : strerror(-r);
}

int luks_crypt_init(struct crypt_device **cd, const char *device, struct luks_crypt_log *log)
{
	struct stat st;
	int r;

	*cd = NULL;
	luks_crypt_log_reset(log);
	crypt_set_log_callback(NULL, luks_crypt_log_keep, log);
	r = crypt_init(cd, device);
	crypt_set_log_callback(NULL, NULL, NULL);
	/* A missing device is -ENOTBLK to libcryptsetup; the caller wants -ENOENT. */
	if (r < 0 && stat(device, &st))
		return -errno;
	if (r < 0)
		return r;
	crypt_set_log_callback(*cd, luks_crypt_log_keep, log);
	return 0;
}
