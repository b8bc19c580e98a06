/* uri.c — see uri.h. */
#include "uri.h"

#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cte.h"

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ---- scanning plain text ---- */

/* SpamAssassin's blanks in text: Perl's \s on bytes (tab, line feed,
 * vertical tab, form feed, carriage return, space), ESC and the byte
 * 0xa0 (its no-break space, even as the second byte of a UTF-8
 * character: "\xc3\xa0" ends a URL after the 0xc3). Other control
 * bytes are part of a URL ("http://x.com/a\x18b" is listed so). */
static bool text_blank(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x1b || c == 0xa0;
}

/* Bytes that may appear inside a URL in running text: all but
 * SpamAssassin's end delimiters (tbirdenddelim: text_blank(),
 * ><"`}]{[|; '\\', '^' and '\'' do not end a URL). Other non-ASCII
 * bytes do not either (IRIs). */
static bool url_char(unsigned char c)
{
	return !text_blank(c) && (c == '\0' || strchr("<>\"`{}|", c) == NULL);
}

/* Does a no-break space start at s[i]? SpamAssassin's body text has a
 * space for one in UTF-8 ("\xc2\xa0"), a lone byte 0xa0 is its own. */
static bool nbsp_at(const char *s, size_t len, size_t i)
{
	return (unsigned char)s[i] == 0xc2 && i + 1 < len &&
	       (unsigned char)s[i + 1] == 0xa0;
}

/* End of the URL starting at s as SpamAssassin ends one in text: at a
 * disallowed byte (brackets: '[' and ']' too, its end delimiters); at
 * the first ')' when no '(' comes before it (as Thunderbird does); then
 * without the trailing punctuation Thunderbird ignores
 * (-~!@#^&*()_+=:;'?,.). */
static size_t url_extent(const char *s, size_t len, bool brackets)
{
	size_t n = 0;
	while (n < len && url_char((unsigned char)s[n]) &&
	       !nbsp_at(s, len, n) &&
	       (!brackets || (s[n] != '[' && s[n] != ']')))
		n++;
	const char *close = memchr(s, ')', n);
	if (close != NULL && memchr(s, '(', (size_t)(close - s)) == NULL)
		n = (size_t)(close - s);
	while (n > 0 && strchr("-~!@#^&*()_+=:;'?,.", s[n - 1]) != NULL)
		n--;
	return n;
}

static bool scheme_char(unsigned char c)
{
	return is_alpha(c) || c == '*' || c == '+' || c == '-' || c == '.';
}

/* "://", ";//", ":\\", ":/" after a scheme. */
static size_t sep_len(const char *p, size_t left)
{
	if (left >= 3 && (p[0] == ':' || p[0] == ';') &&
	    ((p[1] == '/' && p[2] == '/') || (p[1] == '\\' && p[2] == '\\')))
		return 3;
	return 0;
}

/* A byte of an address's domain: ASCII only (email_delim()). */
static bool domain_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/* A byte that ends SpamAssassin's address match (its
 * tbirdenddelimemail): blanks, ><"`}]{[|,(' and ESC, and every
 * non-ASCII byte (its text is UTF-8 bytes, also of a part in another
 * charset: "u@sina.com\xe6\x88\x91" is "u@sina.com"). */
static bool email_delim(unsigned char c)
{
	return c <= ' ' || c == 0x7f || c >= 0x80 ||
	       strchr("><\"`}]{[|,('", c) != NULL;
}

/* Is c in SpamAssassin's address local part: not '@' nor a delimiter
 * (email_delim()) nor 8-bit (the text it matches is UTF-8 bytes there:
 * "\xe4\xb8\xadw@x.com" is "w@x.com")? */
static bool local_byte(unsigned char c)
{
	return c != '@' && c < 0x80 && !email_delim(c);
}

static bool word_byte(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

/* May SpamAssassin's address match start at s[b]: after one of its
 * start delimiters (blanks, ><"'`,{[(| ESC, a byte 0xa0) or at a word
 * boundary (\b, ASCII words)? */
static bool email_may_start(const char *s, size_t b)
{
	if (b == 0)
		return word_byte((unsigned char)s[0]);
	unsigned char p = (unsigned char)s[b - 1];
	if (p <= ' ' || p == 0xa0 || strchr("><\"'`,{[(|", p) != NULL)
		return true;
	return word_byte(p) != word_byte((unsigned char)s[b]);
}

/* The start of the local part of an address whose '@' is s[at], as
 * SpamAssassin's text match takes it: the run of bytes before the '@'
 * that no delimiter ends (local_byte(): "To:x@example.com" is one), 251
 * at most, starting where its match may start (email_may_start()) and
 * not before from; at when there is none (a local part with a ')' is
 * cut there, so none). */
static size_t local_start(const char *s, size_t at, size_t from)
{
	size_t b = at;
	while (b > from && at - b < 251 && local_byte((unsigned char)s[b - 1]))
		b--;
	while (b < at && !email_may_start(s, b))
		b++;
	if (b == at || memchr(s + b, ')', at - b) != NULL)
		return at;
	return b;
}

/* An e-mail address around the '@' at s[at], as SpamAssassin's text
 * match takes one: its local part (local_start()), the domain up to the
 * first byte not of a host name, with a dot. [*start, *end). */
static bool email_at(const char *s, size_t len, size_t at, size_t from,
                     size_t *start, size_t *end)
{
	size_t b = local_start(s, at, from);
	if (b == at)
		return false;
	size_t e = at + 1;
	while (e < len && domain_char((unsigned char)s[e]))
		e++;
	while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--;
	if (e == at + 1)
		return false;
	const char *dot = memchr(s + at + 1, '.', e - at - 1);
	if (dot == NULL || dot == s + at + 1)
		return false;
	*start = b;
	*end = e;
	return true;
}

/* The scheme of the address at s[*b] (its '@' at at) as SpamAssassin
 * lists it: a "mailto:" written there, its case kept ("MAILTO:x@y"),
 * else "mailto:", after "mail:", "email:", "e-mail:", "skype:" or
 * colons before the address are dropped (its "strip common
 * misparses"); *b moved past what is dropped. */
static const char *email_scheme(const char *s, size_t *b, size_t at)
{
	static const char *const junk[] = { "skype", "e-mail", "-mail",
		"email", "mail", "" };
	const char *x = s + *b;
	size_t n = at - *b;
	if (n > 7 && strncasecmp(x, "mailto:", 7) == 0) {
		*b += 7;
		return x;
	}
	for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++) {
		size_t l = strlen(junk[j]), k = l;
		if (n <= l || strncasecmp(x, junk[j], l) != 0)
			continue;
		while (k < n && x[k] == ':')
			k++;
		if (k > l && k < n) {
			*b += k;
			break;
		}
	}
	return "mailto:";
}

/* SpamAssassin's address match goes on after the address to the next
 * delimiter ("a@b.org?subject=x" is one, as is "a@b.org/x", which then
 * names no domain and is dropped: uri_sa_domain()), 251 bytes after the
 * '@' at most, cut at a ')' and less trailing punctuation. The new end;
 * e when the match would fail. */
static size_t email_tail(const char *s, size_t len, size_t at, size_t e)
{
	size_t k = e;
	while (k < len && !email_delim((unsigned char)s[k]) && s[k] != ')')
		k++;
	if (k - at - 1 > 251)
		return e;
	while (k > e && strchr("-~!@#^&*()_+=:;'?,.", s[k - 1]) != NULL)
		k--;
	return k;
}

/* SpamAssassin's text match takes LOCAL@REST with a '/' in LOCAL as a
 * link, not an address ("V/ET@6SQC" is "http://V/ET@6SQC", no dot
 * needed; not "V/@x", no byte between): REST up to a delimiter of its address match (251 bytes at
 * most), cut at a ')' with no '(' before it, trailing punctuation off.
 * [*start, *end) of LOCAL@REST; false when the '@' at s[at] makes none. */
