// SPDX-License-Identifier: GPL-2.0-or-later
/* broker/store.h: the secret store, on real files in the test's directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/store.h"
#include "tests/harness.h"

#define VOL_A	"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
#define VOL_B	"ffffffff-0000-4000-8000-000000000001"
#define POLICY	"{\"version\":1}"

static const char *state(void)
{
	static char dir[4096];

	if (snprintf(dir, sizeof(dir), "%s/state", test_tmpdir()) >= (int)sizeof(dir))
		abort();
	return dir;
}

static const char *state_file(const char *rel)
{
	static char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", state(), rel) >= (int)sizeof(path))
		abort();
	return path;
}

static unsigned int mode_of(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb))
		return 0xffff;
	return sb.st_mode & 07777;
}

static void fill_volume(struct store_volume *v, const char *volume, const char *policy,
			uint8_t fill, size_t len)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->volume, sizeof(v->volume), "%s", volume);
	snprintf(v->policy, sizeof(v->policy), "%s", policy);
	memset(v->secret, fill, len);
	v->secret_len = len;
}

/* A fresh store with policy "p" and volume A (secret 32 x 0xa1). */
static struct store *open_with_volume(void)
{
	struct snp_err err = { 0 };
	struct store_volume v;
	struct store *st;

	if (store_open(&st, state(), true, &err) ||
	    store_policy_put(st, "p", POLICY, strlen(POLICY), &err))
		return NULL;
	fill_volume(&v, VOL_A, "p", 0xa1, 32);
	if (store_volume_add(st, &v, &err)) {
		store_close(st);
		return NULL;
	}
	return st;
}

static void write_text(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

TEST(store_open_makes_private_directories_and_files)
{
	struct store *st = open_with_volume();

	REQUIRE(st);
	CHECK(mode_of(state()) == 0700);
	CHECK(mode_of(state_file("volumes")) == 0700);
	CHECK(mode_of(state_file("policies")) == 0700);
	CHECK(mode_of(state_file("archive")) == 0700);
	CHECK(mode_of(state_file("vcek")) == 0700);
	CHECK(mode_of(state_file("volumes/" VOL_A ".json")) == 0600);
	CHECK(mode_of(state_file("policies/p.json")) == 0600);
	CHECK_STR(store_dir(st), state());
	store_close(st);
}

TEST(store_volume_add_get_list_round_trip)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	struct store_volume v, got;
	uint8_t want[32];
	char **ids;
	size_t n;

	REQUIRE(st);
	memset(want, 0xa1, sizeof(want));
	REQUIRE(store_volume_get(st, VOL_A, &got, &err) == 0);
	CHECK_STR(got.volume, VOL_A);
	CHECK_STR(got.policy, "p");
	CHECK(got.secret_len == 32);
	CHECK_MEM(got.secret, want, sizeof(want));
	CHECK(got.generation == 1);
	CHECK(got.created > 1700000000 && got.updated == got.created);
	store_volume_wipe(&got);

	fill_volume(&v, VOL_B, "p", 0xb2, PROTO_SECRET_MAX);
	CHECK(store_volume_add(st, &v, &err) == 0);
	CHECK(store_volume_get(st, VOL_B, &got, &err) == 0 && got.secret_len == PROTO_SECRET_MAX);
	CHECK_MEM(got.secret, v.secret, PROTO_SECRET_MAX);
	REQUIRE(store_volume_list(st, &ids, &n, &err) == 0);
	REQUIRE(n == 2);
	CHECK_STR(ids[0], VOL_A);
	CHECK_STR(ids[1], VOL_B);
	store_list_free(ids, n);
	store_close(st);
}

TEST(store_volume_add_refusals)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	struct store_volume v, got;

	REQUIRE(st);
	fill_volume(&v, VOL_A, "p", 0x01, 32);
	CHECK(store_volume_add(st, &v, &err) == -EEXIST);
	CHECK(strstr(err.msg, VOL_A) && strstr(err.msg, "exists"));
	/* The refused add left the first secret alone. */
	CHECK(store_volume_get(st, VOL_A, &got, &err) == 0 && got.secret[0] == 0xa1);
	fill_volume(&v, VOL_B, "nope", 0x01, 32);
	CHECK(store_volume_add(st, &v, &err) == -ENOENT);
	CHECK(strstr(err.msg, "no policy 'nope'") != NULL);
	CHECK(store_volume_get(st, VOL_B, &got, &err) == -ENOENT);
	CHECK(strstr(err.msg, VOL_B) != NULL);
	fill_volume(&v, VOL_B, "p", 0x01, PROTO_SECRET_MIN - 1);
	CHECK(store_volume_add(st, &v, &err) == -EINVAL);
	fill_volume(&v, "0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0", "p", 0x01, 32);
	CHECK(store_volume_add(st, &v, &err) == -EINVAL);
	fill_volume(&v, VOL_B, "../p", 0x01, 32);
	CHECK(store_volume_add(st, &v, &err) == -EINVAL);
	CHECK(store_volume_get(st, "../../etc/passwd", &got, &err) == -EINVAL);
	store_close(st);
}

