// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-keybroker serve`: the unseal service. The configuration file
 * (broker/config.h) says where to listen, which certificate to present,
 * where the state is; the HTTPS engine (broker/server.h) carries the
 * requests; broker/attest.c decides. Volumes and policies are read from
 * the store on every request, so `volume add` needs no reload; SIGHUP
 * re-reads the configuration (TLS certificate and key, limits, log level,
 * nonce lifetime); SIGTERM and SIGINT stop gracefully.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/attest.h"
#include "broker/audit.h"
#include "broker/config.h"
#include "broker/log.h"
#include "broker/serve_cmd.h"
#include "broker/server.h"
#include "broker/store.h"
#include "broker/vcek.h"
#include "snp/fdio.h"
#include "snp/roots.h"
#include "tls/tls.h"

#define PIN_TEXT_SIZE	(7 + 2 * TLS_PIN_SIZE + 1)	/* "sha256:" hex NUL */

/* What the command line says over the configuration file. */
struct serve_args {
	const char *config;
	const char *listen[CONFIG_LISTEN_MAX];
	size_t n_listen;
	const char *state;
	const char *print_port;
};

struct service {
	struct serve_args args;
	struct config cfg;
	struct snp_anchors anchors[ATTEST_ANCHOR_SETS_MAX];
	size_t n_anchors;
	struct snp_anchors vcek_anchors;
	struct store *store;
	struct vcek_sources *vcek;
	struct audit_log *audit;
	struct attest_ctx *attest;
	struct server *server;
	char pin[PIN_TEXT_SIZE];
};

/* For the signal handlers: set while server_run runs. */
static struct server *volatile running_server;

static void on_stop(int sig)
{
	(void)sig;
	if (running_server)
		server_stop(running_server);
}

static void on_reload(int sig)
{
	(void)sig;
	if (running_server)
		server_reload(running_server);
}

static int load_config(struct config *cfg, const struct serve_args *a, struct snp_err *err)
{
	int ret;

	config_init(cfg);
	ret = config_load(cfg, a->config ? a->config : CONFIG_DEFAULT_PATH, err);
	if (ret)
		return ret;
	if (a->n_listen) {
		for (size_t i = 0; i < a->n_listen; i++)
			snprintf(cfg->listen[i], sizeof(cfg->listen[i]), "%s", a->listen[i]);
		cfg->n_listen = a->n_listen;
	}
	if (a->state)
		snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", a->state);
	return config_finish(cfg, err);
}

/*
 * AMD's roots, then one set per trust_ark. The VCEK sources take one set:
 * AMD's, with each trust_ark's product re-pinned to it (and that
 * product's ASK pins dropped, as a test root pins only its ARK).
 */
static int load_anchors(struct service *s, struct snp_err *err)
{
	snp_anchors_amd(&s->anchors[0]);
	s->vcek_anchors = s->anchors[0];
	snprintf(s->vcek_anchors.name, sizeof(s->vcek_anchors.name), "AMD and trust_ark");
	s->n_anchors = 1;
	for (size_t i = 0; i < s->cfg.n_trust_ark; i++) {
		const char *path = s->cfg.trust_ark[i];
		struct snp_anchors *set = &s->anchors[s->n_anchors];
		enum snp_product p;
		int ret;

		ret = snp_anchors_load_ark(set, "trust_ark", path, &p, err);
		if (ret)
			return ret;
		s->n_anchors++;
		memset(s->vcek_anchors.pin[p], 0, sizeof(s->vcek_anchors.pin[p]));
		s->vcek_anchors.pin[p][SNP_ROOT_ARK] = set->pin[p][SNP_ROOT_ARK];
		log_event(CONFIG_LOG_WARN,
			  "TEST ONLY: trusting an extra ARK; reports signed under it are released secrets",
			  "trust_ark", path, "product", snp_product_name(p), NULL);
	}
	return 0;
}

