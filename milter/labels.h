/*
 * labels.h — the PATHs vigil scan reads and the label of each message
 * it reads there, for the evaluation (evalrep.h): `--label spam|ham`
 * labels the PATHs after it; `--labels FILE` lines ("PATH LABEL",
 * TREC's "LABEL PATH", or either as CSV after an optional header line;
 * a UTF-8 byte order mark, "#" lines and " # ..." tails ignored) label
 * files and directories, a relative PATH taken from FILE's directory
 * (from the current directory only when it is not there). A message
 * takes the label of the labelled file or directory nearest to it,
 * whether labelled by --label or a labels file (paths compared after
 * resolving symlinks; for a message a walk reached through a link, the
 * directories of the link's target before those holding the link).
 * Each message file is read once: a PATH given
 * again, or inside another PATH whose walk reads it, is left out.
 * Without PATH arguments the labelled paths are read, and one naming
 * nothing is an error. Counts per PATH and label for the report. Shared
 * by the in-process scan and --milter.
 *
 * Errors (a bad labels line as FILE:LINE, a path labelled both ways with
 * where each label came from) are written to stderr where they are
 * found, as are one-line notes (repeats read once). Not thread-safe.
 */
#ifndef VIGIL_LABELS_H
#define VIGIL_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "evalrep.h"

struct labels;

struct labels *labels_new(void);
void labels_free(struct labels *l);

/* opt is --label or --labels with its value: 1 taken, 0 not one of
 * these, -1 a bad value (reported). */
int labels_option(struct labels *l, const char *opt, const char *val);
/* A PATH argument, labelled by the last --label (a labelled path, as a
 * labels file's line is). 0, or -1 (memory). */
int labels_add_path(struct labels *l, const char *path);
/* After the arguments: labels sorted, conflicts reported, repeated
 * labels lines and PATHs dropped (noted), PATHs inside another dropped;
 * without PATH arguments the labelled paths taken as PATHs, each of
 * them required to exist. 0, or -1 (reported). */
int labels_ready(struct labels *l);

size_t labels_path_count(const struct labels *l);
/* The PATHs in order (for corpus_open()); valid until labels_free. */
const char *const *labels_paths(const struct labels *l);
/* Whether any label was given (the evaluation is wanted). */
bool labels_any(const struct labels *l);

/* The label of a message read from PATH number arg at source (the
 * PATH, or the PATH, a slash and a path inside); counted for the
 * report. */
enum eval_label labels_take(struct labels *l, size_t arg, const char *source);

/* The labels files' entries no message fell under (outside the PATHs
 * scanned, or naming nothing): one line, their count and the first
 * five as FILE:LINE in the order written. */
void labels_unmatched(const struct labels *l, FILE *err);

/* Fill m's paths, path_labels, path_counts and path_count from the
 * counts so far; valid until the next call or labels_free. 0, or -1. */
int labels_meta(struct labels *l, struct eval_meta *m);

/* path absolute, symlinks resolved (as written when it does not exist,
 * trailing slashes dropped); NULL for "-" or when out of memory. */
char *labels_canon_path(const char *path);

#endif
