/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_ADMIN_H
#define SNP_BROKER_ADMIN_H

/*
 * What the store's admin commands (`volume`, `policy`) share: one option
 * parser, a table of subcommands, finding the state directory (--state,
 * else the configuration's state_dir), reading input files, and the exit
 * statuses: 0 done, 1 refused or not found, 2 bad usage or bad input.
 * Errors are one line, "snp-keybroker: ...".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/store.h"
#include "snp/err.h"

enum { ADMIN_OK = 0, ADMIN_REFUSED = 1, ADMIN_USAGE = 2 };

/* Options a subcommand may take (--config and --state: all of them). */
enum {
	ADMIN_OPT_FROM = 1u << 0,		/* --from REGFILE */
	ADMIN_OPT_SECRET_FILE = 1u << 1,	/* --secret-file FILE */
	ADMIN_OPT_POLICY = 1u << 2,		/* --policy NAME */
	ADMIN_OPT_JSON = 1u << 3,		/* --json */
};

#define ADMIN_ARGS_MAX	4

struct admin_args {
	const char *config, *state;
	const char *from, *secret_file, *policy;
	bool json;
	unsigned int given;		/* ADMIN_OPT_* seen */
	const char *args[ADMIN_ARGS_MAX];	/* the operands after the subcommand */
	int n_args;
};

struct admin_cmd {
	const char *name;
	const char *usage;		/* its synopsis after "snp-keybroker GROUP " */
	unsigned int opts;		/* ADMIN_OPT_* allowed */
	int min_args, max_args;
	bool creates;			/* makes the store when it is not there */
	int (*run)(struct store *st, const struct admin_args *a);
};

/* argv[0] is the group ("volume", "policy"); argv[1] names one of cmds. */
int admin_main(int argc, char *argv[], const struct admin_cmd *cmds, size_t n_cmds);

/* Print "snp-keybroker: ..." on stderr; returns status. */
int admin_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A store error: 2 when the input was bad (-EINVAL), else 1. */
int admin_store_fail(const struct snp_err *err);

/*
 * Read an input file, "-" for stdin. A path that is not a regular file is
 * refused; one that holds a secret and that group or others can read gets
 * a warning. Returns an exit status; the caller wipes and frees *buf.
 */
int admin_read_input(const char *path, size_t max, bool secret, uint8_t **buf, size_t *len);

/* "2025-01-02T03:04:05Z" of an epoch time (out: 21 bytes). */
char *admin_time(char out[21], int64_t t);

#endif
