/*
 * saeval.c — SpamAssassin eval: functions in C (see saeval.h).
 *
 * Each function is written from the documented behaviour of SpamAssassin
 * 4.0.1's Perl (HeaderEval.pm, MIMEEval.pm, HTMLEval.pm, BodyEval.pm,
 * Util.pm's parse_rfc822_date); the regular expressions SpamAssassin uses
 * are run with PCRE2 (same syntax), compiled once per process.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "saeval.h"

#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "html.h"
#include "msg.h"
#include "relays.h"
#include "ruleset.h"
#include "strbuf.h"
#include "uri.h"
#include "utf8.h"

#define MAX_ARGS 8

struct freemail;

struct saeval_call {
	size_t fn;              /* index into fns[] */
	size_t nargs;
	char *args[MAX_ARGS];   /* quotes removed */
	double num[MAX_ARGS];   /* atof(args[i]), worked out once */
	bool undef[MAX_ARGS];   /* args[i] is "undef" */
	int html_op;            /* html_eval: html_eval_op(args[1], &html_n) */
	double html_n;
	struct freemail *fm;    /* FreeMail functions: the domain lists */
	pcre2_code *re;         /* FreeMail functions: the optional regex */
};

/* What SpamAssassin's _check_attachments()/_check_mime_header() find
 * from the MIME headers of every part (the message itself and
 * multiparts included): mime_facts(). */
struct mime_facts {
	size_t html, text, base64, qp, attachment;
	bool base64_text, bad_iso, qp_long_line;
	bool ascii_illegal;     /* 8-bit, NUL or CR in a us-ascii text/plain */
	size_t b64_line;        /* longest line of a base64 leaf part */
	size_t qp_bytes, qp_excess;  /* quoted-printable body bytes, and
	                                needlessly encoded characters */
};

/* The lower-case tag names an HTML text uses, as a set (open
 * addressing; names kept one after the other in s). */
struct tagset {
	char *s;
	size_t len, cap;
	struct tag_slot {
		size_t off1;          /* offset in s + 1; 0: empty slot */
		size_t len;
		uint32_t hash;
	} *slot;
	size_t nslot, n;
	bool oom;
};

/* What the HTML rules ask of one text/html part (html_facts()). */
struct html_part_facts {
	size_t chars;             /* html_length(): UTF-8 characters */
	bool img;                 /* an <img> (or </img>) tag */
	bool img_in_a;            /* an <img> start tag inside <a> */
};

/* NUL-separated strings, n of them, in order: FreeMail addresses (unique,
 * lower-case; fm_addrs_add()) or the body text's mailto: URIs. */
struct fm_addrs {
	struct strbuf b;
	size_t n;
};

/* FreeMail.pm's _parse_body's answer for one message and one set of
 * FreeMail lists and settings: the body's freemail addresses, or skip
 * (too many addresses, or freemail ones, and the settings say to give
 * up; fm_body()). */
struct fm_body {
	const struct freemail *fm;  /* the lists and settings it is for */
	bool skip;
	struct fm_addrs fms;
};

/* The message's numeric facts kept in the cache (cached_fact()). */
enum fact {
	FACT_DATE_DIFF,           /* date_diff() */
	FACT_UPPER,               /* uppercase_pct() */
	FACT_HOTMAIL,             /* hotmail_check() */
	FACT_GATED,               /* gated_check() */
	FACT_COUNT
};

/* Results several calls on one message would each work out again. */
struct saeval_cache {
	double fact[FACT_COUNT];
	unsigned fact_known;      /* bit f: fact[f] is worked out */
	bool mime_done, mime_ok;
	struct mime_facts mime;
	/* $pms->get('Received') and its whitespace-collapsed form */
	bool rcvd_done, rcvd_any, flat_done;
	struct strbuf rcvd, flat;
	const char *rcvd_s, *flat_s;  /* their text, NULL when out of memory */
	/* HTML: per text/html part, in part order; tags of all of them */
	bool html_done, html_ok;
	struct html_part_facts *hp;
	size_t nhp;
	struct tagset tags;
	/* FreeMail: fm_is() answers (the addresses kept in fm_addr) */
	struct fm_memo {
		const struct freemail *fm;
		size_t off, len;
		bool yes;
	} fm[16];
	size_t nfm;
	struct strbuf fm_addr;
	struct fm_body fmb;       /* FreeMail: the body's addresses */
	/* sa_envelope_from(): worked out, found, the address */
	bool env_done, env_ok;
	struct strbuf env;
	/* hdr_key() of each top-level header; the next header with the same
	 * key (SIZE_MAX: none); the first one of each key (open addressing) */
	bool hkey_done;
	uint32_t *hkey;
	size_t *hnext;
	size_t nhkey;
	struct hdr_head {
		uint32_t key;
		size_t first;
	} *hhead;
	size_t nhhead;
};

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
	free(k->hp);
	free(k->tags.s);
	free(k->tags.slot);
	free(k->fm_addr.p);
	free(k->fmb.fms.b.p);
	free(k->env.p);
	free(k->hkey);
	free(k->hnext);
	free(k->hhead);
	free(k);
}

/* The contents as a C string (also after len was reset to 0). */
static const char *buf_str(struct strbuf *b)
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
static const struct msg_header *hdr_next(const struct saeval_ctx *x,
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
static const struct msg_header *hdr_first(const struct saeval_ctx *x,
                                          const char *name)
{
	size_t pos = 0;
	return hdr_next(x, name, &pos);
}

/* SpamAssassin's $pms->get('Name'): every top-level instance, values
 * unfolded, joined by "\n". raw: undecoded. Returns whether any existed. */
static bool get_header(const struct saeval_ctx *x, const char *name, bool raw,
                       struct strbuf *b)
{
	bool any = false;
	for (size_t pos = 0;;) {
		const struct msg_header *h = hdr_next(x, name, &pos);
		if (h == NULL)
			break;
		if (any)
			strbuf_put(b, "\n", 1);
		const struct msg_text *t = raw ? &h->value : &h->decoded;
		strbuf_put(b, t->ptr, t->len);
		any = true;
	}
	return any;
}

/* First address (local@domain) of the first header called name with
 * one, as SpamAssassin's Name:addr in scalar context; "" if none. */
static void get_first_addr(const struct saeval_ctx *x, const char *name,
                           struct strbuf *b)
{
	const struct msg *m = x->m;
	for (size_t pos = 0;;) {
		const struct msg_header *h = hdr_next(x, name, &pos);
		if (h == NULL)
			return;
		size_t count = 0;
		const struct msg_addr *a = msg_header_addrs(m, h, &count);
		for (size_t i = 0; i < count; i++)
			if (msg_addr_put(b, &a[i]))
				return;
	}
}

/* ---- regular expressions (SpamAssassin's, run by PCRE2) ---- */

enum re_id {
	RE_MSGID_OE, RE_RCVD_DATE, RE_RCVD_LOCAL, RE_RCVD_FETCHMAIL,
	RE_D_DMY4, RE_D_MDTY, RE_D_DMY2, RE_D_TIME, RE_D_TZNUM, RE_D_TZNAME,
	RE_LAST2, RE_SUBJ_PREFIX, RE_CAPS_CHARSET,
	RE_AOL_RLY, RE_AOL_OK1, RE_AOL_OK2,
	RE_YAHOO_FROM, RE_EZMLM_LIST, RE_EZMLM_DLTO, RE_EZMLM_RCVD, RE_MSN,
	RE_Y1, RE_Y2, RE_Y3, RE_Y4, RE_Y5, RE_Y6, RE_Y7,
	RE_ASCII_CHARSET, RE_BAD_ISO1, RE_BAD_ISO2, RE_CT_CHARSET,
	RE_CAPS_CHARSET_ALL,
	RE_IPADDR, RE_HM_PICKUP, RE_HM_MSN_TO, RE_HM_MSN_RCVD, RE_HM_ORIG,
	RE_HM_OK1, RE_HM_OK2, RE_HM_OK3, RE_HM_OK4, RE_HM_OK5, RE_HM_OK6,
	RE_HM_HELO, RE_EUDORA, RE_JUNO1, RE_JUNO2, RE_JUNO3, RE_JUNO3X,
	RE_JUNO4, RE_JUNO4X, RE_GM1, RE_GM2, RE_GM3,
	RE_FM_WELCOME, RE_FM_BULK_ENV, RE_DOTCOM_HELO,
	RE_FM_EMAIL, RE_FM_STRIP_URL, RE_FM_STRIP_QUOTED,
	RE_COUNT
};

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
	[RE_CT_CHARSET] = { "charset=\"([^\"]+)\"|charset='([^']+)'|"
	                    "charset=(\\S+)", PCRE2_CASELESS },
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
static bool re_find(enum re_id id, const char *s, size_t len, size_t *ov,
                    size_t nov)
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
	int rc = pcre2_match(re_code[id], (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	if (rc > 0 && ov != NULL) {
		PCRE2_SIZE *v = pcre2_get_ovector_pointer(md);
		uint32_t have = pcre2_get_ovector_count(md);
		for (size_t i = 0; i < nov; i++)
			ov[i] = i < 2 * (size_t)have ? v[i] : PCRE2_UNSET;
	}
	return rc > 0;
}

static bool re_str(enum re_id id, const char *s)
{
	return s != NULL && re_find(id, s, strlen(s), NULL, 0);
}

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

static bool parse_date(const char *in, size_t inlen, int64_t *out)
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
	if (re_find(RE_D_DMY4, s, n, ov, 8)) {
		dd = num(s, ov[2], ov[3]);
		mon = month_of(s + ov[4]);
		yyyy = num(s, ov[6], ov[7]);
		ylen = 4;
	} else if (re_find(RE_D_MDTY, s, n, ov, 8)) {
		mon = month_of(s + ov[2]);
		dd = num(s, ov[4], ov[5]);
		yyyy = num(s, ov[6], ov[7]);
		ylen = 4;
	} else if (re_find(RE_D_DMY2, s, n, ov, 8)) {
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
	if (re_find(RE_D_TIME, s, n, ov, 10)) {
		hh = num(s, ov[2], ov[3]);
		mi = num(s, ov[4], ov[5]);
		if (ov[8] != PCRE2_UNSET)
			ss = num(s, ov[8], ov[9]);
		cut(s, &n, ov[0], ov[1]);
	}
	int tzmin = 0;
	if (re_find(RE_D_TZNUM, s, n, ov, 4)) {
		long v = num(s, ov[2] + 1, ov[3]);
		tzmin = (int)(v / 100 * 60 + v % 100);
		if (s[ov[2]] == '-')
			tzmin = -tzmin;
	} else if (re_find(RE_D_TZNAME, s, n, ov, 4)) {
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
			const struct msg_header *h = hdr_next(x, names[k], &pos);
			if (h == NULL)
				break;
			if (h->decoded.len && parse_date(h->decoded.ptr,
			                                 h->decoded.len, t))
				return true;
		}
	}
	return false;
}

/* Times of the Received headers (newest first), leaving out a leading
 * local hop and a fetchmail hop as SpamAssassin does. Returns how many
 * (at most max). */
static size_t received_times(const struct saeval_ctx *x, int64_t *times, size_t max)
{
	size_t first = 0, pos = 0;
	const struct msg_header *h;
	const struct msg_header *h0 = hdr_next(x, "Received", &pos);
	const struct msg_header *h1 = h0 ? hdr_next(x, "Received", &pos) : NULL;
	bool local0 = h0 != NULL && re_find(RE_RCVD_LOCAL, h0->decoded.ptr,
	                                    h0->decoded.len, NULL, 0);
	const struct msg_header *next = local0 ? h1 : h0;
	if (next != NULL && re_find(RE_RCVD_FETCHMAIL, next->decoded.ptr,
	                            next->decoded.len, NULL, 0))
		first = local0 ? 2 : 1;
	size_t n = 0;
	pos = 0;
	for (size_t i = 0; i < first; i++)
		(void)hdr_next(x, "Received", &pos);
	while (n < max && (h = hdr_next(x, "Received", &pos)) != NULL) {
		size_t ov[4];
		int64_t t;
		if (re_find(RE_RCVD_DATE, h->decoded.ptr, h->decoded.len, ov, 4) &&
		    parse_date(h->decoded.ptr + ov[2], ov[3] - ov[2], &t))
			times[n++] = t;
	}
	return n;
}

/* A numeric fact of the message, worked out by fn once per cache (each
 * time without one). */
static double cached_fact(const struct saeval_ctx *x, enum fact f,
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

/* An argument that is 'undef' or a number. */
static bool arg_undef(const char *a)
{
	return a == NULL || strcmp(a, "undef") == 0;
}

static bool ev_shifted_date(const struct saeval_call *c,
                            const struct saeval_ctx *x)
{
	double d = cached_fact(x, FACT_DATE_DIFF, date_diff);
	return (c->nargs < 1 || c->undef[0] || d >= 3600 * c->num[0]) &&
	       (c->nargs < 2 || c->undef[1] || d < 3600 * c->num[1]);
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
		get_header(x, ids[k], false, &b);
	}
	size_t ov[4];
	bool hit = false;
	if (b.oom || !re_find(RE_MSGID_OE, b.p, b.len, ov, 4))
		goto out;
	double token = (double)strtoull(b.p + ov[2], NULL, 16);
	const double fx = 0.0023283064365387, fy = 27111902.8329849;
	b.len = 0;
	get_header(x, "Date", false, &b);
	int64_t t = 0;
	if (b.oom || !parse_date(buf_str(&b), b.len, &t))
		t = 0;
	if (fabs(token - trunc((double)t * fx + fy)) < 250)
		goto out;
	b.len = 0;
	get_header(x, "Received", false, &b);
	if (b.oom || !parse_date(buf_str(&b), b.len, &t))
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
	if (re_find(RE_LAST2, d, strlen(d), ov, 4))
		strbuf_put(b, d + ov[2], ov[3] - ov[2]);
	else
		strbuf_put(b, d, strlen(d));
}

/* The address of the first header called name when it is not an address
 * header msg.h parses (X-Sender, X-Envelope-From, Envelope-Sender):
 * what is inside <..>, else the first word outside comments. False when
 * there is no such header. */
static bool plain_first_addr(const struct saeval_ctx *x, const char *name,
                             struct strbuf *b)
{
	const struct msg *m = x->m;
	const struct msg_header *h = hdr_first(x, name);
	if (h == NULL)
		return false;
	if (msg_header_addrs(m, h, &(size_t){ 0 }) != NULL) {
		get_first_addr(x, name, b);
		return true;
	}
	const char *v = h->value.ptr, *e = v + h->value.len;
	const char *lt = memchr(v, '<', h->value.len);
	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(e - lt));
		if (gt != NULL)
			strbuf_put(b, lt + 1, (size_t)(gt - lt - 1));
		return true;
	}
	int depth = 0;
	const char *w = NULL;
	for (const char *p = v; p <= e; p++) {
		bool end = p == e || isspace((unsigned char)*p) ||
		           *p == '(' || *p == ')';
		if (w != NULL && end) {
			/* SpamAssassin's parser finds no address in a bare "@" */
			if (p - w > 1)
				strbuf_put(b, w, (size_t)(p - w));
			return true;
		}
		if (p == e)
			break;
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && w == NULL && !end)
			w = p;
	}
	return true;
}

/* Is there a header called name after some Received: header?
 * (SpamAssassin: get("ALL") =~ /^Received:.*?^Name:/smi) */
