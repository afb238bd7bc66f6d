// SPDX-License-Identifier: GPL-2.0-or-later
/* The admin commands' common parts (broker/admin.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/admin.h"
#include "broker/config.h"
#include "snp/fdio.h"

int admin_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("snp-keybroker: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int admin_store_fail(const struct snp_err *err)
{
	return admin_fail(err->code == -EINVAL ? ADMIN_USAGE : ADMIN_REFUSED, "%s", err->msg);
}

char *admin_time(char out[21], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 21, "@%lld", (long long)t);
	return out;
}

int admin_read_input(const char *path, size_t max, bool secret, uint8_t **buf, size_t *len)
{
	struct snp_err err = { 0 };
	struct stat sb;

	if (!strcmp(path, "-"))
		path = "/dev/stdin";
	else if (stat(path, &sb))
		return admin_fail(ADMIN_USAGE, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		return admin_fail(ADMIN_USAGE, "%s is not a regular file", path);
	else if (secret && (sb.st_mode & 077))
		fprintf(stderr, "snp-keybroker: warning: %s holds a secret but is open to group or others (mode %04o)\n",
			path, (unsigned int)(sb.st_mode & 07777));
	if (snp_read_file(path, max, buf, len, &err))
		return admin_fail(ADMIN_USAGE, "%s", err.msg);
	return ADMIN_OK;
}

/* --state, else --config's state_dir, else the default file's (when it exists). */
static int find_state_dir(const struct admin_args *a, char *out, size_t size)
{
	const char *path = a->config;
	struct snp_err err = { 0 };
	struct config *cfg;
	int ret = 0;

	if (a->state) {
		snprintf(out, size, "%s", a->state);
		return ADMIN_OK;
	}
	if (!path && !access(CONFIG_DEFAULT_PATH, F_OK))
		path = CONFIG_DEFAULT_PATH;
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return admin_fail(ADMIN_REFUSED, "out of memory");
	config_init(cfg);
	if (path)
		ret = config_load(cfg, path, &err);
	if (!ret)
		ret = config_finish(cfg, &err);
	if (!ret)
		snprintf(out, size, "%s", cfg->state_dir);
	free(cfg);
	return ret ? admin_fail(ADMIN_USAGE, "%s", err.msg) : ADMIN_OK;
}

static void print_usage(FILE *out, const char *group, const struct admin_cmd *cmds,
			size_t n_cmds)
{
	fprintf(out, "Usage: snp-keybroker %s COMMAND [--config FILE | --state DIR]\n\nCommands:\n",
		group);
	for (size_t i = 0; i < n_cmds; i++)
		fprintf(out, "  %s %s\n", group, cmds[i].usage);
}

static int parse_args(int argc, char *argv[], struct admin_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "secret-file", required_argument, NULL, 'k' },
		{ "policy", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 's': a->state = optarg; break;
		case 'f': a->from = optarg; a->given |= ADMIN_OPT_FROM; break;
		case 'k': a->secret_file = optarg; a->given |= ADMIN_OPT_SECRET_FILE; break;
		case 'p': a->policy = optarg; a->given |= ADMIN_OPT_POLICY; break;
		case 'j': a->json = true; a->given |= ADMIN_OPT_JSON; break;
		default:
			return admin_fail(ADMIN_USAGE, "unknown or incomplete option '%s'",
					  argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++) {
		if (a->n_args == ADMIN_ARGS_MAX)
			return admin_fail(ADMIN_USAGE, "too many arguments");
		a->args[a->n_args++] = argv[optind];
	}
	return ADMIN_OK;
}

static int check_args(const char *group, const struct admin_cmd *cmd,
		      const struct admin_args *a)
{
	static const char *const names[] = { "--from", "--secret-file", "--policy", "--json" };
	unsigned int extra = a->given & ~cmd->opts;

	for (size_t i = 0; extra && i < sizeof(names) / sizeof(names[0]); i++)
		if (extra & 1u << i)
			return admin_fail(ADMIN_USAGE, "%s does not apply to '%s %s'", names[i],
					  group, cmd->name);
	if (a->n_args < cmd->min_args || a->n_args > cmd->max_args)
		return admin_fail(ADMIN_USAGE, "%s; usage: snp-keybroker %s %s",
				  a->n_args < cmd->min_args ? "missing argument" :
				  "too many arguments", group, cmd->usage);
	return ADMIN_OK;
}

static int run_cmd(const struct admin_cmd *cmd, const struct admin_args *a)
{
	struct snp_err err = { 0 };
	struct store *st;
	char dir[4096];
	int ret = find_state_dir(a, dir, sizeof(dir));

	if (ret)
		return ret;
	if (store_open(&st, dir, cmd->creates, &err))
		return admin_fail(ADMIN_REFUSED, "%s", err.msg);
	ret = cmd->run(st, a);
	store_close(st);
	if (fflush(stdout))
		return admin_fail(ADMIN_REFUSED, "standard output: %s", strerror(errno));
	return ret;
}

int admin_main(int argc, char *argv[], const struct admin_cmd *cmds, size_t n_cmds)
{
	struct admin_args a = { 0 };
	const char *group = argv[0];
	size_t i;
	int ret;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage(argc < 2 ? stderr : stdout, group, cmds, n_cmds);
		return argc < 2 ? ADMIN_USAGE : ADMIN_OK;
	}
	for (i = 0; i < n_cmds && strcmp(cmds[i].name, argv[1]); i++)
		;
	if (i == n_cmds) {
		admin_fail(ADMIN_USAGE, "unknown command '%s %s'", group, argv[1]);
		print_usage(stderr, group, cmds, n_cmds);
		return ADMIN_USAGE;
	}
	ret = parse_args(argc - 1, argv + 1, &a);
	if (!ret)
		ret = check_args(group, &cmds[i], &a);
	return ret ? ret : run_cmd(&cmds[i], &a);
}
