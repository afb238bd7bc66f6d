// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snp-unseal enroll / unenroll: add snp-unseal's keyslot and token to a
 * LUKS2 volume (luks/enroll.h does the header), and hand its new secret
 * to the owner in a registration file (docs/protocol.md); or take them
 * away again.
 *
 * Enroll either completes, header and file both, or leaves neither: the
 * registration is written and synced to a temporary file next to FILE
 * before the header changes, and published under FILE (never over an
 * existing one) only once the keyslot is in; a failure after the header
 * changed undoes the enrollment (luks_unenroll). Everything checkable is
 * checked before the passphrase is asked for, so a mistyped option costs
 * no typing. The passphrase, the secret and the registration text live
 * in locked memory (agent/secmem.h) or are wiped after use.
 *
 * Exit statuses: EXIT_USAGE for a bad command line, which includes a --ca
 * file that cannot be read or holds no certificate and a --key-file that
 * cannot be read (the message names the option); EXIT_FAILURE_OTHER for
 * the device, the passphrase, the registration file and everything else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "agent/enroll_cmd.h"
#include "agent/exit.h"
#include "agent/secmem.h"
#include "luks/enroll.h"
#include "luks/token.h"
#include "proto/proto.h"
#include "snp/fdio.h"
#include "tls/http.h"
#include "tls/tls.h"

#define SECRET_SIZE	32		/* the new keyslot's passphrase */
#define PASSPHRASE_MAX	(64 * 1024)	/* bytes of a key file or a typed passphrase */
#define REG_NAME_MAX	64		/* "snp-unseal-<uuid>.json" */

struct enroll_opts {
	const char *device;
	const char *brokers[LUKS_TOKEN_BROKERS_MAX];
	size_t n_brokers;
	const char *ca_file;
	const char *pin;
	const char *name;
	const char *key_file;
	const char *registration;
	char default_registration[REG_NAME_MAX];
};

/* The registration, first in a temporary file beside its final name. */
struct reg_file {
	const char *path;
	char dir[PATH_MAX];
	char tmp[PATH_MAX];
	int made;		/* tmp exists and is ours to remove */
};

static void print_enroll_usage(FILE *out)
{
	fputs("Usage: snp-unseal enroll DEVICE --broker URL [--broker URL]... --ca FILE\n"
	      "                         [--pin sha256:HEX] [--name NAME] [--key-file FILE|-]\n"
	      "                         [--registration FILE]\n"
	      "\n"
	      "Add a keyslot for a new random secret and an snp-unseal token to the LUKS2\n"
	      "volume DEVICE, and write the secret to a registration file for the owner's\n"
	      "service. Existing keyslots and the data are not touched.\n"
	      "\n"
	      "  --broker URL          an https:// URL of the service; repeat for more (up to 8),\n"
	      "                        tried in this order\n"
	      "  --ca FILE             the CA certificate(s) that sign the service's certificate\n"
	      "  --pin sha256:HEX      also pin the service's own key\n"
	      "  --name NAME           the device-mapper name (default luks-UUID)\n"
	      "  --key-file FILE|-     an existing passphrase: the whole file, or standard input\n"
	      "                        (default: ask on the terminal)\n"
	      "  --registration FILE   where to write the registration (default\n"
	      "                        ./snp-unseal-UUID.json; never overwritten)\n"
	      "\n"
	      "The registration file holds the disk secret: import it with\n"
	      "'snp-keybroker volume add --from FILE', then delete it.\n",
	      out);
}

static void print_unenroll_usage(FILE *out)
{
	fputs("Usage: snp-unseal unenroll DEVICE\n"
	      "\n"
	      "Remove every snp-unseal token from the LUKS2 volume DEVICE, complete or left\n"
	      "pending by an interrupted enroll, and the keyslot it names. A keyslot is not\n"
	      "removed when no other would be left.\n",
	      out);
}

static int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "snp-unseal %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'snp-unseal %s --help'\n", cmd);
	return EXIT_USAGE;
}

