/* conf.c — see conf.h */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dns.h"
#include "fileio.h"
#include "pfor.h"
#include "pipeline.h"
#include "rcache.h"
#include "rules.h"
#include "ruleset.h"
#include "vlog.h"

/* Collected error text of one load. libconfuse reports through a
 * callback without a user pointer, so the buffer is per-thread. */
struct errbuf {
	char *buf;
	size_t len, cap;
	unsigned count;
};
static _Thread_local struct errbuf *cur_err;
static _Thread_local const char *cur_path;	/* file being loaded */
/* the files include()d by the load in progress, for conf->includes */
static _Thread_local char **cur_includes;
static _Thread_local char (*cur_include_sha)[65];   /* as read, each */
static _Thread_local size_t cur_include_count;

/* A configuration file is read whole before it is parsed (its digest is
 * of what was parsed): bounded. */
#define CONF_MAX_FILE ((size_t)16 << 20)

static void free_includes(char **v, char (*sha)[65], size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(sha);
}

/* A relative name include()d by the file including: taken from that
 * file's directory, so that one configuration means the same from any
 * current directory (libconfuse takes it from the current one).
 * Tilde expanded, as libconfuse opens it; malloc'ed, NULL (memory). */
static char *include_path(const char *including, const char *name)
{
	char *expanded = cfg_tilde_expand(name);
	const char *slash = including ? strrchr(including, '/') : NULL;
	if (expanded == NULL || expanded[0] == '/' || slash == NULL)
		return expanded;
	char *p = NULL;
	if (asprintf(&p, "%.*s/%s", (int)(slash - including), including,
	             expanded) < 0)
		p = NULL;
	free(expanded);
	return p;
}

bool conf_declares(cfg_t *sec, const char *name, enum cfg_type_t type)
{
	if (sec == NULL || sec->opts == NULL)
		return false;
	for (const cfg_opt_t *o = sec->opts; o->name != NULL; o++)
		if (o->type == type && strcmp(o->name, name) == 0)
			return true;
	return false;
}

/* Of a value of a path option, the part that names a file: all of it,
 * or for a socket only what follows "unix:" or "local:" (NULL: no
 * file, an internet socket). */
static const char *path_part(const char *v, bool socket)
{
	if (!socket)
		return v;
	if (strncmp(v, "unix:", 5) == 0)
		return v + 5;
	if (strncmp(v, "local:", 6) == 0)
		return v + 6;
	return NULL;
}

/* Each relative value of the path option name of sec made relative to
 * the directory of the configuration file conf_path, as include()
 * names are, so that the file means the same from any current
 * directory: vigild's reloads after it moved to "/", vigil scan run
 * from elsewhere. "" and "off" (no file) are kept. 0, or -1 (memory). */
static int resolve_option(cfg_t *sec, const char *name, const char *conf_path,
                          bool socket)
{
	if (!conf_declares(sec, name, CFGT_STR))
		return 0;
	for (unsigned i = 0; i < cfg_size(sec, name); i++) {
		const char *v = cfg_getnstr(sec, name, i);
		const char *file = v ? path_part(v, socket) : NULL;
		if (file == NULL || file[0] == '\0' || file[0] == '/' ||
		    strcmp(file, "off") == 0)
			continue;
		char *abs = include_path(conf_path, file), *nv = NULL;
		if (abs == NULL || asprintf(&nv, "%.*s%s", (int)(file - v), v,
		                            abs) < 0)
			nv = NULL;
		free(abs);
		if (nv == NULL || cfg_setnstr(sec, name, nv, i) != CFG_SUCCESS) {
			free(nv);
			return -1;
		}
		free(nv);
	}
	return 0;
}

/* Every option that names a file, taken from the configuration file's
 * directory when relative (resolve_option()). */
static int resolve_paths(cfg_t *cfg, const char *conf_path)
{
	static const struct {
		const char *section, *name;
		bool socket;
	} paths[] = {
		{ NULL, "listen", true },     { NULL, "pidfile", false },
		{ NULL, "rules", false },     { NULL, "rules_cache", false },
		{ "dns", "trust_anchor", false },
		{ "dmarc", "public_suffix_list", false },
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		cfg_t *sec = cfg;
		if (paths[i].section != NULL)
			sec = conf_declares(cfg, paths[i].section, CFGT_SEC)
			          ? cfg_getsec(cfg, paths[i].section)
			          : NULL;
		if (sec != NULL &&
		    resolve_option(sec, paths[i].name, conf_path,
		                   paths[i].socket) != 0)
			return -1;
	}
	return 0;
}

