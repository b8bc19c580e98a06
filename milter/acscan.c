/*
 * acscan.c — see acscan.h.
 *
 * The scanner compiles the literals into a DFA over byte classes (bytes
 * that occur in no literal share class 0; ASCII letters share the class
 * of their lower case), so the table stays small and acscan_run() costs
 * two loads per byte.
 */
#include "acscan.h"
#include "litscan.h"   /* struct litscan_bset */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ======================================================================
 * The bytes of a text
 * ====================================================================== */

/* The bytes flagged (1) in seen[256] into out. */
static void seen_bits(const unsigned char *seen, struct litscan_bset *out)
{
	uint64_t high = 0;   /* most texts have no byte >= 0x80 */
	for (unsigned b = 128; b < 256; b += 8) {
		uint64_t v;
		memcpy(&v, seen + b, 8);
		high |= v;
	}
	out->w[2] = out->w[3] = 0;
	for (unsigned b = 0; b < (high ? 256u : 128u); b += 8) {
		uint64_t v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(&v, seen + b, 8);
#else
		v = 0;
		for (unsigned k = 0; k < 8; k++)
			v |= (uint64_t)seen[b + k] << (8 * k);
#endif
		/* flag k (bit 8k) lands on bit 56 + k: no two products meet */
		uint64_t bits = (v * 0x0102040810204080u) >> 56;
		if (b % 64 == 0)
			out->w[b / 64] = bits;
		else
			out->w[b / 64] |= bits << (b % 64);
	}
}

void acscan_bytes(const char *text, size_t len, struct litscan_bset *out)
{
	const unsigned char *t = (const unsigned char *)text;
	if (len < 32) {   /* short: a bit at a time */
		uint64_t w[4] = { 0, 0, 0, 0 };
		for (size_t i = 0; i < len; i++)
			w[t[i] >> 6] |= (uint64_t)1 << (t[i] & 63);
		memcpy(out->w, w, sizeof w);
		return;
	}
	/* a store per byte, then 8 flags at a time into bits */
	unsigned char seen[256];
	memset(seen, 0, sizeof seen);
	size_t i = 0;
	for (; i + 4 <= len; i += 4) {
		seen[t[i]] = 1;
		seen[t[i + 1]] = 1;
		seen[t[i + 2]] = 1;
		seen[t[i + 3]] = 1;
	}
	for (; i < len; i++)
		seen[t[i]] = 1;
	seen_bits(seen, out);
}

/* ======================================================================
 * Aho-Corasick scanner
 * ====================================================================== */

#define LS_OUT_FLAG 0x80000000u   /* in a transition: the target reports */

struct ls_lit {
	uint32_t id;
	uint32_t off, len;       /* into the byte pool */
};

struct acscan {
	/* input */
	struct ls_lit *lits;
	size_t nlits, caplits;
	unsigned char *pool;
	size_t poollen, poolcap;
	uint32_t id_limit;
	bool built;
	/* automaton */
	unsigned char cls[256];  /* byte -> class */
	size_t ncls;
	uint32_t maxlen;         /* longest literal */
	/* Transitions: trans[off + class] = off' | LS_OUT_FLAG?, where a
	 * state's offset is its number times ncls (premultiplied: no
	 * multiplication on the hot path). */
	uint32_t *trans;
	size_t nstates;
	uint32_t *out_start;     /* nstates + 1: own ids in out_ids */
	uint32_t *out_ids;
	uint32_t *dict;          /* next state on the fail chain that reports,
	                            or 0 (the root never reports) */
};

struct acscan *acscan_new(void)
{
	return calloc(1, sizeof(struct acscan));
}

