/*
 * testmilter — a tiny libmilter filter for tests/integration/scan_milter.sh:
 * shows that vigil scan --milter drives a milter other than vigild.
 *
 * Every message gets "X-Test-Milter: seen <n> rcpt(s)"; a Subject
 * containing "quarantine-me" puts it in quarantine, one containing
 * "reject-me" is refused with 550 5.7.1, one containing "reject-ml" with
 * 554 5.7.0 and a two-line text. Subjects containing "rspamd-spam" and
 * "rspamd-ham" get rspamd's verdict fields (X-Spamd-Result, X-Spam),
 * for the evaluation of a milter other than vigild. One containing
 * "redirect-me" loses its recipients to quarantine@example.net (DELRCPT
 * of each, ADDRCPT) and archive@example.net with "NOTIFY=NEVER"
 * (ADDRCPT_PAR), gets sender bounce@example.net with "RET=HDRS"
 * (CHGFROM with ESMTP arguments) and a new
 * body (REPLBODY). One containing "progress-forever" gets PROGRESS
 * every 0.1 s at its end until the MTA hangs up ("testmilter:
 * progress-forever" on stderr when it starts, "... ended" when the MTA
 * is gone), as a filter whose
 * backend never answers. One containing "show-client" gets
 * "X-Test-Client: host=H name=N _=U": what the MTA said of the client
 * (the CONNECT host, the {client_name} and _ macros).
 *
 * usage: testmilter SOCKET   (libmilter syntax: inet:PORT@HOST, unix:PATH)
 */
#include <libmilter/mfapi.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RCPTS 4

struct priv {
	int quarantine, reject, reject_ml, rspamd_spam, rspamd_ham, redirect,
	    progress, show_client;
	unsigned rcpts;
	char rcpt[MAX_RCPTS][256];   /* the first ones, as given */
	/* of the connection, kept from message to message (last) */
	char client[600];            /* "host=H name=N _=U" */
};

static struct priv *priv_of(SMFICTX *ctx)
{
	struct priv *p = smfi_getpriv(ctx);
	if (p == NULL) {
		p = calloc(1, sizeof *p);
		smfi_setpriv(ctx, p);
	}
	return p;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	(void)argv;
	struct priv *p = priv_of(ctx);
	if (p == NULL)
		return SMFIS_TEMPFAIL;
	memset(p, 0, offsetof(struct priv, client));
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)addr;
	struct priv *p = priv_of(ctx);
	if (p == NULL)
		return SMFIS_TEMPFAIL;
	const char *name = smfi_getsymval(ctx, "{client_name}");
	const char *u = smfi_getsymval(ctx, "_");
	snprintf(p->client, sizeof p->client, "host=%s name=%s _=%s",
	         host ? host : "(none)", name ? name : "(none)",
	         u ? u : "(none)");
	return SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct priv *p = priv_of(ctx);
	if (p == NULL)
		return SMFIS_TEMPFAIL;
	if (p->rcpts < MAX_RCPTS)
		snprintf(p->rcpt[p->rcpts], sizeof p->rcpt[0], "%s", argv[0]);
	p->rcpts++;
	return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	struct priv *p = priv_of(ctx);
	if (p == NULL)
		return SMFIS_TEMPFAIL;
	if (strcasecmp(name, "Subject") == 0) {
		p->quarantine |= strstr(value, "quarantine-me") != NULL;
		p->reject |= strstr(value, "reject-me") != NULL;
		p->reject_ml |= strstr(value, "reject-ml") != NULL;
		p->rspamd_spam |= strstr(value, "rspamd-spam") != NULL;
		p->rspamd_ham |= strstr(value, "rspamd-ham") != NULL;
		p->redirect |= strstr(value, "redirect-me") != NULL;
		p->progress |= strstr(value, "progress-forever") != NULL;
		p->show_client |= strstr(value, "show-client") != NULL;
	}
	return SMFIS_CONTINUE;
}

/* Recipients to quarantine@example.net, a new sender and body. */
static sfsistat redirect(SMFICTX *ctx, const struct priv *p)
{
	for (unsigned i = 0; i < p->rcpts && i < MAX_RCPTS; i++)
		if (smfi_delrcpt(ctx, (char *)p->rcpt[i]) != MI_SUCCESS)
			return SMFIS_TEMPFAIL;
	static unsigned char body[] = "redirected by testmilter\r\n";
	if (smfi_addrcpt(ctx, "<quarantine@example.net>") != MI_SUCCESS ||
	    smfi_addrcpt_par(ctx, "<archive@example.net>", "NOTIFY=NEVER") !=
	    MI_SUCCESS ||
	    smfi_chgfrom(ctx, "<bounce@example.net>", "RET=HDRS") != MI_SUCCESS ||
	    smfi_replacebody(ctx, body, (int)sizeof body - 1) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct priv *p = priv_of(ctx);
	if (p == NULL)
		return SMFIS_TEMPFAIL;
	if (p->progress) {
		fprintf(stderr, "testmilter: progress-forever\n");
		fflush(stderr);
		while (smfi_progress(ctx) == MI_SUCCESS)
			poll(NULL, 0, 100);
		fprintf(stderr, "testmilter: progress-forever ended\n");
		fflush(stderr);
		return SMFIS_TEMPFAIL;
	}
	if (p->reject) {
		smfi_setreply(ctx, "550", "5.7.1", "Rejected by testmilter");
		return SMFIS_REJECT;
	}
	if (p->reject_ml) {
		smfi_setmlreply(ctx, "554", "5.7.0", "Refused by testmilter",
		                "second line", NULL);
		return SMFIS_REJECT;
	}
	char value[64];
	snprintf(value, sizeof value, "seen %u rcpt(s)", p->rcpts);
	if (smfi_addheader(ctx, "X-Test-Milter", value) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	if (p->rspamd_spam &&
	    (smfi_addheader(ctx, "X-Spamd-Result", "default: True [12.50 / 15.00];"
	                    "\n\tSYM_A(5.00)[x;y];\n\tSYM_B(7.50)[]") != MI_SUCCESS ||
	     smfi_addheader(ctx, "X-Spam", "Yes") != MI_SUCCESS))
		return SMFIS_TEMPFAIL;
	if (p->rspamd_ham &&
	    smfi_addheader(ctx, "X-Spamd-Result", "default: False [1.20 / 15.00];"
	                   "\n\tSYM_C(1.20)[]") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	if (p->show_client &&
	    smfi_addheader(ctx, "X-Test-Client", p->client) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	if (p->quarantine &&
	    smfi_quarantine(ctx, "testmilter: quarantine-me") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return p->redirect ? redirect(ctx, p) : SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: testmilter SOCKET\n");
		return 2;
	}
	struct smfiDesc desc = {
		.xxfi_name = "testmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE | SMFIF_ADDRCPT |
		              SMFIF_DELRCPT | SMFIF_CHGFROM | SMFIF_CHGBODY |
		              SMFIF_ADDRCPT_PAR,
		.xxfi_connect = on_connect,
		.xxfi_envfrom = on_envfrom,
		.xxfi_envrcpt = on_envrcpt,
		.xxfi_header = on_header,
		.xxfi_eom = on_eom,
		.xxfi_close = on_close,
	};
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "testmilter: cannot set up %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
