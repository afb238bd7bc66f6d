// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The simulator provider against a stand-in simulator: a child process
 * on a Unix socket that answers with the bytes snp/simproto.h describes,
 * so these tests check the provider, not the simulator.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snp/provider.h"
#include "snp/simproto.h"
#include "tests/harness.h"
#include "tests/unit/fake_report.h"

enum behaviour { ANSWER, REFUSE, SILENT };

struct standin {
	pid_t pid;
	char addr[128];
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#define CERTS_LEN 200

static void answer(int fd, enum behaviour how)
{
	uint8_t req[SNP_SIM_REQ_SIZE];
	uint8_t resp[SNP_SIM_RESP_HDR_SIZE + SNP_REPORT_SIZE + CERTS_LEN] = { 0 };
	uint32_t type, certs_len;
	size_t len = SNP_SIM_RESP_HDR_SIZE;

	if (read_all(fd, req, sizeof(req)) || memcmp(req, "SNPSIMRQ", 8))
		return;
	if (how == SILENT) {
		pause();
		return;
	}
	type = get32(req + 12);
	certs_len = type == SNP_SIM_REQ_EXT_REPORT && how == ANSWER ? CERTS_LEN : 0;
	memcpy(resp, "SNPSIMRS", 8);
	put32(resp + 8, SNP_SIM_PROTO_VERSION);
	put32(resp + 12, how == REFUSE ? 0x16 : 0);
	if (how == ANSWER) {
		put32(resp + 16, SNP_REPORT_SIZE);
		put32(resp + 20, certs_len);
		fake_report(resp + SNP_SIM_RESP_HDR_SIZE, req + 32, get32(req + 16));
		for (uint32_t i = 0; i < certs_len; i++)
			resp[SNP_SIM_RESP_HDR_SIZE + SNP_REPORT_SIZE + i] = (uint8_t)(i + 3);
		len += SNP_REPORT_SIZE + certs_len;
	}
	if (write(fd, resp, len) != (ssize_t)len)
		return;
}

static void standin_start(struct standin *s, enum behaviour how)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", test_path("sim.sock"));
	snprintf(s->addr, sizeof(s->addr), "unix:%s", sa.sun_path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4)) {
		perror("stand-in simulator");
		exit(1);
	}
	fflush(NULL);
	s->pid = fork();
	if (s->pid == 0) {
		for (;;) {
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				_exit(0);
			answer(fd, how);
			close(fd);
		}
	}
	close(lfd);
}

static void standin_stop(struct standin *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
}

static int ask(const char *addr, bool certs, int timeout_ms, struct snp_report_request *req,
	       struct snp_report_result *res, struct snp_err *err)
{
	struct snp_provider_config cfg = { .provider = SNP_PROVIDER_SIM, .sim_addr = addr };

	memset(req, 0, sizeof(*req));
	for (int i = 0; i < SNP_REPORT_DATA_SIZE; i++)
		req->report_data[i] = (uint8_t)(0x55 ^ i);
	req->vmpl = 1;
	req->want_certs = certs;
	req->timeout_ms = timeout_ms;
	return snp_get_report(&cfg, req, res, err);
}

TEST(simprov_report_says_it_is_simulated)
{
	struct standin s;
	struct snp_report_request req;
	struct snp_report_result res;
	struct snp_err err = { 0 };
	uint8_t want[SNP_REPORT_SIZE];

	standin_start(&s, ANSWER);
	REQUIRE(ask(s.addr, false, 5000, &req, &res, &err) == 0);
	fake_report(want, req.report_data, 1);
	CHECK_MEM(res.report, want, SNP_REPORT_SIZE);
	CHECK(res.provider == SNP_PROVIDER_SIM && res.simulated);
	CHECK(strstr(res.note, "SIMULATED") != NULL);
	CHECK(strstr(res.note, s.addr) != NULL);
	CHECK(res.certs == NULL);
	standin_stop(&s);
}

TEST(simprov_extended_report_brings_the_table)
{
	struct standin s;
	struct snp_report_request req;
	struct snp_report_result res;
	struct snp_err err = { 0 };

	standin_start(&s, ANSWER);
	REQUIRE(ask(s.addr, true, 5000, &req, &res, &err) == 0);
	REQUIRE(res.certs_len == CERTS_LEN);
	CHECK(res.certs[0] == 3 && res.certs[CERTS_LEN - 1] == (uint8_t)(CERTS_LEN - 1 + 3));
	snp_report_result_free(&res);
	standin_stop(&s);
}

TEST(simprov_refusal_is_named_and_not_latched)
{
	struct standin s;
	struct snp_report_request req;
	struct snp_report_result res;
	struct snp_err err = { 0 };

	standin_start(&s, REFUSE);
	CHECK(ask(s.addr, false, 5000, &req, &res, &err) == -EIO);
	CHECK(strstr(err.msg, "refused the report request: status 0x16 INVALID_PARAM") != NULL);
	CHECK(ask(s.addr, false, 5000, &req, &res, &err) == -EIO);
	CHECK(strstr(err.msg, "earlier") == NULL);
	standin_stop(&s);
}

TEST(simprov_silent_simulator_is_bounded)
{
	struct standin s;
	struct snp_report_request req;
	struct snp_report_result res;
	struct snp_err err = { 0 };
	time_t start = time(NULL);

	standin_start(&s, SILENT);
	CHECK(ask(s.addr, false, 300, &req, &res, &err) == -ETIMEDOUT);
	CHECK(time(NULL) - start <= 3);
	standin_stop(&s);
}

TEST(simprov_needs_an_address_and_a_simulator)
{
	struct snp_report_request req;
	struct snp_report_result res;
	struct snp_err err = { 0 };

	CHECK(ask(NULL, false, 1000, &req, &res, &err) == -EINVAL);
	CHECK(strstr(err.msg, "needs the simulator's address") != NULL);
	CHECK(ask(test_path("none.sock"), false, 1000, &req, &res, &err) < 0);
	CHECK(err.code != -ENODEV);
}
