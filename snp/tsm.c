// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The configfs-tsm provider (Documentation/ABI/testing/configfs-tsm).
 *
 * One report is one entry, <root>/tsm/report/<name>, made for this request
 * alone and removed on every path. The kernel's contract, and what we do
 * about each part of it:
 *
 *  - provider reads "sev_guest\n" for an SEV-SNP guest; anything else
 *    (tdx_guest, ...) produces another format: refused.
 *  - generation counts the writes to inblob and the options (privlevel).
 *    We read it before writing, count our writes, and require exactly
 *    that value after the writes and again after reading outblob and
 *    auxblob: anyone else writing the entry changes it. A binary
 *    attribute's write is committed when the file is closed, where an
 *    error is lost; the count after the writes catches that too.
 *  - inblob takes exactly 64 bytes for sev_guest (they become REPORT_DATA).
 *  - privlevel takes the VMPL, from privlevel_floor (the VMPL the guest
 *    runs at) to 3. It is written only for a VMPL other than 0, and a VMPL
 *    below the floor is refused before the firmware sees it.
 *  - outblob is the firmware's report, exactly report_size bytes as the
 *    firmware gave them. We require exactly 0x4A0: every SNP firmware to
 *    date returns that; a longer blob would be a format we cannot parse,
 *    and cutting it to 0x4A0 would hide the change. We read at most 0x4A0
 *    bytes plus one to tell "longer" apart.
 *  - auxblob is the host's certificate table, empty when the host gave
 *    none, absent on kernels before it existed; both mean "no table".
 *    The kernel caps it at 16 KiB; so do we.
 *
 * Reading outblob is what sends the request to the firmware. Its time is
 * bounded by the kernel (which retries a busy host for at most 60 s);
 * configfs files cannot be polled, so the overall bound is checked
 * between the steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "snp/fdio.h"
#include "snp/provider_impl.h"

#define TSM_PROVIDER_SEV	"sev_guest"
#define TSM_TEXT_MAX		64	/* provider, generation, privlevel_floor */
#define TSM_PATH_MAX		512
#define TSM_NAME_TRIES		8

/* The real kernel. */

static int sys_fs_type(void *ctx, const char *path, long *type)
{
	struct statfs st;

	(void)ctx;
	if (statfs(path, &st))
		return -errno;
	*type = (long)st.f_type;
	return 0;
}

