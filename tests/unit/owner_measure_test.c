// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * owner/measure.h and owner/vmsa.h: launch digests known from the
 * upstream tools on the upstream fixtures (../shared/testdata/measure)
 * and on Debian 12's OVMF, the --ovmf-hash seed, the vCPU signatures,
 * the VMSA differences of EC2 and GCE, and each refusal.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/sha256.h>

#include "owner/measure.h"
#include "owner/vmsa.h"
#include "snp/bytes.h"
#include "tests/harness.h"

#define AMDSEV "measure/fixtures/ovmf_AmdSev_suffix.bin"
#define OVMFX64 "measure/fixtures/ovmf_OvmfX64_suffix.bin"
#define FIXTURE_MAX (64 * 1024)

#define DEBIAN_OVMF "/usr/share/ovmf/OVMF.fd"
#define DEBIAN_OVMF_SHA256 \
	"7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773"

/* Offsets in the AmdSev fixture, as in owner_ovmf_test.c. */
#define AMDSEV_FOOTER_GUID	0xfd0
#define AMDSEV_META_ENTRY	0xf72
#define AMDSEV_META_OFFSET	0xf6e
#define AMDSEV_ASEV		0xaac

static const uint8_t empty[1];

/* EPYC, EPYC-v4: family 23, model 1, stepping 2. */
#define SIG_EPYC	0x00800f12u

/* The digest of in, compared with want (hex); whether they are equal. */
static bool check_digest(const struct measure_input *in, const char *want)
{
	uint8_t got[MEASURE_DIGEST_SIZE], expected[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };
	int ret = measure_launch_digest(in, got, &err);

	if (!CHECK(ret == 0)) {
		fprintf(stderr, "    error: %s\n", err.msg);
		return false;
	}
	test_unhex(want, expected, sizeof(expected));
	return CHECK_MEM(got, expected, sizeof(expected));
}

/* A QEMU launch of fw with one vCPU of sig and the SNP feature only. */
static struct measure_input qemu_launch(const uint8_t *fw, size_t len,
					uint32_t sig)
{
	struct measure_input in = {
		.fw = fw, .fw_len = len, .vcpus = 1, .vcpu_sig = sig,
		.guest_features = VMSA_FEATURE_SNP, .vmm = MEASURE_VMM_QEMU,
	};
	return in;
}

/* --kernel and --initrd given as empty files (upstream's /dev/null). */
static void empty_kernel(struct measure_input *in, const char *append)
{
	in->has_kernel = true;
	in->kernel = empty;
	in->initrd = empty;
	in->append = append;
}

TEST(owner_measure_issue_known_answers)
{
	size_t len, len64;
	uint8_t *amdsev = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	uint8_t *ovmfx64 = test_read_shared(OVMFX64, FIXTURE_MAX, &len64);
	struct measure_input in = qemu_launch(amdsev, len, 0);
	uint32_t sig;

	REQUIRE(vmsa_cpu_signature_by_name("EPYC", &in.vcpu_sig) == 0);
	check_digest(&in, "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6"
			  "013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d");

	REQUIRE(vmsa_cpu_signature_by_name("EPYC-Genoa", &sig) == 0);
	in = qemu_launch(ovmfx64, len64, sig);
	in.vcpus = 4;
	check_digest(&in, "403aa9a8e082a1763575d6b52d7b8bfbcc0f1b1d996f0b17"
			  "040e6418bdfb6a855eca502b391ce776dbd5af275c6c8d0b");
	free(amdsev);
	free(ovmfx64);
}

/* The issue's synthetic direct boot: kernel, initrd and command line. */
TEST(owner_measure_kernel_initrd_append)
{
	size_t len;
	uint8_t *fw = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	uint8_t *kernel = malloc(70000), *initrd = malloc(50000);
	struct measure_input in;
	uint32_t sig;

	REQUIRE(kernel && initrd);
	for (size_t i = 0; i < 70000; i++)
		kernel[i] = (uint8_t)(i % 251);
	for (size_t i = 0; i < 50000; i++)
		initrd[i] = (uint8_t)((31 * i + 7) & 0xff);
	REQUIRE(vmsa_cpu_signature_by_name("EPYC-Milan", &sig) == 0);
	in = qemu_launch(fw, len, sig);
	in.has_kernel = true;
	in.kernel = kernel;
	in.kernel_len = 70000;
	in.initrd = initrd;
	in.initrd_len = 50000;
	in.append = "console=ttyS0 root=/dev/vda1 rd.luks=1";
	check_digest(&in, "d1085c5c28f35bd5dece9afe8f31b331c34a7a74080725997"
			  "df2385b424597b897434b2c6d22bfb937391cc2f536a1e6");
	free(fw);
	free(kernel);
	free(initrd);
}

