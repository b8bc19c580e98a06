/*
 * saeval.h — SpamAssassin eval: functions written in C.
 *
 * SpamAssassin rules "header NAME eval:f('a', 'b')" call Perl code. This
 * module holds a table of such functions vigil implements (names as
 * SpamAssassin spells them), each a C function that takes the message
 * (struct msg, plus the SMTP envelope sender when known) and the rule's
 * arguments, and says hit or not. Behaviour follows SpamAssassin 4.0.1's
 * plugins (HeaderEval, MIMEEval, HTMLEval, BodyEval); see docs/rules.md,
 * "Eval rules vigil implements", for the list and the known differences.
 *
 * The rule engine (rules.c) calls saeval_compile() once per eval rule at
 * compile time: a function in the table makes the rule an ordinary active
 * rule (scored from the rule files); an unknown function leaves it
 * unsupported. At run time it calls saeval_run() per active eval rule.
 *
 * Configuration: FreeMail's functions read the freemail_domains,
 * freemail_welcomelist, freemail_max_body_emails/_freemails,
 * freemail_skip_when_over_max and freemail_skip_bulk_envfrom lines of the
 * rule set (saeval_compile_rs); the others need none. Other settings
 * (util_rb_tld, ...) are not kept.
 * Network and Bayes functions are not implemented either; relay-based
 * ones use relays.h. Every function reading EnvelopeFrom reads
 * saeval_envelope_from(): env_from when set, else SpamAssassin's own
 * guess from the headers.
 *
 * Thread safety: a struct saeval_call is immutable after saeval_compile()
 * and may be run by several threads at once; saeval_run() allocates only
 * per call or in the cache. Calls whose FreeMail lists are equal share
 * one copy (reference counted under a lock, in compile and free). A
 * cache belongs to one message and one thread at a time.
 */
#ifndef VIGIL_SAEVAL_H
#define VIGIL_SAEVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

struct relays;
struct trustpath;
struct ruleset;

/* What a function sees of one message. */
struct saeval_ctx {
	const struct msg *m;
	const char *env_from;  /* MAIL FROM without <> as an MTA or the user
	                          gave it, or NULL/"" (none, or guessed) */
	/* The message's relays (relays.h) as the caller keeps them:
	 * relays(relays_arg) gives them (NULL: out of memory), built by
	 * the caller on first use and owned by it (the rules stage: the
	 * scan's, scan_relays()). NULL: each call builds its own with
	 * trust. */
	const struct relays *(*relays)(void *arg);
	void *relays_arg;
	const struct trustpath *trust; /* trusted_networks & co. for
	                                     building the relays (NULL:
	                                     SpamAssassin's inference) */
	struct saeval_cache *cache; /* the message's other shared results
	                               (date shift, MIME and HTML facts,
	                               Received text, header index, FreeMail
	                               answers, ...), or NULL: each call
	                               works them out itself */
	/* The body paragraphs as body rules and functions read them: NULL,
	 * the message's own (msg_body_at()), or nbody paragraphs after
	 * saeval_edit_body() (they live in the cache) */
	const struct msg_text *body;
	size_t nbody;
};

/* Body paragraph i as x's rules and functions read it. */
static inline size_t saeval_body_count(const struct saeval_ctx *x)
{
	return x->body != NULL ? x->nbody : msg_body_count(x->m);
}

static inline struct msg_text saeval_body_at(const struct saeval_ctx *x,
                                             size_t i)
{
	return x->body != NULL ? x->body[i] : msg_body_at(x->m, i);
}

/* A cache for the calls on one message (saeval_ctx.cache); NULL when out
 * of memory. Freed by the caller after the message's last call. */
struct saeval_cache *saeval_cache_new(void);
void saeval_cache_free(struct saeval_cache *k);

/* EnvelopeFrom, one value for every reader (header rules, FreeMail,
 * check_equal_from_domains, ...): env_from when an MTA or the user gave
 * a non-empty one (SpamAssassin behind a milter reads it from the
 * envelope-from of the Received line the milter writes for the SMTP
 * client), else SpamAssassin's own guess from the headers
 * (get_envelope_from without envelope_sender_header; worked out once
 * per cache). Appended to b; false when there is none. */
struct strbuf;
bool saeval_envelope_from(const struct saeval_ctx *x, struct strbuf *b);

