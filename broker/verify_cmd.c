// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-keybroker verify REPORT`: check one report offline and print
 * every field, the certificates and each check. Exit 0 verified, 1 not,
 * 2 for a bad command line or unreadable input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/verify_cmd.h"
#include "broker/verify_print.h"
#include "snp/certtable.h"
#include "snp/fdio.h"
#include "snp/verify.h"

#define REPORT_FILE_MAX	(64 * 1024)
#define CERT_FILE_MAX	(64 * 1024)

/* The certificates of one verification, as DER, by kind. */
struct evidence {
	uint8_t *report;
	size_t report_len;
	uint8_t *der[SNP_CERT_VLEK + 1];
	size_t der_len[SNP_CERT_VLEK + 1];
};

struct verify_opts {
	const char *report_path;
	const char *certs_dir;
	const char *table_path;
	const char *trust_ark;
	enum snp_product product;
	time_t at;
	bool json;
};

static void evidence_free(struct evidence *ev)
{
	free(ev->report);
	for (size_t k = 0; k <= SNP_CERT_VLEK; k++)
		free(ev->der[k]);
}

static int load_table(struct evidence *ev, const char *path, struct snp_err *err)
{
	struct snp_cert_table table;
	uint8_t *blob;
	size_t len;
	int ret;

	ret = snp_read_file(path, SNP_CERT_TABLE_MAX * CERT_FILE_MAX, &blob, &len, err);
	if (ret)
		return ret;
	ret = snp_cert_table_parse(blob, len, &table, err);
	if (ret)
		goto out;
	for (size_t i = 0; i < table.count; i++) {
		struct snp_cert_entry *e = &table.entries[i];

		if (e->kind == SNP_CERT_OTHER)
			continue;
		ev->der[e->kind] = e->der;
		ev->der_len[e->kind] = e->der_len;
		e->der = NULL;	/* now ours */
	}
	snp_cert_table_free(&table);
out:
	free(blob);
	return ret;
}

/* DIR/NAME.pem or DIR/NAME.der, whichever exists; 0 and nothing when neither. */
static int load_dir_cert(struct evidence *ev, const char *dir, const char *name,
			 enum snp_cert_kind kind, struct snp_err *err)
{
	static const char *const exts[] = { "pem", "der" };
	char path[4096];

	if (ev->der[kind])
		return 0;	/* the certificate table gave it */
	for (size_t i = 0; i < 2; i++) {
		uint8_t *raw;
		size_t len;
		int ret;

		snprintf(path, sizeof(path), "%s/%s.%s", dir, name, exts[i]);
		ret = snp_read_file(path, CERT_FILE_MAX, &raw, &len, err);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return ret;
		ret = snp_cert_to_der(raw, len, &ev->der[kind], &ev->der_len[kind], err);
		free(raw);
		if (ret)
			return snp_errf(err, ret, "%s: %s", path, err->msg);
		return 0;
	}
	return 0;
}

static int load_dir(struct evidence *ev, const char *dir, struct snp_err *err)
{
	int ret = load_dir_cert(ev, dir, "ark", SNP_CERT_ARK, err);

	if (!ret)
		ret = load_dir_cert(ev, dir, "ask", SNP_CERT_ASK, err);
	if (!ret)
		ret = load_dir_cert(ev, dir, "asvk", SNP_CERT_ASK, err);
	if (!ret)
		ret = load_dir_cert(ev, dir, "vcek", SNP_CERT_VCEK, err);
	if (!ret)
		ret = load_dir_cert(ev, dir, "vlek", SNP_CERT_VLEK, err);
	return ret;
}

static int load_evidence(struct evidence *ev, const struct verify_opts *o, struct snp_err *err)
{
	int ret;

	ret = snp_read_file(o->report_path, REPORT_FILE_MAX, &ev->report, &ev->report_len, err);
	if (!ret && o->table_path)
		ret = load_table(ev, o->table_path, err);
	if (!ret && o->certs_dir)
		ret = load_dir(ev, o->certs_dir, err);
	return ret;
}

