// SPDX-License-Identifier: GPL-2.0-or-later
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
