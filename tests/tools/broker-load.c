// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * broker-load: the load generator of tests/bench/broker-rate.
 *
 *   broker-load run --url URL --ca FILE [--connect-to ADDR] --volume UUID
 *                   --clients N --total M [--check-secret REGFILE]
 *                   [--cert-table every|first] [--timeout SECONDS] [--sim DIR]
 *	M full attestations against a running snp-keybroker, N at a time, each
 *	on a new TLS connection (proto_client_unseal: connect, handshake,
 *	challenge, report, unseal, open). Prints the rate and the latencies;
 *	exits 1 when any attestation failed, printing the first few errors.
 *   broker-load bound [--sim DIR]
 *	The public-key operations of one attestation, timed alone on one
 *	thread with the same mbedTLS, and what they allow on this machine.
 *   broker-load policy [--sim DIR]
 *	A broker policy (JSON) that admits the simulator's reports: its
 *	measurement, its product and its REPORTED_TCB as the minimum.
 *
 * Reports come from the simulator core in this process (snp/sim/sim.h),
 * not over a socket: the firmware's cost is the same ECDSA P-384 signature
 * either way, and it is counted (it runs on this machine's cores too).
 */
#define _GNU_SOURCE	/* CPU_COUNT */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/build_info.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "proto/client.h"
#include "proto/proto.h"
#include "snp/fdio.h"
#include "snp/sim/sim.h"
#include "tests/shared.h"

#define DEFAULT_SIM		TESTS_DIR "/data/sim"
#define TLS_DIR			TESTS_DIR "/data/tls"
#define TLS_HOST		"broker.test"
#define ERRORS_SHOWN		5
#define CLIENTS_MAX		4096
#define CLIENT_STACK		(1024 * 1024)
#define REGISTRATION_MAX	4096
#define BOUND_ROUNDS		5
#define BOUND_ROUND_SECONDS	0.2

/* The CPUs this process may run on: what client and broker share. */
static int cores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return (int)sysconf(_SC_NPROCESSORS_ONLN);
	return CPU_COUNT(&set);
}

static int open_sim(struct snp_sim **sim, const char *dir)
{
	struct snp_sim_config cfg;
	struct snp_err err = { 0 };

	snp_sim_config_init(&cfg);
	if (snp_sim_open(sim, dir, &cfg, &err)) {
		fprintf(stderr, "broker-load: simulator state %s: %s\n", dir, err.msg);
		return -1;
	}
	return 0;
}

/*
 * The firmware, shared by the clients: a few simulators, each behind its
 * lock (one signs with a shared ECP group, which mbedTLS writes to).
 */
struct firmware {
	struct snp_sim **sims;
	pthread_mutex_t *locks;
	size_t n;
};

static void firmware_close(struct firmware *fw)
{
	for (size_t i = 0; i < fw->n; i++) {
		snp_sim_close(fw->sims[i]);
		pthread_mutex_destroy(&fw->locks[i]);
	}
	free(fw->sims);
	free(fw->locks);
	memset(fw, 0, sizeof(*fw));
}

static int firmware_open(struct firmware *fw, const char *dir, size_t n)
{
	memset(fw, 0, sizeof(*fw));
	fw->sims = calloc(n, sizeof(*fw->sims));
	fw->locks = calloc(n, sizeof(*fw->locks));
	if (!fw->sims || !fw->locks)
		goto fail;
	for (; fw->n < n; fw->n++) {
		if (open_sim(&fw->sims[fw->n], dir))
			goto fail;
		pthread_mutex_init(&fw->locks[fw->n], NULL);
	}
	return 0;
fail:
	firmware_close(fw);
	return -1;
}

struct load {
	struct proto_client_opts opts;
	const char *volume;
	size_t clients, total;
	int timeout_ms;
	bool table_first;		/* only the warm-up sends the cert table */
	bool check_secret;
	struct proto_registration expected;
	struct firmware fw;

	atomic_size_t next;
	double *latency_ms;		/* by attestation */
	pthread_mutex_t errors_lock;
	size_t errors;
	char shown[ERRORS_SHOWN][512];
};

struct report_ctx {
	struct load *load;
	size_t slot;			/* which simulator */
	bool want_certs;
};

