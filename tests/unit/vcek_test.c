// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * broker/vcek.c: the agent's table, the disk cache and AMD KDS, the last
 * played by build/bin/fake-kds (real TLS on loopback, VCEKs issued by the
 * simulator's ASK). Reports come from the simulator; every chain found is
 * verified with the report under the simulator's pinned ARK.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/vcek.h"
#include "snp/deadline.h"
#include "snp/sim/sim.h"
#include "snp/verify.h"
#include "tests/harness.h"

#define SIM_MILAN	TESTS_DIR "/data/sim"
#define SIM_TURIN	TESTS_DIR "/data/sim-turin"
#define TLS_CA		TESTS_DIR "/data/tls/ca.pem"

enum { KDS_START_MS = 10000, TIMEOUT_MS = 3000, LOG_MAX = 64 * 1024 };

/* A report from the simulator state dir, as configured, and its table. */
struct evidence {
	struct snp_report report;
	uint8_t *table;
	size_t table_len;
	struct snp_anchors anchors;	/* the simulator's ARK pinned */
	uint8_t *ark, *ask, *vek;	/* the simulator's own DER */
	size_t ark_len, ask_len, vek_len;
};

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len);

	if (d)
		memcpy(d, p, len);
	return d;
}

static void sim_cert_dup(struct snp_sim *sim, enum snp_sim_cert_id id, uint8_t **der,
			 size_t *len)
{
	const uint8_t *p;

	snp_sim_cert(sim, id, &p, len);
	*der = dup_bytes(p, *len);
}

static int evidence_get(struct evidence *ev, const char *dir, const char *config)
{
	struct snp_sim_response resp = { 0 };
	uint8_t data[SNP_REPORT_DATA_SIZE] = { 1 };
	struct snp_sim_config cfg;
	struct snp_err err = { 0 };
	struct snp_sim *sim = NULL;
	int ret;

	memset(ev, 0, sizeof(*ev));
	snp_sim_config_init(&cfg);
	ret = snp_sim_config_parse(&cfg, config, strlen(config), "test.conf", &err);
	if (!ret)
		ret = snp_sim_open(&sim, dir, &cfg, &err);
	if (!ret)
		ret = snp_sim_get_report(sim, data, 0, true, &resp, &err);
	if (!ret)
		ret = snp_report_parse(resp.report, resp.report_len, &ev->report, &err);
	if (!ret) {
		sim_cert_dup(sim, SNP_SIM_CERT_ARK, &ev->ark, &ev->ark_len);
		sim_cert_dup(sim, SNP_SIM_CERT_ASK, &ev->ask, &ev->ask_len);
		sim_cert_dup(sim, SNP_SIM_CERT_VEK, &ev->vek, &ev->vek_len);
		snp_anchors_init(&ev->anchors, "simulator");
		ret = snp_anchors_pin_der(&ev->anchors, snp_sim_product(sim), SNP_ROOT_ARK,
					  ev->ark, ev->ark_len, &err);
	}
	if (!ret && resp.certs_len) {
		ev->table = dup_bytes(resp.certs, resp.certs_len);
		ev->table_len = resp.certs_len;
	}
	if (ret)
		fprintf(stderr, "    simulator: %s\n", err.msg);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
	return ret;
}

static void evidence_free(struct evidence *ev)
{
	free(ev->table);
	free(ev->ark);
	free(ev->ask);
	free(ev->vek);
}

/* The report verifies with chain under the simulator's root. */
static bool chain_verifies(const struct evidence *ev, const struct vcek_chain *chain)
{
	struct snp_verify_input in = {
		.parsed = &ev->report, .report = ev->report.raw, .report_len = SNP_REPORT_SIZE,
		.ark = chain->ark, .ark_len = chain->ark_len,
		.ask = chain->ask, .ask_len = chain->ask_len,
		.vek = chain->vek, .vek_len = chain->vek_len,
		.product = chain->product, .now = time(NULL), .anchors = &ev->anchors,
	};
	struct snp_verify_result res;
	int ret = snp_verify(&in, &res);

	if (ret)
		fprintf(stderr, "    verify: %s: %s\n", snp_check_name(res.failed), res.msg);
	return ret == 0;
}

/* build/bin/fake-kds, run with the given options; stopped by kds_stop. */
struct kds {
	pid_t pid;
	char url[64];
	char log[256];
};

static const char *fake_kds_path(void)
{
	static char path[4096];
	const char *build = getenv("BUILD");

	snprintf(path, sizeof(path), "%s/bin/fake-kds", build ? build : TESTS_DIR "/../build");
	if (access(path, X_OK))
		test_skip("%s is not built (make tools)", path);
	return path;
}

