/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_LUKS_CRYPTTAB_H
#define SNP_LUKS_CRYPTTAB_H

/*
 * The mapping name crypttab(5) gives a volume. In the initrd, Debian's
 * cryptroot and systemd-cryptsetup open the volumes crypttab lists under
 * the names it gives (initramfs-tools copies it to /cryptroot/crypttab):
 * when we open one of them under another name, they prompt for it again.
 *
 * Lines are "name source [keyfile [options]]", fields separated by spaces
 * and tabs; blank lines and lines whose first field starts with '#' are
 * skipped. A line names our volume when its source is
 *
 *   UUID=<uuid>			(hex in either case; the value may be
 *					 quoted, "..." or '...', as blkid writes it)
 *   /dev/disk/by-uuid/<uuid>
 *   the path the volume was found at (device_path, when given)
 *
 * Other sources (PARTUUID=, LABEL=, other paths) cannot be told apart
 * from ours without the devices, so their lines are left alone, as are
 * lines of one field, which name no source. A line that names our volume
 * must be whole: a name device-mapper accepts (luks_token_check_name), at
 * most 4 fields, balanced quotes; two such lines are ambiguous and
 * refused, naming both.
 */
#include <stddef.h>

#include "luks/token.h"
#include "snp/err.h"

#define LUKS_CRYPTTAB_PATH	"/etc/crypttab"
/* initramfs-tools' copy in its initrd. */
#define LUKS_CRYPTTAB_INITRD_PATH "/cryptroot/crypttab"
#define LUKS_CRYPTTAB_MAX	(64 * 1024)	/* bytes in the whole text */
#define LUKS_CRYPTTAB_LINE_MAX	4096		/* bytes in a line, without its newline */

/*
 * The name crypttab text[0..len) gives the volume whose LUKS2 header UUID
 * is uuid (canonical lowercase); where names the text in messages
 * ("FILE:LINE: ..."), device_path may be NULL. 0 with name set;
 * -ENOENT when no line names the volume; -EINVAL for a line naming it
 * that is malformed or gives a name device-mapper refuses, for two lines
 * naming it, and for a NUL byte anywhere; -E2BIG for a text over
 * LUKS_CRYPTTAB_MAX or a line over LUKS_CRYPTTAB_LINE_MAX. name is only
 * written on success; err is set on every error.
 */
int luks_crypttab_name(const char *text, size_t len, const char *where, const char *uuid,
		       const char *device_path, char name[LUKS_TOKEN_NAME_MAX],
		       struct snp_err *err);

/*
 * luks_crypttab_name over the file at path, read up to LUKS_CRYPTTAB_MAX
 * bytes (-E2BIG beyond). -ENOENT also when the file does not exist (then
 * err says so); other negative errnos for I/O.
 */
int luks_crypttab_lookup(const char *path, const char *uuid, const char *device_path,
			 char name[LUKS_TOKEN_NAME_MAX], struct snp_err *err);

#endif
