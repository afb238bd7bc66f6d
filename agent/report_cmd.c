// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-unseal report: ask the SEV-SNP firmware (or, by name, the
 * simulator) for a report carrying --data, then list its fields and/or
 * save its bytes. Output files are never overwritten: they are created
 * before the request, so a name already taken costs no report (after a
 * failed request the kernel allows no other until reboot), and removed
 * again unless written completely. A report that does not parse is still
 * saved: those are the bytes worth looking at.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/exit.h"
#include "agent/report_cmd.h"
#include "snp/fdio.h"
#include "snp/provider.h"
#include "snp/report.h"
#include "snp/report_print.h"

#define TIMEOUT_MAX_S	3600

struct report_opts {
	struct snp_provider_config cfg;
	struct snp_report_request req;
	int provider_given;
	const char *out_path;
	const char *certs_path;
	int show;
};

/* An output file, created up front and removed again if we fail. */
struct out_file {
	const char *path;
	int fd;
	int done;		/* written completely: keep it */
};

static void print_report_usage(FILE *out)
{
	fputs("Usage: snp-unseal report [--data HEX] [--provider auto|configfs|ioctl|sim]\n"
	      "                         [--sim ADDR] [--vmpl N] [--certs FILE] [--out FILE]\n"
	      "                         [--show] [--timeout SECONDS]\n"
	      "\n"
	      "Get an SEV-SNP attestation report and list its fields.\n"
	      "\n"
	      "  --data HEX         REPORT_DATA, up to 64 bytes in hex, zero-padded (default zeros)\n"
	      "  --provider NAME    auto (default: configfs-tsm, else /dev/sev-guest),\n"
	      "                     configfs, ioctl, or sim (the simulator; needs --sim)\n"
	      "  --sim ADDR         the simulator: unix:PATH, tcp:HOST:PORT or a device path\n"
	      "  --vmpl N           the VMPL to report, 0-3 (default 0)\n"
	      "  --certs FILE       also get the host's certificate table, into FILE\n"
	      "  --out FILE         write the raw 1184-byte report to FILE\n"
	      "  --show             list the fields (the default without --out or --certs)\n"
	      "  --timeout SECONDS  overall bound (default 90)\n"
	      "\n"
	      "FILEs must not exist yet.\n",
	      out);
}

static int usage_error(const char *fmt, const char *arg)
	__attribute__((format(printf, 1, 0)));

static int usage_error(const char *fmt, const char *arg)
{
	fputs("snp-unseal report: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("; see 'snp-unseal report --help'\n", stderr);
	return EXIT_USAGE;
}

static int parse_data(const char *hex, uint8_t out[SNP_REPORT_DATA_SIZE])
{
	size_t len;
	int ret = snp_unhex(hex, out, SNP_REPORT_DATA_SIZE, &len);

	if (ret == -E2BIG)
		return usage_error("--data '%s' is longer than 64 bytes", hex);
	if (ret && strlen(hex) % 2)
		return usage_error("--data '%s' has an odd number of hex digits", hex);
	if (ret)
		return usage_error("--data '%s' is not hex", hex);
	memset(out + len, 0, SNP_REPORT_DATA_SIZE - len);
	return 0;
}

/* A whole decimal number in [min, max], or -1. */
static long parse_number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < min || v > max)
		return -1;
	return v;
}

static int parse_option(struct report_opts *o, const char *name, const char *value)
{
	long v;

	if (!strcmp(name, "--data"))
		return parse_data(value, o->req.report_data);
	if (!strcmp(name, "--provider")) {
		o->provider_given = 1;
		if (snp_provider_from_name(value, &o->cfg.provider))
			return usage_error("unknown provider '%s' (auto, configfs, ioctl or sim)",
					   value);
	} else if (!strcmp(name, "--sim")) {
		o->cfg.sim_addr = value;
	} else if (!strcmp(name, "--vmpl")) {
		v = parse_number(value, 0, SNP_VMPL_MAX);
		if (v < 0)
			return usage_error("--vmpl '%s' is not 0, 1, 2 or 3", value);
		o->req.vmpl = (uint32_t)v;
	} else if (!strcmp(name, "--timeout")) {
		v = parse_number(value, 1, TIMEOUT_MAX_S);
		if (v < 0)
			return usage_error("--timeout '%s' is not a number of seconds from 1 to 3600",
					   value);
		o->req.timeout_ms = (int)v * 1000;
	} else if (!strcmp(name, "--certs")) {
		o->certs_path = value;
		o->req.want_certs = true;
	} else if (!strcmp(name, "--out")) {
		o->out_path = value;
	} else {
		return usage_error("unexpected argument '%s'", name);
	}
	return 0;
}

