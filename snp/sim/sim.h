/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_SIM_SIM_H
#define SNP_SIM_SIM_H

/*
 * A software SEV-SNP firmware for tests: it holds a test ARK/ASK/VCEK
 * hierarchy shaped like AMD's and answers report requests the way the PSP
 * does, with reports byte-compatible with real ones. It holds private
 * keys: only snp-sim and the tests link it, never the agent.
 *
 * A state directory (snp_sim_state_init) holds the keys and the public
 * certificates; a configuration (key = value lines, see docs/snp-sim.1)
 * says what the guest's reports contain. snp_sim_open() loads both and
 * issues the VCEK (or VLEK) for the configured chip and REPORTED_TCB, as
 * AMD's KDS issues one per TCB.
 *
 *	struct snp_sim_config cfg;
 *	struct snp_sim *sim;
 *
 *	snp_sim_config_init(&cfg);
 *	snp_sim_config_parse(&cfg, "measurement = ...\n", len, "test", &err);
 *	snp_sim_open(&sim, TESTS_DIR "/data/sim", &cfg, &err);
 *	snp_sim_get_report(sim, user_data, 0, true, &resp, &err);
 *	... resp.status, resp.report, resp.certs ...
 *	snp_sim_response_free(&resp);
 *	snp_sim_close(sim);
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snp/err.h"
#include "snp/report.h"
#include "snp/simproto.h"

/* SEV firmware status codes the simulator answers with. */
#define SNP_SIM_STATUS_SUCCESS		0x00
#define SNP_SIM_STATUS_INVALID_PARAM	0x16

enum snp_sim_key {
	SNP_SIM_KEY_PRODUCT,
	SNP_SIM_KEY_VERSION,
	SNP_SIM_KEY_GUEST_SVN,
	SNP_SIM_KEY_POLICY,
	SNP_SIM_KEY_FAMILY_ID,
	SNP_SIM_KEY_IMAGE_ID,
	SNP_SIM_KEY_GUEST_VMPL,
	SNP_SIM_KEY_MEASUREMENT,
	SNP_SIM_KEY_HOST_DATA,
	SNP_SIM_KEY_ID_KEY_DIGEST,
	SNP_SIM_KEY_AUTHOR_KEY_DIGEST,
	SNP_SIM_KEY_AUTHOR_KEY_EN,
	SNP_SIM_KEY_PLATFORM_INFO,
	SNP_SIM_KEY_SIGNING_KEY,
	SNP_SIM_KEY_MASK_CHIP_KEY,
	SNP_SIM_KEY_CHIP_ID,
	SNP_SIM_KEY_CURRENT_TCB,
	SNP_SIM_KEY_REPORTED_TCB,
	SNP_SIM_KEY_COMMITTED_TCB,
	SNP_SIM_KEY_LAUNCH_TCB,
	SNP_SIM_KEY_CURRENT_FW,
	SNP_SIM_KEY_COMMITTED_FW,
	SNP_SIM_KEY_CPUID_FAM_ID,
	SNP_SIM_KEY_CPUID_MOD_ID,
	SNP_SIM_KEY_CPUID_STEP,
	SNP_SIM_KEY_REPORT_ID,
	SNP_SIM_KEY_REPORT_ID_MA,
	SNP_SIM_KEY_LAUNCH_MIT_VECTOR,
	SNP_SIM_KEY_CURRENT_MIT_VECTOR,
	SNP_SIM_KEY_CERT_TABLE,
	SNP_SIM_KEY_CSP_ID,
	SNP_SIM_KEY_COUNT,
};

/* A TCB_VERSION as configured: the product's default, raw, or by component. */
enum snp_sim_tcb_kind {
	SNP_SIM_TCB_DEFAULT = 0,
	SNP_SIM_TCB_RAW,
	SNP_SIM_TCB_PARTS,
};

