/* labels.c — see labels.h */
#include "labels.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

/* A PATH to scan, and how many of its messages got which label. */
struct path {
	char *name;
	char *canon;              /* absolute, symlinks resolved; NULL for - */
	enum eval_label label;    /* --label before it */
	size_t count, per_label[3];
};

/* A line of --labels FILE: everything in canon is labelled label. */
struct lentry {
	char *name;               /* as written (resolved if relative) */
	char *canon;
	enum eval_label label;
	const char *file;
	unsigned line;
	size_t seq;               /* order in the labels files */
	size_t matched;
};

struct labels {
	enum eval_label current;  /* the last --label */
	struct path *paths;
	size_t path_count;
	const char **names;       /* paths' names, for labels_paths() */
	struct lentry *entries;   /* sorted by canon once ready */
	size_t entry_count;
	/* the --labels FILEs read, with the SHA-256 of their bytes */
	const char **files;
	char **file_hash;
	size_t file_count;
	/* labels_meta()'s arrays */
	const char **meta_labels;
	char (*meta_buf)[96];
	size_t *meta_counts;
};

struct labels *labels_new(void)
{
	return calloc(1, sizeof(struct labels));
}

void labels_free(struct labels *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->path_count; i++) {
		free(l->paths[i].name);
		free(l->paths[i].canon);
	}
	free(l->paths);
	free(l->names);
	for (size_t i = 0; i < l->entry_count; i++) {
		free(l->entries[i].name);
		free(l->entries[i].canon);
	}
	free(l->entries);
	free(l->files);
	for (size_t i = 0; i < l->file_count; i++)
		free(l->file_hash[i]);
	free(l->file_hash);
	free(l->meta_labels);
	free(l->meta_buf);
	free(l->meta_counts);
	free(l);
}

char *labels_canon_path(const char *path)
{
	if (strcmp(path, "-") == 0)
		return NULL;
	char *c = realpath(path, NULL);
	if (c != NULL)
		return c;
	char cwd[PATH_MAX];
	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		c = strdup(path);
	else if (asprintf(&c, "%s/%s", cwd, path) < 0)
		c = NULL;
	for (size_t n = c ? strlen(c) : 0; n > 1 && c[n - 1] == '/'; n--)
		c[n - 1] = '\0';
	return c;
}

/* ---- the labels file ---- */

/* A relative path of a labels file: from the current directory if it is
 * there, else from the labels file's directory (as in TREC's index). */
