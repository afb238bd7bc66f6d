// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The configfs-tsm provider against a fake kernel that behaves like
 * drivers/virt/coco/tsm: entries made by mkdir, generation counting every
 * write, outblob produced from inblob on read, provider/privlevel_floor/
 * auxblob attributes; and the ways it goes wrong (an entry that vanishes,
 * a provider that goes away, a concurrent writer, another provider's
 * format, an outblob of the wrong size, a failed firmware request).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snp/provider.h"
#include "snp/provider_impl.h"
#include "snp/sim/sim.h"
#include "tests/harness.h"
#include "tests/unit/fake_report.h"

#define ROOT		"/fake/config"
#define REPORT_DIR	ROOT "/tsm/report"

enum mischief {
	NONE,
	VANISH_AT_OUTBLOB,	/* someone rmdirs our entry */
	PROVIDER_GONE_AT_OUTBLOB, /* the sev-guest module is unloaded */
	WRITER_AT_OUTBLOB,	/* another process writes inblob */
	WRITER_AT_AUXBLOB,
	LOST_INBLOB,		/* the commit at close fails, silently */
	WRONG_DATA,		/* the report carries other data */
};

struct fake_entry {
	char name[128];
	int live;
	unsigned long write_gen, read_gen;
	uint8_t inblob[SNP_REPORT_DATA_SIZE];
	size_t inblob_len;
	unsigned int privlevel;
	int have_report;
	uint8_t outblob[2 * SNP_REPORT_SIZE];
};

struct fake_tsm {
	/* The machine. */
	int root_exists, mounted, loaded;
	int mount_error;
	const char *provider;
	int has_privlevel;
	unsigned int floor;
	int has_auxblob;
	uint8_t aux[SNP_CERT_TABLE_SIZE_MAX + 16];
	size_t aux_len;
	size_t outblob_len;
	int report_errno;	/* what report_new fails with, 0 for success */
	int eexist;		/* mkdir answers EEXIST this many more times */
	int mkdir_delay_ms;
	enum mischief mischief;
	struct snp_sim *sim;	/* if set, the firmware: signed reports, its table */
	/* What happened. */
	struct fake_entry e[4];
	int calls, mounts, mkdirs, rmdirs, reports, inblob_writes, privlevel_writes;
	char last_privlevel[16];
};

static struct fake_tsm *ft_of(void *ctx)
{
	struct fake_tsm *ft = ctx;

	ft->calls++;
	return ft;
}

/* The part of path after REPORT_DIR "/", or NULL. */
static const char *under_reports(const char *path)
{
	size_t n = strlen(REPORT_DIR "/");

	return strncmp(path, REPORT_DIR "/", n) ? NULL : path + n;
}

static struct fake_entry *find_entry(struct fake_tsm *ft, const char *path, const char **attr)
{
	const char *rel = under_reports(path);

	if (!rel || !ft->loaded || !ft->mounted)
		return NULL;
	for (size_t i = 0; i < sizeof(ft->e) / sizeof(ft->e[0]); i++) {
		size_t n = strlen(ft->e[i].name);

		if (ft->e[i].live && !strncmp(rel, ft->e[i].name, n) &&
		    (rel[n] == '\0' || rel[n] == '/')) {
			*attr = rel[n] ? rel + n + 1 : "";
			return &ft->e[i];
		}
	}
	return NULL;
}

static int fake_fs_type(void *ctx, const char *path, long *type)
{
	struct fake_tsm *ft = ft_of(ctx);

	if (strcmp(path, ROOT) || !ft->root_exists)
		return -ENOENT;
	*type = ft->mounted ? SNP_CONFIGFS_MAGIC : 0x62656572 /* sysfs */;
	return 0;
}

static int fake_mount(void *ctx, const char *target)
{
	struct fake_tsm *ft = ft_of(ctx);

	ft->mounts++;
	if (strcmp(target, ROOT))
		return -ENOENT;
	if (ft->mount_error)
		return ft->mount_error;
	if (ft->mounted)
		return -EBUSY;
	ft->mounted = 1;
	return 0;
}

static int fake_is_dir(void *ctx, const char *path)
{
	struct fake_tsm *ft = ft_of(ctx);
	const char *attr;
	struct fake_entry *e = find_entry(ft, path, &attr);

	if (!strcmp(path, ROOT))
		return ft->root_exists ? 0 : -ENOENT;
	if (!strcmp(path, REPORT_DIR))
		return ft->loaded && ft->mounted ? 0 : -ENOENT;
	if (e)
		return *attr ? -ENOTDIR : 0;
	return -ENOENT;
}