TEST(store_rotate_archives_the_old_record)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	struct store_volume got;
	uint8_t old[32], fresh[48];
	uint64_t *gens;
	size_t n;

	REQUIRE(st);
	memset(old, 0xa1, sizeof(old));
	memset(fresh, 0xc3, sizeof(fresh));
	REQUIRE(store_volume_rotate(st, VOL_A, fresh, sizeof(fresh), &err) == 0);
	REQUIRE(store_volume_get(st, VOL_A, &got, &err) == 0);
	CHECK(got.generation == 2 && got.secret_len == sizeof(fresh));
	CHECK_MEM(got.secret, fresh, sizeof(fresh));
	REQUIRE(store_archive_get(st, VOL_A, 1, &got, &err) == 0);
	CHECK(got.generation == 1 && got.secret_len == sizeof(old));
	CHECK_MEM(got.secret, old, sizeof(old));
	CHECK(mode_of(state_file("archive/" VOL_A ".1.json")) == 0600);
	CHECK(store_archive_get(st, VOL_A, 2, &got, &err) == -ENOENT);
	REQUIRE(store_volume_rotate(st, VOL_A, old, sizeof(old), &err) == 0);
	REQUIRE(store_archive_list(st, VOL_A, &gens, &n, &err) == 0);
	CHECK(n == 2 && gens[0] == 1 && gens[1] == 2);
	free(gens);
	CHECK(store_volume_rotate(st, VOL_B, old, sizeof(old), &err) == -ENOENT);
	CHECK(store_volume_rotate(st, VOL_A, old, PROTO_SECRET_MAX + 1, &err) == -EINVAL);
	store_volume_wipe(&got);
	store_close(st);
}

TEST(store_remove_archives_then_purge_deletes)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	struct store_volume v, got;
	size_t purged, n;
	char **ids;

	REQUIRE(st);
	CHECK(store_volume_purge(st, VOL_A, &purged, &err) == -EBUSY);
	REQUIRE(store_volume_remove(st, VOL_A, &err) == 0);
	CHECK(store_volume_get(st, VOL_A, &got, &err) == -ENOENT);
	CHECK(store_volume_remove(st, VOL_A, &err) == -ENOENT);
	REQUIRE(store_volume_list(st, &ids, &n, &err) == 0);
	CHECK(n == 0);
	store_list_free(ids, n);
	REQUIRE(store_archive_get(st, VOL_A, 1, &got, &err) == 0);
	CHECK(got.secret_len == 32 && got.secret[0] == 0xa1 && got.secret[31] == 0xa1);
	/* Added again: its generations go on, so the archive is never replaced. */
	fill_volume(&v, VOL_A, "p", 0x5a, 20);
	REQUIRE(store_volume_add(st, &v, &err) == 0);
	CHECK(store_volume_get(st, VOL_A, &got, &err) == 0 && got.generation == 2);
	REQUIRE(store_volume_remove(st, VOL_A, &err) == 0);
	CHECK(store_archive_get(st, VOL_A, 1, &got, &err) == 0 && got.secret[0] == 0xa1);
	CHECK(store_archive_get(st, VOL_A, 2, &got, &err) == 0 && got.secret[0] == 0x5a);
	CHECK(store_volume_purge(st, VOL_A, &purged, &err) == 0 && purged == 2);
	CHECK(access(state_file("archive/" VOL_A ".1.json"), F_OK) == -1);
	CHECK(store_volume_purge(st, VOL_A, &purged, &err) == -ENOENT);
	store_volume_wipe(&got);
	store_close(st);
}

TEST(store_set_policy_needs_the_policy)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	struct store_volume got;

	REQUIRE(st);
	CHECK(store_volume_set_policy(st, VOL_A, "q", &err) == -ENOENT);
	REQUIRE(store_policy_put(st, "q", POLICY, strlen(POLICY), &err) == 0);
	CHECK(store_volume_set_policy(st, VOL_A, "q", &err) == 0);
	CHECK(store_volume_get(st, VOL_A, &got, &err) == 0);
	CHECK_STR(got.policy, "q");
	CHECK(got.generation == 1 && got.secret[0] == 0xa1);
	CHECK(store_volume_set_policy(st, VOL_B, "q", &err) == -ENOENT);
	store_volume_wipe(&got);
	store_close(st);
}

