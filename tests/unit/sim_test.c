// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SNP firmware simulator (snp/sim/) and its wire protocol
 * (snp/simproto.c): reports carry what the configuration and the request
 * say and verify with the VCEK using mbedTLS directly; the certificates
 * have AMD's shapes byte for byte where AMD's have them; the PSP's refusals;
 * the configuration's strictness; the server and the client's bounded
 * waits. The committed test states in tests/data/sim* spare every test an
 * RSA-4096 key generation.
 */
#define _GNU_SOURCE	/* memmem, posix_openpt */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include "snp/certtable.h"
#include "snp/report.h"
#include "snp/roots.h"
#include "snp/sim/sim.h"
#include "snp/simproto.h"
#include "snp/verify.h"
#include "tests/harness.h"

#ifndef TESTS_DIR
#error "TESTS_DIR must be defined by the build"
#endif

#define SIM_MILAN TESTS_DIR "/data/sim"
#define SIM_TURIN TESTS_DIR "/data/sim-turin"
#define TIME_2026_01_01 ((time_t)1767225600)

/* RSASSA-PSS SHA-384 MGF1-SHA-384 salt 48, trailerField 1: AMD's ARK and ASK. */
static const uint8_t pss_alg_trailer[] = {
	0x30, 0x46, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
	0x30, 0x39, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a,
	0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60,
	0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa2, 0x03, 0x02,
	0x01, 0x30, 0xa3, 0x03, 0x02, 0x01, 0x01,
};

/* The same without trailerField: AMD's VCEKs. */
static const uint8_t pss_alg_vcek[] = {
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
	0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a,
	0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60,
	0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa2, 0x03, 0x02,
	0x01, 0x30,
};

/* 06 len 1.3.6.1.4.1.3704.1.<x>: the start of an AMD extension's OID. */
#define AMD_OID(len, ...) 0x06, len, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01, __VA_ARGS__

static struct snp_sim *open_sim(const char *dir, const char *text)
{
	struct snp_sim_config cfg;
	struct snp_err err = { 0 };
	struct snp_sim *sim = NULL;

	snp_sim_config_init(&cfg);
	if (text && snp_sim_config_parse(&cfg, text, strlen(text), "test.conf", &err)) {
		fprintf(stderr, "    config: %s\n", err.msg);
		return NULL;
	}
	if (snp_sim_open(&sim, dir, &cfg, &err))
		fprintf(stderr, "    open: %s\n", err.msg);
	return sim;
}

/* A report for user data 00 01 02 ... 3f at vmpl. */
static int get_report(struct snp_sim *sim, uint32_t vmpl, bool certs,
		      struct snp_sim_response *resp)
{
	uint8_t data[SNP_REPORT_DATA_SIZE];
	struct snp_err err = { 0 };
	int ret;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	ret = snp_sim_get_report(sim, data, vmpl, certs, resp, &err);
	if (ret)
		fprintf(stderr, "    get_report: %s\n", err.msg);
	return ret;
}

static bool contains(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	return memmem(hay, len, needle, n) != NULL;
}

static size_t count(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	size_t c = 0;

	for (const uint8_t *p = hay; (p = memmem(p, len - (size_t)(p - hay), needle, n)); p++)
		c++;
	return c;
}

/* ECDSA P-384 over bytes 0x000-0x29F, r and s little-endian, with mbedTLS alone. */
static int verify_report(const uint8_t *report, const uint8_t *vek_der, size_t vek_len)
{
	mbedtls_x509_crt crt;
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi d, r, s;
	uint8_t hash[48];
	int ret;

	mbedtls_x509_crt_init(&crt);
	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	ret = mbedtls_x509_crt_parse_der(&crt, vek_der, vek_len);
	if (!ret)
		ret = mbedtls_ecp_export(mbedtls_pk_ec(crt.pk), &grp, &d, &q);
	if (!ret)
		ret = mbedtls_sha512(report, SNP_REPORT_SIGNED_SIZE, hash, 1);
	if (!ret)
		ret = mbedtls_mpi_read_binary_le(&r, report + SNP_OFF_SIG_R, 72);
	if (!ret)
		ret = mbedtls_mpi_read_binary_le(&s, report + SNP_OFF_SIG_S, 72);
	if (!ret)
		ret = mbedtls_ecdsa_verify(&grp, hash, sizeof(hash), &q, &r, &s);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	mbedtls_x509_crt_free(&crt);
	return ret;
}

/* subject's RSASSA-PSS signature (the last 512 bytes of its DER) by issuer's key. */
static int verify_pss(const uint8_t *der, size_t len, const uint8_t *issuer_der,
		      size_t issuer_len, int salt)
{
	mbedtls_pk_rsassa_pss_options pss = { MBEDTLS_MD_SHA384, salt };
	mbedtls_x509_crt crt, issuer;
	uint8_t hash[48];
	int ret;

	mbedtls_x509_crt_init(&crt);
	mbedtls_x509_crt_init(&issuer);
	ret = mbedtls_x509_crt_parse_der(&crt, der, len);
	if (!ret)
		ret = mbedtls_x509_crt_parse_der(&issuer, issuer_der, issuer_len);
	if (!ret)
		ret = mbedtls_sha512(crt.tbs.p, crt.tbs.len, hash, 1);
	if (!ret)
		ret = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &pss, &issuer.pk,
					    MBEDTLS_MD_SHA384, hash, sizeof(hash),
					    der + len - 512, 512);
	mbedtls_x509_crt_free(&crt);
	mbedtls_x509_crt_free(&issuer);
	return ret;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static const char full_config[] =
	"# every key\n"
	"product = milan\n"
	"version = 3\n"
	"guest_svn = 7\n"
	"policy = 0x30000\n"
	"family_id = 0102030405060708090a0b0c0d0e0f10\n"
	"image_id = 1112131415161718191a1b1c1d1e1f20\n"
	"guest_vmpl = 1\n"
	"measurement = " "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\n"
	"host_data = b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2\n"
	"  id_key_digest =  c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
	"c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3\t\n"
	"author_key_digest = d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
	"d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4\n"
	"author_key_en = yes\n"
	"platform_info = 0x3\n"
	"signing_key = vcek\n"
	"mask_chip_key = no\n"
	"chip_id = " "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5"
	"e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5\n"
	"current_tcb = bl=3 tee=1 snp=20 ucode=209\n"
	"reported_tcb = bl=2, tee=0, snp=8, ucode=115\n"
	"committed_tcb = 0xd114000000000103\n"
	"launch_tcb = ucode=200 snp=19 bl=3\n"
	"current_fw = 1.55.21\n"
	"committed_fw = 1.54.9\n"
	"cpuid_fam_id = 0x19\n"
	"cpuid_mod_id = 0x01\n"
	"cpuid_step = 0x00\n"
	"report_id = f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6\n"
	"report_id_ma = 0707070707070707070707070707070707070707070707070707070707070707\n"
	"cert_table = yes\n"
	"csp_id = CN=example\n";

static void fill(uint8_t *p, uint8_t v, size_t n)
{
	memset(p, v, n);
}

