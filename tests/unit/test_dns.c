/* test_dns.c — the resolver module against tests/integration/dnssrv.py */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <pthread.h>

#include "dns.h"
#include "monotime.h"
#include "test_dns_srv.h"

static struct dnssrv srv;
static cfg_t *root;
static struct dns *dns;

static cfg_opt_t root_opts[] = {
	CFG_SEC("dns", dns_conf_opts, CFGF_NONE),
	CFG_END()
};

static int setup(void **state)
{
	(void)state;
	char text[256], err[256];
	if (dnssrv_start(&srv, "tests/unit/dns_zone.yml", NULL, NULL) == 0)
		return -1;
	snprintf(text, sizeof text,
	         "dns { servers = {\"127.0.0.1@%u\"} " DNSSRV_WAITS " }", srv.port);
	root = cfg_init(root_opts, CFGF_NONE);
	if (cfg_parse_buf(root, text) != CFG_SUCCESS)
		return -1;
	dns = dns_get(root, err, sizeof err);
	return dns ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dns_put(dns);
	cfg_free(root);
	dnssrv_stop(&srv);
	return 0;
}

static void test_txt(void **state)
{
	(void)state;
	struct dns_answer *a;
	char buf[64];
	assert_int_equal(dns_query(dns, NULL, "txt.example", 16, &a), DNS_ANSWER);
	assert_int_equal(dns_answer_count(a), 1);
	assert_int_equal(dns_answer_txt(a, 0, buf, sizeof buf), 11);
	assert_string_equal(buf, "hello world");
	assert_int_equal(dns_answer_txt(a, 0, buf, 5), -1);  /* too small */
	assert_false(dns_answer_secure(a));
	dns_answer_free(a);
	assert_int_equal(dns_query(dns, NULL, "multi.example", 16, &a), DNS_ANSWER);
	assert_int_equal(dns_answer_txt(a, 0, buf, sizeof buf), 17);
	assert_string_equal(buf, "part one part two");
	dns_answer_free(a);
}

static void test_a_and_mx(void **state)
{
	(void)state;
	struct dns_answer *a;
	size_t len;
	char name[256];
	assert_int_equal(dns_query(dns, NULL, "A.Example.", 1, &a), DNS_ANSWER);
	assert_int_equal(dns_answer_count(a), 2);
	const unsigned char *rd = dns_answer_rdata(a, 1, &len);
	assert_int_equal(len, 4);
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, rd, ip, sizeof ip);
	assert_true(strcmp(ip, "192.0.2.1") == 0 || strcmp(ip, "192.0.2.2") == 0);
	assert_null(dns_answer_rdata(a, 2, &len));
	dns_answer_free(a);
	assert_int_equal(dns_query(dns, NULL, "mx.example", 15, &a), DNS_ANSWER);
	rd = dns_answer_rdata(a, 0, &len);
	assert_int_equal(rd[0] * 256 + rd[1], 10);
	assert_int_equal(dns_wire_name(rd, len, 2, name, sizeof name), 16);
	assert_string_equal(name, "mail.example.org");
	assert_int_equal(dns_wire_name(rd, len - 1, 2, name, sizeof name), -1);
	dns_answer_free(a);
}

static void test_negative(void **state)
{
	(void)state;
	struct dns_answer *a;
	assert_int_equal(dns_query(dns, NULL, "none.example", 16, &a), DNS_NXDOMAIN);
	assert_int_equal(dns_answer_rcode(a), 3);
	assert_int_equal(dns_answer_count(a), 0);
	dns_answer_free(a);
	assert_int_equal(dns_query(dns, NULL, "nodata.example", 16, &a), DNS_NODATA);
	assert_int_equal(dns_answer_rcode(a), 0);
	dns_answer_free(a);
}

