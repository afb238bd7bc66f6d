// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `snp-unseal unlock`: the boot path. Settings from the defaults, the
 * configuration file, each volume's token, the kernel command line and
 * the options (agent/config.h says which wins); the volumes from
 * luks/find.h within device_timeout; then each volume in turn through
 * unlock_volume under one overall deadline. The exit code is the first
 * failure's (agent/exit.h); on_failure = poweroff turns a failure into a
 * power-off instead.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/exit.h"
#include "agent/log.h"
#include "agent/memscan.h"
#include "agent/secmem.h"
#include "agent/unlock.h"
#include "agent/unlock_cmd.h"
#include "luks/crypttab.h"
#include "luks/find.h"

#define OPTION_NAME_MAX		32	/* "--attempt-timeout" and the like */

struct unlock_args {
	const char *devices[LUKS_FIND_MAX];
	size_t n_devices;
	const char *config;		/* NULL: AGENT_CONFIG_FILE, which may be absent */
	const char *cmdline;		/* NULL: AGENT_CMDLINE_FILE; "none": skip it */
	const char *kmsg;		/* NULL: AGENT_KMSG; "" none */
	const char *crypttab;		/* NULL: the initrd's usual places; "none": skip */
	const char *sys_root, *dev_root;
	bool verify_only;
	bool print_key;
	bool no_poweroff;
	bool help;
	struct agent_settings options;	/* layer 1: --KEY VALUE */
};

/* The layers that do not depend on the volume. */
struct layers {
	struct agent_settings defaults, file, cmdline, options;
	struct agent_settings base;	/* all four merged */
	bool failed;			/* a file or command line that does not parse */
};

static void print_usage(FILE *out)
{
	fputs("Usage: snp-unseal unlock [DEVICE...] [--config FILE] [--cmdline FILE|none]\n"
	      "                         [--kmsg PATH|none] [--crypttab FILE|none]\n"
	      "                         [--verify-only | --print-key] [--no-poweroff]\n"
	      "                         [--sys-root DIR] [--dev-root DIR] [--KEY VALUE]...\n"
	      "\n"
	      "Open every LUKS2 volume that carries an snp-unseal token (or the DEVICEs\n"
	      "given) with the secret the owner's broker releases against this guest's\n"
	      "SEV-SNP attestation report.\n"
	      "\n"
	      "  --config FILE       configuration file (default " AGENT_CONFIG_FILE ",\n"
	      "                      which may be absent; a FILE given here must exist)\n"
	      "  --cmdline FILE|none the kernel command line (default " AGENT_CMDLINE_FILE ")\n"
	      "  --kmsg PATH|none    the kernel log (default " AGENT_KMSG ")\n"
	      "  --crypttab FILE|none  mapping names (default " LUKS_CRYPTTAB_PATH ", else\n"
	      "                      " LUKS_CRYPTTAB_INITRD_PATH ")\n"
	      "  --verify-only       check the secret against the keyslot, map nothing\n"
	      "  --print-key         check it, then write it to standard output (a pipe,\n"
	      "                      never a terminal) for a crypttab keyscript; one volume\n"
	      "  --no-poweroff       with on_failure = poweroff, log it but exit instead\n"
	      "  --sys-root DIR      sysfs to scan for block devices (default /sys)\n"
	      "  --dev-root DIR      where their device nodes are (default /dev)\n"
	      "  --KEY VALUE         any setting, '_' written '-', winning over every other\n"
	      "                      source: --broker, --ca, --ca-pin, --pin, --connect-to,\n"
	      "                      --provider, --sim, --vmpl, --deadline, --attempt-timeout,\n"
	      "                      --device-timeout, --backoff, --backoff-max, --on-failure,\n"
	      "                      --name, --uuid, --enable, --log-level\n"
	      "  -h, --help          show this help and exit\n"
	      "\n"
	      "Exit status: 0 unlocked, 2 usage or configuration, 3 no report provider,\n"
	      "4 report failed, 5 no volume, 6 refused, 7 unreachable, 8 bad secret,\n"
	      "9 activation failed, 10 disabled, 11 could not power off (see snp-unseal(8)).\n",
	      out);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("snp-unseal unlock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see 'snp-unseal unlock --help'\n", stderr);
	return EXIT_USAGE;
}

