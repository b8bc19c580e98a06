/* Unit tests of SpamAssassin's uri_detail rules (URIDetail): the URI
 * details the message parser builds (msg.h), the rule lines the parser
 * reads (ruleset.c) and the engine's matching (rulesud.c). Expected
 * values are spamassassin 4.0.1's (get_uri_detail_list(), rule hits)
 * on the same messages and lines. */
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

static const char *MSG =
	"From: a@example.com\n"
	"To: b@example.org\n"
	"Subject: test\n"
	"Message-ID: <1@example.com>\n"
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/html\n"
	"\n"
	"<html><body>\n"
	"<a href=\"http://www.Example.COM/x%2Ey\">Click  <b>here</b> &amp; now</a>\n"
	"<a name=\"foo\">nameless</a>\n"
	"<a href=\"\">empty</a>\n"
	"<a href=\"rel/../page.html\">rel</a>\n"
	"<a href=\"https://paypal.com.evil.co.uk/login\"><img src=\"cid:abc\"></a>\n"
	"<img src=\"http://img.example.net/a.gif\">\n"
	"Visit www.spam.biz/offer or mail me at joe@mail.example.org and\n"
	"see foo.example.info/path ok\n"
	"<a href=\"http://www.Example.COM/x%2Ey\">second</a>\n"
	"</body></html>\n";

/* ---- the details ---- */

static struct msg *parse_details(const char *raw)
{
	struct uriredir *rd = uriredir_new();
	assert_non_null(rd);
	uriredir_want_details(rd);
	struct msg *m = msg_parse_redirected(raw, strlen(raw), NULL, rd);
	assert_non_null(m);
	uriredir_free(rd);
	return m;
}

static const struct msg_uri_detail *detail(const struct msg *m,
                                           const char *raw)
{
	for (size_t i = 0; i < msg_uri_detail_count(m); i++) {
		const struct msg_uri_detail *d = msg_uri_detail_at(m, i);
		if (d->raw.len == strlen(raw) && memcmp(d->raw.ptr, raw,
		                                        d->raw.len) == 0)
			return d;
	}
	fail_msg("no URI detail \"%s\"", raw);
	return NULL;
}

/* t[0..n) joined with " | " */
static const char *joined(const struct msg_text *t, size_t n)
{
	static char buf[1024];
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.*s",
		                      i ? " | " : "", (int)t[i].len, t[i].ptr);
	return buf;
}

static const char *type_names(uint32_t types)
{
	static char buf[256];
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned t = 0; t < MSG_URI_NTYPES; t++)
		if (types >> t & 1)
			o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s",
			                      o ? "," : "",
			                      msg_uri_type_name((enum msg_uri_type)t));
	return buf;
}

static void expect(const struct msg *m, const char *raw, const char *types,
                   const char *cleaned, const char *anchors,
                   const char *hosts)
{
	const struct msg_uri_detail *d = detail(m, raw);
	assert_string_equal(type_names(d->types), types);
	assert_string_equal(joined(d->cleaned, d->ncleaned), cleaned);
	assert_string_equal(joined(d->anchors, d->nanchors), anchors);
	assert_string_equal(joined(d->hosts, d->nhosts), hosts);
}

/* spamassassin 4.0.1's get_uri_detail_list() on MSG, entry for entry
 * (cleaned forms in the order vigil makes them) */
