// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The broker's structured log: both forms, escaping of hostile values (a
 * peer must not be able to forge a line or a member), the level filter,
 * cut lines that stay one line (and valid JSON), and whole lines from
 * concurrent threads.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "broker/log.h"
#include "tests/harness.h"

/* Everything logged to the test's file so far, NUL-terminated. */
static char *logged(size_t *len)
{
	char *text = (char *)test_read_file(test_path("log"), 1 << 22, len);

	text[*len] = 0;
	return text;
}

static int log_to_file(enum config_log_format format, enum config_log_level level)
{
	int fd = open(test_path("log"), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);

	log_setup(format, level, fd);
	return fd;
}

/* The line after its timestamp ("2026-11-22T10:00:00Z "). */
static const char *after_time(const char *line)
{
	const char *sp = strchr(line, ' ');

	return sp ? sp + 1 : "";
}

TEST(log_text_form)
{
	int fd = log_to_file(CONFIG_LOG_TEXT, CONFIG_LOG_INFO);
	char *text;
	size_t len;

	REQUIRE(fd >= 0);
	log_event(CONFIG_LOG_INFO, "unsealed", "peer", "127.0.0.1:4000", "volume",
		  "0b1c2d3e-0000-4000-8000-000000000001", NULL);
	log_event(CONFIG_LOG_WARN, "refused \"x\"", "message", "two words", "empty", "",
		  "null", NULL, "evil", "a\nb=c\\d\x01\xff", NULL);
	log_event(CONFIG_LOG_DEBUG, "not shown", NULL);
	log_msgf(CONFIG_LOG_ERROR, "%d loops", 3);
	text = logged(&len);
	/* Four lines, three of them shown; each starts with an RFC 3339 UTC time. */
	CHECK(len > 0 && text[len - 1] == '\n');
	{
		char *save = NULL, *line;
		const char *want[] = {
			"info msg=\"unsealed\" peer=127.0.0.1:4000 volume=0b1c2d3e-0000-4000-8000-000000000001",
			"warn msg=\"refused \\\"x\\\"\" message=\"two words\" empty=\"\" null=\"\" "
			"evil=\"a\\x0ab=c\\\\d\\x01\\xff\"",
			"error msg=\"3 loops\"",
		};
		size_t n = 0;

		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			CHECK(strlen(line) > 21 && line[4] == '-' && line[10] == 'T' &&
			      line[19] == 'Z' && line[20] == ' ');
			if (n < 3)
				CHECK_STR(after_time(line), want[n]);
			n++;
		}
		CHECK(n == 3);
	}
	free(text);
	close(fd);
}

TEST(log_json_form)
{
	int fd = log_to_file(CONFIG_LOG_JSON, CONFIG_LOG_DEBUG);
	struct json_object *o, *v;
	char *text;
	size_t len;

	REQUIRE(fd >= 0);
	log_event(CONFIG_LOG_DEBUG, "request", "peer", "[::1]:5", "path", "/a\"b\n\x7f",
		  "status", "200", NULL);
	text = logged(&len);
	CHECK(strchr(text, '\n') == text + len - 1);
	o = json_tokener_parse(text);
	REQUIRE(o != NULL);
	CHECK(json_object_object_length(o) == 6);
	CHECK(json_object_object_get_ex(o, "level", &v) && !strcmp(json_object_get_string(v), "debug"));
	CHECK(json_object_object_get_ex(o, "msg", &v) && !strcmp(json_object_get_string(v), "request"));
	CHECK(json_object_object_get_ex(o, "path", &v) &&
	      !strcmp(json_object_get_string(v), "/a\"b\n\x7f"));
	CHECK(json_object_object_get_ex(o, "time", &v) &&
	      strlen(json_object_get_string(v)) == 20);
	json_object_put(o);
	free(text);
	close(fd);
}

/* A line past LOG_LINE_MAX is cut, stays one line, and in JSON still parses. */
TEST(log_long_lines_cut)
{
	char *big = malloc(3 * LOG_LINE_MAX);
	struct json_object *o;
	char *text;
	size_t len;
	int fd;

	memset(big, 'x', 3 * LOG_LINE_MAX - 1);
	big[3 * LOG_LINE_MAX - 1] = 0;
	for (int form = 0; form < 2; form++) {
		for (int escaped = 0; escaped < 2; escaped++) {
			/* Escaped: every byte takes 2 (text: \\) or 6 (JSON: \u0001) bytes. */
			memset(big, escaped ? (form ? 1 : '\\') : 'x', 3 * LOG_LINE_MAX - 1);
			fd = log_to_file(form ? CONFIG_LOG_JSON : CONFIG_LOG_TEXT, CONFIG_LOG_INFO);
			log_event(CONFIG_LOG_INFO, "big", "a", "1", "value", big, "after", "2", NULL);
			/* Cut between pairs: the pair that did not fit is left out whole. */
			log_event(CONFIG_LOG_INFO, "many", "k0", big + 2 * LOG_LINE_MAX + 200,
				  "k1", big + 2 * LOG_LINE_MAX + 200, "k2", big + 2 * LOG_LINE_MAX + 200,
				  NULL);
			text = logged(&len);
			CHECK(len <= 2 * LOG_LINE_MAX);
			CHECK(strchr(text, '\n') && strchr(strchr(text, '\n') + 1, '\n') == text + len - 1);
			CHECK(strstr(text, "...") != NULL);
			CHECK(strstr(text, "after") == NULL);
			if (form) {
				char *second = strchr(text, '\n') + 1;

				second[-1] = 0;
				o = json_tokener_parse(text);
				CHECK(o != NULL);
				json_object_put(o);
				o = json_tokener_parse(second);
				CHECK(o != NULL);
				json_object_put(o);
			}
			free(text);
			close(fd);
		}
	}
	free(big);
}

static void *log_burst(void *arg)
{
	char v[64];

	snprintf(v, sizeof(v), "thread-%ld", (long)(intptr_t)arg);
	for (int i = 0; i < 500; i++)
		log_event(CONFIG_LOG_INFO, "burst", "who", v, "pad",
			  "0123456789012345678901234567890123456789", NULL);
	return NULL;
}

/* Lines of concurrent threads never interleave. */
TEST(log_threads_whole_lines)
{
	pthread_t th[4];
	int fd = log_to_file(CONFIG_LOG_TEXT, CONFIG_LOG_INFO);
	char *text, *save = NULL, *line;
	size_t len, n = 0;

	REQUIRE(fd >= 0);
	for (long i = 0; i < 4; i++)
		REQUIRE(pthread_create(&th[i], NULL, log_burst, (void *)(intptr_t)i) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	text = logged(&len);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *rest = after_time(line);

		if (strncmp(rest, "info msg=\"burst\" who=thread-", 28) ||
		    strcmp(rest + 29, " pad=0123456789012345678901234567890123456789"))
			CHECK_STR(rest, "info msg=\"burst\" who=thread-N pad=...");
		n++;
	}
	CHECK(n == 2000);
	free(text);
	close(fd);
}
