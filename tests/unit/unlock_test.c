// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unlocking one volume (agent/unlock.c): the backoff arithmetic, then the
 * engine against a real broker in this process (broker/server.c and
 * broker/attest.c on loopback TLS, its store in the test's directory)
 * with reports from the firmware simulator serving on a Unix socket, on a
 * LUKS2 image enrolled with luks_enroll. No device-mapper here: the
 * secret is checked against the keyslot (LUKS_OPEN_VERIFY).
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "agent/exit.h"
#include "agent/log.h"
#include "agent/unlock.h"
#include "broker/attest.h"
#include "broker/audit.h"
#include "broker/log.h"
#include "broker/server.h"
#include "broker/store.h"
#include "broker/vcek.h"
#include "luks/enroll.h"
#include "snp/roots.h"
#include "snp/sim/sim.h"
#include "tests/harness.h"

#define SIM_STATE	TESTS_DIR "/data/sim"
#define TLS_DATA	TESTS_DIR "/data/tls/"
#define SLACK_MS	1000	/* what a bound may be overrun by on a busy machine */

/* ---- backoff ---- */

TEST(unlock_backoff_doubles_up_to_the_cap)
{
	static const int full[] = { 1000, 2000, 4000, 8000, 16000, 16000, 16000 };

	for (unsigned int round = 1; round <= 7; round++) {
		CHECK(unlock_backoff_ms(round, 1000, 16000, UINT32_MAX) == full[round - 1]);
		CHECK(unlock_backoff_ms(round, 1000, 16000, 0) == full[round - 1] / 2);
	}
	/* Round 0 is no shorter than the first; a cap below the start wins. */
	CHECK(unlock_backoff_ms(0, 1000, 16000, UINT32_MAX) == 1000);
	CHECK(unlock_backoff_ms(1, 5000, 3000, UINT32_MAX) == 3000);
	CHECK(unlock_backoff_ms(3, 0, 16000, UINT32_MAX) == 0);
	CHECK(unlock_backoff_ms(3, 1000, 0, UINT32_MAX) == 0);
}

TEST(unlock_backoff_jitter_keeps_half_to_all)
{
	int lo = 1 << 30, hi = 0, w;

	CHECK(unlock_backoff_ms(2, 1000, 16000, UINT32_MAX / 2) >= 1000);
	CHECK(unlock_backoff_ms(2, 1000, 16000, UINT32_MAX / 2) <= 1500 + 1);
	for (uint32_t i = 0; i < 4096; i++) {
		w = unlock_backoff_ms(3, 1000, 16000, i * 1048573u);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	CHECK(lo >= 2000 && hi <= 4000);
	/* The values spread over the range, not onto one point. */
	CHECK(lo < 2200 && hi > 3800);
	/* An odd wait: half rounds down, all is all. */
	CHECK(unlock_backoff_ms(1, 7, 100, 0) == 3);
	CHECK(unlock_backoff_ms(1, 7, 100, UINT32_MAX) == 7);
}

TEST(unlock_backoff_does_not_overflow)
{
	CHECK(unlock_backoff_ms(UINT32_MAX, 1000, 16000, UINT32_MAX) == 16000);
	CHECK(unlock_backoff_ms(UINT32_MAX, 1000, 16000, 0) == 8000);
	CHECK(unlock_backoff_ms(40, 1 << 29, INT32_MAX, UINT32_MAX) == INT32_MAX);
	CHECK(unlock_backoff_ms(40, 1 << 29, INT32_MAX, 0) == INT32_MAX / 2);
	CHECK(unlock_backoff_ms(2, INT32_MAX, INT32_MAX, UINT32_MAX) == INT32_MAX);
}

/* ---- a broker, a simulator and an enrolled image ---- */

enum { VOLUME_SECRET_LEN = 32, IMAGE_SIZE = 16 << 20 };

static const char passphrase[] = "an existing passphrase";

struct fixture {
	/* The image and what luks_enroll made of it. */
	char image[PATH_MAX];
	struct luks_found volume;
	uint8_t secret[VOLUME_SECRET_LEN];
	/* The simulator, serving on sim_addr until sim_stop. */
	struct snp_sim *sim;
	char sim_addr[PATH_MAX + 8];
	volatile int sim_stop;
	pthread_t sim_thread;
	/* The broker. */
	struct snp_anchors anchors[2];
	struct store *store;
	struct vcek_sources *vcek;
	struct audit_log *audit;
	struct attest_ctx *attest;
	struct server *server;
	pthread_t server_thread;
	int log_fd;
	char url[64];
	/* The agent's side. */
	struct agent_settings settings;
	struct snp_deadline overall;
	int64_t elapsed_ms;
};

static void crypt_quiet(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)msg;
	(void)usrptr;
}

/* A LUKS2 image with one passphrase keyslot (PBKDF2: quick), in the test's directory. */
static int format_image(const char *path)
{
	struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_device *cd = NULL;
	int fd, r;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = ftruncate(fd, IMAGE_SIZE) ? -errno : 0;
	close(fd);
	if (!r)
		r = crypt_init(&cd, path);
	if (!r)
		r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (!r)
		r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, NULL);
	if (!r)
		r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, passphrase,
						    strlen(passphrase));
	crypt_free(cd);
	return r < 0 ? r : 0;
}

