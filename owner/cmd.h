/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OWNER_CMD_H
#define OWNER_CMD_H

/*
 * snp-owner's commands, and what they share: the exit statuses (0 done,
 * 1 a check failed, 2 bad usage or bad input), one-line errors
 * "snp-owner: ..." on stderr, and the ID block files as QEMU takes them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "owner/idblock.h"
#include "owner/launch.h"
#include "snp/err.h"

enum { OWNER_OK = 0, OWNER_FAILED = 1, OWNER_USAGE = 2 };

int owner_measure_main(int argc, char *argv[]);
int owner_ovmf_hash_main(int argc, char *argv[]);
int owner_id_block_main(int argc, char *argv[]);
int owner_check_id_main(int argc, char *argv[]);
int owner_key_digest_main(int argc, char *argv[]);
int owner_policy_main(int argc, char *argv[]);

/* Print "snp-owner: ..." on stderr; returns status. */
int owner_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The usage error of an unknown option or a missing value: see --help. */
int owner_usage(const char *cmd);

/* The ID block and ID auth info read back from their base64 files, checked. */
struct id_files {
	uint8_t block[ID_BLOCK_SIZE];
	uint8_t auth[ID_AUTH_SIZE];
	struct id_block id;
	bool has_author;
	uint8_t id_key_digest[48], author_key_digest[48];
};

/*
 * Read both files, decode them, and check the auth info's signatures over
 * the block. With want_ld (may be NULL) and policy, also that the block
 * was made for this launch: the firmware refuses a launch otherwise.
 */
int id_files_load(const char *block_path, const char *auth_path, struct id_files *f,
		  struct snp_err *err);
int id_files_match(const struct id_files *f, const uint8_t ld[48], uint64_t policy,
		   struct snp_err *err);

/* Write len bytes as base64 and a newline to path (0644, replaced). */
int owner_write_b64(const char *path, const uint8_t *buf, size_t len, struct snp_err *err);

#endif