/* The whole file at path (tilde expanded), NUL-terminated, its length
 * in *len and its digest in hex: what the parser will be given. NULL
 * with errno set (EFBIG: over CONF_MAX_FILE). */
static char *read_conf(const char *path, size_t *len, char hex[65])
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	int more = 0;
	char *buf = fileio_read_stream(f, CONF_MAX_FILE, len, &more);
	int saved = errno;
	fclose(f);
	if (buf != NULL && more) {
		free(buf);
		buf = NULL;
		saved = EFBIG;
	}
	if (buf != NULL && fileio_sha256_buf(buf, *len, hex) != 0) {
		free(buf);
		buf = NULL;
		saved = ENOMEM;
	}
	errno = saved;
	return buf;
}

/* Record an include()d file's name and digest for conf->includes. 0, or
 * -1 (memory). */
static int note_include(char *name, const char hex[65])
{
	size_t n = cur_include_count;
	char **v = realloc(cur_includes, (n + 1) * sizeof *v);
	if (v != NULL)
		cur_includes = v;
	char (*h)[65] = realloc(cur_include_sha, (n + 1) * sizeof *h);
	if (h != NULL)
		cur_include_sha = h;
	if (v == NULL || h == NULL)
		return -1;
	cur_includes[n] = name;
	memcpy(cur_include_sha[n], hex, 65);
	cur_include_count = n + 1;
	return 0;
}

/* libconfuse opens an include()d file by name itself: to have it parse
 * the bytes read and hashed here, they go to a memory file that it opens
 * as /proc/self/fd/N (a pipe or a file edited meanwhile cannot give it
 * other bytes). Then the file's own name goes back where libconfuse
 * keeps the current one, for error messages (FILE:LINE) and the
 * includes inside it. Without /proc, it opens the file itself. */
