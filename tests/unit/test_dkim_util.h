/*
 * test_dkim_util.h — helpers for the DKIM and DMARC stage tests: sign a
 * message with libopendkim, build scans the way vigild (hooks as data
 * arrives) and the replay tool (run() alone) do, compare their results.
 * Include after cmocka.h.
 */
#ifndef TEST_DKIM_UTIL_H
#define TEST_DKIM_UTIL_H

#include <opendkim/dkim.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "scan.h"
#include "stage.h"
#include "test_dns_srv.h"

/* The test key (tests/dkim/stage_rsa.pem), read once; NULL on error. */
static inline const char *tdk_key(void)
{
	static char key[4096];
	if (key[0] != '\0')
		return key;
	const char *top = getenv("top_srcdir");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/dkim/stage_rsa.pem",
	         top ? top : ".");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(key, 1, sizeof key - 1, f);
	fclose(f);
	key[n] = '\0';
	return n > 0 ? key : NULL;
}

/* Length of the header block of a CRLF message (up to the blank line,
 * without it), or the whole length when there is no body. */
static inline size_t tdk_header_len(const char *msg)
{
	const char *sep = strstr(msg, "\r\n\r\n");
	return sep ? (size_t)(sep - msg) + 2 : strlen(msg);
}

/* Sign msg (CRLF) for d=domain s=selector with the test key; relaxed or
 * simple canonicalisation for both parts; length: l= value, or -1.
 * Returns "DKIM-Signature: ...\r\n" + msg (malloc'd). */
static inline char *tdk_sign(const char *msg, const char *domain,
                             const char *selector, bool relaxed,
                             ssize_t length)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	DKIM_STAT st;
	dkim_canon_t canon = relaxed ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
	assert_non_null(lib);
	assert_non_null(tdk_key());
	DKIM *d = dkim_sign(lib, (const u_char *)"test",
	                    NULL, (dkim_sigkey_t)tdk_key(),
	                    (const u_char *)selector, (const u_char *)domain,
	                    canon, canon, DKIM_SIGN_RSASHA256, length, &st);
	assert_non_null(d);
	size_t hlen = tdk_header_len(msg);
	const char *p = msg, *end = msg + hlen;
	while (p < end) {   /* one header with its continuation lines */
		const char *e = p;
		do {
			e = strstr(e, "\r\n") + 2;
		} while (e < end && (*e == ' ' || *e == '\t'));
		assert_int_equal(dkim_header(d, (u_char *)(uintptr_t)p,
		                             (size_t)(e - p) - 2), DKIM_STAT_OK);
		p = e;
	}
	assert_int_equal(dkim_eoh(d), DKIM_STAT_OK);
	const char *body = msg + hlen + 2;
	if (hlen + 2 <= strlen(msg) && *body != '\0')
		assert_int_equal(dkim_body(d, (u_char *)(uintptr_t)body,
		                           strlen(body)), DKIM_STAT_OK);
	assert_int_equal(dkim_eom(d, NULL), DKIM_STAT_OK);
	u_char *sig;
	size_t slen;
	assert_int_equal(dkim_getsighdr_d(d, strlen("DKIM-Signature: "), &sig,
	                                  &slen), DKIM_STAT_OK);
	size_t mlen = strlen(msg);
	char *out = malloc(slen + mlen + 32);
	assert_non_null(out);
	int n = snprintf(out, slen + 32, "DKIM-Signature: %.*s\r\n", (int)slen,
	                 (const char *)sig);
	memcpy(out + n, msg, mlen + 1);
	dkim_free(d);
	dkim_close(lib);
	return out;
}

/* A scan as the replay tool makes it: the raw message at once. */
static inline struct scan *tdk_scan_raw(const char *raw, const char *ip,
                                        const char *helo,
                                        const char *mail_from)
{
	struct scan *s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_set_env(s, "Q1", ip, "client.example", 25, helo,
	                              mail_from), 0);
	assert_int_equal(scan_set_raw(s, raw, strlen(raw)), 0);
	scan_set_deadline_ms(s, DNSSRV_WAIT_MS);
	return s;
}

