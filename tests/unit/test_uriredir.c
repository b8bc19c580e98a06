/* test_uriredir.c — unit tests of redirector_pattern: the rule-file line
 * (compiled, bad ones told with file:line), the URI list the message
 * parser builds with the patterns (each case's list is the one
 * SpamAssassin 4.0.1's get_uri_list() gives for the same message and
 * lines), the scan re-parsing with them, and a uri rule seeing the
 * captured URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "rules.h"
#include "ruleset.h"
#include "scan.h"
#include "uriredir.h"

/* The redirector_pattern lines of SpamAssassin 4.0.1's stock rules
 * (20_uri_tests.cf, 72_active.cf), as data. */
static const char stock_cf[] =
	"redirector_pattern /^http:\\/\\/chkpt\\.zdnet\\.com\\/chkpt\\/\\w+\\/(.*)$/i\n"
	"redirector_pattern /^http:\\/\\/www(?:\\d+)?\\.nate\\.com\\/r\\/\\w+\\/(.*)$/i\n"
	"redirector_pattern /^http:\\/\\/.+\\.gov\\/(?:.*\\/)?externalLink\\.jhtml\\?.*url=(.*?)(?:&.*)?$/i\n"
	"redirector_pattern /^http:\\/\\/redir\\.internet\\.com\\/.+?\\/.+?\\/(.*)$/i\n"
	"redirector_pattern /^http:\\/\\/(?:.*?\\.)?adtech\\.de\\/.*(?:;|\\|)link=(.*?)(?:;|$)/i\n"
	"redirector_pattern m'^http.*?/redirect\\.php\\?.*(?<=[?&])goto=(.*?)(?:$|[&\\#])'i\n"
	"redirector_pattern m'^https?:/*(?:[^/]+\\.)?emf\\d\\.com/r\\.cfm.*?&r=(.*)'i\n"
	"redirector_pattern m'/(?:index.php)?\\?.*(?<=[?&])URL=(.*?)(?:$|[&\\#])'i\n"
	"redirector_pattern m'^https?:/*(?:\\w+\\.)?google(?:\\.\\w{2,3}){1,2}/url\\?.*?(?<=[?&])q=(.*?)(?:$|[&\\#])'i\n"
	"redirector_pattern m'^https?:/*(?:\\w+\\.)?google(?:\\.\\w{2,3}){1,2}/search\\?.*?(?<=[?&])q=[^&]*?(?<=%20|..[=+\\s])(?:site|inurl):(.*?)(?:$|%20|[\\s+&\\#])'i\n"
	"redirector_pattern m'^https?:/*(?:\\w+\\.)?google(?:\\.\\w{2,3}){1,2}/search\\?.*?(?<=[?&])q=[^&]*?(?<=%20|..[=+\\s])(?:\"|%22)(.*?)(?:$|%22|[\"\\s+&\\#])'i\n"
	"redirector_pattern m'^https?:/*(?:\\w+\\.)?google(?:\\.\\w{2,3}){1,2}/translate\\?.*?(?<=[?&])u=(.*?)(?:$|[&\\#])'i\n"
	"redirector_pattern m'^https?:/*(?:\\w+\\.)?google(?:\\.\\w{2,3}){1,2}/pagead/iclk\\?.*?(?<=[?&])adurl=(.*?)(?:$|[&\\#])'i\n"
	"redirector_pattern m'^https?:/*(?:\\w+\\.)?aol\\.com/redir\\.adp\\?.*(?<=[?&])_url=(.*?)(?:$|[&\\#])'i\n"
	"redirector_pattern m'^https?/*(?:\\w+\\.)?facebook\\.com/l/;(.*)'i\n";

/* Three patterns of our own: the first captures no '.' on the first
 * message (SpamAssassin then tries the next one), m'...'i, m{...}i. */
