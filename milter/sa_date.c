/*
 * sa_date.c — SpamAssassin eval (saeval.h): dates. SpamAssassin's
 * parse_rfc822_date (Util.pm) and the Date and Received times of
 * HeaderEval's date checks (check_for_shifted_date).
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"

/* ---- dates: SpamAssassin's parse_rfc822_date ---- */

static const struct {
	const char *name;
	int off;   /* minutes east of UTC */
} tz_names[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "NDT", -150 }, { "AST", -240 },
	{ "ADT", -180 }, { "NST", -210 }, { "EST", -300 }, { "EDT", -240 },
	{ "CST", -360 }, { "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
	{ "PST", -480 }, { "PDT", -420 }, { "HST", -600 }, { "AKST", -540 },
	{ "AKDT", -480 }, { "HADT", -540 }, { "HAST", -600 }, { "GMT", 0 },
	{ "BST", 60 }, { "IST", 60 }, { "WET", 0 }, { "WEST", 60 },
	{ "CET", 60 }, { "CEST", 120 }, { "EET", 120 }, { "EEST", 180 },
	{ "MSK", 180 }, { "MSD", 240 }, { "MET", 60 }, { "MEZ", 60 },
	{ "MEST", 120 }, { "MESZ", 120 }, { "BRST", -120 }, { "BRT", -180 },
	{ "AEST", 600 }, { "AEDT", 660 }, { "ACST", 570 }, { "ACDT", 630 },
	{ "AWST", 480 }, { "NZST", 720 }, { "NZDT", 780 }, { "JST", 540 },
	{ "KST", 540 }, { "HKT", 480 }, { "SGT", 480 }, { "PHT", 480 },
	{ "IDT", 180 },
};

