/* verdict.c — see verdict.h */
#include "verdict.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "scan.h"
#include "strbuf.h"

/* Severity order used to pick among actions: higher wins for one
 * policy; across recipients the most lenient one is taken unless the
 * others can be dropped. */
static const enum conf_action by_severity[] = {
	CONF_ACT_DISCARD, CONF_ACT_REJECT, CONF_ACT_TEMPFAIL,
	CONF_ACT_QUARANTINE, CONF_ACT_ADD_HEADER,
};

static int severity(enum conf_action a)
{
	static const int rank[CONF_ACT_COUNT] = {
		[CONF_ACT_ACCEPT] = 0, [CONF_ACT_ADD_HEADER] = 1,
		[CONF_ACT_QUARANTINE] = 2, [CONF_ACT_TEMPFAIL] = 3,
		[CONF_ACT_REJECT] = 4, [CONF_ACT_DISCARD] = 5 };
	return rank[a];
}

static enum conf_action policy_action(const struct conf_policy *p,
                                      double score)
{
	for (size_t i = 0; i < sizeof by_severity / sizeof *by_severity; i++)
		if (score >= p->threshold[by_severity[i]])
			return by_severity[i];
	return CONF_ACT_ACCEPT;
}

static bool drops_mail(enum conf_action a)
{
	return a == CONF_ACT_REJECT || a == CONF_ACT_DISCARD ||
	       a == CONF_ACT_TEMPFAIL;
}

/* "550 5.7.1 text" into code, xcode, text. */
static int split_reply(const char *reply, struct verdict *v)
{
	memcpy(v->code, reply, 3);
	v->code[3] = '\0';
	const char *p = reply + 3;
	while (*p == ' ')
		p++;
	const char *sp = strchr(p, ' ');
	size_t xl = sp ? (size_t)(sp - p) : strlen(p);
	if (xl > 0 && xl < sizeof v->xcode && p[0] >= '2' && p[0] <= '5' &&
	    p[1] == '.') {
		memcpy(v->xcode, p, xl);
		v->xcode[xl] = '\0';
		p += xl;
		while (*p == ' ')
			p++;
	} else {
		v->xcode[0] = '\0';
	}
	v->text = strdup(*p ? p : "rejected");
	return v->text ? 0 : -1;
}

static int add_header(struct verdict *v, const char *name, char *value)
{
	if (value == NULL)
		return -1;
	struct verdict_header *h = realloc(v->headers,
	                                   (v->header_count + 1) * sizeof *h);
	if (h == NULL) {
		free(value);
		return -1;
	}
	v->headers = h;
	h[v->header_count].name = strdup(name);
	h[v->header_count].value = value;
	if (h[v->header_count].name == NULL) {
		free(value);
		return -1;
	}
	v->header_count++;
	return 0;
}

/* A growing string with folding at 78 columns. */
struct fold {
	struct strbuf sb;
	size_t col;
};

static void fold_put(struct fold *f, const char *s, size_t n)
{
	strbuf_put(&f->sb, s, n);
	f->col += n;
}

/* Append a word; break the line before it when the line would pass
 * width columns, counting `extra` more (the blank after the word). sep
 * is put before the word on the same line (" " or ""). */
static void fold_at(struct fold *f, const char *sep, const char *w,
                    size_t width, size_t extra)
{
	size_t n = strlen(w);
	if (f->col + strlen(sep) + n + extra > width && f->col > 8) {
		fold_put(f, "\n\t", 2);
		f->col = 8;
	} else {
		fold_put(f, sep, strlen(sep));
	}
	fold_put(f, w, n);
}

/* vigil's own headers: folded at 78 columns. */
static void fold_word(struct fold *f, const char *sep, const char *w)
{
	fold_at(f, sep, w, 78, 0);
}

/* SpamAssassin's layout (Util::wrap at 79 columns, broken after a blank
 * or a comma): a piece joins the line when the line with it, and with
 * the blank after it if one follows, stays within 79 (audit22 L7). */
static void fold_sa(struct fold *f, const char *sep, const char *w,
                    bool blank_after)
{
	fold_at(f, sep, w, 79, blank_after ? 1 : 0);
}

/* A score as printed with `decimals` decimals, without "-0.0". */
static double shown(double v, int decimals)
{
	double half = decimals == 1 ? 0.05 : decimals == 2 ? 0.005 : 0.0005;
	return (v > -half && v < half) ? 0.0 : v;
}

