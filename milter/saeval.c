/*
 * saeval.c — SpamAssassin eval: functions in C (see saeval.h).
 *
 * Each function is written from the documented behaviour of SpamAssassin
 * 4.0.1's Perl (HeaderEval.pm, MIMEEval.pm, HTMLEval.pm, BodyEval.pm,
 * Util.pm's parse_rfc822_date); the regular expressions SpamAssassin uses
 * are run with PCRE2 (same syntax), compiled once per process.
 *
 * This file is the core: the table of functions, saeval_compile() and
 * saeval_run(), the per-message cache, argument handling, the regular
 * expressions and the header helpers, and the small HeaderEval and
 * BodyEval checks. The families of functions are in their own files:
 * sa_date.c (parse_rfc822_date, the Date and Received times),
 * sa_mime.c (MIMEEval), sa_html.c (HTMLEval), sa_freemail.c (FreeMail)
 * and sa_relay.c (forged relays in Received, RelayEval); saeval_int.h
 * is what they share.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "relays.h"
#include "ruleset.h"
#include "strbuf.h"
#include "utf8.h"

struct saeval_cache *saeval_cache_new(void)
{
	return calloc(1, sizeof(struct saeval_cache));
}

void saeval_cache_free(struct saeval_cache *k)
{
	if (k == NULL)
		return;
	free(k->rcvd.p);
	free(k->flat.p);
	saeval_html_facts_free(k);
	free(k->uhosts.p);
	free(k->fm_addr.p);
	saeval_fm_body_free(&k->fmb);
	saeval_fm_heads_free(&k->fmh);
	free(k->env.p);
	free(k->hkey);
	free(k->hnext);
	free(k->hhead);
	free(k);
}

/* A numeric fact of the message, worked out by fn once per cache (each
 * time without one). */
double saeval_cached_fact(const struct saeval_ctx *x, enum fact f,
                          double (*fn)(const struct saeval_ctx *x))
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return fn(x);
	if (!(k->fact_known & 1u << f)) {
		k->fact[f] = fn(x);
		k->fact_known |= 1u << f;
	}
	return k->fact[f];
}

/* The contents as a C string (also after len was reset to 0). */
const char *saeval_buf_str(struct strbuf *b)
{
	if (b->p == NULL)
		strbuf_put(b, "", 0);
	if (b->oom)
		return NULL;
	b->p[b->len] = '\0';
	return b->p;
}

/* Is h called name? The same test as msg_part_header_get's strcasecmp,
 * with the first letters compared first: most names differ there. */
static bool hdr_is(const struct msg_header *h, const char *name)
{
	return tolower((unsigned char)h->name.ptr[0]) ==
	       tolower((unsigned char)name[0]) &&
	       strcasecmp(h->name.ptr, name) == 0;
}

/* The next header of part `part` called name from index *pos on (which
 * it advances past it), or NULL: the instances in msg_part_header_get's
 * order, in one pass over the headers instead of one per instance. */
static const struct msg_header *part_hdr_next(const struct msg *m,
                                              size_t part, const char *name,
                                              size_t *pos)
{
	size_t count = msg_part_header_count(m, part);
	while (*pos < count) {
		const struct msg_header *h = msg_part_header_at(m, part, (*pos)++);
		if (h != NULL && hdr_is(h, name))
			return h;
	}
	return NULL;
}

/* The first two bytes of a header name, lower-cased (the second only
 * when the first is not the end): equal names (strcasecmp) have equal
 * keys. */
static uint32_t hdr_key(const char *name)
{
	uint32_t c0 = (uint32_t)tolower((unsigned char)name[0]);
	uint32_t c1 = c0 ? (uint32_t)tolower((unsigned char)name[1]) : 0;
	return c0 | c1 << 8;
}

#define HDR_KEY_NONE UINT32_MAX

/* The keys of the message's headers, made once per cache; NULL without
 * a cache or memory. */
static const uint32_t *hdr_keys(const struct saeval_ctx *x)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return NULL;
	if (!k->hkey_done) {
		k->hkey_done = true;
		size_t n = msg_header_count(x->m), nh = 16;
		while (nh < 2 * n)
			nh *= 2;
		k->hkey = malloc((n ? n : 1) * sizeof *k->hkey);
		k->hnext = malloc((n ? n : 1) * sizeof *k->hnext);
		k->hhead = malloc(nh * sizeof *k->hhead);
		if (k->hkey == NULL || k->hnext == NULL || k->hhead == NULL) {
			free(k->hkey);
			k->hkey = NULL;
			return NULL;
		}
		for (size_t j = 0; j < nh; j++)
			k->hhead[j].key = HDR_KEY_NONE;
		k->nhhead = nh;
		/* backwards, so each chain comes out in header order */
		for (size_t i = n; i-- > 0;) {
			const struct msg_header *h = msg_header_at(x->m, i);
			uint32_t key = h != NULL ? hdr_key(h->name.ptr) : HDR_KEY_NONE;
			k->hkey[i] = key;
			k->hnext[i] = SIZE_MAX;
			if (key == HDR_KEY_NONE)
				continue;
			size_t j = key & (nh - 1);
			while (k->hhead[j].key != HDR_KEY_NONE && k->hhead[j].key != key)
				j = (j + 1) & (nh - 1);
			if (k->hhead[j].key == key)
				k->hnext[i] = k->hhead[j].first;
			k->hhead[j].key = key;
			k->hhead[j].first = i;
		}
		k->nhkey = n;
	}
	return k->hkey;
}

/* part_hdr_next() for the top-level headers; with x's cache, only the
 * headers whose key is name's are compared. */
const struct msg_header *saeval_hdr_next(const struct saeval_ctx *x,
                                         const char *name, size_t *pos)
{
	const uint32_t *keys = hdr_keys(x);
	if (keys == NULL)
		return part_hdr_next(x->m, 0, name, pos);
	uint32_t want = hdr_key(name);
	const struct saeval_cache *k = x->cache;
	size_t n = k->nhkey, i = SIZE_MAX;
	bool chain = true;
	if (*pos == 0) {   /* the chain of headers with this key */
		size_t j = want & (k->nhhead - 1);
		while (k->hhead[j].key != HDR_KEY_NONE && k->hhead[j].key != want)
			j = (j + 1) & (k->nhhead - 1);
		if (k->hhead[j].key == want)
			i = k->hhead[j].first;
	} else if (*pos <= n && keys[*pos - 1] == want) {
		i = k->hnext[*pos - 1];   /* after the last one found */
	} else {
		chain = false;
	}
	for (; chain && i != SIZE_MAX; i = k->hnext[i]) {
		const struct msg_header *h = msg_header_at(x->m, i);
		if (strcasecmp(h->name.ptr, name) == 0) {
			*pos = i + 1;
			return h;
		}
	}
	if (chain) {
		*pos = n;
		return NULL;
	}
	while (*pos < n) {   /* a position no chain leads to: look on */
		i = (*pos)++;
		if (keys[i] != want)
			continue;
		const struct msg_header *h = msg_header_at(x->m, i);
		if (strcasecmp(h->name.ptr, name) == 0)
			return h;
	}
	return NULL;
}

/* msg_header_get(m, name, 0) */
const struct msg_header *saeval_hdr_first(const struct saeval_ctx *x,
                                          const char *name)
{
	size_t pos = 0;
	return saeval_hdr_next(x, name, &pos);
}

/* SpamAssassin's $pms->get('Name'): every top-level instance, values
 * unfolded as it unfolds them (msg_header_sa_value()), joined by "\n".
 * raw: undecoded. Returns whether any existed. */
bool saeval_get_header(const struct saeval_ctx *x, const char *name, bool raw,
                       struct strbuf *b)
{
	bool any = false;
	for (size_t pos = 0;;) {
		const struct msg_header *h = saeval_hdr_next(x, name, &pos);
		if (h == NULL)
			break;
		if (any)
			strbuf_put(b, "\n", 1);
		msg_header_sa_value(b, h, raw, false);
		if (!b->oom)
			b->len--;   /* its final "\n": the values are joined */
		any = true;
	}
	return any;
}

/* The first address of h onto b; false when h lists none. */
static bool put_first_addr(const struct msg_header *h, struct strbuf *b)
{
	struct strbuf list = { 0 };
	saeval_header_addrs(&list, h, true, SAEVAL_ADDR);
	bool any = list.len > 0;
	if (list.oom)
		b->oom = true;
	else if (any)
		strbuf_put(b, list.p, (size_t)((char *)memchr(list.p, '\n',
		                                              list.len) - list.p));
	free(list.p);
	return any;
}

/* First address of the first header called name with one, as
 * SpamAssassin's Name:addr in scalar context; "" if none. */
void saeval_get_first_addr(const struct saeval_ctx *x, const char *name,
                           struct strbuf *b)
{
	for (size_t pos = 0;;) {
		const struct msg_header *h = saeval_hdr_next(x, name, &pos);
		if (h == NULL || put_first_addr(h, b))
			return;
	}
}

/* Does the lower-case s[0..n) match the lower-case pattern p ('*' any
 * run, '?' any one byte, nothing else special)? */
bool saeval_glob_match(const char *p, const char *s, size_t n)
{
	const char *star = NULL;
	size_t i = 0, mark = 0;
	while (i < n) {
		if (*p == '*') {
			star = p++;
			mark = i;
		} else if (*p != '\0' && (*p == '?' || *p == s[i])) {
			p++;
			i++;
		} else if (star != NULL) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int saeval_globs_add(struct saeval_globs *g, const char *words)
{
	for (const char *p = words; *p != '\0';) {
		while (isspace((unsigned char)*p))
			p++;
		size_t len = 0;
		while (p[len] != '\0' && !isspace((unsigned char)p[len]))
			len++;
		if (len > 0 && saeval_push_lower(&g->pat, &g->n, &g->cap, p,
		                                 len) != 0)
			return -1;
		p += len;
	}
	return 0;
}

bool saeval_globs_match(const struct saeval_globs *g, const char *s,
                        size_t n)
{
	char low[320];
	if (g == NULL || n >= sizeof low)
		return false;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	for (size_t k = 0; k < g->n; k++)
		if (saeval_glob_match(g->pat[k], low, n))
			return true;
	return false;
}

int saeval_globs_build(const struct ruleset *rs, saeval_globs_line *line,
                       const void *ctx, struct saeval_globs **out)
{
	struct saeval_globs *g = calloc(1, sizeof *g);
	if (g == NULL)
		return -1;
	for (size_t i = 0; i < ruleset_setting_count(rs); i++) {
		const char *key, *val;
		if (ruleset_setting_at(rs, i, &key, &val) &&
		    line(g, key, val, ctx) != 0) {
			saeval_globs_free(g);
			return -1;
		}
	}
	*out = g;
	return 0;
}

void saeval_globs_free(struct saeval_globs *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->pat[i]);
	free(g->pat);
	free(g);
}

bool saeval_grow(void **v, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, nc * elem);
	if (nv == NULL)
		return false;
	*v = nv;
	*cap = nc;
	return true;
}

