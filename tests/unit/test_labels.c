/* Unit tests: labels files (comments, byte order mark, base directory),
 * each message file once, the nearest label, conflicts, unmatched
 * entries. Works in a fresh temporary directory. */
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

#include "labels.h"

static char top[] = "/tmp/vigil-labels.XXXXXX";

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A labels set from args as on the command line ("--label X", "--labels
 * F", PATHs); the labels_ready() status in *rc. */
static struct labels *given(int *rc, const char *const *args)
{
	struct labels *l = labels_new();
	assert_non_null(l);
	for (size_t i = 0; args[i] != NULL; i++) {
		if (args[i][0] == '-' && args[i][1] == '-') {
			assert_int_equal(labels_option(l, args[i], args[i + 1]), 1);
			i++;
		} else
			assert_int_equal(labels_add_path(l, args[i]), 0);
	}
	*rc = labels_ready(l);
	return l;
}

static char *unmatched(const struct labels *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	labels_unmatched(l, f);
	fclose(f);
	return buf;
}

static void test_comments_bom(void **state)
{
	(void)state;
	put("c.txt", "\xEF\xBB\xBF" "spam d/a # first\n"
	    "# a comment line\n"
	    "d/b ham\t# second\n"
	    "\"d/c #3\",spam # third\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--labels", "c.txt",
	                                                "d", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_take(l, 0, "d/a"), EVAL_SPAM);
	assert_int_equal(labels_take(l, 0, "d/b"), EVAL_HAM);
	assert_int_equal(labels_take(l, 0, "d/c #3"), EVAL_SPAM);
	char *u = unmatched(l);
	assert_string_equal(u, "");
	free(u);
	labels_free(l);
}

/* ../x in sub/labels is sub/../x: the same name in the current
 * directory does not count. */
static void test_base_directory(void **state)
{
	(void)state;
	mkdir("sub", 0755);
	mkdir("sub/d", 0755);
	mkdir("d", 0755);            /* the decoy */
	put("sub/d/a", "x\n");
	put("d/a", "x\n");
	put("cwd-only", "x\n");
	put("sub/labels", "spam d/a\nham d/missing\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--labels", "sub/labels",
	                                                NULL });
	assert_int_equal(rc, -1);   /* d/missing: the entries are the corpus */
	labels_free(l);
	put("sub/labels", "spam d/a\nham d\nham cwd-only\n");
	l = given(&rc, (const char *[]){ "--labels", "sub/labels", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_path_count(l), 2);   /* d/a is inside d */
	assert_string_equal(labels_paths(l)[0], "sub/d");
	assert_string_equal(labels_paths(l)[1], "cwd-only");
	assert_int_equal(labels_take(l, 0, "sub/d/a"), EVAL_SPAM);
	assert_int_equal(labels_take(l, 1, "cwd-only"), EVAL_HAM);
	labels_free(l);
}

/* A labels file's "../x" is shown as the path it names: "DIR/.." taken
 * out when DIR is a directory, kept when DIR is a symbolic link (its
 * ".." is the link target's parent). */
static void test_tidy_paths(void **state)
{
	(void)state;
	mkdir("trec", 0755);
	mkdir("trec/full", 0755);
	mkdir("trec/data", 0755);
	mkdir("elsewhere", 0755);
	mkdir("elsewhere/inner", 0755);
	mkdir("data", 0755);
	put("trec/data/inmail.1", "x\n");
	put("data/inmail.2", "x\n");
	assert_int_equal(symlink("../elsewhere/inner", "trec/link"), 0);
	put("trec/full/index", "spam ../data/inmail.1\n"
	                       "ham ./../link/../../data/inmail.2\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--labels",
	                                                "trec/full/index", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_path_count(l), 2);
	assert_string_equal(labels_paths(l)[0], "trec/data/inmail.1");
	/* trec/link/.. is elsewhere/, whose ../data is ./data */
	assert_string_equal(labels_paths(l)[1], "trec/link/../../data/inmail.2");
	labels_free(l);
}

static void test_once(void **state)
{
	(void)state;
	mkdir("e", 0755);
	mkdir("e/.hidden", 0755);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof name, "e/%d", i);
		put(name, "x\n");
	}
	put("e/.hidden/h", "x\n");
	put("twice.txt", "spam e/0\nspam e/0\nspam ./e/0\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--labels", "twice.txt",
	                                                NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_path_count(l), 1);
	assert_int_equal(labels_take(l, 0, "e/0"), EVAL_SPAM);
	char *u = unmatched(l);
	assert_string_equal(u, "");   /* the repeats are the same entry */
	free(u);
	labels_free(l);
	/* --label spam e --label ham e/1 e/1 ./e: e/1 inside e, read with it;
	 * e/.hidden/h is not read by e's walk, so it stays a PATH */
	l = given(&rc, (const char *[]){ "--label", "spam", "e", "--label", "ham",
	                                 "e/1", "e/1", "e/.hidden/h", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_path_count(l), 2);
	assert_string_equal(labels_paths(l)[0], "e");
	assert_string_equal(labels_paths(l)[1], "e/.hidden/h");
	assert_int_equal(labels_take(l, 0, "e/0"), EVAL_SPAM);
	assert_int_equal(labels_take(l, 0, "e/1"), EVAL_HAM);
	assert_int_equal(labels_take(l, 1, "e/.hidden/h"), EVAL_HAM);
	labels_free(l);
}