static bool after_received(const struct msg *m, const char *name)
{
	bool rcvd = false;
	size_t n = msg_header_count(m);
	for (size_t i = 0; i < n; i++) {
		const struct msg_header *h = msg_header_at(m, i);
		const struct msg_text *t = &h->name;
		if (t->len == strlen(name) && strncasecmp(t->ptr, name, t->len) == 0
		    && rcvd)
			return true;
		if (t->len == 8 && strncasecmp(t->ptr, "Received", 8) == 0)
			rcvd = true;
	}
	return false;
}

/* The message's relays: those x keeps (built by the first call that
 * asks), or built for this call into *own, which the caller frees.
 * NULL when they cannot be had. */
static const struct relays *get_relays(const struct saeval_ctx *x,
                                       struct relays **own)
{
	*own = NULL;
	if (x->relays == NULL)
		return relays_build_trust(x->m, x->trust, own) == 0 ? *own
		                                                    : NULL;
	if (*x->relays == NULL &&
	    relays_build_trust(x->m, x->trust, x->relays) != 0)
		return NULL;
	return *x->relays;
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
	const struct relays *r = get_relays(x, &own);
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
		const struct msg_header *h = hdr_next(x, "Received", &pos);
		if (h == NULL)
			break;
		if (memmem(h->value.ptr, h->value.len, "(fetchmail", 10) != NULL)
			return false;
	}
	if (plain_first_addr(x, "X-Envelope-From", b) && b->len > 0)
		return !after_received(m, "X-Envelope-From");
	b->len = 0;
	static const char *const hdrs[] = { "Envelope-Sender", "Return-Path" };
	for (size_t i = 0; i < 2; i++) {
		plain_first_addr(x, hdrs[i], b);
		if (b->len > 0 && !after_received(m, hdrs[i]))
			return true;
		b->len = 0;
	}
	return false;
}

/* sa_envelope_from(), worked out once per cache. */
static bool cached_envelope_from(const struct saeval_ctx *x,
                                 struct strbuf *b)
{
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
	get_first_addr(x, "From", &from);
	bool hit = false;
	const char *f = buf_str(&from);
	/* SpamAssassin's EnvelopeFrom is its own guess from the headers, not
	 * the SMTP envelope, and so is vigil's */
	if (f != NULL && cached_envelope_from(x, &env) && buf_str(&env)) {
		second_level(f, &fd);
		second_level(buf_str(&env), &ed);
		const char *a = buf_str(&fd), *e = buf_str(&ed);
		hit = a != NULL && e != NULL && a[0] && e[0] &&
		      strcasecmp(a, e) != 0;
	}
	free(from.p);
	free(env.p);
	free(fd.p);
	free(ed.p);
	return hit;
}

/* ---- Subject ---- */

static bool ev_subject_all_caps(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf b = { 0 }, raw = { 0 };
	get_header(x, "Subject", false, &b);
	get_header(x, "Subject", true, &raw);
	bool hit = false;
	const char *s = buf_str(&b);
	if (s == NULL || buf_str(&raw) == NULL)
		goto out;
	size_t len = b.len;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	size_t ov[2];
	if (re_find(RE_SUBJ_PREFIX, s, len, ov, 2)) {
		s += ov[1];
		len -= ov[1];
	}
	bool space = false;
	for (size_t i = 0; i < len; i++)
		space |= isspace((unsigned char)s[i]) != 0;
	if (!space || len < 10)
		goto out;
	if (re_find(RE_CAPS_CHARSET, raw.p, raw.len, NULL, 0))
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

static void push_addrs(const struct saeval_ctx *x, const char *name,
                       struct strbuf *list, size_t *count)
{
	const struct msg *m = x->m;
	for (size_t pos = 0;;) {
		const struct msg_header *h = hdr_next(x, name, &pos);
		if (h == NULL)
			return;
		size_t k = 0;
		const struct msg_addr *a = msg_header_addrs(m, h, &k);
		for (size_t i = 0; i < k; i++) {
			if (!msg_addr_put(list, &a[i]))
				continue;
			strbuf_put(list, "", 1);   /* NUL separated */
			(*count)++;
		}
	}
}

/* Share of address pairs with the same first two bytes of user part or
 * of (different) host names: SpamAssassin's tocc_similar. */
static double tocc_similar(const struct saeval_ctx *x)
{
	struct strbuf list = { 0 };
	size_t count = 0;
	push_addrs(x, "To", &list, &count);
	push_addrs(x, "Cc", &list, &count);
	if (count < TOCC_SIMILAR_COUNT)
		push_addrs(x, "Bcc", &list, &count);
	double r = 0;
	const char **addr = calloc(count ? count : 1, sizeof *addr);
	if (list.oom || addr == NULL)
		goto out;
	size_t n = 0;
	const char *p = list.p;
	for (size_t i = 0; i < count && n < 256; i++, p += strlen(p) + 1)
		if (n == 0 || strcasecmp(p, addr[n - 1]) != 0)
			addr[n++] = p;
	if (n < TOCC_SIMILAR_COUNT)
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

/* ---- forged relays in Received (no relay parsing needed) ---- */

/* Whitespace runs of b made one space, in place (Perl's s/\s+/ /g). */
static const char *collapse_blanks(struct strbuf *b)
{
	char *s = (char *)buf_str(b);
	if (s == NULL)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < b->len;) {
		if (isspace((unsigned char)s[i])) {
			s[j++] = ' ';
			while (i < b->len && isspace((unsigned char)s[i]))
				i++;
		} else {
			s[j++] = s[i++];
		}
	}
	b->len = j;
	return buf_str(b);
}

/* $pms->get(name) with whitespace runs made one space, into b (empty
 * before); NULL when out of memory. */
static const char *received_flat(const struct saeval_ctx *x, const char *name,
                                 struct strbuf *b)
{
	get_header(x, name, false, b);
	return collapse_blanks(b);
}

/* $pms->get('Received'), worked out once per cache: the text (NULL when
 * out of memory) and, in *any, whether there was one. Without a cache
 * it is built in own, which the caller frees. */
static const char *rcvd_joined(const struct saeval_ctx *x, struct strbuf *own,
                               bool *any)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL) {
		bool a = get_header(x, "Received", false, own);
		if (any != NULL)
			*any = a;
		return buf_str(own);
	}
	if (!k->rcvd_done) {
		k->rcvd_any = get_header(x, "Received", false, &k->rcvd);
		k->rcvd_s = buf_str(&k->rcvd);
		k->rcvd_done = true;
	}
	if (any != NULL)
		*any = k->rcvd_any;
	return k->rcvd_s;
}

/* received_flat(x, "Received", own), worked out once per cache. */
static const char *rcvd_flat(const struct saeval_ctx *x, struct strbuf *own)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return received_flat(x, "Received", own);
	if (!k->flat_done) {
		const char *r = rcvd_joined(x, NULL, NULL);
		if (r != NULL) {
			strbuf_put(&k->flat, r, k->rcvd.len);
			k->flat_s = collapse_blanks(&k->flat);
		}
		k->flat_done = true;
	}
	return k->flat_s;
}

static bool ev_fake_aol_relay(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf b = { 0 };
	const char *r = rcvd_flat(x, &b);
	size_t rn = r != NULL ? strlen(r) : 0;
	bool hit = r != NULL && re_find(RE_AOL_RLY, r, rn, NULL, 0) &&
	           !re_find(RE_AOL_OK1, r, rn, NULL, 0) &&
	           !re_find(RE_AOL_OK2, r, rn, NULL, 0);
	free(b.p);
	return hit;
}

/* SpamAssassin's gated_through_received_hdr_remover(): 1 or 0 (a
 * cached_fact()). */
static double gated_check(const struct saeval_ctx *x)
{
	struct strbuf a = { 0 }, d = { 0 }, own = { 0 };
	bool yes = false, any;
	const char *r = rcvd_joined(x, &own, &any);
	if (get_header(x, "Mailing-List", false, &a) &&
	    re_str(RE_EZMLM_LIST, buf_str(&a))) {
		get_header(x, "Delivered-To", false, &d);
		if (re_str(RE_EZMLM_DLTO, buf_str(&d)) &&
		    re_str(RE_EZMLM_RCVD, r))
			yes = true;
	}
	if (!yes && !any)
		yes = true;
	if (!yes && re_str(RE_MSN, r))
		yes = true;
	free(a.p);
	free(d.p);
	free(own.p);
	return yes;
}

static bool gated_rcvd_remover(const struct saeval_ctx *x)
{
	return cached_fact(x, FACT_GATED, gated_check) != 0;
}

static bool ev_forged_yahoo_rcvd(const struct saeval_call *c,
                                 const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf from = { 0 }, t = { 0 }, b = { 0 };
	bool hit = false;
	get_first_addr(x, "From", &from);
	const char *f = buf_str(&from);
	if (!re_str(RE_YAHOO_FROM, f))
		goto out;
	const char *name = "Received";
	if (get_header(x, "Resent-From", false, &t) && t.len &&
	    (t.len = 0, get_header(x, "Resent-To", false, &t)) && t.len &&
	    (t.len = 0, get_header(x, "X-Received", false, &t)) && t.len)
		name = "X-Received";
	const char *r = name[0] == 'R' ? rcvd_flat(x, &b) :
	                received_flat(x, name, &b);
	if (r == NULL || gated_rcvd_remover(x))
		goto out;
	/* SpamAssassin also accepts a yahoo.com rDNS in the trusted relays
	 * (X-Spam-Relays-*), which vigil does not build. */
	if (re_str(RE_Y1, r) || re_str(RE_Y2, r) || re_str(RE_Y3, r) ||
	    re_str(RE_Y4, r) || (re_str(RE_Y5, r) && re_str(RE_Y6, f)) ||
	    re_str(RE_Y7, r))
		goto out;
	hit = true;
out:
	free(from.p);
	free(t.p);
	free(b.p);
	return hit;
}

/* ---- MIME structure (MIMEEval) ---- */

/* The first Content-Transfer-Encoding and Content-Disposition headers
 * of part i (NULL if absent), in one pass over its headers. */
static void part_cte_cd(const struct msg *m, size_t i,
                        const struct msg_header **cte,
                        const struct msg_header **cd)
{
	*cte = *cd = NULL;
	size_t n = msg_part_header_count(m, i);
	for (size_t k = 0; k < n && (*cte == NULL || *cd == NULL); k++) {
		const struct msg_header *h = msg_part_header_at(m, i, k);
		if (h == NULL || tolower((unsigned char)h->name.ptr[0]) != 'c')
			continue;
		if (*cte == NULL &&
		    strcasecmp(h->name.ptr, "Content-Transfer-Encoding") == 0)
			*cte = h;
		else if (*cd == NULL &&
		         strcasecmp(h->name.ptr, "Content-Disposition") == 0)
			*cd = h;
	}
}

/* Header h's value lower-cased into b ("" if h is NULL). */
static void header_lc(const struct msg_header *h, struct strbuf *b)
{
	b->len = 0;
	if (h != NULL) {
		/* copied, then lower-cased in place: one append, not one a byte */
		strbuf_put(b, h->value.ptr, h->value.len);
		if (!b->oom)
			for (size_t k = 0; k < b->len; k++)
				b->p[k] = (char)tolower((unsigned char)b->p[k]);
	}
	buf_str(b);
}

/* Which parts have a child (a later part naming them as parent): leaves
 * are the others. One pass instead of one per part. NULL: no memory. */
static bool *parts_with_child(const struct msg *m)
{
	size_t n = msg_part_count(m);
	bool *has = calloc(n ? n : 1, sizeof *has);
	if (has == NULL)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		size_t parent = msg_part_at(m, k)->parent;
		if (parent < k)
			has[parent] = true;
	}
	return has;
}

/* The body of a part's raw bytes (after its header block). */
static struct msg_text part_body(const struct msg_part *p)
{
	const char *s = p->raw.ptr, *end = s + p->raw.len;
	const char *q = s;
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		if (nl == NULL)
			return (struct msg_text){ .ptr = end, .len = 0 };
		size_t l = (size_t)(nl - q);
		if (l == 0 || (l == 1 && q[0] == '\r'))
			return (struct msg_text){ .ptr = nl + 1,
			                          .len = (size_t)(end - nl - 1) };
		q = nl + 1;
	}
	return (struct msg_text){ .ptr = end, .len = 0 };
}

/* Quoted-printable lines: long ones, and characters encoded that need
 * not be (=09, =20.., letters, digits), less trailing =20/=09 runs. */
static void qp_lines(struct msg_text b, struct mime_facts *f)
{
	const char *q = b.ptr, *end = b.ptr + b.len;
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *le = nl ? nl : end;
		size_t len = (size_t)(le - q);
		if (len && le[-1] == '\r' && nl)
			len--;             /* read as SpamAssassin reads a file */
		const char *line = q;
		q = nl ? nl + 1 : end;
		if (len >= 6 && memcmp(line, "SPAM: ", 6) == 0)
			continue;
		size_t full = len + (nl != NULL);
		if (full > 79)
			f->qp_long_line = true;
		f->qp_bytes += full;
		size_t excess = 0;
		for (size_t k = 0; k + 2 < len; k++) {
			if (line[k] != '=')
				continue;
			char h = line[k + 1], l = line[k + 2];
			bool hexl = (l >= '0' && l <= '9') || (l >= 'A' && l <= 'F');
			if ((h == '0' && l == '9') ||
			    (h == '3' && hexl && l != 'D') ||
			    ((h == '2' || h == '4' || h == '5' || h == '6') && hexl) ||
			    (h == '7' && hexl && l != 'F')) {
				excess++;
				k += 2;
			}
		}
		if (excess) {
			/* less a run of =09/=20 at the end (blanks may follow) */
			size_t e = len;
			while (e && isspace((unsigned char)line[e - 1]))
				e--;
			size_t run = 0;
			while (e >= 3 && line[e - 3] == '=' &&
			       ((line[e - 2] == '0' && line[e - 1] == '9') ||
			        (line[e - 2] == '2' && line[e - 1] == '0'))) {
				run++;
				e -= 3;
			}
			excess -= run < excess ? run : excess;
		}
		f->qp_excess += excess;
	}
}

/* Eight bytes at p (any alignment). */
static uint64_t load8(const char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

#define ONES8 0x0101010101010101ULL
#define HIGH8 0x8080808080808080ULL

/* Bytes of m with their high bit set, m having no other bits (a
 * popcount without the libgcc call a plain x86-64 build makes). */
static size_t high_bits8(uint64_t m)
{
	return (size_t)(((m >> 7) * ONES8) >> 56);
}

/* Has word w a zero byte? (The classic test: exact for "any".) */
static bool zero_byte(uint64_t w)
{
	return ((w - ONES8) & ~w & HIGH8) != 0;
}

/* NUL, CR (other than in CRLF) or 8-bit bytes in raw part text. */
static bool ascii_illegal(struct msg_text b)
{
	for (size_t i = 0; i < b.len;) {
		/* skip eight bytes at once when none is NUL, CR or 8-bit */
		if (i + 8 <= b.len) {
			uint64_t w = load8(b.ptr + i);
			if (!(w & HIGH8) && !zero_byte(w) &&
			    !zero_byte(w ^ (ONES8 * '\r'))) {
				i += 8;
				continue;
			}
		}
		unsigned char c = (unsigned char)b.ptr[i];
		if (c == 0 || c >= 0x80 ||
		    (c == '\r' && !(i + 1 < b.len && b.ptr[i + 1] == '\n')))
			return true;
		i++;
	}
	return false;
}

/* Longest line, its LF counted, CRLF as LF. */
static void longest_line(struct msg_text b, size_t *max)
{
	const char *q = b.ptr, *end = b.ptr + b.len;
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		size_t len = (size_t)((nl ? nl : end) - q);
		if (nl && len && nl[-1] == '\r')
			len--;
		len += nl != NULL;
		if (len > *max)
			*max = len;
		q = nl ? nl + 1 : end;
	}
}

