// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's settings (agent/config.h): every key's accepted and refused
 * values, the file, the kernel command line, the layers composed as
 * `snp-unseal unlock` composes them, the final check; and the shared
 * duration reader (snp/deadline.h) they and the broker use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "agent/config.h"
#include "snp/deadline.h"
#include "tests/harness.h"

#define PIN_A	"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define PIN_B	"sha256:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define UUID_A	"0f0e0d0c-0b0a-4908-8706-050403020100"
#define UUID_B	"11111111-2222-4333-8444-555555555555"
/* 256 bytes: longer than any list item. */
#define UUID_LONG	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static bool has(const char *msg, const char *part)
{
	bool found = strstr(msg, part) != NULL;

	if (!found)
		fprintf(stderr, "    message: %s\n    lacks:   %s\n", msg, part);
	return found;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

/* ---- snp_duration_parse and snp_duration_text ----------------------------- */

TEST(duration_parse_reads_each_unit)
{
	int64_t ms = -1;

	CHECK(snp_duration_parse("250ms", 0, INT64_MAX, &ms) == 0 && ms == 250);
	CHECK(snp_duration_parse("90s", 0, INT64_MAX, &ms) == 0 && ms == 90000);
	CHECK(snp_duration_parse("2m", 0, INT64_MAX, &ms) == 0 && ms == 120000);
	CHECK(snp_duration_parse("3h", 0, INT64_MAX, &ms) == 0 && ms == 10800000);
	CHECK(snp_duration_parse("0s", 0, 10, &ms) == 0 && ms == 0);
	CHECK(snp_duration_parse("007s", 0, INT64_MAX, &ms) == 0 && ms == 7000);
	CHECK(snp_duration_parse("9223372036854775807ms", 0, INT64_MAX, &ms) == 0 &&
	      ms == INT64_MAX);
}

TEST(duration_parse_refuses_what_is_not_a_duration)
{
	static const char *const bad[] = {
		"", "s", "5", "5x", "5 s", " 5s", "5s ", "+5s", "-5s", "1.5s", "5sec", "5S",
		"5ms5", "0x10s", "99999999999999999999999x",
	};
	int64_t ms = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!CHECK(snp_duration_parse(bad[i], 0, INT64_MAX, &ms) == -EINVAL))
			fprintf(stderr, "    accepted '%s'\n", bad[i]);
	}
	CHECK(ms == 42);
}

TEST(duration_parse_checks_range_and_overflow)
{
	int64_t ms = 42;

	CHECK(snp_duration_parse("99ms", 100, 1000, &ms) == -ERANGE);
	CHECK(snp_duration_parse("1001ms", 100, 1000, &ms) == -ERANGE);
	CHECK(snp_duration_parse("9223372036854775808ms", 0, INT64_MAX, &ms) == -ERANGE);
	CHECK(snp_duration_parse("99999999999999999999999s", 0, INT64_MAX, &ms) == -ERANGE);
	/* Fits int64_t as a number, not once multiplied by the unit. */
	CHECK(snp_duration_parse("9223372036854775807h", 0, INT64_MAX, &ms) == -ERANGE);
	CHECK(snp_duration_parse("2562047788016h", 0, INT64_MAX, &ms) == -ERANGE);
	CHECK(ms == 42);
	CHECK(snp_duration_parse("2562047788015h", 0, INT64_MAX, &ms) == 0 &&
	      ms == 2562047788015LL * 3600000);
}

TEST(duration_text_is_the_shortest_exact_form)
{
	char out[32];

	CHECK_STR(snp_duration_text(out, sizeof(out), 120000), "2m");
	CHECK_STR(snp_duration_text(out, sizeof(out), 1500), "1500ms");
	CHECK_STR(snp_duration_text(out, sizeof(out), 90000), "90s");
	CHECK_STR(snp_duration_text(out, sizeof(out), 3600000), "1h");
	CHECK_STR(snp_duration_text(out, sizeof(out), 86400000), "24h");
	CHECK_STR(snp_duration_text(out, sizeof(out), 1), "1ms");
	CHECK_STR(snp_duration_text(out, sizeof(out), 0), "0s");
	CHECK_STR(snp_duration_text(out, sizeof(out), 61000), "61s");
}

/* ---- Defaults and names ---------------------------------------------------- */

TEST(agent_config_defaults)
{
	struct agent_settings s;

	agent_settings_defaults(&s);
	CHECK_STR(s.ca_file, AGENT_CA_FILE);
	CHECK(s.provider == SNP_PROVIDER_AUTO && s.vmpl == 0);
	CHECK(s.deadline_ms == 120000 && s.attempt_timeout_ms == 15000);
	CHECK(s.device_timeout_ms == 30000);
	CHECK(s.backoff_ms == 1000 && s.backoff_max_ms == 16000);
	CHECK(s.on_failure == AGENT_FALLBACK && s.enable && s.log_level == LOG_INFO);
	for (int k = 0; k < AS_COUNT; k++) {
		bool unset = k == AS_PIN || k == AS_CONNECT_TO || k == AS_SIM || k == AS_NAME ||
			     k == AS_UUID || k == AS_BROKER || k == AS_CA_PIN;

		if (!CHECK(agent_is_set(&s, (enum agent_setting)k) == !unset))
			fprintf(stderr, "    %s\n", agent_setting_name((enum agent_setting)k));
	}
	CHECK(s.n_brokers == 0 && s.n_ca_pins == 0 && s.n_uuids == 0);
	agent_settings_clear(&s);
	CHECK(s.set == 0);
}

