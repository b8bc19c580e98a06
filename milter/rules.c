/* rules.c — see rules.h */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <confuse.h>

#include "litscan.h"
#include "msg.h"
#include "monotime.h"
#include "pfor.h"
#include "relays.h"
#include "ruleset.h"
#include "rulesmeta.h"
#include "saeval.h"
#include "scan.h"
#include "strbuf.h"
#include "vlog.h"

/* The texts rules run over. */
enum tgt { T_HEADER, T_MIMEHEADER, T_BODY, T_RAWBODY, T_FULL, T_URI, T_COUNT };

/* Where a header rule's text comes from. */
enum hkind {
	HK_PLAIN,     /* a conventional header */
	HK_ALL,       /* ALL: every header "Name: value\n" */
	HK_TOCC,      /* ToCc: To then Cc */
	HK_MESSAGEID, /* MESSAGEID: X-Message-Id, Resent-Message-Id, ... */
	HK_ENVFROM,   /* EnvelopeFrom: the scan's MAIL FROM */
	HK_RELAYS,    /* X-Spam-Relays-*: built by relays.c */
	HK_ALL_RELAYS,/* ALL-TRUSTED ...: headers split at the trust boundary */
	HK_PSEUDO     /* a SpamAssassin pseudo-header we cannot produce */
};

/* A distinct header request (name + modifiers) shared by header rules. */
struct hkey {
	char *lname;      /* lower-cased header name */
	unsigned mods;    /* RS_HDR_* */
	enum hkind kind;
	int rkind;        /* HK_RELAYS, HK_ALL_RELAYS: the relays kind */
	uint32_t src[4];  /* the header lists (hnames) its text is made of, */
	size_t nsrc;      /* in order: HK_PLAIN 1, HK_TOCC 2, HK_MESSAGEID 4 */
	bool used;        /* read by header rules (else mimeheader rules only) */
	bool mime;        /* read by mimeheader rules: mname is set */
	uint32_t mname;   /* the hnames index of lname (not for ALL) */
	bool text;        /* some of them read the text (else exists: only) */
	bool req;         /* some have required byte classes (crule.req) */
	size_t hr, nhr;   /* its header rules: hrules[hr .. hr + nhr) */
	struct litscan *ls; /* the literals of those rules (ids: crule.hid);
	                       NULL if none */
	uint32_t nlit;    /* ids in ls */
	size_t foff;      /* its bitset in run.found (words) */
};

/* A header name some header text is made of. Each header of a message is
 * looked up once (by length and hash) to find the texts that want it. */
struct hname {
	char *lname;      /* lower-cased */
	size_t len;
	bool no_decode;   /* SpamAssassin never RFC 2047-decodes it */
};

/* A header rule as run_headers() walks it: grouped by header key, in
 * rule order within one. */
struct hrule {
	uint32_t rule;    /* index into cr */
	uint32_t bit;     /* id of its literals in its hkey's automaton, or
	                     HR_NOLIT: always a candidate */
	uint8_t need;     /* crule.lits_need */
	uint8_t flags;    /* HR_* */
};
#define HR_NOLIT UINT32_MAX
#define HR_EXISTS  0x1u
#define HR_NEGATE  0x2u
#define HR_ABSENT  0x4u   /* hrabs holds its outcome when the text is absent */

/* A header rule's outcome on an absent header: the text is "" or its
 * if-unset, the same for every message, so matched once when compiling. */
struct hrabs {
	double value;
	const char *mptr;  /* matched text (explain), or NULL */
	size_t mlen;
};

/* Multiple-hit loops stop here even without maxhits (bounded work). */
#define MULTIPLE_CAP 10000u

/* A compiled pattern, JIT-compiled the first time it runs (jcode_ready()):
 * a lazy run or the literal prefilter leaves most rules unrun on most
 * messages, a third of the stock rules on a whole corpus, and JIT
 * compiling every pattern at load was a third of the load time. Rules
 * are shared read-only, so the JIT state sits behind a pointer. */
enum { JIT_UNTRIED, JIT_YES, JIT_NO };

struct jcode {
	pcre2_code *re;
	atomic_uchar jit;   /* JIT_*; set once, under jit_lock */
};

static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;

/* A jcode owning re, or NULL (re freed) when out of memory or re is NULL. */
static struct jcode *jcode_new(pcre2_code *re)
{
	struct jcode *j = re ? malloc(sizeof *j) : NULL;
	if (j == NULL) {
		pcre2_code_free(re);
		return NULL;
	}
	j->re = re;
	atomic_init(&j->jit, JIT_UNTRIED);
	return j;
}

static void jcode_free(struct jcode *j)
{
	if (j != NULL)
		pcre2_code_free(j->re);
	free(j);
}

struct part {
	struct jcode *code, *tail;   /* tail: see find_tail() */
	struct jcode *lead;          /* for rules asked only whether they
	                                match: code without the optional items
	                                a match may start with
	                                (litscan_strip_lead()), tried at fewer
	                                places; or NULL */
};

static void part_free(struct part *pt)
{
	jcode_free(pt->code);
	jcode_free(pt->tail);
	jcode_free(pt->lead);
	*pt = (struct part){ 0 };
}

/* Most required byte classes kept per rule. */
#define RULES_MAX_REQ 4

/* What a text is made of, as far as projections care. */
enum txt {
	TXT_HIGH,    /* has bytes >= 0x80 */
	TXT_ASCII,   /* has none */
	TXT_PLAIN    /* has none, nor '&' (litscan_ascii() no_amp) */
};

struct crule {
	const struct rs_rule *rs;
	enum rules_state state;
	enum tgt tgt;
	struct part main;    /* the pattern, JIT-compiled when possible;
	                        its tail (litscan_tails()) that PCRE2
	                        searches faster, when it has no literal: no
	                        match of the tail in a text, no match of
	                        the rule */
	struct part *more;   /* a pattern too large for PCRE2, compiled in
	                        parts (main is the first): hit when one
	                        part matches */
	size_t nmore;
	double score;        /* in the configured score set */
	unsigned maxhits;    /* 1 unless tflags multiple */
	bool nosubject;      /* tflags nosubject (body) */
	bool lits;           /* has a required literal (prefiltered) */
	uint8_t lits_need;   /* enum txt: the texts its literals tell about
	                        (those of a projection tell about the texts
	                        it was made for alone) */
	struct litscan_bset *req; /* required byte classes
	                        (litscan_req_bytes()): a text without a
	                        byte of each is no candidate; NULL when
	                        none */
	size_t nreq;
	uint32_t minlen;     /* PCRE2_INFO_MINLENGTH: no match in a shorter
	                        text (0 when compiled in parts) */
	struct part *ascii;  /* the ASCII projection (litscan_ascii()) in
	                        parts, with tails, run on texts without
	                        bytes >= 0x80; NULL when there is none */
	size_t nascii;
	bool sub;            /* named __*: no score of its own */
	bool deferred;       /* no score counts it (sub, or score 0): never a
	                        scan hit; a lazy run computes it only when a
	                        meta asks */
	bool is_meta;
	bool skel;           /* its literals are its skeleton's (those go to
	                        the group's sls) */
	struct litscan *own; /* required literals too many for the group's
	                        automaton (split_lits()): texts of kind
	                        lits_need and up without one are skipped */
	size_t rep;          /* a repeat {min,} whose every iteration needs
	                        one of the literals of repset rep - 1: texts
	                        with fewer than rep_min positions ending one
	                        cannot match (litscan_repeat_lits()); 0 when
	                        none */
	size_t rep_min;
	char *rep_sig;       /* its sorted literals (each after its length
	                        byte, NUL-ended), until build_repsets() */
	int cerr;            /* compile_regex(): 0, PCRE2's error code, or
	                        CERR_NO_PATTERN; reported by finish_rule() */
	size_t coff;         /* offset of that error */
	char (*plits)[64];   /* required literals prep_prefilter() found, */
	size_t nplits;       /* until build_groups() adds them */
	int hkey;            /* header rules: index into hkeys */
	uint32_t hid;        /* header rules: id of its literals in its
	                        hkey's automaton */
	uint32_t hr;         /* header rules: its index in hrules */
	uint32_t gid;        /* position in its target group */
	struct rmeta *meta;
	struct saeval_call *ev;  /* eval: rule vigil implements (saeval.h) */
	atomic_bool limit_logged;
};

struct group {
	size_t *rules;       /* rule indexes */
	size_t count;
	struct litscan *ls;  /* ids = positions in rules[]; NULL if none */
	struct litscan *sls; /* the same for skeleton literals (skel_lits()),
	                        run over each text's skeleton */
	uint64_t *always[3]; /* per enum txt, bits by position: the rules a
	                        text of that kind is a candidate for without
	                        a literal (build_masks()) */
	bool bytes;          /* some rule has required byte classes: the
	                        prefilter notes each text's bytes */
};

struct slotmap {         /* name -> value slot (open addressing) */
	const char **names;
	size_t *slots;
	size_t cap, used;
};

/* Change propagation over the metas (plan_metas(), run_metas()). A meta's
 * rank is its position in rules.metas (dependency order). Its baseline is
 * the value it takes on a message where no other rule is set: with every
 * other slot 0, in order, so a meta on a meta sees that meta's baseline
 * (`!A` on a meta A). On a message only the metas downstream of a set slot
 * can differ from their baselines, and only those are evaluated. */
struct mplan {
	bool on;             /* every meta reads only metas of lower rank (no
	                        cycle was cut): else all are evaluated */
	double *base;        /* per rank: the baseline */
	size_t *nzbase;      /* ranks whose baseline is not 0 */
	size_t nnzbase;
	size_t *inputs;      /* slots metas read that no meta sets, ascending */
	size_t ninputs;
	uint32_t *rd_off;    /* per slot s: rd[rd_off[s] .. rd_off[s + 1]) are */
	uint32_t *rd;        /* the ranks of the metas reading s, ascending */
	size_t words;        /* of a dirty bitset over ranks */
};

struct rules {
	const struct ruleset *rs;
	struct rules_opts opts;
	size_t n;            /* rules of the ruleset */
	struct crule *cr;
	struct hkey *hkeys;
	size_t nhkeys;
	struct hname *hnames; /* distinct; index = per-message list id */
	size_t nhnames;
	uint32_t *hslot;     /* open addressing: hnames index + 1, 0 empty */
	size_t hcap;         /* power of 2 */
	size_t hmaxlen;      /* longest name in hnames */
	uint32_t rcvd;       /* hnames index of "received" */
	struct hrule *hrules;/* header group rules by hkey (hkey.hr) */
	struct hrabs *hrabs; /* parallel to hrules */
	size_t nhrules;
	size_t hwords;       /* words of all hkeys' bitsets */
	struct group g[T_COUNT];
	size_t *metas;       /* meta rule indexes in evaluation order */
	size_t nmetas;
	struct mplan mp;     /* change propagation over metas[] */
	bool lazy;           /* RULES_EVAL_LAZY possible: metas in order,
	                        nested at most LAZY_MAX_NESTING deep */
	double *mlo, *mhi;   /* per rule index, for the metas: the values
	                        they may store on any message (plan_lazy()) */
	uint64_t *lmeta;     /* bits by rule index: the metas a lazy run
	                        evaluates (lazy_meta()) */
	uint8_t *msteps;     /* per rule index: a meta's bound steps
	                        (lazy_meta_value()) */
	size_t *tops;        /* the metas a score counts, in rank order */
	size_t ntops;
	uint32_t *open_off;  /* per rule index i (a meta): open[open_off[i] ..
	                        open_off[i + 1]) are the operands of i a lazy
	                        run may not have computed yet (deferred rules
	                        and metas) */
	uint32_t *open;
	struct slotmap map;
	char **extra;        /* names metas use that are not rules: slots n.. */
	size_t nextra;
	struct rules_diag *diags;
	size_t ndiags, capdiags;
	struct rules_stats stats;
	size_t scored;
	struct rules_prof *prof;  /* rules_profile(): per rule, then per
	                             target's prefilter (n + tgt) */
	size_t *evals;       /* the active eval: rules */
	size_t nevals;
	struct repset *reps; /* distinct literal sets of repeats */
	size_t nreps;
};

/* The literals of a repeat, shared by the rules whose repeats need the
 * same ones (the __FILL_THIS_FORM_* family): a text's count is then
 * taken once, up to cap, the largest min among them. */
struct repset {
	char *sig;
	struct litscan *ls;
	size_t cap;
	unsigned users;
};

/* ---- small helpers ---- */

