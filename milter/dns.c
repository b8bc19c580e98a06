/* dns.c — see dns.h
 *
 * Queries run through libunbound's asynchronous interface in threaded mode
 * (ub_ctx_async(ctx, 1)): a background thread resolves, the waiting worker
 * threads take turns reading the result pipe (one "reader" at a time calls
 * ub_process, which runs the callbacks of every finished query; the others
 * sleep on a condition variable). This gives every query a hard deadline
 * (ub_cancel) that libunbound's own ub_resolve() cannot, so a dead server
 * costs at most the message's budget.
 */
#include "dns.h"
#include "conf.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unbound.h>

#include "conf.h"
#include "monotime.h"
#include "scan.h"

cfg_opt_t dns_conf_opts[] = {
	CFG_STR_LIST("servers", "{}", CFGF_NONE),
	CFG_INT("timeout", 2000, CFGF_NONE),
	CFG_INT("budget", 5000, CFGF_NONE),
	CFG_STR("trust_anchor", "", CFGF_NONE),
	CFG_END()
};

struct dns {
	struct ub_ctx *ub;
	uint64_t timeout_ms;
	uint64_t budget_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool reading;          /* a thread is inside poll/ub_process */
	atomic_int refs;
	cfg_t *root;           /* registry key (dns_get), NULL otherwise */
	struct dns *next;      /* registry list */
	pthread_mutex_t cache_mu;
	struct cache_slot *cache;   /* CACHE_SLOTS, or NULL (no cache) */
	atomic_ulong cache_hits;
};

struct dns_answer {
	enum dns_status status;
	int rcode;
	struct ub_result *res;  /* NULL on timeout */
	atomic_int refs;        /* the caller's, and the answer cache's */
};

/* A small answer cache in front of libunbound's: a hit costs a hash and
 * a lock instead of a round trip through libunbound's thread and pipe.
 * Direct-mapped; entries live for the record's TTL (at most an hour);
 * temporary failures are never cached. */
#define CACHE_SLOTS 4096
#define CACHE_MAX_TTL_MS (3600u * 1000u)

struct cache_slot {
	char *name;
	int rrtype;
	uint64_t expires_ms;
	struct dns_answer *a;
};

/* One outstanding query; freed by the last of waiter and callback. */
struct pending {
	bool done;
	int err;
	struct ub_result *res;
	int refs;               /* under dns.mu */
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dns *registry;

static void destroy(struct dns *d);

const char *dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_ANSWER: return "answer";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_TEMPFAIL: return "tempfail";
	}
	return "?";
}

static int set_opt(struct ub_ctx *ub, const char *opt, const char *val,
                   char *err, size_t errlen)
{
	int rc = ub_ctx_set_option(ub, opt, val);
	if (rc != 0)
		snprintf(err, errlen, "dns: unbound option %s %s: %s", opt, val,
		         ub_strerror(rc));
	return rc;
}

static int configure(struct ub_ctx *ub, cfg_t *sec, char *err, size_t errlen)
{
	unsigned n = sec ? cfg_size(sec, "servers") : 0;
	const char *ta = sec ? cfg_getstr(sec, "trust_anchor") : "";
	int rc;

	/* Threads, not a forked process, so that ub_cancel and the shared
	 * cache work within the daemon. */
	if ((rc = ub_ctx_async(ub, 1)) != 0) {
		snprintf(err, errlen, "dns: %s", ub_strerror(rc));
		return -1;
	}
	/* Our own deadline (ub_cancel) bounds every wait; unbound gets one
	 * retry. infra-cache-max-rtt stays at its default on purpose: unbound
	 * also uses it as the RTT estimate (srtt + 4 * rttvar, unclamped) at
	 * or above which a server is dropped from selection for
	 * infra-host-ttl (15 min). Set to our timeout, a forwarder whose
	 * first answer took more than (timeout - 282) / 1.125 ms (16 ms for
	 * 300) or whose replies varied a little was dropped, and every later
	 * query failed with SERVFAIL at once. A server that did stop
	 * answering is probed again until it answers (infra-keep-probing). */
	if (set_opt(ub, "outbound-msg-retry:", "1", err, errlen) ||
	    set_opt(ub, "infra-keep-probing:", "yes", err, errlen) ||
	    set_opt(ub, "do-not-query-localhost:", "no", err, errlen))
		return -1;
	if (ta == NULL || *ta == '\0') {
		if (set_opt(ub, "module-config:", "iterator", err, errlen))
			return -1;
	} else if ((rc = ub_ctx_add_ta_file(ub, ta)) != 0) {
		snprintf(err, errlen, "dns: trust_anchor %s: %s", ta,
		         ub_strerror(rc));
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *srv = cfg_getnstr(sec, "servers", i);
		if ((rc = ub_ctx_set_fwd(ub, srv)) != 0) {
			snprintf(err, errlen, "dns: server \"%s\": %s", srv,
			         ub_strerror(rc));
			return -1;
		}
	}
	if (n == 0 && (rc = ub_ctx_resolvconf(ub, NULL)) != 0) {
		snprintf(err, errlen, "dns: /etc/resolv.conf: %s", ub_strerror(rc));
		return -1;
	}
	return 0;
}

