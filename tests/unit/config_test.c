// SPDX-License-Identifier: GPL-2.0-or-later
/* The broker's configuration file: every key, its default, every refusal and where. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/config.h"
#include "tests/harness.h"

static int parse(struct config *cfg, const char *text, struct snp_err *err)
{
	config_init(cfg);
	return config_parse(cfg, text, strlen(text), "b.conf", err);
}

TEST(config_defaults)
{
	struct config cfg;
	struct snp_err err = { 0 };

	config_init(&cfg);
	CHECK_STR(cfg.source, "");
	CHECK(cfg.n_listen == 0 && cfg.n_trust_ark == 0);
	CHECK_STR(cfg.state_dir, CONFIG_DEFAULT_STATE);
	CHECK(cfg.threads == 0 && cfg.max_connections == 1024);
	CHECK(cfg.handshake_timeout_ms == 10000 && cfg.header_timeout_ms == 10000);
	CHECK(cfg.body_timeout_ms == 10000 && cfg.idle_timeout_ms == 30000);
	CHECK(cfg.shutdown_grace_ms == 10000 && cfg.nonce_lifetime_ms == 60000);
	CHECK(cfg.max_body == 65536);
	CHECK(!cfg.kds);
	CHECK_STR(cfg.kds_url, "https://kdsintf.amd.com");
	CHECK_STR(cfg.kds_ca, "/etc/ssl/certs/ca-certificates.crt");
	CHECK(cfg.kds_timeout_ms == 10000 && cfg.kds_retries == 4);
	CHECK(cfg.log_format == CONFIG_LOG_TEXT && cfg.log_level == CONFIG_LOG_INFO);
	CHECK(cfg.tls_cert[0] == '\0' && cfg.tls_key[0] == '\0' && cfg.audit_log[0] == '\0');
	REQUIRE(config_finish(&cfg, &err) == 0);
	CHECK(cfg.n_listen == 1);
	CHECK_STR(cfg.listen[0], "[::]:8443");
	CHECK_STR(cfg.audit_log, CONFIG_DEFAULT_STATE "/audit.log");
}

TEST(config_every_key)
{
	static const char text[] =
		"# the broker\n"
		"\n"
		"listen = 127.0.0.1:0\n"
		"  listen=[::1]:8443   \n"
		"tls_cert = /etc/b/cert.pem\r\n"
		"tls_key\t=\t/etc/b/key.pem\n"
		"state_dir = /srv/b state\n"
		"audit_log = /var/log/b.audit\n"
		"threads = 256\n"
		"max_connections = 65536\n"
		"handshake_timeout = 100ms\n"
		"header_timeout = 2m\n"
		"body_timeout = 1h\n"
		"idle_timeout = 45s\n"
		"shutdown_grace = 500ms\n"
		"max_body = 1024\n"
		"nonce_lifetime = 1s\n"
		"kds = on\n"
		"kds_url = https://kds.test:8444/base\n"
		"kds_ca = /etc/b/kds-ca.pem\n"
		"kds_timeout = 3s\n"
		"kds_retries = 10\n"
		"trust_ark = /a.pem\n"
		"trust_ark = /b # not a comment.pem\n"
		"log_format = json\n"
		"log_level = debug\n";
	struct config cfg;
	struct snp_err err = { 0 };

	if (!CHECK(parse(&cfg, text, &err) == 0))
		fprintf(stderr, "      %s\n", err.msg);
	CHECK_STR(cfg.source, "b.conf");
	REQUIRE(cfg.n_listen == 2);
	CHECK_STR(cfg.listen[0], "127.0.0.1:0");
	CHECK_STR(cfg.listen[1], "[::1]:8443");
	CHECK_STR(cfg.tls_cert, "/etc/b/cert.pem");
	CHECK_STR(cfg.tls_key, "/etc/b/key.pem");
	CHECK_STR(cfg.state_dir, "/srv/b state");
	CHECK_STR(cfg.audit_log, "/var/log/b.audit");
	CHECK(cfg.threads == 256 && cfg.max_connections == 65536);
	CHECK(cfg.handshake_timeout_ms == 100 && cfg.header_timeout_ms == 120000);
	CHECK(cfg.body_timeout_ms == 3600000 && cfg.idle_timeout_ms == 45000);
	CHECK(cfg.shutdown_grace_ms == 500 && cfg.max_body == 1024);
	CHECK(cfg.nonce_lifetime_ms == 1000 && cfg.kds);
	CHECK_STR(cfg.kds_url, "https://kds.test:8444/base");
	CHECK_STR(cfg.kds_ca, "/etc/b/kds-ca.pem");
	CHECK(cfg.kds_timeout_ms == 3000 && cfg.kds_retries == 10);
	REQUIRE(cfg.n_trust_ark == 2);
	CHECK_STR(cfg.trust_ark[0], "/a.pem");
	CHECK_STR(cfg.trust_ark[1], "/b # not a comment.pem");
	CHECK(cfg.log_format == CONFIG_LOG_JSON && cfg.log_level == CONFIG_LOG_DEBUG);
	/* Set keys stay as they are. */
	REQUIRE(config_finish(&cfg, &err) == 0);
	CHECK(cfg.n_listen == 2);
	CHECK_STR(cfg.audit_log, "/var/log/b.audit");
}