/* ../shared/docs/snp-facts.md: starts 803f6910, ends 0228977. */
TEST(owner_measure_facts_value)
{
	size_t len;
	uint8_t *fw = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	struct measure_input in;
	uint8_t got[MEASURE_DIGEST_SIZE];
	char hex[2 * MEASURE_DIGEST_SIZE + 1];
	struct snp_err err = { 0 };
	uint32_t sig;

	REQUIRE(vmsa_cpu_signature_by_name("EPYC-v4", &sig) == 0);
	in = qemu_launch(fw, len, sig);
	empty_kernel(&in, "console=ttyS0 loglevel=7");
	in.guest_features = 0x21;
	REQUIRE(measure_launch_digest(&in, got, &err) == 0);
	snp_hex(hex, got, sizeof(got));
	CHECK(!strncmp(hex, "803f6910", 8));
	CHECK_STR(hex + strlen(hex) - 7, "0228977");
	free(fw);
}

TEST(owner_measure_ovmf_hash)
{
	size_t len;
	uint8_t *fw = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	uint8_t hash[MEASURE_DIGEST_SIZE], want[MEASURE_DIGEST_SIZE];
	uint8_t hashed[MEASURE_DIGEST_SIZE], seeded[MEASURE_DIGEST_SIZE];
	struct measure_input in = qemu_launch(fw, len, SIG_EPYC);
	struct snp_err err = { 0 };

	REQUIRE(measure_ovmf_hash(fw, len, hash, &err) == 0);
	test_unhex("086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2"
		   "c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74", want, sizeof(want));
	CHECK_MEM(hash, want, sizeof(want));

	/* Seeding with it gives what hashing the pages gives, kernel or not. */
	in.vcpus = 3;
	REQUIRE(measure_launch_digest(&in, hashed, &err) == 0);
	in.ovmf_hash = hash;
	REQUIRE(measure_launch_digest(&in, seeded, &err) == 0);
	CHECK_MEM(seeded, hashed, sizeof(hashed));
	empty_kernel(&in, "x");
	REQUIRE(measure_launch_digest(&in, seeded, &err) == 0);
	in.ovmf_hash = NULL;
	REQUIRE(measure_launch_digest(&in, hashed, &err) == 0);
	CHECK_MEM(seeded, hashed, sizeof(hashed));
	/* The seed is used, not ignored: another seed, another digest. */
	hash[0] ^= 1;
	in.ovmf_hash = hash;
	REQUIRE(measure_launch_digest(&in, seeded, &err) == 0);
	CHECK(memcmp(seeded, hashed, sizeof(hashed)) != 0);
	free(fw);
}

/*
 * virtee/sev-snp-measure tests/test_guest.py (the edk2-stable202405
 * fixtures), EPYC-v4; each line names the upstream test.
 */
struct upstream_case {
	const char *test;
	const char *fw;
	bool seeded;			/* --snp-ovmf-hash 086e2e91... */
	bool kernel;			/* /dev/null kernel and initrd */
	const char *append;
	unsigned int vcpus;
	uint64_t features;
	enum measure_vmm vmm;
	const char *want;
};

