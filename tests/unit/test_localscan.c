/* Unit tests: in-process scanning on several threads, in input order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "localscan.h"
#include "scan.h"
#include "verdict.h"

#define COUNT 200

struct ctx {
	int produced, consumed;
	int order_errors;
	int rejects, errors;
};

static int next(void *arg, struct localscan_item *it)
{
	struct ctx *c = arg;
	if (c->produced == COUNT)
		return 0;
	int i = c->produced++;
	it->tag = (void *)(intptr_t)i;
	if (i % 50 == 7) {
		it->error = "unreadable";
		return 1;
	}
	char buf[512];
	int n = snprintf(buf, sizeof buf, "From: a@example.org\nTo: b@example.net\n"
	                 "Subject: %d\nReceived: from h (h [198.51.100.%d]) "
	                 "by mx.example.net\n\n%s\n", i,
	                 i % 200 + 1, i % 3 == 0 ?
	                 "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
	                 : "hello");
	it->raw = malloc((size_t)n);
	memcpy(it->raw, buf, (size_t)n);
	it->len = (size_t)n;
	return 1;
}

static void done(void *arg, const struct localscan_item *it, struct scan *scan,
                 const struct verdict *v, double ms)
{
	(void)ms;
	struct ctx *c = arg;
	int i = (int)(intptr_t)it->tag;
	if (i != c->consumed)
		c->order_errors++;
	c->consumed++;
	if (it->error) {
		c->errors++;
		assert_null(scan);
		return;
	}
	assert_non_null(v);
	char want[32];
	snprintf(want, sizeof want, "198.51.100.%d", i % 200 + 1);
	assert_string_equal(scan_env(scan)->client_addr, want);
	assert_int_equal(scan_env(scan)->rcpt_count, 1);
	if (v->action == CONF_ACT_REJECT)
		c->rejects++;
	assert_int_equal(v->action == CONF_ACT_REJECT, i % 3 == 0);
}

static void ordered(void **state)
{
	(void)state;
	char err[256];
	struct conf *conf = conf_load_string("stages = {\"sanity\"}", "t", err,
	                                     sizeof err);
	assert_non_null(conf);
	for (unsigned jobs = 1; jobs <= 8; jobs *= 2) {
		struct ctx c = { 0 };
		struct envguess_flags f = { 0 };
		struct localscan_ops ops = { next, done, &c };
		assert_int_equal(localscan_run(conf, jobs, &f, &ops), 0);
		assert_int_equal(c.consumed, COUNT);
		assert_int_equal(c.order_errors, 0);
		assert_int_equal(c.errors, 4);
		assert_int_equal(c.rejects, 66);	/* 67 multiples of 3, less 57 (unreadable) */
	}
	conf_unref(conf);
}

/* A scan that returns past message_timeout and vigild's grace gets the
 * fail action, as vigild gives it then (no clock: the time is given). */
static void overran(void **state)
{
	(void)state;
	char err[256];
	struct conf *conf = conf_load_string("stages = {\"sanity\"}\n"
	                                     "message_timeout = 2", "t", err,
	                                     sizeof err);
	assert_non_null(conf);
	assert_null(localscan_overran(conf, 2999.0));
	assert_null(localscan_overran(conf, 3000.0));
	assert_string_equal(localscan_overran(conf, 3000.5),
	                    "scan deadline passed");
	conf->message_timeout_s = 0;    /* no deadline */
	assert_null(localscan_overran(conf, 1e9));
	conf_unref(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(ordered),
	                                    cmocka_unit_test(overran) };
	return cmocka_run_group_tests_name("localscan", tests, NULL, NULL);
}