struct dns *dns_new(cfg_t *sec, char *err, size_t errlen)
{
	long timeout = sec ? cfg_getint(sec, "timeout") : 2000;
	long budget = sec ? cfg_getint(sec, "budget") : 5000;
	if (timeout <= 0 || budget <= 0) {
		snprintf(err, errlen, "dns: timeout and budget must be > 0 ms");
		return NULL;
	}
	struct dns *d = calloc(1, sizeof *d);
	if (d == NULL) {
		snprintf(err, errlen, "dns: out of memory");
		return NULL;
	}
	d->timeout_ms = (uint64_t)timeout;
	d->budget_ms = (uint64_t)budget;
	atomic_init(&d->refs, 1);
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	pthread_mutex_init(&d->cache_mu, NULL);
	d->cache = calloc(CACHE_SLOTS, sizeof *d->cache);	/* NULL: no cache */
	d->ub = ub_ctx_create();
	if (d->ub == NULL) {
		snprintf(err, errlen, "dns: cannot create the unbound context");
		destroy(d);
		return NULL;
	}
	if (configure(d->ub, sec, err, errlen) != 0) {
		destroy(d);
		return NULL;
	}
	return d;
}

/* root's dns section, or NULL when it declares none. */
static cfg_t *dns_section(cfg_t *root)
{
	return conf_declares(root, "dns", CFGT_SEC) ? cfg_getsec(root, "dns")
	                                            : NULL;
}

struct dns *dns_get(cfg_t *root, char *err, size_t errlen)
{
	pthread_mutex_lock(&registry_mu);
	for (struct dns *d = registry; d != NULL; d = d->next)
		if (d->root == root) {
			atomic_fetch_add(&d->refs, 1);
			pthread_mutex_unlock(&registry_mu);
			return d;
		}
	cfg_t *sec = dns_section(root);
	struct dns *d = dns_new(sec, err, errlen);
	if (d != NULL) {
		d->root = root;
		d->next = registry;
		registry = d;
	}
	pthread_mutex_unlock(&registry_mu);
	return d;
}

struct dns *dns_new_override(cfg_t *root, const char *server, char *err,
                             size_t errlen)
{
	cfg_t *sec = dns_section(root);
	if (server == NULL)
		return dns_new(sec, err, errlen);
	cfg_opt_t opts[] = {
		CFG_SEC("dns", dns_conf_opts, CFGF_NONE),
		CFG_END()
	};
	cfg_t *tmp = cfg_init(opts, CFGF_NONE);
	if (tmp == NULL) {
		snprintf(err, errlen, "dns: out of memory");
		return NULL;
	}
	cfg_t *ts = cfg_getsec(tmp, "dns");
	cfg_setlist(ts, "servers", 1, server);
	if (sec != NULL) {
		cfg_setint(ts, "timeout", cfg_getint(sec, "timeout"));
		cfg_setint(ts, "budget", cfg_getint(sec, "budget"));
		cfg_setstr(ts, "trust_anchor", cfg_getstr(sec, "trust_anchor"));
	}
	struct dns *d = dns_new(ts, err, errlen);
	cfg_free(tmp);
	return d;
}

