// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-keybroker volume ...`: the volumes of the secret store. Nothing
 * here prints a secret: `show` gives its length, and every buffer that
 * held one is wiped before it is freed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "broker/admin.h"
#include "broker/store.h"
#include "broker/volume_cmd.h"

#define REGISTRATION_FILE_MAX	4096
#define DEFAULT_POLICY		"default"

static int volume_arg(const char *arg, char out[PROTO_VOLUME_LEN + 1])
{
	struct snp_err err = { 0 };

	if (proto_volume_canonical(arg, out, &err))
		return admin_fail(ADMIN_USAGE, "'%s' is not a volume id (a UUID): %s", arg,
				  err.msg);
	return ADMIN_OK;
}

static int load_registration(const char *path, struct store_volume *v)
{
	struct proto_registration reg;
	struct snp_err err = { 0 };
	uint8_t *text;
	size_t len;
	int ret = admin_read_input(path, REGISTRATION_FILE_MAX, true, &text, &len);

	if (ret)
		return ret;
	if (proto_registration_decode((const char *)text, len, &reg, &err)) {
		ret = admin_fail(ADMIN_USAGE, "%s: not a registration file: %s", path, err.msg);
	} else {
		memcpy(v->volume, reg.volume, sizeof(v->volume));
		memcpy(v->secret, reg.secret, reg.secret_len);
		v->secret_len = reg.secret_len;
	}
	explicit_bzero(&reg, sizeof(reg));
	explicit_bzero(text, len);
	free(text);
	return ret;
}

static int load_raw_secret(const char *path, struct store_volume *v)
{
	uint8_t *raw;
	size_t len;
	int ret = admin_read_input(path, PROTO_SECRET_MAX + 1, true, &raw, &len);

	if (ret)
		return ret;
	if (len < PROTO_SECRET_MIN || len > PROTO_SECRET_MAX) {
		ret = admin_fail(ADMIN_USAGE, "%s: a secret is %d to %d bytes, not %zu%s", path,
				 PROTO_SECRET_MIN, PROTO_SECRET_MAX, len,
				 len > PROTO_SECRET_MAX ? " or more" : "");
	} else {
		memcpy(v->secret, raw, len);
		v->secret_len = len;
	}
	explicit_bzero(raw, len);
	free(raw);
	return ret;
}

/* The new secret from --from or --secret-file (exactly one), for volume `want` if set. */
static int load_secret(const struct admin_args *a, const char *want, struct store_volume *v)
{
	int ret;

	if (!a->from == !a->secret_file)
		return admin_fail(ADMIN_USAGE, "give the secret with either --from REGFILE or --secret-file FILE");
	if (a->secret_file)
		return load_raw_secret(a->secret_file, v);
	ret = load_registration(a->from, v);
	if (!ret && want && strcmp(v->volume, want))
		ret = admin_fail(ADMIN_USAGE, "%s is the registration of volume %s, not %s",
				 a->from, v->volume, want);
	return ret;
}

static void remind_registration(const char *path)
{
	fprintf(stderr, "snp-keybroker: %s holds the volume's secret: delete it now (shred -u %s)\n",
		path, path);
}

static int volume_add(struct store *st, const struct admin_args *a)
{
	struct store_volume v = { 0 };
	struct snp_err err = { 0 };
	int ret;

	if (a->from && a->n_args)
		return admin_fail(ADMIN_USAGE, "--from takes the volume from the file: give no UUID");
	if (!a->from && (!a->n_args || !a->policy))
		return admin_fail(ADMIN_USAGE, "give --from REGFILE, or UUID --secret-file FILE --policy NAME");
	ret = a->n_args ? volume_arg(a->args[0], v.volume) : ADMIN_OK;
	if (!ret)
		ret = load_secret(a, NULL, &v);
	if (ret)
		goto out;
	snprintf(v.policy, sizeof(v.policy), "%s", a->policy ? a->policy : DEFAULT_POLICY);
	if (store_volume_add(st, &v, &err)) {
		ret = admin_store_fail(&err);
		goto out;
	}
	printf("added volume %s with policy %s\n", v.volume, v.policy);
	if (a->from)
		remind_registration(a->from);
out:
	store_volume_wipe(&v);
	return ret;
}

static int volume_list(struct store *st, const struct admin_args *a)
{
	struct snp_err err = { 0 };
	char **ids, when[21];
	size_t n;
	int ret = ADMIN_OK;

	(void)a;
	if (store_volume_list(st, &ids, &n, &err))
		return admin_store_fail(&err);
	for (size_t i = 0; i < n; i++) {
		struct store_volume v;

		if (store_volume_get(st, ids[i], &v, &err)) {
			ret = admin_store_fail(&err);
			continue;
		}
		printf("%s %s %" PRIu64 " %s\n", v.volume, v.policy, v.generation,
		       admin_time(when, v.updated));
		store_volume_wipe(&v);
	}
	store_list_free(ids, n);
	return ret;
}

static void show_text(const struct store_volume *v, const uint64_t *gens, size_t n)
{
	char when[21];

	printf("volume      %s\n", v->volume);
	printf("policy      %s\n", v->policy);
	printf("generation  %" PRIu64 "\n", v->generation);
	printf("secret      %zu bytes\n", v->secret_len);
	printf("created     %s\n", admin_time(when, v->created));
	printf("updated     %s\n", admin_time(when, v->updated));
	printf("archived   ");
	for (size_t i = 0; i < n; i++)
		printf(" %" PRIu64, gens[i]);
	printf("%s\n", n ? "" : " none");
}

