// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unlocking one volume (agent/unlock.h): rounds over the brokers until the
 * overall deadline, each attempt one proto_client_unseal bounded by
 * attempt_timeout, the released secret in locked memory until luks_open
 * has used it. What ends the rounds at once and what is retried is the
 * header's list; this file only sorts each attempt's result into one of
 * them and logs one line per step.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <psa/crypto.h>

#include "agent/exit.h"
#include "agent/log.h"
#include "agent/secmem.h"
#include "agent/unlock.h"
#include "proto/client.h"
#include "snp/fdio.h"
#include "snp/provider.h"
#include "tls/http.h"

/* An attempt's outcome that is not final: try the next broker. */
#define UNLOCK_RETRY	(-1)

struct unlock_run {
	const struct luks_found *volume;
	const struct agent_settings *s;
	enum luks_open_mode mode;
	int key_fd;			/* >= 0: the verified secret goes there */
	const struct snp_deadline *overall;
	char vol[PATH_MAX + LUKS_UUID_MAX + 4];	/* "PATH (UUID)" for every line */
	char name[LUKS_TOKEN_NAME_MAX];
	struct proto_client_opts opts;	/* url set per attempt */
	struct secmem secret;
	unsigned int attempts;
	char last[AGENT_LOG_LINE_MAX];	/* the latest retried failure, for the final line */
};

/* What the report callback needs, and what it tells the engine. */
struct report_ctx {
	const struct unlock_run *run;
	const struct snp_deadline *attempt;
	int provider_error;		/* what snp_get_report returned, 0 if never failed */
};

int unlock_backoff_ms(unsigned int round, int backoff_ms, int backoff_max_ms, uint32_t rnd)
{
	int64_t wait;
	int64_t half;

	if (backoff_ms <= 0 || backoff_max_ms <= 0)
		return 0;
	wait = backoff_ms;
	/* Doubling stops at the cap, so no shift ever overflows. */
	for (unsigned int i = 1; i < round && wait < backoff_max_ms; i++)
		wait *= 2;
	if (wait > backoff_max_ms)
		wait = backoff_max_ms;
	half = wait / 2;
	return (int)(half + (wait - half) * (int64_t)rnd / (int64_t)UINT32_MAX);
}

/* Jitter only spreads out guests that boot together: no need to wait for entropy. */
static uint32_t jitter_random(void)
{
	uint32_t rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) == (ssize_t)sizeof(rnd))
		return rnd;
	return (uint32_t)snp_now_ms() * 2654435761u ^ (uint32_t)getpid();
}

static void sleep_ms(int ms)
{
	int64_t end = snp_now_ms() + ms;
	int64_t left;

	/* poll() may return early on a signal: sleep what is left of the same end. */
	while ((left = end - snp_now_ms()) > 0)
		poll(NULL, 0, (int)left);
}

static int report_from_provider(void *vctx, const uint8_t report_data[SNP_REPORT_DATA_SIZE],
				uint8_t report[SNP_REPORT_SIZE], uint8_t **cert_table,
				size_t *cert_table_len, struct snp_err *err)
{
	struct report_ctx *c = vctx;
	const struct agent_settings *s = c->run->s;
	const struct snp_provider_config cfg = {
		.provider = s->provider,
		.sim_addr = s->sim_addr[0] ? s->sim_addr : NULL,
	};
	struct snp_report_request req = {
		.vmpl = s->vmpl,
		.want_certs = true,	/* the broker then needs no VCEK cache or KDS */
		.timeout_ms = snp_deadline_left_ms(c->attempt),
	};
	struct snp_report_result res = { 0 };
	int ret;

	/* 0 would mean the provider's own default bound, far beyond the attempt's. */
	if (req.timeout_ms <= 0)
		return snp_errf(err, -ETIMEDOUT, "the attempt's time ran out before the report");
	memcpy(req.report_data, report_data, SNP_REPORT_DATA_SIZE);
	ret = snp_get_report(&cfg, &req, &res, err);
	if (ret) {
		c->provider_error = ret;
		return ret;
	}
	agent_log(LOG_DEBUG, "%s: report from %s%s, certificate table %zu bytes%s%s", c->run->vol,
		  snp_provider_name(res.provider), res.simulated ? " (SIMULATED)" : "",
		  res.certs_len, res.note[0] ? ": " : "", res.note);
	memcpy(report, res.report, SNP_REPORT_SIZE);
	*cert_table = res.certs;
	*cert_table_len = res.certs_len;
	res.certs = NULL;
	snp_report_result_free(&res);
	return 0;
}

