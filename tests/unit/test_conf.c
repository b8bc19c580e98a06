/* Unit tests: configuration loading, errors with FILE:LINE, policies. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "fileio.h"
#include "pipeline.h"
#include "rules.h"

static struct conf *load(const char *text, char *err, size_t errlen)
{
	return conf_load_string(text, "test.conf", err, errlen);
}

static void defaults(void **state)
{
	(void)state;
	char err[1024];
	struct conf *c = load("", err, sizeof err);
	assert_non_null(c);
	assert_int_equal(c->listen_count, 1);
	assert_string_equal(c->listen[0], "inet:8891@127.0.0.1");
	assert_int_equal(c->max_packet, 64u << 20);
	assert_int_equal(c->fail_action, CONF_ACT_ACCEPT);
	assert_true(c->fail_header);
	assert_true(c->policy.threshold[CONF_ACT_ADD_HEADER] == 5.0);
	assert_true(c->policy.threshold[CONF_ACT_REJECT] == 15.0);
	assert_true(isinf(c->policy.threshold[CONF_ACT_QUARANTINE]));
	assert_string_equal(c->policy.reject_reply,
	                    "550 5.7.1 Message rejected as spam");
	assert_true(c->io_threads >= 1);
	conf_unref(c);
}

static void values(void **state)
{
	(void)state;
	char err[1024];
	struct conf *c = load(
		"listen = {\"unix:/tmp/x.sock\", \"inet:127.0.0.1:9000\"}\n"
		"max_packet = \"1M\"\n"
		"fail_action = tempfail\n"
		"actions { reject = 10  quarantine = \"7.5\" }\n",
		err, sizeof err);
	assert_non_null(c);
	assert_int_equal(c->listen_count, 2);
	assert_int_equal(c->max_packet, 1u << 20);
	assert_int_equal(c->fail_action, CONF_ACT_TEMPFAIL);
	assert_true(c->policy.threshold[CONF_ACT_REJECT] == 10.0);
	assert_true(c->policy.threshold[CONF_ACT_QUARANTINE] == 7.5);
	conf_unref(c);
}

/* Every error names the file and line, and says what was expected. */
static void error_with_line(void **state)
{
	(void)state;
	char err[1024];
	struct conf *c = load("\n\nactions {\n  reject = \"lots\"\n}\n", err,
	                      sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "test.conf:4:"));
	assert_non_null(strstr(err, "expected a score or \"off\""));

	c = load("max_packet = \"12Q\"\n", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "test.conf:1:"));
	assert_non_null(strstr(err, "max_packet"));

	c = load("\nno_such_option = 1\n", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "test.conf:2:"));
	assert_non_null(strstr(err, "no_such_option"));

	c = load("actions { reject_reply = \"450 4.7.1 no\" }\n", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "class 5"));

	c = load("fail_action = maybe\n", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "accept, tempfail or reject"));

	c = load("\nstages = {\"sanity\", \"nope\"}\n", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "test.conf:2: stages: unknown stage \"nope\""));

	c = load("listen = {\n", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "test.conf:"));
}

