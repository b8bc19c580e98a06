/* labels.c — see labels.h */
#include "labels.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpus.h"
#include "fileio.h"
#include "report.h"

/* FILE:LINE places a summary line names: a 75,000-line index must not
 * flood stderr, the first few are enough to find the pattern. */
#define FIRST_SHOWN 5

/* A PATH to scan, and how many of its messages got which label. */
struct path {
	char *name;
	char *canon;              /* absolute, symlinks resolved; NULL for - */
	enum eval_label label;    /* --label before it */
	size_t count, per_label[3];
};

/* A labelled file or directory: a line of a --labels FILE, or a PATH
 * after --label. Everything in canon is labelled label unless a
 * labelled path nearer to it says otherwise. */
struct lentry {
	char *name;               /* as written (resolved if relative) */
	char *canon;
	enum eval_label label;
	const char *file;         /* the labels file; NULL for a PATH */
	unsigned line;
	size_t seq;               /* order given (files, lines, PATHs) */
	size_t matched;
};

/* Where a labels entry is, for a summary line, in the order given. */
struct mark {
	const char *file;
	unsigned line;
	size_t seq;
	const char *name;         /* the path, where a message needs it */
};

struct labels {
	enum eval_label current;  /* the last --label */
	struct path *paths;
	size_t path_count, path_cap;
	const char **names;       /* paths' names, for labels_paths() */
	struct lentry *entries;   /* sorted by canon, one per canon, once ready */
	size_t entry_count, entry_cap;
	size_t seq;
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

static const char *label_name(enum eval_label label)
{
	return label == EVAL_SPAM ? "spam" : label == EVAL_HAM ? "ham"
	                                                        : "unlabelled";
}

static int cmp_mark(const void *a, const void *b)
{
	size_t x = ((const struct mark *)a)->seq;
	size_t y = ((const struct mark *)b)->seq;
	return x < y ? -1 : x > y;
}

/* One line for n places: "vigil scan: N WHAT: FILE:LINE ..." with the
 * first FIRST_SHOWN in the order given. m is sorted. */
static void print_marks(FILE *err, struct mark *m, size_t n,
                        const char *one, const char *many)
{
	if (n == 0)
		return;
	qsort(m, n, sizeof *m, cmp_mark);
	fprintf(err, "vigil scan: %zu %s", n, n == 1 ? one : many);
	if (n > FIRST_SHOWN)
		fprintf(err, "; first %d", FIRST_SHOWN);
	fputc(':', err);
	for (size_t i = 0; i < n && i < FIRST_SHOWN; i++)
		fprintf(err, " %s:%u", m[i].file, m[i].line);
	fputc('\n', err);
}

/* Room for one more entry. 0, or -1 (memory). */
static int grow_entries(struct labels *l)
{
	if (l->entry_count < l->entry_cap)
		return 0;
	size_t cap = l->entry_cap ? 2 * l->entry_cap : 64;
	struct lentry *ne = realloc(l->entries, cap * sizeof *ne);
	if (ne == NULL)
		return -1;
	l->entries = ne;
	l->entry_cap = cap;
	return 0;
}

/* Append e (its strings then owned by l). 0, or -1 (memory; e's strings
 * freed). */
static int push_entry(struct labels *l, struct lentry *e)
{
	if (e->name == NULL || e->canon == NULL || grow_entries(l) != 0) {
		free(e->name);
		free(e->canon);
		return -1;
	}
	e->seq = l->seq++;
	l->entries[l->entry_count++] = *e;
	return 0;
}

/* ---- the labels file ---- */

/* p without its "." components and each "DIR/.." where DIR is a
 * directory, not a symbolic link: a labels file's "../data/x" beside
 * "full/index" names "full/../data/x", shown as "data/x" (through a link
 * ".." leads elsewhere: kept). NULL (memory). */
static char *tidy_path(const char *p)
{
	size_t len = strlen(p), out = 0, base = p[0] == '/';
	char *o = malloc(len + 2);
	if (o == NULL)
		return NULL;
	if (base)
		o[out++] = '/';
	for (size_t i = 0; p[i];) {
		size_t n = strcspn(p + i, "/");
		const char *c = p + i;
		i += n + (p[i + n] == '/');
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.' && out > base) {
			size_t k = out;        /* the last part kept: o[k..out) */
			while (k > base && o[k - 1] != '/')
				k--;
			struct stat st;
			o[out] = '\0';
			if (!(out - k == 2 && o[k] == '.' && o[k + 1] == '.') &&
			    lstat(o, &st) == 0 && S_ISDIR(st.st_mode)) {
				out = k > base ? k - 1 : base;
				continue;
			}
		}
		if (out > base)
			o[out++] = '/';
		memcpy(o + out, c, n);
		out += n;
	}
	if (out == 0)
		o[out++] = '.';
	o[out] = '\0';
	return o;
}

