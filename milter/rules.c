/* rules.c — see rules.h (loading and compiling; rulesrun.c runs rules on
 * a message) */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <confuse.h>

#include "acscan.h"
#include "litscan.h"
#include "monotime.h"
#include "pfor.h"
#include "relays.h"
#include "rcache.h"
#include "ruleset.h"
#include "rulesmeta.h"
#include "saeval.h"
#include "strbuf.h"
#include "vlog.h"
#include "rules_int.h"

/* A jcode owning re, or NULL (re freed) when out of memory or re is NULL. */
struct jcode *rules_jcode_new(pcre2_code *re)
{
	struct jcode *j = re ? malloc(sizeof *j) : NULL;
	if (j == NULL) {
		pcre2_code_free(re);
		return NULL;
	}
	j->re = re;
	atomic_init(&j->jit, JIT_UNTRIED);
	pthread_mutex_init(&j->jit_lock, NULL);
	return j;
}

static void jcode_free(struct jcode *j)
{
	if (j == NULL)
		return;
	pcre2_code_free(j->re);
	pthread_mutex_destroy(&j->jit_lock);
	free(j);
}

void rules_part_free(struct part *pt)
{
	jcode_free(pt->code);
	jcode_free(pt->tail);
	jcode_free(pt->lead);
	*pt = (struct part){ 0 };
}


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
size_t rules_map_get(const struct slotmap *m, const char *name, size_t n)
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

int rules_add_diag(struct rules *r, enum rules_diag_kind kind,
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
uint32_t rules_hname_find(const struct rules *r, const char *name, size_t n)
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
	uint32_t id = rules_hname_find(r, lname, n);
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
	return rules_jcode_new(best);
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
	return rules_jcode_new(code);
}

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
		struct part pt = { .code = rules_jcode_new(code) };
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
			rules_part_free(&pt);
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
	       !(c->rs->type == RS_HEADER && c->rs->exists) &&
	       !c->rs->capture_template;   /* compiled per message */
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
		rules_part_free(&c->main);
		for (size_t k = 0; k < c->nmore; k++)
			rules_part_free(&c->more[k]);
		c->nmore = 0;
		c->cerr = errcode;
		c->coff = (size_t)off;
		return 0;
	}
	return 0;
}

/* What a meta's operand c is that never hits. */
static const char *dep_kind(const struct crule *c)
{
	return c->rs->type == RS_EVAL ? "eval" :
	       c->rs->type == RS_UNDEFINED ? "undefined" : "unsupported";
}

