/* envguess.c — see envguess.h */
#include "envguess.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "msg.h"
#include "relays.h"
#include "scan.h"

/* Loopback, private, link-local and unique-local addresses are relays
 * inside the receiving site, not the client the message came from. */
static bool is_public(const char *ip)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, ip, a) == 1)
		return !(a[0] == 127 || a[0] == 10 || a[0] == 0 ||
		         (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		         (a[0] == 192 && a[1] == 168) ||
		         (a[0] == 169 && a[1] == 254));
	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char loop[16] = { [15] = 1 };
		return memcmp(a, loop, 16) != 0 && (a[0] & 0xfe) != 0xfc &&
		       !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
	}
	return false;
}

/* The HELO of relay field h as the client sent it: SpamAssassin's relay
 * fields cannot hold brackets, so an address-literal HELO
 * ("[192.0.2.1]", RFC 5321 4.1.3), common from spam clients, is kept as
 * "!192.0.2.1!"; SPF's HELO check and a --milter peer want the literal. */
static void helo_as_sent(const char *h, char *out, size_t outlen)
{
	size_t n = strlen(h);   /* relays' fields are NUL-terminated */
	char lit[64];
	if (n >= 3 && n - 2 < sizeof lit && h[0] == '!' && h[n - 1] == '!') {
		memcpy(lit, h + 1, n - 2);
		lit[n - 2] = '\0';
		const char *a = strncasecmp(lit, "IPv6:", 5) == 0 ? lit + 5 : lit;
		unsigned char bin[16];
		if (inet_pton(AF_INET, a, bin) == 1 ||
		    inet_pton(AF_INET6, a, bin) == 1) {
			snprintf(out, outlen, "[%s]", lit);
			return;
		}
	}
	snprintf(out, outlen, "%s", h);
}

/* What the client's hop records: its address, HELO and reverse-DNS
 * name, and the envelope sender (Exim's "(envelope-from <a@b>)"); ""
 * each when absent. */
struct hop {
	char ip[64], helo[512], rdns[256], envfrom[512];
};

static bool is_host_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._");
	return s[n] == '\0' && n <= 253;
}

/* The relay's rDNS name as an MTA would pass it to a milter, or "": the
 * parser has already emptied SpamAssassin's "no name" forms ("unknown",
 * "[...]"); what is left must be a host name (the parser marks bytes a
 * name cannot hold with '!') and not an address (no MTA passes one as
 * the name it found). */
static void hop_rdns(const char *rdns, char *out, size_t outlen)
{
	unsigned char bin[16];
	out[0] = '\0';
	if (rdns[0] == '\0' || !is_host_name(rdns) ||
	    inet_pton(AF_INET, rdns, bin) == 1 ||
	    inet_pton(AF_INET6, rdns, bin) == 1)
		return;
	snprintf(out, outlen, "%s", rdns);
}

/* The client and HELO of the newest hop from outside the receiving
 * site, read from the relays of the one Received: parser the rules use
 * (relays.h): the first relay SpamAssassin's trust leaves untrusted
 * (with trusted_networks / internal_networks as the rules read them,
 * else inferred: neither private nor authenticated), which is the first
 * of the rules' X-Spam-Relays-Untrusted and the hop SpamAssassin's SPF
 * checks. Its format table knows Postfix, Sendmail, Exim (helo= apart
 * from the rDNS name), qmail, Exchange and the rest. Unique-local and
 * 0/8 addresses, public to SpamAssassin, are skipped as internal here; a
 * relay from X-Originating-IP is a web client, not an SMTP one, and
 * ends the search. h is left as it was ("" each) when no hop qualifies;
 * its rDNS name is the one SpamAssassin reads from that line (rdns= of
 * X-Spam-Relays-Untrusted), so a --milter peer is told what the MTA that
 * wrote the line found. */
static void received_client(const struct relays *r, struct hop *h)
{
	for (size_t i = 0;; i++) {
		const struct relays_relay *y = relays_at(r, RELAYS_UNTRUSTED, i);
		if (y == NULL || y->originating)
			break;
		if (is_public(y->ip)) {
			snprintf(h->ip, sizeof h->ip, "%s", y->ip);
			helo_as_sent(y->helo, h->helo, sizeof h->helo);
			hop_rdns(y->rdns, h->rdns, sizeof h->rdns);
			snprintf(h->envfrom, sizeof h->envfrom, "%s", y->envfrom);
			break;
		}
	}
}

static void first_addr(const struct msg *m, const char *name, char *out,
                       size_t outlen)
{
	const struct msg_header *h = msg_header_get(m, name, 0);
	size_t n = 0;
	const struct msg_addr *a = h ? msg_header_addrs(m, h, &n) : NULL;
	for (size_t i = 0; i < n; i++) {
		if (a[i].local.len == 0)
			continue;
		snprintf(out, outlen, "%.*s%s%.*s", (int)a[i].local.len,
		         a[i].local.ptr, a[i].domain.len ? "@" : "",
		         (int)a[i].domain.len, a[i].domain.ptr);
		return;
	}
}

