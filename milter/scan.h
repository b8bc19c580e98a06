/*
 * scan.h — one message being scanned: its envelope, its bytes, and the
 * results the stages add to it.
 *
 * A scan is created by the session (vigild) or the replay tool (vigil) at
 * end of message, handed to the pipeline on a worker thread, and read back
 * by the verdict. Stages only add to it; they never free what they get from
 * it. All strings given to scan_* functions are copied.
 *
 * Ownership: scan_new() allocates, scan_free() frees everything the scan
 * holds, including the parsed message and results.
 */
#ifndef VIGIL_SCAN_H
#define VIGIL_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msg;

/* The SMTP envelope as the MTA told it. Strings are NUL-terminated copies
 * owned by the scan; any of them may be "" when unknown. */
struct scan_env {
	const char *queue_id;    /* macro i */
	const char *client_addr; /* textual IP address, "" for unix/unknown */
	const char *client_host; /* hostname the MTA resolved, or "[addr]" */
	uint16_t client_port;
	const char *helo;
	const char *mail_from;   /* without angle brackets; "" for <> */
	bool mail_from_guessed;  /* mail_from is envguess.h's guess from the
	                            headers of a replayed file, not what an
	                            MTA or the user said */
	const char *const *rcpts;/* without angle brackets */
	size_t rcpt_count;
	const char *auth_authen; /* macro {auth_authen}: SMTP AUTH user, or "" */
	const char *hostname;    /* macro j: the MTA's own name, or "" */
	bool client_guessed;     /* client_addr and helo are envguess.h's
	                            guess from the message's own Received
	                            lines, not what an MTA or the user said */
	int64_t received_at;     /* Unix time the MTA handed the message
	                            over (vigild); 0 when not known (a file) */
};

struct scan;

struct scan *scan_new(void);
void scan_free(struct scan *scan);

/* Setting up (by the session or the replay tool). */
int scan_set_env(struct scan *scan, const char *queue_id,
                 const char *client_addr, const char *client_host,
                 uint16_t client_port, const char *helo,
                 const char *mail_from);
/* What log lines name the message by when it is not an MTA's (vigil
 * scan, explain: "spam.mbox message 12 at byte 40213"); copied. */
int scan_set_log_name(struct scan *scan, const char *name);
/* That name, or NULL (vigild's messages go by their queue id). */
const char *scan_log_name(const struct scan *scan);
/* After scan_set_env(): its mail_from was guessed (scan_env). */
void scan_set_mail_from_guessed(struct scan *scan, bool guessed);
/* After scan_set_env(): its client and HELO were guessed (scan_env). */
void scan_set_client_guessed(struct scan *scan, bool guessed);
void scan_set_received_at(struct scan *scan, int64_t when);
int scan_add_rcpt(struct scan *scan, const char *rcpt);
int scan_set_macro_env(struct scan *scan, const char *auth_authen,
                       const char *hostname);
/* Append one header exactly as received: value keeps its leading
 * whitespace and folding (CRLF + WSP). Past SCAN_MAX_HEADERS fields
 * only those the message model keeps past its bound are stored (msg.h:
 * From, Subject, Content-Type, ...); the others are counted
 * (scan_headers_dropped(), scan_size()), not stored: scan_header_at()
 * does not show them. scan_raw() still writes every field, as
 * received and in order (as SpamAssassin's full text and pristine
 * header have them), as long as the header section stays within
 * max_body bytes (scan_set_max_body()); fields past that are left out
 * of it too (scan_headers_cut()). 0 stored, 1 counted only (in
 * scan_raw() or cut), -1 out of memory. */
#define SCAN_MAX_HEADERS 10000u
int scan_add_header(struct scan *scan, const char *name, size_t name_len,
                    const char *value, size_t value_len);
/* Append a body chunk (CRLF line ends, as on the wire). Bytes beyond
 * max_body are counted but not stored; scan_truncated() then says so. */