static int meta_resolve(void *ctx, const char *name, size_t len)
{
	struct rules *r = ctx;
	size_t slot = rules_map_get(&r->map, name, len);
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
		return rules_add_diag(r, RULES_DIAG_META, rule, "meta %s: %s",
		                      rule->name, err);
	}
	if (rmeta_zero_division(c->meta)) {   /* audit20 L3 */
		c->state = RULES_FAILED;
		return rules_add_diag(r, RULES_DIAG_META, rule, "meta %s: "
		                      "division by zero possible (with its rules "
		                      "0), so SpamAssassin refuses it (left out)",
		                      rule->name);
	}
	for (size_t k = 0; k < rmeta_dep_count(c->meta); k++) {
		size_t d = (size_t)rmeta_dep_at(c->meta, k);
		if (d >= r->n) {
			if (rules_add_diag(r, RULES_DIAG_UNKNOWN_DEP, rule,
			                   "meta %s: unknown rule %s (0 unless an "
			                   "earlier stage adds it)", rule->name,
			                   r->extra[d - r->n]) != 0)
				return -1;
		} else if ((r->cr[d].rs->type == RS_EVAL &&
		            r->cr[d].ev == NULL) ||
		           r->cr[d].rs->type == RS_UNDEFINED ||
		           r->cr[d].state == RULES_UNSUPPORTED) {
			if (rules_add_diag(r, RULES_DIAG_EVAL_DEP, rule,
			                   "meta %s: depends on %s rule %s (false "
			                   "unless an earlier stage adds it)",
			                   rule->name, dep_kind(&r->cr[d]),
			                   r->cr[d].rs->name) != 0)
				return -1;
		} else if (r->cr[d].state == RULES_APPROX) {
			if (rules_add_diag(r, RULES_DIAG_EVAL_DEP, rule,
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

/* The meta on a cycle that meta rule c reads (directly), or NULL. */
static const struct crule *cycle_dep(const struct rules *r,
                                     const struct order_ctx *o,
                                     const bool *left_out,
                                     const struct crule *c)
{
	for (size_t i = 0; i < rmeta_dep_count(c->meta); i++) {
		size_t d = (size_t)rmeta_dep_at(c->meta, i);
		if (d < r->n && o->node_of[d] != SIZE_MAX &&
		    left_out[o->node_of[d]])
			return &r->cr[d];
	}
	return NULL;
}

/* The meta whose score is 0 that meta rule c reads (directly), or
 * NULL: SpamAssassin never runs a meta of score 0, and a meta waits for
 * the metas it reads, so it never runs either (its Check.pm; audit20
 * M6: with score LOTS_OF_MONEY 0, ADVANCE_FEE_4_NEW over !LOTS_OF_MONEY
 * hit in vigil only). A rule of another kind with score 0 reads as 0. */
static const struct crule *zero_meta_dep(const struct rules *r,
                                         const struct crule *c)
{
	for (size_t i = 0; i < rmeta_dep_count(c->meta); i++) {
		size_t d = (size_t)rmeta_dep_at(c->meta, i);
		if (d < r->n && r->cr[d].rs->type == RS_META &&
		    r->cr[d].state == RULES_DISABLED)
			return &r->cr[d];
	}
	return NULL;
}

/* An unsolved meta whose value v SpamAssassin's one run gives it (see
 * run_unsolved()): one that is not 0 becomes that constant and runs;
 * the others stay left out. -1 out of memory. */
static int constant_meta(struct rules *r, struct crule *c, double v)
{
	if (v == 0)
		return 0;
	char num[64], err[64];
	snprintf(num, sizeof num, "%.17g", v);
	struct rmeta *k = rmeta_compile(num, strlen(num), meta_resolve, r, err,
	                                sizeof err);
	if (k == NULL)
		return -1;
	rmeta_free(c->meta);
	c->meta = k;
	c->state = RULES_ACTIVE;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* The unsolved metas (of a cycle, or reading one; slots unsolved[0..n))
 * as SpamAssassin runs them: its Conf/Parser.pm gives them no
 * dependencies, so they run once, at its first priority band, before
 * the rules they read (with the stock files that band holds none of
 * them), one after the other in hash order, each reading the values of
 * those run before it. vigil takes the order of definition, one of
 * SpamAssassin's outcomes (audit21 M3: `!SELF` hits on every message;
 * audit22 L1: of `A = !B`, `B = !A` only the first hits, and a meta
 * reading A sees it). -1 out of memory. */
static int run_unsolved(struct rules *r, size_t *unsolved, size_t n)
{
	double *vals = calloc(r->n ? r->n : 1, sizeof *vals);
	if (vals == NULL)
		return -1;
	qsort(unsolved, n, sizeof *unsolved, cmp_size);
	for (size_t k = 0; k < n; k++)
		vals[unsolved[k]] = meta_stored(rmeta_eval(r->cr[unsolved[k]].meta,
		                                           vals));
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++)
		rc = constant_meta(r, &r->cr[unsolved[k]], vals[unsolved[k]]);
	free(vals);
	return rc;
}

/* After the cycles are cut (r->metas in order, dependencies first):
 * as SpamAssassin, which never solves them, every meta that reads one
 * of a cycle, directly or through others, is left out too, and so are
 * the cut ones; none of them runs (audit20 M4: they ran, reading the
 * cut meta as 0, and hit). */
static int drop_cycle_dependents(struct rules *r, struct order_ctx *o)
{
	size_t n = r->nmetas, kept = 0;
	bool *left_out = calloc(n, sizeof *left_out);
	if (left_out == NULL)
		return -1;
	for (size_t k = 0; k < n; k++)
		o->node_of[r->metas[k]] = k;
	for (size_t k = 0; k < n; k++) {
		struct crule *c = &r->cr[r->metas[k]];
		const struct crule *dep;
		left_out[k] = c->state == RULES_FAILED;   /* cut */
		if (!left_out[k] && c->meta != NULL &&
		    zero_meta_dep(r, c) != NULL) {
			left_out[k] = true;
			c->state = RULES_DISABLED;   /* never runs */
		} else if (!left_out[k] && c->meta != NULL &&
		    (dep = cycle_dep(r, o, left_out, c)) != NULL) {
			left_out[k] = true;
			c->state = RULES_FAILED;
			if (rules_add_diag(r, RULES_DIAG_CYCLE, c->rs,
			                   "meta %s: depends on meta %s of a "
			                   "dependency cycle (unsolved: evaluated "
			                   "once before any rule, as SpamAssassin "
			                   "does)", c->rs->name,
			                   dep->rs->name) != 0) {
				free(left_out);
				return -1;
			}
		}
	}
	size_t *unsolved = malloc((n ? n : 1) * sizeof *unsolved), nu = 0;
	if (unsolved == NULL) {
		free(left_out);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		struct crule *c = &r->cr[r->metas[k]];
		if (left_out[k] && c->state == RULES_FAILED && c->meta != NULL)
			unsolved[nu++] = r->metas[k];
	}
	int rc = run_unsolved(r, unsolved, nu);
	free(unsolved);
	for (size_t k = 0; k < n && rc == 0; k++) {
		struct crule *c = &r->cr[r->metas[k]];
		if (!left_out[k] || c->state == RULES_ACTIVE)
			r->metas[kept++] = r->metas[k];
	}
	if (rc == 0)
		r->nmetas = kept;
	free(left_out);
	return rc;
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
		if (rules_add_diag(r, RULES_DIAG_CYCLE, c->rs,
		                   "meta %s: depends on itself through other "
		                   "metas (unsolved: evaluated once before any "
		                   "rule, as SpamAssassin does)",
		                   c->rs->name) != 0)
			goto out;
	}
	size_t *sorted = malloc(n * sizeof *sorted);
	if (sorted == NULL)
		goto out;
	for (size_t k = 0; k < n; k++)
		sorted[k] = r->metas[order[k]];
	free(r->metas);
	r->metas = sorted;
	rc = drop_cycle_dependents(r, &o);
out:
	free(o.node_of);
	free(o.cut);
	free(order);
	return rc;
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
 * every meta to come after the metas it reads (order_metas() leaves the
 * metas of cycles out, and those reading them); where that does not
 * hold, every meta is evaluated as before (p->on false). */
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
	if (ok && (c->own = acscan_new()) != NULL) {
		for (size_t l = 0; l < na && rc == 0; l++)
			rc = acscan_add(c->own, all[l], lit_len(all[l]), 0);
		if (rc == 0)
			rc = acscan_build(c->own);
	} else if (ok) {
		rc = -1;
	}
	free(v);
	free(all);
	free(lits);
	return rc;
}

/* c->plits: a copy of lits[0..n) (n > 0), and of the nx further sets
 * after them (counts xcount). -1 out of memory. */
static int set_plits(struct crule *c, char (*lits)[64], size_t n,
                     const size_t *xcount, size_t nx)
{
	size_t all = n;
	for (size_t s = 0; s < nx; s++)
		all += c->xcount[s] = xcount[s];
	if ((c->plits = malloc(all * sizeof *c->plits)) == NULL)
		return -1;
	memcpy(c->plits, lits, all * sizeof *c->plits);
	c->nplits = n;
	c->nconj = (uint8_t)nx;
	return 0;
}

/* Drops c->plits (added to an automaton, or not wanted). */
static void drop_plits(struct crule *c)
{
	free(c->plits);
	c->plits = NULL;
	c->nplits = 0;
}

/* Whether rules of target t take further literal sets (crule.nconj).
 * Their literals make the automaton larger, and each text's scan a
 * little slower: measured on the corpus, on raw body pieces and the
 * full message (long texts, where the literals are nearly always
 * there) that costs more than the calls it saves; MIME header rules
 * have no automaton. */
static bool conj_pays(enum tgt t)
{
	return t == T_HEADER || t == T_BODY || t == T_URI;
}

/* The required literals of pattern p[0..n) (as c's) into c->plits, for
 * build_groups(), or those of its branches into c->own. -1 when out of
 * memory. */
static int keep_lits(struct crule *c, const char *p, size_t n)
{
	char lits[LITSCAN_MAX_LITS][64];
	size_t counts[RULES_MAX_CONJ];
	size_t ns = litscan_extract_conj(p, n, c->rs->pcre2_options, lits,
	                                 LITSCAN_MAX_LITS, counts,
	                                 conj_pays(c->tgt) ? RULES_MAX_CONJ : 1);
	if (ns == 0)
		return split_lits(c, p, n);
	return set_plits(c, lits, counts[0], counts + 1, ns - 1);
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
	return set_plits(c, lits, nl, NULL, 0);
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
		rules_part_free(&t.main);
		for (size_t k = 0; k < t.nmore; k++)
			rules_part_free(&t.more[k]);
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
static struct acscan *sig_scan(const char *sig)
{
	struct acscan *ls = acscan_new();
	for (const char *p = sig; ls != NULL && *p != '\0'; p += 1 + *p) {
		if (acscan_add(ls, p + 1, (size_t)*p, 0) != 0) {
			acscan_free(ls);
			return NULL;
		}
	}
	if (ls != NULL && acscan_build(ls) != 0) {
		acscan_free(ls);
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
	return c->tgt != T_COUNT && !c->rs->capture_template &&
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
	struct group *g = &r->g[c->tgt];
	struct acscan **ls = c->skel ? &g->sls : &g->ls;
	uint32_t id = c->gid;
	if (c->tgt == T_HEADER) {   /* the further sets' ids follow */
		struct hkey *hk = &r->hkeys[c->hkey];
		ls = &hk->ls;
		id = c->hid = hk->nlit;
		c->conj_id = id + 1;
		hk->nlit += 1u + c->nconj;
	} else {   /* after the positions (the words candidates() reads) */
		if (g->nids < (g->count + 63) / 64 * 64)
			g->nids = (uint32_t)((g->count + 63) / 64 * 64);
		c->conj_id = g->nids;
		g->nids += c->nconj;
	}
	if (*ls == NULL && (*ls = acscan_new()) == NULL)
		return -1;
	size_t l = 0;
	for (size_t s = 0; s <= c->nconj; s++) {
		size_t end = l + (s == 0 ? c->nplits : c->xcount[s - 1]);
		uint32_t sid = s == 0 ? id : c->conj_id + (uint32_t)s - 1;
		for (; l < end; l++)
			if (acscan_add(*ls, c->plits[l], lit_len(c->plits[l]), sid) != 0)
				return -1;
	}
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

/* The compile cache's blob for r's rules, restored into them: whether
 * they got their compile and prefilter data from it (r->stats.cached). */
static bool cache_restore(struct rules *r)
{
	const char *dir = r->opts.cache_dir;
	if (dir == NULL || dir[0] == '\0')
		return false;
	r->cache_keyed = rules_cache_key(r, r->cache_key) == 0;
	if (!r->cache_keyed)
		return false;
	uint8_t *blob = NULL;
	size_t len = 0;
	char why[512] = "";
	int rc = rcache_get(dir, r->cache_key, &blob, &len, why, sizeof why);
	if (rc != 0 && why[0] != '\0')   /* another user's: no warning */
		vlog(rc < 0 ? LOG_WARNING : LOG_INFO,
		     "rules: compile cache in %s not used: %s", dir, why);
	if (rc == 0 && rules_cache_restore(r, blob, len) != 0) {
		vlog(LOG_WARNING, "rules: compile cache in %s not used: its "
		     "data does not fit the rules", dir);
		rc = -1;
	}
	free(blob);
	r->stats.cached = rc == 0;
	return r->stats.cached;
}

/* After a compile without the cache: what it computed, for the next
 * process. Failing only costs that process the time. */
static void cache_store(const struct rules *r)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	char why[512];
	if (!r->cache_keyed || r->stats.cached ||
	    rules_cache_save(r, &blob, &len) != 0)
		return;
	if (rcache_put(r->opts.cache_dir, r->cache_key, blob, len, why,
	               sizeof why) != 0)
		vlog(LOG_INFO, "rules: compile cache not written: %s", why);
	free(blob);
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
	if (!r->opts.no_prefilter && !r->stats.cached &&
	    pfor_run(r->n, prep_prefilter, r, 0) != 0)
		return -1;
	cache_store(r);
	if (r->opts.no_prefilter)
		return build_masks(r);
	if (build_repsets(r) != 0)
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
		if ((g->ls != NULL && acscan_build(g->ls) != 0) ||
		    (g->sls != NULL && acscan_build(g->sls) != 0))
			return -1;
	}
	for (size_t k = 0; k < r->nhkeys; k++)
		if (r->hkeys[k].ls != NULL && acscan_build(r->hkeys[k].ls) != 0)
			return -1;
	return build_masks(r);
}

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
	r->rcvd = rules_hname_find(r, "received", 8);
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
	for (size_t k = 0; k < r->ntmpls; k++) {
		const struct crule *c = &r->cr[r->tmpls[k]];
		if (c->tgt == T_HEADER)   /* its text, for rulescap.c */
			r->hkeys[c->hkey].used = r->hkeys[c->hkey].text = true;
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
			.nconj = c->lits ? c->nconj : 0,
			.flags = (c->rs->exists ? HR_EXISTS : 0) |
			         (c->rs->negate ? HR_NEGATE : 0),
		};
	}
	return rules_precompute_absent(r);
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
	case RS_URI_DETAIL: st->uri_detail++; break;
	case RS_META: st->meta++; break;
	case RS_EVAL: st->eval++; break;
	case RS_UNDEFINED: break;
	}
}

