// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crypttab(5) (luks/crypttab.h): which mapping name the initrd's own
 * unlockers expect for our volume. The file is the image builder's and
 * read as root, but a wrong answer opens the volume under a name nothing
 * else looks for, so a line that names our volume is taken whole or
 * refused, and two such lines are refused rather than one guessed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "luks/crypttab.h"
#include "snp/fdio.h"

#define FIELDS_MAX		4	/* name source keyfile options */
#define UUID_PREFIX		"UUID="
#define BY_UUID_PREFIX		"/dev/disk/by-uuid/"

struct field {
	const char *text;
	size_t len;
};

/* Where the scan is, and what it found so far. */
struct scan {
	const char *where;
	const char *uuid;
	const char *device_path;	/* NULL or "": none */
	size_t line;			/* the current line's number, from 1 */
	size_t found_line;		/* the line that named the volume; 0: none yet */
	char name[LUKS_TOKEN_NAME_MAX];
};

static int line_errf(const struct scan *sc, struct snp_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* code with "WHERE:LINE: why". */
static int line_errf(const struct scan *sc, struct snp_err *err, int code, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return snp_errf(err, code, "%s:%zu: %s", sc->where, sc->line, why);
}

/* systemd's separators; '\r' also lets a file with CRLF line ends read as meant. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_quote(char c)
{
	return c == '"' || c == '\'';
}

/* Up to FIELDS_MAX + 1 fields of s[0..len): FIELDS_MAX + 1 means "too many". */
static size_t split_fields(const char *s, size_t len, struct field f[FIELDS_MAX + 1])
{
	size_t n = 0, i = 0, start;

	while (n <= FIELDS_MAX) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_blank(s[i]))
			i++;
		f[n++] = (struct field){ s + start, i - start };
	}
	return n;
}

/* Drop prefix from the front of f, when it is there. */
static bool take_prefix(struct field *f, const char *prefix)
{
	size_t n = strlen(prefix);

	if (f->len < n || memcmp(f->text, prefix, n))
		return false;
	f->text += n;
	f->len -= n;
	return true;
}

/* The header UUID in hex of either case (blkid writes lowercase, people may not). */
static bool uuid_equal(const struct field *f, const char *uuid)
{
	return f->len == strlen(uuid) && !strncasecmp(f->text, uuid, f->len);
}

/* UUID=<value>, the value maybe quoted: 1 ours, 0 not, -EINVAL ours with unbalanced quotes. */
static int uuid_value_matches(const struct scan *sc, struct field v, struct snp_err *err)
{
	char first = v.len ? v.text[0] : '\0', last = v.len ? v.text[v.len - 1] : '\0';
	bool open = is_quote(first), close = v.len > open && is_quote(last);
	struct field inner = { v.text + open, v.len - open - close };

	if (!uuid_equal(&inner, sc->uuid))
		return 0;
	if (open != close || (open && first != last))
		return line_errf(sc, err, -EINVAL,
				 "the source of the volume UUID=%.40s has unbalanced quotes",
				 sc->uuid);
	return 1;
}

/* 1 when the source field names our volume, 0 when not, -EINVAL when malformed. */
static int source_matches(const struct scan *sc, struct field src, struct snp_err *err)
{
	if (take_prefix(&src, UUID_PREFIX))
		return uuid_value_matches(sc, src, err);
	if (take_prefix(&src, BY_UUID_PREFIX))
		return uuid_equal(&src, sc->uuid);
	return sc->device_path && sc->device_path[0] && src.len == strlen(sc->device_path) &&
	       !memcmp(src.text, sc->device_path, src.len);
}

