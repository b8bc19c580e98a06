/* test_dkim.c — the DKIM stage: messages signed here with libopendkim,
 * the key served by tests/integration/dnssrv.py (tests/dkim/stage_zone.yml);
 * run() alone and the incremental hooks (header/eoh/body, then run()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dkimver.h"
#include "dns.h"
#include "scan.h"
#include "test_dkim_util.h"
#include "test_dns_srv.h"

static struct dnssrv srv;
static char qlog[64];
static cfg_t *root, *root1;
static void *state;    /* max_signatures = 5 */
static void *state1;   /* max_signatures = 1 */

static const char plain[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.net\r\n"
	"Subject: a folded\r\n"
	"\tsubject line\r\n"
	"Date: Mon, 1 Dec 2025 10:00:00 +0000\r\n"
	"Message-ID: <1@example.org>\r\n"
	"\r\n"
	"Hello Bob,\r\n"
	"\r\n"
	"a signed message  with  spaces.\r\n"
	"\r\n"
	"\r\n";

static cfg_opt_t *root_opts(void)
{
	static cfg_opt_t opts[] = {
		CFG_SEC("dns", dns_conf_opts, CFGF_NONE),
		CFG_SEC("dkim", NULL, CFGF_NONE),
		CFG_END()
	};
	opts[1].subopts = dkimver_stage.conf_opts;
	return opts;
}

static void *load(cfg_t **r, const char *text)
{
	char err[256];
	*r = cfg_init(root_opts(), CFGF_NONE);
	if (cfg_parse_buf(*r, text) != CFG_SUCCESS)
		return NULL;
	void *s = dkimver_stage.init(*r, cfg_getsec(*r, "dkim"), err, sizeof err);
	if (s == NULL)
		fprintf(stderr, "init: %s\n", err);
	return s;
}

static int setup(void **st)
{
	(void)st;
	char text[512];
	snprintf(qlog, sizeof qlog, "/tmp/vigil-test-dkim.%d.log", (int)getpid());
	unlink(qlog);
	if (dnssrv_start(&srv, "tests/dkim/stage_zone.yml", "--log", qlog) == 0)
		return -1;
	snprintf(text, sizeof text, "dns { servers = {\"127.0.0.1@%u\"} "
	         DNSSRV_WAITS " }", srv.port);
	state = load(&root, text);
	snprintf(text, sizeof text, "dns { servers = {\"127.0.0.1@%u\"} "
	         DNSSRV_WAITS " } dkim { max_signatures = 1 }",
	         srv.port);
	state1 = load(&root1, text);
	return state && state1 ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	dkimver_stage.fini(state);
	dkimver_stage.fini(state1);
	cfg_free(root);
	cfg_free(root1);
	dnssrv_stop(&srv);
	unlink(qlog);
	return 0;
}

/* run() alone on the raw message. */
static struct scan *verify(void *stp, const char *raw)
{
	struct scan *s = tdk_scan_raw(raw, "192.0.2.10", "mx.example.org",
	                              "bounce@example.org");
	assert_int_equal(dkimver_stage.run(stp, s), STAGE_OK);
	return s;
}

/* The hooks as vigild calls them, then run(). */
static struct scan *verify_fed(void *stp, const char *raw, size_t chunk,
                               size_t max_body)
{
	const struct stage_ops *stages[] = { &dkimver_stage };
	void *states[] = { stp };
	struct scan *s = tdk_scan_fed(raw, "192.0.2.10", "mx.example.org",
	                              "bounce@example.org", stages, states, 1,
	                              chunk, max_body);
	assert_int_equal(dkimver_stage.run(stp, s), STAGE_OK);
	return s;
}

/* Replace the first occurrence of from by to (same length). */
static void alter(char *msg, const char *from, const char *to)
{
	char *p = strstr(msg, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

static void test_pass(void **st)
{
	(void)st;
	char *m = tdk_sign(plain, "example.org", "sel", true, -1);
	struct scan *s = verify(state, m);
	assert_string_equal(scan_result_get(s, "dkim"), "pass");
	assert_true(tdk_has_hit(s, "DKIM_SIGNED"));
	assert_true(tdk_has_hit(s, "DKIM_VALID"));
	assert_true(tdk_has_hit(s, "DKIM_VALID_AU"));
	assert_true(tdk_has_hit(s, "DKIM_VALID_EF"));
	assert_false(tdk_has_hit(s, "DKIM_INVALID"));
	const char *ar = tdk_auth_with(s, "dkim=pass");
	assert_non_null(ar);
	assert_non_null(strstr(ar, "dkim=pass (2048-bit key) header.d=example.org "
	                       "header.i=@example.org header.s=sel "
	                       "header.a=rsa-sha256 header.b="));
	assert_non_null(scan_result_get(s, "dns_ms"));
	scan_free(s);
	free(m);
}

static void test_simple_and_foreign_signer(void **st)
{
	(void)st;
	char *m = tdk_sign(plain, "example.org", "sel", false, -1);
	/* the envelope sender is not the signer: no DKIM_VALID_EF */
	struct scan *s = tdk_scan_raw(m, "192.0.2.10", "x", "a@other.example");
	assert_int_equal(dkimver_stage.run(state, s), STAGE_OK);
	assert_string_equal(scan_result_get(s, "dkim"), "pass");
	assert_true(tdk_has_hit(s, "DKIM_VALID_AU"));
	assert_false(tdk_has_hit(s, "DKIM_VALID_EF"));
	scan_free(s);
	free(m);
}

static void test_altered(void **st)
{
	(void)st;
	char *m = tdk_sign(plain, "example.org", "sel", true, -1);
	alter(m, "Hello Bob", "Hello Eve");
	struct scan *s = verify(state, m);
	assert_string_equal(scan_result_get(s, "dkim"), "fail");
	assert_true(tdk_has_hit(s, "DKIM_SIGNED"));
	assert_true(tdk_has_hit(s, "DKIM_INVALID"));
	assert_false(tdk_has_hit(s, "DKIM_VALID"));
	assert_non_null(tdk_auth_with(s, "dkim=fail (body hash mismatch)"));
	scan_free(s);
	alter(m, "Hello Eve", "Hello Bob");
	alter(m, "To: bob@", "To: eve@");
	s = verify(state, m);
	assert_string_equal(scan_result_get(s, "dkim"), "fail");
	assert_null(tdk_auth_with(s, "body hash"));
	scan_free(s);
	free(m);
}

static void test_key_errors(void **st)
{
	(void)st;
	static const struct {
		const char *selector, *result;
	} cases[] = {
		{ "nokey", "permerror" },
		{ "revoked", "permerror" },
		{ "slow", "temperror" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *m = tdk_sign(plain, "example.org", cases[i].selector, true, -1);
		struct scan *s = tdk_scan_raw(m, "192.0.2.10", "mx.example.org",
		                              "bounce@example.org");
		/* the slow key is never served: a short wait (test_dns_srv.h) */
		if (strcmp(cases[i].selector, "slow") == 0)
			scan_set_deadline_ms(s, DNSSRV_DEAD_MS);
		assert_int_equal(dkimver_stage.run(state, s), STAGE_OK);
		assert_string_equal(scan_result_get(s, "dkim"), cases[i].result);
		assert_true(tdk_has_hit(s, "DKIM_INVALID"));
		char needle[64];
		snprintf(needle, sizeof needle, "dkim=%s (", cases[i].result);
		assert_non_null(tdk_auth_with(s, needle));
		scan_free(s);
		free(m);
	}
}

static void test_unsigned(void **st)
{
	(void)st;
	struct scan *s = verify(state, plain);
	assert_string_equal(scan_result_get(s, "dkim"), "none");
	assert_int_equal(scan_hit_count(s), 0);
	assert_int_equal(scan_auth_result_count(s), 1);
	assert_string_equal(scan_auth_result_at(s, 0), "dkim=none");
	scan_free(s);
}

static void test_partial_body(void **st)
{
	(void)st;
	size_t blen = strlen(plain) - tdk_header_len(plain) - 2;
	char *m = tdk_sign(plain, "example.org", "sel", true, (ssize_t)blen);
	char *longer = malloc(strlen(m) + 64);
	assert_non_null(longer);
	strcpy(longer, m);
	strcat(longer, "Click here: http://evil.example/\r\n");
	struct scan *s = verify(state, longer);
	assert_string_equal(scan_result_get(s, "dkim"), "pass");
	assert_non_null(tdk_auth_with(s, "l= leaves part of the body unsigned"));
	scan_free(s);
	/* l= longer than the body: invalid (RFC 6376 §3.5) */
	char *cut = strstr(longer, "a signed message");
	assert_non_null(cut);
	strcpy(cut, "a signed\r\n");
	s = verify(state, longer);
	assert_string_equal(scan_result_get(s, "dkim"), "fail");
	assert_non_null(tdk_auth_with(s, "dkim=fail (length tag value exceeds"));
	scan_free(s);
	free(longer);
	free(m);
}

/* A message cut at max_message_size is not verified: neutral, never a
 * false fail; the same through the hooks, which stop hashing there. */
static void test_truncated(void **st)
{
	(void)st;
	char *m = tdk_sign(plain, "example.org", "sel", true, -1);
	struct scan *s = verify_fed(state, m, 4, 8);
	assert_true(scan_truncated(s));
	assert_string_equal(scan_result_get(s, "dkim"), "neutral");
	assert_non_null(tdk_auth_with(s, "dkim=neutral (message too large"));
	assert_false(tdk_has_hit(s, "DKIM_INVALID"));
	scan_free(s);
	free(m);
}

/* The hooks give exactly what run() alone gives, whatever the chunking. */
static void test_hooks_same_as_run(void **st)
{
	(void)st;
	size_t blen = strlen(plain) - tdk_header_len(plain) - 2;
	char *msgs[] = {
		tdk_sign(plain, "example.org", "sel", true, -1),
		tdk_sign(plain, "example.org", "sel", false, -1),
		tdk_sign(plain, "example.org", "nokey", true, -1),
		tdk_sign(plain, "example.org", "sel", true, (ssize_t)blen),
		tdk_sign(plain, "example.org", "sel", true, -1),
		strdup(plain),
	};
	alter(msgs[4], "spaces", "SPACES");
	static const size_t chunks[] = { 1, 7, 65536 };
	for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		struct scan *alone = verify(state, msgs[i]);
		for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
			struct scan *fed = verify_fed(state, msgs[i], chunks[c], 0);
			tdk_assert_same(alone, fed);
			scan_free(fed);
		}
		scan_free(alone);
		free(msgs[i]);
	}
}

static size_t log_lines_with(const char *needle)
{
	FILE *f = fopen(qlog, "r");
	char line[512];
	size_t n = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* header/eoh/body run on the event loop: no key lookup before run(). */
static void test_hooks_do_no_dns(void **st)
{
	(void)st;
	char *m = tdk_sign(plain, "example.org", "lookup-here", true, -1);
	const struct stage_ops *stages[] = { &dkimver_stage };
	void *states[] = { state };
	struct scan *s = tdk_scan_fed(m, "192.0.2.10", "x", "a@example.org",
	                              stages, states, 1, 16, 0);
	assert_int_equal(log_lines_with("lookup-here._domainkey"), 0);
	assert_int_equal(dkimver_stage.run(state, s), STAGE_OK);
	assert_int_equal(log_lines_with("lookup-here._domainkey"), 1);
	assert_string_equal(scan_result_get(s, "dkim"), "permerror");
	scan_free(s);
	free(m);
}

/* Headers the hooks did not see (a hook could not allocate): run()
 * verifies the scan itself. */
static void test_hooks_incomplete(void **st)
{
	(void)st;
	char *m = tdk_sign(plain, "example.org", "sel", true, -1);
	const struct stage_ops *stages[] = { &dkimver_stage };
	void *states[] = { state };
	struct scan *s = tdk_scan_fed(m, "192.0.2.10", "x", "a@example.org",
	                              stages, states, 1, 16, 0);
	/* a header the stage never heard of: run() starts over from the
	 * scan's copy (which still passes: X-Late is not signed) */
	assert_int_equal(scan_add_header(s, "X-Late", 6, " yes", 4), 0);
	assert_int_equal(dkimver_stage.run(state, s), STAGE_OK);
	assert_string_equal(scan_result_get(s, "dkim"), "pass");
	scan_free(s);
	free(m);
}

/* Signatures over max_signatures are not checked (no key lookup). */
static void test_max_signatures(void **st)
{
	(void)st;
	char *one = tdk_sign(plain, "example.org", "nokey", true, -1);
	char *two = tdk_sign(one, "example.org", "sel", true, -1);
	/* two: "sel" signature first, then "nokey" */
	for (int fed = 0; fed < 2; fed++) {
		struct scan *s = fed ? verify_fed(state1, two, 5, 0)
		                     : verify(state1, two);
		assert_int_equal(scan_auth_result_count(s), 2);
		assert_non_null(strstr(scan_auth_result_at(s, 0), "dkim=pass"));
		assert_non_null(strstr(scan_auth_result_at(s, 1),
		                       "dkim=neutral (not verified: over the limit"));
		scan_free(s);
		s = fed ? verify_fed(state, two, 5, 0) : verify(state, two);
		assert_non_null(strstr(scan_auth_result_at(s, 1), "dkim=permerror"));
		assert_string_equal(scan_result_get(s, "dkim"), "pass");
		scan_free(s);
	}
	free(two);
	free(one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_simple_and_foreign_signer),
		cmocka_unit_test(test_altered),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_partial_body),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_hooks_same_as_run),
		cmocka_unit_test(test_hooks_do_no_dns),
		cmocka_unit_test(test_hooks_incomplete),
		cmocka_unit_test(test_max_signatures),
	};
	return cmocka_run_group_tests_name("dkim", tests, setup, teardown);
}