TEST(agent_config_names_round_trip)
{
	static const char *const names[AS_COUNT] = {
		"broker", "ca", "ca_pin", "pin", "connect_to", "provider", "sim", "vmpl",
		"deadline", "attempt_timeout", "device_timeout", "backoff", "backoff_max",
		"on_failure", "name", "uuid", "enable", "log_level",
	};
	struct agent_settings s;
	struct snp_err err = { 0 };

	for (int k = 0; k < AS_COUNT; k++) {
		CHECK_STR(agent_setting_name((enum agent_setting)k), names[k]);
		/* Every name is a key: an empty value is refused for its value, not its name. */
		agent_settings_clear(&s);
		agent_settings_set(&s, names[k], "", "test", &err);
		CHECK(!strstr(err.msg, "unknown key"));
	}
}

/* ---- Accepted values ------------------------------------------------------- */

static int set_ok(struct agent_settings *s, const char *key, const char *value)
{
	struct snp_err err = { 0 };
	int ret = agent_settings_set(s, key, value, "test", &err);

	if (ret)
		fprintf(stderr, "    %s = %s: %s\n", key, value, err.msg);
	return ret;
}

TEST(agent_config_accepts_every_key)
{
	struct agent_settings s;
	uint8_t pin_a[TLS_PIN_SIZE], pin_b[TLS_PIN_SIZE];

	test_unhex(PIN_A + 7, pin_a, sizeof(pin_a));
	test_unhex(PIN_B + 7, pin_b, sizeof(pin_b));
	agent_settings_clear(&s);
	REQUIRE(set_ok(&s, "broker", "https://kb.example:8443, https://[::1]:9000/unseal") == 0);
	CHECK(s.n_brokers == 2);
	CHECK_STR(s.brokers[0], "https://kb.example:8443");
	CHECK_STR(s.brokers[1], "https://[::1]:9000/unseal");
	CHECK(set_ok(&s, "ca", "/etc/snp-unseal/other ca.pem") == 0);
	CHECK_STR(s.ca_file, "/etc/snp-unseal/other ca.pem");
	CHECK(set_ok(&s, "ca_pin", PIN_A "," PIN_B) == 0 && s.n_ca_pins == 2);
	CHECK_MEM(s.ca_pins[0], pin_a, TLS_PIN_SIZE);
	CHECK_MEM(s.ca_pins[1], pin_b, TLS_PIN_SIZE);
	CHECK(set_ok(&s, "pin", PIN_B) == 0);
	CHECK_MEM(s.server_pin, pin_b, TLS_PIN_SIZE);
	CHECK(set_ok(&s, "connect_to", "192.0.2.7") == 0);
	CHECK_STR(s.connect_to, "192.0.2.7");
	CHECK(set_ok(&s, "connect_to", "2001:db8::7") == 0);
	CHECK_STR(s.connect_to, "2001:db8::7");
	CHECK(set_ok(&s, "sim", "unix:/run/snp-sim.sock") == 0);
	CHECK_STR(s.sim_addr, "unix:/run/snp-sim.sock");
	CHECK(set_ok(&s, "sim", "tcp:127.0.0.1:4000") == 0);
	CHECK(set_ok(&s, "vmpl", "3") == 0 && s.vmpl == 3);
	CHECK(set_ok(&s, "deadline", "5m") == 0 && s.deadline_ms == 300000);
	CHECK(set_ok(&s, "attempt_timeout", "2500ms") == 0 && s.attempt_timeout_ms == 2500);
	CHECK(set_ok(&s, "device_timeout", "0s") == 0 && s.device_timeout_ms == 0);
	CHECK(set_ok(&s, "backoff", "10ms") == 0 && s.backoff_ms == 10);
	CHECK(set_ok(&s, "backoff_max", "1h") == 0 && s.backoff_max_ms == 3600000);
	CHECK(set_ok(&s, "on_failure", "poweroff") == 0 && s.on_failure == AGENT_POWEROFF);
	CHECK(set_ok(&s, "on_failure", "fallback") == 0 && s.on_failure == AGENT_FALLBACK);
	CHECK(set_ok(&s, "name", "cryptroot") == 0);
	CHECK_STR(s.name, "cryptroot");
	CHECK(set_ok(&s, "uuid", UUID_A ",11111111-2222-4333-8444-55555555555F") == 0);
	CHECK(s.n_uuids == 2);
	CHECK_STR(s.uuids[0], UUID_A);
	CHECK_STR(s.uuids[1], "11111111-2222-4333-8444-55555555555f");
	CHECK(set_ok(&s, "enable", "0") == 0 && !s.enable);
	CHECK(set_ok(&s, "enable", "1") == 0 && s.enable);
	CHECK(set_ok(&s, "log_level", "debug") == 0 && s.log_level == LOG_DEBUG);
	CHECK(set_ok(&s, "log_level", "err") == 0 && s.log_level == LOG_ERR);
	for (int k = 0; k < AS_COUNT; k++)
		if (k != AS_PROVIDER && !CHECK(agent_is_set(&s, (enum agent_setting)k)))
			fprintf(stderr, "    %s not set\n", agent_setting_name((enum agent_setting)k));
}

