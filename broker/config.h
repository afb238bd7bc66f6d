/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_BROKER_CONFIG_H
#define SNP_BROKER_CONFIG_H

/*
 * snp-keybroker's configuration file (default /etc/snp-keybroker/snp-keybroker.conf):
 * "key = value" lines, '#' comments, blank lines. Strict: an unknown key,
 * a repeated key (except listen and trust_ark) or a bad value is refused
 * with "FILE:LINE: reason". Durations take a unit: "500ms", "10s", "2m".
 *
 *   listen = ADDR:PORT         repeatable (at most 8); default [::]:8443; "[::1]:8443", "127.0.0.1:0"
 *   tls_cert = FILE            PEM chain, leaf first (required to serve)
 *   tls_key = FILE             PEM private key (required to serve)
 *   state_dir = DIR            default /var/lib/snp-keybroker
 *   audit_log = FILE           default STATE_DIR/audit.log
 *   threads = N                event loops; 0 (default) = the number of CPUs
 *   max_connections = N        default 1024
 *   handshake_timeout = DUR    default 10s
 *   header_timeout = DUR       default 10s
 *   body_timeout = DUR         default 10s
 *   idle_timeout = DUR         default 30s
 *   shutdown_grace = DUR       default 10s
 *   max_body = BYTES           default 65536 (at most 1048576)
 *   nonce_lifetime = DUR       default 60s
 *   kds = on|off               default off (offline: cert table and cache only)
 *   kds_url = URL              default https://kdsintf.amd.com
 *   kds_ca = FILE              default /etc/ssl/certs/ca-certificates.crt
 *   kds_timeout = DUR          default 10s
 *   kds_retries = N            default 4
 *   trust_ark = FILE           repeatable; an extra ARK to pin (the simulator's,
 *                              for tests and demos); logged loudly
 *   log_format = text|json     default text
 *   log_level = error|warn|info|debug   default info
 *
 * Also: durations take ms, s, m or h; listen addresses are numeric (no
 * host names, no '*'); kds_url is https://; a value may not be quoted and
 * '#' starts a comment only at the start of a line; config_finish refuses
 * tls_cert without tls_key or the other way round.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"

#define CONFIG_LISTEN_MAX	8
#define CONFIG_TRUST_ARK_MAX	8
#define CONFIG_DEFAULT_PATH	"/etc/snp-keybroker/snp-keybroker.conf"
#define CONFIG_DEFAULT_STATE	"/var/lib/snp-keybroker"

enum config_log_format { CONFIG_LOG_TEXT = 0, CONFIG_LOG_JSON };
enum config_log_level { CONFIG_LOG_ERROR = 0, CONFIG_LOG_WARN, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG };

struct config {
	char source[256];		/* the file it came from, or "" for defaults */
	char listen[CONFIG_LISTEN_MAX][128];
	size_t n_listen;
	char tls_cert[4096], tls_key[4096];
	char state_dir[4096];
	char audit_log[4096];
	unsigned int threads;
	unsigned int max_connections;
	int handshake_timeout_ms, header_timeout_ms, body_timeout_ms, idle_timeout_ms;
	int shutdown_grace_ms;
	size_t max_body;
	int nonce_lifetime_ms;
	bool kds;
	char kds_url[1024];
	char kds_ca[4096];
	int kds_timeout_ms;
	unsigned int kds_retries;
	char trust_ark[CONFIG_TRUST_ARK_MAX][4096];
	size_t n_trust_ark;
	enum config_log_format log_format;
	enum config_log_level log_level;
};

void config_init(struct config *cfg);
/* Parse text over cfg (after config_init); name is for messages. */
int config_parse(struct config *cfg, const char *text, size_t len, const char *name,
		 struct snp_err *err);
int config_load(struct config *cfg, const char *path, struct snp_err *err);
/* Fill what depends on other keys (audit_log under state_dir, listen default). */
int config_finish(struct config *cfg, struct snp_err *err);
/* "ADDR:PORT" into a sockaddr-ready host and port; IPv6 in brackets. */
int config_split_listen(const char *listen, char *host, size_t host_size, unsigned int *port,
			struct snp_err *err);

#endif