static int failure(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int failure(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "snp-unseal %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE_OTHER;
}

static int is_help(int argc, char *argv[])
{
	return argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
}

/* ---- the command line ---- */

/* Where a value option's value goes; NULL for an unknown option. */
static const char **option_slot(struct enroll_opts *o, const char *name)
{
	if (!strcmp(name, "--ca"))
		return &o->ca_file;
	if (!strcmp(name, "--pin"))
		return &o->pin;
	if (!strcmp(name, "--name"))
		return &o->name;
	if (!strcmp(name, "--key-file"))
		return &o->key_file;
	if (!strcmp(name, "--registration"))
		return &o->registration;
	return NULL;
}

static int set_option(struct enroll_opts *o, const char *name, const char *value)
{
	const char **slot;

	if (!strcmp(name, "--broker")) {
		if (o->n_brokers == LUKS_TOKEN_BROKERS_MAX)
			return usage_error("enroll", "more than %d --broker URLs",
					   LUKS_TOKEN_BROKERS_MAX);
		o->brokers[o->n_brokers++] = value;
		return 0;
	}
	slot = option_slot(o, name);
	if (!slot)
		return usage_error("enroll", "unexpected argument '%s'", name);
	if (*slot)
		return usage_error("enroll", "%s given twice", name);
	if (!*value)
		return usage_error("enroll", "%s needs a value", name);
	*slot = value;
	return 0;
}

static int parse_option(struct enroll_opts *o, int argc, char *argv[], int *i)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	char name[32];

	if (eq) {
		snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
		return set_option(o, name, eq + 1);
	}
	if (strcmp(arg, "--broker") && !option_slot(o, arg))
		return usage_error("enroll", "unexpected argument '%s'", arg);
	if (*i + 1 >= argc)
		return usage_error("enroll", "%s needs a value", arg);
	*i += 1;
	return set_option(o, arg, argv[*i]);
}

static int parse_enroll_args(struct enroll_opts *o, int argc, char *argv[])
{
	int ret;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			ret = parse_option(o, argc, argv, &i);
			if (ret)
				return ret;
		} else if (!o->device) {
			o->device = argv[i];
		} else {
			return usage_error("enroll", "unexpected argument '%s'", argv[i]);
		}
	}
	if (!o->device)
		return usage_error("enroll", "no DEVICE given");
	if (!o->n_brokers)
		return usage_error("enroll", "no --broker URL given");
	if (!o->ca_file)
		return usage_error("enroll", "no --ca FILE given");
	return 0;
}

/* The token as far as the command line says it (brokers, pins, name). */
static int token_from_opts(const struct enroll_opts *o, struct luks_token *t)
{
	struct http_url url;
	struct snp_err err = { 0 };

	luks_token_init(t);
	for (size_t i = 0; i < o->n_brokers; i++) {
		if (http_url_parse(o->brokers[i], &url, &err))
			return usage_error("enroll", "--broker: %s", err.msg);
		if (strlen(o->brokers[i]) >= LUKS_TOKEN_URL_MAX)
			return usage_error("enroll", "--broker: %.80s...: longer than %d bytes",
					   o->brokers[i], LUKS_TOKEN_URL_MAX - 1);
		strcpy(t->brokers[i], o->brokers[i]);
	}
	t->n_brokers = o->n_brokers;
	if (tls_cert_file_pins(o->ca_file, t->ca_pins, LUKS_TOKEN_CA_PINS_MAX, &t->n_ca_pins,
			       &err))
		return usage_error("enroll", "--ca: %s", err.msg);
	if (o->pin) {
		if (tls_pin_parse(o->pin, t->server_pin, &err))
			return usage_error("enroll", "--pin: %s", err.msg);
		t->has_server_pin = true;
	}
	if (o->name) {
		if (strlen(o->name) >= LUKS_TOKEN_NAME_MAX)
			return usage_error("enroll", "--name: longer than %d bytes",
					   LUKS_TOKEN_NAME_MAX - 1);
		strcpy(t->name, o->name);
	}
	return 0;
}

/*
 * The volume id (the header's UUID, canonical) into the token, which is
 * then checked whole, with a stand-in keyslot, before anything is written.
 */
static int token_finish(const struct enroll_opts *o, struct luks_token *t)
{
	struct luks_token check;
	struct snp_err err = { 0 };
	char uuid[40];

	if (luks_header_uuid(o->device, uuid, &err))
		return failure("enroll", "%s: %s", o->device, err.msg);
	if (proto_volume_canonical(uuid, t->volume, &err))
		return failure("enroll", "%s: the header's UUID: %s", o->device, err.msg);
	check = *t;
	check.keyslot = 0;
	if (luks_token_validate(&check, &err))
		return usage_error("enroll", "%s", err.msg);
	return 0;
}

/* ---- the existing passphrase ---- */

