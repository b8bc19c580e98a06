/* Unit tests: netset items (IPv4, CIDR, dotted masks, short forms,
 * IPv6, brackets, scopes, exclusions) and matching (first entry decides,
 * loopback defaults, IPv4 against IPv6 networks), refused items. Expected
 * results are those of SpamAssassin 4.0.1's NetSet (sequential search,
 * no Net::Patricia) on the same items. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "netset.h"

/* A set (no loopback) of the blank-separated items; every item must
 * parse. */
static struct netset *set_of(const char *items)
{
	struct netset *s = netset_new(false);
	assert_non_null(s);
	const char *p = items;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		struct netset_net net;
		char err[160];
		if (netset_parse(p, n, &net, err, sizeof err) != 0)
			fail_msg("'%.*s': %s", (int)n, p, err);
		assert_true(netset_add(s, &net, NULL) >= 0);
		p += n;
	}
	return s;
}

static void in(const char *items, const char *ip, bool want)
{
	struct netset *s = set_of(items);
	if (netset_contains(s, ip) != want)
		fail_msg("[%s] contains %s: expected %d", items, ip, want);
	netset_free(s);
}

static void parsed_as(const char *item, const char *want)
{
	struct netset_net net;
	char err[160], buf[64];
	if (netset_parse(item, strlen(item), &net, err, sizeof err) != 0)
		fail_msg("'%s': %s", item, err);
	assert_string_equal(netset_format(&net, buf, sizeof buf), want);
}

static void refused(const char *item, const char *why)
{
	struct netset_net net;
	char err[160] = "";
	if (netset_parse(item, strlen(item), &net, err, sizeof err) == 0)
		fail_msg("'%s' accepted", item);
	if (strstr(err, why) == NULL)
		fail_msg("'%s': '%s' does not say '%s'", item, err, why);
}

static void t_ipv4_forms(void **st)
{
	(void)st;
	parsed_as("192.168.1.7", "192.168.1.7/32");
	parsed_as("192.168.0.0/16", "192.168.0.0/16");
	parsed_as("10.1.2.3/8", "10.0.0.0/8");          /* host bits ignored */
	parsed_as("10.0.0.0/255.0.0.0", "10.0.0.0/8");   /* dotted mask */
	parsed_as("172.16.0.0/255.240.0.0", "172.16.0.0/12");
	parsed_as("10.0.0.0/08", "10.0.0.0/8");
	parsed_as("010.001.2.3", "10.1.2.3/32");         /* leading zeros */
	/* short forms, trailing dot optional */
	parsed_as("10.", "10.0.0.0/8");
	parsed_as("10", "10.0.0.0/8");
	parsed_as("10.1", "10.1.0.0/16");
	parsed_as("10.1.", "10.1.0.0/16");
	parsed_as("10.1.2.", "10.1.2.0/24");
	parsed_as("10.1.2", "10.1.2.0/24");
	parsed_as("10/8", "10.0.0.0/8");
	parsed_as("10.1/8", "10.0.0.0/8");
	parsed_as("0/0", "0.0.0.0/0");
	parsed_as("!10.0.1.5", "!10.0.1.5/32");
	parsed_as("[192.0.2.1]/24", "192.0.2.0/24");
	in("10.", "10.200.3.4", true);
	in("10.", "11.0.0.1", false);
	in("10.1", "10.1.9.9", true);
	in("10.1", "10.2.9.9", false);
	in("10.1.2.", "10.1.2.255", true);
	in("10.1.2.", "10.1.3.0", false);
	in("192.0.2.128/25", "192.0.2.200", true);
	in("192.0.2.128/25", "192.0.2.100", false);
	in("212.17.35.15", "212.17.35.15", true);
	in("212.17.35.15", "212.17.35.16", false);
	in("10.0.0.0/0", "9.9.9.9", true);
}

static void t_ipv6_forms(void **st)
{
	(void)st;
	parsed_as("2001:db8::/32", "2001:db8::/32");
	parsed_as("2001:DB8:1::1", "2001:db8:1::1/128");
	parsed_as("[2001:db8::1]/64", "2001:db8::/64");
	parsed_as("fe80::1%eth0/64", "fe80::/64");       /* scope ignored */
	parsed_as("[fe80::1%eth0]", "fe80::1/128");
	parsed_as("!2001:db8:1::/48", "!2001:db8:1::/48");
	in("2001:db8::/32", "2001:db8:1::5", true);
	in("2001:db8::/32", "2001:db9::5", false);
	in("2001:db8::/32", "2001:DB8::A", true);
	in("[2001:db8::1]/64", "2001:db8::77", true);
	in("fe80::1%eth0/64", "fe80::5", true);
	/* IPv4 addresses are matched against the IPv6 form of every
	 * network too, as SpamAssassin does */
	in("::/0", "1.2.3.4", true);
	in("::ffff:10.0.0.0/104", "10.1.1.1", true);
	in("::ffff:10.0.0.0/104", "11.1.1.1", false);
	in("10.0.0.0/8", "::ffff:10.1.1.1", true);
	/* an IPv4 network does not cover native IPv6 */
	in("0/0", "2001:db8::1", false);
	in("::/0", "2001:db8::1", true);
}

