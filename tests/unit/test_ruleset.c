/* test_ruleset.c — unit tests of the SpamAssassin rule-file parser: every
 * line type, every diagnostic with its file:line, overrides, defaults,
 * conditionals, include, ReplaceTags, and the stock rule set when it is
 * installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ruleset.h"

static bool yes_plugin(const char *name)
{
	return strcmp(name, "Mail::SpamAssassin::Plugin::Yes") == 0 ||
	       strcmp(name, "Mail::SpamAssassin::Plugin::DMARC") == 0 ||
	       strcmp(name, "Mail::SpamAssassin::Plugin::BodyEval") == 0;
}

static const struct ruleset_opts opts = { yes_plugin, 0, false };

static struct ruleset *load(const char *text)
{
	struct ruleset *rs = ruleset_load_buf("t.cf", text, strlen(text),
	                                      &opts);
	assert_non_null(rs);
	return rs;
}

static const struct rs_rule *get(const struct ruleset *rs, const char *n)
{
	const struct rs_rule *r = ruleset_find(rs, n);
	if (r == NULL)
		fail_msg("rule %s not found", n);
	return r;
}

static size_t count_kind(const struct ruleset *rs, enum rs_diag_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < ruleset_diag_count(rs); i++)
		if (ruleset_diag_at(rs, i)->kind == k)
			n++;
	return n;
}

/* The diagnostic of kind k at file:line whose message contains sub. */
static const struct rs_diag *find_diag(const struct ruleset *rs,
                                       enum rs_diag_kind k, const char *file,
                                       unsigned line, const char *sub)
{
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		if (d->kind == k && d->line == line && d->file != NULL &&
		    strcmp(d->file, file) == 0 && strstr(d->message, sub))
			return d;
	}
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		print_message("# diag %d %s:%u %s\n", d->kind,
		              d->file ? d->file : "-", d->line, d->message);
	}
	fail_msg("no diagnostic %d at %s:%u containing '%s'", k, file, line,
	         sub);
	return NULL;
}

static void expect_error(const char *text, unsigned line, const char *sub)
{
	struct ruleset *rs = load(text);
	find_diag(rs, RS_DIAG_ERROR, "t.cf", line, sub);
	ruleset_free(rs);
}

/* Each of pats as a body rule's pattern is an error holding sub. */
static void expect_pattern_errors(const char *const *pats, size_t n,
                                  const char *sub)
{
	for (size_t i = 0; i < n; i++) {
		char line[64];
		snprintf(line, sizeof line, "body W /%s/\n", pats[i]);
		expect_error(line, 1, sub);
	}
}

static void assert_pattern(const struct rs_rule *r, const char *p)
{
	assert_non_null(r->pattern);
	assert_int_equal(r->pattern_len, strlen(p));
	assert_memory_equal(r->pattern, p, strlen(p));
}

/* ------------------------------------------------------------------ */

static void test_lines(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "# a comment\r\n"
	    "\r\n"
	    "   \t  \r\n"
	    "  body   A   /x\\#y/i   # trailing comment\r\n"
	    "body B /a/\r\n"
	    "BODY C /c/\n"
	    "body D /no-newline-at-end/");
	assert_int_equal(ruleset_diag_count(rs), 0);
	assert_int_equal(ruleset_count(rs), 4);
	const struct rs_rule *a = get(rs, "A");
	assert_int_equal(a->type, RS_BODY);
	assert_pattern(a, "x#y");
	assert_int_equal(a->pcre2_options, PCRE2_CASELESS);
	assert_int_equal(a->line, 4);
	assert_string_equal(a->file, "t.cf");
	assert_pattern(get(rs, "B"), "a");
	assert_pattern(get(rs, "D"), "no-newline-at-end");
	assert_int_equal(get(rs, "D")->line, 7);
	assert_string_equal(ruleset_at(rs, 0)->name, "A");
	assert_string_equal(ruleset_at(rs, 3)->name, "D");
	assert_null(ruleset_at(rs, 4));
	assert_null(ruleset_find(rs, "E"));
	assert_int_equal(ruleset_file_count(rs), 1);
	assert_string_equal(ruleset_file_at(rs, 0), "t.cf");
	ruleset_free(rs);
	/* An unescaped # cuts the pattern: the delimiter goes missing. */
	expect_error("\nbody B /a#b/\n", 2, "missing closing delimiter");
}

/* Perl 5.34+ quantifier spellings, which PCRE2 10.42 reads as literal
 * text, are rewritten ({,n} is {0,n}; blanks next to the braces or the
 * comma go); escaped braces, classes, \Q..\E and a '{' after '(' or
 * '|' stay; \b{...} is refused as SpamAssassin refuses it (audit20 M3). */
