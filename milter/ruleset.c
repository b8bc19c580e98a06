/*
 * ruleset.c — SpamAssassin rule files read into an in-memory rule set
 * (see ruleset.h for the contract).
 *
 * What is implemented, following SpamAssassin 4.0's Conf/Parser.pm as
 * documented (Mail::SpamAssassin::Conf, ::Conf::Parser, ::Plugin::*):
 *
 *  - Lines: "#" starts a comment unless preceded by a backslash; "\#"
 *    then becomes "#"; leading and trailing white space (CR included) is
 *    dropped; the first word is the directive, lower-cased, "-" read as
 *    "_". "lang xx ..." lines count only for English ("en", "en_US").
 *  - Conditionals: ifplugin NAME, if EXPR, else, endif, nested, per file.
 *    EXPR: numbers, version, perl_version, local_tests_only,
 *    plugin(NAME), can(NAME), has(NAME), ! && || ^ == != < <= > >=,
 *    parentheses, + - * /. can(Mail::SpamAssassin::Conf::feature_x) is
 *    true for the features SpamAssassin 4.0.1 declares; compat_x after
 *    "enable_compat x"; perl_min_version_x always; can(...Plugin::P::m)
 *    when plugin P is loaded. Anything else: false and a warning.
 *  - Rules: header (HDR[:mod[:mod]] =~ or !~ /re/mods [if-unset: X],
 *    exists:HDR, eval:, rbleval:), mimeheader (HDR[:raw]), body, rawbody,
 *    full, uri (/re/, m{re}, m!re!, qr(re) ...; modifiers i m s x), meta.
 *    As SpamAssassin does, the closing delimiter is the last one, followed
 *    only by modifiers; an unescaped non-bracket delimiter inside is an
 *    error; the pattern is kept unchanged (escaped delimiters included).
 *  - score (1 or 4 values, "(n)" relative values), describe, tflags,
 *    priority, required_score/required_hits, include (relative to the
 *    including file, loops and depth > 20 refused), require_version
 *    (a different version skips the rest of the file), enable_compat,
 *    reuse (a name nothing defines becomes a never-true RS_EVAL rule, as
 *    SpamAssassin's empty test).
 *  - ReplaceTags: replace_start/end/tag/pre/inter/post/rules, applied once
 *    every file is read, with the plugin's semantics: per pass the first
 *    <pre X>, <post X>, <inter X> markers are removed; pre/post values go
 *    around every tag, the inter value between adjacent tags; defined
 *    tags are replaced; up to 6 passes while replacements contain tags.
 *    (Checked against SpamAssassin 4.0.1 on the stock 25_replace.cf.)
 *  - Plugin directives we do not implement: one RS_DIAG_UNSUPPORTED per
 *    directive and file; those that define rules (askdns, urirhssub,
 *    uri_block_cc, ...) define RS_EVAL rules. eval: rules are RS_EVAL
 *    with one diagnostic each.
 *  - SpamAssassin 4 capture rules and templates: a regex rule whose
 *    pattern holds %{NAME} is marked capture_template (the engine
 *    substitutes captured values per message); one with a named group
 *    (?<NAME>...) gets priority -10000, as in SpamAssassin.
 *  - Defaults (Parser.pm fix_tests): rules without a score line get 1.0,
 *    0.01 for names starting with "T_", negated with tflags nice; names
 *    starting with "__" get 0 here (SpamAssassin never adds their score).
 *
 * Memory: every string lives in one arena; rules are found by an open
 * addressing hash table on their names. Lines are scanned with explicit
 * lengths; nothing relies on NUL terminators of the input.
 */
#include "ruleset.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "arena.h"
#include "fileio.h"
#include "netset.h"
#include "perlre.h"
#include "rulesmeta.h"
#include "strbuf.h"
#include "trustpath.h"
#include "uriredir.h"

#define MAX_INCLUDE_DEPTH 20
#define MAX_FILE_SIZE ((size_t)64 << 20)
#define MAX_COND_DEPTH 1000
#define MAX_RULE_NAME 100
#define SNIP 80 /* bytes of input quoted in a diagnostic */
#define DEFAULT_VERSION 4.000001
/* tflags words we know that change nothing here (URIDNSBL, AWL...). */
#define RS_TF_OTHER 0x80000000u

/* ------------------------------------------------------------------ */
/* small helpers */

static bool is_sp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

struct sl {
	const char *p;
	size_t n;
};

