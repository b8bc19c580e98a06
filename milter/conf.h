/*
 * conf.h — vigild.conf: parsing (libconfuse), validation with FILE:LINE
 * errors, and the immutable, reference-counted configuration object the
 * daemon and the tool run with.
 *
 * conf_load() parses and validates a file, and builds the pipeline (every
 * stage's init) for it. Each file (the one given, every include()d one)
 * is read once, whole (up to 16 MiB), and the parser is given those
 * bytes: their SHA-256 is kept with the configuration (sha256,
 * include_sha256), so a report names what made it, even when the file
 * was a pipe (-c <(...)) or has changed since. The result never changes; a reload builds a new
 * one. Holders take a reference (conf_ref) for as long as they use it;
 * the last conf_unref frees it (stage states included).
 */
#ifndef VIGIL_CONF_H
#define VIGIL_CONF_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>

struct pipeline;

enum conf_action {
	CONF_ACT_ACCEPT = 0,  /* deliver (headers added) */
	CONF_ACT_ADD_HEADER,  /* deliver, flagged as spam */
	CONF_ACT_QUARANTINE,  /* MTA's hold/quarantine queue */
	CONF_ACT_TEMPFAIL,
	CONF_ACT_REJECT,
	CONF_ACT_DISCARD,
	CONF_ACT_COUNT
};

/* Thresholds and replies of one policy (the default, or one recipient
 * domain's override). A threshold that is off is +infinity. */
struct conf_policy {
	const char *domain;              /* NULL for the default policy */
	double threshold[CONF_ACT_COUNT];/* [ACCEPT] unused */
	const char *reject_reply;        /* "550 5.7.1 text" */
	const char *tempfail_reply;      /* "451 4.7.1 text" */
	const char *quarantine_reason;
};

/* Past message_timeout, vigild answers with the fail action after this
 * grace even if the scan has not returned (server.c); vigil scan and
 * explain give the fail action to a scan that returned later than that
 * (localscan_overran()), so that both give the same verdicts. */
#define CONF_DEADLINE_GRACE_MS 1000

struct conf {
	/* daemon */
	char **listen;           /* socket specs, listen_count of them */
	size_t listen_count;
	const char *socket_owner, *socket_group;
	unsigned socket_mode;
	const char *user, *group, *pidfile;
	unsigned io_threads, scan_workers;   /* 0 in the file = cores */
	unsigned max_connections;
	unsigned idle_timeout_s, message_timeout_s, shutdown_timeout_s;
	size_t max_packet, max_message_size;
	int log_facility;
	bool log_stderr, log_hash_addresses;
	const char *hostname;    /* authserv-id */
	char hostbuf[256];       /* hostname when taken from the system */
	enum conf_action fail_action;
	bool fail_header;
	/* verdict */
	struct conf_policy policy;           /* default */
	struct conf_policy *domains;         /* per recipient domain */
	size_t domain_count;
	/* stages */
	struct pipeline *pipeline;
	cfg_t *cfg;
	char *path;
	/* SHA-256 (hex) of the bytes the parser read: the file's, taken as
	 * it was loaded (one reading: a pipe such as -c <(...) or a file
	 * edited later has the digest of what made this configuration),
	 * or of the string given to conf_load_string() */
	char sha256[65];
	char **includes;         /* files include()d, in the order read */
	char (*include_sha256)[65];   /* each one's digest, the same way */
	size_t include_count;
	_Atomic int refs;	/* conf_ref/conf_unref only */
};

/* Load and validate path, build the pipeline. On error returns NULL and
 * writes every error found ("FILE:LINE: message", one per line) to err. */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* Same from a string (tests); name is used in messages. */
struct conf *conf_load_string(const char *text, const char *name, char *err,
                              size_t errlen);
/* For the tools: path when given, else the installed vigild.conf when
 * readable, else the built-in defaults. Errors go to err as above. */
struct conf *conf_load_tool(const char *path, char *err, size_t errlen);
/* As conf_load_tool(), validated alike, but no pipeline is built (no
 * stage's init runs; pipeline is NULL): for a tool that reads settings
 * only, such as vigil rules, which compiles the rules itself. */
struct conf *conf_load_settings(const char *path, char *err, size_t errlen);
cfg_t *conf_cfg(const struct conf *c);
/* Whether section sec declares an option name of type (cfg_getsec()
 * and cfg_getopt() print an error for one it does not). */
bool conf_declares(cfg_t *sec, const char *name, enum cfg_type_t type);
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

/* The policy for a recipient address (domain override or the default). */
const struct conf_policy *conf_policy_for(const struct conf *c,
                                          const char *rcpt);
const char *conf_action_name(enum conf_action a);
/* Parse "64M", "512k", "1G", "1000" into bytes; -1 on error. */
int conf_parse_size(const char *s, size_t *out);

/* Whether the rule files' required_score (rs) is not used because
 * actions{} sets add_header (a threshold other than the stock 5): the
 * note ("required_score 4 not used: ...") into msg, where the line is
 * in *file, *line. vigild and the tools log it at load; `vigil rules
 * check -c` prints it. */
struct ruleset;
bool conf_required_score_unused(const struct conf *c,
                                const struct ruleset *rs, char *msg,
                                size_t len, const char **file,
                                unsigned *line);

#endif
