// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's log (agent/log.h) with a regular file standing in for
 * /dev/kmsg and stderr sent to another: the kmsg record form with
 * LOG_DAEMON priorities, the stderr form, the level filter, long
 * messages cut (never overflowing a buffer), and hostile text (a
 * broker's refusal reason) unable to forge a line or drive the console.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/log.h"
#include "tests/harness.h"

/* The log to test_path("kmsg") (made empty) and stderr to test_path("stderr"). */
static int saved_stderr = -1;

static void log_to_files(int level)
{
	int kmsg = open(test_path("kmsg"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err = open(test_path("stderr"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (kmsg < 0 || err < 0 || (saved_stderr = dup(STDERR_FILENO)) < 0 ||
	    dup2(err, STDERR_FILENO) < 0) {
		perror("log_to_files");
		exit(1);
	}
	close(kmsg);
	close(err);
	agent_log_open(test_path("kmsg"), level);
}

/* Close the log, give stderr back and return what NAME ("kmsg", "stderr") got. */
static char *logged(const char *name)
{
	char *text;
	size_t len;

	if (saved_stderr >= 0) {
		agent_log_close();
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	text = (char *)test_read_file(test_path(name), 1 << 20, &len);
	text[len] = '\0';
	return text;
}

/* "<PRI>snp-unseal[PID]: " for this process. */
static const char *kmsg_prefix(int pri)
{
	static char prefix[64];

	snprintf(prefix, sizeof(prefix), "<%d>snp-unseal[%d]: ", pri, (int)getpid());
	return prefix;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

TEST(agent_log_kmsg_and_stderr_forms)
{
	char want[4096], *kmsg, *err;

	log_to_files(LOG_INFO);
	agent_log(LOG_ERR, "disk %s: %d", "vda2", 7);
	agent_log(LOG_WARNING, "slow broker");
	agent_log(LOG_NOTICE, "unlocked");
	agent_log(LOG_INFO, "step");
	agent_log(LOG_DEBUG, "not shown at info");
	agent_log(LOG_CRIT, "critical");
	kmsg = logged("kmsg");
	err = logged("stderr");
	/* LOG_DAEMON is 3 << 3: err 27, warning 28, notice 29, info 30, crit 26. */
	snprintf(want, sizeof(want), "%sdisk vda2: 7\n", kmsg_prefix(27));
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sslow broker\n",
		 kmsg_prefix(28));
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sunlocked\n",
		 kmsg_prefix(29));
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sstep\n", kmsg_prefix(30));
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%scritical\n",
		 kmsg_prefix(26));
	CHECK_STR(kmsg, want);
	CHECK_STR(err, "snp-unseal: error: disk vda2: 7\n"
		  "snp-unseal: warning: slow broker\n"
		  "snp-unseal: unlocked\n"
		  "snp-unseal: step\n"
		  "snp-unseal: error: critical\n");
	free(kmsg);
	free(err);
}

TEST(agent_log_level_filter)
{
	char *kmsg, *err;

	log_to_files(LOG_WARNING);
	agent_log(LOG_INFO, "info hidden");
	agent_log(LOG_NOTICE, "notice hidden");
	agent_log(LOG_WARNING, "warning shown");
	agent_log_set_level(LOG_DEBUG);
	agent_log(LOG_DEBUG, "debug shown");
	agent_log_set_level(LOG_ERR);
	agent_log(LOG_WARNING, "warning hidden");
	/* Facility bits from a caller are dropped: the facility is always LOG_DAEMON. */
	agent_log(LOG_AUTH | LOG_ERR, "err shown");
	kmsg = logged("kmsg");
	err = logged("stderr");
	CHECK(!strstr(kmsg, "hidden"));
	CHECK(!strstr(err, "hidden"));
	CHECK(count_lines(kmsg) == 3);
	CHECK(strstr(kmsg, kmsg_prefix(28)) == kmsg);
	CHECK(strstr(kmsg, kmsg_prefix(31)) != NULL);
	CHECK(strstr(kmsg, "debug shown") != NULL);
	CHECK(strstr(kmsg, kmsg_prefix(27)) != NULL);
	CHECK_STR(err, "snp-unseal: warning: warning shown\n"
		  "snp-unseal: debug shown\n"
		  "snp-unseal: error: err shown\n");
	free(kmsg);
	free(err);
}

/* A line's message part: after the kmsg prefix, without the newline. */
static size_t message_len(const char *line, const char *prefix)
{
	const char *nl = strchr(line, '\n');

	if (strncmp(line, prefix, strlen(prefix)) || !nl)
		return (size_t)-1;
	return (size_t)(nl - line) - strlen(prefix);
}

TEST(agent_log_long_messages_cut)
{
	size_t big = 5 * AGENT_LOG_LINE_MAX;
	char *text = malloc(big + 1), *kmsg, *err, *second;

	REQUIRE(text);
	memset(text, 'x', big);
	text[big] = '\0';
	log_to_files(LOG_INFO);
	agent_log(LOG_NOTICE, "%.*s", AGENT_LOG_LINE_MAX, text);	/* fits exactly */
	agent_log(LOG_NOTICE, "%s", text);				/* cut */
	kmsg = logged("kmsg");
	err = logged("stderr");
	REQUIRE(count_lines(kmsg) == 2);
	CHECK(message_len(kmsg, kmsg_prefix(29)) == AGENT_LOG_LINE_MAX);
	second = strchr(kmsg, '\n') + 1;
	CHECK(message_len(second, kmsg_prefix(29)) == AGENT_LOG_LINE_MAX);
	CHECK(!strncmp(second + strlen(kmsg_prefix(29)) + AGENT_LOG_LINE_MAX - 4, "x...\n", 5));
	CHECK(!strncmp(kmsg + strlen(kmsg_prefix(29)) + AGENT_LOG_LINE_MAX - 1, "x\n", 2));
	CHECK(count_lines(err) == 2);
	CHECK(strlen(err) == 2 * (strlen("snp-unseal: ") + AGENT_LOG_LINE_MAX + 1));
	free(text);
	free(kmsg);
	free(err);
}

TEST(agent_log_neutralises_control_characters)
{
	char *kmsg, *err, want[256];

	log_to_files(LOG_INFO);
	/* A refusal reason as a hostile broker might send it. */
	agent_log(LOG_ERR, "refused: %s",
		  "no\n<0>snp-unseal[1]: unlocked\r\x1b[2J\x7f\xc3\xa9\t.");
	kmsg = logged("kmsg");
	err = logged("stderr");
	CHECK(count_lines(kmsg) == 1);
	CHECK(count_lines(err) == 1);
	snprintf(want, sizeof(want), "%srefused: no?<0>snp-unseal[1]: unlocked??[2J????.\n",
		 kmsg_prefix(27));
	CHECK_STR(kmsg, want);
	CHECK_STR(err, "snp-unseal: error: refused: no?<0>snp-unseal[1]: unlocked??[2J????.\n");
	free(kmsg);
	free(err);
}

TEST(agent_log_without_kmsg)
{
	char *err;
	int ret;

	/* "": no kmsg at all; a kmsg that cannot be opened: the same. Stderr has it all. */
	log_to_files(LOG_INFO);
	agent_log_open("", LOG_INFO);
	agent_log(LOG_INFO, "one");
	agent_log_open(test_path("no/such/kmsg"), LOG_INFO);
	errno = EXDEV;
	agent_log(LOG_INFO, "two");
	ret = errno;
	err = logged("stderr");
	CHECK_STR(err, "snp-unseal: one\nsnp-unseal: two\n");
	/* The kmsg file is untouched: agent_log_open("") closed it before anything was logged. */
	free(err);
	err = logged("kmsg");
	CHECK_STR(err, "");
	/* Callers may look at errno after logging. */
	CHECK(ret == EXDEV);
	free(err);
}

TEST(agent_log_creates_a_kmsg_file)
{
	struct stat st;
	char *kmsg;

	/* A file given instead of /dev/kmsg (--kmsg FILE) need not exist yet. */
	log_to_files(LOG_INFO);
	REQUIRE(unlink(test_path("kmsg")) == 0);
	agent_log_open(test_path("kmsg"), LOG_INFO);
	agent_log(LOG_NOTICE, "first line");
	kmsg = logged("kmsg");
	CHECK(strstr(kmsg, "first line\n") != NULL);
	CHECK(stat(test_path("kmsg"), &st) == 0 && (st.st_mode & 0777) == 0600);
	free(kmsg);
	free(logged("stderr"));
}

TEST(agent_log_level_names)
{
	CHECK(agent_log_level_from_name("err") == LOG_ERR);
	CHECK(agent_log_level_from_name("warning") == LOG_WARNING);
	CHECK(agent_log_level_from_name("notice") == LOG_NOTICE);
	CHECK(agent_log_level_from_name("info") == LOG_INFO);
	CHECK(agent_log_level_from_name("debug") == LOG_DEBUG);
	CHECK(agent_log_level_from_name("error") == -1);
	CHECK(agent_log_level_from_name("warn") == -1);
	CHECK(agent_log_level_from_name("INFO") == -1);
	CHECK(agent_log_level_from_name("info ") == -1);
	CHECK(agent_log_level_from_name("crit") == -1);
	CHECK(agent_log_level_from_name("7") == -1);
	CHECK(agent_log_level_from_name("") == -1);
	CHECK(agent_log_level_from_name(NULL) == -1);
}
