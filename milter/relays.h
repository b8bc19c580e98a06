/*
 * relays.h — the relays of a message as SpamAssassin sees them.
 *
 * relays_build() parses the Received: headers of a message (most recent
 * first; plus the originating-IP headers SpamAssassin's default
 * configuration appends: X-Originating-IP and friends) into relays, the
 * way SpamAssassin 4's Received-header parser does, decides trust and
 * renders the four pseudo-headers X-Spam-Relays-Trusted/-Untrusted/
 * -Internal/-External: each relay as "[ ip=.. rdns=.. helo=.. by=..
 * ident=.. envfrom=.. intl=0|1 id=.. auth=.. msa=0|1 ]", joined by one
 * space, most recent first ("" when none). For the ALL-TRUSTED/
 * ALL-UNTRUSTED/ALL-INTERNAL/ALL-EXTERNAL header views it gives the trust
 * boundaries as Received: indexes.
 *
 * Trust, as SpamAssassin 4 decides it (Message::Metadata::Received):
 * - without trusted_networks and internal_networks (struct trustpath
 *   NULL or neither configured): inference. A relay is trusted, and
 *   internal, while every relay so far came from a private/loopback
 *   address or was authenticated; the first other relay and all after it
 *   are untrusted and external.
 * - with them (only one configured: it stands for the other too): walking
 *   from the most recent relay, while the path is still trusted and no
 *   MSA was met, a relay neither authenticated (auth=) nor in
 *   trusted_networks ends the trusted and the internal part; otherwise one
 *   neither authenticated nor in internal_networks ends the internal part,
 *   and one in msa_networks is marked msa=1 and freezes the status: every
 *   later (older) relay keeps the trusted/internal status it had.
 * - in both, a POP/IMAP fetch marker met while the path is trusted empties
 *   the trusted, internal and external lists (another mailbox's history).
 *
 * The result owns its strings; it does not point into the message. The
 * patterns are compiled once per process (thread-safe); parsing is
 * bounded (at most RELAYS_MAX_HEADERS headers of RELAYS_MAX_LINE bytes).
 */
#ifndef VIGIL_RELAYS_H
#define VIGIL_RELAYS_H

#include <stdbool.h>
#include <stddef.h>

struct msg;
struct relays;
struct trustpath;

#define RELAYS_MAX_HEADERS 100
#define RELAYS_MAX_LINE 4096

enum relays_kind {
	RELAYS_TRUSTED, RELAYS_UNTRUSTED, RELAYS_INTERNAL, RELAYS_EXTERNAL,
	RELAYS_KINDS
};

/* The pseudo-header a header name designates ("X-Spam-Relays-Untrusted",
 * case-insensitive), or -1 when it is not one of the four. */
int relays_kind_of(const char *name);

/* Parse m's relays into *out (free with relays_free), trust decided with
 * t (NULL: inference). 0, or -1 when memory ran out (*out NULL) or the
 * patterns failed to compile. */
int relays_build_trust(const struct msg *m, const struct trustpath *t,
                       struct relays **out);
/* relays_build_trust(m, NULL, out). */
int relays_build(const struct msg *m, struct relays **out);
void relays_free(struct relays *r);

/* One pseudo-header's text (NUL-terminated, never NULL; len optional). */
const char *relays_str(const struct relays *r, enum relays_kind k,
                       size_t *len);

/* The view an ALL-* name designates ("ALL-UNTRUSTED"; case-insensitive,
 * SpamAssassin only knows the upper-case names: callers check that):
 * RELAYS_TRUSTED..RELAYS_EXTERNAL, or -1. */
int relays_all_kind_of(const char *name);

/* SpamAssassin's trust boundary for the ALL-* views: the 0-based index,
 * counting Received: headers from the top, of the first one at or below
 * the boundary (last_trusted_relay_index + 1; internal:
 * last_internal_relay_index + 1). ALL-TRUSTED/-INTERNAL are the headers
 * above it plus it; ALL-UNTRUSTED/-EXTERNAL are it and every header
 * below it. The index
 * may exceed the number of Received: headers (all trusted). */
size_t relays_boundary(const struct relays *r, bool internal);

/* Relays counted by relays_build: parsed, and lines it could not parse
 * (SpamAssassin's num_relays_unparseable). */
size_t relays_count(const struct relays *r);
/* Relays in one list (SpamAssassin's num_relays_trusted, ...): what the
 * relay eval functions (check_all_trusted, check_no_relays, ...) need. */
size_t relays_num(const struct relays *r, enum relays_kind k);
size_t relays_unparseable(const struct relays *r);

/* One relay's fields, as in the pseudo-headers (after SpamAssassin's
 * clean-up: "" when absent). envfrom_set tells an absent envfrom from an
 * empty one (SpamAssassin's undef vs ""), which get_envelope_from needs. */
struct relays_relay {
	const char *ip, *rdns, *helo, *by, *ident, *envfrom;
	bool envfrom_set;
	bool ip_private;   /* ip is private/loopback (SpamAssassin's IP_PRIVATE) */
	bool no_rdns;      /* rdns empty, and the MTA's format says it looked
	                      the address up (SpamAssassin's no_reverse_dns) */
	bool originating;  /* from X-Originating-IP or the like (a web
	                      client), not from a Received: line */
};
/* The i-th relay (0 = most recent) of list k (i < relays_num(r, k)), or
 * NULL. Owned by r; valid until relays_free. */
const struct relays_relay *relays_at(const struct relays *r,
                                     enum relays_kind k, size_t i);

/* Does s start with an address SpamAssassin counts as private
 * (IP_PRIVATE: RFC 1918, loopback, link-local, ...)? */
bool relays_ip_private(const char *s);

/* One Received: value (unfolded or not) parsed on its own, for tests and
 * tools: 1 and the relay rendered in buf (intl=0, as SpamAssassin before
 * the trust decision) with *priv (private address) and *auth
 * (authenticated) set; 0 when the line is deliberately skipped (local
 * handovers, fetchmail markers); -1 when it cannot be parsed or the
 * rendering does not fit in buf. */
int relays_parse_line(const char *line, size_t len, char *buf,
                      size_t buflen, bool *priv, bool *auth);

#endif