static void test_perl_quantifiers(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "body A /b{,2}c/\n"
	    "body B /d{ 2 }e{2, 5}f{ 3 ,}/\n"
	    "body C /x\\{,2}[{ 2 }](?:{,4})|{ 5 }/\n"
	    "body D /a{2}b{2,}c{2,3}/\n");
	assert_pattern(get(rs, "A"), "b{0,2}c");
	assert_pattern(get(rs, "B"), "d{2}e{2,5}f{3,}");
	assert_pattern(get(rs, "C"), "x\\{,2}[{ 2 }](?:{,4})|{ 5 }");
	assert_pattern(get(rs, "D"), "a{2}b{2,}c{2,3}");
	ruleset_free(rs);
	expect_error("body W /\\b{wb}x/\n", 1, "is not supported");
	/* in a lookbehind too, not read as \b with a count */
	expect_error("body W /(?<!\\b{ 1 , 2 })x/\n", 1, "is not supported");
	/* what Perl warns about, which SpamAssassin refuses (audit20 M7):
	 * a literal '{' where a quantifier could stand, \Q, \E; a '{' at
	 * the start, after '(' or '|', a template %{NAME} and an escape's
	 * own braces pass */
	expect_error("body W /Dear {NAME}/\n", 1, "a literal '{' here");
	expect_error("body W /c{}d/\n", 1, "a literal '{' here");
	expect_error("body W /d{,}e/\n", 1, "a literal '{' here");
	expect_error("body W /x\\*{a}/\n", 1, "a literal '{' here");
	expect_error("body W /a{,2}{,3}/\n", 1, "nested quantifiers");
	/* a '?' after a fixed count, a leading zero (Perl 5.36 warns,
	 * refuses; SpamAssassin refuses both) */
	expect_error("body W /a{2}?b/\n", 1, "'?' after a fixed count");
	expect_error("body W /(?:ab){ 3 }?/\n", 1, "'?' after a fixed count");
	expect_error("body W /[a]{,0}?/\n", 1, "'?' after a fixed count");
	expect_error("body W /a{2,2} ?/x\n", 1, "'?' after a fixed count");
	expect_error("body W /a{02}/\n", 1, "with a leading zero");
	expect_error("body W /a{1,03}/\n", 1, "with a leading zero");
	expect_error("body W /\\x{41}{2}?b/\n", 1, "'?' after a fixed count");
	expect_error("body W /a{1,65535}/\n", 1, "above 65534");
	/* an escape's braces are no quantifier (audit22 L4) */
	rs = load("body XQ /\\x{41}{,2}b\\p{L}{ 2 }/\nbody XB /a{65534}/\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	assert_pattern(get(rs, "XQ"), "\\x{41}{0,2}b\\p{L}{2}");
	ruleset_free(rs);
	/* \N{U+hh} below 0x100 is Perl's byte: \x{hh} for PCRE2 (audit26
	 * F9), also under a count */
	rs = load("body XN /\\N{U+0070}a\\N{U+79}{,2}\\N{U+263A}?/\n");
	assert_pattern(get(rs, "XN"), "\\x{70}a\\x{79}{0,2}\\N{U+263A}?");
	ruleset_free(rs);
	rs = load("body Y /a{2,}?b{2,3}?c{,2}?d{2}+e{0}f\\{2}?g{2}\\?h{2} ?/\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	ruleset_free(rs);
	/* under /x a '{' stands where the last non-blank ends (audit21) */
	rs = load("body X1 / {x}/x\nbody X2 /a {,2}b/x\nbody X3 /(?x)a| {x}/\n"
	          "body X4 /a{,2}{x}/\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	assert_pattern(get(rs, "X2"), "a {0,2}b");
	ruleset_free(rs);
	expect_error("body W /a {x}/x\n", 1, "a literal '{' here");
	expect_error("body W /{{first_name}}/\n", 1, "a literal '{' here");
	expect_error("body W /k\\Qa\\Ez/\n", 1, "Unrecognized escape \\Q");
	rs = load("body S /{a|(?i){b|^x/\nbody T /x\\x{2c}{,2}\\p{L}{2}/\n"
	          "header U From =~ /%{GB_TO_ADDR}/\n"
	          /* after a quantifier a '{' is literal text, no warning
	           * (audit21 H1) */
	          "body V /function\\s*{|\\}\\s*{|Dear\\s+{|.*?{name}|a{2}{x/\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	assert_pattern(get(rs, "V"), "function\\s*{|\\}\\s*{|Dear\\s+{|.*?{name}|"
	               "a{2}{x");
	assert_pattern(get(rs, "T"), "x\\x{2c}{0,2}\\p{L}{2}");
	ruleset_free(rs);
	/* Perl's /n, /a, /p and inline (?a), (?p), (?d), which PCRE2 10.42
	 * refuses (audit20 L6); /u is not supported */
	rs = load("body N /(a)b/n\nbody A /ab/ap\nbody I /(?a)x(?ai:y)(?-p)z/\n");
	assert_true(get(rs, "N")->pcre2_options & PCRE2_NO_AUTO_CAPTURE);
	assert_int_equal(get(rs, "A")->pcre2_options, 0);
	assert_pattern(get(rs, "I"), "x(?i:y)z");
	ruleset_free(rs);
	expect_error("body U /x/u\n", 1, "unsupported regexp modifier 'u'");
	/* quantified zero-length items as Perl 5.36 warns about them, so
	 * SpamAssassin refuses them (audit22 L4; 4,700 forms agree with
	 * Perl): under *, + or {n,}; under a count but ? and {0,n} outside
	 * alternations, lookarounds and (...)?, without a capture */
	static const char *const zl_many[] = {
		"\\b*", "(?:)*", "a\\K*", "^+", "(?=a){2,}", "(?:\\b|^)*",
		"(?:x{0})+", "(?x) \\b *", "(?<n>\\b)+", "(?P<p>)*", "(?'q'\\b)+",
		"(?x)(?:(?-x)\\b *)\\b *",
	};
	expect_pattern_errors(zl_many, sizeof zl_many / sizeof *zl_many,
	                      "matches null string many times");
	static const char *const zl_count[] = {
		"(?=a){2}", "(?:){0}", "(?:\\b){1,2}", "x(?<=a){1}", "\\z{2}",
		"(x)(?:\\b){1}", "((?:\\b){1})", "(?:(?=a){1}a)+",
	};
	expect_pattern_errors(zl_count, sizeof zl_count / sizeof *zl_count,
	                      "Quantifier unexpected on zero-length");
	/* accepted by Perl; the quantified assertions PCRE2 refuses are
	 * written in a group */
	rs = load("body Z1 /(?:\\b){0,2}(?=a)?(a?)*(?:a|)*/\n"
	          "body Z2 /a|(?:\\b){1}/\nbody Z3 /((?=a)){2}(?=(?:\\b){1})/\n"
	          "body Z4 /(?:(?=a){1}a)?(?:(?:\\b){2}|x)/\n"
	          "body Z5 /\\b?x\\z?+^??[\\b]*\\\\b*/\nbody Z6 /^{,3}a$ ?/x\n"
	          "body Z7 /(?^i:a)/\n"
	          /* /x scoped to its group (audit23 M1), after a failure
	           * Perl's optimiser stops (audit23) */
	          "body Z8 /(?x:foo)\\b +bar/\nbody Z9 /(?-x: )+/x\n"
	          "body Z10 /(?x)(?-x)\\b *c(?^x:\\b) */\n"
	          "body Z11 /(?!)(?=a){2}|x(?:(*FAIL))(?=a){2}/\n"
	          /* a name twice, which Perl allows: PCRE2's (?J) */
	          "body Z12 /(?<w>foo)\\s+|(?P<w>bar)[(?<w>]/\n"
	          /* variable-length lookbehinds as fixed-length branches */
	          "body Z13 m{(?<=https?://)www(?<![a-z]\\.?)x(?<=(a|b)?)}\n"
	          /* \xHH, \pL, octal as one item (audit24 M1, L6); /i widens
	           * \p{Lu} as Perl does (L7) */
	          "body Z14 /(?<=\\x41?\\pL{1,2}\\101?)B\\p{Lu}\\P{Ll}/i\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	assert_pattern(get(rs, "Z5"), "(?:\\b)?x(?:\\z)?+(?:^)??[\\b]*\\\\b*");
	assert_pattern(get(rs, "Z6"), "(?:^){0,3}a(?:$) ?");
	assert_pattern(get(rs, "Z7"), "(?^i:a)");
	assert_pattern(get(rs, "Z12"), "(?J)(?<w>foo)\\s+|(?P<w>bar)[(?<w>]");
	assert_pattern(get(rs, "Z13"), "(?<=http://|https://)www"
	               "(?<![a-z]|[a-z]\\.)x(?<=(a|b)?)");
	assert_pattern(get(rs, "Z14"), "(?<=\\pL|\\x41\\pL|\\pL\\pL|"
	               "\\x41\\pL\\pL|\\pL\\101|\\x41\\pL\\101|\\pL\\pL\\101|"
	               "\\x41\\pL\\pL\\101)B\\p{L&}\\P{L&}");
	ruleset_free(rs);
	/* a loadplugin line of a plugin vigil does not implement (nor
	 * SpamAssassin loads by default) is reported, and its ifplugin
	 * blocks' rules listed as skipped (audit20 M5) */
	rs = load("loadplugin Mail::SpamAssassin::Plugin::TextCat\n"
	          "ifplugin Mail::SpamAssassin::Plugin::TextCat\n"
	          "body T /x/\nendif\n");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 1, "does not implement this "
	          "plugin");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 3, "a loadplugin line loads");
	assert_null(ruleset_find(rs, "T"));
	ruleset_free(rs);
	/* a redefinition PCRE2 cannot compile leaves the earlier one, as
	 * SpamAssassin checks a pattern before it replaces a rule (audit21
	 * M4); a first definition is reported when compiled */
	rs = load("body A /a/\nbody A /(b/\nheader M eval:check_x()\n"
	          "header M Subject =~ /[x/\nbody N /(n/\n");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 2, "the definition at t.cf:1 "
	          "stays");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 4, "the definition at t.cf:3 "
	          "stays");
	assert_pattern(get(rs, "A"), "a");
	assert_int_equal(get(rs, "M")->type, RS_EVAL);
	assert_pattern(get(rs, "N"), "(n");
	ruleset_free(rs);
	rs = load("meta MT B && C\nmeta MT (B &&\nmeta MZ B\nmeta MZ (B / C) > 0\n"
	          "meta MN B\nmeta MN B > -1\nmeta ME C\nmeta ME C || 1e3\n");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 2, "the definition at t.cf:1 stays");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 4, "division by zero possible");
	/* tokens SpamAssassin's lexer refuses (audit22 L2, L3) */
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 6, "invalid token '-1'");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 8, "invalid token '1e3'");
	assert_string_equal(get(rs, "MT")->meta, "B && C");
	assert_string_equal(get(rs, "MZ")->meta, "B");
	assert_string_equal(get(rs, "MN")->meta, "B");
	assert_string_equal(get(rs, "ME")->meta, "C");
	ruleset_free(rs);
	/* rules_matching(GLOB) as SpamAssassin 4.0 expands it: the names a
	 * rule or score line gave, self left out, 0 when none; a
	 * redefinition is checked with it as 0 (audit22 M2) */
	rs = load("body __U_A /a/\nbody __U_BB /b/\nscore __U_S 1\n"
	          "describe __U_D d\nmeta __U_M rules_matching(__U_*) > 1\n"
	          "meta R2 rules_matching( __U_? ) || rules_matching(Z*)\n"
	          "meta R3 xrules_matching(__U_A)\nmeta R2 rules_matching(X) +\n");
	assert_string_equal(get(rs, "__U_M")->meta,
	                    " (__U_A+__U_BB+__U_S)  > 1");
	assert_string_equal(get(rs, "R2")->meta, " (__U_A+__U_S+__U_M)  ||  (0) ");
	assert_string_equal(get(rs, "R3")->meta, "xrules_matching(__U_A)");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 8, "the definition at t.cf:6 stays");
	ruleset_free(rs);
	/* a byte-order mark is named, not printed raw (audit20 L4) */
	expect_error("\xef\xbb\xbf" "body A /x/\n", 1, "byte-order mark before "
	             "'body'");
}

