/*
 * perlre.h — what Perl 5.36 says about a rule's pattern that PCRE2 does
 * not: the checks behind SpamAssassin's refusal of a pattern Perl warns
 * about, for the rule loader (ruleset.c).
 *
 * Patterns are bytes with their length (no NUL needed); nothing is
 * allocated. A pattern PCRE2 will refuse anyway (an unbalanced group)
 * is passed over: its error comes from the compiler.
 */
#ifndef VIGIL_PERLRE_H
#define VIGIL_PERLRE_H

#include <stdbool.h>
#include <stddef.h>

/* The index of the ']' closing the character class opening at p[i]
 * ('['): a ']' first (after '^') is a member, escapes and [:name:] pass;
 * n when it never closes. */
size_t perlre_class_end(const char *p, size_t n, size_t i);

/* A quantified zero-length item, as Perl 5.36 warns about it (and
 * SpamAssassin then refuses the rule): an item that never matches a
 * character (\b, \B, \A, \z, \Z, \G, \K, ^, $, a lookaround, a group of
 * such items) under *, +, {n,}; or under a count other than ? or {0,n}
 * (n >= 1), outside any alternation and lookaround and holding no
 * capture group (Perl's "Quantifier unexpected on zero-length
 * expression"). x: the pattern is compiled with /x. Returns the
 * message, with *at the offset of the quantifier, or NULL. */
const char *perlre_zero_length_fault(const char *p, size_t n, bool x,
                                     size_t *at);

/* The length of the assertion at p[i] (\b, \B, \A, \z, \Z, \G, \K, or an
 * unescaped ^ or $) when a quantifier Perl accepts on it (?, {0,n})
 * follows, which PCRE2 refuses ("quantifier does not follow a repeatable
 * item") and reads in a group, (?:\b)?; else 0. */
size_t perlre_quantified_assertion(const char *p, size_t n, size_t i,
                                   bool x);

/* Pattern p with each lookbehind of variable length that PCRE2 10.42
 * refuses and Perl 5.36 runs written as an alternation of fixed-length
 * branches, which PCRE2 takes: (?<=https?://) as (?<=http://|https://).
 * Only a lookbehind of plain items (characters, escapes, classes) with
 * bounded counts, at most 64 branches of at most 255 characters, is
 * written so. Returns the length of the result (0: nothing to write), and
 * writes it to out when cap holds it. */
size_t perlre_lookbehind_expand(const char *p, size_t n, bool x, char *out,
                                size_t cap);

/* Whether two named groups of p share a name ((?<w>a)|(?<w>b)), which
 * Perl allows and PCRE2 only with its (?J) option. */
bool perlre_dup_names(const char *p, size_t n);

#endif