static void test_details(void **state)
{
	(void)state;
	struct msg *m = parse_details(MSG);
	assert_int_equal(msg_uri_detail_count(m), 10);
	expect(m, "", "parsed", "", "nameless | empty", "");
	expect(m, "/page.html", "a", "/page.html", "", "");
	expect(m, "cid:abc", "img", "cid:abc", "", "");
	expect(m, "http://foo.example.info/path", "parsed,schemeless,unlinked",
	       "http://foo.example.info/path", "", "foo.example.info");
	expect(m, "http://img.example.net/a.gif", "img",
	       "http://img.example.net/a.gif", "", "img.example.net");
	expect(m, "http://www.Example.COM/x%2Ey", "a",
	       "http://www.Example.COM/x%2Ey | http://www.Example.COM/x.y",
	       "Click  here & now | second", "www.example.com");
	expect(m, "http://www.spam.biz/offer", "parsed,schemeless",
	       "http://www.spam.biz/offer", "", "www.spam.biz");
	expect(m, "https://paypal.com.evil.co.uk/login", "a",
	       "https://paypal.com.evil.co.uk/login", "<img>\n",
	       "paypal.com.evil.co.uk");
	expect(m, "mailto:joe@mail.example.org", "parsed,schemeless",
	       "mailto:joe@mail.example.org", "", "mail.example.org");
	expect(m, "rel/../page.html", "parsed",
	       "rel/../page.html | http://rel/../page.html | "
	       "http://www.rel.com/../page.html", "rel", "www.rel.com");
	/* the flat list is what it was: no "" */
	for (size_t i = 0; i < msg_uri_count(m); i++)
		assert_true(msg_uri_at(m, i).len > 0);
	msg_free(m);
	/* not asked for: none built */
	m = msg_parse(MSG, strlen(MSG), NULL);
	assert_non_null(m);
	assert_int_equal(msg_uri_detail_count(m), 0);
	assert_true(msg_uri_count(m) > 0);
	msg_free(m);
}

/* Anchor text as HTML.pm collects it: all text while an <a> is open
 * goes to the last one opened (nested ones too), blanks as written,
 * "&nbsp;" a space, script text left out; <base> keys it by the href
 * as written, the link under its resolved form. */
static void test_anchor_text(void **state)
{
	(void)state;
	struct msg *m = parse_details(
		"Content-Type: text/html\n\n"
		"<a href=\"http://one.example.com/\">a<a href=\"http://two."
		"example.com/\">b</a>c</a>d\n"
		"<a href=\"http://three.example.com/\">x&nbsp;y<script>s()"
		"</script>\n z</a>\n"
		"<base href=\"http://base.example.com/dir/\">"
		"<a href=\"sub/p.html\">based</a>\n");
	expect(m, "http://one.example.com/", "a", "http://one.example.com/",
	       "a", "one.example.com");
	expect(m, "http://two.example.com/", "a", "http://two.example.com/",
	       "bc", "two.example.com");
	expect(m, "http://three.example.com/", "a",
	       "http://three.example.com/", "x y\n z", "three.example.com");
	expect(m, "http://base.example.com/dir/sub/p.html", "a",
	       "http://base.example.com/dir/sub/p.html", "",
	       "base.example.com");
	expect(m, "sub/p.html", "parsed",
	       "sub/p.html | http://sub/p.html | http://www.sub.com/p.html",
	       "based", "www.sub.com");
	msg_free(m);
}

/* ---- rule lines and matching ---- */

struct fx {
	struct ruleset *rs;
	struct rules *rules;
	struct rules_result *res;
	struct scan *scan;
};

static void fx_load(struct fx *f, const char *text)
{
	f->rs = ruleset_load_buf("ud.cf", text, strlen(text),
	                         rules_ruleset_opts());
	assert_non_null(f->rs);
	char err[256];
	f->rules = rules_compile(f->rs, NULL, err, sizeof err);
	assert_non_null(f->rules);
	f->res = rules_result_new();
	assert_non_null(f->res);
}

static void fx_run(struct fx *f, const char *msg, unsigned flags)
{
	scan_free(f->scan);
	f->scan = scan_new();
	assert_non_null(f->scan);
	assert_int_equal(scan_set_raw(f->scan, msg, strlen(msg)), 0);
	assert_int_equal(rules_eval(f->rules, f->scan, f->res, flags), 0);
}

static void fx_free(struct fx *f)
{
	scan_free(f->scan);
	rules_result_free(f->res);
	rules_free(f->rules);
	ruleset_free(f->rs);
	memset(f, 0, sizeof *f);
}

static const struct rules_hit *hit(const struct fx *f, const char *name)
{
	for (size_t i = 0; i < rules_result_count(f->res); i++)
		if (strcmp(rules_result_at(f->res, i)->name, name) == 0)
			return rules_result_at(f->res, i);
	return NULL;
}