char *saeval_lower_dup(const char *s, size_t len)
{
	char *d = malloc(len + 1);
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[len] = '\0';
	return d;
}

int saeval_push_lower(char ***v, size_t *n, size_t *cap, const char *s,
                      size_t len)
{
	if (!saeval_grow((void **)v, *n, cap, sizeof **v))
		return -1;
	char *d = saeval_lower_dup(s, len);
	if (d == NULL)
		return -1;
	(*v)[(*n)++] = d;
	return 0;
}

int saeval_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool saeval_in_sorted(char *const *v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof *v, saeval_cmp_str) != NULL;
}

/* ---- regular expressions (SpamAssassin's, run by PCRE2) ---- */

/* FreeMail.pm's e-mail address (group 1): at most 64 characters before
 * the '@', up to 4 labels, then a top-level domain SpamAssassin knows.
 * Its "(?=.{0,64}\@)" is written "[^@\n]{0,64}+@" (the first '@' is
 * within 64 characters when any is; '.' is not '\n'), without
 * backtracking, and after the one-character look-behind, which rejects
 * most starts first.
 * Its list of TLDs is an alternation; here any last label matches and
 * callout 1 (fm_callout) refuses the ones uri_is_tld() does not
 * know, which fails the match at that point as the alternation would. */
#define FM_LOCAL "[a-z0-9!#$%&'*+/=?^_`{|}~-]"
#define FM_EMAIL "(?<!" FM_LOCAL ")(?=[^@\\n]{0,64}+@)(" FM_LOCAL "+(?:\\." \
                 FM_LOCAL "+)*@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?" \
                 "\\.){1,4}[a-z0-9-]+(?![a-z0-9-]|\\.[a-z0-9])(?C1))"

/* SpamAssassin's IP_ADDRESS, simplified: IPv4, or an IPv6 form */
#define IPADDR "(?:\\b(?<!:)" IPV4 "\\b|(?:[0-9a-fA-F]{0,4}:){2,7}" \
               "[0-9a-fA-F]{0,4})"
#define IPV4 "(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}" \
             "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"

/* The address lists of SpamAssassin's get(":addr"/":name")
 * (sa_hdraddr.c): a quoted string; an address (quoted or plain local
 * part, '@', a domain or an address literal); a phrase of quoted strings
 * and runs of anything but '"', ',', ';' and '<'. */
#define HA_QUOTED "\"(?:[^\"\\\\]++|\\\\.)*+\""
#define HA_MAIL "(?:" HA_QUOTED "|[^@\\s<>()\\[\\],:;]+)@" \
                "(?:[^\"\\s<>()\\[\\],:;]+|\\[[\\d:.]+\\])"
#define HA_PHRASE "(?:" HA_QUOTED "|[^\",;<]++)+"

static const struct {
	const char *pat;
	uint32_t opts;
} re_src[RE_COUNT] = {
	[RE_MSGID_OE] = { "^<[0-9a-f]{4}([0-9a-f]{8})\\$[0-9a-f]{8}\\$"
	                  "[0-9a-f]{8}@", 0 },
	[RE_RCVD_DATE] = { "(\\s.?\\d+ \\S\\S\\S \\d+ \\d+:\\d+:\\d+ \\S+)", 0 },
	[RE_RCVD_LOCAL] = { "\\bfrom (?:localhost\\s|(?:\\S+ ){1,2}\\S*"
	                    "\\b127\\.0\\.0\\.1\\b)|qmail \\d+ invoked by uid "
	                    "\\d+", 0 },
	[RE_RCVD_FETCHMAIL] = { "\\bby localhost with \\w+ "
	                        "\\(fetchmail-[\\d.]+", 0 },
	[RE_D_DMY4] = { " (\\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
	                "Nov|Dec) (\\d{4}) ", PCRE2_CASELESS },
	[RE_D_MDTY] = { " (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +"
	                "(\\d+) \\d+:\\d+:\\d+ (\\d{4}) ", PCRE2_CASELESS },
	[RE_D_DMY2] = { " (\\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
	                "Nov|Dec) (\\d{2,3}) ", PCRE2_CASELESS },
	[RE_D_TIME] = { " (\\d?\\d):(\\d\\d)(:(\\d\\d))? ", 0 },
	[RE_D_TZNUM] = { " ([-+]\\d{4}) ", 0 },
	[RE_D_TZNAME] = { "\\b([A-Z]{2,4}(?:-DST)?)\\b", 0 },
	[RE_LAST2] = { "^.+\\.([^.]+\\.[^.]+)$", 0 },
	/* HTML.pm's html_tests: a <font face> that is a list of font
	 * names ("Tahoma", Verdana, sans-serif) */
	[RE_FONT_FACE] = { "^\\s*[\"'.]?[a-z ][a-z -]*[a-z]\\d?[\"']?(?:,"
	                   "\\s*[\"']?[a-z][a-z -]*[a-z]\\d?[\"']?)*;?$",
	                   PCRE2_CASELESS },
	[RE_SUBJ_PREFIX] = { "^(?:(?:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):"
	                     "\\s*)+", PCRE2_CASELESS },
	[RE_CAPS_CHARSET] = { "=\\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|"
	                      "cp1251|windows-1251|georgianps|pt154|tis)"
	                      "[-_a-z0-9]*\\?", PCRE2_CASELESS },
	[RE_AOL_RLY] = { " rly-[a-z][a-z]\\d\\d\\.", PCRE2_CASELESS },
	[RE_AOL_OK1] = { "/AOL-\\d+\\.\\d+\\.\\d+\\)", 0 },
	[RE_AOL_OK2] = { "ESMTP id (?:RELAY|MAILRELAY|MAILIN)", 0 },
	[RE_YAHOO_FROM] = { "\\byahoo\\.com$", PCRE2_CASELESS },
	[RE_EZMLM_LIST] = { "^contact \\S+@\\S+; run by ezmlm$",
	                    PCRE2_MULTILINE },
	[RE_EZMLM_DLTO] = { "^mailing list \\S+@\\S+", PCRE2_MULTILINE },
	[RE_EZMLM_RCVD] = { "qmail \\d+ invoked (?:from network|by .{3,20})\\);"
	                    " \\d+ ... \\d+", 0 },
	[RE_MSN] = { "from groups\\.msn\\.com \\(\\S+\\.msn\\.com ", 0 },
	[RE_Y1] = { "by web\\S+\\.mail\\S*\\.yahoo\\.com via HTTP", 0 },
	[RE_Y2] = { "by sonic\\S+\\.consmr\\.mail\\S*\\.yahoo\\.com with HTTP",
	            0 },
	[RE_Y3] = { "by smtp\\S+\\.yahoo\\.com with SMTP", 0 },
	[RE_Y4] = { "from \\[" IPV4 "\\] by \\S+\\.(?:groups|scd|dcn)\\.yahoo"
	            "\\.com with NNFMP", 0 },
	[RE_Y5] = { "\\bmailer\\d+\\.bulk\\.scd\\.yahoo\\.com\\b", 0 },
	[RE_Y6] = { "@reply\\.yahoo\\.com$", PCRE2_CASELESS },
	[RE_Y7] = { "by \\w+\\.\\w+\\.yahoo\\.com \\(\\d+\\.\\d+\\.\\d+/\\d+"
	            "\\.\\d+\\.\\d+\\)(?: with ESMTP)? id \\w+", 0 },
	[RE_ASCII_CHARSET] = { "(?:us-ascii|ansi_x3\\.4-1968|iso-ir-6|"
	                       "ansi_x3\\.4-1986|iso_646\\.irv:1991|ascii|"
	                       "iso646-us|us|ibm367|cp367|csascii)", 0 },
	[RE_BAD_ISO1] = { "iso-\\S+-\\S+\\b", PCRE2_CASELESS },
	[RE_BAD_ISO2] = { "iso-(?:8859-\\d{1,2}|2022-(?:jp|kr))\\b", 0 },
	[RE_CAPS_CHARSET_ALL] = { "^[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|"
	                          "cp1251|windows-1251|georgianps|pt154|tis)"
	                          "[-_a-z0-9]*$", PCRE2_CASELESS },
	[RE_IPADDR] = { IPADDR, 0 },
	[RE_HM_PICKUP] = { "from mail pickup service by hotmail\\.com with "
	                   "Microsoft SMTPSVC;", 0 },
	[RE_HM_MSN_TO] = { "<(\\S+)@groups\\.msn\\.com>", PCRE2_CASELESS },
	[RE_HM_MSN_RCVD] = { "from mail pickup service by ((?:p\\d\\d\\.)"
	                     "groups\\.msn\\.com)\\b", 0 },
	[RE_HM_ORIG] = { "hotmail\\.com|msonline\\-outlook", 0 },
	[RE_HM_OK1] = { "from (?:\\S*\\.)?hotmail.com \\(\\S+\\.hotmail"
	                "(?:\\.msn)?\\.com[ \\)]", 0 },
	[RE_HM_OK2] = { "from \\S*\\.outbound\\.protection\\.outlook\\.com "
	                "\\(\\S+\\.outbound\\.protection\\.outlook\\.com[ \\)]",
	                0 },
	[RE_HM_OK3] = { "from \\S*\\.(?:eur|nam)prd\\d+\\.prod\\.outlook\\.com "
	                "\\(" IPADDR "\\)", 0 },
	[RE_HM_OK4] = { "from \\S*\\.hotmail.com \\(\\[" IPADDR "\\][ \\):]",
	                0 },
	[RE_HM_OK5] = { "from \\S+ by \\S+\\.hotmail(?:\\.msn)?\\.com with "
	                "HTTP;", 0 },
	[RE_HM_OK6] = { "from \\[66\\.218.\\S+\\] by \\S+\\.yahoo\\.com", 0 },
	[RE_HM_HELO] = { "(?:from |HELO |helo=)\\S*hotmail\\.com\\b", 0 },
	[RE_EUDORA] = { "by \\S*whowhere.com;", 0 },
	[RE_JUNO1] = { "from.*\\b(?:juno|untd)\\.com.*[\\[\\(]" IPADDR
	               "[\\]\\)].*by", 0 },
	[RE_JUNO2] = { " cookie\\.(?:juno|untd)\\.com ", 0 },
	[RE_JUNO3] = { "from.*\\bmail\\.com.*\\[" IPADDR "\\].*by", 0 },
	[RE_JUNO3X] = { "\\bmail\\.com", 0 },
	[RE_JUNO4] = { "from (webmail\\S+\\.untd\\.com) \\(\\1 \\[" IPADDR
	               "\\]\\) by", 0 },
	[RE_JUNO4X] = { "^Webmail Version \\d", 0 },
	[RE_GM1] = { "by 10\\.\\S+ with SMTP id \\S+", 0 },
	[RE_GM2] = { "by 2002:a\\d\\d:\\w+:\\S+ with SMTP id \\S+", 0 },
	[RE_GM3] = { "by smtp\\.googlemail\\.com with ESMTPSA id \\S+", 0 },
	/* FreeMail.pm's default welcomelist and bulk envelope senders */
	[RE_FM_WELCOME] = { "^(?:abuse|support|sales|info|helpdesk|contact|"
	                    "kontakt|(?:post|host|domain)master|undisclosed.*|"
	                    "request-[a-f0-9]{16}|bounced?-|[a-f0-9]{8}"
	                    "(?:\\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-"
	                    "[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)@",
	                    PCRE2_CASELESS },
	[RE_DOTCOM_HELO] = { "(?:\\.|^)(?:lycos\\.com|lycos\\.co\\.uk|hotmail\\.com"
	                     "|localhost\\.com|excite\\.com|caramail\\.com"
	                     "|cs\\.com|aol\\.com|msn\\.com|yahoo\\.com"
	                     "|drizzle\\.com)$", PCRE2_CASELESS },
	[RE_FM_BULK_ENV] = { "(?:^(?:post|host|domain)master|^double-bounce|"
	                     "^(?:sentto|owner|return|(?:gr)?bounced?)-.+|"
	                     "-(?:request|bounces?|admin|owner)|"
	                     "\\b(?:do[._-t]?)?no[._-t]?repl(?:y|ies)|.+=.+)@",
	                     PCRE2_CASELESS },
	/* FreeMail.pm's body address and what _parse_body blanks out
	 * before looking for it: URLs with an address inside, and
	 * addresses in <> or before a "wrote:"-like word */
	[RE_FM_EMAIL] = { "(?C2)" FM_EMAIL, PCRE2_CASELESS },
	[RE_FM_STRIP_URL] = { "<?https?://\\S{0,255}(?:@|%40)\\S{0,255}",
	                      PCRE2_CASELESS },
	[RE_FM_STRIP_QUOTED] = { "(?C2)<?(?<!mailto:)" FM_EMAIL "(?:>|\\s{1,10}"
	                         "(?!(?:fa(?:x|csi)|tel|phone|e?-?mail))"
	                         "[a-z]{2,11}:)", PCRE2_CASELESS },
	/* get()'s address lists: a group's name (through its last ':', and
	 * the rest after an immediate ';'); one entry at the start of the
	 * text: [phrase] <address> (more <...> after it ignored), a bare
	 * address, or a phrase alone, then an optional comment and ',', ';'
	 * or the end; a whole address; a comment; a phrase's quoted or plain
	 * run; an address in <> */
	[RE_HA_GROUP] = { "^[^\"()<>]+:\\s*(?:;.*)?", PCRE2_DOTALL },
	[RE_HA_ENTRY] = { "^\\s*(?:(?:(" HA_PHRASE ")\\s*)?<\\s*([^>@]*\\S+|\\s*)"
	                  "\\s*>(?:\\s*<\\s*(?:(?:" HA_QUOTED ")?\\S+|\\s*)\\s*>)*"
	                  "|(" HA_MAIL ")|(" HA_PHRASE "))"
	                  "(?:\\s*\\(((?:[^()\\\\]++|\\\\.)*+)\\))?\\s*(?:[,;]|\\z)",
	                  PCRE2_CASELESS | PCRE2_DOTALL },
	[RE_HA_MAIL_ALL] = { "^" HA_MAIL "$", PCRE2_CASELESS },
	[RE_HA_COMMENT] = { "\\((?:[^()\\\\]++|\\\\.)*+\\)", PCRE2_DOTALL },
	[RE_HA_PHRASE] = { "\"((?:[^\"\\\\]++|\\\\.)*+)\"|([^\"]++)",
	                   PCRE2_DOTALL },
	[RE_HA_ANGLE] = { "<(" HA_MAIL ")>", PCRE2_CASELESS },
	/* all_to_addrs: the recipient a Received line names */
	[RE_RCVD_FOR] = { " for <?(\\S+@(\\S+?))>?;", 0 },
	/* check_stock_info: a "Label: value" line, and the labels it
	 * counts (BodyEval.pm; the label lower-cased, letters only; ^ binds
	 * the first alternative only, $ all) */
	[RE_STOCK_LINE] = { "^\\s*([^:\\s][^:\\n]{2,29})\\s*:\\s*\\S",
	                    PCRE2_MULTILINE },
	[RE_STOCK_WORD] = { "(^trad(?:e|ing)date|company(?:name)?|"
	                    "s\\w?(?:t\\w?o\\w?c\\w?k|y\\w?m(?:\\w?b\\w?o\\w?l)?)|"
	                    "t(?:arget|icker)|(?:opening|current)p(?:rice)?|"
	                    "p(?:rojected|osition)|expectations|weeks?high|"
	                    "marketperformance|"
	                    "(?:year|week|month|day|price)(?:target|estimates?)|"
	                    "sector|r(?:ecommendation|ating))$", 0 },
	/* check_for_faraway_charset_in_headers: an encoded word's charset
	 * (HeaderEval.pm; '.' stops at a folding) */
	[RE_ENCWORD_CHARSET] = { "=\\?(.+?)\\?.\\?.*?\\?=", 0 },
};