static bool slash_link_at(const char *s, size_t len, size_t at, size_t from,
                          size_t *start, size_t *end)
{
	size_t b = local_start(s, at, from);
	if (b + 1 >= at || memchr(s + b, '/', at - b - 1) == NULL)
		return false;   /* its test is "/.+@": a byte between */
	size_t k = at + 1;
	while (k < len && k - at <= 252 && !email_delim((unsigned char)s[k]))
		k++;
	if (k - at - 1 > 251)
		return false;
	const char *close = memchr(s + b, ')', k - b);
	if (close != NULL && memchr(s + b, '(', (size_t)(close - s) - b) == NULL)
		k = (size_t)(close - s);
	while (k > b && strchr("-~!@#^&*()_+=:;'?,.", s[k - 1]) != NULL)
		k--;
	if (k <= at + 1)
		return false;   /* the '@' went too: no address */
	*start = b;
	*end = k;
	return true;
}

/* Does the address match s[0..n) start with "cid:" or "mid:" (any
 * case)? SpamAssassin drops such a match (an Outlook or Thunderbird
 * "[cid:image001.png@01D4986E.E3459640]" is no address), link or
 * address, and scans on after it. */
static bool cid_or_mid(const char *s, size_t n)
{
	return n > 4 && (strncasecmp(s, "cid:", 4) == 0 ||
	                 strncasecmp(s, "mid:", 4) == 0);
}

/* Where a scan goes on after an '@' at s[at] that makes no address:
 * SpamAssassin's address match still takes the text around it
 * ("1983@http://example.org/", whose "host" names no domain) when there
 * is some on both sides, so a URL in it is not found either. */
static size_t no_address(const char *s, size_t len, size_t at, size_t done)
{
	if (at == 0 || at < done || email_delim((unsigned char)s[at - 1]) ||
	    s[at - 1] == '@')
		return done;
	size_t k = at + 1;
	while (k < len && !email_delim((unsigned char)s[k]))
		k++;
	return k > at + 1 && k - at - 1 <= 251 ? k : done;
}

/* SpamAssassin's text match takes "mailto:" and what follows it up to
 * an address delimiter as an address even with no '@' in it, then drops
 * it, so nothing inside is found ("mailto:www.example.com" lists no
 * URI). The end of such a run whose ':' is s[i]; i when there is none
 * (no "mailto" word before, or an '@' in it: an address). */
static size_t mailto_no_address(const char *s, size_t len, size_t i)
{
	if (i < 6 || strncasecmp(s + i - 6, "mailto", 6) != 0 ||
	    (i > 6 && word_byte((unsigned char)s[i - 7])))
		return i;
	size_t k = i + 1;
	while (k < len && k - i <= 2048 && !email_delim((unsigned char)s[k]) &&
	       s[k] != '@')
		k++;
	if (k == i + 1 || k - i > 2048 || (k < len && s[k] == '@'))
		return i;
	return k;
}

/* The '@' at s[at]: report the link or address SpamAssassin's
 * address match makes of the text around it (none when that match
 * starts with "cid:" or "mid:"). Returns where the scan goes on. */
static size_t scan_at(const char *s, size_t len, size_t at, size_t done,
                      uri_found_fn fn, void *ctx)
{
	size_t b, e;
	char buf[600];
	int k;
	if (slash_link_at(s, len, at, done, &b, &e)) {
		k = snprintf(buf, sizeof buf, "http://%.*s", (int)(e - b), s + b);
		if (!cid_or_mid(s + b, e - b) && k > 0 && (size_t)k < sizeof buf)
			fn(ctx, buf, (size_t)k, URI_TEXT_SCHEMELESS);
		return e;
	}
	if (!email_at(s, len, at, done, &b, &e))
		return no_address(s, len, at, done);
	e = email_tail(s, len, at, e);
	if (cid_or_mid(s + b, e - b))
		return e;
	size_t b0 = b;   /* "mailto:" written there? */
	const char *sch = email_scheme(s, &b, at);
	k = snprintf(buf, sizeof buf, "%.7s%.*s", sch, (int)(e - b), s + b);
	if (k > 0 && (size_t)k < sizeof buf)
		fn(ctx, buf, (size_t)k, sch == s + b0 ?
		   URI_TEXT_LINK : URI_TEXT_SCHEMELESS);
	return e;
}

/* Bytes at which a URI may be recognised: ':' and ';' (scheme
 * separators), '@' (addresses), '.' (the dot of "www." / "ftp."). */
static const unsigned char trigger[256] = {
	[':'] = 1, [';'] = 1, ['@'] = 1, ['.'] = 1,
};

/* The length of the "www.", "www1."-"www99." or "ftp." (any case)
 * starting s[0..n), the dot included: SpamAssassin's text parser takes
 * these as known-scheme starts ((www\d{0,2}|ftp)\.); 0 when s starts
 * with none. */
static size_t www_prefix(const char *s, size_t n)
{
	if (n >= 4 && strncasecmp(s, "ftp.", 4) == 0)
		return 4;
	if (n < 4 || strncasecmp(s, "www", 3) != 0)
		return 0;
	size_t k = 3;
	while (k < n && k < 5 && is_digit((unsigned char)s[k]))
		k++;
	return k < n && s[k] == '.' ? k + 1 : 0;
}

/* Where a www_prefix() ending in the '.' at s[i] starts, not before lo;
 * SIZE_MAX when none does. */
static size_t www_prefix_at(const char *s, size_t i, size_t lo)
{
	for (size_t l = 4; l <= 6; l++)
		if (i + 1 >= lo + l && www_prefix(s + i + 1 - l, l) == l)
			return i + 1 - l;
	return SIZE_MAX;
}

/* ---- bare host names (SpamAssassin's "schemeless" URIs) ---- */

/* Top-level domains: the IANA root zone as SpamAssassin 4 lists it
 * (util_rb_tld in its 20_aux_tlds.cf), lower-case, sorted, ASCII (IDN
 * TLDs in their xn-- form). A bare host name in text is a URI only when
 * its last label is one of these. */
