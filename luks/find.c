// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding the LUKS2 volumes that carry an snp-unseal token (luks/find.h).
 * libblkid looks at each device first: it reads a few sectors, so disks,
 * partitions and optical drives that are not LUKS2 never reach
 * libcryptsetup (which would take its metadata lock and parse JSON).
 */
#define _GNU_SOURCE	/* versionsort */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <libcryptsetup.h>

#include "luks/crypt_log.h"
#include "luks/find.h"
#include "snp/deadline.h"

#define FIND_POLL_MS_DEFAULT	100
#define FIND_SETTLE_MS_DEFAULT	500
#define SYSFS_SIZE_MAX		32	/* a sector count in decimal, with room */

/* What a probe learnt besides its answer, for luks_find's notes. */
struct probe_info {
	bool luks2;		/* libblkid saw a LUKS2 header */
	bool pending;		/* -ENOKEY because of a pending token */
};

/*
 * Read-only, never O_EXCL (a device in use by someone else is still ours
 * to look at); O_NONBLOCK so that an optical drive does not wait for a
 * medium or close its tray.
 */
static int open_device(const char *path, struct snp_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return snp_errf(err, -ENOENT, "%s does not exist", path);
	return snp_errf(err, -errno, "cannot open %s: %s", path, strerror(errno));
}

static int blkid_value(blkid_probe pr, const char *name, const char **value)
{
	*value = NULL;
	if (blkid_probe_lookup_value(pr, name, value, NULL) || !*value)
		return -ENODATA;
	return 0;
}

/* 0 when libblkid sees a LUKS2 header (crypto_LUKS, version 2) on fd. */
static int blkid_is_luks2(int fd, const char *path, struct snp_err *err)
{
	const char *type, *version;
	blkid_probe pr;
	int r;

	pr = blkid_new_probe();
	if (!pr)
		return snp_errf(err, -ENOMEM, "libblkid: no memory to probe %s", path);
	if (blkid_probe_set_device(pr, fd, 0, 0)) {
		r = snp_errf(err, -EIO, "libblkid cannot probe %s", path);
		goto out;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_VERSION |
					  BLKID_SUBLKS_UUID);
	r = blkid_do_safeprobe(pr);
	if (r == 1) {
		r = snp_errf(err, -EMEDIUMTYPE, "%s carries no known signature", path);
		goto out;
	}
	if (r == -2) {
		r = snp_errf(err, -EMEDIUMTYPE, "%s carries several signatures (libblkid: ambivalent)",
			     path);
		goto out;
	}
	if (r < 0) {
		r = snp_errf(err, -EIO, "libblkid cannot read %s", path);
		goto out;
	}
	if (blkid_value(pr, "TYPE", &type) || strcmp(type, "crypto_LUKS")) {
		r = snp_errf(err, -EMEDIUMTYPE, "%s is no LUKS volume (%s)", path,
			     type ? type : "no type");
		goto out;
	}
	if (blkid_value(pr, "VERSION", &version) || strcmp(version, "2")) {
		r = snp_errf(err, -EMEDIUMTYPE, "%s is LUKS version %s, not LUKS2", path,
			     version ? version : "unknown");
		goto out;
	}
	r = 0;
out:
	blkid_free_probe(pr);
	return r;
}

/* Our token among the header's; the others are someone else's. */
static int find_token(struct crypt_device *cd, const char *path, struct luks_found *f,
		      struct probe_info *info, struct snp_err *err)
{
	int max = crypt_token_max(CRYPT_LUKS2);
	int ours = -1, pending = -1, broken = -1, broken_r = 0;
	struct snp_err parse_err = { 0 };
	struct luks_token t;

	for (int id = 0; id < max; id++) {
		const char *json = NULL;
		struct snp_err e = { 0 };
		int r;

		if (crypt_token_json_get(cd, id, &json) < 0 || !json)
			continue;	/* no token with this id */
		r = luks_token_from_json(json, strlen(json), &t, &e);
		if (r == -EMEDIUMTYPE)
			continue;
		if (ours >= 0 || pending >= 0 || broken >= 0)
			return snp_errf(err, -ENOTUNIQ,
					"%s has two snp-unseal tokens (%d and %d); run snp-unseal unenroll and enroll again",
					path, ours >= 0 ? ours : pending >= 0 ? pending : broken, id);
		if (r < 0) {
			broken = id;
			broken_r = r;
			parse_err = e;
		} else if (t.keyslot < 0) {
			pending = id;
		} else {
			ours = id;
			f->token = t;
			f->token_id = id;
		}
	}
	if (broken >= 0)
		return snp_errf(err, broken_r, "%s: snp-unseal token %d: %s", path, broken,
				parse_err.msg);
	if (pending >= 0) {
		info->pending = true;
		return snp_errf(err, -ENOKEY,
				"%s: an interrupted enroll left a pending token (%d); run snp-unseal unenroll/enroll",
				path, pending);
	}
	if (ours < 0)
		return snp_errf(err, -ENOKEY, "%s has no snp-unseal token", path);
	return 0;
}

