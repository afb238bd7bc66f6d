// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The wire protocol of the SNP firmware simulator (layout in
 * snp/simproto.h) and the guest's client. The client bounds every wait by
 * one deadline: a simulator that is gone, stuck or slow makes the call
 * fail with -ETIMEDOUT, never hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snp/bytes.h"
#include "snp/deadline.h"
#include "snp/simaddr.h"
#include "snp/simproto.h"

static const char req_magic[8] = { 'S', 'N', 'P', 'S', 'I', 'M', 'R', 'Q' };
static const char resp_magic[8] = { 'S', 'N', 'P', 'S', 'I', 'M', 'R', 'S' };

enum {
	REQ_OFF_VERSION = 8,
	REQ_OFF_TYPE = 12,
	REQ_OFF_VMPL = 16,
	REQ_OFF_RESERVED = 20,
	REQ_OFF_USER_DATA = 32,
	RESP_OFF_VERSION = 8,
	RESP_OFF_STATUS = 12,
	RESP_OFF_REPORT_LEN = 16,
	RESP_OFF_CERTS_LEN = 20,
	RESP_OFF_RESERVED = 24,
	/* A stale response left in a device by an earlier, timed-out call. */
	DRAIN_MAX = 1 << 20,
};

/* Printable form of a magic that did not match, for the message. */
static void show_magic(const uint8_t *p, char out[9])
{
	for (int i = 0; i < 8; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[8] = '\0';
}

void snp_sim_request_encode(const struct snp_sim_request *req,
			    uint8_t out[SNP_SIM_REQ_SIZE])
{
	memset(out, 0, SNP_SIM_REQ_SIZE);
	memcpy(out, req_magic, sizeof(req_magic));
	snp_put_le32(out + REQ_OFF_VERSION, SNP_SIM_PROTO_VERSION);
	snp_put_le32(out + REQ_OFF_TYPE, req->type);
	snp_put_le32(out + REQ_OFF_VMPL, req->vmpl);
	memcpy(out + REQ_OFF_USER_DATA, req->user_data, SNP_REPORT_DATA_SIZE);
}

/*
 * The VMPL is not checked here: like the PSP, the simulator answers a bad
 * one with a firmware status (INVALID_PARAM), not a protocol error.
 */
int snp_sim_request_decode(const uint8_t *buf, size_t len,
			   struct snp_sim_request *req, struct snp_err *err)
{
	char magic[9];
	uint32_t version, type;

	memset(req, 0, sizeof(*req));
	if (len != SNP_SIM_REQ_SIZE)
		return snp_errf(err, -EBADMSG, "simulator request is %zu bytes; it must be %d",
				len, SNP_SIM_REQ_SIZE);
	if (memcmp(buf, req_magic, sizeof(req_magic))) {
		show_magic(buf, magic);
		return snp_errf(err, -EBADMSG,
				"simulator request magic is \"%s\"; expected \"SNPSIMRQ\"", magic);
	}
	version = snp_get_le32(buf + REQ_OFF_VERSION);
	if (version != SNP_SIM_PROTO_VERSION)
		return snp_errf(err, -EPROTONOSUPPORT,
				"simulator request protocol version is %u; only %d is known",
				version, SNP_SIM_PROTO_VERSION);
	type = snp_get_le32(buf + REQ_OFF_TYPE);
	if (type != SNP_SIM_REQ_REPORT && type != SNP_SIM_REQ_EXT_REPORT)
		return snp_errf(err, -EBADMSG,
				"simulator request type is %u; only 1 (report) and 2 (extended report) exist",
				type);
	if (!snp_all_zero(buf + REQ_OFF_RESERVED, REQ_OFF_USER_DATA - REQ_OFF_RESERVED))
		return snp_errf(err, -EBADMSG,
				"simulator request reserved bytes 20-31 are not zero");
	req->type = type;
	req->vmpl = snp_get_le32(buf + REQ_OFF_VMPL);
	memcpy(req->user_data, buf + REQ_OFF_USER_DATA, SNP_REPORT_DATA_SIZE);
	return 0;
}

static int check_lengths(uint32_t status, uint32_t report_len, uint32_t certs_len,
			 uint32_t type, struct snp_err *err)
{
	if (status == 0 && report_len != SNP_REPORT_SIZE)
		return snp_errf(err, -EBADMSG,
				"simulator response has status 0 but report_len %u; it must be %d (0x%x)",
				report_len, SNP_REPORT_SIZE, SNP_REPORT_SIZE);
	if (status != 0 && (report_len || certs_len))
		return snp_errf(err, -EBADMSG,
				"simulator response has status 0x%x with report_len %u and certs_len %u; both must be 0",
				status, report_len, certs_len);
	if (certs_len > SNP_CERT_TABLE_SIZE_MAX)
		return snp_errf(err, -EMSGSIZE,
				"simulator response certs_len is %u; at most %d (0x%x) is allowed",
				certs_len, SNP_CERT_TABLE_SIZE_MAX, SNP_CERT_TABLE_SIZE_MAX);
	if (certs_len && type != SNP_SIM_REQ_EXT_REPORT)
		return snp_errf(err, -EBADMSG,
				"simulator response carries a %u-byte certificate table for a plain report request",
				certs_len);
	return 0;
}

/* Check a response's header; *len gets the whole response's length it announces. */
static int decode_header(const uint8_t *buf, uint32_t type, size_t *len,
			 struct snp_err *err)
{
	char magic[9];
	uint32_t version, status, report_len, certs_len;
	int ret;

	if (memcmp(buf, resp_magic, sizeof(resp_magic))) {
		show_magic(buf, magic);
		return snp_errf(err, -EBADMSG,
				"simulator response magic is \"%s\"; expected \"SNPSIMRS\"", magic);
	}
	version = snp_get_le32(buf + RESP_OFF_VERSION);
	if (version != SNP_SIM_PROTO_VERSION)
		return snp_errf(err, -EPROTONOSUPPORT,
				"simulator response protocol version is %u; only %d is known",
				version, SNP_SIM_PROTO_VERSION);
	if (!snp_all_zero(buf + RESP_OFF_RESERVED, SNP_SIM_RESP_HDR_SIZE - RESP_OFF_RESERVED))
		return snp_errf(err, -EBADMSG,
				"simulator response reserved bytes 24-31 are not zero");
	status = snp_get_le32(buf + RESP_OFF_STATUS);
	report_len = snp_get_le32(buf + RESP_OFF_REPORT_LEN);
	certs_len = snp_get_le32(buf + RESP_OFF_CERTS_LEN);
	ret = check_lengths(status, report_len, certs_len, type, err);
	if (!ret)
		*len = (size_t)SNP_SIM_RESP_HDR_SIZE + report_len + certs_len;
	return ret;
}

void snp_sim_response_free(struct snp_sim_response *resp)
{
	free(resp->certs);
	resp->certs = NULL;
	resp->certs_len = 0;
}

int snp_sim_response_decode(const uint8_t *buf, size_t len, uint32_t type,
			    struct snp_sim_response *resp, struct snp_err *err)
{
	size_t want, report_len, certs_len;
	int ret;

	memset(resp, 0, sizeof(*resp));
	if (len < SNP_SIM_RESP_HDR_SIZE)
		return snp_errf(err, -EBADMSG,
				"simulator response is %zu bytes, shorter than its %d-byte header",
				len, SNP_SIM_RESP_HDR_SIZE);
	ret = decode_header(buf, type, &want, err);
	if (ret)
		return ret;
	if (len != want)
		return snp_errf(err, -EBADMSG,
				"simulator response is %zu bytes; its header says %zu", len, want);
	report_len = snp_get_le32(buf + RESP_OFF_REPORT_LEN);
	certs_len = snp_get_le32(buf + RESP_OFF_CERTS_LEN);
	if (certs_len) {
		resp->certs = malloc(certs_len);
		if (!resp->certs)
			return snp_errf(err, -ENOMEM, "out of memory for the certificate table");
		memcpy(resp->certs, buf + want - certs_len, certs_len);
	}
	memcpy(resp->report, buf + SNP_SIM_RESP_HDR_SIZE, report_len);
	resp->status = snp_get_le32(buf + RESP_OFF_STATUS);
	resp->report_len = report_len;
	resp->certs_len = certs_len;
	return 0;
}

int snp_sim_response_encode(const struct snp_sim_response *resp, uint8_t **out,
			    size_t *len, struct snp_err *err)
{
	size_t n;
	uint8_t *buf;
	int ret;

	*out = NULL;
	*len = 0;
	if (resp->report_len > SNP_REPORT_SIZE || resp->certs_len > SNP_CERT_TABLE_SIZE_MAX)
		return snp_errf(err, -EMSGSIZE,
				"simulator response too large (report %zu, certificates %zu bytes)",
				resp->report_len, resp->certs_len);
	ret = check_lengths(resp->status, (uint32_t)resp->report_len,
			    (uint32_t)resp->certs_len, SNP_SIM_REQ_EXT_REPORT, err);
	if (ret)
		return ret;
	n = SNP_SIM_RESP_HDR_SIZE + resp->report_len + resp->certs_len;
	buf = calloc(1, n);
	if (!buf)
		return snp_errf(err, -ENOMEM, "out of memory for a simulator response");
	memcpy(buf, resp_magic, sizeof(resp_magic));
	snp_put_le32(buf + RESP_OFF_VERSION, SNP_SIM_PROTO_VERSION);
	snp_put_le32(buf + RESP_OFF_STATUS, resp->status);
	snp_put_le32(buf + RESP_OFF_REPORT_LEN, (uint32_t)resp->report_len);
	snp_put_le32(buf + RESP_OFF_CERTS_LEN, (uint32_t)resp->certs_len);
	memcpy(buf + SNP_SIM_RESP_HDR_SIZE, resp->report, resp->report_len);
	if (resp->certs_len)
		memcpy(buf + SNP_SIM_RESP_HDR_SIZE + resp->report_len, resp->certs,
		       resp->certs_len);
	*out = buf;
	*len = n;
	return 0;
}

/* One call's channel: the descriptor, its deadline and its name for messages. */
struct chan {
	int fd;
	bool is_socket;
	struct snp_deadline dl;
	char name[128];
};

/* Wait until fd is ready for events, within the call's deadline. */
static int chan_wait(const struct chan *c, short events, const char *what,
		     struct snp_err *err)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int n, left;

	for (;;) {
		left = snp_deadline_left_ms(&c->dl);
		n = poll(&pfd, 1, left);
		if (n > 0)
			break;
		if (n == 0)
			return snp_errf(err, -ETIMEDOUT,
					"simulator at %s: no answer within %d ms (%s)",
					c->name, c->dl.total_ms, what);
		if (errno != EINTR)
			return snp_errf(err, -errno, "simulator at %s: poll: %s", c->name,
					strerror(errno));
	}
	if ((pfd.revents & (POLLIN | POLLOUT)) == 0 && (pfd.revents & (POLLHUP | POLLERR)))
		return snp_errf(err, -ECONNRESET,
				"simulator at %s: the other side is closed or not connected (%s)",
				c->name, what);
	return 0;
}

