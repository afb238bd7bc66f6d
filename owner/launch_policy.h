/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OWNER_LAUNCH_POLICY_H
#define OWNER_LAUNCH_POLICY_H

/*
 * The snp-keybroker policy of a launch: what a report from a guest
 * launched that way must show. From the launch come the MEASUREMENT, the
 * guest POLICY (each of its bits the broker checks is pinned to its value
 * at launch, and its ABI becomes the minimum), and from the ID block, when
 * there is one, the ID and author key digests, FAMILY_ID, IMAGE_ID and the
 * minimum GUEST_SVN. Everything else (TCB, products, platform) is the
 * owner's and is kept from the policy being updated.
 */
#include <stdbool.h>
#include <stdint.h>

#include "broker/policy.h"
#include "snp/err.h"
#include "snp/report.h"

struct launch_facts {
	uint8_t measurement[SNP_MEASUREMENT_SIZE];
	uint64_t guest_policy;
	bool has_id_key, has_author_key;
	uint8_t id_key_digest[SNP_KEY_DIGEST_SIZE];
	uint8_t author_key_digest[SNP_KEY_DIGEST_SIZE];
	bool has_family_id, has_image_id, has_svn;
	uint8_t family_id[SNP_ID_SIZE], image_id[SNP_ID_SIZE];
	uint32_t svn;
	bool has_host_data;
	uint8_t host_data[SNP_HOST_DATA_SIZE];
};

/*
 * Apply the launch's facts to p. With add, the measurement and digests
 * join p's lists (a fleet moving to new firmware accepts both until the
 * old is retired); without, they replace them, and what the launch has
 * not (an ID block, host data) is taken out of p. -E2BIG when a list would
 * outgrow POLICY_LIST_MAX, -ENOMEM; p is unchanged on failure.
 */
int launch_policy_apply(struct policy *p, const struct launch_facts *f, bool add,
			struct snp_err *err);

#endif
