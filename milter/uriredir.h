/*
 * uriredir.h — SpamAssassin's redirector_pattern: regexes that find the
 * target URL inside a redirector's URL.
 *
 * A rule file line "redirector_pattern /re/mods" names a pattern whose
 * first capture group is the URL a redirector sends to
 * ("http://www.google.com/url?q=(...)"). SpamAssassin's
 * uri_list_canonicalize matches each pattern, in the order the lines
 * were read, against every http(s) URI of the message's list; the first
 * whose group captured something with a '.' in it adds the captured
 * text to the list (which is canonicalised in turn), and then its own
 * fallback (the first "http(s):" URL in the rest) is not tried.
 *
 * The set also says whether the parser builds the URI details
 * (uriredir_want_details()), the other thing the rule set asks of the
 * message's URI list.
 *
 * The rule set (ruleset.c) builds one set when it reads the files and
 * owns it; the message parser (msg.h msg_parse_redirected()) only reads
 * it. After the last uriredir_add() the set is immutable and may be
 * matched by several threads at once.
 */
#ifndef VIGIL_URIREDIR_H
#define VIGIL_URIREDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uriredir;

/* An empty set; NULL when out of memory. */
struct uriredir *uriredir_new(void);
void uriredir_free(struct uriredir *rd);

/* Compile pattern p[0..n) (PCRE2 syntax, the delimiters and modifiers
 * already taken off: options as for rule regexes) and append it to rd.
 * 0 on success; -1 out of memory; 1 when PCRE2 refuses the pattern, with
 * its message and offset written to err. */
int uriredir_add(struct uriredir *rd, const char *p, size_t n,
                 uint32_t options, char *err, size_t errlen);

/* Whether the message's URI details (msg.h msg_uri_detail_at()) are
 * built too: the rule set asks for them when it has uri_detail rules,
 * so that a message parsed for others costs nothing more. Before the
 * set is shared. */
void uriredir_want_details(struct uriredir *rd);
bool uriredir_details(const struct uriredir *rd);

/* Patterns in rd (0 for NULL). */
size_t uriredir_count(const struct uriredir *rd);

/* Try rd's patterns in order on u[0..n) (the URI as SpamAssassin builds
 * it for them: scheme, lower-case host without "user@", the rest). On the
 * first whose group 1 matched text holding a '.', set *off and *len to
 * that text's place in u and return true; false when none did (or rd is
 * NULL, or out of memory). */
bool uriredir_match(const struct uriredir *rd, const char *u, size_t n,
                    size_t *off, size_t *len);

#endif
