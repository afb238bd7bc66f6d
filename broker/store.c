// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The secret store (broker/store.h). Commands that change it hold
 * STATE/.lock (flock) for the whole read-modify-write, so two admin
 * commands never interleave; readers take no lock, since every file
 * changes by one rename.
 *
 * Volume records are written and read here rather than with json-c: they
 * are a flat object of plain strings and numbers, and this way no buffer
 * we cannot wipe ever holds the secret.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/policy.h"
#include "broker/store.h"
#include "snp/fdio.h"

#define RECORD_MAX		4096
#define POLICY_FILE_MAX		(256 * 1024)
#define LOCK_WAIT_MS		10000
#define LOCK_POLL_MS		10
/* "UUID.GEN.json", "NAME.json" and their temporaries fit. */
#define NAME_SIZE		128
/* Room under PATH_MAX for "/archive/" and a name. */
#define DIR_MAX			(PATH_MAX - NAME_SIZE - 16)

struct store {
	char dir[PATH_MAX];
	int lock_fd;
};

/* store_open makes all four; the first three hold what this file writes. */
static const char *const subdirs[] = { "volumes", "policies", "archive", "vcek" };
#define OWN_SUBDIRS	3
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

const char *store_dir(const struct store *st)
{
	return st->dir;
}

static int dir_path(char out[PATH_MAX], const struct store *st, const char *sub)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", st->dir, sub);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int file_path(char out[PATH_MAX], const struct store *st, const char *sub,
		     const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s/%s", st->dir, sub, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int check_dir(const char *path, struct snp_err *err)
{
	struct stat sb;

	if (lstat(path, &sb))
		return snp_errf(err, -errno, "%s: %s", path, strerror(errno));
	if (S_ISLNK(sb.st_mode))
		return snp_errf(err, -ELOOP, "%s is a symbolic link; give the directory itself",
				path);
	if (!S_ISDIR(sb.st_mode))
		return snp_errf(err, -ENOTDIR, "%s is not a directory", path);
	if (sb.st_mode & 077)
		return snp_errf(err, -EPERM,
				"%s is open to group or others (mode %04o) but holds secrets; chmod 0700 it",
				path, (unsigned int)(sb.st_mode & 07777));
	return 0;
}

static int make_dir(const char *path, bool create, struct snp_err *err)
{
	if (create && mkdir(path, 0700) && errno != EEXIST)
		return snp_errf(err, -errno, "%s: %s", path, strerror(errno));
	return check_dir(path, err);
}

