/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_SIMPROTO_H
#define SNP_SIMPROTO_H

/*
 * Wire protocol between the guest and the SNP firmware simulator
 * (snp-sim). Like the real PSP, the simulator keeps its keys outside the
 * guest: the guest only sends a request and gets a signed report back.
 * One request and one response per connection; all integers little-endian.
 *
 * Request, 96 bytes:
 *   0  magic "SNPSIMRQ"      8
 *   8  protocol version = 1  u32
 *  12  type (1 report, 2 extended report with certificate table)  u32
 *  16  vmpl                  u32 (as the kernel's snp_report_req.vmpl)
 *  20  reserved, zero        u32 x3
 *  32  user_data             64 (becomes REPORT_DATA)
 *
 * Response, 32-byte header then payloads:
 *   0  magic "SNPSIMRS"      8
 *   8  protocol version = 1  u32
 *  12  status                u32 (0 success, else an SEV firmware status,
 *                                 e.g. 0x16 INVALID_PARAM for a VMPL below
 *                                 the guest's own)
 *  16  report_len            u32 (0x4A0 on success, else 0)
 *  20  certs_len             u32 (0 unless type 2; at most 0x4000)
 *  24  reserved, zero        8
 *  32  report, then the certificate table (snp/certtable.h format)
 *
 * Addresses: "unix:/path/to/socket", "tcp:HOST:PORT" (QEMU user
 * networking reaches the host as 10.0.2.2), or a path to a character
 * device such as /dev/virtio-ports/snp-sim (a virtio-serial port).
 */
#include <stddef.h>
#include <stdint.h>

#include "snp/certtable.h"
#include "snp/err.h"
#include "snp/report.h"

#define SNP_SIM_PROTO_VERSION	1
#define SNP_SIM_REQ_SIZE	96
#define SNP_SIM_RESP_HDR_SIZE	32
/* The certificate table's bound (snp/certtable.h), by its older name. */
#define SNP_SIM_CERTS_MAX	SNP_CERT_TABLE_SIZE_MAX

enum snp_sim_req_type {
	SNP_SIM_REQ_REPORT = 1,
	SNP_SIM_REQ_EXT_REPORT = 2,
};

struct snp_sim_request {
	uint32_t type;
	uint32_t vmpl;
	uint8_t user_data[SNP_REPORT_DATA_SIZE];
};

struct snp_sim_response {
	uint32_t status;
	uint8_t report[SNP_REPORT_SIZE];
	size_t report_len;
	uint8_t *certs;		/* malloc'd, or NULL */
	size_t certs_len;
};

void snp_sim_request_encode(const struct snp_sim_request *req,
			    uint8_t out[SNP_SIM_REQ_SIZE]);
int snp_sim_request_decode(const uint8_t *buf, size_t len,
			   struct snp_sim_request *req, struct snp_err *err);

/*
 * Ask the simulator at addr for a report. Every wait (connect, write,
 * read) is bounded by timeout_ms in all. On success resp->certs may be
 * set (free with snp_sim_response_free).
 */
int snp_sim_call(const char *addr, const struct snp_sim_request *req,
		 struct snp_sim_response *resp, int timeout_ms,
		 struct snp_err *err);
void snp_sim_response_free(struct snp_sim_response *resp);

/*
 * Strict decoding of a whole response to a request of the given type
 * (what snp_sim_call checks): magic, version, reserved bytes zero,
 * report_len 0x4A0 on status 0 and 0 otherwise, certs_len at most
 * SNP_CERT_TABLE_SIZE_MAX and 0 unless type 2, and exactly len bytes in all.
 */
int snp_sim_response_decode(const uint8_t *buf, size_t len, uint32_t type,
			    struct snp_sim_response *resp, struct snp_err *err);
/*
 * The simulator's side: resp as bytes (header, report, certificate table)
 * in a malloc'd *out of *len bytes.
 */
int snp_sim_response_encode(const struct snp_sim_response *resp, uint8_t **out,
			    size_t *len, struct snp_err *err);

#endif
