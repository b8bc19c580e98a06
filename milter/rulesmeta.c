/*
 * rulesmeta.c — SpamAssassin meta expressions.
 *
 * The expression is parsed by precedence climbing into a postfix program
 * with two conditional jumps for && and || (Perl returns the deciding
 * operand, so the jumps leave it on the stack) and a conditional and an
 * unconditional jump for `c ? a : b`. Evaluation walks the
 * program over a fixed-size stack whose needed depth is computed at
 * compile time, so rmeta_eval() neither allocates nor recurses.
 */
#include "rulesmeta.h"

#include <stdarg.h>
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest evaluation stack a program may need; checked at compile time. */
#define RMETA_MAX_STACK 256

enum rm_op {
	OP_CONST, /* push num */
	OP_VAR,   /* push values[idx] */
	OP_NOT, OP_NEG,
	/* OP_MUL .. OP_XOR: arithmetic and comparisons (rmeta_counts()) */
	OP_MUL, OP_DIV, OP_ADD, OP_SUB,
	OP_LT, OP_GT, OP_LE, OP_GE, OP_EQ, OP_NE, OP_XOR,
	OP_AND,   /* top false: keep it, jump to idx; else pop */
	OP_OR,    /* top true: keep it, jump to idx; else pop */
	OP_JZ,    /* pop; jump to idx when it was 0 (`?`: to the else side) */
	OP_JMP    /* jump to idx (the end of `? :` after its then side) */
};

struct rm_ins {
	uint8_t op;
	int32_t idx;   /* OP_VAR: value index; OP_AND .. OP_JMP: jump target */
	double num;    /* OP_CONST */
};

struct rmeta {
	struct rm_ins *code;
	size_t ncode;
	int *deps;
	size_t ndeps;
	double zero;         /* the value when every operand is 0 */
	bool zero_div;       /* and it divides by 0 on the way */
	char **unknown;
	size_t nunknown;
};

/* ---- compiler ---------------------------------------------------------- */

enum tok {
	T_END, T_NAME, T_NUM, T_LP, T_RP, T_NOT, T_MINUS, T_PLUS, T_MUL,
	T_DIV, T_LT, T_GT, T_LE, T_GE, T_EQ, T_NE, T_AND, T_OR, T_XOR,
	T_QUEST, T_COLON, T_BAD
};

struct comp {
	const char *s;
	size_t len, pos;
	enum tok tok;          /* current token */
	size_t tpos, tlen;     /* its place */
	double num;            /* T_NUM value */
	rmeta_resolve_fn resolve;
	void *ctx;
	struct rmeta *m;
	size_t cap_code, cap_deps, cap_unknown;
	unsigned depth;
	size_t sp, max_sp;     /* simulated stack depth */
	char *err;
	size_t errlen;
	int failed;            /* 1 syntax, 2 memory */
};

