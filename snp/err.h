/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_ERR_H
#define SNP_ERR_H

/*
 * Errors of the snp/ library. Functions return 0 or a negative errno and,
 * when given a struct snp_err, fill it with one sentence naming what was
 * wrong (the field, the offset, the value). Nothing in snp/ prints.
 */
#include <stddef.h>
#include <stdint.h>

struct snp_err {
	int code;		/* the negative errno the function returned */
	char msg[320];
};

/* Set err (may be NULL) and return code, so callers can `return snp_errf(...)`. */
int snp_errf(struct snp_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Text from outside quoted in a message: the first max bytes of s[0..len)
 * with anything but printable ASCII as '?', and "..." when cut, into out
 * (max + 4 bytes); returns out.
 */
const char *snp_shown(char *out, size_t max, const char *s, size_t len);
/* The same in place, uncut: every control byte and DEL of s becomes '?'. */
void snp_printable(char *s);

/* Lowercase hex of len bytes into out (2*len+1 bytes); returns out. */
char *snp_hex(char *out, const void *buf, size_t len);
/*
 * Decode hex (either case, no prefix, an even number of digits) into out,
 * at most max bytes; *len gets the count. -EINVAL for an odd count or a
 * non-hex digit, -E2BIG for more than max bytes; out is then unchanged.
 */
int snp_unhex(const char *hex, uint8_t *out, size_t max, size_t *len);

#endif
