/*
 * vigild — the vigil milter daemon. Parses the command line, loads the
 * configuration, opens the listeners, drops privileges and runs the
 * server until SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildid.h"
#include "config.h"
#include "conf.h"
#include "server.h"
#include "vlog.h"

#define DEFAULT_CONF SYSCONFDIR "/vigil/vigild.conf"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vigild [-c FILE] [-f] [-d] [-t] [-V] [-h]\n"
	        "  -c FILE  configuration file (default " DEFAULT_CONF ")\n"
	        "  -f       stay in the foreground and log to stderr too\n"
	        "  -d       debug logging\n"
	        "  -t       check the configuration and rules, then exit 0 (good)"
	        " or 1\n"
	        "  -V       print the version\n"
	        "  -h       this help\n");
}

static int drop_privileges(const char *user, const char *group)
{
	if ((user == NULL || !user[0]) && (group == NULL || !group[0]))
		return 0;
	gid_t gid = (gid_t)-1;
	uid_t uid = (uid_t)-1;
	struct passwd *pw = NULL;
	if (user && user[0]) {
		pw = getpwnam(user);
		if (pw == NULL) {
			vlog(LOG_ERR, "user: no such user \"%s\"", user);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group && group[0]) {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			vlog(LOG_ERR, "group: no such group \"%s\"", group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (pw != NULL && initgroups(pw->pw_name, gid) != 0) {
		vlog(LOG_ERR, "initgroups %s: %s", pw->pw_name, strerror(errno));
		return -1;
	}
	if (gid != (gid_t)-1 && setgid(gid) != 0) {
		vlog(LOG_ERR, "setgid %u: %s", (unsigned)gid, strerror(errno));
		return -1;
	}
	if (uid != (uid_t)-1 && setuid(uid) != 0) {
		vlog(LOG_ERR, "setuid %u: %s", (unsigned)uid, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_pidfile(const char *path)
{
	if (path == NULL || !path[0])
		return 0;
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		vlog(LOG_ERR, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		vlog(LOG_ERR, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

/* Load the configuration at path; check it (check), or serve. The exit
 * status. */
static int load_and_run(const char *path, bool foreground, bool check)
{
	char err[16384];
	struct conf *conf = conf_load(path, err, sizeof err);
	if (conf == NULL) {
		fprintf(stderr, "%s", err);
		if (check)
			fprintf(stderr, "%s: configuration has errors\n", path);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK\n", path);
		conf_unref(conf);
		return 0;
	}
	vlog_open("vigild", conf->log_facility, foreground || conf->log_stderr);
	err[0] = '\0';
	struct server *srv = server_new(conf, err, sizeof err);
	if (srv == NULL) {
		vlog(LOG_ERR, "%s", err);
		conf_unref(conf);
		return 1;
	}
	int rc = 1;
	if (drop_privileges(conf->user, conf->group) == 0 &&
	    (foreground || (daemonize() == 0 && server_forked(srv) == 0)) &&
	    write_pidfile(conf->pidfile) == 0)
		rc = server_run(srv) == 0 ? 0 : 1;
	if (conf->pidfile && conf->pidfile[0] && rc == 0)
		unlink(conf->pidfile);
	server_free(srv);
	conf_unref(conf);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONF;
	bool foreground = false, check = false, debug = false;
	int opt;
	while ((opt = getopt(argc, argv, "c:fdtVh")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'f': foreground = true; break;
		case 'd': debug = true; break;
		case 't': check = true; break;
		case 'V': printf("vigild %s\n", VIGIL_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	vlog_set_debug(debug);
	/* a daemon leaves its directory for "/": a relative path would not
	 * be found again by a reload (SIGHUP), nor its relative includes */
	char *abs = check || foreground ? NULL : realpath(path, NULL);
	int rc = load_and_run(abs ? abs : path, foreground, check);
	free(abs);
	return rc;
}