static void test_header(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "header H1 Subject =~ /foo/i\n"
	    "header H2 From:addr !~ /x@y/ [if-unset: none@none]\n"
	    "header H3 exists:X-Foo\n"
	    "header H4 ALL:raw =~ /y/m\n"
	    "header H5 From:name:raw =~ /z/\n"
	    "header H6 eval:check_foo(1, 'a')\n"
	    "header H7 rbleval:check_rbl('a', 'zen.')\n"
	    "header H8 ToCc=~m{a}\n"
	    "header H9 MESSAGEID =~ /m/ [if-unset: x y]\n"
	    "header H10 X-Spam-Relays-External:first =~ /r/\n"
	    "mimeheader M1 Content-Type:raw =~ /text/i\n"
	    "mimeheader M2 Content-Type !~ /x/\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	const struct rs_rule *r = get(rs, "H1");
	assert_int_equal(r->type, RS_HEADER);
	assert_string_equal(r->header, "Subject");
	assert_int_equal(r->hdr_mods, 0);
	assert_false(r->negate);
	assert_null(r->if_unset);
	assert_pattern(r, "foo");
	r = get(rs, "H2");
	assert_string_equal(r->header, "From");
	assert_int_equal(r->hdr_mods, RS_HDR_ADDR);
	assert_true(r->negate);
	assert_string_equal(r->if_unset, "none@none");
	assert_pattern(r, "x@y");
	r = get(rs, "H3");
	assert_true(r->exists);
	assert_string_equal(r->header, "X-Foo");
	assert_null(r->pattern);
	r = get(rs, "H4");
	assert_string_equal(r->header, "ALL");
	assert_int_equal(r->hdr_mods, RS_HDR_RAW);
	assert_int_equal(r->pcre2_options, PCRE2_MULTILINE);
	assert_int_equal(get(rs, "H5")->hdr_mods, RS_HDR_NAME | RS_HDR_RAW);
	r = get(rs, "H6");
	assert_int_equal(r->type, RS_EVAL);
	assert_string_equal(r->eval, "check_foo(1, 'a')");
	assert_int_equal(get(rs, "H7")->type, RS_EVAL);
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 6, "check_foo");
	assert_string_equal(get(rs, "H8")->header, "ToCc");
	assert_pattern(get(rs, "H8"), "a");
	assert_string_equal(get(rs, "H9")->if_unset, "x y");
	assert_int_equal(get(rs, "H10")->hdr_mods, RS_HDR_FIRST);
	r = get(rs, "M1");
	assert_int_equal(r->type, RS_MIMEHEADER);
	assert_string_equal(r->header, "Content-Type");
	assert_int_equal(r->hdr_mods, RS_HDR_RAW);
	assert_true(get(rs, "M2")->negate);
	ruleset_free(rs);

	expect_error("header E Subject:bogus =~ /x/\n", 1,
	             "unknown header modifier ':bogus'");
	expect_error("\nheader E Subject /x/\n", 2, "expected HEADER =~");
	expect_error("header E exists:\n", 1, "invalid header name");
	expect_error("header E\n", 1, "expected HEADER =~");
	expect_error("header E eval:nocall\n", 1, "invalid eval call");
	expect_error("mimeheader E Content-Type:addr =~ /x/\n", 1,
	             "unknown header modifier ':addr'");
	expect_error("header 9E Subject =~ /x/\n", 1, "invalid rule name");
	expect_error("header\n", 1, "expected a rule name");
}

static void test_delimiters(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "body D1 m{a\\}b{2}}i\n"
	    "body D2 m!a\\!b!s\n"
	    "body D3 m\\#a\\#x\n"
	    "body D4 m(a(b)c)\n"
	    "body D5 m<a\\>b>\n"
	    "body D6 m[ab]\n"
	    "body D7 m,a\\,b,ism\n"
	    "body D8 qr/q/\n"
	    "body D9 /a\\/b/\n"
	    "rawbody D10 m|x|msix\n"
	    "full D11 /^Received:/m\n"
	    "uri D12 m;^https?://x;i\n"
	    "body D13 //\n"
	    "body D14 eval:check_body(1)\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	assert_pattern(get(rs, "D1"), "a\\}b{2}");
	assert_int_equal(get(rs, "D1")->pcre2_options, PCRE2_CASELESS);
	assert_pattern(get(rs, "D2"), "a\\!b");
	assert_int_equal(get(rs, "D2")->pcre2_options, PCRE2_DOTALL);
	assert_pattern(get(rs, "D3"), "a");
	assert_int_equal(get(rs, "D3")->pcre2_options, PCRE2_EXTENDED);
	assert_pattern(get(rs, "D4"), "a(b)c");
	assert_pattern(get(rs, "D5"), "a\\>b");
	assert_pattern(get(rs, "D6"), "ab");
	assert_pattern(get(rs, "D7"), "a\\,b");
	assert_int_equal(get(rs, "D7")->pcre2_options,
	                 PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_MULTILINE);
	assert_pattern(get(rs, "D8"), "q");
	assert_pattern(get(rs, "D9"), "a\\/b");
	assert_int_equal(get(rs, "D10")->type, RS_RAWBODY);
	assert_int_equal(get(rs, "D10")->pcre2_options,
	                 PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_MULTILINE |
	                     PCRE2_EXTENDED);
	assert_int_equal(get(rs, "D11")->type, RS_FULL);
	assert_int_equal(get(rs, "D12")->type, RS_URI);
	assert_pattern(get(rs, "D12"), "^https?://x");
	assert_pattern(get(rs, "D13"), "");
	assert_int_equal(get(rs, "D14")->type, RS_EVAL);
	assert_string_equal(get(rs, "D14")->eval, "check_body(1)");
	ruleset_free(rs);

	expect_error("body E /x/g\n", 1, "modifier 'g'");
	expect_error("body E /x/e\n", 1, "missing closing delimiter");
	expect_error("body E /x/ trailing\n", 1, "missing closing delimiter");
	expect_error("body E /a/b/\n", 1, "unescaped delimiter '/'");
	expect_error("body E m!a!b!\n", 1, "unescaped delimiter '!'");
	expect_error("body E /abc\n", 1, "missing closing delimiter '/'");
	expect_error("body E m{abc\n", 1, "missing closing delimiter '}'");
	expect_error("body E abc\n", 1, "missing regexp delimiters");
	expect_error("body E mx\n", 1, "missing regexp delimiters");
	expect_error("body E m\\a\\\n", 1, "backslash");
	expect_error("body E\n", 1, "missing pattern");
	expect_error("body E /(?{ 1 })/\n", 1, "code blocks");
	expect_error("uri E eval:bad\n", 1, "invalid eval call");
	/* An escaped backslash before the delimiter does not escape it. */
	expect_error("body E /a\\\\/b/\n", 1, "unescaped delimiter");
}

static void test_meta_score_describe(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "meta M1 (A && !B) || C > 1\n"
	    "score M1 2.5\n"
	    "score A 1 2 3 -4.5\n"
	    "body A /a/\n"
	    "score A (1) (0) (1) (0)\n"
	    "describe A Something about A\n"
	    "describe A Better text\n"
	    "priority A -500\n"
	    "required_score 6.5\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	const struct rs_rule *m = get(rs, "M1");
	assert_int_equal(m->type, RS_META);
	assert_string_equal(m->meta, "(A && !B) || C > 1");
	assert_true(m->score_given);
	for (int i = 0; i < 4; i++)
		assert_true(m->score[i] == 2.5);
	const struct rs_rule *a = get(rs, "A");
	assert_true(a->score[0] == 2 && a->score[1] == 2 && a->score[2] == 4 &&
	            a->score[3] == -4.5);
	assert_string_equal(a->describe, "Better text");
	assert_int_equal(a->priority, -500);
	double req = 0;
	const char *file;
	unsigned line;
	assert_true(ruleset_required_score(rs, &req, &file, &line));
	assert_true(req == 6.5);
	assert_non_null(file);
	assert_true(line > 0);
	ruleset_free(rs);

	rs = load("body A /a/\n");
	assert_false(ruleset_required_score(rs, &req, NULL, NULL));
	ruleset_free(rs);

	expect_error("score A 1 2\n", 1, "expected 1 or 4 scores");
	expect_error("score A 1 2 3 4 5\n", 1, "expected 1 or 4 scores");
	expect_error("score A\n", 1, "expected 1 or 4 scores");
	expect_error("\n\nscore A abc\n", 3, "invalid score 'abc'");
	expect_error("score A +1\n", 1, "invalid score '+1'");
	expect_error("score A (1)\n", 1, "relative score");
	expect_error("meta M\n", 1, "expected an expression");
	expect_error("describe A\n", 1, "expected a description");
	expect_error("priority A high\n", 1, "expected an integer");
	expect_error("required_score lots\n", 1, "expected a number");
}

