/*
 * rulescache.c — the rule engine's compile cache (rules_int.h): what
 * compile_regex() and prep_prefilter() leave in each rule, as one blob.
 *
 * The blob: the number of rules, the number of compiled patterns the
 * rules hold and the length of PCRE2's serialization of them
 * (pcre2_serialize_encode()), that serialization, then per rule its
 * record (put_rule()), where a pattern is its index plus one in that
 * serialization (0: none). Integers are little-endian. The blob is read back only
 * by the program that wrote it (its build ID is in the key), so the
 * records need no versioning; they are still parsed with bounds, and a
 * record that does not fit its rule is refused whole.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <link.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "acscan.h"
#include "litscan.h"
#include "ruleset.h"
#include "rules_int.h"
#include "strbuf.h"

#define CACHE_FORMAT "vigil rules cache 1"

/* ---- the key ---- */

struct build_id {
	const uint8_t *p;
	size_t n;
};

/* The GNU build ID note among the notes of one PT_NOTE segment. */
static bool note_build_id(const uint8_t *p, size_t size, size_t align,
                          struct build_id *b)
{
	size_t off = 0;
	while (off + sizeof(ElfW(Nhdr)) <= size) {
		const ElfW(Nhdr) *nh = (const void *)(p + off);
		size_t name = off + sizeof *nh;
		size_t desc = name + ((nh->n_namesz + align - 1) & ~(align - 1));
		size_t next = desc + ((nh->n_descsz + align - 1) & ~(align - 1));
		if (next > size || desc > size)
			return false;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    memcmp(p + name, "GNU", 4) == 0 && nh->n_descsz > 0) {
			b->p = p + desc;
			b->n = nh->n_descsz;
			return true;
		}
		off = next;
	}
	return false;
}

/* dl_iterate_phdr() visits the program first: it alone is looked at. */
static int program_build_id(struct dl_phdr_info *info, size_t size,
                            void *data)
{
	(void)size;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_NOTE &&
		    note_build_id((const uint8_t *)(info->dlpi_addr + ph->p_vaddr),
		                  ph->p_memsz, ph->p_align == 8 ? 8 : 4, data))
			break;
	}
	return 1;
}

static void md_u64(EVP_MD_CTX *md, uint64_t v, bool *ok)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	*ok &= EVP_DigestUpdate(md, b, sizeof b) == 1;
}

/* Length first, so that no two sequences of fields hash alike; NULL
 * apart from "". */
static void md_bytes(EVP_MD_CTX *md, const void *p, size_t n, bool *ok)
{
	md_u64(md, p ? n : UINT64_MAX, ok);
	if (p != NULL && n > 0)
		*ok &= EVP_DigestUpdate(md, p, n) == 1;
}

static void md_rule(EVP_MD_CTX *md, const struct crule *c, bool *ok)
{
	const struct rs_rule *rs = c->rs;
	md_u64(md, (uint64_t)c->state, ok);
	md_u64(md, (uint64_t)c->tgt, ok);
	md_u64(md, (uint64_t)rs->type, ok);
	md_u64(md, rs->exists, ok);
	md_u64(md, c->maxhits, ok);
	md_u64(md, rs->pcre2_options, ok);
	md_bytes(md, rs->pattern, rs->pattern_len, ok);
	md_bytes(md, rs->header, rs->header ? strlen(rs->header) : 0, ok);
}

