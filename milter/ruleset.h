/*
 * ruleset.h — SpamAssassin rule files read into an in-memory rule set.
 *
 * ruleset_load() reads rule files and directories (a directory's *.cf
 * files in byte order of their names, as SpamAssassin does; *.pre files
 * are read first and only for their plugin lines) in the order given, and
 * returns every rule with its last definition, its score, description and
 * tflags. Conditionals (ifplugin/if/else/endif), include, lang and
 * ReplaceTags (replace_start/replace_end/replace_tag/replace_rules) are
 * resolved here, so the engine sees final patterns. Rule patterns are not
 * compiled here: the engine checks them (rules.c); redirector_pattern
 * lines are (uriredir.h), as the message parser uses them.
 *
 * Errors never abort the load: each bad line is recorded as a diagnostic
 * with file:line and skipped; unsupported features (eval: rules, plugin
 * options we do not implement) are recorded as RS_DIAG_UNSUPPORTED and the
 * rule is kept with type RS_EVAL so metas can refer to it (as false).
 *
 * Ownership: the ruleset owns every string it returns; immutable after
 * ruleset_load(), so it may be read by several threads. ruleset_free()
 * releases it.
 */
#ifndef VIGIL_RULESET_H
#define VIGIL_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rs_type {
	RS_HEADER,     /* header NAME HDR =~ /re/ (or exists:HDR) */
	RS_MIMEHEADER, /* mimeheader NAME HDR =~ /re/ (headers of every part) */
	RS_BODY,       /* body NAME /re/ */
	RS_RAWBODY,    /* rawbody NAME /re/ */
	RS_FULL,       /* full NAME /re/ */
	RS_URI,        /* uri NAME /re/ */
	RS_URI_DETAIL, /* uri_detail NAME KEY =~ /re/ ... (URIDetail) */
	RS_META,       /* meta NAME expr */
	RS_EVAL,       /* header|body|rawbody|full|uri NAME eval:f(...) —
	                  not implemented, evaluates to false */
	RS_UNDEFINED   /* only score/describe/tflags lines named it */
};

/* Header-rule modifiers (HDR:raw, HDR:addr, ...; SpamAssassin 4's). */
#define RS_HDR_RAW  0x1u /* undecoded value (no RFC 2047 decoding), folding kept */
#define RS_HDR_ADDR 0x2u /* the addresses of the header */
#define RS_HDR_NAME 0x4u /* the display names of the header */
#define RS_HDR_HOST   0x08u /* a host per value (hdrmod.h) */
#define RS_HDR_DOMAIN 0x10u /* its registrar domain (implies host) */
#define RS_HDR_IP     0x20u /* the first IP address per value */
#define RS_HDR_REVIP  0x40u /* same, reversed (implies ip) */
#define RS_HDR_FIRST  0x80u /* only the first header of that name */
#define RS_HDR_LAST   0x100u /* only the last one */

/* The keys of a uri_detail condition (URIDetail.pm): what of one URI
 * of the message's URI details (msg.h msg_uri_detail) it tests. */
enum rs_ud_key {
	RS_UD_RAW,     /* the raw URI */
	RS_UD_TYPE,    /* its types ("a", "img", "parsed", ...) */
	RS_UD_CLEANED, /* its forms */
	RS_UD_TEXT,    /* its anchor texts */
	RS_UD_DOMAIN,  /* the registrar domains of its hosts */
	RS_UD_HOST,    /* its hosts */
	RS_UD_NKEYS
};

/* One condition: KEY =~ /re/ (or !~) holds when some value of the key
 * matches (does not match, for !~); a key without values fails both. */
struct rs_ud_cond {
	bool set;              /* the rule has a condition on this key */
	bool negate;           /* !~ */
	const char *pattern;   /* as for regex rules (rs_rule.pattern) */
	size_t pattern_len;
	uint32_t pcre2_options;
};

/* tflags words the engine honours; the others are kept in tflags_text. */
#define RS_TF_NICE     0x01u /* a ham rule: default score -1 */
#define RS_TF_NET      0x02u /* needs network: score set 1/3 only */
#define RS_TF_LEARN    0x04u /* needs Bayes: score set 2/3 only */
#define RS_TF_MULTIPLE 0x08u /* count every match (up to maxhits) */
#define RS_TF_USERCONF 0x10u
#define RS_TF_NOAUTOLEARN 0x20u
#define RS_TF_PUBLISH  0x40u
#define RS_TF_NOSUBJECT 0x80u /* body rule: Subject not part of the body */

struct rs_rule {
	const char *name;
	enum rs_type type;
	const char *file;      /* where the rule was (last) defined; for
	                          RS_UNDEFINED, where it was first named */
	unsigned line;