static bool mime_facts(const struct msg *m, struct mime_facts *f)
{
	memset(f, 0, sizeof *f);
	struct strbuf cte = { 0 }, cd = { 0 };
	bool *has_child = parts_with_child(m);
	if (has_child == NULL)
		return false;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		const struct msg_header *hcte, *hcd;
		part_cte_cd(m, i, &hcte, &hcd);
		header_lc(hcte, &cte);
		header_lc(hcd, &cd);
		if (cte.oom || cd.oom)
			break;
		const char *type = p->type.ptr, *cs = p->charset.ptr;
		bool text = strncmp(type, "text", 4) == 0;
		if (strcmp(type, "text/html") == 0)
			f->html++;
		else if (strncasecmp(type, "text", 4) == 0)
			f->text++;
		bool b64 = strstr(cte.p, "base64") != NULL;
		if (b64)
			f->base64++;
		else if (strstr(cte.p, "quoted-printable") != NULL)
			f->qp++;
		if (strstr(cd.p, "attachment") != NULL)
			f->attachment++;
		if (text && b64 && (cs[0] == '\0' || re_str(RE_ASCII_CHARSET, cs)) &&
		    strncmp(cd.p, "attachment", 10) != 0 &&
		    strncmp(cd.p, "inline", 6) != 0)
			f->base64_text = true;
		if (re_str(RE_BAD_ISO1, cs) && !re_str(RE_BAD_ISO2, cs))
			f->bad_iso = true;
		if (has_child[i])
			continue;
		if (strcmp(cte.p, "quoted-printable") == 0)
			qp_lines(part_body(p), f);
		if (strcmp(type, "text/plain") == 0 &&
		    (cs[0] == '\0' || strcmp(cs, "us-ascii") == 0) &&
		    ascii_illegal(part_body(p)))
			f->ascii_illegal = true;
		if (strcmp(cte.p, "base64") == 0 &&
		    strcmp(type, "application/ics") != 0)
			longest_line(part_body(p), &f->b64_line);
	}
	/* SpamAssassin then counts only needless encodings */
	if (f->qp_bytes)
		f->qp = f->qp_excess;
	bool ok = !cte.oom && !cd.oom;
	free(has_child);
	free(cte.p);
	free(cd.p);
	return ok;
}

static bool top_is_html(const struct saeval_ctx *x)
{
	const struct msg_header *h = hdr_first(x, "Content-Type");
	return h != NULL && strncasecmp(h->decoded.ptr, "text/html", 9) == 0;
}

/* mime_facts() of x's message, worked out once per cache. */
static bool get_mime(const struct saeval_ctx *x, struct mime_facts *f)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return mime_facts(x->m, f);
	if (!k->mime_done) {
		k->mime_ok = mime_facts(x->m, &k->mime);
		k->mime_done = true;
	}
	*f = k->mime;
	return k->mime_ok;
}

static bool ev_mime_html(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	(void)c;
	struct mime_facts f;
	return top_is_html(x) || (get_mime(x, &f) && f.html > 0);
}

static bool ev_mime_html_only(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	(void)c;
	struct mime_facts f;
	return top_is_html(x) ||
	       (get_mime(x, &f) && f.html > 0 && f.text == 0);
}

static const char *const mime_tests[] = {
	"mime_base64_count", "mime_qp_count", "mime_attachment",
	"mime_base64_encoded_text", "mime_bad_iso_charset", "mime_qp_long_line",
};

static bool ok_mime(const struct saeval_call *c)
{
	for (size_t i = 0; i < sizeof mime_tests / sizeof mime_tests[0]; i++)
		if (c->nargs == 1 && strcmp(c->args[0], mime_tests[i]) == 0)
			return true;
	return false;   /* mime_qp_long_line, mime_faraway_charset, ... */
}

static bool ev_mime(const struct saeval_call *c, const struct saeval_ctx *x)
{
	struct mime_facts f;
	if (!get_mime(x, &f))
		return false;
	const char *t = c->args[0];
	if (strcmp(t, "mime_base64_count") == 0)
		return f.base64 > 0;
	if (strcmp(t, "mime_qp_count") == 0)
		return f.qp > 0;
	if (strcmp(t, "mime_attachment") == 0)
		return f.attachment > 0;
	if (strcmp(t, "mime_base64_encoded_text") == 0)
		return f.base64_text;
	if (strcmp(t, "mime_qp_long_line") == 0)
		return f.qp_long_line;
	return f.bad_iso;
}

/* SpamAssassin's body_charset_is_likely_to_fp(): the top Content-Type's
 * charset or any part's is one where capitals say nothing. */
static bool charset_fp_as_caps(const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	const struct msg_header *h = hdr_first(x, "Content-Type");
	size_t ov[8];
	if (h != NULL && re_find(RE_CT_CHARSET, h->value.ptr, h->value.len, ov,
	                         8)) {
		for (size_t g = 1; g < 4; g++) {
			if (ov[2 * g] == PCRE2_UNSET)
				continue;
			size_t len = ov[2 * g + 1] - ov[2 * g];
			if (re_find(RE_CAPS_CHARSET_ALL, h->value.ptr + ov[2 * g], len,
			            NULL, 0))
				return true;
			break;
		}
	}
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const char *cs = msg_part_at(m, i)->charset.ptr;
		bool letter = false;
		for (const char *q = cs; *q; q++)
			letter |= isalpha((unsigned char)*q) != 0;
		if (letter && re_str(RE_CAPS_CHARSET_ALL, cs))
			return true;
	}
	return false;
}

/* Percentage of capitals among letters and digits of the body lines
 * with an inner blank (SpamAssassin's check_for_uppercase). */
/* PCRE2's \s (no UCP, default tables): HT, LF, VT, FF, CR, space. */
static bool re_space(unsigned char c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

/* SpamAssassin's /\S\s+\S/ without a regex call: a blank run with
 * something else on both sides. */
static bool uc_words(const char *s, size_t n)
{
	bool text = false, blank_after_text = false;
	for (size_t i = 0; i < n; i++) {
		if (re_space((unsigned char)s[i])) {
			blank_after_text = text;
		} else {
			if (blank_after_text)
				return true;
			text = true;
		}
	}
	return false;
}

/* SpamAssassin's /^(?:[A-Za-z0-9+\/=]{60,76} ){2}/: twice a run of 60
 * to 76 such characters and a space (a longer run cannot give back
 * characters: the space does not match them). */
static bool b64_char(unsigned char c)
{
	return (unsigned char)(c - 'a') <= 'z' - 'a' ||
	       (unsigned char)(c - 'A') <= 'Z' - 'A' ||
	       (unsigned char)(c - '0') <= 9 || c == '+' || c == '/' || c == '=';
}

static bool uc_base64(const char *s, size_t n)
{
	size_t i = 0;
	for (int k = 0; k < 2; k++) {
		size_t run = 0;
		while (i + run < n && b64_char((unsigned char)s[i + run]))
			run++;
		if (run < 60 || run > 76 || i + run >= n || s[i + run] != ' ')
			return false;
		i += run + 1;
	}
	return true;
}

/* memmem(s, n, "\x1b$B", 3): ESC is rare, memchr finds the candidates. */
static const char *find_esc_dollar_b(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while ((p = memchr(p, '\x1b', (size_t)(end - p))) != NULL) {
		if (end - p >= 3 && p[1] == '$' && p[2] == 'B')
			return p;
		p++;
	}
	return NULL;
}

/* Per byte of w (7-bit bytes only: the caller masks the others out),
 * the high bit set when the byte is in [lo, hi]. */
static uint64_t in_range8(uint64_t w, unsigned char lo, unsigned char hi)
{
	uint64_t ge = w + ONES8 * (uint64_t)(0x80 - lo);
	uint64_t gt = w + ONES8 * (uint64_t)(0x7f - hi);
	return ge & ~gt & HIGH8;
}

/* Letters and digits of s[0..n): a-z and 0-9 as lower, A-Z as upper. */
static void count_case(const char *s, size_t n, size_t *lower, size_t *upper)
{
	size_t lo = 0, up = 0, k = 0;
	for (; k + 8 <= n; k += 8) {   /* eight bytes at a time */
		uint64_t w = load8(s + k);
		uint64_t ascii = ~w & HIGH8, v = w & ~HIGH8;
		lo += high_bits8((in_range8(v, 'a', 'z') | in_range8(v, '0', '9')) &
		                 ascii);
		up += high_bits8(in_range8(v, 'A', 'Z') & ascii);
	}
	for (; k < n; k++) {
		unsigned char ch = (unsigned char)s[k];
		lo += (unsigned char)(ch - 'a') <= 'z' - 'a' ||
		      (unsigned char)(ch - '0') <= 9;
		up += (unsigned char)(ch - 'A') <= 'Z' - 'A';
	}
	*lower += lo;
	*upper += up;
}

static double uppercase_pct(const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	if (charset_fp_as_caps(x))
		return 0;
	size_t len = 0, lower = 0, upper = 0;
	for (size_t i = 0; i < msg_body_count(m); i++) {
		struct msg_text t = msg_body_at(m, i);
		if (!uc_words(t.ptr, t.len) || uc_base64(t.ptr, t.len))
			continue;
		/* shift-JIS escapes: ESC $ B ... ESC ( B left out */
		const char *s = t.ptr, *end = t.ptr + t.len;
		const char *a = find_esc_dollar_b(s, t.len), *b = NULL;
		for (const char *q = a; q != NULL && q + 3 <= end; q++)
			if (q[0] == '\x1b' && q[1] == '(' && q[2] == 'B' && q >= a + 3)
				b = q;
		size_t skip_from = a && b ? (size_t)(a - s) : t.len;
		size_t skip_to = a && b ? (size_t)(b + 3 - s) : t.len;
		len += t.len - (skip_to - skip_from);
		count_case(s, skip_from, &lower, &upper);
		count_case(s + skip_to, t.len - skip_to, &lower, &upper);
	}
	if (len < 200 || upper + lower == 0)
		return 0;
	return (double)upper / (double)(upper + lower) * 100;
}

static bool ev_uppercase(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	double u = cached_fact(x, FACT_UPPER, uppercase_pct);
	return u > c->num[0] && u <= c->num[1];
}

static bool ev_ascii_text_illegal(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)c;
	struct mime_facts f;
	return get_mime(x, &f) && f.ascii_illegal;
}

static bool ok_base64_length(const struct saeval_call *c)
{
	return c->nargs == 1 || c->nargs == 2;
}

static bool ev_base64_length(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct mime_facts f;
	if (!get_mime(x, &f))
		return false;
	double l = (double)f.b64_line;
	if (c->nargs == 2 && l > c->num[1])
		return false;
	return l >= c->num[0];
}

static bool ok_two_args(const struct saeval_call *c)
{
	return c->nargs == 2;
}

/* ---- HTML (HTMLEval) ---- */

static bool ok_html_test(const struct saeval_call *c)
{
	return c->nargs == 1 && (strcmp(c->args[0], "html") == 0 ||
	                         strcmp(c->args[0], "font_low_contrast") == 0);
}

static bool html_low_contrast(const struct msg *m);

/* html_test('html'): a text/html part was rendered (HTML_MESSAGE);
 * html_test('font_low_contrast'): see html_low_contrast. */
static bool ev_html_test(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	if (strcmp(c->args[0], "font_low_contrast") == 0)
		return html_low_contrast(x->m);
	return msg_html(x->m)->parts > 0;
}

static bool ok_one_arg(const struct saeval_call *c)
{
	return c->nargs == 1 && c->args[0][0] != '\0';
}

/* Is s[0..n) at p the tag name `tag` (case-insensitive, then a blank,
 * '/', '>' or the end)? */
static bool tag_at(const char *p, const char *end, const char *tag)
{
	size_t l = strlen(tag);
	if ((size_t)(end - p) < l || strncasecmp(p, tag, l) != 0)
		return false;
	return p + l == end || isspace((unsigned char)p[l]) || p[l] == '/' ||
	       p[l] == '>';
}

static const char *find_ci(const char *p, const char *end, const char *lit)
{
	size_t l = strlen(lit);
	if (l > 0 && !isalpha((unsigned char)lit[0])) {
		/* only where its first byte is (a non-letter has no other
		 * case): memchr skips to those */
		while (p + l <= end) {
			p = memchr(p, lit[0], (size_t)(end - p) - l + 1);
			if (p == NULL)
				return NULL;
			if (strncasecmp(p, lit, l) == 0)
				return p;
			p++;
		}
		return NULL;
	}
	for (; p + l <= end; p++)
		if (strncasecmp(p, lit, l) == 0)
			return p;
	return NULL;
}

/* HTML::Parser reads the content of these elements as text, up to
 * their end tag: the end tag to look for, or NULL. */
static const char *literal_end(const char *name, const char *end)
{
	static const char *const lit[][2] = {
		{ "script", "</script" }, { "style", "</style" },
		{ "xmp", "</xmp" }, { "iframe", "</iframe" },
		{ "title", "</title" }, { "textarea", "</textarea" },
		{ "plaintext", "\x01\x02never" },
	};
	for (size_t i = 0; i < sizeof lit / sizeof lit[0]; i++)
		if (tag_at(name, end, lit[i][0]))
			return lit[i][1];
	return NULL;
}

/* Calls f(name, end, close, ctx) for every start or end tag of HTML
 * text as HTML::Parser reports them (not in comments, not in the content
 * of script, style, title, ...), until f returns true; returns whether
 * one did. name points at the tag name, end at the end of the text. */
typedef bool (*html_tag_fn)(const char *name, const char *end, bool close,
                            void *ctx);

static bool html_walk_tags(const char *s, size_t n, html_tag_fn f,
                           void *ctx)
{
	const char *p = s, *end = s + n;
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		p++;
		if (end - p >= 3 && memcmp(p, "!--", 3) == 0) {
			const char *q = find_ci(p + 3, end, "-->");
			if (q == NULL)
				return false;
			p = q + 3;
			continue;
		}
		bool close = p < end && *p == '/';
		const char *name = close ? p + 1 : p;
		if (name >= end || !isalpha((unsigned char)*name))
			continue;
		if (f(name, end, close, ctx))
			return true;
		const char *lit = close ? NULL : literal_end(name, end);
		if (lit != NULL) {
			const char *q = find_ci(name, end, lit);
			if (q == NULL)
				return false;
			p = q;
			continue;
		}
		/* skip the rest of the tag, quoted attribute values included */
		char quote = 0;
		while (p < end && (quote || *p != '>')) {
			if (quote && *p == quote)
				quote = 0;
			else if (!quote && (*p == '"' || *p == '\'') &&
			         p > name && p[-1] == '=')
				quote = *p;
			p++;
		}
	}
	return false;
}

static bool tag_is(const char *name, const char *end, bool close, void *ctx)
{
	(void)close;
	return tag_at(name, end, ctx);
}

/* Does HTML text contain tag `tag` (start or end tag)? */
static bool html_has_tag(const char *s, size_t n, const char *tag)
{
	return html_walk_tags(s, n, tag_is, (void *)(uintptr_t)tag);
}

/* An <img> start tag inside <a> (HTML.pm appends "<img>" to the anchor
 * text then); inside counts start tags up, end tags down, never below 0. */
static bool img_in_anchor(const char *name, const char *end, bool close,
                          void *ctx)
{
	size_t *inside_a = ctx;
	if (tag_at(name, end, "a")) {
		if (!close)
			(*inside_a)++;
		else if (*inside_a > 0)
			(*inside_a)--;
		return false;
	}
	return !close && *inside_a > 0 && tag_at(name, end, "img");
}