static int month_of(const char *s)
{
	static const char *const mon[] = { "jan", "feb", "mar", "apr", "may",
		"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, mon[i], 3) == 0)
			return i + 1;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static long num(const char *s, size_t a, size_t b)
{
	long v = 0;
	for (size_t i = a; i < b && i - a < 9; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Replace s[a..b) by one space (SpamAssassin's s/.../ /). */
static void cut(char *s, size_t *len, size_t a, size_t b)
{
	s[a] = ' ';
	memmove(s + a + 1, s + b, *len - b + 1);
	*len -= b - a - 1;
}

bool saeval_parse_date(const char *in, size_t inlen, int64_t *out)
{
	/* " $date ", ", *" -> " ", whitespace runs -> " " */
	char small[256];   /* dates are short: no malloc for them */
	char *s = inlen + 3 <= sizeof small ? small : malloc(inlen + 3);
	if (s == NULL)
		return false;
	size_t n = 0;
	s[n++] = ' ';
	for (size_t i = 0; i < inlen; i++) {
		char c = in[i];
		if (c == ',') {
			while (i + 1 < inlen && in[i + 1] == ' ')
				i++;
			c = ' ';
		}
		if (isspace((unsigned char)c))
			c = ' ';
		if (c == ' ' && s[n - 1] == ' ')
			continue;
		s[n++] = c;
	}
	if (s[n - 1] != ' ')
		s[n++] = ' ';
	s[n] = '\0';
	size_t ov[10];
	long dd, yyyy;
	int mon;
	size_t ylen;
	if (saeval_re_find(RE_D_DMY4, s, n, ov, 8)) {
		dd = num(s, ov[2], ov[3]);
		mon = month_of(s + ov[4]);
		yyyy = num(s, ov[6], ov[7]);
		ylen = 4;
	} else if (saeval_re_find(RE_D_MDTY, s, n, ov, 8)) {
		mon = month_of(s + ov[2]);
		dd = num(s, ov[4], ov[5]);
		yyyy = num(s, ov[6], ov[7]);
		ylen = 4;
	} else if (saeval_re_find(RE_D_DMY2, s, n, ov, 8)) {
		dd = num(s, ov[2], ov[3]);
		mon = month_of(s + ov[4]);
		yyyy = num(s, ov[6], ov[7]);
		ylen = ov[7] - ov[6];
	} else {
		if (s != small)
			free(s);
		return false;
	}
	if (ov[3] - ov[2] > 9)  /* huge day numbers: Perl would still wrap
	                           to the next month; keep it bounded */
		dd = 99;
	cut(s, &n, ov[0], ov[1]);
	if (ylen == 2 && yyyy < 50)
		yyyy += 2000;
	else if (ylen != 4)
		yyyy += 1900;
	long hh = 0, mi = 0, ss = 0;
	if (saeval_re_find(RE_D_TIME, s, n, ov, 10)) {
		hh = num(s, ov[2], ov[3]);
		mi = num(s, ov[4], ov[5]);
		if (ov[8] != PCRE2_UNSET)
			ss = num(s, ov[8], ov[9]);
		cut(s, &n, ov[0], ov[1]);
	}
	int tzmin = 0;
	if (saeval_re_find(RE_D_TZNUM, s, n, ov, 4)) {
		long v = num(s, ov[2] + 1, ov[3]);
		tzmin = (int)(v / 100 * 60 + v % 100);
		if (s[ov[2]] == '-')
			tzmin = -tzmin;
	} else if (saeval_re_find(RE_D_TZNAME, s, n, ov, 4)) {
		size_t l = ov[3] - ov[2];
		for (size_t i = 0; i < sizeof tz_names / sizeof tz_names[0]; i++)
			if (strlen(tz_names[i].name) == l &&
			    memcmp(tz_names[i].name, s + ov[2], l) == 0)
				tzmin = tz_names[i].off;
	}
	if (s != small)
		free(s);
	if (ss > 59)
		ss = 59;
	if (mi > 59)
		mi = 59;
	if (hh > 23)
		hh = 23;
	int maxdd = 31;
	if (mon == 4 || mon == 6 || mon == 9 || mon == 11)
		maxdd = 30;
	else if (mon == 2)
		maxdd = (yyyy % 4 == 0 && (yyyy % 100 != 0 || yyyy % 400 == 0)) ?
		        29 : 28;
	if (dd > maxdd) {
		dd = 1;
		if (++mon > 12) {
			mon = 1;
			yyyy++;
		}
	}
	if (yyyy > 2037)
		yyyy = 2037;
	else if (yyyy < 1970)
		yyyy = 1970;
	if (dd < 1)   /* Time::Local refuses day 0 */
		return false;
	int64_t t = days_civil(yyyy, mon, dd) * 86400 + hh * 3600 + mi * 60 +
	            ss;
	int64_t off = (int64_t)(tzmin < 0 ? -tzmin : tzmin) * 60;
	if (tzmin <= 0)
		t += off;
	else
		t = t < off ? 0 : t - off;
	*out = t;
	return true;
}

/* ---- Date and Received times (HeaderEval's date checks) ---- */

/* The Date header's time: Resent-Date first, then Date; first
 * instance that parses. */
static bool date_header_time(const struct saeval_ctx *x, int64_t *t)
{
	static const char *const names[] = { "Resent-Date", "Date" };
	for (size_t k = 0; k < 2; k++) {
		for (size_t pos = 0;;) {
			const struct msg_header *h =
				saeval_hdr_next(x, names[k], &pos);
			if (h == NULL)
				break;
			if (h->decoded.len && saeval_parse_date(h->decoded.ptr,
			                                        h->decoded.len, t))
				return true;
		}
	}
	return false;
}

/* Received header h as get('Received') gives it (unfolded: a line
 * break and the blanks after it are one space, so that a date folded
 * before its zone still reads), into b. Whether regex id matches it. */
static bool rcvd_find(const struct msg_header *h, struct strbuf *b,
                      enum re_id id, size_t *ov, size_t nov)
{
	b->len = 0;
	msg_header_sa_value(b, h, false, false);
	return !b->oom && saeval_re_find(id, b->p, b->len, ov, nov);
}

/* Times of the Received headers (newest first), leaving out a leading
 * local hop and a fetchmail hop as SpamAssassin does. Returns how many
 * (at most max). */
static size_t received_times(const struct saeval_ctx *x, int64_t *times, size_t max)
{
	size_t first = 0, pos = 0;
	struct strbuf b = { 0 };
	const struct msg_header *h;
	const struct msg_header *h0 = saeval_hdr_next(x, "Received", &pos);
	const struct msg_header *h1 = h0 ? saeval_hdr_next(x, "Received", &pos)
	                                 : NULL;
	bool local0 = h0 != NULL && rcvd_find(h0, &b, RE_RCVD_LOCAL, NULL, 0);
	const struct msg_header *next = local0 ? h1 : h0;
	if (next != NULL && rcvd_find(next, &b, RE_RCVD_FETCHMAIL, NULL, 0))
		first = local0 ? 2 : 1;
	size_t n = 0;
	pos = 0;
	for (size_t i = 0; i < first; i++)
		(void)saeval_hdr_next(x, "Received", &pos);
	while (n < max && (h = saeval_hdr_next(x, "Received", &pos)) != NULL) {
		size_t ov[4];
		int64_t t;
		if (rcvd_find(h, &b, RE_RCVD_DATE, ov, 4) &&
		    saeval_parse_date(b.p + ov[2], ov[3] - ov[2], &t))
			times[n++] = t;
	}
	free(b.p);
	return n;
}

/* Date header minus the closest Received time, in seconds (0 when
 * either is missing). */
static double date_diff(const struct saeval_ctx *x)
{
	int64_t dt, times[64];
	if (!date_header_time(x, &dt))
		return 0;
	size_t n = received_times(x, times, 64);
	if (n == 0)
		return 0;
	if (n > 1 && dt - times[n - 1] == 0)
		n--;
	int64_t best = dt - times[0];
	for (size_t i = 1; i < n; i++) {
		int64_t d = dt - times[i];
		if (llabs(d) < llabs(best))
			best = d;
	}
	return (double)best;
}

bool saeval_ev_shifted_date(const struct saeval_call *c,
                            const struct saeval_ctx *x)
{
	double d = saeval_cached_fact(x, FACT_DATE_DIFF, date_diff);
	return (c->nargs < 1 || c->undef[0] || d >= 3600 * c->num[0]) &&
	       (c->nargs < 2 || c->undef[1] || d < 3600 * c->num[1]);
}
