/* server.c — see server.h */
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "pipeline.h"
#include "pool.h"
#include "proto.h"
#include "scan.h"
#include "sess.h"
#include "verdict.h"
#include "vlog.h"

#define PROGRESS_INTERVAL_S 10	/* keep-alive to the MTA during long scans */

struct iothread;

/* Work handed to an I/O thread by another thread. */
struct task {
	enum { TASK_CONN, TASK_DONE, TASK_STOP, TASK_EARLY } kind;
	int fd;
	char peer[160];
	struct job *job;
	struct early *early;
	struct task *next;
};

/* Early work of one message (stages' envelope() hooks), shared by the
 * connection (until end of message) and a worker; the last holder frees
 * it. */
struct early {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int refs;
	struct scan *scan;
	struct conf *conf;
	/* MAIL's reply waits for this work: the worker posts TASK_EARLY to
	 * io. conn is who waits (loop thread only; NULL once it no longer
	 * does). */
	struct iothread *io;
	struct conn *conn;
};

struct conn {
	struct iothread *io;
	struct bufferevent *bev;
	struct sess *sess;
	struct job *job;            /* scan in flight, or NULL */
	struct early *early;        /* current message's early work, or NULL */
	struct event *progress;
	struct event *deadline;
	bool closing;
	struct conn *prev, *next;   /* the thread's connection list */
};

struct job {
	struct iothread *io;
	struct conn *conn;          /* NULL once the connection gave up on it */
	uint64_t msg_id;
	struct scan *scan;
	struct conf *conf;
	struct early *early;        /* to merge before the pipeline, or NULL */
	bool can_delrcpt;
	const char *failed;
	struct verdict v;
	int verdict_rc;
	double ms;
	struct timespec start;
};

struct iothread {
	struct server *srv;
	pthread_t tid;
	struct event_base *base;
	struct event *notify;
	pthread_mutex_t lock;
	struct task *head, *tail;
	struct conn *conns;
	bool stopping;
	struct conf *conf;          /* this thread's view of the current conf */
	uint64_t conf_gen;
};

struct server {
	struct event_base *base;    /* main thread: listeners, signals */
	struct evconnlistener **listeners;
	struct listen_addr *addrs;
	size_t listener_count;
	struct iothread *io;
	unsigned io_count, next_io;
	struct pool *pool;
	pthread_mutex_t conf_lock;
	struct conf *conf;
	_Atomic uint64_t conf_gen;
	_Atomic unsigned conn_count;
	_Atomic unsigned long messages, failures, refused;
	struct event *sig_hup, *sig_term, *sig_int, *stop_timer;
	struct timespec stop_started;
	bool stopping;
};

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- configuration as seen by I/O threads ---- */

static struct conf *server_conf_ref(struct server *srv)
{
	pthread_mutex_lock(&srv->conf_lock);
	struct conf *c = conf_ref(srv->conf);
	pthread_mutex_unlock(&srv->conf_lock);
	return c;
}

/* The current configuration for an I/O thread: cached, refreshed when a
 * reload changed the generation. */
static struct conf *io_conf(struct iothread *io)
{
	uint64_t gen = atomic_load(&io->srv->conf_gen);
	if (io->conf == NULL || io->conf_gen != gen) {
		conf_unref(io->conf);
		io->conf = server_conf_ref(io->srv);
		io->conf_gen = gen;
	}
	return io->conf;
}

/* ---- tasks between threads ---- */

static void io_post(struct iothread *io, struct task *t)
{
	pthread_mutex_lock(&io->lock);
	t->next = NULL;
	if (io->tail)
		io->tail->next = t;
	else
		io->head = t;
	io->tail = t;
	pthread_mutex_unlock(&io->lock);
	event_active(io->notify, EV_READ, 0);
}

/* ---- early work ---- */

static void early_release(struct early *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	int left = --e->refs;
	pthread_mutex_unlock(&e->lock);
	if (left > 0)
		return;
	scan_free(e->scan);
	conf_unref(e->conf);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e);
}

static void io_post(struct iothread *io, struct task *t);

