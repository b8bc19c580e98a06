/*
 * uri.h — finding URIs in text and normalising them.
 *
 * uri_scan_text() reports every URI-looking span of plain text: scheme
 * URLs, schemeless www. (www1.-www99.) and ftp. hosts, bare host
 * names with a known TLD (reported with http://) and e-mail addresses
 * (reported as mailto: unless written with it; none starting cid: or
 * mid:), as SpamAssassin's text parser finds them;
 * and, marked unlisted, the spellings it does not find (obfuscated
 * schemes such as hxxp:// or http;//). uri_norm()
 * turns one raw URI into its normal form: scheme and host lower-case,
 * host percent- and obfuscation-decoded ("[.]", "(dot)", full-width
 * dots), numeric IPv4 forms (decimal, hex, octal, short) in dotted quad,
 * internationalised hosts as IDNA A-labels (libidn2), default ports
 * removed, an empty http path as "/". Pure functions; thread-safe.
 */
#ifndef VIGIL_URI_H
#define VIGIL_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

enum uri_flag {
	URI_OBFUSCATED = 1, /* the raw form hid the host or the scheme */
};

/* What uri_scan_text() found: a URI SpamAssassin's text parser lists
 * too, or a link spelling it does not list (an obfuscated scheme such as
 * hxxp://, http;// or http:\\, another scheme, a host cut by "[.]"),
 * which only tells that the message hides a link (URI_OBFUSCATED). */
enum uri_text_kind {
	URI_TEXT_LINK,       /* written with its scheme */
	URI_TEXT_UNLISTED,
	URI_TEXT_SCHEMELESS, /* listed with a scheme SpamAssassin gives it:
	                        a www. or ftp. host (reported as written),
	                        an address (reported with mailto:), a
	                        LOCAL/x@REST link (with http://) */
	URI_TEXT_UNLINKED,   /* a bare host name (reported with http://),
	                        which mail programs do not make a link */
};

typedef void (*uri_found_fn)(void *ctx, const char *raw, size_t len,
                             enum uri_text_kind kind);

void uri_scan_text(const char *s, size_t len, uri_found_fn fn, void *ctx);
/* Append the normal form of raw to out (NUL-terminated by the caller's
 * arena_buf_finish). Returns -1 (out unchanged) when raw is not an
 * absolute URI worth keeping (relative, javascript:, data:...). */
int uri_norm(const char *raw, size_t len, struct arena_buf *out,
             unsigned *flags);
/* HTML.pm's _remove_dot_segments of the path in[0..n) into out (room
 * for n bytes): a leading "./" or "../" is "/", "/./" is "/", "/../"
 * drops the segment before it ("a/../b" and "/a/../b" are "/b").
 * Returns the length written. */
size_t uri_remove_dots(const char *in, size_t n, char *out);
/* Resolve a relative reference against base (already normalised), the
 * dot segments of the result's path removed (uri_remove_dots()). */
int uri_resolve(const char *base, size_t base_len, const char *ref,
                size_t ref_len, struct arena_buf *out);
/* HTML.pm's target_uri of link r[0..n) against no base, appended to
 * out: parsed as its _parse_uri parses one (a scheme of bytes other
 * than ":/?#", "//" and the authority, the path, "?query", "#fragment"
 * ended by a line feed), the path's dot segments removed
 * (uri_remove_dots()), and "http:" / "ftp:" before a "//" authority
 * without scheme that starts "www" / "ftp", digits and a dot. -1 when
 * out of memory. */
int uri_target(const char *r, size_t n, struct arena_buf *out);
/* The host of a normalised URI (or of text that is just a host name)
 * into buf (lower-case, "www." kept); 0 when there is none. */
size_t uri_host(const char *s, size_t len, char *buf, size_t cap);
/* Does anchor text that shows host text_host point elsewhere than
 * href_host? ("www." ignored; subdomains of each other match.) */
bool uri_hosts_differ(const char *text_host, const char *href_host);

/* Is s[0..n) (any case) a top-level domain SpamAssassin 4 knows (its
 * util_rb_tld list)? */
bool uri_is_tld(const char *s, size_t n);

/* SpamAssassin's host checks (Util.pm, RegistryBoundaries.pm), ASCII only
 * as in Debian's SpamAssassin without Perl's IDN modules:
 * uri_fqdn_valid() is is_fqdn_valid() (two labels or more, each 1-63
 * letters, digits, '-' inside, '_' but in the last two; trailing dots
 * ignored); uri_domain_valid() is is_domain_valid() (no blank, ends in
 * a dot and a known TLD); uri_sa_domain() says whether uri_to_domain()
 * gives the URI u (as SpamAssassin lists it) a domain: its host, after
 * the scheme, user@ and port are dropped (mailto: the part after its one
 * '@'), with no %-escaped printable character, a dotted quad or a valid
 * name. */
bool uri_fqdn_valid(const char *h, size_t n);
bool uri_domain_valid(const char *d, size_t n);
bool uri_sa_domain(const char *u, size_t n);
/* uri_sa_domain(), and that host as a slice of u (*host, *hn; its case
 * as written: uri_to_domain() gives it in lower case). */
bool uri_sa_host(const char *u, size_t n, const char **host, size_t *hn);
/* Is s[0..n) a dotted quad as SpamAssassin's IS_IPV4_ADDRESS reads it
 * (four numbers 0-255, none with a leading zero)? */
bool uri_is_ipv4(const char *s, size_t n);

#endif
