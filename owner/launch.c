// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The launch options shared by snp-owner's commands, and the measurement
 * made from them. Input files are mapped, not copied: an initrd can be
 * large and the digest should cost little more than hashing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owner/launch.h"
#include "owner/vmsa.h"
#include "snp/report.h"

/* Firmware images are a few MiB; kernels and initrds far below this. */
#define LAUNCH_FIRMWARE_MAX	(64ull << 20)
#define LAUNCH_FILE_MAX		(4ull << 30)

/* The options that go into a measurement (all but --policy and --measurement). */
#define MEASURED_INPUTS \
	((1u << (LAUNCH_OPT_POLICY - LAUNCH_OPT_BIOS)) - 1)

struct mapped {
	const uint8_t *data;
	size_t len;
};

void launch_init(struct launch *l)
{
	memset(l, 0, sizeof(*l));
	l->bios = LAUNCH_DEFAULT_BIOS;
	l->smp = LAUNCH_DEFAULT_SMP;
	/* A name in vmsa.c's table: the lookup cannot fail. */
	vmsa_cpu_signature_by_name(LAUNCH_DEFAULT_CPU, &l->vcpu_sig);
	l->vcpu_fms[0] = l->vcpu_fms[1] = l->vcpu_fms[2] = -1;
	l->guest_features = 0x1;
	l->vmm = MEASURE_VMM_QEMU;
	l->policy = LAUNCH_DEFAULT_POLICY;
}

bool launch_given(const struct launch *l, int opt)
{
	return l->given & (1u << (opt - LAUNCH_OPT_BIOS));
}

int launch_parse_u64(const char *what, const char *arg, uint64_t max, uint64_t *out,
		     struct snp_err *err)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*arg < '0' || *arg > '9')
		return snp_errf(err, -EINVAL, "%s: '%s' is not a number", what, arg);
	v = strtoull(arg, &end, 0);
	if (errno || *end || end == arg)
		return snp_errf(err, -EINVAL, "%s: '%s' is not a number", what, arg);
	if (v > max)
		return snp_errf(err, -EINVAL, "%s: %s is above %llu", what, arg,
				(unsigned long long)max);
	*out = v;
	return 0;
}

static int parse_digest(const char *what, const char *arg, uint8_t out[MEASURE_DIGEST_SIZE],
			struct snp_err *err)
{
	uint8_t tmp[MEASURE_DIGEST_SIZE];
	size_t len;

