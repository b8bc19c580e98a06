/* vlog.c — see vlog.h */
#include "vlog.h"

#include <errno.h>
#include <paths.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "monotime.h"
static bool log_stderr = true;
static bool log_syslog;
static bool log_debug;
static int log_threshold = LOG_DEBUG;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

/* glibc's syslog() connects to _PATH_LOG again on every call while
 * nothing listens there (a socket, a connect and a close per line) and
 * drops the line without a word: in a container without a syslog daemon
 * every verdict line would vanish, at a cost. So vlog checks the socket
 * itself, at open and then at most every SYSLOG_RETRY_S seconds while it
 * is down; meanwhile lines go to stderr. Once up, glibc's own
 * reconnecting takes over. */
#define SYSLOG_RETRY_S 10
static atomic_bool syslog_up;
static atomic_llong syslog_next_probe;   /* CLOCK_MONOTONIC seconds */

/* 0 when a socket of this type accepts a connection on _PATH_LOG, else
 * an errno. */
static int syslog_connect(int type)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", _PATH_LOG);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int err = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
	close(fd);
	return err;
}

/* 0 when a syslog daemon listens on _PATH_LOG, else an errno: a datagram
 * socket, or a stream one as glibc tries next. */
static int syslog_probe(void)
{
	int err = syslog_connect(SOCK_DGRAM);
	return err == EPROTOTYPE ? syslog_connect(SOCK_STREAM) : err;
}

static void stderr_line(int prio, const char *line);

/* Whether lines go to syslog now; probes again when it was down and the
 * retry time has come (one thread probes, the others go on). */
static bool syslog_usable(void)
{
	if (atomic_load_explicit(&syslog_up, memory_order_relaxed))
		return true;
	long long now = (long long)(monotime_ms() / 1000),
	          due = atomic_load_explicit(&syslog_next_probe,
	                                     memory_order_relaxed);
	if (now < due ||
	    !atomic_compare_exchange_strong(&syslog_next_probe, &due,
	                                    now + SYSLOG_RETRY_S))
		return false;
	int err = syslog_probe();
	if (err != 0)
		return false;
	atomic_store(&syslog_up, true);
	stderr_line(LOG_NOTICE, "syslog: " _PATH_LOG " answers again; "
	            "log lines go there");
	return true;
}

void vlog_open(const char *ident, int facility, bool to_stderr)
{
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
	log_syslog = true;
	log_stderr = to_stderr;
	int err = syslog_probe();
	atomic_store(&syslog_up, err == 0);
	atomic_store(&syslog_next_probe,
	             (long long)(monotime_ms() / 1000) + SYSLOG_RETRY_S);
	if (err != 0) {
		char line[256];
		snprintf(line, sizeof line, "syslog: cannot reach " _PATH_LOG
		         " (%s): log lines go to standard error until it "
		         "answers (checked every %d s)", strerror(err),
		         SYSLOG_RETRY_S);
		stderr_line(LOG_WARNING, line);
	}
}

void vlog_set_threshold(int prio)
{
	log_threshold = prio;
}

void vlog_set_stderr(bool to_stderr)
{
	log_stderr = to_stderr;
}

void vlog_set_debug(bool debug)
{
	log_debug = debug;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "crit";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

static void stderr_line(int prio, const char *line)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	/* on a terminal, the line starts by erasing what stands on it: a
	 * progress line of vigil scan (progress.h) is redrawn after it */
	const char *erase = isatty(STDERR_FILENO) ? "\r\033[K" : "";
	pthread_mutex_lock(&stderr_lock);
	fprintf(stderr, "%s%s.%03ld %s: %s\n", erase, stamp,
	        ts.tv_nsec / 1000000L, prio_name(prio), line);
	fflush(stderr);
	pthread_mutex_unlock(&stderr_lock);
}

void vlogv(int prio, const char *fmt, va_list ap)
{
	if ((prio >= LOG_DEBUG && !log_debug) || prio > log_threshold)
		return;
	char line[8192];
	vsnprintf(line, sizeof line, fmt, ap);
	bool to_syslog = log_syslog && syslog_usable();
	if (to_syslog)
		syslog(prio, "%s", line);
	if (log_stderr || !to_syslog)
		stderr_line(prio, line);
}

void vlog(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlogv(prio, fmt, ap);
	va_end(ap);
}

int vlog_facility(const char *name)
{
	static const struct { const char *name; int fac; } map[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(name, map[i].name) == 0)
			return map[i].fac;
	return -1;
}

/* ---- key=value lines ---- */

#define KV_MAX (16u * 1024)	/* syslog lines beyond this get cut anyway */

void kv_init(struct kvline *kv)
{
	kv->buf = NULL;
	kv->len = 0;
	kv->cap = 0;
}

void kv_free(struct kvline *kv)
{
	free(kv->buf);
	kv_init(kv);
}

static bool kv_reserve(struct kvline *kv, size_t more)
{
	if (kv->len + more + 1 <= kv->cap)
		return true;
	if (kv->len + more + 1 > KV_MAX)
		return false;
	size_t cap = kv->cap ? kv->cap * 2 : 256;
	while (cap < kv->len + more + 1)
		cap *= 2;
	char *p = realloc(kv->buf, cap);
	if (p == NULL)
		return false;
	kv->buf = p;
	kv->cap = cap;
	return true;
}

static void kv_put(struct kvline *kv, const char *s, size_t n)
{
	if (!kv_reserve(kv, n)) {
		if (kv_reserve(kv, 3) && (kv->len < 3 ||
		    memcmp(kv->buf + kv->len - 3, "...", 3) != 0)) {
			memcpy(kv->buf + kv->len, "...", 3);
			kv->len += 3;
			kv->buf[kv->len] = '\0';
		}
		return;
	}
	memcpy(kv->buf + kv->len, s, n);
	kv->len += n;
	kv->buf[kv->len] = '\0';
}

static bool needs_quotes(const char *v, size_t len)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= ' ' || c == '=' || c == '"' || c >= 0x7f)
			return true;
	}
	return false;
}

void kv_addn(struct kvline *kv, const char *key, const char *value,
             size_t len)
{
	if (kv->len > 0)
		kv_put(kv, " ", 1);
	kv_put(kv, key, strlen(key));
	kv_put(kv, "=", 1);
	bool quote = needs_quotes(value, len);
	if (quote)
		kv_put(kv, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			kv_put(kv, esc, 2);
		} else if (c < ' ' || c >= 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			kv_put(kv, esc, 4);
		} else {
			kv_put(kv, (const char *)&value[i], 1);
		}
	}
	if (quote)
		kv_put(kv, "\"", 1);
}

void kv_add(struct kvline *kv, const char *key, const char *value)
{
	if (value == NULL)
		value = "";
	kv_addn(kv, key, value, strlen(value));
}

void kv_addf(struct kvline *kv, const char *key, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
	kv_addn(kv, key, tmp, len);
}

const char *kv_str(const struct kvline *kv)
{
	return kv->buf ? kv->buf : "";
}