static int lock_open(struct store *st, struct snp_err *err)
{
	char path[PATH_MAX];

	if (st->lock_fd >= 0)
		return 0;
	if (dir_path(path, st, ".lock"))
		return snp_errf(err, -ENAMETOOLONG, "%s: path too long", st->dir);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0)
		return snp_errf(err, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

/* Bounded: a command stuck while holding the lock makes the others fail, not hang. */
static int store_lock(struct store *st, int wait_ms, struct snp_err *err)
{
	const struct timespec poll = { 0, LOCK_POLL_MS * 1000000L };
	int waited = 0;
	int ret = lock_open(st, err);

	if (ret)
		return ret;
	while (flock(st->lock_fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return snp_errf(err, -errno, "%s/.lock: %s", st->dir, strerror(errno));
		if (waited >= wait_ms)
			return snp_errf(err, -EBUSY,
					"%s/.lock: another snp-keybroker command holds the store (waited %d ms)",
					st->dir, waited);
		nanosleep(&poll, NULL);
		waited += LOCK_POLL_MS;
	}
	return 0;
}

static void store_unlock(struct store *st)
{
	flock(st->lock_fd, LOCK_UN);
}

static bool is_temporary(const char *name)
{
	return name[0] == '.' && strstr(name, ".tmp.");
}

/* Only while no writer runs: a temporary may be another command's, in flight. */
static void sweep_temporaries(struct store *st)
{
	char path[PATH_MAX];
	struct dirent *e;

	if (store_lock(st, 0, NULL))
		return;
	for (size_t i = 0; i < OWN_SUBDIRS; i++) {
		DIR *d;

		if (dir_path(path, st, subdirs[i]) || !(d = opendir(path)))
			continue;
		while ((e = readdir(d)))
			if (is_temporary(e->d_name))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	store_unlock(st);
}

int store_open(struct store **out, const char *state_dir, bool create, struct snp_err *err)
{
	char path[PATH_MAX];
	struct store *st;
	size_t len = strlen(state_dir);
	int ret = 0;

	*out = NULL;
	/* "link/" would follow the link that lstat must see. */
	while (len > 1 && state_dir[len - 1] == '/')
		len--;
	if (!len || len >= DIR_MAX)
		return snp_errf(err, -EINVAL, "state directory '%s': empty or too long", state_dir);
	st = calloc(1, sizeof(*st));
	if (!st)
		return snp_errf(err, -ENOMEM, "out of memory");
	st->lock_fd = -1;
	memcpy(st->dir, state_dir, len);
	ret = make_dir(st->dir, create, err);
	for (size_t i = 0; !ret && i < (create ? ARRAY_SIZE(subdirs) : OWN_SUBDIRS); i++) {
		ret = dir_path(path, st, subdirs[i]);
		if (!ret)
			ret = make_dir(path, create, err);
	}
	if (ret)
		goto out;
	sweep_temporaries(st);
	*out = st;
	st = NULL;
out:
	store_close(st);
	return ret;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
}

static int fsync_dir(const char *dir, struct snp_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return snp_errf(err, -errno, "%s: %s", dir, strerror(errno));
	if (fsync(fd))
		ret = snp_errf(err, -errno, "%s: fsync: %s", dir, strerror(errno));
	close(fd);
	return ret;
}

int store_write_atomic(const char *dir, const char *name, const void *data, size_t len,
		       mode_t mode, struct snp_err *err)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	bool made = false;
	int fd = -1, ret = 0, n;

	if (!name[0] || name[0] == '.' || strchr(name, '/'))
		return snp_errf(err, -EINVAL, "'%s' is not a file name for the store", name);
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || n >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return snp_errf(err, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	fd = mkostemp(tmp, O_CLOEXEC);	/* O_CREAT | O_EXCL, 0600 */
	if (fd < 0) {
		ret = snp_errf(err, -errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	made = true;
	if ((mode & 07777) != 0600 && fchmod(fd, mode & 07777)) {
		ret = snp_errf(err, -errno, "%s: chmod: %s", tmp, strerror(errno));
		goto out;
	}
	ret = snp_write_all(fd, data, len);
	if (ret) {
		snp_errf(err, ret, "%s: write: %s", tmp, strerror(-ret));
		goto out;
	}
	if (fsync(fd)) {
		ret = snp_errf(err, -errno, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	ret = close(fd) ? -errno : 0;
	fd = -1;
	if (ret) {
		snp_errf(err, ret, "%s: close: %s", tmp, strerror(-ret));
		goto out;
	}
	if (rename(tmp, path)) {
		ret = snp_errf(err, -errno, "%s: rename to %s: %s", tmp, name, strerror(errno));
		goto out;
	}
	made = false;
	ret = fsync_dir(dir, err);
out:
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	return ret;
}

static int write_file(const struct store *st, const char *sub, const char *name,
		      const void *data, size_t len, struct snp_err *err)
{
	char dir[PATH_MAX];

	if (dir_path(dir, st, sub))
		return snp_errf(err, -ENAMETOOLONG, "%s: path too long", st->dir);
	return store_write_atomic(dir, name, data, len, 0600, err);
}

/* Read STATE/sub/name; -ENOENT quietly (err untouched) when it is not there. */
static int read_file(const struct store *st, const char *sub, const char *name, size_t max,
		     char **text, size_t *len, struct snp_err *err)
{
	char path[PATH_MAX];
	struct snp_err inner = { 0 };
	uint8_t *buf;
	int ret;

	if (file_path(path, st, sub, name))
		return snp_errf(err, -ENAMETOOLONG, "%s: path too long", st->dir);
	ret = snp_read_file(path, max, &buf, len, &inner);
	if (ret && ret != -ENOENT)
		snp_errf(err, ret, "%s", inner.msg);
	*text = (char *)buf;
	return ret;
}

/* --- Volume records: {"version":1,"volume":..,"policy":..,"secret":..,...} --- */

enum field { F_VERSION, F_VOLUME, F_POLICY, F_SECRET, F_GENERATION, F_CREATED, F_UPDATED,
	     F_COUNT };

static const char *const field_names[F_COUNT] = {
	"version", "volume", "policy", "secret", "generation", "created", "updated",
};

/* One member of a flat object: a string (printable ASCII, no escapes) or digits. */
struct member {
	const char *key, *val;
	size_t key_len, val_len;
	bool is_string;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int scan_string(const char **p, const char *end, const char **s, size_t *len)
{
	const char *q = *p;

	if (q >= end || *q != '"')
		return -EBADMSG;
	*s = ++q;
	while (q < end && *q != '"') {
		if (*q == '\\' || *q < 0x20 || *q > 0x7e)
			return -EBADMSG;
		q++;
	}
	if (q >= end)
		return -EBADMSG;
	*len = (size_t)(q - *s);
	*p = q + 1;
	return 0;
}

static int scan_member(const char **p, const char *end, struct member *m)
{
	const char *q = skip_ws(*p, end);

	if (scan_string(&q, end, &m->key, &m->key_len))
		return -EBADMSG;
	q = skip_ws(q, end);
	if (q >= end || *q++ != ':')
		return -EBADMSG;
	q = skip_ws(q, end);
	m->is_string = q < end && *q == '"';
	if (m->is_string) {
		if (scan_string(&q, end, &m->val, &m->val_len))
			return -EBADMSG;
	} else {
		m->val = q;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
		m->val_len = (size_t)(q - m->val);
		if (!m->val_len)
			return -EBADMSG;
	}
	*p = skip_ws(q, end);
	return 0;
}

static int field_of(const struct member *m)
{
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == m->key_len &&
		    !memcmp(field_names[f], m->key, m->key_len))
			return f;
	return -1;
}

/* Decimal, no sign, no leading zero, at most max. */
static int parse_uint(const struct member *m, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (m->val_len > 1 && m->val[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < m->val_len; i++) {
		unsigned int d = (unsigned int)(m->val[i] - '0');

		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Padded base64 of 16..256 bytes. */
static int decode_secret(const struct member *m, struct store_volume *v, struct snp_err *err)
{
	size_t pad = 0, want;

	if (!m->val_len || m->val_len % 4)
		return snp_errf(err, -EBADMSG, "'secret' is not padded base64");
	while (pad < 2 && m->val[m->val_len - 1 - pad] == '=')
		pad++;
	want = m->val_len / 4 * 3 - pad;
	if (want < PROTO_SECRET_MIN || want > PROTO_SECRET_MAX)
		return snp_errf(err, -EBADMSG, "'secret' is %zu bytes, not %d..%d", want,
				PROTO_SECRET_MIN, PROTO_SECRET_MAX);
	v->secret_len = want;
	return proto_b64_decode_exact(m->val, m->val_len, v->secret, want, err, "secret");
}

static int decode_string_field(struct store_volume *v, int f, const struct member *m,
			       struct snp_err *err)
{
	if (f == F_SECRET)
		return decode_secret(m, v, err);
	if (f == F_VOLUME) {
		if (!proto_volume_valid(m->val, m->val_len))
			return snp_errf(err, -EBADMSG, "'volume' is not a canonical UUID");
		memcpy(v->volume, m->val, PROTO_VOLUME_LEN);
		return 0;
	}
	if (m->val_len >= sizeof(v->policy))
		return snp_errf(err, -EBADMSG, "'policy' is too long");
	memcpy(v->policy, m->val, m->val_len);
	if (!policy_name_valid(v->policy))
		return snp_errf(err, -EBADMSG, "'policy' is not a policy name");
	return 0;
}

static int decode_field(struct store_volume *v, int f, const struct member *m,
			struct snp_err *err)
{
	uint64_t n;

	if (m->is_string != (f == F_VOLUME || f == F_POLICY || f == F_SECRET))
		return snp_errf(err, -EBADMSG, "'%s' has the wrong type", field_names[f]);
	if (m->is_string)
		return decode_string_field(v, f, m, err);
	if (parse_uint(m, INT64_MAX, &n))
		return snp_errf(err, -EBADMSG, "'%s' is not a number the store writes",
				field_names[f]);
	if ((f == F_VERSION && n != 1) || (f == F_GENERATION && n < 1))
		return snp_errf(err, -EBADMSG, "'%s' is %" PRIu64 ", not %s", field_names[f], n,
				f == F_VERSION ? "1" : "a generation (1 or more)");
	if (f == F_GENERATION)
		v->generation = n;
	else if (f == F_CREATED)
		v->created = (int64_t)n;
	else if (f == F_UPDATED)
		v->updated = (int64_t)n;
	return 0;
}

static int decode_members(const char *text, size_t len, struct store_volume *v,
			  struct snp_err *err)
{
	const char *p = skip_ws(text, text + len), *end = text + len;
	unsigned int seen = 0;
	struct member m;
	int f, ret;

	if (p >= end || *p++ != '{')
		return snp_errf(err, -EBADMSG, "not a JSON object");
	for (;;) {
		if (scan_member(&p, end, &m))
			return snp_errf(err, -EBADMSG, "truncated or malformed at byte %zu",
					(size_t)(p - text));
		f = field_of(&m);
		if (f < 0)
			return snp_errf(err, -EBADMSG, "unknown member '%.*s'",
					(int)(m.key_len < 32 ? m.key_len : 32), m.key);
		if (seen & 1u << f)
			return snp_errf(err, -EBADMSG, "'%s' repeated", field_names[f]);
		seen |= 1u << f;
		ret = decode_field(v, f, &m, err);
		if (ret)
			return ret;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p++ == '}')
			break;
		return snp_errf(err, -EBADMSG, "truncated or malformed after '%s'",
				field_names[f]);
	}
	if (skip_ws(p, end) != end)
		return snp_errf(err, -EBADMSG, "data after the record");
	for (f = 0; f < F_COUNT; f++)
		if (!(seen & 1u << f))
			return snp_errf(err, -EBADMSG, "'%s' missing (truncated?)", field_names[f]);
	return 0;
}

/* path names the file in errors; the record must be of volume `want`. */
static int record_decode(const char *text, size_t len, const char *want, const char *path,
			 struct store_volume *v, struct snp_err *err)
{
	struct snp_err inner = { 0 };
	int ret;

	memset(v, 0, sizeof(*v));
	ret = decode_members(text, len, v, &inner);
	if (!ret && strcmp(v->volume, want))
		ret = snp_errf(&inner, -EBADMSG, "it holds volume %s", v->volume);
	if (ret) {
		store_volume_wipe(v);
		return snp_errf(err, -EBADMSG, "%s: corrupt volume record: %s", path, inner.msg);
	}
	return 0;
}

static int record_encode(const struct store_volume *v, char **text, size_t *len)
{
	char *b64 = proto_b64_encode(v->secret, v->secret_len);
	size_t size;
	char *out;
	int n;

	*text = NULL;
	if (!b64)
		return -ENOMEM;
	size = strlen(b64) + 256 + sizeof(v->policy);
	out = malloc(size);
	n = out ? snprintf(out, size,
			   "{\"version\":1,\"volume\":\"%s\",\"policy\":\"%s\",\"secret\":\"%s\","
			   "\"generation\":%" PRIu64 ",\"created\":%" PRId64 ",\"updated\":%" PRId64
			   "}\n", v->volume, v->policy, b64, v->generation, v->created, v->updated)
		: -1;
	explicit_bzero(b64, strlen(b64));
	free(b64);
	if (n < 0 || (size_t)n >= size) {
		free(out);
		return -ENOMEM;
	}
	*text = out;
	*len = (size_t)n;
	return 0;
}

static void text_free(char *text, size_t len)
{
	if (text)
		explicit_bzero(text, len);
	free(text);
}

static int volume_write(struct store *st, const char *sub, const char *name,
			const struct store_volume *v, struct snp_err *err)
{
	char *text;
	size_t len = 0;
	int ret = record_encode(v, &text, &len);

	if (ret)
		return snp_errf(err, ret, "out of memory");
	ret = write_file(st, sub, name, text, len, err);
	text_free(text, len);
	return ret;
}

static bool volume_arg_ok(const char *volume, struct snp_err *err)
{
	if (proto_volume_valid(volume, strlen(volume)))
		return true;
	snp_errf(err, -EINVAL, "'%s' is not a canonical volume id (lowercase UUID)", volume);
	return false;
}

static bool policy_arg_ok(const char *policy, struct snp_err *err)
{
	if (policy_name_valid(policy))
		return true;
	snp_errf(err, -EINVAL, "'%s' is not a policy name ([A-Za-z0-9._-], at most %d)",
		 policy, POLICY_NAME_MAX - 1);
	return false;
}

static bool secret_len_ok(size_t len, struct snp_err *err)
{
	if (len >= PROTO_SECRET_MIN && len <= PROTO_SECRET_MAX)
		return true;
	snp_errf(err, -EINVAL, "a secret is %d to %d bytes, not %zu", PROTO_SECRET_MIN,
		 PROTO_SECRET_MAX, len);
	return false;
}

static void volume_name(char out[NAME_SIZE], const char *volume)
{
	snprintf(out, NAME_SIZE, "%s.json", volume);
}

static void archive_name(char out[NAME_SIZE], const char *volume, uint64_t generation)
{
	snprintf(out, NAME_SIZE, "%s.%" PRIu64 ".json", volume, generation);
}

/* One record: its text (for the archive) when text is given, else wiped. */
static int record_load(struct store *st, const char *sub, const char *name, const char *volume,
		       struct store_volume *v, char **text, size_t *text_len,
		       struct snp_err *err)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int ret;

	if (file_path(path, st, sub, name))
		return snp_errf(err, -ENAMETOOLONG, "%s: path too long", st->dir);
	ret = read_file(st, sub, name, RECORD_MAX, &buf, &len, err);
	if (ret == -ENOENT)
		return snp_errf(err, ret, "%s: no volume %s", st->dir, volume);
	if (ret)
		return ret;
	ret = record_decode(buf, len, volume, path, v, err);
	if (!ret && text) {
		*text = buf;
		*text_len = len;
		return 0;
	}
	text_free(buf, len);
	return ret;
}

int store_volume_get(struct store *st, const char *volume, struct store_volume *v,
		     struct snp_err *err)
{
	char name[NAME_SIZE];

	memset(v, 0, sizeof(*v));
	if (!volume_arg_ok(volume, err))
		return -EINVAL;
	volume_name(name, volume);
	return record_load(st, "volumes", name, volume, v, NULL, NULL, err);
}

int store_archive_get(struct store *st, const char *volume, uint64_t generation,
		      struct store_volume *v, struct snp_err *err)
{
	char name[NAME_SIZE];
	int ret;

	memset(v, 0, sizeof(*v));
	if (!volume_arg_ok(volume, err))
		return -EINVAL;
	archive_name(name, volume, generation);
	ret = record_load(st, "archive", name, volume, v, NULL, NULL, err);
	if (ret == -ENOENT)
		return snp_errf(err, ret, "%s: no archived generation %" PRIu64 " of volume %s",
				st->dir, generation, volume);
	if (!ret && v->generation != generation) {
		store_volume_wipe(v);
		return snp_errf(err, -EBADMSG, "%s/archive/%s: corrupt: holds generation %" PRIu64,
				st->dir, name, v->generation);
	}
	return ret;
}

static bool file_exists(const struct store *st, const char *sub, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;

	return !file_path(path, st, sub, name) && !lstat(path, &sb);
}

static int policy_exists(const struct store *st, const char *policy, struct snp_err *err)
{
	char name[NAME_SIZE];

	if (!policy_arg_ok(policy, err))
		return -EINVAL;
	snprintf(name, sizeof(name), "%s.json", policy);
	if (!file_exists(st, "policies", name))
		return snp_errf(err, -ENOENT, "%s: no policy '%s'", st->dir, policy);
	return 0;
}

/* --- Listing directories --- */

struct name_list {
	char **names;
	size_t n, cap;
};

static int list_push(struct name_list *l, const char *name, size_t len)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **grown = realloc(l->names, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->names = grown;
		l->cap = cap;
	}
	copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	l->names[l->n++] = copy;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names in STATE/sub that end in suffix, without it, for which accept()
 * holds; dotfiles (temporaries, the lock) are never listed.
 */
static int list_names(const struct store *st, const char *sub, const char *suffix,
		      bool (*accept)(const char *stem, size_t len, const void *arg),
		      const void *arg, struct name_list *l, struct snp_err *err)
{
	size_t suffix_len = strlen(suffix);
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int ret = 0;

	memset(l, 0, sizeof(*l));
	if (dir_path(path, st, sub))
		return snp_errf(err, -ENAMETOOLONG, "%s: path too long", st->dir);
	d = opendir(path);
	if (!d)
		return snp_errf(err, -errno, "%s: %s", path, strerror(errno));
	while (!ret && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len <= suffix_len ||
		    strcmp(e->d_name + len - suffix_len, suffix) ||
		    !accept(e->d_name, len - suffix_len, arg))
			continue;
		ret = list_push(l, e->d_name, len - suffix_len);
	}
	closedir(d);
	if (ret) {
		store_list_free(l->names, l->n);
		return snp_errf(err, ret, "out of memory");
	}
	if (l->n)	/* qsort wants a non-null array even for none */
		qsort(l->names, l->n, sizeof(*l->names), by_name);
	return 0;
}

void store_list_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static bool is_volume(const char *stem, size_t len, const void *arg)
{
	(void)arg;
	return proto_volume_valid(stem, len);
}

static bool is_policy(const char *stem, size_t len, const void *arg)
{
	char name[POLICY_NAME_MAX + 1];

	(void)arg;
	if (len >= sizeof(name))
		return false;
	memcpy(name, stem, len);
	name[len] = '\0';
	return policy_name_valid(name);
}

/* "UUID.GEN" of the volume arg. */
static bool is_archive_of(const char *stem, size_t len, const void *arg)
{
	const char *volume = arg;

	return len > PROTO_VOLUME_LEN + 1 && !memcmp(stem, volume, PROTO_VOLUME_LEN) &&
	       stem[PROTO_VOLUME_LEN] == '.';
}

int store_volume_list(struct store *st, char ***ids, size_t *n, struct snp_err *err)
{
	struct name_list l;
	int ret = list_names(st, "volumes", ".json", is_volume, NULL, &l, err);

	*ids = ret ? NULL : l.names;
	*n = ret ? 0 : l.n;
	return ret;
}

int store_policy_list(struct store *st, char ***names, size_t *n, struct snp_err *err)
{
	struct name_list l;
	int ret = list_names(st, "policies", ".json", is_policy, NULL, &l, err);

	*names = ret ? NULL : l.names;
	*n = ret ? 0 : l.n;
	return ret;
}

static int by_generation(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int store_archive_list(struct store *st, const char *volume, uint64_t **generations, size_t *n,
		       struct snp_err *err)
{
	struct name_list l;
	uint64_t *gens = NULL;
	size_t count = 0;
	int ret;

	*generations = NULL;
	*n = 0;
	if (!volume_arg_ok(volume, err))
		return -EINVAL;
	ret = list_names(st, "archive", ".json", is_archive_of, volume, &l, err);
	if (ret)
		return ret;
	gens = calloc(l.n + 1, sizeof(*gens));
	if (!gens) {
		ret = snp_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct member m = { .val = l.names[i] + PROTO_VOLUME_LEN + 1 };

		m.val_len = strlen(m.val);
		if (strspn(m.val, "0123456789") == m.val_len &&
		    !parse_uint(&m, INT64_MAX, &gens[count]))
			count++;
	}
	qsort(gens, count, sizeof(*gens), by_generation);
	*generations = gens;
	*n = count;
out:
	store_list_free(l.names, l.n);
	return ret;
}

/* --- Changing the store: each change runs under the lock --- */

/* What one change is about; each operation reads the members it needs. */
struct change {
	const char *volume;
	const struct store_volume *added;
	const uint8_t *secret;
	size_t secret_len;
	const char *policy;
	size_t purged;
	struct store_volume cur;	/* the record being changed; wiped after */
};

typedef int (*change_fn)(struct store *st, struct change *c, const char *name,
			 struct snp_err *err);

/* Run fn on c->volume (file name `name`) under the lock. */
static int change_locked(struct store *st, struct change *c, change_fn fn, struct snp_err *err)
{
	char name[NAME_SIZE];
	int ret;

	if (!volume_arg_ok(c->volume, err))
		return -EINVAL;
	ret = store_lock(st, LOCK_WAIT_MS, err);
	if (ret)
		return ret;
	volume_name(name, c->volume);
	ret = fn(st, c, name, err);
	store_unlock(st);
	store_volume_wipe(&c->cur);
	return ret;
}

/* 1, or one after the last archived generation of a volume added again. */
static int first_generation(struct store *st, const char *volume, uint64_t *generation,
			    struct snp_err *err)
{
	uint64_t *gens;
	size_t n;
	int ret = store_archive_list(st, volume, &gens, &n, err);

	if (ret)
		return ret;
	*generation = n ? gens[n - 1] + 1 : 1;
	free(gens);
	return 0;
}

static int add_locked(struct store *st, struct change *c, const char *name,
		      struct snp_err *err)
{
	int ret = policy_exists(st, c->added->policy, err);

	if (ret)
		return ret;
	if (file_exists(st, "volumes", name))
		return snp_errf(err, -EEXIST, "volume %s exists already", c->volume);
	c->cur = *c->added;
	ret = first_generation(st, c->volume, &c->cur.generation, err);
	if (ret)
		return ret;
	c->cur.created = c->cur.updated = (int64_t)time(NULL);
	return volume_write(st, "volumes", name, &c->cur, err);
}

int store_volume_add(struct store *st, const struct store_volume *v, struct snp_err *err)
{
	struct change c = { .volume = v->volume, .added = v };

	if (!secret_len_ok(v->secret_len, err))
		return -EINVAL;
	return change_locked(st, &c, add_locked, err);
}

/*
 * The current record into c->cur, and a copy of it in the archive: from
 * here on, the current one may be replaced or unlinked and nothing is lost.
 */
static int load_and_archive(struct store *st, struct change *c, const char *name,
			    struct snp_err *err)
{
	char archived[NAME_SIZE], *text = NULL;
	size_t len = 0;
	int ret = record_load(st, "volumes", name, c->volume, &c->cur, &text, &len, err);

	if (ret)
		return ret;
	archive_name(archived, c->volume, c->cur.generation);
	ret = write_file(st, "archive", archived, text, len, err);
	text_free(text, len);
	return ret;
}

static int rotate_locked(struct store *st, struct change *c, const char *name,
			 struct snp_err *err)
{
	int ret = load_and_archive(st, c, name, err);

	if (ret)
		return ret;
	memcpy(c->cur.secret, c->secret, c->secret_len);
	c->cur.secret_len = c->secret_len;
	c->cur.generation++;
	c->cur.updated = (int64_t)time(NULL);
	return volume_write(st, "volumes", name, &c->cur, err);
}

int store_volume_rotate(struct store *st, const char *volume, const uint8_t *secret,
			size_t secret_len, struct snp_err *err)
{
	struct change c = { .volume = volume, .secret = secret, .secret_len = secret_len };

	if (!secret_len_ok(secret_len, err))
		return -EINVAL;
	return change_locked(st, &c, rotate_locked, err);
}

static int set_policy_locked(struct store *st, struct change *c, const char *name,
			     struct snp_err *err)
{
	int ret = policy_exists(st, c->policy, err);

	if (!ret)
		ret = record_load(st, "volumes", name, c->volume, &c->cur, NULL, NULL, err);
	if (ret)
		return ret;
	snprintf(c->cur.policy, sizeof(c->cur.policy), "%s", c->policy);
	c->cur.updated = (int64_t)time(NULL);
	return volume_write(st, "volumes", name, &c->cur, err);
}

int store_volume_set_policy(struct store *st, const char *volume, const char *policy,
			    struct snp_err *err)
{
	struct change c = { .volume = volume, .policy = policy };

	return change_locked(st, &c, set_policy_locked, err);
}

static int unlink_file(const struct store *st, const char *sub, const char *name,
		       struct snp_err *err)
{
	char path[PATH_MAX], dir[PATH_MAX];

	if (file_path(path, st, sub, name) || dir_path(dir, st, sub))
		return snp_errf(err, -ENAMETOOLONG, "%s: path too long", st->dir);
	if (unlink(path))
		return snp_errf(err, -errno, "%s: %s", path, strerror(errno));
	return fsync_dir(dir, err);
}

static int remove_locked(struct store *st, struct change *c, const char *name,
			 struct snp_err *err)
{
	int ret = load_and_archive(st, c, name, err);

	return ret ? ret : unlink_file(st, "volumes", name, err);
}

int store_volume_remove(struct store *st, const char *volume, struct snp_err *err)
{
	struct change c = { .volume = volume };

	return change_locked(st, &c, remove_locked, err);
}

static int purge_locked(struct store *st, struct change *c, const char *name,
			struct snp_err *err)
{
	char archived[NAME_SIZE];
	uint64_t *gens;
	size_t n;
	int ret;

	if (file_exists(st, "volumes", name))
		return snp_errf(err, -EBUSY, "volume %s is current; remove it before purging",
				c->volume);
	ret = store_archive_list(st, c->volume, &gens, &n, err);
	if (ret)
		return ret;
	if (!n)
		ret = snp_errf(err, -ENOENT, "%s: nothing archived for volume %s", st->dir,
			       c->volume);
	for (size_t i = 0; !ret && i < n; i++) {
		archive_name(archived, c->volume, gens[i]);
		ret = unlink_file(st, "archive", archived, err);
		if (!ret)
			c->purged++;
	}
	free(gens);
	return ret;
}

int store_volume_purge(struct store *st, const char *volume, size_t *purged,
		       struct snp_err *err)
{
	struct change c = { .volume = volume };
	int ret = change_locked(st, &c, purge_locked, err);

	*purged = c.purged;
	return ret;
}

void store_volume_wipe(struct store_volume *v)
{
	explicit_bzero(v, sizeof(*v));
}

/* --- Policies --- */

int store_policy_put(struct store *st, const char *name, const char *json, size_t len,
		     struct snp_err *err)
{
	char file[NAME_SIZE];
	int ret;

	if (!policy_arg_ok(name, err))
		return -EINVAL;
	if (len > POLICY_FILE_MAX)
		return snp_errf(err, -EFBIG, "policy '%s' is larger than %d bytes", name,
				POLICY_FILE_MAX);
	snprintf(file, sizeof(file), "%s.json", name);
	ret = store_lock(st, LOCK_WAIT_MS, err);
	if (ret)
		return ret;
	ret = write_file(st, "policies", file, json, len, err);
	store_unlock(st);
	return ret;
}

int store_policy_get(struct store *st, const char *name, char **json, size_t *len,
		     struct snp_err *err)
{
	char file[NAME_SIZE];
	int ret;

	*json = NULL;
	*len = 0;
	if (!policy_arg_ok(name, err))
		return -EINVAL;
	snprintf(file, sizeof(file), "%s.json", name);
	ret = read_file(st, "policies", file, POLICY_FILE_MAX, json, len, err);
	if (ret == -ENOENT)
		return snp_errf(err, ret, "%s: no policy '%s'", st->dir, name);
	return ret;
}
