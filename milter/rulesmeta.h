/*
 * rulesmeta.h — SpamAssassin meta expressions, compiled once, evaluated fast.
 *
 * A meta expression combines other rules' results with Perl's operators
 * and Perl's semantics (SpamAssassin evaluates metas as Perl code):
 * operands are rule names ([A-Za-z_][A-Za-z0-9_:]*, a name with ':' is
 * no rule's) and numbers (integer or decimal); operators, loosest first:
 * ? :, ||, &&, ^, == != , < > <= >=, + -, * /, unary ! and -,
 * parentheses. `a && b` yields a when a is false, else b; `a || b` yields
 * a when a is true, else b (matters with hit counts). !x yields 1 or 0;
 * a ^ b is the bitwise exclusive or of a and b as unsigned integers.
 * Division by zero yields 0.
 *
 * rmeta_compile() resolves each name to an index through the caller's
 * resolver; names the resolver does not know (-1) evaluate as 0 and are
 * listed by rmeta_unknown_*() so the caller can report them. The compiled
 * program is immutable: rmeta_eval() may run on several threads at once,
 * allocates nothing and is bounded by the expression size.
 *
 * Limits: RMETA_MAX_LEN bytes of expression, RMETA_MAX_DEPTH nesting.
 */
#ifndef VIGIL_RULESMETA_H
#define VIGIL_RULESMETA_H

#include <stdbool.h>
#include <stddef.h>

#define RMETA_MAX_LEN   65536
#define RMETA_MAX_DEPTH 200

struct rmeta;

/* Map a rule name (not NUL-terminated) to an index >= 0, or -1 when the
 * name is unknown. */
typedef int (*rmeta_resolve_fn)(void *ctx, const char *name, size_t len);

/* Compile expr[0..len). Returns NULL on a syntax error or when a limit is
 * exceeded, with a message in err ("expected ')' at column 12"; columns
 * count from 1); NULL with "out of memory" when allocation fails. */
struct rmeta *rmeta_compile(const char *expr, size_t len,
                            rmeta_resolve_fn resolve, void *ctx,
                            char *err, size_t errlen);

/* Evaluate with values[index] = hit count of rule index (0 when not hit).
 * Every index returned by rmeta_dep_at() must be a valid subscript. The
 * result is a function of values[] at those indexes only: the same bits
 * there give the same bits back (rules.c evaluates only the metas whose
 * operands changed, and relies on this). */
double rmeta_eval(const struct rmeta *m, const double *values);

/* The same value, each operand read through fetch(ctx, index) as the
 * program gets to it: the right operand of && and || is not fetched when
 * the left decides (a caller can compute operands on demand). */
typedef double (*rmeta_fetch_fn)(void *ctx, int index);
double rmeta_eval_fetch(const struct rmeta *m, rmeta_fetch_fn fetch,
                        void *ctx);

/* The values rmeta_eval() may give, lo .. hi, from the values each
 * operand may hold: peek(ctx, index, &lo, &hi) tells those of operand
 * index (lo == hi when it is known). lo == hi when that decides the value
 * (`A && B` with B known 0; `A + B > 3` with A and B at most 1). Returns
 * the first operand not known that the evaluation reached (past the
 * sides of && and || the known ones decide), the one worth learning
 * next; -1 when none. */
typedef void (*rmeta_peek_fn)(void *ctx, int index, double *lo, double *hi);
int rmeta_eval_bounds(const struct rmeta *m, rmeta_peek_fn peek,
                      void *ctx, double *lo, double *hi);

/* Whether the expression divides by 0 with every operand 0: how
 * SpamAssassin checks a meta (its rule names made 0, the expression run
 * as Perl, short cuts taken); it refuses such a meta ("division by zero
 * possible"). */
bool rmeta_zero_division(const struct rmeta *m);

/* Whether the expression does arithmetic or compares (counts hits), as
 * opposed to combining truth values with &&, || and ! alone. */
bool rmeta_counts(const struct rmeta *m);

/* The distinct indexes the expression reads, in order of first use. */
size_t rmeta_dep_count(const struct rmeta *m);
int rmeta_dep_at(const struct rmeta *m, size_t i);

/* The distinct names that resolved to -1 (NUL-terminated, owned by m). */
size_t rmeta_unknown_count(const struct rmeta *m);
const char *rmeta_unknown_at(const struct rmeta *m, size_t i);

void rmeta_free(struct rmeta *m);

/* Topological order of n nodes (0..n-1): fills order[0..n) so that every
 * node comes after all its dependencies (dependencies >= n are ignored;
 * a node depending on itself is a cycle). Returns 0, or -1 when there is
 * a cycle, with *cycle_node set to a node that lies on a cycle (order[] is
 * then unspecified). Returns -1 with *cycle_node = n when memory runs out.
 * Iterative: no recursion depth limit. */
int rmeta_order(size_t n,
                size_t (*dep_count)(void *ctx, size_t node),
                size_t (*dep_at)(void *ctx, size_t node, size_t i),
                void *ctx, size_t *order, size_t *cycle_node);

/* One token of SpamAssassin's ARITH_EXPRESSION_LEXER (Constants.pm),
 * which meta expressions and `if` conditions both go through, at e[i]
 * (i < n): a run of [-+.0-9] (RMETA_LEX_NUMBER), a name
 * [A-Za-z_][A-Za-z0-9_:]* (RMETA_LEX_NAME), else one byte, an operator
 * or what the lexer skips (RMETA_LEX_OTHER). Returns the index after
 * it. The callers check the runs as SpamAssassin checks them. */
enum rmeta_lex { RMETA_LEX_NUMBER, RMETA_LEX_NAME, RMETA_LEX_OTHER };
size_t rmeta_lex(const char *e, size_t n, size_t i, enum rmeta_lex *kind);

#endif