static void warn_simulator_once(const struct agent_settings *s)
{
	static bool warned;

	if (s->provider != SNP_PROVIDER_SIM || warned)
		return;
	warned = true;
	agent_log(LOG_WARNING, "using the SEV-SNP firmware SIMULATOR at %s: its reports prove "
		  "nothing about this machine", s->sim_addr[0] ? s->sim_addr : "(no address)");
}

/*
 * What no broker can mend: a URL the protocol cannot use, a CA bundle
 * that is missing or unreadable, CA pins that match none of its
 * certificates. Checked once, before any network, so that it is
 * EXIT_USAGE at once rather than EXIT_UNREACHABLE after the deadline.
 */
static int check_configuration(const struct unlock_run *r)
{
	const struct tls_client_opts tls_opts = {
		.ca_file = r->opts.ca_file,
		.pin = r->opts.pin,
		.ca_pins = r->opts.ca_pins,
		.n_ca_pins = r->opts.n_ca_pins,
	};
	struct tls_client_ctx *ctx = NULL;
	struct snp_err err = { 0 };
	struct http_url url;
	int ret;

	if (!r->s->n_brokers) {
		agent_log(LOG_ERR, "%s: no broker is configured", r->vol);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < r->s->n_brokers; i++) {
		ret = http_url_parse(r->s->brokers[i], &url, &err);
		if (!ret && strcmp(url.path, "/"))
			ret = snp_errf(&err, -EINVAL, "%s has a path: give https://host[:port]",
				       r->s->brokers[i]);
		if (ret) {
			agent_log(LOG_ERR, "%s: broker URL: %s", r->vol, err.msg);
			return EXIT_USAGE;
		}
	}
	ret = tls_client_ctx_new(&ctx, &tls_opts, &err);
	tls_client_ctx_free(ctx);
	if (ret) {
		agent_log(LOG_ERR, "%s: cannot authenticate brokers: %s", r->vol, err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * The mapping name before anything is asked for: 1 when it is free, 0 when
 * this volume is open under it already, or -EXIT_* when it is taken by
 * another device or device-mapper is unusable (a secret released for
 * nothing otherwise).
 */
static int check_mapping(const struct unlock_run *r)
{
	struct snp_err err = { 0 };
	char uuid[40];
	int ret = luks_active_uuid(r->name, uuid, &err);

	if (ret < 0) {
		agent_log(LOG_ERR, "%s: %s", r->vol, err.msg);
		return -EXIT_ACTIVATE_FAILED;
	}
	if (!ret)
		return 1;
	if (!strcasecmp(uuid, r->volume->uuid)) {
		agent_log(LOG_NOTICE, "%s: already active as %s: nothing to do", r->vol, r->name);
		return 0;
	}
	agent_log(LOG_ERR, "%s: the name %s is taken by %s", r->vol, r->name,
		  uuid[0] ? uuid : "a device that is not a LUKS volume");
	return -EXIT_ACTIVATE_FAILED;
}

static int provider_failed(const struct unlock_run *r, int error, const struct snp_err *err)
{
	agent_log(LOG_ERR, "%s: the report provider failed: %s", r->vol, err->msg);
	if (error == -ENODEV)
		return EXIT_NO_PROVIDER;
	/* The kernel has disabled the guest's key: no later attempt could succeed. */
	return EXIT_REPORT_FAILED;
}

/* A broker's refusal: final for 4xx (about this guest or volume), retried for 5xx. */
static int refused(struct unlock_run *r, const char *broker, const struct proto_error *e)
{
	bool final = e->status < 500;

	agent_log(final ? LOG_ERR : LOG_WARNING, "%s: %s refused: %s%s%s: %s", r->vol, broker,
		  e->reason, e->rule[0] ? " rule " : "", e->rule, e->message);
	if (final)
		return EXIT_REFUSED;
	snprintf(r->last, sizeof(r->last), "%s refused: %d %s: %s", broker, e->status, e->reason,
		 e->message);
	return UNLOCK_RETRY;
}

/* Not an errno: the verified secret could not be written to key_fd (logged). */
#define KEY_NOT_HANDED	(-100000)

/* The verified secret to key_fd (a pipe to cryptsetup, for a keyscript). */
static int hand_over(const struct unlock_run *r, size_t secret_len)
{
	int ret = snp_write_all(r->key_fd, r->secret.buf, secret_len);

	if (!ret)
		return 0;
	agent_log(LOG_ERR, "%s: writing the key out: %s", r->vol, strerror(-ret));
	return KEY_NOT_HANDED;
}

/* The secret is in r->secret: open the token's keyslot with it. */
static int open_with_secret(struct unlock_run *r, const char *broker, size_t secret_len)
{
	const int keyslot = r->volume->token.keyslot;
	struct snp_err err = { 0 };
	int ret;

	ret = luks_open(r->volume->path, keyslot, r->name, r->mode, r->secret.buf, secret_len,
			&err);
	if (!ret && r->key_fd >= 0)
		ret = hand_over(r, secret_len);
	explicit_bzero(r->secret.buf, r->secret.size);
	switch (ret) {
	case KEY_NOT_HANDED:
		return EXIT_FAILURE_OTHER;
	case 0:
		if (r->key_fd >= 0)
			agent_log(LOG_NOTICE, "%s: secret verified on keyslot %d and handed "
				  "over (--print-key)", r->vol, keyslot);
		else if (r->mode == LUKS_OPEN_VERIFY)
			agent_log(LOG_NOTICE, "%s: secret verified on keyslot %d "
				  "(not activated: --verify-only)", r->vol, keyslot);
		else
			agent_log(LOG_NOTICE, "%s: unlocked as %s (keyslot %d)", r->vol, r->name,
				  keyslot);
		return EXIT_OK;
	case -EEXIST:
		agent_log(LOG_NOTICE, "%s: %s became active meanwhile: nothing to do", r->vol,
			  r->name);
		return EXIT_OK;
	case -EPERM:
		agent_log(LOG_ERR, "%s: the secret from %s does not open keyslot %d: %s", r->vol,
			  broker, keyslot, err.msg);
		return EXIT_BAD_SECRET;
	default:
		agent_log(LOG_ERR, "%s: cannot %s keyslot %d: %s", r->vol,
			  r->mode == LUKS_OPEN_VERIFY ? "verify" : "activate with", keyslot,
			  err.msg);
		return r->mode == LUKS_OPEN_VERIFY ? EXIT_FAILURE_OTHER : EXIT_ACTIVATE_FAILED;
	}
}

/* One attempt at broker i: an exit code, or UNLOCK_RETRY. */
static int attempt(struct unlock_run *r, size_t i)
{
	const char *broker = r->s->brokers[i];
	int bound = snp_deadline_left_ms(r->overall);
	struct report_ctx rc = { .run = r };
	struct proto_error refusal = { 0 };
	struct snp_err err = { 0 };
	struct snp_deadline dl;
	size_t secret_len = 0;
	int ret;

	if (bound > r->s->attempt_timeout_ms)
		bound = r->s->attempt_timeout_ms;
	snp_deadline_start(&dl, bound);
	rc.attempt = &dl;
	r->opts.url = broker;
	r->attempts++;
	agent_log(LOG_INFO, "%s: asking %s (attempt %u)", r->vol, broker, r->attempts);
	ret = proto_client_unseal(&r->opts, r->volume->token.volume, report_from_provider, &rc,
				  &dl, r->secret.buf, &secret_len, &refusal, &err);
	if (rc.provider_error)
		return provider_failed(r, rc.provider_error, &err);
	if (ret == -EACCES)
		return refused(r, broker, &refusal);
	if (ret) {
		agent_log(LOG_WARNING, "%s: %s: %s", r->vol, broker, err.msg);
		snprintf(r->last, sizeof(r->last), "%s: %s", broker, err.msg);
		return UNLOCK_RETRY;
	}
	agent_log(LOG_INFO, "%s: %s released the secret", r->vol, broker);
	return open_with_secret(r, broker, secret_len);
}

/* Rounds over the brokers until one attempt is final or the deadline passes. */
static int rounds(struct unlock_run *r)
{
	int ret, wait, left;

	for (unsigned int round = 1;; round++) {
		for (size_t i = 0; i < r->s->n_brokers; i++) {
			if (snp_deadline_left_ms(r->overall) <= 0)
				goto deadline;
			ret = attempt(r, i);
			if (ret != UNLOCK_RETRY)
				return ret;
		}
		left = snp_deadline_left_ms(r->overall);
		if (left <= 0)
			break;
		wait = unlock_backoff_ms(round, r->s->backoff_ms, r->s->backoff_max_ms,
					 jitter_random());
		if (wait > left)
			wait = left;
		agent_log(LOG_INFO, "%s: waiting %dms before round %u", r->vol, wait, round + 1);
		sleep_ms(wait);
	}
deadline:
	agent_log(LOG_ERR, "%s: no broker released the secret within the %d ms deadline "
		  "(%u attempts); last: %s", r->vol, r->overall->total_ms, r->attempts,
		  r->last[0] ? r->last : "no attempt was made");
	return EXIT_UNREACHABLE;
}

static void run_init(struct unlock_run *r, const struct luks_found *volume,
		     const struct agent_settings *s, enum luks_open_mode mode,
		     const struct snp_deadline *overall)
{
	memset(r, 0, sizeof(*r));
	r->volume = volume;
	r->s = s;
	r->mode = mode;
	r->overall = overall;
	snprintf(r->vol, sizeof(r->vol), "%s (%s)", volume->path, volume->uuid);
	if (agent_is_set(s, AS_NAME) && s->name[0])
		snprintf(r->name, sizeof(r->name), "%s", s->name);
	else
		luks_default_name(volume->uuid, r->name);
	/* The CA bundle only from the settings; the token narrows it with ca_pins. */
	r->opts.ca_file = agent_is_set(s, AS_CA) && s->ca_file[0] ? s->ca_file : NULL;
	r->opts.pin = agent_is_set(s, AS_PIN) ? s->server_pin : NULL;
	r->opts.ca_pins = (const uint8_t (*)[TLS_PIN_SIZE])s->ca_pins;
	r->opts.n_ca_pins = s->n_ca_pins;
	r->opts.connect_addr = s->connect_to[0] ? s->connect_to : NULL;
}

static const char *exit_reason(int code)
{
	switch (code) {
	case EXIT_USAGE: return "configuration error";
	case EXIT_NO_PROVIDER: return "no report provider";
	case EXIT_REPORT_FAILED: return "the report request failed";
	case EXIT_REFUSED: return "refused by the broker";
	case EXIT_UNREACHABLE: return "no broker reachable before the deadline";
	case EXIT_BAD_SECRET: return "the secret does not open the keyslot";
	case EXIT_ACTIVATE_FAILED: return "activation failed";
	default: return "failed";
	}
}

static int unlock(const struct luks_found *volume, const struct agent_settings *settings,
		  enum luks_open_mode mode, int key_fd, const struct snp_deadline *overall)
{
	struct unlock_run r;
	int ret;

	run_init(&r, volume, settings, mode, overall);
	r.key_fd = key_fd;
	/* --verify-only checks the secret, whatever is mapped. */
	if (mode == LUKS_OPEN_ACTIVATE) {
		ret = check_mapping(&r);
		if (ret <= 0) {
			ret = -ret;
			goto out;
		}
	}
	ret = check_configuration(&r);
	if (ret)
		goto out;
	if (psa_crypto_init() != PSA_SUCCESS) {
		agent_log(LOG_ERR, "%s: the crypto library did not initialise", r.vol);
		ret = EXIT_FAILURE_OTHER;
		goto out;
	}
	ret = secmem_alloc(&r.secret, PROTO_SECRET_MAX);
	if (ret) {
		agent_log(LOG_ERR, "%s: no memory for the secret: %s", r.vol, strerror(-ret));
		ret = EXIT_FAILURE_OTHER;
		goto out;
	}
	if (!r.secret.locked)
		agent_log(LOG_WARNING, "%s: the secret's memory could not be locked (mlock)",
			  r.vol);
	warn_simulator_once(settings);
	ret = rounds(&r);
	secmem_free(&r.secret);
out:
	if (ret)
		agent_log(LOG_ERR, "%s: not unlocked: %s (exit %d)", r.vol, exit_reason(ret), ret);
	return ret;
}

int unlock_volume(const struct luks_found *volume, const struct agent_settings *settings,
		  enum luks_open_mode mode, const struct snp_deadline *overall)
{
	return unlock(volume, settings, mode, -1, overall);
}

int unlock_volume_key(const struct luks_found *volume, const struct agent_settings *settings,
		      int key_fd, const struct snp_deadline *overall)
{
	return unlock(volume, settings, LUKS_OPEN_VERIFY, key_fd, overall);
}
