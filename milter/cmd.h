/*
 * cmd.h — subcommands of the vigil tool. Each lives in its own
 * milter/cmd_NAME.c (linked into vigil only) and returns the process exit
 * status: 0 success, 1 "ran, found problems", 2 usage or I/O error.
 * argv[0] is the subcommand name.
 */
#ifndef VIGIL_CMD_H
#define VIGIL_CMD_H

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
