/*
 * litscan.h — literal prefilter for regex rules.
 *
 * litscan_extract() derives from a PCRE2 pattern a set of literals such
 * that whenever the pattern matches a subject, at least one literal occurs
 * in the subject (compared ASCII-case-insensitively; patterns are taken to
 * be compiled with PCRE2's built-in tables). The engine then runs
 * the regex only when the literal scan found one of them. Extraction is
 * conservative: whatever it does not understand cuts a literal or yields 0
 * (no usable literal: the rule must always run). The literal scan is
 * struct acscan (acscan.h).
 */
#ifndef VIGIL_LITSCAN_H
#define VIGIL_LITSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#define LITSCAN_MIN_LEN  3   /* shorter literals are useless as filters */
#define LITSCAN_MAX_LEN  63  /* longest literal kept (fits char[64]) */
#define LITSCAN_MAX_LITS 128 /* most literals per pattern */

/* Extract literals from pattern[0..len) compiled with pcre2_options
 * (PCRE2_CASELESS, PCRE2_EXTENDED, ... are honoured). Writes up to
 * max_lits (at most LITSCAN_MAX_LITS are ever returned) NUL-terminated,
 * ASCII-lower-cased literals of LITSCAN_MIN_LEN..LITSCAN_MAX_LEN bytes
 * into lits and returns their number; 0 means no usable literal. */
size_t litscan_extract(const char *pattern, size_t len,
                       uint32_t pcre2_options,
                       char lits[][64], size_t max_lits);

/* litscan_extract() that also finds further sets: writes up to max_sets
 * sets of literals one after the other into lits (max_lits in all; set
 * i has counts[i] members) and returns their number. Set 0 is what
 * litscan_extract() gives (none: 0 sets); every match contains a member
 * of each set. The others come from the items every match passes
 * through, where set 0 comes from (the pattern's concatenation, and
 * those of the non-optional groups of one branch in it; not
 * lookarounds), each as long and usable as set 0's members must be,
 * the rarest first (by their shortest member), none that a text holding
 * a member of set 0 or of one taken before always holds. */
size_t litscan_extract_conj(const char *pattern, size_t len,
                            uint32_t pcre2_options, char lits[][64],
                            size_t max_lits, size_t *counts,
                            size_t max_sets);

/* The same for the pattern's skeleton: literals of ASCII letters and
 * digits such that whenever the pattern matches a subject, one of them
 * occurs in the subject's skeleton (litscan_skeleton()). In the pattern
 * the bytes a skeleton drops become optional ("[a4@]" is "a", "4" or
 * nothing) and assertions are ignored, so the rules that spell a word
 * with optional separators ("v[_\W]?i[_\W]?a") get literals. 0 for
 * UTF or UCP patterns. */
size_t litscan_extract_skel(const char *pattern, size_t len,
                            uint32_t pcre2_options,
                            char lits[][64], size_t max_lits);

/* text[0..len) without its bytes other than ASCII letters and digits,
 * written to out (room for len bytes); returns the length written. */
size_t litscan_skeleton(const char *text, size_t len, char *out);

/* Spans [offs[i], ends[i]) (at most max) of the pattern such that the
 * pattern text of a span, compiled with the same options, finds a match
 * in every subject the whole pattern matches: the items of a
 * concatenation from the second one on, also inside groups every match
 * passes through (plain, atomic or positive lookaround groups of one
 * branch, not optional): a match of a concatenation contains one of
 * each run of its trailing items, and the same text gives \b,
 * lookarounds and anchors the same context. None (0) for a pattern with
 * a top-level '|', backreferences, subroutine calls or \G (they depend
 * on the part left out), or what extraction does not understand; no
 * span starts after an unscoped option setting of its group. The engine
 * runs such a tail, when PCRE2 can search it faster, to skip texts the
 * whole pattern cannot match. heads[i] ends the head of span i: its
 * items up to and including the first that is not a group and takes at
 * least one character on every match (ends[i] when none does). PCRE2
 * derives where a match may start (first code unit, line start, start
 * bitmap) from the items up to that one alone, so compiling the head
 * tells it for the tail at a fraction of the cost. */
size_t litscan_tails(const char *pattern, size_t len, uint32_t pcre2_options,
                     size_t *offs, size_t *ends, size_t *heads, size_t max);

/* The largest alternation whose branches can be taken apart: every group
 * around it is plain (capturing, non-capturing, named) and not
 * quantified, so the pattern matches a subject exactly when one of the
 * patterns made of pattern[0..from), some of its branches joined by '|',
 * and pattern[to..len) does. Writes the start offsets of its branches
 * (branch i ends one byte before branch i+1 starts, the last at to) and
 * returns their number; 0 when there is none (or more than max), or the
 * pattern has references, unscoped option settings, verbs, \Q, or is
 * extended. Used to compile patterns too large for PCRE2 in parts. */
size_t litscan_alternation(const char *pattern, size_t len,
                           uint32_t pcre2_options, size_t *from, size_t *to,
                           size_t *branches, size_t max);

