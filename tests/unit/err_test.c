// SPDX-License-Identifier: GPL-2.0-or-later
/* snp/err.h's hex helpers and snp/fdio.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "snp/err.h"
#include "snp/fdio.h"
#include "tests/harness.h"

TEST(hex_round_trip_and_refusals)
{
	uint8_t out[4] = { 0xee, 0xee, 0xee, 0xee };
	char hex[9];
	size_t len = 99;

	CHECK(snp_unhex("00aBfF", out, sizeof(out), &len) == 0 && len == 3);
	CHECK_STR(snp_hex(hex, out, 3), "00abff");
	CHECK(out[3] == 0xee);
	CHECK(snp_unhex("", out, sizeof(out), &len) == 0 && len == 0);
	len = 99;
	CHECK(snp_unhex("abc", out, sizeof(out), &len) == -EINVAL && len == 99);
	CHECK(snp_unhex("0g", out, sizeof(out), &len) == -EINVAL);
	CHECK(snp_unhex("0x12", out, sizeof(out), &len) == -EINVAL);
	memset(out, 0x55, sizeof(out));
	CHECK(snp_unhex("0011223344", out, sizeof(out), &len) == -E2BIG);
	CHECK(out[0] == 0x55);
}

TEST(write_all_writes_everything)
{
	static uint8_t big[1 << 20];
	int fds[2];
	int fd = open(test_path("f"), O_CREAT | O_WRONLY, 0600);

	memset(big, 0xa5, sizeof(big));
	REQUIRE(fd >= 0);
	CHECK(snp_write_all(fd, big, sizeof(big)) == 0);
	close(fd);
	CHECK(lseek(open(test_path("f"), O_RDONLY), 0, SEEK_END) == (off_t)sizeof(big));
	/* A reader gone: EPIPE comes back as a negative errno. */
	REQUIRE(pipe(fds) == 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK(snp_write_all(fds[1], big, 16) == -EPIPE);
	close(fds[1]);
}