static pcre2_code *re_code[RE_COUNT];
static pthread_once_t re_once = PTHREAD_ONCE_INIT;
static bool re_ok;

static pthread_key_t md_key;

static void md_free(void *p)
{
	pcre2_match_data_free(p);
}

static void re_init(void)
{
	if (pthread_key_create(&md_key, md_free) != 0)
		return;
	for (size_t i = 0; i < RE_COUNT; i++) {
		int err;
		PCRE2_SIZE off;
		re_code[i] = pcre2_compile((PCRE2_SPTR)re_src[i].pat,
		                           PCRE2_ZERO_TERMINATED, re_src[i].opts,
		                           &err, &off, NULL);
		if (re_code[i] == NULL)
			return;
		(void)pcre2_jit_compile(re_code[i], PCRE2_JIT_COMPLETE);
	}
	re_ok = true;
}

/* Match regex id on s[0..len); group offsets into ov[0..2*nov) when
 * ov is given (unset groups: PCRE2_UNSET). */
bool saeval_re_find(enum re_id id, const char *s, size_t len, size_t *ov,
                    size_t nov)
{
	return saeval_re_find_at(id, s, len, 0, ov, nov);
}

bool saeval_re_find_at(enum re_id id, const char *s, size_t len,
                       size_t start, size_t *ov, size_t nov)
{
	if (!re_ok || s == NULL)
		return false;
	/* one match data per thread, freed when the thread exits */
	pcre2_match_data *md = pthread_getspecific(md_key);
	if (md == NULL) {
		md = pcre2_match_data_create(10, NULL);
		if (md == NULL || pthread_setspecific(md_key, md) != 0) {
			pcre2_match_data_free(md);
			return false;
		}
	}
	int rc = pcre2_match(re_code[id], (PCRE2_SPTR)s, len, start, 0, md,
	                     NULL);
	if (rc > 0 && ov != NULL) {
		PCRE2_SIZE *v = pcre2_get_ovector_pointer(md);
		uint32_t have = pcre2_get_ovector_count(md);
		for (size_t i = 0; i < nov; i++)
			ov[i] = i < 2 * (size_t)have ? v[i] : PCRE2_UNSET;
	}
	return rc > 0;
}

bool saeval_re_str(enum re_id id, const char *s)
{
	return s != NULL && saeval_re_find(id, s, strlen(s), NULL, 0);
}

void saeval_re_init(void)
{
	pthread_once(&re_once, re_init);
}

/* For FreeMail's own matches (saeval_int.h). */
bool saeval_re_ok(void)
{
	return re_ok;
}

const pcre2_code *saeval_re_code(enum re_id id)
{
	return re_ok ? re_code[id] : NULL;
}

/* ---- Message-Id ---- */

static bool ev_outlook_message_id(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)c;
	static const char *const ids[] = { "X-Message-Id", "Resent-Message-Id",
		"X-Original-Message-Id", "Message-Id" };
	struct strbuf b = { 0 };
	for (size_t k = 0; k < 4; k++) {
		if (b.len)
			strbuf_put(&b, "\n", 1);
		saeval_get_header(x, ids[k], false, &b);
	}
	size_t ov[4];
	bool hit = false;
	if (b.oom || !saeval_re_find(RE_MSGID_OE, b.p, b.len, ov, 4))
		goto out;
	double token = (double)strtoull(b.p + ov[2], NULL, 16);
	const double fx = 0.0023283064365387, fy = 27111902.8329849;
	b.len = 0;
	saeval_get_header(x, "Date", false, &b);
	int64_t t = 0;
	if (b.oom || !saeval_parse_date(saeval_buf_str(&b), b.len, &t))
		t = 0;
	if (fabs(token - trunc((double)t * fx + fy)) < 250)
		goto out;
	b.len = 0;
	saeval_get_header(x, "Received", false, &b);
	if (b.oom || !saeval_parse_date(saeval_buf_str(&b), b.len, &t))
		t = 0;
	hit = fabs(token - trunc((double)t * fx + fy)) >= 250;
out:
	free(b.p);
	return hit;
}

/* ---- From and envelope ---- */

/* The part after the last '@' ("" if none), cut to its last two labels
 * as SpamAssassin's check_equal_from_domains does. */
static void second_level(const char *addr, struct strbuf *b)
{
	const char *at = strrchr(addr, '@');
	if (at == NULL)
		return;
	const char *d = at + 1;
	size_t ov[4];
	if (saeval_re_find(RE_LAST2, d, strlen(d), ov, 4))
		strbuf_put(b, d + ov[2], ov[3] - ov[2]);
	else
		strbuf_put(b, d, strlen(d));
}

/* SpamAssassin's ($pms->get("Name:first:addr"))[0]: the first address
 * of the first header called name (none: nothing put). False when there
 * is no such header. */
static bool plain_first_addr(const struct saeval_ctx *x, const char *name,
                             struct strbuf *b)
{
	const struct msg_header *h = saeval_hdr_first(x, name);
	if (h == NULL)
		return false;
	put_first_addr(h, b);
	return true;
}