static int include_bytes(cfg_t *cfg, cfg_opt_t *opt, const char *name,
                         const char *buf, size_t len)
{
	char fdname[64] = "";
	int fd = memfd_create("vigil-conf", MFD_CLOEXEC);
	size_t done = 0;
	while (fd >= 0 && done < len) {
		ssize_t w = write(fd, buf + done, len - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (fd >= 0 && done == len)
		snprintf(fdname, sizeof fdname, "/proc/self/fd/%d", fd);
	const char *args[] = { fdname[0] && access(fdname, R_OK) == 0 ? fdname
	                                                             : name };
	int rc = cfg_include(cfg, opt, 1, args);
	if (fd >= 0)
		close(fd);   /* libconfuse has opened its own */
	char *own = rc == 0 && args[0] == fdname ? strdup(name) : NULL;
	if (own != NULL) {
		free(cfg->filename);   /* freed by libconfuse at its end */
		cfg->filename = own;
	}
	return rc;
}

/* include("file"): libconfuse's, from the including file's directory,
 * the file's name and the digest of the bytes parsed kept, since they
 * are part of the configuration. */
static int include_noted(cfg_t *cfg, cfg_opt_t *opt, int argc,
                         const char **argv)
{
	if (argc != 1 || argv[0] == NULL)
		return cfg_include(cfg, opt, argc, argv);
	char *name = include_path(cfg->filename, argv[0]);
	if (name == NULL) {
		cfg_error(cfg, "out of memory");
		return 1;
	}
	char hex[65];
	size_t len;
	char *buf = read_conf(name, &len, hex);
	if (buf == NULL) {
		cfg_error(cfg, "%s: %s", name, errno == EFBIG ?
		          "larger than 16 MiB" : strerror(errno));
		free(name);
		return 1;
	}
	if (note_include(name, hex) != 0) {
		free(name);
		free(buf);
		cfg_error(cfg, "out of memory");
		return 1;
	}
	int rc = include_bytes(cfg, opt, name, buf, len);
	free(buf);
	return rc;
}

static void err_addv(struct errbuf *e, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void err_addv(struct errbuf *e, const char *fmt, va_list ap)
{
	if (e == NULL || e->len + 1 >= e->cap)
		return;
	int n = vsnprintf(e->buf + e->len, e->cap - e->len, fmt, ap);
	if (n < 0)
		return;
	e->len += (size_t)n;
	if (e->len >= e->cap - 1)
		e->len = e->cap - 1;
	else {
		e->buf[e->len++] = '\n';
		e->buf[e->len] = '\0';
	}
	e->count++;
}

static void err_add(struct errbuf *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void err_add(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_addv(e, fmt, ap);
	va_end(ap);
}

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* Sections and parsed strings carry no usable name: use the one of
	 * the load (included files carry their own). */
	const char *file = cfg && cfg->filename &&
	                   strcmp(cfg->filename, "[buf]") != 0 ?
	                   cfg->filename : cur_path;
	int line = cfg ? cfg->line : 0;
	if (line > 0)
		err_add(cur_err, "%s:%d: %s", file, line, msg);
	else
		err_add(cur_err, "%s: %s", file, msg);
}

/* ---- value syntax ---- */

int conf_parse_size(const char *s, size_t *out)
{
	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	unsigned long long mult = 1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > (unsigned long long)SIZE_MAX / mult)
		return -1;
	*out = (size_t)(v * mult);
	return 0;
}

/* A threshold: a number, or "off". */
static int parse_threshold(const char *s, double *out)
{
	if (strcasecmp(s, "off") == 0 || strcasecmp(s, "none") == 0) {
		*out = INFINITY;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* "550 5.7.1 text": a 4xx/5xx code, optional matching X.Y.Z, text. */
static int check_reply(const char *s, char cls)
{
	if (strlen(s) < 3 || s[0] != cls || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || (s[3] != '\0' && s[3] != ' '))
		return -1;
	if (s[3] == ' ' && isdigit((unsigned char)s[4]) && s[5] == '.' &&
	    s[4] != cls)
		return -1;
	return 0;
}

static const char *const threshold_keys[CONF_ACT_COUNT] = {
	[CONF_ACT_ADD_HEADER] = "add_header",
	[CONF_ACT_QUARANTINE] = "quarantine",
	[CONF_ACT_TEMPFAIL] = "tempfail",
	[CONF_ACT_REJECT] = "reject",
	[CONF_ACT_DISCARD] = "discard",
};

static int validate_threshold(cfg_t *cfg, cfg_opt_t *opt)
{
	double v;
	const char *s = cfg_opt_getnstr(opt, 0);
	if (s != NULL && parse_threshold(s, &v) != 0) {
		cfg_error(cfg, "%s: expected a score or \"off\", got \"%s\"",
		          opt->name, s);
		return -1;
	}
	return 0;
}

static int validate_size(cfg_t *cfg, cfg_opt_t *opt)
{
	size_t v;
	const char *s = cfg_opt_getnstr(opt, 0);
	if (s != NULL && (conf_parse_size(s, &v) != 0 || v == 0)) {
		cfg_error(cfg, "%s: expected a size such as 1048576, 512k, 64M, "
		          "got \"%s\"", opt->name, s);
		return -1;
	}
	return 0;
}

static int validate_reply(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);
	char cls = strstr(opt->name, "tempfail") ? '4' : '5';
	if (s != NULL && check_reply(s, cls) != 0) {
		cfg_error(cfg, "%s: expected \"%cNN X.Y.Z text\" (code and "
		          "enhanced status of class %c), got \"%s\"",
		          opt->name, cls, cls, s);
		return -1;
	}
	return 0;
}

static int validate_nonneg(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);
	if (v < 0 || v > 1000000) {
		cfg_error(cfg, "%s: expected a number from 0 to 1000000, got %ld",
		          opt->name, v);
		return -1;
	}
	return 0;
}

static int validate_positive(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);
	if (v < 1 || v > 1000000) {
		cfg_error(cfg, "%s: expected a number from 1 to 1000000, got %ld",
		          opt->name, v);
		return -1;
	}
	return 0;
}

static int validate_mode(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);
	char *end;
	unsigned long v = strtoul(s, &end, 8);
	if (*s == '\0' || *end != '\0' || v > 07777) {
		cfg_error(cfg, "%s: expected an octal mode such as 0660, got \"%s\"",
		          opt->name, s);
		return -1;
	}
	return 0;
}

static int validate_fail_action(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);
	if (strcmp(s, "accept") && strcmp(s, "tempfail") && strcmp(s, "reject")) {
		cfg_error(cfg, "%s: expected accept, tempfail or reject, got \"%s\"",
		          opt->name, s);
		return -1;
	}
	return 0;
}

static int validate_stages(cfg_t *cfg, cfg_opt_t *opt)
{
	for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
		const char *name = cfg_opt_getnstr(opt, i);
		if (!pipeline_has_stage(name)) {
			char known[256] = "";
			size_t len = 0;
			for (size_t k = 0; k < pipeline_stage_count() &&
			     len < sizeof known; k++)
				len += (size_t)snprintf(known + len, sizeof known - len, " %s",
				                        pipeline_stage(k)->name);
			cfg_error(cfg, "stages: unknown stage \"%s\" (known:%s)", name,
			          known);
			return -1;
		}
	}
	return 0;
}

