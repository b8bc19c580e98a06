/*
 * proto.h — the milter wire protocol codec. Pure: bytes in, structures
 * out, and structures in, bytes out. No sockets, no allocation in the
 * decoder (results point into the caller's buffer), no global state.
 *
 * Packet format: 4-byte big-endian length N (counting the command byte),
 * the command byte, N-1 bytes of data. Wire constants come from
 * <libmilter/mfdef.h> and <libmilter/mfapi.h>, never re-typed.
 *
 * Both sides are here: the filter side (vigild: decode MTA commands,
 * encode replies) and the MTA side (vigil scan --milter: encode commands,
 * decode replies).
 */
#ifndef VIGIL_PROTO_H
#define VIGIL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

struct evbuffer;

#define PROTO_VERSION 6                        /* highest version we speak */
#define PROTO_MAX_PACKET_DEFAULT (64u << 20)   /* 64 MiB */
#define PROTO_BODY_CHUNK 65535                 /* MILTER_CHUNK_SIZE */

enum proto_status {
	PROTO_OK = 0,            /* one packet decoded */
	PROTO_NEED_MORE = 1,     /* incomplete packet: read more bytes */
	PROTO_TOO_BIG = -1,      /* length above the configured maximum */
	PROTO_MALFORMED = -2     /* bad length, missing NUL, bad field */
};

/* A string inside a packet: ptr is NUL-terminated within the packet. */
struct proto_str {
	const char *ptr;
	size_t len;
};

/* One decoded packet (either direction). Pointers point into the buffer
 * given to proto_decode() and stay valid as long as it does. */
struct proto_pkt {
	char cmd;                  /* SMFIC_* or SMFIR_* */
	const unsigned char *data; /* the packet's data after the command byte */
	size_t len;
};

/* Split one packet off buf[0..len). On PROTO_OK, *pkt is filled and *used
 * is the number of bytes the packet took (4 + N). max_packet bounds N;
 * N == 0 is PROTO_MALFORMED. Never reads beyond len. */
enum proto_status proto_split(const unsigned char *buf, size_t len,
                              size_t max_packet, struct proto_pkt *pkt,
                              size_t *used);

/* ---- Filter side: decoding MTA commands ---- */

struct proto_optneg {
	uint32_t version;
	uint32_t actions;  /* SMFIF_* */
	uint32_t protocol; /* SMFIP_* */
};

struct proto_connect {
	struct proto_str host;
	char family;       /* SMFIA_UNKNOWN, SMFIA_UNIX, SMFIA_INET, SMFIA_INET6 */
	uint16_t port;     /* host byte order; 0 for unix/unknown */
	struct proto_str addr; /* textual address or unix path; empty for 'U' */
};

/* Iterator over a sequence of NUL-terminated strings (MAIL/RCPT args,
 * MACRO name/value pairs). */
struct proto_strs {
	const unsigned char *data;
	size_t len;
	size_t pos;
};
/* Next string, or 0 at the end. Every string is NUL-terminated within
 * data (checked by the decode functions before an iterator is handed out). */
int proto_strs_next(struct proto_strs *it, struct proto_str *out);

/* Each decoder returns PROTO_OK or PROTO_MALFORMED; it checks the packet's
 * command byte too. */
enum proto_status proto_dec_optneg(const struct proto_pkt *pkt,
                                   struct proto_optneg *out);
/* MACRO: *stage is the command the macros belong to (SMFIC_CONNECT, ...);
 * *pairs iterates name, value, name, value... An odd count is malformed.
 * Names are returned as sent (with or without braces). */
enum proto_status proto_dec_macro(const struct proto_pkt *pkt, char *stage,
                                  struct proto_strs *pairs);
enum proto_status proto_dec_connect(const struct proto_pkt *pkt,
                                    struct proto_connect *out);
enum proto_status proto_dec_helo(const struct proto_pkt *pkt,
                                 struct proto_str *helo);