TEST(sim_report_fields_come_from_the_config)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, full_config);
	struct snp_sim_response resp;
	struct snp_report r;
	struct snp_err err = { 0 };
	uint8_t want[64];

	REQUIRE(sim);
	REQUIRE(get_report(sim, 2, false, &resp) == 0);
	CHECK(resp.status == 0);
	CHECK(resp.report_len == SNP_REPORT_SIZE);
	CHECK(resp.certs == NULL && resp.certs_len == 0);
	REQUIRE(snp_report_parse(resp.report, resp.report_len, &r, &err) == 0);
	CHECK(r.version == 3);
	CHECK(r.guest_svn == 7);
	CHECK(r.policy == 0x30000);
	for (int i = 0; i < 16; i++)
		want[i] = (uint8_t)(i + 1);
	CHECK_MEM(r.family_id, want, 16);
	for (int i = 0; i < 16; i++)
		want[i] = (uint8_t)(0x11 + i);
	CHECK_MEM(r.image_id, want, 16);
	CHECK(r.vmpl == 2);
	CHECK(r.sig_algo == 1);
	CHECK(r.current_tcb == 0xd114000000000103ULL);
	CHECK(r.reported_tcb == 0x7308000000000002ULL);
	CHECK(r.committed_tcb == 0xd114000000000103ULL);
	CHECK(r.launch_tcb == 0xc813000000000003ULL);
	CHECK(r.platform_info == 3);
	CHECK(r.key_info == SNP_KEY_INFO_AUTHOR_KEY_EN);
	CHECK(r.author_key_en && !r.mask_chip_key && r.signing_key == SNP_SIGNING_KEY_VCEK);
	for (int i = 0; i < 64; i++)
		want[i] = (uint8_t)i;
	CHECK_MEM(r.report_data, want, 64);
	fill(want, 0xa1, 48);
	CHECK_MEM(r.measurement, want, 48);
	fill(want, 0xb2, 32);
	CHECK_MEM(r.host_data, want, 32);
	fill(want, 0xc3, 48);
	CHECK_MEM(r.id_key_digest, want, 48);
	fill(want, 0xd4, 48);
	CHECK_MEM(r.author_key_digest, want, 48);
	fill(want, 0xf6, 32);
	CHECK_MEM(r.report_id, want, 32);
	fill(want, 0x07, 32);
	CHECK_MEM(r.report_id_ma, want, 32);
	CHECK(r.cpuid_fam_id == 0x19 && r.cpuid_mod_id == 0x01 && r.cpuid_step == 0);
	fill(want, 0xe5, 64);
	CHECK_MEM(r.chip_id, want, 64);
	CHECK(r.current_fw.major == 1 && r.current_fw.minor == 55 && r.current_fw.build == 21);
	CHECK(r.committed_fw.major == 1 && r.committed_fw.minor == 54 &&
	      r.committed_fw.build == 9);
	CHECK(r.cpuid_product == SNP_PRODUCT_MILAN);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

TEST(sim_defaults_are_a_milan_v3_guest)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, NULL), *again;
	struct snp_sim_response resp;
	struct snp_report r;
	uint8_t ff[32];

	REQUIRE(sim);
	REQUIRE(get_report(sim, 0, false, &resp) == 0);
	REQUIRE(snp_report_parse(resp.report, resp.report_len, &r, NULL) == 0);
	CHECK(r.version == 3);
	CHECK(r.policy == 0x30000);
	CHECK(r.vmpl == 0);
	CHECK(r.current_tcb == 0xdb18000000000004ULL);	/* bl=4 tee=0 snp=24 ucode=219 */
	CHECK(r.reported_tcb == r.current_tcb && r.committed_tcb == r.current_tcb &&
	      r.launch_tcb == r.current_tcb);
	CHECK(r.cpuid_fam_id == 0x19 && r.cpuid_mod_id == 0x01 && r.cpuid_step == 0x01);
	CHECK(r.current_fw.major == 1 && r.current_fw.minor == 55 && r.current_fw.build == 29);
	CHECK(r.key_info == 0);
	CHECK(!snp_report_chip_id_zero(&r));
	memset(ff, 0xff, sizeof(ff));
	CHECK_MEM(r.report_id_ma, ff, 32);
	CHECK(!all_zero(r.report_id, 32));
	/* REPORT_ID is per launch: another open, another id; the same within one. */
	again = open_sim(SIM_MILAN, NULL);
	REQUIRE(again);
	CHECK(memcmp(snp_sim_template(again)->report_id, r.report_id, 32) != 0);
	CHECK_MEM(snp_sim_template(sim)->report_id, r.report_id, 32);
	snp_sim_close(again);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

TEST(sim_reserved_ranges_are_zero)
{
	static const struct { size_t start, end; } ranges[] = {
		{ 0x04c, 0x050 }, { 0x18b, 0x1a0 }, { 0x1eb, 0x1ec }, { 0x1ef, 0x1f0 },
		{ 0x1f8, 0x2a0 }, { 0x2d0, 0x2e8 }, { 0x318, 0x4a0 },
	};
	struct snp_sim *sim = open_sim(SIM_MILAN, NULL);
	struct snp_sim_response resp;

	REQUIRE(sim);
	REQUIRE(get_report(sim, 0, false, &resp) == 0);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		CHECK(all_zero(resp.report + ranges[i].start, ranges[i].end - ranges[i].start));
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

TEST(sim_report_data_and_vmpl_come_from_the_request)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, NULL);
	struct snp_sim_request req = { .type = SNP_SIM_REQ_REPORT, .vmpl = 3 };
	struct snp_sim_response resp;
	struct snp_err err = { 0 };

	REQUIRE(sim);
	memset(req.user_data, 0x5a, sizeof(req.user_data));
	REQUIRE(snp_sim_handle(sim, &req, &resp, &err) == 0);
	CHECK(resp.status == 0);
	CHECK_MEM(resp.report + SNP_OFF_REPORT_DATA, req.user_data, 64);
	CHECK(resp.report[SNP_OFF_VMPL] == 3);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

TEST(sim_vmpl_below_the_guests_is_invalid_param)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, "guest_vmpl = 2\n");
	struct snp_sim_response resp;

	REQUIRE(sim);
	for (uint32_t vmpl = 0; vmpl <= 5; vmpl++) {
		bool ok = vmpl == 2 || vmpl == 3;

		REQUIRE(get_report(sim, vmpl, true, &resp) == 0);
		CHECK(resp.status == (ok ? 0 : SNP_SIM_STATUS_INVALID_PARAM));
		CHECK(resp.report_len == (ok ? SNP_REPORT_SIZE : 0));
		CHECK(ok || (resp.certs == NULL && resp.certs_len == 0));
		snp_sim_response_free(&resp);
	}
	REQUIRE(get_report(sim, UINT32_MAX, false, &resp) == 0);
	CHECK(resp.status == SNP_SIM_STATUS_INVALID_PARAM);
	snp_sim_close(sim);
}

