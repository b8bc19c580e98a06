/*
 * dns.h — the one DNS resolver of vigil (libunbound): caching, forwarders
 * with ports or /etc/resolv.conf, a timeout per query and a time budget per
 * message, optional DNSSEC validation. No other module does DNS.
 *
 * One resolver exists per loaded configuration: dns_get(root) returns a
 * reference to it (created on first use from root's `dns` section) and
 * every stage of that configuration shares it; dns_put() drops the
 * reference, the last one frees it. A resolver is thread-safe: worker
 * threads call dns_query() concurrently (it blocks at most until the
 * query's deadline and cancels the query then).
 *
 * Results distinguish what the RFCs need: an answer, NXDOMAIN, NODATA
 * (permanent), and TEMPFAIL (timeout, SERVFAIL, other rcodes, budget
 * exhausted). A dns_answer is owned by the caller (dns_answer_free).
 */
#ifndef VIGIL_DNS_H
#define VIGIL_DNS_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scan;
struct dns;
struct dns_answer;

/* Options of the root section `dns` (CFG_SEC("dns", dns_conf_opts, ...)):
 * servers (list, "IP" or "IP@PORT"; empty: /etc/resolv.conf), timeout (ms
 * per query), budget (ms of DNS waiting per message), trust_anchor (file;
 * empty: no DNSSEC validation). */
extern cfg_opt_t dns_conf_opts[];

enum dns_status {
	DNS_ANSWER = 0,  /* at least one record of the asked type */
	DNS_NXDOMAIN,    /* the name does not exist */
	DNS_NODATA,      /* the name exists, no record of that type */
	DNS_TEMPFAIL     /* timeout, SERVFAIL, REFUSED..., budget used up */
};

/* Deadline of one message's DNS work: min(budget, scan deadline). Stages
 * of one message share the budget through the scan (dns_budget_begin /
 * dns_budget_end record the time used). */
struct dns_budget {
	uint64_t start_ms;     /* monotonic */
	uint64_t deadline_ms;  /* monotonic; queries stop here */
	unsigned queries;
	unsigned tempfails;
};

/* The resolver of this configuration (root: whole config, or a config
 * whose `dns` section is absent: defaults). NULL with err on failure. */
struct dns *dns_get(cfg_t *root, char *err, size_t errlen);
/* A resolver from a `dns` section alone (sec may be NULL: defaults). */
struct dns *dns_new(cfg_t *sec, char *err, size_t errlen);
void dns_put(struct dns *d);
/* For the vigil tools: a new resolver from root's `dns` section (root may
 * be NULL: defaults) whose servers are replaced by server ("IP[@PORT]")
 * when server is not NULL. */
struct dns *dns_new_override(cfg_t *root, const char *server, char *err,
                             size_t errlen);
/* The same for a tool's options: loads conf_path (NULL: no file, built-in
 * defaults) into *confp (NULL when no file; the caller conf_unref()s it)
 * and returns the resolver. */
struct conf;
struct dns *dns_for_tool(const char *conf_path, const char *server,
                         struct conf **confp, char *err, size_t errlen);

/* Start a budget of at most max_ms (0: the configured per-message budget)
 * for one piece of work. With a scan, what earlier stages of the message
 * used is subtracted and the scan deadline caps it. */
void dns_budget_begin(const struct dns *d, struct dns_budget *b,
                      struct scan *scan, uint64_t max_ms);
/* Add the time since dns_budget_begin to the scan's running total. */
void dns_budget_end(const struct dns_budget *b, struct scan *scan);
uint64_t dns_budget_left_ms(const struct dns_budget *b);

/* Resolve name/rrtype (class IN). Always sets *out (never NULL unless
 * out of memory, which returns DNS_TEMPFAIL). A name that is not valid in
 * DNS (empty label, label over 63 octets, name over 255) is answered
 * DNS_NXDOMAIN without a query. */
enum dns_status dns_query(struct dns *d, struct dns_budget *b,
                          const char *name, int rrtype,
                          struct dns_answer **out);

/* Answers served from vigil's own answer cache (records with a TTL;
 * temporary failures are never cached). */
unsigned long dns_cache_hits(const struct dns *d);

enum dns_status dns_answer_status(const struct dns_answer *a);
int dns_answer_rcode(const struct dns_answer *a);   /* -1: timed out */
bool dns_answer_secure(const struct dns_answer *a); /* DNSSEC validated */
bool dns_answer_bogus(const struct dns_answer *a);  /* validation failed */
size_t dns_answer_count(const struct dns_answer *a);
/* Raw RDATA of record i (names in it uncompressed). */
const unsigned char *dns_answer_rdata(const struct dns_answer *a, size_t i,
                                      size_t *len);
/* The whole reply packet (wire format), NULL when there was none. */
const unsigned char *dns_answer_packet(const struct dns_answer *a,
                                       size_t *len);
uint32_t dns_answer_ttl(const struct dns_answer *a);
void dns_answer_free(struct dns_answer *a);

/* TXT record i with its character-strings concatenated, NUL-terminated
 * into buf. Returns the length, or -1 if it does not fit or i is out of
 * range. */
int dns_answer_txt(const struct dns_answer *a, size_t i, char *buf,
                   size_t size);
/* Decode the wire-format name at rdata[off] (uncompressed) into dotted
 * text without the trailing dot ("" for the root). -1 on error. */
int dns_wire_name(const unsigned char *rdata, size_t len, size_t off,
                  char *buf, size_t size);

/* ---- Asynchronous queries on a libevent loop ----
 * A dns_loop is a resolver of its own (same settings as sec) whose result
 * pipe (ub_fd) is watched by an event on base: callbacks run on the
 * loop's thread and nothing blocks it. Each query has a deadline
 * (timeout ms, 0: the section's timeout); past it the callback gets a
 * DNS_TEMPFAIL answer at once. The callback owns the answer (NULL only
 * when out of memory). Free a dns_loop on its loop's thread once no
 * query is outstanding. */
struct event_base;
struct dns_loop;
typedef void (*dns_loop_cb)(void *arg, struct dns_answer *a);
struct dns_loop *dns_loop_new(cfg_t *sec, struct event_base *base, char *err,
                              size_t errlen);
int dns_loop_query(struct dns_loop *l, const char *name, int rrtype,
                   uint64_t timeout_ms, dns_loop_cb cb, void *arg);
void dns_loop_free(struct dns_loop *l);

const char *dns_status_name(enum dns_status s);

#endif
