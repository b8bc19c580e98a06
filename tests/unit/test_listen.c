/* Unit tests: socket specifications, stale and live unix sockets,
 * key=value escaping. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "listen.h"
#include "vlog.h"

static void specs(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256];
	const struct { const char *spec; int family; unsigned port; } ok[] = {
		{ "inet:8891@127.0.0.1", AF_INET, 8891 },
		{ "inet:127.0.0.1:8892", AF_INET, 8892 },
		{ "inet:8893", AF_INET, 8893 },
		{ "inet6:8894@::1", AF_INET6, 8894 },
		{ "inet6:[::1]:8895", AF_INET6, 8895 },
		{ "inet:8896@localhost", AF_INET, 8896 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		assert_int_equal(listen_parse(ok[i].spec, &a, err, sizeof err), 0);
		assert_int_equal(a.family, ok[i].family);
		unsigned port = a.family == AF_INET ?
			ntohs(((struct sockaddr_in *)&a.ss)->sin_port) :
			ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port);
		assert_int_equal(port, ok[i].port);
	}
	assert_int_equal(listen_parse("unix:/run/v.sock", &a, err, sizeof err), 0);
	assert_int_equal(a.family, AF_UNIX);
	assert_string_equal(a.path, "/run/v.sock");
	assert_int_equal(listen_parse("local:/run/w.sock", &a, err, sizeof err), 0);
	assert_string_equal(a.path, "/run/w.sock");
	const char *bad[] = { "inet:0@127.0.0.1", "inet:70000@127.0.0.1",
		"inet:x@127.0.0.1", "unix:relative", "tcp:1@x", "inet:",
		"inet:127.0.0.1:" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		assert_int_equal(listen_parse(bad[i], &a, err, sizeof err), -1);
		assert_true(err[0] != '\0');
	}
}

/* A stale socket file is replaced; a live one is refused; a regular
 * file is never removed. */
static void unix_sockets(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-listen-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char spec[256], err[256];
	snprintf(spec, sizeof spec, "unix:%s/m.sock", dir);
	struct listen_addr a;
	assert_int_equal(listen_parse(spec, &a, err, sizeof err), 0);
	int fd = listen_open(&a, "", "", 0600, err, sizeof err);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(stat(a.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* live: refused */
	assert_int_equal(listen_open(&a, "", "", 0600, err, sizeof err), -1);
	assert_non_null(strstr(err, "in use"));
	close(fd);
	/* stale: replaced */
	fd = listen_open(&a, "", "", 0660, err, sizeof err);
	assert_true(fd >= 0);
	close(fd);
	unlink(a.path);
	/* not a socket: refused, left alone */
	FILE *f = fopen(a.path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(listen_open(&a, "", "", 0660, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(stat(a.path, &st), 0);
	unlink(a.path);
	rmdir(dir);
}

static void kv_escaping(void **state)
{
	(void)state;
	struct kvline kv;
	kv_init(&kv);
	kv_add(&kv, "a", "plain");
	kv_add(&kv, "b", "two words");
	kv_add(&kv, "c", "");
	kv_addn(&kv, "d", "x\0y\x7f\"\\", 6);
	assert_string_equal(kv_str(&kv),
	                    "a=plain b=\"two words\" c=\"\" d=\"x\\x00y\\x7f\\\"\\\\\"");
	kv_free(&kv);
	/* Huge values are cut, never overflow. */
	char *big = malloc(100000);
	memset(big, 'z', 99999);
	big[99999] = '\0';
	kv_init(&kv);
	kv_add(&kv, "big", big);
	assert_true(strlen(kv_str(&kv)) < 20000);
	kv_free(&kv);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(specs),
		cmocka_unit_test(unix_sockets),
		cmocka_unit_test(kv_escaping),
	};
	return cmocka_run_group_tests_name("listen", tests, NULL, NULL);
}