	/* RS_HEADER, RS_MIMEHEADER: header name as written ("Subject",
	 * "ALL", "ToCc", "MESSAGEID", "EnvelopeFrom", "X-Spam-Relays-..."),
	 * without the :modifier. */
	const char *header;
	unsigned hdr_mods;     /* RS_HDR_* */
	bool exists;           /* exists:HDR — true when the header is present */
	bool negate;           /* !~ instead of =~ */
	const char *if_unset;  /* [if-unset: TEXT], or NULL */

	/* Regex rules (header, mimeheader, body, rawbody, full, uri): the
	 * pattern between the delimiters, unchanged (PCRE2 syntax is Perl's),
	 * and its modifiers as PCRE2 compile options (i -> PCRE2_CASELESS,
	 * m -> PCRE2_MULTILINE, s -> PCRE2_DOTALL, x -> PCRE2_EXTENDED).
	 * NULL for the other types. */
	const char *pattern;
	size_t pattern_len;
	uint32_t pcre2_options;
	/* The pattern holds SpamAssassin 4 capture templates, %{NAME}: the
	 * values other rules' named groups (?<NAME>...) captured on the
	 * message go there (the engine's rulescap.c). */
	bool capture_template;
	/* It has a group named as SpamAssassin's tags, "(?<NAME>...)",
	 * upper-case first: its matches set the tag. */
	bool captures;

	/* RS_URI_DETAIL: its conditions, indexed by enum rs_ud_key (set
	 * says which the rule has): all must hold for one and the same
	 * URI. As in SpamAssassin, the lines defining a name add up, a
	 * later condition on a key replacing the earlier. NULL for the
	 * other types. */
	const struct rs_ud_cond *ud;

	/* RS_META: the expression text as written. */
	const char *meta;
	/* RS_EVAL: the call text, e.g. "check_for_forged_received_trail()",
	 * and the type of the rule line (RS_HEADER, RS_BODY, RS_RAWBODY, ...:
	 * which text SpamAssassin hands the function); RS_EVAL when a plugin
	 * directive defined it. */
	const char *eval;
	enum rs_type eval_on;

	/* Scores of the four SpamAssassin score sets (0: no Bayes, no net;
	 * 1: net; 2: Bayes; 3: Bayes and net). One value on the score line
	 * fills all four. When no score line named the rule, SpamAssassin's
	 * defaults are filled in: 1.0 (-1.0 with tflags nice), 0 for names
	 * starting with "__", 0.01 for names starting with "T_". */
	double score[4];
	bool score_given;      /* a score line named it */
	bool score_one_value;  /* the last one gave one value, for every set */
	const char *describe;  /* "describe" text (lang "en" or none), or NULL */
	unsigned tflags;       /* RS_TF_* */
	unsigned maxhits;      /* tflags maxhits=N (0: none) */
	const char *tflags_text; /* the whole tflags line as written, or NULL */
	int priority;          /* "priority" line, default 0; -10000 for
	                          a rule with a capture group (?<NAME>...) */
};

enum rs_diag_kind {
	RS_DIAG_ERROR,       /* a line that could not be understood; skipped */
	RS_DIAG_UNSUPPORTED, /* understood, not implemented (eval:, plugin
	                        options, ...); listed by vigil rules --unsupported */
	RS_DIAG_WARNING      /* e.g. score for a rule never defined */
};

struct rs_diag {
	enum rs_diag_kind kind;
	const char *file;
	unsigned line;
	const char *rule;    /* rule concerned, or NULL */
	const char *message; /* what was wrong / what was expected */
};

struct ruleset;
struct trustpath;

struct ruleset_opts {
	/* Does vigil implement this SpamAssassin plugin (e.g.
	 * "Mail::SpamAssassin::Plugin::SPF")? Used by ifplugin and
	 * plugin_loaded() in if expressions; NULL = none besides the ones the
	 * parser itself implements (ReplaceTags). */
	bool (*plugin_loaded)(const char *name);
	/* Value of "version" in if expressions (SpamAssassin's 4.000001
	 * style); 0 = 4.000001. */
	double sa_version;
	/* SpamAssassin's local_tests_only (spamd -L: no network tests, as
	 * in score sets 0 and 2), read by `if` and in metas. */
	bool local_tests_only;
};

/* Load the given files and directories, in order. Returns NULL only on
 * allocation failure; a path that cannot be read is a RS_DIAG_ERROR. */
struct ruleset *ruleset_load(const char *const *paths, size_t npaths,
                             const struct ruleset_opts *opts);
/* Same from one buffer (tests, vigil rules test): file names in
 * diagnostics are `name`; include is refused. */
struct ruleset *ruleset_load_buf(const char *name, const char *text,
                                 size_t len, const struct ruleset_opts *opts);