/* The line an eval rule stands on, as SpamAssassin names its types. */
static const char *eval_line(enum rs_type on)
{
	return on == RS_HEADER ? "header" : on == RS_BODY ? "body" :
	       on == RS_RAWBODY ? "rawbody" : on == RS_FULL ? "full" : NULL;
}

/* Whether an eval rule stands on a line of another type than its
 * function is registered for, which SpamAssassin 4.0.1 checks (a body
 * function on a rawbody line passes) and then leaves the rule out. */
static bool wrong_eval_line(const struct rs_rule *rule)
{
	const char *want = saeval_line_type(rule->eval),
	           *line = eval_line(rule->eval_on);
	return want != NULL && line != NULL && strcmp(want, line) != 0 &&
	       !(strcmp(want, "body") == 0 && strcmp(line, "rawbody") == 0);
}

/* Such a rule: never hits, metas read 0 (audit22 M3: rules written for
 * SpamAssassin 3.4, which did not check, ran in vigil only). */
static int wrong_line(struct rules *r, struct crule *c)
{
	c->state = RULES_FAILED;
	return rules_add_diag(r, RULES_DIAG_COMPILE, c->rs, "rule %s: "
	                      "wrong rule type for eval:%s, expected '%s': "
	                      "SpamAssassin leaves the rule out", c->rs->name,
	                      c->rs->eval, saeval_line_type(c->rs->eval));
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
	if (rule->type == RS_EVAL && wrong_eval_line(rule))
		return wrong_line(r, c);
	if (rule->type == RS_EVAL && rule->eval_on != RS_EVAL &&
	    !ruleset_eval_args_ok(rule->eval)) {   /* no directive's */
		c->state = RULES_FAILED;   /* reported by the loader */
		return 0;
	}
	if (rule->type == RS_EVAL) {
		int rc = saeval_compile_rs(rule->eval, r->rs, &c->ev);
		if (rc < 0)
			return -1;
		saeval_set_rawbody(c->ev, rule->eval_on == RS_RAWBODY);
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
	if (rule->type == RS_URI_DETAIL) {
		c->state = run_score(r, rule) == 0 ? RULES_DISABLED : RULES_ACTIVE;
		return c->state == RULES_ACTIVE ? rules_ud_compile(r, i) : 0;
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
		return rules_add_diag(r, RULES_DIAG_COMPILE, rule,
		                      "rule %s: no pattern", rule->name);
	}
	if (c->cerr != 0) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(c->cerr, msg, sizeof msg);
		c->state = RULES_FAILED;
		return rules_add_diag(r, RULES_DIAG_COMPILE, rule,
		                      "rule %s: PCRE2 error at offset %zu: %s",
		                      rule->name, c->coff, (const char *)msg);
	}
	if (rule->type == RS_HEADER || rule->type == RS_MIMEHEADER) {
		if (rule->header == NULL) {
			c->state = RULES_FAILED;
			return rules_add_diag(r, RULES_DIAG_COMPILE, rule,
			                      "rule %s: no header name", rule->name);
		}
		if ((c->hkey = hkey_index(r, rule)) < 0)
			return -1;
		if (rule->type == RS_HEADER &&
		    r->hkeys[c->hkey].kind == HK_PSEUDO) {
			c->state = RULES_APPROX;
			return rules_add_diag(r, RULES_DIAG_APPROX, rule,
			                      "rule %s: %s is a SpamAssassin "
			                      "pseudo-header vigil does not produce: "
			                      "treated as absent",
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
	if (r->cr == NULL || saeval_regdom_build(rs, &r->rd) != 0)
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
	if (!cache_restore(r) && pfor_run(r->n, compile_regex, r, 0) != 0)
		goto oom;
	for (size_t i = 0; i < r->n; i++)
		if (finish_rule(r, i) != 0)
			goto oom;
	if (rules_cap_setup(r) != 0)
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
		if (c->ud != NULL && c->state == RULES_ACTIVE &&
		    push_index(&r->uds, &r->nuds, i) != 0)
			goto oom;
		if (c->ev != NULL && c->state == RULES_ACTIVE &&
		    saeval_edits_body(c->ev) &&
		    push_index(&r->bedits, &r->nbedits, i) != 0)
			goto oom;
		switch (c->state) {
		case RULES_ACTIVE: r->stats.active++; break;
		case RULES_DISABLED: r->stats.disabled++; break;
		case RULES_FAILED: r->stats.failed++; break;
		case RULES_APPROX: r->stats.approx++; r->stats.active++; break;
		case RULES_UNSUPPORTED: break;
		}
		if ((c->state == RULES_ACTIVE || c->state == RULES_APPROX) &&
		    !c->deferred) {
			r->scored++;
			r->scored_up += c->score > 0;
		}
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
	rules_cap_free(r);
	for (size_t i = 0; r->cr != NULL && i < r->n; i++) {
		rules_crule_clear(&r->cr[i]);
		rmeta_free(r->cr[i].meta);
		saeval_free(r->cr[i].ev);
		rules_ud_free(r->cr[i].ud);
	}
	free(r->cr);
	for (size_t i = 0; i < r->nhkeys; i++) {
		free(r->hkeys[i].lname);
		acscan_free(r->hkeys[i].ls);
	}
	free(r->hkeys);
	saeval_regdom_free(r->rd);
	for (size_t i = 0; i < r->nhnames; i++)
		free(r->hnames[i].lname);
	free(r->hnames);
	free(r->hslot);
	free(r->hrules);
	free(r->hrabs);
	for (int t = 0; t < T_COUNT; t++) {
		free(r->g[t].rules);
		acscan_free(r->g[t].ls);
		acscan_free(r->g[t].sls);
		for (int kind = 0; kind < 3; kind++)
			free(r->g[t].always[kind]);
	}
	for (size_t i = 0; i < r->nreps; i++) {
		free(r->reps[i].sig);
		acscan_free(r->reps[i].ls);
	}
	free(r->reps);
	free(r->evals);
	free(r->uds);
	free(r->bedits);
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

bool rules_diag_implemented(const struct rules *r, const struct rs_diag *d)
{
	const struct rs_rule *x = d->rule ? ruleset_find(r->rs, d->rule) : NULL;
	if (x == NULL || x->type != RS_EVAL)
		return false;
	size_t i = (size_t)(x - ruleset_at(r->rs, 0));
	return rules_rule_state(r, i) != RULES_UNSUPPORTED;
}

void rules_diag_totals(const struct rules *r, struct rules_diag_totals *t)
{
	*t = (struct rules_diag_totals){ 0 };
	for (size_t i = 0; i < ruleset_diag_count(r->rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(r->rs, i);
		if (d->kind == RS_DIAG_UNSUPPORTED)
			t->unsupported += !rules_diag_implemented(r, d);
		else if (d->kind == RS_DIAG_ERROR)
			t->errors++;
		else
			t->warnings++;
	}
	for (size_t i = 0; i < r->ndiags; i++) {
		enum rules_diag_kind k = r->diags[i].kind;
		t->unsupported += k == RULES_DIAG_UNSUPPORTED;
		t->errors += k == RULES_DIAG_COMPILE || k == RULES_DIAG_CYCLE ||
		             k == RULES_DIAG_META;
	}
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
		"Mail::SpamAssassin::Plugin::URIDetail",   /* rulesud.c */
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
	static const struct ruleset_opts o = { .plugin_loaded = plugin_loaded,
	                                       .local_tests_only = true };
	return &o;
}

struct ruleset_opts rules_ruleset_opts_set(unsigned score_set)
{
	struct ruleset_opts o = *rules_ruleset_opts();
	o.local_tests_only = (score_set & 1) == 0;
	return o;
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

void rules_log_diags(const struct ruleset *rs, const struct rules *r)
{
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		if (d->kind == RS_DIAG_ERROR)
			log_diag(d->file, d->line, d->message);
	}
	for (size_t i = 0; i < rules_diag_count(r); i++) {
		const struct rules_diag *d = rules_diag_at(r, i);
		if (d->kind == RULES_DIAG_COMPILE || d->kind == RULES_DIAG_CYCLE ||
		    d->kind == RULES_DIAG_META)
			log_diag(d->file, d->line, d->message);
	}
}

static bool builtin_rule_path(const char *p)
{
	return strcmp(p, RULES_PATH_STOCK) == 0 ||
	       strcmp(p, RULES_PATH_OWN) == 0 || strcmp(p, RULES_PATH_LOCAL) == 0;
}

size_t rules_conf_paths(void *root, const char **paths, size_t max)
{
	cfg_t *cfg = root;
	size_t n = 0;
	for (unsigned i = 0; i < cfg_size(cfg, "rules") && n < max; i++) {
		const char *p = cfg_getnstr(cfg, "rules", i);
		if (builtin_rule_path(p) && access(p, F_OK) != 0)
			vlog(LOG_INFO, "rules: %s not installed, skipped", p);
		else
			paths[n++] = p;
	}
	return n;
}

const char *rules_conf_missing(const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (access(paths[i], R_OK) != 0)
			return paths[i];
	return NULL;
}

const char *rules_conf_cache_dir(void *root)
{
	const char *d = cfg_getstr(root, "rules_cache");
	return d == NULL || d[0] == '\0' || strcmp(d, "off") == 0 ? NULL : d;
}

/* Rule files that cannot add to a score (none found, or a directory of
 * settings such as /etc/spamassassin given for the rules) would pass
 * all mail: said, as SpamAssassin says "no rules were found". */
static void warn_nothing_scores(const struct rules_state_s *st, cfg_t *root)
{
	if (st->rules->scored_up > 0)
		return;
	size_t n = ruleset_count(st->rs);
	vlog(LOG_WARNING, "%s: rules: %zu rule%s loaded, none with a score "
	     "above 0: no message can score up to a threshold (are these the "
	     "rule files meant? SpamAssassin's stock rules are in "
	     RULES_PATH_STOCK ", or /var/lib/spamassassin/VERSION after "
	     "sa-update)", root->filename ? root->filename : "configuration",
	     n, n == 1 ? "" : "s");
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
	const char *missing = rules_conf_missing(paths, n);
	if (missing != NULL) {
		/* a rule set quietly missing would pass all mail unscored */
		snprintf(err, errlen, "%s: rules: cannot read \"%s\": %s",
		         root->filename ? root->filename : "configuration",
		         missing, strerror(errno));
		free(paths);
		free(st);
		return NULL;
	}
	struct ruleset_opts ro =
		rules_ruleset_opts_set((unsigned)cfg_getint(root, "score_set"));
	st->rs = ruleset_load(paths, n, &ro);
	free(paths);
	struct rules_opts o = {
		.score_set = (unsigned)cfg_getint(root, "score_set"),
		.match_limit = (uint32_t)cfg_getint(root, "rule_match_limit"),
		.depth_limit = (uint32_t)cfg_getint(root, "rule_depth_limit"),
		.cache_dir = rules_conf_cache_dir(root),
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
	warn_nothing_scores(st, root);
	/* Bad lines never stop the daemon: they are logged. */
	rules_log_diags(st->rs, st->rules);
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

const struct uriredir *rules_stage_redirectors(const void *stage_state)
{
	const struct rules *r = rules_stage_rules(stage_state);
	return r ? ruleset_redirectors(r->rs) : NULL;
}

const struct trustpath *rules_stage_trustpath(const void *stage_state)
{
	const struct rules *r = rules_stage_rules(stage_state);
	return r ? ruleset_trustpath(r->rs) : NULL;
}

const struct stage_ops rules_stage = {
	.name = "rules",
	.conf_opts = NULL,
	.init = stage_init,
	.fini = stage_fini,
	.run = stage_run,
};