int rules_cache_key(const struct rules *r, uint8_t key[32])
{
	struct build_id b = { 0 };
	dl_iterate_phdr(program_build_id, &b);
	if (b.p == NULL)
		return -1;
	PCRE2_UCHAR ver[64] = "";
	pcre2_config(PCRE2_CONFIG_VERSION, ver);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	if (ok) {
		md_bytes(md, CACHE_FORMAT, sizeof CACHE_FORMAT - 1, &ok);
		md_bytes(md, b.p, b.n, &ok);
		md_bytes(md, ver, strlen((const char *)ver), &ok);
		md_u64(md, r->opts.no_prefilter, &ok);
		md_u64(md, r->n, &ok);
		for (size_t i = 0; i < r->n && ok; i++)
			md_rule(md, &r->cr[i], &ok);
	}
	unsigned int len = 0;
	ok = ok && EVP_DigestFinal_ex(md, key, &len) == 1 && len == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* ---- writing ---- */

struct codes {
	const pcre2_code **v;
	size_t n, cap;
	bool oom;
};

static void put_u(struct strbuf *b, uint64_t v, int bytes)
{
	uint8_t x[8];
	for (int i = 0; i < bytes; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	strbuf_put(b, x, (size_t)bytes);
}

/* A pattern's index in the serialization, plus one (0: none). */
static void put_code(struct strbuf *b, struct codes *cs, const struct jcode *j)
{
	if (j == NULL) {
		put_u(b, 0, 4);
		return;
	}
	if (cs->n == cs->cap) {
		size_t nc = cs->cap ? 2 * cs->cap : 1024;
		const pcre2_code **v = realloc(cs->v, nc * sizeof *v);
		if (v == NULL) {
			cs->oom = true;
			return;
		}
		cs->v = v;
		cs->cap = nc;
	}
	cs->v[cs->n++] = j->re;
	put_u(b, cs->n, 4);
}

static void put_part(struct strbuf *b, struct codes *cs, const struct part *pt)
{
	put_code(b, cs, pt->code);
	put_code(b, cs, pt->tail);
	put_code(b, cs, pt->lead);
}

static void put_lits(struct strbuf *b, const char (*lits)[64], size_t n)
{
	put_u(b, n, 4);
	for (size_t l = 0; l < n; l++) {
		size_t len = strnlen(lits[l], 63);
		put_u(b, len, 1);
		strbuf_put(b, lits[l], len);
	}
}

/* own's literals, as its automaton holds them (split_lits() added
 * each as lit_len() of it). */
static void put_own(struct strbuf *b, const struct acscan *own)
{
	size_t n = acscan_lit_count(own);
	put_u(b, n, 4);
	for (size_t l = 0; l < n; l++) {
		size_t len;
		const char *s = acscan_lit(own, l, &len);
		put_u(b, len, 1);
		strbuf_put(b, s, len);
	}
}

static void put_rule(struct strbuf *b, struct codes *cs, const struct crule *c)
{
	put_u(b, (uint64_t)(int64_t)c->cerr, 8);
	put_u(b, c->coff, 8);
	put_u(b, c->main.code ? 1 + c->nmore : 0, 4);   /* main, more[] */
	if (c->main.code != NULL)
		put_part(b, cs, &c->main);
	for (size_t k = 0; c->main.code != NULL && k < c->nmore; k++)
		put_part(b, cs, &c->more[k]);
	put_u(b, c->nascii, 4);
	for (size_t k = 0; k < c->nascii; k++)
		put_part(b, cs, &c->ascii[k]);
	put_u(b, c->lits, 1);
	put_u(b, c->lits_need, 1);
	put_u(b, c->skel, 1);
	put_u(b, c->minlen, 4);
	put_u(b, c->nreq, 4);
	strbuf_put(b, c->req, c->nreq * sizeof *c->req);
	size_t all = c->nplits;
	put_u(b, c->nconj, 1);
	for (size_t s = 0; s < c->nconj; s++) {
		put_u(b, c->xcount[s], 4);
		all += c->xcount[s];
	}
	put_u(b, c->nplits, 4);
	put_lits(b, (const char (*)[64])c->plits, all);
	put_own(b, c->own);
	put_u(b, c->rep_min, 8);
	size_t sl = c->rep_sig ? strlen(c->rep_sig) + 1 : 0;
	put_u(b, sl, 4);
	strbuf_put(b, c->rep_sig, sl);
}

int rules_cache_save(const struct rules *r, uint8_t **blob, size_t *len)
{
	struct strbuf recs = { 0 }, out = { 0 };
	struct codes cs = { 0 };
	for (size_t i = 0; i < r->n; i++)
		put_rule(&recs, &cs, &r->cr[i]);
	uint8_t *ser = NULL;
	PCRE2_SIZE slen = 0;
	int rc = recs.oom || cs.oom ? -1 : 0;
	if (rc == 0 && cs.n > 0 &&
	    pcre2_serialize_encode(cs.v, (int32_t)cs.n, &ser, &slen, NULL) !=
	    (int32_t)cs.n)
		rc = -1;
	if (rc == 0) {
		put_u(&out, r->n, 8);
		put_u(&out, cs.n, 8);
		put_u(&out, slen, 8);
		strbuf_put(&out, ser, slen);
		strbuf_put(&out, recs.p, recs.len);
		rc = out.oom ? -1 : 0;
	}
	if (ser != NULL)
		pcre2_serialize_free(ser);
	free(cs.v);
	strbuf_free(&recs);
	if (rc != 0) {
		strbuf_free(&out);
		return -1;
	}
	*blob = (uint8_t *)out.p;
	*len = out.len;
	return 0;
}

/* ---- reading ---- */

struct reader {
	const uint8_t *p;
	size_t n, off;
	bool bad;
	pcre2_code **codes;  /* decoded; taken (NULL) as rules claim them */
	size_t ncodes;
};

static uint64_t get_u(struct reader *rd, int bytes)
{
	if (rd->bad || rd->n - rd->off < (size_t)bytes) {
		rd->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | rd->p[rd->off + (size_t)i];
	rd->off += (size_t)bytes;
	return v;
}

/* n bytes copied to dst. */
static void get_bytes(struct reader *rd, void *dst, size_t n)
{
	if (rd->bad || rd->n - rd->off < n) {
		rd->bad = true;
		return;
	}
	memcpy(dst, rd->p + rd->off, n);
	rd->off += n;
}

/* A count of at most max. */
static size_t get_count(struct reader *rd, int bytes, size_t max)
{
	uint64_t v = get_u(rd, bytes);
	if (v > max)
		rd->bad = true;
	return rd->bad ? 0 : (size_t)v;
}

/* Each decoded pattern belongs to one part: taking it twice is refused. */
static struct jcode *get_code(struct reader *rd)
{
	size_t k = get_count(rd, 4, rd->ncodes);
	if (k == 0)
		return NULL;
	pcre2_code *re = rd->codes[k - 1];
	rd->codes[k - 1] = NULL;
	if (re == NULL) {
		rd->bad = true;
		return NULL;
	}
	struct jcode *j = rules_jcode_new(re);
	rd->bad |= j == NULL;
	return j;
}

static void get_part(struct reader *rd, struct part *pt)
{
	pt->code = get_code(rd);
	pt->tail = get_code(rd);
	pt->lead = get_code(rd);
	rd->bad |= pt->code == NULL;
}

/* n literals into a new array (NULL when n is 0). */
static char (*get_lits(struct reader *rd, size_t n))[64]
{
	if (n == 0 || rd->bad)
		return NULL;
	char (*v)[64] = calloc(n, sizeof *v);
	rd->bad |= v == NULL;
	for (size_t l = 0; l < n && !rd->bad; l++)
		get_bytes(rd, v[l], get_count(rd, 1, LITSCAN_MAX_LEN));
	return v;
}

/* own: an automaton of the literals put_own() wrote. */
static void get_own(struct reader *rd, struct crule *c)
{
	size_t n = get_count(rd, 4, 1u << 16);
	if (n == 0 || rd->bad)
		return;
	c->own = acscan_new();
	rd->bad |= c->own == NULL;
	for (size_t l = 0; l < n && !rd->bad; l++) {
		char s[LITSCAN_MAX_LEN];
		size_t len = get_count(rd, 1, LITSCAN_MAX_LEN);
		get_bytes(rd, s, len);
		rd->bad |= !rd->bad && (len == 0 ||
		                        acscan_add(c->own, s, len, 0) != 0);
	}
	rd->bad |= !rd->bad && acscan_build(c->own) != 0;
}

static void get_parts(struct reader *rd, struct part **v, size_t *n)
{
	*n = get_count(rd, 4, MAX_PARTS + 1);
	if (*n == 0 || rd->bad)
		return;
	*v = calloc(*n, sizeof **v);
	rd->bad |= *v == NULL;
	if (*v == NULL)
		*n = 0;   /* nothing for rules_crule_clear() to free */
	for (size_t k = 0; k < *n && !rd->bad; k++)
		get_part(rd, &(*v)[k]);
}

static void get_rule(struct reader *rd, struct crule *c)
{
	c->cerr = (int)(int64_t)get_u(rd, 8);
	c->coff = (size_t)get_u(rd, 8);
	size_t nparts = get_count(rd, 4, MAX_PARTS + 1);
	if (nparts > 0) {
		get_part(rd, &c->main);
		if (nparts > 1 && !rd->bad) {
			c->more = calloc(nparts - 1, sizeof *c->more);
			rd->bad |= c->more == NULL;
			for (size_t k = 0; k + 1 < nparts && !rd->bad; k++) {
				get_part(rd, &c->more[k]);
				c->nmore = k + 1;
			}
		}
	}
	get_parts(rd, &c->ascii, &c->nascii);
	c->lits = get_u(rd, 1) != 0;
	c->lits_need = (uint8_t)get_count(rd, 1, TXT_PLAIN);
	c->skel = get_u(rd, 1) != 0;
	c->minlen = (uint32_t)get_u(rd, 4);
	c->nreq = get_count(rd, 4, RULES_MAX_REQ);
	if (c->nreq > 0 && !rd->bad) {
		c->req = malloc(c->nreq * sizeof *c->req);
		rd->bad |= c->req == NULL;
		get_bytes(rd, c->req, c->nreq * sizeof *c->req);
	}
	c->nconj = (uint8_t)get_count(rd, 1, RULES_MAX_CONJ - 1);
	size_t all = 0;
	for (size_t s = 0; s < c->nconj; s++)
		all += c->xcount[s] = get_count(rd, 4, LITSCAN_MAX_LITS);
	c->nplits = get_count(rd, 4, LITSCAN_MAX_LITS);
	all += c->nplits;
	rd->bad |= get_count(rd, 4, all) != all;
	c->plits = get_lits(rd, all);
	get_own(rd, c);
	c->rep_min = (size_t)get_u(rd, 8);
	size_t sl = get_count(rd, 4, 1u << 20);
	if (sl > 0 && !rd->bad) {
		c->rep_sig = malloc(sl);
		rd->bad |= c->rep_sig == NULL;
		get_bytes(rd, c->rep_sig, sl);
		rd->bad |= !rd->bad && c->rep_sig[sl - 1] != '\0';
	}
}

void rules_crule_clear(struct crule *c)
{
	rules_part_free(&c->main);
	for (size_t k = 0; k < c->nmore; k++)
		rules_part_free(&c->more[k]);
	free(c->more);
	for (size_t k = 0; k < c->nascii; k++)
		rules_part_free(&c->ascii[k]);
	free(c->ascii);
	free(c->req);
	free(c->plits);
	acscan_free(c->own);
	free(c->rep_sig);
	c->more = c->ascii = NULL;
	c->nmore = c->nascii = c->nreq = c->nplits = c->rep_min = 0;
	c->req = NULL;
	c->plits = NULL;
	c->own = NULL;
	c->rep_sig = NULL;
	c->cerr = 0;
	c->coff = 0;
	c->lits = c->skel = false;
	c->lits_need = TXT_HIGH;
	c->minlen = 0;
	c->nconj = 0;
}

int rules_cache_restore(struct rules *r, const uint8_t *blob, size_t len)
{
	struct reader rd = { .p = blob, .n = len };
	size_t n = get_count(&rd, 8, SIZE_MAX);
	rd.ncodes = get_count(&rd, 8, INT32_MAX);
	size_t slen = get_count(&rd, 8, len);
	if (rd.bad || n != r->n || slen > len - rd.off)
		return -1;
	if (rd.ncodes > 0) {
		const uint8_t *ser = blob + rd.off;
		rd.codes = calloc(rd.ncodes, sizeof *rd.codes);
		if (rd.codes == NULL ||
		    pcre2_serialize_get_number_of_codes(ser) != (int32_t)rd.ncodes ||
		    pcre2_serialize_decode(rd.codes, (int32_t)rd.ncodes, ser,
		                           NULL) != (int32_t)rd.ncodes) {
			free(rd.codes);
			return -1;
		}
	}
	rd.off += slen;
	for (size_t i = 0; i < r->n && !rd.bad; i++)
		get_rule(&rd, &r->cr[i]);
	bool ok = !rd.bad && rd.off == rd.n;
	for (size_t k = 0; k < rd.ncodes; k++) {   /* unclaimed: a bad blob */
		ok &= rd.codes[k] == NULL;
		pcre2_code_free(rd.codes[k]);
	}
	free(rd.codes);
	for (size_t i = 0; i < r->n && !ok; i++)
		rules_crule_clear(&r->cr[i]);
	return ok ? 0 : -1;
}
