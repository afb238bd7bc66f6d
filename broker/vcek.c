// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where the certificates that verify a report come from: the agent's
 * certificate table, the on-disk cache, AMD KDS (broker/kds.c).
 *
 * Nothing from KDS reaches the cache before it verified as a chain under
 * the pinned anchors and matched the report's chip and REPORTED_TCB, so a
 * cache entry is as good as a verified one; the broker still verifies
 * every report against the chain it gets. Lookups of the same VCEK wait
 * for each other, so that a burst of reports from one new chip makes one
 * request to KDS, not one each.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/pem.h>

#include "broker/kds.h"
#include "broker/store.h"
#include "broker/vcek.h"
#include "snp/amdcert.h"
#include "snp/certtable.h"
#include "snp/fdio.h"
#include "snp/verify.h"

#define CHAIN_FILE	"cert_chain.pem"
#define PEM_BEGIN_CERT	"-----BEGIN CERTIFICATE-----\n"
#define PEM_END_CERT	"-----END CERTIFICATE-----\n"

enum {
	PATH_LEN = 4096,
	CERT_FILE_MAX = 16 * 1024,
	CHAIN_FILE_MAX = 64 * 1024,
	/* A waiter gives up this long after the fetch it waits for should have ended. */
	WAIT_SLACK_MS = 1000,
};

/* What identifies a VCEK: the cache's file name and KDS's URL. */
struct vcek_key {
	enum snp_product product;
	uint8_t hwid[SNP_CHIP_ID_SIZE];	/* snp_chip_id_len(product) bytes used */
	uint64_t tcb;
	char hwid_hex[2 * SNP_CHIP_ID_SIZE + 1];
	char tcb_hex[17];
	char der_name[sizeof("0123456789abcdef.der")];
};

/* A KDS request under way; others for the same key wait for it. */
struct vcek_fetch {
	struct vcek_key key;
	bool chain;			/* the product's cert_chain, not a VCEK */
	struct vcek_fetch *next;
};

struct vcek_sources {
	char *cache_dir;
	struct kds_client *kds;		/* NULL: offline */
	struct snp_anchors anchors;
	pthread_mutex_t lock;		/* roots and fetching */
	pthread_cond_t fetched;
	struct kds_chain roots[SNP_PRODUCT_COUNT];	/* ARK and ASK once verified */
	struct vcek_fetch *fetching;
};

const char *vcek_source_name(enum vcek_source source)
{
	switch (source) {
	case VCEK_FROM_TABLE:
		return "cert-table";
	case VCEK_FROM_CACHE:
		return "cache";
	case VCEK_FROM_KDS:
		return "kds";
	}
	return "unknown";
}

int vcek_sources_new(struct vcek_sources **out, const struct vcek_opts *opts,
		     struct snp_err *err)
{
	struct vcek_sources *vs = calloc(1, sizeof(*vs));
	pthread_condattr_t attr;
	int ret = 0;

