/* Unit tests: scan output (JSON escaping, JSON lines, text table,
 * summary). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"

/* What fn wrote to a memory stream, NUL-terminated; the caller frees. */
static char *json(const char *s, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	report_json_string(f, s, len);
	fclose(f);
	return buf;
}

static void assert_json(const char *in, size_t len, const char *want)
{
	char *got = json(in, len);
	assert_string_equal(got, want);
	free(got);
}

static void escaping(void **state)
{
	(void)state;
	assert_json("plain", 5, "\"plain\"");
	/* a backslash doubled before JSON's own escaping (\\ in the value),
	 * so that \xHH below cannot be confused with the text */
	assert_json("q\"b\\", 4, "\"q\\\"b\\\\\\\\\"");
	assert_json("a\nb\rc\td", 7, "\"a\\nb\\rc\\td\"");
	assert_json("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	assert_json("nul\0x", 5, "\"nul\\u0000x\"");
	/* valid UTF-8 kept: é, €, 😀 */
	assert_json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
	            "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* invalid: Latin-1 byte, stray continuation, overlong '/', UTF-16
	 * surrogate, beyond U+10FFFF, sequence cut at the end: \xHH each,
	 * the value's bytes recoverable */
	assert_json("caf\xe9", 4, "\"caf\\\\xe9\"");
	assert_json("\x80x", 2, "\"\\\\x80x\"");
	assert_json("\xc0\xaf", 2, "\"\\\\xc0\\\\xaf\"");
	assert_json("\xed\xa0\x80", 3, "\"\\\\xed\\\\xa0\\\\x80\"");
	assert_json("\xf4\x90\x80\x80", 4,
	            "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"");
	assert_json("\xe2\x82", 2, "\"\\\\xe2\\\\x82\"");
}

static char *csv_field(const char *s, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	report_csv_string(f, s, len);
	fclose(f);
	return buf;
}

/* CSV: the same policy as JSON lines (valid UTF-8, \xHH, \\), then
 * RFC 4180 quoting; line breaks and tabs kept, other C0 controls and DEL
 * as \xHH (a NUL or ESC is no byte of a CSV file: JSON escapes them,
 * and Python <= 3.10, PostgreSQL and sqlite refuse them). */
static void csv_escaping(void **state)
{
	(void)state;
	char *got = csv_field("a,\"b\"\n\\c\xff\xc3\xa9\x01", 12);
	assert_string_equal(got, "\"a,\"\"b\"\"\n\\\\c\\xff\xc3\xa9\\x01\"");
	free(got);
	got = csv_field("<a\0b@x>\t\r\n\x1b[2J\x7f\x1f", 16);
	assert_string_equal(got, "\"<a\\x00b@x>\t\r\n\\x1b[2J\\x7f\\x1f\"");
	free(got);
}

/* Lists of addresses: all, or those picked (the recipients vigil scan
 * says were dropped), escaped as single strings. */
static void string_lists(void **state)
{
	(void)state;
	const char *v[] = { "a@x", "b\"@y", "c\xff@z" };
	const bool pick[] = { false, true, true };
	const bool none[] = { false, false, false };
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	report_json_strings(f, v, NULL, 3);
	report_json_strings(f, v, pick, 3);
	report_json_strings(f, v, none, 3);
	report_csv_strings(f, v, pick, 3);
	report_csv_strings(f, v, none, 3);
	fclose(f);
	assert_string_equal(buf, "[\"a@x\",\"b\\\"@y\",\"c\\\\xff@z\"]"
	                    "[\"b\\\"@y\",\"c\\\\xff@z\"][]"
	                    "\"b\"\"@y c\\xff@z\"\"\"");
	free(buf);
}

/* The command line of the report: quoted for a shell where needed,
 * a very long one cut. */
static void command_line(void **state)
{
	(void)state;
	char *argv[] = { "scan", "-c", "/etc/v.conf", "--mail-from", "<a@b>",
	                 "it's", "", "x y" };
	char *c = report_command_line("vigil", 8, argv);
	assert_string_equal(c, "vigil scan -c /etc/v.conf --mail-from '<a@b>' "
	                       "'it'\\''s' '' 'x y'");
	free(c);
	enum { N = 5000 };
	char **many = calloc(N, sizeof *many);
	for (int i = 0; i < N; i++)
		many[i] = "data/inmail.12345";
	c = report_command_line("vigil", N, many);
	assert_true(strlen(c) < 2200);
	assert_non_null(strstr(c, " more arguments)"));
	free(c);
	free(many);
	char now[32];
	report_utc_now(now, sizeof now);
	assert_int_equal(strlen(now), 20);
	assert_int_equal(now[19], 'Z');
}

/* A run stopped by a signal says so at the end of the summary's line. */
static void summary_partial(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	size_t osz = 0, esz = 0;
	FILE *o = open_memstream(&out, &osz), *e = open_memstream(&err, &esz);
	struct report *r = report_new(REPORT_JSONL, o, e, false, 0);
	struct report_entry en = { .source = "a", .action = "accept", .ms = 1 };
	report_add(r, &en);
	report_summary(r, 1.0, "interrupted by SIGINT after 1 message");
	report_free(r);
	fclose(o);
	fclose(e);
	assert_non_null(strstr(err, "1 message in 1.00 s (1.0 msg/s), 0 errors; "
	                            "accept 1; interrupted by SIGINT after 1 "
	                            "message\n"));
	free(out);
	free(err);
}

static char *run(enum report_format fmt, char **err_out, bool *failed)
{
	char *out = NULL, *err = NULL;
	size_t osz = 0, esz = 0;
	FILE *o = open_memstream(&out, &osz), *e = open_memstream(&err, &esz);
	struct report *r = report_new(fmt, o, e, false, 0);
	assert_non_null(r);
	const struct report_header added[] = { { "X-Spam-Status", "Yes,\n\tx" } };
	const char *removed[] = { "<b@example.net>" };
	const char *added_rcpts[] = { "<q@example.net>", "<c@example.net>" };
	const char *added_args[] = { NULL, "NOTIFY=NEVER ORCPT=rfc822;c" };
	const char *hits[] = { "GTUBE", "R_\"Q" };
	const double hit_scores[] = { 1000, NAN };
	struct report_entry e1 = {
		.source = "a.mbox", .index = 0, .offset = 0, .action = "reject",
		.flagged = true, .scored = true, .score = 21.25,
		.code = "550", .text = "5.7.1 no", .added = added, .added_n = 1,
		.rcpts_removed = removed, .rcpts_removed_n = 1,
		.rcpts_added = added_rcpts, .rcpts_added_args = added_args,
		.rcpts_added_n = 2, .mail_from_changed = "<bounce@example.net>",
		.mail_from_args = "RET=HDRS", .body_replaced = true,
		.message_id = "<m1@x>\xe9", .message_id_len = 7,
		.hits = hits, .hit_scores = hit_scores, .hits_n = 2,
		.ms = 1.5 };
	struct report_entry e2 = {
		.source = "a.mbox", .index = 1, .offset = 99,
		.error = "truncated", .ms = 0 };
	report_add(r, &e1);
	report_add(r, &e2);
	for (int i = 0; i < 98; i++) {
		struct report_entry e3 = { .source = "b", .action = "continue",
		                           .code = "", .ms = i + 1.0 };
		report_add(r, &e3);
	}
	report_summary(r, 2.0, NULL);
	*failed = report_failed(r);
	report_free(r);
	fclose(o);
	fclose(e);
	*err_out = err;
	return out;
}

static void jsonl(void **state)
{
	(void)state;
	char *err;
	bool failed;
	char *out = run(REPORT_JSONL, &err, &failed);
	assert_true(failed);
	const char *want1 =
	    "{\"source\":\"a.mbox\",\"index\":0,\"offset\":0,"
	    "\"message_id\":\"<m1@x>\\\\xe9\",\"action\":\"reject\","
	    "\"flagged\":true,\"score\":21.250,"
	    "\"hits\":[{\"name\":\"GTUBE\",\"score\":1000.000},"
	    "{\"name\":\"R_\\\"Q\",\"score\":null}],"
	    "\"reply\":{\"code\":\"550\",\"text\":\"5.7.1 no\"},"
	    "\"headers_added\":[{\"name\":\"X-Spam-Status\",\"value\":"
	    "\"Yes,\\n\\tx\"}],\"headers_changed\":[],\"quarantine\":null,"
	    "\"rcpts_removed\":[\"<b@example.net>\"],"
	    "\"rcpts_added\":[\"<q@example.net>\",\"<c@example.net>\"],"
	    "\"rcpts_added_args\":[null,\"NOTIFY=NEVER ORCPT=rfc822;c\"],"
	    "\"mail_from_changed\":\"<bounce@example.net>\","
	    "\"mail_from_args\":\"RET=HDRS\","
	    "\"body_replaced\":true,\"error\":null,"
	    "\"ms\":1.500}\n"
	    "{\"source\":\"a.mbox\",\"index\":1,\"offset\":99,"
	    "\"message_id\":null,\"action\":\"error\","
	    "\"flagged\":false,\"score\":null,\"hits\":[],\"reply\":null,\"headers_added\":[],\"headers_changed\":[],"
	    "\"quarantine\":null,\"rcpts_removed\":[],\"rcpts_added\":[],"
	    "\"rcpts_added_args\":[],"
	    "\"mail_from_changed\":null,\"mail_from_args\":null,"
	    "\"body_replaced\":false,"
	    "\"error\":\"truncated\","
	    "\"ms\":0.000}\n"
	    "{\"source\":\"b\",\"index\":0,\"offset\":0,\"message_id\":null,"
	    "\"action\":\"continue\","
	    "\"flagged\":false,\"score\":null,\"hits\":[],\"reply\":null,";
	assert_memory_equal(out, want1, strlen(want1));
	/* 99 latencies: 1.5, 1..98. */
	assert_non_null(strstr(err, "100 messages in 2.00 s (50.0 msg/s), 1 error; "
	                       "reject 1 continue 98\n"));
	/* nearest rank over a histogram: within 1.2 % */
	const char *lat = strstr(err, "latency per message: ");
	assert_non_null(lat);
	double p50, p95, p99;
	assert_int_equal(sscanf(lat, "latency per message: p50 %lf ms, p95 %lf "
	                        "ms, p99 %lf ms\n", &p50, &p95, &p99), 3);
	assert_true(fabs(p50 - 49) <= 49 * 0.012);
	assert_true(fabs(p95 - 94) <= 94 * 0.012);
	assert_true(fabs(p99 - 98) <= 98 * 0.012);
	free(out);
	free(err);
}

static void csv(void **state)
{
	(void)state;
	char *err;
	bool failed;
	char *out = run(REPORT_CSV, &err, &failed);
	const char *want =
	    "source,index,offset,action,flagged,score,reply,headers_added,"
	    "headers_changed,quarantine,rcpts_removed,rcpts_added,"
	    "rcpts_added_args,mail_from_changed,mail_from_args,body_replaced,"
	    "error,ms,message_id,hits\n"
	    "\"a.mbox\",0,0,\"reject\",1,21.250,\"550 5.7.1 no\","
	    "\"X-Spam-Status: Yes,\n\tx\",\"\",\"\",\"<b@example.net>\","
	    "\"<q@example.net> <c@example.net>\","
	    "\"\nNOTIFY=NEVER ORCPT=rfc822;c\",\"<bounce@example.net>\","
	    "\"RET=HDRS\",1,\"\",1.500,\"<m1@x>\\xe9\",\"GTUBE=1000.000 R_\"\"Q\"\n"
	    "\"a.mbox\",1,99,\"error\",0,,\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
	    "0,\"truncated\",0.000,,\"\"\n"
	    "\"b\",0,0,\"continue\",0,,\"\",";
	assert_memory_equal(out, want, strlen(want));
	free(out);
	free(err);
	/* quotes doubled, line breaks kept, another control as \xHH */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	report_csv_string(f, "a\"b,\r\nc\x01", 8);
	fclose(f);
	assert_string_equal(buf, "\"a\"\"b,\r\nc\\x01\"");
	free(buf);
}

static void text(void **state)
{
	(void)state;
	char *err;
	bool failed;
	char *out = run(REPORT_TEXT, &err, &failed);
	assert_non_null(strstr(out, "MESSAGE "));
	assert_non_null(strstr(out, "a.mbox#0"));
	assert_non_null(strstr(out, " reject" "           1.5  550 5.7.1 no\n"
	                       "    + X-Spam-Status: Yes,  x\n"
	                       "    - RCPT <b@example.net>\n"
	                       "    + RCPT <q@example.net>\n"
	                       "    + RCPT <c@example.net> NOTIFY=NEVER ORCPT=rfc822;c\n"
	                       "    ~ MAIL FROM <bounce@example.net> RET=HDRS\n"
	                       "    ~ body replaced\n"));
	assert_non_null(strstr(out, " error" "            0.0  offset 99: truncated\n"));
	free(out);
	free(err);
}

/* Text columns count characters, not bytes: a UTF-8 path lines up with
 * an ASCII one of as many characters; a byte that is not UTF-8 counts
 * one (it is printed as it is). */
static void text_width(void **state)
{
	(void)state;
	assert_int_equal(report_text_width(""), 0);
	assert_int_equal(report_text_width("plain"), 5);
	assert_int_equal(report_text_width("\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d"
	                                   "\xc3\xa9.eml"), 11);   /* ünïcødé.eml */
	assert_int_equal(report_text_width("\xe2\x82\xac\xf0\x9f\x98\x80"), 2);
	assert_int_equal(report_text_width("caf\xe9\xff"), 5);
	assert_int_equal(report_text_width("\xe2\x82x"), 3);   /* cut: 2 bytes */
	char *out = NULL;
	size_t size = 0;
	FILE *o = open_memstream(&out, &size);
	assert_non_null(o);
	struct report *r = report_new(REPORT_TEXT, o, stderr, false, 0);
	assert_non_null(r);
	const char *src[] = { "d/\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9.eml",
	                      "d/unicode.eml", "d/caf\xe9.eml" };
	for (size_t i = 0; i < 3; i++) {
		struct report_entry e = { .source = src[i], .action = "continue",
		                          .code = "", .ms = 1.0 };
		report_add(r, &e);
	}
	report_free(r);
	fclose(o);
	/* each row: the source, "#0", padding to 40 columns, the action */
	const char *row = strchr(out, '\n') + 1;
	for (size_t i = 0; i < 3; i++) {
		const char *act = strstr(row, " continue");
		assert_non_null(act);
		size_t bytes = (size_t)(act - row);
		size_t extra = strlen(src[i]) - report_text_width(src[i]);
		assert_int_equal(bytes - extra, 40);
		row = strchr(row, '\n') + 1;
	}
	free(out);
}

/* What report_text_escaped() (escaped) or report_text_put() wrote of s;
 * the caller frees. */
static char *text_of(const char *s, bool escaped)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	if (escaped)
		report_text_escaped(f, s, strlen(s));
	else
		report_text_put(f, s);
	fclose(f);
	return buf;
}

