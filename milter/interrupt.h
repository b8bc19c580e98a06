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
