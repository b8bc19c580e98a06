/* test_dmarc.c — the DMARC stage on its own (SPF and DKIM outcomes put
 * into the scan by hand) and the three authentication stages together:
 * early hooks (SPF envelope(), DKIM header/eoh/body) then run() give what
 * run() alone gives. Policies and keys in tests/dkim/stage_zone.yml, served
 * by tests/integration/dnssrv.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dkimver.h"
#include "dmarc.h"
#include "dns.h"
#include "scan.h"
#include "spf.h"
#include "test_dkim_util.h"
#include "test_dns_srv.h"

static struct dnssrv srv;
static cfg_t *root, *root_hdr;
static void *spf, *dkim, *dmarc;  /* reject_action = reject, ... */
static void *dmarc_hdr;           /* default actions: add-header */

static cfg_opt_t *root_opts(void)
{
	static cfg_opt_t opts[] = {
		CFG_SEC("dns", dns_conf_opts, CFGF_NONE),
		CFG_SEC("spf", NULL, CFGF_NONE),
		CFG_SEC("dkim", NULL, CFGF_NONE),
		CFG_SEC("dmarc", NULL, CFGF_NONE),
		CFG_STR("hostname", "mx.test.example", CFGF_NONE),
		CFG_END()
	};
	opts[1].subopts = spf_stage.conf_opts;
	opts[2].subopts = dkimver_stage.conf_opts;
	opts[3].subopts = dmarc_stage.conf_opts;
	return opts;
}

static void *init(const struct stage_ops *st, cfg_t *r)
{
	char err[256];
	void *s = st->init(r, cfg_getsec(r, st->name), err, sizeof err);
	if (s == NULL)
		fprintf(stderr, "%s init: %s\n", st->name, err);
	return s;
}

static cfg_t *parse(const char *extra)
{
	char text[1024];
	snprintf(text, sizeof text, "dns { servers = {\"127.0.0.1@%u\"} "
	         DNSSRV_WAITS " } %s", srv.port, extra);
	cfg_t *r = cfg_init(root_opts(), CFGF_NONE);
	if (cfg_parse_buf(r, text) != CFG_SUCCESS) {
		cfg_free(r);
		return NULL;
	}
	return r;
}

static int setup(void **st)
{
	(void)st;
	if (dnssrv_start(&srv, "tests/dkim/stage_zone.yml", NULL, NULL) == 0)
		return -1;
	root = parse("dmarc { reject_action = \"reject\" "
	             "quarantine_action = \"quarantine\" }");
	root_hdr = parse("");
	if (root == NULL || root_hdr == NULL)
		return -1;
	spf = init(&spf_stage, root);
	dkim = init(&dkimver_stage, root);
	dmarc = init(&dmarc_stage, root);
	dmarc_hdr = init(&dmarc_stage, root_hdr);
	return spf && dkim && dmarc && dmarc_hdr ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	spf_stage.fini(spf);
	dkimver_stage.fini(dkim);
	dmarc_stage.fini(dmarc);
	dmarc_stage.fini(dmarc_hdr);
	cfg_free(root);
	cfg_free(root_hdr);
	dnssrv_stop(&srv);
	return 0;
}

/* ---- the DMARC stage alone ---- */

/* A message From `from`, envelope sender mail_from, the SPF result and
 * the d= of a passing DKIM signature (NULL: none) as earlier stages would
 * have left them; then the DMARC stage. */
static struct scan *evaluate(void *stp, const char *from,
                             const char *mail_from, const char *spf_result,
                             const char *dkim_d)
{
	char raw[512];
	snprintf(raw, sizeof raw, "From: %s\r\nSubject: t\r\n\r\nbody\r\n", from);
	struct scan *s = tdk_scan_raw(raw, "192.0.2.10", "mx.example",
	                              mail_from);
	/* slow.example's policy is never served: a short wait
	 * (test_dns_srv.h) */
	if (strstr(from, "@slow.example") != NULL)
		scan_set_deadline_ms(s, DNSSRV_DEAD_MS);
	if (spf_result != NULL)
		scan_result(s, "spf", spf_result);
	if (dkim_d != NULL) {
		char e[300];
		snprintf(e, sizeof e, "dkim=pass (2048-bit key) header.d=%s "
		         "header.s=sel", dkim_d);
		scan_add_auth_result(s, e);
	}
	assert_int_equal(dmarc_stage.run(stp, s), STAGE_OK);
	return s;
}

static void test_pass_spf_aligned(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@example.org", "b@mail.example.org",
	                          "pass", NULL);
	assert_string_equal(scan_result_get(s, "dmarc"), "pass");
	assert_true(tdk_has_hit(s, "DMARC_PASS"));
	assert_non_null(tdk_auth_with(s, "dmarc=pass (p=reject dis=none) "
	                              "header.from=example.org "
	                              "policy.dmarc=reject"));
	assert_null(scan_result_get(s, "reject"));
	assert_null(scan_result_get(s, "quarantine"));
	scan_free(s);
}