static const char *const tlds[] = {
	"aaa", "aarp", "abb", "abbott", "abbvie", "abc", "able", "abogado",
	"abudhabi", "ac", "academy", "accenture", "accountant", "accountants",
	"aco", "actor", "ad", "ads", "adult", "ae", "aeg", "aero", "aetna", "af",
	"afl", "africa", "ag", "agakhan", "agency", "ai", "aig", "airbus",
	"airforce", "airtel", "akdn", "al", "alibaba", "alipay", "allfinanz",
	"allstate", "ally", "alsace", "alstom", "am", "amazon", "americanexpress",
	"americanfamily", "amex", "amfam", "amica", "amsterdam", "analytics",
	"android", "anquan", "anz", "ao", "aol", "apartments", "app", "apple", "aq",
	"aquarelle", "ar", "arab", "aramco", "archi", "army", "arpa", "art", "arte",
	"as", "asda", "asia", "associates", "at", "athleta", "attorney", "au",
	"auction", "audi", "audible", "audio", "auspost", "author", "auto", "autos",
	"avianca", "aw", "aws", "ax", "axa", "az", "azure", "ba", "baby", "baidu",
	"banamex", "bananarepublic", "band", "bank", "bar", "barcelona",
	"barclaycard", "barclays", "barefoot", "bargains", "baseball", "basketball",
	"bauhaus", "bayern", "bb", "bbc", "bbt", "bbva", "bcg", "bcn", "bd", "be",
	"beats", "beauty", "beer", "bentley", "berlin", "best", "bestbuy", "bet",
	"bf", "bg", "bh", "bharti", "bi", "bible", "bid", "bike", "bing", "bingo",
	"bio", "biz", "bj", "black", "blackfriday", "blockbuster", "blog",
	"bloomberg", "blue", "bm", "bms", "bmw", "bn", "bnpparibas", "bo", "boats",
	"boehringer", "bofa", "bom", "bond", "boo", "book", "booking", "bosch",
	"bostik", "boston", "bot", "boutique", "box", "br", "bradesco",
	"bridgestone", "broadway", "broker", "brother", "brussels", "bs", "bt",
	"build", "builders", "business", "buy", "buzz", "bv", "bw", "by", "bz",
	"bzh", "ca", "cab", "cafe", "cal", "call", "calvinklein", "cam", "camera",
	"camp", "canon", "capetown", "capital", "capitalone", "car", "caravan",
	"cards", "care", "career", "careers", "cars", "casa", "case", "cash",
	"casino", "cat", "catering", "catholic", "cba", "cbn", "cbre", "cc", "cd",
	"center", "ceo", "cern", "cf", "cfa", "cfd", "cg", "ch", "chanel",
	"channel", "charity", "chase", "chat", "cheap", "chintai", "christmas",
	"chrome", "church", "ci", "cipriani", "circle", "cisco", "citadel", "citi",
	"citic", "city", "ck", "cl", "claims", "cleaning", "click", "clinic",
	"clinique", "clothing", "cloud", "club", "clubmed", "cm", "cn", "co",
	"coach", "codes", "coffee", "college", "cologne", "com", "comcast",
	"commbank", "community", "company", "compare", "computer", "comsec",
	"condos", "construction", "consulting", "contact", "contractors", "cooking",
	"cool", "coop", "corsica", "country", "coupon", "coupons", "courses", "cpa",
	"cr", "credit", "creditcard", "creditunion", "cricket", "crown", "crs",
	"cruise", "cruises", "cu", "cuisinella", "cv", "cw", "cx", "cy", "cymru",
	"cyou", "cz", "dabur", "dad", "dance", "data", "date", "dating", "datsun",
	"day", "dclk", "dds", "de", "deal", "dealer", "deals", "degree", "delivery",
	"dell", "deloitte", "delta", "democrat", "dental", "dentist", "desi",
	"design", "dev", "dhl", "diamonds", "diet", "digital", "direct",
	"directory", "discount", "discover", "dish", "diy", "dj", "dk", "dm", "dnp",
	"do", "docs", "doctor", "dog", "domains", "dot", "download", "drive", "dtv",
	"dubai", "dunlop", "dupont", "durban", "dvag", "dvr", "dz", "earth", "eat",
	"ec", "eco", "edeka", "edu", "education", "ee", "eg", "email", "emerck",
	"energy", "engineer", "engineering", "enterprises", "epson", "equipment",
	"er", "ericsson", "erni", "es", "esq", "estate", "et", "etisalat", "eu",
	"eurovision", "eus", "events", "exchange", "expert", "exposed", "express",
	"extraspace", "fage", "fail", "fairwinds", "faith", "family", "fan", "fans",
	"farm", "farmers", "fashion", "fast", "fedex", "feedback", "ferrari",
	"ferrero", "fi", "fidelity", "fido", "film", "final", "finance",
	"financial", "fire", "firestone", "firmdale", "fish", "fishing", "fit",
	"fitness", "fj", "fk", "flickr", "flights", "flir", "florist", "flowers",
	"fly", "fm", "fo", "foo", "food", "football", "ford", "forex", "forsale",
	"forum", "foundation", "fox", "fr", "free", "fresenius", "frl", "frogans",
	"frontier", "ftr", "fujitsu", "fun", "fund", "furniture", "futbol", "fyi",
	"ga", "gal", "gallery", "gallo", "gallup", "game", "games", "gap", "garden",
	"gay", "gb", "gbiz", "gd", "gdn", "ge", "gea", "gent", "genting", "george",
	"gf", "gg", "ggee", "gh", "gi", "gift", "gifts", "gives", "giving", "gl",
	"glass", "gle", "global", "globo", "gm", "gmail", "gmbh", "gmo", "gmx",
	"gn", "godaddy", "gold", "goldpoint", "golf", "goo", "goodyear", "goog",
	"google", "gop", "got", "gov", "gp", "gq", "gr", "grainger", "graphics",
	"gratis", "green", "gripe", "grocery", "group", "gs", "gt", "gu",
	"guardian", "gucci", "guge", "guide", "guitars", "guru", "gw", "gy", "hair",
	"hamburg", "hangout", "haus", "hbo", "hdfc", "hdfcbank", "health",
	"healthcare", "help", "helsinki", "here", "hermes", "hiphop", "hisamitsu",
	"hitachi", "hiv", "hk", "hkt", "hm", "hn", "hockey", "holdings", "holiday",
	"homedepot", "homegoods", "homes", "homesense", "honda", "horse",
	"hospital", "host", "hosting", "hot", "hotels", "hotmail", "house", "how",
	"hr", "hsbc", "ht", "hu", "hughes", "hyatt", "hyundai", "ibm", "icbc",
	"ice", "icu", "id", "ie", "ieee", "ifm", "ikano", "il", "im", "imamat",
	"imdb", "immo", "immobilien", "in", "inc", "industries", "infiniti", "info",
	"ing", "ink", "institute", "insurance", "insure", "int", "international",
	"intuit", "investments", "io", "ipiranga", "iq", "ir", "irish", "is",
	"ismaili", "ist", "istanbul", "it", "itau", "itv", "jaguar", "java", "jcb",
	"je", "jeep", "jetzt", "jewelry", "jio", "jll", "jm", "jmp", "jnj", "jo",
	"jobs", "joburg", "jot", "joy", "jp", "jpmorgan", "jprs", "juegos",
	"juniper", "kaufen", "kddi", "ke", "kerryhotels", "kerrylogistics",
	"kerryproperties", "kfh", "kg", "kh", "ki", "kia", "kids", "kim", "kindle",
	"kitchen", "kiwi", "km", "kn", "koeln", "komatsu", "kosher", "kp", "kpmg",
	"kpn", "kr", "krd", "kred", "kuokgroup", "kw", "ky", "kyoto", "kz", "la",
	"lacaixa", "lamborghini", "lamer", "lancaster", "land", "landrover",
	"lanxess", "lasalle", "lat", "latino", "latrobe", "law", "lawyer", "lb",
	"lc", "lds", "lease", "leclerc", "lefrak", "legal", "lego", "lexus", "lgbt",
	"li", "lidl", "life", "lifeinsurance", "lifestyle", "lighting", "like",
	"lilly", "limited", "limo", "lincoln", "link", "lipsy", "live", "living",
	"lk", "llc", "llp", "loan", "loans", "locker", "locus", "lol", "london",
	"lotte", "lotto", "love", "lpl", "lplfinancial", "lr", "ls", "lt", "ltd",
	"ltda", "lu", "lundbeck", "luxe", "luxury", "lv", "ly", "ma", "madrid",
	"maif", "maison", "makeup", "man", "management", "mango", "map", "market",
	"marketing", "markets", "marriott", "marshalls", "mattel", "mba", "mc",
	"mckinsey", "md", "me", "med", "media", "meet", "melbourne", "meme",
	"memorial", "men", "menu", "merckmsd", "mg", "mh", "miami", "microsoft",
	"mil", "mini", "mint", "mit", "mitsubishi", "mk", "ml", "mlb", "mls", "mm",
	"mma", "mn", "mo", "mobi", "mobile", "moda", "moe", "moi", "mom", "monash",
	"money", "monster", "mormon", "mortgage", "moscow", "moto", "motorcycles",
	"mov", "movie", "mp", "mq", "mr", "ms", "msd", "mt", "mtn", "mtr", "mu",
	"museum", "music", "mv", "mw", "mx", "my", "mz", "na", "nab", "nagoya",
	"name", "natura", "navy", "nba", "nc", "ne", "nec", "net", "netbank",
	"netflix", "network", "neustar", "new", "news", "next", "nextdirect",
	"nexus", "nf", "nfl", "ng", "ngo", "nhk", "ni", "nico", "nike", "nikon",
	"ninja", "nissan", "nissay", "nl", "no", "nokia", "norton", "now", "nowruz",
	"nowtv", "np", "nr", "nra", "nrw", "ntt", "nu", "nyc", "nz", "obi",
	"observer", "office", "okinawa", "olayan", "olayangroup", "oldnavy", "ollo",
	"om", "omega", "one", "ong", "onl", "online", "ooo", "open", "oracle",
	"orange", "org", "organic", "origins", "osaka", "otsuka", "ott", "ovh",
	"pa", "page", "panasonic", "paris", "pars", "partners", "parts", "party",
	"pay", "pccw", "pe", "pet", "pf", "pfizer", "pg", "ph", "pharmacy", "phd",
	"philips", "phone", "photo", "photography", "photos", "physio", "pics",
	"pictet", "pictures", "pid", "pin", "ping", "pink", "pioneer", "pizza",
	"pk", "pl", "place", "play", "playstation", "plumbing", "plus", "pm", "pn",
	"pnc", "pohl", "poker", "politie", "porn", "post", "pr", "pramerica",
	"praxi", "press", "prime", "pro", "prod", "productions", "prof",
	"progressive", "promo", "properties", "property", "protection", "pru",
	"prudential", "ps", "pt", "pub", "pw", "pwc", "py", "qa", "qpon", "quebec",
	"quest", "racing", "radio", "re", "read", "realestate", "realtor", "realty",
	"recipes", "red", "redstone", "redumbrella", "rehab", "reise", "reisen",
	"reit", "reliance", "ren", "rent", "rentals", "repair", "report",
	"republican", "rest", "restaurant", "review", "reviews", "rexroth", "rich",
	"richardli", "ricoh", "ril", "rio", "rip", "ro", "rocks", "rodeo", "rogers",
	"room", "rs", "rsvp", "ru", "rugby", "ruhr", "run", "rw", "rwe", "ryukyu",
	"sa", "saarland", "safe", "safety", "sakura", "sale", "salon", "samsclub",
	"samsung", "sandvik", "sandvikcoromant", "sanofi", "sap", "sarl", "sas",
	"save", "saxo", "sb", "sbi", "sbs", "sc", "sca", "scb", "schaeffler",
	"schmidt", "scholarships", "school", "schule", "schwarz", "science", "scot",
	"sd", "se", "search", "seat", "secure", "security", "seek", "select",
	"sener", "services", "seven", "sew", "sex", "sexy", "sfr", "sg", "sh",
	"shangrila", "sharp", "shaw", "shell", "shia", "shiksha", "shoes", "shop",
	"shopping", "shouji", "show", "si", "silk", "sina", "singles", "site", "sj",
	"sk", "ski", "skin", "sky", "skype", "sl", "sling", "sm", "smart", "smile",
	"sn", "sncf", "so", "soccer", "social", "softbank", "software", "sohu",
	"solar", "solutions", "song", "sony", "soy", "spa", "space", "sport",
	"spot", "sr", "srl", "ss", "st", "stada", "staples", "star", "statebank",
	"statefarm", "stc", "stcgroup", "stockholm", "storage", "store", "stream",
	"studio", "study", "style", "su", "sucks", "supplies", "supply", "support",
	"surf", "surgery", "suzuki", "sv", "swatch", "swiss", "sx", "sy", "sydney",
	"systems", "sz", "tab", "taipei", "talk", "taobao", "target", "tatamotors",
	"tatar", "tattoo", "tax", "taxi", "tc", "tci", "td", "tdk", "team", "tech",
	"technology", "tel", "temasek", "tennis", "teva", "tf", "tg", "th", "thd",
	"theater", "theatre", "tiaa", "tickets", "tienda", "tips", "tires", "tirol",
	"tj", "tjmaxx", "tjx", "tk", "tkmaxx", "tl", "tm", "tmall", "tn", "to",
	"today", "tokyo", "tools", "top", "toray", "toshiba", "total", "tours",
	"town", "toyota", "toys", "tr", "trade", "trading", "training", "travel",
	"travelers", "travelersinsurance", "trust", "trv", "tt", "tube", "tui",
	"tunes", "tushu", "tv", "tvs", "tw", "tz", "ua", "ubank", "ubs", "ug", "uk",
	"unicom", "university", "uno", "uol", "ups", "us", "uy", "uz", "va",
	"vacations", "vana", "vanguard", "vc", "ve", "vegas", "ventures",
	"verisign", "versicherung", "vet", "vg", "vi", "viajes", "video", "vig",
	"viking", "villas", "vin", "vip", "virgin", "visa", "vision", "viva",
	"vivo", "vlaanderen", "vn", "vodka", "volkswagen", "volvo", "vote",
	"voting", "voto", "voyage", "vu", "wales", "walmart", "walter", "wang",
	"wanggou", "watch", "watches", "weather", "weatherchannel", "webcam",
	"weber", "website", "wed", "wedding", "weibo", "weir", "wf", "whoswho",
	"wien", "wiki", "williamhill", "win", "windows", "wine", "winners", "wme",
	"wolterskluwer", "woodside", "work", "works", "world", "wow", "ws", "wtc",
	"wtf", "xbox", "xerox", "xfinity", "xihuan", "xin", "xn--11b4c3d",
	"xn--1ck2e1b", "xn--1qqw23a", "xn--2scrj9c", "xn--30rr7y", "xn--3bst00m",
	"xn--3ds443g", "xn--3e0b707e", "xn--3hcrj9c", "xn--3pxu8k", "xn--42c2d9a",
	"xn--45br5cyl", "xn--45brj9c", "xn--45q11c", "xn--4dbrk0ce", "xn--4gbrim",
	"xn--54b7fta0cc", "xn--55qw42g", "xn--55qx5d", "xn--5su34j936bgsg",
	"xn--5tzm5g", "xn--6frz82g", "xn--6qq986b3xl", "xn--80adxhks",
	"xn--80ao21a", "xn--80aqecdr1a", "xn--80asehdb", "xn--80aswg",
	"xn--8y0a063a", "xn--90a3ac", "xn--90ae", "xn--90ais", "xn--9dbq2a",
	"xn--9et52u", "xn--9krt00a", "xn--b4w605ferd", "xn--bck1b9a5dre4c",
	"xn--c1avg", "xn--c2br7g", "xn--cck2b3b", "xn--cckwcxetd", "xn--cg4bki",
	"xn--clchc0ea0b2g2a9gcd", "xn--czr694b", "xn--czrs0t", "xn--czru2d",
	"xn--d1acj3b", "xn--d1alf", "xn--e1a4c", "xn--eckvdtc9d", "xn--efvy88h",
	"xn--fct429k", "xn--fhbei", "xn--fiq228c5hs", "xn--fiq64b", "xn--fiqs8s",
	"xn--fiqz9s", "xn--fjq720a", "xn--flw351e", "xn--fpcrj9c3d",
	"xn--fzc2c9e2c", "xn--fzys8d69uvgm", "xn--g2xx48c", "xn--gckr3f0f",
	"xn--gecrj9c", "xn--gk3at1e", "xn--h2breg3eve", "xn--h2brj9c",
	"xn--h2brj9c8c", "xn--hxt814e", "xn--i1b6b1a6a2e", "xn--imr513n",
	"xn--io0a7i", "xn--j1aef", "xn--j1amh", "xn--j6w193g", "xn--jlq480n2rg",
	"xn--jvr189m", "xn--kcrx77d1x4a", "xn--kprw13d", "xn--kpry57d",
	"xn--kput3i", "xn--l1acc", "xn--lgbbat1ad8j", "xn--mgb9awbf",
	"xn--mgba3a3ejt", "xn--mgba3a4f16a", "xn--mgba7c0bbn0a", "xn--mgbaakc7dvf",
	"xn--mgbaam7a8h", "xn--mgbab2bd", "xn--mgbah1a3hjkrd", "xn--mgbai9azgqp6j",
	"xn--mgbayh7gpa", "xn--mgbbh1a", "xn--mgbbh1a71e", "xn--mgbc0a9azcg",
	"xn--mgbca7dzdo", "xn--mgbcpq6gpa1a", "xn--mgberp4a5d4ar", "xn--mgbgu82a",
	"xn--mgbi4ecexp", "xn--mgbpl2fh", "xn--mgbt3dhd", "xn--mgbtx2b",
	"xn--mgbx4cd0ab", "xn--mix891f", "xn--mk1bu44c", "xn--mxtq1m",
	"xn--ngbc5azd", "xn--ngbe9e0a", "xn--ngbrx", "xn--node", "xn--nqv7f",
	"xn--nqv7fs00ema", "xn--nyqy26a", "xn--o3cw4h", "xn--ogbpf8fl",
	"xn--otu796d", "xn--p1acf", "xn--p1ai", "xn--pgbs0dh", "xn--pssy2u",
	"xn--q7ce6a", "xn--q9jyb4c", "xn--qcka1pmc", "xn--qxa6a", "xn--qxam",
	"xn--rhqv96g", "xn--rovu88b", "xn--rvc1e0am3e", "xn--s9brj9c",
	"xn--ses554g", "xn--t60b56a", "xn--tckwe", "xn--tiq49xqyj", "xn--unup4y",
	"xn--vermgensberater-ctb", "xn--vermgensberatung-pwb", "xn--vhquv",
	"xn--vuq861b", "xn--w4r85el8fhu5dnra", "xn--w4rs40l", "xn--wgbh1c",
	"xn--wgbl6a", "xn--xhq521b", "xn--xkc2al3hye2a", "xn--xkc2dl3a5ee0h",
	"xn--y9a3aq", "xn--yfro4i67o", "xn--ygbi2ammx", "xn--zfr164b", "xxx", "xyz",
	"yachts", "yahoo", "yamaxun", "yandex", "ye", "yodobashi", "yoga",
	"yokohama", "you", "youtube", "yt", "yun", "za", "zappos", "zara", "zero",
	"zip", "zm", "zone", "zuerich", "zw",
};