static void t_exclusions_and_order(void **st)
{
	(void)st;
	/* the first entry that contains the address decides */
	in("!10.0.1.5 10.0.1/24", "10.0.1.5", false);
	in("!10.0.1.5 10.0.1/24", "10.0.1.6", true);
	in("!10.0.1.5 10.0.1/24", "10.0.2.1", false);
	in("2001:db8:1::1 !2001:db8:1::/64 2001:db8::/32", "2001:db8:1::1",
	   true);
	in("2001:db8:1::1 !2001:db8:1::/64 2001:db8::/32", "2001:db8:1::2",
	   false);
	in("2001:db8:1::1 !2001:db8:1::/64 2001:db8::/32", "2001:db8:2::2",
	   true);
	in("!0/0", "1.2.3.4", false);
	in("!0/0", "2001:db8::1", false);
	in("!64.161.22.236 0/0", "64.161.22.236", false);
	in("!64.161.22.236 0/0", "64.161.22.237", true);

	/* an exclusion after a network that covers it has no effect, and is
	 * refused (SpamAssassin: "cannot exclude ... as it has already been
	 * included") */
	struct netset *s = set_of("10.0.1.0/24");
	struct netset_net net;
	char err[160];
	assert_int_equal(netset_parse("!10.0.1.5", 9, &net, err, sizeof err), 0);
	size_t cover = 99;
	assert_int_equal(netset_add(s, &net, &cover), 0);
	assert_int_equal(cover, 0);
	assert_int_equal(netset_count(s), 1);
	assert_true(netset_contains(s, "10.0.1.5"));
	/* a wider one after a narrower one is added */
	assert_int_equal(netset_parse("10.0.0.0/16", 11, &net, err, sizeof err),
	                 0);
	assert_int_equal(netset_add(s, &net, NULL), 1);
	assert_int_equal(netset_count(s), 2);
	assert_true(netset_contains(s, "10.0.200.1"));
	netset_remove(s, 0);
	assert_int_equal(netset_count(s), 1);
	assert_true(netset_contains(s, "10.0.1.5"));
	netset_free(s);
}

static void t_loopback(void **st)
{
	(void)st;
	struct netset *s = netset_new(true);
	assert_non_null(s);
	assert_int_equal(netset_count(s), 2);
	assert_true(netset_contains(s, "127.0.0.1"));
	assert_true(netset_contains(s, "127.255.1.2"));
	assert_true(netset_contains(s, "::1"));
	assert_false(netset_contains(s, "::2"));
	assert_false(netset_contains(s, "10.0.0.1"));
	/* 127/8 comes first: excluding loopback later has no effect */
	struct netset_net net;
	char err[160];
	assert_int_equal(netset_parse("!127.0.0.1", 10, &net, err, sizeof err),
	                 0);
	assert_int_equal(netset_add(s, &net, NULL), 0);
	assert_true(netset_contains(s, "127.0.0.1"));
	netset_free(s);

	s = netset_new(false);
	assert_int_equal(netset_count(s), 0);
	assert_false(netset_contains(s, "127.0.0.1"));
	netset_free(s);
}

static void t_contains_net(void **st)
{
	(void)st;
	struct netset *s = set_of("!10.1.0.0/16 10.0.0.0/8 2001:db8::/32");
	struct netset_net n;
	char err[160];
	assert_int_equal(netset_parse("10.2.0.0/16", 11, &n, err, sizeof err), 0);
	assert_true(netset_contains_net(s, &n));
	assert_int_equal(netset_parse("10.1.2.0/24", 11, &n, err, sizeof err), 0);
	assert_false(netset_contains_net(s, &n));      /* excluded first */
	assert_int_equal(netset_parse("10.0.0.0/7", 10, &n, err, sizeof err), 0);
	assert_false(netset_contains_net(s, &n));      /* wider */
	assert_int_equal(netset_parse("2001:db8:5::/48", 15, &n, err,
	                              sizeof err), 0);
	assert_true(netset_contains_net(s, &n));
	netset_free(s);
}

static void t_not_addresses(void **st)
{
	(void)st;
	struct netset *s = set_of("0/0 ::/0");
	assert_false(netset_contains(s, ""));
	assert_false(netset_contains(s, "example.com"));
	assert_false(netset_contains(s, "1.2.3"));
	assert_false(netset_contains(s, "1.2.3.4!"));
	assert_false(netset_contains(s, "ab:cd"));
	netset_free(s);
}

static void t_refused(void **st)
{
	(void)st;
	refused("300.1.1.1", "octet 300 out of range");
	refused("10.0.0.0/33", "/33 out of range (0-32 for IPv4)");
	refused("2001:db8::/129", "/129 out of range (0-128 for IPv6)");
	refused("10.0.0.0/-1", "range");
	refused("192.168.1.1-192.168.1.9", "range");
	refused("10.0.0.0/", "expected a prefix length");
	refused("10.0.0.0/8x", "expected a prefix length");
	refused("10.0.0.0/255.0.255.0", "expected a prefix length");
	refused("2001:db8::/255.0.0.0", "expected a prefix length");
	refused("1.2.3.4.", "expected an IPv4 address");
	refused("1.2.3.4.5", "expected an IPv4 address");
	refused("1..2", "expected an IPv4 address");
	refused("1.2.3.4x", "expected an IPv4 address");
	refused("foo.example", "expected an IPv4 or IPv6 address");
	refused("0x0a.0.0.1", "expected an IPv4 or IPv6 address");
	refused("!", "expected an IPv4 or IPv6 address");
	refused("2001:db8::g", "expected an IPv4 or IPv6 address");
	refused("[10.0.0.1", "expected an IPv4 or IPv6 address");
	char big[NETSET_ITEM_MAX + 10];
	memset(big, '1', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	refused(big, "longer than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ipv4_forms),
		cmocka_unit_test(t_ipv6_forms),
		cmocka_unit_test(t_exclusions_and_order),
		cmocka_unit_test(t_loopback),
		cmocka_unit_test(t_contains_net),
		cmocka_unit_test(t_not_addresses),
		cmocka_unit_test(t_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