/* Up to max bytes from fd until its end; -EFBIG when there is more. */
static int read_all(int fd, uint8_t *buf, size_t max, size_t *len)
{
	ssize_t n;

	*len = 0;
	for (;;) {
		n = read(fd, buf + *len, max + 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > max)
			return -EFBIG;
	}
}

static int read_key_file(const char *path, struct secmem *pass, size_t *len)
{
	const char *what = strcmp(path, "-") ? path : "standard input";
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : 0;
	int ret;

	if (fd < 0)
		return usage_error("enroll", "--key-file: %s: %s", path, strerror(errno));
	ret = read_all(fd, pass->buf, PASSPHRASE_MAX, len);
	if (fd)
		close(fd);
	if (ret == -EFBIG)
		return usage_error("enroll", "--key-file: %s is longer than %d bytes", what,
				   PASSPHRASE_MAX);
	if (ret)
		return usage_error("enroll", "--key-file: reading %s: %s", what, strerror(-ret));
	if (!*len)
		return usage_error("enroll", "--key-file: %s is empty", what);
	return 0;
}

static volatile sig_atomic_t prompt_signal;

static void on_prompt_signal(int sig)
{
	prompt_signal = sig;
}

/* The signals that end a prompt: the terminal is put back first. */
static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_PROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

/* One line from the terminal, its newline dropped; -EINTR on a signal. */
static int read_tty_line(int fd, uint8_t *buf, size_t max, size_t *len)
{
	ssize_t n;

	*len = 0;
	while (!prompt_signal) {
		if (*len == max)
			return -EFBIG;
		n = read(fd, buf + *len, max - *len);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return 0;	/* end of input (^D) */
		if (n < 0)
			continue;
		*len += (size_t)n;
		if (buf[*len - 1] == '\n') {
			(*len)--;
			return 0;
		}
	}
	return -EINTR;
}

static void tty_restore(int fd, const struct termios *saved)
{
	while (tcsetattr(fd, TCSAFLUSH, saved) && errno == EINTR)
		;
	(void)!write(fd, "\n", 1);
}

/* Ask on the terminal with echo off; the terminal is restored on every path. */
static int ask_tty(int fd, const char *device, struct secmem *pass, size_t *len)
{
	struct sigaction act = { .sa_handler = on_prompt_signal }, old[N_PROMPT_SIGNALS];
	struct termios saved, quiet;
	int ret;

	if (tcgetattr(fd, &saved))
		return -errno;
	sigemptyset(&act.sa_mask);	/* no SA_RESTART: a signal ends the read */
	prompt_signal = 0;
	for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
		sigaction(prompt_signals[i], &act, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	if (dprintf(fd, "Enter an existing passphrase for %s: ", device) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet))
		ret = -errno;
	else
		ret = read_tty_line(fd, pass->buf, PASSPHRASE_MAX, len);
	tty_restore(fd, &saved);
	for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	return ret;
}

static int prompt_passphrase(const char *device, struct secmem *pass, size_t *len)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return failure("enroll", "no terminal to ask for a passphrase on (/dev/tty: %s); "
			       "give --key-file", strerror(errno));
	ret = ask_tty(fd, device, pass, len);
	close(fd);
	if (ret == -EINTR)
		return failure("enroll", "interrupted; nothing was changed");
	if (ret == -EFBIG)
		return failure("enroll", "the passphrase is longer than %d bytes", PASSPHRASE_MAX);
	if (ret)
		return failure("enroll", "reading the passphrase from the terminal: %s",
			       strerror(-ret));
	if (!*len)
		return failure("enroll", "no passphrase given; nothing was changed");
	return 0;
}

/* The passphrase into pass (one byte more than the maximum, to see a longer file). */
static int get_passphrase(const struct enroll_opts *o, struct secmem *pass, size_t *len)
{
	int ret = secmem_alloc(pass, PASSPHRASE_MAX + 1);

	if (ret)
		return failure("enroll", "memory for the passphrase: %s", strerror(-ret));
	if (o->key_file)
		return read_key_file(o->key_file, pass, len);
	return prompt_passphrase(o->device, pass, len);
}

/* ---- the registration file ---- */