static const struct {
	const char *text, *says;
} bad_configs[] = {
	{ "threads = 1\ncolour = blue\n", "b.conf:2: unknown key 'colour'" },
	{ "\n\nstate_dir = /a\n# x\nstate_dir = /b\n", "b.conf:5: state_dir: already set on line 3" },
	{ "threads 4\n", "b.conf:1: 'threads 4' is not 'key = value'" },
	{ "= 4\n", "b.conf:1: unknown key ''" },
	{ "threads =\n", "b.conf:1: threads: no value" },
	{ "threads = four\n", "b.conf:1: threads: 'four' is not a number" },
	{ "threads = -1\n", "b.conf:1: threads: '-1' is not a number" },
	{ "threads = 0x10\n", "b.conf:1: threads: '0x10' is not a number" },
	{ "threads = 257\n", "b.conf:1: threads: 257 is outside 0 to 256" },
	{ "threads = 99999999999999999999999\n", "b.conf:1: threads: 99999999999999999999999 is outside" },
	{ "max_connections = 0\n", "b.conf:1: max_connections: 0 is outside 1 to 65536" },
	{ "max_connections = 65537\n", "b.conf:1: max_connections: 65537 is outside 1 to 65536" },
	{ "max_body = 1023\n", "b.conf:1: max_body: 1023 is outside 1024 to 1048576" },
	{ "max_body = 1048577\n", "b.conf:1: max_body: 1048577 is outside" },
	{ "kds_retries = 11\n", "b.conf:1: kds_retries: 11 is outside 0 to 10" },
	{ "idle_timeout = 30\n", "b.conf:1: idle_timeout: '30' has no unit: write 30s or 30ms" },
	{ "idle_timeout = 30 s\n", "b.conf:1: idle_timeout: '30 s' has the unit ' s'" },
	{ "idle_timeout = 3d\n", "b.conf:1: idle_timeout: '3d' has the unit 'd'" },
	{ "idle_timeout = s\n", "b.conf:1: idle_timeout: 's' is not a duration" },
	{ "idle_timeout = 1.5s\n", "b.conf:1: idle_timeout: '1.5s' has the unit '.5s'" },
	{ "handshake_timeout = 99ms\n", "b.conf:1: handshake_timeout: 99ms is outside 100ms to 1h" },
	{ "header_timeout = 61m\n", "b.conf:1: header_timeout: 61m is outside 100ms to 1h" },
	{ "body_timeout = 0s\n", "b.conf:1: body_timeout: 0s is outside" },
	{ "shutdown_grace = 2h\n", "b.conf:1: shutdown_grace: 2h is outside" },
	{ "kds_timeout = 3601s\n", "b.conf:1: kds_timeout: 3601s is outside" },
	{ "kds_timeout = 99999999999999999999ms\n", "b.conf:1: kds_timeout: '99999999999999999999ms' is not a duration" },
	{ "nonce_lifetime = 999ms\n", "b.conf:1: nonce_lifetime: 999ms is outside 1s to 1h" },
	{ "nonce_lifetime = 3601s\n", "b.conf:1: nonce_lifetime: 3601s is outside 1s to 1h" },
	{ "kds = yes\n", "b.conf:1: kds: 'yes' is not off or on" },
	{ "log_format = xml\n", "b.conf:1: log_format: 'xml' is not text or json" },
	{ "log_level = trace\n", "b.conf:1: log_level: 'trace' is not error, warn, info or debug" },
	{ "kds_url = http://kds.test\n", "b.conf:1: kds_url: 'http://kds.test' is not an https:// URL" },
	{ "kds_url = https://\n", "is not an https:// URL" },
	{ "tls_cert = \"/etc/cert.pem\"\n", "b.conf:1: tls_cert: quotes are not supported" },
	{ "tls_key = '/k'\n", "b.conf:1: tls_key: quotes are not supported" },
	{ "state_dir = /a\x01b\n", "b.conf:1: state_dir: a control character at column 3" },
	{ "listen = *:8443\n", "b.conf:1: listen: '*:8443': '*' is not an address; [::] listens on all" },
	{ "listen = localhost:8443\n", "b.conf:1: listen: 'localhost:8443': 'localhost' is not a numeric IPv4" },
	{ "listen = ::1:8443\n", "b.conf:1: listen: '::1:8443': an IPv6 address goes in brackets" },
	{ "listen = [::1:8443\n", "b.conf:1: listen: '[::1:8443' has no ']'" },
	{ "listen = [::1]8443\n", "b.conf:1: listen: '[::1]8443' has no ':PORT'" },
	{ "listen = [1.2.3.4]:1\n", "is not a numeric IPv6 address" },
	{ "listen = 1.2.3.4:65536\n", "b.conf:1: listen: '1.2.3.4:65536': the port is not a number 0-65535" },
	{ "listen = 1.2.3.4:\n", "the port is not a number" },
	{ "listen = 1.2.3.4\n", "b.conf:1: listen: '1.2.3.4' is not ADDRESS:PORT" },
	{ "listen = :8443\n", "'' is not a numeric IPv4 address" },
	{ "listen = 1.2.3.4:+1\n", "the port is not a number" },
	{ "listen = 1.0.0.1:1\nlisten = 1.0.0.2:1\nlisten = 1.0.0.3:1\nlisten = 1.0.0.4:1\n"
	  "listen = 1.0.0.5:1\nlisten = 1.0.0.6:1\nlisten = 1.0.0.7:1\nlisten = 1.0.0.8:1\n"
	  "listen = 1.0.0.9:1\n", "b.conf:9: listen: given more than 8 times" },
	{ "trust_ark=/1\ntrust_ark=/2\ntrust_ark=/3\ntrust_ark=/4\ntrust_ark=/5\ntrust_ark=/6\n"
	  "trust_ark=/7\ntrust_ark=/8\ntrust_ark=/9\n", "b.conf:9: trust_ark: given more than 8 times" },
	{ "threads = 1\nthreads = 1\n", "b.conf:2: threads: already set on line 1" },
};

