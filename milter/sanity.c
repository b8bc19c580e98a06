/* sanity.c — see sanity.h */
#include "sanity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "scan.h"

/* The GTUBE string as SpamAssassin and rspamd define it. */
static const char gtube[] =
	"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

enum check {
	CHK_GTUBE, CHK_MISSING_DATE, CHK_MISSING_MID, CHK_MISSING_FROM,
	CHK_MISSING_SUBJECT, CHK_DUP_SINGLETON, CHK_LONG_LINE, CHK_NUL_BYTE,
	CHK_TRUNCATED, CHK_MANY_HEADERS, CHK_COUNT
};

static const struct {
	const char *rule;   /* hit name */
	const char *option; /* score option in the sanity section */
	const char *desc;
} checks[CHK_COUNT] = {
	[CHK_GTUBE] = { "GTUBE", "gtube",
		"Generic Test for Unsolicited Bulk Email" },
	[CHK_MISSING_DATE] = { "MISSING_DATE", "missing_date",
		"Missing Date: header" },
	[CHK_MISSING_MID] = { "MISSING_MID", "missing_message_id",
		"Missing Message-Id: header" },
	[CHK_MISSING_FROM] = { "MISSING_FROM", "missing_from",
		"Missing From: header" },
	[CHK_MISSING_SUBJECT] = { "MISSING_SUBJECT", "missing_subject",
		"Missing Subject: header" },
	[CHK_DUP_SINGLETON] = { "VIGIL_DUP_SINGLETON", "duplicate_singleton", "A header allowed once (From, Date, Subject...) appears twice" },
	[CHK_LONG_LINE] = { "VIGIL_LONG_LINE", "long_line",
		"A body line is longer than 998 octets" },
	[CHK_NUL_BYTE] = { "VIGIL_NUL_BYTE", "nul_byte",
		"NUL byte in the body" },
	[CHK_TRUNCATED] = { "VIGIL_TRUNCATED", "truncated",
		"Message larger than max_message_size; only its head was scanned" },
	[CHK_MANY_HEADERS] = { "VIGIL_MANY_HEADERS", "many_headers",
		"Over 1000 header fields; past them only From, To, Subject... "
		"were parsed" },
};

static cfg_opt_t sanity_opts[] = {
	CFG_FLOAT("gtube", 1000, CFGF_NONE),
	CFG_FLOAT("missing_date", 1.4, CFGF_NONE),
	CFG_FLOAT("missing_message_id", 0.5, CFGF_NONE),
	CFG_FLOAT("missing_from", 1.0, CFGF_NONE),
	CFG_FLOAT("missing_subject", 1.8, CFGF_NONE),
	CFG_FLOAT("duplicate_singleton", 2.0, CFGF_NONE),
	CFG_FLOAT("long_line", 0.5, CFGF_NONE),
	CFG_FLOAT("nul_byte", 1.0, CFGF_NONE),
	CFG_FLOAT("truncated", 0, CFGF_NONE),
	CFG_FLOAT("many_headers", 2.5, CFGF_NONE),
	CFG_END()
};

struct sanity_state {
	struct scan_score score[CHK_COUNT];
};

static void *sanity_init(cfg_t *root, cfg_t *sec, char *err, size_t errlen)
{
	(void)root;
	struct sanity_state *st = calloc(1, sizeof *st);
	if (st == NULL) {
		snprintf(err, errlen, "sanity: out of memory");
		return NULL;
	}
	for (int i = 0; i < CHK_COUNT; i++)
		st->score[i] = stage_score(sec, checks[i].option);
	return st;
}

static void sanity_fini(void *state)
{
	free(state);
}

static size_t count_header(const struct scan *scan, const char *name)
{
	size_t n = 0, len = strlen(name);
	for (size_t i = 0; i < scan_header_count(scan); i++) {
		const char *hn, *hv;
		size_t hnl, hvl;
		scan_header_at(scan, i, &hn, &hnl, &hv, &hvl);
		if (hnl == len && strncasecmp(hn, name, len) == 0)
			n++;
	}
	return n;
}

static bool has_long_line(const char *body, size_t len)
{
	size_t start = 0;
	for (;;) {
		const char *nl = memchr(body + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - body) : len;
		size_t line = end - start;
		if (line > 0 && body[end - 1] == '\r')
			line--;
		if (line > 998)
			return true;
		if (nl == NULL)
			return false;
		start = end + 1;
	}
}

static void hit(struct scan *scan, const struct sanity_state *st,
                enum check c)
{
	/* a built-in score gives way to a rule file's (SpamAssassin's
	 * MISSING_DATE, say, when the rules stage loads its rules) */
	scan_hit_score(scan, checks[c].rule, st->score[c], checks[c].desc);
}

static enum stage_status sanity_run(const void *state, struct scan *scan)
{
	const struct sanity_state *st = state;
	size_t blen;
	const char *body = scan_body(scan, &blen);

	if (blen >= sizeof gtube - 1 && memmem(body, blen, gtube, sizeof gtube - 1))
		hit(scan, st, CHK_GTUBE);
	if (count_header(scan, "Date") == 0)
		hit(scan, st, CHK_MISSING_DATE);
	if (count_header(scan, "Message-ID") == 0)
		hit(scan, st, CHK_MISSING_MID);
	if (count_header(scan, "From") == 0)
		hit(scan, st, CHK_MISSING_FROM);
	if (count_header(scan, "Subject") == 0)
		hit(scan, st, CHK_MISSING_SUBJECT);
	static const char *const singletons[] = {
		"From", "Date", "Subject", "Sender", "To", "Message-ID", "Reply-To" };
	for (size_t i = 0; i < sizeof singletons / sizeof *singletons; i++) {
		if (count_header(scan, singletons[i]) > 1) {
			hit(scan, st, CHK_DUP_SINGLETON);
			break;
		}
	}
	if (has_long_line(body, blen))
		hit(scan, st, CHK_LONG_LINE);
	if (memchr(body, '\0', blen) != NULL)
		hit(scan, st, CHK_NUL_BYTE);
	if (scan_truncated(scan))
		hit(scan, st, CHK_TRUNCATED);
	/* the message model keeps MSG_DEFAULT_MAX_HEADERS fields (msg.h):
	 * junk fields must not hide the others from the verdict unseen */
	if (scan_header_count(scan) > MSG_DEFAULT_MAX_HEADERS)
		hit(scan, st, CHK_MANY_HEADERS);
	return STAGE_OK;
}

const struct stage_ops sanity_stage = {
	.name = "sanity",
	.conf_opts = sanity_opts,
	.init = sanity_init,
	.fini = sanity_fini,
	.check = NULL,
	.run = sanity_run,
};