static int open_vcek(struct service *s, struct snp_err *err)
{
	char cache_dir[4200];
	struct vcek_opts o = {
		.cache_dir = cache_dir,
		.kds_enabled = s->cfg.kds,
		.kds_url = s->cfg.kds_url[0] ? s->cfg.kds_url : NULL,
		.kds_ca_file = s->cfg.kds_ca[0] ? s->cfg.kds_ca : NULL,
		.kds_timeout_ms = s->cfg.kds_timeout_ms,
		.kds_retries = (int)s->cfg.kds_retries,
		.anchors = s->n_anchors > 1 ? &s->vcek_anchors : NULL,
	};

	snprintf(cache_dir, sizeof(cache_dir), "%s/vcek", store_dir(s->store));
	return vcek_sources_new(&s->vcek, &o, err);
}

static int open_parts(struct service *s, struct snp_err *err)
{
	struct attest_opts ao = { 0 };
	int ret;

	ret = load_anchors(s, err);
	if (!ret)
		ret = store_open(&s->store, s->cfg.state_dir, true, err);
	if (!ret)
		ret = open_vcek(s, err);
	if (!ret)
		ret = audit_open(&s->audit, s->cfg.audit_log, err);
	if (ret)
		return ret;
	ao.store = s->store;
	ao.vcek = s->vcek;
	ao.audit = s->audit;
	ao.anchors = s->anchors;
	ao.n_anchors = s->n_anchors;
	ao.nonce_lifetime_ms = s->cfg.nonce_lifetime_ms;
	return attest_ctx_new(&s->attest, &ao, err);
}

static void close_parts(struct service *s)
{
	server_free(s->server);
	attest_ctx_free(s->attest);
	audit_close(s->audit);
	vcek_sources_free(s->vcek);
	store_close(s->store);
}

static void limits_from_config(struct server_limits *l, const struct config *cfg)
{
	l->max_connections = cfg->max_connections;
	l->handshake_timeout_ms = cfg->handshake_timeout_ms;
	l->header_timeout_ms = cfg->header_timeout_ms;
	l->body_timeout_ms = cfg->body_timeout_ms;
	l->idle_timeout_ms = cfg->idle_timeout_ms;
	l->shutdown_grace_ms = cfg->shutdown_grace_ms;
	l->max_body = cfg->max_body;
}

/* Requests. */

enum route { ROUTE_NONE, ROUTE_CHALLENGE, ROUTE_UNSEAL };

/* 0 with *route set, or the refusal already set in x. */
static int route(struct server_exchange *x, enum route *r)
{
	if (!strcmp(x->path, "/v1/challenge"))
		*r = ROUTE_CHALLENGE;
	else if (!strcmp(x->path, "/v1/unseal"))
		*r = ROUTE_UNSEAL;
	else
		return server_reply_error(x, 404, "not-found", "no such path"), -1;
	if (strcmp(x->method, "POST"))
		return server_reply_error(x, 405, "method-not-allowed",
					  "only POST is allowed here"), -1;
	if (!x->req->content_type_json)
		return server_reply_error(x, 415, "unsupported-media-type",
					  "the body must be application/json"), -1;
	return 0;
}

static void log_reply(const struct server_exchange *x, enum route r,
		      const struct attest_reply *reply)
{
	char status[8];

	snprintf(status, sizeof(status), "%d", reply->status);
	if (r == ROUTE_CHALLENGE) {
		log_event(reply->status == 200 ? CONFIG_LOG_DEBUG : CONFIG_LOG_INFO, "challenge",
			  "peer", x->peer, "status", status, "reason", reply->reason, NULL);
		return;
	}
	log_event(reply->status == 500 ? CONFIG_LOG_ERROR : CONFIG_LOG_INFO,
		  reply->status == 200 ? "unseal granted" : "unseal refused", "peer", x->peer,
		  "volume", reply->volume, "status", status, "reason", reply->reason,
		  "rule", reply->rule, "detail", reply->detail, NULL);
}

