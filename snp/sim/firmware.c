// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The simulated PSP: MSG_REPORT_REQ answered with a report signed by the
 * VCEK (or VLEK) for the configured chip and REPORTED_TCB.
 *
 * Signing uses deterministic ECDSA (RFC 6979): the nonce depends on the
 * key and the report only, so nothing goes wrong if the process forks or
 * its random generator state is copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha512.h>

#include "snp/amdcert.h"
#include "snp/certtable.h"
#include "snp/fdio.h"
#include "snp/sim/internal.h"

enum { SHA384_LEN = 48, PATH_LEN = 4096, VEK_FILE_MAX = 65536 };

struct snp_sim {
	struct sim_state st;
	struct sim_rng rng;
	struct snp_report tmpl;		/* CHIP_ID zeroed when masked or VLEK-signed */
	uint8_t chip_id[SNP_CHIP_ID_SIZE];	/* the chip's, for the VCEK's hwID */
	uint32_t guest_vmpl;
	bool cert_table;
	enum sim_cert_kind vek_kind;
	mbedtls_ecp_group grp;		/* the VEK's private key, for signing */
	mbedtls_mpi d;
	uint8_t *vek_der;
	size_t vek_der_len;
	uint8_t *certs;
	size_t certs_len;
};

static void vek_request(struct snp_sim *sim, const char *csp_id, mbedtls_pk_context *vek,
			struct sim_cert_req *req)
{
	bool vlek = sim->vek_kind == SIM_CERT_VLEK;

	*req = (struct sim_cert_req){
		.kind = sim->vek_kind,
		.product = sim->st.product,
		.not_before = sim->st.not_before,
		.subject = vek,
		.issuer = vlek ? &sim->st.asvk : &sim->st.ask,
		.tcb = sim->tmpl.reported_tcb,
		.hwid = sim->chip_id,
		.csp_id = csp_id,
	};
}

/*
 * The certificate in dir, when it is exactly what we would issue: the
 * same to-be-signed bytes, with a good signature by the issuer. Saves a
 * signature per start and keeps the file the owner copied valid.
 */
static bool reuse_vek(struct snp_sim *sim, const struct sim_cert_req *req, const char *dir)
{
	const char *name = req->kind == SIM_CERT_VLEK ? SIM_VLEK_CERT : SIM_VCEK_CERT;
	uint8_t buf[4096], *tbs, *file = NULL, *der = NULL;
	const uint8_t *issuer_der;
	size_t tbs_len, file_len, der_len, issuer_len;
	struct snp_amd_cert cert, issuer;
	char path[PATH_LEN];
	bool ok = false;

	snp_amd_cert_init(&cert);
	snp_amd_cert_init(&issuer);
	snp_sim_cert(sim, SNP_SIM_CERT_ASK, &issuer_der, &issuer_len);
	if (sim_path(path, sizeof(path), dir, name, NULL) ||
	    snp_read_file(path, VEK_FILE_MAX, &file, &file_len, NULL) ||
	    snp_cert_to_der(file, file_len, &der, &der_len, NULL) ||
	    snp_amd_cert_parse(&cert, der, der_len, name, NULL) ||
	    snp_amd_cert_parse(&issuer, issuer_der, issuer_len, "issuer", NULL) ||
	    sim_cert_tbs(req, buf, sizeof(buf), &tbs, &tbs_len, NULL))
		goto out;
	if (cert.crt.tbs.len != tbs_len || memcmp(cert.crt.tbs.p, tbs, tbs_len) ||
	    snp_amd_cert_verify_signed_by(&cert, &issuer, name, NULL))
		goto out;
	sim->vek_der = der;
	sim->vek_der_len = der_len;
	der = NULL;
	ok = true;
out:
	snp_amd_cert_free(&cert);
	snp_amd_cert_free(&issuer);
	free(der);
	free(file);
	return ok;
}

static int setup_vek(struct snp_sim *sim, const struct snp_sim_config *cfg, const char *dir,
		     struct snp_err *err)
{
	struct sim_cert_req req;
	mbedtls_pk_context vek;
	mbedtls_ecp_point q;
	int ret;

	sim->vek_kind = cfg->signing_key == SNP_SIGNING_KEY_VLEK ? SIM_CERT_VLEK : SIM_CERT_VCEK;
	if (sim->vek_kind == SIM_CERT_VLEK && !sim->st.has_asvk)
		return snp_errf(err, -ENOENT,
				"signing_key = vlek, but %s has no ASVK (make it with snp-sim init --vlek)",
				dir);
	mbedtls_pk_init(&vek);
	mbedtls_ecp_point_init(&q);
	vek_request(sim, cfg->csp_id, &vek, &req);
	ret = sim_derive_vek(sim->st.chip_secret, &req, &vek, &sim->rng, err);
	if (!ret) {
		ret = mbedtls_ecp_export(mbedtls_pk_ec(vek), &sim->grp, &sim->d, &q);
		if (ret)
			ret = sim_tls_err(err, ret, "loading the VCEK/VLEK key");
	}
	if (!ret && !reuse_vek(sim, &req, dir))
		ret = sim_cert_issue(&req, &sim->rng.drbg, &sim->vek_der, &sim->vek_der_len, err);
	mbedtls_ecp_point_free(&q);
	mbedtls_pk_free(&vek);
	return ret;
}

