// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: the broker's configuration file. Whatever config_parse
 * accepts must be within the documented ranges, with strings that fit
 * their fields, and must survive config_finish; a refusal names a line.
 */
#include <string.h>

#include "broker/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges(const struct config *cfg)
{
	if (cfg->threads > 256 || cfg->max_connections < 1 || cfg->max_connections > 65536 ||
	    cfg->max_body < 1024 || cfg->max_body > 1048576 || cfg->kds_retries > 10 ||
	    cfg->n_listen > CONFIG_LISTEN_MAX || cfg->n_trust_ark > CONFIG_TRUST_ARK_MAX)
		__builtin_trap();
	if (cfg->nonce_lifetime_ms < 1000 || cfg->nonce_lifetime_ms > 3600000 ||
	    cfg->idle_timeout_ms < 100 || cfg->idle_timeout_ms > 3600000 ||
	    cfg->kds_timeout_ms < 100 || cfg->kds_timeout_ms > 3600000)
		__builtin_trap();
	if (strnlen(cfg->state_dir, sizeof(cfg->state_dir)) == sizeof(cfg->state_dir) ||
	    strnlen(cfg->kds_url, sizeof(cfg->kds_url)) == sizeof(cfg->kds_url))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct snp_err err;
	char host[128];
	unsigned int port;

	config_init(&cfg);
	if (config_parse(&cfg, (const char *)data, size, "fuzz.conf", &err)) {
		if (strncmp(err.msg, "fuzz.conf:", 10))
			__builtin_trap();
		return 0;
	}
	check_ranges(&cfg);
	for (size_t i = 0; i < cfg.n_listen; i++)
		if (config_split_listen(cfg.listen[i], host, sizeof(host), &port, &err) ||
		    port > 65535)
			__builtin_trap();
	if (!config_finish(&cfg, &err) && (cfg.n_listen < 1 || !cfg.audit_log[0]))
		__builtin_trap();
	return 0;
}