static void test_defaults_tflags(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "body PLAIN /a/\n"
	    "body NICE /a/\n"
	    "tflags NICE nice\n"
	    "body T_TEST /a/\n"
	    "body T_NICE /a/\n"
	    "tflags T_NICE nice net\n"
	    "body __SUB /a/\n"
	    "body SCORED /a/\n"
	    "tflags SCORED nice\n"
	    "score SCORED 3\n"
	    "body MULTI /a/\n"
	    "tflags MULTI multiple maxhits=5 publish learn userconf "
	    "noautolearn nosubject autolearn_force\n"
	    "tflags ODD frobnicate net\n"
	    "tflags ODD2 maxhits=x\n"
	    "tflags ODD3\n");
	const struct rs_rule *r = get(rs, "PLAIN");
	for (int i = 0; i < 4; i++)
		assert_true(r->score[i] == 1.0);
	assert_false(r->score_given);
	assert_null(r->tflags_text);
	assert_true(get(rs, "NICE")->score[0] == -1.0);
	assert_int_equal(get(rs, "NICE")->tflags, RS_TF_NICE);
	assert_true(get(rs, "T_TEST")->score[3] == 0.01);
	assert_true(get(rs, "T_NICE")->score[0] == -0.01);
	assert_int_equal(get(rs, "T_NICE")->tflags, RS_TF_NICE | RS_TF_NET);
	assert_true(get(rs, "__SUB")->score[0] == 0);
	assert_true(get(rs, "SCORED")->score[0] == 3);
	r = get(rs, "MULTI");
	assert_int_equal(r->tflags, RS_TF_MULTIPLE | RS_TF_PUBLISH |
	                                RS_TF_LEARN | RS_TF_USERCONF |
	                                RS_TF_NOAUTOLEARN | RS_TF_NOSUBJECT);
	assert_int_equal(r->maxhits, 5);
	assert_string_equal(r->tflags_text, "multiple maxhits=5 publish learn "
	                    "userconf noautolearn nosubject autolearn_force");
	find_diag(rs, RS_DIAG_WARNING, "t.cf", 13, "unknown flag 'frobnicate'");
	assert_int_equal(get(rs, "ODD")->tflags, RS_TF_NET);
	assert_int_equal(get(rs, "ODD")->type, RS_UNDEFINED);
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 14, "maxhits=N");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 15, "expected flags");
	ruleset_free(rs);
}

static void test_undefined(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "body A /a/\n"
	    "score GHOST 2\n"
	    "describe SHADOW only described\n"
	    "score GHOST 3\n");
	const struct rs_rule *g = get(rs, "GHOST");
	assert_int_equal(g->type, RS_UNDEFINED);
	assert_int_equal(g->line, 2);
	assert_true(g->score[0] == 3);
	find_diag(rs, RS_DIAG_WARNING, "t.cf", 2, "no rule line defines");
	assert_int_equal(get(rs, "SHADOW")->type, RS_UNDEFINED);
	assert_int_equal(count_kind(rs, RS_DIAG_WARNING), 1);
	ruleset_free(rs);
}

static void test_override_in_buffer(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "header A Subject =~ /x/ [if-unset: u]\n"
	    "tflags A nice\n"
	    "score A 4\n"
	    "body A /y/\n"
	    "score A 5\n");
	const struct rs_rule *a = get(rs, "A");
	assert_int_equal(a->type, RS_BODY);
	assert_null(a->header);
	assert_null(a->if_unset);
	assert_pattern(a, "y");
	assert_int_equal(a->line, 4);
	assert_int_equal(a->tflags, RS_TF_NICE);
	assert_true(a->score[0] == 5);
	assert_int_equal(ruleset_count(rs), 1);
	ruleset_free(rs);
	/* A bad redefinition keeps the earlier one. */
	rs = load("body A /y/\nbody A /z\n");
	assert_pattern(get(rs, "A"), "y");
	ruleset_free(rs);
}

static void test_lang(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "body A /a/\n"
	    "describe A English\n"
	    "lang de describe A Deutsch\n"
	    "lang pt_BR describe A Portugues\n"
	    "lang en describe B Also English\n"
	    "lang fr body C /c/\n"
	    "lang\n");
	assert_string_equal(get(rs, "A")->describe, "English");
	assert_string_equal(get(rs, "B")->describe, "Also English");
	assert_null(ruleset_find(rs, "C"));
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 7, "lang: expected");
	ruleset_free(rs);
}

