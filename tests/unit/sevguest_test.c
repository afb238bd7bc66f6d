// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /dev/sev-guest provider against an interposed ioctl that does what
 * drivers/virt/coco/sev-guest does with the uapi structures: refuse a zero
 * msg_version, take certs_len 0 as "no certificates", refuse a certs_len
 * that is not page-aligned or above 16 KiB, answer a too-small one with
 * -EIO, vmm_error INVALID_LEN and the needed length written back, fill
 * the response (status, report_size, report at 0x20), and after any other
 * failure refuse everything with ENOTTY (the wiped VMPCK).
 *
 * The interposition is the provider's ops table rather than -Wl,--wrap:
 * the fake keeps its state per test, and nothing else in the test binary
 * (mbedTLS, libcryptsetup) has its ioctl() replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "snp/provider.h"
#include "snp/provider_impl.h"
#include "tests/harness.h"
#include "tests/unit/fake_report.h"

#define DEV	"/fake/dev/sev-guest"
#define FD	42
#define PAGE	4096u

struct fake_sg {
	/* The machine. */
	int open_error;
	uint32_t guest_vmpl;	/* a lower VMPL gets status INVALID_PARAM */
	uint32_t table_len;	/* the host's certificate table, 0 for none */
	uint8_t table[SNP_CERT_TABLE_SIZE_MAX];
	uint32_t answer_len;	/* if set, the length written back instead */
	int grow;		/* the table grows after the size answer */
	int fail_errno;		/* the next request fails like this */
	uint32_t fail_fw, fail_vmm;
	uint32_t status, report_size;
	int wiped;
	/* What happened. */
	int opens, open_flags, closes, ioctls, requests;
	uint32_t certs_lens[4];
	int bad_version, bad_rsvd, bad_fd;
};

static uint8_t *le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p;
}

static int fake_open(void *ctx, const char *path, int flags)
{
	struct fake_sg *sg = ctx;

	sg->opens++;
	sg->open_flags = flags;
	if (strcmp(path, DEV))
		return -ENOENT;
	return sg->open_error ? sg->open_error : FD;
}

static void fake_close(void *ctx, int fd)
{
	struct fake_sg *sg = ctx;

	sg->bad_fd |= fd != FD;
	sg->closes++;
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* snp_send_guest_request and the firmware: 0, or a negative errno. */
static int firmware(struct fake_sg *sg, const struct snp_report_req *req,
		    struct snp_report_resp *resp, struct snp_guest_request_ioctl *io)
{
	if (sg->wiped)
		return -ENOTTY;
	sg->requests++;
	if (sg->fail_errno) {
		io->exitinfo2 = (uint64_t)sg->fail_vmm << 32 | sg->fail_fw;
		sg->wiped = 1;
		return sg->fail_errno;
	}
	io->exitinfo2 = 0;
	sg->bad_rsvd |= !all_zero(req->rsvd, sizeof(req->rsvd));
	memset(resp, 0, sizeof(*resp));
	if (req->vmpl < sg->guest_vmpl || req->vmpl > 3) {
		le32(resp->data, 0x16);
		return 0;
	}
	le32(resp->data, sg->status);
	le32(resp->data + 4, sg->report_size ? sg->report_size : SNP_REPORT_SIZE);
	fake_report(resp->data + 0x20, req->user_data, req->vmpl);
	return 0;
}

static int ext_report(struct fake_sg *sg, struct snp_guest_request_ioctl *io)
{
	struct snp_ext_report_req *ext = (void *)(uintptr_t)io->req_data;
	struct snp_report_resp *resp = (void *)(uintptr_t)io->resp_data;
	uint32_t len = ext->certs_len;
	int ret;

	if (sg->ioctls <= 4)
		sg->certs_lens[sg->ioctls - 1] = len;
	if (!len || !ext->certs_address)
		return firmware(sg, &ext->data, resp, io);
	if (len > SNP_CERT_TABLE_SIZE_MAX || len % PAGE)
		return -EINVAL;
	if (sg->table_len > len) {
		/* The kernel re-issues without certificates; the VMPCK stays. */
		ret = firmware(sg, &ext->data, resp, io);
		if (ret)
			return ret;
		ext->certs_len = sg->answer_len ? sg->answer_len :
			(sg->table_len + PAGE - 1) / PAGE * PAGE;
		io->exitinfo2 = (uint64_t)SNP_GUEST_VMM_ERR_INVALID_LEN << 32;
		if (sg->grow)
			sg->table_len += PAGE;
		return -EIO;
	}
	ret = firmware(sg, &ext->data, resp, io);
	if (!ret) {
		memset((void *)(uintptr_t)ext->certs_address, 0, len);
		memcpy((void *)(uintptr_t)ext->certs_address, sg->table, sg->table_len);
	}
	return ret;
}

/* snp_guest_ioctl: returns 0 or -errno, and copies exitinfo2 back when set. */
static int fake_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct fake_sg *sg = ctx;
	struct snp_guest_request_ioctl *user = arg, io = *user;
	int ret = -ENOTTY;

	sg->ioctls++;
	sg->bad_fd |= fd != FD;
	io.exitinfo2 = 0xff;
	sg->bad_version |= io.msg_version != 1;
	if (!io.msg_version)
		return -EINVAL;
	if (request == SNP_GET_REPORT)
		ret = firmware(sg, (void *)(uintptr_t)io.req_data,
			       (void *)(uintptr_t)io.resp_data, &io);
	else if (request == SNP_GET_EXT_REPORT)
		ret = ext_report(sg, &io);
	if (io.exitinfo2)
		*user = io;
	return ret;
}