	if (snp_unhex(arg, tmp, sizeof(tmp), &len) || len != sizeof(tmp))
		return snp_errf(err, -EINVAL, "%s: not %u hex digits", what,
				2 * MEASURE_DIGEST_SIZE);
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

/* The guest policy as SEV-SNP defines it: bit 17 set, bits 26-63 clear. */
static int parse_policy(const char *arg, uint64_t *out, struct snp_err *err)
{
	uint64_t v;
	int ret;

	if (strncmp(arg, "0x", 2) && strncmp(arg, "0X", 2))
		return snp_errf(err, -EINVAL, "--policy: '%s' is not hexadecimal (0x...)", arg);
	ret = launch_parse_u64("--policy", arg, UINT64_MAX, &v, err);
	if (ret)
		return ret;
	if (v & SNP_POLICY_MBZ_MASK)
		return snp_errf(err, -EINVAL, "--policy: %s sets reserved bits 26-63 (they must be 0)",
				arg);
	if (!(v & SNP_POLICY_RESERVED_1))
		return snp_errf(err, -EINVAL, "--policy: %s has bit 17 clear (it must be 1)", arg);
	*out = v;
	return 0;
}

static int parse_vmm(const char *arg, enum measure_vmm *out, struct snp_err *err)
{
	if (!strcmp(arg, "qemu"))
		*out = MEASURE_VMM_QEMU;
	else if (!strcmp(arg, "ec2"))
		*out = MEASURE_VMM_EC2;
	else if (!strcmp(arg, "gce"))
		*out = MEASURE_VMM_GCE;
	else
		return snp_errf(err, -EINVAL, "--vmm: '%s' is not qemu, ec2 or gce", arg);
	return 0;
}

static int parse_fms(struct launch *l, int i, const char *what, const char *arg,
		     uint64_t max, struct snp_err *err)
{
	uint64_t v;
	int ret = launch_parse_u64(what, arg, max, &v, err);

	if (!ret)
		l->vcpu_fms[i] = (int)v;
	return ret;
}

static int parse_value(struct launch *l, int opt, const char *arg, struct snp_err *err)
{
	uint64_t v;
	int ret;

	switch (opt) {
	case LAUNCH_OPT_SMP:
		ret = launch_parse_u64("--smp", arg, LAUNCH_SMP_MAX, &v, err);
		if (!ret && !v)
			ret = snp_errf(err, -EINVAL, "--smp: a guest needs at least one vCPU");
		if (!ret)
			l->smp = (unsigned int)v;
		return ret;
	case LAUNCH_OPT_CPU:
		if (vmsa_cpu_signature_by_name(arg, &l->vcpu_sig))
			return snp_errf(err, -EINVAL, "--cpu: '%s' is not an EPYC model snp-owner knows (EPYC, EPYC-Rome, EPYC-Milan, EPYC-Genoa, EPYC-Turin, with -vN)",
					arg);
		return 0;
	case LAUNCH_OPT_VCPU_SIG:
		ret = launch_parse_u64("--vcpu-sig", arg, UINT32_MAX, &v, err);
		if (!ret)
			l->vcpu_sig = (uint32_t)v;
		return ret;
	case LAUNCH_OPT_VCPU_FAMILY:
		return parse_fms(l, 0, "--vcpu-family", arg, 0xff + 0xf, err);
	case LAUNCH_OPT_VCPU_MODEL:
		return parse_fms(l, 1, "--vcpu-model", arg, 0xff, err);
	case LAUNCH_OPT_VCPU_STEPPING:
		return parse_fms(l, 2, "--vcpu-stepping", arg, 0xf, err);
	case LAUNCH_OPT_GUEST_FEATURES:
		return launch_parse_u64("--guest-features", arg, UINT64_MAX, &l->guest_features,
					err);
	case LAUNCH_OPT_VMM:
		return parse_vmm(arg, &l->vmm, err);
	case LAUNCH_OPT_OVMF_HASH:
		return parse_digest("--ovmf-hash", arg, l->ovmf_hash, err);
	case LAUNCH_OPT_POLICY:
		return parse_policy(arg, &l->policy, err);
	case LAUNCH_OPT_MEASUREMENT:
		return parse_digest("--measurement", arg, l->measurement, err);
	}
	return snp_errf(err, -EINVAL, "unknown launch option");
}

int launch_option(struct launch *l, int opt, const char *arg, struct snp_err *err)
{
	int ret = 0;

	if (opt < LAUNCH_OPT_BIOS || opt >= LAUNCH_OPT_LAST)
		return snp_errf(err, -EINVAL, "unknown launch option");
	switch (opt) {
	case LAUNCH_OPT_BIOS:
		l->bios = arg;
		break;
	case LAUNCH_OPT_KERNEL:
		l->kernel = arg;
		break;
	case LAUNCH_OPT_INITRD:
		l->initrd = arg;
		break;
	case LAUNCH_OPT_APPEND:
		l->append = arg;
		break;
	case LAUNCH_OPT_KERNEL_HASHES:
		l->kernel_hashes = true;
		break;
	default:
		ret = parse_value(l, opt, arg, err);
	}
	if (!ret)
		l->given |= 1u << (opt - LAUNCH_OPT_BIOS);
	return ret;
}

static int map_file(const char *what, const char *path, uint64_t max, struct mapped *m,
		    struct snp_err *err)
{
	struct stat st;
	void *p;
	int fd, ret = 0;

	m->data = NULL;
	m->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return snp_errf(err, -errno, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st)) {
		ret = snp_errf(err, -errno, "%s %s: %s", what, path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		ret = snp_errf(err, -EINVAL, "%s %s: not a regular file", what, path);
	} else if ((uint64_t)st.st_size > max) {
		ret = snp_errf(err, -EFBIG, "%s %s: %lld bytes is too large (at most %llu)",
			       what, path, (long long)st.st_size, (unsigned long long)max);
	} else if (st.st_size > 0) {
		/* Every page is hashed: mapping them in one go beats a fault each. */
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED) {
			ret = snp_errf(err, -errno, "%s %s: %s", what, path, strerror(errno));
		} else {
			m->data = p;
			m->len = (size_t)st.st_size;
		}
	}
	close(fd);
	return ret;
}

static void unmap_file(struct mapped *m)
{
	if (m->data)
		munmap((void *)m->data, m->len);
	m->data = NULL;
}