static const char own_cf[] =
	"redirector_pattern m'^https?://r\\.example\\.com/go\\?a=([^&]*)'i\n"
	"redirector_pattern /^https?:\\/\\/r\\.example\\.com\\/go\\?.*&b=([^&]*)/\n"
	"redirector_pattern m{^http://r\\.example\\.com/jump/(.*)}i\n";

struct list_case {
	const char *ctype, *body;
	const char *uris[8];   /* SpamAssassin's list, NULL-terminated */
};

/* spamassassin 4.0.1, get_uri_list() with the stock rules */
static const struct list_case stock_cases[] = {
	{ "text/plain", "see http://www.google.com/url?q=http://s.example.com/y&sa=D now",
	  { "http://s.example.com/y", "http://www.google.com/url?q=http://s.example.com/y&sa=D", NULL } },
	{ "text/plain", "see http://www.google.com/search?q=gimli+site%3Adiveintomark.org now",
	  { "diveintomark.org", "http://diveintomark.org", "http://www.google.com/search?q=gimli+site%3Adiveintomark.org", "http://www.google.com/search?q=gimli+site:diveintomark.org", NULL } },
	{ "text/plain", "see http://www.google.com/url?q=foo&u=http://x.example.com/z now",
	  { "http://www.google.com/url?q=foo&u=http://x.example.com/z", "http://x.example.com/z", NULL } },
	{ "text/plain", "see http://www.google.com/url?q=a.example.net/p&r=http://b.example.org/ now",
	  { "a.example.net/p", "http://a.example.net/p", "http://www.google.com/url?q=a.example.net/p&r=http://b.example.org/", NULL } },
	{ "text/plain", "see http://www.google.com/url?q=http%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttp%253A%252F%252Fd.example.com%252F now",
	  { "http://d.example.com/", "http://www.google.com/url?q=http%3A%2F%2Fd.example.com%2F", "http://www.google.com/url?q=http%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttp%253A%252F%252Fd.example.com%252F", "http://www.google.com/url?q=http://d.example.com/", "http://www.google.com/url?q=http://www.google.com/url?q=http%3A%2F%2Fd.example.com%2F", NULL } },
	{ "text/html", "<a href=\"https://WWW.Google.CO.UK/url?x=1&q=HTTP://E.Example.COM/Path&sa=x\">x</a>",
	  { "HTTP://E.Example.COM/Path", "https://WWW.Google.CO.UK/url?x=1&q=HTTP://E.Example.COM/Path&sa=x", NULL } },
	{ "text/plain", "see http://user@www.google.com/url?q=www.f.example.com/%7Eu now",
	  { "http://user@www.google.com/url?q=www.f.example.com/%7Eu", "http://user@www.google.com/url?q=www.f.example.com/~u", "http://www.f.example.com/~u", "www.f.example.com/~u", NULL } },
	{ "text/plain", "go http://chkpt.zdnet.com/chkpt/abc/g.example.com/yo/dude now",
	  { "g.example.com/yo/dude", "http://chkpt.zdnet.com/chkpt/abc/g.example.com/yo/dude", "http://g.example.com/yo/dude", NULL } },
	{ "text/plain", "go http://www.example.com/redirect.php?a=1&goto=h.example.com/z#f now",
	  { "h.example.com/z", "http://h.example.com/z", "http://www.example.com/redirect.php?a=1&goto=h.example.com/z#f", NULL } },
	{ "text/plain", "go http://www.example.com/index.php?id=2&URL=mailto:i@j.example.com&x now",
	  { "http://www.example.com/index.php?id=2&URL=mailto:i@j.example.com&x", "mailto:i@j.example.com", NULL } },
};

/* the same with own_cf as the only redirector_pattern lines */
static const struct list_case own_cases[] = {
	{ "text/plain", "go http://r.example.com/go?a=nodot&b=k.example.com/x&c=http://l.example.org/ now",
	  { "http://k.example.com/x", "http://r.example.com/go?a=nodot&b=k.example.com/x&c=http://l.example.org/", "k.example.com/x", NULL } },
	{ "text/plain", "go http://R.Example.COM/Jump/N.Example.NET/q now",
	  { "N.Example.NET/q", "http://N.Example.NET/q", "http://R.Example.COM/Jump/N.Example.NET/q", NULL } },
};

