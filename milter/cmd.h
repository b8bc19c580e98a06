/*
 * cmd.h — subcommands of the vigil tool. Each lives in its own
 * milter/cmd_NAME.c (linked into vigil only) and returns the process exit
 * status: 0 success, 1 "ran, found problems", 2 usage or I/O error.
 * argv[0] is the subcommand name.
 */
#ifndef VIGIL_CMD_H
#define VIGIL_CMD_H

#include <stddef.h>

int cmd_scan(int argc, char **argv);    /* vigil scan [--milter SOCK] ... */
/* In-process scanning (cmd_scanlocal.c): what cmd_scan runs without
 * --milter. */
int scanlocal_main(int argc, char **argv);
int cmd_rules(int argc, char **argv);   /* vigil rules check|explain|test */
int cmd_explain(int argc, char **argv); /* vigil explain FILE */
int cmd_spf(int argc, char **argv);     /* vigil spf IP HELO MAILFROM */
int cmd_dkim(int argc, char **argv);    /* vigil dkim FILE */
int cmd_dmarc(int argc, char **argv);   /* vigil dmarc FILE ... */

/* Standard output flushed: 0, or 2 after saying on standard error why
 * it could not be written ("vigil PROG: standard output: ..."). Also 2
 * when a write to standard error failed (the summary and evaluation go
 * there with --format jsonl/csv: 2>FILE on a full disk); that cannot be
 * said, the exit status says it. */
int cmd_stdout_status(const char *prog);
/* Right after a write to standard output: when it failed, its errno is
 * kept for cmd_stdout_status(). */
void cmd_stdout_check(void);
/* Whether a write to standard output failed during a run (as
 * cmd_stdout_check() saw it), which then stopped taking messages: "stopped
 * after n messages: standard output: Broken pipe" into buf, the run's
 * partial note (the summary, the text and HTML evaluation), and buf is
 * returned; NULL when no write failed. The caller says it on standard
 * error (in the summary or a line of its own): cmd_stdout_status() then
 * returns 2 without saying it again. */
const char *cmd_stdout_stopped(size_t n, char *buf, size_t len);

struct conf;
/* The configuration at path (conf_load_tool()), or NULL after saying on
 * standard error why (file:line). */
struct conf *cmd_load_conf(const char *path);

struct labels;
/* vigil scan: the --report file spares the run's inputs (conf, NULL
 * through a milter; the labels files; the PATHs): eval_report_spares().
 * 0, or 2 (said). */
int cmd_report_spares(const char *report, const char *conf,
                      struct labels *l);

#endif