static void handle(void *vs, struct server_exchange *x)
{
	struct service *s = vs;
	struct attest_reply reply = { 0 };
	struct attest_conn *conn = x->conn_user;
	uint8_t ekm[TLS_EKM_SIZE];
	enum route r;
	int ret;

	if (route(x, &r))
		return;
	if (r == ROUTE_CHALLENGE) {
		ret = attest_challenge(s->attest, &conn, (const char *)x->body, x->body_len,
				       &reply);
		x->conn_user = conn;
		x->conn_user_free = attest_conn_free;
	} else if (tls_conn_ekm(x->tls, ekm)) {
		server_reply_error(x, 500, "internal", "the service failed; its log says why");
		log_event(CONFIG_LOG_ERROR, "no TLS exporter value", "peer", x->peer, NULL);
		return;
	} else {
		ret = attest_unseal(s->attest, conn, ekm, x->peer, (const char *)x->body,
				    x->body_len, &reply);
		mbedtls_platform_zeroize(ekm, sizeof(ekm));
	}
	log_reply(x, r, &reply);
	if (ret && !reply.body) {
		/* Every refusal carries a JSON body, this one too. */
		server_reply_error(x, 500, "internal", "the service failed; its log says why");
		return;
	}
	x->status = ret ? 500 : reply.status;
	x->resp_body = reply.body;
	x->resp_body_len = reply.body_len;
}

/* Reload: the configuration file again; what it may change takes effect for new connections. */
static int reload(void *vs, struct server_reload_result *out, struct snp_err *err)
{
	struct service *s = vs;
	struct config *cfg = malloc(sizeof(*cfg));
	int ret;

	if (!cfg)
		return snp_errf(err, -ENOMEM, "out of memory for the configuration");
	ret = load_config(cfg, &s->args, err);
	if (!ret)
		ret = tls_server_ctx_new(&out->tls, cfg->tls_cert, cfg->tls_key, err);
	if (!ret) {
		limits_from_config(&out->limits, cfg);
		log_setup(cfg->log_format, cfg->log_level, STDERR_FILENO);
		attest_set_nonce_lifetime(s->attest, cfg->nonce_lifetime_ms);
	}
	free(cfg);
	return ret;
}

static void format_pin(const struct tls_server_ctx *tls, char out[PIN_TEXT_SIZE])
{
	uint8_t pin[TLS_PIN_SIZE];

	tls_server_ctx_pin(tls, pin);
	memcpy(out, "sha256:", 7);
	snp_hex(out + 7, pin, sizeof(pin));
}

static int make_server(struct service *s, struct snp_err *err)
{
	const char *listen[CONFIG_LISTEN_MAX];
	struct server_opts o = {
		.listen = listen,
		.n_listen = s->cfg.n_listen,
		.threads = s->cfg.threads,
		.handler = handle,
		.handler_ctx = s,
		.reload = reload,
		.reload_ctx = s,
	};
	int ret;

	for (size_t i = 0; i < s->cfg.n_listen; i++)
		listen[i] = s->cfg.listen[i];
	server_limits_default(&o.limits);
	limits_from_config(&o.limits, &s->cfg);
	ret = tls_server_ctx_new(&o.tls, s->cfg.tls_cert, s->cfg.tls_key, err);
	if (ret)
		return ret;
	format_pin(o.tls, s->pin);
	return server_new(&s->server, &o, err);
}

/* "127.0.0.1:4000,[::1]:4000" with the bound ports; and the ports, one a line. */
static int bound_addresses(const struct service *s, char *addrs, size_t addrs_size,
			   char *ports, size_t ports_size, struct snp_err *err)
{
	size_t a = 0, p = 0;

	addrs[0] = ports[0] = '\0';
	for (size_t i = 0; i < s->cfg.n_listen; i++) {
		char host[128];
		unsigned int port;
		int ret;
		bool v6;

		ret = config_split_listen(s->cfg.listen[i], host, sizeof(host), &port, err);
		if (ret)
			return ret;
		port = server_port(s->server, i);
		v6 = strchr(host, ':') != NULL;
		a += (size_t)snprintf(addrs + a, addrs_size - a, "%s%s%s%s:%u", i ? "," : "",
				      v6 ? "[" : "", host, v6 ? "]" : "", port);
		p += (size_t)snprintf(ports + p, ports_size - p, "%u\n", port);
		if (a >= addrs_size || p >= ports_size)
			return snp_errf(err, -ENOSPC, "too many listen addresses to print");
	}
	return 0;
}