TEST(store_policy_round_trip)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	char **names, *json;
	size_t n, len;

	REQUIRE(st);
	REQUIRE(store_policy_put(st, "a.b-c_d", "{}", 2, &err) == 0);
	REQUIRE(store_policy_get(st, "a.b-c_d", &json, &len, &err) == 0);
	CHECK(len == 2 && !memcmp(json, "{}", 2));
	free(json);
	CHECK(store_policy_get(st, "zz", &json, &len, &err) == -ENOENT);
	CHECK(store_policy_put(st, ".hidden", "{}", 2, &err) == -EINVAL);
	CHECK(store_policy_put(st, "a/b", "{}", 2, &err) == -EINVAL);
	REQUIRE(store_policy_list(st, &names, &n, &err) == 0);
	REQUIRE(n == 2);
	CHECK_STR(names[0], "a.b-c_d");
	CHECK_STR(names[1], "p");
	store_list_free(names, n);
	store_close(st);
}

static int get_a(struct snp_err *err)
{
	struct store_volume got;
	struct store *st;
	int ret = store_open(&st, state(), false, err);

	if (ret)
		return ret;
	ret = store_volume_get(st, VOL_A, &got, err);
	store_volume_wipe(&got);
	store_close(st);
	return ret;
}

TEST(store_stale_temporaries_are_removed_and_never_read)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	const char *tmp_vol = "volumes/." VOL_B ".json.tmp.Ab12Cd";
	char **ids;
	size_t n;
	int lock;

	REQUIRE(st);
	store_close(st);
	write_text(state_file(tmp_vol), "{\"vers", 6);
	write_text(state_file("archive/." VOL_A ".1.json.tmp.xyz"), "{", 1);
	/* While a writer holds the lock, its temporaries stay, and readers skip them. */
	lock = open(state_file(".lock"), O_RDWR);
	REQUIRE(lock >= 0 && flock(lock, LOCK_EX) == 0);
	REQUIRE(store_open(&st, state(), false, &err) == 0);
	CHECK(access(state_file(tmp_vol), F_OK) == 0);
	REQUIRE(store_volume_list(st, &ids, &n, &err) == 0);
	CHECK(n == 1 && !strcmp(ids[0], VOL_A));
	store_list_free(ids, n);
	CHECK(get_a(&err) == 0);
	store_close(st);
	close(lock);
	REQUIRE(store_open(&st, state(), false, &err) == 0);
	CHECK(access(state_file(tmp_vol), F_OK) == -1);
	CHECK(access(state_file("archive/." VOL_A ".1.json.tmp.xyz"), F_OK) == -1);
	CHECK(access(state_file("volumes/" VOL_A ".json"), F_OK) == 0);
	store_close(st);
}

TEST(store_unsafe_state_is_refused)
{
	struct snp_err err = { 0 };
	struct store *st = open_with_volume();
	char link[4096];

	REQUIRE(st);
	store_close(st);
	REQUIRE(chmod(state(), 0750) == 0);
	CHECK(store_open(&st, state(), false, &err) == -EPERM);
	CHECK(strstr(err.msg, "group or others") && strstr(err.msg, "0750"));
	REQUIRE(chmod(state(), 0700) == 0);
	REQUIRE(chmod(state_file("archive"), 0701) == 0);
	CHECK(store_open(&st, state(), true, &err) == -EPERM);
	CHECK(strstr(err.msg, "archive") != NULL);
	REQUIRE(chmod(state_file("archive"), 0700) == 0);
	snprintf(link, sizeof(link), "%s/link", test_tmpdir());
	REQUIRE(symlink(state(), link) == 0);
	CHECK(store_open(&st, link, true, &err) == -ELOOP);
	CHECK(strstr(err.msg, "symbolic link") != NULL);
	strcat(link, "/");
	CHECK(store_open(&st, link, false, &err) == -ELOOP);
	write_text(test_path("file"), "x", 1);
	CHECK(store_open(&st, test_path("file"), true, &err) == -ENOTDIR);
	CHECK(store_open(&st, test_path("none"), false, &err) == -ENOENT);
	CHECK(store_open(&st, state(), false, &err) == 0);
	store_close(st);
}