static int build_cert_table(struct snp_sim *sim, struct snp_err *err)
{
	static const enum snp_sim_cert_id ids[] = {
		SNP_SIM_CERT_ARK, SNP_SIM_CERT_ASK, SNP_SIM_CERT_VEK,
	};
	enum snp_cert_kind vek = sim->vek_kind == SIM_CERT_VLEK ? SNP_CERT_VLEK : SNP_CERT_VCEK;
	const enum snp_cert_kind kinds[] = { SNP_CERT_ARK, SNP_CERT_ASK, vek };
	struct snp_cert_blob blobs[sizeof(ids) / sizeof(ids[0])];
	size_t n = sizeof(blobs) / sizeof(blobs[0]);
	int ret;

	for (size_t i = 0; i < n; i++) {
		blobs[i].guid = snp_cert_guid(kinds[i]);
		snp_sim_cert(sim, ids[i], &blobs[i].data, &blobs[i].len);
	}

	ret = snp_cert_table_write(blobs, n, NULL, 0, &sim->certs_len, NULL);
	if (ret != -ENOSPC && ret)
		return snp_errf(err, ret, "sizing the certificate table");
	if (sim->certs_len > SNP_SIM_CERTS_MAX)
		return snp_errf(err, -EMSGSIZE,
				"the certificate table is %zu bytes; the kernel takes at most %d",
				sim->certs_len, SNP_SIM_CERTS_MAX);
	sim->certs = malloc(sim->certs_len);
	if (!sim->certs)
		return snp_errf(err, -ENOMEM, "out of memory for the certificate table");
	return snp_cert_table_write(blobs, n, sim->certs, sim->certs_len, &sim->certs_len, err);
}

static int setup(struct snp_sim *sim, const char *dir, const struct snp_sim_config *cfg,
		 struct snp_err *err)
{
	uint8_t derived[SNP_CHIP_ID_SIZE];
	int ret;

	ret = sim_rng_init(&sim->rng, "snp-sim", err);
	if (!ret)
		ret = sim_state_load(&sim->st, dir, &sim->rng, err);
	if (!ret)
		ret = sim_derive_chip_id(sim->st.chip_secret, sim->st.product, derived, err);
	if (!ret)
		ret = snp_sim_config_resolve(cfg, sim->st.product, derived, &sim->tmpl, err);
	if (ret)
		return ret;
	memcpy(sim->chip_id, sim->tmpl.chip_id, SNP_CHIP_ID_SIZE);
	if (cfg->mask_chip_key || cfg->signing_key == SNP_SIGNING_KEY_VLEK)
		memset(sim->tmpl.chip_id, 0, SNP_CHIP_ID_SIZE);
	sim->guest_vmpl = cfg->guest_vmpl;
	sim->cert_table = cfg->cert_table;
	/* REPORT_ID: random per launch, like the PSP's, unless configured. */
	if (!cfg->has_report_id) {
		ret = mbedtls_ctr_drbg_random(&sim->rng.drbg, sim->tmpl.report_id,
					      SNP_REPORT_ID_SIZE);
		if (ret)
			return sim_tls_err(err, ret, "making REPORT_ID");
	}
	ret = setup_vek(sim, cfg, dir, err);
	/* The roots' private keys have signed all they will. */
	sim_state_drop_keys(&sim->st);
	if (!ret)
		ret = build_cert_table(sim, err);
	return ret;
}

int snp_sim_open(struct snp_sim **out, const char *dir, const struct snp_sim_config *cfg,
		 struct snp_err *err)
{
	struct snp_sim *sim = calloc(1, sizeof(*sim));
	int ret;

	*out = NULL;
	if (!sim)
		return snp_errf(err, -ENOMEM, "out of memory for the simulator");
	mbedtls_ecp_group_init(&sim->grp);
	mbedtls_mpi_init(&sim->d);
	ret = setup(sim, dir, cfg, err);
	if (ret) {
		snp_sim_close(sim);
		return ret;
	}
	*out = sim;
	return 0;
}

void snp_sim_close(struct snp_sim *sim)
{
	if (!sim)
		return;
	sim_state_free(&sim->st);
	sim_rng_free(&sim->rng);
	mbedtls_ecp_group_free(&sim->grp);
	mbedtls_mpi_free(&sim->d);
	free(sim->vek_der);
	free(sim->certs);
	mbedtls_platform_zeroize(sim, sizeof(*sim));
	free(sim);
}