/* Whether the whole pattern is one non-capturing group repeated {min} or
 * {min,max} times (min >= 1; max -1 for {min,}), without references:
 * then its body is pattern[body..body+body_len). PCRE2 compiles such a
 * repeat as that many copies of the body; the engine compiles
 * "(body)(?1){min-1,max-1}" instead, which matches the same. */
bool litscan_repeat(const char *pattern, size_t len, uint32_t pcre2_options,
                    size_t *body, size_t *body_len, long *min, long *max);

/* For a pattern litscan_repeat() takes apart with min >= 2: literals
 * (as litscan_extract() writes them) one of which every iteration of the
 * repeat consumes, so a match contains *min of them ending at distinct
 * positions (acscan_count()). 0 when there are none, or the body has
 * what could put its literal outside the iteration's span or make it
 * depend on other iterations (positive lookarounds, verbs, references,
 * calls, conditions, unknown "(?" groups). */
size_t litscan_repeat_lits(const char *pattern, size_t len,
                           uint32_t pcre2_options, char lits[][64],
                           size_t max_lits, long *min);

/* For a pattern only asked whether it matches somewhere: the pattern
 * without the optional items a match may start with (also inside the
 * plain groups it starts with, in each branch, and in the first turn of
 * such a group repeated {m,n}), and without capturing groups. It matches
 * some part of every subject the pattern matches some part of, and of no
 * other. With calls, the first repeat whose first turn it strips has its
 * other turns as "(group)(?1){m-2,n-2}" (for patterns PCRE2 finds too
 * large written out). Malloc'd, NUL-ended, length in *out_len; NULL when
 * nothing is dropped, the pattern has what this does not understand
 * (references, calls, conditions, verbs, \G, \Q, named groups, extended
 * or UTF mode), or out of memory. */
char *litscan_strip_lead(const char *pattern, size_t len,
                         uint32_t pcre2_options, bool calls,
                         size_t *out_len);

/* The ASCII projection of the pattern: a pattern (malloc'd, NUL-ended,
 * length in *out_len) that finds the same matches in every subject with
 * no byte >= 0x80 (with no_amp: and no '&' either). Items that can only
 * match such a byte are dropped (with their branch when not optional),
 * classes keep their ASCII bytes; "(*FAIL)" when nothing is left. NULL
 * when the pattern has no such item, or has what the projection does not
 * understand (option settings, references, calls, conditions, verbs, \Q,
 * \p, extended or UTF mode), or out of memory. Capture groups may be
 * renumbered. With no_amp it serves literal extraction: the HTML
 * entities ("&#1072;") the homoglyph rules allow for each letter are
 * gone, so the letters' few ASCII forms multiply into literals. */
char *litscan_ascii(const char *pattern, size_t len, uint32_t pcre2_options,
                    bool no_amp, size_t *out_len);

/* Whether PCRE2 may miss matches of code, compiled from pattern[0..len):
 * before 10.45 its start-up optimisation takes a first code unit from a
 * lookahead and then looks for an equal last code unit after it, so
 * "(?=b)b?b" finds nothing in "b" (PCRE2 pull request 444). The patterns
 * derived here (projections, leads, tails) are not used when it says so:
 * they could make a rule miss what its own pattern finds. */
bool litscan_pcre2_trap(const pcre2_code *code, const char *pattern,
                        size_t len);

/* A set of bytes: byte b is bit b % 64 of w[b / 64]. */
struct litscan_bset {
	uint64_t w[4];
};

/* Required byte classes of the pattern: up to max sets (the rarest
 * first, by a rough guess) such that every subject the pattern matches
 * contains a byte of each. Sets costing more than max_cost are left out:
 * a cost c guesses that a text lacks all of a set's bytes with a chance
 * of e^(-c/16) (from how many paragraphs of a mail sample hold each
 * byte: 'e' costs 32, 'T' 16, 'S' 8, 'U' 4, 'V' 2, '$' 1).
 * LITSCAN_REQ_COST keeps sets about one text in 150 lacks, and keeps the
 * unions of long alternations small. Derived from the items every match passes
 * through: bytes, classes and escapes not quantified {0,..}, groups and
 * positive lookarounds likewise, an alternation giving the union of one
 * set of each branch; (?i) folds ASCII letters (PCRE2's built-in
 * tables). Returns their number: 0 when none is known, or the pattern
 * has what this does not understand (UTF, UCP or extended mode, \Q,
 * \p, verbs, conditions, named references, ...). */
#define LITSCAN_REQ_COST 80
size_t litscan_req_bytes(const char *pattern, size_t len,
                         uint32_t pcre2_options, unsigned max_cost,
                         struct litscan_bset *sets, size_t max);

/* Whether have (a text's bytes, acscan_bytes()) holds a byte of need. */
static inline bool litscan_bset_meets(const struct litscan_bset *have,
                                      const struct litscan_bset *need)
{
	return ((have->w[0] & need->w[0]) | (have->w[1] & need->w[1]) |
	        (have->w[2] & need->w[2]) | (have->w[3] & need->w[3])) != 0;
}

#endif