static void test_conditionals(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "ifplugin Mail::SpamAssassin::Plugin::Yes\n"
	    "  body Y1 /a/\n"
	    "  ifplugin Mail::SpamAssassin::Plugin::No\n"
	    "    body N1 /a/\n"
	    "  else\n"
	    "    body Y2 /a/\n"
	    "  endif\n"
	    "endif\n"
	    "ifplugin Mail::SpamAssassin::Plugin::No\n"
	    "  body N2 /a/\n"
	    "  if version >= 3.004000\n"
	    "    body N3 /a/\n"
	    "  else\n"
	    "    body N4 /a/\n"
	    "  endif\n"
	    "endif\n"
	    "if (version >= 3.004002)\n body Y3 /a/\nendif\n"
	    "if version < 4.0\n body N5 /a/\nendif\n"
	    "if can(Mail::SpamAssassin::Conf::feature_bug6558_free)\n"
	    " body Y4 /a/\nendif\n"
	    /* on without enable_compat, as SpamAssassin's init.pre has it */
	    "if can(Mail::SpamAssassin::Conf::compat_welcomelist_blocklist)\n"
	    " body Y5 /a/\nendif\n"
	    "if !plugin(Mail::SpamAssassin::Plugin::ReplaceTags)\n"
	    " body N6 /a/\nendif\n"
	    "if plugin(Mail::SpamAssassin::Plugin::Yes) && (version > 4 || 0)\n"
	    " body Y6 /a/\nendif\n"
	    "if !(!plugin(Mail::SpamAssassin::Plugin::No))\n"
	    " body N7 /a/\nendif\n"
	    "if can(Mail::SpamAssassin::Plugin::BodyEval::has_check_body_length)\n"
	    " body Y7 /a/\nendif\n"
	    "if can(Mail::SpamAssassin::Plugin::No::has_foo)\n"
	    " body N8 /a/\nendif\n"
	    /* as SpamAssassin's cond_clause_can_or_has(): can() needs the
	     * method to exist and return true without arguments, which only
	     * a plugin's has_* flags do; has() needs it to exist (audit22 L8) */
	    "if can(Mail::SpamAssassin::Plugin::BodyEval::has_no_such)\n"
	    " body N9 /a/\nendif\n"
	    "if can(Mail::SpamAssassin::Plugin::BodyEval::check_body_length)\n"
	    " body N10 /a/\nendif\n"
	    "if can(Mail::SpamAssassin::Plugin::Yes::has_foo)\n"
	    " body N11 /a/\nendif\n"
	    "if has(Mail::SpamAssassin::Plugin::BodyEval::check_body_length)\n"
	    " body Y11 /a/\nendif\n"
	    "if version >= 3.004002 || 4.1 == 0\n body Y12 /a/\nendif\n"
	    "ifplugin Mail::SpamAssassin::Plugin::Dmarc\n"
	    " body Y8 /a/\nendif\n"
	    "if can(Mail::SpamAssassin::Conf::perl_min_version_5010000)\n"
	    " body Y9 /a/\nendif\n"
	    "if 1 + 1 == 2 && 3 != 4 && !(2 <= 1)\n body Y10 /a/\nendif\n");
	assert_int_equal(ruleset_diag_count(rs), 0);
	for (int i = 1; i <= 12; i++) {
		char n[8];
		snprintf(n, sizeof n, "Y%d", i);
		if (ruleset_find(rs, n) == NULL)
			fail_msg("%s missing", n);
	}
	for (int i = 1; i <= 11; i++) {
		char n[8];
		snprintf(n, sizeof n, "N%d", i);
		if (ruleset_find(rs, n) != NULL)
			fail_msg("%s present", n);
	}
	ruleset_free(rs);

	/* a token SpamAssassin's lexer refuses (3.4.2, 1-1, .5, 1., a lone
	 * letter, stray colons) makes it ignore the whole line: the block
	 * and its else are read, its endif closes the enclosing if, even in
	 * a block it skips (audit23 M2) */
	rs = load("if version >= 3.4.2\n body U1 /a/\nelse\n body U2 /a/\n"
	          "endif\n"
	          "if 0\n if 1-1\n  body U3 /a/\n endif\n body U4 /a/\nendif\n"
	          "if 1\n if .5\n else\n  body U5 /a/\n endif\n"
	          "if 1.\nif x\nif a:b\nif -1 + 2\n body U6 /a/\nendif\n");
	for (int i = 1; i <= 6; i++) {
		char n[8];
		snprintf(n, sizeof n, "U%d", i);
		if ((ruleset_find(rs, n) != NULL) != (i != 3 && i != 5))
			fail_msg("%s", n);
	}
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 9);
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 1, "cannot read '3.4.2'");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 7, "cannot read '1-1'");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 18, "cannot read 'x'");
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 19, "cannot read 'a:b'");
	ruleset_free(rs);

	/* a plugin SpamAssassin loads and vigil does not implement (Razor2
	 * here) is loaded to conditions: its ifplugin block is skipped (and
	 * reported), its else is not read, `!plugin()` is false (audit23 L4);
	 * can(X::dbg) is true, as the Logger function returns true */
	rs = load("ifplugin Mail::SpamAssassin::Plugin::Razor2\n body R1 /a/\n"
	          "else\n body R2 /a/\nendif\n"
	          "if !plugin(Mail::SpamAssassin::Plugin::Razor2)\n body R3 /a/\n"
	          "endif\nif plugin(Mail::SpamAssassin::Plugin::Razor2)\n"
	          " body R4 /a/\nendif\n"
	          "if can(Mail::SpamAssassin::Plugin::Razor2::has_fork) && "
	          "can(Mail::SpamAssassin::Plugin::BodyEval::dbg)\n body R5 /a/\n"
	          "endif\n");
	assert_null(ruleset_find(rs, "R1"));
	assert_null(ruleset_find(rs, "R2"));
	assert_null(ruleset_find(rs, "R3"));
	assert_non_null(ruleset_find(rs, "R4"));
	assert_non_null(ruleset_find(rs, "R5"));
	assert_int_equal(count_kind(rs, RS_DIAG_UNSUPPORTED), 1);
	ruleset_free(rs);

	/* local_tests_only: SpamAssassin's -L flag, in `if` and in metas
	 * (the token alone) (audit22 L5, L8) */
	const char *lt = "if (local_tests_only)\n body LT /a/\nendif\n"
	                 "if !local_tests_only\n body NT /a/\nendif\n"
	                 "meta ML local_tests_only && LT\n"
	                 "meta MX xlocal_tests_only || local_tests_only2\n";
	for (int local = 0; local < 2; local++) {
		struct ruleset_opts lo = opts;
		lo.local_tests_only = local;
		rs = ruleset_load_buf("t.cf", lt, strlen(lt), &lo);
		assert_non_null(rs);
		assert_true((ruleset_find(rs, "LT") != NULL) == local);
		assert_true((ruleset_find(rs, "NT") != NULL) == !local);
		assert_string_equal(get(rs, "ML")->meta, local ? "(1) && LT"
		                                               : "(0) && LT");
		assert_string_equal(get(rs, "MX")->meta,
		                    "xlocal_tests_only || local_tests_only2");
		ruleset_free(rs);
	}

	/* Rules of a block SpamAssassin reads (its plugin loaded by default)
	 * but vigil skips are each reported unsupported, by name; not those
	 * of other plugins, of an else branch, nor other lines. */
	rs = load("ifplugin Mail::SpamAssassin::Plugin::HTTPSMismatch\n"
	          " body M1 eval:check_https_http_mismatch('1','10')\n"
	          " describe M1 x\n"
	          " if version >= 4\n  meta M2 M1\n endif\n"
	          " askdns M3 _AUTHORDOMAIN_ A 1\n"
	          "else\n body M4 /a/\nendif\n"
	          "ifplugin Mail::SpamAssassin::Plugin::Foreign\n"
	          " body M5 /a/\nendif\n");
	assert_int_equal(ruleset_diag_count(rs), 3);
	static const char *const skipped[] = { "M1", "M2", "M3" };
	for (size_t i = 0; i < 3; i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		assert_int_equal(d->kind, RS_DIAG_UNSUPPORTED);
		assert_string_equal(d->rule, skipped[i]);
		assert_non_null(strstr(d->message, "Plugin::HTTPSMismatch"));
	}
	/* nor read: SpamAssassin takes the ifplugin as true (audit23 L4) */
	assert_null(ruleset_find(rs, "M4"));
	ruleset_free(rs);

	/* enable_compat turns the compat_ check on. */
	rs = load("enable_compat welcomelist_blocklist\n"
	          "if can(Mail::SpamAssassin::Conf::compat_welcomelist_blocklist)\n"
	          " body A /a/\nendif\n");
	assert_non_null(ruleset_find(rs, "A"));
	ruleset_free(rs);

	/* Unknown features: false with a warning. */
	rs = load("\nif can(Mail::SpamAssassin::Conf::feature_time_travel)\n"
	          " body A /a/\nendif\n"
	          "if can(Foo::bar)\n body B /b/\nendif\n"
	          "if somename\n body C /c/\nendif\n");
	assert_int_equal(ruleset_count(rs), 0);
	find_diag(rs, RS_DIAG_WARNING, "t.cf", 2, "feature_time_travel");
	find_diag(rs, RS_DIAG_WARNING, "t.cf", 5, "Foo::bar");
	find_diag(rs, RS_DIAG_WARNING, "t.cf", 8, "somename");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	ruleset_free(rs);

	/* Configurable version. */
	struct ruleset_opts o = { NULL, 3.004006, false };
	const char *t = "if version >= 4.000000\nbody A /a/\nelse\nbody B /b/\n"
	                "endif\nifplugin Mail::SpamAssassin::Plugin::Yes\n"
	                "body C /c/\nendif\n";
	rs = ruleset_load_buf("v.cf", t, strlen(t), &o);
	assert_null(ruleset_find(rs, "A"));
	assert_non_null(ruleset_find(rs, "B"));
	assert_null(ruleset_find(rs, "C"));
	ruleset_free(rs);

	expect_error("body A /a/\nendif\n", 2, "'endif' without a matching");
	expect_error("else\n", 1, "'else' without a matching");
	/* a second else toggles again, as in SpamAssassin's parser; text
	 * after an ifplugin's name its lexer reads fails the condition, what
	 * it skips does not; a condition met again keeps its first truth,
	 * as Parser.pm caches it, even after a loadplugin line (audit24) */
	rs = load("if 1\n body E1 /a/\nelse\n body E2 /a/\nelse\n body E3 /a/\n"
	          "endif\n"
	          "ifplugin Mail::SpamAssassin::Plugin::Yes xyz\n body E4 /a/\n"
	          "endif\nifplugin Mail::SpamAssassin::Plugin::Yes;\n"
	          " body E5 /a/\nendif\n"
	          "ifplugin Mail::SpamAssassin::Plugin::Later\nelse\n"
	          " body E6 /a/\nendif\n"
	          "loadplugin Mail::SpamAssassin::Plugin::Later\n"
	          "ifplugin Mail::SpamAssassin::Plugin::Later\nelse\n"
	          " body E7 /a/\nendif\n"
	          "ifplugin Mail::SpamAssassin::Plugin::RaciallyCharged\n"
	          " body E8 /a/\nendif\n");
	for (int i = 1; i <= 8; i++) {
		char n[8];
		snprintf(n, sizeof n, "E%d", i);
		if ((ruleset_find(rs, n) != NULL) != (i != 2 && i != 4))
			fail_msg("%s", n);
	}
	find_diag(rs, RS_DIAG_WARNING, "t.cf", 5, "second 'else'");
	ruleset_free(rs);
	expect_error("ok_locales\n", 1, "ok_locales: missing value");
	expect_error("if 1\nendif 1\nendif\n", 2, "must stand alone");
	expect_error("body A /a/\nif 1\n  ifplugin Xy\nendif\n", 2,
	             "'if' without a matching 'endif'");
	expect_error("if (1\nendif\n", 1, "cannot parse the condition");
	expect_error("if 1 &&\nendif\n", 1, "cannot parse the condition");
	expect_error("if\nendif\n", 1, "without a condition");
	expect_error("ifplugin\nendif\n", 1, "without a condition");
	/* Lines inside a false block are not even looked at. */
	rs = load("if 0\n this is garbage\n if can(Nothing::at_all)\n"
	          " endif\nendif\n");
	assert_int_equal(ruleset_diag_count(rs), 0);
	ruleset_free(rs);
}

static void test_unsupported_and_unknown(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "uridnsbl_skip_domain a.example\n"
	    "uridnsbl_skip_domain b.example\n"
	    "urirhssub URIBL_X multi.example. A 2\n"
	    "urirhssub URIBL_Y multi.example. A 4\n"
	    "askdns ASK_A _AUTHORDOMAIN_.example A 127.0.0.2\n"
	    "loadplugin Mail::SpamAssassin::Plugin::Foo\n"
	    "tryplugin Mail::SpamAssassin::Plugin::Bar\n"
	    "whitelist_auth *@example.com\n"
	    "Dns-Server 127.0.0.1\n"
	    "frobnicate now\n"
	    "bayes_stopword_xx a b\n"
	    "test A ok text\n");
	assert_int_equal(count_kind(rs, RS_DIAG_UNSUPPORTED), 8);
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 1,
	          "'uridnsbl_skip_domain'");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 6, "Plugin::Foo: vigil does "
	          "not implement");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 7, "Plugin::Bar: vigil does "
	          "not implement");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 3, "'urirhssub'");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 5, "'askdns'");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 8, "'whitelist_auth'");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 9, "'dns_server'");
	find_diag(rs, RS_DIAG_UNSUPPORTED, "t.cf", 11, "'bayes_stopword_xx'");
	const struct rs_rule *r = get(rs, "URIBL_Y");
	assert_int_equal(r->type, RS_EVAL);
	assert_string_equal(r->eval, "urirhssub URIBL_Y multi.example. A 4");
	assert_int_equal(get(rs, "ASK_A")->type, RS_EVAL);
	find_diag(rs, RS_DIAG_ERROR, "t.cf", 10, "unknown directive 'frobnicate'");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 1);
	ruleset_free(rs);
}