static int sys_mount_configfs(void *ctx, const char *target)
{
	(void)ctx;
	if (mount("configfs", target, "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return 0;
}

static int sys_is_dir(void *ctx, const char *path)
{
	struct stat st;

	(void)ctx;
	if (stat(path, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int sys_mkdir(void *ctx, const char *path)
{
	(void)ctx;
	return mkdir(path, 0700) ? -errno : 0;
}

static int sys_rmdir(void *ctx, const char *path)
{
	(void)ctx;
	return rmdir(path) ? -errno : 0;
}

/* Read up to max bytes; then one more read tells whether there was more. */
static ssize_t read_bounded(int fd, uint8_t *buf, size_t max)
{
	size_t got = 0;
	uint8_t extra;
	ssize_t n;

	while (got < max) {
		n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
	}
	do {
		n = read(fd, &extra, 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? -EFBIG : (ssize_t)got;
}

static ssize_t sys_read(void *ctx, const char *path, void *buf, size_t max)
{
	ssize_t ret;
	int fd;

	(void)ctx;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_bounded(fd, buf, max);
	close(fd);
	return ret;
}

static int sys_write(void *ctx, const char *path, const void *buf, size_t len)
{
	int fd, ret;

	(void)ctx;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = snp_write_all(fd, buf, len);
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

const struct snp_tsm_ops snp_tsm_sys_ops = {
	.fs_type = sys_fs_type,
	.mount_configfs = sys_mount_configfs,
	.is_dir = sys_is_dir,
	.mkdir = sys_mkdir,
	.rmdir = sys_rmdir,
	.read = sys_read,
	.write = sys_write,
};

/* One report entry. */

struct tsm_entry {
	const struct snp_tsm_ops *ops;
	char dir[TSM_PATH_MAX];		/* <root>/tsm/report/<name> */
	char path[TSM_PATH_MAX];	/* an attribute of it */
	int made;
};

static const struct snp_tsm_ops *tsm_ops(const struct snp_provider_config *cfg)
{
	return cfg->tsm_ops ? cfg->tsm_ops : &snp_tsm_sys_ops;
}

static const char *tsm_root(const struct snp_provider_config *cfg)
{
	return cfg->configfs_root ? cfg->configfs_root : SNP_CONFIGFS_ROOT;
}

static int join(char *out, const char *a, const char *b, struct snp_err *err)
{
	int n = snprintf(out, TSM_PATH_MAX, "%s/%s", a, b);

	if (n < 0 || n >= TSM_PATH_MAX)
		return snp_errf(err, -ENAMETOOLONG, "configfs path %s/%s is too long", a, b);
	return 0;
}

static int configfs_mounted(const struct snp_tsm_ops *ops, const char *root,
			    struct snp_err *err)
{
	long type = 0;
	int ret;

	ret = ops->fs_type(ops->ctx, root, &type);
	if (ret == -ENOENT)
		return snp_errf(err, -ENODEV, "no configfs-tsm: %s does not exist "
				"(is sysfs mounted, and configfs built into the kernel?)", root);
	if (ret)
		return snp_errf(err, -ENODEV, "no configfs-tsm: cannot check %s: %s",
				root, strerror(-ret));
	return type == SNP_CONFIGFS_MAGIC;
}

static int mount_configfs(const struct snp_tsm_ops *ops, const char *root,
			  struct snp_err *err)
{
	int ret = configfs_mounted(ops, root, err);

	if (ret)
		return ret < 0 ? ret : 0;
	ret = ops->mount_configfs(ops->ctx, root);
	if (ret && ret != -EBUSY)
		return snp_errf(err, -ENODEV, "no configfs-tsm: configfs is not mounted on %s, "
				"and mounting it failed: %s", root, strerror(-ret));
	ret = configfs_mounted(ops, root, err);
	if (ret)
		return ret < 0 ? ret : 0;
	return snp_errf(err, -ENODEV, "no configfs-tsm: %s is still no configfs after mounting it",
			root);
}

int snp_tsm_probe(const struct snp_provider_config *cfg, struct snp_err *err)
{
	const struct snp_tsm_ops *ops = tsm_ops(cfg);
	char dir[TSM_PATH_MAX];
	int ret;

	ret = mount_configfs(ops, tsm_root(cfg), err);
	if (ret)
		return ret;
	ret = join(dir, tsm_root(cfg), "tsm/report", err);
	if (ret)
		return ret;
	ret = ops->is_dir(ops->ctx, dir);
	if (ret == -ENOENT)
		return snp_errf(err, -ENODEV, "no configfs-tsm: %s does not exist "
				"(Linux before 6.7, or the tsm and sev-guest modules are not loaded)",
				dir);
	if (ret)
		return snp_errf(err, -ENODEV, "no configfs-tsm: %s: %s", dir, strerror(-ret));
	return 0;
}

static uint32_t name_salt(void)
{
	struct timespec ts;
	uint32_t salt;

	/* The name must be unique, not secret: early boot may have no entropy yet. */
	if (getrandom(&salt, sizeof(salt), GRND_NONBLOCK) == (ssize_t)sizeof(salt))
		return salt;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u;
}

static int entry_make(struct tsm_entry *e, const char *root, struct snp_err *err)
{
	int ret = -EEXIST, n;

	for (int i = 0; i < TSM_NAME_TRIES && ret == -EEXIST; i++) {
		n = snprintf(e->dir, sizeof(e->dir), "%s/tsm/report/snp-unseal.%ld.%08" PRIx32,
			     root, (long)getpid(), name_salt());
		/* Leave room for the longest attribute name. */
		if (n < 0 || (size_t)n + sizeof("/privlevel_floor") > sizeof(e->dir))
			return snp_errf(err, -ENAMETOOLONG, "configfs root %s is too long", root);
		ret = e->ops->mkdir(e->ops->ctx, e->dir);
	}
	if (ret == -EEXIST)
		return snp_errf(err, ret, "could not find a free configfs-tsm entry name "
				"in %d tries (last %s)", TSM_NAME_TRIES, e->dir);
	if (ret)
		return snp_errf(err, ret, "cannot create configfs-tsm entry %s: %s",
				e->dir, strerror(-ret));
	e->made = 1;
	return 0;
}

static const char *attr_path(struct tsm_entry *e, const char *attr)
{
	int n = snprintf(e->path, sizeof(e->path), "%s/%s", e->dir, attr);

	/* entry_make left room for the longest attribute name. */
	if (n < 0 || n >= (int)sizeof(e->path))
		e->path[0] = '\0';
	return e->path;
}

static int attr_error(const struct tsm_entry *e, const char *attr, const char *op,
		      int ret, struct snp_err *err)
{
	if (ret == -ENOENT)
		return snp_errf(err, ret, "configfs-tsm entry %s vanished before %s %s",
				e->dir, op, attr);
	if (ret == -ENXIO)
		return snp_errf(err, ret, "%s %s of %s failed: the TSM provider is gone "
				"(the sev-guest module was unloaded?) or the firmware failed the request",
				op, attr, e->dir);
	return snp_errf(err, ret, "%s %s of %s failed: %s", op, attr, e->dir, strerror(-ret));
}

/* A text attribute, without its newline, as a C string. */
static int read_text(struct tsm_entry *e, const char *attr, char *out, size_t size,
		     struct snp_err *err)
{
	ssize_t n = e->ops->read(e->ops->ctx, attr_path(e, attr), out, size - 1);

	if (n == -EFBIG)
		return snp_errf(err, -EBADMSG, "%s of %s is longer than %zu bytes",
				attr, e->dir, size - 1);
	if (n < 0)
		return attr_error(e, attr, "reading", (int)n, err);
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return 0;
}

static int read_number(struct tsm_entry *e, const char *attr, unsigned long *value,
		       struct snp_err *err)
{
	char text[TSM_TEXT_MAX], *end;
	int ret = read_text(e, attr, text, sizeof(text), err);

	if (ret)
		return ret;
	errno = 0;
	*value = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno)
		return snp_errf(err, -EBADMSG, "%s of %s reads '%s', not a number",
				attr, e->dir, text);
	return 0;
}

static int check_provider(struct tsm_entry *e, struct snp_err *err)
{
	char name[TSM_TEXT_MAX];
	int ret = read_text(e, "provider", name, sizeof(name), err);

	if (ret)
		return ret;
	if (strcmp(name, TSM_PROVIDER_SEV))
		return snp_errf(err, -ENODEV, "configfs-tsm provider is '%s', not '%s': "
				"this is no SEV-SNP guest", name, TSM_PROVIDER_SEV);
	return 0;
}

/* Refuse a VMPL below the floor here rather than at the firmware. */
static int set_privlevel(struct tsm_entry *e, uint32_t vmpl, int *writes,
			 struct snp_err *err)
{
	unsigned long floor = 0;
	char text[16];
	int ret;

	ret = read_number(e, "privlevel_floor", &floor, err);
	if (ret == -ENOENT && vmpl == 0)
		return 0;	/* an older kernel: no privilege levels at all */
	if (ret == -ENOENT)
		return snp_errf(err, -EOPNOTSUPP, "this kernel's configfs-tsm has no privlevel; "
				"cannot ask for VMPL %u", vmpl);
	if (ret)
		return ret;
	if (vmpl < floor)
		return snp_errf(err, -EINVAL, "VMPL %u is below privlevel_floor %lu "
				"(the guest runs at VMPL %lu and cannot ask for a lower one)",
				vmpl, floor, floor);
	if (vmpl == 0)
		return 0;
	snprintf(text, sizeof(text), "%u\n", vmpl);
	ret = e->ops->write(e->ops->ctx, attr_path(e, "privlevel"), text, strlen(text));
	if (ret)
		return attr_error(e, "privlevel", "writing", ret, err);
	(*writes)++;
	return 0;
}

static int check_generation(struct tsm_entry *e, unsigned long want, const char *when,
			    struct snp_err *err)
{
	unsigned long gen;
	int ret = read_number(e, "generation", &gen, err);

	if (ret)
		return ret;
	if (gen != want)
		return snp_errf(err, -EBUSY, "generation of %s is %lu %s, expected %lu: "
				"someone else wrote the entry, or a write did not take",
				e->dir, gen, when, want);
	return 0;
}

/* Errors of the guest request itself, after which the kernel wipes the VMPCK. */
static int request_failed(int ret)
{
	return ret == -EIO || ret == -ETIMEDOUT || ret == -EBADMSG ||
	       ret == -ENOTTY || ret == -ENOSR || ret == -EAGAIN;
}

static int outblob_error(const struct tsm_entry *e, ssize_t n, struct snp_err *err)
{
	if (n == -EFBIG)
		return snp_errf(err, -EBADMSG, "outblob of %s is longer than a report (0x%x bytes)",
				e->dir, SNP_REPORT_SIZE);
	if (n == -EINVAL)
		return snp_errf(err, (int)n, "the firmware refused the request for %s "
				"(status INVALID_PARAM or INVALID_KEY)", e->dir);
	if (n == -ENOTTY)
		return snp_errf(err, (int)n, "reading outblob of %s: the kernel refuses guest "
				"requests (its VMPCK was disabled by an earlier failure)", e->dir);
	return attr_error(e, "outblob", "reading", (int)n, err);
}

static int read_outblob(struct tsm_entry *e, struct snp_report_result *res,
			struct snp_err *err)
{
	ssize_t n = e->ops->read(e->ops->ctx, attr_path(e, "outblob"), res->report,
				 sizeof(res->report));
	struct snp_err why = { 0 };

	if (n < 0) {
		outblob_error(e, n, &why);
		if (request_failed((int)n))
			snp_latch_set(&why);
		return snp_errf(err, why.code, "%s", why.msg);
	}
	if (n != SNP_REPORT_SIZE)
		return snp_errf(err, -EBADMSG, "outblob of %s is %zd bytes, not a report (0x%x)",
				e->dir, n, SNP_REPORT_SIZE);
	return 0;
}

static int read_auxblob(struct tsm_entry *e, struct snp_report_result *res,
			struct snp_err *err)
{
	uint8_t *blob = malloc(SNP_CERT_TABLE_SIZE_MAX);
	ssize_t n;
	int ret = 0;

	if (!blob)
		return snp_errf(err, -ENOMEM, "out of memory for the certificate table");
	n = e->ops->read(e->ops->ctx, attr_path(e, "auxblob"), blob, SNP_CERT_TABLE_SIZE_MAX);
	if (n == -ENOENT && e->ops->is_dir(e->ops->ctx, e->dir) == 0)
		n = 0;	/* a kernel before auxblob: no table */
	if (n == -EFBIG)
		ret = snp_errf(err, -EBADMSG, "auxblob of %s is longer than %d bytes",
			       e->dir, SNP_CERT_TABLE_SIZE_MAX);
	else if (n < 0)
		ret = attr_error(e, "auxblob", "reading", (int)n, err);
	if (ret || n == 0) {
		free(blob);
		return ret;
	}
	res->certs = blob;
	res->certs_len = (size_t)n;
	return 0;
}

static int entry_request(struct tsm_entry *e, const struct snp_report_request *req,
			 struct snp_report_result *res, const struct snp_deadline *dl,
			 struct snp_err *err)
{
	unsigned long gen0;
	int ret, writes = 0;

	ret = check_provider(e, err);
	if (!ret)
		ret = read_number(e, "generation", &gen0, err);
	if (!ret)
		ret = set_privlevel(e, req->vmpl, &writes, err);
	if (ret)
		return ret;
	ret = e->ops->write(e->ops->ctx, attr_path(e, "inblob"), req->report_data,
			    SNP_REPORT_DATA_SIZE);
	if (ret)
		return attr_error(e, "inblob", "writing", ret, err);
	writes++;
	ret = check_generation(e, gen0 + writes, "after our writes", err);
	if (!ret)
		ret = snp_deadline_check(dl, "reading outblob", err);
	if (!ret)
		ret = read_outblob(e, res, err);
	if (!ret && req->want_certs)
		ret = read_auxblob(e, res, err);
	if (!ret)
		ret = check_generation(e, gen0 + writes, "after reading the report", err);
	return ret;
}

static void entry_remove(struct tsm_entry *e, int failed, struct snp_report_result *res)
{
	int ret;

	if (!e->made)
		return;
	ret = e->ops->rmdir(e->ops->ctx, e->dir);
	/* The report stands; a leftover entry is worth a line in the log. */
	if (ret && ret != -ENOENT && !failed &&
	    snprintf(res->note, sizeof(res->note), "could not remove configfs-tsm entry %s: %s",
		     e->dir, strerror(-ret)) >= (int)sizeof(res->note))
		res->note[sizeof(res->note) - 1] = '\0';
}

int snp_tsm_get_probed(const struct snp_provider_config *cfg,
		       const struct snp_report_request *req, struct snp_report_result *res,
		       const struct snp_deadline *dl, struct snp_err *err)
{
	struct tsm_entry e = { .ops = tsm_ops(cfg) };
	int ret;

	res->provider = SNP_PROVIDER_CONFIGFS;
	ret = snp_latch_check(err);
	if (!ret)
		ret = entry_make(&e, tsm_root(cfg), err);
	if (!ret)
		ret = entry_request(&e, req, res, dl, err);
	entry_remove(&e, ret, res);
	return ret;
}

/* The latch first as well: a latched process does not even probe. */
int snp_tsm_get(const struct snp_provider_config *cfg,
		const struct snp_report_request *req, struct snp_report_result *res,
		const struct snp_deadline *dl, struct snp_err *err)
{
	int ret;

	res->provider = SNP_PROVIDER_CONFIGFS;
	ret = snp_latch_check(err);
	if (!ret)
		ret = snp_tsm_probe(cfg, err);
	return ret ? ret : snp_tsm_get_probed(cfg, req, res, dl, err);
}