/* The message's relays: those x's caller keeps, or built for this call
 * into *own, which the caller frees. NULL when they cannot be had. */
const struct relays *saeval_get_relays(const struct saeval_ctx *x,
                                       struct relays **own)
{
	*own = NULL;
	if (x->relays != NULL)
		return x->relays(x->relays_arg);
	return relays_build_trust(x->m, x->trust, own) == 0 ? *own : NULL;
}

/* SpamAssassin's get_envelope_from without envelope_sender_header: the
 * envfrom of the last untrusted relay (else the first trusted one), else,
 * unless X-Sender and a fetchmail Received say it is fetchmail's guess,
 * X-Envelope-From, Envelope-Sender or Return-Path when no Received:
 * line precedes it. Puts the address in b; false when there is none. */
static bool sa_envelope_from(const struct saeval_ctx *x, struct strbuf *b)
{
	const struct msg *m = x->m;
	struct relays *own;
	const struct relays *r = saeval_get_relays(x, &own);
	if (r == NULL)
		return false;
	const struct relays_relay *hop = relays_at(r, RELAYS_UNTRUSTED, 0);
	size_t nt = relays_num(r, RELAYS_TRUSTED);
	if (hop == NULL && nt > 0)
		hop = relays_at(r, RELAYS_TRUSTED, nt - 1);
	if (hop != NULL && hop->envfrom_set) {
		const char *at = strchr(hop->envfrom, '@');
		if (hop->envfrom[0] == '\0' || (at != NULL && at > hop->envfrom)) {
			strbuf_put(b, hop->envfrom, strlen(hop->envfrom));
			relays_free(own);
			return true;
		}
	}
	relays_free(own);
	plain_first_addr(x, "X-Sender", b);
	bool xs = b->len > 0 && memchr(b->p, '@', b->len) != NULL;
	b->len = 0;
	for (size_t pos = 0; xs;) {
		const struct msg_header *h = saeval_hdr_next(x, "Received",
		                                             &pos);
		if (h == NULL)
			break;
		if (memmem(h->value.ptr, h->value.len, "(fetchmail", 10) != NULL)
			return false;
	}
	if (plain_first_addr(x, "X-Envelope-From", b) && b->len > 0)
		return !msg_header_below_received(m, "X-Envelope-From");
	b->len = 0;
	static const char *const hdrs[] = { "Envelope-Sender", "Return-Path" };
	for (size_t i = 0; i < 2; i++) {
		plain_first_addr(x, hdrs[i], b);
		if (b->len > 0 && !msg_header_below_received(m, hdrs[i]))
			return true;
		b->len = 0;
	}
	return false;
}

bool saeval_envelope_from(const struct saeval_ctx *x, struct strbuf *b)
{
	if (x->env_from != NULL && x->env_from[0] != '\0') {
		strbuf_put(b, x->env_from, strlen(x->env_from));
		return true;
	}
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return sa_envelope_from(x, b);
	if (!k->env_done) {
		k->env_done = true;
		k->env_ok = sa_envelope_from(x, &k->env);
	}
	if (k->env.oom)
		b->oom = true;
	else if (k->env_ok)
		strbuf_put(b, k->env.p != NULL ? k->env.p : "", k->env.len);
	return k->env_ok;
}

static bool ev_equal_from_domains(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf from = { 0 }, env = { 0 }, fd = { 0 }, ed = { 0 };
	saeval_get_first_addr(x, "From", &from);
	bool hit = false;
	const char *f = saeval_buf_str(&from);
	if (f != NULL && saeval_envelope_from(x, &env) &&
	    saeval_buf_str(&env)) {
		second_level(f, &fd);
		second_level(saeval_buf_str(&env), &ed);
		const char *a = saeval_buf_str(&fd), *e = saeval_buf_str(&ed);
		hit = a != NULL && e != NULL && a[0] && e[0] &&
		      strcasecmp(a, e) != 0;
	}
	free(from.p);
	free(env.p);
	free(fd.p);
	free(ed.p);
	return hit;
}

/* The id a bulk mailer puts in Message-Id: "<", 28 upper-case letters,
 * ".", then at least one byte up to the first ">" (its span in *id);
 * the first such in s. */
static bool ratware_id(const char *s, size_t n, const char **id,
                       size_t *idn)
{
	for (const char *p = s, *end = s + n;
	     (p = memchr(p, '<', (size_t)(end - p))) != NULL; p++) {
		size_t k = 1;
		while (k <= 28 && p + k < end && p[k] >= 'A' && p[k] <= 'Z')
			k++;
		if (k != 29 || p + 29 >= end || p[29] != '.')
			continue;
		const char *gt = memchr(p + 30, '>', (size_t)(end - p - 30));
		if (gt != NULL && gt > p + 30) {
			*id = p + 30;
			*idn = (size_t)(gt - *id);
			return true;
		}
	}
	return false;
}

/* check_ratware_name_id(): the id of such a Message-Id (any of the
 * MESSAGEID headers) is From's address, after a quoted display name:
 * "Name" <id>. */
static bool ev_ratware_name_id(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	(void)c;
	static const char *const names[] = { "X-Message-Id",
		"Resent-Message-Id", "X-Original-Message-ID", "Message-Id" };
	struct strbuf mid = { 0 }, from = { 0 };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (saeval_get_header(x, names[i], false, &mid))
			strbuf_put(&mid, "\n", 1);
	saeval_get_header(x, "From", false, &from);
	const char *id, *f = saeval_buf_str(&from);
	size_t idn;
	bool hit = false;
	if (f != NULL && mid.len > 0 && !mid.oom &&
	    ratware_id(mid.p, mid.len, &id, &idn)) {
		for (const char *q = f; !hit && (q = strchr(q, '<')) != NULL; q++) {
			if (strncmp(q + 1, id, idn) != 0 || q[1 + idn] != '>')
				continue;
			const char *e = q;   /* back over blanks to the quote */
			while (e > f && isspace((unsigned char)e[-1]))
				e--;
			if (e == f || e[-1] != '"')
				continue;
			const char *open = e - 1;
			while (open > f && open[-1] != '"')
				open--;
			hit = open > f && open < e - 1;
		}
	}
	free(mid.p);
	free(from.p);
	return hit;
}

/* check_for_matching_env_and_hdr_from(): EnvelopeFrom's address
 * (saeval_envelope_from()) equals From's first one, case aside; two empty ones match,
 * as in HeaderEval.pm. */
static bool ev_env_and_hdr_from(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf from = { 0 }, env = { 0 };
	saeval_get_first_addr(x, "From", &from);
	saeval_envelope_from(x, &env);
	const char *f = saeval_buf_str(&from), *e = saeval_buf_str(&env);
	bool hit = f != NULL && e != NULL && strcasecmp(f, e) == 0;
	free(from.p);
	free(env.p);
	return hit;
}

/* ---- Subject ---- */

/* ---- check_for_to_in_subject ---- */

/* Does s[at..n) start with t[0..tl) (ASCII case folded unless exact)? */
static bool has_at(const char *s, size_t n, size_t at, const char *t,
                   size_t tl, bool exact)
{
	if (at > n || n - at < tl)
		return false;
	return exact ? memcmp(s + at, t, tl) == 0 :
	               strncasecmp(s + at, t, tl) == 0;
}

bool saeval_is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

bool saeval_word_boundary(const char *s, size_t n, size_t i)
{
	bool before = i > 0 && i <= n && saeval_is_word(s[i - 1]);
	bool after = i < n && saeval_is_word(s[i]);
	return before != after;
}

static bool is_subj_punct(char ch)
{
	return ch != '\0' && strchr(",:;!?-", ch) != NULL;
}

/* Perl's /\bT\b/i: t[0..tl) in s[0..n) between word boundaries. */
static bool word_in(const char *s, size_t n, const char *t, size_t tl)
{
	for (size_t i = 0; tl > 0 && i + tl <= n; i++) {
		if (has_at(s, n, i, t, tl, false) &&
		    saeval_word_boundary(s, n, i) &&
		    saeval_word_boundary(s, n, i + tl))
			return true;
	}
	return false;
}

/* HeaderEval's pattern for 'user', over the Subject s[0..n) and the
 * local part t (Perl's \w and \s, ASCII; '$' the end):
 * (re|fw): [word ]T$, or T exactly then a punctuation mark and a blank
 * or the end, or T$, or ", T" then a punctuation mark at the end. */
static bool localpart_in_subject(const char *s, size_t n, const char *t,
                                 size_t tl)
{
	if (n >= 3 && (strncasecmp(s, "re:", 3) == 0 ||
	               strncasecmp(s, "fw:", 3) == 0)) {
		size_t q = 3;
		while (q < n && isspace((unsigned char)s[q]))
			q++;
		if (q + tl == n && has_at(s, n, q, t, tl, false))
			return true;
		size_t w = q;
		while (w < n && saeval_is_word(s[w]))
			w++;
		size_t sp = w;
		while (sp < n && isspace((unsigned char)s[sp]))
			sp++;
		if (w > q && sp > w && sp + tl == n &&
		    has_at(s, n, sp, t, tl, false))
			return true;
	}
	if (has_at(s, n, 0, t, tl, true)) {
		size_t q = tl;
		while (q < n && isspace((unsigned char)s[q]))
			q++;
		if (q < n && is_subj_punct(s[q]) &&
		    (q + 1 == n || isspace((unsigned char)s[q + 1])))
			return true;
	}
	if (tl == n && has_at(s, n, 0, t, tl, false))
		return true;
	if (n > 0 && s[0] == ',') {
		size_t q = 1;
		while (q < n && isspace((unsigned char)s[q]))
			q++;
		return q + tl + 1 == n && has_at(s, n, q, t, tl, false) &&
		       is_subj_punct(s[n - 1]);
	}
	return false;
}

static bool ok_to_in_subject(const struct saeval_call *c)
{
	return c->nargs >= 1 && (strcmp(c->args[0], "user") == 0 ||
	                         strcmp(c->args[0], "address") == 0);
}

/* check_for_to_in_subject('user'): the local part of the first To
 * address stands alone in the Subject (sextortion mail addresses its
 * victim so: "john: your password"); 'address': the whole address is a
 * word of it. */
static bool ev_to_in_subject(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct strbuf to = { 0 }, subj = { 0 };
	saeval_get_first_addr(x, "To", &to);
	saeval_get_header(x, "Subject", false, &subj);
	const char *t = saeval_buf_str(&to), *s = saeval_buf_str(&subj);
	bool hit = false;
	if (t != NULL && to.len > 0 && !subj.oom) {
		if (s == NULL)
			s = "";
		if (strcmp(c->args[0], "user") == 0) {
			const char *at = memchr(t, '@', to.len);
			hit = localpart_in_subject(s, subj.len, t,
			                           at ? (size_t)(at - t) : to.len);
		} else {
			hit = word_in(s, subj.len, t, to.len);
		}
	}
	free(to.p);
	free(subj.p);
	return hit;
}

