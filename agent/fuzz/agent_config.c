// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: the agent's settings as the initrd's file and the kernel
 * command line write them (agent/config.h). Each input goes through both
 * readers. A refusal is -EINVAL with one printable sentence that names
 * its source; whatever is accepted must hold only values within the
 * documented ranges, strings that end inside their fields, brokers a
 * token would take, and must merge over the defaults into settings that
 * agent_settings_check either accepts or refuses with a sentence.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "agent/config.h"
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BOUND(v, lo, hi)	((v) >= (lo) && (v) <= (hi))

static void check_sentence(const struct snp_err *err, const char *lead)
{
	if (!err->msg[0] || strncmp(err->msg, lead, strlen(lead)))
		abort();
	for (const char *p = err->msg; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

static void check_string(const char *s, size_t size, bool may_be_empty)
{
	size_t len = strnlen(s, size);

	if (len == size || (!len && !may_be_empty))
		abort();
}

/* The brokers through the token's own checks, as agent/config.c promises. */
static void check_brokers(const struct agent_settings *s)
{
	struct luks_token t;

	luks_token_init(&t);
	t.keyslot = 0;
	memcpy(t.volume, "00000000-0000-0000-0000-000000000000", PROTO_VOLUME_LEN + 1);
	memcpy(t.brokers, s->brokers, sizeof(t.brokers));
	t.n_brokers = s->n_brokers;
	t.n_ca_pins = 1;
	if (luks_token_validate(&t, NULL))
		abort();
}

static void check_lists(const struct agent_settings *s)
{
	if (agent_is_set(s, AS_BROKER))
		check_brokers(s);
	if (agent_is_set(s, AS_CA_PIN) && !BOUND(s->n_ca_pins, 1, LUKS_TOKEN_CA_PINS_MAX))
		abort();
	if (agent_is_set(s, AS_UUID) && !BOUND(s->n_uuids, 1, AGENT_UUIDS_MAX))
		abort();
	for (size_t i = 0; agent_is_set(s, AS_UUID) && i < s->n_uuids; i++)
		if (!proto_volume_valid(s->uuids[i], strnlen(s->uuids[i], sizeof(s->uuids[i]))))
			abort();
}

static void check_values(const struct agent_settings *s)
{
	struct in6_addr addr;

	if (s->set >> AS_COUNT)
		abort();
	check_lists(s);
	if (agent_is_set(s, AS_CA))
		check_string(s->ca_file, sizeof(s->ca_file), true);
	if (agent_is_set(s, AS_CONNECT_TO) &&
	    inet_pton(AF_INET, s->connect_to, &addr) != 1 &&
	    inet_pton(AF_INET6, s->connect_to, &addr) != 1)
		abort();
	if (agent_is_set(s, AS_SIM))
		check_string(s->sim_addr, sizeof(s->sim_addr), false);
	if (agent_is_set(s, AS_NAME))
		check_string(s->name, sizeof(s->name), false);
	if ((agent_is_set(s, AS_PROVIDER) && s->provider > SNP_PROVIDER_SIM) ||
	    (agent_is_set(s, AS_VMPL) && s->vmpl > 3) ||
	    (agent_is_set(s, AS_ON_FAILURE) && s->on_failure > AGENT_POWEROFF) ||
	    (agent_is_set(s, AS_LOG_LEVEL) && !BOUND(s->log_level, LOG_ERR, LOG_DEBUG)))
		abort();
}

/* Durations start from the defaults, so every one is checked whether set here or not. */
static void check_durations(const struct agent_settings *s)
{
	if (!BOUND(s->deadline_ms, 1000, 86400000) ||
	    !BOUND(s->attempt_timeout_ms, 100, 600000) ||
	    !BOUND(s->device_timeout_ms, 0, 3600000) || !BOUND(s->backoff_ms, 10, 600000) ||
	    !BOUND(s->backoff_max_ms, 10, 3600000))
		abort();
}

static void check_layer(const struct agent_settings *layer)
{
	struct agent_settings merged;
	struct snp_err err = { 0 };
	int ret;

	check_values(layer);
	agent_settings_defaults(&merged);
	agent_settings_overlay(&merged, layer);
	check_values(&merged);
	check_durations(&merged);
	ret = agent_settings_check(&merged, &err);
	if (ret && ret != -EINVAL)
		abort();
	if (ret)
		check_sentence(&err, "");
}

/* A reader's answer: a sentence starting with lead, or a layer that holds. */
static void check_result(int ret, const struct snp_err *err, const char *lead,
			 const struct agent_settings *layer)
{
	if (ret && ret != -EINVAL)
		abort();
	if (ret)
		check_sentence(err, lead);
	else
		check_layer(layer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_settings s;
	struct snp_err err = { 0 };
	int ret;

	agent_settings_defaults(&s);
	ret = agent_settings_parse_file(&s, (const char *)data, size, "fuzz.conf", &err);
	check_result(ret, &err, "fuzz.conf", &s);
	agent_settings_clear(&s);
	ret = agent_settings_parse_cmdline(&s, (const char *)data, size, &err);
	check_result(ret, &err, "kernel command line: ", &s);
	return 0;
}
