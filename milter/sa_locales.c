/*
 * sa_locales.c — SpamAssassin's ok_locales: which charsets a site's
 * locales accept (Locales.pm's is_charset_ok_for_locales(), Util.pm's
 * get_my_locales()), for the *_charset_faraway evals (saeval_int.h).
 */
#include "saeval_int.h"
#include "ruleset.h"

#include <stdlib.h>
#include <string.h>

/* Locales.pm's charsets per locale (its "zh.big5" and "zh.gb2312" are
 * left out: a locale is cut to its first two letters before the look-up,
 * so they are never found). The names are normalised: upper case,
 * letters and digits (SHIFT_JIS is as Locales.pm writes it, never met). */
static const struct {
	const char *locale, *charsets;
} table[] = {
	{ "ja", "EUCJP JISX020119760 JISX020819830 JISX020819900 "
	        "JISX020819970 JISX021219900 JISX021320001 JISX021320002 "
	        "SHIFT_JIS SHIFTJIS ISO2022JP SJIS JIS7 JISX0201 JISX0208 "
	        "JISX0212" },
	{ "ko", "EUCKR KSC56011987" },
	{ "ru", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866" },
	{ "ka", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866" },
	{ "tg", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866" },
	{ "be", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866" },
	{ "uk", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866" },
	{ "bg", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS PT154 CP866" },
	{ "th", "TIS620" },
	{ "zh", "GB1988 GB2312 GB231219800 GB18030 GBK BIG5HKSCS BIG5 EUCTW "
	        "ISO2022CN" },
};
#define NTABLE (sizeof table / sizeof table[0])

struct sa_locales {
	bool found[NTABLE];   /* the table's locales among the site's */
};

/* One locale word: a name starting with two lower-case letters is cut
 * to them and its table entry marked; others ("C", which reads as "en",
 * "C.UTF-8") are in no entry. */
static void add_locale(struct sa_locales *l, const char *w, size_t n)
{
	if (n < 2 || w[0] < 'a' || w[0] > 'z' || w[1] < 'a' || w[1] > 'z')
		return;
	for (size_t i = 0; i < NTABLE; i++)
		if (memcmp(table[i].locale, w, 2) == 0)
			l->found[i] = true;
}

/* The words of s (split on blanks); false when "all" is one. */
static bool add_words(struct sa_locales *l, const char *s)
{
	while (*s != '\0') {
		size_t b = strspn(s, " \t\n\r\f\v");
		s += b;
		size_t n = strcspn(s, " \t\n\r\f\v");
		if (n == 3 && memcmp(s, "all", 3) == 0)
			return false;
		if (n > 0)
			add_locale(l, s, n);
		s += n;
	}
	return true;
}

/* Perl's $a ||= $b over the environment: the first set value that is
 * neither "" nor "0". */
static const char *env_locale(void)
{
	static const char *const names[] = { "LC_ALL", "LANGUAGE",
	                                     "LC_MESSAGES", "LANG" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const char *v = getenv(names[i]);
		if (v != NULL && v[0] != '\0' && strcmp(v, "0") != 0)
			return v;
	}
	return NULL;
}

int saeval_locales_build(const struct ruleset *rs, struct sa_locales **out)
{
	const char *ok = "all";   /* SpamAssassin's default */
	for (size_t i = 0; i < ruleset_setting_count(rs); i++) {
		const char *key, *value;
		/* the last line with a value wins; SpamAssassin refuses one
		 * without ("missing value", audit24 L3) */
		if (ruleset_setting_at(rs, i, &key, &value) &&
		    strcmp(key, "ok_locales") == 0 && value[0] != '\0')
			ok = value;
	}
	*out = NULL;
	struct sa_locales *l = calloc(1, sizeof *l);
	if (l == NULL)
		return -1;
	const char *env = env_locale();
	/* the environment's locale is one more word, taken whole */
	if (!add_words(l, ok) || (env != NULL && strcmp(env, "all") == 0)) {
		free(l);
		return 0;
	}
	if (env != NULL)
		add_locale(l, env, strlen(env));
	*out = l;
	return 0;
}

void saeval_locales_free(struct sa_locales *l)
{
	free(l);
}

static bool starts(const char *s, const char *lit)
{
	return strncmp(s, lit, strlen(lit)) == 0;
}

/* Whether word w is one of list's blank-separated words. */
static bool in_words(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)) != NULL; p++)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

bool saeval_charset_ok(const struct sa_locales *l, const char *cs, size_t n)
{
	if (l == NULL)
		return true;
	char k[64];
	size_t kn = 0;
	for (size_t i = 0; i < n && kn + 1 < sizeof k; i++) {
		char c = cs[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			k[kn++] = c;
	}
	k[kn] = '\0';
	char *s = starts(k, "3D") ? k + 2 : k;   /* broken by quoted-printable */
	static const char *const always[] = { "USASCII", "ASCII", "IBM852",
	                                      "XUNKNOWN", "ISO" };
	static const char *const prefixes[] = { "ISO8859", "ISO10646", "UTF",
	                                        "UCS", "CP125", "WINDOWS",
	                                        "UNICODE11UTF7",
	                                        "UNICODE11UTF8" };
	for (size_t i = 0; i < sizeof always / sizeof *always; i++)
		if (strcmp(s, always[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
		if (starts(s, prefixes[i]))
			return true;
	for (size_t i = 0; i < NTABLE; i++)
		if (l->found[i] && s[0] != '\0' && in_words(table[i].charsets, s))
			return true;
	return false;
}