static bool ev_subject_all_caps(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf b = { 0 }, raw = { 0 };
	saeval_get_header(x, "Subject", false, &b);
	saeval_get_header(x, "Subject", true, &raw);
	bool hit = false;
	const char *s = saeval_buf_str(&b);
	if (s == NULL || saeval_buf_str(&raw) == NULL)
		goto out;
	size_t len = b.len;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	size_t ov[2];
	if (saeval_re_find(RE_SUBJ_PREFIX, s, len, ov, 2)) {
		s += ov[1];
		len -= ov[1];
	}
	bool space = false;
	for (size_t i = 0; i < len; i++)
		space |= isspace((unsigned char)s[i]) != 0;
	if (!space || len < 10)
		goto out;
	if (saeval_re_find(RE_CAPS_CHARSET, raw.p, raw.len, NULL, 0))
		goto out;
	size_t letters = 0, lower = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		letters += (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
		lower += ch >= 'a' && ch <= 'z';
	}
	hit = letters > 0 && lower == 0;
out:
	free(b.p);
	free(raw.p);
	return hit;
}

/* ---- recipients ---- */

#define TOCC_SIMILAR_COUNT 5

/* saeval_push_addrs(), of the first header name only when first. */
static void push_addrs(const struct saeval_ctx *x, const char *name,
                       bool first, struct strbuf *list, size_t *count)
{
	for (size_t pos = 0, k = 0; !first || k < 1; k++) {
		const struct msg_header *h = saeval_hdr_next(x, name, &pos);
		if (h == NULL)
			return;
		size_t from = list->len;
		saeval_header_addrs(list, h, true, SAEVAL_ADDR);
		if (list->oom)
			return;
		/* "a\nb\n" -> "a\0b\0": NUL separated */
		for (size_t i = from; i < list->len; i++) {
			if (list->p[i] == '\n') {
				list->p[i] = '\0';
				(*count)++;
			}
		}
	}
}

void saeval_push_addrs(const struct saeval_ctx *x, const char *name,
                       struct strbuf *list, size_t *count)
{
	push_addrs(x, name, false, list, count);
}

void saeval_push_first_addrs(const struct saeval_ctx *x, const char *name,
                             struct strbuf *list, size_t *count)
{
	push_addrs(x, name, true, list, count);
}

/* The recipients as SpamAssassin's _check_recipients() lists them: the
 * addresses of To and Cc, and of Bcc when those are fewer than
 * TOCC_SIMILAR_COUNT, an address equal (case aside) to the one before it
 * dropped, at most 256. *addr (malloc'ed) points into list; NULL when
 * out of memory. */
static const char **tocc_addresses(const struct saeval_ctx *x,
                                   struct strbuf *list, size_t *n)
{
	size_t count = 0;
	saeval_push_addrs(x, "To", list, &count);
	saeval_push_addrs(x, "Cc", list, &count);
	if (count < TOCC_SIMILAR_COUNT)
		saeval_push_addrs(x, "Bcc", list, &count);
	const char **addr = calloc(count ? count : 1, sizeof *addr);
	if (list->oom || addr == NULL) {
		free(addr);
		return NULL;
	}
	*n = 0;
	const char *p = list->p;
	for (size_t i = 0; i < count && *n < 256; i++, p += strlen(p) + 1)
		if (*n == 0 || strcasecmp(p, addr[*n - 1]) != 0)
			addr[(*n)++] = p;
	return addr;
}

/* Share of address pairs with the same first two bytes of user part or
 * of (different) host names: SpamAssassin's tocc_similar. */
static double tocc_similar(const struct saeval_ctx *x)
{
	struct strbuf list = { 0 };
	size_t n = 0;
	double r = 0;
	const char **addr = tocc_addresses(x, &list, &n);
	if (addr == NULL || n < TOCC_SIMILAR_COUNT)
		goto out;
	/* hosts: only addresses with an '@' (Perl's map shifts the rest) */
	const char **host = calloc(n, sizeof *host);
	if (host == NULL)
		goto out;
	size_t nh = 0;
	for (size_t i = 0; i < n; i++) {
		const char *at = strchr(addr[i], '@');
		if (at != NULL)
			host[nh++] = at + 1;
	}
	size_t hits = 0, comb = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			hits += strncmp(addr[i], addr[j], 2) == 0;
			const char *hi = i < nh ? host[i] : "";
			const char *hj = j < nh ? host[j] : "";
			hits += strncmp(hi, hj, 2) == 0 && strcmp(hi, hj) != 0;
			comb++;
		}
	}
	r = (double)hits / (double)comb;
	free(host);
out:
	free(addr);
	free(list.p);
	return r;
}

static bool ev_similar_recipients(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	double s = tocc_similar(x);
	return (c->nargs < 1 || c->undef[0] || s >= c->num[0]) &&
	       (c->nargs < 2 || c->undef[1] || s < c->num[1]);
}

/* sorted_recipients(): at least TOCC_SORTED_COUNT recipients, already in
 * (byte) order: SpamAssassin's tocc_sorted. */
#define TOCC_SORTED_COUNT 7
static bool ev_sorted_recipients(const struct saeval_call *c,
                                 const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf list = { 0 };
	size_t n = 0;
	const char **addr = tocc_addresses(x, &list, &n);
	bool sorted = addr != NULL && n >= TOCC_SORTED_COUNT;
	for (size_t i = 1; sorted && i < n; i++)
		sorted = strcmp(addr[i - 1], addr[i]) <= 0;
	free(addr);
	free(list.p);
	return sorted;
}

/* ---- body (BodyEval) ---- */

/* tvd_vertical_words(min, max): the largest share of spaces over
 * non-spaces (percent, 100 when spaces outnumber the rest) of a body
 * paragraph longer than 5 bytes is >= min and < max (max >= 100
 * counts as 101). -1 when no paragraph is long enough. */
/* Spaces in s[0..n), eight bytes at a time. */
static size_t count_spaces(const char *s, size_t n)
{
	size_t sp = 0, k = 0;
	for (; k + 8 <= n; k += 8) {
		/* spaces: 0 */
		uint64_t x = saeval_load8(s + k) ^ (ONES8 * ' ');
		/* high bit of each byte set when that byte is not 0 (exact:
		 * no carry leaves a byte) */
		uint64_t nz = (((x & ~HIGH8) + ~HIGH8) | x) & HIGH8;
		sp += 8 - saeval_high_bits8(nz);
	}
	for (; k < n; k++)
		sp += s[k] == ' ';
	return sp;
}

static bool ev_tvd_vertical_words(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	double lo = c->num[0], hi = c->num[1];
	if (hi >= 100)
		hi = 101;
	long best = -1;
	for (size_t i = 0; i < saeval_body_count(x); i++) {
		struct msg_text t = saeval_body_at(x, i);
		size_t l = t.len, sp = 0; /* SpamAssassin 4: UTF-8 octets */
		if (l <= 5)
			continue;
		sp = count_spaces(t.ptr, t.len);
		size_t non = l - sp;
		long pct = sp > non || non == 0 ? 100 : (long)(100 * sp / non);
		if (pct > best)
			best = pct;
	}
	return (double)best >= lo && (double)best < hi;
}

/* The distinct stock-trading labels ("Ticker:", "Target price:") of the
 * first text/plain part's text, as BodyEval.pm's _check_stock_info()
 * counts them: per piece of the text (msg_sa_piece_len()), each "Label:
 * value" line's label, lower-cased and cut to its letters, matched
 * against its list; the distinct matched texts. */
static double stock_info(const struct saeval_ctx *x)
{
	const struct msg_part *p = NULL;
	for (size_t i = 0; i < msg_part_count(x->m) && p == NULL; i++) {
		const struct msg_part *q = msg_part_at(x->m, i);
		if (q->type.len == 10 && memcmp(q->type.ptr, "text/plain", 10) == 0)
			p = q;
	}
	if (p == NULL)
		return 0;
	char seen[64][32], word[32];   /* the distinct matches, each < 31 */
	size_t nseen = 0;
	const char *s = p->rendered.ptr;
	for (size_t ofs = 0, plen; ofs < p->rendered.len; ofs += plen) {
		plen = msg_sa_piece_len(s, p->rendered.len, ofs);
		size_t ov[4], at = 0, w;
		while (nseen < 64 && saeval_re_find_at(RE_STOCK_LINE, s + ofs,
		                                       plen, at, ov, 4)) {
			at = ov[1];
			w = 0;
			for (size_t k = ov[2]; k < ov[3]; k++) {
				char c = (char)tolower((unsigned char)s[ofs + k]);
				if (c >= 'a' && c <= 'z')
					word[w++] = c;
			}
			if (!saeval_re_find(RE_STOCK_WORD, word, w, ov, 4))
				continue;
			size_t n = ov[3] - ov[2], k = 0;
			while (k < nseen && !(strlen(seen[k]) == n &&
			                      memcmp(seen[k], word + ov[2], n) == 0))
				k++;
			if (k == nseen) {
				memcpy(seen[nseen], word + ov[2], n);
				seen[nseen++][n] = '\0';
			}
		}
	}
	return (double)nseen;
}

/* check_for_faraway_charset_in_headers(): an encoded word of a From or
 * Subject field (as received) names a charset the site's locales do not
 * accept (HeaderEval.pm). */
static bool ev_faraway_headers(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	static const char *const names[] = { "From", "Subject" };
	struct strbuf b = { 0 };
	bool hit = false;
	for (size_t k = 0; c->loc != NULL && k < 2 && !hit; k++) {
		const struct msg_header *h;
		for (size_t pos = 0; !hit &&
		     (h = saeval_hdr_next(x, names[k], &pos)) != NULL;) {
			b.len = 0;
			msg_header_sa_value(&b, h, true, false);
			size_t ov[4], at = 0;
			while (!b.oom && !hit &&
			       saeval_re_find_at(RE_ENCWORD_CHARSET, b.p, b.len,
			                         at, ov, 4)) {
				at = ov[1];
				hit = !saeval_charset_ok(c->loc, b.p + ov[2],
				                         ov[3] - ov[2]);
			}
		}
	}
	free(b.p);
	return hit;
}

/* check_stock_info(MIN): MIN 0, or at least MIN distinct labels. */
static bool ev_stock_info(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	return c->num[0] == 0 ||
	       saeval_cached_fact(x, FACT_STOCK, stock_info) >= c->num[0];
}

/* check_body_length(N): the body as received (line ends counted as one
 * byte, as SpamAssassin reads a message) is at most N bytes. */
