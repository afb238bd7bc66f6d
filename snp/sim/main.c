// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-sim: a software SEV-SNP firmware for tests and demos. It keeps a
 * test ARK/ASK/VCEK hierarchy and answers report requests over a socket,
 * as the PSP answers the guest. Nothing it signs is trusted by anyone
 * who trusts only AMD.
 */
#define _GNU_SOURCE	/* strptime, timegm */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snp/sim/internal.h"
#include "snp/sim/sim.h"
#include "snp/simproto.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

enum opt_id {
	OPT_STATE = 1,
	OPT_PRODUCT,
	OPT_VLEK,
	OPT_NOT_BEFORE,
	OPT_CONFIG,
	OPT_LISTEN,
	OPT_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_CLIENTS,
	OPT_DATA,
	OPT_VMPL,
	OPT_OUT,
	OPT_CERTS,
	OPT_CONNECT,
	OPT_EXT,
	OPT_COUNT,
	OPT_HELP,
};

struct opts {
	const char *state, *config, *listen, *connect, *out, *certs;
	enum snp_product product;
	bool vlek, ext;
	int64_t not_before;
	long timeout_ms, idle_timeout_ms, max_clients, count;
	uint8_t data[SNP_REPORT_DATA_SIZE];
	uint32_t vmpl;
};

static const char usage[] =
	"Usage: snp-sim init --state DIR [--product milan|genoa|turin] [--vlek]\n"
	"                    [--not-before YYYY-MM-DD]\n"
	"       snp-sim serve --state DIR [--config FILE] --listen ADDR [--timeout MS]\n"
	"                    [--idle-timeout MS] [--max-clients N]\n"
	"       snp-sim report --state DIR [--config FILE] [--data HEX] [--vmpl N]\n"
	"                    --out FILE [--certs FILE]\n"
	"       snp-sim request --connect ADDR [--data HEX] [--vmpl N] [--ext]\n"
	"                    --out FILE [--certs FILE] [--timeout MS]\n"
	"       snp-sim bench --state DIR [--config FILE] [--count N]\n"
	"       snp-sim --help\n"
	"\n"
	"A software SEV-SNP firmware for tests: it holds a TEST ARK/ASK/VCEK\n"
	"hierarchy shaped like AMD's and signs attestation reports the way the\n"
	"PSP does. Nothing it signs verifies against AMD's roots.\n"
	"\n"
	"  init      make a state directory: keys (0600) and ark.pem, ask.pem, vcek.pem\n"
	"  serve     answer requests at ADDR (unix:PATH or tcp:HOST:PORT), one log line each\n"
	"  report    sign one report offline into FILE\n"
	"  request   ask a running simulator (unix:PATH, tcp:HOST:PORT or a device)\n"
	"  bench     sign N reports in this process and print the rate\n"
	"\n"
	"See snp-sim(1) for the configuration keys.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("snp-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see 'snp-sim --help'\n", stderr);
	return EXIT_USAGE;
}

static int fail(const struct snp_err *err)
{
	fprintf(stderr, "snp-sim: %s\n", err->msg);
	return EXIT_FAIL;
}

static int parse_data(const char *hex, uint8_t out[SNP_REPORT_DATA_SIZE])
{
	size_t len;
	int ret;

	memset(out, 0, SNP_REPORT_DATA_SIZE);
	ret = snp_unhex(hex, out, SNP_REPORT_DATA_SIZE, &len);
	if (ret == -EINVAL && strlen(hex) % 2 == 0)
		return usage_error("--data '%s' is not hex", hex);
	if (ret)
		return usage_error("--data '%s' is not up to 64 bytes of hex", hex);
	return 0;
}

static int parse_long(const char *name, const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < min || *out > max)
		return usage_error("%s '%s' is not a number from %ld to %ld", name, s, min, max);
	return 0;
}

