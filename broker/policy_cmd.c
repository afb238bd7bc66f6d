// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-keybroker policy ...`: the named policies of the store. A policy
 * is stored only once it parsed and passed policy_validate, in its
 * canonical form, so what the server loads is what was checked here.
 */
#include <stdio.h>
#include <stdlib.h>

#include "broker/admin.h"
#include "broker/policy.h"
#include "broker/policy_cmd.h"
#include "broker/store.h"

#define POLICY_INPUT_MAX	(256 * 1024)

/* The canonical JSON of a policy text that parses and validates. */
static int canonical_policy(const char *name, const char *what, const char *text, size_t len,
			    char **json, size_t *json_len)
{
	struct snp_err err = { 0 };
	struct policy p;
	int ret = ADMIN_OK;

	policy_init(&p);
	if (policy_parse(&p, text, len, name, &err) || policy_validate(&p, &err))
		ret = admin_fail(ADMIN_USAGE, "%s: %s", what, err.msg);
	else if (policy_to_json(&p, json, json_len))
		ret = admin_fail(ADMIN_REFUSED, "policy '%s': cannot encode it", name);
	policy_free(&p);
	return ret;
}

static int policy_set(struct store *st, const struct admin_args *a)
{
	const char *name = a->args[0], *path = a->args[1];
	struct snp_err err = { 0 };
	char *json = NULL;
	uint8_t *text;
	size_t len, json_len;
	int ret;

	ret = admin_read_input(path, POLICY_INPUT_MAX, false, &text, &len);
	if (ret)
		return ret;
	ret = canonical_policy(name, path, (const char *)text, len, &json, &json_len);
	if (!ret && store_policy_put(st, name, json, json_len, &err))
		ret = admin_store_fail(&err);
	if (!ret)
		printf("stored policy %s\n", name);
	free(json);
	free(text);
	return ret;
}

static int policy_show(struct store *st, const struct admin_args *a)
{
	const char *name = a->args[0];
	struct snp_err err = { 0 };
	char *text, *json = NULL, what[320];
	size_t len, json_len;
	int ret;

	if (store_policy_get(st, name, &text, &len, &err))
		return admin_store_fail(&err);
	snprintf(what, sizeof(what), "%s/policies/%s.json", store_dir(st), name);
	ret = canonical_policy(name, what, text, len, &json, &json_len);
	/* The store holds it, so a bad one is the store's fault, not the command line's. */
	if (ret == ADMIN_USAGE)
		ret = ADMIN_REFUSED;
	if (!ret)
		printf("%s%s", json, json_len && json[json_len - 1] == '\n' ? "" : "\n");
	free(json);
	free(text);
	return ret;
}

static int policy_list(struct store *st, const struct admin_args *a)
{
	struct snp_err err = { 0 };
	char **names;
	size_t n;

	(void)a;
	if (store_policy_list(st, &names, &n, &err))
		return admin_store_fail(&err);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", names[i]);
	store_list_free(names, n);
	return ADMIN_OK;
}

static const struct admin_cmd policy_cmds[] = {
	{ "set", "set NAME FILE|-     (validated, then stored)", 0, 2, 2, true, policy_set },
	{ "show", "show NAME", 0, 1, 1, false, policy_show },
	{ "list", "list", 0, 0, 0, false, policy_list },
};

int broker_policy_main(int argc, char *argv[])
{
	return admin_main(argc, argv, policy_cmds, sizeof(policy_cmds) / sizeof(policy_cmds[0]));
}