static int takes_value(const char *name)
{
	static const char *const names[] = { "--data", "--provider", "--sim", "--vmpl",
					     "--timeout", "--certs", "--out" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

/* The simulator only by name: --sim alone implies it, and nothing else takes --sim. */
static int check_sim(struct report_opts *o)
{
	if (o->cfg.sim_addr && !o->provider_given)
		o->cfg.provider = SNP_PROVIDER_SIM;
	if (o->cfg.provider == SNP_PROVIDER_SIM && !o->cfg.sim_addr)
		return usage_error("%s needs --sim ADDR", "--provider sim");
	if (o->cfg.provider != SNP_PROVIDER_SIM && o->cfg.sim_addr)
		return usage_error("--sim goes only with --provider sim, not '%s'",
				   snp_provider_name(o->cfg.provider));
	return 0;
}

static int parse_args(struct report_opts *o, int argc, char *argv[])
{
	char name[32];
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '='), *value = NULL;

		if (!strcmp(arg, "--show")) {
			o->show = 1;
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		if (!takes_value(name))
			return usage_error("unexpected argument '%s'", arg);
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return usage_error("%s needs a value", arg);
		ret = parse_option(o, name, value);
		if (ret)
			return ret;
	}
	if (!o->out_path && !o->certs_path)
		o->show = 1;
	return check_sim(o);
}

static int create_out(struct out_file *f, const char *path)
{
	f->path = path;
	f->fd = -1;
	if (!path)
		return 0;
	f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (f->fd >= 0)
		return 0;
	if (errno == EEXIST)
		fprintf(stderr, "snp-unseal report: %s exists; not overwriting it\n", path);
	else
		fprintf(stderr, "snp-unseal report: cannot create %s: %s\n", path, strerror(errno));
	f->path = NULL;
	return EXIT_FAILURE_OTHER;
}

static int write_out(struct out_file *f, const uint8_t *buf, size_t len)
{
	int ret = snp_write_all(f->fd, buf, len);

	if (!ret && fsync(f->fd))
		ret = -errno;
	if (!ret) {
		f->done = 1;
		return 0;
	}
	fprintf(stderr, "snp-unseal report: writing %s: %s\n", f->path, strerror(-ret));
	return EXIT_FAILURE_OTHER;
}

/* Close, and remove the file unless it was written completely. */
static int finish_out(struct out_file *f)
{
	int keep = f->done;

	if (f->fd < 0)
		return 0;
	if (close(f->fd) && keep) {
		fprintf(stderr, "snp-unseal report: writing %s: %s\n", f->path, strerror(errno));
		keep = 0;
	}
	if (!keep)
		unlink(f->path);
	f->fd = -1;
	return f->done && !keep ? EXIT_FAILURE_OTHER : 0;
}

static void show_report(const struct snp_report *r, const struct snp_report_result *res)
{
	char hex[2 * SNP_P384_SIZE + 1];

	printf("provider: %s%s\n", snp_provider_name(res->provider),
	       res->simulated ? " (SIMULATED: not AMD hardware)" : "");
	snp_report_print(stdout, r, r->cpuid_product);
	printf("signature_r: %s\n", snp_hex(hex, r->sig_r, SNP_P384_SIZE));
	printf("signature_s: %s\n", snp_hex(hex, r->sig_s, SNP_P384_SIZE));
	printf("certificate table: %zu bytes\n", res->certs_len);
}

static int save_and_show(const struct report_opts *o, const struct snp_report_result *res,
			 struct out_file *out, struct out_file *certs)
{
	struct snp_report r;
	struct snp_err err = { 0 };
	int ret = 0;

	if (out->path)
		ret = write_out(out, res->report, SNP_REPORT_SIZE);
	if (!ret && certs->path && res->certs_len)
		ret = write_out(certs, res->certs, res->certs_len);
	if (!ret && certs->path && !res->certs_len) {
		fprintf(stderr, "snp-unseal report: the host gave no certificate table; "
			"%s left empty\n", certs->path);
		certs->done = 1;
	}
	if (ret)
		return ret;
	if (snp_report_parse(res->report, SNP_REPORT_SIZE, &r, &err)) {
		fprintf(stderr, "snp-unseal report: the report does not parse: %s\n", err.msg);
		return EXIT_REPORT_FAILED;
	}
	if (o->show) {
		show_report(&r, res);
		if (fflush(stdout))
			return EXIT_FAILURE_OTHER;
	}
	return 0;
}

static int get_and_save(struct report_opts *o, struct out_file *out, struct out_file *certs)
{
	struct snp_report_result res;
	struct snp_err err = { 0 };
	int ret;

	ret = snp_get_report(&o->cfg, &o->req, &res, &err);
	if (ret) {
		fprintf(stderr, "snp-unseal report: %s\n", err.msg);
		return ret == -ENODEV ? EXIT_NO_PROVIDER : EXIT_REPORT_FAILED;
	}
	if (res.note[0])
		fprintf(stderr, "snp-unseal report: %s\n", res.note);
	ret = save_and_show(o, &res, out, certs);
	snp_report_result_free(&res);
	return ret;
}

int report_main(int argc, char *argv[])
{
	struct report_opts o = { 0 };
	struct out_file out = { .fd = -1 }, certs = { .fd = -1 };
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		print_report_usage(stdout);
		return fflush(stdout) ? EXIT_FAILURE_OTHER : EXIT_OK;
	}
	ret = parse_args(&o, argc, argv);
	if (!ret)
		ret = create_out(&out, o.out_path);
	if (!ret)
		ret = create_out(&certs, o.certs_path);
	if (!ret)
		ret = get_and_save(&o, &out, &certs);
	if (finish_out(&out) && !ret)
		ret = EXIT_FAILURE_OTHER;
	if (finish_out(&certs) && !ret)
		ret = EXIT_FAILURE_OTHER;
	return ret;
}
