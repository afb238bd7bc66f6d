// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /dev/sev-guest provider, on the kernel's own linux/sev-guest.h.
 *
 * SNP_GET_REPORT sends struct snp_report_req (user_data, vmpl, rsvd zero)
 * with msg_version 1; the answer is the firmware's MSG_REPORT_RSP: status
 * (u32), report_size (u32), 24 reserved bytes, the report at 0x20.
 *
 * SNP_GET_EXT_REPORT adds the host's certificate table. The kernel reads
 * certs_len 0 as "no certificates wanted" and returns a plain report, so
 * the size cannot be asked with 0: we ask with one page, the smallest
 * length it takes. When the table is larger the kernel answers -EIO with
 * vmm_error SNP_GUEST_VMM_ERR_INVALID_LEN and writes the length it needs
 * back to certs_len; having re-issued the request without certificates
 * itself, it keeps the VMPCK. We retry once with that length, which must
 * be page-aligned and at most 16 KiB (the kernel refuses more).
 *
 * Any other failure makes the kernel wipe the VMPCK: every later request
 * fails (ENOTTY) until reboot. So after one we set the latch and never
 * ask again in this process. The kernel already retries a busy host,
 * every 2 s for 60 s; that is also what bounds the ioctl's time.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "snp/provider_impl.h"
#include "snp/bytes.h"

#define SEV_PAGE_SIZE		4096	/* SNP guests are x86-64: 4 KiB pages */
#define RESP_REPORT_OFFSET	0x20
/* The kernel presets exitinfo2 to this; seen unchanged, no firmware call was made. */
#define EXITINFO2_NO_CALL	0xff

static int sys_open(void *ctx, const char *path, int flags)
{
	int fd;

	(void)ctx;
	fd = open(path, flags);
	return fd < 0 ? -errno : fd;
}

static int sys_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	(void)ctx;
	return ioctl(fd, request, arg) ? -errno : 0;
}

static void sys_close(void *ctx, int fd)
{
	(void)ctx;
	close(fd);
}

const struct snp_sevguest_ops snp_sevguest_sys_ops = {
	.open = sys_open,
	.ioctl = sys_ioctl,
	.close = sys_close,
};

struct sevguest {
	const struct snp_sevguest_ops *ops;
	const char *path;
	int fd;
};

static const char *vmm_error_text(uint32_t vmm_error)
{
	switch (vmm_error) {
	case SNP_GUEST_VMM_ERR_INVALID_LEN:
		return "the certificate buffer is too small";
	case SNP_GUEST_VMM_ERR_BUSY:
		return "the host stayed busy (the kernel retries for 60 s)";
	default:
		return "unknown";
	}
}

static int request_error(const struct sevguest *sg, const char *ioc, int ret,
			 const struct snp_guest_request_ioctl *io, struct snp_err *err)
{
	char fw[96] = "", vmm[96] = "";
	const char *hint = "";

	if (io->fw_error == EXITINFO2_NO_CALL && !io->vmm_error)
		snprintf(fw, sizeof(fw), "; it never reached the firmware");
	else if (io->fw_error)
		snprintf(fw, sizeof(fw), "; firmware error 0x%x %s", io->fw_error,
			 snp_fw_status_name(io->fw_error));
	if (io->vmm_error)
		snprintf(vmm, sizeof(vmm), "; host error %u: %s", io->vmm_error,
			 vmm_error_text(io->vmm_error));
	if (ret == -ENOTTY)
		hint = " (the kernel refuses guest requests: an earlier failure disabled its VMPCK)";
	return snp_errf(err, ret, "%s on %s failed: %s%s%s%s", ioc, sg->path,
			strerror(-ret), hint, fw, vmm);
}

static int check_response(const struct snp_report_resp *resp,
			  struct snp_report_result *res, struct snp_err *err)
{
	uint32_t status = snp_get_le32(resp->data);
	uint32_t size = snp_get_le32(resp->data + 4);

	if (status)
		return snp_errf(err, -EIO, "the firmware refused the report request: status 0x%x %s%s",
				status, snp_fw_status_name(status),
				status == 0x16 ? " (a VMPL below the guest's own?)" : "");
	if (size > sizeof(resp->data) - RESP_REPORT_OFFSET)
		return snp_errf(err, -EBADMSG, "the firmware's report_size %u does not fit "
				"its %zu-byte response", size, sizeof(resp->data));
	if (size != SNP_REPORT_SIZE)
		return snp_errf(err, -EBADMSG, "the firmware's report_size is %u, not 0x%x",
				size, SNP_REPORT_SIZE);
	memcpy(res->report, resp->data + RESP_REPORT_OFFSET, SNP_REPORT_SIZE);
	return 0;
}

static void fill_request(struct snp_report_req *kreq, const struct snp_report_request *req)
{
	memset(kreq, 0, sizeof(*kreq));
	memcpy(kreq->user_data, req->report_data, sizeof(kreq->user_data));
	kreq->vmpl = req->vmpl;
}

static int get_plain(struct sevguest *sg, const struct snp_report_request *req,
		     struct snp_report_result *res, struct snp_err *err)
{
	struct snp_report_req kreq;
	struct snp_report_resp resp = { 0 };
	struct snp_guest_request_ioctl io = { 0 };
	int ret;