static int read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	int port = 0;

	if (f) {
		if (fscanf(f, "%d", &port) != 1)
			port = 0;
		fclose(f);
	}
	return port;
}

/* fake-kds on state, with one more option (opt val) when opt is set: its port, or -1. */
static int kds_start(struct kds *k, const char *state, const char *opt, const char *val)
{
	const char *prog = fake_kds_path();
	char port_file[256];
	struct snp_deadline dl;
	int port = 0;

	snprintf(port_file, sizeof(port_file), "%s", test_path("kds.port"));
	snprintf(k->log, sizeof(k->log), "%s", test_path("kds.log"));
	k->pid = fork();
	if (k->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(prog, prog, "--state", state, "--listen", "127.0.0.1:0", "--port-file",
		      port_file, "--log", k->log, opt, val, (char *)NULL);
		_exit(127);
	}
	if (k->pid < 0)
		return -1;
	snp_deadline_start(&dl, KDS_START_MS);
	while (!(port = read_port(port_file)) && snp_deadline_left_ms(&dl))
		usleep(20000);
	return port ? port : -1;
}

static void kds_stop(struct kds *k)
{
	int status;

	if (k->pid <= 0)
		return;
	kill(k->pid, SIGTERM);
	waitpid(k->pid, &status, 0);
	k->pid = 0;
}

