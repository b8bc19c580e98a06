/* spamhdr.c — see spamhdr.h */
#include "spamhdr.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RULE_NAME 200
#define MAX_RULES 4096      /* per message: a runaway field stops here */

enum { RANK_SCORE_FIELD, RANK_STATUS, RANK_RSPAMD, RANK_NONE };

void spamhdr_init(struct spamhdr *h)
{
	*h = (struct spamhdr){ .score = NAN, .score_rank = RANK_NONE };
}

void spamhdr_clear(struct spamhdr *h)
{
	for (size_t i = 0; i < h->nrules; i++)
		free(h->rules[i]);
	free(h->rules);
	free(h->rule_scores);
	spamhdr_init(h);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_blanks(const char *s, const char *end)
{
	while (s < end && is_blank(*s))
		s++;
	return s;
}

/* The case-insensitive word w at s, not followed by a letter or digit. */
static bool word_at(const char *s, const char *end, const char *w)
{
	size_t n = strlen(w);
	return (size_t)(end - s) >= n && strncasecmp(s, w, n) == 0 &&
	       (s + n == end || !isalnum((unsigned char)s[n]));
}

/* A decimal number taking all of s..end (a sign, digits, one '.'; no
 * exponent, no inf or nan). */
static bool number(const char *s, const char *end, double *v)
{
	char buf[32];
	size_t n = (size_t)(end - s);
	if (n == 0 || n >= sizeof buf)
		return false;
	size_t i = *s == '-' || *s == '+', digits = 0, dots = 0;
	for (; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (s[i] == '.' && dots++ == 0)
			continue;
		else
			return false;
	}
	if (digits == 0)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtod(buf, NULL);
	return isfinite(*v);
}

/* The number at the start of s..end up to a blank, ',', ';', ']', '/'
 * or '('; false when there is none. */
static bool leading_number(const char *s, const char *end, double *v)
{
	s = skip_blanks(s, end);
	const char *e = s;
	while (e < end && !is_blank(*e) && !strchr(",;]/(", *e))
		e++;
	return number(s, e, v);
}

static void set_score(struct spamhdr *h, double v, int rank)
{
	if (rank < h->score_rank) {
		h->score = v;
		h->score_rank = rank;
	}
}

static bool rule_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* A rule name s..end, with its score (NAN: none given), is kept when it
 * looks like one. 0 or -1. */
static int add_rule(struct spamhdr *h, const char *s, const char *end,
                    double score)
{
	size_t n = (size_t)(end - s);
	if (n == 0 || n > MAX_RULE_NAME || h->nrules == MAX_RULES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!rule_char(s[i]))
			return 0;
	double *sc = realloc(h->rule_scores, (h->nrules + 1) * sizeof *sc);
	if (sc == NULL)
		return -1;
	h->rule_scores = sc;
	char **r = realloc(h->rules, (h->nrules + 1) * sizeof *r);
	if (r == NULL)
		return -1;
	h->rules = r;
	if ((r[h->nrules] = strndup(s, n)) == NULL)
		return -1;
	sc[h->nrules++] = score;
	return 0;
}

/* ---- X-Spam-Status: Yes, score=S required=R tests=A,B autolearn=... ---- */

/* One token of the tests list ("A", or "A=1.2" with scores shown).
 * in_tests stays true while tokens are rules. 0 or -1. */
static int status_token(struct spamhdr *h, const char *t, const char *end,
                        bool *in_tests)
{
	const char *eq = memchr(t, '=', (size_t)(end - t));
	double v;
	if (*in_tests && eq == NULL)
		return strncasecmp(t, "none", 4) == 0 && end - t == 4 ? 0
		       : add_rule(h, t, end, NAN);
	if (*in_tests && number(eq + 1, end, &v))
		return add_rule(h, t, eq, v);
	*in_tests = false;
	if (eq == NULL)
		return 0;
	if ((word_at(t, end, "score") || word_at(t, end, "hits")) &&
	    number(eq + 1, end, &v))
		set_score(h, v, RANK_STATUS);
	if (word_at(t, end, "tests")) {
		*in_tests = true;
		return status_token(h, eq + 1, end, in_tests);
	}
	return 0;
}

static int status_field(struct spamhdr *h, const char *s, const char *end)
{
	s = skip_blanks(s, end);
	if (word_at(s, end, "yes"))
		h->flagged = true;
	bool in_tests = false;
	while (s < end) {
		while (s < end && (is_blank(*s) || *s == ','))
			s++;
		const char *t = s;
		while (s < end && !is_blank(*s) && *s != ',')
			s++;
		if (s > t && status_token(h, t, s, &in_tests) != 0)
			return -1;
	}
	return 0;
}

/* ---- X-Spamd-Result: default: True [S / R]; SYM(1.0)[opts]; ... ---- */

/* The end of the segment at s: the next ';' outside [...]. */
static const char *segment_end(const char *s, const char *end)
{
	int depth = 0;
	for (; s < end; s++) {
		if (*s == '[')
			depth++;
		else if (*s == ']' && depth > 0)
			depth--;
		else if (*s == ';' && depth == 0)
			break;
	}
	return s;
}

/* The score of a symbol, "1.20)" after its '(', or NAN. */
static double symbol_score(const char *s, const char *end)
{
	const char *close = memchr(s, ')', (size_t)(end - s));
	double v;
	return close != NULL && number(s, close, &v) ? v : NAN;
}

static int rspamd_field(struct spamhdr *h, const char *s, const char *end)
{
	const char *seg_end = segment_end(s, end);
	const char *colon = memchr(s, ':', (size_t)(seg_end - s));
	if (colon != NULL) {      /* "default: True [S / R]" */
		const char *w = skip_blanks(colon + 1, seg_end);
		if (word_at(w, seg_end, "true"))
			h->flagged = true;
		const char *br = memchr(w, '[', (size_t)(seg_end - w));
		double v;
		if (br != NULL && leading_number(br + 1, seg_end, &v))
			set_score(h, v, RANK_RSPAMD);
	}
	while (seg_end < end) {
		s = skip_blanks(seg_end + 1, end);
		seg_end = segment_end(s, end);
		const char *n = s;
		while (n < seg_end && rule_char(*n) && *n != '.')
			n++;
		if (n < seg_end && *n == '(' &&
		    add_rule(h, s, n, symbol_score(n + 1, seg_end)) != 0)
			return -1;
	}
	return 0;
}

int spamhdr_add(struct spamhdr *h, const char *name, const char *value)
{
	if (name == NULL || value == NULL)
		return 0;
	const char *end = value + strlen(value);
	double v;
	if (strcasecmp(name, "X-Spam-Flag") == 0 || strcasecmp(name, "X-Spam") == 0) {
		if (word_at(skip_blanks(value, end), end, "yes"))
			h->flagged = true;
	} else if (strcasecmp(name, "X-Spam-Score") == 0) {
		if (leading_number(value, end, &v))
			set_score(h, v, RANK_SCORE_FIELD);
	} else if (strcasecmp(name, "X-Spam-Status") == 0) {
		return status_field(h, value, end);
	} else if (strcasecmp(name, "X-Spamd-Result") == 0) {
		return rspamd_field(h, value, end);
	} else if (strcasecmp(name, "X-Rspamd-Action") == 0) {
		/* rspamd's actions that call it spam (not "no action",
		 * "greylist", "soft reject") */
		const char *a = skip_blanks(value, end);
		if (strncasecmp(a, "add header", 10) == 0 ||
		    strncasecmp(a, "rewrite subject", 15) == 0 ||
		    word_at(a, end, "reject"))
			h->flagged = true;
	}
	return 0;
}
