/*
 * sanity.h — the message sanity stage: structural tell-tales that need no
 * parsing beyond the header list and raw body, and the GTUBE test string.
 *
 * Hits (SpamAssassin names where SpamAssassin has the test):
 * GTUBE, MISSING_DATE, MISSING_MID, MISSING_FROM, MISSING_SUBJECT,
 * VIGIL_DUP_SINGLETON (a header RFC 5322 allows once appears twice),
 * VIGIL_LONG_LINE (a body line over 998 octets, RFC 5322 2.1.1),
 * VIGIL_NUL_BYTE (NUL in the body), VIGIL_TRUNCATED (message larger than
 * max_message_size: only its head was scanned), VIGIL_MANY_HEADERS (more
 * header fields than the message model keeps, MSG_DEFAULT_MAX_HEADERS:
 * some were not parsed). Scores are set in the
 * sanity section of vigild.conf.
 */
#ifndef VIGIL_SANITY_H
#define VIGIL_SANITY_H

#include "stage.h"

extern const struct stage_ops sanity_stage;

#endif
