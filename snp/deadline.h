/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_DEADLINE_H
#define SNP_DEADLINE_H

/*
 * An overall time bound, on CLOCK_MONOTONIC in milliseconds: started once,
 * then asked how much is left before each wait.
 */
#include <stddef.h>
#include <stdint.h>

struct snp_deadline {
	int64_t end_ms;
	int total_ms;		/* the bound it was started with, for messages */
};

/* CLOCK_MONOTONIC in milliseconds. */
int64_t snp_now_ms(void);
/* The bound ends timeout_ms from now. */
void snp_deadline_start(struct snp_deadline *dl, int timeout_ms);
/* Milliseconds left, 0 once expired. */
int snp_deadline_left_ms(const struct snp_deadline *dl);

/*
 * A duration as configuration files and command lines write it: decimal
 * digits, then the unit ms, s, m or h ("250ms", "90s", "2m"), no sign,
 * no space, nothing after. -EINVAL when text is not that; -ERANGE when it
 * is but lies outside min_ms..max_ms (including numbers too large for
 * int64_t). *ms is set only on success.
 */
int snp_duration_parse(const char *text, int64_t min_ms, int64_t max_ms, int64_t *ms);
/* The shortest exact text of ms, in the largest unit that divides it ("2m", "1500ms"); out. */
const char *snp_duration_text(char *out, size_t size, int64_t ms);

#endif