static void early_run(void *arg)
{
	struct early *e = arg;
	pipeline_envelope(e->conf->pipeline, e->scan);
	pthread_mutex_lock(&e->lock);
	e->done = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (e->io != NULL) {
		/* The task takes over this worker's reference. */
		struct task *t = calloc(1, sizeof *t);
		if (t != NULL) {
			t->kind = TASK_EARLY;
			t->early = e;
			io_post(e->io, t);
			return;
		}
		vlog(LOG_ERR, "out of memory posting an early result");
	}
	early_release(e);
}

/* On a worker, before the pipeline: the early results join the
 * message's. The early job was queued before this one (FIFO), so it is
 * running or done: the wait is bounded by its deadline. */
static void early_join(struct early *e, struct scan *scan)
{
	pthread_mutex_lock(&e->lock);
	while (!e->done)
		pthread_cond_wait(&e->cond, &e->lock);
	pthread_mutex_unlock(&e->lock);
	scan_merge(scan, e->scan);
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
	struct iothread *io = c->io;
	if (c->job != NULL)
		c->job->conn = NULL;	/* the worker's result will be dropped */
	if (c->early != NULL)
		c->early->conn = NULL;
	early_release(c->early);
	if (c->prev)
		c->prev->next = c->next;
	else
		io->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->progress)
		event_free(c->progress);
	if (c->deadline)
		event_free(c->deadline);
	bufferevent_free(c->bev);
	sess_free(c->sess);
	free(c);
	atomic_fetch_sub(&io->srv->conn_count, 1);
}

static void conn_close(struct conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
	/* else conn_written() frees it once the replies are out */
}

static void set_idle_timeout(struct conn *c, bool on)
{
	struct conf *conf = io_conf(c->io);
	struct timeval tv = { conf->idle_timeout_s, 0 };
	bufferevent_set_timeouts(c->bev, on ? &tv : NULL, NULL);
}

static void job_free(struct job *j)
{
	early_release(j->early);
	scan_free(j->scan);
	conf_unref(j->conf);
	verdict_free(&j->v);
	free(j);
}

/* The verdict line: one per message. */
static void log_verdict(const struct conf *conf, const struct job *j,
                        const struct scan *scan, const struct verdict *v,
                        const char *peer)
{
	struct kvline kv;
	kv_init(&kv);
	if (scan != NULL) {
		verdict_log_fields(conf, scan, v, j->ms, &kv);
	} else {
		kv_add(&kv, "qid", "NOQUEUE");
		kv_add(&kv, "peer", peer);
		kv_add(&kv, "action", conf_action_name(v->action));
		kv_add(&kv, "scan", "failed");
		kv_add(&kv, "reason", "deadline");
	}
	vlog(LOG_INFO, "%s", kv_str(&kv));
	kv_free(&kv);
}

/* Reply to the MTA with verdict v and go back to reading. */
static void conn_reply(struct conn *c, uint64_t msg_id,
                       const struct scan *scan, struct verdict *v,
                       struct conf *conf)
{
	if (v->action == CONF_ACT_QUARANTINE && !sess_can_quarantine(c->sess)) {
		vlog(LOG_WARNING, "qid=%s peer=%s: MTA does not allow quarantine; "
		     "delivering with headers instead", sess_queue_id(c->sess),
		     sess_peer(c->sess));
		v->action = CONF_ACT_ADD_HEADER;
	}
	const char *authserv = conf->hostname;
	sess_eom_reply(c->sess, msg_id, scan, v, authserv,
	               bufferevent_get_output(c->bev));
	if (c->progress)
		event_del(c->progress);
	if (c->deadline)
		event_del(c->deadline);
	c->job = NULL;
	if (c->io->stopping)
		conn_close(c);
	else
		set_idle_timeout(c, true);
}

static void job_run(void *arg)
{
	struct job *j = arg;
	j->failed = NULL;
	if (j->early != NULL)
		early_join(j->early, j->scan);
	if (pipeline_run(j->conf->pipeline, j->scan, &j->failed) != 0 &&
	    j->failed == NULL)
		j->failed = "pipeline";
	j->verdict_rc = verdict_decide(j->conf, j->scan, j->failed,
	                               j->can_delrcpt, &j->v);
	j->ms = elapsed_ms(&j->start);
	struct task *t = calloc(1, sizeof *t);
	if (t == NULL) {
		/* Cannot tell the loop: the deadline timer answers the MTA. */
		vlog(LOG_ERR, "out of memory posting a verdict");
		return;
	}
	t->kind = TASK_DONE;
	t->job = j;
	io_post(j->io, t);
}

