/*
 * mclient.h — the MTA side of the milter protocol (vigil scan --milter):
 * play messages to any milter as Postfix or Sendmail would, and collect
 * what it decided.
 *
 * Negotiation offers version 6, every action (0x1ff) and every protocol
 * step (0x1fffff), then honours the filter's choice: steps it skips
 * (SMFIP_NO*) are not sent, replies it will not send (SMFIP_NR_*) are
 * not awaited, header values keep their leading space only with
 * SMFIP_HDR_LEADSPC, the macros it asks for per stage are the ones sent.
 * The body goes in chunks of at most 65535 bytes (CRLF line ends) until
 * the filter answers SKIP.
 *
 * Connections: one is kept open from message to message while the
 * connection-level data (client address, HELO) stays the same; each new
 * transaction on it is preceded by ABORT, as Postfix does. After an
 * error, a connection-level verdict, or a message from another client,
 * the connection is closed (QUIT) and a new one opened. A message that
 * fails on a reused connection is played once more on a new one (the
 * filter may have closed it while idle), unless it timed out (the filter
 * would see it twice). A new connection refused during a run (the
 * filter restarting) is tried again, with growing pauses, within the
 * timeout; at mclient_open() it is an error at once. After a whole
 * timeout of refusals (the filter died), later refused connects fail at
 * once until one succeeds (mclient_opts' gone). Every wait is
 * bounded by the timeout (poll()), counted from when the wait began: a
 * reply packet must come whole within it however it is cut. PROGRESS
 * starts a new wait (libmilter: "causing the MTA to re-start its
 * timeouts"), and a message as a whole is bounded by the message
 * timeout (as Sendmail bounds the wait after end of message with its
 * overall E timeout), so neither PROGRESS nor a trickling filter holds
 * a run; nor, once stopped (mclient_stop_when()), a filter that keeps
 * saying PROGRESS. One mclient per thread.
 */
#ifndef VIGIL_MCLIENT_H
#define VIGIL_MCLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scan;

enum mclient_action {
	MCLIENT_ACCEPT,      /* SMFIR_ACCEPT: delivered, filter done with it */
	MCLIENT_CONTINUE,    /* CONTINUE at end of message: delivered */
	MCLIENT_REJECT,      /* REJECT, or a 5xx reply code */
	MCLIENT_TEMPFAIL,    /* TEMPFAIL, a 4xx reply code, CONN_FAIL, SHUTDOWN */
	MCLIENT_DISCARD,
	MCLIENT_QUARANTINE   /* delivered to quarantine (hold queue) */
};

/* "accept", "continue", ... */
const char *mclient_action_name(enum mclient_action a);

struct mclient_hdr {
	char *name;
	char *value;         /* "" for a deleted header (CHGHEADER) */
	uint32_t index;      /* INSHEADER position, CHGHEADER occurrence
	                        (1-based); UINT32_MAX for ADDHEADER */
};

/* What the filter decided for one message. Strings are malloc'ed and
 * owned by the result: mclient_result_clear() frees them. */
struct mclient_result {
	enum mclient_action action;
	char stage;          /* SMFIC_* command the decision answered */
	char code[4];        /* SMTP code of a REPLYCODE, "" if none */
	char *text;          /* its text after the code (lines joined by
	                        '\n', each without its code), or NULL */
	struct mclient_hdr *added;     /* ADDHEADER and INSHEADER, in order */
	size_t added_n;
	struct mclient_hdr *changed;   /* CHGHEADER, in order */
	size_t changed_n;
	char *quarantine;    /* reason, or NULL */
	char **rcpt_removed;
	size_t rcpt_removed_n;
	char **rcpt_added;   /* ADDRCPT and ADDRCPT_PAR, in order */
	char **rcpt_added_args; /* for each of rcpt_added its ESMTP
	                           arguments (ADDRCPT_PAR), or NULL */
	size_t rcpt_added_n;
	char *new_from;      /* CHGFROM, or NULL */
	char *new_from_args; /* its ESMTP arguments, or NULL */
	bool body_replaced;  /* REPLBODY was sent */
	size_t rcpt_rejected;/* recipients refused at RCPT */
	bool rcpts_all_removed; /* DELRCPT named every recipient accepted at
	                           RCPT (addresses compared without <> and
	                           case): the message reaches none of them */
};