static const struct upstream_case upstream_cases[] = {
	{ "test_snp_ovmf_hash_gen_default", AMDSEV, true, true, "", 1, 0x21, MEASURE_VMM_QEMU,
	  "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198" },
	{ "test_snp_ovmf_hash_gen_feature_snp_only", AMDSEV, true, true, "", 1, 0x1, MEASURE_VMM_QEMU,
	  "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5" },
	{ "test_snp_default", AMDSEV, false, true, "console=ttyS0 loglevel=7", 1, 0x21, MEASURE_VMM_QEMU,
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977" },
	{ "test_snp_guest_feature_snp_only", AMDSEV, false, true, "console=ttyS0 loglevel=7", 1, 0x1, MEASURE_VMM_QEMU,
	  "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa" },
	{ "test_snp_without_kernel_default", AMDSEV, false, false, NULL, 1, 0x21, MEASURE_VMM_QEMU,
	  "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b" },
	{ "test_snp_with_multiple_vcpus_default", AMDSEV, false, true, "", 4, 0x21, MEASURE_VMM_QEMU,
	  "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942" },
	{ "test_snp_with_multiple_vcpus_feature_snp_only", AMDSEV, false, true, "", 4, 0x1, MEASURE_VMM_QEMU,
	  "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5" },
	{ "test_snp_with_ovmfx64_without_default", OVMFX64, false, false, NULL, 1, 0x21, MEASURE_VMM_QEMU,
	  "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385" },
	{ "test_snp_with_ovmfx64_without_kernel_feature_snp_only", OVMFX64, false, false, NULL, 1, 0x1, MEASURE_VMM_QEMU,
	  "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005" },
	{ "test_snp_ec2_default", AMDSEV, false, true, "", 1, 0x21, MEASURE_VMM_EC2,
	  "6ae80856486b1396af8c82a40351d6ed76a20c785e9c7fa4ffa27c22d5d6313b4b3b458cd3c9968e6f89fb5d8450d7a6" },
	{ "test_snp_ec2_feature_snp_only", AMDSEV, false, true, "", 1, 0x1, MEASURE_VMM_EC2,
	  "7d3756157c805bf6adf617064c8552e8c1688fa1c8756f11cbf56ba5d25c9270fb69c0505c1cbe1c5c66c0e34c6ed3be" },
};

TEST(owner_measure_upstream_vectors)
{
	uint8_t seed[MEASURE_DIGEST_SIZE];

	test_unhex("086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2"
		   "c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74", seed, sizeof(seed));
	for (size_t i = 0; i < sizeof(upstream_cases) / sizeof(upstream_cases[0]); i++) {
		const struct upstream_case *t = &upstream_cases[i];
		size_t len;
		uint8_t *fw = test_read_shared(t->fw, FIXTURE_MAX, &len);
		struct measure_input in = qemu_launch(fw, len, SIG_EPYC);

		in.ovmf_hash = t->seeded ? seed : NULL;
		if (t->kernel)
			empty_kernel(&in, t->append);
		in.vcpus = t->vcpus;
		in.guest_features = t->features;
		in.vmm = t->vmm;
		if (!check_digest(&in, t->want))
			fprintf(stderr, "    in upstream's %s\n", t->test);
		free(fw);
	}
}

/* Measure in expecting -EINVAL with a message containing want. */
static void check_refused(const struct measure_input *in, const char *want)
{
	uint8_t out[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };

	memset(out, 0x5a, sizeof(out));
	CHECK(measure_launch_digest(in, out, &err) == -EINVAL);
	if (!CHECK(strstr(err.msg, want) != NULL))
		fprintf(stderr, "    message: %s (wanted \"%s\")\n", err.msg, want);
	CHECK(out[0] == 0x5a && out[MEASURE_DIGEST_SIZE - 1] == 0x5a);
}

static void check_accepted(const struct measure_input *in)
{
	uint8_t out[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };

	if (!CHECK(measure_launch_digest(in, out, &err) == 0))
		fprintf(stderr, "    error: %s\n", err.msg);
}

/* A file's SHA-256 in hex, or "" when it cannot be read. */
static void file_sha256_hex(const char *path, char hex[65])
{
	struct stat st;
	size_t len;
	uint8_t *data, sum[32];

	hex[0] = '\0';
	if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size > 64 * 1024 * 1024)
		return;
	data = test_read_file(path, (size_t)st.st_size, &len);
	if (!mbedtls_sha256(data, len, sum, 0))
		snp_hex(hex, sum, sizeof(sum));
	free(data);
}