static int reg_init(struct reg_file *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	struct stat st;
	int n;

	f->path = path;
	f->made = 0;
	if (!*base)
		return usage_error("enroll", "--registration %s names a directory, not a file",
				   path);
	if (!slash)
		n = snprintf(f->dir, sizeof(f->dir), ".");
	else if (slash == path)
		n = snprintf(f->dir, sizeof(f->dir), "/");
	else
		n = snprintf(f->dir, sizeof(f->dir), "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= sizeof(f->dir) ||
	    snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.tmp.XXXXXX", f->dir, base) >=
		    (int)sizeof(f->tmp))
		return failure("enroll", "%s: path too long", path);
	/* A directory that cannot take the file is told before the passphrase is typed. */
	if (access(f->dir, W_OK | X_OK))
		return failure("enroll", "%s: cannot write the registration there: %s "
			       "(nothing was changed)", f->dir, strerror(errno));
	/* O_EXCL-like refusal now, before the passphrase; publishing checks again. */
	if (!lstat(path, &st))
		return failure("enroll", "%s exists; not overwriting it (nothing was changed)",
			       path);
	if (errno != ENOENT)
		return failure("enroll", "%s: %s", path, strerror(errno));
	return 0;
}

/* Write and sync the text to a new temporary file, mode 0600 whatever the umask. */
static int reg_write_temp(struct reg_file *f, const char *text, size_t len)
{
	int fd = mkostemp(f->tmp, O_CLOEXEC), ret = 0;

	if (fd < 0)
		return failure("enroll", "creating a file in %s: %s", f->dir, strerror(errno));
	f->made = 1;
	if (fchmod(fd, 0600))
		ret = -errno;
	if (!ret)
		ret = snp_write_all(fd, text, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret)
		return failure("enroll", "writing %s: %s", f->tmp, strerror(-ret));
	return 0;
}

