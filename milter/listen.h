/*
 * listen.h — milter socket specifications as operators write them for
 * other milters, and opening them.
 *
 * Accepted: unix:/path, local:/path, /path, inet:PORT@HOST (Sendmail),
 * inet:HOST:PORT (Postfix), inet:PORT (all IPv4 addresses),
 * inet6:PORT@HOST, inet6:[HOST]:PORT. HOST may be a name or an address.
 */
#ifndef VIGIL_LISTEN_H
#define VIGIL_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

struct listen_addr {
	int family;                  /* AF_UNIX, AF_INET, AF_INET6 */
	struct sockaddr_storage ss;
	socklen_t len;
	char path[108];              /* AF_UNIX */
};

/* Parse spec; resolves HOST. 0, or -1 with a message in err. */
int listen_parse(const char *spec, struct listen_addr *out, char *err,
                 size_t errlen);
/* A listening, non-blocking socket. A stale unix socket (nobody
 * answers) is replaced; a live one, or a non-socket file, is refused.
 * owner/group ("" = leave) and mode apply to unix sockets. */
int listen_open(const struct listen_addr *a, const char *owner,
                const char *group, unsigned mode, char *err, size_t errlen);
/* "unix:/path" or "inet:127.0.0.1:8891" style description of a peer or
 * listener address. */
void listen_describe(const struct sockaddr *sa, socklen_t len, char *out,
                     size_t outlen);

#endif