static bool ev_body_length(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	struct msg_text b = msg_raw_body(x->m);
	size_t n = b.len;
	const char *p = b.ptr, *end = b.ptr + b.len;
	while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		if (++p < end && *p == '\n')
			n--;
	}
	return (double)n <= c->num[0];
}

/* check_blank_line_ratio(min, max, minlines): the share (percent) of
 * blank lines (no non-blank byte) among the lines of the decoded body
 * text (the raw body pieces), -1 below minlines lines; true when
 * min < share <= max (or share <= max with min 0), as BodyEval.pm. */
static bool ev_blank_line_ratio(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	double minlines = c->num[2] < 1 ? 1 : c->num[2];
	size_t lines = 0, blank = 0;
	for (size_t i = 0; i < msg_rawbody_count(x->m); i++) {
		struct msg_text t = msg_rawbody_at(x->m, i);
		bool any = false;   /* the line so far has a non-blank byte */
		for (size_t k = 0; k < t.len; k++) {
			any |= !isspace((unsigned char)t.ptr[k]);
			if (t.ptr[k] == '\n' || k + 1 == t.len) {
				lines++;
				blank += !any;
				any = false;
			}
		}
	}
	double r = (double)lines < minlines ? -1 :
	           100.0 * (double)blank / (double)lines;
	return (c->num[0] == 0 && r <= c->num[1]) ||
	       (r > c->num[0] && r <= c->num[1]);
}

/* ---- more HeaderEval ---- */

/* check_header_count_range(name, min, max): the message's headers of
 * that name hold between min and max distinct values (HeaderEval.pm). */
static bool ev_header_count_range(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	struct strbuf all = { 0 };   /* the distinct values, one after another */
	size_t *end = NULL, cap = 0, distinct = 0;
	for (size_t pos = 0;;) {
		const struct msg_header *h = saeval_hdr_next(x, c->args[0], &pos);
		if (h == NULL || !saeval_grow((void **)&end, distinct, &cap,
		                              sizeof *end))
			break;
		size_t start = all.len;
		msg_header_sa_value(&all, h, false, false);
		if (all.oom)
			break;
		size_t n = all.len - start;
		bool dup = false;
		for (size_t k = 0, from = 0; !dup && k < distinct;
		     from = end[k++])
			dup = end[k] - from == n &&
			      memcmp(all.p + from, all.p + start, n) == 0;
		if (dup)
			all.len = start;
		else
			end[distinct++] = all.len;
	}
	free(all.p);
	free(end);
	return (double)distinct >= c->num[1] && (double)distinct <= c->num[2];
}

/* What check_illegal_chars counts in a header's text. */
struct ic_count {
	size_t n, high, ctl, exempt, nonascii;
	bool blank_only;
};

static void ic_feed(struct ic_count *k, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	k->n += n;
	for (size_t i = 0; i < n; i++) {
		/* eight printable bytes: nothing to count; blank only if all
		 * are spaces */
		while (i + 8 <= n) {
			uint64_t w = saeval_load8(text + i);
			if ((w & HIGH8) ||
			    saeval_in_range8(w, 0x20, 0x7e) != HIGH8)
				break;
			k->blank_only &= w == ONES8 * ' ';
			i += 8;
		}
		if (i == n)
			break;
		unsigned char ch = s[i];
		if (ch >= 0x20 && ch < 0x7f) {   /* printable: only ' ' blank */
			k->blank_only &= ch == ' ';
			continue;
		}
		k->high += ch >= 0x7f;
		k->nonascii += ch >= 0x80;
		k->ctl += ch <= 0x08 || ch == 0x0b || ch == 0x0c ||
		          (ch >= 0x0e && ch <= 0x1f);
		k->exempt += ch == 0xa2 || ch == 0xa3 || ch == 0xae;
		k->blank_only &= isspace(ch) != 0;
	}
}

/* The text check_illegal_chars looks at: the header's instances joined
 * by "\n" (ALL: the header block, CRs left out), fed to f piece by
 * piece. */
static void ic_text(const struct saeval_ctx *x, const char *hname, bool all,
                    void (*f)(void *, const char *, size_t), void *arg)
{
	const struct msg *m = x->m;
	if (!all) {
		bool first = true;
		for (size_t pos = 0;;) {
			const struct msg_header *h = saeval_hdr_next(x, hname,
			                                             &pos);
			if (h == NULL)
				return;
			if (!first)
				f(arg, "\n", 1);
			f(arg, h->value.ptr, h->value.len);
			first = false;
		}
	}
	for (size_t i = 0; i < msg_header_count(m); i++) {
		const struct msg_header *h = msg_header_at(m, i);
		f(arg, h->name.ptr, h->name.len);
		f(arg, ":", 1);
		const char *p = h->raw.ptr, *end = p + h->raw.len;
		while (p < end) {   /* without its CRs */
			const char *cr = memchr(p, '\r', (size_t)(end - p));
			const char *stop = cr != NULL ? cr : end;
			f(arg, p, (size_t)(stop - p));
			p = stop + (cr != NULL);
		}
		f(arg, "\n", 1);
	}
}

static void ic_count_piece(void *arg, const char *s, size_t n)
{
	ic_feed(arg, s, n);
}

static void ic_buf_piece(void *arg, const char *s, size_t n)
{
	strbuf_put(arg, s, n);
}

/* check_illegal_chars(HEADER, RATIO, COUNT): raw 8-bit and control
 * bytes in a header (ALL: the whole header block). Counted as the text
 * goes by; the text is put together only when its UTF-8 must be
 * checked (8-bit bytes, no control ones). */
static bool ev_illegal_chars(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	const char *name = c->args[0];
	size_t nl = strlen(name);
	char hname[128];
	if (nl > 4 && strcmp(name + nl - 4, ":raw") == 0)
		nl -= 4;
	if (nl > sizeof hname - 1)
		nl = sizeof hname - 1;
	memcpy(hname, name, nl);
	hname[nl] = '\0';
	bool all = strcmp(hname, "ALL") == 0;
	struct ic_count k = { .blank_only = true };
	ic_text(x, hname, all, ic_count_piece, &k);
	if (k.n == 0 || k.blank_only)
		return false;
	if (k.nonascii && k.ctl == 0) {
		struct strbuf b = { 0 };
		ic_text(x, hname, all, ic_buf_piece, &b);
		const char *s = saeval_buf_str(&b);
		bool utf8 = s != NULL && utf8_valid(s, b.len);
		free(b.p);
		if (s == NULL || utf8)
			return false;   /* UTF-8 (SMTPUTF8) is not illegal */
	}
	size_t illegal = k.high + k.ctl;
	if (illegal > 0 && strcasecmp(hname, "Subject") == 0 && k.exempt == 1)
		illegal--;
	return (double)illegal / (double)k.n >= c->num[1] &&
	       (double)illegal >= c->num[2];
}

/* A line of get('ALL') that shows a template a mass mailer did not fill
 * in ("%RND_NUMBER"): '%', an upper-case letter, then one of [A-Z_-];
 * not in the headers where such text is legitimate. */
static bool template_line(const char *s, size_t n)
{
	static const char *const exempt[] = {
		"X-VMS-To", "X-UIDL", "X-Face", "To", "Cc", "From", "Subject",
		"References", "In-Reply-To", "Message-Id", "X-Message-Id",
		"Resent-Message-Id", "X-Original-Message-Id",
	};
	bool found = false;
	for (size_t i = 0; i + 2 < n && !found; i++)
		found = s[i] == '%' && isupper((unsigned char)s[i + 1]) &&
		        (isupper((unsigned char)s[i + 2]) || s[i + 2] == '_' ||
		         s[i + 2] == '-');
	const char *colon = memchr(s, ':', n);
	for (size_t i = 0; found && colon != NULL &&
	                   i < sizeof exempt / sizeof exempt[0]; i++)
		if (strlen(exempt[i]) == (size_t)(colon - s) &&
		    strncasecmp(s, exempt[i], (size_t)(colon - s)) == 0)
			return false;
	return found;
}

/* check_unresolved_template(): some line of the headers ("Name: value",
 * decoded and unfolded, as get('ALL') gives them) is a template_line(). */
static bool ev_unresolved_template(const struct saeval_call *c,
                                   const struct saeval_ctx *x)
{
	(void)c;
	const struct msg *m = x->m;
	struct strbuf b = { 0 };
	bool hit = false;
	for (size_t i = 0; i < msg_header_count(m) && !hit; i++) {
		const struct msg_header *h = msg_header_at(m, i);
		if (memchr(h->decoded.ptr, '%', h->decoded.len) == NULL &&
		    memchr(h->name.ptr, '%', h->name.len) == NULL)
			continue;   /* no '%': no template (most headers) */
		b.len = 0;
		strbuf_put(&b, h->name.ptr, h->name.len);
		strbuf_put(&b, ": ", 2);
		strbuf_put(&b, h->decoded.ptr, h->decoded.len);
		if (b.oom)
			break;
		/* a value decoded to several lines makes several lines */
		for (size_t s = 0, e; s < b.len && !hit; s = e + 1) {
			const char *nl = memchr(b.p + s, '\n', b.len - s);
			e = nl ? (size_t)(nl - b.p) : b.len;
			hit = template_line(b.p + s, e - s);
		}
	}
	free(b.p);
	return hit;
}

static bool ev_missing_to(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	(void)c;
	/* an empty To: counts as present (SpamAssassin's get() keeps its
	 * line end) */
	struct strbuf b = { 0 };
	bool any = saeval_get_header(x, "To", false, &b) ||
	           saeval_get_header(x, "Apparently-To", false, &b);
	free(b.p);
	return !any;
}

/* ---- the table ---- */

/* Argument checks of several functions (a family's own checks are
 * in its file). Arguments beyond those a function reads are ignored,
 * as the Perl functions ignore them (audit22 L6). */
static bool ok_three_args(const struct saeval_call *c)
{
	return c->nargs >= 3;
}

static bool ok_two_args(const struct saeval_call *c)
{
	return c->nargs >= 2;
}

static bool ok_one_arg(const struct saeval_call *c)
{
	return c->nargs >= 1 && c->args[0][0] != '\0';
}