/* The temporary file under its final name, never over an existing one. */
static int reg_link(const struct reg_file *f)
{
	if (!renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->path, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A file system without RENAME_NOREPLACE: link() refuses an existing name too. */
	if (link(f->tmp, f->path))
		return -errno;
	unlink(f->tmp);
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

static void reg_discard(struct reg_file *f)
{
	if (f->made)
		unlink(f->tmp);
	f->made = 0;
}

/* ---- enroll ---- */

static int fill_random(uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = getrandom(buf + got, len - got, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

/* The registration text for secret, in a malloc'd buffer the caller wipes. */
static int encode_registration(const char *volume, const uint8_t *secret, char **json,
			       size_t *len)
{
	struct secmem mem = { 0 };
	struct proto_registration *reg;
	int ret = secmem_alloc(&mem, sizeof(*reg));

	if (ret)
		return ret;
	reg = (struct proto_registration *)(void *)mem.buf;
	memcpy(reg->volume, volume, PROTO_VOLUME_LEN + 1);
	memcpy(reg->secret, secret, SECRET_SIZE);
	reg->secret_len = SECRET_SIZE;
	ret = proto_registration_encode(reg, json, len);
	secmem_free(&mem);
	return ret;
}

/*
 * After the header changed but the file could not be published: take the
 * enrollment back, so that no keyslot is left whose secret nobody has.
 */
static int undo_enroll(const struct enroll_opts *o, struct reg_file *f, int why)
{
	struct luks_unenroll_result res;
	struct snp_err err = { 0 };

	fprintf(stderr, "snp-unseal enroll: publishing %s: %s\n", f->path, strerror(-why));
	if (!luks_unenroll(o->device, &res, &err))
		return failure("enroll", "%s: the enrollment was undone; nothing was changed",
			       o->device);
	f->made = 0;	/* the only copy of the secret: keep it */
	return failure("enroll", "%s: undoing the enrollment failed: %s; the registration is in %s",
		       o->device, err.msg, f->tmp);
}

static void report_enrolled(const struct enroll_opts *o, const struct reg_file *f,
			    const struct luks_enroll_result *res)
{
	if (res->cleared_pending)
		printf("note: %s had a pending token left by an interrupted enroll; "
		       "cleared it first\n", o->device);
	printf("enrolled %s: keyslot %d, token %d, volume %s\n", o->device, res->keyslot,
	       res->token_id, res->volume);
	fflush(stdout);
	fprintf(stderr,
		"snp-unseal enroll: %s holds the disk secret (mode 0600): import it on the\n"
		"  service with 'snp-keybroker volume add --from %s', then delete it\n",
		f->path, f->path);
}

static int enroll_luks(const struct enroll_opts *o, const struct luks_token *t,
		       const struct secmem *pass, size_t pass_len, const uint8_t *secret,
		       struct luks_enroll_result *res)
{
	struct luks_enroll_params p = {
		.device = o->device,
		.passphrase = (const char *)pass->buf,
		.passphrase_len = pass_len,
		.secret = secret,
		.secret_len = SECRET_SIZE,
		.token = t,
	};
	struct snp_err err = { 0 };
	int ret = luks_enroll(&p, res, &err);

	if (ret == -EEXIST)
		return failure("enroll", "%s: %s ('snp-unseal unenroll %s' removes it)", o->device,
			       err.msg, o->device);
	if (ret)
		return failure("enroll", "%s: %s", o->device, err.msg);
	return 0;
}

/* With the passphrase in hand: secret, temporary file, header, file. */
static int enroll_with(const struct enroll_opts *o, const struct luks_token *t,
		       struct reg_file *f, const struct secmem *pass, size_t pass_len)
{
	struct luks_enroll_result res;
	struct secmem secret = { 0 };
	char *json = NULL;
	size_t json_len = 0;
	int ret, sync_ret;

	ret = secmem_alloc(&secret, SECRET_SIZE);
	if (!ret)
		ret = fill_random(secret.buf, SECRET_SIZE);
	if (!ret)
		ret = encode_registration(t->volume, secret.buf, &json, &json_len);
	if (ret) {
		ret = failure("enroll", "making the secret: %s", strerror(-ret));
		goto out;
	}
	ret = reg_write_temp(f, json, json_len);
	if (!ret)
		ret = enroll_luks(o, t, pass, pass_len, secret.buf, &res);
	if (ret)
		goto out;
	ret = reg_link(f);
	if (ret) {
		ret = undo_enroll(o, f, ret);
		goto out;
	}
	f->made = 0;
	/* Published: a failed directory sync is worth a warning, not an undo. */
	sync_ret = fsync_dir(f->dir);
	if (sync_ret)
		fprintf(stderr, "snp-unseal enroll: warning: syncing %s: %s\n", f->dir,
			strerror(-sync_ret));
	report_enrolled(o, f, &res);
out:
	if (json) {
		explicit_bzero(json, json_len);
		free(json);
	}
	secmem_free(&secret);
	return ret;
}

int enroll_main(int argc, char *argv[])
{
	struct enroll_opts o = { 0 };
	struct luks_token token;
	struct reg_file reg;
	struct secmem pass = { 0 };
	size_t pass_len = 0;
	int ret;

	if (is_help(argc, argv)) {
		print_enroll_usage(stdout);
		return fflush(stdout) ? EXIT_FAILURE_OTHER : EXIT_OK;
	}
	ret = parse_enroll_args(&o, argc, argv);
	if (!ret)
		ret = token_from_opts(&o, &token);
	if (!ret)
		ret = token_finish(&o, &token);
	if (ret)
		return ret;
	if (!o.registration) {
		snprintf(o.default_registration, sizeof(o.default_registration),
			 "snp-unseal-%s.json", token.volume);
		o.registration = o.default_registration;
	}
	ret = reg_init(&reg, o.registration);
	if (ret)
		return ret;
	ret = secmem_harden_process();
	if (ret)
		fprintf(stderr, "snp-unseal enroll: warning: cannot make the process "
			"non-dumpable: %s\n", strerror(-ret));
	ret = get_passphrase(&o, &pass, &pass_len);
	if (!ret)
		ret = enroll_with(&o, &token, &reg, &pass, pass_len);
	reg_discard(&reg);
	secmem_free(&pass);
	return ret;
}

/* ---- unenroll ---- */

int unenroll_main(int argc, char *argv[])
{
	struct luks_unenroll_result res = { 0 };
	struct snp_err err = { 0 };
	const char *device;

	if (is_help(argc, argv)) {
		print_unenroll_usage(stdout);
		return fflush(stdout) ? EXIT_FAILURE_OTHER : EXIT_OK;
	}
	if (argc < 2)
		return usage_error("unenroll", "no DEVICE given");
	if (argc > 2 || (argv[1][0] == '-' && argv[1][1]))
		return usage_error("unenroll", "unexpected argument '%s'", argv[argc > 2 ? 2 : 1]);
	device = argv[1];
	if (luks_unenroll(device, &res, &err))
		return failure("unenroll", "%s: %s", device, err.msg);
	if (!res.removed_tokens && !res.removed_keyslots)
		printf("%s has no snp-unseal token\n", device);
	else
		printf("unenrolled %s: removed %d token%s and %d keyslot%s\n", device,
		       res.removed_tokens, res.removed_tokens == 1 ? "" : "s",
		       res.removed_keyslots, res.removed_keyslots == 1 ? "" : "s");
	return fflush(stdout) ? EXIT_FAILURE_OTHER : EXIT_OK;
}