/* unlock's own options: *value for those with a value, *flag for the others. */
static bool fixed_option(struct unlock_args *a, const char *name, const char ***value,
			 bool **flag)
{
	const struct {
		const char *name;
		const char **value;
		bool *flag;
	} options[] = {
		{ "config", &a->config, NULL },
		{ "cmdline", &a->cmdline, NULL },
		{ "kmsg", &a->kmsg, NULL },
		{ "crypttab", &a->crypttab, NULL },
		{ "sys-root", &a->sys_root, NULL },
		{ "dev-root", &a->dev_root, NULL },
		{ "verify-only", NULL, &a->verify_only },
		{ "print-key", NULL, &a->print_key },
		{ "no-poweroff", NULL, &a->no_poweroff },
		{ "help", NULL, &a->help },
	};

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if (!strcmp(name, options[i].name)) {
			*value = options[i].value;
			*flag = options[i].flag;
			return true;
		}
	}
	return false;
}

/* "--attempt-timeout" to its setting; -1 when there is none. */
static int setting_option(const char *name, char key[OPTION_NAME_MAX])
{
	size_t len = strlen(name);

	if (len >= OPTION_NAME_MAX)
		return -1;
	for (size_t i = 0; i <= len; i++)
		key[i] = name[i] == '-' ? '_' : name[i];
	for (int k = 0; k < AS_COUNT; k++)
		if (!strcmp(key, agent_setting_name((enum agent_setting)k)))
			return k;
	return -1;
}

static int setting_value(struct unlock_args *a, const char *name, const char *value)
{
	char key[OPTION_NAME_MAX], where[OPTION_NAME_MAX + 16];
	struct snp_err err = { 0 };
	int k = setting_option(name, key);

	if (k < 0)
		return usage_error("unknown option '--%s'", name);
	if (agent_is_set(&a->options, (enum agent_setting)k))
		return usage_error("--%s given twice", name);
	snprintf(where, sizeof(where), "option --%s", name);
	if (agent_settings_set(&a->options, key, value, where, &err))
		return usage_error("%s", err.msg);
	return 0;
}

/* argv[*i] is "--NAME" or "--NAME=VALUE"; *i moves past its value. */
static int long_option(struct unlock_args *a, int argc, char *argv[], int *i)
{
	char name[OPTION_NAME_MAX];
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *value = NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const char **slot = NULL;
	bool *flag = NULL;

	if (len >= sizeof(name))
		return usage_error("unknown option '%.40s'", argv[*i]);
	memcpy(name, arg, len);
	name[len] = '\0';
	if (fixed_option(a, name, &slot, &flag) && flag) {
		if (eq)
			return usage_error("--%s takes no value", name);
		*flag = true;
		return 0;
	}
	if (eq)
		value = eq + 1;
	else if (*i + 1 < argc)
		value = argv[++*i];
	else
		return usage_error("--%s needs a value", name);
	if (!slot)
		return setting_value(a, name, value);
	if (*slot)
		return usage_error("--%s given twice", name);
	*slot = value;
	return 0;
}

static int parse_args(struct unlock_args *a, int argc, char *argv[])
{
	bool options_end = false;
	int ret;

	memset(a, 0, sizeof(*a));
	agent_settings_clear(&a->options);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_end && !strcmp(arg, "--")) {
			options_end = true;
		} else if (!options_end && !strcmp(arg, "-h")) {
			a->help = true;
		} else if (!options_end && !strncmp(arg, "--", 2)) {
			ret = long_option(a, argc, argv, &i);
			if (ret)
				return ret;
		} else if (!options_end && arg[0] == '-' && arg[1]) {
			return usage_error("unknown option '%s'", arg);
		} else if (a->n_devices == LUKS_FIND_MAX) {
			return usage_error("more than %d devices", LUKS_FIND_MAX);
		} else {
			a->devices[a->n_devices++] = arg;
		}
	}
	return 0;
}