static int fake_mkdir(void *ctx, const char *path)
{
	struct fake_tsm *ft = ft_of(ctx);
	const char *rel = under_reports(path), *attr;

	if (!rel || !ft->loaded || strchr(rel, '/'))
		return -ENOENT;
	if (ft->mkdir_delay_ms)
		nanosleep(&(struct timespec){ 0, ft->mkdir_delay_ms * 1000000L }, NULL);
	if (ft->eexist > 0 || find_entry(ft, path, &attr)) {
		ft->eexist--;
		return -EEXIST;
	}
	for (size_t i = 0; i < sizeof(ft->e) / sizeof(ft->e[0]); i++) {
		if (!ft->e[i].live) {
			memset(&ft->e[i], 0, sizeof(ft->e[i]));
			snprintf(ft->e[i].name, sizeof(ft->e[i].name), "%s", rel);
			ft->e[i].live = 1;
			ft->mkdirs++;
			return 0;
		}
	}
	return -ENOSPC;
}

static int fake_rmdir(void *ctx, const char *path)
{
	struct fake_tsm *ft = ft_of(ctx);
	const char *attr;
	struct fake_entry *e = find_entry(ft, path, &attr);

	if (!e || *attr)
		return -ENOENT;
	e->live = 0;
	ft->rmdirs++;
	return 0;
}

static ssize_t copy_out(void *buf, size_t max, const void *src, size_t len)
{
	if (len > max)
		return -EFBIG;
	memcpy(buf, src, len);
	return (ssize_t)len;
}

static ssize_t text_out(void *buf, size_t max, const char *fmt, unsigned long v, const char *s)
{
	char text[64];

	if (s)
		snprintf(text, sizeof(text), fmt, s);
	else
		snprintf(text, sizeof(text), fmt, v);
	return copy_out(buf, max, text, strlen(text));
}

/* sev_report_new with the simulator for the PSP: an extended request. */
static int sim_report(struct fake_tsm *ft, struct fake_entry *e)
{
	struct snp_sim_response resp;
	struct snp_err err = { 0 };

	if (snp_sim_get_report(ft->sim, e->inblob, e->privlevel, true, &resp, &err) ||
	    resp.status || resp.certs_len > sizeof(ft->aux)) {
		snp_sim_response_free(&resp);
		return -ENXIO;
	}
	memcpy(e->outblob, resp.report, SNP_REPORT_SIZE);
	memcpy(ft->aux, resp.certs, resp.certs_len);
	ft->aux_len = resp.certs_len;
	snp_sim_response_free(&resp);
	e->have_report = 1;
	e->read_gen = e->write_gen;
	return 0;
}

/* What tsm_report_read and sev_report_new do. */
static int make_report(struct fake_tsm *ft, struct fake_entry *e, const char *attr)
{
	if (!e->inblob_len)
		return -EINVAL;
	if (ft->mischief == (strcmp(attr, "outblob") ? WRITER_AT_AUXBLOB : WRITER_AT_OUTBLOB)) {
		memset(e->inblob, 0xee, sizeof(e->inblob));
		e->write_gen++;
	}
	if (e->have_report && e->read_gen == e->write_gen)
		return 0;
	if (!ft->provider)
		return -ENXIO;
	ft->reports++;
	if (ft->report_errno)
		return ft->report_errno;
	if (e->inblob_len != SNP_REPORT_DATA_SIZE)
		return -EINVAL;
	memset(e->outblob, 0, sizeof(e->outblob));
	if (ft->sim)
		return sim_report(ft, e);
	fake_report(e->outblob, e->inblob, e->privlevel);
	if (ft->mischief == WRONG_DATA)
		e->outblob[SNP_OFF_REPORT_DATA] ^= 1;
	e->have_report = 1;
	e->read_gen = e->write_gen;
	return 0;
}

static ssize_t read_blob(struct fake_tsm *ft, struct fake_entry *e, const char *attr,
			 void *buf, size_t max)
{
	int ret;

	if (ft->mischief == VANISH_AT_OUTBLOB && !strcmp(attr, "outblob")) {
		e->live = 0;
		return -ENOENT;
	}
	if (ft->mischief == PROVIDER_GONE_AT_OUTBLOB && !strcmp(attr, "outblob"))
		ft->provider = NULL;
	if (!strcmp(attr, "auxblob") && !ft->has_auxblob)
		return -ENOENT;
	ret = make_report(ft, e, attr);
	if (ret)
		return ret;
	if (!strcmp(attr, "outblob"))
		return copy_out(buf, max, e->outblob, ft->outblob_len);
	return copy_out(buf, max, ft->aux, ft->aux_len);
}