static int validate_score_set(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);
	if (v < 0 || v > 3) {
		cfg_error(cfg, "%s: expected a SpamAssassin score set from 0 to 3, "
		          "got %ld", opt->name, v);
		return -1;
	}
	return 0;
}

static int validate_facility(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);
	if (vlog_facility(s) < 0) {
		cfg_error(cfg, "%s: unknown syslog facility \"%s\" (mail, daemon, "
		          "local0..local7)", opt->name, s);
		return -1;
	}
	return 0;
}

/* ---- option tables ---- */

#define POLICY_OPTS(add, quar, rej) \
	CFG_STR("add_header", add, CFGF_NONE), \
	CFG_STR("quarantine", quar, CFGF_NONE), \
	CFG_STR("tempfail", "off", CFGF_NONE), \
	CFG_STR("reject", rej, CFGF_NONE), \
	CFG_STR("discard", "off", CFGF_NONE), \
	CFG_STR("reject_reply", "550 5.7.1 Message rejected as spam", CFGF_NONE), \
	CFG_STR("tempfail_reply", "451 4.7.1 Message deferred, try again later", \
	        CFGF_NONE), \
	CFG_STR("quarantine_reason", "vigil: message held as spam", CFGF_NONE)

static cfg_opt_t actions_opts[] = {
	POLICY_OPTS("5", "off", "15"),
	CFG_END()
};

/* Per-domain sections inherit unset values from actions{}: their
 * defaults are empty and filled in at build time. */