struct dns *dns_for_tool(const char *conf_path, const char *server,
                         struct conf **confp, char *err, size_t errlen)
{
	*confp = NULL;
	if (conf_path != NULL) {
		*confp = conf_load(conf_path, err, errlen);
		if (*confp == NULL)
			return NULL;
	}
	struct dns *d = dns_new_override(*confp ? conf_cfg(*confp) : NULL,
	                                 server, err, errlen);
	if (d == NULL) {
		conf_unref(*confp);
		*confp = NULL;
	}
	return d;
}

static void destroy(struct dns *d)
{
	for (size_t i = 0; d->cache != NULL && i < CACHE_SLOTS; i++) {
		dns_answer_free(d->cache[i].a);
		free(d->cache[i].name);
	}
	free(d->cache);
	pthread_mutex_destroy(&d->cache_mu);
	if (d->ub != NULL)
		ub_ctx_delete(d->ub);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

void dns_put(struct dns *d)
{
	if (d == NULL)
		return;
	/* Under the registry lock, so that dns_get never finds a resolver
	 * whose last reference is being dropped. */
	pthread_mutex_lock(&registry_mu);
	bool last = atomic_fetch_sub(&d->refs, 1) == 1;
	if (last)
		for (struct dns **p = &registry; *p != NULL; p = &(*p)->next)
			if (*p == d) {
				*p = d->next;
				break;
			}
	pthread_mutex_unlock(&registry_mu);
	if (last)
		destroy(d);
}

/* ---- budgets ---- */

static uint64_t used_by_scan(struct scan *scan)
{
	const char *v = scan ? scan_result_get(scan, "dns_ms") : NULL;
	return v ? strtoull(v, NULL, 10) : 0;
}

void dns_budget_begin(const struct dns *d, struct dns_budget *b,
                      struct scan *scan, uint64_t max_ms)
{
	uint64_t allowed = d->budget_ms;
	if (max_ms != 0 && max_ms < allowed)
		allowed = max_ms;
	uint64_t used = used_by_scan(scan);
	allowed = used >= allowed ? 0 : allowed - used;
	if (scan != NULL) {
		uint64_t left = scan_deadline_left_ms(scan);
		if (left < allowed)
			allowed = left;
	}
	memset(b, 0, sizeof *b);
	b->start_ms = monotime_ms();
	b->deadline_ms = b->start_ms + allowed;
}

void dns_budget_end(const struct dns_budget *b, struct scan *scan)
{
	if (scan == NULL || b->queries == 0)
		return;
	char v[32];
	snprintf(v, sizeof v, "%llu", (unsigned long long)(used_by_scan(scan) +
	         monotime_ms() - b->start_ms));
	scan_result(scan, "dns_ms", v);
}

uint64_t dns_budget_left_ms(const struct dns_budget *b)
{
	uint64_t now = monotime_ms();
	return now >= b->deadline_ms ? 0 : b->deadline_ms - now;
}

/* ---- queries ---- */

static void pending_unref_locked(struct pending *p)
{
	if (--p->refs == 0) {
		if (p->res != NULL)
			ub_resolve_free(p->res);
		free(p);
	}
}

struct cb_arg {
	struct dns *d;
	struct pending *p;
};

static void on_result(void *arg, int err, struct ub_result *res)
{
	struct cb_arg *a = arg;
	struct dns *d = a->d;
	pthread_mutex_lock(&d->mu);
	a->p->done = true;
	a->p->err = err;
	a->p->res = res;
	pending_unref_locked(a->p);
	pthread_mutex_unlock(&d->mu);
	free(a);
}

static void abs_deadline(struct timespec *ts, uint64_t deadline_ms)
{
	/* condition variables use CLOCK_REALTIME by default */
	uint64_t left = deadline_ms - monotime_ms();
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(left / 1000);
	ts->tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait (d->mu held) until p is done or the deadline passes; take the
 * reader's turn when nobody has it. */
static void wait_for(struct dns *d, struct pending *p, uint64_t deadline)
{
	while (!p->done) {
		uint64_t now = monotime_ms();
		if (now >= deadline)
			return;
		if (!d->reading) {
			d->reading = true;
			pthread_mutex_unlock(&d->mu);
			struct pollfd pfd = { .fd = ub_fd(d->ub), .events = POLLIN };
			int rc = poll(&pfd, 1, (int)(deadline - now));
			if (rc > 0)
				ub_process(d->ub);
			pthread_mutex_lock(&d->mu);
			d->reading = false;
			pthread_cond_broadcast(&d->cv);
		} else {
			struct timespec ts;
			abs_deadline(&ts, deadline);
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		}
	}
}

static struct dns_answer *answer_from(int err, struct ub_result *res)
{
	struct dns_answer *a = calloc(1, sizeof *a);
	if (a == NULL) {
		if (res != NULL)
			ub_resolve_free(res);
		return NULL;
	}
	a->res = res;
	atomic_init(&a->refs, 1);
	a->rcode = res ? res->rcode : -1;
	if (err != 0 || res == NULL)
		a->status = DNS_TEMPFAIL;
	else if (res->bogus)
		a->status = DNS_TEMPFAIL;   /* RFC 4035: bogus data is unusable */
	else if (res->rcode == 3)
		a->status = DNS_NXDOMAIN;
	else if (res->rcode != 0)
		a->status = DNS_TEMPFAIL;
	else if (!res->havedata)
		a->status = DNS_NODATA;
	else
		a->status = DNS_ANSWER;
	return a;
}

/* Can name be written in DNS? Labels of 1-63 octets, 253 in all (a
 * trailing dot allowed). */
static bool valid_name(const char *name)
{
	size_t len = strlen(name), label = 0;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return len == 0 && name[0] == '.';   /* "." is the root */
	for (size_t i = 0; i < len; i++) {
		if (name[i] != '.') {
			if (++label > 63)
				return false;
		} else if (label == 0) {
			return false;
		} else {
			label = 0;
		}
	}
	return label > 0;
}

static enum dns_status invalid_name(struct dns_answer **out)
{
	*out = answer_from(-1, NULL);
	if (*out == NULL)
		return DNS_TEMPFAIL;
	(*out)->status = DNS_NXDOMAIN;
	(*out)->rcode = 3;
	return DNS_NXDOMAIN;
}

static size_t cache_index(const char *name, int rrtype)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)rrtype;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		h ^= (c >= 'A' && c <= 'Z') ? c + 32 : c;
		h *= 0x100000001b3ull;
	}
	return (size_t)(h % CACHE_SLOTS);
}

