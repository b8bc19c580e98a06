/* rules_int.h — private to the rules module (milter/rules.c and
 * milter/rulesrun.c, the only files that include it; callers use rules.h).
 *
 * rules.c loads: it compiles a ruleset into a struct rules (patterns,
 * prefilter literals, header keys, groups, the meta plan) and answers the
 * getters. rulesrun.c runs it on one message at a time (rules_eval()),
 * reading the struct rules read-only from any thread. What both need is
 * here: the compiled rules' types, a few bit helpers, and the functions
 * one file calls in the other. Include after defining
 * PCRE2_CODE_UNIT_WIDTH. */
#ifndef VIGIL_RULES_INT_H
#define VIGIL_RULES_INT_H

#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rules.h"
#include "strbuf.h"

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
	struct acscan *ls;  /* the literals of those rules (ids: crule.hid);
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
	uint8_t nconj;    /* crule.nconj: its further sets have ids bit + 1
	                     .. bit + nconj */
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
	pthread_mutex_t jit_lock;   /* this code's JIT compile: threads
	                               compile different codes side by side */
};

struct part {
	struct jcode *code, *tail;   /* tail: see find_tail() */
	struct jcode *lead;          /* for rules asked only whether they
	                                match: code without the optional items
	                                a match may start with
	                                (litscan_strip_lead()), tried at fewer
	                                places; or NULL */
};

/* Most parts of a pattern compiled in parts (compile_parts()). */
#define MAX_PARTS 64

/* Most required byte classes kept per rule. */
#define RULES_MAX_REQ 4

/* Most required literal sets per rule (litscan_extract_conj()): the
 * one every rule with literals has, and up to RULES_MAX_CONJ - 1 more. */
#define RULES_MAX_CONJ 4

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
	struct acscan *own;  /* required literals too many for the group's
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
	size_t nplits;       /* until build_groups() adds them; after them
	                        in plits, its further sets (xcount[]) */
	size_t xcount[RULES_MAX_CONJ - 1];
	uint8_t nconj;       /* further required literal sets: each match
	                        holds a literal of each too, so a text is a
	                        candidate only when the automaton found one
	                        of every set (ids conj_id .. conj_id +
	                        nconj - 1, beside its literals' id) */
	uint32_t conj_id;
	int hkey;            /* header rules: index into hkeys */
	uint32_t hid;        /* header rules: id of its literals in its
	                        hkey's automaton */
	uint32_t hr;         /* header rules: its index in hrules */
	uint32_t gid;        /* position in its target group */
	struct rmeta *meta;
	struct saeval_call *ev;  /* eval: rule vigil implements (saeval.h) */
	struct rcap_tmpl *tmpl;  /* a template rule's (rulescap.c): not in
	                        a group, compiled per message */
	struct rud *ud;      /* a uri_detail rule's conditions (rulesud.c) */
	atomic_bool limit_logged;
};

struct group {
	size_t *rules;       /* rule indexes */
	size_t count;
	struct acscan *ls;   /* ids = positions in rules[]; NULL if none */
	struct acscan *sls;  /* the same for skeleton literals (skel_lits()),
	                        run over each text's skeleton */
	uint32_t nids;       /* ids in ls: the positions, then from the
	                        next multiple of 64 on the rules' further
	                        literal sets (crule.conj_id) */
	uint64_t *always[3]; /* per enum txt, bits by position: the rules a
	                        text of that kind is a candidate for without
	                        a literal (build_masks()) */
	bool bytes;          /* some rule has required byte classes: the
	                        prefilter notes each text's bytes */
};

/* A capture rule (rulescap.c): its pattern compiled as written, and
 * which groups set which tags. */
struct rcap {
	uint32_t rule;
	pcre2_code *code;
	uint32_t *grp;       /* group numbers, */
	uint32_t *name;      /* and the rules.capnames index each sets */
	size_t n;
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
	struct regdom *rd;   /* registrar lists for the :domain modifier */
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
	size_t scored_up;             /* of those, with a score above 0 */
	struct rules_prof *prof;  /* rules_profile(): per rule, then per
	                             target's prefilter (n + tgt) */
	size_t *evals;       /* the active eval: rules */
	size_t nevals;
	size_t *bedits;      /* those of them that may edit the body text
	                        (saeval_edits_body()) */
	size_t nbedits;
	struct rcap *caps;   /* capture rules (rules_cap_setup()) */
	size_t ncaps;
	char **capnames;     /* the tags they set, distinct */
	size_t ncapnames;
	size_t *tmpls;       /* template rules that run */
	size_t ntmpls;
	size_t *uds;         /* the active uri_detail rules */
	size_t nuds;
	struct repset *reps; /* distinct literal sets of repeats */
	size_t nreps;
	uint8_t cache_key[32]; /* rules_cache_key(), when cache_keyed */
	bool cache_keyed;    /* (stats.cached: the compile and prefilter
	                        data came from the compile cache) */
};

/* The literals of a repeat, shared by the rules whose repeats need the
 * same ones (the __FILL_THIS_FORM_* family): a text's count is then
 * taken once, up to cap, the largest min among them. */
struct repset {
	char *sig;
	struct acscan *ls;
	size_t cap;
	unsigned users;
};