/* ok: are the arguments ones the function implements? (NULL: any) */
static const struct {
	const char *name;
	saeval_fn *fn;
	const char *plugin;
	saeval_ok *ok;
} fns[] = {
	{ "check_outlook_message_id", ev_outlook_message_id, "HeaderEval", NULL },
	{ "check_for_shifted_date", saeval_ev_shifted_date, "HeaderEval",
	  NULL },
	{ "check_equal_from_domains", ev_equal_from_domains, "HeaderEval", NULL },
	{ "subject_is_all_caps", ev_subject_all_caps, "HeaderEval", NULL },
	{ "check_for_to_in_subject", ev_to_in_subject, "HeaderEval",
	  ok_to_in_subject },
	{ "check_ratware_envelope_from", saeval_ev_ratware_envelope_from,
	  "HeaderEval", NULL },
	{ "similar_recipients", ev_similar_recipients, "HeaderEval", NULL },
	{ "sorted_recipients", ev_sorted_recipients, "HeaderEval", NULL },
	{ "check_for_fake_aol_relay_in_rcvd", saeval_ev_fake_aol_relay,
	  "HeaderEval", NULL },
	{ "check_for_forged_yahoo_received_headers",
	  saeval_ev_forged_yahoo_rcvd, "HeaderEval", NULL },
	{ "check_illegal_chars", ev_illegal_chars, "HeaderEval",
	  ok_three_args },
	{ "check_for_missing_to_header", ev_missing_to, "HeaderEval", NULL },
	{ "check_header_count_range", ev_header_count_range, "HeaderEval",
	  ok_three_args },
	{ "check_unresolved_template", ev_unresolved_template, "HeaderEval",
	  NULL },
	{ "check_for_matching_env_and_hdr_from", ev_env_and_hdr_from,
	  "HeaderEval", NULL },
	{ "check_ratware_name_id", ev_ratware_name_id, "HeaderEval", NULL },
	{ "gated_through_received_hdr_remover", saeval_ev_gated_rcvd_remover,
	  "HeaderEval", NULL },
	{ "check_for_forged_hotmail_received_headers", saeval_ev_forged_hotmail,
	  "HeaderEval", NULL },
	{ "check_for_no_hotmail_received_headers", saeval_ev_no_hotmail,
	  "HeaderEval", NULL },
	{ "check_for_forged_eudoramail_received_headers",
	  saeval_ev_forged_eudoramail, "HeaderEval", NULL },
	{ "check_for_forged_juno_received_headers", saeval_ev_forged_juno,
	  "HeaderEval", NULL },
	{ "check_for_forged_gmail_received_headers", saeval_ev_forged_gmail,
	  "HeaderEval", NULL },
	{ "check_for_mime_html", saeval_ev_mime_html, "MIMEEval", NULL },
	{ "check_for_mime_html_only", saeval_ev_mime_html_only, "MIMEEval",
	  NULL },
	{ "check_for_mime", saeval_ev_mime, "MIMEEval", saeval_ok_mime },
	{ "check_ma_non_text", saeval_ev_ma_non_text, "MIMEEval", NULL },
	{ "check_mime_multipart_ratio", saeval_ev_mime_multipart_ratio,
	  "MIMEEval", ok_two_args },
	{ "check_msg_parse_flags", saeval_ev_parse_flags, "MIMEEval",
	  saeval_ok_parse_flags },
	{ "check_for_uppercase", saeval_ev_uppercase, "MIMEEval", ok_two_args },
	{ "check_for_ascii_text_illegal", saeval_ev_ascii_text_illegal,
	  "MIMEEval", NULL },
	{ "check_base64_length", saeval_ev_base64_length, "MIMEEval",
	  saeval_ok_base64_length },
	{ "check_abundant_unicode_ratio", saeval_ev_unicode_ratio, "MIMEEval",
	  saeval_ok_unicode_ratio },
	{ "image_count", saeval_ev_image_count, "ImageInfo",
	  saeval_ok_image_count },
	{ "pixel_coverage", saeval_ev_pixel_coverage, "ImageInfo",
	  saeval_ok_image_count },
	{ "image_to_text_ratio", saeval_ev_image_text_ratio, "ImageInfo",
	  saeval_ok_image_count },
	{ "image_size_exact", saeval_ev_image_size_exact, "ImageInfo",
	  saeval_ok_image_size_exact },
	{ "image_size_range", saeval_ev_image_size_range, "ImageInfo",
	  saeval_ok_image_size_range },
	{ "html_test", saeval_ev_html_test, "HTMLEval", saeval_ok_html_test },
	{ "html_tag_exists", saeval_ev_html_tag_exists, "HTMLEval",
	  ok_one_arg },
	{ "html_image_only", saeval_ev_html_image_only, "HTMLEval",
	  ok_two_args },
	{ "html_range", saeval_ev_html_range, "HTMLEval",
	  saeval_ok_html_range },
	{ "html_eval", saeval_ev_html_eval, "HTMLEval", saeval_ok_html_eval },
	{ "html_text_match", saeval_ev_html_text_match, "HTMLEval",
	  saeval_ok_html_text_match },
	{ "html_tag_balance", saeval_ev_html_tag_balance, "HTMLEval",
	  saeval_ok_html_tag_balance },
	{ "html_title_subject_ratio", saeval_ev_html_title_subject,
	  "HTMLEval", ok_one_arg },
	{ "html_image_ratio", saeval_ev_html_image_ratio, "HTMLEval",
	  ok_two_args },
	{ "check_iframe_src", saeval_ev_iframe_src, "HTMLEval", NULL },
	{ "check_https_http_mismatch", saeval_ev_https_mismatch,
	  "HTTPSMismatch", NULL },
	{ "check_https_ip_mismatch", saeval_ev_https_ip_mismatch, "URIEval",
	  NULL },
	{ "check_uri_truncated", saeval_ev_uri_truncated, "URIEval", NULL },
	{ "check_body_length", ev_body_length, "BodyEval", ok_one_arg },
	/* MIN missing or "" is 0 to Perl: every message (audit24 L5) */
	{ "check_stock_info", ev_stock_info, "BodyEval", NULL },
	{ "check_for_faraway_charset", saeval_ev_faraway_charset, "MIMEEval",
	  NULL },
	{ "check_for_faraway_charset_in_headers", ev_faraway_headers,
	  "HeaderEval", NULL },
	{ "html_charset_faraway", saeval_ev_html_charset_faraway, "HTMLEval",
	  NULL },
	{ "check_blank_line_ratio", ev_blank_line_ratio, "BodyEval",
	  ok_two_args },
	{ "multipart_alternative_difference", saeval_ev_mpart_alt_diff,
	  "BodyEval", ok_two_args },
	{ "multipart_alternative_difference_count",
	  saeval_ev_mpart_alt_diff_count, "BodyEval", ok_two_args },
	{ "tvd_vertical_words", ev_tvd_vertical_words, "BodyEval",
	  ok_two_args },
	{ "check_all_trusted", saeval_ev_all_trusted, "RelayEval", NULL },
	{ "check_no_relays", saeval_ev_no_relays, "RelayEval", NULL },
	{ "check_relays_unparseable", saeval_ev_relays_unparseable,
	  "RelayEval", NULL },
	{ "helo_ip_mismatch", saeval_ev_helo_ip_mismatch, "RelayEval", NULL },
	{ "check_for_forged_received_trail", saeval_ev_forged_rcvd_trail,
	  "RelayEval", NULL },
	{ "check_for_no_rdns_dotcom_helo", saeval_ev_no_rdns_dotcom_helo,
	  "RelayEval", NULL },
	{ "check_freemail_from", saeval_ev_freemail_from, "FreeMail", NULL },
	{ "check_freemail_header", saeval_ev_freemail_header, "FreeMail",
	  saeval_ok_freemail_header },
	{ "check_freemail_replyto", saeval_ev_freemail_replyto, "FreeMail",
	  saeval_ok_freemail_replyto },
	{ "check_freemail_body", saeval_ev_freemail_body, "FreeMail", NULL },
	{ "check_subject_in_welcomelist", saeval_ev_subject_in_list,
	  "WelcomeListSubject", NULL },
	{ "check_subject_in_whitelist", saeval_ev_subject_in_list,
	  "WelcomeListSubject", NULL },
	{ "check_subject_in_blocklist", saeval_ev_subject_in_list,
	  "WelcomeListSubject", NULL },
	{ "check_subject_in_blacklist", saeval_ev_subject_in_list,
	  "WelcomeListSubject", NULL },
	{ "check_from_in_list", saeval_ev_from_in_list, "WLBLEval", ok_one_arg },
	{ "check_from_in_welcomelist", saeval_ev_wlbl,
	  "WLBLEval", NULL },
	{ "check_from_in_whitelist", saeval_ev_wlbl,
	  "WLBLEval", NULL },
	{ "check_from_in_default_welcomelist",
	  saeval_ev_wlbl, "WLBLEval", NULL },
	{ "check_from_in_default_whitelist",
	  saeval_ev_wlbl, "WLBLEval", NULL },
	{ "check_forged_in_welcomelist", saeval_ev_wlbl,
	  "WLBLEval", NULL },
	{ "check_forged_in_whitelist", saeval_ev_wlbl,
	  "WLBLEval", NULL },
	{ "check_forged_in_default_welcomelist",
	  saeval_ev_wlbl, "WLBLEval", NULL },
	{ "check_forged_in_default_whitelist",
	  saeval_ev_wlbl, "WLBLEval", NULL },
	{ "check_from_in_blocklist", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_from_in_blacklist", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_to_in_welcomelist", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_to_in_whitelist", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_to_in_blocklist", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_to_in_blacklist", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_to_in_more_spam", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_to_in_all_spam", saeval_ev_wlbl, "WLBLEval",
	  NULL },
	{ "check_replyto_in_list", saeval_ev_replyto_in_list, "WLBLEval",
	  ok_one_arg },
	{ "have_any_bounce_relays", saeval_ev_have_bounce_relays, "VBounce",
	  NULL },
	{ "check_welcomelist_bounce_relays", saeval_ev_bounce_relays,
	  "VBounce", NULL },
	{ "check_whitelist_bounce_relays", saeval_ev_bounce_relays,
	  "VBounce", NULL },
	{ "check_uri_host_listed", saeval_ev_uri_host_listed, "WLBLEval",
	  NULL },
	{ "check_mailfrom_matches_rcvd", saeval_ev_mailfrom_matches_rcvd,
	  "WLBLEval", NULL },
	{ "check_uri_host_in_blocklist", saeval_ev_uri_host_listed,
	  "WLBLEval", NULL },
	{ "check_uri_host_in_blacklist", saeval_ev_uri_host_listed,
	  "WLBLEval", NULL },
	{ "check_uri_host_in_welcomelist", saeval_ev_uri_host_listed,
	  "WLBLEval", NULL },
	{ "check_uri_host_in_whitelist", saeval_ev_uri_host_listed,
	  "WLBLEval", NULL },
};
#define NFNS (sizeof fns / sizeof fns[0])