static struct ruleset *load(const char *text)
{
	struct ruleset *rs = ruleset_load_buf("t.cf", text, strlen(text),
	                                      NULL);
	assert_non_null(rs);
	return rs;
}

static char *message(const char *ctype, const char *body)
{
	char *m = NULL;
	assert_true(asprintf(&m, "From: a@example.com\nTo: b@example.com\n"
	                     "Subject: t\nMIME-Version: 1.0\nContent-Type: "
	                     "%s\n\n%s\n", ctype, body) > 0);
	return m;
}

static bool listed(const struct msg *m, const char *u)
{
	for (size_t i = 0; i < msg_uri_count(m); i++)
		if (strcmp(msg_uri_at(m, i).ptr, u) == 0)
			return true;
	return false;
}

/* m's list is exactly want (as sets; msg_uri_at() has no duplicates) */
static void assert_list(const struct msg *m, const char *const *want)
{
	size_t n = 0;
	for (; want[n] != NULL; n++)
		if (!listed(m, want[n]))
			fail_msg("not listed: %s", want[n]);
	for (size_t i = 0; n != msg_uri_count(m) && i < msg_uri_count(m); i++)
		print_message("# listed: %s\n", msg_uri_at(m, i).ptr);
	assert_int_equal(msg_uri_count(m), n);
}

static void run_cases(const char *cf, const struct list_case *c, size_t n)
{
	struct ruleset *rs = load(cf);
	assert_int_equal(ruleset_diag_count(rs), 0);
	for (size_t i = 0; i < n; i++) {
		char *raw = message(c[i].ctype, c[i].body);
		struct msg *m = msg_parse_redirected(raw, strlen(raw), NULL,
		                                     ruleset_redirectors(rs));
		assert_non_null(m);
		assert_list(m, c[i].uris);
		msg_free(m);
		free(raw);
	}
	ruleset_free(rs);
}

static void test_stock_lists(void **state)
{
	(void)state;
	run_cases(stock_cf, stock_cases,
	          sizeof stock_cases / sizeof stock_cases[0]);
}

static void test_own_lists(void **state)
{
	(void)state;
	run_cases(own_cf, own_cases, sizeof own_cases / sizeof own_cases[0]);
}

/* Without patterns the fallback lists the first http URL after the host
 * (SpamAssassin with no redirector_pattern line: http://b.example.org/),
 * which a matching pattern replaces. */
static void test_no_patterns(void **state)
{
	(void)state;
	char *raw = message("text/plain", "see http://www.google.com/url?q="
	                    "a.example.net/p&r=http://b.example.org/ now");
	struct msg *m = msg_parse_redirected(raw, strlen(raw), NULL, NULL);
	assert_non_null(m);
	assert_true(listed(m, "http://b.example.org/"));
	assert_false(listed(m, "http://a.example.net/p"));
	msg_free(m);
	struct ruleset *rs = load(stock_cf);
	m = msg_parse_redirected(raw, strlen(raw), NULL,
	                         ruleset_redirectors(rs));
	assert_non_null(m);
	assert_false(listed(m, "http://b.example.org/"));
	assert_true(listed(m, "http://a.example.net/p"));
	msg_free(m);
	ruleset_free(rs);
	free(raw);
}

/* A bad line is an error at its file:line (SpamAssassin: "invalid
 * 'redirector_pattern' value") and left out; the others stay, in order. */