/* Terminal text: UTF-8 kept, controls, C1, bidi overrides, zero-width
 * characters and invalid bytes escaped byte by byte. */
static void terminal(void **state)
{
	(void)state;
	static const struct { const char *in, *want; } t[] = {
		{ "caf\xc3\xa9 ok", "caf\xc3\xa9 ok" },
		{ "a\x01\x1b[2J\x7f", "a\\x01\\x1b[2J\\x7f" },
		{ "\xc2\x9b" "1m", "\\xc2\\x9b" "1m" },              /* C1 CSI */
		{ "x\xe2\x80\xae" "y", "x\\xe2\\x80\\xae" "y" },      /* RLO */
		{ "\xe2\x80\x8b", "\\xe2\\x80\\x8b" },          /* ZWSP */
		{ "\xff\xc3(", "\\xff\\xc3(" },
		{ "back\\slash", "back\\\\slash" },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		char *buf = text_of(t[i].in, true);
		assert_string_equal(buf, t[i].want);
		free(buf);
	}
}

/* The text table: control and invisible format characters (Cf: bidi
 * overrides and isolates, zero-width characters, BOM, soft hyphen, tag
 * characters) as one '?' each, other UTF-8 and bytes that are not UTF-8
 * as they are. */
static void text_invisible(void **state)
{
	(void)state;
	static const struct { const char *in, *want; } t[] = {
		{ "caf\xc3\xa9 ok", "caf\xc3\xa9 ok" },
		{ "a\x01\x1b[2J\x7f", "a??[2J?" },
		{ "\xc2\x9b" "1m", "?1m" },                      /* C1 CSI */
		{ "x\xe2\x80\xae" "y.eml", "x?y.eml" },          /* RLO */
		{ "\xe2\x80\x8b\xe2\x81\xa6\xe2\x81\xa9", "???" }, /* ZWSP LRI PDI */
		{ "\xef\xbb\xbf" "a\xc2\xad" "b\xd8\x9c", "?a?b?" },  /* BOM SHY ALM */
		{ "\xf3\xa0\x80\x81", "?" },                     /* TAG */
		{ "\xff\xc3(", "\xff\xc3(" },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		char *buf = text_of(t[i].in, false);
		assert_string_equal(buf, t[i].want);
		assert_int_equal(report_text_width(t[i].in), report_text_width(buf));
		free(buf);
	}
	assert_true(report_invisible(0x202e) && report_invisible(0x2066) &&
	            report_invisible(0x200b) && report_invisible(0xfeff) &&
	            report_invisible(0x00ad) && report_invisible(0x061c) &&
	            report_invisible(0xe007f));
	assert_false(report_invisible(' ') || report_invisible(0xe9) ||
	             report_invisible(0x2030) || report_invisible(0xe0080) ||
	             report_invisible(0x1f600));
}

