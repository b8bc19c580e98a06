/* test_spf.c — the SPF checker and stage against tests/integration/dnssrv.py
 * serving tests/spf/stage_zone.yml */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dns.h"
#include "scan.h"
#include "spf.h"
#include "test_dkim_util.h"
#include "test_dns_srv.h"

static struct dnssrv srv;
static cfg_t *root;
static void *state;

static cfg_opt_t *root_opts(void)
{
	static cfg_opt_t opts[] = {
		CFG_SEC("dns", dns_conf_opts, CFGF_NONE),
		CFG_SEC("spf", NULL, CFGF_NONE),
		CFG_STR("hostname", "mx.test.example", CFGF_NONE),
		CFG_END()
	};
	opts[1].subopts = spf_stage.conf_opts;
	return opts;
}

static int setup(void **st)
{
	(void)st;
	char text[512], err[256];
	if (dnssrv_start(&srv, "tests/spf/stage_zone.yml", NULL, NULL) == 0)
		return -1;
	snprintf(text, sizeof text,
	         "dns { servers = {\"127.0.0.1@%u\"} " DNSSRV_WAITS " }\n"
	         "spf { reject_fail_domains = {\"fail.example\"} "
	         "received_spf = true score_fail = 2.5 }", srv.port);
	root = cfg_init(root_opts(), CFGF_NONE);
	if (cfg_parse_buf(root, text) != CFG_SUCCESS)
		return -1;
	state = spf_stage.init(root, cfg_getsec(root, "spf"), err, sizeof err);
	if (state == NULL)
		fprintf(stderr, "init: %s\n", err);
	return state ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	spf_stage.fini(state);
	cfg_free(root);
	dnssrv_stop(&srv);
	return 0;
}

/* slow.example is never answered: its check is given a short deadline
 * (see test_dns_srv.h), every other one all the time it needs. */
static uint64_t deadline_for(const char *from)
{
	return strstr(from, "@slow.example") ? DNSSRV_DEAD_MS : DNSSRV_WAIT_MS;
}

static struct scan *run(const char *ip, const char *helo, const char *from)
{
	struct scan *s = scan_new();
	assert_non_null(s);
	scan_set_env(s, "Q1", ip, "client.example", 25, helo, from);
	scan_set_deadline_ms(s, deadline_for(from));
	assert_int_equal(spf_stage.run(state, s), STAGE_OK);
	return s;
}

static bool has_hit(const struct scan *s, const char *name, double *score)
{
	for (size_t i = 0; i < scan_hit_count(s); i++)
		if (strcmp(scan_hit_at(s, i)->name, name) == 0) {
			if (score)
				*score = scan_hit_at(s, i)->score;
			return true;
		}
	return false;
}

static const char *auth_with(const struct scan *s, const char *needle)
{
	for (size_t i = 0; i < scan_auth_result_count(s); i++)
		if (strstr(scan_auth_result_at(s, i), needle))
			return scan_auth_result_at(s, i);
	return NULL;
}

static void test_pass(void **st)
{
	(void)st;
	struct scan *s = run("192.0.2.10", "helo.example", "user@pass.example");
	assert_string_equal(scan_result_get(s, "spf"), "pass");
	assert_string_equal(scan_result_get(s, "spf_helo"), "pass");
	assert_true(has_hit(s, "SPF_PASS", NULL));
	assert_true(has_hit(s, "SPF_HELO_PASS", NULL));
	assert_non_null(auth_with(s, "spf=pass"));
	assert_non_null(auth_with(s, "smtp.mailfrom=user@pass.example"));
	assert_non_null(auth_with(s, "smtp.helo=helo.example"));
	assert_null(scan_result_get(s, "reject"));
	assert_non_null(scan_result_get(s, "dns_ms"));
	scan_free(s);
}

static void test_fail_rejects_listed(void **st)
{
	(void)st;
	double score = 0;
	struct scan *s = run("192.0.2.99", "other.example", "a@fail.example");
	assert_string_equal(scan_result_get(s, "spf"), "fail");
	assert_true(has_hit(s, "SPF_FAIL", &score));
	assert_true(score > 2.4 && score < 2.6);
	const char *rej = scan_result_get(s, "reject");
	assert_non_null(rej);
	assert_non_null(strstr(rej, "550 5.7.23"));
	assert_non_null(strstr(rej, "192.0.2.99 is not one of fail.example's"));
	assert_true(scan_out_header_count(s) >= 1);
	scan_free(s);
}

static void test_softfail_not_rejected(void **st)
{
	(void)st;
	struct scan *s = run("192.0.2.99", "", "a@soft.example");
	assert_string_equal(scan_result_get(s, "spf"), "softfail");
	assert_true(has_hit(s, "SPF_SOFTFAIL", NULL));
	assert_null(scan_result_get(s, "spf_helo"));   /* no HELO given */
	assert_null(scan_result_get(s, "reject"));
	scan_free(s);
}

static void test_null_sender_uses_helo(void **st)
{
	(void)st;
	struct scan *s = run("192.0.2.10", "helo.example", "");
	assert_string_equal(scan_result_get(s, "spf"), "pass");
	assert_non_null(auth_with(s, "smtp.mailfrom=postmaster@helo.example"));
	scan_free(s);
}

