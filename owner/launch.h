/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OWNER_LAUNCH_H
#define OWNER_LAUNCH_H

/*
 * The launch as the guest owner describes it to snp-owner: the same
 * option names, meanings and defaults as qemu-scripts/launch-snp-guest,
 * so that the measurement, the ID block and the broker policy are made
 * from exactly what QEMU is given. In particular the kernel, initrd and
 * command line are measured only with --kernel-hashes, as QEMU measures
 * them only with kernel-hashes=on.
 *
 * Every command that measures takes these options; launch_option() is
 * called from its getopt_long loop for the option values below.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "owner/measure.h"
#include "snp/err.h"

#define LAUNCH_DEFAULT_BIOS	"/usr/share/ovmf/OVMF.fd"
#define LAUNCH_DEFAULT_CPU	"EPYC-v4"
#define LAUNCH_DEFAULT_SMP	2u
#define LAUNCH_DEFAULT_POLICY	0x30000ull
#define LAUNCH_SMP_MAX		512u

/* getopt_long values of the launch options (above any short option). */
enum {
	LAUNCH_OPT_BIOS = 0x100,
	LAUNCH_OPT_KERNEL,
	LAUNCH_OPT_INITRD,
	LAUNCH_OPT_APPEND,
	LAUNCH_OPT_KERNEL_HASHES,
	LAUNCH_OPT_SMP,
	LAUNCH_OPT_CPU,
	LAUNCH_OPT_VCPU_SIG,
	LAUNCH_OPT_VCPU_FAMILY,
	LAUNCH_OPT_VCPU_MODEL,
	LAUNCH_OPT_VCPU_STEPPING,
	LAUNCH_OPT_GUEST_FEATURES,
	LAUNCH_OPT_VMM,
	LAUNCH_OPT_OVMF_HASH,
	LAUNCH_OPT_POLICY,
	LAUNCH_OPT_MEASUREMENT,
	LAUNCH_OPT_LAST,		/* commands number their own from here */
};

#define LAUNCH_LONG_OPTIONS \
	{ "bios", required_argument, NULL, LAUNCH_OPT_BIOS }, \
	{ "kernel", required_argument, NULL, LAUNCH_OPT_KERNEL }, \
	{ "initrd", required_argument, NULL, LAUNCH_OPT_INITRD }, \
	{ "append", required_argument, NULL, LAUNCH_OPT_APPEND }, \
	{ "kernel-hashes", no_argument, NULL, LAUNCH_OPT_KERNEL_HASHES }, \
	{ "smp", required_argument, NULL, LAUNCH_OPT_SMP }, \
	{ "vcpus", required_argument, NULL, LAUNCH_OPT_SMP }, \
	{ "cpu", required_argument, NULL, LAUNCH_OPT_CPU }, \
	{ "vcpu-sig", required_argument, NULL, LAUNCH_OPT_VCPU_SIG }, \
	{ "vcpu-family", required_argument, NULL, LAUNCH_OPT_VCPU_FAMILY }, \
	{ "vcpu-model", required_argument, NULL, LAUNCH_OPT_VCPU_MODEL }, \
	{ "vcpu-stepping", required_argument, NULL, LAUNCH_OPT_VCPU_STEPPING }, \
	{ "guest-features", required_argument, NULL, LAUNCH_OPT_GUEST_FEATURES }, \
	{ "vmm", required_argument, NULL, LAUNCH_OPT_VMM }, \
	{ "ovmf-hash", required_argument, NULL, LAUNCH_OPT_OVMF_HASH }, \
	{ "policy", required_argument, NULL, LAUNCH_OPT_POLICY }, \
	{ "measurement", required_argument, NULL, LAUNCH_OPT_MEASUREMENT }

struct launch {
	const char *bios, *kernel, *initrd, *append;
	bool kernel_hashes;
	unsigned int smp;
	uint32_t vcpu_sig;		/* --cpu's (EPYC-v4's by default) or --vcpu-sig */
	int vcpu_fms[3];		/* family, model, stepping; -1 unset */
	uint64_t guest_features;
	enum measure_vmm vmm;
	uint8_t ovmf_hash[MEASURE_DIGEST_SIZE];		/* with --ovmf-hash */
	uint64_t policy;
	/* --measurement: a digest computed elsewhere, in place of measuring. */
	uint8_t measurement[MEASURE_DIGEST_SIZE];
	unsigned int given;		/* bit (opt - LAUNCH_OPT_BIOS) per option seen */
};

void launch_init(struct launch *l);
/*
 * One launch option of a getopt_long loop: 0, or -EINVAL with err naming
 * the option and what was wrong with its value.
 */
int launch_option(struct launch *l, int opt, const char *arg, struct snp_err *err);
bool launch_given(const struct launch *l, int opt);
/*
 * The expected launch digest: --measurement as given, else the firmware,
 * kernel, initrd and command line read and measured. *notes (may be NULL)
 * gets a sentence the user should see (inputs given but not measured),
 * or "" when there is none.
 */
int launch_measure(const struct launch *l, uint8_t out[MEASURE_DIGEST_SIZE],
		   char notes[256], struct snp_err *err);
/* The chain over the firmware's own pages (--ovmf-hash's value). */
int launch_ovmf_hash(const struct launch *l, uint8_t out[MEASURE_DIGEST_SIZE],
		     struct snp_err *err);
/* Parse a number (decimal, or hex with 0x), at most max. */
int launch_parse_u64(const char *what, const char *arg, uint64_t max, uint64_t *out,
		     struct snp_err *err);

#endif
