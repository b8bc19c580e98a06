/*
 * acscan.h — multi-literal scanner: which of many literals occur in a text.
 *
 * struct acscan is an Aho-Corasick automaton compiled to a dense byte DFA
 * over ASCII-lower-cased input (literals match ASCII-case-insensitively;
 * other bytes exactly). Add literals with ids, build once; then it is
 * read-only and safe to share between threads, and acscan_run() allocates
 * nothing. The rule engine's literal prefilter runs one over each text;
 * litscan.h derives the literals from patterns. acscan_bytes() and
 * acscan_run_bytes() also note which bytes a text holds, as the byte sets
 * litscan_req_bytes() requires (struct litscan_bset, litscan.h).
 */
#ifndef VIGIL_ACSCAN_H
#define VIGIL_ACSCAN_H

#include <stddef.h>
#include <stdint.h>

struct litscan_bset;

struct acscan;

struct acscan *acscan_new(void);

/* Add a literal (matched ASCII-case-insensitively) reporting id. Several
 * literals may share an id and an id may come with several literals.
 * Returns 0, or -1 (empty literal, after build, or out of memory). */
int acscan_add(struct acscan *ls, const char *lit, size_t len, uint32_t id);

/* Build the automaton. Returns 0, or -1 (out of memory, or called twice). */
int acscan_build(struct acscan *ls);

/* The literals added, in the order added and as the scan matches them
 * (ASCII lower-cased): how many, and literal i (*len bytes, not
 * NUL-ended). */
size_t acscan_lit_count(const struct acscan *ls);
const char *acscan_lit(const struct acscan *ls, size_t i, size_t *len);

/* Largest id added plus one (0 when none): the size in bits of found. */
uint32_t acscan_id_limit(const struct acscan *ls);

/* Scan text once; for every literal occurring in it set bit id in found
 * (found[id / 64] |= 1 << id % 64). found has acscan_id_limit() bits and
 * is zeroed by the caller. Does nothing before a successful build. */
void acscan_run(const struct acscan *ls, const char *text, size_t len,
                uint64_t *found);

/* The bytes occurring in text[0..len). */
void acscan_bytes(const char *text, size_t len, struct litscan_bset *out);

/* acscan_run() (ls may be NULL) that also writes the bytes occurring
 * in text to *bytes, as acscan_bytes() does, in the same pass. */
void acscan_run_bytes(const struct acscan *ls, const char *text,
                      size_t len, uint64_t *found,
                      struct litscan_bset *bytes);

/* The number of distinct positions of text at which some literal (of
 * any id) ends, counted up to need (the scan stops there). Literals
 * wholly inside disjoint spans end at distinct positions: a repeat
 * whose every iteration must contain a literal (litscan_extract() of
 * its body) needs that many. 0 before a successful build. */
size_t acscan_count(const struct acscan *ls, const char *text, size_t len,
                    size_t need);

void acscan_free(struct acscan *ls);

#endif