/* The hits of the last run, sorted names joined by " ". */
static const char *hits(const struct fx *f)
{
	static char buf[2048];
	const char *names[128];
	size_t n = 0, o = 0;
	for (size_t i = 0; i < rules_result_count(f->res) && n < 128; i++)
		names[n++] = rules_result_at(f->res, i)->name;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s",
		                      i ? " " : "", names[i]);
	return buf;
}

/* Each key with =~ and !~, one and several conditions: the hits
 * spamassassin 4.0.1 gives on MSG (a list key holds when some value
 * meets the condition, a URI without a value of it meets neither
 * operator). */
static void test_keys(void **state)
{
	(void)state;
	struct fx f = { 0 };
	fx_load(&f,
		"util_rb_2tld co.uk\n"   /* as 20_aux_tlds.cf lists it */
		"uri_detail UD_RAW raw =~ /%2Ey/\n"
		"uri_detail UD_RAW_NEG raw !~ /^(?:http|mailto|cid|\\/|rel|$)/\n"
		"uri_detail UD_TYPE type =~ /^a$/ domain =~ /^example\\.com$/\n"
		"uri_detail UD_TYPE_NEG type !~ /^a$/ host =~ /^www\\.example\\.com$/\n"
		"uri_detail UD_TYPE_LIST type !~ /^parsed$/ raw =~ /spam\\.biz/\n"
		"uri_detail UD_TEXT text =~ /here/\n"
		"uri_detail UD_NOTEXT text !~ /xyzzy/ domain =~ /^example\\.net$/\n"
		"uri_detail UD_EMPTY raw !~ /./\n"
		"uri_detail UD_IMG_IN_A text =~ /<img>/ host =~ /paypal/\n"
		"uri_detail UD_UNLINKED type =~ /unlinked/ host =~ /^foo\\.example\\.info$/\n"
		"uri_detail UD_SCHEMELESS type =~ /schemeless/ cleaned =~ /^mailto:/\n"
		"uri_detail UD_CLEANED cleaned =~ /x\\.y$/ cleaned =~ /X%2E/i\n"
		"uri_detail UD_CLEANED_NEG cleaned !~ /%2E/ raw =~ /%2E/\n"
		"uri_detail UD_DIFF raw =~ /spam\\.biz/ text =~ /./\n"
		"uri_detail UD_PARSED type =~ /parsed/ raw =~ /^rel/\n"
		"uri_detail UD_DOMAIN domain =~ /^evil\\.co\\.uk$/\n"
		"uri_detail UD_HOST_NEG host !~ /paypal/ text =~ /img/\n"
		"uri_detail UD_DOMAIN_NONE domain !~ /./ raw =~ /^cid:/\n"
		"uri_detail UD_MBANG raw =~ m!example!i\n");
	fx_run(&f, MSG, RULES_EVAL_MATCHES);
	assert_string_equal(hits(&f), "UD_CLEANED UD_CLEANED_NEG UD_DOMAIN "
	                    "UD_EMPTY UD_IMG_IN_A UD_MBANG UD_PARSED UD_RAW "
	                    "UD_SCHEMELESS UD_TEXT UD_TYPE UD_TYPE_LIST "
	                    "UD_UNLINKED");
	/* the match is the raw URI that hit */
	assert_string_equal(hit(&f, "UD_IMG_IN_A")->match,
	                    "https://paypal.com.evil.co.uk/login");
	fx_free(&f);
}

/* Bad lines: reported with file:line and left out, as SpamAssassin
 * refuses them (metas read 0); the conditions read before a bad one
 * count for the name, a later line's for a key replace the earlier. */