static ssize_t fake_read(void *ctx, const char *path, void *buf, size_t max)
{
	struct fake_tsm *ft = ft_of(ctx);
	const char *attr;
	struct fake_entry *e = find_entry(ft, path, &attr);

	if (!e)
		return -ENOENT;
	if (!strcmp(attr, "provider"))
		return ft->provider ? text_out(buf, max, "%s\n", 0, ft->provider) : -ENXIO;
	if (!strcmp(attr, "generation"))
		return text_out(buf, max, "%lu\n", e->write_gen, NULL);
	if (!strcmp(attr, "privlevel_floor"))
		return ft->has_privlevel ? text_out(buf, max, "%lu\n", ft->floor, NULL) : -ENOENT;
	if (!strcmp(attr, "outblob") || !strcmp(attr, "auxblob"))
		return read_blob(ft, e, attr, buf, max);
	if (!strcmp(attr, "inblob") || !strcmp(attr, "privlevel"))
		return -EACCES;
	return -ENOENT;
}

static int write_privlevel(struct fake_tsm *ft, struct fake_entry *e, const void *buf,
			   size_t len)
{
	char text[16] = "";
	unsigned long v;
	char *end;

	if (!ft->has_privlevel)
		return -ENOENT;
	memcpy(text, buf, len < sizeof(text) - 1 ? len : sizeof(text) - 1);
	snprintf(ft->last_privlevel, sizeof(ft->last_privlevel), "%s", text);
	v = strtoul(text, &end, 0);
	if (end == text || v < ft->floor || v > SNP_VMPL_MAX)
		return -EINVAL;
	e->privlevel = (unsigned int)v;
	e->write_gen++;
	ft->privlevel_writes++;
	return 0;
}

static int fake_write(void *ctx, const char *path, const void *buf, size_t len)
{
	struct fake_tsm *ft = ft_of(ctx);
	const char *attr;
	struct fake_entry *e = find_entry(ft, path, &attr);

	if (!e)
		return -ENOENT;
	if (!strcmp(attr, "privlevel"))
		return write_privlevel(ft, e, buf, len);
	if (strcmp(attr, "inblob"))
		return -EACCES;
	if (len > SNP_REPORT_DATA_SIZE)
		return -EFBIG;
	ft->inblob_writes++;
	if (ft->mischief == LOST_INBLOB)
		return 0;
	memcpy(e->inblob, buf, len);
	e->inblob_len = len;
	e->write_gen++;
	return 0;
}

static struct fake_tsm *fake_new(void)
{
	struct fake_tsm *ft = calloc(1, sizeof(*ft));

	ft->root_exists = ft->mounted = ft->loaded = 1;
	ft->provider = "sev_guest";
	ft->has_privlevel = ft->has_auxblob = 1;
	ft->outblob_len = SNP_REPORT_SIZE;
	ft->aux_len = 3 * 24 + 100;
	for (size_t i = 0; i < ft->aux_len; i++)
		ft->aux[i] = (uint8_t)(i * 7 + 1);
	return ft;
}

static int live_entries(const struct fake_tsm *ft)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(ft->e) / sizeof(ft->e[0]); i++)
		n += ft->e[i].live;
	return n;
}

static struct snp_tsm_ops fake_ops(struct fake_tsm *ft)
{
	struct snp_tsm_ops ops = {
		.ctx = ft, .fs_type = fake_fs_type, .mount_configfs = fake_mount,
		.is_dir = fake_is_dir, .mkdir = fake_mkdir, .rmdir = fake_rmdir,
		.read = fake_read, .write = fake_write,
	};
	return ops;
}

struct run {
	struct snp_report_request req;
	struct snp_report_result res;
	struct snp_err err;
	int ret;
};

static void run_with(struct fake_tsm *ft, struct run *r, uint32_t vmpl, bool certs)
{
	struct snp_tsm_ops ops = fake_ops(ft);
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_CONFIGFS, .configfs_root = ROOT, .tsm_ops = &ops,
	};

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < SNP_REPORT_DATA_SIZE; i++)
		r->req.report_data[i] = (uint8_t)(0xa0 + i);
	r->req.vmpl = vmpl;
	r->req.want_certs = certs;
	r->ret = snp_get_report(&cfg, &r->req, &r->res, &r->err);
	if (r->ret)
		printf("      (%d: %s)\n", r->ret, r->err.msg);
}