TEST(store_truncated_or_corrupt_record_is_refused)
{
	static const char *const bad[] = {
		"{\"version\":1,\"volume\":\"" VOL_A "\",\"policy\":\"p\",\"secret\":\"c2hvcnQ=\","
		"\"generation\":1,\"created\":1,\"updated\":1}",
		"{\"version\":2,\"volume\":\"" VOL_A "\",\"policy\":\"p\",\"secret\":"
		"\"AAAAAAAAAAAAAAAAAAAAAA==\",\"generation\":1,\"created\":1,\"updated\":1}",
		"{\"version\":1,\"volume\":\"" VOL_B "\",\"policy\":\"p\",\"secret\":"
		"\"AAAAAAAAAAAAAAAAAAAAAA==\",\"generation\":1,\"created\":1,\"updated\":1}",
		"{\"version\":1,\"volume\":\"" VOL_A "\",\"policy\":\"p\",\"secret\":"
		"\"AAAAAAAAAAAAAAAAAAAAA*==\",\"generation\":1,\"created\":1,\"updated\":1}",
		"{\"version\":1,\"volume\":\"" VOL_A "\",\"policy\":\"p\",\"secret\":"
		"\"AAAAAAAAAAAAAAAAAAAAAA==\",\"generation\":0,\"created\":1,\"updated\":1}",
		"{\"version\":1,\"volume\":\"" VOL_A "\",\"policy\":\"p\",\"secret\":"
		"\"AAAAAAAAAAAAAAAAAAAAAA==\",\"generation\":1,\"created\":1,\"updated\":1,\"x\":1}",
		"{\"version\":1,\"version\":1,\"volume\":\"" VOL_A "\",\"policy\":\"p\",\"secret\":"
		"\"AAAAAAAAAAAAAAAAAAAAAA==\",\"generation\":1,\"created\":1,\"updated\":1}",
	};
	const char *path = state_file("volumes/" VOL_A ".json");
	struct snp_err err = { 0 };
	struct store *st = open_with_volume();
	uint8_t *good;
	size_t len;

	REQUIRE(st);
	store_close(st);
	REQUIRE(get_a(&err) == 0);
	good = test_read_file(path, 4096, &len);
	/* Every prefix of a good record (a torn write) is refused, naming the file. */
	for (size_t cut = 0; cut + 1 < len; cut++) {
		write_text(path, good, cut);
		if (!CHECK(get_a(&err) == -EBADMSG))
			fprintf(stderr, "    accepted a record cut at %zu of %zu\n", cut, len);
		CHECK(strstr(err.msg, path) && strstr(err.msg, "corrupt"));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i], strlen(bad[i]));
		if (!CHECK(get_a(&err) == -EBADMSG))
			fprintf(stderr, "    accepted bad record %zu\n", i);
	}
	/* The good record without its newline is still good: the check is not too strict. */
	write_text(path, good, len - 1);
	CHECK(get_a(&err) == 0);
	explicit_bzero(good, len);
	free(good);
}

static int count_dotfiles(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* A change waits for the lock another command holds, then goes ahead. */
TEST(store_change_waits_for_the_lock)
{
	struct store *st = open_with_volume();
	struct snp_err err = { 0 };
	struct timespec t0, t1;
	uint8_t fresh[32];
	int lock, ready[2];
	pid_t pid;
	char c;

	REQUIRE(st);
	memset(fresh, 0x77, sizeof(fresh));
	REQUIRE(pipe(ready) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		lock = open(state_file(".lock"), O_RDWR);
		if (lock < 0 || flock(lock, LOCK_EX) || write(ready[1], "x", 1) != 1)
			_exit(1);
		usleep(300 * 1000);
		_exit(0);
	}
	REQUIRE(read(ready[0], &c, 1) == 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(store_volume_rotate(st, VOL_A, fresh, sizeof(fresh), &err) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 200);
	waitpid(pid, NULL, 0);
	store_close(st);
}

TEST(store_write_atomic_replaces_and_leaves_no_temporary)
{
	struct snp_err err = { 0 };
	const char *dir = test_tmpdir();
	uint8_t *got;
	size_t len;

	REQUIRE(store_write_atomic(dir, "f.pem", "one", 3, 0644, &err) == 0);
	REQUIRE(store_write_atomic(dir, "f.pem", "second", 6, 0644, &err) == 0);
	got = test_read_file(test_path("f.pem"), 64, &len);
	CHECK(len == 6 && !memcmp(got, "second", 6));
	free(got);
	CHECK(mode_of(test_path("f.pem")) == 0644);
	CHECK(store_write_atomic(dir, ".hidden", "x", 1, 0600, &err) == -EINVAL);
	CHECK(store_write_atomic(dir, "a/b", "x", 1, 0600, &err) == -EINVAL);
	CHECK(store_write_atomic(test_path("missing"), "f", "x", 1, 0600, &err) == -ENOENT);
	CHECK(count_dotfiles(dir) == 0);
}