/* ---- HTML facts of a message, in one walk per part (cached) ---- */

/* What ends a tag name for tag_at(). */
static bool tag_delim(char c)
{
	return isspace((unsigned char)c) || c == '/' || c == '>';
}

/* FNV-1a of the lower-case bytes. */
static uint32_t ts_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)tolower((unsigned char)s[i])) * 16777619u;
	return h;
}

/* Stored (lower-case) name equals s[0..n) ignoring case? */
static bool ts_same(const struct tagset *t, const struct tag_slot *sl,
                    const char *s, size_t n)
{
	if (sl->len != n)
		return false;
	const char *a = t->s + sl->off1 - 1;
	for (size_t i = 0; i < n; i++)
		if (a[i] != (char)tolower((unsigned char)s[i]))
			return false;
	return true;
}

static bool ts_grow(struct tagset *t)
{
	size_t ns = t->nslot ? t->nslot * 2 : 64;
	struct tag_slot *sl = calloc(ns, sizeof *sl);
	if (sl == NULL)
		return false;
	for (size_t i = 0; i < t->nslot; i++) {
		if (t->slot[i].off1 == 0)
			continue;
		size_t j = t->slot[i].hash & (ns - 1);
		while (sl[j].off1 != 0)
			j = (j + 1) & (ns - 1);
		sl[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = sl;
	t->nslot = ns;
	return true;
}

/* Add name s[0..n) (kept lower-case); sets t->oom when out of memory. */
static void ts_add(struct tagset *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if ((t->n + 1) * 2 > t->nslot && !ts_grow(t)) {
		t->oom = true;
		return;
	}
	uint32_t h = ts_hash(s, n);
	size_t j = h & (t->nslot - 1);
	for (; t->slot[j].off1 != 0; j = (j + 1) & (t->nslot - 1))
		if (t->slot[j].hash == h && ts_same(t, &t->slot[j], s, n))
			return;
	if (t->len + n + 1 > t->cap) {
		size_t nc = t->cap ? t->cap : 256;
		while (nc < t->len + n + 1)
			nc *= 2;
		char *ns = realloc(t->s, nc);
		if (ns == NULL) {
			t->oom = true;
			return;
		}
		t->s = ns;
		t->cap = nc;
	}
	for (size_t i = 0; i < n; i++)
		t->s[t->len + i] = (char)tolower((unsigned char)s[i]);
	t->slot[j] = (struct tag_slot){ .off1 = t->len + 1, .len = n,
	                                .hash = h };
	t->len += n;
	t->n++;
}

static bool ts_has(const struct tagset *t, const char *s, size_t n)
{
	if (t->nslot == 0)
		return false;
	uint32_t h = ts_hash(s, n);
	for (size_t j = h & (t->nslot - 1); t->slot[j].off1 != 0;
	     j = (j + 1) & (t->nslot - 1))
		if (t->slot[j].hash == h && ts_same(t, &t->slot[j], s, n))
			return true;
	return false;
}

struct scan_state {
	struct tagset *ts;
	struct html_part_facts *f;
	size_t inside_a;     /* <a> open */
};

/* html_walk_tags() callback of html_scan(): never stops the walk. */
static bool scan_tag(const char *name, const char *end, bool close,
                     void *ctx)
{
	struct scan_state *st = ctx;
	size_t tl = 0;
	while (name + tl < end && !tag_delim(name[tl]))
		tl++;
	ts_add(st->ts, name, tl);
	if (tl == 1 && tolower((unsigned char)name[0]) == 'a') {
		if (!close)
			st->inside_a++;
		else if (st->inside_a > 0)
			st->inside_a--;
	} else if (tl == 3 && strncasecmp(name, "img", 3) == 0) {
		st->f->img = true;
		st->f->img_in_a |= !close && st->inside_a > 0;
	}
	return false;
}

/* One walk, to its end, for what every callback would have found: each
 * tag name goes into ts (a tag_at(tag) callback stops exactly when its
 * tag is among them), <img> for html_has_tag("img"), <img> inside <a>
 * for img_in_anchor(). */
static void html_scan(const char *s, size_t n, struct tagset *ts,
                      struct html_part_facts *f)
{
	struct scan_state st = { ts, f, 0 };
	(void)html_walk_tags(s, n, scan_tag, &st);
}

static size_t utf8_chars(const char *s, size_t n);
static bool is_html_part(const struct msg_part *p);

/* The HTML facts of x's message, worked out once per cache; NULL when
 * there is no cache or no memory (the caller then walks itself). */
static const struct saeval_cache *html_facts(const struct saeval_ctx *x)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return NULL;
	if (!k->html_done) {
		k->html_done = true;
		const struct msg *m = x->m;
		size_t nh = 0;
		for (size_t i = 0; i < msg_part_count(m); i++)
			nh += is_html_part(msg_part_at(m, i));
		k->hp = calloc(nh ? nh : 1, sizeof *k->hp);
		if (k->hp == NULL)
			return NULL;
		for (size_t i = 0; i < msg_part_count(m); i++) {
			const struct msg_part *p = msg_part_at(m, i);
			if (!is_html_part(p))
				continue;
			struct html_part_facts *f = &k->hp[k->nhp++];
			f->chars = utf8_chars(p->text.ptr, p->text.len);
			html_scan(p->text.ptr, p->text.len, &k->tags, f);
		}
		k->html_ok = !k->tags.oom;
	}
	return k->html_ok ? k : NULL;
}

static bool ev_html_tag_exists(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	const char *tag = c->args[0];
	size_t tl = strlen(tag), d = 0;
	while (d < tl && !tag_delim(tag[d]))
		d++;
	/* a name without blank, '/' or '>' is tag_at()'s whole name */
	const struct saeval_cache *k = d == tl ? html_facts(x) : NULL;
	if (k != NULL)
		return ts_has(&k->tags, tag, tl);
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (p->is_text && strcmp(p->type.ptr, "text/html") == 0 &&
		    html_has_tag(p->text.ptr, p->text.len, tag))
			return true;
	}
	return false;
}

/* Characters in UTF-8 text: SpamAssassin (normalize_charset on) hands
 * HTML::Parser the part decoded to characters. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0, i = 0;
	/* eight at a time: continuation bytes have bit 7 set, bit 6 clear */
	for (; i + 8 <= n; i += 8) {
		uint64_t w = load8(s + i);
		uint64_t cont = w & ~(w << 1) & HIGH8;
		c += 8 - high_bits8(cont);
	}
	for (; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

static bool is_html_part(const struct msg_part *p)
{
	return p->is_text && strcmp(p->type.ptr, "text/html") == 0;
}

/* HTML.pm's "length" of a part: its source before rendering. */
static double html_length(const struct msg_part *p)
{
	return (double)utf8_chars(p->text.ptr, p->text.len);
}

/* html_image_only(min, max): a text/html part with an <img> tag whose
 * length is more than min and at most max. */
static bool ev_html_image_only(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	double lo = c->num[0], hi = c->num[1];
	const struct saeval_cache *k = html_facts(x);
	for (size_t i = 0; k != NULL && i < k->nhp; i++) {
		double l = (double)k->hp[i].chars;
		if (l > lo && l <= hi && k->hp[i].img)
			return true;
	}
	if (k != NULL)
		return false;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (!is_html_part(p))
			continue;
		double l = html_length(p);
		if (l > lo && l <= hi &&
		    html_has_tag(p->text.ptr, p->text.len, "img"))
			return true;
	}
	return false;
}

/* html_range('length', min, max): a text/html part's length is in
 * (min, max]; max "inf": above min. Only the 'length' test. */
static bool ok_html_range(const struct saeval_call *c)
{
	return (c->nargs == 2 || c->nargs == 3) &&
	       strcmp(c->args[0], "length") == 0;
}

/* Is ok(c, length) true for a text/html part? */
static bool any_html_length(const struct saeval_call *c,
                            const struct saeval_ctx *x,
                            bool (*ok)(const struct saeval_call *, double))
{
	const struct saeval_cache *k = html_facts(x);
	if (k != NULL) {
		for (size_t i = 0; i < k->nhp; i++)
			if (ok(c, (double)k->hp[i].chars))
				return true;
		return false;
	}
	const struct msg *m = x->m;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (is_html_part(p) && ok(c, html_length(p)))
			return true;
	}
	return false;
}

static bool range_ok(const struct saeval_call *c, double l)
{
	double lo = c->num[1];
	bool inf = c->nargs == 2 || strcmp(c->args[2], "inf") == 0;
	double hi = inf ? 0 : c->num[2];
	return l > lo && (inf || l <= hi);
}

static bool ev_html_range(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	return any_html_length(c, x, range_ok);
}

/* html_eval('length', 'OP N'), OP one of < <= > >= == !=: Perl's
 * "$val OP N" on a text/html part's length. Parses the expression into
 * op (1 <, 2 <=, 3 >, 4 >=, 5 ==, 6 !=) and *n; 0 when it does not. */
static int html_eval_op(const char *e, double *n)
{
	static const char *const ops[] = { "<=", ">=", "==", "!=", "<", ">" };
	static const int codes[] = { 2, 4, 5, 6, 1, 3 };
	while (*e == ' ')
		e++;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t l = strlen(ops[i]);
		if (strncmp(e, ops[i], l) != 0)
			continue;
		char *rest;
		*n = strtod(e + l, &rest);
		while (*rest == ' ')
			rest++;
		return rest != e + l && *rest == '\0' ? codes[i] : 0;
	}
	return 0;
}

static bool ok_html_eval(const struct saeval_call *c)
{
	double n;
	return c->nargs == 2 && strcmp(c->args[0], "length") == 0 &&
	       html_eval_op(c->args[1], &n) != 0;
}

static bool eval_ok(const struct saeval_call *c, double l)
{
	double n = c->html_n;
	int op = c->html_op;
	return op == 1 ? l < n : op == 2 ? l <= n : op == 3 ? l > n :
	       op == 4 ? l >= n : op == 5 ? l == n : l != n;
}

static bool ev_html_eval(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	return any_html_length(c, x, eval_ok);
}

/* html_text_match('anchor', '<img>'): an <img> inside <a> (only this
 * pair: other texts and patterns need the rendered anchor text). */
static bool ok_html_text_match(const struct saeval_call *c)
{
	return c->nargs == 2 && strcmp(c->args[0], "anchor") == 0 &&
	       strcmp(c->args[1], "<img>") == 0;
}

static bool ev_html_text_match(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	(void)c;
	const struct msg *m = x->m;
	const struct saeval_cache *k = html_facts(x);
	for (size_t i = 0; k != NULL && i < k->nhp; i++)
		if (k->hp[i].img_in_a)
			return true;
	if (k != NULL)
		return false;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		size_t inside_a = 0;
		if (is_html_part(p) && html_walk_tags(p->text.ptr, p->text.len,
		                                      img_in_anchor, &inside_a))
			return true;
	}
	return false;
}

/* html_test('font_low_contrast'): text drawn in a colour (almost) equal
 * to its background, as HTML.pm's text-style stack sees it. That model
 * is SpamAssassin's own, so it is kept here rather than in html.c: only
 * body/font/basefont colours (text=, color=) and style="color: ...;
 * background[-color]: ..." on table, tr, td, th, span, p, div, a count
 * (bgcolor= attributes are ignored); defaults black on white. */
enum { COL_INVALID = -1, COL_EMPTY = -2, COL_TRANSPARENT = -3 };

/* CSS 3 colour keywords (sorted). */
static const struct {
	const char *name;
	long rgb;
} css_colors[] = {
	{ "aliceblue", 0xf0f8ff }, { "antiquewhite", 0xfaebd7 },
	{ "aqua", 0x00ffff }, { "aquamarine", 0x7fffd4 },
	{ "azure", 0xf0ffff }, { "beige", 0xf5f5dc }, { "bisque", 0xffe4c4 },
	{ "black", 0x000000 }, { "blanchedalmond", 0xffebcd },
	{ "blue", 0x0000ff }, { "blueviolet", 0x8a2be2 },
	{ "brown", 0xa52a2a }, { "burlywood", 0xdeb887 },
	{ "cadetblue", 0x5f9ea0 }, { "chartreuse", 0x7fff00 },
	{ "chocolate", 0xd2691e }, { "coral", 0xff7f50 },
	{ "cornflowerblue", 0x6495ed }, { "cornsilk", 0xfff8dc },
	{ "crimson", 0xdc143c }, { "cyan", 0x00ffff },
	{ "darkblue", 0x00008b }, { "darkcyan", 0x008b8b },
	{ "darkgoldenrod", 0xb8860b }, { "darkgray", 0xa9a9a9 },
	{ "darkgreen", 0x006400 }, { "darkgrey", 0xa9a9a9 },
	{ "darkkhaki", 0xbdb76b }, { "darkmagenta", 0x8b008b },
	{ "darkolivegreen", 0x556b2f }, { "darkorange", 0xff8c00 },
	{ "darkorchid", 0x9932cc }, { "darkred", 0x8b0000 },
	{ "darksalmon", 0xe9967a }, { "darkseagreen", 0x8fbc8f },
	{ "darkslateblue", 0x483d8b }, { "darkslategray", 0x2f4f4f },
	{ "darkslategrey", 0x2f4f4f }, { "darkturquoise", 0x00ced1 },
	{ "darkviolet", 0x9400d3 }, { "deeppink", 0xff1493 },
	{ "deepskyblue", 0x00bfff }, { "dimgray", 0x696969 },
	{ "dimgrey", 0x696969 }, { "dodgerblue", 0x1e90ff },
	{ "firebrick", 0xb22222 }, { "floralwhite", 0xfffaf0 },
	{ "forestgreen", 0x228b22 }, { "fuchsia", 0xff00ff },
	{ "gainsboro", 0xdcdcdc }, { "ghostwhite", 0xf8f8ff },
	{ "gold", 0xffd700 }, { "goldenrod", 0xdaa520 }, { "gray", 0x808080 },
	{ "green", 0x008000 }, { "greenyellow", 0xadff2f },
	{ "grey", 0x808080 }, { "honeydew", 0xf0fff0 },
	{ "hotpink", 0xff69b4 }, { "indianred", 0xcd5c5c },
	{ "indigo", 0x4b0082 }, { "ivory", 0xfffff0 }, { "khaki", 0xf0e68c },
	{ "lavender", 0xe6e6fa }, { "lavenderblush", 0xfff0f5 },
	{ "lawngreen", 0x7cfc00 }, { "lemonchiffon", 0xfffacd },
	{ "lightblue", 0xadd8e6 }, { "lightcoral", 0xf08080 },
	{ "lightcyan", 0xe0ffff }, { "lightgoldenrodyellow", 0xfafad2 },
	{ "lightgray", 0xd3d3d3 }, { "lightgreen", 0x90ee90 },
	{ "lightgrey", 0xd3d3d3 }, { "lightpink", 0xffb6c1 },
	{ "lightsalmon", 0xffa07a }, { "lightseagreen", 0x20b2aa },
	{ "lightskyblue", 0x87cefa }, { "lightslategray", 0x778899 },
	{ "lightslategrey", 0x778899 }, { "lightsteelblue", 0xb0c4de },
	{ "lightyellow", 0xffffe0 }, { "lime", 0x00ff00 },
	{ "limegreen", 0x32cd32 }, { "linen", 0xfaf0e6 },
	{ "magenta", 0xff00ff }, { "maroon", 0x800000 },
	{ "mediumaquamarine", 0x66cdaa }, { "mediumblue", 0x0000cd },
	{ "mediumorchid", 0xba55d3 }, { "mediumpurple", 0x9370db },
	{ "mediumseagreen", 0x3cb371 }, { "mediumslateblue", 0x7b68ee },
	{ "mediumspringgreen", 0x00fa9a }, { "mediumturquoise", 0x48d1cc },
	{ "mediumvioletred", 0xc71585 }, { "midnightblue", 0x191970 },
	{ "mintcream", 0xf5fffa }, { "mistyrose", 0xffe4e1 },
	{ "moccasin", 0xffe4b5 }, { "navajowhite", 0xffdead },
	{ "navy", 0x000080 }, { "oldlace", 0xfdf5e6 }, { "olive", 0x808000 },
	{ "olivedrab", 0x6b8e23 }, { "orange", 0xffa500 },
	{ "orangered", 0xff4500 }, { "orchid", 0xda70d6 },
	{ "palegoldenrod", 0xeee8aa }, { "palegreen", 0x98fb98 },
	{ "paleturquoise", 0xafeeee }, { "palevioletred", 0xdb7093 },
	{ "papayawhip", 0xffefd5 }, { "peachpuff", 0xffdab9 },
	{ "peru", 0xcd853f }, { "pink", 0xffc0cb }, { "plum", 0xdda0dd },
	{ "powderblue", 0xb0e0e6 }, { "purple", 0x800080 },
	{ "red", 0xff0000 }, { "rosybrown", 0xbc8f8f },
	{ "royalblue", 0x4169e1 }, { "saddlebrown", 0x8b4513 },
	{ "salmon", 0xfa8072 }, { "sandybrown", 0xf4a460 },
	{ "seagreen", 0x2e8b57 }, { "seashell", 0xfff5ee },
	{ "sienna", 0xa0522d }, { "silver", 0xc0c0c0 },
	{ "skyblue", 0x87ceeb }, { "slateblue", 0x6a5acd },
	{ "slategray", 0x708090 }, { "slategrey", 0x708090 },
	{ "snow", 0xfffafa }, { "springgreen", 0x00ff7f },
	{ "steelblue", 0x4682b4 }, { "tan", 0xd2b48c }, { "teal", 0x008080 },
	{ "thistle", 0xd8bfd8 }, { "tomato", 0xff6347 },
	{ "turquoise", 0x40e0d0 }, { "violet", 0xee82ee },
	{ "wheat", 0xf5deb3 }, { "white", 0xffffff },
	{ "whitesmoke", 0xf5f5f5 }, { "yellow", 0xffff00 },
	{ "yellowgreen", 0x9acd32 },
};