/* The entry is gone whatever happened, and only our own entry was removed. */
static void check_cleaned(const struct fake_tsm *ft)
{
	CHECK(live_entries(ft) == 0);
	CHECK(ft->rmdirs <= ft->mkdirs);
}

TEST(tsm_report_carries_inblob_and_auxblob)
{
	struct fake_tsm *ft = fake_new();
	struct run r;
	uint8_t want[SNP_REPORT_SIZE];

	run_with(ft, &r, 0, true);
	REQUIRE(r.ret == 0);
	fake_report(want, r.req.report_data, 0);
	CHECK_MEM(r.res.report, want, SNP_REPORT_SIZE);
	CHECK(r.res.provider == SNP_PROVIDER_CONFIGFS);
	CHECK(!r.res.simulated);
	REQUIRE(r.res.certs_len == ft->aux_len);
	CHECK_MEM(r.res.certs, ft->aux, ft->aux_len);
	CHECK(ft->mounts == 0);		/* already mounted: left alone */
	CHECK(ft->inblob_writes == 1 && ft->privlevel_writes == 0);
	CHECK(ft->reports == 1);
	CHECK(ft->mkdirs == 1 && ft->rmdirs == 1);
	CHECK(strstr(ft->e[0].name, "snp-unseal.") == ft->e[0].name);
	CHECK_STR(r.res.note, "");
	check_cleaned(ft);
	snp_report_result_free(&r.res);
	free(ft);
}

TEST(tsm_without_certs_reads_no_auxblob)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->has_auxblob = 0;	/* reading it would fail: it must not be read */
	run_with(ft, &r, 0, false);
	CHECK(r.ret == 0);
	CHECK(r.res.certs == NULL && r.res.certs_len == 0);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_absent_or_empty_auxblob_means_no_table)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->has_auxblob = 0;	/* a kernel from before auxblob */
	run_with(ft, &r, 0, true);
	CHECK(r.ret == 0);
	CHECK(r.res.certs == NULL && r.res.certs_len == 0);
	ft->has_auxblob = 1;
	ft->aux_len = 0;	/* a host that gives no certificates */
	run_with(ft, &r, 0, true);
	CHECK(r.ret == 0);
	CHECK(r.res.certs == NULL && r.res.certs_len == 0);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_oversized_auxblob_is_refused)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->aux_len = SNP_CERT_TABLE_SIZE_MAX + 1;
	run_with(ft, &r, 0, true);
	CHECK(r.ret == -EBADMSG);
	CHECK(strstr(r.err.msg, "auxblob") != NULL);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_mounts_configfs_when_needed)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->mounted = 0;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == 0);
	CHECK(ft->mounts == 1);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_mount_failure_means_no_configfs_tsm)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->mounted = 0;
	ft->mount_error = -EPERM;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -ENODEV);
	CHECK(strstr(r.err.msg, "mounting it failed: Operation not permitted") != NULL);
	CHECK(ft->mkdirs == 0);
	free(ft);
}

TEST(tsm_missing_report_dir_means_no_configfs_tsm)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->loaded = 0;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -ENODEV);
	CHECK(strstr(r.err.msg, REPORT_DIR " does not exist") != NULL);
	ft->root_exists = 0;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -ENODEV);
	CHECK(strstr(r.err.msg, ROOT " does not exist") != NULL);
	CHECK(ft->mkdirs == 0);
	free(ft);
}

TEST(tsm_other_provider_is_refused)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->provider = "tdx_guest";
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -ENODEV);
	CHECK(strstr(r.err.msg, "'tdx_guest', not 'sev_guest'") != NULL);
	CHECK(ft->inblob_writes == 0 && ft->reports == 0);
	check_cleaned(ft);
	CHECK(ft->rmdirs == 1);
	free(ft);
}

TEST(tsm_outblob_of_wrong_size_is_refused)
{
	static const size_t sizes[] = { 0, SNP_REPORT_SIZE - 1, SNP_REPORT_SIZE + 1,
					2 * SNP_REPORT_SIZE };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct fake_tsm *ft = fake_new();
		struct run r;

		ft->outblob_len = sizes[i];
		run_with(ft, &r, 0, false);
		CHECK(r.ret == -EBADMSG);
		CHECK(strstr(r.err.msg, "outblob") != NULL);
		check_cleaned(ft);
		free(ft);
	}
}