static int get_report(void *ctx, const uint8_t report_data[SNP_REPORT_DATA_SIZE],
		      uint8_t report[SNP_REPORT_SIZE], uint8_t **cert_table,
		      size_t *cert_table_len, struct snp_err *err)
{
	struct report_ctx *rc = ctx;
	struct firmware *fw = &rc->load->fw;
	struct snp_sim_response resp;
	int ret;

	pthread_mutex_lock(&fw->locks[rc->slot]);
	ret = snp_sim_get_report(fw->sims[rc->slot], report_data, 0, rc->want_certs, &resp, err);
	pthread_mutex_unlock(&fw->locks[rc->slot]);
	if (ret)
		return ret;
	if (resp.status != SNP_SIM_STATUS_SUCCESS) {
		ret = snp_errf(err, -EIO, "the simulator answered status 0x%x", resp.status);
		goto out;
	}
	memcpy(report, resp.report, SNP_REPORT_SIZE);
	*cert_table = resp.certs;
	*cert_table_len = resp.certs_len;
	resp.certs = NULL;
out:
	snp_sim_response_free(&resp);
	return ret;
}

/* One attestation, start to end; 0 or a negative errno with err set. */
static int attest(struct load *ld, struct report_ctx *rc, struct snp_err *err)
{
	struct proto_error refusal = { 0 };
	struct snp_deadline dl;
	uint8_t secret[PROTO_SECRET_MAX];
	size_t secret_len = 0;
	int ret;

	snp_deadline_start(&dl, ld->timeout_ms);
	ret = proto_client_unseal(&ld->opts, ld->volume, get_report, rc, &dl, secret,
				  &secret_len, &refusal, err);
	if (ret == -EACCES)
		snp_errf(err, ret, "refused: %d %s%s%s: %s", refusal.status, refusal.reason,
			 refusal.rule[0] ? " rule " : "", refusal.rule, refusal.message);
	else if (!ret && ld->check_secret &&
		 (secret_len != ld->expected.secret_len ||
		  !proto_ct_equal(secret, ld->expected.secret, secret_len)))
		ret = snp_errf(err, -EBADMSG,
			       "the secret opened (%zu bytes) is not the registration file's",
			       secret_len);
	mbedtls_platform_zeroize(secret, sizeof(secret));
	return ret;
}

static void record_error(struct load *ld, size_t i, const struct snp_err *err)
{
	pthread_mutex_lock(&ld->errors_lock);
	if (ld->errors < ERRORS_SHOWN)
		snprintf(ld->shown[ld->errors], sizeof(ld->shown[0]), "attestation %zu: %s", i,
			 err->msg[0] ? err->msg : "failed without a message");
	ld->errors++;
	pthread_mutex_unlock(&ld->errors_lock);
}

struct client {
	struct load *load;
	size_t index;
	pthread_t thread;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct load *ld = c->load;
	struct report_ctx rc = {
		.load = ld, .slot = c->index % ld->fw.n, .want_certs = !ld->table_first,
	};

