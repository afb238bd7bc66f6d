// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's settings (agent/config.h). One table row per setting: its
 * name, parser, field and range. The file, the kernel command line and
 * unlock's options all go through agent_settings_set, so a value is judged
 * the same wherever it is written; what a LUKS2 token also carries
 * (brokers, pins, the name) goes through the token's own checks, so that a
 * value accepted here is one a token could hold.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "agent/config.h"
#include "agent/log.h"
#include "proto/proto.h"
#include "snp/deadline.h"
#include "snp/fdio.h"
#include "snp/simaddr.h"

#define MS_PER_S		1000
#define MS_PER_MIN		(60 * MS_PER_S)
#define MS_PER_HOUR		(60 * MS_PER_MIN)
/* Room for the longest value (ca: PATH_MAX) and its key. */
#define CONFIG_LINE_MAX		8192
/* How much of a refused value or key a message shows. */
#define SHOWN_MAX		64
#define WHERE_MAX		320
/* The largest list p_list reads (uuid); a _Static_assert below checks. */
#define LIST_FIELD_MAX		(AGENT_UUIDS_MAX * 40)
#define CMDLINE_WHERE		"kernel command line"
#define CMDLINE_ENABLE		"rd.snp_unseal"

/* A value being set: for "WHERE: KEY: reason". */
struct value_ctx {
	const char *where;
	const char *key;
	const char *value;
	const char *shown;		/* the value as a message may show it */
	struct snp_err *err;
};

/* Item i of a list, judged and stored into out[i]. */
typedef int (*item_fn)(const struct value_ctx *c, const char *item, size_t i, void *out);

struct setting;
typedef int (*setting_parse_fn)(struct agent_settings *s, const struct setting *k,
				const struct value_ctx *c);

/*
 * A setting: its parser and the field it sets (offset and size in struct
 * agent_settings; lists also their count's offset, 0 for none: no count
 * lives at offset 0, where the set mask is), numbers and durations their
 * range, choices their names (index = the value stored), lists their
 * longest count (max) and how to read an item.
 */
struct setting {
	const char *name;
	setting_parse_fn parse;
	size_t off, size, count_off;
	int64_t min, max;
	const char *const *choices;
	item_fn item;			/* lists read by p_list: each item */
	const char *what;		/* and what they are, for messages */
	bool may_be_empty;
};

/* ---- Messages ------------------------------------------------------------ */

/* Up to SHOWN_MAX bytes of s, non-printables as '?', "..." when cut. */
static const char *shown(char out[SHOWN_MAX + 4], const char *s)
{
	return snp_shown(out, SHOWN_MAX, s, strlen(s));
}

static int value_errf(const struct value_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * -EINVAL as "WHERE: KEY: reason". The reason may quote other modules'
 * messages, which quote the value whole: anything unprintable becomes '?'.
 */
static int value_errf(const struct value_ctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snp_printable(why);
	return snp_errf(c->err, -EINVAL, "%s: %s: %s", c->where, c->key, why);
}

/* ---- Values -------------------------------------------------------------- */

static void *field(struct agent_settings *s, const struct setting *k)
{
	return (char *)s + k->off;
}

/*
 * The next item of a comma-separated list, blanks around it dropped, into
 * out; *next moves past it (NULL after the last). -EINVAL for an empty
 * item, -ENAMETOOLONG for one of size bytes or more.
 */
static int list_item(const char **next, char *out, size_t size)
{
	const char *p = *next, *comma = strchr(p, ','), *end;

	end = comma ? comma : p + strlen(p);
	*next = comma ? comma + 1 : NULL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == p)
		return -EINVAL;
	if ((size_t)(end - p) >= size)
		return -ENAMETOOLONG;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 0;
}

/*
 * Each item of the comma-separated value through one(), at most max of
 * them (what: "URLs"); *n gets the count. Items are bounded by the
 * longest any list holds (a URL); each one() bounds its own further.
 */
static int each_item(const struct value_ctx *c, size_t max, const char *what, item_fn one,
		     void *out, size_t *n)
{
	char item[LUKS_TOKEN_URL_MAX];
	const char *next = c->value;
	int ret;

	for (*n = 0; next; (*n)++) {
		if (*n == max)
			return value_errf(c, "'%s' holds more than %zu %s", c->shown, max, what);
		ret = list_item(&next, item, sizeof(item));
		if (ret == -ENAMETOOLONG)
			return value_errf(c, "'%s' holds an item longer than %zu bytes", c->shown,
					  sizeof(item) - 1);
		if (ret)
			return value_errf(c, "'%s' holds an empty item (write a comma-separated list)",
					  c->shown);
		ret = one(c, item, *n, out);
		if (ret)
			return ret;
	}
	return 0;
}