TEST(tsm_vanishing_entry_is_reported)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->mischief = VANISH_AT_OUTBLOB;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -ENOENT);
	CHECK(strstr(r.err.msg, "vanished before reading outblob") != NULL);
	CHECK(ft->rmdirs == 0);		/* it was gone already */
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_provider_going_away_is_reported)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->mischief = PROVIDER_GONE_AT_OUTBLOB;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -ENXIO);
	CHECK(strstr(r.err.msg, "the TSM provider is gone") != NULL);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_concurrent_writer_is_detected)
{
	enum mischief when[] = { WRITER_AT_OUTBLOB, WRITER_AT_AUXBLOB };

	for (size_t i = 0; i < 2; i++) {
		struct fake_tsm *ft = fake_new();
		struct run r;

		ft->mischief = when[i];
		run_with(ft, &r, 0, true);
		CHECK(r.ret == -EBUSY);
		CHECK(strstr(r.err.msg, "after reading the report, expected 1") != NULL);
		CHECK(r.res.certs == NULL);
		check_cleaned(ft);
		free(ft);
	}
}

TEST(tsm_lost_inblob_write_is_detected)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->mischief = LOST_INBLOB;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -EBUSY);
	CHECK(strstr(r.err.msg, "is 0 after our writes, expected 1") != NULL);
	CHECK(ft->reports == 0);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_report_with_other_data_is_refused)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->mischief = WRONG_DATA;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -EBADMSG);
	CHECK(strstr(r.err.msg, "REPORT_DATA is not the one requested") != NULL);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_entry_name_collisions_are_retried)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->eexist = 2;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == 0);
	CHECK(ft->mkdirs == 1 && ft->rmdirs == 1);
	ft->eexist = 1000;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -EEXIST);
	CHECK(strstr(r.err.msg, "free configfs-tsm entry name") != NULL);
	CHECK(ft->rmdirs == 1);		/* never someone else's entry */
	free(ft);
}

TEST(tsm_vmpl_goes_to_privlevel)
{
	struct fake_tsm *ft = fake_new();
	struct run r;
	uint8_t want[SNP_REPORT_SIZE];

	ft->floor = 1;
	run_with(ft, &r, 2, false);
	REQUIRE(r.ret == 0);
	CHECK_STR(ft->last_privlevel, "2\n");
	CHECK(ft->privlevel_writes == 1 && ft->inblob_writes == 1);
	fake_report(want, r.req.report_data, 2);
	CHECK_MEM(r.res.report, want, SNP_REPORT_SIZE);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_vmpl_below_floor_is_refused_before_the_firmware)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->floor = 2;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -EINVAL);
	CHECK(strstr(r.err.msg, "VMPL 0 is below privlevel_floor 2") != NULL);
	run_with(ft, &r, 1, false);
	CHECK(r.ret == -EINVAL);
	CHECK(ft->inblob_writes == 0 && ft->privlevel_writes == 0 && ft->reports == 0);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_vmpl_without_privlevel_support)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->has_privlevel = 0;
	run_with(ft, &r, 1, false);
	CHECK(r.ret == -EOPNOTSUPP);
	CHECK(strstr(r.err.msg, "no privlevel") != NULL);
	run_with(ft, &r, 0, false);	/* VMPL 0 needs none */
	CHECK(r.ret == 0);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_failed_request_latches)
{
	struct fake_tsm *ft = fake_new();
	struct run r;
	int calls;

	ft->report_errno = -EIO;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -EIO);
	check_cleaned(ft);
	ft->report_errno = 0;
	calls = ft->calls;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -EIO);
	CHECK(strstr(r.err.msg, "an earlier one failed in this process") != NULL);
	CHECK(ft->calls == calls);	/* the kernel was not asked */
	free(ft);
}

/* Auto probes configfs-tsm once: it asks the kernel no more than the configfs provider. */
TEST(tsm_auto_probes_once)
{
	struct fake_tsm *ft = fake_new();
	struct snp_tsm_ops ops = fake_ops(ft);
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_AUTO, .configfs_root = ROOT, .tsm_ops = &ops,
		.sev_guest_path = "/nonexistent/sev-guest",
	};
	struct snp_report_request req = { 0 };
	struct snp_report_result res;
	struct snp_err err = { 0 };
	struct run r;
	int configfs_calls;

	run_with(ft, &r, 0, false);
	REQUIRE(r.ret == 0);
	snp_report_result_free(&r.res);
	configfs_calls = ft->calls;
	ft->calls = 0;
	REQUIRE(snp_get_report(&cfg, &req, &res, &err) == 0);
	CHECK(res.provider == SNP_PROVIDER_CONFIGFS);
	CHECK(ft->calls == configfs_calls);
	check_cleaned(ft);
	snp_report_result_free(&res);
	free(ft);
}