/* SpamAssassin's get() of H:addr, H:name or H:name:raw for header h, one
 * instance of H (sa_hdraddr.c): each address, or each display name
 * (decoded unless SAEVAL_NAME_RAW), appended to b followed by "\n";
 * nothing when the value holds none. raw: parsed from the value as
 * received (msg_header_sa_value() with raw), as get() does but for ToCc
 * and MESSAGEID without :raw, which it parses decoded. */
enum saeval_addr_part { SAEVAL_ADDR, SAEVAL_NAME, SAEVAL_NAME_RAW };
struct msg_header;
void saeval_header_addrs(struct strbuf *b, const struct msg_header *h,
                         bool raw, enum saeval_addr_part part);

/* Registrar domains (sa_regdom.c), for the evals and the :domain header
 * modifier (hdrmod.h). saeval_regdom_build(): the util_rb_2tld and
 * util_rb_3tld lists of rule set rs (clear_util_rb honoured), owned by
 * the caller (saeval_regdom_free()): 0, or -1 when out of memory.
 * saeval_registrar_domain(): split_domain()'s domain part
 * (trim_domain()) of host h: lower-cased, dots squeezed, leading and
 * trailing ones dropped, then cut after the registrar's label as the
 * lists and the .us rules say; into out, "" when it does not fit cap. */
struct regdom;
int saeval_regdom_build(const struct ruleset *rs, struct regdom **out);
void saeval_registrar_domain(const struct regdom *rd, const char *h,
                             char *out, size_t cap);
void saeval_regdom_free(struct regdom *rd);

/* One compiled call: function and its arguments (owned). */
struct saeval_call;

/* Parse eval text "name(args)" (as in struct rs_rule.eval). Returns 0 and
 * sets *out when the function is implemented; 1 when it is not (or the
 * text does not parse): *out is NULL; -1 on allocation failure. */
int saeval_compile(const char *eval, struct saeval_call **out);
/* Same, with the rule set the call's settings come from (FreeMail's
 * freemail_domains/freemail_welcomelist lines, ruleset_setting_at):
 * FreeMail functions need it (saeval_compile leaves them unsupported). */
int saeval_compile_rs(const char *eval, const struct ruleset *rs,
                      struct saeval_call **out);
/* The call is a rawbody rule's: a function reading the body text (image
 * to text ratios) reads the raw body pieces instead of the rendered
 * body, as SpamAssassin hands a rawbody eval. */
void saeval_set_rawbody(struct saeval_call *c, bool raw);
/* The rule line SpamAssassin registers the function of eval text
 * "name(args)" for, which it checks: "header" or "body" (a body function
 * is taken on a rawbody line too); NULL when any line takes it (its
 * plugin names no type) or vigil does not implement it. */
const char *saeval_line_type(const char *eval);
void saeval_free(struct saeval_call *c);

/* Run the call on one message: true when the rule hits. Allocation
 * failure counts as no hit. */
bool saeval_run(const struct saeval_call *c, const struct saeval_ctx *ctx);

/* SpamAssassin's FreeMail plugin, once a check_freemail_replyto or
 * check_freemail_body call gets as far as reading the body's addresses,
 * blanks URLs holding an address and addresses in <> or before a
 * "wrote:"-like word in the body text it shares with the body rules;
 * its head evals run before them. saeval_edits_body() says whether call
 * c may do that; saeval_edit_body() runs c's check as far as that on the
 * message and, when it gets there, points x->body at the edited
 * paragraphs (kept in x->cache; nothing without a cache). The rule
 * engine calls it for such calls before any body rule runs. */
bool saeval_edits_body(const struct saeval_call *c);
void saeval_edit_body(const struct saeval_call *c, struct saeval_ctx *x);

/* Is this function name implemented? */
bool saeval_implements(const char *fname);
/* The implemented function names, in table order (i < count). */
size_t saeval_function_count(void);
const char *saeval_function_at(size_t i);
/* The SpamAssassin plugin of function i ("HeaderEval", ...). */
const char *saeval_function_plugin(size_t i);

/* Is a SpamAssassin plugin ("Mail::SpamAssassin::Plugin::HeaderEval")
 * implemented here, at least in part, so that its ifplugin blocks are
 * read? Its functions not in the table stay unsupported. */
bool saeval_plugin(const char *name);

#endif