static int show_json(const struct store_volume *v, const uint64_t *gens, size_t n)
{
	struct json_object *o = json_object_new_object(), *archived = json_object_new_array();
	char when[21];
	int ret = ADMIN_OK;

	if (!o || !archived) {
		json_object_put(archived);
		ret = admin_fail(ADMIN_REFUSED, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(archived, json_object_new_int64((int64_t)gens[i]));
	json_object_object_add(o, "volume", json_object_new_string(v->volume));
	json_object_object_add(o, "policy", json_object_new_string(v->policy));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)v->generation));
	json_object_object_add(o, "secret_length", json_object_new_int64((int64_t)v->secret_len));
	json_object_object_add(o, "created", json_object_new_string(admin_time(when, v->created)));
	json_object_object_add(o, "updated", json_object_new_string(admin_time(when, v->updated)));
	json_object_object_add(o, "archived", archived);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(o);
	return ret;
}

static int volume_show(struct store *st, const struct admin_args *a)
{
	char volume[PROTO_VOLUME_LEN + 1];
	struct store_volume v;
	struct snp_err err = { 0 };
	uint64_t *gens = NULL;
	size_t n = 0;
	int ret = volume_arg(a->args[0], volume);

	if (ret)
		return ret;
	if (store_volume_get(st, volume, &v, &err) ||
	    store_archive_list(st, volume, &gens, &n, &err)) {
		ret = admin_store_fail(&err);
		goto out;
	}
	if (a->json)
		ret = show_json(&v, gens, n);
	else
		show_text(&v, gens, n);
out:
	free(gens);
	store_volume_wipe(&v);
	return ret;
}

static int volume_rotate(struct store *st, const struct admin_args *a)
{
	char volume[PROTO_VOLUME_LEN + 1];
	struct store_volume v = { 0 };
	struct snp_err err = { 0 };
	int ret = volume_arg(a->args[0], volume);

	if (!ret)
		ret = load_secret(a, volume, &v);
	if (ret)
		goto out;
	if (store_volume_rotate(st, volume, v.secret, v.secret_len, &err) ||
	    store_volume_get(st, volume, &v, &err)) {
		ret = admin_store_fail(&err);
		goto out;
	}
	printf("rotated volume %s: generation %" PRIu64 " (generation %" PRIu64 " archived)\n",
	       volume, v.generation, v.generation - 1);
	if (a->from)
		remind_registration(a->from);
out:
	store_volume_wipe(&v);
	return ret;
}

static int volume_set_policy(struct store *st, const struct admin_args *a)
{
	char volume[PROTO_VOLUME_LEN + 1];
	struct snp_err err = { 0 };
	int ret = volume_arg(a->args[0], volume);

	if (ret)
		return ret;
	if (store_volume_set_policy(st, volume, a->args[1], &err))
		return admin_store_fail(&err);
	printf("volume %s now has policy %s\n", volume, a->args[1]);
	return ADMIN_OK;
}

static int volume_remove(struct store *st, const struct admin_args *a)
{
	char volume[PROTO_VOLUME_LEN + 1];
	struct snp_err err = { 0 };
	int ret = volume_arg(a->args[0], volume);

	if (ret)
		return ret;
	if (store_volume_remove(st, volume, &err))
		return admin_store_fail(&err);
	printf("removed volume %s; its records stay in %s/archive until `volume purge`\n",
	       volume, store_dir(st));
	return ADMIN_OK;
}

static int volume_purge(struct store *st, const struct admin_args *a)
{
	char volume[PROTO_VOLUME_LEN + 1];
	struct snp_err err = { 0 };
	size_t purged;
	int ret = volume_arg(a->args[0], volume);

	if (ret)
		return ret;
	if (store_volume_purge(st, volume, &purged, &err))
		return admin_store_fail(&err);
	printf("purged %zu archived record(s) of volume %s\n", purged, volume);
	return ADMIN_OK;
}

static const struct admin_cmd volume_cmds[] = {
	{ "add", "add --from REGFILE [--policy NAME]   (policy \"" DEFAULT_POLICY "\" unless given)\n"
		 "  volume add UUID --secret-file FILE --policy NAME",
	  ADMIN_OPT_FROM | ADMIN_OPT_SECRET_FILE | ADMIN_OPT_POLICY, 0, 1, true, volume_add },
	{ "list", "list", 0, 0, 0, false, volume_list },
	{ "show", "show UUID [--json]", ADMIN_OPT_JSON, 1, 1, false, volume_show },
	{ "rotate", "rotate UUID (--from REGFILE | --secret-file FILE)",
	  ADMIN_OPT_FROM | ADMIN_OPT_SECRET_FILE, 1, 1, false, volume_rotate },
	{ "set-policy", "set-policy UUID NAME", 0, 2, 2, false, volume_set_policy },
	{ "remove", "remove UUID", 0, 1, 1, false, volume_remove },
	{ "purge", "purge UUID      (deletes a removed volume's archive for good)", 0, 1, 1, false,
	  volume_purge },
};

int broker_volume_main(int argc, char *argv[])
{
	return admin_main(argc, argv, volume_cmds, sizeof(volume_cmds) / sizeof(volume_cmds[0]));
}