int scan_add_body(struct scan *scan, const void *data, size_t len);
void scan_set_max_body(struct scan *scan, size_t max_body);
/* Count len body bytes that were never read (a file's rest past the
 * reading bound, known from its size): scan_size() counts them,
 * scan_truncated() then says so; nothing is stored, in one step. */
void scan_count_unread(struct scan *scan, uint64_t len);
/* Replace everything with one raw message (headers, blank line, body), as
 * read from a file; LF line ends are converted to CRLF. */
int scan_set_raw(struct scan *scan, const char *raw, size_t len);
/* After scan_set_raw(): how many bytes of raw its header section took,
 * with the empty line that ends it (len when there is none). */
size_t scan_raw_head_len(const struct scan *scan);
void scan_set_deadline_ms(struct scan *scan, uint64_t deadline_ms);
/* The receiving MTA's hop for the client (clienthop.h): one Received
 * field, value as it follows "Received:" (folded with CRLF + WSP, no
 * final CRLF), put in front of the header section that scan_raw() and
 * so scan_msg() give. scan_header_at() does not show it: it is not a
 * header the MTA passed (DKIM, the sanity checks and vigild's changes
 * to the message read those). Replaces an earlier one. 0 or -1. */
int scan_set_client_hop(struct scan *scan, const char *value, size_t len);
/* That value (not NUL-terminated) and its length, or NULL. */
const char *scan_client_hop(const struct scan *scan, size_t *len);

/* Reading (by stages). */
const struct scan_env *scan_env(const struct scan *scan);
size_t scan_header_count(const struct scan *scan);
/* i-th header as received; value includes leading whitespace. */
void scan_header_at(const struct scan *scan, size_t i, const char **name,
                    size_t *name_len, const char **value, size_t *value_len);
/* The body as received (CRLF), possibly truncated. It is the end of
 * the buffer scan_raw() gives (the scan holds the message once): valid
 * until the next scan_add_header(), scan_add_body() or scan_set_raw(). */
const char *scan_body(const struct scan *scan, size_t *len);
/* The whole message: headers as received, CRLF, body (the header
 * section written in front of the body on demand; NUL-terminated; NULL
 * on allocation failure). */
const char *scan_raw(struct scan *scan, size_t *len);
/* Size of the message as received, counting bytes not stored. */
size_t scan_size(const struct scan *scan);
bool scan_truncated(const struct scan *scan);
/* Header fields scan_add_header() did not store (SCAN_MAX_HEADERS). */
size_t scan_headers_dropped(const struct scan *scan);
/* Those of them left out of scan_raw()'s header section too (past
 * max_body bytes of it): the message model never saw them. */
size_t scan_headers_cut(const struct scan *scan);
/* The parsed message (message model), parsed on first use, cached; NULL
 * only on allocation failure. */
const struct msg *scan_msg(struct scan *scan);
/* The redirector patterns the message's URI list is built with (the
 * rule files' redirector_pattern lines, ruleset_redirectors(); NULL:
 * none), read by scan_msg() (msg_parse_redirected()); owned by the
 * caller, alive as long as the scan. Set it before the first scan_msg():
 * a message parsed with other patterns is dropped, with the relays built
 * on it, and parsed again on next use (what scan_msg() and scan_relays()
 * returned before is then gone). */
struct uriredir;
void scan_set_uri_redirectors(struct scan *scan, const struct uriredir *rd);
/* The relays of the parsed message (relays.h) with trust path t (NULL,
 * or nothing configured in it: SpamAssassin's inference), built on first
 * use and kept with the message: the envelope guess of a replayed file
 * and the rules stage parse the Received: headers once between them.
 * Owned by the scan, valid until the message changes or scan_free().
 * NULL only when memory ran out. */
struct relays;
struct trustpath;
const struct relays *scan_relays(struct scan *scan, const struct trustpath *t);
/* Milliseconds left before the message's deadline (0 when passed). */
uint64_t scan_deadline_left_ms(const struct scan *scan);