static char *xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Appends i to (*v)[0..*n). -1 out of memory. */
static int push_index(size_t **v, size_t *n, size_t i)
{
	size_t *m = realloc(*v, (*n + 1) * sizeof *m);
	if (m == NULL)
		return -1;
	*v = m;
	m[(*n)++] = i;
	return 0;
}

static void set_bit(uint64_t *b, size_t i)
{
	b[i / 64] |= (uint64_t)1 << (i % 64);
}

static void clear_bit(uint64_t *b, size_t i)
{
	b[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static bool has_bit(const uint64_t *b, size_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* FNV-1a of the ASCII-lower-cased name: header names hash alike in any
 * case; the rule-name map compares names exactly all the same. */
static uint64_t hash_name(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ascii_lower((unsigned char)s[i])) * 1099511628211ull;
	return h;
}

static int map_grow(struct slotmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	const char **names = calloc(cap, sizeof *names);
	size_t *slots = calloc(cap, sizeof *slots);
	if (names == NULL || slots == NULL) {
		free(names);
		free(slots);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->names[i] == NULL)
			continue;
		size_t k = hash_name(m->names[i], strlen(m->names[i])) & (cap - 1);
		while (names[k] != NULL)
			k = (k + 1) & (cap - 1);
		names[k] = m->names[i];
		slots[k] = m->slots[i];
	}
	free(m->names);
	free(m->slots);
	m->names = names;
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* Slot of name[0..n), or SIZE_MAX. */
static size_t map_get(const struct slotmap *m, const char *name, size_t n)
{
	if (m->cap == 0)
		return SIZE_MAX;
	size_t k = hash_name(name, n) & (m->cap - 1);
	while (m->names[k] != NULL) {
		if (strncmp(m->names[k], name, n) == 0 && m->names[k][n] == '\0')
			return m->slots[k];
		k = (k + 1) & (m->cap - 1);
	}
	return SIZE_MAX;
}

/* name must outlive the map. A later put of the same name wins. */
static int map_put(struct slotmap *m, const char *name, size_t slot)
{
	if ((m->used + 1) * 2 > m->cap && map_grow(m) != 0)
		return -1;
	size_t n = strlen(name);
	size_t k = hash_name(name, n) & (m->cap - 1);
	while (m->names[k] != NULL) {
		if (strcmp(m->names[k], name) == 0) {
			m->slots[k] = slot;
			return 0;
		}
		k = (k + 1) & (m->cap - 1);
	}
	m->names[k] = name;
	m->slots[k] = slot;
	m->used++;
	return 0;
}

static int add_diag(struct rules *r, enum rules_diag_kind kind,
                    const struct rs_rule *rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int add_diag(struct rules *r, enum rules_diag_kind kind,
                    const struct rs_rule *rule, const char *fmt, ...)
{
	if (r->ndiags == r->capdiags) {
		size_t cap = r->capdiags ? r->capdiags * 2 : 64;
		struct rules_diag *d = realloc(r->diags, cap * sizeof *d);
		if (d == NULL)
			return -1;
		r->diags = d;
		r->capdiags = cap;
	}
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *msg = strdup(buf);
	if (msg == NULL)
		return -1;
	r->diags[r->ndiags++] = (struct rules_diag){
		.kind = kind,
		.file = rule ? rule->file : NULL,
		.line = rule ? rule->line : 0,
		.rule = rule ? rule->name : NULL,
		.message = msg,
	};
	return 0;
}

static bool is_sub(const char *name)
{
	return name[0] == '_' && name[1] == '_';
}

/* ---- compiling ---- */

static enum tgt type_target(enum rs_type t)
{
	switch (t) {
	case RS_HEADER: return T_HEADER;
	case RS_MIMEHEADER: return T_MIMEHEADER;
	case RS_BODY: return T_BODY;
	case RS_RAWBODY: return T_RAWBODY;
	case RS_FULL: return T_FULL;
	case RS_URI: return T_URI;
	default: return T_COUNT;
	}
}

static enum hkind header_kind(const char *h)
{
	if (strcmp(h, "ALL") == 0)
		return HK_ALL;
	if (strcasecmp(h, "ToCc") == 0)
		return HK_TOCC;
	if (strcmp(h, "MESSAGEID") == 0)
		return HK_MESSAGEID;
	if (strcasecmp(h, "EnvelopeFrom") == 0)
		return HK_ENVFROM;
	if (relays_kind_of(h) >= 0)
		return HK_RELAYS;
	if (strncmp(h, "ALL-", 4) == 0 && relays_all_kind_of(h) >= 0 &&
	    strpbrk(h, "abcdefghijklmnopqrstuvwxyz") == NULL)
		return HK_ALL_RELAYS;
	if (strncasecmp(h, "X-Spam-Relays-", 14) == 0 ||
	    strncmp(h, "ALL-", 4) == 0 || strcasecmp(h, "X-Spam-DCC") == 0)
		return HK_PSEUDO;
	return HK_PLAIN;
}

static int hkey_index(struct rules *r, const struct rs_rule *rule)
{
	enum hkind kind = header_kind(rule->header);
	unsigned mods = rule->exists ? 0 : rule->hdr_mods;
	size_t len = strlen(rule->header);
	for (size_t i = 0; i < r->nhkeys; i++) {
		const struct hkey *k = &r->hkeys[i];
		if (k->kind == kind && k->mods == mods &&
		    strlen(k->lname) == len &&
		    strncasecmp(k->lname, rule->header, len) == 0)
			return (int)i;
	}
	struct hkey *ks = realloc(r->hkeys, (r->nhkeys + 1) * sizeof *ks);
	if (ks == NULL)
		return -1;
	r->hkeys = ks;
	char *l = xstrndup(rule->header, len);
	if (l == NULL)
		return -1;
	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ks[r->nhkeys] = (struct hkey){ .lname = l, .mods = mods, .kind = kind };
	if (kind == HK_RELAYS)
		ks[r->nhkeys].rkind = relays_kind_of(l);
	else if (kind == HK_ALL_RELAYS)
		ks[r->nhkeys].rkind = relays_all_kind_of(l);
	return (int)r->nhkeys++;
}

/* ---- header names (hnames) ---- */

/* The hnames index of name[0..n) (any case), or UINT32_MAX. The names
 * are compared as strncasecmp() compares them in the C locale. */
static uint32_t hname_find(const struct rules *r, const char *name, size_t n)
{
	if (n == 0 || n > r->hmaxlen || r->hcap == 0)
		return UINT32_MAX;
	size_t k = hash_name(name, n) & (r->hcap - 1);
	for (; r->hslot[k] != 0; k = (k + 1) & (r->hcap - 1)) {
		const struct hname *e = &r->hnames[r->hslot[k] - 1];
		if (e->len != n)
			continue;
		size_t i = 0;
		while (i < n && ascii_lower((unsigned char)name[i]) ==
		                (unsigned char)e->lname[i])
			i++;
		if (i == n)
			return r->hslot[k] - 1;
	}
	return UINT32_MAX;
}

/* The hnames index of lname (lower-cased), added when new; UINT32_MAX
 * when out of memory. The table is rebuilt at each addition: there are
 * a few hundred names, once per configuration. */
static uint32_t hname_add(struct rules *r, const char *lname)
{
	size_t n = strlen(lname);
	uint32_t id = hname_find(r, lname, n);
	if (id != UINT32_MAX)
		return id;
	if (r->nhnames >= UINT32_MAX / 4)
		return UINT32_MAX;
	struct hname *v = realloc(r->hnames, (r->nhnames + 1) * sizeof *v);
	if (v == NULL)
		return UINT32_MAX;
	r->hnames = v;
	char *l = xstrndup(lname, n);
	if (l == NULL)
		return UINT32_MAX;
	v[r->nhnames] = (struct hname){ .lname = l, .len = n };
	id = (uint32_t)r->nhnames++;
	if (r->nhnames * 2 > r->hcap) {
		size_t cap = r->hcap ? r->hcap * 2 : 64;
		uint32_t *slot = calloc(cap, sizeof *slot);
		if (slot == NULL)
			return UINT32_MAX;
		free(r->hslot);
		r->hslot = slot;
		r->hcap = cap;
		for (size_t i = 0; i + 1 < r->nhnames; i++) {
			size_t k = hash_name(v[i].lname, v[i].len) & (cap - 1);
			while (slot[k] != 0)
				k = (k + 1) & (cap - 1);
			slot[k] = (uint32_t)i + 1;
		}
	}
	size_t k = hash_name(l, n) & (r->hcap - 1);
	while (r->hslot[k] != 0)
		k = (k + 1) & (r->hcap - 1);
	r->hslot[k] = id + 1;
	if (n > r->hmaxlen)
		r->hmaxlen = n;
	return id;
}

/* The score that decides whether a rule runs: SpamAssassin gives "__"
 * rules without a score line 1.0 (ruleset.h fills in 0). */
static double run_score(const struct rules *r, const struct rs_rule *rule)
{
	if (r->opts.run_all)
		return 1;
	if (is_sub(rule->name) && !rule->score_given)
		return 1;
	return rule->score[r->opts.score_set & 3];
}

/* How common byte b is in mail text, per mille (English letter
 * frequencies; blanks most common; upper case a tenth of lower case). */
static unsigned byte_weight(unsigned b)
{
	static const unsigned char lower[26] = {
		65, 12, 23, 35, 100, 18, 16, 50, 57, 1, 6, 33, 20,
		55, 60, 15, 1, 49, 52, 75, 23, 8, 19, 1, 16, 1,
	};
	if (b == ' ')
		return 180;
	if (b == '\n')
		return 20;
	if (b >= 'a' && b <= 'z')
		return lower[b - 'a'];
	if (b >= 'A' && b <= 'Z')
		return lower[b - 'A'] / 10u + 1;
	return b >= 0x21 ? 1 + (b < 0x80) : 1;
}

/* How often a match of code may start, roughly: the summed weights of the
 * bytes that can start it. */
static unsigned start_cost(const pcre2_code *code)
{
	uint32_t type = 0, unit = 0;
	const uint8_t *bits = NULL;
	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODETYPE, &type) == 0 &&
	    type == 2)
		return byte_weight('\n');   /* line starts */
	if (type == 1 &&
	    pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODEUNIT, &unit) == 0) {
		unsigned lc = unit >= 'A' && unit <= 'Z' ? unit + 32 : unit;
		return lc >= 'a' && lc <= 'z' ?   /* either case, maybe */
		       byte_weight(lc) + byte_weight(lc - 32) :
		       byte_weight(unit & 0xff);
	}
	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &bits) != 0 ||
	    bits == NULL)
		return 4096;   /* anywhere */
	unsigned cost = 0;
	for (unsigned b = 0; b < 256; b++)
		if (bits[b / 8] >> (b % 8) & 1)
			cost += byte_weight(b);
	return cost;
}

#define TAIL_MAX_COST 160   /* start_cost() units */

static pcre2_code *compile_span(const char *p, size_t n, uint32_t opts)
{
	int ec;
	PCRE2_SIZE eo;
	return pcre2_compile((PCRE2_SPTR)p, n, opts, &ec, &eo, NULL);
}

/* A tail of pattern p[0..n) (litscan_tails()) whose matches can start at
 * far fewer bytes than those of the whole (code): run first, it rules out
 * most texts for a fraction of the cost (tails of the stock drug rules
 * start at a letter where the whole pattern starts at any word boundary).
 * NULL when there is none (or no memory). */
static struct jcode *find_tail(const char *p, size_t n, uint32_t opts,
                               const pcre2_code *code)
{
	pcre2_code *best = NULL;
	size_t offs[32], ends[32], heads[32];
	size_t nt = litscan_tails(p, n, opts, offs, ends, heads, 32);
	unsigned cost = start_cost(code);
	/* no cost is below 2: once under 8 nothing can be 4 times better */
	for (size_t k = 0; k < nt && cost >= 8; k++) {
		const char *tp = p + offs[k];
		size_t tn = ends[k] - offs[k];
		/* the head tells the cost; the whole tail only when it fails */
		pcre2_code *t = NULL, *h = heads[k] < ends[k] ?
		                compile_span(tp, heads[k] - offs[k], opts) : NULL;
		if (h == NULL)
			h = t = compile_span(tp, tn, opts);
		unsigned tc = h ? start_cost(h) : UINT_MAX;
		if (h != t)
			pcre2_code_free(h);
		bool better = tc <= TAIL_MAX_COST && tc * 4 <= cost;
		if (better && t == NULL)
			t = compile_span(tp, tn, opts);
		if (!better || t == NULL || litscan_pcre2_trap(t, tp, tn)) {
			pcre2_code_free(t);
			continue;
		}
		pcre2_code_free(best);
		best = t;
		cost = tc;
	}
	return jcode_new(best);
}

