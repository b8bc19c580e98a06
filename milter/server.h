/*
 * server.h — vigild's runtime: listeners, I/O threads (one libevent loop
 * each) carrying milter connections, the scan worker pool, signals.
 *
 * server_new() opens the listeners (before privileges are dropped);
 * server_run() starts the threads and blocks until SIGTERM/SIGINT, then
 * stops accepting, lets messages in flight finish (bounded by
 * shutdown_timeout), and returns 0. SIGHUP reloads the configuration from
 * its file: a bad file is refused and logged, the old one stays.
 */
#ifndef VIGIL_SERVER_H
#define VIGIL_SERVER_H

#include "conf.h"

struct server;

/* Takes a reference to c. */
struct server *server_new(struct conf *c, char *err, size_t errlen);
/* After a fork (daemonizing), before server_run: re-arm the loops. */
int server_forked(struct server *srv);
int server_run(struct server *srv);
void server_free(struct server *srv);

#endif