static void test_errors(void **st)
{
	(void)st;
	struct scan *s = run("192.0.2.10", "x.example", "a@slow.example");
	assert_string_equal(scan_result_get(s, "spf"), "temperror");
	assert_true(has_hit(s, "T_SPF_TEMPERROR", NULL));
	scan_free(s);
	s = run("192.0.2.10", "x.example", "a@perm.example");
	assert_string_equal(scan_result_get(s, "spf"), "permerror");
	scan_free(s);
	s = run("192.0.2.10", "x.example", "a@two.example");
	assert_string_equal(scan_result_get(s, "spf"), "permerror");
	scan_free(s);
	s = run("192.0.2.10", "x.example", "a@nothing.example");
	assert_string_equal(scan_result_get(s, "spf"), "none");
	assert_true(has_hit(s, "SPF_NONE", NULL));
	scan_free(s);
}

static void test_limits(void **st)
{
	(void)st;
	struct scan *s = run("192.0.2.10", "x.example", "a@voids.example");
	assert_string_equal(scan_result_get(s, "spf"), "permerror");
	scan_free(s);
	s = run("192.0.2.10", "x.example", "a@mx11.example");
	assert_string_equal(scan_result_get(s, "spf"), "permerror");
	scan_free(s);
}

static void test_no_client_addr(void **st)
{
	(void)st;
	struct scan *s = run("", "helo.example", "a@pass.example");
	assert_null(scan_result_get(s, "spf"));
	assert_int_equal(scan_auth_result_count(s), 0);
	scan_free(s);
}

static void test_hostile_identity_quoted(void **st)
{
	(void)st;
	struct scan *s = run("192.0.2.10", "x.example",
	                     "\"a;b c\"@nothing.example");
	const char *ar = auth_with(s, "spf=none");
	assert_non_null(ar);
	assert_non_null(strstr(ar, "smtp.mailfrom=\"\\\"a;b c\\\"@nothing.example\""));
	scan_free(s);
}

static void test_checker_ipv4_mapped(void **st)
{
	(void)st;
	char err[128];
	struct dns *d = dns_get(root, err, sizeof err);
	struct spf_checker *c = spf_checker_new(d, "mx.test.example", err,
	                                        sizeof err);
	struct spf_outcome o;
	struct dns_budget b;
	dns_budget_begin(d, &b, NULL, 0);
	assert_int_equal(spf_check(c, &b, "::ffff:192.0.2.10", "x.example",
	                           "a@pass.example", false, &o), 0);
	assert_int_equal(o.result, SPF_RES_PASS);
	assert_string_equal(o.domain, "pass.example");
	assert_int_equal(spf_check(c, &b, "not-an-ip", "x.example",
	                           "a@pass.example", false, &o), -1);
	spf_checker_free(c);
	dns_put(d);
}

/* envelope() on an envelope-only scan, merged, then run(): the same
 * results as run() alone, and run() adds nothing twice. */
static void test_envelope_then_run(void **st)
{
	(void)st;
	static const char *const senders[] = {
		"user@pass.example", "a@fail.example", "a@slow.example", ""
	};
	for (size_t i = 0; i < sizeof senders / sizeof senders[0]; i++) {
		struct scan *alone = run("192.0.2.99", "helo.example", senders[i]);
		struct scan *early = scan_new();
		struct scan *msg = scan_new();
		assert_non_null(early);
		assert_non_null(msg);
		scan_set_env(early, "", "192.0.2.99", "client.example", 25,
		             "helo.example", senders[i]);
		scan_set_deadline_ms(early, deadline_for(senders[i]));
		assert_int_equal(spf_stage.envelope(state, early), STAGE_OK);
		assert_non_null(scan_result_get(early, "spf"));
		scan_set_env(msg, "Q1", "192.0.2.99", "client.example", 25,
		             "helo.example", senders[i]);
		scan_set_deadline_ms(msg, deadline_for(senders[i]));
		assert_int_equal(scan_merge(msg, early), 0);
		size_t hits = scan_hit_count(msg);
		assert_int_equal(spf_stage.run(state, msg), STAGE_OK);
		assert_int_equal(scan_hit_count(msg), hits);
		tdk_assert_same(alone, msg);
		scan_free(early);
		scan_free(msg);
		scan_free(alone);
	}
}

/* An early failure ("spf" = "error") is redone at end of message. */
static void test_early_error_redone(void **st)
{
	(void)st;
	struct scan *s = scan_new();
	assert_non_null(s);
	scan_set_env(s, "Q1", "192.0.2.10", "client.example", 25,
	             "helo.example", "user@pass.example");
	scan_set_deadline_ms(s, DNSSRV_WAIT_MS);
	scan_result(s, "spf", "error");
	assert_int_equal(spf_stage.run(state, s), STAGE_OK);
	assert_string_equal(scan_result_get(s, "spf"), "pass");
	assert_true(has_hit(s, "SPF_PASS", NULL));
	scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_fail_rejects_listed),
		cmocka_unit_test(test_softfail_not_rejected),
		cmocka_unit_test(test_null_sender_uses_helo),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_client_addr),
		cmocka_unit_test(test_hostile_identity_quoted),
		cmocka_unit_test(test_checker_ipv4_mapped),
		cmocka_unit_test(test_envelope_then_run),
		cmocka_unit_test(test_early_error_redone),
	};
	return cmocka_run_group_tests_name("spf", tests, setup, teardown);
}