/* "#" + hex digits as HTML.pm's name_to_rgb reads them. */
static long hex_color(const char *s, size_t n)
{
	char h[7];
	size_t l = 0;
	for (size_t i = 0; i < n; i++)
		if (isxdigit((unsigned char)s[i])) {
			if (l == 6)
				break;
			h[l++] = s[i];
		}
	if (l > 3 && l < 6)
		l = 3;
	while (l % 3 != 0)
		h[l++] = '0';
	if (l == 0)
		return COL_EMPTY;
	if (l == 3) {
		h[5] = h[2], h[4] = h[2], h[3] = h[1], h[2] = h[1];
		h[1] = h[0];
	}
	h[6] = '\0';
	return strtol(h, NULL, 16);
}

/* rgb(r, g, b) or rgb(r%, g%, b%) to a colour; COL_INVALID otherwise. */
static long rgb_func(const char *s)
{
	const char *p = strstr(s, "rgb(");
	if (p == NULL)
		return COL_INVALID;
	p += 4;
	long v[3];
	int pct = -1;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return COL_INVALID;
		char *e;
		v[i] = strtol(p, &e, 10);
		int is_pct = *e == '%';
		if (pct >= 0 && is_pct != pct)
			return COL_INVALID;
		pct = is_pct;
		p = e + is_pct;
		if (i < 2) {
			if (*p++ != ',')
				return COL_INVALID;
			while (isspace((unsigned char)*p))
				p++;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != ')')
		return COL_INVALID;
	char buf[32];
	size_t l = 1;
	buf[0] = '#';
	for (int i = 0; i < 3; i++) {
		long x = pct ? (long)(v[i] / 100.0 * 255) : v[i];
		l += (size_t)snprintf(buf + l, sizeof buf - l, "%02lx",
		                      x > 0xfff ? 0xfff : x);
	}
	return hex_color(buf, l);
}

/* HTML.pm's name_to_rgb: a keyword, #hex (any length) or rgb(). */
static long sa_color(const char *s, size_t n)
{
	char buf[64];
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= sizeof buf)
		return COL_INVALID;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[n] = '\0';
	/* the names are sorted and unique: a binary search finds what the
	 * list read in order would */
	size_t lo = 0, hi = sizeof css_colors / sizeof css_colors[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(css_colors[mid].name, buf);
		if (d == 0)
			return css_colors[mid].rgb;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (strstr(buf, "rgb(") != NULL)
		return rgb_func(buf);
	if (strspn(buf, "#0123456789abcdef") != n || buf[0] != '#')
		return COL_INVALID;
	return hex_color(buf, n);
}

/* style="color: rgb(...)": the digits of the value, clamped. */
static long css_rgb(const char *v)
{
	long c[3] = { 0, 0, 0 };
	int i = 0;
	for (const char *p = v; *p != '\0' && i < 3; p++) {
		if (*p == ',')
			i++;
		else if (isdigit((unsigned char)*p)) {
			c[i] = c[i] * 10 + (*p - '0');
			if (c[i] > 255)
				c[i] = 255;
		}
	}
	return c[0] << 16 | c[1] << 8 | c[2];
}

struct lc_style {
	char tag[12];
	long fg, bg;
};

/* snprintf(dst, 12, "%s", src) without the printf machinery. */
static void copy_tag(char dst[12], const char *src)
{
	size_t l = strnlen(src, 11);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

#define LC_DEPTH 256

struct lc_state {
	struct lc_style st[LC_DEPTH];
	size_t n;
};

/* One "color: v" or "background-color: v" declaration. */
static void css_color_decl(long *dst, const char *v)
{
	char val[64];
	size_t l = strlen(v);
	if (l >= sizeof val)
		l = sizeof val - 1;
	for (size_t i = 0; i < l; i++)
		val[i] = (char)tolower((unsigned char)v[i]);
	val[l] = '\0';
	/* a trailing "!important" is not part of the colour */
	char *bang = strrchr(val, '!');
	if (bang != NULL && strcmp(bang + 1 + strspn(bang + 1, " \t"),
	                           "important") == 0) {
		*bang = '\0';
		l = strlen(val);
		while (l > 0 && isspace((unsigned char)val[l - 1]))
			val[--l] = '\0';
	}
	if (strstr(val, "rgb") != NULL)
		*dst = css_rgb(val);
	else if (strcmp(val, "inherit") == 0)
		return;
	else if (strcmp(val, "transparent") == 0)
		*dst = COL_TRANSPARENT;
	else
		*dst = sa_color(val, l);
}

/* "background: ..." : the first colour among the last layer's words. */
static void css_background(long *dst, const char *v)
{
	const char *layer = v;
	int depth = 0;
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (*p == ',' && depth == 0)
			layer = p + 1;
	}
	const char *p = layer;
	while (*p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		const char *w = p;
		depth = 0;
		while (*p != '\0' && (depth > 0 || !isspace((unsigned char)*p))) {
			depth += *p == '(' ? 1 : *p == ')' && depth > 0 ? -1 : 0;
			p++;
		}
		if (p > w) {
			long c = sa_color(w, (size_t)(p - w));
			if (c != COL_INVALID) {
				*dst = c;
				return;
			}
		}
	}
}

/* Apply style="..." to st (parent: the style below it). */
static void lc_css(struct lc_style *st, const struct lc_style *parent,
                   const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *e = memchr(p, ';', (size_t)(end - p));
		if (e == NULL)
			e = end;
		char d[256];
		size_t l = (size_t)(e - p) < sizeof d - 1 ? (size_t)(e - p) :
		           sizeof d - 1;
		memcpy(d, p, l);
		d[l] = '\0';
		while (l > 0 && isspace((unsigned char)d[l - 1]))
			d[--l] = '\0';
		const char *k = d + strspn(d, " \t\r\n\f");
		if (strncasecmp(k, "color:", 6) == 0)
			css_color_decl(&st->fg, k + 6 + strspn(k + 6, " \t\r\n"));
		else if (strncasecmp(k, "background-color:", 17) == 0)
			css_color_decl(&st->bg, k + 17 + strspn(k + 17, " \t\r\n"));
		else if (strncmp(k, "background:", 11) == 0)
			css_background(&st->bg, k + 11);
		p = e + 1;
	}
	if (st->bg == COL_TRANSPARENT)
		st->bg = parent->bg;
	if (st->fg == COL_TRANSPARENT)
		st->fg = st->bg;
}

static bool lc_has(const struct lc_state *s, const char *tag)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->st[i].tag, tag) == 0)
			return true;
	return false;
}

/* The value of attribute `name` in a start tag's attribute text. */
static bool tag_attr(const char *p, const char *end, const char *name,
                     const char **v, size_t *vl)
{
	size_t nl = strlen(name);
	while (p < end) {
		while (p < end && (isspace((unsigned char)*p) || *p == '/'))
			p++;
		const char *k = p;
		while (p < end && !isspace((unsigned char)*p) && *p != '=' &&
		       *p != '>')
			p++;
		size_t kl = (size_t)(p - k);
		if (kl == 0)
			return false;
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *val = p;
		size_t l = 0;
		if (p < end && *p == '=') {
			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				const char *q = memchr(p + 1, *p,
				                       (size_t)(end - p - 1));
				val = p + 1;
				p = q ? q + 1 : end;
				l = (size_t)((q ? q : end) - val);
			} else {
				val = p;
				while (p < end && !isspace((unsigned char)*p))
					p++;
				l = (size_t)(p - val);
			}
		}
		if (kl == nl && strncasecmp(k, name, nl) == 0) {
			*v = val;
			*vl = l;
			return true;
		}
	}
	return false;
}

static const char *const lc_tags[] = {
	"body", "font", "table", "tr", "td", "big", "small", "basefont",
	"marquee", "span", "p", "div", "a", NULL,
};

/* HTML.pm's text_style for a start (open) or end tag; attrs: the text
 * after the name, up to '>'. */
static void lc_tag(struct lc_state *s, const char *name, bool open,
                   const char *attrs, const char *aend)
{
	const char *v;
	size_t vl;
	if (!open) {
		if (strcmp(name, "body") == 0 || !lc_has(s, name))
			return;
		while (s->n > 1 && strcmp(s->st[--s->n].tag, name) != 0)
			;
		return;
	}
	if (strcmp(name, "basefont") == 0 &&
	    tag_attr(attrs, aend, "size", &v, &vl)) {
		size_t b = 0;
		while (b < vl && isspace((unsigned char)v[b]))
			b++;
		if (b < vl && isdigit((unsigned char)v[b]))
			return;
	}
	bool td = strcmp(name, "td") == 0, tr = strcmp(name, "tr") == 0;
	if ((td || tr) && lc_has(s, name))
		while (s->n > 1) {
			const char *t = s->st[s->n - 1].tag;
			if (strcmp(t, "font") == 0 || strcmp(t, "td") == 0 ||
			    (tr && strcmp(t, "tr") == 0))
				s->n--;
			else
				break;
		}
	if (s->n == LC_DEPTH)
		return;
	struct lc_style *st = &s->st[s->n], *parent = &s->st[s->n - 1];
	*st = *parent;
	copy_tag(st->tag, name);
	s->n++;
	bool fontish = strcmp(name, "font") == 0 ||
	               strcmp(name, "basefont") == 0;
	if (fontish && tag_attr(attrs, aend, "color", &v, &vl))
		st->fg = sa_color(v, vl);
	if (strcmp(name, "body") == 0 && tag_attr(attrs, aend, "text", &v, &vl))
		st->fg = sa_color(v, vl);
	bool styled = !fontish && strcmp(name, "body") != 0 &&
	              strcmp(name, "marquee") != 0 &&
	              strcmp(name, "big") != 0 && strcmp(name, "small") != 0;
	if (styled && tag_attr(attrs, aend, "style", &v, &vl))
		lc_css(st, parent, v, vl);
}

/* HTML.pm's html_font_invisible, first branches. */
static bool lc_low(const struct lc_style *st)
{
	if (st->fg == st->bg)
		return true;
	if (st->fg < 0 || st->bg < 0)
		return false;
	double r = (double)((st->fg >> 16 & 255) - (st->bg >> 16 & 255));
	double g = (double)((st->fg >> 8 & 255) - (st->bg >> 8 & 255));
	double b = (double)((st->fg & 255) - (st->bg & 255));
	double d = sqrt(pow(0.2126 * r, 2) + pow(0.7152 * g, 2) +
	                pow(0.0722 * b, 2));
	return d < 12;
}

/* Text s[0..n) holds something other than blanks and "&nbsp;". */
static bool lc_text_shows(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];   /* strchr(" \t\n\r\f\v", ch), NUL included */
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		    ch == '\f' || ch == '\v' || ch == '\0')
			continue;
		if (n - i >= 6 && memcmp(s + i, "&nbsp;", 6) == 0) {
			i += 5;
			continue;
		}
		return true;
	}
	return false;
}

static bool part_low_contrast(const char *s, size_t n)
{
	struct lc_state *st = malloc(sizeof *st);
	if (st == NULL)
		return false;
	st->n = 1;
	snprintf(st->st[0].tag, sizeof st->st[0].tag, "default");
	st->st[0].fg = 0x000000;
	st->st[0].bg = 0xffffff;
	const char *p = s, *end = s + n;
	bool hit = false;
	while (p < end && !hit) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *te = lt ? lt : end;
		if (te > p && lc_text_shows(p, (size_t)(te - p)) &&
		    lc_low(&st->st[st->n - 1]))
			hit = true;
		if (lt == NULL)
			break;
		p = lt + 1;
		if (end - p >= 3 && memcmp(p, "!--", 3) == 0) {
			const char *q = find_ci(p + 3, end, "-->");
			p = q ? q + 3 : end;
			continue;
		}
		bool close = p < end && *p == '/';
		const char *name = close ? p + 1 : p;
		if (p < end && (*p == '!' || *p == '?')) {
			const char *q = memchr(p, '>', (size_t)(end - p));
			p = q ? q + 1 : end;
			continue;
		}
		if (name >= end || !isalpha((unsigned char)*name)) {
			/* a lone '<' is text */
			if (lc_text_shows(lt, 1) && lc_low(&st->st[st->n - 1]))
				hit = true;
			continue;
		}
		char tag[12];
		size_t tl = 0;
		const char *q = name;
		while (q < end && !isspace((unsigned char)*q) && *q != '>' &&
		       *q != '/') {
			if (tl < sizeof tag - 1)
				tag[tl++] = (char)tolower((unsigned char)*q);
			q++;
		}
		tag[tl] = '\0';
		const char *gt = q;
		char quote = 0;
		while (gt < end && (quote || *gt != '>')) {
			if (quote && *gt == quote)
				quote = 0;
			else if (!quote && (*gt == '"' || *gt == '\'') &&
			         gt > q && gt[-1] == '=')
				quote = *gt;
			gt++;
		}
		if (strcmp(tag, "th") == 0)
			copy_tag(tag, "td");
		for (const char *const *t = lc_tags; *t != NULL; t++)
			if ((*t)[0] == tag[0] && strcmp(*t, tag) == 0)
				lc_tag(st, tag, !close, q, gt);
		p = gt < end ? gt + 1 : end;
		if (!close && (strcmp(tag, "script") == 0 ||
		               strcmp(tag, "style") == 0)) {
			const char *lit = tag[1] == 'c' ? "</script" : "</style";
			const char *e = find_ci(p, end, lit);
			p = e ? e : end;
		}
	}
	free(st);
	return hit;
}