static void test_bad_lines(void **state)
{
	(void)state;
	struct fx f = { 0 };
	fx_load(&f,
		"uri_detail UD_BAD_KEY raw =~ /a/ bogus =~ /b/\n"   /* 1 */
		"uri_detail UD_NONE just words\n"                    /* 2 */
		"uri_detail UD_BRACE raw =~ m{x}\n"                  /* 3 */
		"uri_detail UD_BAD_RE raw =~ /(unclosed/\n"          /* 4 */
		"uri_detail UD_PERLISM raw =~ /\\Qx/\n"              /* 5 */
		"uri_detail UD_MOD raw =~ /x/g\n"                    /* 6 */
		"meta M_BAD UD_BAD_KEY || UD_NONE || UD_BAD_RE\n"    /* 7 */
		"uri_detail UD_MERGE raw =~ /nomatch/\n"             /* 8 */
		"uri_detail UD_MERGE host =~ /^img\\./\n"            /* 9 */
		"uri_detail UD_MERGE raw =~ /a\\.gif$/ x\n"          /* 10 */
		"uri_detail UD_KEEP raw =~ /a\\.gif$/\n"             /* 11 */
		"uri_detail UD_KEEP raw =~ /(bad/\n"                 /* 12 */
		"uri_detail UD_SKIP raw =~ /\\.gif$/ domain =~ /x/n\n"  /* 13 */
		"uri_detail UD_SPACE raw=~/ a\\.gif$/x\n");          /* 14 */
	static const unsigned bad[] = { 1, 2, 3, 4, 5, 6, 12 };
	size_t nerr = 0;
	for (size_t i = 0; i < ruleset_diag_count(f.rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(f.rs, i);
		if (d->kind != RS_DIAG_ERROR)
			continue;
		assert_string_equal(d->file, "ud.cf");
		assert_int_equal(d->line, bad[nerr]);
		nerr++;
	}
	assert_int_equal(nerr, sizeof bad / sizeof bad[0]);
	assert_non_null(strstr(ruleset_diag_at(f.rs, 0)->message,
	                       "unknown key 'bogus'"));
	fx_run(&f, MSG, RULES_EVAL_MATCHES);
	assert_string_equal(hits(&f), "UD_KEEP UD_MERGE UD_SKIP UD_SPACE");
	const struct rs_rule *r = ruleset_find(f.rs, "UD_MERGE");
	assert_true(r->ud[RS_UD_RAW].set && r->ud[RS_UD_HOST].set);
	fx_free(&f);
}

/* ifplugin URIDetail is read; score, tflags and metas as for any rule:
 * score 0 turns it off, a __ rule runs for a meta (lazy runs too),
 * tflags multiple still counts one hit (an eval's). */
static void test_plugin_score_meta(void **state)
{
	(void)state;
	static const char rules[] =
		"ifplugin Mail::SpamAssassin::Plugin::URIDetail\n"
		"uri_detail UD_A type =~ /^a$/\n"
		"uri_detail __UD_IMG type =~ /^img$/ host =~ /^img\\./\n"
		"uri_detail UD_OFF raw =~ /./\n"
		"uri_detail UD_MULTI raw =~ /./\n"
		"endif\n"
		"if can(Mail::SpamAssassin::Plugin::URIDetail::has_host_key)\n"
		"uri_detail UD_CAN host =~ /./\n"
		"endif\n"
		"score UD_A 2.5\n"
		"score UD_OFF 0\n"
		"tflags UD_MULTI multiple\n"
		"meta M_IMG __UD_IMG && UD_A\n"
		"meta M_OFF UD_OFF || !__UD_IMG\n";
	struct fx f = { 0 };
	fx_load(&f, rules);
	for (size_t i = 0; i < ruleset_diag_count(f.rs); i++)
		assert_int_not_equal(ruleset_diag_at(f.rs, i)->kind,
		                     RS_DIAG_UNSUPPORTED);
	fx_run(&f, MSG, 0);
	assert_string_equal(hits(&f), "M_IMG UD_A UD_CAN UD_MULTI __UD_IMG");
	assert_true(hit(&f, "UD_A")->score == 2.5);
	assert_int_equal(hit(&f, "UD_MULTI")->count, 1);
	fx_run(&f, MSG, RULES_EVAL_LAZY);
	assert_non_null(hit(&f, "M_IMG"));
	assert_null(hit(&f, "M_OFF"));
	assert_null(hit(&f, "UD_OFF"));
	/* no URI: no uri_detail rule hits, !~ neither; metas see 0 */
	fx_run(&f, "Subject: x\n\nno links here\n", 0);
	assert_string_equal(hits(&f), "M_OFF");
	fx_free(&f);
	/* a rule set without uri_detail rules does not build details */
	struct ruleset *rs = ruleset_load_buf("x.cf", "body B /x/\n", 11,
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	assert_null(ruleset_redirectors(rs));
	ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_details),
		cmocka_unit_test(test_anchor_text),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_plugin_score_meta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