TEST(sim_signature_verifies_with_the_vcek)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, NULL);
	struct snp_sim_response resp;
	const uint8_t *vek;
	size_t vek_len;
	uint8_t *state_vcek;
	size_t state_len;
	mbedtls_x509_crt crt;

	REQUIRE(sim);
	REQUIRE(get_report(sim, 0, false, &resp) == 0);
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &vek, &vek_len);
	CHECK(verify_report(resp.report, vek, vek_len) == 0);
	/* Every signed byte counts; the bytes after 0x29F are not signed. */
	resp.report[0x29f] ^= 1;
	CHECK(verify_report(resp.report, vek, vek_len) != 0);
	resp.report[0x29f] ^= 1;
	resp.report[0x000] ^= 0x80;
	CHECK(verify_report(resp.report, vek, vek_len) != 0);
	resp.report[0x000] ^= 0x80;
	/* The default configuration's VCEK is the one in the state directory. */
	state_vcek = test_read_file(SIM_MILAN "/vcek.pem", 65536, &state_len);
	state_vcek[state_len] = '\0';	/* test_read_file leaves room for it */
	mbedtls_x509_crt_init(&crt);
	REQUIRE(mbedtls_x509_crt_parse(&crt, state_vcek, state_len + 1) == 0);
	CHECK(crt.raw.len == vek_len);
	CHECK_MEM(crt.raw.p, vek, vek_len);
	CHECK(verify_report(resp.report, crt.raw.p, crt.raw.len) == 0);
	mbedtls_x509_crt_free(&crt);
	free(state_vcek);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

/* The three certificates from an extended report's table. */
struct chain {
	struct snp_cert_table table;
	const struct snp_cert_entry *ark, *ask, *vek;
};

static int get_chain(struct snp_sim *sim, struct snp_sim_response *resp, struct chain *c,
		     enum snp_cert_kind vek_kind)
{
	struct snp_err err = { 0 };

	if (get_report(sim, 0, true, resp) || resp->status || !resp->certs)
		return -1;
	if (snp_cert_table_parse(resp->certs, resp->certs_len, &c->table, &err)) {
		fprintf(stderr, "    cert table: %s\n", err.msg);
		return -1;
	}
	c->ark = snp_cert_table_find(&c->table, SNP_CERT_ARK);
	c->ask = snp_cert_table_find(&c->table, SNP_CERT_ASK);
	c->vek = snp_cert_table_find(&c->table, vek_kind);
	return c->ark && c->ask && c->vek && c->table.count == 3 ? 0 : -1;
}

static bool cn_is(const mbedtls_x509_name *name, const char *cn)
{
	for (; name; name = name->next)
		if (!MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid))
			return name->val.len == strlen(cn) && !memcmp(name->val.p, cn, strlen(cn));
	return false;
}

TEST(sim_cert_table_holds_ark_ask_vcek_as_der)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, NULL);
	struct snp_sim_response resp;
	struct chain c;
	mbedtls_x509_crt ark, ask, vcek;
	const uint8_t *der;
	size_t len;

	REQUIRE(sim);
	REQUIRE(get_chain(sim, &resp, &c, SNP_CERT_VCEK) == 0);
	CHECK(!c.ark->pem && !c.ask->pem && !c.vek->pem);
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &der, &len);
	CHECK(c.vek->length == len && !memcmp(c.vek->data, der, len));
	mbedtls_x509_crt_init(&ark);
	mbedtls_x509_crt_init(&ask);
	mbedtls_x509_crt_init(&vcek);
	REQUIRE(mbedtls_x509_crt_parse_der(&ark, c.ark->data, c.ark->length) == 0);
	REQUIRE(mbedtls_x509_crt_parse_der(&ask, c.ask->data, c.ask->length) == 0);
	REQUIRE(mbedtls_x509_crt_parse_der(&vcek, c.vek->data, c.vek->length) == 0);
	CHECK(cn_is(&ark.subject, "ARK-Milan") && cn_is(&ark.issuer, "ARK-Milan"));
	CHECK(cn_is(&ask.subject, "SEV-Milan") && cn_is(&ask.issuer, "ARK-Milan"));
	CHECK(cn_is(&vcek.subject, "SEV-VCEK") && cn_is(&vcek.issuer, "SEV-Milan"));
	CHECK(mbedtls_pk_get_bitlen(&ark.pk) == 4096 && mbedtls_pk_get_bitlen(&ask.pk) == 4096);
	CHECK(mbedtls_pk_get_type(&vcek.pk) == MBEDTLS_PK_ECKEY &&
	      mbedtls_pk_get_bitlen(&vcek.pk) == 384);
	/* Serial 0 like AMD's VCEKs; AMD's ARK and ASK numbers. */
	CHECK(vcek.serial.len == 1 && vcek.serial.p[0] == 0);
	CHECK(ark.serial.len == 3 && !memcmp(ark.serial.p, "\x01\x00\x00", 3));
	CHECK(ask.serial.len == 3 && !memcmp(ask.serial.p, "\x01\x00\x01", 3));
	/* The simulator says what it is. */
	CHECK(contains(c.ark->data, c.ark->length, "not AMD", 7));
	CHECK(!contains(c.vek->data, c.vek->length, "Advanced Micro Devices", 22));
	/* 25 years for the roots, 7 for the VCEK, from 2025-01-01. */
	CHECK(ark.valid_from.year == 2025 && ark.valid_to.year == 2050);
	CHECK(vcek.valid_from.year == 2025 && vcek.valid_to.year == 2032);
	mbedtls_x509_crt_free(&ark);
	mbedtls_x509_crt_free(&ask);
	mbedtls_x509_crt_free(&vcek);
	snp_cert_table_free(&c.table);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

TEST(sim_vcek_extensions_have_amds_encodings)
{
	static const uint8_t struct_version[] = { AMD_OID(9, 0x01), 0x04, 0x03, 0x02, 0x01, 0x00 };
	static const uint8_t product[] = { AMD_OID(9, 0x02), 0x04, 0x0a, 0x16, 0x08,
					   'M', 'i', 'l', 'a', 'n', '-', 'B', '0' };
	static const uint8_t bl[] = { AMD_OID(10, 0x03, 0x01), 0x04, 0x03, 0x02, 0x01, 0x04 };
	static const uint8_t snp[] = { AMD_OID(10, 0x03, 0x03), 0x04, 0x03, 0x02, 0x01, 0x18 };
	/* ucode 219: a two-byte INTEGER, 02 02 00 db. */
	static const uint8_t ucode[] = { AMD_OID(10, 0x03, 0x08), 0x04, 0x04, 0x02, 0x02, 0x00, 0xdb };
	static const uint8_t hwid_hdr[] = { AMD_OID(9, 0x04), 0x04, 0x40 };
	static const uint8_t fmc[] = { AMD_OID(10, 0x03, 0x09) };
	struct snp_sim *sim = open_sim(SIM_MILAN, NULL);
	const struct snp_report *t;
	const uint8_t *der, *p;
	size_t len;

	REQUIRE(sim);
	t = snp_sim_template(sim);
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &der, &len);
	CHECK(contains(der, len, struct_version, sizeof(struct_version)));
	CHECK(contains(der, len, product, sizeof(product)));
	CHECK(contains(der, len, bl, sizeof(bl)));
	CHECK(contains(der, len, snp, sizeof(snp)));
	CHECK(contains(der, len, ucode, sizeof(ucode)));
	CHECK(!contains(der, len, fmc, sizeof(fmc)));
	/* hwID: the 64 raw bytes of CHIP_ID, no OCTET STRING inside. */
	p = memmem(der, len, hwid_hdr, sizeof(hwid_hdr));
	REQUIRE(p);
	CHECK_MEM(p + sizeof(hwid_hdr), t->chip_id, 64);
	/* AMD's PSS parameters: twice in each certificate, trailerField in ARK/ASK only. */
	CHECK(count(der, len, pss_alg_vcek, sizeof(pss_alg_vcek)) == 2);
	snp_sim_cert(sim, SNP_SIM_CERT_ARK, &der, &len);
	CHECK(count(der, len, pss_alg_trailer, sizeof(pss_alg_trailer)) == 2);
	snp_sim_cert(sim, SNP_SIM_CERT_ASK, &der, &len);
	CHECK(count(der, len, pss_alg_trailer, sizeof(pss_alg_trailer)) == 2);
	snp_sim_close(sim);
}

