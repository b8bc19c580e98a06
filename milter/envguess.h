/*
 * envguess.h — an SMTP envelope for a message read from a file (replay,
 * explain): what the flags give wins; the rest is taken from the message
 * as SpamAssassin would: MAIL FROM from Return-Path (else the first From
 * address; "Return-Path: <>" is the null sender of a bounce), recipients
 * from To and Cc, client address, HELO and reverse-DNS name from the
 * newest untrusted relay naming a public address (the last external
 * relay; trust as the rules decide it; the name as SpamAssassin reads it
 * from that line, rdns= of X-Spam-Relays-Untrusted: "from HELO (RDNS
 * [IP])", none for "unknown" or a line without one). A guessed client is
 * marked so (scan_env's client_guessed). A guessed MAIL FROM is marked so (scan_env's
 * mail_from_guessed): the rules then read SpamAssassin's own guess for
 * EnvelopeFrom, as SpamAssassin does with a file.
 */
#ifndef VIGIL_ENVGUESS_H
#define VIGIL_ENVGUESS_H

#include <stddef.h>
#include <stdint.h>

struct scan;

struct envguess_flags {
	const char *client_ip;   /* NULL: from Received */
	int64_t client_at;       /* with client_ip: when it handed the
	                            messages over (the run's start, set
	                            with it), scan_env's received_at */
	const char *client_name; /* the client's rDNS name as the MTA found
	                            it; NULL: none with client_ip, else as
	                            the client's Received line says */
	const char *client_auth; /* the SMTP AUTH user the client logged
	                            in as ({auth_authen}); NULL: none */
	const char *helo;        /* NULL: from Received */
	const char *mail_from;   /* NULL: Return-Path / From */
	const char *const *rcpts;/* rcpt_count of them; 0: To / Cc */
	size_t rcpt_count;
};

/* The flags of vigil scan and explain that set the envelope, with room
 * for their --rcpt values and the addresses taken out of <...>. */
#define ENVGUESS_MAX_RCPTS 100
struct envguess_args {
	struct envguess_flags flags;
	const char *rcpts[ENVGUESS_MAX_RCPTS];
	char store[16384];
	size_t stored;
};

/* name is --client-ip, --client-name, --client-auth, --helo,
 * --mail-from or --rcpt
 * with its value: 1
 * taken, 0 not one of these, -1 a bad value (reported on stderr after
 * "prog: ", naming the option). --client-ip must be an IPv4 or IPv6
 * address. --mail-from and --rcpt take an address as written in SMTP
 * or bare: one pair of angle brackets around it is removed; "<>" and ""
 * are the null sender, and no recipient. --client-name is a host name
 * (letters, digits, '-', '.'; "" for none). --client-auth is an SMTP
 * AUTH user name (printable, no blanks, at most 255 bytes). val is borrowed (a copy is kept
 * in a when brackets are removed). */
int envguess_arg(struct envguess_args *a, const char *prog,
                 const char *name, const char *val);

struct msg;
struct trustpath;

/* Set scan's envelope (its headers must already be set) from scan's
 * parsed message (scan_msg(): parsed now if not yet), client and HELO
 * from its relays with trust path trust (scan_relays(): the rules
 * stage's, rules_stage_trustpath(), so that the guess takes the hop the rules
 * call the first untrusted one and both read one parse; NULL:
 * SpamAssassin's inference). 0 or -1. */
int envguess_fill(struct scan *scan, const struct envguess_flags *f,
                  const struct trustpath *trust);
/* The same from m with inferred trust, e.g. only the message's header
 * section parsed when nothing else needs the body (vigil scan --milter:
 * the rules are the milter's). */
int envguess_fill_from(struct scan *scan, const struct msg *m,
                       const struct envguess_flags *f);

#endif