	*out = NULL;
	if (!vs)
		return snp_errf(err, -ENOMEM, "out of memory for the VCEK sources");
	pthread_mutex_init(&vs->lock, NULL);
	/* Waits for another fetch are bounded on the monotonic clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vs->fetched, &attr);
	pthread_condattr_destroy(&attr);
	if (opts->anchors)
		vs->anchors = *opts->anchors;
	else
		snp_anchors_amd(&vs->anchors);
	if (opts->cache_dir) {
		vs->cache_dir = strdup(opts->cache_dir);
		if (!vs->cache_dir)
			ret = snp_errf(err, -ENOMEM, "out of memory for the VCEK cache's name");
	}
	if (!ret && opts->kds_enabled)
		ret = kds_client_new(&vs->kds, opts, err);
	if (ret) {
		vcek_sources_free(vs);
		return ret;
	}
	*out = vs;
	return 0;
}

void vcek_sources_free(struct vcek_sources *vs)
{
	if (!vs)
		return;
	for (size_t p = 0; p < SNP_PRODUCT_COUNT; p++)
		kds_chain_free(&vs->roots[p]);
	kds_client_free(vs->kds);
	free(vs->cache_dir);
	pthread_cond_destroy(&vs->fetched);
	pthread_mutex_destroy(&vs->lock);
	free(vs);
}

void vcek_chain_free(struct vcek_chain *chain)
{
	free(chain->ark);
	free(chain->ask);
	free(chain->vek);
	memset(chain, 0, sizeof(*chain));
}

static int dup_der(const uint8_t *der, size_t len, uint8_t **out, size_t *out_len,
		   const char *what, struct snp_err *err)
{
	*out = malloc(len);
	if (!*out)
		return snp_errf(err, -ENOMEM, "out of memory for the %s", what);
	memcpy(*out, der, len);
	*out_len = len;
	return 0;
}

static void key_init(struct vcek_key *key, const struct snp_report *report,
		     enum snp_product product)
{
	size_t n = snp_chip_id_len(product);

	memset(key, 0, sizeof(*key));
	key->product = product;
	memcpy(key->hwid, report->chip_id, n);
	key->tcb = report->reported_tcb;
	snp_hex(key->hwid_hex, key->hwid, n);
	snprintf(key->tcb_hex, sizeof(key->tcb_hex), "%016" PRIx64, key->tcb);
	snprintf(key->der_name, sizeof(key->der_name), "%s.der", key->tcb_hex);
}

static bool key_equal(const struct vcek_key *a, const struct vcek_key *b)
{
	return a->product == b->product && a->tcb == b->tcb &&
	       !memcmp(a->hwid, b->hwid, sizeof(a->hwid));
}

/* The cache. */

static int cache_path(char *out, const struct vcek_sources *vs, const char *a, const char *b,
		      const char *c, struct snp_err *err)
{
	int n = snprintf(out, PATH_LEN, "%s/%s%s%s%s%s", vs->cache_dir, a, b ? "/" : "",
			 b ? b : "", c ? "/" : "", c ? c : "");

	if (n < 0 || n >= PATH_LEN)
		return snp_errf(err, -ENAMETOOLONG, "the VCEK cache path under %s is too long",
				vs->cache_dir);
	return 0;
}

/*
 * cache_dir/a/b[/c], read into a malloc'd *buf with *path naming it: 0,
 * -ENOENT when there is no such file (or no cache), or an error.
 */
static int cache_read(const struct vcek_sources *vs, const char *a, const char *b,
		      const char *c, size_t max, char *path, uint8_t **buf, size_t *len,
		      struct snp_err *err)
{
	int ret;

	*buf = NULL;
	if (!vs->cache_dir)
		return snp_errf(err, -ENOENT, "no VCEK cache is configured");
	ret = cache_path(path, vs, a, b, c, err);
	if (!ret)
		ret = snp_read_file(path, max, buf, len, err);
	if (ret == -ENOENT)
		return snp_errf(err, -ENOENT, "%s does not exist", path);
	return ret;
}

static int cache_get_vcek(struct vcek_sources *vs, const struct vcek_key *key,
			  struct vcek_chain *chain, struct snp_err *err)
{
	char path[PATH_LEN];
	uint8_t *buf;
	size_t len;
	int ret;

	ret = cache_read(vs, snp_product_name(key->product), key->hwid_hex, key->der_name,
			 CERT_FILE_MAX, path, &buf, &len, err);
	if (ret)
		return ret;
	ret = snp_cert_to_der(buf, len, &chain->vek, &chain->vek_len, err);
	free(buf);
	if (!ret)
		chain->source = VCEK_FROM_CACHE;
	return ret;
}

static int mkdir_one(const char *path, struct snp_err *err)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return snp_errf(err, -errno, "making the VCEK cache directory %s: %s", path,
				strerror(errno));
	return 0;
}

/* cache_dir/a[/b], made 0700 as needed, into dir. */
static int cache_mkdirs(char *dir, const struct vcek_sources *vs, const char *a, const char *b,
			struct snp_err *err)
{
	int ret = mkdir_one(vs->cache_dir, err);

	if (!ret)
		ret = cache_path(dir, vs, a, NULL, NULL, err);
	if (!ret)
		ret = mkdir_one(dir, err);
	if (!ret && b)
		ret = cache_path(dir, vs, a, b, NULL, err);
	if (!ret && b)
		ret = mkdir_one(dir, err);
	return ret;
}

/*
 * True when dir/name already holds exactly data. Every unseal that sends a
 * table offers the same VCEK again: rewriting it (two fsyncs and a rename)
 * cost the broker 15-20% of its rate under load.
 */
static bool cache_holds(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_LEN];
	uint8_t *have = NULL;
	size_t have_len = 0;
	bool same;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    snp_read_file(path, len + 1, &have, &have_len, NULL))
		return false;
	same = have_len == len && !memcmp(have, data, len);
	free(have);
	return same;
}