TEST(agent_config_provider_names)
{
	static const struct {
		const char *name;
		enum snp_provider provider;
	} cases[] = {
		{ "sim", SNP_PROVIDER_SIM }, { "configfs", SNP_PROVIDER_CONFIGFS },
		{ "ioctl", SNP_PROVIDER_IOCTL }, { "auto", SNP_PROVIDER_AUTO },
	};
	struct agent_settings s;

	agent_settings_clear(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(set_ok(&s, "provider", cases[i].name) == 0 &&
		      s.provider == cases[i].provider);
	CHECK(agent_is_set(&s, AS_PROVIDER));
}

TEST(agent_config_range_bounds_are_inclusive)
{
	static const struct {
		const char *key, *value;
		int ms;
	} cases[] = {
		{ "deadline", "1s", 1000 }, { "deadline", "24h", 86400000 },
		{ "attempt_timeout", "100ms", 100 }, { "attempt_timeout", "10m", 600000 },
		{ "device_timeout", "0ms", 0 }, { "device_timeout", "60m", 3600000 },
		{ "backoff", "10ms", 10 }, { "backoff", "600s", 600000 },
		{ "backoff_max", "10ms", 10 }, { "backoff_max", "1h", 3600000 },
	};
	struct agent_settings s;
	const int *fields[] = { &s.deadline_ms, &s.attempt_timeout_ms, &s.device_timeout_ms,
				&s.backoff_ms, &s.backoff_max_ms };

	agent_settings_clear(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REQUIRE(set_ok(&s, cases[i].key, cases[i].value) == 0);
		CHECK(*fields[i / 2] == cases[i].ms);
	}
	CHECK(set_ok(&s, "vmpl", "0") == 0 && s.vmpl == 0);
}

/* The list of a setting given again replaces the old one, it does not add to it. */
TEST(agent_config_a_list_set_again_is_replaced)
{
	struct agent_settings s;

	agent_settings_clear(&s);
	REQUIRE(set_ok(&s, "broker", "https://a.example,https://b.example") == 0);
	REQUIRE(set_ok(&s, "broker", "https://c.example") == 0);
	CHECK(s.n_brokers == 1);
	CHECK_STR(s.brokers[0], "https://c.example");
	REQUIRE(set_ok(&s, "uuid", UUID_A "," UUID_B) == 0);
	REQUIRE(set_ok(&s, "uuid", UUID_B) == 0);
	CHECK(s.n_uuids == 1);
	CHECK_STR(s.uuids[0], UUID_B);
}

/* ca may be empty: no CA bundle, the server pin alone authenticates. */
TEST(agent_config_an_empty_ca_means_none)
{
	struct agent_settings s;

	agent_settings_defaults(&s);
	REQUIRE(set_ok(&s, "ca", "") == 0);
	CHECK(agent_is_set(&s, AS_CA));
	CHECK_STR(s.ca_file, "");
}

/* ---- Refused values --------------------------------------------------------- */

struct refusal {
	const char *key, *value;
	const char *says;		/* a part of the message after "test: KEY: " */
};

static const struct refusal refusals[] = {
	{ "broker", "", "no value" },
	{ "broker", "http://kb.example", "http://kb.example: only https:// URLs are supported" },
	{ "broker", "https://kb.example#x", "a fragment" },
	{ "broker", "https://user@kb.example", "user information" },
	{ "broker", "https://kb.example,", "'https://kb.example,' holds an empty item" },
	{ "broker", ",https://kb.example", "holds an empty item" },
	{ "broker", "https://a.example,https://a.example", "\"https://a.example\" is given twice" },
	{ "broker", "https://a\"b.example", "holds a '\"' or '\\'" },
	{ "broker", "https://1,https://2,https://3,https://4,https://5,https://6,https://7,"
		    "https://8,https://9", "holds more than 8 URLs" },
	{ "broker", "kb.example", "kb.example" },
	{ "ca_pin", "sha1:0011", "the pin \"sha1:0011\" is not sha256: followed by 64 hex digits" },
	{ "ca_pin", PIN_A ",", "holds an empty item" },
	{ "ca_pin", PIN_A "0", "is not sha256: followed by 64 hex digits" },
	{ "ca_pin", "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
	  "is not sha256: followed by 64 hex digits" },
	{ "ca_pin", PIN_A "," PIN_A "," PIN_A "," PIN_A "," PIN_A "," PIN_A "," PIN_A "," PIN_A
		    "," PIN_A, "holds more than 8 pins" },
	{ "pin", "sha256:00", "the pin \"sha256:00\" is not sha256: followed by 64 hex digits" },
	{ "pin", PIN_A "," PIN_B, "is not sha256: followed by 64 hex digits" },
	{ "connect_to", "localhost", "'localhost' is not a numeric IPv4 or IPv6 address" },
	{ "connect_to", "[::1]", "'[::1]' is not a numeric IPv4 or IPv6 address (write IPv6 without brackets)" },
	{ "connect_to", "127.0.0.1:443", "'127.0.0.1:443' is not a numeric" },
	{ "connect_to", "127.1", "'127.1' is not a numeric" },
	{ "provider", "tsm", "'tsm' is not auto, configfs, ioctl or sim" },
	{ "provider", "SIM", "'SIM' is not auto" },
	{ "sim", "simulator", "address 'simulator' is none of unix:PATH, tcp:HOST:PORT" },
	{ "sim", "unix:", "names no socket path" },
	{ "vmpl", "4", "4 is outside 0 to 3" },
	{ "vmpl", "99999999999999999999", "99999999999999999999 is outside 0 to 3" },
	{ "vmpl", "-1", "'-1' is not a number" },
	{ "vmpl", "1 ", "'1 ' is not a number" },
	{ "deadline", "5x", "'5x' is not a duration (a number, then ms, s, m or h)" },
	{ "deadline", "120", "'120' is not a duration" },
	{ "deadline", "999ms", "999ms is outside 1s to 24h" },
	{ "deadline", "25h", "25h is outside 1s to 24h" },
	{ "deadline", "99999999999999999999h", "is outside 1s to 24h" },
	{ "attempt_timeout", "99ms", "99ms is outside 100ms to 10m" },
	{ "attempt_timeout", "601s", "601s is outside 100ms to 10m" },
	{ "device_timeout", "61m", "61m is outside 0s to 1h" },
	{ "device_timeout", "-1s", "'-1s' is not a duration" },
	{ "backoff", "9ms", "9ms is outside 10ms to 10m" },
	{ "backoff", "11m", "11m is outside 10ms to 10m" },
	{ "backoff_max", "2h", "2h is outside 10ms to 1h" },
	{ "on_failure", "halt", "'halt' is not fallback or poweroff" },
	{ "name", "a/b", "\"a/b\" holds a '/' or a byte that is not printable ASCII" },
	{ "name", "..", "\"..\" is not a device-mapper name" },
	{ "name", "tab\there", "holds a '/' or a byte that is not printable ASCII" },
	{ "name", "0123456789012345678901234567890123456789012345678901234567890123"
		  "0123456789012345678901234567890123456789012345678901234567890123",
	  "is longer than 127 bytes" },
	{ "uuid", "not-a-uuid", "'not-a-uuid' holds 'not-a-uuid', which is not a UUID" },
	{ "uuid", UUID_A ",," UUID_B, "holds an empty item" },
	{ "uuid", UUID_A "," UUID_A, "names " UUID_A " twice" },
	{ "uuid", "0f0e0d0c0b0a-4908-8706-050403020100-", "which is not a UUID" },
	{ "uuid", UUID_A "0000", "which is not a UUID" },
	{ "uuid", UUID_A "," UUID_LONG, "holds an item longer than 255 bytes" },
	{ "broker", "https://kb.example/" UUID_LONG, "holds an item longer than 255 bytes" },
	{ "enable", "yes", "'yes' is not 0 or 1" },
	{ "enable", "true", "'true' is not 0 or 1" },
	{ "log_level", "warn", "'warn' is not err, warning, notice, info or debug" },
	{ "log_level", "7", "'7' is not err" },
};

TEST(agent_config_refusals_name_where_key_and_value)
{
	struct agent_settings s, before;
	char lead[64];

	agent_settings_defaults(&s);
	REQUIRE(set_ok(&s, "broker", "https://kept.example") == 0);
	REQUIRE(set_ok(&s, "uuid", UUID_B) == 0);
	REQUIRE(set_ok(&s, "name", "kept") == 0);
	before = s;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct snp_err err = { 0 };
		int ret = agent_settings_set(&s, r->key, r->value, "test", &err);

		snprintf(lead, sizeof(lead), "test: %s: ", r->key);
		if (!CHECK(ret == -EINVAL) || !CHECK(!strncmp(err.msg, lead, strlen(lead))) ||
		    !CHECK(has(err.msg + strlen(lead), r->says)))
			fprintf(stderr, "    %s = '%s' (ret %d): %s\n", r->key, r->value, ret,
				err.msg);
		/* A refused value changes nothing. */
		if (!CHECK(!memcmp(&s, &before, sizeof(s))))
			fprintf(stderr, "    %s = '%s' changed the settings\n", r->key, r->value);
	}
}