/* MAIL and RCPT: *args iterates the address (first, required) then ESMTP
 * args. */
enum proto_status proto_dec_envelope(const struct proto_pkt *pkt,
                                     struct proto_strs *args);
/* HEADER: name and value, both NUL-terminated; value may be empty. */
enum proto_status proto_dec_header(const struct proto_pkt *pkt,
                                   struct proto_str *name,
                                   struct proto_str *value);
/* UNKNOWN: the SMTP command line (NUL-terminated). */
enum proto_status proto_dec_unknown(const struct proto_pkt *pkt,
                                    struct proto_str *line);
/* BODY, EOB (the final chunk, may be empty): raw bytes, no NUL. */
/* (use pkt->data / pkt->len directly) */

/* Negotiation. Given the MTA's offer and what the filter would like,
 * compute the reply: version = min(offer, PROTO_VERSION) (2..6 accepted,
 * anything below 2 is an error: returns -1); actions = want_actions &
 * offer->actions; protocol = want_protocol & offer->protocol, and for a
 * version < 6 offer only the flags that version defines. */
int proto_negotiate(const struct proto_optneg *offer, uint32_t want_actions,
                    uint32_t want_protocol, struct proto_optneg *reply);

/* ---- Filter side: encoding replies (append one packet to out) ---- */
/* All return 0, or -1 on bad arguments/allocation failure (nothing is
 * appended then). */

/* vigil's own macro, sent at MAIL by `vigil scan --milter` to a filter
 * that asks for it (vigild does): "1" when the MAIL FROM is envguess.h's
 * guess from the message file, not a real envelope. vigild then treats
 * it as vigil scan does in process (the stages use it, the rules read
 * SpamAssassin's own guess), so both give the same verdict. */
#define PROTO_MACRO_ENVFROM_GUESSED "{vigil_envfrom_guessed}"
/* The same, sent with it, for the client address and HELO: "1" when
 * they are the guess from the message's own Received lines. vigild then
 * does not model the MTA's hop for that client (clienthop.h): the
 * message records it already. */
#define PROTO_MACRO_CLIENT_GUESSED "{vigil_client_guessed}"

/* macros[i] (i = SMFIM_CONNECT..SMFIM_EOH) is a space-separated macro list
 * to request for that stage, or NULL. Appended only when version >= 6. */
int proto_enc_optneg(struct evbuffer *out, const struct proto_optneg *reply,
                     const char *const macros[SMFIM_LAST + 1]);
/* A reply without data: SMFIR_CONTINUE, ACCEPT, REJECT, TEMPFAIL, DISCARD,
 * PROGRESS, SKIP, CONN_FAIL, SHUTDOWN. */
int proto_enc_simple(struct evbuffer *out, char reply);
/* SMFIR_REPLYCODE. code: 3 digits, class must be 4 (tempfail) or 5
 * (reject); xcode: "X.Y.Z" with the same class digit, or NULL; text may
 * contain '\n' to make a multi-line reply (each line gets "CODE-XCODE "
 * or "CODE XCODE " as in libmilter's smfi_setmlreply); CR and other
 * control characters are removed, '%' is doubled. Rejects (-1) a class
 * mismatch, bad digits, more than 32 lines, a line over 980 bytes. */
int proto_enc_replycode(struct evbuffer *out, const char *code,
                        const char *xcode, const char *text);
int proto_enc_addheader(struct evbuffer *out, const char *name,
                        const char *value);
/* SMFIR_INSHEADER at position index (0 = first). */
int proto_enc_insheader(struct evbuffer *out, uint32_t index,
                        const char *name, const char *value);
/* SMFIR_CHGHEADER: index is the 1-based occurrence of name; value NULL or
 * "" deletes the header. */
int proto_enc_chgheader(struct evbuffer *out, uint32_t index,
                        const char *name, const char *value);