static cfg_opt_t domain_opts[] = {
	CFG_STR("add_header", NULL, CFGF_NODEFAULT),
	CFG_STR("quarantine", NULL, CFGF_NODEFAULT),
	CFG_STR("tempfail", NULL, CFGF_NODEFAULT),
	CFG_STR("reject", NULL, CFGF_NODEFAULT),
	CFG_STR("discard", NULL, CFGF_NODEFAULT),
	CFG_STR("reject_reply", NULL, CFGF_NODEFAULT),
	CFG_STR("tempfail_reply", NULL, CFGF_NODEFAULT),
	CFG_STR("quarantine_reason", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t base_opts[] = {
	CFG_STR_LIST("listen", "{inet:8891@127.0.0.1}", CFGF_NONE),
	/* the default list is filled in from the built-in stages */
	CFG_STR_LIST("stages", "{}", CFGF_NONE),
	CFG_STR("socket_owner", "", CFGF_NONE),
	CFG_STR("socket_group", "", CFGF_NONE),
	CFG_STR("socket_mode", "0660", CFGF_NONE),
	CFG_STR("user", "", CFGF_NONE),
	CFG_STR("group", "", CFGF_NONE),
	CFG_STR("pidfile", "", CFGF_NONE),
	CFG_INT("io_threads", 0, CFGF_NONE),
	CFG_INT("scan_workers", 0, CFGF_NONE),
	CFG_INT("max_connections", 1024, CFGF_NONE),
	CFG_INT("idle_timeout", 600, CFGF_NONE),
	CFG_INT("message_timeout", 30, CFGF_NONE),
	CFG_INT("shutdown_timeout", 30, CFGF_NONE),
	CFG_STR("max_packet", "64M", CFGF_NONE),
	CFG_STR("max_message_size", "32M", CFGF_NONE),
	CFG_STR("log_facility", "mail", CFGF_NONE),
	CFG_BOOL("log_stderr", cfg_false, CFGF_NONE),
	CFG_BOOL("log_hash_addresses", cfg_false, CFGF_NONE),
	CFG_STR("hostname", "", CFGF_NONE),
	CFG_STR("fail_action", "accept", CFGF_NONE),
	CFG_BOOL("fail_header", cfg_true, CFGF_NONE),
	CFG_SEC("actions", actions_opts, CFGF_NONE),
	CFG_SEC("dns", dns_conf_opts, CFGF_NONE),
	CFG_SEC("domain", domain_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	/* rule engine (rules.c): rule files and directories, in order */
	CFG_STR_LIST("rules", "{\"" RULES_PATH_STOCK "\", \"" RULES_PATH_OWN
	             "\", \"" RULES_PATH_LOCAL "\"}", CFGF_NONE),
	CFG_INT("score_set", 0, CFGF_NONE),
	CFG_STR("rules_cache", "", CFGF_NONE),
	CFG_INT("rule_match_limit", 100000, CFGF_NONE),
	CFG_INT("rule_depth_limit", 5000, CFGF_NONE),
	CFG_FUNC("include", include_noted),
};

#define BASE_COUNT (sizeof base_opts / sizeof base_opts[0])

/* Root options: the base ones, then one section per stage that has
 * options. Built once; libconfuse copies it in cfg_init. */
static cfg_opt_t *root_opts(void)
{
	static cfg_opt_t *opts;
	static _Atomic int built;
	if (built)
		return opts;
	size_t n = pipeline_stage_count();
	cfg_opt_t *o = calloc(BASE_COUNT + n + 1, sizeof *o);
	if (o == NULL)
		return NULL;
	memcpy(o, base_opts, sizeof base_opts);
	size_t k = BASE_COUNT;
	for (size_t i = 0; i < n; i++) {
		const struct stage_ops *st = pipeline_stage(i);
		if (st->conf_opts == NULL)
			continue;
		cfg_opt_t sec = CFG_SEC(st->name, st->conf_opts, CFGF_NONE);
		o[k++] = sec;
	}
	cfg_opt_t end = CFG_END();
	o[k] = end;
	/* stages defaults to every built-in stage, in order. */
	static char all_stages[512];
	size_t len = 0;
	len += (size_t)snprintf(all_stages, sizeof all_stages, "{");
	for (size_t i = 0; i < n && len < sizeof all_stages; i++)
		len += (size_t)snprintf(all_stages + len, sizeof all_stages - len,
		                        "%s%s", i ? "," : "", pipeline_stage(i)->name);
	if (len < sizeof all_stages)
		snprintf(all_stages + len, sizeof all_stages - len, "}");
	for (size_t i = 0; i < k; i++)
		if (strcmp(o[i].name, "stages") == 0)
			o[i].def.parsed = all_stages;
	opts = o;
	built = 1;
	return opts;
}

static void set_validators(cfg_t *cfg)
{
	static const char *const sizes[] = { "max_packet", "max_message_size" };
	static const char *const replies[] = { "reject_reply", "tempfail_reply" };
	static const char *const nonneg[] = { "io_threads", "scan_workers" };
	static const char *const positive[] = {
		"max_connections", "idle_timeout", "message_timeout",
		"shutdown_timeout", "rule_match_limit", "rule_depth_limit" };
	char path[64];
	for (size_t i = 0; i < 2; i++)
		cfg_set_validate_func(cfg, sizes[i], validate_size);
	for (size_t i = 0; i < 2; i++)
		cfg_set_validate_func(cfg, nonneg[i], validate_nonneg);
	for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++)
		cfg_set_validate_func(cfg, positive[i], validate_positive);
	cfg_set_validate_func(cfg, "score_set", validate_score_set);
	cfg_set_validate_func(cfg, "socket_mode", validate_mode);
	cfg_set_validate_func(cfg, "fail_action", validate_fail_action);
	cfg_set_validate_func(cfg, "log_facility", validate_facility);
	cfg_set_validate_func(cfg, "stages", validate_stages);
	static const char *const secs[] = { "actions", "domain" };
	for (size_t s = 0; s < 2; s++) {
		for (int a = CONF_ACT_ADD_HEADER; a < CONF_ACT_COUNT; a++) {
			snprintf(path, sizeof path, "%s|%s", secs[s], threshold_keys[a]);
			cfg_set_validate_func(cfg, path, validate_threshold);
		}
		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof path, "%s|%s", secs[s], replies[i]);
			cfg_set_validate_func(cfg, path, validate_reply);
		}
	}
}

/* ---- building the conf object ---- */

static const char *opt_str(cfg_t *sec, const char *name, const char *dflt)
{
	if (sec != NULL && cfg_size(sec, name) > 0) {
		const char *s = cfg_getstr(sec, name);
		if (s != NULL)
			return s;
	}
	return dflt;
}

static void fill_policy(struct conf_policy *p, cfg_t *sec,
                        const struct conf_policy *dflt)
{
	for (int a = CONF_ACT_ADD_HEADER; a < CONF_ACT_COUNT; a++) {
		const char *s = opt_str(sec, threshold_keys[a], NULL);
		double v;
		if (s != NULL && parse_threshold(s, &v) == 0)
			p->threshold[a] = v;
		else
			p->threshold[a] = dflt ? dflt->threshold[a] : INFINITY;
	}
	p->threshold[CONF_ACT_ACCEPT] = -INFINITY;
	p->reject_reply = opt_str(sec, "reject_reply",
	                          dflt ? dflt->reject_reply : NULL);
	p->tempfail_reply = opt_str(sec, "tempfail_reply",
	                            dflt ? dflt->tempfail_reply : NULL);
	p->quarantine_reason = opt_str(sec, "quarantine_reason",
	                               dflt ? dflt->quarantine_reason : NULL);
}

