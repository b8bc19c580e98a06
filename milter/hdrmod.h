/*
 * hdrmod.h — SpamAssassin 4's :host, :domain, :ip and :revip header
 * modifiers (PerMsgStatus.pm's _get(), 4.0.1).
 *
 * A header rule "header R From:addr:domain =~ /.../" reads, per value
 * its header name gives (after :first/:last and :addr/:name), at most one
 * result:
 *  - :host: with :addr, everything after the value's last '@' followed
 *    by a non-blank, up to a blank (no check); else the host right after
 *    an '@' (the line's last '@' that has one; a valid name or nothing),
 *    else the first valid host anywhere in the value. A host is a run of
 *    non-blanks (not after '.', '_' or '-') ending in a dot and a TLD of
 *    SpamAssassin's util_rb_tld list (any case) not followed by '.', '_',
 *    '-', a letter or a digit, at most 251 bytes before that dot; valid
 *    is uri_fqdn_valid() (ASCII: an IDN name never is, as in a
 *    SpamAssassin without Perl's IDN modules). Case kept. A host "0" is
 *    dropped (Perl's false).
 *  - :domain (implies :host): the host's registrar domain
 *    (saeval_registrar_domain(): lower case).
 *  - :ip: the first IPv4 or IPv6 address of the value as SpamAssassin's
 *    IP_ADDRESS reads it, not next to a '.' or a word character (an
 *    "IPv6:" prefix kept).
 *  - :revip (implies :ip): that address reversed (IPv4: its four
 *    numbers; IPv6: its 32 nibbles, RFC 5782); nothing when it does not
 *    reverse (with the "IPv6:" prefix, say).
 * :host/:domain win over :ip/:revip when both are given.
 *
 * Thread safety: the IP pattern is compiled once (pthread_once); calls
 * may run in parallel.
 */
#ifndef VIGIL_HDRMOD_H
#define VIGIL_HDRMOD_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;
struct regdom;

/* Any of the four modifiers among RS_HDR_* bits mods? */
bool hdrmod_wanted(unsigned mods);

/* The result of one value v[0, n) for the modifiers in mods (RS_HDR_*;
 * RS_HDR_ADDR: v is one address of :addr), appended to b followed by
 * "\n"; nothing when there is none. rd: the registrar lists for :domain
 * (may be NULL: no 2- or 3-level list). On allocation failure b->oom is
 * set. */
void hdrmod_put(struct strbuf *b, const char *v, size_t n, unsigned mods,
                const struct regdom *rd);

#endif