/* Results (by stages). */
/* A rule or test hit; name is [A-Z0-9_]+ by convention, desc may be NULL. */
int scan_hit(struct scan *scan, const char *name, double score,
             const char *desc);
/* The same for a score that is only the stage's built-in default (the
 * operator did not set it): a later stage that scores the same test from
 * its own configuration (a rule file's score line) replaces it with
 * scan_hit_rescore(). */
int scan_hit_provisional(struct scan *scan, const char *name, double score,
                         const char *desc);
void scan_hit_rescore(struct scan *scan, size_t i, double score);
/* Hit i counted count matches (a tflags multiple rule; its score is
 * already the sum): X-Spam-Status names it that many times. */
void scan_hit_set_count(struct scan *scan, size_t i, unsigned count);
/* A stage's score for a test: the value, and whether it is the stage's
 * built-in default (vigild.conf did not set it), which gives way to the
 * rule files' score for the same test, as scan_hit_provisional(). */
struct scan_score {
	double v;
	bool builtin;
};
int scan_hit_score(struct scan *scan, const char *name, struct scan_score s,
                   const char *desc);
/* Hit i taken back (a later stage's configuration decides the test and
 * did not confirm it); the later hits move down by one. */
void scan_hit_drop(struct scan *scan, size_t i);
/* A result of a stage for the syslog line and the verdict, e.g.
 * ("spf", "pass"). A later value for the same key replaces the earlier. */
int scan_result(struct scan *scan, const char *key, const char *value);
/* A rule that reached a PCRE2 limit (match, depth, JIT stack) on this
 * message and so counted as not hit (the rules stage): each name once,
 * in the order reached, for a tool to count. 0, or -1 (memory). */
int scan_note_limit(struct scan *scan, const char *rule);
size_t scan_limit_count(const struct scan *scan);
const char *scan_limit_at(const struct scan *scan, size_t i);
/* A header the verdict adds to the message. */
int scan_add_out_header(struct scan *scan, const char *name,
                        const char *value);
/* An Authentication-Results method entry, e.g. "spf=pass
 * smtp.mailfrom=example.org" (RFC 8601 resinfo, without the leading ';'). */
int scan_add_auth_result(struct scan *scan, const char *resinfo);

/* Per-message state of a stage (see stage.h): NULL until set. The scan
 * frees it with st->ctx_free. 0, or -1 on allocation failure (ctx is
 * then freed). */
struct stage_ops;
void *scan_stage_ctx(const struct scan *scan, const struct stage_ops *st);
int scan_set_stage_ctx(struct scan *scan, const struct stage_ops *st,
                       void *ctx);
/* Add src's results (hits, results, auth results, out headers) to dst. */
int scan_merge(struct scan *dst, const struct scan *src);

/* Reading results back (verdict, tools). */
struct scan_hit_info {
	const char *name;
	double score;
	const char *desc;
	bool provisional;   /* scan_hit_provisional()'s, not yet rescored */
	unsigned count;     /* matches counted (tflags multiple), else 1 */
};
size_t scan_hit_count(const struct scan *scan);
const struct scan_hit_info *scan_hit_at(const struct scan *scan, size_t i);
/* The sum of the hits' scores rounded to 3 decimals, as SpamAssassin
 * rounds its total before comparing it with a threshold (so that
 * 2.066 + 2.352 + 0.582, 4.999999999999999 as doubles, is 5). */
double scan_score(const struct scan *scan);
size_t scan_result_count(const struct scan *scan);
void scan_result_at(const struct scan *scan, size_t i, const char **key,
                    const char **value);
const char *scan_result_get(const struct scan *scan, const char *key);
size_t scan_out_header_count(const struct scan *scan);
void scan_out_header_at(const struct scan *scan, size_t i, const char **name,
                        const char **value);
size_t scan_auth_result_count(const struct scan *scan);
const char *scan_auth_result_at(const struct scan *scan, size_t i);

#endif
