/*
 * vigil — the companion tool: replay corpora through the pipeline or a
 * running milter, check rules and configuration, run single checks.
 * Each subcommand lives in milter/cmd_NAME.c.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildid.h"
#include "cmd.h"
#include "conf.h"
#include "config.h"
#include "evalrep.h"
#include "labels.h"

/* Subcommands arrive module by module; a missing one is reported as not
 * built rather than failing the link (weak references). */
#pragma weak cmd_scan
#pragma weak cmd_rules
#pragma weak cmd_explain
#pragma weak cmd_spf
#pragma weak cmd_dkim
#pragma weak cmd_dmarc

/* The errno of the first failed write to stdout cmd_stdout_check()
 * saw: errno itself is long overwritten when the run ends. */
static _Atomic int stdout_errno;

void cmd_stdout_check(void)
{
	int none = 0;
	if (ferror(stdout))
		atomic_compare_exchange_strong(&stdout_errno, &none,
		                               errno ? errno : EIO);
}

/* cmd_stdout_stopped() described the failure: the run said it. */
static _Atomic bool stdout_said;

const char *cmd_stdout_stopped(size_t n, char *buf, size_t len)
{
	int e = atomic_load(&stdout_errno);
	if (e == 0)
		return NULL;
	snprintf(buf, len, "stopped after %zu message%s: standard output: %s",
	         n, n == 1 ? "" : "s", strerror(e));
	atomic_store(&stdout_said, true);
	return buf;
}

int cmd_stdout_status(const char *prog)
{
	static int reported = -1;   /* main() checks after the command too */
	if (reported >= 0)
		return reported;
	int rc = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = stdout_errno ? stdout_errno : errno;
		if (!atomic_load(&stdout_said))
			fprintf(stderr, "vigil %s: standard output: %s\n", prog,
			        e ? strerror(e) : "write error");
		rc = 2;
	}
	if (fflush(stderr) != 0 || ferror(stderr))
		rc = 2;
	reported = rc;
	return rc;
}

/* A command's exit status, 2 when its output could not be written
 * (a full disk, a closed pipe): never a silent success. */
static int finish(const char *prog, int rc)
{
	int out = cmd_stdout_status(prog);
	return rc != 0 ? rc : out;
}

struct conf *cmd_load_conf(const char *path)
{
	char err[8192];
	struct conf *c = conf_load_tool(path, err, sizeof err);
	if (c == NULL)
		fprintf(stderr, "%s", err);
	return c;
}

int cmd_report_spares(const char *report, const char *conf,
                      struct labels *l)
{
	struct eval_meta m = { 0 };
	if (report == NULL)
		return 0;
	if (labels_meta(l, &m) != 0) {
		fprintf(stderr, "vigil scan: out of memory\n");
		return 2;
	}
	size_t npaths = labels_path_count(l);
	size_t n = 1 + m.label_file_count + npaths;
	const char **in = calloc(n, sizeof *in);
	if (in == NULL) {
		fprintf(stderr, "vigil scan: out of memory\n");
		return 2;
	}
	in[0] = conf;
	for (size_t i = 0; i < m.label_file_count; i++)
		in[1 + i] = m.label_files[i];
	for (size_t i = 0; i < npaths; i++)
		in[1 + m.label_file_count + i] = labels_paths(l)[i];
	int rc = eval_report_spares(report, in, n) == 0 ? 0 : 2;
	free(in);
	return rc;
}

/* vigil scan: through a milter with --milter (cmd_scan.c), else
 * in-process (cmd_scanlocal.c). */
static int scan_dispatch(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--milter") == 0 ||
		    strncmp(argv[i], "--milter=", 9) == 0) {
			if (cmd_scan == NULL) {
				fprintf(stderr, "vigil scan: --milter is not built into "
				        "this version\n");
				return 2;
			}
			return cmd_scan(argc, argv);
		}
	}
	return scanlocal_main(argc, argv);
}

struct subcommand {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
};

static void usage(FILE *out, const struct subcommand *cmds, size_t n)
{
	fprintf(out, "usage: vigil COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-8s %s%s\n", cmds[i].name, cmds[i].help,
		        cmds[i].fn ? "" : " (not built)");
	fprintf(out, "\n'vigil COMMAND --help' for a command's options; "
	        "'vigil --version'.\n");
}

int main(int argc, char **argv)
{
	const struct subcommand cmds[] = {
		{ "scan", scan_dispatch,
		  "scan mail (mbox, maildir, files) in-process or through a milter" },
		{ "rules", cmd_rules, "check, list and test rule files" },
		{ "explain", cmd_explain, "explain the verdict on one message" },
		{ "spf", cmd_spf, "SPF check: vigil spf IP HELO MAILFROM" },
		{ "dkim", cmd_dkim, "verify the DKIM signatures of a message" },
		{ "dmarc", cmd_dmarc, "DMARC evaluation of a message" },
	};
	size_t n = sizeof cmds / sizeof cmds[0];
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout, cmds, n);
		return finish("--help", argc < 2 ? 2 : 0);
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("vigil %s\n", VIGIL_VERSION);
		return finish("--version", 0);
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (cmds[i].fn == NULL) {
			fprintf(stderr, "vigil: '%s' is not built into this version\n",
			        argv[1]);
			return 2;
		}
		return finish(cmds[i].name, cmds[i].fn(argc - 1, argv + 1));
	}
	fprintf(stderr, "vigil: unknown command '%s'\n\n", argv[1]);
	usage(stderr, cmds, n);
	return 2;
}