static int chan_write(const struct chan *c, const uint8_t *buf, size_t len,
		      struct snp_err *err)
{
	size_t done = 0;
	ssize_t n;
	int ret;

	while (done < len) {
		ret = chan_wait(c, POLLOUT, "sending the request", err);
		if (ret)
			return ret;
		if (c->is_socket)
			n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);
		else
			n = write(c->fd, buf + done, len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return snp_errf(err, -errno, "simulator at %s: sending the request: %s",
					c->name, strerror(errno));
		done += (size_t)n;
	}
	return 0;
}

static int chan_read(const struct chan *c, uint8_t *buf, size_t len, const char *what,
		     struct snp_err *err)
{
	size_t done = 0;
	ssize_t n;
	int ret;

	while (done < len) {
		ret = chan_wait(c, POLLIN, what, err);
		if (ret)
			return ret;
		n = read(c->fd, buf + done, len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return snp_errf(err, -errno, "simulator at %s: reading %s: %s",
					c->name, what, strerror(errno));
		if (n == 0)
			return snp_errf(err, -ECONNRESET,
					"simulator at %s closed the connection after %zu of %zu bytes of %s",
					c->name, done, len, what);
		done += (size_t)n;
	}
	return 0;
}

static int connect_socket(struct chan *c, const struct snp_sim_addr *a, struct snp_err *err)
{
	int soerr = 0;
	socklen_t soerr_len = sizeof(soerr);
	int ret;

	c->fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return snp_errf(err, -errno, "simulator at %s: socket: %s", c->name,
				strerror(errno));
	c->is_socket = true;
	/* A Unix listener with a full backlog says EAGAIN: try again until the deadline. */
	while (connect(c->fd, (const struct sockaddr *)&a->sa, a->sa_len)) {
		if (errno == EINPROGRESS)
			break;
		if (errno == EINTR || (errno == EAGAIN && snp_deadline_left_ms(&c->dl) > 0)) {
			usleep(10000);
			continue;
		}
		if (errno == EAGAIN)
			return snp_errf(err, -ETIMEDOUT,
					"simulator at %s: still busy (its queue full) after %d ms",
					c->name, c->dl.total_ms);
		return snp_errf(err, -errno, "simulator at %s: connect: %s", c->name,
				strerror(errno));
	}
	ret = chan_wait(c, POLLOUT, "connecting", err);
	if (ret)
		return ret;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) || soerr)
		return snp_errf(err, soerr ? -soerr : -errno, "simulator at %s: connect: %s",
				c->name, strerror(soerr ? soerr : errno));
	return 0;
}