	fill_request(&kreq, req);
	io.msg_version = 1;
	io.req_data = (uintptr_t)&kreq;
	io.resp_data = (uintptr_t)&resp;
	ret = sg->ops->ioctl(sg->ops->ctx, sg->fd, SNP_GET_REPORT, &io);
	if (ret)
		return request_error(sg, "SNP_GET_REPORT", ret, &io, err);
	return check_response(&resp, res, err);
}

/* One SNP_GET_EXT_REPORT with a certs_len-byte table buffer. */
static int ext_call(struct sevguest *sg, const struct snp_report_request *req,
		    uint8_t *certs, uint32_t *certs_len, struct snp_report_resp *resp,
		    struct snp_guest_request_ioctl *io)
{
	struct snp_ext_report_req ext;
	int ret;

	memset(&ext, 0, sizeof(ext));
	fill_request(&ext.data, req);
	ext.certs_address = (uintptr_t)certs;
	ext.certs_len = *certs_len;
	memset(resp, 0, sizeof(*resp));
	memset(io, 0, sizeof(*io));
	io->msg_version = 1;
	io->req_data = (uintptr_t)&ext;
	io->resp_data = (uintptr_t)resp;
	memset(certs, 0, *certs_len);
	ret = sg->ops->ioctl(sg->ops->ctx, sg->fd, SNP_GET_EXT_REPORT, io);

	*certs_len = ext.certs_len;
	return ret;
}

static int size_answer(int ret, const struct snp_guest_request_ioctl *io)
{
	return ret == -EIO && io->vmm_error == SNP_GUEST_VMM_ERR_INVALID_LEN;
}

static int check_needed_len(const struct sevguest *sg, uint32_t need, uint32_t had,
			    struct snp_err *err)
{
	if (need <= had || need % SEV_PAGE_SIZE || need > SNP_CERT_TABLE_SIZE_MAX)
		return snp_errf(err, -EPROTO, "%s asks for a %u-byte certificate buffer after %u; "
				"it must be larger, page-aligned and at most %d bytes",
				sg->path, need, had, SNP_CERT_TABLE_SIZE_MAX);
	return 0;
}

/*
 * Returns 1 (with no latch to set) when the kernel's size answers were
 * unusable, 0 on success, or a negative errno for a failed request.
 */
static int get_ext(struct sevguest *sg, const struct snp_report_request *req,
		   struct snp_report_result *res, const struct snp_deadline *dl,
		   struct snp_err *err)
{
	uint8_t *certs = calloc(1, SNP_CERT_TABLE_SIZE_MAX);
	struct snp_report_resp resp;
	struct snp_guest_request_ioctl io;
	uint32_t len = SEV_PAGE_SIZE;
	int ret;

	if (!certs)
		return snp_errf(err, -ENOMEM, "out of memory for the certificate table");
	ret = ext_call(sg, req, certs, &len, &resp, &io);
	if (size_answer(ret, &io)) {
		ret = check_needed_len(sg, len, SEV_PAGE_SIZE, err);
		if (!ret)
			ret = snp_deadline_check(dl, "asking again with the certificate size", err);
		if (ret)
			goto out_nolatch;
		ret = ext_call(sg, req, certs, &len, &resp, &io);
		if (size_answer(ret, &io)) {
			snp_errf(err, -EPROTO, "%s asked for a larger certificate buffer twice "
				 "(%u bytes the second time)", sg->path, len);
			goto out_nolatch;
		}
	}
	if (ret)
		ret = request_error(sg, "SNP_GET_EXT_REPORT", ret, &io, err);
	else
		ret = check_response(&resp, res, err);
	if (!ret && len <= SNP_CERT_TABLE_SIZE_MAX && !snp_all_zero(certs, len)) {
		res->certs = certs;
		res->certs_len = len;
		certs = NULL;
	}
	free(certs);
	return ret;
out_nolatch:
	free(certs);
	return 1;
}

int snp_sevguest_get(const struct snp_provider_config *cfg,
		     const struct snp_report_request *req,
		     struct snp_report_result *res, const struct snp_deadline *dl,
		     struct snp_err *err)
{
	struct sevguest sg = {
		.ops = cfg->sevguest_ops ? cfg->sevguest_ops : &snp_sevguest_sys_ops,
		.path = cfg->sev_guest_path ? cfg->sev_guest_path : SNP_SEV_GUEST_DEV,
	};
	struct snp_err why = { 0 };
	int ret;

	res->provider = SNP_PROVIDER_IOCTL;
	ret = snp_latch_check(err);
	if (!ret)
		ret = snp_deadline_check(dl, "opening the device", err);
	if (ret)
		return ret;
	sg.fd = sg.ops->open(sg.ops->ctx, sg.path, O_RDWR | O_CLOEXEC);
	if (sg.fd == -ENOENT)
		return snp_errf(err, -ENODEV, "no %s (is the sev-guest module loaded?)", sg.path);
	if (sg.fd < 0)
		return snp_errf(err, sg.fd, "cannot open %s: %s", sg.path, strerror(-sg.fd));
	if (req->want_certs)
		ret = get_ext(&sg, req, res, dl, &why);
	else
		ret = get_plain(&sg, req, res, &why);
	sg.ops->close(sg.ops->ctx, sg.fd);
	if (ret < 0)
		snp_latch_set(&why);
	if (ret)
		return snp_errf(err, why.code, "%s", why.msg);
	return 0;
}
