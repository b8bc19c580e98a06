/* rulesrun.c — see rules.h (the per-message side; rules.c compiles) */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "acscan.h"
#include "charset.h"
#include "hdrmod.h"
#include "litscan.h"
#include "msg.h"
#include "monotime.h"
#include "relays.h"
#include "ruleset.h"
#include "rulesmeta.h"
#include "saeval.h"
#include "scan.h"
#include "strbuf.h"
#include "vlog.h"
#include "rules_int.h"

/* ---- per-thread matching state ---- */

struct tls {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack *js;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_free(void *p)
{
	struct tls *t = p;
	if (t == NULL)
		return;
	pcre2_match_data_free(t->md);
	pcre2_match_context_free(t->mc);
	pcre2_jit_stack_free(t->js);
	free(t);
}

static void tls_init(void)
{
	pthread_key_create(&tls_key, tls_free);
}

static struct tls *tls_get(void)
{
	pthread_once(&tls_once, tls_init);
	struct tls *t = pthread_getspecific(tls_key);
	if (t != NULL)
		return t;
	t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->md = pcre2_match_data_create(1, NULL);
	t->mc = pcre2_match_context_create(NULL);
	t->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (t->md == NULL || t->mc == NULL || t->js == NULL ||
	    pthread_setspecific(tls_key, t) != 0) {
		tls_free(t);
		return NULL;
	}
	pcre2_jit_stack_assign(t->mc, NULL, t->js);
	return t;
}

/* ---- results ---- */

struct rules_result {
	struct rules_hit *hits;
	size_t count, cap;
};

struct rules_result *rules_result_new(void)
{
	return calloc(1, sizeof(struct rules_result));
}

void rules_result_free(struct rules_result *res)
{
	if (res == NULL)
		return;
	free(res->hits);
	free(res);
}

size_t rules_result_count(const struct rules_result *res)
{
	return res->count;
}

const struct rules_hit *rules_result_at(const struct rules_result *res,
                                        size_t i)
{
	return i < res->count ? &res->hits[i] : NULL;
}

static struct rules_hit *result_add(struct rules_result *res)
{
	if (res->count == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 32;
		struct rules_hit *h = realloc(res->hits, cap * sizeof *h);
		if (h == NULL)
			return NULL;
		res->hits = h;
		res->cap = cap;
	}
	struct rules_hit *h = &res->hits[res->count++];
	memset(h, 0, sizeof *h);
	return h;
}

/* ---- one message ---- */

/* Texts refer to a growing strbuf by offset while it grows. */
static void sb_str(struct strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

struct span {
	size_t off, len;
	bool present;
};

/* A target's prefilter results for one message. */
struct gstate {
	uint64_t *found;     /* prefilter bits, one bitset per text (words
	                        each), then as many for the texts' skeletons */
	size_t words, fcap;  /* words per text; capacity in words */
	size_t rwords;       /* the first words of a text's bitset, whose
	                        bits are the group's positions (the rules'
	                        further literal sets follow: group.nids) */
	size_t ntexts;
	uint8_t *tkind;      /* per text: its enum txt (set by prefilter()) */
	size_t tcap;
	struct litscan_bset *tbytes; /* per text: the bytes in it (set by
	                        prefilter()) */
	size_t bcap;
	uint64_t *ucand;     /* candidates() */
	size_t ucap;
};

struct run {
	const struct rules *r;
	struct scan *scan;
	const struct msg *m;
	struct tls *tls;
	double *values;      /* slots: rules then extra names */
	uint64_t *dirty;     /* run_metas(): a bitset over meta ranks */
	const char **mptr;   /* RULES_EVAL_MATCHES: first match per rule */
	size_t *mlen;
	struct gstate gs[T_COUNT]; /* per target: its prefilter's results,
	                        kept until the end (lazy rules run late) */
	struct gstate *cur;  /* the target being run */
	char *skb;           /* a text's skeleton */
	size_t skcap;
	bool lazy;           /* RULES_EVAL_LAZY and rules.lazy */
	uint64_t *pend;      /* lazy: list rules left for a meta to ask for
	                        (bits by rule index) */
	uint64_t *open;      /* lazy: the rules pending and the metas of
	                        lmeta not evaluated yet (bits by rule index):
	                        lazy_open() in one test */
	struct strbuf hb;      /* header texts */
	struct strbuf vb;      /* one header's values before :host, :ip, ...
	                          (put_header_one()) */
	struct strbuf full;    /* the full message, LF line ends */
	struct span *htext;  /* per hkey */
	struct hinfo *hinfo; /* per top-level header (index_headers()) */
	uint32_t *hfirst;    /* per hname: its first header, or HN_END */
	size_t hicap, hfcap;
	struct hinfo *pinfo; /* the headers of MIME parts 1.. (index_parts()) */
	size_t *pstart;      /* part p's in pinfo from pstart[p] (p >= 1) */
	const struct relays *relays; /* the scan's, got on first use */
	struct repmemo *repc;  /* REPC_SLOTS, allocated on first use */
	struct saeval_ctx ectx;  /* eval rules' (setup_evals()) */
	struct rcap_vals capv; /* the tags capture rules set (cap_values()) */
	struct rud_msg *udm;   /* uri_detail rules' domains (ud_rule()) */
	struct strbuf mb;      /* MIME header texts (mimeheader_rule()) */
	bool matches;
};

/* A shared repset's count for one text: the rules of a set run over
 * the same texts one after the other. */
#define REPC_SLOTS 256
struct repmemo {
	const char *text;
	size_t len, set, count;
};

static void *reserve(void *p, size_t *cap, size_t need, size_t elem);

/* Profiling: the time since t0 (and calls) to entry k of r->prof. */
static void prof_add(const struct run *x, size_t k, uint64_t t0,
                     unsigned calls)
{
	struct rules_prof *p = &x->r->prof[k];
	p->ns += monotime_ns() - t0;
	p->calls += calls;
}

/* Lazy runs: rule i (not a meta) left pending for a meta to ask for. */
static void pend_rule(struct run *x, size_t i)
{
	set_bit(x->pend, i);
	set_bit(x->open, i);
}

/* Time spent in target t's literal scans. */
static void prof_prefilter(const struct run *x, enum tgt t, uint64_t t0)
{
	prof_add(x, x->r->n + t, t0, 1);
}

/* A top-level header of the message, as index_headers() found it. */
struct hinfo {
	const struct msg_header *h;
	uint32_t name;       /* hnames index, or UINT32_MAX */
	uint32_t next;       /* the next header of that name, or HN_END */
	bool no_decode;
};
#define HN_END UINT32_MAX

static bool is_list_name(const struct msg_text *name)
{
	return name->len >= 5 && strncasecmp(name->ptr, "list-", 5) == 0;
}

/* Header h looked up by name: whether SpamAssassin decodes it, and
 * its hnames index. */
static void hinfo_set(const struct rules *r, struct hinfo *hi,
                      const struct msg_header *h)
{
	hi->h = h;
	hi->name = rules_hname_find(r, h->name.ptr, h->name.len);
	hi->next = HN_END;
	hi->no_decode = is_list_name(&h->name) ||
	                (hi->name != UINT32_MAX && r->hnames[hi->name].no_decode);
}

/* Each top-level header looked up once: x->hinfo, and per name the
 * headers of that name in message order (x->hfirst, hinfo.next). False
 * when out of memory. */
static bool index_headers(struct run *x)
{
	const struct rules *r = x->r;
	size_t n = msg_header_count(x->m);
	if (n >= HN_END)
		return false;
	x->hinfo = reserve(x->hinfo, &x->hicap, n ? n : 1, sizeof *x->hinfo);
	x->hfirst = reserve(x->hfirst, &x->hfcap, r->nhnames ? r->nhnames : 1,
	                    sizeof *x->hfirst);
	if (x->hinfo == NULL || x->hfirst == NULL)
		return false;
	for (size_t k = 0; k < r->nhnames; k++)
		x->hfirst[k] = HN_END;
	/* backwards, so that each list comes out in message order */
	for (size_t i = n; i-- > 0;) {
		struct hinfo *hi = &x->hinfo[i];
		hinfo_set(r, hi, msg_header_at(x->m, i));
		if (hi->name != UINT32_MAX) {
			hi->next = x->hfirst[hi->name];
			x->hfirst[hi->name] = (uint32_t)i;
		}
	}
	return true;
}

/* Addresses or display names of one header, each ending in "\n", as
 * SpamAssassin's get() lists them, appended to b: parsed from the value
 * as received (from the decoded one for ToCc and MESSAGEID: !from_raw). */
static void put_addrs(struct strbuf *b, const struct msg_header *h,
                      unsigned mods, bool from_raw)
{
	enum saeval_addr_part part = (mods & RS_HDR_ADDR) ? SAEVAL_ADDR :
	                             (mods & RS_HDR_RAW) ? SAEVAL_NAME_RAW :
	                                                   SAEVAL_NAME;
	saeval_header_addrs(b, h, from_raw || (mods & RS_HDR_RAW), part);
}

/* The values get() lists for one header (its value, or its addresses
 * or names), appended to b. */
static void put_values(struct strbuf *b, const struct hinfo *hi,
                       unsigned mods, bool addrs_from_raw)
{
	if (mods & (RS_HDR_ADDR | RS_HDR_NAME))
		put_addrs(b, hi->h, mods, addrs_from_raw);
	else
		msg_header_sa_value(b, hi->h, mods & RS_HDR_RAW, hi->no_decode);
}

/* hdrmod_put() over the values of t[0, len): addresses and names one a
 * line, a header value whole. */
static void put_mods(struct run *x, const char *t, size_t len,
                     unsigned mods)
{
	if (!(mods & (RS_HDR_ADDR | RS_HDR_NAME))) {
		hdrmod_put(&x->hb, t, len, mods, x->r->rd);
		return;
	}
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t e = nl != NULL ? (size_t)(nl - t) : len;
		hdrmod_put(&x->hb, t + i, e - i, mods, x->r->rd);
		i = e + 1;
	}
}

/* One header's values into x->hb, through the :host/:ip modifiers when
 * mods has them (by way of x->vb). */
static void put_header_one(struct run *x, const struct hinfo *hi,
                           unsigned mods, bool addrs_from_raw)
{
	if (!hdrmod_wanted(mods)) {
		put_values(&x->hb, hi, mods, addrs_from_raw);
		return;
	}
	strbuf_reset(&x->vb);
	put_values(&x->vb, hi, mods, addrs_from_raw);
	if (x->vb.oom)
		x->hb.oom = true;
	else
		put_mods(x, x->vb.p, x->vb.len, mods);
}

/* All instances of the top-level header of list id (index_headers()),
 * in message order. */
static void put_header(struct run *x, uint32_t id, unsigned mods,
                       bool addrs_from_raw)
{
	for (uint32_t i = x->hfirst[id]; i != HN_END; i = x->hinfo[i].next)
		put_header_one(x, &x->hinfo[i], mods, addrs_from_raw);
}

/* :first / :last: one instance of all of hk's headers (To before Cc
 * for ToCc; MESSAGEID's empty ones passed over), as SpamAssassin's get()
 * keeps one of the values it listed, before :addr or :name. */
static void put_first_last(struct run *x, const struct hkey *hk)
{
	bool last = (hk->mods & RS_HDR_LAST) && !(hk->mods & RS_HDR_FIRST);
	const struct hinfo *pick = NULL;
	for (size_t s = 0; s < hk->nsrc && (last || pick == NULL); s++)
		for (uint32_t i = x->hfirst[hk->src[s]];
		     i != HN_END && (last || pick == NULL); i = x->hinfo[i].next)
			if (hk->kind != HK_MESSAGEID || x->hinfo[i].h->value.len > 0)
				pick = &x->hinfo[i];
	if (pick != NULL)
		put_header_one(x, pick, hk->mods, hk->kind == HK_PLAIN);
}

/* One header as the ALL views show it (raw: without its CRs). */
static void put_one(struct strbuf *b, const struct msg_header *h, bool raw,
                    bool nodec)
{
	strbuf_put(b, h->name.ptr, h->name.len);
	if (raw) {
		/* the pristine header: whole, SpamAssassin's cut or not */
		strbuf_put(b, ":", 1);
		const char *p = h->pristine.ptr, *end = p + h->pristine.len, *cr;
		while ((cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
			strbuf_put(b, p, (size_t)(cr - p));
			p = cr + 1;
		}
		strbuf_put(b, p, (size_t)(end - p));
		strbuf_put(b, "\n", 1);
	} else {
		strbuf_put(b, ": ", 2);
		msg_header_sa_value(b, h, false, nodec);
	}
}

/* The headers of MIME part p looked up (part 0: the top level,
 * index_headers(); the others: index_parts()); their number in *n. */
static const struct hinfo *part_headers(const struct run *x, size_t p,
                                        size_t *n)
{
	if (p == 0) {
		*n = msg_header_count(x->m);
		return x->hinfo;
	}
	*n = x->pstart[p + 1] - x->pstart[p];
	return x->pinfo + x->pstart[p];
}

/* SpamAssassin's get_all_headers() (Node.pm), behind ALL, ALL-TRUSTED
 * and the like (not ALL:raw, the pristine header), gives up past
 * SA_ALL_MAX bytes: it takes the fields name by name, in the order the
 * names first appear (each name's fields in message order), adds up
 * their lines' lengths and stops at the first field that would pass
 * the limit; the fields taken keep their places. */
#define SA_ALL_MAX 65536u

static bool same_name(const struct msg_header *a, const struct msg_header *b)
{
	return a->name.len == b->name.len &&
	       strncasecmp(a->name.ptr, b->name.ptr, a->name.len) == 0;
}

/* drop[i]: whether get_all_headers() leaves field i of hi[0, n) out,
 * given each one's line length len[i]. */
static void sa_all_cap(const struct hinfo *hi, size_t n, const size_t *len,
                       bool *drop)
{
	for (size_t i = 0; i < n; i++)
		drop[i] = true;
	size_t size = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same_name(hi[j].h, hi[i].h);
		for (size_t k = i; !seen && k < n; k++) {
			if (!same_name(hi[k].h, hi[i].h))
				continue;
			size += len[k];
			if (size > SA_ALL_MAX)
				return;
			drop[k] = false;
		}
	}
}

/* The fields of hi[0, n) get_all_headers() leaves out of a text going
 * to b: NULL when it takes them all (nearly always: an upper bound of
 * the lines' lengths says so without writing them; always for raw, the
 * pristine header) or memory ran out (b->oom set), else a malloc'd
 * array, true for each field left out. */
static bool *all_dropped(const struct hinfo *hi, size_t n, bool raw,
                         struct strbuf *b)
{
	if (raw)
		return NULL;
	size_t bound = 0;
	for (size_t i = 0; i < n; i++) {
		const struct msg_header *h = hi[i].h;
		size_t v = h->raw.len > h->decoded.len ? h->raw.len :
		           h->decoded.len;
		bound += h->name.len + 3 + (v > h->value.len ? v : h->value.len);
	}
	if (bound <= SA_ALL_MAX)
		return NULL;
	size_t *len = malloc(n * sizeof *len);
	bool *drop = malloc(n * sizeof *drop);
	struct strbuf t = { 0 };
	for (size_t i = 0; len != NULL && i < n; i++) {
		strbuf_reset(&t);
		put_one(&t, hi[i].h, false, hi[i].no_decode);
		len[i] = t.len;
	}
	if (len == NULL || drop == NULL || t.oom) {
		b->oom = true;
		free(drop);
		drop = NULL;
	} else {
		sa_all_cap(hi, n, len, drop);
	}
	free(len);
	strbuf_free(&t);
	return drop;
}

/* Every header of MIME part p (0: the top level). */
static void put_all(struct run *x, struct strbuf *b, size_t p, bool raw)
{
	size_t n;
	const struct hinfo *hi = part_headers(x, p, &n);
	bool *drop = all_dropped(hi, n, raw, b);
	for (size_t i = 0; i < n; i++)
		if (drop == NULL || !drop[i])
			put_one(b, hi[i].h, raw, hi[i].no_decode);
	free(drop);
}

/* ALL-TRUSTED/-INTERNAL: the headers down to and including the Received:
 * at the trust boundary; ALL-UNTRUSTED/-EXTERNAL: from it on
 * (SpamAssassin's get_all_hdrs_in_rcvd_index_range). */
static void put_all_relays(struct run *x, int kind, bool raw)
{
	bool above = kind == RELAYS_TRUSTED || kind == RELAYS_INTERNAL;
	size_t bound = relays_boundary(x->relays, kind == RELAYS_INTERNAL ||
	                                          kind == RELAYS_EXTERNAL);
	size_t n = msg_header_count(x->m), rcvd = 0; /* Received: seen so far */
	bool *drop = all_dropped(x->hinfo, n, raw, &x->hb);
	for (size_t i = 0; i < n; i++) {
		const struct hinfo *hi = &x->hinfo[i];
		if (drop != NULL && drop[i])
			continue;   /* not in the text it splits */
		bool is_rcvd = hi->name == x->r->rcvd;
		/* index of the last Received: at or above h, +1 (0: none) */
		size_t cur = rcvd + is_rcvd;
		if (above ? cur <= bound + 1 : cur >= bound + 1)
			put_one(&x->hb, hi->h, raw, hi->no_decode);
		if (above && is_rcvd && cur == bound + 1)
			break;
		rcvd = cur;
	}
	free(drop);
}

/* x->relays, got on first use (the eval rules share them too): the
 * scan keeps them, so that the envelope guess's parse of the Received:
 * headers serves here too; false when out of memory. */
static bool have_relays(struct run *x)
{
	if (x->relays == NULL)
		x->relays = scan_relays(x->scan, ruleset_trustpath(x->r->rs));
	return x->relays != NULL;
}

/* saeval_ctx's relays(). */
static const struct relays *eval_relays(void *arg)
{
	struct run *x = arg;
	return have_relays(x) ? x->relays : NULL;
}

/* EnvelopeFrom and the X-Spam-Relays-* texts are one value each: the
 * text from start on, replaced by what :host, :ip, ... make of it. */
static void mods_on_value(struct run *x, size_t start, unsigned mods)
{
	strbuf_reset(&x->vb);
	strbuf_put(&x->vb, x->hb.p + start, x->hb.len - start);
	x->hb.len = start;
	if (x->hb.p != NULL)
		x->hb.p[start] = '\0';
	if (x->vb.oom)
		x->hb.oom = true;
	else
		hdrmod_put(&x->hb, x->vb.p, x->vb.len, mods, x->r->rd);
}

static void build_hkey(struct run *x, size_t k)
{
	const struct hkey *hk = &x->r->hkeys[k];
	struct strbuf *b = &x->hb;
	size_t start = b->len;
	bool raw = hk->mods & RS_HDR_RAW;
	if (!hk->text && hk->kind == HK_PLAIN && hk->mods == 0) {
		/* exists: rules alone: a value always has its "\n" */
		x->htext[k] = (struct span){
			.off = start, .present = x->hfirst[hk->src[0]] != HN_END };
		return;
	}
	switch (hk->kind) {
	case HK_PLAIN:
	case HK_TOCC:
	case HK_MESSAGEID:
		if (hk->mods & (RS_HDR_FIRST | RS_HDR_LAST)) {
			put_first_last(x, hk);
			break;
		}
		for (size_t s = 0; s < hk->nsrc; s++)
			put_header(x, hk->src[s], hk->mods,
			           hk->kind == HK_PLAIN);
		break;
	case HK_ALL:
		put_all(x, b, 0, raw);
		break;
	case HK_ENVFROM:
		saeval_envelope_from(&x->ectx, b);
		break;
	case HK_RELAYS:
		/* SpamAssassin always defines these, "" when no relay */
		if (!have_relays(x))
			b->oom = true;
		else
			sb_str(b, relays_str(x->relays, hk->rkind, NULL));
		break;
	case HK_ALL_RELAYS:
		if (!have_relays(x))
			b->oom = true;
		else
			put_all_relays(x, hk->rkind, raw);
		break;
	case HK_PSEUDO:
		break;
	}
	/* get() applies the modifiers to headers, EnvelopeFrom and the
	 * relay texts; ALL and the ALL-* views come back untouched */
	bool lists = hk->kind == HK_PLAIN || hk->kind == HK_TOCC ||
	             hk->kind == HK_MESSAGEID;
	bool one_value = hk->kind == HK_ENVFROM || hk->kind == HK_RELAYS;
	bool hmods = hdrmod_wanted(hk->mods) && (lists || one_value);
	if (one_value && hmods)
		mods_on_value(x, start, hk->mods);
	x->htext[k] = (struct span){ .off = start, .len = b->len - start,
	                             .present = b->len > start ||
	                                        (hk->kind == HK_RELAYS &&
	                                         !hmods) };
	/* :addr/:name/:host/:ip lists are joined by "\n" without a final
	 * one (EnvelopeFrom's :addr is its one value, without one). */
	if (((lists && (hk->mods & (RS_HDR_ADDR | RS_HDR_NAME))) || hmods) &&
	    x->htext[k].len > 0)
		x->htext[k].len--;
}

enum mres { M_NO = 0, M_YES = 1, M_LIMIT = -1 };

/* A rule reached a limit: noted on the message's scan (a tool counts
 * the messages per rule), and logged with the message's name the first
 * time per rule and configuration. Rare, so cheap enough; the scan is
 * the calling thread's own, the flag atomic. */
static void log_limit(const struct run *x, const struct crule *c, int rc)
{
	struct crule *mc = (struct crule *)c; /* the flag is the only
	                                         mutable field */
	if (x->scan != NULL)
		scan_note_limit(x->scan, c->rs->name);   /* memory: not counted */
	bool expected = false;
	if (!atomic_compare_exchange_strong(&mc->limit_logged, &expected, true))
		return;
	const char *name = x->scan ? scan_log_name(x->scan) : NULL;
	const char *qid = x->scan ? scan_env(x->scan)->queue_id : "";
	vlog(LOG_WARNING, "rules: rule %s reached the PCRE2 %s limit on %s%s; "
	     "counted as not hit (logged once per rule)", c->rs->name,
	     rc == PCRE2_ERROR_MATCHLIMIT ? "match" :
	     rc == PCRE2_ERROR_DEPTHLIMIT ? "depth" : "JIT stack",
	     name ? name : qid[0] ? "message qid=" : "a message",
	     name ? "" : qid);
}

static enum mres match_text(struct run *x, const struct crule *c,
                            const char *text, size_t len, bool ascii,
                            unsigned *hits);
static enum mres match_loop(struct run *x, const struct crule *c,
                            struct jcode *code, const char *text,
                            size_t len, unsigned *hits);

/* match_text(), timed per rule when profiling. */
static enum mres match(struct run *x, const struct crule *c,
                       const char *text, size_t len, bool ascii,
                       unsigned *hits)
{
	if (x->r->prof == NULL)
		return match_text(x, c, text, len, ascii, hits);
	uint64_t t0 = monotime_ns();
	enum mres mr = match_text(x, c, text, len, ascii, hits);
	prof_add(x, (size_t)(c - x->r->cr), t0, 1);
	return mr;
}

/* Whether j runs JIT-compiled, compiling it on its first call. No thread
 * matches j before its state is settled, so the compile (which writes to
 * j->re) never races a match. */
static bool jcode_ready(struct jcode *j)
{
	unsigned char st = atomic_load_explicit(&j->jit, memory_order_acquire);
	if (st != JIT_UNTRIED)
		return st == JIT_YES;
	pthread_mutex_lock(&j->jit_lock);
	st = atomic_load_explicit(&j->jit, memory_order_relaxed);
	if (st == JIT_UNTRIED) {
		size_t jitsize = 0;
		st = pcre2_jit_compile(j->re, PCRE2_JIT_COMPLETE) == 0 &&
		     pcre2_pattern_info(j->re, PCRE2_INFO_JITSIZE,
		                        &jitsize) == 0 && jitsize > 0 ?
		     JIT_YES : JIT_NO;
		atomic_store_explicit(&j->jit, st, memory_order_release);
	}
	pthread_mutex_unlock(&j->jit_lock);
	return st == JIT_YES;
}

static int match_code(struct run *x, struct jcode *j, const char *text,
                      size_t len, PCRE2_SIZE start)
{
	return jcode_ready(j) ?
	       pcre2_jit_match(j->re, (PCRE2_SPTR)text, len, start, 0,
	                       x->tls->md, x->tls->mc) :
	       pcre2_match(j->re, (PCRE2_SPTR)text, len, start, 0,
	                   x->tls->md, x->tls->mc);
}

/* What runs for pt: its lead instead of its pattern when it has one (the
 * rule counts one hit) and no matched text is asked for (the lead's
 * match starts later). */
static struct jcode *code_to_run(const struct run *x, const struct part *pt)
{
	return pt->lead != NULL && !x->matches ? pt->lead : pt->code;
}

/* A rule compiled in parts (never tflags multiple): hit when one part
 * matches; the leftmost match (the earlier part on a tie) is the one
 * remembered, as the whole pattern would mostly find it. */
static enum mres match_parts(struct run *x, const struct crule *c,
                             const struct part *parts, size_t nparts,
                             const char *text, size_t len, unsigned *hits)
{
	size_t ci = (size_t)(c - x->r->cr);
	bool limit = false, found = false;
	PCRE2_SIZE best[2] = { 0, 0 };
	for (size_t k = 0; k < nparts; k++) {
		const struct part *pt = &parts[k];
		if (pt->tail != NULL && match_code(x, pt->tail, text, len, 0) ==
		                        PCRE2_ERROR_NOMATCH)
			continue;
		int rc = match_code(x, code_to_run(x, pt), text, len, 0);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0 && rc != PCRE2_ERROR_PARTIAL) {
			if (rc == PCRE2_ERROR_MATCHLIMIT ||
			    rc == PCRE2_ERROR_DEPTHLIMIT ||
			    rc == PCRE2_ERROR_JIT_STACKLIMIT)
				log_limit(x, c, rc);
			limit = true;
			continue;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->tls->md);
		if (!found || ov[0] < best[0]) {
			best[0] = ov[0];
			best[1] = ov[1];
		}
		found = true;
		if (!x->matches)
			break;   /* only explain needs the leftmost */
	}
	if (!found)
		return *hits ? M_YES : limit ? M_LIMIT : M_NO;
	if (x->matches && x->mptr[ci] == NULL) {
		x->mptr[ci] = text + best[0];
		x->mlen[ci] = best[1] - best[0];
	}
	(*hits)++;
	return M_YES;
}