int proto_enc_quarantine(struct evbuffer *out, const char *reason);
int proto_enc_delrcpt(struct evbuffer *out, const char *rcpt);
int proto_enc_addrcpt(struct evbuffer *out, const char *rcpt);
/* Header names must be printable ASCII without ':' or space; values must
 * not contain NUL; a value's CR/LF are allowed only as folding
 * ("\n" followed by SP or TAB) and are sent as "\n" + WSP. */

/* ---- MTA side: encoding commands, decoding replies ---- */
/* Like the reply encoders: 0, or -1 with nothing appended (NULL or empty
 * header/macro names, NULL strings, an oversized BODY chunk). */
int proto_enc_cmd_optneg(struct evbuffer *out, const struct proto_optneg *o);
/* MACRO for stage (SMFIC_*): names[i]/values[i], n pairs. */
int proto_enc_cmd_macro(struct evbuffer *out, char stage, size_t n,
                        const char *const *names, const char *const *values);
int proto_enc_cmd_connect(struct evbuffer *out, const char *host, char family,
                          uint16_t port, const char *addr);
int proto_enc_cmd_helo(struct evbuffer *out, const char *helo);
/* cmd is SMFIC_MAIL or SMFIC_RCPT; args[0] is the address (with <>). */
int proto_enc_cmd_envelope(struct evbuffer *out, char cmd, size_t n,
                           const char *const *args);
int proto_enc_cmd_header(struct evbuffer *out, const char *name,
                         const char *value);
/* SMFIC_BODY (len <= PROTO_BODY_CHUNK) or SMFIC_BODYEOB (len may be 0). */
int proto_enc_cmd_body(struct evbuffer *out, char cmd, const void *data,
                       size_t len);
/* Commands without data: SMFIC_DATA, EOH, ABORT, QUIT, QUIT_NC. */
int proto_enc_cmd_simple(struct evbuffer *out, char cmd);
int proto_enc_cmd_unknown(struct evbuffer *out, const char *line);

/* Decoded filter reply. */
struct proto_reply {
	char cmd;                 /* SMFIR_* */
	struct proto_optneg neg;  /* SMFIC_OPTNEG reply */
	struct proto_str text;    /* REPLYCODE text, QUARANTINE reason, the
	                             address of ADDRCPT, DELRCPT, ADDRCPT_PAR,
	                             CHGFROM */
	struct proto_str args;    /* ADDRCPT_PAR / CHGFROM ESMTP arguments
	                             (the optional second string); len 0 when
	                             none */
	struct proto_str name;    /* header name (ADDHEADER/INSHEADER/CHGHEADER) */
	struct proto_str value;   /* header value */
	uint32_t index;           /* INSHEADER/CHGHEADER index */
	const unsigned char *body;/* REPLBODY chunk */
	size_t body_len;
	struct proto_strs macros; /* OPTNEG reply: (uint32 stage, list) pairs
	                             follow; use proto_optneg_macros_next() */
};
/* An envelope change (ADDRCPT, DELRCPT: one string; ADDRCPT_PAR, CHGFROM:
 * the address, optionally the arguments) must be exactly its
 * NUL-terminated strings, and a reply without data (CONTINUE, ACCEPT,
 * PROGRESS, ...) have none: bytes after them (Postfix: "reply was
 * followed by data bytes") are PROTO_MALFORMED. */
enum proto_status proto_dec_reply(const struct proto_pkt *pkt,
                                  struct proto_reply *out);
/* Iterate the macro requests of an OPTNEG reply: *stage = SMFIM_*. */
int proto_optneg_macros_next(struct proto_reply *r, uint32_t *stage,
                             struct proto_str *list);

/* Name of an MTA command byte for logs ("OPTNEG", "BODY", ...; "?" when
 * unknown). */
const char *proto_cmd_name(char cmd);
/* Name of a filter reply byte ("ADDHEADER", "SKIP", ...; "OPTNEG" for the
 * negotiation reply; "an unknown reply" otherwise). */
const char *proto_reply_name(char reply);

#endif