static struct fake_sg *fake_new(void)
{
	struct fake_sg *sg = calloc(1, sizeof(*sg));

	for (size_t i = 0; i < sizeof(sg->table); i++)
		sg->table[i] = (uint8_t)(i % 251 + 1);
	return sg;
}

struct run {
	struct snp_report_request req;
	struct snp_report_result res;
	struct snp_err err;
	int ret;
};

static void run_with(struct fake_sg *sg, struct run *r, uint32_t vmpl, bool certs)
{
	struct snp_sevguest_ops ops = {
		.ctx = sg, .open = fake_open, .ioctl = fake_ioctl, .close = fake_close,
	};
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_IOCTL, .sev_guest_path = DEV, .sevguest_ops = &ops,
	};

	snp_report_result_free(&r->res);
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < SNP_REPORT_DATA_SIZE; i++)
		r->req.report_data[i] = (uint8_t)(0x30 + i);
	r->req.vmpl = vmpl;
	r->req.want_certs = certs;
	r->ret = snp_get_report(&cfg, &r->req, &r->res, &r->err);
	if (r->ret)
		printf("      (%d: %s)\n", r->ret, r->err.msg);
}

/* What every call must have done right, whatever the outcome. */
static void check_kernel_use(const struct fake_sg *sg)
{
	CHECK(sg->open_flags == (O_RDWR | O_CLOEXEC));
	CHECK(sg->closes == sg->opens);
	CHECK(!sg->bad_version && !sg->bad_rsvd && !sg->bad_fd);
}

TEST(sevguest_plain_report)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };
	uint8_t want[SNP_REPORT_SIZE];

	run_with(sg, &r, 1, false);
	REQUIRE(r.ret == 0);
	fake_report(want, r.req.report_data, 1);
	CHECK_MEM(r.res.report, want, SNP_REPORT_SIZE);
	CHECK(r.res.provider == SNP_PROVIDER_IOCTL && !r.res.simulated);
	CHECK(r.res.certs == NULL);
	CHECK(sg->ioctls == 1 && sg->certs_lens[0] == 0);
	check_kernel_use(sg);
	free(sg);
}

TEST(sevguest_ext_report_table_fits_one_page)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };

	sg->table_len = 3 * 24 + 1000;
	run_with(sg, &r, 0, true);
	REQUIRE(r.ret == 0);
	CHECK(sg->ioctls == 1 && sg->certs_lens[0] == PAGE);
	REQUIRE(r.res.certs_len == PAGE);
	CHECK_MEM(r.res.certs, sg->table, sg->table_len);
	check_kernel_use(sg);
	snp_report_result_free(&r.res);
	free(sg);
}

TEST(sevguest_ext_report_asks_the_size_then_retries_once)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };
	uint8_t want[SNP_REPORT_SIZE];

	sg->table_len = 2 * PAGE + 100;
	run_with(sg, &r, 0, true);
	REQUIRE(r.ret == 0);
	CHECK(sg->ioctls == 2);
	CHECK(sg->certs_lens[0] == PAGE && sg->certs_lens[1] == 3 * PAGE);
	REQUIRE(r.res.certs_len == 3 * PAGE);
	CHECK_MEM(r.res.certs, sg->table, sg->table_len);
	fake_report(want, r.req.report_data, 0);
	CHECK_MEM(r.res.report, want, SNP_REPORT_SIZE);
	check_kernel_use(sg);
	/* The size answer left the VMPCK alone: no latch. */
	run_with(sg, &r, 0, false);
	CHECK(r.ret == 0);
	snp_report_result_free(&r.res);
	free(sg);
}

