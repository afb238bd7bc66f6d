// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A launch's facts written into a broker policy (broker/policy.h), so the
 * owner never copies a digest by hand. The result goes through the
 * broker's own policy_validate and canonical JSON before it is stored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "owner/launch_policy.h"

/* A list of fixed-size entries: its array and count, as struct policy has them. */
struct digest_list {
	uint8_t *items;
	size_t n, size;
};

/* list with value added (when not there already), or replaced by it alone, into out. */
static int list_with(const struct digest_list *list, const uint8_t *value, bool add,
		     struct digest_list *out, const char *what, struct snp_err *err)
{
	size_t keep = add ? list->n : 0, i;

	for (i = 0; i < keep; i++) {
		if (!memcmp(list->items + i * list->size, value, list->size))
			break;
	}
	out->size = list->size;
	out->n = keep + (i == keep);
	if (out->n > POLICY_LIST_MAX)
		return snp_errf(err, -E2BIG, "%s: the policy already lists %d (the most it may)",
				what, POLICY_LIST_MAX);
	out->items = malloc(out->n * out->size);
	if (!out->items)
		return snp_errf(err, -ENOMEM, "out of memory");
	if (keep)
		memcpy(out->items, list->items, keep * list->size);
	if (i == keep)
		memcpy(out->items + keep * list->size, value, list->size);
	return 0;
}

static enum policy_tristate pinned(uint64_t guest_policy, uint64_t bit)
{
	return guest_policy & bit ? POLICY_REQUIRE : POLICY_FORBID;
}

/* Every guest POLICY bit the broker checks, as it was at launch. */
static void apply_guest_policy(struct policy *p, uint64_t gp)
{
	p->allow_debug = gp & SNP_POLICY_DEBUG;
	p->allow_migrate_ma = gp & SNP_POLICY_MIGRATE_MA;
	p->smt = pinned(gp, SNP_POLICY_SMT);
	p->single_socket = pinned(gp, SNP_POLICY_SINGLE_SOCKET);
	p->cxl = pinned(gp, SNP_POLICY_CXL_ALLOW);
	p->mem_aes_256_xts = pinned(gp, SNP_POLICY_MEM_AES_256_XTS);
	p->rapl_dis = pinned(gp, SNP_POLICY_RAPL_DIS);
	p->ciphertext_hiding = pinned(gp, SNP_POLICY_CIPHERTEXT_HIDING);
	p->page_swap_disable = pinned(gp, SNP_POLICY_PAGE_SWAP_DISABLE);
	p->has_min_abi = true;
	p->min_abi_major = (uint8_t)(gp >> SNP_POLICY_ABI_MAJOR_SHIFT);
	p->min_abi_minor = (uint8_t)(gp & SNP_POLICY_ABI_MINOR_MASK);
}

/*
 * The ID block's identity. Replacing, what the launch has not is unset; adding,
 * the policy's stays (it holds one family and image id, so a new one wins).
 */
static void apply_id(struct policy *p, const struct launch_facts *f, bool add)
{
	if (f->has_family_id)
		memcpy(p->family_id, f->family_id, SNP_ID_SIZE);
	p->has_family_id = f->has_family_id || (add && p->has_family_id);
	if (f->has_image_id)
		memcpy(p->image_id, f->image_id, SNP_ID_SIZE);
	p->has_image_id = f->has_image_id || (add && p->has_image_id);
	if (f->has_svn)
		p->min_guest_svn = f->svn;
	else if (!add)
		p->min_guest_svn = 0;
}

enum { L_MEASUREMENT, L_ID_KEY, L_AUTHOR_KEY, L_HOST_DATA, L_COUNT };

static int build_lists(const struct policy *p, const struct launch_facts *f, bool add,
		       struct digest_list out[L_COUNT], struct snp_err *err)
{
	const struct digest_list in[L_COUNT] = {
		{ (uint8_t *)p->measurements, p->n_measurements, SNP_MEASUREMENT_SIZE },
		{ (uint8_t *)p->id_key_digests, p->n_id_key_digests, SNP_KEY_DIGEST_SIZE },
		{ (uint8_t *)p->author_key_digests, p->n_author_key_digests, SNP_KEY_DIGEST_SIZE },
		{ (uint8_t *)p->host_data, p->n_host_data, SNP_HOST_DATA_SIZE },
	};
	const uint8_t *value[L_COUNT] = {
		f->measurement,
		f->has_id_key ? f->id_key_digest : NULL,
		f->has_author_key ? f->author_key_digest : NULL,
		f->has_host_data ? f->host_data : NULL,
	};
	static const char *const what[L_COUNT] = {
		"measurements", "id_key_digests", "author_key_digests", "host_data",
	};
	int i, ret = 0;

	for (i = 0; i < L_COUNT && !ret; i++) {
		if (value[i])
			ret = list_with(&in[i], value[i], add, &out[i], what[i], err);
	}
	return ret;
}

/* The new list into the policy; without one, a replacing run empties it. */
static void take_list(uint8_t **field, size_t *count, struct digest_list *l, bool add)
{
	if (!l->items && add)
		return;
	free(*field);
	*field = l->items;
	*count = l->n;
	l->items = NULL;
}

int launch_policy_apply(struct policy *p, const struct launch_facts *f, bool add,
			struct snp_err *err)
{
	struct digest_list lists[L_COUNT] = { { 0 } };
	int i, ret;

	ret = build_lists(p, f, add, lists, err);
	if (ret)
		goto out;
	take_list((uint8_t **)&p->measurements, &p->n_measurements, &lists[L_MEASUREMENT], add);
	take_list((uint8_t **)&p->id_key_digests, &p->n_id_key_digests, &lists[L_ID_KEY], add);
	take_list((uint8_t **)&p->author_key_digests, &p->n_author_key_digests,
		  &lists[L_AUTHOR_KEY], add);
	take_list((uint8_t **)&p->host_data, &p->n_host_data, &lists[L_HOST_DATA], add);
	p->allow_any_measurement = false;
	apply_guest_policy(p, f->guest_policy);
	apply_id(p, f, add);
out:
	for (i = 0; i < L_COUNT; i++)
		free(lists[i].items);
	return ret;
}