/* The PSS parameter bytes above are AMD's own: check them against real certificates. */
TEST(sim_pss_parameters_match_real_amd_certificates)
{
	size_t ark_len, vcek_len;
	uint8_t *ark = test_read_shared("snp-real/amd-roots/milan/ark.pem", 65536, &ark_len);
	uint8_t *vcek = test_read_shared("snp-real/oak-milan-oc-release-v3/vcek.der", 65536,
					 &vcek_len);
	mbedtls_x509_crt crt;

	ark[ark_len] = '\0';	/* test_read_file leaves room for it */
	mbedtls_x509_crt_init(&crt);
	REQUIRE(mbedtls_x509_crt_parse(&crt, ark, ark_len + 1) == 0);
	CHECK(count(crt.raw.p, crt.raw.len, pss_alg_trailer, sizeof(pss_alg_trailer)) == 2);
	CHECK(count(vcek, vcek_len, pss_alg_vcek, sizeof(pss_alg_vcek)) == 2);
	mbedtls_x509_crt_free(&crt);
	free(ark);
	free(vcek);
}

TEST(sim_chain_signatures_are_rsa_pss_salt_48)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, NULL);
	const uint8_t *ark, *ask, *vek;
	size_t ark_len, ask_len, vek_len;
	mbedtls_x509_crt root, chain;
	uint32_t flags = 0;

	REQUIRE(sim);
	snp_sim_cert(sim, SNP_SIM_CERT_ARK, &ark, &ark_len);
	snp_sim_cert(sim, SNP_SIM_CERT_ASK, &ask, &ask_len);
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &vek, &vek_len);
	CHECK(verify_pss(ark, ark_len, ark, ark_len, 48) == 0);
	CHECK(verify_pss(ask, ask_len, ark, ark_len, 48) == 0);
	CHECK(verify_pss(vek, vek_len, ask, ask_len, 48) == 0);
	/* The salt is 48 bytes, not just any: a verifier asking for 32 refuses. */
	CHECK(verify_pss(vek, vek_len, ask, ask_len, 32) != 0);
	CHECK(verify_pss(vek, vek_len, ark, ark_len, 48) != 0);
	/* mbedTLS's own chain verification agrees (dates aside). */
	mbedtls_x509_crt_init(&root);
	mbedtls_x509_crt_init(&chain);
	REQUIRE(mbedtls_x509_crt_parse_der(&root, ark, ark_len) == 0);
	REQUIRE(mbedtls_x509_crt_parse_der(&chain, vek, vek_len) == 0);
	REQUIRE(mbedtls_x509_crt_parse_der(&chain, ask, ask_len) == 0);
	mbedtls_x509_crt_verify(&chain, &root, NULL, NULL, &flags, NULL, NULL);
	CHECK((flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) == 0);
	mbedtls_x509_crt_free(&root);
	mbedtls_x509_crt_free(&chain);
	snp_sim_close(sim);
}

TEST(sim_vcek_is_reissued_for_another_tcb_or_chip)
{
	static const uint8_t ucode115[] = { AMD_OID(10, 0x03, 0x08), 0x04, 0x03, 0x02, 0x01, 0x73 };
	struct snp_sim *dflt = open_sim(SIM_MILAN, NULL);
	struct snp_sim *tcb = open_sim(SIM_MILAN, "reported_tcb = bl=2 tee=0 snp=8 ucode=115\n");
	struct snp_sim *tcb2 = open_sim(SIM_MILAN, "reported_tcb = bl=2 tee=0 snp=8 ucode=115\n"
					"measurement = " "11111111111111111111111111111111"
					"1111111111111111111111111111111111111111111111111111111111111111\n");
	struct snp_sim *chip = open_sim(SIM_MILAN, "chip_id = "
		"0101010101010101010101010101010101010101010101010101010101010101"
		"0101010101010101010101010101010101010101010101010101010101010101\n");
	const uint8_t *a, *b, *c, *d, *ask;
	size_t alen, blen, clen, dlen, ask_len;
	struct snp_sim_response resp;

	REQUIRE(dflt && tcb && tcb2 && chip);
	snp_sim_cert(dflt, SNP_SIM_CERT_VEK, &a, &alen);
	snp_sim_cert(tcb, SNP_SIM_CERT_VEK, &b, &blen);
	snp_sim_cert(tcb2, SNP_SIM_CERT_VEK, &c, &clen);
	snp_sim_cert(chip, SNP_SIM_CERT_VEK, &d, &dlen);
	snp_sim_cert(tcb, SNP_SIM_CERT_ASK, &ask, &ask_len);
	CHECK(contains(b, blen, ucode115, sizeof(ucode115)));
	CHECK(!contains(a, alen, ucode115, sizeof(ucode115)));
	CHECK(verify_pss(b, blen, ask, ask_len, 48) == 0);
	CHECK(verify_pss(d, dlen, ask, ask_len, 48) == 0);
	/* Another TCB or chip, another key; the same TCB and chip, the same key. */
	REQUIRE(get_report(tcb, 0, false, &resp) == 0);
	CHECK(verify_report(resp.report, a, alen) != 0);
	CHECK(verify_report(resp.report, b, blen) == 0);
	CHECK(verify_report(resp.report, c, clen) == 0);
	CHECK(verify_report(resp.report, d, dlen) != 0);
	snp_sim_response_free(&resp);
	snp_sim_close(dflt);
	snp_sim_close(tcb);
	snp_sim_close(tcb2);
	snp_sim_close(chip);
}

TEST(sim_mask_chip_key_zeroes_chip_id)
{
	struct snp_sim *sim = open_sim(SIM_MILAN, "mask_chip_key = yes\n");
	struct snp_sim_response resp;
	struct snp_report r;
	const uint8_t *vek;
	size_t len;

	REQUIRE(sim);
	REQUIRE(get_report(sim, 0, false, &resp) == 0);
	REQUIRE(snp_report_parse(resp.report, resp.report_len, &r, NULL) == 0);
	CHECK(r.mask_chip_key && r.key_info == SNP_KEY_INFO_MASK_CHIP_KEY);
	CHECK(snp_report_chip_id_zero(&r));
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &vek, &len);
	CHECK(verify_report(resp.report, vek, len) == 0);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