/* A list of the row's item: judged whole into a scratch copy, then stored with its count. */
static int p_list(struct agent_settings *s, const struct setting *k, const struct value_ctx *c)
{
	uint8_t items[LIST_FIELD_MAX] = { 0 };
	size_t n;
	int ret = each_item(c, (size_t)k->max, k->what, k->item, items, &n);

	if (ret)
		return ret;
	memcpy(field(s, k), items, k->size);
	memcpy((char *)s + k->count_off, &n, sizeof(n));
	return 0;
}

static int broker_item(const struct value_ctx *c, const char *item, size_t i, void *out)
{
	char (*brokers)[LUKS_TOKEN_URL_MAX] = out;
	struct snp_err why;

	if (luks_token_check_url(item, &why))
		return value_errf(c, "%s", why.msg);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(brokers[j], item))
			return value_errf(c, "\"%s\" is given twice", item);
	snprintf(brokers[i], sizeof(brokers[i]), "%s", item);
	return 0;
}

static int p_brokers(struct agent_settings *s, const struct setting *k,
		     const struct value_ctx *c)
{
	char brokers[LUKS_TOKEN_BROKERS_MAX][LUKS_TOKEN_URL_MAX];
	size_t n;
	int ret;

	(void)k;
	ret = each_item(c, LUKS_TOKEN_BROKERS_MAX, "URLs", broker_item, brokers, &n);
	if (ret)
		return ret;
	memcpy(s->brokers, brokers, sizeof(s->brokers));
	s->n_brokers = n;
	return 0;
}

/* A file name: printable, fitting its field. Empty for ca: no CA bundle (a pin only). */
static int p_path(struct agent_settings *s, const struct setting *k, const struct value_ctx *c)
{
	size_t len = strlen(c->value);

	if (len >= k->size)
		return value_errf(c, "'%s' is %zu bytes; at most %zu", c->shown, len, k->size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)c->value[i] < 0x20 || c->value[i] == 0x7f)
			return value_errf(c, "'%s' holds a control character at %zu", c->shown,
					  i + 1);
	memcpy(field(s, k), c->value, len + 1);
	return 0;
}

/* "sha256:HEX" as tls_pin_parse reads pins everywhere else (the token too). */
static int pin_item(const struct value_ctx *c, const char *item, size_t i, void *out)
{
	uint8_t (*pins)[TLS_PIN_SIZE] = out;
	struct snp_err why;

	if (tls_pin_parse(item, pins[i], &why))
		return value_errf(c, "%s", why.msg);
	return 0;
}

static int p_pin(struct agent_settings *s, const struct setting *k, const struct value_ctx *c)
{
	uint8_t pin[1][TLS_PIN_SIZE];
	int ret = pin_item(c, c->value, 0, pin);

	(void)k;
	if (!ret)
		memcpy(s->server_pin, pin[0], sizeof(pin[0]));
	return ret;
}

/* Numeric only: in the initrd there may be no resolver, and nothing may wait on one. */
static int p_address(struct agent_settings *s, const struct setting *k,
		     const struct value_ctx *c)
{
	struct in6_addr addr;

	if (strlen(c->value) >= k->size ||
	    (inet_pton(AF_INET, c->value, &addr) != 1 && inet_pton(AF_INET6, c->value, &addr) != 1))
		return value_errf(c, "'%s' is not a numeric IPv4 or IPv6 address%s", c->shown,
				  c->value[0] == '[' ? " (write IPv6 without brackets)" : "");
	memcpy(field(s, k), c->value, strlen(c->value) + 1);
	return 0;
}

static int p_provider(struct agent_settings *s, const struct setting *k,
		      const struct value_ctx *c)
{
	enum snp_provider provider;

	(void)k;
	if (snp_provider_from_name(c->value, &provider))
		return value_errf(c, "'%s' is not auto, configfs, ioctl or sim", c->shown);
	s->provider = provider;
	return 0;
}

