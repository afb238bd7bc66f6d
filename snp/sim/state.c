// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The simulator's state directory: the RSA-4096 ARK and ASK (and ASVK),
 * the chip secret the chip id and VCEK/VLEK keys derive from, and the
 * public certificates. Private material is wiped after use and never
 * leaves this library but through 0600 files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "snp/amdcert.h"
#include "snp/bytes.h"
#include "snp/fdio.h"
#include "snp/sim/internal.h"

/* mbedTLS writes the lines as given and reads them without their newline. */
#define CHIP_PEM_BEGIN	"-----BEGIN SNP-SIM CHIP SECRET-----"
#define CHIP_PEM_END	"-----END SNP-SIM CHIP SECRET-----"

enum {
	RSA_BITS = 4096,
	RSA_EXPONENT = 65537,
	KEY_PEM_MAX = 16384,
	FILE_MAX = 64 * 1024,
	DERIVE_TRIES = 16,
};

int sim_tls_err(struct snp_err *err, int ret, const char *fmt, ...)
{
	char buf[128], what[256];
	va_list ap;

	mbedtls_strerror(ret, buf, sizeof(buf));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return snp_errf(err, -EINVAL, "%s: %s (-0x%04x)", what, buf, (unsigned int)-ret);
}

int sim_rng_init(struct sim_rng *rng, const char *who, struct snp_err *err)
{
	int ret;

	mbedtls_entropy_init(&rng->entropy);
	mbedtls_ctr_drbg_init(&rng->drbg);
	ret = mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func, &rng->entropy,
				    (const unsigned char *)who, strlen(who));
	if (ret)
		return sim_tls_err(err, ret, "seeding the random generator");
	return 0;
}

void sim_rng_free(struct sim_rng *rng)
{
	mbedtls_ctr_drbg_free(&rng->drbg);
	mbedtls_entropy_free(&rng->entropy);
}

int sim_path(char *out, size_t size, const char *dir, const char *name,
	     struct snp_err *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return snp_errf(err, -ENAMETOOLONG, "path %s/%s is too long", dir, name);
	return 0;
}

int sim_write_file(const char *path, const void *data, size_t len, unsigned int mode,
		   struct snp_err *err)
{
	char tmp[4096];
	int fd, ret;

	ret = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if (ret < 0 || (size_t)ret >= sizeof(tmp))
		return snp_errf(err, -ENAMETOOLONG, "path %s is too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return snp_errf(err, -errno, "%s: %s", tmp, strerror(errno));
	ret = fchmod(fd, mode) ? -errno : 0;
	if (!ret)
		ret = snp_write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return snp_errf(err, ret, "writing %s: %s", path, strerror(-ret));
	}
	return 0;
}

int sim_derive_chip_id(const uint8_t secret[SIM_CHIP_SECRET_SIZE], enum snp_product product,
		       uint8_t chip_id[SNP_CHIP_ID_SIZE], struct snp_err *err)
{
	static const char info[] = "snp-sim chip id v1";
	size_t id_len = snp_chip_id_len(product);
	int ret;

	memset(chip_id, 0, SNP_CHIP_ID_SIZE);
	ret = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), NULL, 0, secret,
			   SIM_CHIP_SECRET_SIZE, (const unsigned char *)info, sizeof(info) - 1,
			   chip_id, id_len);
	if (ret)
		return sim_tls_err(err, ret, "deriving the chip id");
	return 0;
}

/*
 * HKDF info for a VCEK: its chip id and TCB (the PSP derives one VCEK per
 * TCB); for a VLEK: the TCB and the CSP it was issued to.
 */
static size_t vek_info(const struct sim_cert_req *req, uint8_t try, uint8_t *info,
		       size_t size)
{
	const char *label = req->kind == SIM_CERT_VLEK ? "snp-sim VLEK v1" : "snp-sim VCEK v1";
	size_t n = strlen(label);

	memcpy(info, label, n);
	info[n++] = try;
	info[n++] = (uint8_t)req->product;
	snp_put_le64(info + n, req->tcb);
	n += 8;
	if (req->kind == SIM_CERT_VLEK) {
		size_t c = strnlen(req->csp_id, size - n);

		memcpy(info + n, req->csp_id, c);
		return n + c;
	}
	memcpy(info + n, req->hwid, SNP_CHIP_ID_SIZE);
	return n + SNP_CHIP_ID_SIZE;
}

