/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNP_PROVIDER_H
#define SNP_PROVIDER_H

/*
 * Getting an attestation report inside the guest: one call, three
 * providers.
 *
 *   configfs  configfs-tsm (Linux 6.7+): an entry under
 *             /sys/kernel/config/tsm/report (snp/tsm.c)
 *   ioctl     /dev/sev-guest, SNP_GET_REPORT / SNP_GET_EXT_REPORT
 *             (snp/sevguest.c)
 *   sim       the SNP firmware simulator (snp-sim) over its channel
 *             (snp/provider_sim.c); only when asked for by name, with
 *             an address, and the result says so loudly
 *
 * Auto picks configfs-tsm when <root>/tsm/report exists (mounting
 * configfs first when needed), else /dev/sev-guest; never the simulator.
 * Auto picks exactly one: a provider that is present and fails is final,
 * because a failed guest request makes the kernel wipe the VMPCK that
 * both kernel interfaces share.
 *
 * A failed request to the real firmware (either kernel provider) sets a
 * process-wide latch: every later call fails at once with the original
 * reason and touches no device. The one exception is the kernel's "the
 * certificate buffer is too small" answer, which leaves the VMPCK alone.
 *
 * Return values: 0, or a negative errno with a sentence in err. -ENODEV
 * means no provider is there at all (not an SNP guest, or a module is
 * missing); anything else means a provider was there and failed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "snp/certtable.h"
#include "snp/err.h"
#include "snp/report.h"

enum snp_provider {
	SNP_PROVIDER_AUTO = 0,
	SNP_PROVIDER_CONFIGFS,
	SNP_PROVIDER_IOCTL,
	SNP_PROVIDER_SIM,
};

#define SNP_VMPL_MAX		3
#define SNP_TIMEOUT_DEFAULT_MS	90000	/* the kernel retries a busy host for 60 s */

#define SNP_CONFIGFS_ROOT	"/sys/kernel/config"
#define SNP_SEV_GUEST_DEV	"/dev/sev-guest"
/* statfs f_type of configfs (the kernel's CONFIGFS_MAGIC, not in its uapi headers). */
#define SNP_CONFIGFS_MAGIC	0x62656570

/*
 * How the configfs-tsm provider reaches the kernel. NULL in the config
 * means the real system calls; tests supply a fake kernel. All return 0
 * (read: the length) or a negative errno.
 */
struct snp_tsm_ops {
	void *ctx;
	/* statfs(path)'s f_type. */
	int (*fs_type)(void *ctx, const char *path, long *type);
	/* mount -t configfs configfs target */
	int (*mount_configfs)(void *ctx, const char *target);
	/* 0 when path is a directory. */
	int (*is_dir)(void *ctx, const char *path);
	int (*mkdir)(void *ctx, const char *path);
	int (*rmdir)(void *ctx, const char *path);
	/*
	 * Read the whole file into buf, at most max bytes: -EFBIG when it
	 * holds more. One open, reads until end of file.
	 */
	ssize_t (*read)(void *ctx, const char *path, void *buf, size_t max);
	/* Open, write all of buf, close (configfs commits binary attributes on close). */
	int (*write)(void *ctx, const char *path, const void *buf, size_t len);
};

/*
 * How the ioctl provider reaches /dev/sev-guest. NULL in the config means
 * the real open/ioctl/close; tests interpose a fake kernel here.
 */
struct snp_sevguest_ops {
	void *ctx;
	/* An fd, or a negative errno. */
	int (*open)(void *ctx, const char *path, int flags);
	/* 0, or a negative errno (what ioctl(2) left in errno). */
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	void (*close)(void *ctx, int fd);
};

struct snp_provider_config {
	enum snp_provider provider;
	const char *sim_addr;		/* SNP_PROVIDER_SIM only: see snp/simproto.h */
	const char *configfs_root;	/* NULL: SNP_CONFIGFS_ROOT */
	const char *sev_guest_path;	/* NULL: SNP_SEV_GUEST_DEV */
	const struct snp_tsm_ops *tsm_ops;		/* NULL: the kernel */
	const struct snp_sevguest_ops *sevguest_ops;	/* NULL: the kernel */
};

struct snp_report_request {
	uint8_t report_data[SNP_REPORT_DATA_SIZE];
	uint32_t vmpl;			/* 0-3 */
	bool want_certs;		/* also fetch the host's certificate table */
	int timeout_ms;			/* overall bound; <= 0: SNP_TIMEOUT_DEFAULT_MS */
};

struct snp_report_result {
	enum snp_provider provider;	/* the one that answered */
	bool simulated;			/* from the simulator, not AMD hardware */
	uint8_t report[SNP_REPORT_SIZE];
	uint8_t *certs;			/* malloc'd certificate table, or NULL;
				   at most SNP_CERT_TABLE_SIZE_MAX bytes */
	size_t certs_len;
	char note[256];			/* for the log ("" when nothing to say) */
};

/*
 * Get a report carrying req->report_data at req->vmpl. On success the
 * report's REPORT_DATA and VMPL have been checked against the request;
 * nothing else is (parse and verify it). Free with snp_report_result_free.
 */
int snp_get_report(const struct snp_provider_config *cfg,
		   const struct snp_report_request *req,
		   struct snp_report_result *res, struct snp_err *err);
void snp_report_result_free(struct snp_report_result *res);

/* "auto", "configfs", "ioctl", "sim". */
const char *snp_provider_name(enum snp_provider provider);
/* 0, or -EINVAL for a name that is none of those. */
int snp_provider_from_name(const char *name, enum snp_provider *provider);

/* An SEV firmware status by name ("INVALID_PARAM"), or "unknown". */
const char *snp_fw_status_name(uint32_t status);

#endif