static int load_header(const char *path, struct luks_found *f, struct probe_info *info,
		       struct snp_err *err)
{
	struct luks_crypt_log log;
	struct crypt_device *cd = NULL;
	const char *uuid;
	int r;

	r = luks_crypt_init(&cd, path, &log);
	if (r == -ENOENT)
		return snp_errf(err, -ENOENT, "%s does not exist (any more)", path);
	if (r < 0)
		return snp_errf(err, r, "libcryptsetup cannot use %s: %s", path,
				luks_crypt_why(&log, r));
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		r = snp_errf(err, r, "libcryptsetup cannot load the LUKS2 header of %s: %s", path,
			     luks_crypt_why(&log, r));
		goto out;
	}
	uuid = crypt_get_uuid(cd);
	if (!uuid || !uuid[0] || strlen(uuid) >= sizeof(f->uuid)) {
		r = snp_errf(err, -EINVAL, "the LUKS2 header of %s has no usable UUID", path);
		goto out;
	}
	snprintf(f->uuid, sizeof(f->uuid), "%s", uuid);
	r = find_token(cd, path, f, info, err);
out:
	crypt_free(cd);
	return r;
}

static int probe(const char *path, struct luks_found *f, struct probe_info *info,
		 struct snp_err *err)
{
	int fd, r;

	info->luks2 = false;
	info->pending = false;
	memset(f, 0, sizeof(*f));
	if (strlen(path) >= sizeof(f->path))
		return snp_errf(err, -ENAMETOOLONG, "device path too long (%zu bytes)",
				strlen(path));
	snprintf(f->path, sizeof(f->path), "%s", path);

	fd = open_device(path, err);
	if (fd < 0)
		return fd;
	r = blkid_is_luks2(fd, path, err);
	close(fd);
	if (r < 0)
		return r;
	info->luks2 = true;
	return load_header(path, f, info, err);
}

int luks_probe(const char *path, struct luks_found *f, struct snp_err *err)
{
	struct probe_info info;

	return probe(path, f, &info, err);
}

/* What one scan gathered besides found[]. */
struct scan {
	struct luks_found *found;
	size_t n;
	struct snp_err note;	/* the first problem worth telling, if any */
	size_t n_notes;
	size_t n_absent;	/* explicit paths that do not exist (yet) */
};

static bool is_found(const struct scan *s, const char *uuid)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->found[i].uuid, uuid))
			return true;
	return false;
}

/*
 * Probe path into the next free entry. explicit: the caller named it, so
 * any failure is worth telling; in a sysfs scan only failures on a LUKS2
 * header other than "no token at all" are.
 */
static void scan_one(struct scan *s, const char *path, bool explicit)
{
	struct luks_found *f = &s->found[s->n];
	struct probe_info info;
	struct snp_err e = { 0 };
	int r;

	r = probe(path, f, &info, &e);
	if (explicit && r == -ENOENT)
		s->n_absent++;
	if (!r) {
		if (!is_found(s, f->uuid))
			s->n++;		/* else: a second path to a header we have */
		return;
	}
	if (!explicit && (!info.luks2 || (r == -ENOKEY && !info.pending)))
		return;
	if (!s->n_notes++)
		s->note = e;
}

/* sysfs's "size" (in sectors) of a block device: "0" for empty loop devices and drives. */
static bool sysfs_is_empty(const char *sys_block, const char *name)
{
	char path[PATH_MAX], size[SYSFS_SIZE_MAX];
	ssize_t len;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/size", sys_block, name) >= sizeof(path))
		return true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;	/* no size to tell: probe it */
	len = read(fd, size, sizeof(size) - 1);
	close(fd);
	if (len <= 0)
		return false;
	size[len] = '\0';
	return !strcmp(size, "0\n") || !strcmp(size, "0");
}

/* <dev_root>/<name> with sysfs's '!' standing for '/' (cciss!c0d0). */
static int dev_path(const char *dev_root, const char *name, char path[PATH_MAX])
{
	char *p;
	int len = snprintf(path, PATH_MAX, "%s/%s", dev_root, name);

	if (len < 0 || len >= PATH_MAX)
		return -ENAMETOOLONG;
	for (p = path + strlen(dev_root) + 1; *p; p++)
		if (*p == '!')
			*p = '/';
	return 0;
}