static int parse_date(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%d", &tm);

	if (!end || *end || tm.tm_year < 70)
		return usage_error("--not-before '%s' is not a date YYYY-MM-DD from 1970 on", s);
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int set_opt(struct opts *o, int id, const char *name, const char *val)
{
	long v;

	switch (id) {
	case OPT_STATE:
		o->state = val;
		return 0;
	case OPT_CONFIG:
		o->config = val;
		return 0;
	case OPT_LISTEN:
		o->listen = val;
		return 0;
	case OPT_CONNECT:
		o->connect = val;
		return 0;
	case OPT_OUT:
		o->out = val;
		return 0;
	case OPT_CERTS:
		o->certs = val;
		return 0;
	case OPT_VLEK:
		o->vlek = true;
		return 0;
	case OPT_EXT:
		o->ext = true;
		return 0;
	case OPT_DATA:
		return parse_data(val, o->data);
	case OPT_NOT_BEFORE:
		return parse_date(val, &o->not_before);
	case OPT_TIMEOUT:
		return parse_long(name, val, 1, 3600000, &o->timeout_ms);
	case OPT_IDLE_TIMEOUT:
		return parse_long(name, val, 0, 86400000, &o->idle_timeout_ms);
	case OPT_MAX_CLIENTS:
		return parse_long(name, val, 1, 1000, &o->max_clients);
	case OPT_COUNT:
		return parse_long(name, val, 1, 10000000, &o->count);
	case OPT_VMPL:
		/* Values above 3 go through: the firmware answers INVALID_PARAM. */
		if (parse_long(name, val, 0, UINT32_MAX, &v))
			return EXIT_USAGE;
		o->vmpl = (uint32_t)v;
		return 0;
	case OPT_PRODUCT:
		o->product = snp_product_from_name(val, strlen(val));
		if (o->product == SNP_PRODUCT_UNKNOWN || strchr(val, '-'))
			return usage_error("--product '%s' is none of milan, genoa, turin", val);
		return 0;
	}
	return usage_error("option %s is not known", name);
}

static const struct option all_opts[] = {
	{ "state", required_argument, NULL, OPT_STATE },
	{ "product", required_argument, NULL, OPT_PRODUCT },
	{ "vlek", no_argument, NULL, OPT_VLEK },
	{ "not-before", required_argument, NULL, OPT_NOT_BEFORE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "vmpl", required_argument, NULL, OPT_VMPL },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "certs", required_argument, NULL, OPT_CERTS },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "ext", no_argument, NULL, OPT_EXT },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int id)
{
	for (const struct option *o = all_opts; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

/*
 * Parse argv (argv[0] is the command) into o; allowed lists the options
 * the command takes, 0-terminated. Returns -1 after --help.
 */
static int parse_args(int argc, char **argv, const int *allowed, struct opts *o)
{
	int id, ret;

	opterr = 0;
	optind = 1;
	while ((id = getopt_long(argc, argv, "", all_opts, NULL)) != -1) {
		bool ok = false;

		if (id == OPT_HELP) {
			fputs(usage, stdout);
			return -1;
		}
		if (id == '?' || id == ':')
			return usage_error("%s: bad option or missing value in '%s'", argv[0],
					   argv[optind - 1]);
		for (const int *a = allowed; *a; a++)
			ok |= *a == id;
		if (!ok)
			return usage_error("%s takes no --%s", argv[0], opt_name(id));
		ret = set_opt(o, id, opt_name(id), optarg);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int cmd_init(const struct opts *o)
{
	struct snp_sim_init_opts init = {
		.product = o->product, .vlek = o->vlek, .not_before = o->not_before,
	};
	struct snp_err err = { 0 };
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (snp_sim_state_init(o->state, &init, &err))
		return fail(&err);
	fprintf(stderr, "snp-sim: made a %s test hierarchy in %s (%.1f s); trust %s/ark.pem\n",
		snp_product_name(init.product), o->state, seconds_since(&t0), o->state);
	return EXIT_OK;
}

/* Load the configuration (defaults without one) and the state. */
static int open_sim(const struct opts *o, struct snp_sim **sim, struct snp_err *err)
{
	struct snp_sim_config cfg;
	int ret;

	snp_sim_config_init(&cfg);
	if (o->config) {
		ret = snp_sim_config_load(&cfg, o->config, err);
		if (ret)
			return ret;
	}
	return snp_sim_open(sim, o->state, &cfg, err);
}

static int write_out(const char *path, const void *data, size_t len, struct snp_err *err)
{
	return sim_write_file(path, data, len, 0644, err);
}

static int save_response(const struct opts *o, const struct snp_sim_response *resp,
			 struct snp_err *err)
{
	int ret;

	if (resp->status) {
		return snp_errf(err, -EPROTO, "the firmware answered status 0x%x%s", resp->status,
				resp->status == SNP_SIM_STATUS_INVALID_PARAM ?
				" (INVALID_PARAM: a VMPL above 3 or below the guest's)" : "");
	}
	ret = write_out(o->out, resp->report, resp->report_len, err);
	if (!ret && o->certs)
		ret = write_out(o->certs, resp->certs, resp->certs_len, err);
	return ret;
}

static int cmd_report(const struct opts *o)
{
	struct snp_sim_response resp = { 0 };
	struct snp_err err = { 0 };
	struct snp_sim *sim = NULL;
	bool written;
	int ret;

	ret = open_sim(o, &sim, &err);
	if (!ret)
		ret = snp_sim_save_vek(sim, o->state, &written, &err);
	if (!ret)
		ret = snp_sim_get_report(sim, o->data, o->vmpl, o->certs != NULL, &resp, &err);
	if (!ret)
		ret = save_response(o, &resp, &err);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
	return ret ? fail(&err) : EXIT_OK;
}

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void log_line(const char *line, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "snp-sim: %s\n", line);
}

static void on_ready(const char *addr, void *ctx)
{
	const struct snp_sim *sim = ctx;
	const struct snp_report *t = snp_sim_template(sim);
	char tcb[96];

	snp_tcb_format(tcb, sizeof(tcb), t->reported_tcb, snp_sim_product(sim));
	fprintf(stderr, "snp-sim: %s v%u, reported TCB %s: listening on %s\n",
		snp_product_name(snp_sim_product(sim)), t->version, tcb, addr);
}

static int cmd_serve(const struct opts *o)
{
	struct snp_sim_serve_opts so = {
		.timeout_ms = (int)o->timeout_ms,
		.idle_timeout_ms = (int)o->idle_timeout_ms,
		.max_conns = (size_t)o->max_clients,
		.stop = &stop_flag,
		.ready = on_ready,
		.log = log_line,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct snp_err err = { 0 };
	struct snp_sim *sim = NULL;
	bool written = false;
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = open_sim(o, &sim, &err);
	/* Like AMD's KDS issuing a VCEK per TCB: the owner finds it in the state. */
	if (!ret)
		ret = snp_sim_save_vek(sim, o->state, &written, &err);
	if (!ret && written)
		fprintf(stderr, "snp-sim: issued a new %s for this chip and TCB into %s\n",
			snp_sim_template(sim)->key_info & SNP_KEY_INFO_SIGNING_KEY_MASK ?
			"VLEK (vlek.pem)" : "VCEK (vcek.pem)", o->state);
	so.ready_ctx = sim;
	if (!ret)
		ret = snp_sim_serve(sim, o->listen, &so, &err);
	snp_sim_close(sim);
	if (ret)
		return fail(&err);
	fputs("snp-sim: stopped\n", stderr);
	return EXIT_OK;
}

static int cmd_request(const struct opts *o)
{
	struct snp_sim_request req = {
		.type = o->ext ? SNP_SIM_REQ_EXT_REPORT : SNP_SIM_REQ_REPORT,
		.vmpl = o->vmpl,
	};
	struct snp_sim_response resp = { 0 };
	struct snp_err err = { 0 };
	int ret;

	memcpy(req.user_data, o->data, sizeof(req.user_data));
	ret = snp_sim_call(o->connect, &req, &resp, (int)o->timeout_ms, &err);
	if (!ret)
		ret = save_response(o, &resp, &err);
	snp_sim_response_free(&resp);
	return ret ? fail(&err) : EXIT_OK;
}

/* Reports signed per second, in this process: what one simulator core does. */
static int cmd_bench(const struct opts *o)
{
	struct snp_sim_response resp = { 0 };
	struct snp_err err = { 0 };
	struct snp_sim *sim = NULL;
	uint8_t data[SNP_REPORT_DATA_SIZE] = { 0 };
	struct timespec t0;
	double s;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = open_sim(o, &sim, &err);
	if (ret)
		return fail(&err);
	printf("snp-sim: loading the state and issuing the VCEK: %.1f ms\n",
	       seconds_since(&t0) * 1e3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < o->count && !ret; i++) {
		memcpy(data, &i, sizeof(i));
		ret = snp_sim_get_report(sim, data, 0, false, &resp, &err);
		snp_sim_response_free(&resp);
	}
	s = seconds_since(&t0);
	snp_sim_close(sim);
	if (ret)
		return fail(&err);
	printf("snp-sim: %ld reports signed in %.2f s: %.0f reports/s (ECDSA P-384, one core)\n",
	       o->count, s, (double)o->count / s);
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

/* A string option a command cannot do without. */
#define NEED(field, what) { offsetof(struct opts, field), what }

int main(int argc, char **argv)
{
	static const int init_opts[] = { OPT_STATE, OPT_PRODUCT, OPT_VLEK, OPT_NOT_BEFORE, 0 };
	static const int serve_opts[] = { OPT_STATE, OPT_CONFIG, OPT_LISTEN, OPT_TIMEOUT,
					  OPT_IDLE_TIMEOUT, OPT_MAX_CLIENTS, 0 };
	static const int report_opts[] = { OPT_STATE, OPT_CONFIG, OPT_DATA, OPT_VMPL, OPT_OUT,
					   OPT_CERTS, 0 };
	static const int request_opts[] = { OPT_CONNECT, OPT_DATA, OPT_VMPL, OPT_EXT, OPT_OUT,
					    OPT_CERTS, OPT_TIMEOUT, 0 };
	static const int bench_opts[] = { OPT_STATE, OPT_CONFIG, OPT_COUNT, 0 };
	static const struct {
		const char *name;
		const int *opts;
		int (*run)(const struct opts *o);
		struct { size_t off; const char *what; } need[2];	/* required options */
	} cmds[] = {
		{ "init", init_opts, cmd_init, { NEED(state, "--state DIR") } },
		{ "serve", serve_opts, cmd_serve,
		  { NEED(state, "--state DIR"), NEED(listen, "--listen ADDR") } },
		{ "report", report_opts, cmd_report,
		  { NEED(state, "--state DIR"), NEED(out, "--out FILE") } },
		{ "request", request_opts, cmd_request,
		  { NEED(connect, "--connect ADDR"), NEED(out, "--out FILE") } },
		{ "bench", bench_opts, cmd_bench, { NEED(state, "--state DIR") } },
	};
	struct opts o = { .timeout_ms = 5000, .max_clients = 64, .count = 1000 };
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		ret = parse_args(argc - 1, argv + 1, cmds[i].opts, &o);
		if (ret)
			return ret < 0 ? EXIT_OK : ret;
		for (size_t n = 0; n < 2 && cmds[i].need[n].what; n++)
			if (!*(const char **)((const char *)&o + cmds[i].need[n].off))
				return usage_error("%s needs %s", cmds[i].name,
						   cmds[i].need[n].what);
		return cmds[i].run(&o);
	}
	return usage_error("unknown command '%s'", argv[1]);
}
