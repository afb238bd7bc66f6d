/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_UNSEAL_AGENT_CONFIG_H
#define SNP_UNSEAL_AGENT_CONFIG_H

/*
 * The agent's settings and where they come from. Each setting is taken
 * from the first of these that sets it:
 *
 *   1. snp-unseal unlock's own options (--broker, --deadline, ...)
 *   2. the kernel command line: rd.snp_unseal.KEY=VALUE
 *   3. the volume's LUKS2 token (brokers, ca_pins, server_pin, name)
 *   4. the initrd's configuration file (/etc/snp-unseal/snp-unseal.conf)
 *   5. the built-in defaults below
 *
 * The token is canonical for its volume; the file gives defaults for what
 * a token does not say, and the command line overrides both (say, a new
 * broker address for the whole fleet). The CA bundle (ca) comes only
 * from 1, 2, 4 or 5: trust anchors live in the measured initrd, the
 * token only narrows them (ca_pins).
 *
 * KEYs, the same in the file ("key = value", '#' comments) and on the
 * command line:
 *   broker          URL[,URL...]: brokers, tried in order (token: brokers)
 *   ca              CA bundle file                (/etc/snp-unseal/ca.pem)
 *   ca_pin          sha256:HEX[,sha256:HEX...]    (token: ca_pins)
 *   pin             sha256:HEX: the broker's own key (token: server_pin)
 *   connect_to      numeric IPv4/IPv6 address used for the broker host
 *   provider        auto|configfs|ioctl|sim       (auto)
 *   sim             simulator address (provider sim only)
 *   vmpl            0-3                           (0)
 *   deadline        overall bound for unlocking   (120s)
 *   attempt_timeout one attempt at one broker     (15s)
 *   device_timeout  waiting for the devices        (30s)
 *   backoff         first wait between rounds      (1s)
 *   backoff_max     longest wait between rounds    (16s)
 *   on_failure      fallback|poweroff             (fallback)
 *   name            device-mapper name (one volume only; token: name)
 *   uuid            UUID[,UUID...]: volumes to wait for
 *   enable          0|1 (rd.snp_unseal=0 also disables)   (1)
 *   log_level       err|warning|notice|info|debug (info)
 * Durations take a unit: ms, s, m or h.
 *
 * Nothing here prints: errors are -EINVAL with a sentence naming the
 * source ("FILE:LINE", "kernel command line"), the key and the value.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "luks/token.h"
#include "snp/err.h"
#include "snp/provider.h"
#include "tls/tls.h"

#define AGENT_CONFIG_FILE	"/etc/snp-unseal/snp-unseal.conf"
#define AGENT_CA_FILE		"/etc/snp-unseal/ca.pem"
#define AGENT_CMDLINE_FILE	"/proc/cmdline"
#define AGENT_CMDLINE_PREFIX	"rd.snp_unseal."
#define AGENT_UUIDS_MAX		16
#define AGENT_CONFIG_FILE_MAX	65536	/* bytes */
#define AGENT_CMDLINE_MAX	65536

enum agent_on_failure {
	AGENT_FALLBACK = 0,		/* exit; the initrd asks for the passphrase */
	AGENT_POWEROFF,			/* fail closed: power the machine off */
};

/* Which settings a layer sets. */
enum agent_setting {
	AS_BROKER, AS_CA, AS_CA_PIN, AS_PIN, AS_CONNECT_TO, AS_PROVIDER, AS_SIM,
	AS_VMPL, AS_DEADLINE, AS_ATTEMPT_TIMEOUT, AS_DEVICE_TIMEOUT, AS_BACKOFF,
	AS_BACKOFF_MAX, AS_ON_FAILURE, AS_NAME, AS_UUID, AS_ENABLE, AS_LOG_LEVEL,
	AS_COUNT
};

struct agent_settings {
	uint32_t set;			/* bit (1u << enum agent_setting) per setting set */
	char brokers[LUKS_TOKEN_BROKERS_MAX][LUKS_TOKEN_URL_MAX];
	size_t n_brokers;
	char ca_file[PATH_MAX];
	uint8_t ca_pins[LUKS_TOKEN_CA_PINS_MAX][TLS_PIN_SIZE];
	size_t n_ca_pins;
	uint8_t server_pin[TLS_PIN_SIZE];
	char connect_to[64];
	enum snp_provider provider;
	char sim_addr[256];
	uint32_t vmpl;
	int deadline_ms;
	int attempt_timeout_ms;
	int device_timeout_ms;
	int backoff_ms;
	int backoff_max_ms;
	enum agent_on_failure on_failure;
	char name[LUKS_TOKEN_NAME_MAX];
	char uuids[AGENT_UUIDS_MAX][40];
	size_t n_uuids;
	bool enable;
	int log_level;			/* syslog LOG_ERR..LOG_DEBUG */
};

static inline bool agent_is_set(const struct agent_settings *s, enum agent_setting k)
{
	return s->set & (1u << k);
}

/* Nothing set. */
void agent_settings_clear(struct agent_settings *s);
/* The built-in defaults (every setting set but pin, connect_to, sim, name, uuid, broker, ca_pin). */
void agent_settings_defaults(struct agent_settings *s);

/*
 * One "key = value": the file, the command line and unlock's options all
 * come through here. where names the source for messages. A key set twice
 * in one layer is refused by the callers below, not here.
 */
int agent_settings_set(struct agent_settings *s, const char *key, const char *value,
		       const char *where, struct snp_err *err);

/*
 * The configuration file's text (name for messages). A line that is
 * refused is skipped and the others still apply: the first refusal is
 * returned, and the caller fails, but a fail-closed on_failure set on a
 * good line is still known. The same for the command line's words.
 */
int agent_settings_parse_file(struct agent_settings *s, const char *text, size_t len,
			      const char *name, struct snp_err *err);
/* Read and parse path; -ENOENT (err set) when it does not exist. */
int agent_settings_load_file(struct agent_settings *s, const char *path, struct snp_err *err);

/*
 * The kernel command line: rd.snp_unseal.KEY=VALUE words, and
 * rd.snp_unseal=0|1 (enable); other words are ignored. Quoted words
 * ("rd.snp_unseal.broker=a,b") as the kernel quotes them.
 */
int agent_settings_parse_cmdline(struct agent_settings *s, const char *text, size_t len,
				 struct snp_err *err);
int agent_settings_load_cmdline(struct agent_settings *s, const char *path, struct snp_err *err);

/* A token as a layer: brokers, ca_pins, server_pin, name (when set). */
void agent_settings_from_token(struct agent_settings *s, const struct luks_token *t);

/* Copy into dst every setting src sets (src wins). */
void agent_settings_overlay(struct agent_settings *dst, const struct agent_settings *src);

/*
 * The final check of merged settings: at least one broker, a CA bundle or
 * a pin, sim only with provider sim, backoff <= backoff_max, ... -EINVAL
 * naming what is missing or contradicts.
 */
int agent_settings_check(const struct agent_settings *s, struct snp_err *err);

/* The name of a setting as written ("attempt_timeout"). */
const char *agent_setting_name(enum agent_setting k);

#endif
