// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks/crypttab.h: every way crypttab names our volume gives its name;
 * other volumes, unresolvable sources, comments and one-field lines do
 * not; a line naming ours that is malformed, gives a bad name or is the
 * second such line is refused with WHERE:LINE; the bounds hold; the file
 * reader tells a missing file and an oversize one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luks/crypttab.h"
#include "tests/harness.h"

#define UUID		"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"
#define UUID_UPPER	"0F1E2D3C-4B5A-4978-8796-A5B4C3D2E1F0"
#define OTHER_UUID	"11111111-2222-4333-8444-555555555555"
#define DEVICE		"/dev/vda2"

static int name_of(const char *text, char name[LUKS_TOKEN_NAME_MAX], struct snp_err *err)
{
	memset(err, 0, sizeof(*err));
	strcpy(name, "untouched");
	return luks_crypttab_name(text, strlen(text), "ct", UUID, DEVICE, name, err);
}

/* text names the volume "want". */
static void check_named(const char *text, const char *want)
{
	char name[LUKS_TOKEN_NAME_MAX];
	struct snp_err err;

	if (!CHECK(name_of(text, name, &err) == 0))
		fprintf(stderr, "    text: %s    err: %s\n", text, err.msg);
	CHECK_STR(name, want);
}

/* text gives ret with err.msg containing want, and leaves name alone. */
static void check_refused(const char *text, int ret, const char *want)
{
	char name[LUKS_TOKEN_NAME_MAX];
	struct snp_err err;

	if (!CHECK(name_of(text, name, &err) == ret) || !CHECK(strstr(err.msg, want) != NULL))
		fprintf(stderr, "    text: %s    err: %s (want \"%s\")\n", text, err.msg, want);
	CHECK(err.code == ret);
	CHECK_STR(name, "untouched");
}

TEST(luks_crypttab_every_source_form_names_the_volume)
{
	check_named("root UUID=" UUID " none luks\n", "root");
	check_named("root UUID=\"" UUID "\" none luks\n", "root");
	check_named("root UUID='" UUID "' none luks\n", "root");
	check_named("root UUID=" UUID_UPPER " none luks\n", "root");
	check_named("data /dev/disk/by-uuid/" UUID "\n", "data");
	check_named("data /dev/disk/by-uuid/" UUID_UPPER " /key\n", "data");
	check_named("vol " DEVICE " none luks,discard\n", "vol");
	/* Two fields, no newline at the end. */
	check_named("luks-" UUID " UUID=" UUID, "luks-" UUID);
}

TEST(luks_crypttab_other_volumes_do_not_match)
{
	char name[LUKS_TOKEN_NAME_MAX];
	struct snp_err err;
	static const char *const texts[] = {
		"a UUID=" OTHER_UUID " none luks\n",
		"a UUID=" UUID "0 none\n",		/* longer */
		"a UUID=0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f none\n",	/* shorter */
		"a uuid=" UUID " none\n",		/* the keyword is upper case */
		"a PARTUUID=" UUID " none\n",		/* cannot be resolved here */
		"a LABEL=" UUID " none\n",
		"a /dev/disk/by-partuuid/" UUID " none\n",
		"a /dev/disk/by-uuid/" OTHER_UUID "\n",
		"a /dev/vda22 none\n",			/* not our device path */
		"a /dev/vda none\n",
		"UUID=" UUID "\n",			/* one field: no source */
		"",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!CHECK(name_of(texts[i], name, &err) == -ENOENT))
			fprintf(stderr, "    text: %s    err: %s\n", texts[i], err.msg);
		CHECK(err.code == -ENOENT);
		CHECK(strstr(err.msg, "ct: no line names the volume UUID=" UUID) != NULL);
		CHECK_STR(name, "untouched");
	}
	/* Without a device path only the UUID forms match. */
	CHECK(luks_crypttab_name("vol " DEVICE "\n", 12, "ct", UUID, NULL, name, &err) ==
	      -ENOENT);
	CHECK(luks_crypttab_name("vol " DEVICE "\n", 12, "ct", UUID, "", name, &err) ==
	      -ENOENT);
}

