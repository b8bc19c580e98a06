/* Unit tests: the URI rewrites of uriform.c, each expected value the
 * output of SpamAssassin 4.0.1's Util.pm uri_list_canonicalize for the
 * URI shown (its numeric-host, %-decoding, "//" and '\' forms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "uriform.h"

/* f(in) as a string: f is uriform_ip_form() ("" when the host is not
 * numeric) or uriform_url_decode(). */
static void out_is(size_t (*f)(const char *, size_t, char *), const char *in,
                   const char *want)
{
	char out[3 * 128 + 1];
	size_t n = strlen(in);
	assert_true(n < 128);
	n = f(in, n, out);
	out[n] = '\0';
	assert_string_equal(out, want);
}

static void ip_is(const char *h, const char *want)
{
	out_is(uriform_ip_form, h, want);
}

static void t_ip_form(void **state)
{
	(void)state;
	ip_is("127.0.0.1", "127...1");          /* zeros dropped */
	ip_is("017.0x10.1.1", "15.16.1.1");     /* octal, hex parts */
	ip_is("08.09.010.0377", "8.9.8.255");   /* 8, 9 not octal */
	ip_is("00012.1.1.1", "10.1.1.1");
	ip_is("0x7f000001", "127.0.0.1");       /* one hex number */
	ip_is("0x1234567890", "52.86.120.144"); /* its last 8 digits */
	ip_is("2130706433", "127.0.0.1");       /* one decimal number */
	ip_is("example.com", "");
	ip_is("1.2.3", "");
	ip_is("1.2.3.4.", "");
	ip_is("0x", "");
	ip_is("", "");
}

static void t_numeric_host(void **state)
{
	(void)state;
	assert_true(uriform_numeric_host("127.0.0.1", 9));
	assert_true(uriform_numeric_host("127.0.0.1:8080", 14));
	assert_true(uriform_numeric_host("0x7f000001", 10));
	assert_true(uriform_numeric_host("0x7f.0.0.1", 10));
	assert_false(uriform_numeric_host("1.2.3", 5));
	assert_false(uriform_numeric_host("1.2.3.4.", 8));
	assert_false(uriform_numeric_host("1.2.3.x", 7));
	assert_false(uriform_numeric_host("example.com", 11));
	assert_false(uriform_numeric_host("", 0));
}

static void t_url_decode(void **state)
{
	(void)state;
	out_is(uriform_url_decode, "http://a.b/%41%0a%25\"", "http://a.b/A%0a%%22");
	out_is(uriform_url_decode, "Ex%61mple?q=%20a", "Example?q=%20a");
	out_is(uriform_url_decode, "http://a.b/%41 b<>\xc3\xa9",
	       "http://a.b/A%20b%3c%3e%c3%a9");
	out_is(uriform_url_decode, "http://a.b/%41?50%", "http://a.b/A?50%25");
	out_is(uriform_url_decode, "http://a.b/%41?%4", "http://a.b/A?%254");
}

static void nuri_is(const char *u, const char *want)
{
	char t[256], d[3 * 256 + 8];
	size_t n = strlen(u);
	assert_true(n + 2 <= sizeof t);
	size_t dn = uriform_nuri(u, n, t, d);
	d[dn] = '\0';
	assert_string_equal(d, want);
}

static void t_nuri(void **state)
{
	(void)state;
	nuri_is("http:\\\\example.com\\x", "http://example.com/x");
	nuri_is("http:example.com/x", "http://example.com/x");
	nuri_is("https:/a.b#f", "https://a.b/#f");
	nuri_is("http://Ex%61mple.com?q=%20a", "http://Example.com/?q=%20a");
	nuri_is("http://a.b/%41%0a%25\"", "http://a.b/A%0a%%22");
	nuri_is("http://a.b/x\"y", "http://a.b/x\"y");   /* no escape */
	nuri_is("ftp://a.b?x", "ftp://a.b?x");
}

/* Character references: printable ASCII by number (three passes, so
 * "&#38;#x41;" is "A"), "&#x" lower-case only, 0x2a-0x2f left out, the
 * Unicode full stops as '.' in any case. */
static void t_nuri_refs(void **state)
{
	(void)state;
	nuri_is("http://a.b/&#38;#x41;&#X41;&#x6A;&#X2E;&#x02e;&#0033;"
	        "&#x7f;&#x7E;", "http://a.b/A&#X41;j.&#x02e;!&#x7f;~");
	nuri_is("http://a.b/&#x2e;&#12290;&#x3002;&#65294;&#xFF0E;&#65377;"
	        "&#xff61;&#x7;", "http://a.b/.......&#x7;");
	nuri_is("http://a.b/&#1000;&#00100;&#x0041;&#x29;&#x21;&#x20;",
	        "http://a.b/&#1000;dA)!&#x20;");
	nuri_is("http://a.b/x&#x2F;y&#0065;&#127;&#x7e",
	        "http://a.b/x&#x2F;yA&#127;&#x7e");
	nuri_is("http://www.ex&#97;mple.com/x",
	        "http://www.ex&/#97;mple.com/x");   /* the '/' comes first */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ip_form),
		cmocka_unit_test(t_numeric_host),
		cmocka_unit_test(t_url_decode),
		cmocka_unit_test(t_nuri),
		cmocka_unit_test(t_nuri_refs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