static int p_sim(struct agent_settings *s, const struct setting *k, const struct value_ctx *c)
{
	struct snp_sim_addr addr;
	struct snp_err why;

	if (strlen(c->value) >= k->size)
		return value_errf(c, "'%s' is longer than %zu bytes", c->shown, k->size - 1);
	if (snp_sim_addr_parse(c->value, &addr, &why))
		return value_errf(c, "%s", why.msg);
	memcpy(field(s, k), c->value, strlen(c->value) + 1);
	return 0;
}

/* Decimal digits only, within the row's range, into a uint32_t. */
static int p_number(struct agent_settings *s, const struct setting *k,
		    const struct value_ctx *c)
{
	size_t digits = strspn(c->value, "0123456789");
	int64_t v = 0;
	uint32_t u;

	if (!digits || c->value[digits])
		return value_errf(c, "'%s' is not a number", c->shown);
	for (size_t i = 0; i < digits && v <= k->max; i++)
		v = v * 10 + (c->value[i] - '0');
	if (v < k->min || v > k->max)
		return value_errf(c, "%s is outside %lld to %lld", c->shown, (long long)k->min,
				  (long long)k->max);
	u = (uint32_t)v;
	memcpy(field(s, k), &u, sizeof(u));
	return 0;
}

static int p_duration(struct agent_settings *s, const struct setting *k,
		      const struct value_ctx *c)
{
	char lo[32], hi[32];
	int64_t ms;
	int ret = snp_duration_parse(c->value, k->min, k->max, &ms), v;

	if (ret == -ERANGE)
		return value_errf(c, "%s is outside %s to %s", c->shown,
				  snp_duration_text(lo, sizeof(lo), k->min),
				  snp_duration_text(hi, sizeof(hi), k->max));
	if (ret)
		return value_errf(c, "'%s' is not a duration (a number, then ms, s, m or h)",
				  c->shown);
	v = (int)ms;
	memcpy(field(s, k), &v, sizeof(v));
	return 0;
}

/* One of the row's names: its index into a bool or an int-sized enum. */
static int p_choice(struct agent_settings *s, const struct setting *k,
		    const struct value_ctx *c)
{
	char names[128] = "";

	for (int i = 0; k->choices[i]; i++) {
		if (!strcmp(c->value, k->choices[i])) {
			if (k->size == sizeof(bool))
				*(bool *)field(s, k) = i;
			else
				memcpy(field(s, k), &i, sizeof(i));
			return 0;
		}
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 i ? (k->choices[i + 1] ? ", " : " or ") : "", k->choices[i]);
	}
	return value_errf(c, "'%s' is not %s", c->shown, names);
}

static int p_name(struct agent_settings *s, const struct setting *k, const struct value_ctx *c)
{
	struct snp_err why;

	if (strlen(c->value) >= k->size)
		return value_errf(c, "'%s' is longer than %zu bytes", c->shown, k->size - 1);
	if (luks_token_check_name(c->value, &why))
		return value_errf(c, "%s", why.msg);
	memcpy(field(s, k), c->value, strlen(c->value) + 1);
	return 0;
}

/* A header UUID in any case, kept in the canonical lowercase form, once. */
static int uuid_item(const struct value_ctx *c, const char *item, size_t i, void *out)
{
	char (*uuids)[sizeof(((struct agent_settings *)0)->uuids[0])] = out;
	struct snp_err why;

	if (proto_volume_canonical(item, uuids[i], &why))
		return value_errf(c, "'%s' holds '%.40s', which is not a UUID (hex digits, hyphens at 8, 13, 18 and 23)",
				  c->shown, item);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(uuids[j], uuids[i]))
			return value_errf(c, "'%s' names %s twice", c->shown, uuids[i]);
	return 0;
}

static int p_log_level(struct agent_settings *s, const struct setting *k,
		       const struct value_ctx *c)
{
	int level = agent_log_level_from_name(c->value);

	(void)k;
	if (level < 0)
		return value_errf(c, "'%s' is not err, warning, notice, info or debug", c->shown);
	s->log_level = level;
	return 0;
}

static const char *const on_failure_names[] = {
	[AGENT_FALLBACK] = "fallback", [AGENT_POWEROFF] = "poweroff", NULL,
};
static const char *const enable_names[] = { "0", "1", NULL };