/* Enroll the image for f->secret with the test CA's pin; f->volume as unlock finds it. */
static int enroll_image(struct fixture *f)
{
	struct luks_token token;
	struct luks_enroll_params p = {
		.device = f->image, .passphrase = passphrase, .passphrase_len = strlen(passphrase),
		.secret = f->secret, .secret_len = sizeof(f->secret), .token = &token,
	};
	struct luks_enroll_result res;
	struct snp_err err = { 0 };
	int ret;

	luks_token_init(&token);
	snprintf(token.brokers[0], sizeof(token.brokers[0]), "https://broker.test:1");
	token.n_brokers = 1;
	ret = tls_cert_file_pins(TLS_DATA "ca.pem", token.ca_pins, LUKS_TOKEN_CA_PINS_MAX,
				 &token.n_ca_pins, &err);
	if (!ret)
		ret = luks_enroll(&p, &res, &err);
	if (!ret)
		ret = luks_probe(f->image, &f->volume, &err);
	if (ret)
		fprintf(stderr, "    enroll: %s\n", err.msg);
	return ret;
}

static void *sim_serve(void *arg)
{
	struct fixture *f = arg;
	const struct snp_sim_serve_opts o = { .timeout_ms = 5000, .max_conns = 8,
					      .stop = &f->sim_stop };
	struct snp_err err = { 0 };

	if (snp_sim_serve(f->sim, f->sim_addr, &o, &err))
		fprintf(stderr, "    sim: %s\n", err.msg);
	return NULL;
}

/* The simulator in a thread; cert_table false: a host that gives no certificates. */
static int start_sim(struct fixture *f, bool cert_table)
{
	struct snp_sim_config cfg;
	struct snp_err err = { 0 };

	snp_sim_config_init(&cfg);
	cfg.cert_table = cert_table;
	if (snp_sim_open(&f->sim, SIM_STATE, &cfg, &err)) {
		fprintf(stderr, "    sim: %s\n", err.msg);
		return -EINVAL;
	}
	snprintf(f->sim_addr, sizeof(f->sim_addr), "unix:%s", test_path("sim.sock"));
	if (pthread_create(&f->sim_thread, NULL, sim_serve, f))
		return -EAGAIN;
	/* Wait for its socket: a report asked for before would be refused. */
	for (int i = 0; i < 200 && access(f->sim_addr + 5, F_OK); i++)
		usleep(10000);
	return access(f->sim_addr + 5, F_OK) ? -ETIMEDOUT : 0;
}

/* What the broker's route for the two protocol paths does, without its log. */
static void broker_handle(void *ctx, struct server_exchange *x)
{
	struct fixture *f = ctx;
	struct attest_conn *conn = x->conn_user;
	struct attest_reply reply = { 0 };
	uint8_t ekm[TLS_EKM_SIZE];
	int ret = -ENOENT;

	if (!strcmp(x->path, "/v1/challenge")) {
		ret = attest_challenge(f->attest, &conn, (const char *)x->body, x->body_len,
				       &reply);
		x->conn_user = conn;
		x->conn_user_free = attest_conn_free;
	} else if (!strcmp(x->path, "/v1/unseal") && !tls_conn_ekm(x->tls, ekm)) {
		ret = attest_unseal(f->attest, conn, ekm, x->peer, (const char *)x->body,
				    x->body_len, &reply);
	}
	if (ret || !reply.body) {
		attest_reply_free(&reply);
		server_reply_error(x, 500, "internal", "the test broker failed");
		return;
	}
	x->status = reply.status;
	x->resp_body = reply.body;
	x->resp_body_len = reply.body_len;
}