static bool html_low_contrast(const struct msg *m)
{
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (is_html_part(p) && part_low_contrast(p->text.ptr, p->text.len))
			return true;
	}
	return false;
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
		uint64_t x = load8(s + k) ^ (ONES8 * ' ');   /* spaces: 0 */
		/* high bit of each byte set when that byte is not 0 (exact:
		 * no carry leaves a byte) */
		uint64_t nz = (((x & ~HIGH8) + ~HIGH8) | x) & HIGH8;
		sp += 8 - high_bits8(nz);
	}
	for (; k < n; k++)
		sp += s[k] == ' ';
	return sp;
}

static bool ev_tvd_vertical_words(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	double lo = c->num[0], hi = c->num[1];
	if (hi >= 100)
		hi = 101;
	long best = -1;
	for (size_t i = 0; i < msg_body_count(m); i++) {
		struct msg_text t = msg_body_at(m, i);
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

/* ---- more HeaderEval ---- */

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
			uint64_t w = load8(text + i);
			if ((w & HIGH8) || in_range8(w, 0x20, 0x7e) != HIGH8)
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
			const struct msg_header *h = hdr_next(x, hname, &pos);
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
		const char *s = buf_str(&b);
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

static bool ok_three_args(const struct saeval_call *c)
{
	return c->nargs == 3;
}

static bool ev_missing_to(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	(void)c;
	/* an empty To: counts as present (SpamAssassin's get() keeps its
	 * line end) */
	struct strbuf b = { 0 };
	bool any = get_header(x, "To", false, &b) ||
	           get_header(x, "Apparently-To", false, &b);
	free(b.p);
	return !any;
}

/* The first From address ends with @DOMAIN (case-insensitive, with a
 * word boundary before DOMAIN). */
static bool from_is(const struct saeval_ctx *x, const char *domain, struct strbuf *f)
{
	get_first_addr(x, "From", f);
	const char *s = buf_str(f);
	size_t n = s ? strlen(s) : 0, l = strlen(domain);
	if (n < l || strcasecmp(s + n - l, domain) != 0)
		return false;
	return n == l || !(isalnum((unsigned char)s[n - l - 1]) ||
	                   s[n - l - 1] == '_');
}

static bool hdr_matches(const struct saeval_ctx *x, const char *name, enum re_id id,
                        bool *present)
{
	struct strbuf b = { 0 };
	bool any = get_header(x, name, false, &b);
	if (present != NULL)
		*present = any;
	bool yes = re_str(id, buf_str(&b));
	free(b.p);
	return yes;
}

/* SpamAssassin's _check_for_forged_hotmail_received_headers(): 1 for
 * forged hotmail Received, 2 for a hotmail From without hotmail
 * Received, 0 for neither (a cached_fact()). */
static double hotmail_check(const struct saeval_ctx *x)
{
	struct strbuf b = { 0 }, f = { 0 };
	double res = 0;
	const char *r = rcvd_flat(x, &b);
	size_t rn = r != NULL ? strlen(r) : 0;
#define RRE(id) re_find(id, r, rn, NULL, 0)
	if (r == NULL || RRE(RE_HM_PICKUP))
		goto out;
	if (hdr_matches(x, "To", RE_HM_MSN_TO, NULL) && RRE(RE_HM_MSN_RCVD))
		goto out;   /* MSN groups (Message-Id checks left out) */
	bool ip = hdr_matches(x, "X-Originating-Ip", RE_IPADDR, NULL);
	bool orig = hdr_matches(x, "X-OriginatorOrg", RE_HM_ORIG, NULL);
	if (gated_rcvd_remover(x))
		goto out;
	if ((ip && (RRE(RE_HM_OK1) || RRE(RE_HM_OK4) || RRE(RE_HM_OK5) ||
	            RRE(RE_HM_OK6))) ||
	    (orig && (RRE(RE_HM_OK2) || RRE(RE_HM_OK3))))
		goto out;
#undef RRE
	if (re_str(RE_HM_HELO, r))
		res = 1;
	else if (from_is(x, "hotmail.com", &f))
		res = 2;
out:
	free(b.p);
	free(f.p);
	return res;
}

static bool ev_forged_hotmail(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	(void)c;
	return cached_fact(x, FACT_HOTMAIL, hotmail_check) == 1;
}

static bool ev_no_hotmail(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	(void)c;
	return cached_fact(x, FACT_HOTMAIL, hotmail_check) == 2;
}

static bool ev_forged_eudoramail(const struct saeval_call *c,
                                 const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf f = { 0 }, b = { 0 };
	bool hit = false;
	if (!from_is(x, "eudoramail.com", &f))
		goto out;
	const char *r = rcvd_flat(x, &b);
	bool ip = hdr_matches(x, "X-Sender-Ip", RE_IPADDR, NULL);
	if (gated_rcvd_remover(x) || (ip && re_str(RE_EUDORA, r)))
		goto out;
	hit = true;
out:
	free(f.p);
	free(b.p);
	return hit;
}

static bool ev_forged_juno(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf f = { 0 }, xo = { 0 }, xm = { 0 }, r = { 0 };
	bool hit = false;
	if (!from_is(x, "juno.com", &f) || gated_rcvd_remover(x))
		goto out;
	get_header(x, "X-Originating-IP", false, &xo);
	get_header(x, "X-Mailer", false, &xm);
	const char *rs = rcvd_joined(x, &r, NULL), *ms = buf_str(&xm),
	           *os = buf_str(&xo);
	if (rs == NULL || ms == NULL || os == NULL)
		goto out;
	if (xo.len) {
		hit = (!re_str(RE_JUNO1, rs) && !re_str(RE_JUNO2, rs)) ||
		      strstr(ms, "Juno ") == NULL;
	} else {
		if (re_str(RE_JUNO3, rs))
			hit = !re_str(RE_JUNO3X, ms);
		else if (re_str(RE_JUNO4, rs))
			hit = !re_str(RE_JUNO4X, ms);
		else
			hit = true;
		hit = hit || !re_str(RE_IPADDR, os);
	}
out:
	free(f.p);
	free(xo.p);
	free(xm.p);
	free(r.p);
	return hit;
}

static bool ev_forged_gmail(const struct saeval_call *c,
                            const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf f = { 0 }, a = { 0 }, b = { 0 }, xr = { 0 }, r = { 0 };
	bool hit = false;
	if (!from_is(x, "gmail.com", &f))
		goto out;
	get_header(x, "X-Gm-Message-State", false, &a);
	get_header(x, "X-Google-Smtp-Source", false, &b);
	get_header(x, "X-Received", false, &xr);
	if (re_str(RE_GM1, buf_str(&xr)) || re_str(RE_GM2, buf_str(&xr)) ||
	    re_str(RE_GM3, rcvd_joined(x, &r, NULL)))
		goto out;
	hit = !(a.len >= 60 && b.len >= 60);
out:
	free(f.p);
	free(a.p);
	free(b.p);
	free(xr.p);
	free(r.p);
	return hit;
}

/* ---- the table ---- */

/* ---- FreeMail (freemail_domains from the rule files) ---- */

struct freemail {
	char **dom, **wild, **wl;   /* lower-case; dom and wl sorted */
	size_t ndom, nwild, nwl;
	size_t capdom, capwild, capwl;
	/* FreeMail.pm's numeric settings (fm_setting): the body address
	 * counts that make it give up, whether it does, and whether
	 * check_freemail_replyto skips bulk-looking envelope senders */
	double max_body_emails, max_body_freemails;
	double skip_when_over_max, skip_bulk_envfrom;
	size_t refs;                /* calls sharing it (fm_intern) */
	struct freemail *next;      /* in fm_live */
};

static void fm_free(struct freemail *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->ndom; i++)
		free(f->dom[i]);
	for (size_t i = 0; i < f->nwild; i++)
		free(f->wild[i]);
	for (size_t i = 0; i < f->nwl; i++)
		free(f->wl[i]);
	free(f->dom);
	free(f->wild);
	free(f->wl);
	free(f);
}

/* The lists in use: calls whose lists are equal share one, so that the
 * per-message cache can remember fm_is() answers across calls. */
static pthread_mutex_t fm_mu = PTHREAD_MUTEX_INITIALIZER;
static struct freemail *fm_live;

static bool fm_strs_equal(char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool fm_equal(const struct freemail *a, const struct freemail *b)
{
	return a->ndom == b->ndom && a->nwild == b->nwild && a->nwl == b->nwl &&
	       a->max_body_emails == b->max_body_emails &&
	       a->max_body_freemails == b->max_body_freemails &&
	       a->skip_when_over_max == b->skip_when_over_max &&
	       a->skip_bulk_envfrom == b->skip_bulk_envfrom &&
	       fm_strs_equal(a->dom, b->dom, a->ndom) &&
	       fm_strs_equal(a->wild, b->wild, a->nwild) &&
	       fm_strs_equal(a->wl, b->wl, a->nwl);
}

/* f, or (f freed) a live list equal to it; the result is released with
 * fm_release(). */
static struct freemail *fm_intern(struct freemail *f)
{
	pthread_mutex_lock(&fm_mu);
	struct freemail *g = fm_live;
	while (g != NULL && !fm_equal(g, f))
		g = g->next;
	if (g != NULL) {
		g->refs++;
		fm_free(f);
	} else {
		g = f;
		g->refs = 1;
		g->next = fm_live;
		fm_live = g;
	}
	pthread_mutex_unlock(&fm_mu);
	return g;
}

static void fm_release(struct freemail *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&fm_mu);
	bool last = --f->refs == 0;
	if (last) {
		struct freemail **pp = &fm_live;
		while (*pp != f)
			pp = &(*pp)->next;
		*pp = f->next;
	}
	pthread_mutex_unlock(&fm_mu);
	if (last)
		fm_free(f);
}

static int fm_push(char ***v, size_t *n, size_t *cap, const char *s,
                   size_t len)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char **nv = realloc(*v, nc * sizeof *nv);
		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = nc;
	}
	char *d = malloc(len + 1);
	if (d == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[len] = '\0';
	(*v)[(*n)++] = d;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One freemail_domains/welcomelist value, split at blanks, as
 * FreeMail.pm's parse_config: a domain with a character outside
 * [a-zA-Z0-9.*?-] is refused; one with * or ? is a wildcard. */
static int fm_add(struct freemail *f, bool domains, const char *v)
{
	while (*v) {
		while (*v && isspace((unsigned char)*v))
			v++;
		size_t n = 0;
		while (v[n] && !isspace((unsigned char)v[n]))
			n++;
		if (n == 0)
			break;
		bool ok = true, wild = false;
		for (size_t i = 0; i < n && domains; i++) {
			unsigned char ch = (unsigned char)v[i];
			wild |= ch == '*' || ch == '?';
			ok &= isalnum(ch) || ch == '.' || ch == '*' ||
			      ch == '?' || ch == '-';
		}
		int rc = 0;
		if (!domains)
			rc = fm_push(&f->wl, &f->nwl, &f->capwl, v, n);
		else if (ok && wild)
			rc = fm_push(&f->wild, &f->nwild, &f->capwild, v, n);
		else if (ok)
			rc = fm_push(&f->dom, &f->ndom, &f->capdom, v, n);
		if (rc != 0)
			return -1;
		v += n;
	}
	return 0;
}

/* Is k one of FreeMail's numeric settings? Then v is set into f when
 * valid: SpamAssassin takes a value of the form [+-]digits[.digits] and
 * refuses (keeps what it had) anything else. */
static bool fm_setting(struct freemail *f, const char *k, const char *v)
{
	static const char *const names[] = {
		"freemail_max_body_emails", "freemail_max_body_freemails",
		"freemail_skip_when_over_max", "freemail_skip_bulk_envfrom",
	};
	double *const dst[] = {
		&f->max_body_emails, &f->max_body_freemails,
		&f->skip_when_over_max, &f->skip_bulk_envfrom,
	};
	size_t i = 0;
	while (i < sizeof names / sizeof names[0] && strcmp(k, names[i]) != 0)
		i++;
	if (i == sizeof names / sizeof names[0])
		return false;
	const char *p = v + (*v == '+' || *v == '-');
	size_t d = strspn(p, "0123456789");
	if (d > 0 && p[d] == '.')
		d += 1 + strspn(p + d + 1, "0123456789");
	if (d > 0 && p[d] == '\0')
		*dst[i] = strtod(v, NULL);
	return true;
}

static int fm_build(const struct ruleset *rs, struct freemail **out)
{
	struct freemail *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	/* FreeMail.pm's defaults */
	f->max_body_emails = 5;
	f->max_body_freemails = 3;
	f->skip_when_over_max = 1;
	f->skip_bulk_envfrom = 1;
	for (size_t i = 0; i < ruleset_setting_count(rs); i++) {
		const char *k, *v;
		if (!ruleset_setting_at(rs, i, &k, &v))
			break;
		if (fm_setting(f, k, v))
			continue;
		bool dom = strcmp(k, "freemail_domains") == 0;
		if (!dom && strcmp(k, "freemail_welcomelist") != 0 &&
		    strcmp(k, "freemail_whitelist") != 0)
			continue;
		if (fm_add(f, dom, v) != 0) {
			fm_free(f);
			return -1;
		}
	}
	if (f->ndom)
		qsort(f->dom, f->ndom, sizeof *f->dom, cmp_str);
	if (f->nwl)
		qsort(f->wl, f->nwl, sizeof *f->wl, cmp_str);
	*out = fm_intern(f);
	return 0;
}

static bool in_sorted(char *const *v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof *v, cmp_str) != NULL;
}

/* FreeMail.pm's wildcards: '*' stands for [^.]*, '?' for one character;
 * the whole domain must match. */
static bool glob_domain(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			for (const char *t = s;; t++) {
				if (glob_domain(p + 1, t))
					return true;
				if (*t == '\0' || *t == '.')
					return false;
			}
		}
		if (*s == '\0' || (*p != '?' && *p != *s))
			return false;
	}
	return *s == '\0';
}

/* FreeMail.pm's _is_freemail for a lower-case address. */
static bool fm_is(const struct freemail *f, const char *email)
{
	if (f == NULL || email[0] == '\0')
		return false;
	if (in_sorted(f->wl, f->nwl, email))
		return false;
	const char *at = strrchr(email, '@');
	const char *dom = at ? at + 1 : email;
	if (in_sorted(f->wl, f->nwl, dom) || re_str(RE_FM_WELCOME, email))
		return false;
	if (in_sorted(f->dom, f->ndom, dom))
		return true;
	for (size_t i = 0; at != NULL && i < f->nwild; i++)
		if (glob_domain(f->wild[i], dom))
			return true;
	return false;
}

/* fm_is(c->fm, email), remembered in x's cache for the message's other
 * calls (those with the same lists: fm_intern). */