TEST(owner_measure_debian_ovmf)
{
	char hex[65];
	size_t len;
	uint8_t *fw;
	struct measure_input in;

	file_sha256_hex(DEBIAN_OVMF, hex);
	if (strcmp(hex, DEBIAN_OVMF_SHA256))
		test_skip("%s absent or not ovmf 2022.11-6+deb12u2's", DEBIAN_OVMF);
	fw = test_read_file(DEBIAN_OVMF, 64 * 1024 * 1024, &len);
	in = qemu_launch(fw, len, SIG_EPYC);
	in.vcpus = 4;
	check_digest(&in, "32ac9d7a17d28f7cd4404a4516d2f00519668c40ada20623"
			  "51c36767e908eb3f090d66c33ab10f80150e00a4385b6d0f");
	/* It measures firmware only: a kernel is refused. */
	empty_kernel(&in, NULL);
	check_refused(&in, "no kernel-hashes section");
	free(fw);
}

TEST(owner_measure_cpu_signatures)
{
	static const struct {
		const char *name;
		uint32_t sig;
	} known[] = {
		{ "EPYC", 0x00800f12 }, { "EPYC-v1", 0x00800f12 },
		{ "EPYC-v4", 0x00800f12 }, { "EPYC-v5", 0x00800f12 },
		{ "EPYC-IBPB", 0x00800f12 },
		{ "EPYC-Rome", 0x00830f10 }, { "EPYC-Rome-v5", 0x00830f10 },
		{ "EPYC-Milan", 0x00a00f11 }, { "EPYC-Milan-v3", 0x00a00f11 },
		{ "EPYC-Genoa", 0x00a10f10 }, { "EPYC-Genoa-v2", 0x00a10f10 },
		{ "EPYC-Turin", 0x00b00f00 }, { "EPYC-Turin-v1", 0x00b00f00 },
	};
	static const char *const unknown[] = {
		"", "epyc", "EPYC-", "EPYC-v0", "EPYC-v6", "EPYC-v10",
		"EPYC-Milan-v4", "EPYC-Genoa-v3", "EPYC-Turin-v2", "EPYC-IBPB-v1",
		"EPYC-Rome-v1x", "EPYC-Siena", "EPYCX",
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint32_t sig = 0;

		if (!CHECK(vmsa_cpu_signature_by_name(known[i].name, &sig) == 0 &&
			   sig == known[i].sig))
			fprintf(stderr, "    %s: %#x\n", known[i].name, sig);
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		uint32_t sig = 77;

		if (!CHECK(vmsa_cpu_signature_by_name(unknown[i], &sig) == -EINVAL &&
			   sig == 77))
			fprintf(stderr, "    accepted \"%s\"\n", unknown[i]);
	}
	/* Family 0xf and below have no extended family; models above 0xf do. */
	CHECK(vmsa_cpu_signature(15, 0x6b, 2) == 0x00060fb2);
	CHECK(vmsa_cpu_signature(6, 0, 0) == 0x600);
	CHECK(vmsa_cpu_signature(25, 0x11, 0x11) == 0x00a10f11);
}

/* Fields of the VMSA at an offset, little-endian. */
static uint64_t vmsa_u64(const uint8_t *page, unsigned int at)
{
	return snp_get_le64(page + at);
}