/* The configuration file: an absent default is no error, an explicit one must exist. */
static void load_file_layer(struct layers *l, const struct unlock_args *a)
{
	const char *path = a->config ? a->config : AGENT_CONFIG_FILE;
	struct snp_err err = { 0 };
	int ret;

	ret = agent_settings_load_file(&l->file, path, &err);
	if (!ret)
		agent_log(LOG_DEBUG, "configuration file %s read", path);
	else if (ret == -ENOENT && !a->config)
		agent_log(LOG_DEBUG, "no configuration file %s: defaults and tokens only", path);
	else
		agent_log(LOG_ERR, "configuration file: %s", err.msg);
	/* A bad line fails the run, but what the good lines say (on_failure) still holds. */
	if (ret && ret != -EINVAL)
		agent_settings_clear(&l->file);
	if (ret && (ret != -ENOENT || a->config))
		l->failed = true;
}

/*
 * The kernel command line. Words that do not parse are a configuration
 * error; a default /proc/cmdline that cannot be read only a warning (the
 * other sources still say everything needed).
 */
static void load_cmdline_layer(struct layers *l, const struct unlock_args *a)
{
	const char *path = a->cmdline ? a->cmdline : AGENT_CMDLINE_FILE;
	struct snp_err err = { 0 };
	int ret;

	if (a->cmdline && !strcmp(a->cmdline, "none"))
		return;
	ret = agent_settings_load_cmdline(&l->cmdline, path, &err);
	if (!ret)
		return;
	if (ret != -EINVAL)
		agent_settings_clear(&l->cmdline);
	if (ret != -EINVAL && !a->cmdline) {
		agent_log(LOG_WARNING, "kernel command line ignored: %s", err.msg);
		return;
	}
	agent_log(LOG_ERR, "%s", err.msg);
	l->failed = true;
}

static void load_layers(struct layers *l, const struct unlock_args *a)
{
	memset(l, 0, sizeof(*l));
	agent_settings_defaults(&l->defaults);
	agent_settings_clear(&l->file);
	agent_settings_clear(&l->cmdline);
	l->options = a->options;
	load_file_layer(l, a);
	load_cmdline_layer(l, a);
	l->base = l->defaults;
	agent_settings_overlay(&l->base, &l->file);
	agent_settings_overlay(&l->base, &l->cmdline);
	agent_settings_overlay(&l->base, &l->options);
}

/*
 * The name crypttab gives the volume: the initrd's own unlockers
 * (cryptroot, systemd-cryptsetup) look for it under that name, so it wins
 * over the token's. 0 (name set or not), or -EINVAL for a crypttab line
 * about this volume that is wrong (logged).
 */
static int crypttab_name(const struct unlock_args *a, const struct luks_found *v,
			 struct agent_settings *layer)
{
	const char *paths[] = { LUKS_CRYPTTAB_PATH, LUKS_CRYPTTAB_INITRD_PATH };
	size_t n_paths = sizeof(paths) / sizeof(paths[0]);
	struct snp_err err = { 0 };
	char name[LUKS_TOKEN_NAME_MAX];
	const char *named_by = NULL;
	int ret = -ENOENT;

	if (a->crypttab && !strcmp(a->crypttab, "none"))
		return 0;
	if (a->crypttab) {
		paths[0] = a->crypttab;
		n_paths = 1;
	}
	/* A missing default file is normal; a missing one we were given is not. */
	if (a->crypttab && access(a->crypttab, F_OK)) {
		agent_log(LOG_ERR, "crypttab %s: %s", a->crypttab, strerror(errno));
		return -EINVAL;
	}
	for (size_t i = 0; i < n_paths && ret == -ENOENT; i++) {
		ret = luks_crypttab_lookup(paths[i], v->uuid, v->path, name, &err);
		named_by = paths[i];
	}
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		agent_log(LOG_ERR, "%s (%s): crypttab: %s", v->path, v->uuid, err.msg);
		return -EINVAL;
	}
	agent_log(LOG_INFO, "%s (%s): %s names it %s", v->path, v->uuid, named_by, name);
	agent_settings_clear(layer);
	return agent_settings_set(layer, "name", name, named_by, &err) ? -EINVAL : 0;
}