static int tld_cmp(const void *k, const void *e)
{
	return strcmp((const char *)k, *(const char *const *)e);
}

static bool is_tld(const char *s, size_t n)
{
	char t[64];
	if (n == 0 || n >= sizeof t)
		return false;
	for (size_t i = 0; i < n; i++)
		t[i] = (char)lower((unsigned char)s[i]);
	t[n] = '\0';
	return bsearch(t, tlds, sizeof tlds / sizeof tlds[0], sizeof tlds[0],
	               tld_cmp) != NULL;
}

bool uri_is_tld(const char *s, size_t n)
{
	return is_tld(s, n);
}

bool uri_fqdn_valid(const char *h, size_t n)
{
	while (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	size_t labels = 1;
	for (size_t i = 0; i < n; i++)
		labels += h[i] == '.';
	if (labels < 2)
		return false;
	for (size_t i = 0, left = labels; i <= n; left--) {
		size_t j = i;
		while (j < n && h[j] != '.')
			j++;
		if (j - i < 1 || j - i > 63 || h[i] == '-' || h[j - 1] == '-')
			return false;
		for (size_t k = i; k < j; k++) {
			unsigned char c = (unsigned char)h[k];
			if (!is_alnum(c) && c != '-' && !(c == '_' && left > 2))
				return false;
		}
		i = j + 1;
	}
	return true;
}

bool uri_domain_valid(const char *d, size_t n)
{
	size_t dot = n;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == ' ' || (d[i] >= '\t' && d[i] <= '\r'))
			return false;
		if (d[i] == '.')
			dot = i;
	}
	return dot < n && is_tld(d + dot + 1, n - dot - 1);
}