/* The latency histogram: clamped to the smallest and largest seen,
 * within 1.2 % elsewhere; nothing seen is 0; junk counts as 0 ms. */
static void latency_histogram(void **state)
{
	(void)state;
	struct report_lat l = { 0 };
	assert_true(report_lat_percentile(&l, 0.5) == 0);
	report_lat_add(&l, 7.25);
	assert_true(report_lat_percentile(&l, 0.5) == 7.25);
	assert_true(report_lat_percentile(&l, 0.99) == 7.25);
	struct report_lat m = { 0 };
	for (int i = 1; i <= 1000; i++)
		report_lat_add(&m, i * 0.01);        /* 0.01 .. 10 ms */
	assert_true(report_lat_percentile(&m, 1.0) == 10.0);
	assert_true(fabs(report_lat_percentile(&m, 0.001) - 0.01) <= 0.01 * 0.012);
	double p90 = report_lat_percentile(&m, 0.9);
	assert_true(fabs(p90 - 9.0) <= 9.0 * 0.012);
	report_lat_add(&m, NAN);
	report_lat_add(&m, -1);
	report_lat_add(&m, 1e12);
	assert_int_equal(m.n, 1003);
	assert_true(report_lat_percentile(&m, 0.0001) < 0.0011);   /* bin 0 */
	assert_true(report_lat_percentile(&m, 1.0) == 1e12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(latency_histogram),
		cmocka_unit_test(escaping),
		cmocka_unit_test(csv_escaping),
		cmocka_unit_test(string_lists),
		cmocka_unit_test(command_line),
		cmocka_unit_test(summary_partial),
		cmocka_unit_test(jsonl),
		cmocka_unit_test(csv),
		cmocka_unit_test(text),
		cmocka_unit_test(text_width),
		cmocka_unit_test(terminal),
		cmocka_unit_test(text_invisible),
	};
	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