void ruleset_free(struct ruleset *rs);

/* Rules in the order they were first defined (or named). */
size_t ruleset_count(const struct ruleset *rs);
const struct rs_rule *ruleset_at(const struct ruleset *rs, size_t i);
const struct rs_rule *ruleset_find(const struct ruleset *rs,
                                   const char *name);

/* required_score (or required_hits) from the files, the last one read,
 * and where (file, line; either pointer may be NULL); false when none
 * was given. */
bool ruleset_required_score(const struct ruleset *rs, double *out,
                            const char **file, unsigned *line);

size_t ruleset_diag_count(const struct ruleset *rs);
const struct rs_diag *ruleset_diag_at(const struct ruleset *rs, size_t i);

/* Plugin setting lines vigil's eval functions read (saeval.h): every
 * "freemail_domains", "freemail_welcomelist", "freemail_whitelist",
 * "freemail_max_body_emails", "freemail_max_body_freemails",
 * "freemail_skip_when_over_max" and "freemail_skip_bulk_envfrom" line;
 * every "enlist_uri_host", "delist_uri_host", "blocklist_uri_host" and
 * "welcomelist_uri_host" (and old-named) line; every "util_rb_2tld",
 * "util_rb_3tld" and "clear_util_rb" line; every
 * "welcomelist_bounce_relays", "whitelist_bounce_relays" and
 * "enlist_addrlist" line; every WLBLEval sender and recipient list line
 * (welcomelist_from, blocklist_to, welcomelist_from_rcvd, their un- and
 * old-named forms, more_spam_to, all_spam_to, welcomelist_allows_relays:
 * sa_wlbl.c); every "ok_locales" line; read
 * (conditionals resolved), in file order. Key and value (the rest of the
 * line, trimmed) are owned by the ruleset. i < count. */
size_t ruleset_setting_count(const struct ruleset *rs);
bool ruleset_setting_at(const struct ruleset *rs, size_t i,
                        const char **key, const char **value);

/* The trust path the files configure (trusted_networks,
 * internal_networks, msa_networks and their clear_ forms, as
 * SpamAssassin reads them; relays.h), for relays_build_trust; NULL when
 * neither trusted_networks nor internal_networks is configured
 * (SpamAssassin then infers trust). Owned by the ruleset. */
const struct trustpath *ruleset_trustpath(const struct ruleset *rs);

/* The redirector_pattern lines read, compiled, in file order (a bad
 * one is a RS_DIAG_ERROR and left out), wanting the URI details when
 * a uri_detail rule is defined (uriredir_want_details()); NULL when
 * neither. Owned by the ruleset: for msg_parse_redirected() while rs
 * lives. */
struct uriredir;
const struct uriredir *ruleset_redirectors(const struct ruleset *rs);
/* Files read, in order (for reports and vigil rules check). */
size_t ruleset_file_count(const struct ruleset *rs);
const char *ruleset_file_at(const struct ruleset *rs, size_t i);
/* SHA-256 of what was read, as 64 hex digits and a NUL: for each file in
 * the order read (the buffer for ruleset_load_buf), its length as 8
 * octets big-endian and its bytes. Paths are not part of it: the same
 * contents read in the same order give the same digest wherever they
 * are; one byte changed gives another. */
void ruleset_digest(const struct ruleset *rs, char hex[65]);

/* The next argument of an eval call's list p[*pos..len) (the text
 * between its parentheses), as SpamAssassin's pack_eval_args() reads
 * it: 'quoted' or "quoted" (up to the first quote followed by blanks
 * and a comma or the end) or a run of [0-9.:A-Za-z-], each followed by
 * blanks and a comma or the end. Returns 1 with the argument in
 * *arg, *arg_len and *pos past it, 0 at the end of the list, -1 when
 * the rest is no argument (SpamAssassin's "syntax error"). */
int ruleset_eval_arg(const char *p, size_t len, size_t *pos,
                     const char **arg, size_t *arg_len);

/* Whether the argument list of eval call text eval ("fn(args)") reads
 * to its end (ruleset_eval_arg()); a rule whose list does not is left
 * out, as SpamAssassin leaves it out. */
bool ruleset_eval_args_ok(const char *eval);

/* The next capture template "%{NAME}" in p[from..len), in SpamAssassin's
 * syntax (Parser.pm's parse_captures: NAME upper-case first, "_"
 * between parts, maybe "(args)"; not after a backslash): sets *start
 * to where it starts and NAME (with its args) in *name, *name_len, and
 * returns the offset after it; 0 when there is none. */
size_t ruleset_next_template(const char *p, size_t len, size_t from,
                             size_t *start, const char **name,
                             size_t *name_len);

#endif