#define FIELD(f)	.off = offsetof(struct agent_settings, f), \
			.size = sizeof(((struct agent_settings *)0)->f)
#define LIST(f, n)	FIELD(f), .count_off = offsetof(struct agent_settings, n)
#define DURATION(k, f, lo, hi) \
	[k] = { .name = #f, .parse = p_duration, FIELD(f##_ms), .min = lo, .max = hi }

static const struct setting settings[] = {
	[AS_BROKER] = { "broker", p_brokers, LIST(brokers, n_brokers) },
	[AS_CA] = { "ca", p_path, FIELD(ca_file), .may_be_empty = true },
	[AS_CA_PIN] = { "ca_pin", p_list, LIST(ca_pins, n_ca_pins), .max = LUKS_TOKEN_CA_PINS_MAX,
			.item = pin_item, .what = "pins" },
	[AS_PIN] = { "pin", p_pin, FIELD(server_pin) },
	[AS_CONNECT_TO] = { "connect_to", p_address, FIELD(connect_to) },
	[AS_PROVIDER] = { "provider", p_provider, FIELD(provider) },
	[AS_SIM] = { "sim", p_sim, FIELD(sim_addr) },
	[AS_VMPL] = { "vmpl", p_number, FIELD(vmpl), .min = 0, .max = SNP_VMPL_MAX },
	DURATION(AS_DEADLINE, deadline, MS_PER_S, 24 * MS_PER_HOUR),
	DURATION(AS_ATTEMPT_TIMEOUT, attempt_timeout, 100, 10 * MS_PER_MIN),
	DURATION(AS_DEVICE_TIMEOUT, device_timeout, 0, MS_PER_HOUR),
	DURATION(AS_BACKOFF, backoff, 10, 10 * MS_PER_MIN),
	DURATION(AS_BACKOFF_MAX, backoff_max, 10, MS_PER_HOUR),
	[AS_ON_FAILURE] = { "on_failure", p_choice, FIELD(on_failure),
			    .choices = on_failure_names },
	[AS_NAME] = { "name", p_name, FIELD(name) },
	[AS_UUID] = { "uuid", p_list, LIST(uuids, n_uuids), .max = AGENT_UUIDS_MAX,
		      .item = uuid_item, .what = "UUIDs" },
	[AS_ENABLE] = { "enable", p_choice, FIELD(enable), .choices = enable_names },
	[AS_LOG_LEVEL] = { "log_level", p_log_level, FIELD(log_level) },
};

_Static_assert(sizeof(settings) / sizeof(settings[0]) == AS_COUNT,
	       "one row per enum agent_setting");
_Static_assert(sizeof(((struct agent_settings *)0)->uuids) <= LIST_FIELD_MAX &&
	       sizeof(((struct agent_settings *)0)->ca_pins) <= LIST_FIELD_MAX,
	       "p_list's scratch holds each list it reads");
_Static_assert(AS_COUNT <= 32, "the set mask is a uint32_t");

/* What agent_settings_defaults does not set. */
#define UNSET_BY_DEFAULT	((1u << AS_PIN) | (1u << AS_CONNECT_TO) | (1u << AS_SIM) | \
				 (1u << AS_NAME) | (1u << AS_UUID) | (1u << AS_BROKER) | \
				 (1u << AS_CA_PIN))
#define ALL_SETTINGS		((1u << AS_COUNT) - 1)

const char *agent_setting_name(enum agent_setting k)
{
	return (unsigned int)k < AS_COUNT ? settings[k].name : "?";
}

static int setting_index(const char *key)
{
	for (int i = 0; i < AS_COUNT; i++)
		if (!strcmp(settings[i].name, key))
			return i;
	return -1;
}

void agent_settings_clear(struct agent_settings *s)
{
	memset(s, 0, sizeof(*s));
}

void agent_settings_defaults(struct agent_settings *s)
{
	agent_settings_clear(s);
	snprintf(s->ca_file, sizeof(s->ca_file), "%s", AGENT_CA_FILE);
	s->provider = SNP_PROVIDER_AUTO;
	s->vmpl = 0;
	s->deadline_ms = 120 * MS_PER_S;
	s->attempt_timeout_ms = 15 * MS_PER_S;
	s->device_timeout_ms = 30 * MS_PER_S;
	s->backoff_ms = 1 * MS_PER_S;
	s->backoff_max_ms = 16 * MS_PER_S;
	s->on_failure = AGENT_FALLBACK;
	s->enable = true;
	s->log_level = LOG_INFO;
	s->set = ALL_SETTINGS & ~UNSET_BY_DEFAULT;
}