/* Throw away what an earlier call that gave up may have left in the port. */
static void drain_device(int fd)
{
	uint8_t junk[4096];
	size_t total = 0;
	ssize_t n;

	while (total < DRAIN_MAX) {
		n = read(fd, junk, sizeof(junk));
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

static int open_device(struct chan *c, const struct snp_sim_addr *a, struct snp_err *err)
{
	struct stat st;

	c->fd = open(a->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0 && errno == ENXIO && !stat(a->path, &st) && S_ISSOCK(st.st_mode))
		return snp_errf(err, -ENXIO, "%s is a socket; write unix:%s", a->path, a->path);
	if (c->fd < 0)
		return snp_errf(err, -errno, "simulator at %s: open: %s", c->name,
				strerror(errno));
	if (fstat(c->fd, &st) || !S_ISCHR(st.st_mode))
		return snp_errf(err, -ENODEV,
				"simulator at %s: not a character device (a virtio-serial port is one)",
				c->name);
	drain_device(c->fd);
	return 0;
}

static int chan_open(struct chan *c, const char *addr, int timeout_ms, struct snp_err *err)
{
	struct snp_sim_addr a;
	int ret;

	c->fd = -1;
	c->is_socket = false;
	snp_deadline_start(&c->dl, timeout_ms);
	ret = snp_sim_addr_parse(addr, &a, err);
	if (ret)
		return ret;
	snp_sim_addr_format(&a, c->name, sizeof(c->name));
	if (a.kind == SNP_SIM_ADDR_CHARDEV)
		return open_device(c, &a, err);
	return connect_socket(c, &a, err);
}

/*
 * The header first (it bounds the rest), then the rest into the same
 * buffer, and the whole through snp_sim_response_decode.
 */
static int read_response(const struct chan *c, uint32_t type,
			 struct snp_sim_response *resp, struct snp_err *err)
{
	uint8_t hdr[SNP_SIM_RESP_HDR_SIZE], *buf;
	size_t len, report_len;
	int ret;

	ret = chan_read(c, hdr, sizeof(hdr), "the response header", err);
	if (!ret)
		ret = decode_header(hdr, type, &len, err);
	if (ret)
		return ret;
	buf = malloc(len);
	if (!buf)
		return snp_errf(err, -ENOMEM, "out of memory for the simulator's response");
	memcpy(buf, hdr, sizeof(hdr));
	report_len = snp_get_le32(hdr + RESP_OFF_REPORT_LEN);
	ret = chan_read(c, buf + sizeof(hdr), report_len, "the report", err);
	if (!ret)
		ret = chan_read(c, buf + sizeof(hdr) + report_len, len - sizeof(hdr) - report_len,
				"the certificate table", err);
	if (!ret)
		ret = snp_sim_response_decode(buf, len, type, resp, err);
	free(buf);
	return ret;
}

int snp_sim_call(const char *addr, const struct snp_sim_request *req,
		 struct snp_sim_response *resp, int timeout_ms,
		 struct snp_err *err)
{
	uint8_t buf[SNP_SIM_REQ_SIZE];
	struct chan c;
	int ret;

	memset(resp, 0, sizeof(*resp));
	if (timeout_ms <= 0)
		return snp_errf(err, -EINVAL, "simulator call needs a positive timeout");
	if (req->type != SNP_SIM_REQ_REPORT && req->type != SNP_SIM_REQ_EXT_REPORT)
		return snp_errf(err, -EINVAL, "simulator request type %u is neither 1 nor 2",
				req->type);
	snp_sim_request_encode(req, buf);
	ret = chan_open(&c, addr, timeout_ms, err);
	if (!ret)
		ret = chan_write(&c, buf, sizeof(buf), err);
	if (!ret)
		ret = read_response(&c, req->type, resp, err);
	if (c.fd >= 0)
		close(c.fd);
	if (ret)
		snp_sim_response_free(resp);
	return ret;
}