TEST(sevguest_ext_report_without_table)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };

	run_with(sg, &r, 0, true);
	CHECK(r.ret == 0);
	CHECK(r.res.certs == NULL && r.res.certs_len == 0);
	CHECK(sg->ioctls == 1);
	free(sg);
}

TEST(sevguest_unusable_size_answer_is_refused)
{
	static const uint32_t answers[] = { 2 * PAGE + 1, SNP_CERT_TABLE_SIZE_MAX + PAGE, PAGE };

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct fake_sg *sg = fake_new();
		struct run r = { 0 };

		sg->table_len = 2 * PAGE;
		sg->answer_len = answers[i];
		run_with(sg, &r, 0, true);
		CHECK(r.ret == -EPROTO);
		CHECK(strstr(r.err.msg, "page-aligned and at most 16384 bytes") != NULL);
		CHECK(sg->ioctls == 1);
		/* No request failed, so no latch. */
		run_with(sg, &r, 0, false);
		CHECK(r.ret == 0);
		check_kernel_use(sg);
		free(sg);
	}
}

TEST(sevguest_size_asked_twice_is_refused)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };

	sg->table_len = PAGE + 1;
	sg->grow = 1;
	run_with(sg, &r, 0, true);
	CHECK(r.ret == -EPROTO);
	CHECK(strstr(r.err.msg, "larger certificate buffer twice") != NULL);
	CHECK(sg->ioctls == 2);
	free(sg);
}

TEST(sevguest_busy_host_then_latch)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };
	int ioctls, opens;

	sg->fail_errno = -ETIMEDOUT;
	sg->fail_vmm = SNP_GUEST_VMM_ERR_BUSY;
	run_with(sg, &r, 0, false);
	CHECK(r.ret == -ETIMEDOUT);
	CHECK(strstr(r.err.msg, "host error 2: the host stayed busy") != NULL);
	ioctls = sg->ioctls;
	opens = sg->opens;
	sg->fail_errno = 0;
	run_with(sg, &r, 0, true);
	CHECK(r.ret == -ETIMEDOUT);
	CHECK(strstr(r.err.msg, "an earlier one failed in this process") != NULL);
	CHECK(sg->ioctls == ioctls && sg->opens == opens);
	check_kernel_use(sg);
	free(sg);
}

TEST(sevguest_firmware_error_is_named)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };

	sg->fail_errno = -EIO;
	sg->fail_fw = 0x27;
	run_with(sg, &r, 0, true);
	CHECK(r.ret == -EIO);
	CHECK(strstr(r.err.msg, "SNP_GET_EXT_REPORT on " DEV " failed") != NULL);
	CHECK(strstr(r.err.msg, "firmware error 0x27 INVALID_KEY") != NULL);
	free(sg);
}

TEST(sevguest_wiped_vmpck_is_explained)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };

	sg->wiped = 1;		/* an earlier process made a request fail */
	run_with(sg, &r, 0, false);
	CHECK(r.ret == -ENOTTY);
	CHECK(strstr(r.err.msg, "its VMPCK") != NULL);
	CHECK(strstr(r.err.msg, "it never reached the firmware") != NULL);
	free(sg);
}

TEST(sevguest_status_error_is_named_and_latches)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };
	int ioctls;

	sg->guest_vmpl = 2;
	run_with(sg, &r, 1, false);
	CHECK(r.ret == -EIO);
	CHECK(strstr(r.err.msg, "status 0x16 INVALID_PARAM") != NULL);
	ioctls = sg->ioctls;
	run_with(sg, &r, 2, false);
	CHECK(r.ret == -EIO && sg->ioctls == ioctls);
	free(sg);
}

/* One size per test: the first failure latches the process. */
static void check_report_size(uint32_t size, const char *why)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };

	sg->report_size = size;
	run_with(sg, &r, 0, false);
	CHECK(r.ret == -EBADMSG);
	CHECK(strstr(r.err.msg, why) != NULL);
	CHECK(sg->ioctls == 1);
	free(sg);
}

TEST(sevguest_short_report_size_is_refused)
{
	check_report_size(0x400, "report_size is 1024, not 0x4a0");
}

TEST(sevguest_long_report_size_is_refused)
{
	check_report_size(SNP_REPORT_SIZE + 1, "report_size is 1185, not 0x4a0");
}

TEST(sevguest_report_size_beyond_the_response_is_refused)
{
	check_report_size(4000 - 0x20 + 1, "report_size 3969 does not fit its 4000-byte response");
}

TEST(sevguest_huge_report_size_is_refused)
{
	check_report_size(0xffffffffu, "report_size 4294967295 does not fit");
}