/* WLBLEval's sender and recipient lists are kept for sa_wlbl.c (until
 * 2026-11-25 they were "not implemented (ignored)", audit20 M1). */
static void test_wlbl_settings_kept(void **state)
{
	(void)state;
	struct ruleset *rs = load("whitelist_from *@example.com\n"
	                          "unwelcomelist_from_rcvd a@b.example\n"
	                          "More-Spam-To x@y.example\n");
	assert_int_equal(ruleset_diag_count(rs), 0);
	assert_int_equal(ruleset_setting_count(rs), 3);
	const char *k, *v;
	assert_true(ruleset_setting_at(rs, 0, &k, &v));
	assert_string_equal(k, "whitelist_from");
	assert_string_equal(v, "*@example.com");
	assert_true(ruleset_setting_at(rs, 2, &k, &v));
	assert_string_equal(k, "more_spam_to");
	ruleset_free(rs);
}

/* SpamAssassin's template syntax (Parser.pm's parse_captures). */
static void test_next_template(void **state)
{
	(void)state;
	static const char p[] = "a%{X}b\\%{ESC}%{lower}%{A__B}%{A_}%{T_1(x y)}"
	                        "%{B_2}%{C";
	size_t at = 0, start, n;
	const char *nm;
	const char *want[] = { "X", "T_1(x y)", "B_2" };
	for (size_t k = 0; k < 3; k++) {
		at = ruleset_next_template(p, sizeof p - 1, at, &start, &nm, &n);
		assert_int_not_equal(at, 0);
		assert_int_equal(n, strlen(want[k]));
		assert_memory_equal(nm, want[k], n);
		assert_int_equal(p[start], '%');
		assert_int_equal(p[at - 1], '}');
	}
	assert_int_equal(ruleset_next_template(p, sizeof p - 1, at, &start,
	                                       &nm, &n), 0);
}

static void test_reuse_capture_require(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "reuse T_OLD\n"
	    "body B /b/\n"
	    "reuse B\n"
	    "header __TO_ADDR To:addr =~ /(?<TO_ADDR>.*)/\n"
	    "uri URI_CAP m|^https?://x/\\#%{TO_ADDR}|i\n"
	    "body LIT /100%\\{X\\}/\n"
	    "require_version @@VERSION@@\n"
	    "body C /c/\n");
	assert_int_equal(get(rs, "T_OLD")->type, RS_EVAL);
	assert_true(get(rs, "T_OLD")->score[0] == 0.01);
	assert_int_equal(get(rs, "B")->type, RS_BODY);
	assert_int_equal(get(rs, "__TO_ADDR")->type, RS_HEADER);
	assert_true(get(rs, "__TO_ADDR")->captures);
	assert_int_equal(get(rs, "__TO_ADDR")->priority, -10000);
	assert_false(get(rs, "__TO_ADDR")->capture_template);
	const struct rs_rule *u = get(rs, "URI_CAP");
	assert_int_equal(u->type, RS_URI);
	assert_true(u->capture_template);
	assert_false(u->captures);
	assert_int_equal(u->priority, 0);
	assert_int_equal(get(rs, "LIT")->type, RS_BODY);
	assert_false(get(rs, "LIT")->capture_template);
	assert_non_null(ruleset_find(rs, "C"));
	assert_int_equal(count_kind(rs, RS_DIAG_UNSUPPORTED), 0);
	ruleset_free(rs);

	rs = load("body A /a/\nrequire_version 3.001000\nbody B /b/\n");
	assert_non_null(ruleset_find(rs, "A"));
	assert_null(ruleset_find(rs, "B"));
	find_diag(rs, RS_DIAG_WARNING, "t.cf", 2, "rest of the file");
	ruleset_free(rs);
	expect_error("require_version four\n", 1, "expected a version");
}

static void test_replace_tags(void **state)
{
	(void)state;
	struct ruleset *rs = load(
	    "replace_tag A [a@]\n"
	    "replace_tag B (?:b|<A>)\n"
	    "replace_tag SP [\\s_]\n"
	    "replace_inter W \\W?\n"
	    "replace_post P {1,2}\n"
	    "replace_pre Q (?:x)\n"
	    "body R1 /<A><SP>*<B>/i\n"
	    "body R2 /<inter W><post P>(?!ab)<A><B>z<A>/\n"
	    "body R3 /<pre Q><A> <UNKNOWN>/\n"
	    "body NOT_LISTED /<A>/\n"
	    "header R4 Subject =~ /<A>/\n"
	    "meta R5 A && B\n"
	    "replace_rules R1 R2 R3 R4 R5 NOSUCH\n"
	    "replace_tag A [aA@]\n");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 0);
	/* Tags take their last value; nested tags are expanded. */
	assert_pattern(get(rs, "R1"), "[aA@][\\s_]*(?:b|[aA@])");
	assert_pattern(get(rs, "R2"), "(?!ab)[aA@]{1,2}\\W?(?:b|[aA@]){1,2}"
	                              "z[aA@]{1,2}");
	assert_pattern(get(rs, "R3"), "(?:x)[aA@] (?:x)<UNKNOWN>");
	assert_pattern(get(rs, "NOT_LISTED"), "<A>");
	assert_pattern(get(rs, "R4"), "[aA@]");
	assert_string_equal(get(rs, "R5")->meta, "A && B");
	ruleset_free(rs);

	rs = load("replace_start [[\nreplace_end ]]\nreplace_tag X x+\n"
	          "body R /a[[X]]<X>/\nreplace_rules R\n");
	assert_pattern(get(rs, "R"), "ax+<X>");
	ruleset_free(rs);

	expect_error("replace_tag A\n", 1, "expected a tag name and its value");
	expect_error("replace_rules\n", 1, "expected rule names");
	expect_error("replace_start\n", 1, "expected a string");
}

static void test_include_refused_in_buffer(void **state)
{
	(void)state;
	expect_error("include other.cf\n", 1, "not allowed");
}

/* ------------------------------------------------------------------ */
/* files */

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_ruleset.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_files_override(void **state)
{
	(void)state;
	write_file("one.cf", "body A /x/\nscore A 2\ndescribe A first\n"
	                     "tflags A net\n");
	write_file("two.cf", "header A Subject =~ /y/\nscore A 3\n");
	char p1[256], p2[256];
	snprintf(p1, sizeof p1, "%s/one.cf", tmpdir);
	snprintf(p2, sizeof p2, "%s/two.cf", tmpdir);
	const char *paths[] = { p1, p2 };
	struct ruleset *rs = ruleset_load(paths, 2, &opts);
	assert_non_null(rs);
	const struct rs_rule *a = get(rs, "A");
	assert_int_equal(a->type, RS_HEADER);
	assert_string_equal(a->file, p2);
	assert_int_equal(a->line, 1);
	assert_true(a->score[0] == 3);
	assert_string_equal(a->describe, "first");
	assert_int_equal(a->tflags, RS_TF_NET);
	assert_int_equal(ruleset_file_count(rs), 2);
	assert_string_equal(ruleset_file_at(rs, 1), p2);
	ruleset_free(rs);

	/* The other order. */
	const char *rev[] = { p2, p1 };
	rs = ruleset_load(rev, 2, &opts);
	assert_int_equal(get(rs, "A")->type, RS_BODY);
	assert_true(get(rs, "A")->score[0] == 2);
	ruleset_free(rs);

	/* A missing file is an error naming it. */
	char p3[256];
	snprintf(p3, sizeof p3, "%s/missing.cf", tmpdir);
	const char *miss[] = { p3 };
	rs = ruleset_load(miss, 1, &opts);
	assert_non_null(rs);
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 1);
	assert_non_null(strstr(ruleset_diag_at(rs, 0)->message, p3));
	ruleset_free(rs);
}

/* ruleset_digest(): the files' bytes in load order, not their paths. */
static void digest_of(const char *const *paths, size_t n, char hex[65])
{
	struct ruleset *rs = ruleset_load(paths, n, &opts);
	assert_non_null(rs);
	ruleset_digest(rs, hex);
	ruleset_free(rs);
}

