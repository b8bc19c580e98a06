/* clienthop.c — see clienthop.h */
#include "clienthop.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "relays.h"
#include "scan.h"
#include "strbuf.h"

/* The same address, whatever its spelling (IPv6 zeros, case). */
static bool same_addr(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	return inet_pton(AF_INET6, a, x) == 1 &&
	       inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
}

/* Does one of the relays the trust check looks at have address ip: a
 * trusted one, or the newest untrusted one with a public address? */
static bool relays_record(const struct relays *r, const char *ip)
{
	const struct relays_relay *y;
	for (size_t i = 0; (y = relays_at(r, RELAYS_TRUSTED, i)) != NULL; i++)
		if (same_addr(y->ip, ip))
			return true;
	for (size_t i = 0; (y = relays_at(r, RELAYS_UNTRUSTED, i)) != NULL; i++) {
		if (y->originating)
			return false;
		if (!y->ip_private)
			return same_addr(y->ip, ip);
	}
	return false;
}

/* Whether the header section may name the IPv4 address ip: a relay's
 * address is text of that section, and an IPv4 address has one
 * spelling that inet_pton() reads (same_addr()), so without that text
 * no relay can be the client. Behind an MTA that is nearly every
 * message, and the parse below (about 7 % of a message's scan) is
 * spared. An IPv6 address has many spellings: always maybe. */
static bool may_name(const char *head, size_t len, const char *ip)
{
	unsigned char a[4];
	char text[INET_ADDRSTRLEN];
	if (inet_pton(AF_INET, ip, a) != 1 ||
	    inet_ntop(AF_INET, a, text, sizeof text) == NULL)
		return true;
	return memmem(head, len, text, strlen(text)) != NULL;
}

/* Whether the message's header section records the client already: 1,
 * 0, or -1 when memory ran out. Only the header section is parsed: the
 * pipeline parses the whole message once, after the hop is in. */
static int recorded(struct scan *scan, const struct trustpath *t,
                    const char *ip)
{
	size_t len, body_len;
	const char *raw = scan_raw(scan, &len);
	if (raw == NULL)
		return -1;
	scan_body(scan, &body_len);
	if (!may_name(raw, len - body_len, ip))
		return 0;
	struct msg *m = msg_parse(raw, len - body_len, NULL);
	struct relays *r = NULL;
	int rc = -1;
	if (m != NULL && relays_build_trust(m, t, &r) == 0)
		rc = relays_record(r, ip);
	relays_free(r);
	msg_free(m);
	return rc;
}

/* s, as one token of a Received line: what the SMTP client sent may hold
 * blanks, parentheses or control bytes, which would end the field in
 * the wrong place for a Received parser. */
static void put_token(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char o = c > ' ' && c < 0x7f && c != '(' && c != ')' &&
		         c != ';' ? (char)c : '_';
		strbuf_put(b, &o, 1);
	}
}

static void put(struct strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

/* The MTA's name for the client: "unknown" when it found none
 * (Postfix says "unknown", Sendmail gives "[address]"). */
static const char *client_name(const struct scan_env *env)
{
	const char *h = env->client_host;
	return h[0] == '\0' || h[0] == '[' || strcmp(h, "unknown") == 0
	       ? "unknown" : h;
}

/* RFC 5322 date, in UTC (a numeric zone, as Received dates have). */
static void put_date(struct strbuf *b, int64_t when)
{
	time_t t = (time_t)when;
	struct tm tm;
	char d[64];
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(d, sizeof d, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return;
	put(b, ";\r\n\t");
	put(b, d);
}

static void write_hop(struct strbuf *b, const struct scan_env *env)
{
	const char *name = client_name(env);
	put(b, " from ");
	put_token(b, env->helo[0] ? env->helo : name);
	put(b, " (");
	put_token(b, name);
	put(b, strchr(env->client_addr, ':') ? " [IPv6:" : " [");
	put_token(b, env->client_addr);
	put(b, "])\r\n\tby ");
	put_token(b, env->hostname[0] ? env->hostname : "localhost");
	put(b, " (vigil) with ");
	put(b, env->auth_authen[0] ? "ESMTPA" : "ESMTP");
	if (env->queue_id[0]) {
		put(b, " id ");
		put_token(b, env->queue_id);
	}
	if (env->received_at > 0)
		put_date(b, env->received_at);
}

int clienthop_model(struct scan *scan, const struct trustpath *t)
{
	const struct scan_env *env = scan_env(scan);
	if (env->client_addr[0] == '\0' || env->client_guessed)
		return 0;
	int rc = recorded(scan, t, env->client_addr);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct strbuf b = { 0 };
	write_hop(&b, env);
	rc = b.oom ? -1 : scan_set_client_hop(scan, b.p, b.len);
	strbuf_free(&b);
	return rc;
}