/* The lead of pattern p[0..n) (see struct part), when there is one and
 * PCRE2 compiles it. */
static struct jcode *compile_lead(const char *p, size_t n, uint32_t opts)
{
	pcre2_code *code = NULL;
	int ec = 0;
	for (int calls = 0; calls < 2 && code == NULL; calls++) {
		size_t ln;
		char *l = litscan_strip_lead(p, n, opts, calls, &ln);
		PCRE2_SIZE eo;
		code = l ? pcre2_compile((PCRE2_SPTR)l, ln, opts, &ec, &eo, NULL) :
		       NULL;
		if (code != NULL && litscan_pcre2_trap(code, l, ln)) {
			pcre2_code_free(code);
			code = NULL;
			ec = 0;
		}
		free(l);
		if (ec != PCRE2_ERROR_PATTERN_TOO_LARGE)
			break;
	}
	return jcode_new(code);
}

#define MAX_PARTS 64

/* (?:body){min,max} as "(body)(?1){min-1,max-1}": the repeats call the
 * group instead of copying it (since PCRE2 10.30 a call backtracks like
 * the group itself, so both match the same). NULL when out of memory. */
static char *rewrite_repeat(const char *body, size_t blen, long min,
                            long max, size_t *n)
{
	char *p = malloc(blen + 64);
	if (p == NULL)
		return NULL;
	p[0] = '(';
	memcpy(p + 1, body, blen);
	*n = 1 + blen;
	if (max < 0)
		*n += (size_t)sprintf(p + *n, ")(?1){%ld,}", min - 1);
	else
		*n += (size_t)sprintf(p + *n, ")(?1){%ld,%ld}", min - 1, max - 1);
	return p;
}

/* Compile p[0..n) into parts of c (code, then more[]); when PCRE2 finds
 * it too large (its compiled form must fit in 64 KiB with the default
 * link size), compile a repeated group as calls of one copy, or split its
 * largest separable alternation in two and compile each half. Returns 0,
 * or the PCRE2 error code (ec, eo as pcre2_compile gives them), or 1 when
 * out of memory. */
static int compile_parts(struct crule *c, const char *p, size_t n,
                         bool split, bool prefilter, int *ec, PCRE2_SIZE *eo)
{
	uint32_t opts = c->rs->pcre2_options;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)p, n, opts, ec, eo, NULL);
	if (code != NULL) {
		struct part pt = { .code = jcode_new(code) };
		if (pt.code == NULL)
			return 1;
		if (split && prefilter)
			pt.tail = find_tail(p, n, opts, code);
		if (prefilter && c->maxhits == 1)
			pt.lead = compile_lead(p, n, opts);
		if (c->main.code == NULL) {
			c->main = pt;
			return 0;
		}
		struct part *m = realloc(c->more, (c->nmore + 1) * sizeof *m);
		if (m == NULL) {
			part_free(&pt);
			return 1;
		}
		c->more = m;
		c->more[c->nmore++] = pt;
		return 0;
	}
	if (*ec != PCRE2_ERROR_PATTERN_TOO_LARGE)
		return *ec;
	size_t body, blen;
	long min, max;
	if (litscan_repeat(p, n, opts, &body, &blen, &min, &max)) {
		size_t qn;
		char *q = rewrite_repeat(p + body, blen, min, max, &qn);
		int rc = q ? compile_parts(c, q, qn, split, prefilter, ec, eo) : 1;
		free(q);
		struct part *last = c->nmore ? &c->more[c->nmore - 1] : &c->main;
		if (rc == 0 && prefilter && c->maxhits == 1 && last->lead == NULL)
			last->lead = compile_lead(p, n, opts);
		return rc;
	}
	if (c->maxhits != 1 || c->nmore + 2 > MAX_PARTS)
		return *ec;   /* counting matches needs one pattern */
	size_t maxbr = n / 2 + 2, from = 0, to = 0;
	size_t *br = malloc(maxbr * sizeof *br);
	char *half = malloc(n + 1);
	size_t nb = br && half ? litscan_alternation(p, n, opts, &from, &to,
	                                             br, maxbr) : 0;
	int rc = br && half ? *ec : 1;
	for (size_t h = 0; h < 2 && nb >= 2; h++) {
		size_t a = h ? br[nb / 2] : br[0];
		size_t b = h ? to : br[nb / 2] - 1;   /* before the '|' */
		memcpy(half, p, from);
		memcpy(half + from, p + a, b - a);
		memcpy(half + from + (b - a), p + to, n - to);
		rc = compile_parts(c, half, from + (b - a) + (n - to), true,
		                   prefilter, ec, eo);
		if (rc != 0)
			break;
	}
	free(br);
	free(half);
	return rc;
}

#define CERR_NO_PATTERN (-1)   /* PCRE2's error codes are positive */

/* Whether rule c is a regex rule that runs (compile_regex() compiles it). */
static bool needs_regex(const struct crule *c)
{
	return c->state == RULES_ACTIVE && c->tgt != T_COUNT &&
	       !(c->rs->type == RS_HEADER && c->rs->exists);
}

/* Compile rule i's pattern. Called for every rule from several threads at
 * once (pfor.h): it touches rule i alone, and leaves the outcome in
 * c->cerr for finish_rule(). -1 out of memory. */
static int compile_regex(void *ctx, size_t i)
{
	struct rules *r = ctx;
	struct crule *c = &r->cr[i];
	const struct rs_rule *rule = c->rs;
	if (!needs_regex(c))
		return 0;
	if (rule->pattern == NULL) {
		c->cerr = CERR_NO_PATTERN;
		return 0;
	}
	int errcode = 0;
	PCRE2_SIZE off = 0;
	int rc = compile_parts(c, rule->pattern, rule->pattern_len, false,
	                       !r->opts.no_prefilter, &errcode, &off);
	if (rc == 1)
		return -1;
	if (rc != 0) {
		part_free(&c->main);
		for (size_t k = 0; k < c->nmore; k++)
			part_free(&c->more[k]);
		c->nmore = 0;
		c->cerr = errcode;
		c->coff = (size_t)off;
		return 0;
	}
	return 0;
}

static int meta_resolve(void *ctx, const char *name, size_t len)
{
	struct rules *r = ctx;
	size_t slot = map_get(&r->map, name, len);
	if (slot != SIZE_MAX)
		return (int)slot;
	/* Not a rule: a slot of its own, so that hits added by earlier
	 * stages under that name still count. */
	char **ex = realloc(r->extra, (r->nextra + 1) * sizeof *ex);
	if (ex == NULL)
		return -1;
	r->extra = ex;
	char *copy = xstrndup(name, len);
	if (copy == NULL)
		return -1;
	slot = r->n + r->nextra;
	if (map_put(&r->map, copy, slot) != 0) {
		free(copy);
		return -1;
	}
	r->extra[r->nextra++] = copy;
	return (int)slot;
}

static int compile_meta(struct rules *r, size_t i)
{
	struct crule *c = &r->cr[i];
	const struct rs_rule *rule = c->rs;
	char err[256] = "";
	const char *expr = rule->meta ? rule->meta : "";
	c->meta = rmeta_compile(expr, strlen(expr), meta_resolve, r, err,
	                        sizeof err);
	if (c->meta == NULL) {
		c->state = RULES_FAILED;
		return add_diag(r, RULES_DIAG_META, rule, "meta %s: %s", rule->name,
		                err);
	}
	for (size_t k = 0; k < rmeta_dep_count(c->meta); k++) {
		size_t d = (size_t)rmeta_dep_at(c->meta, k);
		if (d >= r->n) {
			if (add_diag(r, RULES_DIAG_UNKNOWN_DEP, rule,
			             "meta %s: unknown rule %s (0 unless an earlier "
			             "stage adds it)", rule->name,
			             r->extra[d - r->n]) != 0)
				return -1;
		} else if ((r->cr[d].rs->type == RS_EVAL &&
		            r->cr[d].ev == NULL) ||
		           r->cr[d].rs->type == RS_UNDEFINED) {
			if (add_diag(r, RULES_DIAG_EVAL_DEP, rule,
			             "meta %s: depends on %s rule %s (false unless an "
			             "earlier stage adds it)", rule->name,
			             r->cr[d].rs->type == RS_EVAL ? "eval" : "undefined",
			             r->cr[d].rs->name) != 0)
				return -1;
		} else if (r->cr[d].state == RULES_APPROX) {
			if (add_diag(r, RULES_DIAG_EVAL_DEP, rule,
			             "meta %s: depends on approximated rule %s",
			             rule->name, r->cr[d].rs->name) != 0)
				return -1;
		}
	}
	return 0;
}

/* Meta nodes for rmeta_order: metas[k] is node k. */
struct order_ctx {
	struct rules *r;
	size_t *node_of;     /* rule index -> node, SIZE_MAX if not a meta */
	bool *cut;           /* node removed (on a cycle) */
};

static size_t ord_dep_count(void *ctx, size_t node)
{
	struct order_ctx *o = ctx;
	const struct crule *c = &o->r->cr[o->r->metas[node]];
	return o->cut[node] || c->meta == NULL ? 0 : rmeta_dep_count(c->meta);
}

static size_t ord_dep_at(void *ctx, size_t node, size_t i)
{
	struct order_ctx *o = ctx;
	const struct crule *c = &o->r->cr[o->r->metas[node]];
	size_t d = (size_t)rmeta_dep_at(c->meta, i);
	if (d >= o->r->n || o->node_of[d] == SIZE_MAX || o->cut[o->node_of[d]])
		return o->r->nmetas;	/* ignored */
	return o->node_of[d];
}

static int order_metas(struct rules *r)
{
	size_t n = r->nmetas;
	if (n == 0)
		return 0;
	struct order_ctx o = { .r = r };
	o.node_of = malloc(r->n * sizeof *o.node_of);
	o.cut = calloc(n, sizeof *o.cut);
	size_t *order = malloc(n * sizeof *order);
	int rc = -1;
	if (o.node_of == NULL || o.cut == NULL || order == NULL)
		goto out;
	for (size_t i = 0; i < r->n; i++)
		o.node_of[i] = SIZE_MAX;
	for (size_t k = 0; k < n; k++)
		o.node_of[r->metas[k]] = k;
	for (;;) {
		size_t cyc;
		if (rmeta_order(n, ord_dep_count, ord_dep_at, &o, order, &cyc) == 0)
			break;
		if (cyc >= n)
			goto out;
		/* Leave one rule of the cycle out and try again. */
		o.cut[cyc] = true;
		struct crule *c = &r->cr[r->metas[cyc]];
		c->state = RULES_FAILED;
		if (add_diag(r, RULES_DIAG_CYCLE, c->rs,
		             "meta %s: depends on itself through other metas "
		             "(left out)", c->rs->name) != 0)
			goto out;
	}
	size_t *sorted = malloc(n * sizeof *sorted);
	if (sorted == NULL)
		goto out;
	for (size_t k = 0; k < n; k++)
		sorted[k] = r->metas[order[k]];
	free(r->metas);
	r->metas = sorted;
	rc = 0;
out:
	free(o.node_of);
	free(o.cut);
	free(order);
	return rc;
}

/* What run_metas() keeps for a meta whose expression gives v: a meta hits
 * once, whatever its value (negative counts as 1); 0 and NaN do not hit. */
static double meta_stored(double v)
{
	return v != 0 && v == v ? (v > 0 ? v : 1) : 0;
}

/* Whether a and b are the same double, bit for bit (-0 is not 0): a
 * meta that reads only unchanged bits computes unchanged bits. */
static bool same_bits(double a, double b)
{
	uint64_t x, y;
	memcpy(&x, &a, sizeof x);
	memcpy(&y, &b, sizeof y);
	return x == y;
}

/* Readers of each slot (rd_off/rd) and the slots no meta sets (inputs);
 * rank[s] is the rank of the meta in slot s, or SIZE_MAX. */