static enum txt text_kind(const char *text, size_t len)
{
	if (!charset_is_ascii(text, len))
		return TXT_HIGH;
	return memchr(text, '&', len) ? TXT_ASCII : TXT_PLAIN;
}

/* The positions ending one of c's repeat literals in text, counted up
 * to c->rep_min; or up to its set's cap, remembered, when other rules
 * share the set. */
static size_t rep_count(struct run *x, const struct crule *c,
                        const char *text, size_t len)
{
	const struct repset *set = &x->r->reps[c->rep - 1];
	if (set->users < 2)
		return acscan_count(set->ls, text, len, c->rep_min);
	if (x->repc == NULL)
		x->repc = calloc(REPC_SLOTS, sizeof *x->repc);
	size_t h = ((uintptr_t)text >> 3) * 31 + c->rep;
	struct repmemo *slot = NULL;
	for (size_t k = 0; x->repc != NULL && k < 4 && slot == NULL; k++) {
		struct repmemo *e = &x->repc[(h + k) % REPC_SLOTS];
		if (e->text == NULL || (e->text == text && e->len == len &&
		                        e->set == c->rep))
			slot = e;
	}
	if (slot != NULL && slot->text != NULL)
		return slot->count;
	size_t n = acscan_count(set->ls, text, len, set->cap);
	if (slot != NULL)
		*slot = (struct repmemo){ text, len, c->rep, n };
	return n;
}