	for (;;) {
		size_t i = atomic_fetch_add(&ld->next, 1);
		struct snp_err err = { 0 };
		double start;

		if (i >= ld->total)
			break;
		start = test_now_s();
		if (attest(ld, &rc, &err))
			record_error(ld, i, &err);
		ld->latency_ms[i] = (test_now_s() - start) * 1e3;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest latency that p percent of them do not exceed. */
static double percentile(const double *sorted, size_t n, unsigned int p)
{
	size_t rank = (n * p + 99) / 100;

	return sorted[rank ? rank - 1 : 0];
}

static void report_run(struct load *ld, double seconds)
{
	double *lat = ld->latency_ms;
	size_t n = ld->total;

	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("run: %zu attestations, %zu at a time, a new TLS connection each; "
	       "cert table %s\n", n, ld->clients,
	       ld->table_first ? "in the warm-up only (then the broker's VCEK cache)"
			       : "with every report");
	printf("  rate:    %.1f attestations/s (%.2f s)\n", (double)n / seconds, seconds);
	printf("  latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", percentile(lat, n, 50),
	       percentile(lat, n, 99), lat[n - 1]);
	printf("  errors:  %zu\n", ld->errors);
	for (size_t i = 0; i < ld->errors && i < ERRORS_SHOWN; i++)
		printf("  error: %s\n", ld->shown[i]);
}

/* The cert table goes out once, alone, so that the cache has the VCEK before the load. */
static int warm_up(struct load *ld)
{
	struct report_ctx rc = { .load = ld, .slot = 0, .want_certs = true };
	struct snp_err err = { 0 };

	if (!attest(ld, &rc, &err))
		return 0;
	fprintf(stderr, "broker-load: the warm-up attestation failed: %s\n", err.msg);
	return -1;
}

static int run_clients(struct load *ld)
{
	struct client *cl = calloc(ld->clients, sizeof(*cl));
	pthread_attr_t attr;
	size_t started;
	double start;
	int ret = -1;

	if (!cl)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CLIENT_STACK);
	start = test_now_s();
	for (started = 0; started < ld->clients; started++) {
		cl[started].load = ld;
		cl[started].index = started;
		if (pthread_create(&cl[started].thread, &attr, client_main, &cl[started])) {
			/* The threads started still run what is left, at a lower concurrency. */
			fprintf(stderr, "broker-load: could not start client thread %zu\n", started);
			break;
		}
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(cl[i].thread, NULL);
	if (started) {
		report_run(ld, test_now_s() - start);
		ret = ld->errors || started < ld->clients ? -1 : 0;
	}
	pthread_attr_destroy(&attr);
	free(cl);
	return ret;
}

static int load_registration(struct load *ld, const char *path)
{
	struct snp_err err = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = snp_read_file(path, REGISTRATION_MAX, &buf, &len, &err);

	if (!ret)
		ret = proto_registration_decode((const char *)buf, len, &ld->expected, &err);
	if (!ret && strcmp(ld->expected.volume, ld->volume))
		ret = snp_errf(&err, -EINVAL, "it is for volume %s, not %s",
			       ld->expected.volume, ld->volume);
	if (ret)
		fprintf(stderr, "broker-load: --check-secret %s: %s\n", path, err.msg);
	if (buf)
		mbedtls_platform_zeroize(buf, len);
	free(buf);
	ld->check_secret = !ret;
	return ret;
}

static bool parse_count(const char *text, size_t max, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v == 0 || v > max)
		return false;
	*out = v;
	return true;
}

enum run_opt { OPT_URL = 1, OPT_CA, OPT_CONNECT_TO, OPT_VOLUME, OPT_CLIENTS, OPT_TOTAL,
	       OPT_CHECK_SECRET, OPT_CERT_TABLE, OPT_TIMEOUT, OPT_SIM };

static const struct option run_options[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "connect-to", required_argument, NULL, OPT_CONNECT_TO },
	{ "volume", required_argument, NULL, OPT_VOLUME },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "total", required_argument, NULL, OPT_TOTAL },
	{ "check-secret", required_argument, NULL, OPT_CHECK_SECRET },
	{ "cert-table", required_argument, NULL, OPT_CERT_TABLE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "sim", required_argument, NULL, OPT_SIM },
	{ 0 },
};

struct run_args {
	const char *check_secret;
	const char *sim;
};

static int parse_run_opt(struct load *ld, struct run_args *a, int opt, const char *val)
{
	size_t n;

	switch (opt) {
	case OPT_URL: ld->opts.url = val; return 0;
	case OPT_CA: ld->opts.ca_file = val; return 0;
	case OPT_CONNECT_TO: ld->opts.connect_addr = val; return 0;
	case OPT_VOLUME: ld->volume = val; return 0;
	case OPT_CLIENTS: return parse_count(val, CLIENTS_MAX, &ld->clients) ? 0 : -1;
	case OPT_TOTAL: return parse_count(val, SIZE_MAX / sizeof(double), &ld->total) ? 0 : -1;
	case OPT_CHECK_SECRET: a->check_secret = val; return 0;
	case OPT_SIM: a->sim = val; return 0;
	case OPT_TIMEOUT:
		if (!parse_count(val, 3600, &n))
			return -1;
		ld->timeout_ms = (int)n * 1000;
		return 0;
	case OPT_CERT_TABLE:
		if (strcmp(val, "every") && strcmp(val, "first"))
			return -1;
		ld->table_first = !strcmp(val, "first");
		return 0;
	}
	return -1;
}