static void test_cname(void **state)
{
	(void)state;
	struct dns_answer *a;
	char buf[64];
	assert_int_equal(dns_query(dns, NULL, "alias.example", 16, &a), DNS_ANSWER);
	assert_int_equal(dns_answer_txt(a, 0, buf, sizeof buf), 11);
	size_t plen;
	assert_non_null(dns_answer_packet(a, &plen));
	assert_true(plen > 12);
	dns_answer_free(a);
}

static void test_servfail_and_timeout(void **state)
{
	(void)state;
	struct dns_answer *a;
	struct dns_budget b;
	/* timeout.example is never answered: a short budget */
	dns_budget_begin(dns, &b, NULL, DNSSRV_DEAD_MS);
	assert_int_equal(dns_query(dns, &b, "servfail.example", 16, &a), DNS_TEMPFAIL);
	dns_answer_free(a);
	uint64_t t0 = monotime_ms();
	assert_int_equal(dns_query(dns, &b, "timeout.example", 16, &a), DNS_TEMPFAIL);
	/* our deadline (-1) or unbound giving up first (SERVFAIL) */
	assert_true(dns_answer_rcode(a) == -1 || dns_answer_rcode(a) == 2);
	dns_answer_free(a);
	/* a used-up budget answers TEMPFAIL without asking */
	b.deadline_ms = monotime_ms();
	assert_int_equal(dns_budget_left_ms(&b), 0);
	assert_int_equal(dns_query(dns, &b, "txt.example", 16, &a), DNS_TEMPFAIL);
	assert_int_equal(dns_answer_rcode(a), -1);
	dns_answer_free(a);
	assert_int_equal(b.queries, 3);
	assert_int_equal(b.tempfails, 3);
	/* bounded by the budget (generous upper bound, no lower bound) */
	assert_true(monotime_ms() - t0 < 5000);
	/* the resolver still answers afterwards */
	assert_int_equal(dns_query(dns, NULL, "txt.example", 16, &a), DNS_ANSWER);
	dns_answer_free(a);
}

static void test_shared(void **state)
{
	(void)state;
	char err[128];
	struct dns *again = dns_get(root, err, sizeof err);
	assert_ptr_equal(again, dns);
	dns_put(again);
}