TEST(luks_crypttab_comments_blank_lines_and_tabs)
{
	check_named("# <target name>\t<source device>\t<key file>\t<options>\n"
		    "\n"
		    "   \t\n"
		    "#root UUID=" UUID " none luks\n"
		    "  # disabled UUID=" UUID "\n"
		    "swap\t/dev/disk/by-partuuid/abc\t/dev/urandom\tswap,cipher=aes-xts-plain64\n"
		    "other UUID=" OTHER_UUID " none luks\n"
		    "\t root \t\tUUID=" UUID "\t none\t luks,discard \t\n"
		    "# the end\n",
		    "root");
	/* CRLF line ends. */
	check_named("# windows\r\nroot UUID=" UUID "\r\n", "root");
	/* Malformed lines that do not name our volume are not ours to refuse. */
	check_named("x UUID=\"" OTHER_UUID " none\n"
		    "y UUID=" OTHER_UUID " a b c d e\n"
		    "../.. UUID=" OTHER_UUID "\n"
		    "lonely\n"
		    "root UUID=" UUID "\n",
		    "root");
}

TEST(luks_crypttab_two_lines_naming_the_volume_are_ambiguous)
{
	check_refused("# header\n"
		      "root UUID=" UUID " none luks\n"
		      "other UUID=" OTHER_UUID "\n"
		      "data /dev/disk/by-uuid/" UUID "\n",
		      -EINVAL, "ct:2 and ct:4 both name the volume UUID=" UUID);
	/* Even under the same name: the initrd would open it twice. */
	check_refused("root UUID=" UUID "\nroot " DEVICE "\n", -EINVAL,
		      "ct:1 and ct:2 both name");
}

TEST(luks_crypttab_a_malformed_line_naming_the_volume_is_refused)
{
	check_refused("# x\n\nroot UUID=" UUID " none luks extra\n", -EINVAL,
		      "ct:3: the line for the volume UUID=" UUID " has more than 4 fields");
	check_refused("root UUID=\"" UUID " none\n", -EINVAL,
		      "ct:1: the source of the volume UUID=" UUID " has unbalanced quotes");
	check_refused("a b\nroot UUID=" UUID "' none\n", -EINVAL, "ct:2: the source");
	check_refused("root UUID=\"" UUID "' none\n", -EINVAL, "unbalanced quotes");
}

TEST(luks_crypttab_names_device_mapper_refuses)
{
	char line[LUKS_TOKEN_NAME_MAX + 64];
	char long_name[LUKS_TOKEN_NAME_MAX + 1];

	check_refused("\n.. UUID=" UUID "\n", -EINVAL,
		      "ct:2: the name for the volume UUID=" UUID " is not a device-mapper name: ");
	check_refused(". UUID=" UUID "\n", -EINVAL, "\".\" is not a device-mapper name");
	check_refused("a/b UUID=" UUID "\n", -EINVAL, "\"a/b\" holds a '/'");
	check_refused("r\xc3\xa9seau UUID=" UUID "\n", -EINVAL, "\"r??seau\" holds");
	check_refused("a\x01 UUID=" UUID "\n", -EINVAL, "not printable ASCII");

	/* 127 bytes is device-mapper's longest name; 128 is one too many. */
	memset(long_name, 'n', LUKS_TOKEN_NAME_MAX - 1);
	long_name[LUKS_TOKEN_NAME_MAX - 1] = '\0';
	snprintf(line, sizeof(line), "%s UUID=%s\n", long_name, UUID);
	check_named(line, long_name);
	snprintf(line, sizeof(line), "%sn UUID=%s\n", long_name, UUID);
	check_refused(line, -EINVAL, "is 128 bytes, more than device-mapper's 127");
}