/* --cpu or --vcpu-sig (in l->vcpu_sig), or the three parts of a signature. */
static int vcpu_signature(const struct launch *l, uint32_t *sig, struct snp_err *err)
{
	int n = (l->vcpu_fms[0] >= 0) + (l->vcpu_fms[1] >= 0) + (l->vcpu_fms[2] >= 0);

	if (n && n != 3)
		return snp_errf(err, -EINVAL,
				"--vcpu-family, --vcpu-model and --vcpu-stepping go together");
	if (n && (launch_given(l, LAUNCH_OPT_VCPU_SIG) || launch_given(l, LAUNCH_OPT_CPU)))
		return snp_errf(err, -EINVAL,
				"give the vCPU as one of --cpu, --vcpu-sig or --vcpu-family/-model/-stepping");
	if (launch_given(l, LAUNCH_OPT_VCPU_SIG) && launch_given(l, LAUNCH_OPT_CPU))
		return snp_errf(err, -EINVAL, "--cpu and --vcpu-sig both name the vCPU: give one");
	*sig = n ? vmsa_cpu_signature((unsigned int)l->vcpu_fms[0], (unsigned int)l->vcpu_fms[1],
				      (unsigned int)l->vcpu_fms[2]) :
		   l->vcpu_sig;
	return 0;
}

/* What QEMU is given but does not measure, said rather than hidden. */
static void note_unmeasured(const struct launch *l, char notes[256])
{
	if (!l->kernel_hashes && (l->kernel || l->initrd || l->append))
		snprintf(notes, 256, "the kernel, initrd and command line are not measured "
			 "(as QEMU without kernel-hashes=on): anyone who can change them "
			 "changes the guest unnoticed; use --kernel-hashes with an AmdSev firmware");
}

static int check_kernel_inputs(const struct launch *l, struct snp_err *err)
{
	if (l->kernel_hashes && !l->kernel)
		return snp_errf(err, -EINVAL, "--kernel-hashes needs --kernel");
	if ((l->initrd || l->append) && !l->kernel)
		return snp_errf(err, -EINVAL, "--initrd and --append need --kernel");
	return 0;
}

static int measure_files(const struct launch *l, const struct measure_input *base,
			 uint8_t out[MEASURE_DIGEST_SIZE], struct snp_err *err)
{
	struct measure_input in = *base;
	struct mapped fw, kernel = { 0 }, initrd = { 0 };
	int ret;

	ret = map_file("firmware", l->bios, LAUNCH_FIRMWARE_MAX, &fw, err);
	if (ret)
		return ret;
	if (l->kernel_hashes) {
		ret = map_file("kernel", l->kernel, LAUNCH_FILE_MAX, &kernel, err);
		if (!ret && l->initrd)
			ret = map_file("initrd", l->initrd, LAUNCH_FILE_MAX, &initrd, err);
	}
	if (!ret) {
		in.fw = fw.data;
		in.fw_len = fw.len;
		in.has_kernel = l->kernel_hashes;
		in.kernel = kernel.data;
		in.kernel_len = kernel.len;
		in.initrd = initrd.data;
		in.initrd_len = initrd.len;
		in.append = l->kernel_hashes ? l->append : NULL;
		ret = measure_launch_digest(&in, out, err);
	}
	unmap_file(&initrd);
	unmap_file(&kernel);
	unmap_file(&fw);
	return ret;
}

int launch_measure(const struct launch *l, uint8_t out[MEASURE_DIGEST_SIZE],
		   char notes[256], struct snp_err *err)
{
	struct measure_input in = { 0 };
	char scratch[256];
	int ret;

	if (!notes)
		notes = scratch;
	notes[0] = '\0';
	if (launch_given(l, LAUNCH_OPT_MEASUREMENT)) {
		if (l->given & MEASURED_INPUTS)
			return snp_errf(err, -EINVAL,
					"--measurement takes the place of measuring: leave out the firmware, kernel and vCPU options");
		memcpy(out, l->measurement, MEASURE_DIGEST_SIZE);
		return 0;
	}
	ret = check_kernel_inputs(l, err);
	if (!ret)
		ret = vcpu_signature(l, &in.vcpu_sig, err);
	if (ret)
		return ret;
	in.vcpus = l->smp;
	in.guest_features = l->guest_features;
	in.vmm = l->vmm;
	in.ovmf_hash = launch_given(l, LAUNCH_OPT_OVMF_HASH) ? l->ovmf_hash : NULL;
	ret = measure_files(l, &in, out, err);
	if (!ret)
		note_unmeasured(l, notes);
	return ret;
}

int launch_ovmf_hash(const struct launch *l, uint8_t out[MEASURE_DIGEST_SIZE],
		     struct snp_err *err)
{
	struct mapped fw;
	int ret;

	ret = map_file("firmware", l->bios, LAUNCH_FIRMWARE_MAX, &fw, err);
	if (ret)
		return ret;
	ret = measure_ovmf_hash(fw.data, fw.len, out, err);
	unmap_file(&fw);
	return ret;
}
