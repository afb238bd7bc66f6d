// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-owner id-block`, `check-id` and `key-digest`: the ID block and ID
 * auth info of a launch, as base64 files for QEMU's sev-snp-guest id-block
 * and id-auth properties (and launch-snp-guest's --id-block/--id-auth),
 * checked back against a launch, and the digests reports carry of a key.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owner/cmd.h"
#include "proto/proto.h"
#include "snp/fdio.h"

#define B64_FILE_MAX	16384

int owner_write_b64(const char *path, const uint8_t *buf, size_t len, struct snp_err *err)
{
	char *text = proto_b64_encode(buf, len);
	size_t text_len;
	int fd, ret;

	if (!text)
		return snp_errf(err, -ENOMEM, "out of memory");
	text_len = strlen(text);
	text[text_len] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = snp_errf(err, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = snp_write_all(fd, text, text_len + 1);
	if (close(fd) && !ret)
		ret = -errno;
	if (ret)
		snp_errf(err, ret, "%s: %s", path, strerror(-ret));
out:
	free(text);
	return ret;
}

/* A base64 file of exactly size bytes, whitespace around it allowed. */
static int read_b64(const char *what, const char *path, uint8_t *out, size_t size,
		    struct snp_err *err)
{
	uint8_t *text;
	size_t len, start = 0, end;
	int ret;

	ret = snp_read_file(path, B64_FILE_MAX, &text, &len, err);
	if (ret)
		return snp_errf(err, ret, "%s %s: %s", what, path,
				ret == -ENOENT ? "no such file" : err->msg);
	while (start < len && strchr(" \t\r\n", text[start]))
		start++;
	end = len;
	while (end > start && strchr(" \t\r\n", text[end - 1]))
		end--;
	ret = proto_b64_decode_exact((const char *)text + start, end - start, out, size, err,
				     what);
	free(text);
	return ret;
}

static int id_files_read(const char *block_path, const char *auth_path, struct id_files *f,
			 struct snp_err *err)
{
	int ret;

	ret = read_b64("--id-block", block_path, f->block, sizeof(f->block), err);
	if (!ret)
		ret = read_b64("--id-auth", auth_path, f->auth, sizeof(f->auth), err);
	return ret;
}

static int id_files_check(struct id_files *f, struct snp_err *err)
{
	int ret;

	ret = id_block_decode(f->block, &f->id, err);
	if (!ret)
		ret = id_auth_verify(f->block, f->auth, &f->has_author, f->id_key_digest,
				     f->author_key_digest, err);
	return ret;
}

int id_files_load(const char *block_path, const char *auth_path, struct id_files *f,
		  struct snp_err *err)
{
	int ret = id_files_read(block_path, auth_path, f, err);

	return ret ? ret : id_files_check(f, err);
}

int id_files_match(const struct id_files *f, const uint8_t ld[48], uint64_t policy,
		   struct snp_err *err)
{
	char hex[2 * 48 + 1];

	if (memcmp(f->id.ld, ld, 48))
		return snp_errf(err, -EINVAL,
				"the ID block was made for launch digest %s, not this launch's (the firmware would refuse the launch)",
				snp_hex(hex, f->id.ld, 48));
	if (f->id.policy != policy)
		return snp_errf(err, -EINVAL,
				"the ID block was made for policy 0x%llx, not --policy 0x%llx (the firmware would refuse the launch)",
				(unsigned long long)f->id.policy, (unsigned long long)policy);
	return 0;
}

static void print_id(const struct id_files *f)
{
	char hex[2 * 48 + 1];

	printf("launch digest: %s\n", snp_hex(hex, f->id.ld, 48));
	printf("policy: 0x%llx\n", (unsigned long long)f->id.policy);
	printf("family id: %s\n", snp_hex(hex, f->id.family_id, 16));
	printf("image id: %s\n", snp_hex(hex, f->id.image_id, 16));
	printf("guest svn: %u\n", f->id.guest_svn);
	printf("id key digest: %s\n", snp_hex(hex, f->id_key_digest, 48));
	printf("author key digest: %s\n",
	       f->has_author ? snp_hex(hex, f->author_key_digest, 48) : "none");
}

enum {
	OPT_ID_KEY = LAUNCH_OPT_LAST,
	OPT_AUTHOR_KEY,
	OPT_FAMILY_ID,
	OPT_IMAGE_ID,
	OPT_SVN,
	OPT_ID_BLOCK,
	OPT_ID_AUTH,
};

struct id_args {
	const char *id_key, *author_key, *block_path, *auth_path;
	struct id_block id;
};

static int parse_id16(const char *what, const char *arg, uint8_t out[16], struct snp_err *err)
{
	uint8_t tmp[16];
	size_t len;

	if (snp_unhex(arg, tmp, sizeof(tmp), &len) || len != sizeof(tmp))
		return snp_errf(err, -EINVAL, "%s: not 32 hex digits (16 bytes)", what);
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

static int id_option(struct id_args *a, int opt, const char *arg, struct snp_err *err)
{
	uint64_t svn;
	int ret;

	switch (opt) {
	case OPT_ID_KEY:
		a->id_key = arg;
		return 0;
	case OPT_AUTHOR_KEY:
		a->author_key = arg;
		return 0;
	case OPT_FAMILY_ID:
		return parse_id16("--family-id", arg, a->id.family_id, err);
	case OPT_IMAGE_ID:
		return parse_id16("--image-id", arg, a->id.image_id, err);
	case OPT_SVN:
		ret = launch_parse_u64("--svn", arg, UINT32_MAX, &svn, err);
		a->id.guest_svn = (uint32_t)svn;
		return ret;
	case OPT_ID_BLOCK:
		a->block_path = arg;
		return 0;
	case OPT_ID_AUTH:
		a->auth_path = arg;
		return 0;
	}
	return snp_errf(err, -EINVAL, "unknown option");
}

static const struct option id_block_options[] = {
	LAUNCH_LONG_OPTIONS,
	{ "id-key", required_argument, NULL, OPT_ID_KEY },
	{ "author-key", required_argument, NULL, OPT_AUTHOR_KEY },
	{ "family-id", required_argument, NULL, OPT_FAMILY_ID },
	{ "image-id", required_argument, NULL, OPT_IMAGE_ID },
	{ "svn", required_argument, NULL, OPT_SVN },
	{ "id-block", required_argument, NULL, OPT_ID_BLOCK },
	{ "id-auth", required_argument, NULL, OPT_ID_AUTH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The options of id-block and check-id; 0, or an exit status; -1 for --help. */
static int parse_id_args(int argc, char *argv[], const char *cmd, struct launch *l,
			 struct id_args *a)
{
	struct snp_err err = { 0 };
	int opt, ret;

	launch_init(l);
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", id_block_options, NULL)) != -1) {
		if (opt == 'h')
			return -1;
		if (opt == '?' || opt == ':')
			return owner_usage(cmd);
		if (opt < LAUNCH_OPT_LAST)
			ret = launch_option(l, opt, optarg, &err);
		else
			ret = id_option(a, opt, optarg, &err);
		if (ret)
			return owner_fail(OWNER_USAGE, "%s", err.msg);
	}
	if (optind != argc)
		return owner_fail(OWNER_USAGE, "%s: unexpected argument '%s'", cmd, argv[optind]);
	if (!a->block_path || !a->auth_path)
		return owner_fail(OWNER_USAGE, "%s: --id-block FILE and --id-auth FILE are needed",
				  cmd);
	return 0;
}

static int load_keys(const struct id_args *a, struct owner_key **id_key,
		     struct owner_key **author_key, struct snp_err *err)
{
	int ret;

	ret = owner_key_load(a->id_key, id_key, err);
	if (!ret && a->author_key)
		ret = owner_key_load(a->author_key, author_key, err);
	return ret;
}

static int write_id(const struct id_args *a, struct snp_err *err)
{
	struct owner_key *id_key = NULL, *author_key = NULL;
	uint8_t block[ID_BLOCK_SIZE], *auth;
	int ret;

	auth = calloc(1, ID_AUTH_SIZE);
	if (!auth)
		return snp_errf(err, -ENOMEM, "out of memory");
	id_block_encode(&a->id, block);
	ret = load_keys(a, &id_key, &author_key, err);
	if (!ret)
		ret = id_auth_build(block, id_key, author_key, auth, err);
	if (!ret)
		ret = owner_write_b64(a->block_path, block, sizeof(block), err);
	if (!ret)
		ret = owner_write_b64(a->auth_path, auth, ID_AUTH_SIZE, err);
	owner_key_free(author_key);
	owner_key_free(id_key);
	free(auth);
	return ret;
}

int owner_id_block_main(int argc, char *argv[])
{
	struct snp_err err = { 0 };
	struct id_files *f = NULL;
	struct id_args a;
	struct launch l;
	char notes[256];
	int ret;

	ret = parse_id_args(argc, argv, "id-block", &l, &a);
	if (ret == -1) {
		printf("usage: snp-owner id-block [LAUNCH OPTIONS | --measurement HEX] --policy HEX\n"
		       "         --id-key FILE [--author-key FILE] [--family-id HEX] [--image-id HEX]\n"
		       "         [--svn N] --id-block OUT --id-auth OUT\nSee snp-owner(1).\n");
		return OWNER_OK;
	}
	if (ret)
		return ret;
	if (!a.id_key)
		return owner_fail(OWNER_USAGE, "id-block: --id-key FILE is needed");
	a.id.policy = l.policy;
	if (launch_measure(&l, a.id.ld, notes, &err))
		return owner_fail(OWNER_USAGE, "%s", err.msg);
	if (notes[0])
		fprintf(stderr, "snp-owner: note: %s\n", notes);
	f = calloc(1, sizeof(*f));
	if (!f)
		return owner_fail(OWNER_FAILED, "out of memory");
	ret = write_id(&a, &err);
	/* Read back what QEMU will read, and check it as check-id would. */
	if (!ret)
		ret = id_files_load(a.block_path, a.auth_path, f, &err);
	if (!ret)
		print_id(f);
	free(f);
	return ret ? owner_fail(OWNER_USAGE, "id-block: %s", err.msg) : OWNER_OK;
}

int owner_check_id_main(int argc, char *argv[])
{
	uint8_t ld[MEASURE_DIGEST_SIZE];
	struct snp_err err = { 0 };
	struct id_files *f;
	struct id_args a;
	struct launch l;
	int ret;

	ret = parse_id_args(argc, argv, "check-id", &l, &a);
	if (ret == -1) {
		printf("usage: snp-owner check-id --id-block FILE --id-auth FILE [LAUNCH OPTIONS]\n"
		       "See snp-owner(1).\n");
		return OWNER_OK;
	}
	if (ret)
		return ret;
	if (a.id_key || a.author_key)
		return owner_fail(OWNER_USAGE, "check-id: takes no keys (the auth info holds them)");
	f = calloc(1, sizeof(*f));
	if (!f)
		return owner_fail(OWNER_FAILED, "out of memory");
	ret = OWNER_OK;
	if (id_files_read(a.block_path, a.auth_path, f, &err))
		ret = OWNER_USAGE;
	else if (id_files_check(f, &err))
		ret = OWNER_FAILED;
	/* Any launch option: check the block against that launch too. */
	else if (l.given && launch_measure(&l, ld, NULL, &err))
		ret = OWNER_USAGE;
	else if (l.given && id_files_match(f, ld, l.policy, &err))
		ret = OWNER_FAILED;
	if (!ret)
		print_id(f);
	else
		owner_fail(ret, "check-id: %s", err.msg);
	free(f);
	return ret;
}

int owner_key_digest_main(int argc, char *argv[])
{
	struct owner_key *key = NULL;
	struct snp_err err = { 0 };
	uint8_t digest[48];
	char hex[2 * 48 + 1];

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: snp-owner key-digest KEYFILE\nSee snp-owner(1).\n");
		return OWNER_OK;
	}
	if (argc != 2)
		return owner_fail(OWNER_USAGE, "usage: snp-owner key-digest KEYFILE");
	if (owner_key_load(argv[1], &key, &err))
		return owner_fail(OWNER_USAGE, "%s", err.msg);
	owner_key_digest(key, digest);
	owner_key_free(key);
	printf("%s\n", snp_hex(hex, digest, sizeof(digest)));
	return OWNER_OK;
}