static struct dns_answer *cache_get(struct dns *d, const char *name,
                                    int rrtype)
{
	if (d->cache == NULL)
		return NULL;
	struct dns_answer *a = NULL;
	struct cache_slot *sl = &d->cache[cache_index(name, rrtype)];
	pthread_mutex_lock(&d->cache_mu);
	if (sl->a != NULL && sl->rrtype == rrtype &&
	    strcasecmp(sl->name, name) == 0 && sl->expires_ms > monotime_ms()) {
		a = sl->a;
		atomic_fetch_add(&a->refs, 1);
	}
	pthread_mutex_unlock(&d->cache_mu);
	if (a != NULL)
		atomic_fetch_add(&d->cache_hits, 1);
	return a;
}

static void cache_put(struct dns *d, const char *name, int rrtype,
                      struct dns_answer *a)
{
	uint64_t ttl_ms = (uint64_t)dns_answer_ttl(a) * 1000u;
	if (d->cache == NULL || a->status == DNS_TEMPFAIL || ttl_ms == 0)
		return;
	if (ttl_ms > CACHE_MAX_TTL_MS)
		ttl_ms = CACHE_MAX_TTL_MS;
	char *copy = strdup(name);
	if (copy == NULL)
		return;
	struct cache_slot *sl = &d->cache[cache_index(name, rrtype)];
	atomic_fetch_add(&a->refs, 1);
	pthread_mutex_lock(&d->cache_mu);
	struct dns_answer *old = sl->a;
	char *old_name = sl->name;
	sl->a = a;
	sl->name = copy;
	sl->rrtype = rrtype;
	sl->expires_ms = monotime_ms() + ttl_ms;
	pthread_mutex_unlock(&d->cache_mu);
	dns_answer_free(old);
	free(old_name);
}