int agent_settings_set(struct agent_settings *s, const char *key, const char *value,
		       const char *where, struct snp_err *err)
{
	char key_shown[SHOWN_MAX + 4], value_shown[SHOWN_MAX + 4];
	struct value_ctx c = {
		.where = where ? where : "settings",
		.value = value,
		.shown = shown(value_shown, value),
		.err = err,
	};
	int i = setting_index(key), ret;

	if (i < 0)
		return snp_errf(err, -EINVAL, "%s: unknown key '%s'", c.where,
				shown(key_shown, key));
	c.key = settings[i].name;
	if (!*value && !settings[i].may_be_empty)
		return value_errf(&c, "no value");
	ret = settings[i].parse(s, &settings[i], &c);
	if (!ret)
		s->set |= 1u << i;
	return ret;
}

/* ---- The file ------------------------------------------------------------ */

/* The text between start and end without the blanks around it, NUL-terminated. */
static char *strip(char *start, char *end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return start;
}

/* Where a line is: for "FILE:LINE: ...". */
struct line_ctx {
	const char *file;
	unsigned int line;
	unsigned int seen[AS_COUNT];	/* the line each key was set on, 0: not yet */
	struct snp_err *err;
};

static int parse_line(struct agent_settings *s, char *line, size_t len, struct line_ctx *l)
{
	char *text = strip(line, line + len), *eq, *key, *value;
	char where[WHERE_MAX], sh[SHOWN_MAX + 4];
	int i;

	snprintf(where, sizeof(where), "%s:%u", l->file, l->line);
	if (!*text || *text == '#')
		return 0;
	eq = strchr(text, '=');
	if (!eq || eq == text)
		return snp_errf(l->err, -EINVAL, "%s: '%s' is not 'key = value'", where,
				shown(sh, text));
	/* The value first: stripping the key writes a NUL at eq. */
	value = strip(eq + 1, eq + strlen(eq));
	key = strip(text, eq);
	i = setting_index(key);
	if (i >= 0 && l->seen[i])
		return snp_errf(l->err, -EINVAL, "%s: %s: already set on line %u", where, key,
				l->seen[i]);
	if (i >= 0 && (*value == '"' || *value == '\''))
		return snp_errf(l->err, -EINVAL,
				"%s: %s: quotes are not supported; write the value without them",
				where, key);
	if (i >= 0)
		l->seen[i] = l->line;
	return agent_settings_set(s, key, value, where, l->err);
}

int agent_settings_parse_file(struct agent_settings *s, const char *text, size_t len,
			      const char *name, struct snp_err *err)
{
	struct line_ctx l = { .file = name, .err = err };
	const char *nul = memchr(text, '\0', len);
	char *line = NULL;
	size_t pos = 0;
	int ret = 0;

	if (len > AGENT_CONFIG_FILE_MAX)
		return snp_errf(err, -EINVAL, "%s: %zu bytes; a configuration file is at most %d",
				name, len, AGENT_CONFIG_FILE_MAX);
	if (nul)
		return snp_errf(err, -EINVAL, "%s: a NUL byte at offset %zu; not a text file",
				name, (size_t)(nul - text));
	line = malloc(CONFIG_LINE_MAX + 1);
	if (!line)
		return snp_errf(err, -ENOMEM, "%s: out of memory", name);
	/* Past a bad line, the good ones still count (see the header). */
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text) - pos : len - pos;
		struct snp_err line_err = { 0 };
		int r;

		l.line++;
		l.err = &line_err;
		if (n > CONFIG_LINE_MAX) {
			r = snp_errf(&line_err, -EINVAL, "%s:%u: longer than %d bytes", name,
				     l.line, CONFIG_LINE_MAX);
		} else {
			memcpy(line, text + pos, n);
			r = parse_line(s, line, n, &l);
		}
		if (r && !ret) {
			ret = r;
			*err = line_err;
		}
		pos += n + 1;
	}
	free(line);
	return ret;
}