/* The VEK the report names: a VLEK when SIGNING_KEY says so, else the VCEK. */
static enum snp_cert_kind pick_vek(const struct evidence *ev, const struct snp_report *r)
{
	if (r)
		return r->signing_key == SNP_SIGNING_KEY_VLEK ? SNP_CERT_VLEK : SNP_CERT_VCEK;
	return ev->der[SNP_CERT_VCEK] ? SNP_CERT_VCEK : SNP_CERT_VLEK;
}

static int run_verify(const struct verify_opts *o)
{
	struct evidence ev = { 0 };
	struct snp_anchors anchors;
	struct snp_verify_input in = { 0 };
	struct snp_verify_result res;
	struct snp_err err = { 0 };
	struct snp_report parsed;
	const struct snp_report *report = NULL;
	enum snp_product ark_product;
	enum snp_cert_kind vek;
	int ret;

	if (load_evidence(&ev, o, &err) ||
	    (o->trust_ark && snp_anchors_load_ark(&anchors, "given ARK", o->trust_ark,
						  &ark_product, &err))) {
		fprintf(stderr, "snp-keybroker verify: %s\n", err.msg);
		evidence_free(&ev);
		return 2;
	}
	/* For choosing the VEK and for printing; snp_verify() parses the bytes itself. */
	if (!snp_report_parse(ev.report, ev.report_len, &parsed, NULL))
		report = &parsed;
	vek = pick_vek(&ev, report);
	in.report = ev.report;
	in.report_len = ev.report_len;
	in.ark = ev.der[SNP_CERT_ARK];
	in.ark_len = ev.der_len[SNP_CERT_ARK];
	in.ask = ev.der[SNP_CERT_ASK];
	in.ask_len = ev.der_len[SNP_CERT_ASK];
	in.vek = ev.der[vek];
	in.vek_len = ev.der_len[vek];
	in.product = o->product;
	in.now = o->at;
	in.anchors = o->trust_ark ? &anchors : NULL;
	ret = snp_verify(&in, &res);
	if (o->json)
		verify_print_json(stdout, o->report_path, report, &res, in.now);
	else
		verify_print_text(stdout, o->report_path, ev.report_len, report, &res, in.now);
	evidence_free(&ev);
	if (fflush(stdout))
		return 2;
	return ret ? 1 : 0;
}

/* YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, or @SECONDS. */
static int parse_time(const char *s, time_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	char *end;

	if (s[0] == '@') {
		long long v = strtoll(s + 1, &end, 10);

		if (end == s + 1 || *end || v < 0)
			return -EINVAL;
		*out = (time_t)v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -EINVAL;
	if (s[n] && (sscanf(s + n, "T%2d:%2d:%2dZ%n", &h, &mi, &sec, &n) != 3 ||
		     s[strlen(s) - 1] != 'Z' || strlen(s) != 20))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    h < 0 || mi < 0 || sec < 0)
		return -EINVAL;
	*out = (time_t)snp_civil_to_epoch(y, mo, d, h, mi, sec);
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("snp-keybroker verify: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("; see 'snp-keybroker --help'\n", stderr);
	return 2;
}

int broker_verify_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "certs", required_argument, NULL, 'c' },
		{ "cert-table", required_argument, NULL, 't' },
		{ "product", required_argument, NULL, 'p' },
		{ "at", required_argument, NULL, 'a' },
		{ "trust-ark", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_opts o = { .at = time(NULL) };
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.certs_dir = optarg; break;
		case 't': o.table_path = optarg; break;
		case 'r': o.trust_ark = optarg; break;
		case 'j': o.json = true; break;
		case 'p':
			o.product = snp_product_from_name(optarg, strlen(optarg));
			if (o.product == SNP_PRODUCT_UNKNOWN || strchr(optarg, '-'))
				return usage_error("--product '%s': use Milan, Genoa or Turin",
						   optarg);
			break;
		case 'a':
			if (parse_time(optarg, &o.at))
				return usage_error("--at '%s': use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS",
						   optarg);
			break;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", optind >= argc ? "REPORT is missing" :
				   "more than one REPORT given");
	if (!o.certs_dir && !o.table_path)
		return usage_error("%s", "give the certificates with --certs DIR or --cert-table FILE");
	o.report_path = argv[optind];
	return run_verify(&o);
}
