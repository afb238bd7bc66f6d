// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-keybroker probe`: the whole unseal protocol as an agent runs it
 * (proto_client_unseal), with reports from the SEV-SNP firmware
 * simulator, so that an owner can check a broker, its volumes and its
 * policies end to end before a guest depends on them. It prints each step
 * and the verdict; never the secret.
 */
#include <errno.h>
#include <getopt.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/probe_cmd.h"
#include "proto/client.h"
#include "proto/proto.h"
#include "snp/fdio.h"
#include "snp/provider.h"

#define PROBE_TIMEOUT_DEFAULT_MS	30000
#define PROBE_TIMEOUT_MAX_MS		3600000
#define REGISTRATION_MAX		4096

enum { PROBE_OK = 0, PROBE_REFUSED = 1, PROBE_USAGE = 2, PROBE_TRANSPORT = 3 };

struct probe_opts {
	struct proto_client_opts client;
	uint8_t pin[TLS_PIN_SIZE];
	char volume[PROTO_VOLUME_LEN + 1];
	const char *sim;
	const char *check_secret;
	unsigned int vmpl;
	int timeout_ms;
	struct snp_deadline dl;
};

static int get_report(void *ctx, const uint8_t report_data[SNP_REPORT_DATA_SIZE],
		      uint8_t report[SNP_REPORT_SIZE], uint8_t **cert_table,
		      size_t *cert_table_len, struct snp_err *err)
{
	const struct probe_opts *o = ctx;
	struct snp_provider_config cfg = { .provider = SNP_PROVIDER_SIM, .sim_addr = o->sim };
	struct snp_report_request req = {
		.vmpl = o->vmpl,
		.want_certs = true,
		.timeout_ms = snp_deadline_left_ms(&o->dl),
	};
	struct snp_report_result res = { 0 };
	char hex[2 * SNP_REPORT_DATA_SIZE + 1];
	int ret;

	printf("challenge: nonce received\n");
	printf("report:    REPORT_DATA %s\n", snp_hex(hex, report_data, SNP_REPORT_DATA_SIZE));
	if (req.timeout_ms <= 0)
		return snp_errf(err, -ETIMEDOUT, "no time left to ask the simulator");
	memcpy(req.report_data, report_data, SNP_REPORT_DATA_SIZE);
	ret = snp_get_report(&cfg, &req, &res, err);
	if (ret)
		return ret;
	printf("report:    from the simulator at %s (SIMULATED, not AMD hardware), VMPL %u, "
	       "certificate table %zu bytes\n", o->sim, o->vmpl, res.certs_len);
	memcpy(report, res.report, SNP_REPORT_SIZE);
	*cert_table = res.certs;
	*cert_table_len = res.certs_len;
	res.certs = NULL;
	snp_report_result_free(&res);
	printf("unseal:    sending the report\n");
	fflush(stdout);
	return 0;
}

/* 0 when the registration file is for this volume and holds this secret, else an exit status. */
static int check_secret(const struct probe_opts *o, const uint8_t *secret, size_t secret_len)
{
	struct proto_registration reg;
	struct snp_err err = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = snp_read_file(o->check_secret, REGISTRATION_MAX, &buf, &len, &err);
	if (!ret)
		ret = proto_registration_decode((const char *)buf, len, &reg, &err);
	if (buf)
		mbedtls_platform_zeroize(buf, len);
	free(buf);
	if (ret) {
		fprintf(stderr, "snp-keybroker probe: --check-secret %s: %s\n", o->check_secret,
			err.msg);
		return PROBE_USAGE;
	}
	if (strcmp(reg.volume, o->volume)) {
		fprintf(stderr, "snp-keybroker probe: --check-secret %s is for volume %s\n",
			o->check_secret, reg.volume);
		mbedtls_platform_zeroize(&reg, sizeof(reg));
		return PROBE_USAGE;
	}
	ret = secret_len == reg.secret_len && proto_ct_equal(secret, reg.secret, secret_len) ?
	      0 : -EBADMSG;
	mbedtls_platform_zeroize(&reg, sizeof(reg));
	printf("secret:    %s the registration file's\n", ret ? "DIFFERS from" : "equals");
	return ret ? PROBE_REFUSED : PROBE_OK;
}