static void test_bad_lines(void **state)
{
	(void)state;
	struct ruleset *rs = load("redirector_pattern /a(b/\n"
	                          "redirector_pattern\n"
	                          "redirector_pattern m{^http://x/(.*)}i\n"
	                          "redirector_pattern 'x(.*)'\n");
	assert_int_equal(uriredir_count(ruleset_redirectors(rs)), 1);
	assert_int_equal(ruleset_diag_count(rs), 3);
	const unsigned lines[] = { 1, 2, 4 };
	for (size_t i = 0; i < 3; i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		assert_int_equal(d->kind, RS_DIAG_ERROR);
		assert_string_equal(d->file, "t.cf");
		assert_int_equal(d->line, lines[i]);
	}
	assert_non_null(strstr(ruleset_diag_at(rs, 0)->message,
	                       "missing closing parenthesis"));
	ruleset_free(rs);
	rs = load("body B /b/\n");
	assert_null(ruleset_redirectors(rs));
	ruleset_free(rs);
}

/* The matcher itself: group 1 must hold a '.', else the next pattern;
 * an unset group 1 (another group matched) is no match. */
static void test_match(void **state)
{
	(void)state;
	struct uriredir *rd = uriredir_new();
	char err[128];
	assert_non_null(rd);
	assert_int_equal(uriredir_add(rd, "^a(x)|^a(b)(.*)", 15, 0, err,
	                              sizeof err), 0);
	assert_int_equal(uriredir_add(rd, "=(.*)", 5, 0, err, sizeof err), 0);
	assert_int_equal(uriredir_add(rd, "(", 1, 0, err, sizeof err), 1);
	assert_non_null(strstr(err, "offset 1"));
	assert_int_equal(uriredir_count(rd), 2);
	size_t off = 0, len = 0;
	assert_true(uriredir_match(rd, "ab=c.d", 6, &off, &len));
	assert_int_equal(off, 3);
	assert_int_equal(len, 3);
	assert_false(uriredir_match(rd, "ax=cd", 5, &off, &len));
	assert_false(uriredir_match(NULL, "a=b.c", 5, &off, &len));
	uriredir_free(rd);
}

/* A message parsed before the patterns were set is parsed again. */
static void test_scan_reparse(void **state)
{
	(void)state;
	struct ruleset *rs = load(own_cf);
	char *raw = message("text/plain", own_cases[0].body);
	struct scan *s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_set_raw(s, raw, strlen(raw)), 0);
	assert_false(listed(scan_msg(s), "http://k.example.com/x"));
	scan_set_uri_redirectors(s, ruleset_redirectors(rs));
	assert_true(listed(scan_msg(s), "http://k.example.com/x"));
	assert_false(listed(scan_msg(s), "http://l.example.org/"));
	scan_free(s);
	free(raw);
	ruleset_free(rs);
}

/* A uri rule sees the captured URL, not the fallback's (spamassassin -t
 * with these lines: T_REDIR_K hits; without the redirector lines only
 * T_REDIR_L). */
static void test_uri_rule(void **state)
{
	(void)state;
	char cf[1024];
	snprintf(cf, sizeof cf, "%s"
	         "uri T_REDIR_K /^http:\\/\\/k\\.example\\.com\\/x$/\n"
	         "uri T_REDIR_L /^http:\\/\\/l\\.example\\.org/\n", own_cf);
	struct ruleset *rs = ruleset_load_buf("t.cf", cf, strlen(cf),
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	char err[256];
	struct rules *r = rules_compile(rs, NULL, err, sizeof err);
	assert_non_null(r);
	struct rules_result *res = rules_result_new();
	assert_non_null(res);
	char *raw = message("text/plain", own_cases[0].body);
	struct scan *s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_set_raw(s, raw, strlen(raw)), 0);
	assert_int_equal(rules_eval(r, s, res, 0), 0);
	assert_int_equal(rules_result_count(res), 1);
	assert_string_equal(rules_result_at(res, 0)->name, "T_REDIR_K");
	scan_free(s);
	free(raw);
	rules_result_free(res);
	rules_free(r);
	ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stock_lists),
		cmocka_unit_test(test_own_lists),
		cmocka_unit_test(test_no_patterns),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_scan_reparse),
		cmocka_unit_test(test_uri_rule),
	};
	return cmocka_run_group_tests_name("uriredir", tests, NULL, NULL);
}
