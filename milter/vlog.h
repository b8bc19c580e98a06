/*
 * vlog.h — logging to syslog and, optionally, stderr; and the key=value
 * builder for the one-line-per-message verdict log.
 *
 * vlog() is thread-safe. Before vlog_open() messages go to stderr only.
 * Values put into a kv line are escaped: control characters, '"', '\\'
 * and bytes >= 0x7f never reach the log as such.
 */
#ifndef VIGIL_VLOG_H
#define VIGIL_VLOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* facility: a LOG_* facility; to_stderr: also print every line on stderr. */
void vlog_open(const char *ident, int facility, bool to_stderr);
void vlog_set_stderr(bool to_stderr);
void vlog_set_debug(bool debug);
/* Drop messages less severe than prio (LOG_ERR: errors and worse only);
 * LOG_DEBUG, the default, keeps all. Not thread-safe: for the tools, set
 * around a step whose messages they report themselves. */
void vlog_set_threshold(int prio);
void vlog(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vlogv(int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Map a facility name ("mail", "local0"...) to LOG_*; -1 if unknown. */
int vlog_facility(const char *name);

/* A growing key=value line. Never fails visibly: on allocation failure
 * the line is cut and ends in "...". */
struct kvline {
	char *buf;
	size_t len;
	size_t cap;
};
void kv_init(struct kvline *kv);
void kv_free(struct kvline *kv);
/* key=value; the value is quoted when it has spaces or '=' and escaped. */
void kv_add(struct kvline *kv, const char *key, const char *value);
void kv_addn(struct kvline *kv, const char *key, const char *value,
             size_t len);
void kv_addf(struct kvline *kv, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *kv_str(const struct kvline *kv);

#endif