static char *entry_path(const char *file, const char *path)
{
	const char *slash = strrchr(file, '/');
	char *p = NULL;
	if (path[0] == '/' || slash == NULL || access(path, F_OK) == 0)
		return strdup(path);
	if (asprintf(&p, "%.*s/%s", (int)(slash - file), file, path) < 0)
		return NULL;
	if (access(p, F_OK) != 0) {   /* neither: keep it as written */
		free(p);
		p = strdup(path);
	}
	return p;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* A CSV field, trimmed, and unquoted in place when in double quotes
 * ("" stands for a quote, RFC 4180); NULL when a quote is not closed. */
static char *csv_unquote(char *f)
{
	f = trim(f);
	if (*f != '"')
		return f;
	char *w = f;
	for (const char *r = f + 1; *r != '\0'; r++) {
		if (*r == '"' && r[1] != '"') {
			*w = '\0';
			return r[1] == '\0' ? f : NULL;
		}
		r += *r == '"';
		*w++ = *r;
	}
	return NULL;
}

/* "PATH,LABEL" or "LABEL,PATH" (CSV, as spreadsheets and datasets write
 * it; an unquoted PATH may hold commas, as maildir names do): 0, or -1
 * when line is not that. line is changed. */
static int split_csv(char *line, char **path, enum eval_label *label)
{
	char *last = strrchr(line, ','), *first = strchr(line, ',');
	char *tail = last ? csv_unquote(last + 1) : NULL;
	if (tail != NULL && eval_label_parse(tail) != EVAL_UNLABELLED) {
		*label = eval_label_parse(tail);
		*last = '\0';
		*path = csv_unquote(line);
	} else if (first != NULL) {
		*first = '\0';
		char *head = csv_unquote(line);
		*label = head ? eval_label_parse(head) : EVAL_UNLABELLED;
		*path = *label != EVAL_UNLABELLED ? csv_unquote(first + 1) : NULL;
	} else
		return -1;
	return *path != NULL && **path != '\0' ? 0 : -1;
}

/* Whether a header field (quoted or not) names the label column. */
static bool label_column(char *field)
{
	static const char *const names[] = { "label", "class", "category" };
	size_t n = strlen(field);
	if (n >= 2 && field[0] == '"' && field[n - 1] == '"') {
		field[n - 1] = '\0';
		field++;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(field, names[i]) == 0)
			return true;
	return false;
}

/* Whether the first line of a labels file is a CSV or tab-separated
 * header naming the label column ("path,label", "file<TAB>class"). */
static bool header_line(const char *line)
{
	size_t n = strcspn(line, ",\t");
	if (line[n] == '\0' || line[n + 1 + strcspn(line + n + 1, ",\t")] != '\0')
		return false;                       /* not two fields */
	char *first = strndup(line, n), *second = strdup(line + n + 1);
	bool header = first && second &&
	              (label_column(trim(first)) || label_column(trim(second)));
	free(first);
	free(second);
	return header;
}

/* "PATH LABEL" (PATH may hold blanks) or "LABEL PATH": 0, or -1. */
static int split_label(char *line, char **path, enum eval_label *label)
{
	char *last = strrchr(line, ' '), *tab = strrchr(line, '\t');
	if (tab > last)
		last = tab;
	if (last != NULL && eval_label_parse(last + 1) != EVAL_UNLABELLED) {
		*label = eval_label_parse(last + 1);
		*last = '\0';
		*path = trim(line);
		return **path ? 0 : -1;
	}
	size_t n = strcspn(line, " \t");
	if (line[n] == '\0')
		return -1;
	line[n] = '\0';
	*label = eval_label_parse(line);
	*path = trim(line + n + 1);
	return *label != EVAL_UNLABELLED && **path ? 0 : -1;
}

/* One line's entry: 0, 1 when bad (reported), -1 out of memory. */
static int add_entry(struct labels *l, const char *file, unsigned lineno,
                     char *line)
{
	char *path, *csv = strdup(line);
	enum eval_label label;
	if (csv == NULL)
		return -1;
	int bad = (strchr(csv, ',') == NULL || split_csv(csv, &path, &label) != 0)
	          && split_label(line, &path, &label) != 0;
	if (bad) {
		fprintf(stderr, "%s:%u: expected \"PATH spam|ham\", "
		        "\"spam|ham PATH\" or \"PATH,spam|ham\"\n", file, lineno);
		free(csv);
		return 1;
	}
	struct lentry *ne = realloc(l->entries,
	                            (l->entry_count + 1) * sizeof *ne);
	if (ne != NULL)
		l->entries = ne;   /* the old block may be gone either way */
	struct lentry e = { ne ? entry_path(file, path) : NULL, NULL, label,
	                    file, lineno, l->entry_count, 0 };
	if (e.name == NULL) {
		free(csv);
		return -1;
	}
	e.canon = labels_canon_path(e.name);
	if (e.canon == NULL)
		fprintf(stderr, "%s:%u: %s: not a path that can be labelled\n",
		        file, lineno, path);
	free(csv);
	if (e.canon == NULL) {
		free(e.name);
		return 1;
	}
	l->entries[l->entry_count++] = e;
	return 0;
}

/* Note a labels file and the SHA-256 of its bytes, for the report (the
 * file decides which messages count and how). 0, or -1 (memory). */
static int note_file(struct labels *l, const char *file)
{
	size_t n = l->file_count + 1;
	const char **nf = realloc(l->files, n * sizeof *nf);
	if (nf != NULL)
		l->files = nf;
	char **nh = realloc(l->file_hash, n * sizeof *nh);
	if (nh != NULL)
		l->file_hash = nh;
	char *hex = malloc(65);
	if (nf == NULL || nh == NULL || hex == NULL) {
		free(hex);
		return -1;
	}
	if (fileio_sha256(file, hex) != 0)
		snprintf(hex, 65, "unreadable");
	l->files[l->file_count] = file;
	l->file_hash[l->file_count] = hex;
	l->file_count = n;
	return 0;
}

static int read_file(struct labels *l, const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "vigil scan: --labels %s: %s\n", file, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t cap = 0;
	unsigned lineno = 0, content = 0;
	int rc = 0;
	while (getline(&buf, &cap, f) > 0) {
		lineno++;
		char *line = trim(buf);
		if (*line == '#' || *line == '\0')
			continue;
		if (++content == 1 && header_line(line))
			continue;
		int e = add_entry(l, file, lineno, line);
		if (e != 0)
			rc = -1;
		if (e < 0) {
			fprintf(stderr, "vigil scan: out of memory\n");
			break;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "vigil scan: --labels %s: %s\n", file, strerror(errno));
		rc = -1;
	}
	free(buf);
	fclose(f);
	if (rc == 0 && note_file(l, file) != 0) {
		fprintf(stderr, "vigil scan: out of memory\n");
		rc = -1;
	}
	return rc;
}

int labels_option(struct labels *l, const char *opt, const char *val)
{
	if (strcmp(opt, "--labels") == 0)
		return read_file(l, val) == 0 ? 1 : -1;
	if (strcmp(opt, "--label") != 0)
		return 0;
	l->current = eval_label_parse(val);
	if (l->current == EVAL_UNLABELLED) {
		fprintf(stderr, "vigil scan: --label: spam or ham\n");
		return -1;
	}
	return 1;
}

/* ---- paths ---- */

int labels_add_path(struct labels *l, const char *name)
{
	struct path *np = realloc(l->paths, (l->path_count + 1) * sizeof *np);
	if (np == NULL)
		return -1;
	l->paths = np;
	struct path p = { .name = strdup(name), .label = l->current };
	if (p.name == NULL)
		return -1;
	p.canon = labels_canon_path(name);
	l->paths[l->path_count++] = p;
	return 0;
}

static int cmp_lentry(const void *a, const void *b)
{
	return strcmp(((const struct lentry *)a)->canon,
	              ((const struct lentry *)b)->canon);
}

/* The labels entry naming canon or the nearest directory above it. */
static struct lentry *lookup(const struct labels *l, const char *canon)
{
	char *key = strdup(canon);
	struct lentry *e = NULL;
	while (key != NULL) {
		struct lentry k = { .canon = key };
		e = bsearch(&k, l->entries, l->entry_count, sizeof k, cmp_lentry);
		char *slash = strrchr(key, '/');
		if (e != NULL || slash == NULL || strcmp(key, "/") == 0)
			break;
		slash[slash == key] = '\0';   /* the parent ("/" for the root) */
	}
	free(key);
	return e;
}

static int cmp_seq(const void *a, const void *b)
{
	size_t x = (*(const struct lentry *const *)a)->seq;
	size_t y = (*(const struct lentry *const *)b)->seq;
	return x < y ? -1 : x > y;
}

/* Without PATH arguments: the labelled paths in the order written, those
 * inside another one aside (they are scanned with it). 0 or -1. */
static int entries_as_paths(struct labels *l)
{
	const struct lentry **v = calloc(l->entry_count + 1, sizeof *v);
	if (v == NULL)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < l->entry_count; i++) {
		char *parent = strdup(l->entries[i].canon);
		char *slash = parent ? strrchr(parent, '/') : NULL;
		bool inside = false;
		if (slash != NULL && strcmp(parent, "/") != 0) {
			slash[slash == parent] = '\0';
			inside = lookup(l, parent) != NULL;
		}
		free(parent);
		if (!inside)
			v[n++] = &l->entries[i];
	}
	qsort(v, n, sizeof *v, cmp_seq);
	int rc = 0;
	l->current = EVAL_UNLABELLED;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = labels_add_path(l, v[i]->name);
	free(v);
	return rc;
}

