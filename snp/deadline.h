/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_DEADLINE_H
#define SNP_DEADLINE_H

/*
 * An overall time bound, on CLOCK_MONOTONIC in milliseconds: started once,
 * then asked how much is left before each wait.
 */
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

#endif
