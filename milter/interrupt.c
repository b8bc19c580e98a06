/* interrupt.c — see interrupt.h */
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t caught;
static struct sigaction old_int, old_term;
static bool installed;
/* interrupt_wake_fd()'s pipe: the handler writes a byte to wake[1] */
static int wake[2] = { -1, -1 };
static volatile sig_atomic_t wake_w = -1;

static void on_signal(int sig)
{
	caught = sig;   /* the run looks at the flag; a wait is woken */
	int saved = errno;
	if (wake_w >= 0) {
		ssize_t n = write(wake_w, "", 1);   /* full: readable already */
		(void)n;
	}
	errno = saved;
}

/* Nothing left to read in the wake pipe: a new run starts unwoken. */
static void drain_wake(void)
{
	char buf[64];
	while (wake[0] >= 0 && read(wake[0], buf, sizeof buf) > 0)
		;
}

int interrupt_wake_fd(void)
{
	if (wake[0] >= 0)
		return wake[0];
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		wake[0] = wake[1] = -1;
		return -1;
	}
	wake_w = wake[1];
	return wake[0];
}

/* sig caught by on_signal, unless it was ignored when vigil started (a
 * background job of a script, nohup): that choice is the caller's. */
static int catch(int sig, struct sigaction *old)
{
	if (sigaction(sig, NULL, old) != 0)
		return -1;
	if (old->sa_handler == SIG_IGN)
		return 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* RESETHAND: the second signal kills; RESTART: the waiting thread's
	 * calls are not cut short by the first */
	sa.sa_flags = SA_RESETHAND | SA_RESTART;
	return sigaction(sig, &sa, NULL);
}

int interrupt_install(void)
{
	caught = 0;
	drain_wake();
	if (catch(SIGINT, &old_int) != 0)
		return -1;
	if (catch(SIGTERM, &old_term) != 0) {
		sigaction(SIGINT, &old_int, NULL);
		return -1;
	}
	installed = true;
	return 0;
}

void interrupt_uninstall(void)
{
	if (!installed)
		return;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	installed = false;
}

int interrupt_signal(void)
{
	return caught;
}

int interrupt_status(int sig)
{
	return 128 + sig;
}

const char *interrupt_describe(int sig, size_t n, char *buf, size_t len)
{
	snprintf(buf, len, "interrupted by %s after %zu message%s",
	         sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal",
	         n, n == 1 ? "" : "s");
	return buf;
}

struct call {
	void (*fn)(void *);
	void *arg;
};

static void *trampoline(void *p)
{
	struct call *c = p;
	c->fn(c->arg);
	return NULL;
}

void interrupt_run(void (*fn)(void *), void *arg)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	struct call c = { fn, arg };
	pthread_t t;
	/* the new thread inherits the mask with both signals blocked */
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(&t, NULL, trampoline, &c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fn(arg);
		return;
	}
	pthread_join(t, NULL);
}