__attribute__((format(printf, 2, 3)))
static void fail(struct comp *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	c->failed = 1;
	if (c->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
}

static void fail_oom(struct comp *c)
{
	if (c->failed)
		return;
	fail(c, "out of memory");
	c->failed = 2;
}

static int is_name_start(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

static int is_name_char(unsigned char ch)
{
	return is_name_start(ch) || is_digit(ch);
}

/* SpamAssassin's meta lexer reads a name as \w[\w:]*, so `A?B:C` holds
 * the name "B:C" (no rule has it) and no ':' of a `? :`. */
static int is_name_rest(unsigned char ch)
{
	return is_name_char(ch) || ch == ':';
}

/* A number as SpamAssassin's meta check lets it through (bad_token()):
 * \d+(\.\d+)?, with a leading 0 octal as Perl reads it (010 is 8). */
static int lex_number(struct comp *c, size_t p)
{
	const char *s = c->s;
	size_t q = p;
	while (q < c->len && is_digit((unsigned char)s[q]))
		q++;
	bool octal = s[p] == '0' && q - p > 1;
	if (!octal && q + 1 < c->len && s[q] == '.' &&
	    is_digit((unsigned char)s[q + 1]))
		for (q++; q < c->len && is_digit((unsigned char)s[q]);)
			q++;
	double v = 0;
	for (size_t i = p; octal && i < q; i++) {
		if (s[i] > '7') {
			fail(c, "illegal octal digit '%c' at column %zu", s[i],
			     c->tpos + 1);
			return -1;
		}
		v = v * 8 + (s[i] - '0');
	}
	if (!octal) {   /* past 400 digits it is more than a double holds */
		char buf[400];
		size_t n = q - p;
		if (n < sizeof buf) {
			memcpy(buf, s + p, n);
			buf[n] = '\0';
		}
		v = n < sizeof buf ? strtod(buf, NULL) : HUGE_VAL;
	}
	c->num = v;
	c->tlen = q - c->tpos;
	c->tok = T_NUM;
	return 0;
}

static bool is_number_char(char ch)
{
	return ch == '-' || ch == '+' || ch == '.' || is_digit((unsigned char)ch);
}

size_t rmeta_lex(const char *e, size_t n, size_t i, enum rmeta_lex *kind)
{
	size_t j = i + 1;
	if (is_number_char(e[i])) {
		while (j < n && is_number_char(e[j]))
			j++;
		*kind = RMETA_LEX_NUMBER;
	} else if (is_name_start((unsigned char)e[i])) {
		while (j < n && is_name_rest((unsigned char)e[j]))
			j++;
		*kind = RMETA_LEX_NAME;
	} else {
		*kind = RMETA_LEX_OTHER;
	}
	return j;
}

static size_t bad_token(const char *e, size_t n, size_t *at)
{
	for (size_t i = 0, j; i < n; i = j) {
		enum rmeta_lex kind;
		j = rmeta_lex(e, n, i, &kind);
		if (kind != RMETA_LEX_NUMBER)
			continue;
		size_t digits = 0, dots = 0;
		for (size_t k = i; k < j; k++) {
			digits += is_digit((unsigned char)e[k]) != 0;
			dots += e[k] == '.';
		}
		/* \d+(\.\d+)?: digits, at most one dot between them */
		bool number = digits + dots == j - i && dots <= 1 &&
		              is_digit((unsigned char)e[i]) &&
		              is_digit((unsigned char)e[j - 1]);
		bool glued = number && j < n && is_name_start((unsigned char)e[j]);
		while (glued && j < n && is_name_rest((unsigned char)e[j]))
			j++;
		if (glued || (!number && !(digits == 0 && j - i <= 2))) {
			*at = i;
			return j - i;
		}
	}
	return 0;
}

static void next(struct comp *c)
{
	const char *s = c->s;
	size_t p = c->pos;
	for (;;) {
		while (p < c->len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' ||
		                      s[p] == '\n' || s[p] == '\f' || s[p] == '\v'))
			p++;
		/* A Perl comment (SpamAssassin strips trailing comments from
		 * rule lines; stray ones are harmless in Perl too). */
		if (p < c->len && s[p] == '#') {
			while (p < c->len && s[p] != '\n')
				p++;
			continue;
		}
		break;
	}
	c->tpos = p;
	c->tlen = 1;
	if (p >= c->len) {
		c->tok = T_END;
		c->tlen = 0;
		c->pos = p;
		return;
	}
	unsigned char ch = (unsigned char)s[p];
	unsigned char nx = p + 1 < c->len ? (unsigned char)s[p + 1] : 0;
	if (is_name_start(ch)) {
		size_t q = p;
		while (q < c->len && is_name_rest((unsigned char)s[q]))
			q++;
		c->tok = T_NAME;
		c->tlen = q - p;
	} else if (is_digit(ch)) {
		if (lex_number(c, p) < 0)
			c->tok = T_BAD;
	} else {
		c->tok = T_BAD;
		switch (ch) {
		case '(': c->tok = T_LP; break;
		case ')': c->tok = T_RP; break;
		case '+': c->tok = T_PLUS; break;
		case '-': c->tok = T_MINUS; break;
		case '*': c->tok = nx == '*' ? T_BAD : T_MUL; break;
		case '/': c->tok = T_DIV; break;
		case '!':
			if (nx == '=') { c->tok = T_NE; c->tlen = 2; }
			else if (nx == '~') { c->tlen = 2; }
			else c->tok = T_NOT;
			break;
		case '<':
			if (nx == '=') {
				c->tlen = 2;
				c->tok = p + 2 < c->len && s[p + 2] == '>' ? T_BAD : T_LE;
				if (c->tok == T_BAD)
					c->tlen = 3;
			} else if (nx == '<') {
				c->tlen = 2;
			} else {
				c->tok = T_LT;
			}
			break;
		case '>':
			if (nx == '=') { c->tok = T_GE; c->tlen = 2; }
			else if (nx == '>') { c->tlen = 2; }
			else c->tok = T_GT;
			break;
		case '=':
			if (nx == '=') { c->tok = T_EQ; c->tlen = 2; }
			else if (nx == '~') { c->tlen = 2; }
			break;
		case '&':
			if (nx == '&') { c->tok = T_AND; c->tlen = 2; }
			break;
		case '|':
			if (nx == '|') { c->tok = T_OR; c->tlen = 2; }
			break;
		case '^': c->tok = T_XOR; break;
		case '?': c->tok = T_QUEST; break;
		case ':': c->tok = T_COLON; break;
		default:
			break;
		}
	}
	c->pos = p + c->tlen;
}

static void unexpected(struct comp *c, const char *what)
{
	if (c->tok == T_END) {
		fail(c, "expected %s at column %zu (end of expression)", what,
		     c->tpos + 1);
		return;
	}
	int n = c->tlen > 32 ? 32 : (int)c->tlen;
	unsigned char ch = (unsigned char)c->s[c->tpos];
	if (ch < 0x20 || ch >= 0x7f)
		fail(c, "expected %s at column %zu, found byte 0x%02x", what,
		     c->tpos + 1, ch);
	else
		fail(c, "expected %s at column %zu, found '%.*s'", what,
		     c->tpos + 1, n, c->s + c->tpos);
}

static size_t emit(struct comp *c, enum rm_op op, int32_t idx, double num)
{
	if (c->failed)
		return 0;
	struct rmeta *m = c->m;
	if (m->ncode == c->cap_code) {
		size_t cap = c->cap_code ? c->cap_code * 2 : 16;
		struct rm_ins *p = realloc(m->code, cap * sizeof *p);
		if (p == NULL) {
			fail_oom(c);
			return 0;
		}
		m->code = p;
		c->cap_code = cap;
	}
	struct rm_ins *in = &m->code[m->ncode];
	in->op = (uint8_t)op;
	in->idx = idx;
	in->num = num;
	/* Track the stack depth the program needs. */
	if (op == OP_CONST || op == OP_VAR) {
		if (++c->sp > c->max_sp)
			c->max_sp = c->sp;
	} else if (op != OP_NOT && op != OP_NEG && op != OP_JMP) {
		c->sp--; /* binary ops, the pop path of && / ||, `?`'s test */
	}
	return m->ncode++;
}

static void add_dep(struct comp *c, int idx)
{
	struct rmeta *m = c->m;
	for (size_t i = 0; i < m->ndeps; i++)
		if (m->deps[i] == idx)
			return;
	if (m->ndeps == c->cap_deps) {
		size_t cap = c->cap_deps ? c->cap_deps * 2 : 8;
		int *p = realloc(m->deps, cap * sizeof *p);
		if (p == NULL) {
			fail_oom(c);
			return;
		}
		m->deps = p;
		c->cap_deps = cap;
	}
	m->deps[m->ndeps++] = idx;
}

static void add_unknown(struct comp *c, const char *name, size_t len)
{
	struct rmeta *m = c->m;
	for (size_t i = 0; i < m->nunknown; i++)
		if (strlen(m->unknown[i]) == len &&
		    memcmp(m->unknown[i], name, len) == 0)
			return;
	if (m->nunknown == c->cap_unknown) {
		size_t cap = c->cap_unknown ? c->cap_unknown * 2 : 4;
		char **p = realloc(m->unknown, cap * sizeof *p);
		if (p == NULL) {
			fail_oom(c);
			return;
		}
		m->unknown = p;
		c->cap_unknown = cap;
	}
	char *copy = malloc(len + 1);
	if (copy == NULL) {
		fail_oom(c);
		return;
	}
	memcpy(copy, name, len);
	copy[len] = '\0';
	m->unknown[m->nunknown++] = copy;
}

static void parse_binary(struct comp *c, int minprec);
static void parse_expr(struct comp *c);

/* The ')' of a '(' or the ':' of a '?' at column opened + 1, after the
 * expression between: taken, or an error naming both places. */
static bool close_with(struct comp *c, enum tok want, size_t opened)
{
	bool paren = want == T_RP;
	if (c->failed)
		return false;
	if (c->tok != want) {
		if (c->tok == T_END)
			fail(c, "expected '%c' at column %zu (%s '%c' at column "
			     "%zu)", paren ? ')' : ':', c->tpos + 1,
			     paren ? "to close" : "for", paren ? '(' : '?',
			     opened + 1);
		else
			unexpected(c, paren ? "')' or an operator" :
			                      "':' or an operator");
		return false;
	}
	next(c);
	return true;
}

/* unary: '!' unary | '-' unary | '+' unary | '(' expr ')' | NAME | NUM */
static void parse_unary(struct comp *c)
{
	if (c->failed)
		return;
	if (++c->depth > RMETA_MAX_DEPTH) {
		fail(c, "nesting deeper than %d at column %zu", RMETA_MAX_DEPTH,
		     c->tpos + 1);
		return;
	}
	switch (c->tok) {
	case T_NOT:
	case T_MINUS:
	case T_PLUS: {
		enum tok t = c->tok;
		next(c);
		parse_unary(c);
		if (t != T_PLUS)
			emit(c, t == T_NOT ? OP_NOT : OP_NEG, 0, 0);
		break;
	}
	case T_LP: {
		size_t open = c->tpos;
		next(c);
		parse_expr(c);
		close_with(c, T_RP, open);
		break;
	}
	case T_NAME: {
		int idx = c->resolve ? c->resolve(c->ctx, c->s + c->tpos, c->tlen) : -1;
		if (idx < 0) {
			add_unknown(c, c->s + c->tpos, c->tlen);
			emit(c, OP_CONST, 0, 0.0);
		} else {
			add_dep(c, idx);
			emit(c, OP_VAR, idx, 0);
		}
		next(c);
		break;
	}
	case T_NUM:
		emit(c, OP_CONST, 0, c->num);
		next(c);
		break;
	default:
		unexpected(c, "a rule name, a number, '(', '!' or '-'");
		break;
	}
	c->depth--;
}

/* Perl's precedence, tightest last; 0 = not a binary operator. `? :`
 * binds looser than all of them (parse_expr()). */
enum {
	PREC_OR = 1, PREC_AND, PREC_XOR, PREC_EQ, PREC_REL, PREC_ADD, PREC_MUL
};

static int prec_of(enum tok t)
{
	switch (t) {
	case T_OR: return PREC_OR;
	case T_AND: return PREC_AND;
	case T_XOR: return PREC_XOR;
	case T_EQ: case T_NE: return PREC_EQ;
	case T_LT: case T_GT: case T_LE: case T_GE: return PREC_REL;
	case T_PLUS: case T_MINUS: return PREC_ADD;
	case T_MUL: case T_DIV: return PREC_MUL;
	default: return 0;
	}
}

static enum rm_op op_of(enum tok t)
{
	switch (t) {
	case T_EQ: return OP_EQ;
	case T_NE: return OP_NE;
	case T_LT: return OP_LT;
	case T_GT: return OP_GT;
	case T_LE: return OP_LE;
	case T_GE: return OP_GE;
	case T_PLUS: return OP_ADD;
	case T_MINUS: return OP_SUB;
	case T_MUL: return OP_MUL;
	case T_XOR: return OP_XOR;
	default: return OP_DIV;
	}
}

/* Precedence climbing; all levels are left-associative except the
 * comparisons, which Perl (before 5.32) refuses to chain: we refuse too
 * rather than guess a meaning. */
static void parse_binary(struct comp *c, int minprec)
{
	parse_unary(c);
	int last_cmp = 0;
	while (!c->failed) {
		int p = prec_of(c->tok);
		if (p == 0 || p <= minprec)
			break;
		if ((p == PREC_EQ || p == PREC_REL) && last_cmp == p) {
			fail(c, "chained comparison at column %zu: use "
			     "parentheses", c->tpos + 1);
			break;
		}
		last_cmp = p;
		enum tok t = c->tok;
		next(c);
		if (t == T_AND || t == T_OR) {
			size_t j = emit(c, t == T_AND ? OP_AND : OP_OR, 0, 0);
			parse_binary(c, p);
			if (!c->failed)
				c->m->code[j].idx = (int32_t)c->m->ncode;
		} else {
			parse_binary(c, p);
			emit(c, op_of(t), 0, 0);
		}
	}
}

/* expr: binary [ '?' expr ':' expr ], right-associative as in Perl:
 * the test, OP_JZ to the else side, the then side, OP_JMP past the
 * else side. Each side leaves one value where the test was. */
static void parse_expr(struct comp *c)
{
	parse_binary(c, 0);
	if (c->failed || c->tok != T_QUEST)
		return;
	size_t q = c->tpos;
	/* each `?` nests its sides (bounded as parentheses are) */
	if (++c->depth > RMETA_MAX_DEPTH) {
		fail(c, "nesting deeper than %d at column %zu", RMETA_MAX_DEPTH,
		     q + 1);
		return;
	}
	next(c);
	size_t jz = emit(c, OP_JZ, 0, 0);
	parse_expr(c);
	if (!close_with(c, T_COLON, q))
		return;
	size_t jmp = emit(c, OP_JMP, 0, 0);
	c->sp--;   /* the else side starts where the then side did */
	if (c->failed)
		return;
	c->m->code[jz].idx = (int32_t)c->m->ncode;
	parse_expr(c);
	if (!c->failed)
		c->m->code[jmp].idx = (int32_t)c->m->ncode;
	c->depth--;
}

static double run(const struct rmeta *m, const double *values,
                  rmeta_fetch_fn fetch, void *ctx, bool *div0);

struct rmeta *rmeta_compile(const char *expr, size_t len,
                            rmeta_resolve_fn resolve, void *ctx,
                            char *err, size_t errlen)
{
	struct comp c;
	memset(&c, 0, sizeof c);
	c.err = err;
	c.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if (expr == NULL)
		len = 0;
	if (len > RMETA_MAX_LEN) {
		fail(&c, "expression longer than %d bytes", RMETA_MAX_LEN);
		return NULL;
	}
	c.m = calloc(1, sizeof *c.m);
	if (c.m == NULL) {
		fail_oom(&c);
		return NULL;
	}
	c.s = expr ? expr : "";
	c.len = len;
	c.resolve = resolve;
	c.ctx = ctx;
	size_t at, bad = bad_token(c.s, c.len, &at);
	if (bad > 0) {
		fail(&c, "invalid token '%.*s' at column %zu: SpamAssassin "
		     "refuses the rule", (int)(bad > 32 ? 32 : bad), c.s + at,
		     at + 1);
		rmeta_free(c.m);
		return NULL;
	}
	next(&c);
	if (c.tok == T_END) {
		fail(&c, "empty expression");
	} else {
		parse_expr(&c);
		if (!c.failed && c.tok != T_END)
			unexpected(&c, "an operator");
	}
	if (!c.failed && c.max_sp > RMETA_MAX_STACK)
		fail(&c, "expression too complex (needs %zu stack slots, "
		     "limit %d)", c.max_sp, RMETA_MAX_STACK);
	if (c.failed) {
		rmeta_free(c.m);
		return NULL;
	}
	c.m->zero = run(c.m, NULL, NULL, NULL, &c.m->zero_div);
	return c.m;
}

/* ---- evaluation -------------------------------------------------------- */

/* A number as Perl's bitwise operators read it: an unsigned integer,
 * the fraction cut off, a negative one in two's complement. */
static uint64_t perl_uv(double v)
{
	if (v != v)
		return 0;
	if (v < 0)
		return v <= -0x1p63 ? (uint64_t)1 << 63 : (uint64_t)(int64_t)v;
	return v >= 0x1p64 ? UINT64_MAX : (uint64_t)v;
}

/* The program on values, or with every operand 0 when values is NULL;
 * with fetch, each operand the program reads is fetch(ctx, index).
 * *div0 (when div0 is not NULL) is set when it divides by 0. */
static double run(const struct rmeta *m, const double *values,
                  rmeta_fetch_fn fetch, void *ctx, bool *div0)
{
	double st[RMETA_MAX_STACK];
	size_t sp = 0;
	const struct rm_ins *code = m->code;
	size_t n = m->ncode;
	for (size_t pc = 0; pc < n; pc++) {
		const struct rm_ins *in = &code[pc];
		switch ((enum rm_op)in->op) {
		case OP_CONST: st[sp++] = in->num; break;
		case OP_VAR:
			st[sp++] = fetch ? fetch(ctx, in->idx) :
			           values ? values[in->idx] : 0;
			break;
		case OP_NOT: st[sp - 1] = st[sp - 1] == 0 ? 1 : 0; break;
		case OP_NEG: st[sp - 1] = -st[sp - 1]; break;
		case OP_MUL: sp--; st[sp - 1] *= st[sp]; break;
		case OP_DIV:
			sp--;
			/* Perl dies on division by zero; SpamAssassin's meta is
			 * then false. */
			if (st[sp] == 0 && div0 != NULL)
				*div0 = true;
			st[sp - 1] = st[sp] == 0 ? 0 : st[sp - 1] / st[sp];
			break;
		case OP_ADD: sp--; st[sp - 1] += st[sp]; break;
		case OP_SUB: sp--; st[sp - 1] -= st[sp]; break;
		case OP_LT: sp--; st[sp - 1] = st[sp - 1] < st[sp]; break;
		case OP_GT: sp--; st[sp - 1] = st[sp - 1] > st[sp]; break;
		case OP_LE: sp--; st[sp - 1] = st[sp - 1] <= st[sp]; break;
		case OP_GE: sp--; st[sp - 1] = st[sp - 1] >= st[sp]; break;
		case OP_EQ: sp--; st[sp - 1] = st[sp - 1] == st[sp]; break;
		case OP_NE: sp--; st[sp - 1] = st[sp - 1] != st[sp]; break;
		case OP_XOR:
			sp--;
			st[sp - 1] = (double)(perl_uv(st[sp - 1]) ^ perl_uv(st[sp]));
			break;
		case OP_JZ:
			if (st[--sp] == 0)
				pc = (size_t)in->idx - 1;
			break;
		case OP_JMP: pc = (size_t)in->idx - 1; break;
		case OP_AND:
			if (st[sp - 1] == 0)
				pc = (size_t)in->idx - 1;
			else
				sp--;
			break;
		case OP_OR:
			if (st[sp - 1] != 0)
				pc = (size_t)in->idx - 1;
			else
				sp--;
			break;
		}
	}
	return sp > 0 ? st[sp - 1] : 0;
}

double rmeta_eval(const struct rmeta *m, const double *values)
{
	/* Most rules hit few messages: with every operand 0 the value is
	 * known from compile time. */
	for (size_t i = 0; i < m->ndeps; i++)
		if (values[m->deps[i]] != 0)
			return run(m, values, NULL, NULL, NULL);
	return m->zero;
}

double rmeta_eval_fetch(const struct rmeta *m, rmeta_fetch_fn fetch,
                        void *ctx)
{
	return run(m, NULL, fetch, ctx, NULL);
}

/* rmeta_eval_bounds(): the values a stack entry may hold, lo .. hi. */
struct ivl {
	double lo, hi;
};

static bool ivl_point(struct ivl a)
{
	return a.lo == a.hi;
}

static bool ivl_true(struct ivl a)    /* 0 is not in it */
{
	return a.lo > 0 || a.hi < 0;
}

static bool ivl_false(struct ivl a)   /* it is 0 */
{
	return a.lo == 0 && a.hi == 0;
}

static struct ivl ivl_hull(struct ivl a, struct ivl b)
{
	return (struct ivl){ a.lo < b.lo ? a.lo : b.lo,
	                     a.hi > b.hi ? a.hi : b.hi };
}

/* An interval from bounds that may be NaN (0 times infinity): nothing
 * known then. */
static struct ivl ivl_of(double lo, double hi)
{
	if (lo != lo || hi != hi)
		return (struct ivl){ -HUGE_VAL, HUGE_VAL };
	return (struct ivl){ lo, hi };
}

/* 0 or 1 as decided by yes and no, else either. */
static struct ivl ivl_bool(bool yes, bool no)
{
	return yes ? (struct ivl){ 1, 1 } : no ? (struct ivl){ 0, 0 } :
	             (struct ivl){ 0, 1 };
}

static struct ivl ivl_mul(struct ivl a, struct ivl b)
{
	double p[4] = { a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi };
	double lo = p[0], hi = p[0];
	for (int i = 1; i < 4; i++) {
		if (p[i] != p[i])
			return ivl_of(p[i], p[i]);
		lo = p[i] < lo ? p[i] : lo;
		hi = p[i] > hi ? p[i] : hi;
	}
	return ivl_of(lo, hi);
}

/* A binary operator of run() over intervals. */
static struct ivl ivl_apply(enum rm_op op, struct ivl a, struct ivl b)
{
	switch (op) {
	case OP_MUL: return ivl_mul(a, b);
	case OP_ADD: return ivl_of(a.lo + b.lo, a.hi + b.hi);
	case OP_SUB: return ivl_of(a.lo - b.hi, a.hi - b.lo);
	case OP_LT: return ivl_bool(a.hi < b.lo, a.lo >= b.hi);
	case OP_GT: return ivl_bool(a.lo > b.hi, a.hi <= b.lo);
	case OP_LE: return ivl_bool(a.hi <= b.lo, a.lo > b.hi);
	case OP_GE: return ivl_bool(a.lo >= b.hi, a.hi < b.lo);
	case OP_EQ:
	case OP_NE: {
		bool eq = ivl_point(a) && ivl_point(b) && a.lo == b.lo,
		     ne = a.hi < b.lo || b.hi < a.lo;
		return op == OP_EQ ? ivl_bool(eq, ne) : ivl_bool(ne, eq);
	}
	case OP_XOR: {
		if (ivl_point(a) && ivl_point(b)) {
			double v = (double)(perl_uv(a.lo) ^ perl_uv(b.lo));
			return ivl_of(v, v);
		}
		/* never negative; below the power of 2 above both */
		if (a.lo < 0 || b.lo < 0 || a.hi >= 0x1p52 || b.hi >= 0x1p52)
			return ivl_of(0, HUGE_VAL);
		double top = 1;
		while (top <= a.hi || top <= b.hi)
			top *= 2;
		return ivl_of(0, top - 1);
	}
	default: {  /* OP_DIV: x / 0 is 0, as run() */
		if (!ivl_point(a) || !ivl_point(b))
			return ivl_of(-HUGE_VAL, HUGE_VAL);
		double q = b.lo == 0 ? 0 : a.lo / b.lo;
		return ivl_of(q, q);
	}
	}
}

/* A && or || whose left side l was undecided, its right side r
 * evaluated: `l && r` is l when l is false (0), else r; `l || r` is l
 * when l is true, else r. For a `? :` whose test was undecided (OP_JZ),
 * l is the then side and r the else side: either. */
static struct ivl ivl_join(enum rm_op op, struct ivl l, struct ivl r)
{
	if (op == OP_AND)
		return ivl_hull((struct ivl){ 0, 0 }, r);
	return ivl_hull(l, r);
}

static struct ivl ivl_not(struct ivl a)
{
	return ivl_bool(ivl_false(a), ivl_true(a));
}

int rmeta_eval_bounds(const struct rmeta *m, rmeta_peek_fn peek,
                      void *ctx, double *lo, double *hi)
{
	int first = -1;   /* the first operand reached that is not known */
	*lo = -HUGE_VAL;
	*hi = HUGE_VAL;
	struct ivl st[RMETA_MAX_STACK];
	/* undecided && || (end: where the right side ends) and `? :`
	 * (jmp: its OP_JMP, which then falls into the else side) */
	struct { size_t end, jmp; enum rm_op op; } join[RMETA_MAX_STACK];
	size_t sp = 0, nj = 0;
	const struct rm_ins *code = m->code;
	for (size_t pc = 0; pc <= m->ncode; pc++) {
		/* a && or || whose left side was undecided ends here: its
		 * right side is on top, the left below */
		while (nj > 0 && join[nj - 1].end == pc) {
			sp--;
			nj--;
			st[sp - 1] = ivl_join(join[nj].op, st[sp - 1], st[sp]);
		}
		if (pc == m->ncode)
			break;
		const struct rm_ins *in = &code[pc];
		enum rm_op op = (enum rm_op)in->op;
		if (sp + 1 >= RMETA_MAX_STACK || nj + 1 >= RMETA_MAX_STACK)
			return first;   /* undecided lefts kept: deeper than run() */
		switch (op) {
		case OP_CONST: st[sp++] = (struct ivl){ in->num, in->num }; break;
		case OP_VAR:
			peek(ctx, in->idx, &st[sp].lo, &st[sp].hi);
			if (first < 0 && !ivl_point(st[sp]))
				first = in->idx;
			sp++;
			break;
		case OP_NOT: st[sp - 1] = ivl_not(st[sp - 1]); break;
		case OP_NEG:
			st[sp - 1] = (struct ivl){ -st[sp - 1].hi, -st[sp - 1].lo };
			break;
		case OP_AND:
		case OP_OR:
			if (op == OP_AND ? ivl_false(st[sp - 1]) : ivl_true(st[sp - 1])) {
				pc = (size_t)in->idx - 1;   /* the left decides */
			} else if (op == OP_AND ? ivl_true(st[sp - 1]) :
			                          ivl_false(st[sp - 1])) {
				sp--;                       /* the right decides */
			} else {
				join[nj].end = (size_t)in->idx;
				join[nj].jmp = m->ncode;
				join[nj++].op = op;
			}
			break;
		case OP_JZ: {
			struct ivl t = st[--sp];
			if (ivl_false(t)) {
				pc = (size_t)in->idx - 1;   /* the else side */
			} else if (!ivl_true(t)) {      /* both sides */
				size_t jmp = (size_t)in->idx - 1;
				join[nj].end = (size_t)code[jmp].idx;
				join[nj].jmp = jmp;
				join[nj++].op = op;
			}
			break;
		}
		case OP_JMP:
			if (!(nj > 0 && join[nj - 1].jmp == pc))
				pc = (size_t)in->idx - 1;
			break;
		default:
			sp--;
			st[sp - 1] = ivl_apply(op, st[sp - 1], st[sp]);
			break;
		}
	}
	if (sp > 0) {
		*lo = st[sp - 1].lo;
		*hi = st[sp - 1].hi;
	}
	return first;
}

size_t rmeta_dep_count(const struct rmeta *m) { return m->ndeps; }

bool rmeta_zero_division(const struct rmeta *m)
{
	return m->zero_div;
}

bool rmeta_counts(const struct rmeta *m)
{
	for (size_t pc = 0; pc < m->ncode; pc++)
		if (m->code[pc].op >= OP_MUL && m->code[pc].op <= OP_NE)
			return true;
	return false;
}

int rmeta_dep_at(const struct rmeta *m, size_t i)
{
	return i < m->ndeps ? m->deps[i] : -1;
}

size_t rmeta_unknown_count(const struct rmeta *m) { return m->nunknown; }

const char *rmeta_unknown_at(const struct rmeta *m, size_t i)
{
	return i < m->nunknown ? m->unknown[i] : NULL;
}

void rmeta_free(struct rmeta *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nunknown; i++)
		free(m->unknown[i]);
	free(m->unknown);
	free(m->deps);
	free(m->code);
	free(m);
}