TEST(sim_vlek_signs_with_signing_key_1)
{
	static const uint8_t csp[] = { AMD_OID(9, 0x05), 0x04, 0x0c, 0x16, 0x0a,
				       'C', 'N', '=', 'e', 'x', 'a', 'm', 'p', 'l', 'e' };
	static const uint8_t hwid[] = { AMD_OID(9, 0x04) };
	struct snp_sim *sim = open_sim(SIM_MILAN, "signing_key = vlek\ncsp_id = CN=example\n");
	struct snp_sim_response resp;
	struct snp_report r;
	mbedtls_x509_crt asvk, vlek;
	struct chain c;

	REQUIRE(sim);
	REQUIRE(get_chain(sim, &resp, &c, SNP_CERT_VLEK) == 0);
	REQUIRE(snp_report_parse(resp.report, resp.report_len, &r, NULL) == 0);
	CHECK(r.signing_key == SNP_SIGNING_KEY_VLEK && r.key_info == 1u << 2);
	CHECK(snp_report_chip_id_zero(&r));
	CHECK(verify_report(resp.report, c.vek->data, c.vek->length) == 0);
	CHECK(verify_pss(c.vek->data, c.vek->length, c.ask->data, c.ask->length, 48) == 0);
	CHECK(verify_pss(c.ask->data, c.ask->length, c.ark->data, c.ark->length, 48) == 0);
	CHECK(contains(c.vek->data, c.vek->length, csp, sizeof(csp)));
	CHECK(!contains(c.vek->data, c.vek->length, hwid, sizeof(hwid)));
	mbedtls_x509_crt_init(&asvk);
	mbedtls_x509_crt_init(&vlek);
	REQUIRE(mbedtls_x509_crt_parse_der(&asvk, c.ask->data, c.ask->length) == 0);
	REQUIRE(mbedtls_x509_crt_parse_der(&vlek, c.vek->data, c.vek->length) == 0);
	CHECK(cn_is(&asvk.subject, "SEV-VLEK-Milan") && cn_is(&asvk.issuer, "ARK-Milan"));
	CHECK(cn_is(&vlek.subject, "SEV-VLEK") && cn_is(&vlek.issuer, "SEV-VLEK-Milan"));
	mbedtls_x509_crt_free(&asvk);
	mbedtls_x509_crt_free(&vlek);
	snp_cert_table_free(&c.table);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

TEST(sim_turin_has_an_8_byte_hwid_and_fmc)
{
	static const uint8_t fmc[] = { AMD_OID(10, 0x03, 0x09), 0x04, 0x03, 0x02, 0x01, 0x05 };
	static const uint8_t struct_version[] = { AMD_OID(9, 0x01), 0x04, 0x03, 0x02, 0x01, 0x01 };
	static const uint8_t hwid_hdr[] = { AMD_OID(9, 0x04), 0x04, 0x08 };
	struct snp_sim *sim = open_sim(SIM_TURIN, "current_tcb = fmc=5 bl=1 tee=0 snp=2 ucode=71\n");
	struct snp_sim_response resp;
	struct snp_report r;
	const uint8_t *vek, *p;
	size_t len;

	REQUIRE(sim);
	CHECK(snp_sim_product(sim) == SNP_PRODUCT_TURIN);
	REQUIRE(get_report(sim, 0, false, &resp) == 0);
	REQUIRE(snp_report_parse(resp.report, resp.report_len, &r, NULL) == 0);
	CHECK(r.version == 5);
	CHECK(r.cpuid_product == SNP_PRODUCT_TURIN);
	CHECK(r.reported_tcb == 0x4700000002000105ULL);
	CHECK(!all_zero(r.chip_id, 8) && all_zero(r.chip_id + 8, 56));
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &vek, &len);
	CHECK(verify_report(resp.report, vek, len) == 0);
	CHECK(contains(vek, len, fmc, sizeof(fmc)));
	CHECK(contains(vek, len, struct_version, sizeof(struct_version)));
	p = memmem(vek, len, hwid_hdr, sizeof(hwid_hdr));
	REQUIRE(p);
	CHECK_MEM(p + sizeof(hwid_hdr), r.chip_id, 8);
	snp_sim_response_free(&resp);
	snp_sim_close(sim);
}

/* Refused configurations: each message names the file, the line and the reason. */
TEST(sim_config_errors_say_where_and_why)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "# ok\nfrobnicate = 1\n", "test.conf:2: unknown key 'frobnicate'" },
		{ "version = 3\nversion = 5\n", "test.conf:2: version is already set on line 1" },
		{ "version = 4\n", "test.conf:1: version: '4' is not a report version" },
		{ "measurement = abcd\n", "test.conf:1: measurement: expected 96 hex digits" },
		{ "host_data = zz" "00000000000000000000000000000000000000000000000000000000000000\n",
		  "test.conf:1: host_data: 'zz' at position 1 is not hex" },
		{ "policy = 0x10000\n", "test.conf:1: policy: 0x10000 has bit 17 clear" },
		{ "policy = 0x4030000\n", "test.conf:1: policy: 0x4030000 sets reserved bits 26-63" },
		{ "guest_vmpl = 4\n", "test.conf:1: guest_vmpl: '4' is not a VMPL" },
		{ "guest_svn = -1\n", "test.conf:1: guest_svn: '-1' is not a 32-bit number" },
		{ "just words\n", "test.conf:1: 'just words' is not 'key = value'" },
		{ "signing_key = vcek2\n", "test.conf:1: signing_key: 'vcek2' is neither vcek nor vlek" },
		{ "mask_chip_key = maybe\n", "test.conf:1: mask_chip_key: 'maybe' is not yes or no" },
		{ "current_tcb = bl=1 bl=2\n", "test.conf:1: current_tcb: bl is given twice" },
		{ "current_tcb = bl=256\n", "test.conf:1: current_tcb: '256' for bl is not 0-255" },
		{ "current_tcb = sev=1\n", "test.conf:1: current_tcb: 'sev=1' is not NAME=VALUE" },
		{ "current_fw = 1.55\n", "test.conf:1: current_fw: '1.55' is not MAJOR.MINOR.BUILD" },
		{ "committed_fw = 1.+5.3\n", "test.conf:1: committed_fw: '1.+5.3' is not MAJOR.MINOR" },
		{ "launch_tcb = 0x1 junk\n", "test.conf:1: launch_tcb: '0x1 junk' is not a 64-bit TCB_VERSION" },
		{ "chip_id = 0102\n", "test.conf:1: chip_id: expected 'derived', 16 hex digits" },
		{ "product = rome\n", "test.conf:1: product: 'rome' is none of milan, genoa, turin" },
		{ "report_id =\n", "test.conf:1: report_id has no value" },
	};
	struct snp_sim_config cfg;
	struct snp_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snp_sim_config_init(&cfg);
		memset(&err, 0, sizeof(err));
		CHECK(snp_sim_config_parse(&cfg, cases[i].text, strlen(cases[i].text), "test.conf",
					   &err) == -EINVAL);
		if (!strstr(err.msg, cases[i].want))
			CHECK_STR(err.msg, cases[i].want);
	}
}