static void test_pass_dkim_aligned(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@example.org", "b@other.example",
	                          "fail", "example.org");
	assert_string_equal(scan_result_get(s, "dmarc"), "pass");
	assert_true(tdk_has_hit(s, "DMARC_PASS"));
	scan_free(s);
	/* a DKIM domain that is not the author's does not align */
	s = evaluate(dmarc, "a@example.org", "b@other.example", "pass",
	             "other.example");
	assert_string_equal(scan_result_get(s, "dmarc"), "fail");
	scan_free(s);
}

static void test_reject(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@example.org", "b@example.org",
	                          "fail", NULL);
	assert_string_equal(scan_result_get(s, "dmarc"), "fail");
	assert_true(tdk_has_hit(s, "DMARC_REJECT"));
	assert_non_null(tdk_auth_with(s, "dmarc=fail (p=reject dis=reject) "
	                              "header.from=example.org"));
	assert_string_equal(scan_result_get(s, "reject"),
	                    "550 5.7.1 Rejected by the DMARC policy of "
	                    "example.org");
	scan_free(s);
	/* add-header: the hit and the entry, no reject request */
	s = evaluate(dmarc_hdr, "a@example.org", "b@example.org", "fail", NULL);
	assert_true(tdk_has_hit(s, "DMARC_REJECT"));
	assert_null(scan_result_get(s, "reject"));
	assert_null(scan_result_get(s, "quarantine"));
	scan_free(s);
}

static void test_quarantine_and_none(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@quar.example", "b@quar.example",
	                          "softfail", NULL);
	assert_true(tdk_has_hit(s, "DMARC_QUAR"));
	assert_null(scan_result_get(s, "reject"));
	assert_string_equal(scan_result_get(s, "quarantine"),
	                    "DMARC policy of quar.example");
	scan_free(s);
	s = evaluate(dmarc, "a@none.example", "b@none.example", "fail", NULL);
	assert_string_equal(scan_result_get(s, "dmarc"), "fail");
	assert_true(tdk_has_hit(s, "DMARC_NONE"));
	assert_null(scan_result_get(s, "reject"));
	assert_null(scan_result_get(s, "quarantine"));
	scan_free(s);
}

/* pct=0: a failing message is never sampled, reject becomes quarantine */
static void test_pct(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@sampled.example",
	                          "b@sampled.example", "fail", NULL);
	assert_true(tdk_has_hit(s, "DMARC_QUAR"));
	assert_null(scan_result_get(s, "reject"));
	assert_non_null(scan_result_get(s, "quarantine"));
	assert_non_null(tdk_auth_with(s, "(p=reject dis=quarantine "
	                              "pct-sampled)"));
	scan_free(s);
}

static void test_strict_alignment(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@strict.example",
	                          "b@mail.strict.example", "pass",
	                          "mail.strict.example");
	assert_string_equal(scan_result_get(s, "dmarc"), "fail");
	assert_true(tdk_has_hit(s, "DMARC_REJECT"));
	scan_free(s);
	s = evaluate(dmarc, "a@strict.example", "b@strict.example", "pass",
	             NULL);
	assert_string_equal(scan_result_get(s, "dmarc"), "pass");
	scan_free(s);
}

static void test_missing_and_errors(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@nopolicy.example",
	                          "b@nopolicy.example", "fail", NULL);
	assert_string_equal(scan_result_get(s, "dmarc"), "none");
	assert_true(tdk_has_hit(s, "DMARC_MISSING"));
	assert_null(scan_result_get(s, "reject"));
	scan_free(s);
	s = evaluate(dmarc, "a@slow.example", "b@slow.example", "fail", NULL);
	assert_string_equal(scan_result_get(s, "dmarc"), "temperror");
	assert_int_equal(scan_hit_count(s), 0);
	assert_null(scan_result_get(s, "reject"));
	scan_free(s);
	s = evaluate(dmarc, "undisclosed-recipients:;", "b@example.org", "fail",
	             NULL);
	assert_string_equal(scan_result_get(s, "dmarc"), "permerror");
	assert_non_null(tdk_auth_with(s, "dmarc=permerror (no From domain)"));
	scan_free(s);
}