/* Whether actions{} sets add_header itself. */
static bool add_header_given(cfg_t *cfg)
{
	cfg_opt_t *o = cfg_getopt(cfg_getsec(cfg, "actions"), "add_header");
	return o != NULL && (o->flags & CFGF_MODIFIED);
}

bool conf_required_score_unused(const struct conf *c,
                                const struct ruleset *rs, char *msg,
                                size_t len, const char **file,
                                unsigned *line)
{
	double v, t = c->policy.threshold[CONF_ACT_ADD_HEADER];
	/* 5 is the stock rules' own (10_default_prefs.cf): no news */
	if (!ruleset_required_score(rs, &v, file, line) || v == t ||
	    v == 5.0 || c->cfg == NULL || !add_header_given(c->cfg))
		return false;
	if (*file == NULL)
		*file = "?";
	char ts[32];
	if (isinf(t))
		snprintf(ts, sizeof ts, "\"off\"");
	else
		snprintf(ts, sizeof ts, "%g", t);
	snprintf(msg, len, "required_score %g not used: actions { add_header "
	         "= %s } in %s decides", v, ts,
	         c->path ? c->path : "the configuration");
	return true;
}

/* SpamAssassin's required_score in the rule files (a site's local.cf)
 * is add_header's threshold where vigild.conf sets none: in actions{}
 * unless it sets add_header, and in each domain section that does not
 * (audit20 H1: a site at 4.0 was flagged at 5 without a word). Where
 * actions{} sets one too, vigild.conf decides, and the log says so
 * unless the files say 5, the stock rules' (10_default_prefs.cf). */
static void apply_required_score(struct conf *c, cfg_t *cfg)
{
	const struct rules *r =
		rules_stage_rules(pipeline_stage_state(c->pipeline, "rules"));
	double v;
	const char *file;
	unsigned line;
	if (r == NULL ||
	    !ruleset_required_score(rules_ruleset(r), &v, &file, &line))
		return;
	char note[512];
	if (conf_required_score_unused(c, rules_ruleset(r), note, sizeof note,
	                               &file, &line))
		vlog(LOG_WARNING, "rules: %s:%u: %s", file, line, note);
	if (add_header_given(cfg))
		return;
	double *t = &c->policy.threshold[CONF_ACT_ADD_HEADER];
	*t = v;
	for (size_t i = 0; i < c->domain_count; i++)
		if (opt_str(cfg_getnsec(cfg, "domain", (unsigned)i), "add_header",
		            NULL) == NULL)
			c->domains[i].threshold[CONF_ACT_ADD_HEADER] = v;
}

/* What load() makes: vigild's configuration, a tool's (the user's
 * compile cache by default), or a tool's settings alone (no pipeline). */
enum load_kind { LOAD_DAEMON, LOAD_TOOL, LOAD_SETTINGS };

static int build(struct conf *c, cfg_t *cfg, enum load_kind kind,
                 struct errbuf *e)
{
	c->cfg = cfg;
	c->listen_count = cfg_size(cfg, "listen");
	if (c->listen_count == 0) {
		err_add(e, "%s: listen: at least one socket is needed", c->path);
		return -1;
	}
	c->listen = calloc(c->listen_count, sizeof *c->listen);
	if (c->listen == NULL)
		return -1;
	for (size_t i = 0; i < c->listen_count; i++)
		c->listen[i] = cfg_getnstr(cfg, "listen", (unsigned)i);
	c->socket_owner = cfg_getstr(cfg, "socket_owner");
	c->socket_group = cfg_getstr(cfg, "socket_group");
	c->socket_mode = (unsigned)strtoul(cfg_getstr(cfg, "socket_mode"), NULL, 8);
	c->user = cfg_getstr(cfg, "user");
	c->group = cfg_getstr(cfg, "group");
	c->pidfile = cfg_getstr(cfg, "pidfile");
	c->io_threads = (unsigned)cfg_getint(cfg, "io_threads");
	if (c->io_threads == 0)
		c->io_threads = pfor_cpus();
	c->scan_workers = (unsigned)cfg_getint(cfg, "scan_workers");
	if (c->scan_workers == 0)
		c->scan_workers = pfor_cpus();
	c->max_connections = (unsigned)cfg_getint(cfg, "max_connections");
	c->idle_timeout_s = (unsigned)cfg_getint(cfg, "idle_timeout");
	c->message_timeout_s = (unsigned)cfg_getint(cfg, "message_timeout");
	c->shutdown_timeout_s = (unsigned)cfg_getint(cfg, "shutdown_timeout");
	conf_parse_size(cfg_getstr(cfg, "max_packet"), &c->max_packet);
	conf_parse_size(cfg_getstr(cfg, "max_message_size"), &c->max_message_size);
	c->log_facility = vlog_facility(cfg_getstr(cfg, "log_facility"));
	c->log_stderr = cfg_getbool(cfg, "log_stderr");
	c->log_hash_addresses = cfg_getbool(cfg, "log_hash_addresses");
	c->hostname = cfg_getstr(cfg, "hostname");
	if (c->hostname == NULL || c->hostname[0] == '\0') {
		if (gethostname(c->hostbuf, sizeof c->hostbuf - 1) != 0)
			snprintf(c->hostbuf, sizeof c->hostbuf, "localhost");
		c->hostname = c->hostbuf;
	}
	const char *fa = cfg_getstr(cfg, "fail_action");
	c->fail_action = strcmp(fa, "reject") == 0 ? CONF_ACT_REJECT :
	                 strcmp(fa, "tempfail") == 0 ? CONF_ACT_TEMPFAIL :
	                 CONF_ACT_ACCEPT;
	c->fail_header = cfg_getbool(cfg, "fail_header");