static bool sl_eq(struct sl s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool sl_eq_sl(struct sl a, struct sl b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static bool sl_prefix(struct sl s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static struct sl sl_trim(struct sl s)
{
	while (s.n > 0 && is_sp(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_sp(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Splits off the first white-space delimited word; *rest is the
 * remainder without its leading white space. */
static struct sl sl_word(struct sl s, struct sl *rest)
{
	size_t i = 0;
	while (i < s.n && !is_sp(s.p[i]))
		i++;
	struct sl w = { s.p, i };
	while (i < s.n && is_sp(s.p[i]))
		i++;
	if (rest != NULL) {
		rest->p = s.p + i;
		rest->n = s.n - i;
	}
	return w;
}

static const char *sl_find(struct sl s, size_t from, const char *lit,
                           size_t litn)
{
	if (litn == 0 || from > s.n || s.n - from < litn)
		return NULL;
	const char *p = s.p + from, *end = s.p + s.n;
	while ((size_t)(end - p) >= litn) {
		const char *q = memchr(p, lit[0], (size_t)(end - p) - litn + 1);
		if (q == NULL)
			return NULL;
		if (memcmp(q, lit, litn) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* ------------------------------------------------------------------ */
/* string map (open addressing), keys and values in an arena */

struct smap_ent {
	const char *key;
	size_t klen;
	void *val;
};

struct smap {
	struct smap_ent *e;
	size_t cap, n;
};

static void smap_free(struct smap *m)
{
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}

static struct smap_ent *smap_slot(const struct smap *m, const char *k,
                                  size_t kn)
{
	size_t i = (size_t)hash_bytes(k, kn) & (m->cap - 1);
	for (;;) {
		struct smap_ent *e = &m->e[i];
		if (e->key == NULL ||
		    (e->klen == kn && memcmp(e->key, k, kn) == 0))
			return e;
		i = (i + 1) & (m->cap - 1);
	}
}

static struct smap_ent *smap_get(const struct smap *m, const char *k,
                                 size_t kn)
{
	if (m->cap == 0)
		return NULL;
	struct smap_ent *e = smap_slot(m, k, kn);
	return e->key != NULL ? e : NULL;
}

static int smap_grow(struct smap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct smap_ent *ne = calloc(ncap, sizeof *ne);
	if (ne == NULL)
		return -1;
	struct smap old = *m;
	m->e = ne;
	m->cap = ncap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.e[i].key != NULL)
			*smap_slot(m, old.e[i].key, old.e[i].klen) = old.e[i];
	free(old.e);
	return 0;
}

/* The entry for k, created (key copied into a) when absent. */
static struct smap_ent *smap_put(struct smap *m, struct arena *a,
                                 const char *k, size_t kn)
{
	if ((m->n + 1) * 2 > m->cap && smap_grow(m) != 0)
		return NULL;
	struct smap_ent *e = smap_slot(m, k, kn);
	if (e->key == NULL) {
		char *kc = arena_strndup(a, k, kn);
		if (kc == NULL)
			return NULL;
		e->key = kc;
		e->klen = kn;
		e->val = NULL;
		m->n++;
	}
	return e;
}

/* ------------------------------------------------------------------ */
/* the rule set */

struct rule_aux {
	bool defined;        /* a rule line defined it (not RS_UNDEFINED) */
	bool from_directive; /* defined by a plugin directive (askdns...) */
	struct rs_ud_cond *ud; /* the uri_detail conditions of the name
	                        (RS_UD_NKEYS), whatever its type: they add
	                        up over its lines as in SpamAssassin */
	const char *score_file;
	unsigned score_line;
};

struct ruleset {
	struct arena *arena;
	struct rs_rule *rules;
	struct rule_aux *aux;
	size_t n, cap;
	uint32_t *slots; /* rule index + 1, 0 = empty */
	size_t nslots;
	struct rs_diag *diags;
	size_t ndiags, capdiags;
	const char **files;
	size_t nfiles, capfiles;
	const char **settings; /* key, value, key, value, ... */
	size_t nsettings, capsettings; /* strings, 2 per setting */
	bool have_required;
	double required;
	const char *required_file; /* where the last required_score was read */
	unsigned required_line;
	struct trustpath trust; /* trusted/internal/msa_networks lines */
	struct uriredir *redir; /* redirector_pattern lines; NULL: none */
	unsigned char digest[32]; /* SHA-256 of the files read (ruleset_digest) */
	bool oom;
};

static void *grow_array(void *p, size_t *cap, size_t need, size_t elem,
                        bool *oom)
{
	if (need <= *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(p, ncap * elem);
	if (np == NULL) {
		*oom = true;
		return NULL;
	}
	*cap = ncap;
	return np;
}

static long rule_lookup(const struct ruleset *rs, const char *name,
                        size_t n)
{
	if (rs->nslots == 0)
		return -1;
	size_t i = (size_t)hash_bytes(name, n) & (rs->nslots - 1);
	for (;;) {
		uint32_t s = rs->slots[i];
		if (s == 0)
			return -1;
		const char *rn = rs->rules[s - 1].name;
		if (strncmp(rn, name, n) == 0 && rn[n] == '\0')
			return (long)(s - 1);
		i = (i + 1) & (rs->nslots - 1);
	}
}

static int rehash(struct ruleset *rs)
{
	size_t ncap = rs->nslots ? rs->nslots * 2 : 1024;
	uint32_t *ns = calloc(ncap, sizeof *ns);
	if (ns == NULL)
		return -1;
	free(rs->slots);
	rs->slots = ns;
	rs->nslots = ncap;
	for (size_t r = 0; r < rs->n; r++) {
		const char *nm = rs->rules[r].name;
		size_t i = (size_t)hash_bytes(nm, strlen(nm)) & (ncap - 1);
		while (ns[i] != 0)
			i = (i + 1) & (ncap - 1);
		ns[i] = (uint32_t)(r + 1);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* loader state */

struct cond {
	unsigned line;
	bool saved_skip; /* skip state before this conditional */
	bool had_else;
	bool is_ifplugin;
	/* an ifplugin false only because vigil lacks a plugin SpamAssassin
	 * loads, by default (its short name, static) or by a loadplugin
	 * line (its full name, the loader's), else NULL */
	const char *unimplemented;
	bool by_loadplugin;
};

struct fstate {
	const char *file; /* arena copy */
	unsigned line;
	bool skip;
	bool stop;     /* require_version mismatch: ignore the rest */
	bool pre_only; /* *.pre file: plugin lines only */
	struct cond *conds;
	size_t nconds, capconds;
	int depth;
};

/* A *_networks entry and the line it came from (for the diagnostics of
 * trustpath_finish). */
struct netline {
	enum trustpath_net w;
	struct netset_net net;
	const char *file;
	unsigned line;
};

struct loader {
	struct ruleset *rs;
	const struct ruleset_opts *opts;
	double version;
	bool buf_mode;
	struct smap known;    /* known SpamAssassin directives */
	struct smap seen;     /* "file\0directive" reported unsupported */
	struct smap compat;   /* enable_compat names */
	struct smap cond_cache; /* "if COND": the truth first found (val
	                           non-NULL: true), as Parser.pm caches it */
	struct smap plugins;  /* plugins loadplugin lines load that vigil
	                         does not implement (full names) */
	struct smap tags, pre, inter, post; /* ReplaceTags */
	struct smap replace;  /* replace_rules names */
	const char *rstart, *rend;
	char *buf;            /* the current line, comments removed */
	size_t bufcap;
	const char *incl[MAX_INCLUDE_DEPTH + 2];
	int nincl;
	struct fstate *fs;    /* current file */
	struct netline *netlines; /* where each *_networks entry was read */
	size_t nnetlines, capnetlines;
	EVP_MD_CTX *md;       /* digest of the files read so far */
};

/* n bytes of the rule set's arena; NULL (and the set out of memory)
 * when there are none. */
static char *abuf(struct loader *L, size_t n)
{
	char *b = arena_alloc(L->rs->arena, n);
	if (b == NULL)
		L->rs->oom = true;
	return b;
}

static char *astr(struct loader *L, const char *p, size_t n)
{
	char *s = arena_strndup(L->rs->arena, p, n);
	if (s == NULL)
		L->rs->oom = true;
	return s;
}

static void diag_at(struct loader *L, enum rs_diag_kind kind,
                    const char *file, unsigned line, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void diag_at(struct loader *L, enum rs_diag_kind kind,
                    const char *file, unsigned line, const char *rule,
                    const char *fmt, ...)
{
	struct ruleset *rs = L->rs;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct rs_diag *d = grow_array(rs->diags, &rs->capdiags,
	                               rs->ndiags + 1, sizeof *d, &rs->oom);
	if (d == NULL)
		return;
	rs->diags = d;
	d = &rs->diags[rs->ndiags];
	d->kind = kind;
	d->file = file;
	d->line = line;
	d->rule = rule;
	d->message = astr(L, msg, strlen(msg));
	if (d->message != NULL)
		rs->ndiags++;
}

#define DIAG(L, kind, rule, ...)                                        \
	diag_at((L), (kind), (L)->fs ? (L)->fs->file : NULL,                 \
	        (L)->fs ? (L)->fs->line : 0, (rule), __VA_ARGS__)

/* Length of a snippet of s for messages. */
static int snip(struct sl s)
{
	return (int)(s.n > SNIP ? SNIP : s.n);
}

/* Index of rule `name`, created as RS_UNDEFINED when absent. -1 on
 * allocation failure. */
static long rule_get(struct loader *L, struct sl name)
{
	struct ruleset *rs = L->rs;
	long i = rule_lookup(rs, name.p, name.n);
	if (i >= 0)
		return i;
	if ((rs->n + 1) * 2 > rs->nslots && rehash(rs) != 0) {
		rs->oom = true;
		return -1;
	}
	struct rs_rule *r = grow_array(rs->rules, &rs->cap, rs->n + 1,
	                               sizeof *r, &rs->oom);
	if (r == NULL)
		return -1;
	rs->rules = r;
	struct rule_aux *ax = realloc(rs->aux, rs->cap * sizeof *ax);
	if (ax == NULL) {
		rs->oom = true;
		return -1;
	}
	rs->aux = ax;
	char *nm = astr(L, name.p, name.n);
	if (nm == NULL)
		return -1;
	r = &rs->rules[rs->n];
	memset(r, 0, sizeof *r);
	memset(&rs->aux[rs->n], 0, sizeof rs->aux[0]);
	r->name = nm;
	r->type = RS_UNDEFINED;
	r->file = L->fs->file;
	r->line = L->fs->line;
	size_t j = (size_t)hash_bytes(name.p, name.n) & (rs->nslots - 1);
	while (rs->slots[j] != 0)
		j = (j + 1) & (rs->nslots - 1);
	rs->slots[j] = (uint32_t)(rs->n + 1);
	return (long)rs->n++;
}

/* SpamAssassin's RULENAME_RE: [_a-zA-Z][_a-zA-Z0-9]*, at most 100. */
static bool valid_rule_name(struct sl s)
{
	if (s.n == 0 || s.n > MAX_RULE_NAME)
		return false;
	if (s.p[0] >= '0' && s.p[0] <= '9')
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_word(s.p[i]))
			return false;
	return true;
}

/* The rule name that is the first word of v (rest in *rest); false with
 * an error when it is missing or invalid. */
static bool rule_arg(struct loader *L, const char *key, struct sl v,
                     struct sl *name, struct sl *rest)
{
	*name = sl_word(v, rest);
	if (name->n == 0) {
		DIAG(L, RS_DIAG_ERROR, NULL, "%s: expected a rule name", key);
		return false;
	}
	if (!valid_rule_name(*name)) {
		DIAG(L, RS_DIAG_ERROR, NULL,
		     "%s: invalid rule name '%.*s' (expected letters, digits "
		     "and '_', not starting with a digit, at most 100)",
		     key, snip(*name), name->p);
		return false;
	}
	return true;
}

/* A stable copy of a rule name for diagnostics. */
static const char *name_str(struct loader *L, struct sl name)
{
	long i = rule_lookup(L->rs, name.p, name.n);
	return i >= 0 ? L->rs->rules[i].name : astr(L, name.p, name.n);
}

/* (Re)define rule i as type t here: type-specific fields are cleared,
 * score, description, tflags and priority are kept. */
static struct rs_rule *rule_define(struct loader *L, long i, enum rs_type t)
{
	struct rs_rule *r = &L->rs->rules[i];
	r->type = t;
	r->file = L->fs->file;
	r->line = L->fs->line;
	r->header = NULL;
	r->hdr_mods = 0;
	r->exists = false;
	r->negate = false;
	r->if_unset = NULL;
	r->pattern = NULL;
	r->pattern_len = 0;
	r->pcre2_options = 0;
	r->meta = NULL;
	r->eval = NULL;
	r->ud = NULL;
	L->rs->aux[i].defined = true;
	L->rs->aux[i].from_directive = false;
	return r;
}

/* ------------------------------------------------------------------ */
/* regular expressions */

/* Parses "/re/mods", "m{re}mods", "m!re!mods", "qr(re)mods" as
 * SpamAssassin's compile_regexp does. 0, or -1 after an error. */
/* A Perl 5.34+ quantifier at p (a '{') up to e that PCRE2 10.42 reads
 * as literal text: "{,n}" (Perl's {0,n}) or one with blanks next to the
 * braces or the comma ("{ 2 }", "{2, 5}"). Its PCRE2 spelling goes to
 * out (room for the brace text), its length to *skip; false when p is
 * not such a quantifier (or its spelling would not fit cap). */
static bool perl_quantifier(const char *p, const char *e, char *out,
                            size_t cap, size_t *skip)
{
	const char *q = p + 1, *d1, *d2 = NULL;
	bool blank = false, comma = false;
	size_t n1, n2 = 0;
#define BLANKS() while (q < e && (*q == ' ' || *q == '\t')) q++, blank = true
	BLANKS();
	for (d1 = q; q < e && *q >= '0' && *q <= '9';)
		q++;
	n1 = (size_t)(q - d1);
	BLANKS();
	if (q < e && *q == ',') {
		comma = true;
		q++;
		BLANKS();
		for (d2 = q; q < e && *q >= '0' && *q <= '9';)
			q++;
		n2 = (size_t)(q - d2);
		BLANKS();
	}
#undef BLANKS
	if (q >= e || *q != '}' || (n1 == 0 && n2 == 0) || (!blank && n1 > 0))
		return false;
	int len = snprintf(out, cap, "{%.*s%s%.*s}", n1 ? (int)n1 : 1,
	                   n1 ? d1 : "0", comma ? "," : "", (int)n2,
	                   d2 ? d2 : "");
	*skip = (size_t)(q + 1 - p);
	/* never longer than the text it replaces plus the 0 */
	return len > 0 && (size_t)len < cap && (size_t)len <= *skip + 1;
}

/* An inline flag group "(?flags)" or "(?flags:" whose flags start at
 * p.p[k] and hold Perl's charset flags a, d or p, which PCRE2 10.42
 * refuses and which change nothing for byte patterns (audit20 L6): the
 * group without them into out ("" for a "(?)" left empty), its length
 * to *skip (from the '('); false for any other text. */
static bool inline_charset(struct sl p, size_t k, char *out, size_t cap,
                           size_t *skip)
{
	size_t j = k, o = 2;
	bool drop = false;
	out[0] = '(';
	out[1] = '?';
	for (; j < p.n && o + 2 < cap && (isalpha((unsigned char)p.p[j]) ||
	                                  p.p[j] == '-' || p.p[j] == '^'); j++) {
		if (p.p[j] == 'a' || p.p[j] == 'd' || p.p[j] == 'p')
			drop = true;
		else
			out[o++] = p.p[j];
	}
	if (!drop || j >= p.n || (p.p[j] != ')' && p.p[j] != ':'))
		return false;
	if (out[o - 1] == '-')   /* nothing left to turn off */
		o--;
	out[o++] = p.p[j];
	out[o] = '\0';
	if (strcmp(out, "(?)") == 0)
		out[0] = '\0';
	*skip = j + 1 - (k - 2);
	return true;
}

/* Whether p.p[i] ('{') opens a capture template "%{NAME}", which
 * SpamAssassin escapes before Perl sees it (its parse_captures). */
static bool template_at(struct sl p, size_t i)
{
	return i > 0 && p.p[i - 1] == '%' && (i < 2 || p.p[i - 2] != '\\') &&
	       i + 1 < p.n && p.p[i + 1] >= 'A' && p.p[i + 1] <= 'Z';
}

/* Whether a quantifier PCRE2 reads as one starts at p ('{'): {n},
 * {n,} or {n,m}. */
static bool pcre2_quantifier(const char *p, const char *e)
{
	const char *q = p + 1, *d = q;
	while (q < e && *q >= '0' && *q <= '9')
		q++;
	if (q == d)
		return false;
	if (q < e && *q == ',')
		for (q++; q < e && *q >= '0' && *q <= '9';)
			q++;
	return q < e && *q == '}';
}

/* A number of a quantifier's braces: digits at p, n of them (0: none,
 * which reads as dflt). */
static unsigned long quant_number(const char *p, size_t n, unsigned long dflt)
{
	unsigned long v = 0;
	if (n == 0)
		return dflt;
	for (size_t k = 0; k < n && v < 1000000; k++)
		v = v * 10 + (unsigned long)(p[k] - '0');
	return v;
}

/* What Perl 5.36 refuses or warns about in the quantifier whose '{' is
 * p.p[i] (either spelling), as SpamAssassin then refuses the rule: a
 * number with a leading zero ("Invalid quantifier in {,}") or above
 * 65534, and a '?' after a fixed count, {n} or {n,n} ("Useless use of
 * greediness modifier"; under /x blanks may stand between). The
 * message, or NULL. */
static const char *quantifier_fault(struct sl p, size_t i, bool x)
{
	const char *e = p.p + p.n, *q = p.p + i + 1, *d[2] = { NULL, NULL };
	size_t n[2] = { 0, 0 };
	bool comma = false;
	for (int k = 0; k < 2; k++) {
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		for (d[k] = q; q < e && *q >= '0' && *q <= '9';)
			q++;
		n[k] = (size_t)(q - d[k]);
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if (k == 1 || q >= e || *q != ',')
			break;
		comma = true;
		q++;
	}
	for (int k = 0; k < 2; k++)
		if (n[k] > 1 && d[k][0] == '0')
			return "a quantifier's number with a leading zero: Perl "
			       "refuses it (\"Invalid quantifier in {,}\") and so "
			       "does SpamAssassin";
	unsigned long lo = quant_number(d[0], n[0], 0),
	              hi = comma ? quant_number(d[1], n[1], ULONG_MAX) : lo;
	if (lo > 65534 || (hi != ULONG_MAX && hi > 65534))
		return "a quantifier above 65534: Perl refuses it (\"Quantifier "
		       "in {,} bigger than 65534\") and so does SpamAssassin";
	for (q++; x && q < e && isspace((unsigned char)*q);)
		q++;
	if (lo == hi && q < e && *q == '?')
		return "'?' after a fixed count: Perl warns \"Useless use of "
		       "greediness modifier '?'\" and SpamAssassin refuses the "
		       "rule";
	return NULL;
}

/* Whether the bytes before p.p[k] are an odd run of backslashes (p.p[k]
 * escaped). */
static bool escaped(struct sl p, size_t k)
{
	size_t n = 0;
	while (k > n && p.p[k - n - 1] == '\\')
		n++;
	return n % 2 == 1;
}

/* Whether the flags of a group "(?FLAGS)" or "(?FLAGS:" starting at
 * p.p[k] turn /x on. */
static bool flags_set_x(struct sl p, size_t k)
{
	for (; k < p.n && (isalpha((unsigned char)p.p[k]) || p.p[k] == '^');
	     k++)
		if (p.p[k] == 'x')
			return true;
	return false;
}

/* Whether a quantifier ends at p.p[i - 1] (*, +, ?, their lazy and
 * possessive forms, or {n,m}): a '{' after one is literal text to Perl,
 * without a warning (audit21 H1: function\s*{ was refused). */
static bool after_quantifier(struct sl p, size_t i)
{
	char c = p.p[i - 1];
	if ((c == '*' || c == '+' || c == '?') && !escaped(p, i - 1))
		return !(c == '?' && i >= 2 && p.p[i - 2] == '(');
	if (c != '}' || escaped(p, i - 1))
		return false;
	size_t k = i - 1;
	while (k > 0 && p.p[k - 1] != '{')
		k--;
	char q[48];
	size_t skip;
	/* the braces of an escape (\x{41}, \p{L}) are no quantifier */
	bool escape_braces = k > 2 && strchr("xopPNgk", p.p[k - 2]) != NULL &&
	                     escaped(p, k - 2);
	return k > 1 && !escaped(p, k - 1) && !escape_braces &&
	       (pcre2_quantifier(p.p + k - 1, p.p + i) ||
	        perl_quantifier(p.p + k - 1, p.p + i, q, sizeof q, &skip));
}

/* Whether something a quantifier can follow ends at p.p[i - 1]: not the
 * start, '|', '(', '^' at the start, a flag group "(?i)" or a group's
 * opening "(?:", "(?=", "(?!", "(?>", "(?<=", "(?<!" (a '{' there is
 * literal text, which Perl takes without a warning). */
static bool follows_atom(struct sl p, size_t i)
{
	static const char *const opens[] = { "(?:", "(?=", "(?!", "(?>",
	                                      "(?<=", "(?<!" };
	if (i == 0 || p.p[i - 1] == '|' || p.p[i - 1] == '(' ||
	    (i == 1 && p.p[0] == '^') || after_quantifier(p, i))
		return false;
	if (p.p[i - 1] == ')') {   /* "(?flags)" */
		size_t k = i - 1;
		while (k > 0 && (isalpha((unsigned char)p.p[k - 1]) ||
		                 p.p[k - 1] == '-' || p.p[k - 1] == '^'))
			k--;
		if (k >= 2 && p.p[k - 1] == '?' && p.p[k - 2] == '(')
			return false;
	}
	for (size_t k = 0; k < sizeof opens / sizeof opens[0]; k++) {
		size_t n = strlen(opens[k]);
		if (i >= n && memcmp(p.p + i - n, opens[k], n) == 0)
			return false;
	}
	return true;
}

/* p with its variable-length lookbehinds as alternations of fixed
 * lengths (perlre_lookbehind_expand(); audit23 L2: (?<=https?://) was a
 * PCRE2 error). 0, or -1 out of memory. */
static int lookbehinds_fixed(struct loader *L, struct sl *p, bool x)
{
	size_t need = perlre_lookbehind_expand(p->p, p->n, x, NULL, 0);
	if (need == 0)
		return 0;
	char *e = abuf(L, need + 1);
	if (e == NULL)
		return -1;
	(void)perlre_lookbehind_expand(p->p, p->n, x, e, need);
	e[need] = '\0';
	*p = (struct sl){ e, need };
	return 0;
}

/* A pattern with a group name used twice, as Perl allows it: "(?J)"
 * before it, PCRE2's option for that. 0, or -1 out of memory. */
static int dup_names_allowed(struct loader *L, struct sl *p)
{
	if (!perlre_dup_names(p->p, p->n))
		return 0;
	char *d = abuf(L, p->n + 5);
	if (d == NULL)
		return -1;
	memcpy(d, "(?J)", 4);
	memcpy(d + 4, p->p, p->n);
	d[p->n + 4] = '\0';
	*p = (struct sl){ d, p->n + 4 };
	return 0;
}

/* Whether p.p[k..] is "{Lu}", "{Ll}" or "{Lt}": a property of one case,
 * which Perl's /i widens to every cased letter. */
static bool cased_property(struct sl p, size_t k)
{
	return k + 4 <= p.n && p.p[k] == '{' && p.p[k + 1] == 'L' &&
	       strchr("ult", p.p[k + 2]) != NULL && p.p[k + 2] != '\0' &&
	       p.p[k + 3] == '}';
}

/* Writes q for p.p[i .. i + skip) into the rewritten pattern *d (made
 * on the first call; dn bytes written, p.p[from..i) not yet). */
static int rewrite(struct loader *L, struct sl p, char **d, size_t *dn,
                   size_t *from, size_t i, const char *q, size_t skip)
{
	/* at most 3 bytes for 1: ^? is (?:^)? */
	if (*d == NULL && (*d = abuf(L, 3 * p.n + 1)) == NULL)
		return -1;
	memcpy(*d + *dn, p.p + *from, i - *from);
	*dn += i - *from;
	memcpy(*d + *dn, q, strlen(q));
	*dn += strlen(q);
	*from = i + skip;
	return 0;
}

/* "{U+hh}" at p.p[i], the rest of a \N{U+hh} naming a code point
 * below 0x100 (Perl's one byte on SpamAssassin's byte strings), which
 * PCRE2 refuses outside UTF mode: written as \x{hh} into q. Returns the
 * length read after the 'N', or 0 (another \N{...}: left to PCRE2). */
static size_t named_code_point(struct sl p, size_t i, char *q, size_t qn)
{
	if (i + 4 > p.n || memcmp(p.p + i, "{U+", 3) != 0)
		return 0;
	size_t k = i + 3;
	unsigned long v = 0;
	while (k < p.n && k < i + 3 + 8 && isxdigit((unsigned char)p.p[k]))
		v = v * 16 + (unsigned long)(isdigit((unsigned char)p.p[k]) ?
		    p.p[k] - '0' : (tolower((unsigned char)p.p[k]) - 'a' + 10)),
		k++;
	if (k == i + 3 || k >= p.n || p.p[k] != '}' || v > 0xff)
		return 0;
	snprintf(q, qn, "\\x{%02lx}", v);
	return k + 1 - i;
}

/* Pattern p as PCRE2 10.42 reads what Perl 5.36 (so SpamAssassin on
 * Debian 12) reads (audit20 M3): Perl 5.34+ quantifiers rewritten
 * (perl_quantifier()); "\b{...}" and "\B{...}", which SpamAssassin
 * refuses, refused, and so are the forms Perl warns about, as
 * SpamAssassin turns a warning into an invalid rule: a literal '{' where
 * a quantifier could stand, \Q and \E. Escapes and classes are passed
 * over (a rule line has no unescaped '#', so no comments). *out is p
 * itself when nothing changed. -1 after a diagnostic. */
static int perl_pattern(struct loader *L, const char *rule, struct sl p,
                        uint32_t o, struct sl *out)
{
	char *d = NULL;   /* the rewritten pattern */
	size_t from = 0, dn = 0, at0;
	bool x = o & PCRE2_EXTENDED;   /* blanks are no atoms */
	if (lookbehinds_fixed(L, &p, x) != 0)
		return -1;
	*out = p;
	const char *zl = perlre_zero_length_fault(p.p, p.n, x, &at0);
	if (zl != NULL) {
		DIAG(L, RS_DIAG_ERROR, rule, "%s (at offset %zu)", zl, at0);
		return -1;
	}
	for (size_t i = 0; i < p.n; i++) {
		char c = p.p[i], q[48];
		size_t skip = perlre_quantified_assertion(p.p, p.n, i, x);
		if (skip > 0) {   /* \b? as (?:\b)?, which PCRE2 takes */
			snprintf(q, sizeof q, "(?:%.*s)", (int)skip, p.p + i);
			if (rewrite(L, p, &d, &dn, &from, i, q, skip) != 0)
				return -1;
			i += skip - 1;
			continue;
		}
		/* under /x a '{' stands where the last non-blank ends */
		size_t at = i;
		while (x && at > 0 && isspace((unsigned char)p.p[at - 1]))
			at--;
		if (c == '(' && i + 2 < p.n && p.p[i + 1] == '?')
			x = x || flags_set_x(p, i + 2);
		if (c == '\\' && i + 1 < p.n) {
			char e = p.p[++i];
			if ((e == 'b' || e == 'B') && i + 1 < p.n &&
			    p.p[i + 1] == '{') {
				DIAG(L, RS_DIAG_ERROR, rule, "\\%c{...} is not "
				     "supported (SpamAssassin refuses it too)", e);
				return -1;
			}
			if ((o & PCRE2_CASELESS) && (e == 'p' || e == 'P') &&
			    cased_property(p, i + 1)) {
				/* Perl's /i: \p{Lu} is any cased letter (audit24
				 * L7); PCRE2 keeps the case */
				snprintf(q, sizeof q, "\\%c{L&}", e);
				if (rewrite(L, p, &d, &dn, &from, i - 1, q, 6) != 0)
					return -1;
				i += 4;
				continue;
			}
			size_t nl = e == 'N' ? named_code_point(p, i + 1, q,
			                                        sizeof q) : 0;
			if (nl > 0) {   /* \N{U+41}: PCRE2 only in UTF mode */
				if (rewrite(L, p, &d, &dn, &from, i - 1, q,
				            nl + 2) != 0)
					return -1;
				i += nl;
				continue;
			}
			if (strchr("xNopPgk", e) != NULL && i + 1 < p.n &&
			    p.p[i + 1] == '{') {   /* \x{2c}, \p{L}: its own */
				const char *r = memchr(p.p + i, '}', p.n - i);
				i = r ? (size_t)(r - p.p) : p.n;
				continue;
			}
			if (e == 'Q' || e == 'E') {   /* string escapes in Perl */
				DIAG(L, RS_DIAG_ERROR, rule, "\\%c: Perl warns "
				     "\"Unrecognized escape \\%c passed through\" "
				     "and SpamAssassin refuses the rule", e, e);
				return -1;
			}
		} else if (c == '{' && at > 0 && after_quantifier(p, at) &&
		           perl_quantifier(p.p + i, p.p + p.n, q, sizeof q,
		                           &skip)) {
			/* a{,2}{,3}: PCRE2 10.42 would read the second as text */
			DIAG(L, RS_DIAG_ERROR, rule, "nested quantifiers: Perl "
			     "and SpamAssassin refuse the rule");
			return -1;
		} else if (c == '{' && follows_atom(p, at) &&
		           (pcre2_quantifier(p.p + i, p.p + p.n) ||
		            perl_quantifier(p.p + i, p.p + p.n, q, sizeof q,
		                            &skip)) &&
		           quantifier_fault(p, i, x) != NULL) {
			DIAG(L, RS_DIAG_ERROR, rule, "%s",
			     quantifier_fault(p, i, x));
			return -1;
		} else if (c == '{' && follows_atom(p, at) && !template_at(p, i) &&
		           !pcre2_quantifier(p.p + i, p.p + p.n) &&
		           !perl_quantifier(p.p + i, p.p + p.n, q, sizeof q,
		                            &skip)) {
			/* audit20 M7: {{first_name}}, "Dear {NAME}" */
			DIAG(L, RS_DIAG_ERROR, rule, "a literal '{' here: Perl "
			     "warns \"Unescaped left brace in regex is passed "
			     "through\" and SpamAssassin refuses the rule (write "
			     "\\{)");
			return -1;
		} else if (c == '[') {
			i = perlre_class_end(p.p, p.n, i);
		} else if ((c == '(' && i + 1 < p.n && p.p[i + 1] == '?' &&
		            inline_charset(p, i + 2, q, sizeof q, &skip)) ||
		           /* after a leading ^ too: ^{,3} */
		           (c == '{' && (follows_atom(p, at) ||
		                         (at == 1 && p.p[0] == '^')) &&
		            perl_quantifier(p.p + i, p.p + p.n, q, sizeof q,
		                            &skip))) {
			if (rewrite(L, p, &d, &dn, &from, i, q, skip) != 0)
				return -1;
			i += skip - 1;
		}
	}
	if (d != NULL) {
		memcpy(d + dn, p.p + from, p.n - from);
		dn += p.n - from;
		d[dn] = '\0';
		*out = (struct sl){ d, dn };
	}
	return dup_names_allowed(L, out);
}

static int parse_regex(struct loader *L, struct sl nm, struct sl v,
                       struct sl *pat, uint32_t *options)
{
#define rule name_str(L, nm)
	size_t open;
	char delim;
	if (v.n == 0) {
		DIAG(L, RS_DIAG_ERROR, rule, "missing pattern: expected "
		     "/pattern/modifiers");
		return -1;
	}
	if (v.p[0] == '/') {
		open = 1;
		delim = '/';
	} else if (v.p[0] == 'm' || (v.n > 1 && v.p[0] == 'q' &&
	                             v.p[1] == 'r')) {
		size_t k = v.p[0] == 'm' ? 1 : 2;
		char c = k < v.n ? v.p[k] : '\0';
		switch (c) {
		case '{': delim = '}'; break;
		case '(': delim = ')'; break;
		case '<': delim = '>'; break;
		case '[': delim = ']'; break;
		default: delim = c; break;
		}
		if (k >= v.n || is_word(c) || is_sp(c) || c == '\0') {
			DIAG(L, RS_DIAG_ERROR, rule, "missing regexp delimiters "
			     "in '%.*s': expected /pattern/ or m{pattern}",
			     snip(v), v.p);
			return -1;
		}
		if (c == '\\') {
			DIAG(L, RS_DIAG_ERROR, rule,
			     "backslash is not allowed as regexp delimiter");
			return -1;
		}
		open = k + 1;
	} else {
		DIAG(L, RS_DIAG_ERROR, rule, "missing regexp delimiters in "
		     "'%.*s': expected /pattern/ or m{pattern}", snip(v), v.p);
		return -1;
	}
	/* The closing delimiter is followed only by modifier letters
	 * ([a-df-z]: "e" is never accepted). */
	size_t e = v.n;
	while (e > open && v.p[e - 1] >= 'a' && v.p[e - 1] <= 'z' &&
	       v.p[e - 1] != 'e')
		e--;
	if (e <= open || v.p[e - 1] != delim) {
		DIAG(L, RS_DIAG_ERROR, rule, "missing closing delimiter '%c' "
		     "or trailing garbage in '%.*s' (expected only modifiers "
		     "i, m, s, x after it)", delim, snip(v), v.p);
		return -1;
	}
	uint32_t o = 0;
	for (size_t i = e; i < v.n; i++) {
		switch (v.p[i]) {
		case 'i': o |= PCRE2_CASELESS; break;
		case 'm': o |= PCRE2_MULTILINE; break;
		case 's': o |= PCRE2_DOTALL; break;
		case 'x': o |= PCRE2_EXTENDED; break;
		/* Perl's /n (no numbered captures), and /a, /p, which change
		 * nothing for SpamAssassin's byte patterns (audit20 L6) */
		case 'n': o |= PCRE2_NO_AUTO_CAPTURE; break;
		case 'a': case 'p': break;
		default:
			DIAG(L, RS_DIAG_ERROR, rule, "unsupported regexp "
			     "modifier '%c' (expected i, m, s, x, n, a or p)",
			     v.p[i]);
			return -1;
		}
	}
	struct sl p = { v.p + open, e - 1 - open };
	if (sl_find(p, 0, "(?{", 3) != NULL || sl_find(p, 0, "(??{", 4)) {
		DIAG(L, RS_DIAG_ERROR, rule,
		     "code blocks (?{...}) are not allowed in patterns");
		return -1;
	}
	/* An unescaped delimiter inside (bracket pairs excepted, which
	 * nest legitimately) means the pattern ended earlier than the
	 * writer thought. */
	if (delim != '}' && delim != ')' && delim != ']') {
		bool esc = false;
		for (size_t i = 0; i < p.n; i++) {
			if (p.p[i] == '\\' && !esc) {
				if (i + 1 < p.n && p.p[i + 1] == '\\') {
					i++;
					continue;
				}
				esc = true;
				continue;
			}
			if (p.p[i] == delim && !esc) {
				DIAG(L, RS_DIAG_ERROR, rule, "unescaped delimiter "
				     "'%c' inside the pattern '%.*s' (missing "
				     "backslash or trailing garbage?)", delim,
				     snip(p), p.p);
				return -1;
			}
			esc = false;
		}
	}
	if (perl_pattern(L, rule, p, o, &p) != 0)
		return -1;
#undef rule
	*pat = p;
	*options = o;
	return 0;
}

static void set_pattern(struct loader *L, struct rs_rule *r, struct sl p,
                        uint32_t o)
{
	r->pattern = astr(L, p.p, p.n);
	r->pattern_len = r->pattern != NULL ? p.n : 0;
	r->pcre2_options = o;
}

#define EVAL_ARGS "the arguments 'quoted', \"quoted\" or of " \
	"[0-9.:A-Za-z-], separated by commas"

static bool eval_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\v';
}

static bool eval_bare(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == ':' || c == '-';
}

/* Whether p[i..len) is blanks then a comma or the end; *next: past the
 * comma and the blanks after it. */
static bool eval_arg_ends(const char *p, size_t len, size_t i, size_t *next)
{
	while (i < len && eval_blank(p[i]))
		i++;
	if (i < len && p[i] != ',')
		return false;
	if (i < len)
		for (i++; i < len && eval_blank(p[i]); i++)
			;
	*next = i;
	return true;
}

int ruleset_eval_arg(const char *p, size_t len, size_t *pos,
                     const char **arg, size_t *arg_len)
{
	size_t i = *pos;
	while (i < len && eval_blank(p[i]))
		i++;
	if (i == len)
		return 0;   /* the end, or a list of blanks only */
	size_t a = i, b, next;
	if (p[i] == '\'' || p[i] == '"') {
		/* the first closing quote the rest of the item accepts */
		for (a = b = i + 1; b < len; b++)
			if (p[b] == p[i] && eval_arg_ends(p, len, b + 1, &next))
				break;
		if (b == len)
			return -1;
	} else {
		for (b = i; b < len && eval_bare(p[b]); b++)
			;
		if (b == a || !eval_arg_ends(p, len, b, &next))
			return -1;
	}
	*arg = p + a;
	*arg_len = b - a;
	*pos = next;
	return 1;
}

bool ruleset_eval_args_ok(const char *eval)
{
	const char *open = eval != NULL ? strchr(eval, '(') : NULL;
	size_t n = open != NULL ? strlen(open) : 0, pos = 0, len;
	const char *a;
	int rc;
	if (n < 2 || open[n - 1] != ')')
		return false;
	while ((rc = ruleset_eval_arg(open + 1, n - 2, &pos, &a, &len)) == 1)
		;
	return rc == 0;
}

/* "eval:fn(args)": SpamAssassin accepts \w+\(.*\) (its argument list
 * is read when the rules are finished, ruleset_eval_args_ok()). */
static bool valid_eval(struct sl f)
{
	size_t i = 0;
	while (i < f.n && is_word(f.p[i]))
		i++;
	return i > 0 && i < f.n && f.p[i] == '(' && f.p[f.n - 1] == ')';
}

static void define_eval(struct loader *L, struct sl name, struct sl call,
                        enum rs_type on)
{
	long i = rule_get(L, name);
	if (i < 0)
		return;
	struct rs_rule *r = rule_define(L, i, RS_EVAL);
	r->eval = astr(L, call.p, call.n);
	r->eval_on = on;
	L->rs->aux[i].from_directive = on == RS_EVAL;
}

/* ------------------------------------------------------------------ */
/* rule lines */

/* Whether PCRE2 refuses pattern pat with options o: its message into
 * msg (cap bytes), the offset into *off. */
static bool pcre2_refuses(struct sl pat, uint32_t o, PCRE2_UCHAR *msg,
                          size_t cap, size_t *off)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat.p, pat.n, o, &ec, &eo,
	                              NULL);
	if (c != NULL) {
		pcre2_code_free(c);
		return false;
	}
	if (pcre2_get_error_message(ec, msg, cap) < 0)
		strcpy((char *)msg, "invalid pattern");
	*off = (size_t)eo;
	return true;
}

/* Whether a redefinition of rule nm with pattern pat is refused because
 * PCRE2 cannot compile it: an earlier valid definition then stays, as
 * SpamAssassin checks a pattern before it replaces a rule (audit21 M4:
 * one mistyped override lost the stock DEAR_FRIEND). A first definition
 * goes through and is reported when compiled, as before; a capture
 * template (%{NAME}) is compiled only with its values. */
static bool keeps_earlier(struct loader *L, struct sl nm, struct sl pat,
                          uint32_t o)
{
	long i = rule_lookup(L->rs, nm.p, nm.n);
	const struct rs_rule *old = i >= 0 ? &L->rs->rules[i] : NULL;
	if (old == NULL || !L->rs->aux[i].defined ||
	    old->type == RS_UNDEFINED || sl_find(pat, 0, "%{", 2) != NULL)
		return false;
	PCRE2_UCHAR msg[160];
	size_t eo;
	if (!pcre2_refuses(pat, o, msg, sizeof msg, &eo))
		return false;
	DIAG(L, RS_DIAG_ERROR, old->name, "rule %.*s: PCRE2 error at offset "
	     "%zu: %s; the definition at %s:%u stays, as in SpamAssassin",
	     snip(nm), nm.p, eo, (const char *)msg,
	     old->file ? old->file : "?", old->line);
	return true;
}


static const struct {
	const char *name;
	unsigned bit;
} hdr_mod_names[] = {
	{ "raw", RS_HDR_RAW },     { "addr", RS_HDR_ADDR },
	{ "name", RS_HDR_NAME },   { "host", RS_HDR_HOST },
	{ "domain", RS_HDR_DOMAIN }, { "ip", RS_HDR_IP },
	{ "revip", RS_HDR_REVIP }, { "first", RS_HDR_FIRST },
	{ "last", RS_HDR_LAST },
};

/* Strips "  [if-unset: TEXT]" from the end of v. */
static struct sl cut_if_unset(struct sl v, struct sl *unset)
{
	unset->p = NULL;
	unset->n = 0;
	if (v.n == 0 || v.p[v.n - 1] != ']')
		return v;
	const char *q = NULL;
	for (size_t from = 0;
	     (q = sl_find(v, from, "[if-unset:", 10)) != NULL;
	     from = (size_t)(q - v.p) + 1) {
		size_t k = (size_t)(q - v.p);
		if (k == 0 || !is_sp(v.p[k - 1]))
			continue;
		size_t t = k + 10, ws = t;
		while (t < v.n - 1 && is_sp(v.p[t]))
			t++;
		if (t == ws || t >= v.n - 1)
			continue;
		unset->p = v.p + t;
		unset->n = v.n - 1 - t;
		while (k > 0 && is_sp(v.p[k - 1]))
			k--;
		v.n = k;
		return v;
	}
	return v;
}

static void do_header(struct loader *L, struct sl v, bool mime)
{
	const char *key = mime ? "mimeheader" : "header";
	struct sl rest, nm;
	if (!rule_arg(L, key, v, &nm, &rest))
		return;
#define RN name_str(L, nm)
	if (rest.n == 0) {
		DIAG(L, RS_DIAG_ERROR, RN, "%s: expected HEADER =~ "
		     "/pattern/ after the rule name", key);
		return;
	}
	if (!mime && (sl_prefix(rest, "eval:") || sl_prefix(rest, "rbleval:"))) {
		struct sl f = rest;
		size_t skip = rest.p[0] == 'e' ? 5 : 8;
		f.p += skip;
		f.n -= skip;
		if (!valid_eval(f)) {
			DIAG(L, RS_DIAG_ERROR, RN, "header: invalid eval call "
			     "'%.*s' (expected function(args))", snip(f), f.p);
			return;
		}
		define_eval(L, nm, f, RS_HEADER);
		return;
	}
	if (!mime && sl_prefix(rest, "exists:")) {
		struct sl h = { rest.p + 7, rest.n - 7 };
		if (h.n > 0 && h.p[h.n - 1] == ':')
			h.n--;
		bool ok = h.n > 0;
		for (size_t k = 0; k < h.n; k++)
			if (!is_word(h.p[k]) && h.p[k] != '.' && h.p[k] != '-')
				ok = false;
		if (!ok) {
			DIAG(L, RS_DIAG_ERROR, RN, "header: invalid header "
			     "name in '%.*s' (expected exists:Header-Name)",
			     snip(rest), rest.p);
			return;
		}
		long i = rule_get(L, nm);
		if (i < 0)
			return;
		struct rs_rule *r = rule_define(L, i, RS_HEADER);
		r->header = astr(L, h.p, h.n);
		r->exists = true;
		return;
	}
	/* HDR[:mod[:mod]] then =~ or !~ */
	size_t k = 0;
	if (mime) {
		while (k < rest.n && rest.p[k] != ':' && !is_sp(rest.p[k]) &&
		       rest.p[k] != '=' && rest.p[k] != '!')
			k++;
	} else {
		while (k < rest.n && (is_word(rest.p[k]) || rest.p[k] == '.' ||
		                      rest.p[k] == '-'))
			k++;
	}
	struct sl hdr = { rest.p, k };
	unsigned mods = 0;
	while (k < rest.n && rest.p[k] == ':') {
		size_t m = ++k;
		while (k < rest.n && is_word(rest.p[k]))
			k++;
		struct sl mod = { rest.p + m, k - m };
		if (mod.n == 0)
			continue; /* "Subject:" = "Subject" */
		unsigned bit = 0;
		for (size_t t = 0; t < sizeof hdr_mod_names /
		                       sizeof hdr_mod_names[0]; t++)
			if (sl_eq(mod, hdr_mod_names[t].name))
				bit = hdr_mod_names[t].bit;
		if (bit == 0 || (mime && bit != RS_HDR_RAW)) {
			DIAG(L, RS_DIAG_ERROR, RN, "%s: unknown header "
			     "modifier ':%.*s' (expected %s)", key, snip(mod),
			     mod.p, mime ? ":raw" : ":raw, :addr, :name, :host, "
			     ":domain, :ip, :revip, :first or :last");
			return;
		}
		mods |= bit;
	}
	while (k < rest.n && is_sp(rest.p[k]))
		k++;
	if (hdr.n == 0 || k + 1 >= rest.n || rest.p[k + 1] != '~' ||
	    (rest.p[k] != '=' && rest.p[k] != '!')) {
		DIAG(L, RS_DIAG_ERROR, RN, "%s: expected HEADER =~ /pattern/ "
		     "or HEADER !~ /pattern/, got '%.*s'", key, snip(rest),
		     rest.p);
		return;
	}
	bool neg = rest.p[k] == '!';
	struct sl re = { rest.p + k + 2, rest.n - k - 2 };
	re = sl_trim(re);
	struct sl unset;
	re = cut_if_unset(re, &unset);
	struct sl pat;
	uint32_t o;
	if (parse_regex(L, nm, re, &pat, &o) != 0 ||
	    keeps_earlier(L, nm, pat, o))
		return;
#undef RN
	long i = rule_get(L, nm);
	if (i < 0)
		return;
	struct rs_rule *r = rule_define(L, i, mime ? RS_MIMEHEADER : RS_HEADER);
	r->header = astr(L, hdr.p, hdr.n);
	r->hdr_mods = mods;
	r->negate = neg;
	if (unset.p != NULL)
		r->if_unset = astr(L, unset.p, unset.n);
	set_pattern(L, r, pat, o);
}

static void do_regex_rule(struct loader *L, const char *key, enum rs_type t,
                          struct sl v)
{
	struct sl rest, nm;
	if (!rule_arg(L, key, v, &nm, &rest))
		return;
	if (sl_prefix(rest, "eval:")) {
		struct sl f = { rest.p + 5, rest.n - 5 };
		if (!valid_eval(f)) {
			DIAG(L, RS_DIAG_ERROR, name_str(L, nm), "%s: invalid "
			     "eval call '%.*s' (expected function(args))", key,
			     snip(f), f.p);
			return;
		}
		define_eval(L, nm, f, t);
		return;
	}
	struct sl pat;
	uint32_t o;
	if (parse_regex(L, nm, rest, &pat, &o) != 0 ||
	    keeps_earlier(L, nm, pat, o))
		return;
	long i = rule_get(L, nm);
	if (i >= 0)
		set_pattern(L, rule_define(L, i, t), pat, o);
}

/* ------------------------------------------------------------------ */
/* uri_detail (URIDetail.pm) */

static const char *const ud_keys[RS_UD_NKEYS] = {
	[RS_UD_RAW] = "raw", [RS_UD_TYPE] = "type",
	[RS_UD_CLEANED] = "cleaned", [RS_UD_TEXT] = "text",
	[RS_UD_DOMAIN] = "domain", [RS_UD_HOST] = "host",
};

/* Where the regex of a condition at v.p[i] ends as URIDetail's
 * (/.*?/|m(\W).*?\4)[imsx]*(?=\s|$) ends it: at the first closing
 * delimiter (the opening one again after "m") followed by modifiers
 * i, m, s, x and a blank or the end of the line; 0 when none does. */
static size_t ud_regex_end(struct sl v, size_t i)
{
	size_t k = i + 1;
	char close = '/';
	if (i < v.n && v.p[i] == 'm' && i + 1 < v.n && !is_word(v.p[i + 1]))
		close = v.p[k++];
	else if (i >= v.n || v.p[i] != '/')
		return 0;
	for (; k < v.n; k++) {
		if (v.p[k] != close)
			continue;
		size_t e = k + 1;
		while (e < v.n && memchr("imsx", v.p[e], 4) != NULL)
			e++;
		if (e == v.n || isspace((unsigned char)v.p[e]))
			return e;
	}
	return 0;
}

/* The next condition of v from *at, as URIDetail finds them
 * (\b(\w+)\b\s*([=!]~)\s*REGEX, globally: what lies between them is
 * passed over): its key, operator and regex; false when none is left. */
static bool ud_next(struct sl v, size_t *at, struct sl *key, bool *negate,
                    struct sl *re)
{
	for (size_t i = *at; i < v.n; i++) {
		if (!is_word(v.p[i]) || (i > 0 && is_word(v.p[i - 1])))
			continue;
		size_t w = i, k;
		while (w < v.n && is_word(v.p[w]))
			w++;
		for (k = w; k < v.n && isspace((unsigned char)v.p[k]); k++)
			;
		if (k + 1 >= v.n || (v.p[k] != '=' && v.p[k] != '!') ||
		    v.p[k + 1] != '~')
			continue;
		*negate = v.p[k] == '!';
		for (k += 2; k < v.n && isspace((unsigned char)v.p[k]); k++)
			;
		size_t e = ud_regex_end(v, k);
		if (e == 0)
			continue;
		*key = (struct sl){ v.p + i, w - i };
		*re = (struct sl){ v.p + k, e - k };
		*at = e;
		return true;
	}
	return false;
}

/* Condition key:negate:regex of uri_detail rule nm into c; false after
 * a diagnostic when SpamAssassin refuses the line for it. */
static bool ud_cond(struct loader *L, struct sl nm, struct sl key,
                    bool negate, struct sl re, struct rs_ud_cond *c)
{
	struct sl pat;
	uint32_t o;
	PCRE2_UCHAR msg[160];
	size_t eo;
	for (int k = 0; k < RS_UD_NKEYS; k++) {
		if (!sl_eq(key, ud_keys[k]))
			continue;
		if (parse_regex(L, nm, re, &pat, &o) != 0)
			return false;
		if (pcre2_refuses(pat, o, msg, sizeof msg, &eo)) {
			DIAG(L, RS_DIAG_ERROR, name_str(L, nm), "uri_detail %.*s: "
			     "%s: PCRE2 error at offset %zu: %s: the line is "
			     "left out", snip(nm), nm.p, ud_keys[k], eo,
			     (const char *)msg);
			return false;
		}
		c[k] = (struct rs_ud_cond){ true, negate, astr(L, pat.p, pat.n),
		                            pat.n, o };
		return c[k].pattern != NULL;
	}
	DIAG(L, RS_DIAG_ERROR, name_str(L, nm), "uri_detail %.*s: unknown key "
	     "'%.*s' (expected raw, type, cleaned, text, domain or host): "
	     "SpamAssassin refuses the line", snip(nm), nm.p, snip(key), key.p);
	return false;
}

/* "uri_detail NAME KEY =~ /re/ KEY !~ /re/ ...": the conditions read
 * before a bad one count for the name, as URIDetail stores each as it
 * reads it, but only a line read to its end (with one at least)
 * defines the rule. */
static void do_uri_detail(struct loader *L, struct sl v)
{
	struct sl nm, rest, key, re;
	if (!rule_arg(L, "uri_detail", v, &nm, &rest))
		return;
	struct rs_ud_cond got[RS_UD_NKEYS] = { 0 };
	size_t at = 0;
	bool negate, any = false, ok = true;
	while (ok && ud_next(rest, &at, &key, &negate, &re))
		any |= ok = ud_cond(L, nm, key, negate, re, got);
	if (ok && !any)
		DIAG(L, RS_DIAG_ERROR, name_str(L, nm), "uri_detail %.*s: no "
		     "condition KEY =~ /regex/ (or !~) in '%.*s': SpamAssassin "
		     "refuses the line", snip(nm), nm.p, snip(rest), rest.p);
	/* the conditions read count for the name even when the line is
	 * refused later on, as URIDetail stores each as it reads it */
	long i = any ? rule_get(L, nm) : -1;
	struct rs_ud_cond *ud = i >= 0 ? L->rs->aux[i].ud : NULL;
	if (i >= 0 && any && ud == NULL &&
	    (ud = (struct rs_ud_cond *)abuf(L, sizeof got)) != NULL) {
		memset(ud, 0, sizeof got);
		L->rs->aux[i].ud = ud;
	}
	if (ud == NULL || !any)
		return;
	for (int k = 0; k < RS_UD_NKEYS; k++)
		if (got[k].set)
			ud[k] = got[k];
	if (ok)
		rule_define(L, i, RS_URI_DETAIL);
}

static int any_name(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	(void)name;
	(void)len;
	return 0;
}

/* rules_matching(GLOB) at s[i] in a meta, as SpamAssassin 4.0's
 * META_RULES_MATCHING_RE reads it: not after a word character, the glob
 * [_a-zA-Z*?][_a-zA-Z0-9*?]{0,127} between the parentheses, blanks
 * around it. Its length (0: none here), the glob in *g. */
static size_t rules_matching_at(const char *s, size_t i, size_t n,
                                struct sl *g)
{
	static const char kw[] = "rules_matching(";
	size_t k = sizeof kw - 1;
	if (n - i < k || memcmp(s + i, kw, k) != 0 ||
	    (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_')))
		return 0;
	for (k += i; k < n && isspace((unsigned char)s[k]); k++)
		;
	size_t g0 = k;
	while (k < n && k - g0 < 128 && (isalnum((unsigned char)s[k]) ||
	                                 strchr("_*?", s[k]) != NULL))
		k++;
	if (k == g0 || isdigit((unsigned char)s[g0]))
		return 0;
	*g = (struct sl){ s + g0, k - g0 };
	while (k < n && isspace((unsigned char)s[k]))
		k++;
	return k < n && s[k] == ')' ? k + 1 - i : 0;
}

/* Whether name matches glob g (? one character, * any run), whole. */
static bool glob_match(struct sl g, const char *name)
{
	if (g.n == 0)
		return *name == '\0';
	if (g.p[0] == '*') {
		for (const char *t = name;; t++) {
			if (glob_match((struct sl){ g.p + 1, g.n - 1 }, t))
				return true;
			if (*t == '\0')
				return false;
		}
	}
	return *name != '\0' && (g.p[0] == '?' || g.p[0] == *name) &&
	       glob_match((struct sl){ g.p + 1, g.n - 1 }, name + 1);
}

/* Meta expression e with each rules_matching(GLOB) replaced as
 * SpamAssassin 4.0 replaces it: " (A+B) ", the names a score or rule
 * line gave (self left out) that match, or " (0) " when none; with
 * self NULL by " 0 ", as its validity check does. A copy in the arena,
 * or e itself when it has none; NULL out of memory. */
static const char *expand_rules_matching(struct loader *L, const char *e,
                                         const char *self)
{
#define PUTS(b, str) strbuf_put((b), (str), strlen(str))
	if (e == NULL || strstr(e, "rules_matching") == NULL)
		return e;
	struct strbuf b = { 0 };
	size_t n = strlen(e);
	for (size_t i = 0; i < n;) {
		struct sl g;
		size_t len = rules_matching_at(e, i, n, &g);
		if (len == 0) {
			strbuf_put(&b, e + i, 1);
			i++;
			continue;
		}
		size_t before = b.len;
		PUTS(&b, self ? " (" : " 0 ");
		for (size_t j = 0; self && j < L->rs->n; j++) {
			const struct rs_rule *r = &L->rs->rules[j];
			if ((r->type != RS_UNDEFINED || r->score_given) &&
			    strcmp(r->name, self) != 0 && glob_match(g, r->name)) {
				if (b.len > before + 2)
					PUTS(&b, "+");
				PUTS(&b, r->name);
			}
		}
		if (self)
			PUTS(&b, b.len > before + 2 ? ") " : "0) ");
		i += len;
	}
	const char *out = b.oom ? NULL : astr(L, b.p, b.len);
	strbuf_free(&b);
	return out;
#undef PUTS
}

/* keeps_earlier() for a meta: a redefinition whose expression does not
 * compile (or divides by zero with its rules 0) is refused and the
 * earlier definition stays, as in SpamAssassin (audit21 M4 rest: a broken
 * meta NO_RELAYS lost the stock rule). */
static bool meta_keeps_earlier(struct loader *L, struct sl nm, struct sl expr)
{
	long i = rule_lookup(L->rs, nm.p, nm.n);
	const struct rs_rule *old = i >= 0 ? &L->rs->rules[i] : NULL;
	if (old == NULL || !L->rs->aux[i].defined || old->type == RS_UNDEFINED)
		return false;
	char err[160] = "";
	/* rules_matching() reads as 0 there, as in SpamAssassin's check */
	const char *e = expand_rules_matching(L, astr(L, expr.p, expr.n), NULL);
	if (e == NULL)
		return false;
	struct rmeta *m = rmeta_compile(e, strlen(e), any_name, NULL, err,
	                                sizeof err);
	bool bad = m == NULL || rmeta_zero_division(m);
	if (m != NULL && bad)
		snprintf(err, sizeof err, "division by zero possible");
	rmeta_free(m);
	if (bad)
		DIAG(L, RS_DIAG_ERROR, old->name, "meta %.*s: %s; the definition "
		     "at %s:%u stays, as in SpamAssassin", snip(nm), nm.p, err,
		     old->file ? old->file : "?", old->line);
	return bad;
}

static void do_meta(struct loader *L, struct sl v)
{
	struct sl rest, nm;
	if (!rule_arg(L, "meta", v, &nm, &rest))
		return;
	if (rest.n == 0) {
		DIAG(L, RS_DIAG_ERROR, name_str(L, nm),
		     "meta: expected an expression after the rule name");
		return;
	}
	if (meta_keeps_earlier(L, nm, rest))
		return;
	long i = rule_get(L, nm);
	if (i < 0)
		return;
	struct rs_rule *r = rule_define(L, i, RS_META);
	r->meta = astr(L, rest.p, rest.n);
}

/* SpamAssassin's number syntax for scores: -?\d+(\.\d+)? */
static bool parse_number(struct sl s, bool allow_plus, bool allow_frac_empty,
                         double *out)
{
	size_t i = 0;
	if (i < s.n && (s.p[i] == '-' || (allow_plus && s.p[i] == '+')))
		i++;
	size_t d = i;
	while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
		i++;
	if (i == d)
		return false;
	if (i < s.n && s.p[i] == '.') {
		size_t f = ++i;
		while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
			i++;
		if (i == f && !allow_frac_empty)
			return false;
	}
	if (i != s.n || s.n > 60)
		return false;
	char tmp[64];
	memcpy(tmp, s.p, s.n);
	tmp[s.n] = '\0';
	*out = strtod(tmp, NULL);
	return isfinite(*out);
}

static void do_score(struct loader *L, struct sl v)
{
	struct sl rest, nm;
	if (!rule_arg(L, "score", v, &nm, &rest))
		return;
	long i = rule_get(L, nm);
	if (i < 0)
		return;
	struct rs_rule *r = &L->rs->rules[i];
	double val[4];
	int n = 0;
	bool relative = false;
	while (rest.n > 0) {
		struct sl w = sl_word(rest, &rest);
		if (n == 4) {
			n = 5;
			break;
		}
		if (w.n >= 2 && w.p[0] == '(' && w.p[w.n - 1] == ')') {
			relative = true;
			w.p++;
			w.n -= 2;
		}
		if (!parse_number(w, false, false, &val[n])) {
			DIAG(L, RS_DIAG_ERROR, r->name, "score: invalid score "
			     "'%.*s' (expected a number such as -1.5)",
			     snip(w), w.p);
			return;
		}
		n++;
	}
	if (n != 1 && n != 4) {
		DIAG(L, RS_DIAG_ERROR, r->name, "score: expected 1 or 4 "
		     "scores after the rule name");
		return;
	}
	if (relative && !r->score_given) {
		DIAG(L, RS_DIAG_ERROR, r->name, "score: relative score "
		     "without a previous score for the rule");
		return;
	}
	for (int k = 0; k < 4; k++) {
		double s = n == 1 ? val[0] : val[k];
		r->score[k] = relative ? r->score[k] + s : s;
	}
	r->score_one_value = n == 1;
	if (!r->score_given) {
		L->rs->aux[i].score_file = L->fs->file;
		L->rs->aux[i].score_line = L->fs->line;
	}
	r->score_given = true;
}

static void do_describe(struct loader *L, struct sl v)
{
	struct sl rest, nm;
	if (!rule_arg(L, "describe", v, &nm, &rest))
		return;
	long i = rule_get(L, nm);
	if (i < 0)
		return;
	if (rest.n == 0) {
		DIAG(L, RS_DIAG_ERROR, L->rs->rules[i].name,
		     "describe: expected a description after the rule name");
		return;
	}
	L->rs->rules[i].describe = astr(L, rest.p, rest.n);
}

static const struct {
	const char *word;
	unsigned bit;
} tflag_words[] = {
	{ "nice", RS_TF_NICE },         { "net", RS_TF_NET },
	{ "learn", RS_TF_LEARN },       { "multiple", RS_TF_MULTIPLE },
	{ "userconf", RS_TF_USERCONF }, { "noautolearn", RS_TF_NOAUTOLEARN },
	{ "publish", RS_TF_PUBLISH },   { "autolearn_force", RS_TF_OTHER },
	{ "noawl", RS_TF_OTHER },       { "nosubject", RS_TF_NOSUBJECT },
	{ "ips_only", RS_TF_OTHER },    { "domains_only", RS_TF_OTHER },
	{ "ns", RS_TF_OTHER },          { "a", RS_TF_OTHER },
	{ "notrim", RS_TF_OTHER },      { "nolog", RS_TF_OTHER },
	{ "autolearn_body", RS_TF_OTHER }, { "autolearn_header", RS_TF_OTHER },
};

static void do_tflags(struct loader *L, struct sl v)
{
	struct sl rest, nm;
	if (!rule_arg(L, "tflags", v, &nm, &rest))
		return;
	long i = rule_get(L, nm);
	if (i < 0)
		return;
	struct rs_rule *r = &L->rs->rules[i];
	if (rest.n == 0) {
		DIAG(L, RS_DIAG_ERROR, r->name,
		     "tflags: expected flags after the rule name");
		return;
	}
	/* Like SpamAssassin, the last tflags line replaces earlier ones. */
	unsigned flags = 0, maxhits = 0;
	struct sl w, words = rest;
	while (words.n > 0) {
		w = sl_word(words, &words);
		if (sl_prefix(w, "maxhits=")) {
			struct sl num = { w.p + 8, w.n - 8 };
			double d;
			/* 0: no limit, as in SpamAssassin (audit20 L3) */
			if (parse_number(num, false, false, &d) && d >= 0 &&
			    d <= 1e6 && d == floor(d)) {
				maxhits = (unsigned)d;
				continue;
			}
			DIAG(L, RS_DIAG_ERROR, r->name, "tflags: invalid "
			     "'%.*s' (expected maxhits=N, N >= 0)", snip(w),
			     w.p);
			continue;
		}
		if (sl_prefix(w, "range=")) /* AskDNS, evaluated elsewhere */
			continue;
		unsigned bit = 0;
		for (size_t t = 0; t < sizeof tflag_words /
		                       sizeof tflag_words[0]; t++)
			if (sl_eq(w, tflag_words[t].word))
				bit = tflag_words[t].bit;
		if (bit == 0)
			DIAG(L, RS_DIAG_WARNING, r->name, "tflags: unknown "
			     "flag '%.*s' (ignored)", snip(w), w.p);
		flags |= bit & ~RS_TF_OTHER;
	}
	r->tflags = flags;
	r->maxhits = maxhits;
	r->tflags_text = astr(L, rest.p, rest.n);
}

static void do_priority(struct loader *L, struct sl v)
{
	struct sl rest, nm;
	if (!rule_arg(L, "priority", v, &nm, &rest))
		return;
	long i = rule_get(L, nm);
	if (i < 0)
		return;
	double d;
	if (!parse_number(rest, true, false, &d) || d != floor(d) ||
	    fabs(d) > 1e9) {
		DIAG(L, RS_DIAG_ERROR, L->rs->rules[i].name, "priority: "
		     "expected an integer, got '%.*s'", snip(rest), rest.p);
		return;
	}
	L->rs->rules[i].priority = (int)d;
}

/* Rule-defining plugin directives: "askdns NAME ..." etc. */
static void do_directive_rule(struct loader *L, const char *key,
                              struct sl line, struct sl v)
{
	struct sl rest, nm;
	if (rule_arg(L, key, v, &nm, &rest))
		define_eval(L, nm, line, RS_EVAL);
}

/* ------------------------------------------------------------------ */
/* if expressions */

struct expr {
	struct loader *L;
	const char *p, *end;
	bool error;
	bool unknown;
};

static void ex_skip(struct expr *x)
{
	while (x->p < x->end && is_sp(*x->p))
		x->p++;
}

static bool ex_accept(struct expr *x, const char *tok)
{
	ex_skip(x);
	size_t n = strlen(tok);
	if ((size_t)(x->end - x->p) >= n && memcmp(x->p, tok, n) == 0) {
		/* "!" must not take the "!" of "!=", "<" not of "<=" ... */
		if (n == 1 && x->p + 1 < x->end && x->p[1] == '=' &&
		    (tok[0] == '!' || tok[0] == '<' || tok[0] == '>' ||
		     tok[0] == '='))
			return false;
		x->p += n;
		return true;
	}
	return false;
}

/* The plugins SpamAssassin 4.0.1 loads by default (the loadplugin
 * lines of Debian's /etc/spamassassin/init.pre and v*.pre), without
 * their common prefix. */
static const char *const sa_default_plugins[] = {
	"AskDNS", "AutoLearnThreshold", "Bayes", "BodyEval", "Check", "DKIM",
	"DMARC", "DNSEval", "FreeMail", "HTMLEval", "HTTPSMismatch", "HashBL",
	"HeaderEval", "ImageInfo", "MIMEEval", "MIMEHeader", "Pyzor", "Razor2",
	"RelayEval", "ReplaceTags", "SPF", "SpamCop", "URIDNSBL", "URIDetail",
	"URIEval", "VBounce", "WLBLEval", "WelcomeListSubject",
};

/* The short name of plugin `name` when SpamAssassin loads it by default
 * ("Dmarc", "WhiteListSubject": their new names), else NULL. */
static const char *sa_default_plugin(struct sl name)
{
	static const char prefix[] = "Mail::SpamAssassin::Plugin::";
	size_t pl = sizeof prefix - 1;
	if (name.n <= pl || memcmp(name.p, prefix, pl) != 0)
		return NULL;
	struct sl s = { name.p + pl, name.n - pl };
	if (sl_eq(s, "Dmarc"))
		return "DMARC";
	if (sl_eq(s, "WhiteListSubject"))
		return "WelcomeListSubject";
	for (size_t i = 0; i < sizeof sa_default_plugins /
	                       sizeof sa_default_plugins[0]; i++)
		if (sl_eq(s, sa_default_plugins[i]))
			return sa_default_plugins[i];
	return NULL;
}

static bool plugin_loaded(struct loader *L, struct sl name)
{
	char buf[256];
	if (name.n >= sizeof buf)
		return false;
	memcpy(buf, name.p, name.n);
	buf[name.n] = '\0';
	/* Renamed plugins, as SpamAssassin maps them. */
	if (strcmp(buf, "Mail::SpamAssassin::Plugin::Dmarc") == 0)
		strcpy(buf, "Mail::SpamAssassin::Plugin::DMARC");
	else if (strcmp(buf, "Mail::SpamAssassin::Plugin::WhiteListSubject") == 0)
		strcpy(buf, "Mail::SpamAssassin::Plugin::WelcomeListSubject");
	/* RaciallyCharged: gone, but "loaded" to 4.0.1's conditions (its
	 * blocks are read; their evals exist nowhere, as there) */
	if (strcmp(buf, "Mail::SpamAssassin::Plugin::ReplaceTags") == 0 ||
	    strcmp(buf, "Mail::SpamAssassin::Plugin::RaciallyCharged") == 0)
		return true;
	return L->opts != NULL && L->opts->plugin_loaded != NULL &&
	       L->opts->plugin_loaded(buf);
}

/* Whether SpamAssassin has plugin `name` loaded, which its conditions
 * test: vigil implements it, SpamAssassin loads it by default, or a
 * loadplugin line loaded it (audit23 L4: `if !plugin(...Razor2)` and
 * the else of `ifplugin ...URIDNSBL` were read in vigil only). */
static bool sa_plugin_loaded(struct loader *L, struct sl name)
{
	return plugin_loaded(L, name) || sa_default_plugin(name) != NULL ||
	       smap_get(&L->plugins, name.p, name.n) != NULL;
}

/* Features SpamAssassin 4.0.1 declares in Mail::SpamAssassin::Conf. */
static const char *const sa_features[] = {
	"feature_originating_ip_headers", "feature_dns_local_ports_permit_avoid",
	"feature_bayes_auto_learn_on_error", "feature_uri_host_listed",
	"feature_yesno_takes_args", "feature_bug6558_free", "feature_edns",
	"feature_dns_query_restriction", "feature_registryboundaries",
	"feature_geodb", "feature_dns_block_rule", "feature_compile_regexp",
	"feature_meta_rules_matching", "feature_subjprefix",
	"feature_bayes_stopwords", "feature_get_host",
	"feature_blocklist_welcomelist", "feature_welcomelist_blocklist",
	"feature_header_address_parser", "feature_local_tests_only",
	"feature_header_first_last", "feature_header_match_many",
	"feature_capture_rules", "has_tflags_nosubject", "has_tflags_nolog",
};

/* The has_* methods SpamAssassin 4.0.1's plugins define (each returns
 * 1), "Plugin has_a has_b ...": what a rule file's `if can(...)` tests. */
static const char *const plugin_has[] = {
	"ASN has_asn_lookup_ipv6 has_asn_geodb has_check_asn has_check_asn_tag",
	"AskDNS has_tag_header",
	"BodyEval has_check_body_length has_plaintext_body_sig_ratio",
	"DKIM has_arc",
	"DNSEval has_tflags_domains_only has_tflags_ips_only",
	"DecodeShortURLs has_short_url has_autoclean has_short_url_code "
	"has_user_agent has_get has_clear has_timeout has_max_redirections "
	"has_short_url_redir",
	"HashBL has_hashbl_bodyre has_hashbl_bodyre_num has_hashbl_emails "
	"has_hashbl_uris has_hashbl_ignore has_hashbl_email_regex "
	"has_hashbl_email_welcomelist has_hashbl_email_whitelist has_hashbl_tag "
	"has_hashbl_sha256 has_hashbl_attachments has_hashbl_email_domain "
	"has_hashbl_email_domain_alias",
	"MIMEEval has_check_for_ascii_text_illegal "
	"has_check_abundant_unicode_ratio has_check_qp_ratio",
	"MIMEHeader has_all_header has_tflags_range has_tflags_concat "
	"has_tflags_multiple has_capture_rules",
	"OLEVBMacro has_olemacro_redirect_uri has_olemacro_mhtml_uri "
	"has_olertfobject",
	"Pyzor has_fork has_perl", "Razor2 has_fork",
	"SPF has_check_for_spf_errors has_check_spf_skipped_noenvfrom",
	"URIDNSBL has_tflags_domains_only has_subtest_for_ranges "
	"has_uridnsbl_for_a has_uridnsbl_a_ns has_tflags_notrim "
	"has_uridnsbl_skip_mailto",
	"URIDetail has_host_key",
};

/* Whether plugin pn ("Mail::SpamAssassin::Plugin::X") defines has_*
 * method m. */
static bool plugin_has_method(struct sl pn, struct sl m)
{
	size_t pre = strlen("Mail::SpamAssassin::Plugin::");
	struct sl x = { pn.p + pre, pn.n - pre };
	for (size_t i = 0; i < sizeof plugin_has / sizeof *plugin_has; i++) {
		struct sl line = { plugin_has[i], strlen(plugin_has[i]) };
		struct sl rest, w = sl_word(line, &rest);
		if (!sl_eq_sl(w, x))
			continue;
		while (rest.n > 0)
			if (sl_eq_sl(sl_word(rest, &rest), m))
				return true;
	}
	return false;
}

/* can(X::m) / has(X::m), as SpamAssassin's cond_clause_can_or_has():
 * the method exists (has), and called without arguments returns true
 * (can: a plugin's has_* flags do; its rule functions do not, so
 * can(...::check_body_length) is false there, audit22 L8). */
static double ex_can(struct expr *x, struct sl arg, bool has)
{
	static const char conf[] = "Mail::SpamAssassin::Conf::";
	static const char plug[] = "Mail::SpamAssassin::Plugin::";
	struct loader *L = x->L;
	if (sl_prefix(arg, conf)) {
		struct sl m = { arg.p + sizeof conf - 1, arg.n - sizeof conf + 1 };
		for (size_t i = 0; i < sizeof sa_features / sizeof sa_features[0];
		     i++)
			if (sl_eq(m, sa_features[i]))
				return 1;
		if (sl_prefix(m, "perl_min_version_"))
			return 1;
		if (sl_prefix(m, "compat_")) {
			struct sl c = { m.p + 7, m.n - 7 };
			return smap_get(&L->compat, c.p, c.n) != NULL;
		}
	} else if (sl_prefix(arg, plug)) {
		/* Methods of a plugin exist when the plugin is loaded. */
		const char *q = NULL;
		for (size_t i = sizeof plug - 1; i + 1 < arg.n; i++)
			if (arg.p[i] == ':' && arg.p[i + 1] == ':')
				q = arg.p + i;
		if (q != NULL) {
			struct sl pn = { arg.p, (size_t)(q - arg.p) };
			struct sl m = { q + 2, (size_t)(arg.p + arg.n - q - 2) };
			if (sl_prefix(m, "has_"))
				return sa_plugin_loaded(L, pn) &&
				       plugin_has_method(pn, m);
			/* the Logger functions every plugin imports, which
			 * return true called without arguments */
			if (sl_eq(m, "dbg") || sl_eq(m, "info"))
				return sa_plugin_loaded(L, pn);
			/* any other method: assumed to exist when loaded */
			return has && sa_plugin_loaded(L, pn);
		}
	}
	x->unknown = true;
	DIAG(L, RS_DIAG_WARNING, NULL, "if: unknown feature '%.*s' "
	     "(taken as false)", snip(arg), arg.p);
	return 0;
}

static double ex_or(struct expr *x);

static double ex_primary(struct expr *x)
{
	ex_skip(x);
	if (x->p >= x->end) {
		x->error = true;
		return 0;
	}
	if (ex_accept(x, "(")) {
		double v = ex_or(x);
		if (!ex_accept(x, ")"))
			x->error = true;
		return v;
	}
	const char *s = x->p;
	if ((*s >= '0' && *s <= '9') || *s == '.') {
		while (x->p < x->end && ((*x->p >= '0' && *x->p <= '9') ||
		                         *x->p == '.'))
			x->p++;
		char tmp[64];
		size_t n = (size_t)(x->p - s);
		if (n >= sizeof tmp) {
			x->error = true;
			return 0;
		}
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char *endp;
		double d = strtod(tmp, &endp);
		if (*endp != '\0')
			x->error = true;
		return d;
	}
	if (!is_word(*s)) {
		x->error = true;
		return 0;
	}
	while (x->p < x->end && (is_word(*x->p) || *x->p == ':'))
		x->p++;
	struct sl w = { s, (size_t)(x->p - s) };
	if (sl_eq(w, "version"))
		return x->L->version;
	if (sl_eq(w, "perl_version"))
		return 5.036;
	if (sl_eq(w, "local_tests_only"))   /* audit22 L8 */
		return x->L->opts != NULL && x->L->opts->local_tests_only;
	bool is_plugin = sl_eq(w, "plugin");
	if (is_plugin || sl_eq(w, "can") || sl_eq(w, "has")) {
		if (!ex_accept(x, "(")) {
			x->error = true;
			return 0;
		}
		ex_skip(x);
		const char *a = x->p;
		while (x->p < x->end && (is_word(*x->p) || *x->p == ':'))
			x->p++;
		struct sl arg = { a, (size_t)(x->p - a) };
		if (arg.n == 0 || !ex_accept(x, ")")) {
			x->error = true;
			return 0;
		}
		return is_plugin ? sa_plugin_loaded(x->L, arg) :
		       ex_can(x, arg, sl_eq(w, "has"));
	}
	x->unknown = true;
	DIAG(x->L, RS_DIAG_WARNING, NULL, "if: unknown name '%.*s' (taken "
	     "as false)", snip(w), w.p);
	return 0;
}

static double ex_unary(struct expr *x)
{
	if (ex_accept(x, "!"))
		return ex_unary(x) == 0;
	if (ex_accept(x, "-"))
		return -ex_unary(x);
	if (ex_accept(x, "+"))
		return ex_unary(x);
	return ex_primary(x);
}

static double ex_mul(struct expr *x)
{
	double v = ex_unary(x);
	for (;;) {
		if (ex_accept(x, "*"))
			v *= ex_unary(x);
		else if (ex_accept(x, "/")) {
			double d = ex_unary(x);
			v = d != 0 ? v / d : 0;
		} else
			return v;
	}
}

static double ex_add(struct expr *x)
{
	double v = ex_mul(x);
	for (;;) {
		if (ex_accept(x, "+"))
			v += ex_mul(x);
		else if (ex_accept(x, "-"))
			v -= ex_mul(x);
		else
			return v;
	}
}

static double ex_rel(struct expr *x)
{
	double v = ex_add(x);
	for (;;) {
		if (ex_accept(x, "<="))
			v = v <= ex_add(x);
		else if (ex_accept(x, ">="))
			v = v >= ex_add(x);
		else if (ex_accept(x, "<"))
			v = v < ex_add(x);
		else if (ex_accept(x, ">"))
			v = v > ex_add(x);
		else
			return v;
	}
}

static double ex_eq(struct expr *x)
{
	double v = ex_rel(x);
	for (;;) {
		if (ex_accept(x, "=="))
			v = v == ex_rel(x);
		else if (ex_accept(x, "!="))
			v = v != ex_rel(x);
		else
			return v;
	}
}

static double ex_and(struct expr *x)
{
	double v = ex_eq(x);
	while (ex_accept(x, "&&")) {
		double w = ex_eq(x);
		v = (v != 0) && (w != 0);
	}
	return v;
}

static double ex_or(struct expr *x)
{
	double v = ex_and(x);
	for (;;) {
		if (ex_accept(x, "||")) {
			double w = ex_and(x);
			v = (v != 0) || (w != 0);
		} else if (ex_accept(x, "^")) {
			double w = ex_and(x);
			v = (v != 0) != (w != 0);
		} else
			return v;
	}
}

/* A token of Parser.pm's lexer (Constants.pm's ARITH_EXPRESSION_LEXER)
 * at s[0..n) SpamAssassin refuses: a number-like run ([-+0-9.]+) that is
 * neither an operator nor a decimal number (3.4.2, 1-1, .5), a one-letter
 * word, a name with stray colons. */
static bool cond_token_bad(const char *s, size_t n, bool number)
{
	static const char *const keywords[] = { "plugin", "can", "has",
		"version", "perl_version", "local_tests_only" };
	if (number) {
		/* [+-]?\d+(\.\d+)? or 1 to 5 of + - . */
		size_t i = (s[0] == '+' || s[0] == '-'), d = i, f;
		while (d < n && isdigit((unsigned char)s[d]))
			d++;
		for (f = d + 1; f < n && isdigit((unsigned char)s[f]);)
			f++;
		bool num = d > i && (d == n || (s[d] == '.' && f > d + 1 && f == n));
		size_t ops = 0;
		while (ops < n && (s[ops] == '+' || s[ops] == '-' || s[ops] == '.'))
			ops++;
		return !num && (n > 5 || ops != n);
	}
	for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++)
		if (strlen(keywords[k]) == n && memcmp(s, keywords[k], n) == 0)
			return false;
	if (n < 2)
		return true;
	/* (\w+::){0,10}\w+ */
	size_t parts = 0;
	for (size_t i = 0; i < n;) {
		size_t w = i;
		while (w < n && is_word(s[w]))
			w++;
		if (w == i)
			return true;
		parts++;
		if (w == n)
			break;
		if (n - w < 3 || s[w] != ':' || s[w + 1] != ':' || s[w + 2] == ':')
			return true;
		i = w + 2;
	}
	return parts > 11;
}

/* Whether SpamAssassin reads condition e: every token its lexer finds
 * passes its check; a diagnostic names the first that does not. (Then it
 * ignores the whole line, audit23 M2.) */
static bool cond_tokens_ok(struct loader *L, struct sl e)
{
	for (size_t i = 0, j; i < e.n; i = j) {
		enum rmeta_lex kind;
		j = rmeta_lex(e.p, e.n, i, &kind);
		if (kind != RMETA_LEX_OTHER &&
		    cond_token_bad(e.p + i, j - i, kind == RMETA_LEX_NUMBER)) {
			DIAG(L, RS_DIAG_ERROR, NULL, "if: SpamAssassin cannot read "
			     "'%.*s' (\"unparseable value\") and ignores the line: "
			     "the lines up to its endif are read, and its else and "
			     "endif count for the enclosing if", (int)(j - i),
			     e.p + i);
			return false;
		}
	}
	return true;
}

static bool eval_cond(struct loader *L, struct sl e)
{
	struct expr x = { L, e.p, e.p + e.n, false, false };
	double v = ex_or(&x);
	ex_skip(&x);
	if (x.error || x.p != x.end) {
		DIAG(L, RS_DIAG_ERROR, NULL, "if: cannot parse the condition "
		     "'%.*s' (taken as false)", snip(e), e.p);
		return false;
	}
	return v != 0;
}

/* ------------------------------------------------------------------ */
/* conditionals */

static void cond_push(struct loader *L, bool truth, bool is_ifplugin)
{
	struct fstate *fs = L->fs;
	if (fs->nconds >= MAX_COND_DEPTH) {
		DIAG(L, RS_DIAG_ERROR, NULL, "conditionals nested deeper than "
		     "%d", MAX_COND_DEPTH);
		return;
	}
	struct cond *c = grow_array(fs->conds, &fs->capconds, fs->nconds + 1,
	                            sizeof *c, &L->rs->oom);
	if (c == NULL)
		return;
	fs->conds = c;
	fs->conds[fs->nconds++] = (struct cond){ fs->line, fs->skip, false,
	                                         is_ifplugin, NULL, false };
	if (!truth)
		fs->skip = true;
}

/* The plugin name of an ifplugin line: the run of name characters it
 * starts with; an empty name when more follows that SpamAssassin's
 * lexer reads (its `plugin (X xyz)` is a Perl error, so false), not
 * what it skips (`X;`). */
static struct sl ifplugin_name(struct sl v)
{
	size_t n = 0;
	while (n < v.n && (is_word(v.p[n]) || v.p[n] == ':'))
		n++;
	for (size_t i = n; i < v.n; i++)
		if (is_word(v.p[i]) || strchr(".+-()|&^!<>*/?:", v.p[i]) != NULL)
			return (struct sl){ v.p, 0 };
	return (struct sl){ v.p, n };
}

/* The truth of an if/ifplugin condition for SpamAssassin (a plugin it
 * loads is loaded, implemented here or not), as its parser caches it: a condition met again (the same line) keeps the truth of
 * its first reading, even after a loadplugin line in between (audit24
 * L1). */
static bool cond_truth(struct loader *L, struct sl key, struct sl v,
                       bool ifplugin, struct sl name)
{
	char k[512];
	int kn = snprintf(k, sizeof k, "%.*s %.*s", (int)key.n, key.p,
	                  (int)v.n, v.p);
	struct smap_ent *e = kn > 0 && (size_t)kn < sizeof k ?
	                     smap_get(&L->cond_cache, k, (size_t)kn) : NULL;
	if (e != NULL)
		return e->val != NULL;
	bool truth;
	if (!ifplugin)
		truth = eval_cond(L, v);
	else if (name.n == 0) {
		DIAG(L, RS_DIAG_WARNING, NULL, "ifplugin: text after the "
		     "plugin name: SpamAssassin's condition fails (taken as "
		     "false): '%.*s'", snip(v), v.p);
		truth = false;
	} else
		truth = sa_plugin_loaded(L, name);
	if (kn > 0 && (size_t)kn < sizeof k &&
	    (e = smap_put(&L->cond_cache, L->rs->arena, k, (size_t)kn)) != NULL)
		e->val = truth ? (void *)1 : NULL;
	return truth;
}

/* Handles if/ifplugin/else/endif; true when the line was one. */
static bool do_conditional(struct loader *L, struct sl key, struct sl v)
{
	struct fstate *fs = L->fs;
	if (sl_eq(key, "endif") || sl_eq(key, "else")) {
		bool is_else = key.n == 4;
		if (v.n != 0) {
			DIAG(L, RS_DIAG_ERROR, NULL, "'%s' must stand alone "
			     "on its line", is_else ? "else" : "endif");
			return true;
		}
		if (fs->nconds == 0) {
			DIAG(L, RS_DIAG_ERROR, NULL, "'%s' without a matching "
			     "'if' or 'ifplugin'", is_else ? "else" : "endif");
			return true;
		}
		struct cond *c = &fs->conds[fs->nconds - 1];
		if (!is_else) {
			fs->skip = c->saved_skip;
			fs->nconds--;
			return true;
		}
		if (c->had_else)   /* SpamAssassin's parser toggles again */
			DIAG(L, RS_DIAG_WARNING, NULL, "second 'else' for the "
			     "'if' at line %u (SpamAssassin toggles again)",
			     c->line);
		c->had_else = true;
		/* Skipping anywhere outside keeps skipping; so does the else
		 * of an ifplugin SpamAssassin takes as true (its plugin loaded
		 * there, not implemented here), as it never reads that else */
		fs->skip = c->saved_skip || c->unimplemented != NULL ? true :
		           !fs->skip;
		return true;
	}
	bool ifplugin = sl_eq(key, "ifplugin");
	if (!ifplugin && !sl_eq(key, "if"))
		return false;
	if (v.n == 0) {
		DIAG(L, RS_DIAG_ERROR, NULL, "'%s' without a condition",
		     ifplugin ? "ifplugin" : "if");
		cond_push(L, false, ifplugin);
		return true;
	}
	/* SpamAssassin checks the tokens even in a block it skips */
	if (!cond_tokens_ok(L, v))
		return true;
	if (fs->skip) { /* not evaluated: no warnings from dead blocks */
		cond_push(L, false, ifplugin);
		return true;
	}
	struct sl name = ifplugin_name(v);
	bool sa_truth = cond_truth(L, key, v, ifplugin, name);
	/* an ifplugin of a plugin vigil lacks: its block skipped */
	bool truth = sa_truth && (!ifplugin || plugin_loaded(L, name));
	size_t depth = fs->nconds;
	cond_push(L, truth, ifplugin);
	if (sa_truth && !truth && fs->nconds > depth) {
		struct sl pn = name;
		const char *d = sa_default_plugin(pn);
		const struct smap_ent *e = d ? NULL : smap_get(&L->plugins, pn.p, pn.n);
		fs->conds[depth].unimplemented = d ? d : e ? e->key : NULL;
		fs->conds[depth].by_loadplugin = d == NULL && e != NULL;
	}
	return true;
}


/* ------------------------------------------------------------------ */
/* directives we know but do not implement */

static const char *const known_directives[] = {
	"add_header", "adsp_override", "allow_user_rules",
	"always_trust_envelope_sender", "asn_lookup", "asn_lookup_ipv6",
	"asn_prefer_geodb", "asn_prefix", "asn_use_dns", "asn_use_geodb",
	"authres_ignored_authserv", "authres_networks",
	"authres_trusted_authserv", "auto_welcomelist_db_modules",
	"auto_welcomelist_distinguish_signed", "auto_welcomelist_factor",
	"auto_welcomelist_factory", "auto_welcomelist_file_mode",
	"auto_welcomelist_ipv4_mask_len", "auto_welcomelist_ipv6_mask_len",
	"auto_welcomelist_path", "auto_whitelist_db_modules",
	"auto_whitelist_distinguish_signed", "auto_whitelist_factor",
	"auto_whitelist_factory", "auto_whitelist_file_mode",
	"auto_whitelist_ipv4_mask_len", "auto_whitelist_ipv6_mask_len",
	"auto_whitelist_path", "bayes_auto_expire", "bayes_auto_learn",
	"bayes_auto_learn_on_error", "bayes_auto_learn_threshold_nonspam",
	"bayes_auto_learn_threshold_spam", "bayes_expiry_max_db_size",
	"bayes_file_mode", "bayes_ignore_from", "bayes_ignore_header",
	"bayes_ignore_to", "bayes_journal_max_size",
	"bayes_learn_during_report", "bayes_learn_to_journal",
	"bayes_max_token_length", "bayes_min_ham_num", "bayes_min_spam_num",
	"bayes_path", "bayes_seen_ttl", "bayes_sql_dsn",
	"bayes_sql_override_username", "bayes_sql_password",
	"bayes_sql_username", "bayes_sql_username_authorized",
	"bayes_stopword_languages", "bayes_store_module",
	"bayes_token_sources", "bayes_token_ttl", "bayes_use_hapaxes",
	"blacklist_subject",
	"blocklist_subject",
	"body_part_scan_size",
	"clear_asn_lookups", "clear_dns_query_restriction",
	"clear_dns_query_restrictions", "clear_dns_servers", "clear_headers",
	"clear_originating_ip_headers", "clear_report_template",
	"clear_unsafe_report_template",
	"clear_uridnsbl_skip_domain", "clear_url_shortener",
	"country_db_path", "country_db_type", "dcc_body_max",
	"dcc_dccifd_path", "dcc_fuz1_max", "dcc_fuz2_max", "dcc_home",
	"dcc_learn_score", "dcc_options", "dcc_path", "dcc_rep_percent",
	"dcc_timeout", "dccifd_options", "def_welcomelist_auth",
	"def_welcomelist_from_dkim",
	"def_welcomelist_from_spf", "def_whitelist_auth",
	"def_whitelist_from_dkim",
	"def_whitelist_from_spf", "dkim_minimum_key_bits",
	"dkim_timeout", "dmarc_save_reports", "dns_available",
	"dns_block_rule", "dns_block_time", "dns_local_ports_avoid",
	"dns_local_ports_none", "dns_local_ports_permit", "dns_options",
	"dns_query_restriction", "dns_server", "dns_test_interval",
	"do_not_use_mail_spf", "do_not_use_mail_spf_query", "enlist_addrlist",
	"envelope_sender_header", "extracttext_external",
	"extracttext_maxparts", "extracttext_timeout", "extracttext_use",
	"fns_add_addrlist", "fns_check", "fns_extrachars", "fns_ignore_dkim",
	"fns_ignore_headers", "fns_remove_addrlist", "fold_headers",
	"freemail_add_describe_email", "freemail_domains",
	"freemail_import_def_welcomelist_auth",
	"freemail_import_def_whitelist_auth",
	"freemail_import_welcomelist_auth", "freemail_import_whitelist_auth",
	"freemail_max_body_emails", "freemail_max_body_freemails",
	"freemail_skip_bulk_envfrom", "freemail_skip_when_over_max",
	"freemail_welcomelist", "freemail_whitelist", "geodb_module",
	"geodb_options", "geodb_search_path", "hashbl_email_domain_alias",
	"hashbl_email_regex", "hashbl_email_welcomelist",
	"hashbl_email_whitelist", "hashbl_ignore",
	"ignore_always_matching_regexps", "ignore_received_spf_header",
	"inactive_languages", "lock_method",
	"max_short_url_redirections", "max_short_urls",
	"mbox_format_from_regex", "normalize_charset",
	"ok_languages",
	"olemacro_download_marker", "olemacro_extended_scan", "olemacro_exts",
	"olemacro_macro_exts", "olemacro_max_file", "olemacro_num_mime",
	"olemacro_num_zip", "olemacro_prefer_contentdisposition",
	"olemacro_skip_ctypes", "olemacro_skip_exts", "olemacro_zip_depth",
	"olemacro_zips", "originating_ip_headers", "parse_dkim_uris",
	"phishing_openphish_feed", "phishing_phishstats_feed",
	"phishing_phishstats_minscore", "phishing_phishtank_feed",
	"phishing_uri_noparam", "pyzor_count_min", "pyzor_fork", "pyzor_max",
	"pyzor_options", "pyzor_path", "pyzor_perl", "pyzor_server_file",
	"pyzor_timeout", "pyzor_welcomelist_factor", "pyzor_welcomelist_min",
	"pyzor_whitelist_factor", "pyzor_whitelist_min",
	"rawbody_part_scan_size", "razor_config", "razor_fork",
	"razor_timeout", "rbl_headers", "rbl_timeout",
	"remove_header", "report", "report_charset", "report_contact",
	"report_hostname", "report_safe", "report_safe_copy_headers",
	"report_template", "report_wrap_width", "resource_limit_cpu",
	"resource_limit_mem", "rewrite_header", "shortcircuit",
	"shortcircuit_ham_score", "shortcircuit_max_spam_score",
	"shortcircuit_min_ham_score", "shortcircuit_spam_score",
	"skip_rbl_checks", "skip_uribl_checks", "spamcop_from_address",
	"spamcop_max_report_size", "spamcop_relayhost", "spamcop_to_address",
	"spf_timeout", "subjprefix", "textcat_acceptable_score",
	"textcat_max_languages", "textcat_max_ngrams",
	"textcat_optimal_ngrams", "time_limit", "trigger_config",
	"trigger_ratio", "trigger_target", "txrep_autolearn",
	"txrep_dilution_factor", "txrep_expiry_days",
	"txrep_factor", "txrep_factory", "txrep_ipv4_mask_len",
	"txrep_ipv6_mask_len", "txrep_learn_bonus", "txrep_learn_penalty",
	"txrep_report_details", "txrep_spf", "txrep_track_messages",
	"txrep_user2global_ratio", "txrep_weight_domain",
	"txrep_weight_email", "txrep_weight_email_ip", "txrep_weight_helo",
	"txrep_weight_ip", "txrep_welcomelist_out", "txrep_whitelist_out",
	"unsafe_report",
	"unsafe_report_template", "unwelcomelist_auth",
	"unwelcomelist_from_dkim",
	"unwelcomelist_from_spf", "unwhitelist_auth",
	"unwhitelist_from_dkim",
	"unwhitelist_from_spf", "uri_block_exclude", "uri_country_db_isp_path",
	"uri_country_db_path", "uri_host_lists", "uridnsbl_max_domains",
	"uridnsbl_skip_domain", "uridnsbl_skip_mailto", "uridnsbl_timeout",
	"url_shortener", "url_shortener_cache_autoclean",
	"url_shortener_cache_dsn", "url_shortener_cache_password",
	"url_shortener_cache_ttl", "url_shortener_cache_type",
	"url_shortener_cache_username", "url_shortener_get",
	"url_shortener_loginfo", "url_shortener_timeout",
	"url_shortener_user_agent", "use_auto_welcomelist",
	"use_auto_whitelist", "use_bayes", "use_bayes_rules", "use_dcc",
	"use_dcc_rep", "use_learner", "use_newest_received_spf_header",
	"use_pyzor", "use_razor2", "use_txrep", "user_awl_dsn",
	"user_awl_sql_override_username", "user_awl_sql_password",
	"user_awl_sql_table", "user_awl_sql_username", "user_scores_dsn",
	"user_scores_fallback_to_global", "user_scores_ldap_password",
	"user_scores_ldap_username", "user_scores_sql_custom_query",
	"user_scores_sql_password", "user_scores_sql_username",
	"util_rb_tld", "version_tag",
	"welcomelist_auth",
	"welcomelist_bounce_relays",
	"welcomelist_from_dkim",
	"welcomelist_from_spf", "welcomelist_subject",
	"whitelist_auth",
	"whitelist_bounce_relays", "whitelist_from_dkim",
	"whitelist_from_spf", "whitelist_subject",
};

/* Plugin directives whose first argument is a rule name they define. */
static const char *const rule_directives[] = {
	"askdns", "uri_block_cc", "uri_block_cidr", "uri_block_cont",
	"uri_block_isp", "uridnsbl", "uridnssub",
	"urifullnsrhsbl", "urifullnsrhssub", "urinsrhsbl", "urinsrhssub",
	"urirhsbl", "urirhssub",
};

/* Directives read and deliberately ignored, without a diagnostic: they
 * change nothing when scanning (plugin loading is the engine's
 * business, reuse/test lines serve SpamAssassin's mass-check). */
static const char *const ignored_directives[] = {
	"run_reuse_tests_only", "test",
};

static bool in_list(struct sl k, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sl_eq(k, list[i]))
			return true;
	return false;
}

#define IN_LIST(k, list) in_list((k), (list), sizeof(list) / sizeof((list)[0]))

/* The rule types (the plugin directives defining rules are
 * rule_directives). */
static const char *const rule_types[] = {
	"body", "full", "header", "meta", "mimeheader", "rawbody", "uri",
	"uri_detail",
};

/* A line skipped by a false conditional: when the conditional is an
 * ifplugin of a plugin SpamAssassin loads but vigil does not implement
 * and the line defines a rule, that rule is unsupported (SpamAssassin
 * runs it; vigil never sees it). */
static void note_skipped_rule(struct loader *L, struct sl key, struct sl v)
{
	struct fstate *fs = L->fs;
	size_t i = fs->nconds;
	/* the skipping conditional: the innermost one entered unskipped */
	while (i > 0 && fs->conds[i - 1].saved_skip)
		i--;
	const struct cond *c = i > 0 ? &fs->conds[i - 1] : NULL;
	if (c == NULL || c->unimplemented == NULL || c->had_else ||
	    !(IN_LIST(key, rule_types) || IN_LIST(key, rule_directives)))
		return;
	struct sl rest;
	struct sl name = sl_word(v, &rest);
	const char *rule = astr(L, name.p, name.n);
	if (rule != NULL && c->by_loadplugin)
		DIAG(L, RS_DIAG_UNSUPPORTED, rule, "%.*s inside 'ifplugin %s' "
		     "(a loadplugin line loads it, vigil does not implement "
		     "it): skipped, never hits (false in metas)", snip(key),
		     key.p, c->unimplemented);
	else if (rule != NULL)
		DIAG(L, RS_DIAG_UNSUPPORTED, rule, "%.*s inside 'ifplugin "
		     "Mail::SpamAssassin::Plugin::%s' (SpamAssassin loads it by "
		     "default, vigil does not implement it): skipped, never "
		     "hits (false in metas)", snip(key), key.p,
		     c->unimplemented);
}

/* "loadplugin NAME [FILE]": a plugin SpamAssassin then runs. One that
 * vigil does not implement and SpamAssassin does not load by default
 * is reported, and the rules of its ifplugin blocks are listed as
 * skipped (audit20 M5: a site's local.pre loading TextCat or OLEVBMacro
 * dropped its blocks without a word). */
static void do_loadplugin(struct loader *L, struct sl key, struct sl v)
{
	struct sl rest, name = sl_word(v, &rest);
	if (name.n == 0 || sa_default_plugin(name) != NULL ||
	    plugin_loaded(L, name) || smap_get(&L->plugins, name.p, name.n))
		return;
	if (smap_put(&L->plugins, L->rs->arena, name.p, name.n) == NULL) {
		L->rs->oom = true;
		return;
	}
	DIAG(L, RS_DIAG_UNSUPPORTED, NULL, "%.*s %.*s: vigil does not "
	     "implement this plugin: the rules of its ifplugin blocks are "
	     "skipped, its directives ignored", snip(key), key.p, snip(name),
	     name.p);
}

static void unsupported(struct loader *L, struct sl key, const char *what)
{
	char k[300];
	int n = snprintf(k, sizeof k, "%s%c%.*s", L->fs->file, 0, snip(key),
	                 key.p);
	if (n < 0 || (size_t)n >= sizeof k)
		n = (int)sizeof k - 1;
	struct smap_ent *e = smap_get(&L->seen, k, (size_t)n);
	if (e != NULL)
		return;
	e = smap_put(&L->seen, L->rs->arena, k, (size_t)n);
	if (e == NULL) {
		L->rs->oom = true;
		return;
	}
	DIAG(L, RS_DIAG_UNSUPPORTED, NULL, "directive '%.*s' is not "
	     "implemented (%s)", snip(key), key.p, what);
}

/* settings kept for the eval functions (ruleset_setting_at) */
static const char *const kept_settings[] = {
	"freemail_domains", "freemail_welcomelist", "freemail_whitelist",
	"freemail_max_body_emails", "freemail_max_body_freemails",
	"freemail_skip_when_over_max", "freemail_skip_bulk_envfrom",
	"enlist_uri_host", "delist_uri_host", "blocklist_uri_host",
	"blacklist_uri_host", "welcomelist_uri_host", "whitelist_uri_host",
	"util_rb_2tld", "util_rb_3tld", "clear_util_rb",
	"welcomelist_bounce_relays", "whitelist_bounce_relays",
	"enlist_addrlist", "welcomelist_subject", "whitelist_subject",
	"blocklist_subject", "blacklist_subject",
	/* WLBLEval's sender and recipient lists (sa_wlbl.c) */
	"welcomelist_from", "whitelist_from", "unwelcomelist_from",
	"unwhitelist_from", "blocklist_from", "blacklist_from",
	"unblocklist_from", "unblacklist_from", "welcomelist_to",
	"whitelist_to", "blocklist_to", "blacklist_to", "more_spam_to",
	"all_spam_to", "welcomelist_from_rcvd", "whitelist_from_rcvd",
	"def_welcomelist_from_rcvd", "def_whitelist_from_rcvd",
	"unwelcomelist_from_rcvd", "unwhitelist_from_rcvd",
	"welcomelist_allows_relays", "whitelist_allows_relays",
	"ok_locales",   /* the *_faraway evals (sa_locales.c) */
};

static void keep_setting(struct loader *L, struct sl key, struct sl v)
{
	struct ruleset *rs = L->rs;
	const char **ns = grow_array(rs->settings, &rs->capsettings,
	                             rs->nsettings + 2, sizeof *ns, &rs->oom);
	if (ns == NULL)
		return;
	rs->settings = ns;
	const char *k = astr(L, key.p, key.n), *val = astr(L, v.p, v.n);
	if (k == NULL || val == NULL)
		return;
	ns[rs->nsettings++] = k;
	ns[rs->nsettings++] = val;
}

/* ------------------------------------------------------------------ */
/* ReplaceTags directives */

static void do_replace_kv(struct loader *L, const char *key,
                          struct smap *m, struct sl v)
{
	struct sl val;
	struct sl name = sl_word(v, &val);
	if (name.n == 0 || val.n == 0) {
		DIAG(L, RS_DIAG_ERROR, NULL, "%s: expected a tag name and "
		     "its value", key);
		return;
	}
	struct smap_ent *e = smap_put(m, L->rs->arena, name.p, name.n);
	char *s = astr(L, val.p, val.n);
	if (e == NULL || s == NULL) {
		L->rs->oom = true;
		return;
	}
	e->val = s;
}

static void do_replace_rules(struct loader *L, struct sl v)
{
	if (v.n == 0) {
		DIAG(L, RS_DIAG_ERROR, NULL, "replace_rules: expected rule "
		     "names");
		return;
	}
	while (v.n > 0) {
		struct sl w = sl_word(v, &v);
		if (smap_put(&L->replace, L->rs->arena, w.p, w.n) == NULL)
			L->rs->oom = true;
	}
}

/* ------------------------------------------------------------------ */
/* lines and files */

static void parse_text(struct loader *L, const char *file, const char *text,
                       size_t len, bool pre_only, int depth);
static void load_file(struct loader *L, const char *path, bool pre_only,
                      int depth);

static void do_include(struct loader *L, struct sl v)
{
	if (L->buf_mode) {
		DIAG(L, RS_DIAG_ERROR, NULL, "include is not allowed here "
		     "(rules from a buffer)");
		return;
	}
	if (v.n == 0) {
		DIAG(L, RS_DIAG_ERROR, NULL, "include: expected a file name");
		return;
	}
	if (L->fs->depth >= MAX_INCLUDE_DEPTH) {
		DIAG(L, RS_DIAG_ERROR, NULL, "include: nested deeper than %d "
		     "files", MAX_INCLUDE_DEPTH);
		return;
	}
	char path[PATH_MAX];
	int n;
	if (v.p[0] == '/') {
		n = snprintf(path, sizeof path, "%.*s", (int)v.n, v.p);
	} else {
		const char *cur = L->fs->file;
		const char *slash = strrchr(cur, '/');
		if (slash == NULL)
			n = snprintf(path, sizeof path, "%.*s", (int)v.n, v.p);
		else
			n = snprintf(path, sizeof path, "%.*s/%.*s",
			             (int)(slash - cur), cur, (int)v.n, v.p);
	}
	if (n < 0 || (size_t)n >= sizeof path || memchr(v.p, '\0', v.n)) {
		DIAG(L, RS_DIAG_ERROR, NULL, "include: invalid file name");
		return;
	}
	load_file(L, path, false, L->fs->depth + 1);
}

static void do_require_version(struct loader *L, struct sl v)
{
	if (sl_eq(v, "@@VERSION@@"))
		return;
	double d;
	if (!parse_number(v, true, true, &d)) {
		DIAG(L, RS_DIAG_ERROR, NULL, "require_version: expected a "
		     "version such as 4.000001, got '%.*s'", snip(v), v.p);
		return;
	}
	if (fabs(d - L->version) > 1e-9) {
		DIAG(L, RS_DIAG_WARNING, NULL, "require_version %.*s: this is "
		     "version %.6f; the rest of the file is skipped", snip(v),
		     v.p, L->version);
		L->fs->stop = true;
	}
}

static void do_required_score(struct loader *L, struct sl v)
{
	double d;
	if (!parse_number(v, true, true, &d)) {
		DIAG(L, RS_DIAG_ERROR, NULL, "required_score: expected a "
		     "number, got '%.*s'", snip(v), v.p);
		return;
	}
	L->rs->have_required = true;
	L->rs->required = d;
	L->rs->required_file = L->fs ? L->fs->file : NULL;
	L->rs->required_line = L->fs ? L->fs->line : 0;
}

/* redirector_pattern /re/mods (uriredir.h): compiled here, in the order
 * read, so that a bad one is told with its file:line and skipped as
 * SpamAssassin skips it. */
static void do_redirector(struct loader *L, struct sl v)
{
	static const char key[] = "redirector_pattern";
	struct sl nm = { key, sizeof key - 1 }, pat;
	uint32_t o;
	if (parse_regex(L, nm, v, &pat, &o) != 0)
		return;
	if (L->rs->redir == NULL && (L->rs->redir = uriredir_new()) == NULL) {
		L->rs->oom = true;
		return;
	}
	char err[200];
	int rc = uriredir_add(L->rs->redir, pat.p, pat.n, o, err, sizeof err);
	if (rc < 0)
		L->rs->oom = true;
	else if (rc > 0)
		DIAG(L, RS_DIAG_ERROR, key, "invalid pattern '%.*s': %s",
		     snip(pat), pat.p, err);
}

/* trusted_networks, internal_networks, msa_networks (SpamAssassin's
 * Conf set_ipaddr_list: each blank-separated item added, a bad one
 * reported and skipped, the set configured even so) and their clear_
 * forms (no argument). */
static void do_networks(struct loader *L, enum trustpath_net w, bool clear,
                        struct sl v)
{
	struct ruleset *rs = L->rs;
	const char *name = trustpath_net_name(w);
	if (clear) {
		if (v.n > 0)
			DIAG(L, RS_DIAG_ERROR, NULL, "clear_%s: expected no "
			     "argument", name);
		else if (trustpath_clear(&rs->trust, w) != 0)
			rs->oom = true;
		return;
	}
	if (v.n == 0) {
		DIAG(L, RS_DIAG_ERROR, NULL, "%s: expected one or more IP "
		     "addresses or networks (e.g. 192.168.0.0/16 10. "
		     "2001:db8::/32 !10.0.1.5)", name);
		return;
	}
	struct netset *set = rs->trust.net[w];
	struct sl rest = v;
	while (rest.n > 0 && !rs->oom) {
		struct sl it = sl_word(rest, &rest);
		struct netset_net net;
		char err[160], a[64], b[64];
		if (netset_parse(it.p, it.n, &net, err, sizeof err) != 0) {
			DIAG(L, RS_DIAG_ERROR, NULL, "%s: '%.*s' ignored: %s",
			     name, snip(it), it.p, err);
			continue;
		}
		size_t cover = 0;
		int rc = netset_add(set, &net, &cover);
		if (rc == 0) {
			DIAG(L, RS_DIAG_WARNING, NULL, "%s: '%.*s' has no "
			     "effect: %s, earlier in the list, already "
			     "covers %s (list more specific networks first)",
			     name, snip(it), it.p,
			     netset_format(netset_at(set, cover), a, sizeof a),
			     netset_format(&net, b, sizeof b));
			continue;
		}
		if (rc < 0) {
			if (netset_count(set) >= NETSET_MAX)
				DIAG(L, RS_DIAG_ERROR, NULL, "%s: more than %d "
				     "entries; '%.*s' ignored", name, NETSET_MAX,
				     snip(it), it.p);
			else
				rs->oom = true;
			continue;
		}
		struct netline *nl = grow_array(L->netlines, &L->capnetlines,
		                                L->nnetlines + 1, sizeof *nl,
		                                &rs->oom);
		if (nl == NULL)
			continue;
		L->netlines = nl;
		L->netlines[L->nnetlines++] = (struct netline){
			.w = w, .net = net, .file = L->fs ? L->fs->file : NULL,
			.line = L->fs ? L->fs->line : 0 };
	}
	rs->trust.configured[w] = true;
}

/* trustpath_finish told us entry n of set w was dropped. */
static void net_dropped(void *arg, enum trustpath_net w,
                        const struct netset_net *n,
                        enum trustpath_net against)
{
	struct loader *L = arg;
	const char *file = NULL;
	unsigned line = 0;
	for (size_t i = L->nnetlines; i-- > 0;) {
		const struct netline *nl = &L->netlines[i];
		if (nl->w == w && memcmp(&nl->net, n, sizeof *n) == 0) {
			file = nl->file;
			line = nl->line;
			break;
		}
	}
	char a[64];
	diag_at(L, RS_DIAG_WARNING, file, line, NULL, "%s entry %s ignored: "
	        "%s does not contain it (every %s entry must be in %s, as in "
	        "SpamAssassin)", trustpath_net_name(w), netset_format(n, a, sizeof a),
	        trustpath_net_name(against), trustpath_net_name(w),
	        trustpath_net_name(against));
}

/* The directive `key` (lower-cased, '-' as '_') with value v. */
static void dispatch(struct loader *L, struct sl key, struct sl v,
                     struct sl line)
{
	bool clr;
	if (sl_eq(key, "body"))
		do_regex_rule(L, "body", RS_BODY, v);
	else if (sl_eq(key, "header"))
		do_header(L, v, false);
	else if (sl_eq(key, "meta"))
		do_meta(L, v);
	else if (sl_eq(key, "describe"))
		do_describe(L, v);
	else if (sl_eq(key, "score"))
		do_score(L, v);
	else if (sl_eq(key, "tflags"))
		do_tflags(L, v);
	else if (sl_eq(key, "uri"))
		do_regex_rule(L, "uri", RS_URI, v);
	else if (sl_eq(key, "uri_detail"))
		do_uri_detail(L, v);
	else if (sl_eq(key, "rawbody"))
		do_regex_rule(L, "rawbody", RS_RAWBODY, v);
	else if (sl_eq(key, "full"))
		do_regex_rule(L, "full", RS_FULL, v);
	else if (sl_eq(key, "mimeheader"))
		do_header(L, v, true);
	else if (sl_eq(key, "priority"))
		do_priority(L, v);
	else if (sl_eq(key, "replace_tag"))
		do_replace_kv(L, "replace_tag", &L->tags, v);
	else if (sl_eq(key, "replace_rules"))
		do_replace_rules(L, v);
	else if (sl_eq(key, "replace_pre"))
		do_replace_kv(L, "replace_pre", &L->pre, v);
	else if (sl_eq(key, "replace_inter"))
		do_replace_kv(L, "replace_inter", &L->inter, v);
	else if (sl_eq(key, "replace_post"))
		do_replace_kv(L, "replace_post", &L->post, v);
	else if (sl_eq(key, "replace_start") || sl_eq(key, "replace_end")) {
		if (v.n == 0) {
			DIAG(L, RS_DIAG_ERROR, NULL, "%.*s: expected a string",
			     snip(key), key.p);
			return;
		}
		const char *s = astr(L, v.p, v.n);
		if (s == NULL)
			return;
		if (key.p[8] == 's')
			L->rstart = s;
		else
			L->rend = s;
	} else if (sl_eq(key, "required_score") || sl_eq(key, "required_hits"))
		do_required_score(L, v);
	else if (sl_eq(key, "include"))
		do_include(L, v);
	else if (sl_eq(key, "require_version"))
		do_require_version(L, v);
	else if (sl_eq(key, "enable_compat")) {
		if (v.n == 0)
			DIAG(L, RS_DIAG_ERROR, NULL, "enable_compat: expected "
			     "a name");
		else if (smap_put(&L->compat, L->rs->arena, v.p, v.n) == NULL)
			L->rs->oom = true;
	} else if (sl_eq(key, "reuse")) {
		/* SpamAssassin defines an empty test (never true) for a
		 * reused name nothing else defines, so metas and scores
		 * can name it. */
		struct sl rest, nm;
		if (rule_arg(L, "reuse", v, &nm, &rest)) {
			long i = rule_lookup(L->rs, nm.p, nm.n);
			if (i < 0 || L->rs->rules[i].type == RS_UNDEFINED)
				define_eval(L, nm, line, RS_EVAL);
		}
	} else if (sl_eq(key, "redirector_pattern")) {
		do_redirector(L, v);
	} else if (trustpath_net_of(key.p, key.n, &clr) >= 0) {
		do_networks(L, (enum trustpath_net)trustpath_net_of(key.p, key.n, &clr),
		            clr, v);
	} else if (sl_eq(key, "ok_locales") && v.n == 0) {
		DIAG(L, RS_DIAG_ERROR, NULL, "ok_locales: missing value "
		     "(SpamAssassin ignores the line; the locales stay as they "
		     "were)");
	} else if (IN_LIST(key, kept_settings)) {
		keep_setting(L, key, v);
	} else if (sl_eq(key, "loadplugin") || sl_eq(key, "tryplugin")) {
		do_loadplugin(L, key, v);
	} else if (IN_LIST(key, ignored_directives))
		return;
	else if (IN_LIST(key, rule_directives)) {
		unsupported(L, key, "rules it defines evaluate to false");
		char k[64];
		snprintf(k, sizeof k, "%.*s", (int)key.n, key.p);
		do_directive_rule(L, k, line, v);
	} else if (smap_get(&L->known, key.p, key.n) != NULL ||
	           sl_prefix(key, "bayes_stopword_") ||
	           sl_prefix(key, "hashbl_acl_"))
		unsupported(L, key, "ignored");
	else if (key.n > 3 && memcmp(key.p, "\xef\xbb\xbf", 3) == 0)
		/* an editor's UTF-8 byte-order mark: named, not printed raw
		 * (it made "unknown directive 'body'"; audit20 L4) */
		DIAG(L, RS_DIAG_ERROR, NULL, "unknown directive '\\xef\\xbb\\xbf"
		     "%.*s': a UTF-8 byte-order mark before '%.*s' (SpamAssassin "
		     "refuses the line too; save the file without it)",
		     snip((struct sl){ key.p + 3, key.n - 3 }), key.p + 3,
		     snip((struct sl){ key.p + 3, key.n - 3 }), key.p + 3);
	else
		DIAG(L, RS_DIAG_ERROR, NULL, "unknown directive '%.*s'",
		     snip(key), key.p);
}

/* Copies the line without its comment, "\#" turned into "#", trimmed. */
static struct sl clean_line(struct loader *L, const char *p, size_t n)
{
	size_t cut = n;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '#' && (i == 0 || p[i - 1] != '\\')) {
			cut = i;
			break;
		}
	struct sl s = sl_trim((struct sl){ p, cut });
	if (sl_find(s, 0, "\\#", 2) == NULL)
		return s;
	if (s.n + 1 > L->bufcap) {
		size_t nc = s.n + 1 + 256;
		char *nb = realloc(L->buf, nc);
		if (nb == NULL) {
			L->rs->oom = true;
			return (struct sl){ p, 0 };
		}
		L->buf = nb;
		L->bufcap = nc;
	}
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '\\' && i + 1 < s.n && s.p[i + 1] == '#')
			continue;
		L->buf[o++] = s.p[i];
	}
	return sl_trim((struct sl){ L->buf, o });
}

/* "lang xx" prefix: English only (SpamAssassin under a C locale). */
static bool lang_is_english(struct sl code)
{
	static const char en[] = "en_US";
	if (code.n == 0 || code.n > 5)
		return false;
	for (size_t i = 0; i < code.n; i++)
		if (lower(code.p[i]) != lower(en[i]))
			return false;
	return true;
}

static void parse_line(struct loader *L, const char *p, size_t n)
{
	struct fstate *fs = L->fs;
	struct sl s = clean_line(L, p, n);
	if (s.n == 0)
		return;
	struct sl v;
	struct sl key = sl_word(s, &v);
	if (key.n == 4 && memcmp(key.p, "lang", 4) == 0) {
		struct sl rest;
		struct sl code = sl_word(v, &rest);
		if (rest.n == 0) {
			if (!fs->skip && !fs->stop)
				DIAG(L, RS_DIAG_ERROR, NULL, "lang: expected "
				     "'lang CODE directive ...'");
			return;
		}
		if (!lang_is_english(code))
			return;
		s = rest;
		key = sl_word(s, &v);
	}
	char kb[64];
	if (key.n >= sizeof kb) {
		if (!fs->skip && !fs->stop)
			DIAG(L, RS_DIAG_ERROR, NULL, "unknown directive "
			     "'%.*s'", snip(key), key.p);
		return;
	}
	for (size_t i = 0; i < key.n; i++)
		kb[i] = key.p[i] == '-' ? '_' : lower(key.p[i]);
	struct sl k = { kb, key.n };
	if (fs->stop)
		return;
	if (do_conditional(L, k, v))
		return;
	if (fs->skip) {
		if (!fs->pre_only)
			note_skipped_rule(L, k, v);
		return;
	}
	if (fs->pre_only) {
		if (sl_eq(k, "enable_compat") || sl_eq(k, "loadplugin") ||
		    sl_eq(k, "tryplugin"))
			dispatch(L, k, v, s);
		return;
	}
	dispatch(L, k, v, s);
}

static void parse_text(struct loader *L, const char *file, const char *text,
                       size_t len, bool pre_only, int depth)
{
	struct fstate fs = { 0 };
	fs.file = file;
	fs.pre_only = pre_only;
	fs.depth = depth;
	struct fstate *saved = L->fs;
	L->fs = &fs;
	size_t off = 0;
	while (off < len && !L->rs->oom) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		fs.line++;
		parse_line(L, text + off, end - off);
		off = end + 1;
	}
	for (size_t i = 0; i < fs.nconds; i++)
		diag_at(L, RS_DIAG_ERROR, file, fs.conds[i].line, NULL,
		        "'%s' without a matching 'endif' at the end of the "
		        "file", fs.conds[i].is_ifplugin ? "ifplugin" : "if");
	free(fs.conds);
	L->fs = saved;
}

/* Feed one file's bytes to the ruleset's digest: its length as 8 octets
 * big-endian, then the bytes (no path: the same files elsewhere give the
 * same digest). */
static void digest_file(struct loader *L, const char *text, size_t len)
{
	unsigned char n[8];
	for (int i = 0; i < 8; i++)
		n[i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	if (L->md == NULL || EVP_DigestUpdate(L->md, n, sizeof n) != 1 ||
	    (len > 0 && EVP_DigestUpdate(L->md, text, len) != 1))
		L->rs->oom = true;
}

static const char *add_file(struct loader *L, const char *path)
{
	struct ruleset *rs = L->rs;
	const char **f = grow_array(rs->files, &rs->capfiles, rs->nfiles + 1,
	                            sizeof *f, &rs->oom);
	if (f == NULL)
		return NULL;
	rs->files = f;
	const char *s = astr(L, path, strlen(path));
	if (s != NULL)
		rs->files[rs->nfiles++] = s;
	return s;
}

static void load_file(struct loader *L, const char *path, bool pre_only,
                      int depth)
{
	char real[PATH_MAX];
	const char *id = realpath(path, real) != NULL ? real : path;
	for (int i = 0; i < L->nincl; i++)
		if (strcmp(L->incl[i], id) == 0) {
			DIAG(L, RS_DIAG_ERROR, NULL, "include loop: '%s' is "
			     "already being read", path);
			return;
		}
	size_t len;
	int trunc = 0;
	char *text = fileio_read(path, MAX_FILE_SIZE, &len, &trunc);
	if (text == NULL || trunc) {
		int e = errno;
		free(text);
		if (L->fs != NULL)
			DIAG(L, RS_DIAG_ERROR, NULL, "cannot read '%s': %s",
			     path, trunc ? "file too large" : strerror(e));
		else
			diag_at(L, RS_DIAG_ERROR, NULL, 0, NULL,
			        "cannot read '%s': %s", path,
			        trunc ? "file too large" : strerror(e));
		return;
	}
	const char *name = add_file(L, path);
	digest_file(L, text, len);
	const char *idc = astr(L, id, strlen(id));
	if (name != NULL && idc != NULL && L->nincl < MAX_INCLUDE_DEPTH + 2) {
		L->incl[L->nincl++] = idc;
		parse_text(L, name, text, len, pre_only, depth);
		L->nincl--;
	}
	free(text);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n > m && strncasecmp(s + n - m, suf, m) == 0;
}

/* A directory's *.pre files (plugin lines only; pass 0) or its *.cf
 * files (pass 1), in byte order of their names. */
static void load_dir(struct loader *L, const char *dir, int pass)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		diag_at(L, RS_DIAG_ERROR, NULL, 0, NULL, "cannot read '%s': %s",
		        dir, strerror(errno));
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".cf") &&
		    !has_suffix(de->d_name, ".pre"))
			continue;
		char **nn = grow_array(names, &cap, n + 1, sizeof *nn,
		                       &L->rs->oom);
		if (nn == NULL)
			break;
		names = nn;
		size_t dl = strlen(dir), fl = strlen(de->d_name);
		char *full = malloc(dl + fl + 2);
		if (full == NULL) {
			L->rs->oom = true;
			break;
		}
		memcpy(full, dir, dl);
		full[dl] = '/';
		memcpy(full + dl + 1, de->d_name, fl + 1);
		struct stat st;
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(full);
			continue;
		}
		names[n++] = full;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n && !L->rs->oom; i++)
		if (has_suffix(names[i], pass == 0 ? ".pre" : ".cf"))
			load_file(L, names[i], pass == 0, 0);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ------------------------------------------------------------------ */
/* ReplaceTags */

struct dbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void db_put(struct dbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = (b->n + n + 1) * 2;
		char *np = realloc(b->p, nc);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static const char *tag_value(const struct smap *m, const char *k, size_t n)
{
	const struct smap_ent *e = smap_get(m, k, n);
	if (e == NULL || e->val == NULL)
		return NULL;
	const char *v = e->val;
	/* SpamAssassin ignores values that are false in Perl. */
	if (v[0] == '\0' || (v[0] == '0' && v[1] == '\0'))
		return NULL;
	return v;
}

/* Removes the first "<KW NAME>" from b; returns the value NAME names in
 * m, or NULL. */
static const char *take_modifier(struct loader *L, struct dbuf *b,
                                 const char *kw, const struct smap *m)
{
	size_t sl = strlen(L->rstart), el = strlen(L->rend), kl = strlen(kw);
	struct sl s = { b->p, b->n };
	for (size_t from = 0;;) {
		const char *q = sl_find(s, from, L->rstart, sl);
		if (q == NULL)
			return NULL;
		size_t i = (size_t)(q - s.p);
		from = i + 1;
		if (s.n - i - sl < kl || memcmp(q + sl, kw, kl) != 0)
			continue;
		size_t ns = i + sl + kl;
		const char *e = sl_find(s, ns + 1, L->rend, el);
		if (e == NULL)
			return NULL;
		size_t ne = (size_t)(e - s.p);
		const char *v = tag_value(m, s.p + ns, ne - ns);
		memmove(b->p + i, b->p + ne + el, b->n - ne - el + 1);
		b->n -= ne + el - i;
		return v;
	}
}

/* Length of the tag at s[i] (START, one or more characters that start
 * neither START nor END, END), or 0. */
static size_t tag_at(struct loader *L, struct sl s, size_t i)
{
	size_t sl = strlen(L->rstart), el = strlen(L->rend);
	if (s.n - i < sl || memcmp(s.p + i, L->rstart, sl) != 0)
		return 0;
	size_t k = i + sl;
	while (k < s.n) {
		if (s.n - k >= el && memcmp(s.p + k, L->rend, el) == 0)
			return k > i + sl ? k + el - i : 0;
		if (s.n - k >= sl && memcmp(s.p + k, L->rstart, sl) == 0)
			return 0;
		k++;
	}
	return 0;
}

static bool has_tag(struct loader *L, const char *v)
{
	struct sl s = { v, strlen(v) };
	for (size_t i = 0; i < s.n; i++)
		if (tag_at(L, s, i) != 0)
			return true;
	return false;
}

/* One ReplaceTags pass over in into out; true when a replacement
 * brought new tags (another pass is due). */
static bool replace_pass(struct loader *L, struct dbuf *in, struct dbuf *out)
{
	const char *pre = take_modifier(L, in, "pre ", &L->pre);
	const char *post = take_modifier(L, in, "post ", &L->post);
	const char *inter = take_modifier(L, in, "inter ", &L->inter);
	size_t sl = strlen(L->rstart), el = strlen(L->rend);
	struct sl s = { in->p, in->n };
	bool again = false;
	bool prev_tag = false;
	size_t lit = 0; /* start of the pending literal */
	out->n = 0;
	db_put(out, "", 0);
	for (size_t i = 0; i < s.n;) {
		size_t t = tag_at(L, s, i);
		if (t == 0) {
			i++;
			continue;
		}
		/* The inter value goes only between adjacent tags (in
		 * SpamAssassin the pattern it edits always starts with the
		 * modifiers group, never with a tag). */
		if (i == lit && prev_tag && inter != NULL)
			db_put(out, inter, strlen(inter));
		db_put(out, s.p + lit, i - lit);
		if (pre != NULL)
			db_put(out, pre, strlen(pre));
		const char *val = tag_value(&L->tags, s.p + i + sl, t - sl - el);
		if (val != NULL) {
			db_put(out, val, strlen(val));
			if (!again && has_tag(L, val))
				again = true;
		} else {
			db_put(out, s.p + i, t);
		}
		if (post != NULL)
			db_put(out, post, strlen(post));
		i += t;
		lit = i;
		prev_tag = true;
	}
	db_put(out, s.p + lit, s.n - lit);
	return again;
}

static void replace_rule(struct loader *L, struct rs_rule *r)
{
	struct dbuf a = { 0 }, b = { 0 };
	db_put(&a, r->pattern, r->pattern_len);
	bool again;
	int passes = 0;
	do {
		again = replace_pass(L, &a, &b);
		struct dbuf t = a;
		a = b;
		b = t;
		passes++;
	} while (again && passes <= 5 && !a.oom && !b.oom);
	if (a.oom || b.oom) {
		L->rs->oom = true;
	} else if (a.n != r->pattern_len ||
	           memcmp(a.p, r->pattern, a.n) != 0) {
		const char *np = astr(L, a.p, a.n);
		if (np != NULL) {
			r->pattern = np;
			r->pattern_len = a.n;
		}
	}
	free(a.p);
	free(b.p);
}

/* ------------------------------------------------------------------ */
/* the end of loading */

static bool is_regex_type(enum rs_type t)
{
	return t == RS_HEADER || t == RS_MIMEHEADER || t == RS_BODY ||
	       t == RS_RAWBODY || t == RS_FULL || t == RS_URI;
}

size_t ruleset_next_template(const char *p, size_t len, size_t from,
                             size_t *start, const char **name,
                             size_t *name_len)
{
	for (size_t i = from; i + 3 < len; i++) {
		if (p[i] != '%' || p[i + 1] != '{' || (i > 0 && p[i - 1] == '\\'))
			continue;
		size_t k = i + 2;
		if (!(p[k] >= 'A' && p[k] <= 'Z'))
			continue;
		while (k < len && ((p[k] >= 'A' && p[k] <= 'Z') ||
		                   (p[k] >= '0' && p[k] <= '9') ||
		                   (p[k] == '_' && p[k - 1] != '_')))
			k++;
		size_t nend = k;
		if (p[k - 1] == '_')
			continue;
		if (k < len && p[k] == '(') {
			while (k < len && p[k] != ')' && p[k] != '}')
				k++;
			if (k >= len || p[k] != ')')
				continue;
			nend = ++k;
		}
		if (k >= len || p[k] != '}')
			continue;
		*start = i;
		*name = p + i + 2;
		*name_len = nend - (i + 2);
		return k + 1;
	}
	return 0;
}

/* A named group SpamAssassin captures a tag from: "(?<NAME", "(?P<NAME"
 * or "(?'NAME", NAME upper-case first (Parser.pm). */
static bool has_capture_group(const struct rs_rule *r)
{
	struct sl s = { r->pattern, r->pattern_len };
	for (size_t i = 0; i + 3 < s.n; i++) {
		if (s.p[i] != '(' || s.p[i + 1] != '?')
			continue;
		size_t k = i + 2 + (s.p[i + 2] == 'P');
		if (k + 1 < s.n && (s.p[k] == '<' || s.p[k] == '\'') &&
		    s.p[k + 1] >= 'A' && s.p[k + 1] <= 'Z')
			return true;
	}
	return false;
}

/* A meta's token local_tests_only as SpamAssassin's compile_meta_rules()
 * reads it: the flag's value (1 without network tests), "(1)" or "(0)".
 * A copy in the arena, or e itself; NULL out of memory. */
static const char *meta_local_tests_only(struct loader *L, const char *e)
{
	static const char tok[] = "local_tests_only";
	const size_t k = sizeof tok - 1;
	if (e == NULL || strstr(e, tok) == NULL)
		return e;
	struct strbuf b = { 0 };
	const char *v = L->opts != NULL && L->opts->local_tests_only ? "(1)"
	                                                             : "(0)";
	for (const char *p = e; *p != '\0';) {
		const char *t = strstr(p, tok);
		bool word = t != NULL &&
		            (t == e || !(isalnum((unsigned char)t[-1]) ||
		                         t[-1] == '_' || t[-1] == ':')) &&
		            !(isalnum((unsigned char)t[k]) || t[k] == '_' ||
		              t[k] == ':');
		size_t upto = t ? (size_t)(t - p) + (word ? 0 : k) : strlen(p);
		strbuf_put(&b, p, upto);
		if (word)
			strbuf_put(&b, v, 3);
		p += upto + (word ? k : 0);
	}
	const char *out = b.oom ? NULL : astr(L, b.p, b.len);
	strbuf_free(&b);
	return out;
}

static void finish(struct loader *L)
{
	struct ruleset *rs = L->rs;
	L->fs = NULL;
	trustpath_finish(&rs->trust, net_dropped, L);
	for (size_t i = 0; i < L->replace.cap; i++) {
		const struct smap_ent *e = &L->replace.e[i];
		if (e->key == NULL)
			continue;
		long r = rule_lookup(rs, e->key, e->klen);
		if (r >= 0 && is_regex_type(rs->rules[r].type) &&
		    rs->rules[r].pattern != NULL)
			replace_rule(L, &rs->rules[r]);
	}
	for (size_t i = 0; i < rs->n; i++) {
		struct rs_rule *r = &rs->rules[i];
		if (r->type == RS_META) {   /* audit22 M2, L5 */
			r->meta = expand_rules_matching(L, r->meta, r->name);
			r->meta = meta_local_tests_only(L, r->meta);
		}
		if (is_regex_type(r->type) && r->pattern != NULL) {
			size_t at, nl;
			const char *nm;
			r->capture_template = ruleset_next_template(r->pattern,
				r->pattern_len, 0, &at, &nm, &nl) != 0;
			r->captures = has_capture_group(r);
			if (r->captures)
				r->priority = -10000;
		} else if (r->type == RS_EVAL && !rs->aux[i].from_directive &&
		           !ruleset_eval_args_ok(r->eval)) {
			/* the latest definition, as SpamAssassin reads the
			 * list when finishing, and drops the rule (audit22 L6) */
			struct sl ev = { r->eval, strlen(r->eval) };
			diag_at(L, RS_DIAG_ERROR, r->file, r->line, r->name,
			        "invalid eval call '%.*s' (expected function(args), "
			        EVAL_ARGS "): SpamAssassin leaves the rule out",
			        snip(ev), ev.p);
		} else if (r->type == RS_EVAL && !rs->aux[i].from_directive) {
			struct sl ev = { r->eval, r->eval ? strlen(r->eval) : 0 };
			diag_at(L, RS_DIAG_UNSUPPORTED, r->file, r->line,
			        r->name, "eval:%.*s is not implemented: the "
			        "rule evaluates to false", snip(ev), ev.p);
		} else if (r->type == RS_URI_DETAIL) {
			r->ud = rs->aux[i].ud;
			/* the parser then builds the messages' URI details */
			if (rs->redir == NULL && (rs->redir = uriredir_new()) == NULL)
				rs->oom = true;
			else
				uriredir_want_details(rs->redir);
		} else if (r->type == RS_UNDEFINED && r->score_given) {
			diag_at(L, RS_DIAG_WARNING, rs->aux[i].score_file,
			        rs->aux[i].score_line, r->name, "score for "
			        "'%s', which no rule line defines", r->name);
		}
		if (!r->score_given) {
			double d = 1.0;
			if (strncmp(r->name, "__", 2) == 0)
				d = 0;
			else if (strncmp(r->name, "T_", 2) == 0)
				d = 0.01;
			if (r->tflags & RS_TF_NICE)
				d = -d;
			for (int k = 0; k < 4; k++)
				r->score[k] = d;
		}
	}
}

static void loader_free(struct loader *L)
{
	smap_free(&L->known);
	smap_free(&L->seen);
	smap_free(&L->compat);
	smap_free(&L->plugins);
	smap_free(&L->cond_cache);
	smap_free(&L->tags);
	smap_free(&L->pre);
	smap_free(&L->inter);
	smap_free(&L->post);
	smap_free(&L->replace);
	free(L->buf);
	free(L->netlines);
	EVP_MD_CTX_free(L->md);
}

static struct ruleset *begin(struct loader *L, const struct ruleset_opts *o,
                             bool buf_mode)
{
	memset(L, 0, sizeof *L);
	struct ruleset *rs = calloc(1, sizeof *rs);
	if (rs == NULL)
		return NULL;
	rs->arena = arena_new(0);
	if (rs->arena == NULL) {
		free(rs);
		return NULL;
	}
	if (trustpath_init(&rs->trust) != 0) {
		arena_free(rs->arena);
		free(rs);
		return NULL;
	}
	L->rs = rs;
	L->opts = o;
	L->md = EVP_MD_CTX_new();
	if (L->md != NULL && EVP_DigestInit_ex(L->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(L->md);
		L->md = NULL;
	}
	if (L->md == NULL)
		rs->oom = true;
	L->version = (o != NULL && o->sa_version > 0) ? o->sa_version
	                                              : DEFAULT_VERSION;
	L->buf_mode = buf_mode;
	L->rstart = "<";
	L->rend = ">";
	for (size_t i = 0; i < sizeof known_directives /
	                       sizeof known_directives[0]; i++) {
		const char *k = known_directives[i];
		if (smap_put(&L->known, rs->arena, k, strlen(k)) == NULL)
			rs->oom = true;
	}
	/* SpamAssassin 4.0.1's init.pre (upstream's and Debian's) says
	 * "enable_compat welcomelist_blocklist": the stock rules then
	 * define no USER_IN_WHITELIST-style old names, and the new names
	 * carry the full scores. vigil emulates init.pre, as it does for
	 * its plugins. */
	if (smap_put(&L->compat, rs->arena, "welcomelist_blocklist",
	             strlen("welcomelist_blocklist")) == NULL)
		rs->oom = true;
	return rs;
}

static struct ruleset *end(struct loader *L)
{
	struct ruleset *rs = L->rs;
	unsigned mdlen = 0;
	if (!rs->oom)
		finish(L);
	if (!rs->oom && (EVP_DigestFinal_ex(L->md, rs->digest, &mdlen) != 1 ||
	                 mdlen != sizeof rs->digest))
		rs->oom = true;
	loader_free(L);
	if (rs->oom) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

struct ruleset *ruleset_load(const char *const *paths, size_t npaths,
                             const struct ruleset_opts *opts)
{
	struct loader L;
	struct ruleset *rs = begin(&L, opts, false);
	if (rs == NULL)
		return NULL;
	/* SpamAssassin reads the *.pre files of every configuration
	 * directory before any *.cf file, so that an enable_compat in
	 * /etc/spamassassin/init.pre decides the stock rules' can(). */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < npaths && !rs->oom; i++) {
			struct stat st;
			if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
				load_dir(&L, paths[i], pass);
			else if (pass == 1)
				load_file(&L, paths[i], false, 0);
		}
	return end(&L);
}

struct ruleset *ruleset_load_buf(const char *name, const char *text,
                                 size_t len, const struct ruleset_opts *opts)
{
	struct loader L;
	struct ruleset *rs = begin(&L, opts, true);
	if (rs == NULL)
		return NULL;
	const char *nm = add_file(&L, name != NULL ? name : "(buffer)");
	if (nm != NULL) {
		digest_file(&L, text, text != NULL ? len : 0);
		parse_text(&L, nm, text, text != NULL ? len : 0, false, 0);
	}
	return end(&L);
}

void ruleset_free(struct ruleset *rs)
{
	if (rs == NULL)
		return;
	arena_free(rs->arena);
	free(rs->rules);
	free(rs->aux);
	free(rs->slots);
	free(rs->diags);
	free(rs->files);
	free(rs->settings);
	trustpath_fini(&rs->trust);
	uriredir_free(rs->redir);
	free(rs);
}

size_t ruleset_count(const struct ruleset *rs)
{
	return rs->n;
}

const struct rs_rule *ruleset_at(const struct ruleset *rs, size_t i)
{
	return i < rs->n ? &rs->rules[i] : NULL;
}

const struct rs_rule *ruleset_find(const struct ruleset *rs,
                                   const char *name)
{
	long i = rule_lookup(rs, name, strlen(name));
	return i >= 0 ? &rs->rules[i] : NULL;
}

bool ruleset_required_score(const struct ruleset *rs, double *out,
                            const char **file, unsigned *line)
{
	if (rs->have_required && out != NULL)
		*out = rs->required;
	if (file != NULL)
		*file = rs->required_file;
	if (line != NULL)
		*line = rs->required_line;
	return rs->have_required;
}

size_t ruleset_diag_count(const struct ruleset *rs)
{
	return rs->ndiags;
}

const struct rs_diag *ruleset_diag_at(const struct ruleset *rs, size_t i)
{
	return i < rs->ndiags ? &rs->diags[i] : NULL;
}

const struct uriredir *ruleset_redirectors(const struct ruleset *rs)
{
	return rs != NULL ? rs->redir : NULL;
}

const struct trustpath *ruleset_trustpath(const struct ruleset *rs)
{
	return rs != NULL && trustpath_active(&rs->trust) ? &rs->trust
	                                                    : NULL;
}

size_t ruleset_file_count(const struct ruleset *rs)
{
	return rs->nfiles;
}

const char *ruleset_file_at(const struct ruleset *rs, size_t i)
{
	return i < rs->nfiles ? rs->files[i] : NULL;
}

void ruleset_digest(const struct ruleset *rs, char hex[65])
{
	for (size_t i = 0; i < sizeof rs->digest; i++)
		snprintf(hex + 2 * i, 3, "%02x", rs->digest[i]);
}

size_t ruleset_setting_count(const struct ruleset *rs)
{
	return rs->nsettings / 2;
}

bool ruleset_setting_at(const struct ruleset *rs, size_t i,
                        const char **key, const char **value)
{
	if (i >= rs->nsettings / 2)
		return false;
	*key = rs->settings[2 * i];
	*value = rs->settings[2 * i + 1];
	return true;
}