static void test_digest(void **state)
{
	(void)state;
	char d1[256], d2[256], a[256], b[256], a2[256], b2[256];
	char h1[65], h2[65], h3[65], h4[65];
	snprintf(d1, sizeof d1, "%s/one", tmpdir);
	snprintf(d2, sizeof d2, "%s/two", tmpdir);
	assert_int_equal(mkdir(d1, 0700), 0);
	assert_int_equal(mkdir(d2, 0700), 0);
	write_file("one/10_a.cf", "body A /a/\nscore A 2\n");
	write_file("one/20_b.cf", "body B /b/\n");
	write_file("two/10_a.cf", "body A /a/\nscore A 2\n");
	write_file("two/20_b.cf", "body B /b/\n");
	const char *p1[] = { d1 }, *p2[] = { d2 };
	digest_of(p1, 1, h1);
	digest_of(p2, 1, h2);
	assert_int_equal(strlen(h1), 64);
	assert_string_equal(h1, h2);    /* same bytes elsewhere: same */
	digest_of(p1, 1, h3);
	assert_string_equal(h1, h3);    /* loading again: same */
	write_file("two/20_b.cf", "body B /c/\n");
	digest_of(p2, 1, h2);
	assert_string_not_equal(h1, h2);    /* one byte changed */
	/* order matters, and file boundaries too ("ab"+"c" vs "a"+"bc") */
	snprintf(a, sizeof a, "%s/one/10_a.cf", tmpdir);
	snprintf(b, sizeof b, "%s/one/20_b.cf", tmpdir);
	const char *ab[] = { a, b }, *ba[] = { b, a };
	digest_of(ab, 2, h3);
	digest_of(ba, 2, h4);
	assert_string_equal(h1, h3);
	assert_string_not_equal(h3, h4);
	write_file("x.cf", "body X /ab/\n");
	write_file("y.cf", "body Y /c/\n");
	write_file("x2.cf", "body X /a");
	write_file("y2.cf", "b/\nbody Y /c/\n");
	snprintf(a, sizeof a, "%s/x.cf", tmpdir);
	snprintf(b, sizeof b, "%s/y.cf", tmpdir);
	snprintf(a2, sizeof a2, "%s/x2.cf", tmpdir);
	snprintf(b2, sizeof b2, "%s/y2.cf", tmpdir);
	const char *xy[] = { a, b }, *xy2[] = { a2, b2 };
	digest_of(xy, 2, h3);
	digest_of(xy2, 2, h4);
	assert_string_not_equal(h3, h4);
	/* a buffer: its bytes */
	struct ruleset *rs = ruleset_load_buf("t.cf", "body B /b/\n", 11, &opts);
	assert_non_null(rs);
	ruleset_digest(rs, h3);
	ruleset_free(rs);
	const char *bp[] = { b };
	write_file("y.cf", "body B /b/\n");
	digest_of(bp, 1, h4);
	assert_string_equal(h3, h4);
}

static void test_directory(void **state)
{
	(void)state;
	char d[256];
	snprintf(d, sizeof d, "%s/dir", tmpdir);
	assert_int_equal(mkdir(d, 0700), 0);
	write_file("dir/20_b.cf", "body B /b2/\nscore A 5\n");
	write_file("dir/10_a.cf", "body A /a/\nbody B /b1/\n"
	                          "if can(Mail::SpamAssassin::Conf::compat_x)\n"
	                          "body C /c/\nendif\n");
	/* the suffix in any case, as SpamAssassin's /\.cf$/i (audit20 L5) */
	write_file("dir/Z_last.CF", "score B 7\n");
	write_file("dir/init.pre", "loadplugin Mail::SpamAssassin::Plugin::X\n"
	                           "enable_compat x\nbody NOT_FROM_PRE /p/\n");
	write_file("dir/notes.txt", "garbage that is never read\n");
	const char *paths[] = { d };
	struct ruleset *rs = ruleset_load(paths, 1, &opts);
	/* only the plugin vigil does not implement is named */
	assert_int_equal(ruleset_diag_count(rs), 1);
	assert_int_equal(count_kind(rs, RS_DIAG_UNSUPPORTED), 1);
	/* "Z_last.cf" sorts before "init.pre"... but .pre files come
	 * first; among .cf files bytewise order puts 'Z' after digits. */
	assert_int_equal(ruleset_file_count(rs), 4);
	assert_non_null(strstr(ruleset_file_at(rs, 0), "init.pre"));
	assert_non_null(strstr(ruleset_file_at(rs, 1), "10_a.cf"));
	assert_non_null(strstr(ruleset_file_at(rs, 2), "20_b.cf"));
	assert_non_null(strstr(ruleset_file_at(rs, 3), "Z_last.CF"));
	assert_pattern(get(rs, "B"), "b2");
	assert_true(get(rs, "B")->score[0] == 7);
	assert_true(get(rs, "A")->score[0] == 5);
	assert_non_null(ruleset_find(rs, "C"));
	assert_null(ruleset_find(rs, "NOT_FROM_PRE"));
	ruleset_free(rs);

	/* The *.pre files of every directory come before any *.cf file,
	 * as SpamAssassin reads /etc/spamassassin/init.pre before the
	 * rules of /usr/share/spamassassin. */
	char d2[256];
	snprintf(d2, sizeof d2, "%s/dir2", tmpdir);
	assert_int_equal(mkdir(d2, 0700), 0);
	write_file("dir/30_y.cf", "if can(Mail::SpamAssassin::Conf::compat_y)"
	                          "\nbody Y /y/\nendif\n");
	write_file("dir2/init.pre", "enable_compat y\n");
	const char *two[] = { d, d2 };
	rs = ruleset_load(two, 2, &opts);
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR) +
	                 count_kind(rs, RS_DIAG_WARNING), 0);
	assert_non_null(ruleset_find(rs, "Y"));
	assert_non_null(strstr(ruleset_file_at(rs, 1), "dir2/init.pre"));
	ruleset_free(rs);
}

static void test_include(void **state)
{
	(void)state;
	char d[256];
	snprintf(d, sizeof d, "%s/inc", tmpdir);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(d, sizeof d, "%s/inc/sub", tmpdir);
	assert_int_equal(mkdir(d, 0700), 0);
	write_file("inc/main.cf", "body A /a/\ninclude sub/x.cf\nbody C /c/\n"
	                          "include loop1.cf\ninclude nothere.cf\n");
	write_file("inc/sub/x.cf", "body B /b/\nif 1\nendif\nbogus\n");
	write_file("inc/loop1.cf", "include loop2.cf\n");
	write_file("inc/loop2.cf", "body L /l/\ninclude loop1.cf\n");
	char main_cf[256], x_cf[256], loop2[256];
	snprintf(main_cf, sizeof main_cf, "%s/inc/main.cf", tmpdir);
	snprintf(x_cf, sizeof x_cf, "%s/inc/sub/x.cf", tmpdir);
	snprintf(loop2, sizeof loop2, "%s/inc/loop2.cf", tmpdir);
	const char *paths[] = { main_cf };
	struct ruleset *rs = ruleset_load(paths, 1, &opts);
	assert_non_null(ruleset_find(rs, "A"));
	assert_string_equal(get(rs, "B")->file, x_cf);
	assert_non_null(ruleset_find(rs, "C"));
	assert_non_null(ruleset_find(rs, "L"));
	find_diag(rs, RS_DIAG_ERROR, x_cf, 4, "unknown directive 'bogus'");
	find_diag(rs, RS_DIAG_ERROR, loop2, 2, "include loop");
	find_diag(rs, RS_DIAG_ERROR, main_cf, 5, "nothere.cf");
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 3);
	ruleset_free(rs);

	/* A chain deeper than 20 files stops with an error. */
	for (int i = 0; i <= 22; i++) {
		char n[64], t[128];
		snprintf(n, sizeof n, "inc/d%d.cf", i);
		snprintf(t, sizeof t, "body D%d /d/\ninclude d%d.cf\n", i, i + 1);
		write_file(n, t);
	}
	char d0[256];
	snprintf(d0, sizeof d0, "%s/inc/d0.cf", tmpdir);
	const char *p0[] = { d0 };
	rs = ruleset_load(p0, 1, &opts);
	assert_non_null(ruleset_find(rs, "D20"));
	assert_null(ruleset_find(rs, "D21"));
	assert_int_equal(count_kind(rs, RS_DIAG_ERROR), 1);
	char d20[256];
	snprintf(d20, sizeof d20, "%s/inc/d20.cf", tmpdir);
	find_diag(rs, RS_DIAG_ERROR, d20, 2, "deeper than 20");
	ruleset_free(rs);
}

/* An eval call's arguments as SpamAssassin's pack_eval_args() reads
 * them; a list it cannot read to its end refuses the rule, as
 * SpamAssassin's "syntax error for eval function" (audit22 L6). */