TEST(luks_crypttab_bounds_and_nul_bytes)
{
	static const char with_nul[] = "# a\nroot UUID=" UUID " no\0ne\n";
	char name[LUKS_TOKEN_NAME_MAX];
	struct snp_err err = { 0 };
	size_t max_line = LUKS_CRYPTTAB_LINE_MAX;
	char *text = malloc(LUKS_CRYPTTAB_MAX + 2);
	int pos;

	REQUIRE(text);
	/* A NUL byte anywhere, even in a line that is not ours. */
	CHECK(luks_crypttab_name(with_nul, sizeof(with_nul) - 1, "ct", UUID, NULL, name, &err) ==
	      -EINVAL);
	CHECK(strstr(err.msg, "ct:2: the line holds a NUL byte") != NULL);
	CHECK(luks_crypttab_name("x\0", 2, "ct", UUID, NULL, name, &err) == -EINVAL);

	/* A comment line of exactly LINE_MAX bytes, then ours. */
	memset(text, '#', max_line);
	pos = snprintf(text + max_line, 64, "\nroot UUID=%s\n", UUID);
	CHECK(luks_crypttab_name(text, max_line + (size_t)pos, "ct", UUID, NULL, name, &err) == 0);
	CHECK_STR(name, "root");
	/* One more byte in the comment. */
	memset(text, '#', max_line + 1);
	pos = snprintf(text + max_line + 1, 64, "\nroot UUID=%s\n", UUID);
	CHECK(luks_crypttab_name(text, max_line + 1 + (size_t)pos, "ct", UUID, NULL, name,
				 &err) == -E2BIG);
	CHECK(strstr(err.msg, "ct:1: the line is 4097 bytes, more than 4096") != NULL);

	/* The whole text: LUKS_CRYPTTAB_MAX is read, one byte more is not. */
	memset(text, '\n', LUKS_CRYPTTAB_MAX + 1);
	memcpy(text, "root UUID=" UUID, strlen("root UUID=" UUID));
	CHECK(luks_crypttab_name(text, LUKS_CRYPTTAB_MAX, "ct", UUID, NULL, name, &err) == 0);
	CHECK(luks_crypttab_name(text, LUKS_CRYPTTAB_MAX + 1, "ct", UUID, NULL, name, &err) ==
	      -E2BIG);
	CHECK(err.code == -E2BIG);
	free(text);

	/* No UUID to look for is the caller's mistake, not a match of "UUID=". */
	CHECK(luks_crypttab_name("a UUID=\n", 8, "ct", "", NULL, name, &err) == -EINVAL);
}

/* The file ------------------------------------------------------------------ */

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	REQUIRE(f);
	CHECK(fwrite(text, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

TEST(luks_crypttab_lookup_reads_the_file)
{
	static const char text[] = "# crypttab\nroot UUID=" UUID " none luks\n";
	char name[LUKS_TOKEN_NAME_MAX] = "untouched";
	char path[4096];
	struct snp_err err = { 0 };

	snprintf(path, sizeof(path), "%s", test_path("crypttab"));
	write_file(path, text, strlen(text));
	CHECK(luks_crypttab_lookup(path, UUID, NULL, name, &err) == 0);
	CHECK_STR(name, "root");
	CHECK(luks_crypttab_lookup(path, OTHER_UUID, NULL, name, &err) == -ENOENT);
	CHECK(strstr(err.msg, "crypttab: no line names the volume UUID=" OTHER_UUID) != NULL);

	/* Errors say the file's name and the line. */
	write_file(path, "a b\nx/y " DEVICE "\n", strlen("a b\nx/y " DEVICE "\n"));
	CHECK(luks_crypttab_lookup(path, UUID, DEVICE, name, &err) == -EINVAL);
	CHECK(strncmp(err.msg, path, strlen(path)) == 0);
	CHECK(strstr(err.msg, "crypttab:2: the name") != NULL);
}

TEST(luks_crypttab_lookup_missing_and_oversize_files)
{
	char name[LUKS_TOKEN_NAME_MAX] = "untouched";
	char path[4096];
	struct snp_err err = { 0 };
	char *big = malloc(LUKS_CRYPTTAB_MAX + 1);

	REQUIRE(big);
	snprintf(path, sizeof(path), "%s", test_path("absent"));
	CHECK(luks_crypttab_lookup(path, UUID, NULL, name, &err) == -ENOENT);
	CHECK(err.code == -ENOENT);
	CHECK(strstr(err.msg, "absent") != NULL);

	snprintf(path, sizeof(path), "%s", test_path("big"));
	memset(big, '#', LUKS_CRYPTTAB_MAX + 1);
	write_file(path, big, LUKS_CRYPTTAB_MAX + 1);
	CHECK(luks_crypttab_lookup(path, UUID, NULL, name, &err) == -E2BIG);
	CHECK(err.code == -E2BIG);
	CHECK(strstr(err.msg, "more than 65536 bytes") != NULL);
	CHECK_STR(name, "untouched");
	free(big);
}