/* Refusals that need the state's product, or cross keys. */
TEST(sim_config_resolve_errors_say_where_and_why)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "product = genoa\n", "test.conf:1: product: Genoa, but the simulator state is for Milan" },
		{ "\ncurrent_tcb = fmc=1 bl=2\n", "test.conf:2: current_tcb: fmc= exists only in Turin's TCB" },
		{ "version = 2\ncpuid_mod_id = 1\n", "test.conf:2: cpuid_mod_id: version 2 reports carry no CPUID" },
		{ "current_mit_vector = 1\n", "test.conf:1: current_mit_vector: mitigation vectors exist from version 5 on" },
		{ "author_key_digest = " "010101010101010101010101010101010101010101010101"
		  "010101010101010101010101010101010101010101010101\n",
		  "test.conf:1: author_key_digest: the PSP fills AUTHOR_KEY_DIGEST only with author_key_en = yes" },
		{ "chip_id = 0102030405060708\n", "test.conf:1: chip_id: a Milan chip id is 64 bytes" },
		{ "cpuid_fam_id = 0x1a\ncpuid_mod_id = 2\n", "cpuid_mod_id: family 0x1a model 0x02 is not a Milan" },
	};
	uint8_t chip[SNP_CHIP_ID_SIZE] = { 1 };
	struct snp_sim_config cfg;
	struct snp_report tmpl;
	struct snp_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snp_sim_config_init(&cfg);
		memset(&err, 0, sizeof(err));
		REQUIRE(snp_sim_config_parse(&cfg, cases[i].text, strlen(cases[i].text), "test.conf",
					     &err) == 0);
		CHECK(snp_sim_config_resolve(&cfg, SNP_PRODUCT_MILAN, chip, &tmpl, &err) == -EINVAL);
		if (!strstr(err.msg, cases[i].want))
			CHECK_STR(err.msg, cases[i].want);
	}
	/* A VLEK needs an ASVK in the state. */
	snp_sim_config_init(&cfg);
	cfg.signing_key = SNP_SIGNING_KEY_VLEK;
	{
		struct snp_sim *sim = NULL;

		CHECK(snp_sim_open(&sim, SIM_TURIN, &cfg, &err) == -ENOENT);
		CHECK(strstr(err.msg, "has no ASVK") != NULL);
		CHECK(sim == NULL);
	}
}

TEST(sim_config_load_reads_a_file)
{
	static const char text[] = "guest_svn = 0x10\r\n\n  # comment\nversion=5\n";
	struct snp_sim_config cfg;
	struct snp_err err = { 0 };
	FILE *f = fopen(test_path("sim.conf"), "w");

	REQUIRE(f);
	fputs(text, f);
	fclose(f);
	snp_sim_config_init(&cfg);
	REQUIRE(snp_sim_config_load(&cfg, test_path("sim.conf"), &err) == 0);
	CHECK(cfg.guest_svn == 16 && cfg.version == 5);
	CHECK(cfg.line[SNP_SIM_KEY_VERSION] == 4);
	snp_sim_config_init(&cfg);
	CHECK(snp_sim_config_load(&cfg, test_path("missing.conf"), &err) == -ENOENT);
	CHECK(strstr(err.msg, "missing.conf") != NULL);
}

/* A state the tests make themselves: missing files and a wrong key are refused. */
TEST(sim_open_refuses_a_broken_state)
{
	struct snp_sim_config cfg;
	struct snp_sim *sim = NULL;
	struct snp_err err = { 0 };

	snp_sim_config_init(&cfg);
	CHECK(snp_sim_open(&sim, test_path("nothing"), &cfg, &err) < 0);
	CHECK(strstr(err.msg, "ark.key") != NULL);
	CHECK(sim == NULL);
}

/* Wire protocol. */

TEST(simproto_request_round_trip_and_refusals)
{
	struct snp_sim_request req = { .type = SNP_SIM_REQ_EXT_REPORT, .vmpl = 2 }, got;
	uint8_t buf[SNP_SIM_REQ_SIZE];
	struct snp_err err = { 0 };

	memset(req.user_data, 0x33, sizeof(req.user_data));
	snp_sim_request_encode(&req, buf);
	CHECK(!memcmp(buf, "SNPSIMRQ\x01\0\0\0\x02\0\0\0\x02\0\0\0", 20));
	REQUIRE(snp_sim_request_decode(buf, sizeof(buf), &got, &err) == 0);
	CHECK(got.type == 2 && got.vmpl == 2);
	CHECK_MEM(got.user_data, req.user_data, 64);
	CHECK(snp_sim_request_decode(buf, 95, &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "95 bytes") != NULL);
	buf[0] = 'X';
	CHECK(snp_sim_request_decode(buf, sizeof(buf), &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "\"XNPSIMRQ\"") != NULL);
	buf[0] = 'S';
	buf[8] = 2;
	CHECK(snp_sim_request_decode(buf, sizeof(buf), &got, &err) == -EPROTONOSUPPORT);
	buf[8] = 1;
	buf[12] = 3;
	CHECK(snp_sim_request_decode(buf, sizeof(buf), &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "type is 3") != NULL);
	buf[12] = 1;
	buf[31] = 1;
	CHECK(snp_sim_request_decode(buf, sizeof(buf), &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "reserved") != NULL);
}

TEST(simproto_response_round_trip_and_refusals)
{
	struct snp_sim_response resp = { .status = 0, .report_len = SNP_REPORT_SIZE }, got;
	uint8_t certs[100], *buf = NULL;
	struct snp_err err = { 0 };
	size_t len;

	memset(resp.report, 0x44, sizeof(resp.report));
	memset(certs, 0x55, sizeof(certs));
	resp.certs = certs;
	resp.certs_len = sizeof(certs);
	REQUIRE(snp_sim_response_encode(&resp, &buf, &len, &err) == 0);
	CHECK(len == SNP_SIM_RESP_HDR_SIZE + SNP_REPORT_SIZE + sizeof(certs));
	REQUIRE(snp_sim_response_decode(buf, len, SNP_SIM_REQ_EXT_REPORT, &got, &err) == 0);
	CHECK(got.status == 0 && got.report_len == SNP_REPORT_SIZE &&
	      got.certs_len == sizeof(certs));
	CHECK_MEM(got.report, resp.report, SNP_REPORT_SIZE);
	CHECK_MEM(got.certs, certs, sizeof(certs));
	snp_sim_response_free(&got);
	/* No certificates for a plain request. */
	CHECK(snp_sim_response_decode(buf, len, SNP_SIM_REQ_REPORT, &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "plain report request") != NULL);
	/* One byte more or less than the header says. */
	CHECK(snp_sim_response_decode(buf, len - 1, SNP_SIM_REQ_EXT_REPORT, &got, &err) ==
	      -EBADMSG);
	/* report_len must be 0x4A0 on success. */
	buf[16] = 0x9f;
	CHECK(snp_sim_response_decode(buf, len, SNP_SIM_REQ_EXT_REPORT, &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "report_len 1183") != NULL);
	buf[16] = 0xa0;
	/* certs_len above SNP_SIM_CERTS_MAX. */
	buf[20] = 0x01, buf[21] = 0x40;
	CHECK(snp_sim_response_decode(buf, len, SNP_SIM_REQ_EXT_REPORT, &got, &err) == -EMSGSIZE);
	buf[20] = sizeof(certs), buf[21] = 0;
	buf[24] = 1;
	CHECK(snp_sim_response_decode(buf, len, SNP_SIM_REQ_EXT_REPORT, &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "reserved") != NULL);
	buf[24] = 0;
	/* A failure status carries nothing. */
	buf[12] = 0x16;
	CHECK(snp_sim_response_decode(buf, len, SNP_SIM_REQ_EXT_REPORT, &got, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "both must be 0") != NULL);
	free(buf);
}