static void *server_serve(void *arg)
{
	struct fixture *f = arg;
	struct snp_err err = { 0 };

	if (server_run(f->server, &err))
		fprintf(stderr, "    broker: %s\n", err.msg);
	return NULL;
}

/*
 * The broker's store: policy "any" passes every simulator report, policy
 * "strict" wants a measurement no report has. The volume is registered
 * under policy with stored_secret, unless policy is NULL.
 */
static int fill_store(struct fixture *f, const char *policy, const uint8_t *stored_secret)
{
	static const char any[] = "{\"allow_any_measurement\":true,\"allow_any_tcb\":true}";
	char strict[200];
	struct store_volume v = { 0 };
	struct snp_err err = { 0 };
	char other[SNP_MEASUREMENT_SIZE * 2 + 1];
	int ret;

	/* The simulator's default guest measures all zeros: want anything else. */
	memset(other, '1', sizeof(other) - 1);
	other[sizeof(other) - 1] = '\0';
	snprintf(strict, sizeof(strict), "{\"measurements\":[\"%s\"],\"allow_any_tcb\":true}",
		 other);
	ret = store_open(&f->store, test_path("broker"), true, &err);
	if (!ret)
		ret = store_policy_put(f->store, "any", any, strlen(any), &err);
	if (!ret)
		ret = store_policy_put(f->store, "strict", strict, strlen(strict), &err);
	if (!ret && policy) {
		snprintf(v.volume, sizeof(v.volume), "%s", f->volume.token.volume);
		snprintf(v.policy, sizeof(v.policy), "%s", policy);
		memcpy(v.secret, stored_secret, VOLUME_SECRET_LEN);
		v.secret_len = VOLUME_SECRET_LEN;
		ret = store_volume_add(f->store, &v, &err);
		store_volume_wipe(&v);
	}
	if (ret)
		fprintf(stderr, "    store: %s\n", err.msg);
	return ret;
}

