/*
 * authres.h — building RFC 8601 Authentication-Results method entries
 * ("resinfo") safely from untrusted values.
 *
 * Values taken from the message or the envelope (addresses, domains,
 * selectors) go through authres_value(), which emits them bare when they
 * are a token or an addr-spec of safe characters, and as an RFC 5322
 * quoted-string otherwise; control characters are dropped, so nothing a
 * sender writes can end the header or add a method of its own.
 */
#ifndef VIGIL_AUTHRES_H
#define VIGIL_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

/* A growing resinfo string; never fails visibly: on allocation failure
 * ok becomes false and the string stays as it was. */
struct authres {
	char *buf;
	size_t len, cap;
	bool ok;
};

void authres_init(struct authres *ar);
void authres_free(struct authres *ar);
/* "method=result" */
void authres_method(struct authres *ar, const char *method,
                    const char *result);
/* " (comment)": parentheses and backslashes escaped, controls dropped */
void authres_comment(struct authres *ar, const char *comment);
/* " ptype.property=value" with value made safe */
void authres_prop(struct authres *ar, const char *ptype, const char *property,
                  const char *value);
/* The string built ("" when empty or after a failure). */
const char *authres_str(const struct authres *ar);

/* Append value to ar as a token/addr-spec or a quoted-string. */
void authres_value(struct authres *ar, const char *value);

/* The author domains (RFC 5322.From) of the scan's message: the domain of
 * every address of every top-level From header, lower case, duplicates
 * removed, at most max of them, into out. *headers gets the number of From
 * headers, *addresses the number of addresses (with or without domain). */
struct scan;
#define AUTHRES_DOMAIN_MAX 256
size_t authres_from_domains(struct scan *scan,
                            char (*out)[AUTHRES_DOMAIN_MAX], size_t max,
                            size_t *headers, size_t *addresses);

#endif