int sim_derive_vek(const uint8_t secret[SIM_CHIP_SECRET_SIZE], const struct sim_cert_req *req,
		   mbedtls_pk_context *key, struct sim_rng *rng, struct snp_err *err)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
	uint8_t info[256], d[SNP_P384_SIZE];
	mbedtls_ecp_keypair *ec;
	int ret;

	ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret)
		return sim_tls_err(err, ret, "setting up the VCEK");
	ec = mbedtls_pk_ec(*key);
	/* A scalar of 0 or above the order needs another try: odds 2^-190. */
	ret = MBEDTLS_ERR_ECP_INVALID_KEY;
	for (uint8_t try = 0; try < DERIVE_TRIES && ret == MBEDTLS_ERR_ECP_INVALID_KEY; try++) {
		size_t n = vek_info(req, try, info, sizeof(info));

		ret = mbedtls_hkdf(md, NULL, 0, secret, SIM_CHIP_SECRET_SIZE, info, n, d,
				   sizeof(d));
		if (!ret)
			ret = mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP384R1, ec, d, sizeof(d));
	}
	mbedtls_platform_zeroize(d, sizeof(d));
	if (ret)
		return sim_tls_err(err, ret, "deriving the VCEK/VLEK key");
	ret = mbedtls_ecp_keypair_calc_public(ec, mbedtls_ctr_drbg_random, &rng->drbg);
	if (ret)
		return sim_tls_err(err, ret, "computing the VCEK/VLEK public key");
	return 0;
}

/* The product an ARK is for, from its CN "ARK-<Product>". */
static enum snp_product product_from_ark(const mbedtls_x509_crt *crt)
{
	for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next) {
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) || n->val.len <= 4 ||
		    memcmp(n->val.p, "ARK-", 4))
			continue;
		return snp_product_from_name((const char *)n->val.p + 4, n->val.len - 4);
	}
	return SNP_PRODUCT_UNKNOWN;
}

static int64_t x509_time(const mbedtls_x509_time *t)
{
	return snp_civil_to_epoch(t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

/* One key pair: dir/key_name (PEM private key) and dir/cert_name. */
static int load_pair(const char *dir, const char *key_name, const char *cert_name,
		     mbedtls_pk_context *key, mbedtls_x509_crt *crt, struct sim_rng *rng,
		     struct snp_err *err)
{
	char path[4096];
	int ret;

	ret = sim_path(path, sizeof(path), dir, key_name, err);
	if (ret)
		return ret;
	ret = mbedtls_pk_parse_keyfile(key, path, NULL, mbedtls_ctr_drbg_random, &rng->drbg);
	if (ret)
		return sim_tls_err(err, ret, "%s", path);
	ret = sim_path(path, sizeof(path), dir, cert_name, err);
	if (ret)
		return ret;
	ret = mbedtls_x509_crt_parse_file(crt, path);
	if (ret)
		return sim_tls_err(err, ret, "%s", path);
	ret = mbedtls_pk_check_pair(&crt->pk, key, mbedtls_ctr_drbg_random, &rng->drbg);
	if (ret)
		return sim_tls_err(err, ret, "%s does not hold the public half of its key", path);
	return 0;
}

static int copy_der(const mbedtls_x509_crt *crt, uint8_t **der, size_t *len,
		    struct snp_err *err)
{
	*der = malloc(crt->raw.len);
	if (!*der)
		return snp_errf(err, -ENOMEM, "out of memory for a certificate");
	memcpy(*der, crt->raw.p, crt->raw.len);
	*len = crt->raw.len;
	return 0;
}

static int load_chip_secret(struct sim_state *st, const char *dir, struct snp_err *err)
{
	mbedtls_pem_context pem;
	char path[4096];
	uint8_t *text = NULL;
	const unsigned char *secret;
	size_t len = 0, used = 0, secret_len = 0;
	int ret;

	mbedtls_pem_init(&pem);
	ret = sim_path(path, sizeof(path), dir, SIM_CHIP_KEY, err);
	if (!ret)
		ret = snp_read_file(path, FILE_MAX, &text, &len, err);
	if (ret)
		goto out;
	ret = mbedtls_pem_read_buffer(&pem, CHIP_PEM_BEGIN, CHIP_PEM_END, text, NULL, 0, &used);
	if (ret) {
		ret = sim_tls_err(err, ret, "%s", path);
		goto out;
	}
	secret = mbedtls_pem_get_buffer(&pem, &secret_len);
	if (secret_len != SIM_CHIP_SECRET_SIZE) {
		ret = snp_errf(err, -EINVAL, "%s: the chip secret is %zu bytes, not %d", path,
			       secret_len, SIM_CHIP_SECRET_SIZE);
		goto out;
	}
	memcpy(st->chip_secret, secret, SIM_CHIP_SECRET_SIZE);
out:
	if (text)
		mbedtls_platform_zeroize(text, len);
	free(text);
	mbedtls_pem_free(&pem);
	return ret;
}

static bool file_exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat sb;

	return !sim_path(path, sizeof(path), dir, name, NULL) && !stat(path, &sb);
}

int sim_state_load(struct sim_state *st, const char *dir, struct sim_rng *rng,
		   struct snp_err *err)
{
	mbedtls_x509_crt ark, ask, asvk;
	mbedtls_pk_context ark_key;	/* checked against ark.pem, then not needed */
	int ret;

	memset(st, 0, sizeof(*st));
	mbedtls_pk_init(&ark_key);
	mbedtls_pk_init(&st->ask);
	mbedtls_pk_init(&st->asvk);
	mbedtls_x509_crt_init(&ark);
	mbedtls_x509_crt_init(&ask);
	mbedtls_x509_crt_init(&asvk);
	ret = load_pair(dir, SIM_ARK_KEY, SIM_ARK_CERT, &ark_key, &ark, rng, err);
	if (!ret)
		ret = load_pair(dir, SIM_ASK_KEY, SIM_ASK_CERT, &st->ask, &ask, rng, err);
	st->has_asvk = file_exists(dir, SIM_ASVK_KEY);
	if (!ret && st->has_asvk)
		ret = load_pair(dir, SIM_ASVK_KEY, SIM_ASVK_CERT, &st->asvk, &asvk, rng, err);
	if (!ret)
		ret = load_chip_secret(st, dir, err);
	if (ret)
		goto out;
	st->product = product_from_ark(&ark);
	if (st->product == SNP_PRODUCT_UNKNOWN) {
		ret = snp_errf(err, -EINVAL,
			       "%s/%s: its subject CN is not ARK-Milan, ARK-Genoa or ARK-Turin",
			       dir, SIM_ARK_CERT);
		goto out;
	}
	st->not_before = x509_time(&ark.valid_from);
	ret = copy_der(&ark, &st->ark_der, &st->ark_der_len, err);
	if (!ret)
		ret = copy_der(&ask, &st->ask_der, &st->ask_der_len, err);
	if (!ret && st->has_asvk)
		ret = copy_der(&asvk, &st->asvk_der, &st->asvk_der_len, err);
out:
	mbedtls_pk_free(&ark_key);
	mbedtls_x509_crt_free(&ark);
	mbedtls_x509_crt_free(&ask);
	mbedtls_x509_crt_free(&asvk);
	if (ret)
		sim_state_free(st);
	return ret;
}

void sim_state_drop_keys(struct sim_state *st)
{
	mbedtls_pk_free(&st->ask);
	mbedtls_pk_free(&st->asvk);
}

void sim_state_free(struct sim_state *st)
{
	sim_state_drop_keys(st);
	free(st->ark_der);
	free(st->ask_der);
	free(st->asvk_der);
	mbedtls_platform_zeroize(st, sizeof(*st));
}

/* Creating a state directory. */

static int gen_rsa(mbedtls_pk_context *key, struct sim_rng *rng, const char *what,
		   struct snp_err *err)
{
	int ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));

	if (!ret)
		ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(*key), mbedtls_ctr_drbg_random,
					  &rng->drbg, RSA_BITS, RSA_EXPONENT);
	if (ret)
		return sim_tls_err(err, ret, "generating the %s key (RSA-4096)", what);
	return 0;
}