static bool fm_is_x(const struct saeval_call *c, const struct saeval_ctx *x,
                    const char *email)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL || c->fm == NULL)
		return fm_is(c->fm, email);
	size_t n = strlen(email);
	for (size_t i = 0; i < k->nfm; i++) {
		const struct fm_memo *e = &k->fm[i];
		if (e->fm == c->fm && e->len == n &&
		    memcmp(k->fm_addr.p + e->off, email, n) == 0)
			return e->yes;
	}
	bool yes = fm_is(c->fm, email);
	if (k->nfm < sizeof k->fm / sizeof k->fm[0]) {
		size_t off = k->fm_addr.len;
		strbuf_put(&k->fm_addr, email, n);
		if (!k->fm_addr.oom)
			k->fm[k->nfm++] = (struct fm_memo){ .fm = c->fm, .off = off,
			                                    .len = n, .yes = yes };
	}
	return yes;
}

static void lower_buf(struct strbuf *b)
{
	for (size_t i = 0; i < b->len; i++)
		b->p[i] = (char)tolower((unsigned char)b->p[i]);
}

/* ---- FreeMail: the addresses of the body (FreeMail.pm's _parse_body) ----
 *
 * SpamAssassin collects, lower-cased and each once: first the address
 * of every mailto: link of an <a href> that its text parser did not
 * also find (get_uri_detail_list: type "a" without "parsed"), at most
 * 20; then the addresses of the rendered body (the Subject first, as
 * body rules see it) once URLs holding an address and addresses in <>
 * or before a "wrote:"-like word are blanked out, up to 40 in all. The
 * message's URI list (msg.h) does not say where a URI came from, so the
 * links are read again here: the <a> tags of the text/html parts, their
 * href entity-decoded and trimmed as HTML.pm does, and "found by the
 * text parser" is uri_scan_text() over the same body text. */

#define FM_MAX_MAILTO 20
#define FM_MAX_BODY 40

/* Whether list a holds s[0..n) (nocase: in any ASCII case). */
static bool fm_addrs_has(const struct fm_addrs *a, const char *s, size_t n,
                         bool nocase)
{
	if (a->b.oom)
		return false;
	const char *e = a->b.p;
	for (size_t i = 0; i < a->n; i++) {
		size_t l = strlen(e);
		if (l == n && (nocase ? strncasecmp(e, s, n) : memcmp(e, s, n)) == 0)
			return true;
		e += l + 1;
	}
	return false;
}

static void fm_addrs_add(struct fm_addrs *a, const char *s, size_t n)
{
	if (fm_addrs_has(a, s, n, true))
		return;
	size_t at = a->b.len;
	strbuf_put(&a->b, s, n);
	strbuf_put(&a->b, "", 1);
	if (a->b.oom)
		return;
	for (size_t i = at; i < at + n; i++)
		a->b.p[i] = (char)tolower((unsigned char)a->b.p[i]);
	a->n++;
}

/* Match data and the context with fm_callout, for one body parse;
 * last_start bounds the start of a match (fm_find). */
struct fm_match {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	size_t last_start;
};

/* The callouts of the body patterns. 1, in FM_EMAIL just after the last
 * label: 0 (go on) when it is a top-level domain, else 1 (fail here,
 * backtrack). 2, at the start of a pattern: no match at all once the
 * attempt starts past last_start. */
static int fm_callout(pcre2_callout_block *cb, void *data)
{
	const struct fm_match *fx = data;
	if (cb->callout_number == 2)
		return cb->start_match > fx->last_start ? PCRE2_ERROR_NOMATCH : 0;
	size_t end = cb->current_position, b = end;
	while (b > 0 && cb->subject[b - 1] != '.')
		b--;
	return uri_is_tld((const char *)cb->subject + b, end - b) ? 0 : 1;
}

static bool fm_match_init(struct fm_match *fx)
{
	fx->md = re_ok ? pcre2_match_data_create(4, NULL) : NULL;
	fx->mc = re_ok ? pcre2_match_context_create(NULL) : NULL;
	if (fx->mc != NULL)
		pcre2_set_callout(fx->mc, fm_callout, fx);
	return fx->md != NULL && fx->mc != NULL;
}

static void fm_match_free(struct fm_match *fx)
{
	pcre2_match_data_free(fx->md);
	pcre2_match_context_free(fx->mc);
}

/* Regex id on s[0..len) from offset start, no later start than
 * last_start: the match and group 1 in ov[0..4). */
static bool fm_match_at(struct fm_match *fx, enum re_id id, const char *s,
                        size_t len, size_t start, size_t last_start,
                        uint32_t opts, size_t ov[4])
{
	fx->last_start = last_start;
	int rc = pcre2_match(re_code[id], (PCRE2_SPTR)s, len, start, opts,
	                     fx->md, fx->mc);
	if (rc < 2)
		return false;
	PCRE2_SIZE *v = pcre2_get_ovector_pointer(fx->md);
	memcpy(ov, v, 4 * sizeof *ov);
	return true;
}

/* The first match from offset from of RE_FM_EMAIL or RE_FM_STRIP_QUOTED,
 * as a search from each offset in turn would find it: the address must
 * have its '@' within 64 characters of its start (65 with the '<'), and
 * it is the first '@' after the start, so only the starts up to 65
 * before each '@' are tried, each '@' in turn (callout 2 stops the
 * search at the '@'), not the whole text at every offset. */
static bool fm_find(struct fm_match *fx, enum re_id id, const char *s,
                    size_t len, size_t from, size_t ov[4])
{
	while (from < len) {
		const char *at = memchr(s + from, '@', len - from);
		if (at == NULL)
			return false;
		size_t a = (size_t)(at - s);
		size_t lo = a - from > 65 ? a - 65 : from;
		if (fm_match_at(fx, id, s, len, lo, a, 0, ov))
			return true;
		from = a + 1;
	}
	return false;
}

/* What the <a href> walk needs. */
struct fm_links {
	const struct msg *m;
	struct fm_match *fx;
	struct fm_addrs *out;
	struct arena *ar;         /* for entity decoding, made on demand */
	struct fm_addrs parsed;   /* mailto: URIs of the body text */
	bool parsed_done;
};

static void fm_parsed_uri(void *ctx, const char *raw, size_t len)
{
	struct fm_links *l = ctx;
	if (len > 7 && strncasecmp(raw, "mailto:", 7) == 0) {
		strbuf_put(&l->parsed.b, raw, len);
		strbuf_put(&l->parsed.b, "", 1);
		l->parsed.n += !l->parsed.b.oom;
	}
}

/* Did SpamAssassin's text parser find URI key too ("parsed")? */
static bool fm_text_has_uri(struct fm_links *l, const char *key, size_t n)
{
	if (!l->parsed_done) {
		l->parsed_done = true;
		for (size_t i = 0; i < msg_body_count(l->m); i++) {
			struct msg_text t = msg_body_at(l->m, i);
			uri_scan_text(t.ptr, t.len, fm_parsed_uri, l);
		}
	}
	return fm_addrs_has(&l->parsed, key, n, false);
}

/* One href value as HTML.pm keeps it (entities decoded, U+FEFF removed,
 * blanks and 0xA0 bytes trimmed), checked for a mailto: address. */
static void fm_href(struct fm_links *l, const char *v, size_t vl)
{
	/* only mailto: links matter: skip the rest before decoding (unless
	 * a reference or a U+FEFF may hide the scheme) */
	while (vl > 0 && (isspace((unsigned char)*v) || *v == '\xa0')) {
		v++;
		vl--;
	}
	if (vl < 8 || (strncasecmp(v, "mailto:", 7) != 0 &&
	               memchr(v, '&', vl) == NULL &&
	               memchr(v, '\xef', vl) == NULL))
		return;
	if (l->ar == NULL && (l->ar = arena_new(1u << 20)) == NULL)
		return;
	struct arena_buf d;
	arena_buf_init(&d, l->ar);
	html_decode_entities(v, vl < 8192 ? vl : 8192, &d);
	if (d.failed || d.len == 0)
		return;
	size_t o = 0;
	for (size_t i = 0; i < d.len; i++) {
		if (i + 2 < d.len && memcmp(d.p + i, "\xef\xbb\xbf", 3) == 0)
			i += 2;
		else
			d.p[o++] = d.p[i];
	}
	const char *k = d.p;
	while (o > 0 && (isspace((unsigned char)*k) || *k == '\xa0')) {
		k++;
		o--;
	}
	while (o > 0 && (isspace((unsigned char)k[o - 1]) || k[o - 1] == '\xa0'))
		o--;
	size_t ov[4];
	if (o > 7 && strncasecmp(k, "mailto", 6) == 0 && k[6] == ':' &&
	    fm_match_at(l->fx, RE_FM_EMAIL, k, o, 7, 7, PCRE2_ANCHORED, ov) &&
	    !fm_text_has_uri(l, k, o))
		fm_addrs_add(l->out, k + ov[2], ov[3] - ov[2]);
}

/* html_walk_tags() callback: the href of each <a> start tag; stops the
 * walk at FM_MAX_MAILTO addresses. */
static bool fm_anchor(const char *name, const char *end, bool close,
                      void *ctx)
{
	struct fm_links *l = ctx;
	if (close || !tag_at(name, end, "a"))
		return false;
	const char *q = name + 1, *gt = q;
	char quote = 0;
	while (gt < end && (quote || *gt != '>')) {
		if (quote && *gt == quote)
			quote = 0;
		else if (!quote && (*gt == '"' || *gt == '\'') && gt[-1] == '=')
			quote = *gt;
		gt++;
	}
	const char *v;
	size_t vl;
	if (tag_attr(q, gt, "href", &v, &vl))
		fm_href(l, v, vl);
	return l->out->n >= FM_MAX_MAILTO;
}

static void fm_mailto_links(const struct msg *m, struct fm_match *fx,
                            struct fm_addrs *out)
{
	struct fm_links l = { .m = m, .fx = fx, .out = out };
	for (size_t i = 0; i < msg_part_count(m) && out->n < FM_MAX_MAILTO; i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (is_html_part(p))
			(void)html_walk_tags(p->text.ptr, p->text.len, fm_anchor,
			                     &l);
	}
	arena_free(l.ar);
	free(l.parsed.b.p);
}

/* The addresses of the body text, after the mailto: ones in out. */
static void fm_text_addrs(const struct msg *m, struct fm_match *fx,
                          struct fm_addrs *out)
{
	for (size_t i = 0; i < msg_body_count(m) && out->n < FM_MAX_BODY; i++) {
		struct msg_text t = msg_body_at(m, i);
		if (t.len == 0 || memchr(t.ptr, '@', t.len) == NULL)
			continue;   /* nothing to find, nothing to blank */
		char *a = malloc(t.len + 1), *b = malloc(t.len + 1);
		if (a == NULL || b == NULL) {
			free(a);
			free(b);
			return;
		}
		/* URLs with an address (one pass of PCRE2's), then quoted
		 * addresses (fm_find's), each match blanked */
		size_t n = t.len, o = 0, at = 0, ov[4];
		PCRE2_SIZE olen = n + 1;
		if (pcre2_substitute(re_code[RE_FM_STRIP_URL], (PCRE2_SPTR)t.ptr,
		                     n, 0, PCRE2_SUBSTITUTE_GLOBAL, fx->md,
		                     fx->mc, (PCRE2_SPTR)" ", 1,
		                     (PCRE2_UCHAR *)a, &olen) >= 0)
			n = olen;
		else
			memcpy(a, t.ptr, n);
		while (fm_find(fx, RE_FM_STRIP_QUOTED, a, n, at, ov)) {
			memcpy(b + o, a + at, ov[0] - at);
			o += ov[0] - at;
			b[o++] = ' ';
			at = ov[1];
		}
		memcpy(b + o, a + at, n - at);
		n = o + n - at;
		at = 0;
		while (out->n < FM_MAX_BODY &&
		       fm_find(fx, RE_FM_EMAIL, b, n, at, ov)) {
			fm_addrs_add(out, b + ov[2], ov[3] - ov[2]);
			at = ov[1];
		}
		free(a);
		free(b);
	}
}

static void fm_body_work(const struct saeval_call *c,
                         const struct saeval_ctx *x, struct fm_body *r)
{
	struct fm_addrs all = { 0 };
	struct fm_match fx;
	r->fm = c->fm;
	if (!fm_match_init(&fx)) {
		fm_match_free(&fx);
		r->skip = true;   /* cannot tell: as if no hit */
		return;
	}
	fm_mailto_links(x->m, &fx, &all);
	fm_text_addrs(x->m, &fx, &all);
	fm_match_free(&fx);
	const struct freemail *f = c->fm;
	bool skip_over = f->skip_when_over_max != 0;
	double count_all = 0, count_fm = 0;
	const char *e = all.b.p;
	for (size_t i = 0; i < all.n && !all.b.oom; i++, e += strlen(e) + 1) {
		if (++count_all == f->max_body_emails && skip_over) {
			r->skip = true;
			break;
		}
		if (!fm_is_x(c, x, e))
			continue;
		if (++count_fm == f->max_body_freemails && skip_over) {
			r->skip = true;
			break;
		}
		fm_addrs_add(&r->fms, e, strlen(e));
	}
	if (all.b.oom || r->fms.b.oom)
		r->skip = true;
	free(all.b.p);
}

/* The body's answer for c: from the cache, or worked out into own
 * (which the caller frees). */
static const struct fm_body *fm_body(const struct saeval_call *c,
                                     const struct saeval_ctx *x,
                                     struct fm_body *own)
{
	struct saeval_cache *k = x->cache;
	if (k != NULL && k->fmb.fm == c->fm)
		return &k->fmb;
	struct fm_body *r = own;
	if (k != NULL && k->fmb.fm == NULL)
		r = &k->fmb;
	fm_body_work(c, x, r);
	return r;
}

/* Does a FreeMail rule's own regex match address e? */
static bool fm_re_match(const pcre2_code *re, const char *e)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (md == NULL)
		return false;
	int rc = pcre2_match(re, (PCRE2_SPTR)e, strlen(e), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc > 0;
}

/* Does a freemail address of the NUL-separated list (matching c->re
 * when given) exist? */
static bool fm_any(const struct saeval_call *c, const struct saeval_ctx *x,
                   struct strbuf *list, size_t count)
{
	if (list->oom || count == 0)
		return false;
	lower_buf(list);
	const char *e = list->p;
	for (size_t i = 0; i < count; i++, e += strlen(e) + 1) {
		if (!fm_is_x(c, x, e))
			continue;
		if (c->re == NULL || fm_re_match(c->re, e))
			return true;
	}
	return false;
}

/* SpamAssassin's EnvelopeFrom: the SMTP envelope sender when vigil has
 * one, else SpamAssassin's own guess from the headers (a message read
 * from a file: sa_envelope_from). False when there is none. */
static bool envelope_from(const struct saeval_ctx *x, struct strbuf *b)
{
	if (x->env_from != NULL && x->env_from[0] != '\0') {
		strbuf_put(b, x->env_from, strlen(x->env_from));
		return true;
	}
	return cached_envelope_from(x, b);
}

static void push_env(const struct saeval_ctx *x, struct strbuf *list,
                     size_t *count)
{
	struct strbuf e = { 0 };
	if (envelope_from(x, &e) && e.len > 0 && !e.oom) {
		strbuf_put(list, e.p, e.len);
		strbuf_put(list, "", 1);
		(*count)++;
	}
	free(e.p);
}

/* The optional regex argument, compiled as SpamAssassin's
 * compile_regexp would (no delimiters: the text is the pattern). */
static int fm_regex(struct saeval_call *c, size_t arg)
{
	if (c->nargs <= arg)
		return 0;
	int err;
	PCRE2_SIZE off;
	c->re = pcre2_compile((PCRE2_SPTR)c->args[arg], PCRE2_ZERO_TERMINATED,
	                      0, &err, &off, NULL);
	return c->re != NULL ? 0 : 1;
}