/* Match c against text (ascii: it has no byte >= 0x80, as far as the
 * caller knows), counting up to c->maxhits matches into *hits. The first
 * match is remembered for explain. */
static enum mres match_text(struct run *x, const struct crule *c,
                            const char *text, size_t len, bool ascii,
                            unsigned *hits)
{
	const struct part *pt = &c->main;
	if (c->rep != 0 && rep_count(x, c, text, len) < c->rep_min)
		return *hits ? M_YES : M_NO;
	if (c->ascii != NULL && ascii) {
		if (c->nascii > 1)
			return match_parts(x, c, c->ascii, c->nascii, text, len, hits);
		pt = &c->ascii[0];
	} else if (c->nmore > 0) {
		struct part all[MAX_PARTS + 1] = { *pt };
		memcpy(all + 1, c->more, c->nmore * sizeof *all);
		return match_parts(x, c, all, c->nmore + 1, text, len, hits);
	}
	if (pt->tail != NULL && match_code(x, pt->tail, text, len, 0) ==
	                        PCRE2_ERROR_NOMATCH)
		return *hits ? M_YES : M_NO;
	return match_loop(x, c, code_to_run(x, pt), text, len, hits);
}

/* code (rule c's) over text: each match counted in *hits, up to c's
 * maxhits; the first remembered for explain. */