/* On the loop thread: a worker finished. */
static void job_done(struct job *j)
{
	struct conn *c = j->conn;
	struct server *srv = j->io->srv;
	atomic_fetch_add(&srv->messages, 1);
	if (j->verdict_rc != 0) {
		verdict_free(&j->v);
		j->failed = "verdict";
		verdict_fail(j->conf, "out of memory", &j->v);
	}
	if (j->failed != NULL) {
		atomic_fetch_add(&srv->failures, 1);
		vlog(LOG_WARNING, "qid=%s: scan failed in stage %s; fail action %s",
		     scan_env(j->scan)->queue_id, j->failed,
		     conf_action_name(j->v.action));
	}
	if (c == NULL) {
		vlog(LOG_NOTICE, "qid=%s: verdict arrived after the connection gave "
		     "up on it (%.0f ms); dropped", scan_env(j->scan)->queue_id,
		     j->ms);
		job_free(j);
		return;
	}
	if (c->job == j) {
		conn_reply(c, j->msg_id, j->scan, &j->v, j->conf);
		log_verdict(j->conf, j, j->scan, &j->v, sess_peer(c->sess));
	}
	job_free(j);
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->job != NULL && sess_can_progress(c->sess))
		proto_enc_simple(bufferevent_get_output(c->bev), SMFIR_PROGRESS);
}

/* Answer the MTA now with the fail action, without the scan (a worker
 * may still hold it); a late result of the worker is dropped. */
static void answer_fail(struct conn *c, const char *why)
{
	struct job *j = c->job;
	struct conf *conf = io_conf(c->io);
	struct verdict v;
	atomic_fetch_add(&c->io->srv->failures, 1);
	vlog(LOG_WARNING, "qid=%s peer=%s: %s; fail action %s",
	     sess_queue_id(c->sess), sess_peer(c->sess), why,
	     conf_action_name(conf->fail_action));
	j->conn = NULL;
	if (verdict_fail(conf, why, &v) == 0) {
		conn_reply(c, j->msg_id, NULL, &v, conf);
		log_verdict(conf, j, NULL, &v, sess_peer(c->sess));
	} else {
		c->job = NULL;
		conn_close(c);
	}
	verdict_free(&v);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->job != NULL)
		answer_fail(c, "scan deadline passed");
}

/* MAIL FROM is known: queue the stages' envelope() hooks. With wait,
 * the MAIL reply is sent when they are done (TASK_EARLY); on failure
 * here it is sent at once and the stages do that work in run(). */
static void start_early(struct conn *c, bool wait)
{
	if (c->early != NULL)
		c->early->conn = NULL;
	early_release(c->early);
	c->early = NULL;
	struct early *e = calloc(1, sizeof *e);
	if (e == NULL || (e->scan = sess_envelope_scan(c->sess)) == NULL) {
		free(e);
		if (wait)
			sess_mail_reply(c->sess, NULL, bufferevent_get_output(c->bev));
		return;
	}
	e->conf = conf_ref(io_conf(c->io));
	scan_set_deadline_ms(e->scan, (uint64_t)e->conf->message_timeout_s * 1000u);
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	e->refs = 2;	/* the connection and the worker (then its task) */
	if (wait) {
		e->io = c->io;
		e->conn = c;
	}
	if (pool_submit(c->io->srv->pool, early_run, e) != 0) {
		e->refs = 1;
		early_release(e);
		if (wait)
			sess_mail_reply(c->sess, NULL, bufferevent_get_output(c->bev));
		return;
	}
	c->early = e;
}

