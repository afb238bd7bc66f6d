/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_TESTS_SNP_SETS_H
#define SNP_UNSEAL_TESTS_SNP_SETS_H

/*
 * The real SEV-SNP sets under ../shared/testdata/snp-real, read in place:
 * report.bin, ark.pem, ask.pem or asvk.pem, and the VCEK or VLEK as DER or
 * PEM. A test that loads a set skips when the data is absent.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snp/certtable.h"
#include "snp/verify.h"
#include "tests/harness.h"

#define SNP_REAL "snp-real"
#define SET_FILE_MAX (1 << 16)

struct snp_set {
	char name[96];
	uint8_t *report;
	size_t report_len;
	uint8_t *ark, *ask, *vek;	/* DER */
	size_t ark_len, ask_len, vek_len;
};

/* The time every VEK of the 20 sets is valid at: 2025-09-01T00:00:00Z. */
#define SET_TIME_2025_09_01	((time_t)1756684800)
/* When the two AWS VLEKs had expired: 2026-11-22T00:00:00Z. */
#define SET_TIME_2026_11_22	((time_t)1795305600)

/* a/b into out; a path too long ends the test. */
static inline void set_join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "    path too long: %s/%s\n", a, b);
		exit(1);
	}
}

/* Whether rel exists under the shared data (skips the test when it is absent). */
static inline int set_has(const char *rel)
{
	const char *dir = test_shared_dir();
	char path[PATH_MAX];

	if (!dir)
		test_skip("../shared/testdata is absent");
	set_join(path, sizeof(path), dir, rel);
	return access(path, R_OK) == 0;
}

/* A certificate file (DER or PEM) as DER; exits the test when unreadable. */
static inline uint8_t *set_read_cert(const char *rel, size_t *len)
{
	struct snp_err err = { 0 };
	size_t raw_len;
	uint8_t *raw = test_read_shared(rel, SET_FILE_MAX, &raw_len), *der;

	if (snp_cert_to_der(raw, raw_len, &der, len, &err)) {
		fprintf(stderr, "    %s: %s\n", rel, err.msg);
		exit(1);
	}
	free(raw);
	return der;
}

/* The first of names[] present in dir, as DER, or NULL. */
static inline uint8_t *set_first_cert(const char *dir, const char *const *names, size_t *len)
{
	char rel[PATH_MAX];

	for (; *names; names++) {
		set_join(rel, sizeof(rel), dir, *names);
		if (set_has(rel))
			return set_read_cert(rel, len);
	}
	*len = 0;
	return NULL;
}

/* Load a set by directory, relative to snp-real ("oak-turin-oc-v5", "_negative/..."). */
static inline void set_load(const char *name, struct snp_set *s)
{
	static const char *const arks[] = { "ark.pem", "ark.der", NULL };
	static const char *const asks[] = { "ask.pem", "asvk.pem", NULL };
	static const char *const veks[] = { "vcek.der", "vcek.pem", "vlek.der", "vlek.pem", NULL };
	char dir[PATH_MAX], rel[PATH_MAX];

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	set_join(dir, sizeof(dir), SNP_REAL, name);
	set_join(rel, sizeof(rel), dir, "report.bin");
	if (set_has(rel))
		s->report = test_read_shared(rel, SET_FILE_MAX, &s->report_len);
	s->ark = set_first_cert(dir, arks, &s->ark_len);
	s->ask = set_first_cert(dir, asks, &s->ask_len);
	s->vek = set_first_cert(dir, veks, &s->vek_len);
}

static inline void set_free(struct snp_set *s)
{
	free(s->report);
	free(s->ark);
	free(s->ask);
	free(s->vek);
	memset(s, 0, sizeof(*s));
}

static inline struct snp_verify_input set_input(const struct snp_set *s, time_t now)
{
	struct snp_verify_input in = {
		.report = s->report, .report_len = s->report_len,
		.ark = s->ark, .ark_len = s->ark_len,
		.ask = s->ask, .ask_len = s->ask_len,
		.vek = s->vek, .vek_len = s->vek_len,
		.now = now,
	};

	return in;
}

#endif
