/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_LUKS_CRYPT_LOG_H
#define SNP_LUKS_CRYPT_LOG_H

/*
 * libcryptsetup prints its messages to stderr unless given a log
 * callback; luks/ is a library and words its own errors, so it keeps
 * libcryptsetup's last error instead and puts it into the snp_err.
 */
#include <libcryptsetup.h>

#define LUKS_CRYPT_MSG_MAX	160

struct luks_crypt_log {
	char msg[LUKS_CRYPT_MSG_MAX];	/* the last error, "" when none */
};

/* A crypt_set_log_callback callback; usrptr is a struct luks_crypt_log. */
void luks_crypt_log_keep(int level, const char *msg, void *usrptr);

/* Forget the last error (before a call whose failure is to be reported). */
static inline void luks_crypt_log_reset(struct luks_crypt_log *log)
{
	log->msg[0] = '\0';
}

/* libcryptsetup's own words for the failure r, or strerror's. */
const char *luks_crypt_why(const struct luks_crypt_log *log, int r);

/*
 * crypt_init with its messages (it has no device yet to log through) and
 * then the device's kept in log. libcryptsetup's default for messages
 * without a device is back to its own afterwards.
 */
int luks_crypt_init(struct crypt_device **cd, const char *device, struct luks_crypt_log *log);

#endif