TEST(simproto_call_refuses_bad_addresses_quickly)
{
	struct snp_sim_request req = { .type = SNP_SIM_REQ_REPORT };
	struct snp_sim_response resp;
	struct snp_err err = { 0 };
	char longpath[200];
	FILE *f;

	CHECK(snp_sim_call("sim.sock", &req, &resp, 1000, &err) == -EINVAL);
	CHECK(strstr(err.msg, "none of unix:PATH, tcp:HOST:PORT") != NULL);
	CHECK(snp_sim_call("tcp:example.com:4000", &req, &resp, 1000, &err) == -EINVAL);
	CHECK(strstr(err.msg, "no name lookup") != NULL);
	CHECK(snp_sim_call("tcp:127.0.0.1", &req, &resp, 1000, &err) == -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK(snp_sim_call(longpath, &req, &resp, 1000, &err) == -ENAMETOOLONG);
	CHECK(snp_sim_call("unix:/nonexistent/sim.sock", &req, &resp, 1000, &err) == -ENOENT);
	f = fopen(test_path("plain"), "w");
	REQUIRE(f);
	fclose(f);
	CHECK(snp_sim_call(test_path("plain"), &req, &resp, 1000, &err) == -ENODEV);
	CHECK(strstr(err.msg, "not a character device") != NULL);
	/* /dev/null: a device that answers nothing ends the call, it does not hang. */
	CHECK(snp_sim_call("/dev/null", &req, &resp, 1000, &err) == -ECONNRESET);
	CHECK(resp.certs == NULL);
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int unix_listener(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 4))
		return -1;
	return fd;
}