	fill_policy(&c->policy, cfg_getsec(cfg, "actions"), NULL);
	c->domain_count = cfg_size(cfg, "domain");
	if (c->domain_count > 0) {
		c->domains = calloc(c->domain_count, sizeof *c->domains);
		if (c->domains == NULL)
			return -1;
	}
	for (size_t i = 0; i < c->domain_count; i++) {
		cfg_t *d = cfg_getnsec(cfg, "domain", (unsigned)i);
		c->domains[i].domain = cfg_title(d);
		fill_policy(&c->domains[i], d, &c->policy);
	}

	if (kind == LOAD_SETTINGS)
		return 0;
	char perr[1024] = "";
	c->pipeline = pipeline_new(cfg, perr, sizeof perr);
	if (c->pipeline == NULL) {
		err_add(e, "%s", perr[0] ? perr : "pipeline set-up failed");
		return -1;
	}
	apply_required_score(c, cfg);
	return 0;
}

/* The tools keep the rule engine's compile cache in the user's cache
 * directory unless the file says where (or "off"); vigild only where
 * the file says. */
static void tool_defaults(cfg_t *cfg)
{
	char dir[4096];
	const char *rc = cfg_getstr(cfg, "rules_cache");
	if (rc != NULL && rc[0] != '\0')
		return;
	const char *user = rcache_user_dir(dir, sizeof dir);
	cfg_setstr(cfg, "rules_cache", user ? user : "off");
}

/* Parse the file at path from one reading of it, its digest into hex.
 * A libconfuse status; CFG_FILE_ERROR reported. */
static int parse_file(cfg_t *cfg, const char *path, char hex[65],
                      struct errbuf *e)
{
	char *name = cfg_tilde_expand(path);
	size_t len = 0;
	char *buf = name ? read_conf(name, &len, hex) : NULL;
	FILE *fp = buf ? fmemopen(buf, len, "r") : NULL;
	if (fp == NULL) {
		err_add(e, "%s: cannot read: %s", path, errno == EFBIG ?
		        "larger than 16 MiB" : strerror(errno));
		free(name);
		free(buf);
		return CFG_FILE_ERROR;
	}
	free(cfg->filename);   /* the name in messages, as cfg_parse() sets */
	cfg->filename = name;
	int rc = cfg_parse_fp(cfg, fp);
	fclose(fp);
	free(buf);
	return rc;
}