static int cache_put_vcek(struct vcek_sources *vs, const struct vcek_key *key,
			  const uint8_t *der, size_t len, struct snp_err *err)
{
	char dir[PATH_LEN];
	int ret;

	if (!vs->cache_dir)
		return 0;
	ret = cache_mkdirs(dir, vs, snp_product_name(key->product), key->hwid_hex, err);
	if (!ret && !cache_holds(dir, key->der_name, der, len))
		ret = store_write_atomic(dir, key->der_name, der, len, 0600, err);
	return ret;
}

static int pem_append(char *out, size_t size, size_t *used, const uint8_t *der, size_t len,
		      struct snp_err *err)
{
	size_t olen = 0;
	int ret;

	ret = mbedtls_pem_write_buffer(PEM_BEGIN_CERT, PEM_END_CERT, der, len,
				       (unsigned char *)out + *used, size - *used, &olen);
	if (ret)
		return snp_errf(err, -ENOSPC, "a certificate of %zu bytes does not fit as PEM",
				len);
	/* olen counts the NUL, which the next certificate overwrites. */
	*used += olen - 1;
	return 0;
}

/* cert_chain.pem: the ASK then the ARK, as KDS gives them. */
static int cache_put_roots(struct vcek_sources *vs, enum snp_product product,
			   const struct kds_chain *r, struct snp_err *err)
{
	size_t size = 2 * (r->ask_len + r->ark_len) + 256, used = 0;
	char dir[PATH_LEN], *pem;
	int ret;

	if (!vs->cache_dir)
		return 0;
	pem = malloc(size);
	if (!pem)
		return snp_errf(err, -ENOMEM, "out of memory for the certificate chain");
	ret = pem_append(pem, size, &used, r->ask, r->ask_len, err);
	if (!ret)
		ret = pem_append(pem, size, &used, r->ark, r->ark_len, err);
	if (!ret)
		ret = cache_mkdirs(dir, vs, snp_product_name(product), NULL, err);
	if (!ret && !cache_holds(dir, CHAIN_FILE, pem, used))
		ret = store_write_atomic(dir, CHAIN_FILE, pem, used, 0600, err);
	free(pem);
	return ret;
}

static int cache_get_roots(struct vcek_sources *vs, enum snp_product product,
			   struct kds_chain *kc, struct snp_err *err)
{
	char path[PATH_LEN];
	uint8_t *pem;
	size_t len;
	int ret;

	ret = cache_read(vs, snp_product_name(product), CHAIN_FILE, NULL, CHAIN_FILE_MAX, path,
			 &pem, &len, err);
	if (ret)
		return ret;
	ret = kds_chain_parse(pem, len, path, kc, err);
	free(pem);
	return ret;
}

/* The in-memory ARK and ASK. */

static int roots_copy(const struct kds_chain *r, struct vcek_chain *chain,
		      struct snp_err *err)
{
	int ret = 0;

	if (!chain->ark)
		ret = dup_der(r->ark, r->ark_len, &chain->ark, &chain->ark_len, "ARK", err);
	if (!ret && !chain->ask)
		ret = dup_der(r->ask, r->ask_len, &chain->ask, &chain->ask_len, "ASK", err);
	return ret;
}

/* Fill what chain lacks from memory: 1 when memory has nothing for product. */
static int roots_from_memory(struct vcek_sources *vs, enum snp_product product,
			     struct vcek_chain *chain, struct snp_err *err)
{
	struct kds_chain *r = &vs->roots[product];
	int ret = 1;

	pthread_mutex_lock(&vs->lock);
	if (r->ark)
		ret = roots_copy(r, chain, err);
	pthread_mutex_unlock(&vs->lock);
	return ret;
}

/* Keep a verified ARK and ASK in memory; *known when it had them already. */
static int roots_remember(struct vcek_sources *vs, enum snp_product product,
			  const struct kds_chain *verified, bool *known, struct snp_err *err)
{
	struct kds_chain r = { 0 }, *slot = &vs->roots[product];
	int ret;

	ret = dup_der(verified->ark, verified->ark_len, &r.ark, &r.ark_len, "ARK", err);
	if (!ret)
		ret = dup_der(verified->ask, verified->ask_len, &r.ask, &r.ask_len, "ASK", err);
	if (ret) {
		kds_chain_free(&r);
		return ret;
	}
	pthread_mutex_lock(&vs->lock);
	*known = slot->ark != NULL;
	if (!*known) {
		*slot = r;
		memset(&r, 0, sizeof(r));
	}
	pthread_mutex_unlock(&vs->lock);
	kds_chain_free(&r);
	return 0;
}