static enum mres match_loop(struct run *x, const struct crule *c,
                            struct jcode *code, const char *text,
                            size_t len, unsigned *hits)
{
	PCRE2_SIZE start = 0;
	size_t ci = (size_t)(c - x->r->cr);
	for (;;) {
		int rc = match_code(x, code, text, len, start);
		if (rc == PCRE2_ERROR_NOMATCH)
			return *hits ? M_YES : M_NO;
		if (rc < 0 && rc != PCRE2_ERROR_PARTIAL) {
			if (rc == PCRE2_ERROR_MATCHLIMIT ||
			    rc == PCRE2_ERROR_DEPTHLIMIT ||
			    rc == PCRE2_ERROR_JIT_STACKLIMIT)
				log_limit(x, c, rc);
			return M_LIMIT;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->tls->md);
		if (x->matches && x->mptr[ci] == NULL) {
			x->mptr[ci] = text + ov[0];
			x->mlen[ci] = ov[1] - ov[0];
		}
		(*hits)++;
		if (*hits >= c->maxhits)
			return M_YES;
		start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
		if (start > len)
			return M_YES;
	}
}

/* candidate() for c's own literals, which only run_list() texts ask. */
static bool own_candidate(struct run *x, const struct crule *c, size_t k,
                          struct msg_text tx)
{
	if (c->own == NULL || x->cur->tkind[k] < c->lits_need)
		return true;
	uint64_t t0 = x->r->prof ? monotime_ns() : 0, found = 0;
	acscan_run(c->own, tx.ptr, tx.len, &found);
	if (x->r->prof)   /* the rule's own time, not a regex call */
		prof_add(x, (size_t)(c - x->r->cr), t0, 0);
	return found != 0;
}

/* Whether a text with the bytes have holds a byte of each of c's
 * required classes. */
static inline bool bytes_ok(const struct crule *c,
                            const struct litscan_bset *have)
{
	for (size_t i = 0; i < c->nreq; i++)
		if (!litscan_bset_meets(have, &c->req[i]))
			return false;
	return true;
}

/* The kind of a text with the bytes have. */
static enum txt bytes_kind(const struct litscan_bset *have)
{
	if (have->w[2] | have->w[3])
		return TXT_HIGH;
	return have->w['&' / 64] >> ('&' % 64) & 1 ? TXT_ASCII : TXT_PLAIN;
}

/* Whether c may match text k: a match lies inside one text, so its
 * required literal must occur in that same text. */
static bool candidate(const struct run *x, const struct crule *c, size_t k)
{
	const struct gstate *gs = x->cur;
	const uint64_t *f = gs->found + (c->skel ? gs->ntexts + k : k) * gs->words;
	return (!c->lits || gs->tkind[k] < c->lits_need ||
	        (has_bit(f, c->gid) && has_bits(f, c->conj_id, c->nconj))) &&
	       bytes_ok(c, &gs->tbytes[k]);
}

static void prefilter(struct run *x, const struct group *g,
                      const char *text, size_t len, size_t k)
{
	uint64_t t0 = x->r->prof ? monotime_ns() : 0;
	uint64_t *found = x->cur->found + k * x->cur->words;
	if (g->bytes) {   /* the bytes in the same pass as the literals */
		acscan_run_bytes(g->ls, text, len, found, &x->cur->tbytes[k]);
		x->cur->tkind[k] = bytes_kind(&x->cur->tbytes[k]);
	} else {
		x->cur->tkind[k] = text_kind(text, len);
		acscan_run(g->ls, text, len, found);
	}
	if (g->sls != NULL) {
		x->skb = reserve(x->skb, &x->skcap, len, 1);
		if (x->skb != NULL)
			acscan_run(g->sls, x->skb, litscan_skeleton(text, len, x->skb),
			           x->cur->found + (x->cur->ntexts + k) * x->cur->words);
		else   /* out of memory: every skeleton rule a candidate */
			memset(x->cur->found + (x->cur->ntexts + k) * x->cur->words, 0xff,
			       x->cur->words * sizeof *x->cur->found);
	}
	if (x->r->prof)
		prof_prefilter(x, (enum tgt)(g - x->r->g), t0);
}

/* Room for need elements of elem bytes: p itself when its capacity *cap
 * suffices, else a new block (p freed, contents not kept, *cap doubled
 * at least); NULL (and *cap 0) when out of memory. */
static void *reserve(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap && p != NULL)
		return p;
	free(p);
	*cap = need > 2 * *cap ? need : 2 * *cap;
	if (*cap == 0)
		*cap = 1;
	p = malloc(*cap * elem);
	if (p == NULL)
		*cap = 0;
	return p;
}

/* Zeroed bitsets for ntexts texts of group g; false when out of memory. */
static bool found_clear(struct run *x, const struct group *g, size_t ntexts)
{
	struct gstate *gs = x->cur;
	gs->rwords = (g->count + 63) / 64;
	gs->words = g->nids > g->count ? (g->nids + 63) / 64 : gs->rwords;
	gs->ntexts = ntexts;
	size_t need = gs->words * (ntexts ? ntexts : 1) * (g->sls ? 2 : 1);
	if (need == 0)
		need = 1;   /* found is never NULL */
	gs->found = reserve(gs->found, &gs->fcap, need, sizeof *gs->found);
	gs->tkind = reserve(gs->tkind, &gs->tcap, ntexts, sizeof *gs->tkind);
	gs->tbytes = reserve(gs->tbytes, &gs->bcap, ntexts, sizeof *gs->tbytes);
	if (gs->found == NULL || gs->tkind == NULL || gs->tbytes == NULL)
		return false;
	memset(gs->found, 0, need * sizeof *gs->found);
	if (ntexts > 0)
		memset(gs->tkind, 0, ntexts * sizeof *gs->tkind);
	return true;
}

/* A header rule's value from its match: a negated rule (!~) hits when
 * its pattern does not match; a match limit leaves it unset. */
static void store_outcome(struct run *x, const struct hrule *h,
                          enum mres mr, unsigned hits)
{
	if (mr == M_LIMIT)
		return;
	if (h->flags & HR_NEGATE)
		x->values[h->rule] = mr == M_NO ? 1 : 0;
	else
		x->values[h->rule] = hits;
}

/* What key k's present text holds (enum txt): the literal automata and
 * ASCII projections rely on it. */
static enum txt hkey_kind(const struct run *x, size_t k)
{
	const struct span *sp = &x->htext[k];
	return x->r->hkeys[k].text ? text_kind(x->hb.p + sp->off, sp->len) :
	                             TXT_HIGH;
}

/* Header texts longer than this are not looked at for their bytes: they
 * hold most classes anyway (measured: cheaper without). */
#define HDR_BYTES_MAX 128

/* Header rule j on its key k's present text, of kind kind. */
static void hrule_match(struct run *x, size_t k, size_t j, enum txt kind)
{
	const struct hrule *h = &x->r->hrules[j];
	const struct span *sp = &x->htext[k];
	unsigned hits = 0;
	enum mres mr = match(x, &x->r->cr[h->rule], x->hb.p + sp->off, sp->len,
	                     kind != TXT_HIGH, &hits);
	store_outcome(x, h, mr, hits);
}

/* The header rules of key k on its present text: each runs when one of
 * its literals is in the text (its hkey's automaton) or it has none; in
 * a lazy run, one no score counts is left pending (lazy_fetch()). */