int acscan_add(struct acscan *ls, const char *lit, size_t len, uint32_t id)
{
	if (ls == NULL || ls->built || lit == NULL || len == 0 ||
	    len > UINT32_MAX / 2 || id == UINT32_MAX)
		return -1;
	if (ls->nlits == ls->caplits) {
		size_t cap = ls->caplits ? ls->caplits * 2 : 64;
		struct ls_lit *p = realloc(ls->lits, cap * sizeof *p);
		if (p == NULL)
			return -1;
		ls->lits = p;
		ls->caplits = cap;
	}
	if (ls->poollen + len > ls->poolcap) {
		size_t cap = ls->poolcap ? ls->poolcap : 1024;
		while (cap < ls->poollen + len)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -1;
		unsigned char *p = realloc(ls->pool, cap);
		if (p == NULL)
			return -1;
		ls->pool = p;
		ls->poolcap = cap;
	}
	for (size_t i = 0; i < len; i++)
		ls->pool[ls->poollen + i] = lower((unsigned char)lit[i]);
	ls->lits[ls->nlits].id = id;
	ls->lits[ls->nlits].off = (uint32_t)ls->poollen;
	ls->lits[ls->nlits].len = (uint32_t)len;
	ls->nlits++;
	ls->poollen += len;
	if (len > ls->maxlen)
		ls->maxlen = (uint32_t)len;
	if (id + 1 > ls->id_limit)
		ls->id_limit = id + 1;
	return 0;
}

size_t acscan_lit_count(const struct acscan *ls)
{
	return ls ? ls->nlits : 0;
}

const char *acscan_lit(const struct acscan *ls, size_t i, size_t *len)
{
	*len = ls->lits[i].len;
	return (const char *)ls->pool + ls->lits[i].off;
}

uint32_t acscan_id_limit(const struct acscan *ls)
{
	return ls ? ls->id_limit : 0;
}

/* Bytes by how often they occur in mail (the SpamAssassin corpus,
 * ASCII-lower-cased, most frequent first). */
static const char freq_order[] =
	" etioasrnlcmdh/.0\npfgu-b1w2>:\"<y=v3kxz49685,j7_@q\t)(;+][#'?&*!$%";

/* Classes in a row of the table, a multiple of this when there are
 * more: a row then starts on a cache line (the table is aligned), and
 * its first line holds the transitions on the most frequent bytes. */
#define LS_ROW_ALIGN 16

static void build_classes(struct acscan *ls)
{
	bool used[256] = { false };
	for (size_t i = 0; i < ls->poollen; i++)
		used[ls->pool[i]] = true;
	memset(ls->cls, 0, sizeof ls->cls);
	size_t n = 1;
	/* Frequent bytes first: a scan of text then reads mostly the first
	 * cache line of each state's row, and the rows of the states a text
	 * visits take a fifth of the cache lines they would in byte order */
	for (const char *f = freq_order; *f != '\0'; f++) {
		unsigned char b = (unsigned char)*f;
		if (used[b] && ls->cls[b] == 0)
			ls->cls[b] = (unsigned char)n++;
	}
	for (int b = 0; b < 256; b++)
		if (used[b] && ls->cls[b] == 0)
			ls->cls[b] = (unsigned char)n++;
	for (int b = 'A'; b <= 'Z'; b++)
		ls->cls[b] = ls->cls[b + 32];
	if (n > LS_ROW_ALIGN)
		n = (n + LS_ROW_ALIGN - 1) / LS_ROW_ALIGN * LS_ROW_ALIGN;
	ls->ncls = n;
}

/* Tables at least this large go on huge pages where the system has
 * them: a scan's steps land all over the table, and with 4 KiB pages
 * nearly every one needed a TLB walk besides its cache miss. */
#define LS_HUGE_MIN (1u << 20)
#define LS_HUGE_PAGE (2u << 20)

/* A table of size bytes, aligned to a cache line (rows start on one:
 * LS_ROW_ALIGN), or to a huge page when it is large. */
