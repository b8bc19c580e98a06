/*
 * addr.h — RFC 5322 address lists (From, To, Cc, ...).
 *
 * addr_parse() splits an unfolded header value into mailboxes: display
 * name, local part, domain, and the group each belongs to. It tolerates
 * what real mail carries: comments anywhere, the obsolete "a@b (Name)"
 * form (the comment becomes the display name), source routes
 * (<@relay:a@b>), unquoted dots and blanks in phrases, missing domains,
 * stray brackets. Display names are RFC 2047 decoded. Strings are copied
 * into the arena.
 */
#ifndef VIGIL_ADDR_H
#define VIGIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "charset.h"
#include "msg.h"

/* Returns true when the value was well-formed. *out is an arena array
 * of *count addresses (NULL/0 when none). At most max addresses are
 * parsed (memory per address is bounded, a list is not); *cut tells
 * whether the value held more. */
bool addr_parse(struct arena *a, struct charset_conv *cv, const char *value,
                size_t len, size_t max, struct msg_addr **out, size_t *count,
                bool *cut);

#endif
