/*
 * interrupt.h — a long vigil run stopped cleanly by SIGINT or SIGTERM.
 *
 * The first signal only sets a flag (the handler does nothing else): the
 * run stops taking new work, finishes what is in flight, and reports
 * itself as interrupted. The handler is installed with SA_RESETHAND, so
 * a second signal takes the default action and ends the process at once.
 * A signal ignored when vigil started (a background job of a script,
 * nohup) stays ignored.
 *
 * A thread that waits for input (a pipe, a FIFO, a terminal) waits in
 * poll() for it and for interrupt_wake_fd(), which the handler makes
 * readable: the first signal ends that wait too.
 *
 * interrupt_run() runs the scanning in a thread of its own with the two
 * signals blocked, so that its threads (which inherit that mask) never
 * see a system call cut short by EINTR (a DNS wait, a milter's socket):
 * only the calling thread, which just waits, takes the signal.
 */
#ifndef VIGIL_INTERRUPT_H
#define VIGIL_INTERRUPT_H

#include <stddef.h>

/* Catch SIGINT and SIGTERM from now on. 0, or -1 (errno set). */
int interrupt_install(void);
/* The previous actions back (e.g. for tests). */
void interrupt_uninstall(void);
/* A descriptor that turns readable when the signal comes, so that a
 * thread waiting for input in poll() can stop (corpus_stop_when());
 * the same one for the whole process, never to be read or closed by
 * the caller. -1 when no pipe can be made. Made on the first call, which
 * belongs before interrupt_install() and the threads. */
int interrupt_wake_fd(void);
/* The signal received since interrupt_install(), or 0. */
int interrupt_signal(void);
/* The exit status of a run stopped by sig: 128 + sig, as a shell says. */
int interrupt_status(int sig);
/* "interrupted by SIGINT after n messages" into buf; returns buf. */
const char *interrupt_describe(int sig, size_t n, char *buf, size_t len);
/* fn(arg) in a thread whose threads do not take SIGINT/SIGTERM; the
 * caller waits for it. When no thread can be started, fn runs here. */
void interrupt_run(void (*fn)(void *), void *arg);

#endif