/* One octet of SpamAssassin's IPV4_ADDRESS: 0-255 without a leading
 * zero; its length, 0 when there is none. */
static size_t ipv4_octet(const char *s, size_t n)
{
	size_t k = 0;
	unsigned v = 0;
	while (k < n && k < 3 && is_digit((unsigned char)s[k]))
		v = v * 10 + (unsigned)(s[k++] - '0');
	if (k == 0 || v > 255 || (k > 1 && s[0] == '0'))
		return 0;
	return k;
}

bool uri_is_ipv4(const char *s, size_t n)
{
	size_t at = 0;
	for (int i = 0; i < 4; i++) {
		size_t k = ipv4_octet(s + at, n - at);
		if (k == 0)
			return false;
		at += k;
		if (i < 3 && (at >= n || s[at++] != '.'))
			return false;
	}
	return at == n;
}

/* An undecoded %-escape of a printable character (%21-%7E), as
 * uri_to_domain's /%(?:2[1-9a-f]|[3-6][0-9a-f]|7[0-9a-e])/ finds. */
static bool printable_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++) {
		if (s[i] != '%')
			continue;
		int a = cte_hex_digit((unsigned char)s[i + 1]);
		int b = cte_hex_digit((unsigned char)s[i + 2]);
		if (a < 0 || b < 0)
			continue;
		if ((a == 2 && b >= 1) || (a >= 3 && a <= 6) || (a == 7 && b <= 14))
			return true;
	}
	return false;
}

bool uri_sa_domain(const char *u, size_t n)
{
	const char *h;
	size_t hl;
	return uri_sa_host(u, n, &h, &hl);
}

bool uri_sa_host(const char *u, size_t n, const char **host, size_t *hn)
{
	static const char *const none[] = { "javascript:", "cid:", "file:" };
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		if (n >= strlen(none[i]) &&
		    strncasecmp(u, none[i], strlen(none[i])) == 0)
			return false;
	const char *h = u, *e = u + n;
	if (n >= 7 && strncasecmp(u, "mailto:", 7) == 0) {
		h += 7;
		const char *q = memchr(h, '?', (size_t)(e - h));
		if (q != NULL)
			e = q;
		const char *at = memchr(h, '@', (size_t)(e - h));
		if (at == NULL || memchr(at + 1, '@', (size_t)(e - at - 1)))
			return false;
		h = at + 1;
	} else {
		size_t k = 0;
		while (k < n && is_alpha((unsigned char)u[k]))
			k++;
		if (k > 0 && k < n && u[k] == ':') {
			k++;
			for (int sl = 0; sl < 2 && k < n && u[k] == '/'; sl++)
				k++;
			h = u + k;
		}
		for (const char *p = h; p < e; p++)
			if (*p == '/' || *p == '?' || *p == '#') {
				e = p;
				break;
			}
		for (const char *p = e; p > h; p--)
			if (p[-1] == '@') {
				h = p;
				break;
			}
		const char *p = e;
		while (p > h && is_digit((unsigned char)p[-1]))
			p--;
		if (p > h && p[-1] == ':')
			e = p - 1;
	}
	size_t hl = (size_t)(e - h);
	if (printable_escape(h, hl))
		return false;
	*host = h;
	*hn = hl;
	return uri_is_ipv4(h, hl) ||
	       (uri_fqdn_valid(h, hl) && uri_domain_valid(h, hl));
}

static bool host_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-' || c == '_';
}

/* SpamAssassin's characters that may precede a schemeless URI. */
static bool bare_start_delim(unsigned char c)
{
	return text_blank(c) ||
	       (c != '\0' && strchr("!\"#$&'()*+,/:;<=>?@[\\]^`{|}~", c) != NULL);
}

/* SpamAssassin's end delimiters of a URI in text (blanks, no-break
 * space, ESC, and > < " ` } ] { [ |) at s[i]. */
static bool bare_end_delim(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	return text_blank(c) || (c != '\0' && strchr("><\"`}]{[|", c) != NULL) ||
	       nbsp_at(s, len, i);
}

/* Labels of a host name: 1-63 bytes, no '-' at either end, no '_' in
 * the last one, the last one not all digits. */