/* On the loop thread: the early work a MAIL reply waited for is done. */
static void early_done(struct early *e)
{
	struct conn *c = e->conn;
	if (c != NULL && c->early == e) {
		e->conn = NULL;
		const char *reject = scan_result_get(e->scan, "reject");
		if (reject != NULL)
			vlog(LOG_INFO, "peer=%s from=%s: rejected at MAIL FROM: %s",
			     sess_peer(c->sess), scan_env(e->scan)->mail_from, reject);
		sess_mail_reply(c->sess, reject, bufferevent_get_output(c->bev));
	}
	early_release(e);
}

static void start_scan(struct conn *c)
{
	struct job *j = calloc(1, sizeof *j);
	struct conf *conf = NULL;
	struct scan *scan = sess_take_scan(c->sess, &conf);
	if (j == NULL || scan == NULL || conf == NULL) {
		free(j);
		scan_free(scan);
		conf_unref(conf);
		vlog(LOG_ERR, "peer=%s: out of memory at end of message",
		     sess_peer(c->sess));
		conn_close(c);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &j->start);
	j->io = c->io;
	j->conn = c;
	j->msg_id = sess_msg_id(c->sess);
	j->scan = scan;
	j->conf = conf;
	j->can_delrcpt = sess_can_delrcpt(c->sess);
	j->early = c->early;	/* the connection's reference moves to the job */
	if (c->early != NULL)
		c->early->conn = NULL;
	c->early = NULL;
	uint64_t deadline_ms = (uint64_t)conf->message_timeout_s * 1000u;
	scan_set_deadline_ms(scan, deadline_ms);
	c->job = j;
	set_idle_timeout(c, false);
	struct timeval pt = { PROGRESS_INTERVAL_S, 0 };
	struct timeval dt = { (time_t)((deadline_ms + CONF_DEADLINE_GRACE_MS) / 1000),
	                      (suseconds_t)((deadline_ms + CONF_DEADLINE_GRACE_MS) % 1000) * 1000 };
	event_add(c->progress, &pt);
	event_add(c->deadline, &dt);
	if (pool_submit(c->io->srv->pool, job_run, j) != 0) {
		answer_fail(c, "cannot queue the scan");
		job_free(j);
	}
}

/* Feed every complete packet in the input buffer to the session. */
static void conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	struct conf *conf = io_conf(c->io);
	while (!c->closing) {
		size_t avail = evbuffer_get_length(in);
		unsigned char hdr[4];
		if (avail < 4)
			return;
		evbuffer_copyout(in, hdr, 4);
		size_t n = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) |
		           ((size_t)hdr[2] << 8) | hdr[3];
		if (n == 0 || n > conf->max_packet) {
			vlog(LOG_WARNING, "peer=%s: milter packet of %zu bytes (limit %zu);"
			     " closing the connection", sess_peer(c->sess), n,
			     conf->max_packet);
			conn_close(c);
			return;
		}
		if (avail < 4 + n)
			return;
		const unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)(4 + n));
		struct proto_pkt pkt;
		size_t used;
		if (p == NULL ||
		    proto_split(p, 4 + n, conf->max_packet, &pkt, &used) != PROTO_OK) {
			vlog(LOG_WARNING, "peer=%s: undecodable packet; closing",
			     sess_peer(c->sess));
			conn_close(c);
			return;
		}
		enum sess_status st = sess_input(c->sess, conf, &pkt, out);
		evbuffer_drain(in, used);
		if (st == SESS_CLOSE) {
			conn_close(c);
			return;
		}
		if (st == SESS_EOM)
			start_scan(c);
		else if (st == SESS_ENVELOPE || st == SESS_ENVELOPE_WAIT)
			start_early(c, st == SESS_ENVELOPE_WAIT);
		else if (c->io->stopping && !sess_in_message(c->sess) && c->job == NULL)
			conn_close(c);
	}
}

static void conn_written(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT)
		vlog(LOG_INFO, "peer=%s: idle timeout; closing", sess_peer(c->sess));
	else if ((what & BEV_EVENT_ERROR) && errno != ECONNRESET)
		vlog(LOG_INFO, "peer=%s: connection error: %s", sess_peer(c->sess),
		     strerror(errno));
	if (c->job != NULL)
		vlog(LOG_NOTICE, "qid=%s peer=%s: MTA closed the connection during "
		     "the scan", sess_queue_id(c->sess), sess_peer(c->sess));
	conn_free(c);
}

