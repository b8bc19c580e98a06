/*
 * clienthop.h — the receiving MTA's Received line for the SMTP client,
 * modelled for the rules.
 *
 * Postfix passes a milter no Received line of its own for the client
 * (it adds it after the milters ran), so vigild's rules would never see
 * the hop every stored copy of the message starts with, and that
 * SpamAssassin behind a milter sees (spamass-milter writes one for it):
 * the client's address, reverse DNS name and HELO that RDNS_NONE, the
 * HELO rules and trust (ALL_TRUSTED) read. clienthop_model() writes that
 * line from the envelope, in Postfix's form:
 *
 *   from HELO (RDNS [IP]) by HOST (vigil) with ESMTP[A] id QID; DATE
 *
 * (RDNS "unknown" when the MTA found none; ESMTPA when the client
 * authenticated; no id without a queue id; the date scan_env's
 * received_at, none when 0) and gives
 * it to the scan (scan_set_client_hop: the parsed message has it, the
 * headers as received do not).
 *
 * Not modelled, and the message left as it is: when the client is not
 * known (no address: a unix socket, a file without --client-ip), was
 * guessed from the message's own Received lines (vigil scan without
 * --client-ip: the hop is already there), or the message already
 * records it: a trusted relay, or the newest untrusted relay with a
 * public address, has the client's address. That is the MTA's own line
 * when the MTA passes it (Sendmail does), and the copy a Postfix stored
 * after vigild, replayed with its client given: the hop counts once.
 * Trust for that check is the rules' (t: trusted_networks and
 * internal_networks, NULL: SpamAssassin's inference).
 */
#ifndef VIGIL_CLIENTHOP_H
#define VIGIL_CLIENTHOP_H

struct scan;
struct trustpath;

/* Model the client's hop in scan as above; scan_client_hop() then says
 * whether it did. 0, or -1 when memory ran out (the scan is unchanged). */
int clienthop_model(struct scan *scan, const struct trustpath *t);

#endif