/* ---- small helpers ---- */

static inline void set_bit(uint64_t *b, size_t i)
{
	b[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline void clear_bit(uint64_t *b, size_t i)
{
	b[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static inline bool has_bit(const uint64_t *b, size_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* Whether bits from .. from + n - 1 of b are all set. */
static inline bool has_bits(const uint64_t *b, uint32_t from, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (!has_bit(b, from + k))
			return false;
	return true;
}

/* What run_metas() keeps for a meta whose expression gives v: a meta hits
 * once, whatever its value (negative counts as 1); 0 and NaN do not hit. */
static inline double meta_stored(double v)
{
	return v != 0 && v == v ? (v > 0 ? v : 1) : 0;
}

/* Whether a and b are the same double, bit for bit (-0 is not 0): a
 * meta that reads only unchanged bits computes unchanged bits. */
static inline bool same_bits(double a, double b)
{
	uint64_t x, y;
	memcpy(&x, &a, sizeof x);
	memcpy(&y, &b, sizeof y);
	return x == y;
}

/* ---- across the two files ---- */

/* rules.c: the hnames index of name[0..n) (any case), or UINT32_MAX. */
uint32_t rules_hname_find(const struct rules *r, const char *name, size_t n);

/* rules.c: the slot of name[0..n) in m, or SIZE_MAX. */
size_t rules_map_get(const struct slotmap *m, const char *name, size_t n);

/* rules.c: a jcode owning re (NULL, re freed, when out of memory or re
 * is NULL); a part's codes freed, the part zeroed. */
struct jcode *rules_jcode_new(pcre2_code *re);
void rules_part_free(struct part *pt);

/* rulescache.c: the compile cache. The key names everything
 * compile_regex() and prep_prefilter() read (rule fields set by
 * setup_rule(), options, PCRE2's version, the program's build ID): -1
 * when the program has no build ID. save: what they left in every
 * rule, as a blob (malloc'ed); restore: the same into the rules of r,
 * fresh from setup_rule(); on failure (-1) nothing is left set.
 * clear: a rule's compile and prefilter data freed. */
int rules_cache_key(const struct rules *r, uint8_t key[32]);
int rules_cache_save(const struct rules *r, uint8_t **blob, size_t *len);
int rules_cache_restore(struct rules *r, const uint8_t *blob, size_t len);
void rules_crule_clear(struct crule *c);

/* rules.c: a diagnostic about rule (NULL: none). -1 out of memory. */
int rules_add_diag(struct rules *r, enum rules_diag_kind kind,
                   const struct rs_rule *rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* rulescap.c: SpamAssassin 4's capture rules and templates. setup:
 * after the regexes are compiled and header rules bound, before the
 * metas and groups; a template rule with a tag no rule sets becomes
 * RULES_UNSUPPORTED (with a diagnostic). -1 out of memory. */
int rules_cap_setup(struct rules *r);
void rules_cap_free(struct rules *r);

/* The tags' values on one message: name (a capnames index) and the
 * value's bytes at b.p + off. Zero-initialise; b.oom on failure. */
struct rcap_val {
	uint32_t name;
	size_t off, len;
};
struct rcap_vals {
	struct strbuf b;
	struct rcap_val *v;
	size_t n, cap;
	bool done;           /* every capture rule has run */
};
/* Capture rule caps[k] on text: the values of its groups, from its
 * first max matches; returns how many it found. */
unsigned rules_cap_collect(const struct rules *r, size_t k, const char *text,
                           size_t len, unsigned max, pcre2_match_context *mc,
                           struct rcap_vals *v);
/* Template rule i's pattern with the values in (malloc'ed, length in
 * *len); NULL when one of its tags has no value (it does not run) or
 * out of memory. */
char *rules_cap_pattern(const struct rules *r, size_t i,
                        const struct rcap_vals *v, size_t *len);
/* Whether template rule i could match text (it holds a value, when
 * every match must). */
bool rules_cap_candidate(const struct rules *r, size_t i,
                         const struct rcap_vals *v, const char *text,
                         size_t len);
void rules_cap_vals_free(struct rcap_vals *v);

/* rulesud.c: uri_detail rules. compile: rule i's conditions into its
 * crule.ud (RULES_FAILED, with a diagnostic, when PCRE2 refuses one);
 * -1 out of memory. match: whether one URI detail of m meets all of
 * them (*hit: its raw URI), the domains of m's details kept in *dm
 * (NULL at first, rules_ud_msg_free() after the message); *limit: a
 * PCRE2 limit a match reached (counted as no match), or 0. */
struct rud;
struct rud_msg;
struct msg;
struct msg_text;
int rules_ud_compile(struct rules *r, size_t i);
void rules_ud_free(struct rud *u);
bool rules_ud_match(const struct rules *r, size_t i, const struct msg *m,
                    struct rud_msg **dm, pcre2_match_data *md,
                    pcre2_match_context *mc, struct msg_text *hit,
                    int *limit);
void rules_ud_msg_free(struct rud_msg *dm);

/* rulesrun.c: matches every header rule once on an absent text, when
 * compiling (hrabs). -1 out of memory. */
int rules_precompute_absent(struct rules *r);

#endif