/* Read a whole file of at most max bytes, then parse it. */
static int load(struct agent_settings *s, const char *path, size_t max,
		int (*parse)(struct agent_settings *s, const char *text, size_t len,
			     const char *name, struct snp_err *err),
		struct snp_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = snp_read_file(path, max, &buf, &len, err);
	if (!ret)
		ret = parse(s, (const char *)buf, len, path, err);
	free(buf);
	return ret;
}

int agent_settings_load_file(struct agent_settings *s, const char *path, struct snp_err *err)
{
	return load(s, path, AGENT_CONFIG_FILE_MAX, agent_settings_parse_file, err);
}

/* ---- The kernel command line ---------------------------------------------- */

/* The kernel's isspace (lib/ctype.c) for the ASCII the command line is. */
static bool cmdline_space(char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

static char *skip_spaces(char *p)
{
	while (cmdline_space(*p))
		p++;
	return p;
}

/*
 * One word, as the kernel's next_arg (lib/cmdline.c, kernel/params.c)
 * splits it: blanks inside double quotes do not end a word, the first '='
 * (not at the start) splits it into param and value, and a value or a
 * whole word in quotes loses them ("rd.snp_unseal.broker=a b" and
 * rd.snp_unseal.broker="a b" both give the value a b). *val is NULL when
 * there is no '='. Returns where the next word starts.
 */
static char *next_word(char *args, char **param, char **val)
{
	size_t i, equals = 0;
	bool in_quote = false, quoted = false;

	if (*args == '"') {
		args++;
		in_quote = quoted = true;
	}
	for (i = 0; args[i]; i++) {
		if (cmdline_space(args[i]) && !in_quote)
			break;
		if (!equals && args[i] == '=')
			equals = i;
		if (args[i] == '"')
			in_quote = !in_quote;
	}
	*param = args;
	*val = NULL;
	if (equals) {
		args[equals] = '\0';
		*val = args + equals + 1;
		if (**val == '"') {
			(*val)++;
			if (args[i - 1] == '"')
				args[i - 1] = '\0';
		}
	}
	if (quoted && i > 0 && args[i - 1] == '"')
		args[i - 1] = '\0';
	if (args[i])
		args[i++] = '\0';
	return skip_spaces(args + i);
}

/*
 * One word: ours or ignored. A key given twice is not refused here: the
 * last one wins, as the kernel and every initrd tool read repeated
 * parameters (a boot loader's entry appended to by hand must work).
 */
static int cmdline_word(struct agent_settings *s, const char *param, const char *val,
			struct snp_err *err)
{
	const size_t prefix = strlen(AGENT_CMDLINE_PREFIX);
	const char *key;
	char sh[SHOWN_MAX + 4];

	if (!strcmp(param, CMDLINE_ENABLE))
		key = agent_setting_name(AS_ENABLE);
	else if (!strncmp(param, AGENT_CMDLINE_PREFIX, prefix))
		key = param + prefix;
	else
		return 0;
	if (!val)
		return snp_errf(err, -EINVAL, CMDLINE_WHERE ": '%s' has no value (write %s=VALUE)",
				shown(sh, param), shown(sh, param));
	return agent_settings_set(s, key, val, CMDLINE_WHERE, err);
}

int agent_settings_parse_cmdline(struct agent_settings *s, const char *text, size_t len,
				 struct snp_err *err)
{
	char *copy, *p, *param, *val;
	int ret = 0;

	if (len > AGENT_CMDLINE_MAX)
		return snp_errf(err, -EINVAL, CMDLINE_WHERE ": %zu bytes, more than %d", len,
				AGENT_CMDLINE_MAX);
	if (memchr(text, '\0', len))
		return snp_errf(err, -EINVAL, CMDLINE_WHERE ": a NUL byte at offset %zu",
				(size_t)((const char *)memchr(text, '\0', len) - text));
	copy = malloc(len + 1);
	if (!copy)
		return snp_errf(err, -ENOMEM, CMDLINE_WHERE ": out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	/* Past a bad word, the good ones still count (see the header). */
	for (p = skip_spaces(copy); *p;) {
		struct snp_err word_err = { 0 };
		int r;

		p = next_word(p, &param, &val);
		r = cmdline_word(s, param, val, &word_err);
		if (r && !ret) {
			ret = r;
			*err = word_err;
		}
	}
	free(copy);
	return ret;
}

/* The name is for messages from the file's reading only: the parser says where itself. */
static int parse_cmdline_named(struct agent_settings *s, const char *text, size_t len,
			       const char *name, struct snp_err *err)
{
	(void)name;
	return agent_settings_parse_cmdline(s, text, len, err);
}

int agent_settings_load_cmdline(struct agent_settings *s, const char *path, struct snp_err *err)
{
	return load(s, path, AGENT_CMDLINE_MAX, parse_cmdline_named, err);
}

/* ---- Layers --------------------------------------------------------------- */

void agent_settings_from_token(struct agent_settings *s, const struct luks_token *t)
{
	size_t n_brokers = t->n_brokers < LUKS_TOKEN_BROKERS_MAX ? t->n_brokers :
				LUKS_TOKEN_BROKERS_MAX;
	size_t n_pins = t->n_ca_pins < LUKS_TOKEN_CA_PINS_MAX ? t->n_ca_pins :
				LUKS_TOKEN_CA_PINS_MAX;

	if (n_brokers) {
		memcpy(s->brokers, t->brokers, sizeof(s->brokers));
		s->n_brokers = n_brokers;
		s->set |= 1u << AS_BROKER;
	}
	if (n_pins) {
		memcpy(s->ca_pins, t->ca_pins, sizeof(s->ca_pins));
		s->n_ca_pins = n_pins;
		s->set |= 1u << AS_CA_PIN;
	}
	if (t->has_server_pin) {
		memcpy(s->server_pin, t->server_pin, sizeof(s->server_pin));
		s->set |= 1u << AS_PIN;
	}
	if (t->name[0]) {
		snprintf(s->name, sizeof(s->name), "%.*s", (int)sizeof(t->name) - 1, t->name);
		s->set |= 1u << AS_NAME;
	}
}

void agent_settings_overlay(struct agent_settings *dst, const struct agent_settings *src)
{
	for (int i = 0; i < AS_COUNT; i++) {
		const struct setting *k = &settings[i];

		if (!agent_is_set(src, (enum agent_setting)i))
			continue;
		memcpy((char *)dst + k->off, (const char *)src + k->off, k->size);
		if (k->count_off)
			memcpy((char *)dst + k->count_off, (const char *)src + k->count_off,
			       sizeof(size_t));
		dst->set |= 1u << i;
	}
}

/* ---- The final check ----------------------------------------------------- */

static int check_durations(const struct agent_settings *s, struct snp_err *err)
{
	char a[32], b[32];

	if (s->backoff_ms > s->backoff_max_ms)
		return snp_errf(err, -EINVAL, "backoff (%s) is longer than backoff_max (%s)",
				snp_duration_text(a, sizeof(a), s->backoff_ms),
				snp_duration_text(b, sizeof(b), s->backoff_max_ms));
	if (s->attempt_timeout_ms > s->deadline_ms)
		return snp_errf(err, -EINVAL,
				"attempt_timeout (%s) is longer than deadline (%s): no attempt could use it",
				snp_duration_text(a, sizeof(a), s->attempt_timeout_ms),
				snp_duration_text(b, sizeof(b), s->deadline_ms));
	return 0;
}

int agent_settings_check(const struct agent_settings *s, struct snp_err *err)
{
	uint32_t missing = ALL_SETTINGS & ~UNSET_BY_DEFAULT & ~s->set;

	if (missing)
		return snp_errf(err, -EINVAL, "%s is not set (and has no default here)",
				agent_setting_name((enum agent_setting)__builtin_ctz(missing)));
	if (!agent_is_set(s, AS_BROKER) || !s->n_brokers)
		return snp_errf(err, -EINVAL,
				"no broker: the token names none and broker is not set");
	if (!s->ca_file[0] && !agent_is_set(s, AS_PIN))
		return snp_errf(err, -EINVAL,
				"no CA bundle (ca) and no server pin (pin): nothing to authenticate the broker with");
	if (agent_is_set(s, AS_SIM) && s->provider != SNP_PROVIDER_SIM)
		return snp_errf(err, -EINVAL,
				"sim is set but provider is %s: the simulator is used only with provider sim",
				snp_provider_name(s->provider));
	if (s->provider == SNP_PROVIDER_SIM && (!agent_is_set(s, AS_SIM) || !s->sim_addr[0]))
		return snp_errf(err, -EINVAL, "provider sim needs sim, the simulator's address");
	return check_durations(s, err);
}
