/* listen.c — see listen.h */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int parse_port(const char *s, size_t len, uint16_t *port)
{
	if (len == 0 || len > 5)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int resolve(int family, const char *host, uint16_t port,
                   struct listen_addr *out, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = family,
	                          .ai_socktype = SOCK_STREAM,
	                          .ai_flags = AI_PASSIVE | AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	/* Literal addresses must work without any interface configured. */
	hints.ai_flags &= ~AI_ADDRCONFIG;
	int rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "cannot resolve host \"%s\": %s", host,
		         gai_strerror(rc));
		return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	out->family = res->ai_family;
	freeaddrinfo(res);
	return 0;
}

static int parse_unix(const char *path, struct listen_addr *out, char *err,
                      size_t errlen)
{
	size_t len = strlen(path);
	if (len == 0 || path[0] != '/' || len >= sizeof out->path) {
		snprintf(err, errlen, "unix socket path must be absolute and under "
		         "%zu bytes", sizeof out->path);
		return -1;
	}
	memcpy(out->path, path, len + 1);
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	out->family = AF_UNIX;
	return 0;
}

/* inet: "PORT@HOST", "HOST:PORT", "[HOST]:PORT" or "PORT". */
static int parse_inet(int family, const char *rest, struct listen_addr *out,
                      char *err, size_t errlen)
{
	char host[256] = "";
	uint16_t port;
	const char *at = strchr(rest, '@');
	const char *colon = strrchr(rest, ':');
	if (at != NULL) {
		if (parse_port(rest, (size_t)(at - rest), &port) != 0)
			goto bad;
		snprintf(host, sizeof host, "%s", at + 1);
	} else if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (close == NULL || close[1] != ':' ||
		    parse_port(close + 2, strlen(close + 2), &port) != 0)
			goto bad;
		snprintf(host, sizeof host, "%.*s", (int)(close - rest - 1), rest + 1);
	} else if (colon != NULL) {
		if (parse_port(colon + 1, strlen(colon + 1), &port) != 0)
			goto bad;
		snprintf(host, sizeof host, "%.*s", (int)(colon - rest), rest);
	} else if (parse_port(rest, strlen(rest), &port) != 0) {
		goto bad;
	}
	if (host[0] == '\0')
		snprintf(host, sizeof host, "%s", family == AF_INET6 ? "::" : "0.0.0.0");
	return resolve(family, host, port, out, err, errlen);
bad:
	snprintf(err, errlen, "expected PORT@HOST, HOST:PORT or PORT (port 1-65535)"
	         " after \"%s:\"", family == AF_INET6 ? "inet6" : "inet");
	return -1;
}

int listen_parse(const char *spec, struct listen_addr *out, char *err,
                 size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (strncmp(spec, "unix:", 5) == 0)
		return parse_unix(spec + 5, out, err, errlen);
	if (strncmp(spec, "local:", 6) == 0)
		return parse_unix(spec + 6, out, err, errlen);
	if (spec[0] == '/')
		return parse_unix(spec, out, err, errlen);
	if (strncmp(spec, "inet:", 5) == 0)
		return parse_inet(AF_INET, spec + 5, out, err, errlen);
	if (strncmp(spec, "inet6:", 6) == 0)
		return parse_inet(AF_INET6, spec + 6, out, err, errlen);
	snprintf(err, errlen, "unknown socket type in \"%s\" (expected unix:/path, "
	         "local:/path, inet:PORT@HOST, inet:HOST:PORT or inet6:PORT@HOST)",
	         spec);
	return -1;
}

/* A unix socket file exists: is anybody answering on it? */
static int unix_prepare(const struct listen_addr *a, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(a->path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", a->path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	int e = errno;
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s is in use by a running process", a->path);
		return -1;
	}
	if (e != ECONNREFUSED && e != ENOENT) {
		snprintf(err, errlen, "cannot probe %s: %s", a->path, strerror(e));
		return -1;
	}
	if (unlink(a->path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", a->path,
		         strerror(errno));
		return -1;
	}
	return 0;
}

static int unix_perms(const struct listen_addr *a, const char *owner,
                      const char *group, unsigned mode, char *err,
                      size_t errlen)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	if (owner && owner[0]) {
		struct passwd *pw = getpwnam(owner);
		if (pw == NULL) {
			snprintf(err, errlen, "socket_owner: no user \"%s\"", owner);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (group && group[0]) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			snprintf(err, errlen, "socket_group: no group \"%s\"", group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(a->path, uid, gid) != 0) {
		snprintf(err, errlen, "chown %s: %s", a->path, strerror(errno));
		return -1;
	}
	if (chmod(a->path, (mode_t)mode) != 0) {
		snprintf(err, errlen, "chmod %s: %s", a->path, strerror(errno));
		return -1;
	}
	return 0;
}

int listen_open(const struct listen_addr *a, const char *owner,
                const char *group, unsigned mode, char *err, size_t errlen)
{
	if (a->family == AF_UNIX && unix_prepare(a, err, errlen) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
		return -1;
	}
	int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	if (a->family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	char desc[160];
	listen_describe((const struct sockaddr *)&a->ss, a->len, desc, sizeof desc);
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0) {
		snprintf(err, errlen, "bind %s: %s", desc, strerror(errno));
		close(fd);
		return -1;
	}
	if (a->family == AF_UNIX &&
	    unix_perms(a, owner, group, mode, err, errlen) != 0) {
		close(fd);
		unlink(a->path);
		return -1;
	}
	if (listen(fd, 1024) != 0) {
		snprintf(err, errlen, "listen %s: %s", desc, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void listen_describe(const struct sockaddr *sa, socklen_t len, char *out,
                     size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		snprintf(out, outlen, "inet:%s:%u", host, ntohs(in->sin_port));
		return;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		snprintf(out, outlen, "inet6:[%s]:%u", host, ntohs(in6->sin6_port));
		return;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		size_t max = len > offsetof(struct sockaddr_un, sun_path) ?
		             len - offsetof(struct sockaddr_un, sun_path) : 0;
		snprintf(out, outlen, "unix:%.*s", (int)strnlen(un->sun_path, max),
		         un->sun_path);
		return;
	}
	default:
		snprintf(out, outlen, "unknown");
	}
}