static void run_hkey_present(struct run *x, size_t k)
{
	const struct rules *r = x->r;
	const struct hkey *hk = &r->hkeys[k];
	const struct span *sp = &x->htext[k];
	uint64_t *f = x->cur->found + hk->foff;
	struct litscan_bset have;
	enum txt kind;
	if (hk->text && hk->req && sp->len <= HDR_BYTES_MAX) {
		acscan_bytes(x->hb.p + sp->off, sp->len, &have);
		kind = bytes_kind(&have);
	} else {
		memset(&have, 0xff, sizeof have);   /* every class met */
		kind = hkey_kind(x, k);
	}
	if (hk->text && hk->ls != NULL) {
		uint64_t t0 = r->prof ? monotime_ns() : 0;
		acscan_run(hk->ls, x->hb.p + sp->off, sp->len, f);
		if (r->prof)
			prof_prefilter(x, T_HEADER, t0);
	}
	for (size_t j = hk->hr; j < hk->hr + hk->nhr; j++) {
		const struct hrule *h = &r->hrules[j];
		if (h->flags & HR_EXISTS) {
			if (!(h->flags & HR_NEGATE))
				x->values[h->rule] = 1;
			continue;
		}
		const struct crule *c = &r->cr[h->rule];
		bool cand = (h->bit == HR_NOLIT || kind < h->need ||
		             has_bits(f, h->bit, 1u + h->nconj)) &&
		            sp->len >= c->minlen;
		if (cand && c->nreq > 0)
			cand = bytes_ok(c, &have);   /* hk->req: have is set */
		if (!cand)
			store_outcome(x, h, M_NO, 0);
		else if (x->lazy && r->cr[h->rule].deferred)
			pend_rule(x, h->rule);
		else
			hrule_match(x, k, j, kind);
	}
}

/* Rule c on an absent header: SpamAssassin matches "" (undef), or its
 * if-unset text. */
static enum mres match_absent(struct run *x, const struct crule *c,
                              unsigned *hits)
{
	const char *text = c->rs->if_unset ? c->rs->if_unset : "";
	return match(x, c, text, strlen(text), false, hits);
}

/* The header rules of key k when its text is absent: the outcomes
 * rules_precompute_absent() found. */
static void run_hkey_absent(struct run *x, size_t k)
{
	const struct rules *r = x->r;
	const struct hkey *hk = &r->hkeys[k];
	for (size_t j = hk->hr; j < hk->hr + hk->nhr; j++) {
		const struct hrule *h = &r->hrules[j];
		const struct hrabs *a = &r->hrabs[j];
		if (h->flags & HR_ABSENT) {
			if (a->value != 0)
				x->values[h->rule] = a->value;
			if (x->matches && a->mptr != NULL) {
				x->mptr[h->rule] = a->mptr;
				x->mlen[h->rule] = a->mlen;
			}
			continue;
		}
		unsigned hits = 0;
		enum mres mr = match_absent(x, &r->cr[h->rule], &hits);
		store_outcome(x, h, mr, hits);
	}
}

static void run_headers(struct run *x)
{
	const struct rules *r = x->r;
	if (!index_headers(x)) {
		x->hb.oom = true;
		return;
	}
	for (size_t k = 0; k < r->nhkeys; k++)
		if (r->hkeys[k].used)
			build_hkey(x, k);
	struct gstate *gs = x->cur = &x->gs[T_HEADER];
	size_t need = r->hwords ? r->hwords : 1;
	gs->found = reserve(gs->found, &gs->fcap, need, sizeof *gs->found);
	if (gs->found == NULL)
		x->hb.oom = true;
	if (x->hb.oom)
		return;
	memset(gs->found, 0, need * sizeof *gs->found);
	for (size_t k = 0; k < r->nhkeys; k++) {
		if (!r->hkeys[k].used)
			continue;
		if (x->htext[k].present)
			run_hkey_present(x, k);
		else
			run_hkey_absent(x, k);
	}
}

/* The outcome of every header rule on an absent text, once per
 * configuration (hrabs): the same text for every message. Rules whose
 * match reaches a limit, or that finds another outcome when the matched
 * text is asked for (another pattern may run then: use_lead()), are
 * left to run per message. -1 out of memory. */
int rules_precompute_absent(struct rules *r)
{
	struct tls *tls = tls_get();
	if (tls == NULL)
		return -1;
	pcre2_set_match_limit(tls->mc, r->opts.match_limit);
	pcre2_set_depth_limit(tls->mc, r->opts.depth_limit);
	struct run x = { .r = r, .tls = tls, .matches = true };
	x.mptr = calloc(r->n ? r->n : 1, sizeof *x.mptr);
	x.mlen = calloc(r->n ? r->n : 1, sizeof *x.mlen);
	if (x.mptr == NULL || x.mlen == NULL) {
		free(x.mptr);
		free(x.mlen);
		return -1;
	}
	for (size_t j = 0; j < r->nhrules; j++) {
		struct hrule *h = &r->hrules[j];
		struct hrabs *a = &r->hrabs[j];
		struct crule *c = &r->cr[h->rule];
		if (h->flags & HR_EXISTS) {
			a->value = h->flags & HR_NEGATE ? 1 : 0;
			h->flags |= HR_ABSENT;
			continue;
		}
		/* a limit reached here is logged when a message reaches it */
		bool logged = atomic_load(&c->limit_logged);
		atomic_store(&c->limit_logged, true);
		unsigned hits[2] = { 0, 0 };
		enum mres mr[2];
		for (int m = 0; m < 2; m++) {
			x.matches = m == 1;
			mr[m] = match_absent(&x, c, &hits[m]);
		}
		atomic_store(&c->limit_logged, logged);
		if (mr[0] == M_LIMIT || mr[1] == M_LIMIT || mr[0] != mr[1] ||
		    hits[0] != hits[1])
			continue;
		a->value = h->flags & HR_NEGATE ? (mr[0] == M_NO ? 1 : 0) :
		           hits[0];
		a->mptr = x.mptr[h->rule];
		a->mlen = x.mlen[h->rule];
		h->flags |= HR_ABSENT;
	}
	free(x.mptr);
	free(x.mlen);
	free(x.repc);
	return 0;
}

/* The headers of MIME parts 1.. looked up once, as index_headers() does
 * for the top level's. False when out of memory. */
static bool index_parts(struct run *x, size_t nparts)
{
	size_t total = 0;
	x->pstart = malloc((nparts + 1) * sizeof *x->pstart);
	if (x->pstart == NULL)
		return false;
	for (size_t p = 1; p < nparts; p++) {
		x->pstart[p] = total;
		total += msg_part_header_count(x->m, p);
	}
	x->pstart[nparts] = total;
	x->pinfo = malloc((total ? total : 1) * sizeof *x->pinfo);
	if (x->pinfo == NULL)
		return false;
	for (size_t p = 1; p < nparts; p++)
		for (size_t k = 0; k < x->pstart[p + 1] - x->pstart[p]; k++)
			hinfo_set(x->r, &x->pinfo[x->pstart[p] + k],
			          msg_part_header_at(x->m, p, k));
	return true;
}

/* b without its leading spaces and tabs. */
static void drop_leading_blanks(struct strbuf *b)
{
	size_t k = 0;
	while (k < b->len && (b->p[k] == ' ' || b->p[k] == '\t'))
		k++;
	if (k == 0)
		return;
	memmove(b->p, b->p + k, b->len - k);
	b->len -= k;
}

/* MIME header rule j (of its group) over the parts' headers, b the text
 * buffer (reused). */
static void mimeheader_rule(struct run *x, size_t j, struct strbuf *b)
{
	const struct rules *r = x->r;
	size_t i = r->g[T_MIMEHEADER].rules[j];
	const struct crule *c = &r->cr[i];
	const struct rs_rule *rule = c->rs;
	const struct hkey *hk = &r->hkeys[c->hkey];
	size_t nparts = msg_part_count(x->m);
	unsigned hits = 0;
	bool matched = false, limit = false;
	for (size_t p = 0; p < nparts && hits < c->maxhits; p++) {
		b->len = 0;
		if (hk->kind == HK_ALL) {
			put_all(x, b, p, hk->mods & RS_HDR_RAW);
		} else {
			/* the last instance, as get_header() in scalar context */
			const struct hinfo *h = NULL;
			size_t nh;
			const struct hinfo *hi = part_headers(x, p, &nh);
			for (size_t k = 0; k < nh; k++)
				if (hi[k].name == hk->mname)
					h = &hi[k];
			bool raw = hk->mods & RS_HDR_RAW;
			if (h != NULL)
				msg_header_sa_value(b, h->h, raw, h->no_decode);
			else if (rule->if_unset)
				sb_str(b, rule->if_unset);
			/* SpamAssassin's MIME parser drops the blanks after a
			 * part's colon (not the message's): "image/gif;\n\tname" */
			if (h != NULL && raw && p > 0)
				drop_leading_blanks(b);
		}
		if (b->oom)
			break;
		bool ascii;
		if (b->len < c->minlen) {
			continue;   /* no match in this part */
		} else if (c->nreq > 0) {
			struct litscan_bset have;
			acscan_bytes(b->p, b->len, &have);
			if (!bytes_ok(c, &have))
				continue;
			ascii = bytes_kind(&have) != TXT_HIGH;
		} else {
			ascii = charset_is_ascii(b->p, b->len);
		}
		enum mres mr = match(x, c, b->p ? b->p : "", b->len, ascii, &hits);
		if (mr == M_LIMIT)
			limit = true;
		else if (mr == M_YES)
			matched = true;
		if (x->matches && x->mptr[i] != NULL && b->p != NULL &&
		    x->mptr[i] >= b->p && x->mptr[i] < b->p + b->cap)
			x->mptr[i] = NULL;	/* the buffer is reused */
		if (matched && rule->negate)
			break;
	}
	if (limit && !matched)
		return;
	if (rule->negate)
		x->values[i] = matched ? 0 : 1;
	else
		x->values[i] = hits;
}

