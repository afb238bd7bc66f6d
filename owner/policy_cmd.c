// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-owner policy`: measure a launch and write the snp-keybroker policy
 * its guests must satisfy, into the broker's store (--state DIR --name
 * NAME, the policy there updated in place, and with --volume UUID made
 * that volume's) or as JSON (--output, stdout).
 * The launch is given with launch-snp-guest's options, its ID block as the
 * files QEMU is given; nothing is copied by hand. The result passes the
 * broker's own policy_validate and is written in its canonical form.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/store.h"
#include "owner/cmd.h"
#include "owner/launch_policy.h"
#include "proto/proto.h"
#include "snp/fdio.h"

#define POLICY_FILE_MAX	(256 * 1024)

enum {
	OPT_ID_BLOCK = LAUNCH_OPT_LAST,
	OPT_ID_AUTH,
	OPT_HOST_DATA,
	OPT_FROM,
	OPT_STATE,
	OPT_NAME,
	OPT_ADD,
	OPT_OUTPUT,
	OPT_VOLUME,
};

static const struct option policy_options[] = {
	LAUNCH_LONG_OPTIONS,
	{ "id-block", required_argument, NULL, OPT_ID_BLOCK },
	{ "id-auth", required_argument, NULL, OPT_ID_AUTH },
	{ "host-data", required_argument, NULL, OPT_HOST_DATA },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "add", no_argument, NULL, OPT_ADD },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "volume", required_argument, NULL, OPT_VOLUME },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct policy_args {
	struct launch launch;
	const char *block_path, *auth_path, *host_data;
	const char *from, *state, *name, *output, *volume;
	bool add;
};

static int parse_args(int argc, char *argv[], struct policy_args *a)
{
	struct snp_err err = { 0 };
	int opt;

	launch_init(&a->launch);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "ho:", policy_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return -1;
		case OPT_ID_BLOCK: a->block_path = optarg; break;
		case OPT_ID_AUTH: a->auth_path = optarg; break;
		case OPT_HOST_DATA: a->host_data = optarg; break;
		case OPT_FROM: a->from = optarg; break;
		case OPT_STATE: a->state = optarg; break;
		case OPT_NAME: a->name = optarg; break;
		case OPT_ADD: a->add = true; break;
		case 'o':
		case OPT_OUTPUT: a->output = optarg; break;
		case OPT_VOLUME: a->volume = optarg; break;
		default:
			if (opt < LAUNCH_OPT_BIOS || opt >= LAUNCH_OPT_LAST)
				return owner_usage("policy");
			if (launch_option(&a->launch, opt, optarg, &err))
				return owner_fail(OWNER_USAGE, "%s", err.msg);
		}
	}
	if (optind != argc)
		return owner_fail(OWNER_USAGE, "policy: unexpected argument '%s'", argv[optind]);
	if (!a->block_path != !a->auth_path)
		return owner_fail(OWNER_USAGE, "policy: --id-block and --id-auth go together");
	if (!a->state != !a->name)
		return owner_fail(OWNER_USAGE, "policy: --state DIR and --name NAME go together");
	if (a->volume && !a->state)
		return owner_fail(OWNER_USAGE, "policy: --volume needs --state DIR --name NAME");
	if (a->state && a->output)
		return owner_fail(OWNER_USAGE, "policy: --output or --state, not both");
	if (a->name && !policy_name_valid(a->name))
		return owner_fail(OWNER_USAGE, "policy: --name '%s' is not a policy name ([A-Za-z0-9._-], at most 64, not starting with '.')",
				  a->name);
	return 0;
}

/* HOST_DATA as launch-snp-guest takes it: 64 hex digits, or base64 of 32 bytes. */
static int parse_host_data(const char *arg, uint8_t out[SNP_HOST_DATA_SIZE], struct snp_err *err)
{
	size_t len;

	if (strlen(arg) == 2 * SNP_HOST_DATA_SIZE &&
	    !snp_unhex(arg, out, SNP_HOST_DATA_SIZE, &len))
		return 0;
	if (proto_b64_decode_exact(arg, strlen(arg), out, SNP_HOST_DATA_SIZE, NULL, "--host-data"))
		return snp_errf(err, -EINVAL,
				"--host-data: neither 64 hex digits nor base64 of 32 bytes");
	return 0;
}

/* What the launch fixes: its digest, policy, ID block and host data. */
static int launch_facts(const struct policy_args *a, struct launch_facts *f,
			struct snp_err *err)
{
	struct id_files *id;
	char notes[256];
	int ret;

	f->guest_policy = a->launch.policy;
	ret = launch_measure(&a->launch, f->measurement, notes, err);
	if (ret)
		return ret;
	if (notes[0])
		fprintf(stderr, "snp-owner: note: %s\n", notes);
	if (a->host_data) {
		ret = parse_host_data(a->host_data, f->host_data, err);
		f->has_host_data = !ret;
	}
	if (ret || !a->block_path)
		return ret;
	id = calloc(1, sizeof(*id));
	if (!id)
		return snp_errf(err, -ENOMEM, "out of memory");
	ret = id_files_load(a->block_path, a->auth_path, id, err);
	if (!ret)
		ret = id_files_match(id, f->measurement, f->guest_policy, err);
	if (!ret) {
		f->has_id_key = true;
		memcpy(f->id_key_digest, id->id_key_digest, sizeof(f->id_key_digest));
		f->has_author_key = id->has_author;
		memcpy(f->author_key_digest, id->author_key_digest, sizeof(f->author_key_digest));
		f->has_family_id = f->has_image_id = f->has_svn = true;
		memcpy(f->family_id, id->id.family_id, SNP_ID_SIZE);
		memcpy(f->image_id, id->id.image_id, SNP_ID_SIZE);
		f->svn = id->id.guest_svn;
	}
	free(id);
	return ret;
}

