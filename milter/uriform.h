/*
 * uriform.h — SpamAssassin's canonical URI forms, as its Util.pm
 * uri_list_canonicalize rewrites one URI (SpamAssassin 4.0.1).
 *
 * The message model (msg.c) lists, besides each URI vigil finds, the
 * forms SpamAssassin would list for it so that stock `uri` rules see the
 * same list. This module holds the string rewrites those forms are built
 * from; msg.c decides which forms to add. Pure functions on caller
 * buffers: no allocation, no globals, thread-safe. Inputs are spans
 * (pointer and length, not NUL-terminated); each output buffer has the
 * size stated below, and its length is returned (outputs are not
 * NUL-terminated unless stated).
 */
#ifndef VIGIL_URIFORM_H
#define VIGIL_URIFORM_H

#include <stdbool.h>
#include <stddef.h>

/* Size uriform_ip_form() needs for its output. */
#define URIFORM_IP_MAX 64

/* SpamAssassin's url_decode-then-encode of s[0..n) into out (at least
 * 3n + 1 bytes): a %XX of a printable non-blank character is decoded;
 * control, blank and 8-bit bytes, '"', '<', '>' and a '%' not decoded
 * are %-encoded (lower-case hex). Returns the output length. */
size_t uriform_url_decode(const char *s, size_t n, char *out);
/* Has s[0..n) a %-escape (%XX: SpamAssassin re-encodes those URIs)? */
bool uriform_has_escape(const char *s, size_t n);

/* Is host h[0..n) (a ":port" ends it) one SpamAssassin reads as an IPv4
 * address: four dotted parts or one number, each decimal or 0x hex? */
bool uriform_numeric_host(const char *h, size_t n);

/* SpamAssassin's dotted form of numeric host h[0..n) into out
 *
 * (URIFORM_IP_MAX bytes): for four parts, each with 0x
 * hex in decimal, short octal ("017") in decimal, leading zeros dropped
 * ("127.0.0.1" -> "127...1"); one 0x number (its last 8 hex digits) or
 * one decimal number as a dotted quad. Returns the length, 0 when h is
 * not numeric (or a hex part is too long to convert). */
size_t uriform_ip_form(const char *h, size_t n, char *out);

/* SpamAssassin's rewritten copy of URI u[0..n) into d (3n + 8 bytes),
 * using t (n + 2 bytes) for the first step: every '\' as '/', "http:"
 * and "https:" followed by exactly "//" ("http:/x", "http:\\x" and
 * "http:x" too), all %-escapes decoded (uriform_url_decode()) when it
 * has one, a '/' inserted before a '?' or '#' right after an http(s)
 * host, then the character references of printable ASCII decoded
 * ("&#97;", "&#x61;"; not "&#x2f;", as its pattern leaves out 0x2a-0x2f)
 * and those of the Unicode full stops as '.' ("&#x3002;"). Returns d's
 * length. */
size_t uriform_nuri(const char *u, size_t n, char *t, char *d);

#endif