/* The MIME header rules; in a lazy run, one no score counts is left
 * pending (lazy_fetch()). False when out of memory. */
static bool run_mimeheaders(struct run *x)
{
	const struct rules *r = x->r;
	const struct group *g = &r->g[T_MIMEHEADER];
	if (g->count == 0)
		return true;
	if (!index_parts(x, msg_part_count(x->m)))
		return false;
	for (size_t j = 0; j < g->count; j++) {
		if (x->lazy && r->cr[g->rules[j]].deferred)
			pend_rule(x, g->rules[j]);
		else
			mimeheader_rule(x, j, &x->mb);
	}
	return true;
}

/* The rules of group g some of its n texts are a candidate for (bits by
 * position, x->cur->rwords words): run_list() looks at those alone. NULL
 * when out of memory. */
static const uint64_t *candidates(struct run *x, const struct group *g,
                                  size_t n)
{
	struct gstate *gs = x->cur;
	uint64_t *u = gs->ucand = reserve(gs->ucand, &gs->ucap, gs->rwords,
	                                  sizeof *u);
	if (u == NULL)
		return NULL;
	memset(u, 0, gs->rwords * sizeof *u);
	for (size_t k = 0; k < n; k++) {
		const uint64_t *f = gs->found + k * gs->words,
		               *al = g->always[gs->tkind[k]];
		for (size_t w = 0; w < gs->rwords; w++)
			u[w] |= f[w] | al[w];
		if (g->sls == NULL)
			continue;
		f = gs->found + (gs->ntexts + k) * gs->words;   /* skeletons */
		for (size_t w = 0; w < gs->rwords; w++)
			u[w] |= f[w];
	}
	return u;
}

/* The first bit set in u (words words) at position from or after;
 * SIZE_MAX when none. */
static size_t next_bit(const uint64_t *u, size_t words, size_t from)
{
	for (size_t w = from / 64; w < words; w++) {
		uint64_t b = u[w];
		if (w == from / 64)
			b &= ~(uint64_t)0 << (from % 64);
		if (b != 0)
			return w * 64 + (size_t)__builtin_ctzll(b);
	}
	return SIZE_MAX;
}

static size_t list_count(const struct run *x, enum tgt t)
{
	switch (t) {
	case T_BODY: return saeval_body_count(&x->ectx);
	case T_RAWBODY: return msg_rawbody_count(x->m);
	case T_URI: return msg_uri_count(x->m);
	case T_FULL: return 1;
	default: return 0;
	}
}

/* Text k of list target t (body paragraphs, raw body lines, URIs, the
 * full message). */
static struct msg_text list_at(const struct run *x, enum tgt t, size_t k)
{
	switch (t) {
	case T_BODY: return saeval_body_at(&x->ectx, k);
	case T_RAWBODY: return msg_rawbody_at(x->m, k);
	case T_URI: return msg_uri_at(x->m, k);
	default:
		return (struct msg_text){ .ptr = x->full.p ? x->full.p : "",
		                          .len = x->full.len };
	}
}

/* Rule j of list target t over its texts: it hits on the first text it
 * matches, or counts matches over all texts up to maxhits. A rule with a
 * required literal runs only over the texts that contain one. */
static void list_rule(struct run *x, enum tgt t, size_t j)
{
	const struct rules *r = x->r;
	size_t i = r->g[t].rules[j];
	const struct crule *c = &r->cr[i];
	x->cur = &x->gs[t];
	size_t n = x->cur->ntexts;
	unsigned hits = 0;
	bool limit = false;
	/* body paragraph 0 is the subject */
	for (size_t k = c->nosubject && t == T_BODY ? 1 : 0;
	     k < n && hits < c->maxhits; k++) {
		if (!candidate(x, c, k))
			continue;
		struct msg_text tx = list_at(x, t, k);
		if (tx.len < c->minlen || !own_candidate(x, c, k, tx))
			continue;
		bool ascii = x->cur->tkind[k] != TXT_HIGH;
		if (match(x, c, tx.ptr, tx.len, ascii, &hits) == M_LIMIT)
			limit = true;
	}
	if (!limit || hits > 0)
		x->values[i] = hits;
}

/* The rules of list target t: its texts through the prefilter, then each
 * candidate rule; in a lazy run a rule only metas read is left pending
 * (lazy_fetch() runs it if one asks). False when out of memory. */
static bool run_list(struct run *x, enum tgt t)
{
	const struct rules *r = x->r;
	const struct group *g = &r->g[t];
	if (g->count == 0)
		return true;
	x->cur = &x->gs[t];
	size_t n = list_count(x, t);
	if (!found_clear(x, g, n))
		return false;
	for (size_t k = 0; k < n; k++) {
		struct msg_text tx = list_at(x, t, k);
		prefilter(x, g, tx.ptr, tx.len, k);
	}
	const uint64_t *u = candidates(x, g, n);
	if (u == NULL)
		return false;
	size_t words = x->cur->rwords;
	for (size_t j = next_bit(u, words, 0); j < g->count;
	     j = next_bit(u, words, j + 1)) {
		if (x->lazy && r->cr[g->rules[j]].deferred)
			pend_rule(x, g->rules[j]);
		else
			list_rule(x, t, j);
	}
	return true;
}

/* The full message with LF line ends, as SpamAssassin reads it from a
 * file or spamc (the milter path gives CRLF). */
static void build_full(struct run *x)
{
	struct msg_text f = msg_full(x->m);
	size_t start = 0;
	for (size_t i = 0; i + 1 < f.len; i++) {
		if (f.ptr[i] == '\r' && f.ptr[i + 1] == '\n') {
			strbuf_put(&x->full, f.ptr + start, i - start);
			start = i + 1;
		}
	}
	strbuf_put(&x->full, f.ptr + start, f.len - start);
}

/* Eval rule i (x->ectx set up by setup_evals()). */
static void eval_rule(struct run *x, size_t i)
{
	if (saeval_run(x->r->cr[i].ev, &x->ectx))
		x->values[i] = 1;
}

/* uri_detail rule i (rulesud.c): the URI that hit is its match. */
static void ud_rule(struct run *x, size_t i)
{
	struct msg_text hit;
	int limit = 0;
	if (rules_ud_match(x->r, i, x->m, &x->udm, x->tls->md, x->tls->mc,
	                   &hit, &limit)) {
		x->values[i] = 1;
		if (x->matches && x->mptr[i] == NULL) {
			x->mptr[i] = hit.ptr;
			x->mlen[i] = hit.len;
		}
	}
	if (limit == PCRE2_ERROR_MATCHLIMIT || limit == PCRE2_ERROR_DEPTHLIMIT ||
	    limit == PCRE2_ERROR_JIT_STACKLIMIT)
		log_limit(x, &x->r->cr[i], limit);
}

/* fn on rules[0..n), each run alone (not through a group's prefilter);
 * in a lazy run, one no score counts is left pending (lazy_fetch()). */
static void run_each(struct run *x, const size_t *rules, size_t n,
                     void (*fn)(struct run *x, size_t i))
{
	for (size_t k = 0; k < n; k++) {
		if (x->lazy && x->r->cr[rules[k]].deferred)
			pend_rule(x, rules[k]);
		else
			fn(x, rules[k]);
	}
}

/* The eval functions' view of the message (EnvelopeFrom header rules
 * share it). The MAIL FROM an MTA or the user gave is EnvelopeFrom;
 * without one, or when envguess.h guessed it for a replayed file,
 * SpamAssassin's own guess from the headers is, as in SpamAssassin
 * reading a file. */
static void setup_evals(struct run *x)
{
	const struct scan_env *env = scan_env(x->scan);
	x->ectx = (struct saeval_ctx){ .m = x->m,
	                               .env_from = env->mail_from_guessed
	                                               ? NULL
	                                               : env->mail_from,
	                               .relays = eval_relays,
	                               .relays_arg = x,
	                               .trust = ruleset_trustpath(x->r->rs),
	                               .cache = saeval_cache_new() };
	/* SpamAssassin runs head evals, FreeMail's among them, before the
	 * body rules: their edit of the body text comes first */
	for (size_t k = 0; k < x->r->nbedits && x->ectx.body == NULL; k++)
		saeval_edit_body(x->r->cr[x->r->bedits[k]].ev, &x->ectx);
}

/* ---- capture templates (rulescap.c) ---- */

/* Rule c's texts as the engine hands them to it: a header rule's one
 * (its key's, or when absent its if-unset text or ""), a list rule's
 * all (from the second for a body rule with tflags nosubject). */
static size_t rule_text_first(const struct crule *c)
{
	return c->nosubject && c->tgt == T_BODY ? 1 : 0;
}

static size_t rule_text_count(struct run *x, const struct crule *c)
{
	if (c->tgt == T_FULL && x->full.len == 0)
		build_full(x);
	return c->tgt == T_HEADER ? 1 : list_count(x, c->tgt);
}