static int plan_readers(struct rules *r, const size_t *rank, size_t nslots,
                        size_t edges)
{
	struct mplan *p = &r->mp;
	p->rd_off = calloc(nslots + 1, sizeof *p->rd_off);
	p->rd = malloc((edges ? edges : 1) * sizeof *p->rd);
	uint32_t *fill = calloc(nslots ? nslots : 1, sizeof *fill);
	if (p->rd_off == NULL || p->rd == NULL || fill == NULL) {
		free(fill);
		return -1;
	}
	for (size_t k = 0; k < r->nmetas; k++) {
		const struct rmeta *m = r->cr[r->metas[k]].meta;
		for (size_t j = 0; j < rmeta_dep_count(m); j++)
			p->rd_off[rmeta_dep_at(m, j) + 1]++;
	}
	size_t ninputs = 0;
	for (size_t s = 0; s < nslots; s++) {
		if (p->rd_off[s + 1] > 0 && rank[s] == SIZE_MAX)
			ninputs++;
		p->rd_off[s + 1] += p->rd_off[s];
	}
	/* Ranks ascending in each list: metas[] is walked in rank order. */
	for (size_t k = 0; k < r->nmetas; k++) {
		const struct rmeta *m = r->cr[r->metas[k]].meta;
		for (size_t j = 0; j < rmeta_dep_count(m); j++) {
			size_t d = (size_t)rmeta_dep_at(m, j);
			p->rd[p->rd_off[d] + fill[d]++] = (uint32_t)k;
		}
	}
	free(fill);
	p->inputs = malloc((ninputs ? ninputs : 1) * sizeof *p->inputs);
	if (p->inputs == NULL)
		return -1;
	for (size_t s = 0; s < nslots; s++)
		if (p->rd_off[s + 1] > p->rd_off[s] && rank[s] == SIZE_MAX)
			p->inputs[p->ninputs++] = s;
	return 0;
}

/* Each meta's baseline: run_metas()'s full evaluation on a message where
 * no other slot is set. */
static int plan_baselines(struct rules *r, size_t nslots)
{
	struct mplan *p = &r->mp;
	double *values = calloc(nslots ? nslots : 1, sizeof *values);
	p->base = malloc(r->nmetas * sizeof *p->base);
	p->nzbase = malloc(r->nmetas * sizeof *p->nzbase);
	if (values == NULL || p->base == NULL || p->nzbase == NULL) {
		free(values);
		return -1;
	}
	for (size_t k = 0; k < r->nmetas; k++) {
		size_t i = r->metas[k];
		values[i] = meta_stored(rmeta_eval(r->cr[i].meta, values));
		p->base[k] = values[i];
		if (!same_bits(p->base[k], 0.0))
			p->nzbase[p->nnzbase++] = k;
	}
	free(values);
	return 0;
}

/* A lazy run evaluates a meta inside the evaluation of the meta reading
 * it (lazy_fetch()): deeper nesting than this, and every run is eager. */
#define LAZY_MAX_NESTING 32

/* A meta a lazy run evaluates (not failed, not left out of a cycle). */
static bool lazy_meta(const struct crule *c)
{
	return c->is_meta && c->meta != NULL && c->state == RULES_ACTIVE;
}

/* What meta_stored() keeps of values lo .. hi. */
static void stored_bounds(double lo, double hi, double *slo, double *shi)
{
	if (lo == hi) {
		*slo = *shi = meta_stored(lo);
	} else if (hi < 0) {
		*slo = *shi = 1;
	} else {
		*slo = lo > 0 ? lo : 0;
		*shi = lo < 0 && hi < 1 ? 1 : hi;
	}
}

/* The values slot index may hold on any message, for plan_lazy(): a rule
 * 0 to its maxhits, a meta what plan_lazy() found so far (rank order),
 * a name an earlier stage sets 0 or more. */
static void static_peek(void *ctx, int index, double *lo, double *hi)
{
	const struct rules *r = ctx;
	size_t i = (size_t)index;
	const struct crule *c = i < r->n ? &r->cr[i] : NULL;
	*lo = 0;
	if (c == NULL || c->state == RULES_UNSUPPORTED) {
		*hi = HUGE_VAL;
	} else if (lazy_meta(c)) {
		*lo = r->mlo[i];
		*hi = r->mhi[i];
	} else {
		*hi = c->maxhits;
	}
}

/* Operands a lazy run computes one by one for a meta that counts
 * (rmeta_counts()), deciding it from its bounds after each, before
 * evaluating it in order instead: the bounds cost a pass over the
 * expression each time, so a meta reading many operands gets fewer steps
 * (LAZY_STEP_READS / operands, at least one). One of && || ! alone is
 * evaluated in order at once: its bounds decide no sooner (corpus). */
#define LAZY_MAX_STEPS 16
#define LAZY_STEP_READS 256

static uint8_t lazy_steps(const struct rmeta *m)
{
	size_t steps = LAZY_STEP_READS / (rmeta_dep_count(m) + 1);
	if (!rmeta_counts(m))
		return 0;
	return steps < 1 ? 1 : steps > LAZY_MAX_STEPS ? LAZY_MAX_STEPS :
	       (uint8_t)steps;
}

/* Whether operand d of a meta may still be to compute in a lazy run. */
static bool may_open(const struct rules *r, size_t d)
{
	return d < r->n && (r->cr[d].deferred || has_bit(r->lmeta, d));
}

/* open_off, open: the operands of each meta may_open() says. */
static int plan_open(struct rules *r)
{
	size_t total = 0;
	r->open_off = calloc(r->n + 1, sizeof *r->open_off);
	if (r->open_off == NULL)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		total = 0;
		for (size_t i = 0; i < r->n; i++) {
			const struct rmeta *m = has_bit(r->lmeta, i) ? r->cr[i].meta :
			                        NULL;
			r->open_off[i] = (uint32_t)total;
			for (size_t j = 0; m != NULL && j < rmeta_dep_count(m); j++) {
				size_t d = (size_t)rmeta_dep_at(m, j);
				if (!may_open(r, d))
					continue;
				if (pass == 1)
					r->open[total] = (uint32_t)d;
				total++;
			}
		}
		r->open_off[r->n] = (uint32_t)total;
		if (pass == 0 &&
		    (r->open = malloc((total ? total : 1) * sizeof *r->open)) == NULL)
			return -1;
	}
	return 0;
}

/* Whether lazy runs are possible (r->lazy): each meta's nesting (1 + the
 * deepest meta it reads; metas[] in rank order) within the bound. And
 * each meta's bounds on any message (mlo, mhi), which let a lazy run
 * decide a meta reading one not evaluated yet. */
static int plan_lazy(struct rules *r, const size_t *rank)
{
	unsigned *depth = calloc(r->nmetas ? r->nmetas : 1, sizeof *depth);
	r->mlo = calloc(r->n ? r->n : 1, sizeof *r->mlo);
	r->mhi = calloc(r->n ? r->n : 1, sizeof *r->mhi);
	r->msteps = calloc(r->n ? r->n : 1, sizeof *r->msteps);
	r->lmeta = calloc(r->n / 64 + 1, sizeof *r->lmeta);
	if (depth == NULL || r->mlo == NULL || r->mhi == NULL ||
	    r->msteps == NULL || r->lmeta == NULL) {
		free(depth);
		return -1;
	}
	for (size_t i = 0; i < r->n; i++)
		if (lazy_meta(&r->cr[i]))
			set_bit(r->lmeta, i);
	if (plan_open(r) != 0) {
		free(depth);
		return -1;
	}
	r->lazy = true;
	for (size_t k = 0; k < r->nmetas && r->lazy; k++) {
		size_t i = r->metas[k];
		const struct rmeta *m = r->cr[i].meta;
		depth[k] = 1;
		for (size_t j = 0; j < rmeta_dep_count(m); j++) {
			size_t rd = rank[rmeta_dep_at(m, j)];
			if (rd != SIZE_MAX && depth[rd] + 1 > depth[k])
				depth[k] = depth[rd] + 1;
		}
		r->lazy = depth[k] <= LAZY_MAX_NESTING;
		double lo, hi;
		rmeta_eval_bounds(m, static_peek, r, &lo, &hi);
		stored_bounds(lo, hi, &r->mlo[i], &r->mhi[i]);
		r->msteps[i] = lazy_steps(m);
	}
	free(depth);
	return 0;
}

/* After order_metas(): the plan run_metas() follows. Propagation needs
 * every meta to come after the metas it reads; when a cycle was cut that
 * may not hold, and every meta is evaluated as before (p->on false). */
static int plan_metas(struct rules *r)
{
	struct mplan *p = &r->mp;
	size_t nslots = r->n + r->nextra;
	if (r->nmetas == 0 || r->nmetas > UINT32_MAX)
		return 0;
	size_t *rank = malloc(nslots * sizeof *rank);
	if (rank == NULL)
		return -1;
	for (size_t s = 0; s < nslots; s++)
		rank[s] = SIZE_MAX;
	for (size_t k = 0; k < r->nmetas; k++)
		rank[r->metas[k]] = k;
	bool ordered = true;
	size_t edges = 0;
	for (size_t k = 0; k < r->nmetas && ordered; k++) {
		const struct rmeta *m = r->cr[r->metas[k]].meta;
		for (size_t j = 0; j < rmeta_dep_count(m); j++) {
			size_t d = (size_t)rmeta_dep_at(m, j);
			if (rank[d] != SIZE_MAX && rank[d] >= k)
				ordered = false;
		}
		edges += rmeta_dep_count(m);
	}
	int rc = 0;
	if (ordered && edges <= UINT32_MAX) {
		rc = plan_readers(r, rank, nslots, edges);
		if (rc == 0)
			rc = plan_baselines(r, nslots);
		p->words = (r->nmetas + 63) / 64;
		p->on = rc == 0;
	}
	if (rc == 0 && p->on)
		rc = plan_lazy(r, rank);
	free(rank);
	return rc;
}

static void plan_free(struct mplan *p)
{
	free(p->base);
	free(p->nzbase);
	free(p->inputs);
	free(p->rd_off);
	free(p->rd);
}

/* How much of a required literal the group automaton looks for: its
 * first bytes are required too, and a longer one would hardly rule out
 * more texts while it grows the automaton, which does not fit the cache
 * as it is. */
#define LIT_PREFIX 12

static size_t lit_len(const char *lit)
{
	size_t n = strlen(lit);
	return n < LIT_PREFIX ? n : LIT_PREFIX;
}

static bool has_lits(const struct crule *c)
{
	return c->nplits > 0 || c->own != NULL;
}

#define SPLIT_MAX_BRANCHES 64
#define OWN_MAX_LITS 1024

/* Adds the NUL-ended lits[0..k) missing from all[0..*na) (up to max);
 * false when they do not fit. */
static bool unite_lits(char (*all)[64], size_t *na, size_t max,
                       char (*lits)[64], size_t k)
{
	for (size_t l = 0; l < k; l++) {
		size_t j = 0;
		while (j < *na && strcmp(all[j], lits[l]) != 0)
			j++;
		if (j < *na)
			continue;
		if (*na == max)
			return false;
		memcpy(all[(*na)++], lits[l], 64);
	}
	return true;
}

/* For a pattern without required literals as a whole: those of each
 * branch of its separable alternation (litscan_alternation()), united,
 * since every match takes one branch; none unless every branch has
 * some. Into a litscan of c's own: a union is often too large for the
 * group's automaton (__MY_MALWARE: 7 branches, 407 literals). -1 when
 * out of memory. */
static int split_lits(struct crule *c, const char *p, size_t n)
{
	if (c->tgt == T_HEADER || c->tgt == T_MIMEHEADER)
		return 0;   /* only run_list() asks c->own */
	uint32_t opts = c->rs->pcre2_options;
	size_t br[SPLIT_MAX_BRANCHES], from, to, na = 0;
	size_t nb = litscan_alternation(p, n, opts, &from, &to, br,
	                                SPLIT_MAX_BRANCHES);
	if (nb < 2)
		return 0;
	char *v = malloc(n);
	char (*all)[64] = malloc(OWN_MAX_LITS * sizeof *all);
	char (*lits)[64] = malloc(LITSCAN_MAX_LITS * sizeof *lits);
	bool ok = v != NULL && all != NULL && lits != NULL;
	int rc = ok ? 0 : -1;
	for (size_t b = 0; b < nb && ok; b++) {
		size_t s = br[b], e = b + 1 < nb ? br[b + 1] - 1 : to;
		memcpy(v, p, from);
		memcpy(v + from, p + s, e - s);
		memcpy(v + from + (e - s), p + to, n - to);
		size_t vl = from + (e - s) + (n - to);
		size_t k = litscan_extract(v, vl, opts, lits, LITSCAN_MAX_LITS);
		ok = k > 0 && unite_lits(all, &na, OWN_MAX_LITS, lits, k);
	}
	if (ok && (c->own = litscan_new()) != NULL) {
		for (size_t l = 0; l < na && rc == 0; l++)
			rc = litscan_add(c->own, all[l], lit_len(all[l]), 0);
		if (rc == 0)
			rc = litscan_build(c->own);
	} else if (ok) {
		rc = -1;
	}
	free(v);
	free(all);
	free(lits);
	return rc;
}