/* A header that holds one address, <a@b> or bare, such as
 * X-Envelope-From (no address header to the parser): the address, if it
 * has an '@' and no Received: line is above the header (below one, the
 * sender wrote it: SpamAssassin's get_envelope_from does not trust it
 * either). */
static void sender_field(const struct msg *m, const char *name, char *out,
                         size_t outlen)
{
	const struct msg_header *h = msg_header_get(m, name, 0);
	if (h == NULL || msg_header_below_received(m, name))
		return;
	const char *p = h->value.ptr, *end = p + h->value.len;
	while (p < end && (isspace((unsigned char)*p) || *p == '<'))
		p++;
	size_t n = 0;
	while (p + n < end && p[n] != '>' && !isspace((unsigned char)p[n]))
		n++;
	if (memchr(p, '@', n) != NULL && n < outlen)
		snprintf(out, outlen, "%.*s", (int)n, p);
}

/* "Return-Path: <>": a bounce, sent with the null sender. */
static bool null_return_path(const struct msg *m)
{
	const struct msg_header *h = msg_header_get(m, "Return-Path", 0);
	if (h == NULL)
		return false;
	char v[8];
	size_t n = 0;
	for (size_t i = 0; i < h->value.len; i++) {
		if (isspace((unsigned char)h->value.ptr[i]))
			continue;
		if (n == sizeof v - 1)
			return false;
		v[n++] = h->value.ptr[i];
	}
	v[n] = '\0';
	return strcmp(v, "<>") == 0;
}

static int add_rcpts(struct scan *scan, const struct msg *m, const char *name)
{
	for (size_t k = 0;; k++) {
		const struct msg_header *h = msg_header_get(m, name, k);
		if (h == NULL)
			return 0;
		size_t n = 0;
		const struct msg_addr *a = msg_header_addrs(m, h, &n);
		for (size_t i = 0; i < n; i++) {
			char buf[512];
			if (a[i].local.len == 0)
				continue;
			snprintf(buf, sizeof buf, "%.*s%s%.*s", (int)a[i].local.len,
			         a[i].local.ptr, a[i].domain.len ? "@" : "",
			         (int)a[i].domain.len, a[i].domain.ptr);
			if (scan_add_rcpt(scan, buf) != 0)
				return -1;
		}
	}
}

/* An address as MAIL FROM / RCPT TO write it ("<a@b>") or bare ("a@b"):
 * the address, in a's store when the brackets are removed. NULL when
 * the value is malformed or too long (reported). */
static const char *smtp_address(struct envguess_args *a, const char *prog,
                                const char *name, const char *val)
{
	size_t len = strlen(val);
	if (len == 0 || val[0] != '<') {
		if (len > 0 && val[len - 1] == '>') {
			fprintf(stderr, "%s: %s %s: a '>' without '<'\n", prog, name,
			        val);
			return NULL;
		}
		return val;
	}
	if (len < 2 || val[len - 1] != '>') {
		fprintf(stderr, "%s: %s %s: a '<' without '>'\n", prog, name, val);
		return NULL;
	}
	if (len - 1 > sizeof a->store - a->stored) {
		fprintf(stderr, "%s: %s: the addresses given are too long\n", prog,
		        name);
		return NULL;
	}
	char *out = a->store + a->stored;
	memcpy(out, val + 1, len - 2);
	out[len - 2] = '\0';
	a->stored += len - 1;
	return out;
}

static int client_ip(struct envguess_flags *f, const char *prog,
                     const char *val)
{
	unsigned char bin[16];
	if (inet_pton(AF_INET, val, bin) != 1 &&
	    inet_pton(AF_INET6, val, bin) != 1) {
		fprintf(stderr, "%s: --client-ip %s: not an IPv4 or IPv6 address\n",
		        prog, val);
		return -1;
	}
	f->client_ip = val;
	f->client_at = (int64_t)time(NULL);
	return 1;
}

/* A host name as DNS gives it, or "" (none found). */
static int client_name(struct envguess_flags *f, const char *prog,
                       const char *val)
{
	if (!is_host_name(val)) {
		fprintf(stderr, "%s: --client-name %s: not a host name\n", prog,
		        val);
		return -1;
	}
	f->client_name = val;
	return 1;
}

/* An SMTP AUTH user name as an MTA passes it in {auth_authen}. */
static int client_auth(struct envguess_flags *f, const char *prog,
                       const char *val)
{
	size_t n = 0;
	while (val[n] > ' ' && val[n] < 0x7f)
		n++;
	if (val[n] != '\0' || n == 0 || n > 255) {
		fprintf(stderr, "%s: --client-auth '%s': not a user name "
		        "(printable, no blanks)\n", prog, val);
		return -1;
	}
	f->client_auth = val;
	return 1;
}