static void conn_new(struct iothread *io, int fd, const char *peer)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL || (c->sess = sess_new(peer)) == NULL ||
	    (c->progress = event_new(io->base, -1, EV_PERSIST, on_progress,
	                             c)) == NULL ||
	    (c->deadline = event_new(io->base, -1, 0, on_deadline, c)) == NULL ||
	    (c->bev = bufferevent_socket_new(io->base, fd,
	                                     BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		vlog(LOG_ERR, "peer=%s: out of memory for a new connection", peer);
		if (c != NULL) {
			sess_free(c->sess);
			if (c->progress)
				event_free(c->progress);
			if (c->deadline)
				event_free(c->deadline);
			free(c);
		}
		close(fd);
		atomic_fetch_sub(&io->srv->conn_count, 1);
		return;
	}
	c->io = io;
	c->next = io->conns;
	if (io->conns)
		io->conns->prev = c;
	io->conns = c;
	bufferevent_setcb(c->bev, conn_read, conn_written, conn_event, c);
	set_idle_timeout(c, true);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Close connections that are between messages; the others close after
 * their verdict. */
static void io_stop(struct iothread *io)
{
	io->stopping = true;
	struct conn *c = io->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		if (!sess_in_message(c->sess) && c->job == NULL && !c->closing)
			conn_close(c);
		c = next;
	}
}

static void io_notify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct iothread *io = arg;
	pthread_mutex_lock(&io->lock);
	struct task *t = io->head;
	io->head = io->tail = NULL;
	pthread_mutex_unlock(&io->lock);
	while (t != NULL) {
		struct task *next = t->next;
		switch (t->kind) {
		case TASK_CONN:
			conn_new(io, t->fd, t->peer);
			break;
		case TASK_DONE:
			job_done(t->job);
			break;
		case TASK_STOP:
			io_stop(io);
			break;
		case TASK_EARLY:
			early_done(t->early);
			break;
		}
		free(t);
		t = next;
	}
}

static void *io_main(void *arg)
{
	struct iothread *io = arg;
	/* Signals belong to the main thread. */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	event_base_loop(io->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* ---- accepting ---- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
	(void)l;
	struct server *srv = arg;
	struct conf *c = server_conf_ref(srv);
	unsigned limit = c->max_connections;
	conf_unref(c);
	if (srv->stopping || atomic_load(&srv->conn_count) >= limit) {
		/* Refused: the MTA applies its milter_default_action. */
		unsigned long n = atomic_fetch_add(&srv->refused, 1);
		if (n % 100 == 0)
			vlog(LOG_WARNING, "connection limit %u reached; refusing "
			     "connections (%lu so far)", limit, n + 1);
		evutil_closesocket(fd);
		return;
	}
	struct task *t = calloc(1, sizeof *t);
	if (t == NULL) {
		evutil_closesocket(fd);
		return;
	}
	atomic_fetch_add(&srv->conn_count, 1);
	t->kind = TASK_CONN;
	t->fd = fd;
	listen_describe(sa, (socklen_t)salen, t->peer, sizeof t->peer);
	if (sa->sa_family == AF_UNIX)
		snprintf(t->peer, sizeof t->peer, "unix");
	struct iothread *io = &srv->io[srv->next_io++ % srv->io_count];
	io_post(io, t);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)arg;
	(void)l;
	/* EMFILE and friends: the listener keeps going. */
	vlog(LOG_ERR, "accept: %s", strerror(errno));
}

/* ---- signals ---- */

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct server *srv = arg;
	char err[4096];
	const char *path = srv->conf->path;
	struct conf *next = conf_load(path, err, sizeof err);
	if (next == NULL) {
		vlog(LOG_ERR, "reload of %s refused, keeping the running "
		     "configuration:\n%s", path, err);
		return;
	}
	if (next->listen_count != srv->conf->listen_count)
		vlog(LOG_WARNING, "reload: listen changes need a restart");
	pthread_mutex_lock(&srv->conf_lock);
	struct conf *old = srv->conf;
	srv->conf = next;
	pthread_mutex_unlock(&srv->conf_lock);
	atomic_fetch_add(&srv->conf_gen, 1);
	/* path is old's: logged before old may go (audit20 H4: read after
	 * free from the second reload on) */
	vlog(LOG_INFO, "configuration reloaded from %s", next->path);
	conf_unref(old);
}