TEST(tsm_firmware_refusal_does_not_latch)
{
	struct fake_tsm *ft = fake_new();
	struct run r;

	ft->report_errno = -EINVAL;	/* a status INVALID_PARAM: the VMPCK is fine */
	run_with(ft, &r, 0, false);
	CHECK(r.ret == -EINVAL);
	CHECK(strstr(r.err.msg, "the firmware refused") != NULL);
	ft->report_errno = 0;
	run_with(ft, &r, 0, false);
	CHECK(r.ret == 0);
	check_cleaned(ft);
	free(ft);
}

TEST(tsm_time_bound_is_kept)
{
	struct fake_tsm *ft = fake_new();
	struct snp_tsm_ops ops = fake_ops(ft);
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_CONFIGFS, .configfs_root = ROOT, .tsm_ops = &ops,
	};
	struct snp_report_request req = { .timeout_ms = 5 };
	struct snp_report_result res;
	struct snp_err err = { 0 };

	ft->mkdir_delay_ms = 20;
	CHECK(snp_get_report(&cfg, &req, &res, &err) == -ETIMEDOUT);
	CHECK(strstr(err.msg, "5 ms bound") != NULL);
	CHECK(ft->reports == 0);
	check_cleaned(ft);
	free(ft);
}

/* The real read: bounded, and longer files are told apart. */
TEST(tsm_sys_read_is_bounded)
{
	uint8_t data[300], buf[300];
	FILE *f = fopen(test_path("blob"), "wb");

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	REQUIRE(f && fwrite(data, 1, sizeof(data), f) == sizeof(data) && !fclose(f));
	CHECK(snp_tsm_sys_ops.read(NULL, test_path("blob"), buf, 299) == -EFBIG);
	CHECK(snp_tsm_sys_ops.read(NULL, test_path("blob"), buf, 300) == 300);
	CHECK_MEM(buf, data, 300);
	CHECK(snp_tsm_sys_ops.read(NULL, test_path("absent"), buf, 300) == -ENOENT);
	/* Attributes are written in place, never created. */
	CHECK(snp_tsm_sys_ops.write(NULL, test_path("blob"), "ab", 2) == 0);
	CHECK(snp_tsm_sys_ops.read(NULL, test_path("blob"), buf, 300) == 300);
	CHECK(buf[0] == 'a' && buf[1] == 'b' && buf[2] == 2);
	CHECK(snp_tsm_sys_ops.write(NULL, test_path("absent"), "ab", 2) == -ENOENT);
	CHECK(snp_tsm_sys_ops.is_dir(NULL, test_tmpdir()) == 0);
	CHECK(snp_tsm_sys_ops.is_dir(NULL, test_path("blob")) == -ENOTDIR);
}

/* The firmware behind the fake kernel is the simulator: real signed reports. */
TEST(tsm_signed_report_and_table_come_through_untouched)
{
	struct fake_tsm *ft = fake_new();
	struct snp_sim_config sim_cfg;
	struct snp_sim_response direct;
	struct snp_report parsed;
	struct snp_err err = { 0 };
	struct run r;

	snp_sim_config_init(&sim_cfg);
	sim_cfg.cert_table = true;
	REQUIRE(snp_sim_open(&ft->sim, TESTS_DIR "/data/sim", &sim_cfg, &err) == 0);
	run_with(ft, &r, 0, true);
	REQUIRE(r.ret == 0);
	CHECK(snp_report_parse(r.res.report, SNP_REPORT_SIZE, &parsed, &err) == 0);
	CHECK_MEM(parsed.report_data, r.req.report_data, SNP_REPORT_DATA_SIZE);
	REQUIRE(r.res.certs_len == ft->aux_len && ft->aux_len > 0);
	CHECK_MEM(r.res.certs, ft->aux, ft->aux_len);
	/* The same request straight to the simulator signs the same fields. */
	REQUIRE(snp_sim_get_report(ft->sim, r.req.report_data, 0, false, &direct, &err) == 0);
	CHECK_MEM(r.res.report, direct.report, SNP_OFF_SIGNATURE);
	snp_sim_response_free(&direct);
	snp_report_result_free(&r.res);
	snp_sim_close(ft->sim);
	check_cleaned(ft);
	free(ft);
}