static int rcpt(struct envguess_args *a, const char *prog, const char *val)
{
	struct envguess_flags *f = &a->flags;
	if (f->rcpt_count == ENVGUESS_MAX_RCPTS) {
		fprintf(stderr, "%s: at most %d --rcpt\n", prog, ENVGUESS_MAX_RCPTS);
		return -1;
	}
	const char *addr = smtp_address(a, prog, "--rcpt", val);
	if (addr == NULL)
		return -1;
	if (addr[0] == '\0') {
		fprintf(stderr, "%s: --rcpt '%s': an empty address\n", prog, val);
		return -1;
	}
	a->rcpts[f->rcpt_count++] = addr;
	f->rcpts = a->rcpts;
	return 1;
}

int envguess_arg(struct envguess_args *a, const char *prog,
                 const char *name, const char *val)
{
	struct envguess_flags *f = &a->flags;
	if (strcmp(name, "--client-ip") == 0)
		return client_ip(f, prog, val);
	if (strcmp(name, "--client-name") == 0)
		return client_name(f, prog, val);
	if (strcmp(name, "--client-auth") == 0)
		return client_auth(f, prog, val);
	if (strcmp(name, "--helo") == 0) {
		f->helo = val;
		return 1;
	}
	if (strcmp(name, "--rcpt") == 0)
		return rcpt(a, prog, val);
	if (strcmp(name, "--mail-from") != 0)
		return 0;
	f->mail_from = smtp_address(a, prog, name, val);
	return f->mail_from ? 1 : -1;
}

/* The envelope from m, client and HELO from r (NULL when the flags
 * give both). */
static int fill(struct scan *scan, const struct msg *m,
                const struct relays *r, const struct envguess_flags *f)
{
	char from[512] = "";
	struct hop hop = { "", "", "", "" };
	if (r != NULL)
		received_client(r, &hop);
	/* the envelope sender as delivery recorded it, then as the
	 * client's hop, X-Envelope-From or Envelope-Sender did (which
	 * SpamAssassin's get_envelope_from() reads too), then From; a
	 * Return-Path below a Received: line came from the sender (and
	 * SpamAssassin does not trust it either) */
	bool rp = !msg_header_below_received(m, "Return-Path");
	if (f->mail_from == NULL && !(rp && null_return_path(m))) {
		if (rp)
			first_addr(m, "Return-Path", from, sizeof from);
		if (from[0] == '\0' && strchr(hop.envfrom, '@') != NULL)
			snprintf(from, sizeof from, "%s", hop.envfrom);
		if (from[0] == '\0')
			sender_field(m, "X-Envelope-From", from, sizeof from);
		if (from[0] == '\0')
			sender_field(m, "Envelope-Sender", from, sizeof from);
		if (from[0] == '\0')
			first_addr(m, "From", from, sizeof from);
	}
	const struct scan_env *env = scan_env(scan);
	/* the name belongs to the address: taken with the address from
	 * the same Received line, never paired with a --client-ip */
	const char *name = f->client_name ? f->client_name
	                 : f->client_ip ? "" : hop.rdns;
	int rc = scan_set_env(scan, env->queue_id,
	                      f->client_ip ? f->client_ip : hop.ip, name, 0,
	                      f->helo ? f->helo : hop.helo,
	                      f->mail_from ? f->mail_from : from);
	if (rc == 0 && f->client_auth != NULL)
		rc = scan_set_macro_env(scan, f->client_auth,
		                        scan_env(scan)->hostname);
	scan_set_mail_from_guessed(scan, f->mail_from == NULL);
	scan_set_client_guessed(scan, f->client_ip == NULL);
	scan_set_received_at(scan, f->client_ip ? f->client_at : 0);
	if (f->rcpt_count > 0) {
		for (size_t i = 0; i < f->rcpt_count && rc == 0; i++)
			rc = scan_add_rcpt(scan, f->rcpts[i]);
	} else if (rc == 0) {
		rc = add_rcpts(scan, m, "To");
		if (rc == 0)
			rc = add_rcpts(scan, m, "Cc");
	}
	return rc;
}

/* Whether the flags leave the client or the HELO to the message. */
static bool wants_relays(const struct envguess_flags *f)
{
	return f->client_ip == NULL || f->helo == NULL;
}

int envguess_fill(struct scan *scan, const struct envguess_flags *f,
                  const struct trustpath *trust)
{
	const struct msg *m = scan_msg(scan);
	const struct relays *r = NULL;
	if (m == NULL ||
	    (wants_relays(f) && (r = scan_relays(scan, trust)) == NULL))
		return -1;
	return fill(scan, m, r, f);
}

int envguess_fill_from(struct scan *scan, const struct msg *m,
                       const struct envguess_flags *f)
{
	struct relays *own = NULL;
	if (m == NULL || (wants_relays(f) && relays_build(m, &own) != 0))
		return -1;
	int rc = fill(scan, m, own, f);
	relays_free(own);
	return rc;
}