TEST(owner_measure_vmsa_flavours)
{
	uint8_t qemu[VMSA_PAGE_SIZE], ec2[VMSA_PAGE_SIZE], gce[VMSA_PAGE_SIZE];

	vmsa_build(qemu, VMSA_QEMU, VMSA_BSP_EIP, SIG_EPYC, 0x21);
	CHECK(qemu[0x12] == 0x9b && qemu[0x22] == 0x93 && qemu[0x92] == 0x8b);
	CHECK(vmsa_u64(qemu, 0x18) == 0xffff0000 && vmsa_u64(qemu, 0x178) == 0xfff0);
	CHECK(vmsa_u64(qemu, 0x310) == SIG_EPYC);
	CHECK(vmsa_u64(qemu, 0x3b0) == 0x21);
	CHECK(vmsa_u64(qemu, 0x268) == 0x0007040600070406ull);
	/* QEMU's FPU area holds MXCSR's and the x87 control word's reset values. */
	CHECK(snp_get_le32(qemu + 0x408) == 0x1f80);
	CHECK(qemu[0x410] == 0x7f && qemu[0x411] == 0x03);
	CHECK(snp_all_zero(qemu + 0x3f0, 0x408 - 0x3f0));
	CHECK(snp_all_zero(qemu + 0x412, VMSA_PAGE_SIZE - 0x412));

	/* EC2: the BSP's CS unaccessed, SS and TR differ, no signature in RDX. */
	vmsa_build(ec2, VMSA_EC2, VMSA_BSP_EIP, SIG_EPYC, 0x1);
	CHECK(ec2[0x12] == 0x9a && ec2[0x22] == 0x92 && ec2[0x92] == 0x83);
	CHECK(vmsa_u64(ec2, 0x310) == 0);
	CHECK(snp_all_zero(ec2 + 0x3f0, VMSA_PAGE_SIZE - 0x3f0));
	vmsa_build(ec2, VMSA_EC2, 0x80b004, SIG_EPYC, 0x1);
	CHECK(ec2[0x12] == 0x9b);
	CHECK(vmsa_u64(ec2, 0x18) == 0x800000 && vmsa_u64(ec2, 0x178) == 0xb004);

	/*
	 * GCE: the nonzero bytes of google/gce-tcb-verifier's expected BSP
	 * VMSA (sev/sev_test.go, vmsaBytes).
	 */
	vmsa_build(gce, VMSA_GCE, VMSA_BSP_EIP, SIG_EPYC, 0x1);
	CHECK(vmsa_u64(gce, 0x268) == 0x00070106);
	CHECK(vmsa_u64(gce, 0x310) == 0x600);
	CHECK(vmsa_u64(gce, 0x3b0) == 0x1 && vmsa_u64(gce, 0x3e8) == 0x1);
	CHECK(vmsa_u64(gce, 0xd0) == 0x1000 && vmsa_u64(gce, 0x148) == 0x40 &&
	      vmsa_u64(gce, 0x158) == 0x10 && vmsa_u64(gce, 0x160) == 0x400 &&
	      vmsa_u64(gce, 0x168) == 0xffff0ff0 && vmsa_u64(gce, 0x170) == 2);
	CHECK(snp_all_zero(gce + 0x3f0, VMSA_PAGE_SIZE - 0x3f0));
	/* Beyond the fields named, GCE's page is QEMU's. */
	vmsa_build(qemu, VMSA_QEMU, VMSA_BSP_EIP, 0x600, 0x1);
	snp_put_le64(qemu + 0x268, 0x00070106);
	memset(qemu + 0x3f0, 0, VMSA_PAGE_SIZE - 0x3f0);
	CHECK_MEM(gce, qemu, VMSA_PAGE_SIZE);
}

TEST(owner_measure_gce)
{
	size_t len;
	uint8_t *fw = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	struct measure_input in = qemu_launch(fw, len, SIG_EPYC);
	uint8_t qemu[MEASURE_DIGEST_SIZE], gce[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };

	REQUIRE(measure_launch_digest(&in, qemu, &err) == 0);
	in.vmm = MEASURE_VMM_GCE;
	REQUIRE(measure_launch_digest(&in, gce, &err) == 0);
	CHECK(memcmp(qemu, gce, sizeof(gce)) != 0);
	/* GCE boots no kernel from the command line. */
	empty_kernel(&in, NULL);
	CHECK(measure_launch_digest(&in, gce, &err) == -EINVAL);
	CHECK(strstr(err.msg, "GCE") != NULL);
	free(fw);
}

/* Where the 16 bytes of guid are in fw (len bytes), or 0 when absent. */
static size_t find_guid(const uint8_t *fw, size_t len, const uint8_t guid[16])
{
	for (size_t i = 0; i + 16 <= len; i++)
		if (!memcmp(fw + i, guid, 16))
			return i;
	return 0;
}