static void test_eval_args(void **state)
{
	(void)state;
	static const struct {
		const char *list;
		int n;              /* -1: refused */
		const char *args;   /* the arguments, '|' after each */
	} cases[] = {
		{ "'1024'", 1, "1024|" }, { "1024", 1, "1024|" },
		{ "\"1024\"", 1, "1024|" }, { " '1024' ", 1, "1024|" },
		{ "'1024',", 1, "1024|" }, { "'1024' ,", 1, "1024|" },
		{ "'10 24'", 1, "10 24|" }, { "'1024' '5'", 1, "1024' '5|" },
		{ "'1024','2'", 2, "1024|2|" }, { "'a,b' , c", 2, "a,b|c|" },
		{ "", 0, "" }, { "   ", 0, "" }, { "::1, 1.2.3.4", 2, "::1|1.2.3.4|" },
		{ "'it''s'", 1, "it''s|" }, { "\"a'\",'b\"'", 2, "a'|b\"|" },
		{ "'1024", -1, NULL }, { "1024'", -1, NULL }, { "$x", -1, NULL },
		{ "1_024", -1, NULL }, { "+1024", -1, NULL }, { ",'1024'", -1, NULL },
		{ "1,,2", -1, NULL }, { "1 2", -1, NULL }, { "'a' b", -1, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *l = cases[i].list, *a;
		size_t pos = 0, n;
		char got[64] = "";
		int rc, count = 0;
		while ((rc = ruleset_eval_arg(l, strlen(l), &pos, &a, &n)) == 1) {
			count++;
			snprintf(got + strlen(got), sizeof got - strlen(got),
			         "%.*s|", (int)n, a);
		}
		if (cases[i].n < 0) {
			if (rc != -1)
				fail_msg("(%s) read", l);
			continue;
		}
		if (rc != 0 || count != cases[i].n || strcmp(got, cases[i].args))
			fail_msg("(%s): rc %d, %d args '%s'", l, rc, count, got);
	}
	struct ruleset *rs = load("body OK eval:check_body_length('1024','2')\n"
	                          "body BAD eval:check_body_length(+1024)\n"
	                          "body BAD2 eval:check_body_length(1024')\n");
	/* defined (a redefinition replaces the earlier one), left out by
	 * rules.c: OK's RS_DIAG_UNSUPPORTED (rules.c decides), then the two
	 * errors */
	assert_true(ruleset_eval_args_ok(get(rs, "OK")->eval));
	assert_false(ruleset_eval_args_ok(get(rs, "BAD")->eval));
	assert_int_equal(ruleset_diag_count(rs), 3);
	for (size_t i = 1; i < 3; i++)
		assert_non_null(strstr(ruleset_diag_at(rs, i)->message,
		                       "invalid eval call"));
	ruleset_free(rs);
}

static void test_long_line(void **state)
{
	(void)state;
	size_t n = 200000;
	char *t = malloc(n + 32);
	assert_non_null(t);
	strcpy(t, "body LONG /");
	size_t o = strlen(t);
	memset(t + o, 'a', n);
	strcpy(t + o + n, "/\n");
	struct ruleset *rs = ruleset_load_buf("long.cf", t, strlen(t), &opts);
	assert_int_equal(get(rs, "LONG")->pattern_len, n);
	ruleset_free(rs);
	/* Bytes after an embedded NUL are still parsed. */
	const char z[] = "body A /a\0b/\nbody B /b/\n";
	rs = ruleset_load_buf("z.cf", z, sizeof z - 1, &opts);
	assert_int_equal(get(rs, "A")->pattern_len, 3);
	assert_non_null(ruleset_find(rs, "B"));
	ruleset_free(rs);
	free(t);
}

/* ------------------------------------------------------------------ */
/* the stock rules, when installed */

static bool stock_plugins(const char *name)
{
	static const char *const loaded[] = {
		"Mail::SpamAssassin::Plugin::MIMEHeader",
		"Mail::SpamAssassin::Plugin::HeaderEval",
		"Mail::SpamAssassin::Plugin::BodyEval",
		"Mail::SpamAssassin::Plugin::FreeMail",
		"Mail::SpamAssassin::Plugin::WelcomeListSubject",
	};
	for (size_t i = 0; i < sizeof loaded / sizeof loaded[0]; i++)
		if (strcmp(name, loaded[i]) == 0)
			return true;
	return false;
}

static void test_stock(void **state)
{
	(void)state;
	const char *dir = "/usr/share/spamassassin";
	struct stat st;
	if (stat("/usr/share/spamassassin/50_scores.cf", &st) != 0) {
		skip();
		return;
	}
	struct ruleset_opts o = { stock_plugins, 0, false };
	struct ruleset *rs = ruleset_load(&dir, 1, &o);
	assert_non_null(rs);
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		if (d->kind == RS_DIAG_ERROR)
			fail_msg("%s:%u: %s", d->file, d->line, d->message);
	}
	assert_true(ruleset_count(rs) > 500);
	assert_true(ruleset_file_count(rs) > 10);
	/* 20_body_tests.cf: a body rule with its modifiers. */
	const struct rs_rule *r = get(rs, "TRACKER_ID");
	assert_int_equal(r->type, RS_BODY);
	assert_pattern(r, "^[a-z0-9]{6,24}[-_a-z0-9]{12,36}[a-z0-9]{6,24}"
	                  "\\s*\\z");
	assert_int_equal(r->pcre2_options, PCRE2_CASELESS | PCRE2_DOTALL);
	assert_non_null(strstr(r->file, "20_body_tests.cf"));
	/* 20_head_tests.cf: a header rule with :addr. */
	r = get(rs, "__FROM_ENDS_IN_NUMS");
	assert_int_equal(r->type, RS_HEADER);
	assert_string_equal(r->header, "From");
	assert_int_equal(r->hdr_mods, RS_HDR_ADDR);
	assert_pattern(r, "\\D\\d{8,}\\@");
	r = get(rs, "__HAS_SUBJECT");
	assert_int_equal(r->type, RS_HEADER);
	assert_true(r->exists);
	assert_string_equal(r->header, "Subject");
	/* 20_meta_tests.cf: a meta; 50_scores.cf: its four scores. */
	r = get(rs, "INVALID_MSGID");
	assert_int_equal(r->type, RS_META);
	assert_string_equal(r->meta,
	                    "__HAS_MSGID && !(__SANE_MSGID || __MSGID_COMMENT)");
	r = get(rs, "MISSING_SUBJECT");
	assert_int_equal(r->type, RS_META);
	assert_true(r->score[0] == 0.001 && r->score[1] == 1.767 &&
	            r->score[2] == 1.3 && r->score[3] == 1.799);
	assert_string_equal(r->describe, "Missing Subject: header");
	/* eval: rules of loaded plugins are kept as RS_EVAL. */
	r = get(rs, "SUBJ_ALL_CAPS");
	assert_int_equal(r->type, RS_EVAL);
	assert_string_equal(r->eval, "subject_is_all_caps()");
	assert_true(r->score[0] == 0.5);
	assert_int_equal(get(rs, "FREEMAIL_FROM")->type, RS_EVAL);
	/* 60_welcomelist_subject.cf under init.pre's enable_compat
	 * welcomelist_blocklist: the new name with the full score and no
	 * old-name meta. */
	r = get(rs, "SUBJECT_IN_WELCOMELIST");
	assert_true(r->score[0] == -100);
	assert_null(ruleset_find(rs, "SUBJECT_IN_WHITELIST"));
	/* 72_active.cf: a capture rule and a template rule */
	r = get(rs, "__GB_TO_ADDR");
	assert_true(r->captures && !r->capture_template);
	r = get(rs, "__GB_CUSTOM_HTM_URI2");
	assert_int_equal(r->type, RS_URI);
	assert_true(r->capture_template && !r->captures);
	/* A score line without a rule (RelayEval not loaded here). */
	r = get(rs, "ALL_TRUSTED");
	assert_int_equal(r->type, RS_UNDEFINED);
	assert_true(r->score[0] == -1.0);
	/* ReplaceTags ran: no tag is left in a 25_replace.cf rule. */
	r = get(rs, "FUZZY_CREDIT");
	assert_int_equal(r->type, RS_BODY);
	assert_true(r->pattern_len > 200);
	assert_null(strstr(r->pattern, "<C>"));
	assert_null(strstr(r->pattern, "<inter"));
	/* mimeheader rules exist since MIMEHeader is loaded. */
	size_t mime = 0;
	for (size_t i = 0; i < ruleset_count(rs); i++)
		if (ruleset_at(rs, i)->type == RS_MIMEHEADER)
			mime++;
	assert_true(mime > 10);
	ruleset_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_perl_quantifiers),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_meta_score_describe),
		cmocka_unit_test(test_defaults_tflags),
		cmocka_unit_test(test_undefined),
		cmocka_unit_test(test_override_in_buffer),
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_conditionals),
		cmocka_unit_test(test_unsupported_and_unknown),
		cmocka_unit_test(test_wlbl_settings_kept),
		cmocka_unit_test(test_reuse_capture_require),
		cmocka_unit_test(test_next_template),
		cmocka_unit_test(test_replace_tags),
		cmocka_unit_test(test_include_refused_in_buffer),
		cmocka_unit_test_setup_teardown(test_files_override, setup_dir,
		                                teardown_dir),
		cmocka_unit_test_setup_teardown(test_directory, setup_dir,
		                                teardown_dir),
		cmocka_unit_test_setup_teardown(test_digest, setup_dir,
		                                teardown_dir),
		cmocka_unit_test_setup_teardown(test_include, setup_dir,
		                                teardown_dir),
		cmocka_unit_test(test_eval_args),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_stock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