static int not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every block device sysfs lists, in natural order (sda, sdb, loop2, loop10). */
static void scan_sysfs(struct scan *s, const struct luks_find_opts *o)
{
	const char *sys_root = o->sys_root ? o->sys_root : "/sys";
	const char *dev_root = o->dev_root ? o->dev_root : "/dev";
	char sys_block[PATH_MAX], path[PATH_MAX];
	struct dirent **names = NULL;
	int n;

	if ((size_t)snprintf(sys_block, sizeof(sys_block), "%s/class/block", sys_root) >=
	    sizeof(sys_block))
		return;
	n = scandir(sys_block, &names, not_dot, versionsort);
	if (n < 0)
		return;		/* no sysfs yet: nothing to find this time */
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (s->n < LUKS_FIND_MAX && !sysfs_is_empty(sys_block, name) &&
		    !dev_path(dev_root, name, path))
			scan_one(s, path, false);
		free(names[i]);
	}
	free(names);
}

static void scan_all(struct scan *s, const struct luks_find_opts *o)
{
	s->n = 0;
	s->n_notes = 0;
	s->n_absent = 0;
	s->note.code = 0;
	s->note.msg[0] = '\0';
	if (!o->n_paths) {
		scan_sysfs(s, o);
		return;
	}
	for (size_t i = 0; i < o->n_paths && s->n < LUKS_FIND_MAX; i++)
		scan_one(s, o->paths[i], true);
}

static bool have_wanted(const struct scan *s, const struct luks_find_opts *o)
{
	for (size_t i = 0; i < o->n_want; i++)
		if (!is_found(s, o->want_uuids[i]))
			return false;
	return true;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);	/* a signal only makes the next scan earlier */
}

static int min_int(int a, int b)
{
	return a < b ? a : b;
}

/* "a, b" of the wanted UUIDs not found, then the note; -ETIMEDOUT. */
/* " (the first problem; and more)", or "" when there was none. */
static void note_text(const struct scan *s, char note[sizeof(s->note.msg) + 16])
{
	note[0] = '\0';
	if (s->n_notes)
		snprintf(note, sizeof(s->note.msg) + 16, " (%s%s)", s->note.msg,
			 s->n_notes > 1 ? "; and more" : "");
}

static int timed_out(const struct scan *s, const struct luks_find_opts *o, int timeout_ms,
		     struct snp_err *err)
{
	char missing[sizeof(err->msg)] = "", note[sizeof(s->note.msg) + 16];
	size_t used = 0, n_missing = 0;

	for (size_t i = 0; i < o->n_want; i++) {
		int len;

		if (is_found(s, o->want_uuids[i]))
			continue;
		len = snprintf(missing + used, sizeof(missing) - used, "%s%s",
			       n_missing++ ? ", " : "", o->want_uuids[i]);
		if (len < 0 || (size_t)len >= sizeof(missing) - used)
			break;		/* the message is cut, the answer is the same */
		used += (size_t)len;
	}
	note_text(s, note);
	if (n_missing)
		return snp_errf(err, -ETIMEDOUT, "volume%s %s not found within %d ms%s",
				n_missing > 1 ? "s" : "", missing, timeout_ms, note);
	if (s->n_absent)
		return snp_errf(err, -ETIMEDOUT, "%zu of the %zu devices named did not appear "
				"within %d ms%s", s->n_absent, o->n_paths, timeout_ms, note);
	return snp_errf(err, -ETIMEDOUT, "no volume with an snp-unseal token within %d ms%s",
			timeout_ms, note);
}

/* Every device named is there, and none has our token: nothing to wait for. */
static int none_named(const struct scan *s, struct snp_err *err)
{
	char note[sizeof(s->note.msg) + 16];

	note_text(s, note);
	return snp_errf(err, -ENOKEY, "none of the devices named has an snp-unseal token%s", note);
}

int luks_find(const struct luks_find_opts *o, struct luks_found found[LUKS_FIND_MAX],
	      size_t *n, struct snp_err *err)
{
	int poll_ms = o->poll_ms > 0 ? o->poll_ms : FIND_POLL_MS_DEFAULT;
	int settle_ms = o->settle_ms > 0 ? o->settle_ms : FIND_SETTLE_MS_DEFAULT;
	int timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
	struct scan s = { .found = found };
	struct snp_deadline dl;
	int left;

	snp_deadline_start(&dl, timeout_ms);
	for (;;) {
		scan_all(&s, o);
		if (o->n_want && have_wanted(&s, o))
			break;
		/* Devices named: wait for each of them, and for nothing else. */
		if (!o->n_want && o->n_paths && !s.n_absent) {
			if (s.n)
				break;
			*n = 0;
			return none_named(&s, err);
		}
		if (!o->n_want && !o->n_paths && s.n) {
			/* One volume is there: give its siblings a moment, once. */
			sleep_ms(min_int(settle_ms, snp_deadline_left_ms(&dl)));
			scan_all(&s, o);
			if (s.n)
				break;
		}
		left = snp_deadline_left_ms(&dl);
		if (!left) {
			*n = s.n;
			return timed_out(&s, o, timeout_ms, err);
		}
		sleep_ms(min_int(poll_ms, left));
	}
	*n = s.n;
	return 0;
}