unsigned long dns_cache_hits(const struct dns *d)
{
	return atomic_load(&d->cache_hits);
}

enum dns_status dns_query(struct dns *d, struct dns_budget *b,
                          const char *name, int rrtype,
                          struct dns_answer **out)
{
	if (!valid_name(name))
		return invalid_name(out);   /* cannot exist: no query */
	if ((*out = cache_get(d, name, rrtype)) != NULL)
		return (*out)->status;
	uint64_t deadline = monotime_ms() + d->timeout_ms;
	if (b != NULL && b->deadline_ms < deadline)
		deadline = b->deadline_ms;
	if (b != NULL)
		b->queries++;
	*out = NULL;

	struct pending *p = calloc(1, sizeof *p);
	struct cb_arg *arg = calloc(1, sizeof *arg);
	int id = 0;
	if (p == NULL || arg == NULL || monotime_ms() >= deadline) {
		free(p);
		free(arg);
		goto tempfail;
	}
	p->refs = 2;    /* the waiter and the callback */
	arg->d = d;
	arg->p = p;
	int rc = ub_resolve_async(d->ub, name, rrtype, 1, arg, on_result, &id);
	if (rc != 0) {
		free(p);
		free(arg);
		if (rc == UB_SYNTAX)
			return invalid_name(out);
		goto tempfail;
	}
	pthread_mutex_lock(&d->mu);
	wait_for(d, p, deadline);
	if (p->done) {
		struct ub_result *res = p->res;
		int err = p->err;
		p->res = NULL;
		pending_unref_locked(p);
		pthread_mutex_unlock(&d->mu);
		*out = answer_from(err, res);
		if (*out == NULL)
			goto tempfail;
		cache_put(d, name, rrtype, *out);
		if ((*out)->status == DNS_TEMPFAIL && b != NULL)
			b->tempfails++;
		return (*out)->status;
	}
	pthread_mutex_unlock(&d->mu);
	/* Timed out. If the cancel succeeds the callback never runs and both
	 * references are ours; otherwise it ran or runs and drops its own. */
	if (ub_cancel(d->ub, id) == 0) {
		free(arg);
		free(p);
	} else {
		pthread_mutex_lock(&d->mu);
		pending_unref_locked(p);
		pthread_mutex_unlock(&d->mu);
	}
tempfail:
	if (b != NULL)
		b->tempfails++;
	*out = answer_from(-1, NULL);
	return DNS_TEMPFAIL;
}

enum dns_status dns_answer_status(const struct dns_answer *a)
{
	return a ? a->status : DNS_TEMPFAIL;
}

int dns_answer_rcode(const struct dns_answer *a)
{
	return a ? a->rcode : -1;
}

bool dns_answer_secure(const struct dns_answer *a)
{
	return a && a->res && a->res->secure && !a->res->bogus;
}

bool dns_answer_bogus(const struct dns_answer *a)
{
	return a && a->res && a->res->bogus;
}

size_t dns_answer_count(const struct dns_answer *a)
{
	if (a == NULL || a->status != DNS_ANSWER)
		return 0;
	size_t n = 0;
	while (a->res->data[n] != NULL)
		n++;
	return n;
}

const unsigned char *dns_answer_rdata(const struct dns_answer *a, size_t i,
                                      size_t *len)
{
	if (i >= dns_answer_count(a)) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)a->res->len[i];
	return (const unsigned char *)a->res->data[i];
}

const unsigned char *dns_answer_packet(const struct dns_answer *a,
                                       size_t *len)
{
	if (a == NULL || a->res == NULL || a->res->answer_packet == NULL) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)a->res->answer_len;
	return a->res->answer_packet;
}

uint32_t dns_answer_ttl(const struct dns_answer *a)
{
	return a && a->res && a->res->ttl > 0 ? (uint32_t)a->res->ttl : 0;
}

void dns_answer_free(struct dns_answer *a)
{
	if (a == NULL || atomic_fetch_sub(&a->refs, 1) > 1)
		return;
	if (a->res != NULL)
		ub_resolve_free(a->res);
	free(a);
}