static int save_key(const char *dir, const char *name, mbedtls_pk_context *key,
		    struct snp_err *err)
{
	unsigned char *pem = calloc(1, KEY_PEM_MAX);
	char path[4096];
	int ret;

	if (!pem)
		return snp_errf(err, -ENOMEM, "out of memory for a key");
	ret = mbedtls_pk_write_key_pem(key, pem, KEY_PEM_MAX);
	if (ret)
		ret = sim_tls_err(err, ret, "writing %s", name);
	if (!ret)
		ret = sim_path(path, sizeof(path), dir, name, err);
	if (!ret)
		ret = sim_write_file(path, pem, strlen((char *)pem), 0600, err);
	mbedtls_platform_zeroize(pem, KEY_PEM_MAX);
	free(pem);
	return ret;
}

static int save_cert(const char *dir, const char *name, const uint8_t *der, size_t len,
		     struct snp_err *err)
{
	char path[4096], *pem = NULL;
	int ret;

	ret = sim_path(path, sizeof(path), dir, name, err);
	if (!ret)
		ret = sim_cert_pem(der, len, &pem, err);
	if (!ret)
		ret = sim_write_file(path, pem, strlen(pem), 0644, err);
	free(pem);
	return ret;
}

static int save_chip_secret(const char *dir, struct sim_rng *rng, struct snp_err *err)
{
	uint8_t secret[SIM_CHIP_SECRET_SIZE];
	unsigned char pem[256];
	size_t olen = 0;
	char path[4096];
	int ret;

	ret = mbedtls_ctr_drbg_random(&rng->drbg, secret, sizeof(secret));
	if (!ret)
		ret = mbedtls_pem_write_buffer(CHIP_PEM_BEGIN "\n", CHIP_PEM_END "\n", secret,
					       sizeof(secret), pem, sizeof(pem), &olen);
	if (ret)
		ret = sim_tls_err(err, ret, "making the chip secret");
	if (!ret)
		ret = sim_path(path, sizeof(path), dir, SIM_CHIP_KEY, err);
	if (!ret)
		ret = sim_write_file(path, pem, strlen((char *)pem), 0600, err);
	mbedtls_platform_zeroize(secret, sizeof(secret));
	mbedtls_platform_zeroize(pem, sizeof(pem));
	return ret;
}