static int run_probe(struct probe_opts *o)
{
	uint8_t secret[PROTO_SECRET_MAX];
	size_t secret_len = 0;
	struct proto_error refusal = { 0 };
	struct snp_err err = { 0 };
	psa_status_t st = psa_crypto_init();
	int ret;

	if (st != PSA_SUCCESS) {
		fprintf(stderr, "snp-keybroker probe: psa_crypto_init failed (%d)\n", (int)st);
		return PROBE_TRANSPORT;
	}
	printf("broker:    %s%s%s\n", o->client.url, o->client.connect_addr ? " via " : "",
	       o->client.connect_addr ? o->client.connect_addr : "");
	printf("volume:    %s\n", o->volume);
	fflush(stdout);
	snp_deadline_start(&o->dl, o->timeout_ms);
	ret = proto_client_unseal(&o->client, o->volume, get_report, o, &o->dl, secret,
				  &secret_len, &refusal, &err);
	if (ret == -EACCES) {
		printf("verdict:   REFUSED %d %s%s%s: %s\n", refusal.status, refusal.reason,
		       refusal.rule[0] ? " rule " : "", refusal.rule, refusal.message);
		ret = PROBE_REFUSED;
	} else if (ret) {
		printf("verdict:   FAILED: %s\n", err.msg);
		ret = PROBE_TRANSPORT;
	} else {
		printf("verdict:   UNSEALED: a secret of %zu bytes, opened with the ephemeral key\n",
		       secret_len);
		ret = o->check_secret ? check_secret(o, secret, secret_len) : PROBE_OK;
	}
	mbedtls_platform_zeroize(secret, sizeof(secret));
	return fflush(stdout) ? PROBE_TRANSPORT : ret;
}

/* "250ms", "10s", "2m": milliseconds, or -1. */
static int parse_duration_ms(const char *text)
{
	static const struct { const char *unit; long ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
	};
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || v <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit) && v <= PROBE_TIMEOUT_MAX_MS / units[i].ms)
			return (int)(v * units[i].ms);
	return -1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("snp-keybroker probe: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("; see 'snp-keybroker --help'\n", stderr);
	return PROBE_USAGE;
}

static int parse_opt(struct probe_opts *o, int c, const char *arg)
{
	struct snp_err err = { 0 };

	switch (c) {
	case 'a': o->client.ca_file = arg; return 0;
	case 'c': o->client.connect_addr = arg; return 0;
	case 's': o->sim = arg; return 0;
	case 'k': o->check_secret = arg; return 0;
	case 'p':
		if (tls_pin_parse(arg, o->pin, &err))
			return usage_error("--pin: %s", err.msg);
		o->client.pin = o->pin;
		return 0;
	case 'v':
		if (proto_volume_canonical(arg, o->volume, &err))
			return usage_error("--volume: %s", err.msg);
		return 0;
	case 't':
		o->timeout_ms = parse_duration_ms(arg);
		if (o->timeout_ms < 0)
			return usage_error("--timeout '%s': use a duration such as 500ms, 10s or 2m",
					   arg);
		return 0;
	case 'm':
		if (strlen(arg) != 1 || arg[0] < '0' || arg[0] > '3')
			return usage_error("--vmpl '%s': use 0 to 3", arg);
		o->vmpl = (unsigned int)(arg[0] - '0');
		return 0;
	default:
		return usage_error("unknown or incomplete option '%s'", arg);
	}
}

int broker_probe_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'a' },
		{ "pin", required_argument, NULL, 'p' },
		{ "volume", required_argument, NULL, 'v' },
		{ "sim", required_argument, NULL, 's' },
		{ "connect-to", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "check-secret", required_argument, NULL, 'k' },
		{ "vmpl", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct probe_opts o = { .timeout_ms = PROBE_TIMEOUT_DEFAULT_MS };
	int c, ret;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		ret = parse_opt(&o, c, c == '?' ? argv[optind - 1] : optarg);
		if (ret)
			return ret;
	}
	if (optind != argc - 1)
		return usage_error("%s", optind >= argc ? "URL is missing" : "more than one URL given");
	if (!o.client.ca_file && !o.client.pin)
		return usage_error("%s", "authenticate the broker with --ca FILE or --pin sha256:HEX");
	if (!o.volume[0] || !o.sim)
		return usage_error("%s", "--volume UUID and --sim ADDR are required");
	o.client.url = argv[optind];
	return run_probe(&o);
}