TEST(owner_measure_refusals)
{
	/* 00f771de-1a7e-4fcb-890e-68c77e2fb44e, the SEV-ES reset block */
	static const uint8_t reset_guid[16] = {
		0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
		0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e,
	};
	size_t len, len64, at;
	uint8_t *orig = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	uint8_t *ovmfx64 = test_read_shared(OVMFX64, FIXTURE_MAX, &len64);
	uint8_t *fw = malloc(4096);
	struct measure_input in;

	REQUIRE(fw && len == 4096);
	in = qemu_launch(orig + 2048, 2048, SIG_EPYC);
	check_refused(&in, "truncated");
	in = qemu_launch(fw, 4096, SIG_EPYC);
	memcpy(fw, orig, 4096);
	fw[AMDSEV_FOOTER_GUID] ^= 1;
	check_refused(&in, "bad footer GUID");
	memcpy(fw, orig, 4096);
	fw[AMDSEV_META_ENTRY] = 17;
	check_refused(&in, "entry length 17");
	memcpy(fw, orig, 4096);
	fw[AMDSEV_ASEV] = 'B';
	check_refused(&in, "bad SEV metadata header");
	memcpy(fw, orig, 4096);
	snp_put_le32(fw + AMDSEV_META_OFFSET, 0x2000);
	check_refused(&in, "past the ends");
	memcpy(fw, orig, 4096);
	snp_put_le32(fw + AMDSEV_ASEV + 16 + 8, 5);
	check_refused(&in, "unknown section type 0x5");

	in = qemu_launch(ovmfx64, len64, SIG_EPYC);
	empty_kernel(&in, NULL);
	check_refused(&in, "kernel given but the firmware has no kernel-hashes section");

	in = qemu_launch(orig, len, SIG_EPYC);
	in.vcpus = 0;
	check_refused(&in, "vcpus 0 is out of range");
	in.vcpus = MEASURE_VCPUS_MAX + 1;
	check_refused(&in, "vcpus 513 is out of range");
	in.vcpus = MEASURE_VCPUS_MAX;
	check_accepted(&in);
	in.vcpus = 1;
	in.vmm = (enum measure_vmm)7;
	check_refused(&in, "unknown VMM");
	in.vmm = MEASURE_VMM_QEMU;
	in.kernel_len = 1;
	in.has_kernel = true;
	check_refused(&in, "without its bytes");

	/* Without the reset block one vCPU is fine, more are refused. */
	memcpy(fw, orig, 4096);
	at = find_guid(fw, 4096, reset_guid);
	REQUIRE(at);
	fw[at] ^= 1;
	in = qemu_launch(fw, 4096, SIG_EPYC);
	check_accepted(&in);
	in.vcpus = 2;
	check_refused(&in, "no SEV-ES reset block");
	free(orig);
	free(ovmfx64);
	free(fw);
}

/* The kernel hash table must fit the kernel-hashes page it is written to. */
TEST(owner_measure_hash_table_bounds)
{
	/* 7255371f-3a3b-4b04-927b-1da6efa8d454, the kernel hash table entry */
	static const uint8_t table_guid[16] = {
		0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
		0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54,
	};
	size_t len, at;
	uint8_t *orig = test_read_shared(AMDSEV, FIXTURE_MAX, &len);
	uint8_t *fw = malloc(4096);
	struct measure_input in = qemu_launch(fw, 4096, SIG_EPYC);

	REQUIRE(fw && len == 4096);
	empty_kernel(&in, NULL);
	/* The entry's data (gpa, size) is just before its size and GUID. */
	at = find_guid(orig, 4096, table_guid);
	REQUIRE(at >= 2 + 8);
	memcpy(fw, orig, 4096);
	snp_put_le32(fw + at - 2 - 8, 0x810fc0);	/* 64 bytes left in the page */
	check_refused(&in, "does not fit");
	memcpy(fw, orig, 4096);
	snp_put_le32(fw + at - 2 - 8, 0x811000);	/* the page after the section */
	check_refused(&in, "does not fit");
	memcpy(fw, orig, 4096);
	snp_put_le32(fw + at - 2 - 4, 0x20);		/* too small for the table */
	check_refused(&in, "does not fit");
	memcpy(fw, orig, 4096);
	fw[at] ^= 1;
	check_refused(&in, "no kernel hash table entry");
	free(orig);
	free(fw);
}