struct snp_sim_tcb_spec {
	enum snp_sim_tcb_kind kind;
	uint64_t raw;
	struct snp_tcb parts;
	bool has_fmc;		/* "fmc=" was given: Turin only */
};

/*
 * What the guest's reports say. snp_sim_config_init() sets the defaults;
 * a key left unset (line[key] 0) and SNP_SIM_TCB_DEFAULT mean "the
 * product's default", known only once the state's product is
 * (snp_sim_config_resolve).
 */
struct snp_sim_config {
	char source[256];			/* the file's name, for messages */
	unsigned int line[SNP_SIM_KEY_COUNT];	/* where each key was set, 0 if not */

	enum snp_product product;		/* UNKNOWN: the state's */
	uint32_t version;			/* 0: 5 on Turin, else 3 */
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[SNP_ID_SIZE];
	uint8_t image_id[SNP_ID_SIZE];
	uint32_t guest_vmpl;			/* the VMPL the guest runs at */
	uint8_t measurement[SNP_MEASUREMENT_SIZE];
	uint8_t host_data[SNP_HOST_DATA_SIZE];
	uint8_t id_key_digest[SNP_KEY_DIGEST_SIZE];
	uint8_t author_key_digest[SNP_KEY_DIGEST_SIZE];
	bool author_key_en;
	uint64_t platform_info;
	enum snp_signing_key signing_key;	/* VCEK or VLEK */
	bool mask_chip_key;
	bool has_chip_id;			/* else derived from the state's chip secret */
	uint8_t chip_id[SNP_CHIP_ID_SIZE];
	struct snp_sim_tcb_spec current_tcb;
	struct snp_sim_tcb_spec reported_tcb;	/* default: current_tcb */
	struct snp_sim_tcb_spec committed_tcb;	/* default: current_tcb */
	struct snp_sim_tcb_spec launch_tcb;	/* default: committed_tcb */
	struct snp_fw_version current_fw;
	struct snp_fw_version committed_fw;	/* default: current_fw */
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
	bool has_report_id;			/* else random per snp_sim_open */
	uint8_t report_id[SNP_REPORT_ID_SIZE];
	uint8_t report_id_ma[SNP_REPORT_ID_SIZE];
	uint64_t launch_mit_vector;
	uint64_t current_mit_vector;
	bool cert_table;			/* extended requests get certificates */
	char csp_id[128];			/* the VLEK's csp_id */
};

/* Defaults: a Milan-style v3 guest at VMPL 0, policy 0x30000, VCEK. */
void snp_sim_config_init(struct snp_sim_config *cfg);
/*
 * Parse configuration text over cfg (call snp_sim_config_init first).
 * Strict: unknown keys, repeated keys and bad values are refused with
 * "name:line: reason". Checks that need the product wait for _resolve.
 */
int snp_sim_config_parse(struct snp_sim_config *cfg, const char *text, size_t len,
			 const char *name, struct snp_err *err);
int snp_sim_config_load(struct snp_sim_config *cfg, const char *path, struct snp_err *err);
/*
 * The report cfg describes for product, with every field but REPORT_DATA,
 * VMPL and the signature; chip_id is the derived one (used unless
 * configured). Refuses what needs the product or crosses keys: fmc on
 * Milan, a Turin chip id longer than 8 bytes, CPUID in a v2 report,
 * mitigation vectors before v5, an author key digest without
 * author_key_en.
 */
int snp_sim_config_resolve(const struct snp_sim_config *cfg, enum snp_product product,
			   const uint8_t chip_id[SNP_CHIP_ID_SIZE], struct snp_report *tmpl,
			   struct snp_err *err);

struct snp_sim_init_opts {
	enum snp_product product;	/* UNKNOWN: Milan */
	bool vlek;			/* also an ASVK, for VLEK-signed reports */
	int64_t not_before;		/* certificate validity start; 0: today 00:00 UTC */
};

