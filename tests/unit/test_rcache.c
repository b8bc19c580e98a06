/* rcache: a blob comes back as written, under its key alone; damaged,
 * truncated, foreign-keyed or unsafe files are refused, another user's
 * are as none; the newest
 * RCACHE_KEEP blobs are kept; the per-user directory. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rcache.h"

static char base[64];   /* a fresh temporary directory per test */

static int setup(void **state)
{
	(void)state;
	strcpy(base, "/tmp/test-rcache.XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void key_of(uint8_t key[RCACHE_KEY_LEN], int n)
{
	memset(key, 0, RCACHE_KEY_LEN);
	key[0] = (uint8_t)n;
	key[31] = 0x5a;
}

/* The one file the directory holds for key (its name: hex of the first
 * 16 bytes, ".rc"). */
static void file_of(const char *dir, const uint8_t *key, char *out,
                    size_t len)
{
	int n = snprintf(out, len, "%s/", dir);
	for (int i = 0; i < 16; i++)
		n += snprintf(out + n, len - (size_t)n, "%02x", key[i]);
	snprintf(out + n, len - (size_t)n, ".rc");
}

static int get(const char *dir, const uint8_t *key, uint8_t **blob,
               size_t *len)
{
	char why[256] = "";
	return rcache_get(dir, key, blob, len, why, sizeof why);
}

static void roundtrip_and_missing(void **state)
{
	(void)state;
	char dir[128];
	snprintf(dir, sizeof dir, "%s/a/vigil", base);   /* parent missing */
	uint8_t k1[32], k2[32], *blob = NULL;
	size_t len = 0;
	key_of(k1, 1);
	key_of(k2, 2);
	assert_int_equal(get(dir, k1, &blob, &len), 1);   /* no directory */
	char why[256];
	static const char data[] = "compiled\0patterns";
	assert_int_equal(rcache_put(dir, k1, data, sizeof data, why,
	                            sizeof why), 0);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(get(dir, k1, &blob, &len), 0);
	assert_int_equal(len, sizeof data);
	assert_memory_equal(blob, data, sizeof data);
	free(blob);
	assert_int_equal(get(dir, k2, &blob, &len), 1);   /* another key */
	/* an empty blob is a blob */
	assert_int_equal(rcache_put(dir, k2, "", 0, why, sizeof why), 0);
	assert_int_equal(get(dir, k2, &blob, &len), 0);
	assert_int_equal(len, 0);
	free(blob);
}

static void refused(void **state)
{
	(void)state;
	uint8_t k1[32], k2[32], *blob = NULL;
	size_t len = 0;
	char why[256], f1[256], f2[256];
	key_of(k1, 1);
	key_of(k2, 2);
	char data[1000];
	memset(data, 'x', sizeof data);
	assert_int_equal(rcache_put(base, k1, data, sizeof data, why,
	                            sizeof why), 0);
	file_of(base, k1, f1, sizeof f1);
	file_of(base, k2, f2, sizeof f2);
	/* k1's file under k2's name: its key says otherwise */
	char cmd[600];
	snprintf(cmd, sizeof cmd, "cp -p '%s' '%s'", f1, f2);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(get(base, k2, &blob, &len), -1);
	/* one byte of the blob changed */
	int fd = open(f1, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "y", 1, 500), 1);
	close(fd);
	assert_int_equal(rcache_get(base, k1, &blob, &len, why, sizeof why), -1);
	assert_non_null(strstr(why, "damaged"));
	/* written whole again, then cut short */
	assert_int_equal(rcache_put(base, k1, data, sizeof data, why,
	                            sizeof why), 0);
	assert_int_equal(truncate(f1, 900), 0);
	assert_int_equal(get(base, k1, &blob, &len), -1);
	/* whole again, but others may write it, or the directory */
	assert_int_equal(rcache_put(base, k1, data, sizeof data, why,
	                            sizeof why), 0);
	assert_int_equal(get(base, k1, &blob, &len), 0);
	free(blob);
	assert_int_equal(chmod(f1, 0620), 0);
	assert_int_equal(get(base, k1, &blob, &len), -1);
	assert_int_equal(chmod(f1, 0600), 0);
	assert_int_equal(chmod(base, 0777), 0);
	assert_int_equal(get(base, k1, &blob, &len), -1);
	assert_int_equal(chmod(base, 0700), 0);
	/* another user's file: as if none were there, why says so */
	if (geteuid() == 0) {
		assert_int_equal(chown(f1, 65534, (gid_t)-1), 0);
		why[0] = '\0';
		assert_int_equal(rcache_get(base, k1, &blob, &len, why,
		                            sizeof why), 1);
		assert_non_null(strstr(why, "another user"));
		assert_int_equal(chown(f1, 0, (gid_t)-1), 0);
	}
	/* a symbolic link is not followed */
	assert_int_equal(unlink(f2), 0);
	assert_int_equal(symlink(f1, f2), 0);
	assert_int_equal(get(base, k2, &blob, &len), -1);
}

static size_t blobs_in(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".rc") != NULL;
	if (d != NULL)
		closedir(d);
	return n;
}

static void keeps_the_newest(void **state)
{
	(void)state;
	char why[256], f[256];
	uint8_t key[32], *blob = NULL;
	size_t len = 0;
	/* mtimes set by hand, one second apart: no clock involved */
	for (int i = 0; i < RCACHE_KEEP + 3; i++) {
		key_of(key, i);
		assert_int_equal(rcache_put(base, key, "b", 1, why, sizeof why), 0);
		file_of(base, key, f, sizeof f);
		struct timespec t[2] = { { 1000000 + i, 0 }, { 1000000 + i, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, f, t, 0), 0);
	}
	/* the next put prunes: it and the KEEP - 1 newest before it stay */
	key_of(key, 100);
	assert_int_equal(rcache_put(base, key, "b", 1, why, sizeof why), 0);
	assert_int_equal(blobs_in(base), RCACHE_KEEP);
	assert_int_equal(get(base, key, &blob, &len), 0);
	free(blob);
	for (int i = 0; i < RCACHE_KEEP + 3; i++) {
		key_of(key, i);
		int want = i >= RCACHE_KEEP + 3 - (RCACHE_KEEP - 1) ? 0 : 1;
		assert_int_equal(get(base, key, &blob, &len), want);
		if (want == 0)
			free(blob);
	}
}

static void user_dir(void **state)
{
	(void)state;
	char buf[256];
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	setenv("HOME", "/home/u", 1);
	assert_string_equal(rcache_user_dir(buf, sizeof buf), "/x/cache/vigil");
	setenv("XDG_CACHE_HOME", "relative", 1);   /* ignored, as the spec says */
	assert_string_equal(rcache_user_dir(buf, sizeof buf),
	                    "/home/u/.cache/vigil");
	unsetenv("XDG_CACHE_HOME");
	assert_string_equal(rcache_user_dir(buf, sizeof buf),
	                    "/home/u/.cache/vigil");
	assert_null(rcache_user_dir(buf, 8));
	unsetenv("HOME");
	assert_null(rcache_user_dir(buf, sizeof buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(roundtrip_and_missing, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(refused, setup, teardown),
		cmocka_unit_test_setup_teardown(keeps_the_newest, setup, teardown),
		cmocka_unit_test(user_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
