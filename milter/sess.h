/*
 * sess.h — one milter connection's state machine. Pure: it consumes
 * decoded packets and appends replies to an output buffer; it never
 * touches sockets, threads or timers.
 *
 * Flow: sess_input() per packet. At end of message it returns SESS_EOM:
 * the caller takes the scan (sess_take_scan), has it scanned, and later
 * calls sess_eom_reply() with the verdict (which the session turns into
 * header edits and the final reply). While a scan is out the session
 * accepts ABORT/QUIT/QUIT_NC/MACRO; sess_msg_id() tells the caller whether
 * a late verdict still belongs to the current message.
 *
 * The session takes a reference to the configuration current at MAIL and
 * keeps it for that message (reloads do not change a message in flight).
 */
#ifndef VIGIL_SESS_H
#define VIGIL_SESS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "proto.h"

struct evbuffer;
struct scan;
struct verdict;

enum sess_status {
	SESS_OK = 0,    /* replies, if any, are in out */
	SESS_ENVELOPE,  /* MAIL FROM known: stages may start early work
	                   (sess_envelope_scan); nothing to reply */
	SESS_ENVELOPE_WAIT, /* the same, and the MAIL reply waits for that
	                   work: call sess_mail_reply() when it is done */
	SESS_EOM,       /* end of message: take the scan, reply later */
	SESS_CLOSE      /* QUIT, or an error already logged: close */
};

struct sess;

/* peer: description for logs, e.g. "127.0.0.1:40312" or "unix". */
struct sess *sess_new(const char *peer);
void sess_free(struct sess *s);

/* Handle one packet. current: the configuration now in force (the
 * session takes its own reference when it needs one). */
enum sess_status sess_input(struct sess *s, struct conf *current,
                            const struct proto_pkt *pkt,
                            struct evbuffer *out);

/* After SESS_ENVELOPE: a new scan holding only the envelope, for the
 * stages' envelope() hooks (owned by the caller). */
struct scan *sess_envelope_scan(struct sess *s);

/* Answer a MAIL that returned SESS_ENVELOPE_WAIT: reject ("550 5.7.23
 * text", from the early scan's "reject" result) ends the message;
 * NULL continues. Nothing is sent when the message was aborted since. */
void sess_mail_reply(struct sess *s, const char *reject,
                     struct evbuffer *out);

/* After SESS_EOM: the scan (owned by the caller from now on) and the
 * configuration it runs under (a reference, released by the caller). */
struct scan *sess_take_scan(struct sess *s, struct conf **conf);

/* Verdict for the message msg_id. Appends header edits, recipient
 * removals and the final reply to out. scan is the one taken (the
 * session only reads it; the caller frees it; NULL when the scan is
 * still out, e.g. past its deadline). Returns false when
 * msg_id is stale (aborted meanwhile): nothing is sent. */
bool sess_eom_reply(struct sess *s, uint64_t msg_id, const struct scan *scan,
                    const struct verdict *v, const char *authserv_id,
                    struct evbuffer *out);

uint64_t sess_msg_id(const struct sess *s);
/* Between MAIL and the end of the message's reply. */
bool sess_in_message(const struct sess *s);
/* Waiting for a verdict. */
bool sess_waiting(const struct sess *s);
/* The MTA allows SMFIR_DELRCPT / SMFIR_QUARANTINE / SMFIR_PROGRESS. */
bool sess_can_delrcpt(const struct sess *s);
bool sess_can_quarantine(const struct sess *s);
bool sess_can_progress(const struct sess *s);
const char *sess_peer(const struct sess *s);
/* Queue id of the current message (macro i), "" if unknown. */
const char *sess_queue_id(const struct sess *s);

#endif