/*
 * Create a state directory (mode 0700; it may exist, empty): RSA-4096 ARK
 * and ASK (and ASVK), a chip secret, their certificates, and the VCEK
 * for the default configuration. Key files are 0600 PEM. Slow: two or
 * three RSA-4096 key generations. The product and not_before defaults
 * are written back into opts.
 */
int snp_sim_state_init(const char *dir, struct snp_sim_init_opts *opts,
		       struct snp_err *err);

struct snp_sim;

/*
 * Load the state in dir and resolve cfg against it; issues the VCEK/VLEK
 * for the configured chip and REPORTED_TCB in memory (dir/vcek.pem is
 * reused when it is exactly that certificate). Writes nothing.
 */
int snp_sim_open(struct snp_sim **sim, const char *dir, const struct snp_sim_config *cfg,
		 struct snp_err *err);
void snp_sim_close(struct snp_sim *sim);

/*
 * What the PSP does for MSG_REPORT_REQ: a signed report carrying
 * user_data as REPORT_DATA at vmpl, and with want_certs the certificate
 * table (ARK, ASK or ASVK, VCEK or VLEK) unless the configuration says
 * the host has none. A vmpl above 3 or below the guest's own is answered
 * with status SNP_SIM_STATUS_INVALID_PARAM and no report. Returns 0 with
 * resp->status set, or a negative errno for a failure of the simulator
 * itself. Free resp with snp_sim_response_free().
 */
int snp_sim_get_report(struct snp_sim *sim, const uint8_t user_data[SNP_REPORT_DATA_SIZE],
		       uint32_t vmpl, bool want_certs, struct snp_sim_response *resp,
		       struct snp_err *err);
/* The same for a decoded wire request. */
int snp_sim_handle(struct snp_sim *sim, const struct snp_sim_request *req,
		   struct snp_sim_response *resp, struct snp_err *err);

enum snp_sim_cert_id {
	SNP_SIM_CERT_ARK,
	SNP_SIM_CERT_ASK,	/* the ASVK when signing with a VLEK */
	SNP_SIM_CERT_VEK,	/* the VCEK or VLEK in use */
};

enum snp_product snp_sim_product(const struct snp_sim *sim);
/* The report template in use (REPORT_DATA, VMPL and signature zero). */
const struct snp_report *snp_sim_template(const struct snp_sim *sim);
/* A certificate's DER; valid until snp_sim_close. */
void snp_sim_cert(const struct snp_sim *sim, enum snp_sim_cert_id id, const uint8_t **der,
		  size_t *len);
/*
 * Write the VCEK (dir/vcek.pem) or VLEK (dir/vlek.pem) in use, for the
 * owner and the broker, unless the file already holds exactly it.
 */
int snp_sim_save_vek(const struct snp_sim *sim, const char *dir, bool *written,
		     struct snp_err *err);

struct snp_sim_serve_opts {
	int timeout_ms;		/* to receive a started request or send a response */
	int idle_timeout_ms;	/* to close a connection with nothing pending; 0: never */
	size_t max_conns;	/* the longest idle one makes room for a new one */
	/* Set by a signal handler: the loop returns 0 soon after. */
	volatile int *stop;
	/* Called once listening, with the address (the real port for tcp:...:0). */
	void (*ready)(const char *addr, void *ctx);
	void *ready_ctx;
	/* One line per request and per dropped connection, no newline. */
	void (*log)(const char *line, void *ctx);
	void *log_ctx;
};

/*
 * Serve requests at listen (unix:PATH or tcp:HOST:PORT) until *stop.
 * One process, poll(): any number of clients, each wait bounded; several
 * requests may follow each other on one connection (a QEMU chardev
 * behind a virtio-serial port keeps one open). A malformed request is
 * answered with INVALID_PARAM and its connection closed.
 */
int snp_sim_serve(struct snp_sim *sim, const char *listen,
		  const struct snp_sim_serve_opts *opts, struct snp_err *err);

#endif
