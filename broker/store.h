/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_STORE_H
#define SNP_BROKER_STORE_H

/*
 * The secret store: files in a state directory, made so that a kill -9 at
 * any instant leaves every volume readable with either its old or its new
 * content, never neither.
 *
 *   STATE/             0700
 *     volumes/UUID.json      0600  {"version":1,"volume":..,"policy":..,
 *                                   "secret":..,"generation":N,
 *                                   "created":..,"updated":..}
 *     policies/NAME.json     0600  a policy (broker/policy.h)
 *     archive/UUID.N.json    0600  a volume record as it was before rotate
 *                                  or remove: nothing is ever lost
 *     vcek/...                     the VCEK cache (broker/vcek.h)
 *
 * Every write: a temporary file in the same directory (O_EXCL, 0600),
 * written, fsync'd, renamed over the target, then the directory fsync'd.
 * Readers never see a partial file. Temporary files left by a crash are
 * ignored by readers and removed by store_open.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "proto/proto.h"
#include "snp/err.h"

struct store;

struct store_volume {
	char volume[PROTO_VOLUME_LEN + 1];
	char policy[64];
	uint8_t secret[PROTO_SECRET_MAX];
	size_t secret_len;
	uint64_t generation;		/* 1 when added, +1 per rotate */
	int64_t created, updated;	/* seconds since the epoch */
};

/* Open (creating STATE and its subdirectories 0700 when create is true). */
int store_open(struct store **st, const char *state_dir, bool create, struct snp_err *err);
void store_close(struct store *st);
const char *store_dir(const struct store *st);

/*
 * -EEXIST if the volume is there already; -ENOENT if its policy is not.
 * v's generation and times are set here: a volume added again after a
 * remove starts after its archived generations, so no archive is replaced.
 */
int store_volume_add(struct store *st, const struct store_volume *v, struct snp_err *err);
/* -ENOENT for an unknown volume. The caller wipes v (store_volume_wipe). */
int store_volume_get(struct store *st, const char *volume, struct store_volume *v,
		     struct snp_err *err);
/* Archive the current record, then replace the secret; generation + 1. */
int store_volume_rotate(struct store *st, const char *volume, const uint8_t *secret,
			size_t secret_len, struct snp_err *err);
/* Change the volume's policy (must exist). */
int store_volume_set_policy(struct store *st, const char *volume, const char *policy,
			    struct snp_err *err);
/* Archive, then remove. */
int store_volume_remove(struct store *st, const char *volume, struct snp_err *err);
/* The volume ids, sorted; free with store_list_free. */
int store_volume_list(struct store *st, char ***ids, size_t *n, struct snp_err *err);
void store_list_free(char **ids, size_t n);
void store_volume_wipe(struct store_volume *v);

/*
 * The archive of one volume: the generations it holds, ascending (free()),
 * and one of them by generation (-ENOENT when absent).
 */
int store_archive_list(struct store *st, const char *volume, uint64_t **generations, size_t *n,
		       struct snp_err *err);
int store_archive_get(struct store *st, const char *volume, uint64_t generation,
		      struct store_volume *v, struct snp_err *err);
/*
 * Delete a removed volume's archive for good: the one deletion the store
 * makes. -EBUSY while the volume is current (remove it first).
 */
int store_volume_purge(struct store *st, const char *volume, size_t *purged,
		       struct snp_err *err);

/* Policies by name: the JSON text, validated by the caller (broker/policy.h). */
int store_policy_put(struct store *st, const char *name, const char *json, size_t len,
		     struct snp_err *err);
int store_policy_get(struct store *st, const char *name, char **json, size_t *len,
		     struct snp_err *err);
int store_policy_list(struct store *st, char ***names, size_t *n, struct snp_err *err);

/* The atomic write the store uses, for others in the state dir (VCEK cache). */
int store_write_atomic(const char *dir, const char *name, const void *data, size_t len,
		       mode_t mode, struct snp_err *err);

#endif