/* A relative path of a labels file is relative to the file's directory,
 * as TREC's and CSV index files mean it; from the current directory
 * only when it is not there (*from_cwd then set), for files written
 * that way. Neither: the file's directory (so an error names it). */
static char *entry_path(const char *file, const char *path, bool *from_cwd)
{
	const char *slash = strrchr(file, '/');
	char *p = NULL;
	*from_cwd = false;
	if (path[0] == '/' || slash == NULL)
		return strdup(path);
	if (asprintf(&p, "%.*s/%s", (int)(slash - file), file, path) < 0)
		return NULL;
	if (access(p, F_OK) == 0 || access(path, F_OK) != 0) {
		char *t = tidy_path(p);
		free(p);
		return t;
	}
	free(p);
	*from_cwd = true;
	return strdup(path);
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

/* Cut a trailing comment: '#' after a blank, outside double quotes (a
 * quoted CSV path may hold " #"). */
static void cut_comment(char *s)
{
	bool quoted = false;
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted && p > s &&
		         (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

/* The labels file being read. */
struct lfile {
	const char *name;
	size_t from_cwd;           /* entries found from the current directory */
	unsigned first_cwd;        /* the line of the first of them */
};

/* One line's entry: 0, 1 when bad (reported), -1 out of memory. */
static int add_entry(struct labels *l, struct lfile *lf, unsigned lineno,
                     char *line)
{
	char *path, *csv = strdup(line);
	enum eval_label label;
	if (csv == NULL)
		return -1;
	int bad = (strchr(csv, ',') == NULL || split_csv(csv, &path, &label) != 0)
	          && split_label(line, &path, &label) != 0;
	if (bad || strcmp(path, "-") == 0) {
		fprintf(stderr, bad ? "%s:%u: expected \"PATH spam|ham\", "
		        "\"spam|ham PATH\" or \"PATH,spam|ham\"\n"
		        : "%s:%u: - (standard input) cannot be labelled here\n",
		        lf->name, lineno);
		free(csv);
		return 1;
	}
	bool from_cwd;
	struct lentry e = { entry_path(lf->name, path, &from_cwd), NULL, label,
	                    lf->name, lineno, 0, 0 };
	free(csv);
	e.canon = e.name ? labels_canon_path(e.name) : NULL;
	if (from_cwd && lf->from_cwd++ == 0)
		lf->first_cwd = lineno;
	return push_entry(l, &e);
}

/* Note a labels file and the SHA-256 of its bytes (hex, taken), for
 * the report (the file decides which messages count and how). 0, or -1
 * (memory; hex freed). */
static int note_file(struct labels *l, const char *file, char *hex)
{
	size_t n = l->file_count + 1;
	const char **nf = realloc(l->files, n * sizeof *nf);
	if (nf != NULL)
		l->files = nf;
	char **nh = realloc(l->file_hash, n * sizeof *nh);
	if (nh != NULL)
		l->file_hash = nh;
	if (nf == NULL || nh == NULL) {
		free(hex);
		return -1;
	}
	l->files[l->file_count] = file;
	l->file_hash[l->file_count] = hex;
	l->file_count = n;
	return 0;
}

/* A line's content: the UTF-8 byte order mark a spreadsheet writes
 * before the first line, blanks and a trailing comment left out; ""
 * for a comment line. */
static char *line_content(char *buf, unsigned lineno)
{
	if (lineno == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0)
		buf += 3;
	char *line = trim(buf);
	if (*line == '#')
		return line + strlen(line);
	cut_comment(line);
	return trim(line);
}

/* The lines of f, their bytes hashed into h as read (f may be a pipe:
 * it cannot be read twice). 0, or -1 (reported). */
static int read_lines(struct labels *l, struct lfile *lf, FILE *f,
                      struct fileio_hash *h)
{
	char *buf = NULL;
	size_t cap = 0;
	unsigned lineno = 0, content = 0;
	int rc = 0;
	ssize_t got;
	while ((got = getline(&buf, &cap, f)) > 0) {
		fileio_hash_add(h, buf, (size_t)got);   /* failure: "unreadable" */
		char *line = line_content(buf, ++lineno);
		if (*line == '\0' || (++content == 1 && header_line(line)))
			continue;
		int e = add_entry(l, lf, lineno, line);
		if (e != 0)
			rc = -1;
		if (e < 0) {
			fprintf(stderr, "vigil scan: out of memory\n");
			break;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "vigil scan: --labels %s: %s\n", lf->name,
		        strerror(errno));
		rc = -1;
	}
	free(buf);
	return rc;
}

static int read_file(struct labels *l, const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "vigil scan: --labels %s: %s\n", file, strerror(errno));
		return -1;
	}
	struct lfile lf = { file, 0, 0 };
	struct fileio_hash *h = fileio_hash_new();
	char *hex = malloc(65);
	int rc = h && hex ? read_lines(l, &lf, f, h) : -1;
	fclose(f);
	if (h == NULL || hex == NULL)
		fprintf(stderr, "vigil scan: out of memory\n");
	if (fileio_hash_end(h, rc == 0 ? hex : NULL) != 0 && hex != NULL)
		snprintf(hex, 65, "unreadable");
	/* both bases used in one file may mean two corpora mixed: say so */
	if (rc == 0 && lf.from_cwd > 0)
		fprintf(stderr, "vigil scan: %s: %zu entr%s not beside it taken "
		        "from the current directory (first at line %u)\n", file,
		        lf.from_cwd, lf.from_cwd == 1 ? "y" : "ies", lf.first_cwd);
	if (rc != 0)
		free(hex);
	else if (note_file(l, file, hex) != 0) {
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

/* Append a PATH to scan. 0, or -1 (memory; name and canon freed). */
static int push_path(struct labels *l, char *name, char *canon,
                     enum eval_label label)
{
	if (l->path_count == l->path_cap) {
		size_t cap = l->path_cap ? 2 * l->path_cap : 16;
		struct path *np = realloc(l->paths, cap * sizeof *np);
		if (np != NULL) {
			l->paths = np;
			l->path_cap = cap;
		}
	}
	if (name == NULL || l->path_count == l->path_cap) {
		free(name);
		free(canon);
		return -1;
	}
	l->paths[l->path_count++] = (struct path){ name, canon, label, 0, {0} };
	return 0;
}

/* A PATH after --label is a labelled path too, so that the nearest
 * label wins whether it came from --label or a labels file. Standard
 * input is the entry "-" (no path is spelled so once resolved): "-"
 * labelled both ways is then the same conflict as a file. */
int labels_add_path(struct labels *l, const char *name)
{
	char *canon = labels_canon_path(name);
	bool stdin_ = strcmp(name, "-") == 0;
	if (canon == NULL && !stdin_)
		return -1;
	if (l->current != EVAL_UNLABELLED) {
		struct lentry e = { strdup(name), strdup(stdin_ ? "-" : canon),
		                    l->current, NULL, 0, 0, 0 };
		if (push_entry(l, &e) != 0) {
			free(canon);
			return -1;
		}
	}
	return push_path(l, strdup(name), canon, l->current);
}

/* Entries by canon, then in the order given. */
static int cmp_lentry(const void *a, const void *b)
{
	const struct lentry *x = a, *y = b;
	int c = strcmp(x->canon, y->canon);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_canon(const void *a, const void *b)
{
	return strcmp(((const struct lentry *)a)->canon,
	              ((const struct lentry *)b)->canon);
}

/* The labels entry naming canon or the nearest directory above it,
 * among those longer than stop bytes (0: up to the root). */
static struct lentry *lookup_upto(const struct labels *l, const char *canon,
                                  size_t stop)
{
	char *key = strdup(canon);
	struct lentry *e = NULL;
	while (key != NULL && strlen(key) > stop) {
		struct lentry k = { .canon = key };
		e = bsearch(&k, l->entries, l->entry_count, sizeof k, cmp_canon);
		char *slash = strrchr(key, '/');
		if (e != NULL || slash == NULL || strcmp(key, "/") == 0)
			break;
		slash[slash == key] = '\0';   /* the parent ("/" for the root) */
	}
	free(key);
	return e;
}

static struct lentry *lookup(const struct labels *l, const char *canon)
{
	return lookup_upto(l, canon, 0);
}

/* "FILE:LINE", or "--label L PATH" for a PATH argument. */
static void where(const struct lentry *e, char *buf, size_t len)
{
	if (e->file != NULL)
		snprintf(buf, len, "%s:%u", e->file, e->line);
	else
		snprintf(buf, len, "--label %s %s", label_name(e->label), e->name);
}

static void conflict(const struct lentry *a, const struct lentry *b)
{
	char wa[PATH_MAX + 64], wb[PATH_MAX + 64];
	where(a, wa, sizeof wa);
	where(b, wb, sizeof wb);
	fprintf(stderr, "vigil scan: %s labelled %s (%s) and %s (%s)\n",
	        b->name, label_name(a->label), wa, label_name(b->label), wb);
}

/* Sort the entries and keep one per path: a path labelled both ways is
 * an error (reported with where each label came from); a labels line
 * repeating another is read once (noted in one line). 0, or -1. */
static int settle_entries(struct labels *l)
{
	if (l->entry_count > 1)   /* qsort(NULL, 0) is undefined */
		qsort(l->entries, l->entry_count, sizeof *l->entries, cmp_lentry);
	struct mark *rep = calloc(l->entry_count + 1, sizeof *rep);
	size_t kept = 0, nrep = 0;
	int rc = rep ? 0 : -1;
	for (size_t i = 0; i < l->entry_count; i++) {
		struct lentry *e = &l->entries[i];
		struct lentry *k = kept ? &l->entries[kept - 1] : NULL;
		if (k == NULL || strcmp(k->canon, e->canon) != 0) {
			l->entries[kept++] = *e;
			continue;
		}
		if (k->label != e->label) {
			conflict(k, e);
			rc = -1;
		} else if (k->file != NULL && e->file != NULL && rep != NULL)
			rep[nrep++] = (struct mark){ e->file, e->line, e->seq, NULL };
		free(e->name);
		free(e->canon);
	}
	l->entry_count = kept;
	if (rc == 0)
		print_marks(stderr, rep, nrep, "labels entry repeats an earlier "
		            "one, read once", "labels entries repeat an earlier "
		            "one, read once");
	free(rep);
	return rc;
}

/* Without PATH arguments the entries are the corpus: one naming nothing
 * is a typo or a wrong directory, found before the run. 0, or -1. */
static int entries_exist(const struct labels *l)
{
	struct mark *miss = calloc(l->entry_count + 1, sizeof *miss);
	size_t n = 0;
	if (miss == NULL)
		return -1;
	for (size_t i = 0; i < l->entry_count; i++)
		if (access(l->entries[i].name, F_OK) != 0)
			miss[n++] = (struct mark){ l->entries[i].file,
			                           l->entries[i].line, l->entries[i].seq,
			                           l->entries[i].name };
	qsort(miss, n, sizeof *miss, cmp_mark);
	for (size_t i = 0; i < n && i < FIRST_SHOWN; i++) {
		fprintf(stderr, "%s:%u: ", miss[i].file, miss[i].line);
		report_text_escaped(stderr, miss[i].name, strlen(miss[i].name));
		fputs(": no such file or directory\n", stderr);
	}
	if (n > FIRST_SHOWN)
		fprintf(stderr, "vigil scan: %zu more labels entries name no "
		        "existing path\n", n - FIRST_SHOWN);
	free(miss);
	return n == 0 ? 0 : -1;
}

/* A PATH's canon and its position, to find repeats and containers. */
struct pkey {
	const char *canon;
	size_t i;
};

static int cmp_pkey(const void *a, const void *b)
{
	const struct pkey *x = a, *y = b;
	int c = strcmp(x->canon, y->canon);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The first PATH (in the order given) whose canon is canon, or SIZE_MAX;
 * keys sorted by cmp_pkey. */
static size_t find_path(const struct pkey *keys, size_t n, const char *canon)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(keys[mid].canon, canon) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(keys[lo].canon, canon) == 0 ? keys[lo].i
	                                                    : SIZE_MAX;
}

/* Whether canon lies inside another PATH whose walk reads it. A path
 * naming nothing stays on its own, so that its error is reported. */
static bool inside_other(const struct pkey *keys, size_t n, const char *canon)
{
	if (access(canon, F_OK) != 0)
		return false;
	char *key = strdup(canon);
	bool in = false;
	while (key != NULL) {
		char *slash = strrchr(key, '/');
		if (slash == NULL || strcmp(key, "/") == 0)
			break;
		slash[slash == key] = '\0';   /* the parent ("/" for the root) */
		if (find_path(keys, n, key) != SIZE_MAX) {
			in = corpus_walk_reaches(key,
			                         canon + strlen(key) + (key[1] != '\0'));
			break;
		}
	}
	free(key);
	return in;
}

static void note_again(const char *name, const char *first)
{
	fputs("vigil scan: ", stderr);
	report_text_escaped(stderr, name, strlen(name));
	if (strcmp(name, first) != 0) {
		fputs(" is ", stderr);
		report_text_escaped(stderr, first, strlen(first));
	}
	fputs(strcmp(name, first) == 0 ? " given again, read once\n"
	                               : " again, read once\n", stderr);
}

/* Which PATHs to drop: a repeat of an earlier one (noted when note), or
 * one inside another (its messages come with that one's, labelled by
 * the nearest labelled path). 0, or -1 (memory). */
static int drops(const struct labels *l, bool note, bool *drop)
{
	struct pkey *keys = malloc((l->path_count + 1) * sizeof *keys);
	size_t nk = 0;
	if (keys == NULL)
		return -1;
	for (size_t i = 0; i < l->path_count; i++)
		if (l->paths[i].canon != NULL)
			keys[nk++] = (struct pkey){ l->paths[i].canon, i };
	qsort(keys, nk, sizeof *keys, cmp_pkey);
	size_t stdin_at = SIZE_MAX;
	for (size_t i = 0; i < l->path_count; i++) {
		const struct path *p = &l->paths[i];
		size_t first = p->canon ? find_path(keys, nk, p->canon) : stdin_at;
		if (p->canon == NULL && stdin_at == SIZE_MAX)
			first = stdin_at = i;
		drop[i] = first != i ||
		          (p->canon != NULL && inside_other(keys, nk, p->canon));
		if (first != i && note)
			note_again(p->name, l->paths[first].name);
	}
	free(keys);
	return 0;
}

/* Each message file read once: repeated PATHs and PATHs inside another
 * left out. 0, or -1 (memory). */
static int outer_paths(struct labels *l, bool note)
{
	bool *drop = calloc(l->path_count + 1, sizeof *drop);
	if (drop == NULL || drops(l, note, drop) != 0) {
		free(drop);
		return -1;
	}
	size_t kept = 0;
	for (size_t i = 0; i < l->path_count; i++) {
		if (!drop[i]) {
			l->paths[kept++] = l->paths[i];
			continue;
		}
		free(l->paths[i].name);
		free(l->paths[i].canon);
	}
	l->path_count = kept;
	free(drop);
	return 0;
}

static int cmp_seq(const void *a, const void *b)
{
	size_t x = (*(const struct lentry *const *)a)->seq;
	size_t y = (*(const struct lentry *const *)b)->seq;
	return x < y ? -1 : x > y;
}

/* Without PATH arguments: the labelled paths, in the order written, are
 * the PATHs. 0 or -1 (memory). */
static int entries_as_paths(struct labels *l)
{
	const struct lentry **v = calloc(l->entry_count + 1, sizeof *v);
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < l->entry_count; i++)
		v[i] = &l->entries[i];
	qsort(v, l->entry_count, sizeof *v, cmp_seq);
	int rc = 0;
	for (size_t i = 0; i < l->entry_count && rc == 0; i++) {
		char *canon = strdup(v[i]->canon);
		rc = canon ? push_path(l, strdup(v[i]->name), canon, EVAL_UNLABELLED)
		           : -1;
	}
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
	bool alone = l->path_count == 0;
	if (settle_entries(l) != 0)
		return -1;
	if (alone && l->entry_count > 0 && entries_exist(l) != 0)
		return -1;
	int rc = alone ? entries_as_paths(l) : 0;
	if (rc == 0)
		rc = outer_paths(l, !alone);
	if (rc == 0)
		rc = names_ready(l);
	if (rc != 0)
		fprintf(stderr, "vigil scan: out of memory\n");
	return rc;
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

/* The length of the deepest directory holding both a and b (absolute,
 * resolved): where a link's target and the link's directory meet. */
static size_t common_dir(const char *a, const char *b)
{
	size_t i = 0, last = 1;   /* the root */
	while (a[i] != '\0' && a[i] == b[i]) {
		i++;
		if ((a[i] == '/' || a[i] == '\0') && (b[i] == '/' || b[i] == '\0'))
			last = i;
	}
	return last;
}

/* The walk's steps from base down rest, each resolved: r[0] is base,
 * r[i] the i-th step (its realpath, or as written when that fails).
 * The count, 0 when out of memory (r then NULL). */
static size_t resolve_steps(const char *base, const char *rest, char ***r)
{
	size_t n = 2, k = 0, len;   /* n: room for base and each step */
	for (const char *c = rest; *c != '\0'; c++)
		n += *c == '/';
	char **v = calloc(n, sizeof *v);
	bool ok = v != NULL && (v[k++] = strdup(base)) != NULL;
	for (const char *c = rest; ok && *c != '\0'; c += len + (c[len] == '/')) {
		len = strcspn(c, "/");
		char *step = NULL;
		if (len == 0)
			continue;
		if (asprintf(&step, "%s/%.*s", strcmp(v[k - 1], "/") ? v[k - 1]
		             : "", (int)len, c) < 0) {
			ok = false;
			break;
		}
		char *real = realpath(step, NULL);
		v[k++] = real ? real : step;
		if (real != NULL)
			free(step);
	}
	for (size_t i = 0; !ok && v != NULL && i < n; i++)
		free(v[i]);
	if (!ok) {
		free(v);
		v = NULL;
	}
	*r = v;
	return ok ? k : 0;
}

/* lookup() for a message the walk reached through a symbolic link, from
 * base (its PATH, resolved) down rest: going up from the message, each
 * step's own entry, and where the step went through a link, the
 * directories holding its target up to where they meet the link's
 * directory (the target lies in them: nearer than what holds the link);
 * then base and the directories above it. So the labels of the file's
 * own directories are found whatever links the walk passed. */
static struct lentry *through_links(const struct labels *l, const char *base,
                                    const char *rest)
{
	char **r;
	size_t k = resolve_steps(base, rest, &r);
	if (k == 0)
		return lookup(l, base);
	struct lentry *e = NULL;
	for (size_t i = k - 1; i > 0 && e == NULL; i--)
		e = lookup_upto(l, r[i], common_dir(r[i], r[i - 1]));
	if (e == NULL)
		e = lookup(l, base);
	for (size_t i = 0; i < k; i++)
		free(r[i]);
	free(r);
	return e;
}

/* The entry labelling a message read from p at source (p->name, or
 * p->name, a slash and the path inside), or NULL. The key is p's
 * resolved path and the rest; resolving the whole says whether the walk
 * passed a symbolic link, whose target the key does not name. */
static struct lentry *entry_of(const struct labels *l, const struct path *p,
                               const char *source)
{
	if (p->canon == NULL)   /* standard input: its own entry, if any */
		return lookup(l, "-");
	size_t nlen = strlen(p->name);
	const char *rest = strncmp(source, p->name, nlen) == 0 ? source + nlen
	                                                         : "";
	char *key = NULL;
	if (asprintf(&key, "%s%s%s", p->canon,
	             *rest && *rest != '/' ? "/" : "", rest) < 0)
		return NULL;
	char *real = *rest ? realpath(key, NULL) : NULL;
	struct lentry *e = real == NULL || strcmp(real, key) == 0
	                   ? lookup(l, key) : through_links(l, p->canon, rest);
	free(real);
	free(key);
	return e;
}

static enum eval_label label_of(const struct labels *l, const struct path *p,
                                const char *source)
{
	struct lentry *e = l->entry_count > 0 ? entry_of(l, p, source) : NULL;
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
	struct mark *m = calloc(l->entry_count + 1, sizeof *m);
	size_t n = 0;
	for (size_t i = 0; i < l->entry_count; i++) {
		const struct lentry *e = &l->entries[i];
		if (e->file == NULL || e->matched > 0)
			continue;
		if (m != NULL)
			m[n] = (struct mark){ e->file, e->line, e->seq, e->name };
		n++;
	}
	if (m == NULL && n > 0)
		fprintf(err, "vigil scan: %zu labelled entries matched no scanned "
		        "message\n", n);
	else
		print_marks(err, m, n, "labelled entry matched no scanned message",
		            "labelled entries matched no scanned message");
	free(m);
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