/* c->plits: a copy of lits[0..n) (n > 0). -1 out of memory. */
static int set_plits(struct crule *c, char (*lits)[64], size_t n)
{
	if ((c->plits = malloc(n * sizeof *c->plits)) == NULL)
		return -1;
	memcpy(c->plits, lits, n * sizeof *c->plits);
	c->nplits = n;
	return 0;
}

/* Drops c->plits (added to an automaton, or not wanted). */
static void drop_plits(struct crule *c)
{
	free(c->plits);
	c->plits = NULL;
	c->nplits = 0;
}

/* The required literals of pattern p[0..n) (as c's) into c->plits, for
 * build_groups(), or those of its branches into c->own. -1 when out of
 * memory. */
static int keep_lits(struct crule *c, const char *p, size_t n)
{
	char lits[LITSCAN_MAX_LITS][64];
	size_t nl = litscan_extract(p, n, c->rs->pcre2_options, lits,
	                            LITSCAN_MAX_LITS);
	if (nl == 0)
		return split_lits(c, p, n);
	return set_plits(c, lits, nl);
}

/* The required literals of c's skeleton (litscan_extract_skel()), for
 * rules over run_list() texts that have no others: the rules that spell
 * drug names with optional separators between the letters; failing
 * that, those of its projection's skeleton, for texts without bytes >=
 * 0x80 and '&' (homoglyph rules). -1 when out of memory. */
static int skel_lits(struct crule *c)
{
	if (c->tgt == T_HEADER || c->tgt == T_MIMEHEADER)
		return 0;
	char lits[LITSCAN_MAX_LITS][64];
	uint32_t opts = c->rs->pcre2_options;
	size_t nl = litscan_extract_skel(c->rs->pattern, c->rs->pattern_len,
	                                 opts, lits, LITSCAN_MAX_LITS);
	uint8_t need = TXT_HIGH;   /* any text */
	if (nl == 0) {
		size_t n;
		char *p = litscan_ascii(c->rs->pattern, c->rs->pattern_len, opts,
		                        true, &n);
		nl = p ? litscan_extract_skel(p, n, opts, lits, LITSCAN_MAX_LITS) : 0;
		free(p);
		need = TXT_PLAIN;
	}
	if (nl == 0)
		return 0;
	c->skel = true;
	c->lits_need = need;
	return set_plits(c, lits, nl);
}

/* The required literals of c's projection (litscan_ascii()) for texts
 * without bytes >= 0x80 and '&', when c has none of its own. -1 when out
 * of memory. */
static int plain_lits(struct crule *c)
{
	size_t n;
	char *p = litscan_ascii(c->rs->pattern, c->rs->pattern_len,
	                        c->rs->pcre2_options, true, &n);
	int rc = p ? keep_lits(c, p, n) : 0;
	free(p);
	if (has_lits(c))
		c->lits_need = TXT_PLAIN;
	return rc;
}

/* Compile c's ASCII projection: most texts are ASCII, and there the
 * homoglyph rules ("(?:[mM]|\xd0\x9c|...)" per letter) lose nearly all
 * their branches. Parts as for the pattern itself (compile_parts(), on a
 * scratch rule), each with its tail. With want_lits, its required
 * literals become c's (lits_need TXT_ASCII). Returns -1 when out of
 * memory. */
static int project_ascii(struct crule *c, bool want_lits)
{
	size_t n;
	char *p = litscan_ascii(c->rs->pattern, c->rs->pattern_len,
	                        c->rs->pcre2_options, false, &n);
	if (p == NULL)
		return 0;
	if (want_lits) {
		if (keep_lits(c, p, n) != 0) {
			free(p);
			return -1;
		}
		if (has_lits(c))
			c->lits_need = TXT_ASCII;
	}
	struct crule t = { .rs = c->rs, .maxhits = c->maxhits };
	int ec;
	PCRE2_SIZE eo;
	/* nothing left on ASCII texts: without literals of its own, c is
	 * a candidate on the others alone (a literal "never in ASCII") */
	if (!has_lits(c) && c->tgt != T_HEADER && c->tgt != T_MIMEHEADER &&
	    n == 7 && memcmp(p, "(*FAIL)", 7) == 0) {
		c->lits = true;
		c->lits_need = TXT_ASCII;
	}
	int rc = compile_parts(&t, p, n, false, true, &ec, &eo);
	bool trap = false;   /* then the pattern itself serves */
	for (size_t k = 0; rc == 0 && k <= t.nmore; k++)
		trap |= litscan_pcre2_trap(k ? t.more[k - 1].code->re :
		                               t.main.code->re, p, n);
	bool use = rc == 0 && !trap;
	if (use && t.nmore == 0)
		t.main.tail = find_tail(p, n, c->rs->pcre2_options,
		                        t.main.code->re);
	free(p);
	c->ascii = use ? malloc((t.nmore + 1) * sizeof *c->ascii) : NULL;
	if (c->ascii != NULL) {
		c->ascii[0] = t.main;
		if (t.nmore > 0)   /* t.more may be NULL */
			memcpy(c->ascii + 1, t.more, t.nmore * sizeof *t.more);
		c->nascii = t.nmore + 1;
	} else {
		part_free(&t.main);
		for (size_t k = 0; k < t.nmore; k++)
			part_free(&t.more[k]);
	}
	free(t.more);
	return rc == 1 || (use && c->ascii == NULL) ? -1 : 0;
}

static int cmp_lit(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The repeat count check of c (see struct crule), its literals as a
 * signature until build_repsets(): -1 out of memory. */
static int setup_repeat(struct crule *c)
{
	char lits[LITSCAN_MAX_LITS][64];
	long min;
	size_t nl = litscan_repeat_lits(c->rs->pattern, c->rs->pattern_len,
	                                c->rs->pcre2_options, lits,
	                                LITSCAN_MAX_LITS, &min);
	if (nl == 0)
		return 0;
	qsort(lits, nl, sizeof lits[0], cmp_lit);
	struct strbuf sig = { 0 };
	for (size_t l = 0; l < nl; l++) {   /* length byte, literal */
		char n = (char)strlen(lits[l]);
		strbuf_put(&sig, &n, 1);
		strbuf_put(&sig, lits[l], (size_t)n);
	}
	strbuf_put(&sig, "", 1);
	if (sig.oom) {
		free(sig.p);
		return -1;
	}
	c->rep_sig = sig.p;
	c->rep_min = (size_t)min;
	return 0;
}

/* A litscan of the literals in sig; NULL out of memory. */
static struct litscan *sig_scan(const char *sig)
{
	struct litscan *ls = litscan_new();
	for (const char *p = sig; ls != NULL && *p != '\0'; p += 1 + *p) {
		if (litscan_add(ls, p + 1, (size_t)*p, 0) != 0) {
			litscan_free(ls);
			return NULL;
		}
	}
	if (ls != NULL && litscan_build(ls) != 0) {
		litscan_free(ls);
		ls = NULL;
	}
	return ls;
}

/* Gather the repeats' literal sets, one repset per distinct set.
 * -1 out of memory. */
static int build_repsets(struct rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct crule *c = &r->cr[i];
		if (c->rep_sig == NULL)
			continue;
		size_t k = 0;
		while (k < r->nreps && strcmp(r->reps[k].sig, c->rep_sig) != 0)
			k++;
		if (k == r->nreps) {
			struct repset *v = realloc(r->reps, (k + 1) * sizeof *v);
			if (v == NULL)
				return -1;
			r->reps = v;
			v[k] = (struct repset){ .sig = c->rep_sig,
			                        .ls = sig_scan(c->rep_sig) };
			r->nreps++;
			if (v[k].ls == NULL)
				return -1;
		} else {
			free(c->rep_sig);
		}
		c->rep_sig = NULL;
		c->rep = k + 1;
		struct repset *set = &r->reps[k];
		set->users++;
		if (c->rep_min > set->cap)
			set->cap = c->rep_min;
	}
	return 0;
}

/* Whether rule c is run over its target's texts. */
static bool in_group(const struct crule *c)
{
	return c->tgt != T_COUNT &&
	       (c->state == RULES_ACTIVE || c->state == RULES_APPROX);
}

/* Rule c's required byte classes (litscan_req_bytes()) and minimum
 * match length. -1 out of memory. */
static int setup_req(struct crule *c)
{
	if (c->nmore == 0 &&
	    pcre2_pattern_info(c->main.code->re, PCRE2_INFO_MINLENGTH,
	                       &c->minlen) != 0)
		c->minlen = 0;
	struct litscan_bset sets[RULES_MAX_REQ];
	size_t n = litscan_req_bytes(c->rs->pattern, c->rs->pattern_len,
	                             c->rs->pcre2_options, LITSCAN_REQ_COST,
	                             sets, RULES_MAX_REQ);
	if (n == 0)
		return 0;
	if ((c->req = malloc(n * sizeof *c->req)) == NULL)
		return -1;
	memcpy(c->req, sets, n * sizeof *c->req);
	c->nreq = n;
	return 0;
}

/* Rule i's prefilter data: its ASCII projection, repeat count check and
 * required literals, or a tail when it has none. Called for every rule
 * from several threads at once (pfor.h): it touches rule i alone.
 * -1 out of memory. */
static int prep_prefilter(void *ctx, size_t i)
{
	struct rules *r = ctx;
	struct crule *c = &r->cr[i];
	if (!in_group(c) || c->main.code == NULL)
		return 0;
	if (keep_lits(c, c->rs->pattern, c->rs->pattern_len) != 0 ||
	    project_ascii(c, !has_lits(c)) != 0 || setup_repeat(c) != 0 ||
	    (!has_lits(c) && plain_lits(c) != 0) ||
	    (!has_lits(c) && skel_lits(c) != 0))
		return -1;
	if (setup_req(c) != 0)
		return -1;
	if ((!has_lits(c) || c->skel || c->lits_need != TXT_HIGH) &&
	    c->nmore == 0)   /* skeleton literals may be dropped */
		c->main.tail = find_tail(c->rs->pattern, c->rs->pattern_len,
		                         c->rs->pcre2_options, c->main.code->re);
	return 0;
}

/* Rule c's required literals into the automaton of its group, or for a
 * header rule into its header key's: each header text is scanned for
 * the literals of the rules that read it alone. -1 out of memory. */
static int add_lits(struct rules *r, struct crule *c)
{
	struct litscan **ls = c->skel ? &r->g[c->tgt].sls : &r->g[c->tgt].ls;
	uint32_t id = c->gid;
	if (c->tgt == T_HEADER) {
		struct hkey *hk = &r->hkeys[c->hkey];
		ls = &hk->ls;
		id = c->hid = hk->nlit++;
	}
	if (*ls == NULL && (*ls = litscan_new()) == NULL)
		return -1;
	for (size_t l = 0; l < c->nplits; l++)
		if (litscan_add(*ls, c->plits[l], lit_len(c->plits[l]), id) != 0)
			return -1;
	return 0;
}

/* Each group's always[] masks. -1 out of memory. */
static int build_masks(struct rules *r)
{
	for (int t = 0; t < T_COUNT; t++) {
		struct group *g = &r->g[t];
		size_t words = (g->count + 63) / 64;
		for (int kind = 0; kind < 3; kind++) {
			g->always[kind] = calloc(words ? words : 1, sizeof (uint64_t));
			if (g->always[kind] == NULL)
				return -1;
			for (size_t j = 0; j < g->count; j++) {
				const struct crule *c = &r->cr[g->rules[j]];
				g->bytes |= c->nreq > 0;
				if (!c->lits || kind < c->lits_need)
					g->always[kind][j / 64] |= (uint64_t)1 << (j % 64);
			}
		}
	}
	return 0;
}

/* Skeletons cost a pass over every text of the group: not worth it for
 * fewer rules than this (the rawbody group has one). */
#define SKEL_MIN_RULES 4

static void drop_few_skels(struct rules *r, struct group *g)
{
	size_t n = 0;
	for (size_t k = 0; k < g->count; k++)
		n += r->cr[g->rules[k]].skel;
	for (size_t k = 0; k < g->count && n < SKEL_MIN_RULES; k++) {
		struct crule *c = &r->cr[g->rules[k]];
		if (!c->skel)
			continue;
		drop_plits(c);
		c->skel = false;
	}
}