/* A root (ARK, ASK, ASVK): its key, then its certificate signed by issuer. */
static int make_root(const char *dir, enum sim_cert_kind kind, const struct snp_sim_init_opts *o,
		     mbedtls_pk_context *key, mbedtls_pk_context *issuer, struct sim_rng *rng,
		     struct snp_err *err)
{
	static const char *const names[][3] = {
		[SIM_CERT_ARK] = { "ARK", SIM_ARK_KEY, SIM_ARK_CERT },
		[SIM_CERT_ASK] = { "ASK", SIM_ASK_KEY, SIM_ASK_CERT },
		[SIM_CERT_ASVK] = { "ASVK", SIM_ASVK_KEY, SIM_ASVK_CERT },
	};
	struct sim_cert_req req = {
		.kind = kind, .product = o->product, .not_before = o->not_before,
		.subject = key, .issuer = issuer ? issuer : key,
	};
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	ret = gen_rsa(key, rng, names[kind][0], err);
	if (!ret)
		ret = save_key(dir, names[kind][1], key, err);
	if (!ret)
		ret = sim_cert_issue(&req, &rng->drbg, &der, &len, err);
	if (!ret)
		ret = save_cert(dir, names[kind][2], der, len, err);
	free(der);
	return ret;
}

static int check_empty_dir(const char *dir, struct snp_err *err)
{
	static const char *const files[] = { SIM_ARK_KEY, SIM_ASK_KEY, SIM_ASVK_KEY, SIM_CHIP_KEY };

	if (mkdir(dir, 0700) && errno != EEXIST)
		return snp_errf(err, -errno, "%s: %s", dir, strerror(errno));
	if (chmod(dir, 0700))
		return snp_errf(err, -errno, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (file_exists(dir, files[i]))
			return snp_errf(err, -EEXIST,
					"%s already holds a simulator state (%s); remove it first",
					dir, files[i]);
	return 0;
}

static int64_t today_utc(void)
{
	time_t now = time(NULL);

	return (int64_t)(now - now % 86400);
}

/* The VCEK (and VLEK) for the default configuration. */
static int save_default_veks(const char *dir, bool vlek, struct snp_err *err)
{
	struct snp_sim_config cfg;
	struct snp_sim *sim = NULL;
	bool written;
	int ret;

	snp_sim_config_init(&cfg);
	ret = snp_sim_open(&sim, dir, &cfg, err);
	if (!ret)
		ret = snp_sim_save_vek(sim, dir, &written, err);
	snp_sim_close(sim);
	sim = NULL;
	if (ret || !vlek)
		return ret;
	cfg.signing_key = SNP_SIGNING_KEY_VLEK;
	ret = snp_sim_open(&sim, dir, &cfg, err);
	if (!ret)
		ret = snp_sim_save_vek(sim, dir, &written, err);
	snp_sim_close(sim);
	return ret;
}

int snp_sim_state_init(const char *dir, struct snp_sim_init_opts *opts,
		       struct snp_err *err)
{
	mbedtls_pk_context ark, ask, asvk;
	struct sim_rng rng;
	int ret;

	if (opts->product == SNP_PRODUCT_UNKNOWN)
		opts->product = SNP_PRODUCT_MILAN;
	if (!opts->not_before)
		opts->not_before = today_utc();
	mbedtls_pk_init(&ark);
	mbedtls_pk_init(&ask);
	mbedtls_pk_init(&asvk);
	ret = sim_rng_init(&rng, "snp-sim init", err);
	if (ret)
		goto out;
	ret = check_empty_dir(dir, err);
	if (!ret)
		ret = make_root(dir, SIM_CERT_ARK, opts, &ark, NULL, &rng, err);
	if (!ret)
		ret = make_root(dir, SIM_CERT_ASK, opts, &ask, &ark, &rng, err);
	if (!ret && opts->vlek)
		ret = make_root(dir, SIM_CERT_ASVK, opts, &asvk, &ark, &rng, err);
	if (!ret)
		ret = save_chip_secret(dir, &rng, err);
	if (!ret)
		ret = save_default_veks(dir, opts->vlek, err);
out:
	mbedtls_pk_free(&ark);
	mbedtls_pk_free(&ask);
	mbedtls_pk_free(&asvk);
	sim_rng_free(&rng);
	return ret;
}