/* SpamAssassin's all_from_addrs: Resent-From when present, else From,
 * Envelope-Sender, Resent-Sender, X-Envelope-From and the envelope. */
static bool ev_freemail_from(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct strbuf list = { 0 };
	size_t count = 0;
	push_addrs(x, "Resent-From", &list, &count);
	if (count == 0) {
		push_addrs(x, "From", &list, &count);
		push_addrs(x, "Envelope-Sender", &list, &count);
		push_addrs(x, "Resent-Sender", &list, &count);
		push_addrs(x, "X-Envelope-From", &list, &count);
		push_env(x, &list, &count);
	}
	bool hit = fm_any(c, x, &list, count);
	free(list.p);
	return hit;
}

static bool ev_freemail_header(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	struct strbuf list = { 0 };
	size_t count = 0;
	if (strcasecmp(c->args[0], "EnvelopeFrom") == 0)
		push_env(x, &list, &count);
	else
		push_addrs(x, c->args[0], &list, &count);
	bool hit = fm_any(c, x, &list, count);
	free(list.p);
	return hit;
}

/* Is any address of the NUL-separated list freemail? */
static bool fm_any_of(const struct saeval_call *c, const struct saeval_ctx *x,
                      const char *list, size_t n)
{
	for (size_t i = 0; i < n; i++, list += strlen(list) + 1)
		if (fm_is_x(c, x, list))
			return true;
	return false;
}

static bool in_list(const char *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++, list += strlen(list) + 1)
		if (strcmp(list, s) == 0)
			return true;
	return false;
}

/* Does a freemail address of the body differ from one of the n
 * addresses of list? */
static bool fm_body_differs(const struct saeval_call *c,
                            const struct saeval_ctx *x, const char *list,
                            size_t n)
{
	struct fm_body own = { 0 };
	const struct fm_body *b = fm_body(c, x, &own);
	bool hit = false;
	const char *e = b->fms.b.p;
	for (size_t i = 0; !b->skip && !hit && i < b->fms.n;
	     i++, e += strlen(e) + 1) {
		const char *r = list;
		for (size_t j = 0; !hit && j < n; j++, r += strlen(r) + 1)
			hit = strcmp(e, r) != 0;
	}
	free(own.fms.b.p);
	return hit;
}

/* check_freemail_replyto: From and Reply-To are different freemail
 * addresses; or, when that is not so, Reply-To ('replyto', the default)
 * or, without a Reply-To, From ('reply') is freemail and the body has
 * another freemail address (fm_body). A bulk-looking EnvelopeFrom
 * (freemail_skip_bulk_envfrom) makes it false: that is checked last,
 * only for a hit, since nothing else depends on it. */
static bool ev_freemail_replyto(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	bool reply = c->nargs == 1 && strcmp(c->args[0], "reply") == 0;
	struct strbuf from = { 0 }, rt = { 0 };
	size_t nf = 0, nr = 0;
	bool hit = false;
	push_addrs(x, "From", &from, &nf);
	push_addrs(x, "Reply-To", &rt, &nr);
	if (from.oom || rt.oom)
		goto out;
	lower_buf(&from);
	lower_buf(&rt);
	bool ffm = fm_any_of(c, x, from.p, nf);
	bool rfm = fm_any_of(c, x, rt.p, nr);
	bool from_in_rt = false;
	const char *f = from.p;
	for (size_t i = 0; i < nf; i++, f += strlen(f) + 1)
		from_in_rt |= in_list(rt.p, nr, f);
	if (ffm && rfm && !from_in_rt)
		hit = true;
	else if (!reply && rfm)
		hit = fm_body_differs(c, x, rt.p, nr);
	else if (reply && (nr == 0 || rfm) && ffm)
		hit = rfm ? fm_body_differs(c, x, rt.p, nr)
		          : fm_body_differs(c, x, from.p, nf);
	if (hit && c->fm->skip_bulk_envfrom != 0) {
		struct strbuf env = { 0 };
		if (envelope_from(x, &env) && buf_str(&env) != NULL &&
		    re_str(RE_FM_BULK_ENV, env.p))
			hit = false;
		free(env.p);
	}
out:
	free(from.p);
	free(rt.p);
	return hit;
}

/* check_freemail_body: the body has a freemail address (matching the
 * optional regex), unless it has too many addresses (fm_body). */
static bool ev_freemail_body(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct fm_body own = { 0 };
	const struct fm_body *b = fm_body(c, x, &own);
	bool hit = false;
	const char *e = b->fms.b.p;
	for (size_t i = 0; !b->skip && !hit && i < b->fms.n;
	     i++, e += strlen(e) + 1)
		hit = c->re == NULL || fm_re_match(c->re, e);
	free(own.fms.b.p);
	return hit;
}

static bool ok_freemail_header(const struct saeval_call *c)
{
	if (c->nargs < 1 || c->nargs > 2 || c->args[0][0] == '\0')
		return false;
	/* "Reply-To:addr": SpamAssassin asks for "Reply-To:addr:addr",
	 * which its header getter reads as Reply-To:addr */
	const char *colon = strchr(c->args[0], ':');
	return colon == NULL || strcmp(colon, ":addr") == 0;
}

static bool ok_freemail_replyto(const struct saeval_call *c)
{
	return c->nargs == 0 || (c->nargs == 1 &&
	       (strcmp(c->args[0], "replyto") == 0 ||
	        strcmp(c->args[0], "reply") == 0));
}

/* ---- RelayEval: relay counts (relays.h) ---- */

/* Relay counts of the message: false when they cannot be had. */
static bool relay_counts(const struct saeval_ctx *x, size_t *trusted,
                         size_t *untrusted, size_t *unparseable)
{
	struct relays *own;
	const struct relays *r = get_relays(x, &own);
	if (r == NULL)
		return false;
	*trusted = relays_num(r, RELAYS_TRUSTED);
	*untrusted = relays_num(r, RELAYS_UNTRUSTED);
	*unparseable = relays_unparseable(r);
	relays_free(own);
	return true;
}

static bool ev_all_trusted(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	(void)c;
	size_t t, u, p;
	return relay_counts(x, &t, &u, &p) && t > 0 && u == 0 && p == 0;
}

static bool ev_no_relays(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	(void)c;
	size_t t, u, p;
	return relay_counts(x, &t, &u, &p) && t == 0 && u == 0 && p == 0;
}

static bool ev_relays_unparseable(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)c;
	size_t t, u, p;
	return relay_counts(x, &t, &u, &p) && p > 0;
}

/* ---- RelayEval: per-relay fields (relays_at) ---- */

/* One decimal octet as SpamAssassin's IPV4_ADDRESS spells it
 * (1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d: no leading zeros). */
static size_t v4_octet(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return 0;
	if (n == 3 && strncmp(s, "255", 3) > 0)
		return 0;
	return n;
}

/* SpamAssassin's IS_IPV4_ADDRESS: the whole string a dotted quad. */
static bool is_v4(const char *s)
{
	for (int i = 0; i < 4; i++) {
		size_t n = v4_octet(s);
		if (n == 0)
			return false;
		s += n;
		if (i < 3 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

/* helo_ip_mismatch: an untrusted relay HELO'd with a public IPv4 address
 * that is not its own and not in its /24. */
static bool ev_helo_ip_mismatch(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	(void)c;
	struct relays *own;
	const struct relays *r = get_relays(x, &own);
	if (r == NULL)
		return false;
	bool hit = false;
	size_t n = relays_num(r, RELAYS_UNTRUSTED);
	for (size_t i = 0; i < n && !hit; i++) {
		const struct relays_relay *y = relays_at(r, RELAYS_UNTRUSTED, i);
		if (!is_v4(y->helo) || relays_ip_private(y->helo))
			continue;
		if (!is_v4(y->ip) || relays_ip_private(y->ip) ||
		    strcmp(y->helo, y->ip) == 0)
			continue;
		/* the /24 prefix "a.b.c." of the HELO */
		const char *d = y->helo;
		for (int k = 0; k < 3; k++)
			d = strchr(d, '.') + 1;
		size_t pre = (size_t)(d - y->helo);
		hit = strncmp(y->ip, y->helo, pre) != 0;
	}
	relays_free(own);
	return hit;
}

/* check_for_no_rdns_dotcom_helo: SpamAssassin resets its flag for every
 * public untrusted relay, so only the oldest one counts: it HELO'd as a
 * big dotcom (aol.com, hotmail.com, ...) and its MTA found no rDNS. */
static bool ev_no_rdns_dotcom_helo(const struct saeval_call *c,
                                   const struct saeval_ctx *x)
{
	(void)c;
	struct relays *own;
	const struct relays *r = get_relays(x, &own);
	if (r == NULL)
		return false;
	const struct relays_relay *last = NULL;
	size_t n = relays_num(r, RELAYS_UNTRUSTED);
	for (size_t i = 0; i < n; i++) {
		const struct relays_relay *y = relays_at(r, RELAYS_UNTRUSTED, i);
		if (!y->ip_private)
			last = y;
	}
	bool hit = last != NULL && last->no_rdns &&
	           re_find(RE_DOTCOM_HELO, last->helo, strlen(last->helo),
	                   NULL, 0);
	relays_free(own);
	return hit;
}

typedef bool (*saeval_fn)(const struct saeval_call *c,
                          const struct saeval_ctx *x);

typedef bool (*saeval_ok)(const struct saeval_call *c);

/* ok: are the arguments ones the function implements? (NULL: any) */
static const struct {
	const char *name;
	saeval_fn fn;
	const char *plugin;
	saeval_ok ok;
} fns[] = {
	{ "check_outlook_message_id", ev_outlook_message_id, "HeaderEval", NULL },
	{ "check_for_shifted_date", ev_shifted_date, "HeaderEval", NULL },
	{ "check_equal_from_domains", ev_equal_from_domains, "HeaderEval", NULL },
	{ "subject_is_all_caps", ev_subject_all_caps, "HeaderEval", NULL },
	{ "similar_recipients", ev_similar_recipients, "HeaderEval", NULL },
	{ "check_for_fake_aol_relay_in_rcvd", ev_fake_aol_relay, "HeaderEval",
	  NULL },
	{ "check_for_forged_yahoo_received_headers", ev_forged_yahoo_rcvd,
	  "HeaderEval", NULL },
	{ "check_illegal_chars", ev_illegal_chars, "HeaderEval",
	  ok_three_args },
	{ "check_for_missing_to_header", ev_missing_to, "HeaderEval", NULL },
	{ "check_for_forged_hotmail_received_headers", ev_forged_hotmail,
	  "HeaderEval", NULL },
	{ "check_for_no_hotmail_received_headers", ev_no_hotmail,
	  "HeaderEval", NULL },
	{ "check_for_forged_eudoramail_received_headers",
	  ev_forged_eudoramail, "HeaderEval", NULL },
	{ "check_for_forged_juno_received_headers", ev_forged_juno,
	  "HeaderEval", NULL },
	{ "check_for_forged_gmail_received_headers", ev_forged_gmail,
	  "HeaderEval", NULL },
	{ "check_for_mime_html", ev_mime_html, "MIMEEval", NULL },
	{ "check_for_mime_html_only", ev_mime_html_only, "MIMEEval", NULL },
	{ "check_for_mime", ev_mime, "MIMEEval", ok_mime },
	{ "check_for_uppercase", ev_uppercase, "MIMEEval", ok_two_args },
	{ "check_for_ascii_text_illegal", ev_ascii_text_illegal, "MIMEEval",
	  NULL },
	{ "check_base64_length", ev_base64_length, "MIMEEval",
	  ok_base64_length },
	{ "html_test", ev_html_test, "HTMLEval", ok_html_test },
	{ "html_tag_exists", ev_html_tag_exists, "HTMLEval", ok_one_arg },
	{ "html_image_only", ev_html_image_only, "HTMLEval", ok_two_args },
	{ "html_range", ev_html_range, "HTMLEval", ok_html_range },
	{ "html_eval", ev_html_eval, "HTMLEval", ok_html_eval },
	{ "html_text_match", ev_html_text_match, "HTMLEval",
	  ok_html_text_match },
	{ "check_body_length", ev_body_length, "BodyEval", ok_one_arg },
	{ "tvd_vertical_words", ev_tvd_vertical_words, "BodyEval",
	  ok_two_args },
	{ "check_all_trusted", ev_all_trusted, "RelayEval", NULL },
	{ "check_no_relays", ev_no_relays, "RelayEval", NULL },
	{ "check_relays_unparseable", ev_relays_unparseable, "RelayEval",
	  NULL },
	{ "helo_ip_mismatch", ev_helo_ip_mismatch, "RelayEval", NULL },
	{ "check_for_no_rdns_dotcom_helo", ev_no_rdns_dotcom_helo, "RelayEval",
	  NULL },
	{ "check_freemail_from", ev_freemail_from, "FreeMail", NULL },
	{ "check_freemail_header", ev_freemail_header, "FreeMail",
	  ok_freemail_header },
	{ "check_freemail_replyto", ev_freemail_replyto, "FreeMail",
	  ok_freemail_replyto },
	{ "check_freemail_body", ev_freemail_body, "FreeMail", NULL },
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

/* Arguments: comma-separated, each optionally quoted with ' or ". */
static int parse_args(const char *p, const char *end, struct saeval_call *c)
{
	while (p < end) {
		while (p < end && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (p >= end)
			break;
		const char *a = p, *b;
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			a = p;
			while (p < end && *p != q)
				p++;
			b = p;
			if (p < end)
				p++;
		} else {
			while (p < end && *p != ',')
				p++;
			b = p;
			while (b > a && isspace((unsigned char)b[-1]))
				b--;
		}
		if (c->nargs == MAX_ARGS)
			return 1;
		char *s = malloc((size_t)(b - a) + 1);
		if (s == NULL)
			return -1;
		memcpy(s, a, (size_t)(b - a));
		s[b - a] = '\0';
		c->args[c->nargs++] = s;
	}
	return 0;
}

int saeval_compile(const char *eval, struct saeval_call **out)
{
	return saeval_compile_rs(eval, NULL, out);
}

int saeval_compile_rs(const char *eval, const struct ruleset *rs,
                      struct saeval_call **out)
{
	*out = NULL;
	pthread_once(&re_once, re_init);
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
		c->num[i] = atof(c->args[i]);
		c->undef[i] = arg_undef(c->args[i]);
	}
	if (rc == 0 && c->nargs == 2)
		c->html_op = html_eval_op(c->args[1], &c->html_n);
	if (rc == 0 && fns[fn].ok != NULL && !fns[fn].ok(c))
		rc = 1;
	if (rc == 0 && strcmp(fns[fn].plugin, "FreeMail") == 0) {
		/* the domain lists come from the rule files */
		if (rs == NULL)
			rc = 1;
		else if (fm_build(rs, &c->fm) != 0)
			rc = -1;
		else if (fns[fn].fn != ev_freemail_replyto) {
			char *colon = fns[fn].fn == ev_freemail_header ?
			              strchr(c->args[0], ':') : NULL;
			if (colon != NULL)
				*colon = '\0';   /* "H:addr" is H */
			rc = fm_regex(c, fns[fn].fn == ev_freemail_header ? 1 : 0);
		}
	}
	if (rc != 0) {
		saeval_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void saeval_free(struct saeval_call *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nargs; i++)
		free(c->args[i]);
	fm_release(c->fm);
	pcre2_code_free(c->re);
	free(c);
}

bool saeval_run(const struct saeval_call *c, const struct saeval_ctx *ctx)
{
	if (c == NULL || ctx == NULL || ctx->m == NULL)
		return false;
	return fns[c->fn].fn(c, ctx);
}