static unsigned total_conns(struct server *srv)
{
	return atomic_load(&srv->conn_count);
}

static void on_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	struct conf *c = server_conf_ref(srv);
	double limit = (double)c->shutdown_timeout_s * 1000.0;
	conf_unref(c);
	unsigned left = total_conns(srv);
	if (left == 0 || elapsed_ms(&srv->stop_started) >= limit) {
		if (left > 0)
			vlog(LOG_WARNING, "shutdown: %u connections still busy after "
			     "the shutdown timeout; closing them", left);
		event_base_loopbreak(srv->base);
	}
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct server *srv = arg;
	if (srv->stopping)
		return;
	vlog(LOG_INFO, "signal %d: stopping; finishing messages in flight",
	     (int)sig);
	srv->stopping = true;
	clock_gettime(CLOCK_MONOTONIC, &srv->stop_started);
	for (size_t i = 0; i < srv->listener_count; i++) {
		evconnlistener_free(srv->listeners[i]);
		srv->listeners[i] = NULL;
		if (srv->addrs[i].family == AF_UNIX)
			unlink(srv->addrs[i].path);
	}
	for (unsigned i = 0; i < srv->io_count; i++) {
		struct task *t = calloc(1, sizeof *t);
		if (t != NULL) {
			t->kind = TASK_STOP;
			io_post(&srv->io[i], t);
		}
	}
	struct timeval tick = { 0, 100000 };
	srv->stop_timer = event_new(srv->base, -1, EV_PERSIST, on_stop_tick, srv);
	if (srv->stop_timer == NULL || event_add(srv->stop_timer, &tick) != 0)
		event_base_loopbreak(srv->base);
}

/* ---- set-up ---- */

static int open_listeners(struct server *srv, struct conf *c, char *err,
                          size_t errlen)
{
	srv->listeners = calloc(c->listen_count, sizeof *srv->listeners);
	srv->addrs = calloc(c->listen_count, sizeof *srv->addrs);
	if (srv->listeners == NULL || srv->addrs == NULL)
		return -1;
	for (size_t i = 0; i < c->listen_count; i++) {
		char e[512] = "";
		struct listen_addr *a = &srv->addrs[i];
		int fd = -1;
		if (listen_parse(c->listen[i], a, e, sizeof e) == 0)
			fd = listen_open(a, c->socket_owner, c->socket_group,
			                 c->socket_mode, e, sizeof e);
		if (fd < 0) {
			snprintf(err, errlen, "listen \"%s\": %s", c->listen[i], e);
			return -1;
		}
		srv->listeners[i] = evconnlistener_new(srv->base, on_accept, srv,
		                                       LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (srv->listeners[i] == NULL) {
			close(fd);
			snprintf(err, errlen, "listen \"%s\": cannot watch socket",
			         c->listen[i]);
			return -1;
		}
		evconnlistener_set_error_cb(srv->listeners[i], on_accept_error);
		srv->listener_count++;
		vlog(LOG_INFO, "listening on %s", c->listen[i]);
	}
	return 0;
}

static int start_io(struct server *srv, unsigned n)
{
	srv->io = calloc(n, sizeof *srv->io);
	if (srv->io == NULL)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		struct iothread *io = &srv->io[i];
		io->srv = srv;
		pthread_mutex_init(&io->lock, NULL);
		io->base = event_base_new();
		if (io->base == NULL)
			return -1;
		io->notify = event_new(io->base, -1, EV_PERSIST, io_notify, io);
		if (io->notify == NULL)
			return -1;
		srv->io_count++;
	}
	return 0;
}