int dns_answer_txt(const struct dns_answer *a, size_t i, char *buf,
                   size_t size)
{
	size_t len;
	const unsigned char *rd = dns_answer_rdata(a, i, &len);
	if (rd == NULL || size == 0)
		return -1;
	size_t out = 0;
	for (size_t off = 0; off < len;) {
		size_t n = rd[off++];
		if (n > len - off || out + n >= size)
			return -1;
		memcpy(buf + out, rd + off, n);
		out += n;
		off += n;
	}
	buf[out] = '\0';
	return (int)out;
}

int dns_wire_name(const unsigned char *rdata, size_t len, size_t off,
                  char *buf, size_t size)
{
	size_t out = 0;
	if (size == 0)
		return -1;
	for (unsigned labels = 0; labels < 128; labels++) {
		if (off >= len)
			return -1;
		size_t n = rdata[off++];
		if (n == 0) {
			buf[out] = '\0';
			return (int)out;
		}
		if (n > 63 || n > len - off || out + n + 2 > size)
			return -1;   /* compression pointers do not occur here */
		if (out > 0)
			buf[out++] = '.';
		memcpy(buf + out, rdata + off, n);
		out += n;
		off += n;
	}
	return -1;
}

/* ---- asynchronous queries on a libevent loop ---- */

struct dns_loop {
	struct ub_ctx *ub;
	struct event *readable;
	struct event_base *base;
	uint64_t timeout_ms;
};

struct loop_query {
	struct dns_loop *l;
	int id;
	struct event *timer;
	dns_loop_cb cb;
	void *arg;
	bool answered;	/* the deadline answered; the late result is dropped */
};

static void loop_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_loop *l = arg;
	ub_process(l->ub);
}

static void loop_result(void *arg, int err, struct ub_result *res)
{
	struct loop_query *q = arg;
	if (q->answered) {
		if (res != NULL)
			ub_resolve_free(res);
	} else {
		event_free(q->timer);
		q->cb(q->arg, answer_from(err, res));
	}
	free(q);
}

static void loop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct loop_query *q = arg;
	event_free(q->timer);
	q->timer = NULL;
	bool cancelled = ub_cancel(q->l->ub, q->id) == 0;
	q->answered = true;
	q->cb(q->arg, answer_from(-1, NULL));
	/* Not cancelled: the result is already queued; loop_result frees q. */
	if (cancelled)
		free(q);
}

struct dns_loop *dns_loop_new(cfg_t *sec, struct event_base *base, char *err,
                              size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	struct dns_loop *l = calloc(1, sizeof *l);
	if (l == NULL) {
		snprintf(err, errlen, "dns: out of memory");
		return NULL;
	}
	l->base = base;
	l->timeout_ms = sec ? (uint64_t)cfg_getint(sec, "timeout") : 2000;
	l->ub = ub_ctx_create();
	if (l->ub == NULL || configure(l->ub, sec, err, errlen) ||
	    (l->readable = event_new(base, ub_fd(l->ub), EV_READ | EV_PERSIST,
	                             loop_readable, l)) == NULL ||
	    event_add(l->readable, NULL) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "dns: cannot set up the loop resolver");
		dns_loop_free(l);
		return NULL;
	}
	return l;
}

int dns_loop_query(struct dns_loop *l, const char *name, int rrtype,
                   uint64_t timeout_ms, dns_loop_cb cb, void *arg)
{
	if (!valid_name(name)) {
		struct dns_answer *a;
		invalid_name(&a);
		cb(arg, a);
		return 0;
	}
	struct loop_query *q = calloc(1, sizeof *q);
	if (q == NULL)
		return -1;
	q->l = l;
	q->cb = cb;
	q->arg = arg;
	uint64_t ms = timeout_ms ? timeout_ms : l->timeout_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	q->timer = evtimer_new(l->base, loop_deadline, q);
	if (q->timer == NULL || evtimer_add(q->timer, &tv) != 0 ||
	    ub_resolve_async(l->ub, name, rrtype, 1, q, loop_result, &q->id)) {
		if (q->timer)
			event_free(q->timer);
		free(q);
		return -1;
	}
	return 0;
}

void dns_loop_free(struct dns_loop *l)
{
	if (l == NULL)
		return;
	if (l->readable)
		event_free(l->readable);
	if (l->ub)
		ub_ctx_delete(l->ub);
	free(l);
}