static int announce(const struct service *s, struct snp_err *err)
{
	char addrs[CONFIG_LISTEN_MAX * 140], ports[CONFIG_LISTEN_MAX * 8], tmp[4200];
	int fd, ret;

	ret = bound_addresses(s, addrs, sizeof(addrs), ports, sizeof(ports), err);
	if (ret)
		return ret;
	log_event(CONFIG_LOG_INFO, "listening", "addresses", addrs, "pin", s->pin, "state",
		  s->cfg.state_dir, "audit_log", s->cfg.audit_log, NULL);
	if (!s->args.print_port)
		return 0;
	/* Whole or absent: a test that polls for the file never reads half of it. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->args.print_port);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return snp_errf(err, -errno, "--print-port %s: %s", tmp, strerror(errno));
	ret = snp_write_all(fd, ports, strlen(ports));
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, s->args.print_port))
		ret = -errno;
	if (ret)
		return snp_errf(err, ret, "--print-port %s: %s", s->args.print_port,
				strerror(-ret));
	return 0;
}

static void catch_signals(void)
{
	struct sigaction stop = { .sa_handler = on_stop }, hup = { .sa_handler = on_reload };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	sigemptyset(&stop.sa_mask);
	sigemptyset(&hup.sa_mask);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGHUP, &hup, NULL);
	sigaction(SIGPIPE, &ign, NULL);
}

static int serve(struct service *s)
{
	struct snp_err err = { 0 };
	psa_status_t st = psa_crypto_init();
	int ret;

	if (st != PSA_SUCCESS) {
		log_msgf(CONFIG_LOG_ERROR, "psa_crypto_init failed (%d)", (int)st);
		return 1;
	}
	ret = open_parts(s, &err);
	if (!ret)
		ret = make_server(s, &err);
	if (!ret) {
		catch_signals();
		running_server = s->server;
		ret = announce(s, &err);
	}
	if (!ret)
		ret = server_run(s->server, &err);
	running_server = NULL;
	if (ret)
		log_event(CONFIG_LOG_ERROR, "cannot serve", "error", err.msg, NULL);
	close_parts(s);
	return ret ? 1 : 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("snp-keybroker serve: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("; see 'snp-keybroker --help'\n", stderr);
	return 2;
}

static int parse_args(struct serve_args *a, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 's' },
		{ "print-port", required_argument, NULL, 'p' },
		{ "foreground", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 's': a->state = optarg; break;
		case 'p': a->print_port = optarg; break;
		case 'f': break;	/* serve never forks: the default, kept for scripts */
		case 'l':
			if (a->n_listen == CONFIG_LISTEN_MAX)
				return usage_error("more than %s --listen addresses", "8");
			a->listen[a->n_listen++] = optarg;
			break;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

int broker_serve_main(int argc, char *argv[])
{
	struct service *s = calloc(1, sizeof(*s));
	struct snp_err err = { 0 };
	int ret;

	if (!s) {
		fputs("snp-keybroker serve: out of memory\n", stderr);
		return 1;
	}
	ret = parse_args(&s->args, argc, argv);
	if (ret)
		goto out;
	if (load_config(&s->cfg, &s->args, &err)) {
		fprintf(stderr, "snp-keybroker serve: %s\n", err.msg);
		ret = 1;
		goto out;
	}
	log_setup(s->cfg.log_format, s->cfg.log_level, STDERR_FILENO);
	ret = serve(s);
out:
	free(s);
	return ret;
}