/* The policy to update: --from, else the store's by --name, else the defaults. */
static int base_policy(const struct policy_args *a, struct store *st, struct policy *p,
		       struct snp_err *err)
{
	const char *name = a->name ? a->name : "new";
	char *json = NULL;
	uint8_t *text = NULL;
	size_t len;
	int ret = 0;

	policy_init(p);
	if (a->from) {
		ret = snp_read_file(a->from, POLICY_FILE_MAX, &text, &len, err);
		if (!ret)
			ret = policy_parse(p, (const char *)text, len, a->from, err);
		free(text);
		return ret;
	}
	if (!st)
		return 0;
	ret = store_policy_get(st, a->name, &json, &len, err);
	if (ret == -ENOENT)
		return 0;
	if (!ret)
		ret = policy_parse(p, json, len, name, err);
	free(json);
	return ret;
}

static int write_output(const char *path, const char *json, size_t len, struct snp_err *err)
{
	int fd = STDOUT_FILENO, ret;

	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return snp_errf(err, -errno, "%s: %s", path, strerror(errno));
	}
	ret = snp_write_all(fd, json, len);
	if (!ret)
		ret = snp_write_all(fd, "\n", 1);
	if (path && close(fd) && !ret)
		ret = -errno;
	return ret ? snp_errf(err, ret, "%s: %s", path ? path : "stdout", strerror(-ret)) : 0;
}

/* Refuse an unknown --volume before anything is stored. */
static int check_volume(struct store *st, const char *volume, struct snp_err *err)
{
	char **ids;
	size_t n, i;
	int ret;

	ret = store_volume_list(st, &ids, &n, err);
	if (ret)
		return ret;
	for (i = 0; i < n && strcmp(ids[i], volume); i++)
		;
	store_list_free(ids, n);
	return i < n ? 0 : snp_errf(err, -ENOENT, "--volume %s: no such volume in the store",
				    volume);
}

static bool has_min_tcb(const struct policy *p)
{
	for (size_t i = 0; i < sizeof(p->min_tcb) / sizeof(p->min_tcb[0]); i++)
		if (p->min_tcb[i].set)
			return true;
	return false;
}

static int store_or_write(const struct policy_args *a, struct store *st, const struct policy *p,
			  struct snp_err *err)
{
	char *json = NULL, why[sizeof(err->msg)];
	size_t len;
	int ret;

	ret = policy_validate(p, err);
	if (ret == -EINVAL && !p->allow_any_tcb && !has_min_tcb(p)) {
		memcpy(why, err->msg, sizeof(why));
		return snp_errf(err, ret, "%s (start from a policy that sets min_tcb: --from FILE, or a stored one by --name)",
				why);
	}
	if (ret)
		return ret;
	if (policy_to_json(p, &json, &len))
		return snp_errf(err, -ENOMEM, "cannot encode the policy");
	if (st) {
		ret = store_policy_put(st, a->name, json, len, err);
		if (!ret && a->volume)
			ret = store_volume_set_policy(st, a->volume, a->name, err);
	} else
		ret = write_output(a->output, json, len, err);
	free(json);
	return ret;
}

static void print_summary(const struct policy_args *a, const struct launch_facts *f,
			  const struct policy *p)
{
	char hex[2 * SNP_MEASUREMENT_SIZE + 1];

	fprintf(stderr, "snp-owner: measurement %s (%s; the policy lists %zu)\n",
		snp_hex(hex, f->measurement, SNP_MEASUREMENT_SIZE), a->add ? "added" : "replaced",
		p->n_measurements);
	if (a->state)
		fprintf(stderr, "snp-owner: stored policy %s in %s\n", a->name, a->state);
	if (a->volume)
		fprintf(stderr, "snp-owner: volume %s now has policy %s\n", a->volume, a->name);
}

static int run(const struct policy_args *a, struct snp_err *err)
{
	struct launch_facts facts = { 0 };
	struct store *st = NULL;
	struct policy p;
	int ret;

	policy_init(&p);
	ret = launch_facts(a, &facts, err);
	if (!ret && a->state)
		ret = store_open(&st, a->state, false, err);
	if (!ret && a->volume)
		ret = check_volume(st, a->volume, err);
	if (!ret)
		ret = base_policy(a, st, &p, err);
	if (!ret)
		ret = launch_policy_apply(&p, &facts, a->add, err);
	if (!ret)
		ret = store_or_write(a, st, &p, err);
	if (!ret)
		print_summary(a, &facts, &p);
	policy_free(&p);
	if (st)
		store_close(st);
	return ret;
}

int owner_policy_main(int argc, char *argv[])
{
	struct policy_args a = { 0 };
	struct snp_err err = { 0 };
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret == -1) {
		printf("usage: snp-owner policy [LAUNCH OPTIONS] [--id-block FILE --id-auth FILE]\n"
		       "         [--host-data DATA] [--from FILE] [--add]\n"
		       "         (--state DIR --name NAME [--volume UUID] | [--output FILE])\n"
		       "See snp-owner(1).\n");
		return OWNER_OK;
	}
	if (ret)
		return ret;
	if (run(&a, &err))
		return owner_fail(err.code == -EACCES ? OWNER_FAILED : OWNER_USAGE, "policy: %s",
				  err.msg);
	return OWNER_OK;
}