TEST(config_refusals_name_the_line)
{
	for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		struct config cfg;
		struct snp_err err = { 0 };

		CHECK(parse(&cfg, bad_configs[i].text, &err) == -EINVAL);
		if (!CHECK(strstr(err.msg, bad_configs[i].says) == err.msg ||
			   (strncmp(bad_configs[i].says, "b.conf:", 7) &&
			    strstr(err.msg, bad_configs[i].says))))
			fprintf(stderr, "      %s      -> %s\n", bad_configs[i].text, err.msg);
	}
}

TEST(config_refuses_long_lines_nul_and_big_text)
{
	struct config cfg;
	struct snp_err err = { 0 };
	size_t big = 64 * 1024 + 1;
	char *text = malloc(big + 1);

	REQUIRE(text);
	/* A path longer than its field, on a line that is not too long. */
	memcpy(text, "tls_cert = /", 12);
	memset(text + 12, 'a', 4200);
	text[4212] = '\0';
	CHECK(parse(&cfg, text, &err) == -EINVAL);
	CHECK(strstr(err.msg, "b.conf:1: tls_cert: 4201 characters; at most 4095") == err.msg);
	memset(text, ' ', 9000);
	memcpy(text + 9000, "\nthreads = 1\n", 14);
	CHECK(parse(&cfg, text, &err) == -EINVAL);
	CHECK_STR(err.msg, "b.conf:1: longer than 8192 characters");
	memset(text, '#', big);
	text[big] = '\0';
	CHECK(parse(&cfg, text, &err) == -EFBIG);
	CHECK(config_parse(&cfg, "threads = 1\n\0", 13, "nul.conf", &err) == -EINVAL);
	CHECK_STR(err.msg, "nul.conf: contains a NUL byte; not a text file");
	free(text);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		exit(2);
}