/* chain's ARK and ASK, verified: in memory, and in the cache unless there already. */
static int roots_keep(struct vcek_sources *vs, enum snp_product product,
		      const struct vcek_chain *chain, struct snp_err *err)
{
	const struct kds_chain r = {
		.ark = chain->ark, .ask = chain->ask,
		.ark_len = chain->ark_len, .ask_len = chain->ask_len,
	};
	char path[PATH_LEN];
	bool known;
	int ret;

	ret = roots_remember(vs, product, &r, &known, err);
	if (ret || known || !vs->cache_dir)
		return ret;
	if (!cache_path(path, vs, snp_product_name(product), CHAIN_FILE, NULL, err) &&
	    !access(path, F_OK))
		return 0;
	return cache_put_roots(vs, product, &r, err);
}

/* KDS, one request per key at a time. */

static struct vcek_fetch **fetch_find(struct vcek_sources *vs, const struct vcek_fetch *f)
{
	struct vcek_fetch **p;

	for (p = &vs->fetching; *p; p = &(*p)->next)
		if ((*p)->chain == f->chain && key_equal(&(*p)->key, &f->key))
			return p;
	return NULL;
}

/* Wait (bounded) until nobody fetches f's key, then claim it. */
static int fetch_begin(struct vcek_sources *vs, struct vcek_fetch *f, struct snp_err *err)
{
	int bound = kds_client_bound_ms(vs->kds) + WAIT_SLACK_MS, ret = 0;
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += bound / 1000 + 1;
	pthread_mutex_lock(&vs->lock);
	while (!ret && fetch_find(vs, f))
		ret = pthread_cond_timedwait(&vs->fetched, &vs->lock, &until);
	if (!ret) {
		f->next = vs->fetching;
		vs->fetching = f;
	}
	pthread_mutex_unlock(&vs->lock);
	if (ret)
		return snp_errf(err, -ETIMEDOUT,
				"waited over %d ms for another request to AMD KDS for the same certificate",
				bound);
	return 0;
}

static void fetch_end(struct vcek_sources *vs, struct vcek_fetch *f)
{
	struct vcek_fetch **p;

	pthread_mutex_lock(&vs->lock);
	p = fetch_find(vs, f);
	if (p)
		*p = f->next;
	pthread_cond_broadcast(&vs->fetched);
	pthread_mutex_unlock(&vs->lock);
}

/*
 * The ARK and ASK chain lacks: from memory, the cache or KDS. *fresh says
 * they came from KDS and are not verified yet.
 */
static int roots_fill(struct vcek_sources *vs, enum snp_product product,
		      struct vcek_chain *chain, bool *fresh, struct snp_err *err)
{
	struct vcek_fetch f = { .key.product = product, .chain = true };
	struct kds_chain kc = { 0 };
	bool known;
	int ret;

	*fresh = false;
	ret = roots_from_memory(vs, product, chain, err);
	if (ret <= 0)
		return ret;
	ret = cache_get_roots(vs, product, &kc, err);
	if (ret == -ENOENT && vs->kds) {
		ret = fetch_begin(vs, &f, err);
		if (ret)
			return ret;
		/* Whoever fetched before us may have cached it. */
		ret = cache_get_roots(vs, product, &kc, err);
		if (ret == -ENOENT)
			ret = kds_fetch_chain(vs->kds, product, &kc, err);
		*fresh = !ret;
		fetch_end(vs, &f);
	} else if (ret == -ENOENT) {
		ret = snp_errf(err, -ENOENT,
			       "no ARK and ASK for %s: in neither the certificate table nor the cache (%s), and AMD KDS is off",
			       snp_product_name(product), vs->cache_dir ? vs->cache_dir : "none");
	} else if (!ret) {
		ret = roots_remember(vs, product, &kc, &known, err);
	}
	if (!ret)
		ret = roots_copy(&kc, chain, err);
	kds_chain_free(&kc);
	return ret;
}