/* ---- dependency order -------------------------------------------------- */

/* Iterative depth-first search: a node is emitted after all its
 * dependencies; meeting a node that is still on the path is a cycle. */
int rmeta_order(size_t n,
                size_t (*dep_count)(void *ctx, size_t node),
                size_t (*dep_at)(void *ctx, size_t node, size_t i),
                void *ctx, size_t *order, size_t *cycle_node)
{
	enum { WHITE, GREY, BLACK };
	if (n == 0)
		return 0;
	unsigned char *color = calloc(n, 1);
	size_t *stk = malloc(n * sizeof *stk);
	size_t *pos = malloc(n * sizeof *pos);
	if (color == NULL || stk == NULL || pos == NULL) {
		free(color);
		free(stk);
		free(pos);
		if (cycle_node)
			*cycle_node = n;
		return -1;
	}
	size_t out = 0;
	int rc = 0;
	for (size_t root = 0; root < n && rc == 0; root++) {
		if (color[root] != WHITE)
			continue;
		size_t top = 0;
		stk[top] = root;
		pos[top] = 0;
		color[root] = GREY;
		top++;
		while (top > 0) {
			size_t node = stk[top - 1];
			size_t i = pos[top - 1];
			if (i < dep_count(ctx, node)) {
				pos[top - 1] = i + 1;
				size_t d = dep_at(ctx, node, i);
				if (d >= n || color[d] == BLACK)
					continue;
				if (color[d] == GREY) {
					if (cycle_node)
						*cycle_node = d;
					rc = -1;
					break;
				}
				color[d] = GREY;
				stk[top] = d;
				pos[top] = 0;
				top++;
			} else {
				color[node] = BLACK;
				order[out++] = node;
				top--;
			}
		}
	}
	free(color);
	free(stk);
	free(pos);
	return rc;
}