static int build_groups(struct rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct crule *c = &r->cr[i];
		if (!in_group(c))
			continue;
		struct group *g = &r->g[c->tgt];
		c->gid = (uint32_t)g->count;
		if (push_index(&g->rules, &g->count, i) != 0)
			return -1;
	}
	if (r->opts.no_prefilter)
		return build_masks(r);
	if (pfor_run(r->n, prep_prefilter, r, 0) != 0 || build_repsets(r) != 0)
		return -1;
	for (int t = 0; t < T_COUNT; t++) {
		struct group *g = &r->g[t];
		drop_few_skels(r, g);
		for (size_t k = 0; k < g->count; k++) {
			struct crule *c = &r->cr[g->rules[k]];
			r->stats.prefiltered += c->own != NULL;
			if (c->nplits == 0)
				continue;
			if (add_lits(r, c) != 0)
				return -1;
			drop_plits(c);
			c->lits = true;
			r->stats.prefiltered++;
		}
		if ((g->ls != NULL && litscan_build(g->ls) != 0) ||
		    (g->sls != NULL && litscan_build(g->sls) != 0))
			return -1;
	}
	for (size_t k = 0; k < r->nhkeys; k++)
		if (r->hkeys[k].ls != NULL && litscan_build(r->hkeys[k].ls) != 0)
			return -1;
	return build_masks(r);
}

static int precompute_absent(struct rules *r);

/* The header lists of hk's text (hkey.src), and the names whose value
 * SpamAssassin never decodes. -1 out of memory. */
static int hkey_sources(struct rules *r, struct hkey *hk)
{
	static const char *const tocc[] = { "to", "cc" };
	static const char *const msgid[] = {
		"x-message-id", "resent-message-id", "x-original-message-id",
		"message-id",
	};
	const char *const *names = NULL;
	size_t n = 0;
	if (hk->kind == HK_PLAIN) {
		names = (const char *const *)&hk->lname;
		n = 1;
	} else if (hk->kind == HK_TOCC) {
		names = tocc;
		n = 2;
	} else if (hk->kind == HK_MESSAGEID) {
		names = msgid;
		n = 4;
	}
	for (size_t i = 0; i < n; i++)
		if ((hk->src[i] = hname_add(r, names[i])) == UINT32_MAX)
			return -1;
	hk->nsrc = n;
	return 0;
}

static int mark_no_decode(struct rules *r)
{
	static const char *const names[] = {
		"received", "message-id", "resent-message-id", "date",
		"resent-date", "mime-version", "references", "in-reply-to",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		uint32_t id = hname_add(r, names[i]);
		if (id == UINT32_MAX)
			return -1;
		r->hnames[id].no_decode = true;
	}
	r->rcvd = hname_find(r, "received", 8);
	return 0;
}

/* What run_headers() needs besides the group: the header rules by
 * header key (hrules), the bitsets of the keys' automata, the header
 * names, and the outcomes on absent texts. After build_groups(). -1 out
 * of memory. */
static int build_htexts(struct rules *r)
{
	const struct group *g = &r->g[T_HEADER];
	for (size_t j = 0; j < g->count; j++) {
		const struct crule *c = &r->cr[g->rules[j]];
		struct hkey *hk = &r->hkeys[c->hkey];
		hk->used = true;
		hk->nhr++;
		if (!c->rs->exists)
			hk->text = true;
		if (c->nreq > 0 && !c->rs->exists)
			hk->req = true;
	}
	size_t pos = 0;
	for (size_t k = 0; k < r->nhkeys; k++) {
		struct hkey *hk = &r->hkeys[k];
		hk->hr = pos;
		pos += hk->nhr;
		hk->nhr = 0;
		hk->foff = r->hwords;
		r->hwords += (hk->nlit + 63) / 64;
		if (hk->used && hkey_sources(r, hk) != 0)
			return -1;
	}
	const struct group *mg = &r->g[T_MIMEHEADER];
	for (size_t j = 0; j < mg->count; j++) {
		struct hkey *hk = &r->hkeys[r->cr[mg->rules[j]].hkey];
		if (hk->kind == HK_ALL || hk->mime)
			continue;
		if ((hk->mname = hname_add(r, hk->lname)) == UINT32_MAX)
			return -1;
		hk->mime = true;
	}
	if (mark_no_decode(r) != 0)
		return -1;
	r->nhrules = pos;
	r->hrules = calloc(pos ? pos : 1, sizeof *r->hrules);
	r->hrabs = calloc(pos ? pos : 1, sizeof *r->hrabs);
	if (r->hrules == NULL || r->hrabs == NULL)
		return -1;
	for (size_t j = 0; j < g->count; j++) {
		size_t i = g->rules[j];
		struct crule *c = &r->cr[i];
		struct hkey *hk = &r->hkeys[c->hkey];
		c->hr = (uint32_t)(hk->hr + hk->nhr);
		struct hrule *h = &r->hrules[hk->hr + hk->nhr++];
		*h = (struct hrule){
			.rule = (uint32_t)i,
			.bit = c->lits ? c->hid : HR_NOLIT,
			.need = c->lits_need,
			.flags = (c->rs->exists ? HR_EXISTS : 0) |
			         (c->rs->negate ? HR_NEGATE : 0),
		};
	}
	return precompute_absent(r);
}

static void count_type(struct rules_stats *st, enum rs_type t)
{
	switch (t) {
	case RS_HEADER: st->header++; break;
	case RS_MIMEHEADER: st->mimeheader++; break;
	case RS_BODY: st->body++; break;
	case RS_RAWBODY: st->rawbody++; break;
	case RS_FULL: st->full++; break;
	case RS_URI: st->uri++; break;
	case RS_META: st->meta++; break;
	case RS_EVAL: st->eval++; break;
	case RS_UNDEFINED: break;
	}
}

static int setup_rule(struct rules *r, size_t i)
{
	struct crule *c = &r->cr[i];
	const struct rs_rule *rule = c->rs;
	c->tgt = type_target(rule->type);
	c->score = rule->score[r->opts.score_set & 3];
	c->is_meta = rule->type == RS_META;
	c->sub = is_sub(rule->name);
	c->deferred = c->sub || c->score == 0;
	c->maxhits = 1;
	c->hkey = -1;
	if (rule->tflags & RS_TF_MULTIPLE)
		c->maxhits = rule->maxhits ? rule->maxhits : MULTIPLE_CAP;
	c->nosubject = rule->tflags_text != NULL &&
	               strstr(rule->tflags_text, "nosubject") != NULL;
	count_type(&r->stats, rule->type);
	if (rule->type == RS_EVAL) {
		int rc = saeval_compile_rs(rule->eval, r->rs, &c->ev);
		if (rc < 0)
			return -1;
		if (rc == 0)
			c->state = run_score(r, rule) == 0 ? RULES_DISABLED :
			           RULES_ACTIVE;
		else
			c->state = RULES_UNSUPPORTED;
		return 0;
	}
	if (rule->type == RS_UNDEFINED) {
		c->state = RULES_UNSUPPORTED;
		return 0;
	}
	/* regexes are compiled by compile_regex(), metas by compile_meta() */
	c->state = run_score(r, rule) == 0 ? RULES_DISABLED : RULES_ACTIVE;
	return 0;
}

/* After compile_regex(), in rule order: reports a pattern that did not
 * compile, and binds header rules to their header. -1 out of memory. */
static int finish_rule(struct rules *r, size_t i)
{
	struct crule *c = &r->cr[i];
	const struct rs_rule *rule = c->rs;
	if (c->state != RULES_ACTIVE || c->tgt == T_COUNT)
		return 0;
	if (c->cerr == CERR_NO_PATTERN) {
		c->state = RULES_FAILED;
		return add_diag(r, RULES_DIAG_COMPILE, rule, "rule %s: no pattern",
		                rule->name);
	}
	if (c->cerr != 0) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(c->cerr, msg, sizeof msg);
		c->state = RULES_FAILED;
		return add_diag(r, RULES_DIAG_COMPILE, rule,
		                "rule %s: PCRE2 error at offset %zu: %s", rule->name,
		                c->coff, (const char *)msg);
	}
	if (rule->type == RS_HEADER || rule->type == RS_MIMEHEADER) {
		if (rule->header == NULL) {
			c->state = RULES_FAILED;
			return add_diag(r, RULES_DIAG_COMPILE, rule,
			                "rule %s: no header name", rule->name);
		}
		if ((c->hkey = hkey_index(r, rule)) < 0)
			return -1;
		if (rule->type == RS_HEADER &&
		    r->hkeys[c->hkey].kind == HK_PSEUDO) {
			c->state = RULES_APPROX;
			return add_diag(r, RULES_DIAG_APPROX, rule,
			                "rule %s: %s is a SpamAssassin pseudo-header "
			                "vigil does not produce: treated as absent",
			                rule->name, rule->header);
		}
	}
	return 0;
}

struct rules *rules_compile(const struct ruleset *rs,
                            const struct rules_opts *opts,
                            char *err, size_t errlen)
{
	double t0 = monotime_s();
	struct rules *r = calloc(1, sizeof *r);
	if (r == NULL)
		goto oom;
	r->rs = rs;
	if (opts != NULL)
		r->opts = *opts;
	const char *env = getenv("VIGIL_RULES_NO_PREFILTER");
	if (env != NULL && env[0] != '\0' && strcmp(env, "0") != 0)
		r->opts.no_prefilter = true;
	if (r->opts.match_limit == 0)
		r->opts.match_limit = RULES_MATCH_LIMIT_DEFAULT;
	if (r->opts.depth_limit == 0)
		r->opts.depth_limit = RULES_DEPTH_LIMIT_DEFAULT;
	r->opts.score_set &= 3;
	r->n = ruleset_count(rs);
	r->cr = calloc(r->n ? r->n : 1, sizeof *r->cr);
	if (r->cr == NULL)
		goto oom;
	for (size_t i = 0; i < r->n; i++) {
		r->cr[i].rs = ruleset_at(rs, i);
		if (map_put(&r->map, r->cr[i].rs->name, i) != 0)
			goto oom;
	}
	for (size_t i = 0; i < r->n; i++)
		if (setup_rule(r, i) != 0)
			goto oom;
	/* Compiling and JIT-compiling is most of the load time; the rules
	 * are independent, so every core takes part. */
	if (pfor_run(r->n, compile_regex, r, 0) != 0)
		goto oom;
	for (size_t i = 0; i < r->n; i++)
		if (finish_rule(r, i) != 0)
			goto oom;
	for (size_t i = 0; i < r->n; i++) {
		struct crule *c = &r->cr[i];
		if (c->rs->type != RS_META || c->state != RULES_ACTIVE)
			continue;
		if (compile_meta(r, i) != 0)
			goto oom;
		if (c->state != RULES_ACTIVE)
			continue;
		if (push_index(&r->metas, &r->nmetas, i) != 0)
			goto oom;
	}
	if (order_metas(r) != 0 || plan_metas(r) != 0 || build_groups(r) != 0 ||
	    build_htexts(r) != 0)
		goto oom;
	for (size_t k = 0; k < r->nmetas; k++)
		if (!r->cr[r->metas[k]].deferred &&
		    push_index(&r->tops, &r->ntops, r->metas[k]) != 0)
			goto oom;
	for (size_t i = 0; i < r->n; i++) {
		struct crule *c = &r->cr[i];
		if (c->ev != NULL && c->state == RULES_ACTIVE &&
		    push_index(&r->evals, &r->nevals, i) != 0)
			goto oom;
		switch (c->state) {
		case RULES_ACTIVE: r->stats.active++; break;
		case RULES_DISABLED: r->stats.disabled++; break;
		case RULES_FAILED: r->stats.failed++; break;
		case RULES_APPROX: r->stats.approx++; r->stats.active++; break;
		case RULES_UNSUPPORTED: break;
		}
		if ((c->state == RULES_ACTIVE || c->state == RULES_APPROX) &&
		    !c->deferred)
			r->scored++;
	}
	r->stats.compile_ms = (monotime_s() - t0) * 1e3;
	return r;
oom:
	rules_free(r);
	snprintf(err, errlen, "rules: out of memory");
	return NULL;
}

void rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		part_free(&r->cr[i].main);
		for (size_t k = 0; k < r->cr[i].nascii; k++)
			part_free(&r->cr[i].ascii[k]);
		free(r->cr[i].ascii);
		free(r->cr[i].req);
		free(r->cr[i].rep_sig);
		litscan_free(r->cr[i].own);
		for (size_t k = 0; k < r->cr[i].nmore; k++)
			part_free(&r->cr[i].more[k]);
		free(r->cr[i].more);
		free(r->cr[i].plits);
		rmeta_free(r->cr[i].meta);
		saeval_free(r->cr[i].ev);
	}
	free(r->cr);
	for (size_t i = 0; i < r->nhkeys; i++) {
		free(r->hkeys[i].lname);
		litscan_free(r->hkeys[i].ls);
	}
	free(r->hkeys);
	for (size_t i = 0; i < r->nhnames; i++)
		free(r->hnames[i].lname);
	free(r->hnames);
	free(r->hslot);
	free(r->hrules);
	free(r->hrabs);
	for (int t = 0; t < T_COUNT; t++) {
		free(r->g[t].rules);
		litscan_free(r->g[t].ls);
		litscan_free(r->g[t].sls);
		for (int kind = 0; kind < 3; kind++)
			free(r->g[t].always[kind]);
	}
	for (size_t i = 0; i < r->nreps; i++) {
		free(r->reps[i].sig);
		litscan_free(r->reps[i].ls);
	}
	free(r->reps);
	free(r->evals);
	free(r->metas);
	plan_free(&r->mp);
	free(r->mlo);
	free(r->mhi);
	free(r->msteps);
	free(r->lmeta);
	free(r->tops);
	free(r->open_off);
	free(r->open);
	free(r->map.names);
	free(r->map.slots);
	for (size_t i = 0; i < r->nextra; i++)
		free(r->extra[i]);
	free(r->extra);
	for (size_t i = 0; i < r->ndiags; i++)
		free((char *)r->diags[i].message);
	free(r->diags);
	free(r->prof);
	free(r);
}