static int cmp_hit_names(const void *a, const void *b)
{
	const struct scan_hit_info *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

char *verdict_spam_status(bool spam, double score, double required,
                          const struct scan *scan)
{
	/* The header name "X-Spam-Status: " takes 15 columns. */
	struct fold f = { .col = 15 };
	char word[128];
	/* SpamAssassin's get_tag_value_for_score (its bug 6419): a message
	 * that is no spam never shows a score that reads as reaching the
	 * threshold; it shows the threshold less 0.1 (4.999 of 5: 4.9, not
	 * 5.0; audit21 L3). Both compared as printed with one decimal. */
	/* "%.1f" as its sprintf("%2.1f"): -0.002 is "-0.0" there too */
	double s = score;
	char st[64], rt[64];
	snprintf(st, sizeof st, "%.1f", s);
	snprintf(rt, sizeof rt, "%.1f", required);
	if (!spam && isfinite(required) && strtod(st, NULL) >= strtod(rt, NULL))
		s = strtod(rt, NULL) - 0.1;
	snprintf(word, sizeof word, "%s, score=%.1f", spam ? "Yes" : "No", s);
	fold_sa(&f, "", word, true);
	if (isfinite(required))
		snprintf(word, sizeof word, "required=%.1f", required);
	else
		snprintf(word, sizeof word, "required=off");
	fold_sa(&f, " ", word, true);

	size_t n = scan_hit_count(scan), k = 0;
	const struct scan_hit_info **hits = calloc(n ? n : 1, sizeof *hits);
	if (hits == NULL) {
		strbuf_free(&f.sb);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (scan_hit_at(scan, i)->score != 0)
			hits[k++] = scan_hit_at(scan, i);
	qsort(hits, k, sizeof *hits, cmp_hit_names);
	/* tests=A,B,C: folded after a comma, as SpamAssassin does. */
	if (k == 0)
		fold_sa(&f, " ", "tests=none", true);
	bool first = true;
	for (size_t i = 0; i < k; i++) {
		if (i > 0 && strcmp(hits[i]->name, hits[i - 1]->name) == 0)
			continue;
		/* a tflags multiple rule once per match, as SpamAssassin
		 * names it (audit21 L3) */
		for (unsigned rep = 0; rep < hits[i]->count; rep++) {
			bool last = rep + 1 >= hits[i]->count &&
			            strcmp(hits[i]->name, hits[k - 1]->name) == 0;
			snprintf(word, sizeof word, "%s%s%s",
			         first ? "tests=" : "", hits[i]->name,
			         last ? "" : ",");
			fold_sa(&f, first ? " " : "", word, last);
			first = false;
		}
	}
	free(hits);
	fold_sa(&f, " ", "autolearn=disabled", true);
	fold_sa(&f, " ", "version=vigil-" PACKAGE_VERSION, false);
	if (f.sb.oom) {
		strbuf_free(&f.sb);
		return NULL;
	}
	return f.sb.p;
}

static char *auth_results(const struct conf *c, const struct scan *scan)
{
	size_t n = scan_auth_result_count(scan);
	if (n == 0)
		return NULL;
	struct fold f = { .col = 24 };	/* "Authentication-Results: " */
	fold_word(&f, "", c->hostname);
	for (size_t i = 0; i < n; i++) {
		fold_put(&f, ";", 1);
		fold_put(&f, "\n\t", 2);
		f.col = 8;
		fold_put(&f, scan_auth_result_at(scan, i),
		         strlen(scan_auth_result_at(scan, i)));
	}
	if (f.sb.oom) {
		strbuf_free(&f.sb);
		return NULL;
	}
	return f.sb.p;
}

static char *printf_dup(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static char *printf_dup(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* X-Spam-Score's value: the score as compared (3 decimals), trailing
 * zeros dropped down to one decimal ("0.0", "4.25", "4.994"), so that
 * a reader of the header (vigil scan --milter's threshold sweep) gets
 * the score vigild decided by, not one rounded to 0.1. */
static char *score_text(double score)
{
	char *s = printf_dup("%.3f", shown(score, 3));
	char *dot = s ? strchr(s, '.') : NULL;
	if (dot != NULL) {
		size_t n = strlen(s);
		while (n > (size_t)(dot - s) + 2 && s[n - 1] == '0')
			s[--n] = '\0';
	}
	return s;
}

/* Decide per recipient, then combine. */
static const struct conf_policy *choose_action(const struct conf *c,
                                               struct scan *scan,
                                               bool can_delrcpt,
                                               struct verdict *v)
{
	const struct scan_env *env = scan_env(scan);
	double score = scan_score(scan);
	size_t n = env->rcpt_count;
	if (n == 0) {
		v->action = policy_action(&c->policy, score);
		return &c->policy;
	}
	enum conf_action *acts = v->rcpt_action = calloc(n, sizeof *acts);
	v->drop_rcpt = calloc(n, sizeof *v->drop_rcpt);
	if (acts == NULL || v->drop_rcpt == NULL) {
		free(acts);
		free(v->drop_rcpt);
		v->rcpt_action = NULL;
		v->drop_rcpt = NULL;
		v->action = policy_action(&c->policy, score);
		return &c->policy;
	}
	bool mixed = false, any_keep = false;
	for (size_t i = 0; i < n; i++) {
		acts[i] = policy_action(conf_policy_for(c, env->rcpts[i]), score);
		if (acts[i] != acts[0])
			mixed = true;
		if (!drops_mail(acts[i]))
			any_keep = true;
	}
	const struct conf_policy *pol = conf_policy_for(c, env->rcpts[0]);
	v->action = acts[0];
	if (mixed && can_delrcpt && any_keep) {
		/* Drop the recipients whose policy refuses the message, deliver
		 * to the others with the strictest of their actions. */
		v->action = CONF_ACT_ACCEPT;
		for (size_t i = 0; i < n; i++) {
			if (drops_mail(acts[i])) {
				v->drop_rcpt[i] = true;
				v->drop_count++;
			} else if (severity(acts[i]) >= severity(v->action)) {
				v->action = acts[i];
				pol = conf_policy_for(c, env->rcpts[i]);
			}
		}
	} else if (mixed) {
		/* One action for all: the most lenient, so that no recipient
		 * loses mail its own policy would have delivered. */
		for (size_t i = 0; i < n; i++) {
			if (severity(acts[i]) < severity(v->action)) {
				v->action = acts[i];
				pol = conf_policy_for(c, env->rcpts[i]);
			}
		}
	}
	return pol;
}

static int set_reply(struct verdict *v, const struct conf_policy *pol,
                     const char *forced)
{
	if (forced != NULL)
		return split_reply(forced, v);
	if (v->action == CONF_ACT_REJECT)
		return split_reply(pol->reject_reply, v);
	if (v->action == CONF_ACT_TEMPFAIL)
		return split_reply(pol->tempfail_reply, v);
	return 0;
}

int verdict_decide(const struct conf *c, struct scan *scan,
                   const char *failed_stage, bool can_delrcpt,
                   struct verdict *v)
{
	memset(v, 0, sizeof *v);
	double score = scan_score(scan);
	const struct conf_policy *pol;
	const char *forced = NULL;
	const char *quarantine_reason = NULL;

	if (failed_stage != NULL)
		return verdict_fail(c, failed_stage, v);
	{
		pol = choose_action(c, scan, can_delrcpt, v);
		/* A stage may demand a rejection (e.g. SPF fail for a domain
		 * that asks for it), whatever the score. */
		forced = scan_result_get(scan, "reject");
		if (forced != NULL && forced[0] == '5')
			v->action = CONF_ACT_REJECT;
		else
			forced = NULL;
		/* Or a quarantine (e.g. DMARC p=quarantine, if so configured),
		 * unless the score already asks for more. */
		const char *q = scan_result_get(scan, "quarantine");
		if (q != NULL && severity(v->action) < severity(CONF_ACT_QUARANTINE)) {
			v->action = CONF_ACT_QUARANTINE;
			quarantine_reason = q;
		}
	}
	v->required = pol->threshold[CONF_ACT_ADD_HEADER];
	v->spam = score >= v->required;
	if (set_reply(v, pol, forced) != 0)
		return -1;
	if (v->action == CONF_ACT_QUARANTINE) {
		v->quarantine_reason = strdup(quarantine_reason ? quarantine_reason
		                              : pol->quarantine_reason);
		if (v->quarantine_reason == NULL)
			return -1;
	}
	if (drops_mail(v->action)) {
		/* nothing is delivered (a stage forced a rejection): no
		 * recipient is removed, no header added */
		v->drop_count = 0;
		if (v->drop_rcpt != NULL)
			memset(v->drop_rcpt, 0, scan_env(scan)->rcpt_count *
			       sizeof *v->drop_rcpt);
		return 0;
	}

	int rc = 0;
	if (v->spam)
		rc |= add_header(v, "X-Spam-Flag", strdup("YES"));
	rc |= add_header(v, "X-Spam-Score", score_text(score));
	rc |= add_header(v, "X-Spam-Status",
	                 verdict_spam_status(v->spam, score, v->required, scan));
	char *ar = auth_results(c, scan);
	if (ar != NULL)
		rc |= add_header(v, "Authentication-Results", ar);
	for (size_t i = 0; i < scan_out_header_count(scan); i++) {
		const char *name, *value;
		scan_out_header_at(scan, i, &name, &value);
		rc |= add_header(v, name, strdup(value));
	}
	return rc ? -1 : 0;
}

int verdict_fail(const struct conf *c, const char *why, struct verdict *v)
{
	memset(v, 0, sizeof *v);
	v->failed = true;
	v->action = c->fail_action;
	v->required = c->policy.threshold[CONF_ACT_ADD_HEADER];
	if (set_reply(v, &c->policy, NULL) != 0)
		return -1;
	if (v->action == CONF_ACT_ACCEPT && c->fail_header &&
	    add_header(v, "X-Spam-Scan", printf_dup(
	               "failed (%s); message not classified", why)) != 0)
		return -1;
	return 0;
}

void verdict_free(struct verdict *v)
{
	free(v->text);
	free(v->quarantine_reason);
	for (size_t i = 0; i < v->header_count; i++) {
		free(v->headers[i].name);
		free(v->headers[i].value);
	}
	free(v->headers);
	free(v->drop_rcpt);
	free(v->rcpt_action);
	memset(v, 0, sizeof *v);
}

/* Privacy: the local part of an address replaced by a hash (FNV-1a 64,
 * not a secret-keyed hash: it hides addresses from casual log readers and
 * keeps one address's lines linkable; the domain stays for statistics). */
static void hashed_addr(const char *addr, char *out, size_t outlen)
{
	const char *at = strrchr(addr, '@');
	size_t local = at ? (size_t)(at - addr) : strlen(addr);
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < local; i++) {
		h ^= (unsigned char)addr[i];
		h *= 0x100000001b3ull;
	}
	snprintf(out, outlen, "%016llx%s", (unsigned long long)h, at ? at : "");
}

static void add_addr(struct kvline *kv, const char *key, const char *addr,
                     bool hash)
{
	if (hash && addr[0] != '\0') {
		char buf[512];
		hashed_addr(addr, buf, sizeof buf);
		kv_add(kv, key, buf);
	} else {
		kv_add(kv, key, addr);
	}
}

void verdict_log_fields(const struct conf *c, const struct scan *scan,
                        const struct verdict *v, double ms,
                        struct kvline *kv)
{
	const struct scan_env *env = scan_env(scan);
	kv_add(kv, "qid", env->queue_id[0] ? env->queue_id : "NOQUEUE");
	kv_add(kv, "client", env->client_addr);
	kv_add(kv, "helo", env->helo);
	add_addr(kv, "from", env->mail_from, c->log_hash_addresses);
	kv_addf(kv, "rcpts", "%zu", env->rcpt_count);
	kv_addf(kv, "size", "%zu", scan_size(scan));
	kv_addf(kv, "score", "%.2f", shown(scan_score(scan), 2));
	kv_add(kv, "action", conf_action_name(v->action));
	if (v->drop_count)
		kv_addf(kv, "dropped_rcpts", "%zu", v->drop_count);
	for (size_t i = 0; i < scan_result_count(scan); i++) {
		const char *key, *value;
		scan_result_at(scan, i, &key, &value);
		kv_add(kv, key, value);
	}
	/* hits=A,B,C: the names are ours or the rule files', still escaped. */
	size_t total = 0;
	for (size_t i = 0; i < scan_hit_count(scan); i++)
		total += strlen(scan_hit_at(scan, i)->name) + 1;
	char *list = malloc(total + 1);
	if (list != NULL) {
		size_t k = 0;
		for (size_t i = 0; i < scan_hit_count(scan); i++) {
			const char *n = scan_hit_at(scan, i)->name;
			if (k)
				list[k++] = ',';
			memcpy(list + k, n, strlen(n));
			k += strlen(n);
		}
		list[k] = '\0';
		kv_add(kv, "hits", list);
		free(list);
	}
	if (v->failed)
		kv_add(kv, "scan", "failed");
	kv_addf(kv, "ms", "%.1f", ms);
}