static int names_ready(struct labels *l)
{
	l->names = calloc(l->path_count + 1, sizeof *l->names);
	if (l->names == NULL)
		return -1;
	for (size_t i = 0; i < l->path_count; i++)
		l->names[i] = l->paths[i].name;
	return 0;
}

int labels_ready(struct labels *l)
{
	if (l->entry_count == 0)
		return names_ready(l);
	qsort(l->entries, l->entry_count, sizeof *l->entries, cmp_lentry);
	if (l->path_count == 0 && entries_as_paths(l) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 1; i < l->entry_count; i++) {
		const struct lentry *a = &l->entries[i - 1], *b = &l->entries[i];
		if (strcmp(a->canon, b->canon) == 0 && a->label != b->label) {
			fprintf(stderr, "%s:%u: %s labelled %s, but %s at %s:%u\n",
			        b->file, b->line, b->name,
			        b->label == EVAL_SPAM ? "spam" : "ham",
			        a->label == EVAL_SPAM ? "spam" : "ham", a->file, a->line);
			rc = -1;
		}
	}
	return rc == 0 ? names_ready(l) : -1;
}

size_t labels_path_count(const struct labels *l)
{
	return l->path_count;
}

const char *const *labels_paths(const struct labels *l)
{
	return l->names;
}

