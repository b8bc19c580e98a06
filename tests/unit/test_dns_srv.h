/*
 * test_dns_srv.h — start tests/integration/dnssrv.py for a unit test.
 *
 * dnssrv_start() runs Debian's /usr/bin/python3 with the server on a free
 * 127.0.0.1 port for one document of a zonedata YAML stream, waits for its
 * "listening" line and returns the port (0 on failure). The server exits
 * when dnssrv_stop() closes its stdin or kills it, and also if the test
 * dies (stdin EOF).
 *
 * Waits: a resolver of a test gets DNSSRV_WAITS (timeout and budget of its
 * `dns` section): an answer is waited for up to a minute, which only a
 * broken server reaches however loaded the machine is, so no test outcome
 * depends on how fast the server answers. A name the server never answers
 * (TIMEOUT in the zone data) is waited for DNSSRV_DEAD_MS through a short
 * budget or scan deadline: its outcome, a temporary failure, is the same
 * whatever that wait is.
 */
#ifndef TEST_DNS_SRV_H
#define TEST_DNS_SRV_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define DNSSRV_WAIT_MS 60000
#define DNSSRV_WAITS "timeout = 60000 budget = 60000"
#define DNSSRV_DEAD_MS 300

struct dnssrv {
	pid_t pid;
	int in_fd;
	unsigned port;
};

/* path relative to top_srcdir; sel is "--scenario"/"--test" or NULL */
static inline unsigned dnssrv_start(struct dnssrv *s, const char *path,
                                    const char *sel, const char *val)
{
	const char *top = getenv("top_srcdir");
	char script[4096], file[4096];
	int in[2], out[2];
	snprintf(script, sizeof script, "%s/tests/integration/dnssrv.py",
	         top ? top : ".");
	snprintf(file, sizeof file, "%s/%s", top ? top : ".", path);
	memset(s, 0, sizeof *s);
	if (pipe(in) != 0 || pipe(out) != 0)
		return 0;
	s->pid = fork();
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (sel != NULL)
			execl("/usr/bin/python3", "python3", script, file, sel, val,
			      "--stdin-eof", (char *)NULL);
		else
			execl("/usr/bin/python3", "python3", script, file,
			      "--stdin-eof", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->in_fd = in[1];
	FILE *f = fdopen(out[0], "r");
	char line[256];
	if (f != NULL && fgets(line, sizeof line, f) != NULL)
		sscanf(line, "dnssrv: listening on 127.0.0.1 %u", &s->port);
	if (f != NULL)
		fclose(f);
	return s->port;
}

/* Closes its stdin and sends SIGTERM; a server still there 5 s later is
 * killed, so that a stuck server cannot hang the test run. */
static inline void dnssrv_stop(struct dnssrv *s)
{
	if (s->pid <= 0)
		return;
	close(s->in_fd);
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

#endif