static struct conf *load(const char *path, const char *text,
                         enum load_kind kind, char *err, size_t errlen)
{
	struct errbuf e = { .buf = err, .len = 0, .cap = errlen, .count = 0 };
	if (errlen > 0)
		err[0] = '\0';
	cfg_opt_t *opts = root_opts();
	if (opts == NULL) {
		err_add(&e, "out of memory");
		return NULL;
	}
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);
	if (cfg == NULL) {
		err_add(&e, "out of memory");
		return NULL;
	}
	struct errbuf *saved = cur_err;
	const char *saved_path = cur_path;
	char **saved_includes = cur_includes;
	char (*saved_include_sha)[65] = cur_include_sha;
	size_t saved_include_count = cur_include_count;
	cur_err = &e;
	cur_path = path;
	cur_includes = NULL;
	cur_include_sha = NULL;
	cur_include_count = 0;
	cfg_set_error_function(cfg, confuse_error);
	set_validators(cfg);
	int rc;
	char hex[65] = "";
	if (text != NULL) {
		rc = cfg_parse_buf(cfg, text);
		fileio_sha256_buf(text, strlen(text), hex);
	} else {
		rc = parse_file(cfg, path, hex, &e);
	}
	struct conf *c = NULL;
	if (rc == CFG_SUCCESS && resolve_paths(cfg, path) != 0) {
		err_add(&e, "%s: out of memory", path);
		rc = CFG_PARSE_ERROR;
	}
	if (rc == CFG_SUCCESS && kind != LOAD_DAEMON)
		tool_defaults(cfg);
	if (rc == CFG_SUCCESS && (c = calloc(1, sizeof *c)) != NULL) {
		c->refs = 1;
		c->includes = cur_includes;
		c->include_sha256 = cur_include_sha;
		c->include_count = cur_include_count;
		cur_includes = NULL;
		cur_include_sha = NULL;
		cur_include_count = 0;
		memcpy(c->sha256, hex, sizeof c->sha256);
		c->path = strdup(path);
		if (c->path == NULL || build(c, cfg, kind, &e) != 0) {
			if (e.count == 0)
				err_add(&e, "%s: out of memory", path);
			conf_unref(c);
			c = NULL;
			cfg = NULL;	/* freed by conf_unref */
		}
	} else if (rc == CFG_SUCCESS) {
		err_add(&e, "%s: out of memory", path);
	}
	if (c == NULL && cfg != NULL)
		cfg_free(cfg);
	free_includes(cur_includes, cur_include_sha, cur_include_count);
	cur_err = saved;
	cur_path = saved_path;
	cur_includes = saved_includes;
	cur_include_sha = saved_include_sha;
	cur_include_count = saved_include_count;
	return c;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
	return load(path, NULL, LOAD_DAEMON, err, errlen);
}

struct conf *conf_load_string(const char *text, const char *name, char *err,
                              size_t errlen)
{
	return load(name, text, LOAD_DAEMON, err, errlen);
}

static struct conf *load_tool(const char *path, enum load_kind kind,
                              char *err, size_t errlen)
{
	static const char installed[] = SYSCONFDIR "/vigil/vigild.conf";
	if (path == NULL && access(installed, R_OK) != 0)
		return load("(built-in defaults)", "", kind, err, errlen);
	return load(path ? path : installed, NULL, kind, err, errlen);
}

struct conf *conf_load_tool(const char *path, char *err, size_t errlen)
{
	return load_tool(path, LOAD_TOOL, err, errlen);
}

struct conf *conf_load_settings(const char *path, char *err, size_t errlen)
{
	return load_tool(path, LOAD_SETTINGS, err, errlen);
}

cfg_t *conf_cfg(const struct conf *c)
{
	return c->cfg;
}

struct conf *conf_ref(struct conf *c)
{
	c->refs++;
	return c;
}

void conf_unref(struct conf *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	if (c->pipeline)
		pipeline_free(c->pipeline);
	free(c->domains);
	free(c->listen);
	if (c->cfg)
		cfg_free(c->cfg);
	free(c->path);
	free_includes(c->includes, c->include_sha256, c->include_count);
	free(c);
}

/* Domain of an address, or of a bare domain; "" if none. */
static const char *addr_domain(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	return at ? at + 1 : rcpt;
}

const struct conf_policy *conf_policy_for(const struct conf *c,
                                          const char *rcpt)
{
	const char *dom = addr_domain(rcpt);
	size_t dlen = strlen(dom);
	while (dlen > 0 && dom[dlen - 1] == '>')
		dlen--;
	/* Exact domain first, then ".parent" entries for sub-domains. */
	for (size_t i = 0; i < c->domain_count; i++) {
		const char *d = c->domains[i].domain;
		if (d[0] != '.' && strlen(d) == dlen && strncasecmp(d, dom, dlen) == 0)
			return &c->domains[i];
	}
	for (size_t i = 0; i < c->domain_count; i++) {
		const char *d = c->domains[i].domain;
		size_t l = strlen(d);
		if (d[0] == '.' && l <= dlen &&
		    strncasecmp(dom + dlen - l, d, l) == 0)
			return &c->domains[i];
	}
	return &c->policy;
}

const char *conf_action_name(enum conf_action a)
{
	static const char *const names[CONF_ACT_COUNT] = {
		"accept", "add_header", "quarantine", "tempfail", "reject",
		"discard" };
	return (unsigned)a < CONF_ACT_COUNT ? names[a] : "unknown";
}