static void *worker(void *arg)
{
	(void)arg;
	static const char *const names[] = { "txt.example", "a.example", "mx.example",
	                                     "none.example" };
	static const int types[] = { 16, 1, 15, 16 };
	static const enum dns_status want[] = { DNS_ANSWER, DNS_ANSWER,
	                                        DNS_ANSWER, DNS_NXDOMAIN };
	for (int i = 0; i < 40; i++) {
		struct dns_answer *a;
		int k = i % 4;
		if (dns_query(dns, NULL, names[k], types[k], &a) != want[k]) {
			dns_answer_free(a);
			return (void *)1;
		}
		dns_answer_free(a);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
}

static void test_bad_config(void **state)
{
	(void)state;
	char err[256];
	cfg_t *c = cfg_init(root_opts, CFGF_NONE);
	assert_int_equal(cfg_parse_buf(c, "dns { servers = {\"not an ip\"} }"),
	                 CFG_SUCCESS);
	assert_null(dns_new(cfg_getsec(c, "dns"), err, sizeof err));
	assert_non_null(strstr(err, "not an ip"));
	cfg_free(c);
}

/* vigil's answer cache: a record with a TTL is answered again without a
 * query (even with the server gone); temporary failures are not kept. */
static void test_cache(void **state)
{
	(void)state;
	struct dnssrv ttl_srv;
	char text[256], err[256], buf[64];
	/* the helper passes its last two arguments on: serve with a TTL */
	assert_true(dnssrv_start(&ttl_srv, "tests/unit/dns_zone.yml", "--ttl",
	                         "300") != 0);
	snprintf(text, sizeof text,
	         "dns { servers = {\"127.0.0.1@%u\"} " DNSSRV_WAITS " }",
	         ttl_srv.port);
	cfg_t *r = cfg_init(root_opts, CFGF_NONE);
	assert_int_equal(cfg_parse_buf(r, text), CFG_SUCCESS);
	struct dns *d = dns_new(cfg_getsec(r, "dns"), err, sizeof err);
	assert_non_null(d);
	struct dns_answer *a, *b2, *t;
	struct dns_budget dead;	/* for timeout.example, never answered */
	assert_int_equal(dns_query(d, NULL, "txt.example", 16, &a), DNS_ANSWER);
	assert_int_equal(dns_cache_hits(d), 0);
	dns_budget_begin(d, &dead, NULL, DNSSRV_DEAD_MS);
	assert_int_equal(dns_query(d, &dead, "timeout.example", 16, &t),
	                 DNS_TEMPFAIL);
	dns_answer_free(t);
	dnssrv_stop(&ttl_srv);
	assert_int_equal(dns_query(d, NULL, "TXT.example", 16, &b2), DNS_ANSWER);
	assert_int_equal(dns_cache_hits(d), 1);
	assert_int_equal(dns_answer_txt(b2, 0, buf, sizeof buf), 11);
	assert_string_equal(buf, "hello world");
	dns_answer_free(a);	/* the cache still holds its own reference */
	assert_int_equal(dns_answer_txt(b2, 0, buf, sizeof buf), 11);
	dns_answer_free(b2);
	dns_budget_begin(d, &dead, NULL, DNSSRV_DEAD_MS);
	assert_int_equal(dns_query(d, &dead, "timeout.example", 16, &t),
	                 DNS_TEMPFAIL);
	assert_int_equal(dns_cache_hits(d), 1);
	dns_answer_free(t);
	dns_put(d);
	cfg_free(r);
}

/* The loop resolver: answers and deadlines arrive as callbacks on the
 * event loop, which is never blocked. */
struct loop_got {
	int calls;
	enum dns_status st[3];
	char txt[64];
	struct event_base *base;
};

static void loop_cb(void *arg, struct dns_answer *a)
{
	struct loop_got *g = arg;
	assert_non_null(a);
	enum dns_status st = dns_answer_status(a);
	if (st == DNS_ANSWER)
		dns_answer_txt(a, 0, g->txt, sizeof g->txt);
	g->st[g->calls < 3 ? g->calls : 2] = st;
	g->calls++;
	dns_answer_free(a);
	if (g->calls == 3)
		event_base_loopexit(g->base, NULL);
}

static void test_loop(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	char err[256];
	struct dns_loop *l = dns_loop_new(cfg_getsec(root, "dns"), base, err,
	                                  sizeof err);
	assert_non_null(l);
	struct loop_got g = { .base = base };
	assert_int_equal(dns_loop_query(l, "txt.example", 16, 0, loop_cb, &g), 0);
	assert_int_equal(dns_loop_query(l, "nonexistent.example", 16, 0, loop_cb,
	                                &g), 0);
	assert_int_equal(dns_loop_query(l, "timeout.example", 16,
	                                DNSSRV_DEAD_MS, loop_cb, &g), 0);
	/* a safety net only: the deadlines end the loop before */
	struct timeval limit = { DNSSRV_WAIT_MS / 1000 + 10, 0 };
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(g.calls, 3);
	assert_string_equal(g.txt, "hello world");
	int answers = 0, nx = 0, temp = 0;
	for (int i = 0; i < 3; i++) {
		answers += g.st[i] == DNS_ANSWER;
		nx += g.st[i] == DNS_NXDOMAIN;
		temp += g.st[i] == DNS_TEMPFAIL;
	}
	assert_int_equal(answers, 1);
	assert_int_equal(nx, 1);
	assert_int_equal(temp, 1);
	dns_loop_free(l);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_a_and_mx),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_cname),
		cmocka_unit_test(test_servfail_and_timeout),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests_name("dns", tests, setup, teardown);
}