TEST(agent_config_refusals_show_unprintable_bytes_as_question_marks)
{
	struct agent_settings s;
	struct snp_err err = { 0 };

	agent_settings_clear(&s);
	CHECK(agent_settings_set(&s, "deadline", "5\x1b[2Js", "test", &err) == -EINVAL);
	CHECK(has(err.msg, "'5?[2Js' is not a duration"));
	CHECK(agent_settings_set(&s, "broker", "https://a\x7f.example", "test", &err) == -EINVAL);
	for (const char *p = err.msg; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	CHECK(agent_settings_set(&s, "ke\ny", "1", "test", &err) == -EINVAL);
	CHECK_STR(err.msg, "test: unknown key 'ke?y'");
}

TEST(agent_config_uuid_list_bound)
{
	char list[AGENT_UUIDS_MAX + 1][40], value[(AGENT_UUIDS_MAX + 1) * 40] = "";
	struct agent_settings s;
	struct snp_err err = { 0 };

	for (int i = 0; i <= AGENT_UUIDS_MAX; i++) {
		snprintf(list[i], sizeof(list[i]), "%s00000000-0000-4000-8000-0000000000%02d",
			 i ? "," : "", i);
		strcat(value, list[i]);
	}
	agent_settings_clear(&s);
	CHECK(agent_settings_set(&s, "uuid", value, "test", &err) == -EINVAL);
	CHECK(has(err.msg, "holds more than 16 UUIDs"));
	CHECK(s.set == 0);
	/* The last one dropped, the rest fit. */
	*strrchr(value, ',') = '\0';
	REQUIRE(set_ok(&s, "uuid", value) == 0);
	CHECK(s.n_uuids == AGENT_UUIDS_MAX);
	CHECK_STR(s.uuids[AGENT_UUIDS_MAX - 1], "00000000-0000-4000-8000-000000000015");
}

TEST(agent_config_unknown_key)
{
	struct agent_settings s;
	struct snp_err err = { 0 };

	agent_settings_clear(&s);
	CHECK(agent_settings_set(&s, "dead_line", "5s", "/etc/x.conf:4", &err) == -EINVAL);
	CHECK_STR(err.msg, "/etc/x.conf:4: unknown key 'dead_line'");
	CHECK(agent_settings_set(&s, "Deadline", "5s", "x", &err) == -EINVAL);
	CHECK(s.set == 0);
}

/* ---- The file ------------------------------------------------------------- */

static int parse_file(struct agent_settings *s, const char *text, struct snp_err *err)
{
	agent_settings_clear(s);
	return agent_settings_parse_file(s, text, strlen(text), "a.conf", err);
}

static int parse_cmdline(struct agent_settings *s, const char *text, struct snp_err *err);

/* Each text refused with -EINVAL and a message starting with msg. */
struct parse_refusal {
	const char *text, *msg;
};

static void check_parse_refusals(int (*parse)(struct agent_settings *s, const char *text,
					     struct snp_err *err),
				 const struct parse_refusal *cases, size_t n)
{
	struct agent_settings s;

	for (size_t i = 0; i < n; i++) {
		struct snp_err err = { 0 };

		if (!CHECK(parse(&s, cases[i].text, &err) == -EINVAL) ||
		    !CHECK(!strncmp(err.msg, cases[i].msg, strlen(cases[i].msg))))
			fprintf(stderr, "    for:  %s\n    got:  %s\n    want: %s\n",
				cases[i].text, err.msg, cases[i].msg);
	}
}

TEST(agent_config_file_syntax)
{
	static const char text[] =
		"# snp-unseal settings\n"
		"\n"
		"   \t\n"
		"  # an indented comment = with an equals sign\n"
		"broker = https://kb.example:8443,https://kb2.example\n"
		"\tdeadline=90s\t\n"
		"attempt_timeout = 5s\r\n"
		"ca   =   /etc/snp-unseal/ca bundle.pem  \n"
		"log_level = debug";	/* no newline at the end */
	struct agent_settings s;
	struct snp_err err = { 0 };

	REQUIRE(parse_file(&s, text, &err) == 0);
	CHECK(s.n_brokers == 2);
	CHECK_STR(s.brokers[1], "https://kb2.example");
	CHECK(s.deadline_ms == 90000 && s.attempt_timeout_ms == 5000);
	CHECK_STR(s.ca_file, "/etc/snp-unseal/ca bundle.pem");
	CHECK(s.log_level == LOG_DEBUG);
	CHECK(s.set == ((1u << AS_BROKER) | (1u << AS_DEADLINE) | (1u << AS_ATTEMPT_TIMEOUT) |
			(1u << AS_CA) | (1u << AS_LOG_LEVEL)));
	REQUIRE(parse_file(&s, "", &err) == 0);
	CHECK(s.set == 0);
}

TEST(agent_config_file_refusals_name_the_line)
{
	static const struct parse_refusal cases[] = {
		{ "# one\n\ndeadline = 5x\n",
		  "a.conf:3: deadline: '5x' is not a duration (a number, then ms, s, m or h)" },
		{ "deadline = 5s\nbackoff = 1s\n  deadline=6s\n",
		  "a.conf:3: deadline: already set on line 1" },
		{ "deadline\n", "a.conf:1: 'deadline' is not 'key = value'" },
		{ "= 5s\n", "a.conf:1: '= 5s' is not 'key = value'" },
		{ "\nfoo = 1\n", "a.conf:2: unknown key 'foo'" },
		{ "deadline =\n", "a.conf:1: deadline: no value" },
		{ "name = \"root\"\n",
		  "a.conf:1: name: quotes are not supported; write the value without them" },
		{ "deadline = 60s # a minute\n",
		  "a.conf:1: deadline: '60s # a minute' is not a duration" },
		{ "broker = http://kb.example\n",
		  "a.conf:1: broker: http://kb.example: only https:// URLs are supported" },
	};

	check_parse_refusals(parse_file, cases, sizeof(cases) / sizeof(cases[0]));
}

/* A refused line fails the file, but a fail-closed setting on a good line still holds. */
TEST(agent_config_file_good_lines_count_past_a_bad_one)
{
	struct agent_settings s;
	struct snp_err err = { 0 };

	CHECK(parse_file(&s, "deadline = banana\non_failure = poweroff\nfoo = 1\n", &err) ==
	      -EINVAL);
	CHECK(!strncmp(err.msg, "a.conf:1: deadline: ", 20));
	CHECK(agent_is_set(&s, AS_ON_FAILURE) && s.on_failure == AGENT_POWEROFF);
	CHECK(!agent_is_set(&s, AS_DEADLINE));
	CHECK(parse_cmdline(&s, "rd.snp_unseal.deadline=banana rd.snp_unseal.on_failure=poweroff",
			    &err) == -EINVAL);
	CHECK(strstr(err.msg, "banana") != NULL);
	CHECK(agent_is_set(&s, AS_ON_FAILURE) && s.on_failure == AGENT_POWEROFF);
}

TEST(agent_config_file_refuses_long_lines_nul_and_size)
{
	struct agent_settings s;
	struct snp_err err = { 0 };
	size_t big = AGENT_CONFIG_FILE_MAX + 1;
	char *text = malloc(big + 1);

	REQUIRE(text);
	/* A comment line of 9000 bytes: too long even though it says nothing. */
	memset(text, '#', 9000);
	strcpy(text + 9000, "\n");
	CHECK(parse_file(&s, text, &err) == -EINVAL);
	CHECK(has(err.msg, "a.conf:1: longer than 8192 bytes"));
	/* The longest line allowed is fine. */
	memset(text, ' ', 8192);
	strcpy(text + 8192, "\n");
	CHECK(parse_file(&s, text, &err) == 0);

	agent_settings_clear(&s);
	CHECK(agent_settings_parse_file(&s, "deadline = 5s\n\0x", 16, "a.conf", &err) == -EINVAL);
	CHECK_STR(err.msg, "a.conf: a NUL byte at offset 14; not a text file");
	CHECK(s.set == 0);

	memset(text, '\n', big);
	text[big] = '\0';
	CHECK(agent_settings_parse_file(&s, text, big, "a.conf", &err) == -EINVAL);
	CHECK(has(err.msg, "a.conf: 65537 bytes; a configuration file is at most 65536"));
	CHECK(agent_settings_parse_file(&s, text, big - 1, "a.conf", &err) == 0);
	free(text);
}

TEST(agent_config_load_file)
{
	struct agent_settings s;
	struct snp_err err = { 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s", test_path("snp-unseal.conf"));
	agent_settings_clear(&s);
	CHECK(agent_settings_load_file(&s, test_path("absent.conf"), &err) == -ENOENT);
	CHECK(has(err.msg, "absent.conf"));
	write_file(path, "vmpl = 2\nenable = 0\n", 20);
	REQUIRE(agent_settings_load_file(&s, path, &err) == 0);
	CHECK(s.vmpl == 2 && !s.enable);
	write_file(path, "vmpl = 2\nvmpl = 1\n", 18);
	CHECK(agent_settings_load_file(&s, path, &err) == -EINVAL);
	CHECK(has(err.msg, "snp-unseal.conf:2: vmpl: already set on line 1"));
	CHECK(!strncmp(err.msg, test_tmpdir(), strlen(test_tmpdir())));
}

/* ---- The kernel command line ----------------------------------------------- */

static int parse_cmdline(struct agent_settings *s, const char *text, struct snp_err *err)
{
	agent_settings_clear(s);
	return agent_settings_parse_cmdline(s, text, strlen(text), err);
}

TEST(agent_config_cmdline_words)
{
	struct agent_settings s;
	struct snp_err err = { 0 };

	REQUIRE(parse_cmdline(&s, "BOOT_IMAGE=/vmlinuz root=/dev/mapper/root ro quiet "
			      "rd.snp_unseal.broker=https://kb.example rd.luks=0 "
			      "rd.snp_unseal.deadline=30s rd.snp_unseal_other=1 snp_unseal.vmpl=9\n",
			      &err) == 0);
	CHECK(s.set == ((1u << AS_BROKER) | (1u << AS_DEADLINE)));
	CHECK_STR(s.brokers[0], "https://kb.example");
	CHECK(s.deadline_ms == 30000);
	/* Nothing of ours: nothing set, no error. */
	REQUIRE(parse_cmdline(&s, "ro quiet splash rd.snp_unseal.\n", &err) == -EINVAL);
	REQUIRE(parse_cmdline(&s, "ro quiet splash\n", &err) == 0);
	CHECK(s.set == 0);
	REQUIRE(parse_cmdline(&s, "", &err) == 0);
	REQUIRE(parse_cmdline(&s, " \t\n", &err) == 0);
	CHECK(s.set == 0);
}

TEST(agent_config_cmdline_quotes_as_the_kernel_does)
{
	struct agent_settings s;
	struct snp_err err = { 0 };

	/* A quoted value keeps its blanks, and loses its quotes. */
	REQUIRE(parse_cmdline(&s, "ro rd.snp_unseal.ca=\"/etc/snp unseal/ca.pem\" quiet", &err) == 0);
	CHECK_STR(s.ca_file, "/etc/snp unseal/ca.pem");
	/* A whole quoted word too. */
	REQUIRE(parse_cmdline(&s, "\"rd.snp_unseal.ca=/a b/c.pem\" rd.snp_unseal.vmpl=1", &err) == 0);
	CHECK_STR(s.ca_file, "/a b/c.pem");
	CHECK(s.vmpl == 1);
	/* A list in quotes, blanks after its commas. */
	REQUIRE(parse_cmdline(&s, "rd.snp_unseal.broker=\"https://a.example, https://b.example\"",
			      &err) == 0);
	CHECK(s.n_brokers == 2);
	CHECK_STR(s.brokers[1], "https://b.example");
	/* Quotes in the middle of a word only join it: the kernel leaves them in. */
	CHECK(parse_cmdline(&s, "rd.snp_unseal.deadline=5\" \"s", &err) == -EINVAL);
	CHECK_STR(err.msg, "kernel command line: deadline: '5\" \"s' is not a duration "
		  "(a number, then ms, s, m or h)");
	/* An unterminated quote runs to the end. */
	REQUIRE(parse_cmdline(&s, "rd.snp_unseal.ca=\"/x y", &err) == 0);
	CHECK_STR(s.ca_file, "/x y");
	/* Tabs and newlines separate words as spaces do. */
	REQUIRE(parse_cmdline(&s, "rd.snp_unseal.vmpl=2\trd.snp_unseal.enable=0\nro", &err) == 0);
	CHECK(s.vmpl == 2 && !s.enable);
}

TEST(agent_config_cmdline_last_wins_and_enable)
{
	struct agent_settings s;
	struct snp_err err = { 0 };

	REQUIRE(parse_cmdline(&s, "rd.snp_unseal.deadline=10s rd.snp_unseal.deadline=20s", &err) == 0);
	CHECK(s.deadline_ms == 20000);
	REQUIRE(parse_cmdline(&s, "quiet rd.snp_unseal=0", &err) == 0);
	CHECK(agent_is_set(&s, AS_ENABLE) && !s.enable);
	REQUIRE(parse_cmdline(&s, "rd.snp_unseal=0 rd.snp_unseal.enable=1", &err) == 0);
	CHECK(s.enable);
	REQUIRE(parse_cmdline(&s, "rd.snp_unseal.enable=1 rd.snp_unseal=0", &err) == 0);
	CHECK(!s.enable);
}

TEST(agent_config_cmdline_refusals)
{
	static const struct parse_refusal cases[] = {
		{ "ro rd.snp_unseal.deadline=5x",
		  "kernel command line: deadline: '5x' is not a duration (a number, then ms, s, m or h)" },
		{ "rd.snp_unseal.dead_line=5s", "kernel command line: unknown key 'dead_line'" },
		{ "rd.snp_unseal.deadline",
		  "kernel command line: 'rd.snp_unseal.deadline' has no value (write rd.snp_unseal.deadline=VALUE)" },
		{ "rd.snp_unseal",
		  "kernel command line: 'rd.snp_unseal' has no value (write rd.snp_unseal=VALUE)" },
		{ "rd.snp_unseal=yes", "kernel command line: enable: 'yes' is not 0 or 1" },
		{ "rd.snp_unseal.name=", "kernel command line: name: no value" },
		{ "rd.snp_unseal.broker=https://kb.example rd.snp_unseal.provider=tpm",
		  "kernel command line: provider: 'tpm' is not auto, configfs, ioctl or sim" },
	};

	check_parse_refusals(parse_cmdline, cases, sizeof(cases) / sizeof(cases[0]));
}

TEST(agent_config_cmdline_bounds_and_load)
{
	struct agent_settings s;
	struct snp_err err = { 0 };
	size_t big = AGENT_CMDLINE_MAX + 1;
	char *text = malloc(big), path[512];

	REQUIRE(text);
	memset(text, ' ', big);
	agent_settings_clear(&s);
	CHECK(agent_settings_parse_cmdline(&s, text, big, &err) == -EINVAL);
	CHECK(has(err.msg, "kernel command line: 65537 bytes, more than 65536"));
	CHECK(agent_settings_parse_cmdline(&s, text, big - 1, &err) == 0);
	CHECK(agent_settings_parse_cmdline(&s, "ro\0rd.snp_unseal=0", 18, &err) == -EINVAL);
	CHECK_STR(err.msg, "kernel command line: a NUL byte at offset 2");
	CHECK(s.set == 0);
	free(text);

	CHECK(agent_settings_load_cmdline(&s, test_path("absent"), &err) == -ENOENT);
	snprintf(path, sizeof(path), "%s", test_path("cmdline"));
	write_file(path, "ro rd.snp_unseal.backoff=250ms\n", 31);
	REQUIRE(agent_settings_load_cmdline(&s, path, &err) == 0);
	CHECK(s.backoff_ms == 250);
	write_file(path, "ro rd.snp_unseal.backoff=250\n", 29);
	CHECK(agent_settings_load_cmdline(&s, path, &err) == -EINVAL);
	CHECK(has(err.msg, "kernel command line: backoff: '250' is not a duration"));
}

/* ---- Layers ----------------------------------------------------------------- */

static void make_token(struct luks_token *t, bool server_pin, const char *name)
{
	luks_token_init(t);
	t->keyslot = 1;
	snprintf(t->volume, sizeof(t->volume), "%s", UUID_A);
	snprintf(t->brokers[0], sizeof(t->brokers[0]), "https://token-1.example");
	snprintf(t->brokers[1], sizeof(t->brokers[1]), "https://token-2.example:8443");
	t->n_brokers = 2;
	test_unhex(PIN_A + 7, t->ca_pins[0], TLS_PIN_SIZE);
	t->n_ca_pins = 1;
	t->has_server_pin = server_pin;
	if (server_pin)
		test_unhex(PIN_B + 7, t->server_pin, TLS_PIN_SIZE);
	snprintf(t->name, sizeof(t->name), "%s", name);
}

TEST(agent_config_from_token)
{
	struct luks_token t;
	struct agent_settings s;
	uint8_t pin_a[TLS_PIN_SIZE], pin_b[TLS_PIN_SIZE];

	test_unhex(PIN_A + 7, pin_a, sizeof(pin_a));
	test_unhex(PIN_B + 7, pin_b, sizeof(pin_b));
	make_token(&t, true, "cryptdata");
	REQUIRE(luks_token_validate(&t, NULL) == 0);
	agent_settings_clear(&s);
	agent_settings_from_token(&s, &t);
	CHECK(s.set == ((1u << AS_BROKER) | (1u << AS_CA_PIN) | (1u << AS_PIN) | (1u << AS_NAME)));
	CHECK(s.n_brokers == 2);
	CHECK_STR(s.brokers[0], "https://token-1.example");
	CHECK_STR(s.brokers[1], "https://token-2.example:8443");
	CHECK(s.n_ca_pins == 1);
	CHECK_MEM(s.ca_pins[0], pin_a, TLS_PIN_SIZE);
	CHECK_MEM(s.server_pin, pin_b, TLS_PIN_SIZE);
	CHECK_STR(s.name, "cryptdata");

	/* No server pin and no name: the token says nothing about them. */
	make_token(&t, false, "");
	agent_settings_clear(&s);
	agent_settings_from_token(&s, &t);
	CHECK(s.set == ((1u << AS_BROKER) | (1u << AS_CA_PIN)));
}

TEST(agent_config_overlay_copies_only_what_is_set)
{
	struct agent_settings dst, src;

	agent_settings_defaults(&dst);
	REQUIRE(set_ok(&dst, "broker", "https://a.example,https://b.example") == 0);
	agent_settings_clear(&src);
	REQUIRE(set_ok(&src, "broker", "https://c.example") == 0);
	REQUIRE(set_ok(&src, "device_timeout", "1s") == 0);
	REQUIRE(set_ok(&src, "uuid", UUID_B) == 0);
	/* Fields of settings src does not set must not leak, whatever they hold. */
	src.deadline_ms = 7;
	snprintf(src.ca_file, sizeof(src.ca_file), "/leak");
	agent_settings_overlay(&dst, &src);
	CHECK(dst.n_brokers == 1);
	CHECK_STR(dst.brokers[0], "https://c.example");
	CHECK(dst.device_timeout_ms == 1000);
	CHECK(dst.n_uuids == 1 && agent_is_set(&dst, AS_UUID));
	CHECK_STR(dst.uuids[0], UUID_B);
	CHECK(dst.deadline_ms == 120000);
	CHECK_STR(dst.ca_file, AGENT_CA_FILE);
	CHECK(!agent_is_set(&dst, AS_NAME) && !agent_is_set(&dst, AS_PIN));
}

/*
 * The layers as `snp-unseal unlock` composes them for a volume (load_layers
 * and volume_settings in agent/unlock_cmd.c): defaults, the file, the
 * token, the kernel command line, the options; each wins over the ones
 * before it, and says nothing about what it does not set.
 */
TEST(agent_config_precedence)
{
	static const char file_text[] =
		"broker = https://file.example\n"
		"name = file-name\n"
		"deadline = 50s\n"
		"attempt_timeout = 4s\n"
		"backoff = 200ms\n"
		"vmpl = 1\n"
		"ca = /file/ca.pem\n";
	static const char cmdline_text[] =
		"ro rd.snp_unseal.deadline=40s rd.snp_unseal.attempt_timeout=3s "
		"rd.snp_unseal.name=cmdline-name\n";
	struct agent_settings defaults, file, token, cmdline, options, eff;
	struct luks_token t;
	struct snp_err err = { 0 };

	agent_settings_defaults(&defaults);
	agent_settings_clear(&file);
	REQUIRE(agent_settings_parse_file(&file, file_text, strlen(file_text), "f", &err) == 0);
	agent_settings_clear(&cmdline);
	REQUIRE(agent_settings_parse_cmdline(&cmdline, cmdline_text, strlen(cmdline_text),
					     &err) == 0);
	make_token(&t, false, "token-name");
	agent_settings_clear(&token);
	agent_settings_from_token(&token, &t);
	agent_settings_clear(&options);
	REQUIRE(set_ok(&options, "deadline", "30s") == 0);

	eff = defaults;
	agent_settings_overlay(&eff, &file);
	agent_settings_overlay(&eff, &token);
	agent_settings_overlay(&eff, &cmdline);
	agent_settings_overlay(&eff, &options);

	CHECK(eff.deadline_ms == 30000);		/* options */
	CHECK(eff.attempt_timeout_ms == 3000);		/* cmdline over file */
	CHECK_STR(eff.name, "cmdline-name");		/* cmdline over token and file */
	CHECK(eff.n_brokers == 2);			/* token over file */
	CHECK_STR(eff.brokers[0], "https://token-1.example");
	CHECK(eff.n_ca_pins == 1);			/* token only */
	CHECK(eff.backoff_ms == 200 && eff.vmpl == 1);	/* file over defaults */
	CHECK_STR(eff.ca_file, "/file/ca.pem");		/* file: never the token's */
	CHECK(eff.backoff_max_ms == 16000);		/* defaults */
	CHECK(eff.device_timeout_ms == 30000 && eff.enable);
	CHECK(!agent_is_set(&eff, AS_PIN) && !agent_is_set(&eff, AS_SIM));
	REQUIRE(agent_settings_check(&eff, &err) == 0);

	/* Without the command line and the options, the token's name wins over the file's. */
	eff = defaults;
	agent_settings_overlay(&eff, &file);
	agent_settings_overlay(&eff, &token);
	CHECK_STR(eff.name, "token-name");
	CHECK(eff.deadline_ms == 50000);
}

/* ---- The final check -------------------------------------------------------- */

static void checkable(struct agent_settings *s)
{
	agent_settings_defaults(s);
	if (set_ok(s, "broker", "https://kb.example"))
		exit(1);
}

static void check_refused(const struct agent_settings *s, const char *msg)
{
	struct snp_err err = { 0 };

	if (!CHECK(agent_settings_check(s, &err) == -EINVAL) || !CHECK_STR(err.msg, msg))
		fprintf(stderr, "    want: %s\n", msg);
}

TEST(agent_config_check)
{
	struct agent_settings s;
	struct snp_err err = { 0 };

	checkable(&s);
	CHECK(agent_settings_check(&s, &err) == 0);

	agent_settings_defaults(&s);
	check_refused(&s, "no broker: the token names none and broker is not set");

	checkable(&s);
	REQUIRE(set_ok(&s, "ca", "") == 0);
	check_refused(&s, "no CA bundle (ca) and no server pin (pin): nothing to authenticate "
		      "the broker with");
	REQUIRE(set_ok(&s, "pin", PIN_A) == 0);
	CHECK(agent_settings_check(&s, &err) == 0);

	checkable(&s);
	REQUIRE(set_ok(&s, "sim", "unix:/run/sim.sock") == 0);
	check_refused(&s, "sim is set but provider is auto: the simulator is used only with "
		      "provider sim");
	REQUIRE(set_ok(&s, "provider", "sim") == 0);
	CHECK(agent_settings_check(&s, &err) == 0);

	checkable(&s);
	REQUIRE(set_ok(&s, "provider", "sim") == 0);
	check_refused(&s, "provider sim needs sim, the simulator's address");

	checkable(&s);
	REQUIRE(set_ok(&s, "backoff", "2s") == 0 && set_ok(&s, "backoff_max", "1500ms") == 0);
	check_refused(&s, "backoff (2s) is longer than backoff_max (1500ms)");
	REQUIRE(set_ok(&s, "backoff_max", "2s") == 0);
	CHECK(agent_settings_check(&s, &err) == 0);

	checkable(&s);
	REQUIRE(set_ok(&s, "deadline", "1m") == 0 && set_ok(&s, "attempt_timeout", "61s") == 0);
	check_refused(&s, "attempt_timeout (61s) is longer than deadline (1m): no attempt "
		      "could use it");
	REQUIRE(set_ok(&s, "attempt_timeout", "1m") == 0);
	CHECK(agent_settings_check(&s, &err) == 0);

	/* Settings that were never given their defaults. */
	agent_settings_clear(&s);
	REQUIRE(set_ok(&s, "broker", "https://kb.example") == 0);
	check_refused(&s, "ca is not set (and has no default here)");
}