TEST(config_load_reads_a_file_and_finish_fills_in)
{
	struct config cfg;
	struct snp_err err = { 0 };
	const char *path = test_path("broker.conf");
	char *big;

	write_file(path, "state_dir = /tmp/s\nkds = on\n# last line without newline\nthreads = 2");
	config_init(&cfg);
	REQUIRE(config_load(&cfg, path, &err) == 0);
	CHECK_STR(cfg.source, path);
	CHECK(cfg.kds && cfg.threads == 2);
	REQUIRE(config_finish(&cfg, &err) == 0);
	CHECK_STR(cfg.audit_log, "/tmp/s/audit.log");
	CHECK_STR(cfg.listen[0], "[::]:8443");

	write_file(path, "log_level = info\nlog_level = warn\n");
	config_init(&cfg);
	CHECK(config_load(&cfg, path, &err) == -EINVAL);
	CHECK(strstr(err.msg, ":2: log_level: already set on line 1") != NULL &&
	      !strncmp(err.msg, path, strlen(path)));

	config_init(&cfg);
	CHECK(config_load(&cfg, test_path("absent.conf"), &err) == -ENOENT);
	big = malloc(70000);
	REQUIRE(big);
	memset(big, '#', 69999);
	big[69999] = '\0';
	write_file(path, big);
	free(big);
	CHECK(config_load(&cfg, path, &err) == -EFBIG);

	/* TLS needs both halves. */
	write_file(path, "tls_cert = /c.pem\n");
	config_init(&cfg);
	REQUIRE(config_load(&cfg, path, &err) == 0);
	CHECK(config_finish(&cfg, &err) == -EINVAL);
	CHECK(strstr(err.msg, "tls_cert is set but tls_key is not") != NULL);
}

TEST(config_finish_refuses_an_audit_log_path_that_does_not_fit)
{
	struct config cfg;
	struct snp_err err = { 0 };

	config_init(&cfg);
	memset(cfg.state_dir, 'd', sizeof(cfg.state_dir) - 1);
	cfg.state_dir[sizeof(cfg.state_dir) - 1] = '\0';
	CHECK(config_finish(&cfg, &err) == -ENAMETOOLONG);
	CHECK(strstr(err.msg, "set audit_log") != NULL);
}

TEST(config_split_listen_forms)
{
	static const struct {
		const char *in, *host;
		unsigned int port;
	} good[] = {
		{ "127.0.0.1:8443", "127.0.0.1", 8443 },
		{ "[::1]:0", "::1", 0 },
		{ "[::]:8443", "::", 8443 },
		{ "0.0.0.0:65535", "0.0.0.0", 65535 },
		{ "[fe80::1%1]:1", NULL, 0 },	/* zone ids: inet_pton has none */
	};
	char host[64];
	unsigned int port;
	struct snp_err err = { 0 };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int ret = config_split_listen(good[i].in, host, sizeof(host), &port, &err);

		if (!good[i].host) {
			CHECK(ret == -EINVAL);
			continue;
		}
		if (!CHECK(ret == 0))
			fprintf(stderr, "      %s: %s\n", good[i].in, err.msg);
		CHECK_STR(host, good[i].host);
		CHECK(port == good[i].port);
	}
	/* The host buffer is a bound too. */
	CHECK(config_split_listen("[1111:2222:3333:4444:5555:6666:7777:8888]:1", host, 8, &port,
				  &err) == -EINVAL);
	CHECK(strstr(err.msg, "too long") != NULL);
}