int rules_profile(struct rules *r, bool on)
{
	if (!on) {
		free(r->prof);
		r->prof = NULL;
		return 0;
	}
	if (r->prof == NULL)
		r->prof = calloc(r->n + T_COUNT, sizeof *r->prof);
	return r->prof ? 0 : -1;
}

const struct rules_prof *rules_profile_at(const struct rules *r, size_t i)
{
	return r->prof != NULL && i < r->n + T_COUNT ? &r->prof[i] : NULL;
}

const struct ruleset *rules_ruleset(const struct rules *r)
{
	return r->rs;
}

void rules_get_stats(const struct rules *r, struct rules_stats *st)
{
	*st = r->stats;
}

size_t rules_diag_count(const struct rules *r)
{
	return r->ndiags;
}

const struct rules_diag *rules_diag_at(const struct rules *r, size_t i)
{
	return i < r->ndiags ? &r->diags[i] : NULL;
}

enum rules_state rules_rule_state(const struct rules *r, size_t i)
{
	return i < r->n ? r->cr[i].state : RULES_UNSUPPORTED;
}

size_t rules_scored_count(const struct rules *r)
{
	return r->scored;
}

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
	uint64_t *mdone;     /* lazy: metas evaluated (bits by rule index) */
	struct strbuf hb;      /* header texts */
	struct strbuf full;    /* the full message, LF line ends */
	struct span *htext;  /* per hkey */
	struct hinfo *hinfo; /* per top-level header (index_headers()) */
	uint32_t *hfirst;    /* per hname: its first header, or HN_END */
	size_t hicap, hfcap;
	struct hinfo *pinfo; /* the headers of MIME parts 1.. (index_parts()) */
	size_t *pstart;      /* part p's in pinfo from pstart[p] (p >= 1) */
	struct relays *relays; /* built on first use */
	struct repmemo *repc;  /* REPC_SLOTS, allocated on first use */
	struct saeval_ctx ectx;  /* eval rules' (run_evals()) */
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

/* Perl's \s. */
static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static void *reserve(void *p, size_t *cap, size_t need, size_t elem);