/* A scan as vigild fills it: each header, end of headers, body chunks of
 * `chunk` bytes, each followed by the stages' hooks (states[i] is the
 * state of stages[i]; NULL states are skipped). max_body: 0 for none. */
static inline struct scan *tdk_scan_fed(const char *raw, const char *ip,
                                        const char *helo,
                                        const char *mail_from,
                                        const struct stage_ops *const *stages,
                                        void *const *states, size_t nstages,
                                        size_t chunk, size_t max_body)
{
	struct scan *src = tdk_scan_raw(raw, ip, helo, mail_from);
	struct scan *s = scan_new();
	assert_non_null(s);
	if (max_body > 0)
		scan_set_max_body(s, max_body);
	assert_int_equal(scan_set_env(s, "Q1", ip, "client.example", 25, helo,
	                              mail_from), 0);
	scan_set_deadline_ms(s, DNSSRV_WAIT_MS);
	for (size_t i = 0; i < scan_header_count(src); i++) {
		const char *name, *value;
		size_t nl, vl;
		scan_header_at(src, i, &name, &nl, &value, &vl);
		assert_int_equal(scan_add_header(s, name, nl, value, vl), 0);
		for (size_t k = 0; k < nstages; k++)
			if (states[k] != NULL && stages[k]->header != NULL)
				stages[k]->header(states[k], s, name, nl, value, vl);
	}
	for (size_t k = 0; k < nstages; k++)
		if (states[k] != NULL && stages[k]->eoh != NULL)
			stages[k]->eoh(states[k], s);
	size_t blen;
	const char *body = scan_body(src, &blen);
	for (size_t off = 0; off < blen; off += chunk) {
		size_t n = blen - off < chunk ? blen - off : chunk;
		assert_int_equal(scan_add_body(s, body + off, n), 0);
		for (size_t k = 0; k < nstages; k++)
			if (states[k] != NULL && stages[k]->body != NULL)
				stages[k]->body(states[k], s, body + off, n);
	}
	scan_free(src);
	return s;
}

static inline bool tdk_has_hit(const struct scan *s, const char *name)
{
	for (size_t i = 0; i < scan_hit_count(s); i++)
		if (strcmp(scan_hit_at(s, i)->name, name) == 0)
			return true;
	return false;
}

/* The Authentication-Results entry containing needle, or NULL. */
static inline const char *tdk_auth_with(const struct scan *s,
                                        const char *needle)
{
	for (size_t i = 0; i < scan_auth_result_count(s); i++)
		if (strstr(scan_auth_result_at(s, i), needle) != NULL)
			return scan_auth_result_at(s, i);
	return NULL;
}

/* Same hits, entries, headers and results (dns_ms aside), both ways. */
static inline void tdk_assert_same(const struct scan *a, const struct scan *b)
{
	assert_int_equal(scan_hit_count(a), scan_hit_count(b));
	for (size_t i = 0; i < scan_hit_count(a); i++)
		assert_string_equal(scan_hit_at(a, i)->name, scan_hit_at(b, i)->name);
	assert_int_equal(scan_auth_result_count(a), scan_auth_result_count(b));
	for (size_t i = 0; i < scan_auth_result_count(a); i++)
		assert_string_equal(scan_auth_result_at(a, i),
		                    scan_auth_result_at(b, i));
	assert_int_equal(scan_out_header_count(a), scan_out_header_count(b));
	const struct scan *pair[2][2] = { { a, b }, { b, a } };
	for (int p = 0; p < 2; p++)
		for (size_t i = 0; i < scan_result_count(pair[p][0]); i++) {
			const char *k, *v;
			scan_result_at(pair[p][0], i, &k, &v);
			if (strcmp(k, "dns_ms") == 0)
				continue;
			const char *w = scan_result_get(pair[p][1], k);
			assert_non_null(w);
			assert_string_equal(w, v);
		}
}

#endif
