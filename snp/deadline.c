// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "snp/deadline.h"

int64_t snp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void snp_deadline_start(struct snp_deadline *dl, int timeout_ms)
{
	dl->total_ms = timeout_ms;
	dl->end_ms = snp_now_ms() + timeout_ms;
}

int snp_deadline_left_ms(const struct snp_deadline *dl)
{
	int64_t left = dl->end_ms - snp_now_ms();

	return left > 0 ? (int)left : 0;
}

/* Largest first: snp_duration_text picks the first that divides. */
static const struct {
	const char *name;
	int64_t ms;
} duration_units[] = {
	{ "h", 60 * 60 * 1000 }, { "m", 60 * 1000 }, { "s", 1000 }, { "ms", 1 },
};

#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

int snp_duration_parse(const char *text, int64_t min_ms, int64_t max_ms, int64_t *ms)
{
	size_t digits = strspn(text, "0123456789"), u;
	int64_t n = 0;
	bool too_big = false;

	if (!digits)
		return -EINVAL;
	for (u = 0; u < N_DURATION_UNITS && strcmp(text + digits, duration_units[u].name); u++)
		;
	if (u == N_DURATION_UNITS)
		return -EINVAL;
	/* Syntax first, so that a huge number with a bad unit is still -EINVAL. */
	for (size_t i = 0; i < digits && !too_big; i++) {
		too_big = n > (INT64_MAX - (text[i] - '0')) / 10;
		n = too_big ? n : n * 10 + (text[i] - '0');
	}
	if (too_big || n > INT64_MAX / duration_units[u].ms)
		return -ERANGE;
	n *= duration_units[u].ms;
	if (n < min_ms || n > max_ms)
		return -ERANGE;
	*ms = n;
	return 0;
}

const char *snp_duration_text(char *out, size_t size, int64_t ms)
{
	size_t u = 0;

	/* The last unit, ms, divides everything. */
	while (ms % duration_units[u].ms)
		u++;
	if (!ms)
		snprintf(out, size, "0s");
	else
		snprintf(out, size, "%lld%s", (long long)(ms / duration_units[u].ms),
			 duration_units[u].name);
	return out;
}
