/*
 * sniff.h — recognise a file type from its first bytes ("magic").
 *
 * A short fixed table of signatures for what matters to spam filtering:
 * images, executables and scripts, archives, documents. Returns a media
 * type string (static) or NULL when nothing matches. Hand-written rather
 * than libmagic: libmagic loads a multi-megabyte database per handle, is
 * not thread-safe per handle and costs far more per call than the few
 * signatures rules need.
 */
#ifndef VIGIL_SNIFF_H
#define VIGIL_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

const char *sniff_type(const void *data, size_t len);
/* Do declared and detected types disagree in a way worth a flag? Both
 * lower-case media types; detected may be NULL (never a mismatch). */
bool sniff_mismatch(const char *declared, const char *detected);

#endif