/*
 * What one volume is unlocked with: the token and crypttab between the
 * file and the command line. *eff is filled even when crypttab is wrong
 * (-EINVAL; without its name): the failure's on_failure comes from it.
 */
static int volume_settings(const struct layers *l, const struct unlock_args *a,
			   const struct luks_found *v, struct agent_settings *eff)
{
	struct agent_settings token, crypttab;
	int ret;

	agent_settings_clear(&token);
	agent_settings_clear(&crypttab);
	agent_settings_from_token(&token, &v->token);
	ret = crypttab_name(a, v, &crypttab);
	*eff = l->defaults;
	agent_settings_overlay(eff, &l->file);
	agent_settings_overlay(eff, &token);
	agent_settings_overlay(eff, &crypttab);
	agent_settings_overlay(eff, &l->cmdline);
	agent_settings_overlay(eff, &l->options);
	return ret;
}

/* 0 with *n volumes, or an exit code (*n may still be > 0 for EXIT_NO_VOLUME). */
static int find_volumes(const struct layers *l, const struct unlock_args *a,
			struct luks_found *found, size_t *n)
{
	const char *uuids[AGENT_UUIDS_MAX];
	struct luks_find_opts o = {
		.paths = a->devices,
		.n_paths = a->n_devices,
		.sys_root = a->sys_root,
		.dev_root = a->dev_root,
		.want_uuids = uuids,
		.n_want = l->base.n_uuids,
		.timeout_ms = l->base.device_timeout_ms,
	};
	struct snp_err err = { 0 };
	int ret;

	for (size_t i = 0; i < l->base.n_uuids; i++)
		uuids[i] = l->base.uuids[i];
	agent_log(LOG_INFO, "looking for volumes with an snp-unseal token (up to %d ms)",
		  o.timeout_ms);
	*n = 0;
	ret = luks_find(&o, found, n, &err);
	for (size_t i = 0; i < *n; i++)
		agent_log(LOG_INFO, "%s (%s): snp-unseal token for volume %s, keyslot %d",
			  found[i].path, found[i].uuid, found[i].token.volume,
			  found[i].token.keyslot);
	if (!ret && *n)
		return 0;
	if (ret && ret != -ETIMEDOUT && ret != -ENOKEY) {
		agent_log(LOG_ERR, "looking for volumes: %s", err.msg);
		return *n ? EXIT_NO_VOLUME : EXIT_FAILURE_OTHER;
	}
	agent_log(LOG_ERR, "%s", err.msg[0] ? err.msg : "no volume with an snp-unseal token");
	return EXIT_NO_VOLUME;
}

struct outcome {
	int code;			/* the first failure's, or EXIT_OK */
	enum agent_on_failure on_failure;	/* from the settings it failed with */
};

static void record(struct outcome *o, int code, const struct agent_settings *s)
{
	if (!code || o->code)
		return;
	o->code = code;
	o->on_failure = s->on_failure;
}

static void unlock_all(const struct layers *l, const struct unlock_args *a,
		       const struct luks_found *found, size_t n, struct outcome *o)
{
	enum luks_open_mode mode = a->verify_only ? LUKS_OPEN_VERIFY : LUKS_OPEN_ACTIVATE;
	struct snp_deadline overall;
	struct agent_settings eff;
	struct snp_err err = { 0 };
	int code;

	/* The deadline counts from here: waiting for devices has its own bound. */
	snp_deadline_start(&overall, l->base.deadline_ms);
	for (size_t i = 0; i < n; i++) {
		if (volume_settings(l, a, &found[i], &eff)) {
			code = EXIT_USAGE;
		} else if (agent_settings_check(&eff, &err)) {
			agent_log(LOG_ERR, "%s (%s): %s", found[i].path, found[i].uuid, err.msg);
			code = EXIT_USAGE;
		} else if (a->print_key) {
			code = unlock_volume_key(&found[i], &eff, STDOUT_FILENO, &overall);
		} else {
			code = unlock_volume(&found[i], &eff, mode, &overall);
		}
		record(o, code, &eff);
		/* A failed report request disabled the guest's key: nothing else can work. */
		if (code == EXIT_NO_PROVIDER || code == EXIT_REPORT_FAILED)
			break;
	}
}