static bool host_valid(const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		size_t l = i - start;
		if (l == 0 || l > 63 || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

/* A bare host name with a known TLD around the '.' at s[i] (optionally
 * ":port" and "/path"), as SpamAssassin finds them in text; *b and the
 * length returned delimit it, 0 when there is none. *skip is where the
 * scan may go on when there is none (past this word). */
static size_t bare_host(const char *s, size_t len, size_t i, size_t floor,
                        size_t *b, size_t *skip)
{
	size_t st = i, e = i;
	while (st > floor && i - st < 252 && host_char((unsigned char)s[st - 1]))
		st--;
	while (e < len && host_char((unsigned char)s[e]))
		e++;
	*skip = e;
	if (!is_alnum((unsigned char)s[st]) ||
	    (st > 0 && !bare_start_delim((unsigned char)s[st - 1])) ||
	    (e < len && s[e] == '@'))
		return 0;
	size_t he = e;                   /* host end, trailing dots etc. off */
	while (he > st && strchr(".-_", s[he - 1]) != NULL)
		he--;
	size_t dot = he;
	while (dot > st && s[dot - 1] != '.')
		dot--;
	if (dot <= st + 1 || !is_tld(s + dot, he - dot) ||
	    !host_valid(s + st, he - st) ||
	    memchr(s + dot, '_', he - dot) != NULL)
		return 0;
	/* host, one optional '.', ":port", "/path" up to an end delimiter
	 * (then trailing punctuation off), and an end delimiter after. */
	if (!(he == e || (he + 1 == e && s[he] == '.')))
		return 0;
	size_t k = e;
	if (k < len && s[k] == ':') {
		size_t d = k + 1;
		while (d < len && d - k <= 5 && is_digit((unsigned char)s[d]))
			d++;
		if (d > k + 1)
			k = d;
	}
	size_t n = he - st;
	if (k < len && s[k] == '/') {
		size_t p = k + 1;
		while (p < len && p - k <= 2048 && !bare_end_delim(s, len, p))
			p++;
		if (p > k + 1) {
			k = p;
			while (k > e && strchr("-~!@#^&*()_+=:;'?,.", s[k - 1]) != NULL)
				k--;
			n = k - st;
			*b = st;
			return n;
		}
	}
	if (k < len && !bare_end_delim(s, len, k))
		return 0;
	if (k > e)
		n = k - st;
	*b = st;
	return n;
}

/* Does a URL with scheme s[0..n) and separator sep belong to those
 * SpamAssassin finds in text ("http://", "https://", "ftp://", any
 * case)? Others ("hxxp://", "http;//", "http:\\") it does not list. */
static bool listed_scheme(const char *s, size_t n, const char *sep)
{
	static const char *const known[] = { "http", "https", "ftp" };
	if (sep[0] != ':' || sep[1] != '/')
		return false;
	for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
		if (n == strlen(known[k]) && strncasecmp(s, known[k], n) == 0)
			return true;
	return false;
}

/* Report s[b..) as unlisted when it is more than min bytes long. */
static void report_unlisted(const char *s, size_t len, size_t b, size_t min,
                            uri_found_fn fn, void *ctx)
{
	size_t w = url_extent(s + b, len - b, false);
	if (w > min)
		fn(ctx, s + b, w, URI_TEXT_UNLISTED);
}

/* Report the URL at s[b..) as kind, ended at a bracket as SpamAssassin
 * ends it, if longer than min bytes; the spelling up to the next blank
 * too, as unlisted, when a bracket cut it ("http://example[.]com/x": the
 * "[.]" hides a dot). Returns the end of the URL, b when there is none. */
static size_t report_url(const char *s, size_t len, size_t b, size_t min,
                         enum uri_text_kind kind, uri_found_fn fn, void *ctx)
{
	size_t n = url_extent(s + b, len - b, true);
	if (url_extent(s + b, len - b, false) > n)
		report_unlisted(s, len, b, min, fn, ctx);
	if (n <= min)
		return b;
	fn(ctx, s + b, n, kind);
	return b + n;
}

void uri_scan_text(const char *s, size_t len, uri_found_fn fn, void *ctx)
{
	size_t done = 0; /* bytes already inside a reported URI */
	size_t bare_skip = 0; /* end of a word that holds no bare host */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!trigger[c] || i < done)
			continue;
		if (c == '.') {
			/* www. / www1.-www99. / ftp. at a word start */
			size_t w = www_prefix_at(s, i, done);
			if (w == SIZE_MAX || i + 1 >= len ||
			    !is_alnum((unsigned char)s[i + 1])) {
				/* else a bare host name with a known TLD, as
				 * http:// (SpamAssassin) */
				size_t b = 0, skip = i, n;
				if (i < bare_skip)
					continue;
				if (i > done && i > 0 && i + 1 < len &&
				    is_alnum((unsigned char)s[i - 1]) &&
				    (n = bare_host(s, len, i, done, &b, &skip)) > 0) {
					char buf[2100];
					if (n + 7 < sizeof buf) {
						memcpy(buf, "http://", 7);
						memcpy(buf + 7, s + b, n);
						fn(ctx, buf, n + 7,
						   URI_TEXT_UNLINKED);
					}
					done = b + n;
				} else {
					bare_skip = skip;  /* the rest of this word */
				}
				continue;
			}
			if (w > 0 && (is_alnum((unsigned char)s[w - 1]) ||
			              strchr("./@-_:", s[w - 1]) != NULL))
				continue;
			size_t e = report_url(s, len, w, i + 1 - w,
			                      URI_TEXT_SCHEMELESS, fn, ctx);
			if (e > w)
				done = e;
		} else if (c == '@') {
			done = scan_at(s, len, i, done, fn, ctx);
		} else if (c == ':' && mailto_no_address(s, len, i) > i) {
			done = mailto_no_address(s, len, i);
		} else if (sep_len(s + i, len - i)) {
			size_t b = i;
			while (b > done && i - b < 12 &&
			       scheme_char((unsigned char)s[b - 1]))
				b--;
			while (b < i && !is_alpha((unsigned char)s[b]))
				b++;
			if (b == i)
				continue;
			size_t e = b;
			if (listed_scheme(s + b, i - b, s + i))
				e = report_url(s, len, b, i - b + 3,
				               URI_TEXT_LINK, fn, ctx);
			else
				report_unlisted(s, len, b, i - b + 3, fn, ctx);
			if (e > b)
				done = e;
		}
	}
}

/* ---- normalisation ---- */

struct parts {
	char scheme[16];
	char host[512];
	size_t host_len;
	const char *userinfo;
	size_t userinfo_len;
	const char *port;
	size_t port_len;
	const char *rest; /* path, query, fragment */
	size_t rest_len;
};

/* Map scheme spellings used to dodge filters to the real one. */
static bool clean_scheme(const char *s, size_t n, char *out, size_t cap,
                         unsigned *flags)
{
	if (n == 0 || n >= cap)
		return false;
	char t[16];
	for (size_t i = 0; i < n; i++)
		t[i] = (char)lower((unsigned char)s[i]);
	t[n] = '\0';
	memcpy(out, t, n + 1);
	for (size_t i = 0; i < n; i++)
		if (t[i] == 'x' || t[i] == '*')
			t[i] = 't';
	if (strcmp(out, t) != 0 &&
	    (strcmp(t, "http") == 0 || strcmp(t, "https") == 0)) {
		memcpy(out, t, n + 1);
		*flags |= URI_OBFUSCATED;
	}
	if (strcmp(out, "ttp") == 0 || strcmp(out, "htp") == 0) {
		memcpy(out, "http", 5);
		*flags |= URI_OBFUSCATED;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_alnum((unsigned char)out[i]) && out[i] != '+' &&
		    out[i] != '-' && out[i] != '.')
			return false;
	return is_alpha((unsigned char)out[0]);
}

