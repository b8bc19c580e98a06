/*
 * saeval_int.h — private to the saeval module: included only by its
 * files (saeval.c, the core; sa_date.c, sa_mime.c, sa_html.c,
 * sa_freemail.c, sa_relay.c, sa_https.c and the other sa_*.c, the
 * families of functions), never by
 * another module, which uses saeval.h.
 *
 * It holds what the files share: the compiled call (struct saeval_call)
 * and the per-message cache (struct saeval_cache) with the facts it
 * keeps; the regular expressions by id and the header, relay and
 * envelope helpers of saeval.c; the word-at-a-time byte helpers
 * (inline: the loops that use them are hot); the eval functions and
 * argument checks each family file gives the table in saeval.c; and
 * the few helpers one family lends another (dates to Message-Id, the
 * HTML tag walk to FreeMail and HTTPSMismatch, registrar domains to
 * HTTPSMismatch).
 */
#ifndef VIGIL_SAEVAL_INT_H
#define VIGIL_SAEVAL_INT_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "saeval.h"
#include "strbuf.h"

struct msg;
struct msg_header;
struct msg_part;
struct relays;
struct ruleset;

#define MAX_ARGS 8

struct freemail;

struct saeval_call {
	size_t fn;              /* index into fns[] */
	size_t nargs;
	char *args[MAX_ARGS];   /* quotes removed */
	double num[MAX_ARGS];   /* atof(args[i]), worked out once */
	bool undef[MAX_ARGS];   /* args[i] is "undef" */
	int html_op;            /* html_eval: saeval_html_eval_op(args[1],
	                           &html_n) */
	double html_n;
	struct freemail *fm;    /* FreeMail functions: the domain lists */
	struct urilist *ul;     /* check_uri_host_*: the list's hosts */
	struct regdom *rd;      /* check_mailfrom_matches_rcvd: 2tld/3tld */
	struct saeval_globs *br; /* VBounce: welcomelist_bounce_relays */
	bool rawbody;           /* a rawbody rule's (saeval_set_rawbody) */
	struct saeval_globs *al; /* check_*_in_list, check_subject_in_*:
	                           the list's patterns */
	struct saeval_wlbl *wl; /* WLBLEval's sender/recipient lists */
	struct sa_locales *loc; /* the *_faraway evals: ok_locales (NULL:
	                           "all", they never hit) */
	pcre2_code *re;         /* FreeMail functions: the optional regex;
	                           html_text_match('comment', RE): RE */
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
	size_t plain_bytes, unicode_escapes;  /* unencoded text/plain body
	                                bytes (escapes aside), and its
	                                "&#xHHHH;" escapes */
	size_t images[3];       /* base64 image/gif, png, jpeg leaf parts */
	double pixels[3];       /* and their areas (ImageInfo's pc_TYPE) */
	struct image_dim {      /* and their sizes, the first 16 */
		int type;           /* 0 gif, 1 png, 2 jpeg */
		unsigned long h, w;
	} dims[16];
	size_t ndims;
	bool epilogue;          /* text other than blanks and dots after a
	                           multipart's close delimiter */
	bool missing_headers;   /* a multipart's part not starting with a
	                           header field */
	double mpart_ratio;     /* multipart/alternative: text/plain bytes
	                           over text/html bytes of the last ones */
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
	/* the body paragraphs as the parse leaves them (saeval_edit_body):
	 * nbody, the edited ones in text, the others the message's own */
	struct msg_text *body;
	size_t nbody;
	struct strbuf text;
};
void saeval_fm_body_free(struct fm_body *b);

/* What check_freemail_replyto reads of the headers, for one set of
 * FreeMail lists (fm): the From and Reply-To addresses (lower case,
 * NUL-separated), whether any of each is freemail, whether a From
 * address is also a Reply-To one; done once worked out. */
struct fm_heads {
	const struct freemail *fm;
	bool done;
	struct strbuf from, rt;
	size_t nf, nr;
	bool ffm, rfm, from_in_rt;
};
void saeval_fm_heads_free(struct fm_heads *h);