/* The chain from KDS verifies under the anchors now, and is this report's chip and TCB. */
static int check_fetched(const struct vcek_sources *vs, const struct vcek_key *key,
			 const struct vcek_chain *chain, struct snp_err *err)
{
	struct snp_verify_input in = {
		.ark = chain->ark, .ark_len = chain->ark_len,
		.ask = chain->ask, .ask_len = chain->ask_len,
		.vek = chain->vek, .vek_len = chain->vek_len,
		.product = key->product, .now = time(NULL), .anchors = &vs->anchors,
	};
	size_t n = snp_chip_id_len(key->product);
	struct snp_verify_result *res = calloc(1, sizeof(*res));
	int ret;

	if (!res)
		return snp_errf(err, -ENOMEM, "out of memory to check the KDS chain");
	ret = snp_verify_chain(&in, res);
	if (ret)
		ret = snp_errf(err, ret, "the certificates from AMD KDS failed the %s check: %s",
			       snp_check_name(res->failed), res->msg);
	else if (res->vek_type != SNP_VEK_VCEK || res->product != key->product)
		ret = snp_errf(err, -EACCES, "AMD KDS answered a %s for %s, not a VCEK for %s",
			       snp_vek_type_name(res->vek_type), snp_product_name(res->product),
			       snp_product_name(key->product));
	else if (res->ext.hwid_len != n || memcmp(res->ext.hwid, key->hwid, n))
		ret = snp_errf(err, -EACCES,
			       "AMD KDS answered a VCEK for another chip than %.16s...",
			       key->hwid_hex);
	else if (res->vek_tcb != key->tcb)
		ret = snp_errf(err, -EACCES,
			       "AMD KDS answered a VCEK for TCB %016" PRIx64 ", not %s",
			       res->vek_tcb, key->tcb_hex);
	free(res);
	return ret;
}

static int kds_vcek(struct vcek_sources *vs, const struct vcek_key *key,
		    struct vcek_chain *chain, struct snp_err *err)
{
	bool fresh_roots = false;
	int ret;

	ret = kds_fetch_vcek(vs->kds, key->product, key->hwid, key->tcb, &chain->vek,
			     &chain->vek_len, err);
	if (!ret)
		ret = roots_fill(vs, key->product, chain, &fresh_roots, err);
	if (!ret)
		ret = check_fetched(vs, key, chain, err);
	if (ret)
		return ret;
	chain->source = VCEK_FROM_KDS;
	ret = cache_put_vcek(vs, key, chain->vek, chain->vek_len, err);
	if (!ret && fresh_roots)
		ret = roots_keep(vs, key->product, chain, err);
	return ret;
}

/* The cache, then KDS (one request per key at a time). */
static int find_vcek(struct vcek_sources *vs, const struct vcek_key *key,
		     struct vcek_chain *chain, struct snp_err *err)
{
	struct vcek_fetch f = { .key = *key };
	int ret;

	ret = cache_get_vcek(vs, key, chain, err);
	if (ret != -ENOENT)
		return ret;
	if (!vs->kds)
		return snp_errf(err, -ENOENT,
				"no VCEK for %s chip %.16s... at TCB %s: in neither the certificate table nor the cache (%s), and AMD KDS is off",
				snp_product_name(key->product), key->hwid_hex, key->tcb_hex,
				vs->cache_dir ? vs->cache_dir : "none");
	ret = fetch_begin(vs, &f, err);
	if (ret)
		return ret;
	ret = cache_get_vcek(vs, key, chain, err);
	if (ret == -ENOENT)
		ret = kds_vcek(vs, key, chain, err);
	fetch_end(vs, &f);
	return ret;
}

/* The agent's table. */

static enum snp_cert_kind vek_kind(const struct snp_report *report)
{
	return report->signing_key == SNP_SIGNING_KEY_VLEK ? SNP_CERT_VLEK : SNP_CERT_VCEK;
}

/* The product the VEK's productName gives, or UNKNOWN. */
static enum snp_product product_of_vek(const uint8_t *der, size_t len)
{
	enum snp_product product = SNP_PRODUCT_UNKNOWN;
	struct snp_amd_cert cert;

	snp_amd_cert_init(&cert);
	if (!snp_amd_cert_parse(&cert, der, len, "VEK", NULL))
		product = snp_product_from_name(cert.ext.product_name,
						strlen(cert.ext.product_name));
	snp_amd_cert_free(&cert);
	return product;
}

/* The certificates the table has; 1 when it has no VEK for this report. */
static int from_table(const struct snp_cert_table *t, const struct snp_report *report,
		      struct vcek_chain *chain, struct snp_err *err)
{
	const struct snp_cert_entry *vek = snp_cert_table_find(t, vek_kind(report));
	const struct snp_cert_entry *ask = snp_cert_table_find(t, SNP_CERT_ASK);
	const struct snp_cert_entry *ark = snp_cert_table_find(t, SNP_CERT_ARK);
	int ret;

