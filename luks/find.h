/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_LUKS_FIND_H
#define SNP_LUKS_FIND_H

/*
 * Finding the volumes to unlock: block devices that libblkid recognises
 * as LUKS2 (crypto_LUKS, version 2) and whose header carries a complete
 * snp-unseal token. Devices appear while the initrd runs, so luks_find
 * polls within a bound.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "luks/token.h"
#include "snp/err.h"

#define LUKS_FIND_MAX		32	/* volumes in one unlock */
#define LUKS_UUID_MAX		40	/* a header UUID with its NUL */

struct luks_found {
	char path[PATH_MAX];		/* the device (or image file) */
	char uuid[LUKS_UUID_MAX];	/* the LUKS2 header's UUID */
	int token_id;
	struct luks_token token;	/* complete (never pending) */
};

struct luks_find_opts {
	/*
	 * Explicit devices or image files: probe exactly these (once each
	 * appears), nothing else. NULL/0: every block device under
	 * <sys_root>/class/block, opened as <dev_root>/<name> ('!' in a
	 * sysfs name is '/').
	 */
	const char *const *paths;
	size_t n_paths;
	const char *sys_root;		/* NULL: "/sys" */
	const char *dev_root;		/* NULL: "/dev" */
	/*
	 * Header UUIDs that must be found (rd.snp_unseal.uuid=): wait until
	 * each is there. With none: with paths, until every path exists;
	 * without, until at least one volume with a token is there, then
	 * rescan once after settle_ms to gather the rest.
	 */
	const char *const *want_uuids;
	size_t n_want;
	int timeout_ms;			/* the whole wait */
	int poll_ms;			/* between scans; <= 0: 100 */
	int settle_ms;			/* <= 0: 500 */
};

/*
 * Probe one path. 0 with f filled; -ENOENT when the path does not exist;
 * -EMEDIUMTYPE when it is no LUKS2 volume; -ENOKEY when it is LUKS2 but
 * has no complete snp-unseal token (a pending one included); -EINVAL
 * when our token is there but does not parse (err names the member);
 * -ENOTUNIQ for two snp-unseal tokens in one header; other negative
 * errnos for I/O. err is set in each case.
 */
int luks_probe(const char *path, struct luks_found *f, struct snp_err *err);

/*
 * Scan until done (above) or timeout_ms. Fills found[0..*n) (capacity
 * LUKS_FIND_MAX, at most one entry per header UUID, in device order) and
 * returns 0; -ETIMEDOUT when the bound passed first, with whatever was
 * found still in found[] and err naming what is missing (the wanted
 * UUIDs, the paths that did not appear, or "no volume with an snp-unseal
 * token"); -ENOKEY at once when every path named is there and none has
 * our token. A device whose token does not parse is skipped, and its
 * error is kept in err as a note if nothing else is found.
 */
int luks_find(const struct luks_find_opts *o, struct luks_found found[LUKS_FIND_MAX],
	      size_t *n, struct snp_err *err);

#endif