/* Profiling: the time since t0 (and calls) to entry k of r->prof. */
static void prof_add(const struct run *x, size_t k, uint64_t t0,
                     unsigned calls)
{
	struct rules_prof *p = &x->r->prof[k];
	p->ns += monotime_ns() - t0;
	p->calls += calls;
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
	hi->name = hname_find(r, h->name.ptr, h->name.len);
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

/* A folded value without encoded words as SpamAssassin unfolds it: each
 * line break and the blanks after it become one space, then trimmed. */
static void put_unfolded(struct strbuf *b, const struct msg_text *raw)
{
	const char *s = raw->ptr;
	size_t n = raw->len, i = 0;
	while (i < n && is_space((unsigned char)s[i]))
		i++;
	while (n > i && is_space((unsigned char)s[n - 1]))
		n--;
	size_t start = i;
	while (i < n) {
		size_t nl = s[i] == '\n' ? 1 :
		            (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 0;
		if (nl == 0) {
			i++;
			continue;
		}
		strbuf_put(b, s + start, i - start);
		i += nl;
		if (i < n && (s[i] == ' ' || s[i] == '\t')) {
			strbuf_put(b, " ", 1);
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
		}
		start = i;
	}
	strbuf_put(b, s + start, n - start);
	strbuf_put(b, "\n", 1);
}

/* One header value as SpamAssassin's get_header() returns it: decoded
 * (unless nodec: a name it never decodes) and unfolded, or (raw) with
 * every line break and the blanks after it turned into one space; with
 * a final "\n". */
static void put_value(struct strbuf *b, const struct msg_header *h, bool raw,
                      bool nodec)
{
	if (!raw) {
		const struct msg_text *v = nodec ? &h->value : &h->decoded;
		if (memchr(h->raw.ptr, '\n', h->raw.len) != NULL &&
		    v->len == h->value.len &&
		    memcmp(v->ptr, h->value.ptr, v->len) == 0) {
			put_unfolded(b, &h->raw);
			return;
		}
		strbuf_put(b, v->ptr, v->len);
		strbuf_put(b, "\n", 1);
		return;
	}
	const char *s = h->raw.ptr;
	size_t n = h->raw.len, i = 0, start = 0;
	while (i < n) {
		size_t nl = 0;
		if (s[i] == '\n')
			nl = 1;
		else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			nl = 2;
		if (nl == 0 || i + nl >= n || !is_space((unsigned char)s[i + nl])) {
			i += nl ? nl : 1;
			continue;
		}
		strbuf_put(b, s + start, i - start);
		strbuf_put(b, " ", 1);
		i += nl;
		while (i < n && is_space((unsigned char)s[i]))
			i++;
		start = i;
	}
	strbuf_put(b, s + start, n - start);
	strbuf_put(b, "\n", 1);
}

/* Addresses or display names of one header, each ending in "\n". */
static void put_addrs(struct strbuf *b, const struct msg *m,
                      const struct msg_header *h, unsigned mods)
{
	size_t count = 0;
	const struct msg_addr *a = msg_header_addrs(m, h, &count);
	if (a == NULL) {
		/* Not an address header for the parser: take <...> or the
		 * value as it is. */
		if (mods & RS_HDR_NAME)
			return;
		const char *v = h->value.ptr, *lt = memchr(v, '<', h->value.len);
		const char *gt = lt ? memchr(lt, '>', h->value.len - (size_t)(lt - v)) : NULL;
		if (lt != NULL && gt != NULL)
			strbuf_put(b, lt + 1, (size_t)(gt - lt - 1));
		else
			strbuf_put(b, v, h->value.len);
		strbuf_put(b, "\n", 1);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		if (mods & RS_HDR_NAME) {
			/* :name:raw: not RFC 2047 decoded (SpamAssassin). */
			const struct msg_text *d = (mods & RS_HDR_RAW) ?
			                           &a[i].display_raw : &a[i].display;
			if (d->len == 0)
				continue;
			strbuf_put(b, d->ptr, d->len);
		} else if (!msg_addr_put(b, &a[i])) {
			continue;
		}
		strbuf_put(b, "\n", 1);
	}
}

/* All instances of the top-level header of list id (index_headers()),
 * in message order. */
static void put_header(struct run *x, uint32_t id, unsigned mods)
{
	struct strbuf *b = &x->hb;
	for (uint32_t i = x->hfirst[id]; i != HN_END; i = x->hinfo[i].next) {
		const struct hinfo *hi = &x->hinfo[i];
		if (mods & (RS_HDR_ADDR | RS_HDR_NAME))
			put_addrs(b, x->m, hi->h, mods);
		else
			put_value(b, hi->h, mods & RS_HDR_RAW, hi->no_decode);
	}
}

/* One header as the ALL views show it (raw: without its CRs). */
static void put_one(struct strbuf *b, const struct msg_header *h, bool raw,
                    bool nodec)
{
	strbuf_put(b, h->name.ptr, h->name.len);
	if (raw) {
		strbuf_put(b, ":", 1);
		const char *p = h->raw.ptr, *end = p + h->raw.len, *cr;
		while ((cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
			strbuf_put(b, p, (size_t)(cr - p));
			p = cr + 1;
		}
		strbuf_put(b, p, (size_t)(end - p));
		strbuf_put(b, "\n", 1);
	} else {
		strbuf_put(b, ": ", 2);
		put_value(b, h, false, nodec);
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

/* Every header of MIME part p (0: the top level). */
static void put_all(struct run *x, struct strbuf *b, size_t p, bool raw)
{
	size_t n;
	const struct hinfo *hi = part_headers(x, p, &n);
	for (size_t i = 0; i < n; i++)
		put_one(b, hi[i].h, raw, hi[i].no_decode);
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
	for (size_t i = 0; i < n; i++) {
		const struct hinfo *hi = &x->hinfo[i];
		bool is_rcvd = hi->name == x->r->rcvd;
		/* index of the last Received: at or above h, +1 (0: none) */
		size_t cur = rcvd + is_rcvd;
		if (above ? cur <= bound + 1 : cur >= bound + 1)
			put_one(&x->hb, hi->h, raw, hi->no_decode);
		if (above && is_rcvd && cur == bound + 1)
			break;
		rcvd = cur;
	}
}

/* x->relays, built on first use (the eval rules share them too);
 * false when out of memory. */
static bool have_relays(struct run *x)
{
	return x->relays != NULL ||
	       relays_build_trust(x->m, ruleset_trustpath(x->r->rs),
	                          &x->relays) == 0;
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
		for (size_t s = 0; s < hk->nsrc; s++)
			put_header(x, hk->src[s], hk->mods);
		break;
	case HK_ALL:
		put_all(x, b, 0, raw);
		break;
	case HK_ENVFROM: {
		const struct scan_env *env = scan_env(x->scan);
		if (env != NULL && env->mail_from != NULL && env->mail_from[0])
			sb_str(b, env->mail_from);
		break;
	}
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
	x->htext[k] = (struct span){ .off = start, .len = b->len - start,
	                             .present = b->len > start ||
	                                        hk->kind == HK_RELAYS };
	/* :addr/:name lists are joined by "\n" without a final one. */
	if ((hk->mods & (RS_HDR_ADDR | RS_HDR_NAME)) && x->htext[k].len > 0 &&
	    hk->kind != HK_ENVFROM)
		x->htext[k].len--;
}

enum mres { M_NO = 0, M_YES = 1, M_LIMIT = -1 };

static void log_limit(const struct run *x, const struct crule *c, int rc)
{
	struct crule *mc = (struct crule *)c; /* the flag is the only
	                                         mutable field */
	bool expected = false;
	if (atomic_compare_exchange_strong(&mc->limit_logged, &expected, true))
		vlog(LOG_WARNING, "rules: rule %s reached the PCRE2 %s limit on "
		     "a message; counted as not hit (logged once)", c->rs->name,
		     rc == PCRE2_ERROR_MATCHLIMIT ? "match" :
		     rc == PCRE2_ERROR_DEPTHLIMIT ? "depth" : "JIT stack");
	(void)x;
}

static enum mres match_text(struct run *x, const struct crule *c,
                            const char *text, size_t len, bool ascii,
                            unsigned *hits);

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
	pthread_mutex_lock(&jit_lock);
	st = atomic_load_explicit(&j->jit, memory_order_relaxed);
	if (st == JIT_UNTRIED) {
		size_t jitsize = 0;
		st = pcre2_jit_compile(j->re, PCRE2_JIT_COMPLETE) == 0 &&
		     pcre2_pattern_info(j->re, PCRE2_INFO_JITSIZE,
		                        &jitsize) == 0 && jitsize > 0 ?
		     JIT_YES : JIT_NO;
		atomic_store_explicit(&j->jit, st, memory_order_release);
	}
	pthread_mutex_unlock(&jit_lock);
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

/* Whether text has no byte >= 0x80 (8 bytes at a time). */
static bool is_ascii(const char *text, size_t len)
{
	uint64_t acc = 0, w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, text + i, 8);
		acc |= w;
	}
	for (; i < len; i++)
		acc |= (unsigned char)text[i];
	return (acc & 0x8080808080808080u) == 0;
}

static enum txt text_kind(const char *text, size_t len)
{
	if (!is_ascii(text, len))
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
		return litscan_count(set->ls, text, len, c->rep_min);
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
	size_t n = litscan_count(set->ls, text, len, set->cap);
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
	PCRE2_SIZE start = 0;
	size_t ci = (size_t)(c - x->r->cr);
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
	struct jcode *code = code_to_run(x, pt);
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
	litscan_run(c->own, tx.ptr, tx.len, &found);
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
	        (f[c->gid / 64] >> (c->gid % 64) & 1)) &&
	       bytes_ok(c, &gs->tbytes[k]);
}

static void prefilter(struct run *x, const struct group *g,
                      const char *text, size_t len, size_t k)
{
	uint64_t t0 = x->r->prof ? monotime_ns() : 0;
	uint64_t *found = x->cur->found + k * x->cur->words;
	if (g->bytes) {   /* the bytes in the same pass as the literals */
		litscan_run_bytes(g->ls, text, len, found, &x->cur->tbytes[k]);
		x->cur->tkind[k] = bytes_kind(&x->cur->tbytes[k]);
	} else {
		x->cur->tkind[k] = text_kind(text, len);
		litscan_run(g->ls, text, len, found);
	}
	if (g->sls != NULL) {
		x->skb = reserve(x->skb, &x->skcap, len, 1);
		if (x->skb != NULL)
			litscan_run(g->sls, x->skb, litscan_skeleton(text, len, x->skb),
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
	gs->words = (g->count + 63) / 64;
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
		litscan_bytes(x->hb.p + sp->off, sp->len, &have);
		kind = bytes_kind(&have);
	} else {
		memset(&have, 0xff, sizeof have);   /* every class met */
		kind = hkey_kind(x, k);
	}
	if (hk->text && hk->ls != NULL) {
		uint64_t t0 = r->prof ? monotime_ns() : 0;
		litscan_run(hk->ls, x->hb.p + sp->off, sp->len, f);
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
		             (f[h->bit / 64] >> (h->bit % 64) & 1)) &&
		            sp->len >= c->minlen;
		if (cand && c->nreq > 0)
			cand = bytes_ok(c, &have);   /* hk->req: have is set */
		if (!cand)
			store_outcome(x, h, M_NO, 0);
		else if (x->lazy && r->cr[h->rule].deferred)
			set_bit(x->pend, h->rule);
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
 * precompute_absent() found. */
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
static int precompute_absent(struct rules *r)
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
			if (h != NULL)
				put_value(b, h->h, hk->mods & RS_HDR_RAW, h->no_decode);
			else if (rule->if_unset)
				sb_str(b, rule->if_unset);
		}
		if (b->oom)
			break;
		bool ascii;
		if (b->len < c->minlen) {
			continue;   /* no match in this part */
		} else if (c->nreq > 0) {
			struct litscan_bset have;
			litscan_bytes(b->p, b->len, &have);
			if (!bytes_ok(c, &have))
				continue;
			ascii = bytes_kind(&have) != TXT_HIGH;
		} else {
			ascii = is_ascii(b->p, b->len);
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
			set_bit(x->pend, g->rules[j]);
		else
			mimeheader_rule(x, j, &x->mb);
	}
	return true;
}

/* The rules of group g some of its n texts are a candidate for (bits by
 * position, x->cur->words words): run_list() looks at those alone. NULL
 * when out of memory. */
static const uint64_t *candidates(struct run *x, const struct group *g,
                                  size_t n)
{
	struct gstate *gs = x->cur;
	uint64_t *u = gs->ucand = reserve(gs->ucand, &gs->ucap, gs->words,
	                                  sizeof *u);
	if (u == NULL)
		return NULL;
	memset(u, 0, gs->words * sizeof *u);
	for (size_t k = 0; k < n; k++) {
		const uint64_t *f = gs->found + k * gs->words,
		               *al = g->always[gs->tkind[k]];
		for (size_t w = 0; w < gs->words; w++)
			u[w] |= f[w] | al[w];
		if (g->sls == NULL)
			continue;
		f = gs->found + (gs->ntexts + k) * gs->words;   /* skeletons */
		for (size_t w = 0; w < gs->words; w++)
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
	case T_BODY: return msg_body_count(x->m);
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
	case T_BODY: return msg_body_at(x->m, k);
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
	size_t words = x->cur->words;
	for (size_t j = next_bit(u, words, 0); j < g->count;
	     j = next_bit(u, words, j + 1)) {
		if (x->lazy && r->cr[g->rules[j]].deferred)
			set_bit(x->pend, g->rules[j]);
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

/* Eval rule i (x->ectx set up by run_evals()). */
static void eval_rule(struct run *x, size_t i)
{
	if (saeval_run(x->r->cr[i].ev, &x->ectx))
		x->values[i] = 1;
}

/* eval: rules implemented in C (saeval.h); in a lazy run, one no score
 * counts is left pending (lazy_fetch()). */
static void run_evals(struct run *x)
{
	const struct rules *r = x->r;
	const struct scan_env *env = scan_env(x->scan);
	x->ectx = (struct saeval_ctx){ .m = x->m,
	                               .env_from = env ? env->mail_from : NULL,
	                               .relays = &x->relays,
	                               .trust = ruleset_trustpath(x->r->rs),
	                               .cache = saeval_cache_new() };
	for (size_t k = 0; k < r->nevals; k++) {
		size_t i = r->evals[k];
		if (x->lazy && r->cr[i].deferred)
			set_bit(x->pend, i);
		else
			eval_rule(x, i);
	}
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
	return i < x->r->n &&
	       (has_bit(x->pend, i) ||
	        (has_bit(x->r->lmeta, i) && !has_bit(x->mdone, i)));
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
	if (has_bit(x->pend, i)) {
		clear_bit(x->pend, i);
		if (c->ev != NULL)
			eval_rule(x, i);
		else if (c->tgt == T_HEADER)
			hrule_match(x, (size_t)c->hkey, c->hr,
			            hkey_kind(x, (size_t)c->hkey));
		else if (c->tgt == T_MIMEHEADER)
			mimeheader_rule(x, c->gid, &x->mb);
		else
			list_rule(x, c->tgt, c->gid);
	} else if (has_bit(r->lmeta, i) && !has_bit(x->mdone, i)) {
		set_bit(x->mdone, i);
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

/* Hits added by earlier stages, for names rules cannot produce. */
static void take_scan_hits(struct run *x)
{
	const struct rules *r = x->r;
	size_t n = scan_hit_count(x->scan);
	for (size_t k = 0; k < n; k++) {
		const struct scan_hit_info *h = scan_hit_at(x->scan, k);
		size_t slot = map_get(&r->map, h->name, strlen(h->name));
		if (slot == SIZE_MAX)
			continue;
		if (slot < r->n && r->cr[slot].state != RULES_UNSUPPORTED)
			continue;
		x->values[slot] += 1;
	}
}

/* Whether one of the first n hits of scan (earlier stages') is name. */
static bool hit_before(const struct scan *scan, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(scan_hit_at(scan, k)->name, name) == 0)
			return true;
	return false;
}

static int emit(struct run *x, struct rules_result *res, unsigned flags)
{
	const struct rules *r = x->r;
	/* A test an earlier stage already counted (the sanity stage's
	 * MISSING_DATE, say) is not counted twice: its score stands. */
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
			}
		}
		if ((flags & RULES_EVAL_NO_SCAN) || c->state == RULES_UNSUPPORTED ||
		    c->deferred || hit_before(x->scan, earlier, c->rs->name))
			continue;
		if (scan_hit(x->scan, c->rs->name, c->score * count,
		             c->rs->describe) != 0)
			return -1;
	}
	return 0;
}

int rules_eval(const struct rules *r, struct scan *scan,
               struct rules_result *res, unsigned flags)
{
	if (res != NULL)
		res->count = 0;
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
		x.mdone = calloc((r->n + 63) / 64 + 1, sizeof *x.mdone);
		if (x.pend == NULL || x.mdone == NULL)
			goto out;
	}
	if (x.values == NULL || x.htext == NULL || x.dirty == NULL ||
	    (x.matches && (x.mptr == NULL || x.mlen == NULL)))
		goto out;
	take_scan_hits(&x);
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
	run_evals(&x);
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
	free(x.mdone);
	free(x.htext);
	free(x.hinfo);
	free(x.hfirst);
	free(x.pinfo);
	free(x.pstart);
	saeval_cache_free(x.ectx.cache);
	relays_free(x.relays);
	free(x.mptr);
	free(x.mlen);
	free(x.repc);
	free(x.hb.p);
	free(x.mb.p);
	free(x.full.p);
	return rc;
}

/* ---- the pipeline stage ---- */

struct rules_state_s {
	struct ruleset *rs;
	struct rules *rules;
};

static bool plugin_loaded(const char *name)
{
	static const char *const ours[] = {
		"Mail::SpamAssassin::Plugin::Check",
		"Mail::SpamAssassin::Plugin::MIMEHeader",
		"Mail::SpamAssassin::Plugin::ReplaceTags",
		"Mail::SpamAssassin::Plugin::SPF",
		"Mail::SpamAssassin::Plugin::DKIM",
		"Mail::SpamAssassin::Plugin::DMARC",
	};
	if (saeval_plugin(name))   /* eval: functions in C, in part */
		return true;
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (strcmp(name, ours[i]) == 0)
			return true;
	return false;
}

const struct ruleset_opts *rules_ruleset_opts(void)
{
	static const struct ruleset_opts o = { .plugin_loaded = plugin_loaded };
	return &o;
}

/* One load diagnostic in the log; a path that could not be read has no
 * file:line of its own. */
static void log_diag(const char *file, unsigned line, const char *message)
{
	if (file != NULL && line > 0)
		vlog(LOG_WARNING, "rules: %s:%u: %s", file, line, message);
	else
		vlog(LOG_WARNING, "rules: %s", message);
}

size_t rules_conf_paths(void *root, const char **paths, size_t max)
{
	cfg_t *cfg = root;
	bool dflt = !(cfg_getopt(cfg, "rules")->flags & CFGF_MODIFIED);
	size_t n = 0;
	for (unsigned i = 0; i < cfg_size(cfg, "rules") && n < max; i++) {
		const char *p = cfg_getnstr(cfg, "rules", i);
		if (dflt && access(p, F_OK) != 0)
			vlog(LOG_INFO, "rules: %s not installed, skipped", p);
		else
			paths[n++] = p;
	}
	return n;
}

static void *stage_init(cfg_t *root, cfg_t *sec, char *err, size_t errlen)
{
	(void)sec;
	struct rules_state_s *st = calloc(1, sizeof *st);
	if (st == NULL) {
		snprintf(err, errlen, "rules: out of memory");
		return NULL;
	}
	unsigned n = cfg_size(root, "rules");
	const char **paths = calloc(n ? n : 1, sizeof *paths);
	if (paths == NULL) {
		free(st);
		snprintf(err, errlen, "rules: out of memory");
		return NULL;
	}
	n = (unsigned)rules_conf_paths(root, paths, n);
	st->rs = ruleset_load(paths, n, rules_ruleset_opts());
	free(paths);
	struct rules_opts o = {
		.score_set = (unsigned)cfg_getint(root, "score_set"),
		.match_limit = (uint32_t)cfg_getint(root, "rule_match_limit"),
		.depth_limit = (uint32_t)cfg_getint(root, "rule_depth_limit"),
	};
	if (st->rs != NULL)
		st->rules = rules_compile(st->rs, &o, err, errlen);
	if (st->rules == NULL) {
		if (st->rs == NULL)
			snprintf(err, errlen, "rules: out of memory");
		ruleset_free(st->rs);
		free(st);
		return NULL;
	}
	/* Bad lines never stop the daemon: they are logged. */
	for (size_t i = 0; i < ruleset_diag_count(st->rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(st->rs, i);
		if (d->kind == RS_DIAG_ERROR)
			log_diag(d->file, d->line, d->message);
	}
	for (size_t i = 0; i < rules_diag_count(st->rules); i++) {
		const struct rules_diag *d = rules_diag_at(st->rules, i);
		if (d->kind == RULES_DIAG_COMPILE || d->kind == RULES_DIAG_CYCLE ||
		    d->kind == RULES_DIAG_META)
			log_diag(d->file, d->line, d->message);
	}
	return st;
}

static void stage_fini(void *state)
{
	struct rules_state_s *st = state;
	if (st == NULL)
		return;
	rules_free(st->rules);
	ruleset_free(st->rs);
	free(st);
}

static enum stage_status stage_run(const void *state, struct scan *scan)
{
	const struct rules_state_s *st = state;
	return rules_eval(st->rules, scan, NULL, RULES_EVAL_LAZY) == 0 ?
	       STAGE_OK : STAGE_ERROR;
}

const struct rules *rules_stage_rules(const void *stage_state)
{
	const struct rules_state_s *st = stage_state;
	return st ? st->rules : NULL;
}

const struct stage_ops rules_stage = {
	.name = "rules",
	.conf_opts = NULL,
	.init = stage_init,
	.fini = stage_fini,
	.run = stage_run,
};