	if (!vek)
		return 1;
	ret = dup_der(vek->der, vek->der_len, &chain->vek, &chain->vek_len, "VEK", err);
	if (!ret && ask)
		ret = dup_der(ask->der, ask->der_len, &chain->ask, &chain->ask_len, "ASK", err);
	if (!ret && ark)
		ret = dup_der(ark->der, ark->der_len, &chain->ark, &chain->ark_len, "ARK", err);
	if (!ret && chain->product == SNP_PRODUCT_UNKNOWN)
		chain->product = product_of_vek(vek->der, vek->der_len);
	chain->source = VCEK_FROM_TABLE;
	return ret;
}

/* What the cache and KDS cannot give; then the VCEK from them. */
static int from_elsewhere(struct vcek_sources *vs, const struct snp_report *report,
			  struct vcek_chain *chain, struct snp_err *err)
{
	struct vcek_key key;

	if (report->signing_key == SNP_SIGNING_KEY_VLEK)
		return snp_errf(err, -ENOENT,
				"the report is signed by a VLEK and the agent's certificate table has none; VLEKs come only from the table (AMD KDS hands them to cloud providers only)");
	if (report->signing_key != SNP_SIGNING_KEY_VCEK)
		return snp_errf(err, -EBADMSG, "the report's SIGNING_KEY is %d: no VCEK signed it",
				(int)report->signing_key);
	if (report->mask_chip_key || snp_report_chip_id_zero(report))
		return snp_errf(err, -ENOENT,
				"the report's CHIP_ID is masked (MASK_CHIP_KEY), so its VCEK cannot be looked up by chip; the agent must send it in the certificate table");
	if (chain->product == SNP_PRODUCT_UNKNOWN)
		return snp_errf(err, -EINVAL,
				"the product is unknown (a v2 report has no CPUID and none was given), so the VCEK cannot be looked up");
	key_init(&key, report, chain->product);
	return find_vcek(vs, &key, chain, err);
}

int vcek_find(struct vcek_sources *vs, const struct snp_report *report, enum snp_product product,
	      const uint8_t *cert_table, size_t cert_table_len, struct vcek_chain *chain,
	      struct snp_err *err)
{
	struct snp_cert_table t = { 0 };
	bool fresh;
	int ret = 0;

	memset(chain, 0, sizeof(*chain));
	chain->product = product ? product : report->cpuid_product;
	if (cert_table_len)
		ret = snp_cert_table_parse(cert_table, cert_table_len, &t, err);
	if (!ret)
		ret = from_table(&t, report, chain, err);
	if (ret == 1)
		ret = from_elsewhere(vs, report, chain, err);
	if (!ret && chain->source == VCEK_FROM_TABLE && !chain->ask &&
	    report->signing_key == SNP_SIGNING_KEY_VLEK)
		ret = snp_errf(err, -ENOENT,
			       "the agent's certificate table has a VLEK but no ASVK, which only it can give");
	if (!ret && chain->product == SNP_PRODUCT_UNKNOWN && (!chain->ark || !chain->ask))
		ret = snp_errf(err, -EINVAL,
			       "the product is unknown, so the ARK and ASK cannot be looked up");
	/* Unverified here; the broker verifies the whole chain with the report. */
	if (!ret && (!chain->ark || !chain->ask))
		ret = roots_fill(vs, chain->product, chain, &fresh, err);
	snp_cert_table_free(&t);
	if (ret)
		vcek_chain_free(chain);
	return ret;
}

int vcek_cache_put(struct vcek_sources *vs, const struct snp_report *report,
		   enum snp_product product, const struct vcek_chain *chain, struct snp_err *err)
{
	enum snp_product p = chain->product ? chain->product : product;
	struct vcek_key key;
	int ret;

	if (report->signing_key != SNP_SIGNING_KEY_VCEK || p == SNP_PRODUCT_UNKNOWN ||
	    !chain->ark || !chain->ask || !chain->vek)
		return 0;
	ret = roots_keep(vs, p, chain, err);
	if (ret || chain->source != VCEK_FROM_TABLE || report->mask_chip_key ||
	    snp_report_chip_id_zero(report))
		return ret;
	key_init(&key, report, p);
	return cache_put_vcek(vs, &key, chain->vek, chain->vek_len, err);
}