static size_t fn_index(const char *name, size_t len)
{
	for (size_t i = 0; i < NFNS; i++)
		if (strlen(fns[i].name) == len &&
		    memcmp(fns[i].name, name, len) == 0)
			return i;
	return SIZE_MAX;
}

/* The functions SpamAssassin 4.0.1's plugins register for body lines
 * (register_eval_rule(..., TYPE_BODY_EVALS)), and those registered with
 * no type (RelayEval, URIEval's, VBounce's, WLBLEval's URI and
 * check_msg_parse_flags, whose type name does not exist); the others
 * are registered for header lines. */
static const char *const body_fns[] = {
	"check_abundant_unicode_ratio", "check_base64_length",
	"check_blank_line_ratio", "check_body_length",
	"check_for_ascii_text_illegal", "check_for_faraway_charset",
	"check_for_mime", "check_for_mime_html",
	"check_for_mime_html_only", "check_for_uppercase",
	"check_https_http_mismatch", "check_iframe_src", "check_ma_non_text",
	"check_mime_multipart_ratio", "check_stock_info", "html_eval",
	"html_image_only",
	"html_charset_faraway", "html_image_ratio", "html_range",
	"html_tag_balance", "html_tag_exists",
	"html_test", "html_text_match", "html_title_subject_ratio",
	"image_count", "image_size_exact", "image_size_range",
	"image_to_text_ratio", "multipart_alternative_difference",
	"multipart_alternative_difference_count", "pixel_coverage",
	"tvd_vertical_words",
};
static const char *const any_line_fns[] = {
	"check_all_trusted", "check_for_forged_received_trail",
	"check_for_no_rdns_dotcom_helo", "check_https_ip_mismatch",
	"check_no_relays", "check_relays_unparseable",
	"check_uri_host_in_blacklist", "check_uri_host_in_blocklist",
	"check_uri_host_in_welcomelist", "check_uri_host_in_whitelist",
	"check_uri_truncated", "check_welcomelist_bounce_relays",
	"check_whitelist_bounce_relays", "have_any_bounce_relays",
	"helo_ip_mismatch", "check_msg_parse_flags",
};

static bool in_list(const char *const *list, size_t n, const char *name,
                    size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
			return true;
	return false;
}

const char *saeval_line_type(const char *eval)
{
	if (eval == NULL)
		return NULL;
	while (isspace((unsigned char)*eval))
		eval++;
	size_t len = 0;
	while (isalnum((unsigned char)eval[len]) || eval[len] == '_')
		len++;
	if (fn_index(eval, len) == SIZE_MAX ||
	    in_list(any_line_fns, sizeof any_line_fns / sizeof *any_line_fns,
	            eval, len))
		return NULL;
	return in_list(body_fns, sizeof body_fns / sizeof *body_fns, eval,
	               len) ? "body" : "header";
}

bool saeval_implements(const char *fname)
{
	return fname != NULL && fn_index(fname, strlen(fname)) != SIZE_MAX;
}

size_t saeval_function_count(void)
{
	return NFNS;
}

const char *saeval_function_at(size_t i)
{
	return i < NFNS ? fns[i].name : NULL;
}

const char *saeval_function_plugin(size_t i)
{
	return i < NFNS ? fns[i].plugin : NULL;
}

bool saeval_plugin(const char *name)
{
	static const char prefix[] = "Mail::SpamAssassin::Plugin::";
	if (name == NULL || strncmp(name, prefix, sizeof prefix - 1) != 0)
		return false;
	for (size_t i = 0; i < NFNS; i++)
		if (strcmp(fns[i].plugin, name + sizeof prefix - 1) == 0)
			return true;
	return false;
}

/* The optional regex argument, compiled as SpamAssassin's
 * compile_regexp would (no delimiters: the text is the pattern). */
int saeval_arg_regex(struct saeval_call *c, size_t arg)
{
	if (c->nargs <= arg)
		return 0;
	int err;
	PCRE2_SIZE off;
	c->re = pcre2_compile((PCRE2_SPTR)c->args[arg], PCRE2_ZERO_TERMINATED,
	                      0, &err, &off, NULL);
	return c->re != NULL ? 0 : 1;
}

/* String a as Perl numifies it: as atof() reads it, but a C hex number
 * ("0x10", "0X1P4") is its leading 0 (audit24 L4). */
static double perl_num(const char *a)
{
	const char *p = a + strspn(a, " \t\n\r\f\v");
	p += *p == '+' || *p == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return 0;
	return atof(a);
}

/* An argument that is 'undef' or a number. */
static bool arg_undef(const char *a)
{
	return a == NULL || strcmp(a, "undef") == 0;
}

/* Arguments as SpamAssassin's pack_eval_args() reads them (the rule
 * loader refused a list it cannot read to its end). */
static int parse_args(const char *p, const char *end, struct saeval_call *c)
{
	size_t pos = 0, n;
	const char *a;
	int rc;
	while ((rc = ruleset_eval_arg(p, (size_t)(end - p), &pos, &a, &n)) == 1) {
		if (c->nargs == MAX_ARGS)
			continue;   /* more than any function reads */
		char *s = malloc(n + 1);
		if (s == NULL)
			return -1;
		memcpy(s, a, n);
		s[n] = '\0';
		c->args[c->nargs++] = s;
	}
	return rc == 0 ? 0 : 1;
}

int saeval_compile(const char *eval, struct saeval_call **out)
{
	return saeval_compile_rs(eval, NULL, out);
}

int saeval_compile_rs(const char *eval, const struct ruleset *rs,
                      struct saeval_call **out)
{
	*out = NULL;
	saeval_re_init();
	if (eval == NULL || !re_ok)
		return 1;
	while (isspace((unsigned char)*eval))
		eval++;
	const char *open = strchr(eval, '(');
	const char *close = open ? strrchr(open, ')') : NULL;
	if (open == NULL || close == NULL)
		return 1;
	const char *e = open;
	while (e > eval && isspace((unsigned char)e[-1]))
		e--;
	size_t fn = fn_index(eval, (size_t)(e - eval));
	if (fn == SIZE_MAX)
		return 1;
	struct saeval_call *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->fn = fn;
	int rc = parse_args(open + 1, close, c);
	for (size_t i = 0; rc == 0 && i < c->nargs; i++) {
		/* the numbers once here, not at every call */
		c->num[i] = perl_num(c->args[i]);
		c->undef[i] = arg_undef(c->args[i]);
	}
	if (rc == 0 && c->nargs >= 2)
		c->html_op = saeval_html_eval_op(c->args[1], &c->html_n);
	if (rc == 0 && fns[fn].ok != NULL && !fns[fn].ok(c))
		rc = 1;
	if (rc == 0 && strcmp(fns[fn].plugin, "FreeMail") == 0) {
		/* the domain lists come from the rule files */
		if (rs == NULL)
			rc = 1;
		else if (saeval_fm_build(rs, &c->fm) != 0)
			rc = -1;
		else if (fns[fn].fn != saeval_ev_freemail_replyto) {
			char *colon = fns[fn].fn == saeval_ev_freemail_header ?
			              strchr(c->args[0], ':') : NULL;
			if (colon != NULL)
				*colon = '\0';   /* "H:addr" is H */
			bool hdr = fns[fn].fn == saeval_ev_freemail_header;
			rc = saeval_arg_regex(c, hdr ? 1 : 0);
		}
	}
	if (rc == 0 && fns[fn].fn == saeval_ev_html_text_match &&
	    strcmp(c->args[0], "anchor") != 0)
		rc = saeval_arg_regex(c, 1);   /* comments, titles */
	if (rc == 0 && (fns[fn].fn == saeval_ev_mailfrom_matches_rcvd ||
	                fns[fn].fn == saeval_ev_ratware_envelope_from ||
	                fns[fn].fn == saeval_ev_https_mismatch))
		rc = rs == NULL ? 1 : saeval_regdom_build(rs, &c->rd);
	if (rc == 0 && (fns[fn].fn == saeval_ev_from_in_list ||
	                fns[fn].fn == saeval_ev_replyto_in_list))
		rc = rs == NULL ? 1 : saeval_addrlist_build(rs, c->args[0], &c->al);
	if (rc == 0 && (fns[fn].fn == saeval_ev_faraway_charset ||
	                fns[fn].fn == ev_faraway_headers ||
	                (fns[fn].fn == saeval_ev_mime &&
	                 strcmp(c->args[0], "mime_faraway_charset") == 0)))
		rc = rs == NULL ? 1 : saeval_locales_build(rs, &c->loc);
	if (rc == 0 && fns[fn].fn == saeval_ev_wlbl)
		rc = rs == NULL ? 1 : saeval_wlbl_build(rs, fns[fn].name, &c->wl);
	if (rc == 0 && fns[fn].fn == saeval_ev_subject_in_list)
		rc = rs == NULL ? 1 : saeval_subject_list_build(rs, fns[fn].name,
		                                                &c->al);
	if (rc == 0 && (fns[fn].fn == saeval_ev_have_bounce_relays ||
	                fns[fn].fn == saeval_ev_bounce_relays))
		rc = rs == NULL ? 1 : saeval_bounce_build(rs, &c->br);
	if (rc == 0 && fns[fn].fn == saeval_ev_uri_host_listed) {
		/* the lists come from the rule files */
		if (rs == NULL)
			rc = 1;
		else if (saeval_urilist_build(rs, saeval_urilist_name(c,
		                              fns[fn].name), &c->ul) != 0)
			rc = -1;
	}
	if (rc != 0) {
		saeval_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void saeval_set_rawbody(struct saeval_call *c, bool raw)
{
	if (c != NULL)
		c->rawbody = raw;
}

void saeval_free(struct saeval_call *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nargs; i++)
		free(c->args[i]);
	saeval_fm_release(c->fm);
	saeval_urilist_free(c->ul);
	saeval_regdom_free(c->rd);
	saeval_globs_free(c->br);
	saeval_globs_free(c->al);
	saeval_wlbl_free(c->wl);
	saeval_locales_free(c->loc);
	pcre2_code_free(c->re);
	free(c);
}

bool saeval_edits_body(const struct saeval_call *c)
{
	return c != NULL && (fns[c->fn].fn == saeval_ev_freemail_replyto ||
	                     fns[c->fn].fn == saeval_ev_freemail_body);
}

void saeval_edit_body(const struct saeval_call *c, struct saeval_ctx *x)
{
	if (saeval_edits_body(c) && x->m != NULL)
		saeval_fm_edit_body(c, x,
		                    fns[c->fn].fn == saeval_ev_freemail_body);
}

bool saeval_run(const struct saeval_call *c, const struct saeval_ctx *ctx)
{
	if (c == NULL || ctx == NULL || ctx->m == NULL)
		return false;
	return fns[c->fn].fn(c, ctx);
}