static int parse_run(int argc, char **argv, struct load *ld, struct run_args *a)
{
	int opt;

	ld->timeout_ms = 60 * 1000;
	while ((opt = getopt_long(argc, argv, "", run_options, NULL)) != -1) {
		if (parse_run_opt(ld, a, opt, optarg)) {
			fprintf(stderr, "broker-load: bad option %s\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc || !ld->opts.url || !ld->opts.ca_file || !ld->volume ||
	    !ld->clients || !ld->total) {
		fprintf(stderr, "broker-load run: --url, --ca, --volume, --clients and --total "
				"are required\n");
		return -1;
	}
	if (ld->clients > ld->total)
		ld->clients = ld->total;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct run_args a = { .sim = DEFAULT_SIM };
	struct load *ld = calloc(1, sizeof(*ld));
	int ret = 2;

	if (!ld)
		return 2;
	pthread_mutex_init(&ld->errors_lock, NULL);
	if (parse_run(argc, argv, ld, &a))
		goto out;
	if (a.check_secret && load_registration(ld, a.check_secret))
		goto out;
	ld->latency_ms = calloc(ld->total, sizeof(*ld->latency_ms));
	if (!ld->latency_ms || firmware_open(&ld->fw, a.sim, cores() > 0 ? (size_t)cores() : 1))
		goto out;
	ret = 1;
	if (ld->table_first && warm_up(ld))
		goto out;
	ret = run_clients(ld) ? 1 : 0;
out:
	firmware_close(&ld->fw);
	free(ld->latency_ms);
	mbedtls_platform_zeroize(&ld->expected, sizeof(ld->expected));
	pthread_mutex_destroy(&ld->errors_lock);
	free(ld);
	return ret;
}

/*
 * The crypto bound: each public-key operation one attestation needs, timed
 * alone on one thread, called the way the code under load calls it (PSA
 * for TLS 1.3's ECDHE and for sealing, the pk layer for TLS signatures,
 * mbedtls_ecdsa_verify for the report as snp/verify.c does, the simulator
 * for the firmware's signature).
 */
struct bound {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	psa_key_id_t ecdh_key;
	uint8_t peer_pub[PROTO_PUBKEY_SIZE];
	mbedtls_pk_context server_key;
	mbedtls_x509_crt server_crt, ca_crt;
	uint8_t cv_hash[48];			/* what CertificateVerify signs: a SHA-384 */
	uint8_t cv_sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t cv_sig_len;
	mbedtls_ecp_group grp;
	mbedtls_ecp_point vek;
	mbedtls_mpi vek_d, r, s;		/* vek_d: unused, export wants it */
	uint8_t report_hash[48];
	struct snp_sim *sim;
	uint8_t report_data[SNP_REPORT_DATA_SIZE];
};

static psa_key_attributes_t p256_attributes(void)
{
	psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;

	psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
	psa_set_key_bits(&attr, 256);
	psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
	psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
	return attr;
}

/* A fresh P-256 key and its public share: psa_generate_key then export. */
static int p256_generate(psa_key_id_t *id, uint8_t pub[PROTO_PUBKEY_SIZE])
{
	psa_key_attributes_t attr = p256_attributes();
	size_t len = 0;

	*id = PSA_KEY_ID_NULL;
	if (psa_generate_key(&attr, id) != PSA_SUCCESS)
		return -1;
	if (psa_export_public_key(*id, pub, PROTO_PUBKEY_SIZE, &len) != PSA_SUCCESS ||
	    len != PROTO_PUBKEY_SIZE)
		return -1;
	return 0;
}

static int op_keygen(struct bound *b)
{
	uint8_t pub[PROTO_PUBKEY_SIZE];
	psa_key_id_t id;
	int ret = p256_generate(&id, pub);

	(void)b;
	psa_destroy_key(id);
	return ret;
}

static int op_ecdh(struct bound *b)
{
	uint8_t z[PROTO_Z_SIZE];
	size_t len = 0;
	psa_status_t st = psa_raw_key_agreement(PSA_ALG_ECDH, b->ecdh_key, b->peer_pub,
						PROTO_PUBKEY_SIZE, z, sizeof(z), &len);

	mbedtls_platform_zeroize(z, sizeof(z));
	return st == PSA_SUCCESS && len == PROTO_Z_SIZE ? 0 : -1;
}

static int op_cv_sign(struct bound *b)
{
	return mbedtls_pk_sign(&b->server_key, MBEDTLS_MD_SHA384, b->cv_hash, sizeof(b->cv_hash),
			       b->cv_sig, sizeof(b->cv_sig), &b->cv_sig_len,
			       mbedtls_ctr_drbg_random, &b->drbg) ? -1 : 0;
}

static int op_cv_verify(struct bound *b)
{
	return mbedtls_pk_verify(&b->server_crt.pk, MBEDTLS_MD_SHA384, b->cv_hash,
				 sizeof(b->cv_hash), b->cv_sig, b->cv_sig_len) ? -1 : 0;
}

static int op_chain(struct bound *b)
{
	uint32_t flags = 0;

	return mbedtls_x509_crt_verify(&b->server_crt, &b->ca_crt, NULL, TLS_HOST, &flags,
				       NULL, NULL) ? -1 : 0;
}

static int op_report_verify(struct bound *b)
{
	return mbedtls_ecdsa_verify(&b->grp, b->report_hash, sizeof(b->report_hash), &b->vek,
				    &b->r, &b->s) ? -1 : 0;
}

static int op_report_sign(struct bound *b)
{
	struct snp_sim_response resp;
	struct snp_err err = { 0 };
	int ret = snp_sim_get_report(b->sim, b->report_data, 0, false, &resp, &err);

	if (!ret && resp.status != SNP_SIM_STATUS_SUCCESS)
		ret = -1;
	snp_sim_response_free(&resp);
	return ret;
}

struct bound_op {
	const char *name;
	int (*fn)(struct bound *b);
	unsigned int server, client;	/* how often one attestation runs it, on each side */
};

static const struct bound_op bound_ops[] = {
	{ "P-256 keygen (PSA: ECDHE; sealing/agent key)", op_keygen, 2, 2 },
	{ "P-256 ECDH (PSA: ECDHE; seal/open)", op_ecdh, 2, 2 },
	{ "ECDSA P-384 sign (CertificateVerify)", op_cv_sign, 1, 0 },
	{ "ECDSA P-384 verify (CertificateVerify)", op_cv_verify, 0, 1 },
	{ "ECDSA P-256 verify (CA signature, crt_verify)", op_chain, 0, 1 },
	{ "ECDSA P-384 verify (report, VCEK)", op_report_verify, 1, 0 },
	{ "ECDSA P-384 sign (firmware: report, snp-sim)", op_report_sign, 0, 1 },
};
#define BOUND_OPS (sizeof(bound_ops) / sizeof(bound_ops[0]))

/* The report's signature and the VCEK's point, as snp/verify.c checks them. */
static int bound_report_setup(struct bound *b)
{
	struct snp_sim_response resp;
	struct snp_report report;
	struct snp_err err = { 0 };
	mbedtls_x509_crt vek;
	const uint8_t *der;
	size_t der_len;
	int ret;

	mbedtls_x509_crt_init(&vek);
	ret = snp_sim_get_report(b->sim, b->report_data, 0, false, &resp, &err) ||
	      resp.status != SNP_SIM_STATUS_SUCCESS ||
	      snp_report_parse(resp.report, resp.report_len, &report, &err);
	snp_sim_response_free(&resp);
	if (ret)
		goto out;
	snp_sim_cert(b->sim, SNP_SIM_CERT_VEK, &der, &der_len);
	ret = mbedtls_x509_crt_parse_der(&vek, der, der_len) ||
	      mbedtls_pk_get_type(&vek.pk) != MBEDTLS_PK_ECKEY ||
	      mbedtls_ecp_export(mbedtls_pk_ec(vek.pk), &b->grp, &b->vek_d, &b->vek) ||
	      mbedtls_mpi_read_binary(&b->r, report.sig_r, SNP_P384_SIZE) ||
	      mbedtls_mpi_read_binary(&b->s, report.sig_s, SNP_P384_SIZE) ||
	      mbedtls_sha512(report.raw, SNP_REPORT_SIGNED_SIZE, b->report_hash, 1);
out:
	if (ret)
		fprintf(stderr, "broker-load: no report to time the verification with%s%s\n",
			err.msg[0] ? ": " : "", err.msg);
	mbedtls_x509_crt_free(&vek);
	return ret ? -1 : 0;
}

static int bound_tls_setup(struct bound *b)
{
	psa_key_id_t peer = PSA_KEY_ID_NULL;
	int ret;

	ret = mbedtls_ctr_drbg_seed(&b->drbg, mbedtls_entropy_func, &b->entropy, NULL, 0) ||
	      mbedtls_ctr_drbg_random(&b->drbg, b->cv_hash, sizeof(b->cv_hash)) ||
	      mbedtls_ctr_drbg_random(&b->drbg, b->report_data, sizeof(b->report_data)) ||
	      mbedtls_pk_parse_keyfile(&b->server_key, TLS_DIR "/server.key", NULL,
				       mbedtls_ctr_drbg_random, &b->drbg) ||
	      mbedtls_x509_crt_parse_file(&b->server_crt, TLS_DIR "/server.pem") ||
	      mbedtls_x509_crt_parse_file(&b->ca_crt, TLS_DIR "/ca.pem") ||
	      p256_generate(&b->ecdh_key, b->peer_pub) ||
	      p256_generate(&peer, b->peer_pub) ||
	      op_cv_sign(b) || op_cv_verify(b) || op_chain(b) || op_ecdh(b);
	psa_destroy_key(peer);
	if (ret)
		fprintf(stderr, "broker-load: the TLS fixtures in " TLS_DIR
				" do not load or do not verify\n");
	return ret ? -1 : 0;
}

static void bound_free(struct bound *b)
{
	psa_destroy_key(b->ecdh_key);
	mbedtls_pk_free(&b->server_key);
	mbedtls_x509_crt_free(&b->server_crt);
	mbedtls_x509_crt_free(&b->ca_crt);
	mbedtls_ecp_group_free(&b->grp);
	mbedtls_ecp_point_free(&b->vek);
	mbedtls_mpi_free(&b->vek_d);
	mbedtls_mpi_free(&b->r);
	mbedtls_mpi_free(&b->s);
	mbedtls_ctr_drbg_free(&b->drbg);
	mbedtls_entropy_free(&b->entropy);
	snp_sim_close(b->sim);
}

static void bound_init(struct bound *b)
{
	memset(b, 0, sizeof(*b));
	mbedtls_entropy_init(&b->entropy);
	mbedtls_ctr_drbg_init(&b->drbg);
	mbedtls_pk_init(&b->server_key);
	mbedtls_x509_crt_init(&b->server_crt);
	mbedtls_x509_crt_init(&b->ca_crt);
	mbedtls_ecp_group_init(&b->grp);
	mbedtls_ecp_point_init(&b->vek);
	mbedtls_mpi_init(&b->vek_d);
	mbedtls_mpi_init(&b->r);
	mbedtls_mpi_init(&b->s);
}

/* Seconds per call of op over about BOUND_ROUND_SECONDS, or -1 when it failed. */
static double time_op(const struct bound_op *op, struct bound *b)
{
	double start = test_now_s(), elapsed;
	long n = 0;

	do {
		for (int i = 0; i < 4; i++, n++)
			if (op->fn(b))
				return -1;
		elapsed = test_now_s() - start;
	} while (elapsed < BOUND_ROUND_SECONDS);
	return elapsed / (double)n;
}

static void print_bound(const double best[BOUND_OPS])
{
	double server = 0, client = 0;
	int n = cores();

	printf("bound: the public-key operations of one attestation, timed alone on one "
	       "thread, mbedTLS " MBEDTLS_VERSION_STRING ", best of %d rounds of %.2f s\n",
	       BOUND_ROUNDS, BOUND_ROUND_SECONDS);
	printf("  %-48s %8s %7s %7s\n", "operation", "ms/op", "server", "client");
	for (size_t i = 0; i < BOUND_OPS; i++) {
		printf("  %-48s %8.3f %7u %7u\n", bound_ops[i].name, best[i] * 1e3,
		       bound_ops[i].server, bound_ops[i].client);
		server += best[i] * bound_ops[i].server;
		client += best[i] * bound_ops[i].client;
	}
	printf("  per attestation: server %.3f ms, client %.3f ms, both %.3f ms\n",
	       server * 1e3, client * 1e3, (server + client) * 1e3);
	printf("  bound: %d cores / %.3f ms = %.1f attestations/s (server alone: %.1f/s)\n",
	       n, (server + client) * 1e3, n / (server + client), n / server);
}

static const char *sim_arg(int argc, char **argv)
{
	if (argc == 1)
		return DEFAULT_SIM;
	if (argc == 3 && !strcmp(argv[1], "--sim"))
		return argv[2];
	fprintf(stderr, "broker-load %s: the only option is --sim DIR\n", argv[0]);
	return NULL;
}

static int cmd_bound(int argc, char **argv)
{
	const char *dir = sim_arg(argc, argv);
	double best[BOUND_OPS];
	struct bound b;
	int ret = 1;

	if (!dir)
		return 2;
	bound_init(&b);
	if (open_sim(&b.sim, dir) || bound_tls_setup(&b) || bound_report_setup(&b))
		goto out;
	for (size_t i = 0; i < BOUND_OPS; i++)
		best[i] = -1;
	for (int round = 0; round < BOUND_ROUNDS; round++) {
		for (size_t i = 0; i < BOUND_OPS; i++) {
			double t = time_op(&bound_ops[i], &b);

			if (t < 0) {
				fprintf(stderr, "broker-load: %s failed\n", bound_ops[i].name);
				goto out;
			}
			if (best[i] < 0 || t < best[i])
				best[i] = t;
		}
	}
	print_bound(best);
	ret = 0;
out:
	bound_free(&b);
	return ret;
}

/* Products, measurement and minimum TCB: what the simulator's reports carry. */
static int cmd_policy(int argc, char **argv)
{
	const char *dir = sim_arg(argc, argv);
	char measurement[2 * SNP_MEASUREMENT_SIZE + 1];
	const struct snp_report *tmpl;
	enum snp_product product;
	struct snp_sim *sim;
	struct snp_tcb tcb;

	if (!dir)
		return 2;
	if (open_sim(&sim, dir))
		return 1;
	tmpl = snp_sim_template(sim);
	product = snp_sim_product(sim);
	snp_tcb_decode(tmpl->reported_tcb, product, &tcb);
	snp_hex(measurement, tmpl->measurement, SNP_MEASUREMENT_SIZE);
	printf("{\"version\":1,\"products\":[\"%s\"],\"measurements\":[\"%s\"],"
	       "\"min_tcb\":{\"%s\":{", snp_product_name(product), measurement,
	       snp_product_name(product));
	if (product == SNP_PRODUCT_TURIN)
		printf("\"fmc\":%u,", tcb.fmc);
	printf("\"bootloader\":%u,\"tee\":%u,\"snp\":%u,\"microcode\":%u}}}\n",
	       tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode);
	snp_sim_close(sim);
	return 0;
}

static void usage(void)
{
	fputs("usage: broker-load run --url URL --ca FILE [--connect-to ADDR] --volume UUID\n"
	      "                       --clients N --total M [--check-secret REGFILE]\n"
	      "                       [--cert-table every|first] [--timeout SECONDS] [--sim DIR]\n"
	      "       broker-load bound [--sim DIR]\n"
	      "       broker-load policy [--sim DIR]\n", stderr);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	/* A broker that closes first must give an error, not a SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (psa_crypto_init() != PSA_SUCCESS) {
		fprintf(stderr, "broker-load: PSA crypto did not initialise\n");
		return 1;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bound"))
		return cmd_bound(argc - 1, argv + 1);
	if (!strcmp(argv[1], "policy"))
		return cmd_policy(argc - 1, argv + 1);
	usage();
	return 2;
}