/* A name device-mapper takes: the token's own check of its "name". */
static int check_name(const struct scan *sc, struct field name, struct snp_err *err)
{
	char text[LUKS_TOKEN_NAME_MAX];
	struct snp_err why = { 0 };

	if (name.len >= LUKS_TOKEN_NAME_MAX)
		return line_errf(sc, err, -EINVAL,
				 "the name for the volume UUID=%.40s is %zu bytes, more than device-mapper's %d",
				 sc->uuid, name.len, LUKS_TOKEN_NAME_MAX - 1);
	memcpy(text, name.text, name.len);
	text[name.len] = '\0';
	if (!luks_token_check_name(text, &why))
		return 0;
	return line_errf(sc, err, -EINVAL,
			 "the name for the volume UUID=%.40s is not a device-mapper name: %s",
			 sc->uuid, why.msg);
}

/* One line, without its newline. */
static int scan_line(struct scan *sc, const char *s, size_t len, struct snp_err *err)
{
	struct field f[FIELDS_MAX + 1];
	size_t n;
	int ret;

	if (len > LUKS_CRYPTTAB_LINE_MAX)
		return line_errf(sc, err, -E2BIG, "the line is %zu bytes, more than %d", len,
				 LUKS_CRYPTTAB_LINE_MAX);
	if (memchr(s, '\0', len))
		return line_errf(sc, err, -EINVAL, "the line holds a NUL byte");
	n = split_fields(s, len, f);
	if (n < 2 || f[0].text[0] == '#')
		return 0;
	ret = source_matches(sc, f[1], err);
	if (ret <= 0)
		return ret;
	if (sc->found_line)
		return snp_errf(err, -EINVAL,
				"%s:%zu and %s:%zu both name the volume UUID=%.40s: which name is meant is ambiguous",
				sc->where, sc->found_line, sc->where, sc->line, sc->uuid);
	if (n > FIELDS_MAX)
		return line_errf(sc, err, -EINVAL,
				 "the line for the volume UUID=%.40s has more than %d fields (name source keyfile options)",
				 sc->uuid, FIELDS_MAX);
	ret = check_name(sc, f[0], err);
	if (ret)
		return ret;
	memcpy(sc->name, f[0].text, f[0].len);
	sc->name[f[0].len] = '\0';
	sc->found_line = sc->line;
	return 0;
}

int luks_crypttab_name(const char *text, size_t len, const char *where, const char *uuid,
		       const char *device_path, char name[LUKS_TOKEN_NAME_MAX],
		       struct snp_err *err)
{
	struct scan sc = { .where = where ? where : "crypttab", .uuid = uuid,
			   .device_path = device_path };
	const char *newline;
	size_t off = 0, end;
	int ret = 0;

	if (!uuid || !uuid[0])
		return snp_errf(err, -EINVAL, "%s: no volume UUID to look for", sc.where);
	if (len > LUKS_CRYPTTAB_MAX)
		return snp_errf(err, -E2BIG, "%s: %zu bytes, more than %d", sc.where, len,
				LUKS_CRYPTTAB_MAX);
	for (sc.line = 1; !ret && off < len; sc.line++) {
		newline = memchr(text + off, '\n', len - off);
		end = newline ? (size_t)(newline - text) : len;
		ret = scan_line(&sc, text + off, end - off, err);
		off = end + 1;
	}
	if (ret)
		return ret;
	if (!sc.found_line)
		return snp_errf(err, -ENOENT, "%s: no line names the volume UUID=%.40s", sc.where,
				uuid);
	memcpy(name, sc.name, sizeof(sc.name));
	return 0;
}

int luks_crypttab_lookup(const char *path, const char *uuid, const char *device_path,
			 char name[LUKS_TOKEN_NAME_MAX], struct snp_err *err)
{
	uint8_t *text;
	size_t len;
	int ret;

	ret = snp_read_file(path, LUKS_CRYPTTAB_MAX, &text, &len, err);
	if (ret == -EFBIG)
		return snp_errf(err, -E2BIG, "%s: more than %d bytes, too large for a crypttab",
				path, LUKS_CRYPTTAB_MAX);
	if (ret)
		return ret;
	ret = luks_crypttab_name((const char *)text, len, path, uuid, device_path, name, err);
	free(text);
	return ret;
}