/* Lines of the KDS log that contain what. */
static size_t kds_requests(const struct kds *k, const char *what)
{
	char line[1024];
	size_t n = 0;
	FILE *f = fopen(k->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/* One test's world: a report, perhaps a fake KDS, the options, what was found. */
struct fx {
	struct evidence ev;
	struct kds k;
	struct vcek_opts o;
	char cache_dir[4096];
	struct vcek_chain chain;
	struct snp_err err;
	int64_t elapsed_ms;
};

/* A report from state as configured; offline, with an empty cache. */
static int fx_open(struct fx *f, const char *state, const char *config)
{
	memset(f, 0, sizeof(*f));
	if (evidence_get(&f->ev, state, config))
		return -1;
	snprintf(f->cache_dir, sizeof(f->cache_dir), "%s", test_path("vcek"));
	f->o = (struct vcek_opts){
		.cache_dir = f->cache_dir,
		.kds_ca_file = TLS_CA,
		.kds_connect_addr = "127.0.0.1",
		.kds_timeout_ms = TIMEOUT_MS,
		.kds_retries = 4,
		.kds_backoff_ms = 10,
		.kds_backoff_max_ms = 1500,
		.anchors = &f->ev.anchors,
	};
	return 0;
}

/* KDS on, at https://broker.test:port. */
static void fx_kds_port(struct fx *f, int port)
{
	snprintf(f->k.url, sizeof(f->k.url), "https://broker.test:%d", port);
	f->o.kds_enabled = true;
	f->o.kds_url = f->k.url;
}

/* KDS on, at a fake KDS for state (with one more option when opt is set). */
static int fx_kds(struct fx *f, const char *state, const char *opt, const char *val)
{
	int port = kds_start(&f->k, state, opt, val);

	fx_kds_port(f, port);
	return port > 0 ? 0 : -1;
}

/* vcek_find with fresh sources (nothing in memory), timed. */
static int fx_find(struct fx *f, bool with_table)
{
	struct vcek_sources *vs;
	int64_t t0 = snp_now_ms();
	int ret;

	vcek_chain_free(&f->chain);
	memset(&f->err, 0, sizeof(f->err));
	ret = vcek_sources_new(&vs, &f->o, &f->err);
	if (!ret)
		ret = vcek_find(vs, &f->ev.report, SNP_PRODUCT_UNKNOWN,
				with_table ? f->ev.table : NULL, with_table ? f->ev.table_len : 0,
				&f->chain, &f->err);
	vcek_sources_free(vs);
	f->elapsed_ms = snp_now_ms() - t0;
	return ret;
}

/* fx_find, expected to succeed: says why when it did not. */
static bool fx_found(struct fx *f, bool with_table)
{
	int ret = fx_find(f, with_table);

	if (ret)
		fprintf(stderr, "    vcek_find: %s\n", f->err.msg);
	return ret == 0;
}

static void fx_close(struct fx *f)
{
	kds_stop(&f->k);
	vcek_chain_free(&f->chain);
	evidence_free(&f->ev);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* vcek/PRODUCT/HWID/TCB.der for the report. */
static const char *vcek_file(const struct fx *f)
{
	static char path[4096 + 256];
	enum snp_product product = f->ev.report.cpuid_product;
	char hwid[2 * SNP_CHIP_ID_SIZE + 1];

	snp_hex(hwid, f->ev.report.chip_id, snp_chip_id_len(product));
	snprintf(path, sizeof(path), "%s/%s/%s/%016llx.der", f->cache_dir,
		 snp_product_name(product), hwid, (unsigned long long)f->ev.report.reported_tcb);
	return path;
}

static bool same(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	return a_len == b_len && !memcmp(a, b, a_len);
}

/* The chain found is the simulator's own ARK, ASK and VEK. */
static bool found_sims_chain(const struct fx *f)
{
	const struct vcek_chain *c = &f->chain;

	return same(c->ark, c->ark_len, f->ev.ark, f->ev.ark_len) &&
	       same(c->ask, c->ask_len, f->ev.ask, f->ev.ask_len) &&
	       same(c->vek, c->vek_len, f->ev.vek, f->ev.vek_len);
}

TEST(vcek_from_the_agents_table)
{
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	REQUIRE(f.ev.table_len > 0);
	CHECK(fx_found(&f, true));
	CHECK(f.chain.source == VCEK_FROM_TABLE);
	CHECK_STR(vcek_source_name(f.chain.source), "cert-table");
	CHECK(f.chain.product == SNP_PRODUCT_MILAN);
	CHECK(found_sims_chain(&f));
	CHECK(chain_verifies(&f.ev, &f.chain));
	/* Found is not verified: nothing is cached before vcek_cache_put. */
	CHECK(!file_exists(vcek_file(&f)));
	fx_close(&f);
}

TEST(vcek_cache_hit_after_put_makes_no_kds_request)
{
	struct vcek_sources *vs = NULL;
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	REQUIRE(fx_kds(&f, SIM_MILAN, NULL, NULL) == 0);
	REQUIRE(vcek_sources_new(&vs, &f.o, &f.err) == 0);
	CHECK(vcek_find(vs, &f.ev.report, SNP_PRODUCT_UNKNOWN, f.ev.table, f.ev.table_len,
			&f.chain, &f.err) == 0);
	CHECK(chain_verifies(&f.ev, &f.chain));
	CHECK(vcek_cache_put(vs, &f.ev.report, SNP_PRODUCT_UNKNOWN, &f.chain, &f.err) == 0);
	vcek_sources_free(vs);
	CHECK(file_exists(vcek_file(&f)));
	CHECK(file_exists(test_path("vcek/Milan/cert_chain.pem")));

	/* A new broker (nothing in memory), a report without a table. */
	CHECK(fx_found(&f, false));
	CHECK(f.chain.source == VCEK_FROM_CACHE);
	CHECK(found_sims_chain(&f));
	CHECK(chain_verifies(&f.ev, &f.chain));
	kds_stop(&f.k);
	CHECK(kds_requests(&f.k, "GET") == 0);
	fx_close(&f);
}

TEST(vcek_offline_with_an_empty_cache_says_where_it_looked)
{
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	CHECK(fx_find(&f, false) == -ENOENT);
	CHECK(strstr(f.err.msg, "in neither the certificate table nor the cache") != NULL);
	CHECK(strstr(f.err.msg, "KDS is off") != NULL);
	CHECK(f.chain.vek == NULL);
	fx_close(&f);
}

/* Only the table can give it: not found without, found and verified with. */
static void check_table_only(const char *config, const char *why)
{
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, config) == 0);
	fx_kds_port(&f, 1);	/* on, but nothing to ask it: no request is made */
	CHECK(fx_find(&f, false) == -ENOENT);
	CHECK(strstr(f.err.msg, why) != NULL);
	CHECK(fx_found(&f, true));
	CHECK(f.chain.source == VCEK_FROM_TABLE);
	CHECK(chain_verifies(&f.ev, &f.chain));
	fx_close(&f);
}

TEST(vcek_masked_chip_id_cannot_be_looked_up)
{
	check_table_only("mask_chip_key = yes\n", "MASK_CHIP_KEY");
}

TEST(vcek_vlek_comes_only_from_the_table)
{
	check_table_only("signing_key = vlek\n", "VLEK");
}

/* From KDS, verified, cached: a second lookup asks nothing. */
static void check_kds_fetch(const char *state, enum snp_product product)
{
	struct fx f;

	REQUIRE(fx_open(&f, state, "") == 0);
	REQUIRE(fx_kds(&f, state, NULL, NULL) == 0);
	CHECK(fx_found(&f, false));
	CHECK(f.chain.source == VCEK_FROM_KDS);
	CHECK(f.chain.product == product);
	/* KDS issued a VCEK for the key the simulator signs with. */
	CHECK(chain_verifies(&f.ev, &f.chain));
	CHECK(kds_requests(&f.k, "cert_chain 200") == 1);
	CHECK(kds_requests(&f.k, "SPL=") == 1);
	CHECK(file_exists(vcek_file(&f)));

	CHECK(fx_found(&f, false));
	CHECK(f.chain.source == VCEK_FROM_CACHE);
	CHECK(chain_verifies(&f.ev, &f.chain));
	kds_stop(&f.k);
	CHECK(kds_requests(&f.k, "GET") == 2);
	fx_close(&f);
}

TEST(vcek_kds_milan)
{
	check_kds_fetch(SIM_MILAN, SNP_PRODUCT_MILAN);
}

TEST(vcek_kds_turin)
{
	check_kds_fetch(SIM_TURIN, SNP_PRODUCT_TURIN);
}

TEST(vcek_kds_url_has_the_tcb_and_hwid)
{
	char want[512], hwid[2 * SNP_CHIP_ID_SIZE_TURIN + 1];
	struct fx f;

	REQUIRE(fx_open(&f, SIM_TURIN, "reported_tcb = fmc=3 bl=1 tee=2 snp=4 ucode=200\n") == 0);
	REQUIRE(fx_kds(&f, SIM_TURIN, NULL, NULL) == 0);
	CHECK(fx_found(&f, false));
	CHECK(f.chain.source == VCEK_FROM_KDS && chain_verifies(&f.ev, &f.chain));
	snp_hex(hwid, f.ev.report.chip_id, SNP_CHIP_ID_SIZE_TURIN);
	snprintf(want, sizeof(want),
		 "GET /vcek/v1/Turin/%s?fmcSPL=3&blSPL=1&teeSPL=2&snpSPL=4&ucodeSPL=200 200", hwid);
	CHECK(kds_requests(&f.k, want) == 1);
	fx_close(&f);
}

TEST(vcek_kds_429_twice_then_success_after_retry_after)
{
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	REQUIRE(fx_kds(&f, SIM_MILAN, "--throttle", "2") == 0);
	CHECK(fx_found(&f, false));
	CHECK(f.chain.source == VCEK_FROM_KDS && chain_verifies(&f.ev, &f.chain));
	/* Retry-After: 1 twice, though the backoff alone would be 10 + 20 ms. */
	CHECK(f.elapsed_ms >= 2000);
	CHECK(f.elapsed_ms < 2000 + 4 * TIMEOUT_MS);
	CHECK(kds_requests(&f.k, " 429") == 2);
	CHECK(kds_requests(&f.k, " 200") == 2);
	fx_close(&f);
}

TEST(vcek_kds_503_is_retried_after_a_doubling_backoff)
{
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	REQUIRE(fx_kds(&f, SIM_MILAN, "--busy", "3") == 0);
	f.o.kds_backoff_ms = 200;
	f.o.kds_backoff_max_ms = 300;
	CHECK(fx_found(&f, false));
	CHECK(f.chain.source == VCEK_FROM_KDS && chain_verifies(&f.ev, &f.chain));
	/* No Retry-After: 200, then 400 capped at 300, then 300 ms. */
	CHECK(f.elapsed_ms >= 800);
	CHECK(f.elapsed_ms < 800 + 4 * TIMEOUT_MS);
	CHECK(kds_requests(&f.k, " 503") == 3);
	fx_close(&f);
}

TEST(vcek_kds_429_forever_is_eagain_within_the_bound)
{
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	REQUIRE(fx_kds(&f, SIM_MILAN, "--throttle", "1000") == 0);
	f.o.kds_retries = 2;
	f.o.kds_backoff_max_ms = 300;	/* caps Retry-After: 1 */
	CHECK(fx_find(&f, false) == -EAGAIN);
	CHECK(strstr(f.err.msg, "429") != NULL);
	CHECK(f.elapsed_ms >= 2 * 300);
	CHECK(f.elapsed_ms < 2 * 300 + 3 * TIMEOUT_MS);
	CHECK(kds_requests(&f.k, " 429") == 3);
	CHECK(!file_exists(vcek_file(&f)));
	fx_close(&f);
}

TEST(vcek_kds_404_for_an_unknown_chip)
{
	char config[160] = "chip_id = ";
	struct fx f;

	/* A chip the fake KDS (the simulator's chip) does not know. */
	for (int i = 0; i < 8; i++)
		strcat(config, "1122334455667788");
	strcat(config, "\n");
	REQUIRE(fx_open(&f, SIM_MILAN, config) == 0);
	REQUIRE(fx_kds(&f, SIM_MILAN, NULL, NULL) == 0);
	CHECK(fx_find(&f, false) == -ENOENT);
	CHECK(strstr(f.err.msg, "KDS has no VCEK for this chip and TCB") != NULL);
	CHECK(kds_requests(&f.k, " 404") == 1);
	fx_close(&f);
}

/* A KDS that answers the wrong certificate: refused, nothing cached, asked again. */
static void check_bad_kds(const char *bad, const struct snp_anchors *anchors, const char *why)
{
	struct fx f;
	int ret;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	REQUIRE(fx_kds(&f, SIM_MILAN, bad ? "--bad" : NULL, bad) == 0);
	if (anchors)
		f.o.anchors = anchors;
	ret = fx_find(&f, false);
	CHECK(ret == -EACCES || ret == -EKEYREJECTED);
	CHECK(strstr(f.err.msg, why) != NULL);
	CHECK(!file_exists(vcek_file(&f)));
	CHECK(!file_exists(test_path("vcek/Milan/cert_chain.pem")));
	CHECK(fx_find(&f, false) == ret);
	CHECK(kds_requests(&f.k, "SPL=") == 2);
	fx_close(&f);
}

TEST(vcek_kds_wrong_tcb_is_not_cached)
{
	check_bad_kds("tcb", NULL, "TCB");
}

TEST(vcek_kds_wrong_chip_is_not_cached)
{
	check_bad_kds("hwid", NULL, "another chip");
}

TEST(vcek_kds_vcek_signed_by_another_key_is_not_cached)
{
	check_bad_kds("signer", NULL, "vek-signature");
}

TEST(vcek_kds_chain_under_another_root_is_not_cached)
{
	struct snp_anchors amd;

	snp_anchors_amd(&amd);
	check_bad_kds(NULL, &amd, "ark-pin");
}

TEST(vcek_kds_down_fails_within_the_timeout)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct fx f;
	int fd;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	/* Listening, never answering: the TCP handshake completes, TLS does not. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fd >= 0);
	REQUIRE(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 4) == 0);
	REQUIRE(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	fx_kds_port(&f, ntohs(sin.sin_port));
	f.o.kds_timeout_ms = 500;
	CHECK(fx_find(&f, false) == -ETIMEDOUT);
	CHECK(strstr(f.err.msg, "KDS") != NULL);
	CHECK(f.elapsed_ms >= 500 && f.elapsed_ms < 500 + 1000);

	/* Nobody listening: refused at once. */
	close(fd);
	CHECK(fx_find(&f, false) == -ECONNREFUSED);
	CHECK(f.elapsed_ms < 500);
	fx_close(&f);
}