static void test_maildir_walk(void **state)
{
	(void)state;
	mkdir("m", 0755);
	mkdir("m/cur", 0755);
	mkdir("m/tmp", 0755);
	put("m/cur/1", "x\n");
	put("m/tmp/2", "x\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--label", "ham", "m",
	                                                "m/cur/1", "m/tmp/2", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_path_count(l), 2);   /* a maildir's tmp/ is not read */
	assert_string_equal(labels_paths(l)[1], "m/tmp/2");
	labels_free(l);
}

static void test_conflicts(void **state)
{
	(void)state;
	mkdir("f", 0755);
	put("f/1", "x\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--label", "spam", "f",
	                                                "--label", "ham", "f/",
	                                                NULL });
	assert_int_equal(rc, -1);
	labels_free(l);
	put("both.txt", "f/1 spam\n");
	l = given(&rc, (const char *[]){ "--labels", "both.txt", "--label", "ham",
	                                 "f/1", NULL });
	assert_int_equal(rc, -1);
	labels_free(l);
	/* standard input labelled both ways, as a file would be */
	l = given(&rc, (const char *[]){ "--label", "spam", "-", "--label", "ham",
	                                 "-", NULL });
	assert_int_equal(rc, -1);
	labels_free(l);
	l = given(&rc, (const char *[]){ "-", "--label", "ham", "-", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_path_count(l), 1);
	assert_int_equal(labels_take(l, 0, "-"), EVAL_HAM);
	labels_free(l);
	/* different paths, different labels: the nearest wins */
	l = given(&rc, (const char *[]){ "--labels", "both.txt", "--label", "ham",
	                                 "f", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_take(l, 0, "f/1"), EVAL_SPAM);
	labels_free(l);
}

static void test_unmatched_summary(void **state)
{
	(void)state;
	mkdir("g", 0755);
	put("g/in", "x\n");
	put("many.txt", "spam g/n1\nspam g/n2\nspam g/in\nspam n3\nham n4\n"
	    "ham n5\nham n6\nham n7\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--labels", "many.txt",
	                                                "g", NULL });
	assert_int_equal(rc, 0);   /* PATHs given: missing entries not errors */
	assert_int_equal(labels_take(l, 0, "g/in"), EVAL_SPAM);
	char *u = unmatched(l);
	assert_string_equal(u, "vigil scan: 7 labelled entries matched no "
	                    "scanned message; first 5: many.txt:1 many.txt:2 "
	                    "many.txt:4 many.txt:5 many.txt:6\n");
	free(u);
	labels_free(l);
}

/* A labels file from a pipe (--labels <(cat index)) can be read only
 * once: its SHA-256 is that of the bytes read, not of an empty
 * second reading. */
static void test_pipe_hash(void **state)
{
	(void)state;
	mkdir("p", 0755);
	put("p/1", "x\n");
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	static const char text[] = "spam p/1\n";
	assert_int_equal(write(fd[1], text, sizeof text - 1), sizeof text - 1);
	close(fd[1]);
	char path[32];
	snprintf(path, sizeof path, "/dev/fd/%d", fd[0]);
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--labels", path, "p",
	                                                NULL });
	close(fd[0]);
	assert_int_equal(rc, 0);
	assert_int_equal(labels_take(l, 0, "p/1"), EVAL_SPAM);
	struct eval_meta m = { 0 };
	assert_int_equal(labels_meta(l, &m), 0);
	assert_int_equal(m.label_file_count, 1);
	assert_string_equal(m.label_file_hashes[0], "2ff898f15981ec42353847cd8ab3"
	                    "ffed2f812b5088c0582575e7bb1c9cafaa78");
	labels_free(l);
}

/* A walk through a symbolic link: the labels of the files it reaches
 * are found (TREC's data/ on another volume, linked), and a directory
 * the link's target lies in labels them too, nearer than the link's. */
static void test_linked_walk(void **state)
{
	(void)state;
	mkdir("lt", 0755);
	mkdir("lt/full", 0755);
	mkdir("vol", 0755);
	mkdir("vol/data", 0755);
	put("vol/data/inmail.1", "x\n");
	put("vol/data/inmail.2", "x\n");
	assert_int_equal(symlink("../vol/data", "lt/data"), 0);
	put("lt/full/index", "spam ../data/inmail.1\nham ../data/inmail.2\n");
	int rc;
	struct labels *l = given(&rc, (const char *[]){ "--labels",
	                                                "lt/full/index", "lt",
	                                                NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_take(l, 0, "lt/data/inmail.1"), EVAL_SPAM);
	assert_int_equal(labels_take(l, 0, "lt/data/inmail.2"), EVAL_HAM);
	assert_int_equal(labels_take(l, 0, "lt/full/index"), EVAL_UNLABELLED);
	char *u = unmatched(l);
	assert_string_equal(u, "");
	free(u);
	labels_free(l);
	l = given(&rc, (const char *[]){ "--label", "spam", "lt/", "--label",
	                                 "ham", "vol", NULL });
	assert_int_equal(rc, 0);
	assert_int_equal(labels_take(l, 0, "lt/full/index"), EVAL_SPAM);
	assert_int_equal(labels_take(l, 0, "lt/data/inmail.1"), EVAL_HAM);
	labels_free(l);
}

static int in_top(void **state)
{
	(void)state;
	return mkdtemp(top) != NULL && chdir(top) == 0 ? 0 : -1;
}

static int clean_top(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	return chdir("/") == 0 && system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comments_bom),
		cmocka_unit_test(test_base_directory),
		cmocka_unit_test(test_tidy_paths),
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_maildir_walk),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_unmatched_summary),
		cmocka_unit_test(test_pipe_hash),
		cmocka_unit_test(test_linked_walk),
	};
	return cmocka_run_group_tests(tests, in_top, clean_top);
}