/* Several authors: each domain evaluated, the worst one decides. */
static void test_several_from(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@none.example, b@example.org",
	                          "c@other.example", "fail", NULL);
	assert_non_null(tdk_auth_with(s, "header.from=none.example"));
	assert_non_null(tdk_auth_with(s, "header.from=example.org"));
	assert_true(tdk_has_hit(s, "DMARC_REJECT"));
	assert_non_null(scan_result_get(s, "reject"));
	scan_free(s);
	/* two From headers: permerror (RFC 7489 §6.6.1) */
	const char raw[] = "From: a@example.org\r\nFrom: b@example.org\r\n"
	                   "\r\nbody\r\n";
	s = tdk_scan_raw(raw, "192.0.2.10", "mx", "b@example.org");
	assert_int_equal(dmarc_stage.run(dmarc, s), STAGE_OK);
	assert_string_equal(scan_result_get(s, "dmarc"), "permerror");
	assert_null(scan_result_get(s, "reject"));
	scan_free(s);
}

/* A dkim entry whose header.d is a quoted string is not taken for a
 * domain. */
static void test_quoted_dkim_domain_ignored(void **st)
{
	(void)st;
	struct scan *s = evaluate(dmarc, "a@example.org", "b@other.example",
	                          "fail", "\"example.org\"");
	assert_string_equal(scan_result_get(s, "dmarc"), "fail");
	scan_free(s);
}

/* ---- the three stages together ---- */

static const char body_msg[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.net\r\n"
	"Subject: together\r\n"
	"\r\n"
	"Three checks, one message.\r\n";

static const struct stage_ops *const auth_stages[] = {
	&spf_stage, &dkimver_stage, &dmarc_stage
};

static void run_all(struct scan *s)
{
	void *states[] = { spf, dkim, dmarc };
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(auth_stages[i]->run(states[i], s), STAGE_OK);
}

/* vigild's way: SPF's envelope() on an envelope-only scan, merged; the
 * DKIM hooks as the message arrives; then every run(). */
static struct scan *early_path(const char *raw, const char *ip,
                               const char *mail_from)
{
	void *states[] = { spf, dkim, dmarc };
	struct scan *early = scan_new();
	assert_non_null(early);
	assert_int_equal(scan_set_env(early, "", ip, "client.example", 25,
	                              "mx.example.org", mail_from), 0);
	scan_set_deadline_ms(early, DNSSRV_WAIT_MS);
	for (size_t i = 0; i < 3; i++)
		if (auth_stages[i]->envelope != NULL)
			assert_int_equal(auth_stages[i]->envelope(states[i], early),
			                 STAGE_OK);
	struct scan *s = tdk_scan_fed(raw, ip, "mx.example.org", mail_from,
	                              auth_stages, states, 3, 9, 0);
	assert_int_equal(scan_merge(s, early), 0);
	scan_free(early);
	run_all(s);
	return s;
}

static void test_early_same_as_run(void **st)
{
	(void)st;
	char *signed_msg = tdk_sign(body_msg, "example.org", "sel", true, -1);
	char *altered = tdk_sign(body_msg, "example.org", "sel", true, -1);
	memcpy(strstr(altered, "Three"), "Four!", 5);
	static const struct {
		int msg;               /* 0 unsigned, 1 signed, 2 altered */
		const char *ip, *mail_from, *dmarc, *spf;
		bool reject;
	} cases[] = {
		{ 1, "192.0.2.99", "x@other.example", "pass", "none", false },
		{ 0, "192.0.2.99", "x@example.org", "fail", "fail", true },
		{ 2, "192.0.2.10", "x@example.org", "pass", "pass", false },
		{ 2, "192.0.2.99", "x@example.org", "fail", "fail", true },
		{ 1, "192.0.2.99", "", "pass", "none", false },
	};
	const char *msgs[] = { body_msg, signed_msg, altered };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *raw = msgs[cases[i].msg];
		struct scan *alone = tdk_scan_raw(raw, cases[i].ip,
		                                  "mx.example.org",
		                                  cases[i].mail_from);
		run_all(alone);
		struct scan *fed = early_path(raw, cases[i].ip, cases[i].mail_from);
		assert_string_equal(scan_result_get(alone, "dmarc"), cases[i].dmarc);
		assert_string_equal(scan_result_get(alone, "spf"), cases[i].spf);
		assert_int_equal(scan_result_get(alone, "reject") != NULL,
		                 cases[i].reject);
		tdk_assert_same(alone, fed);
		scan_free(fed);
		scan_free(alone);
	}
	free(altered);
	free(signed_msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_spf_aligned),
		cmocka_unit_test(test_pass_dkim_aligned),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_quarantine_and_none),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_strict_alignment),
		cmocka_unit_test(test_missing_and_errors),
		cmocka_unit_test(test_several_from),
		cmocka_unit_test(test_quoted_dkim_domain_ignored),
		cmocka_unit_test(test_early_same_as_run),
	};
	return cmocka_run_group_tests_name("dmarc", tests, setup, teardown);
}