static void missing_file(void **state)
{
	(void)state;
	char err[1024];
	struct conf *c = conf_load("/nonexistent/vigild.conf", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/vigild.conf"));
}

static void domain_policies(void **state)
{
	(void)state;
	char err[1024];
	struct conf *c = load(
		"actions { reject = 15 }\n"
		"domain \"strict.example\" { reject = 8 }\n"
		"domain \".sub.example\" { add_header = 2 }\n",
		err, sizeof err);
	assert_non_null(c);
	const struct conf_policy *p = conf_policy_for(c, "a@strict.example");
	assert_true(p->threshold[CONF_ACT_REJECT] == 8.0);
	/* inherited from actions{} */
	assert_true(p->threshold[CONF_ACT_ADD_HEADER] == 5.0);
	assert_string_equal(p->reject_reply, "550 5.7.1 Message rejected as spam");
	p = conf_policy_for(c, "<b@STRICT.example>");
	assert_true(p->threshold[CONF_ACT_REJECT] == 8.0);
	p = conf_policy_for(c, "c@x.sub.example");
	assert_true(p->threshold[CONF_ACT_ADD_HEADER] == 2.0);
	p = conf_policy_for(c, "d@other.example");
	assert_ptr_equal(p, &c->policy);
	conf_unref(c);
}

static void sizes(void **state)
{
	(void)state;
	size_t v;
	assert_int_equal(conf_parse_size("512k", &v), 0);
	assert_int_equal(v, 512u << 10);
	assert_int_equal(conf_parse_size("3G", &v), 0);
	assert_int_equal(conf_parse_size("", &v), -1);
	assert_int_equal(conf_parse_size("-1", &v), -1);
	assert_int_equal(conf_parse_size("10kb", &v), -1);
}

/* Writes text to the file name under dir. */
static void put_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Removes the directory dir and what it holds. */
static void remove_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A relative include() is taken from the including file's directory,
 * nested ones from theirs, whatever the current directory: the same
 * configuration file means the same thing from anywhere. */
static void include_relative(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-conf.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[256];
	snprintf(p, sizeof p, "%s/sub", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	static const char *const files[][2] = {
		{ "main.conf", "include(\"sub/one.conf\")\n" },
		{ "sub/one.conf", "fail_action = reject\ninclude(\"two.conf\")\n" },
		{ "sub/two.conf", "actions { reject = 12 }\n" },
		{ "two.conf", "actions { reject = 99 }\n" },   /* the cwd's */
	};
	for (size_t i = 0; i < 4; i++)
		put_file(dir, files[i][0], files[i][1]);
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	char err[1024];
	snprintf(p, sizeof p, "%s/main.conf", dir);
	struct conf *abs = conf_load(p, err, sizeof err);
	assert_int_equal(chdir("/"), 0);
	struct conf *rel = conf_load(p, err, sizeof err);
	assert_int_equal(chdir(cwd), 0);
	struct conf *both[] = { abs, rel };
	for (size_t i = 0; i < 2; i++) {
		assert_non_null(both[i]);
		assert_int_equal(both[i]->fail_action, CONF_ACT_REJECT);
		assert_true(both[i]->policy.threshold[CONF_ACT_REJECT] == 12.0);
		assert_int_equal(both[i]->include_count, 2);
		snprintf(p, sizeof p, "%s/sub/two.conf", dir);
		assert_string_equal(both[i]->includes[1], p);
		conf_unref(both[i]);
	}
	remove_tree(dir);
}

/* The SHA-256 of text, as fileio_sha256_buf() gives it. */
static void digest_of(const char *text, char hex[65])
{
	assert_int_equal(fileio_sha256_buf(text, strlen(text), hex), 0);
}

/* A FIFO at dir/name that a child process fills with text once. */
static pid_t fifo_with(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	assert_int_equal(mkfifo(p, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = fopen(p, "w");
		_exit(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0 ? 0 : 1);
	}
	return pid;
}

/* The digests are of the bytes the parser read, taken at load: a file
 * changed afterwards, or a FIFO (-c <(...)) which cannot be read twice,
 * keeps the digest of what made the configuration; included files
 * alike, and their errors still name them (FILE:LINE). */
static void digest_as_read(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-conf.XXXXXX";
	assert_non_null(mkdtemp(dir));
	const char *main_text = "include(\"part.conf\")\nio_threads = 3\n";
	const char *part_text = "fail_action = reject\n";
	put_file(dir, "main.conf", main_text);
	put_file(dir, "part.conf", part_text);
	char p[512], err[1024], hex[65];
	snprintf(p, sizeof p, "%s/main.conf", dir);
	struct conf *c = conf_load(p, err, sizeof err);
	assert_non_null(c);
	put_file(dir, "main.conf", "stages = { \"sanity\" }\n");
	put_file(dir, "part.conf", "fail_action = tempfail\n");
	digest_of(main_text, hex);
	assert_string_equal(c->sha256, hex);
	assert_int_equal(c->include_count, 1);
	digest_of(part_text, hex);
	assert_string_equal(c->include_sha256[0], hex);
	assert_int_equal(c->fail_action, CONF_ACT_REJECT);
	conf_unref(c);

	/* the main file and an included one through FIFOs */
	put_file(dir, "main.conf", "include(\"pipe.conf\")\n");
	pid_t w1 = fifo_with(dir, "pipe.conf", part_text);
	pid_t w2 = fifo_with(dir, "top.fifo", main_text);
	snprintf(p, sizeof p, "%s/top.fifo", dir);
	c = conf_load(p, err, sizeof err);
	int st1, st2;
	assert_int_equal(waitpid(w2, &st2, 0), w2);
	assert_non_null(c);
	digest_of(main_text, hex);
	assert_string_equal(c->sha256, hex);
	assert_int_equal(c->io_threads, 3);
	conf_unref(c);
	snprintf(p, sizeof p, "%s/main.conf", dir);
	c = conf_load(p, err, sizeof err);
	assert_int_equal(waitpid(w1, &st1, 0), w1);
	assert_non_null(c);
	digest_of(part_text, hex);
	assert_string_equal(c->include_sha256[0], hex);
	assert_int_equal(c->fail_action, CONF_ACT_REJECT);
	conf_unref(c);

	/* an error in an included file: its own name and line */
	put_file(dir, "main.conf", "include(\"bad.conf\")\n");
	put_file(dir, "bad.conf", "\nfail_action = reject\nno_such = 1\n");
	c = conf_load(p, err, sizeof err);
	assert_null(c);
	snprintf(p, sizeof p, "%s/bad.conf:3: ", dir);
	assert_non_null(strstr(err, p));
	assert_null(strstr(err, "/proc/"));
	remove_tree(dir);
}

/* Relative file names in options are taken from the configuration
 * file's directory too, whatever the current directory (vigild's after
 * it moved to "/", for its reloads); absolute ones, internet sockets,
 * "" and "off" are kept. */
static void paths_relative(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-conf.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[256], want[300], text[512];
	snprintf(text, sizeof text,
	         "listen = { \"unix:run/v.sock\", \"inet:8891@127.0.0.1\", "
	         "\"local:/abs.sock\" }\n"
	         "pidfile = \"v.pid\"\nrules = { \"r/a.cf\", \"%s/b.cf\" }\n"
	         "rules_cache = \"off\"\ndns { trust_anchor = \"../ta.key\" }\n"
	         "dmarc { public_suffix_list = \"psl.dat\" }\n", dir);
	put_file(dir, "main.conf", text);
	snprintf(p, sizeof p, "%s/r", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	put_file(dir, "r/a.cf", "");
	put_file(dir, "b.cf", "");
	snprintf(p, sizeof p, "%s/main.conf", dir);
	char cwd[512], err[1024];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir("/"), 0);
	struct conf *c = conf_load(p, err, sizeof err);
	assert_int_equal(chdir(cwd), 0);
	if (c == NULL)
		fail_msg("%s", err);
	snprintf(want, sizeof want, "unix:%s/run/v.sock", dir);
	assert_string_equal(c->listen[0], want);
	assert_string_equal(c->listen[1], "inet:8891@127.0.0.1");
	assert_string_equal(c->listen[2], "local:/abs.sock");
	snprintf(want, sizeof want, "%s/v.pid", dir);
	assert_string_equal(c->pidfile, want);
	cfg_t *cfg = conf_cfg(c);
	snprintf(want, sizeof want, "%s/r/a.cf", dir);
	assert_string_equal(cfg_getnstr(cfg, "rules", 0), want);
	snprintf(want, sizeof want, "%s/b.cf", dir);
	assert_string_equal(cfg_getnstr(cfg, "rules", 1), want);
	assert_string_equal(cfg_getstr(cfg, "rules_cache"), "off");
	snprintf(want, sizeof want, "%s/../ta.key", dir);
	assert_string_equal(cfg_getstr(cfg_getsec(cfg, "dns"), "trust_anchor"),
	                    want);
	snprintf(want, sizeof want, "%s/psl.dat", dir);
	assert_string_equal(
	    cfg_getstr(cfg_getsec(cfg, "dmarc"), "public_suffix_list"), want);
	conf_unref(c);
	remove_tree(dir);
}

/* A rule file's required_score is add_header's threshold where the
 * configuration sets none (actions{} and each domain section without
 * one); where actions{} sets one, that decides (audit20 H1). */
static void rules_required_score(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-conf.XXXXXX";
	assert_non_null(mkdtemp(dir));
	put_file(dir, "local.cf", "body T_X /x/\nrequired_score 4.0\n");
	char text[512], err[1024];
	snprintf(text, sizeof text, "stages = { \"rules\" }\n"
	         "rules = { \"%s/local.cf\" }\nrules_cache = \"off\"\n"
	         "domain \"a.example\" { reject = 20 }\n"
	         "domain \"b.example\" { add_header = 6 }\n", dir);
	struct conf *c = load(text, err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	assert_true(c->policy.threshold[CONF_ACT_ADD_HEADER] == 4.0);
	assert_true(c->domains[0].threshold[CONF_ACT_ADD_HEADER] == 4.0);
	assert_true(c->domains[1].threshold[CONF_ACT_ADD_HEADER] == 6.0);
	conf_unref(c);
	snprintf(text, sizeof text, "stages = { \"rules\" }\n"
	         "rules = { \"%s/local.cf\" }\nrules_cache = \"off\"\n"
	         "actions { add_header = 5.5 }\n", dir);
	c = load(text, err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	assert_true(c->policy.threshold[CONF_ACT_ADD_HEADER] == 5.5);
	/* said where it is not used, for vigil rules check too (audit21 L4) */
	const struct rules *r =
		rules_stage_rules(pipeline_stage_state(c->pipeline, "rules"));
	char note[256];
	const char *file;
	unsigned line;
	assert_true(conf_required_score_unused(c, rules_ruleset(r), note,
	                                       sizeof note, &file, &line));
	assert_non_null(strstr(note, "required_score 4 not used: actions { "
	                             "add_header = 5.5 }"));
	assert_int_equal(line, 2);
	conf_unref(c);
	remove_tree(dir);
}

/* The shipped default configuration loads as it is. */
static void shipped_conf(void **state)
{
	(void)state;
	char err[4096], path[4096];
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof path, "%s/conf/vigild.conf", top ? top : ".");
	struct conf *c = conf_load(path, err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	assert_string_equal(c->listen[0], "inet:8891@127.0.0.1");
	conf_unref(c);
	/* the one for replaying stored mail: vigild.conf's policy, the
	 * stages that ask no DNS */
	snprintf(path, sizeof path, "%s/conf/replay.conf", top ? top : ".");
	c = conf_load_tool(path, err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	assert_true(pipeline_stage_state(c->pipeline, "sanity") != NULL);
	assert_true(pipeline_stage_state(c->pipeline, "rules") != NULL);
	assert_null(pipeline_stage_state(c->pipeline, "spf"));
	assert_null(pipeline_stage_state(c->pipeline, "dkim"));
	assert_null(pipeline_stage_state(c->pipeline, "dmarc"));
	assert_true(c->policy.threshold[CONF_ACT_REJECT] == 15);
	conf_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(values),
		cmocka_unit_test(error_with_line),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(domain_policies),
		cmocka_unit_test(rules_required_score),
		cmocka_unit_test(sizes),
		cmocka_unit_test(shipped_conf),
		cmocka_unit_test(include_relative),
		cmocka_unit_test(digest_as_read),
		cmocka_unit_test(paths_relative),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
