/*
 * dkimver.h — DKIM signature verification (RFC 6376; RFC 8463 Ed25519)
 * with libopendkim, keys fetched through dns.h.
 *
 * A dkimver (one per configuration, shared by worker threads) holds the
 * libopendkim library handle with vigil's resolver plugged in through the
 * dkim_dns_set_query_* hooks: a key lookup that times out or gets SERVFAIL
 * gives temperror, NXDOMAIN/NODATA permerror. dkimver_verify() checks
 * every signature of a scan's message (headers byte-exact, CRLF body) up
 * to a limit, and reports each one.
 *
 * dkimver_stage feeds a dkimver_msg from its header/eoh/body hooks as the
 * message arrives and finishes it in run(); run() alone (replay tool,
 * tests) verifies the whole scan. It adds DKIM_SIGNED / DKIM_VALID /
 * DKIM_VALID_AU / DKIM_VALID_EF / DKIM_INVALID hits (SpamAssassin's
 * names), the dkim= result for the log, and one Authentication-Results
 * entry per signature.
 */
#ifndef VIGIL_DKIMVER_H
#define VIGIL_DKIMVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dns.h"
#include "stage.h"

struct scan;

extern const struct stage_ops dkimver_stage;

/* RFC 8601 dkim results. */
enum dkimver_res {
	DKIMVER_NONE = 0,     /* no signature */
	DKIMVER_PASS,
	DKIMVER_FAIL,         /* signature or body hash mismatch */
	DKIMVER_NEUTRAL,      /* syntax errors, expired, not evaluated */
	DKIMVER_POLICY,       /* valid, but refused locally (key too small) */
	DKIMVER_TEMPERROR,    /* key lookup failed temporarily */
	DKIMVER_PERMERROR,    /* no key, revoked or unusable key */
	DKIMVER_RES_COUNT
};

struct dkimver_sig {
	enum dkimver_res result;
	char domain[256];     /* d= */
	char selector[256];   /* s= */
	char identity[256];   /* i= (or @d) */
	char alg[32];         /* a= */
	char header_b[16];    /* first 8+ characters of b=, for RFC 6008 */
	char error[128];      /* libopendkim's reason when not pass */
	unsigned key_bits;
	bool partial_body;    /* l= left part of the body unsigned */
	ssize_t body_signed;  /* l= value, -1 without l= */
};

struct dkimver;

/* min_key_bits: smaller keys give "policy"; max_sigs: signatures checked
 * per message (the others are reported neutral). */
struct dkimver *dkimver_new(struct dns *dns, unsigned min_key_bits,
                            unsigned max_sigs, char *err, size_t errlen);
/* Verify rsa-sha1 signatures too (RFC 8301 forbids it; default: they
 * are permerror, and their keys are not looked up). */
void dkimver_allow_sha1(struct dkimver *v, bool allow);
void dkimver_free(struct dkimver *v);

/* Verify every signature of the scan's message. On success *sigs (caller
 * frees with free()) holds *count results, in header order; 0 signatures
 * gives *sigs NULL. Returns 0, or -1 on an internal error (err set). */
/* Verify every signature of the scan's message (headers byte-exact, CRLF
 * body). On success *sigs (caller frees with free()) holds *count
 * results, in header order; 0 signatures gives *sigs NULL. Returns 0, or
 * -1 on an internal error (err set). */
int dkimver_verify(struct dkimver *v, struct dns_budget *b,
                   const struct scan *scan, struct dkimver_sig **sigs,
                   size_t *count, char *err, size_t errlen);

/* The same, fed incrementally: headers and body chunks as they arrive
 * (CPU only: no DNS before dkimver_msg_finish, which looks the keys up
 * and may block until the budget's deadline). A dkimver_msg may be fed on
 * one thread and finished on another, never used by two at once; it is
 * owned by its creator (dkimver_msg_free). Feeding never fails visibly:
 * an error is kept and reported by finish (as dkimver_verify does). */
struct dkimver_msg;
struct dkimver_msg *dkimver_msg_new(struct dkimver *v);   /* NULL: no memory */
void dkimver_msg_free(struct dkimver_msg *m);
/* One header as received: value keeps its leading space and folding. */
void dkimver_msg_header(struct dkimver_msg *m, const char *name,
                        size_t name_len, const char *value, size_t value_len);
void dkimver_msg_eoh(struct dkimver_msg *m);
/* A body chunk (CRLF line ends); implies eoh. */
void dkimver_msg_body(struct dkimver_msg *m, const void *data, size_t len);
/* Headers fed, body bytes given, and whether a signature was found (known
 * after eoh). */
size_t dkimver_msg_headers(const struct dkimver_msg *m);
size_t dkimver_msg_body_bytes(const struct dkimver_msg *m);
bool dkimver_msg_signed(const struct dkimver_msg *m);
/* End of message: look the keys up and verify; results as for
 * dkimver_verify. */
int dkimver_msg_finish(struct dkimver_msg *m, struct dns_budget *b,
                       struct dkimver_sig **sigs, size_t *count, char *err,
                       size_t errlen);

const char *dkimver_res_name(enum dkimver_res r);

#endif