/* Host bytes: percent escapes and "[.]"-style dots decoded. */
static bool clean_host(const char *h, size_t n, struct parts *u,
                       unsigned *flags)
{
	static const char *const dots[] = { "[.]", "(.)", "{.}", "[dot]",
	                                    "(dot)", "\xe3\x80\x82",
	                                    "\xef\xbc\x8e", "\xef\xbd\xa1" };
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (o + 4 >= sizeof u->host)
			return false;
		unsigned char c = (unsigned char)h[i];
		bool dot = false;
		/* Only these bytes can start a dot spelling. */
		if (c == '[' || c == '(' || c == '{' || c == 0xe3 || c == 0xef)
			for (size_t k = 0; k < sizeof dots / sizeof dots[0]; k++) {
				size_t dl = strlen(dots[k]);
				if (n - i >= dl &&
				    strncasecmp(h + i, dots[k], dl) == 0) {
					i += dl - 1;
					dot = true;
					if (k < 5)
						*flags |= URI_OBFUSCATED;
					break;
				}
			}
		if (dot) {
			u->host[o++] = '.';
			continue;
		}
		int hi, lo;
		if (c == '%' && i + 2 < n && (hi = cte_hex_digit((unsigned char)h[i + 1])) >= 0 &&
		    (lo = cte_hex_digit((unsigned char)h[i + 2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			*flags |= URI_OBFUSCATED;
		}
		u->host[o++] = (char)lower(c);
	}
	while (o > 0 && u->host[o - 1] == '.')
		o--;
	u->host[o] = '\0';
	u->host_len = o;
	return o > 0;
}

/* One IPv4 part: decimal, 0x hex or 0-octal, as inet_aton reads them. */
static bool ip_part(const char *s, size_t n, uint64_t *v)
{
	int base = 10;
	if (n > 2 && s[0] == '0' && lower((unsigned char)s[1]) == 'x') {
		base = 16;
		s += 2;
		n -= 2;
	} else if (n > 1 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	if (n == 0 || n > 12)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		int d = cte_hex_digit((unsigned char)s[i]);
		if (d < 0 || d >= base)
			return false;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	*v = x;
	return true;
}

/* Rewrite numeric IPv4 host spellings as a dotted quad. */
static void numeric_host(struct parts *u, unsigned *flags)
{
	uint64_t v[4];
	size_t n = 0;
	const char *p = u->host, *end = u->host + u->host_len;
	while (p <= end && n < 5) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *e = dot ? dot : end;
		if (n == 4 || !ip_part(p, (size_t)(e - p), &v[n]))
			return;
		n++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	uint64_t addr = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (v[i] > 255)
			return;
		addr = addr << 8 | v[i];
	}
	unsigned last_bits = (unsigned)(8 * (5 - n));
	if (last_bits < 32 && v[n - 1] >> last_bits)
		return;
	addr = addr << last_bits | v[n - 1];
	if (addr > 0xffffffffu)
		return;
	char quad[16];
	int k = snprintf(quad, sizeof quad, "%u.%u.%u.%u",
	                 (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 255),
	                 (unsigned)(addr >> 8 & 255), (unsigned)(addr & 255));
	if ((size_t)k != u->host_len || memcmp(quad, u->host, (size_t)k) != 0)
		*flags |= URI_OBFUSCATED;
	memcpy(u->host, quad, (size_t)k + 1);
	u->host_len = (size_t)k;
}

static void idna_host(struct parts *u)
{
	bool ascii = true;
	for (size_t i = 0; i < u->host_len; i++)
		if ((unsigned char)u->host[i] >= 0x80)
			ascii = false;
	if (ascii)
		return;
	char *out = NULL;
	int rc = idn2_to_ascii_8z(u->host, &out,
	                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		rc = idn2_to_ascii_8z(u->host, &out,
		                      IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	if (rc == IDN2_OK && out != NULL && strlen(out) < sizeof u->host) {
		u->host_len = strlen(out);
		memcpy(u->host, out, u->host_len + 1);
	}
	idn2_free(out);
}

static bool default_port(const char *scheme, const char *port, size_t n)
{
	while (n > 1 && port[0] == '0') {
		port++;
		n--;
	}
	return (n == 2 && memcmp(port, "80", 2) == 0 &&
	        strcmp(scheme, "http") == 0) ||
	       (n == 3 && memcmp(port, "443", 3) == 0 &&
	        strcmp(scheme, "https") == 0) ||
	       (n == 2 && memcmp(port, "21", 2) == 0 &&
	        strcmp(scheme, "ftp") == 0);
}

/* Split "[scheme sep] authority rest" into u. */
static int split(const char *s, size_t n, struct parts *u, unsigned *flags)
{
	memset(u, 0, sizeof *u);
	size_t i = 0;
	while (i < n && i < 12 && scheme_char((unsigned char)s[i]))
		i++;
	const char *auth;
	if (i < n && sep_len(s + i, n - i)) {
		if (!clean_scheme(s, i, u->scheme, sizeof u->scheme, flags))
			return -1;
		if (s[i] == ';' || s[i + 1] == '\\')
			*flags |= URI_OBFUSCATED;
		auth = s + i + 3;
	} else if (n > 4 && www_prefix(s, n) > 0) {
		strcpy(u->scheme, lower((unsigned char)s[0]) == 'w' ? "http" :
		       "ftp");
		auth = s;
	} else {
		return -1;
	}
	const char *end = s + n, *a = auth;
	while (a < end && *a != '/' && *a != '?' && *a != '#' && *a != '\\')
		a++;
	u->rest = a;
	u->rest_len = (size_t)(end - a);
	const char *host = auth;
	const char *at = NULL;
	for (const char *q = auth; q < a; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		u->userinfo = auth;
		u->userinfo_len = (size_t)(at - auth);
		host = at + 1;
		*flags |= URI_OBFUSCATED; /* user@ hides the real host */
	}
	const char *hend = a;
	if (host < a && *host == '[') {
		const char *rb = memchr(host, ']', (size_t)(a - host));
		if (rb != NULL && (rb + 1 == a || rb[1] == ':')) {
			hend = rb + 1;
			if (hend < a) {
				u->port = hend + 1;
				u->port_len = (size_t)(a - hend - 1);
			}
			if ((size_t)(hend - host) >= sizeof u->host)
				return -1;
			for (size_t k = 0; k < (size_t)(hend - host); k++)
				u->host[k] = (char)lower((unsigned char)host[k]);
			u->host_len = (size_t)(hend - host);
			u->host[u->host_len] = '\0';
			return 0;
		}
	}
	for (const char *q = a; q > host; q--)
		if (q[-1] == ':') {
			bool digits = true;
			for (const char *d = q; d < a; d++)
				if (!is_digit((unsigned char)*d))
					digits = false;
			if (digits) {
				hend = q - 1;
				u->port = q;
				u->port_len = (size_t)(a - q);
			}
			break;
		} else if (q[-1] == ']' || q[-1] == ')') {
			break;
		}
	if (!clean_host(host, (size_t)(hend - host), u, flags))
		return -1;
	numeric_host(u, flags);
	idna_host(u);
	return 0;
}

static int norm_mailto(const char *s, size_t n, struct arena_buf *out)
{
	const char *at = memchr(s, '@', n);
	if (at == NULL)
		return -1;
	arena_buf_put(out, "mailto:", 7);
	arena_buf_put(out, s + 7, (size_t)(at - s) - 7 + 1);
	for (const char *p = at + 1; p < s + n; p++)
		arena_buf_putc(out, (char)lower((unsigned char)*p));
	return 0;
}

int uri_norm(const char *raw, size_t len, struct arena_buf *out,
             unsigned *flags)
{
	/* Trim, and drop line breaks and tabs that wrapping put inside. */
	char tmp[2048];
	size_t n = 0;
	while (len > 0 && (unsigned char)raw[len - 1] <= ' ')
		len--;
	size_t i = 0;
	while (i < len && (unsigned char)raw[i] <= ' ')
		i++;
	for (; i < len && n < sizeof tmp; i++)
		if (raw[i] != '\r' && raw[i] != '\n' && raw[i] != '\t')
			tmp[n++] = raw[i];
	if (n == 0 || n == sizeof tmp)
		return -1;
	if (n > 7 && strncasecmp(tmp, "mailto:", 7) == 0)
		return norm_mailto(tmp, n, out);
	struct parts u;
	if (split(tmp, n, &u, flags) != 0)
		return -1;
	size_t mark = out->len;
	arena_buf_put(out, u.scheme, strlen(u.scheme));
	arena_buf_put(out, "://", 3);
	if (u.userinfo != NULL) {
		arena_buf_put(out, u.userinfo, u.userinfo_len);
		arena_buf_putc(out, '@');
	}
	arena_buf_put(out, u.host, u.host_len);
	if (u.port != NULL && u.port_len > 0 &&
	    !default_port(u.scheme, u.port, u.port_len)) {
		arena_buf_putc(out, ':');
		arena_buf_put(out, u.port, u.port_len);
	}
	/* As SpamAssassin (Util.pm, uri_list_canonicalize): a '/' goes in
	 * before a query or fragment right after the host, an empty path
	 * stays empty. */
	if (u.rest_len > 0 && u.rest[0] != '/')
		arena_buf_putc(out, '/');
	arena_buf_put(out, u.rest, u.rest_len);
	if (out->failed) {
		out->len = mark;
		return -1;
	}
	return 0;
}

size_t uri_remove_dots(const char *in, size_t n, char *out)
{
	size_t k = 0, o = 0;
	if (n >= 2 && in[0] == '.' && in[1] == '/')
		k = 1;                     /* "./x" is "/x" */
	else if (n >= 3 && in[0] == '.' && in[1] == '.' && in[2] == '/')
		k = 2;                     /* "../x" too */
	while (k < n) {
		size_t left = n - k;
		bool dot = left >= 2 && in[k] == '/' && in[k + 1] == '.' &&
		           (left == 2 || in[k + 2] == '/');
		bool dots = left >= 3 && in[k] == '/' && in[k + 1] == '.' &&
		            in[k + 2] == '.' && (left == 3 || in[k + 3] == '/');
		if (dot || dots) {
			size_t skip = dot ? 2 : 3;   /* "/." or "/..": "/" is left */
			while (dots && o > 0 && out[o - 1] != '/')
				o--;
			if (dots && o > 0)
				o--;   /* the last segment, with its "/" */
			if (left == skip) {
				out[o++] = '/';
				break;
			}
			k += skip;
			continue;
		}
		size_t j = k + (in[k] == '/');
		while (j < n && in[j] != '/')
			j++;
		memcpy(out + o, in + k, j - k);
		o += j - k;
		k = j;
	}
	return o;
}

/* out from its byte from on (a URL just resolved) with the dot segments
 * of its path removed (uri_remove_dots()), as HTML.pm's target_uri does
 * after merging a reference with its base. */
static void resolved_dots(struct arena_buf *out, size_t from)
{
	if (out->failed)
		return;
	const char *u = out->p + from, *end = out->p + out->len;
	const char *sep = memmem(u, (size_t)(end - u), "://", 3);
	if (sep == NULL)
		return;
	const char *ps = sep + 3;
	while (ps < end && *ps != '/' && *ps != '?' && *ps != '#')
		ps++;
	const char *pe = ps;
	while (pe < end && *pe != '?' && *pe != '#')
		pe++;
	if (pe == ps)
		return;
	char *tmp = arena_alloc(out->a, (size_t)(pe - ps) + 1);
	if (tmp == NULL)
		return;
	size_t n = uri_remove_dots(ps, (size_t)(pe - ps), tmp);
	size_t tail = (size_t)(end - pe), at = (size_t)(ps - out->p);
	memmove(out->p + at + n, pe, tail);
	memcpy(out->p + at, tmp, n);
	out->len = at + n + tail;
}

int uri_resolve(const char *base, size_t base_len, const char *ref,
                size_t ref_len, struct arena_buf *out)
{
	size_t from = out->len;
	const char *sep = memmem(base, base_len, "://", 3);
	if (sep == NULL || ref_len == 0)
		return -1;
	const char *hs = sep + 3;
	const char *he = memchr(hs, '/', base_len - (size_t)(hs - base));
	if (he == NULL)
		he = base + base_len;
	if (ref_len > 1 && ref[0] == '/' && ref[1] == '/') {
		arena_buf_put(out, base, (size_t)(sep - base) + 1);
		arena_buf_put(out, ref, ref_len);
	} else if (ref[0] == '/') {
		arena_buf_put(out, base, (size_t)(he - base));
		arena_buf_put(out, ref, ref_len);
	} else {
		/* Relative path: replace what follows the last '/'. */
		const char *q = memchr(base, '?', base_len);
		size_t keep = q ? (size_t)(q - base) : base_len;
		while (keep > (size_t)(he - base) && base[keep - 1] != '/')
			keep--;
		arena_buf_put(out, base, keep);
		if (keep == (size_t)(he - base))
			arena_buf_putc(out, '/');
		arena_buf_put(out, ref, ref_len);
	}
	resolved_dots(out, from);
	return out->failed ? -1 : 0;
}

/* Does a[0..n) start with "www" or "ftp" (any case), digits and a
 * '.'? (target_uri's test for an authority without scheme) */
static bool www_ftp_digits(const char *a, size_t n)
{
	if (n < 4 || (strncasecmp(a, "www", 3) != 0 &&
	              strncasecmp(a, "ftp", 3) != 0))
		return false;
	size_t k = 3;
	while (k < n && is_digit((unsigned char)a[k]))
		k++;
	return k < n && a[k] == '.';
}

int uri_target(const char *r, size_t n, struct arena_buf *out)
{
	size_t k = 0;   /* scheme: /^([^:\/?#]+):/ */
	while (k < n && strchr(":/?#", r[k]) == NULL)
		k++;
	size_t p = k > 0 && k < n && r[k] == ':' ? k + 1 : 0;
	size_t a = p, ae = p;   /* authority after "//" */
	bool auth = n - p >= 2 && r[p] == '/' && r[p + 1] == '/';
	if (auth) {
		a = ae = p + 2;
		while (ae < n && strchr("/?#", r[ae]) == NULL)
			ae++;
	}
	size_t pe = ae;         /* path */
	while (pe < n && r[pe] != '?' && r[pe] != '#')
		pe++;
	if (p > 0)
		arena_buf_put(out, r, p);
	else if (auth && www_ftp_digits(r + a, ae - a))
		arena_buf_put(out, (r[a] | 0x20) == 'w' ? "http:" : "ftp:",
		              (r[a] | 0x20) == 'w' ? 5 : 4);
	if (auth)
		arena_buf_put(out, r + p, ae - p);
	if (arena_buf_reserve(out, pe - ae) != 0)
		return -1;
	out->len += uri_remove_dots(r + ae, pe - ae, out->p + out->len);
	const char *hash = memchr(r + pe, '#', n - pe);
	size_t qe = hash != NULL ? (size_t)(hash - r) : n;
	arena_buf_put(out, r + pe, qe - pe);   /* "?query" */
	if (hash != NULL) {                     /* "#fragment" to a LF */
		const char *lf = memchr(hash, '\n', n - qe);
		arena_buf_put(out, hash, lf != NULL ? (size_t)(lf - hash) :
		              n - qe);
	}
	return out->failed ? -1 : 0;
}

/* Is s a bare host name: labels of [a-z0-9-], alphabetic TLD? */
static bool looks_like_host(const char *s, size_t n)
{
	size_t labels = 0, lab = 0, tld_alpha = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (lab == 0)
				return false;
			labels++;
			lab = 0;
			tld_alpha = 1;
		} else if (is_alnum(c) || c == '-') {
			lab++;
			if (!is_alpha(c))
				tld_alpha = 0;
		} else {
			return false;
		}
	}
	return labels >= 1 && lab >= 2 && lab <= 18 && tld_alpha;
}

size_t uri_host(const char *s, size_t len, char *buf, size_t cap)
{
	while (len > 0 && (unsigned char)s[len - 1] <= ' ')
		len--;
	while (len > 0 && (unsigned char)*s <= ' ') {
		s++;
		len--;
	}
	if (len == 0 || cap == 0)
		return 0;
	struct parts u;
	unsigned flags = 0;
	if (split(s, len, &u, &flags) != 0) {
		if (!looks_like_host(s, len) || len >= cap)
			return 0;
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)lower((unsigned char)s[i]);
		buf[len] = '\0';
		return len;
	}
	if (u.host_len == 0 || u.host_len >= cap)
		return 0;
	memcpy(buf, u.host, u.host_len + 1);
	return u.host_len;
}

static const char *strip_www(const char *h)
{
	return strncmp(h, "www.", 4) == 0 ? h + 4 : h;
}

/* a equals b or ends with "." + b */
static bool within(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la == lb)
		return strcmp(a, b) == 0;
	return la > lb && a[la - lb - 1] == '.' && strcmp(a + la - lb, b) == 0;
}

bool uri_hosts_differ(const char *text_host, const char *href_host)
{
	const char *t = strip_www(text_host), *h = strip_www(href_host);
	return !within(t, h) && !within(h, t);
}
