/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_AUDIT_H
#define SNP_BROKER_AUDIT_H

/*
 * The audit log: one JSON object per line for every unseal decision,
 * granted or refused, in a file opened O_APPEND:
 *
 *   {"time":"2026-11-22T10:00:00Z","peer":"127.0.0.1:5555",
 *    "volume":"<uuid>","verdict":"refused","reason":"policy-rejected",
 *    "rule":"policy-debug","check":"","measurement":"<96 hex>",
 *    "chip_id":"<hex>","report_id":"<64 hex>","product":"Milan",
 *    "vek_source":"cert-table"}
 *
 * Members that are not known for a decision are "" (a request that did
 * not parse has no volume and no report). Nothing secret ever goes in: no
 * disk secret, key or sealed body, so the record takes none.
 *
 * Each line is built whole and goes out in one write(2), then fdatasync:
 * once audit_write returns 0 the decision is on disk. Safe to call from
 * several threads (O_APPEND keeps lines whole; nothing else is shared).
 */
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "snp/err.h"
#include "snp/report.h"

/* A whole line is never longer (the longest members are hex of fixed size). */
#define AUDIT_LINE_MAX	2048

struct audit_log;

struct audit_record {
	const char *peer;		/* "127.0.0.1:5555", or NULL */
	const char *volume;		/* the volume asked for, or NULL */
	bool granted;
	const char *reason;		/* docs/protocol.md's reason, or NULL when granted */
	const char *rule;		/* policy-rejected's rule, or NULL */
	const char *check;		/* evidence-rejected's check, or NULL */
	const struct snp_report *report;	/* the report as parsed, or NULL */
	const char *product;		/* "Milan", ..., or NULL */
	const char *vek_source;		/* "cert-table", "cache", "kds", or NULL */
};

/* Open (create 0600) path for appending. */
int audit_open(struct audit_log **log, const char *path, struct snp_err *err);
void audit_close(struct audit_log *log);

/* The line for rec into out (NUL-terminated); its length, or -ENOSPC. */
int audit_format(const struct audit_record *rec, time_t now, char *out, size_t size);

/* Append rec's line and flush it to disk. */
int audit_write(struct audit_log *log, const struct audit_record *rec, struct snp_err *err);

#endif