static int start_broker(struct fixture *f, const char *policy, const uint8_t *stored_secret)
{
	static const char *const listen[] = { "127.0.0.1:0" };
	struct server_opts so = { .listen = listen, .n_listen = 1, .threads = 1,
				  .handler = broker_handle, .handler_ctx = f };
	struct vcek_opts vo = { .anchors = &f->anchors[1] };
	struct attest_opts ao = { .anchors = f->anchors, .n_anchors = 2 };
	enum snp_product product;
	struct snp_err err = { 0 };
	int ret;

	f->log_fd = open(test_path("broker.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			 0600);
	log_setup(CONFIG_LOG_TEXT, CONFIG_LOG_DEBUG, f->log_fd);
	snp_anchors_amd(&f->anchors[0]);
	ret = snp_anchors_load_ark(&f->anchors[1], "simulator", SIM_STATE "/ark.pem", &product,
				   &err);
	if (!ret)
		ret = fill_store(f, policy, stored_secret);
	if (!ret)
		ret = vcek_sources_new(&f->vcek, &vo, &err);
	if (!ret)
		ret = audit_open(&f->audit, test_path("audit.log"), &err);
	ao.store = f->store;
	ao.vcek = f->vcek;
	ao.audit = f->audit;
	if (!ret)
		ret = attest_ctx_new(&f->attest, &ao, &err);
	server_limits_default(&so.limits);
	if (!ret)
		ret = tls_server_ctx_new(&so.tls, TLS_DATA "server.pem", TLS_DATA "server.key", &err);
	if (!ret)
		ret = server_new(&f->server, &so, &err);
	if (ret) {
		fprintf(stderr, "    broker: %s\n", err.msg);
		return ret;
	}
	snprintf(f->url, sizeof(f->url), "https://broker.test:%u", server_port(f->server, 0));
	return -pthread_create(&f->server_thread, NULL, server_serve, f);
}

/* A port on 127.0.0.1 where nothing listens (connections are refused). */
static unsigned int dead_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned int port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A port that accepts connections into its backlog and never answers: a black hole. */
static int black_hole(unsigned int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static int set(struct fixture *f, const char *key, const char *value)
{
	struct snp_err err = { 0 };
	int ret = agent_settings_set(&f->settings, key, value, "test", &err);

	if (ret)
		fprintf(stderr, "    %s = %s: %s\n", key, value, err.msg);
	return ret;
}

/*
 * The settings unlock would use: defaults, the token, then what the test
 * sets: the broker on loopback, the test CA, the simulator, quick bounds.
 */
static int agent_settings(struct fixture *f, const char *brokers)
{
	struct agent_settings token;

	agent_settings_defaults(&f->settings);
	agent_settings_clear(&token);
	agent_settings_from_token(&token, &f->volume.token);
	agent_settings_overlay(&f->settings, &token);
	if (set(f, "broker", brokers) || set(f, "ca", TLS_DATA "ca.pem") ||
	    set(f, "connect_to", "127.0.0.1") || set(f, "provider", "sim") ||
	    set(f, "sim", f->sim_addr) || set(f, "deadline", "10s") ||
	    set(f, "attempt_timeout", "5s") || set(f, "backoff", "100ms") ||
	    set(f, "backoff_max", "200ms"))
		return -EINVAL;
	return 0;
}

/* How a test's broker and simulator differ from the honest ones. */
struct setup {
	const char *policy;		/* the volume's policy; NULL: the broker has no such volume */
	bool wrong_secret;		/* the broker holds another secret for it */
	bool no_cert_table;		/* the host gives no certificates: 503 vek-unavailable */
};

/*
 * Everything for one test: the image enrolled for f->secret, the
 * simulator and the broker as su says, settings pointing at the broker.
 */
static int fx_open(struct fixture *f, const struct setup *su)
{
	uint8_t stored[VOLUME_SECRET_LEN];
	int ret;

	memset(f, 0, sizeof(*f));
	f->log_fd = -1;
	crypt_set_log_callback(NULL, crypt_quiet, NULL);
	crypt_metadata_locking(NULL, 0);	/* no /run/cryptsetup needed */
	snprintf(f->image, sizeof(f->image), "%s", test_path("volume.img"));
	for (size_t i = 0; i < sizeof(f->secret); i++) {
		f->secret[i] = (uint8_t)(0xc3 ^ (i * 29));
		stored[i] = (uint8_t)(f->secret[i] ^ su->wrong_secret);
	}
	agent_log_open(test_path("kmsg"), LOG_DEBUG);
	ret = format_image(f->image);
	if (!ret)
		ret = enroll_image(f);
	if (!ret)
		ret = start_sim(f, !su->no_cert_table);
	if (!ret)
		ret = start_broker(f, su->policy, stored);
	if (!ret)
		ret = agent_settings(f, f->url);
	return ret;
}

static void fx_close(struct fixture *f)
{
	if (f->server) {
		server_stop(f->server);
		pthread_join(f->server_thread, NULL);
		server_free(f->server);
	}
	if (f->sim) {
		f->sim_stop = 1;
		pthread_join(f->sim_thread, NULL);
		snp_sim_close(f->sim);
	}
	attest_ctx_free(f->attest);
	audit_close(f->audit);
	vcek_sources_free(f->vcek);
	store_close(f->store);
	if (f->log_fd >= 0)
		close(f->log_fd);
	agent_log_close();
}

static int unlock(struct fixture *f)
{
	int64_t start = snp_now_ms();
	int ret;

	snp_deadline_start(&f->overall, f->settings.deadline_ms);
	ret = unlock_volume(&f->volume, &f->settings, LUKS_OPEN_VERIFY, &f->overall);
	f->elapsed_ms = snp_now_ms() - start;
	return ret;
}

/* A file's text (NUL-terminated), "" when it does not exist. */
static char *text_of(const char *path)
{
	size_t len = 0;
	char *text;

	if (access(path, F_OK))
		return calloc(1, 1);
	text = (char *)test_read_file(path, 1 << 20, &len);
	text[len] = '\0';
	return text;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Neither the secret's bytes nor its hex are in the file. */
static bool secret_absent(const struct fixture *f, const char *path)
{
	char hex[2 * VOLUME_SECRET_LEN + 1];
	char *text = text_of(path);
	bool absent;

	snp_hex(hex, f->secret, sizeof(f->secret));
	absent = !memmem(text, strlen(text), f->secret, sizeof(f->secret)) && !strstr(text, hex);
	free(text);
	return absent;
}

/* Whether the agent's log has line (a part of one), formatted. */
static bool logged(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool logged(const char *fmt, ...)
{
	char line[AGENT_LOG_LINE_MAX];
	char *text = text_of(test_path("kmsg"));
	va_list ap;
	bool found;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	found = strstr(text, line) != NULL;
	if (!found)
		fprintf(stderr, "    not logged: %s\n", line);
	free(text);
	return found;
}

static size_t logged_count(const char *needle)
{
	char *text = text_of(test_path("kmsg"));
	size_t n = count(text, needle);

	free(text);
	return n;
}

/* ---- the engine ---- */

TEST(unlock_verifies_the_secret_from_a_real_broker)
{
	const struct setup su = { .policy = "any" };
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	CHECK(unlock(&f) == EXIT_OK);
	fx_close(&f);
	CHECK(logged("%s (%s): asking %s (attempt 1)", f.image, f.volume.uuid, f.url));
	CHECK(logged("%s (%s): secret verified on keyslot %d (not activated: --verify-only)",
		     f.image, f.volume.uuid, f.volume.token.keyslot));
	CHECK(logged("using the SEV-SNP firmware SIMULATOR at %s", f.sim_addr));
	CHECK(logged_count("asking ") == 1);
	CHECK(secret_absent(&f, test_path("kmsg")));
	CHECK(secret_absent(&f, test_path("broker.log")));
	CHECK(secret_absent(&f, test_path("audit.log")));
}

TEST(unlock_a_refusal_ends_at_once)
{
	const struct setup su = { .policy = "strict" };
	char both[200];
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	/* Two brokers and a long deadline: a 403 asks neither the second nor again. */
	snprintf(both, sizeof(both), "%s,https://broker.test:1", f.url);
	REQUIRE(agent_settings(&f, both) == 0);
	CHECK(unlock(&f) == EXIT_REFUSED);
	CHECK(f.elapsed_ms < 3000);
	fx_close(&f);
	CHECK(logged("%s refused: policy-rejected rule measurement: ", f.url));
	CHECK(logged_count("asking ") == 1);
	CHECK(logged("not unlocked: refused by the broker (exit 6)"));
}

TEST(unlock_an_unknown_volume_is_refused)
{
	const struct setup su = { .policy = NULL };
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	CHECK(unlock(&f) == EXIT_REFUSED);
	fx_close(&f);
	CHECK(logged("%s refused: unknown-volume: ", f.url));
}

TEST(unlock_moves_on_from_a_dead_broker)
{
	const struct setup su = { .policy = "any" };
	char brokers[200], dead[64];
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	snprintf(dead, sizeof(dead), "https://broker.test:%u", dead_port());
	snprintf(brokers, sizeof(brokers), "%s,%s", dead, f.url);
	REQUIRE(agent_settings(&f, brokers) == 0);
	CHECK(unlock(&f) == EXIT_OK);
	fx_close(&f);
	CHECK(logged("asking %s (attempt 1)", dead));
	CHECK(logged(": %s: ", dead));
	CHECK(logged("asking %s (attempt 2)", f.url));
	CHECK(logged("secret verified on keyslot"));
	CHECK(logged_count("waiting ") == 0);
}

TEST(unlock_all_dead_ends_at_the_deadline)
{
	const struct setup su = { .policy = "any" };
	char brokers[200];
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	snprintf(brokers, sizeof(brokers), "https://broker.test:%u,https://broker.test:%u",
		 dead_port(), dead_port());
	REQUIRE(agent_settings(&f, brokers) == 0);
	REQUIRE(set(&f, "deadline", "1500ms") == 0);
	CHECK(unlock(&f) == EXIT_UNREACHABLE);
	/* Rounds until the deadline, not beyond it. */
	CHECK(f.elapsed_ms >= 1400 && f.elapsed_ms < 1500 + SLACK_MS);
	fx_close(&f);
	CHECK(logged("before round 2"));
	CHECK(logged("before round 3"));
	CHECK(logged("no broker released the secret within the 1500 ms deadline"));
	CHECK(logged("not unlocked: no broker reachable before the deadline (exit 7)"));
}

TEST(unlock_a_black_hole_costs_one_attempt_timeout)
{
	const struct setup su = { .policy = "any" };
	char brokers[200], hole[64];
	unsigned int port = 0;
	struct fixture f;
	int fd;

	REQUIRE(fx_open(&f, &su) == 0);
	fd = black_hole(&port);
	REQUIRE(fd >= 0);
	snprintf(hole, sizeof(hole), "https://broker.test:%u", port);
	snprintf(brokers, sizeof(brokers), "%s,%s", hole, f.url);
	REQUIRE(agent_settings(&f, brokers) == 0);
	REQUIRE(set(&f, "attempt_timeout", "700ms") == 0);
	CHECK(unlock(&f) == EXIT_OK);
	CHECK(f.elapsed_ms >= 700 && f.elapsed_ms < 700 + SLACK_MS);

	/* Alone, it is cut short by the overall deadline, whatever attempt_timeout says. */
	REQUIRE(agent_settings(&f, hole) == 0);
	REQUIRE(set(&f, "deadline", "1s") == 0);
	CHECK(unlock(&f) == EXIT_UNREACHABLE);
	CHECK(f.elapsed_ms >= 950 && f.elapsed_ms < 1000 + SLACK_MS);
	close(fd);
	fx_close(&f);
}

TEST(unlock_a_report_failure_is_final)
{
	const struct setup su = { .policy = "any" };
	char both[200], sim[PATH_MAX + 8];
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	/* A second broker that is never asked: the failure is final. */
	snprintf(both, sizeof(both), "%s,https://broker.test:1", f.url);
	REQUIRE(agent_settings(&f, both) == 0);
	snprintf(sim, sizeof(sim), "unix:%s", test_path("no-sim.sock"));
	REQUIRE(set(&f, "sim", sim) == 0);
	CHECK(unlock(&f) == EXIT_REPORT_FAILED);
	CHECK(f.elapsed_ms < 3000);
	fx_close(&f);
	CHECK(logged("the report provider failed: "));
	CHECK(logged_count("asking ") == 1);
}

TEST(unlock_a_secret_that_does_not_open_the_keyslot)
{
	const struct setup su = { .policy = "any", .wrong_secret = true };
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	CHECK(unlock(&f) == EXIT_BAD_SECRET);
	fx_close(&f);
	CHECK(logged("the secret from %s does not open keyslot %d", f.url,
		     f.volume.token.keyslot));
	CHECK(logged_count("asking ") == 1);
}

TEST(unlock_retries_a_5xx_until_the_deadline)
{
	const struct setup su = { .policy = "any", .no_cert_table = true };
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	REQUIRE(set(&f, "deadline", "1200ms") == 0);
	CHECK(unlock(&f) == EXIT_UNREACHABLE);
	CHECK(f.elapsed_ms >= 1100 && f.elapsed_ms < 1200 + SLACK_MS);
	fx_close(&f);
	CHECK(logged_count("refused: vek-unavailable") >= 2);
	/* The last attempt may be the one the deadline cut short, before any answer. */
	CHECK(logged("no broker released the secret within the 1200 ms deadline"));
}

TEST(unlock_a_missing_ca_bundle_is_a_configuration_error)
{
	const struct setup su = { .policy = "any" };
	struct fixture f;

	REQUIRE(fx_open(&f, &su) == 0);
	REQUIRE(set(&f, "ca", test_path("no-ca.pem")) == 0);
	CHECK(unlock(&f) == EXIT_USAGE);
	CHECK(f.elapsed_ms < 1000);
	fx_close(&f);
	CHECK(logged("cannot authenticate brokers: "));
	CHECK(logged_count("asking ") == 0);
}