TEST(simproto_call_times_out_on_a_silent_simulator)
{
	struct snp_sim_request req = { .type = SNP_SIM_REQ_REPORT };
	struct snp_sim_response resp;
	struct snp_err err = { 0 };
	char addr[200];
	struct timespec t0;
	int fd = unix_listener(test_path("silent.sock"));

	REQUIRE(fd >= 0);
	snprintf(addr, sizeof(addr), "unix:%s", test_path("silent.sock"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(snp_sim_call(addr, &req, &resp, 300, &err) == -ETIMEDOUT);
	CHECK(ms_since(&t0) >= 290 && ms_since(&t0) < 3000);
	CHECK(strstr(err.msg, "no answer within 300 ms") != NULL);
	close(fd);
}

/* A simulator serving in a child process. */
static volatile int child_stop;

static void child_on_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

static pid_t start_server(const char *dir, const char *config, const char *addr, int timeout_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct snp_sim_serve_opts o = {
			.timeout_ms = timeout_ms, .max_conns = 4, .stop = &child_stop,
		};
		struct snp_err err = { 0 };
		struct snp_sim *sim;
		int ret;

		signal(SIGTERM, child_on_term);
		sim = open_sim(dir, config);
		if (!sim)
			_exit(3);
		ret = snp_sim_serve(sim, addr, &o, &err);
		snp_sim_close(sim);
		_exit(ret ? 1 : 0);
	}
	return pid;
}

static bool wait_for_socket(const char *path)
{
	struct stat st;

	for (int i = 0; i < 600; i++) {
		if (!stat(path, &st) && S_ISSOCK(st.st_mode))
			return true;
		usleep(50000);
	}
	return false;
}

static int stop_server(pid_t pid, bool kill_it)
{
	int status = 0;

	if (kill_it)
		kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read until EOF or timeout; returns the byte count, -1 on timeout. */
static ssize_t read_until_eof(int fd, uint8_t *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		n = read(fd, buf + got, size - got);
		if (n <= 0)
			return (ssize_t)got;
		got += (size_t)n;
	}
}

TEST(sim_serve_answers_snp_sim_call)
{
	const char *sock = test_path("sim.sock");
	struct snp_sim_request req = { .type = SNP_SIM_REQ_EXT_REPORT };
	struct snp_sim_response resp;
	struct snp_cert_table table;
	struct snp_err err = { 0 };
	char addr[200];
	pid_t pid = start_server(SIM_MILAN, "guest_vmpl = 1\n", "", 2000);

	/* A bad server setup fails at once, with a reason. */
	REQUIRE(pid > 0);
	CHECK(stop_server(pid, false) == 1);
	snprintf(addr, sizeof(addr), "unix:%s", sock);
	pid = start_server(SIM_MILAN, "guest_vmpl = 1\n", addr, 2000);
	REQUIRE(pid > 0);
	REQUIRE(wait_for_socket(sock));
	req.vmpl = 1;
	memset(req.user_data, 0xab, sizeof(req.user_data));
	REQUIRE(snp_sim_call(addr, &req, &resp, 10000, &err) == 0);
	CHECK(resp.status == 0 && resp.report_len == SNP_REPORT_SIZE);
	CHECK_MEM(resp.report + SNP_OFF_REPORT_DATA, req.user_data, 64);
	CHECK(resp.report[SNP_OFF_VMPL] == 1);
	REQUIRE(resp.certs_len > 0);
	REQUIRE(snp_cert_table_parse(resp.certs, resp.certs_len, &table, &err) == 0);
	CHECK(verify_report(resp.report, snp_cert_table_find(&table, SNP_CERT_VCEK)->data,
			    snp_cert_table_find(&table, SNP_CERT_VCEK)->length) == 0);
	snp_cert_table_free(&table);
	snp_sim_response_free(&resp);
	/* VMPL 0 is below the guest's 1: the PSP's INVALID_PARAM. */
	req.vmpl = 0;
	REQUIRE(snp_sim_call(addr, &req, &resp, 10000, &err) == 0);
	CHECK(resp.status == SNP_SIM_STATUS_INVALID_PARAM && resp.report_len == 0);
	CHECK(stop_server(pid, true) == 0);
	/* The socket goes with the server. */
	CHECK(access(sock, F_OK) != 0);
}

TEST(sim_serve_survives_bad_and_stalled_clients)
{
	const char *sock = test_path("sim.sock");
	struct snp_sim_request req = { .type = SNP_SIM_REQ_REPORT };
	struct snp_sim_response resp;
	struct snp_err err = { 0 };
	uint8_t junk[SNP_SIM_REQ_SIZE], buf[256];
	char addr[200];
	int stalled, bad;
	pid_t pid;

	snprintf(addr, sizeof(addr), "unix:%s", sock);
	pid = start_server(SIM_MILAN, NULL, addr, 400);
	REQUIRE(pid > 0);
	REQUIRE(wait_for_socket(sock));
	/* A client that sends 10 bytes and stops: others are served meanwhile. */
	stalled = raw_connect(sock);
	REQUIRE(stalled >= 0);
	CHECK(write(stalled, "SNPSIMRQ\x01\x00", 10) == 10);
	CHECK(snp_sim_call(addr, &req, &resp, 10000, &err) == 0 && resp.status == 0);
	/* ... and it is dropped after the timeout. */
	CHECK(read_until_eof(stalled, buf, sizeof(buf), 5000) == 0);
	close(stalled);
	/* Not our protocol: answered INVALID_PARAM, then closed. */
	bad = raw_connect(sock);
	REQUIRE(bad >= 0);
	memset(junk, ' ', sizeof(junk));
	memcpy(junk, "GET / HTTP/1.0\r\n", 16);
	CHECK(write(bad, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	CHECK(read_until_eof(bad, buf, sizeof(buf), 5000) == SNP_SIM_RESP_HDR_SIZE);
	CHECK(!memcmp(buf, "SNPSIMRS\x01\0\0\0\x16\0\0\0\0\0\0\0\0\0\0\0", 24));
	close(bad);
	/* Two requests on one connection, as over a virtio-serial chardev. */
	bad = raw_connect(sock);
	REQUIRE(bad >= 0);
	snp_sim_request_encode(&req, junk);
	CHECK(write(bad, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	CHECK(write(bad, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	shutdown(bad, SHUT_WR);
	{
		static uint8_t two[2 * (SNP_SIM_RESP_HDR_SIZE + SNP_REPORT_SIZE) + 1];

		CHECK(read_until_eof(bad, two, sizeof(two), 5000) ==
		      2 * (SNP_SIM_RESP_HDR_SIZE + SNP_REPORT_SIZE));
	}
	close(bad);
	/* Still serving. */
	CHECK(snp_sim_call(addr, &req, &resp, 10000, &err) == 0 && resp.status == 0);
	CHECK(stop_server(pid, true) == 0);
}

/*
 * A character device in the guest, like a virtio-serial port: here a
 * pseudo-terminal in raw mode, with a child answering on the master side.
 */
TEST(simproto_call_works_over_a_character_device)
{
	struct snp_sim_request req = { .type = SNP_SIM_REQ_EXT_REPORT, .vmpl = 0 };
	struct snp_sim_response resp;
	struct snp_err err = { 0 };
	struct termios tio;
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
	const char *name;
	pid_t pid;

	REQUIRE(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	name = ptsname(master);
	REQUIRE(name);
	slave = open(name, O_RDWR | O_NOCTTY);
	REQUIRE(slave >= 0 && tcgetattr(slave, &tio) == 0);
	cfmakeraw(&tio);
	REQUIRE(tcsetattr(slave, TCSANOW, &tio) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct snp_sim *sim = open_sim(SIM_MILAN, NULL);
		uint8_t in[SNP_SIM_REQ_SIZE], *out = NULL;
		struct snp_sim_request got;
		struct snp_sim_response r;
		size_t n = 0, len;

		while (n < sizeof(in)) {
			ssize_t k = read(master, in + n, sizeof(in) - n);

			if (k <= 0)
				_exit(2);
			n += (size_t)k;
		}
		if (!sim || snp_sim_request_decode(in, n, &got, NULL) ||
		    snp_sim_handle(sim, &got, &r, NULL) ||
		    snp_sim_response_encode(&r, &out, &len, NULL) ||
		    write(master, out, len) != (ssize_t)len)
			_exit(1);
		usleep(500000);
		_exit(0);
	}
	memset(req.user_data, 0x77, sizeof(req.user_data));
	CHECK(snp_sim_call(name, &req, &resp, 20000, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "    %s\n", err.msg);
	CHECK(resp.status == 0 && resp.report_len == SNP_REPORT_SIZE && resp.certs_len > 0);
	CHECK(resp.report[SNP_OFF_REPORT_DATA] == 0x77);
	snp_sim_response_free(&resp);
	waitpid(pid, NULL, 0);
	close(slave);
	close(master);
}

/* With the verifier: trusted under the simulator's root, never under AMD's. */
static int verify_with(struct snp_sim *sim, const struct snp_anchors *anchors,
		       struct snp_verify_result *res)
{
	struct snp_sim_response resp;
	struct snp_verify_input in = { .now = TIME_2026_01_01, .anchors = anchors };
	int ret;

	if (get_report(sim, 0, false, &resp) || resp.status)
		return -100;
	in.report = resp.report;
	in.report_len = resp.report_len;
	snp_sim_cert(sim, SNP_SIM_CERT_ARK, &in.ark, &in.ark_len);
	snp_sim_cert(sim, SNP_SIM_CERT_ASK, &in.ask, &in.ask_len);
	snp_sim_cert(sim, SNP_SIM_CERT_VEK, &in.vek, &in.vek_len);
	ret = snp_verify(&in, res);
	snp_sim_response_free(&resp);
	return ret;
}

static void check_verifies_only_under_its_root(const char *dir, const char *config)
{
	struct snp_sim *sim = open_sim(dir, config);
	struct snp_anchors sim_roots, amd;
	struct snp_verify_result res;
	struct snp_err err = { 0 };
	const uint8_t *ark;
	size_t ark_len;

	REQUIRE(sim);
	snp_sim_cert(sim, SNP_SIM_CERT_ARK, &ark, &ark_len);
	snp_anchors_init(&sim_roots, "simulator");
	REQUIRE(snp_anchors_pin_der(&sim_roots, snp_sim_product(sim), SNP_ROOT_ARK, ark, ark_len,
				    &err) == 0);
	CHECK(verify_with(sim, &sim_roots, &res) == 0);
	if (res.failed)
		fprintf(stderr, "    %s: %s\n", snp_check_name(res.failed), res.msg);
	CHECK(res.failed == SNP_CHECK_NONE);
	CHECK(res.product == snp_sim_product(sim));
	snp_anchors_amd(&amd);
	CHECK(verify_with(sim, &amd, &res) != 0);
	CHECK(res.failed == SNP_CHECK_ARK_PIN);
	snp_sim_close(sim);
}

TEST(sim_report_verifies_under_its_root_and_not_amds)
{
	check_verifies_only_under_its_root(SIM_MILAN, NULL);
}

TEST(sim_vlek_report_verifies_under_its_root_and_not_amds)
{
	check_verifies_only_under_its_root(SIM_MILAN, "signing_key = vlek\n");
}

TEST(sim_turin_v5_report_verifies_under_its_root_and_not_amds)
{
	check_verifies_only_under_its_root(SIM_TURIN, "launch_mit_vector = 3\n");
}

TEST(sim_v2_masked_report_verifies_under_its_root)
{
	check_verifies_only_under_its_root(SIM_MILAN, "version = 2\nmask_chip_key = yes\n"
				     "reported_tcb = bl=3 tee=0 snp=8 ucode=115\n");
}