static struct msg_text rule_text_at(const struct run *x,
                                    const struct crule *c, size_t k)
{
	if (c->tgt != T_HEADER)
		return list_at(x, c->tgt, k);
	const struct span *sp = &x->htext[c->hkey];
	if (sp->present)
		return (struct msg_text){ x->hb.p + sp->off, sp->len };
	const char *u = c->rs->if_unset ? c->rs->if_unset : "";
	return (struct msg_text){ u, strlen(u) };
}

/* The tags' values: every capture rule on its texts, once a message
 * (SpamAssassin runs them first, at priority -10000). */
static const struct rcap_vals *cap_values(struct run *x)
{
	struct rcap_vals *v = &x->capv;
	const struct rules *r = x->r;
	if (v->done)
		return v;
	for (size_t k = 0; k < r->ncaps; k++) {
		const struct crule *c = &r->cr[r->caps[k].rule];
		unsigned hits = 0;
		size_t n = rule_text_count(x, c);
		for (size_t t = rule_text_first(c); t < n && hits < c->maxhits;
		     t++) {
			struct msg_text tx = rule_text_at(x, c, t);
			hits += rules_cap_collect(r, k, tx.ptr, tx.len,
			                          c->maxhits - hits, x->tls->mc, v);
		}
	}
	v->done = true;
	return v;
}

/* Whether template rule i could match one of its texts. */
static bool tmpl_any_candidate(struct run *x, size_t i,
                               const struct rcap_vals *v)
{
	const struct crule *c = &x->r->cr[i];
	size_t n = rule_text_count(x, c);
	for (size_t k = rule_text_first(c); k < n; k++) {
		struct msg_text tx = rule_text_at(x, c, k);
		if (rules_cap_candidate(x->r, i, v, tx.ptr, tx.len))
			return true;
	}
	return false;
}

/* Template rule i: its pattern with the tags' values, compiled for this
 * message, over its candidate texts. It does not run when a tag it
 * names has no value; a header rule with !~ hits when it finds no
 * match. */
static void tmpl_rule(struct run *x, size_t i)
{
	const struct crule *c = &x->r->cr[i];
	const struct rcap_vals *v = cap_values(x);
	bool cand = tmpl_any_candidate(x, i, v);
	if (!cand && !c->rs->negate)
		return;
	size_t plen;
	char *p = rules_cap_pattern(x->r, i, v, &plen);
	if (p == NULL)
		return;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *code = cand ? pcre2_compile((PCRE2_SPTR)p, plen,
	                                        c->rs->pcre2_options, &ec,
	                                        &eo, NULL) : NULL;
	free(p);
	struct part pt = { .code = code ? rules_jcode_new(code) : NULL };
	if (cand && pt.code == NULL)
		return;   /* PCRE2 refused it (a value): no hit */
	if (pt.code != NULL)   /* runs once: not worth a JIT compile */
		atomic_store(&pt.code->jit, JIT_NO);
	unsigned hits = 0;
	bool limit = false;
	size_t n = rule_text_count(x, c);
	for (size_t k = rule_text_first(c); cand && k < n &&
	     hits < c->maxhits; k++) {
		struct msg_text tx = rule_text_at(x, c, k);
		if (rules_cap_candidate(x->r, i, v, tx.ptr, tx.len) &&
		    match_loop(x, c, pt.code, tx.ptr, tx.len, &hits) == M_LIMIT)
			limit = true;
	}
	rules_part_free(&pt);
	if (c->rs->negate)
		x->values[i] = hits == 0 && !limit ? 1 : 0;
	else if (!limit || hits > 0)
		x->values[i] = hits;
}

/* Every meta in rank order (a cycle was cut: see plan_metas()). */
static void run_all_metas(struct run *x)
{
	const struct rules *r = x->r;
	for (size_t k = 0; k < r->nmetas; k++) {
		size_t i = r->metas[k];
		double v = rmeta_eval(r->cr[i].meta, x->values);
		if (v != 0 && v == v)
			x->values[i] = v > 0 ? v : 1;
	}
}

/* Mark the metas reading slot s. */
static void mark_readers(const struct mplan *p, uint64_t *dirty, size_t s)
{
	for (uint32_t e = p->rd_off[s]; e < p->rd_off[s + 1]; e++)
		dirty[p->rd[e] >> 6] |= (uint64_t)1 << (p->rd[e] & 63);
}

/* The metas, by change propagation (struct mplan): a meta none of whose
 * operands differs from its baseline inputs has its baseline value; the
 * others are evaluated in rank order, and one whose value differs from
 * its baseline marks its readers. Same values as run_all_metas(): a
 * meta's value depends only on its operands' (rmeta_eval()), and the
 * meta slots are still 0 here (no stage sets them). */
static void run_metas(struct run *x)
{
	const struct rules *r = x->r;
	const struct mplan *p = &r->mp;
	if (!p->on) {
		run_all_metas(x);
		return;
	}
	double *values = x->values;
	uint64_t *dirty = x->dirty;
	for (size_t j = 0; j < p->ninputs; j++)
		if (!same_bits(values[p->inputs[j]], 0.0))
			mark_readers(p, dirty, p->inputs[j]);
	for (size_t j = 0; j < p->nnzbase; j++)
		values[r->metas[p->nzbase[j]]] = p->base[p->nzbase[j]];
	/* Readers rank after what they read: marks land ahead of w's
	 * lowest bit, and the loop reads dirty[w] again. */
	for (size_t w = 0; w < p->words; w++) {
		while (dirty[w] != 0) {
			size_t k = w * 64 + (size_t)__builtin_ctzll(dirty[w]);
			dirty[w] &= dirty[w] - 1;
			size_t i = r->metas[k];
			double v = meta_stored(rmeta_eval(r->cr[i].meta, values));
			values[i] = v;
			if (!same_bits(v, p->base[k]))
				mark_readers(p, dirty, i);
		}
	}
}

/* Whether slot i of a lazy run is still to compute: a pending rule or a
 * meta not evaluated yet. */
static bool lazy_open(const struct run *x, size_t i)
{
	return i < x->r->n && has_bit(x->open, i);
}

/* The values a lazy run's operand may hold, without running anything:
 * a pending rule's hits are 0 up to its maxhits, a meta not evaluated
 * yet holds what it may on any message; anything else is known. */
static void lazy_peek(void *ctx, int index, double *lo, double *hi)
{
	const struct run *x = ctx;
	size_t i = (size_t)index;
	*lo = *hi = x->values[i];
	if (!lazy_open(x, i))
		return;
	if (has_bit(x->pend, i)) {
		*lo = 0;
		*hi = x->r->cr[i].maxhits;
	} else {
		*lo = x->r->mlo[i];
		*hi = x->r->mhi[i];
	}
}

/* Whether a lazy run has not computed some operand of meta i yet. */
static bool lazy_unknown(const struct run *x, size_t i)
{
	const struct rules *r = x->r;
	for (uint32_t k = r->open_off[i]; k < r->open_off[i + 1]; k++)
		if (lazy_open(x, r->open[k]))
			return true;
	return false;
}

static double lazy_fetch(void *ctx, int index);

/* Meta i of a lazy run: from the bounds of its operands (rules pending,
 * metas not evaluated) when they decide it; else the first operand not
 * known that the evaluation reaches is computed and the bounds looked at
 * again. */
static double lazy_meta_value(struct run *x, size_t i)
{
	const struct crule *c = &x->r->cr[i];
	if (!lazy_unknown(x, i))
		return rmeta_eval(c->meta, x->values);
	size_t steps = x->r->msteps[i];
	double lo, hi;
	for (size_t step = 0;; step++) {
		int d = rmeta_eval_bounds(c->meta, lazy_peek, x, &lo, &hi);
		if (lo == hi)
			return lo;
		if (d < 0 || step == steps)
			return rmeta_eval_fetch(c->meta, lazy_fetch, x);
		lazy_fetch(x, d);
	}
}

/* A lazy run's operand: a pending rule runs now; a meta not yet
 * evaluated is (lazy_meta_value(): recursion as deep as the metas'
 * nesting, bounded at load: rules.lazy). */
static double lazy_fetch(void *ctx, int index)
{
	struct run *x = ctx;
	const struct rules *r = x->r;
	size_t i = (size_t)index;
	if (i >= r->n)
		return x->values[i];
	const struct crule *c = &r->cr[i];
	if (!has_bit(x->open, i))
		return x->values[i];
	clear_bit(x->open, i);
	if (has_bit(x->pend, i)) {
		clear_bit(x->pend, i);
		if (c->ev != NULL)
			eval_rule(x, i);
		else if (c->ud != NULL)
			ud_rule(x, i);
		else if (c->tmpl != NULL)
			tmpl_rule(x, i);
		else if (c->tgt == T_HEADER)
			hrule_match(x, (size_t)c->hkey, c->hr,
			            hkey_kind(x, (size_t)c->hkey));
		else if (c->tgt == T_MIMEHEADER)
			mimeheader_rule(x, c->gid, &x->mb);
		else
			list_rule(x, c->tgt, c->gid);
	} else {   /* a meta of lmeta */
		x->values[i] = meta_stored(lazy_meta_value(x, i));
	}
	return x->values[i];
}

/* The metas of a lazy run: those a score counts, each asking for its
 * operands as it needs them (a deferred rule no scored meta reads, or
 * that && and || do not get to, is never run). Same values as
 * run_metas() for the scored metas: a meta's value depends only on the
 * operands it reads. */