static uint32_t *table_alloc(size_t size)
{
	if (size < LS_HUGE_MIN)
		return aligned_alloc(64, (size + 63) / 64 * 64);
	size_t sz = (size + LS_HUGE_PAGE - 1) / LS_HUGE_PAGE * LS_HUGE_PAGE;
	uint32_t *t = aligned_alloc(LS_HUGE_PAGE, sz);
#ifdef MADV_HUGEPAGE
	if (t != NULL)
		(void)madvise(t, sz, MADV_HUGEPAGE);   /* advice: may fail */
#endif
	return t;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int acscan_build(struct acscan *ls)
{
	if (ls == NULL || ls->built)
		return -1;
	build_classes(ls);
	size_t ncls = ls->ncls;
	size_t maxstates = ls->poollen + 1;
	if (maxstates > (LS_OUT_FLAG - 1) / ncls)
		return -1;   /* offsets must fit in 31 bits */
	uint32_t *trans = calloc(maxstates * ncls, sizeof *trans);
	uint32_t *state_of = malloc((ls->nlits + 1) * sizeof *state_of);
	uint32_t *fail = calloc(maxstates, sizeof *fail);
	uint32_t *queue = malloc(maxstates * sizeof *queue);
	uint32_t *cnt = calloc(maxstates + 1, sizeof *cnt);
	uint32_t *dict = calloc(maxstates, sizeof *dict);
	uint32_t *ids = malloc((ls->nlits + 1) * sizeof *ids);
	if (!trans || !state_of || !fail || !queue || !cnt || !dict || !ids) {
		free(trans); free(state_of); free(fail); free(queue);
		free(cnt); free(dict); free(ids);
		return -1;
	}
	/* 1. the trie (0 = root; 0 in trans = no edge yet) */
	size_t nstates = 1;
	for (size_t i = 0; i < ls->nlits; i++) {
		uint32_t s = 0;
		const unsigned char *p = ls->pool + ls->lits[i].off;
		for (uint32_t j = 0; j < ls->lits[i].len; j++) {
			uint32_t *t = &trans[(size_t)s * ncls + ls->cls[p[j]]];
			if (*t == 0)
				*t = (uint32_t)nstates++;
			s = *t;
		}
		state_of[i] = s;
		cnt[s + 1]++;
	}
	/* 2. own outputs: ids grouped by state (sorted, deduplicated) */
	for (size_t s = 0; s < nstates; s++)
		cnt[s + 1] += cnt[s];
	uint32_t *fillpos = queue;   /* reuse as scratch before the BFS */
	for (size_t s = 0; s < nstates; s++)
		fillpos[s] = cnt[s];
	for (size_t i = 0; i < ls->nlits; i++)
		ids[fillpos[state_of[i]]++] = ls->lits[i].id;
	size_t w = 0;
	for (size_t s = 0; s < nstates; s++) {
		uint32_t a = cnt[s], b = cnt[s + 1];
		qsort(ids + a, b - a, sizeof *ids, cmp_u32);
		cnt[s] = (uint32_t)w;
		for (uint32_t k = a; k < b; k++)
			if (k == a || ids[k] != ids[k - 1])
				ids[w++] = ids[k];
	}
	cnt[nstates] = (uint32_t)w;
	/* 3. breadth-first: failure links, DFA completion, dictionary links */
	size_t qh = 0, qt = 0;
	for (size_t c = 0; c < ncls; c++) {
		uint32_t t = trans[c];
		if (t != 0) {
			fail[t] = 0;
			queue[qt++] = t;
		}
	}
	trans[0] = 0; /* class 0 never occurs in a literal: stays at root */
	while (qh < qt) {
		uint32_t s = queue[qh++];
		uint32_t f = fail[s];
		dict[s] = cnt[f + 1] > cnt[f] ? f : dict[f];
		for (size_t c = 0; c < ncls; c++) {
			uint32_t *t = &trans[(size_t)s * ncls + c];
			uint32_t ft = trans[(size_t)f * ncls + c] & ~LS_OUT_FLAG;
			if (*t != 0 && c != 0) {
				fail[*t] = ft;
				queue[qt++] = *t;
			} else {
				*t = ft;
			}
		}
	}
	/* 4. renumber breadth-first (the queue's order): the shallow states,
	 * where a scan of text spends nearly all its time, then share a few
	 * pages of the table instead of lying all over it; premultiply; mark
	 * transitions into reporting states */
	uint32_t *newid = fail;   /* the failure links are done with */
	uint32_t *nt = table_alloc(nstates * ncls * sizeof *nt);
	uint32_t *ncnt = malloc((nstates + 1) * sizeof *ncnt);
	uint32_t *nids = malloc((cnt[nstates] + 1) * sizeof *nids);
	uint32_t *ndict = malloc(nstates * sizeof *ndict);
	if (!nt || !ncnt || !nids || !ndict || qt + 1 != nstates) {
		free(nt); free(ncnt); free(nids); free(ndict);
		free(trans); free(state_of); free(fail); free(queue);
		free(cnt); free(dict); free(ids);
		return -1;
	}
	newid[0] = 0;
	for (size_t i = 0; i < qt; i++)
		newid[queue[i]] = (uint32_t)(i + 1);
	uint32_t w2 = 0;
	for (size_t ns = 0; ns < nstates; ns++) {
		uint32_t s = ns ? queue[ns - 1] : 0;
		for (size_t c = 0; c < ncls; c++) {
			uint32_t t = trans[(size_t)s * ncls + c];
			bool out = cnt[t + 1] > cnt[t] || dict[t] != 0;
			nt[ns * ncls + c] = newid[t] * (uint32_t)ncls |
			                    (out ? LS_OUT_FLAG : 0);
		}
		ncnt[ns] = w2;
		for (uint32_t k = cnt[s]; k < cnt[s + 1]; k++)
			nids[w2++] = ids[k];
		ndict[ns] = newid[dict[s]];
	}
	ncnt[nstates] = w2;
	free(trans);
	free(cnt);
	free(ids);
	free(dict);
	ls->trans = nt;
	ls->nstates = nstates;
	ls->out_start = ncnt;
	ls->out_ids = nids;
	ls->dict = ndict;
	free(state_of);
	free(fail);
	free(queue);
	ls->built = true;
	return 0;
}

/* Report the literals ending at state offset off (a division, but only
 * when something was found). */
static void report(const struct acscan *ls, uint32_t off, uint64_t *found)
{
	uint32_t s = off / (uint32_t)ls->ncls;
	do {
		for (uint32_t k = ls->out_start[s]; k < ls->out_start[s + 1]; k++) {
			uint32_t id = ls->out_ids[k];
			found[id >> 6] |= (uint64_t)1 << (id & 63);
		}
		s = ls->dict[s];
	} while (s != 0);
}

/* One stream from state offset st over [p, end); returns the last state.
 * With seen, flags each byte there. Inlined into callers passing a
 * constant seen, so the loop without it has no test. */
static inline __attribute__((always_inline)) uint32_t
run1(const struct acscan *ls, uint32_t st, const unsigned char *p,
     const unsigned char *end, uint64_t *found, unsigned char *seen)
{
	const uint32_t *trans = ls->trans;
	const unsigned char *cls = ls->cls;
	while (p < end) {
		if (seen != NULL)
			seen[*p] = 1;
		uint32_t t = trans[st + cls[*p++]];
		st = t & ~LS_OUT_FLAG;
		if (t & LS_OUT_FLAG)
			report(ls, st, found);
	}
	return st;
}

size_t acscan_count(const struct acscan *ls, const char *text, size_t len,
                    size_t need)
{
	if (ls == NULL || !ls->built || ls->nstates <= 1 || text == NULL)
		return 0;
	const uint32_t *trans = ls->trans;
	const unsigned char *cls = ls->cls;
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	uint32_t st = 0;
	size_t n = 0;
	while (p < end && n < need) {
		uint32_t t = trans[st + cls[*p++]];
		st = t & ~LS_OUT_FLAG;
		n += (t & LS_OUT_FLAG) != 0;
	}
	return n;
}

/* Texts shorter than this per stream are scanned in one stream. */
#define LS_STREAM_MIN 16

/* A DFA walk is bound by the latency of one load per byte; four
 * independent streams over four slices of the text overlap those
 * latencies. Slice k > 0 starts maxlen - 1 bytes early, so a literal
 * ending in slice k lies wholly inside its stream; an occurrence reported
 * twice only sets the same bit twice. */
static inline __attribute__((always_inline)) void
run4(const struct acscan *ls, const char *text, size_t len, uint64_t *found,
     unsigned char *seen)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t ov = ls->maxlen - 1;
	if (len / 4 < LS_STREAM_MIN + ov) {
		run1(ls, 0, p, p + len, found, seen);
		return;
	}
	size_t chunk = len / 4;
	const unsigned char *p0 = p, *p1 = p + chunk - ov,
	                    *p2 = p + 2 * chunk - ov, *p3 = p + 3 * chunk - ov;
	const uint32_t *trans = ls->trans;
	const unsigned char *cls = ls->cls;
	uint32_t st0 = 0, st1 = 0, st2 = 0, st3 = 0;
	for (size_t i = 0; i < chunk; i++) {
		if (seen != NULL) {   /* the overlaps are flagged twice */
			seen[p0[i]] = 1;
			seen[p1[i]] = 1;
			seen[p2[i]] = 1;
			seen[p3[i]] = 1;
		}
		uint32_t t0 = trans[st0 + cls[p0[i]]];
		uint32_t t1 = trans[st1 + cls[p1[i]]];
		uint32_t t2 = trans[st2 + cls[p2[i]]];
		uint32_t t3 = trans[st3 + cls[p3[i]]];
		st0 = t0 & ~LS_OUT_FLAG;
		st1 = t1 & ~LS_OUT_FLAG;
		st2 = t2 & ~LS_OUT_FLAG;
		st3 = t3 & ~LS_OUT_FLAG;
		if ((t0 | t1 | t2 | t3) & LS_OUT_FLAG) {
			if (t0 & LS_OUT_FLAG)
				report(ls, st0, found);
			if (t1 & LS_OUT_FLAG)
				report(ls, st1, found);
			if (t2 & LS_OUT_FLAG)
				report(ls, st2, found);
			if (t3 & LS_OUT_FLAG)
				report(ls, st3, found);
		}
	}
	/* Tails: slices 1..3 started ov bytes early; the last one also
	 * takes the remainder of the division. */
	run1(ls, st1, p1 + chunk, p + 2 * chunk, found, seen);
	run1(ls, st2, p2 + chunk, p + 3 * chunk, found, seen);
	run1(ls, st3, p3 + chunk, p + len, found, seen);
	(void)st0;
}

void acscan_run(const struct acscan *ls, const char *text, size_t len,
                uint64_t *found)
{
	if (ls == NULL || !ls->built || ls->nstates <= 1 || text == NULL)
		return;
	run4(ls, text, len, found, NULL);
}

void acscan_run_bytes(const struct acscan *ls, const char *text,
                      size_t len, uint64_t *found, struct litscan_bset *bytes)
{
	if (ls == NULL || !ls->built || ls->nstates <= 1 || text == NULL ||
	    len < 32) {
		acscan_run(ls, text, len, found);
		acscan_bytes(text, len, bytes);
		return;
	}
	unsigned char seen[256];
	memset(seen, 0, sizeof seen);
	run4(ls, text, len, found, seen);
	seen_bits(seen, bytes);
}

void acscan_free(struct acscan *ls)
{
	if (ls == NULL)
		return;
	free(ls->lits);
	free(ls->pool);
	free(ls->trans);
	free(ls->out_start);
	free(ls->out_ids);
	free(ls->dict);
	free(ls);
}