/* ECDSA P-384 over bytes 0x000-0x29F; R and S little-endian in 72-byte fields. */
static int sign_report(struct snp_sim *sim, uint8_t report[SNP_REPORT_SIZE],
		       struct snp_err *err)
{
	uint8_t hash[SHA384_LEN];
	mbedtls_mpi r, s;
	int ret;

	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	ret = mbedtls_sha512(report, SNP_REPORT_SIGNED_SIZE, hash, 1);
	if (!ret)
		ret = mbedtls_ecdsa_sign_det_ext(&sim->grp, &r, &s, &sim->d, hash, sizeof(hash),
						 MBEDTLS_MD_SHA384, mbedtls_ctr_drbg_random,
						 &sim->rng.drbg);
	if (!ret)
		ret = mbedtls_mpi_write_binary_le(&r, report + SNP_OFF_SIG_R, SNP_P384_SIZE);
	if (!ret)
		ret = mbedtls_mpi_write_binary_le(&s, report + SNP_OFF_SIG_S, SNP_P384_SIZE);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	if (ret)
		return sim_tls_err(err, ret, "signing the report");
	return 0;
}

int snp_sim_get_report(struct snp_sim *sim, const uint8_t user_data[SNP_REPORT_DATA_SIZE],
		       uint32_t vmpl, bool want_certs, struct snp_sim_response *resp,
		       struct snp_err *err)
{
	struct snp_report r = sim->tmpl;
	int ret;

	memset(resp, 0, sizeof(*resp));
	/* The PSP refuses a VMPL it cannot vouch for: above 3, or more privileged. */
	if (vmpl > 3 || vmpl < sim->guest_vmpl) {
		resp->status = SNP_SIM_STATUS_INVALID_PARAM;
		return 0;
	}
	memcpy(r.report_data, user_data, SNP_REPORT_DATA_SIZE);
	r.vmpl = vmpl;
	snp_report_encode(&r, resp->report);
	ret = sign_report(sim, resp->report, err);
	if (ret)
		return ret;
	resp->report_len = SNP_REPORT_SIZE;
	if (!want_certs || !sim->cert_table)
		return 0;
	resp->certs = malloc(sim->certs_len);
	if (!resp->certs)
		return snp_errf(err, -ENOMEM, "out of memory for the certificate table");
	memcpy(resp->certs, sim->certs, sim->certs_len);
	resp->certs_len = sim->certs_len;
	return 0;
}

int snp_sim_handle(struct snp_sim *sim, const struct snp_sim_request *req,
		   struct snp_sim_response *resp, struct snp_err *err)
{
	return snp_sim_get_report(sim, req->user_data, req->vmpl,
				  req->type == SNP_SIM_REQ_EXT_REPORT, resp, err);
}

enum snp_product snp_sim_product(const struct snp_sim *sim)
{
	return sim->st.product;
}

const struct snp_report *snp_sim_template(const struct snp_sim *sim)
{
	return &sim->tmpl;
}

void snp_sim_cert(const struct snp_sim *sim, enum snp_sim_cert_id id, const uint8_t **der,
		  size_t *len)
{
	bool vlek = sim->vek_kind == SIM_CERT_VLEK;

	switch (id) {
	case SNP_SIM_CERT_ARK:
		*der = sim->st.ark_der, *len = sim->st.ark_der_len;
		return;
	case SNP_SIM_CERT_ASK:
		*der = vlek ? sim->st.asvk_der : sim->st.ask_der;
		*len = vlek ? sim->st.asvk_der_len : sim->st.ask_der_len;
		return;
	case SNP_SIM_CERT_VEK:
		break;
	}
	*der = sim->vek_der;
	*len = sim->vek_der_len;
}

int snp_sim_save_vek(const struct snp_sim *sim, const char *dir, bool *written,
		     struct snp_err *err)
{
	const char *name = sim->vek_kind == SIM_CERT_VLEK ? SIM_VLEK_CERT : SIM_VCEK_CERT;
	char path[PATH_LEN], *pem = NULL;
	uint8_t *old = NULL;
	size_t old_len = 0;
	int ret;

	*written = false;
	ret = sim_path(path, sizeof(path), dir, name, err);
	if (!ret)
		ret = sim_cert_pem(sim->vek_der, sim->vek_der_len, &pem, err);
	if (ret)
		return ret;
	if (!snp_read_file(path, VEK_FILE_MAX, &old, &old_len, NULL) && old_len == strlen(pem) &&
	    !memcmp(old, pem, old_len))
		goto out;
	ret = sim_write_file(path, pem, strlen(pem), 0644, err);
	*written = !ret;
out:
	free(old);
	free(pem);
	return ret;
}