static void run_metas_lazy(struct run *x)
{
	const struct rules *r = x->r;
	for (size_t k = 0; k < r->ntops; k++)
		lazy_fetch(x, (int)r->tops[k]);
}

/* Whether the rule files score c, a test vigil cannot run that an
 * earlier stage adds (the SPF stage's SPF_FAIL): in a score set with
 * network tests (1, 3), as SpamAssassin runs them there; in the others
 * only after a score line of one value, which means every set (a site's
 * `score SPF_FAIL 5` or `0`; audit22 M1): the stock files' four values
 * give those network tests 0 there while the stages do look them up, so
 * the stages' scores (vigild.conf) stand. */
static bool files_score_stage_test(const struct rules *r,
                                   const struct crule *c)
{
	return c->state == RULES_UNSUPPORTED && c->rs->type != RS_UNDEFINED &&
	       ((r->opts.score_set & 1) != 0 ||
	        (c->rs->score_given && c->rs->score_one_value));
}

/* Whether c is such a test that the rule files turn off with score 0:
 * as SpamAssassin then does not run it, it neither counts nor does a
 * meta see it (audit21 M5). */
static bool stage_test_off(const struct rules *r, const struct crule *c)
{
	return files_score_stage_test(r, c) && c->score == 0;
}

/* Hits added by earlier stages, for names rules cannot produce. */
static void take_scan_hits(struct run *x)
{
	const struct rules *r = x->r;
	size_t n = scan_hit_count(x->scan);
	for (size_t k = 0; k < n; k++) {
		const struct scan_hit_info *h = scan_hit_at(x->scan, k);
		size_t slot = rules_map_get(&r->map, h->name, strlen(h->name));
		if (slot == SIZE_MAX)
			continue;
		if (slot < r->n && (r->cr[slot].state != RULES_UNSUPPORTED ||
		                    (h->provisional &&
		                     stage_test_off(r, &r->cr[slot]))))
			continue;
		x->values[slot] += 1;
	}
}

/* Which of the first n hits of scan (earlier stages') is name, or
 * SIZE_MAX. */
static size_t hit_before(const struct scan *scan, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(scan_hit_at(scan, k)->name, name) == 0)
			return k;
	return SIZE_MAX;
}

/* The rule files decide a test they define and run: an earlier stage's
 * hit with its built-in score (the sanity stage's GTUBE, MISSING_DATE)
 * that the rule did not confirm goes, when the rule did not hit or is
 * off (score 0), as SpamAssassin would not count it (audit20 H2: score
 * GTUBE 0 left GTUBE's 1000). A stage's hit for a rule vigil cannot run
 * (SPF_PASS) stays. */
static void drop_unconfirmed(struct run *x, size_t earlier)
{
	const struct rules *r = x->r;
	for (size_t k = earlier; k-- > 0;) {
		const struct scan_hit_info *h = scan_hit_at(x->scan, k);
		if (!h->provisional)
			continue;
		size_t slot = rules_map_get(&r->map, h->name, strlen(h->name));
		const struct crule *c = slot < r->n ? &r->cr[slot] : NULL;
		if (c == NULL)
			continue;   /* no rule file names it */
		if (c->state == RULES_ACTIVE || c->state == RULES_DISABLED ||
		    c->state == RULES_APPROX || stage_test_off(r, c))
			scan_hit_drop(x->scan, k);
		else if (files_score_stage_test(r, c))
			/* a stage's test (SPF_FAIL) the files score: their
			 * score, not the stage's default (audit21 M5) */
			scan_hit_rescore(x->scan, k, c->score);
	}
}

static int emit(struct run *x, struct rules_result *res, unsigned flags)
{
	const struct rules *r = x->r;
	/* A test an earlier stage already counted (the sanity stage's
	 * MISSING_DATE, say) is not counted twice: its score stands, unless
	 * it was that stage's built-in default (the rule file's wins). */
	size_t earlier = scan_hit_count(x->scan);
	for (size_t i = 0; i < r->n; i++) {
		if (x->values[i] <= 0)
			continue;
		const struct crule *c = &r->cr[i];
		if (x->lazy && c->deferred)
			continue;   /* maybe not run: not reported */
		unsigned count = c->is_meta || c->state == RULES_UNSUPPORTED ? 1 :
		                 (unsigned)x->values[i];
		if (res != NULL) {
			struct rules_hit *h = result_add(res);
			if (h == NULL)
				return -1;
			h->name = c->rs->name;
			h->score = c->sub ? 0 : c->score;
			h->count = count;
			h->describe = c->rs->describe;
			if (x->matches && x->mptr[i] != NULL) {
				size_t n = x->mlen[i] > 200 ? 200 : x->mlen[i];
				memcpy(h->match, x->mptr[i], n);
				strcpy(h->match + n, x->mlen[i] > 200 ? "..." : "");
				h->match_len = n + (x->mlen[i] > 200 ? 3 : 0);
			}
		}
		if ((flags & RULES_EVAL_NO_SCAN) || c->state == RULES_UNSUPPORTED ||
		    c->deferred)
			continue;
		size_t k = hit_before(x->scan, earlier, c->rs->name);
		if (k != SIZE_MAX) {
			/* counted once; a stage's built-in score gives way */
			if (scan_hit_at(x->scan, k)->provisional)
				scan_hit_rescore(x->scan, k, c->score * count);
			continue;
		}
		if (scan_hit(x->scan, c->rs->name, c->score * count,
		             c->rs->describe) != 0)
			return -1;
		scan_hit_set_count(x->scan, scan_hit_count(x->scan) - 1, count);
	}
	if (!(flags & RULES_EVAL_NO_SCAN))
		drop_unconfirmed(x, earlier);
	return 0;
}

int rules_eval(const struct rules *r, struct scan *scan,
               struct rules_result *res, unsigned flags)
{
	if (res != NULL)
		res->count = 0;
	/* the URI list as the rule files' redirector_pattern lines make it
	 * (a no-op when the caller set them already, as it should) */
	scan_set_uri_redirectors(scan, ruleset_redirectors(r->rs));
	const struct msg *m = scan_msg(scan);
	struct tls *tls = tls_get();
	if (m == NULL || tls == NULL)
		return -1;
	pcre2_set_match_limit(tls->mc, r->opts.match_limit);
	pcre2_set_depth_limit(tls->mc, r->opts.depth_limit);
	size_t nslots = r->n + r->nextra;
	struct run x = {
		.r = r, .scan = scan, .m = m, .tls = tls,
		.matches = (flags & RULES_EVAL_MATCHES) && res != NULL,
	};
	x.values = calloc(nslots ? nslots : 1, sizeof *x.values);
	x.htext = calloc(r->nhkeys ? r->nhkeys : 1, sizeof *x.htext);
	x.dirty = calloc(r->mp.words ? r->mp.words : 1, sizeof *x.dirty);
	if (x.matches) {
		x.mptr = calloc(r->n ? r->n : 1, sizeof *x.mptr);
		x.mlen = calloc(r->n ? r->n : 1, sizeof *x.mlen);
	}
	int rc = -1;
	if ((flags & RULES_EVAL_LAZY) && r->lazy) {
		x.lazy = true;
		x.pend = calloc((r->n + 63) / 64 + 1, sizeof *x.pend);
		x.open = calloc((r->n + 63) / 64 + 1, sizeof *x.open);
		if (x.pend == NULL || x.open == NULL)
			goto out;
		memcpy(x.open, r->lmeta, (r->n / 64 + 1) * sizeof *x.open);
	}
	if (x.values == NULL || x.htext == NULL || x.dirty == NULL ||
	    (x.matches && (x.mptr == NULL || x.mlen == NULL)))
		goto out;
	take_scan_hits(&x);
	setup_evals(&x);
	run_headers(&x);
	if (x.hb.oom)
		goto out;
	if (!run_mimeheaders(&x))
		goto out;
	if (!run_list(&x, T_BODY) || !run_list(&x, T_RAWBODY))
		goto out;
	if (r->g[T_FULL].count > 0) {
		build_full(&x);
		if (x.full.oom || !run_list(&x, T_FULL))
			goto out;
	}
	if (!run_list(&x, T_URI))
		goto out;
	run_each(&x, r->tmpls, r->ntmpls, tmpl_rule);
	run_each(&x, r->evals, r->nevals, eval_rule);
	run_each(&x, r->uds, r->nuds, ud_rule);
	if (x.lazy)
		run_metas_lazy(&x);
	else
		run_metas(&x);
	rc = emit(&x, res, flags);
out:
	free(x.values);
	free(x.dirty);
	for (size_t t = 0; t < T_COUNT; t++) {
		free(x.gs[t].found);
		free(x.gs[t].ucand);
		free(x.gs[t].tkind);
		free(x.gs[t].tbytes);
	}
	free(x.skb);
	free(x.pend);
	free(x.open);
	free(x.htext);
	free(x.hinfo);
	free(x.hfirst);
	free(x.pinfo);
	free(x.pstart);
	saeval_cache_free(x.ectx.cache);
	rules_cap_vals_free(&x.capv);
	rules_ud_msg_free(x.udm);
	free(x.mptr);
	free(x.mlen);
	free(x.repc);
	free(x.hb.p);
	free(x.vb.p);
	free(x.mb.p);
	free(x.full.p);
	return rc;
}