void mclient_result_clear(struct mclient_result *r);

struct mclient_opts {
	const char *socket;      /* unix:/path, inet:PORT@HOST, inet:HOST:PORT,
	                            inet6:PORT@HOST, ... (listen.h); also
	                            unix:PATH and local:PATH relative to the
	                            current directory */
	unsigned timeout_ms;     /* each wait for the filter (a reply packet
	                            whole, a write, a connect); 0: 30 s */
	unsigned message_timeout_ms; /* a whole message, however many
	                            PROGRESS replies; 0: 10 x timeout_ms */
	const char *hostname;    /* macro j; NULL: gethostname() */
	const char *daemon_name; /* macro {daemon_name}; NULL: "vigil-scan" */
	atomic_bool *gone;       /* shared by the clients of a run, or NULL
	                            (each its own): set when nobody was there
	                            (refused, no unix socket) for a whole
	                            timeout of retries, cleared by a connect
	                            that succeeds; while set a refused
	                            connect is not retried */
};

struct mclient;

/* No connection is made yet. NULL on a bad socket specification (err
 * says why) or allocation failure. The strings of o are copied. */
struct mclient *mclient_new(const struct mclient_opts *o, char *err,
                            size_t errlen);
/* Open the connection now (and negotiate) to learn early whether the
 * filter answers. 0, or -1 with err. */
int mclient_open(struct mclient *mc, char *err, size_t errlen);
/* From now on, a stop() that says non-zero ends at once a wait for a
 * reply in which the filter has said PROGRESS (it is busy: a backend
 * hung, or a long scan), and at its next PROGRESS one in which it has
 * not yet; a filter that just answers is waited for as always (each
 * wait bounded by the timeout), so the messages in flight finish. It
 * ends a pause between connection attempts too. fd (or -1) turns
 * readable when stop() would say so (interrupt_wake_fd()), so a wait in
 * poll() ends then. Neither is owned. */
void mclient_stop_when(struct mclient *mc, int (*stop)(void), int fd);

#define MCLIENT_STOPPED (-2)
/* Play scan's envelope, headers and body (scan.h; queue id generated)
 * to the filter and fill *r. 0, or -1 on an I/O or protocol error or a
 * timeout (err says which; the connection is dropped, the next message
 * opens a new one), or MCLIENT_STOPPED when stop() ended a wait (err
 * "stopped waiting for the filter", or "... connecting"; the
 * message is not done: ABORT and QUIT are sent as far as the socket
 * takes them without waiting, the connection is closed). Modifications
 * at end of message are checked as an MTA would take them: an ADDRCPT,
 * DELRCPT, ADDRCPT_PAR or CHGFROM with an empty address, or an address
 * or arguments over MCLIENT_ENVELOPE_MAX bytes, is a protocol error. */
int mclient_scan(struct mclient *mc, struct scan *scan,
                 struct mclient_result *r, char *err, size_t errlen);
/* Longest address or ESMTP arguments taken from a filter: Postfix's
 * smtpd takes SMTP command lines of up to 2048 bytes (line_length_limit),
 * so a longer one could not have been given by any client either. */
#define MCLIENT_ENVELOPE_MAX 2048
/* What was negotiated on the open connection (0s when none). */
void mclient_negotiated(const struct mclient *mc, uint32_t *version,
                        uint32_t *actions, uint32_t *protocol);
/* QUIT, close, free. */
void mclient_free(struct mclient *mc);

#endif