TEST(sevguest_missing_device_is_explained)
{
	struct fake_sg *sg = fake_new();
	struct snp_sevguest_ops ops = { .ctx = sg, .open = fake_open,
					.ioctl = fake_ioctl, .close = fake_close };
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_IOCTL, .sev_guest_path = "/nonexistent/sev-guest",
		.sevguest_ops = &ops,
	};
	struct snp_report_request req = { 0 };
	struct snp_report_result res;
	struct snp_err err = { 0 };

	CHECK(snp_get_report(&cfg, &req, &res, &err) == -ENODEV);
	CHECK_STR(err.msg, "no /nonexistent/sev-guest (is the sev-guest module loaded?)");
	CHECK(sg->ioctls == 0 && sg->closes == 0);
	/* Not a failed request: nothing latched. */
	cfg.sev_guest_path = DEV;
	CHECK(snp_get_report(&cfg, &req, &res, &err) == 0);
	free(sg);
}

TEST(sevguest_real_device_absent_here)
{
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_IOCTL, .sev_guest_path = "/nonexistent/sev-guest",
	};
	struct snp_report_request req = { 0 };
	struct snp_report_result res;
	struct snp_err err = { 0 };

	CHECK(snp_get_report(&cfg, &req, &res, &err) == -ENODEV);
	CHECK(strstr(err.msg, "is the sev-guest module loaded?") != NULL);
}

/* configfs-tsm and /dev/sev-guest share the VMPCK, so they share the latch. */
TEST(provider_latch_covers_both_kernel_interfaces)
{
	struct fake_sg *sg = fake_new();
	struct run r = { 0 };
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_CONFIGFS, .configfs_root = "/nonexistent/config",
	};

	sg->fail_errno = -EIO;
	run_with(sg, &r, 0, false);
	CHECK(r.ret == -EIO);
	CHECK(snp_get_report(&cfg, &r.req, &r.res, &r.err) == -EIO);
	CHECK(strstr(r.err.msg, "an earlier one failed") != NULL);
	free(sg);
}

TEST(provider_auto_falls_back_to_ioctl_and_never_to_sim)
{
	struct fake_sg *sg = fake_new();
	struct snp_sevguest_ops ops = { .ctx = sg, .open = fake_open,
					.ioctl = fake_ioctl, .close = fake_close };
	struct snp_provider_config cfg = {
		.provider = SNP_PROVIDER_AUTO, .configfs_root = "/nonexistent/config",
		.sev_guest_path = DEV, .sevguest_ops = &ops, .sim_addr = "unix:/nonexistent",
	};
	struct snp_report_request req = { 0 };
	struct snp_report_result res;
	struct snp_err err = { 0 };

	CHECK(snp_get_report(&cfg, &req, &res, &err) == 0);
	CHECK(res.provider == SNP_PROVIDER_IOCTL && sg->ioctls == 1);
	cfg.sev_guest_path = "/nonexistent/sev-guest";
	CHECK(snp_get_report(&cfg, &req, &res, &err) == -ENODEV);
	CHECK(strstr(err.msg, "no SEV-SNP report provider here: no configfs-tsm:") != NULL);
	CHECK(strstr(err.msg, "and no /nonexistent/sev-guest") != NULL);
	free(sg);
}

TEST(provider_names_and_statuses)
{
	enum snp_provider p;

	CHECK(snp_provider_from_name("configfs", &p) == 0 && p == SNP_PROVIDER_CONFIGFS);
	CHECK(snp_provider_from_name("ioctl", &p) == 0 && p == SNP_PROVIDER_IOCTL);
	CHECK(snp_provider_from_name("sim", &p) == 0 && p == SNP_PROVIDER_SIM);
	CHECK(snp_provider_from_name("auto", &p) == 0 && p == SNP_PROVIDER_AUTO);
	CHECK(snp_provider_from_name("tpm", &p) == -EINVAL);
	CHECK_STR(snp_provider_name(SNP_PROVIDER_SIM), "sim");
	CHECK_STR(snp_fw_status_name(0x16), "INVALID_PARAM");
	CHECK_STR(snp_fw_status_name(0x27), "INVALID_KEY");
	CHECK_STR(snp_fw_status_name(0x1e), "unknown");
	CHECK_STR(snp_fw_status_name(0x28), "unknown");
}

TEST(provider_vmpl_out_of_range_is_refused)
{
	struct snp_provider_config cfg = { .provider = SNP_PROVIDER_IOCTL };
	struct snp_report_request req = { .vmpl = 4 };
	struct snp_report_result res;
	struct snp_err err = { 0 };

	CHECK(snp_get_report(&cfg, &req, &res, &err) == -EINVAL);
	CHECK_STR(err.msg, "VMPL 4 is out of range (0-3)");
}
