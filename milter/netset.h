/*
 * netset.h — ordered lists of IPv4/IPv6 networks, as SpamAssassin's
 * Mail::SpamAssassin::NetSet keeps them for trusted_networks,
 * internal_networks and msa_networks.
 *
 * An item is written as SpamAssassin accepts it:
 *   a.b.c.d            one IPv4 address (/32)
 *   a.b.c.d/n          an IPv4 network, n in 0..32 (or a contiguous
 *                      dotted mask: a.b.c.d/255.255.0.0); host bits are
 *                      ignored (10.1.2.3/8 is 10.0.0.0/8)
 *   a. a.b. a.b.c.     (trailing dot optional: "10", "10.1", "10.1.2")
 *                      short forms meaning /8, /16, /24 (a mask may
 *                      follow: "10/8"); leading zeros allowed in octets
 *   IPv6[/n]           inet_pton's IPv6 text, n in 0..128 (default 128);
 *                      may be in brackets ("[2001:db8::1]/64") and carry
 *                      a %scope, which is ignored
 *   !item              an exclusion
 * Host names and a-b ranges are refused (SpamAssassin needs
 * Net::CIDR::Lite for ranges, which it does not have by default).
 *
 * Every network is kept as a 128-bit prefix, IPv4 ones mapped into
 * ::ffff:0:0/96: that is exactly SpamAssassin's behaviour, which matches
 * an IPv4 address against the IPv6 form of every network as well (so
 * ::/0 contains every IPv4 address).
 *
 * Matching (netset_contains) is SpamAssassin's sequential search, the one
 * it uses without Net::Patricia (not installed with it by default): the
 * entries are tried in order and the first one containing the address
 * decides; an exclusion that matches means "not contained". An item that
 * an earlier entry already covers can never decide, and netset_add
 * refuses it (SpamAssassin warns "cannot exclude/include ... as it has
 * already been included/excluded" and drops it too).
 *
 * A netset is immutable once built and may then be read by several
 * threads. Bounded: at most NETSET_MAX entries, items of at most
 * NETSET_ITEM_MAX bytes.
 */
#ifndef VIGIL_NETSET_H
#define VIGIL_NETSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETSET_MAX 65536
#define NETSET_ITEM_MAX 128

struct netset_net {
	uint8_t addr[16];   /* network address, host bits zero */
	uint8_t plen;       /* prefix length over the 128 bits */
	bool v4;            /* written as IPv4 (addr in ::ffff:0:0/96) */
	bool exclude;       /* "!" item */
};

struct netset;

/* An empty set; with loopback, 127.0.0.0/8 and ::1 come first (as in
 * SpamAssassin's trusted_networks and internal_networks, never in its
 * msa_networks). NULL when memory ran out. */
struct netset *netset_new(bool loopback);
void netset_free(struct netset *s);

/* Parse one item (n bytes, no blanks). 0 and *out; -1 when it is not an
 * item of the forms above: err (NUL-terminated, errlen > 0) then says
 * what was expected. */
int netset_parse(const char *item, size_t n, struct netset_net *out,
                 char *err, size_t errlen);

/* Append a parsed network. 1 added; 0 not added because entry *cover
 * (index, may be NULL) already contains it; -1 memory ran out or the set
 * is full (NETSET_MAX). */
int netset_add(struct netset *s, const struct netset_net *net,
               size_t *cover);

size_t netset_count(const struct netset *s);
const struct netset_net *netset_at(const struct netset *s, size_t i);

/* Drop entry i (later ones move down). */
void netset_remove(struct netset *s, size_t i);

/* Is the address text ip (dotted quad or IPv6) in the set? false for
 * text that is not an address. */
bool netset_contains(const struct netset *s, const char *ip);
/* Same for a 16-byte address (IPv4 as ::ffff:a.b.c.d). */
bool netset_contains_addr(const struct netset *s, const uint8_t addr[16]);
/* Is all of network n inside the set? The first entry containing n
 * decides, an exclusion meaning no (SpamAssassin's contains_net). */
bool netset_contains_net(const struct netset *s,
                         const struct netset_net *n);

/* n as text ("!10.0.0.0/8", "2001:db8::/32"); buf of at least 64 bytes
 * is always enough. Returns buf. */
const char *netset_format(const struct netset_net *n, char *buf,
                          size_t len);

#endif