struct lookup {
	struct vcek_sources *vs;
	const struct snp_report *report;
	struct vcek_chain chain;
	struct snp_err err;
	int ret;
};

static void *lookup_thread(void *arg)
{
	struct lookup *l = arg;

	l->ret = vcek_find(l->vs, l->report, SNP_PRODUCT_UNKNOWN, NULL, 0, &l->chain, &l->err);
	return NULL;
}

TEST(vcek_concurrent_lookups_make_one_kds_request)
{
	enum { N = 4 };
	struct vcek_sources *vs = NULL;
	struct lookup l[N];
	pthread_t t[N];
	struct fx f;

	REQUIRE(fx_open(&f, SIM_MILAN, "") == 0);
	REQUIRE(fx_kds(&f, SIM_MILAN, NULL, NULL) == 0);
	REQUIRE(vcek_sources_new(&vs, &f.o, &f.err) == 0);
	for (int i = 0; i < N; i++) {
		l[i] = (struct lookup){ .vs = vs, .report = &f.ev.report };
		REQUIRE(pthread_create(&t[i], NULL, lookup_thread, &l[i]) == 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		CHECK(l[i].ret == 0);
		CHECK(l[i].chain.source == VCEK_FROM_KDS || l[i].chain.source == VCEK_FROM_CACHE);
		CHECK(chain_verifies(&f.ev, &l[i].chain));
		vcek_chain_free(&l[i].chain);
	}
	vcek_sources_free(vs);
	CHECK(kds_requests(&f.k, "SPL=") == 1);
	CHECK(kds_requests(&f.k, "cert_chain") == 1);
	fx_close(&f);
}