bool labels_any(const struct labels *l)
{
	bool any = l->entry_count > 0;
	for (size_t i = 0; i < l->path_count && !any; i++)
		any = l->paths[i].label != EVAL_UNLABELLED;
	return any;
}

/* ---- messages ---- */

static enum eval_label label_of(const struct labels *l, const struct path *p,
                                const char *source)
{
	if (l->entry_count == 0 || p->canon == NULL)
		return p->label;
	/* source is p->name, or p->name, a slash and a path inside */
	size_t nlen = strlen(p->name);
	const char *rest = strncmp(source, p->name, nlen) == 0 ? source + nlen
	                                                         : "";
	char *canon = NULL;
	if (asprintf(&canon, "%s%s%s", p->canon,
	             *rest && *rest != '/' ? "/" : "", rest) < 0)
		return p->label;
	struct lentry *e = lookup(l, canon);
	free(canon);
	if (e == NULL)
		return p->label;
	e->matched++;
	return e->label;
}

enum eval_label labels_take(struct labels *l, size_t arg, const char *source)
{
	if (arg >= l->path_count)
		return EVAL_UNLABELLED;
	struct path *p = &l->paths[arg];
	enum eval_label label = label_of(l, p, source ? source : p->name);
	p->count++;
	p->per_label[label]++;
	return label;
}

void labels_unmatched(const struct labels *l, FILE *err)
{
	for (size_t i = 0; i < l->entry_count; i++)
		if (l->entries[i].matched == 0)
			fprintf(err, "vigil scan: %s:%u: no message scanned was in %s\n",
			        l->entries[i].file, l->entries[i].line,
			        l->entries[i].name);
}

/* "spam", "ham", "unlabelled", or the mix ("3 spam, 1 unlabelled"). */
static void path_label(const struct path *p, char *buf, size_t len)
{
	static const char *const names[] = { "unlabelled", "ham", "spam" };
	static const int order[] = { EVAL_SPAM, EVAL_HAM, EVAL_UNLABELLED };
	size_t kinds = 0, at = 0;
	for (int i = 0; i < 3; i++)
		kinds += p->per_label[i] > 0;
	if (kinds <= 1) {
		int only = (int)p->label;
		for (int i = 0; i < 3; i++)
			if (p->per_label[i] > 0)
				only = i;
		snprintf(buf, len, "%s", names[only]);
		return;
	}
	for (int k = 0; k < 3 && at < len; k++)
		if (p->per_label[order[k]] > 0)
			at += (size_t)snprintf(buf + at, len - at, "%s%zu %s",
			                       at ? ", " : "", p->per_label[order[k]],
			                       names[order[k]]);
}

int labels_meta(struct labels *l, struct eval_meta *m)
{
	size_t n = l->path_count ? l->path_count : 1;
	if (l->meta_labels == NULL) {
		l->meta_labels = calloc(n, sizeof *l->meta_labels);
		l->meta_buf = calloc(n, sizeof *l->meta_buf);
		l->meta_counts = calloc(n, sizeof *l->meta_counts);
	}
	if (l->meta_labels == NULL || l->meta_buf == NULL ||
	    l->meta_counts == NULL || l->names == NULL)
		return -1;
	for (size_t i = 0; i < l->path_count; i++) {
		path_label(&l->paths[i], l->meta_buf[i], sizeof l->meta_buf[i]);
		l->meta_labels[i] = l->meta_buf[i];
		l->meta_counts[i] = l->paths[i].count;
	}
	m->label_files = l->files;
	m->label_file_hashes = (const char *const *)l->file_hash;
	m->label_file_count = l->file_count;
	m->paths = l->names;
	m->path_labels = l->meta_labels;
	m->path_counts = l->meta_counts;
	m->path_count = l->path_count;
	return 0;
}