struct server *server_new(struct conf *c, char *err, size_t errlen)
{
	static bool threads_ready;
	if (!threads_ready) {
		if (evthread_use_pthreads() != 0) {
			snprintf(err, errlen, "libevent: no thread support");
			return NULL;
		}
		threads_ready = true;
	}
	struct server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&srv->conf_lock, NULL);
	srv->conf = conf_ref(c);
	srv->base = event_base_new();
	if (srv->base == NULL || open_listeners(srv, c, err, errlen) != 0 ||
	    start_io(srv, c->io_threads) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot set up the event loops");
		server_free(srv);
		return NULL;
	}
	return srv;
}

int server_forked(struct server *srv)
{
	int rc = event_reinit(srv->base);
	for (unsigned i = 0; i < srv->io_count; i++)
		rc |= event_reinit(srv->io[i].base);
	return rc ? -1 : 0;
}

int server_run(struct server *srv)
{
	struct conf *c = srv->conf;
	srv->pool = pool_new(c->scan_workers);
	if (srv->pool == NULL) {
		vlog(LOG_ERR, "cannot start %u scan workers", c->scan_workers);
		return -1;
	}
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, on_hup, srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, on_term, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, on_term, srv);
	if (!srv->sig_hup || !srv->sig_term || !srv->sig_int ||
	    event_add(srv->sig_hup, NULL) || event_add(srv->sig_term, NULL) ||
	    event_add(srv->sig_int, NULL)) {
		vlog(LOG_ERR, "cannot install signal handlers");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	unsigned started = 0;
	for (unsigned i = 0; i < srv->io_count; i++) {
		if (pthread_create(&srv->io[i].tid, NULL, io_main, &srv->io[i]) != 0)
			break;
		started++;
	}
	if (started != srv->io_count) {
		vlog(LOG_ERR, "cannot start I/O threads");
		srv->io_count = started;
		return -1;
	}
	vlog(LOG_INFO, "vigild ready: %u I/O threads, %u scan workers",
	     srv->io_count, c->scan_workers);
	event_base_loop(srv->base, EVLOOP_NO_EXIT_ON_EMPTY);
	vlog(LOG_INFO, "stopped: %lu messages, %lu scan failures, %lu refused "
	     "connections", atomic_load(&srv->messages),
	     atomic_load(&srv->failures), atomic_load(&srv->refused));
	return 0;
}

/* Stop the loops, then free. Connections still open are closed. */
void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	for (unsigned i = 0; i < srv->io_count; i++)
		if (srv->io[i].tid)
			event_base_loopbreak(srv->io[i].base);
	for (unsigned i = 0; i < srv->io_count; i++)
		if (srv->io[i].tid)
			pthread_join(srv->io[i].tid, NULL);
	/* Workers finish what they hold; their results go to queues that
	 * are freed below without being read. */
	pool_free(srv->pool);
	for (unsigned i = 0; i < srv->io_count; i++) {
		struct iothread *io = &srv->io[i];
		while (io->conns)
			conn_free(io->conns);
		for (struct task *t = io->head, *n; t; t = n) {
			n = t->next;
			if (t->kind == TASK_DONE)
				job_free(t->job);
			else if (t->kind == TASK_EARLY)
				early_release(t->early);
			else if (t->kind == TASK_CONN)
				close(t->fd);
			free(t);
		}
		conf_unref(io->conf);
		if (io->notify)
			event_free(io->notify);
		if (io->base)
			event_base_free(io->base);
		pthread_mutex_destroy(&io->lock);
	}
	free(srv->io);
	for (size_t i = 0; i < srv->listener_count; i++) {
		if (srv->listeners[i]) {
			evconnlistener_free(srv->listeners[i]);
			if (srv->addrs[i].family == AF_UNIX)
				unlink(srv->addrs[i].path);
		}
	}
	free(srv->listeners);
	free(srv->addrs);
	if (srv->sig_hup)
		event_free(srv->sig_hup);
	if (srv->sig_term)
		event_free(srv->sig_term);
	if (srv->sig_int)
		event_free(srv->sig_int);
	if (srv->stop_timer)
		event_free(srv->stop_timer);
	if (srv->base)
		event_base_free(srv->base);
	conf_unref(srv->conf);
	pthread_mutex_destroy(&srv->conf_lock);
	free(srv);
}