/*
 * on_failure = poweroff: fail closed. Returns the exit code when that did
 * not happen: the failure's with --no-poweroff, else EXIT_POWEROFF_FAILED,
 * which the initrd glue must not answer with a passphrase prompt.
 */
static int fail_closed(const struct outcome *o, const struct unlock_args *a)
{
	if (!o->code || o->on_failure != AGENT_POWEROFF)
		return o->code;
	if (a->no_poweroff) {
		agent_log(LOG_ERR, "failing closed: would power off now (--no-poweroff: exit %d "
			  "instead)", o->code);
		return o->code;
	}
	agent_log(LOG_ERR, "failing closed: powering off (exit %d)", o->code);
	sync();
	reboot(RB_POWER_OFF);
	agent_log(LOG_ERR, "cannot power off: %s; halting", strerror(errno));
	reboot(RB_HALT_SYSTEM);
	agent_log(LOG_CRIT, "cannot halt either: %s; exiting with %d: do not go on booting",
		  strerror(errno), EXIT_POWEROFF_FAILED);
	return EXIT_POWEROFF_FAILED;
}

static int run(const struct unlock_args *a)
{
	struct luks_found *found = NULL;
	struct outcome o = { 0 };
	struct layers *l;
	size_t n = 0;
	int code;

	l = malloc(sizeof(*l));
	found = calloc(LUKS_FIND_MAX, sizeof(*found));
	if (!l || !found) {
		agent_log(LOG_ERR, "out of memory");
		code = EXIT_FAILURE_OTHER;
		goto out;
	}
	load_layers(l, a);
	agent_log_set_level(l->base.log_level);
	if (!l->base.enable) {
		agent_log(LOG_NOTICE, "disabled (enable = 0): not unlocking anything");
		code = EXIT_DISABLED;
		goto out;
	}
	record(&o, l->failed ? EXIT_USAGE : EXIT_OK, &l->base);
	if (!o.code)
		record(&o, find_volumes(l, a, found, &n), &l->base);
	if (!o.code || o.code == EXIT_NO_VOLUME) {
		if (a->print_key && n != 1) {
			agent_log(LOG_ERR, "--print-key needs exactly one volume; %zu found", n);
			record(&o, EXIT_USAGE, &l->base);
		} else if (agent_is_set(&l->base, AS_NAME) && n > 1) {
			agent_log(LOG_ERR, "a name (%s) is set for %zu volumes: set it in each "
				  "token instead", l->base.name, n);
			record(&o, EXIT_USAGE, &l->base);
		} else {
			unlock_all(l, a, found, n, &o);
		}
	}
	code = fail_closed(&o, a);
out:
	free(found);
	free(l);
	return code;
}

int unlock_main(int argc, char *argv[])
{
	struct unlock_args *a = malloc(sizeof(*a));
	int hardened, code;

	if (!a) {
		fputs("snp-unseal unlock: out of memory\n", stderr);
		return EXIT_FAILURE_OTHER;
	}
	code = parse_args(a, argc, argv);
	if (!code && a->print_key && a->verify_only)
		code = usage_error("--print-key and --verify-only exclude each other");
	/* The secret never goes to a terminal, where it would be seen and kept. */
	if (!code && a->print_key && isatty(STDOUT_FILENO))
		code = usage_error("--print-key writes the secret: standard output must not be "
				   "a terminal");
	if (code || a->help) {
		if (!code) {
			print_usage(stdout);
			code = fflush(stdout) ? EXIT_FAILURE_OTHER : EXIT_OK;
		}
		free(a);
		return code;
	}
	/* A broker that resets the connection must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	hardened = secmem_harden_process();
	agent_log_open(a->kmsg && !strcmp(a->kmsg, "none") ? "" : a->kmsg, LOG_INFO);
	if (hardened)
		agent_log(LOG_WARNING, "cannot make the process non-dumpable: %s",
			  strerror(-hardened));
	code = run(a);
	free(a);
	memscan_at_exit();
	agent_log_close();
	return code;
}