/* The message's numeric facts kept in the cache (saeval_cached_fact()). */
enum fact {
	FACT_DATE_DIFF,           /* date_diff() */
	FACT_UPPER,               /* uppercase_pct() */
	FACT_HOTMAIL,             /* hotmail_check() */
	FACT_GATED,               /* gated_check() */
	FACT_STOCK,               /* stock_info() */
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
	struct fm_heads fmh;      /* FreeMail: From and Reply-To */
	/* the hosts of the message's URIs (sa_uri.c), NUL-separated */
	bool uhosts_done;
	struct strbuf uhosts;
	size_t nuhosts;
	/* BodyEval's multipart/alternative difference: worked out, the
	 * largest difference (%), html and text word counts (sa_mime.c) */
	bool madiff_done;
	double madiff, madiff_html, madiff_text;
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

/* ---- the regular expressions (saeval.c) ---- */

enum re_id {
	RE_MSGID_OE, RE_RCVD_DATE, RE_RCVD_LOCAL, RE_RCVD_FETCHMAIL,
	RE_D_DMY4, RE_D_MDTY, RE_D_DMY2, RE_D_TIME, RE_D_TZNUM, RE_D_TZNAME,
	RE_LAST2, RE_SUBJ_PREFIX, RE_CAPS_CHARSET,
	RE_AOL_RLY, RE_AOL_OK1, RE_AOL_OK2,
	RE_YAHOO_FROM, RE_EZMLM_LIST, RE_EZMLM_DLTO, RE_EZMLM_RCVD, RE_MSN,
	RE_Y1, RE_Y2, RE_Y3, RE_Y4, RE_Y5, RE_Y6, RE_Y7,
	RE_ASCII_CHARSET, RE_BAD_ISO1, RE_BAD_ISO2,
	RE_CAPS_CHARSET_ALL,
	RE_IPADDR, RE_HM_PICKUP, RE_HM_MSN_TO, RE_HM_MSN_RCVD, RE_HM_ORIG,
	RE_HM_OK1, RE_HM_OK2, RE_HM_OK3, RE_HM_OK4, RE_HM_OK5, RE_HM_OK6,
	RE_HM_HELO, RE_EUDORA, RE_JUNO1, RE_JUNO2, RE_JUNO3, RE_JUNO3X,
	RE_JUNO4, RE_JUNO4X, RE_GM1, RE_GM2, RE_GM3,
	RE_FM_WELCOME, RE_FM_BULK_ENV, RE_DOTCOM_HELO,
	RE_FM_EMAIL, RE_FM_STRIP_URL, RE_FM_STRIP_QUOTED, RE_FONT_FACE,
	RE_HA_GROUP, RE_HA_ENTRY, RE_HA_MAIL_ALL, RE_HA_COMMENT, RE_HA_PHRASE,
	RE_HA_ANGLE, RE_RCVD_FOR, RE_STOCK_LINE, RE_STOCK_WORD,
	RE_ENCWORD_CHARSET,
	RE_COUNT
};

/* saeval_re_ok(): every expression compiled; saeval_re_code(): the
 * compiled expression id then (else NULL), for FreeMail's own matches
 * (callouts, substitution). saeval_re_find(): match id on s[0..len),
 * groups into ov (saeval_re_find_at(): from offset start, as Perl's /g
 * goes on); saeval_re_str(): on a C string (NULL: no match). They
 * are compiled by saeval_re_init(), once (saeval_compile() calls it). */
void saeval_re_init(void);
bool saeval_re_ok(void);
const pcre2_code *saeval_re_code(enum re_id id);
bool saeval_re_find(enum re_id id, const char *s, size_t len, size_t *ov,
                    size_t nov);
bool saeval_re_find_at(enum re_id id, const char *s, size_t len,
                       size_t start, size_t *ov, size_t nov);
bool saeval_re_str(enum re_id id, const char *s);

/* ---- ok_locales (sa_locales.c) ---- */

/* The locales a site accepts: the rule files' last ok_locales line
 * (SpamAssassin's default "all") and the environment's locale (LC_ALL,
 * LANGUAGE, LC_MESSAGES or LANG), as get_my_locales() reads them. *out
 * is NULL when "all" is among them: every charset is then ok and the
 * *_faraway evals never hit. 0, or -1 out of memory. */
struct sa_locales;
int saeval_locales_build(const struct ruleset *rs, struct sa_locales **out);
void saeval_locales_free(struct sa_locales *l);
/* is_charset_ok_for_locales(): charset cs[0..n) is a Latin one (ASCII,
 * ISO-8859-*, UTF-*, windows-*, ...) or one of the locales' (true for
 * l NULL). */
bool saeval_charset_ok(const struct sa_locales *l, const char *cs,
                       size_t n);

/* ---- the message: headers, cache, relays, envelope (saeval.c) ---- */

double saeval_cached_fact(const struct saeval_ctx *x, enum fact f,
                          double (*fn)(const struct saeval_ctx *x));
const char *saeval_buf_str(struct strbuf *b);
const struct msg_header *saeval_hdr_next(const struct saeval_ctx *x,
                                         const char *name, size_t *pos);
const struct msg_header *saeval_hdr_first(const struct saeval_ctx *x,
                                          const char *name);
bool saeval_get_header(const struct saeval_ctx *x, const char *name, bool raw,
                       struct strbuf *b);
/* Room for element n of the array *v (elements of elem bytes, *cap
 * allocated), grown by doubling; false when out of memory. */
bool saeval_grow(void **v, size_t n, size_t *cap, size_t elem);
/* s[0..len) lower-cased, NUL-ended, malloc'ed; NULL when out of memory. */
char *saeval_lower_dup(const char *s, size_t len);
/* Lists of names from the rule files (FreeMail's domains, the registrar
 * lists): s[0..len) lower-cased and copied onto the end of *v (n used,
 * cap allocated); 0, or -1 when out of memory. saeval_cmp_str orders
 * such a list (qsort/bsearch). */
int saeval_push_lower(char ***v, size_t *n, size_t *cap, const char *s,
                      size_t len);
int saeval_cmp_str(const void *a, const void *b);
/* Perl's \w on a byte (ASCII: letters, digits, '_'), and whether s[0..n)
 * has a \b word boundary before offset i (the ends count as non-word). */
bool saeval_is_word(char c);
bool saeval_word_boundary(const char *s, size_t n, size_t i);

/* File-glob patterns from the rule files ('*' any run, '?' any one
 * byte, nothing else special: VBounce's relays, WLBLEval's address
 * lists), kept lower case. add: the whitespace-separated words of a
 * value; 0, or -1 when out of memory. match: is s[0..n) (any case)
 * one of them? free: the list and g itself. */
struct saeval_globs {
	char **pat;
	size_t n, cap;
};
int saeval_globs_add(struct saeval_globs *g, const char *words);
bool saeval_globs_match(const struct saeval_globs *g, const char *s,
                        size_t n);
/* Does s[0..n) match the pattern p as a whole ('*' any run, '?' any one
 * byte, nothing else special; bytes compared as they are)? */
bool saeval_glob_match(const char *p, const char *s, size_t n);
void saeval_globs_free(struct saeval_globs *g);
/* A list built from the rule set's kept settings in file order: line(g,
 * key, value, ctx) adds what one line gives (0, or -1 when out of
 * memory). 0 and *out (the caller frees it), or -1. */
typedef int saeval_globs_line(struct saeval_globs *g, const char *key,
                              const char *val, const void *ctx);
int saeval_globs_build(const struct ruleset *rs, saeval_globs_line *line,
                       const void *ctx, struct saeval_globs **out);
bool saeval_in_sorted(char *const *v, size_t n, const char *s);
void saeval_get_first_addr(const struct saeval_ctx *x, const char *name,
                           struct strbuf *b);
/* The addresses of every header name (saeval_push_first_addrs: of the
 * first one only; SpamAssassin's NAME:first:addr) onto list, each
 * NUL-ended, *count counting them. */
void saeval_push_addrs(const struct saeval_ctx *x, const char *name,
                       struct strbuf *list, size_t *count);
void saeval_push_first_addrs(const struct saeval_ctx *x, const char *name,
                             struct strbuf *list, size_t *count);
/* SpamAssassin's all_from_addrs: the first Resent-From's addresses when
 * there are any, else From's, Envelope-Sender's, Resent-Sender's,
 * X-Envelope-From's and the envelope sender (FreeMail's EnvelopeFrom),
 * runs of dots squeezed to one, pushed as saeval_push_addrs() does
 * (sa_freemail.c). */
void saeval_all_from_addrs(const struct saeval_ctx *x, struct strbuf *list,
                           size_t *count);
/* SpamAssassin's all_to_addrs: the first Resent-To's and the first
 * Resent-Cc's addresses when there are any, else the "for ADDR;" of the
 * first three Received lines (ADDR's domain a valid host name), To's,
 * Apparently-To's, Delivered-To's, Envelope-Recipients',
 * Apparently-Resent-To's, X-Envelope-To's, Envelope-To's,
 * X-Delivered-To's, X-Original-To's, X-Rcpt-To's, X-Real-To's and Cc's;
 * pushed as saeval_push_addrs() does (sa_freemail.c). */
void saeval_all_to_addrs(const struct saeval_ctx *x, struct strbuf *list,
                         size_t *count);
const struct relays *saeval_get_relays(const struct saeval_ctx *x,
                                       struct relays **own);

/* ---- bytes, eight at a time ---- */

/* Eight bytes at p (any alignment). */
static inline uint64_t saeval_load8(const char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return w;
}

#define ONES8 0x0101010101010101ULL
#define HIGH8 0x8080808080808080ULL

/* Bytes of m with their high bit set, m having no other bits (a
 * popcount without the libgcc call a plain x86-64 build makes). */
static inline size_t saeval_high_bits8(uint64_t m)
{
	return (size_t)(((m >> 7) * ONES8) >> 56);
}

/* Per byte of w (7-bit bytes only: the caller masks the others out),
 * the high bit set when the byte is in [lo, hi]. */
static inline uint64_t saeval_in_range8(uint64_t w, unsigned char lo,
                                        unsigned char hi)
{
	uint64_t ge = w + ONES8 * (uint64_t)(0x80 - lo);
	uint64_t gt = w + ONES8 * (uint64_t)(0x7f - hi);
	return ge & ~gt & HIGH8;
}

/* ---- the functions of the table (saeval.c), by family ---- */

/* An eval function: does call c hit x's message? */
typedef bool saeval_fn(const struct saeval_call *c, const struct saeval_ctx *x);
/* An argument check: are c's arguments ones the function implements? */
typedef bool saeval_ok(const struct saeval_call *c);

/* ---- dates (sa_date.c) ---- */

/* SpamAssassin's parse_rfc822_date: the time in[0..inlen) says, in
 * seconds since 1970 (UTC) into *out; false when it does not parse. */
bool saeval_parse_date(const char *in, size_t inlen, int64_t *out);
saeval_fn saeval_ev_shifted_date;

/* ---- MIMEEval (sa_mime.c) ---- */

saeval_fn saeval_ev_mime_html, saeval_ev_mime_html_only, saeval_ev_mime,
	saeval_ev_uppercase, saeval_ev_ascii_text_illegal,
	saeval_ev_mpart_alt_diff, saeval_ev_mpart_alt_diff_count,
	saeval_ev_base64_length, saeval_ev_unicode_ratio, saeval_ev_image_count,
	saeval_ev_mime_multipart_ratio, saeval_ev_parse_flags,
	saeval_ev_pixel_coverage, saeval_ev_image_text_ratio,
	saeval_ev_image_size_exact, saeval_ev_image_size_range,
	saeval_ev_ma_non_text, saeval_ev_faraway_charset;
saeval_ok saeval_ok_mime, saeval_ok_base64_length, saeval_ok_unicode_ratio,
	saeval_ok_parse_flags, saeval_ok_image_size_exact,
	saeval_ok_image_size_range,
	saeval_ok_image_count;

/* ---- HTMLEval (sa_html.c) ---- */

/* Frees the HTML facts a cache holds (sa_html.c). */
void saeval_html_facts_free(struct saeval_cache *k);
saeval_fn saeval_ev_html_test, saeval_ev_html_tag_exists,
	saeval_ev_html_image_only, saeval_ev_html_range, saeval_ev_html_eval,
	saeval_ev_html_text_match, saeval_ev_html_tag_balance,
	saeval_ev_html_title_subject, saeval_ev_html_image_ratio,
	saeval_ev_iframe_src, saeval_ev_html_charset_faraway;
saeval_ok saeval_ok_html_test, saeval_ok_html_range, saeval_ok_html_eval,
	saeval_ok_html_text_match, saeval_ok_html_tag_balance;
/* html_eval's 'OP N' argument: the operator (0: none) and N into *n. */
int saeval_html_eval_op(const char *e, double *n);
/* What FreeMail reads HTML with: the tag walk and its callback type, a
 * tag name test, an attribute of a start tag, text/html parts. */
typedef bool (*html_tag_fn)(const char *name, const char *end, bool close,
                            void *ctx);
bool saeval_html_walk_tags(const char *s, size_t n, html_tag_fn f,
                           void *ctx);
/* The same walk, also calling cf(markup, len, ctx) for every comment,
 * declaration or processing instruction, and one not closed at the end
 * (HTTPSMismatch reads the text between tags and those). */
bool saeval_html_walk(const char *s, size_t n, html_tag_fn f,
                      bool (*cf)(const char *, size_t, void *), void *ctx);
/* The '>' ending the tag whose name starts at name (quoted attribute
 * values skipped), or end when there is none. */
const char *saeval_tag_gt(const char *name, const char *end);
bool saeval_tag_at(const char *p, const char *end, const char *tag);
bool saeval_tag_attr(const char *p, const char *end, const char *name,
                     const char **v, size_t *vl);
/* The attribute at *at in a start tag's attribute text (up to end): its
 * name into k, kl, its value as written (quotes dropped; empty when it
 * has none) into v, vl; *at moved past it. false when there is none. */
bool saeval_tag_attr_next(const char **at, const char *end, const char **k,
                          size_t *kl, const char **v, size_t *vl);
/* The URI attribute `name` ("href", "src") as HTML.pm reads it: an
 * attribute whose name holds "W/name" (W a word byte, "x/href": its
 * fix for bad HTML) stands for it, else `name` itself. */
bool saeval_tag_uri_attr(const char *p, const char *end, const char *name,
                         const char **v, size_t *vl);
/* HTML.pm drops every byte-order mark (U+FEFF, EF BB BF) from an href:
 * drops them from s[0..n) in place, returns the new length. */
size_t saeval_drop_bom(char *s, size_t n);
bool saeval_is_html_part(const struct msg_part *p);

/* ---- FreeMail (sa_freemail.c) ---- */

/* The lists and settings of rule set rs, shared by the calls with equal
 * ones (saeval_fm_release() drops one); 0, or -1 when out of memory. */
int saeval_fm_build(const struct ruleset *rs, struct freemail **out);
void saeval_fm_release(struct freemail *f);
/* c->re from argument arg when there is one (FreeMail's optional regex,
 * html_text_match's pattern): 0, or 1 when it does not compile. */
int saeval_arg_regex(struct saeval_call *c, size_t arg);
/* ---- WLBLEval's URI host lists (sa_uri.c) ---- */

struct urilist;
/* The hosts rule set rs enlists on list name (enlist_uri_host,
 * delist_uri_host, blocklist_uri_host, welcomelist_uri_host, in order):
 * 0, or -1 when out of memory. */
int saeval_urilist_build(const struct ruleset *rs, const char *name,
                         struct urilist **out);
void saeval_urilist_free(struct urilist *l);
/* The list call c of function fname looks in. */
const char *saeval_urilist_name(const struct saeval_call *c,
                                const char *fname);
saeval_fn saeval_ev_uri_host_listed;

/* ---- registrar domains (sa_regdom.c; the lists: saeval.h) ---- */

saeval_fn saeval_ev_ratware_envelope_from;

/* ---- HTTPSMismatch (sa_https.c) ---- */

/* check_https_http_mismatch([MIN [, MAX]]); needs c->rd. */
saeval_fn saeval_ev_https_mismatch;
saeval_fn saeval_ev_https_ip_mismatch;
/* URIEval's check_uri_truncated() (sa_urieval.c) */
saeval_fn saeval_ev_uri_truncated;

/* ---- VBounce (sa_vbounce.c) ---- */

/* The relays of the rule set's welcomelist_bounce_relays and
 * whitelist_bounce_relays lines (none is a list too). 0, or -1. */
int saeval_bounce_build(const struct ruleset *rs, struct saeval_globs **out);
saeval_fn saeval_ev_have_bounce_relays, saeval_ev_bounce_relays;

/* ---- WLBLEval's address lists (sa_addrlist.c) ---- */

/* The patterns of the rule set's `enlist_addrlist (name) ...` lines (none
 * is a list too). 0, or -1 when out of memory. */
int saeval_addrlist_build(const struct ruleset *rs, const char *name,
                          struct saeval_globs **out);
saeval_fn saeval_ev_from_in_list, saeval_ev_replyto_in_list;

/* ---- WLBLEval's sender and recipient lists (sa_wlbl.c) ---- */

struct saeval_wlbl;
/* The lists of the rule set's welcomelist_from, blocklist_from,
 * welcomelist_to, ..., _rcvd and un- lines (old names too), in file
 * order, for the function fname (check_from_in_welcomelist, ...,
 * check_to_in_all_spam, and the old names). 0; 1 when fname is not
 * one of them; -1 when out of memory. */
int saeval_wlbl_build(const struct ruleset *rs, const char *fname,
                      struct saeval_wlbl **out);
void saeval_wlbl_free(struct saeval_wlbl *w);
/* Every one of those functions (c->wl says which). */
saeval_fn saeval_ev_wlbl;

/* ---- WelcomeListSubject (sa_subject.c) ---- */

/* The rule set's subject patterns for the list function fn_name checks
 * (welcomelist_subject and whitelist_subject lines for the welcome-list
 * functions, blocklist_subject and blacklist_subject for the others),
 * each as "*VALUE*" in lower case (none is a list too). 0, or -1 when
 * out of memory. */
int saeval_subject_list_build(const struct ruleset *rs, const char *fn_name,
                              struct saeval_globs **out);
saeval_fn saeval_ev_subject_in_list;
saeval_fn saeval_ev_mailfrom_matches_rcvd;

saeval_fn saeval_ev_freemail_from, saeval_ev_freemail_header,
	saeval_ev_freemail_replyto, saeval_ev_freemail_body;
saeval_ok saeval_ok_freemail_header, saeval_ok_freemail_replyto;
/* saeval_edit_body() for a FreeMail call (body: check_freemail_body's,
 * else check_freemail_replyto's). */
void saeval_fm_edit_body(const struct saeval_call *c, struct saeval_ctx *x,
                         bool body);

/* ---- forged relays in Received, RelayEval (sa_relay.c) ---- */

saeval_fn saeval_ev_fake_aol_relay, saeval_ev_forged_yahoo_rcvd,
	saeval_ev_gated_rcvd_remover,
	saeval_ev_forged_hotmail, saeval_ev_no_hotmail,
	saeval_ev_forged_eudoramail, saeval_ev_forged_juno,
	saeval_ev_forged_gmail;
saeval_fn saeval_ev_all_trusted, saeval_ev_no_relays,
	saeval_ev_relays_unparseable, saeval_ev_helo_ip_mismatch,
	saeval_ev_no_rdns_dotcom_helo, saeval_ev_forged_rcvd_trail;

#endif
